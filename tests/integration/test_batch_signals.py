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

pytestmark = [pytest.mark.slow]

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


def _containers(names: list[str]) -> list[str]:
    """gradebox containers (running or not) of runs with one of these names."""
    from sandbox.backends import docker as dk

    return [f"{c.name} {c.status}" for c in dk.client().containers.list(
        all=True, filters={"label": dk.LABEL})
        if any(n in c.labels.get("gradebox.name", "") for n in names)]


def _stop_in_a_terminal(tmp_path, signame: str, backend: str) -> tuple[str, object, list]:
    """A batch of one quick run and three 50 s sleepers in a pty, stopped by ``signame``
    while two sleepers run; returns the terminal's text, the output folder and the sleepers'
    names, after checking the exit code and that no sandbox outlived the batch."""
    import psutil

    course_dir = make_course(tmp_path / "course", time_limit_s=60)
    # names no other test uses: the leftover scan looks at the whole machine
    nappers = [f"napper_{backend}_{signame.lower().replace('+', '_')}_{i}" for i in range(3)]
    subs = write_submissions(tmp_path / "subs", {"a_quick": honest(0.5),
                                                 **{n: SLEEPER for n in nappers}})
    out = tmp_path / "out"
    argv = [sys.executable, "-m", "grader", "run", str(course_dir), "--submissions", str(subs),
            "--out", str(out), "--jobs", "2", "--no-similarity", "--no-reports",
            "--backend", backend]
    pid, fd = pty.fork()
    if pid == 0:  # the child: the grader, its stdin/stdout/stderr the terminal
        try:
            # a terminal's shell leaves these at their defaults; under 'nohup' (a CI script)
            # this test process ignores SIGHUP, and the grader rightly keeps an ignored signal
            # ignored, which is not the case tested here
            for name in ("SIGHUP", "SIGTERM", "SIGINT"):
                signal.signal(getattr(signal, name), signal.SIG_DFL)
            os.execv(sys.executable, argv)
        finally:
            os._exit(127)
    screen: list[bytes] = []
    reader = threading.Thread(target=_drain, args=(fd, screen), daemon=True)
    reader.start()
    waited = 0
    try:
        deadline = time.time() + 90
        while time.time() < deadline and "a_quick" not in _finished(out):
            time.sleep(0.1)
        assert "a_quick" in _finished(out), b"".join(screen).decode(errors="replace")[-2000:]
        time.sleep(1.5)  # two nappers are running now
        sandboxes = psutil.Process(pid).children(recursive=True)
        if backend == "bwrap":
            assert any(p.name() == "bwrap" for p in sandboxes), [p.name() for p in sandboxes]
        else:
            running = [c for c in _containers(nappers) if c.endswith("running")]
            assert running, _containers(nappers)
        started = time.time()
        first, *more = signame.split("+")  # "SIGINT+SIGINT+SIGTERM": a burst, 50 ms apart
        os.kill(pid, getattr(signal, first))
        for name in more:
            time.sleep(0.05)
            os.kill(pid, getattr(signal, name))
        status = 0
        while time.time() - started < 30 and not waited:
            waited, status = os.waitpid(pid, os.WNOHANG)
            time.sleep(0.05)
        assert waited, f"grader still running 30 s after {signame}"
        assert os.waitstatus_to_exitcode(status) == STOP_SIGNALS[first]
        assert STOP_SIGNALS == {"SIGINT": 130, "SIGTERM": 143, "SIGHUP": 129}
        _, alive = psutil.wait_procs(sandboxes, timeout=10)
        assert not [p for p in alive if p.status() != psutil.STATUS_ZOMBIE]
        assert _sandbox_leftovers(nappers) == []
        if backend == "docker":  # every container removed, not only stopped
            assert _containers(nappers) == []
    finally:
        if not waited:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        reader.join(timeout=5)
        os.close(fd)
    return b"".join(screen).decode(errors="replace"), out, nappers


@pytest.mark.parametrize("signame", ["SIGTERM", "SIGHUP"])
@pytest.mark.bwrap
def test_stop_signal_in_a_terminal_stops_cleanly(tmp_path, bwrap_sandbox, signame):
    text, out, _ = _stop_in_a_terminal(tmp_path, signame, "bwrap")
    # the finished run is kept, nothing of the stopped ones is stored
    assert _finished(out) == {"a_quick"}
    assert f"interrupted ({signame}): finished results are kept" in text
    assert "stopping: killing running sandboxes" in text
    # the terminal's progress line: redrawn in place, with done/total, who runs, the ETA
    assert "\r\x1b[K[1/4]" in text and "now napper_" in text and "ETA " in text


@pytest.mark.docker
def test_sigterm_on_docker_removes_the_running_containers(tmp_path, docker_sandbox):
    """The same stop on the Docker backend: the running containers are killed and removed
    (the cancel path under a signal), the finished result kept."""
    text, out, _ = _stop_in_a_terminal(tmp_path, "SIGTERM", "docker")
    assert _finished(out) == {"a_quick"}
    assert "interrupted (SIGTERM): finished results are kept" in text


@pytest.mark.docker
def test_a_burst_of_stop_signals_still_stops_cleanly(tmp_path, docker_sandbox):
    """Ctrl-C, Ctrl-C again and a TERM within 0.1 s (an impatient user, then a supervisor):
    the first one stops the batch, the others do not interrupt the cleanup (they gave a
    traceback and left containers running)."""
    text, out, _ = _stop_in_a_terminal(tmp_path, "SIGINT+SIGINT+SIGTERM", "docker")
    assert _finished(out) == {"a_quick"}
    assert "interrupted (SIGINT): finished results are kept" in text
    assert "Traceback" not in text and "Exception ignored" not in text, text[-3000:]
