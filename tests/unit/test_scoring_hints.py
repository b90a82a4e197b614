"""roc_auc far below random guessing (a column holding the other class's probability) gets a
hint for the student; the score itself is unchanged, and chance on a few ids never triggers it.
Real course folders, the real ``Scorer``, a real store and ``render_reports``."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from grader.batch.outputs import render_reports
from grader.scoring import SWAPPED_AUC
from grader.store import Store
from tests.synthetic_batch import make_batch
from tests.unit.test_reports_render import _set_metric
from tests.unit.test_scoring import csv_bytes, make

HINT = "is far below 0.5, the score of random guessing"


def _probabilities(labels: list[str], positive: str, seed: int = 0) -> np.ndarray:
    """A good model's probability of ``positive``: AUC near 1."""
    rng = np.random.default_rng(seed)
    y = np.array([lab == positive for lab in labels], dtype=float)
    return np.clip(0.5 + 0.6 * (y - 0.5) + rng.normal(0, 0.15, y.size), 0, 1)


@pytest.mark.parametrize("classes", [("0", "1"), ("no", "yes"), ("9", "10")])
def test_the_other_classes_probability_gets_the_hint_and_keeps_its_score(tmp_path, classes):
    scorer, labels = make(tmp_path, metric="roc_auc", n=200, classes=classes)
    positive = scorer.positive_label
    assert positive == classes[-1]  # the last in sorted order ("10" after "9")
    ids = [f"t{i}" for i in range(len(labels))]
    good = _probabilities(labels, positive)
    swapped = scorer.score(scorer.parse(csv_bytes(ids, [f"{1 - v:.4f}" for v in good])))
    assert swapped.public < 0.1
    (hint,) = swapped.details["hints"]
    assert f"an AUC of {swapped.public:.2f} {HINT}" in hint
    assert f"not of {positive!r}" in hint and "last label in sorted order" in hint
    # the score is the plain AUC, hint or not
    mask = scorer.public_mask.to_numpy()
    y = np.array([lab == positive for lab in labels])
    assert swapped.public == pytest.approx(roc_auc_score(y[mask], 1 - good[mask]), abs=1e-3)
    right = scorer.score(scorer.parse(csv_bytes(ids, [f"{v:.4f}" for v in good])))
    assert right.public > 0.9 and "hints" not in right.details
    assert right.details == {}  # roc_auc stores nothing else


def test_chance_and_small_public_parts_get_no_hint(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    # random guessing on 200 ids: its public AUC is near 0.5
    scorer, labels = make(tmp_path / "a", metric="roc_auc", n=200, classes=("0", "1"))
    ids = [f"t{i}" for i in range(len(labels))]
    rng = np.random.default_rng(3)
    score = scorer.score(scorer.parse(csv_bytes(ids, [f"{v:.4f}" for v in rng.random(200)])))
    assert score.public > SWAPPED_AUC and "hints" not in score.details
    # 10 ids: 3 public, an AUC of 0 there is chance, not evidence
    small, labels = make(tmp_path / "b", metric="roc_auc", n=10, classes=("0", "1"))
    ids = [f"t{i}" for i in range(10)]
    swapped = small.score(small.parse(csv_bytes(
        ids, ["0.1" if lab == "1" else "0.9" for lab in labels])))
    assert swapped.public == 0.0 and "hints" not in swapped.details


def rendered_with_column(tmp_path, column) -> tuple:
    """A roc_auc batch of 8 whose first valid student's score details are those of
    ``column(labels)`` (the values written to submission.csv), pages rendered. Returns
    ``(out, names, who)``."""
    course = tmp_path / "course"
    course.mkdir()
    scorer, labels = make(course, metric="roc_auc", n=200, classes=("0", "1"))
    ids = [f"t{i}" for i in range(len(labels))]
    score = scorer.evaluate(csv_bytes(ids, column(labels)))
    out = tmp_path / "out"
    names = make_batch(out, students=8, pairs=2)
    _set_metric(out, "roc_auc")
    who = names["ok"][0]
    with Store(out / "grading.db") as st:
        rows = list(st.scores().values())
        for r in rows:  # a roc_auc course stores no per-class details
            r["details"] = score.details if r["student"] == who else {}
        st.put_scores(rows)
    render_reports(out)
    return out, names, who


def test_the_hint_reaches_the_student_before_the_private_release(tmp_path):
    out, names, who = rendered_with_column(
        tmp_path, lambda labels: [f"{1 - v:.4f}" for v in _probabilities(labels, "1")])
    for ext in ("html", "md", "txt"):
        text = (out / "reports" / "students" / f"{who}.{ext}").read_text()
        assert "What to check:" in text and HINT in text, ext
        assert "last label in sorted order" in text, ext
        other = (out / "reports" / "students" / f"{names['ok'][1]}.{ext}").read_text()
        assert HINT not in other, ext
