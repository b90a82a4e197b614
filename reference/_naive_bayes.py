"""Multinomial naive Bayes on discretised values, as in the lab (pixels binned into intervals)."""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.naive_bayes import MultinomialNB
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data


class BinnedMultinomialNB(ClassifierMixin, BaseEstimator):
    """Multinomial NB on each feature's bin index, the lab's pixel discretisation.

    ``fit`` spreads ``n_bins`` equal-width edges over the training values' range (the lab's
    ``np.linspace(0, 255, num_bins)`` for 8-bit pixels) and maps each value to the index of
    its interval, ``np.digitize(x, edges) - 1``; those indices are the "counts" of
    ``MultinomialNB``. Values outside the training range fall into the first or last bin.

    Parameters
    ----------
    n_bins : int, default=5
    alpha : float, default=1.0
        Laplace smoothing of ``MultinomialNB``.
    value_range : tuple of float or None, default=None
        ``(low, high)`` of the edges, e.g. ``(0, 255)``; ``None`` takes the training min/max.

    Attributes
    ----------
    bin_edges_ : ndarray of shape (n_bins,)
    nb_ : MultinomialNB
    classes_ : ndarray of shape (n_classes,)
    """

    def __init__(self, *, n_bins=5, alpha=1.0, value_range=None):
        self.n_bins = n_bins
        self.alpha = alpha
        self.value_range = value_range

    def _bins(self, X):
        return np.clip(np.digitize(X, self.bin_edges_) - 1, 0, len(self.bin_edges_) - 1)

    def fit(self, X, y):
        if not isinstance(self.n_bins, int | np.integer) or self.n_bins < 2:
            raise ValueError(f"n_bins must be an int >= 2, got {self.n_bins!r}")
        X, y = validate_data(self, X, y)
        check_classification_targets(y)
        low, high = self.value_range if self.value_range is not None else (X.min(), X.max())
        if high <= low:
            high = low + 1.0  # a constant input: every value lands in bin 0
        self.bin_edges_ = np.linspace(low, high, self.n_bins)
        self.nb_ = MultinomialNB(alpha=self.alpha).fit(self._bins(X), y)
        self.classes_ = self.nb_.classes_
        return self

    def predict_proba(self, X):
        check_is_fitted(self)
        X = validate_data(self, X, reset=False)
        return self.nb_.predict_proba(self._bins(X))

    def predict(self, X):
        check_is_fitted(self)
        X = validate_data(self, X, reset=False)
        return self.nb_.predict(self._bins(X))
