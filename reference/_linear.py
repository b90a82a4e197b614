"""Linear classifiers trained by mini-batch gradient descent: multiclass hinge and softmax.

Scores are ``s = W x + b`` with ``W`` of shape (n_classes, n_features), as in the slides. The
losses are the mean over examples plus ``reg * ||W||^2``; their analytic gradients are checked
against ``numerical_gradient`` in the tests.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils import check_random_state
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

LOSSES = ("hinge", "softmax")


def softmax(scores: np.ndarray) -> np.ndarray:
    """Row-wise softmax of scores of shape (n_samples, n_classes), computed stably."""
    z = scores - scores.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def multiclass_hinge_loss(scores, y, delta: float = 1.0) -> np.ndarray:
    """Per-example multiclass SVM loss ``sum_{j != y} max(0, s_j - s_y + delta)``.

    Parameters
    ----------
    scores : array-like of shape (n_samples, n_classes)
        One row per example (the slides print examples as columns: pass the transpose).
    y : array-like of int of shape (n_samples,)
        Index of the true class.
    """
    s = np.asarray(scores, dtype=np.float64)
    y = np.asarray(y)
    margins = np.maximum(0.0, s - s[np.arange(len(y)), y][:, None] + delta)
    margins[np.arange(len(y)), y] = 0.0
    return margins.sum(axis=1)


def softmax_cross_entropy(scores, y) -> np.ndarray:
    """Per-example softmax loss ``-log(e^{s_y} / sum_j e^{s_j})`` (natural log)."""
    s = np.asarray(scores, dtype=np.float64)
    y = np.asarray(y)
    z = s - s.max(axis=1, keepdims=True)
    log_p = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    return -log_p[np.arange(len(y)), y]


def linear_loss_and_grad(W, b, X, y, *, loss: str = "softmax", reg: float = 0.0):
    """Mean loss of the linear classifier ``s = X W^T + b`` plus ``reg ||W||^2``, and gradients.

    Parameters
    ----------
    W : ndarray of shape (n_classes, n_features)
    b : ndarray of shape (n_classes,)
    X : ndarray of shape (n_samples, n_features)
    y : ndarray of int of shape (n_samples,)
    loss : {"softmax", "hinge"}, default="softmax"
    reg : float, default=0.0

    Returns
    -------
    loss : float
    dW : ndarray of shape (n_classes, n_features)
    db : ndarray of shape (n_classes,)
    """
    n = X.shape[0]
    scores = X @ W.T + b
    rows = np.arange(n)
    if loss == "softmax":
        data_loss = softmax_cross_entropy(scores, y).mean()
        dS = softmax(scores)
        dS[rows, y] -= 1.0
    elif loss == "hinge":
        margins = scores - scores[rows, y][:, None] + 1.0
        margins[rows, y] = 0.0
        data_loss = np.maximum(0.0, margins).sum(axis=1).mean()
        dS = (margins > 0).astype(np.float64)
        dS[rows, y] = -dS.sum(axis=1)
    else:
        raise ValueError(f"loss must be one of {LOSSES}, got {loss!r}")
    dS /= n
    return data_loss + reg * np.sum(W * W), dS.T @ X + 2.0 * reg * W, dS.sum(axis=0)


def numerical_gradient(
    f: Callable[[np.ndarray], float], x, h: float = 1e-5, centered: bool = True
) -> np.ndarray:
    """Finite-difference gradient of a scalar function ``f`` at ``x`` (any shape).

    ``centered=False`` is the slides' ``(f(x + h) - f(x)) / h`` (error O(h)); the default,
    ``(f(x + h) - f(x - h)) / 2h``, has error O(h^2).
    """
    x = np.array(x, dtype=np.float64)
    grad = np.zeros_like(x)
    fx = None if centered else f(x)
    it = np.nditer(x, flags=["multi_index"])
    for _ in it:
        i = it.multi_index
        old = x[i]
        x[i] = old + h
        up = f(x)
        if centered:
            x[i] = old - h
            grad[i] = (up - f(x)) / (2 * h)
        else:
            grad[i] = (up - fx) / h
        x[i] = old
    return grad


def gradient_check(f: Callable[[np.ndarray], float], grad, x, h: float = 1e-5) -> float:
    """Largest relative error ``|a - n| / max(1e-12, |a| + |n|)`` between an analytic gradient
    (an array, or a function of ``x``) and the numerical one; ~1e-7 or less means correct."""
    x = np.asarray(x, dtype=np.float64)
    analytic = np.asarray(grad(x) if callable(grad) else grad, dtype=np.float64)
    numeric = numerical_gradient(f, x, h)
    rel = np.abs(analytic - numeric) / np.maximum(1e-12, np.abs(analytic) + np.abs(numeric))
    return float(rel.max()) if rel.size else 0.0


class LinearGDClassifier(ClassifierMixin, BaseEstimator):
    """Linear classifier ``argmax(W x + b)`` trained by mini-batch SGD with momentum.

    Parameters
    ----------
    loss : {"softmax", "hinge"}, default="softmax"
        Softmax cross-entropy (multinomial logistic regression) or the multiclass SVM hinge
        loss with margin 1.
    reg : float, default=1e-4
        L2 penalty ``reg * ||W||^2`` (``LogisticRegression(C)`` is ``reg = 1 / (2 C n)``).
    learning_rate : float, default=0.1
        Step size, divided by ``1 + epoch * decay`` each epoch.
    decay : float, default=0.05
    momentum : float, default=0.9
        The slides' ``v = mu v - lr grad; w = w + v``.
    batch_size : int, default=128
    max_epochs : int, default=100
    tol : float, default=1e-6
        An epoch that lowers the best full training loss by less than this is stale.
    n_iter_no_change : int, default=5
        Stop after this many stale epochs in a row.
    max_time_s : float or None, default=None
        Stop after the epoch that passes this many seconds (a time budget).
    random_state : int, RandomState instance or None, default=None
        Seeds the initial weights and the shuffling.

    Attributes
    ----------
    coef_ : ndarray of shape (n_classes, n_features)
    intercept_ : ndarray of shape (n_classes,)
    loss_curve_ : list of float
        The training loss after each epoch.
    n_iter_ : int
    """

    def __init__(
        self,
        *,
        loss="softmax",
        reg=1e-4,
        learning_rate=0.1,
        decay=0.05,
        momentum=0.9,
        batch_size=128,
        max_epochs=100,
        tol=1e-6,
        n_iter_no_change=5,
        max_time_s=None,
        random_state=None,
    ):
        self.loss = loss
        self.reg = reg
        self.learning_rate = learning_rate
        self.decay = decay
        self.momentum = momentum
        self.batch_size = batch_size
        self.max_epochs = max_epochs
        self.tol = tol
        self.n_iter_no_change = n_iter_no_change
        self.max_time_s = max_time_s
        self.random_state = random_state

    def fit(self, X, y):
        if self.loss not in LOSSES:
            raise ValueError(f"loss must be one of {LOSSES}, got {self.loss!r}")
        X, y = validate_data(self, X, y)
        check_classification_targets(y)
        self.classes_, yi = np.unique(y, return_inverse=True)
        rng = check_random_state(self.random_state)
        n, d = X.shape
        k = max(len(self.classes_), 2)
        W = 0.001 * rng.standard_normal((k, d))
        b = np.zeros(k)
        vW, vb = np.zeros_like(W), np.zeros_like(b)
        bs = max(1, min(int(self.batch_size), n))
        best_loss, stale = np.inf, 0
        started = time.perf_counter()
        self.loss_curve_ = []
        for epoch in range(int(self.max_epochs)):
            lr = self.learning_rate / (1.0 + epoch * self.decay)
            order = rng.permutation(n)
            for s in range(0, n, bs):
                batch = order[s : s + bs]
                _, dW, db = linear_loss_and_grad(
                    W, b, X[batch], yi[batch], loss=self.loss, reg=self.reg
                )
                vW = self.momentum * vW - lr * dW
                vb = self.momentum * vb - lr * db
                W += vW
                b += vb
            full, _, _ = linear_loss_and_grad(W, b, X, yi, loss=self.loss, reg=self.reg)
            self.loss_curve_.append(float(full))
            if not np.isfinite(full):
                raise ValueError(
                    f"training diverged at epoch {epoch + 1}; lower learning_rate "
                    f"(now {self.learning_rate}) or scale the features"
                )
            # Stop after n_iter_no_change epochs in a row without a tol improvement (one noisy
            # epoch of SGD must not end training).
            if full > best_loss - self.tol:
                stale += 1
                if stale >= self.n_iter_no_change:
                    break
            else:
                stale = 0
            best_loss = min(best_loss, full)
            if self.max_time_s is not None and time.perf_counter() - started > self.max_time_s:
                break
        self.n_iter_ = epoch + 1
        self.coef_, self.intercept_ = W, b
        return self

    def decision_function(self, X):
        check_is_fitted(self)
        X = validate_data(self, X, reset=False)
        scores = X @ self.coef_.T + self.intercept_
        if len(self.classes_) == 2:
            return scores[:, 1] - scores[:, 0]
        return scores

    def predict_proba(self, X):
        """Softmax of the scores (meaningful for ``loss="softmax"``)."""
        check_is_fitted(self)
        X = validate_data(self, X, reset=False)
        P = softmax(X @ self.coef_.T + self.intercept_)
        return P[:, : len(self.classes_)] / P[:, : len(self.classes_)].sum(1, keepdims=True)

    def predict(self, X):
        check_is_fitted(self)
        X = validate_data(self, X, reset=False)
        scores = X @ self.coef_.T + self.intercept_
        return self.classes_[np.argmax(scores[:, : len(self.classes_)], axis=1)]
