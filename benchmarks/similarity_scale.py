#!/usr/bin/env python3
"""Scale of the plagiarism engine: all pairs of synthetic classes, and a class against a large
archive through the fingerprint index. Time and peak memory, each size in its own process.

Run with no arguments for the full sizes (classes of 1,000 and 5,000 submissions of 150-300
lines; 300 submissions against a 50,000-file archive). ``--quick`` runs small sizes.

Synthetic submissions are realistic in their overlap: every student shares the course's
imports and data loading, a tenth share one of a few popular web snippets, 2% copy a peer
(with renaming and reordering), and the rest is each student's own code, generated from a
grammar of ML-script statements with the student's own identifiers.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

COMMON = '''import os
import numpy as np
import pandas as pd
import torch
from sklearn.model_selection import train_test_split

DATA = os.environ.get("GRADER_DATA", "data")
OUT = os.environ.get("GRADER_OUTPUT", "out")
train = pd.read_csv(os.path.join(DATA, "train.csv"))
test = pd.read_csv(os.path.join(DATA, "test.csv"))
'''

WORDS = ("data model loss score feat batch epoch layer weight grad pred label value item count "
         "total mean std norm scale rate step size index row col mask sample point dist kernel "
         "tree node leaf split gain cost error acc best worst fold part chunk block buffer "
         "frame table image pixel channel width height depth hidden output input result temp "
         "alpha beta gamma delta sigma theta lam mu eps tol").split()
FUNCS = ("np.mean np.sum np.max np.min np.argmax np.sqrt np.exp np.log np.abs np.dot np.clip "
         "np.zeros np.ones np.arange np.concatenate np.unique np.sort np.argsort len range "
         "float int abs max min sorted enumerate zip list dict print round sum "
         "torch.tensor torch.relu torch.sigmoid torch.cat").split()


class Gen:
    """A random ML-script writer with its own vocabulary (one per student)."""

    def __init__(self, seed: int):
        self.r = random.Random(seed)
        self.vocab = [self._ident() for _ in range(40)]

    def _ident(self) -> str:
        r = self.r
        parts = r.sample(WORDS, r.choice((1, 2, 2, 3)))
        return "_".join(parts) if r.random() < 0.8 else parts[0] + "".join(
            p.title() for p in parts[1:])

    def name(self) -> str:
        return self.r.choice(self.vocab)

    def expr(self, depth: int = 0) -> str:
        r = self.r
        c = r.random()
        if depth > 2 or c < 0.3:
            return self.name() if r.random() < 0.7 else str(r.choice((0, 1, 2, 10, 0.5, 1e-3,
                                                                       255, 42)))
        if c < 0.55:
            return f"{self.expr(depth + 1)} {r.choice('+-*/')} {self.expr(depth + 1)}"
        if c < 0.8:
            args = ", ".join(self.expr(depth + 1) for _ in range(r.randint(1, 3)))
            return f"{r.choice(FUNCS)}({args})"
        if c < 0.9:
            return f"{self.name()}[{self.expr(depth + 1)}]"
        return f"{self.name()}.{r.choice(('shape', 'T', 'values', 'size', 'dtype'))}"

    def block(self, indent: int, n: int, depth: int = 0) -> list[str]:
        r, pad, out = self.r, "    " * indent, []
        for _ in range(n):
            c = r.random()
            if depth < 2 and c < 0.15:
                out.append(f"{pad}for {self.name()} in range({self.expr(2)}):")
                out += self.block(indent + 1, r.randint(1, 4), depth + 1)
            elif depth < 2 and c < 0.27:
                out.append(f"{pad}if {self.expr(1)} {r.choice(('<', '>', '==', '>='))} "
                           f"{self.expr(2)}:")
                out += self.block(indent + 1, r.randint(1, 3), depth + 1)
                if r.random() < 0.4:
                    out.append(f"{pad}else:")
                    out += self.block(indent + 1, r.randint(1, 2), depth + 1)
            elif depth < 2 and c < 0.32:
                out.append(f"{pad}while {self.name()} < {self.expr(2)}:")
                out += self.block(indent + 1, r.randint(1, 3), depth + 1)
            elif c < 0.4:  # a comment, then a statement (a block is never only comments)
                out.append(f"{pad}# {' '.join(r.sample(WORDS, r.randint(3, 7)))}")
                out.append(f"{pad}{self.name()} = {self.expr()}")
            elif c < 0.47:
                out.append(f"{pad}print(\"{' '.join(r.sample(WORDS, 3))}:\", {self.expr(1)})")
            elif c < 0.55:
                out.append(f"{pad}{self.name()} += {self.expr(1)}")
            else:
                out.append(f"{pad}{self.name()} = {self.expr()}")
        return out

    def function(self) -> list[str]:
        r = self.r
        args = ", ".join(r.sample(self.vocab, r.randint(1, 3)))
        body = self.block(1, r.randint(4, 10))
        return [f"def {self._ident()}({args}):", *body, f"    return {self.expr(1)}", "", ""]


def snippet_pool(n: int, seed: int) -> list[list[str]]:
    """Popular web snippets (functions) that many students paste."""
    return [Gen(seed * 1000 + i).function() for i in range(n)]


def make_submission(i: int, pool: list[list[str]], target_lines: int) -> str:
    g = Gen(i)
    lines = COMMON.splitlines() + [""]
    r = g.r
    if r.random() < 0.1:
        lines += r.choice(pool)
    while len(lines) < target_lines:
        lines += g.function()
    lines += [f"{g.name()} = {g.expr()}", "print('done')"]
    return "\n".join(lines) + "\n"


def disguise(src: str, seed: int) -> str:
    """A peer copy: identifiers renamed and functions reordered."""
    r = random.Random(seed)
    parts = src.split("\n\n\n")
    head, funcs = parts[0], parts[1:]
    r.shuffle(funcs)
    out = "\n\n\n".join([head, *funcs])
    for w in r.sample(WORDS, 12):
        out = out.replace(w, w[::-1] + "x")
    return out


def write_class(folder: Path, n: int, seed: int, lines=(150, 300), copy_rate=0.02) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    pool = snippet_pool(5, seed)
    r = random.Random(seed)
    srcs = []
    for i in range(n):
        if srcs and r.random() < copy_rate:
            src = disguise(r.choice(srcs), seed + i)
        else:
            src = make_submission(seed * 1_000_000 + i, pool, r.randint(*lines))
        srcs.append(src)
        (folder / f"s{i:05d}.py").write_text(src)


def _sample_memory(pid: int, stop: threading.Event, peak: list[int]) -> None:
    """Peak of the summed RSS of process ``pid`` and all its descendants, sampled every 0.1 s
    from this process (where no cgroup measures it): a sampling thread in the measured process
    would make it multi-threaded, and the engine forks only while its process has one thread.
    RSS is cheap to read (reading PSS walks the page tables, which slowed the measured run by
    a fifth) but counts the pages a forked worker shares with its parent in both."""
    try:
        me = psutil.Process(pid)
    except psutil.Error:
        return
    while not stop.is_set():
        total = 0
        try:
            family = [me, *me.children(recursive=True)]
        except psutil.Error:
            return
        for p in family:
            try:
                total += p.memory_info().rss
            except psutil.Error:
                pass
        peak[0] = max(peak[0], total)
        stop.wait(0.1)


def _memory_cgroup():
    """A memory cgroup for the measured process and its descendants (its peak is exact and
    costs nothing to keep), or None where this process cannot make one (not root)."""
    try:
        from sandbox import _cgroup
        from sandbox.limits import Limits

        cg = _cgroup.create(Limits(memory_mb=1 << 20, cpus=float(os.cpu_count() or 1),
                                   processes=1 << 16))
    except Exception:  # noqa: BLE001 - no cgroups here: sampled instead
        return None
    if "memory" not in cg.controls:
        cg.destroy()
        return None
    return cg


def child(args: argparse.Namespace) -> None:
    from similarity import SimilarityOptions, compare

    subs = {p.stem: p for p in sorted(Path(args.cls).iterdir())}
    t = time.perf_counter()
    behaviour = _behaviour(sorted(subs), args.behaviour_ids) if args.behaviour_ids else None
    t_behaviour = time.perf_counter() - t
    r = compare(subs, archive=Path(args.archive) if args.archive else None,
                options=SimilarityOptions(), behaviour=behaviour)
    dt = time.perf_counter() - t
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 2**20
    # Reading workers report their CPU time (a forkserver's are not this process's children).
    cpu = r.stats["cpu_seconds"]["this_process"] + r.stats["cpu_seconds"]["workers"]
    print(json.dumps({"seconds": dt, "behaviour_fit_s": t_behaviour, "cpu_s": cpu,
                      "peak_mib": peak_mib, "pairs": len(r.pairs),
                      "flagged": sum(p.flagged for p in r.pairs), "stats": r.stats}))


def _behaviour(names: list[str], n_ids: int):
    """A fitted behaviour model (as the batch makes it) on simulated hidden-test predictions:
    10 classes, each student's own error rate (3-30 %), errors on ids of varied difficulty with
    id-specific popular confusions; every 50th student copies the previous one's predictions."""
    import numpy as np

    from similarity.behaviour import BehaviourModel
    from similarity.behaviour_identity import IdentityEvidence

    rng = np.random.default_rng(0)
    truth = rng.integers(0, 10, n_ids)
    hard = rng.beta(0.6, 3.0, n_ids)
    confusion = (truth + rng.integers(1, 10, n_ids)) % 10
    preds = {}
    for i, name in enumerate(names):
        if i % 50 == 1:
            preds[name] = preds[names[i - 1]]
            continue
        wrong = rng.random(n_ids) < np.clip(hard * rng.uniform(0.1, 1.0), 0, 1)
        popular = rng.random(n_ids) < 0.6
        p = truth.copy()
        p[wrong] = np.where(popular[wrong], confusion[wrong],
                            (truth[wrong] + rng.integers(1, 10, wrong.sum())) % 10)
        preds[name] = p.tolist()
    return IdentityEvidence(BehaviourModel.fit(preds, truth.tolist()))


