"""Errors of the report renderer that the person running it can fix."""

from __future__ import annotations

from diagnostics import Diagnostic

__all__ = ["ReportsError"]


class ReportsError(Diagnostic):
    """A bad request to the renderer (for example an unknown export column)."""

    reference = "reports"
