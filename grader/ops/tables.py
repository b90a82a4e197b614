"""One reader for every table an instructor gives gradebox (roster, adjustments, leaderboards,
final-grade components, decisions): the same CSV conventions everywhere.

What spreadsheets export, and what is accepted:

* encodings: UTF-8 with or without a BOM ("CSV UTF-8"), UTF-16 with a BOM ("Unicode text"),
  and, failing those, the Windows code page of Romanian Excel (cp1250) or Latin-1 — read with
  a note in :attr:`Table.notes`, since a wrong guess garbles names;
* separators ``,`` ``;`` (Excel in a locale with decimal commas) or tab, decided by the header
  row; quoted cells may hold the separator and line breaks;
* blank rows are skipped; cells are stripped; each row keeps its line number in the file.

Columns are found by :func:`resolve_columns` through loose aliases (``Nr. matricol``,
``E-mail``, ``Echipa Kaggle`` ...), so one export loads as a roster and as adjustments alike.
"""

from __future__ import annotations

import codecs
import csv
import difflib
import io
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from grader.errors import InputFileError
from grader.names import CEDILLA_TO_COMMA

__all__ = ["MAX_TABLE_BYTES", "Table", "read_table", "resolve_columns", "header_key",
           "parse_number", "did_you_mean"]

#: a class table is a few hundred rows; anything far larger is the wrong file
MAX_TABLE_BYTES = 20 * 1024 * 1024
_DELIMITERS = (",", ";", "\t")
#: byte-order marks, longest first (UTF-32's starts like UTF-16's)
_BOMS = ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
         (codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"),
         (codecs.BOM_UTF16_BE, "utf-16"))
#: 8-bit fallbacks, in order: Romanian Windows first, then Latin-1 (which decodes anything)
_FALLBACKS = (("cp1250", "Windows-1250 (Central European)"), ("latin-1", "Latin-1"))
#: Excel for Mac's "Comma Separated Values" ("CSV (Macintosh)"): Mac Roman, lines ended by CR
_MAC_FALLBACKS = (("mac_roman", "Mac Roman (Excel for Mac's 'Comma Separated Values')"),
                  *_FALLBACKS)


def mac_export(raw: bytes) -> bool:
    """Whether 8-bit text looks like Excel for Mac's CSV: lines ended by a lone CR (no LF at
    all), which no Windows or Unix export writes. The code page cannot be told from the bytes
    (Mac Roman's "é" is cp1250's "Ž"), the line ends can."""
    return b"\r" in raw and b"\n" not in raw


@dataclass(frozen=True)
class Table:
    """A user table as read by :func:`read_table`.

    Attributes
    ----------
    path : Path
        The file.
    header : list of str
        The header cells, stripped (a BOM never sticks to the first one).
    rows : list of (int, list of str)
        Every non-blank data row with the 1-based line of the file it starts on.
    encoding : str
        The codec the bytes were decoded with (``"utf-8"``, ``"utf-16"``, ``"cp1250"`` ...).
    delimiter : str
        The separator: ``","``, ``";"`` or ``"\\t"``.
    notes : list of str
        Things worth telling the instructor that are not errors (an 8-bit encoding guessed).
    """

    path: Path
    header: list[str]
    rows: list[tuple[int, list[str]]]
    encoding: str = "utf-8"
    delimiter: str = ","
    notes: list[str] = field(default_factory=list)

    def number(self, text: str) -> float:
        """A numeric cell; a decimal comma is accepted when ``,`` is not the separator.

        Raises
        ------
        ValueError
            When the cell is not a finite number.
        """
        return parse_number(text, decimal_comma=self.delimiter != ",")


