"""A reference model's validation score is shown as the course's measure: on an mse course a
positive validation mse (the model search maximises the negative one, and "-2824.56" beside
positive public and private mse read as nonsense), in the terminal and on the instructor
page. ``grader reference`` on a real regression course folder, its real store, ``render_all``.
"""

from __future__ import annotations

import csv
import re

import numpy as np
import pytest

from grader.cli import main
from grader.course import load_course
from grader.store import Store
from reports import validation_measure
from reports.render import render_all


def _course(root, metric: str):
    rng = np.random.default_rng(0)
    (root / "data").mkdir(parents=True)
    (root / "hidden").mkdir()
    (root / "course.toml").write_text(f'[competition]\nname = "r"\nmetric = "{metric}"\n'
                                      f'[grading]\nbaseline = "mean"\n')
    x = rng.normal(size=(120, 2))
    y = 3 * x[:, 0] - x[:, 1] + rng.normal(0, 0.3, 120)
    rows = [f"r{i},{y[i]:.4f},{x[i, 0]:.4f},{x[i, 1]:.4f}" for i in range(120)]
    (root / "data" / "train.csv").write_text("id,label,a,b\n" + "\n".join(rows[:80]) + "\n")
    (root / "data" / "test.csv").write_text(
        "id,a,b\n" + "".join(f"r{i},{x[i, 0]:.4f},{x[i, 1]:.4f}\n" for i in range(80, 120)))
    (root / "hidden" / "test_labels.csv").write_text(
        "id,label\n" + "".join(f"r{i},{y[i]:.4f}\n" for i in range(80, 120)))
    return root


@pytest.mark.parametrize("metric", ["mse", "mae"])
def test_an_error_metric_shows_a_positive_validation_error(tmp_path, capsys, metric):
    course, out = _course(tmp_path / "c", metric), tmp_path / "out"
    assert main(["reference", str(course), "--out", str(out), "--models", "mean",
                 "knn_regressor"]) == 0
    err = capsys.readouterr().err
    said = dict(re.findall(rf"reference: (\w+): ok validation {metric} ([0-9.]+) ", err))
    assert set(said) == {"mean", "knn_regressor"}, err
    assert float(said["knn_regressor"]) < float(said["mean"])  # errors: k-NN is the smaller
    with Store(out / "grading.db") as st:
        st.set_meta(config=load_course(course).describe())  # as grader run records it
        snapshot = st.snapshot()
        stored = {r["model"]: r["validation_score"] for r in snapshot["reference"]}
        render_all(out, snapshot)
    assert stored["mean"] < 0  # the search's own score is kept as it was
    index = (out / "reports" / "index.html").read_text()
    table = index.split('id="reference-table"')[1].split("</table>")[0]
    assert f">validation {metric}</button>" in table
    assert f'<td class="num">{-stored["mean"]:.4f}</td>' in table
    assert f"{stored['mean']:.4f}" not in table  # no negative error
    with (out / "reference.csv").open() as f:  # the exported table says the same
        written = {r["model"]: float(r["validation_score"]) for r in csv.DictReader(f)}
    assert written["mean"] == pytest.approx(-stored["mean"], rel=1e-5) and written["mean"] > 0


def test_the_measure_of_each_metric():
    assert validation_measure("mse") == ("mse", -1.0)
    assert validation_measure("kendall_tau") == ("mse", -1.0)  # the search's own measure
    assert validation_measure("mae") == ("mae", -1.0)
    assert validation_measure("roc_auc") == ("AUC", 1.0)
    assert validation_measure("accuracy") == validation_measure("macro_f1") == ("accuracy", 1.0)


def test_grader_report_after_grader_reference_alone_knows_the_metric(tmp_path, capsys):
    """``grader reference`` into a new folder records the course, so ``grader report`` there
    shows an mse course's models as mse (it took the metric for accuracy)."""
    course, out = _course(tmp_path / "c", "mse"), tmp_path / "out"
    assert main(["reference", str(course), "--out", str(out), "--models", "mean"]) == 0
    assert main(["report", str(out)]) == 0
    index = (out / "reports" / "index.html").read_text()
    table = index.split('id="reference-table"')[1].split("</table>")[0]
    assert ">validation mse</button>" in table and "accuracy" not in table
    with Store(out / "grading.db") as st:
        meta = st.meta()
    assert meta["course"] == "r" and meta["config"]["competition"]["metric"] == "mse"
    assert '<td class="num">-' not in table


def test_a_regression_courses_built_in_baseline_is_its_reference_mean(tmp_path, capsys):
    # [grading] baseline = "majority" on a regression course is the training targets' mean:
    # the reference model `mean` computes exactly that, so it is marked as the baseline
    # instead of appearing a second time beside an identical built-in row
    from grader.grading import resolve_baseline

    course = _course(tmp_path / "c", "mse")
    toml = course / "course.toml"
    toml.write_text(toml.read_text().replace('baseline = "mean"', 'baseline = "majority"'))
    out = tmp_path / "out"
    assert main(["reference", str(course), "--out", str(out), "--models", "mean",
                 "knn_regressor"]) == 0
    with (out / "reference.csv").open() as f:
        marked = {r["model"]: r["baseline"] for r in csv.DictReader(f)}
    assert marked == {"mean": "yes", "knn_regressor": ""}
    with Store(out / "grading.db") as st:
        reference = st.reference()
    mean = next(r for r in reference if r["model"] == "mean")

    def never() -> float:
        raise AssertionError("the built-in baseline is not computed again")

    assert resolve_baseline("majority", reference, majority=never, task="regression") == (
        mean["private_score"], "reference model 'mean'")
    # a classification course's built-in baseline is still its majority class
    assert resolve_baseline("majority", reference, majority=lambda: 0.25) == (
        0.25, "majority class of the training labels")
