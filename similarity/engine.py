"""``compare``: submissions in, scored pairs with evidence and clusters out.

Flow: read and featurise every file (``features``, cached by content) -> subtract the template
(``index.prepare``) -> one sparse row per submission and signal (``index.build_matrices``) ->
suppress what a large share of the class has (``index.suppress_common``) -> every component
for all pairs of the class by blocked sparse products, and for archive/web sources exhaustively
or through the fingerprint index -> combined score -> fragments and shared comments for the
reported pairs only (``align``) -> clusters. No HTML here: reports/ draws the result.
"""

from __future__ import annotations

import functools
import gc
import math
import multiprocessing
import os
import time
from collections.abc import Callable, Collection, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Protocol

import numpy as np
import scipy.sparse as sp

from similarity import verdict
from similarity.align import Fragment, align, shared_comments
from similarity.beside import beside, can_fork, together
from similarity.calibrate import RowStatistics, lift, standout
from similarity.clusters import clusters
from similarity.corpora import Submission, children, load_submission
from similarity.errors import SimilarityInputError
from similarity.gram import CountGram, rows_view
from similarity.index import (
    FingerprintIndex,
    Prepared,
    Template,
    build_matrices,
    build_sparse,
    build_template,
    column_df,
    prepare,
    suppress_common,
    suppressed_kgrams,
)
from similarity.options import COMPONENTS, STRUCTURAL, SimilarityOptions
from similarity.sketch import (
    cosine_of_sets,
    count_sketch,
    csr_rows,
    keep_rare,
    ngram_hash_sets,
    presence_sketches,
)

__all__ = ["Pair", "SimilarityResult", "SimilarityInputError", "compare", "combine",
           "final_score", "BehaviourEvidence"]

Progress = Callable[[str, int, int], None]


class BehaviourEvidence(Protocol):
    """What ``compare`` needs of a behaviour model (``similarity.behaviour.BehaviourModel``):
    the students it has valid runs of, and the evidence of all pairs of two row sets. One
    that also has ``unconditional_p`` is asked for its blocks with ``lazy_p=True``: p-values
    certainly at least 1e-3 come back NaN, and are computed for the kept pairs only."""

    names: list[str]
    explainer_names: list[str]

    def block(self, ra: np.ndarray, rb: np.ndarray) -> dict[str, np.ndarray]: ...

_COMMENT_FLOOR = 2.0  # one shared comment out of one gives 0.5, not 1
_WORKER_CPU = [0.0]  # CPU seconds spent in worker processes (not in this process's rusage)
_PARALLEL_FROM = 1000  # from this many submissions, a forkserver's workers read them...
_FORK_FROM = 200  # ...or from this many forked workers, while this process has one thread


@dataclass(slots=True)
class Pair:
    """Two submissions (or a student and a source) with their score and evidence.

    Attributes
    ----------
    a, b : str
        Student names (``a < b``), or the student and ``archive:<name>`` / ``web:<name>``.
    score : float
        Combined score in [0, 1] (see ``combine``).
    components : dict of str to float
        ``fingerprints``, ``tokens``, ``ast``, ``text``, ``lexical``, ``comments``, each in
        [0, 1].
    kind : str
        ``"peer"``, ``"archive"`` or ``"web"``.
    flagged : bool
        ``score >= options.threshold``.
    fragments : list of Fragment
        Matching line ranges (for the best ``evidence_pairs`` pairs).
    shared_comments : list of str
        Comments, docstrings and unusual strings found in both.
    estimated : bool
        True when the string-kernel, AST and word components are sketch estimates (classes
        beyond ``exact_pairs``, and only for pairs well below the threshold).
    code : float
        The code score alone (``combine`` of the components); ``score`` equals it unless
        behavioural evidence was given (see ``final_score``).
    reason : str
        Why the pair is flagged: ``"code"``, ``"behaviour"``, ``"both"``, or ``""``.
    behaviour : dict or None
        The behavioural evidence of a peer pair of two valid runs: ``behaviour`` (score in
        [0, 1]), ``same_wrong``, ``both_wrong``, ``expected`` (same_wrong expected of two
        independent students), ``p_value`` and ``explained`` (index of the standard model that
        explains the agreement, or -1); None without runs.
    """

    a: str
    b: str
    score: float
    components: dict[str, float]
    kind: str
    flagged: bool
    fragments: list[Fragment] = field(default_factory=list)
    shared_comments: list[str] = field(default_factory=list)
    estimated: bool = False
    code: float | None = None
    reason: str = ""
    behaviour: dict | None = None

    def __post_init__(self) -> None:
        if self.code is None:
            self.code = self.score
        if self.flagged and not self.reason:
            self.reason = "code"

    def to_dict(self) -> dict:
        return {"a": self.a, "b": self.b, "score": round(self.score, 6), "kind": self.kind,
                "flagged": self.flagged, "code": round(self.code, 6), "reason": self.reason,
                "components": {k: round(v, 6) for k, v in self.components.items()},
                "behaviour": None if self.behaviour is None else {
                    k: _rounded(k, v) for k, v in self.behaviour.items()},
                "fragments": [f.to_dict() for f in self.fragments],
                "shared_comments": list(self.shared_comments), "estimated": self.estimated}


def _rounded(key: str, value: object) -> object:
    """A behaviour field as pairs.json and the store keep it: six decimals, except the p-value,
    whose evidence is in its exponent (six significant digits: 7.89e-08 is not 0)."""
    if not isinstance(value, float):
        return value
    return float(f"{value:.6g}") if key == "p_value" else round(value, 6)


@dataclass
class SimilarityResult:
    """What ``compare`` found.

    Attributes
    ----------
    pairs : list of Pair
        Pairs scoring at least ``options.min_score``, highest first (ties by names).
    clusters : list of list of str
        Students linked by flagged peer pairs (connected components of two or more),
        largest first.
    notes : dict of str to list of str
        Per submission, what was done to read it (not UTF-8, cut, syntax error, ...).
    stats : dict
        Counts and timings (seconds) of the stages.
    options : SimilarityOptions
    """

    pairs: list[Pair]
    clusters: list[list[str]]
    notes: dict[str, list[str]]
    stats: dict
    options: SimilarityOptions


def combine(components: Mapping[str, np.ndarray], options: SimilarityOptions) -> np.ndarray:
    """The combined score from the components (arrays of the same shape).

    ``s = sum_c w_c * component_c`` over ``fingerprints, tokens, ast, text, lexical``
    (weights sum to 1), then shared rare comments raise it: ``s + comment_boost * comments * (1 - s)``.
    Every component is in [0, 1], so the score is too.
    """
    w = options.weights
    structural = sum(w[c] for c in STRUCTURAL)
    surface = sum(w[c] for c in COMPONENTS if c not in STRUCTURAL)
    s = sum(w[c] * components[c] for c in STRUCTURAL) / structural
    if surface > 0:  # names and text as written only ever add to the structure's evidence
        t = sum(w[c] * components[c] for c in COMPONENTS if c not in STRUCTURAL) / surface
        s = s + options.surface_boost * t * (1.0 - s)
    s = s + options.comment_boost * components["comments"] * (1.0 - s)
    return np.clip(s, 0.0, 1.0)


