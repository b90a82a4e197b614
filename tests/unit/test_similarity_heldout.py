"""A held-out set of realistic ML-course scripts: disguised copies must be flagged, honest
overlap (starter code, same imports and data loading, independent CNN training loops) must not.

The honest scripts were written independently in different styles; the copies are derived from
them by the disguises of the course's examples (renaming, reordering, comment changes, dead
code, loop rewrites, partial copies into a different program). The engine never saw this set
while its components and weights were chosen.
"""

from __future__ import annotations

import io
import keyword
import tokenize
from pathlib import Path

import pytest

from similarity import SimilarityOptions, compare

STARTER = '''\
import os
import pandas as pd

DATA = os.environ.get("GRADER_DATA", "data")
OUT = os.environ.get("GRADER_OUTPUT", "out")


def load_data():
    train = pd.read_csv(os.path.join(DATA, "train.csv"))
    test = pd.read_csv(os.path.join(DATA, "test.csv"))
    return train, test


def write_submission(ids, labels):
    os.makedirs(OUT, exist_ok=True)
    pd.DataFrame({"id": ids, "label": labels}).to_csv(os.path.join(OUT, "submission.csv"),
                                                      index=False)
'''

CNN_A = '''\
import os
import numpy as np
import pandas as pd
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset

DATA = os.environ.get("GRADER_DATA", "data")
OUT = os.environ.get("GRADER_OUTPUT", "out")
device = torch.device("cuda" if torch.cuda.is_available() else "cpu")


class Net(nn.Module):
    def __init__(self, n_classes):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 16, 3, padding=1)
        self.conv2 = nn.Conv2d(16, 32, 3, padding=1)
        self.drop = nn.Dropout(0.25)
        self.fc1 = nn.Linear(32 * 7 * 7, 128)
        self.fc2 = nn.Linear(128, n_classes)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        x = self.drop(x.view(x.size(0), -1))
        x = F.relu(self.fc1(x))
        return self.fc2(x)


def make_loader(frame, shuffle):
    # pixels are stored as 784 columns, scale them to [0, 1]
    pixels = frame.drop(columns=["id", "label"], errors="ignore").values / 255.0
    images = torch.tensor(pixels, dtype=torch.float32).view(-1, 1, 28, 28)
    labels = torch.tensor(frame["label"].values if "label" in frame else np.zeros(len(frame)),
                          dtype=torch.long)
    return DataLoader(TensorDataset(images, labels), batch_size=64, shuffle=shuffle)


def train_epoch(model, loader, optimizer):
    model.train()
    running = 0.0
    for images, labels in loader:
        images, labels = images.to(device), labels.to(device)
        optimizer.zero_grad()
        loss = F.cross_entropy(model(images), labels)
        loss.backward()
        optimizer.step()
        running += loss.item() * images.size(0)
    return running / len(loader.dataset)


def predict(model, loader):
    model.eval()
    out = []
    with torch.no_grad():
        for images, _ in loader:
            out.append(model(images.to(device)).argmax(dim=1).cpu())
    return torch.cat(out).numpy()


def main():
    train = pd.read_csv(os.path.join(DATA, "train.csv"))
    test = pd.read_csv(os.path.join(DATA, "test.csv"))
    n_classes = int(train["label"].max()) + 1
    model = Net(n_classes).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    loader = make_loader(train, shuffle=True)
    for epoch in range(8):
        loss = train_epoch(model, loader, optimizer)
        print(f"epoch {epoch}: train loss {loss:.4f}")
    preds = predict(model, make_loader(test, shuffle=False))
    os.makedirs(OUT, exist_ok=True)
    pd.DataFrame({"id": test["id"], "label": preds}).to_csv(
        os.path.join(OUT, "submission.csv"), index=False)


if __name__ == "__main__":
    main()
'''

