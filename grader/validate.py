"""The instructor's whole input, checked before the first run: one error listing every problem.

``grader run`` and ``grader grades`` call :func:`check_inputs` before anything is run or
written. It reads ``course.toml`` (and the names in it: reference models, corpus folders), the
submissions folder, the roster, the leaderboard and ``adjustments.csv``, and raises one
:class:`~grader.errors.InputFileError` whose problems each name the file and line or row, what
is wrong, a did-you-mean where one fits, and what to write instead. Nothing is ignored
silently: a deduction for an id no student has is an error, not a no-op.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from diagnostics import Diagnostic
from grader.adjustments import Adjustment, check_adjustments
from grader.course import Course, _line_of, load_course, read_id_column
from grader.course_tables import file_notes, thousands_hint
from grader.errors import InputFileError
from grader.intake import Rejection, Submission, scan_submissions
from grader.ops.tables import did_you_mean

__all__ = ["CheckedInputs", "check_inputs", "course_problems", "label_notes", "text_notes",
           "sandbox_python_problems", "stored_reference_models"]

#: names ``[grading] baseline`` accepts besides a reference model's (no model run needed)
BASELINE_BUILTINS = ("majority", "most_frequent")
#: names ``[grading] optimum`` accepts besides a reference model's
OPTIMUM_BUILTINS = ("best",)
#: ``[similarity]`` keys that name a folder of the course, with their defaults
CORPUS_KEYS = (("template", "starter"), ("archive", "archive"), ("web", "web"))


@dataclass
class CheckedInputs:
    """What :func:`check_inputs` read, so the caller does not read it again."""

    course: Course
    submissions: list[Submission | Rejection] = field(default_factory=list)
    roster: Any = None
    scores: Any = None
    adjustments: list[Adjustment] = field(default_factory=list)
    #: remarks that are not errors (a table read as cp1250, ...), to print as notes
    notes: list[str] = field(default_factory=list)

    def deductions(self) -> dict[str, tuple[float, str]]:
        """student → (points, note), as :func:`grader.grading.grade_scores` takes them."""
        return {a.student: (a.points, a.note) for a in self.adjustments}


def _absorb(exc: Diagnostic) -> list[str]:
    """A loader's error as problem lines: its message, its own problems, its fix."""
    lines = [exc.message] + [f"    {p}" for p in exc.problems]
    if exc.hint:
        lines[-1] += f"\n    fix: {exc.hint}"
    return ["\n".join(lines)]


def _model_names() -> tuple[Collection[str], dict[str, str]]:
    from reference import MODEL_TASKS, MODELS

    return MODELS, MODEL_TASKS


def _text_problem(course: Course, name: str) -> str | None:
    """Why reference model ``name`` cannot run on a text course (it needs numeric features),
    or None: found now, not after every student has run."""
    if course.competition.modality != "text":
        return None
    from reference import MODEL_TASKS
    from reference.runner import TEXT_DATA_MODELS

    if name in TEXT_DATA_MODELS:
        return None
    fits = sorted(m for m in TEXT_DATA_MODELS if MODEL_TASKS.get(m) == course.task)
    return (f"{name} needs numeric features and the course's data is text "
            f"(modality = \"text\"), so it would never run; a text course's reference models: "
            f"{', '.join(fits)}")


