"""Behavioural evidence end to end on a regression course (metric mse, real bubblewrap): a
rewritten copy is flagged on its residuals alone; honest linear models (a ridge by hand, two
LinearRegression()) are not, though their residuals correlate at 0.999+; a copy stretched
around the mean ranks by the order of its predictions. And on a roc_auc
course with text labels, where students submit probabilities: the copy is flagged, two
LogisticRegression() students are explained by the default's own probabilities."""

from __future__ import annotations

import csv

import numpy as np
import pytest

from grader.batch import BatchOptions, run_batch
from grader.course import load_course

pytestmark = [pytest.mark.bwrap, pytest.mark.slow]

PROGRAMS = {
    # the source: a hand-written 6-NN regressor (mean of the neighbours' values)
    "source": """
import csv, os
import numpy as np
D, O = os.environ["GRADER_DATA"], os.environ["GRADER_OUTPUT"]
def load(name):
    rows = list(csv.DictReader(open(os.path.join(D, name))))
    return rows, np.array([[float(r[f"x{j}"]) for j in range(6)] for r in rows])
train, Xtr = load("train.csv")
test, Xte = load("test.csv")
ytr = np.array([float(r["label"]) for r in train])
def knn(x, k=6):
    d = ((Xtr - x) ** 2).sum(axis=1)
    return ytr[np.argsort(d, kind="stable")[:k]].mean()
with open(os.path.join(O, "submission.csv"), "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(["id", "label"])
    w.writerows((r["id"], knn(x)) for r, x in zip(test, Xte))
""",
    # the copy, rewritten: one matrix of distances, pandas I/O, other names
    "rewritten": """
from pathlib import Path
import os
import numpy
import pandas
base = Path(os.environ["GRADER_DATA"])
tr = pandas.read_csv(base / "train.csv", dtype={"id": str})
te = pandas.read_csv(base / "test.csv", dtype={"id": str})
cols = [c for c in tr.columns if c.startswith("x")]
P, Q = tr[cols].to_numpy(float), te[cols].to_numpy(float)
dist = ((Q[:, None, :] - P[None, :, :]) ** 2).sum(-1)
target = tr["label"].to_numpy(float)
answers = [target[numpy.argsort(row, kind="stable")[:6]].mean() for row in dist]
te.assign(label=answers)[["id", "label"]].to_csv(
    Path(os.environ["GRADER_OUTPUT"]) / "submission.csv", index=False)
""",
    # honest: ridge regression by hand (lam = 10); its residuals share the linear misfit with
    # every linear model's, so they correlate with LinearRegression's at 0.999+
    "ridge": """
import os
import numpy as np
import pandas as pd
d = os.environ["GRADER_DATA"]
tr = pd.read_csv(os.path.join(d, "train.csv")); te = pd.read_csv(os.path.join(d, "test.csv"))
X = tr.filter(like="x").to_numpy(); y = tr["label"].to_numpy()
X1 = np.c_[np.ones(len(X)), X]
w = np.linalg.solve(X1.T @ X1 + 10 * np.eye(X1.shape[1]), X1.T @ y)
pred = np.c_[np.ones(len(te)), te.filter(like="x").to_numpy()] @ w
pd.DataFrame({"id": te["id"], "label": pred}).to_csv(os.path.join(os.environ["GRADER_OUTPUT"], "submission.csv"), index=False)
""",
    # honest: a regression tree of depth 5
    "tree": """
import json, os
import pandas as pd
from sklearn.tree import DecisionTreeRegressor
root = os.environ.get("GRADER_DATA")
frame = pd.read_csv(f"{root}/train.csv"); query = pd.read_csv(f"{root}/test.csv")
reg = DecisionTreeRegressor(max_depth=5, random_state=1).fit(frame.filter(like="x"), frame.label)
with open(os.path.join(os.environ["GRADER_OUTPUT"], "submission.csv"), "w") as h:
    print("id,label", file=h)
    for k, v in zip(query.id, reg.predict(query.filter(like="x"))):
        print(f"{k},{v}", file=h)
""",
    # honest: a 15-NN with the city-block distance
    "knn15": """
import os, numpy as np
dd = os.environ["GRADER_DATA"]
kw = dict(delimiter=",", names=True, dtype=None, encoding="utf-8")
tr = np.genfromtxt(os.path.join(dd, "train.csv"), **kw)
te = np.genfromtxt(os.path.join(dd, "test.csv"), **kw)
nm = ["x%d" % j for j in range(6)]
A = np.column_stack([tr[n] for n in nm]); B = np.column_stack([te[n] for n in nm])
res = [tr["label"][np.argsort(np.abs(A - b).sum(1))[:15]].mean() for b in B]
with open(os.path.join(os.environ["GRADER_OUTPUT"], "submission.csv"), "w") as f:
    print("id,label", file=f)
    for i, r in zip(te["id"], res):
        print(f"{i},{r}", file=f)
""",
    # honest: gradient boosting
    "gbr": """
import os, pandas as pd
from sklearn.ensemble import GradientBoostingRegressor
p = os.environ["GRADER_DATA"]
train = pd.read_csv(os.path.join(p, "train.csv")); test = pd.read_csv(os.path.join(p, "test.csv"))
feats = [c for c in train if c.startswith("x")]
gb = GradientBoostingRegressor(random_state=0, n_estimators=150, max_depth=3)
gb.fit(train[feats], train.label)
pd.DataFrame({"id": test.id, "label": gb.predict(test[feats])}).to_csv(os.path.join(os.environ["GRADER_OUTPUT"], "submission.csv"), index=False)
""",
    # a copy of gbr, rewritten, its predictions stretched x1.03 around their mean: past the
    # nearness rule, but in the same order
    "gbr_stretched": """
import os
import numpy as np
import pandas as pd
from sklearn import ensemble
here = os.environ["GRADER_DATA"]
a = pd.read_csv(here + "/train.csv")
b = pd.read_csv(here + "/test.csv")
cols = ["x%d" % j for j in range(6)]
booster = ensemble.GradientBoostingRegressor(max_depth=3, n_estimators=150, random_state=0)
guess = booster.fit(a[cols].values, a["label"].values).predict(b[cols].values)
guess = guess.mean() + 1.03 * (guess - guess.mean())
b.assign(label=guess)[["id", "label"]].to_csv(os.environ["GRADER_OUTPUT"] + "/submission.csv",
                                              index=False)
""",
    # two honest students who both fit LinearRegression(), in their own words
    "sk_one": """
import csv, os
import numpy as np
from sklearn.linear_model import LinearRegression
src = os.environ["GRADER_DATA"]
tr = list(csv.reader(open(os.path.join(src, "train.csv"))))[1:]
te = list(csv.reader(open(os.path.join(src, "test.csv"))))[1:]
model = LinearRegression()
model.fit(np.array([r[2:] for r in tr], float), [float(r[1]) for r in tr])
out = model.predict(np.array([r[1:] for r in te], float))
csv.writer(open(os.path.join(os.environ["GRADER_OUTPUT"], "submission.csv"), "w")).writerows(
    [["id", "label"]] + [[r[0], y] for r, y in zip(te, out)])
""",
    "sk_two": """
import os, pandas as pd
from sklearn import linear_model
folder = os.environ["GRADER_DATA"]
tr = pd.read_csv(os.path.join(folder, "train.csv")); te = pd.read_csv(os.path.join(folder, "test.csv"))
feats = [f"x{j}" for j in range(6)]
lr = linear_model.LinearRegression().fit(tr[feats].to_numpy(), tr["label"].to_numpy())
pd.DataFrame({"id": te["id"], "label": lr.predict(te[feats].to_numpy())}).to_csv(
    os.path.join(os.environ["GRADER_OUTPUT"], "submission.csv"), index=False)
""",
}

