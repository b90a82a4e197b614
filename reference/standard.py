"""The scikit-learn defaults students most often fit on the raw features.

Two honest students who both call ``SVC()`` on the pixels agree on nearly every test id, wrong
answers included: that agreement is explained by the model, not by copying. The similarity
engine's behavioural evidence runs these models on the course's data and discounts a pair whose
predictions both match one of them near-exactly (``similarity.behaviour``).

Models are fitted with scikit-learn's defaults on the course's features (``reference.features``:
raw columns, flattened pixels or text), with ``LogisticRegression`` run to convergence and the
tree models seeded, as students write them.

Students who check their model on a validation split first and then predict the test set with
the model fitted on the rest (``train_test_split(X, y, test_size=0.2, random_state=42)``, the
tutorials' line) agree exactly with every classmate who wrote the same split and the same
default: no model fitted on all the training rows gives their predictions. The commonest
defaults are also fitted on the training part of the commonest splits (``SPLITS``), under names
such as ``sklearn:SVC() on train_test_split(test_size=0.2, random_state=42)``.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = ["EXPLAIN_ONLY", "SPLITS", "SPLIT_MODELS", "STANDARD_CLASSIFIERS",
           "STANDARD_PROBABILITIES", "STANDARD_REGRESSORS", "STANDARD_SETTINGS", "TASKS",
           "TEXT_MODELS", "Split", "explainer_order", "standard_models", "standard_predictions"]

#: the models after a text vectoriser, per task (their factories are in ``_text_models``)
_TEXT_MODEL_NAMES: dict[str, tuple[str, ...]] = {
    "classification": ("MultinomialNB()", "LogisticRegression(max_iter=1000)", "LinearSVC()",
                       "KNeighborsClassifier()"),
    "probability": ("MultinomialNB()", "LogisticRegression(max_iter=1000)"),  # probabilities
    "regression": ("Ridge()",)}
_VECTORISERS = ("TfidfVectorizer", "CountVectorizer")
#: the text pipelines' names per task (``TfidfVectorizer`` or ``CountVectorizer``, then a default)
TEXT_MODELS: dict[str, tuple[str, ...]] = {
    task: tuple(f"sklearn:{v}+{m}" for v in _VECTORISERS for m in ms)
    for task, ms in _TEXT_MODEL_NAMES.items()}
#: ``probability``: a binary task scored by roc_auc, where students submit the probability of
#: the positive class (the last label in sorted order, as ``grader.scoring`` takes it)
TASKS = ("classification", "regression", "probability")


#: k-NN as students set it: (k, weights, p); the slides show k = 1, 3, 7 and 21, and the
#: Manhattan distance (p = 1) beside the Euclidean one: two honest students who wrote the
#: slides' Manhattan 7-NN by hand were flagged at 0.98 in a class that follows the slides
_KNN_SETTINGS = ((3, "uniform", 2), (7, "uniform", 2), (21, "uniform", 2), (3, "distance", 2),
                 (5, "distance", 2), (7, "distance", 2), (1, "uniform", 1), (3, "uniform", 1),
                 (5, "uniform", 1), (7, "uniform", 1), (21, "uniform", 1))
#: k-NN regression's settings (the classifiers' uniform ones, both distances)
_KNN_REGRESSION_SETTINGS = ((3, "uniform", 2), (7, "uniform", 2), (21, "uniform", 2),
                            (5, "uniform", 1), (7, "uniform", 1))


def _knn_args(k: int, weights: str, p: int) -> str:
    """The arguments as written: ``n_neighbors=3, weights='distance', p=1``."""
    return (f"n_neighbors={k}" + (f", weights='{weights}'" if weights != "uniform" else "")
            + (f", p={p}" if p != 2 else ""))


#: (k, weights, p, the arguments as written) of each k-NN setting
_KNN_VARIANTS = tuple((k, w, p, _knn_args(k, w, p)) for k, w, p in _KNN_SETTINGS)
_KNN_REGRESSION_VARIANTS = tuple((k, w, p, _knn_args(k, w, p))
                                 for k, w, p in _KNN_REGRESSION_SETTINGS)
#: the slides' code as given: their L2 normalisation of each example before k-NN with the
#: slides' k (two honest 21-NN programs on normalised rows were flagged at 0.98), and their
#: kernel ridge (``lmb = 10 ** -6``, the linear kernel ``K = X X'``, no bias; one-versus-all
#: on +-1 targets, as RidgeClassifier), raw and on normalised rows: its dual and primal forms
#: give one model, and an honest pair of the two was flagged at 0.98
_NORMALIZED_KNN = tuple(f"sklearn:Normalizer+KNeighborsClassifier(n_neighbors={k})"
                        for k in (1, 3, 7, 21))
_SLIDES_RIDGE = "alpha=1e-06, fit_intercept=False"
_SLIDES_KERNEL_RIDGE = {"classification": (f"sklearn:RidgeClassifier({_SLIDES_RIDGE})",
                                           f"sklearn:Normalizer+RidgeClassifier({_SLIDES_RIDGE})"),
                        "regression": (f"sklearn:Ridge({_SLIDES_RIDGE})",
                                       f"sklearn:Normalizer+Ridge({_SLIDES_RIDGE})")}
#: the perceptron as the slides describe it, written by hand: weights from zero, the examples
#: in their order, one-versus-all; the learning rate then changes nothing but the number of
#: epochs does (two honest 20-epoch programs on standardised features were flagged at 0.99)
_PERCEPTRON_EPOCHS = (10, 20, 50, 100)
_SLIDES_PERCEPTRON = tuple(f"sklearn:{pre}Perceptron(shuffle=False, max_iter={e}, tol=None)"
                           for pre in ("", "StandardScaler+") for e in _PERCEPTRON_EPOCHS)
#: the lab's naive Bayes: every value binned between equal-width edges over the training
#: values' range (``np.digitize(X, np.linspace(X.min(), X.max(), n)) - 1``, or each column's
#: own range as ``KBinsDiscretizer`` does), the bin indices fed to ``MultinomialNB`` (the lab)
#: or counted per category with Laplace smoothing (by hand). Two honest programs of each were
#: flagged at 0.96 in two hand-written classes that follow the slides
_LAB_BINS = (3, 5, 8, 10)
#: (name, bins, each column its own range, the naive Bayes fed with the bins)
_LAB_NB_SETTINGS = tuple((f"lab:{'column ' if per else ''}bins({n})+{nb}()", n, per, nb)
                         for per in (False, True) for n in _LAB_BINS
                         for nb in ("MultinomialNB", "CategoricalNB"))
_LAB_NB = tuple(name for name, *_ in _LAB_NB_SETTINGS)
#: k-NN written in numpy: np.argsort's order of tied distances, np.bincount's vote
#: (``reference._neighbors.ArgsortKNNClassifier``), with the slides' k and distances; the
#: Manhattan ones bounded like scikit-learn's, the Euclidean ones by rows
#: (name, k, p)
_ARGSORT_KNN_SETTINGS = tuple((f"lab:np.argsort {k}-NN" + (", Manhattan" if p == 1 else ""), k, p)
                              for p in (2, 1) for k in (1, 3, 5, 7, 21))
_ARGSORT_KNN = tuple(name for name, *_ in _ARGSORT_KNN_SETTINGS)
#: the slides' gradient descent written by hand (``reference._gradient``): weights from zero,
#: the whole training set each step, the learning rates and step counts students pick, after
#: the scalings they write. Three honest logistic regressions (lr 0.05, 200 steps, z-scores)
#: were flagged as copies in an unseen class; bounded by cells (``GD_MAX_CELLS``)
_GD_RATES = (0.01, 0.05, 0.1, 0.5, 1.0)
_GD_STEPS = (100, 200, 300, 500, 1000)
_GD_SCALINGS = {"none": "", "standard": "z-scores+", "minmax": "min-max+", "max": "x / max+"}
#: (name, learning rate, steps, scaling)
_GD_SETTINGS = tuple((f"lab:{pre}gradient descent(lr={lr:g}, {steps} steps)", lr, steps,
                      scaling)
                     for scaling, pre in _GD_SCALINGS.items() for lr in _GD_RATES
                     for steps in _GD_STEPS)
_GD = tuple(name for name, *_ in _GD_SETTINGS)
#: gradient descent is fitted up to this many training cells (rows x features): its 100
#: settings took 9 s on 1,200 x 64 digits (ten classes)
GD_MAX_CELLS = 150_000
_KNN_REGRESSORS = tuple(f"sklearn:{pre}KNeighborsRegressor({args})"
                        for pre in ("", "StandardScaler+")
                        for *_, args in _KNN_REGRESSION_VARIANTS)


_SVC_MAX_ITER = 2_000_000  # libsvm iterations per pair of classes (see _classifiers)
#: the course's linear kernel, and its L2 normalisation and min-max scaling before the defaults
#: (see _classifiers): fitted up to the split variants' row bounds (``_VARIANTS``)
_LINEAR_KERNEL = ("sklearn:SVC(kernel='linear')", "sklearn:StandardScaler+SVC(kernel='linear')")
_SCALED = (*(f"sklearn:Normalizer+{m}" for m in (
    "KNeighborsClassifier()", "SVC()", "LogisticRegression(max_iter=1000)")),
    "sklearn:MinMaxScaler+KNeighborsClassifier()", "sklearn:MinMaxScaler+SVC()")


#: the seeds students give the models whose fit is random (the default's 0, the tutorials' 42)
_SEEDS = (0, 42)
_BOOSTING_CLASSIFIERS = tuple(f"sklearn:GradientBoostingClassifier(random_state={seed})"
                              for seed in _SEEDS)
_BOOSTING_REGRESSORS = tuple(f"sklearn:GradientBoostingRegressor(random_state={seed})"
                             for seed in _SEEDS)
_SVC_PROBABILITY = tuple(f"sklearn:StandardScaler+SVC(probability=True, random_state={seed})"
                         for seed in _SEEDS)
_POLY_LINEAR = "sklearn:PolynomialFeatures(2)+LinearRegression()"
#: k-NN's settings after the StandardScaler tutorials put first
_SCALED_KNN = tuple(f"sklearn:StandardScaler+KNeighborsClassifier({args})"
                    for *_, args in _KNN_VARIANTS)
#: deterministic as written below 10,000 rows (no early stopping there); bounded like boosting
_HIST_BOOSTING_CLASSIFIERS = ("sklearn:HistGradientBoostingClassifier()",
                              "sklearn:HistGradientBoostingClassifier(random_state=0)",
                              "sklearn:HistGradientBoostingClassifier(random_state=42)")
_MLP_CLASSIFIERS = tuple(f"sklearn:StandardScaler+MLPClassifier(random_state={seed})"
                         for seed in _SEEDS)
#: trees of the depths students limit them to, with each seed: two honest
#: DecisionTreeRegressor(max_depth=6, random_state=0) programs (one on scaled features, which a
#: tree does not see) gave identical predictions in an unseen class and were flagged at 1.0;
#: bounded like boosting (a depth-10 tree on 4,000 x 768 pixels took 2.2 s)
_TREE_DEPTHS = (3, 4, 5, 6, 8, 10)
_DEPTH_TREES = {kind: tuple(f"sklearn:{kind}(max_depth={depth}, random_state={seed})"
                            for depth in _TREE_DEPTHS for seed in _SEEDS)
                for kind in ("DecisionTreeClassifier", "DecisionTreeRegressor")}
#: boosting is fitted up to this many training cells (rows x features): 100 trees per class
#: on MNIST's 3,500 x 784 pixels took minutes
BOOSTING_MAX_CELLS = 1_000_000
#: polynomial features (degree 2) up to this many feature columns (40 give 861 columns)
POLY_MAX_FEATURES = 40


def _classifiers() -> dict[str, Callable[[], object]]:
    from sklearn.discriminant_analysis import (
        LinearDiscriminantAnalysis,
        QuadraticDiscriminantAnalysis,
    )
    from sklearn.dummy import DummyClassifier
    from sklearn.ensemble import (
        AdaBoostClassifier,
        GradientBoostingClassifier,
        HistGradientBoostingClassifier,
        RandomForestClassifier,
    )
    from sklearn.linear_model import LogisticRegression, Perceptron, RidgeClassifier
    from sklearn.naive_bayes import BernoulliNB, GaussianNB, MultinomialNB
    from sklearn.neighbors import KNeighborsClassifier, NearestCentroid
    from sklearn.neural_network import MLPClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import MinMaxScaler, Normalizer, StandardScaler
    from sklearn.svm import SVC, LinearSVC
    from sklearn.tree import DecisionTreeClassifier

    from reference._gradient import GDSoftmaxClassifier
    from reference._naive_bayes import BinnedCategoricalNB, BinnedMultinomialNB
    from reference._neighbors import ArgsortKNNClassifier

    def scaled(make, scaler=StandardScaler):
        return lambda: make_pipeline(scaler(), make())

    binned = {"MultinomialNB": BinnedMultinomialNB, "CategoricalNB": BinnedCategoricalNB}
    return {
        "sklearn:KNeighborsClassifier()": KNeighborsClassifier,
        "sklearn:SVC()": SVC,
        "sklearn:LogisticRegression(max_iter=1000)": lambda: LogisticRegression(max_iter=1000),
        "sklearn:GaussianNB()": GaussianNB,
        "sklearn:MultinomialNB()": MultinomialNB,
        "sklearn:LinearDiscriminantAnalysis()": LinearDiscriminantAnalysis,
        "sklearn:DecisionTreeClassifier(random_state=0)":
            lambda: DecisionTreeClassifier(random_state=0),
        "sklearn:RandomForestClassifier(random_state=0)":
            lambda: RandomForestClassifier(random_state=0),
        # LogisticRegression() as written, stopped at 100 iterations (on pixels it has not
        # converged, and every student who writes it gets the same unconverged model)
        "sklearn:LogisticRegression()": LogisticRegression,
        # the tutorials' seed: a setting, like k-NN's k
        "sklearn:DecisionTreeClassifier(random_state=42)":
            lambda: DecisionTreeClassifier(random_state=42),
        "sklearn:RandomForestClassifier(random_state=42)":
            lambda: RandomForestClassifier(random_state=42),
        # models with nothing to tune: every student who writes them gets these predictions
        "sklearn:NearestCentroid()": NearestCentroid,
        "sklearn:KNeighborsClassifier(n_neighbors=1)": lambda: KNeighborsClassifier(1),
        "sklearn:RidgeClassifier()": RidgeClassifier,
        # defaults that are deterministic as written (Perceptron's seed is 0; LinearSVC solves
        # the primal problem where there are more rows than features; AdaBoost's stumps break
        # no ties at random). HistGradientBoostingClassifier() is too (below 10,000 rows) but
        # took minutes on 3,500 MNIST images: left out.
        "sklearn:Perceptron()": Perceptron,
        "sklearn:LinearSVC()": LinearSVC,
        "sklearn:BernoulliNB()": BernoulliNB,
        "sklearn:AdaBoostClassifier()": AdaBoostClassifier,
        # k-NN's one knob, as students turn it: deterministic, so two honest students with the
        # same k agree on every id (on an easy data set, wrong answers and all)
        **{f"sklearn:KNeighborsClassifier({args})":
           (lambda k=k, w=w, p=p: KNeighborsClassifier(n_neighbors=k, weights=w, p=p))
           for k, w, p, args in _KNN_VARIANTS},
        # the same defaults after the StandardScaler most tutorials put first
        "sklearn:StandardScaler+KNeighborsClassifier()": scaled(KNeighborsClassifier),
        "sklearn:StandardScaler+SVC()": scaled(SVC),
        "sklearn:StandardScaler+LogisticRegression(max_iter=1000)":
            scaled(lambda: LogisticRegression(max_iter=1000)),
        "sklearn:StandardScaler+NearestCentroid()": scaled(NearestCentroid),
        "sklearn:StandardScaler+RidgeClassifier()": scaled(RidgeClassifier),
        # the course's linear kernel (its primal and dual forms), as written. On unscaled
        # features libsvm's linear kernel can take millions of iterations per pair of classes
        # (530,000 on a 40-column table): capped, so a course never waits on it (a capped fit
        # stops short of the students' and explains nothing; a converged one is the same)
        "sklearn:SVC(kernel='linear')": lambda: SVC(kernel="linear", max_iter=_SVC_MAX_ITER),
        "sklearn:StandardScaler+SVC(kernel='linear')":
            scaled(lambda: SVC(kernel="linear", max_iter=_SVC_MAX_ITER)),
        # the course's L2 normalisation of each example (x / ||x||, the slides'
        # ``X / np.linalg.norm(X, axis=1, keepdims=True)``: ``Normalizer()``) before the
        # defaults, and min-max scaling before the two that measure distances: deterministic,
        # so two honest students who write the same pipeline agree on every id. (Min-max
        # before LogisticRegression was left out: a copy of any student whose converged
        # min-max regression used another max_iter would be explained too.)
        **{f"sklearn:Normalizer+{m}": scaled(make, Normalizer)
           for m, make in (("KNeighborsClassifier()", KNeighborsClassifier), ("SVC()", SVC),
                           ("LogisticRegression(max_iter=1000)",
                            lambda: LogisticRegression(max_iter=1000)))},
        "sklearn:MinMaxScaler+KNeighborsClassifier()": scaled(KNeighborsClassifier,
                                                               MinMaxScaler),
        "sklearn:MinMaxScaler+SVC()": scaled(SVC, MinMaxScaler),
        # Deterministic as seeded, and written as often as the forests (an unseen binary
        # class: two honest GradientBoostingClassifier(random_state=42) programs were flagged
        # at 1.0); fitted up to BOOSTING_MAX_CELLS (MNIST's pixels would take minutes)
        **{f"sklearn:GradientBoostingClassifier(random_state={seed})":
           (lambda seed=seed: GradientBoostingClassifier(random_state=seed)) for seed in _SEEDS},
        # In a hand-written 4-class tabular class, honest pairs of each of these gave identical
        # predictions and were flagged at 0.99: scaled k-NN with k = 7, QDA, seeded
        # HistGradientBoosting, a seeded MLP on scaled features (the boosting and the MLP
        # fitted up to BOOSTING_MAX_CELLS)
        **{f"sklearn:StandardScaler+KNeighborsClassifier({args})":
           scaled(lambda k=k, w=w, p=p: KNeighborsClassifier(n_neighbors=k, weights=w, p=p))
           for k, w, p, args in _KNN_VARIANTS},
        "sklearn:QuadraticDiscriminantAnalysis()": QuadraticDiscriminantAnalysis,
        "sklearn:HistGradientBoostingClassifier()": HistGradientBoostingClassifier,
        **{f"sklearn:HistGradientBoostingClassifier(random_state={seed})":
           (lambda seed=seed: HistGradientBoostingClassifier(random_state=seed))
           for seed in _SEEDS},
        **{f"sklearn:StandardScaler+MLPClassifier(random_state={seed})":
           scaled(lambda seed=seed: MLPClassifier(random_state=seed)) for seed in _SEEDS},
        # min-max before the converged logistic regression: a max_iter of 500 or 1000 gives one
        # model, and two honest students who wrote it were flagged at 1.0 (unseen binary class)
        "sklearn:MinMaxScaler+LogisticRegression(max_iter=1000)":
            scaled(lambda: LogisticRegression(max_iter=1000), MinMaxScaler),
        **_depth_trees(DecisionTreeClassifier),
        **{f"sklearn:Normalizer+KNeighborsClassifier(n_neighbors={k})":
           scaled(lambda k=k: KNeighborsClassifier(n_neighbors=k), Normalizer)
           for k in (1, 3, 7, 21)},
        f"sklearn:RidgeClassifier({_SLIDES_RIDGE})":
            lambda: RidgeClassifier(alpha=1e-06, fit_intercept=False),
        f"sklearn:Normalizer+RidgeClassifier({_SLIDES_RIDGE})":
            scaled(lambda: RidgeClassifier(alpha=1e-06, fit_intercept=False), Normalizer),
        **{name: (lambda n=n, per=per, nb=binned[nb]: nb(n_bins=n, per_feature=per))
           for name, n, per, nb in _LAB_NB_SETTINGS},
        **{name: (lambda k=k, p=p: ArgsortKNNClassifier(n_neighbors=k, p=p))
           for name, k, p in _ARGSORT_KNN_SETTINGS},
        **{f"sklearn:{pre}Perceptron(shuffle=False, max_iter={e}, tol=None)":
           (scaled(perceptron) if pre else perceptron)
           for pre in ("", "StandardScaler+") for e in _PERCEPTRON_EPOCHS
           for perceptron in [lambda e=e: Perceptron(shuffle=False, max_iter=e, tol=None)]},
        **{name: (lambda lr=lr, n=steps, sc=scaling:
                  GDSoftmaxClassifier(learning_rate=lr, steps=n, scaling=sc))
           for name, lr, steps, scaling in _GD_SETTINGS},
        # the trivial model: every id the most frequent label (a baseline, or a network that
        # collapsed to it)
        "sklearn:DummyClassifier()": DummyClassifier,
    }


def _text_models(task: str) -> dict[str, Callable[[], object]]:
    """The pipelines students fit on text: a vectoriser with its defaults, then a default
    model (the words, not the characters: ``reference.features`` gives raw documents)."""
    from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer
    from sklearn.linear_model import LogisticRegression, Ridge
    from sklearn.naive_bayes import MultinomialNB
    from sklearn.neighbors import KNeighborsClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.svm import LinearSVC

    vectorisers = {"TfidfVectorizer": TfidfVectorizer, "CountVectorizer": CountVectorizer}
    models = {"MultinomialNB()": MultinomialNB,
              "LogisticRegression(max_iter=1000)": lambda: LogisticRegression(max_iter=1000),
              "LinearSVC()": LinearSVC, "KNeighborsClassifier()": KNeighborsClassifier,
              "Ridge()": Ridge}
    return {f"sklearn:{v}+{m}": (lambda v=vectorisers[v], m=models[m]: make_pipeline(v(), m()))
            for v in _VECTORISERS for m in _TEXT_MODEL_NAMES[task]}


def _depth_trees(tree: type) -> dict[str, Callable[[], object]]:
    """``_DEPTH_TREES``' factories of ``tree`` (a scikit-learn tree class)."""
    return {f"sklearn:{tree.__name__}(max_depth={depth}, random_state={seed})":
            (lambda depth=depth, seed=seed: tree(max_depth=depth, random_state=seed))
            for depth in _TREE_DEPTHS for seed in _SEEDS}