def _model_problem(course: Course, text: str, key: str, value: str,
                   builtins: tuple[str, ...], available: Collection[str] | None) -> str | None:
    """Why ``[grading] <key> = "<value>"`` cannot be resolved after the runs, or None."""
    where = f"course.toml:{_line_of(text, 'grading', key) or '?'}  [grading] {key} = \"{value}\""
    if value in builtins:
        if value == "best" and available is not None and not available:
            return (f"{where}\n    \"best\" is the best reference model, but none will have "
                    "run: add --reference (or run 'grader reference COURSE --out OUT' first)")
        return None
    models, tasks = _model_names()
    if value not in models:
        close = did_you_mean(value, [*models, *builtins], quote='"')
        fits = sorted(m for m in models if m not in builtins and tasks.get(m) == course.task)
        return (f"{where}\n    not a reference model{close}; write a number (e.g. 0.85) or one "
                f"of: {', '.join([*builtins, *fits])}")
    if tasks.get(value) != course.task:
        return (f"{where}\n    {value} is a {tasks.get(value)} model but metric "
                f"\"{course.metric}\" is {course.task}; pick a {course.task} model")
    text_only = _text_problem(course, value)
    if text_only:
        return f"{where}\n    {text_only}"
    if available is not None and value not in available:
        return (f"{where}\n    needs the score of reference model {value}, which will not have "
                "run: add --reference (or run 'grader reference COURSE --out OUT' first), or "
                "write a number")
    return None


def course_problems(course: Course, *, reference_models: Collection[str] | None = None
                    ) -> list[str]:
    """Problems in the names ``course.toml`` gives: reference models and corpus folders.

    Parameters
    ----------
    course : Course
        A course that :func:`grader.course.load_course` accepted.
    reference_models : collection of str, optional
        The models whose scores this batch will have (stored, or run by ``--reference``);
        None when unknown (then only the names are checked).
    """
    toml = course.root / "course.toml"
    text = toml.read_text(encoding="utf-8", errors="replace") if toml.is_file() else ""
    problems: list[str] = []
    g = course.grading
    if isinstance(g.baseline, str):
        problems.append(_model_problem(course, text, "baseline", g.baseline, BASELINE_BUILTINS,
                                       reference_models))
    if isinstance(g.optimum, str) and g.policy == "accuracy_scaled":
        problems.append(_model_problem(course, text, "optimum", g.optimum, OPTIMUM_BUILTINS,
                                       reference_models))
    listed = (course.extra.get("reference") or {}).get("models") or []
    if isinstance(listed, list) and listed:
        models, tasks = _model_names()
        where = f"course.toml:{_line_of(text, 'reference', 'models') or '?'}  [reference] models"
        for name in listed:
            if str(name) not in models:
                problems.append(
                    f"{where}: \"{name}\"\n    not a reference model"
                    f"{did_you_mean(str(name), models, quote=chr(34))}; known: "
                    f"{', '.join(sorted(models))}")
            elif _text_problem(course, str(name)):
                problems.append(f"{where}: \"{name}\"\n    {_text_problem(course, str(name))}")
            elif tasks.get(str(name)) != course.task:  # it would only be listed as skipped
                fits = sorted(m for m in models if tasks.get(m) == course.task)
                problems.append(
                    f"{where}: \"{name}\"\n    a {tasks.get(str(name))} model but metric "
                    f"\"{course.metric}\" is {course.task}, so it would never run; remove it "
                    f"or pick a {course.task} model: {', '.join(fits)}")
    folders = sorted(p.name for p in course.root.iterdir() if p.is_dir())
    for key, default in CORPUS_KEYS:
        value = getattr(course.similarity, key)
        if value and not (course.root / value).exists():
            problems.append(
                f"course.toml:{_line_of(text, 'similarity', key) or '?'}  [similarity] {key} = "
                f"\"{value}\"\n    no such folder in {course.root}"
                f"{did_you_mean(value, folders, quote=chr(34))}; fix the name, or delete the "
                f"line to use \"{default}/\" when it exists")
    return [p for p in problems if p]


