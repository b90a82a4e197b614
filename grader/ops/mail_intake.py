"""E-mailed submissions → ``submissions/<student>/`` folders, with a report of every message.

Flow: read the mailbox (an ``.mbox`` file, a folder of ``.eml`` files or a Maildir) → for each
message,
match the sender through the roster and pull out its files (``.py`` code, ``.pdf``
documentation, ``kaggle_submission.csv``; ``.zip`` attachments are opened safely) → decide per
student which message counts (the latest by receiving time unless told otherwise; late,
duplicate, rejected, quarantined and unknown-sender messages never count) → write the folders
→ write ``intake_report.csv``.

Everything in an e-mail is untrusted: attachment names are reduced to a safe base name, zip
entries with absolute paths, ``..`` or links are skipped, and every size and count is capped
(``IntakeLimits``: MIME depth and parts, bytes per message and per student, zip entries)
before the bytes are read. What is believed about a message, and from which header, is the
trust model in docs/sandbox.md: the sender from the receiving server's
``Authentication-Results`` (a ``fail`` is quarantined), the time from the top ``Received:``
header or the mbox envelope, never from the sender-written ``Date:``. One message that breaks
anything is reported ``invalid`` with the reason; the others go on.
"""

from __future__ import annotations

import csv
import email
import email.policy
import hashlib
import io
import json
import mailbox
import os
import re
import shutil
import stat
import tempfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import parseaddr, parsedate_to_datetime
from pathlib import Path, PurePosixPath

from diagnostics.text import csv_safe, terminal_safe
from grader.errors import InputFileError
from grader.intake import NOTEBOOK_HINT, NOTEBOOK_REASON, Rejection, read_submission
from grader.names import undecodable as _undecodable
from grader.ops.roster import Roster

__all__ = [
    "IPYNB_HINT",
    "IPYNB_REASON",
    "IntakeLimits",
    "IntakeResult",
    "MessageOutcome",
    "parse_deadline",
    "read_mailbox",
    "run_intake",
    "safe_unzip",
]

IPYNB_REASON, IPYNB_HINT = NOTEBOOK_REASON, NOTEBOOK_HINT
KAGGLE_NAME = "kaggle_submission.csv"
# Attached CSVs under these names are the predictions uploaded to Kaggle.
_KAGGLE_NAMES = {"kaggle_submission.csv", "submission.csv", "kaggle.csv", "predictions.csv"}
_DOC_SUFFIXES = {".pdf"}
_SAFE_PART = re.compile(r"^[^\x00-\x1f/\\:*?\"<>|]{1,120}$")
REPORT_NAME = "intake_report.csv"
MANIFEST_NAME = ".intake_manifest.json"
REPORT_COLUMNS = ["message", "message_id", "date", "received", "received_from", "sender",
                  "authentication", "student", "match", "subject", "status", "reason", "hint",
                  "files", "notes"]

# Every status a message can end with, in report order.
STATUSES = ("accepted", "superseded", "duplicate", "late", "rejected", "no_submission",
            "quarantined", "unknown_sender", "ambiguous_sender", "invalid")
#: Content-Type headers that open a container part (counted before parsing: the standard
#: library's parser recurses once per level and a deep message exhausts the stack)
_CONTAINER = re.compile(rb"^content-type:[ \t]*(?:multipart/|message/rfc822)", re.I | re.M)


@dataclass(frozen=True)
class IntakeLimits:
    """Caps on what an e-mail may bring in. Sizes in bytes.

    Attributes
    ----------
    max_file_bytes : int, default=2 MiB
        One code file (``.py``), attached or inside a zip.
    max_doc_bytes : int, default=25 MiB
        One documentation PDF or Kaggle predictions CSV.
    max_zip_entries : int, default=500
        Entries in one zip; a zip with more is not opened at all.
    max_zip_total_bytes : int, default=50 MiB
        Uncompressed bytes taken from one zip; extraction stops there.
    max_message_bytes : int, default=60 MiB
        One raw message; larger ones are not parsed.
    max_mime_depth : int, default=10
        Nesting of MIME parts (a message in a multipart in a message...).
    max_mime_parts : int, default=200
        Parts in one message, containers included.
    max_files_bytes : int, default=50 MiB
        Bytes of files taken from one message, all attachments and zips together; a message
        bringing more is rejected whole (8 zips of 50 MiB each are not 400 MiB on disk).
    max_student_bytes : int, default=100 MiB
        Bytes of files held for one student over all of their messages; a message past it is
        rejected with the reason.
    """

    max_file_bytes: int = 2 * 1024 * 1024
    max_doc_bytes: int = 25 * 1024 * 1024
    max_zip_entries: int = 500
    max_zip_total_bytes: int = 50 * 1024 * 1024
    max_message_bytes: int = 60 * 1024 * 1024
    max_mime_depth: int = 10
    max_mime_parts: int = 200
    max_files_bytes: int = 50 * 1024 * 1024
    max_student_bytes: int = 100 * 1024 * 1024


