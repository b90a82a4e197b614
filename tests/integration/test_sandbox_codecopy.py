"""A submission folder holding a hard link to the hidden labels is never run (issue 16, item 9).

The sandbox's copy of the code refuses links and special files before anything is copied,
and the run becomes an ``error`` verdict naming the file: the batch goes on.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from sandbox import RunSpec, run
from sandbox._workspace import BASE
from tests.conftest import fast_limits

TOKEN = "LBL" + secrets.token_hex(8)


def _spec(tmp_path: Path, code: Path) -> RunSpec:
    (tmp_path / "data").mkdir()
    (tmp_path / "out").mkdir()
    return RunSpec(code_dir=code, entry="main.py", data_dir=tmp_path / "data",
                   output_dir=tmp_path / "out", limits=fast_limits(), name="eve")


def test_hard_linked_labels_in_the_code_folder_are_refused(sandbox_backend, tmp_path):
    labels = tmp_path / "course" / "hidden" / "test_labels.csv"
    labels.parent.mkdir(parents=True)
    labels.write_text(f"id,label\n10,{TOKEN}\n")
    code = tmp_path / "code"
    code.mkdir()
    marker = tmp_path / "ran"
    (code / "main.py").write_text(
        f"import os\nopen({str(marker)!r}, 'w')\nprint(open('labels.py').read())\n"
        "open(os.environ['GRADER_OUTPUT'] + '/submission.csv', 'w').write(open('labels.py').read())\n")
    os.link(labels, code / "labels.py")
    before = set(BASE.iterdir()) if BASE.is_dir() else set()
    v = run(_spec(tmp_path, code), backend=sandbox_backend.backend)
    assert v.status == "error" and v.exit_code is None
    assert "labels.py (a hard link: one of 2 names of the same file)" in v.message
    assert "cp, not ln" in v.message and TOKEN not in v.message + v.stdout + v.stderr
    assert not marker.exists() and not any((tmp_path / "out").iterdir())
    assert (set(BASE.iterdir()) if BASE.is_dir() else set()) <= before  # nothing left behind


def test_symlinks_and_fifos_in_the_code_folder_are_refused(sandbox_backend, tmp_path):
    code = tmp_path / "code"
    code.mkdir()
    (code / "main.py").write_text("print('ran')\n")
    (code / "secret.py").symlink_to("/etc/shadow")
    os.mkfifo(code / "pipe")
    v = run(_spec(tmp_path, code), backend=sandbox_backend.backend)
    assert v.status == "error" and "ran" not in v.stdout
    assert "secret.py (a symbolic link)" in v.message
    assert "pipe (not a regular file)" in v.message


def test_a_plain_nested_submission_still_runs(sandbox_backend, tmp_path):
    code = tmp_path / "code"
    (code / "pkg").mkdir(parents=True)
    (code / "pkg" / "__init__.py").write_text("")
    (code / "pkg" / "util.py").write_text("X = 41\n")
    (code / "main.py").write_text("from pkg.util import X\nprint(X + 1)\n")
    v = run(_spec(tmp_path, code), backend=sandbox_backend.backend)
    assert v.status == "ok" and v.stdout == "42\n", v.stderr
