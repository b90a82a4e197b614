"""On an error metric (mse, mae) lower is better: the baseline rule, the grade's note and the
student's page say "does not beat the baseline", never "below" or "not above" it (a worse
mse is above the baseline's). A real mse course folder, its real ``Scorer`` and default
baseline (the training targets' mean), the real grade stage (``grade_batch``), a real SQLite
store and ``render_all``."""

from __future__ import annotations

import numpy as np

from grader.course import load_course
from grader.scoring import Scorer
from grader.store import Store
from reports._explain import explain_grade
from tests.graded_course import grade_outputs
from tests.unit.test_reports_explain import _batch as _class_batch
from tests.unit.test_scoring import csv_bytes, make

N_IDS = 200


def _course(tmp_path, metric: str = "mse", baseline: str = "", release_private: bool = False):
    """A class of 6 on a real ``metric`` course: s1-s5 near the truth, ``far`` worse than the
    mean baseline; graded by ``grade_batch`` and rendered. Returns the pages and the store."""
    course_dir = tmp_path / "course"
    course_dir.mkdir()
    scorer, labels = make(course_dir, metric=metric, n=N_IDS, classes=None)
    extra = (f"[grading]\nbaseline = {baseline}\n" if baseline else "") + (
        "[reports]\nrelease_private = true\n" if release_private else "")
    if extra:  # [grading] baseline = a number, [reports] release_private
        with (course_dir / "course.toml").open("a") as f:
            f.write(extra)
        scorer = Scorer(load_course(course_dir))
    ids = [f"t{i}" for i in range(N_IDS)]
    y = np.array([float(v) for v in labels])
    rng = np.random.default_rng(1)
    preds = {f"s{i}": y + rng.normal(0, 0.1 * i, y.size) for i in range(1, 6)}
    preds["far"] = y + 5.0  # every value 5 off: far worse than predicting the mean
    out = tmp_path / "out"
    grades, _, _ = grade_outputs(out, course_dir, scorer, {
        s: csv_bytes(ids, [f"{v:.4f}" for v in p]) for s, p in preds.items()})
    pages = {ext: (out / "reports" / "students" / f"far.{ext}").read_text()
             for ext in ("html", "md", "txt")}
    return pages, {g["student"]: g for g in grades}, scorer


def test_an_error_metric_says_the_run_does_not_beat_the_baseline(tmp_path):
    pages, grades, _ = _course(tmp_path)
    far = grades["far"]
    assert far["grade"] == 4 and not far["above_baseline"]
    assert far["note"].startswith("does not beat the baseline (")
    assert grades["s1"]["above_baseline"] and grades["s1"]["note"] == ""
    for ext, text in pages.items():
        # the worse mse is *above* the baseline's: "below" / "not above" would be backwards
        for wrong in ("(below the baseline)", "not above the baseline", "at or below it"):
            assert wrong not in text, (ext, wrong)
        assert "capped at 4.00 (does not beat the baseline)" in text, ext
        # the number is the baseline's mse, not a mean of the targets (it read as one); its
        # public one: the private one is a statistic of the hidden part, not yet released
        assert "is better) the baseline, the mean of the training targets, whose public mse is " \
            in " ".join(text.split()), ext
        # no reference model ran: the comparison is with the baseline alone, and says so
        assert "Compared with the baseline (public mse)" in text, ext
        private = far["note"].removeprefix("does not beat the baseline (").split(")")[0]
        assert private not in text and "whose private mse" not in text, ext
        assert "strictly below (a smaller mse is better) " in text \
            and "; a valid run at or above it gets 4" in text, ext
    assert "<dt>beats the baseline</dt><dd>no</dd>" in pages["html"]


def test_a_score_metric_keeps_at_or_below(tmp_path):
    """accuracy: greater is better, and "at or below it" is right there."""
    b, s, ranked = _class_batch(tmp_path, {"a": (0.9, 0.9), "b": (0.4, 0.4)})
    rule = explain_grade(b, s["b"], ranked)["baseline"]
    assert "; a valid run at or below it gets 4" in rule
    assert rule.endswith("Your private score does not beat it.")
    assert s["b"].grade["note"].startswith("does not beat the baseline (0.5)")


def test_the_student_compares_public_scores_with_the_baseline_public_score(tmp_path):
    """Before the release a student sees their public mse: the baseline beside it is the
    baseline's public mse too (it was its private one, so a run that does not beat the
    baseline could read better than it)."""
    pages, _, scorer = _course(tmp_path)
    base = scorer.majority_scores()
    assert base.private == scorer.majority_score() and base.public != base.private
    with Store(tmp_path / "out" / "grading.db") as st:
        assert st.meta()["baseline_public"] == base.public
    assert f"  mean of the training targets (baseline) {base.public:.4f}" in pages["txt"]
    assert f"| mean of the training targets (baseline) | {base.public:.4f} |" in pages["md"]
    assert "private score" not in pages["txt"].split("Compared with")[1]
    assert f"{base.private:.4f}" not in pages["md"].split("## Compared with")[1]


def test_a_fixed_baseline_is_shown_as_the_private_score_it_is(tmp_path):
    pages, grades, _ = _course(tmp_path, baseline="30.0")  # an mse of 30: every run beats it
    with Store(tmp_path / "out" / "grading.db") as st:
        assert st.meta()["baseline_public"] is None
    assert grades["far"]["above_baseline"]
    assert "  fixed baseline, private score (baseline) 30.0000" in pages["txt"]


def test_the_plain_text_comparison_keeps_its_scores_in_one_column(tmp_path):
    """A name longer than the column ('mean of the training targets (baseline)') widens it
    instead of pushing its score out of line with the others."""
    pages, _, _ = _course(tmp_path)
    block = pages["txt"].split("Compared with the baseline")[1].split("\n\n")[0]
    rows = [line for line in block.splitlines()[1:] if line.strip()]
    assert len(rows) == 2 and any("(baseline)" in r for r in rows)
    starts = {len(r) - len(r.rstrip().rsplit(" ", 1)[1]) for r in rows}
    assert len(starts) == 1, rows


def test_the_baselines_private_score_is_shown_once_private_scores_are_released(tmp_path):
    pages, grades, _ = _course(tmp_path, release_private=True)
    private = grades["far"]["note"].removeprefix("does not beat the baseline (").split(")")[0]
    for ext, text in pages.items():
        assert "the mean of the training targets, whose private mse is " in \
            " ".join(text.split()), ext
        assert f"does not beat the baseline ({private})" in text, ext
