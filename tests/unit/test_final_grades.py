"""Final grades by the slides' rules, at every rule's boundary, and the files they come from."""

from __future__ import annotations

import csv
import json
from decimal import Decimal as D

import pytest

from grader.errors import CourseError, InputFileError
from grader.ops.final_grades import (
    Components,
    FinalRules,
    compute_final,
    final_grades,
    load_components,
    load_final_rules,
    load_project_grades,
    load_run_status,
    write_final_grades,
)
from grader.ops.roster import load_roster

RULES = FinalRules()


def grade(exam="7", project="8", lab_test="8", lab_other="8", deduction="0", bonus_exam="0",
          bonus_lab="0", attempt=1, rules=RULES):
    return compute_final(Components(
        "s", exam=D(exam), project=D(project), lab_test=D(lab_test),
        other_labs=(D(lab_other),) if rules.other_labs else (),
        presentation_deduction=D(deduction), bonus_exam=D(bonus_exam), bonus_lab=D(bonus_lab),
        attempt=attempt), rules)


def test_the_slides_rules_step_by_step():
    r = grade(exam="6", project="9", lab_test="7", lab_other="8", deduction="0.5",
              bonus_exam="0.3", bonus_lab="0.2")
    # project 9 - 0.5 = 8.5; ML lab = (0.3*8.5 + 0.2*7)/0.5 = 7.9; lab = (7.9+8)/2 = 7.95
    # lab + 0.2 = 8.15; exam + 0.3 = 6.3; final = 0.5*6.3 + 0.5*8.15 = 7.225 -> 7 (rounded once)
    assert (r.ml_lab, r.lab, r.exam, r.final, r.grade) == (D("7.90"), D("8.15"), D("6.3"),
                                                           D("7.225"), D("7"))
    assert r.status == "passed"
    assert r.steps == [
        "project 9 - presentation deduction 0.5 = 8.50",
        "ML lab = (0.3 x project 8.50 + 0.2 x lab test 7) / 0.5 = 7.90",
        "lab = mean(ML lab 7.90, lab_other 8) = 7.95",
        "exam 6 + bonus 0.3 = 6.30",
        "lab 7.95 + bonus 0.2 = 8.15",
        "minimum after bonus: exam 6.30 >= 5, lab 8.15 >= 5",
        "final = 0.5 x exam 6.30 + 0.5 x lab 8.15 = 7.225",
        "passed: grade 7",
    ]


@pytest.mark.parametrize("exam,status", [("4.99", "failed"), ("5.00", "passed"),
                                         ("5", "passed")])
def test_exam_minimum_boundary(exam, status):
    r = grade(exam=exam, project="10", lab_test="10", lab_other="10")
    assert r.status == status
    if status == "failed":
        assert r.reason == "exam 4.99 < 5" and r.grade == D("4")  # final 7.495 capped at 4
        assert r.final == D("7.495")


@pytest.mark.parametrize("ml,other,status", [("4.98", "5.00", "failed"),  # lab 4.99
                                             ("5.00", "5.00", "passed"),  # lab 5.00
                                             ("4.99", "5.00", "passed")])  # 4.995 -> 5.00
def test_lab_minimum_boundary(ml, other, status):
    r = grade(exam="10", project=ml, lab_test=ml, lab_other=other)
    assert r.status == status
    if status == "failed":
        assert r.lab == D("4.99") and r.reason == "lab 4.99 < 5"


def test_final_is_rounded_once_to_the_grade():
    # ML lab 0.6 x 6 + 0.4 x 5.95 = 5.98, lab mean(5.98, 6) = 5.99, final 0.5 x 7 + 0.5 x 5.99
    # = 6.495: grade 6. Rounding the final to 6.50 first made it a 7.
    r = grade(exam="7", project="6", lab_test="5.95", lab_other="6")
    assert (r.ml_lab, r.lab) == (D("5.98"), D("5.99"))
    assert r.final == D("6.495") and str(r.final) == "6.495" and r.grade == D("6")
    assert "final = 0.5 x exam 7 + 0.5 x lab 5.99 = 6.495" in r.steps
    # a final with no more places than the register keeps shows them all: 7.00, not 7
    whole = grade(exam="7", project="7", lab_test="7", lab_other="7")
    assert str(whole.final) == "7.00" and whole.grade == D("7")
    # "none": the final, with the register's places, is the grade
    kept = grade(exam="7", project="6", lab_test="5.95", lab_other="6",
                 rules=FinalRules(grade_rounding="none"))
    assert kept.final == D("6.495") and kept.grade == D("6.50")


