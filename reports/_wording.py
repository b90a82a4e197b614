"""Words that follow the course's task: what a regression course calls what a classification
course calls "the majority class" (the grader stores one sentence for both).

The task comes from the metric (``reports._load.Batch.task``); classification keeps the words
as stored, so only the entries listed here change, and only for the task named.
"""

from __future__ import annotations

from reports._load import REGRESSION_METRICS

#: the baseline as the store names it (``grader.grading.resolve_baseline``'s source sentence,
#: or the ``[grading] baseline`` rule) → the words for a task (or metric) where they would be
#: wrong: for regression the "majority" baseline predicts the training targets' mean (``Scorer``); on
#: roc_auc (students write probabilities) it is one value for every id: the AUC of guessing
_MEAN = {"regression": "mean of the training targets"}
_CONSTANT = "constant prediction (random guessing)"
BASELINE_WORDS: dict[str, dict[str, str]] = {
    "majority class of the training labels": {**_MEAN, "roc_auc": _CONSTANT},
    "majority": {**_MEAN, "roc_auc": _CONSTANT},
    "most_frequent": {**_MEAN, "roc_auc": _CONSTANT},
    # the reference model a regression course's built-in baseline is (grader.grading)
    "mean": _MEAN,
}


def baseline_words(name: str, task: str, metric: str = "") -> str:
    """``name`` (a stored baseline source or rule) in the words of ``metric``, else of ``task``.

    Examples
    --------
    >>> baseline_words("majority class of the training labels", "regression")
    'mean of the training targets'
    >>> baseline_words("majority", "classification")
    'majority'
    >>> baseline_words("majority", "classification", "roc_auc")
    'constant prediction (random guessing)'
    """
    words = BASELINE_WORDS.get(name, {})
    return words.get(metric) or words.get(task, name)


def validation_measure(metric: str) -> tuple[str, float]:
    """What a reference model's ``validation_score`` measures on a course of ``metric``, and
    the sign that shows it as that measure.

    The model search maximises its score (``reference.runner``): accuracy, roc_auc's AUC, or
    on a regression course the negative MSE (MAE on an mae course); shown beside positive
    public and private errors, a negative one reads as nonsense.

    Examples
    --------
    >>> validation_measure("mse"), validation_measure("kendall_tau")
    (('mse', -1.0), ('mse', -1.0))
    >>> validation_measure("mae"), validation_measure("roc_auc"), validation_measure("macro_f1")
    (('mae', -1.0), ('AUC', 1.0), ('accuracy', 1.0))
    """
    if metric == "roc_auc":
        return "AUC", 1.0
    if metric in REGRESSION_METRICS:
        return ("mae" if metric == "mae" else "mse"), -1.0
    return "accuracy", 1.0
