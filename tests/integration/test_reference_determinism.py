"""Same input, same grade: reference models train to fixed budgets, are cached in the store,
and a model stopped by the safety deadline is never a baseline or optimum (issue 14, item 1).

A small digits course (300 training images of 8 x 8 pixels as columns) with a CNN optimum
under ``accuracy_scaled``, stdlib-only 1-NN submissions in real bubblewrap, a real SQLite
store and the real ``grader`` CLI.
"""

from __future__ import annotations

import csv
import json
import sqlite3
from pathlib import Path

import numpy as np
import pytest

from grader.batch import BatchOptions, run_batch
from grader.cli import main
from grader.course import load_course
from grader.errors import CourseError
from grader.scoring import Scorer
from grader.store import Store
from tests.integration.batch_helpers import write_submissions

pytestmark = pytest.mark.slow

N_TRAIN, N_TEST = 300, 120

#: 1-NN on the first K training rows: fewer rows, lower accuracy, a grade between 5 and 10
NEAREST = '''
import csv, os
D = os.environ["GRADER_DATA"]
def rows(name):
    with open(os.path.join(D, name)) as f:
        return list(csv.reader(f))[1:]
train = [(r[1], [int(v) for v in r[2:]]) for r in rows("train.csv")[:K]]
with open(os.path.join(os.environ["GRADER_OUTPUT"], "submission.csv"), "w") as out:
    out.write("id,label\\n")
    for r in rows("test.csv"):
        x = [int(v) for v in r[1:]]
        label = min(train, key=lambda t: sum((a - b) * (a - b) for a, b in zip(t[1], x)))[0]
        out.write(f"{r[0]},{label}\\n")
'''

REFERENCE = '''
[reference]
models = ["majority", "knn", "cnn"]
budget_s = {budget}

[reference.params.cnn]
{cnn}
'''


def _toml(*, optimum: str = '"cnn"', baseline: str = '"majority"', budget: float = 300,
          cnn: str = "max_epochs = 6", knn: str = "") -> str:
    text = (
        '[competition]\nname = "digits-determinism"\nseed = 3\n'
        f'[grading]\npolicy = "accuracy_scaled"\nbaseline = {baseline}\noptimum = {optimum}\n'
        '[sandbox]\nbackend = "bwrap"\ntime_limit_s = 60\nmemory_mb = 512\ncpus = 1\n'
        "output_limit_mb = 1\n" + REFERENCE.format(budget=budget, cnn=cnn))
    return text + (f"\n[reference.params.knn]\n{knn}\n" if knn else "")


def make_digits_course(root: Path, **toml) -> Path:
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    order = np.random.default_rng(0).permutation(len(y))[: N_TRAIN + N_TEST]
    (root / "data").mkdir(parents=True)
    (root / "hidden").mkdir()
    (root / "course.toml").write_text(_toml(**toml))
    pixels = [f"px{i}" for i in range(X.shape[1])]

    def write(path: Path, header: list[str], rows) -> None:
        with path.open("w", newline="") as f:
            w = csv.writer(f)
            w.writerow(header)
            w.writerows(rows)

    tr, te = order[:N_TRAIN], order[N_TRAIN:]
    write(root / "data" / "train.csv", ["id", "label", *pixels],
          ([f"d{i}", int(y[i]), *map(int, X[i])] for i in tr))
    write(root / "data" / "test.csv", ["id", *pixels], ([f"d{i}", *map(int, X[i])] for i in te))
    write(root / "hidden" / "test_labels.csv", ["id", "label"], ([f"d{i}", int(y[i])] for i in te))
    return root


def _events(out: Path) -> list[dict]:
    db = sqlite3.connect(out / "grading.db")
    rows = db.execute("SELECT detail FROM events WHERE kind = 'reference' ORDER BY rowid")
    return [json.loads(r[0]) for r in rows]


def _cache(out: Path) -> dict[str, tuple]:
    """model → (cache key, trained_at, predictions) as the store holds them."""
    db = sqlite3.connect(out / "grading.db")
    return {m: (k, t, p) for m, k, t, p in db.execute(
        "SELECT model, cache_key, trained_at, predictions FROM reference_cache")}


def _reference(out: Path) -> dict[str, dict]:
    with (out / "reference.csv").open() as f:
        return {r["model"]: r for r in csv.DictReader(f)}