def _regressors() -> dict[str, Callable[[], object]]:
    from sklearn.dummy import DummyRegressor
    from sklearn.ensemble import GradientBoostingRegressor, RandomForestRegressor
    from sklearn.linear_model import Lasso, LinearRegression, Ridge
    from sklearn.neighbors import KNeighborsRegressor
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import Normalizer, PolynomialFeatures, StandardScaler
    from sklearn.svm import SVR
    from sklearn.tree import DecisionTreeRegressor

    def scaled(make, scaler=StandardScaler):
        return lambda: make_pipeline(scaler(), make())

    return {
        "sklearn:KNeighborsRegressor()": KNeighborsRegressor,
        "sklearn:SVR()": SVR,
        "sklearn:LinearRegression()": LinearRegression,
        "sklearn:Ridge()": Ridge,
        "sklearn:Lasso()": Lasso,
        "sklearn:DecisionTreeRegressor(random_state=0)":
            lambda: DecisionTreeRegressor(random_state=0),
        "sklearn:RandomForestRegressor(random_state=0)":
            lambda: RandomForestRegressor(random_state=0),
        "sklearn:DecisionTreeRegressor(random_state=42)":
            lambda: DecisionTreeRegressor(random_state=42),
        "sklearn:RandomForestRegressor(random_state=42)":
            lambda: RandomForestRegressor(random_state=42),
        # The pipelines students put before the defaults, and the seeded boosting: in an unseen
        # diabetes class two honest StandardScaler + KNeighborsRegressor() programs, two
        # PolynomialFeatures(2) + LinearRegression() and two GradientBoostingRegressor(
        # random_state=0) each gave identical predictions and were flagged at 1.0 (polynomial
        # features up to POLY_MAX_FEATURES columns; a scaling before them changes nothing)
        "sklearn:StandardScaler+KNeighborsRegressor()": scaled(KNeighborsRegressor),
        "sklearn:PolynomialFeatures(2)+LinearRegression()":
            lambda: make_pipeline(PolynomialFeatures(2), LinearRegression()),
        **{f"sklearn:GradientBoostingRegressor(random_state={seed})":
           (lambda seed=seed: GradientBoostingRegressor(random_state=seed)) for seed in _SEEDS},
        **_depth_trees(DecisionTreeRegressor),
        **{f"sklearn:{pre}KNeighborsRegressor({args})":
           (scaled(knn) if pre else knn)
           for pre in ("", "StandardScaler+")
           for k, w, p, args in _KNN_REGRESSION_VARIANTS
           for knn in [lambda k=k, w=w, p=p: KNeighborsRegressor(n_neighbors=k, weights=w, p=p)]},
        f"sklearn:Ridge({_SLIDES_RIDGE})": lambda: Ridge(alpha=1e-06, fit_intercept=False),
        f"sklearn:Normalizer+Ridge({_SLIDES_RIDGE})":
            scaled(lambda: Ridge(alpha=1e-06, fit_intercept=False), Normalizer),
        # the trivial model (the training mean): two students who both submit a constant have the
        # same centred residuals, which only this explains
        "sklearn:DummyRegressor()": DummyRegressor,
    }


