"""Near-identical predictions as evidence (similarity.behaviour_identity): the agreement it
derives from the model's counts equals a direct count, and only an unexplained identity with
enough shared wrong answers raises the behaviour score."""

from __future__ import annotations

import numpy as np

from similarity.behaviour import BehaviourModel
from similarity.behaviour_identity import IdentityEvidence


def _class(seed: int = 0, n: int = 30, m: int = 800, classes: int = 5):
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, classes, m)
    preds = {}
    for i in range(n):
        p = truth.copy()
        wrong = rng.random(m) < rng.uniform(0.05, 0.3)
        p[wrong] = (truth[wrong] + rng.integers(1, classes, wrong.sum())) % classes
        preds[f"s{i:02d}"] = [str(v) for v in p]
    preds["s05"][3] = None  # a missing prediction is wrong and never matches
    return truth, preds


def test_agreement_equals_a_direct_count():
    truth, preds = _class()
    preds["copy"] = list(preds["s07"])
    preds["near"] = list(preds["s07"])
    preds["near"][10] = "other"
    model = BehaviourModel.fit(preds, [str(t) for t in truth])
    ident = IdentityEvidence(model)
    rows = np.arange(len(model.names))
    got = ident.block(rows, rows)
    codes = [preds[name] for name in model.names]
    direct = np.array([[sum(a == b and a is not None for a, b in zip(x, y, strict=True))
                        for y in codes] for x in codes])
    off = ~np.eye(len(rows), dtype=bool)
    assert np.allclose(got["agreement"][off] * model.n_ids, direct[off])
    i, j, k = (model.names.index(s) for s in ("s07", "copy", "near"))
    assert got["identity"][i, j] == 1.0 and got["behaviour"][i, j] >= 0.9
    assert 0.0 < got["identity"][i, k] < 1.0  # one disagreement within the tolerance
    honest = got["identity"][off & (direct < model.n_ids - 3)]
    assert (honest == 0).all()


def test_explained_or_too_few_wrong_answers_is_no_identity():
    truth, preds = _class(seed=1)
    default = list(preds["s03"])  # as if s03 were a standard model's predictions
    preds["twin"] = list(default)
    model = BehaviourModel.fit(preds, [str(t) for t in truth], references={"std": default},
                               explainers=["std"], near_exact=0.998)
    got = IdentityEvidence(model).block(np.arange(len(model.names)),
                                        np.arange(len(model.names)))
    i, j = model.names.index("s03"), model.names.index("twin")
    assert got["explained"][i, j] == 0 and got["identity"][i, j] == 0
    assert got["behaviour"][i, j] == 0
    # a near-perfect student and their copy share too few wrong answers to be evidence
    perfect = [str(t) for t in truth]
    perfect[0] = str((truth[0] + 1) % 5)
    preds2 = {**{k: v for k, v in preds.items() if k != "twin"}, "ace": perfect,
              "ace_copy": list(perfect)}
    m2 = BehaviourModel.fit(preds2, [str(t) for t in truth])
    g2 = IdentityEvidence(m2).block(np.arange(len(m2.names)), np.arange(len(m2.names)))
    a, b = m2.names.index("ace"), m2.names.index("ace_copy")
    assert g2["identity"][a, b] == 0