def _row_normalise(m: sp.csr_matrix) -> sp.csr_matrix:
    """Rows of unit length (a copy): each entry times its row's float32 inverse norm, the
    numbers of ``diags(1 / norm) @ m`` without the product (``scipy.sparse.diags`` imports
    ``numpy.ma``: 0.015 s of every ``grader similarity``)."""
    m = m.tocsr(copy=True)
    m.sort_indices()
    _scale_rows(m)
    return m


def _scale_rows(m: sp.csr_matrix) -> None:
    """Scale ``m``'s rows to unit length in place; a row of norm 0 is left empty, as a
    product leaves it."""
    norms = np.sqrt(np.asarray(m.multiply(m).sum(axis=1)).ravel())
    inv = np.divide(1.0, norms, out=np.zeros_like(norms), where=norms > 0)
    m.data *= np.repeat(inv.astype(np.float32), np.diff(m.indptr))
    m.eliminate_zeros()


def _tfidf(counts: sp.csr_matrix, class_rows: np.ndarray) -> sp.csr_matrix:
    """Sublinear tf times smoothed idf (over the class), rows of unit length.

    The scalings are applied to the entries in place (the numbers of ``m @ diags(idf)`` and
    ``diags(1 / norm) @ m``, one float32 product each, without two sparse products: 1.3 s
    at 5,000 submissions), in sorted order, as the products leave them."""
    m = counts.astype(np.float32).tocsr(copy=True)
    m.data = 1.0 + np.log(np.maximum(m.data, 1.0))
    df = column_df(m, class_rows)
    idf = (np.log((1.0 + class_rows.size) / (1.0 + df)) + 1.0).astype(np.float32)
    m.data *= idf[m.indices]
    m.sort_indices()
    _scale_rows(m)
    return m


class _Scorer:
    """Exact scoring: normalised sparse signal matrices, blocks or lists of pairs."""

    estimated = False

    def __init__(self, mats: dict[str, sp.csr_matrix], class_rows: np.ndarray,
                 options: SimilarityOptions):
        self.o = options
        self.fp = mats["fingerprints"].tocsr()
        self.fp_size = np.asarray(self.fp.sum(axis=1)).ravel()
        self.cm = mats["comments"].tocsr()
        self.cm_size = np.asarray(self.cm.sum(axis=1)).ravel()
        self.unit = {name: (_tfidf(mats[name], class_rows) if name in ("ast", "lexical")
                            else _row_normalise(mats[name]))
                     for name in ("tokens", "text", "ast", "lexical") if name in mats}
        self._right: dict[tuple[int, int, int], sp.csr_matrix] = {}
        self._grams: tuple[CountGram, CountGram] | None = None

    def _t(self, m: sp.csr_matrix, rb: np.ndarray) -> sp.csr_matrix:
        """``m[rb].T`` as CSR (what a product converts its right operand to), kept for a
        range of rows: every block multiplies by the same rows (the class, the sources)."""
        if not rb.size or int(rb[-1]) - int(rb[0]) + 1 != rb.size or (
                rb.size > 1 and not (np.diff(rb) == 1).all()):
            return m[rb].T.tocsr()
        key = (id(m), int(rb[0]), rb.size)
        got = self._right.get(key)
        if got is None:
            got = self._right[key] = m[int(rb[0]) : int(rb[0]) + rb.size].T.tocsr()
        return got

    def _exact_sparse_block(self, ra: np.ndarray, rb: np.ndarray) -> dict[str, np.ndarray]:
        if self._grams is None:  # made on first use: the pair lists never need them
            self._grams = (CountGram(self.fp), CountGram(self.cm))
        out = {}
        for name, gram, size, floor in (
                ("fingerprints", self._grams[0], self.fp_size, float(self.o.containment_floor)),
                ("comments", self._grams[1], self.cm_size, _COMMENT_FLOOR)):
            # min(shared / max(min(|A|, |B|), floor), 1), in place on one float64 array
            denom = np.minimum.outer(size[ra], size[rb])
            np.maximum(denom, floor, out=denom)
            got = gram.block(ra, rb).astype(np.float64)
            np.divide(got, denom, out=got)
            out[name] = np.minimum(got, 1.0, out=got)
            del denom
        return out

    def _exact_sparse_pairs(self, r: np.ndarray, c: np.ndarray, names) -> dict[str, np.ndarray]:
        def dot(m):
            return np.asarray(m[r].multiply(m[c]).sum(axis=1), dtype=np.float64).ravel()
        out = {name: np.clip(dot(self.unit[name]), 0.0, 1.0) for name in names}
        floor = float(self.o.containment_floor)
        out["fingerprints"] = np.minimum(
            dot(self.fp) / np.maximum(np.minimum(self.fp_size[r], self.fp_size[c]), floor), 1.0)
        out["comments"] = np.minimum(
            dot(self.cm) / np.maximum(np.minimum(self.cm_size[r], self.cm_size[c]),
                                      _COMMENT_FLOOR), 1.0)
        return out

    def block(self, ra: np.ndarray, rb: np.ndarray) -> dict[str, np.ndarray]:
        """Every component for all pairs of rows ``ra`` x ``rb`` (dense arrays)."""
        out = {name: np.clip(np.asarray((m[ra] @ self._t(m, rb)).toarray(), dtype=np.float64),
                             0, 1) for name, m in self.unit.items()}
        out.update(self._exact_sparse_block(ra, rb))
        return out

    def pairs(self, r: np.ndarray, c: np.ndarray) -> dict[str, np.ndarray]:
        """Every component for the listed pairs ``(r[i], c[i])``."""
        return self._exact_sparse_pairs(r, c, tuple(self.unit))

    exact = pairs


