"""The report pages in headless Chromium: clean loads, sorting, search, paging, the threshold
filter, highlighted fragments, escaping and student isolation."""

from __future__ import annotations

import pytest

from reports._load import page_name, pair_page

pytestmark = pytest.mark.browser


def _visible_rows(page, table: str) -> list[list[str]]:
    return page.eval_on_selector_all(
        f"#{table} tbody tr:not(.hidden)",
        "rows => rows.map(r => Array.from(r.cells).map(c => c.getAttribute('data-v') ?? c.textContent.trim()))")


def _floats(values: list[str]) -> list[float]:
    return [float(v) for v in values if v not in ("", "–")]


def test_every_kind_of_page_loads_clean_offline(synthetic_reports, open_page):
    rep, names = synthetic_reports
    pages = {
        "index": rep / "index.html",
        "similarity": rep / "similarity.html",
        "pair": rep / pair_page(*names["pair"]),
        "pair-web": rep / pair_page(*names["web_pair"]),
        "student-ok": rep / "students" / f"{page_name(names['ok'][0])}.html",
        "student-error": rep / "students" / f"{page_name(names['hostile'])}.html",
        "student-rejected": rep / "students" / f"{page_name(names['failed']['rejected'])}.html",
    }
    for name, path in pages.items():
        v = open_page(path)
        v.assert_clean()
        assert v.requests and all(u.startswith("file://") for u in v.requests)
        assert v.screenshot(f"synthetic-{name}").stat().st_size > 5000


def test_leaderboard_sorts_by_a_column_both_ways(synthetic_reports, open_page):
    rep, _ = synthetic_reports
    v = open_page(rep / "index.html")
    page = v.page
    header = page.locator("#leaderboard thead th", has_text="private")
    header.locator("button").click()
    assert header.get_attribute("aria-sort") == "ascending"
    asc = _floats([r[3] for r in _visible_rows(page, "leaderboard")])
    assert len(asc) >= 40 and asc == sorted(asc)
    header.locator("button").click()
    assert header.get_attribute("aria-sort") == "descending"
    desc = _floats([r[3] for r in _visible_rows(page, "leaderboard")])
    assert desc == sorted(desc, reverse=True) and desc[0] > asc[0]
    page.locator("#leaderboard thead th", has_text="student").locator("button").click()
    students = [r[1] for r in _visible_rows(page, "leaderboard")]
    assert students == sorted(students)
    v.assert_clean()


def test_leaderboard_pages_and_searches(synthetic_reports, open_page):
    rep, names = synthetic_reports
    v = open_page(rep / "index.html")
    page = v.page
    first = _visible_rows(page, "leaderboard")
    assert len(first) == 50 and "of 120" in page.locator("[data-pager-for=leaderboard] .info").text_content()
    page.locator("[data-pager-for=leaderboard] .next").click()
    second = _visible_rows(page, "leaderboard")
    assert len(second) == 50 and not {r[1] for r in first} & {r[1] for r in second}
    search = page.locator("[data-search-for=leaderboard]")
    search.fill(names["ok"][6])
    rows = _visible_rows(page, "leaderboard")
    assert [r[1] for r in rows] == [names["ok"][6]] and rows[0][0] == "7"
    search.fill("timeout")
    assert [r[1] for r in _visible_rows(page, "leaderboard")] == [names["failed"]["timeout"]]
    search.fill("")
    assert len(_visible_rows(page, "leaderboard")) == 50
    v.assert_clean()


def test_similarity_threshold_filter_and_student_link(synthetic_reports, open_page):
    rep, names = synthetic_reports
    v = open_page(rep / "similarity.html")
    page = v.page
    total = len(page.locator("#pairs tbody tr").all())
    assert len(_visible_rows(page, "pairs")) == min(total, 50)
    page.locator("[data-threshold-for=pairs]").fill("0.5")
    scores = page.eval_on_selector_all("#pairs tbody tr:not(.hidden)",
                                       "rs => rs.map(r => parseFloat(r.dataset.score))")
    assert scores and min(scores) >= 0.5 and len(scores) < total
    assert page.locator("[data-threshold-value-for=pairs]").text_content() == "0.50"
    v.assert_clean()
    # the leaderboard's similarity flag links here with the student as the search
    a, b = names["pair"]
    v2 = open_page(rep / "similarity.html", f"?q={a}")
    rows = _visible_rows(v2.page, "pairs")
    assert rows and all(a in (r[1], r[2]) for r in rows) and any(b in r for r in rows)
    v2.assert_clean()


