"""Final course grades from their components, by the rules of the course slides.

The rules ("Sistem de notare"), each a key of ``[final]`` in course.toml (defaults shown):

1. The ML lab grade comes from the project and the lab test. The slides give the project
   30 % and the lab test 20 % of the grade: together they are this lab's 50 % share, so the
   lab grade on the 0–10 scale is their weighted mean,
   ``ml_lab = (0.3 × project + 0.2 × lab_test) / (0.3 + 0.2) = 0.6 × project + 0.4 × lab_test``
   (``project_weight = 0.3``, ``lab_test_weight = 0.2``).
2. Up to 2 points are deducted from the *project* grade for the presentation and
   documentation (``max_presentation_deduction = 2``); a larger deduction is capped, and the
   project grade never goes below 0.
3. The lab grade is the mean of the ML lab and the other subject's lab(s)
   (``other_labs = ["lab_other"]``, the components.csv columns holding them).
4. Bonus points from class activity: up to +1 on the exam grade and up to +1 on the lab
   grade (``max_bonus_exam = 1``, ``max_bonus_lab = 1``), only at the first attempt
   (``bonus_first_attempt_only = true``); a grade with its bonus never exceeds
   ``max_grade = 10``.
5. Both the exam grade and the lab grade (after bonus, ``threshold_after_bonus = true``)
   must be at least 5 (``min_exam = 5``, ``min_lab = 5``), at the re-take as well.
6. ``final = 0.5 × exam + 0.5 × lab`` (``exam_weight = 0.5``, ``lab_weight = 0.5``).
   A passed student's grade is ``final`` rounded half up to a whole number
   (``grade_rounding = "half_up"``; ``"none"`` keeps two decimals); a failed student's grade
   is at most ``failed_grade = 4``.

Every intermediate grade (project, ML lab, lab, each with its bonus) is rounded half up to
``decimals = 2`` places, so the printed steps add up exactly; ``final`` is kept exact (6.495)
and rounded once, to the grade (6.495 is 6, never 6.50 then 7). All arithmetic is
``decimal.Decimal``, so 4.99 never becomes 5 by floating-point accident.
"""

from __future__ import annotations

import csv
import difflib
import json
import re
import tomllib
from dataclasses import dataclass, field, fields
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from diagnostics.text import csv_safe
from grader.course_toml import toml_error
from grader.errors import CourseError, InputFileError
from grader.ops.roster import Roster, read_table, resolve_columns
from grader.ops.tables import did_you_mean, header_key

__all__ = [
    "FINAL_KEYS_HINT",
    "Components",
    "FinalGrade",
    "FinalRules",
    "compute_final",
    "final_grades",
    "final_rules_problems",
    "integrity_outcome",
    "load_components",
    "load_final_rules",
    "load_integrity",
    "load_project_grades",
    "load_run_status",
    "write_final_grades",
]


@dataclass(frozen=True)
class FinalRules:
    """The ``[final]`` table of course.toml; every default follows the course slides."""

    exam_weight: Decimal = Decimal("0.5")
    lab_weight: Decimal = Decimal("0.5")
    min_exam: Decimal = Decimal("5")
    min_lab: Decimal = Decimal("5")
    threshold_after_bonus: bool = True
    project_weight: Decimal = Decimal("0.3")
    lab_test_weight: Decimal = Decimal("0.2")
    other_labs: tuple[str, ...] = ("lab_other",)
    max_presentation_deduction: Decimal = Decimal("2")
    max_bonus_exam: Decimal = Decimal("1")
    max_bonus_lab: Decimal = Decimal("1")
    bonus_first_attempt_only: bool = True
    max_grade: Decimal = Decimal("10")
    decimals: int = 2
    grade_rounding: str = "half_up"
    failed_grade: Decimal = Decimal("4")

    def describe(self) -> dict[str, Any]:
        return {f.name: (str(v) if isinstance(v := getattr(self, f.name), Decimal)
                         else list(v) if isinstance(v, tuple) else v) for f in fields(self)}


