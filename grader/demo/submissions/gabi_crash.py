# Gabi: decision tree
import os

import pandas as pd
from sklearn.tree import DecisionTreeClassifier

d = os.environ["GRADER_DATA"]
train = pd.read_csv(f"{d}/train.csv")
test = pd.read_csv(f"{d}/test.csv")
tree = DecisionTreeClassifier(max_depth=12, random_state=0)
tree.fit(train.drop(columns=["id", "target"]), train["target"])  # the column is "label"
pd.DataFrame({"id": test["id"], "label": tree.predict(test.drop(columns=["id"]))}).to_csv(
    os.path.join(os.environ["GRADER_OUTPUT"], "submission.csv"), index=False)
