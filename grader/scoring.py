"""Validate a run's ``submission.csv`` and score it on the hidden labels.

The test set is split once, seeded and stratified, into a public and a private part; both
scores are stored and the private one ranks (as on Kaggle).
"""

from __future__ import annotations

import csv
import io
import math
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

from grader.course import Course, read_id_column
from grader.course_tables import DECIMAL_COMMA, is_number
from grader.names import CEDILLA_TO_COMMA
from grader.prediction_ids import id_problems

#: name → (function(y_true, y_pred) -> float, greater is better)
METRICS: dict[str, tuple[Any, bool]] = {}


def _metric(name: str, greater_is_better: bool):
    def register(fn):
        METRICS[name] = (fn, greater_is_better)
        return fn
    return register


@_metric("accuracy", True)
def _accuracy(y, p):
    from sklearn.metrics import accuracy_score
    return float(accuracy_score(y, p))


@_metric("macro_f1", True)
def _macro_f1(y, p):
    from sklearn.metrics import f1_score
    return float(f1_score(y, p, average="macro", zero_division=0))


@_metric("mse", False)
def _mse(y, p):
    from sklearn.metrics import mean_squared_error
    return float(mean_squared_error(y.astype(float), p.astype(float)))


@_metric("mae", False)
def _mae(y, p):
    from sklearn.metrics import mean_absolute_error
    return float(mean_absolute_error(y.astype(float), p.astype(float)))


@_metric("kendall_tau", True)
def _kendall(y, p):
    """Kendall's tau-a, as the slides define it: (P - Q) / (n(n-1)/2), where a pair tied in
    either ranking counts as neither concordant nor discordant. scipy gives tau-b, which
    divides by the untied pairs instead (tied or rounded predictions scored higher: 0.894 for
    0.800); P - Q is taken back out of it."""
    from scipy.stats import kendalltau
    x, z = y.astype(float), p.astype(float)
    pairs = x.size * (x.size - 1) / 2
    tau_b = kendalltau(x, z).statistic if pairs else None
    if tau_b is None or math.isnan(tau_b):  # every value tied in one ranking: P = Q = 0
        return 0.0
    # tau_b = (P - Q) / sqrt((pairs - tied_x) (pairs - tied_z))
    return float(tau_b * math.sqrt((pairs - _tied_pairs(x)) * (pairs - _tied_pairs(z))) / pairs)


def _tied_pairs(v: np.ndarray) -> float:
    counts = np.unique(v, return_counts=True)[1].astype(float)
    return float((counts * (counts - 1) / 2).sum())


@_metric("roc_auc", True)
def _roc_auc(y, p):
    from sklearn.metrics import roc_auc_score
    classes = sorted(set(y), key=_natural)
    if len(classes) < 2:
        return 0.5
    # the positive class is the larger label in sorted order (1 of 0/1, "yes" of no/yes; 10 of
    # 9/10, numbers by value, as ``Scorer.positive_label`` tells the students)
    return float(roc_auc_score((y == classes[-1]).astype(int), p.astype(float)))


#: roc_auc far below random guessing (0.5) is the signature of a column holding the other
#: class's probability (predict_proba(X)[:, 0]): the student gets a hint, the score is kept.
#: The public AUC must be below ``SWAPPED_AUC`` and at least ``SWAPPED_AUC_SE`` standard errors
#: of random guessing below 0.5 (the Mann-Whitney null: sqrt((n_pos + n_neg + 1) /
#: (12 n_pos n_neg))), so a public part of a handful of ids never triggers it
SWAPPED_AUC = 0.3
SWAPPED_AUC_SE = 3.0


def greater_is_better(metric: str) -> bool:
    return METRICS[metric][1]


#: the longest id or label accepted in ``submission.csv`` (below the csv module's own limit,
#: 131,072, so a long field is our message, not a ``csv.Error``)
MAX_FIELD_CHARS = 1000


class OutputInvalid(Exception):
    """``submission.csv`` does not follow the run contract; the message is for the student."""


