"""Who is in a generated class: honest students (random specs and styles), pairs of honest
students who fit the same scikit-learn default, copies rewritten to defeat code comparison
(their source's spec in a style that differs in every choice) and light copies (renamed)."""

from __future__ import annotations

import random
from dataclasses import dataclass, replace

from benchmarks.runnable_class.data import task_of
from benchmarks.runnable_class.models import ModelSpec
from benchmarks.runnable_class.programs import Style, random_style, render, rewrite_style

__all__ = ["ROLES", "Student", "plan_class"]

#: honest | default (an honest student fitting a scikit-learn default) | rewritten | light
ROLES = ("honest", "default", "rewritten", "light")

FIRST = ["ana", "bogdan", "carmen", "dan", "elena", "florin", "gabi", "horia", "ioana", "lucia",
         "maria", "paula", "radu", "sorin", "tudor", "vlad", "alex", "bianca", "cristi", "diana",
         "emil", "flavia", "george", "irina", "mihai", "nicoleta", "ovidiu", "raluca", "stefan",
         "teodora", "victor", "andrei", "oana", "cosmin", "laura", "marius", "adina", "petru"]
LAST = ["pop", "ionescu", "marin", "stan", "dumitru", "matei", "rusu", "lazar", "toma", "munteanu",
        "barbu", "cristea", "nistor", "florea", "dobre", "ene", "tudose", "ilie", "moldovan"]

# family -> weight among honest students
FAMILY_WEIGHTS = {"knn": 3, "svc": 3, "logreg": 2, "rf": 2, "et": 1, "tree": 1, "gnb": 1,
                  "mnb": 1, "lda": 1, "mlp": 1, "ridge": 1, "sgd": 1, "centroid": 1,
                  "hknn": 2, "hcentroid": 1, "hsoftmax": 2, "hgnb": 1, "hridge": 1}
# family -> {param: values}, never scikit-learn's default value (a spec that names a default
# would compute what another spec leaves out); each param is set with probability 1/2, the ones
# in MUST always
PARAMS = {
    "knn": {"n_neighbors": [1, 3, 4, 6, 7, 9, 11, 15], "weights": ["distance"], "p": [1]},
    "svc": {"C": [0.5, 2.0, 5.0, 10.0, 50.0], "kernel": ["poly"]},
    "logreg": {"C": [0.01, 0.1, 0.5, 2.0, 10.0], "max_iter": [300]},
    "rf": {"n_estimators": [30, 50, 150, 200], "max_depth": [10, 15, 25],
           "random_state": [1, 7, 42, 123, 2024]},
    "et": {"n_estimators": [50, 120, 150], "random_state": [3, 11, 42]},
    "tree": {"max_depth": [6, 8, 12, 16], "random_state": [1, 5, 42], "criterion": ["entropy"]},
    "gnb": {"var_smoothing": [0.01, 0.05, 0.1, 0.3]},
    "mnb": {"alpha": [0.01, 0.1, 0.5, 2.0]},
    "lda": {"solver": ["lsqr"], "shrinkage": ["auto", 0.1, 0.3]},
    "mlp": {"hidden_layer_sizes": [(64,), (96,), (128,)], "alpha": [3e-4, 1e-3, 1e-2],
            "max_iter": [40, 80], "random_state": [0, 1, 7]},
    "ridge": {"alpha": [0.1, 3.0, 10.0, 100.0]},
    "sgd": {"loss": ["log_loss", "modified_huber"], "alpha": [3e-4, 1e-3],
            "random_state": [0, 5, 9]},
    "centroid": {"shrink_threshold": [0.1, 0.5]},
    "hknn": {"k": [1, 3, 5, 7]}, "hcentroid": {},
    "hsoftmax": {"lr": [0.1, 0.3, 0.5], "epochs": [100, 200], "l2": [0.0, 0.001]},
    "hgnb": {"eps": [1e-9, 0.01, 0.05, 0.1]}, "hridge": {"lam": [0.1, 1.0, 10.0, 100.0]},
}
MUST = {"rf": {"random_state"}, "et": {"random_state"}, "tree": {"random_state"},
        "mlp": {"random_state", "max_iter"}, "sgd": {"random_state"}, "logreg": {"max_iter"},
        "lda": {"solver", "shrinkage"}, "hknn": {"k"}, "hsoftmax": {"lr", "epochs", "l2"},
        "hgnb": {"eps"}, "hridge": {"lam"}}