PROBABILITY_PROGRAMS = {
    # two honest students who both fit LogisticRegression() and submit its probabilities
    "lr_one": """
import os, pandas as pd
from sklearn.linear_model import LogisticRegression
d = os.environ["GRADER_DATA"]
tr = pd.read_csv(os.path.join(d, "train.csv")); te = pd.read_csv(os.path.join(d, "test.csv"))
f = [c for c in tr if c.startswith("x")]
m = LogisticRegression().fit(tr[f], tr["label"])
pd.DataFrame({"id": te["id"], "label": m.predict_proba(te[f])[:, list(m.classes_).index("yes")]}).to_csv(
    os.path.join(os.environ["GRADER_OUTPUT"], "submission.csv"), index=False)
""",
    "lr_two": """
import csv, os
import numpy as np
from sklearn import linear_model
src = os.environ["GRADER_DATA"]
tr = list(csv.reader(open(os.path.join(src, "train.csv"))))[1:]
te = list(csv.reader(open(os.path.join(src, "test.csv"))))[1:]
clf = linear_model.LogisticRegression()
clf.fit(np.array([r[2:] for r in tr], float), [r[1] == "yes" for r in tr])
p = clf.predict_proba(np.array([r[1:] for r in te], float))[:, 1]
with open(os.path.join(os.environ["GRADER_OUTPUT"], "submission.csv"), "w") as h:
    print("id,label", file=h)
    for r, v in zip(te, p):
        print(f"{r[0]},{v:.6f}", file=h)
""",
    # the source: an 11-NN's share of positive neighbours
    "knn": """
import os, numpy as np, pandas as pd
d = os.environ["GRADER_DATA"]
tr = pd.read_csv(os.path.join(d, "train.csv")); te = pd.read_csv(os.path.join(d, "test.csv"))
f = [c for c in tr if c.startswith("x")]
A, B = tr[f].to_numpy(), te[f].to_numpy(); y = (tr["label"] == "yes").to_numpy(float)
p = [y[np.argsort(((A - b) ** 2).sum(1))[:11]].mean() for b in B]
pd.DataFrame({"id": te["id"], "label": p}).to_csv(os.path.join(os.environ["GRADER_OUTPUT"], "submission.csv"), index=False)
""",
    # its copy, rewritten
    "knn_copy": """
import csv, os
import numpy
rows = list(csv.DictReader(open(os.environ["GRADER_DATA"] + "/train.csv")))
test = list(csv.DictReader(open(os.environ["GRADER_DATA"] + "/test.csv")))
feats = [k for k in rows[0] if k.startswith("x")]
P = numpy.array([[float(r[k]) for k in feats] for r in rows])
Q = numpy.array([[float(r[k]) for k in feats] for r in test])
t = numpy.array([1.0 if r["label"] == "yes" else 0.0 for r in rows])
dist = ((Q[:, None, :] - P[None]) ** 2).sum(-1)
probs = t[numpy.argsort(dist, axis=1)[:, :11]].mean(1)
with open(os.environ["GRADER_OUTPUT"] + "/submission.csv", "w", newline="") as h:
    w = csv.writer(h); w.writerow(["id", "label"])
    w.writerows(zip([r["id"] for r in test], probs))
""",
    # honest: Gaussian naive Bayes
    "gnb": """
import os, pandas as pd
from sklearn.naive_bayes import GaussianNB
d = os.environ["GRADER_DATA"]
tr = pd.read_csv(os.path.join(d, "train.csv")); te = pd.read_csv(os.path.join(d, "test.csv"))
f = [c for c in tr if c.startswith("x")]
m = GaussianNB().fit(tr[f], tr["label"] == "yes")
te["label"] = m.predict_proba(te[f])[:, 1]
te[["id", "label"]].to_csv(os.path.join(os.environ["GRADER_OUTPUT"], "submission.csv"), index=False)
""",
    # honest: a tree of depth 4
    "tree": """
import os, pandas as pd
from sklearn.tree import DecisionTreeClassifier
d = os.environ["GRADER_DATA"]
tr = pd.read_csv(os.path.join(d, "train.csv")); te = pd.read_csv(os.path.join(d, "test.csv"))
f = [c for c in tr if c.startswith("x")]
m = DecisionTreeClassifier(max_depth=4, random_state=1).fit(tr[f], tr["label"])
te["label"] = m.predict_proba(te[f])[:, 1]
te[["id", "label"]].to_csv(os.path.join(os.environ["GRADER_OUTPUT"], "submission.csv"), index=False)
""",
}


