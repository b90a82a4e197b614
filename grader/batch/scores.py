"""The score and grade stages: each valid run's predictions scored on the hidden labels, then
ranked and graded by the course's rules (``grader.grading``)."""

from __future__ import annotations

import errno
import math
import os
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from grader.course import Course, GradingConfig, IntegrityConfig
from grader.grading import (
    apply_integrity,
    grade_scores,
    load_adjustments,
    resolve_baseline,
    resolve_optimum,
    scaled_bands,
)
from grader.scoring import OutputInvalid, Scorer
from grader.status import Status
from grader.store import Store

__all__ = ["score_runs", "grade_batch", "grade_rows", "baseline_score", "optimum_score"]

#: the start of a run's ``output_error`` where its files could not be saved under runs/ (the
#: grader's fault: the next batch runs it again)
UNSAVED = "the grader could not save this run's files"


def score_runs(store: Store, scorer: Scorer, out: Path) -> list[dict[str, Any]]:
    """One score row per submission that has a result: its status, message and scores."""
    rows = []
    runs = store.runs()
    for sub in store.submissions():
        student = sub["student"]
        row = dict(student=student, public_score=None, private_score=None, details={})
        if not sub["accepted"]:
            rows.append({**row, "status": Status.REJECTED.value, "message": sub["reason"]})
            continue
        run = runs.get(student)
        if run is None:
            continue  # not run yet (an interrupted batch): no row until it runs
        if run["status"] != "ok":
            rows.append({**row, "status": run["status"], "message": run["message"]})
            continue
        if run["output_error"]:
            unsaved = run["output_error"].startswith(UNSAVED)
            rows.append({**row, "message": run["output_error"],
                         "status": (Status.ERROR if unsaved else Status.INVALID_OUTPUT).value})
            continue
        try:
            preds = scorer.parse(_read_saved(out / "runs" / student / "submission.csv"))
            score = scorer.score(preds)
        except OutputInvalid as exc:
            rows.append({**row, "status": Status.INVALID_OUTPUT.value, "message": str(exc)})
            continue
        except OSError as exc:
            # the grader's files, not the student's output: the next grader run runs it again
            rows.append({**row, "status": Status.ERROR.value,
                         "message": f"the grader's saved copy of submission.csv could not be "
                                    f"read back ({exc.strerror}); not the student's fault: run "
                                    "the same grader run command again to run it again"})
            continue
        except Exception as exc:  # noqa: BLE001 - one student's output must not stop the batch
            rows.append({**row, "status": Status.ERROR.value,
                         "message": f"the grader failed while scoring this submission "
                                    f"({type(exc).__name__}: {exc})"})
            continue
        rows.append({**row, "status": Status.OK.value, "message": "",
                     "public_score": score.public, "private_score": score.private,
                     "details": score.details})
    return rows


def _read_saved(path: Path) -> bytes:
    """The grader's saved copy of a run's predictions, never through a link (a link put in
    runs/ scored one student with another's predictions, or showed a host file's first line)."""
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    with os.fdopen(fd, "rb") as fh:
        if not stat.S_ISREG(os.fstat(fh.fileno()).st_mode):
            raise IsADirectoryError(errno.EISDIR, "not a regular file", str(path))
        return fh.read()


def baseline_score(course: Course, store: Store, scorer: Scorer,
                   majority: Callable[[], float] | None = None) -> tuple[float | None, str]:
    """The baseline's private score and where it comes from (``majority``: the built-in
    baseline's score, ``scorer.majority_score`` unless given)."""
    return resolve_baseline(course.grading.baseline, store.reference(),
                            majority=majority or scorer.majority_score, task=course.task)


def optimum_score(course: Course, store: Store) -> float | None:
    """The optimum of ``accuracy_scaled`` (a number, a model's score or the best model's)."""
    from grader.scoring import greater_is_better

    return resolve_optimum(course.grading.optimum, store.reference(),
                           greater_is_better=greater_is_better(course.metric))


