"""Side-by-side evidence: the matching fragments of two submissions as line ranges.

Only run for reported pairs. Every k-gram (not only the winnowed ones) of each file pair is
matched by hash; matches on the same diagonal with consecutive positions form runs, and the
longest runs are kept greedily without overlap on either side (as in greedy string tiling).
Template k-grams and k-grams common to a large share of the class are never evidence.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from similarity.index import Prepared, PreparedFile

__all__ = ["Fragment", "align", "merge_neighbours", "shared_comments"]

_LAYOUT = frozenset({"NL", "IN", "DE"})
_MAX_MULTIPLICITY = 4  # a k-gram repeated many times in a file matches at most this often


@dataclass(frozen=True)
class Fragment:
    """A matching fragment: lines ``start_a..end_a`` of ``file_a`` match lines
    ``start_b..end_b`` of ``file_b`` (1-based, inclusive) over ``tokens`` normalised tokens."""

    file_a: str
    start_a: int
    end_a: int
    file_b: str
    start_b: int
    end_b: int
    tokens: int

    def to_dict(self) -> dict:
        # By hand: dataclasses.asdict deep-copies recursively, a tenth of writing pairs.json.
        return {"file_a": self.file_a, "start_a": self.start_a, "end_a": self.end_a,
                "file_b": self.file_b, "start_b": self.start_b, "end_b": self.end_b,
                "tokens": self.tokens}


def _evidence_index(f: PreparedFile, ignore: np.ndarray) -> tuple[np.ndarray, np.ndarray,
                                                                   np.ndarray]:
    """Positions of a file's usable k-grams, and the same sorted by hash (computed once per
    file, not once per pair)."""
    key = id(ignore)
    cached = getattr(f, "_evidence", None)
    if cached is not None and cached[0] == key:
        return cached[1]
    idx = np.flatnonzero(~f.template & ~np.isin(f.hashes, ignore))
    order = np.argsort(f.hashes[idx], kind="stable")
    value = (idx, f.hashes[idx][order], idx[order])
    f._evidence = (key, value)
    return value


def _runs(fa: PreparedFile, fb: PreparedFile, ignore: np.ndarray, k: int
          ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(start in A, start in B, length in tokens) of each maximal diagonal run of matches."""
    ha = fa.hashes
    ia, _, _ = _evidence_index(fa, ignore)
    _, sb, pb = _evidence_index(fb, ignore)
    if ia.size == 0 or sb.size == 0:
        z = np.zeros(0, dtype=np.int64)
        return z, z, z
    lo = np.searchsorted(sb, ha[ia], side="left")
    hi = np.minimum(np.searchsorted(sb, ha[ia], side="right"), lo + _MAX_MULTIPLICITY)
    cnt = hi - lo
    i = np.repeat(ia, cnt)
    # Ragged ranges lo..hi flattened: offsets into sb for every (i, j) match.
    starts = np.repeat(lo - np.concatenate(([0], np.cumsum(cnt)[:-1])), cnt)
    j = pb[np.arange(i.size) + starts] if i.size else np.zeros(0, dtype=np.int64)
    if i.size == 0:
        z = np.zeros(0, dtype=np.int64)
        return z, z, z
    d = j - i
    o = np.lexsort((i, d))
    i, d = i[o], d[o]
    brk = np.ones(i.size, dtype=bool)
    brk[1:] = (d[1:] != d[:-1]) | (i[1:] != i[:-1] + 1)
    run_id = np.cumsum(brk) - 1
    first = np.flatnonzero(brk)
    last = np.append(first[1:], i.size) - 1
    i0, i1 = i[first], i[last]
    del run_id
    return i0, i0 + d[first], i1 - i0 + k


def _tiles(pa: Prepared, pb: Prepared, ignore: np.ndarray, k: int, min_len: int) -> list[tuple]:
    """Greedy string tiling over every file pair: the longest diagonal runs first, none
    overlapping another on either side. Returns ``(n, name_a, x, name_b, y, fa, fb)``."""
    cands = []
    for fa in pa.files:
        for fb in pb.files:
            a0, b0, ln = _runs(fa, fb, ignore, k)
            for x, y, n in zip(a0.tolist(), b0.tolist(), ln.tolist(), strict=True):
                if n >= min_len:
                    cands.append((n, fa.features.name, x, fb.features.name, y, fa, fb))
    cands.sort(key=lambda c: (-c[0], c[1], c[2], c[3], c[4]))
    used: dict[tuple[str, str], np.ndarray] = {}
    tiles = []
    for cand in cands:
        n, na, x, nb, y, fa, fb = cand
        ua = used.setdefault(("a", na), np.zeros(len(fa.features.tokens) + 1, dtype=bool))
        ub = used.setdefault(("b", nb), np.zeros(len(fb.features.tokens) + 1, dtype=bool))
        # Runs of k-grams overlap a longer tile by a few tokens where two copied runs meet
        # (the end of one statement): keep the unmarked rest, as tiling anew would.
        while n > 0 and (ua[x] or ub[y]):
            x, y, n = x + 1, y + 1, n - 1
        while n > 0 and (ua[x + n - 1] or ub[y + n - 1]):
            n -= 1
        if n < min_len or ua[x : x + n].any() or ub[y : y + n].any():
            continue
        ua[x : x + n] = True
        ub[y : y + n] = True
        tiles.append((n, na, x, nb, y, fa, fb))
    return tiles


