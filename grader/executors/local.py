"""Parallel sandbox slots on this machine (threads; each run is its own sandbox process)."""

from __future__ import annotations

import queue
import time
from collections.abc import Iterator
from concurrent.futures import FIRST_COMPLETED, CancelledError, Future, ThreadPoolExecutor, wait
from contextlib import nullcontext

from grader.executors.task import RunResult, RunTask, execute_run

#: how long ``cancel`` keeps killing sandboxes that slots start late before it gives up waiting
_CANCEL_WAIT_S = 30.0


class LocalExecutor:
    """``jobs`` parallel slots; with GPUs, each slot owns its own devices."""

    name = "local"

    def __init__(self, jobs: int = 1, gpu_slots: list[tuple[int | str, ...]] | None = None):
        if gpu_slots:
            jobs = min(jobs, len(gpu_slots))
        self.jobs = max(1, jobs)
        self.gpu_slots = list((gpu_slots or [()] * self.jobs)[: self.jobs])
        self._slots: queue.Queue[tuple[int, ...]] = queue.Queue()
        for devices in (gpu_slots or [()] * self.jobs)[: self.jobs]:
            self._slots.put(devices)
        self._pool = ThreadPoolExecutor(max_workers=self.jobs, thread_name_prefix="slot")
        self._futures: set[Future] = set()
        self._stopping = False

    @classmethod
    def for_gpus(cls, jobs: int | None, gpus_per_run: int, *,
                 backend: str) -> LocalExecutor:
        """Slots planned by ``sandbox.gpus.plan_slots``: each slot its own GPUs, checked
        (devices, and their nodes for bubblewrap) before any run.

        Raises
        ------
        sandbox.gpus.GpuUnavailable
            If the machine cannot give every slot ``gpus_per_run`` GPUs of its own.
        """
        from sandbox.gpus import plan_slots

        slots = plan_slots(gpus_per_run, jobs, need_nodes=backend == "bwrap")
        return cls(jobs=len(slots), gpu_slots=slots if gpus_per_run else None)

    def _check_gpus(self, tasks: list[RunTask]) -> None:
        """A GPU run never goes to a slot without enough GPUs (no silent CPU fallback)."""
        need = max((t.limits.gpus for t in tasks), default=0)
        short = [s for s in self.gpu_slots if len(s) < need]
        if need and short:
            from sandbox.gpus import GpuUnavailable, detect_gpus

            raise GpuUnavailable(
                f"each run needs {need} GPU(s) ([sandbox] gpus = {need}) but {len(short)} of "
                f"the {self.jobs} local slot(s) have fewer (slots: {self.gpu_slots}; GPUs "
                f"found here: {detect_gpus() or 'none'}); runs are never moved to the CPU",
                hint="grade on a GPU machine with --jobs at most GPUs / gpus, use --executor "
                     "dask with GPU workers, or set [sandbox] gpus = 0")

    def _run_in_slot(self, task: RunTask) -> RunResult:
        if self._stopping:  # the batch is stopping: start nothing new
            raise CancelledError(task.student)
        devices = self._slots.get()
        try:
            mine = devices if task.needs_gpu else ()
            # host-wide: another grader or Dask worker of this machine never shares the GPU
            with _hold(mine) if mine else nullcontext():
                return execute_run(task, gpu_devices=mine)
        finally:
            self._slots.put(devices)

    def map_unordered(self, tasks: list[RunTask]) -> Iterator[RunResult]:
        self._check_gpus(tasks)
        pending = {self._pool.submit(self._run_in_slot, t) for t in tasks}
        self._futures = pending
        while pending:
            done, pending = wait(pending, timeout=0.5, return_when=FIRST_COMPLETED)
            self._futures = pending
            for fut in done:
                yield fut.result()

    def cancel(self) -> None:
        """Drop queued runs and kill running sandboxes (their results are discarded)."""
        self._stopping = True
        for fut in list(self._futures):
            fut.cancel()
        kill_children()
        # A slot still preparing its run (copying the workspace) when the stop came starts its
        # sandbox after that kill, and the pool would wait for it (a 50 s program: the batch
        # hung after SIGHUP): keep killing until every slot has returned.
        running = {f for f in self._futures if not f.done()}
        deadline = time.monotonic() + _CANCEL_WAIT_S
        while running and time.monotonic() < deadline:
            _, running = wait(running, timeout=0.2)
            if running:
                kill_children()
        self._pool.shutdown(wait=True, cancel_futures=True)

    def close(self) -> None:
        self._pool.shutdown(wait=True)


def _hold(devices):
    from sandbox.gpus import hold

    return hold(devices)


def kill_children() -> None:
    """Kill every process this process started (the running sandboxes)."""
    import psutil

    try:
        cancel_backends = __import__("sandbox").cancel_all
    except AttributeError:
        cancel_backends = None
    if cancel_backends is not None:
        cancel_backends()
    children = psutil.Process().children(recursive=True)
    for child in children:
        try:
            child.kill()
        except psutil.Error:
            pass
    psutil.wait_procs(children, timeout=10)
