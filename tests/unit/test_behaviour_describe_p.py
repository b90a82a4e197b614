"""The one-sentence summary of a pair's behavioural evidence never says ``p = 0``: a p-value
that underflowed is written ``p < 1e-300``, as the pair page writes it."""

from __future__ import annotations

import numpy as np

from similarity.behaviour import BehaviourModel
from tests.unit.test_behaviour import one, regression_class, simulate


def test_an_exact_copy_of_residuals_says_p_below_1e_300():
    truth, preds, _ = regression_class()
    preds[1] = preds[0]  # identical residuals: r = 1, the tail underflows to 0
    m = BehaviourModel.fit({f"s{i}": p for i, p in enumerate(preds)}, truth, task="regression")
    assert one(m, "s0", "s1")["p_value"] == 0.0
    text = m.describe("s0", "s1")
    assert text.endswith("(p < 1e-300)") and "p = 0" not in text, text


def test_a_copied_classification_says_p_below_1e_300_and_a_chance_pair_keeps_its_p():
    truth, preds = simulate(40, 3000, seed=8, theta_mean=-0.5)  # many errors to share
    preds = preds.copy()
    preds[1] = preds[0]
    m = BehaviourModel.fit({f"s{i}": p for i, p in enumerate(preds)}, truth)
    assert one(m, "s0", "s1")["p_value"] == 0.0
    text = m.describe("s0", "s1")
    assert "(p < 1e-300" in text and "p = 0" not in text, text
    honest = one(m, "s2", "s3")["p_value"]
    assert 0 < honest and f"(p = {honest:.2g}" in m.describe("s2", "s3")


def test_two_labels_say_that_a_shared_wrong_answer_is_always_the_same():
    # with two labels same_wrong == both_wrong by construction: "65 identical out of 65"
    # read as strong evidence
    rng = np.random.default_rng(3)
    truth = rng.integers(0, 2, 400)
    preds = {f"s{i}": np.where(rng.random(400) < 0.2, 1 - truth, truth) for i in range(8)}
    m = BehaviourModel.fit(preds, truth)
    text = m.describe("s1", "s2")
    o = m.pairs(np.array([1]), np.array([2]))
    assert text.startswith(f"{o['both_wrong'][0]} ids both got wrong (with two labels every "
                           "shared wrong answer is the same one)")
    assert "identical wrong answers out of" not in text
