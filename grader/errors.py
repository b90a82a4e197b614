"""Errors a user can cause, each with what went wrong, where, and what to do next.

The CLI maps these to exit codes in one place (``grader.cli.main``); tracebacks are shown
only with ``--debug``.
"""

from __future__ import annotations


class GraderError(Exception):
    """An error the user can fix: a message, optional per-item problems and a hint."""

    reference = "grader-error"
    exit_code = 1

    def __init__(self, message: str, *, problems: list[str] | None = None, hint: str | None = None):
        super().__init__(message)
        self.message = message
        self.problems = list(problems or [])
        self.hint = hint

    def render(self) -> str:
        lines = [f"error[{self.reference}]: {self.message}"]
        lines += [f"  {p}" for p in self.problems]
        if self.hint:
            lines.append(f"hint: {self.hint}")
        return "\n".join(lines)


class CourseError(GraderError):
    reference = "invalid-course"


class SubmissionsError(GraderError):
    reference = "invalid-submissions"


class InputFileError(GraderError):
    """A malformed user file: leaderboard, roster, adjustments, mailbox, components."""

    reference = "invalid-file"


class SandboxUnavailable(GraderError):
    reference = "no-sandbox"
    exit_code = 3


class StoreError(GraderError):
    reference = "store"
    exit_code = 4
