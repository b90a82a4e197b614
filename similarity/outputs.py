"""Write a ``SimilarityResult`` as files: pairs.csv, pairs.json and clusters.csv.

A class's tens of thousands of reported pairs are written from line templates, not cell by
cell: each distinct name, kind and reason is made safe and quoted once (``csv_cell``), each
pair's numbers go through one ``%`` format. The bytes are exactly what ``csv_writer`` and
``json.dumps`` write (tested); a pair whose values the templates do not cover (evidence,
behaviour, a non-finite or negative-infinite number) is written by those generic writers.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from math import isfinite
from pathlib import Path
from typing import IO

from diagnostics.text import csv_cell, csv_writer
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
_BOOL = {True: "true", False: "false"}


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
    with open(out_dir / "pairs.csv", "w", newline="", encoding="utf-8") as fh:
        _write_pairs_csv(fh, result.pairs)
    with open(out_dir / "pairs.json", "w", encoding="utf-8") as fh:
        _write_pairs_json(fh, result)
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
    """One pair's line from the template, or None where a number is not plain (not a
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


def _write_pairs_csv(fh: IO[str], pairs: Sequence[Pair]) -> None:
    """Every cell through ``csv_safe`` (submission names come from students), byte for byte
    as ``csv_writer`` writes it, but a line per pair from pre-quoted texts and one format."""
    w = csv_writer(fh)
    w.writerow(PAIRS_COLUMNS)
    cell = _Memo(csv_cell)
    lines: list[str] = []
    for p in pairs:
        line = _csv_line(p, cell)
        if line is None:
            fh.writelines(lines)
            lines.clear()
            w.writerow(_csv_row(p))
        else:
            lines.append(line)
    fh.writelines(lines)


def _json_text(value: object) -> str:
    return json.dumps(value, ensure_ascii=False)


class _PairJson:
    """A pair as ``json.dumps(pair.to_dict(), ensure_ascii=False)`` reads back, from one
    template for the pairs with no evidence and no behaviour (all but the first few hundred
    of a class): its numbers as ``%.6f``, which is ``round(x, 6)`` exactly (the same
    correctly rounded decimal), without a ``round`` and a ``repr`` per number. The rest, and
    every pair if the template ever disagrees with ``Pair.to_dict`` on the first one it
    covers (a field added there), by ``json.dumps`` itself."""

    _TEMPLATE = ('{"a": %s, "b": %s, "score": %.6f, "kind": %s, "flagged": %s, "code": %.6f, '
                 '"reason": %s, "components": {%s}, "behaviour": null, "fragments": [], '
                 '"shared_comments": [], "estimated": %s}')

    def __init__(self) -> None:
        self._text = _Memo(_json_text)
        self._keys: tuple[str, ...] | None = None
        self._components = ""
        self._checked = False
        self._ok = True

    def __call__(self, p: Pair) -> str:
        if not self._ok or p.behaviour is not None or p.fragments or p.shared_comments:
            return json.dumps(p.to_dict(), ensure_ascii=False)
        keys = tuple(p.components)
        if keys != self._keys:
            self._keys = keys
            self._components = ", ".join(f"{_json_text(k)}: %.6f" for k in keys)
        text = self._text
        values = tuple(p.components.values())
        try:
            # a nan or inf anywhere makes the sum one: json writes NaN, Infinity
            plain = isfinite(p.score + p.code + sum(values))
            out = plain and self._TEMPLATE % (
                text[p.a], text[p.b], p.score, text[p.kind], _BOOL[bool(p.flagged)], p.code,
                text[p.reason], self._components % values, _BOOL[bool(p.estimated)])
        except (TypeError, ValueError):
            out = ""
        if not out:
            return json.dumps(p.to_dict(), ensure_ascii=False)
        if not self._checked:
            self._checked = True
            self._ok = json.loads(out) == p.to_dict()
            if not self._ok:
                return json.dumps(p.to_dict(), ensure_ascii=False)
        return out


def _write_pairs_json(fh: IO[str], result: SimilarityResult) -> None:
    """The document ``json.dumps`` writes (the C encoder: ``dump`` or any indent takes the
    pure-Python one, seconds for a class), with the pairs from :class:`_PairJson`."""
    head = json.dumps({"options": result.options.to_dict(), "clusters": result.clusters,
                       "notes": result.notes, "stats": result.stats, "pairs": []},
                      ensure_ascii=False)
    assert head.endswith("[]}")
    fh.write(head[:-2])
    pair_json = _PairJson()
    fh.write(", ".join(map(pair_json, result.pairs)))
    fh.write("]}")

