"""Executors side by side: the local slots vs a Dask cluster on this machine, same runs.

Grades ``--n`` trivial submissions (each writes its predictions at once) twice in one run:
with ``LocalExecutor(jobs=2)`` and with ``DaskExecutor`` on a cluster of ``--workers``
single-thread workers started here (scheduler and workers as separate processes, as in
production). Both sides run the same sandboxes with the same parallelism, so the difference is
the executor's own cost.

Per-task overhead = (wall time x parallel slots - sum of the runs' own durations) / n, where a
run's own duration is ``finished_at - started_at`` measured inside ``execute_run`` (writing the
submission's files, the sandbox, reading the output back). The target for Dask: at most 50 ms
per task beyond that.

Run: ``.venv/bin/python benchmarks/executor.py [--n 200] [--repeats 1] [--backend bwrap]``
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PROGRAM = """\
import os
ids = open(os.path.join(os.environ["GRADER_DATA"], "test.csv")).read().split()[1:]
with open(os.path.join(os.environ["GRADER_OUTPUT"], "submission.csv"), "w") as f:
    f.write("id,label\\n" + "".join(f"{i},{int(i) % 2}\\n" for i in ids))
"""


def make_inputs(base: Path, n: int, backend: str):
    """A tiny course and ``n`` submissions → the run tasks the batch would make."""
    from grader.batch import make_task as _make_task
    from grader.course import load_course
    from grader.intake import scan_submissions

    course_dir = base / "course"
    (course_dir / "data").mkdir(parents=True)
    (course_dir / "hidden").mkdir()
    (course_dir / "data" / "train.csv").write_text("id,label\n1,0\n2,1\n")
    (course_dir / "data" / "test.csv").write_text("id\n" + "".join(f"{i}\n" for i in range(50)))
    (course_dir / "hidden" / "test_labels.csv").write_text(
        "id,label\n" + "".join(f"{i},{i % 2}\n" for i in range(50)))
    (course_dir / "course.toml").write_text(
        f'[competition]\nname = "bench"\n\n[sandbox]\nbackend = "{backend}"\n'
        "time_limit_s = 60\nmemory_mb = 512\ncpus = 1\nprocesses = 64\n")
    subs = base / "subs"
    for k in range(n):
        (subs / f"s{k:04d}").mkdir(parents=True)
        (subs / f"s{k:04d}" / "main.py").write_text(f"# student {k}\n" + PROGRAM)
    course = load_course(course_dir)
    return [_make_task(s, course, backend) for s in scan_submissions(subs)]


def start_cluster(base: Path, workers: int) -> tuple[str, list[subprocess.Popen]]:
    """``dask scheduler`` + ``workers`` x ``dask worker --nthreads 1``; returns the address."""
    from distributed import Client

    dask = Path(sys.executable).parent / "dask"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    sched_file = base / "scheduler.json"
    log = (base / "cluster.log").open("w")
    procs = [subprocess.Popen([str(dask), "scheduler", "--scheduler-file", str(sched_file),
                               "--port", "0", "--host", "127.0.0.1", "--no-dashboard"],
                              env=env, stdout=log, stderr=log, start_new_session=True)]
    while not sched_file.is_file():
        time.sleep(0.1)
    time.sleep(0.2)
    address = json.loads(sched_file.read_text())["address"]
    for k in range(workers):
        procs.append(subprocess.Popen(
            [str(dask), "worker", address, "--name", f"bench-{k}", "--nthreads", "1",
             "--no-dashboard"], env=env, stdout=log, stderr=log, start_new_session=True))
    with Client(address, timeout=30, set_as_default=False) as client:
        client.wait_for_workers(workers, timeout=120)
    return address, procs


def stop_cluster(procs: list[subprocess.Popen]) -> None:
    for p in reversed(procs):  # workers first, then the scheduler
        try:
            os.killpg(p.pid, signal.SIGTERM)
            p.wait(timeout=20)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


def measure(make_executor, tasks, slots: int) -> dict:
    """One pass: wall time, throughput, the runs' own time and the per-task overhead."""
    ex = make_executor()
    t0 = time.perf_counter()
    results = list(ex.map_unordered(tasks))
    wall = time.perf_counter() - t0
    ex.close()
    bad = [r.verdict.get("message") for r in results if r.verdict["status"] != "ok"]
    if bad or len(results) != len(tasks):
        raise SystemExit(f"{len(bad)} runs failed, e.g. {bad[:1]}")
    own = [r.finished_at - r.started_at for r in results]
    sandbox = [r.verdict["wall_s"] for r in results]
    return {"wall_s": wall, "per_s": len(tasks) / wall, "own_s": statistics.mean(own),
            "sandbox_s": statistics.mean(sandbox),
            "overhead_ms": 1000 * (wall * slots - sum(own)) / len(tasks)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=200, help="submissions [200]")
    ap.add_argument("--workers", type=int, default=2, help="Dask workers = local slots [2]")
    ap.add_argument("--repeats", type=int, default=1, help="passes per executor [1]")
    ap.add_argument("--backend", default="bwrap", choices=["bwrap", "docker", "none"])
    args = ap.parse_args()

    import dask
    import distributed

    from grader.executors.dask import DaskExecutor
    from grader.executors.local import LocalExecutor

    base = Path(tempfile.mkdtemp(prefix="gradebox-bench-executor-"))
    procs: list[subprocess.Popen] = []
    try:
        tasks = make_inputs(base, args.n, args.backend)
        t0 = time.perf_counter()
        address, procs = start_cluster(base, args.workers)
        startup = time.perf_counter() - t0
        rows: dict[str, list[dict]] = {"local": [], "dask": []}
        makers = {"local": lambda: LocalExecutor(jobs=args.workers),
                  "dask": lambda: DaskExecutor(address, log=lambda s: None)}
        for rep in range(args.repeats):  # interleaved, order alternating: drift hits both
            for name in (("local", "dask") if rep % 2 == 0 else ("dask", "local")):
                rows[name].append(measure(makers[name], tasks, args.workers))
                r = rows[name][-1]
                print(f"pass {rep + 1} {name:<5}: wall {r['wall_s']:.2f} s, run own "
                      f"{r['own_s']:.3f} s, overhead {r['overhead_ms']:.1f} ms/task",
                      file=sys.stderr)
    finally:
        stop_cluster(procs)
        shutil.rmtree(base, ignore_errors=True)

    med = {k: {m: statistics.median(r[m] for r in v) for m in v[0]} for k, v in rows.items()}
    print(f"machine: {platform.node()} {platform.machine()}, {os.cpu_count()} CPUs; "
          f"python {platform.python_version()}, dask {dask.__version__}, "
          f"distributed {distributed.__version__}; backend {args.backend}")
    print(f"n={args.n} runs, {args.workers} slots / workers, median of {args.repeats} pass(es); "
          f"cluster start {startup:.1f} s (not counted)")
    print(f"{'executor':<8} {'wall s':>8} {'runs/s':>8} {'run own s':>10} {'sandbox s':>10} "
          f"{'overhead ms/task':>17}")
    for k in ("local", "dask"):
        m = med[k]
        print(f"{k:<8} {m['wall_s']:>8.2f} {m['per_s']:>8.2f} {m['own_s']:>10.3f} "
              f"{m['sandbox_s']:>10.3f} {m['overhead_ms']:>17.1f}")
    extra = med["dask"]["overhead_ms"] - med["local"]["overhead_ms"]
    print(f"ratio dask/local: throughput {med['dask']['per_s'] / med['local']['per_s']:.3f}, "
          f"wall {med['dask']['wall_s'] / med['local']['wall_s']:.3f}")
    print(f"dask overhead beyond the sandbox's own: {med['dask']['overhead_ms']:.1f} ms/task "
          f"({extra:+.1f} ms/task vs local); target <= 50 ms: "
          f"{'met' if med['dask']['overhead_ms'] <= 50 else 'NOT met'}")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory of the grader process: {peak:.0f} MiB; load average now "
          f"{os.getloadavg()[0]:.1f} (other users of the machine add noise)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
