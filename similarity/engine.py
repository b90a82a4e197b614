"""``compare``: submissions in, scored pairs with evidence and clusters out.

Flow: read and featurise every file (``features``, cached by content) -> subtract the template
(``index.prepare``) -> one sparse row per submission and signal (``index.build_matrices``) ->
suppress what a large share of the class has (``index.suppress_common``) -> every component
for all pairs of the class by blocked sparse products, and for archive/web sources exhaustively
or through the fingerprint index -> combined score -> fragments and shared comments for the
reported pairs only (``align``) -> clusters. No HTML here: reports/ draws the result.
"""

from __future__ import annotations

import multiprocessing
import os
import time
from collections.abc import Callable, Collection, Mapping
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from similarity.align import Fragment, align, shared_comments
from similarity.clusters import clusters
from similarity.corpora import Submission, children, load_submission
from similarity.errors import SimilarityInputError
from similarity.index import (
    FingerprintIndex,
    Prepared,
    build_matrices,
    build_sparse,
    build_template,
    column_df,
    prepare,
    suppress_common,
    suppressed_kgrams,
)
from similarity.options import COMPONENTS, SimilarityOptions
from similarity.sketch import (
    cosine_of_sets,
    count_sketch,
    csr_rows,
    drop_common,
    hashed_df,
    ngram_hash_sets,
    set_rows,
)

__all__ = ["Pair", "SimilarityResult", "SimilarityInputError", "compare", "combine"]

Progress = Callable[[str, int, int], None]
_COMMENT_FLOOR = 2.0
_WORKER_CPU = [0.0]  # CPU seconds spent in worker processes (not in this process's rusage)
_PARALLEL_FROM = 1000  # below this many submissions, starting worker processes is not worth it  # one shared comment out of one gives 0.5, not 1


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

    def to_dict(self) -> dict:
        return {"a": self.a, "b": self.b, "score": round(self.score, 6), "kind": self.kind,
                "flagged": self.flagged,
                "components": {k: round(v, 6) for k, v in self.components.items()},
                "fragments": [f.to_dict() for f in self.fragments],
                "shared_comments": list(self.shared_comments), "estimated": self.estimated}


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
    s = sum(options.weights[c] * components[c] for c in COMPONENTS)
    s = s + options.comment_boost * components["comments"] * (1.0 - s)
    return np.clip(s, 0.0, 1.0)


def _row_normalise(m: sp.csr_matrix) -> sp.csr_matrix:
    norms = np.sqrt(np.asarray(m.multiply(m).sum(axis=1)).ravel())
    inv = np.divide(1.0, norms, out=np.zeros_like(norms), where=norms > 0)
    return sp.csr_matrix(sp.diags(inv.astype(np.float32)) @ m)