def _write_course(root, toml, train, test):
    """A course folder: ``course.toml``, train.csv and test.csv of six features x0..x5, and the
    hidden labels; ``train``/``test`` are (labels as text, features)."""
    (root / "data").mkdir(parents=True)
    (root / "hidden").mkdir()
    (root / "course.toml").write_text(toml + '[sandbox]\nbackend = "bwrap"\ntime_limit_s = 60\n'
                                      'memory_mb = 1024\ncpus = 1\n')
    cols = [f"x{j}" for j in range(6)]
    (ytr, xtr), (yte, xte) = train, test
    tables = {"data/train.csv": (["id", "label", *cols], [
                  [f"r{i}", y, *(f"{v:.4f}" for v in x)] for i, (y, x) in enumerate(zip(
                      ytr, xtr, strict=True))]),
              "data/test.csv": (["id", *cols], [[f"t{i}", *(f"{v:.4f}" for v in x)]
                                                for i, x in enumerate(xte)]),
              "hidden/test_labels.csv": (["id", "label"], [[f"t{i}", y]
                                                           for i, y in enumerate(yte)])}
    for name, (head, rows) in tables.items():
        with (root / name).open("w", newline="") as f:
            w = csv.writer(f)
            w.writerow(head)
            w.writerows(rows)
    return root


