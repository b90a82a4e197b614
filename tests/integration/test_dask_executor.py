"""The Dask executor on a real cluster: ``dask scheduler`` and ``dask worker`` processes
started here (one worker advertising a ``GPU`` resource), real bubblewrap sandboxes, a real
SQLite store.

Covers: the same grades as the local executor; GPU runs placed only on the GPU worker, one at
a time; a worker killed mid-run (retried once, then an ``error`` verdict); the grader killed
with SIGKILL and restarted (finished runs are not redone); Ctrl-C (this batch's sandboxes on the
workers killed at once, a neighbour batch's left alone); the scheduler lost (clean stop, then
resume); a late submission (exactly one new run); staged data.
"""

from __future__ import annotations

import csv
import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.conftest import need

pytestmark = [pytest.mark.dask, pytest.mark.bwrap, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent
DASK = VENV_BIN / "dask"
# workers and the grader CLI import this checkout, whatever the environment's install points at
CHILD_ENV = {**os.environ, "PYTHONPATH": os.pathsep.join(
    [str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])])}
N_TEST = 20

# A deterministic submission: the true label (id % 2) for ids below ``cut``, else 0.
PROGRAM = """\
import csv, os, time
time.sleep({sleep})
rows = list(csv.DictReader(open(os.path.join(os.environ["GRADER_DATA"], "test.csv"))))
with open(os.path.join(os.environ["GRADER_OUTPUT"], "submission.csv"), "w") as f:
    f.write("id,label\\n")
    for r in rows:
        i = int(r["id"])
        f.write(f"{{i}},{{i % 2 if i < {cut} else 0}}\\n")
"""
CRASH = "raise SystemExit('this submission fails on purpose')\n"


# --------------------------------------------------------------------------- helpers

def make_course(root: Path, *, gpus: int = 0) -> Path:
    """A tiny course: labels are ``id % 2``; bwrap; small limits."""
    (root / "data").mkdir(parents=True)
    (root / "hidden").mkdir()
    (root / "data" / "train.csv").write_text(
        "id,label\n" + "".join(f"{i},{i % 2}\n" for i in range(9)))
    ids = range(100, 100 + N_TEST)
    (root / "data" / "test.csv").write_text("id\n" + "".join(f"{i}\n" for i in ids))
    (root / "hidden" / "test_labels.csv").write_text(
        "id,label\n" + "".join(f"{i},{i % 2}\n" for i in ids))
    (root / "course.toml").write_text(
        '[competition]\nname = "dask-test"\nseed = 7\n\n'
        '[sandbox]\nbackend = "bwrap"\ntime_limit_s = 60\nmemory_mb = 512\ncpus = 1\n'
        f"processes = 64\ngpus = {gpus}\n\n[similarity]\nenabled = false\n")
    return root


def add_submission(subs: Path, student: str, *, cut: int = 110, sleep: float = 0.0,
                   source: str | None = None) -> None:
    folder = subs / student
    folder.mkdir(parents=True)
    (folder / "main.py").write_text(source or PROGRAM.format(cut=cut, sleep=sleep))


def grades_table(out: Path) -> dict[str, tuple[str, str, str, str]]:
    with (out / "grades.csv").open(newline="") as f:
        return {r["student"]: (r["status"], r["score"], r["rank"], r["grade"])
                for r in csv.DictReader(f)}


def stored_runs(out: Path) -> dict[str, dict]:
    if not (out / "grading.db").is_file():
        return {}
    db = sqlite3.connect(f"file:{out / 'grading.db'}?mode=ro", uri=True, timeout=30)
    db.row_factory = sqlite3.Row
    try:
        return {r["student"]: dict(r) for r in db.execute("SELECT * FROM runs")}
    except sqlite3.OperationalError:  # the store is not created yet
        return {}
    finally:
        db.close()


def batch_options(address: str, **kw):
    from grader.batch import BatchOptions

    return BatchOptions(executor="dask", scheduler=address, backend="bwrap", similarity=False,
                        reports=False, quiet=True, **kw)