@dataclass(frozen=True)
class Components:
    """One row of components.csv. Grades are on the 0–10 scale; None = not given."""

    student: str
    exam: Decimal | None = None
    project: Decimal | None = None
    lab_test: Decimal | None = None
    other_labs: tuple[Decimal | None, ...] = ()
    presentation_deduction: Decimal = Decimal("0")
    bonus_exam: Decimal = Decimal("0")
    bonus_lab: Decimal = Decimal("0")
    attempt: int = 1
    line: int = 0
    #: where the project grade came from when not from components.csv
    project_note: str = ""


@dataclass
class FinalGrade:
    """One student's result with the computation that led to it."""

    student: str
    status: str  # passed | failed | incomplete
    reason: str = ""
    exam: Decimal | None = None
    lab: Decimal | None = None
    ml_lab: Decimal | None = None
    final: Decimal | None = None
    grade: Decimal | None = None
    steps: list[str] = field(default_factory=list)
    inputs: dict[str, str] = field(default_factory=dict)


# --------------------------------------------------------------------------- rules

_DECIMAL_KEYS = {f.name for f in fields(FinalRules) if f.type in ("Decimal", Decimal)}


def _line_of(text: str, key: str | None) -> str:
    """``course.toml:LINE`` of ``key`` in ``[final]`` (None: of the ``[final]`` line)."""
    in_final = False
    for i, line in enumerate(text.splitlines(), 1):
        s = line.strip()
        if s.startswith("["):
            in_final = s.replace(" ", "") == "[final]"
            if in_final and key is None:
                return f"course.toml:{i}"
        elif in_final and key and re.match(rf"{re.escape(key)}\s*=", s):
            return f"course.toml:{i}"
    return "course.toml"


#: where a user finds every ``[final]`` key and its default
FINAL_KEYS_HINT = "every [final] key and its default is in docs/operations.md"


def load_final_rules(course_dir: str | Path) -> FinalRules:
    """Read ``[final]`` from ``COURSE/course.toml`` (read here with tomllib, so the rest of
    the course folder need not exist); defaults for every key not given.

    :func:`grader.course.load_course` reports the same problems (through
    :func:`final_rules_problems`) with the rest of course.toml's, so a batch run finds them
    first; this is for ``grader final``, which needs no data files.

    Raises
    ------
    CourseError
        Listing every problem: an unknown key (with "did you mean"), a value of the wrong
        type or range, weights that do not add up.
    """
    path = Path(course_dir) / "course.toml"
    if not path.is_file():
        raise CourseError(f"{path} not found",
                          hint="pass the course folder (the one holding course.toml)")
    text = path.read_text(encoding="utf-8", errors="replace")
    try:
        table = tomllib.loads(text).get("final", {})
    except tomllib.TOMLDecodeError as exc:
        raise toml_error(exc, text) from None
    rules, problems = final_rules_problems(table, text)
    if problems:
        raise CourseError(f"course.toml [final] has {len(problems)} problem(s)",
                          problems=problems, hint=FINAL_KEYS_HINT)
    return rules


