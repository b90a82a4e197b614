"""GPU discovery, device mapping and slots against a fake NVIDIA driver tree (no GPU here).

The driver tree is fake (files shaped like ``/proc/driver/nvidia/gpus/*/information``, an
``nvidia-smi`` script printing real nvidia-smi output); the parsing, the mapping, the
``mknod`` device nodes and the file locks are real.
"""

from __future__ import annotations

import multiprocessing
import os
import time
from pathlib import Path

import pytest

from sandbox import gpus
from sandbox.gpus import (
    GpuDevice,
    GpuPool,
    GpuUnavailable,
    MigDevice,
    bwrap_device_flags,
    device_nodes,
    docker_gpu_env,
    inventory,
    normalize_bus_id,
    parse_gpu_list,
    parse_smi_query,
    plan_slots,
    resolve,
)
from tests.unit.gpu_fakes import A100_LIKE, FakeGpu, make_driver_tree

root_only = pytest.mark.skipif(os.geteuid() != 0, reason="mknod needs root")


@pytest.fixture
def host(tmp_path):
    if os.geteuid() != 0:
        pytest.skip("mknod needs root")
    return make_driver_tree(tmp_path)


# ----------------------------------------------------------------------------- parsing


def test_bus_ids_of_nvidia_smi_and_proc_agree():
    assert normalize_bus_id("00000000:0F:00.0") == normalize_bus_id("0000:0f:00.0")
    assert normalize_bus_id("00000001:3B:00.1") == "0001:3b:00.1"


def test_malformed_smi_lines_are_skipped():
    text = ("index, uuid, pci.bus_id\nNo devices were found\n"
            "0, GPU-aa, 00000000:07:00.0, A100\n[Insufficient Permissions]\n1, oops\n")
    assert parse_smi_query(text) == [(0, "GPU-aa", "0000:07:00.0", "A100")]


def test_gpu_lists_accept_indices_uuids_and_mig_uuids():
    assert parse_gpu_list("0,2") == (0, 2)
    assert parse_gpu_list(" GPU-8f2c-11, MIG-4b1e-22 ,3") == ("GPU-8f2c-11", "MIG-4b1e-22", 3)
    assert parse_gpu_list("MIG-GPU-8f2c/1/0") == ("MIG-GPU-8f2c/1/0",)  # the pre-R470 form
    assert parse_gpu_list("") == ()
    with pytest.raises(ValueError, match="not a GPU"):
        parse_gpu_list("0,cuda:1")


# ----------------------------------------------------------------------------- mapping


@root_only
def test_index_is_mapped_to_its_node_through_the_driver_not_assumed(tmp_path):
    host = make_driver_tree(tmp_path)
    found = inventory(host)
    assert [(d.index, d.minor) for d in found] == [(0, 2), (1, 3), (2, 0), (3, 1)]
    assert found[2].mig_uuids == A100_LIKE[2].migs
    assert gpus.detect_gpus(host) == [0, 1, 2, 3]


@root_only
def test_without_nvidia_smi_the_driver_files_alone_give_bus_order(tmp_path):
    shuffled = (FakeGpu(0, "GPU-b", "00000000:81:00.0", 0), FakeGpu(1, "GPU-a", "00000000:02:00.0", 1))
    host = make_driver_tree(tmp_path, shuffled, smi=False)
    # nvidia-smi numbers by PCI bus: bus 02 is GPU 0 although its minor is 1
    assert [(d.index, d.uuid, d.minor) for d in inventory(host)] == [(0, "GPU-a", 1), (1, "GPU-b", 0)]


@root_only
def test_resolve_by_index_uuid_and_mig(tmp_path):
    host = make_driver_tree(tmp_path)
    d1, d2, mig = resolve([1, A100_LIKE[2].uuid.lower(), A100_LIKE[2].migs[0]], host)
    assert isinstance(d1, GpuDevice) and d1.minor == 3
    assert d2.index == 2 and isinstance(mig, MigDevice) and mig.parent.index == 2
    with pytest.raises(GpuUnavailable, match="GPU 7 is not on this machine") as e:
        resolve([7], host)
    assert "GPU-aaaaaaaa" in e.value.message  # says which GPUs exist


