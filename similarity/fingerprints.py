"""Token k-gram hashes and winnowing (Schleimer, Wilkerson and Aiken, SIGMOD 2003).

Hashes are fixed functions of the token text (blake2b for each token, then a polynomial
rolling hash modulo 2**64 and a splitmix64 finaliser), so fingerprints are the same in every
process, on every machine and in every cache; the built-in ``hash()`` is never used.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache

import numpy as np

__all__ = ["stable_hash64", "token_ids", "stream_ids", "canon_ids", "kgram_hashes", "winnow"]

_BASE = np.uint64(0x100000001B3)  # an odd multiplier (the 64-bit FNV prime)


def stable_hash64(s: str) -> int:
    """A stable signed 64-bit hash of a string (blake2b, 8 bytes)."""
    return int.from_bytes(hashlib.blake2b(s.encode("utf-8"), digest_size=8).digest(), "little",
                          signed=True)


@lru_cache(maxsize=65536)
def _token_id(tok: str) -> int:
    return stable_hash64(tok) & 0xFFFFFFFFFFFFFFFF


def token_ids(tokens: list[str]) -> np.ndarray:
    """Each token's stable 64-bit id, shape (n_tokens,), dtype uint64."""
    return np.fromiter((_token_id(t) for t in tokens), dtype=np.uint64, count=len(tokens))


def stream_ids(stream: str) -> np.ndarray:
    """``token_ids`` of a token stream string (``normalize.token_stream``), vectorised."""
    from similarity.normalize import _VOCAB, TOKEN_CHAR_BASE

    global _STREAM_IDS
    if _STREAM_IDS is None:  # the id of every vocabulary token, then of the unknown one
        _STREAM_IDS = token_ids([*_VOCAB, "\x00unknown"])
    codes = np.frombuffer(stream.encode("utf-32-le"), dtype=np.uint32)
    return _STREAM_IDS[codes - TOKEN_CHAR_BASE]


_STREAM_IDS: np.ndarray | None = None


def canon_ids(stream: str) -> np.ndarray:
    """Ids of a normalised statement stream (``canonical.canonical_stream``): its characters
    are already stable hashes of their labels, so their code points, mixed, are the ids."""
    with np.errstate(over="ignore"):
        return _mix(np.frombuffer(stream.encode("utf-32-le"), dtype=np.uint32)
                    .astype(np.uint64))


def _mix(h: np.ndarray) -> np.ndarray:
    """splitmix64 finaliser: spreads the bits so the minimum of a window is a fair sample."""
    h = h ^ (h >> np.uint64(30))
    h = h * np.uint64(0xBF58476D1CE4E5B9)
    h = h ^ (h >> np.uint64(27))
    h = h * np.uint64(0x94D049BB133111EB)
    return h ^ (h >> np.uint64(31))


def kgram_hashes(ids: np.ndarray, k: int) -> np.ndarray:
    """Hash of every window of ``k`` consecutive tokens.

    Parameters
    ----------
    ids : ndarray of shape (n_tokens,), dtype uint64
        Token ids from ``token_ids``.
    k : int
        Window length in tokens.

    Returns
    -------
    ndarray of shape (max(n_tokens - k + 1, 0),), dtype int64
        ``hashes[i]`` covers tokens ``i .. i + k - 1``.
    """
    n = ids.size - k + 1
    if n <= 0:
        return np.zeros(0, dtype=np.int64)
    h = np.zeros(n, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for j in range(k):  # Horner's rule, vectorised over windows; wraps modulo 2**64
            h = h * _BASE + ids[j : j + n]
        h = _mix(h)
    return h.view(np.int64)


def winnow(hashes: np.ndarray, window: int) -> np.ndarray:
    """Positions chosen by winnowing: the rightmost minimum of every ``window`` hashes.

    Every run of at least ``window + k - 1`` tokens shared by two files has at least one
    chosen fingerprint in common.

    Parameters
    ----------
    hashes : ndarray of shape (n,), dtype int64
    window : int

    Returns
    -------
    ndarray of int64
        Sorted distinct positions into ``hashes``.

    Examples
    --------
    >>> winnow(np.array([5, 3, 8, 3, 9, 1], dtype=np.int64), 3).tolist()
    [1, 3, 5]
    """
    n = hashes.size
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    if n <= window:
        rev = hashes[::-1]
        return np.array([n - 1 - int(np.argmin(rev))], dtype=np.int64)
    win = np.lib.stride_tricks.sliding_window_view(hashes, window)
    right = window - 1 - np.argmin(win[:, ::-1], axis=1)  # rightmost minimum per window
    # The rightmost minimum never moves left as the window slides (it stays while in the
    # window, and only a value at least as small, further right, replaces it): the positions
    # are sorted already, so distinct ones are those unlike their predecessor (no sort).
    pos = np.arange(win.shape[0]) + right
    return pos[np.concatenate(([True], pos[1:] != pos[:-1]))]