#: names of the standard models, per task (their factories are imported lazily)
STANDARD_CLASSIFIERS: tuple[str, ...] = (
    "sklearn:KNeighborsClassifier()", "sklearn:SVC()", "sklearn:LogisticRegression(max_iter=1000)",
    "sklearn:GaussianNB()", "sklearn:MultinomialNB()", "sklearn:LinearDiscriminantAnalysis()",
    "sklearn:DecisionTreeClassifier(random_state=0)",
    "sklearn:RandomForestClassifier(random_state=0)", "sklearn:LogisticRegression()",
    "sklearn:DecisionTreeClassifier(random_state=42)",
    "sklearn:RandomForestClassifier(random_state=42)", "sklearn:NearestCentroid()",
    "sklearn:KNeighborsClassifier(n_neighbors=1)", "sklearn:RidgeClassifier()",
    "sklearn:Perceptron()", "sklearn:LinearSVC()", "sklearn:BernoulliNB()",
    "sklearn:AdaBoostClassifier()",
    *(f"sklearn:KNeighborsClassifier({args})" for *_, args in _KNN_VARIANTS),
    "sklearn:StandardScaler+KNeighborsClassifier()", "sklearn:StandardScaler+SVC()",
    "sklearn:StandardScaler+LogisticRegression(max_iter=1000)",
    "sklearn:StandardScaler+NearestCentroid()", "sklearn:StandardScaler+RidgeClassifier()",
    *_LINEAR_KERNEL, *_SCALED, *_BOOSTING_CLASSIFIERS,
    *_SCALED_KNN, "sklearn:QuadraticDiscriminantAnalysis()", *_HIST_BOOSTING_CLASSIFIERS,
    *_MLP_CLASSIFIERS, "sklearn:MinMaxScaler+LogisticRegression(max_iter=1000)",
    *_DEPTH_TREES["DecisionTreeClassifier"], *_NORMALIZED_KNN,
    *_SLIDES_KERNEL_RIDGE["classification"], *_LAB_NB, *_ARGSORT_KNN, *_SLIDES_PERCEPTRON,
    *_GD, "sklearn:DummyClassifier()")