def final_rules_problems(table: Any, text: str) -> tuple[FinalRules, list[str]]:
    """Check a ``[final]`` table of course.toml.

    Parameters
    ----------
    table : Any
        The parsed ``[final]`` value (a dict when it is a table).
    text : str
        course.toml's text, for the line of each problem.

    Returns
    -------
    (rules, problems)
        The rules from the valid keys (a default for every other key) and one problem per
        mistake, in course.toml's style (``course.toml:LINE  [final] key = value`` then the
        rule on an indented line): an unknown key (with "did you mean"), a value of the wrong
        type or range, weights that do not add up. No problems: the rules are the table's.
    """
    if not isinstance(table, dict):
        return FinalRules(), [f"{_line_of(text, None)}  [final] must be a table\n"
                              "    write the keys under a [final] line, e.g. exam_weight = 0.5"]
    known = {f.name for f in fields(FinalRules)}
    problems: list[str] = []
    values: dict[str, Any] = {}

    def bad(key: str, value: Any, why: str) -> None:
        shown = json.dumps(value, ensure_ascii=False, default=str)
        problems.append(f"{_line_of(text, key)}  [final] {key} = {shown}\n    {why}")

    for key, value in table.items():
        if key not in known:
            close = difflib.get_close_matches(key, known, n=1)
            bad(key, value, "unknown key" + (f" (did you mean '{close[0]}'?)" if close else ""))
        elif key in _DECIMAL_KEYS:
            if isinstance(value, bool) or not isinstance(value, int | float):
                bad(key, value, "expected a number, e.g. " + str(getattr(FinalRules, key)))
            elif value < 0:
                bad(key, value, "must not be negative")
            else:
                values[key] = Decimal(str(value))
        elif key in ("threshold_after_bonus", "bonus_first_attempt_only"):
            if not isinstance(value, bool):
                bad(key, value, "expected true or false")
            else:
                values[key] = value
        elif key == "other_labs":
            if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
                bad(key, value, 'expected a list of column names, e.g. ["lab_other"] '
                                "(or [] for a single lab)")
            else:
                values[key] = tuple(value)
        elif key == "decimals":
            if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 4:
                bad(key, value, "expected a whole number from 0 to 4")
            else:
                values[key] = value
        elif key == "grade_rounding" and value not in ("half_up", "none"):
            close = difflib.get_close_matches(str(value), ("half_up", "none"), n=1)
            bad(key, value, 'expected "half_up" or "none"'
                + (f' (did you mean "{close[0]}"?)' if close else ""))
        else:
            values[key] = value
    # the weights' sums are checked beside the other problems, from the keys that were
    # valid (a default stands in for one not given); a sum with a bad term is not checked
    rules = FinalRules(**values)
    invalid = {k for k in table if k in _DECIMAL_KEYS and k not in values}
    if not invalid & {"exam_weight", "lab_weight"} and rules.exam_weight + rules.lab_weight != 1:
        problems.append(f"{_line_of(text, 'exam_weight')}  [final] exam_weight + lab_weight"
                        f" = {rules.exam_weight + rules.lab_weight}\n    must add up to 1")
    if (not invalid & {"project_weight", "lab_test_weight"}
            and rules.project_weight + rules.lab_test_weight <= 0):
        problems.append(f"{_line_of(text, 'project_weight')}  [final] project_weight + "
                        "lab_test_weight = "
                        f"{rules.project_weight + rules.lab_test_weight}\n    must be positive")
    return rules, problems


# --------------------------------------------------------------------------- components

#: words of a header that holds points (a column gradebox would otherwise leave unread)
_GRADE_WORDS = ("bonus", "exam", "lab", "proiect", "project", "test", "deduc", "depunct",
                "punct", "point", "nota", "grade", "penal")


def _unused_grade_columns(header: list[str], cols: dict[str, int],
                          aliases: dict[str, tuple[str, ...]], path: Path) -> list[str]:
    """A problem per column that looks like points but that no component reads ('Bonus curs
    2' read as nothing would lower a final grade without a word); name, group, e-mail and
    note columns are left alone."""
    used = set(cols.values())
    accepted = sorted({n for names in aliases.values() for n in names} | set(aliases))
    problems = []
    for i, name in enumerate(header):
        key = header_key(name)
        if (i in used or not key or "final" in key
                or not any(w in key for w in _GRADE_WORDS)):
            continue
        close = difflib.get_close_matches(key, accepted, n=1, cutoff=0.6)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        problems.append(f"{path}:1  column {name!r} is not a component gradebox reads{hint}; "
                        "rename it to one of the accepted names (docs/operations.md) or delete "
                        "it")
    return problems


