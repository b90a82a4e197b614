"""How near each student's predictions come to anyone else's: the pair that stands out.

A copy that changes a few predictions (a blend with another model's probabilities, near-tie
leaves flipped, a handful of labels edited by hand) leaves the identity rule's tolerance
(``similarity.behaviour_identity``) and, in a hard, noisy class, gets nothing from the
answer-copying statistic either: there every honest pair shares hundreds of wrong answers
and the class's calibration divides them away (a dispersion of 49 on an 8-class problem
with 12 % label noise; an exact copy had p = 0.025). What such a copy keeps is nearness that
stands out: it differs from its source on 16-22 of 1,000 ids, while each of the two is
88-437 ids from every other student and every standard model. Honest pairs of one family
have company: three near-unregularised logistic regressions lay 5, 13 and 16 ids apart, and
the nearest honest pair outside them (63 ids) had a third student 69 ids away.

For a pair ``(i, j)`` with ``d`` ids predicted differently (a missing prediction differs from
everything), its *group* is the two and their duplicates: students within ``duplicate`` ids of
either (identity's tolerance; a source's exact copies), at most ``MAX_GROUP`` in all. The
*others' distance* is the nearest any outsider comes to a member: another student, or a
standard model (a pair near a default shares that default's neighbourhood)::

    stands out  when  d <= STANDOUT_RATIO * others

A near copy of a source that also has an exact copy is no less a copy: the exact copy is the
source again (MNIST: a support-vector classifier copied exactly by one student and with
``C = 6`` for 5 by another, 2 ids from it and 27 from everyone else). A third honest model of
the same kind is no duplicate but company: three students who wrote the slides' softmax
regression by gradient descent lay close together, and none of their pairs stands out.

"""

from __future__ import annotations

import numpy as np

__all__ = ["MAX_GROUP", "NearestOthers", "STANDOUT_RATIO"]

#: a pair stands out when it is at most this share of the others' distance apart (copies
#: seen: 0.01-0.12 of it; honest pairs of one family: 0.39 and more)
STANDOUT_RATIO = 0.25
MAX_GROUP = 4  # a pair's group holds at most this many students (the two and duplicates)
NEIGHBOURS = 16  # nearest classmates kept per student
_BLOCK = 512  # rows per block of the all-pairs pass


class NearestOthers:
    """Each student's nearest classmates and standard model, in ids predicted differently.

    Parameters
    ----------
    model : BehaviourModel
        A fitted classification model (``_products``, ``_agree``, ``n_ids``).
    errors : ndarray of shape (n_students,)
        Each student's wrong answers (missing ones included).
    """

    def __init__(self, model, errors: np.ndarray) -> None:
        n, k = len(model.names), int(model.n_ids)
        errors = np.asarray(errors, np.float64)
        width = min(NEIGHBOURS, max(n - 1, 0))
        self.order = np.zeros((n, width), np.int64)  # nearest classmates first
        self.dist = np.zeros((n, width))
        rows = np.arange(n)
        for lo in range(0, n, _BLOCK):
            ra = rows[lo:lo + _BLOCK]
            same, both = model._products.counts(ra, rows)
            d = errors[ra, None] + errors[None, :] - both - same
            d[np.arange(ra.size), ra] = np.inf  # not one's own neighbour
            if not width:
                continue
            near = (np.argpartition(d, width - 1, axis=1)[:, :width] if width < n - 1
                    else np.argsort(d, axis=1, kind="stable")[:, :width])
            near_d = np.take_along_axis(d, near, axis=1)
            order = np.argsort(near_d, axis=1, kind="stable")
            self.order[ra] = np.take_along_axis(near, order, axis=1)
            self.dist[ra] = np.take_along_axis(near_d, order, axis=1)
        self._kth = (self.dist[:, min(MAX_GROUP, width) - 1] if width
                     else np.full(n, np.inf))
        agree = np.asarray(getattr(model, "_agree", np.zeros((n, 0))))
        # (agreement is a share of the ids: back to a count, rounded as counts are)
        self.reference = (np.rint(k * (1.0 - agree)).min(1) if agree.size
                          else np.full(n, np.inf))

    def group(self, i: int, j: int, duplicate: float) -> set[int]:
        """The pair ``(i, j)`` and the students within ``duplicate`` ids of either."""
        group = {i, j}
        for m in (i, j):
            for near, dist in zip(self.order[m], self.dist[m], strict=True):
                if dist > duplicate:
                    break
                group.add(int(near))
        return group

    def others(self, i: int, j: int, duplicate: float) -> float:
        """The others' distance of the pair ``(i, j)``: the nearest any outsider (student or
        standard model) comes to a member of its group (the two and their duplicates, within
        ``duplicate`` ids); 0 for a group larger than ``MAX_GROUP``."""
        group = self.group(i, j, duplicate)
        if len(group) > MAX_GROUP:
            return 0.0
        out = min(float(self.reference[m]) for m in group)
        for m in group:
            if not self.dist.shape[1]:
                break
            outside = [dist for near, dist in zip(self.order[m], self.dist[m], strict=True)
                       if int(near) not in group]
            # all of the nearest in the group: the farthest of them bounds the next one
            out = min(out, float(outside[0] if outside else self.dist[m, -1]))
        return out

    def stands_out(self, disagree: np.ndarray, r: np.ndarray, c: np.ndarray,
                   duplicate: float = 0.0) -> np.ndarray:
        """Pairs ``(r, c)`` (1-D) whose ``disagree`` (ids predicted differently) is at most
        ``STANDOUT_RATIO`` of their others' distance (``duplicate``: see :meth:`others`)."""
        disagree = np.asarray(disagree, np.float64)
        r, c = np.asarray(r, np.int64), np.asarray(c, np.int64)
        # A bound on the others' distance rules out most pairs at once: a standard model is
        # always an outsider, and so is one of each member's MAX_GROUP nearest classmates
        # (the group holds at most MAX_GROUP - 1 others).
        bound = np.minimum(self.reference, self._kth)
        out = disagree <= STANDOUT_RATIO * np.minimum(bound[r], bound[c])
        for t in np.flatnonzero(out):
            out[t] = disagree[t] <= STANDOUT_RATIO * self.others(int(r[t]), int(c[t]),
                                                                 duplicate)
        return out
