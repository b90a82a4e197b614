"""Feedback by e-mail: each student their own page (plain text + HTML) over SMTP.

The messages are the student pages rendered from the store (``reports.render_page``), so they
hold exactly what the course has released (``[reports] release_private``,
``release_similarity``) and nothing about other students. Sending is resumable: each message
is recorded in the store (``feedback_sent``: student, digest of the content, address) the
moment the server accepts it, so a rerun skips what was sent, an SMTP failure mid-way loses
nothing, and a changed page (after a regrade) is sent again as an update. Students who are
not in the roster, or have no e-mail there, are listed and never guessed.

Credentials come from the environment (``GRADER_SMTP_USER``, ``GRADER_SMTP_PASSWORD``) or a
prompt, never from course.toml.
"""

from __future__ import annotations

import hashlib
import smtplib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path

from grader.errors import GraderError
from grader.ops.roster import Roster
from grader.store import Store

__all__ = ["SmtpSettings", "Outgoing", "Plan", "FeedbackError", "plan_feedback",
           "send_feedback", "write_outbox"]


class FeedbackError(GraderError):
    """Sending stopped (the SMTP server refused or went away); what was sent is recorded."""

    reference = "feedback-send"


@dataclass(frozen=True)
class SmtpSettings:
    """Where and how to send. ``password`` is never stored or printed."""

    host: str = "localhost"
    port: int = 587
    starttls: bool = True
    ssl: bool = False
    username: str = ""
    password: str = field(default="", repr=False)
    timeout_s: float = 30.0


@dataclass(frozen=True)
class Outgoing:
    """One student's message, ready to send."""

    student: str
    to: tuple[str, ...]
    digest: str
    message: EmailMessage


@dataclass
class Plan:
    """What a send would do: the messages to send, and who is left out and why."""

    outgoing: list[Outgoing]
    already_sent: list[str]
    not_in_roster: list[str]
    no_email: list[str]


def _message(student: str, to: tuple[str, ...], sender: str, subject: str, text: str,
             html: str) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = ", ".join(to)
    msg["Subject"] = subject
    msg["Date"] = formatdate(localtime=False)
    msg["Message-ID"] = make_msgid(idstring=student, domain=sender.rpartition("@")[2] or None)
    msg.set_content(text)
    msg.add_alternative(html, subtype="html")
    return msg


def plan_feedback(out: Path, roster: Roster, *, sender: str,
                  subject: str | None = None) -> Plan:
    """Render every student's page and match them to the roster (nothing is sent).

    Parameters
    ----------
    out : Path
        The batch folder (``grading.db``).
    roster : Roster
        The class roster (``grader.ops.roster.load_roster``): the addresses.
    sender : str
        The From address.
    subject : str, optional
        Default: ``"<course>: feedback on your submission"``.
    """
    from reports import render_page
    from reports._load import page_name

    with Store(Path(out) / "grading.db") as store:
        snapshot = store.snapshot()
        sent = store.feedback_sent()
    course = str(snapshot["meta"].get("course") or "course")
    subject = subject or f"{course}: feedback on your submission"
    plan = Plan([], [], [], [])
    for sub in snapshot["submissions"]:
        student = sub["student"]
        entry = roster.get(student)
        if entry is None:
            plan.not_in_roster.append(student)
            continue
        if not entry.emails:
            plan.no_email.append(student)
            continue
        page = page_name(student)
        text = render_page(out, snapshot, f"students/{page}.txt")
        html = render_page(out, snapshot, f"students/{page}.html", script=False)
        if text is None or html is None:
            continue
        to = tuple(entry.emails)
        digest = hashlib.sha256("\0".join((*to, subject, text, html)).encode()).hexdigest()
        if (student, digest) in sent:
            plan.already_sent.append(student)
            continue
        plan.outgoing.append(Outgoing(student, to, digest,
                                      _message(student, to, sender, subject, text, html)))
    return plan


def write_outbox(plan: Plan, outbox: Path) -> list[Path]:
    """``--dry-run``: each message as ``<outbox>/<student>.eml`` (nothing recorded as sent)."""
    from reports._load import page_name

    outbox = Path(outbox)
    outbox.mkdir(parents=True, exist_ok=True)
    paths = []
    for o in plan.outgoing:
        path = outbox / f"{page_name(o.student)}.eml"
        path.write_bytes(bytes(o.message))
        paths.append(path)
    return paths


def send_feedback(out: Path, plan: Plan, smtp: SmtpSettings, *, per_minute: float = 30.0,
                  say: Callable[[str], None] = print,
                  sleep: Callable[[float], None] = time.sleep) -> int:
    """Send the planned messages, at most ``per_minute``, each recorded once accepted.

    Returns the number sent.

    Raises
    ------
    FeedbackError
        The server could not be reached, refused the login, or failed mid-way: the message
        says how many were sent (and recorded) and that the same command resumes.
    """
    if not plan.outgoing:
        return 0
    gap = 60.0 / per_minute if per_minute > 0 else 0.0
    sent = 0
    try:
        cls = smtplib.SMTP_SSL if smtp.ssl else smtplib.SMTP
        with cls(smtp.host, smtp.port, timeout=smtp.timeout_s) as server, \
                Store(Path(out) / "grading.db") as store:
            if smtp.starttls and not smtp.ssl:
                server.starttls()
            if smtp.username:
                server.login(smtp.username, smtp.password)
            for i, o in enumerate(plan.outgoing):
                if i and gap:
                    sleep(gap)
                server.send_message(o.message)
                store.mark_sent(o.student, ", ".join(o.to), o.digest, o.message["Message-ID"])
                sent += 1
                say(f"  sent to {o.student} <{', '.join(o.to)}>")
    except (smtplib.SMTPException, OSError) as exc:
        left = len(plan.outgoing) - sent
        raise FeedbackError(
            f"sending stopped after {sent} of {len(plan.outgoing)} message(s): "
            f"{type(exc).__name__}: {exc}",
            hint=f"the {sent} sent are recorded in grading.db; fix the problem and run the "
                 f"same command again to send the other {left}") from None
    return sent
