# Maria: scikit-learn MLP with early stopping
import os

import pandas as pd
from sklearn.neural_network import MLPClassifier

folder = os.environ["GRADER_DATA"]
train = pd.read_csv(os.path.join(folder, "train.csv"))
test = pd.read_csv(os.path.join(folder, "test.csv"))
pixels = train.columns[2:]
mlp = MLPClassifier(hidden_layer_sizes=(128,), alpha=1e-3, early_stopping=True,
                    max_iter=300, random_state=1)
mlp.fit(train[pixels] / 16.0, train["label"])
print("validation score", max(mlp.validation_scores_))
submission = pd.DataFrame({"id": test["id"], "label": mlp.predict(test[pixels] / 16.0)})
submission.to_csv(os.path.join(os.environ["GRADER_OUTPUT"], "submission.csv"), index=False)
