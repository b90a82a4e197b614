"""Reference models on a roc_auc course (``run_references(positive=...)``): they submit the
positive class's score in [0, 1] as the students do, chosen by validation AUC, not hard labels
scored by AUC (which understated every model)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from reference.runner import model_fingerprint, positive_scores, run_references

MODELS = ["majority", "gaussian_nb", "knn", "linear_softmax", "svm_ovo", "kernel_ridge_ova",
          "perceptron"]


def _frames(seed=0, n_train=300, n_test=200):
    rng = np.random.default_rng(seed)
    n = n_train + n_test
    y = rng.integers(0, 2, n)
    X = rng.normal(0, 1, (n, 5)) + 0.9 * y[:, None] * np.array([1, 0.5, 0, -0.5, 0.2])
    labels = np.where(y == 1, "yes", "no")
    cols = {f"x{j}": X[:, j] for j in range(5)}
    frame = pd.DataFrame({"id": [f"i{k}" for k in range(n)], "label": labels, **cols})
    train = frame.iloc[:n_train].reset_index(drop=True)
    test = frame.iloc[n_train:].reset_index(drop=True)
    return train, test.drop(columns="label"), test["label"].to_numpy() == "yes"


def test_models_submit_the_positive_class_score_and_beat_their_hard_labels():
    train, test, truth = _frames()
    scores = {r.model: r for r in run_references(train, test, None, models=MODELS, seed=0,
                                                 positive="yes", modality="tabular")}
    labels = {r.model: r for r in run_references(train, test, None, models=MODELS, seed=0,
                                                 modality="tabular")}
    for name in MODELS:
        r = scores[name]
        assert r.status == "ok", (name, r.message)
        p = r.predictions.to_numpy(dtype=float)
        assert p.shape == (len(test),) and ((0 <= p) & (p <= 1)).all(), name
        hard = roc_auc_score(truth, labels[name].predictions.to_numpy() == "yes")
        soft = roc_auc_score(truth, p)
        # a ranking by score is never worse than its thresholded labels here, and strictly
        # better for every model with a score (the constant majority stays at 0.5)
        assert soft >= hard - 1e-9, (name, soft, hard)
        if name != "majority":
            assert soft > hard, (name, soft, hard)
            # the model search maximised the validation AUC it reports
            assert 0.5 < r.validation_score <= 1.0
    # the positive class is part of what a cached result depends on
    assert model_fingerprint("knn", task="classification", modality="tabular", seed=0) != \
        model_fingerprint("knn", task="classification", modality="tabular", seed=0,
                          positive="yes")


def test_positive_scores_follow_the_positive_class_whichever_it_is():
    from sklearn.linear_model import LogisticRegression
    from sklearn.svm import LinearSVC

    train, test, _ = _frames(1)
    X, y = train.drop(columns=["id", "label"]).to_numpy(), train["label"].to_numpy()
    Xt = test.drop(columns=["id"]).to_numpy()
    lr = LogisticRegression().fit(X, y)
    np.testing.assert_allclose(positive_scores(lr, Xt, "yes"), lr.predict_proba(Xt)[:, 1])
    np.testing.assert_allclose(positive_scores(lr, Xt, "no"), lr.predict_proba(Xt)[:, 0])
    svc = LinearSVC().fit(X, y)  # a decision function and no probabilities: its logistic
    d = svc.decision_function(Xt)
    np.testing.assert_allclose(positive_scores(svc, Xt, "yes"), 1 / (1 + np.exp(-d)))
    np.testing.assert_allclose(positive_scores(svc, Xt, "no"), 1 / (1 + np.exp(d)))


def test_a_positive_class_needs_a_classification_task():
    train, test, _ = _frames()
    with pytest.raises(ValueError, match="classification"):
        run_references(train, test, None, models=["mean"], task="regression", positive="yes")
