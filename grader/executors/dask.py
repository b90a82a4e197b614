"""Runs on a Dask cluster: each run is one Dask task that executes the sandbox on a worker.

The grader process is a Dask *client*. It submits one task per submission
(:func:`run_on_worker`, with the submission's files inside the task), and receives each
:class:`~grader.executors.task.RunResult` as data; only the grader writes the store.

Placement
    A task whose course asks for GPUs (``[sandbox] gpus = k``) requests ``{"GPU": k}``, so it
    only runs on workers started with ``--resources GPU=n``, at most ``n / k`` at a time. On
    the worker the devices come from the worker's own configuration (:func:`worker_gpu_devices`).
Data
    The course's ``data/`` reaches workers through a shared path or is staged once per worker
    by content hash (:mod:`grader.executors.staging`).
Faults
    A worker that dies mid-run has its run retried once elsewhere; the second death makes the
    run an ``error`` verdict that says so. Dask decides this on the scheduler
    (``distributed.scheduler.allowed-failures``, which should be 1: see docs/cluster.md); the
    executor also counts attempts itself, so a scheduler that allows more still gives up after
    one retry. A machine-side failure raised on a worker (no sandbox there, data missing) is a
    ``sandbox_broken`` result: not stored, and the batch ends asking for a rerun. Losing the
    scheduler raises :class:`SchedulerUnavailable`; every result already handed back is kept.
"""

from __future__ import annotations

import logging
import os
import re
import socket
import sys
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

from grader.errors import GraderError
from grader.executors import staging
from grader.executors.task import RunResult, RunTask, execute_run

#: the Dask resource a GPU run requests, one unit per GPU (``dask worker --resources GPU=1``)
GPU_RESOURCE = "GPU"
#: on a worker: the host GPUs it may hand out, e.g. ``0``, ``2,3`` or UUIDs (``GPU-...``,
#: ``MIG-...``); ``none`` means "advertise GPU for placement but run without devices" (tests,
#: dry runs on CPU nodes)
GPU_DEVICES_ENV = "GRADER_GPU_DEVICES"
#: on a worker: the folder of the host-wide GPU locks (default: sandbox.gpus.default_lock_dir),
#: shared by every worker process of the host (``--nworkers k``) and every grader there
GPU_LOCK_DIR_ENV = "GRADER_GPU_LOCK_DIR"
#: event topic each attempt logs on the scheduler when it starts (attempt counting)
START_TOPIC = "gradebox-run-start"
_POLL_S = 0.02  # how often the grader checks for finished runs and exhausted retries


class WorkerSandboxBroken(RuntimeError):
    """The sandbox failed on a worker (the machine's fault): raised so that Dask retries."""


class SchedulerUnavailable(GraderError):
    """The Dask scheduler cannot be reached, or went away during the batch."""

    reference = "dask-scheduler"


# --------------------------------------------------------------------------- worker side

def worker_gpu_devices(environ: Mapping[str, str] | None = None
                       ) -> tuple[int | str, ...] | None:
    """The host GPUs this worker may give to runs (indices or UUIDs).

    Read, in order, from ``$GRADER_GPU_DEVICES`` (``"0,1"``, ``"GPU-...,MIG-..."``; ``"none"``
    for placement without devices), from ``$CUDA_VISIBLE_DEVICES`` (as
    ``CUDA_VISIBLE_DEVICES=1 dask worker ...`` or a Slurm GPU allocation sets it: indices,
    GPU or MIG UUIDs), else from the devices found on the machine. Worker processes of one
    host never share a GPU: each run also takes host-wide locks (:func:`_hold_gpus`).

    Returns
    -------
    tuple of int or str, or None
        None means "none": GPU runs are placed here but get no devices.

    Raises
    ------
    ValueError
        If ``$GRADER_GPU_DEVICES`` or ``$CUDA_VISIBLE_DEVICES`` is not a list of GPUs.

    Examples
    --------
    >>> worker_gpu_devices({"GRADER_GPU_DEVICES": "2,3"})
    (2, 3)
    >>> worker_gpu_devices({"GRADER_GPU_DEVICES": "none"}) is None
    True
    >>> worker_gpu_devices({"CUDA_VISIBLE_DEVICES": "GPU-5d5b,MIG-c6d4"})
    ('GPU-5d5b', 'MIG-c6d4')
    """
    from sandbox.gpus import parse_gpu_list

    env = os.environ if environ is None else environ
    for name in (GPU_DEVICES_ENV, "CUDA_VISIBLE_DEVICES"):
        raw = env.get(name)
        if raw is None or (name != GPU_DEVICES_ENV and not raw.strip()):
            continue
        raw = raw.strip()
        if name == GPU_DEVICES_ENV and raw.lower() == "none":
            return None
        try:
            return parse_gpu_list(raw)
        except ValueError as exc:
            raise ValueError(f"{name}={raw!r} on this worker: {exc}; or set "
                             f"{GPU_DEVICES_ENV}=none") from None
    from sandbox.gpus import detect_gpus

    return tuple(detect_gpus())


