"""An interrupted environment build leaves no installer behind: pip re-runs itself under the
course's interpreter, and killing the outer pip alone (what subprocess.run does on Ctrl-C,
SIGTERM or a timeout) left the inner one writing into the environment's folder, so the next
build failed on 'Directory not empty'. Real processes: a stand-in installer that starts a
child of its own, as pip does."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from sandbox import _envbuild


def test_a_stopped_build_kills_the_installers_children(tmp_path, monkeypatch):
    pidfile = tmp_path / "inner.pid"
    fake = tmp_path / "fake-python"
    fake.write_text(f"#!/bin/sh\nsleep 60 &\necho $! > {pidfile}\nsleep 60\n")
    fake.chmod(0o755)
    monkeypatch.setattr(sys, "executable", str(fake))
    with pytest.raises(subprocess.TimeoutExpired):
        _envbuild._pip("python3", "install", "numpy", timeout=1.0)
    inner = int(pidfile.read_text())
    for _ in range(50):
        if not _running(inner):
            break
        time.sleep(0.05)
    else:
        pytest.fail(f"the installer's child {inner} is still running")


def _running(pid: int) -> bool:
    """Alive and not a zombie (killed, it waits for init to reap it)."""
    try:
        os.kill(pid, 0)
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (ProcessLookupError, FileNotFoundError):
        return False
