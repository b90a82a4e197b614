"""Students who do worse than chance do not make the classification null
(``similarity.behaviour._counted_rows``): they are right where the class is wrong, and would
make every honest pair that shares the hard ids' usual mistakes look like a copy."""

from __future__ import annotations

import numpy as np
import pytest

from similarity.behaviour import BehaviourModel
from similarity.behaviour_identity import IdentityEvidence
from similarity.behaviour_null import fit_rasch

from .test_behaviour import all_pairs, one, simulate


def junk(truth, n, *, classes, seed):
    """Students who write a good model's labels shifted by +1 or +2 (mod classes), a cheap
    way to be wrong nearly everywhere without the hidden labels (red team F4)."""
    rng = np.random.default_rng(seed)
    good = np.where(rng.random(len(truth)) < 0.9, truth, (truth + 1) % classes)
    return [(good + rng.integers(1, classes, len(truth))) % classes for _ in range(n)]


def honest_class(seed=3):
    truth, preds = simulate(9, 300, classes=3, seed=seed, theta_mean=-1.0)
    return truth, {f"h{i}": p for i, p in enumerate(preds)}


def test_fit_rows_fit_the_difficulties_alone():
    rng = np.random.default_rng(2)
    errors = (rng.random((40, 150)) < np.linspace(0.1, 0.9, 40)[:, None]).astype(np.float32)
    fit = np.arange(40) < 25
    theta, beta = fit_rasch(errors, iters=500, tol=1e-7, fit_rows=fit)
    theta_alone, beta_alone = fit_rasch(errors[fit], iters=500, tol=1e-7)
    np.testing.assert_allclose(beta, beta_alone, atol=1e-4)
    np.testing.assert_allclose(theta[fit], theta_alone, atol=1e-4)
    # the other rows get their own propensity against those difficulties
    s = 1 / (1 + np.exp(-(theta[~fit, None].astype(float) + beta[None, :])))
    np.testing.assert_allclose((s - errors[~fit]).sum(1) + 0.5 * theta[~fit], 0, atol=1e-3)


def test_students_worse_than_chance_leave_honest_pairs_alone():
    truth, honest = honest_class()
    clean = BehaviourModel.fit(honest, truth)
    r, c = np.triu_indices(len(honest), 1)
    p_clean = clean.pairs(r, c)["p_value"]
    bad = {f"z{i}": p for i, p in enumerate(junk(truth, 24, classes=3, seed=5))}
    with_junk = BehaviourModel.fit({**honest, **bad}, truth)
    assert with_junk.counted.tolist() == [True] * 9 + [False] * 24
    p_junk = with_junk.pairs(r, c)["p_value"]
    # the honest pairs' evidence is what it was without the junk (a factor of 3 at most,
    # where the junk had taken the smallest p from 0.25 to 3e-6 in the red team's class)
    assert np.abs(np.log10(p_junk) - np.log10(p_clean)).max() < 0.5
    assert with_junk.pairs(r, c)["behaviour"].max() == 0.0


@pytest.mark.parametrize("classes", [3, 10])
def test_students_guessing_at_random_leave_honest_pairs_alone(classes):
    truth, preds = simulate(9, 300, classes=classes, seed=3, theta_mean=-1.0)
    honest = {f"h{i}": p for i, p in enumerate(preds)}
    r, c = np.triu_indices(len(honest), 1)
    p_clean = BehaviourModel.fit(honest, truth).pairs(r, c)["p_value"]
    rng = np.random.default_rng(1)
    guess = {f"z{i}": rng.integers(0, classes, len(truth)) for i in range(48)}
    m = BehaviourModel.fit({**honest, **guess}, truth)
    # a quarter of them come under the chance error rate by luck: not beyond it
    assert not m.counted[len(honest):].any()
    np.testing.assert_allclose(m.pairs(r, c)["p_value"], p_clean, rtol=1e-6)


def test_a_copy_among_students_worse_than_chance_is_still_evidence():
    truth, honest = honest_class()
    bad = junk(truth, 12, classes=3, seed=6)
    preds = {**honest, **{f"z{i}": p for i, p in enumerate(bad)}, "zcopy": bad[0].copy()}
    m = BehaviourModel.fit(preds, truth)
    o = one(m, "z0", "zcopy")
    assert o["same_wrong"] == o["both_wrong"] > 250
    # The null is the counted class's: its confusions are more alike than the junk's random
    # labels, so the answer-copying p is weaker for a junk pair (conservative) but still the
    # class's smallest by far; identical predictions are evidence of their own.
    p = all_pairs(m)["p_value"]
    assert o["p_value"] == p.min() < 1e-3 < np.sort(p)[1] / 100
    ident = IdentityEvidence(m)
    assert one(ident, "z0", "zcopy")["behaviour"] >= 0.9
    # ... and two honest students' shared popular mistakes are not
    assert max(one(ident, a, b)["behaviour"] for a in honest for b in honest if a < b) == 0.0


