"""The executor interface: run tasks somewhere, hand back results as they finish."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol

from grader.executors.task import RunResult, RunTask


class Executor(Protocol):
    """Runs :class:`RunTask` objects and yields :class:`RunResult` objects as they finish.

    Executors never touch the store. ``cancel`` kills what is running and drops the rest;
    the caller keeps every result it already received.
    """

    name: str

    def map_unordered(self, tasks: list[RunTask]) -> Iterator[RunResult]: ...

    def cancel(self) -> None: ...

    def close(self) -> None: ...
