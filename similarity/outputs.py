"""Write a ``SimilarityResult`` as files: pairs.csv, pairs.json and clusters.csv.

A class's tens of thousands of reported pairs are written from line templates, not cell by
cell: the pairs are read once into columns (:class:`_Columns`), each distinct name, kind and
reason is made safe and quoted once, and ``str.__mod__`` mapped over the zipped columns makes
every line without Python code per pair. pairs.csv is byte for byte what ``csv_writer`` writes
cell by cell, and pairs.json reads back as every ``Pair.to_dict()`` (both tested). Pairs the
templates do not cover (behaviour, evidence, a number that is not finite, components other than
the engine's) take the per-pair writers.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import IO

import numpy as np

from diagnostics.text import csv_cell, csv_writer
from similarity.beside import beside
from similarity.engine import Pair, SimilarityResult
from similarity.options import COMPONENTS

__all__ = ["write_outputs", "PAIRS_COLUMNS"]

#: the final score first (code and behaviour combined), then the code evidence, then the
#: behavioural evidence from hidden-test predictions (empty without runs), then the verdict
PAIRS_COLUMNS = ("a", "b", "score", "code", *COMPONENTS, "comments", "behaviour", "same_wrong",
                 "both_wrong", "expected_same_wrong", "p_value", "explained_by", "kind",
                 "flagged", "reason")
_SCORED = (*COMPONENTS, "comments")
_CSV_NUMBERS = ",".join(["%.4f"] * (2 + len(_SCORED)))  # score, code, components
_CSV_BEHAVIOUR = "%.4f,%s,%s,%.2f,%.3g,"  # + explained_by (a text cell)
_NO_BEHAVIOUR = "," * 5  # six empty cells
#: a pair without behaviour: a, b, the numbers, kind, flagged, reason
_CSV_LINE = f"%s,%s,{_CSV_NUMBERS},{_NO_BEHAVIOUR},%s,%s,%s\r\n"
#: ``json.dumps(pair.to_dict())`` of a pair without behaviour or evidence; numbers as
#: ``%.6f``, which is ``round(x, 6)`` exactly (the same correctly rounded decimal), without a
#: ``round`` and a ``repr`` per number
_JSON_PAIR = ('{"a": %s, "b": %s, "score": %.6f, "kind": %s, "flagged": %s, "code": %.6f, '
              '"reason": %s, "components": {'
              + ", ".join(f"{json.dumps(c)}: %.6f" for c in _SCORED)
              + '}, "behaviour": null, "fragments": [], "shared_comments": [], '
              '"estimated": %s}')
_BOOL = {True: "true", False: "false"}
#: from this many pairs, pairs.json is written by a forked process while this one writes
#: pairs.csv (IR-Plag's 20,000 pairs: 0.18 s of writing in parallel)
_FORK_FROM = 5000
_FORKS = [0]  # outputs a forked writer shared (tests read it)


def write_outputs(result: SimilarityResult, out_dir: Path) -> None:
    """Write ``pairs.csv``, ``pairs.json`` and ``clusters.csv`` into ``out_dir`` (created).

    Parameters
    ----------
    result : SimilarityResult
    out_dir : Path

    Notes
    -----
    ``pairs.csv`` has the columns ``PAIRS_COLUMNS``, highest score first; ``pairs.json``
    holds the same pairs with fragments and shared comments, plus the options, the notes
    and the clusters; ``clusters.csv`` has ``cluster,size,student`` (one row per member).
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    cols = _Columns(result.pairs)
    # pairs.json by a forked writer while this process writes pairs.csv (``beside``)
    if len(result.pairs) >= _FORK_FROM and beside(
            lambda: _write_json_file(out_dir / "pairs.json", result, cols),
            lambda: _write_csv_files(result, cols, out_dir)) is not None:
        _FORKS[0] += 1
        return
    _write_csv_files(result, cols, out_dir)
    _write_json_file(out_dir / "pairs.json", result, cols)


def _write_json_file(path: Path, result: SimilarityResult, cols: _Columns) -> None:
    with open(path, "w", encoding="utf-8") as fh:
        _write_pairs_json(fh, result, cols)


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


def _json_text(value: object) -> str:
    return json.dumps(value, ensure_ascii=False)


class _Columns:
    """The pairs read once, as columns, for both files' templates.

    ``numbers`` holds score, code and the scored components (None if a pair lacks one or
    holds something else); ``plain`` marks the pairs whose numbers are all finite and who
    have no behaviour: the ones the templates write."""

    def __init__(self, pairs: Sequence[Pair]):
        self.a = [p.a for p in pairs]
        self.b = [p.b for p in pairs]
        self.kind = [p.kind for p in pairs]
        self.reason = [p.reason for p in pairs]
        self.flagged = [_BOOL[bool(p.flagged)] for p in pairs]
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
            p.kind, "true" if p.flagged else "false", p.reason]


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
            f"{_BOOL[bool(p.flagged)]},{cell[p.reason]}\r\n")


def _write_pairs_csv(fh: IO[str], pairs: Sequence[Pair], cols: _Columns) -> None:
    """Every cell through ``csv_safe`` (submission names come from students), byte for byte
    as ``csv_writer`` writes it."""
    w = csv_writer(fh)
    w.writerow(PAIRS_COLUMNS)
    cell = _Memo(csv_cell)
    safe = cell.__getitem__
    lines = cols.lines(_CSV_LINE, map(safe, cols.a), map(safe, cols.b),
                       *(cols.numbers or ()), map(safe, cols.kind), cols.flagged,
                       map(safe, cols.reason))
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


def _write_pairs_json(fh: IO[str], result: SimilarityResult, cols: _Columns) -> None:
    """The document ``json.dumps`` writes (the C encoder: ``dump`` or any indent takes the
    pure-Python one, seconds for a class); each pair with behaviour or evidence, or whose
    components are not the engine's in its order, by ``json.dumps(pair.to_dict())``, and
    every pair so if the template disagrees with ``Pair.to_dict`` on its first line (a field
    added there)."""
    pairs = result.pairs
    head = json.dumps({"options": result.options.to_dict(), "clusters": result.clusters,
                       "notes": result.notes, "stats": result.stats, "pairs": []},
                      ensure_ascii=False)
    assert head.endswith("[]}")
    text = _Memo(_json_text).__getitem__
    estimated = [_BOOL[bool(p.estimated)] for p in pairs]
    n = cols.numbers or [[]] * (2 + len(_SCORED))
    lines = cols.lines(_JSON_PAIR, map(text, cols.a), map(text, cols.b), n[0],
                       map(text, cols.kind), cols.flagged, n[1], map(text, cols.reason),
                       *n[2:], estimated)
    plain = cols.plain & np.array([not p.fragments and not p.shared_comments
                                   and tuple(p.components) == _SCORED for p in pairs],
                                  dtype=bool)
    first = np.flatnonzero(plain)
    if first.size and json.loads(lines[first[0]]) != pairs[first[0]].to_dict():
        plain[:] = False
    for i in np.flatnonzero(~plain).tolist():
        lines[i] = json.dumps(pairs[i].to_dict(), ensure_ascii=False)
    fh.write(head[:-2])
    fh.write(", ".join(lines))
    fh.write("]}")
