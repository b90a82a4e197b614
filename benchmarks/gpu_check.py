"""GPU isolation check for a lent GPU machine: each parallel slot sees exactly its own GPU,
and a small CNN trains on it inside the sandbox.

Run with no arguments (as root, on the GPU machine, from the repository root):
``.venv/bin/python benchmarks/gpu_check.py`` — options: ``--backends bwrap,docker``,
``--python PATH`` (an interpreter with CUDA PyTorch), ``--steps N``.
Prints one line per (backend, slot) and PASS/FAIL; exits 1 if any slot failed.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

PROBE = r"""
import json, os, time, torch, torch.nn as nn
info = {"cvd": os.environ.get("CUDA_VISIBLE_DEVICES"), "count": torch.cuda.device_count()}
if info["count"]:
    p = torch.cuda.get_device_properties(0)
    info["name"] = p.name
    info["uuid"] = "GPU-" + str(p.uuid) if hasattr(p, "uuid") else None
    torch.manual_seed(0)
    dev = torch.device("cuda:0")
    x = torch.randn(2048, 1, 28, 28, device=dev)
    y = (x.mean(dim=(1, 2, 3)) > 0).long()
    net = nn.Sequential(nn.Conv2d(1, 16, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(16, 32, 3),
                        nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(32, 2)).to(dev)
    opt = torch.optim.Adam(net.parameters(), 1e-2)
    t = time.time()
    losses = []
    for step in range(STEPS):
        opt.zero_grad()
        loss = nn.functional.cross_entropy(net(x), y)
        loss.backward()
        opt.step()
        losses.append(round(loss.item(), 4))
    torch.cuda.synchronize()
    info.update(first_loss=losses[0], last_loss=losses[-1], train_s=round(time.time() - t, 2),
                acc=round((net(x).argmax(1) == y).float().mean().item(), 3))
print(json.dumps(info))
"""


def host_uuids() -> dict[int, str]:
    try:
        out = subprocess.run(["nvidia-smi", "--query-gpu=index,uuid", "--format=csv,noheader"],
                             capture_output=True, text=True, timeout=30).stdout
    except OSError:
        return {}
    return {int(i): u.strip() for i, u in (ln.split(",") for ln in out.splitlines() if "," in ln)}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--backends", default="bwrap,docker")
    ap.add_argument("--python", default=sys.executable)
    ap.add_argument("--steps", type=int, default=60)
    args = ap.parse_args(argv)
    from sandbox import GpuPool, Limits, RunSpec, available_backends, detect_gpus, run

    gpus = detect_gpus()
    uuids = host_uuids()
    print(f"host GPUs: {gpus} {uuids}")
    if not gpus:
        print("no GPU on this machine: nothing to check")
        return 1
    report = available_backends()
    failed = 0
    for backend in args.backends.split(","):
        if not report[backend]["works"]:
            print(f"{backend}: unavailable ({report[backend]['reason']})")
            failed += 1
            continue
        pool = GpuPool(gpus, per_run=1)
        slots = max(1, pool.slots)

        def one(slot: int, backend=backend, pool=pool) -> tuple[int, tuple, object]:
            with pool.acquire() as devs, tempfile.TemporaryDirectory() as tmp:
                d = Path(tmp)
                for sub in ("code", "data", "out"):
                    (d / sub).mkdir()
                (d / "code" / "main.py").write_text(PROBE.replace("STEPS", str(args.steps)))
                spec = RunSpec(d / "code", "main.py", d / "data", d / "out", gpu_devices=devs,
                               python=args.python, name=f"gpu-slot-{slot}",
                               limits=Limits(time_s=300, memory_mb=16384, cpus=2, gpus=1))
                return slot, devs, run(spec, backend=backend)

        t = time.time()
        with ThreadPoolExecutor(slots) as ex:
            results = list(ex.map(one, range(slots * 2)))  # two rounds: devices are reused
        for slot, devs, v in results:
            ok = v.status == "ok"
            info = json.loads(v.stdout.strip().splitlines()[-1]) if ok and v.stdout.strip() else {}
            want = uuids.get(devs[0])
            ok = ok and info.get("count") == 1 and info.get("last_loss", 9) < info.get("first_loss", 0)
            if want and info.get("uuid"):
                ok = ok and info["uuid"] == want
            failed += not ok
            print(f"{backend:<6} slot {slot} host GPU {devs} -> {'PASS' if ok else 'FAIL'} {info} "
                  f"{'' if v.status == 'ok' else v.message + ' ' + v.error_tail[-400:]}")
        print(f"{backend}: {len(results)} runs on {slots} slot(s) in {time.time() - t:.1f} s")
    print("ALL PASS" if not failed else f"{failed} FAILED")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
