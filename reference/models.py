"""``MODELS``: every course model by name, each a factory of a scikit-learn estimator.

Where scikit-learn already is the course's model (the slides use ``GaussianNB``,
``LinearDiscriminantAnalysis``, ``Perceptron``, ``DummyClassifier``-style baselines), the factory
returns it; the rest are written here. ``MODEL_TASKS`` says which task each model serves.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from sklearn.base import BaseEstimator
from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
from sklearn.dummy import DummyClassifier, DummyRegressor
from sklearn.linear_model import Perceptron
from sklearn.naive_bayes import BernoulliNB, GaussianNB

from reference._kernel_methods import KernelRidgeClassifier, KernelRidgeRegressor, KernelSVC
from reference._linear import LinearGDClassifier
from reference._naive_bayes import BinnedMultinomialNB
from reference._neighbors import KNNClassifier, KNNRegressor
from reference._torch_nets import TorchCNNClassifier, TorchMLPClassifier

__all__ = ["MODELS", "MODEL_TASKS", "make_model"]

#: name → factory; call it with keyword parameters to override the defaults.
MODELS: dict[str, Callable[..., BaseEstimator]] = {
    # baselines
    "majority": partial(DummyClassifier, strategy="most_frequent"),
    "stratified": partial(DummyClassifier, strategy="stratified"),
    "mean": partial(DummyRegressor, strategy="mean"),
    # naive Bayes
    "gaussian_nb": GaussianNB,
    "multinomial_nb": BinnedMultinomialNB,
    "bernoulli_nb": BernoulliNB,
    # nearest neighbours
    "knn": KNNClassifier,
    "knn_levenshtein": partial(KNNClassifier, metric="levenshtein", n_neighbors=1),
    "knn_regressor": KNNRegressor,
    # kernel methods and linear models
    "kernel_ridge": KernelRidgeRegressor,
    "kernel_ridge_ova": KernelRidgeClassifier,
    "svm_ovo": partial(KernelSVC, multiclass="ovo"),
    "svm_ova": partial(KernelSVC, multiclass="ova"),
    "string_kernel_svm": partial(KernelSVC, kernel="string", kernel_params={"p": (3, 4, 5)}),
    "string_kernel_ridge": partial(
        KernelRidgeClassifier, kernel="string", kernel_params={"p": (3, 4, 5)}
    ),
    "lda": LinearDiscriminantAnalysis,
    "perceptron": Perceptron,
    "linear_hinge": partial(LinearGDClassifier, loss="hinge"),
    "linear_softmax": partial(LinearGDClassifier, loss="softmax"),
    # neural networks
    "mlp": TorchMLPClassifier,
    "cnn": partial(TorchCNNClassifier, architecture="simple"),
    "cnn_alexnet": partial(TorchCNNClassifier, architecture="alexnet"),
    "cnn_vgg": partial(TorchCNNClassifier, architecture="vgg"),
    "cnn_resnet": partial(TorchCNNClassifier, architecture="resnet"),
}

#: name → "classification" or "regression"
MODEL_TASKS: dict[str, str] = {
    name: "regression" if name in ("mean", "knn_regressor", "kernel_ridge") else "classification"
    for name in MODELS
}


def make_model(name: str, **params) -> BaseEstimator:
    """``MODELS[name](**params)`` with a clear error for an unknown name."""
    if name not in MODELS:
        import difflib

        close = difflib.get_close_matches(name, MODELS, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise KeyError(f"unknown reference model {name!r}{hint}; known: {', '.join(MODELS)}")
    return MODELS[name](**params)
