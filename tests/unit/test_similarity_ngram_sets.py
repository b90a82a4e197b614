"""``sketch.ngram_hash_sets`` (one rolling pass, in place) against the plain form: each
length's polynomial hash of every window in Python integers, mixed and salted, distinct in
order of first appearance."""

from __future__ import annotations

import numpy as np

from similarity.fingerprints import _BASE, _mix
from similarity.sketch import ngram_hash_sets

MASK = (1 << 64) - 1


def _plain(doc: str, lengths: tuple[int, ...]) -> np.ndarray:
    ids = [ord(ch) for ch in doc]
    keys: list[int] = []
    for p in sorted(set(lengths)):
        salt = p * 0x632BE59BD9B4E019 % (1 << 62)
        windows = []
        for i in range(len(ids) - p + 1):
            h = 0
            for v in ids[i : i + p]:
                h = (h * int(_BASE) + v) & MASK
            windows.append(h)
        with np.errstate(over="ignore"):
            mixed = _mix(np.array(windows, dtype=np.uint64)) ^ np.uint64(salt)
        keys += mixed.view(np.int64).tolist()
    seen: dict[int, None] = dict.fromkeys(keys)  # first appearance order
    return np.array(list(seen), dtype=np.int64)


def test_sets_equal_the_plain_form():
    docs = ["", "a", "ab", "abc", "x = 1\ny = x + 1\n" * 3, "é€😀\x00\x1f" * 4,
            "\U0010ffff" * 9, "def f(a):\n    return a * a  # square\n"]
    for lengths in ((3, 4, 5, 6), (5, 6, 7), (2,), (1, 9), (4, 4, 2)):
        got = ngram_hash_sets(docs, lengths)
        assert len(got) == len(docs)
        for doc, keys in zip(docs, got, strict=True):
            assert keys.dtype == np.int64
            np.testing.assert_array_equal(keys, _plain(doc, lengths))
