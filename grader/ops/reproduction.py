"""Does a student's code reproduce the predictions they uploaded to Kaggle?

Both prediction sets are scored on the *same* hidden labels (all of them, not Kaggle's public
part), so the only legitimate source of difference is the randomness of training: weight
initialisation, data shuffling, dropout, non-deterministic GPU kernels. Two numbers capture
"the same method": the score each prediction set gets, and the share of test ids on which the
two predictions are identical.

Default tolerances (``DEFAULT_TOLERANCE``, ``DEFAULT_MIN_AGREEMENT``) and why:

* ``tolerance = 0.02`` — absolute, in the metric's units (two accuracy points). Retraining the
  same network with another seed moves test accuracy by a fraction of a point to about one
  point on test sets of a few thousand examples; 0.02 leaves room for that (about twice the
  usual spread) while a different model, more data or hand-edited predictions typically
  move it by more. For error metrics (mse, mae) choose a tolerance in their units.
* ``min_agreement = 0.80`` — re-runs of one stochastic model disagree mostly on the hard
  examples near the decision boundary, typically 3–15 % of them; a prediction file made by
  a different model of similar accuracy disagrees much more. Agreement catches the case the
  score cannot: a file with the same accuracy but from other code. Set it to None for
  regression metrics, where predictions are never exactly identical.

The check only *flags*; the instructor decides. The scorer is passed in (``score_fn``), so this
module never reads hidden labels.
"""

from __future__ import annotations

import csv
import difflib
import io
import json
import math
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from grader.errors import InputFileError

__all__ = [
    "DEFAULT_MIN_AGREEMENT",
    "DEFAULT_TOLERANCE",
    "ReproductionResult",
    "check_reproduction",
    "load_kaggle_predictions",
    "reproduction_options",
]

DEFAULT_TOLERANCE = 0.02
DEFAULT_MIN_AGREEMENT = 0.80
MAX_PREDICTIONS_BYTES = 50 * 1024 * 1024
_MAX_LISTED = 10


def reproduction_options(table: Any, text: str = "") -> tuple[dict[str, Any], list[str]]:
    """Check course.toml's ``[reproduction]`` table: ``tolerance`` (a number >= 0, in the
    metric's units) and ``min_agreement`` (a share from 0 to 1, or ``false`` to turn the
    agreement check off, as a regression course needs).

    Returns
    -------
    (options, problems)
        Keyword arguments for :func:`check_reproduction` from the valid keys, and one problem
        per mistake in course.toml's style (``course.toml:LINE  [reproduction] key = value``,
        then the rule on an indented line).
    """
    from grader.course import _line_of  # course.toml's own line finder (it imports us lazily)

    def line(key: str | None) -> str:
        found = _line_of(text, "reproduction", key)
        return f"course.toml:{found}" if found else "course.toml"

    if not isinstance(table, dict):
        return {}, [f"{line(None)}  [reproduction] must be a table\n"
                    "    write the keys under a [reproduction] line, e.g. tolerance = 0.02"]
    options: dict[str, Any] = {}
    problems: list[str] = []
    for key, value in table.items():
        shown = json.dumps(value, ensure_ascii=False, default=str)
        number = isinstance(value, int | float) and not isinstance(value, bool)
        if key == "tolerance":
            if number and value >= 0:
                options[key] = float(value)
                continue
            why = f"expected a number >= 0 in the metric's units, e.g. {DEFAULT_TOLERANCE}"
        elif key == "min_agreement":
            if value is False or (number and 0 <= value <= 1):
                options[key] = None if value is False else float(value)
                continue
            why = (f"expected a share from 0 to 1, e.g. {DEFAULT_MIN_AGREEMENT}, or false to "
                   "turn the agreement check off (regression)")
        else:
            close = difflib.get_close_matches(key, ("tolerance", "min_agreement"), n=1)
            why = "unknown key" + (f" (did you mean '{close[0]}'?)" if close else "") + \
                "; the keys are tolerance and min_agreement"
        problems.append(f"{line(key)}  [reproduction] {key} = {shown}\n    {why}")
    return options, problems


@dataclass(frozen=True)
class ReproductionResult:
    """The comparison of the sandboxed run's predictions with the Kaggle upload.

    Attributes
    ----------
    n : int
        Test ids compared (the union of both indexes).
    agreement : float
        Share of the ``n`` ids with identical predictions, in [0, 1]; an id missing from
        either side counts as a disagreement.
    missing_in_run, missing_in_kaggle : int
        Ids present on one side only.
    run_score, kaggle_score : float
        ``score_fn`` of each prediction set (NaN if it could not be scored).
    difference : float
        ``run_score - kaggle_score``.
    tolerance : float
    min_agreement : float or None
    flagged : bool
        True when ``|difference| > tolerance`` or ``agreement < min_agreement`` (or a score
        is NaN).
    message : str
        One line for grades.csv, the instructor summary and the student's page.
    """

    n: int
    agreement: float
    missing_in_run: int
    missing_in_kaggle: int
    run_score: float
    kaggle_score: float
    difference: float
    tolerance: float
    min_agreement: float | None
    flagged: bool
    message: str

    def as_dict(self) -> dict[str, object]:
        """Plain values for JSON, CSV and the store."""
        return asdict(self)


