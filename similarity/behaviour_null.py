"""The statistics under the behavioural null model: a Rasch fit, conservative tails, the
class-calibrated dispersion and the p-value -> score mapping (see ``similarity.behaviour``).
"""

from __future__ import annotations

import numpy as np
from scipy import special

__all__ = ["fit_rasch", "sigmoid", "poisson_tail", "poisson_tail_bounds", "binomial_tail",
           "dispersion", "behaviour_score", "P_FLOOR", "SCORE_FROM", "SCORE_TO"]

# behaviour = clip((-log10 p - SCORE_FROM) / (SCORE_TO - SCORE_FROM), 0, 1): p >= 1e-3 gives 0,
# p <= 1e-12 gives 1, and the lead's flag at behaviour >= 0.45 is p <= 10**-7.05.
SCORE_FROM = 3.0
SCORE_TO = 12.0
P_FLOOR = 1e-300  # p-values below this are reported as this (float64 underflow)
_Q3_NORMAL = 0.6744898  # upper quartile of a standard normal


def sigmoid(x: np.ndarray) -> np.ndarray:
    """Logistic function, in place on a float array (returned)."""
    np.negative(x, out=x)
    np.exp(x, out=x)
    x += 1.0
    np.reciprocal(x, out=x)
    return x


def fit_rasch(errors: np.ndarray, *, ridge: float = 0.5, iters: int = 8,
              bound: float = 10.0, tol: float = 1e-3,
              fit_rows: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Fit ``P(errors[i, k] = 1) = sigmoid(theta[i] + beta[k])`` by alternating Newton steps.

    Parameters
    ----------
    errors : ndarray of shape (n_rows, n_ids)
        0/1 error matrix (float32).
    ridge : float, default=0.5
        Gaussian prior ``ridge / 2 * (theta**2 + beta**2)``: it fixes the shift between theta
        and beta and keeps ids that every row gets right (or wrong) finite.
    iters : int, default=8
        At most this many sweeps (each: one Newton step for every theta, then every beta);
        8 sweeps put every probability within ~0.3 % (relative) of the converged fit.
    bound : float, default=10.0
        Parameters are clipped to ``[-bound, bound]``.
    tol : float, default=1e-3
        Stop early once no parameter moves more than this in a sweep.
    fit_rows : ndarray of shape (n_rows,), bool, optional
        The rows the difficulties are fitted from (default: all). The others get their own
        ``theta`` against those difficulties but do not move them: rows that do worse than
        chance are right where the class is wrong, and would make the hard ids look easy.

    Returns
    -------
    theta : ndarray of shape (n_rows,), beta : ndarray of shape (n_ids,)
        float32 logits: a row's error propensity and an id's difficulty.
    """
    n, k = errors.shape
    fit = np.ones(n, bool) if fit_rows is None else np.asarray(fit_rows, bool)
    if n == 0 or k == 0 or not fit.any():
        return np.zeros(n, np.float32), np.zeros(k, np.float32)
    row_err = errors.sum(1, dtype=np.float64)
    col_err = errors[fit].sum(0, dtype=np.float64)
    n_fit = int(fit.sum())
    rate = np.clip(row_err / k, 0.5 / k, 1 - 0.5 / k)
    theta = np.log(rate / (1 - rate))
    colr = np.clip(col_err / n_fit, 0.5 / n_fit, 1 - 0.5 / n_fit)
    beta = np.log(colr / (1 - colr)) - theta[fit].mean()
    for _ in range(iters):
        step = 0.0
        for axis in (1, 0):  # theta (sums over ids), then beta (sums over the fit rows)
            s = sigmoid((theta[:, None] + beta[None, :]).astype(np.float32))
            if axis == 0 and n_fit < n:
                s = s[fit]
            s1 = s.sum(axis, dtype=np.float64)
            s2 = np.einsum("ij,ij->i" if axis == 1 else "ij,ij->j", s, s, dtype=np.float64)
            par, obs = (theta, row_err) if axis == 1 else (beta, col_err)
            grad = s1 - obs + ridge * par
            hess = (s1 - s2) + ridge
            delta = np.clip(grad / hess, -2.0, 2.0)
            par -= delta
            np.clip(par, -bound, bound, out=par)
            step = max(step, float(np.abs(delta).max()))
        if step < tol:
            break
    return theta.astype(np.float32), beta.astype(np.float32)


def poisson_tail(x: np.ndarray, lam: np.ndarray, phi: float = 1.0) -> np.ndarray:
    """``P(X >= x)`` for ``X ~ Poisson(lam)``, counts scaled by the dispersion ``phi``.

    A Poisson upper tail bounds that of any Poisson-binomial with the same mean from above
    (Hoeffding 1956, Anderson & Samuels 1967), so the test is conservative.
    """
    x = np.asarray(x, np.float64) / phi
    lam = np.maximum(np.asarray(lam, np.float64) / phi, 0.0)
    out = np.ones(np.broadcast(x, lam).shape)
    pos = x > 0
    out[pos] = special.gammainc(x[pos], np.broadcast_to(lam, out.shape)[pos])
    return out


def poisson_tail_bounds(bound: float, max_x: int, phi: float = 1.0) -> np.ndarray:
    """Per count ``x = 0 .. max_x``, an expected count ``lam_x`` such that every ``lam >=
    lam_x`` has ``poisson_tail(x, lam, phi) >= bound``, as computed (not only in exact
    arithmetic); index ``max_x + 1`` holds ``inf`` (counts beyond: never).

    ``poisson_tail`` grows with ``lam``, so one inverse per count (``gammaincinv``) settles all
    pairs of a block with a lookup; a small margin above the inverse is checked with
    ``gammainc`` itself to give at least ``bound * (1 + 1e-9)``, far above the rounding of a
    monotone function. A count whose check fails keeps ``inf``: its pairs are computed.
    """
    a = np.arange(max_x + 1, dtype=np.float64) / phi  # as poisson_tail scales them
    out = np.full(max_x + 2, np.inf)
    out[0] = -np.inf  # x = 0: the tail is 1
    at = np.flatnonzero(a > 0)
    t = special.gammaincinv(a[at], bound)
    for margin in (1e-6, 1e-4, 1e-2):
        cand = t * (1.0 + margin) + 1e-12
        ok = np.isfinite(cand) & (special.gammainc(a[at], cand) >= bound * (1.0 + 1e-9))
        # lam >= cand * phi (1 + 1e-12) gives lam / phi >= cand whatever the rounding
        out[at[ok]] = cand[ok] * phi * (1.0 + 1e-12)
        at, t = at[~ok], t[~ok]
        if not at.size:
            break
    return out


def binomial_tail(x: np.ndarray, n: np.ndarray, mean: np.ndarray,
                  phi: float = 1.0) -> np.ndarray:
    """``P(X >= x)`` for ``X ~ Binomial(n, mean / n)``, counts scaled by ``phi``.

    Among sums of ``n`` independent Bernoulli variables with a given mean the binomial has the
    heaviest upper tail beyond ``mean + 1`` (Hoeffding 1956), so it bounds the Poisson-binomial
    tail from above there. At or below the mean the tail is reported as 1 (no evidence).
    """
    x = np.asarray(x, np.float64)
    n = np.asarray(n, np.float64)
    mean = np.asarray(mean, np.float64)
    out = np.ones(x.shape)
    ok = (x > mean) & (x > 0) & (n > 0)
    pbar = np.where(ok, mean / np.where(n > 0, n, 1.0), 0.0)
    ok &= pbar < 1.0
    xs, ns = x[ok] / phi, n[ok] / phi
    out[ok] = special.betainc(xs, ns - xs + 1.0, pbar[ok])
    return out


def dispersion(observed: np.ndarray, mean: np.ndarray, var: np.ndarray,
               min_var: float = 2.0) -> float:
    """The class's spread beyond the null model: ``max(1, (Q3(z) / 0.6745) ** 2)``.

    ``z = (observed - mean) / sqrt(var)`` over a sample of the class's pairs, using the pairs
    with ``var >= min_var`` (the normal approximation means little below); ``Q3`` is the upper
    quartile, which is 0.6745 for a standard normal. Only the upper side counts: a null that
    over-predicts (conservative) leaves 1, one that under-predicts or is too narrow raises it;
    the few copies cannot move a quartile. ``1`` unless most pairs qualify (when few do, they
    are the unusual ones, e.g. the copiers). Honest ML models share
    more than independent examinees do (same model family, same features), and this puts
    every pair on the scale of its own class, as a robust z-score does for code similarity.
    """
    use = var >= min_var
    if not use.any() or use.sum() * 2 < len(use):  # most pairs: else they are the suspects
        return 1.0
    z = (observed[use] - mean[use]) / np.sqrt(var[use])
    return float(max(1.0, (max(float(np.quantile(z, 0.75)), 0.0) / _Q3_NORMAL) ** 2))


def behaviour_score(p: np.ndarray) -> np.ndarray:
    """``clip((-log10 p - 3) / 9, 0, 1)``: 0 for p >= 1e-3, 1 for p <= 1e-12."""
    lp = -np.log10(np.maximum(np.asarray(p, np.float64), P_FLOOR))
    return np.clip((lp - SCORE_FROM) / (SCORE_TO - SCORE_FROM), 0.0, 1.0)
