"""Hostile submissions against both real backends: each case asserts containment.

A fake course folder (public data, hidden labels, another student's submission) sits on
the host next to the runs; its secrets carry random tokens that must never appear in what
a run prints or writes. After the module: the course folder is byte-identical and no
process, container, cgroup or workspace of ours is left.
"""

from __future__ import annotations

import hashlib
import os
import pickle  # noqa: F401 - only to prove the sandbox package never uses it (see below)
import secrets
import socket
import subprocess
import threading
import time
from pathlib import Path

import psutil
import pytest

from sandbox import OutputError, read_submission_csv
from tests.conftest import fast_limits

LABEL_TOKEN = "LBL" + secrets.token_hex(8)
OTHER_TOKEN = "OTHER" + secrets.token_hex(8)
ENV_TOKEN = "ENV" + secrets.token_hex(8)
MARK = "hostile" + secrets.token_hex(6)


def _tree_hash(root: Path) -> str:
    h = hashlib.blake2b(digest_size=16)
    for p in sorted(root.rglob("*")):
        h.update(str(p.relative_to(root)).encode())
        if p.is_file() and not p.is_symlink():
            h.update(p.read_bytes())
    return h.hexdigest()


@pytest.fixture(scope="module")
def course(tmp_path_factory) -> Path:
    c = tmp_path_factory.mktemp("hostile") / "course"
    c.mkdir()
    (c / "data").mkdir()
    (c / "data" / "train.csv").write_text("id,label\n1,cat\n2,dog\n")
    (c / "data" / "test.csv").write_text("id\n10\n11\n")
    (c / "hidden").mkdir()
    (c / "hidden" / "test_labels.csv").write_text(f"id,label\n10,{LABEL_TOKEN}\n11,dog\n")
    (c / "course.toml").write_text('[competition]\nname = "hostile"\n')
    other = c.parent / "submissions" / "other-student"
    other.mkdir(parents=True)
    (other / "main.py").write_text(f"# {OTHER_TOKEN}\nprint('honest')\n")
    return c


@pytest.fixture(scope="module", autouse=True)
def containment_audit(course):
    before = _tree_hash(course.parent)
    yield
    assert _tree_hash(course.parent) == before, "the course folder changed"
    me = f"{os.getpid()}-"
    cg = [p for p in Path("/sys/fs/cgroup").glob("*/gradebox/*") if p.name.startswith(me)]
    assert not cg, f"cgroups left: {cg}"
    from sandbox._workspace import BASE

    ws = [p for p in BASE.glob(f"{me}*")] if BASE.is_dir() else []
    assert not ws, f"workspaces left: {ws}"
    assert not _marked_processes()
    try:
        import docker

        owner = f"{socket.gethostname()}:{os.getpid()}"
        left = docker.from_env().containers.list(
            all=True, filters={"label": f"gradebox.owner={owner}"})
        assert not left, f"containers left: {left}"
    except ImportError:
        pass
    except docker.errors.DockerException:
        pass  # no engine: nothing could have been left


def _marked_processes() -> list[str]:
    found = []
    for p in psutil.process_iter(["cmdline"]):
        cmd = " ".join(p.info["cmdline"] or [])
        if MARK in cmd:
            found.append(cmd)
    return found


def _leaks(v) -> list[str]:
    text = v.stdout + v.stderr
    return [t for t in (LABEL_TOKEN, OTHER_TOKEN, ENV_TOKEN) if t in text]


def _run(sb, course, src, **kw):
    kw.setdefault("data_dir", course / "data")
    v, out, code = sb.run(src, **kw)
    assert not _leaks(v)
    for f in out.rglob("*"):
        if f.is_file() and not f.is_symlink():
            data = f.read_bytes()
            assert LABEL_TOKEN.encode() not in data and OTHER_TOKEN.encode() not in data
    return v, out


# --------------------------------------------------------------------------- reading secrets

SEARCH = r"""
import os, stat, sys, time
t0 = time.time()
TOKENS = [{label!r}[::-1].encode(), {other!r}[::-1].encode()]  # not literally in this file
# names are searched everywhere; contents everywhere but the read-only runtime
RUNTIME = ("/usr", "/lib", "/bin", "/sbin", sys.base_prefix, sys.prefix)
hits, names, scanned = [], [], 0
for root, dirs, files in os.walk("/", onerror=lambda e: None):
    if root.startswith(("/proc", "/sys")):
        dirs[:] = []
        continue
    for f in files:
        p = os.path.join(root, f)
        if f == "test_labels.csv" or "/hidden" in root or "/submissions" in root:
            names.append(p)
        if root.startswith(RUNTIME):
            continue
        try:
            st = os.lstat(p)
            if stat.S_ISREG(st.st_mode) and st.st_size < 2_000_000:
                scanned += 1
                data = open(p, "rb").read()
                if any(t in data for t in TOKENS):
                    hits.append(p)
        except OSError:
            pass
print("scanned", scanned, "names", names, "hits", hits, round(time.time() - t0, 1))
"""