def test_bonus_caps_and_first_attempt_only():
    assert grade(exam="6", bonus_exam="1.00").exam == D("7.00")
    capped = grade(exam="6", bonus_exam="1.2")
    assert capped.exam == D("7.00")
    assert "exam bonus 1.2 capped at 1" in capped.steps
    assert grade(exam="9.5", bonus_exam="1").exam == D("10.00")  # never above 10
    lab = grade(project="8", lab_test="8", lab_other="8", bonus_lab="1.4")
    assert lab.lab == D("9.00") and "lab bonus 1.4 capped at 1" in lab.steps
    retake = grade(exam="6", bonus_exam="1", bonus_lab="1", attempt=2)
    assert retake.exam == D("6") and retake.lab == D("8.00")
    assert any("attempt 2" in s for s in retake.steps)


def test_bonus_can_lift_to_the_minimum_unless_configured_otherwise():
    assert grade(exam="4.5", bonus_exam="0.5").status == "passed"
    strict = FinalRules(threshold_after_bonus=False)
    r = grade(exam="4.5", bonus_exam="0.5", rules=strict)
    assert r.status == "failed" and r.reason == "exam 4.5 < 5"


def test_presentation_deduction_cap_and_floor():
    assert grade(project="8", deduction="2.00").ml_lab == D("6.80")  # (0.3*6 + 0.2*8)/0.5
    capped = grade(project="8", deduction="2.5")
    assert capped.ml_lab == D("6.80")
    assert "presentation deduction 2.5 capped at 2" in capped.steps
    assert grade(project="1", lab_test="10", deduction="2").ml_lab == D("4.00")  # floor at 0


def test_final_rounding_half_up_and_missing_components():
    assert grade(exam="6", project="7", lab_test="7", lab_other="7").grade == D("7")  # 6.50
    assert grade(exam="5.98", project="7", lab_test="7", lab_other="7").grade == D("6")
    two = grade(exam="5.98", project="7", lab_test="7", lab_other="7",
                rules=FinalRules(grade_rounding="none"))
    assert two.grade == D("6.49")
    r = compute_final(Components("s", exam=D(9), project=None, lab_test=D(9),
                                 other_labs=(None,)))
    assert r.status == "incomplete" and r.reason == "missing: project, lab_other"


def test_rules_from_course_toml(tmp_path):
    (tmp_path / "course.toml").write_text(
        '[competition]\nname = "x"\n\n[final]\nproject_weight = 0.6\nlab_test_weight = 0.4\n'
        'other_labs = []\nmin_lab = 4.5\n', encoding="utf-8")
    rules = load_final_rules(tmp_path)
    assert rules.other_labs == () and rules.min_lab == D("4.5")
    r = grade(exam="5", project="5", lab_test="3.5", rules=rules)  # ML lab = lab = 4.40
    assert r.lab == D("4.40") and r.status == "failed"
    assert grade(exam="5", project="5", lab_test="4", rules=rules).status == "passed"  # 4.60


def test_bad_final_table_lists_every_problem(tmp_path):
    (tmp_path / "course.toml").write_text(
        '[competition]\nname = "x"\n[final]\nexam_wieght = 0.4\nmin_exam = "5"\n'
        'bonus_first_attempt_only = 1\ngrade_rounding = "down"\n', encoding="utf-8")
    with pytest.raises(CourseError) as err:
        load_final_rules(tmp_path)
    p = err.value.problems
    assert len(p) == 4
    assert p[0].startswith("course.toml:4  [final] exam_wieght = 0.4\n    unknown key (did you "
                           "mean 'exam_weight'?)")
    assert p[1].startswith("course.toml:5") and "expected a number" in p[1]
    (tmp_path / "course.toml").write_text("[final]\nexam_weight = 0.6\n")
    with pytest.raises(CourseError, match="problem") as err:
        load_final_rules(tmp_path)
    assert "must add up to 1" in err.value.problems[0]
    (tmp_path / "course.toml").write_text('[competition]\nname = "x"\n')
    assert load_final_rules(tmp_path) == FinalRules()  # no [final]: the slides' defaults


@pytest.fixture
def roster(tmp_path):
    p = tmp_path / "roster.csv"
    p.write_text("student,name,email,group\nana,Ana Popescu,ana@x.ro,231\n"
                 "stefan,Ștefan Țurcanu,st@x.ro,231\nioana,Ioana Mărgărit,io@x.ro,232\n",
                 encoding="utf-8")
    return load_roster(p)


