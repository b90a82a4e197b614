"""E-mail intake on a realistic 30-message mailbox made here: duplicates, a late and an
on-time resubmission, hostile zips, a notebook-only e-mail, unknown senders, diacritics."""

from __future__ import annotations

import csv
import io
import stat
import zipfile
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage

import pytest

from grader.demo.ops import demo_message, write_mbox
from grader.errors import InputFileError
from grader.ops.mail_intake import (
    IPYNB_REASON,
    IntakeLimits,
    parse_deadline,
    run_intake,
    safe_unzip,
)
from grader.ops.roster import load_roster

T0 = datetime(2026, 1, 12, 8, 0, tzinfo=UTC)
DEADLINE = datetime(2026, 1, 18, 23, 59, 59, tzinfo=UTC)
LIMITS = IntakeLimits(max_file_bytes=20_000, max_doc_bytes=50_000, max_zip_entries=20,
                      max_zip_total_bytes=100_000)
PDF = b"%PDF-1.4\n%%EOF\n"

STUDENTS = {  # id: (name, address)
    "ana-popescu": ("Ana Popescu", "ana.popescu@s.unibuc.ro"),
    "stefan-turcanu": ("Ștefan Țurcanu", "stefan.turcanu@s.unibuc.ro"),
    "ioana-margarit": ("Ioana Mărgărit", "ioana.margarit@s.unibuc.ro"),
    "andrei-campeanu": ("Andrei Câmpeanu", "andrei.campeanu@s.unibuc.ro"),
    "irina-birsan": ("Irina Bîrsan", "irina.birsan@s.unibuc.ro"),
    "elena-serban": ("Elena Șerban", "elena.serban@s.unibuc.ro"),
    "radu-vladescu": ("Radu Vlădescu", "radu.vladescu@s.unibuc.ro"),
    "cristina-tanase": ("Cristina Tănase", "cristina.tanase@s.unibuc.ro"),
    "bogdan-ionescu": ("Bogdan Ionescu", "bogdan.ionescu@s.unibuc.ro"),
    "alina-costachescu": ("Alina Costăchescu", "alina.costachescu@s.unibuc.ro"),
    "vlad-iliescu": ("Vlad Iliescu", "vlad.iliescu@s.unibuc.ro"),
    "maria-dinu": ("Maria Dinu", "maria.dinu@s.unibuc.ro"),
    "george-pavel": ("George Pavel", "george.pavel@s.unibuc.ro"),
    "dan-stan": ("Dan Stan", "dan.stan@s.unibuc.ro"),
}


def _zip(entries: dict[str, bytes], links: dict[str, str] | None = None) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in entries.items():
            zf.writestr(zipfile.ZipInfo(name, (2026, 1, 1, 0, 0, 0)), data)
        for name, target in (links or {}).items():
            info = zipfile.ZipInfo(name, (2026, 1, 1, 0, 0, 0))
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            zf.writestr(info, target)
    return buf.getvalue()


def _code(sid: str, version: int = 1) -> bytes:
    return f"# {sid} v{version}\nprint('training {sid}')\n".encode()


def _from(sid: str, *, display: str | None = None, upper: bool = False) -> str:
    name, addr = STUDENTS[sid]
    return f"{display or name} <{addr.upper() if upper else addr}>"


