"""The reference models on a course's data, scored like the students, into the store.

The models are the course's own (``reference.MODELS``), trusted code, so they run in the
grader's process. They never see the hidden labels: the runner returns test predictions and
the grader's scorer scores them.

Same input, same grade: each model trains to fixed epochs or iterations from fixed seeds
(``reference.runner``), and its predictions are cached in the store under a key made of the
data's hash, the model's fingerprint (search space, fixed parameters, seed, threads, device,
code and library versions) and gradebox's version. A rerun retrains only the models whose key
changed and scores the others from the store, so the store carries the grades from machine to
machine. The time budget is a safety deadline: a model that reaches it is marked ``deadline``
and is never a baseline or optimum.

``course.toml`` may tune the stage in ``[reference]``: ``models`` (names), ``budget_s`` (the
safety deadline per model, seconds), ``threads`` (BLAS/PyTorch threads while training) and
``[reference.params.<model>]`` (parameters fixed on every candidate, e.g. ``max_epochs``).
"""

from __future__ import annotations

import hashlib
import json
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from diagnostics.text import csv_writer
from grader.course import Course
from grader.errors import CourseError
from grader.grading import baseline_model, best_first
from grader.scoring import OutputInvalid
from grader.store import Store

__all__ = ["DEFAULT_DEADLINE_S", "ReferenceOptions", "reference_options",
           "run_reference_stage", "write_reference_csv"]

#: The safety deadline per model when neither the caller nor course.toml sets one (seconds).
DEFAULT_DEADLINE_S = 600.0
#: Statuses whose predictions may stand for the model (a deadline's depend on the machine).
_USABLE = "ok"


@dataclass(frozen=True)
class ReferenceOptions:
    """``[reference]`` of course.toml, checked (``reference_options``)."""

    models: list[str] | None = None
    budget_s: float | None = None
    threads: int | None = None
    params: dict[str, dict[str, Any]] = field(default_factory=dict)