def _decode(raw: bytes, p: Path, what: str) -> tuple[str, str, list[str]]:
    """The text of a table, the codec used, and a note when the codec was guessed."""
    for bom, codec in _BOMS:
        if raw.startswith(bom):
            try:
                return raw.decode(codec).lstrip("\ufeff"), codec, []
            except UnicodeDecodeError as exc:
                raise InputFileError(f"{p}: {what} file starts with a {codec} byte-order mark "
                                     f"but is not {codec} text ({exc.reason})",
                                     hint="save it again from the spreadsheet as 'CSV UTF-8'"
                                     ) from None
    try:
        return raw.decode("utf-8"), "utf-8", []
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\r" if mac_export(raw) else b"\n") + 1
    for codec, label in _MAC_FALLBACKS if mac_export(raw) else _FALLBACKS:
        try:
            text = raw.decode(codec)
        except UnicodeDecodeError:
            continue
        return text, codec, [f"{p}:{line}: {what} file is not UTF-8; read it as {label}. If a "
                             "name looks wrong, save the file as 'CSV UTF-8' and run again"]
    raise AssertionError("latin-1 decodes every byte")  # pragma: no cover


def _delimiter(text: str) -> str:
    """The separator that splits the header row into the most cells (``,`` on a tie)."""
    first = next((ln for ln in text.splitlines() if ln.strip()), "")

    def cells(d: str) -> int:
        return len(next(csv.reader([first], delimiter=d), []))

    return max(_DELIMITERS, key=cells)