def _run(tmp_path, course_root, programs):
    """``grader run``'s batch on the programs: each student's status, and pairs.csv's rows by
    (a, b)."""
    subs = tmp_path / "subs"
    subs.mkdir()
    for name, code in programs.items():
        (subs / f"{name}.py").write_text(code)
    run_batch(load_course(course_root), subs, tmp_path / "out",
              BatchOptions(jobs=2, reports=False, quiet=True))
    with (tmp_path / "out" / "grades.csv").open() as f:
        status = {r["student"]: r["status"] for r in csv.DictReader(f)}
    with (tmp_path / "out" / "similarity" / "pairs.csv").open() as f:
        return status, {(r["a"], r["b"]): r for r in csv.DictReader(f)}


def _course(root):
    rng = np.random.default_rng(5)
    w = rng.normal(0, 1, 6)

    def sample(n):
        x = rng.normal(0, 1, (n, 6))
        y = x @ w + 0.8 * np.sin(2 * x[:, 0]) + 0.5 * x[:, 1] * x[:, 2] + rng.normal(0, 0.5, n)
        return [f"{v:.4f}" for v in y], x

    return _write_course(root, '[competition]\nname = "houses"\nmetric = "mse"\nseed = 1\n'
                         '[grading]\nbaseline = 2.0\n', sample(600), sample(400))


def test_regression_copy_flagged_linear_models_explained(tmp_path, bwrap_sandbox):
    programs = {**PROGRAMS, "crash": "raise SystemExit('no predictions today')\n"}
    status, pairs = _run(tmp_path, _course(tmp_path / "course"), programs)
    assert status == {**dict.fromkeys(PROGRAMS, "ok"), "crash": "error"}
    copy = pairs[("rewritten", "source")]
    assert copy["flagged"] == "true" and copy["reason"] == "behaviour", copy
    assert float(copy["code"]) < 0.45 and float(copy["behaviour"]) >= 0.45
    assert copy["same_wrong"] == "0" and copy["explained_by"] == ""  # no labels to share
    assert pairs[("sk_one", "sk_two")]["explained_by"] == "sklearn:LinearRegression()"
    for other in ("sk_one", "sk_two"):  # ridge ~ LinearRegression: near, not a copy
        row = pairs[("ridge", other)]
        assert row["flagged"] == "false" and row["explained_by"].startswith("sklearn:"), row
    flagged = {k for k, r in pairs.items() if r["flagged"] == "true"}
    assert flagged == {("rewritten", "source")}, flagged
    # the stretched copy: the same order of every prediction ranks it just under the
    # threshold (unproven), above every honest pair, not flagged
    stretched = pairs[("gbr", "gbr_stretched")]
    assert float(stretched["behaviour"]) < 0.45 and float(stretched["code"]) < 0.45, stretched
    assert 0.439 <= float(stretched["score"]) < 0.45, stretched
    honest = [r for k, r in pairs.items() if k not in {("rewritten", "source"),
                                                       ("gbr", "gbr_stretched")}]
    assert max(float(r["score"]) for r in honest) < float(stretched["score"])