def _tfidf(counts: sp.csr_matrix, class_rows: np.ndarray) -> sp.csr_matrix:
    """Sublinear tf times smoothed idf (over the class), rows of unit length."""
    m = counts.astype(np.float32).tocsr(copy=True)
    m.data = 1.0 + np.log(np.maximum(m.data, 1.0))
    df = column_df(m, class_rows)
    idf = (np.log((1.0 + class_rows.size) / (1.0 + df)) + 1.0).astype(np.float32)
    return _row_normalise(sp.csr_matrix(m @ sp.diags(idf)))


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

    def _exact_sparse_block(self, ra: np.ndarray, rb: np.ndarray) -> dict[str, np.ndarray]:
        def gram(m):
            return np.asarray((m[ra] @ m[rb].T).toarray(), dtype=np.float64)
        floor = float(self.o.containment_floor)
        out = {}
        denom = np.maximum(np.minimum.outer(self.fp_size[ra], self.fp_size[rb]), floor)
        out["fingerprints"] = np.minimum(gram(self.fp) / denom, 1.0)
        denom = np.maximum(np.minimum.outer(self.cm_size[ra], self.cm_size[rb]), _COMMENT_FLOOR)
        out["comments"] = np.minimum(gram(self.cm) / denom, 1.0)
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
        out = {name: np.clip(np.asarray((m[ra] @ m[rb].T).toarray(), dtype=np.float64), 0, 1)
               for name, m in self.unit.items()}
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
        self.sets = {}
        for name, attr, p in (("tokens", "stream", o.token_p), ("text", "text", o.text_p)):
            sets = ngram_hash_sets([getattr(d, attr) for d in docs], tuple(p))
            self.sets[name] = drop_common(sets, hashed_df(sets, class_rows), limit)
        dim = o.sketch_dim
        self.sketch = {
            "tokens": count_sketch(set_rows(self.sets["tokens"]), dim, 1, mixed=True),
            "text": count_sketch(set_rows(self.sets["text"]), dim, 2, mixed=True),
            "ast": count_sketch(csr_rows(self.unit["ast"]), dim, 3),
            "lexical": count_sketch(csr_rows(self.unit["lexical"]), dim, 4),
        }

    def block(self, ra: np.ndarray, rb: np.ndarray) -> dict[str, np.ndarray]:
        out = {name: np.clip(e[ra] @ e[rb].T, 0.0, 1.0).astype(np.float64)
               for name, e in self.sketch.items()}
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
            sets = self.sets[name]
            out[name] = np.array([cosine_of_sets(sets[i], sets[j])
                                  for i, j in zip(r.tolist(), c.tolist(), strict=True)])
        return out


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
        for sub in _load_many(items[lo : lo + _INDEX_CHUNK], o, cache_dir, None, "index"):
            out.append(prepare(sub, tmpl, o.k, o.window).fingerprints)
        if progress:
            progress("index sources", min(lo + _INDEX_CHUNK, len(items)), len(items))
    return out


def _load_one(item: tuple[str, str, Path, int, int, Path | None]) -> tuple[Submission, float]:
    """One submission read and featurised, and the CPU seconds it took (workers report it)."""
    name, kind, path, max_bytes, max_files, cache_dir = item
    c = time.process_time()
    sub = load_submission(name, kind, path, max_bytes=max_bytes, max_files=max_files,
                          cache_dir=cache_dir)
    return sub, time.process_time() - c


