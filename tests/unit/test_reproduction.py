"""Reproduction check: a faithful stochastic rerun passes, a different upload is flagged."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import make_classification
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression

from grader.errors import InputFileError
from grader.ops.reproduction import check_reproduction, load_kaggle_predictions


@pytest.fixture(scope="module")
def competition():
    """A small competition: train/test split and hidden test labels (kept by the 'scorer')."""
    X, y = make_classification(n_samples=3000, n_features=20, n_informative=8,
                               n_classes=3, random_state=7)
    ids = pd.Index(np.arange(1000, 1000 + 1500), name="id")
    truth = pd.Series(y[1500:], index=ids)

    def accuracy(pred: pd.Series) -> float:
        return float((pred.reindex(truth.index) == truth).mean())

    def predict(model) -> pd.Series:
        return pd.Series(model.fit(X[:1500], y[:1500]).predict(X[1500:]), index=ids)

    return truth, accuracy, predict


def test_stochastic_but_faithful_rerun_is_not_flagged(competition):
    truth, accuracy, predict = competition
    # The student's random forest as run on Kaggle (seed 1) and in our sandbox (seed 2).
    uploaded = predict(RandomForestClassifier(n_estimators=100, random_state=1))
    rerun = predict(RandomForestClassifier(n_estimators=100, random_state=2))
    res = check_reproduction(rerun, uploaded, accuracy)
    assert not res.flagged, res.message
    assert 0.85 < res.agreement < 1.0  # really stochastic, yet the same method
    assert abs(res.difference) <= 0.02
    assert res.message.startswith("reproduced: ")
    assert res.n == 1500 and res.missing_in_run == res.missing_in_kaggle == 0


def test_upload_from_other_code_is_flagged(competition):
    truth, accuracy, predict = competition
    # The e-mailed code is a linear model; the upload came from a random forest.
    rerun = predict(LogisticRegression(max_iter=1000))
    uploaded = predict(RandomForestClassifier(n_estimators=100, random_state=1))
    res = check_reproduction(rerun, uploaded, accuracy)
    assert res.flagged
    assert res.run_score < res.kaggle_score - 0.02
    assert res.message.startswith("NOT reproduced: score differs by -0.")


def test_same_score_different_predictions_flagged_by_agreement(competition):
    truth, accuracy, predict = competition
    rerun = predict(RandomForestClassifier(n_estimators=100, random_state=1))
    right = rerun.index[rerun == truth]
    wrong = rerun.index[rerun != truth]
    k = min(len(wrong), 300)
    uploaded = rerun.copy()
    # swap 300 right answers for 300 wrong ones: same accuracy, other predictions
    uploaded[right[:k]] = (truth[right[:k]] + 1) % 3
    uploaded[wrong[:k]] = truth[wrong[:k]]
    res = check_reproduction(rerun, uploaded, accuracy)
    assert res.difference == pytest.approx(0.0)
    assert res.flagged and "identical predictions (minimum 80%)" in res.message
    assert not check_reproduction(rerun, uploaded, accuracy, min_agreement=None).flagged


def test_tolerance_boundary_and_missing_ids():
    truth = pd.Series([1] * 100, index=range(100))

    def acc(p):
        return float((p.reindex(truth.index) == truth).mean())

    run = truth.copy()
    two_off = truth.copy()
    two_off[:2] = 0
    three_off = truth.copy()
    three_off[:3] = 0
    assert not check_reproduction(run, two_off, acc, tolerance=0.02).flagged  # at the limit
    assert check_reproduction(run, three_off, acc, tolerance=0.02).flagged
    short = run.iloc[:90]
    res = check_reproduction(short, run, acc, tolerance=0.5, min_agreement=0.95)
    assert (res.n, res.missing_in_run, res.agreement) == (100, 10, 0.9)
    assert res.flagged and "10 ids on one side only" in res.message
    with pytest.raises(ValueError):
        check_reproduction(run, run, acc, tolerance=-1)


def test_labels_compare_across_types():
    a = pd.Series([0, 1, 2], index=["a", "b", "c"])
    b = pd.Series(["0", "1", "2"], index=["a", "b", "c"])
    res = check_reproduction(a, b, lambda p: 1.0)
    assert res.agreement == 1.0 and not res.flagged
    cats = pd.Series([" cat", "dog", "dog"], index=["a", "b", "c"])
    assert check_reproduction(cats, pd.Series(["cat", "dog", "cow"], index=["a", "b", "c"]),
                              lambda p: 1.0).agreement == pytest.approx(2 / 3)


def test_load_kaggle_predictions_valid(tmp_path):
    p = tmp_path / "kaggle_submission.csv"
    p.write_text("Id,Predicted\n3,1\n1,0\n2,2\n", encoding="utf-8")
    s = load_kaggle_predictions(p, [1, 2, 3])
    assert list(s.index) == [1, 2, 3] and list(s) == [0, 2, 1] and s.dtype == np.int64
    p.write_text("id,label\nx1,cat\nx2,dog\n", encoding="utf-8")
    assert list(load_kaggle_predictions(p, ["x1", "x2"])) == ["cat", "dog"]


def test_kaggle_predictions_with_the_columns_swapped_are_read_by_name(tmp_path):
    # 'label,id' is scored by name in a run: the upload was "unusable" here, and flagged
    p = tmp_path / "k.csv"
    p.write_text("Predicted,Id\ncat,x2\ndog,x1\n")
    assert list(load_kaggle_predictions(p, ["x1", "x2"])) == ["dog", "cat"]


def test_load_kaggle_predictions_lists_every_problem(tmp_path):
    p = tmp_path / "kaggle_submission.csv"
    p.write_text("id,label\n1,0\n2\n1,1\n99,1\n3,\n", encoding="utf-8")
    with pytest.raises(InputFileError) as err:
        load_kaggle_predictions(p, [1, 2, 3, 4])
    problems = "\n".join(err.value.problems)
    assert "kaggle_submission.csv:3  1 fields; expected 2" in problems
    assert "kaggle_submission.csv:4  id '1' again (first on line 2)" in problems
    assert "kaggle_submission.csv:6  id '3' has an empty prediction" in problems
    assert "kaggle_submission.csv:5  id '99' is not a test id" in problems
    assert "2 of 4 test ids have no prediction, e.g. 2, 4" in problems
    p.write_text("1,0\n2,1\n", encoding="utf-8")
    with pytest.raises(InputFileError) as err:
        load_kaggle_predictions(p, [1, 2])
    assert "looks like data, not a header" in err.value.problems[0]
    with pytest.raises(InputFileError, match="do not exist"):
        load_kaggle_predictions(tmp_path / "none.csv", [1])
    p.write_bytes(b"id,label\n1,\xff\n")
    with pytest.raises(InputFileError, match="not UTF-8"):
        load_kaggle_predictions(p, [1])
