"""``grader report OUT_DIR`` as a user runs it: a real process, a real store."""

from __future__ import annotations

import csv
import json
import subprocess
import sys

import pytest

from tests.conftest import ROOT
from tests.synthetic_batch import make_batch


def _grader(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "grader", *args], cwd=ROOT, text=True,
                          capture_output=True, timeout=300)


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    out = tmp_path_factory.mktemp("cli") / "out"
    return out, make_batch(out, students=15, pairs=5)


def test_report_renders_pages_and_exports(batch):
    out, names = batch
    res = _grader("report", str(out), "--columns", "student,grade,rank", "--moodle-item", "Proj")
    assert res.returncode == 0, res.stderr
    assert "rendered 15 student pages" in res.stdout and "index.html" in res.stdout
    assert (out / "reports" / "index.html").is_file()
    with (out / "exports" / "grades_columns.csv").open() as fh:
        assert next(csv.reader(fh)) == ["student", "grade", "rank"]
    with (out / "exports" / "moodle.csv").open() as fh:
        assert next(csv.reader(fh)) == ["Username", "Proj", "Feedback"]
    doc = json.loads((out / "results.json").read_text())
    assert len(doc["students"]) == len(names["students"])


def test_report_without_a_store_says_what_to_pass(tmp_path):
    res = _grader("report", str(tmp_path))
    assert res.returncode == 4
    assert "error[store]: no grading.db" in res.stderr and "hint:" in res.stderr
    assert "Traceback" not in res.stderr


def test_report_with_a_bad_column_lists_the_valid_ones(batch):
    out, _ = batch
    res = _grader("report", str(out), "--columns", "student,grde")
    assert res.returncode == 1 and "did you mean 'grade'" in res.stderr
    assert "Traceback" not in res.stderr


def test_report_accepts_the_demo_folder_itself(tmp_path):
    """``grader demo --out D`` keeps its batch in D/results; ``grader report D`` finds it."""
    make_batch(tmp_path / "results", students=8, pairs=2)
    res = _grader("report", str(tmp_path), "--quiet")
    assert res.returncode == 0, res.stderr
    assert (tmp_path / "results" / "reports" / "index.html").is_file()
    assert res.stderr == ""  # --quiet: only the final line, on stdout
