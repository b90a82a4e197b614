"""What a generated student's program computes: a model family, its settings and the
preprocessing (``ModelSpec``), and the code that computes it in several textual variants.

Every variant of one spec computes the same predictions (up to floating-point rounding where a
variant re-orders arithmetic), so a rewritten copy renders its source's spec with other
variants. Templates name their variables through placeholders (``{Xtr}``, ``{pred}``,
``{t0}`` ...), filled per program by ``programs.render``.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["HAND", "PROB_HAND", "REG_HAND", "SKLEARN", "STANDARD", "ModelSpec", "model_lines",
           "prep_lines"]

# family -> (module, class, submodule of sklearn, short alias)
SKLEARN = {
    "knn": ("sklearn.neighbors", "KNeighborsClassifier", "neighbors", "KNN"),
    "svc": ("sklearn.svm", "SVC", "svm", "SupportVectors"),
    "logreg": ("sklearn.linear_model", "LogisticRegression", "linear_model", "LogReg"),
    "rf": ("sklearn.ensemble", "RandomForestClassifier", "ensemble", "Forest"),
    "et": ("sklearn.ensemble", "ExtraTreesClassifier", "ensemble", "ExtraTrees"),
    "tree": ("sklearn.tree", "DecisionTreeClassifier", "tree", "Tree"),
    "gnb": ("sklearn.naive_bayes", "GaussianNB", "naive_bayes", "GNB"),
    "mnb": ("sklearn.naive_bayes", "MultinomialNB", "naive_bayes", "MNB"),
    "lda": ("sklearn.discriminant_analysis", "LinearDiscriminantAnalysis",
            "discriminant_analysis", "LDA"),
    "mlp": ("sklearn.neural_network", "MLPClassifier", "neural_network", "MLP"),
    "ridge": ("sklearn.linear_model", "RidgeClassifier", "linear_model", "RidgeCls"),
    "sgd": ("sklearn.linear_model", "SGDClassifier", "linear_model", "SGD"),
    "centroid": ("sklearn.neighbors", "NearestCentroid", "neighbors", "Centroids"),
    # regression (the ``regression`` data set)
    "linreg": ("sklearn.linear_model", "LinearRegression", "linear_model", "OLS"),
    "rridge": ("sklearn.linear_model", "Ridge", "linear_model", "RidgeReg"),
    "lasso": ("sklearn.linear_model", "Lasso", "linear_model", "L1Reg"),
    "enet": ("sklearn.linear_model", "ElasticNet", "linear_model", "ENet"),
    "knnr": ("sklearn.neighbors", "KNeighborsRegressor", "neighbors", "KNNReg"),
    "treer": ("sklearn.tree", "DecisionTreeRegressor", "tree", "RegTree"),
    "rfr": ("sklearn.ensemble", "RandomForestRegressor", "ensemble", "ForestReg"),
    "etr": ("sklearn.ensemble", "ExtraTreesRegressor", "ensemble", "ExtraReg"),
    "gbr": ("sklearn.ensemble", "GradientBoostingRegressor", "ensemble", "Boosting"),
    "svr": ("sklearn.svm", "SVR", "svm", "SupportReg"),
    "mlpr": ("sklearn.neural_network", "MLPRegressor", "neural_network", "MLPReg"),
    # probabilities (roc_auc courses) besides the classifiers above
    "gbc": ("sklearn.ensemble", "GradientBoostingClassifier", "ensemble", "Boosted"),
}
#: linear models: ``predict`` is the argmax of ``decision_function`` (a variant uses that)
LINEAR = {"logreg", "ridge", "sgd"}
#: linear regressors: ``predict`` is ``X @ coef_ + intercept_`` (a variant uses that)
REG_LINEAR = {"linreg", "rridge", "lasso", "enet"}
#: families written by hand in numpy (two variants each); ``REG_HAND``: regressors
HAND = ("hknn", "hcentroid", "hsoftmax", "hgnb", "hridge")
REG_HAND = ("hridger", "hknnr", "hgd")
#: hand-written probabilities of label 1: logistic regression by gradient descent, k-NN vote
#: share, Gaussian naive Bayes posterior
PROB_HAND = ("hlogit", "hknnp", "hgnbp")
#: (family, params) -> the standard model (``reference.standard``) it reproduces on the raw
#: features, or on the features divided by one constant (these models do not see the scale)
STANDARD = {
    ("knn", ()): "sklearn:KNeighborsClassifier()",
    ("svc", ()): "sklearn:SVC()",
    ("gnb", ()): "sklearn:GaussianNB()",
    ("lda", ()): "sklearn:LinearDiscriminantAnalysis()",
    ("mnb", ()): "sklearn:MultinomialNB()",
    ("rf", (("random_state", 0),)): "sklearn:RandomForestClassifier(random_state=0)",
    ("tree", (("random_state", 0),)): "sklearn:DecisionTreeClassifier(random_state=0)",
    ("logreg", ()): "sklearn:LogisticRegression()",
    ("logreg", (("max_iter", 1000),)): "sklearn:LogisticRegression(max_iter=1000)",
    ("linreg", ()): "sklearn:LinearRegression()",
    ("rridge", ()): "sklearn:Ridge()",
    ("lasso", ()): "sklearn:Lasso()",
    ("knnr", ()): "sklearn:KNeighborsRegressor()",
    ("svr", ()): "sklearn:SVR()",
    ("treer", (("random_state", 0),)): "sklearn:DecisionTreeRegressor(random_state=0)",
    ("treer", (("random_state", 42),)): "sklearn:DecisionTreeRegressor(random_state=42)",
    ("rfr", (("random_state", 0),)): "sklearn:RandomForestRegressor(random_state=0)",
    ("rfr", (("random_state", 42),)): "sklearn:RandomForestRegressor(random_state=42)",
}
#: families whose predictions do not change when every feature is divided by one constant
SCALE_FREE = {"knn", "svc", "gnb", "rf", "et", "tree", "lda", "centroid", "hknn", "hcentroid",
              "knnr", "svr", "treer", "rfr", "etr", "gbr", "linreg", "hknnr", "gbc", "hknnp",
              "hgnbp"}
#: ... nor when each feature is shifted and scaled on its own (standard, min-max)
AFFINE_FREE = {"gnb", "rf", "et", "tree", "lda", "treer", "rfr", "etr", "gbr", "linreg", "gbc"}


@dataclass(frozen=True)
class ModelSpec:
    """One program's semantics: ``family`` with ``params`` on features after ``prep``.

    ``prep`` is ``none``, ``max`` (divide by the training maximum), ``standard``, ``minmax``,
    ``pcaN`` (N principal components) or ``poly2`` (degree-2 polynomial features).
    """

    family: str
    params: tuple[tuple[str, object], ...] = ()
    prep: str = "none"

    def key(self) -> tuple:
        """Specs with the same key give the same predictions."""
        prep = self.prep
        if prep == "max" and self.family in SCALE_FREE or \
                prep in ("standard", "minmax") and self.family in AFFINE_FREE:
            prep = "none"
        return self.family, self.params, prep

    @property
    def standard(self) -> str | None:
        """The standard model whose predictions this spec reproduces, if any."""
        if self.key()[2] != "none":
            return None
        return STANDARD.get((self.family, self.params))

    def describe(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.params)
        return f"{self.family}({args}) on {self.prep}"


def _fmt(value: object, loose: bool) -> str:
    if loose and isinstance(value, float) and value.is_integer():
        return repr(int(value))  # C=10 instead of C=10.0: the same model
    return repr(value)


def _ctor(spec: ModelSpec, import_style: int, args_style: int) -> tuple[list[str], str]:
    """Imports and the constructor expression of a scikit-learn model."""
    module, cls, sub, alias = SKLEARN[spec.family]
    params = list(spec.params)
    if args_style % 2:
        params.reverse()
    parts = [f"{k}={_fmt(v, bool(args_style))}" for k, v in params]
    if spec.family == "knn" and args_style == 2 and spec.params and \
            spec.params[0][0] == "n_neighbors":  # positional k
        parts = [repr(spec.params[0][1])] + [f"{k}={v!r}" for k, v in spec.params[1:]]
    args = ", ".join(parts)
    if import_style == 0:
        return [f"from {module} import {cls}"], f"{cls}({args})"
    if import_style == 1:
        return [f"from sklearn import {sub}"], f"{sub}.{cls}({args})"
    return [f"from {module} import {cls} as {alias}"], f"{alias}({args})"


_PREP_CTOR = {"standard": ("from sklearn.preprocessing import StandardScaler", "StandardScaler()"),
              "minmax": ("from sklearn.preprocessing import MinMaxScaler", "MinMaxScaler()")}


def _prep_ctor(prep: str) -> tuple[str, str]:
    if prep == "poly2":
        return ("from sklearn.preprocessing import PolynomialFeatures",
                "PolynomialFeatures(degree=2, include_bias=False)")
    if prep.startswith("pca"):
        return ("from sklearn.decomposition import PCA",
                f"PCA(n_components={int(prep[3:])}, random_state=0)")
    return _PREP_CTOR[prep]


def prep_lines(prep: str, variant: int) -> tuple[list[str], list[str]]:
    """Imports and lines that transform ``{Xtr}`` and ``{Xte}`` (variant 0: a library
    transformer, 1: written by hand or another call)."""
    if prep == "none":
        return [], []
    if prep == "max":
        if variant == 0:
            return [], ["{s0} = max(float({Xtr}.max()), 1.0)",
                        "{Xtr} = {Xtr} / {s0}", "{Xte} = {Xte} / {s0}"]
        return [], ["{s0} = float(np.max({Xtr})) or 1.0",
                    "{Xtr}, {Xte} = np.divide({Xtr}, {s0}), np.divide({Xte}, {s0})"]
    if variant == 0 or prep.startswith("pca") or prep == "poly2":
        imp, ctor = _prep_ctor(prep)
        if variant == 0:
            return [imp], [f"{{s0}} = {ctor}.fit({{Xtr}})",
                           "{Xtr} = {s0}.transform({Xtr})", "{Xte} = {s0}.transform({Xte})"]
        return [imp], [f"{{s0}} = {ctor}", "{Xtr} = {s0}.fit({Xtr}).transform({Xtr})",
                       "{Xte} = {s0}.transform({Xte})"]
    if prep == "standard":
        return [], ["{s0} = {Xtr}.mean(axis=0)", "{s1} = {Xtr}.std(axis=0)",
                    "{s1}[{s1} == 0] = 1.0",
                    "{Xtr} = ({Xtr} - {s0}) / {s1}", "{Xte} = ({Xte} - {s0}) / {s1}"]
    return [], ["{s0} = {Xtr}.min(axis=0)", "{s1} = {Xtr}.max(axis=0) - {s0}",
                "{s1}[{s1} == 0] = 1.0",
                "{Xtr} = ({Xtr} - {s0}) / {s1}", "{Xte} = ({Xte} - {s0}) / {s1}"]


def model_lines(spec: ModelSpec, variant: dict[str, int],
                task: str = "classification") -> tuple[list[str], list[str], bool]:
    """Imports, lines that set ``{pred}`` from ``{Xtr}, {ytr}, {Xte}``, and whether the lines
    include the preprocessing (a scikit-learn pipeline). ``task`` ``probability``: ``{pred}``
    is the probability of label 1 (``{ytr}`` holds 0.0 and 1.0)."""
    if spec.family in HAND or spec.family in REG_HAND or spec.family in PROB_HAND:
        return (*_HAND_RENDER[spec.family](dict(spec.params), variant["hand"]), False)
    imports, ctor = _ctor(spec, variant["import"], variant["args"])
    piped = bool(variant["pipeline"]) and spec.prep not in ("none", "max")
    if piped:
        imp, pctor = _prep_ctor(spec.prep)
        imports += [imp, "from sklearn.pipeline import make_pipeline"]
        ctor = f"make_pipeline({pctor}, {ctor})"
    fit = variant["fit"]
    if task == "probability":
        return imports, _proba_lines(spec, ctor, fit, piped), piped
    if fit == 2 and spec.family in LINEAR and not piped:
        lines = [f"{{model}} = {ctor}", "{model}.fit({Xtr}, {ytr})",
                 "{pred} = {model}.classes_[np.argmax({model}.decision_function({Xte}), "
                 "axis=1)]"]
    elif fit == 2 and spec.family in REG_LINEAR and not piped:
        lines = [f"{{model}} = {ctor}", "{model}.fit({Xtr}, {ytr})",
                 "{pred} = {Xte} @ {model}.coef_ + {model}.intercept_"]
    elif fit == 1:
        lines = [f"{{pred}} = {ctor}.fit({{Xtr}}, {{ytr}}).predict({{Xte}})"]
    else:
        lines = [f"{{model}} = {ctor}", "{model}.fit({Xtr}, {ytr})",
                 "{pred} = {model}.predict({Xte})"]
    return imports, lines, piped


def _proba_lines(spec: ModelSpec, ctor: str, fit: int, piped: bool) -> list[str]:
    """A scikit-learn classifier's probability of label 1, in three spellings."""
    if fit == 1:
        return [f"{{pred}} = {ctor}.fit({{Xtr}}, {{ytr}}).predict_proba({{Xte}})[:, -1]"]
    lines = [f"{{model}} = {ctor}", "{model}.fit({Xtr}, {ytr})"]
    if fit == 2 and spec.family == "logreg" and not piped:  # binary: expit of the decision
        return lines + ["{pred} = 1.0 / (1.0 + np.exp(-{model}.decision_function({Xte})))"]
    if fit == 2:
        return lines + ["{t6} = list({model}.classes_).index(1)",
                        "{pred} = {model}.predict_proba({Xte})[:, {t6}]"]
    return lines + ["{pred} = {model}.predict_proba({Xte})[:, 1]"]