_pools: dict[int, Any] = {}
_pools_lock = threading.Lock()


@contextmanager
def _hold_gpus(per_run: int) -> Iterator[tuple[int, ...]]:
    """This worker's devices for one run (one pool per worker process, shared by threads)."""
    if per_run <= 0:
        yield ()
        return
    devices = worker_gpu_devices()
    if devices is None:
        yield ()
        return
    from sandbox.gpus import GpuPool, default_lock_dir

    lock_dir = os.environ.get(GPU_LOCK_DIR_ENV) or default_lock_dir()
    with _pools_lock:
        pool = _pools.get(per_run)
        if pool is None or pool.devices != devices:
            # host-wide locks: the other worker processes of this host hold their own pools
            pool = _pools[per_run] = GpuPool(devices, per_run=per_run, lock_dir=lock_dir)
    if per_run > len(devices):
        raise RuntimeError(
            f"this worker advertises the {GPU_RESOURCE} resource but has {len(devices)} GPU(s) "
            f"({list(devices)}) for runs needing {per_run}; set {GPU_DEVICES_ENV} on the worker "
            "or start it without --resources GPU")
    with pool.acquire() as held:
        yield held


def _worker_label() -> str:
    """``host/name`` of the Dask worker running this code (the host name outside Dask)."""
    from distributed import get_worker

    host = socket.gethostname()
    try:
        w = get_worker()
    except ValueError:
        return host
    return f"{host}/{w.name}"


def _log_start(label: str, student: str) -> str | None:
    """Log this attempt's start on the scheduler; returns the task's key (None outside Dask)."""
    from distributed import get_worker

    try:
        w = get_worker()
        key = str(w.get_current_task())
    except (ValueError, AttributeError, KeyError):
        return None
    w.log_event(START_TOPIC, {"key": key, "worker": label, "address": w.address,
                              "pid": os.getpid(), "student": student})
    return key


def _cancel_runs(keys: list[str]) -> int:
    """On a worker: kill the sandboxes of these tasks that are in flight (``client.run``)."""
    from sandbox._active import cancel_tagged

    return cancel_tagged([k for k in keys if k])


def run_on_worker(task: RunTask, staged: staging.StagedData | None = None) -> RunResult:
    """The Dask task: run one submission in this worker's sandbox and return the result.

    Parameters
    ----------
    task : RunTask
        The run, with the submission's files inside.
    staged : StagedData, optional
        The course data, when the grader stages it (else ``task.data_dir`` is a shared path).

    Raises
    ------
    Exception
        Only for machine-side failures (data unavailable, GPU misconfigured, no sandbox
        backend on this worker); the student's failures are verdicts inside the result.
    """
    from sandbox._active import tagged

    label = _worker_label()
    key = _log_start(label, task.student)
    data_dir = staging.worker_data_dir(task.data_dir, task.data_hash, staged)
    # the sandbox carries the task's key, so the grader's Ctrl-C can stop exactly this run
    with _hold_gpus(task.limits.gpus) as devices, tagged(key or ""):
        result = execute_run(task, gpu_devices=devices, data_dir=str(data_dir))
    if result.verdict.get("status") == "sandbox_broken" or result.verdict.get("grader_fault"):
        # the node's fault (or the grader's on this node, e.g. a worker shutting down under
        # the run), not the student's: an exception makes Dask retry the run elsewhere
        raise WorkerSandboxBroken(result.verdict.get("message") or "the sandbox failed")
    result.worker = label
    return result


# --------------------------------------------------------------------------- grader side

