"""Spreadsheet mistakes in the course's own CSV files, found before any run.

An instructor who prepares ``data/`` and ``hidden/`` in Excel gets files that the grader's
lenient reader copes with but students' programs do not: columns with no name (trailing
separators), rows of empty cells, header names with a space around them ('label ' is not
'label' to pandas), numbers written with a decimal comma or a thousands separator ('1,595',
'2,395.42'). Each became every student's crash, or a hidden label quoted in students'
messages; now each is a problem naming the file, the line and the fix. Things most students
live with are notes instead: a byte-order mark, blank lines (pandas skips them; ``csv.reader``
gives an empty row), and ids with leading zeros.
"""

from __future__ import annotations

import csv
import math
import re
from pathlib import Path

__all__ = ["DECIMAL_COMMA", "EXCEL_ERRORS", "header_problems", "is_empty_row", "is_number", "number_problems", "row_problems",
           "file_notes", "blank_lines", "thousands_hint", "SAMPLE_ROWS"]

#: what a spreadsheet writes where a formula failed: never a label or a feature
EXCEL_ERRORS = frozenset({"#N/A", "#VALUE!", "#DIV/0!", "#REF!", "#NAME?", "#NUM!", "#NULL!",
                          "#SPILL!", "#CALC!"})
#: rows of each file read for the number formats (the whole file for empty rows and labels)
SAMPLE_ROWS = 500
DECIMAL_COMMA = re.compile(r"^[+-]?\d+,\d+([eE][+-]?\d+)?$")
_THOUSANDS = re.compile(r"^[+-]?\d{1,3}([,.]\d{3})+([.,]\d+)?$")
_LEADING_ZERO = re.compile(r"^0\d+$")


def header_problems(header: list[str], course_file: str) -> list[str]:
    """Unnamed columns and names with spaces around them, as ``file:1`` problems."""
    problems = []
    unnamed = [i + 1 for i, h in enumerate(header) if not h.strip()]
    if unnamed:
        trailing = unnamed == list(range(len(header) - len(unnamed) + 1, len(header) + 1))
        problems.append(
            f"{course_file}:1  {len(unnamed)} column(s) with no name (column "
            f"{', '.join(map(str, unnamed[:5]))})" + (
                ": the header ends in empty cells, a spreadsheet's trailing separators; "
                "delete those columns (students' programs read them as NaN features)"
                if trailing else ": name every column"))
    spaced = [h for h in header if h.strip() and h != h.strip()]
    if spaced:
        problems.append(
            f"{course_file}:1  column name(s) with spaces around them: "
            f"{', '.join(map(repr, spaced[:5]))}; students' code looking up "
            f"{spaced[0].strip()!r} fails on {spaced[0]!r}: remove the spaces")
    return problems


def is_empty_row(row: list[str]) -> bool:
    """A row of separators only (``,,,,``): a spreadsheet's empty line, not a blank line."""
    return bool(row) and not any(c.strip() for c in row)


def number_problems(path: Path, course_file: str, skip: set[str]) -> list[str]:
    """Columns (other than ``skip``) whose numbers have a decimal comma or a thousands
    separator in the first ``SAMPLE_ROWS`` rows: students' programs read them as text."""
    with path.open(newline="", encoding="utf-8-sig") as f:
        reader = csv.reader(f)
        header = next(reader, None) or []
        first: dict[int, tuple[int, str]] = {}  # column -> (line, first such value)
        filled = [0] * len(header)  # non-empty cells
        numeric = [0] * len(header)  # cells that are numbers, either way written
        failed: dict[int, tuple[int, str]] = {}  # column -> a spreadsheet's error value
        for lineno, row in enumerate(reader, 2):
            if lineno > SAMPLE_ROWS + 1:
                break
            for i, cell in enumerate(row[: len(header)]):
                value = cell.strip()
                if not value or header[i].strip() in skip:
                    continue
                filled[i] += 1
                if value in EXCEL_ERRORS:
                    failed.setdefault(i, (lineno, value))
                elif DECIMAL_COMMA.match(value) or _THOUSANDS.match(value) and "," in value:
                    numeric[i] += 1
                    first.setdefault(i, (lineno, value))
                elif is_number(value):
                    numeric[i] += 1
    errors = [f"{course_file}:{line}  {value!r} in column {header[i].strip()!r}: a "
              "spreadsheet's error value (a formula that failed); write the value itself"
              for i, (line, value) in sorted(failed.items())[:1]]
    # a column of numbers, some written with a comma: not a text column that holds "3,000"
    seen = {i: v for i, v in first.items() if numeric[i] >= 0.9 * (filled[i] - (i in failed))}
    if not seen:
        return errors
    cols = sorted(seen)
    line, value = seen[cols[0]]
    return errors + [f"{course_file}:{line}  {value!r} in column {header[cols[0]].strip()!r}"
            + (f" (and {len(cols) - 1} more column(s))" if len(cols) > 1 else "")
            + ": a number with a decimal comma or a thousands separator, which programs read "
              "as text; write plain numbers with a decimal point (3.14, 2395.42), e.g. "
              "export from a spreadsheet set to an English locale"]