def test_components_file_semicolons_decimal_commas_and_exports(tmp_path, roster):
    p = tmp_path / "components.csv"
    p.write_text("Student;Examen;Proiect;Test laborator;Lab other;Depunctare;Bonus exam;"
                 "Bonus lab;Attempt\n"
                 "ana;4,99;10;10;10;;;;1\n"
                 "stefan;7,5;9;8;9;0,5;1,2;0,4;\n", encoding="utf-8")
    comps = load_components(p, RULES, roster)
    assert comps[0].exam == D("4.99") and comps[1].bonus_exam == D("1.2")
    results = final_grades(comps, RULES, roster)
    assert [(r.student, r.status) for r in results] == [
        ("ana", "failed"), ("stefan", "passed"), ("ioana", "incomplete")]
    csv_path, json_path = write_final_grades(results, tmp_path / "out", RULES, roster)
    rows = list(csv.DictReader(csv_path.open(encoding="utf-8")))
    assert rows[1]["name"] == "Ștefan Țurcanu" and rows[1]["grade"] == "9"
    assert "exam bonus 1.2 capped at 1" in rows[1]["steps"]
    assert rows[2]["reason"] == "no row in components.csv"
    data = json.loads(json_path.read_text(encoding="utf-8"))
    assert data["rules"]["max_bonus_exam"] == "1" and data["rules"]["other_labs"] == ["lab_other"]
    assert data["students"][0]["steps"][-1] == "failed (exam 4.99 < 5): grade 4"


def test_malformed_components_listed_with_lines(tmp_path, roster):
    p = tmp_path / "components.csv"
    p.write_text("student,exam,project,lab_test,lab_other,attempt\n"
                 "ana,11,9,9,9,1\n"
                 "stefn,7,9,9,9,1\n"
                 "ioana,seven,9,9,9,first\n"
                 "ana,7,9,9,9,1\n", encoding="utf-8")
    with pytest.raises(InputFileError) as err:
        load_components(p, RULES, roster)
    text = "\n".join(err.value.problems)
    assert "components.csv:2  exam = 11 is out of range (0 to 10" in text
    assert "components.csv:3  student 'stefn' is not in the roster (did you mean 'stefan'?)" \
        in text
    assert "components.csv:4  exam = 'seven' is not a number" in text
    assert "components.csv:4  attempt = 'first'" in text
    assert "components.csv:5  student 'ana' again (first on line 2)" in text
    p.write_text("student,exam,project\nana,7,9\n", encoding="utf-8")
    with pytest.raises(InputFileError) as err:
        load_components(p, RULES, roster)
    assert any("no 'lab_test' column" in x for x in err.value.problems)


def test_a_decimal_comma_in_a_comma_separated_file_is_an_error_not_a_shifted_row(tmp_path,
                                                                                 roster):
    # "7,5" unquoted in a comma-separated file: exam 7, and every later cell one column off
    # (the last one dropped); the final grade came out a point lower without a word
    p = tmp_path / "components.csv"
    p.write_text("student,exam,project,lab_test,lab_other\nana,7,5,8,9,10\n", encoding="utf-8")
    with pytest.raises(InputFileError) as err:
        load_components(p, RULES, roster)
    text = err.value.render()
    assert "components.csv:2  6 cells, the header has 5" in text and "decimal comma" in text


def test_a_points_column_no_component_reads_is_named(tmp_path, roster):
    p = tmp_path / "components.csv"
    p.write_text("Nr. matricol;Nume;Examen;Test laborator;Lab other;Bonus examen;Puncte extra "
                 "seminar;Nota finala\nana;Ana;6;8;9;1;0,5;7\n", encoding="utf-8")
    with pytest.raises(InputFileError) as err:
        load_components(p, RULES, roster, project_grades={"ana": (8.0, 0.0)})
    problems = err.value.problems
    # 'Bonus examen' is now read (an accepted name); 'Puncte extra seminar' is read by nothing
    assert len(problems) == 1 and "'Puncte extra seminar' is not a component" in problems[0]
    p.write_text("Nr. matricol;Nume;Examen;Test laborator;Lab other;Bonus examen;Nota finala\n"
                 "ana;Ana;6;8;9;1;7\n", encoding="utf-8")
    comps = load_components(p, RULES, roster, project_grades={"ana": (8.0, 0.0)})
    assert comps[0].bonus_exam == D("1")