@pytest.mark.bwrap
def test_same_batch_gives_byte_identical_grades_across_runs_and_jobs(tmp_path, bwrap_sandbox):
    course = load_course(make_digits_course(tmp_path / "course"))
    programs = {f"k{k}": NEAREST.replace("[:K]", f"[:{k}]") for k in (20, 40, 80, 300)}
    subs = write_submissions(tmp_path / "subs", {**programs, "crash": "raise SystemExit(3)\n"})
    opts = dict(reference=True, similarity=False, reports=False, quiet=True)
    # three fresh stores: each trains its own CNN from scratch
    for name, jobs in (("a", 1), ("b", 1), ("c", 2)):
        run_batch(course, subs, tmp_path / name, BatchOptions(jobs=jobs, **opts))
    first = (tmp_path / "a" / "grades.csv").read_bytes()
    assert (tmp_path / "b" / "grades.csv").read_bytes() == first
    assert (tmp_path / "c" / "grades.csv").read_bytes() == first  # --jobs 2
    cnn = [_cache(tmp_path / n)["cnn"] for n in "abc"]
    assert cnn[0][2] == cnn[1][2] == cnn[2][2]  # bit-identical predictions, three trainings
    assert _reference(tmp_path / "a")["cnn"]["status"] == "ok"
    # the CNN's score is the optimum: grades between 5 and 10 hang on it
    with (tmp_path / "a" / "grades.csv").open() as f:
        grades = {r["student"]: r for r in csv.DictReader(f)}
    scaled = [float(g["grade"]) for g in grades.values() if g["grade"]]
    assert any(5 < g < 10 for g in scaled), grades
    assert grades["crash"]["status"] == "error" and grades["crash"]["grade"] == ""
    # a rerun on the same store takes the models from it and writes the same bytes
    run_batch(course, subs, tmp_path / "a", BatchOptions(jobs=2, **opts))
    assert _events(tmp_path / "a")[-1]["trained"] == []
    assert (tmp_path / "a" / "grades.csv").read_bytes() == first


def test_rerun_retrains_only_what_changed(tmp_path, capsys):
    course_dir = make_digits_course(tmp_path / "course", optimum='"best"', cnn="max_epochs = 3")
    out = tmp_path / "out"
    cmd = ["reference", str(course_dir), "--out", str(out)]
    assert main(cmd) == 0
    assert _events(out)[-1]["trained"] == ["majority", "knn", "cnn"]
    first, first_csv = _cache(out), (out / "reference.csv").read_bytes()
    assert set(first) == {"majority", "knn", "cnn"}

    assert main(cmd) == 0  # nothing changed: nothing trains
    assert _events(out)[-1] == {"trained": [], "reused": ["majority", "knn", "cnn"],
                                "deadline_s": 300.0}
    assert _cache(out) == first and (out / "reference.csv").read_bytes() == first_csv
    assert "all 3 model(s) unchanged since trained" in capsys.readouterr().err

    # a changed parameter retrains that model only
    (course_dir / "course.toml").write_text(_toml(optimum='"best"', cnn="max_epochs = 3",
                                                  knn="n_neighbors = 3"))
    assert main(cmd) == 0
    assert _events(out)[-1]["trained"] == ["knn"]
    second = _cache(out)
    assert second["knn"][0] != first["knn"][0] and second["knn"][1] > first["knn"][1]
    assert second["cnn"] == first["cnn"] and second["majority"] == first["majority"]
    assert json.loads(_reference(out)["knn"]["params"])["n_neighbors"] == 3

    # changed data retrains every model (they all learn from it)
    train = course_dir / "data" / "train.csv"
    lines = train.read_text().splitlines()
    train.write_text("\n".join(lines[:-1]) + "\n")  # one training row fewer
    assert main(cmd) == 0
    assert _events(out)[-1]["trained"] == ["majority", "knn", "cnn"]
    assert all(_cache(out)[m][0] != second[m][0] for m in second)

    # a deadline the models finished under is no reason to retrain them
    (course_dir / "course.toml").write_text(_toml(optimum='"best"', cnn="max_epochs = 3",
                                                  knn="n_neighbors = 3", budget=200))
    assert main(cmd) == 0
    assert _events(out)[-1]["trained"] == []

    # corrected hidden labels: nothing retrains, every model is scored again
    before = _reference(out)["knn"]
    labels = course_dir / "hidden" / "test_labels.csv"
    rows = labels.read_text().splitlines()
    test_id, label = rows[1].split(",")
    rows[1] = f"{test_id},{(int(label) + 1) % 10}"
    labels.write_text("\n".join(rows) + "\n")
    assert main(cmd) == 0
    assert _events(out)[-1]["trained"] == []
    after = _reference(out)["knn"]
    assert (after["public_score"], after["private_score"]) != (before["public_score"],
                                                               before["private_score"])


