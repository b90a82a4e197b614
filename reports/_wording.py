"""Words that follow the course's task: what a regression course calls what a classification
course calls "the majority class" (the grader stores one sentence for both).

The task comes from the metric (``reports._load.Batch.task``); classification keeps the words
as stored, so only the entries listed here change, and only for the task named.
"""

from __future__ import annotations

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