@dataclass
class Cluster:
    """A scheduler and workers, each a separate process group started by the test."""

    base: Path
    address: str = ""
    scheduler: subprocess.Popen | None = None
    workers: dict[str, subprocess.Popen] = field(default_factory=dict)

    def start(self, workers: dict[str, dict[str, str]], allowed_failures: int = 1) -> Cluster:
        from distributed import Client

        self.base.mkdir(parents=True, exist_ok=True)
        sched_file = self.base / "scheduler.json"
        sched_file.unlink(missing_ok=True)
        env = {**CHILD_ENV,
               "DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES": str(allowed_failures)}
        self.scheduler = self._spawn(
            [DASK, "scheduler", "--scheduler-file", sched_file, "--port", "0",
             "--host", "127.0.0.1", "--no-dashboard"], env, "scheduler")
        deadline = time.time() + 60
        while not sched_file.is_file() and time.time() < deadline:
            time.sleep(0.1)
        assert sched_file.is_file(), (self.base / "scheduler.log").read_text()
        time.sleep(0.2)  # the file is written in one go, but give the listener a moment
        self.address = json.loads(sched_file.read_text())["address"]
        for name, extra in workers.items():
            args = [DASK, "worker", self.address, "--name", name, "--nthreads", "1",
                    "--nworkers", "1", "--no-dashboard", "--death-timeout", "30"]
            if "resources" in extra:
                args += ["--resources", extra["resources"]]
            wenv = {**CHILD_ENV, "GRADER_STAGING_DIR": str(self.base / f"staging-{name}"),
                    **{k: v for k, v in extra.items() if k != "resources"}}
            self.workers[name] = self._spawn(args, wenv, name)
        if workers:
            with Client(self.address, timeout=30, set_as_default=False) as client:
                client.wait_for_workers(len(workers), timeout=90)
        return self

    def _spawn(self, argv: list, env: dict, label: str) -> subprocess.Popen:
        log = (self.base / f"{label}.log").open("w")
        return subprocess.Popen([str(a) for a in argv], env=env, cwd=ROOT, stdout=log,
                                stderr=subprocess.STDOUT, start_new_session=True)

    def kill_scheduler(self) -> None:
        _stop(self.scheduler, signal.SIGKILL)

    def stop(self) -> None:
        # without a scheduler a worker's graceful shutdown waits for it in vain
        sig = signal.SIGTERM if self.scheduler and self.scheduler.poll() is None else signal.SIGKILL
        for proc in [*self.workers.values(), self.scheduler]:
            _stop(proc, sig)


def _stop(proc: subprocess.Popen | None, sig: int) -> None:
    """Signal the process group this test started for ``proc``, then make sure it is gone."""
    if proc is None or proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, sig)
        proc.wait(timeout=20)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait(timeout=20)


STANDARD_WORKERS = {
    "cpu-1": {},
    "cpu-2": {},
    # no real GPUs here: placement by resource only, the run gets no devices
    "gpu-1": {"resources": "GPU=1", "GRADER_GPU_DEVICES": "none"},
}


def _need_engines() -> None:
    from sandbox.backends import bwrap

    need(DASK.exists(), f"{DASK} not found (pip install 'distributed')")
    info = bwrap.check()
    need(info.works, f"bubblewrap sandbox unavailable: {info.reason}")


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """One scheduler, two CPU workers and one GPU worker for the whole module."""
    _need_engines()
    c = Cluster(tmp_path_factory.mktemp("dask-cluster"))
    try:
        yield c.start(STANDARD_WORKERS)
    finally:
        c.stop()


# --------------------------------------------------------------------------- tests

def test_dask_batch_gives_the_same_grades_as_local(cluster, tmp_path):
    from grader.batch import BatchOptions, run_batch
    from grader.course import load_course

    course = load_course(make_course(tmp_path / "course"))
    subs = tmp_path / "subs"
    for k, cut in enumerate([104, 108, 112, 116, 120]):
        add_submission(subs, f"student-{k}", cut=cut)
    add_submission(subs, "crasher", source=CRASH)
    (subs / "notebook").mkdir()
    (subs / "notebook" / "work.ipynb").write_text("{}")

    local = run_batch(course, subs, tmp_path / "local", BatchOptions(
        executor="local", jobs=2, backend="bwrap", similarity=False, reports=False, quiet=True))
    remote = run_batch(course, subs, tmp_path / "dask", batch_options(cluster.address))

    assert remote.ran == local.ran == 6
    want = grades_table(tmp_path / "local")
    assert grades_table(tmp_path / "dask") == want
    assert want["student-4"][0] == "ok" and want["student-4"][2] == "1"  # the perfect one
    assert want["crasher"][0] == "error" and want["notebook"][0] == "rejected"
    runs = stored_runs(tmp_path / "dask")
    assert {r["worker"].split("/")[-1] for r in runs.values()} <= set(STANDARD_WORKERS)
    assert all(r["attempts"] == 1 for r in runs.values())
    # identical predictions travelled back as data
    for student in ("student-0", "student-3"):
        assert ((tmp_path / "dask" / "runs" / student / "submission.csv").read_bytes()
                == (tmp_path / "local" / "runs" / student / "submission.csv").read_bytes())


