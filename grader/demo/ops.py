"""Demo material for course operations: a roster and a mailbox of e-mailed submissions.

Used by ``grader demo`` and by the tests. Everything is deterministic: fixed dates, fixed
Message-IDs derived with blake2b from the content, no randomness.
"""

from __future__ import annotations

import hashlib
import io
import mailbox
import zipfile
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr, parsedate_to_datetime
from pathlib import Path

from diagnostics.text import csv_writer

__all__ = [
    "COURSE_ADDRESS",
    "demo_email",
    "demo_message",
    "demo_name",
    "make_demo_mailbox",
    "write_demo_roster",
    "write_mbox",
]

COURSE_ADDRESS = "fmi.unibuc.ia@gmail.com"
_START = datetime(2026, 1, 10, 9, 0, tzinfo=UTC)

# Romanian names with every diacritic the roster must cope with (ș ț ă î â).
_DEMO_NAMES = ("Ana Popescu", "Ștefan Țurcanu", "Ioana Mărgărit", "Andrei Câmpeanu",
               "Irina Bîrsan", "Mihai Dumitrescu", "Elena Șerban", "Radu Vlădescu",
               "Cristina Tănase", "Bogdan Ionescu", "Alina Costăchescu", "Vlad Iliescu")


def demo_name(student: str, index: int = 0) -> str:
    """A readable name for a demo student id (``"ana-popescu"`` → ``"Ana Popescu"``)."""
    words = [w for w in student.replace("_", "-").split("-") if w]
    if len(words) >= 2 and all(w.isalpha() for w in words):
        return " ".join(w.capitalize() for w in words)
    return _DEMO_NAMES[index % len(_DEMO_NAMES)]


def demo_email(student: str) -> str:
    """The demo address of a student: ``<student>@s.unibuc.ro``."""
    return f"{student}@s.unibuc.ro"


def write_demo_roster(students: Iterable[str], path: str | Path, *,
                      names: Mapping[str, str] | None = None, group: str = "231") -> Path:
    """Write ``roster.csv`` for ``students``; Kaggle team names are the names without
    diacritics, in capitals, as students often type them on Kaggle.

    Parameters
    ----------
    students : iterable of str
        Student ids (folder names).
    path : str or Path
    names : mapping of str to str, optional
        Student id → full name; default from :func:`demo_name`.
    group : str, default="231"

    Returns
    -------
    Path
        ``path``.
    """
    import unicodedata

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    buf = io.StringIO()
    writer = csv_writer(buf, lineterminator="\n")
    writer.writerow(["student", "name", "email", "kaggle", "group"])
    for i, sid in enumerate(students):
        name = (names or {}).get(sid) or demo_name(sid, i)
        bare = "".join(c for c in unicodedata.normalize("NFKD", name)
                       if not unicodedata.combining(c))
        writer.writerow([sid, name, demo_email(sid), bare.upper(), group])
    path.write_text(buf.getvalue(), encoding="utf-8")
    return path


def demo_message(sender: str, subject: str, date: datetime,
                 attachments: Mapping[str, bytes] | None = None, *, body: str = "",
                 message_id: str | None = None) -> EmailMessage:
    """One e-mail to the course address with the given attachments.

    The Message-ID is derived from the content unless given, so equal inputs give equal
    messages.
    """
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = COURSE_ADDRESS
    msg["Subject"] = subject
    msg["Date"] = format_datetime(date)
    digest = hashlib.blake2b(f"{sender}|{subject}|{date.isoformat()}".encode(),
                             digest_size=8).hexdigest()
    msg["Message-ID"] = message_id or f"<{digest}@demo.gradebox>"
    msg.set_content(body or "Bună ziua,\n\nAtașez proiectul.\n\nO zi bună!\n")
    for name, data in (attachments or {}).items():
        if name.endswith(".py"):
            msg.add_attachment(data.decode("utf-8"), subtype="x-python", filename=name)
        elif name.endswith(".pdf"):
            msg.add_attachment(data, maintype="application", subtype="pdf", filename=name)
        elif name.endswith(".zip"):
            msg.add_attachment(data, maintype="application", subtype="zip", filename=name)
        elif name.endswith(".csv"):
            msg.add_attachment(data.decode("utf-8"), subtype="csv", filename=name)
        else:
            msg.add_attachment(data, maintype="application", subtype="octet-stream",
                               filename=name)
    if msg.is_multipart():
        msg.set_boundary(f"==gradebox-{digest}==")  # the default boundary is random
    return msg


