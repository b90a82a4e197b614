"""A rerun that changed nothing keeps its pages (rendering is most of a rerun's time); any
change the pages show renders them again (real bubblewrap, real store)."""

from __future__ import annotations

import pytest

from grader.batch import BatchOptions, run_batch
from grader.course import load_course
from grader.store import Store
from tests.integration.batch_helpers import honest, make_course, write_submissions

pytestmark = [pytest.mark.bwrap, pytest.mark.slow]


def test_rerun_keeps_pages_until_something_they_show_changes(tmp_path, bwrap_sandbox):
    course = load_course(make_course(tmp_path / "course"))
    subs = write_submissions(tmp_path / "subs", {"ana": honest(0.5), "bob": honest(0.3)})
    out = tmp_path / "out"
    said: list[str] = []
    opts = BatchOptions(similarity=False, quiet=True)
    run_batch(course, subs, out, opts, log=said.append)
    index = out / "reports" / "index.html"
    first = index.stat().st_mtime_ns
    said.clear()
    run_batch(course, subs, out, opts, log=said.append)
    assert any("nothing changed" in s for s in said), said
    assert index.stat().st_mtime_ns == first
    # a TA's decision or a new score is something the pages show: they are rendered again
    write_submissions(subs, {"bob": honest(0.45)})
    said.clear()
    run_batch(course, subs, out, opts, log=said.append)
    assert not any("nothing changed" in s for s in said), said
    assert index.stat().st_mtime_ns != first
    with Store(out / "grading.db") as store:
        assert store.meta()["reports_digest"]
