"""``grader review`` in headless Chromium: a real server process (uvicorn) on a free port, real
SQLite, real browser contexts. Every request a page makes must stay on 127.0.0.1."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from reports._load import pair_page
from tests.conftest import ROOT
from tests.synthetic_batch import make_batch

pytestmark = pytest.mark.browser

STARTER = "import os\nDATA = os.environ['GRADER_DATA']\nOUT = os.environ['GRADER_OUTPUT']\n"


@dataclass
class App:
    url: str  # the line the server printed
    base: str
    out: Path
    names: dict
    proc: subprocess.Popen
    requests: list[str] = field(default_factory=list)

    def pair_url(self, a: str, b: str) -> str:
        return f"{self.base}/reports/{pair_page(a, b)}"


def _start(tmp_path: Path, *extra: str, env: dict | None = None) -> App:
    out = tmp_path / "out"
    names = make_batch(out, students=12, pairs=6)
    starter = tmp_path / "course" / "starter"
    starter.mkdir(parents=True)
    (starter / "main.py").write_text(STARTER)
    proc = subprocess.Popen([sys.executable, "-m", "grader", "review", str(out), "--port", "0",
                             *extra], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            cwd=ROOT, env={**os.environ, **(env or {})})
    url = proc.stdout.readline().strip()
    assert url.startswith("http://127.0.0.1:"), proc.stderr.read()
    base = url.split("/reports/")[0]
    return App(url, base, out, names, proc)


@pytest.fixture
def app(tmp_path):
    a = _start(tmp_path)
    yield a
    a.proc.terminate()
    a.proc.wait(timeout=10)


@pytest.fixture
def browse(chromium):
    """``browse(app) -> page`` in a fresh context (its own cookies), requests recorded."""
    contexts = []

    def _new(app: App):
        ctx = chromium.new_context(viewport={"width": 1280, "height": 900})
        contexts.append(ctx)
        page = ctx.new_page()
        page.on("request", lambda r: app.requests.append(r.url))
        return page

    yield _new
    for ctx in contexts:
        ctx.close()


def _decide(page, state: str, reviewer: str, note: str = "") -> None:
    page.check(f"#decision-form input[name=state][value={state}]")
    page.fill("#decision-form textarea[name=note]", note)
    page.fill("#decision-form input[name=reviewer]", reviewer)
    page.click("#decision-form button[type=submit]")
    page.wait_for_load_state("load")


def _only_local(app: App) -> None:
    outside = [u for u in app.requests if not u.startswith(app.base + "/")]
    assert app.requests and outside == [], f"requests left 127.0.0.1: {outside[:5]}"


def test_decide_a_pair_reload_and_see_it(app, browse):
    page = browse(app)
    a, b = app.names["pair"]
    page.goto(app.pair_url(a, b))
    assert "Not decided yet" in page.text_content("#current-decision")
    _decide(page, "needs_discussion", "Maria TA", "step_3 is identical; ask both")
    page.reload()
    current = page.text_content("#current-decision")
    assert "needs discussion" in current and "Maria TA" in current and "version 1" in current
    assert page.text_content("#decision-note") == "step_3 is identical; ask both"
    # the reviewer's name is remembered for the next pair
    assert page.input_value("#decision-form input[name=reviewer]") == "Maria TA"
    _only_local(app)


def test_two_browsers_on_one_pair_the_later_is_refused_visibly(app, browse):
    a, b = app.names["pair"]
    first, second = browse(app), browse(app)
    first.goto(app.pair_url(a, b))
    second.goto(app.pair_url(a, b))
    _decide(first, "dismissed", "Ion", "starter code only")
    _decide(second, "confirmed", "Ana", "copied")
    message = second.text_content("#decision-message")
    assert "Ion decided" in message and "dismissed" in message and "not stored" in message
    assert "Ion" in second.text_content("#current-decision")
    assert "dismissed" in second.text_content("#current-decision")
    # having seen it, the second TA may still overrule, and the history keeps both
    _decide(second, "confirmed", "Ana", "no: step_3 is not in the starter")
    second.reload()
    assert "Ana" in second.text_content("#current-decision")
    history = second.text_content("#decision-history")
    assert "dismissed by Ion" in history and "confirmed by Ana" in history
    _only_local(app)


def test_a_pair_gone_since_the_page_opened_says_why_the_decision_was_not_stored(app, browse):
    """The batch re-run without one of the pair's students while the TA had its page open:
    the form's answer was a bare 'no page ... in this batch' (404), not the reason."""
    from grader.store import Store

    a, b = app.names["pair"]
    page = browse(app)
    page.goto(app.pair_url(a, b))
    with Store(app.out / "grading.db") as store:  # what a re-run's similarity stage stores
        kept = [p for p in store.similarity_pairs() if a not in (p["a"], p["b"])]
        store.put_similarity(kept, store.similarity_clusters())
    page.check("#decision-form input[name=state][value=confirmed]")
    page.fill("#decision-form input[name=reviewer]", "Ana")
    with page.expect_navigation() as nav:
        page.click("#decision-form button[type=submit]")
    assert nav.value.status == 400
    text = page.text_content("body")
    assert f"decision on {min(a, b)} ~ {max(a, b)} (peer) not stored" in text
    assert "was a submission removed or renamed?" in text
    assert "open the pair again from the similarity overview" in text
    with Store(app.out / "grading.db") as store:
        assert store.decision_history(min(a, b), max(a, b), "peer") == []
    _only_local(app)


