"""The store → what the pages show: one read of ``grading.db`` into plain view data.

Reports compute nothing the store lacks (so ``grader report OUT_DIR`` gives the pages the batch
did); this module only joins the store's tables per student and derives labels and file names.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sandbox.status import STATUS_ORDER

_SAFE = re.compile(r"[^A-Za-z0-9._-]+")
#: the metrics where a smaller score is better (errors); every other one: larger is better
LOWER_IS_BETTER = frozenset({"mse", "mae"})
#: the metrics whose predictions are numbers, not class labels (``grader.course.Course.task``
#: is "regression" for them; a test keeps the two equal)
REGRESSION_METRICS = frozenset({"mse", "mae", "kendall_tau"})
#: the metrics whose behavioural evidence compares residuals, not wrong labels (regression, and
#: roc_auc's probabilities against the positive class: ``grader.batch.similarity``)
RESIDUAL_METRICS = REGRESSION_METRICS | {"roc_auc"}


def page_name(name: str) -> str:
    """A file-system- and URL-safe page stem for a student or source name.

    Names made only of ``[A-Za-z0-9._-]`` are kept; any other name is slugged and given a
    fixed blake2b suffix so two names never share a page (``"ana<b>"`` → ``"ana-b-1f2e3d4c"``).
    """
    slug = _SAFE.sub("-", name).strip("-.") or "x"
    if slug == name and not name.startswith("."):
        return name
    # surrogatepass: a name from undecodable bytes still hashes (never a crash)
    digest = hashlib.blake2b(name.encode("utf-8", "surrogatepass"), digest_size=4).hexdigest()
    return f"{slug[:60]}-{digest}"


def pair_page(a: str, b: str) -> str:
    """``pairs/<a>__<b>-<hash>.html`` (relative to reports/): unambiguous and stable.

    The readable part alone is ambiguous when ids contain ``__`` (``a__b`` + ``c`` and
    ``a`` + ``b__c``), so a blake2b hash of the ordered pair (length-safe JSON) decides; the
    page itself names both sides.
    """
    digest = hashlib.blake2b(json.dumps([a, b]).encode("ascii"), digest_size=6).hexdigest()
    return f"pairs/{page_name(a)[:40]}__{page_name(b)[:40]}-{digest}.html"


def source_kind(name: str) -> str:
    """``peer`` for a student, else the corpus named in ``archive:x`` / ``web:x``."""
    head, sep, _ = name.partition(":")
    return head if sep and head in ("archive", "web", "template") else "peer"


def places_text(first: int, last: int | None) -> str:
    """The places of a band as the pages write them: ``"31-50"``, ``"6"`` (a band of one
    place, never ``"6-6"``), ``"151+"`` (open-ended), or ``"none"`` (a band the class is too
    small to reach: its last place comes before its first).

    Examples
    --------
    >>> [places_text(1, 8), places_text(6, 6), places_text(9, None), places_text(3, 2)]
    ['1-8', '6', '9+', 'none']
    """
    if last is None:
        return f"{first}+"
    if last < first:
        return "none"
    return f"{first}" if first == last else f"{first}-{last}"


_BAND = re.compile(r"^\s*(\d+)\s*-\s*(\d+)\s*$")


def band_text(band: Any) -> str:
    """A stored band label (``grades.band``) as the pages write it: ``"6-6"`` (as stores
    written before this rule hold it) becomes ``"6"``; anything else is kept."""
    text = "" if band is None else str(band)
    m = _BAND.match(text)
    return places_text(int(m[1]), int(m[2])) if m and m[1] == m[2] else text


def finite(v: Any) -> float | None:
    """A float or None (NaN and missing both become None)."""
    if v is None:
        return None
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


@dataclass
class StudentRow:
    """Everything known about one student, joined across the store's tables."""

    student: str
    page: str
    status: str
    accepted: bool
    path: str
    files: list[str]
    entry: str | None
    reason: str | None
    hint: str | None
    run: dict[str, Any] | None
    score: dict[str, Any] | None
    grade: dict[str, Any] | None
    reproduction: dict[str, Any] | None
    pairs: list[dict[str, Any]] = field(default_factory=list)
    #: files beside the code never copied into the run (binary files, archives, notebooks)
    left_out: list[str] = field(default_factory=list)

    @property
    def public(self) -> float | None:
        return finite((self.score or {}).get("public_score"))

    @property
    def private(self) -> float | None:
        return finite((self.score or {}).get("private_score"))

    @property
    def rank(self) -> int | None:
        return (self.grade or {}).get("rank")

    @property
    def band(self) -> str:
        """The band's places as pages and exports write them (:func:`band_text`)."""
        return band_text((self.grade or {}).get("band"))

    @property
    def sim_max(self) -> float | None:
        """The highest score of a flagged pair involving this student."""
        flagged = [p["score"] for p in self.pairs if p.get("flagged")]
        return max(flagged) if flagged else None

    @property
    def repro_flag(self) -> bool:
        return bool((self.reproduction or {}).get("flagged"))

    @property
    def message(self) -> str:
        """Why the run did not give a score (empty when it did)."""
        if self.status == "ok":
            return ""
        if not self.accepted:
            return self.reason or "rejected"
        for src in (self.score, self.run, self.grade):
            msg = (src or {}).get("message") or (src or {}).get("note")
            if msg:
                return str(msg)
        return self.status