def test_block_and_pairs_agree_with_rows_not_counted():
    truth, honest = honest_class(seed=8)
    bad = junk(truth, 6, classes=3, seed=1)
    preds = {**honest, **{f"z{i}": p for i, p in enumerate(bad)}}
    preds["z5"] = preds["z4"].copy()  # two uncounted rows with the same labels
    preds["z3"] = np.where(np.arange(300) < 40, preds["h0"], preds["z3"])  # some shared
    m = BehaviourModel.fit(preds, truth)
    assert not m.counted[9:].any()
    n = len(m.names)
    blk = m.block(np.arange(n), np.arange(n))
    lst = all_pairs(m)
    r, c = np.triu_indices(n, 1)
    for key in ("same_wrong", "both_wrong", "expected", "p_value"):
        np.testing.assert_allclose(blk[key][r, c], lst[key], rtol=2e-4, atol=1e-6, err_msg=key)


def test_popularity_on_the_pair_page_leaves_out_only_counted_answers():
    truth = np.tile([0, 0, 0, 1, 1, 2, 2, 2], 8)
    wrong_once = truth.copy()
    wrong_once[0] = 1
    good = {f"g{i}": wrong_once if i < 2 else truth.copy() for i in range(4)}
    bad = {"z": (truth + 1) % 3}  # wrong on every id: not counted
    m = BehaviourModel.fit({**good, **bad}, truth, calibrate=False)
    assert m.counted.tolist() == [True] * 4 + [False]
    row = m.shared_wrong("g0", "z")[0]
    assert row["same"] and row["id"] == 0
    # on id 0 the counts hold g0's and g1's label 1; leaving g0 out leaves g1's
    a = m.alpha
    assert row["popularity"] == pytest.approx((1 + a) / (1 + 2 * a))


def test_everybody_counts_where_too_few_beat_chance():
    truth = np.array([0, 1, 2, 0, 1, 2, 0, 1, 2, 0])
    preds = {"a": np.zeros(10, int), "b": np.zeros(10, int), "c": truth.copy(),
             "d": np.full(10, 1)}
    m = BehaviourModel.fit(preds, truth)
    assert m.counted.all()


def test_weak_honest_models_at_the_chance_rate_still_count():
    # 10 % positives, the hard ids: 20 weak models err about as often as predicting "0"
    # would, but where the good ones err (mostly on the positives), not at random
    rng = np.random.default_rng(0)
    k = 1000
    truth = (rng.random(k) < 0.1).astype(int)
    difficulty = rng.normal(0, 1.5, k) + np.where(truth == 1, 0.5, -5.0)
    preds = {}
    for s in range(30):
        theta = rng.normal(-1.5 if s < 10 else 0.8, 0.3)
        wrong = rng.random(k) < 1 / (1 + np.exp(-(theta + difficulty)))
        preds[f"s{s}"] = np.where(wrong, 1 - truth, truth)
    m = BehaviourModel.fit(preds, truth)
    chance = 1 - np.bincount(truth).max() / k
    assert sum(m.error_rate >= chance - 0.03) >= 15  # most are no better than chance ...
    assert m.counted.all()  # ... but their errors are the class's, not noise


def test_explain_only_references_explain_but_do_not_make_the_null():
    truth, honest = honest_class()
    # a family of near-identical standard settings, one of which an honest pair reproduces
    family = {f"gd{i}": honest["h0"].copy() for i in range(40)}
    preds = {**honest, "twin": honest["h0"].copy()}
    plain = BehaviourModel.fit(preds, truth)
    counted = BehaviourModel.fit(preds, truth, references=family, explainers=["gd0"])
    only = BehaviourModel.fit(preds, truth, references=family, explainers=["gd0"],
                              explain_only=list(family))
    r, c = np.triu_indices(len(preds), 1)
    # counted, forty copies of one model move every pair's null; explain-only, none
    assert not np.allclose(counted.pairs(r, c)["expected"], plain.pairs(r, c)["expected"])
    np.testing.assert_allclose(only.pairs(r, c)["expected"], plain.pairs(r, c)["expected"])
    # ... and they still explain the pair that reproduces them
    assert one(only, "h0", "twin")["explained"] == 0