def write_mbox(messages: Iterable[EmailMessage], path: str | Path) -> Path:
    """Write ``messages`` to a fresh ``.mbox`` file at ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():
        path.unlink()
    box = mailbox.mbox(path)
    try:
        box.lock()
        for m in messages:
            entry = mailbox.mboxMessage(m)
            # The envelope line carries the message's own date (not "now"): same input, same file.
            when = parsedate_to_datetime(str(m["Date"])) if m["Date"] else _START
            entry.set_from(parseaddr(str(m["From"] or ""))[1] or "MAILER-DAEMON",
                           when.astimezone(UTC).timetuple())
            box.add(entry)
        box.flush()
        box.unlock()
    finally:
        box.close()
    return path


def _zip(files: Mapping[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in files.items():
            info = zipfile.ZipInfo(name, date_time=(2026, 1, 10, 9, 0, 0))
            zf.writestr(info, data)
    return buf.getvalue()


_MINI_PDF = (b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
             b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n")


def make_demo_mailbox(students: Mapping[str, str], out_path: str | Path, *,
                      kaggle_csv: Mapping[str, str] | None = None,
                      extras: bool = True) -> Path:
    """Build a small, realistic ``.mbox`` of e-mailed submissions.

    Parameters
    ----------
    students : mapping of str to str
        Student id → the source of their ``main.py``. Each student sends it from
        :func:`demo_email` with a PDF; every second student sends it zipped in a
        ``proiect/`` folder.
    out_path : str or Path
        The ``.mbox`` file to write.
    kaggle_csv : mapping of str to str, optional
        Student id → the text of the predictions they uploaded to Kaggle; attached as
        ``kaggle_submission.csv``.
    extras : bool, default=True
        Also add what a real mailbox has: the first student's earlier draft (superseded),
        a notebook-only e-mail from the second student sent before their real one, a
        question with no attachment, and a message from an address not in the roster.

    Returns
    -------
    Path
        ``out_path``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> p = make_demo_mailbox({"ana-popescu": "print('hi')\\n"}, d / "inbox.mbox")
    >>> p.stat().st_size > 0
    True
    """
    messages: list[EmailMessage] = []
    ids = list(students)
    for i, sid in enumerate(ids):
        sender = f"{demo_name(sid, i)} <{demo_email(sid)}>"
        when = _START + timedelta(hours=6 * i + 2)
        files = {"main.py": students[sid].encode("utf-8"),
                 "documentatie.pdf": _MINI_PDF}
        if kaggle_csv and sid in kaggle_csv:
            files["kaggle_submission.csv"] = kaggle_csv[sid].encode("utf-8")
        if extras and i == 0:
            draft = {"main.py": b"# first draft\nprint('not finished')\n"}
            messages.append(demo_message(sender, "Proiect IA - varianta 1",
                                         when - timedelta(hours=1), draft))
        if extras and i == 1:
            messages.append(demo_message(sender, "Proiect IA (notebook)",
                                         when - timedelta(hours=1),
                                         {"proiect.ipynb": b'{"cells": []}'}))
        if i % 2 == 1:
            zipped = {f"proiect/{n}": d for n, d in files.items()}
            attachments = {"proiect.zip": _zip(zipped)}
        else:
            attachments = files
        messages.append(demo_message(sender, f"Proiect IA - {demo_name(sid, i)}", when,
                                     attachments))
    if extras:
        late = _START + timedelta(hours=6 * len(ids) + 3)
        messages.append(demo_message("Necunoscut <someone@example.com>", "proiect",
                                     late, {"main.py": b"print('who am I?')\n"}))
        if ids:
            messages.append(demo_message(f"{demo_name(ids[0], 0)} <{demo_email(ids[0])}>",
                                         "Întrebare despre termen", late,
                                         body="Până când putem trimite proiectul?\n"))
    return write_mbox(messages, out_path)