def _canonical(values: pd.Series) -> pd.Series:
    """Numbers as floats when every value is numeric, otherwise stripped strings."""
    numeric = pd.to_numeric(values, errors="coerce")
    if len(values) and numeric.notna().all():
        return numeric.astype(float)
    return values.astype(str).str.strip()


def _identical(a: pd.Series, b: pd.Series) -> np.ndarray:
    ca, cb = _canonical(a), _canonical(b)
    if ca.dtype == float and cb.dtype == float:
        return np.isclose(ca.to_numpy(), cb.to_numpy(), rtol=1e-9, atol=1e-12)
    return (ca.astype(str).to_numpy() == cb.astype(str).to_numpy())


def check_reproduction(run_predictions: pd.Series, kaggle_predictions: pd.Series,
                       score_fn: Callable[[pd.Series], float], *,
                       tolerance: float = DEFAULT_TOLERANCE,
                       min_agreement: float | None = DEFAULT_MIN_AGREEMENT
                       ) -> ReproductionResult:
    """Compare the sandboxed run's predictions with those the student uploaded to Kaggle.

    Parameters
    ----------
    run_predictions : pandas.Series
        Predictions of the graded run, indexed by test id.
    kaggle_predictions : pandas.Series
        The uploaded predictions, indexed by test id (see :func:`load_kaggle_predictions`).
    score_fn : callable
        Scores a prediction Series on the hidden labels (the course's metric); supplied by the
        scorer, so this function never sees the labels.
    tolerance : float, default=0.02
        Largest accepted ``|run_score - kaggle_score|``, in the metric's units.
    min_agreement : float or None, default=0.80
        Smallest accepted share of identical predictions; None disables the check.

    Returns
    -------
    ReproductionResult

    Examples
    --------
    >>> import pandas as pd
    >>> truth = pd.Series([0, 1, 1, 0], index=[1, 2, 3, 4])
    >>> acc = lambda p: float((p.reindex(truth.index) == truth).mean())
    >>> r = check_reproduction(pd.Series([0, 1, 1, 0], index=[1, 2, 3, 4]),
    ...                        pd.Series([0, 1, 1, 1], index=[1, 2, 3, 4]), acc)
    >>> r.agreement, r.difference, r.flagged
    (0.75, 0.25, True)
    """
    if not (tolerance >= 0):
        raise ValueError(f"tolerance must be >= 0, got {tolerance}")
    if min_agreement is not None and not 0 <= min_agreement <= 1:
        raise ValueError(f"min_agreement must be in [0, 1], got {min_agreement}")
    ids = run_predictions.index.union(kaggle_predictions.index)
    both = run_predictions.index.intersection(kaggle_predictions.index)
    same = int(_identical(run_predictions.loc[both], kaggle_predictions.loc[both]).sum()) \
        if len(both) else 0
    agreement = same / len(ids) if len(ids) else 0.0
    run_score, kaggle_score = float(score_fn(run_predictions)), float(score_fn(kaggle_predictions))
    difference = run_score - kaggle_score
    reasons: list[str] = []
    if math.isnan(difference):
        reasons.append("a score could not be computed")
    elif abs(difference) > tolerance + 1e-12:  # 1e-12: a difference "at" the limit passes
        reasons.append(f"score differs by {difference:+.4f} (tolerance ±{tolerance:.4f})")
    if min_agreement is not None and agreement < min_agreement:
        reasons.append(f"only {agreement:.1%} identical predictions (minimum "
                       f"{min_agreement:.0%})")
    flagged = bool(reasons)
    summary = (f"{agreement:.1%} identical predictions; score {run_score:.4f} (run) vs "
               f"{kaggle_score:.4f} (Kaggle upload), difference {difference:+.4f}")
    missing = len(ids) - len(both)
    if missing:
        summary += f"; {missing} ids on one side only"
    message = (f"NOT reproduced: {'; '.join(reasons)} — {summary}" if flagged
               else f"reproduced: {summary}")
    return ReproductionResult(
        n=len(ids), agreement=agreement,
        missing_in_run=len(kaggle_predictions.index.difference(run_predictions.index)),
        missing_in_kaggle=len(run_predictions.index.difference(kaggle_predictions.index)),
        run_score=run_score, kaggle_score=kaggle_score, difference=difference,
        tolerance=tolerance, min_agreement=min_agreement, flagged=flagged, message=message)


