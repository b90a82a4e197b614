"""An explainer forgives disagreement on its decision boundary: two honest students who fit a
standard model with another regularisation disagree with it only on the ids it is least sure
of, and agree with each other everywhere, as a copy does. They are explained
(``similarity.behaviour``, "Explained agreement"); a copy of a student whose model differs from
the standard one where that one is sure is still flagged."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from reference.standard import StandardFit, decision_margins, standard_fits
from similarity.behaviour import (
    BOUNDARY_SHARE,
    BehaviourInputError,
    BehaviourModel,
    decision_boundary,
)
from similarity.behaviour_identity import IdentityEvidence

FLAG = 0.45
SCALED_LR = "sklearn:StandardScaler+LogisticRegression(max_iter=1000)"


def test_the_boundary_is_the_least_sure_share_of_ids():
    margins = np.linspace(1.0, 2.0, 200)
    margins[[17, 80, 150, 3]] = [0.01, 0.02, 0.03, 0.04]  # the four least sure
    got = decision_boundary(margins, 200)
    assert int(200 * BOUNDARY_SHARE) == 4
    assert np.flatnonzero(got).tolist() == [3, 17, 80, 150]
    # unknown margins are never on it, and count for nothing in its size
    margins[3] = np.nan
    assert np.flatnonzero(decision_boundary(margins, 200)).tolist() == [17, 80, 150]
    assert not decision_boundary(None, 200).any()
    assert not decision_boundary(np.ones(20), 20).any()  # 2 % of 20 ids: none


def test_votes_in_steps_do_not_put_a_tenth_of_the_ids_on_the_boundary():
    # k-NN's margins come in steps of 1/5: 10 % of the ids tie at the lowest step
    margins = np.repeat([0.2, 0.6, 1.0], [10, 40, 50])
    assert not decision_boundary(margins, 100).any()  # only ids below the cut: none
    margins[0] = 0.0
    assert np.flatnonzero(decision_boundary(margins, 100)).tolist() == [0]


def test_margins_must_fit_the_ids():
    with pytest.raises(BehaviourInputError, match="3 margins for 4 hidden labels"):
        decision_boundary([0.1, 0.2, 0.3], 4)
    with pytest.raises(BehaviourInputError, match="not explainers"):
        BehaviourModel.fit({"a": [0, 1], "b": [1, 0]}, [0, 1], references={"m": [0, 1]},
                           margins={"m": [0.1, 0.2]})


def test_decision_margins_from_probabilities_or_decision_values():
    from sklearn.linear_model import LogisticRegression, Perceptron
    from sklearn.svm import SVC

    rng = np.random.default_rng(0)
    X = rng.normal(size=(90, 3))
    y = np.repeat([0, 1, 2], 30)
    X[:, 0] += y
    lr = LogisticRegression().fit(X, y)
    p = np.sort(lr.predict_proba(X), axis=1)
    np.testing.assert_allclose(decision_margins(lr, X), p[:, -1] - p[:, -2])
    svc = SVC().fit(X, y)  # no probabilities: the gap of its decision values
    d = np.sort(svc.decision_function(X), axis=1)
    np.testing.assert_allclose(decision_margins(svc, X), d[:, -1] - d[:, -2])
    two = Perceptron().fit(X, y == 2)  # two classes: one decision value, its distance from 0
    np.testing.assert_allclose(decision_margins(two, X), np.abs(two.decision_function(X)))


def _class(rng, n_train=900, n_test=1000):
    """Three classes that overlap (a linear model errs on about a third of the ids), each
    feature on its own scale, so that standardising changes the model."""
    X = rng.normal(size=(n_train + n_test, 5)) * np.array([1, 8, 0.3, 40, 2]) + 5
    signal = X[:, 0] - X[:, 3] / 40 + 2 * X[:, 2] + rng.normal(scale=0.8, size=len(X))
    y = np.digitize(signal, np.quantile(signal, [0.33, 0.66])).astype(str)
    frame = pd.DataFrame({"id": [f"i{k}" for k in range(len(X))], "label": y,
                          **{f"f{j}": X[:, j] for j in range(X.shape[1])}})
    train = frame.iloc[:n_train].reset_index(drop=True)
    test = frame.iloc[n_train:].reset_index(drop=True)
    return train, test.drop(columns="label"), test["label"].to_numpy()


def _second_choice(fit: StandardFit, ids: np.ndarray, labels: list[str]) -> np.ndarray:
    """The explainer's predictions with ``ids`` moved to another label."""
    out = fit.predictions.copy()
    for i in ids:
        out[i] = next(lab for lab in labels if lab != out[i])
    return out


def test_two_honest_regularisations_of_a_standard_model_are_explained(tmp_path):
    rng = np.random.default_rng(1)
    train, test, truth = _class(rng)
    fits = standard_fits(train, test, tmp_path, task="classification", modality="tabular",
                         names=[SCALED_LR, "sklearn:LogisticRegression(max_iter=1000)",
                                "sklearn:GaussianNB()", "sklearn:KNeighborsClassifier()"])
    fits = {n: f for n, f in fits.items() if isinstance(f, StandardFit)}
    lr = fits[SCALED_LR]
    labels = sorted(set(truth))
    n = len(truth)
    unsure = np.argsort(lr.margins)[:3]  # where another C moves the answer
    sure = np.argsort(lr.margins)[-3:]  # where only another model disagrees
    honest = _second_choice(lr, unsure, labels)  # two honest students: identical to each
    other = _second_choice(lr, sure, labels)  # other, 99.7 % with the standard model
    preds = {"ana": honest, "bob": honest.copy(), "dan": other, "eve": other.copy()}
    for k, seed in enumerate(range(8)):  # classmates with their own answers
        noise = np.random.default_rng(seed).random(n) < 0.25
        preds[f"s{k}"] = np.where(noise, np.roll(truth, k + 1), truth)

    def fitted(margins):
        return IdentityEvidence(BehaviourModel.fit(
            preds, truth.tolist(), references={k: f.predictions for k, f in fits.items()},
            explainers=sorted(fits), near_exact=0.998, margins=margins))

    with_margins = fitted({k: f.margins for k, f in fits.items() if f.margins is not None})
    model = with_margins.model
    names = model.names
    out = with_margins.pairs(np.array([names.index("ana"), names.index("dan")]),
                             np.array([names.index("bob"), names.index("eve")]))
    assert model.explainer_names[out["explained"][0]] == SCALED_LR
    assert out["behaviour"][0] == 0.0  # explained: never flagged on this agreement
    assert out["explained"][1] == -1  # disagrees where the model is sure: a copy is a copy
    assert out["behaviour"][1] >= FLAG
    text = model.describe("ana", "bob")
    assert "least sure" in text and "99.70 %" in text, text

    # without margins (before): the honest pair was flagged like the copy
    before = fitted(None)
    beh = before.pairs(np.array([names.index("ana")]), np.array([names.index("bob")]))
    assert beh["explained"][0] == -1 and beh["behaviour"][0] >= FLAG
