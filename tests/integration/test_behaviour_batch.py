"""Behavioural evidence end to end on real bubblewrap: a class whose code is all different,
where two programs share their predictions (a rewritten copy), and two honest programs that
both reproduce scikit-learn's default k-NN, or one random forest on the tutorials' validation
split."""

from __future__ import annotations

import csv

import numpy as np
import pytest

from grader.batch import BatchOptions, run_batch
from grader.course import load_course

pytestmark = [pytest.mark.bwrap, pytest.mark.slow]

N_TRAIN, N_TEST = 600, 400

# Every program is written in its own words (reading, modelling, writing), so that code
# similarity sees nothing: only their predictions on the hidden test set tell the copy apart.
PROGRAMS = {
    # the source: a hand-written 6-NN, majority vote, ties to the smallest label (k-NN with
    # k = 3, 5 or 7 is a standard model that explains agreement: reference/standard.py)
    "source": """
import csv, os
import numpy as np
D, O = os.environ["GRADER_DATA"], os.environ["GRADER_OUTPUT"]
def load(name):
    rows = list(csv.DictReader(open(os.path.join(D, name))))
    return rows, np.array([[float(r[f"x{j}"]) for j in range(6)] for r in rows])
train, Xtr = load("train.csv")
test, Xte = load("test.csv")
ytr = np.array([r["label"] for r in train])
def knn(x, k=6):
    d = ((Xtr - x) ** 2).sum(axis=1)
    near = ytr[np.argsort(d, kind="stable")[:k]]
    labels, counts = np.unique(near, return_counts=True)
    return labels[np.argmax(counts)]
with open(os.path.join(O, "submission.csv"), "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(["id", "label"])
    w.writerows((r["id"], knn(x)) for r, x in zip(test, Xte))
""",
    # the copy, rewritten: one matrix of distances, counters, pandas I/O, other names
    "rewritten": """
from collections import Counter
from pathlib import Path
import os
import numpy
import pandas

base = Path(os.environ["GRADER_DATA"])
tr = pandas.read_csv(base / "train.csv", dtype={"id": str, "label": str})
te = pandas.read_csv(base / "test.csv", dtype={"id": str})
cols = [c for c in tr.columns if c.startswith("x")]
P, Q = tr[cols].to_numpy(float), te[cols].to_numpy(float)
dist = ((Q[:, None, :] - P[None, :, :]) ** 2).sum(-1)
answers = []
for row in dist:
    votes = Counter(tr["label"].to_numpy()[numpy.argsort(row, kind="stable")[:6]].tolist())
    top = max(votes.values())
    answers.append(min(lab for lab, c in votes.items() if c == top))
te.assign(label=answers)[["id", "label"]].to_csv(
    Path(os.environ["GRADER_OUTPUT"]) / "submission.csv", index=False)
""",
    # honest: nearest class mean, in plain Python
    "centroid": """
import os
def rows(name):
    with open(os.path.join(os.environ['GRADER_DATA'], name)) as fh:
        head = fh.readline().strip().split(',')
        return [dict(zip(head, line.strip().split(','))) for line in fh if line.strip()]
train, test = rows('train.csv'), rows('test.csv')
feats = ['x%d' % j for j in range(6)]
sums, counts = {}, {}
for r in train:
    vec = [float(r[f]) for f in feats]
    acc = sums.setdefault(r['label'], [0.0] * 6)
    for j in range(6):
        acc[j] += vec[j]
    counts[r['label']] = counts.get(r['label'], 0) + 1
means = {c: [v / counts[c] for v in acc] for c, acc in sums.items()}
out = open(os.path.join(os.environ['GRADER_OUTPUT'], 'submission.csv'), 'w')
out.write('id,label\\n')
for r in test:
    vec = [float(r[f]) for f in feats]
    best = min(sorted(means), key=lambda c: sum((a - b) ** 2 for a, b in zip(vec, means[c])))
    out.write(r['id'] + ',' + best + '\\n')
out.close()
""",
    # honest: a 25-NN with the city-block distance
    "wide_knn": """
import numpy as np, os
data = os.getenv('GRADER_DATA')
tr = np.genfromtxt(os.path.join(data, 'train.csv'), delimiter=',', names=True, dtype=None,
                   encoding='utf-8')
te = np.genfromtxt(os.path.join(data, 'test.csv'), delimiter=',', names=True, dtype=None,
                   encoding='utf-8')
names = ['x%d' % j for j in range(6)]
A = np.column_stack([tr[n] for n in names]); B = np.column_stack([te[n] for n in names])
lab = np.array([str(v) for v in tr['label']])
result = []
for b in B:
    idx = np.argsort(np.abs(A - b).sum(1))[:25]
    u, c = np.unique(lab[idx], return_counts=True)
    result.append(u[c.argmax()])
np.savetxt(os.path.join(os.getenv('GRADER_OUTPUT'), 'submission.csv'),
           np.column_stack([te['id'].astype(str), result]), fmt='%s', delimiter=',',
           header='id,label', comments='')
""",
    # honest: a decision tree of depth 3 from scikit-learn, with json round trip
    "tree": """
import json, os, sys
import pandas as pd
from sklearn.tree import DecisionTreeClassifier
root = os.environ.get("GRADER_DATA")
frame = pd.read_csv(f"{root}/train.csv", dtype={"label": str})
query = pd.read_csv(f"{root}/test.csv")
X = frame.filter(like="x"); clf = DecisionTreeClassifier(max_depth=3, random_state=1)
clf.fit(X, frame.label)
table = dict(zip(query.id.astype(str), clf.predict(query.filter(like="x"))))
with open(os.path.join(os.environ["GRADER_OUTPUT"], "submission.csv"), "w") as handle:
    print("id,label", file=handle)
    for key, value in table.items():
        print(f"{key},{value}", file=handle)
""",
    # two honest students who both fit scikit-learn's default k-NN, in their own words
    "sk_one": """
import csv, os
import numpy as np
from sklearn.neighbors import KNeighborsClassifier
src = os.environ["GRADER_DATA"]
with open(os.path.join(src, "train.csv")) as f:
    tr = list(csv.reader(f))[1:]
with open(os.path.join(src, "test.csv")) as f:
    te = list(csv.reader(f))[1:]
model = KNeighborsClassifier()
model.fit(np.array([r[2:] for r in tr], float), [r[1] for r in tr])
labels = model.predict(np.array([r[1:] for r in te], float))
csv.writer(open(os.path.join(os.environ["GRADER_OUTPUT"], "submission.csv"), "w")).writerows(
    [["id", "label"]] + [[r[0], y] for r, y in zip(te, labels)])
""",
    # two honest students who check a random forest on the tutorials' validation split and
    # predict with the forest fitted on the rest: the same predictions, which no model fitted
    # on every training row gives (reference.standard's split variants explain them)
    "split_one": """
import os
import pandas as pd
from sklearn.ensemble import RandomForestClassifier
from sklearn.model_selection import train_test_split
train = pd.read_csv(os.path.join(os.environ["GRADER_DATA"], "train.csv"))
test = pd.read_csv(os.path.join(os.environ["GRADER_DATA"], "test.csv"))
X, y = train.drop(columns=["id", "label"]), train["label"]
X_train, X_val, y_train, y_val = train_test_split(X, y, test_size=0.2, random_state=42)
forest = RandomForestClassifier(random_state=42).fit(X_train, y_train)
print("validation accuracy:", (forest.predict(X_val) == y_val).mean())
pd.DataFrame({"id": test["id"], "label": forest.predict(test.drop(columns=["id"]))}).to_csv(
    os.path.join(os.environ["GRADER_OUTPUT"], "submission.csv"), index=False)
""",
    "split_two": """
import csv
from os import environ
from os.path import join
from sklearn import ensemble, model_selection
def table(name):
    with open(join(environ["GRADER_DATA"], name)) as handle:
        return list(csv.DictReader(handle))
rows, queries = table("train.csv"), table("test.csv")
cols = [c for c in rows[0] if c.startswith("x")]
xs = [[float(r[c]) for c in cols] for r in rows]
ys = [r["label"] for r in rows]
xa, xb, ya, yb = model_selection.train_test_split(xs, ys, test_size=0.2, random_state=42)
rf = ensemble.RandomForestClassifier(random_state=42)
rf.fit(xa, ya)
print("held out:", sum(p == t for p, t in zip(rf.predict(xb), yb)) / len(yb))
guesses = rf.predict([[float(q[c]) for c in cols] for q in queries])
with open(join(environ["GRADER_OUTPUT"], "submission.csv"), "w", newline="") as out:
    writer = csv.writer(out)
    writer.writerow(["id", "label"])
    writer.writerows(zip([q["id"] for q in queries], guesses))
""",
    "sk_two": """
import os, pandas as pd
from sklearn.neighbors import KNeighborsClassifier as Knn
folder = os.environ["GRADER_DATA"]
tr = pd.read_csv(os.path.join(folder, "train.csv"), dtype={"id": str, "label": str})
te = pd.read_csv(os.path.join(folder, "test.csv"), dtype={"id": str})
feats = [f"x{j}" for j in range(6)]
model = Knn()
model.fit(tr[feats].to_numpy(), tr["label"].to_numpy())
pd.DataFrame({"id": te["id"], "label": model.predict(te[feats].to_numpy())}).to_csv(
    os.path.join(os.environ["GRADER_OUTPUT"], "submission.csv"), index=False)
""",
}


