"""Exports from a real SQLite store: Moodle CSV, chosen columns, results.json."""

from __future__ import annotations

import csv
import json

import pytest

from grader.store import Store
from reports import exports
from reports._load import load_batch
from reports.errors import ReportsError
from tests.synthetic_batch import make_batch


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    out = tmp_path_factory.mktemp("exp") / "out"
    names = make_batch(out, students=12, pairs=4)
    with Store(out / "grading.db") as store:
        return load_batch(out, store.snapshot()), names


def _rows(path):
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def test_moodle_csv_has_one_row_per_student_and_blank_grades_for_failures(batch, tmp_path):
    b, names = batch
    rows = _rows(exports.write_moodle_csv(b, tmp_path / "m.csv", item="Project"))
    assert [r["Username"] for r in rows] == sorted(names["students"])
    by = {r["Username"]: r for r in rows}
    graded = {s.student: s.grade["grade"] for s in b.students if s.grade and s.grade["grade"]}
    for who, g in graded.items():
        assert float(by[who]["Project"]) == pytest.approx(g)
    err = names["failed"]["error"]
    assert by[err]["Project"] == "" and by[err]["Feedback"].startswith("error:")


def test_columns_csv_follows_the_chosen_columns(batch, tmp_path):
    b, names = batch
    rows = _rows(exports.write_columns_csv(b, tmp_path / "c.csv", ["student", "rank", "grade"]))
    assert list(rows[0]) == ["student", "rank", "grade"]
    best = next(s for s in b.students if s.rank == 1)
    assert {"student": best.student, "rank": "1", "grade": f"{best.grade['grade']:.6g}"} in rows


def test_grades_csv_column_names_are_export_columns_too(batch, tmp_path):
    # an instructor copies names from grades.csv: 'score' (the private score), 'integrity'
    b, _ = batch
    rows = _rows(exports.write_columns_csv(b, tmp_path / "c.csv",
                                           ["student", "score", "private_score", "integrity"]))
    assert rows and all(r["score"] == r["private_score"] for r in rows)
    assert any(r["score"] for r in rows)


def test_unknown_columns_are_all_reported_with_suggestions(batch, tmp_path):
    b, _ = batch
    with pytest.raises(ReportsError) as exc:
        exports.write_columns_csv(b, tmp_path / "c.csv", ["student", "grde", "nope"])
    text = exc.value.render()
    assert "'grde' (did you mean 'grade'?)" in text and "'nope'" in text


def test_cells_that_look_like_formulas_are_neutralised():
    assert exports._cell("=HYPERLINK(\"x\")") == "'=HYPERLINK(\"x\")"
    assert exports._cell("ok") == "ok" and exports._cell(-1.5) == "-1.5"


def test_results_json_is_strict_json_with_every_student(batch, tmp_path):
    b, names = batch
    path = exports.write_results_json(b, tmp_path / "r.json")
    doc = json.loads(path.read_text(), parse_constant=lambda c: pytest.fail(f"{c} in JSON"))
    assert sorted(s["student"] for s in doc["students"]) == sorted(names["students"])
    assert doc["counts"] == b.counts()
    assert doc["baseline"]["model"] == "majority"
    assert {(p["a"], p["b"]) for p in doc["similarity"]["pairs"]} >= {names["pair"]}
