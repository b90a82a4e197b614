"""The reference models on a course's data, scored like the students, into the store.

The models are the course's own (``reference.MODELS``), trusted code, so they run in the
grader's process; each gets a time budget for its small validation-based search. They never
see the hidden labels: the runner returns test predictions and the grader's scorer scores them.
"""

from __future__ import annotations

import csv
import sys
from collections.abc import Callable
from pathlib import Path

from grader.course import Course
from grader.store import Store


def _read_csv(path: Path):
    import pandas as pd

    # ids and labels stay strings, as in submission.csv
    return pd.read_csv(path, dtype={"id": str, "label": str}, keep_default_na=False)


def run_reference_stage(course: Course, store: Store, scorer, out: Path, *,
                        budget_s: float = 60.0, models: list[str] | None = None,
                        say: Callable[[str], None] | None = None) -> list[dict]:
    """Run, score and store every reference model; write ``reference.csv``."""
    from reference.runner import run_references

    say = say or (lambda s: print(s, file=sys.stderr))
    train = _read_csv(course.data_dir / "train.csv")
    test = _read_csv(course.data_dir / "test.csv")
    validation_path = course.data_dir / "validation.csv"
    validation = _read_csv(validation_path) if validation_path.is_file() else None
    options = course.extra.get("reference", {})
    models = models or options.get("models")
    budget_s = float(options.get("budget_s", budget_s))

    def progress(result) -> None:
        if isinstance(result, str):
            say(f"reference: {result}")
            return
        score = "" if result.validation_score is None else \
            f" validation {result.validation_score:.4f}"
        say(f"reference: {result.model}: {result.status}{score} "
            f"(fit {result.fit_s:.1f} s){' — ' + result.message if result.message else ''}")

    results = run_references(train, test, course.data_dir, task=course.task, models=models,
                             budget_s=budget_s, seed=course.seed, validation_df=validation,
                             progress=progress, modality=course.competition.modality,
                             cache_dir=out / "cache")
    rows = []
    baseline = course.grading.baseline
    for r in results:
        row = dict(model=r.model, params=r.params, public_score=None, private_score=None,
                   validation_score=r.validation_score, fit_s=r.fit_s, predict_s=r.predict_s,
                   status=r.status, message=r.message or "",
                   is_baseline=int(isinstance(baseline, str) and r.model == baseline))
        if r.status == "ok" and r.predictions is not None:
            preds = r.predictions.copy()
            preds.index = preds.index.astype(str)
            score = scorer.score_series(preds.astype(str) if course.task == "classification"
                                        else preds)
            row.update(public_score=score.public, private_score=score.private)
        rows.append(row)
    store.put_reference(rows)
    write_reference_csv(out / "reference.csv", rows)
    return rows


def write_reference_csv(path: Path, rows: list[dict]) -> None:
    import json

    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["model", "params", "public_score", "private_score", "validation_score",
                    "fit_s", "predict_s", "status", "baseline", "message"])
        for r in sorted(rows, key=lambda r: -(r["private_score"] or -1e9)):
            w.writerow([r["model"], json.dumps(r["params"], sort_keys=True, default=str),
                        _f(r["public_score"]), _f(r["private_score"]), _f(r["validation_score"]),
                        _f(r["fit_s"]), _f(r["predict_s"]), r["status"],
                        "yes" if r["is_baseline"] else "", r["message"]])


def _f(v) -> str:
    return "" if v is None else f"{v:.6g}"