@dataclass
class Score:
    public: float
    private: float
    #: per-class precision/recall/F1/support and the confusion matrix (classification only);
    #: ``hints``: sentences for the student about a valid but suspicious output (e.g. roc_auc
    #: far below 0.5), made from the public part only, present only when there is one
    details: dict[str, Any] = field(default_factory=dict)


class Scorer:
    """Scores prediction tables for one course; never exposes the hidden labels."""

    def __init__(self, course: Course):
        self.course = course
        self.metric = course.metric
        self._fn, self.greater_is_better = METRICS[course.metric]

    @cached_property
    def truth(self) -> pd.Series:
        ids, labels = read_id_column(self.course.hidden_dir / "test_labels.csv", need_label=True,
                                     course_file="hidden/test_labels.csv")
        return pd.Series(labels, index=pd.Index(ids, name="id"), name="label")

    @cached_property
    def train_labels(self) -> set[str]:
        _, labels = read_id_column(self.course.data_dir / "train.csv", need_label=True,
                                   course_file="data/train.csv")
        return set(labels)

    @cached_property
    def public_mask(self) -> pd.Series:
        """True for the public part of the test set: seeded, stratified where possible."""
        from sklearn.model_selection import train_test_split

        ids = self.truth.index.to_numpy()
        strat = self.truth.to_numpy() if self.course.task == "classification" else None
        if strat is not None and pd.Series(strat).value_counts().min() < 2:
            strat = None
        frac = self.course.competition.public_fraction
        if len(ids) < 2:
            public = ids
        else:
            public, _ = train_test_split(ids, train_size=frac, random_state=self.course.seed,
                                         stratify=strat)
        return pd.Series(np.isin(ids, public), index=self.truth.index)

    def majority_score(self) -> float:
        """The private score of predicting the training labels' most frequent class for
        every test id (the mean of the training targets for regression): the default
        baseline. Ties between classes go to the first label in sorted order."""
        return self.majority_scores().private

    def majority_scores(self) -> Score:
        """The public and private score of :meth:`majority_score`'s prediction: students
        compare their public score with the baseline's public one until the release."""
        _, labels = read_id_column(self.course.data_dir / "train.csv", need_label=True,
                                   course_file="data/train.csv")
        if self.course.task == "regression":
            value = str(float(np.mean([float(x) for x in labels])))
        else:
            counts = Counter(labels)
            value = sorted(counts, key=lambda k: (-counts[k], k))[0]
        return self.score(pd.Series(value, index=self.truth.index))

    def parse(self, raw: bytes) -> pd.Series:
        """``submission.csv`` bytes → predictions indexed by id, or :class:`OutputInvalid`.

        The file is untrusted data: ``\\n``, ``\\r\\n`` and ``\\r`` line endings are all accepted,
        fields are bounded (:data:`MAX_FIELD_CHARS`), and every malformed input raises
        :class:`OutputInvalid` with a reason for the student, never anything else.
        """
        ids, labels = self._rows(raw)
        preds = pd.Series(labels, index=pd.Index(ids, name="id"), name="label")
        expected = self.truth.index
        why = id_problems(ids, expected)  # repeated, unknown and missing ids, all at once
        if why:
            raise OutputInvalid(why)
        preds = preds.reindex(expected)
        self._check_labels(preds)
        return preds

    def _rows(self, raw: bytes) -> tuple[list[str], list[str]]:
        """The (id, label) columns of ``submission.csv``, checked for shape and size."""
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise OutputInvalid(_not_utf8(raw, exc)) from None
        if "\0" in text:
            raise OutputInvalid(f"submission.csv contains a NUL byte (character "
                                f"{text.index(chr(0)) + 1}); write plain text")
        # newline=None: universal newlines, so \r-only and \r\n files read like \n ones
        reader = csv.reader(io.StringIO(text, newline=None))
        max_rows = 2 * len(self.truth) + 1000  # bounds memory; duplicates are reported below
        ids: list[str] = []
        labels: list[str] = []
        header: list[str] | None = None
        blank = 0
        try:
            for row in reader:
                _check_field_sizes(row, reader.line_num)
                if header is None:
                    header = row
                    # before the rows: a bad header explains them
                    id_col, label_col = _header_columns(header)
                    continue
                if not row:
                    # counted too: 64 MB of empty lines took the grader 30 s and 500 MB to
                    # read, for each student who wrote them (a csv written on Windows
                    # without newline="" has one after every row: within the bound)
                    blank += 1
                    if blank > max_rows:
                        raise OutputInvalid(f"submission.csv has more than {max_rows} empty "
                                            f"lines for {len(self.truth)} test ids; write one "
                                            "row per test id")
                    continue
                if len(row) != 2:
                    raise OutputInvalid(f"submission.csv line {reader.line_num} has {len(row)} "
                                        "fields; expected 2 (id,label)" + _split_number(row))
                if len(ids) >= max_rows:
                    raise OutputInvalid(f"submission.csv has more than {max_rows} rows for "
                                        f"{len(self.truth)} test ids; write one row per test id")
                ids.append(row[id_col].strip())
                labels.append(row[label_col].strip())
        except csv.Error as exc:
            line = max(reader.line_num, 1)
            if "field larger than field limit" in str(exc):
                raise OutputInvalid(_too_long(line)) from None
            raise OutputInvalid(f"submission.csv line {line} is not valid CSV ({exc}); "
                                "write it with Python's csv module or pandas.to_csv") from None
        if header is None:
            raise OutputInvalid("submission.csv is empty; write the header 'id,label' and one row "
                                "per test id")
        return ids, labels

    def _check_labels(self, preds: pd.Series) -> None:
        if self.course.task == "regression" or self.metric == "roc_auc":
            bad = preds[[not is_number(v) for v in preds]]
            if len(bad):
                raise OutputInvalid(f"submission.csv has {len(bad)} label(s) that are not numbers, "
                                    f"e.g. {_not_a_number(bad.iloc[0])} for id {bad.index[0]!r}; "
                                    f"{self._number_fix(bad.iloc[0])}")
            if self.metric == "roc_auc":
                out = preds[[not 0 <= float(v) <= 1 for v in preds]]
                if len(out):
                    raise OutputInvalid(
                        f"submission.csv has {len(out)} label(s) outside [0, 1], e.g. "
                        f"{out.iloc[0]!r} for id {out.index[0]!r}; the roc_auc metric takes the "
                        f"probability of the positive class ({self.positive_label!r}): write "
                        "predict_proba(X)[:, 1], not a score or decision_function")
            return
        allowed = self.train_labels
        bad = sorted(set(preds) - allowed)
        if bad:
            shown = ", ".join(map(repr, sorted(allowed)[:12]))
            as_int = _integral(bad[0])
            fix = (f"; write them as train.csv does ({as_int!r}, not {bad[0]!r}: e.g. "
                   "pred.astype(int))" if as_int in allowed else _lookalike(bad, allowed))
            raise OutputInvalid(f"submission.csv has label(s) not in the training labels, e.g. "
                                f"{bad[0]!r}; allowed: {shown}{fix}")

    def score(self, preds: pd.Series) -> Score:
        """Public and private score of validated predictions (from :meth:`parse`).

        A metric that cannot be computed on these predictions is :class:`OutputInvalid`
        (the student's ``invalid_output``), never an exception past the run.
        """
        try:
            return self._score(preds)
        except (ValueError, TypeError, ArithmeticError) as exc:
            raise OutputInvalid(f"submission.csv could not be scored with {self.metric}: "
                                f"{str(exc)[:200]}; check the labels' format") from None

    def evaluate(self, raw: bytes) -> Score:
        """:meth:`parse` then :meth:`score`: raises only :class:`OutputInvalid`."""
        return self.score(self.parse(raw))

    def _score(self, preds: pd.Series) -> Score:
        y = self.truth.to_numpy()
        p = preds.reindex(self.truth.index).to_numpy()
        mask = self.public_mask.to_numpy()
        # overflow is the student's (see _overflow), not a warning on the grader's terminal
        with np.errstate(over="ignore", invalid="ignore"):
            public = self._fn(y[mask], p[mask]) if mask.any() else float("nan")
            private = self._fn(y[~mask], p[~mask]) if (~mask).any() else public
        if not (math.isfinite(private) and (math.isfinite(public) or not mask.any())):
            raise OutputInvalid(self._overflow(p))
        details = self._details(y, p) if self.course.task == "classification" and \
            self.metric != "roc_auc" else {}
        if details and mask.any():
            # the public part's own matrix: what a student may see before the private release
            details["public"] = self._details(y[mask], p[mask])
        hints = self._hints(y[mask], public) + self._label_hints(p, y)
        if hints:
            details["hints"] = hints
        if len(p) and _one_answer(p, numbers=self.course.task == "regression"
                                  or self.metric == "roc_auc"):
            details["constant"] = str(p[0])  # one answer for every id: what a baseline does
        return Score(public, private, details)

    def _overflow(self, p: np.ndarray) -> str:
        """Why finite labels gave no finite score: numbers so large the metric overflows."""
        values = np.abs(p.astype(float))
        i = int(np.argmax(values))
        return (f"submission.csv's labels are too large to score with {self.metric}: "
                f"{p[i]} for id {self.truth.index[i]!r} (the metric overflows); a model that "
                "predicts numbers this large has diverged: scale the features, lower the "
                "learning rate, and check numpy.abs(pred).max() before writing")

    def _hints(self, y: np.ndarray, public: float) -> list[str]:
        """What a valid output's public score suggests the student check (the public part
        only: the student sees that score, and nothing of the private one leaks)."""
        if self.metric != "roc_auc" or not math.isfinite(public):
            return []
        classes = sorted(set(y), key=_natural)
        if len(classes) < 2:
            return []
        positive = classes[-1]
        n_pos = int((y == positive).sum())
        n_neg = len(y) - n_pos
        se = math.sqrt((n_pos + n_neg + 1) / (12 * n_pos * n_neg))  # AUC of random guessing
        if not (public < SWAPPED_AUC and public < 0.5 - SWAPPED_AUC_SE * se):
            return []
        return [f"an AUC of {public:.2f} is far below 0.5, the score of random guessing: your "
                f"column may hold the probability of the other class, not of {positive!r}; the "
                f"positive class is the last label in sorted order ({positive!r}). Write the "
                f"probability of {positive!r}, e.g. predict_proba(X)[:, -1] (scikit-learn "
                "sorts classes_ the same way), or 1 minus your column"]

    def _label_hints(self, p: np.ndarray, y: np.ndarray) -> list[str]:
        """roc_auc on hard 0/1 labels (``predict(X)``): valid, but the ranking AUC measures is
        mostly ties; the student is told to write probabilities (their own column only; not
        where the labels are right on every id, whose ties cost nothing)."""
        if self.metric != "roc_auc" or not len(p):
            return []
        hard = p.astype(float) + 0.0  # -0.0 is 0
        values = set(np.unique(hard).tolist())
        if not values <= {0.0, 1.0}:
            return []
        positive = self.positive_label
        if (hard == (y == positive)).all():
            return []
        return [f"your column holds only {' and '.join(f'{v:g}' for v in sorted(values))}: "
                f"class labels (e.g. predict(X)), not probabilities. roc_auc ranks the test ids "
                f"by your column, and labels tie most of them, which lowers the AUC; write the "
                f"probability of {positive!r}, e.g. predict_proba(X)[:, -1]"]

    @property
    def positive_label(self) -> str:
        """roc_auc's positive class: the last training label in sorted order (as ``_roc_auc``)."""
        return sorted(self.train_labels, key=_natural)[-1]

    def _number_fix(self, example: str) -> str:
        if self.metric == "roc_auc":
            return (f"write the probability of the positive class ({self.positive_label!r}) for "
                    "every test id, e.g. predict_proba(X)[:, 1]")
        if _parses(example):  # NaN or inf: a model or a division went wrong
            return ("every label must be a finite number: check numpy.isfinite(pred).all() "
                    "before writing and find where the NaN or inf comes from")
        if DECIMAL_COMMA.match(example):
            return (f"the metric is {self.metric}: write numbers with a decimal point "
                    f"({example.replace(',', '.')}), not a decimal comma (pandas.to_csv "
                    "writes points unless given decimal=',')")
        return (f"the metric is {self.metric}: write the predicted number for each test id, "
                "not a class name or text")

    def score_series(self, preds: pd.Series) -> Score:
        """Score a prediction Series (e.g. a reference model's) given as Python labels."""
        return self.score(preds.astype(str) if self.course.task == "classification"
                          and self.metric != "roc_auc" else preds)

    def _details(self, y: np.ndarray, p: np.ndarray) -> dict[str, Any]:
        from sklearn.metrics import confusion_matrix, precision_recall_fscore_support

        classes = sorted(self.train_labels | set(y), key=_natural)
        prec, rec, f1, sup = precision_recall_fscore_support(y, p, labels=classes, zero_division=0)
        return {
            "classes": classes,
            "per_class": [{"label": c, "precision": float(a), "recall": float(b), "f1": float(d),
                           "support": int(s)} for c, a, b, d, s in zip(classes, prec, rec, f1, sup,
                                                                      strict=True)],
            # rows: true label, columns: predicted label (scikit-learn's convention)
            "confusion": confusion_matrix(y, p, labels=classes).tolist(),
        }