class _SketchScorer(_Scorer):
    """Screening by count sketches for very large classes (see ``similarity.sketch``); the
    fingerprint and comment components stay exact, and ``exact`` rescores chosen pairs."""

    estimated = True
    _SKETCHED = ("tokens", "text", "ast", "lexical")

    def __init__(self, docs: list[Prepared], mats: dict[str, sp.csr_matrix],
                 class_rows: np.ndarray, options: SimilarityOptions):
        super().__init__(mats, class_rows, options)  # fingerprints, comments, ast, lexical
        o = options
        limit = max(o.max_class_share * class_rows.size, float(o.share_min_count))
        dim = o.sketch_dim
        self.docs = docs
        # Each document's distinct n-grams are made again for the few pairs ``exact``
        # rescores, rather than kept for the whole class (they are most of the memory): the
        # source, and which hash buckets are rare in the class, are kept.
        self.source = {"tokens": ("canon", tuple(o.token_p)), "text": ("text", tuple(o.text_p))}
        signals = {name: ([getattr(d, attr) for d in docs], tuple(p), salt)
                   for salt, (name, (attr, p)) in enumerate(self.source.items(), 1)}
        # Half the documents in a forked process: threads share one interpreter, and the
        # n-gram sets' steps are small numpy calls and pandas' GIL-holding unique (two threads
        # took 14.8 s for 14 s of work at 5,000 submissions). Where no fork is possible (a
        # caller with threads of its own), this process makes them all.
        got = _presence_together(signals, class_rows.size, limit, dim)
        self.rare: dict[str, np.ndarray] = {} if got is None else got[0]
        self.sketch: dict[str, np.ndarray] = {} if got is None else got[1]
        for name, (texts, p, salt) in signals.items() if got is None else ():
            self.rare[name], self.sketch[name] = presence_sketches(
                texts, p, class_rows.size, dim, salt, lambda df: df <= limit)
        # The AST and word sketches are cheap; a second thread takes half the rows.
        with ThreadPoolExecutor(1) as pool:
            for salt, name in ((3, "ast"), (4, "lexical")):
                self.sketch[name] = np.concatenate(_in_halves(
                    pool, lambda ch, s=salt: [count_sketch(ch, dim, s)], csr_rows(self.unit[name])))

    def _sets(self, name: str, rows: list[int]) -> dict[int, np.ndarray]:
        """The distinct n-gram hashes of these documents, common ones dropped (the same
        arrays the sketches were made from)."""
        attr, p = self.source[name]
        sets = ngram_hash_sets([getattr(self.docs[i], attr) for i in rows], p)
        return dict(zip(rows, keep_rare(sets, self.rare[name]), strict=True))

    def block(self, ra: np.ndarray, rb: np.ndarray) -> dict[str, np.ndarray]:
        out = {}
        for name, e in self.sketch.items():
            right = e[rows_view(rb)]  # a view for a range (every block's class rows)
            got = e[rows_view(ra)] @ right.T
            out[name] = np.clip(got, 0.0, 1.0, out=got).astype(np.float64)
        out.update(self._exact_sparse_block(ra, rb))
        return out

    def pairs(self, r: np.ndarray, c: np.ndarray) -> dict[str, np.ndarray]:
        out = {name: np.clip(np.einsum("ij,ij->i", e[r], e[c]), 0.0, 1.0).astype(np.float64)
               for name, e in self.sketch.items()}
        out.update(self._exact_sparse_pairs(r, c, ()))
        return out

    def exact(self, r: np.ndarray, c: np.ndarray) -> dict[str, np.ndarray]:
        out = self._exact_sparse_pairs(r, c, ("ast", "lexical"))
        for name in ("tokens", "text"):
            sets = self._sets(name, np.union1d(r, c).tolist())
            out[name] = np.array([cosine_of_sets(sets[i], sets[j])
                                  for i, j in zip(r.tolist(), c.tolist(), strict=True)])
        return out


def _presence_together(signals: dict[str, tuple[list[str], tuple[int, ...], int]],
                       n_class: int, limit: float, dim: int
                       ) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]] | None:
    """The rare buckets and presence sketches of every signal (name -> (documents, n-gram
    lengths, salt)), the second half of the documents in a forked process (``together``):
    each half sends its class frequencies, this one adds them up and sends back the rare
    buckets. The same arrays as one process makes; None where no fork is possible."""
    mid = len(next(iter(signals.values()))[0]) // 2

    def there(conn: Connection) -> dict[str, np.ndarray]:
        def rare_of(df: np.ndarray) -> np.ndarray:
            conn.send_bytes(df.astype(np.int32))  # counts of at most n_class documents
            return np.unpackbits(np.frombuffer(conn.recv_bytes(), np.uint8),
                                 count=df.size).astype(bool)
        return {name: presence_sketches(texts[mid:], p, max(n_class - mid, 0), dim, salt,
                                        rare_of)[1]
                for name, (texts, p, salt) in signals.items()}

    def here(conn: Connection) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
        def rare_of(df: np.ndarray) -> np.ndarray:
            rare = df + np.frombuffer(conn.recv_bytes(), np.int32) <= limit
            conn.send_bytes(np.packbits(rare))
            return rare
        rare, sketch = {}, {}
        for name, (texts, p, salt) in signals.items():
            rare[name], sketch[name] = presence_sketches(texts[:mid], p, min(n_class, mid),
                                                         dim, salt, rare_of)
        return rare, sketch

    got = together(there, here)
    if got is None:
        return None
    theirs, (rare, mine) = got
    return rare, {name: np.concatenate([mine[name], theirs[name]]) for name in signals}


def _in_halves(pool: ThreadPoolExecutor, fn: Callable[[list], list], items: list) -> list:
    """``fn(items)``, for a ``fn`` that maps a list item by item: the first half in the pool's
    thread while this one does the second."""
    if len(items) < 2:
        return fn(items)
    mid = len(items) // 2
    first = pool.submit(fn, items[:mid])
    second = fn(items[mid:])
    return first.result() + second


def _chunked(fn, r: np.ndarray, c: np.ndarray, size: int = 8192) -> dict[str, np.ndarray]:
    """``fn(r, c)`` over chunks of pairs, so row gathers stay small."""
    if r.size <= size:
        return fn(r, c)
    parts = [fn(r[i : i + size], c[i : i + size]) for i in range(0, r.size, size)]
    return {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}


def _corpus_items(folder: Path | None, kind: str) -> list[tuple[str, str, Path]]:
    """``(name, kind, path)`` of every source in a corpus folder (nothing is read yet)."""
    if folder is None:
        return []
    folder = Path(folder)
    if not folder.is_dir():
        raise SimilarityInputError(f"the {kind} corpus {folder} is not a folder",
                                   hint=f"pass a folder whose children are {kind} sources")
    return [(f"{kind}:{name}", kind, path) for name, path in children(folder).items()]


_INDEX_CHUNK = 2000  # sources featurised at a time while building the index (bounded memory)


def _indexed_fingerprints(items: list[tuple[str, str, Path]], tmpl, o: SimilarityOptions,
                          cache_dir: Path | None, progress: Progress | None) -> list[np.ndarray]:
    """Each source's fingerprints, read a chunk at a time; everything else is dropped, so a
    50,000-file archive never sits in memory. Candidates are read again in full later."""
    out: list[np.ndarray] = []
    for lo in range(0, len(items), _INDEX_CHUNK):
        for prep in _load_many(items[lo : lo + _INDEX_CHUNK], tmpl, o, cache_dir, None,
                               "index"):
            out.append(prep.fingerprints)
        if progress:
            progress("index sources", min(lo + _INDEX_CHUNK, len(items)), len(items))
    return out


