"""The Dask executor's worker-side pieces without a cluster: GPU devices from the worker's
configuration, and staged data checked against its content hash."""

from __future__ import annotations

import pytest


def test_gpu_devices_come_from_the_worker_configuration():
    from grader.executors.dask import worker_gpu_devices

    assert worker_gpu_devices({"GRADER_GPU_DEVICES": "1, 3"}) == (1, 3)
    assert worker_gpu_devices({"GRADER_GPU_DEVICES": "none"}) is None
    assert worker_gpu_devices({"CUDA_VISIBLE_DEVICES": "2"}) == (2,)
    # explicit configuration wins over what a job scheduler exported
    assert worker_gpu_devices({"GRADER_GPU_DEVICES": "0", "CUDA_VISIBLE_DEVICES": "5"}) == (0,)
    with pytest.raises(ValueError, match="GRADER_GPU_DEVICES='gpu0'"):
        worker_gpu_devices({"GRADER_GPU_DEVICES": "gpu0"})


def test_a_worker_shares_its_gpus_out_one_run_at_a_time(monkeypatch):
    from grader.executors.dask import _hold_gpus

    monkeypatch.setenv("GRADER_GPU_DEVICES", "0,1")
    with _hold_gpus(1) as first, _hold_gpus(1) as second:
        assert {first, second} == {(0,), (1,)}  # two threads of one worker: own devices
    with _hold_gpus(0) as none:
        assert none == ()
    monkeypatch.setenv("GRADER_GPU_DEVICES", "")  # advertises GPU, has none
    with pytest.raises(RuntimeError, match="has 0 GPU\\(s\\)"), _hold_gpus(1):
        pass


def test_staged_data_is_checked_against_its_hash(tmp_path):
    from grader.course import hash_tree
    from grader.executors.staging import DataUnavailable, StagedData, pack_data, unpack_once

    data = tmp_path / "data"
    (data / "images").mkdir(parents=True)
    (data / "train.csv").write_text("id,label\n1,a\n")
    (data / "images" / "1.txt").write_text("pixels")

    good = pack_data(data, hash_tree(data))
    copy = unpack_once(good, tmp_path / "cache")
    assert (copy / "images" / "1.txt").read_text() == "pixels"
    assert unpack_once(good, tmp_path / "cache") == copy  # cached: same folder
    with pytest.raises(DataUnavailable, match="expected 0+"):
        unpack_once(StagedData("0" * 32, good.blob), tmp_path / "cache")
    assert not (tmp_path / "cache" / ("0" * 32)).exists()


def test_shared_path_must_hold_the_same_data(tmp_path):
    from grader.course import hash_tree
    from grader.executors.staging import DataUnavailable, worker_data_dir

    data = tmp_path / "data"
    data.mkdir()
    (data / "train.csv").write_text("id,label\n1,a\n")
    right = hash_tree(data)
    assert worker_data_dir(str(data), right, None) == data
    with pytest.raises(DataUnavailable, match="holds different files"):
        worker_data_dir(str(data), "f" * 32, None)
    with pytest.raises(DataUnavailable, match="is missing"):
        worker_data_dir(str(tmp_path / "nowhere"), right, None)
