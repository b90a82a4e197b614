"""Nearness that stands out (similarity.behaviour_nearness): each student's nearest classmates
and standard model equal a direct count; a copy that changes a few predictions ranks as
unproven where nobody else comes near either of the two, and a family of honest models, or a
pair near a standard model, does not."""

from __future__ import annotations

import numpy as np

from similarity.behaviour import BehaviourModel
from similarity.behaviour_identity import IdentityEvidence
from similarity.behaviour_nearness import MAX_GROUP, STANDOUT_RATIO, NearestOthers

from .test_behaviour_identity import _class


def _changed(pred: list, share: float, seed: int, classes: int = 5) -> list:
    """``pred`` with ``share`` of its ids moved to another label (a copy's few edits)."""
    rng = np.random.default_rng(seed)
    out = list(pred)
    for k in rng.choice(len(out), int(round(share * len(out))), replace=False):
        out[k] = str((int(out[k]) + 1 + rng.integers(0, classes - 1)) % classes) \
            if out[k] is not None else "0"
    return out


def _noisy_class():
    truth, preds = _class(seed=3, n=30, m=800)
    preds["copy"] = _changed(preds["s07"], 0.02, seed=1)  # 16 of 800 changed
    return truth, preds


def _direct(preds, names, refs=()):
    codes = [preds[n] for n in names]
    d = np.array([[sum(not (a == b and a is not None) for a, b in zip(x, y, strict=True))
                   for y in codes] for x in codes], dtype=float)
    np.fill_diagonal(d, np.inf)
    ref = np.array([min((sum(not (a == b and a is not None) for a, b in zip(x, r, strict=True))
                         for r in refs), default=np.inf) for x in codes])
    return d, ref


def test_nearest_others_equal_a_direct_count():
    truth, preds = _noisy_class()
    std = _changed(preds["s20"], 0.005, seed=9)
    model = BehaviourModel.fit(preds, [str(t) for t in truth], references={"std": std},
                               explainers=["std"], near_exact=0.999)
    ident = IdentityEvidence(model)
    near = ident.nearness
    d, ref = _direct(preds, model.names, [std])
    width = near.dist.shape[1]
    np.testing.assert_array_equal(near.dist, np.sort(d, axis=1)[:, :width])
    np.testing.assert_array_equal(np.take_along_axis(d, near.order, axis=1), near.dist)
    np.testing.assert_array_equal(near.reference, ref)
    # the others' distance of a pair nobody comes near: the nearest third party to either
    i, j = model.names.index("s07"), model.names.index("copy")
    third = [k for k in range(len(d)) if k not in (i, j)]
    want = min(d[i, third].min(), d[j, third].min(), ref[i], ref[j])
    assert near.group(i, j, 1) == {i, j}
    assert near.others(i, j, 1) == want


def test_a_near_copy_that_stands_out_is_unproven_not_flagged():
    truth, preds = _noisy_class()
    model = BehaviourModel.fit(preds, [str(t) for t in truth])
    ident = IdentityEvidence(model)
    n = len(model.names)
    got = ident.block(np.arange(n), np.arange(n))
    i, j = model.names.index("s07"), model.names.index("copy")
    assert got["identity"][i, j] == 0  # 16 of 800 changed: past identity's tolerance
    assert got["unproven"][i, j] == 1
    # nearness adds nothing to the behaviour score (never flagged on it): the band does
    raw = model.block(np.arange(n), np.arange(n))
    np.testing.assert_array_equal(got["behaviour"][got["unproven"] > 0],
                                  raw["behaviour"][got["unproven"] > 0])
    # no unrelated pair stands out
    off = ~np.eye(n, dtype=bool)
    off[i, j] = off[j, i] = False
    assert got["unproven"][off].sum() == 0
    # listed pairs say the same
    r, c = np.triu_indices(n, 1)
    np.testing.assert_array_equal(ident.pairs(r, c)["unproven"], got["unproven"][r, c])
    assert "stands out" in ident.describe("s07", "copy")