@dataclass
class Batch:
    """The view data of one batch folder."""

    out_dir: Path
    meta: dict[str, Any]
    students: list[StudentRow]
    reference: list[dict[str, Any]]
    pairs: list[dict[str, Any]]
    clusters: list[list[str]]

    @property
    def config(self) -> dict[str, Any]:
        return self.meta.get("config") or {}

    @property
    def release_private(self) -> bool:
        return bool((self.config.get("reports") or {}).get("release_private", False))

    @property
    def release_similarity(self) -> bool:
        return bool((self.config.get("reports") or {}).get("release_similarity", False))

    @property
    def metric(self) -> str:
        return (self.config.get("competition") or {}).get("metric", "accuracy")

    @property
    def task(self) -> str:
        """``"regression"`` or ``"classification"``, as the course's metric makes it."""
        return "regression" if self.metric in REGRESSION_METRICS else "classification"

    @property
    def has_classes(self) -> bool:
        """Whether scores come with per-class results (classification, but not roc_auc: the
        scorer stores a confusion matrix only for class-label predictions)."""
        return self.task == "classification" and self.metric != "roc_auc"

    @property
    def residuals(self) -> bool:
        """Whether the behavioural evidence compares residuals rather than wrong labels."""
        return self.metric in RESIDUAL_METRICS

    @property
    def greater_is_better(self) -> bool:
        """The metric's direction (``grader.scoring.METRICS``; a test keeps the two equal)."""
        return self.metric not in LOWER_IS_BETTER

    def best_first(self, rows: list[dict[str, Any]], key: str) -> list[dict[str, Any]]:
        """``rows`` sorted best ``key`` first in the metric's direction, rows without a score
        last, ties by model name."""
        sign = -1.0 if self.greater_is_better else 1.0
        return sorted(rows, key=lambda r: (not isinstance(r.get(key), int | float),
                                           sign * float(r.get(key) or 0.0),
                                           str(r.get("model", ""))))

    @property
    def course(self) -> str:
        return str(self.meta.get("course") or "course")

    def counts(self) -> dict[str, int]:
        c = Counter(s.status for s in self.students)
        known = {k: c[k] for k in STATUS_ORDER if c.get(k)}
        return {**known, **{k: v for k, v in sorted(c.items()) if k not in known}}

    def baseline(self) -> dict[str, Any] | None:
        """The baseline's row: a reference model marked as baseline, else the stored number."""
        for r in self.reference:
            if r.get("is_baseline"):
                return {"model": r["model"], "private_score": finite(r.get("private_score")),
                        "public_score": finite(r.get("public_score"))}
        value = finite(self.meta.get("baseline"))
        if value is None:
            return None
        rule = (self.config.get("grading") or {}).get("baseline", "")
        name = "fixed baseline" if isinstance(rule, int | float) else str(rule) or "baseline"
        return {"model": name, "private_score": value,
                "public_score": finite(self.meta.get("baseline_public"))}


