"""The run contract and each limit, on the real bubblewrap and Docker backends."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

from tests.conftest import fast_limits

ALLOWED_ENV = {"PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "GRADER_DATA", "GRADER_OUTPUT",
               "PYTHONUNBUFFERED", "PYTHONHASHSEED", "MPLBACKEND", "OMP_NUM_THREADS", "MKL_NUM_THREADS",
               "OPENBLAS_NUM_THREADS", "NUMEXPR_NUM_THREADS", "LOKY_MAX_CPU_COUNT",
               "CUDA_VISIBLE_DEVICES",
               "CUDA_DEVICE_ORDER", "CUBLAS_WORKSPACE_CONFIG", "SEED",
               "NVIDIA_VISIBLE_DEVICES",  # Docker: "void" for gpus = 0 (no GPU mounted)
               "PWD", "HOSTNAME"}  # set by the shell/runtime inside, not by the grader

CONTRACT = r"""
import json, os, sys
out = os.environ["GRADER_OUTPUT"]
info = {
    "cwd": os.getcwd(), "uid": os.getuid(), "gid": os.getgid(), "pid": os.getpid(),
    "env": dict(os.environ), "files": sorted(os.listdir(".")),
    "data": sorted(os.listdir(os.environ["GRADER_DATA"])),
    "pids": sorted(int(p) for p in os.listdir("/proc") if p.isdigit()),
    "capeff": [l for l in open("/proc/self/status") if l.startswith("CapEff")][0].split()[1],
    "nonewprivs": [l for l in open("/proc/self/status") if l.startswith("NoNewPrivs")][0].split()[1],
    "exe": sys.executable,
}
open("scratch.txt", "w").write("cwd is writable")   # a copy: the host folder is unchanged
try:
    open(os.path.join(os.environ["GRADER_DATA"], "x"), "w")
    info["data_writable"] = True
except OSError:
    info["data_writable"] = False
