"""Sketches for very large classes: every pair screened by dense products of count sketches,
the pairs near the threshold then scored exactly.

For a class whose number of pairs exceeds ``SimilarityOptions.exact_pairs``, the exact
string-kernel matrices (``string_kernels.char_ngram_matrix`` over every document) cost too much
time and memory. Instead each document keeps its distinct n-gram hashes (stable 64-bit
hashes, as the fingerprints), and each unit-length feature vector (presence of n-grams, tf-idf
of AST features and words) is projected by a count sketch (Charikar, Chen and Farach-Colton
2002) to ``dim`` dimensions: the dot product of two sketches estimates the cosine with
standard deviation about ``1/sqrt(dim)``. The hash functions are fixed, so sketches are
deterministic.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import scipy.sparse as sp

from similarity.fingerprints import _BASE, _mix

__all__ = ["ngram_hash_sets", "hashed_df", "drop_common", "keep_rare", "keep_rare_in_place",
           "count_sketch", "cosine_of_sets", "presence_sketches"]

_DF_BUCKETS = 1 << 24  # class-frequency table: 16M counters, collisions add ~1 to a count


def ngram_hash_sets(docs: list[str], lengths: tuple[int, ...]) -> list[np.ndarray]:
    """Per document, the distinct stable hashes (in no set order) of its character n-grams of every
    length in ``lengths`` (the length is mixed into the hash, as separate columns would be).

    The same values as ``kgram_hashes(ids, p)`` for each ``p``, but one rolling pass serves
    every length: the polynomial of length ``p + 1`` extends that of length ``p``. Every step
    works in place, each length's hashes written straight into one buffer per document.
    """
    import pandas as pd  # here, not at start-up: sketches serve only large classes

    wanted = sorted(set(lengths))
    salts = {p: np.uint64(p * 0x632BE59BD9B4E019 % (1 << 62)) for p in wanted}
    out = []
    # Scratch arrays made once for the longest document and used by every one: one
    # allocation per document each would leave holes between the sets kept (a class's
    # sets held a third more memory than their size).
    longest = max(map(len, docs), default=0)
    buf_all = np.empty(longest * len(wanted), dtype=np.uint64)
    tmp_all = np.empty(longest, dtype=np.uint64)
    h_all = np.empty(longest, dtype=np.uint64)
    ids_all = np.empty(longest, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for doc in docs:
            ids = ids_all[: len(doc)]  # the document's code points
            ids[:] = np.frombuffer(doc.encode("utf-32-le"), dtype=np.uint32)
            buf = buf_all[: sum(max(ids.size - p + 1, 0) for p in wanted)]
            tmp = tmp_all[: ids.size]
            h = h_all[: ids.size]  # h[i] covers ids[i .. i + j - 1]; j = 1: the ids
            h[:] = ids
            at = 0
            for j in range(1, wanted[-1] + 1):
                n = ids.size - j + 1
                if n <= 0:
                    break
                if j > 1:
                    h = h[:n]
                    np.multiply(h, _BASE, out=h)
                    np.add(h, ids[j - 1 : j - 1 + n], out=h)
                if j in salts:
                    _mix_into(h, buf[at : at + n], tmp[:n])
                    np.bitwise_xor(buf[at : at + n], salts[j], out=buf[at : at + n])
                    at += n
            # distinct by hashing (pandas): three times faster than sorting, and no use here
            # needs the keys in order
            out.append(pd.unique(buf[:at].view(np.int64)) if at else np.zeros(0, np.int64))
    return out


_M1, _M2 = np.uint64(0xBF58476D1CE4E5B9), np.uint64(0x94D049BB133111EB)


def _mix_into(h: np.ndarray, out: np.ndarray, tmp: np.ndarray) -> None:
    """``out[:] = fingerprints._mix(h)`` without temporaries (``tmp``: scratch, h's size)."""
    np.right_shift(h, np.uint64(30), out=tmp)
    np.bitwise_xor(h, tmp, out=out)
    np.multiply(out, _M1, out=out)
    np.right_shift(out, np.uint64(27), out=tmp)
    np.bitwise_xor(out, tmp, out=out)
    np.multiply(out, _M2, out=out)
    np.right_shift(out, np.uint64(31), out=tmp)
    np.bitwise_xor(out, tmp, out=out)


def _bucket(keys: np.ndarray, salt: int, size: int) -> np.ndarray:
    with np.errstate(over="ignore"):
        h = _mix(keys.view(np.uint64) ^ np.uint64(salt))
    return (h % np.uint64(size)).astype(np.int64)


def _df_bucket(keys: np.ndarray) -> np.ndarray:
    # n-gram keys are splitmix64 outputs already: their low bits are a fair bucket as they are
    return (keys & (_DF_BUCKETS - 1)).astype(np.intp, copy=False)


def hashed_df(sets: list[np.ndarray], rows: np.ndarray, chunk: int = 256) -> np.ndarray:
    """Document frequency table over ``rows``, indexed by the low 24 bits of each (already
    mixed) n-gram hash (int32: a count of documents)."""
    counts = np.zeros(_DF_BUCKETS, dtype=np.int32)
    idx = rows.tolist()
    for lo in range(0, len(idx), chunk):  # bounded memory: one chunk of keys at a time
        part = [sets[i] for i in idx[lo : lo + chunk] if sets[i].size]
        if part:
            counts += np.bincount(_df_bucket(np.concatenate(part)), minlength=_DF_BUCKETS)
    return counts


def drop_common(sets: list[np.ndarray], df: np.ndarray, limit: float) -> list[np.ndarray]:
    """Each set without the keys whose (hashed) class frequency exceeds ``limit``."""
    return keep_rare(sets, df <= limit)


def keep_rare(sets: list[np.ndarray], rare: np.ndarray) -> list[np.ndarray]:
    """Each set without the keys whose bucket is not ``rare`` (``df <= limit``, a bool per
    bucket: ``drop_common`` with the comparison made once)."""
    return [s[rare[_df_bucket(s)]] if s.size else s for s in sets]


def keep_rare_in_place(sets: list[np.ndarray], rare: np.ndarray, lo: int = 0,
                       hi: int | None = None) -> None:
    """``sets[lo:hi] = keep_rare(sets[lo:hi], rare)``, one set at a time: each full set is
    freed as its filtered copy is made, never the class's at once."""
    for i in range(lo, len(sets) if hi is None else hi):
        if sets[i].size:
            sets[i] = sets[i][rare[_df_bucket(sets[i])]]


def count_sketch(rows: Sequence[tuple[np.ndarray, np.ndarray]], dim: int, salt: int,
                 mixed: bool = False) -> np.ndarray:
    """Dense ``(n, dim)`` float32 count sketches of sparse vectors ``(keys, weights)``.

    ``mixed=True`` says the keys are well-spread hashes already (n-gram hashes): bits 32 and
    up then serve as bucket and sign, which is much cheaper than hashing every key again.
    """
    n = len(rows)
    out = np.zeros(n * dim, dtype=np.float64)
    for i, (keys, w) in enumerate(rows):
        if keys.size == 0:
            continue
        b = (((keys.view(np.uint64) >> np.uint64(32)) % np.uint64(2 * dim)).astype(np.int64)
             if mixed else _bucket(keys, salt, 2 * dim))
        sign = np.where(b & 1, -1.0, 1.0)
        out[i * dim : (i + 1) * dim] += np.bincount(b >> 1, weights=sign * w, minlength=dim)
    return out.reshape(n, dim).astype(np.float32)


def presence_sketches(docs: list[str], lengths: tuple[int, ...], n_class: int, dim: int,
                      salt: int, rare_of: Callable[[np.ndarray], np.ndarray]
                      ) -> tuple[np.ndarray, np.ndarray]:
    """Count sketches of the documents' n-gram presence vectors, without the n-grams common
    in the class, for part of the documents while another process may hold the rest.

    Parameters
    ----------
    docs : list of str
        This part's documents; the first ``n_class`` are classmates (the rest, sources, do not
        count in the class frequencies).
    lengths : tuple of int
        The n-gram lengths (``ngram_hash_sets``).
    n_class : int
    dim, salt : int
        See ``count_sketch``.
    rare_of : callable
        This part's class frequency table (``hashed_df``) -> the rare buckets of the whole
        class (``df <= limit``, a bool per bucket), the parts' tables added up.

    Returns
    -------
    rare : ndarray of bool
        From ``rare_of``.
    sketches : ndarray of shape (len(docs), dim), float32
        As ``count_sketch(set_rows(sets), dim, salt, mixed=True)`` of the sets kept rare.
    """
    sets = ngram_hash_sets(docs, lengths)
    rare = rare_of(hashed_df(sets, np.arange(min(n_class, len(sets)))))
    keep_rare_in_place(sets, rare)
    return rare, count_sketch(set_rows(sets), dim, salt, mixed=True)


class _Rows(Sequence):
    """Rows ``(keys, weights)`` made one at a time as they are read: a class's rows at once
    would hold a float64 weight per key (as much memory again as the keys)."""

    def __init__(self, n: int, row: Callable[[int], tuple[np.ndarray, np.ndarray]]):
        self.n, self.row = n, row

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, i):  # type: ignore[override]
        if isinstance(i, slice):  # lazy too
            r = range(*i.indices(self.n))
            return _Rows(len(r), lambda j: self.row(r[j]))
        if not -self.n <= i < self.n:
            raise IndexError(i)
        return self.row(i % self.n)


