"""All pairs of a block of students at once: the classification statistic as matrix products.

For rows ``i`` (block A) and ``j`` (block B), with ``u`` = wrong with a label (0/1), ``p`` the
Rasch error probability, ``a = p (1 - u)``, ``b = p u``, ``h[i, k] = 2 (c[k, a_ik] + alpha)``
and per-id ``S~[k]``, ``D[k]`` (see ``similarity.behaviour``), the leave-pair-out agreement
``m'[k]`` takes one of four forms, so ``lambda = sum_k p_i p_j m'_k`` splits into products::

    neither wrong:  S~ / (D (D + 1))                      = w0
    only i wrong:   (S~ - h_i) / ((D - 1) D)              = (S~ - h_i) w1
    both wrong:     (S~ - h_i - h_j + 2 [same]) w2,  w2   = 1 / ((D - 2)(D - 1))

    lambda = (a w0 + b (S~ - h) w1)_A a_B' + a_A (b (S~ - h) w1)_B' + (b (S~ - h) w2)_A b_B'
             - b_A (b h w2)_B' + 2 sum_{same} (p sqrt(w2))_A (p sqrt(w2))_B

The conditional sums (``mu``, over the ids both got wrong) are needed only for the few pairs
whose unconditional p-value is small, and come from the element-wise route. The ``[same]`` sums and the ``same_wrong`` count run over one-hot (id, wrong label) columns:
columns that many students share go through dense BLAS, the long tail of rare ones through a
sparse product (its cost grows with the square of a column's count).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from similarity.gram import rows_view

__all__ = ["BlockProducts"]

DENSE_SHARE = 0.1  # an (id, label) column held by this share of students goes dense ...
DENSE_MIN = 8  # ... and by at least this many


class BlockProducts:
    """Per-student factor matrices (float32), computed once; :meth:`block` multiplies them.

    Parameters
    ----------
    p : ndarray of shape (n, n_ids), float32
        Rasch error probabilities.
    u, e : ndarray of shape (n, n_ids), bool
        Wrong with a label; wrong (incl. missing).
    h : ndarray of shape (n, n_ids), float32
        ``2 (c[k, own label] + alpha)`` where ``u``, else 0.
    col : ndarray of shape (n, n_ids), int32
        The (id, label) column of each wrong label, -1 elsewhere; ``n_cols`` columns.
    s, w0, w1, w2 : ndarray of shape (n_ids,)
        Per-id ``S~`` and weights (see the module docstring).
    """

    def __init__(self, p, u, e, h, col, n_cols, s, w0, w1, w2) -> None:
        s = s.astype(np.float32)
        uf = u.astype(np.float32)
        self.b = p * uf
        self.a = p - self.b
        sh = s[None, :] - h
        self.x = self.b * sh * w1
        self.l0 = self.a * w0 + self.x
        self.y = self.b * sh * w2
        self.z = self.b * h * w2
        del sh, uf
        self.e = e
        self.ef = e.astype(np.float32)  # once, not per block
        # One-hot (student, id x wrong label) matrices with values 1 and p sqrt(2 w2), split
        # into the popular columns (dense BLAS) and the long tail (sparse), built once.
        rr, kk = np.nonzero(col >= 0)
        cc = col[rr, kk]
        counts = np.bincount(cc, minlength=n_cols)
        dense = counts >= max(DENSE_MIN, DENSE_SHARE * len(p))
        slot = np.where(dense, np.cumsum(dense) - 1, np.cumsum(~dense) - 1)[cc]
        values = (np.ones(len(rr), np.float32), self.b[rr, kk] * np.sqrt(2 * w2)[kk])
        self.onehots = []
        for part, width in ((dense[cc], int(dense.sum())), (~dense[cc], int((~dense).sum()))):
            shape = (len(p), width)
            self.onehots.append([sp.csr_matrix((v[part], (rr[part], slot[part])), shape=shape)
                                 for v in values])
        self.n_dense = int(dense.sum())
        # What every block multiplies by, made once: the popular columns as dense arrays (at
        # most ten times the size of their sparse form, by DENSE_SHARE), the long tail
        # transposed to CSR (the form a product converts its right operand to).
        self.dense = [m.toarray() for m in self.onehots[0]]
        self.tail_t = [m.T.tocsr() for m in self.onehots[1]]

    def block(self, ra: np.ndarray, rb: np.ndarray) -> dict[str, np.ndarray]:
        """``expected`` (lambda), ``same_wrong`` and ``both_wrong`` for all pairs ``ra x rb``
        (float32 arrays of shape (len(ra), len(rb)))."""
        # rows of a range are views, not copies (the same operands for BLAS)
        ia, ib = rows_view(ra), rows_view(rb)
        lam = self.l0[ia] @ self.a[ib].T
        lam += self.a[ia] @ self.x[ib].T
        lam += self.y[ia] @ self.b[ib].T
        lam -= self.b[ia] @ self.z[ib].T
        dp, sppt = self.dense[1], self.tail_t[1]
        lam += dp[ia] @ dp[ib].T
        lam += (self.onehots[1][1][ia] @ _columns(sppt, rb)).toarray()
        same, both = self.counts(ra, rb)
        return {"expected": lam, "same_wrong": same, "both_wrong": both}

    def counts(self, ra: np.ndarray, rb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``same_wrong`` and ``both_wrong`` alone for all pairs ``ra x rb`` (float32)."""
        ia, ib = rows_view(ra), rows_view(rb)
        both = self.ef[ia] @ self.ef[ib].T
        d1 = self.dense[0]
        same = d1[ia] @ d1[ib].T
        # the same sums in the same order as s1[ra] @ s1[rb].T: a CSR product adds up each
        # entry in the order of its left operand's row
        same += (self.onehots[1][0][ia] @ _columns(self.tail_t[0], rb)).toarray()
        return same, both


def _columns(m: sp.csr_matrix, cols: np.ndarray) -> sp.csr_matrix:
    """``m[:, cols]``, without a copy when ``cols`` are all of them in order."""
    if cols.size == m.shape[1] and (cols == np.arange(cols.size)).all():
        return m
    return m[:, cols]


def _dot(x, y) -> np.ndarray:
    """``x @ y.T`` as a dense array, for dense or sparse operands."""
    out = x @ y.T
    return out.toarray() if sp.issparse(out) else out
