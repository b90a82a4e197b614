"""What a batch is asked to do (``BatchOptions``) and what it reports back (``BatchSummary``)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from grader.status import Status

__all__ = ["BatchOptions", "BatchSummary"]


@dataclass
class BatchOptions:
    backend: str | None = None          # overrides [sandbox] backend
    jobs: int | None = None             # parallel sandboxes; default: GPUs, else 1
    executor: str = "local"             # local | dask
    scheduler: str | None = None        # Dask scheduler address
    reference: bool = False             # run the reference models into the batch
    reference_budget_s: float = 600.0  # safety deadline per model; [reference] budget_s wins
    similarity: bool = True
    reports: bool = True
    adjustments: Path | None = None     # adjustments.csv (deductions)
    kaggle_dir: Path | None = None      # <student>.csv: predictions uploaded to Kaggle
    quiet: bool = False
    #: students whose finished runs are run again (a machine fault stored as their error)
    rerun: tuple[str, ...] = ()


@dataclass
class BatchSummary:
    out_dir: Path
    counts: Counter = field(default_factory=Counter)
    ran: int = 0
    reused: int = 0
    grades: list[dict[str, Any]] = field(default_factory=list)
    #: stages after the runs that failed (their error is in the store's events)
    stage_errors: list[str] = field(default_factory=list)

    def line(self, reports: bool = True) -> str:
        """The batch in one line, pointing at its reports, or at grades.csv where none were
        rendered (``--no-reports``, or the reports stage failed)."""
        total = sum(self.counts.values())
        order = [s.value for s in Status]
        parts = ", ".join(f"{self.counts[s]} {s}" for s in order if self.counts.get(s))
        see = (self.out_dir / "reports" / "index.html"
               if reports and "reports" not in self.stage_errors
               else self.out_dir / "grades.csv")
        return f"graded {total}: {parts} — see {see}"