def label_notes(course: Course) -> list[str]:
    """Warnings about hidden labels no training example has (classification only).

    Programs may predict only the training labels, so no student can get such a test
    example right: usually a typo or a different spelling ('3.0' for '3', 'Cat' for 'cat')
    in ``hidden/test_labels.csv``. Not an error: a class absent from training can be meant.
    """
    if course.task != "classification" or course.metric == "roc_auc":
        return []  # roc_auc's predictions are probabilities, not labels
    _, train = read_id_column(course.data_dir / "train.csv", need_label=True,
                              course_file="data/train.csv")
    ids, hidden = read_id_column(course.hidden_dir / "test_labels.csv", need_label=True,
                                 course_file="hidden/test_labels.csv")
    known = set(train)
    notes = _spelling_notes(Counter(train))
    unseen = Counter(lab for lab in hidden if lab not in known)
    if not unseen:
        return notes
    first = next(i for i, (_, lab) in enumerate(zip(ids, hidden, strict=True)) if lab in unseen)
    shown = ", ".join(f"{lab!r} ({n} row(s))" for lab, n in sorted(unseen.items())[:5])
    allowed = ", ".join(map(repr, sorted(known)[:12]))
    return notes + [f"hidden/test_labels.csv has {sum(unseen.values())} label(s) that no row of "
            f"data/train.csv has, so no submission can predict them: {shown}; first at "
            f"hidden/test_labels.csv:{first + 2}. Training labels: {allowed}. Fix the spelling in "
            "hidden/test_labels.csv if this is a mistake"]


def _spelling_notes(counts: Counter) -> list[str]:
    """Training labels that differ only in diacritics, case or a cedilla ('caine' and
    'câine'): every model learns them as two classes, which is rarely what was meant."""
    def key(label: str) -> str:
        plain = unicodedata.normalize("NFKD", label)
        return "".join(c for c in plain if not unicodedata.combining(c)).casefold().strip()

    groups: dict[str, list[str]] = {}
    for label in counts:
        groups.setdefault(key(label), []).append(label)
    return ["data/train.csv has labels that differ only in diacritics or case: "
            + ", ".join(f"{lab!r} ({counts[lab]} row(s))" for lab in sorted(group))
            + ": every model learns them as different classes; write one spelling if they "
              "are one class" for group in groups.values() if len(group) > 1]


#: a time limit under this many seconds is named before the runs: too short for training
SHORT_TIME_LIMIT_S = 10


def limit_notes(course: Course) -> list[str]:
    """A time limit too short for any training program, before every run times out: in a
    Romanian or German course.toml, ``time_limit_s = 1.800`` means 1800 but reads 1.8."""
    limit = course.sandbox.time_limit_s
    if limit >= SHORT_TIME_LIMIT_S:
        return []
    text = (course.root / "course.toml").read_text(encoding="utf-8-sig")
    line = _line_of(text, "sandbox", "time_limit_s")
    written = re.search(r"^\s*time_limit_s\s*=\s*(\d+\.\d{3})\s*(#|$)", text, re.M)
    return [f"course.toml:{line or '?'}: [sandbox] time_limit_s = {limit:g} gives every "
            f"program {limit:g} s to train and predict"
            + (thousands_hint(written[1]) if written else "")]


def data_notes(course: Course) -> list[str]:
    """Warnings about the files students read (``data/train.csv``, ``data/test.csv``) that
    their programs survive only when written carefully: a byte-order mark, ids with leading
    zeros (``grader.course_tables.file_notes``)."""
    test_ids, _ = read_id_column(course.data_dir / "test.csv", need_label=False,
                                 course_file="data/test.csv")
    return (file_notes(course.data_dir / "train.csv", "data/train.csv", [])
            + file_notes(course.data_dir / "test.csv", "data/test.csv", test_ids))


#: what pandas.read_csv reads as missing by default (its na_values), as text values a text
#: course's data may well hold
_PANDAS_NA = frozenset({"", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan",
                        "1.#IND", "1.#QNAN", "<NA>", "N/A", "NA", "NULL", "NaN", "None", "n/a",
                        "nan", "null"})


