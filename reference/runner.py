"""Run the course's models on a competition's data, each with a small validation search.

The runner sees the training data (and an optional validation set) and the test features,
never the hidden test labels: it returns each model's test predictions, and the grader scores
them with the same scorer (public/private split) as the students' submissions.

Same data, same predictions: every model tries all its candidates and trains to a fixed
budget of epochs or iterations from fixed seeds, with a fixed number of threads (PyTorch and
BLAS give different bits with different thread counts). The time budget is only a safety
deadline: a model that reaches it is returned with ``status="deadline"``, because what it
learnt depends on the machine's speed. ``model_fingerprint`` names everything a model's result
depends on besides the data, so that callers can cache results.
"""

from __future__ import annotations

import hashlib
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from reference.features import (
    detect_modality,
    load_images,
    tabular_features,
    text_column,
)
from reference.features.detect import image_column
from reference.models import MODEL_TASKS, make_model

__all__ = [
    "DEFAULT_MODELS",
    "TEXT_DATA_MODELS",
    "DEFAULT_THREADS",
    "SEARCH_SPACES",
    "ReferenceResult",
    "model_fingerprint",
    "positive_scores",
    "run_references",
]

#: Threads for PyTorch and BLAS while the models train: a fixed count, so that the same data
#: gives the same bits on any machine (a different count changes the order of float sums).
DEFAULT_THREADS = 1

#: The models run by default, per task and modality, cheapest first.
DEFAULT_MODELS: dict[tuple[str, str], tuple[str, ...]] = {
    ("classification", "tabular"): (
        "majority",
        "stratified",
        "gaussian_nb",
        "multinomial_nb",
        "bernoulli_nb",
        "knn",
        "lda",
        "perceptron",
        "linear_softmax",
        "linear_hinge",
        "kernel_ridge_ova",
        "svm_ovo",
        "svm_ova",
        "mlp",
    ),
    ("classification", "images"): (
        "majority",
        "stratified",
        "gaussian_nb",
        "multinomial_nb",
        "bernoulli_nb",
        "knn",
        "lda",
        "perceptron",
        "linear_softmax",
        "linear_hinge",
        "kernel_ridge_ova",
        "svm_ovo",
        "mlp",
        "cnn",
    ),
    ("classification", "text"): (
        "majority",
        "stratified",
        "string_kernel_svm",
        "string_kernel_ridge",
        "knn_levenshtein",
    ),
    ("regression", "tabular"): ("mean", "knn_regressor", "kernel_ridge"),
    ("regression", "images"): ("mean", "knn_regressor", "kernel_ridge"),
    ("regression", "text"): ("mean",),
}

#: Candidate hyper-parameters per model, all tried in order; the best on validation is refitted.
SEARCH_SPACES: dict[str, list[dict[str, Any]]] = {
    "multinomial_nb": [{"n_bins": b, "per_feature": f} for b in (5, 10) for f in (False, True)]
    + [{"n_bins": 20, "per_feature": True}],
    "bernoulli_nb": [{"alpha": a} for a in (1.0, 0.1)],
    "knn": [{"n_neighbors": k, "metric": m} for k in (5, 1, 3, 9) for m in ("l2", "l1")],
    "knn_regressor": [{"n_neighbors": k} for k in (5, 10, 3, 1)],
    "knn_levenshtein": [{"n_neighbors": k} for k in (1, 3, 5)],
    "perceptron": [{"alpha": a, "penalty": p} for a, p in ((0.0001, None), (0.0001, "l2"))],
    "linear_softmax": [{"reg": r} for r in (1e-4, 1e-3, 1e-2)],
    "linear_hinge": [{"reg": r} for r in (1e-4, 1e-3, 1e-2)],
    "kernel_ridge_ova": [
        {"kernel": "rbf", "kernel_params": {"sigma": s}, "lam": lam}
        for s in (None, 2.0)
        for lam in (1.0, 0.1)
    ]
    + [{"kernel": "linear", "lam": 10.0}],
    "kernel_ridge": [
        {"kernel": "rbf", "kernel_params": {"sigma": s}, "lam": lam}
        for s in (None, 2.0)
        for lam in (1.0, 0.1)
    ],
    "svm_ovo": [{"kernel_params": {"sigma": s}, "C": c} for s in (None,) for c in (1.0, 10.0)]
    + [{"kernel": "polynomial", "kernel_params": {"degree": 2}, "C": 1.0}],
    "svm_ova": [{"kernel_params": {"sigma": None}, "C": c} for c in (1.0, 10.0)],
    "string_kernel_svm": [
        {"kernel_params": {"p": p, "kind": k}, "C": c}
        for p in ((3, 4, 5), (2, 3))
        for k in ("intersection", "presence")
        for c in (1.0, 10.0)
    ],
    "string_kernel_ridge": [
        {"kernel_params": {"p": p, "kind": "intersection"}, "lam": lam}
        for p in ((3, 4, 5), (2, 3))
        for lam in (1.0, 0.1)
    ],
    "mlp": [{"hidden_layer_sizes": h, "dropout": d} for h, d in (((256,), 0.2), ((128, 64), 0.0))],
    "cnn": [{"architecture": "simple"}, {"architecture": "resnet"}],
}

