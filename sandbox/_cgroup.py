"""Per-run cgroups with memory, pids and CPU limits, peak memory and OOM detection.

Two layouts, chosen by :func:`create` from what the host mounts (:func:`detect`):

- **cgroup v2** (the default of current Ubuntu, Debian and RHEL): one delegated subtree
  ``<mount>/gradebox`` with the memory, pids and cpu controllers enabled, and one child per run
  with ``memory.max``, ``memory.swap.max = 0``, ``memory.oom.group``, ``pids.max`` and
  ``cpu.max``; the run is killed as a whole through ``cgroup.kill``.
- **cgroup v1** (and *hybrid* hosts, whose controllers are all on v1): one folder per
  controller, ``/sys/fs/cgroup/<controller>/gradebox/<run>``.

Each run's cgroup is named ``<grader pid>-<id>``: the grader pid lets a later grader sweep
cgroups whose owner died without touching those of a grader still running beside it.
Processes are counted per run (``pids.max``), never per user: every run is uid 65534.
"""

from __future__ import annotations

import functools
import os
import signal
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from sandbox.limits import Limits

ROOT = Path("/sys/fs/cgroup")
PARENT = "gradebox"
CONTROLLERS = ("memory", "pids", "cpu")
#: v1 only, for accounting (no limit): the run's CPU time, where cpuacct is not co-mounted
#: with cpu (``/sys/fs/cgroup/cpu,cpuacct``)
V1_ACCOUNTING = ("cpuacct",)
CPU_PERIOD_US = 100_000


@dataclass(frozen=True)
class Hierarchy:
    """What the host mounts: ``version`` is ``"v1"``, ``"v2"``, ``"hybrid"`` or ``"none"``.

    ``v2_root`` is the unified hierarchy's mount (``/sys/fs/cgroup`` on v2 hosts,
    ``/sys/fs/cgroup/unified`` on hybrid ones); ``v1_root`` holds the controller folders.
    """

    version: str
    v1_root: Path | None
    v2_root: Path | None


def detect(root: Path | None = None) -> Hierarchy:
    """Which cgroup version the host uses, from the files under ``root`` (/sys/fs/cgroup)."""
    root = root or ROOT
    if (root / "cgroup.controllers").exists():
        return Hierarchy("v2", None, root)
    v1 = any((root / c / "cgroup.procs").exists() for c in CONTROLLERS)
    unified = root / "unified"
    has_unified = (unified / "cgroup.controllers").exists()
    if v1:
        return Hierarchy("hybrid" if has_unified else "v1", root, unified if has_unified else None)
    return Hierarchy("v2", None, unified) if has_unified else Hierarchy("none", None, None)


def available(root: Path | None = None,
              controllers: tuple[str, ...] = CONTROLLERS) -> dict[str, bool]:
    """Which cgroup v1 controllers this process can create children in."""
    root = root or ROOT
    out = {}
    for c in controllers:
        base = root / c
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


def _stat(path: Path, key: str) -> int | None:
    """One value of a ``key value`` file (``cpu.stat``, ``memory.events``); None if absent."""
    try:
        for line in path.read_text().splitlines():
            k, _, v = line.partition(" ")
            if k == key:
                return int(v)
    except (OSError, ValueError):
        pass
    return None


def _tokens(path: Path) -> list[str]:
    try:
        return [t.lstrip("+") for t in path.read_text().split()]
    except OSError:
        return []


@dataclass(frozen=True)
class V2Parent:
    """The delegated v2 subtree runs are created in; ``path`` None when unusable (``reason``)."""

    path: Path | None
    controllers: tuple[str, ...]
    reason: str = ""


def v2_parent(v2_root: Path, name: str = PARENT) -> V2Parent:
    """Create (once) ``<v2_root>/<name>`` with the memory, pids and cpu controllers enabled.

    Controllers must be enabled in every ancestor's ``cgroup.subtree_control``; the root of
    the mount is exempt from v2's "no processes in inner nodes" rule. A controller bound to
    v1 (hybrid hosts) or refused is left out and named in ``reason``.
    """
    offered = _tokens(v2_root / "cgroup.controllers")
    _enable(v2_root, [c for c in CONTROLLERS if c in offered])
    parent = v2_root / name
    try:
        parent.mkdir(exist_ok=True)
    except OSError as exc:
        return V2Parent(None, (), f"cannot create {parent}: {exc.strerror}")
    _enable(parent, [c for c in CONTROLLERS if c in offered])
    enabled = tuple(c for c in CONTROLLERS if c in _tokens(parent / "cgroup.subtree_control"))
    missing = [c for c in CONTROLLERS if c not in enabled]
    reason = ""
    if missing:
        reason = (f"controllers {', '.join(missing)} not delegated to {parent} (offered at "
                  f"{v2_root}: {' '.join(offered) or 'none'})")
    return V2Parent(parent, enabled, reason)


