"""Stopping a local batch (Ctrl-C, SIGTERM, SIGHUP): ``LocalExecutor.cancel`` kills the running
sandboxes, and also the ones a slot starts just after the stop, while it was still preparing
its run; the pool would otherwise wait for them (a batch hung 30 s and more after SIGHUP)."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from concurrent.futures import CancelledError

import psutil

import grader.executors.local as local
from grader.executors.local import LocalExecutor
from grader.executors.task import RunTask
from sandbox import Limits


def test_a_sandbox_started_just_after_the_stop_is_killed_too(monkeypatch):
    started: list[int] = []

    def slow_to_start(task, gpu_devices=()):
        time.sleep(0.8)  # preparing: copying the workspace, checking the environment
        proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(20)"])
        started.append(proc.pid)
        proc.wait()  # the run: until the program ends or is killed
        return None

    monkeypatch.setattr(local, "execute_run", slow_to_start)
    tasks = [RunTask(f"s{i}", "k", {"main.py": b""}, "main.py", "/nonexistent", Limits(),
                     "bwrap") for i in range(3)]
    ex = LocalExecutor(jobs=2)
    def consume() -> None:  # the batch's loop; the cancelled runs end it
        try:
            list(ex.map_unordered(tasks))
        except CancelledError:
            pass

    consumer = threading.Thread(target=consume, daemon=True)
    consumer.start()
    time.sleep(0.3)  # both slots are preparing; nothing runs yet
    t = time.monotonic()
    ex.cancel()
    took = time.monotonic() - t
    assert took < 10, f"cancel waited {took:.1f} s for sandboxes started after the stop"
    assert len(started) == 2  # the third run never started
    alive = [p for p in started if psutil.pid_exists(p)
             and psutil.Process(p).status() != psutil.STATUS_ZOMBIE]
    assert alive == []
    consumer.join(timeout=5)
