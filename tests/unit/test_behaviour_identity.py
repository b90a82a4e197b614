"""Near-identical predictions as evidence (similarity.behaviour_identity): the agreement it
derives from the model's counts equals a direct count, and only an unexplained identity with
enough shared wrong answers raises the behaviour score."""

from __future__ import annotations

import numpy as np

from similarity.behaviour import BehaviourModel
from similarity.behaviour_identity import IDENTITY_P, IdentityEvidence
from similarity.behaviour_null import poisson_tail


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


def _easy_class(seed: int = 2, n: int = 30, m: int = 360, classes: int = 10):
    """An easy data set (as digits is): students err mostly on a dozen hard ids, with each
    id's popular wrong label, and rarely elsewhere."""
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, classes, m)
    hard = rng.choice(m, 12, replace=False)
    popular = (truth + 1 + rng.integers(0, classes - 1, m)) % classes
    preds = {}
    for i in range(n):
        p = truth.copy()
        on_hard = hard[rng.random(hard.size) < rng.uniform(0.5, 0.9)]
        p[on_hard] = popular[on_hard]
        stray = rng.random(m) < 0.003
        p[stray] = (truth[stray] + 1 + rng.integers(0, classes - 1, stray.sum())) % classes
        preds[f"s{i:02d}"] = [str(v) for v in p]
    return truth, hard, popular, preds


def test_identity_on_few_wrong_answers_is_unproven_and_ranks_unflagged():
    from similarity import SimilarityOptions
    from similarity.engine import final_score

    truth, hard, popular, preds = _easy_class()
    # two honest accurate students: wrong on the same five hard ids with the popular label
    # and right everywhere else, as two good models on an easy data set can be
    acc = truth.copy()
    acc[hard[:5]] = popular[hard[:5]]
    preds["acc1"], preds["acc2"] = [str(v) for v in acc], [str(v) for v in acc]
    # a copy of a weaker student: 30 identical wrong answers, many off the hard ids
    weak = np.array([int(v) for v in preds["s04"]])
    extra = np.setdiff1d(np.arange(truth.size), hard)[:25]
    weak[extra] = (truth[extra] + 3) % 10
    preds["s04"] = [str(v) for v in weak]
    preds["copy"] = list(preds["s04"])
    model = BehaviourModel.fit(preds, [str(t) for t in truth])
    ev = IdentityEvidence(model)
    i, j = model.names.index("acc1"), model.names.index("acc2")
    c, d = model.names.index("s04"), model.names.index("copy")
    got = ev.pairs(np.array([i, c]), np.array([j, d]))
    assert got["agreement"].tolist() == [1.0, 1.0]
    # identical, but five identical wrong answers on hard ids are not unlikely for two
    # independent accurate students: unproven, no behavioural evidence
    assert got["same_wrong"][0] == 5 and got["expected"][0] > 1.5
    assert poisson_tail(5, got["expected"][0]) > IDENTITY_P
    assert got["unproven"][0] == 1.0 and got["identity"][0] == 0.0
    assert got["behaviour"][0] == 0.0
    # the copy's 30-odd identical wrong answers are evidence, though this class's dispersion
    # leaves their p-value unremarkable: identity counts
    assert got["same_wrong"][1] >= 30 and got["unproven"][1] == 0.0
    assert got["identity"][1] == 1.0 and got["behaviour"][1] >= 0.9
    # the unproven pair ranks just under the threshold, above a setting's band, never
    # flagged; the copy is flagged on behaviour alone
    o = SimilarityOptions()
    beh = {**got, "valid": np.ones(2)}
    score = final_score(np.array([0.1, 0.1]), beh, o)
    assert o.setting_share * o.threshold < score[0] < o.threshold
    assert score[1] >= o.threshold
    said = ev.describe("acc1", "acc2")
    assert "too few to tell copying" in said
    # the number that decides it is in the words: the plain tail, against IDENTITY_P
    tail = ev.identity_tail("acc1", "acc2")
    assert tail == poisson_tail(5, got["expected"][0]) > IDENTITY_P
    assert f"that many or more by chance: {tail:.2g}, above the {IDENTITY_P:g}" in said
    assert ev.identity_tail("s04", "copy") <= IDENTITY_P


