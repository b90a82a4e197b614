"""A student's page explains the grade, in Chromium (issue 14, item 5): the top band, a run
below the baseline, a crash and a deduction, each checked for the band table and the
student's place in it (a crash: the student's own line first and no grade). Screenshots go to
``test-artifacts/reports/student-*.png`` (``docs/screenshots/`` holds copies)."""

from __future__ import annotations

import pytest

from grader.store import Store
from reports.render import render_all
from tests.unit.test_reports_explain import GABI, _batch, _class_of_40

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def pages(tmp_path_factory):
    out = tmp_path_factory.mktemp("explained")
    _batch(out, _class_of_40(below=3), failed={"gabi": "error"},
           adjustments="student,points,note\ns12,1.5,slides missing; no demo\n")
    (out / "runs" / "gabi").mkdir(parents=True)
    (out / "runs" / "gabi" / "stderr.txt").write_text(
        GABI.replace("/work/code/gabi_crash.py", "/work/code/main.py"))
    with Store(out / "grading.db") as store:
        render_all(out, store.snapshot())
    return out / "reports" / "students"


def _your_band(page) -> str:
    return page.locator("#band-table tr.you-row").inner_text()


@pytest.mark.parametrize("student, places, place, grade, says", [
    ("s01", "1-8", 1, "10", "beats the fixed baseline 0.5"),
    ("s39", "33-40", 39, "4", "capped at 4 (the place alone would earn 6)"),
    ("s12", "9-14", 12, "7.5", "slides missing; no demo"),
])
def test_graded_pages_show_the_band_table_and_the_place(pages, open_page, student, places,
                                                        place, grade, says):
    v = open_page(pages / f"{student}.html")
    page = v.page
    assert page.locator("#band-table").is_visible()
    assert page.locator("#band-table tr.you-row").count() == 1
    mine = _your_band(page)
    assert mine.startswith(places) and f"you (place {place})" in mine
    assert page.locator("#grade").inner_text() == f"{float(grade):.2f}"
    assert says in page.locator("#explain").inner_text()
    assert "comes from the private" in page.locator("#ranks-explained").inner_text() \
        or "also place" in page.locator("#ranks-explained").inner_text()
    v.assert_clean()
    name = {"s01": "top-band", "s39": "below-baseline", "s12": "deduction"}[student]
    page.locator("#explain").scroll_into_view_if_needed()
    assert v.screenshot(f"student-{name}", full_page=True).stat().st_size > 5000


def test_below_baseline_shows_both_grades(pages, open_page):
    v = open_page(pages / "s39.html")
    assert v.page.locator("#place-grade").inner_text() == \
        "6.00 → capped at 4.00 (does not beat the baseline)"
    assert "does not beat it" in v.page.locator("#baseline-rule").inner_text()


def test_crash_page_shows_the_students_line_first_and_no_grade(pages, open_page):
    v = open_page(pages / "gabi.html")
    page = v.page
    frames = page.locator("#crash .own-frames li")
    assert frames.count() == 1 and frames.first.inner_text().startswith("main.py, line 11")
    crash = page.locator("#crash").inner_text()
    # the student's line comes before the library's frames and the exception
    assert crash.index("main.py, line 11") < crash.index("KeyError")
    assert page.locator("#crash details").get_attribute("open") is None  # libraries folded
    assert "No project grade" in page.locator("#no-grade").inner_text()
    assert "status (error)" in page.locator("#no-grade").inner_text()
    assert page.locator("#band-table").count() == 0 and page.locator("#explain").count() == 0
    v.assert_clean()
    assert v.screenshot("student-crash", full_page=True).stat().st_size > 5000
