# Carmen: a small convolutional network in PyTorch (8x8 digit images)
import os

import numpy as np
import pandas as pd
import torch
from torch import nn

torch.manual_seed(int(os.environ.get("GRADER_SEED", "0")))
torch.set_num_threads(1)
device = "cuda" if torch.cuda.is_available() else "cpu"

train = pd.read_csv(os.path.join(os.environ["GRADER_DATA"], "train.csv"))
test = pd.read_csv(os.path.join(os.environ["GRADER_DATA"], "test.csv"))
cols = [c for c in train.columns if c.startswith("px")]
X = torch.tensor(train[cols].to_numpy() / 16.0, dtype=torch.float32).view(-1, 1, 8, 8)
y = torch.tensor(train["label"].to_numpy(), dtype=torch.long)
X_test = torch.tensor(test[cols].to_numpy() / 16.0, dtype=torch.float32).view(-1, 1, 8, 8)

model = nn.Sequential(
    nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(),
    nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
    nn.Flatten(), nn.Linear(32 * 4 * 4, 64), nn.ReLU(), nn.Dropout(0.2), nn.Linear(64, 10),
).to(device)
opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
loss_fn = nn.CrossEntropyLoss()

for epoch in range(12):
    model.train()
    perm = torch.randperm(len(X))
    for i in range(0, len(X), 64):
        idx = perm[i:i + 64]
        opt.zero_grad()
        loss = loss_fn(model(X[idx].to(device)), y[idx].to(device))
        loss.backward()
        opt.step()
    if epoch % 4 == 3:
        print(f"epoch {epoch + 1}: loss {loss.item():.4f}")

model.eval()
with torch.no_grad():
    pred = model(X_test.to(device)).argmax(1).cpu().numpy()
pd.DataFrame({"id": test["id"], "label": pred}).to_csv(
    os.path.join(os.environ["GRADER_OUTPUT"], "submission.csv"), index=False)
