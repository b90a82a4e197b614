"""The executors' GPU rules: no silent CPU fallback, GPU lists with UUIDs on Dask workers."""

from __future__ import annotations

import pytest

from grader.executors.dask import worker_gpu_devices
from grader.executors.local import LocalExecutor
from grader.executors.task import RunTask
from sandbox import Limits
from sandbox.gpus import GpuUnavailable


def _task(gpus: int) -> RunTask:
    return RunTask("ana", "k", {"main.py": b"print(1)"}, "main.py", "/nonexistent",
                   Limits(gpus=gpus), "bwrap")


def test_local_executor_refuses_gpu_runs_without_gpus_before_any_run():
    ex = LocalExecutor(jobs=2, gpu_slots=[])  # what a machine without GPUs used to give
    try:
        with pytest.raises(GpuUnavailable) as e:
            next(ex.map_unordered([_task(1), _task(1)]))
        assert "never moved to the CPU" in e.value.message and "[sandbox] gpus = 0" in e.value.hint
    finally:
        ex.close()


def test_local_executor_plans_slots_from_the_machine():
    with pytest.raises(GpuUnavailable, match="never moved to the CPU"):
        LocalExecutor.for_gpus(None, 1, backend="bwrap")  # this machine has no GPU
    ex = LocalExecutor.for_gpus(3, 0, backend="bwrap")
    assert ex.jobs == 3 and ex.gpu_slots == [(), (), ()]
    ex.close()


def test_worker_gpu_lists_take_uuids_and_mig_uuids():
    env = {"CUDA_VISIBLE_DEVICES": "GPU-5d5ba0d6-d33d, MIG-c6d4f1ef-42e4"}
    assert worker_gpu_devices(env) == ("GPU-5d5ba0d6-d33d", "MIG-c6d4f1ef-42e4")
    assert worker_gpu_devices({"GRADER_GPU_DEVICES": "1,GPU-aa"}) == (1, "GPU-aa")
    assert worker_gpu_devices({"GRADER_GPU_DEVICES": "none", "CUDA_VISIBLE_DEVICES": "0"}) is None
    with pytest.raises(ValueError, match="CUDA_VISIBLE_DEVICES='cuda:0' on this worker"):
        worker_gpu_devices({"CUDA_VISIBLE_DEVICES": "cuda:0"})
