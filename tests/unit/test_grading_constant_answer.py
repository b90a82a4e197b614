"""A program that writes one answer for every test id does what the baseline does: it never
beats the baseline, even where its label happens to be commoner in the test set than the
training majority (balanced classes: the training majority is a coin toss, and 'predict 0
everywhere' scored 0.100 against the baseline's 0.086 on digits and got grade 8). A real
course folder, its real ``Scorer`` and default baseline, the real grade stage
(``grade_batch``) and a real SQLite store."""

from __future__ import annotations

from grader.course import load_course
from grader.scoring import Scorer
from tests.graded_course import grade_outputs
from tests.unit.test_scoring import csv_bytes

N = 300


def _graded(tmp_path, preds: dict[str, list[str]]) -> dict[str, dict]:
    course = tmp_path / "course"
    (course / "data").mkdir(parents=True)
    (course / "hidden").mkdir()
    (course / "course.toml").write_text('[competition]\nname = "t"\nseed = 3\n')
    train = ["cat", "dog", "frog"] * (N // 3)  # balanced: the majority is the first, 'cat'
    (course / "data" / "train.csv").write_text(
        "id,label\n" + "".join(f"tr{i},{lab}\n" for i, lab in enumerate(train)))
    (course / "data" / "test.csv").write_text("id\n" + "".join(f"t{i}\n" for i in range(N)))
    truth = ["dog" if i % 5 < 2 else ("cat", "frog")[i % 2] for i in range(N)]  # 40 % dog
    (course / "hidden" / "test_labels.csv").write_text(
        "id,label\n" + "".join(f"t{i},{lab}\n" for i, lab in enumerate(truth)))
    scorer = Scorer(load_course(course))
    ids = [f"t{i}" for i in range(N)]
    out = tmp_path / "out"
    grades, scores, meta = grade_outputs(out, course, scorer, {
        s: csv_bytes(ids, p(truth) if callable(p) else p) for s, p in preds.items()})
    return {g["student"]: {**g, "score": scores[g["student"]]["private_score"],
                           "page": (out / "reports" / "students" / f"{g['student']}.txt")
                           .read_text()}
            for g in grades} | {"baseline": meta["baseline"]}


def test_a_constant_answer_never_beats_the_baseline(tmp_path):
    got = _graded(tmp_path, {
        "good": lambda truth: [t if i % 10 else "frog" for i, t in enumerate(truth)],
        "all_dog": ["dog"] * N,
        "all_cat": ["cat"] * N,
        # one id differs: a (near-)constant program that still beats the baseline is a model
        "almost": lambda truth: ["dog"] * (N - 1) + [truth[-1]],
    })
    baseline = got["baseline"]
    assert got["all_dog"]["score"] > baseline  # above it by chance of the test set...
    assert not got["all_dog"]["above_baseline"] and got["all_dog"]["grade"] == 4  # ...not past
    assert "predicts one answer ('dog') for every test id, as a baseline does" in \
        got["all_dog"]["note"]
    # the student's page says why a score above the baseline's does not beat it
    page = " ".join(got["all_dog"]["page"].split())
    assert "Your predictions are one answer ('dog') for every test id, as a baseline's are: " \
           "whatever their score, they do not beat the baseline" in page
    assert "Your private score does not beat" not in page
    assert got["all_cat"]["score"] == baseline and got["all_cat"]["grade"] == 4
    assert "does not beat the baseline (" in got["all_cat"]["note"]
    # at the baseline's own score the plain rule is the reason, said plainly (it read
    # "... whose private accuracy is 0.3457 whatever their score, so ...")
    cat_page = " ".join(got["all_cat"]["page"].split())
    assert "Your private score does not beat the baseline" in cat_page
    assert "one answer" not in cat_page
    assert got["good"]["above_baseline"] and got["good"]["grade"] == 10
    assert got["almost"]["above_baseline"] and got["almost"]["grade"] > 4
