"""Ranks and grades by the course's rules (the band table and the baseline rule are data).

Rules (slides, "Sistem de notare"):

* rank by the private score; ties share the best place (1, 2, 2, 4). Scores are compared as
  they are shown, to ``SCORE_DIGITS`` significant digits: two students who fit the same model
  and wrote their predictions with different decimals have one score, not two places and two
  grades (an mae of 51.627103 and 51.627121); the baseline gate compares the same way;
* ``rank_bands``: the band a place falls in gives the grade (places 1-30 → 10, 31-50 → 9,
  51-90 → 8, 91-120 → 7, 121-150 → 6, later → 5). The table is written for
  ``scale_bands_to`` participants (150). With N ranked participants the table is kept as written
  while N is within ``scale_tolerance`` (20 %) of that size; otherwise every band's last place
  ``L`` becomes ``ceil(L * N / scale_bands_to)`` (rounding up, so rounding never moves a student
  into a worse band and the first band is never empty), so each band keeps its share of the
  class (for 40: 1-8 → 10, 9-14 → 9, 15-24 → 8, 25-32 → 7, 33-40 → 6; for 400: 1-80, 81-134,
  135-240, 241-320, 321-400);
* a grade of 5 or more requires beating the baseline; a valid run that does not beat it (at
  or below it; at or above it on an error metric) gets ``below_baseline_grade`` (4);
* ``accuracy_scaled`` (the lab test): above the baseline the grade grows linearly from 5 at the
  baseline to ``max_grade`` at the optimum, clipped;
* deductions (presentation and documentation, at most ``max_deduction`` = 2 points) are
  subtracted last; grades never go below ``min_grade``;
* a run with no valid output gets no project grade, only its status.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pandas as pd

from grader.course import GradingConfig, IntegrityConfig
from grader.errors import CourseError


@dataclass(frozen=True)
class Band:
    first: int
    last: int | None  # None: and every later place
    grade: float

    def label(self) -> str:
        if self.last is None:
            return f"{self.first}+"
        return f"{self.first}" if self.last == self.first else f"{self.first}-{self.last}"


def scaled_bands(config: GradingConfig, participants: int) -> list[Band]:
    """The band table for ``participants`` ranked students (see the module docstring)."""
    firsts = [f for f, _ in config.bands]
    grades = [g for _, g in config.bands]
    lasts: list[int | None] = [f - 1 for f in firsts[1:]] + [None]
    ref = config.scale_bands_to
    keep = ref <= 0 or abs(participants - ref) <= config.scale_tolerance * ref
    if not keep and participants > 0:
        factor = participants / ref
        scaled: list[int | None] = []
        prev = 0
        for last in lasts[:-1]:
            value = max(prev, math.ceil(last * factor - 1e-9))
            scaled.append(value)
            prev = value
        lasts = scaled + [None]
    bands, first = [], 1
    for last, grade in zip(lasts, grades, strict=True):
        bands.append(Band(first, last, grade))
        if last is not None:
            first = max(first, last + 1)
    return bands


def band_for(place: int, bands: list[Band]) -> Band:
    for band in bands:
        if band.last is None or place <= band.last:
            if place >= band.first:
                return band
    return bands[-1]


#: scores are ranked and gated as grades.csv shows them (``%.6g``): differences beyond that are
#: the float noise of how predictions were written, not a better model
SCORE_DIGITS = 6


def shown_score(score: float) -> float:
    """``score`` to ``SCORE_DIGITS`` significant digits, as the tables show it."""
    return float(f"{score:.{SCORE_DIGITS}g}")


def competition_ranks(scores: pd.Series, greater_is_better: bool) -> pd.Series:
    """Places 1..n by score as shown (``shown_score``); ties share the best place
    (1, 2, 2, 4)."""
    shown = scores.map(shown_score) if len(scores) else scores
    return shown.rank(method="min", ascending=not greater_is_better).astype(int)


def best_first(rows: list[dict], greater_is_better: bool, key: str = "private_score"
               ) -> list[dict]:
    """Rows sorted best ``key`` first (the metric's direction), rows without a score last,
    ties by ``model``."""
    sign = -1.0 if greater_is_better else 1.0
    return sorted(rows, key=lambda r: (r[key] is None, sign * (r[key] or 0.0),
                                       str(r.get("model", ""))))


def beats(score: float, baseline: float | None, greater_is_better: bool) -> bool:
    """Strictly better than the baseline, both as shown (``shown_score``): a constant
    predictor written with other decimals than the baseline's does not beat it."""
    if baseline is None or math.isnan(baseline):
        return True
    score, baseline = shown_score(score), shown_score(baseline)
    return score > baseline if greater_is_better else score < baseline


@dataclass
class GradeRow:
    student: str
    rank: int | None
    band: str
    base_grade: float | None
    deduction: float
    grade: float | None
    above_baseline: bool | None
    note: str


def grade_scores(scores: pd.Series, config: GradingConfig, *, greater_is_better: bool,
                 baseline: float | None, optimum: float | None = None,
                 deductions: dict[str, tuple[float, str]] | None = None,
                 constant: Mapping[str, str] | None = None) -> list[GradeRow]:
    """Rank and grade valid scores (student → private score). Students without a valid
    score are not in ``scores``; they get no grade (their status says why).

    ``constant``: students whose predictions are one answer for every id (student → the
    answer). A constant answer is what a baseline does, so it never beats the baseline, even
    where its score is above it (on balanced classes another label than the training
    majority may score higher on the test set by chance)."""
    deductions = deductions or {}
    constant = constant or {}
    scores = scores.dropna()
    ranks = competition_ranks(scores, greater_is_better)
    bands = scaled_bands(config, len(scores))
    rows = []
    for student in ranks.sort_values(kind="stable").index:
        place, score = int(ranks[student]), float(scores[student])
        beat = beats(score, baseline, greater_is_better)
        above = beat and student not in constant
        notes = []
        if config.policy == "rank_bands":
            band = band_for(place, bands)
            base, band_label = band.grade, band.label()
        else:
            base, band_label = _scaled_grade(score, config, baseline, optimum, greater_is_better), ""
        if not above:
            base = min(base, config.below_baseline_grade)
            why = (f"predicts one answer ({constant[student]!r}) for every test id, as a "
                   "baseline does, so it does not beat the baseline"
                   if student in constant and beat
                   else f"does not beat the baseline ({baseline:.{SCORE_DIGITS}g})")
            notes.append(f"{why}: grade capped at {config.below_baseline_grade:g}")
        points, why = deductions.get(student, (0.0, ""))
        points = min(max(points, 0.0), config.max_deduction)
        if points:
            notes.append(f"-{points:g} presentation/documentation" + (f": {why}" if why else ""))
        grade = max(config.min_grade, round_half_up(base - points))
        rows.append(GradeRow(student, place, band_label, base, points, grade, above, "; ".join(notes)))
    return rows


def round_half_up(x: float, digits: int = 2) -> float:
    """``x`` to ``digits`` decimals, halves up (7.125 is 7.13), as people round grades and as
    ``grader final`` does; Python's ``round`` gives 7.12 (half to even). Binary noise is
    dropped first: 0.59 - 0.5 is 0.08999999999999997, and a grade 6.125 made from it is
    still a half.

    Examples
    --------
    >>> round_half_up(7.125), round_half_up(6.124999999999999), round_half_up(7.1249)
    (7.13, 6.13, 7.12)
    """
    exact = Decimal(f"{x:.9f}")
    return float(exact.quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP))


