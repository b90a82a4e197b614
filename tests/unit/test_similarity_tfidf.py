"""The engine's tf-idf and unit rows (scalings applied to the entries in place) are those of
the plain form with diagonal sparse products, entry for entry, sorted or unsorted input."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from similarity.engine import _row_normalise, _tfidf
from similarity.index import column_df


def _plain(counts: sp.csr_matrix, class_rows: np.ndarray) -> sp.csr_matrix:
    m = counts.astype(np.float32).tocsr(copy=True)
    m.data = 1.0 + np.log(np.maximum(m.data, 1.0))
    df = column_df(m, class_rows)
    idf = (np.log((1.0 + class_rows.size) / (1.0 + df)) + 1.0).astype(np.float32)
    return _unit_by_product(sp.csr_matrix(m @ sp.diags(idf)))


def _unit_by_product(m: sp.csr_matrix) -> sp.csr_matrix:
    """Rows of unit length the plain way: ``diags(1 / norm) @ m``."""
    norms = np.sqrt(np.asarray(m.multiply(m).sum(axis=1)).ravel())
    inv = np.divide(1.0, norms, out=np.zeros_like(norms), where=norms > 0)
    return sp.csr_matrix(sp.diags(inv.astype(np.float32)) @ m)


def _shuffled(m: sp.csr_matrix, rng) -> sp.csr_matrix:
    m = m.copy()
    for i in range(m.shape[0]):
        lo, hi = m.indptr[i], m.indptr[i + 1]
        order = rng.permutation(hi - lo)
        m.indices[lo:hi] = m.indices[lo:hi][order]
        m.data[lo:hi] = m.data[lo:hi][order]
    m.has_sorted_indices = False
    return m


def test_tfidf_equals_the_plain_products():
    rng = np.random.default_rng(0)
    for seed in range(4):
        d = (rng.random((250, 600)) < 0.04 + 0.02 * seed) * rng.integers(1, 9, (250, 600))
        d[7] = 0  # a row with nothing left
        counts = sp.csr_matrix(d.astype(np.float64))
        for m, rows in ((counts, np.arange(250)), (_shuffled(counts, rng), np.arange(180))):
            got, want = _tfidf(m, rows), _plain(m, rows)
            assert got.dtype == want.dtype == np.float32
            np.testing.assert_array_equal(got.indptr, want.indptr)
            np.testing.assert_array_equal(got.indices, want.indices)
            np.testing.assert_array_equal(got.data, want.data)


def test_row_normalise_equals_the_plain_product():
    rng = np.random.default_rng(1)
    d = (rng.random((120, 400)) < 0.05) * rng.integers(1, 4, (120, 400))
    d[3] = 0  # a row of norm 0 stays empty
    presence = sp.csr_matrix((d > 0).astype(np.float32))
    for m in (presence, _shuffled(presence, rng)):
        got, want = _row_normalise(m), _unit_by_product(m)
        want.sort_indices()
        assert got.dtype == want.dtype == np.float32
        np.testing.assert_array_equal(got.indptr, want.indptr)
        np.testing.assert_array_equal(got.indices, want.indices)
        np.testing.assert_array_equal(got.data, want.data)
        assert got.getnnz(axis=1)[3] == 0
    assert presence.has_sorted_indices  # the input is left as it was (a copy is scaled)
    np.testing.assert_array_equal(presence.data, 1.0)
