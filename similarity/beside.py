"""Two halves of one job at once: one in a forked copy of this process, one in this process.

A fork costs milliseconds and the copy inherits everything already computed (the prepared
class, the pairs), so only the forked half's result travels back. It is safe only while this
process has no other thread: a fork copies no thread, and a lock another thread holds would
stay held in the copy forever.
"""

from __future__ import annotations

import multiprocessing
import threading
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import TypeVar

__all__ = ["beside", "can_fork"]

T = TypeVar("T")
U = TypeVar("U")

_INHERITED: list[Callable] = []  # the forked half, handed over through the fork itself


def can_fork() -> bool:
    """A fork is possible and safe now: the platform has it, and this process one thread."""
    return threading.active_count() == 1 and "fork" in multiprocessing.get_all_start_methods()


def beside(there: Callable[[], T], here: Callable[[], U]) -> tuple[T, U] | None:
    """``there()`` in a forked worker while ``here()`` runs in this process.

    Returns
    -------
    (result of there, result of here), or None
        None when no fork is possible (``can_fork``) or no worker process could start: then
        the caller does the whole job itself (``here`` may have run; it must be safe to do
        again).
    """
    if not can_fork():
        return None
    _INHERITED[:] = [there]
    try:
        with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("fork")) as ex:
            theirs = ex.submit(_run_inherited)
            mine = here()
            return theirs.result(), mine
    except (OSError, RuntimeError, BrokenProcessPool):
        return None
    finally:
        _INHERITED.clear()


def _run_inherited():
    return _INHERITED[0]()
