"""One verdict per pair from both kinds of evidence: the final score and why it is flagged.

Code alone (no runs, or a source rather than a classmate): the score is the code score.

Two programs that both ran on the hidden test set carry a second, independent reading. Their
code score first passes through ``code_scale``: short course programs that read the same files,
fit a model and write a submission resemble each other far more than free-form code does (in
the generated runnable classes honest pairs reach code 0.79-0.86 from shared idioms alone, and
their predictions are independent), so in a class with runs code alone must reach
``code_alone`` to flag. The scale applies to every pair of classmates there, also where one
run failed: the idioms are the class's, and a broken run is no sign of a copy. The scale is piecewise linear, maps ``code_alone`` to
the threshold and 1 to 1, and keeps the order of code scores. Then::

    score = 1 - (1 - scaled_code) * (1 - behaviour)

so either kind alone at the threshold flags, and two moderate kinds together do too. Both
must then be moderate, each at least ``MODERATE_SHARE`` of the threshold: code that alone
falls just short of flagging (the class's idioms) plus a trace of shared wrong answers
(behaviour 0.08: p = 1e-3.7, within what the class's model-alike pairs reach) is one kind
near the bar, not two kinds of evidence. Such a pair ranks just under the threshold
(``held_score``), in the order of its combined score.

A pair whose agreement a standard model explains (both students reproduce, say, ``SVC()``)
has no behavioural evidence, but it is agreement: it ranks in a band from ``explained_score``
up to the threshold, higher the nearer its scaled code score comes to the threshold (or at its
scaled code score once that flags), so a copy of a student who fitted a default model still
ranks above the class's unrelated pairs without being flagged on that agreement, and among
explained pairs the one with the more similar code first. The explained score may differ per standard model: a setting students choose
(k-NN with k = 3) explains agreement less fully than a default every student writes, so its
pairs rank higher, still under the threshold.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

__all__ = ["MODERATE_SHARE", "code_scale", "final_score", "held_score", "reasons"]

#: "moderate" evidence: at least this share of the threshold (on the scaled code's or
#: the behaviour's own scale); two moderate kinds together flag, a weaker one adds nothing
MODERATE_SHARE = 0.5
_HELD_BAND = 0.02  # held pairs rank in [threshold * (1 - _HELD_BAND), threshold)


def code_scale(code: np.ndarray, threshold: float, code_alone: float) -> np.ndarray:
    """Code scores on the scale of a pair whose programs both ran: ``code_alone`` maps to
    ``threshold``, 0 to 0 and 1 to 1, linearly in between (order kept)."""
    code = np.asarray(code, dtype=np.float64)
    if code_alone <= threshold:
        return code
    low = code * (threshold / code_alone)
    high = threshold + (code - code_alone) * ((1.0 - threshold) / (1.0 - code_alone))
    return np.where(code <= code_alone, low, high)


def final_score(code: np.ndarray, behaviour: Mapping[str, np.ndarray] | None, *,
                threshold: float, code_alone: float,
                explained_score: float | np.ndarray,
                unproven_score: float | None = None) -> np.ndarray:
    """The final score of pairs from their code scores and behavioural evidence.

    Parameters
    ----------
    code : ndarray
        Code scores (any shape).
    behaviour : mapping or None
        Arrays of the same shape: ``behaviour`` (score in [0, 1]), ``valid`` (1 where both
        students have a valid run), ``explained`` (index of the standard model that explains
        the agreement, -1 for none) and optionally ``peer`` (1 for classmates in a class with
        runs: the code scale applies even where one run failed; default ``valid``). None:
        code only.
    threshold, code_alone : float
        See ``SimilarityOptions``.
    explained_score : float or ndarray
        Where an explained pair's band starts: one score, or one per standard model (indexed
        by ``explained``). The pair ranks in ``[explained_score, unproven_score)`` (up to the
        threshold without ``unproven_score``), higher the nearer its scaled code score comes
        to the threshold (identical predictions with similar code say more than identical
        predictions alone, and the score column, not only the order of ``pairs.csv``, shows
        it); a scaled code score above the band ranks the pair by it, and code at the
        threshold on its own flags.
    unproven_score : float, optional
        Where the band starts for a pair whose predictions are identical but rest on too few
        wrong answers to be evidence (``behaviour["unproven"]``, from
        ``similarity.behaviour_identity``): ``[unproven_score, threshold)``, above every
        explained pair's band (identical predictions that no standard model gives say more
        than those one does); None: no such band.
    """
    code = np.asarray(code, dtype=np.float64)
    if behaviour is None:
        return code
    valid = np.asarray(behaviour["valid"]) > 0
    peer = np.asarray(behaviour["peer"]) > 0 if "peer" in behaviour else valid
    beh = np.where(valid, behaviour["behaviour"], 0.0)
    scaled = np.where(peer, code_scale(code, threshold, code_alone), code)
    score = 1.0 - (1.0 - scaled) * (1.0 - beh)
    # over the threshold on neither kind alone nor on two moderate ones: held just under it
    held = ((score >= threshold) & (scaled < threshold) & (beh < threshold)
            & (np.minimum(scaled, beh) < MODERATE_SHARE * threshold))
    score = np.where(held, held_score(score, threshold), score)
    which = np.asarray(behaviour["explained"])
    explained = valid & (which >= 0)
    floor = np.asarray(explained_score, dtype=np.float64)
    if floor.ndim:  # one per standard model
        floor = floor[np.clip(which, 0, max(floor.size - 1, 0)).astype(np.intp)] \
            if floor.size else np.zeros(which.shape)
    # The explained bands end where the unproven one starts: two honest users of SVC() on
    # one tutorial split (a setting's band) ranked above a rewritten copy identical on 8
    # wrong answers, and pushed it out of the top 10 (digits, seed 9).
    top = threshold if unproven_score is None else unproven_score
    out = np.where(explained, np.maximum(scaled, _band(floor, scaled, threshold, top)), score)
    if unproven_score is not None and "unproven" in behaviour:
        unproven = valid & ~explained & (np.asarray(behaviour["unproven"]) > 0)
        out = np.where(unproven, np.maximum(score, _band(unproven_score, scaled, threshold)),
                       out)
    return out


def held_score(score: np.ndarray, threshold: float) -> np.ndarray:
    """Combined scores at or over the threshold, mapped just under it (order kept): where the
    two kinds of evidence together pass the threshold but one of them is not even moderate."""
    return threshold - _HELD_BAND * threshold * (1.0 - score) / max(1.0 - threshold, 1e-12)


def _band(floor: float | np.ndarray, scaled: np.ndarray, threshold: float,
          top: float | None = None) -> np.ndarray:
    """A score in ``[floor, top)`` (``top``: the threshold unless given), higher the nearer
    ``scaled`` comes to the threshold."""
    top = threshold if top is None else top
    return floor + (top - floor) * np.minimum(scaled / threshold, 1.0)


def reasons(code: np.ndarray, behaviour: np.ndarray, valid: np.ndarray, score: np.ndarray,
            threshold: float, code_alone: float, peer: np.ndarray | None = None) -> np.ndarray:
    """Why each pair is flagged (vectorised): ``code`` or ``behaviour`` alone strong enough,
    ``both`` (both strong, or both moderate with the final score at the threshold), or
    ``""`` under the threshold. ``valid``: both programs ran (behaviour counts); ``peer``:
    classmates in a class with runs (code alone must reach ``code_alone``; default
    ``valid``)."""
    valid = np.asarray(valid, dtype=bool)
    peer = valid if peer is None else np.asarray(peer, dtype=bool)
    bar = np.where(peer & (code_alone > threshold), code_alone, threshold)
    code_strong = np.asarray(code) >= bar
    beh_strong = valid & (np.asarray(behaviour) >= threshold)
    why = np.where(code_strong & ~beh_strong, "code",
                   np.where(beh_strong & ~code_strong, "behaviour", "both"))
    return np.where(np.asarray(score) >= threshold, why, "")

