"""``grader run`` on real bubblewrap: a spreadsheet export of the adjustments is applied, and a
mistake found in the input on a later run leaves the stored batch exactly as it was."""

from __future__ import annotations

import csv

from grader.cli import main
from grader.store import Store
from tests.integration.batch_helpers import honest, make_course, write_submissions


def _grades(out):
    with (out / "grades.csv").open(encoding="utf-8") as f:
        return {r["student"]: r for r in csv.DictReader(f)}


def _content(out):
    """What the store holds, without the timestamps of reading it."""
    with Store(out / "grading.db") as store:
        snap = store.snapshot()
    return {k: v for k, v in snap.items() if k != "meta"}, (out / "grades.csv").read_bytes()


def test_bad_input_on_a_rerun_runs_nothing_and_keeps_the_store(tmp_path, bwrap_sandbox, capsys):
    course = make_course(tmp_path / "course")
    subs = write_submissions(tmp_path / "subs", {"ana": honest(0.5), "bogdan_svm": honest(0.3)})
    # Romanian Excel's "CSV UTF-8": BOM, ';' and a decimal comma, the roster's column names
    (course / "adjustments.csv").write_bytes(
        "\ufeffNr. matricol;Nume și prenume;Puncte;Observații\n"
        "ana;Ana Pop;1,5;slides late\nbogdan_svm;Bogdan Șerban;;\n".encode("utf-8"))
    out = tmp_path / "out"
    args = ["run", str(course), "--submissions", str(subs), "--out", str(out),
            "--no-similarity", "--no-reports"]
    assert main(args) == 0
    g = _grades(out)
    assert (g["ana"]["deduction"], g["ana"]["grade"]) == ("1.5", "8.5")
    assert g["bogdan_svm"]["deduction"] == "0"
    before = _content(out)
    capsys.readouterr()

    (course / "adjustments.csv").write_text("student,points\nbogdan_svn,1\n", encoding="utf-8")
    (subs / "ioana.py").write_text(honest(0.5))  # would be run, if anything ran
    assert main(args) == 1
    err = capsys.readouterr().err
    assert "adjustments.csv:2  student 'bogdan_svn' is not among the submissions" in err
    assert "did you mean 'bogdan_svm'?" in err
    assert _content(out) == before
    assert not (out / "runs" / "ioana").exists()
