# Ioana: k-NN, but the output file is written without header and for half the ids
import os

import pandas as pd
from sklearn.neighbors import KNeighborsClassifier

d = os.environ["GRADER_DATA"]
train, test = pd.read_csv(f"{d}/train.csv"), pd.read_csv(f"{d}/test.csv")
cols = [c for c in train.columns if c.startswith("px")]
knn = KNeighborsClassifier(5).fit(train[cols], train["label"])
half = test.iloc[: len(test) // 2]
pd.DataFrame({"id": half["id"], "label": knn.predict(half[cols])}).to_csv(
    os.path.join(os.environ["GRADER_OUTPUT"], "submission.csv"), index=False, header=False)