def test_project_grade_from_the_batch_grades_csv(tmp_path, roster):
    grades = tmp_path / "grades.csv"
    grades.write_text("student,status,score,rank,grade,band,base_grade,deduction\n"
                      "ana,ok,0.91,3,9,1-30,10,1\n"
                      "stefan,ok,0.80,40,8,31-50,8,\n"
                      "ioana,rejected,,,,,,\n", encoding="utf-8")
    comps = tmp_path / "components.csv"
    comps.write_text("student,exam,lab_test,lab_other\nana,7,8,9\nstefan,6,7,8\n"
                     "ioana,9,9,9\n", encoding="utf-8")
    rows = load_components(comps, RULES, roster, load_project_grades(grades))
    results = {r.student: r for r in final_grades(rows, RULES, roster)}
    assert results["ana"].steps[0] == "project 9 from grades.csv (its deduction 1 already applied)"
    assert results["ana"].ml_lab == D("8.60")  # 0.6*9 + 0.4*8
    assert results["stefan"].steps[0] == "project 8 from grades.csv"
    assert results["ioana"].status == "incomplete" and "project" in results["ioana"].reason
    # with the batch's statuses, the reason is the run's, not "not given yet"
    rows = load_components(comps, RULES, roster, load_project_grades(grades), None,
                           load_run_status(grades))
    ioana = {r.student: r for r in final_grades(rows, RULES, roster)}["ioana"]
    assert ioana.reason == "missing: project (no grade in grades.csv: its run is " \
                           "rejected)"
    assert ioana.steps == [f"cannot compute: {ioana.reason}"]
    assert load_run_status(grades) == {"ioana": "rejected"}
    comps.write_text("student,exam,lab_test,lab_other,presentation_deduction\nana,7,8,9,0.5\n",
                     encoding="utf-8")
    with pytest.raises(InputFileError, match="problem") as err:
        load_components(comps, RULES, roster, load_project_grades(grades))
    assert "components.csv:2  presentation deduction given here and in grades.csv" in \
        err.value.problems[0]
    with pytest.raises(InputFileError) as err:
        load_components(comps, RULES, roster)  # without grades.csv, 'project' is required
    assert any("no 'project' column" in x for x in err.value.problems)


def test_project_grades_naming_no_roster_student_are_an_error_not_dropped(tmp_path, roster):
    """A grades.csv row for a folder renamed away from the roster id (or a student twice)
    used to be skipped: the student's project grade was lost and they showed 'incomplete'."""
    grades = tmp_path / "grades.csv"
    grades.write_text("student,status,score,rank,grade\n"
                      "ana_,ok,0.91,1,10\n"
                      "stefan,ok,0.80,2,8\n"
                      "stefan,ok,0.70,3,7\n", encoding="utf-8")
    with pytest.raises(InputFileError) as err:
        load_project_grades(grades, roster)
    assert err.value.problems == [
        f"{grades}:2  student 'ana_' is not in the roster, so this grade (10) would "
        "reach no final grade (did you mean 'ana'?)",
        f"{grades}:4  student 'stefan' again (first on line 3)"]
    grades.write_text("student,grade\nana,10\nstefan,8\n", encoding="utf-8")
    assert load_project_grades(grades, roster) == {"ana": (D(10), D(0)), "stefan": (D(8), D(0))}


def test_ids_a_spreadsheet_stripped_of_leading_zeros_are_matched_in_the_hint(tmp_path):
    # roster ids 007, 012 and 123; Excel wrote 7 and 12: the hint said '123' for '12'
    (tmp_path / "roster.csv").write_text("student,name\n007,Ana\n012,Bob\n123,Cri\n")
    roster = load_roster(tmp_path / "roster.csv")
    p = tmp_path / "components.csv"
    p.write_text("student,exam,project,lab_test,lab_other\n7,7,8,8,8\n12,7,8,8,8\n")
    with pytest.raises(InputFileError) as err:
        load_components(p, RULES, roster)
    text = "\n".join(err.value.problems)
    assert "components.csv:3  student '12' is not in the roster (did you mean '012'? a " \
           "spreadsheet drops leading zeros: format the column as text)" in text
    assert "student '7' is not in the roster (did you mean '007'?" in text


def test_an_id_with_legacy_cedilla_letters_is_told_what_differs(tmp_path):
    # a cp1250 table cannot hold ș/ț: 'ştefan' looked the same as the suggested 'ștefan'
    (tmp_path / "roster.csv").write_text("student,name\nștefan_țurcanu,Ștefan\n",
                                         encoding="utf-8")
    roster = load_roster(tmp_path / "roster.csv")
    p = tmp_path / "components.csv"
    p.write_text("student,exam,project,lab_test,lab_other\nştefan_ţurcanu,7,8,8,8\n",
                 encoding="utf-8")
    with pytest.raises(InputFileError) as err:
        load_components(p, RULES, roster)
    assert ("(did you mean 'ștefan_țurcanu'? it has ș/ț with a comma below where this has "
            "ş/ţ with a cedilla") in "\n".join(err.value.problems)
