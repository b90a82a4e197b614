"""Headless Chromium (Debian's, driven by Playwright) for the report pages.

Every page opened through ``open_page`` records console errors, uncaught exceptions, dialogs
and requests; ``assert_clean`` checks that nothing but ``file://`` was requested and nothing
went wrong. Screenshots go to ``test-artifacts/reports/`` (git-ignored).
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.conftest import ROOT, need

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
ARTIFACTS = ROOT / "test-artifacts" / "reports"


@pytest.fixture(scope="session")
def chromium():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        need(False, "playwright is not installed (pip install playwright)")
    need(Path(CHROMIUM).is_file() or shutil.which("chromium") is not None,
         "Debian's chromium is not installed (apt-get install chromium)")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@dataclass
class Visit:
    page: object
    requests: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)

    def assert_clean(self) -> None:
        outside = [u for u in self.requests if not u.startswith("file://")]
        assert outside == [], f"network requests: {outside[:5]}"
        assert self.errors == [], f"console errors: {self.errors[:5]}"
        assert self.dialogs == [], f"dialogs opened (injected script?): {self.dialogs}"

    def screenshot(self, name: str, full_page: bool = False) -> Path:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        path = ARTIFACTS / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=full_page)
        return path


@pytest.fixture
def open_page(chromium):
    """``open_page(path, query="") -> Visit``: load a report file in a fresh page."""
    context = chromium.new_context(viewport={"width": 1280, "height": 900})
    visits: list[Visit] = []

    def _open(path: Path, query: str = "") -> Visit:
        page = context.new_page()
        v = Visit(page)
        page.on("request", lambda r: v.requests.append(r.url))
        page.on("console", lambda m: v.errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: v.errors.append(str(e)))

        def _dialog(d):
            v.dialogs.append(d.message)
            d.dismiss()

        page.on("dialog", _dialog)
        page.goto(Path(path).resolve().as_uri() + query)
        page.wait_for_load_state("load")
        visits.append(v)
        return v

    yield _open
    context.close()


@pytest.fixture(scope="module")
def synthetic_reports(tmp_path_factory):
    """A synthetic batch (120 students: more than one page of the leaderboard), rendered."""
    from grader.batch.outputs import render_reports
    from tests.synthetic_batch import make_batch

    out = tmp_path_factory.mktemp("browser") / "out"
    names = make_batch(out, students=120, pairs=40, release_private=True,
                       release_similarity=True)
    render_reports(out)
    return out / "reports", names