def _hknn(p: dict, v: int) -> tuple[list[str], list[str]]:
    k = p["k"]
    if v == 0:
        return [], [
            "{t0} = np.unique({ytr})", "{t1} = np.searchsorted({t0}, {ytr})", "{pred} = []",
            "for {t2} in range(0, len({Xte}), 250):",
            "    {t3} = {Xte}[{t2}:{t2} + 250]",
            "    {t4} = ({t3} ** 2).sum(1)[:, None] - 2 * {t3} @ {Xtr}.T + "
            "({Xtr} ** 2).sum(1)[None, :]",
            f"    {{t5}} = np.argsort({{t4}}, axis=1, kind=\"stable\")[:, :{k}]",
            "    for row in {t1}[{t5}]:",
            "        {pred}.append({t0}[np.bincount(row, minlength=len({t0})).argmax()])"]
    return ["from collections import Counter"], [
        "{pred} = []", "for {t2} in {Xte}:",
        "    {t4} = np.sqrt((({Xtr} - {t2}) ** 2).sum(axis=1))",
        f"    {{t3}} = Counter({{ytr}}[np.argsort({{t4}}, kind=\"stable\")[:{k}]].tolist())",
        "    {t1} = max({t3}.values())",
        "    {pred}.append(min(lab for lab, c in {t3}.items() if c == {t1}))"]


