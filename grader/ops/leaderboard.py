"""Score tables from outside: a Kaggle leaderboard export or a plain ``student,score`` CSV.

Kaggle's export has the columns ``TeamId,TeamName,SubmissionDate,Score``; the participant is
``TeamName``, mapped to a student id through the roster when one is given. Team names are not
unique on Kaggle: two teams (two ``TeamId``) that land on the same student are an error listing
both, never merged. The roster resolves them when its ``kaggle`` column holds the ``TeamId``.
The file is read by :mod:`grader.ops.tables` (the conventions of every user table).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from grader.errors import InputFileError
from grader.names import normalize_id
from grader.ops.tables import Table, header_key, read_table

__all__ = ["KAGGLE_COLUMNS", "ScoreTable", "load_score_table"]

KAGGLE_COLUMNS = ("TeamId", "TeamName", "SubmissionDate", "Score")


@dataclass
class ScoreTable:
    """Student → score from a leaderboard, with everything needed to explain it."""

    scores: dict[str, float]
    #: the name as written in the file, for each student
    source_names: dict[str, str] = field(default_factory=dict)
    #: rows that could not be used, each with its reason (never guessed silently)
    unmatched: list[str] = field(default_factory=list)
    #: how names were matched to the roster, when not exactly
    matched_notes: list[str] = field(default_factory=list)
    kind: str = "plain"
    #: the Kaggle TeamId of each student (Kaggle exports with a TeamId column)
    team_ids: dict[str, str] = field(default_factory=dict)
    #: the line of the row each student's score comes from
    lines: dict[str, int] = field(default_factory=dict)
    #: roster students with no row on the leaderboard (in roster order)
    absent: list[str] = field(default_factory=list)
    #: remarks from reading the file that are not errors (an 8-bit encoding guessed)
    notes: list[str] = field(default_factory=list)
    #: students whose every row has a blank score (on Kaggle: never submitted) → the reason,
    #: naming the file and line; graded ``absent``, not an error
    no_score: dict[str, str] = field(default_factory=dict)


@dataclass
class _Row:
    line: int
    name: str
    score: float | None  # None: a blank score cell (no submission scored)
    team: str  # TeamId, or the name when the file has none


def _columns(table: Table) -> tuple[str, int, int, int | None]:
    """The table's kind and the positions of the name, score and TeamId columns."""
    keys = [header_key(h) for h in table.header]
    if "teamname" in keys and "score" in keys:
        team = keys.index("teamid") if "teamid" in keys else None
        return "kaggle", keys.index("teamname"), keys.index("score"), team
    if "student" in keys and "score" in keys:
        return "plain", keys.index("student"), keys.index("score"), None
    raise InputFileError(
        f"{table.path.name}: unrecognised header {','.join(table.header)!r}",
        hint="use Kaggle's leaderboard export (TeamId,TeamName,SubmissionDate,Score) or a "
             "table with the header 'student,score'")


def _read_rows(table: Table, name_col: int, score_col: int, team_col: int | None,
               problems: list[str]) -> list[_Row]:
    rows = []
    need = max(name_col, score_col, team_col or 0)
    for line, cells in table.rows:
        where = f"{table.path.name}:{line}"
        if len(cells) <= need:
            problems.append(f"{where}  expected {len(table.header)} fields, got {len(cells)}; "
                            "quote names that contain the separator")
            continue
        name, raw = cells[name_col], cells[score_col]
        score: float | None = None
        if raw:  # blank: the participant has no score (never submitted on Kaggle)
            try:
                score = table.number(raw)
            except ValueError:
                problems.append(f"{where}  score {raw!r} of {name!r} is not a number; write "
                                "the score as a number (e.g. 0.85), or leave the cell blank "
                                "for a participant with no score")
                continue
        if not name:
            problems.append(f"{where}  a {'score' if raw else 'row'} with no participant name; "
                            "fill it in or delete the row")
            continue
        team = cells[team_col] if team_col is not None and cells[team_col] else name
        rows.append(_Row(line, name, score, team))
    return rows


def _student_of(row: _Row, kind: str, roster: Any, has_team_id: bool
                ) -> tuple[str | None, str | None, str | None]:
    """(student, how it matched when not exactly, why not) for one leaderboard row."""
    if roster is None:  # the name is the id, written as ids are (grader.names)
        student = normalize_id(row.name)
        return student, None if student == row.name else "white space as _", None
    if kind == "plain":
        if row.name in roster:
            return row.name, None, None
        match = roster.match_name(row.name)
    else:
        if has_team_id:
            by_id = [s.id for s in roster.students if s.kaggle.lstrip("#") == row.team]
            if len(by_id) == 1:
                return by_id[0], f"TeamId {row.team} in the roster's kaggle column", None
        match = roster.match_kaggle(row.name)
    if match.student is None:
        return None, None, match.reason
    return match.student, None if match.how == "exact" else match.how, None


