"""The course's models as scikit-learn estimators, its kernels and per-modality features.

Public names: ``MODELS`` (name → estimator factory), ``MODEL_TASKS``, ``make_model``,
``run_references`` and ``ReferenceResult`` (loaded on first use), the loss and gradient-check
helpers of the linear classifiers, the CNN builder, and the modules ``reference.kernels``,
``reference.distances`` and ``reference.features``. Everything else is private.
"""

from reference._linear import (
    gradient_check,
    linear_loss_and_grad,
    multiclass_hinge_loss,
    numerical_gradient,
    softmax,
    softmax_cross_entropy,
)
from reference._torch_nets import build_cnn, build_mlp, cnn_summary, conv_output_size
from reference.models import MODEL_TASKS, MODELS, make_model

__all__ = [
    "MODELS",
    "MODEL_TASKS",
    "ReferenceResult",
    "build_cnn",
    "build_mlp",
    "cnn_summary",
    "conv_output_size",
    "gradient_check",
    "linear_loss_and_grad",
    "make_model",
    "multiclass_hinge_loss",
    "numerical_gradient",
    "run_references",
    "softmax",
    "softmax_cross_entropy",
]


def __getattr__(name: str):
    # The runner pulls in pandas and the feature extractors; load it on first use.
    if name in ("run_references", "ReferenceResult"):
        from reference import runner

        return getattr(runner, name)
    raise AttributeError(f"module 'reference' has no attribute {name!r}")
