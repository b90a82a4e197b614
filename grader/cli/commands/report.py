"""``grader report OUT_DIR``: re-render the reports of a batch from its store.

Reads only ``OUT_DIR/grading.db`` (and the submissions' code for the side-by-side pages), so
the pages are the ones the batch wrote, refreshed with the current templates.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from diagnostics.text import terminal_lines


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("out_dir", type=Path, metavar="OUT_DIR",
                        help="the --out folder of 'grader run' or 'grader demo'")
    parser.add_argument("--columns", default=None, metavar="A,B,...",
                        help="columns of exports/grades_columns.csv (e.g. student,grade,rank)")
    parser.add_argument("--moodle-item", default=None, metavar="NAME",
                        help="the grade item's column in exports/moodle.csv "
                             "(default '<course> project')")
    parser.add_argument("--quiet", action="store_true", help="print only the final line")


def run(args: argparse.Namespace) -> int:
    from grader.batch.outputs import render_reports

    out = args.out_dir
    if (out / "results" / "grading.db").is_file() and not (out / "grading.db").is_file():
        out = out / "results"  # the demo's folder: the batch lives in results/
    say = None if args.quiet else (lambda m: print(terminal_lines(m), file=sys.stderr))
    _reapply_decisions(out)
    columns = args.columns.split(",") if args.columns else None
    info = render_reports(out, progress=say, columns=columns, moodle_item=args.moodle_item)
    print(f"rendered {info['students']} student pages and {info['pairs']} pair pages in "
          f"{info['seconds']:.1f} s — see {info['index']}")
    return 0


def _reapply_decisions(out: Path) -> None:
    """The current adjustments.csv and the TAs' current decisions applied to the stored
    scores, and grades.csv rewritten (nothing is re-run or re-scored)."""
    from grader.batch.regrade import regrade
    from grader.decisions import reapply, refresh_grades_csv
    from grader.store import Store

    if not (out / "grading.db").is_file():
        return  # render_reports says what is missing
    with Store(out / "grading.db") as store:
        if store.grades():
            done = regrade(store)  # None: a grades-only store, decisions alone
            if done and done[1]:
                print(f"note: {done[1]}", file=sys.stderr)
            if done is None:
                reapply(store)
            refresh_grades_csv(out, store)
