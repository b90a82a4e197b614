"""roc_auc on hard 0/1 labels (``predict(X)`` where ``predict_proba(X)[:, -1]`` was asked for)
is valid and keeps its score, but the student is told why it is lower than it could be.
Real course folders, the real ``Scorer``, a real store and ``render_reports``."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from tests.unit.test_scoring import csv_bytes, make
from tests.unit.test_scoring_hints import _probabilities, rendered_with_column

HINT = "class labels (e.g. predict(X)), not probabilities"


@pytest.mark.parametrize("written", ["{:d}", "{:.1f}"])  # 0/1 or 0.0/1.0
def test_hard_labels_get_the_hint_and_keep_their_score(tmp_path, written):
    scorer, labels = make(tmp_path, metric="roc_auc", n=200, classes=("0", "1"))
    ids = [f"t{i}" for i in range(len(labels))]
    good = _probabilities(labels, "1")
    hard = (good > 0.5).astype(int)
    score = scorer.evaluate(csv_bytes(ids, [written.format(v if "d" in written else float(v))
                                            for v in hard]))
    (hint,) = score.details["hints"]
    assert hint.startswith("your column holds only 0 and 1: " + HINT)
    assert "predict_proba(X)[:, -1]" in hint and "probability of '1'" in hint
    mask = scorer.public_mask.to_numpy()
    y = np.array([lab == "1" for lab in labels])
    assert score.public == pytest.approx(roc_auc_score(y[mask], hard[mask]))
    # probabilities, even rounded to one decimal, get no hint
    for fmt in ("{:.4f}", "{:.1f}"):
        right = scorer.evaluate(csv_bytes(ids, [fmt.format(v) for v in good]))
        assert "hints" not in right.details, fmt


def test_a_constant_column_gets_the_hint(tmp_path):
    scorer, labels = make(tmp_path, metric="roc_auc", n=200, classes=("no", "yes"))
    score = scorer.evaluate(csv_bytes([f"t{i}" for i in range(200)], ["1"] * 200))
    assert score.public == 0.5
    (hint,) = score.details["hints"]
    assert hint.startswith("your column holds only 1: ") and "probability of 'yes'" in hint


def test_other_metrics_get_no_label_hint(tmp_path):
    scorer, labels = make(tmp_path, metric="mse", n=200, classes=None)
    score = scorer.evaluate(csv_bytes([f"t{i}" for i in range(200)], ["1"] * 200))
    assert "hints" not in score.details


def test_the_hard_label_hint_reaches_the_students_page(tmp_path):
    out, names, who = rendered_with_column(
        tmp_path, lambda labels: [str(v) for v in
                                  (_probabilities(labels, "1") > 0.5).astype(int)])
    for ext in ("html", "md", "txt"):
        text = (out / "reports" / "students" / f"{who}.{ext}").read_text()
        assert "What to check:" in text and HINT in text, ext
        other = (out / "reports" / "students" / f"{names['ok'][1]}.{ext}").read_text()
        assert HINT not in other, ext


def test_negative_zero_is_zero_and_perfect_labels_get_no_hint(tmp_path):
    scorer, labels = make(tmp_path, metric="roc_auc", n=200, classes=("0", "1"))
    ids = [f"t{i}" for i in range(len(labels))]
    hard = (_probabilities(labels, "1") > 0.5).astype(int)
    written = ["-0.0" if v == 0 else "1" for v in hard]  # numpy writes -0.0 after a negation
    (hint,) = scorer.evaluate(csv_bytes(ids, written)).details["hints"]
    assert hint.startswith("your column holds only 0 and 1: "), hint
    # labels right on every id: their ties cost nothing (AUC 1.0), no advice to give
    perfect = scorer.evaluate(csv_bytes(ids, ["1" if lab == "1" else "0" for lab in labels]))
    assert perfect.private == 1.0 and "hints" not in perfect.details
