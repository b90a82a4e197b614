"""Trivial models in regression and roc_auc courses: students who submit a constant (the
training mean, a probability of 0.5) have the same centred residuals; the trivial standard
model (``DummyRegressor``, ``DummyClassifier``'s prior) explains that, so they are not flagged."""

from __future__ import annotations

import numpy as np
import pandas as pd

from reference.standard import standard_predictions
from similarity.behaviour import BehaviourModel

FLAG = 0.45


def _class(rng, k=400, n=10):
    x = rng.normal(size=(k + 300, 3))
    y = x @ np.array([2.0, -1.0, 0.5]) + rng.normal(scale=0.5, size=k + 300)
    train = pd.DataFrame({"id": [f"r{i}" for i in range(300)], "label": y[:300],
                          **{f"f{j}": x[:300, j] for j in range(3)}})
    test = pd.DataFrame({"id": [f"t{i}" for i in range(k)],
                         **{f"f{j}": x[300:, j] for j in range(3)}})
    truth = y[300:]
    preds = {f"s{i}": truth + rng.normal(scale=rng.uniform(0.4, 1.0), size=k) for i in range(n)}
    return train, test, truth, preds


def test_constant_predictions_are_explained_by_the_trivial_model(tmp_path):
    rng = np.random.default_rng(0)
    train, test, truth, preds = _class(rng)
    refs = standard_predictions(train.astype({"label": str}), test, tmp_path, task="regression",
                                modality="tabular", names=["sklearn:DummyRegressor()",
                                                           "sklearn:LinearRegression()"])
    # two weak students: the training mean, and a rounded median with a trace of noise
    # (centred, near-identical residuals, as a copy's)
    preds["mean"] = np.full(len(truth), train["label"].mean())
    preds["median"] = np.round(np.full(len(truth), train["label"].median()), 1) + \
        rng.normal(scale=1e-4, size=len(truth))
    preds["copy"] = preds["s0"].copy()
    without = BehaviourModel.fit(preds, truth, task="regression")
    i, j = without.names.index("mean"), without.names.index("median")
    assert without.pairs(np.array([i]), np.array([j]))["behaviour"][0] >= FLAG  # the problem
    m = BehaviourModel.fit(preds, truth, task="regression", references=refs,
                           explainers=sorted(refs), near_exact=0.998)
    o = {k: v[0] for k, v in m.pairs(np.array([i]), np.array([j])).items()}
    assert m.explainer_names[o["explained"]] == "sklearn:DummyRegressor()"
    assert o["behaviour"] == 0.0
    n = len(m.names)
    r, c = np.triu_indices(n, 1)
    flagged = {(m.names[a], m.names[b]) for a, b, v in
               zip(r, c, m.pairs(r, c)["behaviour"], strict=True) if v >= FLAG}
    assert flagged == {("s0", "copy")}


def test_a_constant_probability_is_explained_in_a_roc_auc_course(tmp_path):
    rng = np.random.default_rng(1)
    train, test, truth, _ = _class(rng)
    labels = np.where(train["label"] > 0, "yes", "no")
    positive = (truth > 0).astype(float)
    refs = standard_predictions(train.assign(label=labels), test, tmp_path, task="probability",
                                modality="tabular", names=["sklearn:DummyClassifier()"])
    prior = refs["sklearn:DummyClassifier()"]
    assert np.allclose(prior, (labels == "yes").mean())  # the positive class's prior
    preds = {f"s{i}": np.clip(positive * 0.6 + rng.uniform(0, 0.4, len(truth)), 0, 1)
             for i in range(8)}
    preds["half"] = np.full(len(truth), 0.5)
    preds["prior"] = np.full(len(truth), 0.4)
    m = BehaviourModel.fit(preds, positive, task="regression", references=refs,
                           explainers=list(refs), near_exact=0.998)
    o = m.pairs(np.array([m.names.index("half")]), np.array([m.names.index("prior")]))
    assert o["explained"][0] == 0 and o["behaviour"][0] == 0.0


def test_the_trivial_models_fit_on_text_courses_too(tmp_path):
    frame = pd.DataFrame({"id": [f"d{k}" for k in range(40)], "label": ["a", "b", "b", "b"] * 10,
                          "text": ["some words here"] * 40})
    got = standard_predictions(frame.iloc[:30], frame.iloc[30:].drop(columns="label"), tmp_path,
                               task="probability", modality="text",
                               names=["sklearn:DummyClassifier()"])
    share_b = (frame["label"].iloc[:30] == "b").mean()  # "b" sorts last: the positive class
    np.testing.assert_allclose(got["sklearn:DummyClassifier()"], share_b)