def merge_neighbours(tiles: list[tuple[int, int, int]], gap: int) -> list[list[tuple]]:
    """JPlag's subsequence match merging on the tiles ``(x, y, n)`` of one file pair: two
    tiles that are neighbours in both files' orders, separated by at most ``gap`` tokens on
    average (tokens a disguise inserted or changed between two copied runs), become one
    group. Returns the groups, each a list of tiles in order; ``gap`` 0 merges nothing."""
    by_x = sorted(tiles)
    rank_y = {t: r for r, t in enumerate(sorted(tiles, key=lambda t: (t[1], t[0])))}
    groups: list[list[tuple]] = []
    for t in by_x:
        if groups and gap > 0:
            last = groups[-1][-1]
            ga, gb = t[0] - (last[0] + last[2]), t[1] - (last[1] + last[2])
            if (rank_y[t] == rank_y[last] + 1 and ga >= 0 and gb >= 0
                    and (ga + gb) / 2 <= gap):
                groups[-1].append(t)
                continue
        groups.append([t])
    return groups


def _merged(pa: Prepared, pb: Prepared, ignore: np.ndarray, k: int, min_tokens: int,
            merge_gap: int, merge_buffer: int) -> list[tuple]:
    """Tiles down to ``min_tokens - merge_buffer`` tokens, merged across small gaps; groups
    of at least ``min_tokens`` matched tokens, as ``(tokens, name_a, name_b, fa, fb, tiles)``,
    most tokens first."""
    low = max(k, min_tokens - merge_buffer) if merge_gap > 0 else min_tokens
    per_files: dict[tuple[str, str], list] = {}
    files = {}
    for n, na, x, nb, y, fa, fb in _tiles(pa, pb, ignore, k, low):
        per_files.setdefault((na, nb), []).append((x, y, n))
        files[(na, nb)] = (fa, fb)
    out = []
    for key in sorted(per_files):
        for group in merge_neighbours(per_files[key], merge_gap):
            tokens = sum(t[2] for t in group)
            if tokens >= min_tokens:
                out.append((tokens, *key, *files[key], group))
    out.sort(key=lambda g: (-g[0], g[1], g[5][0][0], g[2], g[5][0][1]))
    return out


def align(pa: Prepared, pb: Prepared, ignore: np.ndarray, *, k: int, min_tokens: int,
          max_fragments: int, merge_gap: int = 0, merge_buffer: int = 0) -> list[Fragment]:
    """Matching fragments of two prepared submissions, longest first.

    Parameters
    ----------
    pa, pb : Prepared
    ignore : ndarray of int64, sorted
        K-gram hashes that are never evidence (common to the class).
    k : int
        The k-gram length the hashes were made with.
    min_tokens : int
        Fragments with fewer matched tokens are dropped.
    max_fragments : int
        At most this many fragments are returned.
    merge_gap, merge_buffer : int, default=0
        Subsequence match merging (``merge_neighbours``): runs down to ``min_tokens -
        merge_buffer`` tokens that follow each other in both files with at most
        ``merge_gap`` tokens between them become one fragment (its ``tokens`` count the
        matched tokens only). 0: no merging.

    Returns
    -------
    list of Fragment
    """
    out: list[Fragment] = []
    for tokens, na, nb, fa, fb, group in _merged(pa, pb, ignore, k, min_tokens, merge_gap,
                                                 merge_buffer)[:max_fragments]:
        (x, y, _), (x1, y1, n1) = group[0], group[-1]
        # Line ranges from the first to the last real token: block ends (DEDENT) sit on the
        # next statement's line and would stretch the fragment over code that differs.
        ta, tb = fa.features.tokens, fb.features.tokens
        s0, e0 = x, x1 + n1 - 1
        while s0 < e0 and ta[s0] in _LAYOUT:
            s0 += 1
        while e0 > s0 and ta[e0] in _LAYOUT:
            e0 -= 1
        s1, e1 = y + (s0 - x), y1 + n1 - 1 - (x1 + n1 - 1 - e0)
        while s1 < e1 and tb[s1] in _LAYOUT:
            s1 += 1
        while e1 > s1 and tb[e1] in _LAYOUT:
            e1 -= 1
        la, lb = fa.features.lines, fb.features.lines
        out.append(Fragment(na, int(la[s0, 0]), int(la[e0, 1]),
                            nb, int(lb[s1, 0]), int(lb[e1, 1]), int(tokens)))
    return out


def shared_comments(pa: Prepared, pb: Prepared, common: frozenset[str] = frozenset()
                    ) -> list[str]:
    """Comments/docstrings/unusual strings both submissions contain (as written in ``pa``),
    except those common to the class."""
    both = sorted((set(pa.comments) & set(pb.comments)) - common)
    return [pa.comments[c] for c in both]
