"""The same order of every prediction, for a ``roc_auc`` or regression (``mse``, ``mae``) course.

The area under the ROC curve depends only on the order of a submission's probabilities. A copy
that passes its source's probabilities through an order-preserving transform (``sqrt(p)``,
``rankdata(p) / n``, a temperature on the logits) keeps its AUC to the last digit while its
values, and so its residuals, move far from the source's: the residual evidence
(``similarity.behaviour``) does not see it, and three such copies in a hand-written breast
cancer class ranked 7th, 13th and 15th, unflagged. A regression copy stretched around the mean
(``mean + 1.03 * (p - mean)``) or shifted moves its values past the nearness rule the same way
and keeps their order.

Two programs whose predictions put every hidden test id in the same order (the same dense
ranks, ties included), with at least ``MIN_DISTINCT`` distinct values each, are *unproven*
(``unproven`` = 1): ranked at least in the band just under the threshold, above every
explained pair, never flagged on the order alone (``similarity.verdict.final_score``; a pair
the residual evidence flags keeps its score). No order is evidence where a standard model's
predictions have it too (two honest users of one model, one with a temperature; on a single
feature every increasing model has ``LinearRegression()``'s order), nor where a standard model
explains the pair by its values. Identical orders from unrelated honest models are rare but
possible (two linear models on few features), which is why the pair is ranked, not flagged.
"""

from __future__ import annotations

import hashlib

import numpy as np

__all__ = ["MIN_DISTINCT", "OrderEvidence"]

#: distinct probabilities each student needs before the order says anything (hard 0/1 labels
#: written as probabilities have 2, and agree in order whenever they agree in labels)
MIN_DISTINCT = 20


class OrderEvidence:
    """A fitted regression-type ``BehaviourModel`` (a regression or ``roc_auc`` class) with the
    same-order rule folded in (``block``/``pairs`` as the model's, plus ``unproven``).

    ``probabilities``: the predictions are a ``roc_auc`` class's probabilities (the pair page
    then speaks of the AUC), not a regression's values."""

    def __init__(self, model, probabilities: bool = True):
        self.model = model
        self.probabilities = probabilities
        self.names = list(model.names)
        pred = np.asarray(model._pred, dtype=np.float64)
        refs = getattr(model, "_ref_pred", None)  # the explainers' predictions
        ref_sigs = set() if refs is None else {
            _order_signature(row) for row in np.asarray(refs, dtype=np.float64)}
        # each student's order as a group number (-1: says nothing, or a standard model's),
        # so that all pairs compare integers (a class of 5,000 in blocks of 512)
        groups: dict[bytes, int] = {}
        self._group = np.array([
            -1 if sig is None or sig in ref_sigs else groups.setdefault(sig, len(groups))
            for sig in (_order_signature(row) for row in pred)], dtype=np.int64)

    def __getattr__(self, name):  # describe, shared_wrong, dispersion, ... of the model
        if name.startswith("__") or name == "model":  # unpickling: no model yet
            raise AttributeError(name)
        return getattr(self.model, name)

    def _same_order(self, out: dict[str, np.ndarray], r: np.ndarray,
                    c: np.ndarray) -> np.ndarray:
        ga, gb = self._group[r], self._group[c]
        # a pair a standard model explains by its values stays explained; one the residual
        # evidence already scores keeps the higher of the two (``final_score`` takes the max)
        return (ga == gb) & (ga >= 0) & (np.asarray(out["explained"]) < 0)

    def _fold(self, out: dict[str, np.ndarray], r: np.ndarray,
              c: np.ndarray) -> dict[str, np.ndarray]:
        out = dict(out)
        out["unproven"] = self._same_order(out, r, c).astype(np.float64)
        return out

    def block(self, ra: np.ndarray, rb: np.ndarray, **kw) -> dict[str, np.ndarray]:
        ra, rb = np.asarray(ra, np.intp).reshape(-1), np.asarray(rb, np.intp).reshape(-1)
        return self._fold(self.model.block(ra, rb, **kw), ra[:, None], rb[None, :])

    def pairs(self, r: np.ndarray, c: np.ndarray) -> dict[str, np.ndarray]:
        r, c = np.asarray(r, np.intp).reshape(-1), np.asarray(c, np.intp).reshape(-1)
        return self._fold(self.model.pairs(r, c), r, c)

    def describe(self, a: str, b: str) -> str:
        said = self.model.describe(a, b)
        i, j = self.names.index(a), self.names.index(b)
        o = self.pairs(np.array([i]), np.array([j]))
        if o["unproven"][0] <= 0:
            return said
        same = ("their probabilities put every hidden test id in the same order: the same AUC "
                "to the last digit, as a copy passed through an order-preserving transform (a "
                "square root, ranks, a temperature) would have" if self.probabilities else
                "their predictions put every hidden test id in the same order, as a copy whose "
                "values were shifted, stretched or passed through another increasing function "
                "would")
        if o["behaviour"][0] > 0:  # the residuals already count: the order adds to them
            return f"{said}; and {same}"
        return (f"{said}. But {same}, and no standard model gives this order: that is why the "
                "pair is held at least just under the threshold (the order alone never flags "
                "a pair)")


def _order_signature(row: np.ndarray) -> bytes | None:
    """A digest of the dense ranks of ``row`` (equal for rows in the same order, ties
    included), or None where it says nothing: a missing value, or fewer than
    ``MIN_DISTINCT`` distinct values."""
    if row.size == 0 or np.isnan(row).any():
        return None
    values, dense = np.unique(row, return_inverse=True)
    if values.size < MIN_DISTINCT:
        return None
    return hashlib.blake2b(dense.astype(np.int32).tobytes(), digest_size=16).digest()
