"""A submission's AST bag as arrays (``similarity.index.AstBag``) adds files up and takes the
template away as ``collections.Counter`` arithmetic does, on real featurised files."""

from __future__ import annotations

import pickle
from collections import Counter

import numpy as np

from similarity.corpora import Submission
from similarity.features import extract_text
from similarity.index import AstBag, _bag_rows, _count_rows, build_template, prepare

MAIN = '''import numpy as np
X = np.loadtxt("train.csv", delimiter=",")
def fit(X, y, lam=1.0):
    return np.linalg.solve(X.T @ X + lam * np.eye(X.shape[1]), X.T @ y)
w = fit(X[:, 1:], X[:, 0])
for i in range(3):
    print(i, w[i] * 2)
'''
HELPERS = '''def accuracy(p, y):
    return (p == y).mean()
def fit(X, y, lam=1.0):
    return X.mean(axis=0)
'''
STARTER = '''import numpy as np
X = np.loadtxt("train.csv", delimiter=",")
'''


def _counter(ff) -> Counter:
    return Counter(dict(zip(ff.ast_keys.tolist(), ff.ast_counts.tolist(), strict=True)))


def _as_counter(bag: AstBag) -> Counter:
    return Counter(dict(zip(bag.keys.tolist(), bag.counts.tolist(), strict=True)))


def _sub(name: str, *texts: str) -> Submission:
    files = [extract_text(t, f"f{i}.py") for i, t in enumerate(texts)]
    return Submission(name=name, kind="peer", path=None, files=files)  # type: ignore[arg-type]


def test_files_add_up_as_counters_do():
    a, b = extract_text(MAIN, "main.py"), extract_text(HELPERS, "helpers.py")
    bag = AstBag.of_files([a, b])
    assert _as_counter(bag) == _counter(a) + _counter(b)
    assert np.all(np.diff(bag.keys) > 0) and bag.counts.dtype == np.int32
    # shared features (the two fit functions' structure) are added, not listed twice
    assert bag.keys.size < a.ast_keys.size + b.ast_keys.size
    one = AstBag.of_files([a])
    assert one.keys is a.ast_keys  # a one-file bag is the file's own arrays: nothing copied
    assert AstBag.of_files([]).keys.size == 0


def test_the_template_is_taken_away_as_counter_subtraction():
    tmpl = build_template([_sub("template", STARTER)], k=5)
    for texts in ((MAIN,), (MAIN, HELPERS), (STARTER,)):
        sub = _sub("s", *texts)
        want = sum((_counter(f) for f in sub.files), Counter())
        want.subtract(_counter(extract_text(STARTER, "f0.py")))  # the template's bag
        want = +want
        got = prepare(sub, tmpl, 5, 4).ast
        assert _as_counter(got) == want
        assert np.all(got.counts > 0)
    assert prepare(_sub("s", STARTER), tmpl, 5, 4).ast.keys.size == 0  # all starter


def test_bag_rows_equal_counter_rows_and_travel_as_arrays():
    subs = [_sub("a", MAIN), _sub("b", MAIN, HELPERS), _sub("c", HELPERS)]
    bags = [prepare(s, None, 5, 4).ast for s in subs]
    got = _bag_rows(bags)
    want = _count_rows([_as_counter(b) for b in bags])
    got.sort_indices()
    want.sort_indices()
    assert (got != want).nnz == 0 and got.shape == want.shape
    p = prepare(subs[0], None, 5, 4)
    back = pickle.loads(pickle.dumps(p))
    np.testing.assert_array_equal(back.ast.keys, p.ast.keys)
    # the bag and the file's features are one array: pickled once
    assert back.ast.keys is back.sub.files[0].ast_keys
