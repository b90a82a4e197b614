"""k-nearest neighbours with the slides' distances and tie-breaking rules."""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.utils import check_random_state
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_array, check_is_fitted, validate_data

from reference.distances import DISTANCES

TIE_BREAKS = ("random", "nearest", "distance")
_STRING_METRICS = ("levenshtein", "hamming")
# Test rows per block of the distance matrix, so memory stays ~ block * n_train floats.
_BLOCK = 1024


def _distance(metric: str, p: float):
    if metric not in DISTANCES:
        raise ValueError(f"metric must be one of {sorted(DISTANCES)}, got {metric!r}")
    f = DISTANCES[metric]
    return (lambda X, Z: f(X, Z, p=p)) if metric == "minkowski" else f


class _KNNBase(BaseEstimator):
    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        if self.metric == "levenshtein":  # one string per row, not a numeric matrix
            tags.input_tags.two_d_array = False
            tags.input_tags.string = True
        return tags

    def _validate(self, X, y=None, reset=True):
        if self.metric in _STRING_METRICS:
            # Strings (or categories) are compared as they are; numbers need no conversion.
            X = check_array(X, dtype=None, ensure_all_finite=False)
            if reset:
                self.n_features_in_ = X.shape[1]
            elif X.shape[1] != self.n_features_in_:
                raise ValueError(
                    f"X has {X.shape[1]} features, but {type(self).__name__} is expecting "
                    f"{self.n_features_in_} features as input"
                )
            if y is not None:
                y = np.asarray(y)
                if y.shape[0] != X.shape[0]:
                    raise ValueError(f"X has {X.shape[0]} rows but y has {y.shape[0]}")
            return X, y
        if y is None:
            return validate_data(self, X, reset=reset), None
        return validate_data(self, X, y, reset=reset)

    def _check_params(self):
        if not isinstance(self.n_neighbors, int | np.integer) or self.n_neighbors < 1:
            raise ValueError(f"n_neighbors must be a positive int, got {self.n_neighbors!r}")
        _distance(self.metric, self.p)

    def _neighbors(self, X):
        """Indices (n, k) of the k nearest training rows, nearest first, and their distances."""
        k = min(int(self.n_neighbors), self._fit_X.shape[0])
        dist_fn = _distance(self.metric, self.p)
        idx = np.empty((X.shape[0], k), dtype=np.int64)
        dist = np.empty((X.shape[0], k))
        for s in range(0, X.shape[0], _BLOCK):
            D = self._block_distances(dist_fn, X, s)
            # A stable sort: equal distances keep the training order, so results are exact.
            order = np.argsort(D, axis=1, kind="stable")[:, :k]
            idx[s : s + _BLOCK] = order
            dist[s : s + _BLOCK] = np.take_along_axis(D, order, axis=1)
        return idx, dist

    def _block_distances(self, dist_fn, X, s: int) -> np.ndarray:
        """Distances of the query rows ``X[s : s + _BLOCK]`` to the training rows. Edit and
        Hamming distances of strings are remembered (``_STRING_DISTANCES``): a model search
        predicts the same validation texts once per k, and edit distance is by far the cost
        (a text course's k = 1, 3, 5 took 270 s, three times the same matrix)."""
        if self.metric not in _STRING_METRICS:
            return dist_fn(X[s : s + _BLOCK], self._fit_X)
        key = (self.metric, _rows_key(X[s : s + _BLOCK]), _rows_key(self._fit_X))
        D = _STRING_DISTANCES.get(key)
        if D is None:
            D = dist_fn(X[s : s + _BLOCK], self._fit_X)
            if len(_STRING_DISTANCES) >= _STRING_CACHE_BLOCKS:
                _STRING_DISTANCES.pop(next(iter(_STRING_DISTANCES)))  # the oldest
            _STRING_DISTANCES[key] = D
        return D


#: blocks of string distances remembered (each at most _BLOCK x n_train floats: 16 MB at
#: 2,000 training texts), the oldest dropped first
_STRING_CACHE_BLOCKS = 8
_STRING_DISTANCES: dict[tuple, np.ndarray] = {}


def _rows_key(X) -> tuple:
    """What identifies rows of strings for the distance cache: their shape and contents."""
    arr = np.asarray(X, dtype=object)
    return arr.shape, tuple(map(str, arr.ravel()))  # compared in full: no collision