def _hcentroid(p: dict, v: int) -> tuple[list[str], list[str]]:
    if v == 0:
        return [], [
            "{t0} = np.unique({ytr})",
            "{t1} = np.stack([{Xtr}[{ytr} == c].mean(axis=0) for c in {t0}])",
            "{t2} = (({Xte}[:, None, :] - {t1}[None, :, :]) ** 2).sum(axis=2)",
            "{pred} = {t0}[{t2}.argmin(axis=1)]"]
    return [], [
        "{t0} = {{}}", "for lab in sorted(set({ytr}.tolist())):",
        "    {t0}[lab] = {Xtr}[{ytr} == lab].mean(axis=0)",
        "{t1} = sorted({t0})",
        "{t2} = np.column_stack([((({Xte} - {t0}[lab]) ** 2).sum(axis=1)) for lab in {t1}])",
        "{pred} = [{t1}[j] for j in np.argmin({t2}, axis=1)]"]


def _hsoftmax(p: dict, v: int) -> tuple[list[str], list[str]]:
    lr, epochs, l2 = p["lr"], p["epochs"], p["l2"]
    if v == 0:
        return [], [
            "{t0} = np.unique({ytr})",
            "{t1} = ({ytr}[:, None] == {t0}[None, :]).astype(float)",
            "{t2} = np.zeros(({Xtr}.shape[1], len({t0})))", "{t3} = np.zeros(len({t0}))",
            f"for _ in range({epochs}):",
            "    {t4} = {Xtr} @ {t2} + {t3}",
            "    {t4} = np.exp({t4} - {t4}.max(axis=1, keepdims=True))",
            "    {t4} /= {t4}.sum(axis=1, keepdims=True)",
            "    {t5} = ({t4} - {t1}) / len({Xtr})",
            f"    {{t2}} -= {lr} * ({{Xtr}}.T @ {{t5}} + {l2} * {{t2}})",
            f"    {{t3}} -= {lr} * {{t5}}.sum(axis=0)",
            "{pred} = {t0}[np.argmax({Xte} @ {t2} + {t3}, axis=1)]"]
    return [], [
        "{t0} = sorted(set({ytr}.tolist()))",
        "{t1} = np.eye(len({t0}))[[{t0}.index(lab) for lab in {ytr}]]",
        "{t5} = np.hstack([{Xtr}, np.ones((len({Xtr}), 1))])",
        "{t2} = np.zeros(({t5}.shape[1], len({t0})))",
        f"for _ in range({epochs}):",
        "    {t3} = {t5} @ {t2}",
        "    {t3} = np.exp({t3} - {t3}.max(axis=1, keepdims=True))",
        "    {t3} = {t3} / {t3}.sum(axis=1, keepdims=True)",
        "    {t4} = {t5}.T @ ({t3} - {t1}) / len({t5})",
        f"    {{t4}}[:-1] += {l2} * {{t2}}[:-1]",
        f"    {{t2}} = {{t2}} - {lr} * {{t4}}",
        "{t3} = np.hstack([{Xte}, np.ones((len({Xte}), 1))]) @ {t2}",
        "{pred} = [{t0}[j] for j in {t3}.argmax(axis=1)]"]