#: Kernel and neighbour models are quadratic in the training rows: cap what they see.
MAX_TRAIN_ROWS: dict[str, int] = {
    "kernel_ridge": 4000,
    "kernel_ridge_ova": 4000,
    "svm_ovo": 8000,
    "svm_ova": 5000,
    "string_kernel_svm": 3000,
    "string_kernel_ridge": 3000,
    "knn_levenshtein": 2000,
    "perceptron": 200_000,
}
#: Models that want standardised tabular features (distance, kernel and gradient models).
_SCALED = {
    "knn",
    "knn_regressor",
    "kernel_ridge",
    "kernel_ridge_ova",
    "svm_ovo",
    "svm_ova",
    "perceptron",
    "linear_softmax",
    "linear_hinge",
    "lda",
}
#: Edit distance costs O(len_x * len_z) per pair: beyond this mean length it cannot fit a budget.
LEVENSHTEIN_MAX_MEAN_CHARS = 64
#: Models that take the raw documents (text modality): the only ones a text course runs.
TEXT_DATA_MODELS = _TEXT_MODELS = {
    "string_kernel_svm",
    "string_kernel_ridge",
    "knn_levenshtein",
    "majority",
    "stratified",
    "mean",
}


@dataclass
class ReferenceResult:
    """One reference model's outcome.

    ``predictions`` is indexed by test id (None unless ``status == "ok"``); the validation
    score is accuracy (classification), the AUC (``roc_auc``) or the negative mean squared
    or absolute error (regression, as the course's metric is ``mse`` or ``mae``), measured on
    the validation set used to choose ``params``.
    """

    model: str
    params: dict[str, Any] = field(default_factory=dict)
    predictions: pd.Series | None = None
    validation_score: float | None = None
    fit_s: float = 0.0
    predict_s: float = 0.0
    #: ok | error | skipped | deadline (the safety deadline stopped it: its predictions are
    #: kept for information but depend on the machine's speed)
    status: str = "ok"
    message: str = ""
    #: seconds for the whole model: search, final fit and prediction
    elapsed_s: float = 0.0


def positive_scores(est, X, positive) -> np.ndarray:
    """A fitted classifier's score for the class ``positive``, in [0, 1], as a student of a
    ``roc_auc`` course submits it: ``predict_proba``'s column where the model has one, else
    the logistic of a two-class ``decision_function`` (the same order of ids, so the same
    AUC), else 1 where it predicts ``positive`` and 0 elsewhere."""
    classes = [str(c) for c in getattr(est, "classes_", [])]
    positive = str(positive)
    if positive in classes and hasattr(est, "predict_proba"):
        return np.asarray(est.predict_proba(X), dtype=float)[:, classes.index(positive)]
    if len(classes) == 2 and positive in classes and hasattr(est, "decision_function"):
        d = np.asarray(est.decision_function(X), dtype=float)
        if d.ndim == 1:  # scikit-learn's convention: positive values for classes_[1]
            d = d if classes[1] == positive else -d
            return 1.0 / (1.0 + np.exp(-np.clip(d, -500, 500)))
    return (np.asarray(est.predict(X)).astype(str) == positive).astype(float)