def test_a_near_match_does_not_explain_an_identical_pair_it_differs_from():
    # On an easy data set an unrelated accurate model lands within one id of some standard
    # pipeline: a copy of a voting ensemble was "explained" by StandardScaler+SVC() (1 id of
    # 597 apart) and ranked among the honest users of defaults. Two students identical to
    # each other, and both off the standard model on the same id alike, agree beyond it.
    from similarity import SimilarityOptions
    from similarity.engine import final_score

    truth, hard, popular, preds = _easy_class(seed=4, m=600)
    src = truth.copy()
    src[hard[:8]] = popular[hard[:8]]  # 8 wrong answers, as an accurate model's
    std = src.copy()
    std[hard[0]] = truth[hard[0]]  # the standard model differs on one of them
    preds["ens"], preds["ens_copy"] = [str(v) for v in src], [str(v) for v in src]
    preds["svc1"], preds["svc2"] = [str(v) for v in std], [str(v) for v in std]
    model = BehaviourModel.fit(preds, [str(t) for t in truth], references={"std": list(
        map(str, std))}, explainers=["std"], near_exact=0.998)
    ev = IdentityEvidence(model)
    names = model.names
    pairs = [("ens", "ens_copy"), ("svc1", "svc2"), ("ens", "svc1")]
    got = ev.pairs(np.array([names.index(a) for a, _ in pairs]),
                   np.array([names.index(b) for _, b in pairs]))
    # the copy pair: not explained, unproven (ranked just under the threshold, unflagged)
    assert got["explained"][0] == -1 and got["unproven"][0] == 1.0
    assert got["behaviour"][0] == 0.0 and got["identity"][0] == 0.0
    # two honest users of the standard model, identical to it: explained as before; and a
    # pair that is not identical is still explained by the near match (0.2 % apart)
    assert got["explained"][1] == 0 and got["explained"][2] == 0
    assert got["unproven"][1] == got["unproven"][2] == 0.0
    o = SimilarityOptions()
    score = final_score(np.array([0.1, 0.1, 0.1]), {**got, "valid": np.ones(3)}, o,
                        settings=[False])
    assert score[1] < score[0] < o.threshold
    said = ev.describe("ens", "ens_copy")
    assert said.startswith("identical predictions on every id (8 identical wrong answers); the "
                           "standard model std gives the same on all but 1 of them")
    # the page's summary of the nearest standard model agrees with that (it said "99.83 % of
    # ids; 99.8 % would explain them" of a pair it did not explain)
    from types import SimpleNamespace

    from grader.batch.similarity import _nearest_text

    near = _nearest_text(ev, SimpleNamespace(a="ens", b="ens_copy"))
    assert "but not on the ids where they agree with each other" in near, near
    assert "would explain them" not in near


def test_the_labs_models_are_named_as_the_labs():
    from types import SimpleNamespace

    from grader.batch.similarity import _nearest_text

    truth, hard, popular, preds = _easy_class(seed=5, m=600)
    src = truth.copy()
    src[hard[:8]] = popular[hard[:8]]
    lab = src.copy()
    lab[hard[0]] = truth[hard[0]]
    preds["a"], preds["b"] = [str(v) for v in src], [str(v) for v in src]
    name = "lab:np.argsort 7-NN, Manhattan"
    model = BehaviourModel.fit(preds, [str(t) for t in truth],
                               references={name: [str(v) for v in lab]}, explainers=[name],
                               near_exact=0.998)
    near = _nearest_text(IdentityEvidence(model), SimpleNamespace(a="a", b="b"))
    assert "the nearest, the lab's np.argsort 7-NN, Manhattan, matches both" in near, near
