"""Score tables from outside: a Kaggle leaderboard export or a plain ``student,score`` CSV.

Kaggle's export has the columns ``TeamId,TeamName,SubmissionDate,Score``; the participant is
``TeamName``, mapped to a student id through the roster when one is given.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass, field
from pathlib import Path

from grader.errors import InputFileError

KAGGLE_COLUMNS = ("TeamId", "TeamName", "SubmissionDate", "Score")


@dataclass
class ScoreTable:
    scores: dict[str, float]
    #: the name as written in the file, for each student
    source_names: dict[str, str] = field(default_factory=dict)
    #: rows that could not be used, each with its reason (never guessed silently)
    unmatched: list[str] = field(default_factory=list)
    #: how names were matched to the roster, when not exactly
    matched_notes: list[str] = field(default_factory=list)
    kind: str = "plain"


def load_score_table(path: str | Path, *, roster=None, greater_is_better: bool = True) -> ScoreTable:
    """Read a leaderboard (Kaggle export or ``student,score``) into student → score.

    A participant listed more than once keeps their best score. With a roster, Kaggle team
    names are matched case- and diacritics-insensitively; unmatched and ambiguous names are
    listed in ``unmatched`` with the reason.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise InputFileError(f"leaderboard {path} not found") from None
    except UnicodeDecodeError:
        raise InputFileError(f"{path.name} is not UTF-8 text", hint="export the CSV as UTF-8") from None
    rows = list(csv.reader(text.splitlines()))
    if not rows:
        raise InputFileError(f"{path.name} is empty", hint="export the leaderboard as CSV")
    header = [h.strip() for h in rows[0]]
    if all(c in header for c in ("TeamName", "Score")):
        kind, name_col, score_col = "kaggle", header.index("TeamName"), header.index("Score")
    elif [h.lower() for h in header[:2]] == ["student", "score"]:
        kind, name_col, score_col = "plain", 0, 1
    else:
        raise InputFileError(
            f"{path.name}: unrecognised header {','.join(header)!r}",
            hint="use Kaggle's leaderboard export (TeamId,TeamName,SubmissionDate,Score) or a "
                 "table with the header 'student,score'")
    table = ScoreTable({}, kind=kind)
    problems = []
    for lineno, row in enumerate(rows[1:], 2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) <= max(name_col, score_col):
            problems.append(f"{path.name}:{lineno}  expected {len(header)} fields, got {len(row)}")
            continue
        name, raw = row[name_col].strip(), row[score_col].strip()
        try:
            score = float(raw)
            if not math.isfinite(score):
                raise ValueError
        except ValueError:
            problems.append(f"{path.name}:{lineno}  score {raw!r} of {name!r} is not a number")
            continue
        student = name
        if roster is not None:
            match = roster.match_kaggle(name) if kind == "kaggle" else roster.match_name(name)
            if match.student is None and kind == "plain" and name in roster:
                student = name
            elif match.student is None:
                table.unmatched.append(f"{path.name}:{lineno}  {name!r}: {match.reason}")
                continue
            else:
                student = match.student
                if match.how != "exact":
                    table.matched_notes.append(f"{name!r} → {student} ({match.how})")
        best = table.scores.get(student)
        if best is None or (score > best if greater_is_better else score < best):
            table.scores[student] = score
            table.source_names[student] = name
    if problems:
        raise InputFileError(f"{path.name} has {len(problems)} problem(s)", problems=problems[:20],
                             hint="every row needs a participant and a numeric score")
    if not table.scores:
        raise InputFileError(f"{path.name} has no usable rows",
                             problems=table.unmatched[:20],
                             hint="check that the team names match the roster's 'kaggle' column")
    return table