def test_filesystem_wide_search_finds_no_labels_or_other_students(sandbox_backend, course):
    src = SEARCH.format(label=LABEL_TOKEN[::-1], other=OTHER_TOKEN[::-1])
    v, _ = _run(sandbox_backend, course, src)
    assert v.status == "ok", v.stderr
    assert "hits []" in v.stdout and "names []" in v.stdout
    assert int(v.stdout.split()[1]) > 3  # it did look around (its own files, /etc, ...)


PATHS = r"""
import os
host_course = {course!r}
tries = [
    host_course + "/hidden/test_labels.csv",
    host_course + "/../submissions/other-student/main.py",
    "/proc/1/root" + host_course + "/hidden/test_labels.csv",
    "/proc/self/root" + host_course + "/hidden/test_labels.csv",
    "/proc/1/cwd/../hidden/test_labels.csv",
    os.environ["GRADER_DATA"] + "/../hidden/test_labels.csv",
    "../hidden/test_labels.csv", "../../hidden/test_labels.csv", "../../../hidden/test_labels.csv",
    os.environ["GRADER_DATA"] + "/../../submissions/other-student/main.py",
    "/etc/shadow", "/root/.bash_history",
]
for i, t in enumerate(list(tries)):
    link = f"link{{i}}"
    try:
        os.symlink(t, link)
        tries.append(link)
    except OSError:
        pass
for pid in os.listdir("/proc"):
    if pid.isdigit():
        tries.append(f"/proc/{{pid}}/root/hidden/test_labels.csv")
        tries.append(f"/proc/{{pid}}/environ")
for t in tries:
    try:
        data = open(t, "rb").read()
        print("READ", t, data[:200])
    except OSError as e:
        print("no", t, type(e).__name__)
"""


def test_hidden_labels_unreachable_by_path_proc_relative_and_links(sandbox_backend, course):
    v, _ = _run(sandbox_backend, course, PATHS.format(course=str(course)))
    assert v.status == "ok", v.stderr
    read = [ln for ln in v.stdout.splitlines() if ln.startswith("READ")]
    # only the program's own /proc/<pid>/environ may be readable; never a label or a secret
    assert all("/environ" in ln for ln in read), read


def test_grader_environment_does_not_leak(sandbox_backend, course, monkeypatch):
    monkeypatch.setenv("GRADEBOX_SECRET_TOKEN", ENV_TOKEN)
    src = r"""
import os
print(dict(os.environ))
for p in os.listdir("/proc"):
    if p.isdigit() or p == "self":
        try:
            print(p, open(f"/proc/{p}/environ", "rb").read())
        except OSError as e:
            print(p, "denied", type(e).__name__)
"""
    v, _ = _run(sandbox_backend, course, src)
    assert v.status == "ok" and "GRADEBOX_SECRET_TOKEN" not in v.stdout


# --------------------------------------------------------------------------- results hygiene


@pytest.mark.parametrize("target", ["labels", "/etc/shadow"])
def test_symlinked_submission_csv_is_refused(sandbox_backend, course, target):
    dest = str(course / "hidden" / "test_labels.csv") if target == "labels" else target
    src = (f"import os\nos.symlink({dest!r}, os.path.join(os.environ['GRADER_OUTPUT'], "
           "'submission.csv'))\n")
    v, out = _run(sandbox_backend, course, src)
    assert v.status == "ok"
    assert (out / "submission.csv").is_symlink()  # kept as a link, never resolved
    with pytest.raises(OutputError) as e:
        read_submission_csv(out, 1 << 20)
    assert e.value.reason == "link" and LABEL_TOKEN not in e.value.render()


def test_pickle_payload_in_output_is_never_loaded(sandbox_backend, course, tmp_path):
    marker = tmp_path / f"pwned-{MARK}"
    src = f"""
import os, pickle
class Evil:
    def __reduce__(self):
        return (os.system, ("touch {marker}",))
out = os.environ["GRADER_OUTPUT"]
open(os.path.join(out, "model.pkl"), "wb").write(pickle.dumps(Evil()))
open(os.path.join(out, "submission.csv"), "w").write("id,label\\n10,cat\\n11,dog\\n")
"""
    v, out = _run(sandbox_backend, course, src)
    assert v.status == "ok" and (out / "model.pkl").stat().st_size > 0
    assert read_submission_csv(out, 1 << 20).startswith(b"id,label")
    assert not marker.exists()
    sources = "".join(p.read_text() for p in Path("sandbox").rglob("*.py"))
    assert "import pickle" not in sources and "pickle.load" not in sources


