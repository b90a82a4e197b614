"""A number is the number the scorer reads, however it is spelled: the behavioural evidence
read ``1_000`` and Arabic-Indic digits as missing values (a copy written that way scored its
source's grade and hid from the comparison), and the one-answer rule compared the spellings
(``50``, ``50.0``, ``5e1`` passed as different answers)."""

from __future__ import annotations

import numpy as np

from grader.batch.similarity import _values
from similarity.behaviour import BehaviourModel
from tests.unit.test_scoring import csv_bytes, make

_ARABIC = str.maketrans("0123456789.", "٠١٢٣٤٥٦٧٨٩.")


def _underscored(text: str) -> str:
    """``0.1_2345``: a digit separator after the first decimal (``float`` reads it)."""
    i = text.index(".") + 2
    return text[:i] + "_" + text[i:] if text[i:i + 1].isdigit() else text


def test_a_copy_spelled_otherwise_is_the_same_numbers_to_the_behavioural_evidence(tmp_path):
    scorer, labels = make(tmp_path, metric="mse", classes=None)
    ids = [f"t{i}" for i in range(len(labels))]
    truth = np.array([float(v) for v in scorer.truth])
    rng = np.random.default_rng(1)
    source = truth + rng.normal(0, 0.5, truth.size)
    plain = [repr(float(v)) for v in source]
    spelled = {
        "underscores": [_underscored(s) for s in plain],
        "arabic_digits": [s.translate(_ARABIC) for s in plain],
    }
    parsed = scorer.parse(csv_bytes(ids, plain))
    want = _values(parsed, True)
    for name, texts in spelled.items():
        p = scorer.parse(csv_bytes(ids, texts))
        assert scorer.score(p).private == scorer.score(parsed).private, name
        got = _values(p, True)
        assert None not in got and np.allclose(got, want, rtol=1e-11, atol=1e-11), name
    # and the pair is the copy it is
    preds = {"source": want, **{n: _values(scorer.parse(csv_bytes(ids, t)), True)
                                for n, t in spelled.items()}}
    for i in range(6):  # honest classmates
        preds[f"s{i}"] = list(truth + rng.normal(0, 0.5, truth.size))
    model = BehaviourModel.fit(preds, list(truth), task="regression")
    names = model.names
    got = model.pairs(np.array([names.index("source")] * 2),
                      np.array([names.index("underscores"), names.index("arabic_digits")]))
    assert (got["behaviour"] >= 0.45).all(), got["behaviour"]


def test_one_answer_is_one_value_however_it_is_written(tmp_path):
    scorer, labels = make(tmp_path, metric="mse", classes=None)
    ids = [f"t{i}" for i in range(len(labels))]
    spellings = ["50", "50.0", "5e1", "+50", "50.00", "0050"]
    mixed = [spellings[i % len(spellings)] for i in range(len(ids))]
    score = scorer.score(scorer.parse(csv_bytes(ids, mixed)))
    assert float(score.details["constant"]) == 50.0
    nudged = ["50"] * (len(ids) - 1) + ["50.5"]
    assert "constant" not in scorer.score(scorer.parse(csv_bytes(ids, nudged))).details
