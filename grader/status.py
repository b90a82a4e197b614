"""The status of a submission (defined once, in ``sandbox.status``; re-exported here)."""

from __future__ import annotations

from sandbox.status import STATUS_ORDER, Status

__all__ = ["Status", "STATUS_ORDER"]
