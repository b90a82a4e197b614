"""GPU pass-through (runs only on a machine with an NVIDIA GPU; skipped elsewhere)."""

from __future__ import annotations

import json

import pytest

from sandbox.gpus import detect_gpus

pytestmark = pytest.mark.gpu

PROBE = r"""
import json, os, subprocess
nodes = sorted(n for n in os.listdir("/dev") if n.startswith("nvidia") and n[6:].isdigit())
smi = subprocess.run(["nvidia-smi", "-L"], capture_output=True, text=True)
print(json.dumps({"cvd": os.environ.get("CUDA_VISIBLE_DEVICES"), "nodes": nodes,
                  "smi": smi.stdout}))
"""


@pytest.fixture(scope="module")
def gpus():
    found = detect_gpus()
    if not found:
        pytest.skip("no NVIDIA GPU on this machine (benchmarks/gpu_check.py is the full check)")
    return found


def test_each_run_sees_only_its_gpu(sandbox_backend, gpus):
    last = gpus[-1]
    v, _, _ = sandbox_backend.run(PROBE, gpu_devices=(last,))
    assert v.status == "ok", v.stderr
    info = json.loads(v.stdout)
    if sandbox_backend.backend == "bwrap":
        assert info["cvd"] == str(last) and info["nodes"] == [f"nvidia{last}"]
    else:
        assert info["cvd"] == "0" and info["smi"].count("GPU ") == 1


def test_no_gpu_requested_means_none_visible(sandbox_backend, gpus):
    v, _, _ = sandbox_backend.run(PROBE)
    info = json.loads(v.stdout)
    assert info["cvd"] == "" and info["nodes"] == []
