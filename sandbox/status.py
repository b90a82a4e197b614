"""The status of a submission, exactly the strings written to grades.csv: the one place.

The sandbox produces the run statuses (``ok``, ``error``, ``timeout``, ``memory``,
``missing_package``); the pipeline adds the ones it decides (``invalid_output`` when the
output breaks the run contract, ``rejected`` at intake, ``absent`` for a roster student with
no leaderboard row in ``grader grades``). They live here, below every package
that uses them.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = ["Status", "STATUS_ORDER"]


class Status(StrEnum):
    OK = "ok"
    ERROR = "error"
    TIMEOUT = "timeout"
    MEMORY = "memory"
    #: an import of a package the course environment does not provide (not the student's crash)
    MISSING_PACKAGE = "missing_package"
    INVALID_OUTPUT = "invalid_output"
    REJECTED = "rejected"
    #: a roster student with no row on the imported leaderboard (``grader grades``)
    ABSENT = "absent"


#: the statuses in the order grades.csv documents them
STATUS_ORDER: tuple[str, ...] = tuple(s.value for s in Status)