def _flagged_rows(page) -> list[str]:
    page.check("[data-flagged-for=pairs]")
    return page.eval_on_selector_all(
        "#pairs tbody tr:not(.hidden)", "rows => rows.map(r => r.getAttribute('data-text'))")


def test_a_dismissed_pair_leaves_the_flagged_list(app, browse):
    page = browse(app)
    a, b = app.names["pair"]
    page.goto(f"{app.base}/reports/similarity.html")
    assert any(a in r and b in r for r in _flagged_rows(page))
    flagged = int(page.text_content("#flagged-count"))
    page.goto(app.pair_url(a, b))
    _decide(page, "dismissed", "Ion", "template code")
    page.goto(f"{app.base}/reports/similarity.html")
    assert not any(a in r and b in r for r in _flagged_rows(page))
    assert int(page.text_content("#flagged-count")) == flagged - 1
    page.select_option("[data-decision-for=pairs]", "dismissed")
    page.uncheck("[data-flagged-for=pairs]")
    rows = page.eval_on_selector_all("#pairs tbody tr:not(.hidden)",
                                     "rows => rows.map(r => r.getAttribute('data-text'))")
    assert len(rows) == 1 and a in rows[0] and b in rows[0]
    _only_local(app)


def _grade(page, app: App, student: str) -> str:
    page.goto(f"{app.base}/reports/index.html")
    return page.text_content(f"#leaderboard tr[data-student={student}] td:nth-child(6)").strip()


def test_the_grade_follows_the_decision_under_the_zero_policy(app, browse):
    page = browse(app)
    a, b = app.names["pair"]
    before = _grade(page, app, a)
    assert float(before) > 0
    page.goto(app.pair_url(a, b))
    _decide(page, "confirmed", "Ana", "same functions renamed")
    assert _grade(page, app, a) == "0.00" and _grade(page, app, b) == "0.00"
    outcome = page.text_content(f"#integrity-table tr[data-student={a}]")
    assert "same functions renamed" in outcome and "Ana" in outcome
    assert ",0," in (app.out / "grades.csv").read_text().splitlines()[1]
    page.goto(app.pair_url(a, b))
    _decide(page, "dismissed", "Ana", "reviewed again: starter code")
    assert _grade(page, app, a) == before
    assert page.query_selector(f"#integrity-table tr[data-student={a}]") is None
    _only_local(app)


def test_pair_page_explains_marks_starter_wraps_and_scrolls(app, browse):
    page = browse(app)
    a, b = app.names["pair"]
    page.goto(app.pair_url(a, b))
    explain = page.text_content("#explain")
    assert "flagged" in explain and page.text_content("#threshold") == "0.45"
    assert "renaming" in page.text_content("#components")
    starter = page.query_selector_all("#side-a .ln.starter")
    assert len(starter) == 3  # the three starter lines, marked on each side
    style = page.eval_on_selector("#side-a .ln", "l => getComputedStyle(l).whiteSpace")
    assert style == "pre-wrap"
    colour = page.eval_on_selector("#side-a .lno", "n => getComputedStyle(n).color")
    assert colour == "rgb(77, 87, 97)"  # not Pygments' dark red of .no
    assert page.evaluate("window.scrollY") == 0
    page.click("[data-goto-frag='1']")
    page.wait_for_function("window.scrollY > 0")
    line = page.query_selector("#side-a .ln[data-frag='1']")
    assert line.is_visible() and page.evaluate(
        "el => { const r = el.getBoundingClientRect(); return r.top >= 0 && r.top < innerHeight; }",
        line)
    _only_local(app)


def test_with_host_the_token_is_required(tmp_path, browse):
    app = _start(tmp_path, "--host", "127.0.0.1", env={"GRADER_REVIEW_TOKEN": "s3cret-token"})
    try:
        assert app.url.endswith("?token=s3cret-token")
        page = browse(app)
        response = page.goto(f"{app.base}/reports/similarity.html")
        assert response.status == 401 and "needs its token" in page.content()
        response = page.goto(f"{app.base}/reports/similarity.html?token=wrong")
        assert response.status == 401
        response = page.goto(app.url)
        assert response.status == 200 and "token" not in page.url
        a, b = app.names["pair"]
        page.goto(app.pair_url(a, b))  # the cookie carries the token from now on
        _decide(page, "confirmed", "Ana")
        assert "confirmed" in page.text_content("#current-decision")
        stranger = browse(app)
        assert stranger.goto(app.pair_url(a, b)).status == 401
        _only_local(app)
    finally:
        app.proc.terminate()
        app.proc.wait(timeout=10)


def test_a_decision_is_withdrawn_from_the_pair_page(app, browse):
    page = browse(app)
    a, b = app.names["pair"]
    before = _grade(page, app, a)
    page.goto(app.pair_url(a, b))
    # nothing to withdraw yet: the form offers the three states only
    assert page.query_selector("#decision-form input[name=state][value=undecided]") is None
    _decide(page, "confirmed", "Ana", "same functions renamed")
    assert _grade(page, app, a) == "0.00"
    page.goto(app.pair_url(a, b))
    assert "back to not decided" in page.text_content("#decision-form")
    _decide(page, "undecided", "Ion", "wrong pair: the starter code")
    assert "Not decided yet" in page.text_content("#current-decision")
    history = page.text_content("#decision-history")
    assert "confirmed by Ana" in history and "not decided by Ion" in history
    assert _grade(page, app, a) == before
    _only_local(app)
