"""The course's grading rules: the band table, scaling, ties, the baseline gate, deductions."""

import json

import pandas as pd
import pytest

from grader.course import GradingConfig
from grader.grading import band_for, competition_ranks, grade_scores, scaled_bands
from tests.conftest import WORKED_EXAMPLES

EXAMPLES = json.loads(WORKED_EXAMPLES.read_text())


def course_table():
    """The slides' table as (first, last, grade), from the worked examples."""
    return [(b["places"][0], b["places"][1], b["max_grade"])
            for b in EXAMPLES["grading_rules"]["rank_bands_max_grade"]]


@pytest.mark.parametrize("n", [150, 170])
def test_course_table_is_reproduced(n):
    bands = scaled_bands(GradingConfig(), n)
    assert [(b.first, b.last, b.grade) for b in bands] == course_table()
    for first, last, grade in course_table():
        assert band_for(first, bands).grade == grade
        if last is not None:
            assert band_for(last, bands).grade == grade
    assert band_for(n, bands).grade == (5 if n > 150 else 6)


@pytest.mark.parametrize("n", [40, 400])
def test_bands_scale_with_class_size(n):
    bands = scaled_bands(GradingConfig(), n)
    grades = [band_for(place, bands).grade for place in range(1, n + 1)]
    assert grades == sorted(grades, reverse=True)          # never better for a worse place
    assert grades[0] == 10 and set(grades) >= {10, 9, 8, 7, 6}
    # each band keeps roughly its share of the class: 30/150 = 20 % get a 10
    share_10 = grades.count(10) / n
    assert abs(share_10 - 0.2) < 0.03
    if n == 400:
        assert 5 not in grades  # nobody falls off a table meant for 150 when the class is larger
        assert [b.last for b in bands] == [80, 134, 240, 320, 400, None]
    else:
        assert [b.last for b in bands] == [8, 14, 24, 32, 40, None]


def test_ties_share_the_best_place():
    s = pd.Series({"a": 0.9, "b": 0.8, "c": 0.8, "d": 0.7})
    assert competition_ranks(s, True).to_dict() == {"a": 1, "b": 2, "c": 2, "d": 4}
    # lower is better (mse): the smallest error ranks first
    assert competition_ranks(s, False).to_dict() == {"a": 4, "b": 2, "c": 2, "d": 1}


def test_scores_equal_as_shown_share_a_place_and_do_not_beat_an_equal_baseline():
    # one LinearRegression, predictions written with full precision and with 4 decimals: mae
    # 51.627103 and 51.627121 are both shown as 51.6271 and share the place (and the grade)
    s = pd.Series({"alice": 51.627103, "bob": 51.627121, "carol": 51.6281, "dan": 60.0})
    assert competition_ranks(s, False).to_dict() == {"alice": 1, "bob": 1, "carol": 3, "dan": 4}
    rows = {r.student: r for r in grade_scores(s, GradingConfig(), greater_is_better=False,
                                               baseline=None)}
    assert rows["alice"].grade == rows["bob"].grade and rows["alice"].rank == rows["bob"].rank
    # a difference the tables show still separates (accuracy 1 id in 10,000 apart)
    acc = pd.Series({"x": 0.9123, "y": 0.9124})
    assert competition_ranks(acc, True).to_dict() == {"x": 2, "y": 1}
    # a constant predictor equal to the mean baseline but for float noise does not beat it
    rows = {r.student: r for r in grade_scores(pd.Series({"const": 5929.0000001}),
                                               GradingConfig(), greater_is_better=False,
                                               baseline=5929.00000003)}
    assert not rows["const"].above_baseline and rows["const"].grade == 4


def test_baseline_gate_caps_grade_below_5():
    cfg = GradingConfig(below_baseline_grade=4.0)
    rows = {r.student: r for r in grade_scores(pd.Series({"good": 0.9, "tie": 0.5, "bad": 0.3}),
                                               cfg, greater_is_better=True, baseline=0.5)}
    assert rows["good"].grade == 10 and rows["good"].above_baseline
    # equal to the baseline is not beating it
    assert rows["tie"].grade == 4 and not rows["tie"].above_baseline
    assert rows["bad"].grade == 4 and "baseline" in rows["bad"].note


def test_deductions_are_bounded_and_recorded():
    cfg = GradingConfig(max_deduction=2.0)
    rows = {r.student: r for r in grade_scores(
        pd.Series({"a": 0.9, "b": 0.8}), cfg, greater_is_better=True, baseline=0.1,
        deductions={"a": (3.5, "no documentation"), "b": (0.5, "late")})}
    assert rows["a"].base_grade == 10
    assert rows["a"].deduction == 2.0 and rows["a"].grade == 8.0
    assert "no documentation" in rows["a"].note
    assert rows["b"].grade == rows["b"].base_grade - 0.5


