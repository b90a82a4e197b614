"""Ties in the final score: behaviour saturates at 1.0 for an exact copy and for two honest
runs that are merely near-identical, so among equal scores the pair whose predictions are
nearest ranks first (then the code score), in ``compare``, in the store and after a late
submission's merge."""

from __future__ import annotations

import numpy as np

from grader.store import Store
from similarity import Pair, SimilarityOptions, compare, rank_key
from similarity.behaviour import BehaviourModel

# Different programs; a and b share most of their code, e and f nothing (names chosen so
# that ordering by names alone would put the near pair first).
PROGRAMS = {
    "a": ("import pandas as pd\nfrom sklearn.svm import SVR\ndf = pd.read_csv('train.csv')\n"
          "y = df.pop('target')\nmodel = SVR(epsilon=0.05).fit(df, y)\n"
          "pd.DataFrame({'id': df.index, 'target': model.predict(df)}).to_csv('out.csv')\n"),
    "b": ("import pandas as pd\nfrom sklearn.svm import SVR\ndf = pd.read_csv('train.csv')\n"
          "y = df.pop('target')\nmodel = SVR(epsilon=0.1).fit(df, y)\n"
          "pd.DataFrame({'id': df.index, 'target': model.predict(df)}).to_csv('out.csv')\n"),
    "c": "def f(n):\n    return n * 2\n\nwhile True:\n    break\n",
    "d": "import sys\nprint(sys.argv)\n",
    "e": "import numpy as np\nx = np.load('a.npy')\nprint(x.mean())\n",
    "f": "total = 0\nfor v in open('data.txt'):\n    total += float(v)\nprint(total)\n",
    "g": "names = ['x', 'y']\nfor n in names:\n    print(n.upper())\n",
}


def _class(n_ids=400, seed=5):
    """Independent residuals, except f copies e exactly and b lies within 2e-4 of the
    class's RMSE of a (two honest models of one kind: as near as a copy)."""
    rng = np.random.default_rng(seed)
    truth = rng.normal(size=n_ids) * 10
    preds = {k: truth + rng.normal(scale=2.0, size=n_ids) for k in PROGRAMS}
    preds["f"] = preds["e"].copy()
    preds["b"] = preds["a"] + rng.normal(scale=4e-4, size=n_ids)
    return truth, preds


def _files(tmp_path):
    subs = {}
    for name, text in PROGRAMS.items():
        (tmp_path / f"{name}.py").write_text(text)
        subs[name] = tmp_path / f"{name}.py"
    return subs


def test_equal_scores_rank_the_nearest_runs_first(tmp_path):
    truth, preds = _class()
    model = BehaviourModel.fit({k: v.tolist() for k, v in preds.items()}, truth.tolist(),
                               task="regression")
    result = compare(_files(tmp_path), options=SimilarityOptions(min_score=0.0),
                     behaviour=model)
    by = {(p.a, p.b): p for p in result.pairs}
    copy, near = by[("e", "f")], by[("a", "b")]
    # both saturate; the near pair's code is far more alike, yet the exact copy ranks first
    assert copy.score == near.score == 1.0
    assert near.code > copy.code
    assert copy.behaviour["distance"] < 1e-6 < near.behaviour["distance"] < 1e-3
    order = [(p.a, p.b) for p in result.pairs]
    assert order[:2] == [("e", "f"), ("a", "b")]
    # the order is rank_key's, and a pair without runs' distance sorts after one with it
    assert [rank_key(p) for p in result.pairs] == sorted(rank_key(p) for p in result.pairs)
    tie = Pair("x", "y", 1.0, {}, "peer", True, code=1.0, behaviour=None)
    assert rank_key(tie) > rank_key(near)

    # the store gives the pairs back in the same order (its own ORDER BY named score first)
    with Store(tmp_path / "grading.db") as store:
        store.put_similarity([{"a": p.a, "b": p.b, "score": p.score, "kind": p.kind,
                               "flagged": p.flagged, "code": p.code, "reason": p.reason,
                               "behaviour": p.behaviour} for p in result.pairs],
                             result.clusters)
        stored = store.similarity_pairs()
    assert [(p["a"], p["b"]) for p in stored] == order
    assert [rank_key(p) for p in stored] == [rank_key(p) for p in result.pairs]


def test_without_runs_ties_still_go_by_code_then_names():
    low = Pair("a", "b", 0.5, {}, "peer", True, code=0.5)
    same = Pair("a", "c", 0.5, {}, "peer", True, code=0.5)
    high = {"a": "b", "b": "c", "score": 0.5, "code": 0.6, "behaviour": None}
    assert sorted([same, low, high], key=rank_key) == [high, low, same]