CNN_B = '''\
import os
import pandas as pd
import torch
from torch import nn, optim

data_dir = os.getenv("GRADER_DATA", "./data")
out_dir = os.getenv("GRADER_OUTPUT", "./output")

df_train = pd.read_csv(f"{data_dir}/train.csv")
df_test = pd.read_csv(f"{data_dir}/test.csv")

X = torch.from_numpy(df_train.iloc[:, 2:].to_numpy()).float().reshape(-1, 1, 28, 28) / 255
y = torch.from_numpy(df_train["label"].to_numpy()).long()
X_test = torch.from_numpy(df_test.iloc[:, 1:].to_numpy()).float().reshape(-1, 1, 28, 28) / 255

model = nn.Sequential(
    nn.Conv2d(1, 32, kernel_size=5),
    nn.BatchNorm2d(32),
    nn.ReLU(),
    nn.MaxPool2d(2),
    nn.Conv2d(32, 64, kernel_size=3),
    nn.ReLU(),
    nn.AdaptiveAvgPool2d(1),
    nn.Flatten(),
    nn.Linear(64, int(y.max()) + 1),
)
criterion = nn.CrossEntropyLoss()
opt = optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
sched = optim.lr_scheduler.StepLR(opt, step_size=3, gamma=0.5)

n = X.shape[0]
batch = 128
for ep in range(10):
    perm = torch.randperm(n)
    total, correct = 0.0, 0
    for start in range(0, n, batch):
        idx = perm[start:start + batch]
        xb, yb = X[idx], y[idx]
        logits = model(xb)
        loss = criterion(logits, yb)
        opt.zero_grad()
        loss.backward()
        opt.step()
        total += float(loss) * len(idx)
        correct += int((logits.argmax(1) == yb).sum())
    sched.step()
    print("epoch", ep, "loss", total / n, "acc", correct / n)

model.eval()
with torch.no_grad():
    labels = torch.cat([model(X_test[i:i + 512]).argmax(1) for i in range(0, len(X_test), 512)])

os.makedirs(out_dir, exist_ok=True)
with open(os.path.join(out_dir, "submission.csv"), "w") as fh:
    fh.write("id,label\\n")
    for i, lab in zip(df_test["id"], labels.tolist()):
        fh.write(f"{i},{lab}\\n")
'''

LOGREG = STARTER + '''

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler


def features(frame):
    cols = [c for c in frame.columns if c not in ("id", "label")]
    X = frame[cols].fillna(frame[cols].median())
    # log-transform the skewed columns so the linear model sees a friendlier scale
    for c in cols:
        if X[c].min() >= 0 and X[c].skew() > 2:
            X[c] = np.log1p(X[c])
    return X


def main():
    train, test = load_data()
    X, y = features(train), train["label"]
    search = GridSearchCV(
        make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000)),
        {"logisticregression__C": [0.01, 0.1, 1.0, 10.0]},
        cv=5, scoring="accuracy",
    )
    search.fit(X, y)
    print("best C", search.best_params_, "cv accuracy", round(search.best_score_, 4))
    write_submission(test["id"], search.predict(features(test)))


if __name__ == "__main__":
    main()
'''

FOREST = STARTER + '''

from sklearn.ensemble import RandomForestClassifier
from sklearn.model_selection import cross_val_score


def add_ratios(df):
    out = df.copy()
    num = out.select_dtypes("number").columns.drop(["id", "label"], errors="ignore")
    for a, b in zip(num[:-1], num[1:]):
        out[f"{a}_over_{b}"] = out[a] / (out[b].abs() + 1e-6)
    return out.drop(columns=["id", "label"], errors="ignore").fillna(0)


if __name__ == "__main__":
    train, test = load_data()
    Xtr, Xte = add_ratios(train), add_ratios(test)
    clf = RandomForestClassifier(n_estimators=400, min_samples_leaf=2, n_jobs=-1,
                                 random_state=0)
    scores = cross_val_score(clf, Xtr, train["label"], cv=4)
    print("cv:", scores.mean())
    clf.fit(Xtr, train["label"])
    write_submission(test["id"], clf.predict(Xte))
'''

KNN = STARTER + '''

import numpy as np


def standardize(train_x, test_x):
    mu = train_x.mean(axis=0)
    sd = train_x.std(axis=0) + 1e-9
    return (train_x - mu) / sd, (test_x - mu) / sd


def pairwise_sq_dists(A, B):
    # ||a - b||^2 = ||a||^2 - 2 a.b + ||b||^2, all pairs at once
    return (A ** 2).sum(1)[:, None] - 2 * A @ B.T + (B ** 2).sum(1)[None, :]


def knn_predict(train_x, train_y, test_x, k=7):
    d = pairwise_sq_dists(test_x, train_x)
    nearest = np.argsort(d, axis=1)[:, :k]
    votes = train_y[nearest]
    preds = []
    for row in votes:
        values, counts = np.unique(row, return_counts=True)
        preds.append(values[np.argmax(counts)])
    return np.array(preds)


def choose_k(train_x, train_y, candidates=(1, 3, 5, 7, 9, 15)):
    n_val = len(train_x) // 5
    vx, vy = train_x[:n_val], train_y[:n_val]
    tx, ty = train_x[n_val:], train_y[n_val:]
    best, best_acc = candidates[0], -1.0
    for k in candidates:
        acc = (knn_predict(tx, ty, vx, k) == vy).mean()
        print("k =", k, "validation accuracy =", acc)
        if acc > best_acc:
            best, best_acc = k, acc
    return best


train, test = load_data()
cols = [c for c in train.columns if c not in ("id", "label")]
tr_x, te_x = standardize(train[cols].to_numpy(float), test[cols].to_numpy(float))
tr_y = train["label"].to_numpy()
k = choose_k(tr_x, tr_y)
write_submission(test["id"], knn_predict(tr_x, tr_y, te_x, k))
'''