def is_number(text: str) -> bool:
    """``text`` is a finite number as programs read it (``float``)."""
    try:
        return math.isfinite(float(text))
    except ValueError:
        return False


def row_problems(course_file: str, empty: list[int], bad_labels: list[tuple[int, str, str]],
                 metric: str | None) -> list[str]:
    """The rows of empty cells (their lines), the labels that are a spreadsheet's error value
    (``#N/A``), and, for a regression course (``metric``), the labels that are not numbers
    (line, id, label), as problems: first line and how many."""
    problems = []
    if empty:
        problems.append(f"{course_file}:{empty[0]}  an empty row (cells with nothing in "
                        "them, a spreadsheet's leftover line)"
                        + (f", and {len(empty) - 1} more: delete them" if len(empty) > 1
                           else ": delete it")
                        + " (programs read an empty row as an example with no id, label or "
                          "features)")
    errors = [b for b in bad_labels if b[2] in EXCEL_ERRORS]
    if errors:
        line, rid, lab = errors[0]
        problems.append(f"{course_file}:{line}  label {lab!r} of id {rid!r} is a spreadsheet's "
                        "error value (a formula that failed)"
                        + (f" ({len(errors) - 1} more like it)" if len(errors) > 1 else "")
                        + ": write the label itself (pandas reads #N/A as missing)")
    bad_labels = [b for b in bad_labels if b[2] not in EXCEL_ERRORS]
    if bad_labels:
        line, rid, lab = bad_labels[0]
        problems.append(f"{course_file}:{line}  label {lab!r} of id {rid!r} is not a number"
                        + (f" ({len(bad_labels) - 1} more like it)" if len(bad_labels) > 1
                           else "")
                        + f": {metric} needs numeric labels; write plain numbers with a "
                          "decimal point (2395.42, not 2,395.42 or 2395,42)")
    return problems


def thousands_hint(written: str) -> str:
    """The fix for a whole number written with a '.' thousands separator (``1.800``)."""
    meant = int(written.replace(".", ""))
    return (f" (if {written} was meant as {meant}, write {meant}: a decimal point is not a "
            "thousands separator)")


def file_notes(path: Path, course_file: str, ids: list[str]) -> list[str]:
    """Things students' programs survive but should be warned of: a UTF-8 byte-order mark
    (``csv`` with ``encoding="utf-8"`` names the first column '\\ufeffid'), and ids with
    leading zeros (pandas and spreadsheets read '0151' as 151, so predictions lose them)."""
    notes = []
    with path.open("rb") as f:
        if f.read(3) == b"\xef\xbb\xbf":
            notes.append(f"{course_file} starts with a UTF-8 byte-order mark (a spreadsheet's "
                         "'CSV UTF-8'): pandas skips it, but a program reading the file with "
                         "open() and csv sees its first column as '\\ufeffid'; save it as "
                         "plain UTF-8 CSV")
    blank = blank_lines(path)
    if blank:
        notes.append(f"{course_file}:{blank[0]} is a blank line"
                     + (f" ({len(blank)} in all)" if len(blank) > 1 else "")
                     + ": pandas and numpy skip it, but a program reading the file with "
                       "Python's csv module gets an empty row there, and its row[0] fails; "
                       "delete the blank lines")
    zeros = [i for i in ids if _LEADING_ZERO.match(i)]
    if zeros:
        notes.append(f"{course_file} has {len(zeros)} id(s) with leading zeros, e.g. "
                     f"{zeros[0]!r}: pandas and spreadsheets read them as numbers "
                     f"({int(zeros[0])}), so the submissions of students who read the file "
                     "that way name ids that do not exist; write ids without leading zeros, "
                     "or tell students to read ids as text (pd.read_csv(..., "
                     "dtype={'id': str}))")
    return notes


def blank_lines(path: Path) -> list[int]:
    """The lines of ``path`` that are blank rows to Python's ``csv`` module (an empty list),
    not counting the end of the file's last line. Files are read in binary chunks first: a
    file with no two line ends in a row (nearly every one) is not parsed again; a blank line
    inside a quoted cell (a text course's review) is no row and is not counted."""
    tail = b""
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            seen = tail + chunk
            if b"\n\n" in seen or b"\n\r\n" in seen or b"\r\r" in seen \
                    or not tail and seen.startswith((b"\n", b"\r")):
                break
            tail = seen[-2:]
        else:
            return []
    blank = []
    with path.open(newline="", encoding="utf-8-sig", errors="replace") as f:
        reader = csv.reader(f)
        for row in reader:
            if not row:
                blank.append(reader.line_num)
    return blank