def read_table(path: str | Path, what: str, *, extra_cells: bool = False) -> Table:
    """Read a small user CSV with the conventions of this module.

    Parameters
    ----------
    path : str or Path
        The CSV file.
    what : str
        What the file is ("roster", "adjustments", "leaderboard" ...), for the messages.
    extra_cells : bool, default=False
        Keep rows with more non-empty cells than the header (the caller reports them with its
        own problems); by default they are an error, since the cells beyond the header would
        be dropped without a word.

    Returns
    -------
    Table

    Raises
    ------
    InputFileError
        The file is missing, too large, empty, or not valid CSV, or a row has more cells
        than the header (naming the lines).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "adjustments.csv"
    >>> _ = p.write_bytes("\\ufeffstudent;points\\nana;1,5\\n".encode("utf-8"))
    >>> t = read_table(p, "adjustments")
    >>> t.header, t.rows, t.number(t.rows[0][1][1])
    (['student', 'points'], [(2, ['ana', '1,5'])], 1.5)
    """
    p = Path(path)
    if not p.is_file():
        raise InputFileError(f"{what} file {str(p)!r} does not exist",
                             hint=f"pass the path of the {what} CSV file")
    if p.stat().st_size > MAX_TABLE_BYTES:
        raise InputFileError(f"{p}: {what} file is larger than {MAX_TABLE_BYTES >> 20} MiB",
                             hint=f"is this really the {what}?")
    text, codec, notes = _decode(p.read_bytes(), p, what)
    if not text.strip():
        raise InputFileError(f"{p}: {what} file is empty", hint="it needs a header row")
    delimiter = _delimiter(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    header: list[str] | None = None
    rows: list[tuple[int, list[str]]] = []
    start = 1
    try:
        for cells in reader:
            line, start = start, reader.line_num + 1
            if not any(c.strip() for c in cells):
                continue
            cells = [c.strip() for c in cells]
            if header is None:
                header = cells
            else:
                rows.append((line, cells))
    except csv.Error as exc:
        raise InputFileError(f"{p}:{reader.line_num}: {what} file is not valid CSV: {exc}",
                             hint="check the quotes on that line") from None
    # A cell beyond the header's would be dropped without a word: in a comma-separated file
    # the usual cause is a decimal comma (7,5 read as 7, and 5 as the next column's value)
    width = len(header or [])
    long_rows = [f"{p.name}:{line}  {len(cells)} cells, the header has {width}: "
                 f"{delimiter.join(cells)!r}"
                 for line, cells in rows if any(c for c in cells[width:])]
    if long_rows and not extra_cells:
        hint = ("a decimal comma splits a number in two in a comma-separated file: write 7.5, "
                "quote it (\"7,5\"), or save the file with ';' as the separator"
                if delimiter == "," else "remove the extra cells, or name their columns")
        raise InputFileError(f"{p}: {len(long_rows)} row(s) of the {what} file have more cells "
                             "than its header", problems=long_rows[:20], hint=hint)
    return Table(p, header or [], rows, codec, delimiter, notes)


def header_key(text: str) -> str:
    """A header cell reduced for matching: ``"Nr. matricol"`` → ``"nr_matricol"``."""
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()
    return re.sub(r"[^a-z0-9]+", "_", bare).strip("_")


def resolve_columns(header: Sequence[str], aliases: dict[str, tuple[str, ...]],
                    required: Iterable[str], path: Path | str, what: str) -> dict[str, int]:
    """Map canonical column names to header positions; raise listing every problem.

    Parameters
    ----------
    header : sequence of str
        The table's header cells.
    aliases : dict
        Canonical name → accepted header keys (see :func:`header_key`).
    required : iterable of str
        The canonical names that must be present.

    Raises
    ------
    InputFileError
        A required column is missing or several columns mean the same one.
    """
    keys = [header_key(h) for h in header]
    found: dict[str, int] = {}
    problems: list[str] = []
    for canon, names in aliases.items():
        hits = [i for i, k in enumerate(keys) if k in names or k == canon]
        if len(hits) > 1:
            problems.append(f"{path}:1  columns {', '.join(repr(header[i]) for i in hits)} "
                            f"all mean '{canon}'; keep one")
        elif hits:
            found[canon] = hits[0]
    for canon in required:
        if canon not in found:
            close = difflib.get_close_matches(canon, keys, n=1, cutoff=0.6)
            hint = f" (did you mean {header[keys.index(close[0])]!r}?)" if close else ""
            problems.append(f"{path}:1  no '{canon}' column{hint}; accepted names: "
                            f"{', '.join(aliases[canon][:6])}")
    if problems:
        raise InputFileError(f"{what} file {path} has {len(problems)} problem(s) in its header",
                             problems=problems + [f"header seen: {', '.join(header)}"],
                             hint=f"the {what} file needs a header row naming its columns; "
                                  f"see {_DOCS.get(what, 'docs/operations.md')}")
    return found


#: where each table's columns are described (the rest: docs/operations.md)
_DOCS = {"decisions": 'README.md, "Reviewing similarity (TAs)" (grader review export writes '
                      "one to start from)"}


def parse_number(text: str, *, decimal_comma: bool = False) -> float:
    """A finite number from a cell (``"1.5"``; ``"1,5"`` too when ``decimal_comma``).

    Raises
    ------
    ValueError
        When the cell is empty, not a number, or infinite/NaN.
    """
    t = text.strip()
    if decimal_comma and "," in t and "." not in t and t.count(",") == 1:
        t = t.replace(",", ".")
    value = float(t)
    if value != value or value in (float("inf"), float("-inf")):
        raise ValueError(f"{text!r} is not a finite number")
    return value


def did_you_mean(value: str, choices: Iterable[str], *, quote: str = "'") -> str:
    """``" (did you mean 'x'?)"`` for the closest choice, or ``""``. A number that is a
    choice without its leading zeros (12 for 012: a spreadsheet read the id as a number) is
    that choice, whatever is closer in spelling (123)."""
    pool = {c.casefold(): c for c in choices}
    legacy = {c.translate(CEDILLA_TO_COMMA): c for c in pool.values()}.get(
        value.translate(CEDILLA_TO_COMMA))
    if legacy is not None and legacy != value:  # the same on screen: say what differs
        return (f" (did you mean {quote}{legacy}{quote}? it has ș/ț with a comma below where "
                "this has ş/ţ with a cedilla, from a legacy encoding such as cp1250: save "
                "the file as UTF-8 and retype the letters)")
    if value.isdigit():
        padded = [c for c in pool.values() if c.isdigit() and c.lstrip("0") == value.lstrip("0")
                  and c != value]
        if len(padded) == 1:
            return (f" (did you mean {quote}{padded[0]}{quote}? a spreadsheet drops leading "
                    "zeros: format the column as text)")
    close = difflib.get_close_matches(value.casefold(), list(pool), n=1, cutoff=0.6)
    return f" (did you mean {quote}{pool[close[0]]}{quote}?)" if close else ""
