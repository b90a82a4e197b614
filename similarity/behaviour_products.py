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
    mu     = (u (S~ - h) w2)_A u_B' - u_A (u h w2)_B' + 2 sum_{same} sqrt(w2)_A sqrt(w2)_B

The ``[same]`` sums and the ``same_wrong`` count run over one-hot (id, wrong label) columns:
columns that many students share go through dense BLAS, the long tail of rare ones through a
sparse product (its cost grows with the square of a column's count).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

__all__ = ["BlockProducts"]

DENSE_SHARE = 0.02  # an (id, label) column held by this share of students goes dense ...
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
        self.uc = uf * sh * w2
        self.uh = uf * h * w2
        del sh, uf
        self.u, self.e, self.col = u, e, col
        self.rw2 = np.sqrt(2 * w2).astype(np.float32)
        counts = np.bincount(col[col >= 0], minlength=n_cols)
        dense = counts >= max(DENSE_MIN, DENSE_SHARE * len(p))
        self.slot = np.where(dense, np.cumsum(dense) - 1, -1)  # column -> dense slot or -1
        self.rare = np.where(~dense, np.cumsum(~dense) - 1, -1)  # column -> sparse slot or -1
        self.n_dense, self.n_rare = int(dense.sum()), int((~dense).sum())

    def block(self, ra: np.ndarray, rb: np.ndarray) -> dict[str, np.ndarray]:
        """``expected``, ``expected_given_both``, ``same_wrong``, ``n_labelled``, ``both_wrong``
        for all pairs ``ra x rb`` (float arrays of shape (len(ra), len(rb)))."""
        ua, ub = self.u[ra].astype(np.float32), self.u[rb].astype(np.float32)
        ba, bb = self.b[ra], self.b[rb]
        lam = self.l0[ra] @ self.a[rb].T
        lam += self.a[ra] @ self.x[rb].T
        lam += self.y[ra] @ bb.T
        lam -= ba @ self.z[rb].T
        mu = self.uc[ra] @ ub.T
        mu -= ua @ self.uh[rb].T
        n_lab = ua @ ub.T
        del ua, ub
        both = self.e[ra].astype(np.float32) @ self.e[rb].astype(np.float32).T
        same = np.zeros_like(lam)
        for onehot in (self._dense, self._sparse):
            (a1, ap, aw), (b1, bp, bw) = onehot(ra), onehot(rb)
            same += _dot(a1, b1)
            lam += _dot(ap, bp)
            mu += _dot(aw, bw)
        return {"expected": lam, "expected_given_both": mu, "same_wrong": same,
                "n_labelled": n_lab, "both_wrong": both}

    def _entries(self, rows: np.ndarray, slots: np.ndarray):
        col = self.col[rows]
        rr, kk = np.nonzero(col >= 0)
        ss = slots[col[rr, kk]]
        keep = ss >= 0
        rr, kk, ss = rr[keep], kk[keep], ss[keep]
        w = self.rw2[kk]
        p = self.b[rows[rr], kk]  # where wrong, p = b
        return rr, ss, (np.ones(len(rr), np.float32), p * w, w)

    def _dense(self, rows: np.ndarray):
        """Dense one-hots over the popular columns: values 1, p sqrt(2 w2), sqrt(2 w2)."""
        rr, ss, values = self._entries(rows, self.slot)
        out = []
        for v in values:
            m = np.zeros((len(rows), self.n_dense), np.float32)
            m[rr, ss] = v
            out.append(m)
        return out

    def _sparse(self, rows: np.ndarray):
        """Sparse one-hots over the rare columns, the same three values."""
        rr, ss, values = self._entries(rows, self.rare)
        shape = (len(rows), self.n_rare)
        return [sp.csr_matrix((v, (rr, ss)), shape=shape) for v in values]


def _dot(x, y) -> np.ndarray:
    """``x @ y.T`` as a dense array, for dense or sparse operands."""
    out = x @ y.T
    return out.toarray() if sp.issparse(out) else out