def set_rows(sets: list[np.ndarray]) -> Sequence[tuple[np.ndarray, np.ndarray]]:
    """Presence vectors of unit length: weight ``1/sqrt(|set|)`` on every key."""
    def row(i: int) -> tuple[np.ndarray, np.ndarray]:
        s = sets[i]
        return s, (np.full(s.size, 1.0 / np.sqrt(s.size)) if s.size else np.zeros(0))
    return _Rows(len(sets), row)


def csr_rows(m: sp.csr_matrix) -> Sequence[tuple[np.ndarray, np.ndarray]]:
    """The rows of a sparse matrix as ``(column ids, values)``."""
    m = m.tocsr()

    def row(i: int) -> tuple[np.ndarray, np.ndarray]:
        lo, hi = m.indptr[i], m.indptr[i + 1]
        return m.indices[lo:hi].astype(np.int64), m.data[lo:hi].astype(np.float64)
    return _Rows(m.shape[0], row)


def cosine_of_sets(a: np.ndarray, b: np.ndarray) -> float:
    """Exact presence cosine ``|A & B| / sqrt(|A| |B|)`` of two arrays of distinct keys."""
    if a.size == 0 or b.size == 0:
        return 0.0
    return float(np.intersect1d(a, b, assume_unique=True).size / np.sqrt(a.size * b.size))