def _course(root):
    rng = np.random.default_rng(3)
    centres = rng.normal(0, 1.0, (4, 6))
    def sample(n):
        labels = rng.integers(0, 4, size=n)
        xs = centres[labels] + rng.normal(0, 1.0, (n, 6))
        return [f"c{v}" for v in labels], xs
    (root / "data").mkdir(parents=True)
    (root / "hidden").mkdir()
    (root / "course.toml").write_text(
        '[competition]\nname = "blobs"\nseed = 1\n[grading]\nbaseline = 0.3\n'
        '[sandbox]\nbackend = "bwrap"\ntime_limit_s = 60\nmemory_mb = 1024\ncpus = 1\n'
        '[similarity]\nweb = "web"\n')
    # a web source (compared on code only) and, below, a crash (no predictions): neither has
    # behavioural evidence, and neither stops it for the others
    (root / "web").mkdir()
    (root / "web" / "tutorial.py").write_text(PROGRAMS["sk_two"])
    cols = [f"x{j}" for j in range(6)]
    ytr, xtr = sample(N_TRAIN)
    yte, xte = sample(N_TEST)
    with (root / "data" / "train.csv").open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["id", "label", *cols])
        w.writerows([f"r{i}", y, *(f"{v:.4f}" for v in x)] for i, (y, x) in
                    enumerate(zip(ytr, xtr, strict=True)))
    with (root / "data" / "test.csv").open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["id", *cols])
        w.writerows([f"t{i}", *(f"{v:.4f}" for v in x)] for i, x in enumerate(xte))
    with (root / "hidden" / "test_labels.csv").open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["id", "label"])
        w.writerows([f"t{i}", y] for i, y in enumerate(yte))
    return root


