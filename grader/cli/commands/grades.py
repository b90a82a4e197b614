"""``grader grades``: grades from a score table (a Kaggle leaderboard export)."""

from __future__ import annotations

import argparse
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("course", type=Path, metavar="COURSE_DIR")
    parser.add_argument("--leaderboard", type=Path, required=True, metavar="CSV",
                        help="Kaggle export (TeamId,TeamName,SubmissionDate,Score) or student,score")
    parser.add_argument("--out", type=Path, required=True, metavar="DIR")
    parser.add_argument("--roster", type=Path, default=None, metavar="CSV",
                        help="roster.csv to map Kaggle team names to student ids")
    parser.add_argument("--adjustments", type=Path, default=None, metavar="CSV",
                        help="deductions: student,points,note")


def run(args: argparse.Namespace) -> int:
    import pandas as pd

    from grader.batch.outputs import write_grades_csv
    from grader.batch.scores import baseline_score, optimum_score
    from grader.course import load_course
    from grader.grading import grade_scores, load_adjustments
    from grader.ops.leaderboard import load_score_table
    from grader.scoring import Scorer
    from grader.store import Store

    course = load_course(args.course)
    scorer = Scorer(course)
    roster = None
    if args.roster:
        from grader.ops.roster import load_roster

        roster = load_roster(args.roster)
    table = load_score_table(args.leaderboard, roster=roster,
                             greater_is_better=scorer.greater_is_better)
    out = args.out
    out.mkdir(parents=True, exist_ok=True)
    with Store(out / "grading.db") as store:
        baseline, source = baseline_score(course, store, scorer)
        adjustments = load_adjustments(args.adjustments, course.grading.max_deduction) \
            if args.adjustments else {}
        rows = grade_scores(pd.Series(table.scores, dtype=float), course.grading,
                            greater_is_better=scorer.greater_is_better, baseline=baseline,
                            optimum=optimum_score(course, store), deductions=adjustments)
        store.set_meta(course=course.name, leaderboard=str(args.leaderboard.resolve()),
                       baseline=baseline)
        store.put_scores([dict(student=s, status="ok", message="", public_score=None,
                               private_score=v, details={}) for s, v in table.scores.items()])
        store.put_grades([dict(student=r.student, status="ok", rank=r.rank, band=r.band,
                               base_grade=r.base_grade, deduction=r.deduction, grade=r.grade,
                               above_baseline=int(r.above_baseline), note=r.note) for r in rows])
        write_grades_csv(out, store, leaderboard_names={
            s: table.source_names.get(s, s) for s in table.scores})
    print(f"{len(rows)} graded from {args.leaderboard.name} ({table.kind} format); baseline "
          f"{baseline:.4g} ({source}); bands for {len(rows)} participants")
    for note in table.matched_notes:
        print(f"  matched {note}")
    if table.unmatched:
        print(f"{len(table.unmatched)} row(s) not graded:")
        for line in table.unmatched:
            print(f"  {line}")
    print(f"grades: {out / 'grades.csv'}")
    return 0
