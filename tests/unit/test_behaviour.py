"""The behavioural-evidence statistic (``similarity.behaviour``): hand-computed cases, the null
calibration on simulated independent students, copies, explained agreement and the trivial
classes."""

from __future__ import annotations

import math

import numpy as np
import pytest

from similarity.behaviour import KEYS, BehaviourInputError, BehaviourModel
from similarity.behaviour_null import binomial_tail, fit_rasch, poisson_tail

FLAG = 0.45  # the lead's behaviour-alone flag


def simulate(n, k, *, classes=10, seed=0, theta_mean=-1.5, conc=0.3):
    """Independent students: logistic error propensity x id difficulty; each id has its own
    popular confusions (wrong labels from a Dirichlet(conc) over the other classes)."""
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, classes, k)
    beta = rng.normal(0.0, 1.5, k)
    theta = rng.normal(theta_mean, 0.8, n)
    cum = rng.dirichlet(np.full(classes - 1, conc), k).cumsum(1)
    wrong = rng.random((n, k)) < 1 / (1 + np.exp(-(theta[:, None] + beta[None, :])))
    off = np.minimum((rng.random((n, k))[:, :, None] > cum[None]).sum(2), classes - 2)
    return truth, np.where(wrong, (truth[None, :] + 1 + off) % classes, truth[None, :])


def fit(preds, truth, **kw):
    return BehaviourModel.fit({f"s{i}": p for i, p in enumerate(preds)}, truth, **kw)


def one(model, a, b):
    out = model.pairs([model.names.index(a)], [model.names.index(b)])
    return {key: v[0] for key, v in out.items()}


def all_pairs(model):
    n = len(model.names)
    r, c = np.triu_indices(n, 1)
    return model.pairs(r, c)


# ----------------------------------------------------------------- hand-computed cases
def test_expected_and_p_value_by_hand():
    truth = [0, 0, 0, 0, 0, 0]
    preds = {"A": [1, 1, 2, 0, 0, 0],
             "B": [1, 1, 0, 0, 0, 0],
             "C": [2, 0, 0, 2, 0, 0],
             "D": [0, 0, 0, 2, 0, 0],
             "E": [0, 0, 0, 2, 0, 0]}
    m = BehaviourModel.fit(preds, truth, calibrate=False)
    # Labels {0, 1, 2}: L = 2 wrong classes. Wrong answers per id: id 0 {1: 2, 2: 1},
    # id 1 {1: 2}, id 2 {2: 1}, id 3 {2: 3}. Agreeing pairs of wrong answers on one id:
    # (2 + 2 + 0 + 6) / (6 + 2 + 0 + 6) = 5/7 = (alpha + 1) / (2 alpha + 1) -> alpha = 2/3.
    alpha = 2 / 3
    big_a = 2 * alpha
    assert m.alpha == pytest.approx(alpha)

    def agree(counts, n):  # sum_w (c + alpha)(c + alpha + 1) / ((n + A)(n + A + 1))
        return sum((c + alpha) * (c + alpha + 1) for c in counts) / ((n + big_a) * (n + big_a + 1))

    o = one(m, "A", "B")
    assert (o["both_wrong"], o["same_wrong"]) == (2, 2)
    # Leaving A and B out: id 0 keeps C's 2 only; ids 1, 2, 4, 5 keep nothing; id 3 {2: 3}.
    m_prime = [agree([0, 1], 1), agree([0, 0], 0), agree([0, 0], 0), agree([0, 3], 3),
               agree([0, 0], 0), agree([0, 0], 0)]
    assert m_prime[0] == pytest.approx(5 / 7) and m_prime[3] == pytest.approx(41 / 52)
    assert o["expected_given_both"] == pytest.approx(m_prime[0] + m_prime[1], rel=1e-6)
    p = 1 / (1 + np.exp(-(m.theta[:, None] + m.beta[None, :])))
    lam = sum(p[0, k] * p[1, k] * m_prime[k] for k in range(6))
    assert o["expected"] == pytest.approx(lam, rel=1e-5)
    # P(Poisson(lam) >= 2) = 1 - e^-lam (1 + lam); the guard only acts below 1e-3.
    assert o["p_value"] == pytest.approx(1 - math.exp(-lam) * (1 + lam), rel=1e-6)
    assert o["behaviour"] == 0.0
    # C and D: both wrong on id 3 with label 2; left out, E's 2 remains (and C's id 0 goes).
    o = one(m, "C", "D")
    assert (o["both_wrong"], o["same_wrong"]) == (1, 1)
    assert o["expected_given_both"] == pytest.approx(agree([0, 1], 1), rel=1e-6)
    lam = sum(p[2, k] * p[3, k] * mk for k, mk in
              enumerate([agree([2, 0], 2), agree([2, 0], 2), agree([0, 1], 1), agree([0, 1], 1),
                         agree([0, 0], 0), agree([0, 0], 0)]))
    assert o["expected"] == pytest.approx(lam, rel=1e-5)