@dataclass
class MessageOutcome:
    """What became of one message; one row of ``intake_report.csv``."""

    index: int
    message_id: str
    date: datetime | None
    sender: str
    subject: str
    #: when the receiving server got it, and which header says so
    received: datetime | None = None
    received_from: str = ""
    #: the receiving server's verdict on the sender ("spf=fail dkim=none dmarc=fail")
    authentication: str = ""
    student: str | None = None
    match: str | None = None
    status: str = "invalid"
    reason: str = ""
    hint: str = ""
    files: dict[str, bytes] = field(default_factory=dict, repr=False)
    notes: list[str] = field(default_factory=list)
    #: set when this accepted message replaces one from another address (or intake run)
    replaces: str = ""
    #: set when the folder written for this accepted message is one ``grader run`` refuses
    #: (two .py files and no main.py ...): said now, while the student can still resend
    will_be_rejected: str = ""

    @property
    def when(self) -> datetime | None:
        """The time that orders and judges this message: received, else (no deadline) Date."""
        return self.received or self.date

    def row(self) -> dict[str, str]:
        """The report row; every cell is neutralised for spreadsheets (``csv_safe``)."""
        row = {
            "message": str(self.index), "message_id": self.message_id,
            "date": self.date.isoformat() if self.date else "",
            "received": self.received.isoformat() if self.received else "",
            "received_from": self.received_from, "sender": self.sender,
            "authentication": self.authentication,
            "student": self.student or "", "match": self.match or "", "subject": self.subject,
            "status": self.status, "reason": self.reason, "hint": self.hint,
            "files": ";".join(sorted(self.files)), "notes": " | ".join(self.notes),
        }
        return {k: csv_safe(terminal_safe(v) if _undecodable(v) else v) for k, v in row.items()}


@dataclass
class IntakeResult:
    """The outcome of :func:`run_intake`.

    Attributes
    ----------
    outcomes : list of MessageOutcome
        One per message, in mailbox order.
    folders : dict of str to str
        Student → ``"written"``, ``"unchanged"`` or ``"removed"`` (a folder an earlier
        intake wrote whose student no longer has an accepted message).
    report_path : Path
    """

    outcomes: list[MessageOutcome]
    folders: dict[str, str]
    report_path: Path
    #: roster students without a submission: no accepted message, nor an entry in the
    #: submissions folder put there some other way
    without_submission: tuple[str, ...] = ()

    def count(self, status: str) -> int:
        return sum(o.status == status for o in self.outcomes)

    def summary(self) -> str:
        """A few lines for the terminal: counts, then every message that needs a look."""
        n = len(self.outcomes)
        changed = sum(v == "written" for v in self.folders.values())
        same = sum(v == "unchanged" for v in self.folders.values())
        parts = [f"{self.count(s)} {s.replace('_', ' ')}" for s in STATUSES if self.count(s)]
        lines = [f"intake: {n} messages: {', '.join(parts)}",
                 f"  {changed + same} student folders ({changed} written, {same} unchanged"
                 + (f", {list(self.folders.values()).count('removed')} removed)"
                    if "removed" in self.folders.values() else ")")]
        for o in self.outcomes:
            if o.status in ("rejected", "unknown_sender", "ambiguous_sender", "invalid", "late",
                            "quarantined") or (o.status == "accepted"
                                               and (o.replaces or o.will_be_rejected)):
                who = o.student or o.sender or "?"
                why = "; ".join(filter(None, [o.reason] + (
                    [o.replaces, o.will_be_rejected] if o.status == "accepted" else [])))
                # sender, names and reasons are outsiders' text: escaped for the terminal
                lines.append(terminal_safe(f"  #{o.index} {o.status}: {who}: {why}"))
        if self.without_submission:  # nobody else names them: 'grader run' has no roster
            names = self.without_submission
            lines.append(terminal_safe(
                f"  {len(names)} roster student(s) without an accepted submission: "
                + ", ".join(names[:20]) + (f" and {len(names) - 20} more" if len(names) > 20
                                           else "")))
        lines.append(f"see {self.report_path}")
        return "\n".join(lines)


# --------------------------------------------------------------------------- reading


def parse_deadline(text: str) -> datetime:
    """Parse an ISO 8601 deadline that states its time zone (``...+02:00`` or ``...Z``)."""
    try:
        when = datetime.fromisoformat(text.strip())
    except ValueError:
        raise InputFileError(f"--deadline {text!r} is not an ISO 8601 date and time",
                             hint="e.g. 2026-01-18T23:59:59+02:00") from None
    if when.tzinfo is None:
        raise InputFileError(f"--deadline {text!r} has no time zone",
                             hint="add the offset, e.g. 2026-01-18T23:59:59+02:00 (Bucharest "
                                  "winter time) or a trailing Z for UTC")
    return when


