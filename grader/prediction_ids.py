"""The ids of a ``submission.csv`` against the test ids: every problem in one sentence.

A student who wrote some ids twice and left others out hears about both at once (and about
ids that are not test ids), each with how many, a few examples and what to do, instead of
fixing one problem per batch run. :class:`grader.scoring.Scorer` raises the text as its
``OutputInvalid``; it is one line, since it is shown in grades.csv and on the student's page.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import pandas as pd

__all__ = ["EXAMPLES", "id_problems"]

#: how many example ids each problem names
EXAMPLES = 3


def _examples(items: Sequence[str], total: int, counts: Counter | None = None) -> str:
    shown = ", ".join(f"{i!r} ({counts[i]} times)" if counts else repr(i)
                      for i in items[:EXAMPLES])
    return shown + (f" and {total - EXAMPLES} more" if total > EXAMPLES else "")


def _float_id_fix(unknown: list[str], known: set[str]) -> str:
    """The fix when the unknown ids are test ids written as floats ('2200.0', '2.2e+03'):
    numpy.savetxt's default format, or an id column read as float."""
    def as_int(v: str) -> str | None:
        try:
            f = float(v)
        except ValueError:
            return None
        return str(int(f)) if f.is_integer() and abs(f) < 2**53 else None

    if not any(as_int(v) in known for v in unknown[:EXAMPLES]):
        return ""
    return (" as they are written there: these are whole numbers written as floats (write "
            "the ids as integers, e.g. ids.astype(int), or with numpy.savetxt(..., "
            "fmt=\"%d\") when the labels are integers too)")


def _leading_zero_fix(unknown: list[str], known: set[str]) -> str:
    """The fix when the unknown ids are test ids without their leading zeros ('151' for
    '0151'): data/test.csv read by pandas, which takes such ids for numbers."""
    stripped = {k.lstrip("0"): k for k in known if len(k) > 1 and k[0] == "0" and k.isdigit()}
    hit = next((v for v in unknown[:EXAMPLES] if v in stripped), None)
    if hit is None:
        return ""
    return (f": these are test ids without their leading zeros ({hit!r} for "
            f"{stripped[hit]!r}), lost when data/test.csv was read as numbers; read it with "
            "pd.read_csv(path, dtype={'id': str})")


def id_problems(ids: Sequence[str], expected: pd.Index) -> str | None:
    """Why the ids of a submission are not one row per test id, or None when they are.

    Parameters
    ----------
    ids : sequence of str
        The ``id`` column of ``submission.csv``, in file order.
    expected : pandas.Index
        The test ids (unique), in the order of ``data/test.csv``.

    Returns
    -------
    str or None
        ``"submission.csv lists ..."`` for one problem, or ``"submission.csv has 2 problems:
        1) ...; 2) ..."``: ids given more than once, ids that are not test ids, test ids
        missing, each with its count, up to :data:`EXAMPLES` examples and the fix.

    Examples
    --------
    >>> print(id_problems(["a", "a", "b"], pd.Index(["a", "b", "c"])))
    submission.csv has 2 problems: 1) it lists 1 id(s) more than once: 'a' (2 times); write \
one row per test id. 2) it misses 1 of 3 test ids: 'c'; write a row for every id of \
data/test.csv
    """
    counts = Counter(ids)
    dup = [i for i in counts if counts[i] > 1]  # first-appearance order
    known = set(expected)
    unknown = [i for i in counts if i not in known]
    missing = [i for i in expected if i not in counts]
    parts = []
    if dup:
        parts.append(f"lists {len(dup)} id(s) more than once: "
                     f"{_examples(dup, len(dup), counts)}; write one row per test id")
    if unknown:
        parts.append(f"has {len(unknown)} id(s) that are not test ids: "
                     f"{_examples(unknown, len(unknown))}; use the ids of data/test.csv"
                     + (_float_id_fix(unknown, known) or _leading_zero_fix(unknown, known)))
    if missing:
        parts.append(f"misses {len(missing)} of {len(expected)} test ids: "
                     f"{_examples(missing, len(missing))}; write a row for every id of "
                     "data/test.csv")
    if not parts:
        return None
    if len(parts) == 1:
        return f"submission.csv {parts[0]}"
    listed = ". ".join(f"{k}) it {p}" for k, p in enumerate(parts, 1))
    return f"submission.csv has {len(parts)} problems: {listed}"
