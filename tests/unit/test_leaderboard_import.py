"""grader grades: Kaggle leaderboard exports and plain score tables."""

import csv

from grader.cli import main
from tests.unit.test_course_config import make_course


def write(path, rows):
    with path.open("w", newline="") as f:
        csv.writer(f).writerows(rows)
    return path


def read(path):
    with path.open() as f:
        return {r["student"]: r for r in csv.DictReader(f)}


def test_kaggle_export_with_roster(tmp_path, capsys):
    course = make_course(tmp_path / "c", toml='[competition]\nname = "t"\n[grading]\nbaseline = 0.5\n')
    lb = write(tmp_path / "lb.csv", [["TeamId", "TeamName", "SubmissionDate", "Score"],
                                     [1, "Ștefan Țurcanu", "2026-01-10 10:00:00", 0.91],
                                     [2, "ana popescu", "2026-01-10", 0.91],
                                     [3, "Mihai", "2026-01-10", 0.40],
                                     [4, "Unknown Team", "2026-01-10", 0.99]])
    roster = write(tmp_path / "roster.csv", [["student", "name", "email", "kaggle", "group"],
                                             ["s1", "Stefan Turcanu", "s1@x.ro", "Stefan Turcanu", "231"],
                                             ["s2", "Ana Popescu", "s2@x.ro", "Ana Popescu", "231"],
                                             ["s3", "Mihai Ionescu", "s3@x.ro", "Mihai", "232"]])
    assert main(["grades", str(course), "--leaderboard", str(lb), "--roster", str(roster),
                 "--out", str(tmp_path / "out")]) == 0
    grades = read(tmp_path / "out" / "grades.csv")
    assert set(grades) == {"s1", "s2", "s3"}
    assert grades["s1"]["rank"] == grades["s2"]["rank"] == "1"   # a tie shares the place
    assert grades["s3"]["rank"] == "3" and float(grades["s3"]["grade"]) < 5  # below baseline
    out = capsys.readouterr().out
    assert "Unknown Team" in out and "not graded" in out
    assert "diacritics" in out or "insensitive" in out


def test_plain_table(tmp_path):
    course = make_course(tmp_path / "c", toml='[competition]\nname = "t"\n[grading]\nbaseline = 0.1\n')
    lb = write(tmp_path / "s.csv", [["student", "score"], ["a", 0.9], ["b", 0.8], ["a", 0.7]])
    assert main(["grades", str(course), "--leaderboard", str(lb), "--out", str(tmp_path / "o")]) == 0
    g = read(tmp_path / "o" / "grades.csv")
    assert g["a"]["score"] == "0.9" and g["a"]["rank"] == "1" and g["b"]["rank"] == "2"


def test_malformed_leaderboard(tmp_path, capsys):
    course = make_course(tmp_path / "c")
    lb = write(tmp_path / "s.csv", [["who", "what"], ["a", "x"]])
    assert main(["grades", str(course), "--leaderboard", str(lb), "--out", str(tmp_path / "o")]) == 1
    assert "unrecognised header" in capsys.readouterr().err
    lb = write(tmp_path / "s.csv", [["student", "score"], ["a", "high"]])
    assert main(["grades", str(course), "--leaderboard", str(lb), "--out", str(tmp_path / "o")]) == 1
    assert "s.csv:2" in capsys.readouterr().err