def test_gpu_runs_only_on_the_gpu_worker_one_at_a_time(cluster, tmp_path):
    from grader.batch import run_batch
    from grader.course import load_course

    course = load_course(make_course(tmp_path / "course", gpus=1))
    subs = tmp_path / "subs"
    for k in range(4):
        add_submission(subs, f"gpu-student-{k}", cut=104 + 4 * k, sleep=0.5)
    summary = run_batch(course, subs, tmp_path / "out", batch_options(cluster.address))

    assert summary.counts["ok"] == 4
    runs = sorted(stored_runs(tmp_path / "out").values(), key=lambda r: r["started_at"])
    assert [r["worker"].split("/")[-1] for r in runs] == ["gpu-1"] * 4
    # GPU=1 on the worker: each run starts after the previous one finished
    for before, after in zip(runs, runs[1:]):
        assert after["started_at"] >= before["finished_at"]


def test_runs_no_worker_can_take_are_reported(cluster, tmp_path):
    from grader.batch import make_task as _make_task
    from grader.course import load_course
    from grader.executors.dask import DaskExecutor
    from grader.intake import scan_submissions

    course = load_course(make_course(tmp_path / "course", gpus=2))  # the GPU worker has 1
    add_submission(tmp_path / "subs", "two-gpus")
    tasks = [_make_task(s, course, "bwrap") for s in scan_submissions(tmp_path / "subs")]
    notes: list[str] = []
    ex = DaskExecutor(cluster.address, log=notes.append)
    try:
        ex._check_capacity(ex._connect(), tasks)
    finally:
        ex.close()
    assert notes == ["note: each run needs GPU=2 but no connected worker offers it (most: 1); "
                     "runs wait for a worker started with --resources GPU=2 (docs/cluster.md)"]


class WorkerKiller(threading.Thread):
    """Kills (SIGKILL) the worker process running ``student`` each time a run of it starts,
    ``times`` times; the nanny restarts the worker, as on a real cluster."""

    def __init__(self, address: str, student: str, times: int):
        super().__init__(daemon=True)
        self.address, self.student, self.times = address, student, times
        self.killed: list[str] = []
        self.stop = threading.Event()

    def run(self) -> None:
        from distributed import Client

        from grader.executors.dask import START_TOPIC

        seen = 0
        with Client(self.address, timeout=30, set_as_default=False) as client:
            while not self.stop.is_set() and len(self.killed) < self.times:
                starts = [m for _, m in client.get_events(START_TOPIC)
                          if m["student"] == self.student]
                if len(starts) > seen:
                    seen = len(starts)
                    time.sleep(0.5)  # well inside the run's sandbox
                    os.kill(starts[-1]["pid"], signal.SIGKILL)
                    self.killed.append(starts[-1]["worker"])
                time.sleep(0.1)


@pytest.mark.parametrize(("kills", "allowed_failures"), [(1, 1), (2, 1), (2, 3)],
                         ids=["retried", "killed-worker", "own-count"])
def test_worker_killed_mid_run(cluster, tmp_path, kills, allowed_failures):
    """(2, 3): a scheduler that would retry 3 times; the executor's own count stops at one."""

    if allowed_failures != 1:
        cluster = Cluster(tmp_path / "own-cluster").start(
            {"w-1": {}, "w-2": {}}, allowed_failures=allowed_failures)
    try:
        _kill_mid_run(cluster, tmp_path, kills)
    finally:
        if allowed_failures != 1:
            cluster.stop()