def _lookalike(bad: list[str], allowed: set[str]) -> str:
    """The fix when a wrong label looks like a training label on screen: another Unicode
    form (NFD 'câine'), a cedilla for a comma below ('şoarece' for 'șoarece'), or case."""
    def key(label: str) -> str:
        return unicodedata.normalize("NFC", label).translate(CEDILLA_TO_COMMA).casefold()

    keys = {key(a): a for a in allowed}
    for label in bad:
        same = keys.get(key(label))
        if same is None:
            continue
        diff = next(((x, y) for x, y in zip(label, same, strict=False) if x != y), None)
        if unicodedata.normalize("NFC", label) == same:
            why = "the same letters in another Unicode form (decomposed, NFD)"
        elif diff and diff[0].casefold() == diff[1].casefold():
            why = f"a different case ({diff[0]!r} for {diff[1]!r})"
        else:
            a, b = next((x, y) for x, y in zip(unicodedata.normalize("NFC", label), same,
                                                strict=False) if x != y)
            why = (f"{a!r} (U+{ord(a):04X}, {unicodedata.name(a, '?').lower()}) where "
                   f"train.csv has {b!r} (U+{ord(b):04X}, {unicodedata.name(b, '?').lower()})")
        return (f"; {label!r} looks like the training label {same!r} but differs: {why}; "
                "write the labels exactly as train.csv has them (take them from the data, e.g. "
                "the classes your model learnt, instead of typing them)")
    return ""