SCALED = ["max", "standard", "minmax"]
PREPS = {"knn": ["none", "max", "standard", "pca"], "svc": ["none", "max", "standard", "pca"],
         "logreg": SCALED + ["pca"], "mlp": SCALED, "sgd": SCALED, "hsoftmax": ["max", "minmax"],
         "ridge": ["none", "standard"], "rf": ["none"], "et": ["none"], "tree": ["none"],
         "gnb": ["none", "standard", "pca"], "hgnb": ["none", "pca"], "mnb": ["none", "max"],
         "lda": ["none", "standard"], "centroid": ["none", "standard"],
         "hcentroid": ["none", "max"], "hknn": ["none", "max"], "hridge": ["none", "max"]}
# the scikit-learn defaults honest pairs fit (one pair each, in this order)
DEFAULT_PAIRS = [ModelSpec("knn"), ModelSpec("svc"), ModelSpec("gnb"),
                 ModelSpec("rf", (("random_state", 0),))]

# Regression courses (the same tables for regressors): no parameter at scikit-learn's default
REG_FAMILY_WEIGHTS = {"rridge": 3, "lasso": 2, "enet": 1, "linreg": 1, "knnr": 3, "treer": 2,
                      "rfr": 2, "etr": 1, "gbr": 2, "svr": 3, "mlpr": 2,
                      "hridger": 2, "hknnr": 2, "hgd": 1}
REG_PARAMS = {
    "rridge": {"alpha": [0.1, 0.3, 3.0, 10.0, 30.0]},
    "lasso": {"alpha": [0.005, 0.01, 0.05, 0.1, 0.3], "max_iter": [5000]},
    "enet": {"alpha": [0.01, 0.05, 0.1], "l1_ratio": [0.2, 0.8], "max_iter": [5000]},
    "linreg": {},
    "knnr": {"n_neighbors": [3, 4, 7, 9, 11, 15], "weights": ["distance"], "p": [1]},
    "treer": {"max_depth": [4, 6, 8, 10], "min_samples_leaf": [3, 5, 10],
              "random_state": [1, 5, 42]},
    "rfr": {"n_estimators": [30, 50, 150], "max_depth": [8, 12],
            "random_state": [1, 7, 42, 123]},
    "etr": {"n_estimators": [50, 150], "min_samples_leaf": [2, 5], "random_state": [3, 11, 42]},
    "gbr": {"n_estimators": [50, 200, 300], "learning_rate": [0.05, 0.2], "max_depth": [2, 4],
            "random_state": [0, 1, 7]},
    "svr": {"C": [0.3, 3.0, 10.0, 30.0], "epsilon": [0.05, 0.5]},
    "mlpr": {"hidden_layer_sizes": [(32,), (64,), (64, 32)], "alpha": [1e-3, 1e-2],
             "max_iter": [300, 600], "random_state": [0, 1, 7]},
    "hridger": {"lam": [0.1, 1.0, 10.0, 100.0]}, "hknnr": {"k": [3, 5, 7, 10]},
    "hgd": {"lr": [0.05, 0.1, 0.2], "epochs": [200, 500], "l2": [0.0, 0.001]},
}
REG_MUST = {"treer": {"random_state"}, "rfr": {"random_state"}, "etr": {"random_state"},
            "gbr": {"random_state"}, "mlpr": {"random_state", "max_iter"},
            "lasso": {"max_iter"}, "enet": {"max_iter"}, "hridger": {"lam"}, "hknnr": {"k"},
            "hgd": {"lr", "epochs", "l2"}}
REG_PREPS = {"rridge": ["none", "standard", "minmax", "poly2"], "lasso": ["none", "standard",
             "poly2"], "enet": ["none", "standard", "minmax"], "linreg": ["poly2"],
             "knnr": ["none", "standard", "minmax"], "treer": ["none"], "rfr": ["none"],
             "etr": ["none"], "gbr": ["none"], "svr": ["none", "standard", "minmax"],
             "mlpr": ["standard", "minmax"], "hridger": ["none", "standard"],
             "hknnr": ["none", "standard", "minmax"], "hgd": ["standard", "minmax"]}
# honest pairs' defaults: one pair each, the list rotated by the seed so that a few seeds see
# them all
REG_DEFAULT_PAIRS = [ModelSpec("rridge"), ModelSpec("linreg"), ModelSpec("knnr"),
                     ModelSpec("rfr", (("random_state", 42),))]

