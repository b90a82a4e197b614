"""Per-run overhead of the sandbox backends: a trivial submission as a bare subprocess,
under bubblewrap and under Docker, N repeats each, in one run.

Run with no arguments: ``.venv/bin/python benchmarks/sandbox_overhead.py``
(optional: ``--repeats N``). Prints the machine, versions, the median and spread of the
wall time per run, the overhead over the bare subprocess and the ratios.
Targets: bwrap <= 0.3 s, Docker <= 1 s of overhead per run.

Then a whole batch: ``--batch N`` (default 200) trivial submissions graded end to end
(intake, sandboxed runs on 2 slots, scoring, grading, similarity; no reports) on each working
backend, in seconds per submission. Target: 200 submissions in <= 90 s on 2 cores (bwrap).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

TRIVIAL = ("import os\nopen(os.path.join(os.environ['GRADER_OUTPUT'], 'submission.csv'), 'w')"
           ".write('id,label\\n1,a\\n')\n")


def _prepare(base: Path, i: int) -> tuple[Path, Path, Path]:
    d = base / f"r{i}"
    (d / "code").mkdir(parents=True)
    (d / "data").mkdir()
    (d / "out").mkdir()
    (d / "code" / "main.py").write_text(TRIVIAL)
    (d / "data" / "train.csv").write_text("id,label\n1,a\n")
    return d / "code", d / "data", d / "out"


def bare(base: Path, i: int) -> float:
    code, data, out = _prepare(base, i)
    env = {"PATH": os.environ.get("PATH", ""), "GRADER_DATA": str(data), "GRADER_OUTPUT": str(out)}
    t = time.perf_counter()
    subprocess.run([sys.executable, "main.py"], cwd=code, env=env, check=True)
    return time.perf_counter() - t


def sandboxed(backend: str):
    from sandbox import Limits, RunSpec, run

    def once(base: Path, i: int) -> float:
        code, data, out = _prepare(base, i)
        spec = RunSpec(code, "main.py", data, out, limits=Limits(time_s=60, memory_mb=1024))
        t = time.perf_counter()
        v = run(spec, backend=backend)
        dt = time.perf_counter() - t
        if v.status != "ok":
            raise RuntimeError(f"{backend}: {v.message}\n{v.stderr}")
        return dt

    return once


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=15)
    ap.add_argument("--batch", type=int, default=200,
                    help="submissions in the end-to-end batch (0 to skip)")
    args = ap.parse_args(argv)
    from sandbox import available_backends

    report = available_backends()
    print(f"machine: {platform.node()} {platform.machine()} {os.cpu_count()} cpus, "
          f"kernel {platform.release()}, python {platform.python_version()}")
    for name in ("bwrap", "docker"):
        info = report[name]
        print(f"{name}: {'works' if info['works'] else 'unavailable: ' + info['reason']} "
              f"{info['details']}")
    runners = {"bare": bare}
    for name in ("bwrap", "docker"):
        if report[name]["works"]:
            runners[name] = sandboxed(name)
    times: dict[str, list[float]] = {n: [] for n in runners}
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        for n, fn in runners.items():  # warm-up: caches, image, interpreter probe
            fn(base / f"warm-{n}", 0)
        for i in range(args.repeats):  # interleaved, so drift hits every backend alike
            for n, fn in runners.items():
                times[n].append(fn(base / n, i))
    med_bare = statistics.median(times["bare"])
    print(f"\nn = {args.repeats} runs each (interleaved), wall seconds per run")
    print(f"{'backend':<8} {'median':>8} {'p10':>8} {'p90':>8} {'overhead':>9} {'ratio':>7} target")
    targets = {"bwrap": 0.3, "docker": 1.0}
    for n, ts in times.items():
        q = statistics.quantiles(ts, n=10) if len(ts) > 1 else [ts[0]] * 9
        med = statistics.median(ts)
        over = med - med_bare
        tgt = targets.get(n)
        verdict = "" if tgt is None else f"<= {tgt} s: {'met' if over <= tgt else 'MISSED'}"
        print(f"{n:<8} {med:8.3f} {q[0]:8.3f} {q[-1]:8.3f} {over:9.3f} {med / med_bare:7.2f} {verdict}")
    if "bwrap" in times and "docker" in times:
        print(f"docker / bwrap ratio: {statistics.median(times['docker']) / statistics.median(times['bwrap']):.2f}")
    if args.batch:
        print(f"\nend-to-end batch: {args.batch} trivial submissions, 2 slots")
        print(f"{'backend':<8} {'seconds':>8} {'s/sub':>7} target")
        for n in runners:
            if n == "bare":
                continue
            took, counts = batch(n, args.batch)
            verdict = f"<= 90 s for 200: {'met' if took * 200 / args.batch <= 90 else 'MISSED'}"
            print(f"{n:<8} {took:8.1f} {took / args.batch:7.3f} {verdict}  {dict(counts)}")
    return 0


def batch(backend: str, n: int):
    """Grade ``n`` stdlib-only submissions end to end; returns (seconds, status counts)."""
    from grader.batch import BatchOptions, run_batch
    from grader.course import load_course
    from tests.integration.batch_helpers import honest, make_course, write_submissions

    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        course = load_course(make_course(base / "course", backend=backend))
        subs = write_submissions(base / "subs", {f"s{i:04d}": honest(0.2 + (i % 60) / 100)
                                                 for i in range(n)})
        t = time.perf_counter()
        summary = run_batch(course, subs, base / "out",
                            BatchOptions(jobs=2, reports=False, quiet=True))
        return time.perf_counter() - t, summary.counts


if __name__ == "__main__":
    sys.exit(main())