def _hgnb(p: dict, v: int) -> tuple[list[str], list[str]]:
    eps = p["eps"]
    if v == 0:
        return [], [
            "{t0} = np.unique({ytr})",
            "{t1} = np.stack([{Xtr}[{ytr} == c].mean(axis=0) for c in {t0}])",
            f"{{t2}} = np.stack([{{Xtr}}[{{ytr}} == c].var(axis=0) for c in {{t0}}]) + "
            f"{eps} * {{Xtr}}.var(axis=0).max()",
            "{t3} = np.log(np.array([np.mean({ytr} == c) for c in {t0}]))",
            "{t4} = {t3}[None, :] - 0.5 * np.log(2 * np.pi * {t2}).sum(axis=1)[None, :] - "
            "0.5 * ((({Xte}[:, None, :] - {t1}[None]) ** 2) / {t2}[None]).sum(axis=2)",
            "{pred} = {t0}[{t4}.argmax(axis=1)]"]
    return [], [
        "{t0} = sorted(set({ytr}.tolist()))",
        f"{{t5}} = {eps} * {{Xtr}}.var(axis=0).max()", "{t4} = []",
        "for lab in {t0}:",
        "    {t1} = {Xtr}[{ytr} == lab]",
        "    {t2} = {t1}.var(axis=0) + {t5}",
        "    {t3} = np.log(len({t1}) / len({Xtr})) - 0.5 * np.sum(np.log(2 * np.pi * {t2}))",
        "    {t4}.append({t3} - 0.5 * ((({Xte} - {t1}.mean(axis=0)) ** 2) / {t2}).sum(axis=1))",
        "{pred} = [{t0}[j] for j in np.argmax(np.column_stack({t4}), axis=1)]"]