def read_mailbox(path: str | Path, limits: IntakeLimits = IntakeLimits()
                 ) -> Iterator[tuple[int, EmailMessage | str, str]]:
    """Yield ``(index, message, envelope_date)`` for every message, in mailbox order.

    ``message`` is the reason, a str, when the message was not parsed: larger than
    ``limits.max_message_bytes``, nested or split past the MIME limits, or unparsable.
    ``envelope_date`` is the date on an mbox ``From`` line ("" for ``.eml`` files): the time
    the local mail system stored the message.

    Raises
    ------
    InputFileError
        The path is missing, or is neither an mbox file nor a folder holding ``.eml`` files.
    """
    p = Path(path)

    def parse(raw: bytes) -> EmailMessage | str:
        return _parse(raw, limits)

    if p.is_dir():
        files = sorted(f for f in p.iterdir() if f.suffix.lower() == ".eml" and f.is_file())
        # a Maildir (cur/, new/, tmp/: one file per message, named from its delivery time)
        boxes = [p / d for d in ("cur", "new") if (p / d).is_dir()]
        if not files and boxes and (p / "tmp").is_dir():
            files = sorted((f for d in boxes for f in d.iterdir()
                            if f.is_file() and not f.name.startswith(".")), key=lambda f: f.name)
        if not files:
            raise InputFileError(f"mailbox folder {p} holds no .eml files (and is no Maildir "
                                 "with messages in cur/ or new/)",
                                 hint="export the messages as .eml files, or pass an .mbox file")
        for i, f in enumerate(files, 1):
            if f.stat().st_size > limits.max_message_bytes:
                yield i, _too_large(limits), ""
                continue
            yield i, parse(f.read_bytes()), ""
        return
    if not p.is_file():
        raise InputFileError(f"mailbox {str(p)!r} does not exist",
                             hint="pass an .mbox file or a folder of .eml files")
    with p.open("rb") as fh:
        head = fh.read(5)
    if head != b"From ":
        raise InputFileError(f"{p}:1: not an mbox file (it must start with a 'From ' line)",
                             hint="for single messages use a folder of .eml files; export "
                                  "the mailbox from Thunderbird/Gmail Takeout as .mbox")
    box = mailbox.mbox(p, create=False)
    try:
        keys = list(box.iterkeys())
        # mbox keeps (start, stop) offsets per message: check the size before reading it.
        toc = getattr(box, "_toc", None) or {}
        for i, key in enumerate(keys, 1):
            start, stop = toc.get(key, (0, 0))
            if stop - start > limits.max_message_bytes:
                yield i, _too_large(limits), ""
                continue
            raw = box.get_bytes(key)
            if len(raw) > limits.max_message_bytes:
                yield i, _too_large(limits), ""
                continue
            # the envelope line only: box.get_message() would parse the message a second time
            with p.open("rb") as fh:
                fh.seek(start)
                envelope = fh.readline(1000).decode("ascii", "replace").rstrip("\r\n")
            yield i, parse(raw), envelope[5:].strip().partition(" ")[2]
    finally:
        box.close()


def _too_large(limits: IntakeLimits) -> str:
    return f"message larger than {limits.max_message_bytes} bytes"


def _parse(raw: bytes, limits: IntakeLimits) -> EmailMessage | str:
    """Parse one raw message within the MIME limits, or say why not."""
    containers = len(_CONTAINER.findall(raw))
    if containers > limits.max_mime_parts:
        return (f"{containers} nested MIME containers exceed the limit of "
                f"{limits.max_mime_parts} parts; not parsed")
    try:
        msg = email.message_from_bytes(raw, policy=email.policy.default)
    except RecursionError:
        return f"MIME parts nested deeper than the limit of {limits.max_mime_depth}; not parsed"
    except Exception as exc:  # noqa: BLE001 - the parser on hostile bytes: this message only
        return f"unparsable message ({type(exc).__name__}: {str(exc)[:120]})"
    depth, parts = _shape(msg)
    if depth > limits.max_mime_depth:
        return f"MIME parts nested {depth} deep, past the limit of {limits.max_mime_depth}"
    if parts > limits.max_mime_parts:
        return f"{parts} MIME parts exceed the limit of {limits.max_mime_parts}"
    return msg


def _shape(msg: EmailMessage) -> tuple[int, int]:
    """(deepest nesting, number of parts), walked without recursion."""
    deepest, count, stack = 0, 0, [(msg, 1)]
    while stack:
        part, depth = stack.pop()
        count += 1
        deepest = max(deepest, depth)
        payload = part.get_payload() if part.is_multipart() else None
        if isinstance(payload, list):
            stack += [(p, depth + 1) for p in payload if isinstance(p, email.message.Message)]
    return deepest, count


def _walk(msg: EmailMessage) -> Iterator[EmailMessage]:
    """``msg.walk()`` without recursion (the shape is already checked)."""
    stack = [msg]
    while stack:
        part = stack.pop()
        yield part
        payload = part.get_payload() if part.is_multipart() else None
        if isinstance(payload, list):
            stack += reversed([p for p in payload if isinstance(p, email.message.Message)])


def _date(text: str) -> datetime | None:
    try:
        when = parsedate_to_datetime(" ".join(text.split()))
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when is None:
        return None
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)  # "-0000": UTC


def _message_date(msg: EmailMessage) -> datetime | None:
    """The sender-written ``Date:`` (shown, and orders a student's messages when nothing
    better is known; never judges the deadline)."""
    return _date(str(msg.get("Date", "") or ""))


def _received(msg: EmailMessage, envelope: str) -> tuple[datetime | None, str]:
    """When the receiving side got the message, and which header says so.

    The top ``Received:`` header is written by the last server, ours; those below it may be
    the sender's inventions. The mbox envelope (``From `` line) is written by the local mail
    system when it stores the message.
    """
    received = msg.get_all("Received") or []
    if received:
        when = _date(str(received[0]).rpartition(";")[2])
        if when is not None:
            return when, "Received header"
    when = _date(envelope) if envelope.strip() else None
    return (when, "mbox 'From ' line") if when is not None else (None, "")