def _scaled_grade(score: float, config: GradingConfig, baseline: float | None,
                  optimum: float | None, greater_is_better: bool) -> float:
    if optimum is None or baseline is None:
        return config.max_grade
    span = (optimum - baseline) if greater_is_better else (baseline - optimum)
    gain = (score - baseline) if greater_is_better else (baseline - score)
    t = 1.0 if span <= 0 else min(max(gain / span, 0.0), 1.0)
    return round_half_up(5.0 + (config.max_grade - 5.0) * t)


#: the reference model that computes the built-in baseline (``"majority"``) of a task: the
#: training labels' most frequent class, or for a regression course their mean
TRIVIAL_MODELS = {"classification": "majority", "regression": "mean"}


def baseline_model(value: float | str, task: str) -> str | None:
    """The reference model that is the baseline: the one ``[grading] baseline`` names, or for
    the built-in ``"majority"`` the task's trivial model (``TRIVIAL_MODELS``), so that a
    regression course's reference ``mean`` is marked as its baseline instead of appearing
    again beside an identical built-in row."""
    if not isinstance(value, str):
        return None
    return TRIVIAL_MODELS.get(task, value) if value in ("majority", "most_frequent") else value


def resolve_baseline(value: float | str, reference: list[dict], *,
                     majority: Callable[[], float], task: str = "classification"
                     ) -> tuple[float, str]:
    """The baseline's private score and where it comes from (``[grading] baseline``).

    Parameters
    ----------
    value : float or str
        A fixed score, a reference model's name, or ``"majority"``.
    reference : list of dict
        The stored reference models (``model``, ``status``, ``private_score``).
    majority : callable
        Scores the training labels' most frequent class (regression: their mean) on the
        test set (called only when the baseline is ``"majority"`` and the task's trivial
        reference model did not run).
    task : {"classification", "regression"}
        The course's task (``baseline_model``).

    Raises
    ------
    CourseError
        When the value names no model that ran.
    """
    if isinstance(value, int | float):
        return float(value), f"fixed baseline {value:g}"
    table = {r["model"]: r for r in reference if r["status"] == "ok"}
    model = baseline_model(value, task)
    if model in table and table[model]["private_score"] is not None:
        return table[model]["private_score"], f"reference model '{model}'"
    if value in ("majority", "most_frequent"):
        return majority(), "majority class of the training labels"
    _refuse_unusable("baseline", value, reference)
    raise CourseError(f"baseline '{value}' is not a number and no reference model of that name ran",
                      hint="set [grading] baseline to a number or run 'grader reference' (or "
                           "'grader run --reference') first")


