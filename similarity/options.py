"""Every knob of the plagiarism engine in one place, with its default, unit and check.

``--min-score`` and the ``[similarity]`` table of course.toml only fill in a
``SimilarityOptions``; nothing else in ``similarity/`` has a default of its own.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, fields

from similarity.errors import SimilarityOptionsError

__all__ = ["SimilarityOptions", "SimilarityOptionsError", "DEFAULT_WEIGHTS", "COMPONENTS",
           "STRUCTURAL"]

# The combined score is a weighted mean of these structural components (see docs/similarity.md).
COMPONENTS: tuple[str, ...] = ("fingerprints", "tokens", "ast", "text", "lexical")
# The components that renaming cannot touch; the others (surface) only raise their mean.
STRUCTURAL: tuple[str, ...] = ("fingerprints", "tokens", "ast")
# Structure first: the score is the weighted mean of the structural components, which the
# surface components (their own weighted mean) can only raise, by ``surface_boost``: a
# renamed copy is not pulled down by its new names, identical names still add evidence.
DEFAULT_WEIGHTS: dict[str, float] = {
    "fingerprints": 0.3,  # k-grams of the normalised statement stream: containment
    "tokens": 0.3,  # string kernel over the normalised statement stream: short runs
    "ast": 0.3,  # order-free AST node n-grams and subtrees: reordering, control-flow rewrites
    "text": 0.1,  # string kernel over the raw text: names, literals, comments kept as written
    "lexical": 0.0,  # identifier sub-words: reported, but renaming (the commonest disguise)
                     # makes it mislead (IR-Plag L2 AUC 0.47), so it does not count by default
}


@dataclass(frozen=True)
class SimilarityOptions:
    """Defaults and limits of the plagiarism engine; every value is checked on construction.

    Parameters
    ----------
    threshold : float, default=0.45
        A pair is ``flagged`` (and links a cluster) when its score is at least this.
    min_score : float, default=0.15
        The noise floor's ceiling: every pair at or above it is reported. Pairs below it are
        reported too while they stand out from the class's own distribution (see
        ``noise_mads``), so a fixed cut never hides a copy in a class of dissimilar programs.
    noise_mads : float, default=4.0
        The noise floor is ``min(min_score, median + noise_mads * 1.4826 * MAD)`` of the
        class's final scores (every scored pair).
    noise_min_pairs : int, default=500
        Classes with fewer scored pairs than this keep every pair (no floor).
    max_class_share : float, default=0.25
        A fragment (fingerprint, n-gram, AST feature, comment) present in more than this share
        of the class is suppressed everywhere: it is common knowledge, not copying.
    share_min_count : int, default=5
        ...but only when it is also present in more than this many submissions, so a group of
        copiers in a small class is never suppressed by its own size.
    k : int, default=9
        Token k-gram length of the fingerprints (tokens of the normalised stream).
    window : int, default=5
        Winnowing window: every shared run of ``k + window - 1`` tokens is guaranteed found.
    token_p : tuple of int, default=(3, 4, 5, 6)
        N-gram lengths (in tokens) of the token-stream string kernel (presence, normalised).
    text_p : tuple of int, default=(6,)
        N-gram lengths (in characters) of the raw-text string kernel (presence, normalised).
        One length: presence rows of neighbouring lengths say nearly the same thing (a shared
        7-gram is two shared 6-grams), and the text kernel was two thirds of scoring's work with
        three (IR-Plag: AUC the same at every level with (5, 6, 7) and (6,)).
    weights : dict, default=DEFAULT_WEIGHTS
        Weight of each component in the combined score; they must sum to 1. The structural
        ones (``STRUCTURAL``) form a weighted mean; the surface ones (``text``, ``lexical``)
        form another that raises it (see ``surface_boost``).
    standout_boost : float, default=0.5
        A pair that stands out from both students' own similarities is raised by up to
        ``standout_boost * s * (1 - s)`` (``similarity.calibrate``); 0 turns it off.
    standout_z0, standout_span : float, default=3.0, 3.0
        The lift starts at ``standout_z0`` robust standard deviations above both students'
        medians and is full ``standout_span`` beyond.
    standout_floor : float, default=0.05
        Smallest spread of a student's scores (so a student whose scores are all alike does
        not make every small difference stand out).
    code_alone : float, default=0.9
        Where both programs ran on the hidden test set, the code score alone must reach this
        to flag (behaviour that could have shown copying and did not raises the bar from
        ``threshold``; see ``similarity.verdict``). At or below ``threshold``: no change.
    explained_share : float, default=0.9
        A pair whose agreement a standard model explains ranks from ``explained_share *
        threshold`` up to (not at) the threshold, higher the more similar its code (agreement,
        but no evidence; see ``similarity.verdict``); must be below 1.
    setting_share : float, default=0.95
        The same for a standard model that is a setting students choose rather than a default
        (k-NN with k = 3): two honest students land on it less often than on a default, so its
        pairs rank above the defaults' and still under the threshold; must be below 1.
    surface_boost : float, default=0.3
        Identical names and text raise the structural score ``s``:
        ``s + surface_boost * surface * (1 - s)``; never lower it.
    comment_boost : float, default=0.25
        Shared rare comments/strings raise the score: ``s + comment_boost * c * (1 - s)``.
    containment_floor : int, default=8
        The fingerprint containment is ``shared / max(min(|A|, |B|), containment_floor)``, so
        two tiny files sharing a handful of fingerprints do not score 1.
    max_file_bytes : int, default=1_000_000
        Files are read up to this many bytes (bounded memory); the rest is ignored, with a note.
    max_files_per_submission : int, default=200
        A folder submission is read up to this many ``.py`` files (sorted by path).
    min_fragment_tokens : int, default=12
        Fragments shorter than this many tokens are not reported as evidence.
    merge_gap : int, default=16
        Subsequence match merging (JPlag's defence against inserted statements): matching
        runs that follow each other in both files with at most this many tokens between them
        (on average over the two files; a short statement is 10-15 of these tokens, where
        JPlag's default of 6 counts its coarser statement tokens) form one evidence fragment. 0 turns it off. Fragments only: the merged
        coverage as a score was measured and left out (see docs/similarity.md).
    merge_buffer : int, default=2
        Runs down to ``min_fragment_tokens - merge_buffer`` tokens may be merged.
    max_fragments : int, default=50
        At most this many fragments per reported pair (longest first).
    exhaustive_pairs : int, default=2_000_000
        Archive/web comparisons up to this many pairs are exhaustive; beyond, the fingerprint
        index proposes ``index_candidates`` sources per student.
    index_candidates : int, default=20
        Candidates per student from the archive/web index when it is used.
    exact_pairs : int, default=200_000
        Up to this many pairs, every component is computed exactly (string kernels through
        ``string_kernels.char_ngram_matrix``); the documents count too (a class with the
        sources read in full: at most as many as a class with this many pairs has, about 630,
        since the exact matrices grow with the documents). Beyond, the string-kernel, AST and word
        components are screened by count sketches of ``sketch_dim`` dimensions and pairs within
        ``sketch_margin`` of the threshold are rescored exactly (see ``similarity.sketch``).
    sketch_dim : int, default=512
        Dimensions of each count sketch (estimate error about ``1/sqrt(sketch_dim)``).
    sketch_margin : float, default=0.1
        Pairs whose estimated score is at least ``threshold - sketch_margin`` are rescored
        exactly, so flags never rest on an estimate.
    evidence_pairs : int, default=1000
        Fragments and shared comments are computed for the best this many pairs (every
        flagged pair in any class with fewer flagged pairs; a TA reads no more), and
        ``pairs.json`` lists them (pairs.csv ranks every pair).
    workers : int, default=0
        Processes that read and featurise files (0: one per CPU, at most 8, from 200
        submissions on when this process has a single thread (forked), else from 1,000; 1:
        none). Results do not depend on it.
    block_rows : int, default=512
        Rows per block of the all-pairs products (bounds memory at ``block_rows * n`` floats).
    """

    threshold: float = 0.45
    min_score: float = 0.15
    noise_mads: float = 4.0
    noise_min_pairs: int = 500
    max_class_share: float = 0.25
    share_min_count: int = 5
    k: int = 9
    window: int = 5
    token_p: tuple[int, ...] = (3, 4, 5, 6)
    text_p: tuple[int, ...] = (6,)
    weights: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_WEIGHTS))
    comment_boost: float = 0.25
    code_alone: float = 0.9
    explained_share: float = 0.9
    setting_share: float = 0.95
    surface_boost: float = 0.3
    standout_boost: float = 0.5
    standout_z0: float = 3.0
    standout_span: float = 3.0
    standout_floor: float = 0.05
    containment_floor: int = 8
    max_file_bytes: int = 1_000_000
    max_files_per_submission: int = 200
    min_fragment_tokens: int = 12
    max_fragments: int = 50
    merge_gap: int = 16
    merge_buffer: int = 2
    exhaustive_pairs: int = 2_000_000
    index_candidates: int = 20
    exact_pairs: int = 200_000
    sketch_dim: int = 512
    sketch_margin: float = 0.1
    evidence_pairs: int = 1000
    workers: int = 0
    block_rows: int = 512

    def __post_init__(self) -> None:
        problems: list[str] = []

        def unit(name: str) -> None:
            v = getattr(self, name)
            if not isinstance(v, int | float) or not (0.0 <= float(v) <= 1.0) or math.isnan(v):
                problems.append(f"{name} = {v!r}: expected a number in [0, 1]")

        def positive(name: str, low: int = 1) -> None:
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < low:
                problems.append(f"{name} = {v!r}: expected a whole number >= {low}")

        for name in ("threshold", "min_score", "max_class_share", "comment_boost",
                     "surface_boost", "sketch_margin", "standout_boost", "standout_floor",
                     "code_alone", "explained_share", "setting_share"):
            unit(name)
        for name in ("explained_share", "setting_share"):
            v = getattr(self, name)
            if isinstance(v, int | float) and v >= 1:
                problems.append(f"{name} = {v!r}: expected below 1, "
                                "or an explained agreement alone would be flagged")
        for name, low in (("standout_z0", 0.0), ("standout_span", 1e-9)):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int | float) or not low <= v <= 100:
                problems.append(f"{name} = {v!r}: expected a number in [{low:g}, 100]")
        if not isinstance(self.noise_mads, int | float) or not 0 <= self.noise_mads <= 100:
            problems.append(f"noise_mads = {self.noise_mads!r}: expected a number in [0, 100]")
        for name, low in (("share_min_count", 1), ("k", 2), ("window", 1),
                          ("containment_floor", 1), ("max_file_bytes", 1024),
                          ("max_files_per_submission", 1), ("min_fragment_tokens", 1),
                          ("max_fragments", 1), ("exhaustive_pairs", 0),
                          ("merge_gap", 0), ("merge_buffer", 0),
                          ("index_candidates", 1), ("evidence_pairs", 0),
                          ("exact_pairs", 0), ("sketch_dim", 16),
                          ("block_rows", 1), ("workers", 0), ("noise_min_pairs", 0)):
            positive(name, low)
        for name in ("token_p", "text_p"):
            v = getattr(self, name)
            try:
                ok = len(v) > 0 and all(isinstance(n, int) and 1 <= n <= 16 for n in v)
            except TypeError:
                ok = False
            if not ok:
                problems.append(f"{name} = {v!r}: expected a non-empty list of lengths 1..16")
        w = self.weights
        if not isinstance(w, dict) or set(w) != set(COMPONENTS):
            problems.append(f"weights = {w!r}: expected exactly the keys {', '.join(COMPONENTS)}")
        elif any(not isinstance(x, int | float) or x < 0 for x in w.values()):
            problems.append(f"weights = {w!r}: expected non-negative numbers")
        elif sum(w[c] for c in STRUCTURAL) <= 0:
            problems.append(f"weights = {w!r}: expected a positive weight on at least one of "
                            f"{', '.join(STRUCTURAL)}")
        elif abs(sum(w.values()) - 1.0) > 1e-6:
            problems.append(f"weights = {w!r}: expected them to sum to 1, got {sum(w.values()):g}")
        if (isinstance(self.min_score, int | float) and isinstance(self.threshold, int | float)
                and self.min_score > self.threshold):
            problems.append(f"min_score = {self.min_score!r}: expected at most threshold "
                            f"({self.threshold!r}), or flagged pairs would go unreported")
        if problems:
            raise SimilarityOptionsError(
                f"similarity options have {len(problems)} problem{'s' * (len(problems) > 1)}",
                problems=problems,
                hint="every option and its default is listed in docs/similarity.md",
            )

    @classmethod
    def resolve(cls, *, threshold: float | None = None, min_score: float | None = None,
                **others) -> SimilarityOptions:
        """Options from a threshold and/or a ``min_score``, the one place their conflict is
        settled: a threshold below the default ``min_score`` lowers ``min_score`` with it, and a
        ``min_score`` above the default threshold raises the threshold with it (flagged pairs are
        always reported). Both given: taken as given (and checked)."""
        default = cls()
        if threshold is None and min_score is not None and 0 <= min_score <= 1:
            # (an impossible min_score is left for the check to name, not the threshold)
            threshold = max(default.threshold, min_score)
        if min_score is None and threshold is not None:
            min_score = min(default.min_score, threshold)
        given = {k: v for k, v in (("threshold", threshold), ("min_score", min_score))
                 if v is not None}
        return cls(**given, **others)

    def to_dict(self) -> dict:
        """The options as plain data (for the run's record and the cache key)."""
        d = asdict(self)
        return {f.name: (list(d[f.name]) if isinstance(d[f.name], tuple) else d[f.name])
                for f in fields(self)}