# An independent program that shares the same imports and ordinary data loading as LOGREG
# (but not the starter, which its author did not use).
SVM = '''\
import os
import numpy as np
import pandas as pd
from sklearn.svm import SVC
from sklearn.preprocessing import StandardScaler

DATA = os.environ.get("GRADER_DATA", "data")
OUT = os.environ.get("GRADER_OUTPUT", "out")

train = pd.read_csv(os.path.join(DATA, "train.csv"))
test = pd.read_csv(os.path.join(DATA, "test.csv"))
feature_cols = [c for c in train.columns if c not in ("id", "label")]

scaler = StandardScaler().fit(train[feature_cols])
Xtr = scaler.transform(train[feature_cols])
Xte = scaler.transform(test[feature_cols])

rng = np.random.default_rng(42)
order = rng.permutation(len(Xtr))
cut = int(0.8 * len(order))
best = None
for gamma in ["scale", 0.01, 0.1]:
    for C in [0.5, 2, 8]:
        svc = SVC(C=C, gamma=gamma).fit(Xtr[order[:cut]], train["label"].values[order[:cut]])
        acc = svc.score(Xtr[order[cut:]], train["label"].values[order[cut:]])
        if best is None or acc > best[0]:
            best = (acc, C, gamma)
print("validation", best)
final = SVC(C=best[1], gamma=best[2]).fit(Xtr, train["label"])
os.makedirs(OUT, exist_ok=True)
pd.DataFrame({"id": test["id"], "label": final.predict(Xte)}).to_csv(
    os.path.join(OUT, "submission.csv"), index=False)
'''


def rename(src: str, prefix: str = "v") -> str:
    """Rename every user identifier consistently (builtins, keywords, attributes of imported
    libraries after a dot and keyword arguments kept) - the L2 disguise."""
    import builtins

    keep = set(dir(builtins)) | set(keyword.kwlist) | {"self", "np", "pd", "torch", "nn", "F",
                                                         "os", "optim", "super"}
    out, mapping, prev = [], {}, None
    toks = list(tokenize.generate_tokens(io.StringIO(src).readline))
    for i, t in enumerate(toks):
        s = t.string
        nxt = toks[i + 1].string if i + 1 < len(toks) else ""
        if (t.type == tokenize.NAME and s not in keep and prev != "." and nxt != "="
                and not s[0].isupper() and not s.startswith("__")):
            s = mapping.setdefault(s, f"{prefix}{len(mapping)}_{s[::-1][:3]}")
        out.append((t.type, s))
        if t.type not in (tokenize.NL, tokenize.COMMENT):
            prev = t.string
    return tokenize.untokenize(out)


def strip_comments(src: str) -> str:
    return "\n".join(line.split("  #")[0].rstrip() for line in src.splitlines()
                     if not line.lstrip().startswith("#")) + "\n"


# --- the disguised copies -------------------------------------------------------------------

# CNN_A renamed throughout and its comments removed.
COPY_RENAMED = rename(strip_comments(CNN_A))

# CNN_A with functions in another order, statements of main() shuffled where independent,
# comments reworded.
_parts = CNN_A.split("\n\n\n")
COPY_REORDERED = "\n\n\n".join([_parts[0], _parts[4], _parts[2], _parts[3], _parts[1],
                                _parts[5], _parts[6]]).replace(
    "# pixels are stored as 784 columns, scale them to [0, 1]", "# normalise the images"
).replace(
    '''    n_classes = int(train["label"].max()) + 1
    model = Net(n_classes).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    loader = make_loader(train, shuffle=True)''',
    '''    loader = make_loader(train, shuffle=True)
    n_classes = int(train["label"].max()) + 1
    model = Net(n_classes).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)''')