def measure(cls: Path, archive: Path | None = None, behaviour_ids: int = 0) -> dict:
    cmd = [sys.executable, __file__, "--child", "--cls", str(cls),
           "--behaviour-ids", str(behaviour_ids)]
    if archive:
        cmd += ["--archive", str(archive)]
    cg = _memory_cgroup()
    try:
        procs = [str(f) for f in cg.procs_files()] if cg is not None else []

        def join_cgroup() -> None:  # in the child, before it runs anything
            for f in procs:
                with open(f, "w") as fh:
                    fh.write(str(os.getpid()))

        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                cwd=ROOT, preexec_fn=join_cgroup if procs else None)
        stop, peak = threading.Event(), [0]
        sampler = None
        if cg is None:
            sampler = threading.Thread(target=_sample_memory, args=(proc.pid, stop, peak),
                                       daemon=True)
            sampler.start()
        out, err = proc.communicate()
        stop.set()
        if sampler is not None:
            sampler.join()
        if cg is not None:
            peak[0] = cg.peak_memory_bytes() or 0
    finally:
        if cg is not None:
            cg.destroy()
    if proc.returncode != 0:
        raise subprocess.CalledProcessError(proc.returncode, cmd, out, err)
    m = json.loads(out.strip().splitlines()[-1])
    m["memory"] = "cgroup peak" if cg is not None else "sampled RSS"
    m["peak_mib"] = max(m["peak_mib"], peak[0] / 2**20)
    return m


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="1000,5000", help="class sizes for all pairs")
    ap.add_argument("--archive-class", type=int, default=300)
    ap.add_argument("--archive-size", type=int, default=50_000, help="0: no archive run")
    ap.add_argument("--quick", action="store_true", help="sizes 200,500 and a 2,000 archive")
    ap.add_argument("--keep", type=Path, default=None, help="keep the generated files here")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--cls", help=argparse.SUPPRESS)
    ap.add_argument("--archive", help=argparse.SUPPRESS)
    ap.add_argument("--behaviour-ids", type=int, default=0,
                    help="also the behavioural evidence: simulated predictions on this many "
                         "hidden test ids, fitted and scored with the code (0: code only)")
    args = ap.parse_args()
    if args.child:
        child(args)
        return 0
    if args.quick:
        args.sizes, args.archive_size = "200,500", 2000
    sizes = [int(s) for s in args.sizes.split(",") if s]
    work = args.keep or Path(tempfile.mkdtemp(prefix="simscale-"))
    print(f"machine: {platform.machine()} {os.cpu_count()} cores, Python "
          f"{platform.python_version()}, {platform.system()} {platform.release()}")
    rows = []
    try:
        for n in sizes:
            cls = work / f"class{n}"
            if not cls.exists():
                write_class(cls, n, seed=n)
            m = measure(cls, behaviour_ids=args.behaviour_ids)
            label = f" + behaviour x {args.behaviour_ids} ids" if args.behaviour_ids else ""
            rows.append((f"all pairs, class of {n}{label}", n * (n - 1) // 2, m))
            print(f"  done: class of {n}: {m['seconds']:.1f} s", file=sys.stderr)
        cls = work / f"class{args.archive_class}-a"
        arch = work / f"archive{args.archive_size}"
        if args.archive_size == 0:  # --archive-size 0: the all-pairs runs only
            return _table(rows)
        if not cls.exists():
            write_class(cls, args.archive_class, seed=7)
        if not arch.exists():
            write_class(arch, args.archive_size, seed=11, lines=(100, 200), copy_rate=0.0)
            # Three past-year copies of this year's students must be found through the index.
            for i in sorted({3 % args.archive_class, args.archive_class // 6,
                             args.archive_class // 2}):
                src = (cls / f"s{i:05d}.py").read_text()
                (arch / f"old{i:05d}.py").write_text(disguise(src, i))
        m = measure(cls, arch)
        rows.append((f"class of {args.archive_class} vs archive of {args.archive_size}",
                     args.archive_class * (args.archive_size + 3), m))
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)
    return _table(rows)


def _table(rows: list) -> int:
    print()
    print(f"load average during the runs: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores "
          "(wall time includes waiting for the CPU; cpu s is this engine's own work)")
    print(f"{'run':44s} {'pairs':>12s} {'wall s':>7s} {'cpu s':>7s} {'peak MiB':>9s} "
          f"{'reported':>9s} {'flagged':>8s} {'wall/60 s':>9s} {'peak/4 GB':>9s}")
    for name, npairs, m in rows:
        print(f"{name:44s} {npairs:12d} {m['seconds']:7.1f} {m['cpu_s']:7.1f} "
              f"{m['peak_mib']:9.0f} {m['pairs']:9d} {m['flagged']:8d} "
              f"{m['seconds'] / 60:9.2f} {m['peak_mib'] / 4096:9.2f}")
    for name, _, m in rows:
        st = m["stats"]
        print(f"{name}: stages {json.dumps({k: round(v, 1) for k, v in st['seconds'].items()})}"
              f", sketched {st['sketched']}, sources scored {st['sources_scored']}"
              f" (index {st['archive_index']}), memory: {m.get('memory', '?')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