def test_two_students_predicting_the_most_frequent_label_are_explained(tmp_path):
    from similarity.behaviour_identity import IdentityEvidence

    rng = np.random.default_rng(2)
    k = 500
    labels = rng.choice(["cat", "dog", "fox"], size=k + 300, p=[0.5, 0.3, 0.2])
    train = pd.DataFrame({"id": [f"r{i}" for i in range(300)], "label": labels[:300],
                          "f0": rng.normal(size=300)})
    test = pd.DataFrame({"id": [f"t{i}" for i in range(k)], "f0": rng.normal(size=k)})
    truth = labels[300:]
    refs = standard_predictions(train, test, tmp_path, task="classification",
                                modality="tabular", names=["sklearn:DummyClassifier()"])
    assert set(refs["sklearn:DummyClassifier()"]) == {"cat"}
    preds = {}
    for i in range(10):
        p = truth.copy()
        wrong = rng.random(k) < rng.uniform(0.1, 0.4)
        p[wrong] = rng.choice(["cat", "dog", "fox"], size=int(wrong.sum()))
        preds[f"s{i}"] = p.tolist()
    preds["base_a"] = ["cat"] * k  # two baselines: every id the most frequent label
    preds["base_b"] = ["cat"] * k
    m = IdentityEvidence(BehaviourModel.fit(preds, truth.tolist(), references=refs,
                                            explainers=list(refs), near_exact=0.998))
    i, j = m.names.index("base_a"), m.names.index("base_b")
    o = m.pairs(np.array([i]), np.array([j]))
    assert o["explained"][0] == 0 and o["behaviour"][0] == 0.0


def test_two_collapsed_networks_agree_by_chance_not_by_copying():
    from similarity.behaviour_identity import IdentityEvidence

    rng = np.random.default_rng(5)
    k = 600
    truth = rng.integers(0, 10, k)
    preds = {}
    for i in range(12):
        p = truth.copy()
        wrong = rng.random(k) < rng.uniform(0.05, 0.3)
        p[wrong] = rng.integers(0, 10, int(wrong.sum()))
        preds[f"s{i}"] = p.tolist()
    preds["copy"] = list(preds["s3"])
    # two networks that collapsed to label 1 (not the most frequent: nothing explains them)
    preds["net_a"], preds["net_b"] = [1] * k, [1] * k
    preds["net_c"] = [1] * (k - 3) + [4, 5, 6]
    m = IdentityEvidence(BehaviourModel.fit(preds, truth.tolist()))
    n = len(m.names)
    blk = m.block(np.arange(n), np.arange(n))
    r, c = np.triu_indices(n, 1)
    flagged = {(m.names[a], m.names[b]) for a, b in zip(r, c, strict=True)
               if blk["behaviour"][a, b] >= FLAG}
    assert flagged == {("s3", "copy")}
    np.testing.assert_allclose(m.pairs(r, c)["behaviour"], blk["behaviour"][r, c])
    assert m.describe("net_a", "net_b").startswith("both predict one label on nearly every id")
    assert "identical wrong answers" in m.describe("s3", "copy")


def test_identity_evidence_pickles():
    import pickle

    from similarity.behaviour_identity import IdentityEvidence

    truth = [0, 1, 2, 0, 1, 2] * 20
    m = IdentityEvidence(BehaviourModel.fit({"a": truth, "b": truth[::-1]}, truth))
    back = pickle.loads(pickle.dumps(m))
    assert back.names == m.names
    np.testing.assert_array_equal(back.block(np.arange(2), np.arange(2))["behaviour"],
                                  m.block(np.arange(2), np.arange(2))["behaviour"])


def test_hostile_huge_regression_predictions_give_no_warning_and_no_flag():
    import warnings

    rng = np.random.default_rng(6)
    k = 300
    truth = rng.normal(size=k) * 3
    preds = {f"s{i}": truth + rng.normal(scale=0.5, size=k) for i in range(8)}
    preds["copy"] = preds["s0"].copy()
    preds["huge"] = np.r_[np.full(k - 1, 1e300), -1e300]
    preds["huge2"] = rng.normal(size=k) * 1e300
    preds["tiny"] = rng.normal(size=k) * 1e-300
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # an overflow would be a RuntimeWarning
        m = BehaviourModel.fit(preds, truth, task="regression")
        n = len(m.names)
        r, c = np.triu_indices(n, 1)
        out = m.pairs(r, c)
    assert np.isfinite(out["behaviour"]).all()
    flagged = {(m.names[a], m.names[b]) for a, b, v in
               zip(r, c, out["behaviour"], strict=True) if v >= FLAG}
    assert flagged == {("s0", "copy")}
