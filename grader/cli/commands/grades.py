"""``grader grades``: grades from a score table (a Kaggle leaderboard export).

Every input is checked before anything is written (``grader.validate``). The store gets what
the reports need to render a grades-only batch completely: one submissions row per student
(the leaderboard is where their work was submitted), scores, grades, and the course config;
roster students with no leaderboard row, and participants whose score cell is blank (they
never submitted on Kaggle), get the status ``absent``.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from diagnostics.text import terminal_safe


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("course", type=Path, metavar="COURSE_DIR")
    parser.add_argument("--leaderboard", type=Path, required=True, metavar="CSV",
                        help="Kaggle export (TeamId,TeamName,SubmissionDate,Score) or "
                             "student,score; a blank score is no score (graded 'absent')")
    parser.add_argument("--out", type=Path, required=True, metavar="DIR")
    parser.add_argument("--roster", type=Path, default=None, metavar="CSV",
                        help="roster.csv to map Kaggle team names to student ids; its students "
                             "with no leaderboard row are graded 'absent'")
    parser.add_argument("--adjustments", type=Path, default=None, metavar="CSV",
                        help="deductions: student,points,note")


def _store_rows(table: Any, graded: list[Any], lb: Path) -> dict[str, list[dict[str, Any]]]:
    """The submissions, scores and grades rows of a leaderboard (and its absent students)."""
    from grader.status import Status

    where = f"leaderboard {lb.name}"
    subs, scores, grades = [], [], []
    for s, score in table.scores.items():
        team = table.team_ids.get(s)
        found = [f"{where}, line {table.lines.get(s, '?')}: {table.source_names.get(s, s)!r}"
                 + (f" (TeamId {team})" if team else "")]
        subs.append(dict(student=s, path=str(lb), entry=None, files=found, content_hash=None,
                         accepted=True, reason=None, hint=None))
        scores.append(dict(student=s, status=Status.OK.value, message="", public_score=None,
                           private_score=score, details={}))
    for r in graded:
        grades.append(dict(student=r.student, status=Status.OK.value, rank=r.rank, band=r.band,
                           base_grade=r.base_grade, deduction=r.deduction, grade=r.grade,
                           above_baseline=int(r.above_baseline), note=r.note))
    why = f"no row on the {where} matches you"
    hint = ("if you took part, tell the instructor your Kaggle team name (it goes in the "
            "roster's kaggle column)")
    no_score_hint = ("if you did submit on Kaggle, tell the instructor: the leaderboard "
                     "export shows no score for your team")
    absent = [(s, why, hint) for s in table.absent] + [
        (s, reason, no_score_hint) for s, reason in table.no_score.items()]
    for s, reason, advice in absent:
        subs.append(dict(student=s, path=str(lb), entry=None, files=[], content_hash=None,
                         accepted=False, reason=reason, hint=advice))
        scores.append(dict(student=s, status=Status.ABSENT.value, message=reason,
                           public_score=None, private_score=None, details={}))
        grades.append(dict(student=s, status=Status.ABSENT.value, rank=None, band="",
                           base_grade=None, deduction=0.0, grade=None, above_baseline=None,
                           note=reason))
    return {"submissions": subs, "scores": scores, "grades": grades}


def _refuse_a_run_batch(out: Path) -> None:
    """Stop before a ``grader run`` batch's store is replaced by a leaderboard's scores.

    Storing the leaderboard there would delete the runs' scores and grades and, with them,
    the TAs' decisions' effect on grades.csv; a grades-only folder (or none) is fine."""
    from grader.errors import GraderError
    from grader.store import Store

    if not (out / "grading.db").is_file():
        return
    with Store(out / "grading.db") as store:
        meta = store.meta()
        graded = bool(store.grades())
    if graded and meta.get("submissions_dir") and not meta.get("leaderboard"):
        raise GraderError(
            f"{out} holds the batch graded by 'grader run' from {meta['submissions_dir']}; "
            "'grader grades' would replace its scores and grades (and the TAs' decisions' "
            "outcome) with the leaderboard's",
            hint=f"give 'grader grades' a folder of its own, e.g. --out {out.parent / 'grades'}"
                 f" (and 'grader report {out}' to refresh that batch)")


def run(args: argparse.Namespace) -> int:
    import sys
    import time

    import pandas as pd

    from grader.batch.outputs import write_grades_csv
    from grader.batch.scores import baseline_score, optimum_score, record_grading_inputs
    from grader.grading import SCORE_DIGITS, grade_scores
    from grader.scoring import Scorer
    from grader.store import Store
    from grader.validate import check_inputs, stored_reference_models

    # the whole input is checked before the output folder or its store is touched
    checked = check_inputs(args.course, adjustments=args.adjustments, roster=args.roster,
                           leaderboard=args.leaderboard,
                           reference_models=stored_reference_models(args.out))
    for note in checked.notes:
        print(terminal_safe(f"note: {note}"), file=sys.stderr)
    course, table = checked.course, checked.scores
    scorer = Scorer(course)
    out = args.out
    _refuse_a_run_batch(out)
    out.mkdir(parents=True, exist_ok=True)
    with Store(out / "grading.db") as store:
        baseline, source = baseline_score(course, store, scorer)
        optimum = optimum_score(course, store)
        graded = grade_scores(pd.Series(table.scores, dtype=float), course.grading,
                              greater_is_better=scorer.greater_is_better, baseline=baseline,
                              optimum=optimum, deductions=checked.deductions())
        # the band table and the rest, so the student pages explain a grade as after a run
        record_grading_inputs(store, course.grading, len(table.scores), baseline=baseline,
                              baseline_source=source, optimum=optimum,
                              greater_is_better=scorer.greater_is_better,
                              adjustments=args.adjustments)
        rows = _store_rows(table, graded, args.leaderboard.resolve())
        store.set_meta(course=course.name, course_root=str(course.root),
                       config_hash=course.config_hash, data_hash=course.data_hash,
                       config=course.describe(), leaderboard=str(args.leaderboard.resolve()),
                       submissions_dir=f"(Kaggle leaderboard) {args.leaderboard.resolve()}",
                       backend="– (scores from a leaderboard)",
                       executor="–", baseline=baseline, graded_at=time.time())
        store.put_submissions(rows["submissions"])
        store.put_scores(rows["scores"])
        store.put_grades(rows["grades"])
        write_grades_csv(out, store, leaderboard_names={
            **{s: "" for s in table.absent},
            **{s: table.source_names.get(s, s) for s in [*table.scores, *table.no_score]}})
    from reports import baseline_words  # the mean of the training targets on regression

    print(f"{len(graded)} graded from {args.leaderboard.name} ({table.kind} format); baseline "
          f"{baseline:.{SCORE_DIGITS}g} ({baseline_words(source, course.task, course.metric)}); bands for "
          f"{len(graded)} participants")
    for note in table.matched_notes:
        print(terminal_safe(f"  matched {note}"))
    if table.unmatched:
        print(f"{len(table.unmatched)} row(s) not graded:")
        for line in table.unmatched:
            print(terminal_safe(f"  {line}"))
    if table.no_score:
        print(terminal_safe(f"{len(table.no_score)} participant(s) with a blank score (no "
                            f"submission scored), graded absent: {', '.join(table.no_score)}"))
    if table.absent:
        print(f"{len(table.absent)} roster student(s) absent from the leaderboard: "
              f"{', '.join(table.absent)}")
    print(f"grades: {out / 'grades.csv'}  (reports: grader report {out})")
    return 0
