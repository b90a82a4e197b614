#!/usr/bin/env python3
"""Detection quality and speed on IR-Plag (Python): gradebox, copydetect 0.5.0 and Dolos
(``@dodona/dolos-lib``) on the same 467 files, in one run, scored by the benchmark's own
``evaluate.py``.

Run with no arguments. The data set is found at ``../shared/benchmarks/irplag-python`` relative
to the repository (override with ``GRADEBOX_IRPLAG=/path``). The peers are installed on first
run into ``benchmarks/.venv-peers`` (gitignored): copydetect from PyPI into a virtualenv, Dolos
from npm into ``.venv-peers/dolos`` (tree-sitter rebuilt from source when its prebuilt binary
does not load), and each runs in a subprocess, so neither touches the project's environment.
Every tool sees every file at once, with default settings (``--template`` is passed to all
three when a starter exists); a pair's copydetect score is the larger of its two directed
similarities. Two timings per tool: the run inside its process (``run s``, ``cpu s``), and the
whole command from outside, start-up and imports included (``cmd s``, and its CPU time
``cmd cpu``): ``grader similarity`` as a subprocess, copydetect's API in a fresh interpreter,
Dolos's library in a fresh node. The project's bytecode is compiled first, as for an
installed package (copydetect's and Dolos's are, by their installers).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
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
DOLOS = "@dodona/dolos-lib@3.5.1"
DOLOS_DIR = PEERS / "dolos"
LEVELS = ("L1", "L2", "L3", "L4", "L5", "L6")

_PEER_SCRIPT = r"""
import csv, sys, time
from copydetect import CopyDetector
src, out = sys.argv[1], sys.argv[2]
tmpl = sys.argv[3:] and [sys.argv[3]] or []
t, c = time.perf_counter(), time.process_time()
det = CopyDetector(test_dirs=[src], ref_dirs=[src], boilerplate_dirs=tmpl, extensions=["py"],
                   autoopen=False, silent=True, display_t=0.0)
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


_DOLOS_SCRIPT = r"""
import { Dolos } from "@dodona/dolos-lib";
import fs from "fs";
import path from "path";
const [src, out, tmpl] = process.argv.slice(2);
const t = performance.now(); const c = process.cpuUsage();
const files = fs.readdirSync(src).filter(f => f.endsWith(".py")).sort()
  .map(f => path.join(src, f));
const report = await new Dolos({ language: "python" }).analyzePaths(files, tmpl || undefined);
const lines = ["a,b,score"];
for (const p of report.allPairs())
  lines.push(`${path.basename(p.leftFile.path)},${path.basename(p.rightFile.path)},` +
             `${p.similarity.toFixed(6)}`);
const dt = (performance.now() - t) / 1000; const dc = process.cpuUsage(c);
fs.writeFileSync(out, lines.join("\n") + "\n");
console.log(dt, (dc.user + dc.system) / 1e6);
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
        venv.create(PEERS, with_pip=True)  # not clear=True: Dolos lives here too
        subprocess.run([str(py), "-m", "pip", "install", "-q", COPYDETECT], check=True)
    return py


def dolos_script() -> Path:
    """The Dolos runner, with the library installed next to it (npm, first run only)."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        sys.exit("Dolos needs node (>= 18) and npm on PATH")
    script = DOLOS_DIR / "run.mjs"
    DOLOS_DIR.mkdir(parents=True, exist_ok=True)
    script.write_text(_DOLOS_SCRIPT, encoding="utf-8")

    def loads() -> bool:
        probe = "import('@dodona/dolos-lib').then(m => new m.Dolos({language: 'python'}))"
        return subprocess.run(["node", "--input-type=module", "-e", probe], cwd=DOLOS_DIR,
                              capture_output=True).returncode == 0 and subprocess.run(
            ["node", "-e", "require('tree-sitter')"], cwd=DOLOS_DIR,
            capture_output=True).returncode == 0

    if not loads():
        print(f"installing {DOLOS} into {DOLOS_DIR} ...", file=sys.stderr)
        if not (DOLOS_DIR / "package.json").exists():
            (DOLOS_DIR / "package.json").write_text('{"private": true}\n')
        npm = ["npm", "--no-audit", "--no-fund", "--loglevel=error"]
        subprocess.run([*npm, "install", DOLOS], cwd=DOLOS_DIR, check=True)
        if not loads():  # the prebuilt tree-sitter needs a newer libstdc++ than this one
            env = {**os.environ, "npm_config_build_from_source": "true"}
            subprocess.run([*npm, "rebuild", "tree-sitter"], cwd=DOLOS_DIR, check=True, env=env)
    return script


def dolos_version() -> str:
    try:
        pkg = DOLOS_DIR / "node_modules" / "@dodona" / "dolos-lib" / "package.json"
        return json.loads(pkg.read_text())["version"]
    except (OSError, ValueError, KeyError):
        return "?"


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


def run_ours(files: Path, out: Path, template: Path | None) -> tuple[float, float]:
    """Wall and CPU seconds of one in-process run (fewer than 1,000 files: no workers)."""
    from similarity import SimilarityOptions, compare, write_outputs

    subs = {p.stem: p for p in sorted(files.glob("*.py"))}
    t, c = time.perf_counter(), time.process_time()
    # Default settings, as for the peers; pairs under the noise floor are not reported and
    # count as 0, as evaluate.py specifies.
    result = compare(subs, template=template, options=SimilarityOptions())
    dt, dc = time.perf_counter() - t, time.process_time() - c
    write_outputs(result, out)
    return dt, dc


