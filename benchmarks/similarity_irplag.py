#!/usr/bin/env python3
"""Detection quality and speed on IR-Plag (Python): gradebox's engine and copydetect 0.5.0 on
the same 467 files, in one run, scored by the benchmark's own ``evaluate.py``.

Run with no arguments. The data set is found at ``../shared/benchmarks/irplag-python`` relative
to the repository (override with ``GRADEBOX_IRPLAG=/path``). copydetect is installed from PyPI
into ``benchmarks/.venv-peers`` on first run (gitignored) and run there in a subprocess, so it
never touches the project's environment. Both tools see every file of every task at once, with
default settings; a pair's copydetect score is the larger of its two directed similarities.
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
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
PEERS = ROOT / "benchmarks" / ".venv-peers"
COPYDETECT = "copydetect==0.5.0"
LEVELS = ("L1", "L2", "L3", "L4", "L5", "L6")

_PEER_SCRIPT = r"""
import csv, sys, time
from copydetect import CopyDetector
src, out = sys.argv[1], sys.argv[2]
t, c = time.perf_counter(), time.process_time()
det = CopyDetector(test_dirs=[src], ref_dirs=[src], extensions=["py"], autoopen=False,
                   silent=True, display_t=0.0)
det.run()
dt, dc = time.perf_counter() - t, time.process_time() - c
sim = det.similarity_matrix
with open(out, "w", newline="") as fh:
    w = csv.writer(fh)
    w.writerow(["a", "b", "score"])
    for i, a in enumerate(det.test_files):
        for j, b in enumerate(det.ref_files):
            if i < j and sim[i, j, 0] >= 0:
                w.writerow([a, b, f"{max(sim[i, j, 0], sim[i, j, 1]):.6f}"])
print(dt, dc)
"""


def dataset() -> Path:
    d = Path(
        os.environ.get("GRADEBOX_IRPLAG", ROOT.parent / "shared" / "benchmarks" / "irplag-python")
    )
    if not (d / "files").is_dir() or not (d / "evaluate.py").is_file():
        sys.exit(
            f"IR-Plag not found at {d}: set GRADEBOX_IRPLAG to the folder holding "
            "files/, labels.csv and evaluate.py"
        )
    return d


def peer_python() -> Path:
    py = PEERS / "bin" / "python"
    ok = (
        py.exists()
        and subprocess.run([str(py), "-c", "import copydetect"], capture_output=True).returncode
        == 0
    )
    if not ok:
        print(f"installing {COPYDETECT} into {PEERS} ...", file=sys.stderr)
        venv.create(PEERS, with_pip=True, clear=True)
        subprocess.run([str(py), "-m", "pip", "install", "-q", COPYDETECT], check=True)
    return py


def evaluate(data: Path, pairs_csv: Path) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, str(data / "evaluate.py"), str(pairs_csv)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    res = {}
    for line in out.splitlines():
        if line.startswith("AUC "):
            key, val = line[4:].split(":")
            res[key.strip()] = float(val)
    return res


def run_ours(files: Path, out: Path) -> tuple[float, float]:
    """Wall and CPU seconds of one in-process run (fewer than 1,000 files: no workers)."""
    from similarity import SimilarityOptions, compare, write_outputs

    subs = {p.stem: p for p in sorted(files.glob("*.py"))}
    t, c = time.perf_counter(), time.process_time()
    # Default settings, as for copydetect: pairs under min_score (0.15) are not reported and
    # count as 0, as evaluate.py specifies (min_score=0 gives the same AUCs to 3 decimals).
    result = compare(subs, options=SimilarityOptions())
    dt, dc = time.perf_counter() - t, time.process_time() - c
    write_outputs(result, out)
    return dt, dc


def run_copydetect(py: Path, files: Path, out: Path) -> tuple[float, float]:
    """Wall and CPU seconds of copydetect's own run, measured inside its process."""
    res = subprocess.run([str(py), "-c", _PEER_SCRIPT, str(files), str(out)], check=True,
                         capture_output=True, text=True)
    wall, cpu = res.stdout.strip().splitlines()[-1].split()
    return float(wall), float(cpu)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeats", type=int, default=3, help="timed runs per tool (median)")
    args = ap.parse_args()
    data = dataset()
    files = data / "files"
    py = peer_python()
    peer_version = subprocess.run(
        [str(py), "-m", "pip", "show", "copydetect"], capture_output=True, text=True
    ).stdout
    peer_version = next(
        (ln.split()[-1] for ln in peer_version.splitlines() if ln.startswith("Version")), "?"
    )
    work = Path(tempfile.mkdtemp(prefix="irplag-"))
    ours_t, peer_t = [], []
    for r in range(args.repeats):
        ours_t.append(run_ours(files, work / "ours"))
        peer_t.append(run_copydetect(py, files, work / f"copydetect{r}.csv"))
    ours = evaluate(data, work / "ours" / "pairs.csv")
    peer = evaluate(data, work / "copydetect0.csv")
    t_ours, t_peer = (statistics.median(t[0] for t in ours_t),
                      statistics.median(t[0] for t in peer_t))
    c_ours, c_peer = (statistics.median(t[1] for t in ours_t),
                      statistics.median(t[1] for t in peer_t))

    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, load average "
        f"{os.getloadavg()[0]:.1f}; Python {platform.python_version()}; "
        f"copydetect {peer_version}; n = {len(list(files.glob('*.py')))} files; "
        f"median of {args.repeats} runs"
    )
    cols = ["overall", *LEVELS]
    print(f"{'tool':12s} " + " ".join(f"{c:>7s}" for c in cols) + f" {'wall s':>8s}"
          f" {'cpu s':>8s}")
    for name, res, t, c in (("gradebox", ours, t_ours, c_ours),
                            ("copydetect", peer, t_peer, c_peer)):
        print(f"{name:12s} " + " ".join(f"{res.get(k, float('nan')):7.3f}" for k in cols)
              + f" {t:8.2f} {c:8.2f}")
    print(f"{'ratio':12s} " + " ".join(f"{ours[k] / peer[k]:7.2f}" for k in cols)
          + f" {t_ours / t_peer:8.2f} {c_ours / c_peer:8.2f}")
    print(f"speed-up vs copydetect: {t_peer / t_ours:.1f}x wall, {c_peer / c_ours:.1f}x CPU; "
          "targets: AUC >= 0.85 overall and >= 0.75 per level, >= 5x faster")
    print(f"pairs: {work / 'ours' / 'pairs.csv'} and {work / 'copydetect0.csv'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
