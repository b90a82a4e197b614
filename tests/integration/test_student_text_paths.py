"""What a student reads about a failed run names no host path (the grader's virtualenv,
pyenv's or the course environment's folders, the runners' temporary folders), while the
instructor's ``runs/<student>/stderr.txt`` keeps the traceback whole.

Real batches on the real bubblewrap sandbox; the texts are read back from the store,
grades.csv and the rendered student pages.
"""

from __future__ import annotations

import os
import sqlite3
import sys
import tempfile

import pytest

from grader.batch import BatchOptions, run_batch
from grader.course import load_course
from tests.conftest import fast_limits
from tests.integration.batch_helpers import make_course, read_grades, write_submissions

PROGRAMS = {
    # a crash inside the standard library: every frame but the first is a host path
    "crash": "import json\njson.loads('{oops')\n",
    # an environment problem: ImportError names the installed module's file
    "badname": "from json import no_such_name\n",
}


def _host_markers(*extra: str) -> set[str]:
    paths = {sys.prefix, sys.base_prefix, os.path.realpath(sys.prefix),
             os.path.realpath(sys.base_prefix), tempfile.gettempdir() + "/gradebox", *extra}
    return {p for p in paths if p and p != "/"}


def _leaks(text: str, markers: set[str]) -> list[str]:
    return sorted(m for m in markers if m in text)


@pytest.mark.bwrap
def test_a_failed_runs_student_texts_name_no_host_path(tmp_path, bwrap_sandbox):
    course = load_course(make_course(tmp_path / "course", time_limit_s=20))
    out = tmp_path / "out"
    run_batch(course, write_submissions(tmp_path / "subs", PROGRAMS), out,
              BatchOptions(jobs=1, similarity=False, quiet=True))
    markers = _host_markers(str(out), str(course.root))
    grades = read_grades(out)
    db = sqlite3.connect(out / "grading.db")
    rows = {s: (m or "", t or "") for s, m, t in
            db.execute("SELECT student, message, error_tail FROM runs")}
    for student in PROGRAMS:
        assert grades[student]["status"] == "error"
        message, tail = rows[student]
        for what, text in (("grades.csv message", grades[student]["message"]),
                           ("stored message", message), ("stored error tail", tail)):
            assert not _leaks(text, markers), (student, what, text)
    # the neutral names stand where the host folders were
    assert '"<python>/lib/python' in rows["crash"][1]
    assert "ImportError: cannot import name 'no_such_name' from 'json' (<python>/lib/python" \
        in rows["badname"][0]
    # the crash's page (its message, log tail and traceback) shows no host path
    for ext in ("html", "txt", "md"):
        page = (out / "reports" / "students" / f"crash.{ext}").read_text(encoding="utf-8")
        assert "JSONDecodeError" in page and not _leaks(page, markers), (ext, _leaks(page,
                                                                                     markers))
        # an exception whose own text names a file (the ImportError's module path)
        page = (out / "reports" / "students" / f"badname.{ext}").read_text(encoding="utf-8")
        assert "no_such_name" in page and not _leaks(page, markers), (ext, _leaks(page,
                                                                                  markers))
    # the instructor's log keeps the real paths
    stderr = (out / "runs" / "crash" / "stderr.txt").read_text(encoding="utf-8")
    assert f'File "{sys.base_prefix}' in stderr or \
        f'File "{os.path.realpath(sys.base_prefix)}' in stderr


def test_the_none_backends_workspace_and_data_are_named_neutrally(tmp_path, capfd):
    """Unsandboxed, the program runs in the grader's temporary folders and reads the course's
    data folder at its host path: the message names neither."""
    from tests.conftest import SandboxRunner

    runner = SandboxRunner("none", tmp_path)
    src = ("import os\nopen(os.path.join(os.environ['GRADER_DATA'], 'nope.csv'))\n")
    v, _, _ = runner.run(src, limits=fast_limits())
    capfd.readouterr()
    assert v.status == "error" and "FileNotFoundError" in v.message
    assert "<data>/nope.csv" in v.message, v.message
    assert str(tmp_path) not in v.message and str(tmp_path) in v.stderr
    # the program's own file lives in the runner's temporary workspace
    v, _, _ = runner.run("raise ValueError(__file__)\n", limits=fast_limits())
    capfd.readouterr()
    assert "ValueError: <submission>/main.py (unsandboxed)" in v.message, v.message
    assert 'File "<submission>/main.py"' in v.error_tail, v.error_tail
    assert tempfile.gettempdir() + "/gradebox" in v.stderr  # the instructor's log: whole


def test_an_import_error_names_no_host_path_on_either_backend(sandbox_backend):
    v, _, _ = sandbox_backend.run("from json import no_such_name\n")
    assert v.status == "error"
    assert "from 'json' (<python>/lib/python" in v.message, v.message
    markers = _host_markers()
    assert not _leaks(v.message + v.error_tail, markers)
    assert _leaks(v.stderr, markers)  # the instructor's log keeps the real path