def test_accuracy_scaled_is_linear_and_clipped():
    cfg = GradingConfig(policy="accuracy_scaled", optimum=0.9)
    rows = {r.student: r.grade for r in grade_scores(
        pd.Series({"opt": 0.95, "mid": 0.7, "base": 0.5, "low": 0.2}), cfg,
        greater_is_better=True, baseline=0.5, optimum=0.9)}
    assert rows["opt"] == 10          # beyond the optimum: clipped
    assert rows["mid"] == pytest.approx(7.5)  # halfway between baseline (5) and optimum (10)
    assert rows["base"] == 4 and rows["low"] == 4  # not above the baseline


def test_grades_round_halves_up_as_grader_final_does():
    # 0.59 and 0.51 are 6.125 and 5.125 on the baseline-to-optimum line, 7.5 - 0.375 is
    # 7.125: Python's round() wrote 6.12, 5.12 and 7.12 (half to even, and 0.59 - 0.5 is
    # 0.08999999999999997), where grader final writes 7.13 for the same deduction
    cfg = GradingConfig(policy="accuracy_scaled", optimum=0.9)
    rows = {r.student: r.grade for r in grade_scores(
        pd.Series({"ena": 0.59, "ana": 0.51, "bob": 0.7}), cfg, greater_is_better=True,
        baseline=0.5, optimum=0.9, deductions={"bob": (0.375, "slides")})}
    assert rows == {"ena": 6.13, "ana": 5.13, "bob": 7.13}


def test_custom_bands_from_config():
    cfg = GradingConfig(bands=((1, 10.0), (3, 7.0)), scale_bands_to=0)
    rows = grade_scores(pd.Series({"a": 4, "b": 3, "c": 2, "d": 1}), cfg, greater_is_better=True,
                        baseline=None)
    assert [r.grade for r in rows] == [10, 10, 7, 7]


def test_adjustments_file(tmp_path):
    from grader.errors import InputFileError
    from grader.grading import load_adjustments

    good = tmp_path / "adjustments.csv"
    good.write_text("student,points,note\nana,1.5,slides missing\nbob,0,\n")
    assert load_adjustments(good, 2.0) == {"ana": (1.5, "slides missing"), "bob": (0.0, "")}
    bad = tmp_path / "bad.csv"
    bad.write_text("student,points,note\nana,three,x\nbob,2.5,\nana,1,\n")
    with pytest.raises(InputFileError) as info:
        load_adjustments(bad, 2.0)
    text = info.value.render()
    assert "bad.csv:2" in text and "not a number" in text
    assert "bad.csv:3" in text and "outside 0..2" in text
    missing = tmp_path / "cols.csv"
    missing.write_text("who,how_much\nana,1\n")
    with pytest.raises(InputFileError, match="student,points"):
        load_adjustments(missing, 2.0)


def test_reference_tables_put_the_best_model_first_in_the_metric_direction(tmp_path):
    """reference.csv and the printed table: the highest accuracy first, but the lowest mse
    first; models without a score last."""
    import csv

    from grader.batch.reference import write_reference_csv
    from grader.grading import best_first

    rows = [dict(model=m, params={}, public_score=s, private_score=s, validation_score=None,
                 fit_s=None, predict_s=None, status="ok" if s is not None else "failed",
                 is_baseline=False, message="", trained_at=None)
            for m, s in (("ridge", 4.0), ("knn", 9.5), ("broken", None), ("forest", 1.25))]
    assert [r["model"] for r in best_first(rows, True)] == ["knn", "ridge", "forest", "broken"]
    assert [r["model"] for r in best_first(rows, False)] == ["forest", "ridge", "knn", "broken"]
    write_reference_csv(tmp_path / "reference.csv", rows, greater_is_better=False)
    with (tmp_path / "reference.csv").open() as f:
        assert [r["model"] for r in csv.DictReader(f)] == ["forest", "ridge", "knn", "broken"]


def test_reference_csv_writes_an_error_courses_validation_as_the_positive_error(tmp_path):
    # the model search maximises the negated error; the pages and the log show the error, and
    # reference.csv now does too (it said -12.5 beside private mse 11.0)
    import csv

    from grader.batch.reference import write_reference_csv

    row = dict(model="ridge", params={}, public_score=10.0, private_score=11.0,
               validation_score=-12.5, fit_s=0.1, predict_s=0.01, status="ok",
               is_baseline=False, message="", trained_at=None)
    for metric, shown in (("mse", "12.5"), ("mae", "12.5"), ("accuracy", "-12.5"), (None, "-12.5")):
        write_reference_csv(tmp_path / "r.csv", [row], greater_is_better=False, metric=metric)
        with (tmp_path / "r.csv").open() as f:
            assert next(csv.DictReader(f))["validation_score"] == shown, metric


def test_the_baseline_in_a_note_has_the_digits_scores_are_compared_with():
    # mse 4850.96 against a baseline of 4850.961: equal as shown, so not beating it; the note
    # must not say "(4851)", which reads as beaten
    rows = grade_scores(pd.Series({"ana": 4850.96}), GradingConfig(), greater_is_better=False,
                        baseline=4850.961)
    assert not rows[0].above_baseline
    assert rows[0].note.startswith("does not beat the baseline (4850.96)")