def _enable(cgroup: Path, controllers: list[str]) -> None:
    """Enable ``controllers`` for ``cgroup``'s children: all in one write (the kernel applies
    it whole), else one by one so that a refused one does not block the others."""
    if not controllers or _write(cgroup / "cgroup.subtree_control",
                                 " ".join(f"+{c}" for c in controllers)):
        return
    for c in controllers:
        _write(cgroup / "cgroup.subtree_control", f"+{c}")


@functools.lru_cache(maxsize=8)
def _v2_parent_once(v2_root: Path) -> V2Parent:
    return v2_parent(v2_root)


def create(limits: Limits, root: Path | None = None) -> RunCgroup | RunCgroupV2:
    """The run's cgroup with ``limits``, v2 where the host is v2, else v1.

    Missing controllers are skipped (``controls`` says which limits hold); the caller falls
    back to rlimits for those, or refuses the run.
    """
    h = detect(root)
    if h.version == "v2" and h.v2_root is not None:
        parent = _v2_parent_once(h.v2_root)
        if parent.path is not None:
            return RunCgroupV2.create(limits, parent)
    return RunCgroup.create(limits, root=h.v1_root or root or ROOT)


def describe(root: Path | None = None) -> dict[str, str]:
    """What ``grader sandbox check`` prints: the version and which limits hold, and how."""
    h = detect(root)
    if h.version == "v2" and h.v2_root is not None:
        p = _v2_parent_once(h.v2_root)
        if p.path is None:
            return {"version": "v2", "limits": f"none: {p.reason}; rlimit fallback"}
        kill = "cgroup.kill" if (p.path / "cgroup.kill").exists() else "SIGKILL per process"
        return {"version": "v2", "limits": f"v2 at {p.path}: {', '.join(p.controllers) or 'none'}"
                + (f" ({p.reason})" if p.reason else "") + f"; kill: {kill}"}
    if h.version in ("v1", "hybrid"):
        cg = available(h.v1_root)
        have = [c for c in CONTROLLERS if cg.get(c)]
        missing = [c for c in CONTROLLERS if not cg.get(c)]
        text = f"v1: {', '.join(have) or 'none'}"
        if missing:
            text += f"; missing {', '.join(missing)}: rlimit fallback"
        return {"version": h.version + (" (limits through v1)" if h.version == "hybrid" else ""),
                "limits": text}
    return {"version": "none", "limits": f"no cgroup hierarchy under {root or ROOT}: rlimits"}


class RunCgroup:
    """The cgroups of one run; ``create`` makes them, ``destroy`` kills and removes them."""

    def __init__(self, name: str, paths: dict[str, Path]):
        self.name = name
        self.paths = paths

    version = "v1"

    @classmethod
    def create(cls, limits: Limits, root: Path | None = None) -> RunCgroup:
        """Create the run's cgroups with ``limits``; controllers that are missing are skipped."""
        root = root or ROOT
        name = f"{os.getpid()}-{uuid.uuid4().hex[:12]}"
        paths: dict[str, Path] = {}
        for c, ok in available(root, CONTROLLERS + V1_ACCOUNTING).items():
            if not ok:
                continue
            p = root / c / PARENT / name
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
    def docker_parent(self) -> str | None:
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
        return _kill_until_empty(self.pids, deadline_s, signal_each=True)

    def peak_memory_bytes(self) -> int | None:
        mem = self.paths.get("memory")
        return None if mem is None else _read_int(mem / "memory.max_usage_in_bytes")

    def cpu_seconds(self) -> float | None:
        """CPU time the run's processes used, children included (``cpuacct.usage``, in the
        cpuacct hierarchy or the cpu one it is mounted with); None where it is not known."""
        for c in ("cpuacct", "cpu"):
            used = _read_int(self.paths[c] / "cpuacct.usage") if c in self.paths else None
            if used is not None:
                return used / 1e9
        return None

    def oom_kills(self) -> int:
        """How many processes the kernel OOM-killed in this run (including nested cgroups)."""
        mem = self.paths.get("memory")
        if mem is None:
            return 0
        return sum(_stat(f, "oom_kill") or 0 for f in mem.rglob("memory.oom_control"))

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


