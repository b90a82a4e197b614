"""course.toml's [reproduction] table is checked when the course loads, beside the rest."""

from __future__ import annotations

import pytest

from grader.course import load_course
from grader.errors import CourseError
from grader.ops.reproduction import reproduction_options


def _course(root, table: str):
    (root / "data").mkdir(parents=True)
    (root / "hidden").mkdir()
    (root / "course.toml").write_text('[competition]\nname = "t"\n\n[reproduction]\n' + table)
    (root / "data/train.csv").write_text("id,label,x\na,0,1\nb,1,2\n")
    (root / "data/test.csv").write_text("id,x\nt1,1\nt2,2\n")
    (root / "hidden/test_labels.csv").write_text("id,label\nt1,0\nt2,1\n")
    return root


def test_mistakes_are_reported_with_their_lines_at_load(tmp_path):
    root = _course(tmp_path / "c", 'tolerence = 0.05\nmin_agreement = 1.5\ntolerance = "0.1"\n')
    with pytest.raises(CourseError) as info:
        load_course(root)
    text = info.value.render()
    assert "course.toml:5  [reproduction] tolerence = 0.05" in text
    assert "did you mean 'tolerance'?" in text
    assert "course.toml:6  [reproduction] min_agreement = 1.5" in text
    assert "or false to turn the agreement check off" in text
    assert 'course.toml:7  [reproduction] tolerance = "0.1"' in text


def test_a_good_table_loads_and_false_turns_agreement_off(tmp_path):
    root = _course(tmp_path / "c", "tolerance = 0.5\nmin_agreement = false\n")
    course = load_course(root)
    options, problems = reproduction_options(course.extra["reproduction"])
    assert problems == [] and options == {"tolerance": 0.5, "min_agreement": None}
    assert reproduction_options({"min_agreement": 0.9}) == ({"min_agreement": 0.9}, [])
