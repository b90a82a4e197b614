"""The hand-written gradient descent of the lab (``reference._gradient``) gives a student's
own program's predictions to the id, so two honest students who wrote it with one learning
rate and step count are explained by a standard setting, not flagged as copies."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.datasets import make_classification

from reference._gradient import SCALINGS, GDSoftmaxClassifier
from reference.standard import _GD, GD_MAX_CELLS, STANDARD_SETTINGS, _too_costly


def student_logistic(X, y, Xt, lr, steps):
    """Binary logistic regression as an unseen class's three honest students wrote it."""
    w, b, n = np.zeros(X.shape[1]), 0.0, len(y)
    for _ in range(steps):
        p = 1.0 / (1.0 + np.exp(-(X @ w + b)))
        w -= lr * (X.T @ (p - y)) / n
        b -= lr * np.sum(p - y) / n
    return (1.0 / (1.0 + np.exp(-(Xt @ w + b))) >= 0.5).astype(int)


def student_softmax(X, y, Xt, lr, steps, k):
    """Softmax regression as the slides class's students wrote it (one-hot targets)."""
    T, W, b, n = np.eye(k)[y], np.zeros((X.shape[1], k)), np.zeros(k), len(y)
    for _ in range(steps):
        Z = X @ W + b
        P = np.exp(Z - Z.max(1, keepdims=True))
        P /= P.sum(1, keepdims=True)
        G = (P - T) / n
        W -= lr * (X.T @ G)
        b -= lr * G.sum(0)
    return np.argmax(Xt @ W + b, axis=1)


def scaled(X, Xt, scaling):
    if scaling == "standard":
        mu, sd = X.mean(0), X.std(0)
        return (X - mu) / sd, (Xt - mu) / sd
    if scaling == "minmax":
        lo, hi = X.min(0), X.max(0)
        return (X - lo) / (hi - lo), (Xt - lo) / (hi - lo)
    if scaling == "max":
        return X / X.max(), Xt / X.max()
    return X, Xt


@pytest.mark.parametrize("scaling", SCALINGS)
@pytest.mark.parametrize("classes", [2, 4])
def test_the_students_own_program_to_the_id(scaling, classes):
    X, y = make_classification(900, 12, n_informative=6, n_classes=classes, flip_y=0.1,
                               class_sep=0.7, random_state=classes)
    X = X - X.min() + 1.0  # positive, as pixels and counts are ("x / max")
    X, Xt, y = X[:600], X[600:], y[:600]
    for lr, steps in ((0.05, 200), (0.5, 300)):
        model = GDSoftmaxClassifier(learning_rate=lr, steps=steps, scaling=scaling).fit(X, y)
        a, b = scaled(X, Xt, scaling)
        student = (student_logistic(a, y.astype(float), b, lr, steps) if classes == 2
                   else student_softmax(a, y, b, lr, steps, classes))
        np.testing.assert_array_equal(model.predict(Xt), student)
    # the settings differ from each other (the test would pass for a constant model)
    other = GDSoftmaxClassifier(learning_rate=0.01, steps=100, scaling=scaling).fit(X, y)
    assert (other.predict(Xt) != model.predict(Xt)).any()


def test_the_settings_are_standard_settings_bounded_by_cells():
    assert len(_GD) == 100 and set(_GD) <= STANDARD_SETTINGS
    assert not _too_costly(_GD[0], 1200, 64)  # digits
    assert "gradient descent" in _too_costly(_GD[0], 3500, 784)  # MNIST's pixels
    assert 1200 * 64 < GD_MAX_CELLS < 3500 * 784


def test_bad_settings_are_named():
    X, y = np.ones((4, 2)), [0, 1, 0, 1]
    with pytest.raises(ValueError, match="scaling must be one of"):
        GDSoftmaxClassifier(scaling="z").fit(X, y)
    with pytest.raises(ValueError, match="steps must be a non-negative int"):
        GDSoftmaxClassifier(steps=-1).fit(X, y)
