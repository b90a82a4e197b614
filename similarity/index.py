"""From featurised submissions to sparse matrices, with the template subtracted up front and
fragments common to a large share of the class suppressed (Dolos's ``addIgnoredFile`` and
``maxFingerprintFileCount``).

``prepare`` removes the template from one submission: token k-grams that occur in the starter
code mark their tokens as template, and those tokens, their lines, the template's comments and
its AST features leave every signal before anything is compared. ``build_matrices`` then turns
prepared submissions into one sparse row each per signal; ``suppress_common`` zeroes the
columns present in more than ``max_class_share`` of the class. ``FingerprintIndex`` is the
inverted index (a sparse fingerprint-by-source matrix) used for large archives.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
import scipy.sparse as sp

from similarity.canonical import STATEMENT_SEP
from similarity.corpora import Submission
from similarity.factorize import PANDAS_FROM
from similarity.factorize import factorize as _factorize
from similarity.features import FileFeatures
from similarity.fingerprints import canon_ids, kgram_hashes, stable_hash64, stream_ids, winnow
from similarity.string_kernels import char_ngram_matrix

__all__ = ["Template", "Prepared", "prepare", "build_template", "build_matrices", "build_sparse",
           "suppress_common", "FingerprintIndex", "SIGNALS", "AstBag"]

SIGNALS = ("fingerprints", "tokens", "text", "ast", "lexical", "comments")

SEP = "\x1f"  # stands for removed (template) code: n-grams never bridge a gap
FILE_SEP = "\x1e"  # between the files of a multi-file submission


@dataclass(frozen=True)
class AstBag:
    """A bag of AST feature hashes as two arrays: sorted distinct keys and their counts.

    Arrays, not a ``Counter``: a one-file submission's bag is its file's own arrays, and a
    reading worker sends it back as two buffers instead of a thousand pickled ints (the
    ``Counter`` was a third of the pickling both ways at 5,000 submissions)."""

    keys: np.ndarray  # int64, sorted, distinct
    counts: np.ndarray  # int32, positive

    @classmethod
    def of_files(cls, files: list[FileFeatures]) -> AstBag:
        """The files' bags added up."""
        if len(files) == 1:
            return cls(files[0].ast_keys, files[0].ast_counts)
        if not files:
            return cls(np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int32))
        keys, codes = factorize(np.concatenate([f.ast_keys for f in files]))
        counts = np.bincount(codes.reshape(-1), minlength=keys.size,
                             weights=np.concatenate([f.ast_counts for f in files]))
        return cls(keys, counts.astype(np.int32))

    def minus(self, other: AstBag) -> AstBag:
        """``Counter`` subtraction: the counts of ``other`` taken away, positive ones kept."""
        if not other.keys.size or not self.keys.size:
            return self
        at = np.minimum(np.searchsorted(other.keys, self.keys), other.keys.size - 1)
        found = other.keys[at] == self.keys
        counts = self.counts - np.where(found, other.counts[at], 0)
        keep = counts > 0
        return AstBag(self.keys[keep], counts[keep])


@dataclass
class Template:
    """The starter code, as everything that is subtracted from each submission."""

    kgrams: np.ndarray  # sorted distinct k-gram hashes of the template
    comments: frozenset[str]
    ast: AstBag
    words: Counter
    canon: frozenset[str] = frozenset()  # normalised statements of the starter code


@dataclass
class PreparedFile:
    features: FileFeatures
    hashes: np.ndarray  # every k-gram hash (position i covers tokens i..i+k-1)
    template: np.ndarray  # bool per k-gram: also in the template


@dataclass
class Prepared:
    """A submission with the template removed, ready for the matrices."""

    sub: Submission
    files: list[PreparedFile]
    fingerprints: np.ndarray  # distinct winnowed fingerprints, template removed
    kgrams: np.ndarray  # distinct k-gram hashes, template removed (for class frequencies)
    stream: str
    text: str
    ast: AstBag  # the AST features, template subtracted
    words: Counter  # hashed lexical words -> count, template subtracted
    comments: dict[str, str] = field(default_factory=dict)  # normalised -> as written
    canon: str = ""  # normalised statement stream, template statements removed
    canon_grams: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))