def _hridge(p: dict, v: int) -> tuple[list[str], list[str]]:
    lam = p["lam"]
    if v == 0:
        return [], [
            "{t0} = np.unique({ytr})",
            "{t1} = ({ytr}[:, None] == {t0}[None, :]).astype(float)",
            "{t2} = np.c_[{Xtr}, np.ones(len({Xtr}))]",
            f"{{t3}} = {lam} * np.eye({{t2}}.shape[1])", "{t3}[-1, -1] = 0.0",
            "{t4} = np.linalg.solve({t2}.T @ {t2} + {t3}, {t2}.T @ {t1})",
            "{pred} = {t0}[(np.c_[{Xte}, np.ones(len({Xte}))] @ {t4}).argmax(axis=1)]"]
    return [], [
        "{t0} = sorted(set({ytr}.tolist()))",
        "{t1} = np.array([[1.0 if lab == c else 0.0 for c in {t0}] for lab in {ytr}])",
        "{t2} = np.hstack([{Xtr}, np.ones((len({Xtr}), 1))])",
        "{t5} = np.eye({t2}.shape[1])", "{t5}[-1, -1] = 0.0",
        f"{{t4}} = np.linalg.inv({{t2}}.T @ {{t2}} + {lam} * {{t5}}) @ ({{t2}}.T @ {{t1}})",
        "{t3} = np.hstack([{Xte}, np.ones((len({Xte}), 1))]) @ {t4}",
        "{pred} = [{t0}[j] for j in np.argmax({t3}, axis=1)]"]


