"""A fake NVIDIA driver tree for tests on machines without a GPU.

It is shaped like the real thing: ``/proc/driver/nvidia/gpus/<bus id>/information`` files, an
``nvidia-smi`` program (a shell script printing what the real one prints for
``--query-gpu=...`` and ``-L``) and, as root, character device nodes made with ``mknod``
(major 195, as the driver's) in a temporary ``/dev``.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path

from sandbox.gpus import NVIDIA_MAJOR, GpuHost


@dataclass(frozen=True)
class FakeGpu:
    index: int
    uuid: str
    bus: str  # as nvidia-smi prints it: 00000000:07:00.0
    minor: int
    migs: tuple[str, ...] = ()


# index != minor, as on A100-SXM boards: nvidia-smi's GPU 0 is /dev/nvidia2, and so on
A100_LIKE = (
    FakeGpu(0, "GPU-aaaaaaaa-0000-0000-0000-000000000000", "00000000:07:00.0", 2),
    FakeGpu(1, "GPU-bbbbbbbb-1111-1111-1111-111111111111", "00000000:0F:00.0", 3),
    FakeGpu(2, "GPU-cccccccc-2222-2222-2222-222222222222", "00000000:47:00.0", 0,
            ("MIG-dddddddd-3333-3333-3333-333333333333",)),
    FakeGpu(3, "GPU-eeeeeeee-4444-4444-4444-444444444444", "00000000:4E:00.0", 1),
)


def _proc_bus(bus: str) -> str:
    dom, rest = bus.split(":", 1)
    return f"{int(dom, 16):04x}:{rest.lower()}"


def make_driver_tree(root: Path, gpus=A100_LIKE, *, smi: bool = True, nodes: bool = True,
                     shared=("nvidiactl", "nvidia-uvm", "nvidia-uvm-tools"),
                     smi_noise: str = "") -> GpuHost:
    """Write the fake driver tree under ``root``; returns the ``GpuHost`` that reads it."""
    root.mkdir(parents=True, exist_ok=True)
    proc = root / "proc"
    for g in gpus:
        d = proc / "gpus" / _proc_bus(g.bus)
        d.mkdir(parents=True)
        d.joinpath("information").write_text(
            f"Model: \t\t NVIDIA A100-SXM4-40GB\nIRQ:   \t\t 123\nGPU UUID: \t {g.uuid}\n"
            f"Video BIOS: \t 92.00.36.00.01\nBus Type: \t PCIe\nDMA Size: \t 47 bits\n"
            f"Bus Location: \t {_proc_bus(g.bus)}\nDevice Minor: \t {g.minor}\n"
            "GPU Excluded:\t No\n")
    smi_path = None
    if smi:
        query = "".join(f"{g.index}, {g.uuid}, {g.bus}, NVIDIA A100-SXM4-40GB\n" for g in gpus)
        listing = ""
        for g in gpus:
            listing += f"GPU {g.index}: NVIDIA A100-SXM4-40GB (UUID: {g.uuid})\n"
            for i, m in enumerate(g.migs):
                listing += f"  MIG 1g.5gb     Device  {i}: (UUID: {m})\n"
        (root / "query.txt").write_text(smi_noise + query)
        (root / "list.txt").write_text(listing)
        smi_path = root / "nvidia-smi"
        smi_path.write_text(f'#!/bin/sh\ncase "$1" in\n  -L) cat "{root}/list.txt" ;;\n'
                            f'  *) cat "{root}/query.txt" ;;\nesac\n')
        smi_path.chmod(0o755)
    dev = root / "dev"
    dev.mkdir()
    if nodes:
        minors = {f"nvidia{g.minor}": g.minor for g in gpus}
        minors.update({"nvidiactl": 255, "nvidia-uvm": None, "nvidia-uvm-tools": None})
        for name, minor in minors.items():
            if name.startswith("nvidia-uvm") and name not in shared:
                continue
            if name == "nvidiactl" and name not in shared:
                continue
            # nvidia-uvm has a dynamic major; any char device will do for the checks
            major, mn = (NVIDIA_MAJOR, minor) if minor is not None else (
                (510, 0) if name == "nvidia-uvm" else (510, 1))
            os.mknod(dev / name, 0o666 | stat.S_IFCHR, os.makedev(major, mn))
    return GpuHost(dev_root=dev, proc_root=proc, smi=str(smi_path) if smi_path else None)
