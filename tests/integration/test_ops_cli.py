"""Course operations end to end through the CLI: demo roster and mailbox → ``grader intake``
→ the batch's own submissions scanner → reproduction input → ``grader final``."""

from __future__ import annotations

import csv

import pandas as pd
import pytest

from grader.cli import main
from grader.demo.ops import make_demo_mailbox, write_demo_roster
from grader.intake import Rejection, Submission, scan_submissions
from grader.ops.reproduction import check_reproduction, load_kaggle_predictions

SOURCES = {
    "ana-popescu": "print('ana')\n",
    "stefan-turcanu": "import numpy as np\nprint(np.zeros(2))\n",
    "ioana-margarit": "print('ioana')\n",
}
NAMES = {"stefan-turcanu": "Ștefan Țurcanu", "ioana-margarit": "Ioana Mărgărit"}


def test_intake_cli_feeds_the_batch_scanner(tmp_path, capsys):
    roster = write_demo_roster(SOURCES, tmp_path / "roster.csv", names=NAMES)
    kaggle = "id,label\n" + "".join(f"{i},{i % 2}\n" for i in range(10))
    mbox = make_demo_mailbox(SOURCES, tmp_path / "inbox.mbox",
                             kaggle_csv={"ioana-margarit": kaggle})
    out = tmp_path / "submissions"
    args = ["intake", str(mbox), "--roster", str(roster), "--out", str(out),
            "--deadline", "2026-02-01T00:00:00+02:00"]
    assert main(args) == 0
    printed = capsys.readouterr().out
    assert printed.startswith("intake: 7 messages: 3 accepted, 1 superseded, 1 rejected, "
                              "1 no submission, 1 unknown sender")
    assert "someone@example.com" in printed and "(no .ipynb)" in printed
    assert (tmp_path / "intake_report.csv").is_file()

    scanned = {s.student: s for s in scan_submissions(out)}
    assert set(scanned) == set(SOURCES)
    assert all(isinstance(s, Submission) and s.entry == "main.py" for s in scanned.values()), [
        s.render() for s in scanned.values() if isinstance(s, Rejection)]
    assert (out / "stefan-turcanu" / "main.py").read_text() == SOURCES["stefan-turcanu"]
    assert scanned["ioana-margarit"].kaggle_predictions is not None

    uploaded = load_kaggle_predictions(scanned["ioana-margarit"].kaggle_predictions, range(10))
    truth = pd.Series([i % 2 for i in range(10)], index=range(10))
    rerun = truth.copy()
    rerun[:3] = 1 - rerun[:3]
    res = check_reproduction(rerun, uploaded, lambda p: float((p == truth).mean()))
    assert res.flagged and res.difference == pytest.approx(-0.3)

    assert main(args) == 0  # re-run: nothing changes
    assert "(0 written, 3 unchanged)" in capsys.readouterr().out


def test_final_cli_writes_grades_and_reports_bad_files(tmp_path, capsys):
    course = tmp_path / "course"
    course.mkdir()
    (course / "course.toml").write_text('[competition]\nname = "ia-2026"\n\n[final]\n'
                                        "max_presentation_deduction = 1.5\n", encoding="utf-8")
    roster = write_demo_roster(SOURCES, tmp_path / "roster.csv", names=NAMES)
    comps = tmp_path / "components.csv"
    comps.write_text("student,exam,project,lab_test,lab_other,presentation_deduction,"
                     "bonus_exam,bonus_lab,attempt\n"
                     "ana-popescu,8,9,9,10,2,0.5,0.4,1\n"
                     "stefan-turcanu,4.99,10,10,10,,,,2\n", encoding="utf-8")
    out = tmp_path / "final"
    rc = main(["final", str(course), "--roster", str(roster), "--components", str(comps),
               "--out", str(out)])
    assert rc == 0
    printed = capsys.readouterr().out
    assert "final grades for 3 students: 1 passed, 1 failed, 1 incomplete" in printed
    rows = {r["student"]: r for r in csv.DictReader((out / "final_grades.csv").open())}
    # deduction capped at 1.5 by this course's [final]: project 7.5, ML lab 8.10,
    # lab (8.10 + 10)/2 = 9.05 + 0.4 = 9.45; exam 8.5; final 8.975 -> 8.98 -> 9
    assert rows["ana-popescu"]["lab_final"] == "9.45"
    assert rows["ana-popescu"]["final"] == "8.975" and rows["ana-popescu"]["grade"] == "9"
    assert "presentation deduction 2 capped at 1.5" in rows["ana-popescu"]["steps"]
    assert rows["stefan-turcanu"]["status"] == "failed"
    assert (out / "final_grades.json").is_file()
    from grader.store import Store

    with Store(out / "grading.db") as store:
        stored = {r["student"]: r for r in store.final_grades()}
    assert stored["ana-popescu"]["grade"] == 9 and stored["stefan-turcanu"]["status"] == "failed"
    assert any("capped at 1.5" in step for step in stored["ana-popescu"]["steps"])

    comps.write_text("student,exam,project,lab_test,lab_other\nana-popescu,8,9,x,10\n")
    rc = main(["final", str(course), "--roster", str(roster), "--components", str(comps),
               "--out", str(out)])
    err = capsys.readouterr().err
    assert rc == 1 and err.startswith("error[invalid-file]: components ")
    assert "components.csv:2  lab_test = 'x' is not a number" in err
    assert "Traceback" not in err
