"""GPU pass-through and per-run cgroups in real sandboxes.

Without a GPU: ``mknod`` device nodes in a temporary ``/dev`` and a fake driver tree
(tests/unit/gpu_fakes.py) are bound into a real bubblewrap sandbox; cgroup v2 is exercised on
a real cgroup2 mount (this machine's kernel offers no controllers on it, being hybrid: what
needs controllers is tested against a fake cgroupfs in tests/unit/test_sandbox_cgroups.py).
With a GPU (``pytest -m gpu``): torch inside each backend sees exactly its own GPU.
"""

from __future__ import annotations

import json
import os
import subprocess
import threading
import time

import pytest

from sandbox import gpus
from sandbox.gpus import GpuUnavailable, detect_gpus
from tests.conftest import fast_limits
from tests.unit.gpu_fakes import make_driver_tree

NODES_PROBE = r"""
import json, os
nodes = {}
for n in sorted(os.listdir("/dev")):
    if n.startswith("nvidia"):
        st = os.stat("/dev/" + n)
        nodes[n] = [os.major(st.st_rdev), os.minor(st.st_rdev)]
opened = {}
for m in range(4):
    try:
        os.close(os.open(f"/dev/nvidia{m}", os.O_RDWR))
        opened[m] = "opened"
    except OSError as e:
        opened[m] = e.strerror
print(json.dumps({"cvd": os.environ.get("CUDA_VISIBLE_DEVICES"), "nodes": nodes,
                  "opened": opened, "nvd": os.environ.get("NVIDIA_VISIBLE_DEVICES")}))
"""


@pytest.fixture
def fake_host(tmp_path, monkeypatch):
    if os.geteuid() != 0:
        pytest.skip("mknod needs root")
    host = make_driver_tree(tmp_path / "driver")
    monkeypatch.setattr(gpus, "HOST", host)
    return host


def test_bwrap_run_sees_only_its_own_gpu_node_by_minor(bwrap_sandbox, fake_host):
    # nvidia-smi's GPU 1 is the driver's minor 3 (index != minor)
    v, _, _ = bwrap_sandbox.run(NODES_PROBE, gpu_devices=(1,), limits=fast_limits(gpus=1))
    assert v.status == "ok", v.stderr
    info = json.loads(v.stdout)
    assert info["cvd"] == "0"  # CUDA numbers what the run can open from 0
    assert info["nodes"]["nvidia3"] == [195, 3]
    assert set(info["nodes"]) == {"nvidia3", "nvidiactl", "nvidia-uvm", "nvidia-uvm-tools"}
    # other GPUs' nodes do not exist in the sandbox (nvidia3 exists but has no driver here)
    assert all(info["opened"][str(m)] == "No such file or directory" for m in (0, 1, 2))
    assert info["opened"]["3"] != "No such file or directory"


def test_bwrap_run_without_gpus_sees_no_node(bwrap_sandbox, fake_host):
    v, _, _ = bwrap_sandbox.run(NODES_PROBE)
    info = json.loads(v.stdout)
    assert v.status == "ok" and info["cvd"] == "" and info["nodes"] == {}


def test_missing_nodes_are_the_graders_error_not_the_students(bwrap_sandbox, fake_host, tmp_path):
    from grader.executors.task import RunTask, execute_run

    (fake_host.dev_root / "nvidia-uvm").unlink()
    with pytest.raises(GpuUnavailable) as e:
        bwrap_sandbox.run(NODES_PROBE, gpu_devices=(0,), limits=fast_limits(gpus=1))
    assert "nvidia-uvm is missing" in e.value.render()
    data = tmp_path / "data"
    data.mkdir()
    task = RunTask("ana", "k", {"main.py": b"print(1)"}, "main.py", str(data),
                   fast_limits(gpus=1), "bwrap")
    result = execute_run(task, gpu_devices=(0,))
    assert result.verdict["status"] == "sandbox_broken"  # not stored as the student's error
    assert "nvidia-uvm" in result.verdict["message"]


# ----------------------------------------------------------------------------- cgroup v2


@pytest.fixture
def cgroup2(tmp_path):
    """A real cgroup2 mount (the kernel's single unified hierarchy) at a temp path."""
    if os.geteuid() != 0:
        pytest.skip("mounting cgroup2 needs root")
    mnt = tmp_path / "cg2"
    mnt.mkdir()
    p = subprocess.run(["mount", "-t", "cgroup2", "none", str(mnt)], capture_output=True,
                       text=True)
    if p.returncode != 0:
        pytest.skip(f"the kernel does not allow a cgroup2 mount here: {p.stderr.strip()}")
    yield mnt
    # the mount is the host's own unified hierarchy: leave no empty gradebox folder in it
    from sandbox import _cgroup

    _cgroup._rmdir_retry(mnt / _cgroup.PARENT, tries=5)
    subprocess.run(["umount", "-l", str(mnt)], check=False)


