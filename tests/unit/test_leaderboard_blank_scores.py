"""grader grades: a blank score cell is "no score" (graded absent), not a malformed file;
text that is not a number is still an error naming the file, the row and the fix."""

from __future__ import annotations

import csv

from grader.cli import main
from grader.store import Store
from tests.unit.test_course_config import make_course

TOML = '[competition]\nname = "t"\n[grading]\nbaseline = 0.5\n'


def write(path, rows):
    with path.open("w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows(rows)
    return path


def grades(out):
    with (out / "grades.csv").open(encoding="utf-8") as f:
        return {r["student"]: r for r in csv.DictReader(f)}


def test_a_blank_kaggle_score_is_no_score_and_the_student_is_absent(tmp_path, capsys):
    course = make_course(tmp_path / "c", toml=TOML)
    lb = write(tmp_path / "lb.csv", [["TeamId", "TeamName", "SubmissionDate", "Score"],
                                     [1, "Ana Pop", "2026-01-10", 0.91],
                                     [2, "Mihai", "", ""],
                                     [3, "Dan", "2026-01-10", 0.70]])
    roster = write(tmp_path / "roster.csv", [["student", "name", "kaggle"],
                                             ["ana", "Ana Popescu", "Ana Pop"],
                                             ["mihai", "Mihai Ionescu", "Mihai"],
                                             ["dan", "Dan Dinu", "Dan"],
                                             ["eva", "Eva Enache", ""]])
    out = tmp_path / "out"
    assert main(["grades", str(course), "--leaderboard", str(lb), "--roster", str(roster),
                 "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "1 participant(s) with a blank score" in printed and "mihai" in printed
    g = grades(out)
    assert (g["ana"]["rank"], g["dan"]["rank"]) == ("1", "2")  # two ranked, not three
    assert g["mihai"]["status"] == "absent" and g["mihai"]["grade"] == ""
    assert g["mihai"]["score"] == "" and g["mihai"]["rank"] == ""
    assert "lb.csv (line 3, 'Mihai') has no score" in g["mihai"]["message"]
    assert g["mihai"]["leaderboard_name"] == "Mihai"
    assert g["eva"]["status"] == "absent" and "no row on the leaderboard" in g["eva"]["message"]
    with Store(out / "grading.db") as store:
        sub = {s["student"]: s for s in store.submissions()}["mihai"]
        assert not sub["accepted"] and "has no score" in sub["reason"]
    assert main(["report", str(out)]) == 0
    assert "has no score" in (out / "reports" / "students" / "mihai.html").read_text()


def test_a_blank_row_beside_a_scored_one_keeps_the_score(tmp_path):
    course = make_course(tmp_path / "c", toml=TOML)
    lb = write(tmp_path / "s.csv", [["student", "score"], ["a", ""], ["a", "0.8"],
                                    ["b", "0.9"]])
    out = tmp_path / "o"
    assert main(["grades", str(course), "--leaderboard", str(lb), "--out", str(out)]) == 0
    g = grades(out)
    assert g["a"]["score"] == "0.8" and g["a"]["status"] == "ok" and g["b"]["rank"] == "1"


def test_a_score_that_is_not_a_number_names_the_file_row_and_fix(tmp_path, capsys):
    course = make_course(tmp_path / "c", toml=TOML)
    lb = write(tmp_path / "lb.csv", [["TeamId", "TeamName", "SubmissionDate", "Score"],
                                     [1, "Ana Pop", "2026-01-10", 0.91],
                                     [2, "Mihai", "2026-01-10", "n/a"],
                                     [3, "Dan", "", ""]])
    out = tmp_path / "out"
    assert main(["grades", str(course), "--leaderboard", str(lb), "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert "lb.csv:3  score 'n/a' of 'Mihai' is not a number" in err
    assert "leave the cell blank" in err and "lb.csv:4" not in err
    assert not out.exists()
