"""``grader feedback send`` against a real SMTP server (aiosmtpd) started by the test: one
message per student with only their data, nothing sent twice, a failure mid-way resumed."""

from __future__ import annotations

import email
import socket
from email import policy
from pathlib import Path

import pytest

from grader.cli import main
from grader.errors import InputFileError
from grader.ops.feedback import FeedbackError, SmtpSettings, plan_feedback, send_feedback
from grader.ops.roster import load_roster
from tests.synthetic_batch import make_batch

aiosmtpd = pytest.importorskip("aiosmtpd.controller")


class Inbox:
    """An SMTP handler that keeps every message and can refuse the n-th one."""

    def __init__(self) -> None:
        self.messages: list[tuple[list[str], email.message.EmailMessage]] = []
        self.fail_at: int | None = None
        self.seen = 0

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's name
        self.seen += 1
        if self.fail_at is not None and self.seen == self.fail_at:
            return "451 4.3.0 mailbox temporarily unavailable"
        msg = email.message_from_bytes(envelope.content, policy=policy.default)
        self.messages.append((list(envelope.rcpt_tos), msg))
        return "250 OK"


@pytest.fixture
def smtp():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    inbox = Inbox()
    ctl = aiosmtpd.Controller(inbox, hostname="127.0.0.1", port=port)
    ctl.start()
    yield inbox, SmtpSettings(host="127.0.0.1", port=port, starttls=False)
    ctl.stop()


@pytest.fixture
def batch(tmp_path):
    out = tmp_path / "out"
    names = make_batch(out, students=8, pairs=4)  # nothing released: private, similarity
    students = names["students"]
    roster = tmp_path / "roster.csv"
    lines = ["student,name,email"]
    for i, s in enumerate(students[:-1]):  # the last one is not in the roster
        lines.append(f"{s},Student {i},{'' if i == 5 else f'{s}@uni.example'}")
    roster.write_text("\n".join(lines) + "\n")
    return out, names, roster


def _body(msg) -> tuple[str, str]:
    return (msg.get_body(("plain",)).get_content(), msg.get_body(("html",)).get_content())


def test_each_student_gets_only_their_page_once(batch, smtp):
    out, names, roster = batch
    inbox, settings = smtp
    students = names["students"]
    plan = plan_feedback(out, load_roster(roster), sender="ml@uni.example")
    assert plan.not_in_roster == [students[-1]] and plan.no_email == [students[5]]
    sent = send_feedback(out, plan, settings, per_minute=0, say=lambda m: None)
    expected = [s for i, s in enumerate(students[:-1]) if i != 5]
    assert sent == len(expected) == len(inbox.messages) == 6
    by_rcpt = {rcpts[0]: msg for rcpts, msg in inbox.messages}
    assert sorted(by_rcpt) == sorted(f"{s}@uni.example" for s in expected)
    for s in expected:
        text, html = _body(by_rcpt[f"{s}@uni.example"])
        assert s in text and s in html
        others = [o for o in students if o != s]
        assert not any(o in text or o in html for o in others), f"{s} sees another student"
        assert 'id="private-score"' not in html and "<script" not in html
    copier = by_rcpt[f"{names['pair'][1]}@uni.example"]
    assert "flagged" not in _body(copier)[1]  # similarity findings are not released
    again = plan_feedback(out, load_roster(roster), sender="ml@uni.example")
    assert again.outgoing == [] and sorted(again.already_sent) == sorted(expected)
    assert send_feedback(out, again, settings, say=lambda m: None) == 0
    assert len(inbox.messages) == 6


def test_a_failure_midway_loses_nothing_and_resumes(batch, smtp):
    out, _, roster = batch
    inbox, settings = smtp
    inbox.fail_at = 3
    plan = plan_feedback(out, load_roster(roster), sender="ml@uni.example")
    with pytest.raises(FeedbackError) as err:
        send_feedback(out, plan, settings, per_minute=0, say=lambda m: None)
    assert "after 2 of 6" in str(err.value) and "run the same command again" in err.value.render()
    assert len(inbox.messages) == 2
    inbox.fail_at = None
    resumed = plan_feedback(out, load_roster(roster), sender="ml@uni.example")
    assert len(resumed.outgoing) == 4 and len(resumed.already_sent) == 2
    send_feedback(out, resumed, settings, per_minute=0, say=lambda m: None)
    recipients = [r[0] for r, _ in inbox.messages]
    assert len(recipients) == 6 == len(set(recipients))


def test_cli_dry_run_writes_eml_and_sends_nothing(batch, smtp, tmp_path, capsys):
    out, names, roster = batch
    inbox, settings = smtp
    outbox = tmp_path / "outbox"
    rc = main(["feedback", "send", str(out), "--roster", str(roster), "--dry-run",
               "--outbox", str(outbox), "--from", "ml@uni.example"])
    assert rc == 0
    emls = sorted(outbox.glob("*.eml"))
    assert len(emls) == 6 and inbox.messages == []
    msg = email.message_from_bytes(emls[0].read_bytes(), policy=policy.default)
    assert msg["To"].endswith("@uni.example") and msg.get_body(("html",)) is not None
    err = capsys.readouterr().err
    assert f"not in the roster (1): {names['students'][-1]}" in err
    assert f"no e-mail in the roster (1): {names['students'][5]}" in err
    rc = main(["feedback", "send", str(out), "--roster", str(roster), "--from", "ml@uni.example",
               "--smtp-host", "127.0.0.1", "--smtp-port", str(settings.port), "--no-starttls",
               "--rate", "0"])
    assert rc == 0 and len(inbox.messages) == 6


def test_a_dry_run_needs_no_from_address_but_sending_does(batch, smtp, tmp_path, capsys,
                                                         monkeypatch):
    # a preview before the course's sender address is settled was refused: "no From address"
    out, names, roster = batch
    inbox, settings = smtp
    monkeypatch.delenv("GRADER_SMTP_FROM", raising=False)
    outbox = tmp_path / "outbox"
    assert main(["feedback", "send", str(out), "--roster", str(roster), "--dry-run",
                 "--outbox", str(outbox)]) == 0
    msg = email.message_from_bytes(sorted(outbox.glob("*.eml"))[0].read_bytes(),
                                   policy=policy.default)
    assert msg["From"] == "course@example.invalid"
    assert "no --from given" in capsys.readouterr().err
    rc = main(["feedback", "send", str(out), "--roster", str(roster),
               "--smtp-host", "127.0.0.1", "--smtp-port", str(settings.port)])
    assert rc != 0 and "no From address" in capsys.readouterr().err
    assert inbox.messages == []


def test_a_malformed_roster_email_names_the_row_and_sends_nothing(batch, smtp):
    out, names, roster = batch
    inbox, settings = smtp
    lines = roster.read_text().splitlines()
    lines[3] = lines[3].replace("@uni.example", "@@nowhere")
    roster.write_text("\n".join(lines) + "\n")
    with pytest.raises(InputFileError) as err:
        load_roster(roster)
    assert "roster.csv:4" in err.value.render() and "@@nowhere" in err.value.render()
    rc = main(["feedback", "send", str(out), "--roster", str(roster), "--from", "ml@uni.example",
               "--smtp-host", "127.0.0.1", "--smtp-port", str(settings.port), "--no-starttls"])
    assert rc != 0 and inbox.messages == []
    assert Path(out / "grading.db").is_file()