def test_rasch_fit_solves_its_score_equations():
    rng = np.random.default_rng(1)
    errors = (rng.random((30, 200)) < np.linspace(0.05, 0.6, 30)[:, None]).astype(np.float32)
    errors[:, :5] = 0  # ids nobody gets wrong
    errors[:, 5:8] = 1  # ids everybody gets wrong
    theta, beta = fit_rasch(errors, iters=500, tol=1e-7)
    assert np.isfinite(theta).all() and np.isfinite(beta).all()
    s = 1 / (1 + np.exp(-(theta[:, None].astype(float) + beta[None, :])))
    # Penalised likelihood: sum_k (s - E) + 0.5 theta = 0, and likewise for beta.
    np.testing.assert_allclose((s - errors).sum(1) + 0.5 * theta, 0, atol=1e-3)
    np.testing.assert_allclose((s - errors).sum(0) + 0.5 * beta, 0, atol=1e-3)
    # Row and column totals are sufficient: theta and beta are monotone in them.
    assert np.all(np.diff(theta[np.argsort(errors.sum(1), kind="stable")]) >= -1e-4)
    assert np.all(np.diff(beta[np.argsort(errors.sum(0), kind="stable")]) >= -1e-4)
    assert beta[:5].max() < beta[8:].min() < beta[8:].max() < beta[5:8].min()


def test_tails_against_explicit_sums():
    for x, lam in [(1, 0.5), (3, 1.2), (7, 2.0), (20, 4.0)]:
        exact = 1 - sum(math.exp(-lam) * lam ** j / math.factorial(j) for j in range(x))
        assert poisson_tail(np.array([x]), np.array([lam]))[0] == pytest.approx(exact, rel=1e-9)
    for x, n, mean in [(5, 8, 2.0), (9, 10, 3.0), (12, 12, 6.0)]:
        q = mean / n
        exact = sum(math.comb(n, j) * q ** j * (1 - q) ** (n - j) for j in range(x, n + 1))
        got = binomial_tail(np.array([x]), np.array([n]), np.array([mean]))[0]
        assert got == pytest.approx(exact, rel=1e-9)
    assert binomial_tail(np.array([2]), np.array([10]), np.array([3.0]))[0] == 1.0  # below mean


def test_block_and_pairs_agree():
    truth, preds = simulate(40, 300, seed=4)
    preds = preds.astype(object)
    preds[3, :7] = None
    preds[5, 2:9] = None
    preds[1] = preds[0]
    m = fit(list(preds), truth)
    n = len(m.names)
    blk = m.block(np.arange(n), np.arange(n))
    r, c = np.triu_indices(n, 1)
    lst = m.pairs(r, c)
    assert set(blk) == set(lst) == set(KEYS)
    for key in KEYS:
        got = blk[key][r, c]
        if key == "expected_given_both":  # a block fills it only where the guard needs it
            ok = ~np.isnan(got)
            assert ok.sum() >= 1
            np.testing.assert_allclose(got[ok], lst[key][ok], rtol=1e-4)
        else:
            np.testing.assert_allclose(got, lst[key], rtol=1e-4, atol=1e-6)
    sub = m.block(np.array([5, 1]), np.array([0, 7, 3]))
    np.testing.assert_allclose(sub["expected"], blk["expected"][np.ix_([5, 1], [0, 7, 3])],
                               rtol=1e-5)


# ----------------------------------------------------------------- the null and copies
def test_null_calibration_on_independent_students():
    flagged, small, total = 0, 0, 0
    for seed in (11, 12):
        truth, preds = simulate(80, 1500, seed=seed)
        out = all_pairs(fit(list(preds), truth))
        flagged += int((out["behaviour"] >= FLAG).sum())
        small += int((out["p_value"] < 0.01).sum())
        total += len(out["p_value"])
    assert total == 2 * 3160
    assert flagged <= total / 1000
    assert small / total <= 0.015