_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")


def _not_utf8(raw: bytes, exc: UnicodeDecodeError) -> str:
    """Why ``submission.csv`` does not decode, naming UTF-16 and the line of a stray byte."""
    if raw.startswith(_UTF16_BOMS) or raw[:200].count(0) > len(raw[:200]) // 4:
        return ("submission.csv is UTF-16 text, not UTF-8; write it as UTF-8 (the default of "
                "pandas.to_csv: leave out encoding='utf-16', or use open(path, 'w', "
                "encoding='utf-8'))")
    line = raw[: exc.start].count(b"\n") + 1
    return (f"submission.csv is not UTF-8 text (byte {exc.start}, line {line}: a text in "
            "another encoding, e.g. cp1250); write it as UTF-8 (encoding='utf-8')")


def _split_number(row: list[str]) -> str:
    """The hint for a row of 3 fields that is an id and a number with a decimal comma
    (``151,174,2``, unquoted)."""
    if len(row) == 3 and row[1].strip().lstrip("+-").isdigit() and row[2].strip().isdigit():
        return (f": {row[1].strip()},{row[2].strip()} looks like a number with a decimal "
                "comma; write a decimal point (pandas.to_csv does unless given decimal=',')")
    return ""


def _header_columns(header: list[str]) -> tuple[int, int]:
    """The columns of the id and the label: the header must name ``id`` and ``label``, in
    either order and any case (``Id,Label`` as Kaggle writes it, ``label,id``: unambiguous, and
    once a whole grade lost on them); anything else is refused with its fix (pandas' unnamed
    index column, numpy.savetxt's '# ', another separator)."""
    names = [h.strip().lower() for h in header]
    if names == ["id", "label"]:
        return 0, 1
    if names == ["label", "id"]:
        return 1, 0
    raise _refused_header(header)