# Probability courses (roc_auc, binary): classifiers with predict_proba and hand-written
# probabilities; again no parameter at scikit-learn's default
PROB_FAMILY_WEIGHTS = {"logreg": 3, "knn": 3, "rf": 2, "et": 1, "tree": 1, "gnb": 1, "lda": 1,
                       "mlp": 2, "sgd": 1, "gbc": 2, "svc": 1,
                       "hlogit": 2, "hknnp": 2, "hgnbp": 1}
PROB_PARAMS = {
    "logreg": {"C": [0.01, 0.1, 0.5, 2.0, 10.0], "max_iter": [300, 2000]},
    "knn": {"n_neighbors": [7, 11, 15, 25, 40], "weights": ["distance"], "p": [1]},
    "rf": {"n_estimators": [30, 50, 150, 200], "max_depth": [6, 10, 15],
           "min_samples_leaf": [2, 5], "random_state": [1, 7, 123, 2024]},
    "et": {"n_estimators": [50, 120, 150], "min_samples_leaf": [2, 5],
           "random_state": [3, 11, 42]},
    "tree": {"max_depth": [4, 6, 8], "min_samples_leaf": [5, 10, 20], "random_state": [1, 5, 42],
             "criterion": ["entropy"]},
    "gnb": {"var_smoothing": [0.01, 0.05, 0.1, 0.3]},
    "lda": {"solver": ["lsqr"], "shrinkage": ["auto", 0.1, 0.3]},
    "mlp": {"hidden_layer_sizes": [(16,), (32,), (64,)], "alpha": [1e-3, 1e-2],
            "max_iter": [100, 300], "random_state": [0, 1, 7]},
    "sgd": {"loss": ["log_loss", "modified_huber"], "alpha": [3e-4, 1e-3],
            "random_state": [0, 5, 9]},
    "gbc": {"n_estimators": [50, 200], "learning_rate": [0.05, 0.2], "max_depth": [2, 4],
            "random_state": [0, 1, 7]},
    "svc": {"probability": [True], "C": [0.5, 2.0, 10.0], "random_state": [0, 1, 7]},
    "hlogit": {"lr": [0.1, 0.3, 0.5], "epochs": [200, 500], "l2": [0.0, 0.001]},
    # a vote share with k = 5 is KNeighborsClassifier(), eps 1e-9 is GaussianNB(): the hand
    # families draw other values, so that no two honest students compute the same
    "hknnp": {"k": [3, 9, 20, 30]}, "hgnbp": {"eps": [0.01, 0.05, 0.1, 0.2]},
}
PROB_MUST = {"logreg": {"C", "max_iter"}, "rf": {"random_state"}, "et": {"random_state"},
             "tree": {"random_state", "max_depth"}, "mlp": {"random_state", "max_iter"},
             "sgd": {"random_state", "loss"}, "gbc": {"random_state"},
             "svc": {"probability", "random_state"}, "lda": {"solver", "shrinkage"},
             "hlogit": {"lr", "epochs", "l2"}, "hknnp": {"k"}, "hgnbp": {"eps"}}
PROB_PREPS = {"logreg": ["none", "standard", "minmax"], "knn": ["none", "standard", "minmax"],
              "rf": ["none"], "et": ["none"], "tree": ["none"], "gnb": ["none", "standard"],
              "lda": ["none"], "mlp": ["standard", "minmax"], "sgd": ["standard", "minmax"],
              "gbc": ["none"], "svc": ["standard", "minmax"], "hlogit": ["standard", "minmax"],
              "hknnp": ["none", "standard", "minmax"], "hgnbp": ["none", "standard"]}
# honest pairs' defaults, rotated by the seed as for regression
PROB_DEFAULT_PAIRS = [ModelSpec("logreg"), ModelSpec("knn"), ModelSpec("gnb"),
                      ModelSpec("rf", (("random_state", 42),))]


@dataclass(frozen=True)
class Student:
    """One generated submission.

    ``group`` links a source with its copies (every pair inside one group is a copy);
    ``copy_of`` names the source of a copy.
    """

    name: str
    role: str
    group: int
    spec: ModelSpec
    style: Style
    source: str
    copy_of: str | None = None


def _reg_spec(rng: random.Random) -> ModelSpec:
    family = rng.choices(list(REG_FAMILY_WEIGHTS), weights=list(REG_FAMILY_WEIGHTS.values()))[0]
    params = [(name, rng.choice(values)) for name, values in REG_PARAMS[family].items()
              if name in REG_MUST.get(family, ()) or rng.random() < 0.5]
    return ModelSpec(family, tuple(params), rng.choice(REG_PREPS[family]))