def _listed(items: list[str], total: int) -> list[str]:
    return items[:_MAX_LISTED] + ([f"... and {total - _MAX_LISTED} more"]
                                  if total > _MAX_LISTED else [])


def load_kaggle_predictions(path: str | Path, test_ids: Sequence[object] | pd.Index
                            ) -> pd.Series:
    """Read the predictions a student uploaded to Kaggle and check them against the test ids.

    Parameters
    ----------
    path : str or Path
        A CSV with a header and two columns: the test id, then the prediction (Kaggle's
        ``id,label`` or ``Id,Predicted``).
    test_ids : sequence
        The competition's test ids, in order.

    Returns
    -------
    pandas.Series
        Indexed by ``test_ids`` (same order, same type), named ``"label"``; integers when
        every prediction is an integer, floats when every one is a number, else strings.

    Raises
    ------
    InputFileError
        Listing every problem with its ``file:line``: not UTF-8, no header, a row without
        exactly two fields, an empty prediction, an id given twice, an id that is not a test
        id, test ids with no prediction.
    """
    p = Path(path)
    if not p.is_file():
        raise InputFileError(f"Kaggle predictions {str(p)!r} do not exist",
                             hint="attach kaggle_submission.csv to the submission e-mail")
    if p.stat().st_size > MAX_PREDICTIONS_BYTES:
        raise InputFileError(f"{p}: larger than {MAX_PREDICTIONS_BYTES >> 20} MiB; not a "
                             "predictions file", hint="it should hold one 'id,label' row "
                                                      "per test id")
    try:
        text = p.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InputFileError(f"{p}: not UTF-8 text", hint="upload the CSV exactly as it was "
                                                          "sent to Kaggle") from None
    by_text = {str(t).strip(): t for t in test_ids}
    reader = csv.reader(io.StringIO(text, newline=""))
    problems: list[str] = []
    values: dict[str, str] = {}
    first_line: dict[str, int] = {}
    unknown: list[str] = []
    header: list[str] | None = None
    swapped = False  # 'label,id' / 'Predicted,Id': read by the names, as the scorer does
    try:
        for row in reader:
            line = reader.line_num
            if not any(c.strip() for c in row):
                continue
            if header is None:
                header = row
                if row and row[0].strip() in by_text:
                    problems.append(f"{p}:{line}  the first row looks like data, not a "
                                    "header; the file must start with 'id,label'")
                    header = ["id", "label"]
                else:
                    names = [h.strip().lower() for h in row]
                    swapped = len(names) == 2 and names[1] == "id" and names[0] != "id"
                    continue
            if len(row) != 2:
                problems.append(f"{p}:{line}  {len(row)} fields; expected 2 (id, prediction)")
                continue
            key, value = (row[1].strip(), row[0].strip()) if swapped else \
                (row[0].strip(), row[1].strip())
            if key not in by_text:
                unknown.append(f"{p}:{line}  id {key!r} is not a test id")
                continue
            if key in first_line:
                problems.append(f"{p}:{line}  id {key!r} again (first on line "
                                f"{first_line[key]})")
                continue
            if not value:
                problems.append(f"{p}:{line}  id {key!r} has an empty prediction")
            first_line[key], values[key] = line, value
    except csv.Error as exc:
        problems.append(f"{p}:{reader.line_num}  not valid CSV: {exc}")
    if header is None:
        raise InputFileError(f"{p}: empty predictions file", hint="expected 'id,label' rows")
    problems += _listed(unknown, len(unknown))
    missing = [k for k in by_text if k not in values]
    if missing:
        problems.append(f"{p}  {len(missing)} of {len(by_text)} test ids have no prediction, "
                        f"e.g. {', '.join(missing[:5])}")
    if problems:
        raise InputFileError(f"Kaggle predictions {p} have {len(problems)} problem(s)",
                             problems=problems[: _MAX_LISTED * 2],
                             hint="the file must be exactly what was uploaded to Kaggle: "
                                  "a header, then one 'id,prediction' row per test id")
    raw = pd.Series([values[str(t).strip()] for t in test_ids],
                    index=pd.Index(list(test_ids)), name="label")
    numeric = pd.to_numeric(raw, errors="coerce")
    if len(raw) and numeric.notna().all():
        if (numeric == numeric.round()).all() and not raw.str.contains(r"[.eE]").any():
            return numeric.astype("int64")
        return numeric.astype(float)
    return raw
