"""``[sandbox] python`` is started once before any run: a broken one stops ``grader run``
with the course.toml line, instead of failing every run as a sandbox failure."""

from __future__ import annotations

import subprocess
import sys

from tests.integration.batch_helpers import make_course, write_submissions


def _grader_run(course, subs, out):
    return subprocess.run([sys.executable, "-m", "grader", "run", str(course), "--submissions",
                           str(subs), "--out", str(out), "--no-similarity"],
                          capture_output=True, text=True, timeout=300)


def test_a_python_that_does_not_start_stops_the_batch_before_any_run(tmp_path):
    broken = tmp_path / "python3"
    broken.write_text("#!/bin/sh\necho 'no such interpreter' >&2\nexit 3\n")
    broken.chmod(0o755)
    for python, said in ((tmp_path / "missing" / "python3", "No such file"),
                         (broken, "no such interpreter")):
        course = make_course(tmp_path / f"course-{python.parent.name}",
                             extra=f'python = "{python}"\n')
        subs = write_submissions(tmp_path / "subs", {"ok.py": "print('hi')\n"})
        out = tmp_path / f"out-{python.parent.name}"
        res = _grader_run(course, subs, out)
        assert res.returncode != 0
        text = res.stdout + res.stderr
        assert "course.toml:" in text and f'[sandbox] python = "{python}"' in text, text
        assert said in text, text
        assert not (out / "runs").exists()  # nothing ran


def test_a_working_python_is_accepted(tmp_path):
    from grader.course import load_course
    from grader.validate import sandbox_python_problems

    course = load_course(make_course(tmp_path / "course", extra=f'python = "{sys.executable}"\n'))
    assert sandbox_python_problems(course) == []