def test_cgroup_v2_kill_takes_the_whole_run(cgroup2):
    from sandbox import _cgroup
    from sandbox._process import run_process

    parent = _cgroup.v2_parent(cgroup2, name=f"gradebox-test-{os.getpid()}")
    try:
        assert parent.path is not None
        cg = _cgroup.RunCgroupV2.create(fast_limits(), parent)
        assert (cg.path / "cgroup.kill").exists()
        seen: list[set[int]] = []
        t = threading.Thread(target=lambda: (time.sleep(0.8), seen.append(cg.pids())))
        t.start()
        # a daemon in its own session, which killing the process group would miss
        res = run_process(["/bin/sh", "-c", "setsid sleep 300 & sleep 300"], env={}, cwd=None,
                          limits=fast_limits(time_s=1.5), cgroup=cg, name="t")
        t.join()
        assert res.timed_out and len(seen[0]) >= 2  # the shell and its daemon, both counted
        assert cg.pids() == set()
        assert "populated 0" in (cg.path / "cgroup.events").read_text()
        cg.destroy()
        assert not cg.path.exists()
    finally:
        _cgroup._rmtree_cgroup(parent.path)


def test_cgroup_v2_detected_and_used_by_bwrap(bwrap_sandbox, cgroup2, monkeypatch):
    from sandbox import _cgroup

    monkeypatch.setattr(_cgroup, "ROOT", cgroup2)
    assert _cgroup.detect().version == "v2"
    runs = cgroup2 / _cgroup.PARENT
    seen: list[int] = []

    def watch():
        end = time.monotonic() + 10
        while time.monotonic() < end and not seen:
            for f in runs.glob(f"{os.getpid()}-*/cgroup.procs"):
                seen.extend(int(x) for x in f.read_text().split())
            time.sleep(0.05)

    t = threading.Thread(target=watch)
    t.start()
    v, _, _ = bwrap_sandbox.run("import time; time.sleep(2); print('done')")
    t.join()
    assert v.status == "ok" and v.stdout.strip() == "done"
    assert seen  # the run lived in its own v2 cgroup
    assert not list(runs.glob(f"{os.getpid()}-*"))  # and it was removed afterwards
    # this kernel binds memory to v1 (hybrid): a GPU run under this v2 tree is refused
    host_gpu = make_driver_tree(cgroup2.parent / "drv")
    monkeypatch.setattr(gpus, "HOST", host_gpu)
    if "memory" not in _cgroup.v2_parent(cgroup2).controllers:
        from sandbox.errors import SandboxBroken

        with pytest.raises(SandboxBroken, match="no memory cgroup"):
            bwrap_sandbox.run("print(1)", gpu_devices=(0,), limits=fast_limits(gpus=1))


# ----------------------------------------------------------------------------- real GPUs

GPU_PROBE = r"""
import json, os
import torch
info = {"cvd": os.environ.get("CUDA_VISIBLE_DEVICES"), "count": torch.cuda.device_count()}
if info["count"]:
    info["uuid"] = "GPU-" + str(torch.cuda.get_device_properties(0).uuid)
    x = torch.ones(1024, device="cuda")
    info["sum"] = float(x.sum())
print(json.dumps(info))
"""


@pytest.fixture(scope="module")
def real_gpus():
    found = detect_gpus()
    if not found:
        pytest.skip("no NVIDIA GPU on this machine (benchmarks/gpu_check.py is the full check)")
    try:
        import torch  # noqa: F401
    except ImportError:
        pytest.skip("torch is not installed in the submissions' interpreter")
    return gpus.inventory()


@pytest.mark.gpu
def test_torch_sees_exactly_its_own_gpu(sandbox_backend, real_gpus):
    last = real_gpus[-1]
    v, _, _ = sandbox_backend.run(GPU_PROBE, gpu_devices=(last.index,),
                                  limits=fast_limits(gpus=1, memory_mb=8192, time_s=120))
    assert v.status == "ok", v.stderr
    info = json.loads(v.stdout.strip().splitlines()[-1])
    assert info["cvd"] == "0" and info["count"] == 1 and info["sum"] == 1024.0
    assert info["uuid"].lower() == last.uuid.lower()


@pytest.mark.gpu
def test_no_gpu_requested_means_none_visible(sandbox_backend, real_gpus):
    v, _, _ = sandbox_backend.run(GPU_PROBE, limits=fast_limits(memory_mb=4096, time_s=120))
    assert v.status == "ok", v.stderr
    info = json.loads(v.stdout.strip().splitlines()[-1])
    assert info["cvd"] == "" and info["count"] == 0