STANDARD_PROBABILITIES: tuple[str, ...] = (
    "sklearn:LogisticRegression(max_iter=1000)", "sklearn:GaussianNB()",
    "sklearn:KNeighborsClassifier()", "sklearn:MultinomialNB()",
    "sklearn:LinearDiscriminantAnalysis()", "sklearn:DecisionTreeClassifier(random_state=0)",
    "sklearn:RandomForestClassifier(random_state=0)", "sklearn:LogisticRegression()",
    "sklearn:RandomForestClassifier(random_state=42)",
    "sklearn:StandardScaler+LogisticRegression(max_iter=1000)", "sklearn:BernoulliNB()",
    "sklearn:AdaBoostClassifier()",
    # in an unseen binary class honest pairs of each gave identical probabilities (flagged)
    "sklearn:StandardScaler+KNeighborsClassifier()", *_BOOSTING_CLASSIFIERS,
    "sklearn:MinMaxScaler+LogisticRegression(max_iter=1000)", *_SVC_PROBABILITY,
    *_DEPTH_TREES["DecisionTreeClassifier"],
    "sklearn:DummyClassifier()")  # the class prior: the one constant a trivial model submits
STANDARD_REGRESSORS: tuple[str, ...] = (
    "sklearn:KNeighborsRegressor()", "sklearn:SVR()", "sklearn:LinearRegression()",
    "sklearn:Ridge()", "sklearn:Lasso()",
    "sklearn:DecisionTreeRegressor(random_state=0)",
    "sklearn:RandomForestRegressor(random_state=0)",
    "sklearn:DecisionTreeRegressor(random_state=42)",
    "sklearn:RandomForestRegressor(random_state=42)",
    "sklearn:StandardScaler+KNeighborsRegressor()", _POLY_LINEAR, *_BOOSTING_REGRESSORS,
    *_DEPTH_TREES["DecisionTreeRegressor"], *_KNN_REGRESSORS,
    *_SLIDES_KERNEL_RIDGE["regression"], "sklearn:DummyRegressor()")


