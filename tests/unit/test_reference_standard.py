"""The scikit-learn defaults students fit (reference.standard): every one gives predictions in
test order, or says why it could not be fitted."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.neighbors import KNeighborsClassifier

from reference.standard import (
    STANDARD_CLASSIFIERS,
    STANDARD_REGRESSORS,
    standard_models,
    standard_predictions,
)


def _frames(rng, n_train=120, n_test=40, negative=False):
    X = rng.normal(0, 1, (n_train + n_test, 4))
    if not negative:
        X = np.abs(X)
    y = np.where(X[:, 0] + X[:, 1] > (0 if negative else 1.6), "yes", "no")
    cols = {f"f{j}": X[:, j] for j in range(4)}
    frame = pd.DataFrame({"id": [f"i{k}" for k in range(len(X))], "label": y, **cols})
    return frame.iloc[:n_train].reset_index(drop=True), \
        frame.iloc[n_train:].drop(columns="label").reset_index(drop=True)


def test_names_match_the_factories():
    assert tuple(standard_models("classification")) == STANDARD_CLASSIFIERS
    assert tuple(standard_models("regression")) == STANDARD_REGRESSORS


def test_predictions_in_test_order_and_equal_to_the_student_call(tmp_path):
    train, test = _frames(np.random.default_rng(0))
    got = standard_predictions(train, test, tmp_path, task="classification", modality="tabular")
    assert set(got) == set(STANDARD_CLASSIFIERS)
    for name, pred in got.items():
        assert not isinstance(pred, str), (name, pred)
        assert len(pred) == len(test) and set(pred) <= {"yes", "no"}
    student = KNeighborsClassifier().fit(train[["f0", "f1", "f2", "f3"]], train["label"])
    assert list(got["sklearn:KNeighborsClassifier()"]) == \
        list(student.predict(test[["f0", "f1", "f2", "f3"]]))


def test_a_model_that_cannot_fit_says_why(tmp_path):
    train, test = _frames(np.random.default_rng(1), negative=True)
    got = standard_predictions(train, test, tmp_path, task="classification",
                               modality="tabular", names=["sklearn:MultinomialNB()",
                                                          "sklearn:GaussianNB()"])
    assert isinstance(got["sklearn:MultinomialNB()"], str)
    assert "negative" in got["sklearn:MultinomialNB()"].lower()
    assert len(got["sklearn:GaussianNB()"]) == len(test)