def compile_project() -> None:
    """The project's bytecode, as an installed package has it (``scripts/setup.sh`` does the
    same): with PYTHONDONTWRITEBYTECODE, or after an edit, every timed ``grader`` command would
    otherwise compile the modules it imports (about 0.1 s) and time that too."""
    packages = ["grader", "similarity", "sandbox", "reference", "reports", "diagnostics"]
    subprocess.run([sys.executable, "-m", "compileall", "-q", "-j", "0", "-x",
                    "/demo/(submissions|starter|web)/", *packages], cwd=ROOT, check=True,
                   stdout=subprocess.DEVNULL)


def _timed(cmd: list[str], **kw) -> tuple[subprocess.CompletedProcess, float, float]:
    """A command, its wall seconds seen from outside (start-up and imports included) and
    its CPU seconds (user + system, its threads and children included): on a busy machine
    the wall time measures the neighbours too, the CPU time much less so."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    res = subprocess.run(cmd, check=True, capture_output=True, text=True, **kw)
    wall = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    return res, wall, cpu


def cli_ours(files: Path, out: Path, template: Path | None) -> tuple[float, float]:
    """Wall and CPU seconds of the whole ``grader similarity`` command."""
    grader = Path(sys.executable).with_name("grader")
    cmd = [str(grader)] if grader.exists() else [sys.executable, "-m", "grader"]
    extra = ["--template", str(template)] if template else []
    return _timed([*cmd, "similarity", str(files), "--out", str(out), *extra])[1:]


def run_copydetect(py: Path, files: Path, out: Path, template: Path | None
                   ) -> tuple[float, float, float, float]:
    """copydetect's own run (wall, CPU, inside its process) and the whole command's wall
    and CPU."""
    res, cmd, cmd_cpu = _timed([str(py), "-c", _PEER_SCRIPT, str(files), str(out),
                                *([str(template)] if template else [])])
    wall, cpu = res.stdout.strip().splitlines()[-1].split()
    return float(wall), float(cpu), cmd, cmd_cpu


def run_dolos(script: Path, files: Path, out: Path, template: Path | None
              ) -> tuple[float, float, float, float]:
    """Dolos's own run (wall, CPU, inside node) and the whole command's wall and CPU."""
    res, cmd, cmd_cpu = _timed(["node", str(script), str(files), str(out),
                                *([str(template)] if template else [])], cwd=script.parent)
    wall, cpu = res.stdout.strip().splitlines()[-1].split()
    return float(wall), float(cpu), cmd, cmd_cpu


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeats", type=int, default=3, help="timed runs per tool (median)")
    ap.add_argument("--template", type=Path, default=None,
                    help="starter code given to every tool (IR-Plag has none)")
    args = ap.parse_args()
    data = dataset()
    files = data / "files"
    py = peer_python()
    dolos = dolos_script()
    peer_version = subprocess.run(
        [str(py), "-m", "pip", "show", "copydetect"], capture_output=True, text=True
    ).stdout
    peer_version = next(
        (ln.split()[-1] for ln in peer_version.splitlines() if ln.startswith("Version")), "?"
    )
    compile_project()
    work = Path(tempfile.mkdtemp(prefix="irplag-"))
    times: dict[str, list[tuple[float, ...]]] = {"gradebox": [], "copydetect": [],
                                                          "Dolos": []}
    for r in range(args.repeats):
        wall, cpu = run_ours(files, work / "ours", args.template)
        times["gradebox"].append((wall, cpu, *cli_ours(files, work / f"cli{r}", args.template)))
        times["copydetect"].append(run_copydetect(py, files, work / f"copydetect{r}.csv",
                                                  args.template))
        times["Dolos"].append(run_dolos(dolos, files, work / f"dolos{r}.csv", args.template))
    auc = {"gradebox": evaluate(data, work / "ours" / "pairs.csv"),
           "copydetect": evaluate(data, work / "copydetect0.csv"),
           "Dolos": evaluate(data, work / "dolos0.csv")}
    med = {k: tuple(statistics.median(t[i] for t in v) for i in range(4))
           for k, v in times.items()}

    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, load average "
        f"{os.getloadavg()[0]:.1f}; Python {platform.python_version()}; "
        f"copydetect {peer_version}; Dolos {dolos_version()}; "
        f"n = {len(list(files.glob('*.py')))} files; median of {args.repeats} runs"
    )
    cols = ["overall", *LEVELS]
    head = f"{'tool':18s} " + " ".join(f"{c:>7s}" for c in cols)
    print(head + f" {'run s':>7s} {'cpu s':>7s} {'cmd s':>7s} {'cmd cpu':>7s}")
    for name, res in auc.items():
        print(f"{name:18s} " + " ".join(f"{res.get(k, float('nan')):7.3f}" for k in cols)
              + " " + " ".join(f"{x:7.2f}" for x in med[name]))
    for peer in ("copydetect", "Dolos"):
        print(f"{'ratio vs ' + peer:18s} "
              + " ".join(f"{auc['gradebox'][k] / auc[peer][k]:7.2f}" for k in cols) + " "
              + " ".join(f"{med['gradebox'][i] / med[peer][i]:7.2f}" for i in range(4)))
    for peer in ("copydetect", "Dolos"):
        print(f"speed-up vs {peer}: {med[peer][0] / med['gradebox'][0]:.1f}x run, "
              f"{med[peer][2] / med['gradebox'][2]:.1f}x whole command "
              f"({med[peer][3] / med['gradebox'][3]:.1f}x its CPU time)")
    print("targets: AUC above every peer overall and at L1-L3; whole command >= 5x faster "
          "than copydetect")
    print(f"pairs: {work}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