def _hridger(p: dict, v: int) -> tuple[list[str], list[str]]:
    """Closed-form ridge regression, the intercept not penalised."""
    lam = p["lam"]
    if v == 0:
        return [], [
            "{t2} = np.c_[{Xtr}, np.ones(len({Xtr}))]",
            f"{{t3}} = {lam} * np.eye({{t2}}.shape[1])", "{t3}[-1, -1] = 0.0",
            "{t4} = np.linalg.solve({t2}.T @ {t2} + {t3}, {t2}.T @ {ytr})",
            "{pred} = np.c_[{Xte}, np.ones(len({Xte}))] @ {t4}"]
    return [], [
        "{t2} = np.hstack([np.ones((len({Xtr}), 1)), {Xtr}])",
        "{t5} = np.eye({t2}.shape[1])", "{t5}[0, 0] = 0.0",
        f"{{t4}} = np.linalg.inv({{t2}}.T @ {{t2}} + {lam} * {{t5}}) @ ({{t2}}.T @ {{ytr}})",
        "{pred} = [float({t4}[0] + row @ {t4}[1:]) for row in {Xte}]"]


def _hknnr(p: dict, v: int) -> tuple[list[str], list[str]]:
    """k-NN regression: the mean of the k nearest training values."""
    k = p["k"]
    if v == 0:
        return [], [
            "{pred} = []",
            "for {t2} in range(0, len({Xte}), 250):",
            "    {t3} = {Xte}[{t2}:{t2} + 250]",
            "    {t4} = ({t3} ** 2).sum(1)[:, None] - 2 * {t3} @ {Xtr}.T + "
            "({Xtr} ** 2).sum(1)[None, :]",
            f"    {{t5}} = np.argsort({{t4}}, axis=1, kind=\"stable\")[:, :{k}]",
            "    {pred}.extend({ytr}[{t5}].mean(axis=1).tolist())"]
    return [], [
        "{pred} = []", "for {t2} in {Xte}:",
        "    {t4} = np.sqrt((({Xtr} - {t2}) ** 2).sum(axis=1))",
        f"    {{t3}} = np.argsort({{t4}}, kind=\"stable\")[:{k}]",
        "    {pred}.append(float(np.mean({ytr}[{t3}])))"]


