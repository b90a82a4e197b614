"""``grader reference`` on the demo course: real course folder, real SQLite store, real CSV."""

from __future__ import annotations

import csv
import sqlite3
import time

import pytest

from grader.cli import main
from grader.demo import build_demo


@pytest.fixture(scope="module")
def demo_course(tmp_path_factory):
    course, _ = build_demo(tmp_path_factory.mktemp("demo"))
    return course


def test_reference_cli_scores_models_into_store_and_csv(demo_course, tmp_path, capsys):
    out = tmp_path / "out"
    started = time.perf_counter()
    rc = main(
        [
            "reference",
            str(demo_course),
            "--out",
            str(out),
            "--models",
            "majority",
            "knn",
            "svm_ovo",
            "gaussian_nb",
            "--budget-s",
            "20",
        ]
    )
    assert rc == 0
    assert time.perf_counter() - started < 120
    captured = capsys.readouterr()
    assert "reference: knn: ok" in captured.err  # progress, one line per model
    assert "4 of 4 models ran" in captured.out
    with (out / "reference.csv").open() as f:
        rows = {r["model"]: r for r in csv.DictReader(f)}
    assert set(rows) == {"majority", "knn", "svm_ovo", "gaussian_nb"}
    for r in rows.values():
        assert r["status"] == "ok"
        assert 0.0 <= float(r["public_score"]) <= 1.0 and 0.0 <= float(r["private_score"]) <= 1.0
    assert float(rows["knn"]["private_score"]) > 0.95  # digits: k-NN is near-perfect
    assert float(rows["majority"]["private_score"]) < 0.2
    assert rows["majority"]["baseline"] == "yes"  # course.toml: baseline = "majority"
    db = sqlite3.connect(out / "grading.db")
    stored = dict(db.execute("SELECT model, private_score FROM reference").fetchall())
    assert stored.keys() == rows.keys()
    assert stored["knn"] == pytest.approx(float(rows["knn"]["private_score"]), rel=1e-5)


def test_reference_cli_rejects_unknown_model(demo_course, tmp_path, capsys):
    rc = main(["reference", str(demo_course), "--out", str(tmp_path), "--models", "knnn"])
    assert rc == 1
    err = capsys.readouterr().err
    assert "unknown reference model" in err and "did you mean 'knn'" in err
    assert "Traceback" not in err


@pytest.mark.slow
def test_reference_cli_default_models_on_demo_within_five_minutes(demo_course, tmp_path):
    out = tmp_path / "out"
    started = time.perf_counter()
    assert main(["reference", str(demo_course), "--out", str(out)]) == 0
    assert time.perf_counter() - started < 300
    with (out / "reference.csv").open() as f:
        rows = list(csv.DictReader(f))
    assert len(rows) >= 14 and all(r["status"] == "ok" for r in rows)
    assert float(rows[0]["private_score"]) > 0.97  # sorted best first