def grade_batch(course: Course, store: Store, scorer: Scorer,
                adjustments: Path | None) -> list[dict[str, Any]]:
    """Grade rows for every scored submission (rank, band, grade, deduction, note).

    The inputs of the grades go to the store's meta (``grading``: the band table scaled to
    the class, the baseline and where it comes from, the optimum, the adjustments file), so
    the student pages can explain a grade and ``grader report`` can grade again."""
    public: list[float] = []  # the built-in baseline's public score, when it is the one used

    def majority() -> float:
        score = scorer.majority_scores()
        public.append(score.public)
        return score.private

    baseline, source = baseline_score(course, store, scorer, majority)
    optimum = optimum_score(course, store)
    # students see public scores before the release: the baseline's public score goes beside
    # theirs (a reference model baseline has its own in the reference table)
    store.set_meta(baseline=baseline, baseline_public=(
        public[0] if public and math.isfinite(public[0]) else None))
    return grade_rows(store, course.grading, baseline=baseline, baseline_source=source,
                      optimum=optimum, greater_is_better=scorer.greater_is_better,
                      adjustments=adjustments, integrity=course.integrity)


def record_grading_inputs(store: Store, grading: GradingConfig, participants: int, *,
                          baseline: float | None, baseline_source: str, optimum: float | None,
                          greater_is_better: bool, adjustments: Path | None) -> None:
    """The inputs of the grades in the store's meta (``grading``): the band table scaled to
    the ``participants``, the baseline and where it comes from, the optimum, the adjustments
    file; the student pages explain a grade from them."""
    bands = scaled_bands(grading, participants)
    store.set_meta(grading={
        "policy": grading.policy, "participants": participants,
        "bands": [{"first": b.first, "last": b.last, "grade": b.grade} for b in bands],
        "scaled": bands != scaled_bands(grading, grading.scale_bands_to),
        "baseline": baseline, "baseline_source": baseline_source, "optimum": optimum,
        "greater_is_better": greater_is_better,
        "adjustments": str(Path(adjustments).resolve()) if adjustments else None})


def grade_rows(store: Store, grading: GradingConfig, *, baseline: float | None,
               baseline_source: str, optimum: float | None, greater_is_better: bool,
               adjustments: Path | None, integrity: IntegrityConfig) -> list[dict[str, Any]]:
    """Rank and grade the stored scores (``grade_batch``, and ``grader report`` again from
    the stored inputs); the grading inputs are recorded in the store's meta."""
    scores = store.scores()
    deductions = load_adjustments(adjustments, grading.max_deduction) if adjustments else {}
    valid = pd.Series({s: r["private_score"] for s, r in scores.items()
                       if r["status"] == Status.OK.value and r["private_score"] is not None
                       and not math.isnan(r["private_score"])}, dtype=float)
    record_grading_inputs(store, grading, len(valid), baseline=baseline,
                          baseline_source=baseline_source, optimum=optimum,
                          greater_is_better=greater_is_better, adjustments=adjustments)
    constant = {s: r["details"]["constant"] for s, r in scores.items()
                if s in valid.index and "constant" in (r["details"] or {})}
    graded = {g.student: g for g in grade_scores(
        valid, grading, greater_is_better=greater_is_better, baseline=baseline,
        optimum=optimum, deductions=deductions, constant=constant)}
    rows = []
    for student, sc in scores.items():
        g = graded.get(student)
        rows.append(dict(
            student=student, status=sc["status"], rank=g.rank if g else None,
            band=g.band if g else "", base_grade=g.base_grade if g else None,
            deduction=g.deduction if g else 0.0, grade=g.grade if g else None,
            above_baseline=None if g is None else int(g.above_baseline),
            note=(g.note if g else sc["message"]) or ""))
    return apply_integrity(rows, store.decisions(), integrity)