def _hgd(p: dict, v: int) -> tuple[list[str], list[str]]:
    """Linear regression by full-batch gradient descent on the mean squared error."""
    lr, epochs, l2 = p["lr"], p["epochs"], p["l2"]
    if v == 0:
        return [], [
            "{t2} = np.zeros({Xtr}.shape[1])", "{t3} = 0.0",
            f"for _ in range({epochs}):",
            "    {t4} = {Xtr} @ {t2} + {t3} - {ytr}",
            f"    {{t2}} = {{t2}} - {lr} * ({{Xtr}}.T @ {{t4}} / len({{Xtr}}) + {l2} * {{t2}})",
            f"    {{t3}} = {{t3}} - {lr} * {{t4}}.mean()",
            "{pred} = {Xte} @ {t2} + {t3}"]
    return [], [
        "{t5} = np.hstack([{Xtr}, np.ones((len({Xtr}), 1))])",
        "{t2} = np.zeros({t5}.shape[1])",
        f"for _ in range({epochs}):",
        "    {t4} = {t5}.T @ ({t5} @ {t2} - {ytr}) / len({t5})",
        f"    {{t4}}[:-1] += {l2} * {{t2}}[:-1]",
        f"    {{t2}} = {{t2}} - {lr} * {{t4}}",
        "{pred} = np.hstack([{Xte}, np.ones((len({Xte}), 1))]) @ {t2}"]


def _hlogit(p: dict, v: int) -> tuple[list[str], list[str]]:
    """Logistic regression by full-batch gradient descent: the probability of label 1."""
    lr, epochs, l2 = p["lr"], p["epochs"], p["l2"]
    if v == 0:
        return [], [
            "{t2} = np.zeros({Xtr}.shape[1])", "{t3} = 0.0",
            f"for _ in range({epochs}):",
            "    {t4} = 1.0 / (1.0 + np.exp(-({Xtr} @ {t2} + {t3}))) - {ytr}",
            f"    {{t2}} = {{t2}} - {lr} * ({{Xtr}}.T @ {{t4}} / len({{Xtr}}) + {l2} * {{t2}})",
            f"    {{t3}} = {{t3}} - {lr} * {{t4}}.mean()",
            "{pred} = 1.0 / (1.0 + np.exp(-({Xte} @ {t2} + {t3})))"]
    return [], [
        "{t5} = np.hstack([{Xtr}, np.ones((len({Xtr}), 1))])",
        "{t2} = np.zeros({t5}.shape[1])",
        f"for _ in range({epochs}):",
        "    {t1} = 1 / (1 + np.exp(-{t5} @ {t2}))",
        "    {t4} = {t5}.T @ ({t1} - {ytr}) / len({t5})",
        f"    {{t4}}[:-1] += {l2} * {{t2}}[:-1]",
        f"    {{t2}} = {{t2}} - {lr} * {{t4}}",
        "{pred} = 1 / (1 + np.exp(-np.hstack([{Xte}, np.ones((len({Xte}), 1))]) @ {t2}))"]


def _hgnbp(p: dict, v: int) -> tuple[list[str], list[str]]:
    """Gaussian naive Bayes: the posterior of the last label (1); ``_hgnb``'s fit, its last
    line (the argmax) replaced."""
    head, body = _hgnb(p, v)
    if v == 0:
        return head, body[:-1] + ["{t4} = np.exp({t4} - {t4}.max(axis=1, keepdims=True))",
                                  "{pred} = {t4}[:, -1] / {t4}.sum(axis=1)"]
    return head, body[:-1] + [
        "{pred} = 1.0 / (1.0 + np.exp(np.clip({t4}[0] - {t4}[-1], -700, 700)))"]


_HAND_RENDER = {"hknn": _hknn, "hcentroid": _hcentroid, "hsoftmax": _hsoftmax,
                "hgnb": _hgnb, "hridge": _hridge,
                "hridger": _hridger, "hknnr": _hknnr, "hgd": _hgd,
                "hlogit": _hlogit, "hknnp": _hknnr, "hgnbp": _hgnbp}