# ----------------------------------------------------------------------------- nodes


def test_bwrap_binds_the_runs_own_node_under_its_minor(host):
    flags = bwrap_device_flags((1,), host)
    binds = dict(zip(flags[1::3], flags[2::3], strict=True))
    assert binds[str(host.dev_root / "nvidia3")] == "/dev/nvidia3"  # GPU 1 is minor 3
    assert {"/dev/nvidiactl", "/dev/nvidia-uvm", "/dev/nvidia-uvm-tools"} <= set(binds.values())
    others = {f"/dev/nvidia{m}" for m in (0, 1, 2)}
    assert not others & set(binds.values())  # never another slot's GPU
    assert gpus.cuda_env((1,)) == {"CUDA_DEVICE_ORDER": "PCI_BUS_ID", "CUDA_VISIBLE_DEVICES": "0",
                                   "CUBLAS_WORKSPACE_CONFIG": ":4096:8"}


@root_only
def test_missing_nodes_are_the_graders_error_with_the_fix(tmp_path):
    host = make_driver_tree(tmp_path, shared=("nvidiactl",))  # nvidia-uvm never created
    (host.dev_root / "nvidia3").unlink()
    (host.dev_root / "nvidia3").write_text("")  # a regular file is not a device
    with pytest.raises(GpuUnavailable) as e:
        device_nodes((1,), host)
    text = e.value.render()
    assert "nvidia-uvm is missing" in text and "nvidia3 is not a character device" in text
    assert "nvidia-modprobe -u -c=0" in text


@root_only
def test_mig_and_unmapped_gpus_are_refused_for_bwrap(tmp_path):
    host = make_driver_tree(tmp_path)
    with pytest.raises(GpuUnavailable) as e:
        device_nodes((A100_LIKE[2].migs[0],), host)
    assert "MIG runs need the Docker backend" in e.value.render()
    other = make_driver_tree(tmp_path / "b")
    info = next((other.proc_root / "gpus").glob("*/information"))
    info.write_text(info.read_text().replace("Device Minor", "Minor?"))
    with pytest.raises(GpuUnavailable) as e:
        device_nodes(tuple(range(4)), other)
    assert "does not say its device node" in e.value.render()


def test_docker_gpus_zero_gets_void():
    assert docker_gpu_env(())["NVIDIA_VISIBLE_DEVICES"] == "void"
    assert docker_gpu_env(())["CUDA_VISIBLE_DEVICES"] == ""
    env = docker_gpu_env(("GPU-aa", "GPU-bb"))
    assert env["NVIDIA_VISIBLE_DEVICES"] == "GPU-aa,GPU-bb" and env["CUDA_VISIBLE_DEVICES"] == "0,1"


def test_docker_container_of_a_cpu_run_gets_no_gpu(tmp_path):
    pytest.importorskip("docker")
    from sandbox import Limits, RunSpec
    from sandbox._runtime import python_runtime
    from sandbox._workspace import Workspace
    from sandbox.backends.docker import container_kwargs

    for d in ("code", "data", "out"):
        (tmp_path / d).mkdir()
    spec = RunSpec(tmp_path / "code", "main.py", tmp_path / "data", tmp_path / "out",
                   limits=Limits())
    ws = Workspace(tmp_path, tmp_path / "code", tmp_path / "out", tmp_path / "etc", False, 65534)
    kw = container_kwargs(spec, ws, image="img", runtime=python_runtime(spec.python),
                          cgroup_parent=None)
    assert kw["environment"]["NVIDIA_VISIBLE_DEVICES"] == "void"
    assert kw["device_requests"] == []


# ----------------------------------------------------------------------------- slots