class RunCgroupV2:
    """One run's cgroup v2 (a child of the delegated :class:`V2Parent`), same interface as
    :class:`RunCgroup`: ``controls``, ``procs_files``, ``kill_all``, ``destroy``..."""

    version = "v2"

    def __init__(self, name: str, path: Path, controls: set[str] | None = None):
        self.name = name
        self.path = path
        self._controls = set(controls or ())

    @classmethod
    def create(cls, limits: Limits, parent: V2Parent) -> RunCgroupV2:
        """Create ``<parent>/<grader pid>-<id>`` and write ``limits`` into it."""
        name = f"{os.getpid()}-{uuid.uuid4().hex[:12]}"
        path = parent.path / name
        path.mkdir()
        cg = cls(name, path)
        cg._apply(limits, parent.controllers)
        return cg

    def _apply(self, limits: Limits, enabled: tuple[str, ...]) -> None:
        p = self.path
        if "memory" in enabled and _write(p / "memory.max", str(limits.memory_bytes)):
            # no swap, and an OOM kill takes the whole run (not one worker of a DataLoader)
            _write(p / "memory.swap.max", "0")
            _write(p / "memory.oom.group", "1")
            self._controls.add("memory")
        if "pids" in enabled and _write(p / "pids.max", str(limits.processes)):
            self._controls.add("pids")
        quota = int(limits.cpus * CPU_PERIOD_US)
        if "cpu" in enabled and _write(p / "cpu.max", f"{quota} {CPU_PERIOD_US}"):
            self._controls.add("cpu")

    @property
    def paths(self) -> dict[str, Path]:
        return {"unified": self.path}

    @property
    def controls(self) -> set[str]:
        return set(self._controls)

    @property
    def docker_parent(self) -> str | None:
        """None: Docker applies its own v2 limits; runs are not nested under ours."""
        return None

    def procs_files(self) -> list[Path]:
        return [self.path / "cgroup.procs"]

    def pids(self) -> set[int]:
        found: set[int] = set()
        for f in self.path.rglob("cgroup.procs"):
            try:
                found.update(int(x) for x in f.read_text().split())
            except (OSError, ValueError):
                pass
        return found

    def kill_all(self, deadline_s: float = 10.0) -> bool:
        """Kill the whole subtree at once (``cgroup.kill``, kernel >= 5.14; else SIGKILL each
        process until none is left); False if some processes stay."""
        use_kill_file = _write(self.path / "cgroup.kill", "1")
        return _kill_until_empty(self.pids, deadline_s, signal_each=not use_kill_file)

    def peak_memory_bytes(self) -> int | None:
        return _read_int(self.path / "memory.peak") if "memory" in self._controls else None

    def cpu_seconds(self) -> float | None:
        """CPU time the run's subtree used (``cpu.stat``'s ``usage_usec``, kept by every v2
        cgroup); None where it cannot be read."""
        used = _stat(self.path / "cpu.stat", "usage_usec")
        return None if used is None else used / 1e6

    def oom_kills(self) -> int:
        """OOM kills in the run's subtree (``memory.events`` is hierarchical in v2)."""
        return _stat(self.path / "memory.events", "oom_kill") or 0

    def destroy(self) -> None:
        """Kill what is left and remove the cgroup (children first)."""
        self.kill_all(deadline_s=5.0)
        _rmtree_cgroup(self.path)


def _kill_until_empty(pids, deadline_s: float, *, signal_each: bool) -> bool:
    """Wait (SIGKILLing each process when ``signal_each``) until ``pids()`` is empty;
    False if processes remain after ``deadline_s``."""
    end = time.monotonic() + deadline_s
    while True:
        left = pids()
        if not left:
            return True
        if time.monotonic() > end:
            return False
        if signal_each:
            for pid in left:
                try:
                    os.kill(pid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass
        time.sleep(0.02)


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


def sweep_stale(root: Path | None = None) -> int:
    """Kill and remove run cgroups whose grader process is gone; returns how many."""
    root = root or ROOT
    removed = 0
    if not root.is_dir():
        return 0
    h = detect(root)
    bases = [d / PARENT for d in root.iterdir() if d.is_dir()]
    if h.v2_root is not None:
        bases.append(h.v2_root / PARENT)
    for base in dict.fromkeys(bases):  # the unified mount of a hybrid host is listed twice
        if not base.is_dir():
            continue
        for child in base.iterdir():
            owner = child.name.split("-", 1)[0]
            if not child.is_dir() or not owner.isdigit() or _pid_alive(int(owner)):
                continue
            if (child / "cgroup.kill").exists() or h.version == "v2":
                RunCgroupV2(child.name, child).destroy()
            else:
                RunCgroup(child.name, {base.parent.name: child}).destroy()
            removed += 1
    return removed