def _load_many(items: list[tuple[str, str, Path]], o: SimilarityOptions,
               cache_dir: Path | None, progress: Progress | None, stage: str
               ) -> list[Submission]:
    """Read and featurise submissions, in worker processes when there are many.

    The result is the same list in the same order whatever the number of workers.
    """
    jobs = [(name, kind, Path(path), o.max_file_bytes, o.max_files_per_submission, cache_dir)
            for name, kind, path in items]
    workers = o.workers or min(os.cpu_count() or 1, 8)
    if workers > 1 and len(jobs) >= _PARALLEL_FROM:
        try:
            ctx = multiprocessing.get_context("forkserver")
            out = []
            with ProcessPoolExecutor(workers, mp_context=ctx) as ex:
                chunk = max(1, len(jobs) // (workers * 8))
                for i, (sub, cpu) in enumerate(ex.map(_load_one, jobs, chunksize=chunk)):
                    out.append(sub)
                    _WORKER_CPU[0] += cpu
                    if progress:
                        progress(stage, i + 1, len(jobs))
            return out
        except (OSError, RuntimeError, AssertionError, BrokenProcessPool):
            pass  # no worker processes here (e.g. inside a daemon): read them in this one
    out = []
    for i, job in enumerate(jobs):
        out.append(_load_one(job)[0])
        if progress:
            progress(stage, i + 1, len(jobs))
    return out


def compare(submissions: Mapping[str, Path], *, template: Path | None = None,
            archive: Path | None = None, web: Path | None = None,
            options: SimilarityOptions | None = None, progress: Progress | None = None,
            cache_dir: Path | None = None,
            focus: Collection[str] | None = None) -> SimilarityResult:
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
    t0, cpu0, wcpu0 = time.perf_counter(), time.process_time(), _WORKER_CPU[0]
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
    klass = _load_many([(str(name), "peer", Path(path))
                        for name, path in sorted(submissions.items())],
                       o, cache_dir, progress, "read submissions")
    tmpl_subs = []
    if template is not None:
        tp = Path(template)
        if not tp.exists():
            raise SimilarityInputError(f"the template {tp} does not exist",
                                       hint="pass the starter code file or folder")
        tmpl_subs = [load_submission("template", "template", tp, max_bytes=o.max_file_bytes,
                                     max_files=o.max_files_per_submission,
                                     cache_dir=cache_dir)]
    src_items = _corpus_items(archive, "archive") + _corpus_items(web, "web")
    t_read = time.perf_counter()
    tmpl = build_template(tmpl_subs, o.k)
    prep = [prepare(s, tmpl, o.k, o.window) for s in klass]
    n = len(prep)
    class_rows = np.arange(n)
    common_kgrams = suppressed_kgrams(prep, class_rows, max_share=o.max_class_share,
                                      min_count=o.share_min_count)

    # Which (student, source) pairs are scored: all of them, or the index's candidates.
    use_index = n * len(src_items) > o.exhaustive_pairs
    if use_index and src_items:
        idx = FingerprintIndex(_indexed_fingerprints(src_items, tmpl, o, cache_dir,
                                                     progress)).build()
        queries = [np.setdiff1d(p.fingerprints, common_kgrams, assume_unique=True)
                   for p in prep]
        qr, qc, _ = idx.query(queries, o.index_candidates)
        used_src = np.unique(qc)
        del idx
    else:
        used_src = np.arange(len(src_items))
        qr = qc = None
    # The sources that are scored, read in full (again, for the index's candidates).
    sources = _load_many([src_items[i] for i in used_src.tolist()], o, cache_dir, progress,
                         "read sources")
    src_prep = [prepare(s, tmpl, o.k, o.window) for s in sources]
    docs: list[Prepared] = prep + src_prep
    t_prep = time.perf_counter()  # "prepare" includes indexing and reading the sources

    pairs: list[Pair] = []
    dropped: dict[str, int] = {}
    n_pairs = n * (n - 1) // 2 + (n * used_src.size if not use_index else int(qr.size))
    # The exact string-kernel matrices cost memory per document, not per scored pair: a class
    # checked against thousands of index candidates is sketched like a class that size.
    sketched = max(n_pairs, len(docs) * (len(docs) - 1) // 2) > o.exact_pairs
    if len(docs) >= 2:
        if sketched:
            mats = build_sparse(docs)
        else:
            mats = build_matrices(docs, o.token_p, o.text_p)
        dropped = suppress_common(mats, class_rows, max_share=o.max_class_share,
                                  min_count=o.share_min_count)
        scorer = (_SketchScorer(docs, mats, class_rows, o) if sketched
                  else _Scorer(mats, class_rows, o))
        found_r: list[np.ndarray] = []
        found_c: list[np.ndarray] = []
        found_v: list[dict[str, np.ndarray]] = []

        def keep(ra, rb, comps, mask):
            i, j = np.nonzero(mask)
            found_r.append(ra[i])
            found_c.append(rb[j])
            found_v.append({c: v[i, j] for c, v in comps.items()})

        # Rows whose pairs are scored: everyone, or only the focus students (late submissions:
        # suppression and idf still come from the whole class, so scores are the same).
        focus_rows = class_rows if focus_set is None else np.array(
            [i for i, s in enumerate(klass) if s.name in focus_set], dtype=np.int64)
        in_focus = np.zeros(n, dtype=bool)
        in_focus[focus_rows] = True
        for lo in range(0, focus_rows.size, o.block_rows):
            ra = focus_rows[lo : lo + o.block_rows]
            comps = scorer.block(ra, class_rows)
            # Each pair once: (i, j) with i < j, or j outside the focus (swapped below).
            once = (ra[:, None] < class_rows[None, :]) | (
                (ra[:, None] != class_rows[None, :]) & ~in_focus[None, :])
            keep(ra, class_rows, comps, once & (combine(comps, o) >= o.min_score))
            if used_src.size and not use_index:
                rb = np.arange(n, len(docs))
                comps = scorer.block(ra, rb)
                keep(ra, rb, comps, combine(comps, o) >= o.min_score)
        if use_index and qr is not None and qr.size:
            qr, qc = qr[in_focus[qr]], qc[in_focus[qr]]
            pos = np.searchsorted(used_src, qc) + n
            comps = _chunked(scorer.pairs, qr, pos)
            ok = combine(comps, o) >= o.min_score
            found_r.append(qr[ok])
            found_c.append(pos[ok])
            found_v.append({c: v[ok] for c, v in comps.items()})
        fr = np.concatenate(found_r) if found_r else np.zeros(0, dtype=np.int64)
        fc = np.concatenate(found_c) if found_c else np.zeros(0, dtype=np.int64)
        swap = (fc < n) & (fc < fr)  # peer pairs name the alphabetically first student as a
        fr, fc = np.where(swap, fc, fr), np.where(swap, fr, fc)
        comps = {c: (np.concatenate([v[c] for v in found_v]) if found_v else np.zeros(0))
                 for c in (*COMPONENTS, "comments")}
        score = combine(comps, o)
        estimated = np.full(fr.size, scorer.estimated)
        if scorer.estimated:
            # Pairs that could be flagged are scored exactly; the rest keep their estimate.
            near = np.flatnonzero(score >= o.threshold - o.sketch_margin)
            if near.size:
                ex = _chunked(scorer.exact, fr[near], fc[near])
                for c in comps:
                    comps[c][near] = ex[c]
                score[near] = combine({c: v[near] for c, v in comps.items()}, o)
                estimated[near] = False
        ok = np.flatnonzero(score >= o.min_score)
        # Highest first, ties by names: sorted here by name ranks, so the (possibly 100,000s
        # of) Pair objects are made once, in order, and never sorted as objects.
        name_rank = np.empty(len(docs), dtype=np.int64)
        name_rank[sorted(range(len(docs)), key=lambda i: docs[i].sub.name)] = np.arange(len(docs))
        ok = ok[np.lexsort((name_rank[fc[ok]], name_rank[fr[ok]], -score[ok]))]
        names = (*COMPONENTS, "comments")
        # Plain Python values in one conversion per column (not one per pair and component).
        cols = [comps[c][ok].tolist() for c in names]
        t_score = time.perf_counter()
        subs = [d.sub for d in docs]
        thr = o.threshold
        pairs = [Pair(subs[i].name, subs[j].name, sc, dict(zip(names, vals)), subs[j].kind,
                      sc >= thr, estimated=est)
                 for i, j, sc, est, *vals in zip(fr[ok].tolist(), fc[ok].tolist(),
                                                 score[ok].tolist(), estimated[ok].tolist(),
                                                 *cols, strict=True)]
        by_name = {d.sub.name: d for d in docs}
        common_comments = _common_comments(prep, o)
        for rank, p in enumerate(pairs):
            if rank >= o.evidence_pairs:
                break  # pairs are sorted: the rest get no evidence
            pa, pb = by_name[p.a], by_name[p.b]
            p.fragments = align(pa, pb, common_kgrams, k=o.k,
                                min_tokens=o.min_fragment_tokens, max_fragments=o.max_fragments)
            p.shared_comments = shared_comments(pa, pb, common_comments)
    else:
        t_score = time.perf_counter()
    t_end = time.perf_counter()
    notes = {s.name: s.notes for s in klass + sources if s.notes}
    stats = {"submissions": n, "sources": len(src_items), "sources_scored": int(used_src.size),
             "sketched": bool(len(docs) >= 2 and sketched),
             "estimated_pairs": sum(p.estimated for p in pairs),
             "archive_index": bool(use_index and src_prep), "pairs_reported": len(pairs),
             "flagged": sum(p.flagged for p in pairs), "suppressed_columns": dropped,
             "seconds": {"read": t_read - t0, "prepare": t_prep - t_read,
                         "score": t_score - t_prep, "evidence": t_end - t_score,
                         "total": t_end - t0},
             "cpu_seconds": {"this_process": time.process_time() - cpu0,
                             "workers": _WORKER_CPU[0] - wcpu0}}
    return SimilarityResult(pairs=pairs, clusters=clusters(pairs), notes=notes, stats=stats,
                            options=o)


def _common_comments(prep: list[Prepared], o: SimilarityOptions) -> frozenset[str]:
    counts: dict[str, int] = {}
    for p in prep:
        for c in p.comments:
            counts[c] = counts.get(c, 0) + 1
    limit = max(o.max_class_share * len(prep), float(o.share_min_count))
    return frozenset(c for c, v in counts.items() if v > limit)