def build_messages() -> list[EmailMessage]:
    """30 messages; the expected fate of each is in EXPECTED."""
    m: list[EmailMessage] = []
    at = iter(T0 + timedelta(hours=3 * i) for i in range(100))

    def add(sender, subject, files=None, *, when=None, body="", mid=None):
        m.append(demo_message(sender, subject, when or next(at), files, body=body,
                              message_id=mid))

    # 1-9: ordinary submissions (main.py + PDF), some zipped in a top folder.
    for sid in ("ana-popescu", "stefan-turcanu", "ioana-margarit", "andrei-campeanu",
                "irina-birsan", "elena-serban", "radu-vladescu", "cristina-tanase",
                "bogdan-ionescu"):
        if sid in ("ioana-margarit", "elena-serban"):
            files = {"proiect.zip": _zip({"proiect/main.py": _code(sid),
                                          "proiect/utils.py": b"X = 1\n",
                                          "proiect/documentatie.pdf": PDF,
                                          "__MACOSX/proiect/._main.py": b"junk"})}
        else:
            files = {"main.py": _code(sid), "documentatie.pdf": PDF}
        add(_from(sid), f"Proiect IA - {STUDENTS[sid][0]}", files, mid=f"<{sid}-1@mail>")
    # 10-11: the same message twice more in the mbox (same Message-ID), e.g. after a merge.
    m.append(m[0])
    m.append(m[2])
    # 12: an identical resend with a new Message-ID (same files) — still a duplicate.
    add(_from("radu-vladescu"), "Re: Proiect IA", {"main.py": _code("radu-vladescu"),
                                                    "documentatie.pdf": PDF})
    # 13: on-time resubmission: v2 replaces v1 (a superseded message).
    add(_from("ana-popescu"), "Proiect IA v2", {"main.py": _code("ana-popescu", 2),
                                                "documentatie.pdf": PDF})
    # 14: late resubmission after the deadline: reported late; v1 stays.
    add(_from("stefan-turcanu"), "Proiect IA - varianta finală",
        {"main.py": _code("stefan-turcanu", 2)}, when=DEADLINE + timedelta(hours=5))
    # 15: a zip with path traversal, an absolute path, a link and an oversized entry.
    add(_from("alina-costachescu"), "proiect", {"proiect.zip": _zip(
        {"main.py": _code("alina-costachescu"),
         "../../escaped.py": b"print('escaped')\n",
         "/tmp/absolute.py": b"print('abs')\n",
         "model_weights.py": b"W = [" + b"0," * 15_000 + b"]\n",
         "notes.docx": b"PK..."},
        links={"link.py": "/etc/passwd"})})
    # 16: notebook only — rejected by the course rule.
    add(_from("vlad-iliescu"), "Proiect", {"proiect.ipynb": b'{"cells": []}'})
    # 17: unknown address, but the display name is a student's: never guessed, hinted.
    add("Maria Dinu <maria.dinu.1999@yahoo.com>", "Proiect IA",
        {"main.py": _code("maria-dinu")})
    # 18: unknown address and name.
    add("Spam Bot <offers@example.com>", "You won", {"invoice.py": b"import os\n"})
    # 19: a question, no attachment.
    add(_from("george-pavel"), "Întrebare", body="Se poate trimite și .ipynb?")
    # 20: George then sends the code, his address typed in capitals.
    add(_from("george-pavel", upper=True), "Proiect", {"main.py": _code("george-pavel")})
    # 21: an attachment name with directories (Windows client) and a Kaggle predictions file.
    add(_from("dan-stan"), "Proiect + predictii",
        {"C:\\Users\\dan\\Desktop\\main.py": _code("dan-stan"),
         "kaggle_submission.csv": b"id,label\n1,0\n2,1\n"})
    # 22-24: Maria from her university address: draft, final, and a .rar (rejected).
    add(_from("maria-dinu"), "draft", {"main.py": _code("maria-dinu", 1)})
    add(_from("maria-dinu"), "final", {"main.py": _code("maria-dinu", 2),
                                       "raport.pdf": PDF})
    add(_from("maria-dinu"), "arhiva", {"proiect.rar": b"Rar!\x1a\x07"})
    # 25: a notebook AND a .py: the .py is taken, the notebook noted.
    add(_from("bogdan-ionescu"), "v2 cu notebook", {"main.py": _code("bogdan-ionescu", 2),
                                                    "explorare.ipynb": b"{}"})
    # 26: Vlad again, still only a notebook inside a zip.
    add(_from("vlad-iliescu"), "Proiect (zip)", {"p.zip": _zip({"p/proiect.ipynb": b"{}"})})
    # 27: a broken zip and nothing else.
    add(_from("irina-birsan"), "arhiva", {"proiect.zip": b"PK\x03\x04 not really a zip"})
    # 28: Cristina resends with a second file, before the deadline.
    add(_from("cristina-tanase"), "Proiect v2", {"main.py": _code("cristina-tanase", 2),
                                                 "model.py": b"class M: pass\n"})
    # 29: Radu once more, exact duplicate (same Message-ID as his first).
    m.append(m[6])
    # 30: Dan, late and with only a PDF.
    add(_from("dan-stan"), "documentatie", {"doc.pdf": PDF}, when=DEADLINE + timedelta(days=1))
    assert len(m) == 30
    return m


EXPECTED = {
    1: "superseded", 2: "accepted", 3: "accepted", 4: "accepted", 5: "accepted",
    6: "accepted", 7: "accepted", 8: "superseded", 9: "superseded", 10: "duplicate",
    11: "duplicate", 12: "duplicate", 13: "accepted", 14: "late", 15: "accepted",
    16: "rejected", 17: "unknown_sender", 18: "unknown_sender", 19: "no_submission",
    20: "accepted", 21: "accepted", 22: "superseded", 23: "accepted", 24: "rejected",
    25: "accepted", 26: "rejected", 27: "rejected", 28: "accepted", 29: "duplicate",
    30: "rejected",
}


