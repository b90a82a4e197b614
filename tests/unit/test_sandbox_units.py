"""Unit tests of the sandbox's pure parts: logs, verdicts, GPU pool and flags, outputs."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pytest

from sandbox import GpuPool, Limits, OutputError, RunSpec, read_submission_csv
from sandbox._logs import BoundedLog
from sandbox.gpus import bwrap_device_flags, cuda_env, docker_device_requests
from sandbox.verdict import classify, error_tail, exception_line

# ----------------------------------------------------------------------------- logs


def test_bounded_log_keeps_head_and_tail_and_counts_dropped():
    log = BoundedLog(100)
    log.feed(b"H" * 50)
    for _ in range(1000):
        log.feed(b"m" * 100)
    log.feed(b"T" * 50)
    text = log.text()
    assert log.truncated and log.total == 50 + 100_000 + 50
    assert text.startswith("H" * 50) and text.endswith("T" * 50)
    assert f"[... {100_000} bytes omitted" in text
    assert len(text) < 200


def test_bounded_log_small_output_untouched():
    log = BoundedLog(100)
    log.feed("héllo\n".encode())
    assert log.text() == "héllo\n" and not log.truncated


# ----------------------------------------------------------------------------- verdict

TRACE = """noise
Traceback (most recent call last):
  File "/grader/code/main.py", line 3, in <module>
    x = 1 / 0