def _refused_header(header: list[str]) -> OutputInvalid:
    """Why a header is not ``id,label``, with the fix."""
    names = [h.strip() for h in header]
    shown = ",".join(header)[:80]
    if len(names) > 2 and names[0] in ("", "Unnamed: 0"):
        return OutputInvalid(f"submission.csv header is {shown!r}: its first column has no name, "
                             "the row index pandas writes by default; write the file with "
                             "to_csv(path, index=False) and the header 'id,label'")
    if names and names[0].startswith("#"):  # numpy.savetxt(..., header="id,label")
        return OutputInvalid(f"submission.csv header is {shown!r}; expected 'id,label': "
                             "numpy.savetxt starts its header with '# ' unless given "
                             "comments=\"\" (savetxt(path, rows, header=\"id,label\", "
                             "comments=\"\", ...))")
    sep = next((c for c in ";\t|" if len(names) == 1 and c in names[0]), None)
    if sep is not None:  # to_csv(sep=";"), a spreadsheet's export
        return OutputInvalid(f"submission.csv header is {shown!r}; expected 'id,label': the "
                             f"file is separated by {sep!r}, not commas (write it with "
                             "to_csv(path, index=False), whose sep=',' is the default)")
    if [n.lower() for n in names[:2]] == ["id", "label"] and not any(names[2:]):
        return OutputInvalid(f"submission.csv header is {shown!r}; expected 'id,label': it "
                             "ends in an empty column (a trailing comma)")
    return OutputInvalid(f"submission.csv header is {shown!r}; expected 'id,label'")