@dataclass(frozen=True)
class Split:
    """A validation split as students write it: ``train_test_split(X, y, test_size=...,
    random_state=..., stratify=y or None)``; the model is fitted on its training part."""

    test_size: float
    random_state: int
    stratify: bool = False

    @property
    def call(self) -> str:
        size = "" if self.test_size == 0.25 else f"test_size={self.test_size}, "  # the default
        strat = ", stratify=y" if self.stratify else ""
        return f"train_test_split({size}random_state={self.random_state}{strat})"

    def rows(self, labels: np.ndarray) -> np.ndarray:
        """The training part's rows, in the order ``train_test_split`` returns them (the
        order matters: a forest's bootstrap and k-NN's ties follow it)."""
        from sklearn.model_selection import train_test_split

        n = len(labels)
        # stratified on the labels as pandas reads them (numbers as numbers: the class order
        # decides the split)
        strata = _as_read(labels) if self.stratify else None
        train, _ = train_test_split(np.arange(n), test_size=self.test_size,
                                    random_state=self.random_state, stratify=strata)
        return train


_FIT_THREADS = max(1, min(4, os.cpu_count() or 1))  # standard models fitted at once

#: split variants are fitted up to this many training rows (each costs a fit per split), and
#: the kernel SVC ones (whose fit grows with the square of the rows) up to the second bound:
#: by the data's size, so the same course always gets the same explainers
SPLIT_MAX_ROWS, SPLIT_MAX_ROWS_SVC = 20_000, 10_000
_KERNEL_SVC = frozenset({"sklearn:SVC()", "sklearn:StandardScaler+SVC()",
                         "sklearn:MinMaxScaler+SVC()", "sklearn:Normalizer+SVC()",
                         *_LINEAR_KERNEL, *_SVC_PROBABILITY})
