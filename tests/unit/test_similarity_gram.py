"""``similarity.gram.CountGram``: shared-key counts by dense popular columns plus a sparse
tail are the plain sparse product's, entry for entry, for any rows and memory bound."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from similarity import gram
from similarity.gram import CountGram


def _binary(n, k, seed, popular=40):
    """0/1 rows: ``popular`` columns held by many rows, a long tail held by few."""
    rng = np.random.default_rng(seed)
    share = np.concatenate([rng.uniform(0.1, 0.6, popular), rng.uniform(0, 0.01, k - popular)])
    return sp.csr_matrix((rng.random((n, k)) < share[None, :]).astype(np.float32))


def _plain(m, ra, rb):
    return (m[ra] @ m[rb].T).toarray()


def test_counts_equal_the_sparse_product():
    m = _binary(300, 2000, 0)
    g = CountGram(m)
    assert g.dense is not None and 0 < g.dense.shape[1] < 2000  # both routes are taken
    cases = [(np.arange(0, 128), np.arange(300)), (np.arange(128, 300), np.arange(100, 300)),
             (np.array([5, 299, 17]), np.array([3, 1, 250, 4])), (np.arange(3), np.arange(0))]
    for ra, rb in cases:
        got = g.block(ra, rb)
        assert got.dtype == np.float32 and got.shape == (ra.size, rb.size)
        np.testing.assert_array_equal(got, _plain(m, ra, rb))
    # the cached right operand of a range is the same on a second call
    np.testing.assert_array_equal(g.block(np.arange(10), np.arange(300)),
                                  _plain(m, np.arange(10), np.arange(300)))


def test_memory_bound_keeps_the_most_shared_columns(monkeypatch):
    m = _binary(200, 500, 1)
    monkeypatch.setattr(gram, "DENSE_BYTES", 4 * 200 * 7)  # room for 7 dense columns
    g = CountGram(m)
    assert g.dense.shape == (200, 7)
    df = np.bincount(m.indices, minlength=500)
    assert np.sort(g.dense.sum(0)).tolist() == np.sort(df)[-7:].tolist()
    ra, rb = np.arange(50, 120), np.arange(200)
    np.testing.assert_array_equal(g.block(ra, rb), _plain(m, ra, rb))


def test_weighted_rows_stay_sparse():
    m = _binary(100, 300, 2)
    m.data *= 0.5  # not 0/1: float sums in another order could differ, so no dense route
    g = CountGram(m)
    assert g.dense is None
    np.testing.assert_array_equal(g.block(np.arange(100), np.arange(100)),
                                  _plain(m, np.arange(100), np.arange(100)))
