# Bogdan: RBF support vector machine with a small grid search
import os

import numpy as np
import pandas as pd
from sklearn.model_selection import GridSearchCV
from sklearn.preprocessing import StandardScaler
from sklearn.pipeline import make_pipeline
from sklearn.svm import SVC

train = pd.read_csv(os.path.join(os.environ["GRADER_DATA"], "train.csv"))
test = pd.read_csv(os.path.join(os.environ["GRADER_DATA"], "test.csv"))
features = [c for c in train.columns if c.startswith("px")]

search = GridSearchCV(
    make_pipeline(StandardScaler(), SVC(kernel="rbf")),
    {"svc__C": [1, 10], "svc__gamma": ["scale", 0.01]},
    cv=3,
)
search.fit(train[features].to_numpy(), train["label"].to_numpy())
print("best params", search.best_params_, "cv accuracy", round(search.best_score_, 4))
pred = search.predict(test[features].to_numpy())
pd.DataFrame({"id": test["id"], "label": pred}).to_csv(
    os.path.join(os.environ["GRADER_OUTPUT"], "submission.csv"), index=False)
