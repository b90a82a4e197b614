"""Grades that depend on the machine's load are said to: more parallel runs than cores is a
warning before the runs, and a run that timed out while the machine was overloaded is named
with the command that runs it again (a 4 s torch program timed out at 90 s in one batch and
finished in another). The real bubblewrap sandbox; the load average is the only thing set."""

from __future__ import annotations

import os

import pytest

from grader.batch import BatchOptions, run_batch
from grader.batch import runs as batch_runs
from grader.course import load_course
from tests.integration.batch_helpers import honest, make_course, read_grades, write_submissions

pytestmark = [pytest.mark.bwrap, pytest.mark.slow]

OPTS = dict(similarity=False, reports=False)


def test_more_runs_than_cores_is_a_warning(tmp_path, bwrap_sandbox):
    cores = os.cpu_count() or 1
    course = load_course(make_course(tmp_path / "course", extra=""))
    subs = write_submissions(tmp_path / "subs", {"a": honest(0.5), "b": honest(0.3)})
    said: list[str] = []
    run_batch(course, subs, tmp_path / "out", BatchOptions(jobs=cores + 1, **OPTS),
              log=said.append)
    (warning,) = [s for s in said if s.startswith("warning: --jobs")]
    assert f"--jobs {cores + 1} x 1 CPU(s) per run = {cores + 1} > this machine's {cores} " \
           "cores" in warning and f"use --jobs {cores}" in warning
    said.clear()
    run_batch(course, subs, tmp_path / "out2", BatchOptions(jobs=1, **OPTS), log=said.append)
    assert not [s for s in said if s.startswith("warning: --jobs")]
    # which Python the runs got is said once: the course environment, or a warning that
    # none is built (the grader's own interpreter, with its packages)
    (env,) = [s for s in said if s.startswith(("environment: ", "warning: no course env"))]
    assert env.startswith("environment: the default ML set") or \
        env.endswith(f"build it first, once: grader sandbox build {course.root}")


def test_a_timeout_on_an_overloaded_machine_is_named_with_the_rerun(tmp_path, bwrap_sandbox,
                                                                    monkeypatch):
    course = load_course(make_course(tmp_path / "course", time_limit_s=2))
    # "spin" uses its CPU in full until the limit: its time was its own, whatever the load
    # (a student's spinning processes raised the load and excused their own timeout)
    subs = write_submissions(tmp_path / "subs", {"quick": honest(0.5),
                                                 "slow": "import time\ntime.sleep(60)\n",
                                                 "spin": "while True:\n    pass\n"})
    monkeypatch.setattr(batch_runs, "_host_load", lambda: 4.0 * (os.cpu_count() or 1))
    said: list[str] = []
    run_batch(course, subs, tmp_path / "out", BatchOptions(jobs=1, **OPTS), log=said.append)
    grades = read_grades(tmp_path / "out")
    assert grades["slow"]["status"] == grades["spin"]["status"] == "timeout"
    (warning,) = [s for s in said if "timed out while this machine was overloaded" in s]
    assert warning.startswith("warning: 1 run(s) timed out") and ": slow;" in warning
    assert "spin" not in warning
    assert warning.endswith("grader run ... --jobs 1 --rerun slow")
    monkeypatch.setattr(batch_runs, "_host_load", lambda: 0.0)  # a quiet machine: no warning
    said.clear()
    run_batch(course, subs, tmp_path / "out", BatchOptions(jobs=1, rerun=("slow",), **OPTS),
              log=said.append)
    assert not [s for s in said if "overloaded" in s]