#: the results that make the receiving server's verdict a failure (RFC 8601 result values)
_AUTH_FAIL = {"fail", "softfail", "permerror"}


def _authentication(msg: EmailMessage, authserv_id: str | None) -> tuple[str, bool]:
    """The receiving server's verdict on the sender: (``"spf=fail dkim=none dmarc=fail"``,
    whether it says the From address is not the sender's).

    Only the top ``Authentication-Results`` header counts (or, with ``authserv_id``, the top
    one that server wrote): lower ones may have come with the message. DMARC decides when
    present; otherwise an SPF failure with no passing DKIM signature is a failure.
    """
    headers = [str(h) for h in (msg.get_all("Authentication-Results") or [])]
    if authserv_id:
        headers = [h for h in headers
                   if h.split(";", 1)[0].strip().split()[:1] == [authserv_id]]
    if not headers:
        return "", False
    results: dict[str, str] = {}
    for clause in headers[0].split(";")[1:]:
        m = re.match(r"\s*([a-z-]+)\s*=\s*([a-z]+)", clause, re.I)
        if m and m.group(1).lower() not in results:
            results[m.group(1).lower()] = m.group(2).lower()
    shown = " ".join(f"{k}={v}" for k, v in results.items() if k in ("spf", "dkim", "dmarc"))
    if "dmarc" in results:
        return shown, results["dmarc"] in _AUTH_FAIL
    failed = results.get("spf") in _AUTH_FAIL and results.get("dkim") != "pass"
    return shown, failed


# --------------------------------------------------------------------------- files


def _kind(name: str) -> str:
    lower = name.lower()
    suffix = PurePosixPath(lower).suffix
    if suffix == ".py":
        return "code"
    if suffix in _DOC_SUFFIXES:
        return "doc"
    if PurePosixPath(lower).name in _KAGGLE_NAMES:
        return "kaggle"
    if suffix == ".ipynb":
        return "notebook"
    if suffix == ".zip":
        return "zip"
    return "other"


def _safe_parts(name: str) -> list[str] | None:
    """Path parts of an archive entry, or None when it is absolute, climbs or is odd."""
    name = name.replace("\\", "/")
    if name.startswith("/") or re.match(r"^[A-Za-z]:", name):
        return None
    parts = [p for p in name.split("/") if p not in ("", ".")]
    if not parts or any(p == ".." or not _SAFE_PART.match(p) for p in parts):
        return None
    return parts


def _limit_for(kind: str, limits: IntakeLimits) -> int:
    return limits.max_file_bytes if kind == "code" else limits.max_doc_bytes


def safe_unzip(data: bytes, label: str, limits: IntakeLimits = IntakeLimits(), *,
               budget: int | None = None) -> tuple[dict[str, bytes], list[str], list[str]]:
    """Take code, documentation and Kaggle predictions out of a zip, safely.

    Entries with absolute paths, ``..``, links, encryption, or a size over the limits are
    skipped with a note, never written anywhere; other file types are listed as ignored.
    When every kept entry sits in one top folder (``proiect/main.py``) that folder is dropped.

    Parameters
    ----------
    data : bytes
        The zip file.
    label : str
        The attachment's name, used in notes.
    limits : IntakeLimits
    budget : int, optional
        Bytes the message may still take (``limits.max_files_bytes`` less what its other
        attachments took); past it :class:`_OverBudget` is raised and nothing more is read.

    Returns
    -------
    files : dict of str to bytes
        Relative POSIX path → content.
    notes : list of str
        One sentence per skipped or ignored entry.
    names : list of str
        Every entry name seen (to explain a rejection, e.g. a zip holding only notebooks).
    """
    notes: list[str] = []
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        infos = zf.infolist()
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        return {}, [f"{label}: not a readable zip ({exc}); skipped"], []
    names = [i.filename for i in infos]
    if len(infos) > limits.max_zip_entries:
        return {}, [f"{label}: {len(infos)} entries exceed the limit of "
                    f"{limits.max_zip_entries}; not opened"], names
    kept: dict[tuple[str, ...], tuple[str, bytes]] = {}
    total = 0
    for info in infos:
        if info.is_dir():
            continue
        entry = info.filename
        parts = _safe_parts(entry)
        if parts is None:
            notes.append(f"{label}: {entry!r} has an unsafe path (absolute or '..'); skipped")
            continue
        if parts[0] == "__MACOSX" or parts[-1].startswith("."):
            continue  # Finder metadata and hidden files carry nothing we grade
        if stat.S_ISLNK(info.external_attr >> 16):
            notes.append(f"{label}: {entry!r} is a link; skipped")
            continue
        kind = _kind(parts[-1])
        if kind not in ("code", "doc", "kaggle"):
            if kind == "notebook":
                notes.append(f"{label}: {entry!r} ignored: {IPYNB_REASON}")
            else:
                notes.append(f"{label}: {entry!r} ignored (not .py, .pdf or {KAGGLE_NAME})")
            continue
        if info.flag_bits & 0x1:
            notes.append(f"{label}: {entry!r} is encrypted; skipped")
            continue
        cap = _limit_for(kind, limits)
        if info.file_size > cap:
            notes.append(f"{label}: {entry!r} is {info.file_size} bytes, over the "
                         f"{cap}-byte limit; skipped")
            continue
        if budget is not None and total + info.file_size > budget:
            raise _OverBudget(f"{label}: {entry!r}")
        if total + info.file_size > limits.max_zip_total_bytes:
            notes.append(f"{label}: total size limit of {limits.max_zip_total_bytes} bytes "
                         f"reached at {entry!r}; the rest skipped")
            break
        try:
            with zf.open(info) as fh:
                content = fh.read(cap + 1)  # the header's size may lie (zip bombs)
        except (zipfile.BadZipFile, OSError, RuntimeError, NotImplementedError) as exc:
            notes.append(f"{label}: {entry!r} unreadable ({exc}); skipped")
            continue
        if len(content) > cap:
            notes.append(f"{label}: {entry!r} expands past the {cap}-byte limit; skipped")
            continue
        if budget is not None and total + len(content) > budget:
            raise _OverBudget(f"{label}: {entry!r}")
        total += len(content)
        kept[tuple(parts)] = (kind, content)
    # Drop a single shared top folder so that main.py lands at the submission's root.
    tops = {k[0] for k in kept}
    strip = 1 if len(tops) == 1 and all(len(k) > 1 for k in kept) else 0
    files: dict[str, bytes] = {}
    for parts, (kind, content) in kept.items():
        rel = KAGGLE_NAME if kind == "kaggle" else "/".join(parts[strip:])
        if rel in files:
            notes.append(f"{label}: {'/'.join(parts)!r} duplicates {rel!r}; kept the first")
            continue
        files[rel] = content
    _drop_file_folder_clashes(files, notes, label)
    return files, notes, names