def _check_field_sizes(row: list[str], line: int) -> None:
    if any(len(f) > MAX_FIELD_CHARS for f in row):
        raise OutputInvalid(_too_long(line))


def _too_long(line: int) -> str:
    return (f"submission.csv line {line} has a field longer than {MAX_FIELD_CHARS:,} characters; "
            "ids and labels are short values")


def _integral(v: str) -> str | None:
    """'3.0' → '3' (a whole number written as a float, as numpy and torch print class ids)."""
    try:
        f = float(v)
    except ValueError:
        return None
    return str(int(f)) if math.isfinite(f) and f == int(f) else None


def _not_a_number(v: str) -> str:
    """A non-finite label as the student should read it (pandas writes NaN as an empty field)."""
    if v == "":
        return "an empty label (pandas writes NaN as an empty field)"
    try:
        return f"{v!r} ({'NaN' if math.isnan(float(v)) else 'infinite'})"
    except ValueError:
        return repr(v)


def _one_answer(p: np.ndarray, numbers: bool) -> bool:
    """Every label is the first one: numbers by value (``50``, ``50.0``, ``5e1`` and ``+50``
    are one answer), class labels as written (the training labels' spelling)."""
    if numbers:
        values = p.astype(float)
        return bool((values == values[0]).all())
    return bool((p == p[0]).all())


def _parses(v: str) -> bool:
    """Python reads ``v`` as a float (NaN and inf included); the empty field is pandas' NaN."""
    try:
        float(v)
    except ValueError:
        return v == ""
    return True


def _natural(label: str):
    return (0, float(label), "") if is_number(label) else (1, 0.0, label)