def reference_options(course: Course) -> ReferenceOptions:
    """The course's ``[reference]`` table, every key checked at once.

    Raises
    ------
    CourseError
        Listing each unknown key, unknown model or parameter and bad value, with the fix.
    """
    import difflib

    from reference import MODELS
    from reference.runner import check_params

    table = course.extra.get("reference", {}) or {}
    problems: list[str] = []
    keys = {"models", "budget_s", "threads", "params"}
    for key in table:
        if key not in keys:
            close = difflib.get_close_matches(key, keys, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            problems.append(f"[reference] {key}: unknown key{hint}; known: "
                            f"{', '.join(sorted(keys))}")
    models = table.get("models")
    if models is not None:
        if not isinstance(models, list) or not all(isinstance(m, str) for m in models):
            problems.append(f'[reference] models = {models!r}: expected a list of model names, '
                            'e.g. ["majority", "knn", "cnn"]')
            models = None
        else:
            for m in models:
                if m not in MODELS:
                    close = difflib.get_close_matches(m, MODELS, n=1)
                    hint = f" (did you mean {close[0]!r}?)" if close else ""
                    problems.append(f"[reference] models: unknown model {m!r}{hint}")
    budget = table.get("budget_s")
    if budget is not None and (isinstance(budget, bool) or not isinstance(budget, int | float)
                               or budget <= 0):
        problems.append(f"[reference] budget_s = {budget!r}: expected a positive number of "
                        "seconds (the safety deadline of each model), e.g. 600")
    threads = table.get("threads")
    if threads is not None and (isinstance(threads, bool) or not isinstance(threads, int)
                                or threads < 1):
        problems.append(f"[reference] threads = {threads!r}: expected a whole number >= 1 "
                        "(1, the default, gives the same bits on every machine)")
    params = table.get("params", {})
    if not isinstance(params, dict):
        problems.append("[reference] params: expected tables, e.g. [reference.params.cnn] "
                        "max_epochs = 10")
        params = {}
    for name, fixed in params.items():
        try:
            check_params({name: fixed})
        except (KeyError, ValueError) as exc:
            problems.append(f"[reference.params.{name}] {exc.args[0] if exc.args else exc}")
    if problems:
        raise CourseError(f"course.toml [reference] has {len(problems)} problem(s)",
                          problems=problems,
                          hint="see the [reference] keys in grader/batch/reference.py's "
                               "docstring and the model names in reference.MODELS")
    return ReferenceOptions(models=models, budget_s=None if budget is None else float(budget),
                            threads=threads, params=params)


def _read_csv(path: Path):
    import pandas as pd

    # ids and labels stay strings, as in submission.csv
    return pd.read_csv(path, dtype={"id": str, "label": str}, keep_default_na=False)


def _gradebox_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("gradebox")
    except PackageNotFoundError:
        return "unknown"


def cache_key(course: Course, fingerprint: dict[str, Any]) -> str:
    """The store's key of one model's result: data hash, fingerprint, gradebox version."""
    blob = json.dumps({"data": course.data_hash, "gradebox": _gradebox_version(),
                       "fingerprint": fingerprint}, sort_keys=True, default=str)
    return hashlib.blake2b(blob.encode(), digest_size=16).hexdigest()


def _reusable(row: dict[str, Any] | None, deadline_s: float) -> bool:
    """A cached result stands unless it could come out differently now: a deadline hit
    under a shorter deadline than today's, or an out-of-memory error."""
    if row is None:
        return False
    if row["status"] == "deadline":
        return deadline_s <= row["deadline_s"]
    return not (row["status"] == "error" and "MemoryError" in (row["message"] or ""))


def _cache_row(result, key: str, deadline_s: float) -> dict[str, Any]:
    preds = None if result.predictions is None else result.predictions.tolist()
    return dict(cache_key=key, model=result.model, params=result.params,
                validation_score=result.validation_score, fit_s=result.fit_s,
                predict_s=result.predict_s, elapsed_s=result.elapsed_s, status=result.status,
                message=result.message or "", deadline_s=deadline_s, predictions=preds,
                trained_at=time.time())


def run_reference_stage(course: Course, store: Store, scorer, out: Path, *,
                        budget_s: float = DEFAULT_DEADLINE_S, models: list[str] | None = None,
                        say: Callable[[str], None] | None = None, retrain: bool = False,
                        device: str | None = None) -> list[dict]:
    """Train (or take from the store) and score every reference model; write ``reference.csv``.

    Parameters
    ----------
    course, store, scorer, out
        The batch's course, store, scorer and output folder.
    budget_s : float, default=DEFAULT_DEADLINE_S
        The safety deadline per model when course.toml sets no ``[reference] budget_s``.
    models : list of str or None
        Overrides ``[reference] models`` and the defaults for the data's modality.
    say : callable or None
        Receives one progress line per model (default: stderr).
    retrain : bool, default=False
        Ignore the store's cached results (they are replaced).
    device : str or None
        Where the networks train (``run_references(device=...)``); None: their default.

    Returns
    -------
    list of dict, one row per model as stored in the ``reference`` table.

    Raises
    ------
    CourseError
        For a bad ``[reference]`` table, or when ``[grading] baseline`` or ``optimum`` names
        a model that did not finish cleanly (the store and reference.csv are written first).
    """
    from reference.features import detect_modality
    from reference.runner import DEFAULT_MODELS, DEFAULT_THREADS

    say = say or (lambda s: print(s, file=sys.stderr))
    options = reference_options(course)
    train, test = (_read_csv(course.data_dir / f"{name}.csv") for name in ("train", "test"))
    validation_path = course.data_dir / "validation.csv"
    validation = _read_csv(validation_path) if validation_path.is_file() else None
    modality = course.competition.modality
    if modality == "auto":
        modality = detect_modality(train, course.data_dir)
    names = list(dict.fromkeys(models or options.models
                               or DEFAULT_MODELS[(course.task, modality)]))
    deadline = options.budget_s or float(budget_s)
    threads = options.threads or DEFAULT_THREADS
    # roc_auc: the models submit the positive class's probability, as the students do
    positive = scorer.positive_label if course.metric == "roc_auc" else None
    keys = _cache_keys(course, names, modality, options, threads, device, positive)
    stored = {} if retrain else store.cached_reference(keys.values())
    cached = {n: stored[k] for n, k in keys.items() if _reusable(stored.get(k), deadline)}
    todo = [n for n in names if n not in cached]
    if not todo:
        say(f"reference: all {len(cached)} model(s) unchanged since trained, taken from the "
            "store")
    elif cached:
        say(f"reference: training {len(todo)} model(s): {', '.join(todo)}; {len(cached)} "
            "more unchanged since trained, taken from the store")
    else:
        say(f"reference: training {len(todo)} model(s): {', '.join(todo)}")
    for n in names:
        if n in cached:
            _say_result(say, cached[n], cached=True, metric=course.metric)
    fresh: dict[str, dict[str, Any]] = {}
    if todo:
        from reference.runner import run_references

        results = run_references(
            train, test, course.data_dir, task=course.task, models=todo, budget_s=deadline,
            seed=course.seed, validation_df=validation,
            progress=lambda r: _say_result(say, _cache_row(r, "", deadline), cached=False,
                                          metric=course.metric),
            modality=modality, cache_dir=out / "cache",
            params={n: p for n, p in options.params.items() if n in todo}, threads=threads,
            device=device, positive=positive, metric=course.metric)
        fresh = {r.model: _cache_row(r, keys[r.model], deadline) for r in results}
        store.put_cached_reference(fresh.values())
    rows = _scored_rows([cached.get(n) or fresh[n] for n in names], keys, course, scorer, store,
                        test)
    store.put_reference(rows)
    store.log_event("reference", {"trained": todo, "reused": [n for n in names if n in cached],
                                  "deadline_s": deadline})
    write_reference_csv(out / "reference.csv", rows, scorer.greater_is_better,
                        metric=course.metric)
    _check_roles(course, rows, say)
    return rows


def _cache_keys(course: Course, names: list[str], modality: str, options: ReferenceOptions,
                threads: int, device: str | None, positive: str | None = None
                ) -> dict[str, str]:
    from reference.runner import model_fingerprint

    return {n: cache_key(course, model_fingerprint(
        n, task=course.task, modality=modality, seed=course.seed,
        params=options.params.get(n), threads=threads, device=device, positive=positive,
        metric=course.metric))
        for n in names}


def _scored_rows(entries: list[dict[str, Any]], keys: dict[str, str], course: Course, scorer,
                 store: Store, test) -> list[dict[str, Any]]:
    """The entries scored, with the scores of unchanged predictions taken from the store."""
    scored_with = _scoring_key(course)
    known = store.reference_scores(scored_with)
    rows = [_score_row(e, course, scorer, test, known.get(keys[e["model"]])) for e in entries]
    store.put_reference_scores(scored_with, {keys[r["model"]]: (r["public_score"],
                                                                 r["private_score"])
                                             for r in rows if r["private_score"] is not None})
    return rows


def _say_result(say: Callable[[str], None], e: dict[str, Any], *, cached: bool,
                metric: str) -> None:
    from reports import validation_measure

    name, sign = validation_measure(metric)  # the search's score as its measure: mse 2824.6
    score = ("" if e["validation_score"] is None
             else f" validation {name} {sign * e['validation_score']:.4f}")
    # the whole time too: a model search (k = 1, 3, 5) can cost far more than the final fit
    elapsed = e.get("elapsed_s")
    how = (f"from the store, trained {_when(e['trained_at'])}" if cached
           else f"fit {e['fit_s'] or 0:.1f} s"
           + (f", {elapsed:.1f} s in all with the search and predictions" if elapsed else ""))
    say(f"reference: {e['model']}: {e['status']}{score} ({how})"
        f"{' — ' + e['message'] if e['message'] else ''}")


def _when(t: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(t))


def _scoring_key(course: Course) -> str:
    """What a score depends on besides the predictions: hidden labels and competition."""
    h = hashlib.blake2b(digest_size=16)
    h.update(json.dumps(course.describe()["competition"], sort_keys=True, default=str).encode())
    h.update((course.hidden_dir / "test_labels.csv").read_bytes())
    return h.hexdigest()


def _score_row(e: dict[str, Any], course: Course, scorer, test,
               known: tuple[float | None, float | None] | None) -> dict[str, Any]:
    """The ``reference`` table's row: the entry scored on the hidden labels (``known``: its
    scores from the store, for the same predictions, labels and competition)."""
    import pandas as pd

    baseline = baseline_model(course.grading.baseline, course.task)
    row = dict(model=e["model"], params=e["params"], public_score=None, private_score=None,
               validation_score=e["validation_score"], fit_s=e["fit_s"],
               predict_s=e["predict_s"], status=e["status"], message=e["message"] or "",
               is_baseline=int(e["model"] == baseline and e["status"] == _USABLE),
               trained_at=e["trained_at"])
    preds = e["predictions"]
    if known is not None and preds is not None:
        row.update(public_score=known[0], private_score=known[1])
    elif preds is not None and len(preds) == len(test):
        series = pd.Series(preds, index=test["id"].astype(str).to_numpy(), name="label")
        try:
            score = scorer.score_series(series.astype(str) if course.task == "classification"
                                        else series)
        except OutputInvalid as exc:  # a diverged model: no score, and it says why
            row.update(message="; ".join(filter(None, (row["message"], str(exc)))))
        else:
            row.update(public_score=score.public, private_score=score.private)
    return row


def _check_roles(course: Course, rows: list[dict], say: Callable[[str], None]) -> None:
    """A model that did not finish cleanly is never the baseline or the optimum: a named one
    is an error; ``optimum = "best"`` passes over it and says so."""
    unusable = {r["model"]: r for r in rows if r["status"] != _USABLE}
    problems = []
    for role in ("baseline", "optimum"):
        value = getattr(course.grading, role)
        if value == "best":
            for r in unusable.values():
                if r["status"] != "skipped":
                    say(f"reference: optimum \"best\" passes over {r['model']} "
                        f"({r['status']}: {r['message']})")
        elif isinstance(value, str) and value in unusable:
            r = unusable[value]
            problems.append(f"[grading] {role} = \"{value}\": the reference model {value} "
                            f"ended with status '{r['status']}': {r['message']}")
    if problems:
        raise CourseError(
            "a reference model named as baseline or optimum cannot be used", problems=problems,
            hint="raise [reference] budget_s (the safety deadline) or lower the model's epochs "
                 "([reference.params.<model>] max_epochs), or name another model; see "
                 "reference.csv")


def write_reference_csv(path: Path, rows: list[dict], greater_is_better: bool = True,
                        metric: str | None = None) -> None:
    """``reference.csv``: one row per model, best private score first (lowest for an error
    metric such as ``mse``); ``status`` is ``deadline`` for a model stopped by the safety
    deadline (never a baseline or optimum). ``validation_score`` is written as the measure
    the pages and the log show (``reports.validation_measure`` of ``metric``): on an error
    course the positive error, not the search's negated one."""
    from reports import validation_measure

    sign = validation_measure(metric)[1] if metric else 1.0
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv_writer(f)
        w.writerow(["model", "params", "public_score", "private_score", "validation_score",
                    "fit_s", "predict_s", "status", "baseline", "message", "trained_at"])
        for r in best_first(rows, greater_is_better):
            trained = r.get("trained_at")
            validation = r["validation_score"]
            w.writerow([r["model"], json.dumps(r["params"], sort_keys=True, default=str),
                        _f(r["public_score"]), _f(r["private_score"]),
                        _f(None if validation is None else sign * validation),
                        _f(r["fit_s"]), _f(r["predict_s"]), r["status"],
                        "yes" if r["is_baseline"] else "", r["message"],
                        "" if trained is None else time.strftime(
                            "%Y-%m-%dT%H:%M:%SZ", time.gmtime(trained))])


def _f(v) -> str:
    return "" if v is None else f"{v:.6g}"