import numpy
info["numpy"] = numpy.__version__
open(os.path.join(out, "submission.csv"), "w").write("id,label\n1,cat\n2,dog\n")
print(json.dumps(info))
"""


def test_run_contract(sandbox_backend):
    v, out, code = sandbox_backend.run({"main.py": CONTRACT, "helper.py": "X = 1\n"},
                                       env={"SEED": "7"}, limits=fast_limits(cpus=2))
    assert v.status == "ok", v.stderr
    info = json.loads(v.stdout)
    assert info["cwd"] == "/grader/code" and info["files"] == ["helper.py", "main.py"]
    assert info["uid"] == 65534 and info["gid"] == 65534
    assert info["capeff"] == "0000000000000000" and info["nonewprivs"] == "1"
    assert info["data"] == ["train.csv"] and info["data_writable"] is False
    env = info["env"]
    assert set(env) <= ALLOWED_ENV, set(env) - ALLOWED_ENV
    assert env["GRADER_DATA"] == "/grader/data" and env["GRADER_OUTPUT"] == "/grader/output"
    assert env["SEED"] == "7" and env["OMP_NUM_THREADS"] == "2"
    assert env["LOKY_MAX_CPU_COUNT"] == "2"  # joblib's n_jobs=-1: the run's cores
    assert env["CUDA_VISIBLE_DEVICES"] == ""
    assert env.get("NVIDIA_VISIBLE_DEVICES", "void") == "void"  # Docker sets it, bwrap needn't
    # a new PID namespace: the program sees only its own processes
    assert max(info["pids"]) < 10 and len(info["pids"]) <= 3
    assert (out / "submission.csv").read_text() == "id,label\n1,cat\n2,dog\n"
    assert not (code / "scratch.txt").exists()  # the host's submission folder is untouched
    assert v.backend == sandbox_backend.backend and v.peak_memory_mb and v.peak_memory_mb > 1


def test_str_hashes_and_set_order_are_the_same_in_every_run(sandbox_backend):
    # list(set(labels)) as the class order, or hash() as a feature hash: with Python's
    # random hash seed a seeded program gave other predictions (another grade) each run
    src = ("import os\n"
           "labels = ['cat', 'dog', 'frog', 'bird', 'fish', 'ant', 'bee', 'cow']\n"
           "print(os.environ.get('PYTHONHASHSEED'), hash('gradebox'), list(set(labels)))\n")
    seen = set()
    for _ in range(3):
        v, _, _ = sandbox_backend.run(src, limits=fast_limits())
        assert v.status == "ok", v.stderr
        seen.add(v.stdout.strip())
    assert len(seen) == 1 and seen.pop().startswith("0 "), seen


def test_the_run_counts_its_own_cpus_not_the_hosts(sandbox_backend):
    # Pool(os.cpu_count()) and torch.set_num_threads(os.cpu_count()) got the host's cores (64
    # on a server) against a quota of one or two
    src = ("import os, multiprocessing, joblib\n"
           "print(os.cpu_count(), multiprocessing.cpu_count(), joblib.cpu_count())\n")
    v, _, _ = sandbox_backend.run(src, limits=fast_limits(cpus=1))
    assert v.status == "ok", v.stderr
    assert v.stdout.split() == ["1", "1", "1"]
    if (os.cpu_count() or 1) >= 2:
        v, _, _ = sandbox_backend.run(src, limits=fast_limits(cpus=1.5))
        assert v.stdout.split() == ["2", "2", "2"], v.stderr
    # more cpus than the machine has: its cores, and the thread variables agree
    cores = str(os.cpu_count() or 1)
    v, _, _ = sandbox_backend.run(src + "print(os.environ['OMP_NUM_THREADS'])\n",
                                  limits=fast_limits(cpus=(os.cpu_count() or 1) + 1))
    assert v.stdout.split() == [cores] * 4, v.stderr


def test_error_verdict_has_exception_and_traceback(sandbox_backend):
    src = "import sys\nprint('about to fail')\ndef f():\n    raise KeyError('label')\nf()\n"
    v, _, _ = sandbox_backend.run(src)
    assert v.status == "error" and v.exit_code == 1
    assert "KeyError: 'label'" in v.message
    assert v.error_tail.startswith("Traceback") and "line 4, in f" in v.error_tail
    assert v.stdout == "about to fail\n"


def test_exit_code_without_exception(sandbox_backend):
    v, _, _ = sandbox_backend.run("import sys\nsys.exit(3)\n")
    assert v.status == "error" and v.exit_code == 3 and "code 3" in v.message


@pytest.mark.parametrize("entry", ["--help.py", "-c.py", "my model.py"])
def test_entry_named_like_an_option_or_with_spaces_runs(sandbox_backend, entry):
    # python <entry> read '--help.py' as an interpreter option: 'unknown option', exit 2
    v, _, _ = sandbox_backend.run("import sys\nprint(sys.argv)\n", entry=entry)
    assert v.status == "ok", v.stderr
    assert v.stdout == f"{[entry]!r}\n"


def test_wall_time_limit(sandbox_backend):
    v, _, _ = sandbox_backend.run("print('start', flush=True)\nwhile True:\n    pass\n",
                                  limits=fast_limits(time_s=2))
    assert v.status == "timeout" and "2 s" in v.message
    assert 1.9 <= v.wall_s < 6 and v.stdout == "start\n"
    # killed at the limit: the same exit code on every backend (bwrap showed -9, Docker 137)
    assert v.exit_code == 137


def test_memory_limit_and_peak(sandbox_backend):
    src = "b = []\nwhile True:\n    b.append(bytearray(16 * 2**20))\n"
    v, _, _ = sandbox_backend.run(src, limits=fast_limits(memory_mb=200))
    assert v.status == "memory", (v.message, v.stderr[-500:])
    ok, _, _ = sandbox_backend.run("b = bytearray(120 * 2**20)\nb[::4096] = b'x' * len(b[::4096])\n",
                                   limits=fast_limits(memory_mb=400))
    assert ok.status == "ok" and 120 <= ok.peak_memory_mb < 400



def test_a_program_that_survives_a_memory_error_and_finishes_is_ok(sandbox_backend):
    # It logs the caught MemoryError's traceback, and a worker process of its own is stopped at
    # the limit; then it finishes. Its predictions count: it was once "ran out of memory",
    # unscored, on the traceback in its log alone.
    src = r"""
import subprocess, sys, traceback
try:
    big = bytearray(1 << 46)
except MemoryError:
    traceback.print_exc()
worker = subprocess.run([sys.executable, "-c", "b = []\nwhile True:\n    b.append(bytearray(16 << 20))\n"])
print("worker exit", worker.returncode)
"""
    v, _, _ = sandbox_backend.run(src, limits=fast_limits(memory_mb=200))
    assert v.status == "ok", (v.status, v.message, v.stderr[-500:])
    assert v.exit_code == 0 and "MemoryError" in v.stderr and v.stdout.startswith("worker exit")


def test_process_limit(sandbox_backend):
    src = r"""