def _validation_score(task: str, est, X_val, y_val, positive, metric: str | None = None
                      ) -> float:
    """Accuracy, negative MSE or MAE (``metric``), or (``positive`` given: a ``roc_auc``
    course) the AUC of the positive class's scores: what the model search maximises."""
    if positive is None:
        return _score(task, y_val, est.predict(X_val), metric)
    from sklearn.metrics import roc_auc_score

    y = np.asarray(y_val).astype(str) == str(positive)
    if y.all() or not y.any():
        return 0.5
    return float(roc_auc_score(y, positive_scores(est, X_val, positive)))


def _score(task: str, y_true, y_pred, metric: str | None = None) -> float:
    if task == "classification":
        return float(np.mean(np.asarray(y_true) == np.asarray(y_pred)))
    error = np.asarray(y_true, float) - np.asarray(y_pred, float)
    # the course's own metric picks the parameters: an mae course's best model by MAE
    return -float(np.mean(np.abs(error) if metric == "mae" else error**2))


def _resolve_params(params: dict[str, Any], X: np.ndarray, scaled: bool) -> dict[str, Any]:
    """Fill data-dependent defaults: an RBF ``sigma=None`` becomes ``sqrt(n_features * var / 2)``,
    i.e. sklearn's ``gamma="scale"`` (``1 / (n_features * var)``); var is 1 once standardised."""
    out = dict(params)
    kp = out.get("kernel_params")
    if isinstance(kp, dict) and "sigma" in kp and kp["sigma"] is None:
        var = 1.0 if scaled else (float(X.var()) if X.size else 1.0)
        out["kernel_params"] = {**kp, "sigma": float(np.sqrt(max(X.shape[1] * var, 1e-12) / 2))}
    return out


def _estimator(
    name: str,
    params: dict[str, Any],
    seed: int,
    modality: str,
    time_left: float,
    fixed: dict[str, Any] | None = None,
):
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    est = make_model(name, **params)
    extra = {}
    est_params = est.get_params()
    if "random_state" in est_params:
        extra["random_state"] = seed
    if "max_time_s" in est_params:
        extra["max_time_s"] = max(1.0, time_left)
    extra.update({k: v for k, v in (fixed or {}).items() if k in est_params})
    est.set_params(**extra)
    if modality == "tabular" and name in _SCALED:
        return make_pipeline(StandardScaler(), est)
    return est


def _features(train_df, test_df, val_df, data_dir, modality, cache_dir):
    frames = [train_df, test_df] + ([val_df] if val_df is not None else [])
    if modality == "images":
        col = image_column(train_df)
        loaded = [
            load_images(
                f[col].astype(str).tolist(), data_dir, cache_dir=cache_dir, return_shape=True
            )
            for f in frames
        ]
        shapes = {shape for _, shape in loaded}
        if len(shapes) > 1:
            raise ValueError(f"train and test images differ in shape: {sorted(shapes)}")
        return [X for X, _ in loaded], {"image_shape": loaded[0][1]}
    if modality == "text":
        return text_column(*frames), {}
    return tabular_features(*frames), {}


def _subsample(n: int, cap: int | None, y, task: str, seed: int) -> np.ndarray:
    idx = np.arange(n)
    if cap is None or n <= cap:
        return idx
    from sklearn.model_selection import train_test_split

    strat = y if task == "classification" and _stratifiable(y) else None
    keep, _ = train_test_split(idx, train_size=cap, random_state=seed, stratify=strat)
    return np.sort(keep)


def _mean_chars(X: np.ndarray) -> float:
    return float(np.mean([len(str(v)) for v in np.asarray(X).ravel()])) if np.size(X) else 0.0


def _stratifiable(y) -> bool:
    _, counts = np.unique(np.asarray(y).astype(str), return_counts=True)
    return len(counts) > 1 and counts.min() >= 2


