"""The status of a submission, exactly the strings written to grades.csv."""

from __future__ import annotations

from enum import StrEnum


class Status(StrEnum):
    OK = "ok"
    ERROR = "error"
    TIMEOUT = "timeout"
    MEMORY = "memory"
    INVALID_OUTPUT = "invalid_output"
    REJECTED = "rejected"
