"""Kernel methods over our kernels: kernel ridge (dual form) and the soft-margin SVM.

Every estimator takes ``kernel`` (a name in ``reference.kernels.KERNELS``, ``"string"`` for
documents, or a callable ``f(X, Z, **kernel_params)``), ``kernel_params`` and ``normalize``
(``K_ij / sqrt(K_ii K_jj)``), computes the Gram matrix itself and keeps the training rows.
"""

from __future__ import annotations

import numpy as np
import scipy.linalg
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.multiclass import OneVsRestClassifier
from sklearn.preprocessing import LabelBinarizer
from sklearn.svm import SVC
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_array, check_is_fitted, validate_data

from reference.kernels import KERNELS, kernel_diag, normalize


def _string_gram(X, Z, **params):
    from similarity.string_kernels import string_kernel_matrix

    params.setdefault("normalize", True)
    return string_kernel_matrix(list(X[:, 0]), list(Z[:, 0]), **params)


def _require_y(est, y) -> None:
    if y is None:
        raise ValueError(f"{type(est).__name__} requires y to be passed, but the target y is None")


class _KernelBase(BaseEstimator):
    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        if self.kernel == "string":  # one text column, not a numeric matrix
            tags.input_tags.two_d_array = False
            tags.input_tags.string = True
        return tags

    def _validate(self, X, y=None, reset=True, **kw):
        if self.kernel == "string":
            X = check_array(X, dtype=None)
            if X.shape[1] != 1:
                raise ValueError(f"the string kernel needs one text column, got {X.shape[1]}")
            X = X.astype(str)
            if reset:
                self.n_features_in_ = 1
            return (X, np.asarray(y)) if y is not None else X
        if y is None:
            return validate_data(self, X, reset=reset)
        return validate_data(self, X, y, reset=reset, **kw)

    def _gram(self, X, Z):
        params = dict(self.kernel_params or {})
        if self.kernel == "string":
            return _string_gram(X, Z, **params)  # normalised through its own params
        if callable(self.kernel):
            f = self.kernel
        elif self.kernel in KERNELS:
            f = KERNELS[self.kernel]
        else:
            raise ValueError(
                f"kernel must be one of {sorted(KERNELS) + ['string']} or a callable, "
                f"got {self.kernel!r}"
            )
        K = f(X, Z, **params)
        if self.normalize:
            dx = kernel_diag(self.kernel, X, **params)
            dz = dx if Z is X else kernel_diag(self.kernel, Z, **params)
            K = normalize(K, dx, dz)
        return K


class KernelRidgeRegressor(RegressorMixin, _KernelBase):
    """Kernel ridge regression in the slides' dual form, ``alpha = (K + lam I)^-1 y``.

    Predictions are ``g(x) = sum_i alpha_i k(x_i, x)``; there is no intercept (centre ``y``
    or add a constant feature if you need one), the same model as sklearn's ``KernelRidge``.

    Parameters
    ----------
    kernel : str or callable, default="linear"
    kernel_params : dict or None, default=None
        Keyword arguments of the kernel, e.g. ``{"sigma": 2.0}`` for ``"rbf"``.
    lam : float, default=1.0
        The ridge penalty lambda (> 0; the slides use 1e-6 for a linear kernel).
    normalize : bool, default=False
        Normalise the kernel matrix before solving.

    Attributes
    ----------
    dual_coef_ : ndarray of shape (n_samples,) or (n_samples, n_targets)
    X_fit_ : ndarray of shape (n_samples, n_features)
    """

    def __init__(self, *, kernel="linear", kernel_params=None, lam=1.0, normalize=False):
        self.kernel = kernel
        self.kernel_params = kernel_params
        self.lam = lam
        self.normalize = normalize

    def _solve(self, K, Y):
        if not self.lam > 0:
            raise ValueError(f"lam must be > 0, got {self.lam!r}")
        A = K + self.lam * np.eye(K.shape[0])
        try:  # K + lam I is symmetric positive definite for a valid kernel
            return scipy.linalg.solve(A, Y, assume_a="pos")
        except (np.linalg.LinAlgError, scipy.linalg.LinAlgError):
            return scipy.linalg.lstsq(A, Y)[0]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags

    def fit(self, X, y):
        _require_y(self, y)
        X, y = self._validate(X, y, y_numeric=True, multi_output=True)
        self.X_fit_ = X
        self.dual_coef_ = self._solve(self._gram(X, X), np.asarray(y, dtype=np.float64))
        return self

    def predict(self, X):
        check_is_fitted(self)
        X = self._validate(X, reset=False)
        return self._gram(X, self.X_fit_) @ self.dual_coef_