_GC_EVERY = 256  # a reading worker collects cycles after this many submissions
_READ_CHUNK = 32  # submissions sent to a reading worker at a time (at most)
_worker_loads = [-1]  # submissions read by this worker process (-1: not a worker)


def _worker_start() -> None:
    """Set up a reading worker. A file's features make no reference cycles (see
    ``features._gc_paused``), yet the cyclic collector, run between files, traverses the
    whole heap (numpy, scipy) again and again: so it stays off, the imports are frozen out of
    its reach, and ``_load_one`` collects now and then in case something made a cycle."""
    gc.freeze()
    gc.disable()
    _worker_loads[0] = 0


def _load_one(item: tuple[str, str, Path, int, int, Path | None],
              prep: tuple[Template | None, int, int]) -> tuple[Prepared, float]:
    """One submission read, featurised and prepared (``prep``: the template, k and window),
    and the CPU seconds it took (workers report it)."""
    name, kind, path, max_bytes, max_files, cache_dir = item
    c = time.process_time()
    sub = load_submission(name, kind, path, max_bytes=max_bytes, max_files=max_files,
                          cache_dir=cache_dir)
    prepared = prepare(sub, *prep)
    if _worker_loads[0] >= 0:
        _worker_loads[0] += 1
        if _worker_loads[0] % _GC_EVERY == 0:
            gc.collect()
    return prepared, time.process_time() - c


def _load_many(items: list[tuple[str, str, Path]], tmpl: Template | None,
               o: SimilarityOptions, cache_dir: Path | None, progress: Progress | None,
               stage: str) -> list[Prepared]:
    """Read, featurise and prepare submissions against the template, in worker processes
    when there are many (preparing there too: it is a tenth of the work, serial otherwise).

    The result is the same list in the same order whatever the number of workers.
    """
    jobs = [(name, kind, Path(path), o.max_file_bytes, o.max_files_per_submission, cache_dir)
            for name, kind, path in items]
    load = functools.partial(_load_one, prep=(tmpl, o.k, o.window))
    workers = o.workers or min(os.cpu_count() or 1, 8)
    # A plain fork costs milliseconds and is safe while this process has no other thread (no
    # lock can be held across it): then from _FORK_FROM submissions on (IR-Plag's 467 files:
    # reading 0.66 -> 0.42 s on two cores). Otherwise (a threaded caller: the batch's
    # scheduler) a forkserver, which costs about 1.5 s to start (it imports this module
    # afresh): worth it only for large classes.
    start = ("fork" if len(jobs) >= _FORK_FROM and can_fork()
             else "forkserver" if len(jobs) >= _PARALLEL_FROM else None)
    if workers > 1 and start is not None:
        try:
            ctx = multiprocessing.get_context(start)
            out: list[Prepared] = []
            with ProcessPoolExecutor(workers, mp_context=ctx, initializer=_worker_start) as ex:
                # Small chunks: the last one is a worker's alone while the other may idle
                # (len / 16 was ~8 s of one core at 5,000 submissions).
                chunk = max(1, min(_READ_CHUNK, len(jobs) // (workers * 8)))
                for i, (prepared, cpu) in enumerate(ex.map(load, jobs, chunksize=chunk)):
                    out.append(prepared)
                    _WORKER_CPU[0] += cpu
                    if progress:
                        progress(stage, i + 1, len(jobs))
            return out
        except (OSError, RuntimeError, AssertionError, BrokenProcessPool):
            pass  # no worker processes here (e.g. inside a daemon): read them in this one
    out = []
    for i, job in enumerate(jobs):
        out.append(load(job)[0])
        if progress:
            progress(stage, i + 1, len(jobs))
    return out


def compare(submissions: Mapping[str, Path], *, template: Path | None = None,
            archive: Path | None = None, web: Path | None = None,
            options: SimilarityOptions | None = None, progress: Progress | None = None,
            cache_dir: Path | None = None, focus: Collection[str] | None = None,
            behaviour: BehaviourEvidence | None = None) -> SimilarityResult:
    """Compare a class's submissions with each other and with archive and web sources.

    Parameters
    ----------
    submissions : mapping of str to Path
        Student name -> a ``.py`` file or a folder of ``.py`` files (one submission).
    template : Path, optional
        Starter code (a file or a folder): subtracted from every submission first.
    archive : Path, optional
        Folder whose immediate children are past years' submissions; each is compared with
        this year's submissions only, never with another archive entry.
    web : Path, optional
        Folder whose immediate children are known web sources (tutorials).
    options : SimilarityOptions, optional
        Defaults when omitted.
    progress : callable(stage, done, total), optional
        Called as files are read.
    cache_dir : Path, optional
        Per-file features are cached here by content hash: a late submission is compared with
        everyone without re-reading the others.
    focus : collection of str, optional
        Score only the pairs involving these students (e.g. a late submission), against
        everyone and every source. Common-code suppression and weights still come from the
        whole class, so these pairs score exactly as in a full run.
    behaviour : BehaviourEvidence, optional
        A fitted model of the students' hidden-test predictions (``similarity.behaviour``):
        every peer pair of two valid runs also gets the behavioural evidence, and the final
        score combines both kinds (see ``final_score``).

    Returns
    -------
    SimilarityResult

    Examples
    --------
    >>> result = compare({"ana": Path("ana.py"), "bob": Path("bob.py")})  # doctest: +SKIP
    >>> result.pairs[0].score  # doctest: +SKIP
    0.93
    """
    o = options if options is not None else SimilarityOptions()
    clock = _Clock()
    focus_set = _check_inputs(submissions, focus)
    corpus = _read_corpus(submissions, template, archive, web, o, cache_dir, progress)
    clock.mark("read")
    _prepare_corpus(corpus, o, cache_dir, progress)
    clock.mark("prepare")
    found, dropped = _score_all_pairs(corpus, o, focus_set, behaviour, progress)
    pairs = _make_pairs(corpus, found, o, getattr(behaviour, "explainer_names", []))
    clock.mark("score")
    _attach_evidence(corpus, pairs, o)
    clock.mark("evidence")
    notes = {s.name: s.notes for s in corpus.klass + corpus.sources if s.notes}
    stats = {"submissions": corpus.n, "sources": len(corpus.src_items),
             "sources_scored": int(corpus.used_src.size), "sketched": found.sketched,
             "estimated_pairs": sum(p.estimated for p in pairs),
             "archive_index": bool(corpus.use_index and corpus.sources),
             "pairs_reported": len(pairs), "flagged": sum(p.flagged for p in pairs),
             "noise_floor": found.floor, "suppressed_columns": dropped,
             "behaviour": behaviour is not None, **clock.stats()}
    return SimilarityResult(pairs=pairs, clusters=clusters(pairs), notes=notes, stats=stats,
                            options=o)


class _Clock:
    """Wall and CPU seconds per phase of ``compare`` (workers' CPU counted apart)."""

    def __init__(self) -> None:
        self.t0 = self.last = time.perf_counter()
        self.cpu0, self.wcpu0 = time.process_time(), _WORKER_CPU[0]
        self.seconds: dict[str, float] = {}

    def mark(self, phase: str) -> None:
        now = time.perf_counter()
        self.seconds[phase] = now - self.last
        self.last = now

    def stats(self) -> dict:
        return {"seconds": {**self.seconds, "total": self.last - self.t0},
                "cpu_seconds": {"this_process": time.process_time() - self.cpu0,
                                "workers": _WORKER_CPU[0] - self.wcpu0}}


def _check_inputs(submissions: Mapping[str, Path],
                  focus: Collection[str] | None) -> set[str] | None:
    """The focus as a set (None: everyone); unknown names and missing paths are errors."""
    focus_set = None if focus is None else {str(f) for f in focus}
    if focus_set is not None and not focus_set <= {str(k) for k in submissions}:
        unknown = sorted(focus_set - {str(k) for k in submissions})
        raise SimilarityInputError("focus names students that are not among the submissions",
                                   problems=unknown, hint="focus takes submission names")
    missing = [f"{name}: {p}" for name, p in submissions.items() if not Path(p).exists()]
    if missing:
        raise SimilarityInputError(
            f"{len(missing)} submission path{'s' * (len(missing) > 1)} do not exist",
            problems=missing, hint="each submission is a .py file or a folder of .py files")
    return focus_set


@dataclass
class _Corpus:
    """What ``compare`` works on: the class, the template and the scored sources."""

    klass: list[Submission]
    src_items: list[tuple[str, str, Path]]
    prep: list[Prepared]  # the class, prepared against the template
    tmpl: Template | None = None
    sources: list[Submission] = field(default_factory=list)
    docs: list[Prepared] = field(default_factory=list)  # the class, then the scored sources
    common_kgrams: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.uint64))
    use_index: bool = False
    used_src: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    #: (student row, source position) candidates from the archive/web index, when used
    index_pairs: tuple[np.ndarray, np.ndarray] | None = None

    @property
    def n(self) -> int:
        return len(self.klass)


