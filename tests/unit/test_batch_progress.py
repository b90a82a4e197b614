"""The long-batch progress line (issue 14, item 6): done/total, who is running, the ETA, and
log lines with the final status (an ok run with an unusable submission.csv is
``invalid_output``)."""

from __future__ import annotations

import io

from grader.batch.progress import Progress, eta_text
from grader.batch.runs import _final_status
from grader.course import load_course
from grader.executors.task import RunResult
from tests.integration.batch_helpers import N_TEST, make_course


class _Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_log_lines_name_the_next_running_students_and_the_eta():
    clock, out = _Clock(), io.StringIO()
    p = Progress(5, stream=out, order=["ana", "dan", "eva", "ion", "zoe"], slots=2, clock=clock)
    assert p.running() == ["ana", "dan"] and p.eta() is None
    clock.t += 30
    p.update("dan", "ok", 29.5)
    clock.t += 30
    p.update("ana", "error", 59.0)
    lines = out.getvalue().splitlines()
    assert lines[0] == "[1/5] running ok 1 · now ana, eva · ETA 2 min 00 s — dan: ok (29.5 s)"
    # 60 s for 2 runs, 3 left: 90 s
    assert lines[1] == "[2/5] running error 1 · ok 1 · now eva, ion · ETA 1 min 30 s — ana: error (59.0 s)"


def test_terminal_line_is_redrawn_and_never_wraps(monkeypatch):
    monkeypatch.setenv("COLUMNS", "40")
    clock, term = _Clock(), _Terminal()
    names = [f"student_with_a_long_name_{i}" for i in range(4)]
    p = Progress(4, stream=term, order=names, slots=4, clock=clock)
    p.start()
    clock.t += 10
    p.update(names[0], "ok")
    p.close()
    p.close()  # the stop path closes twice: one newline
    frames = term.getvalue().split("\r\x1b[K")[1:]
    assert frames[0] == "[0/4] running · now student_with_a_lon…"
    assert all(len(f.rstrip("\n")) <= 39 for f in frames) and frames[-1].endswith("…\n")
    assert term.getvalue().count("\n") == 1


def test_eta_text():
    assert eta_text(None) == "ETA –"
    assert eta_text(42.4) == "ETA 42 s"
    assert eta_text(3725) == "ETA 1 h 02 min"


def test_log_uses_the_final_status_of_a_run(tmp_path):
    course = load_course(make_course(tmp_path / "course"))
    status = _final_status(course)

    def result(csv: bytes | None, run_status: str = "ok", error: str | None = None):
        return RunResult("ioana", "k", {"status": run_status}, csv, error, 0.0, 1.0)

    good = "id,label\n" + "".join(f"t{i},big\n" for i in range(N_TEST))
    assert status(result(good.encode())) == "ok"
    # the demo's ioana_invalid: no header and half the ids; the run itself ended ok
    half = "".join(f"t{i},big\n" for i in range(N_TEST // 2))
    assert status(result(half.encode())) == "invalid_output"
    assert status(result(None, error="submission.csv is a link")) == "invalid_output"
    assert status(result(None, run_status="timeout")) == "timeout"
