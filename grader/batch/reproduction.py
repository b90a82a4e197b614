"""The reproduction stage: each run's predictions against the file the student uploaded to
Kaggle (``kaggle_dir/<student>.csv``, else ``kaggle_submission.csv`` beside the code; never
shipped into the sandbox). The comparison itself is ``grader.ops.reproduction``."""

from __future__ import annotations

from pathlib import Path

from grader.course import Course
from grader.intake import KAGGLE_FILE
from grader.ops.reproduction import (
    check_reproduction,
    load_kaggle_predictions,
    reproduction_options,
)
from grader.scoring import Scorer
from grader.store import Store

__all__ = ["reproduction_stage"]


def reproduction_stage(course: Course, store: Store, scorer: Scorer, out: Path,
                       kaggle_dir: Path | None) -> None:
    """Store one reproduction row per student who uploaded predictions and ran ``ok``."""
    rows = []
    options, _ = reproduction_options(course.extra.get("reproduction", {}))  # checked at load
    scores = store.scores()
    for sub in store.submissions():
        student = sub["student"]
        kaggle = Path(sub["path"]) / KAGGLE_FILE
        if kaggle_dir is not None and (Path(kaggle_dir) / f"{student}.csv").is_file():
            kaggle = Path(kaggle_dir) / f"{student}.csv"
        run_csv = out / "runs" / student / "submission.csv"
        if not sub["accepted"] or not kaggle.is_file() or scores.get(student, {}).get("status") != "ok":
            continue
        try:
            theirs = load_kaggle_predictions(kaggle, list(scorer.truth.index))
            ours = scorer.parse(run_csv.read_bytes())
            res = check_reproduction(ours, theirs, lambda p: scorer.score_series(p).private,
                                     **options)
        except Exception as exc:  # a malformed upload is the student's problem, not the batch's
            rows.append(dict(student=student, agreement=None, run_score=None, kaggle_score=None,
                             flagged=True, message=f"kaggle_submission.csv unusable: {exc}"))
            continue
        rows.append(dict(student=student, agreement=res.agreement, run_score=res.run_score,
                         kaggle_score=res.kaggle_score, flagged=res.flagged, message=res.message))
    store.put_reproduction(rows)