def build_template(subs: list[Submission], k: int) -> Template | None:
    """The template from its featurised files (``None`` when there is no template)."""
    files = [f for s in subs for f in s.files]
    if not files:
        return None
    hashes = [kgram_hashes(stream_ids(f.stream), k) for f in files]
    words: Counter = Counter()
    for f in files:
        words.update(f.words)
    return Template(
        kgrams=np.unique(np.concatenate(hashes)) if hashes else np.zeros(0, np.int64),
        comments=frozenset(c[1] for f in files for c in f.comments),
        ast=AstBag.of_files(files), words=words,
        canon=frozenset(st for f in files for part in (f.canon, f.canon_defs)
                        for st in part.split(STATEMENT_SEP) if st))


def _covered(n_tokens: int, starts: np.ndarray, k: int) -> np.ndarray:
    """Tokens covered by any k-gram starting at ``starts``."""
    cov = np.zeros(n_tokens + 1, dtype=np.int32)
    np.add.at(cov, starts, 1)
    np.add.at(cov, np.minimum(starts + k, n_tokens), -1)
    return np.cumsum(cov[:-1]) > 0


CANON_K = 6  # labels per k-gram of the normalised stream (about one statement)


def _canon(files: list[FileFeatures], template: Template | None) -> tuple[str, np.ndarray]:
    """The submission's normalised stream without the starter's statements, and its distinct
    k-gram hashes (what the ``fingerprints`` component compares)."""
    tstmts = template.canon if template is not None else frozenset()
    streams = [_without(f.canon, tstmts) for f in files]
    grams = [kgram_hashes(canon_ids(s), CANON_K) for s in streams]
    return FILE_SEP.join(streams), _distinct(grams)


def _without(canon: str, tstmts: frozenset[str]) -> str:
    """A normalised stream without the template's statements and without empty ones."""
    sep = STATEMENT_SEP
    if not tstmts and sep + sep not in canon and not canon.startswith(sep) \
            and not canon.endswith(sep):
        return canon  # nothing to drop (no template, no empty statement): as it is
    return sep.join(st for st in canon.split(sep) if st and st not in tstmts)


def prepare(sub: Submission, template: Template | None, k: int, window: int) -> Prepared:
    """Subtract the template from a submission and compute its per-signal inputs.

    Parameters
    ----------
    sub : Submission
    template : Template or None
    k, window : int
        Fingerprint k-gram length and winnowing window (``SimilarityOptions``).

    Returns
    -------
    Prepared
    """
    pfiles, fps, kgs, streams, texts = [], [], [], [], []
    words: Counter = Counter()
    comments: dict[str, str] = {}
    tcomments = template.comments if template else frozenset()
    for f in sub.files:
        h = kgram_hashes(stream_ids(f.stream), k)
        in_t = (np.isin(h, template.kgrams, assume_unique=False) if template is not None
                and template.kgrams.size else np.zeros(h.size, dtype=bool))
        pfiles.append(PreparedFile(f, h, in_t))
        sel = winnow(h, window)
        fps.append(h[sel][~in_t[sel]])
        kgs.append(h[~in_t])
        n = len(f.tokens)
        cov = _covered(n, np.flatnonzero(in_t), k) if in_t.any() else np.zeros(n, dtype=bool)
        if cov.any():  # template tokens become one separator per removed run
            codes = np.frombuffer(f.stream.encode("utf-32-le"), dtype=np.uint32).copy()
            codes[cov] = ord(SEP)
            keep = np.concatenate(([True], ~(cov[1:] & cov[:-1])))
            streams.append(codes[keep].tobytes().decode("utf-32-le"))
        else:
            streams.append(f.stream)
        # Text: drop lines whose every token is template code, and template comments.
        tmpl_lines: set[int] = set()
        if cov.any():
            first = f.lines[:, 0]
            on_line_all = {}
            for ln, c in zip(first.tolist(), cov.tolist(), strict=True):
                on_line_all[ln] = on_line_all.get(ln, True) and c
            tmpl_lines = {ln for ln, c in on_line_all.items() if c}
        for line, norm, orig in f.comments:
            if norm in tcomments:
                tmpl_lines.add(line)
            else:
                comments.setdefault(norm, orig)
        texts.append(" ".join(t for i, t in enumerate(f.line_texts, 1)
                              if t and i not in tmpl_lines) if tmpl_lines else f.text)
        words.update(f.words)
    ast = AstBag.of_files(sub.files)
    if template is not None:
        ast = ast.minus(template.ast)
        words.subtract(template.words)
        words = +words
    hashed: Counter = Counter({_word_hash(w): c for w, c in words.items()})
    canon, canon_grams = _canon(sub.files, template)
    return Prepared(sub=sub, files=pfiles, fingerprints=_distinct(fps), kgrams=_distinct(kgs),
                    stream=FILE_SEP.join(streams), text="\n".join(texts), ast=ast,
                    words=hashed, comments=comments, canon=canon, canon_grams=canon_grams)


