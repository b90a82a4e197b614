"""Distances of the course's k-NN: L1, L2, Minkowski-p, Hamming and Levenshtein (edit).

Each ``f(X, Z=None, ...) -> ndarray of shape (n_x, n_z)``; ``DISTANCES`` names them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
from scipy.spatial.distance import cdist
from sklearn.metrics.pairwise import check_pairwise_arrays

__all__ = ["DISTANCES", "hamming", "levenshtein", "manhattan", "euclidean", "minkowski"]


def _check(X, Z):
    return check_pairwise_arrays(X, Z, dtype=np.float64)


def euclidean(X, Z=None) -> np.ndarray:
    """L2 distance ``sqrt(sum_i (x_i - z_i)^2)``."""
    X, Z = _check(X, Z)
    return cdist(X, Z, "euclidean")


def manhattan(X, Z=None) -> np.ndarray:
    """L1 distance ``sum_i |x_i - z_i|``."""
    X, Z = _check(X, Z)
    return cdist(X, Z, "cityblock")


def minkowski(X, Z=None, p: float = 2.0) -> np.ndarray:
    """Minkowski (L_p) distance ``(sum_i |x_i - z_i|^p)^(1/p)``, ``p > 0``.

    For ``p < 1`` it is no longer a metric (the triangle inequality fails, as the slides show
    with x=(0,0), y=(1,1), z=(0,1), p=0.5), but k-NN can still use it.
    """
    if p <= 0:
        raise ValueError(f"p must be > 0, got {p}")
    X, Z = _check(X, Z)
    if p >= 1:
        return cdist(X, Z, "minkowski", p=p)
    out = np.empty((X.shape[0], Z.shape[0]))
    step = max(1, (4 << 20) // max(1, Z.size))
    for i in range(0, X.shape[0], step):
        diff = np.abs(X[i : i + step, None, :] - Z[None, :, :])
        out[i : i + step] = (diff**p).sum(axis=2) ** (1.0 / p)
    return out


def hamming(X, Z=None) -> np.ndarray:
    """Hamming distance: the number of components in which ``x`` and ``z`` differ.

    Works on numbers and on categories (strings): ``X`` and ``Z`` are 2-D arrays of the same
    width. Unlike scipy's ``hamming`` this is a count, not a fraction.
    """
    X = np.asarray(X)
    Z = X if Z is None else np.asarray(Z)
    if X.ndim != 2 or Z.ndim != 2 or X.shape[1] != Z.shape[1]:
        raise ValueError(f"hamming needs 2-D arrays of equal width, got {X.shape} and {Z.shape}")
    out = np.empty((X.shape[0], Z.shape[0]))
    step = max(1, (4 << 20) // max(1, Z.size))
    for i in range(0, X.shape[0], step):
        out[i : i + step] = (X[i : i + step, None, :] != Z[None, :, :]).sum(axis=2)
    return out


def _as_strings(X) -> list[str]:
    arr = np.asarray(X, dtype=object)
    if arr.ndim == 2:
        if arr.shape[1] != 1:
            raise ValueError(f"levenshtein needs one string per row, got shape {arr.shape}")
        arr = arr[:, 0]
    return [str(s) for s in arr]


def levenshtein(X: Sequence[str], Z: Sequence[str] | None = None) -> np.ndarray:
    """Edit distance: the fewest insertions, deletions and substitutions turning x into z.

    The dynamic programme runs over character positions, vectorised over all pairs at once
    (padded code arrays), so its Python loop is ``max_len_x * max_len_z`` steps, not per pair.
    ``X``/``Z`` are sequences of strings or (n, 1) arrays of them.
    """
    a = _as_strings(X)
    b = a if Z is None else _as_strings(Z)
    out = np.zeros((len(a), len(b)))
    if not a or not b:
        return out
    la = np.array([len(s) for s in a])
    lb = np.array([len(s) for s in b])
    La, Lb = int(la.max()), int(lb.max())

    def codes(strs: list[str], L: int, pad: int) -> np.ndarray:
        c = np.full((len(strs), max(L, 1)), pad, dtype=np.int64)
        for i, s in enumerate(strs):
            c[i, : len(s)] = [ord(ch) for ch in s]
        return c

    ca, cb = codes(a, La, -1), codes(b, Lb, -2)
    # Blocks of x-strings so that the (block, n_z, Lb + 1) DP rows stay small.
    step = max(1, (2 << 20) // max(1, len(b) * (Lb + 1)))
    for s in range(0, len(a), step):
        A = ca[s : s + step]
        n = A.shape[0]
        prev = np.broadcast_to(np.arange(Lb + 1, dtype=np.int64), (n, len(b), Lb + 1)).copy()
        res = out[s : s + step]
        res[la[s : s + step] == 0] = lb  # empty x: distance is len(z)
        for i in range(1, La + 1):
            cur = np.empty_like(prev)
            cur[:, :, 0] = i
            sub = (A[:, None, i - 1, None] != cb[None, :, :Lb]).astype(np.int64)
            diag = prev[:, :, :-1] + sub
            up = prev[:, :, 1:] + 1
            best = np.minimum(diag, up)
            for j in range(1, Lb + 1):  # insertion depends on the cell to the left
                cur[:, :, j] = np.minimum(best[:, :, j - 1], cur[:, :, j - 1] + 1)
            done = la[s : s + step] == i
            if done.any():
                res[done] = np.take_along_axis(
                    cur[done], np.broadcast_to(lb, (done.sum(), len(b)))[..., None], axis=2
                )[..., 0]
            prev = cur
    return out


DISTANCES: dict[str, Callable[..., np.ndarray]] = {
    "l1": manhattan,
    "manhattan": manhattan,
    "l2": euclidean,
    "euclidean": euclidean,
    "minkowski": minkowski,
    "hamming": hamming,
    "levenshtein": levenshtein,
}