@pytest.fixture
def course(tmp_path):
    roster = tmp_path / "roster.csv"
    with roster.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["student", "name", "email", "kaggle", "group"])
        for sid, (name, addr) in STUDENTS.items():
            w.writerow([sid, name, addr, "", "231"])
    mbox = write_mbox(build_messages(), tmp_path / "inbox.mbox")
    return tmp_path, load_roster(roster), mbox


def _tree(root):
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def test_thirty_messages_each_accounted_for(course):
    tmp, roster, mbox = course
    out = tmp / "submissions"
    res = run_intake(mbox, roster, out, deadline=DEADLINE, limits=LIMITS)
    assert {o.index: o.status for o in res.outcomes} == EXPECTED
    rows = list(csv.DictReader(res.report_path.open(encoding="utf-8")))
    assert res.report_path == tmp / "intake_report.csv"
    assert [r["status"] for r in rows] == [EXPECTED[i] for i in range(1, 31)]
    by = {int(r["message"]): r for r in rows}
    assert by[16]["reason"] == IPYNB_REASON and "Download as > Python (.py)" in by[16]["hint"]
    assert by[26]["reason"] == IPYNB_REASON
    assert "maria-dinu" in by[17]["hint"] and by[17]["student"] == ""
    assert "after the deadline" in by[14]["reason"]
    assert "Message-ID" in by[10]["reason"] and "same files" in by[12]["reason"]
    assert by[20]["match"] == "case-insensitive"
    assert "not a readable zip" in by[27]["notes"]
    assert "no .py file" in by[30]["reason"] or by[30]["status"] == "late"
    summary = res.summary()
    assert summary.startswith("intake: 30 messages: 13 accepted, 4 superseded, 4 duplicate,"
                              " 1 late, 5 rejected, 1 no submission, 2 unknown sender")
    assert "offers@example.com" in summary


def test_folders_hold_exactly_the_chosen_files(course):
    tmp, roster, mbox = course
    out = tmp / "submissions"
    run_intake(mbox, roster, out, deadline=DEADLINE, limits=LIMITS)
    assert sorted(p.name for p in out.iterdir() if not p.name.startswith(".")) == sorted(
        ["ana-popescu", "stefan-turcanu", "ioana-margarit", "andrei-campeanu",
         "irina-birsan", "elena-serban", "radu-vladescu", "cristina-tanase",
         "bogdan-ionescu", "alina-costachescu", "george-pavel", "dan-stan", "maria-dinu"])
    assert (out / "ana-popescu" / "main.py").read_bytes() == _code("ana-popescu", 2)
    assert (out / "stefan-turcanu" / "main.py").read_bytes() == _code("stefan-turcanu", 1)
    # the zip's top folder is dropped, Finder junk skipped
    assert _tree(out / "ioana-margarit") == ["documentatie.pdf", "main.py", "utils.py"]
    assert _tree(out / "dan-stan") == ["kaggle_submission.csv", "main.py"]
    assert _tree(out / "maria-dinu") == ["main.py", "raport.pdf"]
    assert _tree(out / "bogdan-ionescu") == ["main.py"]
    assert _tree(out / "cristina-tanase") == ["main.py", "model.py"]


def test_hostile_zip_entries_never_leave_the_folder(course):
    tmp, roster, mbox = course
    out = tmp / "deep" / "submissions"
    res = run_intake(mbox, roster, out, deadline=DEADLINE, limits=LIMITS)
    assert _tree(out / "alina-costachescu") == ["main.py"]
    everything = [p.name for p in tmp.rglob("*")]
    assert "escaped.py" not in everything and "absolute.py" not in everything
    assert not any(p.is_symlink() for p in out.rglob("*"))
    notes = next(o for o in res.outcomes if o.index == 15).notes
    text = " | ".join(notes)
    assert "'../../escaped.py' has an unsafe path" in text
    assert "'/tmp/absolute.py' has an unsafe path" in text
    assert "'link.py' is a link" in text
    assert "'model_weights.py' is 30" in text and "over the 20000-byte limit" in text
    assert "'notes.docx' ignored" in text


