"""The class roster: one row per student, the key that joins e-mails, Kaggle rows and grades.

``roster.csv`` columns (header names are matched loosely, see ``HEADER_ALIASES``):

``student``  the student id, also the folder name under ``submissions/`` (required)
``name``     full name, any order, with or without diacritics (required)
``email``    one or more addresses, separated by ``;`` or spaces (optional)
``kaggle``   the Kaggle team name or user name (optional)
``group``    the study group (optional)

Matching is deliberately conservative: each lookup tries a fixed ladder of ever looser
comparisons and stops at the first level that finds anything. One hit is a match and says
*how* it matched; several hits are reported as ambiguous and never guessed.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from email.utils import parseaddr
from pathlib import Path

from grader.errors import InputFileError
from grader.names import CEDILLA_TO_COMMA, ID_RULE, id_problem
from grader.ops import tables
from grader.ops.tables import resolve_columns

__all__ = [
    "HEADER_ALIASES",
    "Match",
    "Roster",
    "Student",
    "fold_text",
    "load_roster",
    "read_table",
]

# Student ids become folder names: one rule for the roster and intake (grader.names).

HEADER_ALIASES: dict[str, tuple[str, ...]] = {
    "student": ("student", "student_id", "studentid", "id", "sid", "username", "user",
                "matricol", "nr_matricol", "numar_matricol", "login"),
    "name": ("name", "full_name", "fullname", "student_name", "nume", "nume_prenume",
             "nume_si_prenume", "numele"),
    "email": ("email", "e_mail", "mail", "email_address", "emails", "adresa_email",
              "adresa_de_email"),
    "kaggle": ("kaggle", "kaggle_team", "team", "team_name", "teamname", "kaggle_user",
               "kaggle_username", "kaggle_name", "echipa", "echipa_kaggle"),
    "group": ("group", "grupa", "grupe", "section", "class", "seria"),
}



# --------------------------------------------------------------------------- normalisation


def _collapse(text: str) -> str:
    return " ".join(unicodedata.normalize("NFC", text).split())


def fold_text(text: str) -> str:
    """Case- and diacritics-insensitive form of ``text``.

    Both the comma-below letters (ș ț) and their legacy cedilla look-alikes (ş ţ) fold to
    plain ``s``/``t``; ă â î fold to ``a``/``i``.

    Examples
    --------
    >>> fold_text("  Ştefan  ȚURCANU ") == fold_text("stefan turcanu")
    True
    """
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(bare.casefold().split())


def _exact(text: str) -> str:
    return _collapse(text)


def _comma_variant(text: str) -> str:
    return _collapse(text).translate(CEDILLA_TO_COMMA)


def _alnum(text: str) -> str:
    return re.sub(r"[\W_]+", "", fold_text(text))


def _word_order(text: str) -> str:
    return " ".join(sorted(re.sub(r"[\W_]+", " ", fold_text(text)).split()))


Level = tuple[str, Callable[[str], str]]

# Ladders of comparisons, strictest first. The first level with any hit decides.
NAME_LEVELS: tuple[Level, ...] = (
    ("exact", _exact),
    ("cedilla/comma variant", _comma_variant),
    ("case/diacritics-insensitive", fold_text),
    ("word-order-insensitive", _word_order),
)
KAGGLE_LEVELS: tuple[Level, ...] = (
    ("exact", _exact),
    ("cedilla/comma variant", _comma_variant),
    ("case/diacritics-insensitive", fold_text),
    ("spacing/punctuation-insensitive", _alnum),
)


# --------------------------------------------------------------------------- data


@dataclass(frozen=True)
class Student:
    """One roster row."""

    id: str
    name: str
    emails: tuple[str, ...] = ()
    kaggle: str = ""
    group: str = ""
    line: int = 0


@dataclass(frozen=True)
class Match:
    """The outcome of one roster lookup.

    Attributes
    ----------
    student : str or None
        The student id, or None when nothing (or more than one student) matched.
    how : str or None
        Which comparison matched: "exact", "cedilla/comma variant",
        "case/diacritics-insensitive", "word-order-insensitive", ...; also set for an
        ambiguous lookup (the level at which several students matched).
    reason : str or None
        Why there is no match (unknown or ambiguous), with a hint; None when matched.
    candidates : tuple of str
        The students an ambiguous lookup could not choose between.
    """

    student: str | None
    how: str | None = None
    reason: str | None = None
    candidates: tuple[str, ...] = field(default=())

    @property
    def matched(self) -> bool:
        return self.student is not None

    @property
    def ambiguous(self) -> bool:
        return len(self.candidates) > 1


def _ladder(value: str, keyed: Sequence[tuple[str, str]], levels: Sequence[Level],
            what: str) -> Match:
    """Match ``value`` against ``(student, key)`` pairs, level by level; never guess."""
    if not value.strip():
        return Match(None, reason=f"empty {what}")
    for how, fn in levels:
        target = fn(value)
        if not target:
            continue
        hits = sorted({sid for sid, key in keyed if key and fn(key) == target})
        if len(hits) == 1:
            return Match(hits[0], how=how)
        if hits:
            return Match(None, how=how, candidates=tuple(hits),
                         reason=f"ambiguous {what} {value!r}: matches {', '.join(hits)} "
                                f"({how}); not guessed — make the roster entries distinct")
    folded = {fold_text(key): sid for sid, key in keyed if key}
    close = difflib.get_close_matches(fold_text(value), list(folded), n=1, cutoff=0.8)
    hint = f" (closest: {folded[close[0]]!r})" if close else ""
    return Match(None, reason=f"no roster entry with {what} {value!r}{hint}")


@dataclass(frozen=True)
class Roster:
    """The students of a course, loaded by :func:`load_roster`.

    Examples
    --------
    >>> r = Roster((Student("s1", "Ana Ţurcanu", ("ana@x.ro",), "AnaT"),))
    >>> r.match_name("ana turcanu").how
    'case/diacritics-insensitive'
    >>> r.match_email("Ana T <ANA@x.ro>").student
    's1'
    """

    students: tuple[Student, ...]
    path: str = "roster.csv"
    #: remarks from reading the file that are not errors (an 8-bit encoding guessed)
    notes: tuple[str, ...] = ()

    def __len__(self) -> int:
        return len(self.students)

    def __contains__(self, student: object) -> bool:
        return any(s.id == student for s in self.students)

    def get(self, student: str) -> Student | None:
        return next((s for s in self.students if s.id == student), None)

    @property
    def ids(self) -> list[str]:
        return [s.id for s in self.students]

    def match_email(self, addr: str) -> Match:
        """Match an address (``"Name <a@b>"`` or ``"a@b"``); the address part is compared.

        Addresses compare case-insensitively (in practice every mail provider treats them
        so); a match that needed that is reported as ``"case-insensitive"``.
        """
        address = parseaddr(addr)[1].strip() or addr.strip()
        if not address:
            return Match(None, reason="empty e-mail address")
        keyed = [(s.id, e) for s in self.students for e in s.emails]
        exact = sorted({sid for sid, e in keyed if e == address})
        loose = exact or sorted({sid for sid, e in keyed if e.casefold() == address.casefold()})
        how = "exact" if exact else "case-insensitive"
        if len(loose) == 1:
            return Match(loose[0], how=how)
        if loose:
            return Match(None, how=how, candidates=tuple(loose),
                         reason=f"ambiguous address {address!r}: listed for "
                                f"{', '.join(loose)}; not guessed")
        return Match(None, reason=f"address {address!r} is not in the roster")

    def match_kaggle(self, team_name: str) -> Match:
        """Match a Kaggle team or user name.

        The roster's ``kaggle`` column is tried first; only when it gives nothing at all is
        the team name compared with the ids of the students without a ``kaggle`` entry
        (``how`` then starts with ``"student id, "``), then with the students' names
        (``"name, "``), since many students enter under their id or their own name.
        """
        keyed = [(s.id, s.kaggle) for s in self.students]
        found = _ladder(team_name, keyed, KAGGLE_LEVELS, "Kaggle team")
        if found.matched or found.ambiguous or not team_name.strip():
            return found
        # a team named after a student's id (students told to enter as their id); exactly or
        # but for case and diacritics: a looser id match must not win over their name
        by_id = _ladder(team_name, [(s.id, s.id) for s in self.students
                                    if not s.kaggle], KAGGLE_LEVELS[:3], "student id")
        if by_id.matched or by_id.ambiguous:
            return Match(by_id.student, how=f"student id, {by_id.how}", reason=by_id.reason,
                         candidates=by_id.candidates)
        by_name = self.match_name(team_name)
        if by_name.matched or by_name.ambiguous:
            return Match(by_name.student, how=f"name, {by_name.how}", reason=by_name.reason,
                         candidates=by_name.candidates)
        return found

    def match_name(self, name: str) -> Match:
        """Match a person's name: exact, then cedilla/comma variant, then case- and
        diacritics-insensitive, then insensitive to word order ("Popescu Ana")."""
        return _ladder(name, [(s.id, s.name) for s in self.students], NAME_LEVELS, "name")


# --------------------------------------------------------------------------- reading


def read_table(path: str | Path, what: str, *, extra_cells: bool = False
               ) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """The header and ``(line, cells)`` rows of a user CSV (:func:`grader.ops.tables.read_table`:
    UTF-8/UTF-16/cp1250, ``,`` ``;`` or tab separated)."""
    table = tables.read_table(path, what, extra_cells=extra_cells)
    return table.header, table.rows


def load_roster(path: str | Path) -> Roster:
    """Read ``roster.csv`` and check every row, reporting all problems at once.

    Parameters
    ----------
    path : str or Path
        A CSV file with columns ``student, name[, email, kaggle, group]`` (header names
        are matched loosely: ``id``, ``nume``, ``e-mail``, ``team name``, ``grupa``, ...).

    Returns
    -------
    Roster

    Raises
    ------
    InputFileError
        With one ``file:line`` entry per problem: a missing id or name, an id unusable as
        a folder name, a bad address, or an id, address or Kaggle team given twice.
    """
    table = tables.read_table(path, "roster")
    p, header, rows = table.path, table.header, table.rows
    cols = resolve_columns(header, HEADER_ALIASES, ("student", "name"), p, "roster")
    problems: list[str] = []
    students: list[Student] = []
    seen: dict[str, dict[str, int]] = {"student": {}, "email": {}, "kaggle": {}}

    def cell(cells: list[str], canon: str) -> str:
        i = cols.get(canon)
        return cells[i] if i is not None and i < len(cells) else ""

    for line, cells in rows:
        where = f"{p}:{line}"
        if len(cells) > len(header) and any(cells[len(header):]):
            problems.append(f"{where}  {len(cells)} fields but the header has {len(header)}; "
                            "quote values that contain the separator")
            continue
        sid, name = cell(cells, "student"), _collapse(cell(cells, "name"))
        sid = unicodedata.normalize("NFC", sid)
        if not sid:
            problems.append(f"{where}  empty student id; every row needs one")
            continue
        if id_problem(sid):
            problems.append(f"{where}  student id {sid!r} is not usable as a folder name "
                            f"({id_problem(sid)}); use {ID_RULE} (e.g. 'ana-popescu')")
        if not name:
            problems.append(f"{where}  student {sid!r} has no name")
        emails = tuple(e for e in re.split(r"[;,\s]+", cell(cells, "email")) if e)
        for e in emails:
            if not re.fullmatch(r"[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+", e):
                problems.append(f"{where}  {e!r} is not an e-mail address (student {sid!r})")
        kaggle = _collapse(cell(cells, "kaggle"))
        for canon, values in (("student", [sid]), ("email", [e.casefold() for e in emails]),
                              ("kaggle", [fold_text(kaggle)] if kaggle else [])):
            for v in values:
                if v in seen[canon]:
                    problems.append(f"{where}  {canon} {v!r} already given on line "
                                    f"{seen[canon][v]}; each must belong to one student")
                else:
                    seen[canon][v] = line
        students.append(Student(sid, name, emails, kaggle, cell(cells, "group"), line))
    if problems:
        raise InputFileError(f"roster {p} has {len(problems)} problem(s)", problems=problems,
                             hint="fix these rows and run again; nothing was changed")
    if not students:
        raise InputFileError(f"roster {p} has no students", hint="add one row per student")
    return Roster(tuple(students), str(p), tuple(table.notes))