def _kill_mid_run(cluster: Cluster, tmp_path: Path, kills: int) -> None:
    from grader.batch import run_batch
    from grader.course import load_course

    course = load_course(make_course(tmp_path / "course"))
    subs = tmp_path / "subs"
    victim = f"victim-{kills}"
    add_submission(subs, victim, cut=120, sleep=4)
    for k in range(3):
        add_submission(subs, f"bystander-{k}", cut=105 + k)
    killer = WorkerKiller(cluster.address, victim, kills)
    killer.start()
    try:
        summary = run_batch(course, subs, tmp_path / "out", batch_options(cluster.address))
    finally:
        killer.stop.set()
        killer.join(timeout=30)

    assert len(killer.killed) == kills
    runs = stored_runs(tmp_path / "out")
    assert len(runs) == 4 and summary.counts["ok"] == 3 + (kills == 1)
    run = runs[victim]
    verdict = json.loads(run["verdict"])
    assert run["attempts"] == 2
    assert verdict["dask_attempts"][:kills] == killer.killed
    if kills == 1:  # retried once, elsewhere, and graded normally
        assert run["status"] == "ok"
        assert grades_table(tmp_path / "out")[victim][2] == "1"
    else:  # the retry died too: an error verdict that says why
        assert run["status"] == "error"
        assert "failed 2 time(s)" in run["message"] and "given up after one retry" in run["message"]
        assert grades_table(tmp_path / "out")[victim][0] == "error"
    for k in range(3):
        bystander = runs[f"bystander-{k}"]
        assert bystander["status"] == "ok"
        if bystander["attempts"] > 1:
            # Dask keeps a finished result on its worker until the client fetches it: a
            # bystander that finished on the victim's worker just before the kill is lost with
            # it and recomputed, never anything on a worker that stayed up.
            first = json.loads(bystander["verdict"])["dask_attempts"][0]
            assert bystander["attempts"] == 2 and first in killer.killed, bystander


def _grader_run(course: Path, subs: Path, out: Path, address: str) -> list[str]:
    return [sys.executable, "-m", "grader", "run", str(course), "--submissions", str(subs), "--out", str(out),
            "--executor", "dask", "--scheduler", address, "--backend", "bwrap",
            "--no-similarity", "--no-reports"]


def _wait_for_runs(out: Path, n: int, proc: subprocess.Popen, timeout: float = 120) -> None:
    deadline = time.time() + timeout
    while len(stored_runs(out)) < n:
        assert proc.poll() is None, f"grader exited early: {proc.communicate()}"
        assert time.time() < deadline, "the batch made no progress"
        time.sleep(0.1)


def test_sigkilled_batch_resumes_without_rerunning_finished_runs(cluster, tmp_path):
    course = make_course(tmp_path / "course")
    subs, out = tmp_path / "subs", tmp_path / "out"
    for k in range(3):
        add_submission(subs, f"fast-{k}", cut=104 + k)
    for k in range(3):
        add_submission(subs, f"slow-{k}", cut=110 + k, sleep=3)
    cmd = _grader_run(course, subs, out, cluster.address)
    first = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             start_new_session=True, env=CHILD_ENV)
    try:
        _wait_for_runs(out, 2, first)
    finally:
        _stop(first, signal.SIGKILL)
    before = {s: r["finished_at"] for s, r in stored_runs(out).items()}
    assert 2 <= len(before) < 6

    again = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=CHILD_ENV)
    assert again.returncode == 0, again.stderr
    assert f"{6 - len(before)} to run, {len(before)} already graded" in again.stderr
    after = stored_runs(out)
    assert set(after) == {f"fast-{k}" for k in range(3)} | {f"slow-{k}" for k in range(3)}
    for student, finished in before.items():  # not run again
        assert after[student]["finished_at"] == finished
    assert all(s == "ok" for s, *_ in grades_table(out).values())


def _sandboxes_by_worker(workers: dict[str, subprocess.Popen]) -> dict[str, list]:
    """Per worker, the sandbox processes it started (bwrap and the program inside)."""
    import psutil

    found = {}
    for name, w in workers.items():
        try:
            kids = psutil.Process(w.pid).children(recursive=True)
        except psutil.NoSuchProcess:
            continue
        procs = [p for p in kids if _is_sandbox(p)]
        if procs:
            found[name] = procs
    return found


def _is_sandbox(proc) -> bool:
    import psutil

    try:
        return "bwrap" in proc.name() or any("main.py" in a for a in proc.cmdline())
    except psutil.Error:
        return False


