"""The outcome of one sandboxed run, as plain data (JSON-serialisable)."""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass
class Verdict:
    """What the sandbox says about a run.

    ``status`` is one of ``ok``, ``error``, ``timeout``, ``memory``. ``message`` is one
    line for humans; ``error_tail`` holds the exception and the last traceback lines.
    """

    status: str
    exit_code: int | None
    wall_s: float
    backend: str
    message: str = ""
    error_tail: str = ""
    stdout: str = ""
    stderr: str = ""
    stdout_truncated: bool = False
    stderr_truncated: bool = False
    peak_memory_mb: float | None = None
    gpu_devices: tuple[int, ...] = ()

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> Verdict:
        d = dict(d)
        d["gpu_devices"] = tuple(d.get("gpu_devices") or ())
        return cls(**{k: v for k, v in d.items() if k in cls.__dataclass_fields__})
