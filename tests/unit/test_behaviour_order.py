"""The same order of every probability on a roc_auc course (similarity.behaviour_order): a
copy passed through an order-preserving transform keeps its AUC, and now its rank."""

from __future__ import annotations

import numpy as np

from similarity.behaviour import BehaviourModel
from similarity.behaviour_order import OrderEvidence


def _class(seed: int = 0, n: int = 12, m: int = 170):
    rng = np.random.default_rng(seed)
    truth = (rng.random(m) < 0.4).astype(float)
    signal = truth * 1.5 + rng.normal(0, 1, m)
    preds = {}
    for i in range(n):  # honest: the signal, each with noise of their own
        z = signal + rng.normal(0, 0.6, m)
        preds[f"s{i:02d}"] = list(1 / (1 + np.exp(-z)))
    return truth, signal, preds


def test_a_copy_under_an_order_preserving_transform_is_ranked_not_flagged():
    from similarity import SimilarityOptions
    from similarity.engine import final_score

    truth, signal, preds = _class()
    src = np.array(preds["s03"])
    preds["sqrt_copy"] = list(np.sqrt(src))                            # the same order
    preds["rank_copy"] = list((np.argsort(np.argsort(src)) + 1) / len(src))
    std = 1 / (1 + np.exp(-signal))  # a standard model; two students give its order
    preds["std_a"], preds["std_b"] = list(std), list(std ** 2)
    preds["hard_a"] = preds["hard_b"] = list((src > 0.5).astype(float))  # 2 values: no order
    model = BehaviourModel.fit(preds, truth.tolist(), task="regression",
                               references={"std": list(std)}, explainers=["std"])
    ev = OrderEvidence(model)
    names = model.names
    pairs = [("s03", "sqrt_copy"), ("s03", "rank_copy"), ("std_a", "std_b"), ("s03", "s04"),
             ("hard_a", "hard_b")]
    got = ev.pairs(np.array([names.index(a) for a, _ in pairs]),
                   np.array([names.index(b) for _, b in pairs]))
    assert got["unproven"].tolist() == [1.0, 1.0, 0.0, 0.0, 0.0]
    # the residual evidence alone misses the transformed copies
    assert got["behaviour"][0] < 0.45 and got["behaviour"][1] < 0.45
    o = SimilarityOptions()
    score = final_score(np.full(5, 0.1), {**got, "valid": np.ones(5)}, o)
    assert (score[:2] > (1 + o.setting_share) / 2 * o.threshold - 1e-9).all()
    assert (score[:2] < o.threshold).all() and score[3] < score[0]
    assert "same order" in ev.describe("s03", "sqrt_copy")
    # a block gives the same as the listed pairs
    block = ev.block(np.arange(len(names)), np.arange(len(names)))
    i, j = names.index("s03"), names.index("sqrt_copy")
    assert block["unproven"][i, j] == 1.0 and block["unproven"][j, i] == 1.0
    off = ~np.eye(len(names), dtype=bool)  # (the diagonal is meaningless)
    assert block["unproven"][off].sum() == 6  # s03 and its two copies, pairwise, both ways


def test_regression_stretched_copy_is_unproven_and_one_feature_orders_say_nothing():
    rng = np.random.default_rng(4)
    m = 150
    x = rng.normal(0, 1, (m, 3))
    truth = x @ np.array([3.0, -2.0, 1.0]) + np.sin(3 * x[:, 0]) + rng.normal(0, 0.5, m)
    base = x @ np.array([2.9, -2.1, 1.1])
    preds = {f"s{i}": list(base + rng.normal(0, 0.4, m)) for i in range(8)}  # honest
    src = np.array(preds["s2"])
    preds["stretched"] = list(src.mean() + 1.03 * (src - src.mean()))
    preds["exact"] = list(np.array(preds["s5"]))  # a plain copy: its residuals count
    # on one feature every increasing model has the same order as LinearRegression(): two
    # honest students (a ridge and a cubic) share it, and so does the standard model
    one = x[:, 0]
    preds["ridge_1d"], preds["cubic_1d"] = list(2.5 * one + 0.1), list(one ** 3 + 3 * one)
    model = BehaviourModel.fit(preds, truth.tolist(), task="regression",
                               references={"lr_1d": list(2.9 * one - 0.2)},
                               explainers=["lr_1d"])
    ev = OrderEvidence(model, probabilities=False)
    names = model.names
    pairs = [("s2", "stretched"), ("ridge_1d", "cubic_1d"), ("s2", "s3")]
    got = ev.pairs(np.array([names.index(a) for a, _ in pairs]),
                   np.array([names.index(b) for _, b in pairs]))
    assert got["unproven"].tolist() == [1.0, 0.0, 0.0]
    said = ev.describe("s2", "stretched")
    assert "same order" in said and "stretched" in said and "AUC" not in said
    assert "that is why the pair is held at least just under the threshold" in said
    # where the residual evidence already flags the pair, the order only adds to it (a page
    # said "ranks at least just under the threshold" of a pair flagged at 1.0)
    said = ev.describe("s5", "exact")
    assert "same order" in said and "under the threshold" not in said