def text_notes(course: Course) -> list[str]:
    """Warnings about texts that ``pandas.read_csv`` reads as missing (a review "NA", "None"
    or an empty one) in a text course's data: every student who reads the file with pandas
    gets NaN there, and TfidfVectorizer stops on 'np.nan is an invalid document'."""
    import pandas as pd

    from reference.features.detect import detect_modality, feature_columns

    notes = []
    for name in ("train.csv", "test.csv"):
        path = course.data_dir / name
        if not path.is_file():
            continue
        df = pd.read_csv(path, dtype=str, keep_default_na=False)
        modality = course.competition.modality
        if modality == "auto":
            modality = detect_modality(df, course.data_dir)
        if modality != "text":
            return []
        for col in feature_columns(df):
            bad = df.index[df[col].str.strip().isin(_PANDAS_NA)]
            if len(bad):
                shown = ", ".join(sorted({repr(v) for v in df[col][bad]})[:5])
                notes.append(f"data/{name}: {len(bad)} text(s) in column {col!r} that "
                             f"pandas.read_csv reads as missing ({shown}; first at "
                             f"data/{name}:{bad[0] + 2}): students who read the file with "
                             "pandas get NaN there (TfidfVectorizer then stops on 'np.nan is "
                             "an invalid document'); replace them in the data, or tell the "
                             "students to read it with keep_default_na=False")
    return notes


def stored_reference_models(out_dir: str | Path) -> set[str]:
    """The reference models with a score in ``out_dir/grading.db`` (none without a store;
    a missing store is not created)."""
    db = Path(out_dir) / "grading.db"
    if not db.is_file():
        return set()
    from grader.store import Store

    with Store(db) as store:
        return {r["model"] for r in store.reference() if r["status"] == "ok"}


def _unknown_ids(adjustments: Iterable[Adjustment], path: Path, known: Collection[str],
                 who: str) -> list[str]:
    return [f"{path}:{a.line}  student {a.student!r} is not {who}"
            f"{did_you_mean(a.student, known)}; correct the id or delete the row (a deduction "
            "for an unknown id would be ignored)"
            for a in adjustments if a.student not in known]


def _read_class_tables(checked: CheckedInputs, roster: Any, leaderboard: str | Path | None,
                       known: dict[str, set[str]], problems: list[str]) -> bool:
    """Read the roster and the leaderboard into ``checked``; False when one failed."""
    if isinstance(roster, str | Path):
        from grader.ops.roster import load_roster

        try:
            roster = load_roster(roster)
        except Diagnostic as exc:
            problems += _absorb(exc)
            return False  # the leaderboard's names cannot be placed without it
        checked.notes += roster.notes
    checked.roster = roster
    if roster is not None:
        known["in the roster"] = set(roster.ids)
    if leaderboard is None:
        return True
    from grader.ops.leaderboard import load_score_table
    from grader.scoring import greater_is_better

    try:
        checked.scores = load_score_table(
            leaderboard, roster=roster, greater_is_better=greater_is_better(
                checked.course.metric) if checked.course else True)
    except Diagnostic as exc:
        problems += _absorb(exc)
        return False
    checked.notes += checked.scores.notes
    known["on the leaderboard"] = set(checked.scores.scores) | set(checked.scores.no_score)
    return True


def sandbox_python_problems(course: Course) -> list[str]:
    """``[sandbox] python``, started once before any run (it would otherwise fail every
    run as a sandbox failure): a missing file, an interpreter that does not start, a pyenv
    shim with no version. Not for a Docker image of the course's own (the path is inside it).
    """
    python = course.sandbox.python
    if not python or (course.sandbox.backend == "docker" and course.sandbox.image):
        return []
    from sandbox._runtime import python_runtime
    from sandbox.errors import SandboxBroken

    try:
        python_runtime(python)
    except SandboxBroken as exc:
        toml = course.root / "course.toml"
        text = toml.read_text(encoding="utf-8", errors="replace") if toml.is_file() else ""
        hint = f"; {exc.hint}" if getattr(exc, "hint", None) else ""
        return [f"course.toml:{_line_of(text, 'sandbox', 'python') or '?'}  [sandbox] python = "
                f"\"{python}\"\n    {exc.args[0] if exc.args else exc}{hint}"]
    return []


