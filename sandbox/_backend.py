"""What every backend module provides, and what ``available_backends`` reports."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field


@dataclass
class BackendInfo:
    """Whether a backend works on this machine, why not, and which GPUs it would use."""

    name: str
    works: bool
    reason: str = ""
    gpus: list[int] = field(default_factory=list)
    details: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return asdict(self)