def load_score_table(path: str | Path, *, roster: Any = None,
                     greater_is_better: bool = True) -> ScoreTable:
    """Read a leaderboard (Kaggle export or ``student,score``) into student → score.

    Parameters
    ----------
    path : str or Path
        The CSV file.
    roster : Roster, optional
        Maps Kaggle team names (or TeamIds written in its ``kaggle`` column) and plain names
        to student ids; its students without a row are listed in ``absent``.
    greater_is_better : bool, default=True
        Which of a student's several plain rows (or a team's several rows) counts.

    Returns
    -------
    ScoreTable
        Rows the roster cannot place are listed in ``unmatched`` with the reason. A blank
        score cell (a participant who never submitted on Kaggle) is no score, not an error:
        a student with no scored row is in ``no_score``.

    Raises
    ------
    InputFileError
        Listing every problem with its line: a short row, a score that is neither a number
        nor blank, two Kaggle teams (two TeamIds) that would become one student.
    """
    table = read_table(path, "leaderboard")
    kind, name_col, score_col, team_col = _columns(table)
    problems: list[str] = []
    rows = _read_rows(table, name_col, score_col, team_col, problems)
    out = ScoreTable({}, kind=kind, notes=list(table.notes))
    # student → TeamId → the team's best row
    teams: dict[str, dict[str, _Row]] = {}
    blank: dict[str, _Row] = {}  # student → their first row with a blank score
    for row in rows:
        student, how, why = _student_of(row, kind, roster, team_col is not None)
        if student is None:
            out.unmatched.append(f"{table.path.name}:{row.line}  {row.name!r}: {why}")
            continue
        if how:
            out.matched_notes.append(f"{row.name!r} → {student} ({how})")
        if row.score is None:
            blank.setdefault(student, row)
            continue
        by_team = teams.setdefault(student, {})
        best = by_team.get(row.team)
        if best is None or (row.score > best.score if greater_is_better
                            else row.score < best.score):
            by_team[row.team] = row
    for student, by_team in teams.items():
        if len(by_team) > 1:
            problems.append(_collision(table.path.name, student, list(by_team.values()),
                                       roster is not None))
            continue
        (team, row), = by_team.items()
        out.scores[student] = row.score
        out.source_names[student] = row.name
        out.lines[student] = row.line
        if team_col is not None:
            out.team_ids[student] = team
    for student, row in blank.items():
        if student in teams:
            continue  # a scored row counts; the student's blank rows do not
        out.no_score[student] = (f"your row on the leaderboard {table.path.name} (line "
                                 f"{row.line}, {row.name!r}) has no score: no submission of "
                                 "yours was scored")
        out.source_names[student], out.lines[student] = row.name, row.line
    if problems:
        raise InputFileError(f"{table.path.name} has {len(problems)} problem(s)",
                             problems=problems[:50],
                             hint="fix these rows and run again; nothing was graded or written")
    if not out.scores:
        empty = f" ({len(out.no_score)} with a blank score)" if out.no_score else ""
        raise InputFileError(f"{table.path.name} has no usable rows{empty}",
                             problems=out.unmatched[:20],
                             hint="check that the team names match the roster's 'kaggle' column")
    if roster is not None:
        out.absent = [s for s in roster.ids if s not in out.scores and s not in out.no_score]
    return out


def _collision(file: str, student: str, rows: list[_Row], with_roster: bool) -> str:
    """The message for several Kaggle teams that would be merged into one student."""
    rows = sorted(rows, key=lambda r: r.line)
    teams = ", ".join(f"TeamId {r.team} {r.name!r} (line {r.line}, score {r.score:g})"
                      for r in rows)
    lines = ",".join(str(r.line) for r in rows)
    target = f"roster student {student!r}" if with_roster else f"participant {student!r}"
    return (f"{file}:{lines}  {len(rows)} different teams would become {target}: {teams}; "
            "they are never merged. Fix: write each team's TeamId in the roster's kaggle column "
            f"(e.g. kaggle = {rows[0].team} for the right student) and pass --roster, or have "
            "the teams use distinct names on Kaggle and export again")
