"""Write a ``SimilarityResult`` as files: pairs.csv, pairs.json and clusters.csv.

pairs.csv is the whole ranking: a class's tens of thousands of reported pairs, written from a
line template rather than cell by cell (the pairs are read once into columns, each distinct
name, kind and reason is made safe and quoted once, and ``str.__mod__`` mapped over the zipped
columns makes every line without Python code per pair), byte for byte what ``csv_writer``
writes cell by cell (tested); pairs the template does not cover (behaviour, a number that is
not finite) take the per-pair writer. pairs.json is the evidence: the pairs it was gathered
for (``evidence_pairs``, see :func:`evidence_pairs`), each as ``Pair.to_dict()``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import IO

import numpy as np

from diagnostics.text import csv_cell, csv_writer
from similarity.engine import Pair, SimilarityResult
from similarity.options import COMPONENTS

__all__ = ["write_outputs", "PAIRS_COLUMNS"]

#: the final score first (code and behaviour combined), then the code evidence, then the
#: behavioural evidence from hidden-test predictions (empty without runs), then the verdict
PAIRS_COLUMNS = ("a", "b", "score", "code", *COMPONENTS, "comments", "behaviour", "same_wrong",
                 "both_wrong", "expected_same_wrong", "p_value", "explained_by", "kind",
                 "flagged", "reason", "estimated")
_SCORED = (*COMPONENTS, "comments")
_CSV_NUMBERS = ",".join(["%.4f"] * (2 + len(_SCORED)))  # score, code, components
_CSV_BEHAVIOUR = "%.4f,%s,%s,%.2f,%.3g,"  # + explained_by (a text cell)
_NO_BEHAVIOUR = "," * 5  # six empty cells
#: a pair without behaviour: a, b, the numbers, kind, flagged, reason, estimated
_CSV_LINE = f"%s,%s,{_CSV_NUMBERS},{_NO_BEHAVIOUR},%s,%s,%s,%s\r\n"
_BOOL = {True: "true", False: "false"}


def write_outputs(result: SimilarityResult, out_dir: Path) -> None:
    """Write ``pairs.csv``, ``pairs.json`` and ``clusters.csv`` into ``out_dir`` (created).

    Parameters
    ----------
    result : SimilarityResult
    out_dir : Path

    Notes
    -----
    ``pairs.csv`` has the columns ``PAIRS_COLUMNS``, every reported pair, highest score
    first; ``pairs.json`` holds the pairs with evidence (:func:`evidence_pairs`) with their
    fragments, shared comments and behaviour, plus the options, the notes, the clusters and
    the timings; ``clusters.csv`` has ``cluster,size,student`` (one row per member).
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    _write_csv_files(result, _Columns(result.pairs), out_dir)
    with open(out_dir / "pairs.json", "w", encoding="utf-8") as fh:
        # the C encoder (``json.dump`` and any indent take the pure-Python one)
        fh.write(json.dumps({"options": result.options.to_dict(), "clusters": result.clusters,
                             "notes": result.notes, "stats": result.stats,
                             "pairs": [p.to_dict() for p in evidence_pairs(result)]},
                            ensure_ascii=False))


def evidence_pairs(result: SimilarityResult) -> list[Pair]:
    """The pairs ``pairs.json`` lists, in the ranking's order: the best
    ``options.evidence_pairs`` (the ones evidence is gathered for, found or not), and any
    other pair that carries some (fragments, shared comments, or behavioural evidence spelled
    out for its page: a flagged pair in a batch, a pair kept from an earlier run).

    The ranking itself, every pair above the noise floor, is pairs.csv: listing each of its
    pairs here too made pairs.json 8 MB for IR-Plag's 467 files (20,000 pairs, nineteen in
    twenty with nothing that pairs.csv lacks) and gigabytes at 5,000 students, and writing it
    took half of the command's writing."""
    n = result.options.evidence_pairs
    return [p for i, p in enumerate(result.pairs)
            if i < n or p.fragments or p.shared_comments
            or (p.behaviour is not None and "description" in p.behaviour)]


def _write_csv_files(result: SimilarityResult, cols: _Columns, out_dir: Path) -> None:
    with open(out_dir / "pairs.csv", "w", newline="", encoding="utf-8") as fh:
        _write_pairs_csv(fh, result.pairs, cols)
    with open(out_dir / "clusters.csv", "w", newline="", encoding="utf-8") as fh:
        w = csv_writer(fh)
        w.writerow(("cluster", "size", "student"))
        for i, group in enumerate(result.clusters, 1):
            for s in group:
                w.writerow((i, len(group), s))