import subprocess, sys
procs = []
try:
    for i in range(200):
        procs.append(subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"]))
except OSError as e:
    print("refused after", len(procs), type(e).__name__)
for p in procs:
    p.kill()
"""
    v, _, _ = sandbox_backend.run(src, limits=fast_limits(processes=20))
    assert v.status == "ok", v.stderr
    assert v.stdout.startswith("refused after")
    assert int(v.stdout.split()[2]) < 20


def test_file_size_limit(sandbox_backend):
    src = r"""
import os
try:
    with open(os.path.join(os.environ["GRADER_OUTPUT"], "big.bin"), "wb") as f:
        for _ in range(20):
            f.write(b"x" * 2**20)
    print("wrote all")
except OSError as e:
    print("stopped:", e.errno)
"""
    v, out, _ = sandbox_backend.run(src, limits=fast_limits(output_mb=4))
    assert v.status == "ok" and v.stdout.startswith("stopped")
    assert (out / "big.bin").stat().st_size <= 4 * 2**20


def test_a_checkpoint_or_shared_batch_larger_than_the_output_limit_is_written(sandbox_backend):
    # torch.save of a model to the working folder, a DataLoader worker's batch in /dev/shm:
    # bounded by their own sized places, not by the output limit (a real training program
    # with an 80 MB checkpoint failed with "File too large" at output_mb = 64)
    src = r"""
import os
for where in (".", "/dev/shm", "/tmp"):
    with open(os.path.join(where, "big.bin"), "wb") as f:
        for _ in range(12):
            f.write(b"x" * 2**20)
    print(where, os.path.getsize(os.path.join(where, "big.bin")) // 2**20)
    os.remove(os.path.join(where, "big.bin"))
"""
    if os.geteuid() != 0:
        pytest.skip("the workspace is a sized tmpfs only as root")
    v, _, _ = sandbox_backend.run(src, limits=fast_limits(output_mb=4, tmp_mb=64))
    assert v.status == "ok", v.stderr
    assert v.stdout.split() == [".", "12", "/dev/shm", "12", "/tmp", "12"]


def test_a_plot_saved_by_matplotlib_leaves_no_error_in_the_log(sandbox_backend):
    # training curves are saved by most real programs: fontconfig (matplotlib's fc-list)
    # printed "Fontconfig error: Cannot load default config file" into every such log
    src = r"""
import os
import matplotlib.pyplot as plt
plt.plot([1, 2, 3], [0.5, 0.7, 0.8])
plt.savefig(os.path.join(os.environ["GRADER_OUTPUT"], "curve.png"))
print("saved")
"""
    v, out, _ = sandbox_backend.run(src, limits=fast_limits(memory_mb=1024, time_s=60))
    assert v.status == "ok" and v.stdout == "saved\n", v.stderr
    assert "Fontconfig" not in v.stderr, v.stderr
    assert (out / "curve.png").stat().st_size > 1000


def test_cpu_quota(sandbox_backend):
    src = r"""
import os, time
t = time.time()
while time.time() - t < 3:
    pass
print(sum(os.times()[:2]))
"""
    v, _, _ = sandbox_backend.run(src, limits=fast_limits(cpus=0.25))
    assert v.status == "ok"
    # a quarter of a core for 3 s: about 0.75 s of CPU time, far below the 3 s unthrottled
    assert float(v.stdout) < 1.5


def test_logs_are_truncated_head_and_tail(sandbox_backend):
    src = "import sys\nprint('FIRST')\nfor i in range(20000):\n    print('x' * 60)\nprint('LAST')\n"
    v, _, _ = sandbox_backend.run(src, limits=fast_limits(log_kb=8))
    assert v.status == "ok" and v.stdout_truncated
    assert v.stdout.startswith("FIRST") and v.stdout.rstrip().endswith("LAST")
    assert "bytes omitted by the grader" in v.stdout and len(v.stdout) < 9000


def test_verdict_round_trips_as_json(sandbox_backend):
    from sandbox import Verdict

    v, _, _ = sandbox_backend.run("print('hi')\n")
    assert Verdict.from_dict(json.loads(json.dumps(v.to_dict()))) == v


def test_none_backend_warns_and_runs(tmp_path, capfd):
    from tests.conftest import SandboxRunner

    v, out, _ = SandboxRunner("none", tmp_path).run(
        "import os\nopen(os.environ['GRADER_OUTPUT'] + '/submission.csv', 'w').write('id\\n')\n")
    assert v.status == "ok" and (out / "submission.csv").exists()
    assert "WITHOUT A SANDBOX" in capfd.readouterr().err


def test_auto_prefers_docker_then_bwrap(bwrap_sandbox):
    from sandbox import available_backends, resolve_backend

    report = available_backends()
    expected = "docker" if report["docker"]["works"] else "bwrap"
    assert resolve_backend("auto") == expected
    assert report["bwrap"]["works"] and report["none"]["works"]


def test_unknown_backend_is_a_clear_error():
    from grader.errors import SandboxUnavailable
    from sandbox import resolve_backend

    with pytest.raises(SandboxUnavailable, match="unknown sandbox backend 'dockr'"):
        resolve_backend("dockr")


def test_cli_sandbox_check_reports_backends(bwrap_sandbox):
    import subprocess

    p = subprocess.run([sys.executable, "-m", "grader", "sandbox", "check", "--json"],
                       capture_output=True, text=True, timeout=120)
    report = json.loads(p.stdout)
    assert p.returncode == 0 and report["backends"]["bwrap"]["works"]
    assert report["auto"] in ("docker", "bwrap")


def test_parallel_runs_from_a_thread_pool_stay_separate(sandbox_backend):
    from concurrent.futures import ThreadPoolExecutor

    src = ("import os, time\ntime.sleep(0.5)\nopen(os.environ['GRADER_OUTPUT'] + '/submission.csv',"
           " 'w').write(os.environ['SEED'])\nprint(sorted(os.listdir('/tmp')))\n"
           "open('/tmp/mine', 'w').write(os.environ['SEED'])\n")
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda i: sandbox_backend.run(src, env={"SEED": str(i)}),
                                range(4)))
    # a runtime installed under /tmp (a CI checkout there) is bound in, read-only
    runtime_dirs = sorted({Path(p).parts[2] for p in (sys.prefix, sys.base_prefix)
                           if Path(p).parts[1:2] == ("tmp",)})
    for i, (v, out, _) in enumerate(results):
        assert v.status == "ok", v.stderr
        assert v.stdout == f"{runtime_dirs}\n"  # no run sees another's /tmp
        assert (out / "submission.csv").read_text() == str(i)


def test_stale_workspace_and_cgroup_of_a_dead_grader_are_swept(bwrap_sandbox):
    from sandbox import _cgroup, _workspace

    if os.geteuid() != 0:
        pytest.skip("cgroups and tmpfs workspaces need root")
    dead = subprocess_dead_pid()
    ws_dir = _workspace.BASE / f"{dead}-deadbeef"
    (ws_dir / "code").mkdir(parents=True)
    cg = _cgroup.ROOT / "pids" / _cgroup.PARENT / f"{dead}-deadbeef"
    cg.mkdir(parents=True)
    assert _workspace.sweep_stale() >= 1 and not ws_dir.exists()
    assert _cgroup.sweep_stale() >= 1 and not cg.exists()


def subprocess_dead_pid() -> int:
    import subprocess

    p = subprocess.Popen(["true"])
    p.wait()
    return p.pid


def test_docker_sweep_removes_containers_of_dead_graders(docker_sandbox):
    import socket

    from sandbox.backends import docker as dk

    c = dk.client()
    dead = subprocess_dead_pid()
    mine = c.containers.create(dk.HOST_IMAGE, ["/usr/bin/true"], labels={
        dk.LABEL: "1", dk.OWNER_LABEL: f"{socket.gethostname()}:{dead}"})
    alive = c.containers.create(dk.HOST_IMAGE, ["/usr/bin/true"], labels={
        dk.LABEL: "1", dk.OWNER_LABEL: f"{socket.gethostname()}:{os.getpid()}"})
    try:
        dk.sweep_stale()
        ids = {x.id for x in c.containers.list(all=True, filters={"label": dk.LABEL})}
        assert mine.id not in ids and alive.id in ids
    finally:
        for x in (mine, alive):
            try:
                x.remove(force=True)
            except Exception:  # noqa: BLE001
                pass


def test_cancel_all_stops_runs_in_flight(sandbox_backend):
    import threading
    import time as _time

    from sandbox import cancel_all

    result = {}
    t = threading.Thread(target=lambda: result.update(
        v=sandbox_backend.run("import time\nprint('up', flush=True)\ntime.sleep(60)\n")[0]))
    start = _time.monotonic()
    t.start()
    _time.sleep(2.5)
    assert cancel_all() == 1
    t.join(timeout=30)
    v = result["v"]
    assert v.status == "error" and "cancelled" in v.message
    assert _time.monotonic() - start < 20
