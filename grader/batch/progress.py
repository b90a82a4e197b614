"""A small progress line for long batches: counts per status, what is running."""

from __future__ import annotations

import sys
import time
from collections import Counter
from typing import TextIO

from diagnostics.text import terminal_safe


class Progress:
    """Prints ``[ 12/150] ok 10 · error 1 · timeout 1`` as results arrive.

    On a terminal the line is redrawn in place; otherwise (logs, CI) one line is printed per
    finished run so the log stays readable.
    """

    def __init__(self, total: int, *, stream: TextIO | None = None, label: str = "running"):
        self.total = total
        self.done = 0
        self.counts: Counter[str] = Counter()
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self.label = label
        self.started = time.monotonic()

    def _line(self) -> str:
        counts = " · ".join(f"{k} {v}" for k, v in sorted(self.counts.items()))
        width = len(str(self.total))
        return f"[{self.done:>{width}}/{self.total}] {self.label} {counts}".rstrip()

    def update(self, student: str, status: str, seconds: float | None = None) -> None:
        self.done += 1
        self.counts[status] += 1
        if self.tty:
            self.stream.write("\r\033[K" + self._line())
        else:
            took = f" ({seconds:.1f} s)" if seconds is not None else ""
            self.stream.write(f"{self._line()} — {terminal_safe(student)}: {status}{took}\n")
        self.stream.flush()

    def close(self) -> None:
        if self.tty and self.done:
            self.stream.write("\n")
        self.stream.flush()
