"""Grade a finished batch again from its store (``grader report``): the same scores, baseline
and optimum the batch used, with the current ``adjustments.csv`` and the TAs' decisions.

Nothing is run or scored again; an edited ``adjustments.csv`` reaches the grades, pages and
``grades.csv`` without re-running the batch.
"""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path
from typing import Any

from grader.course import GradingConfig
from grader.decisions import policy_of
from grader.store import Store

__all__ = ["adjustments_path", "regrade"]


def adjustments_path(meta: dict[str, Any]) -> tuple[Path | None, str]:
    """The adjustments file to grade with, and a note when it differs from the batch's.

    The one the batch used (``--adjustments`` or the course's ``adjustments.csv``), else the
    course's ``adjustments.csv`` if one was added since; ``(None, note)`` when the file the
    batch used is gone (its deductions are dropped, as a rerun of the batch would)."""
    used = (meta.get("grading") or {}).get("adjustments")
    if used and Path(used).is_file():
        return Path(used), ""
    root = meta.get("course_root")
    default = Path(root) / "adjustments.csv" if root else None
    if default is not None and default.is_file():
        note = "" if used else f"{default} was added since the batch ran; it is applied"
        return default, note
    if used:
        return None, f"{used} is gone; its deductions are no longer applied"
    return None, ""


def regrade(store: Store) -> tuple[list[dict[str, Any]], str] | None:
    """Grade the stored scores again with the current adjustments and decisions.

    Returns
    -------
    (rows, note) or None
        The grade rows now stored and a note about the adjustments file (empty when
        nothing is worth saying), or None for a store without the batch's grading inputs
        (written by ``grader grades``, or before they were recorded): left as it is.

    Raises
    ------
    grader.errors.InputFileError
        When the adjustments file has problems (nothing is changed then).
    """
    from grader.batch.scores import grade_rows

    meta = store.meta()
    inputs = meta.get("grading")
    table = (meta.get("config") or {}).get("grading")
    if not isinstance(inputs, dict) or not isinstance(table, dict) or not store.scores():
        return None
    known = {f.name for f in fields(GradingConfig)}
    config = GradingConfig(**{k: (tuple(map(tuple, v)) if k == "bands" else v)
                              for k, v in table.items() if k in known})
    path, note = adjustments_path(meta)
    if path is not None:
        _check_ids(path, config.max_deduction, {s["student"] for s in store.submissions()})
    rows = grade_rows(store, config, baseline=inputs.get("baseline"),
                      baseline_source=inputs.get("baseline_source") or "",
                      optimum=inputs.get("optimum"),
                      greater_is_better=bool(inputs.get("greater_is_better", True)),
                      adjustments=path, integrity=policy_of(meta))
    store.put_grades(rows)
    return rows, note


def _check_ids(path: Path, max_points: float, students: set[str]) -> None:
    """Every row of ``path`` names a student of the batch (as ``grader run`` checks it)."""
    from grader.adjustments import read_adjustments
    from grader.errors import InputFileError
    from grader.ops.tables import did_you_mean

    problems = [f"{path}:{a.line}  student {a.student!r} is not a student of this batch"
                f"{did_you_mean(a.student, students)}; correct the id or delete the row"
                for a in read_adjustments(path, max_points) if a.student not in students]
    if problems:
        raise InputFileError(f"{path} has {len(problems)} problem(s); the grades were not "
                             "changed", problems=problems,
                             hint="fix the rows named above and run 'grader report' again")