def check_inputs(course: Course | str | Path, submissions_dir: str | Path | None = None, *,
                 adjustments: str | Path | None = None, roster: Any = None,
                 leaderboard: str | Path | None = None,
                 reference_models: Collection[str] | None = None,
                 kaggle_dir: str | Path | None = None) -> CheckedInputs:
    """Check everything the instructor gave before anything runs; raise once with every problem.

    Parameters
    ----------
    course : Course, str or Path
        A loaded course, or its folder (then ``course.toml``'s own problems join the list).
    submissions_dir : str or Path, optional
        The submissions folder (``grader run``).
    adjustments : str or Path, optional
        ``adjustments.csv``; every id must be a student of the submissions, roster or
        leaderboard.
    roster : Roster, str or Path, optional
        The roster, loaded or as a file.
    leaderboard : str or Path, optional
        A Kaggle export or ``student,score`` table (``grader grades``).
    reference_models : collection of str, optional
        The reference models whose scores the batch will have; None when unknown.
    kaggle_dir : str or Path, optional
        The folder of predictions uploaded to Kaggle (``grader run --kaggle-dir``).

    Returns
    -------
    CheckedInputs
        The course, submissions, roster, score table and adjustments as read, and notes.

    Raises
    ------
    InputFileError
        One error whose problems each name the file and line/row and the fix.

    Examples
    --------
    >>> check_inputs("course", "submissions", adjustments="course/adjustments.csv")
    ... # doctest: +SKIP
    """
    problems: list[str] = []
    loaded: Course | None = course if isinstance(course, Course) else None
    if loaded is None:
        try:
            loaded = load_course(course)
        except Diagnostic as exc:
            problems += _absorb(exc)
    if loaded is not None:
        problems += course_problems(loaded, reference_models=reference_models)
    checked = CheckedInputs(course=loaded)  # type: ignore[arg-type]
    if loaded is not None and not problems:
        checked.notes += (label_notes(loaded) + text_notes(loaded) + data_notes(loaded)
                          + limit_notes(loaded))
    known: dict[str, set[str]] = {}
    complete = True  # every table that names students was read (else ids are not checked)
    if submissions_dir is not None:
        if loaded is not None:
            problems += sandbox_python_problems(loaded)
        try:
            checked.submissions = scan_submissions(submissions_dir)
            known["among the submissions"] = {e.student for e in checked.submissions}
        except Diagnostic as exc:
            problems += _absorb(exc)
            complete = False
    if kaggle_dir is not None and not Path(kaggle_dir).is_dir():
        problems.append(f"--kaggle-dir {kaggle_dir}: no such folder; pass the folder of "
                        "<student>.csv files that 'grader intake --kaggle-dir' wrote")
    if roster is not None or leaderboard is not None:
        complete &= _read_class_tables(checked, roster, leaderboard, known, problems)
    if adjustments is not None:
        max_points = loaded.grading.max_deduction if loaded else float("inf")
        try:
            checked.adjustments, bad_rows = check_adjustments(adjustments, max_points)
        except Diagnostic as exc:
            problems += _absorb(exc)
            bad_rows = []
        if complete and known:  # one report: bad rows and unknown ids together
            bad_rows += _unknown_ids(checked.adjustments, Path(adjustments),
                                     set().union(*known.values()), " or ".join(known))
        if bad_rows:
            problems += _absorb(InputFileError(
                f"{Path(adjustments).name} has {len(bad_rows)} problem(s)", problems=bad_rows,
                hint=f"one row per student of the class, points between 0 and {max_points:g}"))
    if problems:
        raise InputFileError(
            f"{len(problems)} problem(s) in the input; nothing was run or written",
            problems=problems,
            hint="fix each problem above (file:line, what to write instead) and run again")
    return checked
