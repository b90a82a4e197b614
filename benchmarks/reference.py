"""Benchmark the reference models and the string kernels against their peers, side by side.

1. String kernels: ``similarity.string_kernel_matrix`` on N documents of ~2 KB (chunks of the
   Python sources installed with scikit-learn), p-gram lengths 3..5, against a straightforward
   dictionary implementation (a ``Counter`` per document and length, then a loop over the
   shared keys of every pair). The dictionary version is quadratic in pure Python: at
   N = 2,000 it would run for hours, so it is timed on a subset of the pairs and scaled by the
   pair count (its per-document featurisation is timed in full). Both are also run in full at
   a small N, where the ratio needs no extrapolation.
2. Models: 5-fold cross-validated accuracy and median fit time of each hand-written model
   and its scikit-learn counterpart on iris, wine, breast cancer and digits (standardised
   features, seeded folds; the same protocol as tests/integration/test_reference_parity.py).
3. Rerun with nothing changed: ``grader run --reference`` on the demo course a second time, so
   the reference models come from the store (issue 14's target: <= 5 s), beside the same rerun
   without ``--reference`` and ``grader reference --retrain`` (every model trained again, what
   each rerun cost before the cache).

Run: ``.venv/bin/python benchmarks/reference.py`` (add ``--quick`` for a smaller run).
"""

from __future__ import annotations

import argparse
import glob
import os
import platform
import resource
import statistics
import sys
import time
import warnings
from collections import Counter
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from similarity.string_kernels import string_kernel_matrix  # noqa: E402


def documents(n: int, size: int = 2048) -> list[str]:
    import sklearn

    files = sorted(
        glob.glob(os.path.join(os.path.dirname(sklearn.__file__), "**", "*.py"), recursive=True)
    )
    text, docs = "", []
    for f in files:
        text += Path(f).read_text(encoding="utf-8", errors="replace")
        while len(text) >= size and len(docs) < n:
            docs.append(text[:size])
            text = text[size:]
        if len(docs) >= n:
            break
    return docs


def dict_counts(doc: str, lengths) -> list[Counter]:
    return [Counter(doc[i : i + p] for i in range(len(doc) - p + 1)) for p in lengths]


def dict_kernel(ca: list[Counter], cb: list[Counter], kind: str) -> float:
    total = 0
    for a, b in zip(ca, cb, strict=True):
        if len(a) > len(b):
            a, b = b, a
        for g, x in a.items():
            y = b.get(g)
            if y:
                total += 1 if kind == "presence" else (x * y if kind == "spectrum" else min(x, y))
    return total


def dict_matrix(docs, lengths, kind, pairs=None):
    """Unnormalised Gram matrix (upper triangle, or only ``pairs``) and the time split."""
    t0 = time.perf_counter()
    counts = [dict_counts(d, lengths) for d in docs]
    t_feat = time.perf_counter() - t0
    n = len(docs)
    todo = pairs if pairs is not None else [(i, j) for i in range(n) for j in range(i, n)]
    t0 = time.perf_counter()
    vals = {(i, j): dict_kernel(counts[i], counts[j], kind) for i, j in todo}
    return vals, t_feat, time.perf_counter() - t0


