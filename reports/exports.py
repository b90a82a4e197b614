"""Exports of a batch for other systems: Moodle's gradebook CSV, a CSV with chosen columns,
and ``results.json`` (everything the pages show, as data).

``grades.csv`` itself is written by the batch (``grader.batch.outputs.write_grades_csv``); these files
sit next to it and, like the pages, are made from the store only.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from diagnostics.text import csv_safe
from reports._load import Batch, StudentRow, finite
from reports.errors import ReportsError

__all__ = ["COLUMNS", "DEFAULT_COLUMNS", "write_moodle_csv", "write_columns_csv",
           "write_results_json", "results_document"]


def _g(key: str) -> Callable[[StudentRow], Any]:
    return lambda s: (s.grade or {}).get(key)


#: column name → how to read it from a student's row (the generic CSV picks from these)
COLUMNS: dict[str, Callable[[StudentRow], Any]] = {
    "student": lambda s: s.student,
    "status": lambda s: s.status,
    "public_score": lambda s: s.public,
    "private_score": lambda s: s.private,
    "score": lambda s: s.private,  # grades.csv's name for the private score
    "rank": lambda s: s.rank,
    "band": lambda s: s.band,
    "base_grade": _g("base_grade"),
    "deduction": _g("deduction"),
    "grade": _g("grade"),
    "above_baseline": lambda s: None if (s.grade or {}).get("above_baseline") is None
    else bool(s.grade["above_baseline"]),
    "note": lambda s: (s.grade or {}).get("note") or "",
    "integrity": lambda s: (s.grade or {}).get("integrity") or "",
    "message": lambda s: s.message,
    "similarity_max": lambda s: s.sim_max,
    "similarity_flagged": lambda s: s.sim_max is not None,
    "reproduction_flagged": lambda s: s.repro_flag,
    "wall_s": lambda s: (s.run or {}).get("wall_s"),
    "peak_memory_mb": lambda s: (s.run or {}).get("peak_memory_mb"),
    "entry": lambda s: s.entry or "",
}
DEFAULT_COLUMNS: tuple[str, ...] = ("student", "status", "public_score", "private_score", "rank",
                                    "band", "grade", "similarity_flagged")


def _cell(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return f"{v:.6g}"
    return csv_safe(str(v))  # spreadsheets run = + - @ cells as formulas (OWASP)


def check_columns(columns: Sequence[str]) -> list[str]:
    """Validate column names against :data:`COLUMNS` (all problems at once)."""
    import difflib

    cols = [c.strip() for c in columns if c.strip()]
    bad = [c for c in cols if c not in COLUMNS]
    if bad or not cols:
        problems = []
        for c in bad:
            close = difflib.get_close_matches(c, COLUMNS, n=1)
            problems.append(f"unknown column '{c}'" + (f" (did you mean '{close[0]}'?)"
                                                       if close else ""))
        raise ReportsError(f"the export columns have {len(problems) or 1} problem(s)",
                          problems=problems or ["no column given"],
                          hint="choose from: " + ", ".join(COLUMNS))
    return cols


def write_columns_csv(batch: Batch, path: Path, columns: Sequence[str] = DEFAULT_COLUMNS) -> Path:
    """A CSV with one row per student and the chosen ``columns`` (names from :data:`COLUMNS`).

    Parameters
    ----------
    batch : Batch
    path : Path
        Where to write (its folder is created).
    columns : sequence of str, default=DEFAULT_COLUMNS

    Raises
    ------
    ReportsError
        When a column name is unknown (the message lists the valid ones).
    """
    cols = check_columns(columns)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(cols)
        for s in sorted(batch.students, key=lambda r: r.student):
            w.writerow([_cell(COLUMNS[c](s)) for c in cols])
    return path


def write_moodle_csv(batch: Batch, path: Path, *, item: str | None = None) -> Path:
    """A CSV for Moodle's gradebook import ("Import > CSV file").

    Columns: ``Username`` (the student id, mapped to the user in Moodle's import form), the
    grade item (named ``item``, default ``"<course> project"``) and ``Feedback``. Students without
    a grade get an empty cell, which Moodle's import leaves untouched.
    """
    name = item or f"{batch.course} project"
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["Username", name, "Feedback"])
        for s in sorted(batch.students, key=lambda r: r.student):
            grade = finite((s.grade or {}).get("grade"))
            if s.status == "ok":
                rank = f"rank {s.rank}" if s.rank is not None else "unranked"
                band = s.band
                feedback = f"{rank}" + (f", band {band}" if band else "")
                note = (s.grade or {}).get("note")
                feedback += f"; {note}" if note else ""
                # the student page's words (never the other student's name): a 0 beside
                # "rank 1" with no reason read as a gradebook error
                before = finite((s.grade or {}).get("pre_integrity"))
                if before is not None and grade is not None and before != grade:
                    feedback += (f"; after the course staff's review the grade is {grade:g} "
                                 f"(it would be {before:g} otherwise)")
            else:
                feedback = f"{s.status}: {s.message}"
            w.writerow([csv_safe(s.student), "" if grade is None else f"{grade:.2f}",
                        csv_safe(feedback)])
    return path


def results_document(batch: Batch) -> dict[str, Any]:
    """Everything the pages show as one JSON-ready dict (fragments stay in similarity/)."""
    meta = {k: v for k, v in batch.meta.items()}
    students = []
    for s in batch.students:
        students.append({
            "student": s.student, "status": s.status, "message": s.message,
            "public_score": s.public, "private_score": s.private, "rank": s.rank,
            "band": None if (s.grade or {}).get("band") is None else s.band,
            "base_grade": (s.grade or {}).get("base_grade"),
            "deduction": (s.grade or {}).get("deduction"), "grade": (s.grade or {}).get("grade"),
            "above_baseline": COLUMNS["above_baseline"](s),
            "note": (s.grade or {}).get("note") or "",
            "integrity": (s.grade or {}).get("integrity") or "",
            "run": None if s.run is None else {k: s.run.get(k) for k in (
                "exit_code", "wall_s", "peak_memory_mb", "backend", "started_at", "finished_at",
                "attempts")},
            "details": (s.score or {}).get("details") or {},
            "similarity_max": s.sim_max, "reproduction": s.reproduction,
            "files": s.files, "accepted": s.accepted,
        })
    pairs = [{k: p.get(k) for k in ("a", "b", "score", "code", "kind", "reason", "components",
                                    "behaviour")}
             | {"flagged": bool(p.get("flagged")),
                "engine_flagged": bool(p.get("engine_flagged", p.get("flagged"))),
                "decision": p.get("decision_state") or None,
                "fragments": len(p.get("fragments") or []),
                # the static page, where one was written (``render.pair_pages``)
                "page": p.get("page") if p.get("has_page", True) else None}
             for p in batch.pairs]
    return {"course": batch.course, "meta": meta, "counts": batch.counts(),
            "baseline": batch.baseline(), "students": students,
            "reference": batch.reference, "similarity": {"pairs": pairs,
                                                         "clusters": batch.clusters}}


def write_results_json(batch: Batch, path: Path) -> Path:
    """``results.json``: :func:`results_document`, sorted keys, NaN written as null."""
    path.parent.mkdir(parents=True, exist_ok=True)
    doc = _nan_to_none(results_document(batch))
    path.write_text(json.dumps(doc, indent=1, sort_keys=True, ensure_ascii=False,
                               allow_nan=False), encoding="utf-8")
    return path


def _nan_to_none(v: Any) -> Any:
    if isinstance(v, float):
        return finite(v)
    if isinstance(v, dict):
        return {k: _nan_to_none(x) for k, x in v.items()}
    if isinstance(v, list | tuple):
        return [_nan_to_none(x) for x in v]
    return v