def _read_corpus(submissions: Mapping[str, Path], template: Path | None, archive: Path | None,
                 web: Path | None, o: SimilarityOptions, cache_dir: Path | None,
                 progress: Progress | None) -> _Corpus:
    """Phase 1: read and featurise the template, then the class (prepared against the
    template as it is read); list the sources."""
    tmpl_subs = []
    if template is not None:
        tp = Path(template)
        if not tp.exists():
            raise SimilarityInputError(f"the template {tp} does not exist",
                                       hint="pass the starter code file or folder")
        tmpl_subs = [load_submission("template", "template", tp, max_bytes=o.max_file_bytes,
                                     max_files=o.max_files_per_submission,
                                     cache_dir=cache_dir)]
    tmpl = build_template(tmpl_subs, o.k)
    prep = _load_many([(str(name), "peer", Path(path))
                       for name, path in sorted(submissions.items())],
                      tmpl, o, cache_dir, progress, "read submissions")
    src_items = _corpus_items(archive, "archive") + _corpus_items(web, "web")
    return _Corpus([p.sub for p in prep], src_items, prep, tmpl)


def _prepare_corpus(c: _Corpus, o: SimilarityOptions, cache_dir: Path | None,
                    progress: Progress | None) -> None:
    """Phase 2: find the class's common k-grams, choose the sources to score (all of them,
    or the index's candidates) and read those in full."""
    class_rows = np.arange(c.n)
    c.common_kgrams = suppressed_kgrams(c.prep, class_rows, max_share=o.max_class_share,
                                        min_count=o.share_min_count)
    c.use_index = c.n * len(c.src_items) > o.exhaustive_pairs
    if c.use_index and c.src_items:
        idx = FingerprintIndex(_indexed_fingerprints(c.src_items, c.tmpl, o, cache_dir,
                                                     progress)).build()
        queries = [np.setdiff1d(p.fingerprints, c.common_kgrams, assume_unique=True)
                   for p in c.prep]
        qr, qc, _ = idx.query(queries, o.index_candidates)
        c.used_src = np.unique(qc)
        c.index_pairs = (qr, qc)
        del idx
    else:
        c.used_src = np.arange(len(c.src_items))
    # the scored sources, read in full (again, for the index's candidates)
    sources = _load_many([c.src_items[i] for i in c.used_src.tolist()], c.tmpl, o, cache_dir,
                         progress, "read sources")
    c.sources = [p.sub for p in sources]
    c.docs = c.prep + sources


@dataclass
class _Found:
    """Every kept pair as parallel arrays (rows of ``_Corpus.docs``), before ``Pair``s."""

    rows: np.ndarray
    cols: np.ndarray
    comps: dict[str, np.ndarray]      # the code components
    code: np.ndarray                  # the code score (``combine``)
    behaviour: dict[str, np.ndarray]  # the behavioural evidence (empty without runs)
    score: np.ndarray                 # the final score
    estimated: np.ndarray
    sketched: bool = False
    floor: float = 0.0
    settings: Sequence[bool] = ()  # per explainer: a chosen setting (see ``final_score``)

    def rescore(self, idx: np.ndarray, options: SimilarityOptions) -> None:
        """The final score of the pairs ``idx`` again, after their code score changed."""
        beh = {k: v[idx] for k, v in self.behaviour.items()} or None
        self.score[idx] = final_score(self.code[idx], beh, options, self.settings)


# "valid": both students have a valid run; "peer": a pair of classmates in a class with runs
# (the code scale applies to it even when one run failed: the shared idioms are the class's)
# "distance": how far apart the two runs' predictions are (classification: the share of ids
# predicted differently; regression: the RMS difference of the residuals in the class's unit)
_BEHAVIOUR_KEYS = ("behaviour", "same_wrong", "both_wrong", "expected", "p_value", "explained",
                   "agreement", "valid", "peer", "unproven", "distance")
# what a pair without the evidence has (every other key: 0)
_BEHAVIOUR_FILL = {"p_value": 1.0, "explained": -1.0, "agreement": np.nan, "valid": 1.0,
                   "peer": 1.0, "distance": np.nan}
# what a pair of a block scored without behaviour has (neither valid nor a peer with runs)
_NO_BEHAVIOUR_FILL = {**_BEHAVIOUR_FILL, "valid": 0.0, "peer": 0.0}


