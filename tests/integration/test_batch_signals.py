"""A long batch stopped by SIGTERM or SIGHUP in a real terminal (a pty, as under systemd,
Slurm, ``timeout`` or a closed ssh session): a clean stop like Ctrl-C, no sandbox left
behind, finished results kept, the documented exit code (``grader.cli.STOP_SIGNALS``); the
progress line on that terminal names who is running and the time left."""

from __future__ import annotations

import os
import pty
import signal
import sqlite3
import sys
import threading
import time

import pytest

from grader.cli import STOP_SIGNALS
from tests.integration.batch_helpers import honest, make_course, write_submissions

pytestmark = [pytest.mark.bwrap, pytest.mark.slow]

SLEEPER = "import time\ntime.sleep(50)\n"


def _finished(out) -> set[str]:
    try:
        db = sqlite3.connect(out / "grading.db")
        try:
            return {r[0] for r in db.execute("SELECT student FROM runs")}
        finally:
            db.close()
    except sqlite3.Error:
        return set()


def _drain(fd: int, sink: list[bytes]) -> None:
    """Read the terminal until the child closes it (a full pty would block the child)."""
    while True:
        try:
            chunk = os.read(fd, 4096)
        except OSError:
            return
        if not chunk:
            return
        sink.append(chunk)


def _sandbox_leftovers(names: list[str]) -> list[str]:
    """Processes anywhere on the machine running one of these programs (a sandbox that
    outlived the batch, reparented away from it)."""
    import psutil

    left = []
    for p in psutil.process_iter(["pid", "name", "cmdline", "status"]):
        cmd = " ".join(p.info["cmdline"] or [])
        if p.info["status"] != psutil.STATUS_ZOMBIE and any(n in cmd for n in names):
            left.append(f"{p.info['pid']} {p.info['name']}: {cmd[:120]}")
    return left


@pytest.mark.parametrize("signame", ["SIGTERM", "SIGHUP"])
def test_stop_signal_in_a_terminal_stops_cleanly(tmp_path, bwrap_sandbox, signame):
    import psutil

    course_dir = make_course(tmp_path / "course", time_limit_s=60)
    # names no other test uses: the leftover scan looks at the whole machine
    nappers = [f"napper_{signame.lower()}_{i}" for i in range(3)]
    subs = write_submissions(tmp_path / "subs", {"a_quick": honest(0.5),
                                                 **{n: SLEEPER for n in nappers}})
    out = tmp_path / "out"
    argv = [sys.executable, "-m", "grader", "run", str(course_dir), "--submissions", str(subs),
            "--out", str(out), "--jobs", "2", "--no-similarity", "--no-reports"]
    pid, fd = pty.fork()
    if pid == 0:  # the child: the grader, its stdin/stdout/stderr the terminal
        try:
            os.execv(sys.executable, argv)
        finally:
            os._exit(127)
    screen: list[bytes] = []
    reader = threading.Thread(target=_drain, args=(fd, screen), daemon=True)
    reader.start()
    try:
        deadline = time.time() + 90
        while time.time() < deadline and "a_quick" not in _finished(out):
            time.sleep(0.1)
        assert "a_quick" in _finished(out), b"".join(screen).decode(errors="replace")[-2000:]
        time.sleep(1.5)  # two nappers are running now
        sandboxes = psutil.Process(pid).children(recursive=True)
        assert any(p.name() == "bwrap" for p in sandboxes), [p.name() for p in sandboxes]
        started = time.time()
        os.kill(pid, getattr(signal, signame))
        waited, status = 0, 0
        while time.time() - started < 30 and not waited:
            waited, status = os.waitpid(pid, os.WNOHANG)
            time.sleep(0.05)
        assert waited, f"grader still running 30 s after {signame}"
        assert os.waitstatus_to_exitcode(status) == STOP_SIGNALS[signame]
        assert STOP_SIGNALS == {"SIGINT": 130, "SIGTERM": 143, "SIGHUP": 129}
        _, alive = psutil.wait_procs(sandboxes, timeout=10)
        assert not [p for p in alive if p.status() != psutil.STATUS_ZOMBIE]
        assert _sandbox_leftovers(nappers) == []
    finally:
        if not waited:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        reader.join(timeout=5)
        os.close(fd)
    text = b"".join(screen).decode(errors="replace")
    # the finished run is kept, nothing of the stopped ones is stored
    assert _finished(out) == {"a_quick"}
    assert f"interrupted ({signame}): finished results are kept" in text
    assert "stopping: killing running sandboxes" in text
    # the terminal's progress line: redrawn in place, with done/total, who runs, the ETA
    assert "\r\x1b[K[1/4]" in text and "now napper_" in text and "ETA " in text