def test_rerun_is_idempotent_and_keep_first_changes_the_choice(course):
    tmp, roster, mbox = course
    out = tmp / "submissions"
    first = run_intake(mbox, roster, out, deadline=DEADLINE, limits=LIMITS)
    report = first.report_path.read_bytes()
    stamps = {p: p.stat().st_mtime_ns for p in out.rglob("*") if p.is_file()}
    again = run_intake(mbox, roster, out, deadline=DEADLINE, limits=LIMITS)
    assert set(again.folders.values()) == {"unchanged"}
    assert {p: p.stat().st_mtime_ns for p in out.rglob("*") if p.is_file()} == stamps
    assert again.report_path.read_bytes() == report
    firsts = run_intake(mbox, roster, out, keep="first", deadline=DEADLINE, limits=LIMITS)
    assert (out / "ana-popescu" / "main.py").read_bytes() == _code("ana-popescu", 1)
    assert firsts.folders["ana-popescu"] == "written"
    assert firsts.folders["radu-vladescu"] == "unchanged"
    # without a deadline Ștefan's late v2 is simply the latest
    run_intake(mbox, roster, out, limits=LIMITS)
    assert (out / "stefan-turcanu" / "main.py").read_bytes() == _code("stefan-turcanu", 2)


def test_folders_written_before_are_removed_when_no_longer_accepted(tmp_path):
    roster_path = tmp_path / "roster.csv"
    roster_path.write_text("student,name,email\nana,Ana,ana@x.ro\nbob,Bob,bob@x.ro\n")
    roster = load_roster(roster_path)
    msgs = [demo_message("ana@x.ro", "p", T0, {"main.py": b"print(1)\n"}),
            demo_message("bob@x.ro", "p", T0 + timedelta(days=30), {"main.py": b"print(2)\n"})]
    mbox = write_mbox(msgs, tmp_path / "in.mbox")
    out = tmp_path / "subs"
    (out / "manual").mkdir(parents=True)  # placed by hand: never touched
    run_intake(mbox, roster, out)
    assert (out / "bob" / "main.py").exists()
    res = run_intake(mbox, roster, out, deadline=T0 + timedelta(days=1))
    assert res.folders["bob"] == "removed" and not (out / "bob").exists()
    assert (out / "ana").is_dir() and (out / "manual").is_dir()


def test_eml_folder_and_date_fallbacks(tmp_path):
    roster_path = tmp_path / "roster.csv"
    roster_path.write_text("student,name,email\nana,Ana Pop,ana@x.ro\n")
    box = tmp_path / "eml"
    box.mkdir()
    ok = demo_message("ana@x.ro", "p", T0, {"soluție.py": "print('ș')\n".encode()})
    undated = demo_message("ana@x.ro", "p2", T0, {"main.py": b"print(2)\n"})
    del undated["Date"]
    (box / "01.eml").write_bytes(ok.as_bytes())
    (box / "02.eml").write_bytes(undated.as_bytes())
    (box / "notes.txt").write_text("not a message")
    res = run_intake(box, load_roster(roster_path), tmp_path / "subs")
    assert [o.status for o in res.outcomes] == ["accepted", "invalid"]
    assert "no valid Date header" in res.outcomes[1].reason
    assert (tmp_path / "subs" / "ana" / "soluție.py").read_text() == "print('ș')\n"


def test_a_maildir_is_read_like_a_folder_of_messages(tmp_path):
    # what mail servers and fetchmail/offlineimap store: cur/ new/ tmp/, one file a message
    import mailbox

    roster_path = tmp_path / "roster.csv"
    roster_path.write_text("student,name,email\nana,Ana Pop,ana@x.ro\nbob,Bob,bob@x.ro\n")
    box = mailbox.Maildir(tmp_path / "Maildir", create=True)
    box.add(demo_message("ana@x.ro", "p", T0, {"main.py": b"print(1)\n"}))
    box.add(demo_message("bob@x.ro", "p", T0, {"main.py": b"print(2)\n"}))
    res = run_intake(tmp_path / "Maildir", load_roster(roster_path), tmp_path / "subs")
    assert sorted((o.student, o.status) for o in res.outcomes) == [
        ("ana", "accepted"), ("bob", "accepted")]
    assert (tmp_path / "subs" / "bob" / "main.py").read_text() == "print(2)\n"


