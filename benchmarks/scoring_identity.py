#!/usr/bin/env python3
"""The scoring phase gives the same result as an earlier revision: ``compare`` on a generated
class with behavioural evidence, and the written ``pairs.csv``, ``pairs.json`` and
``clusters.csv`` compared byte for byte.

The class is ``similarity_scale``'s (2 % disguised copies, shared snippets); the behaviour
model is fitted on simulated predictions where every 50th student copies the previous one's,
every 25th has no valid run (the engine's mixed blocks), and two reference models explain a
few students' agreement. The earlier revision's ``similarity`` package is taken out of git
(``git archive``) and run in its own process, as is the working tree's.

    benchmarks/scoring_identity.py --ref HEAD --size 1000
"""

from __future__ import annotations

import argparse
import filecmp
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def behaviour_model(names: list[str], n_ids: int):
    """Simulated predictions (as ``similarity_scale._behaviour``), with failed runs and two
    explaining references."""
    import numpy as np

    from similarity.behaviour import BehaviourModel
    from similarity.behaviour_identity import IdentityEvidence

    rng = np.random.default_rng(1)
    truth = rng.integers(0, 10, n_ids)
    hard = rng.beta(0.6, 3.0, n_ids)
    confusion = (truth + rng.integers(1, 10, n_ids)) % 10
    refs = {}
    for r in ("sklearn:SVC()", "sklearn:KNeighborsClassifier()"):
        wrong = rng.random(n_ids) < hard * 0.5
        p = truth.copy()
        p[wrong] = confusion[wrong]
        refs[r] = p
    preds = {}
    for i, name in enumerate(names):
        if i % 25 == 3:
            continue  # no valid run
        if i % 50 == 1 and names[i - 1] in preds:
            preds[name] = preds[names[i - 1]]
        elif i % 40 in (5, 6):  # a few students reproduce a standard model
            preds[name] = refs["sklearn:SVC()" if i % 40 == 5 else
                               "sklearn:KNeighborsClassifier()"].tolist()
        else:
            wrong = rng.random(n_ids) < np.clip(hard * rng.uniform(0.1, 1.0), 0, 1)
            popular = rng.random(n_ids) < 0.6
            p = truth.copy()
            p[wrong] = np.where(popular[wrong], confusion[wrong],
                                (truth[wrong] + rng.integers(1, 10, wrong.sum())) % 10)
            preds[name] = p.tolist()
    return IdentityEvidence(BehaviourModel.fit(
        preds, truth.tolist(), references={k: v.tolist() for k, v in refs.items()},
        explainers=sorted(refs)))


def child(cls: Path, out: Path, n_ids: int) -> None:
    from similarity import SimilarityOptions, compare, write_outputs

    subs = {p.stem: p for p in sorted(cls.iterdir())}
    t = time.perf_counter()
    r = compare(subs, options=SimilarityOptions(), behaviour=behaviour_model(sorted(subs), n_ids))
    write_outputs(r, out)
    print(json.dumps({"seconds": time.perf_counter() - t, "pairs": len(r.pairs),
                      "stages": r.stats["seconds"]}))


def run(src: Path, cls: Path, out: Path, n_ids: int) -> dict:
    code = (f"import sys; sys.path.insert(0, {str(src)!r}); sys.path.insert(1, {str(ROOT)!r}); "
            f"sys.path.insert(2, {str(ROOT / 'benchmarks')!r}); import scoring_identity as s; "
            f"s.child(s.Path({str(cls)!r}), s.Path({str(out)!r}), {n_ids})")
    got = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True,
                         text=True, cwd=src)
    return json.loads(got.stdout.strip().splitlines()[-1])


def _timeless(path: Path) -> dict:
    """pairs.json without the run's timings (its stats' seconds)."""
    data = json.loads(path.read_text())
    for key in ("seconds", "cpu_seconds"):
        data.get("stats", {}).pop(key, None)
    return data


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--ref", default="HEAD", help="the earlier revision (git)")
    ap.add_argument("--size", type=int, default=1000, help="students in the class")
    ap.add_argument("--ids", type=int, default=2000, help="hidden test ids")
    ap.add_argument("--ref-dir", type=Path, default=None,
                    help="a folder holding the earlier similarity package (instead of --ref)")
    ap.add_argument("--keep", type=Path, default=None, help="work here (kept), not in /tmp")
    args = ap.parse_args()
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from similarity_scale import write_class

    with tempfile.TemporaryDirectory(prefix="scoring-identity-") as tmp:
        work = args.keep or Path(tmp)
        cls = work / "class"
        if not cls.exists():
            write_class(cls, args.size, seed=args.size)
        ref = args.ref_dir or work / "ref"
        if args.ref_dir is None:
            ref.mkdir(parents=True, exist_ok=True)
            archive = subprocess.run(["git", "archive", args.ref, "similarity", "diagnostics"],
                                     cwd=ROOT, check=True, capture_output=True).stdout
            subprocess.run(["tar", "-x", "-C", str(ref)], input=archive, check=True)
        before = run(ref, cls, work / "before", args.ids)
        after = run(ROOT, cls, work / "after", args.ids)
        print(f"{args.ref_dir or args.ref}: {before['pairs']} pairs in {before['seconds']:.1f} s "
              f"(score {before['stages']['score']:.1f} s); working tree: {after['pairs']} pairs "
              f"in {after['seconds']:.1f} s (score {after['stages']['score']:.1f} s)")
        same = True
        for name in ("pairs.csv", "pairs.json", "clusters.csv"):
            a, b = work / "before" / name, work / "after" / name
            ok = _timeless(a) == _timeless(b) if name.endswith(".json") else \
                filecmp.cmp(a, b, shallow=False)
            same &= ok
            print(f"  {name}: {'identical' if ok else 'DIFFERENT'}"
                  f"{' (timings aside)' if name.endswith('.json') else ''}")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
