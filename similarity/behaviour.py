r"""Behavioural evidence of copying from hidden-test predictions (answer-copying indices).

Two students who copied share their *wrong* answers. How unlikely is it that two independent
students share this many identical wrong answers, given each one's error rate, each test id's
difficulty and how popular each wrong label is on that id? This is Wollack's omega / the
generalized binomial test of answer copying, brought to ML predictions.

Classification null model
-------------------------
Rows are the students and the reference models, columns the test ids ``k``.

* Error matrix ``E[i, k] = 1`` when row ``i`` is wrong on ``k`` (a missing prediction counts
  as wrong, but is never a wrong *label*, so it never matches anything).
* Error propensity and difficulty, a Rasch model fitted by alternating Newton steps with a
  ridge prior (so ids everybody gets right or wrong stay finite)::

      p[i, k] = P(E[i, k] = 1) = sigmoid(theta[i] + beta[k])

* The null is made from the rows that are answers of independent students: the references,
  the students who do better than predicting the most frequent label, beyond luck, and those
  whose errors still fall where those are wrong (all of them when fewer than
  ``MIN_COUNTED`` beat chance). A student worse than chance is right where the class is
  wrong, or wrong at random; such students get their ``theta`` against the others'
  difficulties, are left out of the popularity counts and of the calibration, and are
  compared with everybody as usual (``_counted_rows``).

* Popularity of each wrong label ``w != truth[k]`` on id ``k`` across the class AND the
  reference models: the label shares ``q[k, :]`` get a symmetric Dirichlet prior, a
  pseudo-count ``alpha`` on each of the ``C - 1`` wrong classes (``A = (C - 1) alpha``), set by
  empirical Bayes so that its agreement ``(alpha + 1) / ((C - 1) alpha + 1)`` is the class's
  pooled agreement between two wrong answers on one id (``prior_alpha``), and the counts
  are LEAVE-PAIR-OUT: for the pair ``(i, j)`` the counts ``c[k, w]`` of wrong labels lose the
  pair's own two answers, giving ``c'[k, w]`` and ``n'[k] = sum_w c'[k, w]``. The chance
  that two independent wrong answers on ``k`` agree is the posterior predictive
  ``E[sum_w q[k, w]**2]``::

      q'[k, w] = (c'[k, w] + alpha) / (n'[k] + A)                     (smoothed share)
      m'[k]    = sum_w (c'[k, w] + alpha) (c'[k, w] + alpha + 1) / ((n'[k] + A) (n'[k] + A + 1))

  (the plug-in ``sum_w q'**2`` underestimates agreement in small classes). Without the
  leave-pair-out, in a small class two copiers would make their own wrong label look popular.

* Expected identical wrong answers and the unconditional test::

      lambda[i, j] = sum_k p[i, k] p[j, k] m'[k]
      p_u = P(Poisson(lambda / phi_u) >= same_wrong / phi_u)

  ``same_wrong`` is Poisson-binomial under the null; the Poisson tail bounds it from above
  (conservative). ``lambda`` is the dense product ``P diag(m) P^T`` plus corrections on the
  ids where ``i`` or ``j`` is wrong (``m'`` differs from ``m`` only there), every term a
  dense or one-hot sparse matrix product, so all pairs of a block cost a few BLAS calls.
* A guard conditional on the ids both got wrong (multiclass only: with two classes every
  shared wrong answer is the same label)::

      mu[i, j] = sum_{k both wrong, labelled} m'[k]
      p_c = P(Binomial(n_both / phi_c, mu / n_both) >= same_wrong / phi_c)

  It does not depend on the Rasch fit, so two honest models that err on the same ids more
  often than a Rasch model predicts (same model family, same features) are not flagged for
  that alone. Where ``p_u < 1e-3`` the reported ``p_value`` is ``max(p_u, p_c)``, elsewhere
  ``p_u``; both events have probability at most ``alpha`` under the null, so the reported
  value is a valid (conservative) p-value, and ``p_c`` is computed only for the few pairs
  that need it.
* Class calibration ``phi_u, phi_c >= 1``: ``(Q3(z) / 0.6745) ** 2`` over (a sample of) the
  class's pairs, ``z = (same_wrong - expected) / sd``. Under the null it is 1; when the whole
  class shares more than the model says (everybody predicts one constant label; many
  students fit the same default model), every count is divided by it, a design effect.
  ``fit(..., calibrate=False)`` turns it off.

Regression (``task="regression"``: mse, mae; roc_auc with probabilities)
------------------------------------------------------------------------
Residuals ``r_i = pred_i - truth`` (centred per student, missing values at the centre). The
class explains its own mean residual, taken LEAVE-PAIR-OUT over the students (references are
no classmates) ``M = (sum_students r - r_i - r_j) / (n_students - 2)``; the evidence is the partial correlation ``rho`` of ``r_i`` and ``r_j`` given
``M``, Fisher's ``z = atanh(rho) sqrt(n_ids - 4)`` and ``p = P(Z >= (z - delta_0) / sigma_0)``
with the class's empirical null (Efron): ``delta_0 = max(0, median z)``, ``sigma_0 = max(1,
MAD(z) / 0.6745)`` over the class's pairs (classes of 5 or more). The shift is needed: ``M``
is a noisy estimate of what the class shares, and partialling it out leaves the others'
averaged noise in both residuals (a small positive correlation for every pair).
``both_wrong``, ``same_wrong`` and ``expected`` are 0; ``correlation`` holds ``rho``.

A correlation says two models are of one kind, not that one was copied: every honest pair
of linear models, of forests or of k-NN regressors shares its family's misfit, and their
residuals correlate at 0.99 and beyond, p far under 1e-12. (In generated regression classes
of 45 students, 13 to 68 honest pairs per class were flagged on that alone.) What a copy
shares that an honest classmate does not is the predictions themselves: a copy's are those
of its source, to the last digit, while two honest models of one family still differ by 1 %
of the class's median RMSE or more (the smallest seen: two SVRs differing in epsilon only,
0.010). So the score of a regression pair is weighted by how near its predictions are: in
full at an RMS difference of the centred residuals up to ``REGRESSION_SAME`` (0.001 of the
class's median RMSE: a copy, also one rounded to a few decimals), not at all from
``REGRESSION_APART`` (0.01) on, log-linearly in between. The p-value is unchanged (it says
how alike the residuals are); only the score, and so the flag, asks for near-identity.

Rounding: a student who writes predictions to a step ``q`` (two decimals: 0.01) adds to each
an error spread evenly over ``[-q/2, q/2]``, of variance ``q**2 / 12``. Every distance (between
students, and to the references) is taken from the mean squared difference less both sides'
rounding variance (times ``1 + ROUNDING_SLACK``, for its sampling noise), never below 0, for
steps up to ``ROUNDING_MAX_STEP`` (0.05) of the class's median RMSE: coarser rounding (whole
numbers on a scale of 1 to 5) is no spread-out noise, and two honest students who both round
so would come out as copies. A copy
of a probability column rounded to two decimals was 0.008 of the median RMSE from its source,
past full credit, and is now at 0; an honest pair, whose differences are far larger than the
step, keeps its distance.

Explained agreement
-------------------
Pair ``(i, j)`` is explained by reference ``M`` in ``explainers`` when both students agree
with ``M`` on at least ``near_exact`` of the ids (regression: within ``1e-3`` of the label
range on that share of ids, and correlation >= 0.999). Only a near-exact match explains: a
copy whose source merely resembles a default model is still a copy. Explained pairs keep
their p-value and get ``behaviour = 0``.

Regression has a second, relative rule. The residuals of every linear model share the
linear misfit, so an honest ridge (``lam = 10``) and an honest ``LinearRegression()`` have
residuals that correlate at 0.9994, which no class mean explains. So a pair is explained too
when both students lie within ``REGRESSION_NEAR`` (0.1) of ``M`` and are no closer to each
other than ``REGRESSION_RATIO`` (a quarter) of the farther one's distance to ``M``. Distances
are RMS differences of the centred residuals in units of the class's median RMSE. A copy of
that ridge is at distance 0 from its source (or rounding away) while both are 0.034 from
``M``: it stays evidence.

Score
-----
``behaviour = clip((-log10 p - 3) / 9, 0, 1)``: 0 for p >= 1e-3, 1 for p <= 1e-12; the
behaviour-alone flag at 0.45 is p <= 10**-7.05. Regression: times ``nearness`` of the pair's
predictions (above).

Examples
--------
>>> m = BehaviourModel.fit({"a": [0, 1, 2, 2], "b": [0, 1, 2, 1]}, [0, 1, 2, 0])
>>> out = m.block(np.arange(2), np.arange(2))
>>> int(out["both_wrong"][0, 1]), int(out["same_wrong"][0, 1])
(1, 0)
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence

import numpy as np
from scipy import special  # the normal tail (ndtr); scipy.stats costs 1.7 s to import

from similarity.behaviour_encode import MISSING, BehaviourInputError, LabelCodes, to_floats
from similarity.behaviour_null import (
    behaviour_score,
    binomial_tail,
    dispersion,
    fit_rasch,
    poisson_tail,
    poisson_tail_bounds,
    sigmoid,
)
from similarity.behaviour_products import BlockProducts

__all__ = ["BehaviourModel", "BehaviourInputError", "KEYS", "TASKS"]

TASKS = ("classification", "regression")
# Keys of the dicts that block() and pairs() return.
KEYS = ("both_wrong", "same_wrong", "expected", "expected_given_both", "p_value", "behaviour",
        "explained", "correlation", "distance")
ALPHA_RANGE = (0.01, 100.0)  # the empirical-Bayes pseudo-count per wrong class is kept in here
GUARD_BELOW = 1e-3  # the conditional guard is computed where the unconditional p is below this
CALIBRATION_PAIRS = 2000  # pairs sampled (seeded) to calibrate the class's dispersion
MIN_NULL_PAIRS = 10  # regression: fewer pairs than this (a class under 5) are not calibrated
REGRESSION_CORR = 0.999  # explained (regression): correlation with the reference at least this
REGRESSION_TOL = 1e-3  # ...and within this share of the label range on near_exact of the ids
REGRESSION_NEAR = 0.1  # relative rule: both within this distance of the reference (module doc)
REGRESSION_RATIO = 0.25  # ...and no closer to each other than this share of their distance to it
REGRESSION_SAME = 1e-3  # regression score in full up to this distance (module doc)
REGRESSION_APART = 1e-2  # ...and none from this distance on
ROUNDING_SLACK = 0.25  # rounding noise taken away: its variance times 1 + this (module doc)
ROUNDING_MAX_STEP = 0.05  # ...for steps up to this share of the class's median RMSE
MIN_COUNTED = 3  # classification: the null counts students who beat chance if this many do
CHANCE_MARGIN = 3.0  # ...by this many binomial standard deviations of the chance error rate
_CHUNK = 1 << 22  # elements per chunk in pairs(): bounded memory for any number of pairs


class BehaviourModel:
    """Fitted null model of independent students over one test set.

    Build it with :meth:`fit`; then :meth:`block` scores all pairs of two row sets, and
    :meth:`pairs` listed pairs (rows index ``names``).

    Parameters
    ----------
    task : {"classification", "regression"}, default="classification"
    near_exact : float, default=0.99
        Share of ids on which both students must match a reference for it to explain them.
    calibrate : bool, default=True
        Calibrate the null's spread to the class (``dispersion``); see the module docstring.

    Attributes
    ----------
    names : list of str
        The students, in row order.
    n_ids : int
    ids : list
        The test ids (``fit(ids=...)``, else ``0 .. n_ids - 1``).
    explainer_names : list of str
        The references that can explain agreement; ``explained`` indexes this list.
    explainer_settings : list of bool
        Per explainer, whether it is a setting students choose rather than a default.
    n_classes : int
        Distinct labels seen (classification).
    alpha : float
        The empirical-Bayes pseudo-count per wrong class (classification; ``prior_alpha``).
    dispersion : dict
        ``{"unconditional": phi_u, "conditional": phi_c}`` (classification) or
        ``{"correlation": sigma_0, "shift": delta_0}`` (regression); ``phi = 1``,
        ``sigma_0 = 1``, ``delta_0 = 0`` mean the class is as the model says.
    error_rate : ndarray of shape (n_students,)
        Share of ids each student got wrong (missing counts as wrong); regression: RMSE.
    counted : ndarray of shape (n_students,), bool
        The students whose answers make the null (classification: those who beat predicting
        the most frequent label, or whose errors fall where theirs do, see
        ``_counted_rows``; regression: all).
    """

    def __init__(self, *, task: str = "classification", near_exact: float = 0.99,
                 calibrate: bool = True) -> None:
        self.task = task
        self.near_exact = near_exact
        self.calibrate = calibrate

    # ------------------------------------------------------------------ fitting
    @classmethod
    def fit(cls, predictions: Mapping[str, Sequence], truth: Sequence, *,
            task: str = "classification", references: Mapping[str, Sequence] | None = None,
            explainers: Collection[str] = (), settings: Collection[str] = (),
            ids: Sequence | None = None, near_exact: float = 0.99,
            calibrate: bool = True,
            rounding: Mapping[str, float] | None = None,
            explain_only: Collection[str] = ()) -> BehaviourModel:
        """Fit the null model to one class's predictions on the hidden test set.

        Parameters
        ----------
        predictions : mapping of str to sequence of shape (n_ids,)
            Each student's predicted label per test id, aligned with ``truth`` (None where a
            prediction is missing). Only valid runs: the caller skips failed ones.
        truth : sequence of shape (n_ids,)
            The hidden labels (classification) or values (regression); none missing.
        task : {"classification", "regression"}, default="classification"
        references : mapping of str to sequence of shape (n_ids,), optional
            Reference models' predictions: they count in the class's wrong-label popularity
            (classification) and may explain agreement.
        explainers : collection of str, default=()
            The names in ``references`` that can explain a pair's agreement.
        settings : collection of str, default=()
            The explainers that are a setting students choose (k-NN with k = 3) rather than
            a default: their agreement is explained too, but ranks higher
            (``explainer_settings``; see ``similarity.verdict``).
        ids : sequence of shape (n_ids,), optional
            Test ids, for :meth:`shared_wrong`.
        near_exact : float, default=0.99
        calibrate : bool, default=True
        explain_only : collection of str, default=()
            References that may explain agreement but do not make the classification null
            (the Rasch difficulties and the wrong labels' popularity): a family of a hundred
            near-identical settings (the lab's gradient descent) would outweigh a class of
            fifty, and moved every exact copy's expected count by 2-3 %.
        rounding : mapping of str to float, optional
            Regression: the step each student's predictions were written to (0.01 for two
            decimals; absent or 0: full precision). Rounding adds noise of variance
            ``step**2 / 12`` to every prediction, which the distances take away (module doc,
            "Rounding").

        Returns
        -------
        BehaviourModel

        Raises
        ------
        BehaviourInputError
            Lengths differ, a label is missing from ``truth``, an explainer is not a
            reference, or (regression) a value is not a number; the message names it.
        """
        return cls(task=task, near_exact=near_exact, calibrate=calibrate)._fit(
            predictions, truth, references or {}, explainers, settings, ids, rounding or {},
            frozenset(map(str, explain_only)))

    def _fit(self, predictions, truth, references, explainers, settings,
             ids, rounding, explain_only) -> BehaviourModel:
        if self.task not in TASKS:
            raise BehaviourInputError(f"unknown task {self.task!r}; use one of {TASKS}")
        if not 0.0 < self.near_exact <= 1.0:
            raise BehaviourInputError(f"near_exact must be in (0, 1], got {self.near_exact}")
        missing = [e for e in explainers if e not in references]
        if missing:
            raise BehaviourInputError(
                f"explainer(s) {missing} are not among the references {sorted(references)}; "
                "pass their predictions in references=")
        self.names = [str(s) for s in predictions]
        self.reference_names = [str(s) for s in references]
        self.explainer_names = [str(e) for e in explainers]
        unknown = sorted(set(map(str, settings)) - set(self.explainer_names))
        if unknown:
            raise BehaviourInputError(f"setting(s) {unknown} are not among the explainers; "
                                      "a setting must also be passed in explainers=")
        self.explainer_settings = [e in set(map(str, settings)) for e in self.explainer_names]
        try:
            k = len(truth)
        except TypeError:
            raise BehaviourInputError("truth must be a sequence of hidden labels") from None
        self.n_ids = k
        self.ids = list(range(k)) if ids is None else list(ids)
        if len(self.ids) != k:
            raise BehaviourInputError(f"{len(self.ids)} ids for {k} hidden labels; give one "
                                      "id per hidden label, in the same order")
        if self.task == "classification":
            self._fit_classification(predictions, truth, references, explain_only)
        else:
            self._fit_regression(predictions, truth, references, rounding)
        self._calibrate()
        return self

    def _fit_classification(self, predictions, truth, references, explain_only) -> None:
        k = self.n_ids
        vocab = LabelCodes()
        t = vocab.encode(truth, k, "truth (the hidden labels)")
        if (t == MISSING).any():
            at = int(np.argmax(t == MISSING))
            raise BehaviourInputError(f"truth: the hidden label of id {self.ids[at]!r} is "
                                      "missing; every test id needs its label")
        rows = [vocab.encode(v, k, f"student {s!r}") for s, v in predictions.items()]
        rows += [vocab.encode(v, k, f"reference {r!r}") for r, v in references.items()]
        codes = np.vstack(rows) if rows else np.zeros((0, k), np.int32)
        self._labels = vocab.labels
        self._truth = t
        c = max(len(vocab.labels), 2)
        self.n_classes = len(vocab.labels)

        wrong = codes != t[None, :]  # missing counts as wrong ...
        labelled = wrong & (codes != MISSING)  # ... but is no wrong label
        ns = len(self.names)
        counted = _counted_rows(wrong, t, ns)
        counted[ns:] &= np.array([r not in explain_only for r in self.reference_names], bool)
        self.counted = counted[:ns]
        theta, beta = fit_rasch(wrong.astype(np.float32), fit_rows=counted)
        self.theta, self.beta = theta[:ns], beta
        # Wrong labels per (id, label) column: the columns that occur are kept, also those of
        # rows not counted (their same_wrong needs them), with the counted rows' counts.
        r_idx, k_idx = np.nonzero(labelled)
        flat = k_idx.astype(np.int64) * c + codes[r_idx, k_idx]
        cols, inv = np.unique(flat, return_inverse=True)
        inv = inv.reshape(-1)
        counts = np.bincount(inv[counted[r_idx]], minlength=len(cols))
        col_id = (cols // c).astype(np.intp)
        n_k = np.bincount(col_id, weights=counts, minlength=k)
        self._alpha = self.alpha = prior_alpha(counts, n_k, c - 1)
        self._A = self._alpha * (c - 1)
        d_k = n_k + self._A
        # S~ = sum_w (c + alpha)(c + alpha + 1) over the C - 1 wrong labels of the id.
        s_k = (np.bincount(col_id, weights=counts.astype(np.float64) ** 2, minlength=k)
               + 2 * self._alpha * n_k + (c - 1) * self._alpha ** 2 + d_k)
        self._n, self._S, self._D = n_k, s_k, d_k
        self._w0 = (s_k / (d_k * (d_k + 1))).astype(np.float32)
        self._w1 = np.where(n_k >= 1, 1 / np.maximum((d_k - 1) * d_k, 1e-9), 0).astype(np.float32)
        self._w2 = np.where(n_k >= 2, 1 / np.maximum((d_k - 2) * (d_k - 1), 1e-9),
                            0).astype(np.float32)
        self._n_cols = len(cols)

        stu = r_idx < ns  # per-student arrays; the references only fed the counts and the fit
        self._codes = codes[:ns]
        self._E = wrong[:ns]
        self._U = labelled[:ns]
        # the wrong labels the counts hold, which leave-pair-out takes away again
        self._UC = labelled[:ns] & self.counted[:, None]
        col = np.full((ns, k), -1, np.int32)
        col[r_idx[stu], k_idx[stu]] = inv[stu]
        self._col = col
        g = np.zeros((ns, k), np.float32)  # h = 2 (c[k, own label] + alpha) where wrong
        g[r_idx[stu], k_idx[stu]] = 2 * (counts[inv[stu]] + self._alpha)
        self._G = g
        self._products = BlockProducts(
            sigmoid(theta[:ns, None] + beta[None, :]), self._UC, self._E, g, col, len(cols),
            s_k, self._w0, self._w1, self._w2)
        self.error_rate = wrong[:ns].mean(1) if k else np.zeros(ns)

        # Agreement with each explainer: share of ids with the same (non-missing) label.
        ref_rows = {r: ns + i for i, r in enumerate(self.reference_names)}
        agree = np.zeros((ns, len(self.explainer_names)))
        for e, name in enumerate(self.explainer_names):
            ref = codes[ref_rows[name]]
            agree[:, e] = ((self._codes == ref[None, :]) & (ref[None, :] != MISSING)).mean(1) \
                if k else 0.0
        self._agree = agree
        self._ok = agree >= self.near_exact

    def _fit_regression(self, predictions, truth, references, rounding) -> None:
        k = self.n_ids
        t = to_floats(truth, k, "truth (the hidden values)")
        if np.isnan(t).any():
            at = int(np.argmax(np.isnan(t)))
            raise BehaviourInputError(f"truth: the hidden value of id {self.ids[at]!r} is "
                                      "missing; every test id needs its value")
        rows = [to_floats(v, k, f"student {s!r}") for s, v in predictions.items()]
        rows += [to_floats(v, k, f"reference {r!r}") for r, v in references.items()]
        pred = np.vstack(rows) if rows else np.zeros((0, k))
        # A prediction a million times beyond the labels is clipped there: a hostile 1e300
        # would overflow the sums of squares (identical predictions stay identical).
        bound = 1e6 * (float(np.abs(t).max()) + 1.0) if k else 1.0
        pred = np.clip(pred, -bound, bound)  # missing (NaN) stays missing
        ns = len(self.names)
        self.counted = np.ones(ns, bool)
        self._truth_values = t
        self._pred = pred[:ns]
        self.n_classes = 0
        res = pred - t[None, :]
        valid = ~np.isnan(res)
        cnt = np.maximum(valid.sum(1, keepdims=True), 1)
        res = np.where(valid, res, 0.0)
        self.error_rate = np.sqrt((res ** 2).sum(1) / cnt[:, 0])[:ns]
        res -= np.where(valid, res.sum(1, keepdims=True) / cnt, 0.0)  # centred; missing at 0
        self._R = res[:ns]
        # The class mean residual is the students' own: the references explain agreement but
        # are no classmates (several standard models of one family, or the trivial model whose
        # residual is the truth itself, would pull the mean their way: a class of nine moved
        # an honest pair of k-NN regressors from p = 4e-4 to 1e-20).
        total = self._R.sum(0)
        self._t = self._R @ total
        self._nrm = np.einsum("ij,ij->i", self._R, self._R)
        self._TT = float(total @ total)
        self._n_rows = ns

        span = float(t.max() - t.min()) if k else 0.0
        tol = REGRESSION_TOL * (span if span > 0 else 1.0)
        # the unit of distance: the class's median RMSE (distances between students and to
        # the references are RMS differences of centred residuals, in this unit), over the
        # students who beat predicting the mean: twelve writing noise of spread 10,000 made
        # the unit enormous and every pair near (an honest pair 3 % apart flagged at 1.0)
        unit = _typical_error(self.error_rate, float(np.std(t)) if k else 0.0) if ns else 0.0
        self._unit = unit if unit > 0 else 1.0
        # rounding noise of each student's predictions: only for steps small beside the
        # class's RMSE, where it is noise (whole numbers on a 1-5 scale are no such thing)
        steps = np.array([float(rounding.get(name, 0.0)) for name in self.names])
        self._rv = np.where(steps <= ROUNDING_MAX_STEP * self._unit, steps ** 2 / 12.0, 0.0)
        ref_rows = {r: ns + i for i, r in enumerate(self.reference_names)}
        # the explainers' own predictions (the order rule of a roc_auc course reads them)
        self._ref_pred = pred[[ref_rows[n] for n in self.explainer_names]] \
            if self.explainer_names else np.zeros((0, k))
        agree = np.zeros((ns, len(self.explainer_names)))
        ok = np.zeros(agree.shape, bool)
        dist = np.full(agree.shape, np.inf)
        for e, name in enumerate(self.explainer_names):
            ref = pred[ref_rows[name]]
            close = np.abs(self._pred - ref[None, :]) <= tol  # NaN compares False
            agree[:, e] = close.mean(1) if k else 0.0
            ok[:, e] = (agree[:, e] >= self.near_exact) & (_corr_rows(self._pred, ref)
                                                           >= REGRESSION_CORR)
            if k:
                msd = ((self._R - res[ref_rows[name]][None, :]) ** 2).mean(1)
                dist[:, e] = np.sqrt(_unrounded(msd, self._rv)) / self._unit
        self._agree, self._ok = agree, ok
        self._ref_dist = dist

    def _calibrate(self) -> None:
        """Estimate the class's dispersion from a seeded sample of its pairs."""
        ones = {"unconditional": 1.0, "conditional": 1.0} if self.task == "classification" \
            else {"correlation": 1.0, "shift": 0.0}
        self.dispersion = dict(ones)
        # the class's spread is that of the students its null counts (classification: not
        # those who do worse than chance)
        pool = np.flatnonzero(self.counted)
        n = len(pool)
        if not self.calibrate or n < 2:
            return
        total = n * (n - 1) // 2
        if total <= CALIBRATION_PAIRS:
            r, c = np.triu_indices(n, 1)
        else:
            rng = np.random.default_rng(0)
            r = rng.integers(0, n, CALIBRATION_PAIRS)
            c = (r + rng.integers(1, n, CALIBRATION_PAIRS)) % n
        r, c = pool[r], pool[c]
        # pairs a standard model explains say nothing about the class's spread: two students
        # who both ran SVC() agree because of SVC(), and would inflate every other pair's null
        raw = self._raw_pairs(r, c)
        free = self._explained(r, c, raw.get("dist")) < 0
        if free.any() and not free.all():
            raw = {key: v[free] for key, v in raw.items()}
            r, c = r[free], c[free]
        if self.task == "classification":
            x, lam, mu, nb = raw["same_wrong"], raw["expected"], raw["expected_given_both"], \
                raw["n_labelled"]
            pbar = np.where(nb > 0, mu / np.maximum(nb, 1), 0)
            self.dispersion["unconditional"] = dispersion(x, lam, lam)
            self.dispersion["conditional"] = dispersion(x, mu, nb * pbar * (1 - pbar))
        elif len(r) >= MIN_NULL_PAIRS:  # the empirical null of Fisher's z (Efron)
            z = raw["z"]
            mid = float(np.median(z))
            self.dispersion["shift"] = max(0.0, mid)
            self.dispersion["correlation"] = max(1.0, float(np.median(np.abs(z - mid))) / 0.6745)

    # ------------------------------------------------------------------ scoring
    def block(self, ra: np.ndarray, rb: np.ndarray, *,
              lazy_p: bool = False) -> dict[str, np.ndarray]:
        """All pairs ``ra x rb`` (row indices into ``names``), as 2-D arrays.

        ``lazy_p=True`` (classification): the p-values certainly at least ``GUARD_BELOW``
        (behaviour 0, no guard) are left NaN, most of a class's pairs: :meth:`unconditional_p`
        gives them, the same numbers, for the few pairs a caller keeps.

        Returns
        -------
        dict of str to ndarray of shape (len(ra), len(rb))
            ``KEYS``: ``both_wrong``, ``same_wrong``, ``explained`` (int; ``explained`` indexes
            ``explainer_names``, -1 for none), ``expected``, ``expected_given_both``,
            ``p_value``, ``behaviour``, ``correlation``, ``distance`` (float: regression, the
            RMS difference of the two runs' residuals in the class's unit, which breaks ties
            between saturated scores; NaN for classification). The diagonal ``i == i`` is
            meaningless.
        """
        ra = np.asarray(ra, np.intp).reshape(-1)
        rb = np.asarray(rb, np.intp).reshape(-1)
        if self.task == "classification":
            raw = self._class_block(ra, rb)
        else:
            raw = self._regression_block(ra, rb)
        raw["explained"] = self._explained(ra[:, None], rb[None, :], raw.get("dist"))
        return self._finish(raw, ra[:, None], rb[None, :], lazy_p)

    def pairs(self, r: np.ndarray, c: np.ndarray) -> dict[str, np.ndarray]:
        """Listed pairs ``(r[t], c[t])``, as 1-D arrays with the keys of :meth:`block`."""
        r = np.asarray(r, np.intp).reshape(-1)
        c = np.asarray(c, np.intp).reshape(-1)
        if r.shape != c.shape:
            raise ValueError(f"pairs(): {len(r)} rows but {len(c)} columns")
        raw = self._raw_pairs(r, c)
        raw["explained"] = self._explained(r, c, raw.get("dist"))
        return self._finish(raw, r, c)

    def unconditional_p(self, same_wrong: np.ndarray, expected: np.ndarray) -> np.ndarray:
        """The p-values that ``block(..., lazy_p=True)`` left NaN, from the pairs' own
        ``same_wrong`` and ``expected`` (classification)."""
        return poisson_tail(np.asarray(same_wrong, np.float64), np.asarray(expected, np.float64),
                            self.dispersion["unconditional"])

    def _finish(self, raw: dict[str, np.ndarray], r: np.ndarray, c: np.ndarray,
                lazy_p: bool = False) -> dict[str, np.ndarray]:
        """p-values, scores and int counts from the raw sums of pairs ``(r, c)`` (broadcast);
        ``lazy_p``: see :meth:`block`."""
        shape = raw["explained"].shape
        out = {"explained": raw["explained"]}
        test = None  # lazy_p: the pairs whose p-value is computed
        if self.task == "classification":
            x = raw["same_wrong"]
            out["both_wrong"] = np.rint(raw["both_wrong"]).astype(np.int64)
            out["same_wrong"] = np.rint(x).astype(np.int64)
            x = out["same_wrong"].astype(np.float64)
            lam = raw["expected"].astype(np.float64)
            phi = self.dispersion["unconditional"]
            if lazy_p:  # the tail only where it may be under GUARD_BELOW (few pairs)
                test = lam < self._p_bounds(phi)[np.minimum(out["same_wrong"], self.n_ids + 1)]
                p = np.full(shape, np.nan)
                p[test] = poisson_tail(x[test], lam[test], phi)
            else:
                p = poisson_tail(x, lam, phi)
            if "expected_given_both" in raw:
                mu = raw["expected_given_both"].astype(np.float64)
                n_lab = raw["n_labelled"]
            else:  # a block: the conditional sums only where the guard needs them
                mu = np.full(shape, np.nan)
                n_lab = np.zeros(shape)
                at = np.nonzero(p < GUARD_BELOW) if self.n_classes > 2 else ()
                if at and len(at[0]):
                    rr, cc = np.broadcast_to(r, shape)[at], np.broadcast_to(c, shape)[at]
                    sub = self._raw_pairs(rr, cc)
                    mu[at], n_lab[at] = sub["expected_given_both"], sub["n_labelled"]
            if self.n_classes > 2:
                need = p < GUARD_BELOW
                if need.any():
                    pc = binomial_tail(x[need], np.rint(n_lab[need]), mu[need],
                                       self.dispersion["conditional"])
                    p[need] = np.maximum(p[need], pc)
            # (the share of ids predicted differently: ``IdentityEvidence`` knows it)
            out.update(expected=lam, expected_given_both=mu, p_value=p,
                       correlation=np.zeros(shape), distance=np.full(shape, np.nan))
        else:
            z = (raw["z"] - self.dispersion["shift"]) / self.dispersion["correlation"]
            zero = np.zeros(shape, np.int64)
            out.update(both_wrong=zero, same_wrong=zero.copy(), expected=np.zeros(shape),
                       expected_given_both=np.zeros(shape), p_value=special.ndtr(-z),
                       correlation=raw["rho"],
                       distance=np.array(np.broadcast_to(raw["dist"], shape), np.float64))
        if test is not None:  # elsewhere p >= GUARD_BELOW (NaN here): behaviour 0
            beh = np.zeros(shape)
            beh[test] = behaviour_score(out["p_value"][test])
        else:
            beh = behaviour_score(out["p_value"])
        if self.task == "regression":  # models of one kind correlate; copies are identical
            beh = beh * nearness(np.broadcast_to(raw["dist"], shape))
        beh[out["explained"] >= 0] = 0.0
        out["behaviour"] = beh
        return {key: out[key] for key in KEYS}

    def _p_bounds(self, phi: float) -> np.ndarray:
        """``poisson_tail_bounds`` at ``GUARD_BELOW`` for this model's ids, made once."""
        got = getattr(self, "_bounds", None)
        if got is None or got[0] != phi:
            got = self._bounds = (phi, poisson_tail_bounds(GUARD_BELOW, self.n_ids, phi))
        return got[1]

    def _explained(self, r: np.ndarray, c: np.ndarray,
                   dist: np.ndarray | None = None) -> np.ndarray:
        """Index of the best reference both rows match near-exactly, else -1 (broadcasts).
        Regression with the pair's own distance ``dist``: also the nearest reference both
        lie near when they are no closer to each other (the relative rule, module doc)."""
        shape = np.broadcast(r, c).shape
        best = np.full(shape, -1, np.int64)
        best_agree = np.full(shape, -1.0)
        matched, near = self._live_explainers()
        for e in matched.tolist():  # in order: the first of equals names the pair
            both = self._ok[r, e] & self._ok[c, e]
            agree = np.minimum(self._agree[r, e], self._agree[c, e])
            better = both & (agree > best_agree)
            best[better] = e
            best_agree[better] = agree[better]
        if dist is not None and self.task == "regression" and near.size:
            # (..., live explainers): the others lie near no student
            far = np.maximum(self._ref_dist[r][..., near], self._ref_dist[c][..., near])
            ok = (far <= REGRESSION_NEAR) & (dist[..., None] >= REGRESSION_RATIO * far)
            nearest = near[np.argmin(np.where(ok, far, np.inf), axis=-1)]
            relative = (best < 0) & ok.any(axis=-1)
            best[relative] = nearest[relative]
        return best

    def _live_explainers(self) -> tuple[np.ndarray, np.ndarray]:
        """The explainers that can explain a pair at all: matched near-exactly by some
        student, and (regression) lying within ``REGRESSION_NEAR`` of some student. A class
        has a hundred standard models and most match nobody; the all-pairs blocks loop over
        these only (at 2,000 students, 130 explainers had added 40 % to the behaviour's
        time)."""
        got = getattr(self, "_live", None)
        if got is None:
            dist = getattr(self, "_ref_dist", None)
            near = (np.flatnonzero((dist <= REGRESSION_NEAR).any(0))
                    if dist is not None and dist.size else np.zeros(0, np.int64))
            got = self._live = (np.flatnonzero(self._ok.any(0)), near)
        return got

    # -- classification: all pairs of a block by matrix products
    def _class_block(self, ra: np.ndarray, rb: np.ndarray) -> dict[str, np.ndarray]:
        return self._products.block(ra, rb)

    # -- listed pairs, element by element (an independent route to the same numbers)
    def _raw_pairs(self, r: np.ndarray, c: np.ndarray) -> dict[str, np.ndarray]:
        k = max(self.n_ids, 1)
        step = max(1, _CHUNK // k)
        parts = [self._raw_pairs_chunk(r[i:i + step], c[i:i + step])
                 for i in range(0, len(r), step)]
        if not parts:
            parts = [self._raw_pairs_chunk(r, c)]
        return {key: np.concatenate([p[key] for p in parts]) for key in parts[0]}

    def _raw_pairs_chunk(self, r: np.ndarray, c: np.ndarray) -> dict[str, np.ndarray]:
        if self.task == "regression":
            return self._regression_pairs(r, c)
        ui, uj = self._U[r], self._U[c]
        same = ui & uj & (self._col[r] == self._col[c])
        # leave-pair-out: only the answers the counts hold come out of them
        vi, vj = self._UC[r], self._UC[c]
        d = self._D[None, :] - vi - vj
        s = (self._S[None, :] - vi * self._G[r] - vj * self._G[c] + 2.0 * (same & vi & vj))
        m = np.where(d > 0, s / np.where(d > 0, d * (d + 1), 1.0), 0.0)  # m'_k of this pair
        both = ui & uj
        return {"same_wrong": same.sum(1).astype(np.float64),
                "both_wrong": (self._E[r] & self._E[c]).sum(1).astype(np.float64),
                "n_labelled": both.sum(1).astype(np.float64),
                "expected": np.einsum("ij,ij->i", self._p(r) * self._p(c), m),
                "expected_given_both": (m * both).sum(1)}

    def _p(self, rows: np.ndarray) -> np.ndarray:
        """Rasch error probabilities of these students (kept as a + b, not twice)."""
        return self._products.a[rows] + self._products.b[rows]

    # -- regression
    def _regression_block(self, ra: np.ndarray, rb: np.ndarray) -> dict[str, np.ndarray]:
        gram = self._R[ra] @ self._R[rb].T
        return self._partial(gram, ra[:, None], rb[None, :])

    def _regression_pairs(self, r: np.ndarray, c: np.ndarray) -> dict[str, np.ndarray]:
        gram = np.einsum("ij,ij->i", self._R[r], self._R[c])
        return self._partial(gram, r, c)

    def _partial(self, gram: np.ndarray, i: np.ndarray, j: np.ndarray) -> dict[str, np.ndarray]:
        """Partial correlation of r_i, r_j given the leave-pair-out class mean, and Fisher z."""
        ni, nj, ti, tj = self._nrm[i], self._nrm[j], self._t[i], self._t[j]
        others = self._n_rows - 2
        with np.errstate(invalid="ignore", divide="ignore"):
            rho = gram / np.sqrt(ni * nj)
            controls = 0
            if others >= 1:
                im = (ti - ni - gram) / others
                jm = (tj - gram - nj) / others
                mm = (self._TT - 2 * ti - 2 * tj + ni + nj + 2 * gram) / others ** 2
                good = mm > 1e-12 * np.maximum(ni, nj)
                rim = np.where(good, im / np.sqrt(ni * mm), 0.0)
                rjm = np.where(good, jm / np.sqrt(nj * mm), 0.0)
                rho = (rho - rim * rjm) / np.sqrt((1 - rim ** 2) * (1 - rjm ** 2))
                controls = 1
        rho = np.nan_to_num(np.clip(rho, -1.0, 1.0), nan=0.0)
        dof = max(self.n_ids - 3 - controls, 1)
        z = np.arctanh(np.clip(rho, -0.999999, 0.999999)) * np.sqrt(dof)
        # the pair's own distance (RMS of r_i - r_j, in the class's unit), less rounding
        msd = np.maximum(ni + nj - 2 * gram, 0.0) / max(self.n_ids, 1)
        dist = np.sqrt(_unrounded(msd, self._rv[i] + self._rv[j])) / self._unit
        return {"rho": rho, "z": z, "dist": dist}

    # ------------------------------------------------------------------ evidence for a TA
    def _row(self, name: str) -> int:
        try:
            return self.names.index(name)
        except ValueError:
            raise KeyError(f"no student {name!r} in this behavioural model "
                           f"({len(self.names)} students)") from None

    def shared_wrong(self, a: str, b: str, limit: int = 50) -> list[dict]:
        """The pair's shared wrong answers, most telling first.

        Classification: the ids both got wrong, identical wrong labels first, rarest (by the
        class's leave-pair-out popularity) first. Each dict has ``id, truth, pred_a, pred_b,
        same`` and ``popularity`` (share of the class's other wrong answers on that id with
        this label; None unless ``same``). Regression: the ids with the largest product of the
        two centred residuals (both off in the same direction), with ``residual_a/_b``, where
        each student's error is one of their large ones (``_large_errors``): a probability
        of 0.005 for a negative is no error to show.
        """
        i, j = self._row(a), self._row(b)
        if self.task == "regression":
            t = self._truth_values
            prod = self._R[i] * self._R[j]
            keep = (prod > 0) & self._large_errors(i) & self._large_errors(j)
            order = np.argsort(-np.where(keep, prod, -np.inf), kind="stable")[:limit]
            return [{"id": self.ids[k], "truth": float(t[k]), "pred_a": _num(self._pred[i, k]),
                     "pred_b": _num(self._pred[j, k]), "residual_a": float(self._R[i, k]),
                     "residual_b": float(self._R[j, k])} for k in order if keep[k]]
        both = np.nonzero(self._E[i] & self._E[j])[0]
        same = self._U[i, both] & self._U[j, both] & (self._col[i, both] == self._col[j, both])
        cnt = self._G[i, both] / 2 - self._alpha  # class count of i's label on the id
        # the pair's own answers out (those the counts hold)
        own = self._UC[i, both].astype(int) + self._UC[j, both]
        pop = np.where(same, (cnt - own + self._alpha) / (self._n[both] - own + self._A), 1)
        order = np.lexsort((both, pop, ~same))[:limit]
        labels = self._labels
        out = []
        for t in order:
            k = both[t]
            ca, cb = self._codes[i, k], self._codes[j, k]
            out.append({"id": self.ids[k], "truth": labels[self._truth[k]],
                        "pred_a": None if ca == MISSING else labels[ca],
                        "pred_b": None if cb == MISSING else labels[cb],
                        "same": bool(same[t]),
                        "popularity": float(pop[t]) if same[t] else None})
        return out

    def _large_errors(self, i: int) -> np.ndarray:
        """Ids where student ``i``'s prediction is an error worth showing: for 0/1 truths
        (``roc_auc`` probabilities) on the wrong side of 0.5; otherwise off by more than the
        student's own median absolute error (missing predictions are never shown)."""
        t = self._truth_values
        err = np.abs(self._pred[i] - t)
        if np.isin(t, (0.0, 1.0)).all():
            return err > 0.5
        if np.isnan(err).all():
            return np.zeros(err.shape, dtype=bool)
        with np.errstate(invalid="ignore"):  # missing predictions compare False
            return err > np.nanmedian(err)

    def nearest_explainer(self, a: str, b: str) -> tuple[str, float] | None:
        """The standard model whose predictions both students match most (classification),
        with the smaller of their two shares of ids; None without one."""
        if self.task != "classification" or not self.explainer_names:
            return None
        i, j = self._row(a), self._row(b)
        both = np.minimum(self._agree[i], self._agree[j])
        e = int(np.argmax(both))
        return self.explainer_names[e], float(both[e])

    def describe(self, a: str, b: str) -> str:
        """One sentence for a TA on what the pair's behavioural evidence means."""
        i, j = self._row(a), self._row(b)
        o = {key: v[0] for key, v in self.pairs(np.array([i]), np.array([j])).items()}
        if o["explained"] >= 0:
            e = int(o["explained"])
            if self.task == "regression" and not (self._ok[i, e] and self._ok[j, e]):
                di, dj = self._ref_dist[i, e], self._ref_dist[j, e]
                dij = float(self._regression_pairs(np.array([i]), np.array([j]))["dist"][0])
                return (f"agreement explained by {self.explainer_names[e]}: both lie near its "
                        f"predictions ({di:.3f} and {dj:.3f} of the class's median RMSE) and "
                        f"are no closer to each other ({dij:.3f}), as two "
                        "honest models of one kind are")
            share = 100 * min(self._agree[i, e], self._agree[j, e])
            setting = (" (a setting two students may choose on their own, so the pair ranks "
                       "just under the threshold)" if self.explainer_settings[e] else "")
            # whichever model each wrote: on an easy test set many models give the same
            # predictions, and a TA read "explained by GaussianNB()" as a claim about the code
            return (f"agreement explained by {self.explainer_names[e]}: both match its "
                    f"predictions on {share:.1f} % of ids{setting}, whatever model each "
                    "program fits")
        p = _p_text(o["p_value"])
        if self.task == "regression":
            dij = float(self._regression_pairs(np.array([i]), np.array([j]))["dist"][0])
            if o["correlation"] <= 0:
                return (f"residuals do not correlate beyond what the class shares (r = "
                        f"{o['correlation']:.2f} over {self.n_ids} ids, {p})")
            apart = ""
            if nearness(np.array([dij]))[0] < 1.0:
                apart = (f"; their predictions differ by {dij:.3g} of the class's median RMSE"
                         + (f", as two honest models of one kind do ({REGRESSION_APART:g} or "
                            "more), so this counts for nothing" if dij >= REGRESSION_APART else
                            f": nearer than two honest models of one kind ({REGRESSION_APART:g}"
                            f" or more), not as near as a copy (up to {REGRESSION_SAME:g}), so "
                            "this counts in part")
                         + " (a copy's predictions are its source's)")
            return (f"residuals correlate (r = {o['correlation']:.2f}) beyond what the class "
                    f"shares, over {self.n_ids} ids ({p}){apart}")
        d = self.dispersion
        spread = ""
        if max(d.values()) > 1.0:
            spread = f"; counts scaled for this class's spread (x{max(d.values()):.1f})"
        if self.n_classes <= 2:  # one wrong label: a shared wrong answer is always identical
            return (f"{o['both_wrong']} ids both got wrong (with two labels every shared wrong "
                    f"answer is the same one); expected {o['expected']:.1f} for two independent "
                    f"students with these error rates ({p}{spread})")
        return (f"{o['same_wrong']} identical wrong answers out of {o['both_wrong']} ids both "
                f"got wrong; expected {o['expected']:.1f} for two independent students with "
                f"these error rates ({o['expected_given_both']:.1f} given the ids both got "
                f"wrong) ({p}{spread})")


def nearness(dist: np.ndarray) -> np.ndarray:
    """The weight of a regression pair's score by the RMS difference ``dist`` of its centred
    residuals (in the class's median RMSE): 1 up to ``REGRESSION_SAME``, 0 from
    ``REGRESSION_APART`` on, linear in ``log10(dist)`` in between (module doc).

    Examples
    --------
    >>> nearness(np.array([0.0, 1e-3, 10 ** -2.5, 0.01, 0.2])).round(2).tolist()
    [1.0, 1.0, 0.5, 0.0, 0.0]
    """
    lo, hi = np.log10(REGRESSION_SAME), np.log10(REGRESSION_APART)
    with np.errstate(divide="ignore"):
        x = np.log10(np.asarray(dist, np.float64))
    return np.clip((hi - x) / (hi - lo), 0.0, 1.0)


def _p_text(p: float) -> str:
    """``p = 3.2e-05``, two significant digits as the pair page's table writes it (one digit
    had the sentence say 0.02 beside the table's 0.025); a p-value that underflowed to 0 is
    tiny, never impossible: ``p < 1e-300``."""
    return "p < 1e-300" if p <= 0 else f"p = {p:.2g}"


def prior_alpha(counts: np.ndarray, n_k: np.ndarray, wrong_classes: int) -> float:
    """Empirical-Bayes pseudo-count per wrong class: the symmetric Dirichlet whose agreement
    ``E[sum q**2] = (alpha + 1) / (L alpha + 1)`` (``L`` wrong classes) equals the class's
    pooled agreement between two wrong answers on the same id.

    ``counts`` are the (id, label) column counts, ``n_k`` the wrong answers per id. A class
    whose confusions are concentrated gets a small ``alpha`` (agreement expected), one whose
    wrong labels are spread a large one. ``1 / L`` (total pseudo-count 1) without data.
    """
    lo, hi = ALPHA_RANGE
    pairs = float((n_k * (n_k - 1)).sum())
    if pairs <= 0 or wrong_classes < 2:
        return float(np.clip(1.0 / max(wrong_classes, 1), lo, hi))
    agree = float((counts.astype(np.float64) * (counts - 1)).sum()) / pairs
    if agree * wrong_classes <= 1.0:
        return hi
    return float(np.clip((1.0 - agree) / (wrong_classes * agree - 1.0), lo, hi))


def _num(x: float) -> float | None:
    return None if np.isnan(x) else float(x)


def _counted_rows(wrong: np.ndarray, truth: np.ndarray, n_students: int) -> np.ndarray:
    """The rows whose answers make the class's null (the Rasch difficulties and the wrong
    labels' popularity): the references, the students who do better than predicting the most
    frequent label (by ``CHANCE_MARGIN`` binomial standard deviations), and the others whose
    errors still follow what is hard for those (their errors correlate with the share of
    them wrong on each id, ``z = r sqrt(n_ids) >= CHANCE_MARGIN``). Every student counts
    where fewer than ``MIN_COUNTED`` beat chance.

    A student who does worse than chance (labels shifted, written without the model) is right
    where the class is wrong: 24 of them against 9 honest made the hard ids look easy and
    spread the popular wrong labels, and an honest pair sharing the hard ids' usual mistakes
    went from p = 0.25 to 3e-6 (flagged). One who guesses is wrong anywhere. A weak honest
    model is wrong where the good ones are (on a data set with 10 % positives, most of its
    errors are the positives): it counts, though its error rate may be the chance rate's.
    Rows not counted still get their own error rate and are compared with everybody; they
    only do not tell what independent students share.
    """
    counted = np.ones(len(wrong), bool)
    if not truth.size or not n_students:
        return counted
    chance = 1.0 - np.bincount(truth).max() / truth.size  # the majority label's error rate
    # beyond luck: of 48 students guessing at random, 12 came under the chance rate by luck
    # and took an honest pair from p = 0.16 to 6e-7
    luck = CHANCE_MARGIN * np.sqrt(chance * (1.0 - chance) / truth.size)
    students = wrong[:n_students]
    better = students.mean(1) < chance - luck
    if better.sum() < MIN_COUNTED:
        return counted
    core = counted.copy()
    core[:n_students] = better
    hard = wrong[core].mean(0)  # the share of the core wrong on each id
    counted[:n_students] = better | (_correlation(students, hard) * np.sqrt(truth.size)
                                     >= CHANCE_MARGIN)
    return counted


def _correlation(rows: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Pearson correlation of each 0/1 row with ``v`` (0 where either is constant)."""
    x = rows.astype(np.float64)
    x -= x.mean(1, keepdims=True)
    y = v - v.mean()
    norm = np.sqrt((x * x).sum(1) * float(y @ y))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(norm > 0, (x @ y) / norm, 0.0)


def _typical_error(rmse: np.ndarray, trivial: float) -> float:
    """The median RMSE of the students who do better than ``trivial`` (the RMSE of predicting
    the mean: the truth's spread), or of all where none does (or the truth is constant)."""
    better = rmse[rmse < trivial] if trivial > 0 else rmse
    return float(np.median(better if better.size else rmse))


def _corr_rows(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Pearson correlation of each row of ``x`` with ``y`` over the ids both have (NaN: -1)."""
    out = np.full(len(x), -1.0)
    for i, row in enumerate(x):
        ok = ~np.isnan(row) & ~np.isnan(y)
        if ok.sum() >= 2 and row[ok].std() > 0 and y[ok].std() > 0:
            out[i] = float(np.corrcoef(row[ok], y[ok])[0, 1])
        elif ok.sum() >= 1 and np.array_equal(row[ok], y[ok]):
            out[i] = 1.0  # constant and equal: as correlated as can be
    return out


def _unrounded(msd: np.ndarray, rounding_var: np.ndarray | float) -> np.ndarray:
    """Mean squared differences less what rounding adds (``rounding_var``: the sum of both
    sides' ``step**2 / 12``), with ``ROUNDING_SLACK`` for its sampling noise; never below 0.
    Full-precision predictions (variance 0) keep their distances exactly."""
    return np.maximum(msd - (1.0 + ROUNDING_SLACK) * rounding_var, 0.0)