class KNNClassifier(ClassifierMixin, _KNNBase):
    """k-NN classifier: the majority label of the k nearest training examples.

    Parameters
    ----------
    n_neighbors : int, default=5
        k; clipped to the number of training examples.
    metric : {"l2", "l1", "minkowski", "hamming", "levenshtein"}, default="l2"
        "euclidean" and "manhattan" are aliases. "levenshtein" takes one string per row;
        "hamming" counts differing components and accepts categories (strings).
    p : float, default=2.0
        The exponent of the Minkowski distance (``metric="minkowski"`` only); ``p < 1`` works
        but is not a metric.
    tie_break : {"random", "nearest", "distance"}, default="random"
        The slides' three ways to settle a tie between labels with equally many votes
        ("Cum luăm o decizie în caz de egalitate?"): a random one of the tied labels (seeded
        by ``random_state``); the 1-NN model, which has no ties: the label of the nearest
        neighbour; or the distances as weights: the k neighbours vote again, each with
        ``1 / distance`` (a neighbour at distance 0 wins).
    random_state : int, RandomState instance or None, default=None
        Seeds the random tie-break.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
    n_features_in_ : int

    Examples
    --------
    >>> clf = KNNClassifier(n_neighbors=1).fit([[0.0], [1.0]], [0, 1])
    >>> clf.predict([[0.2]]).tolist()
    [0]
    """

    def __init__(self, *, n_neighbors=5, metric="l2", p=2.0, tie_break="random", random_state=None):
        self.n_neighbors = n_neighbors
        self.metric = metric
        self.p = p
        self.tie_break = tie_break
        self.random_state = random_state

    def fit(self, X, y):
        self._check_params()
        if self.tie_break not in TIE_BREAKS:
            raise ValueError(f"tie_break must be one of {TIE_BREAKS}, got {self.tie_break!r}")
        X, y = self._validate(X, y)
        check_classification_targets(y)
        self.classes_, self._y = np.unique(y, return_inverse=True)
        self._fit_X = X
        return self

    def _votes(self, X):
        check_is_fitted(self)
        X, _ = self._validate(X, reset=False)
        idx, dist = self._neighbors(X)
        labels = self._y[idx]
        n_classes = len(self.classes_)
        votes = np.zeros((X.shape[0], n_classes))
        np.add.at(votes, (np.arange(X.shape[0])[:, None], labels), 1.0)
        return votes, labels, dist

    def predict_proba(self, X):
        """Fraction of the k neighbours in each class, shape (n_samples, n_classes)."""
        votes, _, _ = self._votes(X)
        return votes / votes.sum(axis=1, keepdims=True)

    def predict(self, X):
        votes, labels, dist = self._votes(X)
        tied = votes == votes.max(axis=1, keepdims=True)
        pred = np.argmax(votes, axis=1)
        rows = np.flatnonzero(tied.sum(axis=1) > 1)
        if rows.size:
            if self.tie_break == "random":
                rng = check_random_state(self.random_state)
                for r in rows:
                    pred[r] = rng.choice(np.flatnonzero(tied[r]))
            elif self.tie_break == "nearest":
                # the slides' "apply the 1-NN model (it has no ties)": the nearest
                # neighbour's label (neighbours are nearest first), tied or not
                pred[rows] = labels[rows, 0]
            else:
                # "use the distances to the test example as weights": every one of the k
                # neighbours votes 1 / distance (not only those of the tied labels)
                with np.errstate(divide="ignore"):
                    w = 1.0 / dist[rows]
                w = np.where(np.isinf(w), 1e300, w)
                score = np.zeros((rows.size, len(self.classes_)))
                np.add.at(score, (np.arange(rows.size)[:, None], labels[rows]), w)
                pred[rows] = np.argmax(score, axis=1)
        return self.classes_[pred]


class KNNRegressor(RegressorMixin, _KNNBase):
    """k-NN regression: the mean target of the k nearest training examples.

    Parameters
    ----------
    n_neighbors : int, default=5
    metric : {"l2", "l1", "minkowski", "hamming", "levenshtein"}, default="l2"
    p : float, default=2.0
        Minkowski exponent.
    """

    def __init__(self, *, n_neighbors=5, metric="l2", p=2.0):
        self.n_neighbors = n_neighbors
        self.metric = metric
        self.p = p

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags

    def fit(self, X, y):
        self._check_params()
        if self.metric in _STRING_METRICS:
            X, y = self._validate(X, y)
            y = np.asarray(y, dtype=np.float64)
        else:
            X, y = validate_data(self, X, y, y_numeric=True, multi_output=True)
        self._fit_X, self._y = X, y
        return self

    def predict(self, X):
        check_is_fitted(self)
        X, _ = self._validate(X, reset=False)
        idx, _ = self._neighbors(X)
        return self._y[idx].mean(axis=1)


class ArgsortKNNClassifier(ClassifierMixin, BaseEstimator):
    """k-NN as students write it in numpy: every distance (Manhattan ``p=1`` or Euclidean
    ``p=2``), the neighbours in ``np.argsort``'s default order and ``np.bincount(...).argmax()``
    as the vote (a tie to the smallest label).

    ``np.argsort`` does not keep tied distances in their training order, as scikit-learn's
    search does: on integer pixels a fifth of the test rows have a tie at the k-th neighbour,
    and two honest hand-written 7-NN programs agreed with each other but not with
    ``KNeighborsClassifier`` (2 of 597 ids apart), so no standard model explained them.

    Parameters
    ----------
    n_neighbors : int, default=5
    p : {1, 2}, default=2
    """

    def __init__(self, *, n_neighbors=5, p=2):
        self.n_neighbors = n_neighbors
        self.p = p

    def fit(self, X, y):
        X, y = validate_data(self, X, y, dtype=np.float64)
        check_classification_targets(y)
        if self.p not in (1, 2):
            raise ValueError(f"p must be 1 or 2, got {self.p!r}")
        self.classes_, self._codes = np.unique(y, return_inverse=True)
        self._X = X
        self._sq = np.einsum("ij,ij->i", X, X)
        return self

    def _distances(self, Z):
        if self.p == 1:
            from scipy.spatial.distance import cdist

            return cdist(Z, self._X, metric="cityblock")
        # squared Euclidean: exact on integer data, so its ties are the students' ties
        d = np.einsum("ij,ij->i", Z, Z)[:, None] + self._sq[None, :] - 2.0 * (Z @ self._X.T)
        return np.maximum(d, 0.0)

    def predict(self, X):
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=np.float64)
        k = min(self.n_neighbors, len(self._codes))
        out = np.empty(len(X), dtype=np.intp)
        width = len(self.classes_)
        for s in range(0, len(X), _BLOCK):
            nearest = np.argsort(self._distances(X[s:s + _BLOCK]), axis=1)[:, :k]
            votes = np.zeros((len(nearest), width), dtype=np.int64)
            np.add.at(votes, (np.arange(len(nearest))[:, None], self._codes[nearest]), 1)
            out[s:s + len(nearest)] = votes.argmax(axis=1)
        return self.classes_[out]