_COMPONENT_ALIASES: dict[str, tuple[str, ...]] = {
    "student": ("student", "student_id", "id", "username", "matricol", "nr_matricol"),
    "exam": ("exam", "examen", "nota_examen", "exam_grade"),
    "project": ("project", "proiect", "project_grade", "nota_proiect"),
    "lab_test": ("lab_test", "test", "test_laborator", "labtest"),
    "presentation_deduction": ("presentation_deduction", "deduction", "presentation",
                               "depunctare", "penalty"),
    "bonus_exam": ("bonus_exam", "exam_bonus", "bonus_curs", "bonus_examen", "puncte_curs"),
    "bonus_lab": ("bonus_lab", "lab_bonus", "bonus_laborator", "bonus_lab_uri",
                  "puncte_laborator"),
    "attempt": ("attempt", "incercare", "attempt_no"),
}


def _number(text: str) -> Decimal:
    # Romanian spreadsheets write 4,99; a ';'-separated file keeps it in one cell.
    value = Decimal(text.replace(",", ".") if re.fullmatch(r"-?\d+,\d+", text) else text)
    if not value.is_finite():
        raise InvalidOperation
    return value


def load_project_grades(path: str | Path, roster: Roster | None = None
                        ) -> dict[str, tuple[Decimal | None, Decimal]]:
    """Project grades from a batch's ``grades.csv`` (``student, grade[, deduction]``).

    Parameters
    ----------
    path : str or Path
        The grades table.
    roster : Roster, optional
        When given, every row must name a roster student: a grade for someone else (a
        renamed folder, a typo) would otherwise never reach anyone's final grade.

    Returns
    -------
    dict
        Student → (grade or None when the cell is empty, the deduction already applied to it).

    Raises
    ------
    InputFileError
        With the ``file:line`` of each problem: a grade or deduction that is not a number, a
        student given twice, or (with ``roster``) a student not in the roster.
    """
    p = Path(path)
    header, rows = read_table(p, "grades")
    cols = resolve_columns(header, {"student": ("student",), "grade": ("grade",),
                                    "deduction": ("deduction",)},
                           ("student", "grade"), p, "grades")
    out: dict[str, tuple[Decimal | None, Decimal]] = {}
    seen: dict[str, int] = {}
    problems: list[str] = []
    for line, cells in rows:
        def get(canon: str, cells: list[str] = cells) -> str:
            i = cols.get(canon)
            return cells[i] if i is not None and i < len(cells) else ""

        sid = get("student")
        if not _new_student(sid, f"{p}:{line}", line, seen, roster, problems,
                            f", so this grade ({get('grade') or 'none'}) would reach no "
                            "final grade"):
            continue
        try:
            grade = _number(get("grade")) if get("grade") else None
            deduction = _number(get("deduction")) if get("deduction") else Decimal(0)
        except InvalidOperation:
            problems.append(f"{p}:{line}  grade {get('grade')!r} or deduction "
                            f"{get('deduction')!r} is not a number")
            continue
        out[sid] = (grade, deduction)
    if problems:
        raise InputFileError(f"grades {p} has {len(problems)} problem(s)", problems=problems,
                             hint="pass the grades.csv written by 'grader run' or 'grader "
                                  "grades' for this roster; add a missing student to the "
                                  "roster, or rename the row to the roster's id")
    return out


def _new_student(sid: str, where: str, line: int, seen: dict[str, int], roster: Roster | None,
                 problems: list[str], consequence: str = "") -> bool:
    """Note a table's row for ``sid``: False (and a problem) when the student came before; a
    problem, with a did-you-mean, when the roster does not know them."""
    if sid in seen:
        problems.append(f"{where}  student {sid!r} again (first on line {seen[sid]})")
        return False
    seen[sid] = line
    if roster is not None and sid not in roster:
        problems.append(f"{where}  student {sid!r} is not in the roster{consequence}"
                        + did_you_mean(sid, roster.ids))
    return True


def load_run_status(path: str | Path) -> dict[str, str]:
    """Each student's run status where it is not ``ok`` (the ``status`` column of a batch's
    ``grades.csv``: ``timeout``, ``error``, ``invalid_output``, ``rejected``...): why the
    project has no grade. Empty for a table without that column."""
    return {sid: v for sid, v in _grades_column(path, "status").items() if v != "ok"}


