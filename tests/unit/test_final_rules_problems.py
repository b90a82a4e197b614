"""course.toml's [final] table: every problem in one error, the weights' sums included."""

from __future__ import annotations

import pytest

from grader.errors import CourseError
from grader.ops.final_grades import load_final_rules


def _final(tmp_path, body: str):
    (tmp_path / "course.toml").write_text(f'[competition]\nname = "x"\n\n[final]\n{body}',
                                          encoding="utf-8")
    with pytest.raises(CourseError) as err:
        load_final_rules(tmp_path)
    return err.value


def test_weights_that_do_not_add_up_are_reported_with_the_other_problems(tmp_path):
    err = _final(tmp_path, 'exam_weight = 0.6\nlab_weight = 0.6\nmin_exam = "5"\n'
                           'grade_rounding = "down"\n')
    text = "\n".join(err.problems)
    assert len(err.problems) == 3, text
    assert "course.toml:5  [final] exam_weight + lab_weight = 1.2\n    must add up to 1" in text
    assert 'course.toml:7  [final] min_exam = "5"\n    expected a number' in text
    assert 'course.toml:8  [final] grade_rounding = "down"' in text
    assert "has 3 problem(s)" in err.render()


def test_both_sums_are_checked_beside_an_unknown_key(tmp_path):
    err = _final(tmp_path, "exam_weight = 0.3\nproject_weight = 0\nlab_test_weight = 0\n"
                           "bonus = 1\n")
    text = "\n".join(err.problems)
    assert "[final] bonus = 1\n    unknown key" in text
    assert "exam_weight + lab_weight = 0.8\n    must add up to 1" in text  # lab_weight's default
    assert "project_weight + lab_test_weight = 0\n    must be positive" in text


def test_a_sum_with_a_bad_term_is_not_checked_twice(tmp_path):
    err = _final(tmp_path, 'exam_weight = "half"\n')
    assert len(err.problems) == 1 and "expected a number" in err.problems[0]