def test_plan_slots_never_falls_back_to_the_cpu():
    assert plan_slots(1, None, [0, 1]) == [(0,), (1,)]
    assert plan_slots(2, 1, [0, 1, 2, 3]) == [(0, 1)]
    assert plan_slots(0, 3, []) == [(), (), ()]
    with pytest.raises(GpuUnavailable, match="never moved to the CPU") as e:
        plan_slots(1, None, [])
    assert "[sandbox] gpus = 0" in e.value.hint
    with pytest.raises(GpuUnavailable, match="--jobs 3 needs 3 GPU") as e:
        plan_slots(1, 3, [0, 1])
    assert e.value.hint == "use --jobs 2 or fewer"


def test_plan_slots_checks_the_nodes_before_any_run(host):
    (host.dev_root / "nvidia-uvm").unlink()
    assert plan_slots(1, None, [0, 1], host=host) == [(0,), (1,)]  # Docker makes its own nodes
    with pytest.raises(GpuUnavailable) as e:
        plan_slots(1, None, [0, 1], need_nodes=True, host=host)
    assert e.value.problems == [f"{host.dev_root}/nvidia-uvm is missing"]


# ----------------------------------------------------------------------------- host locks


def _hold_one(lock_dir: str, devices: list, hold_s: float, q) -> None:
    pool = GpuPool(devices, per_run=1, lock_dir=lock_dir)
    with pool.acquire(timeout=30) as held:
        q.put((os.getpid(), held, time.monotonic()))
        time.sleep(hold_s)
    q.put((os.getpid(), "released", time.monotonic()))


def test_processes_of_one_host_never_share_a_gpu(tmp_path):
    """Two worker processes, each with its own pool over the same GPUs (as two Dask workers
    of ``--nworkers 2`` would be): the host-wide locks give them different GPUs."""
    ctx = multiprocessing.get_context("spawn")
    q = ctx.Queue()
    procs = [ctx.Process(target=_hold_one, args=(str(tmp_path), [0, 1], 1.5, q))
             for _ in range(2)]
    for p in procs:
        p.start()
    events = [q.get(timeout=60) for _ in range(4)]
    for p in procs:
        p.join(30)
    held = [e[1] for e in events if e[1] != "released"]
    assert sorted(held) == [(0,), (1,)]


def test_a_gpu_held_elsewhere_waits_until_released(tmp_path):
    ctx = multiprocessing.get_context("spawn")
    q = ctx.Queue()
    other = ctx.Process(target=_hold_one, args=(str(tmp_path), [0], 1.0, q))
    other.start()
    _, held, t_other = q.get(timeout=60)
    pool = GpuPool([0], per_run=1, lock_dir=tmp_path)
    with pytest.raises(TimeoutError):
        with pool.acquire(timeout=0.1):
            pass
    with pool.acquire(timeout=30) as mine:
        t_mine = time.monotonic()
    _, released, t_released = q.get(timeout=30)
    other.join(30)
    assert held == mine == (0,) and released == "released"
    assert t_mine - t_other >= 0.9  # waited for the other process to let go
    assert list(Path(tmp_path).glob("*.lock"))


def test_sandbox_check_reports_cgroup_version_and_nodes(host, monkeypatch, capsys):
    import argparse

    from grader.cli.commands import sandbox as cmd

    monkeypatch.setattr(gpus, "HOST", host)
    (host.dev_root / "nvidia-uvm").unlink()
    report = cmd._host_report()
    assert report["cgroup"]["version"] in ("v1", "v2", "hybrid (limits through v1)", "none")
    assert [(g["index"], g["node"]) for g in report["gpus"]][:2] == [
        (0, "/dev/nvidia2"), (1, "/dev/nvidia3")]
    assert report["gpu_problems"] == [f"{host.dev_root}/nvidia-uvm is missing"]
    cmd._check(argparse.Namespace(json=False))
    out = capsys.readouterr().out
    assert out.startswith("cgroup: ") and "gpu 1: GPU-bbbbbbbb" in out and "nvidia-uvm" in out
