"""The run's writable places on the host: a copy of the code and the output folder.

As root, each is a size-limited tmpfs mounted on the host, so "disk fill" stops at its size
(and tmpfs pages count against the run's memory cgroup). After the run, only regular
files and directories are copied from the output tmpfs into ``spec.output_dir`` (links are
re-created as links, never followed), up to ``output_mb``; then everything is unmounted
and deleted. Without root the same layout uses plain folders and per-file limits only.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import shutil
import stat
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path

from sandbox._codecopy import CodeRefused, copy_code
from sandbox.errors import SandboxBroken
from sandbox.outputs import MISPLACED_NOTE, SUBMISSION_CSV
from sandbox.spec import RunSpec

SANDBOX_UID = 65534  # nobody: the student's program never runs as root
BASE = Path(tempfile.gettempdir()) / "gradebox-sandbox"
MAX_OUTPUT_FILES = 10_000
MAX_DEPTH = 16
_MS_NOSUID, _MS_NODEV = 2, 4
_MNT_DETACH = 2
_libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)


@dataclass
class Workspace:
    """Host paths of one run: ``code`` (cwd, writable copy) and ``out`` (GRADER_OUTPUT)."""

    root: Path
    code: Path
    out: Path
    etc: Path
    mounted: bool
    uid: int


def _mount_tmpfs(target: Path, size_bytes: int) -> bool:
    opts = f"size={max(size_bytes, 1 << 20)},mode=0755".encode()
    rc = _libc.mount(b"tmpfs", str(target).encode(), b"tmpfs", _MS_NOSUID | _MS_NODEV, opts)
    return rc == 0


def _umount(target: Path) -> None:
    _libc.umount2(str(target).encode(), _MNT_DETACH)


def _tree_bytes(path: Path) -> int:
    total = 0
    for root, _dirs, files in os.walk(path):
        for f in files:
            try:
                total += os.lstat(os.path.join(root, f)).st_size
            except OSError:
                pass
    return total


def _chown_tree(path: Path, uid: int) -> None:
    for root, dirs, files in os.walk(path):
        for n in dirs + files:
            os.lchown(os.path.join(root, n), uid, uid)
    os.lchown(path, uid, uid)


#: where glibc's sysconf(_SC_NPROCESSORS_ONLN) (Python's os.cpu_count()) counts CPUs
CPU_ONLINE = "/sys/devices/system/cpu/online"


def cpu_list(n: int) -> str:
    """``n`` CPUs as the kernel lists online ones (``0``, ``0-3``)."""
    return "0" if n <= 1 else f"0-{n - 1}"


def _write_etc(etc: Path, uid: int, cpus: int) -> None:
    """A minimal passwd/group so that getpass, pwd and friends work for the sandbox user, and
    the list of online CPUs the run sees (``cpu_online``, bound at ``CPU_ONLINE``): its share,
    not the host's (``Pool(os.cpu_count())`` or ``torch.set_num_threads(os.cpu_count())`` on a
    64-core server started 64 workers against a quota of 2)."""
    etc.mkdir()
    (etc / "cpu_online").write_text(cpu_list(cpus) + "\n")
    (etc / "passwd").write_text(
        f"root:x:0:0:root:/root:/usr/sbin/nologin\nstudent:x:{uid}:{uid}:student:/tmp:/usr/sbin/nologin\n"
    )
    (etc / "group").write_text(f"root:x:0:\nstudent:x:{uid}:\n")
    (etc / "hostname").write_text("sandbox\n")
    (etc / "hosts").write_text("127.0.0.1 localhost sandbox\n")


def prepare(spec: RunSpec) -> Workspace:
    """Create the run's workspace: mount, copy the code, chown.

    Raises
    ------
    CodeRefused
        If the submission holds links or special files (nothing is left behind).
    """
    root_user = os.geteuid() == 0
    uid = SANDBOX_UID if root_user else os.geteuid()
    BASE.mkdir(mode=0o711, exist_ok=True)
    root = BASE / f"{os.getpid()}-{uuid.uuid4().hex[:12]}"
    root.mkdir(mode=0o711)
    code, out = root / "code", root / "out"
    code.mkdir()
    out.mkdir()
    mounted = False
    try:
        if root_user:
            code_bytes = _tree_bytes(spec.code_dir)
            mounted = _mount_tmpfs(code, code_bytes + spec.limits.tmp_mb * 1024 * 1024)
            mounted = _mount_tmpfs(out, spec.limits.output_bytes) and mounted
        # only folders and single-link regular files: never a link to the grader's files
        copy_code(spec.code_dir, code, spec.name)
        _write_etc(root / "etc", uid, spec.limits.whole_cpus)
        if root_user:
            _chown_tree(code, uid)
            os.lchown(out, uid, uid)
    except CodeRefused:
        cleanup(Workspace(root, code, out, root / "etc", mounted, uid))
        raise
    except OSError as exc:
        cleanup(Workspace(root, code, out, root / "etc", mounted, uid))
        raise SandboxBroken(
            f"could not prepare the sandbox workspace for {spec.name}: {exc}",
            hint=f"check free space and permissions under {BASE}",
        ) from exc
    return Workspace(root, code, out, root / "etc", mounted, uid)


def misplaced(ws: Workspace) -> list[str]:
    """A note when the run wrote ``submission.csv`` into its working folder (a copy that is
    thrown away) instead of ``$GRADER_OUTPUT``; nothing is read from it."""
    try:
        os.lstat(ws.code / "submission.csv")
    except OSError:
        return []
    return [MISPLACED_NOTE]


def harvest(ws: Workspace, dest: Path, max_bytes: int) -> list[str]:
    """Copy the run's outputs into ``dest`` as data; returns notes about what was dropped.

    Regular files and folders are copied (opened with ``O_NOFOLLOW``), links are re-created
    as links with the same target (never followed: ``sandbox.outputs`` refuses them), and
    anything else (fifos, sockets, devices) is dropped. At most ``MAX_OUTPUT_FILES``
    entries, ``MAX_DEPTH`` folder levels and ``max_bytes`` bytes are copied; the predictions
    (``submission.csv``) first, so no number of plots or checkpoints written beside them
    (listed in any order) can push them out.
    """
    notes: list[str] = misplaced(ws)
    dest.mkdir(parents=True, exist_ok=True)
    budget = _Budget(max_bytes)
    first = os.path.join(ws.out, SUBMISSION_CSV)
    _copy_entry(first, dest / SUBMISSION_CSV, SUBMISSION_CSV, budget, notes)
    for root, dirs, files in os.walk(ws.out, followlinks=False):
        rel = os.path.relpath(root, ws.out)
        target_dir = dest if rel == "." else dest / rel
        if rel.count(os.sep) >= MAX_DEPTH:
            dirs[:] = []
            notes.append(f"{rel}: folders nested too deep, not copied")
            continue
        for name in dirs + files:
            src = os.path.join(root, name)
            if src == first:
                continue  # copied first
            if budget.entries >= MAX_OUTPUT_FILES:
                notes.append(f"more than {MAX_OUTPUT_FILES} output files; the rest dropped")
                return notes
            _copy_entry(src, target_dir / name, name if rel == "." else os.path.join(rel, name),
                        budget, notes)
    return notes


class _Budget:
    """What ``harvest`` has copied so far: entries and bytes."""

    def __init__(self, max_bytes: int):
        self.max_bytes, self.bytes, self.entries = max_bytes, 0, 0


def _copy_entry(src: str, dst: Path, shown: str, budget: _Budget, notes: list[str]) -> None:
    """One entry of the output folder, as ``harvest`` copies it (absent: nothing)."""
    try:
        st = os.lstat(src)
    except FileNotFoundError:
        return
    except OSError as exc:
        notes.append(f"{shown}: not copied ({exc.strerror})")
        return
    budget.entries += 1
    try:
        if stat.S_ISDIR(st.st_mode):
            dst.mkdir(exist_ok=True)
        elif stat.S_ISLNK(st.st_mode):
            os.symlink(os.readlink(src), dst)
        elif not stat.S_ISREG(st.st_mode):
            notes.append(f"{shown}: not a regular file, dropped")
        elif budget.bytes + st.st_size > budget.max_bytes:
            notes.append(f"{shown}: dropped, output over the size limit")
        else:
            budget.bytes += _copy_nofollow(src, dst, budget.max_bytes - budget.bytes)
    except OSError as exc:
        notes.append(f"{shown}: not copied ({exc.strerror})")


def _copy_nofollow(src: str, dst: Path, limit: int) -> int:
    fd = os.open(src, os.O_RDONLY | os.O_NOFOLLOW)
    copied = 0
    try:
        with os.fdopen(fd, "rb") as fin, open(dst, "xb") as fout:
            while copied < limit:
                buf = fin.read(min(1 << 20, limit - copied))
                if not buf:
                    break
                fout.write(buf)
                copied += len(buf)
    except OSError:
        pass
    return copied


def cleanup(ws: Workspace) -> None:
    """Unmount and delete the workspace (safe to call twice)."""
    for p in (ws.code, ws.out):
        if os.path.ismount(p):
            _umount(p)
    shutil.rmtree(ws.root, ignore_errors=True)


def sweep_stale() -> int:
    """Remove workspaces left by graders that died; returns how many."""
    if not BASE.is_dir():
        return 0
    removed = 0
    for d in BASE.iterdir():
        owner = d.name.split("-", 1)[0]
        if not owner.isdigit():
            continue
        try:
            os.kill(int(owner), 0)
            continue
        except ProcessLookupError:
            pass
        except PermissionError:
            continue
        cleanup(Workspace(d, d / "code", d / "out", d / "etc", True, 0))
        removed += 1
    return removed
