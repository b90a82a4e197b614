"""Errors of the sandbox itself (not of the student's program, which become a ``Verdict``)."""

from __future__ import annotations

from diagnostics import Diagnostic

__all__ = ["SandboxError", "SandboxUnavailable", "SandboxBroken"]


class SandboxError(Diagnostic):
    """Something about the sandbox that the person running gradebox must fix."""

    reference = "sandbox"


class SandboxUnavailable(SandboxError):
    """The requested backend does not work on this machine."""

    reference = "no-sandbox"


class SandboxBroken(SandboxError):
    """The backend failed to start or stop a run: the machine needs an administrator."""

    reference = "sandbox-broken"
