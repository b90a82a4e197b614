"""Every estimator in reference.MODELS through scikit-learn's own API checks.

The torch models run with few epochs on the CPU. ``cnn_alexnet``, ``cnn_vgg`` and
``cnn_resnet`` are the same ``TorchCNNClassifier`` class as ``cnn`` (checked here in full) with
a bigger network, and take minutes each on two cores, so their run is marked slow.
Each expected failure names its check and why it cannot pass.
"""

from __future__ import annotations

import warnings

import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

from reference import MODELS
from reference._gradient import GDSoftmaxClassifier
from reference._naive_bayes import BinnedCategoricalNB
from reference._neighbors import ArgsortKNNClassifier

# Few epochs: the checks test the API on tiny data sets, not how well a network learns.
_FAST = {"max_epochs": 15, "random_state": 0, "device": "cpu"}
_PARAMS = {name: _FAST for name in MODELS if name == "mlp" or name.startswith("cnn")}

_KNN_TIES = (
    "the slides' tie-breaking (random, 1-NN, distance weights) can pick a tied label other "
    "than argmax(predict_proba) when two labels get equally many votes"
)
EXPECTED_FAILED: dict[str, dict[str, str]] = {
    "multinomial_nb": {
        "check_classifiers_train": "multinomial NB on 5 bin indices of standardised 2-D blobs "
        "scores 0.82, just under the check's 0.83 bar: a weak course model, not an API bug",
    },
    "knn": {"check_classifiers_train": _KNN_TIES},
    # sklearn's own estimators: the same expected failures sklearn lists for them.
    "stratified": {
        "check_methods_sample_order_invariance": "random predictions by design (sklearn xfail)",
        "check_methods_subset_invariance": "random predictions by design (sklearn xfail)",
    },
    "perceptron": {
        "check_sample_weight_equivalence_on_dense_data": "SGD-based, sample_weight is not "
        "equivalent to repetition (sklearn xfail)",
        "check_sample_weight_equivalence_on_sparse_data": "SGD-based (sklearn xfail)",
    },
}


_BIG_CNNS = ("cnn_alexnet", "cnn_vgg", "cnn_resnet")
# All three pass every check (cnn_vgg and cnn_resnet: 102 passed, 2 skipped in 5 min on 2
# cores). cnn_alexnet stayed under check_classifiers_train's 0.83 accuracy bar from PyTorch's
# default initialisation; from the slides' Xavier initialisation it passes.

_NAMES: dict[int, str] = {}


def _instances(names):
    out = []
    for name in names:
        est = MODELS[name](**_PARAMS.get(name, {}))
        _NAMES[id(est)] = name
        out.append(est)
    return out


_INST = _instances([n for n in MODELS if n not in _BIG_CNNS])
_BIG = _instances(_BIG_CNNS)


def _expected(estimator):
    return EXPECTED_FAILED.get(_NAMES.get(id(estimator), ""), {})


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@parametrize_with_checks(_INST, expected_failed_checks=_expected)
def test_sklearn_compatible(estimator, check):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        check(estimator)


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@parametrize_with_checks(_BIG, expected_failed_checks=_expected)
def test_sklearn_compatible_big_cnns(estimator, check):
    check(estimator)


def test_every_model_is_checked():
    assert len(_INST) + len(_BIG) == len(MODELS)
    assert set(EXPECTED_FAILED) <= set(MODELS)


@parametrize_with_checks([BinnedCategoricalNB(n_bins=5), ArgsortKNNClassifier(p=1),
                          ArgsortKNNClassifier(n_neighbors=3),
                          GDSoftmaxClassifier(learning_rate=0.5, steps=300, scaling="standard")])
def test_the_labs_hand_written_models_are_sklearn_compatible(estimator, check):
    # not course models of their own: standard models of the behavioural evidence (the lab's
    # bins counted per category, and k-NN with np.argsort's order, as students write them)
    check(estimator)
