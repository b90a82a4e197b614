"""Errors a user can cause in the grading pipeline and the course operations.

Each engine has its own (``sandbox.SandboxError``, ``similarity.SimilarityError``,
``reports.ReportsError``); all stand on ``diagnostics.Diagnostic``. The CLI maps them to exit
codes in one table (``grader.cli.EXIT_CODES``); tracebacks are shown only with ``--debug``.
"""

from __future__ import annotations

from diagnostics import Diagnostic
from sandbox.errors import SandboxUnavailable

__all__ = ["GraderError", "CourseError", "SubmissionsError", "InputFileError",
           "SandboxUnavailable", "StoreError"]


class GraderError(Diagnostic):
    """An error the user can fix in the pipeline's inputs or state."""

    reference = "grader-error"


class CourseError(GraderError):
    reference = "invalid-course"


class SubmissionsError(GraderError):
    reference = "invalid-submissions"


class InputFileError(GraderError):
    """A malformed user file: leaderboard, roster, adjustments, mailbox, components."""

    reference = "invalid-file"


class StoreError(GraderError):
    reference = "store"
