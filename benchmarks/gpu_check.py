"""GPU acceptance check for a GPU machine: every check is PASS, FAIL or SKIP with a reason.

Run as root from the repository root: ``.venv/bin/python benchmarks/gpu_check.py``
(options: ``--backends bwrap,docker``, ``--python PATH`` an interpreter with CUDA PyTorch for
bubblewrap, ``--image TAG`` for Docker, default the course image when built, ``--budget-s``).
It finishes within ``--budget-s`` (420 s; checks left when time runs out are SKIPs) and never
crashes on odd output. Checked, on each backend:

- torch sees exactly its own GPU (UUID compared with nvidia-smi), in two parallel slots;
- other GPUs' device files cannot be opened; a ``gpus = 0`` run sees no GPU;
- GPU memory is freed after a run is killed mid-way;
- a DataLoader with 2 workers and pinned memory runs (``/dev/shm``);
- the default limits hold (CUDA starts under them; a memory hog gets ``memory``);
- and the cgroup version is reported.

Exit status 1 if any check FAILed.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
import traceback
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

COURSE_IMAGE = "gradebox/course:1"

PROBE = r"""
import json, os, sys
info = {"cvd": os.environ.get("CUDA_VISIBLE_DEVICES"),
        "nvd": os.environ.get("NVIDIA_VISIBLE_DEVICES"),
        "nodes": sorted(n for n in os.listdir("/dev") if n.startswith("nvidia"))}
others = json.loads(os.environ.get("GB_OTHER_NODES", "[]"))
info["others_opened"] = []
for n in others:
    try:
        os.close(os.open(n, os.O_RDWR))
        info["others_opened"].append(n)
    except OSError:
        pass
try:
    import torch
except ImportError as e:
    print(json.dumps({**info, "torch": str(e)})); sys.exit(0)
info["count"] = torch.cuda.device_count()
mode = os.environ.get("GB_MODE", "train")
if info["count"] and mode == "train":
    import torch.nn as nn
    info["uuid"] = "GPU-" + str(torch.cuda.get_device_properties(0).uuid)
    torch.manual_seed(0)
    dev = torch.device("cuda:0")
    x = torch.randn(1024, 1, 28, 28, device=dev)
    y = (x.mean(dim=(1, 2, 3)) > 0).long()
    net = nn.Sequential(nn.Conv2d(1, 16, 3), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                        nn.Linear(16, 2)).to(dev)
    opt = torch.optim.Adam(net.parameters(), 1e-2)
    losses = []
    for _ in range(40):
        opt.zero_grad()
        loss = nn.functional.cross_entropy(net(x), y)
        loss.backward(); opt.step(); losses.append(loss.item())
    info.update(first_loss=losses[0], last_loss=losses[-1])
elif info["count"] and mode == "hold":
    x = torch.empty(2 * 1024**3, dtype=torch.uint8, device="cuda")  # 2 GiB, then wait
    print("holding", flush=True)
    import time; time.sleep(3600)
elif info["count"] and mode == "loader":
    from torch.utils.data import DataLoader, TensorDataset
    ds = TensorDataset(torch.randn(4096, 64), torch.randint(0, 2, (4096,)))
    total = 0
    for xb, yb in DataLoader(ds, batch_size=256, num_workers=2, pin_memory=True):
        total += int(xb.cuda(non_blocking=True).shape[0])
    info["loaded"] = total
elif mode == "hog":
    blocks = []
    while True:
        blocks.append(bytearray(256 * 1024**2))
