"""``adjustments.csv`` → the presentation/documentation deductions, one per student.

Read through :mod:`grader.ops.tables` like every instructor table, so the spreadsheet export
that loads as ``roster.csv`` loads here too: BOM, ``;`` separators, decimal commas, loose header
names (``Nr. matricol``, ``Puncte``, ``Observații`` ...), extra columns ignored. A row with an
empty points cell deducts nothing (a whole-class sheet leaves most cells blank).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from grader.errors import InputFileError
from grader.ops.tables import read_table, resolve_columns

__all__ = ["ADJUSTMENT_ALIASES", "Adjustment", "check_adjustments", "read_adjustments"]

ADJUSTMENT_ALIASES: dict[str, tuple[str, ...]] = {
    "student": ("student", "student_id", "studentid", "id", "sid", "username", "user",
                "matricol", "nr_matricol", "numar_matricol", "login"),
    "points": ("points", "deduction", "deductions", "penalty", "puncte", "depunctare",
               "depunctari", "minus"),
    "note": ("note", "notes", "comment", "comments", "reason", "observatii", "observatie",
             "motiv", "comentariu", "comentarii"),
}


@dataclass(frozen=True)
class Adjustment:
    """One row of ``adjustments.csv``: ``points`` deducted from ``student``'s grade."""

    student: str
    points: float
    note: str
    line: int


def read_adjustments(path: str | Path, max_points: float) -> list[Adjustment]:
    """Every deduction of ``adjustments.csv``, checking all rows and reporting all at once.

    :func:`check_adjustments` without the raise when a row is wrong.

    Parameters
    ----------
    path : str or Path
        A CSV with the columns ``student, points[, note]`` (names matched loosely).
    max_points : float
        The most one student may lose (``[grading] max_deduction``; the slides: 2).

    Returns
    -------
    list of Adjustment
        In file order; rows with an empty points cell are left out.

    Raises
    ------
    InputFileError
        With one ``file:line`` entry per problem: a missing id, points that are not a number
        or outside ``0..max_points``, a student given twice.
    """
    out, problems = check_adjustments(path, max_points)
    if problems:
        raise InputFileError(f"{Path(path).name} has {len(problems)} problem(s)",
                             problems=problems,
                             hint=f"one row per student, points between 0 and {max_points:g}")
    return out


def check_adjustments(path: str | Path, max_points: float
                      ) -> tuple[list[Adjustment], list[str]]:
    """The good rows of ``adjustments.csv`` and one ``file:line`` problem per bad row, so a
    caller can add its own checks of the good rows (unknown ids) to the same report.

    Raises
    ------
    InputFileError
        Only when the file itself cannot be read or lacks the student or points column.
    """
    table = read_table(path, "adjustments")
    p = table.path
    try:
        cols = resolve_columns(table.header, ADJUSTMENT_ALIASES, ("student", "points"), p,
                               "adjustments")
    except InputFileError as exc:
        raise InputFileError(f"{p.name} needs the columns student,points[,note]",
                             problems=exc.problems, hint="write the header 'student,points,note'"
                             " (or keep your sheet's columns: 'Nr. matricol', 'Puncte', ...)"
                             ) from None
    problems: list[str] = []
    out: list[Adjustment] = []
    first: dict[str, int] = {}

    def cell(cells: list[str], canon: str) -> str:
        i = cols.get(canon)
        return cells[i] if i is not None and i < len(cells) else ""

    for line, cells in table.rows:
        sid, raw = cell(cells, "student"), cell(cells, "points")
        if not raw:
            continue
        if not sid:
            problems.append(f"{p}:{line}  points {raw!r} with no student id; add the id")
            continue
        try:
            points = table.number(raw)
        except ValueError:
            problems.append(f"{p}:{line}  points {raw!r} of {sid!r} is not a number; "
                            f"write e.g. 1.5")
            continue
        if not 0 <= points <= max_points:
            problems.append(f"{p}:{line}  points {points:g} of {sid!r} outside "
                            f"0..{max_points:g}; [grading] max_deduction caps a deduction")
            continue
        if sid in first:
            problems.append(f"{p}:{line}  {sid} appears twice (first on line {first[sid]}); "
                            "keep one row per student")
            continue
        first[sid] = line
        out.append(Adjustment(sid, points, cell(cells, "note"), line))
    return out, problems
