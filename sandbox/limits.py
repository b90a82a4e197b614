"""Resource limits of one sandboxed run, as data with units. Network is always off."""

from __future__ import annotations

import math
import os
from dataclasses import dataclass


@dataclass(frozen=True)
class Limits:
    """Limits applied to every run; built from the ``[sandbox]`` table of course.toml.

    Attributes
    ----------
    time_s : float, default=1800
        Wall-clock seconds before the run is killed (status ``timeout``).
    memory_mb : int, default=8192
        Memory (RSS + swap) in MiB; exceeding it kills the run (status ``memory``).
    cpus : float, default=2
        CPU cores the run may use.
    gpus : int, default=0
        GPUs handed to each run (each parallel slot gets its own devices).
    output_mb : int, default=64
        The bound on the run's output folder, in MiB (and, where the workspace is not a sized
        tmpfs, on every file the run writes: see ``file_bytes``).
    log_kb : int, default=256
        stdout and stderr are each kept up to this many KiB (head and tail).
    processes : int, default=256
        Most processes/threads the run may have at once.
    tmp_mb : int, default=1024
        Size of the private ``/tmp`` (and of ``/dev/shm``) in MiB.
    """

    time_s: float = 1800.0
    memory_mb: int = 8192
    cpus: float = 2.0
    gpus: int = 0
    output_mb: int = 64
    log_kb: int = 256
    processes: int = 256
    tmp_mb: int = 1024

    @property
    def host_cpus(self) -> float:
        """``cpus``, at most this machine's cores: a quota above them means nothing, and
        Docker refuses it ("Range of CPUs is from 0.01 to 2.00")."""
        return min(self.cpus, os.cpu_count() or self.cpus)

    @property
    def whole_cpus(self) -> int:
        """The CPUs a run counts (``os.cpu_count()`` inside it, the thread variables):
        ``host_cpus`` rounded up, at least one."""
        return max(1, math.ceil(self.host_cpus))

    @property
    def memory_bytes(self) -> int:
        return self.memory_mb * 1024 * 1024

    @property
    def output_bytes(self) -> int:
        return self.output_mb * 1024 * 1024

    def file_bytes(self, sized_workspace: bool) -> int:
        """The largest file a run may write (``RLIMIT_FSIZE``).

        Where every writable place is a sized tmpfs (``/tmp``, ``/dev/shm``, the working copy
        and the output folder: the workspace is mounted, as root), each bounds itself, so a
        file may be as large as the largest of them: a checkpoint ``torch.save``d to the
        working folder, or a DataLoader worker's shared batch in ``/dev/shm``, may exceed the
        output limit (an 80 MB checkpoint and a 77 MB batch of 224x224 images failed at
        64 MiB). Otherwise the working copy is a host folder and the output limit bounds each
        file."""
        if sized_workspace:
            return max(self.output_bytes, self.tmp_mb * 1024 * 1024)
        return self.output_bytes

    @property
    def log_bytes(self) -> int:
        return self.log_kb * 1024

    @property
    def outer_time_s(self) -> float:
        """The second clock: past this the backend itself is considered broken."""
        return self.time_s + 60.0