class _OverBudget(Exception):
    """A message's files pass ``IntakeLimits.max_files_bytes``; the message is rejected."""


def _drop_file_folder_clashes(files: dict[str, bytes], notes: list[str], label: str) -> None:
    """Drop every path that needs another kept path to be a folder (``a.py`` and
    ``a.py/b.py``): both cannot exist on disk. The shorter one, the file, is kept."""
    for rel in sorted(files):
        parts = rel.split("/")
        clash = next(("/".join(parts[:i]) for i in range(1, len(parts))
                      if "/".join(parts[:i]) in files), None)
        if clash is not None:
            del files[rel]
            notes.append(f"{label}: {rel!r} needs {clash!r} to be a folder, but it is a file; "
                         "skipped")


def _extract(msg: EmailMessage, limits: IntakeLimits, budget: int | None = None
             ) -> tuple[dict[str, bytes], list[str], list[str]]:
    """Files of one message: (kept files, notes, every attachment/entry name seen).

    Raises :class:`_OverBudget` when the files pass ``budget`` bytes (default
    ``limits.max_files_bytes``): nothing more is decoded or unzipped.
    """
    files: dict[str, bytes] = {}
    notes: list[str] = []
    seen: list[str] = []
    left = limits.max_files_bytes if budget is None else budget

    def add(rel: str, content: bytes, origin: str) -> None:
        nonlocal left
        if rel.lower().endswith(".py") and not rel.endswith(".py"):
            # MAIN.PY from a Windows machine: code all the same (it was rejected as "no .py
            # file"), saved with the suffix Python's imports look for
            fixed = rel[:-3] + ".py"
            notes.append(f"{origin}: {rel!r} saved as {fixed!r} (Python imports only files "
                         "ending in a lower-case .py)")
            rel = fixed
        if rel in files:
            if files[rel] != content:
                notes.append(f"{origin}: a second {rel!r} with other content; kept the first")
            return
        if len(content) > left:
            raise _OverBudget(f"{origin}: {rel!r}")
        left -= len(content)
        files[rel] = content

    # attachments inside a forwarded message (message/rfc822): someone else's mail, perhaps
    # another student's work; said, never hidden
    forwarded: dict[int, str] = {}
    for part in _walk(msg):
        if part.get_content_type() == "message/rfc822" and part.is_multipart():
            for inner in part.get_payload():
                if isinstance(inner, email.message.Message):
                    sender = str(inner.get("From", "") or "an unknown sender")[:200]
                    forwarded.update((id(q), sender) for q in _walk(inner))  # type: ignore
    for part in _walk(msg):
        if part.is_multipart():
            continue
        raw_name = part.get_filename()
        if not raw_name:
            continue
        seen.append(raw_name)
        if id(part) in forwarded:
            notes.append(f"attachment {raw_name!r} comes from a forwarded message from "
                         f"{forwarded[id(part)]!r}: check that it is this student's own work")
        base = raw_name.replace("\\", "/").rsplit("/", 1)[-1].strip()
        if not base or base.startswith(".") or not _SAFE_PART.match(base):
            notes.append(f"attachment {raw_name!r} has an unusable name; skipped")
            continue
        if base != raw_name:
            notes.append(f"attachment {raw_name!r} saved as {base!r} (directories dropped)")
        kind = _kind(base)
        try:
            content = part.get_payload(decode=True) or b""
        except Exception as exc:  # a malformed transfer encoding: skip just this part
            notes.append(f"attachment {base!r} could not be decoded ({exc}); skipped")
            continue
        if kind == "zip":
            inner, zip_notes, names = safe_unzip(content, base, limits, budget=left)
            seen += names
            notes += zip_notes
            for rel, data in inner.items():
                add(rel, data, base)
        elif kind in ("code", "doc", "kaggle"):
            cap = _limit_for(kind, limits)
            if len(content) > cap:
                notes.append(f"attachment {base!r} is {len(content)} bytes, over the "
                             f"{cap}-byte limit; skipped")
                continue
            add(KAGGLE_NAME if kind == "kaggle" else base, content, base)
        elif kind == "notebook":
            notes.append(f"attachment {base!r} ignored: {IPYNB_REASON}")
        else:
            notes.append(f"attachment {base!r} ignored (not .py, .pdf, .zip or {KAGGLE_NAME})")
    _drop_file_folder_clashes(files, notes, "attachments")
    return files, notes, seen