def test_shared_predictions_flag_a_rewritten_copy_and_defaults_explain(tmp_path,
                                                                       bwrap_sandbox):
    course = load_course(_course(tmp_path / "course"))
    subs = tmp_path / "subs"
    subs.mkdir()
    for name, code in PROGRAMS.items():
        (subs / f"{name}.py").write_text(code)
    (subs / "crash.py").write_text("raise SystemExit('no predictions today')\n")
    run_batch(course, subs, tmp_path / "out",
              BatchOptions(jobs=2, reports=False, quiet=True))
    with (tmp_path / "out" / "grades.csv").open() as f:
        assert {r["student"]: r["status"] for r in csv.DictReader(f)} == \
            {**dict.fromkeys(PROGRAMS, "ok"), "crash": "error"}
    with (tmp_path / "out" / "similarity" / "pairs.csv").open() as f:
        pairs = {(r["a"], r["b"]): r for r in csv.DictReader(f)}
    copy = pairs[("rewritten", "source")]
    assert copy["flagged"] == "true" and copy["reason"] == "behaviour", copy
    assert float(copy["code"]) < 0.45 and float(copy["behaviour"]) >= 0.45
    assert int(copy["same_wrong"]) == int(copy["both_wrong"]) > 0
    assert float(copy["expected_same_wrong"]) < int(copy["same_wrong"])
    defaults = pairs.get(("sk_one", "sk_two"))
    if defaults is not None:  # reported or not, never flagged; explained when reported
        assert defaults["flagged"] == "false", defaults
        assert defaults["explained_by"] == "sklearn:KNeighborsClassifier()"
    split = pairs.get(("split_one", "split_two"))
    if split is not None:  # the same forest on the same validation split: explained
        assert split["flagged"] == "false", split
        assert split["explained_by"] == ("sklearn:RandomForestClassifier(random_state=42) on "
                                         "train_test_split(test_size=0.2, random_state=42)")
    web = pairs[("sk_two", "web:tutorial")]  # a copied tutorial: code evidence, no behaviour
    assert web["flagged"] == "true" and web["reason"] == "code" and web["behaviour"] == ""
    assert all(r["behaviour"] == "" for k, r in pairs.items() if "crash" in k)
    flagged = {k for k, r in pairs.items() if r["flagged"] == "true"}
    assert flagged == {("rewritten", "source"), ("sk_two", "web:tutorial")}, flagged
    # the copy ranks first among the students (the verbatim tutorial paste scores 1.0)
    assert next(k for k in pairs if not k[1].startswith("web:")) == ("rewritten", "source")