def median_time(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def bench_string_kernels(n: int, n_small: int, sample_pairs: int, repeats: int) -> None:
    lengths = (3, 4, 5)
    docs = documents(n)
    print(f"\n## string kernels: p in 3..5, documents of {len(docs[0])} chars")
    print(f"{'kind':<13}{'n':>6}{'gradebox s':>12}{'dict s':>12}{'ratio':>9}  note")
    rng = np.random.default_rng(0)
    for kind in ("presence", "spectrum", "intersection"):
        # Small n: both in full, and the values must agree exactly.
        small = docs[:n_small]
        K = string_kernel_matrix(small, p=lengths, kind=kind, normalize=False)
        vals, tf, tp = dict_matrix(small, lengths, kind)
        assert all(K[i, j] == v for (i, j), v in vals.items()), "kernel values disagree"
        ours = median_time(
            lambda s=small, k=kind: string_kernel_matrix(s, p=lengths, kind=k, normalize=False),
            repeats,
        )
        print(
            f"{kind:<13}{n_small:>6}{ours:>12.3f}{tf + tp:>12.3f}{(tf + tp) / ours:>9.1f}x"
            "  both in full, values identical"
        )
        # Large n: ours in full; the dictionary version's pair loop on a sample of pairs.
        ours = median_time(
            lambda k=kind: string_kernel_matrix(docs, p=lengths, kind=k, normalize=False), repeats
        )
        idx = rng.integers(0, n, size=(sample_pairs, 2))
        pairs = [(int(min(i, j)), int(max(i, j))) for i, j in idx]
        _, tf, tp = dict_matrix(docs, lengths, kind, pairs)
        total_pairs = n * (n + 1) // 2
        est = tf + tp * total_pairs / len(pairs)
        print(
            f"{kind:<13}{n:>6}{ours:>12.3f}{est:>12.1f}{est / ours:>9.1f}x"
            f"  dict: featurise {tf:.1f} s + {len(pairs)} pairs scaled to {total_pairs}"
        )


def _pairs(n_train: int):
    from sklearn.kernel_ridge import KernelRidge  # noqa: F401  (regressor, see tests)
    from sklearn.linear_model import LogisticRegression, RidgeClassifier
    from sklearn.multiclass import OneVsRestClassifier
    from sklearn.naive_bayes import MultinomialNB
    from sklearn.neighbors import KNeighborsClassifier
    from sklearn.neural_network import MLPClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import KBinsDiscretizer
    from sklearn.svm import SVC, LinearSVC

    from reference import make_model

    sigma = 3.0
    gamma = 1 / (2 * sigma**2)
    return [
        ("knn (k=5, L2)", make_model("knn", tie_break="nearest"), KNeighborsClassifier(5)),
        (
            "knn (k=5, L1)",
            make_model("knn", metric="l1", tie_break="nearest"),
            KNeighborsClassifier(5, metric="manhattan"),
        ),
        (
            "multinomial_nb (5 bins)",
            make_model("multinomial_nb", n_bins=5, per_feature=True),
            make_pipeline(
                KBinsDiscretizer(5, encode="ordinal", strategy="uniform"), MultinomialNB()
            ),
        ),
        ("svm_ovo (rbf)", make_model("svm_ovo", kernel_params={"sigma": sigma}), SVC(gamma=gamma)),
        (
            "svm_ova (rbf)",
            make_model("svm_ova", kernel_params={"sigma": sigma}),
            OneVsRestClassifier(SVC(gamma=gamma)),
        ),
        (
            "kernel_ridge_ova (linear)",
            make_model("kernel_ridge_ova", lam=1.0),
            RidgeClassifier(alpha=1.0, fit_intercept=False),
        ),
        (
            "linear_softmax",
            make_model("linear_softmax", reg=1 / (2 * n_train), random_state=0, max_epochs=200),
            LogisticRegression(max_iter=2000),
        ),
        (
            "linear_hinge",
            make_model("linear_hinge", reg=1e-3, random_state=0, max_epochs=200),
            LinearSVC(),
        ),
        (
            "mlp (128)",
            # like MLPClassifier's default: all the data, no early-stopping split
            make_model("mlp", early_stopping=False, max_epochs=200, random_state=0,
                       device="cpu"),
            MLPClassifier((128,), random_state=0, max_iter=500),
        ),
    ]


def bench_models(datasets_: list[str]) -> None:
    from sklearn import datasets
    from sklearn.model_selection import StratifiedKFold, cross_validate
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from reference import make_model

    make_model("mlp", max_epochs=1, device="cpu").fit([[0.0], [1.0]], [0, 1])  # import torch
    print(
        "\n## models: 5-fold CV accuracy (stratified, seed 0) and median fit time per fold, "
        "standardised features"
    )
    print(
        f"{'data':<14}{'model':<27}{'acc ours':>9}{'acc sk':>8}{'diff pt':>9}"
        f"{'fit ours s':>11}{'fit sk s':>10}{'ratio':>8}"
    )
    loaders = {
        "iris": datasets.load_iris,
        "wine": datasets.load_wine,
        "breast_cancer": datasets.load_breast_cancer,
        "digits": datasets.load_digits,
    }
    for ds in datasets_:
        X, y = loaders[ds](return_X_y=True)
        cv = StratifiedKFold(5, shuffle=True, random_state=0)
        for name, ours, theirs in _pairs(int(0.8 * len(y))):
            row = []
            for est in (ours, theirs):
                model = est if "multinomial" in name else make_pipeline(StandardScaler(), est)
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    res = cross_validate(model, X, y, cv=cv)
                row += [res["test_score"].mean(), statistics.median(res["fit_time"])]
            a, fa, b, fb = row
            print(
                f"{ds:<14}{name:<27}{a:>9.4f}{b:>8.4f}{100 * (a - b):>+9.2f}"
                f"{fa:>11.3f}{fb:>10.3f}{fa / max(fb, 1e-9):>8.2f}",
                flush=True,
            )


def bench_rerun(backend: str) -> None:
    import subprocess
    import tempfile

    from grader.demo import build_demo

    def grader(*args: str) -> float:
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-m", "grader", *args], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        return time.perf_counter() - t0

    with tempfile.TemporaryDirectory() as tmp:
        course, subs = build_demo(Path(tmp) / "demo")
        out = str(Path(tmp) / "out")
        batch = ["run", str(course), "--submissions", str(subs), "--out", out,
                 "--backend", backend]
        cold = grader(*batch, "--reference")
        warm_ref = statistics.median(grader(*batch, "--reference") for _ in range(3))
        warm = statistics.median(grader(*batch) for _ in range(3))
        cached = statistics.median(grader("reference", str(course), "--out", out)
                                   for _ in range(3))
        retrain = grader("reference", str(course), "--out", out, "--retrain")
    print("\n## rerun of the demo batch with nothing changed (wall time, median of 3)")
    print(f"first run (runs, reference models, similarity, reports): {cold:8.1f} s")
    print(f"rerun without --reference:                               {warm:8.1f} s")
    print(f"rerun with --reference (models from the store):          {warm_ref:8.1f} s  "
          f"(target <= 5 s; {warm_ref - warm:+.1f} s against no --reference)")
    print(f"grader reference, every model from the store:            {cached:8.1f} s")
    print(f"grader reference --retrain (every model trained again):  {retrain:8.1f} s  "
          f"({retrain / cached:.1f}x)")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer documents and data sets")
    ap.add_argument("--skip-models", action="store_true")
    ap.add_argument("--skip-kernels", action="store_true")
    ap.add_argument("--skip-rerun", action="store_true")
    ap.add_argument("--backend", default="auto", help="sandbox backend of the rerun section")
    args = ap.parse_args()
    import scipy
    import sklearn
    import torch

    print(
        f"# benchmarks/reference.py — {platform.machine()} {platform.processor() or ''}, "
        f"{os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}; python "
        f"{platform.python_version()}, numpy {np.__version__}, scipy {scipy.__version__}, "
        f"sklearn {sklearn.__version__}, torch {torch.__version__}"
    )
    if not args.skip_kernels:
        if args.quick:
            bench_string_kernels(n=500, n_small=60, sample_pairs=300, repeats=1)
        else:
            bench_string_kernels(n=2000, n_small=150, sample_pairs=2000, repeats=3)
    if not args.skip_models:
        bench_models(
            ["iris", "wine"] if args.quick else ["iris", "wine", "breast_cancer", "digits"]
        )
    if not args.skip_rerun:
        bench_rerun(args.backend)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\npeak memory (max RSS): {peak:.0f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
