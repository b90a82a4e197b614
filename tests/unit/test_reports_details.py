"""The scoring details a student's page draws before the private release come from the public
part only: its confusion matrix gives back the public score and nothing of the private one."""

from __future__ import annotations

import numpy as np
import pytest

from tests.unit.test_scoring import csv_bytes, make


def test_public_details_cover_exactly_the_public_part(tmp_path):
    scorer, labels = make(tmp_path)
    rng = np.random.default_rng(1)
    preds = [lab if rng.random() < 0.7 else "frog" for lab in labels]
    ids = [f"t{i}" for i in range(len(labels))]
    score = scorer.score(scorer.parse(csv_bytes(ids, preds)))
    whole, public = score.details["confusion"], score.details["public"]["confusion"]
    n_public = int(scorer.public_mask.sum())
    assert sum(map(sum, whole)) == len(labels) and sum(map(sum, public)) == n_public
    # accuracy from the public matrix is the public score: the private one cannot be derived
    assert np.trace(np.array(public)) / n_public == pytest.approx(score.public)
    assert score.details["public"]["classes"] == score.details["classes"]
