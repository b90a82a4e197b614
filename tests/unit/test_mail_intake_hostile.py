"""Hostile e-mail (issue 16, items 2-4, 6-7): deep MIME, clashing zip paths, spoofed and
back-dated senders, zip amplification, escape sequences and formulas in headers.

Messages are built here with the headers a real receiving server adds: ``Received:`` at the
top, with the time it got the message, and ``Authentication-Results`` with its verdict.
"""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

from grader.demo.ops import demo_message, write_mbox
from grader.ops.mail_intake import IntakeLimits, run_intake, safe_unzip
from grader.ops.roster import load_roster

T0 = datetime(2026, 1, 12, 8, 0, tzinfo=UTC)
DEADLINE = datetime(2026, 1, 18, 23, 59, 59, tzinfo=UTC)
MX = "mx.unibuc.ro"


def _roster(tmp_path):
    p = tmp_path / "roster.csv"
    p.write_text("student,name,email\nana,Ana Pop,ana@s.unibuc.ro\n"
                 "bob,Bob Ion,bob@s.unibuc.ro;bob.ion@gmail.com\n", encoding="utf-8")
    return load_roster(p)


def _received(msg, when: datetime, *, auth: str | None = "spf=pass dkim=pass dmarc=pass"):
    """Put on top what the course's mail server adds on arrival: its Authentication-Results
    (RFC 8601, ``mx; spf=fail smtp.mailfrom=...; dkim=none; dmarc=fail header.from=...``)
    and its Received line with the time it got the message."""
    headers = list(msg.items())
    for k in set(msg.keys()):
        del msg[k]
    if auth is not None:
        sender = str(dict(headers)["From"]).rpartition("<")[2].rstrip(">")
        domain = sender.rpartition("@")[2]
        props = {"spf": f"smtp.mailfrom={sender}", "dkim": f"header.d={domain}",
                 "dmarc": f"header.from={domain}"}
        clauses = [f"{r} {props[r.split('=')[0]]}" for r in auth.split()]
        msg["Authentication-Results"] = f"{MX}; " + "; ".join(clauses)
    msg["Received"] = (f"from mail.example.net (mail.example.net [203.0.113.5]) by {MX} "
                       f"with ESMTPS id 4f2a; {format_datetime(when)}")
    for k, v in headers:
        msg[k] = v
    return msg


def _run(tmp_path, messages, **kw):
    mbox = write_mbox(messages, tmp_path / "in.mbox")
    return run_intake(mbox, _roster(tmp_path), tmp_path / "subs", **kw)


def _staging_left(folder):
    return [p.name for p in folder.iterdir() if p.name.startswith(".") and p.is_dir()]


def _nested(depth: int) -> bytes:
    head = (b"From: Ana Pop <ana@s.unibuc.ro>\r\nSubject: deep\r\nMessage-ID: <deep@x>\r\n"
            b"Date: Mon, 12 Jan 2026 08:00:00 +0000\r\nMIME-Version: 1.0\r\n")
    opens = b"".join(b'Content-Type: multipart/mixed; boundary="b%d"\r\n\r\n--b%d\r\n' % (i, i)
                     for i in range(depth))
    inner = b"Content-Type: text/plain\r\n\r\nhi\r\n"
    return head + opens + inner + b"".join(b"\r\n--b%d--\r\n" % i for i in reversed(range(depth)))


def test_a_message_nested_2000_deep_is_invalid_and_the_others_are_taken(tmp_path):
    deep = _nested(2000)
    assert 100_000 < len(deep) < 200_000  # the 133 KB message
    box = tmp_path / "eml"
    box.mkdir()
    (box / "01.eml").write_bytes(deep)
    ok = demo_message("Bob Ion <bob@s.unibuc.ro>", "p", T0, {"main.py": b"print(1)\n"})
    (box / "02.eml").write_bytes(ok.as_bytes())
    res = run_intake(box, _roster(tmp_path), tmp_path / "subs")
    assert [o.status for o in res.outcomes] == ["invalid", "accepted"]
    assert "MIME" in res.outcomes[0].reason and "limit" in res.outcomes[0].reason
    assert (tmp_path / "subs" / "bob" / "main.py").is_file()
    assert res.report_path.is_file() and not _staging_left(tmp_path / "subs")


def test_mime_depth_below_the_container_count_is_still_limited(tmp_path):
    box = tmp_path / "eml"
    box.mkdir()
    (box / "01.eml").write_bytes(_nested(15))
    res = run_intake(box, _roster(tmp_path), tmp_path / "subs",
                     limits=IntakeLimits(max_mime_depth=10))
    assert res.outcomes[0].status == "invalid"
    assert "nested 16 deep, past the limit of 10" in res.outcomes[0].reason