def integrity_outcome(text: str) -> str:
    """A grades.csv ``integrity`` cell as final_grades.csv states it: each finding's outcome
    for this student ("confirmed, grade 9 -> 0", "needs discussion"), without the other
    student, the reviewer or the TAs' note, which stay in the staff's grades.csv (the final
    grades go to the registry and to students).

    Examples
    --------
    >>> integrity_outcome("confirmed, grade 9 -> 0: with dan (ta1) - same code | "
    ...                   "needs discussion: with eva (ta2)")
    'confirmed, grade 9 -> 0 | needs discussion'
    """
    return " | ".join(part.split(": ", 1)[0].strip() for part in text.split(" | "))


def load_integrity(path: str | Path) -> dict[str, str]:
    """Each student's academic-integrity outcome and note (the ``integrity`` column of a
    batch's ``grades.csv``, written from the TAs' decisions); empty when there is none."""
    return _grades_column(path, "integrity")


def _grades_column(path: str | Path, column: str) -> dict[str, str]:
    """Student -> the non-empty cells of one column of a grades table (none: empty)."""
    p = Path(path)
    header, rows = read_table(p, "grades")
    cols = resolve_columns(header, {"student": ("student",), column: (column,)},
                           ("student",), p, "grades")
    if column not in cols:
        return {}
    i, s = cols[column], cols["student"]
    return {c[s]: c[i] for _, c in rows if i < len(c) and c[i]}


def load_components(path: str | Path, rules: FinalRules = FinalRules(),
                    roster: Roster | None = None,
                    project_grades: dict[str, tuple[Decimal | None, Decimal]] | None = None,
                    integrity: dict[str, str] | None = None,
                    run_status: dict[str, str] | None = None) -> list[Components]:
    """Read components.csv; check every row and report all problems at once.

    Columns: ``student, exam, project, lab_test`` and the ``other_labs`` columns (grades,
    0–``max_grade``; empty = not yet known), ``presentation_deduction``, ``bonus_exam``,
    ``bonus_lab`` (points ≥ 0; empty = 0; values above the caps are capped, and the step
    says so), ``attempt`` (1 = first exam session; empty or absent = 1).

    With ``project_grades`` (see :func:`load_project_grades`) the ``project`` column may be
    absent or empty: the batch's grade is used, and a deduction must not be given twice.
    ``integrity`` (see :func:`load_integrity`) adds each student's academic-integrity outcome
    to the project's step; ``run_status`` (see :func:`load_run_status`) says why a project
    has no grade in grades.csv (the run timed out, crashed...).

    Raises
    ------
    InputFileError
        One ``file:line`` entry per problem: a value that is not a number, out of range, a
        student given twice or not in the roster.
    """
    p = Path(path)
    header, rows = read_table(p, "components")
    aliases = dict(_COMPONENT_ALIASES)
    for col in rules.other_labs:
        aliases[col] = (col,) + (("other_lab", "lab2", "laborator_2", "lab_2")
                                 if col == "lab_other" else ())
    required = ("student", "exam", "lab_test", *rules.other_labs)
    cols = resolve_columns(header, aliases, required if project_grades is not None
                           else (*required, "project"), p, "components")
    problems: list[str] = _unused_grade_columns(header, cols, aliases, p)
    out: list[Components] = []
    seen: dict[str, int] = {}
    for line, cells in rows:
        where = f"{p}:{line}"

        def get(canon: str, cells: list[str] = cells) -> str:
            i = cols.get(canon)
            return cells[i] if i is not None and i < len(cells) else ""

        sid = get("student")
        if not sid:
            problems.append(f"{where}  empty student id")
            continue
        if not _new_student(sid, where, line, seen, roster, problems):
            continue
        values: dict[str, Any] = {}
        for canon in ("exam", "project", "lab_test", *rules.other_labs,
                      "presentation_deduction", "bonus_exam", "bonus_lab"):
            text = get(canon)
            if not text:
                values[canon] = None
                continue
            try:
                value = _number(text)
            except InvalidOperation:
                problems.append(f"{where}  {canon} = {text!r} is not a number (student {sid!r})")
                continue
            is_grade = canon not in ("presentation_deduction", "bonus_exam", "bonus_lab")
            if value < 0 or (is_grade and value > rules.max_grade):
                bound = f"0 to {rules.max_grade}" if is_grade else "0 or more points"
                problems.append(f"{where}  {canon} = {text} is out of range ({bound}; "
                                f"student {sid!r})")
                continue
            values[canon] = value
        project_note = ""
        if values.get("project") is None and project_grades is not None \
                and sid in project_grades:
            values["project"], applied = project_grades[sid]
            project_note = "from grades.csv" + (
                f" (its deduction {_fmt(applied)} already applied)" if applied else "")
            if values["project"] is None and run_status and run_status.get(sid):
                project_note = f"no grade in grades.csv: its run is {run_status[sid]}"
            if applied and values.get("presentation_deduction"):
                problems.append(f"{where}  presentation deduction given here and in grades.csv "
                                f"(deduction {_fmt(applied)}) for {sid!r}; keep one")
        if integrity and integrity.get(sid):
            project_note = (f"{project_note}; " if project_note else "") + \
                f"integrity: {integrity_outcome(integrity[sid])}"
        attempt_text = get("attempt")
        attempt = 1
        if attempt_text:
            if not re.fullmatch(r"[1-9][0-9]?", attempt_text):
                problems.append(f"{where}  attempt = {attempt_text!r}: expected 1 (first exam "
                                f"session), 2, ... (student {sid!r})")
            else:
                attempt = int(attempt_text)
        out.append(Components(
            student=sid, exam=values.get("exam"), project=values.get("project"),
            lab_test=values.get("lab_test"),
            other_labs=tuple(values.get(c) for c in rules.other_labs),
            presentation_deduction=values.get("presentation_deduction") or Decimal(0),
            bonus_exam=values.get("bonus_exam") or Decimal(0),
            bonus_lab=values.get("bonus_lab") or Decimal(0), attempt=attempt, line=line,
            project_note=project_note))
    if problems:
        numbers = any("not a number" in x or "out of range" in x for x in problems)
        raise InputFileError(f"components {p} has {len(problems)} problem(s)",
                             problems=problems,
                             hint="fix each line above and run again" + (
                                 "; grades are numbers from 0 to 10 (4.99 or 4,99), and a "
                                 "cell stays empty when the grade is not known yet"
                                 if numbers else ""))
    return out