def _attach_decision(p: dict[str, Any], decisions: Mapping[tuple, dict[str, Any]]) -> None:
    """The TAs' current decision on a pair (``decision``, ``decision_state``: "" when none);
    a dismissed pair is no longer ``flagged`` (``engine_flagged`` keeps what the engine said)."""
    lo, hi = sorted((p["a"], p["b"]))
    d = decisions.get((lo, hi, p["kind"]))
    p["decision"] = d
    p["decision_state"] = d["state"] if d else ""
    p["engine_flagged"] = bool(p.get("flagged"))
    if p["decision_state"] == "dismissed":
        p["flagged"] = False


def load_batch(out_dir: Path, snapshot: Mapping[str, Any]) -> Batch:
    """Join a batch's stored data into a :class:`Batch` (the view data of the pages).

    Parameters
    ----------
    out_dir : Path
        The batch output folder (pages are written under ``out_dir/reports``).
    snapshot : mapping
        The store's content as plain data (``grader.store.Store.snapshot()``): ``meta``,
        ``submissions``, ``runs``, ``scores``, ``grades``, ``reproduction``, ``reference``,
        ``pairs``, ``clusters`` and ``decisions`` (the TAs' current decisions, optional).
    """
    meta = dict(snapshot.get("meta") or {})
    subs = list(snapshot.get("submissions") or [])
    runs, scores = dict(snapshot.get("runs") or {}), dict(snapshot.get("scores") or {})
    grades = {g["student"]: g for g in snapshot.get("grades") or []}
    repro = dict(snapshot.get("reproduction") or {})
    reference = list(snapshot.get("reference") or [])
    pairs = [dict(p) for p in snapshot.get("pairs") or []]
    clusters = list(snapshot.get("clusters") or [])
    decisions = {(d["lo"], d["hi"], d["kind"]): d for d in snapshot.get("decisions") or []}
    by_student: dict[str, list[dict[str, Any]]] = {}
    for p in pairs:
        p["page"] = pair_page(p["a"], p["b"])
        p["kind"] = p.get("kind") or "peer"
        _attach_decision(p, decisions)
        p["components"] = p.get("components") or {}
        p["fragments"] = p.get("fragments") or []
        p["shared_comments"] = p.get("shared_comments") or []
        for who in (p["a"], p["b"]):
            by_student.setdefault(who, []).append(p)
    if any(p["decision_state"] == "dismissed" for p in pairs):
        from similarity.clusters import clusters as linked  # a dismissed pair links nobody

        clusters = linked(pairs)
    students = []
    for s in subs:
        name = s["student"]
        score, grade = scores.get(name), grades.get(name)
        status = (grade or score or {}).get("status") or (
            "rejected" if not s["accepted"] else (runs.get(name) or {}).get("status", "pending"))
        students.append(StudentRow(
            student=name, page=page_name(name), status=status, accepted=bool(s["accepted"]),
            path=s["path"], files=list(s.get("files") or []), entry=s.get("entry"),
            reason=s.get("reason"), hint=s.get("hint"), run=runs.get(name), score=score,
            grade=grade, reproduction=repro.get(name), pairs=by_student.get(name, []),
            left_out=list(s.get("left_out") or [])))
    students.sort(key=lambda r: (r.rank is None, r.rank or 0, r.student))
    return Batch(Path(out_dir), meta, students, reference, pairs, clusters)