@lru_cache(maxsize=1 << 18)
def _word_hash(word: str) -> int:
    return stable_hash64(word)  # the same words recur across a class: hash each once


def _distinct(arrays: list[np.ndarray]) -> np.ndarray:
    if not arrays:
        return np.zeros(0, dtype=np.int64)
    a = np.sort(np.concatenate(arrays))
    return a[np.concatenate(([True], a[1:] != a[:-1]))] if a.size else a


def factorize(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sorted distinct keys and each key's position among them, like
    ``np.unique(keys, return_inverse=True)`` but by hashing (pandas): ~6x faster on the
    millions of feature keys of a large class."""
    if keys.size == 0:
        return keys, np.zeros(0, dtype=np.int64)
    codes, uniques = _factorize(keys, sort=True)
    return np.asarray(uniques, dtype=keys.dtype), codes


def _binary_rows(sets: list[np.ndarray]) -> tuple[sp.csr_matrix, np.ndarray]:
    """One 0/1 row per array of int64 keys; returns the matrix and the column keys."""
    lens = np.fromiter((s.size for s in sets), dtype=np.int64, count=len(sets))
    allk = np.concatenate(sets) if sets else np.zeros(0, dtype=np.int64)
    keys, col = factorize(allk)
    rows = np.repeat(np.arange(len(sets)), lens)
    m = sp.csr_matrix((np.ones(allk.size, dtype=np.float32), (rows, col.reshape(-1))),
                      shape=(len(sets), keys.size))
    m.sum_duplicates()
    m.data[:] = 1.0
    return m, keys


def _bag_rows(bags: list[AstBag]) -> sp.csr_matrix:
    """One count row per bag (columns: the distinct keys of all bags, sorted)."""
    return _key_rows([b.keys for b in bags],
                     [b.counts.astype(np.float32) for b in bags])


def _count_rows(bags: list[Counter]) -> sp.csr_matrix:
    return _key_rows([np.fromiter(b.keys(), dtype=np.int64, count=len(b)) for b in bags],
                     [np.fromiter(b.values(), dtype=np.float32, count=len(b)) for b in bags])


def _key_rows(keys: list[np.ndarray], vals: list[np.ndarray]) -> sp.csr_matrix:
    """One row per array of distinct int64 keys with its values (columns: all keys, sorted)."""
    lens = np.fromiter((k.size for k in keys), dtype=np.int64, count=len(keys))
    allk = np.concatenate(keys) if keys else np.zeros(0, dtype=np.int64)
    _, col = factorize(allk)
    rows = np.repeat(np.arange(len(keys)), lens)
    data = np.concatenate(vals) if vals else np.zeros(0, dtype=np.float32)
    return sp.csr_matrix((data, (rows, col.reshape(-1))),
                         shape=(len(keys), int(col.max()) + 1 if col.size else 0))


def build_sparse(prepared: list[Prepared]) -> dict[str, sp.csr_matrix]:
    """The signals that are sparse at any scale: fingerprints, comments, AST and words."""
    # The fingerprints component compares the normalised statement streams (dead code out,
    # helpers inlined, independent statements in canonical order); the winnowed token
    # fingerprints still find the archive's candidates and the evidence fragments.
    fp, _ = _binary_rows([p.canon_grams for p in prepared])
    cm, _ = _binary_rows([np.fromiter((stable_hash64(c) for c in sorted(p.comments)),
                                      dtype=np.int64, count=len(p.comments)) for p in prepared])
    return {"fingerprints": fp, "comments": cm,
            "ast": _bag_rows([p.ast for p in prepared]),
            "lexical": _count_rows([p.words for p in prepared])}


def build_matrices(prepared: list[Prepared], token_p, text_p) -> dict[str, sp.csr_matrix]:
    """One sparse row per prepared submission for each signal (see ``SIGNALS``).

    ``fingerprints`` and ``comments`` are 0/1 rows; ``tokens`` and ``text`` are presence rows
    from ``string_kernels.char_ngram_matrix`` (the same featuriser as the reference models'
    string kernels); ``ast`` holds raw counts.
    """
    return {
        **build_sparse(prepared),
        "tokens": char_ngram_matrix([p.canon for p in prepared], tuple(token_p), "presence"
                                    ).astype(np.float32),
        "text": char_ngram_matrix([p.text for p in prepared], tuple(text_p), "presence"
                                  ).astype(np.float32),
    }


def column_df(m: sp.csr_matrix, rows: np.ndarray) -> np.ndarray:
    """Number of the given rows in which each column is non-zero."""
    sub = m[rows]
    return np.bincount(sub.indices, minlength=m.shape[1])


def suppress_common(mats: dict[str, sp.csr_matrix], class_rows: np.ndarray, *,
                    max_share: float, min_count: int) -> dict[str, int]:
    """Zero every column present in more than ``max(max_share * n_class, min_count)`` class
    submissions, in place. Returns how many columns were suppressed per signal."""
    limit = max(max_share * class_rows.size, float(min_count))
    dropped = {}
    for name, m in mats.items():
        df = column_df(m, class_rows)
        common = df > limit
        dropped[name] = int(common.sum())
        if common.any():
            keep = ~common[m.indices]
            m.data[~keep] = 0.0
            m.eliminate_zeros()
    return dropped


def suppressed_kgrams(prepared: list[Prepared], class_rows: np.ndarray, *, max_share: float,
                      min_count: int) -> np.ndarray:
    """Sorted k-gram hashes present in too many class submissions (never shown as evidence)."""
    limit = max(max_share * class_rows.size, float(min_count))
    if not class_rows.size:
        return np.zeros(0, dtype=np.int64)
    # distinct keys in order of appearance (no sort of the millions), then the few common
    # ones sorted
    allk = np.concatenate([prepared[i].kgrams for i in class_rows])
    codes, keys = _factorize(allk, sort=allk.size < PANDAS_FROM)  # numpy sorts anyway
    return np.sort(keys[np.bincount(codes, minlength=keys.size) > limit])


class FingerprintIndex:
    """An inverted fingerprint index over many sources (e.g. a 50,000-file archive).

    Parameters
    ----------
    fingerprints : list of ndarray of int64
        Each source's distinct fingerprints.

    Notes
    -----
    The index is a sparse source-by-fingerprint matrix in CSC order, so a query is one
    sparse product: the number of fingerprints each query shares with each source.
    """

    def __init__(self, fingerprints: list[np.ndarray]):
        self.fingerprints = fingerprints

    def build(self) -> FingerprintIndex:
        self.matrix_, self.keys_ = _binary_rows(self.fingerprints)
        self.sizes_ = np.asarray(self.matrix_.sum(axis=1)).ravel()
        return self

    def query(self, queries: list[np.ndarray], top: int) -> tuple[np.ndarray, np.ndarray,
                                                                   np.ndarray]:
        """The ``top`` sources sharing the most fingerprints with each query.

        Returns
        -------
        rows, cols, shared : ndarray
            Query index, source index and number of shared fingerprints of each candidate.
        """
        lens = np.fromiter((q.size for q in queries), dtype=np.int64, count=len(queries))
        allq = np.concatenate(queries) if queries else np.zeros(0, dtype=np.int64)
        pos = np.searchsorted(self.keys_, allq)
        pos = np.minimum(pos, max(self.keys_.size - 1, 0))
        hit = self.keys_.size > 0
        found = (self.keys_[pos] == allq) if hit else np.zeros(allq.size, dtype=bool)
        rows = np.repeat(np.arange(len(queries)), lens)[found]
        q = sp.csr_matrix((np.ones(int(found.sum()), dtype=np.float32), (rows, pos[found])),
                          shape=(len(queries), self.keys_.size))
        shared = (q @ self.matrix_.T).tocsr()
        out_r, out_c, out_s = [], [], []
        for i in range(shared.shape[0]):  # one loop per query student, not per pair
            lo, hi = shared.indptr[i], shared.indptr[i + 1]
            if hi == lo:
                continue
            cols, vals = shared.indices[lo:hi], shared.data[lo:hi]
            order = np.lexsort((cols, -vals))[:top]
            out_r.append(np.full(order.size, i))
            out_c.append(cols[order])
            out_s.append(vals[order])
        if not out_r:
            z = np.zeros(0, dtype=np.int64)
            return z, z, z.astype(np.float32)
        return np.concatenate(out_r), np.concatenate(out_c), np.concatenate(out_s)