def test_bad_mailboxes_and_options(tmp_path):
    roster_path = tmp_path / "roster.csv"
    roster_path.write_text("student,name,email\nana,Ana,ana@x.ro\n")
    roster = load_roster(roster_path)
    with pytest.raises(InputFileError, match="does not exist"):
        run_intake(tmp_path / "missing.mbox", roster, tmp_path / "o")
    bad = tmp_path / "inbox.mbox"
    bad.write_text("Subject: hi\n\nnot an mbox\n")
    with pytest.raises(InputFileError, match=r"inbox.mbox:1: not an mbox file"):
        run_intake(bad, roster, tmp_path / "o")
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputFileError, match="no .eml files"):
        run_intake(tmp_path / "empty", roster, tmp_path / "o")
    assert not (tmp_path / "o").exists()  # a mailbox that cannot be read leaves no folder
    with pytest.raises(InputFileError, match="--keep"):
        run_intake(bad, roster, tmp_path / "o", keep="newest")
    with pytest.raises(InputFileError, match="no time zone"):
        parse_deadline("2026-01-18T23:59")
    assert parse_deadline("2026-01-18T23:59:59Z") == datetime(2026, 1, 18, 23, 59, 59,
                                                              tzinfo=UTC)


def test_zip_limits_entry_count_and_lying_sizes():
    many = _zip({f"f{i}.py": b"x=1\n" for i in range(25)})
    files, notes, _ = safe_unzip(many, "many.zip", LIMITS)
    assert files == {} and "25 entries exceed the limit of 20" in notes[0]
    # A zip whose directory claims 10 bytes for an entry that inflates to 60 kB.
    big = _zip({"bomb.py": b"0" * 60_000})
    central = big.index(b"PK\x01\x02")
    lying = big[:central + 24] + (10).to_bytes(4, "little") + big[central + 28:]
    files, notes, _ = safe_unzip(lying, "bomb.zip", LIMITS)
    # (zipfile stops at the claimed size and then fails the CRC; either way nothing is kept)
    assert files == {} and "'bomb.py'" in notes[0] and notes[0].endswith("skipped")
    # Total size cap across entries.
    files, notes, _ = safe_unzip(_zip({f"m{i}.py": (bytes(range(256)) * 47)[:12_000]
                                       for i in range(10)}), "t.zip", LIMITS)
    assert len(files) == 8 and "total size limit" in notes[0]


def test_mbox_message_without_date_uses_the_envelope_line(tmp_path):
    roster_path = tmp_path / "roster.csv"
    roster_path.write_text("student,name,email\nana,Ana Pop,ana@x.ro\n")
    old = demo_message("ana@x.ro", "v1", T0, {"main.py": b"print(1)\n"})
    new = demo_message("ana@x.ro", "v2", T0 + timedelta(days=2), {"main.py": b"print(2)\n"})
    mbox = write_mbox([old, new], tmp_path / "in.mbox")  # envelope lines carry the dates
    text = mbox.read_text().replace(f"Date: {new['Date']}\n", "")
    mbox.write_text(text)
    res = run_intake(mbox, load_roster(roster_path), tmp_path / "subs")
    assert [o.status for o in res.outcomes] == ["superseded", "accepted"]
    # the receiving time comes from the envelope whether or not there is a Date header
    assert res.outcomes[1].received == T0 + timedelta(days=2) and res.outcomes[1].date is None
    assert res.outcomes[1].received_from == "mbox 'From ' line"


def test_oversized_message_is_not_parsed(tmp_path):
    roster_path = tmp_path / "roster.csv"
    roster_path.write_text("student,name,email\nana,Ana Pop,ana@x.ro\n")
    small = demo_message("ana@x.ro", "code", T0, {"main.py": b"print(1)\n"})
    huge = demo_message("ana@x.ro", "data", T0 + timedelta(hours=1),
                        {"main.py": b"print(2)\n", "train.pdf": b"%PDF" + b"x" * 40_000})
    mbox = write_mbox([small, huge], tmp_path / "in.mbox")
    res = run_intake(mbox, load_roster(roster_path), tmp_path / "subs",
                     limits=IntakeLimits(max_message_bytes=20_000))
    assert [o.status for o in res.outcomes] == ["accepted", "invalid"]
    assert res.outcomes[1].reason == "message larger than 20000 bytes"
    assert (tmp_path / "subs" / "ana" / "main.py").read_bytes() == b"print(1)\n"


