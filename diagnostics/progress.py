"""Progress of long work for a person watching: the time left, and the stage printer the
similarity engine reports to (``grader similarity``, the batch's similarity stage). Standard
library only, so a command that prints progress pays no import for it."""

from __future__ import annotations

import shutil
import sys
import time
from collections.abc import Callable
from typing import TextIO

from diagnostics.text import terminal_safe

__all__ = ["StageProgress", "eta_text"]


def eta_text(seconds: float | None) -> str:
    """``ETA 42 s``, ``ETA 3 min 20 s``, ``ETA 1 h 05 min``; ``ETA –`` before any run ended.

    Examples
    --------
    >>> eta_text(200.4)
    'ETA 3 min 20 s'
    """
    if seconds is None:
        return "ETA –"
    s = int(round(seconds))
    if s < 60:
        return f"ETA {s} s"
    if s < 3600:
        return f"ETA {s // 60} min {s % 60:02d} s"
    return f"ETA {s // 3600} h {s % 3600 // 60:02d} min"


class StageProgress:
    """Prints a long computation's progress by stage, as the similarity engine reports it
    (``progress(stage, done, total)``): ``similarity: read submissions 1,200/5,000 · ETA 45 s``.

    A stage that ends within ``quiet_s`` prints nothing, so a small class's run stays as short
    as before. On a terminal the line is redrawn in place (at most every ``interval_s``);
    otherwise (logs, CI), or through ``say`` (a batch's own messages, which may be quiet or
    logged), a line is given at each tenth of a stage.
    """

    def __init__(self, *, stream: TextIO | None = None, say: Callable[[str], None] | None = None,
                 label: str = "similarity", quiet_s: float = 1.0, interval_s: float = 0.2,
                 clock=time.monotonic):
        self.stream = stream or sys.stderr
        self.say = say
        self.tty = say is None and self.stream.isatty()
        self.label = label
        self.quiet_s, self.interval_s, self.clock = quiet_s, interval_s, clock
        self.stage: str | None = None
        self.started = 0.0
        self.shown = -1.0  # when the line was last drawn (terminal), or the tenth printed
        self.drawn = False  # a redrawn line is open on the terminal

    def __call__(self, stage: str, done: int, total: int) -> None:
        now = self.clock()
        if stage != self.stage:
            self._end_line()
            self.stage, self.started, self.shown = stage, now, -1.0
        if now - self.started < self.quiet_s or total <= 0:
            return
        left = (now - self.started) / done * (total - done) if done else None
        line = (f"{self.label}: {terminal_safe(stage)} {done:,}/{total:,}"
                + (f" · {eta_text(left)}" if done < total else ""))
        if self.tty:
            if done < total and now - self.shown < self.interval_s:
                return
            cols = shutil.get_terminal_size((100, 24)).columns - 1
            self.stream.write("\r\033[K" + (line if len(line) <= cols else line[: cols - 1] + "…"))
            self.shown, self.drawn = now, True
        else:
            tenth = done * 10 // total
            if tenth <= self.shown:
                return
            self.shown = tenth
            if self.say is not None:
                self.say(line)
                return
            self.stream.write(line + "\n")
        self.stream.flush()

    def close(self) -> None:
        """End the redrawn line, if one is open."""
        self._end_line()
        if self.say is None:
            self.stream.flush()

    def _end_line(self) -> None:
        if self.drawn:
            self.stream.write("\n")
            self.drawn = False