# --------------------------------------------------------------------------- computing


def _q(value: Decimal, rules: FinalRules) -> Decimal:
    return value.quantize(Decimal(1).scaleb(-rules.decimals), rounding=ROUND_HALF_UP)


def _exact(value: Decimal, rules: FinalRules) -> Decimal:
    """``value`` exactly, written with at least ``decimals`` places (7.15, 6.495, 7.00)."""
    shown = _q(value, rules)
    return shown if shown == value else value.normalize()


def _fmt(value: Decimal) -> str:
    return f"{value:f}"


def compute_final(c: Components, rules: FinalRules = FinalRules()) -> FinalGrade:
    """One student's final grade, every step written out.

    Examples
    --------
    >>> from decimal import Decimal as D
    >>> r = compute_final(Components("s", exam=D(6), project=D(8), lab_test=D(7),
    ...                              other_labs=(D(9),)))
    >>> r.status, str(r.ml_lab), str(r.lab), str(r.final), str(r.grade)
    ('passed', '7.60', '8.30', '7.15', '7')
    """
    res = FinalGrade(c.student, "incomplete")
    steps = res.steps
    missing = [name for name, v in (("exam", c.exam), ("project", c.project),
                                    ("lab_test", c.lab_test),
                                    *zip(rules.other_labs, c.other_labs, strict=True))
               if v is None]
    if missing:
        res.reason = f"missing: {', '.join(missing)}"
        if "project" in missing and c.project_note:  # the batch gave no grade: say why
            res.reason += f" ({c.project_note})"
            steps.append(f"cannot compute: {res.reason}")
        else:
            steps.append(f"cannot compute: {res.reason} not given yet")
        return res
    assert c.exam is not None and c.project is not None and c.lab_test is not None
    if c.project_note:
        steps.append(f"project {_fmt(c.project)} {c.project_note}")
    first = c.attempt == 1
    bonus_ok = first or not rules.bonus_first_attempt_only

    # 1-2. Project after the presentation deduction (capped), then the ML lab grade.
    deduction = min(c.presentation_deduction, rules.max_presentation_deduction)
    if c.presentation_deduction > rules.max_presentation_deduction:
        steps.append(f"presentation deduction {_fmt(c.presentation_deduction)} capped at "
                     f"{_fmt(rules.max_presentation_deduction)}")
    project = _q(max(c.project - deduction, Decimal(0)), rules)
    if deduction:
        steps.append(f"project {_fmt(c.project)} - presentation deduction {_fmt(deduction)} "
                     f"= {_fmt(project)}")
    pw, tw = rules.project_weight, rules.lab_test_weight
    ml_lab = _q((pw * project + tw * c.lab_test) / (pw + tw), rules)
    steps.append(f"ML lab = ({_fmt(pw)} x project {_fmt(project)} + {_fmt(tw)} x lab test "
                 f"{_fmt(c.lab_test)}) / {_fmt(pw + tw)} = {_fmt(ml_lab)}")
    res.ml_lab = ml_lab

    # 3. Lab grade: the mean of this lab and the other subject's lab(s).
    labs = [ml_lab, *(v for v in c.other_labs if v is not None)]
    lab = _q(sum(labs, Decimal(0)) / len(labs), rules)
    if rules.other_labs:
        parts = ", ".join([f"ML lab {_fmt(ml_lab)}"] + [
            f"{n} {_fmt(v)}" for n, v in zip(rules.other_labs, c.other_labs, strict=True)
            if v is not None])
        steps.append(f"lab = mean({parts}) = {_fmt(lab)}")

    # 4. Bonuses, capped, first attempt only; no grade above max_grade.
    def with_bonus(name: str, grade: Decimal, bonus: Decimal, cap: Decimal) -> Decimal:
        if not bonus:
            return grade
        if not bonus_ok:
            steps.append(f"{name} bonus {_fmt(bonus)} not applied: attempt {c.attempt} "
                         "(bonus points count at the first attempt only)")
            return grade
        used = min(bonus, cap)
        if bonus > cap:
            steps.append(f"{name} bonus {_fmt(bonus)} capped at {_fmt(cap)}")
        total = grade + used
        final = _q(min(total, rules.max_grade), rules)
        steps.append(f"{name} {_fmt(grade)} + bonus {_fmt(used)} = {_fmt(final)}"
                     + (f" (at most {_fmt(rules.max_grade)})" if total > rules.max_grade else ""))
        return final

    exam_before, lab_before = c.exam, lab
    exam = with_bonus("exam", c.exam, c.bonus_exam, rules.max_bonus_exam)
    lab = with_bonus("lab", lab, c.bonus_lab, rules.max_bonus_lab)
    res.exam, res.lab = exam, lab

    # 5. Both grades must reach the minimum.
    exam_check = exam if rules.threshold_after_bonus else exam_before
    lab_check = lab if rules.threshold_after_bonus else lab_before
    fails = [f"{n} {_fmt(v)} < {_fmt(m)}" for n, v, m in (("exam", exam_check, rules.min_exam),
                                                           ("lab", lab_check, rules.min_lab))
             if v < m]
    mark = "after" if rules.threshold_after_bonus else "before"
    steps.append(f"minimum {mark} bonus: exam {_fmt(exam_check)} "
                 f"{'<' if exam_check < rules.min_exam else '>='} {_fmt(rules.min_exam)}, lab "
                 f"{_fmt(lab_check)} {'<' if lab_check < rules.min_lab else '>='} "
                 f"{_fmt(rules.min_lab)}")

    # 6. The weighted final grade, then the recorded grade, rounded once: the final is not
    # an intermediate grade, and rounding it to 2 decimals first made 6.495 a 6.50, then a 7.
    final = _exact(rules.exam_weight * exam + rules.lab_weight * lab, rules)
    res.final = final
    steps.append(f"final = {_fmt(rules.exam_weight)} x exam {_fmt(exam)} + "
                 f"{_fmt(rules.lab_weight)} x lab {_fmt(lab)} = {_fmt(final)}")
    rounded = (final.quantize(Decimal(1), rounding=ROUND_HALF_UP)
               if rules.grade_rounding == "half_up" else _q(final, rules))
    if fails:
        res.status, res.reason = "failed", "; ".join(fails)
        res.grade = min(rounded, rules.failed_grade)
        steps.append(f"failed ({res.reason}): grade {_fmt(res.grade)}")
    else:
        res.status, res.grade = "passed", rounded
        steps.append(f"passed: grade {_fmt(rounded)}")
    return res


