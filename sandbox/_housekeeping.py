"""Once per grader process: remove what graders that crashed left behind."""

from __future__ import annotations

import threading

from sandbox import _cgroup, _workspace

_done = threading.Event()
_lock = threading.Lock()


def sweep_once() -> None:
    """Kill and remove stale run cgroups and unmount stale workspaces (first call only)."""
    if _done.is_set():
        return
    with _lock:
        if _done.is_set():
            return
        _cgroup.sweep_stale()
        _workspace.sweep_stale()
        _done.set()