def _candidates(name: str, overrides: dict[str, Any] | None) -> list[dict[str, Any]]:
    """The model's search space with the caller's fixed parameters on every candidate
    (candidates made identical by them are tried once)."""
    out: list[dict[str, Any]] = []
    for params in SEARCH_SPACES.get(name, [{}]):
        merged = {**params, **(overrides or {})}
        if merged not in out:
            out.append(merged)
    return out


def _deadline_message(budget_s: float, where: str) -> str:
    return (
        f"reached the safety deadline of {budget_s:g} s {where}: what it learnt depends on the "
        "machine's speed, so it is never a baseline or optimum; raise the deadline (budget_s) "
        "or lower the model's epochs"
    )


def _search(name, X, y, sub, X_val, y_val, candidates, time_left, *, task, modality, seed, fixed,
            positive=None, metric=None):
    """Every candidate fitted on the rows ``sub`` and scored on validation, in order: (best
    (score, params) or None, the errors, and where the deadline stopped the search or "")."""
    best: tuple[float, dict] | None = None
    errors = []
    for i, params in enumerate(candidates):
        if time_left() <= 0:  # the safety limit, never the search's plan: all candidates run
            return best, errors, f"after {i} of {len(candidates)} candidates"
        resolved = _resolve_params(params, X, modality == "tabular" and name in _SCALED)
        try:
            est = _estimator(name, resolved, seed, modality, time_left(), fixed)
            est.fit(X[sub], y[sub])
            score = _validation_score(task, est, X_val, y_val, positive, metric)
        except Exception as exc:  # a model failing on odd data is a result, not a crash
            errors.append(f"{params}: {type(exc).__name__}: {exc}")
            continue
        if best is None or score > best[0]:
            best = (score, resolved)
    return best, errors, ""


def _run_one(
    name,
    X_tr,
    y_tr,
    X_val,
    y_val,
    X_all,
    y_all,
    X_test,
    test_ids,
    *,
    task,
    modality,
    budget_s,
    seed,
    fixed,
    overrides=None,
    positive=None,
    metric=None,
) -> ReferenceResult:
    started = time.perf_counter()

    def time_left() -> float:
        return budget_s - (time.perf_counter() - started)

    cap = MAX_TRAIN_ROWS.get(name)
    sub = _subsample(len(y_tr), cap, y_tr, task, seed)
    best, errors, stopped = _search(
        name, X_tr, y_tr, sub, X_val, y_val, _candidates(name, overrides), time_left,
        task=task, modality=modality, seed=seed, fixed=fixed, positive=positive, metric=metric,
    )
    if stopped:
        return ReferenceResult(
            name,
            status="deadline",
            message=_deadline_message(budget_s, stopped),
            elapsed_s=time.perf_counter() - started,
        )
    if best is None:
        return ReferenceResult(
            name,
            status="error",
            message="; ".join(errors)[:2000],
            elapsed_s=time.perf_counter() - started,
        )
    score, params = best
    if time_left() <= 0:
        return ReferenceResult(
            name,
            _jsonable(params),
            status="deadline",
            validation_score=score,
            message=_deadline_message(budget_s, "before the final fit"),
            elapsed_s=time.perf_counter() - started,
        )
    try:
        t0 = time.perf_counter()
        final_sub = _subsample(len(y_all), cap, y_all, task, seed)
        est = _estimator(name, params, seed, modality, time_left(), fixed)
        est.fit(X_all[final_sub], y_all[final_sub])
        fit_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        pred = est.predict(X_test) if positive is None else positive_scores(est, X_test, positive)
        predict_s = time.perf_counter() - t0
    except Exception as exc:
        return ReferenceResult(
            name,
            params,
            status="error",
            validation_score=score,
            message=f"final fit: {type(exc).__name__}: {exc}",
            elapsed_s=time.perf_counter() - started,
        )
    msg = f"trained on {len(final_sub)} of {len(y_all)} rows" if len(final_sub) < len(y_all) else ""
    status = "ok"
    if time_left() < 0:  # a network stops at the first epoch end past the deadline
        status, msg = "deadline", _deadline_message(budget_s, "in the final fit")
    return ReferenceResult(
        name,
        _jsonable(
            {**params, **{k: v for k, v in fixed.items() if k in make_model(name).get_params()}}
        ),
        pd.Series(pred, index=test_ids, name="label"),
        score,
        fit_s,
        predict_s,
        status,
        msg,
        time.perf_counter() - started,
    )


