"""GPU discovery and assignment: each parallel run gets its own devices, never ``all``.

Examples
--------
>>> pool = GpuPool([0, 1], per_run=1)
>>> with pool.acquire() as devices:
...     devices
(0,)
"""

from __future__ import annotations

import glob
import os
import re
import shutil
import subprocess
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

_NVIDIA_DEV = re.compile(r"^/dev/nvidia(\d+)$")


def detect_gpus() -> list[int]:
    """Host GPU indices, from ``nvidia-smi -L`` or else the ``/dev/nvidia<N>`` nodes."""
    smi = shutil.which("nvidia-smi")
    if smi:
        try:
            out = subprocess.run([smi, "-L"], capture_output=True, text=True, timeout=20).stdout
            found = [int(m.group(1)) for m in re.finditer(r"^GPU (\d+):", out, re.M)]
            if found:
                return found
        except (OSError, subprocess.SubprocessError):
            pass
    nodes = (_NVIDIA_DEV.match(p) for p in glob.glob("/dev/nvidia[0-9]*"))
    return sorted(int(m.group(1)) for m in nodes if m)


class GpuPool:
    """A thread-safe pool of GPU indices handed out ``per_run`` at a time.

    Parameters
    ----------
    devices : sequence of int
        The host GPU indices to share (e.g. ``detect_gpus()``).
    per_run : int, default=1
        Devices each run gets; ``0`` makes ``acquire`` yield ``()`` without waiting.
    """

    def __init__(self, devices: Sequence[int], per_run: int = 1):
        self.devices = tuple(devices)
        self.per_run = per_run
        self._free = list(self.devices)
        self._cond = threading.Condition()

    @property
    def slots(self) -> int:
        """How many runs can hold GPUs at once."""
        return len(self.devices) // self.per_run if self.per_run else 0

    @contextmanager
    def acquire(self, timeout: float | None = None) -> Iterator[tuple[int, ...]]:
        """Hold ``per_run`` devices for the ``with`` block; they go back even on error.

        Raises
        ------
        ValueError
            If the pool can never satisfy a request (``per_run`` > number of devices).
        TimeoutError
            If no devices became free within ``timeout`` seconds.
        """
        if self.per_run == 0:
            yield ()
            return
        if self.per_run > len(self.devices):
            raise ValueError(
                f"each run needs {self.per_run} GPU(s) but only {len(self.devices)} exist "
                f"({list(self.devices)}); lower [sandbox] gpus"
            )
        with self._cond:
            if not self._cond.wait_for(lambda: len(self._free) >= self.per_run, timeout):
                raise TimeoutError(f"no {self.per_run} free GPU(s) within {timeout} s")
            taken = tuple(sorted(self._free[: self.per_run]))
            del self._free[: self.per_run]
        try:
            yield taken
        finally:
            with self._cond:
                self._free.extend(taken)
                self._free.sort()
                self._cond.notify_all()


def cuda_env(devices: Sequence[int], *, renumbered: bool) -> dict[str, str]:
    """``CUDA_VISIBLE_DEVICES`` for a run holding ``devices``.

    Parameters
    ----------
    devices : sequence of int
        Host indices given to the run; empty hides every GPU.
    renumbered : bool
        True when the runtime shows the run only its devices, numbered from 0 (Docker with
        the NVIDIA toolkit); False when the driver still lists host indices (bubblewrap).
    """
    if not devices:
        return {"CUDA_VISIBLE_DEVICES": ""}
    ids = range(len(devices)) if renumbered else devices
    # PCI bus order makes CUDA's numbering agree with nvidia-smi's
    return {"CUDA_DEVICE_ORDER": "PCI_BUS_ID", "CUDA_VISIBLE_DEVICES": ",".join(map(str, ids))}


def docker_device_requests(devices: Sequence[int]) -> list:
    """Docker device requests pinned to ``devices`` (never ``count=-1``, i.e. all GPUs)."""
    if not devices:
        return []
    from docker.types import DeviceRequest

    return [DeviceRequest(driver="nvidia", device_ids=[str(d) for d in devices],
                          capabilities=[["gpu", "utility", "compute"]])]


def bwrap_device_flags(devices: Sequence[int], dev_root: str = "/dev") -> list[str]:
    """bubblewrap flags binding the run's ``/dev/nvidia<N>`` plus the shared control nodes."""
    if not devices:
        return []
    flags: list[str] = []
    nodes = [f"{dev_root}/nvidia{d}" for d in devices]
    shared = ["nvidiactl", "nvidia-uvm", "nvidia-uvm-tools", "nvidia-modeset"]
    nodes += [f"{dev_root}/{n}" for n in shared if os.path.exists(f"{dev_root}/{n}")]
    for node in nodes:
        flags += ["--dev-bind", node, "/dev/" + os.path.basename(node)]
    return flags