def _task_key(student: str) -> str:
    slug = re.sub(r"[^A-Za-z0-9_.-]+", "_", student)[:40]
    return f"gradebox-run-{slug}-{uuid.uuid4().hex[:12]}"


def _error_result(task: RunTask, status: str, message: str, workers: list[str],
                  started: float) -> RunResult:
    from sandbox.verdict import Verdict

    verdict = Verdict(status=status, exit_code=None, wall_s=0.0, backend=task.backend,
                      message=message).to_dict()
    verdict["dask_attempts"] = workers
    return RunResult(task.student, task.run_key, verdict, None, None, started, time.time(),
                     worker=workers[-1] if workers else "", attempts=max(1, len(workers)))


class DaskExecutor:
    """Runs tasks on the Dask cluster whose scheduler listens at ``scheduler_address``.

    Parameters
    ----------
    scheduler_address : str
        e.g. ``"tcp://head-node:8786"``, or a scheduler file's path (``dask scheduler
        --scheduler-file``).
    placement : {"auto", "shared", "stage"}, default="auto"
        How the course data reaches workers (see :mod:`grader.executors.staging`); "auto"
        uses the shared path when every connected worker sees the same data there.
    retries : int, default=1
        Times a run is retried after its worker died or failed on the machine's side.
    connect_timeout_s : float, default=20
        How long to wait for the scheduler, at the start and after a lost connection.
    worker_wait_s : float, default=300
        How long to wait for a first worker when none is connected (then the batch stops
        with a clear error, its finished results kept).
    log : callable(str), optional
        Where notes go (default: standard error).

    Attributes
    ----------
    placements_ : dict of str to str
        After :meth:`map_unordered` started: data hash → "shared" or "stage".
    allowed_failures_ : int or None
        The scheduler's ``allowed-failures`` setting (None if it could not be read).

    Examples
    --------
    >>> ex = DaskExecutor("tcp://127.0.0.1:8786")  # doctest: +SKIP
    >>> for result in ex.map_unordered(tasks):      # doctest: +SKIP
    ...     print(result.student, result.verdict["status"], result.worker)
    """

    name = "dask"

    def __init__(self, scheduler_address: str | None, *, placement: str = "auto",
                 retries: int = 1, connect_timeout_s: float = 20.0,
                 worker_wait_s: float = 300.0, log: Callable[[str], None] | None = None):
        self.scheduler_address = scheduler_address
        self.placement = placement
        self.retries = retries
        self.connect_timeout_s = connect_timeout_s
        self.worker_wait_s = worker_wait_s
        self.log = log
        self._client = None
        self._futures: dict[Any, RunTask] = {}
        self._cancelled = False
        self.killed_in_flight_ = 0  # sandboxes killed on the workers by cancel()
        self._starts: dict[str, list[str]] = defaultdict(list)
        self._exhausted: set[str] = set()  # keys started more than 1 + retries times
        self._starts_lock = threading.Lock()

    # --- connection -----------------------------------------------------------------------

    def _say(self, text: str) -> None:
        (self.log or (lambda s: print(s, file=sys.stderr)))(text)

    def _connect(self):
        from distributed import Client

        if self.placement not in staging.PLACEMENTS:
            raise GraderError(f"unknown data placement {self.placement!r}",
                              hint=f"use one of: {', '.join(staging.PLACEMENTS)}")
        addr = self.scheduler_address
        if not addr:
            raise SchedulerUnavailable("--executor dask needs a scheduler address",
                                       hint="pass --scheduler tcp://HOST:8786 (docs/cluster.md)")
        kw: dict[str, Any] = {"timeout": self.connect_timeout_s, "set_as_default": False}
        if Path(addr).is_file():
            kw["scheduler_file"] = addr
        elif "://" not in addr and (addr.endswith(".json") or "/" in addr):
            # a path, not an address: it would be dialled as one ("missing port number")
            raise SchedulerUnavailable(
                f"the scheduler file {addr} does not exist",
                hint="pass the file 'dask scheduler --scheduler-file FILE' writes, once the "
                     "scheduler runs, or its address tcp://HOST:8786 (docs/cluster.md)")
        else:
            kw["address"] = addr
        try:
            client = Client(**kw)
        except (OSError, TimeoutError, ValueError) as exc:
            raise SchedulerUnavailable(
                f"cannot reach the Dask scheduler at {addr}: {exc}",
                hint="start it with 'dask scheduler' and workers with 'dask worker ADDRESS' "
                     "(docs/cluster.md), check the address and the firewall, or use "
                     "--executor local") from None
        self._client = client
        client.subscribe_topic(START_TOPIC, self._on_start)
        try:
            # a lambda travels by value: the scheduler need not have gradebox installed
            self.allowed_failures_ = int(client.run_on_scheduler(
                lambda dask_scheduler: dask_scheduler.allowed_failures))
        except Exception:  # an old or locked-down scheduler: our own count still applies
            self.allowed_failures_ = None
        if self.allowed_failures_ is not None and self.allowed_failures_ > self.retries:
            self._say(f"note: the scheduler retries a run {self.allowed_failures_} times after "
                      f"worker deaths; gradebox gives up after {self.retries} (start the "
                      "scheduler with DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES="
                      f"{self.retries} to stop the extra attempts early)")
        return client

    def _check_capacity(self, client, tasks: list[RunTask]) -> None:
        """Say so when no connected worker can take the runs (they would wait silently)."""
        workers = client.scheduler_info(n_workers=-1).get("workers", {}).values()
        if not workers:
            self._say(f"note: no Dask workers are connected to {self.scheduler_address} yet; "
                      f"waiting up to {self.worker_wait_s:g} s for one")
            try:  # the data is placed on the workers first: it needs one
                client.wait_for_workers(1, timeout=self.worker_wait_s)
            except TimeoutError:
                raise SchedulerUnavailable(
                    f"no Dask worker joined the scheduler at {self.scheduler_address} within "
                    f"{self.worker_wait_s:g} s", hint="start workers with 'dask worker "
                    f"{self.scheduler_address}' (docs/cluster.md), then run the same command "
                    "again: finished results are kept") from None
            workers = client.scheduler_info(n_workers=-1).get("workers", {}).values()
        need = max((t.limits.gpus for t in tasks), default=0)
        have = max((w.get("resources", {}).get(GPU_RESOURCE, 0) for w in workers), default=0)
        if need and have < need:
            self._say(f"note: each run needs {GPU_RESOURCE}={need} but no connected worker "
                      f"offers it (most: {have:g}); runs wait for a worker started with "
                      f"--resources {GPU_RESOURCE}={need} (docs/cluster.md)")

    def _on_start(self, event: tuple[float, dict[str, Any]]) -> None:
        msg = event[1]
        with self._starts_lock:
            self._starts[msg["key"]].append(msg["worker"])
            if len(self._starts[msg["key"]]) > 1 + self.retries:
                self._exhausted.add(msg["key"])

    def _attempts(self, key: str) -> list[str]:
        with self._starts_lock:
            return list(self._starts.get(key, ()))

    # --- data -----------------------------------------------------------------------------

    def _place_data(self, client, tasks: list[RunTask]) -> dict[str, Any]:
        """data hash → None (shared path) or the scattered :class:`StagedData` future."""
        self.placements_: dict[str, str] = {}
        staged: dict[str, Any] = {}
        for data_hash, data_dir in {t.data_hash: t.data_dir for t in tasks}.items():
            mode = self.placement
            if mode == "auto":
                try:
                    seen = client.run(staging.shared_matches, data_dir, data_hash)
                except Exception:  # a worker that cannot even answer: staging works anyway
                    seen = {}
                mode = "shared" if seen and all(seen.values()) else "stage"
            self.placements_[data_hash] = mode
            staged[data_hash] = None if mode == "shared" else client.scatter(
                staging.pack_data(data_dir, data_hash), broadcast=True, hash=False)
        return staged

    # --- the protocol ---------------------------------------------------------------------

    def map_unordered(self, tasks: list[RunTask]) -> Iterator[RunResult]:
        """Submit every task, then yield results as they finish (in any order).

        Raises
        ------
        SchedulerUnavailable
            If the scheduler cannot be reached or goes away; results already yielded stay
            valid, the rest are not run.
        """
        from distributed import as_completed

        from grader.course import hash_tree

        client = self._connect()
        # a task made without a data hash still needs one for checking and staging
        tasks = [t if t.data_hash else replace(t, data_hash=hash_tree(Path(t.data_dir)))
                 for t in tasks]
        self._check_capacity(client, tasks)
        staged = self._place_data(client, tasks)
        submitted = time.time()
        for t in tasks:
            fut = client.submit(
                run_on_worker, t, staged[t.data_hash], key=_task_key(t.student), pure=False,
                resources={GPU_RESOURCE: t.limits.gpus} if t.needs_gpu else None,
                retries=self.retries)
            self._futures[fut] = t
        finished = 0
        pending = as_completed(list(self._futures), loop=client.loop)
        while self._futures and not self._cancelled:
            if not pending.has_ready():
                yield from self._give_up_exhausted(submitted)
                time.sleep(_POLL_S)
                continue
            for fut in pending.next_batch(block=False):
                task = self._futures.pop(fut, None)
                if task is None:  # already given up on by _give_up_exhausted
                    continue
                result = self._collect(fut, task, submitted, finished, len(tasks))
                finished += 1
                yield result

    def _give_up_exhausted(self, submitted: float) -> Iterator[RunResult]:
        """Runs that started more than ``1 + retries`` times: stop them, report an error."""
        if not self._exhausted:  # the common case, checked without a lock
            return
        with self._starts_lock:
            keys, self._exhausted = self._exhausted, set()
        for fut, task in list(self._futures.items()):
            if fut.key in keys:
                workers = self._attempts(fut.key)
                del self._futures[fut]
                fut.cancel()
                yield _error_result(task, "error", _died_message(workers[:-1]), workers[:-1],
                                    submitted)

    def _collect(self, fut, task: RunTask, submitted: float, finished: int,
                 total: int) -> RunResult:
        from distributed.scheduler import KilledWorker

        status = fut.status
        workers = self._attempts(fut.key)
        if status == "finished":
            result: RunResult = fut.result()
            result.attempts = max(1, len(workers))
            if len(workers) > 1:
                result.verdict["dask_attempts"] = workers
            return result
        if status == "error":
            exc = fut.exception()
            if isinstance(exc, KilledWorker):
                return _error_result(task, "error", _died_message(workers), workers, submitted)
            where = f" on {workers[-1]}" if workers else ""
            return _error_result(
                task, "sandbox_broken",
                f"the worker failed{where} after {max(1, len(workers))} attempt(s): "
                f"{type(exc).__name__}: {exc}", workers, submitted)
        if status != "cancelled":  # "lost": the scheduler lost the task's result
            return _error_result(task, "sandbox_broken",
                                 f"Dask reports the run as {status}", workers, submitted)
        # cancelled without us asking: the client lost the scheduler
        self._quiet_distributed()
        raise SchedulerUnavailable(
            f"lost the Dask scheduler at {self.scheduler_address} after {finished} of {total} "
            "runs finished; those are kept",
            hint="restart the scheduler and workers (docs/cluster.md), then rerun the same "
                 "command: finished runs are not run again")

    def cancel(self) -> None:
        """Drop queued runs and kill the sandboxes of runs in flight on the workers (only
        this batch's: the workers may serve other batches too); their results are discarded."""
        self._cancelled = True
        client = self._client
        if client is not None and self._futures:
            keys = [str(f.key) for f in self._futures]
            try:
                client.cancel(list(self._futures), force=True)
                self.killed_in_flight_ = sum(client.run(_cancel_runs, keys).values())
            except Exception:  # the scheduler may be the reason we are cancelling
                pass
        self._futures.clear()
        self.close()

    def close(self) -> None:
        client, self._client = self._client, None
        if client is None:
            return
        try:
            client.unsubscribe_topic(START_TOPIC)
        except Exception:
            pass
        if client.status != "running":
            self._quiet_distributed()
        try:
            client.close(timeout=5)
        except Exception:  # closing after the scheduler vanished
            pass

    @staticmethod
    def _quiet_distributed() -> None:
        # the client logs reconnection tracebacks; the grader reports the loss itself
        for name in ("distributed.client", "distributed.utils", "distributed.core"):
            logging.getLogger(name).setLevel(logging.CRITICAL)


def _died_message(workers: list[str]) -> str:
    # for the student too: the workers' addresses stay in the verdict's dask_attempts
    return (f"the machine running this program failed {max(1, len(workers))} time(s), so it "
            "was given up after one retry: a node crashed, or the program exhausted the "
            "machine outside the sandbox's limits (the instructor can run it again with "
            "'grader run ... --rerun STUDENT')")

