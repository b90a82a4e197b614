"""``grader demo``: build the embedded demo course and grade it end to end."""

from __future__ import annotations

import argparse
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", type=Path, default=Path("gradebox-demo"),
                        help="folder for the demo course, submissions and results "
                             "[default: ./gradebox-demo]")
    parser.add_argument("--backend", choices=["auto", "docker", "bwrap", "none"], default=None,
                        help="sandbox backend [default: the course's, auto]")
    parser.add_argument("--jobs", type=int, default=2, help="parallel sandboxes [default: 2]")
    parser.add_argument("--no-reference", action="store_true",
                        help="skip the reference models' table")


def run(args: argparse.Namespace) -> int:
    from grader.batch import BatchOptions, run_batch
    from grader.course import load_course
    from grader.demo import SAMPLES, build_demo

    out = args.out.resolve()
    course_dir, subs = build_demo(out)
    print(f"demo course: {course_dir}\nsubmissions: {subs}")
    for name, what in SAMPLES.items():
        print(f"  {name:<16} {what}")
    from grader.demo import MAILED
    from grader.ops.mail_intake import run_intake
    from grader.ops.roster import load_roster

    print(f"\ne-mailed submissions ({', '.join(MAILED)}): {out / 'ops' / 'inbox.mbox'}")
    intake = run_intake(out / "ops" / "inbox.mbox", load_roster(out / "ops" / "roster.csv"), subs,
                        kaggle_dir=out / "kaggle", report_path=out / "ops" / "intake_report.csv")
    print(intake.summary())
    from sandbox.environment import build_environment

    built = build_environment(course_dir, log=print)  # once per lock; later demos reuse it
    print(f"course environment: {'built' if built.built else 'already built'} "
          f"({built.seconds:.0f} s): {built.environment.path}")
    course = load_course(course_dir)
    summary = run_batch(course, subs, out / "results", BatchOptions(
        backend=args.backend, jobs=args.jobs, reference=not args.no_reference,
        kaggle_dir=out / "kaggle"))
    results = out / "results"
    _apply_demo_decisions(results)
    print(f"\nresults:   {results}\n  grades:    {results / 'grades.csv'}\n"
          f"  store:     {results / 'grading.db'}\n  runs:      {results / 'runs'}/<student>/\n"
          f"  similarity: {results / 'similarity' / 'pairs.csv'}\n"
          f"  reports:   {results / 'reports' / 'index.html'}")
    return 0 if summary.grades else 1


def _apply_demo_decisions(results: Path) -> None:
    """The demo TA's decisions (``grader/demo/decisions.csv``: one confirmed pair, one
    dismissed), imported as ``grader review import`` would, then the grades and pages redone."""
    import grader.demo
    from grader.batch.outputs import render_reports
    from grader.decisions import import_csv, refresh_grades_csv
    from grader.errors import InputFileError
    from grader.store import Store

    decisions = Path(grader.demo.__file__).with_name("decisions.csv")
    with Store(results / "grading.db") as store:
        try:
            import_csv(store, decisions)
        except InputFileError as exc:  # e.g. the similarity stage failed: nothing to decide
            print(f"warning: the demo's TA decisions were not applied:\n{exc.render()}")
            return
        refresh_grades_csv(results, store)
    render_reports(results)
    print(f"TA decisions applied from {decisions.name}: one pair confirmed, one dismissed "
          "(grader review OUT_DIR to decide the others)")