class KernelRidgeClassifier(ClassifierMixin, KernelRidgeRegressor):
    """One-vs-all kernel ridge classifier: targets +1/-1 per class, the highest score wins.

    With two classes it is the slides' ``sign(K alpha)`` on labels +1/-1. Parameters as
    ``KernelRidgeRegressor``.
    """

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = False
        return tags

    def fit(self, X, y):
        _require_y(self, y)
        X, y = self._validate(X, y)
        check_classification_targets(y)
        self._binarizer = LabelBinarizer(neg_label=-1, pos_label=1).fit(y)
        self.classes_ = self._binarizer.classes_
        Y = self._binarizer.transform(y).astype(np.float64)
        self.X_fit_ = X
        self.dual_coef_ = self._solve(self._gram(X, X), Y)
        return self

    def decision_function(self, X):
        check_is_fitted(self)
        X = self._validate(X, reset=False)
        scores = self._gram(X, self.X_fit_) @ self.dual_coef_
        return scores.ravel() if scores.shape[1] == 1 else scores

    def predict(self, X):
        scores = self.decision_function(X)
        if scores.ndim == 1:
            return self.classes_[(scores > 0).astype(int)]
        return self.classes_[np.argmax(scores, axis=1)]


class KernelSVC(ClassifierMixin, _KernelBase):
    """Soft-margin SVM over our kernels, via a precomputed Gram matrix (libsvm's SMO).

    Minimises ``1/2 ||w||^2 + C sum_i xi_i`` subject to ``y_i (<w, phi(x_i)> + b) >= 1 - xi_i``.

    Parameters
    ----------
    kernel : str or callable, default="rbf"
    kernel_params : dict or None, default=None
        E.g. ``{"sigma": 1.0}``; our ``sigma`` is sklearn's ``gamma = 1 / (2 sigma^2)``.
    C : float, default=1.0
    normalize : bool, default=False
    multiclass : {"ovo", "ova"}, default="ovo"
        One-versus-one (libsvm's own scheme, k(k-1)/2 binary SVMs and a vote) or
        one-versus-all (k SVMs, the highest decision value wins).
    """

    def __init__(
        self, *, kernel="rbf", kernel_params=None, C=1.0, normalize=False, multiclass="ovo"
    ):
        self.kernel = kernel
        self.kernel_params = kernel_params
        self.C = C
        self.normalize = normalize
        self.multiclass = multiclass

    def fit(self, X, y):
        if self.multiclass not in ("ovo", "ova"):
            raise ValueError(f"multiclass must be 'ovo' or 'ova', got {self.multiclass!r}")
        _require_y(self, y)
        X, y = self._validate(X, y)
        check_classification_targets(y)
        self.classes_ = np.unique(y)
        svc = SVC(kernel="precomputed", C=self.C)
        model = OneVsRestClassifier(svc) if self.multiclass == "ova" else svc
        self.X_fit_ = X
        self.model_ = model.fit(self._gram(X, X), y)
        return self

    def decision_function(self, X):
        check_is_fitted(self)
        X = self._validate(X, reset=False)
        return self.model_.decision_function(self._gram(X, self.X_fit_))

    def predict(self, X):
        check_is_fitted(self)
        X = self._validate(X, reset=False)
        return self.model_.predict(self._gram(X, self.X_fit_))