def _auc_course(root):
    rng = np.random.default_rng(3)
    centres = rng.normal(0, 0.3, (2, 6))

    def sample(n):
        labels = rng.integers(0, 2, size=n)
        return [("yes" if v else "no") for v in labels], centres[labels] + rng.normal(0, 1, (n, 6))

    return _write_course(root, '[competition]\nname = "churn"\nmetric = "roc_auc"\nseed = 1\n'
                         '[grading]\nbaseline = 0.6\n', sample(600), sample(400))


def test_roc_auc_probabilities_copy_flagged_default_explained(tmp_path, bwrap_sandbox):
    status, pairs = _run(tmp_path, _auc_course(tmp_path / "course"), PROBABILITY_PROGRAMS)
    assert status == dict.fromkeys(PROBABILITY_PROGRAMS, "ok")
    # text labels once stopped the whole similarity stage (regressors fitted on "yes"/"no")
    copy = pairs[("knn", "knn_copy")]
    assert copy["flagged"] == "true" and copy["reason"] == "behaviour", copy
    defaults = pairs[("lr_one", "lr_two")]
    assert defaults["flagged"] == "false"
    # converged within 100 iterations: the default as written and run to convergence agree
    assert defaults["explained_by"] in {"sklearn:LogisticRegression()",
                                        "sklearn:LogisticRegression(max_iter=1000)"}
    assert {k for k, r in pairs.items() if r["reason"] == "behaviour"} == {("knn", "knn_copy")}


def test_reference_models_added_later_redo_the_comparison(tmp_path, bwrap_sandbox):
    # `grader run ... --reference` on a graded folder said "no submission changed, previous
    # results kept": the reference models, which explain agreement, never reached the pairs
    from grader.store import Store

    course = _course(tmp_path / "course")
    programs = {k: PROGRAMS[k] for k in ("source", "rewritten", "tree", "gbr")}
    _run(tmp_path, course, programs)
    out = tmp_path / "out"
    with Store(out / "grading.db") as st:
        before = st.meta()["similarity_inputs"]["settings"]
    first = (out / "similarity" / "pairs.csv").stat().st_mtime_ns
    ids = [r["id"] for r in csv.DictReader((course / "data" / "test.csv").open())]
    with (out / "runs" / "tree" / "submission.csv").open() as f:
        tree = {r["id"]: float(r["label"]) for r in csv.DictReader(f)}
    with Store(out / "grading.db") as st:
        st.put_reference([dict(model="a_tree", params={}, public_score=1.0, private_score=1.0,
                               fit_s=0.1, predict_s=0.1, status="ok")])
        st.put_cached_reference([dict(cache_key="k1", model="a_tree", params={},
                                      validation_score=None, fit_s=0.1, predict_s=0.1,
                                      elapsed_s=0.2, status="ok", message="", deadline_s=60,
                                      predictions=[tree[i] for i in ids], trained_at=0.0)])
    run_batch(load_course(course), tmp_path / "subs", out,
              BatchOptions(jobs=2, reports=False, quiet=True))
    with Store(out / "grading.db") as st:
        assert st.meta()["similarity_inputs"]["settings"] != before
    assert (out / "similarity" / "pairs.csv").stat().st_mtime_ns != first
