"""A pair page says which rule gave the final score where the formula
``1 - (1 - code') (1 - behaviour)`` does not: the bands of ``similarity.verdict``."""

from __future__ import annotations

import numpy as np

from reports.render import _score_rule, band_cause
from similarity.options import SimilarityOptions
from similarity.verdict import final_score

OPTS = SimilarityOptions()


def pair(code: float, behaviour: float, *, explained: int = -1, unproven: bool = False,
         agreement: float | None = None) -> dict:
    """A stored pair whose score the engine's own ``final_score`` computed."""
    beh = {k: np.array([v]) for k, v in (("behaviour", behaviour), ("valid", 1.0),
                                          ("explained", float(explained)),
                                          ("unproven", float(unproven)))}
    score = float(final_score(np.array([code]), beh, threshold=OPTS.threshold,
                              code_alone=OPTS.code_alone, explained_score=0.3,
                              unproven_score=0.4)[0])
    return {"code": code, "score": score, "behaviour": {
        "behaviour": behaviour, "explained_by": "sklearn:SVC()" if explained >= 0 else "",
        "agreement": agreement}}


def test_the_formula_needs_no_words():
    assert _score_rule(pair(0.2, 0.9), OPTS.threshold, OPTS.code_alone) == ""
    assert _score_rule(pair(0.95, 0.0), OPTS.threshold, OPTS.code_alone) == ""


def test_identical_predictions_on_too_few_wrong_answers_are_held_in_a_band():
    # the QA case: code 0.09, behaviour 0, final 0.44 (the formula gives 0.05)
    p = pair(0.09, 0.0, unproven=True)
    assert 0.4 <= p["score"] < OPTS.threshold
    assert _score_rule(p, OPTS.threshold, OPTS.code_alone) == "band"


def test_explained_agreement_says_so_also_when_code_flags_the_pair():
    p = pair(1.0, 0.0, explained=0)
    assert p["score"] >= OPTS.threshold  # flagged on its code
    assert _score_rule(p, OPTS.threshold, OPTS.code_alone) == "explained"
    assert _score_rule({"code": None, "score": 0.5, "behaviour": None}, 0.45, 0.9) == ""


def test_the_band_says_which_rule_held_the_pair():
    t, alone = OPTS.threshold, OPTS.code_alone
    assert band_cause(pair(0.09, 0.0, unproven=True, agreement=1.0), t, alone) == "identical"
    assert band_cause(pair(0.09, 0.0, unproven=True, agreement=0.984), t, alone) == "near"
    assert band_cause(pair(0.09, 0.0, unproven=True), t, alone) == "order"  # regression
    # two kinds together at the threshold, one not even moderate
    held = pair(0.8, 0.1, agreement=0.6)
    assert held["score"] < t and band_cause(held, t, alone) == "held"
    # none where the formula gives the score, or a standard model explains the agreement
    assert band_cause(pair(0.2, 0.9, agreement=1.0), t, alone) == ""
    assert band_cause(pair(0.09, 0.0, explained=0, agreement=1.0), t, alone) == ""
