"""The verdict from both kinds of evidence (``similarity.verdict``), against hand-computed
cases."""

from __future__ import annotations

import numpy as np
import pytest

from similarity import SimilarityOptions
from similarity.errors import SimilarityOptionsError
from similarity.verdict import code_scale, final_score, reasons

THR, ALONE, EXPLAINED = 0.45, 0.85, 0.405


def _beh(behaviour, valid=1, explained=-1):
    shape = np.shape(behaviour)
    return {"behaviour": np.asarray(behaviour, dtype=float),
            "valid": np.full(shape, valid), "explained": np.full(shape, explained)}


def reason(code, behaviour, valid, score, threshold, code_alone):
    """``reasons`` for one pair."""
    return str(reasons(np.array([code]), np.array([behaviour]), np.array([valid]),
                       np.array([score]), threshold, code_alone)[0])


def _score(code, behaviour):
    return final_score(np.asarray(code, dtype=float), behaviour, threshold=THR,
                       code_alone=ALONE, explained_score=EXPLAINED)


def test_code_scale_maps_code_alone_to_the_threshold_and_keeps_order():
    code = np.array([0.0, 0.425, 0.85, 0.925, 1.0])
    got = code_scale(code, THR, ALONE)
    # 0.425 * 0.45 / 0.85 = 0.225; 0.45 + 0.075 * 0.55 / 0.15 = 0.725
    np.testing.assert_allclose(got, [0.0, 0.225, 0.45, 0.725, 1.0])
    assert np.all(np.diff(code_scale(np.linspace(0, 1, 101), THR, ALONE)) > 0)
    # off when code_alone is not above the threshold
    np.testing.assert_array_equal(code_scale(code, THR, THR), code)


def test_code_only_is_the_code_score():
    code = np.array([0.2, 0.5, 0.9])
    np.testing.assert_array_equal(_score(code, None), code)
    # a pair with no valid runs keeps its code score too
    np.testing.assert_allclose(_score(code, _beh([0.0, 0.0, 0.0], valid=0)), code)


def test_both_ran_code_must_reach_code_alone():
    # honest pair of short programs: code 0.79, independent predictions -> not flagged
    s = _score([0.79], _beh([0.0]))[0]
    assert s == pytest.approx(0.79 * THR / ALONE) and s < THR
    assert reason(0.79, 0.0, True, s, THR, ALONE) == ""
    # a renamed copy (code 0.95) is flagged on code even when its predictions differ
    s = _score([0.95], _beh([0.0]))[0]
    assert s == pytest.approx(THR + 0.1 * (1 - THR) / (1 - ALONE)) and s >= THR
    assert reason(0.95, 0.0, True, s, THR, ALONE) == "code"


def test_behaviour_alone_and_both_moderate():
    # a rewritten copy: code 0.1, behaviour 0.98 -> 1 - (1 - 0.0529...) * 0.02
    s = _score([0.1], _beh([0.98]))[0]
    assert s == pytest.approx(1 - (1 - 0.1 * THR / ALONE) * 0.02)
    assert reason(0.1, 0.98, True, s, THR, ALONE) == "behaviour"
    # both moderate: code 0.6 (scaled 0.3176), behaviour 0.25 -> 0.488: flagged, both
    s = _score([0.6], _beh([0.25]))[0]
    assert s == pytest.approx(1 - (1 - 0.6 * THR / ALONE) * 0.75)
    assert s >= THR and reason(0.6, 0.25, True, s, THR, ALONE) == "both"
    # both weak: code 0.3, behaviour 0.1 -> 0.241: not flagged
    assert _score([0.3], _beh([0.1]))[0] < THR


def test_two_kinds_flag_together_only_when_both_are_moderate():
    # code just short of flagging alone (0.8, scaled 0.4235) and a trace of shared wrong
    # answers (behaviour 0.08): combined 1 - 0.5765 * 0.92 = 0.4696 is over the threshold, but
    # the behaviour is under half of it: held just under the threshold, not flagged
    scaled = 0.8 * THR / ALONE
    combined = 1 - (1 - scaled) * (1 - 0.08)
    assert combined >= THR
    got = _score([0.8], _beh([0.08]))[0]
    assert got == pytest.approx(THR - 0.02 * THR * (1 - combined) / (1 - THR))
    assert THR * 0.98 <= got < THR and reason(0.8, 0.08, True, got, THR, ALONE) == ""
    # near-strong behaviour (0.44) with code no closer than the class's (0.39, scaled 0.2065)
    assert 0.39 * THR / ALONE < 0.5 * THR
    held = _score([0.39, 0.8], _beh([0.44, 0.08]))
    assert np.all(held < THR)
    # held pairs keep the order of their combined scores (0.5556 over 0.4696)
    assert held[0] > held[1]
    # each kind at half the threshold or more: flagged on both (scaled 0.2382, behaviour 0.3)
    s = _score([0.45], _beh([0.3]))[0]
    assert 0.45 * THR / ALONE >= 0.5 * THR
    assert s == pytest.approx(1 - (1 - 0.45 * THR / ALONE) * 0.7) and s >= THR
    assert reason(0.45, 0.3, True, s, THR, ALONE) == "both"
    # either kind strong alone still flags, whatever the other
    assert _score([0.95], _beh([0.01]))[0] >= THR
    assert _score([0.0], _beh([0.5]))[0] >= THR


