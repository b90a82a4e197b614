"""Per-run cgroup (v1) with memory, pids and CPU limits, peak memory and OOM detection.

Each run gets ``/sys/fs/cgroup/<controller>/gradebox/<grader pid>-<id>``; the grader pid in
the name lets a later grader sweep cgroups whose owner died without touching those of a
grader still running beside it.
"""

from __future__ import annotations

import os
import signal
import time
import uuid
from pathlib import Path

from sandbox.limits import Limits

ROOT = Path("/sys/fs/cgroup")
PARENT = "gradebox"
CONTROLLERS = ("memory", "pids", "cpu")
CPU_PERIOD_US = 100_000


def available() -> dict[str, bool]:
    """Which cgroup v1 controllers this process can create children in."""
    out = {}
    for c in CONTROLLERS:
        base = ROOT / c
        out[c] = base.is_dir() and (base / "cgroup.procs").exists() and os.access(base, os.W_OK)
    return out


def _write(path: Path, value: str) -> bool:
    try:
        path.write_text(value)
        return True
    except OSError:
        return False


def _read_int(path: Path) -> int | None:
    try:
        return int(path.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


class RunCgroup:
    """The cgroups of one run; ``create`` makes them, ``destroy`` kills and removes them."""

    def __init__(self, name: str, paths: dict[str, Path]):
        self.name = name
        self.paths = paths

    @classmethod
    def create(cls, limits: Limits) -> RunCgroup:
        """Create the run's cgroups with ``limits``; controllers that are missing are skipped."""
        name = f"{os.getpid()}-{uuid.uuid4().hex[:12]}"
        paths: dict[str, Path] = {}
        for c, ok in available().items():
            if not ok:
                continue
            p = ROOT / c / PARENT / name
            try:
                p.mkdir(parents=True)
            except OSError:
                continue
            paths[c] = p
        cg = cls(name, paths)
        cg._apply(limits)
        return cg

    def _apply(self, limits: Limits) -> None:
        mem = self.paths.get("memory")
        if mem is not None:
            ok = _write(mem / "memory.limit_in_bytes", str(limits.memory_bytes))
            # memsw = memory: the run cannot escape into swap (absent without swap accounting)
            _write(mem / "memory.memsw.limit_in_bytes", str(limits.memory_bytes))
            _write(mem / "memory.swappiness", "0")
            if not ok:
                self.paths.pop("memory")
        pids = self.paths.get("pids")
        if pids is not None and not _write(pids / "pids.max", str(limits.processes)):
            self.paths.pop("pids")
        cpu = self.paths.get("cpu")
        if cpu is not None:
            _write(cpu / "cpu.cfs_period_us", str(CPU_PERIOD_US))
            if not _write(cpu / "cpu.cfs_quota_us", str(int(limits.cpus * CPU_PERIOD_US))):
                self.paths.pop("cpu")

    @property
    def controls(self) -> set[str]:
        return set(self.paths)

    @property
    def docker_parent(self) -> str:
        """The ``cgroup_parent`` that puts a container under this run's cgroups."""
        return f"/{PARENT}/{self.name}"

    def procs_files(self) -> list[Path]:
        return [p / "cgroup.procs" for p in self.paths.values()]

    def pids(self) -> set[int]:
        found: set[int] = set()
        for p in self.paths.values():
            for f in p.rglob("cgroup.procs"):
                try:
                    found.update(int(x) for x in f.read_text().split())
                except (OSError, ValueError):
                    pass
        return found

    def kill_all(self, deadline_s: float = 10.0) -> bool:
        """SIGKILL every process in the run's cgroups until none is left; False if some stay."""
        end = time.monotonic() + deadline_s
        while True:
            left = self.pids()
            if not left:
                return True
            if time.monotonic() > end:
                return False
            for pid in left:
                try:
                    os.kill(pid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass
            time.sleep(0.02)

    def peak_memory_bytes(self) -> int | None:
        mem = self.paths.get("memory")
        return None if mem is None else _read_int(mem / "memory.max_usage_in_bytes")

    def oom_kills(self) -> int:
        """How many processes the kernel OOM-killed in this run (including nested cgroups)."""
        mem = self.paths.get("memory")
        if mem is None:
            return 0
        total = 0
        for f in mem.rglob("memory.oom_control"):
            try:
                for line in f.read_text().splitlines():
                    k, _, v = line.partition(" ")
                    if k == "oom_kill":
                        total += int(v)
            except (OSError, ValueError):
                pass
        return total

    def destroy(self) -> None:
        """Kill what is left and remove the cgroups (children first), in every controller.

        Docker's ``cgroup_parent`` also creates this run's folder in controllers we did not
        use (blkio, cpuset, ...): those go too.
        """
        self.kill_all(deadline_s=5.0)
        dirs = set(self.paths.values())
        if ROOT.is_dir():
            dirs.update(d / PARENT / self.name for d in ROOT.iterdir())
        for p in dirs:
            _rmtree_cgroup(p)


def _rmtree_cgroup(p: Path) -> None:
    if not p.exists():
        return
    for child in sorted((c for c in p.rglob("*") if c.is_dir()), key=lambda c: -len(c.parts)):
        _rmdir_retry(child)
    _rmdir_retry(p)


def _rmdir_retry(p: Path, tries: int = 50) -> None:
    for _ in range(tries):
        try:
            p.rmdir()
            return
        except FileNotFoundError:
            return
        except OSError:
            time.sleep(0.02)  # EBUSY until the last killed task is reaped


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def sweep_stale() -> int:
    """Kill and remove run cgroups whose grader process is gone; returns how many."""
    removed = 0
    if not ROOT.is_dir():
        return 0
    for base in (d / PARENT for d in ROOT.iterdir()):
        if not base.is_dir():
            continue
        for child in base.iterdir():
            owner = child.name.split("-", 1)[0]
            if not child.is_dir() or not owner.isdigit() or _pid_alive(int(owner)):
                continue
            RunCgroup(child.name, {base.parent.name: child}).destroy()
            removed += 1
    return removed
