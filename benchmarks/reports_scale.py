"""How long ``reports.render_all`` takes for a class of 500 (target: at most 10 s).

Fills a real SQLite store through the ``Store`` API (``tests.synthetic_batch.make_batch``: every
status, reference models, 1500 reported pairs of which about 500 carry fragments — the
similarity engine's default evidence budget — and real code files), then renders everything
three times in fresh processes (imports included, as ``grader report`` pays them) and reports
the median. Wall time depends on what else the machine runs, so CPU time and the load average
are printed too.

Run: ``.venv/bin/python benchmarks/reports_scale.py [--students 500] [--pairs 1500]``
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET_S = 10.0

_CHILD = """
import json, resource, sys, time
t0, c0 = time.perf_counter(), time.process_time()
from grader.batch.outputs import render_reports
info = render_reports(__import__('pathlib').Path(sys.argv[1]))
print(json.dumps({"wall_s": time.perf_counter() - t0, "cpu_s": time.process_time() - c0,
                  "render_s": info["seconds"], "pairs": info["pairs"],
                  "students": info["students"],
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--students", type=int, default=500)
    ap.add_argument("--pairs", type=int, default=1500)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    sys.path.insert(0, str(ROOT))
    from tests.synthetic_batch import make_batch

    with tempfile.TemporaryDirectory(prefix="reports-scale-") as tmp:
        out = Path(tmp) / "out"
        t = time.perf_counter()
        make_batch(out, students=args.students, pairs=args.pairs, seed=1,
                   release_private=True, release_similarity=True)
        fill_s = time.perf_counter() - t
        runs = []
        for _ in range(args.repeats):
            res = subprocess.run([sys.executable, "-c", _CHILD, str(out)], cwd=ROOT, check=True,
                                 capture_output=True, text=True)
            runs.append(json.loads(res.stdout.strip().splitlines()[-1]))
        size = sum(p.stat().st_size for p in (out / "reports").rglob("*") if p.is_file())
        files = sum(1 for p in (out / "reports").rglob("*") if p.is_file())
    import jinja2
    import matplotlib
    import pygments

    wall = statistics.median(r["wall_s"] for r in runs)
    cpu = statistics.median(r["cpu_s"] for r in runs)
    print(f"machine: {platform.machine()} {os.cpu_count()} cpus, {platform.python_version()}, "
          f"jinja2 {jinja2.__version__}, pygments {pygments.__version__}, "
          f"matplotlib {matplotlib.__version__}; load average {os.getloadavg()[0]:.1f}")
    print(f"n: {args.students} students, {args.pairs} pairs requested, "
          f"{runs[0]['pairs']} pair pages, {files} files, {size / 1e6:.1f} MB "
          f"(store filled in {fill_s:.1f} s)")
    print(f"{'measure':<28}{'median':>10}{'runs':>28}")
    for key, label in (("wall_s", "render_all wall (s)"), ("cpu_s", "render_all CPU (s)"),
                       ("peak_rss_mb", "peak RSS (MB)")):
        vals = [r[key] for r in runs]
        print(f"{label:<28}{statistics.median(vals):>10.2f}{' '.join(f'{v:.2f}' for v in vals):>28}")
    print(f"ratio to the {TARGET_S:g} s target: wall {wall / TARGET_S:.2f}, CPU {cpu / TARGET_S:.2f}")
    return 0 if min(wall, cpu) <= TARGET_S else 1


if __name__ == "__main__":
    raise SystemExit(main())
