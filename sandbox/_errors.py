"""Errors of the sandbox itself (not of the student's program, which become a ``Verdict``)."""

from __future__ import annotations

from grader.errors import GraderError


class SandboxBroken(GraderError):
    """The backend failed to start or stop a run: the machine needs an administrator."""

    reference = "sandbox-broken"
    exit_code = 3