print(json.dumps(info))
"""


class Report:
    """Collects PASS/FAIL/SKIP lines; nothing it is given can make it raise."""

    def __init__(self, budget_s: float):
        self.rows: list[tuple[str, str, str]] = []
        self.deadline = time.monotonic() + budget_s

    def add(self, status: str, name: str, detail: str = "") -> None:
        self.rows.append((status, name, detail))
        print(f"{status:<5} {name:<48} {detail}", flush=True)

    def left(self) -> float:
        return self.deadline - time.monotonic()

    def check(self, name: str, fn, *args, need_s: float = 30.0) -> None:
        """Run ``fn(*args) -> (status, detail)``; an exception is a FAIL, no time a SKIP."""
        if self.left() < need_s:
            self.add("SKIP", name, f"out of time ({self.left():.0f} s left, needs ~{need_s:.0f})")
            return
        try:
            status, detail = fn(*args)
        except Exception as exc:  # noqa: BLE001 - a check that breaks is a FAIL, not a crash
            status, detail = "FAIL", f"{type(exc).__name__}: {exc} | " + \
                traceback.format_exc(limit=2).replace("\n", " ")[-300:]
        self.add(status, name, detail)


def last_json(text: str) -> dict:
    """The last line of ``text`` that parses as a JSON object, else ``{}``."""
    for line in reversed((text or "").strip().splitlines()):
        try:
            obj = json.loads(line)
        except ValueError:
            continue
        if isinstance(obj, dict):
            return obj
    return {}


def gpu_memory_used_mib(index: int) -> int | None:
    try:
        out = subprocess.run(["nvidia-smi", "-i", str(index), "--query-gpu=memory.used",
                              "--format=csv,noheader,nounits"], capture_output=True, text=True,
                             timeout=30).stdout
        return int(out.strip().splitlines()[0])
    except (OSError, subprocess.SubprocessError, ValueError, IndexError):
        return None


class Runner:
    """Runs PROBE in one backend with the given GPUs, mode and limits."""

    def __init__(self, backend: str, python: str, image: str):
        self.backend, self.python, self.image = backend, python, image

    def run(self, devices: tuple, mode: str, limits, env: dict | None = None):
        from sandbox import RunSpec, run

        with tempfile.TemporaryDirectory() as tmp:
            d = Path(tmp)
            for sub in ("code", "data", "out"):
                (d / sub).mkdir()
            (d / "code" / "main.py").write_text(PROBE)
            spec = RunSpec(d / "code", "main.py", d / "data", d / "out", limits=limits,
                           gpu_devices=tuple(devices), env={"GB_MODE": mode, **(env or {})},
                           python=self.python, name=f"gpu-check-{mode}", image=self.image)
            v = run(spec, backend=self.backend)
        return v, last_json(v.stdout)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--backends", default="bwrap,docker")
    ap.add_argument("--python", default=sys.executable)
    ap.add_argument("--image", default=None, help=f"Docker image [{COURSE_IMAGE} when built]")
    ap.add_argument("--budget-s", type=float, default=420.0)
    args = ap.parse_args(argv)
    rep = Report(args.budget_s)
    t0 = time.monotonic()
    try:
        from sandbox import Limits, _cgroup, available_backends, gpus
    except Exception as exc:  # noqa: BLE001
        rep.add("FAIL", "import gradebox", str(exc))
        return 1
    cg = _cgroup.describe()
    rep.add("PASS", "cgroup version reported", f"{cg['version']}: {cg['limits']}")
    devices = list(gpus.inventory())
    if not devices:
        rep.add("SKIP", "all GPU checks", "no NVIDIA GPU found (nvidia-smi / driver files)")
        return summary(rep, t0)
    rep.add("PASS", "GPUs found", "; ".join(f"{d.index}={d.uuid} node nvidia{d.minor}"
                                           for d in devices))
    report = available_backends()
    # default limits, with a shorter clock so that a hang costs little
    default = replace(Limits(), time_s=120.0)
    for backend in args.backends.split(","):
        info = report.get(backend)
        if not info or not info["works"]:
            rep.add("SKIP", f"{backend}: every check", (info or {}).get("reason", "unknown"))
            continue
        image = ""
        if backend == "docker":
            image = args.image or (COURSE_IMAGE if _image_exists(COURSE_IMAGE) else "")
            rep.add("PASS" if image else "SKIP", "docker: course image",
                    image or f"{COURSE_IMAGE} not built ('grader sandbox build'); host-runtime "
                             "image used, which needs the host's CUDA torch")
        r = Runner(backend, args.python, image)
        check_backend(rep, r, backend, devices, default)
    return summary(rep, t0)


def _image_exists(tag: str) -> bool:
    try:
        from sandbox.backends.docker import client

        client().images.get(tag)
        return True
    except Exception:  # noqa: BLE001
        return False


def check_backend(rep: Report, r: Runner, b: str, devices: list, default) -> None:
    slots = [(d.index,) for d in devices[:2]]
    minors = {d.index: d.minor for d in devices}
    opened: dict[tuple, list | None] = {}  # slot -> other GPUs' nodes it could open

    def own_gpu():
        def one(slot):
            others = [f"/dev/nvidia{m}" for i, m in minors.items()
                      if i not in slot and m is not None]
            return slot, *r.run(slot, "train", replace(default, gpus=1),
                                {"GB_OTHER_NODES": json.dumps(others)})
        with ThreadPoolExecutor(len(slots)) as ex:
            results = list(ex.map(one, slots))
        bad = []
        for slot, v, info in results:
            opened[slot] = info.get("others_opened") if v.status == "ok" else None
            want = next(d.uuid for d in devices if d.index == slot[0])
            ok = (v.status == "ok" and info.get("count") == 1
                  and str(info.get("uuid", "")).lower() == want.lower()
                  and info.get("last_loss", 9) < info.get("first_loss", 0)
                  and not info.get("others_opened"))
            if not ok:
                bad.append(f"slot {slot}: {v.status} {info} {v.message} {v.error_tail[-300:]}")
        detail = f"{len(slots)} parallel slot(s)" + ("" if len(slots) > 1 else
                                                     " (one GPU: no second slot)")
        return ("FAIL", "; ".join(bad)) if bad else ("PASS", detail)

    def no_gpu():
        v, info = r.run((), "train", default)
        ok = v.status == "ok" and info.get("count") == 0 and not info.get("nodes")
        if b == "docker":
            ok = ok and info.get("nvd") == "void"
        return ("PASS" if ok else "FAIL"), f"{v.status} {info} {v.error_tail[-200:]}"

    def others_closed():
        if len(devices) < 2:
            return "SKIP", "one GPU: no other GPU to hide"
        if not opened or any(v is None for v in opened.values()):
            return "SKIP", f"the slot runs did not finish: {opened}"
        bad = {s: v for s, v in opened.items() if v}
        return ("FAIL", f"opened: {bad}") if bad else ("PASS", f"{len(opened)} slot(s) "
                                                         "could open no other GPU's node")

    def memory_freed():
        idx = devices[-1].index
        before = gpu_memory_used_mib(idx)
        if before is None:
            return "SKIP", "nvidia-smi gives no memory.used"
        v, info = r.run((idx,), "hold", replace(default, gpus=1, time_s=25.0))
        end = time.monotonic() + 20
        after = gpu_memory_used_mib(idx)
        while after is not None and after > before + 64 and time.monotonic() < end:
            time.sleep(1)
            after = gpu_memory_used_mib(idx)
        held = "holding" in v.stdout
        ok = v.status == "timeout" and held and after is not None and after <= before + 64
        return ("PASS" if ok else "FAIL"), (f"killed at {v.wall_s:.0f} s ({v.status}, "
                                             f"held 2 GiB: {held}); used {before} -> {after} MiB")

    def loader():
        v, info = r.run((devices[0].index,), "loader", replace(default, gpus=1))
        ok = v.status == "ok" and info.get("loaded") == 4096
        return ("PASS" if ok else "FAIL"), f"{v.status} {info} {v.error_tail[-300:]}"

    def limits_hold():
        v, _ = r.run((), "hog", replace(default, memory_mb=1024, time_s=60.0))
        ok = v.status == "memory"
        return ("PASS" if ok else "FAIL"), (f"1 GiB hog -> {v.status} (peak "
                                             f"{v.peak_memory_mb} MiB); CUDA started under "
                                             f"the default {default.memory_mb} MiB limit "
                                             "in the slot checks")

    rep.check(f"{b}: torch sees exactly its own GPU", own_gpu, need_s=90)
    rep.check(f"{b}: other GPUs' device files closed", others_closed, need_s=0)
    rep.check(f"{b}: gpus = 0 sees no GPU", no_gpu, need_s=45)
    rep.check(f"{b}: GPU memory freed after a kill", memory_freed, need_s=60)
    rep.check(f"{b}: DataLoader, 2 workers, pinned memory", loader, need_s=45)
    rep.check(f"{b}: default limits hold", limits_hold, need_s=60)


def summary(rep: Report, t0: float) -> int:
    counts = {s: sum(1 for r in rep.rows if r[0] == s) for s in ("PASS", "FAIL", "SKIP")}
    print(f"{counts['PASS']} PASS, {counts['FAIL']} FAIL, {counts['SKIP']} SKIP "
          f"in {time.monotonic() - t0:.0f} s")
    return 1 if counts["FAIL"] else 0


if __name__ == "__main__":
    sys.exit(main())