# KNN with dead code inserted and its loops rewritten (for -> while, loop -> comprehension).
COPY_LOOPS = KNN.replace(
    '''    preds = []
    for row in votes:
        values, counts = np.unique(row, return_counts=True)
        preds.append(values[np.argmax(counts)])
    return np.array(preds)''',
    '''    preds = [np.unique(row, return_counts=True) for row in votes]
    debug = False
    if debug:
        print("votes shape", votes.shape)
    return np.array([v[np.argmax(c)] for v, c in preds])''').replace(
    '''    for k in candidates:
        acc = (knn_predict(tx, ty, vx, k) == vy).mean()
        print("k =", k, "validation accuracy =", acc)
        if acc > best_acc:
            best, best_acc = k, acc
    return best''',
    '''    i = 0
    unused = []
    while i < len(candidates):
        k = candidates[i]
        acc = (knn_predict(tx, ty, vx, k) == vy).mean()
        print("k =", k, "validation accuracy =", acc)
        if best_acc < acc:
            best, best_acc = k, acc
        i += 1
    return best''')

# CNN_A's model and training loop pasted into a different program (CNN_B's data handling).
_b_head = CNN_B.split("model = nn.Sequential(")[0]
COPY_PARTIAL = (_b_head.replace("from torch import nn, optim",
                                "from torch import nn, optim\nimport torch.nn.functional as F")
                + "\ndevice = torch.device('cpu')\n\n\n" + _parts[1] + "\n\n\n" + _parts[3]
                + "\n\n\nloader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(X, y),"
                " batch_size=64, shuffle=True)\n"
                "net = Net(int(y.max()) + 1)\nopt = optim.Adam(net.parameters(), lr=1e-3)\n"
                "for ep in range(5):\n    print(ep, train_epoch(net, loader, opt))\n"
                "preds = net(X_test).argmax(1)\nos.makedirs(out_dir, exist_ok=True)\n"
                "pd.DataFrame({'id': df_test['id'], 'label': preds.numpy()}).to_csv("
                "os.path.join(out_dir, 'submission.csv'), index=False)\n")

# LOGREG renamed, reordered and with its comment changed: several disguises at once.
COPY_MIXED = rename(LOGREG.replace(
    "# log-transform the skewed columns so the linear model sees a friendlier scale",
    "# fix skew"), prefix="q")

HONEST = {"cnn_a": CNN_A, "cnn_b": CNN_B, "logreg": LOGREG, "forest": FOREST, "knn": KNN,
          "svm": SVM}
COPIES = {"copy_renamed": ("cnn_a", COPY_RENAMED), "copy_reordered": ("cnn_a", COPY_REORDERED),
          "copy_loops": ("knn", COPY_LOOPS), "copy_partial": ("cnn_a", COPY_PARTIAL),
          "copy_mixed": ("logreg", COPY_MIXED)}


def _write(folder: Path, files: dict[str, str]) -> dict[str, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    out = {}
    for name, src in files.items():
        p = folder / f"{name}.py"
        p.write_text(src, encoding="utf-8")
        out[name] = p
    return out


@pytest.fixture(scope="module")
def heldout(tmp_path_factory):
    root = tmp_path_factory.mktemp("heldout")
    for name, (_, src) in COPIES.items():
        compile(src, name, "exec")  # the disguises must still be valid programs
    subs = _write(root / "subs", {**HONEST, **{k: v for k, (_, v) in COPIES.items()}})
    starter = _write(root / "starter", {"starter": STARTER})["starter"]
    return compare(subs, template=starter, options=SimilarityOptions())


def _score(result, a, b):
    a, b = sorted((a, b))
    return next((p.score for p in result.pairs if (p.a, p.b) == (a, b)), 0.0)


@pytest.mark.parametrize("copy", sorted(COPIES))
def test_disguised_copy_is_flagged(heldout, copy):
    original = COPIES[copy][0]
    threshold = heldout.options.threshold
    assert _score(heldout, copy, original) >= threshold, [
        (p.a, p.b, round(p.score, 3), {k: round(v, 2) for k, v in p.components.items()})
        for p in heldout.pairs if copy in (p.a, p.b)][:3]


def test_honest_pairs_stay_below_threshold(heldout):
    names = sorted(HONEST)
    threshold = heldout.options.threshold
    honest = [(a, b, _score(heldout, a, b)) for i, a in enumerate(names) for b in names[i + 1:]]
    above = [(a, b, round(s, 3)) for a, b, s in honest if s >= threshold]
    assert not above
    # The two independent PyTorch CNN training loops in particular.
    assert _score(heldout, "cnn_a", "cnn_b") < threshold


def test_every_copy_ranks_above_every_honest_pair(heldout):
    names = sorted(HONEST)
    honest_max = max(_score(heldout, a, b) for i, a in enumerate(names) for b in names[i + 1:])
    copy_min = min(_score(heldout, c, orig) for c, (orig, _) in COPIES.items())
    assert copy_min > honest_max
