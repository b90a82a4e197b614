"""How the course's public data reaches a remote worker: a shared path, or a staged copy.

Two placements, chosen per batch by :func:`choose_placement` (or forced by the caller):

``shared``
    Every worker sees the course's ``data/`` folder at the *same absolute path* as the grader
    (an NFS/Lustre home on a Slurm cluster, a PersistentVolume mounted at the same path on
    Kubernetes). Each worker process checks the folder's content hash once before its first
    run, so a stale copy on one node can never grade against the wrong data.
``stage``
    The grader packs ``data/`` once (a gzip'd tar, as bytes); Dask ships the bytes to each
    worker, which unpacks them once into ``$GRADER_STAGING_DIR/<data_hash>/`` (default
    ``<tmp>/gradebox-data``), checks the hash, and reuses that folder for every later run of
    the same data — also across batches, because the folder is named by content.

The sandbox mounts whichever folder results read-only, so staged data is never modified by a
run. Submissions never use this module: their files travel inside each task.
"""

from __future__ import annotations

import fcntl
import io
import os
import shutil
import tarfile
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

from grader.course import hash_tree  # the same hash course.data_hash uses

#: the placements :class:`~grader.executors.dask.DaskExecutor` accepts
PLACEMENTS = ("auto", "shared", "stage")
#: where a worker unpacks staged data (one folder per content hash)
STAGING_ENV = "GRADER_STAGING_DIR"

_verified: dict[tuple[str, str], bool] = {}  # (path, hash) -> matched; once per worker process
_verified_lock = threading.Lock()


class DataUnavailable(RuntimeError):
    """A worker cannot provide the course data (raised on the worker, reported by the grader)."""


@dataclass(frozen=True)
class StagedData:
    """The course's ``data/`` folder packed for shipping to workers.

    Attributes
    ----------
    data_hash : str
        ``Course.data_hash`` of the packed folder; names the worker's cache folder.
    blob : bytes
        A gzip-compressed tar of the folder's files (relative paths, regular files only).
    """

    data_hash: str
    blob: bytes


def pack_data(folder: str | Path, data_hash: str) -> StagedData:
    """Pack ``folder`` (the course's ``data/``) for staging on workers.

    Parameters
    ----------
    folder : str or Path
        The data folder on the grader's machine.
    data_hash : str
        Its content hash (``Course.data_hash``); workers check the unpacked copy against it.

    Returns
    -------
    StagedData
    """
    folder = Path(folder)
    buf = io.BytesIO()
    # level 1: CSVs shrink several-fold at a small fraction of level 9's time
    with tarfile.open(fileobj=buf, mode="w:gz", compresslevel=1) as tar:
        for path in sorted(p for p in folder.rglob("*") if p.is_file() and not p.is_symlink()):
            tar.add(path, arcname=str(path.relative_to(folder)), recursive=False)
    return StagedData(data_hash, buf.getvalue())


def staging_root() -> Path:
    """The worker's cache of staged data (``$GRADER_STAGING_DIR`` or ``<tmp>/gradebox-data``)."""
    return Path(os.environ.get(STAGING_ENV) or Path(tempfile.gettempdir()) / "gradebox-data")


def unpack_once(staged: StagedData, root: Path | None = None) -> Path:
    """The folder holding ``staged``'s files on this worker, unpacking it on first use.

    Safe when several worker threads or processes on one machine ask at once: one unpacks
    under a file lock, the others wait and reuse its folder.

    Raises
    ------
    DataUnavailable
        If the unpacked files do not match ``staged.data_hash``.
    """
    root = root or staging_root()
    root.mkdir(parents=True, exist_ok=True)
    target, done = root / staged.data_hash, root / f"{staged.data_hash}.ok"
    if done.is_file():
        return target
    with (root / f"{staged.data_hash}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if done.is_file():  # another thread/process finished while we waited
            return target
        tmp = Path(tempfile.mkdtemp(prefix=f".{staged.data_hash}-", dir=root))
        try:
            with tarfile.open(fileobj=io.BytesIO(staged.blob), mode="r:gz") as tar:
                tar.extractall(tmp, filter="data")  # no links out, no absolute paths
            got = hash_tree(tmp)
            if got != staged.data_hash:
                raise DataUnavailable(f"staged data unpacked to {tmp} has hash {got}, expected "
                                      f"{staged.data_hash}")
            _make_readable(tmp)  # the sandbox may run as another user; the data is public
            shutil.rmtree(target, ignore_errors=True)  # a half-finished earlier attempt
            tmp.rename(target)
            done.write_text(staged.data_hash)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    return target


def _make_readable(folder: Path) -> None:
    """Folders 0755 and files 0644 (``mkdtemp`` makes the top folder private)."""
    folder.chmod(0o755)
    for path in folder.rglob("*"):
        path.chmod(0o755 if path.is_dir() else 0o644)


def shared_matches(path: str, data_hash: str) -> bool:
    """Whether this machine sees the course data at ``path`` with content ``data_hash``.

    Hashes the folder at most once per worker process (the answer is cached).
    """
    key = (path, data_hash)
    with _verified_lock:
        if key in _verified:
            return _verified[key]
    ok = Path(path).is_dir() and hash_tree(Path(path)) == data_hash
    with _verified_lock:
        _verified[key] = ok
    return ok


def worker_data_dir(data_dir: str, data_hash: str, staged: StagedData | None) -> Path:
    """The data folder a run on this worker mounts: the staged copy, else the shared path.

    Raises
    ------
    DataUnavailable
        If the shared path is missing or holds different data on this worker.
    """
    if staged is not None:
        return unpack_once(staged)
    if not shared_matches(data_dir, data_hash):
        where = "is missing" if not Path(data_dir).is_dir() else "holds different files"
        raise DataUnavailable(
            f"the course data folder {data_dir} {where} on this worker; mount the course at the "
            "same path on every worker, or let the grader stage the data (placement 'stage')")
    return Path(data_dir)