#: the min-max, L2-normalised and linear-kernel pipelines: fitted up to the split variants'
#: bounds too (a kernel SVM's fit grows with the square of the rows; each is one more fit)
_VARIANTS = frozenset(_LINEAR_KERNEL + _SCALED + _SVC_PROBABILITY + _SCALED_KNN + (
    "sklearn:MinMaxScaler+LogisticRegression(max_iter=1000)",
    "sklearn:StandardScaler+KNeighborsRegressor()", _POLY_LINEAR)
    # the slides' k-NN settings each cost a search of the training rows
    + _NORMALIZED_KNN + _KNN_REGRESSORS + _SLIDES_PERCEPTRON
    + tuple(name for name, _, p in _ARGSORT_KNN_SETTINGS if p == 2))
#: the Manhattan distance has no fast product (brute force over every pair of rows): on
#: 3,500 MNIST images its ten variants took 40 s; bounded like boosting (cells)
_MANHATTAN_KNN = tuple(f"sklearn:{pre}K{kind}({args})"
                       for pre in ("", "StandardScaler+")
                       for kind, variants in (("NeighborsClassifier", _KNN_VARIANTS),
                                              ("NeighborsRegressor", _KNN_REGRESSION_VARIANTS))
                       for _, _, p, args in variants if p == 1) + tuple(
    name for name, _, p in _ARGSORT_KNN_SETTINGS if p == 1)

#: the validation splits students most often fit on (the tutorials' ``test_size=0.2,
#: random_state=42`` first)
SPLITS: tuple[Split, ...] = (
    Split(0.2, 42), Split(0.2, 42, stratify=True), Split(0.25, 42), Split(0.2, 0),
    Split(0.3, 42), Split(0.1, 42))
#: the defaults fitted on each split's training part, per task (a subset: each costs a fit
#: per split)
_SPLIT_BASES: dict[str, tuple[str, ...]] = {
    "classification": (
        "sklearn:KNeighborsClassifier()", "sklearn:SVC()",
        "sklearn:LogisticRegression(max_iter=1000)", "sklearn:LogisticRegression()",
        "sklearn:GaussianNB()", "sklearn:DecisionTreeClassifier(random_state=0)",
        "sklearn:RandomForestClassifier(random_state=0)",
        "sklearn:DecisionTreeClassifier(random_state=42)",
        "sklearn:RandomForestClassifier(random_state=42)",
        "sklearn:StandardScaler+KNeighborsClassifier()", "sklearn:StandardScaler+SVC()",
        "sklearn:StandardScaler+LogisticRegression(max_iter=1000)",
        "sklearn:TfidfVectorizer+MultinomialNB()",
        "sklearn:TfidfVectorizer+LogisticRegression(max_iter=1000)",
        "sklearn:TfidfVectorizer+LinearSVC()"),
    "probability": (
        "sklearn:LogisticRegression(max_iter=1000)", "sklearn:LogisticRegression()",
        "sklearn:GaussianNB()", "sklearn:KNeighborsClassifier()",
        "sklearn:RandomForestClassifier(random_state=0)",
        "sklearn:RandomForestClassifier(random_state=42)",
        "sklearn:StandardScaler+LogisticRegression(max_iter=1000)",
        "sklearn:TfidfVectorizer+LogisticRegression(max_iter=1000)"),
    "regression": (
        "sklearn:LinearRegression()", "sklearn:Ridge()", "sklearn:KNeighborsRegressor()",
        "sklearn:SVR()", "sklearn:DecisionTreeRegressor(random_state=0)",
        "sklearn:RandomForestRegressor(random_state=0)",
        "sklearn:DecisionTreeRegressor(random_state=42)",
        "sklearn:RandomForestRegressor(random_state=42)", "sklearn:TfidfVectorizer+Ridge()"),
}
_SPLIT_OF: dict[str, tuple[str, Split]] = {
    f"{base} on {split.call}": (base, split)
    for bases in _SPLIT_BASES.values() for split in SPLITS for base in bases}
#: the split variants' names per task (a stratified split is for classes, not for numbers)
SPLIT_MODELS: dict[str, tuple[str, ...]] = {
    task: tuple(f"{base} on {split.call}" for split in SPLITS for base in bases
                if not (split.stratify and task == "regression"))
    for task, bases in _SPLIT_BASES.items()}

