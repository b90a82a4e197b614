"""The runs in flight in this process, so that ``cancel_all()`` can stop them (Ctrl-C).

Docker runs have no child process of the grader to kill; each backend registers how to
stop its run here while it is in flight. A caller may tag the runs it starts (``tagged``), so
that ``cancel_tagged`` stops only those: a Dask worker serves several graders' batches, and
one grader's Ctrl-C must not kill another's runs.
"""

from __future__ import annotations

import contextvars
import itertools
import threading
from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_ids = itertools.count()
_runs: dict[int, RunHandle] = {}
_tag: contextvars.ContextVar[str | None] = contextvars.ContextVar("sandbox_run_tag",
                                                                 default=None)


class RunHandle:
    """A run in flight: ``kill`` is set by the backend once there is something to kill."""

    def __init__(self, tag: str | None = None) -> None:
        self.kill: Callable[[], None] | None = None
        self.cancelled = False
        self.tag = tag


@contextmanager
def tagged(tag: str) -> Iterator[None]:
    """Runs started in this context (this thread) carry ``tag``."""
    token = _tag.set(tag)
    try:
        yield
    finally:
        _tag.reset(token)


@contextmanager
def track() -> Iterator[RunHandle]:
    handle = RunHandle(_tag.get())
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
    return _kill(handles)


def cancel_tagged(tags: Collection[str]) -> int:
    """Kill the runs in flight whose tag is one of ``tags``; returns how many were signalled."""
    wanted = set(tags)
    with _lock:
        handles = [h for h in _runs.values() if h.tag in wanted]
    return _kill(handles)


def _kill(handles: list[RunHandle]) -> int:
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
