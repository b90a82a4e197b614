"""``grader report`` grades again from the store (issue 14, item 6): an edited
adjustments.csv reaches grades.csv and the student's page without re-running anything; a
mistyped id is refused and nothing changes. Real bubblewrap batch, real SQLite."""

from __future__ import annotations

import pytest

from grader.batch import BatchOptions, run_batch
from grader.cli import main
from grader.course import load_course
from tests.integration.batch_helpers import honest, make_course, read_grades, write_submissions

pytestmark = [pytest.mark.bwrap, pytest.mark.slow]


def test_report_reapplies_an_edited_adjustments_csv(tmp_path, bwrap_sandbox, capsys):
    course_dir = make_course(tmp_path / "course")
    adjustments = course_dir / "adjustments.csv"
    adjustments.write_text("student,points,note\nbest,0.5,no README\n")
    subs = write_submissions(tmp_path / "subs", {"best": honest(0.5), "fair": honest(0.3)})
    out = tmp_path / "out"
    run_batch(load_course(course_dir), subs, out, BatchOptions(
        similarity=False, quiet=True, adjustments=adjustments))
    assert read_grades(out)["best"]["grade"] == "9.5"
    runs_before = (out / "runs" / "best" / "verdict.json").stat().st_mtime_ns

    adjustments.write_text("student,points,note\nbest,2,slides missing\nfair,1,late demo\n")
    assert main(["report", str(out), "--quiet"]) == 0
    grades = read_grades(out)
    assert (grades["best"]["grade"], grades["best"]["deduction"]) == ("8", "2")
    assert grades["fair"]["deduction"] == "1"
    page = (out / "reports" / "students" / "best.txt").read_text()
    assert "Deduction: 2 point(s) for the presentation/documentation: slides missing" in page
    assert (out / "runs" / "best" / "verdict.json").stat().st_mtime_ns == runs_before

    before = (out / "grades.csv").read_bytes()
    adjustments.write_text("student,points,note\nbestt,1,typo\n")
    capsys.readouterr()
    assert main(["report", str(out)]) == 1
    err = capsys.readouterr().err
    assert "adjustments.csv:2" in err and "'bestt'" in err and "did you mean" in err
    assert (out / "grades.csv").read_bytes() == before
