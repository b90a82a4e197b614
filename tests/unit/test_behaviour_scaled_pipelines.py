"""Honest students who write the same pipeline from the slides: the course's L2 normalisation of
each example (``X / np.linalg.norm(X, axis=1, keepdims=True)``) before ``SVC()``, or k-NN with
the slides' k = 21, agree with each other on every test id, as a copy does.
Those pipelines are standard models (``reference.standard``), so the agreement is explained and
not flagged; a copy of a student whose pipeline no standard model gives still is."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.naive_bayes import GaussianNB
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler, StandardScaler
from sklearn.svm import SVC
from sklearn.tree import DecisionTreeClassifier

from reference.standard import standard_predictions
from similarity.behaviour import BehaviourModel
from similarity.behaviour_identity import IdentityEvidence

FLAG = 0.45


def _table(rng, n_train=600, n_test=500, classes=True):
    """Features in their own scales (scaling changes what an SVM sees)."""
    X = rng.normal(size=(n_train + n_test, 6)) * np.array([1, 5, 20, 0.5, 100, 3]) + 10
    signal = X[:, 0] / 1 - X[:, 2] / 20 + np.sin(X[:, 1] / 5) + rng.normal(scale=0.7,
                                                                           size=len(X))
    y = np.digitize(signal, np.quantile(signal, [0.33, 0.66])).astype(str) if classes \
        else signal * 10
    frame = pd.DataFrame({"id": [f"i{k}" for k in range(len(X))], "label": y,
                          **{f"f{j}": X[:, j] for j in range(X.shape[1])}})
    train = frame.iloc[:n_train].reset_index(drop=True)
    test = frame.iloc[n_train:].reset_index(drop=True)
    return train, test.drop(columns="label"), test["label"].to_numpy(), X


def _flagged(model, evidence) -> set[frozenset[str]]:
    r, c = np.triu_indices(len(model.names), 1)
    beh = evidence.pairs(r, c)["behaviour"]
    return {frozenset((model.names[a], model.names[b]))
            for a, b, v in zip(r, c, beh, strict=True) if v >= FLAG}


def test_two_students_normalising_as_the_slides_do_are_explained(tmp_path):
    rng = np.random.default_rng(0)
    train, test, truth, _ = _table(rng)
    features = [f"f{j}" for j in range(6)]
    Xtr, Xte = train[features].to_numpy(), test[features].to_numpy()

    def l2(X):  # the slides' normalisation, by hand
        return X / np.linalg.norm(X, axis=1, keepdims=True)

    y = train["label"]
    normalised = SVC().fit(l2(Xtr), y).predict(l2(Xte))
    own = DecisionTreeClassifier(max_depth=5, random_state=3).fit(Xtr, y).predict(Xte)
    preds = {"ana": normalised, "bob": normalised.copy(), "eve": own, "copy_of_eve": own.copy()}
    classmates = [KNeighborsClassifier(3), KNeighborsClassifier(15), GaussianNB(),
                  DecisionTreeClassifier(max_depth=3, random_state=1),
                  LogisticRegression(C=0.05, max_iter=2000),
                  RandomForestClassifier(30, max_depth=4, random_state=5),
                  make_pipeline(StandardScaler(), SVC(C=0.3)), LinearDiscriminantAnalysis()]
    for k, m in enumerate(classmates):  # honest classmates, each a model of their own
        preds[f"s{k}"] = m.fit(Xtr, y).predict(Xte)
    refs = standard_predictions(train, test, tmp_path, task="classification",
                                modality="tabular",
                                names=["sklearn:Normalizer+SVC()", "sklearn:SVC()"])
    assert list(refs["sklearn:Normalizer+SVC()"]) == list(normalised)
    assert list(refs["sklearn:SVC()"]) != list(normalised)  # raw features: another model
    preds = {k: list(v) for k, v in preds.items()}
    without = BehaviourModel.fit(preds, list(truth))
    assert frozenset(("ana", "bob")) in _flagged(without, IdentityEvidence(without))  # the problem
    model = BehaviourModel.fit(preds, list(truth), references={k: list(v) for k, v in
                                                               refs.items()},
                               explainers=sorted(refs), near_exact=0.998)
    evidence = IdentityEvidence(model)
    i, j = model.names.index("ana"), model.names.index("bob")
    o = evidence.pairs(np.array([i]), np.array([j]))
    assert model.explainer_names[int(o["explained"][0])] == "sklearn:Normalizer+SVC()"
    assert _flagged(model, evidence) == {frozenset(("eve", "copy_of_eve"))}


def test_the_plain_model_names_an_agreement_several_explain():
    from reference.standard import explainer_order

    names = ["sklearn:MinMaxScaler+SVC()", "sklearn:SVC() on train_test_split(test_size=0.2, "
             "random_state=42)", "sklearn:SVC()", "sklearn:Normalizer+SVC()"]
    assert sorted(names, key=explainer_order) == [
        "sklearn:SVC()", "sklearn:MinMaxScaler+SVC()", "sklearn:Normalizer+SVC()",
        "sklearn:SVC() on train_test_split(test_size=0.2, random_state=42)"]


def test_k_21_and_min_max_k_nn_are_explained(tmp_path):
    from reference.standard import STANDARD_SETTINGS

    rng = np.random.default_rng(2)
    train, test, truth, _ = _table(rng)
    features = [f"f{j}" for j in range(6)]
    Xtr, Xte, y = train[features], test[features], train["label"]
    k21 = KNeighborsClassifier(n_neighbors=21).fit(Xtr, y).predict(Xte)  # the slides' k = 21
    minmax = make_pipeline(MinMaxScaler(), KNeighborsClassifier()).fit(Xtr, y).predict(Xte)
    preds = {"ana": k21, "bob": k21.copy(), "carl": minmax, "dora": minmax.copy()}
    for k, m in enumerate([GaussianNB(), DecisionTreeClassifier(max_depth=3, random_state=1),
                           LogisticRegression(C=0.05, max_iter=2000),
                           RandomForestClassifier(30, max_depth=4, random_state=5),
                           LinearDiscriminantAnalysis()]):
        preds[f"s{k}"] = m.fit(Xtr, y).predict(Xte)
    names = ["sklearn:KNeighborsClassifier(n_neighbors=21)",
             "sklearn:MinMaxScaler+KNeighborsClassifier()", "sklearn:KNeighborsClassifier()"]
    refs = standard_predictions(train, test, tmp_path, modality="tabular", names=names)
    # k is a setting students choose; a scaler before the default is a default
    assert names[0] in STANDARD_SETTINGS and not {names[1], names[2]} & STANDARD_SETTINGS
    preds = {k: list(v) for k, v in preds.items()}
    model = BehaviourModel.fit(preds, list(truth), references={k: list(v) for k, v in
                                                               refs.items()},
                               explainers=sorted(refs), near_exact=0.998)
    evidence = IdentityEvidence(model)
    for (a, b), name in ((("ana", "bob"), names[0]), (("carl", "dora"), names[1])):
        o = evidence.pairs(np.array([model.names.index(a)]), np.array([model.names.index(b)]))
        assert model.explainer_names[int(o["explained"][0])] == name
        assert o["behaviour"][0] == 0.0
    flagged = _flagged(model, evidence)
    assert frozenset(("ana", "bob")) not in flagged and frozenset(("carl", "dora")) not in flagged


def test_standardised_ridge_classifiers_are_explained(tmp_path):
    """Two students standardise by hand and fit ``RidgeClassifier`` with alpha 1 and 0.1: on
    these features both give ``StandardScaler+RidgeClassifier()``'s predictions (a measured
    false flag of a generated digits class), so their agreement is explained."""
    from sklearn.linear_model import RidgeClassifier

    rng = np.random.default_rng(4)
    train, test, truth, _ = _table(rng)
    features = [f"f{j}" for j in range(6)]
    # features in thousandths: on the raw columns the penalty then shrinks the fit
    train[features] *= 1e-3
    test[features] *= 1e-3
    Xtr, Xte, y = train[features].to_numpy(), test[features].to_numpy(), train["label"]
    mean, std = Xtr.mean(axis=0), Xtr.std(axis=0)
    ridge = {alpha: RidgeClassifier(alpha=alpha).fit((Xtr - mean) / std, y)
             .predict((Xte - mean) / std) for alpha in (1.0, 0.1)}
    own = DecisionTreeClassifier(max_depth=5, random_state=3).fit(Xtr, y).predict(Xte)
    preds = {"ana": ridge[1.0], "bob": ridge[0.1], "eve": own, "copy_of_eve": own.copy()}
    for k, m in enumerate([KNeighborsClassifier(15), GaussianNB(),
                           LogisticRegression(C=0.05, max_iter=2000),
                           RandomForestClassifier(30, max_depth=4, random_state=5)]):
        preds[f"s{k}"] = m.fit(Xtr, y).predict(Xte)
    name = "sklearn:StandardScaler+RidgeClassifier()"
    refs = standard_predictions(train, test, tmp_path, modality="tabular",
                                names=[name, "sklearn:RidgeClassifier()"])
    assert list(ridge[1.0]) == list(ridge[0.1]) == list(refs[name])
    assert list(refs["sklearn:RidgeClassifier()"]) != list(refs[name])  # another model
    preds = {k: list(v) for k, v in preds.items()}
    model = BehaviourModel.fit(preds, list(truth), references={k: list(v) for k, v in
                                                               refs.items()},
                               explainers=sorted(refs), near_exact=0.998)
    evidence = IdentityEvidence(model)
    o = evidence.pairs(np.array([model.names.index("ana")]), np.array([model.names.index("bob")]))
    assert model.explainer_names[int(o["explained"][0])] == name
    assert _flagged(model, evidence) == {frozenset(("eve", "copy_of_eve"))}


def test_scikit_learns_name_before_the_labs_hand_written_form():
    # where scikit-learn's k-NN and the numpy one give the pair's predictions, pages named
    # "the lab's np.argsort 5-NN" for two students who wrote KNeighborsClassifier()
    from reference.standard import explainer_order

    names = ["lab:np.argsort 5-NN", "sklearn:StandardScaler+KNeighborsClassifier()",
             "sklearn:KNeighborsClassifier()", "lab:bins(5)+MultinomialNB()"]
    assert sorted(names, key=explainer_order) == [
        "sklearn:KNeighborsClassifier()", "sklearn:StandardScaler+KNeighborsClassifier()",
        "lab:np.argsort 5-NN", "lab:bins(5)+MultinomialNB()"]