# --------------------------------------------------------------------------- network


def _host_ip() -> str:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        s.connect(("10.255.255.255", 1))
        return s.getsockname()[0]
    except OSError:
        return "127.0.0.1"
    finally:
        s.close()


def test_no_network_internet_or_loopback(sandbox_backend, course):
    server = socket.socket()
    server.bind(("0.0.0.0", 0))
    server.listen(5)
    server.settimeout(0.2)
    port = server.getsockname()[1]
    accepted: list = []
    stop = threading.Event()

    def serve():
        while not stop.is_set():
            try:
                accepted.append(server.accept())
            except OSError:
                pass

    t = threading.Thread(target=serve, daemon=True)
    t.start()
    src = f"""
import socket
for host, port in [("127.0.0.1", {port}), ({_host_ip()!r}, {port}), ("172.17.0.1", {port}),
                   ("8.8.8.8", 53), ("1.1.1.1", 443), ("pypi.org", 443)]:
    try:
        socket.create_connection((host, port), timeout=2).close()
        print("CONNECTED", host, port)
    except OSError as e:
        print("blocked", host, port, type(e).__name__)
try:
    socket.getaddrinfo("example.com", 80)
    print("CONNECTED dns")
except OSError as e:
    print("blocked dns", type(e).__name__)
"""
    try:
        v, _ = _run(sandbox_backend, course, src)
    finally:
        stop.set()
        t.join()
        server.close()
    assert v.status == "ok", v.stderr
    assert "CONNECTED" not in v.stdout and not accepted


# --------------------------------------------------------------------------- resource abuse


def test_forged_launcher_failure_is_the_students_error_not_a_broken_sandbox(sandbox_backend,
                                                                           course):
    # the launcher's own words and exit code, printed by a student: on bwrap this stopped the
    # whole batch ("the sandbox could not start ... fix the machine"), and every rerun again
    src = ("import os, sys\nsys.stderr.write('gradebox-launcher: cannot join the run cgroup\\n')"
           "\nsys.stderr.flush()\nos._exit(125)\n")
    v, _ = _run(sandbox_backend, course, src)
    assert v.status == "error" and v.exit_code == 125


def test_fork_bomb_is_contained(sandbox_backend, course):
    bomb = "import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass\n"
    src = {"main.py": f"import os, sys\nos.execv(sys.executable, [sys.executable, 'b{MARK}.py'])\n",
           f"b{MARK}.py": bomb}
    t = time.monotonic()
    v, _ = _run(sandbox_backend, course, src, limits=fast_limits(time_s=4, processes=32))
    assert v.status in ("timeout", "error") and time.monotonic() - t < 30
    assert not _marked_processes()


def test_memory_bomb_is_stopped(sandbox_backend, course):
    src = "x = []\nwhile True:\n    x.append(b'x' * (64 * 2**20))\n"
    v, _ = _run(sandbox_backend, course, src, limits=fast_limits(memory_mb=256))
    assert v.status == "memory"


DISK_FILL = r"""
import os, json
places = {"cwd": ".", "output": os.environ["GRADER_OUTPUT"], "tmp": "/tmp", "shm": "/dev/shm",
          "home": os.environ["HOME"], "data": os.environ["GRADER_DATA"], "root": "/",
          "grader": "/grader", "usr": "/usr", "etc": "/etc"}
written = {}
for name, d in places.items():
    n = 0
    try:
        for i in range(10000):
            with open(os.path.join(d, f"fill{i}.bin"), "wb") as f:
                for _ in range(4):
                    f.write(b"x" * 2**20)
                    n += 2**20
    except OSError:
        pass
    written[name] = n // 2**20
    for i in range(10000):   # free memory-backed space for the next place
        try:
            os.unlink(os.path.join(d, f"fill{i}.bin"))
        except OSError:
            break
for f in ("/etc/hosts", "/etc/passwd", "/etc/resolv.conf"):
    try:
        open(f, "a").write("x")
        written[f] = 1
    except OSError:
        written[f] = 0
print(json.dumps(written))
"""


def test_disk_fill_is_bounded_in_every_writable_place(sandbox_backend, course):
    import json

    lim = fast_limits(output_mb=8, tmp_mb=32, memory_mb=512, time_s=60)
    v, out = _run(sandbox_backend, course, DISK_FILL, limits=lim)
    assert v.status == "ok", v.stderr
    w = json.loads(v.stdout)
    assert w["output"] <= 8 and w["tmp"] <= 32 and w["shm"] <= 32 and w["home"] <= 32
    assert w["cwd"] <= 33  # the code copy + tmp_mb
    for ro in ("data", "root", "grader", "usr", "etc", "/etc/hosts", "/etc/passwd",
               "/etc/resolv.conf"):
        assert w[ro] == 0, (ro, w)
    assert sum(f.stat().st_size for f in out.rglob("*") if f.is_file()) <= 8 * 2**20