def test_explained_agreement_ranks_below_the_threshold_unless_code_flags():
    beh = _beh([0.0, 0.0, 0.0], explained=2)
    got = _score([0.0, 0.5, 0.95], beh)
    # agreement explained by a standard model: in the band [EXPLAINED, THR), by how near the
    # scaled code comes to the threshold; the scaled code itself once that flags
    scaled = 0.5 * THR / ALONE
    np.testing.assert_allclose(got, [EXPLAINED, EXPLAINED + (THR - EXPLAINED) * scaled / THR,
                                     THR + 0.1 * 0.55 / 0.15])
    assert EXPLAINED < got[1] < THR
    assert reason(0.5, 0.0, True, got[1], THR, ALONE) == ""
    assert reason(0.95, 0.0, True, got[2], THR, ALONE) == "code"


def test_a_chosen_setting_explains_agreement_less_than_a_default():
    # explainer 0 a default (SVC()), 1 a setting (k-NN with k = 3): one explained score each
    per_model = np.array([EXPLAINED, 0.95 * THR])
    beh = {"behaviour": np.zeros(4), "valid": np.ones(4), "explained": np.array([0, 1, 1, -1])}
    got = final_score(np.array([0.1, 0.1, 0.95, 0.1]), beh, threshold=THR, code_alone=ALONE,
                      explained_score=per_model)
    scaled = 0.1 * THR / ALONE
    np.testing.assert_allclose(got, [EXPLAINED + (THR - EXPLAINED) * scaled / THR,
                                     0.95 * THR + 0.05 * THR * scaled / THR,
                                     THR + 0.1 * 0.55 / 0.15, scaled])
    # the setting's pair ranks above the default's, and neither is flagged on agreement
    assert got[0] < got[1] < THR
    assert reasons(np.array([0.1, 0.1]), np.zeros(2), np.ones(2, bool), got[:2], THR,
                   ALONE).tolist() == ["", ""]


def test_unproven_identity_ranks_above_every_explained_band():
    """Identical predictions no standard model gives, on too few wrong answers to prove
    copying (``unproven``), rank in [UNPROVEN, THR); the explained bands end where that one
    starts, so a setting's pair with moderate code (two users of SVC() on one tutorial split)
    no longer ranks above an unexplained identical pair (digits seed 9: a rewritten copy at
    11th behind one). A scaled code score above the bands still ranks a pair by itself."""
    unproven_at, setting = (1 + 0.95) / 2 * THR, 0.95 * THR
    beh = {"behaviour": np.zeros(4), "valid": np.ones(4), "explained": np.array([1, -1, 1, -1]),
           "unproven": np.array([0, 1, 0, 1])}
    code = np.array([0.457, 0.012, 0.84, 0.0])
    got = final_score(code, beh, threshold=THR, code_alone=ALONE,
                      explained_score=np.array([EXPLAINED, setting]),
                      unproven_score=unproven_at)
    scaled = code * THR / ALONE
    np.testing.assert_allclose(got, [
        setting + (unproven_at - setting) * scaled[0] / THR,
        unproven_at + (THR - unproven_at) * scaled[1] / THR,
        scaled[2],  # 0.4447: its code is above the band
        unproven_at])
    assert got[0] < unproven_at <= got[3] < got[1] < THR
    assert got[2] > got[1]


def test_options_check_the_new_knobs():
    o = SimilarityOptions()
    assert o.code_alone == 0.9 and o.explained_share * o.threshold < o.threshold
    assert o.explained_share < o.setting_share < 1
    for bad, name in (({"explained_share": 1.0}, "explained_share"),
                      ({"setting_share": 1.0}, "setting_share"),
                      ({"code_alone": 1.5}, "code_alone")):
        with pytest.raises(SimilarityOptionsError) as err:
            SimilarityOptions(**bad)
        assert any(p.startswith(name) for p in err.value.problems), err.value.problems


def test_in_a_class_with_runs_a_failed_run_keeps_the_code_scale():
    # classmates, one run failed: no behaviour, but code alone must still reach code_alone
    beh = {"behaviour": np.zeros(2), "valid": np.zeros(2), "explained": np.full(2, -1),
           "peer": np.ones(2)}
    got = _score([0.79, 0.95], beh)
    np.testing.assert_allclose(got, [0.79 * THR / ALONE, THR + 0.1 * 0.55 / 0.15])
    why = reasons(np.array([0.79, 0.95]), np.zeros(2), np.zeros(2, bool), got, THR, ALONE,
                  peer=np.ones(2, bool))
    assert why.tolist() == ["", "code"]
    # a web or archive source (not a peer) is judged on code alone at the threshold
    src = {**beh, "peer": np.zeros(2)}
    np.testing.assert_allclose(_score([0.79, 0.95], src), [0.79, 0.95])
    assert reasons(np.array([0.79]), np.zeros(1), np.zeros(1, bool), np.array([0.79]), THR,
                   ALONE, peer=np.zeros(1, bool)).tolist() == ["code"]
