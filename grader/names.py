"""Student ids: one rule, used by the submissions folder scan, the roster and mail intake.

An id is what names a student's folder under ``submissions/`` and ``runs/``: letters of any
script (NFC-normalised, so ``ș`` is one letter however it was typed), digits, ``.``, ``_`` and
``-``, starting with a letter or a digit. White space in a name becomes ``_`` (Moodle's
"download all submissions" writes ``Ștefan Țurcanu_123_assignsubmission_file_``). Anything
else (``/``, control characters, bytes that are not UTF-8) is no id; such an entry gets a
safe stand-in id from :func:`stand_in_id` so that its rejection can be reported.
"""

from __future__ import annotations

import hashlib
import os
import re
import unicodedata

from diagnostics.text import terminal_safe

__all__ = ["ID_RULE", "MAX_ID_CHARS", "normalize_id", "id_problem", "is_student_id",
           "stand_in_id", "undecodable"]

MAX_ID_CHARS = 100
#: a file name is at most 255 bytes on Linux: 100 letters of a non-Latin script can exceed it
MAX_ID_BYTES = 200
#: the rule, as error messages state it
ID_RULE = ("letters of any alphabet, digits, '.', '_' and '-', starting with a letter or a "
           f"digit, at most {MAX_ID_CHARS} characters")
_EXTRA = frozenset("._-")
#: Romanian s/t with a cedilla (legacy encodings such as cp1250, old keyboards) -> the
#: standard letters with a comma below, which look the same on screen
CEDILLA_TO_COMMA = str.maketrans({"ş": "ș", "Ş": "Ș", "ţ": "ț", "Ţ": "Ț"})


def normalize_id(name: str) -> str:
    """The id a name stands for: NFC-normalised, outer space stripped, inner white space
    runs replaced by ``_``. Whether it is a valid id is :func:`id_problem`'s answer."""
    return re.sub(r"\s+", "_", unicodedata.normalize("NFC", name).strip())


def _allowed(ch: str, first: bool) -> bool:
    cat = unicodedata.category(ch)
    if cat[0] == "L" or cat == "Nd":
        return True
    # combining marks that NFC cannot fold into a letter (many scripts need them)
    return not first and (cat[0] == "M" or ch in _EXTRA)


def undecodable(name: str) -> bool:
    """True when ``name`` came from bytes that are not UTF-8 (surrogate escapes)."""
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def id_problem(sid: str) -> str | None:
    """Why ``sid`` (already :func:`normalize_id`-ed) is not a student id; None when it is.

    Examples
    --------
    >>> id_problem("ștefan_țurcanu") is None
    True
    >>> id_problem("ana/../x")
    "'/' is not allowed"
    """
    if not sid:
        return "the name is empty"
    if undecodable(sid):
        return "the name is not valid UTF-8"
    if len(sid) > MAX_ID_CHARS or len(sid.encode()) > MAX_ID_BYTES:
        return f"the name is longer than {MAX_ID_CHARS} characters"
    for i, ch in enumerate(sid):
        if not _allowed(ch, i == 0):
            where = " at the start" if i == 0 and ch in _EXTRA else ""
            return f"'{terminal_safe(ch)}' is not allowed{where}"
    return None


def is_student_id(sid: str) -> bool:
    """True when ``sid`` is a valid id as it stands (NFC form included)."""
    return sid == unicodedata.normalize("NFC", sid) and id_problem(sid) is None


def stand_in_id(name: str) -> str:
    """A valid, readable id for an entry whose name is none, unique to its bytes.

    The disallowed characters become ``_`` and a short hash of the original bytes is appended,
    so two odd names never meet, and no stand-in equals a student's id by accident.

    Examples
    --------
    >>> stand_in_id("ana (2)")
    'ana_2-bbddba'
    """
    raw = os.fsencode(name) if undecodable(name) else name.encode("utf-8")
    text = unicodedata.normalize("NFC", raw.decode("utf-8", "replace"))
    slug = "".join(ch if _allowed(ch, False) and ch not in "." else "_" for ch in text)
    slug = re.sub(r"_+", "_", slug).strip("_-")[:60] or "entry"
    if not _allowed(slug[0], True):
        slug = "entry_" + slug
    return f"{slug}-{hashlib.blake2b(raw, digest_size=3).hexdigest()}"