def _fingerprint(files: dict[str, bytes]) -> str:
    h = hashlib.blake2b(digest_size=16)
    for rel in sorted(files):
        h.update(rel.encode() + b"\0" + hashlib.blake2b(files[rel]).digest())
    return h.hexdigest()


# --------------------------------------------------------------------------- deciding


@dataclass(frozen=True)
class _Policy:
    """What one intake run believes and accepts (from ``run_intake``'s arguments)."""

    roster: Roster
    deadline: datetime | None
    limits: IntakeLimits
    authserv_id: str | None = None
    #: Message-IDs or ``#index`` of quarantined messages the instructor accepts
    accept_quarantined: frozenset[str] = frozenset()


def _classify(index: int, msg: EmailMessage | str, envelope: str, policy: _Policy,
              held: dict[str, int]) -> MessageOutcome:
    """Everything about one message that does not depend on the other messages; any
    failure is this message's ``invalid`` status with the reason, never the whole intake's."""
    try:
        return _classify_one(index, msg, envelope, policy, held)
    except Exception as exc:  # noqa: BLE001 - one hostile e-mail must not stop the others
        return MessageOutcome(index, "", None, "", "", status="invalid",
                              reason=f"could not be read ({type(exc).__name__}: "
                                     f"{str(exc)[:160]})",
                              hint="ask the student to send it again as a plain e-mail with "
                                   "the .py files (or one .zip) attached")


def _classify_one(index: int, msg: EmailMessage | str, envelope: str, policy: _Policy,
                  held: dict[str, int]) -> MessageOutcome:
    limits, deadline = policy.limits, policy.deadline
    if isinstance(msg, str):
        return MessageOutcome(index, "", None, "", "", status="invalid", reason=msg,
                              hint="ask the student to send the code alone, as .py files "
                                   "or one .zip, without data files")
    message_id = " ".join(str(msg.get("Message-ID", "") or "").split())[:300]
    sender_field = str(msg.get("From", "") or "")
    sender = parseaddr(sender_field)[1] or sender_field.strip()
    subject = " ".join(str(msg.get("Subject", "") or "").split())[:200]
    received, received_from = _received(msg, envelope)
    out = MessageOutcome(index, message_id, _message_date(msg), sender[:300], subject,
                         received=received, received_from=received_from)
    if received is None and out.date is not None:
        out.notes.append("no Received header or mbox envelope: ordered by the sender's Date")
    out.authentication, failed = _authentication(msg, policy.authserv_id)
    found = policy.roster.match_email(sender_field) if sender else None
    if found is None or not found.matched:
        out.status = "ambiguous_sender" if found is not None and found.ambiguous \
            else "unknown_sender"
        out.reason = found.reason if found is not None else "no From address"
        display = parseaddr(sender_field)[0]
        by_name = policy.roster.match_name(display) if display else None
        if by_name is not None and by_name.matched:
            out.hint = (f"the sender's name {display!r} matches roster student "
                        f"{by_name.student!r} ({by_name.how}); if this address is theirs, "
                        "add it to that student's email column (several may be separated "
                        "by ';') and run again")
        else:
            out.hint = "add the address to roster.csv if the sender is a student"
        return out
    out.student, out.match = found.student, found.how
    if failed and not ({message_id, f"#{index}", str(index)} & policy.accept_quarantined):
        out.status = "quarantined"
        out.reason = (f"the receiving server says the From address may be forged "
                      f"({out.authentication})")
        out.hint = (f"if you know it is {out.student}'s, run again with --accept-quarantined "
                    f"'{message_id or f'#{index}'}'")
        return out
    if failed:
        out.notes.append(f"quarantine ({out.authentication}) lifted by --accept-quarantined")
    budget = min(limits.max_files_bytes, limits.max_student_bytes - held.get(out.student, 0))
    try:
        out.files, notes, seen = _extract(msg, limits, budget)
    except _OverBudget as exc:
        per_student = budget < limits.max_files_bytes
        out.status = "rejected"
        out.reason = (f"the attachments expand past the limit of {budget} bytes "
                      + ("for this student's e-mails together" if per_student else
                         "per message") + f" (at {exc})")
        out.hint = "ask the student to send only the code (.py files), without data or models"
        return out
    held[out.student] = held.get(out.student, 0) + sum(map(len, out.files.values()))
    out.notes += notes
    if out.when is None:
        out.status = "invalid"
        out.reason = ("no valid Date header and no receiving time (Received header or mbox "
                      "envelope): cannot order it")
        out.hint = "ask the student to send it again"
        return out
    code = [f for f in out.files if f.endswith(".py")]
    if not code:
        if any(_kind(n) == "notebook" for n in seen):
            out.status, out.reason, out.hint = "rejected", IPYNB_REASON, IPYNB_HINT
        elif seen:
            out.status = "rejected"
            out.reason = f"no .py file among the attachments ({', '.join(seen[:5])})"
            out.hint = "send the code as .py files (or a .zip of them)"
        else:
            out.status, out.reason = "no_submission", "no attachments"
        return out
    if deadline is not None:
        if received is None:
            out.status = "invalid"
            out.reason = ("no Received header or mbox envelope: the time it arrived is "
                          "unknown, and the sender's Date is not evidence")
            out.hint = "export the mailbox as .mbox (it keeps the envelope lines)"
            return out
        if received > deadline:
            out.status = "late"
            out.reason = (f"received {received.isoformat()} ({received_from}), after the "
                          f"deadline {deadline.isoformat()}; its Date says "
                          f"{out.date.isoformat() if out.date else 'nothing'}")
            out.hint = "an earlier on-time e-mail, if any, is used instead"
            return out
    out.status = "candidate"
    return out


