"""Render a batch's pages from its store: one Jinja2 environment, every page self-contained.

Pages: ``reports/index.html`` (instructor summary), ``reports/similarity.html`` and
``reports/pairs/<a>__<b>.html`` (TA review), ``reports/students/<student>.{html,md,txt}``
(student feedback). CSS, JavaScript and plots are inlined; a Content-Security-Policy forbids
every fetch and admits only our own script (by hash), so a page works offline and text from a
submission that slipped through escaping still could not run or phone home.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import re
import shutil
import statistics
import time
from collections import Counter
from collections.abc import Callable, Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup

from diagnostics.text import score_text, shown_entries
from reports import _code, _explain, exports, plots
from reports._load import Batch, StudentRow, finite, load_batch, page_name, source_kind
from reports._wording import baseline_words, validation_measure
from reports.errors import ReportsError

#: rows per page of the long tables (the JavaScript pages through the rest)
PAGE_SIZE = 50
#: side-by-side pages are written for at most this many pairs (highest scores first)
MAX_PAIR_PAGES = 2000
#: the best-ranked pairs always get a page, flagged or not (an explained or held pair near
#: the top is what a TA opens next)
TOP_PAIR_PAGES = 50
#: lines of a log shown to a student
LOG_TAIL_LINES = 60
LOG_TAIL_CHARS = 8000
COMPONENT_ORDER = ("fingerprints", "tokens", "ast", "text", "lexical", "comments")
#: what each component of a pair's score measures, in words (docs/similarity.md)
COMPONENT_MEANING: dict[str, str] = {
    "fingerprints": "whole statements in common once dead code is removed, helpers inlined and "
                    "independent statements put in a fixed order; renaming does not hide them",
    "tokens": "short runs of the same normalised statements, also when blocks are reordered",
    "ast": "the same syntax-tree shapes (loops, calls, expressions), in any order",
    "text": "the same raw text: names, literals and comments exactly as written",
    "lexical": "the same unusual identifiers and literals (shared vocabulary)",
    "comments": "rare comments and strings found in both; they raise the score",
}
#: the decision states a TA can give a pair (grader.decisions.STATES), with their labels
DECISION_LABELS: dict[str, str] = {"confirmed": "confirmed", "dismissed": "dismissed",
                                   "needs_discussion": "needs discussion"}

_STATIC = Path(__file__).with_name("static")

#: what a student can do about each failure (the run contract is in DESIGN.md)
STATUS_HINTS: dict[str, str] = {
    "error": "run your program locally the way the grader does: GRADER_DATA set to a folder "
             "holding train.csv and test.csv, GRADER_OUTPUT to an empty writable folder; fix "
             "the error shown at the end of the log",
    "timeout": "the run is stopped after {time}; train on less data or for fewer epochs, or "
               "pick a cheaper model, and time it on a similar machine",
    "memory": "the run may use at most {memory}; load the data in smaller pieces, use float32, "
              "or a smaller model",
    "missing_package": "import only the packages the course environment provides ({listed}; "
                       "e.g. scikit-learn's HistGradientBoostingClassifier in place of xgboost "
                       "or lightgbm), or ask the instructor to add the one you need; then "
                       "resubmit",
    "invalid_output": "write $GRADER_OUTPUT/submission.csv with the header id,label and one row "
                      "per id of test.csv, {labels}",
}
#: what the labels of submission.csv must be, by metric (the class labels, unless listed here)
LABEL_RULES: dict[str, str] = {
    "mse": "each label a finite number (no NaN, no inf, no text)",
    "mae": "each label a finite number (no NaN, no inf, no text)",
    "kendall_tau": "each label a finite number (no NaN, no inf, no text)",
    "roc_auc": "each label the probability of the positive class, a number from 0 to 1 "
               "(e.g. predict_proba(X)[:, 1], not predict(X))",
}
_CLASS_LABELS = "using only labels seen in train.csv"


_PRIVATE_BASELINE = re.compile(r"(does not beat the baseline) \([^)]*\)")


def _student_note(note: str, release_private: bool) -> str:
    """The grade row's note for the student's page: the baseline's private score, which the
    grade stage writes for the staff ("does not beat the baseline (0.100478)"), left out until
    private scores are released (it is a statistic of the hidden part)."""
    return note if release_private else _PRIVATE_BASELINE.sub(r"\1", note)


def _autoescape(name: str | None) -> bool:
    # HTML and Markdown (mail clients render it as HTML) are escaped; plain text is not
    return not (name or "").endswith(".txt.j2")


def make_environment() -> Environment:
    """The one Jinja2 environment: autoescaped, ``StrictUndefined``, templates from the package."""
    env = Environment(loader=PackageLoader("reports", "templates"), autoescape=_autoescape,
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True,
                      keep_trailing_newline=True)
    env.filters["md_fence"] = _md_fence
    env.filters["md"] = _md_text
    # number formatting as plain functions: called thousands of times, a macro is much slower
    env.globals["num"] = _num_html
    env.globals["fmt"] = lambda v, d=4: _num_text(v, d, "–")
    env.globals["fmt_ascii"] = lambda v, d=4: _num_text(v, d, "-")
    env.globals["pair_values"] = pair_values
    return env


def pair_values(a: Any, b: Any, digits: int = 6) -> tuple[Markup | str, Markup | str]:
    """Two predictions side by side, in ``digits`` significant digits, or as many more as it
    takes to show that they differ (a copy's are the same to the last digit; two honest models'
    may agree in their first six): equal text exactly when the values are equal."""
    fa, fb = finite(a), finite(b)
    if fa is None or fb is None:
        return tuple(_DASH if f is None else f"{f:.{digits}g}" for f in (fa, fb))  # type: ignore
    for d in range(digits, 18):
        sa, sb = f"{fa:.{d}g}", f"{fb:.{d}g}"
        if (sa == sb) == (fa == fb):
            return sa, sb
    return repr(fa), repr(fb)


_DASH = Markup('<span class="muted">–</span>')


def _num_text(v: Any, digits: int, dash: str) -> str:
    f = finite(v)  # missing, NaN or not a number: a dash, never an error
    return dash if f is None else score_text(f, digits)


def _num_html(v: Any, digits: int = 4) -> Markup | str:
    f = finite(v)
    return _DASH if f is None else score_text(f, digits)


def _md_fence(text: str) -> Markup:
    """A fenced Markdown code block longer than any backtick run inside (content stays raw:
    Markdown shows code blocks literally, and escaping there would show ``&lt;``)."""
    longest, run = 0, 0
    for ch in text:
        run = run + 1 if ch == "`" else 0
        longest = max(longest, run)
    fence = "`" * max(3, longest + 1)
    return Markup(f"{fence}text\n{text}\n{fence}")


_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]#|~])")


def _md_text(text: Any) -> Markup:
    """Text from a submission as inert Markdown: HTML escaped, Markdown syntax backslashed
    (a message cannot become a link, a heading or a table cell), one line."""
    from markupsafe import escape

    md = _MD_SPECIAL.sub(r"\\\1", str(text).replace("\n", " "))
    return Markup(str(escape(md)))  # after the backslashes: entities keep their '#'



@lru_cache(maxsize=1)
def _assets() -> tuple[Markup, Markup, str]:
    """Inline CSS (ours + Pygments' classes), inline JS and the JS hash for the CSP."""
    from pygments.formatters import HtmlFormatter

    css = (_STATIC / "report.css").read_text(encoding="utf-8")
    css += "\n" + HtmlFormatter(style="default").get_style_defs(".code")
    js = (_STATIC / "report.js").read_text(encoding="utf-8")
    digest = base64.b64encode(hashlib.sha256(js.encode("utf-8")).digest()).decode()
    return Markup(css), Markup(js), f"sha256-{digest}"


def _when(t: Any) -> str:
    if not isinstance(t, int | float):
        return "–"
    return dt.datetime.fromtimestamp(t, dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _secs(s: float | None) -> str:
    if s is None:
        return "–"
    return f"{s:.1f} s" if s < 120 else f"{s / 60:.1f} min"


# --- page contexts -------------------------------------------------------------------------

def _index_context(b: Batch) -> dict[str, Any]:
    runs = [s.run for s in b.students if s.run]
    walls = [r["wall_s"] for r in runs if isinstance(r.get("wall_s"), int | float)]
    mems = [r["peak_memory_mb"] for r in runs if isinstance(r.get("peak_memory_mb"), int | float)]
    started, finished = b.meta.get("started_at"), b.meta.get("runs_finished_at")
    base = b.baseline()
    facts = [
        ("metric", b.metric),
        ("backend", b.meta.get("backend", "–")),
        ("executor", b.meta.get("executor", "–")),
        ("started", _when(started)),
        ("runs finished", _when(finished)),
        ("batch wall time", _secs(finished - started) if isinstance(started, int | float)
         and isinstance(finished, int | float) else "–"),
        ("runs", str(len(runs))),
        ("sandbox time, total", _secs(sum(walls)) if walls else "–"),
        ("run time, median / max", f"{_secs(statistics.median(walls))} / {_secs(max(walls))}"
         if walls else "–"),
        ("peak memory, max", f"{max(mems):.0f} MB" if mems else "–"),
        ("baseline", f"{baseline_words(base['model'], b.task, b.metric)} ({base['private_score']:.4f})"
         if base and base["private_score"] is not None else "–"),
        ("submissions folder", b.meta.get("submissions_dir", "–")),
    ]
    grades = [g for s in b.students if (g := (s.grade or {}).get("grade")) is not None]
    scores = [s.private for s in b.students if s.status == "ok" and s.private is not None]
    refs = [(r["model"], r["private_score"]) for r in b.reference
            if r.get("status") == "ok" and r.get("private_score") is not None
            and not r.get("is_baseline")]
    failed = [s for s in b.students if s.status != "ok"]
    validation_name, sign = validation_measure(b.metric)  # an error as a positive error
    return dict(
        page_kind="index", root="", audience="staff", students=b.students, counts=b.counts(),
        facts=facts, config=_config_shown(b), metric=b.metric, scored=len(scores),
        plot_grades=plots.grade_distribution(grades),
        plot_scores=plots.score_distribution(
            scores, metric=f"private {b.metric}",
            baseline=base["private_score"] if base else None, references=refs),
        reference=[{**r, "validation_shown": None if finite(r.get("validation_score")) is None
                    else sign * r["validation_score"]}
                   for r in b.best_first(b.reference, "private_score")],
        validation_name=validation_name, baseline=base, failed=failed,
        baseline_name=baseline_words(base["model"], b.task, b.metric) if base else "",
        page_size=PAGE_SIZE,
        preflight=_preflight(b.meta.get("preflight")),
        integrity=[s for s in b.students if (s.grade or {}).get("integrity")],
        integrity_policy=b.config.get("integrity") or {})


def _preflight(report: Any) -> dict[str, Any] | None:
    """The pre-flight of imports (checked before any run) as rows for the instructor page:
    who imports what the course environment lacks (``rows``), and who imports what it has only
    as another package's dependency (``warned``: it works until that package stops requiring
    it); None when nobody does either."""
    if not isinstance(report, dict):
        return None
    rows, warned = [], []
    for s in report.get("students") or []:
        student = str(s.get("student"))
        missing = [m for m in s.get("missing") or [] if isinstance(m, dict)]
        if missing:
            rows.append({"student": student, "page": page_name(student),
                         "rejected": bool(s.get("rejected")),
                         "imports": [f"{m.get('module')} ({m.get('file')}:{m.get('line')}"
                                     f"{', optional' if m.get('guarded') else ''}) → add "
                                     f"{m.get('distribution')}" for m in missing]})
        pulled = [d for d in s.get("dependency_only") or [] if isinstance(d, dict)]
        if pulled:
            warned.append({"student": student, "page": page_name(student),
                           "imports": [f"{d.get('module')} ({d.get('file')}:{d.get('line')}) "
                                       f"comes with {d.get('required_by')} → add "
                                       f"{d.get('distribution')}" for d in pulled]})
    if not rows and not warned:
        return None
    return {"mode": str(report.get("mode") or "warn"),
            "environment": str(report.get("environment") or ""), "rows": rows,
            "warned": warned}


def _threshold(b: Batch) -> float:
    """The flagging threshold the batch used: ``[similarity] threshold`` or the engine's."""
    value = (b.config.get("similarity") or {}).get("threshold")
    if value is None:
        from similarity.options import SimilarityOptions

        value = SimilarityOptions().threshold
    return float(value)


def pair_pages(pairs: list[dict[str, Any]]) -> set[int]:
    """The pairs (positions, in rank order) that get a static side-by-side page: the
    ``TOP_PAIR_PAGES`` best ranked, and beyond them every pair flagged (by the engine too, so
    a dismissed pair keeps its evidence and its decision's page), decided by a TA, or with
    code fragments; at most ``MAX_PAIR_PAGES``."""
    chosen = [i for i, p in enumerate(pairs)
              if i < TOP_PAIR_PAGES or p.get("flagged") or p.get("engine_flagged")
              or p.get("decision_state") or p.get("fragments")]
    return set(chosen[:MAX_PAIR_PAGES])


def _similarity_context(b: Batch, with_page: set[int]) -> dict[str, Any]:
    comps = [c for c in COMPONENT_ORDER if any(c in p["components"] for p in b.pairs)]
    comps += sorted({c for p in b.pairs for c in p["components"]} - set(comps))
    threshold, code_alone = _threshold(b), _code_alone()
    pairs = [{**p, "has_page": i in with_page, "band_cause": band_cause(p, threshold, code_alone)}
             for i, p in enumerate(b.pairs)]
    known = {s.student for s in b.students}
    clusters = [[{"name": n, "page": page_name(n) if n in known else ""} for n in c]
                for c in b.clusters]
    return dict(
        page_kind="similarity", root="", audience="staff", pairs=pairs, components=comps,
        student_pages={s.student: s.page for s in b.students},
        flagged=sum(1 for p in b.pairs if p.get("flagged")), threshold=threshold,
        decided=Counter(p["decision_state"] for p in b.pairs if p["decision_state"]),
        decision_labels=DECISION_LABELS,
        kinds=dict(sorted(Counter(p["kind"] for p in b.pairs).items())), clusters=clusters,
        plot_pairs=plots.score_distribution([p["score"] for p in b.pairs], metric="pair score",
                                            threshold=threshold, label="pair scores"),
        page_size=PAGE_SIZE, band_words=BAND_WORDS)


class _Sources:
    """Highlighted source per submission or corpus entry, each read and highlighted once."""

    def __init__(self, b: Batch):
        self.subs = {s.student: s for s in b.students}
        sim = b.config.get("similarity") or {}
        root = b.meta.get("course_root")
        # the folders the similarity stage read (grader.batch.similarity: template is starter/)
        self.corpora = {k: (Path(root) / (sim.get(k) or default)) if root else None
                        for k, default in (("web", "web"), ("archive", "archive"),
                                           ("template", "starter"))}
        self.cache: dict[str, tuple[list[_code.SourceFile], str]] = {}
        self._starter: frozenset[str] | None = None
        self.meta = b.meta
        self._shown: dict[str, Path] | None = None

    @property
    def starter(self) -> frozenset[str]:
        """The starter code's lines (read once)."""
        if self._starter is None:
            self._starter = _code.starter_lines(self.corpora["template"])
        return self._starter

    def _on_disk(self, stored: str) -> Path:
        """A submission's path as stored; a rejected one is stored as shown (a name with a
        bidi mark or bytes that are not UTF-8 escaped), and is found again in the
        submissions folder by its shown name."""
        path = Path(stored)
        folder = self.meta.get("submissions_dir")
        if path.exists() or path.is_symlink() or not folder:
            return path
        if self._shown is None:
            self._shown = shown_entries(folder)
        return self._shown.get(stored.rpartition("/")[2], path)

    def get(self, name: str) -> tuple[list[_code.SourceFile], str]:
        if name not in self.cache:
            self.cache[name] = self._load(name)
        return self.cache[name]

    def _load(self, name: str) -> tuple[list[_code.SourceFile], str]:
        if name in self.subs:
            s = self.subs[name]
            return _code.source_files(self._on_disk(str(s.path)), s.files or None)
        kind = source_kind(name)
        folder = self.corpora.get(kind)
        entry = name.partition(":")[2]
        if folder is None or not entry or "/" in entry or entry.startswith("."):
            return [], f"the code of {name} is not available to the report"
        for cand in (folder / entry, folder / f"{entry}.py"):
            if cand.exists() and not cand.is_symlink():
                return _code.source_files(cand)
        return [], f"the code of {name} is no longer in {folder}"


def _pair_context(b: Batch, p: dict[str, Any], sources: _Sources) -> dict[str, Any]:
    files_a, miss_a = sources.get(p["a"])
    files_b, miss_b = sources.get(p["b"])
    frags = [f for f in p["fragments"] if isinstance(f, dict)]
    view_a = _code.annotate(p["a"], files_a, frags, "a", miss_a)
    view_b = _code.annotate(p["b"], files_b, frags, "b", miss_b)
    starter = 0
    if p["kind"] != "template":  # against the starter itself every line would be marked
        starter = sum(_code.mark_starter(v, sources.starter) for v in (view_a, view_b))
    known = {s.student for s in b.students}
    return dict(page_kind="pair", root="../", audience="staff",
                pair={**p, "fragments": frags}, view_a=view_a, view_b=view_b,
                ncolours=_code.FRAGMENT_COLOURS, code_block=_code.code_block,
                line_span=_code.line_span,
                threshold=_threshold(b), meaning=COMPONENT_MEANING, weights=_weights(),
                code_alone=_code_alone(), starter_count=starter, decision_labels=DECISION_LABELS,
                students_in_pair=[n for n in (p["a"], p["b"]) if n in known],
                decision=p["decision"], when=_when, residuals=b.residuals,
                score_rule=_score_rule(p, _threshold(b), _code_alone()),
                band_cause=band_cause(p, _threshold(b), _code_alone()),
                truth_header=("true class (1 = positive)" if b.metric == "roc_auc"
                              else "true value" if b.residuals else "true label"))


#: [similarity] corpus keys and the course folder each defaults to when left empty
_CORPUS_DEFAULTS = {"template": "starter", "archive": "archive", "web": "web"}


def _config_shown(b: Batch) -> dict[str, Any]:
    """The course configuration as the index page shows it: an empty corpus key of
    ``[similarity]`` says which folder was used (its default), or that there was none."""
    config = dict(b.config)
    sim = config.get("similarity")
    root = b.meta.get("course_root")
    if isinstance(sim, dict) and root:
        sim = dict(sim)
        for key, default in _CORPUS_DEFAULTS.items():
            if sim.get(key) == "":
                found = (Path(str(root)) / default).is_dir()
                sim[key] = f"{default}/ (the default)" if found else f"none (no {default}/ folder)"
        if sim.get("threshold") is None:
            sim["threshold"] = f"{_threshold(b):g} (the engine's default)"
        config["similarity"] = sim
    return config


def _score_rule(p: dict[str, Any], threshold: float, code_alone: float) -> str:
    """Which rule gave a pair with behaviour its final score, where the formula
    ``1 - (1 - code') (1 - behaviour)`` alone does not (``similarity.verdict``):
    ``"explained"`` (a standard model explains the agreement: a band under the threshold),
    ``"band"`` (held just under the threshold: see :func:`band_cause`), else ``""``."""
    beh = p.get("behaviour")
    if not isinstance(beh, dict):
        return ""
    if beh.get("explained_by"):
        return "explained"
    return "band" if band_cause(p, threshold, code_alone) else ""


#: the overview's word for why a pair is held just under the threshold (``band_cause``)
BAND_WORDS = {"held": "held", "identical": "identical predictions", "near": "near predictions",
              "order": "same order"}


def band_cause(p: dict[str, Any], threshold: float, code_alone: float) -> str:
    """Why an unexplained pair with behaviour ranks just under the threshold, where the
    formula does not give its score: ``"held"`` (two kinds of evidence together at the
    threshold, one of them not even moderate), ``"identical"`` (identical predictions on too
    few wrong answers, or a standard model gives them on all but a few ids), ``"near"``
    (nearness that stands out), ``"order"`` (regression and ``roc_auc``: the same order of
    the test ids), or ``""`` for none. A TA read one sentence listing every possible cause
    and could not tell which applied."""
    beh = p.get("behaviour")
    code = finite(p.get("code"))
    score = finite(p.get("score"))
    if not isinstance(beh, dict) or beh.get("explained_by") or code is None or score is None:
        return ""
    from similarity.verdict import code_scale

    scaled = float(code_scale(code, threshold, code_alone))
    formula = 1.0 - (1.0 - scaled) * (1.0 - (finite(beh.get("behaviour")) or 0.0))
    if abs(formula - score) <= 5e-4:
        return ""
    if formula >= threshold:
        return "held"
    agreement = finite(beh.get("agreement"))
    if agreement is None:
        return "order"
    return "identical" if agreement >= 1.0 - 1e-9 else "near"


def _code_alone() -> float:
    """Where both programs ran, the code score alone must reach this to flag."""
    from similarity.options import SimilarityOptions

    return SimilarityOptions().code_alone


def _weights() -> dict[str, float]:
    from similarity.options import DEFAULT_WEIGHTS

    return dict(DEFAULT_WEIGHTS)


def _tail(text: str | None) -> str:
    if not text:
        return ""
    lines = text.rstrip("\n").split("\n")[-LOG_TAIL_LINES:]
    return "\n".join(lines)[-LOG_TAIL_CHARS:]


def _valid_details(d: Any) -> dict[str, Any] | None:
    """Scoring details in the shape ``grader.scoring`` writes, or None (nothing is guessed)."""
    if not isinstance(d, dict):
        return None
    classes, cm = d.get("classes"), d.get("confusion")
    if not (isinstance(classes, list) and classes and isinstance(cm, list)
            and len(cm) == len(classes)
            and all(isinstance(r, list) and len(r) == len(classes) for r in cm)):
        return None
    per_class = [r for r in d.get("per_class") or [] if isinstance(r, dict)]
    keys = ("label", "precision", "recall", "f1", "support")
    return {"classes": classes, "confusion": cm,
            "per_class": [{k: r.get(k) for k in keys} for r in per_class]}


def _score_hints(details: Any) -> list[str]:
    """What the scorer noticed in a valid output (``details["hints"]``, made from the public
    part only, so they are shown before the private release too)."""
    hints = details.get("hints") if isinstance(details, dict) else None
    return [h for h in hints if isinstance(h, str) and h] if isinstance(hints, list) else []


def _environment(env: Any) -> dict[str, Any] | None:
    """The course environment the programs ran on (packages and versions), for the student
    page; None when the batch ran on the grader's own interpreter."""
    if not isinstance(env, dict) or not env.get("built"):
        return None
    packages = [(str(p[0]), str(p[1])) for p in env.get("packages") or []
                if isinstance(p, list | tuple) and len(p) == 2]
    return {"source": str(env.get("source") or "environment/requirements.txt"),
            "packages": packages}


def bar_widths(scores: list[float | None], greater_is_better: bool) -> list[float]:
    """The comparison bars' lengths (0–100 %): the best score gets the longest bar.

    Parameters
    ----------
    scores : list of float or None
        The scores in the table's rows; None (no score) gets no bar.
    greater_is_better : bool
        The metric's direction. True (accuracy, macro_f1...): ``100 * score / best``, a
        negative score no bar. False (mse, mae): ``100 * best / score``, so an error twice
        the best one gets half its bar (a perfect 0 gets the full bar, any other error
        none).

    Examples
    --------
    >>> bar_widths([0.5, 1.0, None], True)
    [50.0, 100.0, 0.0]
    >>> bar_widths([2.0, 1.0, 4.0], False)
    [50.0, 100.0, 25.0]
    """
    vals = [v for v in scores if v is not None]
    if greater_is_better:
        top = max(vals) if vals and max(vals) > 0 else 1.0
        return [0.0 if v is None else max(0.0, 100.0 * v / top) for v in scores]
    best = min(vals) if vals else 0.0
    if best <= 0:  # a perfect 0: only it gets a bar, every other error is infinitely worse
        return [100.0 if v is not None and v <= 0 else 0.0 for v in scores]
    return [0.0 if v is None else 100.0 * best / v for v in scores]


def _feedback(b: Batch, s: StudentRow, ranked: int) -> dict[str, Any]:
    """What one student may see: their own data, the rank, and the course's reference points."""
    g, run = s.grade or {}, s.run or {}
    basis = "private" if b.release_private else "public"
    key = f"{basis}_score"
    mine = s.private if b.release_private else s.public
    comparison = [{"name": "your submission", "score": mine, "you": True, "baseline": False}]
    has_baseline_row = False
    for r in b.reference:
        v = r.get(key)
        if r.get("status") == "ok" and isinstance(v, int | float):
            comparison.append({"name": r["model"], "score": float(v), "you": False,
                               "baseline": bool(r.get("is_baseline"))})
            has_baseline_row |= bool(r.get("is_baseline"))
    base = b.baseline()
    # the baseline's score on the student's basis when stored (the built-in baseline's public
    # score); a fixed number is a private score, and says so
    own = base.get(key) if base else None
    if not has_baseline_row and base and (own is not None or base["private_score"] is not None):
        # the row is marked as the baseline (a badge, or "(baseline)" in text): not named so
        label = (baseline_words(base["model"], b.task, b.metric)
                 + ("" if own is not None else ", private score"))
        comparison.append({"name": label, "score": own if own is not None
                           else base["private_score"], "you": False, "baseline": True})
    # a batch without reference models compares with the baseline alone: the heading says so
    compared_with = ("the baseline and the reference models"
                     if any(not r["you"] and not r["baseline"] for r in comparison)
                     else "the baseline")
    widths = bar_widths([r["score"] for r in comparison], b.greater_is_better)
    for r, width in zip(comparison, widths, strict=True):
        r["width"] = width
        # the plain-text page's column: long names widen it instead of pushing scores out
        r["text_name"] = "your submission" if r["you"] else (
            r["name"] + (" (baseline)" if r["baseline"] else ""))
    sign = -1.0 if b.greater_is_better else 1.0  # best first: the smallest error for mse
    comparison.sort(key=lambda r: (r["score"] is None, sign * (r["score"] or 0.0)))
    raw = (s.score or {}).get("details") or {}
    # the stored matrix covers the whole test set: before release it would reveal the private
    # score, so only a public-part matrix (``details["public"]``, same shape) is shown then
    details = _valid_details(raw) if b.release_private else _valid_details(raw.get("public")
                                                                         if isinstance(raw, dict)
                                                                         else None)
    scope = "whole test set" if b.release_private else "public part of the test set"
    similarity = None
    if b.release_similarity:
        similarity = []
        for p in s.pairs:
            # the findings, not every pair: the store keeps all of them (a class of 40 gave
            # each student 39 lines of scores near 0, and never "no notable similarity")
            if not (p.get("flagged") or p["decision_state"] == "confirmed"):
                continue
            other = p["b"] if p["a"] == s.student else p["a"]
            kind = source_kind(other) if p["kind"] == "peer" else p["kind"]
            source = {"web": f"a web source ({other.partition(':')[2] or other})",
                      "archive": "a submission from a previous year",
                      "template": "the starter code"}.get(kind, "another submission")
            similarity.append({"source": source, "score": float(p["score"]),
                               "flagged": bool(p.get("flagged")),
                               "confirmed": p["decision_state"] == "confirmed"})
    sandbox = b.config.get("sandbox") or {}
    limits = ", ".join(x for x in (
        f"{sandbox['time_limit_s']:g} s" if isinstance(sandbox.get("time_limit_s"), int | float)
        else "", f"{sandbox['memory_mb']} MB" if sandbox.get("memory_mb") else "") if x) or "–"
    log = run.get("error_tail") or ""
    time_s, mem = sandbox.get("time_limit_s"), sandbox.get("memory_mb")
    hint = s.hint if not s.accepted else STATUS_HINTS.get(s.status, "").format(
        time=f"{time_s:g} s" if isinstance(time_s, int | float) else "the time limit",
        memory=f"{mem} MB" if mem else "the memory limit",
        labels=LABEL_RULES.get(b.metric, _CLASS_LABELS),
        listed="listed under 'Course environment' on this page"
        if _environment(b.meta.get("environment")) else "the instructor lists them")
    crash = _crash(b, s)
    if crash and s.status == "error":  # a crash with a known cause gets its own fix
        # numpy's warnings come before the traceback: in stderr.txt, not the stored tail
        hint = (_explain.nan_hint(crash["exception"],
                                  _explain.read_stderr(b.out_dir, s.student) or log, s.files)
                or _explain.crash_hint(crash["exception"]) or hint)
    if s.status in ("error", "timeout"):  # workers started without a main guard hang or die
        hint = _explain.main_guard_hint(log) or hint
    return dict(
        student=s.student, status=s.status, message=s.message,
        hint=hint or "", files=s.files, left_out=s.left_out, log_tail=_tail(log),
        public=s.public, private=s.private, release_private=b.release_private,
        rank=s.rank, ranked=ranked, band=s.band, base_grade=g.get("base_grade"),
        deduction=g.get("deduction"), grade=g.get("grade"),
        note=_student_note(str(g.get("note") or ""), b.release_private),
        above_baseline=None if g.get("above_baseline") is None else bool(g["above_baseline"]),
        basis=basis, comparison=comparison, compared_with=compared_with,
        # an error metric's bars are the inverse of the numbers beside them: say so
        bar_note=None if b.greater_is_better else (
            f"a smaller {b.metric} is better: the longest bar is the smallest error, and an "
            "error twice as large gets half its bar"),
        details=details, details_scope=scope, has_classes=b.has_classes,
        score_hints=_score_hints(raw),
        details_note=("The confusion matrix and per-class scores are shown once the private "
                      "scores are released." if _valid_details(raw) is not None else
                      "No per-class details are stored for this batch."),
        rank_text=f"{s.rank} of {ranked}" if s.rank is not None else "–",
        wall_text=f"{run['wall_s']:.1f} s" if isinstance(run.get("wall_s"), int | float) else "–",
        memory_text=(f"{run['peak_memory_mb']:.0f} MB"
                     if isinstance(run.get("peak_memory_mb"), int | float) else "–"),
        wall_s=run.get("wall_s"), peak_memory_mb=run.get("peak_memory_mb"),
        exit_code=run.get("exit_code"), limits=limits, similarity=similarity,
        environment=_environment(b.meta.get("environment")),
        integrity=_integrity_for_student(g) if b.release_similarity else "",
        explain=_explain.explain_grade(b, s, ranked), crash=crash)


def _crash(b: Batch, s: StudentRow) -> dict[str, Any] | None:
    """A failed run's traceback, the student's own frames first (None without one)."""
    if s.status == "ok" or not s.accepted:
        return None
    tail = (s.run or {}).get("error_tail") or ""
    view = _explain.crash_view(_explain.read_stderr(b.out_dir, s.student) or tail, s.files)
    # The exception line as the stored tail has it: stderr.txt keeps host paths for the
    # instructor, and an exception's text may hold one ("cannot import name ... (/usr/...)").
    if view is not None and tail:
        _, hidden = _explain.parse_frames(tail, s.files)
        if hidden:
            view["exception"] = hidden
    return view


def _integrity_for_student(g: Mapping[str, Any]) -> str:
    """A confirmed finding as the student reads it: the outcome for their own grade only (the
    stored outcome names the other student and the TAs' notes, which stay with the staff)."""
    if not str(g.get("integrity") or "").startswith("confirmed"):
        return ""
    before, after = finite(g.get("pre_integrity")), finite(g.get("grade"))
    change = (f" Under the course's rules your project grade is {after:g} (it would be "
              f"{before:g} otherwise)." if before is not None and after is not None
              and before != after else "")
    return ("The course staff reviewed the similarity finding about your submission and "
            "confirmed it." + change)


# --- the whole batch -----------------------------------------------------------------------

def render_all(out_dir: Path, snapshot: Mapping[str, Any], *,
               progress: Callable[[str], None] | None = None,
               columns: list[str] | None = None, moodle_item: str | None = None) -> dict[str, Any]:
    """Render every page and export of the batch in ``out_dir`` from its stored data only.

    Parameters
    ----------
    out_dir : Path
        The batch folder; pages go to ``out_dir/reports``, exports beside them.
    snapshot : mapping
        The batch's store as plain data (``grader.store.Store.snapshot()``); reports read
        nothing else, so re-rendering gives the pages the batch did.
    progress : callable, optional
        Called with a one-line message after each group of pages.
    columns : list of str, optional
        Columns of ``exports/grades_columns.csv`` (names from ``reports.exports.COLUMNS``).
    moodle_item : str, optional
        The grade item's column name in ``exports/moodle.csv``.

    Returns
    -------
    dict
        ``index``, ``similarity`` (paths), ``students``, ``pairs`` (page counts), ``exports``
        (paths) and ``seconds`` (float).

    Examples
    --------
    >>> info = render_all(Path("out"), store.snapshot())  # doctest: +SKIP
    >>> info["index"]                             # doctest: +SKIP
    PosixPath('out/reports/index.html')
    """
    t0 = time.perf_counter()
    say = progress or (lambda _m: None)
    out_dir = Path(out_dir)
    b = load_batch(out_dir, snapshot)
    if columns is not None:
        exports.check_columns(columns)
    env = make_environment()
    css, js, script_hash = _assets()
    common = dict(course=b.course, css=css, js=js, script_hash=script_hash, review=None)
    rep = out_dir / "reports"
    for sub in ("students", "pairs"):
        if (rep / sub).is_symlink():  # never write through a link planted in the folder
            (rep / sub).unlink()
        (rep / sub).mkdir(parents=True, exist_ok=True)
    written: set[Path] = set()

    def write(rel: str, template: str, ctx: dict[str, Any]) -> Path:
        path = rep / rel
        text = env.get_template(template).render(**common, **ctx)
        if not text.endswith("\n"):  # Jinja drops the template's last newline
            text += "\n"
        path.write_text(text, encoding="utf-8")
        written.add(path)
        return path

    index = write("index.html", "index.html.j2", _index_context(b))
    say("reports: index.html")
    with_page = pair_pages(b.pairs)
    for i, p in enumerate(b.pairs):
        p["has_page"] = i in with_page  # results.json links only the pages written
    sim = write("similarity.html", "similarity.html.j2", _similarity_context(b, with_page))
    sources = _Sources(b)
    for i in sorted(with_page):
        p = b.pairs[i]
        write(p["page"], "pair.html.j2", _pair_context(b, p, sources))
    say(f"reports: similarity.html, {len(with_page)} pair pages")
    ranked = sum(1 for s in b.students if s.rank is not None)
    for s in b.students:
        fb = _feedback(b, s, ranked)
        ctx = dict(page_kind="student", root="../", audience="student", fb=fb, metric=b.metric)
        write(f"students/{s.page}.html", "student.html.j2", ctx)
        write(f"students/{s.page}.md", "student.md.j2", ctx)
        write(f"students/{s.page}.txt", "student.txt.j2", ctx)
    say(f"reports: {len(b.students)} student pages (html, md, txt)")
    for sub in ("students", "pairs"):  # pages of students or pairs no longer in the store go
        for stale in (rep / sub).iterdir():
            if stale not in written:
                shutil.rmtree(stale) if stale.is_dir() and not stale.is_symlink() else stale.unlink()
    exported = _write_exports(b, out_dir, columns, moodle_item)
    say("reports: results.json, exports/moodle.csv, exports/grades_columns.csv")
    return {"index": index, "similarity": sim, "students": len(b.students),
            "pairs": len(with_page), "exports": exported, "seconds": time.perf_counter() - t0}


def write_exports(out_dir: Path, snapshot: Mapping[str, Any], *,
                  columns: list[str] | None = None,
                  moodle_item: str | None = None) -> list[Path]:
    """``results.json``, ``exports/moodle.csv`` and ``exports/grades_columns.csv`` alone, as
    ``render_all`` writes them (no page): for a TA's decision, which changes grades, so that
    a gradebook upload right after it is not a stale one.

    ``columns`` and ``moodle_item`` as in ``render_all``; left out, the files keep the ones
    they were written with.
    """
    out_dir = Path(out_dir)
    b = load_batch(out_dir, snapshot)
    with_page = pair_pages(b.pairs)
    for i, p in enumerate(b.pairs):
        p["has_page"] = i in with_page
    return _write_exports(b, out_dir, columns, moodle_item)


def _write_exports(b: Batch, out_dir: Path, columns: list[str] | None,
                   moodle_item: str | None) -> list[Path]:
    """The three export files; columns and the Moodle grade item not given: those the files
    already have (an instructor's ``--columns`` is not reset by the next batch or decision),
    else the defaults."""
    columns_csv = out_dir / "exports" / "grades_columns.csv"
    moodle_csv = out_dir / "exports" / "moodle.csv"
    if columns is None:
        columns = _kept_header(columns_csv, exports.check_columns)
    if moodle_item is None:
        moodle_item = _kept_header(moodle_csv, lambda h: h[1] if len(h) == 3
                                   and h[0] == "Username" and h[2] == "Feedback" else None)
    return [
        exports.write_results_json(b, out_dir / "results.json"),
        exports.write_moodle_csv(b, moodle_csv, item=moodle_item),
        exports.write_columns_csv(b, columns_csv, columns or exports.DEFAULT_COLUMNS),
    ]


def _kept_header(path: Path, accept: Callable[[list[str]], Any]) -> Any:
    """What ``accept`` makes of the header row of an export written before (None when there
    is none, or it is no longer valid: an edited file, a column an upgrade renamed)."""
    import csv

    try:
        with path.open(newline="", encoding="utf-8") as fh:
            header = next(csv.reader(fh), [])
        return accept(header) if header else None
    except (OSError, UnicodeDecodeError, csv.Error, ReportsError):
        return None


def render_page(out_dir: Path, snapshot: Mapping[str, Any], rel: str, *,
                review: Mapping[str, Any] | None = None, script: bool = True) -> str | None:
    """One page of the batch, rendered in memory from ``snapshot`` (what ``render_all`` would
    write at ``reports/<rel>``), or None when the batch has no such page.

    Parameters
    ----------
    out_dir : Path
        The batch folder.
    snapshot : mapping
        The store's content (``Store.snapshot()``).
    rel : str
        ``index.html``, ``similarity.html``, ``pairs/<a>__<b>.html`` or
        ``students/<student>.html`` (``.txt`` for the plain-text feedback).
    review : mapping, optional
        The review app's additions: ``action`` (where the decision form posts), ``csrf``,
        ``reviewer`` (the default name), ``message`` (a conflict to show), ``history`` (the
        pair's decisions, oldest first). Every pair gets a page then.
    script : bool, default=True
        False leaves the JavaScript out (e-mail: clients drop it anyway).
    """
    b = load_batch(Path(out_dir), snapshot)
    env = make_environment()
    css, js, script_hash = _assets()
    common = dict(course=b.course, css=css, js=js if script else "", script_hash=script_hash,
                  review=review)
    if rel == "index.html":
        ctx, template = _index_context(b), "index.html.j2"
    elif rel == "similarity.html":
        every = set(range(len(b.pairs))) if review is not None else {
            i for i, p in enumerate(b.pairs) if p.get("flagged") or p["fragments"]}
        ctx, template = _similarity_context(b, every), "similarity.html.j2"
    elif rel.startswith("pairs/"):
        pair = next((p for p in b.pairs if p["page"] == rel), None)
        if pair is None:
            return None
        ctx, template = _pair_context(b, pair, _Sources(b)), "pair.html.j2"
    elif rel.startswith("students/") and rel.endswith((".html", ".txt")):
        stem, _, ext = rel[len("students/"):].rpartition(".")
        student = next((s for s in b.students if s.page == stem), None)
        if student is None:
            return None
        ranked = sum(1 for s in b.students if s.rank is not None)
        ctx = dict(page_kind="student", root="../", audience="student",
                   fb=_feedback(b, student, ranked), metric=b.metric)
        template = f"student.{ext}.j2"
    else:
        return None
    return env.get_template(template).render(**common, **ctx)
