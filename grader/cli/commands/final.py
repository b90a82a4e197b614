"""``grader final COURSE --roster roster.csv --components components.csv --out DIR``."""

from __future__ import annotations

import argparse
from pathlib import Path

from diagnostics.text import terminal_safe


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("course", help="the course folder (its course.toml [final] table "
                                       "holds the rules; defaults follow the slides)")
    parser.add_argument("--roster", required=True, help="roster.csv")
    parser.add_argument("--components", required=True,
                        help="components.csv: student,exam,project,lab_test,lab_other,"
                             "presentation_deduction,bonus_exam,bonus_lab,attempt")
    parser.add_argument("--project-grades", metavar="CSV",
                        help="a batch's grades.csv: its grade fills empty 'project' cells")
    parser.add_argument("--out", required=True, help="where to write final_grades.csv/.json")


def run(args: argparse.Namespace) -> int:
    from grader.ops.final_grades import (
        final_grades,
        load_components,
        load_final_rules,
        load_integrity,
        load_project_grades,
        load_run_status,
        write_final_grades,
    )
    from grader.ops.roster import load_roster

    rules = load_final_rules(args.course)
    roster = load_roster(args.roster)
    projects = (load_project_grades(args.project_grades, roster) if args.project_grades
                else None)
    integrity = load_integrity(args.project_grades) if args.project_grades else None
    status = load_run_status(args.project_grades) if args.project_grades else None
    components = load_components(args.components, rules, roster, projects, integrity, status)
    results = final_grades(components, rules, roster)
    csv_path, json_path = write_final_grades(results, args.out, rules, roster)
    _store(results, Path(args.out) / "grading.db")
    counts = {s: sum(r.status == s for r in results) for s in ("passed", "failed", "incomplete")}
    for r in results:
        if r.status != "passed":
            print(terminal_safe(f"  {r.student}: {r.status} ({r.reason})"))
    print(f"final grades for {len(results)} students: {counts['passed']} passed, "
          f"{counts['failed']} failed, {counts['incomplete']} incomplete — see {csv_path} "
          f"and {json_path.name}")
    return 0


def _store(results, db_path: Path) -> None:
    """Keep the final grades in the store too (beside a batch's, when --out is its folder)."""
    from grader.store import Store

    def num(v):
        return None if v is None else float(v)

    with Store(db_path) as store:
        store.put_final_grades([dict(
            student=r.student, final=num(r.final), grade=num(r.grade), status=r.status,
            reason=r.reason, record={k: str(v) for k, v in r.inputs.items()},
            steps=list(r.steps)) for r in results])