ZeroDivisionError: division by zero
"""


def test_classify_statuses():
    kw = dict(time_s=10, memory_mb=100)
    assert classify(exit_code=0, timed_out=False, oom_killed=False, stderr="", **kw)[0] == "ok"
    st, msg, tail = classify(exit_code=1, timed_out=False, oom_killed=False, stderr=TRACE, **kw)
    assert st == "error" and "ZeroDivisionError: division by zero" in msg
    assert tail.startswith("Traceback") and "noise" not in tail
    assert classify(exit_code=None, timed_out=True, oom_killed=False, stderr="", **kw)[0] == "timeout"
    assert classify(exit_code=137, timed_out=False, oom_killed=True, stderr="", **kw)[0] == "memory"
    # a program that only filled /tmp (tmpfs pages are charged to the memory limit) is told so
    assert "files written to /tmp and /dev/shm count as memory" in classify(
        exit_code=137, timed_out=False, oom_killed=True, stderr="", **kw)[1]
    mem = "Traceback (most recent call last):\nMemoryError\n"
    assert classify(exit_code=1, timed_out=False, oom_killed=False, stderr=mem, **kw)[0] == "memory"
    # a program that caught a MemoryError, logged it and finished is scored: exit 0 is ok
    # (so is one whose worker process alone was stopped at the limit)
    assert classify(exit_code=0, timed_out=False, oom_killed=False, stderr=mem, **kw)[0] == "ok"
    assert classify(exit_code=0, timed_out=False, oom_killed=True, stderr="", **kw)[0] == "ok"
    # sys.exit("Finished training") at the end: exit code 1 and a happy line, no traceback
    st, msg, _ = classify(exit_code=1, timed_out=False, oom_killed=False,
                          stderr="Finished training, submission written\n", **kw)
    assert st == "error" and msg.startswith(
        "exited with code 1 without a traceback; the last line it wrote to stderr: Finished "
        "training, submission written (sys.exit(\"some text\") prints the text and exits with "
        "code 1, an error")
    assert classify(exit_code=2, timed_out=False, oom_killed=False, stderr="usage: x\n",
                    **kw)[1] == "exited with code 2"
    st, msg, _ = classify(exit_code=-9, timed_out=False, oom_killed=False, stderr="", **kw)
    assert st == "error" and "SIGKILL" in msg
    assert "SIGSEGV" in classify(exit_code=139, timed_out=False, oom_killed=False, stderr="", **kw)[1]


def test_error_tail_and_exception_line():
    assert exception_line(TRACE) == "ZeroDivisionError: division by zero"
    assert exception_line("just text\n") == ""
    long = "Traceback (most recent call last):\n" + "\n".join(f"  line {i}" for i in range(50))
    assert len(error_tail(long, lines=5).splitlines()) == 5


def test_a_never_ending_line_is_cut_in_the_tail_and_the_exception_line():
    # 256 KB of one stderr line was stored as the run's error tail and shown on the index
    # page, once per student who did it
    flood = "x" * 256_000
    tail = error_tail(f"{flood}\nTraceback (most recent call last):\nValueError: {flood}\n")
    assert len(tail) < 1200 and tail.endswith("(255,512 more characters)")
    assert error_tail(flood + "\n") == f"{flood[:500]} ... (255,500 more characters)"
    assert exception_line(f"ValueError: {flood}\n") == (
        f"ValueError: {flood[:488]} ... (255,512 more characters)")


# ----------------------------------------------------------------------------- GPUs


def test_gpu_pool_gives_each_slot_its_own_devices():
    pool = GpuPool([0, 1, 2, 3], per_run=2)
    assert pool.slots == 2
    seen: list[tuple[int, ...]] = []
    active: set[int] = set()
    lock = threading.Lock()
    clash = []

    def work():
        with pool.acquire(timeout=10) as devs:
            with lock:
                if active & set(devs):
                    clash.append(devs)
                active.update(devs)
                seen.append(devs)
            time.sleep(0.01)
            with lock:
                active.difference_update(devs)

    threads = [threading.Thread(target=work) for _ in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not clash and len(seen) == 12
    assert all(len(d) == 2 and set(d) <= {0, 1, 2, 3} for d in seen)


def test_gpu_pool_errors_and_zero():
    with GpuPool([], per_run=0).acquire() as devs:
        assert devs == ()
    with pytest.raises(ValueError, match="only 1 exist"):
        with GpuPool([0], per_run=2).acquire():
            pass
    pool = GpuPool([0], per_run=1)
    with pool.acquire():
        with pytest.raises(TimeoutError):
            with pool.acquire(timeout=0.05):
                pass
    with pool.acquire() as devs:  # released after the error
        assert devs == (0,)


def test_cuda_env_and_device_flags(tmp_path):
    assert cuda_env((), renumbered=True) == {"CUDA_VISIBLE_DEVICES": ""}
    assert cuda_env((2, 5), renumbered=False)["CUDA_VISIBLE_DEVICES"] == "2,5"
    assert cuda_env((2, 5), renumbered=True)["CUDA_VISIBLE_DEVICES"] == "0,1"
    reqs = docker_device_requests((3,))
    assert len(reqs) == 1 and reqs[0]["DeviceIDs"] == ["3"] and reqs[0]["Count"] in (0, None)
    assert docker_device_requests(()) == []
    assert bwrap_device_flags(()) == []  # node mapping: tests/unit/test_sandbox_gpus.py


# ----------------------------------------------------------------------------- flags


def _spec(tmp_path: Path, **kw) -> RunSpec:
    for d in ("code", "data", "out"):
        (tmp_path / d).mkdir(exist_ok=True)
    return RunSpec(tmp_path / "code", "main.py", tmp_path / "data", tmp_path / "out", **kw)


def test_bwrap_flags_show_only_what_the_run_needs(tmp_path):
    from sandbox._runtime import python_runtime
    from sandbox._workspace import Workspace
    from sandbox.backends.bwrap import bwrap_flags

    spec = _spec(tmp_path, limits=Limits(tmp_mb=32), env={"SEED": "1"})
    ws = Workspace(tmp_path / "ws", tmp_path / "ws/code", tmp_path / "ws/out",
                   tmp_path / "ws/etc", False, 65534)
    rt = python_runtime(spec.python)
    f = bwrap_flags(spec, ws, rt, as_root=True)
    for must in ("--unshare-pid", "--unshare-net", "--die-with-parent", "--new-session",
                 "--clearenv"):
        assert must in f
    sources = [f[i + 1] for i, x in enumerate(f) if x in ("--bind", "--ro-bind", "--ro-bind-try")]
    writable = [f[i + 1] for i, x in enumerate(f) if x == "--bind"]
    assert sorted(writable) == sorted([str(ws.code), str(ws.out)])
    allowed = set(rt.prefixes) | {str(spec.data_dir), str(ws.code), str(ws.out)}
    for s in sources:
        ok = s in allowed or s.startswith(("/usr", "/etc/", str(ws.etc))) or s in (
            "/bin", "/sbin", "/lib", "/lib64", "/lib32", "/libx32")
        assert ok, f"unexpected host path in the sandbox: {s}"
    assert "/" not in sources and "/root" not in sources and "/work" not in sources
    env = {f[i + 1]: f[i + 2] for i, x in enumerate(f) if x == "--setenv"}
    assert env["SEED"] == "1" and env["CUDA_VISIBLE_DEVICES"] == ""
    assert str(32 * 1024 * 1024) in f


def test_docker_kwargs_lock_the_container_down(tmp_path):
    pytest.importorskip("docker")
    from sandbox._runtime import python_runtime
    from sandbox._workspace import Workspace
    from sandbox.backends.docker import container_kwargs

    lim = Limits(memory_mb=300, cpus=1.5, processes=50, output_mb=4, tmp_mb=16)
    spec = _spec(tmp_path, limits=lim, gpu_devices=(1,))
    ws = Workspace(tmp_path / "ws", tmp_path / "ws/code", tmp_path / "ws/out",
                   tmp_path / "ws/etc", False, 65534)
    kw = container_kwargs(spec, ws, image="img", runtime=python_runtime(spec.python),
                          cgroup_parent=None)
    assert kw["network_mode"] == "none" and kw["read_only"] is True
    assert kw["mem_limit"] == kw["memswap_limit"] == 300 * 2**20
    assert kw["nano_cpus"] == 1_500_000_000 and kw["pids_limit"] == 50
    assert kw["cap_drop"] == ["ALL"] and "no-new-privileges" in kw["security_opt"]
    assert kw["user"] == "65534:65534"
    ul = {u["Name"]: u["Hard"] for u in kw["ulimits"]}
    assert ul["core"] == 0 and ul["fsize"] == 4 * 2**20
    rw = [h for h, m in kw["volumes"].items() if m["mode"] == "rw"]
    assert sorted(rw) == sorted([str(ws.code), str(ws.out)])
    assert kw["device_requests"][0]["DeviceIDs"] == ["1"]
    assert kw["environment"]["CUDA_VISIBLE_DEVICES"] == "0"
    assert kw["labels"]["gradebox.run"] == "1"


# ----------------------------------------------------------------------------- outputs


def test_read_submission_csv_accepts_a_regular_file(tmp_path):
    (tmp_path / "submission.csv").write_bytes(b"id,label\n1,a\n")
    assert read_submission_csv(tmp_path, 100) == b"id,label\n1,a\n"


@pytest.mark.parametrize("kind,reason", [("missing", "missing"), ("link", "link"),
                                         ("dir", "not_regular"), ("fifo", "not_regular"),
                                         ("big", "too_large"), ("dangling", "link")])
def test_read_submission_csv_refuses(tmp_path, kind, reason):
    target = tmp_path / "secret.csv"
    target.write_text("id,label\n1,SECRET\n")
    p = tmp_path / "out" / "submission.csv"
    p.parent.mkdir()
    if kind == "link":
        p.symlink_to(target)
    elif kind == "dangling":
        p.symlink_to(tmp_path / "nope")
    elif kind == "dir":
        p.mkdir()
    elif kind == "fifo":
        os.mkfifo(p)
    elif kind == "big":
        p.write_bytes(b"x" * 101)
    with pytest.raises(OutputError) as e:
        read_submission_csv(p.parent, 100)
    assert e.value.reason == reason and "submission.csv" in e.value.message
    assert "SECRET" not in e.value.render()


def test_a_predictions_file_under_another_name_is_named(tmp_path):
    # predictions.csv, Submission.csv or output/submission.csv got only "no submission.csv
    # was written"; links are not listed (nor followed)
    (tmp_path / "predictions.csv").write_text("id,label\n1,a\n")
    (tmp_path / "output").mkdir()
    (tmp_path / "output" / "submission.csv").write_text("id,label\n1,a\n")
    (tmp_path / "loss.png").write_bytes(b"\x89PNG")
    (tmp_path / "x\x1b[2J.csv").write_text("")
    (tmp_path / "elsewhere.csv").symlink_to(tmp_path / "predictions.csv")
    with pytest.raises(OutputError) as e:
        read_submission_csv(tmp_path, 100)
    assert e.value.reason == "missing"
    assert e.value.message == (
        "no submission.csv was written to $GRADER_OUTPUT (it holds output/submission.csv, "
        "predictions.csv, x\\x1b[2J.csv: the predictions must be in a file named exactly "
        "submission.csv, at the folder's top)")
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(OutputError) as e:
        read_submission_csv(empty, 100)
    assert e.value.message == "no submission.csv was written to $GRADER_OUTPUT"


# ----------------------------------------------------------------------------- harvest


def test_harvest_copies_data_keeps_links_as_links_and_bounds_size(tmp_path):
    from sandbox._workspace import Workspace, harvest

    out = tmp_path / "ws" / "out"
    (out / "sub").mkdir(parents=True)
    (out / "submission.csv").write_bytes(b"id,label\n")
    (out / "sub" / "a.txt").write_bytes(b"a" * 10)
    (out / "big.bin").write_bytes(b"b" * 1000)
    (out / "link").symlink_to("/etc/shadow")
    os.mkfifo(out / "pipe")
    deep = out
    for i in range(20):
        deep = deep / f"d{i}"
    deep.mkdir(parents=True)
    (deep / "deep.txt").write_text("deep")
    ws = Workspace(tmp_path / "ws", tmp_path / "ws/code", out, tmp_path / "ws/etc", False, 0)
    dest = tmp_path / "dest"
    notes = harvest(ws, dest, max_bytes=500)
    assert (dest / "submission.csv").read_bytes() == b"id,label\n"
    assert (dest / "sub" / "a.txt").read_bytes() == b"a" * 10
    assert not (dest / "big.bin").exists() and any("big.bin" in n for n in notes)
    assert (dest / "link").is_symlink() and os.readlink(dest / "link") == "/etc/shadow"
    assert not (dest / "pipe").exists() and any("pipe" in n for n in notes)
    assert not list(dest.rglob("deep.txt")) and any("too deep" in n for n in notes)


@pytest.mark.parametrize("many,big", [(True, False), (False, True)])
def test_harvest_copies_the_predictions_first(tmp_path, monkeypatch, many, big):
    # an honest program that wrote its predictions, then thousands of plots (tmpfs lists the
    # newest first) or a checkpoint filling the size limit: submission.csv was dropped and
    # the run graded as "no submission.csv was written"
    from sandbox import _workspace
    from sandbox._workspace import Workspace, harvest

    monkeypatch.setattr(_workspace, "MAX_OUTPUT_FILES", 50)
    out = tmp_path / "ws" / "out"
    out.mkdir(parents=True)
    (out / "submission.csv").write_bytes(b"id,label\n1,7\n")
    if many:
        for i in range(200):
            (out / f"plot{i:03}.png").write_bytes(b"p")
    if big:
        (out / "aaa.ckpt").write_bytes(b"c" * 1000)
    dest = tmp_path / "dest"
    notes = harvest(Workspace(tmp_path / "ws", tmp_path / "ws/code", out, tmp_path / "ws/etc",
                              False, 0), dest, max_bytes=1000)
    assert (dest / "submission.csv").read_bytes() == b"id,label\n1,7\n"
    if many:
        assert len(list(dest.iterdir())) == 50
        assert "more than 50 output files; the rest dropped" in notes
    if big:
        assert not (dest / "aaa.ckpt").exists()
        assert "aaa.ckpt: dropped, output over the size limit" in notes
