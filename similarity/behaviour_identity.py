"""Near-identical predictions as evidence of their own.

The answer-copying null (``similarity.behaviour``) is calibrated to the class: where every
honest model errs on the same hard ids with the same popular label (a data set whose errors are
nearly determined by the inputs), the class's dispersion absorbs shared wrong answers, and even a
copy's 100 % identical predictions may not stand out. Identity itself still does: two different
programs that agree on every hidden test id, their wrong answers included, either run the same
model with the same settings on the same features, or one copied the other. The first is
explained when a standard model gives the same predictions (``explained``); what is left is
evidence.

``identity`` for a pair of valid runs with at least ``min_wrong`` shared wrong answers is::

    identity = clip(1 - disagreements / max(tolerance * n_ids, 1), 0, 1)

so 0 disagreements give 1 and ``tolerance * n_ids`` (0.2 % of the ids, at least one) or more
give 0. Identity counts only where chance alone would leave at least ``CHANCE_FACTOR`` (10) times
that many disagreements: ``n_ids * (1 - sum_l s_a(l) s_b(l))`` with ``s(l)`` each student's share
of predictions with label ``l``. Two students who predict one label everywhere (a baseline, a
network that collapsed) agree on every id by chance: neither their identity nor their shared
wrong answers (all with that one label, which the null takes for hundreds of independent
choices) are evidence, so such a pair's ``behaviour`` is 0. The pair's ``behaviour`` becomes ``max(behaviour, w * identity)`` unless a standard
model explains it, with ``w = identity_weight + 0.09 (1 - exp(-same_wrong / 50))``: more identical
wrong answers are stronger evidence, so such copies rank first.

Identity is only as strong as the wrong answers it rests on. On an easy data set two accurate
honest models (an ``SVC(kernel="poly")`` and an ``SVC(C=10)`` on 360 digits) can err on the same
5 ids with the same labels and agree everywhere else: 5 identical wrong answers where 2.1 are
expected. So identity counts only where that many identical wrong answers are unlikely for two
independent students with these error rates, by the plain Poisson tail of ``same_wrong`` at
``expected`` (``IDENTITY_P``, 0.01; not the class-calibrated ``p_value``, whose dispersion is
what identity must see past). Otherwise the pair is *unproven* (``unproven`` = 1): no
behavioural evidence, but identical predictions that no standard model gives are worth a look,
so the verdict ranks the pair in a band just under the threshold, above where a standard model's
agreement ranks (``similarity.engine.final_score``), never flagged on it; a copy of an accurate
student lands there too, above the class's unrelated pairs.

A standard model explains identical predictions only where it gives them itself. A pair whose
identical predictions a standard model matches near-exactly (within the 0.2 % that explains
two students who are not identical) but not exactly is unproven too: on an easy data set an
unrelated accurate model lands within one id of some standard pipeline by chance, and two
students who leave that pipeline on the same ids, alike, agree beyond it.
"""

from __future__ import annotations

import numpy as np

from similarity.behaviour_nearness import NearestOthers
from similarity.behaviour_null import poisson_tail

__all__ = ["IdentityEvidence"]

CHANCE_FACTOR = 10.0  # identity counts where chance leaves this many times the tolerance
IDENTITY_P = 0.01  # ...and where its identical wrong answers are this unlikely (module doc)