def test_copy_and_disguised_copy_are_flagged():
    truth, preds = simulate(60, 1500, seed=5)
    rng = np.random.default_rng(0)
    preds = preds.copy()
    preds[1] = preds[0]
    change = rng.choice(1500, 30, replace=False)
    preds[1, change] = rng.integers(0, 10, 30)
    preds[3] = preds[2]  # disguise: 10 % of the right answers flipped to other labels
    right = np.nonzero(preds[2] == truth)[0]
    flip = rng.choice(right, len(right) // 10, replace=False)
    preds[3, flip] = (truth[flip] + rng.integers(1, 10, len(flip))) % 10
    m = fit(list(preds), truth)
    for a, b in (("s0", "s1"), ("s2", "s3")):
        o = one(m, a, b)
        assert o["p_value"] < 1e-12 and o["behaviour"] == 1.0
    out = all_pairs(m)
    assert int((out["behaviour"] >= FLAG).sum()) == 2


def test_weak_students_sharing_the_popular_wrong_label_are_not_flagged():
    rng = np.random.default_rng(7)
    n, k = 40, 400
    truth = rng.integers(0, 5, k)
    hard = np.arange(40)
    popular = (truth + 1) % 5
    weak = rng.random(n) < 0.5
    preds = np.where(rng.random((n, k)) < 0.04, (truth + rng.integers(1, 5, (n, k))) % 5, truth)
    fail = rng.random((n, len(hard))) < np.where(weak, 0.9, 0.3)[:, None]
    label = np.where(rng.random((n, len(hard))) < 0.9, popular[hard],
                     (truth[hard] + rng.integers(1, 5, (n, len(hard)))) % 5)
    preds[:, hard] = np.where(fail, label, truth[hard])
    m = fit(list(preds), truth)
    out = all_pairs(m)
    w = np.nonzero(weak)[0]
    o = one(m, f"s{w[0]}", f"s{w[1]}")
    assert o["same_wrong"] >= 20  # many identical wrong answers ...
    assert o["behaviour"] == 0.0  # ... but the popular ones on the hard ids
    assert int((out["behaviour"] >= FLAG).sum()) == 0


def test_leave_pair_out_catches_two_copiers_in_a_class_of_ten():
    rng = np.random.default_rng(3)
    k = 400
    truth = rng.integers(0, 10, k)
    errs = rng.random((10, k)) < 0.15  # honest errors, wrong labels spread over the classes
    preds = np.where(errs, (truth + rng.integers(1, 10, (10, k))) % 10, truth)
    ids = rng.choice(np.nonzero(~errs[:2].any(0))[0], 15, replace=False)
    for t in ids:  # a wrong label nobody else in the class gives on that id
        taken = set(preds[2:, t]) | {truth[t]}
        preds[0, t] = preds[1, t] = next(w for w in range(10) if w not in taken)
    m = fit(list(preds), truth)
    o = one(m, "s0", "s1")
    assert o["same_wrong"] >= 15
    assert o["behaviour"] >= FLAG
    # Counting the copiers' own answers, their label would hold 2 of the id's few wrong
    # answers; left out, it holds none: its popularity is the pseudo-count's share.
    rare = [s for s in m.shared_wrong("s0", "s1") if s["id"] in set(ids.tolist())]
    assert len(rare) == 15 and all(s["same"] and s["popularity"] < 0.2 for s in rare)
    others = all_pairs(m)
    assert int((others["behaviour"] >= FLAG).sum()) == 1


# ----------------------------------------------------------------- explained agreement
def test_two_students_equal_to_a_standard_model_are_explained():
    truth, preds = simulate(30, 800, seed=9)
    svc = preds[29].copy()
    preds = preds[:29].copy()
    preds[0] = svc
    preds[1] = svc
    rng = np.random.default_rng(2)
    near = svc.copy()  # a copy of a student whose model merely resembles SVC (90 %)
    idx = rng.choice(800, 80, replace=False)
    near[idx] = (truth[idx] + 1) % 10
    preds[2] = near
    preds[3] = near
    refs = {"course:knn": preds[5], "sklearn:SVC()": svc}
    m = fit(list(preds), truth, references=refs, explainers=["sklearn:SVC()"])
    assert m.explainer_names == ["sklearn:SVC()"]
    o = one(m, "s0", "s1")
    assert o["explained"] == 0 and o["behaviour"] == 0.0
    assert o["p_value"] < 1e-12  # the evidence is there; the standard model explains it
    assert m.describe("s0", "s1") == ("agreement explained by sklearn:SVC(): both match its "
                                      "predictions on 100.0 % of ids, whatever model each "
                                      "program fits")
    o = one(m, "s2", "s3")
    assert o["explained"] == -1 and o["behaviour"] == 1.0
    blk = m.block(np.arange(4), np.arange(4))
    assert blk["explained"][0, 1] == 0 and blk["explained"][0, 2] == -1


def test_a_setting_explains_agreement_and_says_so():
    truth, preds = simulate(12, 600, seed=4)
    knn3 = preds[11]
    preds = [knn3, knn3, *preds[2:11]]
    name = "sklearn:KNeighborsClassifier(n_neighbors=3)"
    m = fit(preds, truth, references={name: knn3, "sklearn:SVC()": preds[5]},
            explainers=[name, "sklearn:SVC()"], settings=[name])
    assert m.explainer_settings == [True, False]
    o = one(m, "s0", "s1")
    assert o["explained"] == 0 and o["behaviour"] == 0.0
    assert m.describe("s0", "s1").startswith(f"agreement explained by {name}: both match its "
                                             "predictions on 100.0 % of ids (a setting")
    with pytest.raises(BehaviourInputError, match=r"setting\(s\) \['knn'\] are not among "
                                                  r"the explainers"):
        fit(preds, truth, references={"knn": knn3}, settings=["knn"])


def test_all_identical_and_equal_to_a_reference_are_explained():
    truth, preds = simulate(2, 500, seed=1)
    m = fit([preds[0]] * 5, truth, references={"sklearn:GaussianNB()": preds[0]},
            explainers=["sklearn:GaussianNB()"])
    blk = m.block(np.arange(5), np.arange(5))
    off = ~np.eye(5, dtype=bool)
    assert (blk["explained"][off] == 0).all() and (blk["behaviour"] == 0).all()


# ----------------------------------------------------------------- trivial classes, input
def test_class_of_one_and_empty_blocks():
    m = BehaviourModel.fit({"solo": [1, 2, 3]}, [1, 2, 2])
    assert m.names == ["solo"] and m.n_ids == 3
    for ra, rb in (([], []), ([0], []), ([], [0])):
        out = m.block(np.array(ra, int), np.array(rb, int))
        assert set(out) == set(KEYS)
        assert all(v.shape == (len(ra), len(rb)) for v in out.values())
    assert all(v.shape == (0,) for v in m.pairs([], []).values())
    empty = BehaviourModel.fit({}, [1, 2])
    assert empty.names == [] and empty.block(np.arange(0), np.arange(0))["p_value"].shape == (0, 0)


@pytest.mark.parametrize("n", [2, 3, 6, 40])
def test_constant_predictions_are_not_flagged(n):
    truth = np.random.default_rng(n).integers(0, 10, 1000)
    m = fit([np.full(1000, 3)] * n, truth)
    blk = m.block(np.arange(n), np.arange(n))
    assert (blk["behaviour"] == 0).all()
    off = ~np.eye(n, dtype=bool)
    assert (blk["same_wrong"][off] == (truth != 3).sum()).all()


def test_ids_nobody_gets_wrong_and_a_perfect_class():
    truth = list(range(10)) * 20
    m = fit([truth] * 4, truth)
    o = one(m, "s0", "s1")
    assert (o["both_wrong"], o["same_wrong"], o["p_value"], o["behaviour"]) == (0, 0, 1.0, 0.0)
    assert o["expected"] < 0.5


def test_missing_predictions_count_as_wrong_but_never_match():
    truth = ["cat", "dog", "cat", "bird", "dog", "cat"]
    preds = {"a": [None, "", "dog", "bird", "dog", "cat"],
             "b": [None, None, "dog", "bird", "dog", float("nan")],
             "c": ["cat", "dog", "cat", "bird", "dog", "cat"]}
    m = BehaviourModel.fit(preds, truth)
    o = one(m, "a", "b")
    assert o["both_wrong"] == 3  # ids 0 and 1 (missing) and 2 ("dog")
    assert o["same_wrong"] == 1  # only the real label matches
    assert m.error_rate[0] == pytest.approx(3 / 6) and m.error_rate[1] == pytest.approx(4 / 6)
    rows = m.shared_wrong("a", "b")
    assert rows[0] == {"id": 2, "truth": "cat", "pred_a": "dog", "pred_b": "dog", "same": True,
                       "popularity": rows[0]["popularity"]}
    assert {r["id"] for r in rows} == {0, 1, 2} and rows[1]["pred_a"] is None


def test_labels_as_numbers_and_strings_are_one_label():
    truth = [1, 2, 3, 1]
    m = BehaviourModel.fit({"a": ["1", " 2", 2.0, "3"], "b": [1.0, 2, "2", "3.0"]}, truth,
                           ids=["t1", "t2", "t3", "t4"])
    o = one(m, "a", "b")
    assert (o["both_wrong"], o["same_wrong"]) == (2, 2)
    assert [r["id"] for r in m.shared_wrong("a", "b")] == ["t3", "t4"]


def test_bad_input_names_the_student_and_the_fix():
    with pytest.raises(BehaviourInputError, match=r"student 'bob': 2 predictions for 3 test ids"):
        BehaviourModel.fit({"ann": [1, 2, 3], "bob": [1, 2]}, [1, 2, 3])
    with pytest.raises(BehaviourInputError, match=r"hidden label of id 'x2' is missing"):
        BehaviourModel.fit({"ann": [1, 2, 3]}, [1, None, 3], ids=["x1", "x2", "x3"])
    with pytest.raises(BehaviourInputError, match=r"not among the references"):
        BehaviourModel.fit({"ann": [1, 2, 3]}, [1, 2, 3], explainers=["sklearn:SVC()"])
    with pytest.raises(BehaviourInputError, match=r"student 'ann': prediction 'abc' at "
                                                   r"position 1 is not a number"):
        BehaviourModel.fit({"ann": [1.0, "abc", 3]}, [1, 2, 3], task="regression")
    with pytest.raises(BehaviourInputError, match=r"unknown task"):
        BehaviourModel.fit({"ann": [1]}, [1], task="ranking")


def test_describe_says_what_the_numbers_mean():
    truth, preds = simulate(30, 600, seed=8)
    preds = preds.copy()
    preds[1] = preds[0]
    m = fit(list(preds), truth)
    o = one(m, "s0", "s1")
    text = m.describe("s0", "s1")
    assert text.startswith(f"{o['same_wrong']} identical wrong answers out of "
                           f"{o['both_wrong']} ids both got wrong; expected "
                           f"{o['expected']:.1f} for two independent students")
    assert f"p = {o['p_value']:.2g}" in text
    with pytest.raises(KeyError, match="no student 'zed'"):
        m.describe("s0", "zed")


def test_binary_task_copy_is_flagged_and_honest_pairs_are_not():
    truth, preds = simulate(50, 2000, classes=2, seed=6)
    preds = preds.copy()
    preds[1] = preds[0]
    m = fit(list(preds), truth)
    out = all_pairs(m)
    assert one(m, "s0", "s1")["behaviour"] == 1.0
    assert int((out["behaviour"] >= FLAG).sum()) == 1


# ----------------------------------------------------------------- regression
def regression_class(n=30, k=500, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=k)
    truth = 3 * x + rng.normal(scale=0.5, size=k)
    shared = 0.8 * np.sin(3 * x)  # what every model misses: the class explains it
    preds = truth + shared + rng.normal(scale=rng.uniform(0.3, 1.0, (n, 1)), size=(n, k))
    return truth, preds, rng


def test_regression_copied_residuals_are_flagged_independent_are_not():
    truth, preds, rng = regression_class()
    preds[1] = np.round(preds[0], 3)  # a copy, its predictions written to 3 decimals
    m = fit(list(preds), truth, task="regression")
    out = all_pairs(m)
    o = one(m, "s0", "s1")
    assert o["behaviour"] >= FLAG and o["correlation"] > 0.9
    assert (o["both_wrong"], o["same_wrong"], o["expected"]) == (0, 0, 0.0)
    assert int((out["behaviour"] >= FLAG).sum()) == 1
    assert (out["p_value"] < 0.01).mean() <= 0.02
    assert "residuals correlate" in m.describe("s0", "s1")
    top = m.shared_wrong("s0", "s1", limit=5)
    assert len(top) == 5 and all(r["residual_a"] * r["residual_b"] > 0 for r in top)


def test_regression_models_of_one_kind_correlate_but_only_near_identity_counts():
    # Two honest models of one family (the second's slope a little shrunk, as a stronger
    # ridge penalty does) share their misfit: residuals correlate at 0.99 and beyond, p far
    # under 1e-12, yet their predictions differ by a few % of the class's RMSE, as no copy's
    # do. A copy that nudges its source's predictions by 0.2 % of the RMSE still counts.
    truth, preds, rng = regression_class(seed=4)
    x = (truth - truth.mean()) / truth.std()
    preds[3] = preds[2] - 0.05 * x  # one kind: the difference is smooth, not noise
    preds[5] = preds[4] + rng.normal(scale=1e-3, size=len(truth))
    m = fit(list(preds), truth, task="regression")
    kind, copy = one(m, "s2", "s3"), one(m, "s4", "s5")
    assert kind["correlation"] > 0.99 and kind["p_value"] < 1e-12
    assert kind["behaviour"] == 0.0
    assert "as two honest models of one kind do" in m.describe("s2", "s3")
    assert copy["behaviour"] >= FLAG
    assert int((all_pairs(m)["behaviour"] >= FLAG).sum()) == 1


def test_regression_words_say_which_band_the_distance_is_in_and_when_residuals_do_not_correlate():
    # a copy plus noise of 0.5 % of the RMSE: nearer than honest models of one kind, not as
    # near as a copy; it read "as two honest models of one kind do", and a pair with r < 0
    # "correlate (r = -0.35) beyond what the class shares"
    truth, preds, rng = regression_class(seed=5)
    rmse = float(np.median(np.sqrt(((preds - truth) ** 2).mean(axis=1))))
    preds[1] = preds[0] + rng.normal(scale=0.004 * rmse, size=len(truth))
    preds[3] = 2 * truth - preds[2]  # residuals the mirror image of s2's: r = -1
    m = fit(list(preds), truth, task="regression")
    words = m.describe("s0", "s1")
    assert "nearer than two honest models of one kind (0.01 or more), not as near as a copy " \
           "(up to 0.001), so this counts in part" in words
    assert 0 < one(m, "s0", "s1")["behaviour"] < 1
    assert m.describe("s2", "s3").startswith("residuals do not correlate beyond what the class "
                                             "shares (r = -")


def test_the_standard_model_nearest_to_a_pair_is_named_with_its_share():
    rng = np.random.default_rng(1)
    truth = rng.integers(0, 3, 1000)
    model_out = np.where(rng.random(1000) < 0.8, truth, (truth + 1) % 3)
    near = model_out.copy()
    near[:3] = (near[:3] + 1) % 3  # 3 of 1,000 ids from the standard model: not explained
    others = [np.where(rng.random(1000) < 0.7, truth, rng.integers(0, 3, 1000)) for _ in range(8)]
    m = fit([near, near.copy(), *others], truth, references={"sklearn:SVC()": model_out},
            explainers=["sklearn:SVC()"], near_exact=0.998)
    name, share = m.nearest_explainer("s0", "s1")
    assert name == "sklearn:SVC()" and share == pytest.approx(0.997)
    assert one(m, "s0", "s1")["explained"] == -1


def test_regression_a_copy_written_with_fewer_decimals_is_no_farther_from_its_source():
    # a copy of s0 written in coarser steps (a probability column to two decimals was 0.008
    # of the class's RMSE away: past full credit); with the step it was written to, the
    # rounding noise is taken out and the copy is at distance 0, while honest pairs keep
    # theirs
    truth, preds, rng = regression_class(seed=5)  # the class's RMSE: about 1
    preds[1] = np.round(preds[0] * 50) / 50  # written in steps of 0.02
    preds[3] = np.round((preds[2] + rng.normal(scale=0.05, size=len(truth))) * 50) / 50
    plain = fit(list(preds), truth, task="regression")
    aware = fit(list(preds), truth, task="regression", rounding={"s1": 0.02, "s3": 0.02})
    before, after = one(plain, "s0", "s1"), one(aware, "s0", "s1")
    assert before["distance"] > 4e-3 and after["distance"] == 0.0
    assert after["behaviour"] >= FLAG > before["behaviour"]
    honest_before, honest_after = one(plain, "s2", "s3"), one(aware, "s2", "s3")
    assert honest_after["distance"] == pytest.approx(honest_before["distance"], rel=0.01)
    assert honest_after["behaviour"] == 0.0
    assert int((all_pairs(aware)["behaviour"] >= FLAG).sum()) == 1
    # a step that is no small noise beside the class's RMSE (whole numbers on a 1-5 scale)
    # is not taken out: two honest students rounding so would come out as copies
    coarse = fit(list(preds), truth, task="regression", rounding={"s1": 1.0, "s3": 1.0})
    assert one(coarse, "s0", "s1")["distance"] == before["distance"]


def test_rounding_steps_are_read_from_the_written_text():
    import pandas as pd

    from grader.batch.similarity import rounding_step

    assert rounding_step(pd.Series(["0.25", "0.5", "0.13"])) == pytest.approx(0.01)
    assert rounding_step(pd.Series(["3", "12", "-4"])) == 1.0
    assert rounding_step(pd.Series(["0.1234567891234", "0.5"])) == 0.0  # written in full
    assert rounding_step(pd.Series(["1e-05", "0.5"])) == 0.0
    assert rounding_step(pd.Series(["0.125", None, "0.5"])) == pytest.approx(0.001)


def test_regression_agreement_with_a_reference_is_explained():
    truth, preds, _ = regression_class(seed=3)
    ref = preds[0].copy()
    preds[1] = ref + 1e-9
    preds[0] = ref
    m = fit(list(preds), truth, task="regression", references={"sklearn:Ridge()": ref},
            explainers=["sklearn:Ridge()"])
    o = one(m, "s0", "s1")
    assert o["explained"] == 0 and o["behaviour"] == 0.0
    assert one(m, "s0", "s2")["explained"] == -1


def _linear_class(seed=4, n_train=600, k=400):
    """A regression class where several students fit linear models: OLS (= the standard
    LinearRegression), a hand-written ridge (lam = 10) and a copy of that ridge written with
    four decimals; the rest are noisy non-linear models."""
    rng = np.random.default_rng(seed)
    w = rng.normal(size=6)

    def sample(m):
        x = rng.normal(size=(m, 6))
        return x, x @ w + 0.8 * np.sin(2 * x[:, 0]) + rng.normal(scale=0.5, size=m)

    xtr, ytr = sample(n_train)
    xte, truth = sample(k)
    a = np.c_[np.ones(n_train), xtr]
    b = np.c_[np.ones(k), xte]
    ols = b @ np.linalg.lstsq(a, ytr, rcond=None)[0]
    ridge = b @ np.linalg.solve(a.T @ a + 10 * np.eye(7), a.T @ ytr)
    others = truth + 0.8 * np.sin(2 * xte[:, :1]).T + rng.normal(
        scale=rng.uniform(0.4, 1.0, (8, 1)), size=(8, k))
    preds = [ols, ridge, np.round(ridge, 4), *others]
    return truth, preds, {"sklearn:LinearRegression()": ols}


def test_regression_honest_linear_models_are_explained_a_copy_is_not():
    truth, preds, refs = _linear_class()
    m = fit(preds, truth, task="regression", references=refs, explainers=list(refs),
            near_exact=0.998)
    ols_ridge = one(m, "s0", "s1")
    # an honest ridge and an honest OLS share the linear misfit (residuals correlate at
    # 0.999+): both lie near LinearRegression() and no closer to each other than that
    assert ols_ridge["correlation"] > 0.99
    assert ols_ridge["explained"] == 0 and ols_ridge["behaviour"] == 0.0
    assert m.describe("s0", "s1").startswith(
        "agreement explained by sklearn:LinearRegression(): both lie near its predictions")
    # the ridge's copy, rounded to four decimals, is far closer to its source than either is
    # to LinearRegression(): evidence, not explained
    copy = one(m, "s1", "s2")
    assert copy["explained"] == -1 and copy["behaviour"] >= FLAG
    assert one(m, "s0", "s2")["explained"] == 0
    out = all_pairs(m)
    assert int((out["behaviour"] >= FLAG).sum()) == 1
    # the same verdicts from block() and pairs()
    blk = m.block(np.arange(3), np.arange(3))
    assert blk["explained"][0, 1] == 0 and blk["explained"][1, 2] == -1


def _decoys(truth, rng, n, regression=False):
    """Standard models near the truth with errors of their own: no student matches them."""
    out = {}
    for d in range(n):
        if regression:
            out[f"sklearn:Decoy{d}()"] = truth + rng.normal(scale=0.7, size=truth.shape)
            continue
        p = truth.copy()
        w = rng.random(truth.size) < 0.12
        p[w] = (p[w] + 1 + d % 9) % 10
        out[f"sklearn:Decoy{d}()"] = p
    return out


@pytest.mark.parametrize("task", ["classification", "regression"])
def test_explainers_nobody_matches_are_skipped_without_changing_a_verdict(task, monkeypatch):
    # A class fits a hundred standard models and most match no student: the all-pairs blocks
    # loop over the live ones only (``_live_explainers``). Every pair's explainer is the one the
    # loop over all of them finds.
    rng = np.random.default_rng(3)
    if task == "classification":
        truth, preds = simulate(20, 600, seed=11)
        match = preds[19].copy()
        preds = [match, match, *preds[2:19]]
        refs = {**_decoys(truth, rng, 40), "sklearn:Alone()": preds[7],
                "sklearn:SVC()": match}
        m = fit(preds, truth, references=refs, explainers=list(refs))
    else:
        truth, preds, refs = _linear_class()
        refs = {**_decoys(truth, rng, 40, regression=True), **refs}
        m = fit(preds, truth, task="regression", references=refs, explainers=list(refs),
                near_exact=0.998)
    live = m._live_explainers()
    assert len(live[0]) + len(live[1]) <= 3 < len(refs)
    rows = np.arange(len(preds))
    got = m.block(rows, rows)["explained"]
    every = np.arange(len(refs))
    monkeypatch.setattr(m, "_live", (every, every))
    np.testing.assert_array_equal(got, m.block(rows, rows)["explained"])
    named = np.array(m.explainer_names + [""])[got]
    expected = "sklearn:SVC()" if task == "classification" else "sklearn:LinearRegression()"
    assert named[0, 1] == named[1, 0] == expected


def test_shared_errors_shown_are_real_errors():
    # probabilities against 0/1 truths: only ids both put on the wrong side of 0.5
    truth = [0, 0, 0, 1, 1, 1, 0, 1]
    a = [0.9, 0.8, 0.01, 0.2, 0.95, 0.99, 0.3, 0.4]
    b = [0.7, 0.9, 0.02, 0.1, 0.97, 0.98, 0.6, 0.45]
    m = BehaviourModel.fit({"a": a, "b": b, "c": [0.5] * 8}, truth, task="regression")
    assert sorted(r["id"] for r in m.shared_wrong("a", "b")) == [0, 1, 3, 7]
    # values: only ids where each is off by more than their own median absolute error
    truth = np.arange(10.0)
    a = truth + np.array([3, 0.1, -0.1, 0.2, 2.5, -3, 0.1, -0.2, 0.1, 0.3])
    b = truth + np.array([2, 0.2, -0.1, 0.1, 0.1, -4, 0.2, -0.1, 0.3, 0.2])  # 4: small
    m = BehaviourModel.fit({"a": list(a), "b": list(b), "c": list(truth + 1)}, list(truth),
                           task="regression")
    assert sorted(r["id"] for r in m.shared_wrong("a", "b")) == [0, 5]


def test_junk_classmates_do_not_make_honest_regression_pairs_near():
    # Distances are in units of the class's median RMSE. Twelve students writing noise of
    # spread 10,000 (no knowledge of anyone's output needed) made that unit enormous, every
    # pair "near", and two honest models of one kind (3 % of the RMSE apart) flagged at 1.0
    # (red team). Students worse than predicting the mean say nothing of a model's error.
    truth, preds, rng = regression_class(n=8, k=400, seed=3)
    preds = [list(p) for p in preds]
    preds[1] = list(np.array(preds[0]) + rng.normal(0, 0.03 * 0.6, 400))  # near, honest
    preds.append(list(preds[2]))  # and a copy of student 2
    junk = [list(rng.normal(0, 10_000, 400)) for _ in range(12)]
    for classmates in ([], junk):
        m = fit(preds + classmates, truth, task="regression")
        assert one(m, "s0", "s1")["behaviour"] < FLAG, len(classmates)
        assert one(m, "s2", "s8")["behaviour"] >= FLAG, len(classmates)
        out = all_pairs(m)
        assert int((out["behaviour"] >= FLAG).sum()) == 1, len(classmates)