def test_side_by_side_highlights_matching_lines_in_matching_colours(synthetic_reports, open_page):
    rep, names = synthetic_reports
    v = open_page(rep / pair_page(*names["pair"]))
    page = v.page
    colour = """(sel) => Array.from(document.querySelectorAll(sel)).map(
        l => [l.id.split('-L')[1], l.dataset.frag || '', getComputedStyle(l).backgroundColor])"""
    a = page.evaluate(colour, ".side-a .ln")
    b = page.evaluate(colour, ".side-b .ln")
    marked_a = {int(n): (f, c) for n, f, c in a if f}
    marked_b = {int(n): (f, c) for n, f, c in b if f}
    assert set(marked_a) == set(range(1, 13)) | set(range(20, 29)) == set(marked_b)
    for n in marked_a:
        assert marked_a[n] == marked_b[n]  # same fragment, same colour on both sides
    assert marked_a[1][1] != marked_a[20][1]  # two fragments, two colours
    plain = {c for n, f, c in a if not f}
    assert plain == {"rgba(0, 0, 0, 0)"}  # unmatched lines are not coloured
    # the fragment list scrolls both sides to the fragment
    page.locator("[data-goto-frag='1']").click()
    tops = page.evaluate("['a','b'].map(s => document.querySelector('.side-' + s).scrollTop)")
    assert all(t > 0 for t in tops)
    v.assert_clean()


def test_hostile_text_is_shown_as_text(synthetic_reports, open_page):
    rep, names = synthetic_reports
    from tests.synthetic_batch import HOSTILE_FILE, HOSTILE_LOG

    v = open_page(rep / "students" / f"{page_name(names['hostile'])}.html")
    page = v.page
    assert page.locator("img").count() == 0 and page.locator("script").count() == 1
    assert HOSTILE_LOG in page.locator("#log-tail").inner_text()
    assert HOSTILE_FILE in page.locator("#outcome").inner_text()
    v.assert_clean()
    idx = open_page(rep / "index.html")
    assert idx.page.locator("img").count() == 0
    idx.assert_clean()


def test_student_page_shows_no_other_student(synthetic_reports, open_page):
    rep, names = synthetic_reports
    for me in (names["ok"][0], names["pair"][1], names["hostile"]):
        v = open_page(rep / "students" / f"{page_name(me)}.html")
        text = v.page.evaluate("document.documentElement.outerHTML + document.body.innerText")
        assert me in text
        others = [s for s in names["students"] if s != me]
        assert not [o for o in others if o in text or f"marker-{o}" in text]
        v.assert_clean()


@pytest.mark.slow
def test_a_class_of_600_stays_usable(tmp_path, open_page):
    """Search, sort and paging over 600 rows answer within a fraction of a second."""
    from grader.batch.outputs import render_reports
    from tests.synthetic_batch import make_batch

    names = make_batch(tmp_path / "out", students=600, pairs=30)
    render_reports(tmp_path / "out")
    v = open_page(tmp_path / "out" / "reports" / "index.html")
    page = v.page
    assert len(_visible_rows(page, "leaderboard")) == 50
    assert "of 600" in page.locator("[data-pager-for=leaderboard] .info").text_content()
    target = names["ok"][432]
    ms = page.evaluate("""(q) => { const s = document.querySelector('[data-search-for=leaderboard]');
        const t = performance.now(); s.value = q; s.dispatchEvent(new Event('input'));
        return performance.now() - t; }""", target)
    assert [r[1] for r in _visible_rows(page, "leaderboard")] == [target]
    sort_ms = page.evaluate("""() => { const b = document.querySelector('#leaderboard thead th:nth-child(4) button');
        const s = document.querySelector('[data-search-for=leaderboard]'); s.value = '';
        s.dispatchEvent(new Event('input')); const t = performance.now(); b.click();
        return performance.now() - t; }""")
    assert ms < 500 and sort_ms < 1000, (ms, sort_ms)
    v.assert_clean()