def _decide(outcomes: list[MessageOutcome], keep: str) -> None:
    """Mark duplicates of a Message-ID, then keep one candidate per student."""
    first_by_id: dict[str, int] = {}
    for o in outcomes:
        if not o.message_id:
            continue
        if o.message_id in first_by_id:
            o.status = "duplicate"
            o.reason = f"same Message-ID as message #{first_by_id[o.message_id]}"
        else:
            first_by_id[o.message_id] = o.index
    by_student: dict[str, list[MessageOutcome]] = {}
    for o in outcomes:
        if o.status == "candidate" and o.student:
            by_student.setdefault(o.student, []).append(o)
    for msgs in by_student.values():
        # Ties on Date go to mailbox order, so the choice never depends on anything else.
        ordered = sorted(msgs, key=lambda o: (o.when, o.index))
        chosen = ordered[-1] if keep == "latest" else ordered[0]
        # Of identical resends, the first one is the submission; the others are duplicates.
        chosen = next(o for o in ordered if _fingerprint(o.files) == _fingerprint(chosen.files))
        chosen.status, chosen.reason = "accepted", f"the {keep} e-mail from this student"
        for o in msgs:
            if o is chosen:
                continue
            if _fingerprint(o.files) == _fingerprint(chosen.files):
                o.status = "duplicate"
                o.reason = f"same files as the accepted message #{chosen.index}"
            else:
                o.status = "superseded"
                o.reason = f"message #{chosen.index} is the {keep} one"
            if o.sender.casefold() != chosen.sender.casefold():
                # a second address for one student: the report must say who replaced whom
                chosen.replaces = (f"replaces message #{o.index} from another address "
                                   f"({o.sender})" if o.status == "superseded" else
                                   chosen.replaces)
                o.reason += f", sent from another address ({chosen.sender})"
    # "the latest e-mail" beside a later one marked late read as a contradiction
    late = {o.student for o in outcomes if o.status == "late" and o.student}
    for o in outcomes:
        if o.status == "accepted" and o.student in late and keep == "latest":
            o.reason = "the latest on-time e-mail from this student (a later one was late)"


# --------------------------------------------------------------------------- writing


def _read_tree(folder: Path) -> dict[str, bytes]:
    files: dict[str, bytes] = {}
    for root, dirs, names in os.walk(folder):
        dirs.sort()
        for n in names:
            full = Path(root) / n
            if full.is_symlink():
                files[str(full.relative_to(folder))] = b"\0link"
            else:
                files[full.relative_to(folder).as_posix()] = full.read_bytes()
    return files


def _write_folder(target: Path, files: dict[str, bytes]) -> str:
    """Replace ``target`` by exactly ``files``; leave it alone when already identical."""
    if target.is_dir() and not target.is_symlink() and _read_tree(target) == files:
        return "unchanged"
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        for rel, content in files.items():
            dest = staging.joinpath(*rel.split("/"))
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_bytes(content)
        if target.is_symlink() or target.is_file():
            target.unlink()
        elif target.exists():
            shutil.rmtree(target)
        staging.rename(target)
    finally:  # on every path: a failed write leaves no staging folder behind
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    return "written"


def _write_report(path: Path, outcomes: list[MessageOutcome]) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=REPORT_COLUMNS)  # cells: csv_safe in row()
        writer.writeheader()
        for o in outcomes:
            writer.writerow(o.row())
    tmp.replace(path)


