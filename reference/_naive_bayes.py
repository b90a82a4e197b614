"""Naive Bayes on discretised values, as in the lab (pixels binned into intervals): the bin
indices as multinomial counts (the lab's ``MultinomialNB``) or as categories (a categorical
naive Bayes with Laplace smoothing, as students write it by hand)."""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.naive_bayes import CategoricalNB, MultinomialNB
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
    per_feature : bool, default=False
        Bin each feature into ``n_bins`` equal intervals of its own training range (sklearn's
        ``KBinsDiscretizer(strategy="uniform")``; for tabular columns on different scales)
        instead of the lab's edges over one range for all values (pixels).

    Attributes
    ----------
    bin_edges_ : ndarray of shape (n_bins,), or (n_features, n_bins + 1) with ``per_feature``
    nb_ : MultinomialNB
    classes_ : ndarray of shape (n_classes,)
    """

    def __init__(self, *, n_bins=5, alpha=1.0, value_range=None, per_feature=False):
        self.n_bins = n_bins
        self.alpha = alpha
        self.value_range = value_range
        self.per_feature = per_feature

    def _bins(self, X):
        edges = self.bin_edges_
        if edges.ndim == 1:
            return np.clip(np.digitize(X, edges) - 1, 0, len(edges) - 1)
        # Equal-width edges per column: the bin index is computed arithmetically.
        low, width = edges[:, 0], edges[:, 1] - edges[:, 0]
        return np.clip(np.floor((X - low) / width), 0, edges.shape[1] - 2).astype(np.int64)

    def fit(self, X, y):
        if not isinstance(self.n_bins, int | np.integer) or self.n_bins < 2:
            raise ValueError(f"n_bins must be an int >= 2, got {self.n_bins!r}")
        X, y = validate_data(self, X, y)
        check_classification_targets(y)
        if self.value_range is not None:
            low, high = (np.float64(v) for v in self.value_range)
        elif self.per_feature:
            low, high = X.min(axis=0), X.max(axis=0)
        else:
            low, high = X.min(), X.max()
        high = np.where(high > low, high, low + 1.0)  # a constant input: all in bin 0
        if self.per_feature:  # n_bins intervals per column (sklearn's KBinsDiscretizer)
            self.bin_edges_ = np.linspace(
                np.broadcast_to(low, X.shape[1]),
                np.broadcast_to(high, X.shape[1]),
                self.n_bins + 1,
                axis=-1,
            )
        else:  # the lab's np.linspace(low, high, n_bins) edges over all values
            self.bin_edges_ = np.linspace(float(low), float(high), self.n_bins)
        self.nb_ = self._model().fit(self._bins(X), y)
        self.classes_ = self.nb_.classes_
        return self

    def _model(self):
        return MultinomialNB(alpha=self.alpha)

    def predict_proba(self, X):
        check_is_fitted(self)
        X = validate_data(self, X, reset=False)
        return self.nb_.predict_proba(self._bins(X))

    def predict(self, X):
        check_is_fitted(self)
        X = validate_data(self, X, reset=False)
        return self.nb_.predict(self._bins(X))


class BinnedCategoricalNB(BinnedMultinomialNB):
    """Categorical naive Bayes on the same bins: each feature's bin is a category, with
    Laplace smoothing ``alpha`` over all ``n_bins`` of them (``CategoricalNB(min_categories=
    n_bins)``), what a student who counts, per class, how often each pixel falls in each
    interval computes. Parameters and attributes as :class:`BinnedMultinomialNB`."""

    def _model(self):
        return CategoricalNB(alpha=self.alpha, min_categories=self.n_bins)