class IdentityEvidence:
    """A behaviour model (``block``/``pairs``/``names``) with near-identity folded in.

    Parameters
    ----------
    model : BehaviourModel
        The fitted answer-copying model of the same class.
    tolerance : float, default=0.002
        Disagreements allowed, as a share of the ids, before identity is 0.
    min_wrong : int, default=5
        Identity needs at least this many shared wrong answers (agreeing on the easy ids
        proves nothing).
    identity_weight : float, default=0.9
        ``behaviour`` of an exact, unexplained identity (above the flag at 0.45).
    """

    def __init__(self, model, *, tolerance: float = 0.002, min_wrong: int = 5,
                 identity_weight: float = 0.9):
        self.model = model
        self.names = list(model.names)
        self.explainer_names = list(getattr(model, "explainer_names", []))
        self.explainer_settings = list(getattr(model, "explainer_settings",
                                               [False] * len(self.explainer_names)))
        self.tolerance, self.min_wrong, self.weight = tolerance, min_wrong, identity_weight
        self.n_ids = int(model.n_ids)
        # wrong answers per student (a missing prediction counts as wrong)
        self.errors = np.rint(np.asarray(model.error_rate, dtype=np.float64) * self.n_ids)
        self.shares = _label_shares(model)
        # classification: who stands out by nearness (``similarity.behaviour_nearness``)
        self.nearness = (NearestOthers(model, self.errors)
                         if self.shares is not None and hasattr(model, "_products") else None)

    def __getattr__(self, name):  # shared_wrong, dispersion, ... of the wrapped model
        if name.startswith("__") or name == "model":  # unpickling: no model yet, no recursion
            raise AttributeError(name)
        return getattr(self.model, name)

    def _identity(self, agree: np.ndarray, raw: dict[str, np.ndarray],
                  chance: np.ndarray | None = None) -> np.ndarray:
        disagree = self.n_ids - agree
        # Below 500 ids the tolerance is under one id: only exact identity counts. (Two honest
        # k-NN programs with k = 3 and k = 4 differ on 1 of 360 digits and share all 8 of
        # their wrong answers; partial credit for that one id flagged them.)
        limit = self._limit()
        ident = np.clip(1.0 - disagree / limit, 0.0, 1.0)
        ident[raw["same_wrong"] < self.min_wrong] = 0.0
        ident[raw["explained"] >= 0] = 0.0
        return ident

    def _limit(self) -> float:
        """Disagreements at which identity reaches 0 (``tolerance`` of the ids, at least 1)."""
        return max(self.tolerance * self.n_ids, 1.0)

    def _by_chance(self, chance: np.ndarray | None) -> np.ndarray | bool:
        """Pairs whose label shares alone make them agree (see the module docstring)."""
        if chance is None:
            return False
        return chance < CHANCE_FACTOR * max(self.tolerance * self.n_ids, 1.0)

    def _unproven(self, ident: np.ndarray, raw: dict[str, np.ndarray]) -> np.ndarray:
        """Identical pairs whose identical wrong answers are not unlikely (module doc)."""
        cand = ident > 0
        if cand.any():
            cand[cand] = poisson_tail(raw["same_wrong"][cand], raw["expected"][cand]) > IDENTITY_P
        return cand

    def _stands_out(self, raw: dict[str, np.ndarray], agree: np.ndarray, r: np.ndarray,
                    c: np.ndarray) -> np.ndarray:
        """Pairs not identical, unexplained, with at least ``min_wrong`` identical wrong
        answers, whose nearness stands out from everybody else
        (``similarity.behaviour_nearness``): unproven, never flagged on it."""
        if self.nearness is None:
            return np.zeros(np.shape(agree), bool)
        cand = ((self.n_ids - agree >= 1) & (raw["same_wrong"] >= self.min_wrong)
                & (np.asarray(raw["explained"]) < 0))
        if cand.any():
            rr, cc = np.broadcast_arrays(r, c)
            cand[cand] = self.nearness.stands_out(self.n_ids - agree[cand], rr[cand], cc[cand],
                                                  self._limit())
        return cand

    def _near_only(self, raw: dict[str, np.ndarray], agree: np.ndarray, r: np.ndarray,
                   c: np.ndarray) -> np.ndarray:
        """Identical pairs (classification) whose explainer matches them only near-exactly:
        it differs from both on some id, where the two agree with each other. On an easy data
        set unrelated accurate models land within one id of some standard pipeline, so a copy
        of a voting ensemble or of a hand-written Manhattan k-NN was "explained" by
        ``StandardScaler+SVC()`` or ``Normalizer+KNeighborsClassifier()`` and ranked among the
        honest users of defaults. A standard model explains a pair's agreement only where it
        gives the pair's own predictions."""
        agree_ref = getattr(self.model, "_agree", None)
        if self.shares is None or agree_ref is None or not np.size(agree_ref):
            return np.zeros(np.shape(agree), bool)
        which = np.asarray(raw["explained"])
        near = (agree >= self.n_ids) & (which >= 0)
        if near.any():
            rr, cc = np.broadcast_arrays(r, c)
            e = which[near]
            near[near] = np.minimum(agree_ref[rr[near], e], agree_ref[cc[near], e]) < 1.0
        return near

    def _fold(self, raw: dict[str, np.ndarray], agree: np.ndarray, chance: np.ndarray | None,
              r: np.ndarray, c: np.ndarray) -> dict[str, np.ndarray]:
        near = self._near_only(raw, agree, r, c)
        if near.any():  # not explained: ranked with the unproven ones, never flagged on it
            raw = dict(raw, explained=np.where(near, -1, raw["explained"]))
        ident = self._identity(agree, raw, chance)
        ident[near] = 0.0
        by_chance = np.asarray(self._by_chance(chance), dtype=bool)
        unproven = (self._unproven(ident, raw) | near) & ~by_chance
        ident = np.where(unproven, 0.0, ident)
        # nearness that stands out ranks a pair at least in the unproven band; a pair one id
        # apart keeps its identity too (the band was above its partial credit)
        unproven |= self._stands_out(raw, agree, r, c) & ~by_chance
        out = dict(raw)
        out["identity"] = ident
        out["unproven"] = unproven.astype(np.float64)
        out["agreement"] = agree / max(self.n_ids, 1)
        if self.shares is not None:  # classification: the share of ids predicted differently
            out["distance"] = 1.0 - out["agreement"]
        # more identical wrong answers, stronger evidence: from weight up to weight + 0.09
        strength = self.weight + 0.09 * (1.0 - np.exp(-raw["same_wrong"] / 50.0))
        out["behaviour"] = np.where(by_chance, 0.0,
                                    np.maximum(raw["behaviour"], strength * ident))
        return out

    def describe(self, a: str, b: str) -> str:
        """The wrapped model's sentence, or why a pair that agrees by chance is no evidence."""
        i, j = self.names.index(a), self.names.index(b)
        if self.shares is not None:
            same = float(self.shares[i] @ self.shares[j])
            if self._by_chance(np.array([self.n_ids * (1.0 - same)]))[0]:
                return (f"both predict one label on nearly every id: chance alone makes them "
                        f"agree on {100 * same:.1f} % of ids, so their agreement is no evidence")
        r, c = np.array([i]), np.array([j])
        raw = self.model.pairs(r, c)
        if self._near_only(raw, self._agreement(raw, self.errors[r], self.errors[c]), r, c)[0]:
            e = int(raw["explained"][0])
            off = int(round((1.0 - float(self.model._agree[i, e])) * self.n_ids))
            return (f"identical predictions on every id ({int(raw['same_wrong'][0])} identical "
                    f"wrong answers); the standard model {self.explainer_names[e]} gives the same "
                    f"on all but {off} of them, where the two agree with each other: a standard "
                    "model explains agreement only where it gives the pair's own predictions, so "
                    "the pair ranks just under the threshold, unflagged on its behaviour")
        o = self.pairs(r, c)
        agree = float(o["agreement"][0]) * self.n_ids
        if self._stands_out(raw, np.array([agree]), r, c)[0]:
            apart = int(round(self.n_ids - agree))
            others = int(self.nearness.others(i, j, self._limit()))
            return (f"{self.model.describe(a, b)}; their predictions differ on only {apart} of "
                    f"{self.n_ids} ids, while every other student and standard model is at "
                    f"least {others} ids from each of them{self._company(i, j)}: "
                    "nearness that stands out, so the "
                    "pair ranks at least just under the threshold (not flagged on nearness "
                    "alone: two students who computed one method with nearly the same settings "
                    "are as near)")
        if o["unproven"][0] > 0:
            tail = float(self.identity_tail(a, b))
            return (f"{int(o['same_wrong'][0])} identical wrong answers; expected "
                    f"{float(o['expected'][0]):.1f} for two independent students with these "
                    f"error rates (that many or more by chance: {tail:.2g}, above the "
                    f"{IDENTITY_P:g} under which identical predictions are evidence; "
                    f"p = {float(o['p_value'][0]):.2g} once scaled for the class's spread): "
                    "too few to tell copying "
                    "from two accurate models, so it ranks just under the threshold, unflagged")
        return self.model.describe(a, b)

    def identity_tail(self, a: str, b: str) -> float:
        """The plain Poisson tail of the pair's identical wrong answers at their expected count
        (not scaled for the class's spread): identical predictions are evidence where it is
        at most ``IDENTITY_P`` (module doc)."""
        o = self.model.pairs(np.array([self.names.index(a)]), np.array([self.names.index(b)]))
        return float(poisson_tail(o["same_wrong"], o["expected"])[0])

    def _company(self, i: int, j: int) -> str:
        """The duplicates a stand-out pair shares its nearness with, in words ("" for none)."""
        group = sorted(self.nearness.group(i, j, self._limit()) - {i, j})
        if not group:
            return ""
        return (" (but " + ", ".join(self.names[k] for k in group)
                + (", who predicts" if len(group) == 1 else ", who predict")
                + " as one of them does)")

    def _agreement(self, raw: dict[str, np.ndarray], ea: np.ndarray,
                   eb: np.ndarray) -> np.ndarray:
        """Ids with the same prediction, from counts the model already has: both right, or
        both wrong with the same label, i.e. ``n - e_a - e_b + both_wrong + same_wrong``."""
        return self.n_ids - ea - eb + raw["both_wrong"] + raw["same_wrong"]

    def block(self, ra: np.ndarray, rb: np.ndarray, **kw) -> dict[str, np.ndarray]:
        raw = self.model.block(ra, rb, **kw)  # lazy_p: p-values are not used here
        agree = self._agreement(raw, self.errors[ra][:, None], self.errors[rb][None, :])
        chance = None if self.shares is None else \
            self.n_ids * (1.0 - self.shares[ra] @ self.shares[rb].T)
        ra, rb = np.asarray(ra, np.intp).reshape(-1), np.asarray(rb, np.intp).reshape(-1)
        return self._fold(raw, agree, chance, ra[:, None], rb[None, :])

    def pairs(self, r: np.ndarray, c: np.ndarray) -> dict[str, np.ndarray]:
        raw = self.model.pairs(r, c)
        chance = None if self.shares is None else self.n_ids * (
            1.0 - np.einsum("ij,ij->i", self.shares[r], self.shares[c]))
        return self._fold(raw, self._agreement(raw, self.errors[r], self.errors[c]), chance,
                          r, c)


def _label_shares(model) -> np.ndarray | None:
    """Each student's share of predictions per label (missing ones in no label), or None for
    a model without label codes (regression)."""
    codes = getattr(model, "_codes", None)
    n_labels = int(getattr(model, "n_classes", 0) or 0)
    if codes is None or not n_labels or not codes.size:
        return None
    codes = np.asarray(codes)
    ok = (codes >= 0) & (codes < n_labels)
    rows = np.broadcast_to(np.arange(codes.shape[0])[:, None], codes.shape)
    counts = np.zeros((codes.shape[0], n_labels))
    np.add.at(counts, (rows[ok], codes[ok]), 1.0)
    return counts / max(codes.shape[1], 1)