def _zip(entries: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in entries.items():
            zf.writestr(zipfile.ZipInfo(name, (2026, 1, 1, 0, 0, 0)), data)
    return buf.getvalue()


def test_a_zip_with_a_py_and_a_py_slash_b_py_keeps_the_file_and_says_why(tmp_path):
    clash = _zip({"main.py": b"print(1)\n", "a.py": b"X = 1\n", "a.py/b.py": b"Y = 2\n"})
    files, notes, _ = safe_unzip(clash, "p.zip")
    assert set(files) == {"main.py", "a.py"}
    assert any("'a.py/b.py' needs 'a.py' to be a folder" in n for n in notes)
    later = demo_message("Bob Ion <bob@s.unibuc.ro>", "p2", T0 + timedelta(hours=1),
                         {"main.py": b"print(2)\n"})
    res = _run(tmp_path, [demo_message("Ana Pop <ana@s.unibuc.ro>", "p", T0,
                                       {"p.zip": clash}), later])
    assert [o.status for o in res.outcomes] == ["accepted", "accepted"]
    assert (tmp_path / "subs" / "ana" / "a.py").read_bytes() == b"X = 1\n"
    assert (tmp_path / "subs" / "bob" / "main.py").is_file()
    assert not _staging_left(tmp_path / "subs")


def test_a_spoofed_sender_is_quarantined_and_the_instructor_can_accept_it(tmp_path):
    genuine = _received(demo_message("Ana Pop <ana@s.unibuc.ro>", "proiect", T0,
                                     {"main.py": b"print('mine')\n"}), T0)
    spoof = _received(demo_message("Ana Pop <ana@s.unibuc.ro>", "proiect v2",
                                   T0 + timedelta(hours=5), {"main.py": b"print('evil')\n"},
                                   message_id="<spoof@evil.example>"),
                      T0 + timedelta(hours=5), auth="spf=fail dkim=none dmarc=fail")
    spoof["Return-Path"] = "<bounce@evil.example>"
    res = _run(tmp_path, [genuine, spoof])
    assert [o.status for o in res.outcomes] == ["accepted", "quarantined"]
    q = res.outcomes[1]
    assert "may be forged" in q.reason and "dmarc=fail" in q.reason
    assert "--accept-quarantined '<spoof@evil.example>'" in q.hint
    assert (tmp_path / "subs" / "ana" / "main.py").read_bytes() == b"print('mine')\n"
    row = list(csv.DictReader(res.report_path.open(encoding="utf-8")))[1]
    assert row["authentication"] == "spf=fail dkim=none dmarc=fail"
    assert "quarantined" in res.summary()
    # the instructor knows better: accepted explicitly, and the report says so
    res = _run(tmp_path, [genuine, spoof], accept_quarantined={"<spoof@evil.example>"})
    assert [o.status for o in res.outcomes] == ["superseded", "accepted"]
    assert any("lifted by --accept-quarantined" in n for n in res.outcomes[1].notes)


def test_only_the_receiving_servers_verdict_counts(tmp_path):
    # a forged "pass" lower in the headers does not hide the top header's "fail"
    msg = _received(demo_message("Ana Pop <ana@s.unibuc.ro>", "p", T0, {"main.py": b"1\n"}),
                    T0, auth="spf=fail dkim=none")
    msg["Authentication-Results"] = f"{MX}; spf=pass; dkim=pass; dmarc=pass"  # appended below
    res = _run(tmp_path, [msg])
    assert res.outcomes[0].status == "quarantined"  # no dmarc: spf fail and no dkim pass
    # with --authserv-id only that server's headers count
    res = _run(tmp_path, [msg], authserv_id="other.example")
    assert res.outcomes[0].status == "accepted"


def test_the_deadline_is_judged_by_the_receiving_time_never_by_date(tmp_path):
    # the Date header says on time; the server received it two days late
    backdated = _received(demo_message("Ana Pop <ana@s.unibuc.ro>", "p",
                                       DEADLINE - timedelta(hours=1), {"main.py": b"1\n"}),
                          DEADLINE + timedelta(days=2))
    res = _run(tmp_path, [backdated], deadline=DEADLINE)
    o = res.outcomes[0]
    assert o.status == "late" and "received 2026-01-20" in o.reason
    assert "Date says 2026-01-18T22:59:59" in o.reason
    row = list(csv.DictReader(res.report_path.open(encoding="utf-8")))[0]
    assert row["date"].startswith("2026-01-18") and row["received"].startswith("2026-01-20")
    assert row["received_from"] == "Received header"


def test_without_received_the_mbox_envelope_judges_the_deadline(tmp_path):
    msg = demo_message("Ana Pop <ana@s.unibuc.ro>", "p", DEADLINE - timedelta(hours=1),
                       {"main.py": b"1\n"})
    mbox = write_mbox([msg], tmp_path / "in.mbox")
    text = mbox.read_text().splitlines(keepends=True)
    stamp = datetime(2026, 1, 20, 23, 59, 59).strftime("%a %b %d %H:%M:%S %Y")
    text[0] = f"From ana@s.unibuc.ro {stamp}\n"
    mbox.write_text("".join(text))
    res = run_intake(mbox, _roster(tmp_path), tmp_path / "subs", deadline=DEADLINE)
    assert res.outcomes[0].status == "late"
    assert res.outcomes[0].received_from == "mbox 'From ' line"


def test_a_later_message_from_another_address_says_it_replaced_one(tmp_path):
    first = _received(demo_message("Bob Ion <bob@s.unibuc.ro>", "p", T0, {"main.py": b"1\n"}),
                      T0)
    other = _received(demo_message("Bob Ion <bob.ion@gmail.com>", "p", T0 + timedelta(hours=1),
                                   {"main.py": b"2\n"}), T0 + timedelta(hours=1))
    res = _run(tmp_path, [first, other])
    assert [o.status for o in res.outcomes] == ["superseded", "accepted"]
    assert "replaces message #1 from another address (bob@s.unibuc.ro)" in res.summary()
    row = list(csv.DictReader(res.report_path.open(encoding="utf-8")))[1]
    assert "replaces message #1" in row["notes"]
    # across intake runs too: the manifest remembers who sent the folder's files
    res = _run(tmp_path, [other])
    assert res.outcomes[0].replaces == ""
    res = _run(tmp_path, [first])
    assert "earlier intake took from another address (bob.ion@gmail.com)" in res.summary()


def test_a_multi_zip_message_over_the_per_message_limit_is_refused(tmp_path):
    # 8 zips, each within every per-zip limit, together far past the per-message limit
    blob = (bytes(range(256)) * 64)[:15_000]
    zips = {f"part{i}.zip": _zip({f"m{i}_{j}.py": blob + bytes([i, j]) for j in range(6)})
            for i in range(8)}
    limits = IntakeLimits(max_file_bytes=20_000, max_zip_total_bytes=100_000,
                          max_files_bytes=200_000)
    msg = demo_message("Ana Pop <ana@s.unibuc.ro>", "p", T0, zips)
    res = _run(tmp_path, [msg], limits=limits)
    o = res.outcomes[0]
    assert o.status == "rejected" and "past the limit of 200000 bytes per message" in o.reason
    assert not (tmp_path / "subs" / "ana").exists() and o.files == {}


def test_the_per_student_limit_counts_every_message(tmp_path):
    blob = b"#" * 15_000
    limits = IntakeLimits(max_file_bytes=20_000, max_files_bytes=100_000,
                          max_student_bytes=150_000)
    msgs = [demo_message("Ana Pop <ana@s.unibuc.ro>", f"v{i}", T0 + timedelta(hours=i),
                         {f"m{j}.py": blob + b"%d%d" % (i, j) for j in range(5)})
            for i in range(3)]
    res = _run(tmp_path, msgs, limits=limits)
    assert [o.status for o in res.outcomes][2] == "rejected"
    assert "for this student's e-mails together" in res.outcomes[2].reason


def test_escape_sequences_and_formulas_in_headers_are_neutralised(tmp_path):
    msg = demo_message("=cmd|' /C calc'!A0 <x@evil.example>", "=1+2 \x1b]0;pwned\x07",
                       T0, {"main.py": b"1\n", "-2+3.py": b"2\n"})
    mbox = write_mbox([msg], tmp_path / "in.mbox")
    raw = mbox.read_bytes()
    raw = raw.replace(str(msg["Message-ID"]).encode(), b"@SUM(1+1)*cmd|' /C calc'!A0")
    mbox.write_bytes(raw)
    res = run_intake(mbox, _roster(tmp_path), tmp_path / "subs")
    summary = res.summary()
    assert res.outcomes[0].status == "unknown_sender"
    assert "\x1b" not in summary and "\x07" not in summary and "\\x1b]0;pwned" not in summary
    rows = list(csv.reader(res.report_path.open(encoding="utf-8")))
    cells = [c for row in rows[1:] for c in row]
    assert all(not c.startswith(("=", "+", "-", "@", "\t", "\r")) for c in cells), cells
    assert any(c.startswith("'@SUM(1+1)") for c in cells)
    assert any(c.startswith("'=1+2") for c in cells)


def test_the_accepted_message_beside_a_late_one_says_it_is_the_latest_on_time(tmp_path):
    # "the latest e-mail from this student" stood beside a later message marked late
    on_time = _received(demo_message("Ana Pop <ana@s.unibuc.ro>", "v1", DEADLINE - timedelta(
        hours=3), {"main.py": b"print(1)\n"}), DEADLINE - timedelta(hours=3))
    late = _received(demo_message("Ana Pop <ana@s.unibuc.ro>", "v2", DEADLINE + timedelta(
        hours=1), {"main.py": b"print(2)\n"}), DEADLINE + timedelta(hours=1))
    alone = _received(demo_message("Bob Ion <bob@s.unibuc.ro>", "p", DEADLINE - timedelta(
        hours=2), {"main.py": b"print(3)\n"}), DEADLINE - timedelta(hours=2))
    res = _run(tmp_path, [on_time, late, alone], deadline=DEADLINE)
    ana_v1, ana_v2, bob = res.outcomes
    assert (ana_v1.status, ana_v2.status, bob.status) == ("accepted", "late", "accepted")
    assert ana_v1.reason == "the latest on-time e-mail from this student (a later one was late)"
    assert bob.reason == "the latest e-mail from this student"
