"""What reaches a person: errors a user can fix, with where and what to do next.

The one base class below every package (grader, sandbox, similarity, reports): each package
defines its own error types on it, and the ``grader`` command line maps them to exit codes in
one table (``grader.cli.EXIT_CODES``). This package imports nothing of gradebox's.

``diagnostics.text`` neutralises untrusted text for terminals and CSV cells, in one place;
``diagnostics.progress`` prints the progress of long work.
"""

from __future__ import annotations

from diagnostics.text import csv_safe, csv_writer, terminal_safe

__all__ = ["Diagnostic", "terminal_safe", "csv_safe", "csv_writer"]


class Diagnostic(Exception):
    """An error the user can fix: a message, optional per-item problems and a hint.

    Attributes
    ----------
    reference : str
        A short kebab-case name shown as ``error[reference]`` (stable, searchable).
    message : str
        What went wrong, in one sentence.
    problems : list of str
        One line per problem when there are several (all reported at once).
    hint : str or None
        What to do next.
    """

    reference = "error"

    def __init__(self, message: str, *, problems: list[str] | None = None,
                 hint: str | None = None):
        super().__init__(message)
        self.message = message
        self.problems = list(problems or [])
        self.hint = hint

    def render(self) -> str:
        """The error as the terminal shows it (no traceback)."""
        lines = [f"error[{self.reference}]: {self.message}"]
        lines += [f"  {p}" for p in self.problems]
        if self.hint:
            lines.append(f"hint: {self.hint}")
        # messages quote students' file names, e-mail headers, table cells: each line is
        # made terminal-safe (the line breaks between them are ours)
        return "\n".join(terminal_safe(part) for line in lines for part in line.split("\n"))