def test_a_model_past_the_safety_deadline_is_marked_and_never_baseline_or_optimum(
        tmp_path, capsys):
    # no early stopping and many epochs: the CNN trains far past a 5 s deadline
    slow_cnn = 'architecture = "simple"\nmax_epochs = 2000\nearly_stopping = false'
    course_dir = make_digits_course(tmp_path / "course", budget=5, cnn=slow_cnn)
    out = tmp_path / "out"
    cmd = ["reference", str(course_dir), "--out", str(out)]
    assert main(cmd) != 0  # optimum = "cnn"
    err = capsys.readouterr().err
    assert '[grading] optimum = "cnn"' in err and "'deadline'" in err
    assert "budget_s" in err and "Traceback" not in err
    rows = _reference(out)  # written before the refusal, so the instructor can look
    assert rows["cnn"]["status"] == "deadline" and "safety deadline of 5 s" in rows["cnn"]["message"]
    assert rows["knn"]["status"] == "ok" and rows["majority"]["status"] == "ok"
    with Store(out / "grading.db") as store:
        stored = {r["model"]: r for r in store.reference()}
    assert stored["cnn"]["status"] == "deadline" and stored["cnn"]["private_score"] is None

    # grading from that store refuses it too, with the reason (no rerun of the models)
    from grader.batch.scores import baseline_score, optimum_score

    course = load_course(course_dir)
    with Store(out / "grading.db") as store, pytest.raises(CourseError, match="deadline"):
        optimum_score(course, store)

    # as the baseline: refused the same way
    (course_dir / "course.toml").write_text(
        _toml(budget=5, cnn=slow_cnn, baseline='"cnn"', optimum="0.99"))
    assert main(cmd) != 0
    assert '[grading] baseline = "cnn"' in capsys.readouterr().err
    assert _events(out)[-1]["trained"] == []  # the marked result is cached like any other
    course = load_course(course_dir)
    with Store(out / "grading.db") as store, pytest.raises(CourseError, match="deadline"):
        baseline_score(course, store, Scorer(course))

    # optimum = "best" passes over it, saying why, and takes the best model that finished
    (course_dir / "course.toml").write_text(_toml(budget=5, cnn=slow_cnn, optimum='"best"'))
    assert main(cmd) == 0
    assert 'optimum "best" passes over cnn (deadline' in capsys.readouterr().err
    course = load_course(course_dir)
    with Store(out / "grading.db") as store:
        assert optimum_score(course, store) == pytest.approx(float(_reference(out)["knn"]
                                                                   ["private_score"]), rel=1e-5)


def test_bad_reference_table_is_reported_whole(tmp_path, capsys):
    course_dir = make_digits_course(tmp_path / "course", cnn="max_epoch = 3")
    text = (course_dir / "course.toml").read_text().replace("budget_s = 300", "budget_s = -1")
    (course_dir / "course.toml").write_text(text + '\n[reference.params.knnn]\nk = 1\n')
    assert main(["reference", str(course_dir), "--out", str(tmp_path / "out")]) != 0
    err = capsys.readouterr().err
    assert "3 problem(s)" in err, err
    assert "budget_s = -1" in err
    assert "unknown parameter 'max_epoch' (did you mean 'max_epochs'?)" in err
    assert "did you mean 'knn'" in err
    assert not (tmp_path / "out" / "reference.csv").exists()


def test_networks_give_the_same_bits_whatever_the_process_threads():
    """PyTorch sums in a different order with another thread count; the runner's fixed
    count makes the process's own setting (a machine's core count) irrelevant."""
    import torch
    from sklearn.datasets import load_digits

    from reference import make_model
    from reference.runner import fixed_threads

    X, y = load_digits(return_X_y=True)
    X, y = X[:400], y[:400]
    saved = torch.get_num_threads()
    probs = []
    try:
        for process_threads in (2, 1, 2):
            torch.set_num_threads(process_threads)
            with fixed_threads(1, torch=True):
                for name in ("mlp", "cnn"):
                    model = make_model(name, random_state=0, max_epochs=4, device="cpu")
                    probs.append(model.fit(X[:300], y[:300]).predict_proba(X[300:]))
            assert torch.get_num_threads() == process_threads  # restored
    finally:
        torch.set_num_threads(saved)
    for i in (2, 4):
        assert np.array_equal(probs[i], probs[0]) and np.array_equal(probs[i + 1], probs[1])
