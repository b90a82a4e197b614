"""Untrusted text (student files, e-mail headers, leaderboard names) made harmless for the two
places it reaches a person outside HTML: a terminal and a spreadsheet.

One function each, used by every writer: :func:`terminal_safe` before a terminal line,
:func:`csv_safe` (or :func:`csv_writer`, which applies it to every cell) before a CSV cell.
HTML needs neither: the Jinja2 environment autoescapes.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Iterable
from pathlib import Path
from typing import IO, Any

__all__ = ["terminal_safe", "terminal_lines", "shown_entries", "csv_safe", "csv_writer",
           "csv_cell", "score_text", "FORMULA_PREFIXES"]

#: OWASP "CSV injection": a cell starting with one of these is run as a formula by spreadsheets
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
# bidirectional overrides and isolates (Trojan Source) reorder what the eye reads
_BIDI = {"\u061c", "\u200e", "\u200f", *map(chr, range(0x202A, 0x202F)),
         *map(chr, range(0x2066, 0x206A))}


def _escape(ch: str) -> str:
    code = ord(ch)
    if 0xDC80 <= code <= 0xDCFF:  # a byte that was not UTF-8 (surrogateescape): show the byte
        return f"\\x{code - 0xDC00:02x}"
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def _unsafe(ch: str) -> bool:
    # Cc: C0/C1 controls incl. ESC, CR, LF, BEL; Cs: lone surrogates (unprintable, and they
    # make print() raise); Zl/Zp: line breaks of their own; plus the bidi controls
    return unicodedata.category(ch) in ("Cc", "Cs", "Zl", "Zp") or ch in _BIDI


def terminal_safe(text: Any) -> str:
    """``text`` with every control character shown escaped, safe to print on one line.

    Escape sequences (``\\x1b]0;title\\x07``, clear-screen), carriage returns and new lines
    that could forge other lines, bidi overrides and undecodable bytes become visible
    backslash escapes; everything printable, any script included, is kept as it is.

    Examples
    --------
    >>> terminal_safe("ana\\x1b]0;pwned\\x07")
    'ana\\\\x1b]0;pwned\\\\x07'
    >>> terminal_safe("ștefan țurcanu")
    'ștefan țurcanu'
    """
    s = str(text)
    if s.isprintable():  # the common case, and fast
        return s
    return "".join(_escape(ch) if _unsafe(ch) else ch for ch in s)


def shown_entries(folder: str | Path) -> dict[str, Path]:
    """The entries of ``folder`` by their names as :func:`terminal_safe` shows them: how a
    name stored or printed as shown (bytes that are not UTF-8, a bidi mark escaped), which
    names no file, is found on disk again. Empty when the folder cannot be listed."""
    try:
        return {terminal_safe(c.name): c for c in Path(folder).iterdir()}
    except OSError:
        return {}


def terminal_lines(text: Any) -> str:
    """A message of several lines for the terminal: each line ``terminal_safe`` (the line
    breaks are the caller's; a student's name or file name quoted in a line cannot add one).
    """
    return "\n".join(terminal_safe(line) for line in str(text).split("\n"))


def csv_safe(cell: Any) -> Any:
    """A CSV cell that no spreadsheet runs as a formula (OWASP): text starting with ``=``,
    ``+``, ``-``, ``@``, tab or CR gets a leading ``'``; numbers, and text that is a plain
    number such as ``-0.5``, are kept as they are.

    Examples
    --------
    >>> csv_safe("=cmd|' /C calc'!A0")
    "'=cmd|' /C calc'!A0"
    >>> csv_safe("-0.5"), csv_safe(-0.5), csv_safe("ana")
    ('-0.5', -0.5, 'ana')
    """
    if not isinstance(cell, str) or not cell.startswith(FORMULA_PREFIXES):
        return cell
    if _NUMBER.fullmatch(cell):
        return cell
    return "'" + cell


_FORMULA_FIRST = frozenset(FORMULA_PREFIXES)  # all one character: a set lookup per cell


class _SafeWriter:
    """A ``csv.writer`` whose every cell goes through :func:`csv_safe`."""

    def __init__(self, fh: IO[str], **fmt: Any):
        self._w = csv.writer(fh, **fmt)

    @staticmethod
    def _safe(row: Iterable[Any]) -> list[Any]:
        # csv_safe only where it can change something: most cells are numbers or names
        return [csv_safe(c) if c.__class__ is not str or c[:1] in _FORMULA_FIRST else c
                for c in row]

    def writerow(self, row: Iterable[Any]) -> Any:
        return self._w.writerow(self._safe(row))

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        self._w.writerows(map(self._safe, rows))


def csv_writer(fh: IO[str], **fmt: Any) -> _SafeWriter:
    """``csv.writer(fh, **fmt)`` with :func:`csv_safe` applied to every cell it writes."""
    return _SafeWriter(fh, **fmt)


def csv_cell(value: Any, **fmt: Any) -> str:
    """The text :func:`csv_writer` writes for ``value`` as one cell of a row (made safe,
    quoted where needed), for writers that build a class's many lines from templates.

    Examples
    --------
    >>> csv_cell("ana"), csv_cell("=1+1"), csv_cell("a,b"), csv_cell(""), csv_cell(0.5)
    ('ana', "'=1+1", '"a,b"', '', '0.5')
    """
    buf = io.StringIO(newline="")
    w = csv.writer(buf, **fmt)
    w.writerow(["", csv_safe(value)])  # two cells: a lone empty cell is written as ""
    text = buf.getvalue()
    return text[1:len(text) - len(w.dialect.lineterminator)]


#: scores from this size on are written in exponent form (a regression column of 1e150 is a
#: valid submission: its mse of 1e300 printed as a 300-digit number)
_FIXED_UP_TO = 1e7


def score_text(value: float, digits: int = 4) -> str:
    """A score as tables show it: ``digits`` decimals, or exponent form for huge ones.

    Examples
    --------
    >>> score_text(0.91234567), score_text(3252.04712), score_text(1e300)
    ('0.9123', '3252.0471', '1.0000e+300')
    """
    return f"{value:.{digits}f}" if abs(value) < _FIXED_UP_TO else f"{value:.{digits}e}"
