"""The embedded demo: a digits competition built from data that ships with scikit-learn,
with sample submissions covering every case a real class produces."""

from __future__ import annotations

import shutil
from pathlib import Path

from diagnostics.text import csv_writer

HERE = Path(__file__).parent

COURSE_TOML = """\
# The demo competition: 8x8 handwritten digits (scikit-learn's bundled copy of the UCI set).
[competition]
name = "digits-demo"
metric = "accuracy"
public_fraction = 0.3
seed = 2026

[grading]
policy = "rank_bands"
baseline = "majority"
scale_bands_to = 150

[sandbox]
backend = "auto"
time_limit_s = 40
memory_mb = 2048
cpus = 1
output_limit_mb = 16

[similarity]
template = "starter"
web = "web"

[integrity]
# a confirmed finding zeroes the project grade of the student the TA names (the copier)
confirmed = "zero"
applies_to = "named"
"""

#: what the demo's programs may import (``environment/requirements.txt``): pinned to the
#: versions the grader itself uses; torch 2.13.0 is the CPU wheel
REQUIREMENTS = """\
# The packages students' programs may import (built by `grader sandbox build COURSE`).
numpy==2.4.6
pandas==3.1.1
scikit-learn==1.9.1
scipy==1.17.1
torch==2.13.0
"""

#: what each sample submission shows (printed by ``grader demo``)
SAMPLES = {
    "ana_knn": "k-NN (good)",
    "bogdan_svm": "RBF SVM with grid search (good)",
    "carmen_cnn": "small PyTorch CNN (good)",
    "dan_nb": "Gaussian naive Bayes (fair)",
    "elena_logreg": "softmax regression (good)",
    "florin_offbyone": "random forest with an off-by-one label bug (below the baseline)",
    "gabi_crash": "crashes with a KeyError",
    "horia_timeout": "gradient descent that never converges (timeout)",
    "ioana_invalid": "writes no header and half the ids (invalid output)",
    "lucia_pca_svm": "PCA + polynomial SVM, two files, uses the starter code (good)",
    "maria_mlp": "scikit-learn MLP (good)",
    "radu_hostile": "hunts for the hidden labels (hostile)",
    "paula_rewrite": "maria_mlp rewritten to defeat code comparison: same predictions (behaviour)",
    "sorin_copy": "a renamed copy of ana_knn (plagiarism)",
    "tudor_tutorial": "pastes a web tutorial (web copy)",
    "vlad_notebook": "a Jupyter notebook (rejected)",
}

#: students whose code arrives by e-mail in the demo (through ``grader intake``); dan_nb's
#: e-mail carries a Kaggle upload his code cannot reproduce, elena_logreg's a faithful one
MAILED = ("dan_nb", "elena_logreg", "maria_mlp")


def build_demo(dest: str | Path, *, n_train: int = 1200) -> tuple[Path, Path]:
    """Write the demo course and its submissions under ``dest``.

    Returns ``(course_dir, submissions_dir)``. Nothing is downloaded: the data is
    scikit-learn's bundled digits set (1,797 images of 8x8 pixels, 10 classes).
    """
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    dest = Path(dest)
    course = dest / "course"
    subs = dest / "submissions"
    for folder in (course, subs):
        if folder.exists():
            shutil.rmtree(folder)
    (course / "data").mkdir(parents=True)
    (course / "hidden").mkdir()
    digits = load_digits()
    ids = [f"d{i:04d}" for i in range(len(digits.target))]
    tr, te = train_test_split(range(len(ids)), train_size=n_train, random_state=7,
                              stratify=digits.target)
    pixels = [f"px{i}" for i in range(digits.data.shape[1])]

    def write(path: Path, header: list[str], rows) -> None:
        with path.open("w", newline="") as f:
            w = csv_writer(f)
            w.writerow(header)
            w.writerows(rows)

    write(course / "data" / "train.csv", ["id", "label", *pixels],
          ([ids[i], int(digits.target[i]), *map(int, digits.data[i])] for i in tr))
    write(course / "data" / "test.csv", ["id", *pixels],
          ([ids[i], *map(int, digits.data[i])] for i in sorted(te)))
    write(course / "hidden" / "test_labels.csv", ["id", "label"],
          ([ids[i], int(digits.target[i])] for i in sorted(te)))
    (course / "course.toml").write_text(COURSE_TOML, encoding="utf-8")
    (course / "environment").mkdir()
    (course / "environment" / "requirements.txt").write_text(REQUIREMENTS, encoding="utf-8")
    shutil.copytree(HERE / "starter", course / "starter")
    shutil.copytree(HERE / "web", course / "web")
    shutil.copytree(HERE / "submissions", subs,
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    _write_mailbox(dest, subs, digits, ids, tr, te)
    return course, subs


def _write_mailbox(dest: Path, subs: Path, digits, ids, tr, te) -> None:
    """ops/roster.csv and ops/inbox.mbox: the MAILED students' code arrives by e-mail."""
    import numpy as np
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    from grader.demo.ops import make_demo_mailbox, write_demo_roster

    ops = dest / "ops"
    if ops.exists():
        shutil.rmtree(ops)
    ops.mkdir()
    students = sorted(SAMPLES)
    write_demo_roster(students, ops / "roster.csv")
    sources = {}
    for sid in MAILED:
        sources[sid] = (subs / f"{sid}.py").read_text(encoding="utf-8")
        (subs / f"{sid}.py").unlink()
    test = sorted(te)
    X_tr, y_tr = digits.data[list(tr)], digits.target[list(tr)]
    # elena uploaded what her code produces (the same model, here in-process)
    scaler = StandardScaler().fit(X_tr)
    faithful = LogisticRegression(C=0.5, max_iter=2000).fit(scaler.transform(X_tr), y_tr)
    elena = faithful.predict(scaler.transform(digits.data[test]))
    # dan uploaded far better predictions than his naive Bayes can make
    rng = np.random.default_rng(5)
    dan = digits.target[test].copy()
    noisy = rng.choice(len(test), size=len(test) // 100, replace=False)
    dan[noisy] = (dan[noisy] + 1) % 10

    def as_csv(pred) -> str:
        return "id,label\n" + "".join(f"{ids[i]},{int(p)}\n" for i, p in zip(test, pred))

    make_demo_mailbox(sources, ops / "inbox.mbox",
                      kaggle_csv={"dan_nb": as_csv(dan), "elena_logreg": as_csv(elena)})
