"""Two halves of one job at once: one in a forked copy of this process, one in this process.

A fork costs milliseconds and the copy inherits everything already computed (the prepared
class, the pairs), so only the forked half's result travels back. It is safe only while this
process has no other thread: a fork copies no thread, and a lock another thread holds would
stay held in the copy forever.

``beside`` runs two independent halves; ``together`` gives both halves the ends of one pipe,
for a job whose halves meet midway (each counts over its documents, the counts are merged,
each finishes with the whole class's counts).
"""

from __future__ import annotations

import gc
import multiprocessing
import threading
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from multiprocessing.connection import Connection
from typing import TypeVar

__all__ = ["beside", "can_fork", "together"]

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


class _Failed:
    """What the forked half of ``together`` sends instead of a result when it raised."""

    def __init__(self, error: BaseException):
        self.error = repr(error)


def together(there: Callable[[Connection], T], here: Callable[[Connection], U]
             ) -> tuple[T, U] | None:
    """``there(conn)`` in a forked process while ``here(conn)`` runs in this one, each with
    one end of a pipe between them (``send``/``recv``, ``send_bytes``/``recv_bytes``).

    Returns
    -------
    (result of there, result of here), or None
        None when no fork is possible (``can_fork``), the forked process could not start, or
        either half failed or broke off (a half waiting on the other then reads end of file,
        and no process is left behind): then the caller does the whole job itself.
    """
    if not can_fork():
        return None
    # A cyclic collection here while the other half runs would write to every object's
    # header, and so copy every page the two processes still share (1 GB at 5,000
    # submissions): none until both halves are done.
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        return _together(there, here)
    finally:
        if was_enabled:
            gc.enable()


def _together(there: Callable[[Connection], T], here: Callable[[Connection], U]
              ) -> tuple[T, U] | None:
    ctx = multiprocessing.get_context("fork")
    mine, theirs = ctx.Pipe()
    _INHERITED[:] = [there]
    proc = ctx.Process(target=_serve, args=(theirs, mine), daemon=True)
    try:
        proc.start()
    except OSError:
        mine.close()
        return None
    finally:
        _INHERITED.clear()
        theirs.close()  # the forked half's end: its exit is then this end's end of file
    try:
        here_result = here(mine)
        there_result = mine.recv()  # sent last
    except (EOFError, OSError):
        return None
    finally:
        mine.close()
        proc.join(5)
        if proc.is_alive():
            proc.kill()
            proc.join()
    if isinstance(there_result, _Failed):
        return None
    return there_result, here_result


def _serve(conn: Connection, other_end: Connection) -> None:
    """The forked half of ``together``: its result, or the failure, goes through ``conn``."""
    other_end.close()  # this process's copy of the parent's end
    # Collections here would touch every inherited object and copy its memory page.
    gc.freeze()
    try:
        result: object = _INHERITED[0](conn)
    except BaseException as e:  # noqa: BLE001 - reported to the parent, which falls back
        result = _Failed(e)
    try:
        conn.send(result)
    except (OSError, ValueError):
        pass
    finally:
        conn.close()
