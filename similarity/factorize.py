"""``factorize`` and ``unique`` of integer keys, exactly as pandas gives them, without
importing pandas for the sizes most classes have.

pandas hashes (several times faster than sorting on the millions of keys of a large class),
but importing it costs about half a second, most of a small ``grader similarity`` run. So
numpy does the work up to ``PANDAS_FROM`` keys, with the same result, and pandas is imported
only beyond.
"""

from __future__ import annotations

import numpy as np

__all__ = ["factorize", "unique", "PANDAS_FROM"]

PANDAS_FROM = 1 << 20  # keys; below this, sorting costs less than importing pandas


def factorize(keys: np.ndarray, sort: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Codes and distinct keys, as ``pandas.factorize(keys, sort=sort)``.

    Parameters
    ----------
    keys : ndarray of int, shape (n,)
    sort : bool, default=False
        Distinct keys sorted (codes follow them), else in order of first appearance.

    Returns
    -------
    codes : ndarray of int64, shape (n,)
    uniques : ndarray, shape (n_distinct,)

    Examples
    --------
    >>> codes, uniq = factorize(np.array([7, 3, 7, 5]))
    >>> codes.tolist(), uniq.tolist()
    ([0, 1, 0, 2], [7, 3, 5])
    """
    keys = np.asarray(keys)
    if keys.size >= PANDAS_FROM:
        import pandas as pd

        codes, uniques = pd.factorize(keys, sort=sort)
        return codes.astype(np.int64, copy=False), np.asarray(uniques)
    if sort:
        uniques, inverse = np.unique(keys, return_inverse=True)
        return inverse.reshape(-1).astype(np.int64, copy=False), uniques
    uniques, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
    order = np.argsort(first, kind="stable")
    rank = np.empty(order.size, dtype=np.int64)
    rank[order] = np.arange(order.size)
    return rank[inverse.reshape(-1)], uniques[order]


def unique(keys: np.ndarray) -> np.ndarray:
    """Distinct keys in order of first appearance, as ``pandas.unique``."""
    return factorize(keys)[1]
