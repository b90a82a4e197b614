"""A band of one place is written "6", never "6-6"; a band the class is too small to reach is
"none", never a backwards range like "2-1". Grades come from the real grade stage
(``grade_rows``) on a real SQLite store, pages from ``render_all``."""

from __future__ import annotations

import csv
import json
import re

from grader.batch.outputs import render_reports
from grader.store import Store
from reports._load import band_text, places_text
from reports.render import render_all
from tests.synthetic_batch import make_batch
from tests.unit.test_reports_explain import _batch

_RANGE = re.compile(r"(?<![\d.:-])(\d+)-(\d+)(?![\d.:-])")  # not dates, not times


def _bad_ranges(text: str) -> list[str]:
    """Ranges whose two ends are equal ("6-6") or backwards ("2-1")."""
    return [m[0] for m in _RANGE.finditer(text) if int(m[1]) >= int(m[2])]


def _class_of(n: int) -> dict[str, tuple[float, float]]:
    return {f"s{i:02d}": (0.95 - i * 0.01, 0.95 - i * 0.01) for i in range(1, n + 1)}


def test_places_text_never_writes_a_one_place_or_backwards_range():
    assert places_text(6, 6) == "6" and places_text(31, 50) == "31-50"
    assert places_text(151, None) == "151+" and places_text(2, 1) == "none"
    assert band_text("6-6") == "6" and band_text("31-50") == "31-50" and band_text("") == ""
    assert band_text(None) == "" and band_text("151+") == "151+"


def test_small_class_bands_of_one_place_on_every_student_page(tmp_path):
    # 5 ranked students: the course's table for 150, scaled, gives one place per band
    b, s, ranked = _batch(tmp_path, _class_of(5))
    assert [s[n].grade["band"] for n in sorted(s)] == ["1", "2", "3", "4", "5"]
    with Store(tmp_path / "grading.db") as store:
        render_all(tmp_path, store.snapshot())
    html = (tmp_path / "reports" / "students" / "s03.html").read_text()
    assert "<dt>band (places)</dt><dd>3</dd>" in html
    assert '<tr class="you-row" id="your-band"><td>3</td>' in html
    assert "Place 3 is in a band of its own (place 3), which earns 8." in html
    md = (tmp_path / "reports" / "students" / "s03.md").read_text()
    assert "- Band (places): 3\n" in md and "| 3 | 8 | **← you (place 3)** |" in md
    txt = (tmp_path / "reports" / "students" / "s03.txt").read_text()
    assert "Band (places): 3\n" in txt
    for page in (tmp_path / "reports").rglob("*.*"):
        if page.suffix in (".html", ".md", ".txt"):
            assert _bad_ranges(page.read_text()) == [], page
    moodle = (tmp_path / "exports" / "moodle.csv").read_text()
    assert "rank 3, band 3" in moodle and _bad_ranges(moodle) == []


def test_bands_a_tiny_class_cannot_reach_say_none(tmp_path):
    # 3 ranked students: the 9 and the 6 bands hold no place (their last comes first)
    b, s, ranked = _batch(tmp_path, _class_of(3))
    with Store(tmp_path / "grading.db") as store:
        render_all(tmp_path, store.snapshot())
    html = (tmp_path / "reports" / "students" / "s02.html").read_text()
    rows = re.findall(r"<tr[^>]*><td>([^<]*)</td><td class=\"num\">([^<]*)</td>", html)
    assert rows == [("1", "10"), ("none", "9"), ("2", "8"), ("3", "7"), ("none", "6"),
                    ("4+", "5")]
    assert _bad_ranges(html) == []


def test_a_store_written_with_6_6_labels_renders_6(tmp_path):
    # the synthetic batch stores bands as grade rows written before the rule did ("4-4")
    out = tmp_path / "out"
    names = make_batch(out, students=12, pairs=2)
    render_reports(out)
    who = names["ok"][3]
    with Store(out / "grading.db") as st:
        assert {g["student"]: g for g in st.snapshot()["grades"]}[who]["band"] == "4-4"
    html = (out / "reports" / "students" / f"{who}.html").read_text()
    assert "<dt>band (places)</dt><dd>4</dd>" in html
    index = (out / "reports" / "index.html").read_text()
    for text in (html, index, (out / "reports" / "students" / f"{who}.txt").read_text(),
                 (out / "exports" / "moodle.csv").read_text()):
        assert _bad_ranges(text) == []
    doc = json.loads((out / "results.json").read_text())
    assert {r["student"]: r["band"] for r in doc["students"]}[who] == "4"
    rows = list(csv.DictReader((out / "exports" / "grades_columns.csv").open()))
    assert {r["student"]: r["band"] for r in rows}[who] == "4"
