"""p-values left for later (``BehaviourModel.block(..., lazy_p=True)``): the pairs computed
are the full block's, every pair left out certainly has p >= GUARD_BELOW (behaviour 0), and
``unconditional_p`` gives exactly the numbers the full block has."""

from __future__ import annotations

import numpy as np

from similarity.behaviour import GUARD_BELOW, BehaviourModel
from similarity.behaviour_identity import IdentityEvidence
from similarity.behaviour_null import poisson_tail, poisson_tail_bounds


def _class(n=120, k=800, seed=4):
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, 10, k)
    hard = rng.beta(0.6, 3.0, k)
    preds = {}
    for i in range(n):
        wrong = rng.random(k) < np.clip(hard * rng.uniform(0.1, 1.0), 0, 1)
        p = truth.copy()
        p[wrong] = (truth[wrong] + rng.integers(1, 10, wrong.sum())) % 10
        preds[f"s{i:03d}"] = p.tolist()
    names = sorted(preds)
    for a, b in zip(names[:10:2], names[1:10:2], strict=True):  # five copies
        preds[b] = list(preds[a])
    return BehaviourModel.fit(preds, truth.tolist())


def test_bounds_hold_as_computed():
    for phi in (1.0, 1.7):
        bound = poisson_tail_bounds(GUARD_BELOW, 500, phi)
        assert bound[0] == -np.inf and bound[-1] == np.inf and np.isfinite(bound[1:-1]).all()
        x = np.repeat(np.arange(1, 501), 40).astype(np.float64)
        lam = bound[x.astype(int)] * (1 + np.tile(np.geomspace(1e-13, 10, 40), 500))
        assert (poisson_tail(x, lam, phi) >= GUARD_BELOW).all()
        below = poisson_tail(x, bound[x.astype(int)] * (1 - 1e-3), phi)
        assert (below < GUARD_BELOW * 1.01).all()  # and the bound is tight


def test_lazy_block_equals_full_block():
    model = _class()
    for m in (model, IdentityEvidence(model)):
        ra, rb = np.arange(0, 70), np.arange(30, 120)
        full = m.block(ra, rb)
        lazy = m.block(ra, rb, lazy_p=True)
        left = np.isnan(lazy["p_value"])
        assert left.mean() > 0.9 and (~left).sum() >= 5  # most left out, the copies computed
        assert (full["p_value"][left] >= GUARD_BELOW).all()
        np.testing.assert_array_equal(lazy["p_value"][~left], full["p_value"][~left])
        for key in full:
            if key != "p_value":
                np.testing.assert_array_equal(lazy[key], full[key], err_msg=key)
        filled = m.unconditional_p(lazy["same_wrong"][left], lazy["expected"][left])
        np.testing.assert_array_equal(filled, full["p_value"][left])