def resolve_optimum(value: float | str | None, reference: list[dict], *,
                    greater_is_better: bool) -> float | None:
    """The score that earns the maximum under ``accuracy_scaled`` (``[grading] optimum``):
    a number, a reference model's name, or ``"best"`` (the best reference model)."""
    if value is None or isinstance(value, int | float):
        return value
    table = [r for r in reference if r["status"] == "ok" and r["private_score"] is not None]
    if value == "best" and table:
        pick = max if greater_is_better else min
        return pick(r["private_score"] for r in table)
    named = [r for r in table if r["model"] == value]
    if not named:
        _refuse_unusable("optimum", value, reference)
    return named[0]["private_score"] if named else None


def _refuse_unusable(role: str, value: str, reference: list[dict]) -> None:
    """A stored model that did not finish cleanly (e.g. stopped by the safety deadline,
    so its score depends on the machine's speed) is never a baseline or optimum."""
    for r in reference:
        if r["model"] == value and r["status"] != "ok":
            raise CourseError(f"[grading] {role} = \"{value}\": the reference model {value} "
                              f"ended with status '{r['status']}': {r.get('message') or ''}",
                              hint="raise [reference] budget_s or lower the model's epochs "
                                   "([reference.params.<model>] max_epochs), or name another "
                                   "model, then run 'grader reference' again")


def load_adjustments(path: Path, max_points: float) -> dict[str, tuple[float, str]]:
    """``adjustments.csv`` (student, points, note) → student → (points, note).

    ``points`` are deducted; each is between 0 and ``max_points`` (the slides: up to 2).
    The file is read by :func:`grader.adjustments.read_adjustments` (the user-table rules).
    """
    from grader.adjustments import read_adjustments

    return {a.student: (a.points, a.note) for a in read_adjustments(path, max_points)}


def apply_integrity(rows: list[dict], decisions: list[dict], policy: IntegrityConfig
                    ) -> list[dict]:
    """The TAs' decisions on similarity pairs applied to grade rows (``[integrity]``).

    Parameters
    ----------
    rows : list of dict
        Grade rows (``student``, ``grade``; ``pre_integrity`` when already applied once: the
        grade before any decision, so applying again after a changed decision starts over).
    decisions : list of dict
        The current decisions (``Store.decisions()``): ``lo``, ``hi``, ``state``, ``note``,
        ``reviewer``, ``named``.
    policy : IntegrityConfig
        ``confirmed``: ``"zero"`` (grade 0), ``"none"`` (recorded only) or points deducted
        (once per student, never below 0); ``applies_to``: ``"both"`` students of a confirmed
        pair or only the ``named`` ones (a decision naming nobody applies to both).

    Returns
    -------
    list of dict
        New rows with ``grade``, ``pre_integrity`` and ``integrity`` (the outcome and the TAs'
        notes, empty when no decision concerns the student).

    Examples
    --------
    >>> rows = [{"student": "ana", "grade": 8.0}, {"student": "dan", "grade": 9.0}]
    >>> d = [{"lo": "ana", "hi": "dan", "state": "confirmed", "note": "same code",
    ...       "reviewer": "ta1", "named": ["ana"]}]
    >>> [r["grade"] for r in apply_integrity(rows, d, IntegrityConfig("zero", "named"))]
    [0.0, 9.0]
    """
    confirmed: dict[str, list[str]] = {}
    discuss: dict[str, list[str]] = {}
    for d in decisions:
        pair = [d["lo"], d["hi"]]
        if d["state"] == "confirmed":
            # a web/archive source is never a student: naming it must not spare the student
            kind = d.get("kind") or "peer"
            named = [n for n in d.get("named") or [] if n in pair
                     and (kind == "peer" or not n.startswith(f"{kind}:"))]
            targets = named if policy.applies_to == "named" and named else pair
            for who in targets:
                other = pair[1] if who == pair[0] else pair[0]
                confirmed.setdefault(who, []).append(_finding(other, d))
        elif d["state"] == "needs_discussion":
            for who in pair:
                other = pair[1] if who == pair[0] else pair[0]
                discuss.setdefault(who, []).append(_finding(other, d))
    out = []
    for r in rows:
        before = r.get("pre_integrity", r.get("grade"))
        grade, parts = before, []
        if r["student"] in confirmed:
            if before is not None and policy.confirmed == "zero":
                grade = 0.0
            elif before is not None and isinstance(policy.confirmed, int | float):
                grade = max(0.0, round_half_up(before - float(policy.confirmed)))
            change = "" if grade == before else f", grade {before:g} -> {grade:g}"
            parts.append(f"confirmed{change}: " + "; ".join(confirmed[r["student"]]))
        if r["student"] in discuss:
            parts.append("needs discussion: " + "; ".join(discuss[r["student"]]))
        out.append({**r, "grade": grade, "pre_integrity": before, "integrity": " | ".join(parts)})
    return out


def _finding(other: str, d: dict) -> str:
    note = f" - {d['note']}" if d.get("note") else ""
    return f"with {other} ({d.get('reviewer') or 'a TA'}){note}"
