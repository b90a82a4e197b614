"""``grader reference``: every course model on a course's data, scored like the students.

Models whose data, parameters and code are unchanged since they were trained into the same
``--out`` store are taken from it, not retrained (``--retrain`` trains them all again)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("course", type=Path, metavar="COURSE_DIR")
    parser.add_argument(
        "--out",
        type=Path,
        required=True,
        metavar="DIR",
        help="batch folder: grading.db and reference.csv go here",
    )
    parser.add_argument(
        "--models",
        nargs="+",
        default=None,
        metavar="NAME",
        help="reference models to run (default: those suited to the task and "
        "data; see reference.MODELS)",
    )
    parser.add_argument(
        "--budget-s",
        type=float,
        default=None,
        metavar="N",
        help="safety deadline per model in seconds where course.toml sets no [reference] "
        "budget_s (default 600); "
        "models train to fixed epochs, and one still training at the deadline is marked "
        "'deadline' and never used as baseline or optimum",
    )
    parser.add_argument(
        "--retrain",
        action="store_true",
        help="train every model again instead of taking unchanged ones from the store",
    )


def run(args: argparse.Namespace) -> int:
    from grader.batch.reference import DEFAULT_DEADLINE_S, run_reference_stage
    from grader.errors import GraderError
    from grader.scoring import Scorer
    from grader.store import Store
    from grader.validate import check_inputs
    from reference import MODELS

    # course.toml checked whole, as 'grader run' does: a [reference] model of the other task
    # or a baseline that cannot be one is named here instead of a row marked 'skipped'
    course = check_inputs(args.course).course
    unknown = [m for m in args.models or [] if m not in MODELS]
    if unknown:
        import difflib

        problems = []
        for m in unknown:
            close = difflib.get_close_matches(m, MODELS, n=1)
            problems.append(f"{m!r}" + (f" (did you mean {close[0]!r}?)" if close else ""))
        raise GraderError(
            f"unknown reference model(s): {', '.join(unknown)}",
            problems=problems,
            hint=f"known models: {', '.join(MODELS)}",
        )
    if args.budget_s is not None and args.budget_s <= 0:
        raise GraderError(f"--budget-s must be positive, got {args.budget_s}")
    out = args.out
    out.mkdir(parents=True, exist_ok=True)

    def say(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    scorer = Scorer(course)
    with Store(out / "grading.db") as store:
        if "config" not in store.meta():  # alone, not into a batch: 'grader report' needs the
            # course's metric and name (it rendered an mse course's models as accuracy)
            store.set_meta(course=course.name, course_root=str(course.root),
                           config=course.describe())
        try:
            rows = run_reference_stage(
                course,
                store,
                scorer,
                out,
                budget_s=args.budget_s or DEFAULT_DEADLINE_S,
                models=args.models,
                say=say,
                retrain=args.retrain,
            )
        except (KeyError, ValueError) as exc:  # bad data for the models: a user's problem
            raise GraderError(
                f"the reference models could not run on {course.data_dir}: {exc}",
                hint="check train.csv/test.csv against the course folder layout in README.md",
            ) from exc
    ok = [r for r in rows if r["status"] == "ok"]
    sign = 1.0 if scorer.greater_is_better else -1.0
    scored = [r for r in ok if r["private_score"] is not None]
    best = max(scored, key=lambda r: sign * r["private_score"], default=None)
    line = f"reference: {len(ok)} of {len(rows)} models ran — see {out / 'reference.csv'}"
    late = [r["model"] for r in rows if r["status"] == "deadline"]
    if late:
        line += f"; stopped by the safety deadline (never a baseline or optimum): {', '.join(late)}"
    if best is not None:
        line += (f"; best {best['model']}: private {course.metric} "
                 f"{best['private_score']:.4f}")
    print(line)
    return 0
