"""The bubblewrap seccomp filter and fresh keyring on real bubblewrap (issue 16, item 5).

Every bubblewrap run is uid 65534: without the filter a key added by one run is read by the
next student's run. The refused calls must get ``EPERM`` inside a run, and PyTorch, NumPy,
multiprocessing and DataLoader workers must keep working under the filter.
"""

from __future__ import annotations

import json
import secrets

from sandbox.seccomp import SYSCALLS, host_machine, refused_syscalls
from tests.conftest import fast_limits

PRELUDE = r"""
import ctypes, errno, json, os
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
NR = json.loads({table!r})

def call(name, *args):
    ctypes.set_errno(0)
    r = libc.syscall(ctypes.c_long(NR[name]), *[ctypes.c_long(a) if isinstance(a, int) else a
                                                 for a in args])
    return "ok" if r >= 0 else errno.errorcode.get(ctypes.get_errno(), "?")
"""


def _prelude() -> str:
    return PRELUDE.format(table=json.dumps(SYSCALLS[host_machine()]))


def test_a_key_added_by_one_run_is_not_read_by_the_next(bwrap_sandbox):
    desc, secret = "gbx-" + secrets.token_hex(6), "SECRET" + secrets.token_hex(8)
    # @u (user), @us (user session), @s (session): all of them reach the next uid-65534 run
    add = _prelude() + f"""
for ring in (-4, -5, -3):
    print("add", ring, call("add_key", b"user", {desc!r}.encode(), {secret!r}.encode(),
                             {len(secret)}, ring))
"""
    read = _prelude() + f"""
for ring in (-4, -5, -3):
    print("search", ring, call("keyctl", 10, ring, b"user", {desc!r}.encode(), 0))
keys = open("/proc/keys").read()
print("listed", {desc!r} in keys)
"""
    v1, _, _ = bwrap_sandbox.run(add)
    v2, _, _ = bwrap_sandbox.run(read, name="next-student")
    assert v1.status == "ok" and v2.status == "ok", (v1.stderr, v2.stderr)
    assert v1.stdout.split("\n")[:3] == [f"add {r} EPERM" for r in (-4, -5, -3)], v1.stdout
    assert v2.stdout.split("\n")[:3] == [f"search {r} EPERM" for r in (-4, -5, -3)], v2.stdout
    assert "listed False" in v2.stdout and secret not in v2.stdout


def test_escape_calls_are_refused_with_eperm(bwrap_sandbox):
    src = _prelude() + r"""
res = {}
res["ptrace"] = call("ptrace", 0, 0, 0, 0)                      # PTRACE_TRACEME
res["unshare"] = call("unshare", 0x10000000 | 0x20000)          # CLONE_NEWUSER | CLONE_NEWNS
res["mount"] = call("mount", b"none", b"/tmp", b"tmpfs", 0, None)
attr = (ctypes.c_uint32 * 4)(2, 4, 4, 1)                        # an array map, 1 entry
res["bpf"] = call("bpf", 0, attr, ctypes.sizeof(attr))          # BPF_MAP_CREATE
pid = libc.syscall(ctypes.c_long(NR["clone"]), ctypes.c_long(0x10000000 | 17), 0, 0, 0, 0)
if pid == 0:
    os._exit(0)
res["clone_newuser"] = "ok" if pid > 0 else errno.errorcode[ctypes.get_errno()]
if pid > 0:
    os.waitpid(pid, 0)
res["clone3"] = call("clone3", None, 0)
# every refused call, with zero (harmless) arguments
for name in json.loads(os.environ["REFUSED"]):
    res["zero:" + name] = call(name, 0, 0, 0, 0, 0, 0)
if os.uname().machine == "x86_64":
    ctypes.set_errno(0)
    r = libc.syscall(ctypes.c_long(0x40000000 | 39))            # getpid through the x32 ABI
    res["x32"] = "ok" if r >= 0 else errno.errorcode[ctypes.get_errno()]
print(json.dumps(res))
"""
    names = [n for n in refused_syscalls() if n in SYSCALLS[host_machine()]]
    v, _, _ = bwrap_sandbox.run(src, env={"REFUSED": json.dumps(names)})
    assert v.status == "ok", v.stderr
    res = json.loads(v.stdout)
    assert res.pop("clone3") == "ENOSYS"  # so that glibc falls back to clone
    assert res == dict.fromkeys(res, "EPERM"), {k: r for k, r in res.items() if r != "EPERM"}
    assert len(res) >= len(names) + 5


ML_WORKLOAD = r"""
import multiprocessing as mp, os, subprocess, sys, threading
import numpy as np
import torch
from torch.utils.data import DataLoader, TensorDataset

def square(x):
    return x * x

if __name__ == "__main__":
    torch.manual_seed(0)
    X, y = torch.randn(256, 8), torch.randint(0, 2, (256,))
    model = torch.nn.Sequential(torch.nn.Linear(8, 16), torch.nn.ReLU(), torch.nn.Linear(16, 2))
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    loader = DataLoader(TensorDataset(X, y), batch_size=32, num_workers=2, pin_memory=True,
                        persistent_workers=False)
    seen = 0
    for epoch in range(2):
        for xb, yb in loader:
            opt.zero_grad()
            loss = torch.nn.functional.cross_entropy(model(xb), yb)
            loss.backward()
            opt.step()
            seen += len(xb)
    print("dataloader", seen, bool(torch.isfinite(loss)))
    with mp.Pool(2) as pool:
        print("pool", sum(pool.map(square, range(100))))
    with mp.get_context("spawn").Pool(2) as pool:
        print("spawn", sum(pool.map(square, range(10))))
    t = threading.Thread(target=lambda: print("thread", np.linalg.norm(np.ones(4))))
    t.start(); t.join()
    out = subprocess.run([sys.executable, "-c", "print(6 * 7)"], capture_output=True, text=True)
    print("subprocess", out.stdout.strip())
    torch.set_num_threads(2)
    a = torch.randn(512, 512)
    print("matmul", tuple((a @ a).shape))
"""


def test_pytorch_dataloader_workers_and_multiprocessing_work_under_the_filter(bwrap_sandbox):
    lim = fast_limits(time_s=240, memory_mb=4096, processes=256, cpus=2.0)
    v, _, _ = bwrap_sandbox.run(ML_WORKLOAD, limits=lim)
    assert v.status == "ok", v.stderr[-3000:]
    lines = v.stdout.splitlines()
    assert "dataloader 512 True" in lines
    assert "pool 328350" in lines and "spawn 285" in lines
    assert "thread 2.0" in lines and "subprocess 42" in lines and "matmul (512, 512)" in lines


def test_the_filter_is_installed_in_every_run(bwrap_sandbox):
    v, _, _ = bwrap_sandbox.run("print(open('/proc/self/status').read())")
    assert v.status == "ok"
    fields = dict(ln.split(":\t", 1) for ln in v.stdout.splitlines() if ":\t" in ln)
    assert fields["Seccomp"].strip() == "2" and int(fields["Seccomp_filters"]) >= 1
    assert fields["NoNewPrivs"].strip() == "1"
