"""GPU discovery and assignment: each parallel run gets its own devices, never ``all``.

A GPU is named three ways, and they differ: the nvidia-smi *index* (what ``[sandbox]``
settings, ``--gpus device=N`` and ``GpuPool`` use), the *UUID* (``GPU-...``; ``MIG-...`` for
a MIG instance) and the driver's *minor number*, which names the device node
``/dev/nvidia<minor>``. Index and minor are often equal but not always (A100-SXM boards,
excluded GPUs), so nodes are found by UUID through the driver's own files
(``/proc/driver/nvidia/gpus/<bus id>/information``), never by assuming index = minor.

Inside a sandbox CUDA numbers the devices it can open from 0, so a run holding host GPU 3
gets ``/dev/nvidia<minor of GPU 3>`` and ``CUDA_VISIBLE_DEVICES=0`` on both backends.

Examples
--------
>>> pool = GpuPool([0, 1], per_run=1)
>>> with pool.acquire() as devices:
...     devices
(0,)
"""

from __future__ import annotations

import errno
import fcntl
import functools
import os
import re
import shutil
import stat
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from sandbox.errors import SandboxBroken

#: a GPU as a setting names it: an nvidia-smi index, a ``GPU-`` UUID or a ``MIG-`` UUID
GpuId = int | str

#: nodes every CUDA run needs besides its own ``/dev/nvidia<minor>``
REQUIRED_SHARED_NODES = ("nvidiactl", "nvidia-uvm")
#: nodes bound when present (CUDA works without them)
OPTIONAL_SHARED_NODES = ("nvidia-uvm-tools", "nvidia-modeset")
NVIDIA_MAJOR = 195  # the driver's character-device major number (nvidiactl is minor 255)
NODE_HINT = ("create the nodes as root before grading: 'nvidia-modprobe -u -c=0' (or run "
             "'nvidia-smi' and one CUDA program once, e.g. from a systemd unit at boot); the "
             "sandbox cannot create them, since the setuid nvidia-modprobe does not work inside")


class GpuUnavailable(SandboxBroken):
    """The GPUs a course asks for are missing or unusable here (the machine's fault)."""

    reference = "gpu-unavailable"
    exit_code = 3


@dataclass(frozen=True)
class GpuHost:
    """Where the NVIDIA driver shows itself; tests point this at a fake driver tree.

    Attributes
    ----------
    dev_root : Path, default=/dev
        Holds ``nvidia<minor>``, ``nvidiactl``, ``nvidia-uvm``.
    proc_root : Path, default=/proc/driver/nvidia
        Holds ``gpus/<bus id>/information`` (``GPU UUID``, ``Bus Location``, ``Device Minor``).
    smi : str or None, default="nvidia-smi"
        The nvidia-smi program (a name on ``PATH`` or a path); None skips it.
    """

    dev_root: Path = Path("/dev")
    proc_root: Path = Path("/proc/driver/nvidia")
    smi: str | None = "nvidia-smi"


@dataclass(frozen=True)
class GpuDevice:
    """One physical GPU: nvidia-smi index, UUID, PCI bus id, device-node minor, MIG UUIDs."""

    index: int
    uuid: str
    pci_bus_id: str
    minor: int | None
    name: str = ""
    mig_uuids: tuple[str, ...] = field(default=())


@dataclass(frozen=True)
class MigDevice:
    """A MIG instance, addressed by its own UUID, on ``parent``."""

    uuid: str
    parent: GpuDevice


#: the host the backends use; tests replace it with a fake driver tree
HOST = GpuHost()


# --------------------------------------------------------------------------- parsing


def normalize_bus_id(bus: str) -> str:
    """``00000000:3B:00.0`` (nvidia-smi) and ``0000:3b:00.0`` (proc) → ``0000:3b:00.0``."""
    bus = bus.strip().lower()
    m = re.fullmatch(r"(?:([0-9a-f]+):)?([0-9a-f]{1,2}):([0-9a-f]{1,2})\.([0-7])", bus)
    if not m:
        return bus
    dom, b, d, f = m.groups()
    return f"{int(dom or '0', 16):04x}:{int(b, 16):02x}:{int(d, 16):02x}.{f}"


