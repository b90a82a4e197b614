"""The faster paths of the scale work give exactly what the plain forms give."""

from __future__ import annotations

import numpy as np

from similarity.fingerprints import winnow
from similarity.sketch import (
    count_sketch,
    csr_rows,
    drop_common,
    hashed_df,
    keep_rare,
    keep_rare_in_place,
    set_rows,
)


def _winnow_by_sort(h: np.ndarray, w: int) -> np.ndarray:
    win = np.lib.stride_tricks.sliding_window_view(h, w)
    return np.unique(np.arange(win.shape[0]) + w - 1 - np.argmin(win[:, ::-1], axis=1))


def test_winnow_positions_are_those_of_a_sort():
    rng = np.random.default_rng(3)
    for t in range(400):
        n, w = int(rng.integers(2, 200)), int(rng.integers(1, 10))
        # few distinct values: many ties, where "rightmost" matters
        h = (rng.integers(-3, 3, n) if t % 2 else rng.integers(-2**62, 2**62, n)).astype(
            np.int64)
        if n > w:
            got = winnow(h, w)
            assert got.dtype == np.int64
            assert np.array_equal(got, _winnow_by_sort(h, w))


def _sets(rng, n_docs=40):
    pool = rng.integers(-2**62, 2**62, 300, dtype=np.int64)  # shared keys: some get common
    return [np.unique(rng.choice(pool, int(rng.integers(0, 60)))) for _ in range(n_docs)]


def test_rare_keys_in_place_and_by_mask_equal_drop_common():
    rng = np.random.default_rng(4)
    sets = _sets(rng)
    df = hashed_df(sets, np.arange(len(sets)))
    want = drop_common(sets, df, 3.0)
    assert sum(s.size for s in want) < sum(s.size for s in sets)  # something was common
    got = list(sets)
    keep_rare_in_place(got, df <= 3.0, 0, 17)
    keep_rare_in_place(got, df <= 3.0, 17)
    for a, b, c in zip(want, got, keep_rare(sets, df <= 3.0), strict=True):
        assert np.array_equal(a, b) and np.array_equal(a, c)


def test_lazy_rows_sketch_as_lists_do():
    import scipy.sparse as sp

    rng = np.random.default_rng(5)
    sets = _sets(rng)
    rows = set_rows(sets)
    listed = [(s, np.full(s.size, 1.0 / np.sqrt(s.size)) if s.size else np.zeros(0))
              for s in sets]
    assert len(rows) == len(sets) and len(rows[3:9]) == 6
    assert np.array_equal(count_sketch(rows, 64, 1, mixed=True),
                          count_sketch(listed, 64, 1, mixed=True))
    halves = np.concatenate([count_sketch(rows[:20], 64, 1, mixed=True),
                             count_sketch(rows[20:], 64, 1, mixed=True)])
    assert np.array_equal(halves, count_sketch(listed, 64, 1, mixed=True))
    m = sp.random(30, 50, density=0.2, random_state=0, format="csr")
    plain = [(m.indices[m.indptr[i]:m.indptr[i + 1]].astype(np.int64),
              m.data[m.indptr[i]:m.indptr[i + 1]].astype(np.float64)) for i in range(30)]
    assert np.array_equal(count_sketch(csr_rows(m), 32, 3), count_sketch(plain, 32, 3))
