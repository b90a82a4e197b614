"""Where pairs whose agreement a standard model explains rank in ``compare``: a chosen setting
(k-NN with k = 3) above a default (``SVC()``), both under the threshold, the more similar code
higher."""

from __future__ import annotations

import numpy as np

from similarity import SimilarityOptions, compare
from similarity.behaviour import BehaviourModel
from similarity.behaviour_identity import IdentityEvidence

# Five programs in different words; c and d share more of theirs than c and e.
PROGRAMS = {
    "a": "import numpy as np\nx = np.load('a.npy')\nprint(x.mean())\n",
    "b": "total = 0\nfor v in open('data.txt'):\n    total += float(v)\nprint(total)\n",
    "c": ("import pandas as pd\ndf = pd.read_csv('train.csv')\ny = df.pop('label')\n"
          "from sklearn.svm import SVC\nmodel = SVC().fit(df, y)\nprint(model)\n"),
    "d": ("import csv\nrows = list(csv.reader(open('train.csv')))\n"
          "labels = [r[0] for r in rows]\nfrom sklearn.svm import SVC\n"
          "clf = SVC()\nclf.fit([r[1:] for r in rows], labels)\nprint(clf)\n"),
    "e": "def f(n):\n    return n * 2\n\nwhile True:\n    break\n",
}
KNN3 = "sklearn:KNeighborsClassifier(n_neighbors=3)"


def _predictions(n_ids=600, seed=3):
    """Independent students, except a = b = k-NN(3) and c = d = e = SVC()."""
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, 10, n_ids)

    def student(err):
        p = truth.copy()
        wrong = rng.random(n_ids) < err
        p[wrong] = (truth[wrong] + rng.integers(1, 10, int(wrong.sum()))) % 10
        return p

    knn3, svc = student(0.1), student(0.08)
    preds = {"a": knn3, "b": knn3.copy(), "c": svc, "d": svc.copy(), "e": svc.copy()}
    return truth, preds, {KNN3: knn3, "sklearn:SVC()": svc}


def test_setting_ranks_above_default_and_ties_go_by_code(tmp_path):
    subs = {}
    for name, text in PROGRAMS.items():
        (tmp_path / f"{name}.py").write_text(text)
        subs[name] = tmp_path / f"{name}.py"
    truth, preds, refs = _predictions()
    model = BehaviourModel.fit({k: v.tolist() for k, v in preds.items()}, truth.tolist(),
                               references={k: v.tolist() for k, v in refs.items()},
                               explainers=sorted(refs), settings=[KNN3], near_exact=0.998)
    o = SimilarityOptions(min_score=0.0)
    result = compare(subs, options=o, behaviour=IdentityEvidence(model))
    by = {(p.a, p.b): p for p in result.pairs}
    ab, cd, ce = by[("a", "b")], by[("c", "d")], by[("c", "e")]
    assert ab.behaviour["explained_by"] == KNN3
    assert cd.behaviour["explained_by"] == ce.behaviour["explained_by"] == "sklearn:SVC()"
    assert not ab.flagged and not cd.flagged and not ce.flagged
    # a chosen setting's band starts at setting_share x threshold, a default's at
    # explained_share x threshold; within it, the nearer the code to the threshold the higher
    assert o.setting_share * o.threshold <= ab.score < o.threshold
    assert max(ce.score, cd.score) < ab.score
    for p in (cd, ce):
        assert o.explained_share * o.threshold <= p.score < o.setting_share * o.threshold
    # the default's pairs: the more similar code ranks first, in the score column too
    order = [(p.a, p.b) for p in result.pairs]
    assert cd.code > ce.code and cd.score > ce.score
    assert order.index(("c", "d")) < order.index(("c", "e"))
    assert order.index(("a", "b")) < order.index(("c", "d"))