def parse_smi_query(text: str) -> list[tuple[int, str, str, str]]:
    """Rows ``(index, uuid, bus id, name)`` of ``nvidia-smi --query-gpu=index,uuid,pci.bus_id,
    name --format=csv,noheader``; malformed lines are skipped."""
    rows = []
    for line in text.splitlines():
        parts = [p.strip() for p in line.split(",")]
        if len(parts) < 3 or not parts[0].isdigit() or not parts[1].startswith("GPU-"):
            continue
        rows.append((int(parts[0]), parts[1], normalize_bus_id(parts[2]), ",".join(parts[3:])))
    return rows


def parse_smi_list(text: str) -> dict[str, list[str]]:
    """``nvidia-smi -L`` → GPU UUID → the UUIDs of its MIG instances (in listed order)."""
    out: dict[str, list[str]] = {}
    parent = None
    for line in text.splitlines():
        gpu = re.match(r"^GPU \d+:.*\(UUID: (GPU-[0-9A-Fa-f-]+)\)", line)
        if gpu:
            parent = gpu.group(1)
            out[parent] = []
            continue
        mig = re.match(r"^\s+MIG .*\(UUID: (MIG-[^)\s]+)\)", line)
        if mig and parent:
            out[parent].append(mig.group(1))
    return out


def parse_proc_information(text: str) -> dict[str, str]:
    """Fields of ``/proc/driver/nvidia/gpus/<bus>/information`` (``GPU UUID``, ``Device
    Minor``, ``Bus Location``, ``Model``), keys as written, values stripped."""
    fields = {}
    for line in text.splitlines():
        key, sep, value = line.partition(":")
        if sep:
            fields[key.strip()] = value.strip()
    return fields


def parse_gpu_list(text: str) -> tuple[GpuId, ...]:
    """A GPU list as settings and ``CUDA_VISIBLE_DEVICES`` write it: indices, ``GPU-`` and
    ``MIG-`` UUIDs (also the old ``MIG-GPU-<uuid>/<gi>/<ci>`` form), comma-separated.

    Raises
    ------
    ValueError
        If an entry is none of those.

    Examples
    --------
    >>> parse_gpu_list("0, GPU-8f2c, MIG-4b1e")
    (0, 'GPU-8f2c', 'MIG-4b1e')
    """
    out: list[GpuId] = []
    for item in (x.strip() for x in text.split(",")):
        if not item:
            continue
        if item.isdigit():
            out.append(int(item))
        elif re.fullmatch(r"(GPU|MIG)-[0-9A-Za-z/-]+", item):
            out.append(item)
        else:
            raise ValueError(f"{item!r} is not a GPU: expected an index such as 0, or a UUID "
                             "such as GPU-8f2c... or MIG-4b1e... (nvidia-smi -L lists them)")
    return tuple(out)


# --------------------------------------------------------------------------- discovery


