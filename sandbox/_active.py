"""The runs in flight in this process, so that ``cancel_all()`` can stop them (Ctrl-C).

Docker runs have no child process of the grader to kill; each backend registers how to
stop its run here while it is in flight.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_ids = itertools.count()
_runs: dict[int, RunHandle] = {}


class RunHandle:
    """A run in flight: ``kill`` is set by the backend once there is something to kill."""

    def __init__(self) -> None:
        self.kill: Callable[[], None] | None = None
        self.cancelled = False


@contextmanager
def track() -> Iterator[RunHandle]:
    handle = RunHandle()
    key = next(_ids)
    with _lock:
        _runs[key] = handle
    try:
        yield handle
    finally:
        with _lock:
            _runs.pop(key, None)


def cancel_all() -> int:
    """Kill every run in flight in this process; returns how many were signalled.

    Their verdicts come back as ``error`` with a "cancelled" message; the caller is
    expected to discard them.
    """
    with _lock:
        handles = list(_runs.values())
    n = 0
    for h in handles:
        h.cancelled = True
        if h.kill is not None:
            try:
                h.kill()
                n += 1
            except Exception:  # noqa: BLE001 - the run may be ending right now
                pass
    return n
