"""course.toml's [final] table is checked when the course loads (``grader run``, ``grader
grades``), with the rest of course.toml's problems, not first at ``grader final``."""

from __future__ import annotations

import pytest

from grader.cli import main
from grader.course import load_course
from grader.errors import CourseError
from grader.ops.final_grades import load_final_rules
from tests.unit.test_course_config import make_course

BAD = ('[competition]\nname = "t"\nmetric = "acuracy"\n\n[final]\nexam_weight = 0.6\n'
       'min_exam = "5"\nbonus = 1\n')


def test_a_bad_final_table_fails_load_course_beside_the_other_problems(tmp_path):
    with pytest.raises(CourseError) as err:
        load_course(make_course(tmp_path, toml=BAD))
    text = err.value.render()
    assert "course.toml has 4 problem(s)" in text, text
    assert 'course.toml:3  [competition] metric = "acuracy"' in text
    assert 'course.toml:7  [final] min_exam = "5"\n    expected a number, e.g. 5' in text
    assert "course.toml:8  [final] bonus = 1\n    unknown key" in text
    assert "course.toml:6  [final] exam_weight + lab_weight = 1.1\n    must add up to 1" in text
    assert "docs/operations.md" in text  # where the [final] keys are described
    # grader final reports the table's own problems once, in the same words
    with pytest.raises(CourseError) as final_err:
        load_final_rules(tmp_path)
    assert len(final_err.value.problems) == 3
    assert all(p in err.value.problems for p in final_err.value.problems)


def test_a_final_that_is_not_a_table_is_named(tmp_path):
    with pytest.raises(CourseError) as err:
        load_course(make_course(tmp_path, toml='final = 3\n[competition]\nname = "t"\n'))
    assert "[final] must be a table" in err.value.render()


def test_a_good_final_table_loads_and_is_passed_through(tmp_path):
    toml = ('[competition]\nname = "t"\n[final]\nexam_weight = 0.6\nlab_weight = 0.4\n'
            'other_labs = []\n')
    course = load_course(make_course(tmp_path, toml=toml))
    assert course.extra["final"] == {"exam_weight": 0.6, "lab_weight": 0.4, "other_labs": []}
    assert load_final_rules(tmp_path).other_labs == ()


def test_grader_run_stops_on_a_bad_final_table_before_any_run(tmp_path, capsys):
    course = make_course(tmp_path / "course",
                         toml='[competition]\nname = "t"\n[final]\ngrade_rounding = "halfup"\n')
    subs = tmp_path / "subs"
    subs.mkdir()
    (subs / "ana.py").write_text("print('never run')\n")
    out = tmp_path / "out"
    code = main(["run", str(course), "--submissions", str(subs), "--out", str(out),
                 "--backend", "none"])
    err = capsys.readouterr().err
    assert code == 1, err
    assert 'course.toml:4  [final] grade_rounding = "halfup"' in err
    assert 'did you mean "half_up"' in err
    assert not out.exists()  # run_batch, which makes --out first, never started