def _jsonable(params: dict[str, Any]) -> dict[str, Any]:
    def conv(v):
        if isinstance(v, dict):
            return {k: conv(x) for k, x in v.items()}
        if isinstance(v, tuple | list):
            return [conv(x) for x in v]
        if isinstance(v, np.generic):
            return v.item()
        return v

    return conv(params)


def run_references(
    train_df: pd.DataFrame,
    test_df: pd.DataFrame,
    data_dir: str | Path | None,
    *,
    task: str = "classification",
    models: list[str] | None = None,
    budget_s: float = 60,
    seed: int = 0,
    validation_df: pd.DataFrame | None = None,
    progress: Callable[[ReferenceResult], None] | None = None,
    modality: str = "auto",
    cache_dir: str | Path | None = None,
    device: str | None = None,
    params: dict[str, dict[str, Any]] | None = None,
    threads: int | None = DEFAULT_THREADS,
    positive: str | None = None,
    metric: str | None = None,
) -> list[ReferenceResult]:
    """Fit every reference model and predict the test set.

    Parameters
    ----------
    train_df : DataFrame
        ``id``, ``label`` and the feature columns (or one column naming image files).
    test_df : DataFrame
        ``id`` and the same feature columns; never a label.
    data_dir : path or None
        The folder image paths are relative to (``None`` for tabular or text data).
    task : {"classification", "regression"}, default="classification"
    models : list of str or None, default=None
        Names from ``reference.MODELS``; ``None`` runs ``DEFAULT_MODELS[task, modality]``.
    budget_s : float, default=60
        The safety deadline of each model, in seconds (search, final fit and prediction).
        Models train to fixed epochs or iterations, not to this time; a model still working
        at the deadline stops (a network at the end of its epoch, other models once the
        current fit ends) and is returned with ``status="deadline"``.
    seed : int, default=0
        Seeds the validation split, subsampling and every model's ``random_state``.
    validation_df : DataFrame or None, default=None
        Labelled validation data (``validation.csv``); ``None`` holds out 20 % of train.
        The chosen parameters are refitted on train plus validation.
    progress : callable or None, default=None
        Called with each ``ReferenceResult`` as it finishes.
    modality : {"auto", "tabular", "images", "text"}, default="auto"
    cache_dir : path or None, default=None
        Where decoded images are cached by content hash.
    device : str or None, default=None
        Where the neural networks train: ``"cpu"``, or the UUID (``"GPU-..."``) of the GPU
        the grader's pool handed out; None keeps each model's default (``"auto"``).
    params : dict or None, default=None
        Model name -> fixed parameters set on every candidate of its search, e.g.
        ``{"cnn": {"max_epochs": 5}}``. Unknown parameter names raise ``ValueError``.
    threads : int or None, default=DEFAULT_THREADS
        Threads for PyTorch and BLAS while the models run (restored afterwards); ``None``
        leaves the process's settings, giving up bit-identical results across machines.
    positive : str or None, default=None
        A ``roc_auc`` course's positive class: each model is chosen by the validation AUC
        of its score for this label and predicts that score (``positive_scores``: a
        probability in [0, 1]), as the students submit it, instead of a label.
    metric : str or None, default=None
        The course's metric. A regression course's search keeps the parameters with the
        lowest validation MAE where it is ``"mae"``, else the lowest MSE;
        ``validation_score`` is its negative.

    Returns
    -------
    list of ReferenceResult, one per model, in the order run.

    Examples
    --------
    >>> import pandas as pd
    >>> train = pd.DataFrame({"id": range(10), "x": [0, 1] * 5, "label": list("ab") * 5})
    >>> test = pd.DataFrame({"id": [10, 11], "x": [1, 0]})
    >>> [r.status for r in run_references(train, test, None, models=["majority"])]
    ['ok']
    """
    if task not in ("classification", "regression"):
        raise ValueError(f"task must be 'classification' or 'regression', got {task!r}")
    if positive is not None and task != "classification":
        raise ValueError("a positive class (roc_auc) needs task='classification'")
    for name, df in (("train", train_df), ("test", test_df)):
        if "id" not in df.columns:
            raise ValueError(f"{name} data has no 'id' column")
    if "label" not in train_df.columns:
        raise ValueError("train data has no 'label' column")
    if modality == "auto":
        modality = detect_modality(train_df, data_dir)
    names = list(models) if models else list(DEFAULT_MODELS[(task, modality)])
    for n in names:
        make_model(n)  # unknown names fail here, before any work
    check_params(params or {})
    feats, fixed = _features(train_df, test_df, validation_df, data_dir, modality, cache_dir)
    if device is not None:
        fixed = {**fixed, "device": device}  # only models with a device parameter take it
    X_train, X_test = feats[0], feats[1]
    y_train = train_df["label"].to_numpy()
    if task == "regression":
        y_train = y_train.astype(float)
    if validation_df is not None:
        X_val, y_val = feats[2], validation_df["label"].to_numpy()
        X_tr, y_tr = X_train, y_train
        X_all = np.concatenate([X_train, X_val])
        y_all = np.concatenate([y_train, y_val.astype(y_train.dtype)])
    else:
        from sklearn.model_selection import train_test_split

        strat = y_train if task == "classification" and _stratifiable(y_train) else None
        tr, va = train_test_split(
            np.arange(len(y_train)), test_size=0.2, random_state=seed, stratify=strat
        )
        X_tr, y_tr, X_val, y_val = X_train[tr], y_train[tr], X_train[va], y_train[va]
        X_all, y_all = X_train, y_train
    test_ids = pd.Index(test_df["id"], name="id")
    with fixed_threads(threads, torch=any(_uses_torch(n) for n in names)):
        return _run_all(names, X_train, X_tr, y_tr, X_val, y_val, X_all, y_all, X_test,
                        test_ids, task=task, modality=modality, budget_s=budget_s, seed=seed,
                        fixed=fixed, params=params or {}, progress=progress, positive=positive,
                        metric=metric if task == "regression" else None)


