"""``compare``: submissions in, scored pairs with evidence and clusters out.

Flow: read and featurise every file (``features``, cached by content) -> subtract the template
(``index.prepare``) -> one sparse row per submission and signal (``index.build_matrices``) ->
suppress what a large share of the class has (``index.suppress_common``) -> every component
for all pairs of the class by blocked sparse products, and for archive/web sources exhaustively
or through the fingerprint index -> combined score -> fragments and shared comments for the
reported pairs only (``align``) -> clusters. No HTML here: reports/ draws the result.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from grader.errors import GraderError
from similarity.align import Fragment, align, shared_comments
from similarity.corpora import Submission, children, load_submission
from similarity.index import (
    FingerprintIndex,
    Prepared,
    build_matrices,
    build_template,
    column_df,
    prepare,
    suppress_common,
    suppressed_kgrams,
)
from similarity.options import COMPONENTS, SimilarityOptions

__all__ = ["Pair", "SimilarityResult", "SimilarityInputError", "compare", "combine"]

Progress = Callable[[str, int, int], None]
_COMMENT_FLOOR = 2.0  # one shared comment out of one gives 0.5, not 1


class SimilarityInputError(GraderError):
    reference = "invalid-similarity-input"


@dataclass
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
        Matching line ranges (for flagged and top pairs; see ``evidence_pairs``).
    shared_comments : list of str
        Comments, docstrings and unusual strings found in both.
    """

    a: str
    b: str
    score: float
    components: dict[str, float]
    kind: str
    flagged: bool
    fragments: list[Fragment] = field(default_factory=list)
    shared_comments: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"a": self.a, "b": self.b, "score": round(self.score, 6), "kind": self.kind,
                "flagged": self.flagged,
                "components": {k: round(v, 6) for k, v in self.components.items()},
                "fragments": [f.to_dict() for f in self.fragments],
                "shared_comments": list(self.shared_comments)}


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
    """Holds the normalised signal matrices and scores blocks or lists of pairs."""

    def __init__(self, mats: dict[str, sp.csr_matrix], class_rows: np.ndarray,
                 options: SimilarityOptions):
        self.o = options
        self.fp = mats["fingerprints"].tocsr()
        self.fp_size = np.asarray(self.fp.sum(axis=1)).ravel()
        self.cm = mats["comments"].tocsr()
        self.cm_size = np.asarray(self.cm.sum(axis=1)).ravel()
        self.unit = {"tokens": _row_normalise(mats["tokens"]),
                     "text": _row_normalise(mats["text"]),
                     "ast": _tfidf(mats["ast"], class_rows),
                     "lexical": _tfidf(mats["lexical"], class_rows)}

    def block(self, ra: np.ndarray, rb: np.ndarray) -> dict[str, np.ndarray]:
        """Every component for all pairs of rows ``ra`` x ``rb`` (dense arrays)."""
        def gram(m):
            return np.asarray((m[ra] @ m[rb].T).toarray(), dtype=np.float64)
        out = {name: np.clip(gram(m), 0.0, 1.0) for name, m in self.unit.items()}
        floor = float(self.o.containment_floor)
        denom = np.maximum(np.minimum.outer(self.fp_size[ra], self.fp_size[rb]), floor)
        out["fingerprints"] = np.minimum(gram(self.fp) / denom, 1.0)
        denom = np.maximum(np.minimum.outer(self.cm_size[ra], self.cm_size[rb]), _COMMENT_FLOOR)
        out["comments"] = np.minimum(gram(self.cm) / denom, 1.0)
        return out

    def pairs(self, r: np.ndarray, c: np.ndarray) -> dict[str, np.ndarray]:
        """Every component for the listed pairs ``(r[i], c[i])``."""
        def dot(m):
            return np.asarray(m[r].multiply(m[c]).sum(axis=1), dtype=np.float64).ravel()
        out = {name: np.clip(dot(m), 0.0, 1.0) for name, m in self.unit.items()}
        floor = float(self.o.containment_floor)
        out["fingerprints"] = np.minimum(
            dot(self.fp) / np.maximum(np.minimum(self.fp_size[r], self.fp_size[c]), floor), 1.0)
        out["comments"] = np.minimum(
            dot(self.cm) / np.maximum(np.minimum(self.cm_size[r], self.cm_size[c]),
                                      _COMMENT_FLOOR), 1.0)
        return out


