"""Kernel functions of the course, each ``f(X, Z=None, **params) -> Gram matrix``.

``X`` has shape (n_x, n_features), ``Z`` (n_z, n_features); ``Z=None`` means ``Z = X``. Inputs go
through ``sklearn.metrics.pairwise.check_pairwise_arrays``, so lists, ints and float32 work.
``KERNELS`` maps each name to its function, like sklearn's ``PAIRWISE_KERNEL_FUNCTIONS``; string
kernels over documents live in ``similarity.string_kernels`` (one implementation for both).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from sklearn.metrics.pairwise import check_pairwise_arrays, euclidean_distances

__all__ = [
    "KERNELS",
    "hellinger",
    "intersection",
    "kernel_diag",
    "linear",
    "normalize",
    "polynomial",
    "pq",
    "rbf",
]


def _check(X, Z):
    return check_pairwise_arrays(X, Z, dtype=np.float64)


def _check_nonnegative(X: np.ndarray, name: str) -> None:
    if X.size and X.min() < 0:
        raise ValueError(f"Negative values in data passed to the {name} kernel (needs x >= 0)")


def linear(X, Z=None) -> np.ndarray:
    """Linear kernel ``k(x, z) = <x, z>``.

    Examples
    --------
    >>> linear([[1, 2, 4, 1]], [[5, 1, 2, 3]])
    array([[18.]])
    """
    X, Z = _check(X, Z)
    return X @ Z.T


def polynomial(X, Z=None, degree: int = 2, c: float = 1.0) -> np.ndarray:
    """Polynomial kernel ``k(x, z) = (<x, z> + c) ** degree``.

    Parameters
    ----------
    degree : int, default=2
    c : float, default=1.0
        ``c >= 0`` weighs the lower-degree terms (sklearn's ``coef0`` with ``gamma=1``).

    Examples
    --------
    >>> polynomial([[1, 2, 4, 1]], [[5, 1, 2, 3]], degree=2, c=1)
    array([[361.]])
    """
    X, Z = _check(X, Z)
    return (X @ Z.T + c) ** degree


def rbf(X, Z=None, sigma: float = 1.0) -> np.ndarray:
    """Gaussian (RBF) kernel ``k(x, z) = exp(-||x - z||^2 / (2 sigma^2))``.

    ``sigma`` is the Gaussian's width as in the slides; sklearn's ``rbf_kernel`` takes
    ``gamma = 1 / (2 sigma^2)`` instead (so ``sigma=1`` is ``gamma=0.5``).
    """
    if sigma <= 0:
        raise ValueError(f"sigma must be > 0, got {sigma}")
    X, Z = _check(X, Z)
    d2 = euclidean_distances(X, Z, squared=True)
    return np.exp(-d2 / (2.0 * sigma**2))


def intersection(X, Z=None) -> np.ndarray:
    """Histogram intersection kernel ``k(x, z) = sum_i min(x_i, z_i)``, for ``x, z >= 0``."""
    X, Z = _check(X, Z)
    _check_nonnegative(X, "intersection")
    _check_nonnegative(Z, "intersection")
    K = np.empty((X.shape[0], Z.shape[0]))
    # Rows in blocks so the (block, n_z, n_features) temporary stays near 64 MB.
    step = max(1, (8 << 20) // max(1, Z.size))
    for i in range(0, X.shape[0], step):
        K[i : i + step] = np.minimum(X[i : i + step, None, :], Z[None, :, :]).sum(axis=2)
    return K


def hellinger(X, Z=None) -> np.ndarray:
    """Hellinger kernel ``k(x, z) = sum_i sqrt(x_i z_i)``, for ``x, z >= 0``.

    It is the linear kernel of the element-wise square roots (the Bhattacharyya coefficient
    of histograms; unnormalised, as in the slides).
    """
    X, Z = _check(X, Z)
    _check_nonnegative(X, "hellinger")
    _check_nonnegative(Z, "hellinger")
    return np.sqrt(X) @ np.sqrt(Z).T


def pq(X, Z=None) -> np.ndarray:
    """PQ kernel ``k(x, z) = 2 (P - Q)`` over the pairs of features (the slides' rank kernel).

    ``P`` counts the feature pairs ``i < j`` that ``x`` and ``z`` order the same way
    (``(x_i - x_j)(z_i - z_j) > 0``, concordant), ``Q`` those they order oppositely (< 0,
    discordant); ties count in neither. It is the linear kernel of the feature map
    ``phi(x)_{ij} = sign(x_i - x_j)``, ``i < j``, times 2, which is how it is computed here,
    in blocks of feature pairs. Cost ``O(n_x n_z m^2)`` for ``m`` features.
    """
    X, Z = _check(X, Z)
    m = X.shape[1]
    iu, ju = np.triu_indices(m, k=1)
    K = np.zeros((X.shape[0], Z.shape[0]))
    step = max(1, (4 << 20) // max(1, X.shape[0] + Z.shape[0]))
    for s in range(0, iu.size, step):
        i, j = iu[s : s + step], ju[s : s + step]
        K += np.sign(X[:, i] - X[:, j]) @ np.sign(Z[:, i] - Z[:, j]).T
    return 2.0 * K


def normalize(K, diag_x=None, diag_z=None) -> np.ndarray:
    """Normalised kernel ``K_ij / sqrt(K_ii K_jj)`` (cosine in feature space).

    Parameters
    ----------
    K : array-like of shape (n_x, n_z)
        A square Gram matrix ``k(X, X)``, or a cross matrix ``k(X, Z)`` when both diagonals
        are given.
    diag_x, diag_z : array-like of shape (n_x,) and (n_z,), default=None
        ``k(x_i, x_i)`` and ``k(z_j, z_j)``; ``None`` takes them from the diagonal of ``K``
        (which must then be square). Entries with a zero self-similarity become 0.

    Examples
    --------
    >>> normalize([[4.0, 2.0], [2.0, 1.0]])
    array([[1., 1.],
           [1., 1.]])
    """
    K = np.asarray(K, dtype=np.float64)
    if diag_x is None or diag_z is None:
        if K.ndim != 2 or K.shape[0] != K.shape[1]:
            raise ValueError(f"normalize needs a square K or both diagonals; K is {K.shape}")
        d = np.diag(K)
        diag_x = d if diag_x is None else diag_x
        diag_z = d if diag_z is None else diag_z
    denom = np.sqrt(np.outer(np.asarray(diag_x, float), np.asarray(diag_z, float)))
    return np.divide(K, denom, out=np.zeros_like(K), where=denom > 0)


KERNELS: dict[str, Callable[..., np.ndarray]] = {
    "linear": linear,
    "polynomial": polynomial,
    "rbf": rbf,
    "intersection": intersection,
    "hellinger": hellinger,
    "pq": pq,
}


def kernel_diag(kernel: str | Callable[..., np.ndarray], X, **params) -> np.ndarray:
    """``k(x_i, x_i)`` for every row of ``X``, without the full Gram matrix.

    Closed forms for the named kernels; any other callable is evaluated row by row.
    """
    X, _ = _check(X, None)
    if kernel == "linear":
        return np.einsum("ij,ij->i", X, X)
    if kernel == "polynomial":
        return (np.einsum("ij,ij->i", X, X) + params.get("c", 1.0)) ** params.get("degree", 2)
    if kernel == "rbf":
        return np.ones(X.shape[0])
    if kernel in ("intersection", "hellinger"):
        _check_nonnegative(X, kernel)
        return X.sum(axis=1)
    f = KERNELS[kernel] if isinstance(kernel, str) else kernel
    return np.array([f(x[None, :], **params)[0, 0] for x in X])
