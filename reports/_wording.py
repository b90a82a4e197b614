"""Words that follow the course's task: what a regression course calls what a classification
course calls "the majority class" (the grader stores one sentence for both).

The task comes from the metric (``reports._load.Batch.task``); classification keeps the words
as stored, so only the entries listed here change, and only for the task named.
"""

from __future__ import annotations

#: the baseline as the store names it (``grader.grading.resolve_baseline``'s source sentence,
#: or the ``[grading] baseline`` rule) → the words for a task where they would be wrong; for
#: regression the "majority" baseline predicts the training targets' mean (``Scorer``)
BASELINE_WORDS: dict[str, dict[str, str]] = {
    "majority class of the training labels": {"regression": "mean of the training targets"},
    "majority": {"regression": "mean of the training targets"},
    "most_frequent": {"regression": "mean of the training targets"},
}


def baseline_words(name: str, task: str) -> str:
    """``name`` (a stored baseline source or rule) in the words of ``task``.

    Examples
    --------
    >>> baseline_words("majority class of the training labels", "regression")
    'mean of the training targets'
    >>> baseline_words("majority", "classification")
    'majority'
    """
    return BASELINE_WORDS.get(name, {}).get(task, name)
