"""The progress line of long batches: done/total, counts per status, who is running, the ETA."""

from __future__ import annotations

import shutil
import sys
import time
from collections import Counter
from collections.abc import Sequence
from typing import TextIO

from diagnostics.progress import eta_text
from diagnostics.text import terminal_safe

#: students named on the line at most (the rest are counted)
MAX_NAMED = 3


class Progress:
    """Prints ``[ 12/150] ok 10 · error 1 · now ana, dan · ETA 3 min 20 s`` as results arrive.

    On a terminal the line is redrawn in place (cut to the terminal's width, so it never
    wraps); otherwise (logs, CI) one line is printed per finished run so the log stays
    readable. ``order`` is the order runs were handed to the executor and ``slots`` how many
    run at once: the first ``slots`` unfinished ones are the running ones (exact for the local
    pool, which starts runs in that order; not shown when ``slots`` is None). The ETA is the
    time per finished run so far times the runs left (so it counts the parallel slots).
    """

    def __init__(self, total: int, *, stream: TextIO | None = None, label: str = "running",
                 order: Sequence[str] = (), slots: int | None = None,
                 clock=time.monotonic):
        self.total = total
        self.done = 0
        self.counts: Counter[str] = Counter()
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self.label = label
        self.order = list(order)
        self.slots = slots
        self.finished: set[str] = set()
        self.clock = clock
        self.started = clock()
        self.closed = False

    def running(self) -> list[str]:
        """The students running now (see the class docstring)."""
        if not self.slots:
            return []
        return [s for s in self.order if s not in self.finished][: self.slots]

    def eta(self) -> float | None:
        """Seconds left, from the pace so far; None before the first run ended."""
        if not self.done:
            return None
        return (self.clock() - self.started) / self.done * (self.total - self.done)

    def _line(self) -> str:
        counts = " · ".join(f"{k} {v}" for k, v in sorted(self.counts.items()))
        width = len(str(self.total))
        parts = [f"[{self.done:>{width}}/{self.total}] {self.label}", counts]
        now = self.running()
        if now:
            named = ", ".join(terminal_safe(s) for s in now[:MAX_NAMED])
            more = f" +{len(now) - MAX_NAMED}" if len(now) > MAX_NAMED else ""
            parts.append(f"· now {named}{more}")
        if self.done < self.total:
            parts.append(f"· {eta_text(self.eta())}")
        return " ".join(p for p in parts if p)

    def _draw(self) -> None:
        line = self._line()
        cols = shutil.get_terminal_size((100, 24)).columns - 1
        self.stream.write("\r\033[K" + (line if len(line) <= cols else line[: cols - 1] + "…"))

    def start(self) -> None:
        """Show the line before the first run ends (on a terminal)."""
        if self.tty and self.total:
            self._draw()
            self.stream.flush()

    def update(self, student: str, status: str, seconds: float | None = None) -> None:
        """One run ended with ``status`` (the final one: ``invalid_output`` for an ok run
        whose output is unusable)."""
        self.done += 1
        self.counts[status] += 1
        self.finished.add(student)
        if self.tty:
            self._draw()
        else:
            took = f" ({seconds:.1f} s)" if seconds is not None else ""
            self.stream.write(f"{self._line()} — {terminal_safe(student)}: {status}{took}\n")
        self.stream.flush()

    def close(self) -> None:
        """End the redrawn line (once)."""
        if self.tty and self.done and not self.closed:
            self.stream.write("\n")
        self.closed = True
        self.stream.flush()