def test_500mb_of_stdout_keeps_memory_and_disk_bounded(sandbox_backend, course):
    src = "import sys\nchunk = b'y' * 2**20\nfor _ in range(500):\n    sys.stdout.buffer.write(chunk)\n"
    rss = psutil.Process().memory_info().rss
    v, out = _run(sandbox_backend, course, src, limits=fast_limits(log_kb=64, time_s=90))
    assert v.status in ("ok", "timeout") and v.stdout_truncated
    assert len(v.stdout) < 70_000 and "bytes omitted" in v.stdout
    assert psutil.Process().memory_info().rss - rss < 100 * 2**20
    assert not any(out.iterdir())


def test_infinite_loop_ignoring_sigterm_is_killed(sandbox_backend, course):
    src = "import signal\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\nwhile True:\n    pass\n"
    v, _ = _run(sandbox_backend, course, src, limits=fast_limits(time_s=2))
    assert v.status == "timeout" and v.wall_s < 8


def test_double_forked_daemon_does_not_outlive_the_run(sandbox_backend, course):
    src = f"""
import os, sys
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        code = "import os, time; time.sleep(2); open(os.environ['GRADER_OUTPUT'] + '/late.txt', 'w')"
        os.execv(sys.executable, [sys.executable, "-c", code, {MARK!r}])
    os._exit(0)
os.wait()
print("main done")
"""
    v, out = _run(sandbox_backend, course, src)
    assert v.status == "ok" and v.stdout == "main done\n"
    assert not _marked_processes()
    time.sleep(2.5)
    assert not (out / "late.txt").exists()


def test_writes_to_data_course_and_root_fail(sandbox_backend, course):
    src = f"""
import os
targets = [os.environ["GRADER_DATA"] + "/train.csv", os.environ["GRADER_DATA"] + "/new.csv",
           {str(course)!r} + "/hidden/test_labels.csv", {str(course)!r} + "/evil",
           "/evil", "/usr/evil", "/grader/evil", "/etc/evil"]
for t in targets:
    try:
        open(t, "a").write("pwned")
        print("WROTE", t)
    except OSError as e:
        print("no", t, type(e).__name__)
"""
    v, _ = _run(sandbox_backend, course, src)
    assert v.status == "ok" and "WROTE" not in v.stdout
    assert (course / "data" / "train.csv").read_text() == "id,label\n1,cat\n2,dog\n"


def test_kill_parent_and_kill_minus_one_stay_inside(sandbox_backend, course):
    # the most exposed host process: one running as the sandbox's own uid
    sentinel = subprocess.Popen(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                                 "sleep", "120"])
    try:
        src = ("import os, signal\nfor target in (os.getppid(), -1, 1):\n    try:\n"
               "        os.kill(target, signal.SIGKILL)\n        print('sent', target)\n"
               "    except OSError as e:\n        print('refused', target, type(e).__name__)\n")
        v, _ = _run(sandbox_backend, course, src)
        assert v.status in ("ok", "error")
        time.sleep(0.2)
        assert sentinel.poll() is None, "a host process was killed from inside the sandbox"
    finally:
        sentinel.kill()
        sentinel.wait()


def test_honest_run_beside_bombs_is_unaffected(sandbox_backend, course):
    from concurrent.futures import ThreadPoolExecutor

    honest = ("import os, numpy as np\nx = np.arange(10**6).sum()\n"
              "open(os.environ['GRADER_OUTPUT'] + '/submission.csv', 'w').write(f'id,label\\n10,{x}\\n')\n")
    fork = {"main.py": f"import os, sys\nos.execv(sys.executable, [sys.executable, 'b{MARK}.py'])\n",
            f"b{MARK}.py": "import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass\n"}
    mem = "x = []\nwhile True:\n    x.append(b'x' * (32 * 2**20))\n"
    # the fork bomb burns its CPU share for 5 s while the others run (2 shared cores: the
    # others get a generous clock so that only containment, not speed, is tested)
    limits = [fast_limits(time_s=5, processes=32), fast_limits(time_s=40, memory_mb=256),
              fast_limits(time_s=40)]
    with ThreadPoolExecutor(3) as pool:
        jobs = [pool.submit(_run, sandbox_backend, course, src, limits=lim)
                for src, lim in zip((fork, mem, honest), limits, strict=True)]
        (vf, _), (vm, _), (vh, out) = [j.result() for j in jobs]
    assert vf.status in ("timeout", "error") and vm.status == "memory"
    assert vh.status == "ok", vh.stderr
    assert read_submission_csv(out, 1 << 20) == b"id,label\n10,499999500000\n"
    assert not _marked_processes()