def test_a_pair_near_a_standard_model_does_not_stand_out():
    truth, preds = _class(seed=4, n=30, m=800)
    std = _changed(preds["s12"], 0.015, seed=5)  # a default that s12 nearly is
    preds["twin"] = _changed(preds["s12"], 0.015, seed=6)
    model = BehaviourModel.fit(preds, [str(t) for t in truth], references={"std": std},
                               explainers=["std"], near_exact=0.999)
    ident = IdentityEvidence(model)
    i, j = model.names.index("s12"), model.names.index("twin")
    o = ident.pairs(np.array([i]), np.array([j]))
    assert o["explained"][0] == -1 and o["unproven"][0] == 0
    # without the standard model the same pair stands out
    alone = IdentityEvidence(BehaviourModel.fit(preds, [str(t) for t in truth]))
    assert alone.pairs(np.array([i]), np.array([j]))["unproven"][0] == 1


def test_a_near_copy_of_a_source_with_another_copy_stands_out_with_it():
    truth, preds = _class(seed=5, n=30, m=800)
    preds["exact"] = list(preds["s08"])
    preds["near"] = _changed(preds["s08"], 0.02, seed=4)
    model = BehaviourModel.fit(preds, [str(t) for t in truth])
    ident = IdentityEvidence(model)
    i, j, k = (model.names.index(s) for s in ("s08", "near", "exact"))
    o = ident.pairs(np.array([i, j, i]), np.array([j, k, k]))
    assert o["unproven"][:2].tolist() == [1, 1]  # the exact copy is their company, no outsider
    assert o["identity"][2] == 1
    assert "(but exact, who predicts as one of them does)" in ident.describe("s08", "near")


def test_honest_models_of_one_kind_have_company():
    truth, preds = _class(seed=6, n=30, m=800)
    for f in range(2):  # three honest models of one kind, 8-16 ids apart, far from the rest
        preds[f"fam{f}"] = _changed(preds["s09"], 0.01, seed=20 + f)
    model = BehaviourModel.fit(preds, [str(t) for t in truth])
    ident = IdentityEvidence(model)
    fam = [model.names.index(s) for s in ("s09", "fam0", "fam1")]
    r, c = np.array([fam[0], fam[0], fam[1]]), np.array([fam[1], fam[2], fam[2]])
    assert ident.pairs(r, c)["unproven"].sum() == 0
    # a third model of the kind is company, not a duplicate: no pair's group takes it in
    assert ident.nearness.group(fam[1], fam[2], ident._limit()) == {fam[1], fam[2]}


def test_a_group_of_many_duplicates_does_not_stand_out():
    truth, preds = _class(seed=7, n=30, m=800)
    for f in range(3):
        preds[f"dup{f}"] = list(preds["s11"])
    preds["near"] = _changed(preds["s11"], 0.02, seed=8)
    model = BehaviourModel.fit(preds, [str(t) for t in truth])
    ident = IdentityEvidence(model)
    i, j = model.names.index("s11"), model.names.index("near")
    assert len(ident.nearness.group(i, j, ident._limit())) == 5 > MAX_GROUP
    assert ident.pairs(np.array([i]), np.array([j]))["unproven"][0] == 0


def test_small_classes():
    truth = [str(t) for t in np.arange(200) % 4]
    a = [str((int(t) + (k % 3 == 0)) % 4) for k, t in enumerate(truth)]
    b = list(a)
    b[5] = "9"
    for preds in ({"a": a, "b": b}, {"a": a, "b": b, "c": truth}):
        model = BehaviourModel.fit(preds, truth)
        near = NearestOthers(model, np.rint(model.error_rate * model.n_ids))
        assert near.dist[0, 0] == 1 and np.isfinite(near.dist).all()
        out = IdentityEvidence(model).pairs(np.array([0]), np.array([1]))
        assert set(out) >= {"unproven", "behaviour"}
    assert 0 < STANDOUT_RATIO < 1