class _Memo(dict):
    """``fn(key)`` remembered per key, looked up as ``memo[key]``: a class has a few hundred
    names for its 10,000s of pairs."""

    def __init__(self, fn: Callable[[object], str]):
        super().__init__()
        self._fn = fn

    def __missing__(self, key: object) -> str:
        value = self[key] = self._fn(key)
        return value


class _Columns:
    """The pairs read once, as columns, for pairs.csv's line template.

    ``numbers`` holds score, code and the scored components (None if a pair lacks one or
    holds something else); ``plain`` marks the pairs whose numbers are all finite and who
    have no behaviour: the ones the template writes."""

    def __init__(self, pairs: Sequence[Pair]):
        self.a = [p.a for p in pairs]
        self.b = [p.b for p in pairs]
        self.kind = [p.kind for p in pairs]
        self.reason = [p.reason for p in pairs]
        self.flagged = [_BOOL[bool(p.flagged)] for p in pairs]
        self.estimated = [_BOOL[bool(p.estimated)] for p in pairs]
        self.numbers: list[list[float]] | None
        try:
            self.numbers = [[p.score for p in pairs], [p.code for p in pairs],
                            *([p.components[c] for p in pairs] for c in _SCORED)]
            ok = np.isfinite(np.array(self.numbers, dtype=float)).all(axis=0)
        except (KeyError, TypeError, ValueError):
            self.numbers, ok = None, np.zeros(len(pairs), dtype=bool)
        self.plain = ok & np.array([p.behaviour is None for p in pairs], dtype=bool)

    def lines(self, template: str, *columns: Iterable) -> list:
        """``template % row`` for every row of ``columns`` (this table's, made text, in the
        template's order); only the ``plain`` rows are meaningful."""
        if self.numbers is None:
            return [None] * len(self.a)
        return list(map(template.__mod__, zip(*columns)))


def _csv_row(p: Pair) -> list:
    """One pair's cells, as the generic (cell by cell) writer takes them."""
    b = p.behaviour or {}
    return [p.a, p.b, f"{p.score:.4f}", f"{p.code:.4f}",
            *(f"{p.components[c]:.4f}" for c in _SCORED),
            *([f"{b['behaviour']:.4f}", b["same_wrong"], b["both_wrong"],
               f"{b['expected']:.2f}", f"{b['p_value']:.3g}", b["explained_by"]]
              if b else ["", "", "", "", "", ""]),
            p.kind, "true" if p.flagged else "false", p.reason,
            "true" if p.estimated else "false"]


def _csv_line(p: Pair, cell: _Memo) -> str | None:
    """One pair's line (a pair with behaviour), or None where a number is not plain (not a
    number, or -inf, which ``csv_safe`` marks as text): the generic writer writes it."""
    b = p.behaviour
    try:
        nums = _CSV_NUMBERS % (p.score, p.code, *[p.components[c] for c in _SCORED])
        beh = (_CSV_BEHAVIOUR % (b["behaviour"], b["same_wrong"], b["both_wrong"],
                                 b["expected"], b["p_value"]) + cell[b["explained_by"]]
               if b else _NO_BEHAVIOUR)
    except (TypeError, ValueError, KeyError):
        return None
    if "-i" in nums or "-i" in beh:
        return None
    return (f"{cell[p.a]},{cell[p.b]},{nums},{beh},{cell[p.kind]},"
            f"{_BOOL[bool(p.flagged)]},{cell[p.reason]},{_BOOL[bool(p.estimated)]}\r\n")


def _write_pairs_csv(fh: IO[str], pairs: Sequence[Pair], cols: _Columns) -> None:
    """Every cell through ``csv_safe`` (submission names come from students), byte for byte
    as ``csv_writer`` writes it."""
    w = csv_writer(fh)
    w.writerow(PAIRS_COLUMNS)
    cell = _Memo(csv_cell)
    safe = cell.__getitem__
    lines = cols.lines(_CSV_LINE, map(safe, cols.a), map(safe, cols.b),
                       *(cols.numbers or ()), map(safe, cols.kind), cols.flagged,
                       map(safe, cols.reason), cols.estimated)
    start = 0
    for i in np.flatnonzero(~cols.plain).tolist():
        line = _csv_line(pairs[i], cell)
        if line is None:
            fh.writelines(lines[start:i])
            w.writerow(_csv_row(pairs[i]))
            start = i + 1
        else:
            lines[i] = line
    fh.writelines(lines[start:])