def _run_all(names, X_train, X_tr, y_tr, X_val, y_val, X_all, y_all, X_test, test_ids, *,
             task, modality, budget_s, seed, fixed, params, progress,
             positive=None, metric=None) -> list[ReferenceResult]:
    results = []
    for name in names:
        if MODEL_TASKS[name] != task:
            res = ReferenceResult(
                name, status="skipped", message=f"a {MODEL_TASKS[name]} model; the task is {task}"
            )
        elif modality == "text" and name not in _TEXT_MODELS:
            res = ReferenceResult(
                name, status="skipped", message="needs numeric features; the data is text"
            )
        elif name == "knn_levenshtein" and _mean_chars(X_train) > LEVENSHTEIN_MAX_MEAN_CHARS:
            res = ReferenceResult(
                name,
                status="skipped",
                message=f"texts average {_mean_chars(X_train):.0f} characters; edit distance "
                f"is quadratic in length (limit {LEVENSHTEIN_MAX_MEAN_CHARS})",
            )
        else:
            try:
                res = _run_one(
                    name,
                    X_tr,
                    y_tr,
                    X_val,
                    y_val,
                    X_all,
                    y_all,
                    X_test,
                    test_ids,
                    task=task,
                    modality=modality,
                    budget_s=budget_s,
                    seed=seed,
                    fixed=fixed,
                    overrides=params.get(name),
                    positive=positive,
                    metric=metric,
                )
            except Exception as exc:  # one broken model never stops the others
                res = ReferenceResult(
                    name,
                    status="error",
                    message=f"{type(exc).__name__}: {exc}\n{traceback.format_exc(limit=3)}"[:2000],
                )
        results.append(res)
        if progress is not None:
            progress(res)
    return results


