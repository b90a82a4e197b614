"""A roc_auc course's built-in baseline is one value for every id (AUC 0.5, random guessing):
its pages call it so, not "the majority class of the training labels" (students write
probabilities there, not classes). The real course, scorer, grade stage, similarity engine,
store and ``render_all`` of ``tests.unit.test_reports_wording_task``."""

from __future__ import annotations

from tests.unit.test_reports_wording_task import _batch

WORDS = "constant prediction (random guessing)"


def test_roc_auc_calls_its_baseline_a_constant_prediction(tmp_path):
    student, _ = _batch(tmp_path, "roc_auc")
    for ext in ("html", "md", "txt"):
        assert f"the baseline, the {WORDS}, whose public roc_auc is 0.5000" in \
            " ".join(student[ext].replace("\\_", "_").split()), ext
        assert "majority" not in student[ext], ext
    assert f"{WORDS} (baseline)" in student["txt"]
    assert f"Baseline to beat: <strong>{WORDS}</strong>" in student["index"]
    assert "majority class" not in student["index"]