def _prob_spec(rng: random.Random) -> ModelSpec:
    family = rng.choices(list(PROB_FAMILY_WEIGHTS),
                         weights=list(PROB_FAMILY_WEIGHTS.values()))[0]
    params = [(name, rng.choice(values)) for name, values in PROB_PARAMS[family].items()
              if name in PROB_MUST.get(family, ()) or rng.random() < 0.5]
    return ModelSpec(family, tuple(params), rng.choice(PROB_PREPS[family]))


def _spec(rng: random.Random, data: str) -> ModelSpec:
    if task_of(data) == "regression":
        return _reg_spec(rng)
    if task_of(data) == "probability":
        return _prob_spec(rng)
    family = rng.choices(list(FAMILY_WEIGHTS), weights=list(FAMILY_WEIGHTS.values()))[0]
    if data == "tabular" and family in ("mnb",):
        family = "gnb"
    params = []
    for name, values in PARAMS[family].items():
        if name in MUST.get(family, ()) or rng.random() < 0.5:
            params.append((name, rng.choice(values)))
    prep = rng.choice(PREPS[family])
    if prep == "pca":
        prep = "pca20" if data == "tabular" else rng.choice(["pca30", "pca50"])
    if data == "tabular" and family == "mnb":
        prep = "minmax"
    return ModelSpec(family, tuple(params), prep)


def plan_class(students: int = 45, *, seed: int = 0, data: str = "mnist") -> list[Student]:
    """The class's students, their roles, specs and programs (deterministic in ``seed``).

    Parameters
    ----------
    students : int, default=45
        Class size (at least 8).
    seed : int, default=0
    data : str, default="mnist"
        The course's data set (``data.DATASETS``): some models need non-negative features.

    Returns
    -------
    list of Student
        In a shuffled order (roles do not follow from the order or the names).
    """
    if students < 8:
        raise ValueError(f"--students {students}: a generated class needs at least 8")
    rng = random.Random(seed)
    n_default = 1 if students < 20 else 2 if students < 40 else 3
    n_rewritten = max(2, round(students * 0.15))
    n_light = max(1, round(students * 0.06))
    n_honest = students - 2 * n_default - n_rewritten - n_light
    names = iter(rng.sample([f"{f}_{s}" for f in FIRST for s in LAST], students))
    out: list[Student] = []
    task = task_of(data)
    defaults = DEFAULT_PAIRS
    if task in ("regression", "probability"):
        pairs = REG_DEFAULT_PAIRS if task == "regression" else PROB_DEFAULT_PAIRS
        turn = seed % len(pairs)
        defaults = pairs[turn:] + pairs[:turn]
    seen: set[tuple] = {d.key() for d in defaults}

    def add(role, group, spec, style, copy_of=None) -> Student:
        name = next(names)
        st = Student(name, role, group, spec, style, render(spec, style, name.replace("_", " ")
                                                             .title(), task), copy_of)
        out.append(st)
        return st

    for g in range(n_honest):
        spec = _spec(rng, data)
        while spec.key() in seen or spec.standard:  # no two honest students compute the same
            spec = _spec(rng, data)
        seen.add(spec.key())
        add("honest", g, spec, random_style(rng))
    for d in range(n_default):
        base = defaults[d]
        for _ in range(2):  # each in their own words; the scale-free ones maybe on x / max
            if task == "regression":  # LinearRegression() does not see a standard scaler
                prep = rng.choice(["none", "standard"]) if base.family == "linreg" else "none"
            elif task == "probability":  # k-NN and naive Bayes do not see x / max
                prep = rng.choice(["none", "max"]) if base.family in ("knn", "gnb") else "none"
            else:
                prep = rng.choice(["none", "max"]) if base.family != "rf" else "none"
            add("default", n_honest + 2 * d + _, ModelSpec(base.family, base.params, prep),
                random_style(rng))
    sources = [s for s in out if s.role == "honest"]
    rng.shuffle(sources)
    for src in sources[:n_rewritten]:
        add("rewritten", src.group, src.spec, rewrite_style(src.style, rng), src.name)
    for src in sources[n_rewritten:n_rewritten + n_light]:
        # the same program with every name changed
        style = replace(src.style, names=rng.randrange(1 << 30))
        add("light", src.group, src.spec, style, src.name)
    rng.shuffle(out)
    return out

