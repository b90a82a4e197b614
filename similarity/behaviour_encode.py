"""Predictions as arrays: class labels to integer codes, regression values to floats.

Labels come from CSV files written by students' programs and from the hidden labels, so the
same class may arrive as ``1``, ``1.0``, ``"1"`` or ``" 1 "``: they are one label here.
``None``, NaN and the empty string are a missing prediction (code ``-1``, value NaN).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Hashable, Sequence

import numpy as np

__all__ = ["BehaviourInputError", "LabelCodes", "label_key", "to_floats"]

MISSING = -1


class BehaviourInputError(ValueError):
    """Predictions or labels that the behavioural statistic cannot use (the message says why)."""


def label_key(x: object) -> Hashable | None:
    """The canonical form of one label: ints for integral numbers, floats, stripped strings.

    Returns ``None`` for a missing label (``None``, NaN, ``""``).
    """
    if x is None:
        return None
    if isinstance(x, bytes):
        x = x.decode("utf-8", "replace")
    if isinstance(x, str):
        s = x.strip()
        if not s:
            return None
        try:
            v = float(s)
        except ValueError:
            return s
        return _number_key(v) if math.isfinite(v) else (None if math.isnan(v) else s)
    if isinstance(x, (bool, np.bool_)):
        return int(x)
    if isinstance(x, numbers.Number):
        v = float(x)  # type: ignore[arg-type]
        return None if math.isnan(v) else _number_key(v)
    return str(x)


def _number_key(v: float) -> int | float:
    return int(v) if v.is_integer() else v


def _pyvalue(x: object) -> object:
    """A plain Python scalar (for the evidence shown to a TA), not a numpy one."""
    return x.item() if isinstance(x, np.generic) else x


class LabelCodes:
    """A growing vocabulary: canonical label -> code, and code -> the label as first seen."""

    def __init__(self) -> None:
        self.code_of: dict[Hashable, int] = {}
        self.labels: list[object] = []

    def _code(self, raw: object) -> int:
        key = label_key(raw)
        if key is None:
            return MISSING
        code = self.code_of.get(key)
        if code is None:
            code = self.code_of[key] = len(self.labels)
            self.labels.append(_pyvalue(raw))
        return code

    def encode(self, seq: Sequence, n: int, who: str) -> np.ndarray:
        """Codes (int32, ``-1`` for missing) of one run's ``n`` labels; ``who`` names it in errors."""
        try:
            length = len(seq)
        except TypeError:
            raise BehaviourInputError(f"{who}: predictions must be a sequence of labels, "
                                      f"got {type(seq).__name__}") from None
        if length != n:
            raise BehaviourInputError(
                f"{who}: {length} predictions for {n} test ids; give one label per test id, "
                "in the order of the hidden labels (None where a prediction is missing)")
        arr = np.asarray(seq) if not isinstance(seq, np.ndarray) else seq
        if arr.ndim == 1 and arr.dtype.kind in "biufU":
            # Few distinct values: canonicalise each once, then broadcast.
            uniq, inv = np.unique(arr, return_inverse=True)
            codes = np.fromiter((self._code(u) for u in uniq), np.int32, len(uniq))
            return codes[inv.reshape(-1)] if len(uniq) else np.zeros(0, np.int32)
        cache: dict[object, int] = {}
        out = np.empty(n, np.int32)
        for k, x in enumerate(seq):
            try:
                c = cache.get(x)
            except TypeError:  # unhashable: encode it without the cache
                c = None
                x = str(x)
            if c is None:
                c = cache[x] = self._code(x)
            out[k] = c
        return out


def to_floats(seq: Sequence, n: int, who: str) -> np.ndarray:
    """Regression values (float64, NaN for missing) of one run; errors name ``who``."""
    try:
        length = len(seq)
    except TypeError:
        raise BehaviourInputError(f"{who}: predictions must be a sequence of numbers") from None
    if length != n:
        raise BehaviourInputError(
            f"{who}: {length} predictions for {n} test ids; give one value per test id, "
            "in the order of the hidden labels (None where a prediction is missing)")
    arr = np.asarray(seq) if not isinstance(seq, np.ndarray) else seq
    if arr.ndim == 1 and arr.dtype.kind in "biuf":
        return arr.astype(np.float64)
    out = np.empty(n, np.float64)
    for k, x in enumerate(seq):
        if x is None or (isinstance(x, str) and not x.strip()):
            out[k] = np.nan
            continue
        try:
            out[k] = float(x)
        except (TypeError, ValueError):
            raise BehaviourInputError(
                f"{who}: prediction {x!r} at position {k} is not a number; a regression "
                "task needs numeric predictions (or None where one is missing)") from None
    return out