def final_score(code: np.ndarray, behaviour: Mapping[str, np.ndarray] | None,
                options: SimilarityOptions, settings: Sequence[bool] = ()) -> np.ndarray:
    """One score from both kinds of evidence (``similarity.verdict.final_score``): the code
    score alone without runs; between classmates of a class with runs, ``1 - (1 - scaled
    code) * (1 - behaviour)``, so either kind alone at the threshold reaches it, and two
    moderate kinds together do too. ``settings``: per explainer, whether it is a setting
    students choose rather than a default (its agreement's band starts at ``setting_share``)."""
    share = np.where(np.asarray(settings, dtype=bool), options.setting_share,
                     options.explained_share) if len(settings) else options.explained_share
    return verdict.final_score(code, behaviour, threshold=options.threshold,
                               code_alone=options.code_alone,
                               explained_score=share * options.threshold,
                               # identical predictions no standard model gives: above the
                               # settings' agreement, halfway from its band to the threshold
                               unproven_score=(1 + options.setting_share) / 2 * options.threshold)


def _score_all_pairs(c: _Corpus, o: SimilarityOptions, focus_set: set[str] | None,
                     behaviour: BehaviourEvidence | None, progress: Progress | None = None
                     ) -> tuple[_Found, dict[str, int]]:
    """Phase 3: every component of every pair (blocks of rows), the behaviour of peer pairs,
    the final score; pairs under the class's noise floor are dropped as they are made.
    ``progress`` hears ``("score pairs", students done, students)`` once per block."""
    n, docs = c.n, c.docs
    empty = np.zeros(0, dtype=np.int64)
    if len(docs) < 2:
        return _Found(empty, empty, {k: np.zeros(0) for k in (*COMPONENTS, "comments")},
                      np.zeros(0), {}, np.zeros(0), np.zeros(0, dtype=bool)), {}
    class_rows = np.arange(n)
    focus_n = n if focus_set is None else len(focus_set)
    if progress:
        progress("score pairs", 0, focus_n)
    n_pairs = n * (n - 1) // 2 + (n * c.used_src.size if not c.use_index
                                  else int(c.index_pairs[0].size))
    # The exact string-kernel matrices cost memory per document, not per scored pair: a class
    # checked against thousands of index candidates is sketched like a class that size.
    sketched = max(n_pairs, len(docs) * (len(docs) - 1) // 2) > o.exact_pairs
    mats = build_sparse(docs) if sketched else build_matrices(docs, o.token_p, o.text_p)
    dropped = suppress_common(mats, class_rows, max_share=o.max_class_share,
                              min_count=o.share_min_count)
    scorer = (_SketchScorer(docs, mats, class_rows, o) if sketched
              else _Scorer(mats, class_rows, o))
    beh_row = _behaviour_rows(c, behaviour)
    keeper = _Keeper(o, list(getattr(behaviour, "explainer_settings", ())))
    # Rows whose pairs are scored: everyone, or only the focus students (late submissions:
    # suppression and idf still come from the whole class, so scores are the same).
    focus_rows = class_rows if focus_set is None else np.array(
        [i for i, s in enumerate(c.klass) if s.name in focus_set], dtype=np.int64)
    in_focus = np.zeros(n, dtype=bool)
    in_focus[focus_rows] = True
    calibrate = o.standout_boost > 0 and n >= 3
    stats = RowStatistics(n, o.standout_floor).fit_blocks(()) if calibrate else None
    # The behaviour of a block is computed in a second thread while this one scores its code
    # (both are mostly numpy, scipy and BLAS work, which release the GIL).
    pool = ThreadPoolExecutor(1) if behaviour is not None else None
    try:
        for lo in range(0, focus_rows.size, o.block_rows):
            ra = focus_rows[lo : lo + o.block_rows]
            # Each pair once: (i, j) with i < j, or j outside the focus (swapped below). Only
            # the columns holding such a pair get their behaviour and are kept (half of a
            # full run's).
            once = (ra[:, None] < class_rows[None, :]) | (
                (ra[:, None] != class_rows[None, :]) & ~in_focus[None, :])
            cols = class_rows[once.any(axis=0)]
            beh_job = (pool.submit(_behaviour_block, behaviour, beh_row, ra, cols)
                       if pool is not None and cols.size else None)
            comps = scorer.block(ra, class_rows)
            code = combine(comps, o)
            if stats is not None and focus_set is None:  # full rows: the statistics come free
                stats.add(ra, code)
            if cols.size:
                beh = beh_job.result() if beh_job is not None else None
                keeper.block(ra, cols, comps, beh, once[:, cols], code[:, cols], cols)
            if c.used_src.size and not c.use_index:
                rb = np.arange(n, len(docs))
                keeper.block(ra, rb, scorer.block(ra, rb), None, None)
            if progress:
                progress("score pairs", min(lo + o.block_rows, focus_rows.size), focus_n)
    finally:
        if pool is not None:
            pool.shutdown(wait=True)
    if c.use_index and c.index_pairs is not None and c.index_pairs[0].size:
        qr, qc = c.index_pairs
        qr, qc = qr[in_focus[qr]], qc[in_focus[qr]]
        keeper.pairs(qr, np.searchsorted(c.used_src, qc) + n, _chunked(scorer.pairs, qr,
                     np.searchsorted(c.used_src, qc) + n))
    found = keeper.result(n, sketched, scorer.estimated)
    _fill_p_values(found, behaviour)
    if stats is not None:
        if focus_set is not None:  # everyone's statistics, as in a full run (no pairs kept)
            stats.fit_blocks((r, combine(scorer.block(r, class_rows), o))
                             for r in np.array_split(class_rows, -(-n // o.block_rows)))
        _calibrate(found, np.arange(found.rows.size), stats, n, o)
    if scorer.estimated:
        # Pairs that could be flagged are scored exactly; the rest keep their estimate.
        near = np.flatnonzero(found.score >= o.threshold - o.sketch_margin)
        if near.size:
            ex = _chunked(scorer.exact, found.rows[near], found.cols[near])
            for k in found.comps:
                found.comps[k][near] = ex[k]
            found.code[near] = combine({k: v[near] for k, v in found.comps.items()}, o)
            if stats is not None:
                _calibrate(found, near, stats, n, o)
            found.rescore(near, o)
            found.estimated[near] = False
    return found, dropped


def _calibrate(f: _Found, idx: np.ndarray, stats: RowStatistics, n: int,
               o: SimilarityOptions) -> None:
    """Raise the code score of the peer pairs ``idx`` that stand out from both students'
    own similarities (``similarity.calibrate``), and their final score with it."""
    idx = idx[f.cols[idx] < n]  # archive and web sources have no distribution of their own
    if not idx.size:
        return
    code = f.code[idx]
    z = standout(code, f.rows[idx], f.cols[idx], stats)
    f.code[idx] = lift(code, z, o.standout_boost, o.standout_z0, o.standout_span)
    f.rescore(idx, o)


def _behaviour_rows(c: _Corpus, behaviour: BehaviourEvidence | None) -> np.ndarray | None:
    """Each class row's row in the behaviour model (-1: no valid run)."""
    if behaviour is None:
        return None
    index = {name: i for i, name in enumerate(behaviour.names)}
    return np.array([index.get(s.name, -1) for s in c.klass], dtype=np.int64)


def _behaviour_block(behaviour: BehaviourEvidence | None, beh_row: np.ndarray | None,
                     ra: np.ndarray, rb: np.ndarray) -> dict[str, np.ndarray] | None:
    """The behavioural evidence of the peer pairs ``ra`` x ``rb`` (zeros where a student has
    no valid run), or None without a behaviour model. p-values certainly at least 1e-3 (no
    evidence) may be NaN: ``_fill_p_values`` gives them for the pairs kept."""
    if behaviour is None or beh_row is None:
        return None
    shape = (ra.size, rb.size)
    ia, ib = beh_row[ra], beh_row[rb]
    va, vb = np.flatnonzero(ia >= 0), np.flatnonzero(ib >= 0)
    lazy = {"lazy_p": True} if hasattr(behaviour, "unconditional_p") else {}
    got = behaviour.block(ia[va], ib[vb], **lazy) if va.size and vb.size else {}
    if va.size == ra.size and vb.size == rb.size:  # every run valid: the model's arrays
        return {k: got[k] if k in got else np.broadcast_to(_BEHAVIOUR_FILL.get(k, 0.0), shape)
                for k in _BEHAVIOUR_KEYS}
    out = {k: np.full(shape, _BEHAVIOUR_FILL.get(k, 0.0)) for k in _BEHAVIOUR_KEYS}
    out["valid"][:] = 0.0
    if got:
        got["valid"] = np.ones((va.size, vb.size))
        for k in _BEHAVIOUR_KEYS:
            if k in got:
                out[k][np.ix_(va, vb)] = got[k]
    return out


def _fill_p_values(f: _Found, behaviour: BehaviourEvidence | None) -> None:
    """The p-values that the blocks left NaN (certainly at least 1e-3), for the kept pairs."""
    p = f.behaviour.get("p_value")
    if p is None or behaviour is None:
        return
    lazy = np.isnan(p)
    if lazy.any():
        p[lazy] = behaviour.unconditional_p(f.behaviour["same_wrong"][lazy],
                                            f.behaviour["expected"][lazy])


_FLOOR_BINS = 2000  # the noise floor's histogram of final scores over [0, 1]


def noise_floor(scores: Sequence[float] | np.ndarray, options: SimilarityOptions) -> float:
    """The noise floor of a class whose pairs' final scores are ``scores`` (all of them), as
    ``compare`` sets it: 0 where there are fewer than ``noise_min_pairs``."""
    hist = np.histogram(np.asarray(scores, dtype=np.float64), bins=_FLOOR_BINS,
                        range=(0.0, 1.0))[0]
    return _floor_of(hist, options)


def _floor_of(hist: np.ndarray, o: SimilarityOptions) -> float:
    total = int(hist.sum())
    if total < o.noise_min_pairs:
        return 0.0  # too few pairs to say what noise is: keep them all
    bins = hist.size
    edges = (np.arange(bins) + 0.5) / bins
    median = edges[np.searchsorted(np.cumsum(hist), total / 2)]
    dev_hist = np.zeros(bins, dtype=np.int64)
    np.add.at(dev_hist, np.minimum((np.abs(edges - median) * bins).astype(int), bins - 1), hist)
    mad = (np.searchsorted(np.cumsum(dev_hist), total / 2) + 0.5) / bins
    return float(min(o.min_score, median + o.noise_mads * 1.4826 * mad))


class _Keeper:
    """Collects the scored pairs above the noise floor, block by block.

    The floor comes from the class's own distribution of final scores: the median plus
    ``noise_mads`` scaled MADs, never above ``min_score`` (a fixed cut must not hide real
    copies: in a class where everything is dissimilar, a copy at 0.12 stands out). Estimated
    from a histogram of every score seen so far; pairs kept under an early estimate are cut
    again at the end.
    """

    _BINS = _FLOOR_BINS

    def __init__(self, o: SimilarityOptions, settings: Sequence[bool] = ()):
        self.o = o
        self.settings = settings
        self.hist = np.zeros(self._BINS, dtype=np.int64)
        self.parts: list[tuple] = []

    def floor(self) -> float:
        return _floor_of(self.hist, self.o)

    def _keep(self, code, beh, mask_or_none):
        score = final_score(code, beh, self.o, self.settings)
        mask = np.ones(score.shape, dtype=bool) if mask_or_none is None else mask_or_none
        self.hist += np.histogram(score[mask], bins=self._BINS, range=(0.0, 1.0))[0]
        keep = mask & (score >= self.floor())
        return code, score, keep

    def block(self, ra, rb, comps, beh, once, code=None, at=None):
        """The pairs ``ra x rb``. ``comps`` may hold more columns than ``rb`` has: then
        ``at`` are rb's columns in them and ``code`` (the combined score of ``ra x rb``) is
        given."""
        code, score, keep = self._keep(combine(comps, self.o) if code is None else code,
                                       beh, once)
        i, j = np.nonzero(keep)
        cj = j if at is None else at[j]
        self.parts.append((ra[i], rb[j], {k: v[i, cj] for k, v in comps.items()}, code[i, j],
                           None if beh is None else {
                               k: v[i, j].astype(np.float64) for k, v in beh.items()},
                           score[i, j]))

    def pairs(self, r, c, comps):
        code, score, keep = self._keep(combine(comps, self.o), None, None)
        self.parts.append((r[keep], c[keep], {k: v[keep] for k, v in comps.items()},
                           code[keep], None, score[keep]))

    def result(self, n: int, sketched: bool, estimated: bool) -> _Found:
        floor = self.floor()
        rows = np.concatenate([p[0] for p in self.parts]) if self.parts else np.zeros(0, int)
        cols = np.concatenate([p[1] for p in self.parts]) if self.parts else np.zeros(0, int)
        comps = {k: (np.concatenate([p[2][k] for p in self.parts]) if self.parts
                     else np.zeros(0)) for k in (*COMPONENTS, "comments")}
        code = np.concatenate([p[3] for p in self.parts]) if self.parts else np.zeros(0)
        score = np.concatenate([p[5] for p in self.parts]) if self.parts else np.zeros(0)
        behaviour: dict[str, np.ndarray] = {}
        if any(p[4] is not None for p in self.parts):
            for k in _BEHAVIOUR_KEYS:
                fill = _NO_BEHAVIOUR_FILL.get(k, 0.0)
                behaviour[k] = np.concatenate([
                    p[4][k] if p[4] is not None else np.full(p[0].size, fill)
                    for p in self.parts])
        ok = score >= floor
        swap = (cols < n) & (cols < rows)  # peer pairs name the first student as a
        rows, cols = np.where(swap, cols, rows), np.where(swap, rows, cols)
        return _Found(rows[ok], cols[ok], {k: v[ok] for k, v in comps.items()}, code[ok],
                      {k: v[ok] for k, v in behaviour.items()}, score[ok],
                      np.full(int(ok.sum()), estimated), sketched=sketched, floor=floor,
                      settings=self.settings)


def _make_pairs(c: _Corpus, f: _Found, o: SimilarityOptions,
                explainers: list[str]) -> list[Pair]:
    """Phase 4: ``Pair`` objects in ``rank_key`` order (highest final score first), each
    flagged by its own evidence and the reason stored (``code``, ``behaviour``, ``both``)."""
    docs = c.docs
    # Sorted here by name ranks, so the (possibly 100,000s of) Pair objects are made once,
    # in order, and never sorted as objects.
    name_rank = np.empty(len(docs), dtype=np.int64)
    name_rank[sorted(range(len(docs)), key=lambda i: docs[i].sub.name)] = np.arange(len(docs))
    # ties by the runs' distance (nearest first; none: last), code score, then names
    dist = _tie_distance(f.behaviour["distance"], f.behaviour["valid"]) if f.behaviour \
        else np.full(f.score.size, np.inf)
    order = np.lexsort((name_rank[f.cols], name_rank[f.rows], -f.code, dist, -f.score))
    names = (*COMPONENTS, "comments")
    # Plain Python values in one conversion per column (not one per pair and component).
    cols = [f.comps[k][order].tolist() for k in names]
    subs = [d.sub for d in docs]
    beh = {k: v[order].tolist() for k, v in f.behaviour.items()}
    code = f.code[order]
    # behaviour only for peer pairs of two valid runs (not sources, not failed runs)
    valid = f.behaviour["valid"][order] > 0 if f.behaviour else np.zeros(code.size, bool)
    peer = f.behaviour["peer"][order] > 0 if f.behaviour else valid
    why = verdict.reasons(code, f.behaviour["behaviour"][order] if f.behaviour else code * 0,
                          valid, f.score[order], o.threshold, o.code_alone, peer=peer).tolist()
    valid, code = valid.tolist(), code.tolist()
    pairs = []
    for idx, (i, j, sc, est, *vals) in enumerate(zip(
            f.rows[order].tolist(), f.cols[order].tolist(), f.score[order].tolist(),
            f.estimated[order].tolist(), *cols, strict=True)):
        b = {k: v[idx] for k, v in beh.items()} if valid[idx] else None
        pairs.append(Pair(subs[i].name, subs[j].name, sc, dict(zip(names, vals)), subs[j].kind,
                          why[idx] != "", estimated=est, code=code[idx], reason=why[idx],
                          behaviour=_behaviour_fields(b, explainers) if b else None))
    return pairs


# Distances are compared in steps of 1e-6: an exact copy's comes out of the residuals' sums
# as 1e-8 or so, not 0, and copies among themselves go by their code score.
_TIE_STEPS = 1e6


def _tie_distance(distance: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """``rank_key``'s distance per pair (the same numbers), infinite where there is none."""
    with np.errstate(invalid="ignore"):
        return np.where((valid > 0) & ~np.isnan(distance),
                        np.floor(distance * _TIE_STEPS), np.inf)


def rank_key(pair: Pair | Mapping) -> tuple:
    """The order pairs are listed in: highest final score first; among equal scores (the
    final score saturates at 1.0 for every copy and for near-identical runs alike) the pair
    whose runs' predictions are nearest first (an exact copy at distance 0 before two honest
    models that differ in a few predictions; distances in steps of 1e-6), then the higher
    code score, then the names.

    Takes a ``Pair`` or its dict (as stored)."""
    get = pair.get if isinstance(pair, Mapping) else lambda k: getattr(pair, k)
    score = float(get("score"))
    code = get("code")
    beh = get("behaviour") or {}
    dist = beh.get("distance")
    return (-score, math.inf if dist is None or math.isnan(dist)
            else float(math.floor(float(dist) * _TIE_STEPS)),
            -(score if code is None else float(code)), get("a"), get("b"))


def _behaviour_fields(b: dict[str, float], explainers: list[str]) -> dict[str, float | int | str]:
    i = int(b["explained"])
    return {"behaviour": b["behaviour"], "same_wrong": int(b["same_wrong"]),
            "both_wrong": int(b["both_wrong"]), "expected": b["expected"],
            "p_value": b["p_value"],
            "agreement": None if np.isnan(b["agreement"]) else b["agreement"],
            "distance": None if np.isnan(b["distance"]) else b["distance"],
            "explained_by": explainers[i] if 0 <= i < len(explainers) else ""}


_EVIDENCE_FORKS = [0]  # evidence phases a forked worker shared (tests read it)


def _attach_evidence(c: _Corpus, pairs: list[Pair], o: SimilarityOptions,
                     fork: bool = True) -> None:
    """Phase 5: fragments and shared comments for the best ``evidence_pairs`` pairs.

    From ``_FORK_FROM`` pairs a forked worker takes every other pair (``similarity.beside``:
    it inherits the prepared class; only the fragments come back): IR-Plag's 1,000 evidence
    pairs took 0.26 s of one core, now 0.16 s. The result is the same either way."""
    common_comments = _common_comments(c.prep, o)
    todo = list(range(min(len(pairs), o.evidence_pairs)))  # sorted: the rest get no evidence
    job = (c, pairs, o, common_comments)
    got = None
    if fork and len(todo) >= _FORK_FROM and (o.workers or os.cpu_count() or 1) > 1:
        got = beside(lambda: _evidence_of(todo[1::2], job),
                     lambda: _evidence_of(todo[0::2], job))
    if got is not None:
        theirs, mine = got
        done = [*zip(todo[0::2], mine), *zip(todo[1::2], theirs)]
        _EVIDENCE_FORKS[0] += 1
    else:
        done = list(zip(todo, _evidence_of(todo, job), strict=True))
    for i, (fragments, comments) in done:
        pairs[i].fragments, pairs[i].shared_comments = fragments, comments


def _evidence_of(idx: list[int], job: tuple) -> list[tuple[list, list]]:
    """Fragments and shared comments of the pairs ``idx`` of ``job``."""
    c, pairs, o, common = job
    by_name = {d.sub.name: d for d in c.docs}
    out = []
    for i in idx:
        pa, pb = by_name[pairs[i].a], by_name[pairs[i].b]
        out.append((align(pa, pb, c.common_kgrams, k=o.k, min_tokens=o.min_fragment_tokens,
                          max_fragments=o.max_fragments, merge_gap=o.merge_gap,
                          merge_buffer=o.merge_buffer),
                    shared_comments(pa, pb, common)))
    return out


def _common_comments(prep: list[Prepared], o: SimilarityOptions) -> frozenset[str]:
    counts: dict[str, int] = {}
    for p in prep:
        for c in p.comments:
            counts[c] = counts.get(c, 0) + 1
    limit = max(o.max_class_share * len(prep), float(o.share_min_count))
    return frozenset(c for c, v in counts.items() if v > limit)