def final_grades(components: list[Components], rules: FinalRules = FinalRules(),
                 roster: Roster | None = None) -> list[FinalGrade]:
    """Every student's final grade, in roster order (then any student not in the roster).

    Roster students without a components row are listed as ``incomplete``.
    """
    by_student = {c.student: c for c in components}
    order = (roster.ids if roster is not None else []) + [
        c.student for c in components if roster is None or c.student not in roster]
    results = []
    for sid in order:
        c = by_student.get(sid)
        if c is None:
            results.append(FinalGrade(sid, "incomplete", "no row in components.csv",
                                      steps=["cannot compute: no row in components.csv"]))
            continue
        res = compute_final(c, rules)
        res.inputs = {"exam": c.exam, "project": c.project, "lab_test": c.lab_test,
                      **dict(zip(rules.other_labs, c.other_labs, strict=True)),
                      "presentation_deduction": c.presentation_deduction,
                      "bonus_exam": c.bonus_exam, "bonus_lab": c.bonus_lab,
                      "attempt": c.attempt}
        res.inputs = {k: "" if v is None else str(v) for k, v in res.inputs.items()}
        results.append(res)
    return results


def write_final_grades(results: list[FinalGrade], out_dir: str | Path,
                       rules: FinalRules = FinalRules(), roster: Roster | None = None
                       ) -> tuple[Path, Path]:
    """Write ``final_grades.csv`` (with a ``steps`` column) and ``final_grades.json``.

    Returns
    -------
    (csv_path, json_path)
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    input_cols = ["exam", "project", "lab_test", *rules.other_labs, "presentation_deduction",
                  "bonus_exam", "bonus_lab", "attempt"]
    columns = ["student", "name", "group", *input_cols, "ml_lab", "exam_final", "lab_final",
               "final", "grade", "status", "reason", "steps"]

    def s(v: Decimal | None) -> str:
        return "" if v is None else _fmt(v)

    records = []
    for r in results:
        st = roster.get(r.student) if roster is not None else None
        records.append({
            "student": r.student, "name": st.name if st else "", "group": st.group if st else "",
            **{k: r.inputs.get(k, "") for k in input_cols},
            "ml_lab": s(r.ml_lab), "exam_final": s(r.exam), "lab_final": s(r.lab),
            "final": s(r.final), "grade": s(r.grade), "status": r.status, "reason": r.reason,
            "steps": " | ".join(r.steps)})
    csv_path, json_path = out / "final_grades.csv", out / "final_grades.json"
    with csv_path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=columns)
        writer.writeheader()
        writer.writerows({k: csv_safe(v) for k, v in rec.items()} for rec in records)
    payload = {"rules": rules.describe(),
               "students": [{**rec, "steps": r.steps} for rec, r in zip(records, results,
                                                                        strict=True)]}
    json_path.write_text(json.dumps(payload, indent=1, ensure_ascii=False), encoding="utf-8")
    return csv_path, json_path
