"""``grader run``: grade a folder of submissions on a course (resumable)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("course", type=Path, metavar="COURSE_DIR")
    parser.add_argument("--submissions", type=Path, required=True, metavar="DIR",
                        help="one folder or .py file per student")
    parser.add_argument("--out", type=Path, required=True, metavar="DIR",
                        help="batch output folder (re-using it resumes the batch)")
    parser.add_argument("--backend", choices=["auto", "docker", "bwrap", "none"], default=None,
                        help="sandbox backend [default: the course's [sandbox] backend]")
    parser.add_argument("--jobs", type=int, default=None,
                        help="parallel sandboxes [default: number of GPU slots, else 1]")
    parser.add_argument("--executor", choices=["local", "dask"], default="local")
    parser.add_argument("--scheduler", default=None, metavar="ADDRESS",
                        help="Dask scheduler address, e.g. tcp://host:8786")
    parser.add_argument("--reference", action="store_true",
                        help="also run the course's reference models into the batch")
    parser.add_argument("--adjustments", type=Path, default=None, metavar="CSV",
                        help="deductions: student,points,note (presentation, up to 2 points)")
    parser.add_argument("--kaggle-dir", type=Path, default=None, metavar="DIR",
                        help="<student>.csv: the predictions each student uploaded to Kaggle "
                             "(reproduction check; 'grader intake --kaggle-dir' writes it)")
    parser.add_argument("--rerun", nargs="+", default=(), metavar="STUDENT",
                        help="run these students' programs again even though their runs "
                             "finished (e.g. after a machine fault stored as their error)")
    parser.add_argument("--no-similarity", action="store_true")
    parser.add_argument("--no-reports", action="store_true")


def run(args: argparse.Namespace) -> int:
    from grader.batch import BatchOptions, run_batch
    from grader.errors import GraderError
    from grader.validate import check_inputs, stored_reference_models

    if args.executor == "dask" and not args.scheduler:
        raise GraderError("--executor dask needs --scheduler ADDRESS",
                          hint="start one with 'dask scheduler' and pass tcp://HOST:8786")
    adjustments = args.adjustments or (args.course / "adjustments.csv")
    if not args.adjustments and not adjustments.is_file():
        adjustments = None
    # every input checked whole before the first run; nothing is run or written on an error
    checked = check_inputs(args.course, args.submissions, adjustments=adjustments,
                           reference_models=None if args.reference
                           else stored_reference_models(args.out), kaggle_dir=args.kaggle_dir)
    for note in checked.notes:
        print(f"note: {note}", file=sys.stderr)
    course = checked.course
    summary = run_batch(course, args.submissions, args.out, BatchOptions(
        backend=args.backend, jobs=args.jobs, executor=args.executor, scheduler=args.scheduler,
        reference=args.reference, similarity=not args.no_similarity,
        reports=not args.no_reports, kaggle_dir=args.kaggle_dir, rerun=tuple(args.rerun),
        adjustments=Path(adjustments) if adjustments else None))
    return 2 if summary.stage_errors else 0