#: the standard models that are a setting students choose, not a default everyone writes: two
#: honest students land on the same k less often than on ``KNeighborsClassifier()``, and a copy
#: of a student who chose it must rank above the pairs a default explains (still unflagged)
STANDARD_SETTINGS: frozenset[str] = frozenset(
    [f"sklearn:KNeighborsClassifier({args})" for *_, args in _KNN_VARIANTS]
    + [f"sklearn:{m}(random_state=42)" for m in (
        "DecisionTreeClassifier", "RandomForestClassifier", "DecisionTreeRegressor",
        "RandomForestRegressor", "GradientBoostingClassifier", "GradientBoostingRegressor")]
    # a degree, and the Platt scaling's seed
    + [_POLY_LINEAR, "sklearn:StandardScaler+SVC(probability=True, random_state=42)"]
    + list(_SCALED_KNN) + ["sklearn:HistGradientBoostingClassifier(random_state=42)",
                           "sklearn:StandardScaler+MLPClassifier(random_state=42)"]
    # a depth (with either seed)
    + [name for names in _DEPTH_TREES.values() for name in names]
    # the slides' k-NN and kernel ridge settings
    + list(_NORMALIZED_KNN) + list(_KNN_REGRESSORS) + list(_SLIDES_PERCEPTRON) + list(_LAB_NB)
    + list(_ARGSORT_KNN) + list(_GD)
    + [name for names in _SLIDES_KERNEL_RIDGE.values() for name in names]
    # a split fitted before the model is a choice too
    + list(_SPLIT_OF))
#: standard models that explain agreement but do not make the behavioural null (its Rasch
#: difficulties and wrong-label popularity): the hundred gradient-descent settings are nearly
#: one model, and counted they outweighed a class of fifty (every exact copy's expected count
#: rose 2-3 %, and four copies of accurate students fell from flagged to the band)
EXPLAIN_ONLY: frozenset[str] = frozenset(_GD)
#: models that ignore the features: fitted on text data too
TRIVIAL_MODELS = frozenset({"sklearn:DummyRegressor()", "sklearn:DummyClassifier()"})


def _probability_classifiers() -> dict[str, Callable[[], object]]:
    """The defaults students call ``predict_proba`` on; deterministic ones only (``SVC``'s
    probabilities come from a randomly folded Platt scaling: seeded only)."""
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import SVC

    # the probabilities of SVC(probability=True) come from a Platt scaling folded at random:
    # deterministic only seeded (its labels are SVC()'s: for roc_auc only)
    every = {**_classifiers(), **{
        name: (lambda seed=seed: make_pipeline(
            StandardScaler(), SVC(probability=True, random_state=seed)))
        for seed, name in zip(_SEEDS, _SVC_PROBABILITY, strict=True)}}
    return {n: every[n] for n in STANDARD_PROBABILITIES}


def standard_models(task: str) -> dict[str, Callable[[], object]]:
    """Name -> factory of the standard models for ``task`` (one of ``TASKS``): the ones for
    numeric features (tabular, pixels), then the text pipelines (``TEXT_MODELS``)."""
    if task not in TASKS:
        raise ValueError(f"unknown task {task!r}; use one of {TASKS}")
    numeric = {"classification": _classifiers, "regression": _regressors,
               "probability": _probability_classifiers}[task]()
    every = {**numeric, **_text_models(task)}
    return {**every, **{name: every[_SPLIT_OF[name][0]] for name in SPLIT_MODELS[task]}}


def _base(name: str) -> str:
    """The model a split variant fits (the name itself for any other model)."""
    return _SPLIT_OF[name][0] if name in _SPLIT_OF else name


def explainer_order(name: str) -> tuple[bool, int, bool, int, str]:
    """Sort key of explainers, the first of which names a pair several explain equally: the
    models fitted on every training row, then the split variants, the commonest split first
    (``SPLITS``' order); among those, the plain model before a pipeline (where every feature
    has one range, ``MinMaxScaler+SVC()`` is ``SVC()``: the simpler name is the one students
    wrote most), then by name."""
    split = _SPLIT_OF[name][1] if name in _SPLIT_OF else None
    # the lab's hand-written forms after scikit-learn's: where both give the pair's
    # predictions, "KNeighborsClassifier()" is what a student more likely wrote
    return (split is not None, SPLITS.index(split) if split is not None else 0,
            name.startswith("lab:"), _base(name).count("+"), name)


def _as_read(labels: np.ndarray) -> np.ndarray:
    """Labels as ``pandas.read_csv`` types them: numbers when every label is one."""
    try:
        return pd.to_numeric(pd.Series(labels)).to_numpy()
    except (TypeError, ValueError):
        return np.asarray(labels, dtype=str)