def run_intake(mailbox_path: str | Path, roster: Roster, out: str | Path, *,
               keep: str = "latest", deadline: datetime | None = None,
               limits: IntakeLimits = IntakeLimits(),
               report_path: str | Path | None = None,
               kaggle_dir: str | Path | None = None,
               authserv_id: str | None = None,
               accept_quarantined: frozenset[str] | set[str] | tuple[str, ...] = ()
               ) -> IntakeResult:
    """Turn a mailbox into submission folders and an intake report.

    Parameters
    ----------
    mailbox_path : str or Path
        An ``.mbox`` file or a folder of ``.eml`` files.
    roster : Roster
        Maps sender addresses to students (see :func:`grader.ops.roster.load_roster`).
    out : str or Path
        The submissions folder; ``out/<student>/`` receives the accepted message's files.
    keep : {"latest", "first"}, default="latest"
        Which of a student's valid e-mails counts, by receiving time.
    deadline : datetime, optional
        Time-zone aware; messages received after it (top ``Received:`` header, else the
        mbox envelope; never ``Date:``) are reported ``late`` and never used.
    limits : IntakeLimits
    report_path : str or Path, optional
        Where to write the report; default ``intake_report.csv`` beside ``out`` (not inside
        it: every entry of a submissions folder is taken for a student).
    kaggle_dir : str or Path, optional
        When given, ``kaggle_submission.csv`` goes to ``kaggle_dir/<student>.csv`` instead of
        the student's folder, so that the student's own code cannot read it in the sandbox.
    authserv_id : str, optional
        The receiving server's name in its ``Authentication-Results`` headers (e.g.
        ``mx.unibuc.ro``); only its headers count. Default: the top header.
    accept_quarantined : collection of str
        Message-IDs (or ``#index``) of quarantined messages the instructor accepts.

    Returns
    -------
    IntakeResult

    Notes
    -----
    Idempotent: a student folder whose files are already exactly right is not touched, and
    running the same command twice changes nothing. Folders that an earlier intake wrote
    (listed in ``out/.intake_manifest.json``) but whose student no longer has an accepted
    message are removed; folders the intake never wrote are never removed.
    """
    if keep not in ("latest", "first"):
        raise InputFileError(f"--keep {keep!r} is not 'latest' or 'first'",
                             hint="use --keep latest (default) or --keep first")
    out = Path(out)
    policy = _Policy(roster, deadline, limits, authserv_id,
                     frozenset(str(a).strip() for a in accept_quarantined))
    held: dict[str, int] = {}  # bytes of files held per student, over all their messages
    outcomes = [_classify(i, msg, env, policy, held)
                for i, msg, env in read_mailbox(mailbox_path, limits)]
    if not outcomes:
        raise InputFileError(f"mailbox {mailbox_path} holds no messages",
                             hint="check that the right mailbox was exported")
    _decide(outcomes, keep)
    out.mkdir(parents=True, exist_ok=True)  # only once the mailbox was read
    manifest_path = out / MANIFEST_NAME
    try:
        manifest_old = json.loads(manifest_path.read_text())
        previous = set(manifest_old.get("students", []))
        senders_before = dict(manifest_old.get("senders", {}))
    except (OSError, ValueError, AttributeError, TypeError):
        previous, senders_before = set(), {}
    folders: dict[str, str] = {}
    senders: dict[str, str] = {}
    report = Path(report_path) if report_path is not None else out.parent / REPORT_NAME
    try:
        for o in sorted(outcomes, key=lambda o: o.student or ""):
            if o.status == "accepted" and o.student is not None:
                _write_accepted(o, out, kaggle_dir, folders, senders, senders_before)
        for student in sorted(previous - set(folders)):
            stale = out / student
            if student in roster and stale.is_dir() and not stale.is_symlink():
                shutil.rmtree(stale)
                folders[student] = "removed"
        manifest = json.dumps({"students": sorted(s for s, v in folders.items()
                                                  if v != "removed"),
                               "senders": dict(sorted(senders.items()))}, indent=1)
        if not manifest_path.is_file() or manifest_path.read_text() != manifest:
            manifest_path.write_text(manifest)
    finally:  # the report is written on every path, with what became of each message
        report.parent.mkdir(parents=True, exist_ok=True)
        _write_report(report, outcomes)
    # a submission put in the folder by hand (not by e-mail) counts as one
    accepted = {o.student for o in outcomes if o.status == "accepted"}
    return IntakeResult(outcomes, folders, report, tuple(
        st.id for st in roster.students if st.id not in accepted
        and not (out / st.id).exists() and not (out / f"{st.id}.py").exists()))


def _write_accepted(o: MessageOutcome, out: Path, kaggle_dir: str | Path | None,
                    folders: dict[str, str], senders: dict[str, str],
                    senders_before: dict[str, str]) -> None:
    """Write one accepted message's folder; a failure is that message's ``invalid``."""
    assert o.student is not None
    before = senders_before.get(o.student)
    if before and before.casefold() != o.sender.casefold():
        o.replaces = "; ".join(filter(None, [o.replaces, (
            f"replaces the submission an earlier intake took from another address ({before})")]))
    if o.replaces:
        o.notes.append(o.replaces)
    files = dict(o.files)
    try:
        if kaggle_dir is not None and KAGGLE_NAME in files:
            kaggle_out = Path(kaggle_dir)
            kaggle_out.mkdir(parents=True, exist_ok=True)
            dest = kaggle_out / f"{o.student}.csv"
            content = files.pop(KAGGLE_NAME)
            if not dest.is_file() or dest.read_bytes() != content:
                dest.write_bytes(content)
        folders[o.student] = _write_folder(out / o.student, files)
        senders[o.student] = o.sender
        checked = read_submission(o.student, out / o.student)
        if isinstance(checked, Rejection):
            o.will_be_rejected = (f"but 'grader run' will reject the folder: {checked.reason} "
                                  f"({checked.hint})")
            o.notes.append(o.will_be_rejected)
    except OSError as exc:
        o.status = "invalid"
        o.reason = f"its files could not be written ({type(exc).__name__}: {exc.strerror})"
        o.hint = "ask the student to send the files again with plain names"
