"""Parallel sandbox slots on this machine (threads; each run is its own sandbox process)."""

from __future__ import annotations

import queue
from collections.abc import Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait

from grader.executors.task import RunResult, RunTask, execute_run


class LocalExecutor:
    """``jobs`` parallel slots; with GPUs, each slot owns its own devices."""

    name = "local"

    def __init__(self, jobs: int = 1, gpu_slots: list[tuple[int, ...]] | None = None):
        if gpu_slots:
            jobs = min(jobs, len(gpu_slots))
        self.jobs = max(1, jobs)
        self._slots: queue.Queue[tuple[int, ...]] = queue.Queue()
        for devices in (gpu_slots or [()] * self.jobs)[: self.jobs]:
            self._slots.put(devices)
        self._pool = ThreadPoolExecutor(max_workers=self.jobs, thread_name_prefix="slot")
        self._futures: set[Future] = set()

    def _run_in_slot(self, task: RunTask) -> RunResult:
        devices = self._slots.get()
        try:
            return execute_run(task, gpu_devices=devices if task.needs_gpu else ())
        finally:
            self._slots.put(devices)

    def map_unordered(self, tasks: list[RunTask]) -> Iterator[RunResult]:
        pending = {self._pool.submit(self._run_in_slot, t) for t in tasks}
        self._futures = pending
        while pending:
            done, pending = wait(pending, timeout=0.5, return_when=FIRST_COMPLETED)
            self._futures = pending
            for fut in done:
                yield fut.result()

    def cancel(self) -> None:
        """Drop queued runs and kill running sandboxes (their results are discarded)."""
        for fut in list(self._futures):
            fut.cancel()
        kill_children()
        self._pool.shutdown(wait=True, cancel_futures=True)

    def close(self) -> None:
        self._pool.shutdown(wait=True)


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