def check_params(params: dict[str, dict[str, Any]]) -> None:
    """Check fixed parameters per model (``run_references(params=...)``) before any work.

    Raises
    ------
    ValueError
        Naming every unknown model or parameter, with the parameters the model has.
    """
    problems = []
    for name, fixed in params.items():
        if not isinstance(fixed, dict):
            problems.append(f"{name}: expected a table of parameters, got {fixed!r}")
            continue
        known = make_model(name).get_params()  # KeyError with a did-you-mean for a bad name
        for key in fixed:
            if key not in known or key == "random_state":
                import difflib

                close = difflib.get_close_matches(key, known, n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                settable = ", ".join(k for k in sorted(known) if k != "random_state")
                problems.append(f"{name}: unknown parameter {key!r}{hint}; it has: {settable}")
    if problems:
        raise ValueError("; ".join(problems))


def _uses_torch(name: str) -> bool:
    from reference._torch_nets import _TorchClassifier

    return isinstance(make_model(name), _TorchClassifier)


@contextmanager
def fixed_threads(threads: int | None, *, torch: bool = False) -> Iterator[None]:
    """Run with ``threads`` BLAS threads (and PyTorch intra-op threads when ``torch``);
    the process's settings come back afterwards. ``None`` changes nothing."""
    if threads is None:
        yield
        return
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=threads):
        if not torch:
            yield
            return
        import torch as _torch

        saved = _torch.get_num_threads()
        _torch.set_num_threads(threads)
        try:
            yield
        finally:
            _torch.set_num_threads(saved)


def model_fingerprint(
    name: str,
    *,
    task: str,
    modality: str,
    seed: int,
    params: dict[str, Any] | None = None,
    threads: int | None = DEFAULT_THREADS,
    device: str | None = None,
    positive: str | None = None,
    metric: str | None = None,
) -> dict[str, Any]:
    """Everything a model's result depends on besides the data and the safety deadline.

    Two runs with equal fingerprints on equal data give equal predictions (on the same
    kind of device): the search space, training-row cap and fixed parameters, the seed, the
    thread count, the device, this package's code and the numeric libraries' versions. A
    cache keyed by it and a hash of the data retrains only what changed.

    Examples
    --------
    >>> fp = model_fingerprint("knn", task="classification", modality="tabular", seed=0)
    >>> fp["model"], fp["candidates"][0]
    ('knn', {'n_neighbors': 5, 'metric': 'l2'})
    """
    torch = _uses_torch(name)
    libraries = ["numpy", "scipy", "scikit-learn"] + (["torch"] if torch else [])
    versions = {lib: _version(lib) for lib in libraries}
    return {
        "model": name,
        "task": task,
        "modality": modality,
        "seed": int(seed),
        "candidates": _jsonable({"c": _candidates(name, params)})["c"],
        "max_train_rows": MAX_TRAIN_ROWS.get(name),
        "scaled": name in _SCALED,
        "threads": threads,
        # the kind of device: a GPU's float sums differ from the CPU's (any GPU of the pool)
        "device": _device_kind(device) if torch else None,
        "code": _code_digest(),
        "libraries": versions,
        **({"positive": str(positive)} if positive is not None else {}),  # roc_auc scores
        # the search's criterion, where it is not the default (an mae course)
        **({"metric": metric} if task == "regression" and metric == "mae" else {}),
    }


@cache
def _version(distribution: str) -> str | None:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(distribution)
    except PackageNotFoundError:
        return None


def _device_kind(device: str | None) -> str:
    """``"cpu"`` or ``"cuda"``, without importing torch: ``"auto"`` and None mean a GPU where
    the NVIDIA driver's control node exists (exactly where CUDA can run)."""
    name = str(device or "auto").lower()
    if name == "auto":
        return "cuda" if Path("/dev/nvidiactl").exists() else "cpu"
    return "cuda" if name.startswith(("cuda", "gpu-", "mig-")) else name


@cache
def _code_digest() -> str:
    """A hash of this package's sources: a changed model or feature extractor retrains."""
    h = hashlib.blake2b(digest_size=16)
    root = Path(__file__).resolve().parent
    for path in sorted(root.rglob("*.py")):
        h.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes())
    return h.hexdigest()