def _load_corpus(folder: Path | None, kind: str, o: SimilarityOptions, cache_dir: Path | None,
                 progress: Progress | None) -> list[Submission]:
    if folder is None:
        return []
    folder = Path(folder)
    if not folder.is_dir():
        raise SimilarityInputError(f"the {kind} corpus {folder} is not a folder",
                                   hint=f"pass a folder whose children are {kind} sources")
    items = children(folder)
    out = []
    for i, (name, path) in enumerate(items.items()):
        out.append(load_submission(f"{kind}:{name}", kind, path, max_bytes=o.max_file_bytes,
                                   max_files=o.max_files_per_submission, cache_dir=cache_dir))
        if progress:
            progress(f"read {kind}", i + 1, len(items))
    return out


def _clusters(pairs: list[Pair]) -> list[list[str]]:
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for p in pairs:
        if p.flagged and p.kind == "peer":
            ra, rb = find(p.a), find(p.b)
            if ra != rb:
                parent[max(ra, rb)] = min(ra, rb)
    groups: dict[str, list[str]] = {}
    for x in parent:
        groups.setdefault(find(x), []).append(x)
    return sorted((sorted(g) for g in groups.values() if len(g) > 1), key=lambda g: (-len(g), g))


def compare(submissions: Mapping[str, Path], *, template: Path | None = None,
            archive: Path | None = None, web: Path | None = None,
            options: SimilarityOptions | None = None, progress: Progress | None = None,
            cache_dir: Path | None = None) -> SimilarityResult:
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
    t0 = time.perf_counter()
    missing = [f"{name}: {p}" for name, p in submissions.items() if not Path(p).exists()]
    if missing:
        raise SimilarityInputError(
            f"{len(missing)} submission path{'s' * (len(missing) > 1)} do not exist",
            problems=missing, hint="each submission is a .py file or a folder of .py files")
    klass: list[Submission] = []
    for i, (name, path) in enumerate(sorted(submissions.items())):
        klass.append(load_submission(str(name), "peer", Path(path),
                                     max_bytes=o.max_file_bytes,
                                     max_files=o.max_files_per_submission, cache_dir=cache_dir))
        if progress:
            progress("read submissions", i + 1, len(submissions))
    tmpl_subs = []
    if template is not None:
        tp = Path(template)
        if not tp.exists():
            raise SimilarityInputError(f"the template {tp} does not exist",
                                       hint="pass the starter code file or folder")
        tmpl_subs = [load_submission("template", "template", tp, max_bytes=o.max_file_bytes,
                                     max_files=o.max_files_per_submission,
                                     cache_dir=cache_dir)]
    sources = (_load_corpus(archive, "archive", o, cache_dir, progress)
               + _load_corpus(web, "web", o, cache_dir, progress))
    t_read = time.perf_counter()

    tmpl = build_template(tmpl_subs, o.k)
    prep = [prepare(s, tmpl, o.k, o.window) for s in klass]
    src_prep = [prepare(s, tmpl, o.k, o.window) for s in sources]
    n = len(prep)
    class_rows = np.arange(n)
    common_kgrams = suppressed_kgrams(prep, class_rows, max_share=o.max_class_share,
                                      min_count=o.share_min_count)

    # Which (student, source) pairs are scored: all of them, or the index's candidates.
    use_index = n * len(src_prep) > o.exhaustive_pairs
    if use_index and src_prep:
        idx = FingerprintIndex([p.fingerprints for p in src_prep]).build()
        queries = [np.setdiff1d(p.fingerprints, common_kgrams, assume_unique=True)
                   for p in prep]
        qr, qc, _ = idx.query(queries, o.index_candidates)
        used_src = np.unique(qc)
    else:
        used_src = np.arange(len(src_prep))
        qr = qc = None
    docs: list[Prepared] = prep + [src_prep[i] for i in used_src.tolist()]
    t_prep = time.perf_counter()

    pairs: list[Pair] = []
    dropped: dict[str, int] = {}
    if len(docs) >= 2:
        mats = build_matrices(docs, o.token_p, o.text_p)
        dropped = suppress_common(mats, class_rows, max_share=o.max_class_share,
                                  min_count=o.share_min_count)
        scorer = _Scorer(mats, class_rows, o)
        found: list[tuple[int, int, float, dict[str, float]]] = []

        def keep(ra, rb, comps, score, mask):
            for i, j in zip(*np.nonzero(mask), strict=True):
                found.append((int(ra[i]), int(rb[j]), float(score[i, j]),
                              {c: float(comps[c][i, j]) for c in comps}))

        for lo in range(0, n, o.block_rows):
            ra = class_rows[lo : lo + o.block_rows]
            comps = scorer.block(ra, class_rows)
            score = combine(comps, o)
            upper = ra[:, None] < class_rows[None, :]
            keep(ra, class_rows, comps, score, upper & (score >= o.min_score))
            if used_src.size and not use_index:
                rb = np.arange(n, len(docs))
                comps = scorer.block(ra, rb)
                score = combine(comps, o)
                keep(ra, rb, comps, score, score >= o.min_score)
        if use_index and qr is not None and qr.size:
            pos = np.searchsorted(used_src, qc) + n
            comps = scorer.pairs(qr, pos)
            score = combine(comps, o)
            for t in np.flatnonzero(score >= o.min_score).tolist():
                found.append((int(qr[t]), int(pos[t]), float(score[t]),
                              {c: float(comps[c][t]) for c in comps}))
        t_score = time.perf_counter()

        for i, j, s, comps in found:
            a, b = docs[i].sub, docs[j].sub
            kind = "peer" if b.kind == "peer" else b.kind
            pairs.append(Pair(a=a.name, b=b.name, score=s,
                              components={c: comps[c] for c in (*COMPONENTS, "comments")},
                              kind=kind, flagged=s >= o.threshold))
        pairs.sort(key=lambda p: (-p.score, p.a, p.b))
        by_name = {d.sub.name: d for d in docs}
        common_comments = _common_comments(prep, o)
        for rank, p in enumerate(pairs):
            if not (p.flagged or rank < o.evidence_pairs):
                continue
            pa, pb = by_name[p.a], by_name[p.b]
            p.fragments = align(pa, pb, common_kgrams, k=o.k,
                                min_tokens=o.min_fragment_tokens, max_fragments=o.max_fragments)
            p.shared_comments = shared_comments(pa, pb, common_comments)
    else:
        t_score = time.perf_counter()
    t_end = time.perf_counter()
    notes = {s.name: s.notes for s in klass + sources if s.notes}
    stats = {"submissions": n, "sources": len(sources), "sources_scored": int(used_src.size),
             "archive_index": bool(use_index and src_prep), "pairs_reported": len(pairs),
             "flagged": sum(p.flagged for p in pairs), "suppressed_columns": dropped,
             "seconds": {"read": t_read - t0, "prepare": t_prep - t_read,
                         "score": t_score - t_prep, "evidence": t_end - t_score,
                         "total": t_end - t0}}
    return SimilarityResult(pairs=pairs, clusters=_clusters(pairs), notes=notes, stats=stats,
                            options=o)


def _common_comments(prep: list[Prepared], o: SimilarityOptions) -> frozenset[str]:
    counts: dict[str, int] = {}
    for p in prep:
        for c in p.comments:
            counts[c] = counts.get(c, 0) + 1
    limit = max(o.max_class_share * len(prep), float(o.share_min_count))
    return frozenset(c for c, v in counts.items() if v > limit)