def _run_smi(smi: str | None, args: list[str]) -> str:
    exe = shutil.which(smi) if smi else None
    if not exe:
        return ""
    try:
        return subprocess.run([exe, *args], capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        return ""


def _proc_gpus(proc_root: Path) -> list[dict[str, str]]:
    found = []
    base = proc_root / "gpus"
    for d in sorted(base.iterdir()) if base.is_dir() else ():
        try:
            info = parse_proc_information((d / "information").read_text())
        except OSError:
            continue
        info.setdefault("Bus Location", d.name)
        found.append(info)
    return found


@functools.lru_cache(maxsize=16)
def inventory(host: GpuHost | None = None) -> tuple[GpuDevice, ...]:
    """The host's GPUs, each with its device-node minor found through the driver.

    nvidia-smi gives index, UUID and bus id; the driver's ``information`` files give the
    minor, matched by UUID (else by bus id). Without nvidia-smi the driver files alone are
    used, numbered in PCI bus order as nvidia-smi numbers them. Cached per ``host``.
    """
    host = host or HOST
    proc = _proc_gpus(host.proc_root)
    by_uuid = {p.get("GPU UUID", ""): p for p in proc if p.get("GPU UUID")}
    by_bus = {normalize_bus_id(p["Bus Location"]): p for p in proc}
    rows = parse_smi_query(_run_smi(host.smi, ["--query-gpu=index,uuid,pci.bus_id,name",
                                                "--format=csv,noheader"]))
    migs = parse_smi_list(_run_smi(host.smi, ["-L"])) if rows else {}
    if not rows:  # no nvidia-smi: PCI bus order is nvidia-smi's default order
        ordered = sorted(proc, key=lambda p: normalize_bus_id(p["Bus Location"]))
        rows = [(i, p.get("GPU UUID", ""), normalize_bus_id(p["Bus Location"]),
                 p.get("Model", "")) for i, p in enumerate(ordered)]
    devices = []
    for index, uuid, bus, name in rows:
        info = by_uuid.get(uuid) or by_bus.get(bus) or {}
        minor = info.get("Device Minor", "")
        devices.append(GpuDevice(index, uuid, bus, int(minor) if minor.isdigit() else None,
                                 name, tuple(migs.get(uuid, ()))))
    return tuple(devices)


def detect_gpus(host: GpuHost | None = None) -> list[int]:
    """Host GPU indices (nvidia-smi's numbering), from :func:`inventory`."""
    return [d.index for d in inventory(host)]


def resolve(ids: Sequence[GpuId], host: GpuHost | None = None) -> list[GpuDevice | MigDevice]:
    """The devices that ``ids`` (indices, ``GPU-`` or ``MIG-`` UUIDs) name on this host.

    Raises
    ------
    GpuUnavailable
        If an id names no GPU of this host.
    """
    devices = inventory(host)
    out: list[GpuDevice | MigDevice] = []
    for gid in ids:
        key = str(gid).strip()
        hit: GpuDevice | MigDevice | None = None
        for d in devices:
            if key == str(d.index) or key.lower() == d.uuid.lower():
                hit = d
            for m in d.mig_uuids:
                if key.lower() == m.lower():
                    hit = MigDevice(m, d)
        if hit is None:
            known = ", ".join(f"{d.index} ({d.uuid})" for d in devices) or "none"
            raise GpuUnavailable(f"GPU {key} is not on this machine (GPUs found: {known})",
                                 hint="run 'nvidia-smi -L' and 'grader sandbox check'")
        out.append(hit)
    return out


# --------------------------------------------------------------------------- per backend


def _char_node_problem(path: Path) -> str | None:
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return f"{path} is missing"
    except OSError as exc:
        return f"{path}: {exc.strerror}"
    return None if stat.S_ISCHR(st.st_mode) else f"{path} is not a character device"


def device_nodes(ids: Sequence[GpuId], host: GpuHost | None = None) -> list[Path]:
    """The host device nodes a run holding ``ids`` needs, checked to exist.

    Raises
    ------
    GpuUnavailable
        Listing every missing node (or unmapped GPU) at once, with the fix.
    """
    host = host or HOST
    if not ids:
        return []
    problems: list[str] = []
    nodes: list[Path] = []
    for d in resolve(ids, host):
        if isinstance(d, MigDevice):
            problems.append(f"{d.uuid} is a MIG instance: MIG runs need the Docker backend "
                            "(the NVIDIA container toolkit maps its capability nodes)")
        elif d.minor is None:
            problems.append(f"GPU {d.index} ({d.uuid}): the driver does not say its device "
                            f"node ({host.proc_root}/gpus/{d.pci_bus_id}/information has no "
                            "Device Minor)")
        else:
            nodes.append(host.dev_root / f"nvidia{d.minor}")
    nodes += [host.dev_root / n for n in REQUIRED_SHARED_NODES]
    problems += [p for p in map(_char_node_problem, nodes) if p]
    if problems:
        # the problems also go into the message: a run's verdict keeps only the message
        raise GpuUnavailable(f"the GPU device nodes for GPU(s) {', '.join(map(str, ids))} are "
                             f"not usable: {'; '.join(problems)}", problems=problems,
                             hint=NODE_HINT)
    nodes += [host.dev_root / n for n in OPTIONAL_SHARED_NODES
              if _char_node_problem(host.dev_root / n) is None]
    return nodes


def bwrap_device_flags(ids: Sequence[GpuId], host: GpuHost | None = None) -> list[str]:
    """bubblewrap flags binding the run's own ``/dev/nvidia<minor>`` and the shared nodes.

    Nodes keep their host names inside (``libcuda`` opens ``/dev/nvidia<minor>`` by the
    minor the driver reports); CUDA numbers what it can open from 0.
    """
    flags: list[str] = []
    for node in device_nodes(ids, host):
        flags += ["--dev-bind", str(node), "/dev/" + node.name]
    return flags


def cuda_env(devices: Sequence[GpuId], *, renumbered: bool = True) -> dict[str, str]:
    """``CUDA_VISIBLE_DEVICES`` for a run holding ``devices``.

    Parameters
    ----------
    devices : sequence of int or str
        Host GPUs given to the run; empty hides every GPU.
    renumbered : bool, default=True
        True when the run can open only its own devices, which CUDA then numbers from 0
        (both backends); False passes the host ids through (a process outside any sandbox).
    """
    if not devices:
        return {"CUDA_VISIBLE_DEVICES": ""}
    ids = range(len(devices)) if renumbered else devices
    # PCI bus order makes CUDA's numbering agree with nvidia-smi's. cuBLAS's fixed workspace
    # makes its products repeatable: a seeded program that asks for deterministic algorithms
    # (torch.use_deterministic_algorithms(True), as reproducibility guides say) otherwise
    # stops with a RuntimeError on its first matrix product, and without it two runs of one
    # program may give other predictions, and another grade
    return {"CUDA_DEVICE_ORDER": "PCI_BUS_ID", "CUDA_VISIBLE_DEVICES": ",".join(map(str, ids)),
            "CUBLAS_WORKSPACE_CONFIG": ":4096:8"}


def docker_gpu_env(devices: Sequence[GpuId]) -> dict[str, str]:
    """The GPU variables of a container: ``NVIDIA_VISIBLE_DEVICES=void`` without GPUs.

    CUDA images set ``NVIDIA_VISIBLE_DEVICES=all``; where ``nvidia`` is Docker's default
    runtime that alone would mount every GPU into a ``gpus = 0`` run. ``void`` mounts none.
    """
    env = cuda_env(devices, renumbered=True)
    env["NVIDIA_VISIBLE_DEVICES"] = ",".join(map(str, devices)) if devices else "void"
    return env


def docker_device_requests(devices: Sequence[GpuId]) -> list:
    """Docker device requests pinned to ``devices`` (never ``count=-1``, i.e. all GPUs)."""
    if not devices:
        return []
    from docker.types import DeviceRequest

    return [DeviceRequest(driver="nvidia", device_ids=[str(d) for d in devices],
                          capabilities=[["gpu", "utility", "compute"]])]


# --------------------------------------------------------------------------- slots


def plan_slots(gpus_per_run: int, jobs: int | None, devices: Sequence[GpuId] | None = None, *,
               need_nodes: bool = False, host: GpuHost | None = None) -> list[tuple[GpuId, ...]]:
    """The devices of each parallel slot, checked before any run.

    Parameters
    ----------
    gpus_per_run : int
        ``[sandbox] gpus``; 0 gives ``jobs`` slots without devices.
    jobs : int or None
        Parallel runs asked for (``--jobs``); None is as many as the GPUs allow.
    devices : sequence of int or str, optional
        The GPUs to share; default: every GPU of the host.
    need_nodes : bool, default=False
        Also check each slot's device nodes (the bubblewrap backend binds them itself).

    Raises
    ------
    GpuUnavailable
        If the GPUs cannot give every slot its own ``gpus_per_run`` devices: a run never
        falls back to the CPU, and two slots never share a GPU.

    Examples
    --------
    >>> plan_slots(1, None, [0, 1])
    [(0,), (1,)]
    >>> plan_slots(0, 2)
    [(), ()]
    """
    if gpus_per_run <= 0:
        return [()] * max(1, jobs or 1)
    devs = list(detect_gpus(host) if devices is None else devices)
    have = f"{len(devs)} GPU(s) ({', '.join(map(str, devs)) or 'none found'})"
    if len(devs) < gpus_per_run:
        raise GpuUnavailable(
            f"each run needs {gpus_per_run} GPU(s) ([sandbox] gpus = {gpus_per_run}) but this "
            f"machine has {have}; runs are never moved to the CPU silently",
            hint="grade on a GPU machine (or --executor dask with GPU workers), or set "
                 "[sandbox] gpus = 0 if the course does not need a GPU")
    slots = [tuple(devs[i:i + gpus_per_run])
             for i in range(0, len(devs) - gpus_per_run + 1, gpus_per_run)]
    if jobs is not None and jobs > len(slots):
        raise GpuUnavailable(
            f"--jobs {jobs} needs {jobs * gpus_per_run} GPU(s) ({gpus_per_run} per run) but "
            f"this machine has {have}", hint=f"use --jobs {len(slots)} or fewer")
    slots = slots[:jobs] if jobs else slots
    if need_nodes:
        problems: list[str] = []
        for s in slots:
            try:
                device_nodes(s, host)
            except GpuUnavailable as exc:
                problems += exc.problems or [exc.message]
        if problems:
            raise GpuUnavailable("the GPU device nodes are not usable by the bubblewrap sandbox",
                                 problems=sorted(set(problems)), hint=NODE_HINT)
    return slots


# --------------------------------------------------------------------------- host locks


def default_lock_dir() -> Path:
    """Where GPU locks live: shared by every grader, worker and reference stage of the host."""
    run = Path("/run")
    return run / "gradebox-gpus" if os.access(run, os.W_OK) else \
        Path(tempfile.gettempdir()) / "gradebox-gpus"


def _lock_name(gid: GpuId) -> str:
    # by UUID when known, so that index 3 and GPU-... are the same lock
    try:
        d = resolve([gid])[0]
        return d.uuid
    except GpuUnavailable:
        return re.sub(r"[^A-Za-z0-9_.-]", "_", f"gpu-{gid}")


def _try_lock(lock_dir: Path, gid: GpuId) -> int | None:
    lock_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(lock_dir / f"{_lock_name(gid)}.lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC,
                 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as exc:
        os.close(fd)
        if exc.errno in (errno.EAGAIN, errno.EACCES):
            return None
        raise
    return fd


class GpuPool:
    """A pool of GPUs handed out ``per_run`` at a time, thread-safe and, with ``lock_dir``,
    host-wide: a GPU held by another process of the host (a Dask worker beside this one,
    another grader) is skipped until it is free. The locks are ``flock``s, so a process
    that dies frees its GPUs.

    Parameters
    ----------
    devices : sequence of int or str
        The GPUs to share (indices or UUIDs, e.g. ``detect_gpus()``).
    per_run : int, default=1
        Devices each run gets; ``0`` makes ``acquire`` yield ``()`` without waiting.
    lock_dir : path or None, default=None
        Folder of the host-wide locks (e.g. :func:`default_lock_dir`); None: this process only.
    """

    def __init__(self, devices: Sequence[GpuId], per_run: int = 1,
                 lock_dir: str | Path | None = None):
        self.devices = tuple(devices)
        self.per_run = per_run
        self.lock_dir = None if lock_dir is None else Path(lock_dir)
        self._free = list(self.devices)
        self._cond = threading.Condition()

    @property
    def slots(self) -> int:
        """How many runs can hold GPUs at once."""
        return len(self.devices) // self.per_run if self.per_run else 0

    def _take(self) -> tuple[tuple[GpuId, ...], list[int]] | None:
        """Free devices this process can also lock host-wide, or None (caller holds _cond)."""
        taken: list[GpuId] = []
        fds: list[int] = []
        for gid in list(self._free):
            fd = _try_lock(self.lock_dir, gid) if self.lock_dir else -1
            if fd is None:
                continue
            taken.append(gid)
            fds.append(fd)
            if len(taken) == self.per_run:
                for g in taken:
                    self._free.remove(g)
                return tuple(taken), fds
        for fd in fds:
            if fd >= 0:
                os.close(fd)
        return None

    @contextmanager
    def acquire(self, timeout: float | None = None) -> Iterator[tuple[GpuId, ...]]:
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
        end = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            while (got := self._take()) is None:
                left = None if end is None else end - time.monotonic()
                if left is not None and left <= 0:
                    raise TimeoutError(f"no {self.per_run} free GPU(s) within {timeout} s")
                # other processes release without notifying us: poll while they hold GPUs
                self._cond.wait(0.2 if left is None else min(0.2, left))
        taken, fds = got
        try:
            yield taken
        finally:
            for fd in fds:
                if fd >= 0:
                    os.close(fd)
            with self._cond:
                self._free.extend(taken)
                order = {g: i for i, g in enumerate(self.devices)}
                self._free.sort(key=order.__getitem__)
                self._cond.notify_all()


@contextmanager
def hold(devices: Sequence[GpuId], lock_dir: str | Path | None = None) -> Iterator[None]:
    """Hold the host-wide locks of ``devices`` for the ``with`` block, waiting for them.

    For callers that already chose the devices (the local executor's fixed slots): another
    grader or worker of the host that holds one of them makes this wait, never share.
    """
    lock_dir = Path(lock_dir) if lock_dir is not None else default_lock_dir()
    fds: list[int] = []
    try:
        for gid in sorted(devices, key=str):  # one order everywhere: no deadlock
            lock_dir.mkdir(parents=True, exist_ok=True)
            fd = os.open(lock_dir / f"{_lock_name(gid)}.lock",
                         os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
            fds.append(fd)
            fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        for fd in fds:
            os.close(fd)