def _class_codes(labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Labels as class numbers in the order scikit-learn sorts the labels a student fits on
    (``pandas.read_csv``'s types: 2 < 9 < 10, where as text '10' < '2' < '9'; ties between
    classes, in k-NN votes or a forest's argmax, go to the first), and each number's label as
    written in ``train.csv``."""
    _, codes = np.unique(_as_read(labels), return_inverse=True)
    _, first = np.unique(codes, return_index=True)  # each class's first spelling ("1", "1.0")
    return codes.astype(np.int64), np.asarray(labels, dtype=str)[first]


def _natural(label: str) -> tuple:
    """Sort key of a label as ``grader.scoring`` orders them: numbers by value, then text."""
    try:
        value = float(label)
    except ValueError:
        return (1, 0.0, label)
    return (0, value, "") if np.isfinite(value) else (1, 0.0, label)


#: fitted up to ``BOOSTING_MAX_CELLS`` training cells
_CELL_BOUNDED = frozenset(_BOOSTING_CLASSIFIERS + _BOOSTING_REGRESSORS
                          + _HIST_BOOSTING_CLASSIFIERS + _MLP_CLASSIFIERS
                          + sum(_DEPTH_TREES.values(), ()) + _MANHATTAN_KNN)


def _too_costly(name: str, rows: int, n_features: int) -> str:
    """Why ``name`` is not fitted on ``rows`` x ``n_features`` training data, or ``""``."""
    if name in _CELL_BOUNDED and rows * n_features > BOOSTING_MAX_CELLS:
        return (f"not fitted: {rows:,} x {n_features:,} training cells (boosting, neural "
                f"networks, depth-limited trees and the Manhattan distance are fitted up to "
                f"{BOOSTING_MAX_CELLS:,})")
    if name in _GD and rows * n_features > GD_MAX_CELLS:
        return (f"not fitted: {rows:,} x {n_features:,} training cells (gradient descent by "
                f"hand is fitted up to {GD_MAX_CELLS:,})")
    if name == _POLY_LINEAR and n_features > POLY_MAX_FEATURES:
        return (f"not fitted: {n_features:,} features (polynomial features are made from up "
                f"to {POLY_MAX_FEATURES})")
    return ""


def standard_predictions(train_df: pd.DataFrame, test_df: pd.DataFrame, data_dir: str | Path,
                         *, task: str = "classification", modality: str = "auto",
                         names: list[str] | None = None, cache_dir: Path | None = None
                         ) -> dict[str, np.ndarray | str]:
    """Each standard model's test predictions, in ``test_df``'s row order.

    Parameters
    ----------
    train_df, test_df : DataFrame
        ``train.csv`` (id, label, features or a file column) and ``test.csv``.
    data_dir : path
        The course's data folder (for image files).
    task : {"classification", "regression", "probability"}
        ``probability``: each model's probability of the positive class (roc_auc).
    modality : {"auto", "tabular", "images", "text"}
    names : list of str, optional
        A subset of the models (default: all for the task).
    cache_dir : Path, optional
        Where decoded images are cached.

    Returns
    -------
    dict
        Name -> predictions (an array of labels as strings, or floats for regression), or a
        string saying why the model could not be fitted (e.g. MultinomialNB on negative
        features).
    """
    from sklearn.exceptions import ConvergenceWarning

    from reference.features.detect import detect_modality
    from reference.runner import _features

    if modality == "auto":
        modality = detect_modality(train_df, data_dir)
    (X_train, X_test), _ = _features(train_df, test_df, None, Path(data_dir), modality,
                                     cache_dir)
    factories = standard_models(task)
    names = names or list(factories)
    text = {n for n in names if _base(n) in TEXT_MODELS[task]}
    trivial = (np.zeros((len(X_train), 1)), np.zeros((len(X_test), 1)))
    if modality == "text":  # raw documents: only the vectoriser pipelines take them
        X_train, X_test = X_train[:, 0], X_test[:, 0]
        skipped = [n for n in names if n not in text and n not in TRIVIAL_MODELS]
        why = "needs numeric features; text data takes the vectoriser pipelines"
    else:
        skipped, why = sorted(text), "for text data only"
    names = [n for n in names if n not in skipped]
    out: dict[str, np.ndarray | str] = dict.fromkeys(skipped, why)
    too_big = {n for n in names if (n in _SPLIT_OF or n in _VARIANTS) and len(train_df) > (
        SPLIT_MAX_ROWS_SVC if _base(n) in _KERNEL_SVC else SPLIT_MAX_ROWS)}
    out.update(dict.fromkeys(too_big, (
        f"not fitted: {len(train_df):,} training rows (split variants and scaled pipelines "
        f"are fitted up to {SPLIT_MAX_ROWS:,}, kernel SVC ones up to "
        f"{SPLIT_MAX_ROWS_SVC:,})")))
    names = [n for n in names if n not in too_big]
    n_features = int(X_train.shape[1]) if getattr(X_train, "ndim", 1) == 2 else 0
    costly = {n: why for n in names
              if (why := _too_costly(_base(n), len(train_df), n_features))}
    out.update(costly)
    names = [n for n in names if n not in costly]
    labels = train_df["label"]
    try:
        y = labels.astype(float).to_numpy() if task == "regression" else \
            labels.astype(str).to_numpy()
    except (TypeError, ValueError) as exc:  # e.g. text labels in a regression course
        return {**out, **dict.fromkeys(names, f"the training labels are not numbers ({exc})")}
    y_fit_all, label_text = (y, None) if task == "regression" else _class_codes(y)
    positive = None
    if task == "probability" and len(y):
        positive = int(np.flatnonzero(label_text == max(set(y.tolist()), key=_natural))[0])
    split_rows: dict[Split, np.ndarray | str] = {}
    for split in dict.fromkeys(_SPLIT_OF[n][1] for n in names if n in _SPLIT_OF):
        try:
            split_rows[split] = split.rows(y)
        except ValueError as exc:  # e.g. stratified with a label seen once
            split_rows[split] = f"{split.call} fails on these labels: {str(exc)[:200]}"

    def fit_one(name: str) -> np.ndarray | str:
        x_train, x_test = trivial if name in TRIVIAL_MODELS else (X_train, X_test)
        y_fit = y_fit_all
        try:
            if name in _SPLIT_OF:  # fitted on the training part of a validation split
                rows = split_rows[_SPLIT_OF[name][1]]
                if isinstance(rows, str):
                    return rows
                x_train, y_fit = x_train[rows], y_fit_all[rows]
            model = factories[name]()
            model.fit(x_train, y_fit)
            if task == "probability":
                pred = model.predict_proba(x_test)[:, list(model.classes_).index(positive)]
            else:
                pred = model.predict(x_test)
        except Exception as exc:  # noqa: BLE001 - a model that cannot fit explains nothing
            return f"{type(exc).__name__}: {str(exc)[:200]}"
        if task == "classification":
            return label_text[np.asarray(pred, dtype=np.int64)]
        return pred.astype(float)

    # A few at a time (_FIT_THREADS): the fits are mostly compiled code that lets go of the GIL (libsvm, the
    # trees, BLAS), and the instructor waits for all of them on the first run.
    from scipy.linalg import LinAlgWarning

    with warnings.catch_warnings(), ThreadPoolExecutor(_FIT_THREADS) as pool:
        # (set here, for every thread: the filters are the process's) an unconverged
        # LogisticRegression() is the point (every student who writes it gets the same one),
        # and so is a NearestCentroid on pixels that never change: neither is news for the
        # instructor's terminal
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.filterwarnings("ignore", "self.within_class_std_dev_", category=UserWarning)
        # the slides' kernel ridge (lambda = 1e-6) on pixels: ill-conditioned, as the
        # students' own copies of it are; scipy's LinAlgWarning reached the terminal
        warnings.simplefilter("ignore", LinAlgWarning)
        out.update(zip(names, pool.map(fit_one, names)))
    return out
