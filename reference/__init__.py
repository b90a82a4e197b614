"""The course's models as scikit-learn estimators, its kernels and per-modality features.

Public names: ``MODELS`` (name → estimator factory), ``MODEL_TASKS``, ``make_model``,
``run_references`` and ``ReferenceResult`` (``reference.runner``), and the modules
``reference.kernels`` and ``reference.distances``. Everything else is private.
"""

from reference.models import MODEL_TASKS, MODELS, make_model

__all__ = ["MODELS", "MODEL_TASKS", "ReferenceResult", "make_model", "run_references"]


def __getattr__(name: str):
    # The runner pulls in pandas and the feature extractors; load it on first use.
    if name in ("run_references", "ReferenceResult"):
        from reference import runner

        return getattr(runner, name)
    raise AttributeError(f"module 'reference' has no attribute {name!r}")