def test_code_from_a_forwarded_message_is_noted_with_its_sender(tmp_path):
    # Ilinca forwards Stefan's mail with his main.py: taken as hers, but never silently
    roster_path = tmp_path / "roster.csv"
    roster_path.write_text("student,name,email\nilinca,Ilinca,ilinca@x.ro\n"
                           "stefan,Stefan,stefan@x.ro\n")
    inner = demo_message("stefan@x.ro", "proiect", T0, {"main.py": b"print('stefan')\n"})
    outer = demo_message("ilinca@x.ro", "Fwd: proiect", T0 + timedelta(hours=1), {})
    outer.add_attachment(inner)
    box = tmp_path / "eml"
    box.mkdir()
    (box / "01.eml").write_bytes(outer.as_bytes())
    res = run_intake(box, load_roster(roster_path), tmp_path / "subs")
    (out,) = res.outcomes
    assert out.student == "ilinca" and out.status == "accepted"
    assert any("forwarded message from" in n and "stefan@x.ro" in n for n in out.notes), \
        out.notes


def test_a_py_suffix_in_capitals_is_code_saved_with_a_lower_case_suffix(tmp_path):
    # MAIN.PY from a Windows machine was rejected as "no .py file among the attachments
    # (MAIN.PY)", while the report listed it as saved
    import io
    import zipfile

    roster_path = tmp_path / "roster.csv"
    roster_path.write_text("student,name,email\nana,Ana,ana@x.ro\nbob,Bob,bob@x.ro\n")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("proiect/main.py", "import Helper\nHelper.go()\n")
        zf.writestr("proiect/Helper.Py", "def go():\n    print(1)\n")
    box = tmp_path / "eml"
    box.mkdir()
    (box / "01.eml").write_bytes(demo_message("ana@x.ro", "p", T0, {
        "MAIN.PY": b"print(1)\n"}).as_bytes())
    (box / "02.eml").write_bytes(demo_message("bob@x.ro", "p", T0, {
        "proiect.zip": buf.getvalue()}).as_bytes())
    res = run_intake(box, load_roster(roster_path), tmp_path / "subs")
    ana, bob = res.outcomes
    assert ana.status == "accepted" and bob.status == "accepted", (ana.reason, bob.reason)
    assert any("'MAIN.PY' saved as 'MAIN.py'" in n for n in ana.notes), ana.notes
    assert sorted(p.name for p in (tmp_path / "subs" / "ana").iterdir()) == ["MAIN.py"]
    assert sorted(p.name for p in (tmp_path / "subs" / "bob").iterdir()) == \
        ["Helper.py", "main.py"]


def test_an_accepted_folder_that_grader_run_will_refuse_is_said_at_intake(tmp_path):
    # model.py and train.py without main.py: accepted by intake, then rejected by the batch
    # once the deadline had passed; intake says so while the student can still resend
    roster_path = tmp_path / "roster.csv"
    roster_path.write_text("student,name,email\nana,Ana,ana@x.ro\n")
    box = tmp_path / "eml"
    box.mkdir()
    (box / "01.eml").write_bytes(demo_message("ana@x.ro", "p", T0, {
        "model.py": b"def fit():\n    pass\n",
        "train.py": b"import model\nmodel.fit()\n"}).as_bytes())
    res = run_intake(box, load_roster(roster_path), tmp_path / "subs")
    (ana,) = res.outcomes
    assert ana.status == "accepted"
    assert "'grader run' will reject the folder: 2 .py files and none is main.py" in \
        ana.will_be_rejected and "rename train.py to main.py" in ana.will_be_rejected
    assert ana.will_be_rejected in ana.notes
    assert "#1 accepted: ana: " in res.summary() and "will reject" in res.summary()


def test_the_summary_names_roster_students_without_a_submission(tmp_path):
    # 'grader run' takes no roster: a student who sent nothing was named nowhere
    roster_path = tmp_path / "roster.csv"
    roster_path.write_text("student,name,email\nana,Ana,ana@x.ro\nbob,Bob,bob@x.ro\n"
                           "cri,Cri,cri@x.ro\n")
    box = tmp_path / "eml"
    box.mkdir()
    (box / "01.eml").write_bytes(demo_message("ana@x.ro", "p", T0, {
        "main.py": b"print(1)\n"}).as_bytes())
    (box / "02.eml").write_bytes(demo_message("cri@x.ro", "p", T0, {
        "proiect.ipynb": b"{}"}).as_bytes())
    res = run_intake(box, load_roster(roster_path), tmp_path / "subs")
    assert res.without_submission == ("bob", "cri")
    assert "2 roster student(s) without an accepted submission: bob, cri" in res.summary()
    (tmp_path / "subs" / "bob.py").write_text("print(2)\n")  # handed in on a USB stick
    res = run_intake(box, load_roster(roster_path), tmp_path / "subs")
    assert res.without_submission == ("cri",)
