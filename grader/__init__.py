"""gradebox's orchestration: course config, intake, batches, scoring, grades, store, CLI.

Public names: ``load_course``, ``Course``, ``Submission``, ``Rejection``, ``scan_submissions``,
``run_batch``, ``BatchOptions``, ``Status``. Imports are lazy so that ``grader --help`` loads
neither scikit-learn nor torch.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__all__ = ["load_course", "Course", "Submission", "Rejection", "scan_submissions",
           "run_batch", "BatchOptions", "Status"]

_LAZY = {
    "load_course": "grader.course", "Course": "grader.course",
    "Submission": "grader.intake", "Rejection": "grader.intake",
    "scan_submissions": "grader.intake",
    "run_batch": "grader.batch", "BatchOptions": "grader.batch",
    # Status too: grader.status loads the sandbox package, which `grader similarity` never needs
    "Status": "grader.status",
}

if TYPE_CHECKING:  # pragma: no cover
    from grader.batch import BatchOptions, run_batch
    from grader.course import Course, load_course
    from grader.intake import Rejection, Submission, scan_submissions
    from grader.status import Status


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'grader' has no attribute {name!r}")
