"""``grader grades`` names the baseline in the course's words: on a regression course the
built-in baseline is the training targets' mean, not "the majority class of the training
labels" (roc_auc: a constant prediction). A real course folder and leaderboard, the real CLI."""

from __future__ import annotations

import pytest

from grader.cli import main
from tests.unit.test_scoring import make


@pytest.mark.parametrize("metric,classes,words", [
    ("mse", None, "(mean of the training targets)"),
    ("roc_auc", ("0", "1"), "(constant prediction (random guessing))"),
    ("accuracy", ("cat", "dog"), "(majority class of the training labels)"),
])
def test_grades_names_the_baseline_in_the_courses_words(tmp_path, capsys, metric, classes,
                                                         words):
    course = tmp_path / "course"
    course.mkdir()
    make(course, metric=metric, n=40, classes=classes)
    board = tmp_path / "board.csv"
    board.write_text("student,score\nann,0.9\nbob,0.7\n")
    assert main(["grades", str(course), "--leaderboard", str(board),
                 "--out", str(tmp_path / "out")]) == 0
    said = capsys.readouterr().out
    assert "2 graded from board.csv (plain format); baseline " in said
    assert words in said, said
    if metric != "accuracy":
        assert "majority" not in said
