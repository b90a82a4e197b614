#!/usr/bin/env python3
"""Scale of the behavioural statistic (``similarity.behaviour``): fit time, all-pairs time and
peak memory on simulated classes, each size in its own process.

Run with no arguments for the full sizes (1,000 students x 10,000 test ids; 5,000 students x
2,000 ids), ``--quick`` for small ones. All pairs are scored as the similarity engine does:
``block(ra, rb)`` over row blocks of 512 (``rb`` = the rows from ``ra``'s first on, so each
pair once). ``one_gemm_s`` is the time of one float32 product of the class's size (n x
n x n_ids) on the same machine in the same process, so runs on a busy machine compare: the
all-pairs work is about a dozen such products for half the pairs. Every class holds planted copies (a student's predictions with 2 % of the ids
changed), so the run also prints how many copies are flagged (behaviour >= 0.45) and how many
other pairs are.

Simulated students follow the null model's assumptions only loosely: error propensity and id
difficulty are logistic, and each id has its own popular confusions (wrong labels drawn from a
Dirichlet(0.3) over the other classes).
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

FLAG_AT = 0.45  # the lead's behaviour-alone flag
FULL = [(1000, 10_000), (5000, 2_000)]
QUICK = [(200, 2_000), (1000, 500)]


def simulate(n: int, k: int, *, classes: int = 10, copies: int = 10, seed: int = 0):
    """Truth (k,), predictions (n, k) int and the planted copy pairs (copy of row 2t is 2t+1)."""
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, classes, k)
    beta = rng.normal(0.0, 1.5, k)
    theta = rng.normal(-1.5, 0.8, n)
    cum = rng.dirichlet(np.full(classes - 1, 0.3), k).cumsum(1)
    preds = np.empty((n, k), np.int64)
    for i in range(n):  # row by row: bounded memory
        wrong = rng.random(k) < 1 / (1 + np.exp(-(theta[i] + beta)))
        off = np.minimum((rng.random(k)[:, None] > cum).sum(1), classes - 2)
        preds[i] = np.where(wrong, (truth + 1 + off) % classes, truth)
    pairs = []
    for t in range(min(copies, n // 2)):
        a, b = 2 * t, 2 * t + 1
        preds[b] = preds[a]
        change = rng.choice(k, max(1, k // 50), replace=False)
        preds[b, change] = rng.integers(0, classes, len(change))
        pairs.append((a, b))
    return truth, preds, pairs


def run_one(n: int, k: int, block: int) -> dict:
    """Fit and score all pairs of one simulated class; returns the measurements."""
    from similarity.behaviour import BehaviourModel

    truth, preds, copies = simulate(n, k)
    names = [f"s{i:05d}" for i in range(n)]
    predictions = dict(zip(names, preds))
    t0 = time.perf_counter()
    model = BehaviourModel.fit(predictions, truth)
    fit_s = time.perf_counter() - t0
    del predictions
    t0 = time.perf_counter()
    flagged = set()
    for start in range(0, n, block):
        ra = np.arange(start, min(start + block, n))
        rb = np.arange(start, n)
        out = model.block(ra, rb)
        hit = np.argwhere((out["behaviour"] >= FLAG_AT) & (rb[None, :] > ra[:, None]))
        flagged.update((int(ra[i]), int(rb[j])) for i, j in hit)
    pairs_s = time.perf_counter() - t0
    copy_set = set(copies)
    # The same machine's BLAS on one product of the class's size: all-pairs time in its units.
    x = np.ones((n, k), np.float32)
    t0 = time.perf_counter()
    _ = x[: min(block, n)] @ x.T
    gemm_s = (time.perf_counter() - t0) * n / min(block, n)
    return {"students": n, "ids": k, "pairs": n * (n - 1) // 2, "fit_s": round(fit_s, 2),
            "all_pairs_s": round(pairs_s, 2), "one_gemm_s": round(gemm_s, 3),
            "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
            "copies_flagged": f"{len(copy_set & flagged)}/{len(copy_set)}",
            "other_pairs_flagged": len(flagged - copy_set),
            "dispersion": {key: round(v, 2) for key, v in model.dispersion.items()}}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="small sizes")
    ap.add_argument("--block", type=int, default=512, help="rows per block [512]")
    ap.add_argument("--one", nargs=2, type=int, metavar=("N", "K"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.one:
        print(json.dumps(run_one(*args.one, args.block)))
        return
    print(f"# {platform.processor() or platform.machine()}, python {platform.python_version()}")
    for n, k in QUICK if args.quick else FULL:
        res = subprocess.run([sys.executable, __file__, "--one", str(n), str(k),
                              "--block", str(args.block)], capture_output=True, text=True,
                             check=True)
        print(res.stdout.strip().splitlines()[-1], flush=True)


if __name__ == "__main__":
    main()
