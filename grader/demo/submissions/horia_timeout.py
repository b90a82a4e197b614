# Horia: gradient descent "until convergence" (the learning rate is too large to converge)
import os

import numpy as np
import pandas as pd

d = os.environ["GRADER_DATA"]
train = pd.read_csv(f"{d}/train.csv")
X = train.filter(like="px").to_numpy() / 16.0
Y = np.eye(10)[train["label"].to_numpy()]
W = np.zeros((X.shape[1], 10))
previous, step = np.inf, 0
while True:
    grad = X.T @ (X @ W - Y) / len(X)
    W -= 5.0 * grad
    loss = float(np.mean((X @ W - Y) ** 2))
    if abs(previous - loss) < 1e-9:
        break
    previous, step = loss, step + 1