def test_ctrl_c_kills_this_batchs_runs_on_the_workers(tmp_path):
    """Ctrl-C on the grader stops the sandboxes already running on the workers at once (not
    at their time limit), and only this batch's: another batch on the same workers goes on."""
    import psutil

    _need_engines()
    own = Cluster(tmp_path / "cluster").start({f"w-{k}": {} for k in range(4)})
    try:
        course = make_course(tmp_path / "course")
        subs, out = tmp_path / "subs", tmp_path / "out"
        add_submission(subs, "quick", cut=110)
        for k in range(2):
            add_submission(subs, f"sleeper-{k}", cut=104 + k, sleep=50)
        # a neighbour's batch (its own output folder) shares the workers
        n_subs, n_out = tmp_path / "n-subs", tmp_path / "n-out"
        add_submission(n_subs, "neighbour", cut=108, sleep=25)
        neighbour = subprocess.Popen(_grader_run(course, n_subs, n_out, own.address),
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                     env=CHILD_ENV, start_new_session=True)
        deadline = time.time() + 60
        while not _sandboxes_by_worker(own.workers):
            assert time.time() < deadline, "the neighbour's run did not start"
            time.sleep(0.1)
        (n_worker,) = _sandboxes_by_worker(own.workers)
        # as from a terminal: a shell starts background jobs (CI runners) with SIGINT ignored
        proc = subprocess.Popen(_grader_run(course, subs, out, own.address),
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                env=CHILD_ENV,
                                preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
        try:
            _wait_for_runs(out, 1, proc)  # "quick" is done; the sleepers are in their sandboxes
            deadline = time.time() + 30
            while len(mine := {w: ps for w, ps in _sandboxes_by_worker(own.workers).items()
                               if w != n_worker}) < 2:
                assert time.time() < deadline, "the sleepers did not start"
                time.sleep(0.1)
            sleepers = [p for ps in mine.values() for p in ps]
            started = time.time()
            proc.send_signal(signal.SIGINT)
            _, err = proc.communicate(timeout=60)
        finally:
            _stop(proc, signal.SIGKILL)
        assert proc.returncode == 130, err
        assert "killing running sandboxes" in err
        _, alive = psutil.wait_procs(sleepers, timeout=15)
        assert not [p for p in alive if p.status() != psutil.STATUS_ZOMBIE]
        assert time.time() - started < 30  # the sleepers had 50 s to go
        assert set(stored_runs(out)) == {"quick"}
        # the neighbour's run was not touched: it finishes and is graded
        n_err = neighbour.communicate(timeout=120)[1]
        assert neighbour.returncode == 0, n_err
        assert grades_table(n_out)["neighbour"][0] == "ok"
    finally:
        own.stop()


def test_scheduler_loss_stops_cleanly_and_a_rerun_resumes(tmp_path):
    _need_engines()
    course = make_course(tmp_path / "course")
    subs, out = tmp_path / "subs", tmp_path / "out"
    for k in range(4):
        add_submission(subs, f"s-{k}", cut=104 + k, sleep=0 if k == 0 else 2)
    first_cluster = Cluster(tmp_path / "c1").start({"w-1": {}})
    try:
        proc = subprocess.Popen(_grader_run(course, subs, out, first_cluster.address),
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                start_new_session=True, env=CHILD_ENV)
        try:
            _wait_for_runs(out, 1, proc)
            first_cluster.kill_scheduler()
            _, err = proc.communicate(timeout=120)
        finally:
            _stop(proc, signal.SIGKILL)
    finally:
        first_cluster.stop()
    assert proc.returncode == 5, err
    assert "error[dask-scheduler]: lost the Dask scheduler" in err
    assert "rerun the same command" in err and "Traceback" not in err
    kept = {s: r["finished_at"] for s, r in stored_runs(out).items()}
    assert 1 <= len(kept) < 4

    second_cluster = Cluster(tmp_path / "c2").start({"w-1": {}, "w-2": {}})
    try:
        again = subprocess.run(_grader_run(course, subs, out, second_cluster.address),
                               capture_output=True, text=True, timeout=300, env=CHILD_ENV)
    finally:
        second_cluster.stop()
    assert again.returncode == 0, again.stderr
    after = stored_runs(out)
    assert len(after) == 4 and all(after[s]["finished_at"] == t for s, t in kept.items())


def test_unreachable_scheduler_is_a_clear_error(tmp_path):
    from grader.executors.dask import DaskExecutor, SchedulerUnavailable

    ex = DaskExecutor("tcp://127.0.0.1:9", connect_timeout_s=2)
    with pytest.raises(SchedulerUnavailable, match="cannot reach the Dask scheduler") as info:
        list(ex.map_unordered([]))
    assert "dask scheduler" in info.value.hint


def test_late_submission_triggers_exactly_one_run(cluster, tmp_path):
    from grader.batch import run_batch
    from grader.course import load_course

    course = load_course(make_course(tmp_path / "course"))
    subs, out = tmp_path / "subs", tmp_path / "out"
    for k in range(3):
        add_submission(subs, f"on-time-{k}", cut=104 + 2 * k)
    first = run_batch(course, subs, out, batch_options(cluster.address))
    assert first.ran == 3
    before = {s: r["finished_at"] for s, r in stored_runs(out).items()}

    add_submission(subs, "late", cut=120)
    # --scheduler also takes a scheduler file (dask scheduler --scheduler-file)
    second = run_batch(course, subs, out, batch_options(str(cluster.base / "scheduler.json")))
    assert (second.ran, second.reused) == (1, 3)
    after = stored_runs(out)
    assert set(after) == {*before, "late"}
    assert all(after[s]["finished_at"] == t for s, t in before.items())
    grades = grades_table(out)
    assert grades["late"][2] == "1" and grades["on-time-2"][2] == "2"  # re-ranked

    third = run_batch(course, subs, out, batch_options(cluster.address))
    assert (third.ran, third.reused) == (0, 4)


def test_data_is_staged_once_per_worker_by_content_hash(cluster, tmp_path):
    from grader.batch import make_task as _make_task
    from grader.course import load_course
    from grader.executors.dask import DaskExecutor
    from grader.intake import scan_submissions

    course = load_course(make_course(tmp_path / "course"))
    subs = tmp_path / "subs"
    for k in range(6):
        add_submission(subs, f"st-{k}", cut=104 + k)
    tasks = [_make_task(s, course, "bwrap") for s in scan_submissions(subs)]

    shared = DaskExecutor(cluster.address, placement="auto")
    results = list(shared.map_unordered(tasks))
    shared.close()
    assert shared.placements_ == {course.data_hash: "shared"}  # every worker sees the path
    assert {r.verdict["status"] for r in results} == {"ok"}

    staged = DaskExecutor(cluster.address, placement="stage")
    results = list(staged.map_unordered(tasks))
    staged.close()
    assert staged.placements_ == {course.data_hash: "stage"}
    assert {r.verdict["status"] for r in results} == {"ok"}, [r.verdict for r in results][:1]
    used = {r.worker.split("/")[-1] for r in results}
    for name in used:
        root = cluster.base / f"staging-{name}"
        assert (root / f"{course.data_hash}.ok").is_file()
        copy = root / course.data_hash
        assert (copy / "test.csv").read_bytes() == (course.data_dir / "test.csv").read_bytes()
        assert sorted(p.name for p in root.iterdir() if not p.name.endswith(".lock")) == [
            course.data_hash, f"{course.data_hash}.ok"]  # one copy, no leftovers


def test_a_machine_side_failure_is_retried_then_reported_not_stored(cluster, tmp_path):
    """A backend missing on the workers: Dask retries once; the batch stores nothing for it."""
    from dataclasses import replace

    from grader.batch import make_task as _make_task
    from grader.course import load_course
    from grader.executors.dask import DaskExecutor
    from grader.intake import scan_submissions

    course = load_course(make_course(tmp_path / "course"))
    subs = tmp_path / "subs"
    add_submission(subs, "fine", cut=110)
    add_submission(subs, "unlucky", cut=110)
    tasks = {s.student: _make_task(s, course, "bwrap") for s in scan_submissions(subs)}
    tasks["unlucky"] = replace(tasks["unlucky"], backend="no-such-backend")
    ex = DaskExecutor(cluster.address)
    results = {r.student: r for r in ex.map_unordered(list(tasks.values()))}
    ex.close()
    assert results["fine"].verdict["status"] == "ok" and results["fine"].attempts == 1
    broken = results["unlucky"]
    assert broken.verdict["status"] == "sandbox_broken" and broken.attempts == 2
    assert "SandboxUnavailable" in broken.verdict["message"]
    assert "no-such-backend" in broken.verdict["message"]


def test_a_scheduler_without_workers_or_a_missing_scheduler_file_is_a_clear_error(tmp_path):
    """No worker ever joins: a clear error after the wait, not Dask's scatter traceback; a
    scheduler file that does not exist is named at once, not dialled as an address."""
    from grader.executors.dask import DaskExecutor, SchedulerUnavailable

    _need_engines()
    started = time.time()
    with pytest.raises(SchedulerUnavailable, match="scheduler file .* does not exist"):
        DaskExecutor(str(tmp_path / "no-such-scheduler.json"))._connect()
    assert time.time() - started < 5
    c = Cluster(tmp_path / "empty").start({})
    try:
        ex = DaskExecutor(c.address, worker_wait_s=2, log=lambda s: None)
        client = ex._connect()
        try:
            with pytest.raises(SchedulerUnavailable, match="no Dask worker joined"):
                ex._check_capacity(client, [])
        finally:
            client.close()
    finally:
        c.stop()
