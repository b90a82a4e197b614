"""Dask worker processes of one host never share a GPU (real LocalCluster, ``--nworkers 2``).

Both workers are told the same two GPUs (as ``dask worker --nworkers 2`` on a 2-GPU host
would be) and each offers ``GPU=2``, so without host-wide locks four runs would hold GPUs at
once, two on each device. No GPU is needed: the devices are only held, not opened.
"""

from __future__ import annotations

import time

import pytest

pytestmark = pytest.mark.dask


def _hold_and_record(i: int) -> tuple[tuple, float, float, int]:
    import os

    from grader.executors.dask import _hold_gpus

    with _hold_gpus(1) as devices:
        start = time.monotonic()
        time.sleep(0.6)
        return devices, start, time.monotonic(), os.getpid()


def test_worker_processes_of_one_host_split_the_gpus(tmp_path, monkeypatch):
    distributed = pytest.importorskip("distributed")
    monkeypatch.setenv("GRADER_GPU_DEVICES", "0,1")
    monkeypatch.setenv("GRADER_GPU_LOCK_DIR", str(tmp_path / "locks"))
    with distributed.LocalCluster(n_workers=2, threads_per_worker=2, processes=True,
                                  resources={"GPU": 2}, dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        futs = [client.submit(_hold_and_record, i, resources={"GPU": 1}, pure=False)
                for i in range(8)]
        runs = client.gather(futs)
    assert len({pid for *_, pid in runs}) == 2  # both worker processes took runs
    for i, (d1, s1, e1, _) in enumerate(runs):
        for d2, s2, e2, _ in runs[i + 1:]:
            if s1 < e2 and s2 < e1:  # overlapping in time
                assert d1 != d2, runs
