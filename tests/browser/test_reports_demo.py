"""The demo's reports in Chromium: every sample case is shown as what it is.

Builds the real demo (``grader demo`` with bubblewrap: a couple of minutes), so it is marked
slow. Screenshots of the three kinds of page go to ``test-artifacts/reports/demo-*.png`` (the
ones under ``docs/screenshots/`` come from here).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from reports._load import page_name, pair_page
from tests.conftest import ROOT, need

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.bwrap]

EXPECTED_STATUS = {"gabi_crash": "error", "horia_timeout": "timeout",
                   "ioana_invalid": "invalid_output", "vlad_notebook": "rejected"}


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """The demo's results folder: built here, or an existing one named by
    ``GRADEBOX_DEMO_RESULTS`` (re-rendered from its store, which is what is under test)."""
    existing = os.environ.get("GRADEBOX_DEMO_RESULTS")
    if existing:
        from grader.batch.outputs import render_reports

        render_reports(Path(existing))
        return Path(existing)
    from sandbox.backends import bwrap

    info = bwrap.check()
    need(info.works, f"bubblewrap sandbox unavailable: {info.reason}")
    out = tmp_path_factory.mktemp("demo")
    res = subprocess.run([sys.executable, "-m", "grader", "demo", "--out", str(out),
                          "--backend", "bwrap"], cwd=ROOT, capture_output=True, text=True,
                         timeout=900)
    assert res.returncode == 0, res.stderr[-3000:]
    return out / "results"


def _rows(page) -> dict[str, list[str]]:
    rows = page.eval_on_selector_all(
        "#leaderboard tbody tr",
        "rs => rs.map(r => [r.dataset.student, ...Array.from(r.cells).map(c => c.textContent.trim())])")
    return {r[0]: r[1:] for r in rows}


def test_demo_summary_shows_every_sample_case(demo, open_page):
    from grader.demo import SAMPLES
    from grader.store import Store

    with Store(demo / "grading.db") as st:
        stored = {g["student"]: g for g in st.grades()}
    v = open_page(demo / "reports" / "index.html")
    rows = _rows(v.page)
    assert set(rows) == set(SAMPLES) == set(stored)
    for student, cells in rows.items():
        # the page shows what the store holds; the deliberate failures are what they mean
        assert cells[6] == stored[student]["status"], (student, cells)
        assert cells[0] == (str(stored[student]["rank"]) if stored[student]["rank"] else "–")
    for student, status in EXPECTED_STATUS.items():
        assert rows[student][6] == status, (student, rows[student])
    assert rows["ana_knn"][7].startswith("⚑") and rows["sorin_copy"][7].startswith("⚑")
    assert float(rows["florin_offbyone"][5]) < 5  # below the baseline
    if rows["dan_nb"][6] == "ok":  # his Kaggle upload is not what his code gives
        assert "not reproduced" in rows["dan_nb"][8]
    if rows["elena_logreg"][6] == "ok":
        assert rows["elena_logreg"][8] == "reproduced"
    failed = v.page.locator("#failed-table").inner_text()
    for student in EXPECTED_STATUS:
        assert student in failed
    assert v.page.locator("#reference-table .baseline-row").count() <= 1
    v.screenshot("demo-index")
    v.assert_clean()


def test_demo_similarity_and_pair_pages(demo, open_page):
    v = open_page(demo / "reports" / "similarity.html")
    text = v.page.locator("#pairs").inner_text()
    assert "sorin_copy" in text and "web:mlp_tutorial" in text
    v.screenshot("demo-similarity")
    v.assert_clean()
    p = open_page(demo / "reports" / pair_page("ana_knn", "sorin_copy"))
    assert p.page.locator(".side-a .ln.match").count() > 5
    assert p.page.locator(".side-b .ln.match").count() > 5
    p.screenshot("demo-pair")
    p.assert_clean()
    w = open_page(demo / "reports" / pair_page("tudor_tutorial", "web:mlp_tutorial"))
    assert w.page.locator(".side-b .ln.match").count() > 5  # the tutorial's own code is shown
    w.assert_clean()


def test_demo_disguised_copy_is_caught_by_behaviour(demo, open_page):
    """The renamed copy and the tutorial paste stay the top code findings; the rewritten copy
    of maria_mlp, invisible to code comparison, is flagged on its hidden-test predictions and
    its pair page shows the shared wrong answers with their images."""
    import csv

    with (demo / "similarity" / "pairs.csv").open() as f:
        rows = list(csv.DictReader(f))
    by_pair = {(r["a"], r["b"]): r for r in rows}
    top_code = sorted(rows, key=lambda r: -float(r["code"]))[:2]
    assert {(r["a"], r["b"]) for r in top_code} == {("ana_knn", "sorin_copy"),
                                                     ("tudor_tutorial", "web:mlp_tutorial")}
    hidden = by_pair[("maria_mlp", "paula_rewrite")]
    assert hidden["flagged"] == "true" and hidden["reason"] == "behaviour"
    assert float(hidden["code"]) < 0.2 and int(hidden["same_wrong"]) >= 10
    flagged = {k for k, r in by_pair.items() if r["flagged"] == "true"}
    assert flagged == {("ana_knn", "sorin_copy"), ("tudor_tutorial", "web:mlp_tutorial"),
                       ("maria_mlp", "paula_rewrite")}
    p = open_page(demo / "reports" / pair_page("maria_mlp", "paula_rewrite"))
    assert "identical wrong answers" in p.page.locator("#behaviour").inner_text()
    # the verdict in words: both ran, so code alone must reach code_alone
    from similarity import SimilarityOptions

    assert p.page.locator("#code-alone").inner_text() == \
        f"{SimilarityOptions().code_alone:.2f}"
    assert "on behaviour" in p.page.locator("#explain").inner_text()
    # a pair with a failed run: no behaviour, the code score on the class's scale, in words
    failed = next(r for r in rows if r["kind"] == "peer" and r["behaviour"] == ""
                  and abs(float(r["score"]) - float(r["code"])) > 1e-3)
    q = open_page(demo / "reports" / pair_page(failed["a"], failed["b"]))
    assert "gave no predictions to compare" in q.page.locator("#explain").inner_text()
    assert q.page.locator("#code-alone").count() == 1
    assert p.page.locator("#shared-wrong tbody tr.same-wrong").count() >= 10
    assert p.page.locator("#shared-wrong img").count() >= 10  # the digits, scaled down
    p.screenshot("demo-pair-behaviour", full_page=True)
    p.assert_clean()


def test_demo_student_pages(demo, open_page):
    from grader.demo import SAMPLES

    for student in SAMPLES:
        v = open_page(demo / "reports" / "students" / f"{page_name(student)}.html")
        body = v.page.locator("body").inner_text()
        assert student in body
        assert not [o for o in SAMPLES if o != student and o in body], student
        v.assert_clean()
        if student == "gabi_crash":
            assert "KeyError" in v.page.locator("#log-tail").inner_text()
            v.screenshot("demo-student-error")
        if student == "ana_knn":
            v.screenshot("demo-student", full_page=True)
