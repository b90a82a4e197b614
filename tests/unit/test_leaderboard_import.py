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


# --- the Kaggle path loses nothing (issue 14, item 3) ----------------------------------------

KAGGLE = [["TeamId", "TeamName", "SubmissionDate", "Score"],
          [101, "Ana Pop", "2026-01-10", 0.91],
          [104, "mihai", "2026-01-10", 0.80],
          [105, "mihai", "2026-01-11", 0.70]]


def kaggle_case(tmp_path, roster_rows):
    course = make_course(tmp_path / "c", toml='[competition]\nname = "t"\n[grading]\n'
                                              'baseline = 0.5\n')
    lb = write(tmp_path / "lb.csv", KAGGLE)
    roster = write(tmp_path / "roster.csv", [["student", "name", "kaggle"], *roster_rows])
    return course, lb, roster


def test_two_teams_with_one_name_are_an_error_listing_the_team_ids(tmp_path, capsys):
    course, lb, _ = kaggle_case(tmp_path, [])
    out = tmp_path / "out"
    assert main(["grades", str(course), "--leaderboard", str(lb), "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert "lb.csv:3,4" in err and "TeamId 104" in err and "TeamId 105" in err
    assert "never merged" in err and "roster's kaggle column" in err
    assert not out.exists()  # nothing written


def test_a_roster_name_does_not_merge_two_teams_either(tmp_path, capsys):
    course, lb, roster = kaggle_case(tmp_path, [["ana", "Ana Pop", ""],
                                                ["mihai_i", "Mihai Ionescu", "mihai"]])
    out = tmp_path / "out"
    assert main(["grades", str(course), "--leaderboard", str(lb), "--roster", str(roster),
                 "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert "roster student 'mihai_i'" in err and "TeamId 104" in err and "TeamId 105" in err
    assert not out.exists()


def test_team_ids_in_the_roster_resolve_the_collision_and_absent_students_are_listed(
        tmp_path, capsys):
    course, lb, roster = kaggle_case(tmp_path, [["ana", "Ana Pop", ""],
                                                ["mihai_i", "Mihai Ionescu", "104"],
                                                ["mihai_p", "Mihai Popa", "#105"],
                                                ["dan", "Dan Dinu", ""]])
    out = tmp_path / "out"
    assert main(["grades", str(course), "--leaderboard", str(lb), "--roster", str(roster),
                 "--out", str(out)]) == 0
    assert "absent from the leaderboard: dan" in capsys.readouterr().out
    g = read(out / "grades.csv")
    assert (g["mihai_i"]["score"], g["mihai_p"]["score"]) == ("0.8", "0.7")
    assert g["dan"]["status"] == "absent" and g["dan"]["grade"] == "" and g["dan"]["rank"] == ""
    assert "no row on the leaderboard lb.csv" in g["dan"]["message"]
    assert g["dan"]["leaderboard_name"] == "" and g["mihai_p"]["leaderboard_name"] == "mihai"


def test_report_on_a_grades_only_output_is_complete(tmp_path, capsys):
    course, lb, roster = kaggle_case(tmp_path, [["ana", "Ana Pop", ""],
                                                ["mihai_i", "Mihai Ionescu", "104"],
                                                ["mihai_p", "Mihai Popa", "105"],
                                                ["dan", "Dan Dinu", ""]])
    out = tmp_path / "out"
    assert main(["grades", str(course), "--leaderboard", str(lb), "--roster", str(roster),
                 "--out", str(out)]) == 0
    assert main(["report", str(out)]) == 0
    assert "4 student pages" in capsys.readouterr().out
    pages = out / "reports" / "students"
    assert sorted(p.stem for p in pages.glob("*.html")) == ["ana", "dan", "mihai_i", "mihai_p"]
    assert "absent" in (pages / "dan.html").read_text()
    assert "tell the instructor your Kaggle team name" in (pages / "dan.html").read_text()
    # a graded student's page explains the grade with the band table, as after a run
    ana = (pages / "ana.html").read_text()
    assert 'id="band-table"' in ana and "3 ranked students" in ana
    with (out / "exports" / "moodle.csv").open() as f:
        moodle = {r["Username"]: r for r in csv.DictReader(f)}
    assert set(moodle) == {"ana", "dan", "mihai_i", "mihai_p"}
    assert moodle["ana"]["t project"] == "10.00" and moodle["dan"]["t project"] == ""
    assert moodle["dan"]["Feedback"].startswith("absent:")
    index = (out / "reports" / "index.html").read_text()
    assert "Every submission ran and produced a valid output." not in index
    assert "dan" in index


def test_unknown_adjustment_id_on_the_kaggle_path(tmp_path, capsys):
    course, lb, roster = kaggle_case(tmp_path, [["ana", "Ana Pop", ""],
                                                ["mihai_i", "Mihai Ionescu", "104"],
                                                ["mihai_p", "Mihai Popa", "105"]])
    adj = tmp_path / "adjustments.csv"
    adj.write_text("student,points,note\nmihai_pp,1,late\n")
    out = tmp_path / "out"
    assert main(["grades", str(course), "--leaderboard", str(lb), "--roster", str(roster),
                 "--adjustments", str(adj), "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert "adjustments.csv:2  student 'mihai_pp' is not in the roster or on the leaderboard" in err
    assert "did you mean 'mihai_p'?" in err and not out.exists()


def test_grades_refuses_the_folder_of_a_run_batch_and_keeps_its_decisions(tmp_path, capsys):
    """--out naming a 'grader run' batch replaced its scores and grades with the leaderboard's,
    and the TAs' confirmed finding vanished from grades.csv."""
    from grader.decisions import decide, refresh_grades_csv
    from grader.store import Store
    from tests.synthetic_batch import make_batch

    out = tmp_path / "batch"
    names = make_batch(out, students=8, pairs=4)
    a, b = names["pair"]
    with Store(out / "grading.db") as store:
        decide(store, a, b, "peer", state="confirmed", note="same code", reviewer="ta1",
               expected_version=0)
        refresh_grades_csv(out, store)
        before = store.grades()
    csv_before = (out / "grades.csv").read_bytes()
    assert "confirmed" in read(out / "grades.csv")[a]["integrity"]
    course = make_course(tmp_path / "c", toml='[competition]\nname = "t"\n[grading]\nbaseline = 0.1\n')
    lb = write(tmp_path / "s.csv", [["student", "score"], [a, 0.9], [b, 0.8]])
    assert main(["grades", str(course), "--leaderboard", str(lb), "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert "holds the batch graded by 'grader run'" in err and "a folder of its own" in err
    assert (out / "grades.csv").read_bytes() == csv_before
    with Store(out / "grading.db") as store:
        assert store.grades() == before
    # a grades-only folder is graded again as before
    assert main(["grades", str(course), "--leaderboard", str(lb), "--out", str(tmp_path / "g")]) == 0
    assert main(["grades", str(course), "--leaderboard", str(lb), "--out", str(tmp_path / "g")]) == 0


def test_without_a_roster_team_names_become_ids_as_ids_are_written(tmp_path, capsys):
    course = make_course(tmp_path / "c", toml='[competition]\nname = "t"\n[grading]\nbaseline = 0.1\n')
    lb = write(tmp_path / "lb.csv", [["TeamId", "TeamName", "SubmissionDate", "Score"],
                                     [1, " Ana  L ", "2026-01-10 10:00:00", 0.91],
                                     [2, "bob", "2026-01-10", 0.80]])
    assert main(["grades", str(course), "--leaderboard", str(lb),
                 "--out", str(tmp_path / "o")]) == 0
    assert set(read(tmp_path / "o" / "grades.csv")) == {"Ana_L", "bob"}  # as grader run names
    assert "→ Ana_L (white space as _)" in capsys.readouterr().out
