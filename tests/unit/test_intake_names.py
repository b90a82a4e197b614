"""Names in a submissions folder: bytes until proven text, any alphabet's letters, one rule
(issue 16 item 1, issue 14 item 4)."""

import os
import unicodedata

import pytest

from grader.errors import InputFileError
from grader.intake import Rejection, Submission, scan_submissions
from grader.names import ID_RULE, id_problem, is_student_id, normalize_id, stand_in_id
from grader.ops import roster as roster_module


def entries(tmp_path):
    return {e.student: e for e in scan_submissions(tmp_path)}


def _bytes_name(folder, raw: bytes) -> None:
    with open(os.path.join(os.fsencode(folder), raw), "wb") as f:
        f.write(b"X = 1\n")


def test_a_helper_file_not_utf8_is_a_rejection_not_a_crash(tmp_path):
    (tmp_path / "ana").mkdir()
    (tmp_path / "ana" / "main.py").write_text("import util\n")
    _bytes_name(tmp_path / "ana", b"util\xff.py")
    (tmp_path / "bob.py").write_text("print(1)\n")
    e = entries(tmp_path)
    assert isinstance(e["bob"], Submission)
    rej = e["ana"]
    assert isinstance(rej, Rejection)
    assert "not valid UTF-8" in rej.reason and "util\\xff.py" in rej.reason
    assert "rename" in rej.hint
    rej.render().encode("utf-8")  # printable: no surrogate reaches the terminal


def test_an_entry_named_with_bytes_not_utf8_is_rejected_alone(tmp_path):
    _bytes_name(tmp_path, b"\xe9lena.py")
    (tmp_path / "bob.py").write_text("print(1)\n")
    e = entries(tmp_path)
    assert isinstance(e["bob"], Submission)
    (odd,) = [v for k, v in e.items() if k != "bob"]
    assert isinstance(odd, Rejection) and "not valid UTF-8" in odd.reason
    assert is_student_id(odd.student) and "\\xe9lena" in odd.render()


def test_diacritics_are_letters_and_spaces_become_underscores(tmp_path):
    (tmp_path / "ștefan_țurcanu.py").write_text("print(1)\n")
    (tmp_path / "Ана Петрова").mkdir()  # Cyrillic, with a space (Moodle's download)
    (tmp_path / "Ана Петрова" / "main.py").write_text("print(2)\n")
    (tmp_path / "bob.py").write_text("print(3)\n")
    e = entries(tmp_path)
    assert isinstance(e["ștefan_țurcanu"], Submission)
    assert isinstance(e["Ана_Петрова"], Submission)
    assert e["Ана_Петрова"].path.name == "Ана Петрова"


def test_decomposed_names_are_nfc_normalised(tmp_path):
    nfd = unicodedata.normalize("NFD", "ștefan")
    assert nfd != "ștefan"
    (tmp_path / f"{nfd}.py").write_text("print(1)\n")
    assert "ștefan" in entries(tmp_path)


def test_an_odd_name_rejects_that_student_only_with_a_message_that_knows_letters(tmp_path):
    (tmp_path / "ana (2).py").write_text("print(1)\n")
    (tmp_path / "-rf.py").write_text("print(1)\n")
    (tmp_path / "bob.py").write_text("print(1)\n")
    e = entries(tmp_path)
    assert isinstance(e["bob"], Submission)
    odd = [v for k, v in e.items() if k != "bob"]
    assert len(odd) == 2 and all(isinstance(r, Rejection) for r in odd)
    text = " ".join(r.reason for r in odd)
    assert "'(' is not allowed" in text and "'-' is not allowed at the start" in text
    assert "letters of any alphabet" in text
    assert all(is_student_id(r.student) for r in odd)


def test_control_characters_in_a_name_never_reach_the_terminal(tmp_path):
    (tmp_path / "ana\x1b]0;pwned\x07.py").write_text("print(1)\n")
    (rej,) = entries(tmp_path).values()
    assert "\x1b" not in rej.render() and "\\x1b]0;pwned\\x07" in rej.render()


@pytest.mark.parametrize("name,ok", [
    ("ștefan_țurcanu", True), ("ana-popescu", True), ("a.b_c-1", True), ("Ελένη", True),
    ("李雷", True), ("_x", False), (".x", False), ("a/b", False), ("a\\b", False),
    ("", False), ("x" * 101, False), ("ana\x00", False), ("a b", False),
])
def test_the_rule(name, ok):
    assert (id_problem(name) is None) == ok
    assert is_student_id(name) == ok


def test_roster_and_intake_share_the_rule(tmp_path):
    # the roster accepts what intake accepts, and says the same about what it refuses
    (tmp_path / "r.csv").write_text("student,name\nștefan_țurcanu,Ștefan Țurcanu\n",
                                    encoding="utf-8")
    roster = roster_module.load_roster(tmp_path / "r.csv")
    assert [s.id for s in roster.students] == ["ștefan_țurcanu"]
    (tmp_path / "bad.csv").write_text("student,name\nana(2),Ana\n", encoding="utf-8")
    with pytest.raises(InputFileError) as err:
        roster_module.load_roster(tmp_path / "bad.csv")
    (tmp_path / "subs").mkdir()
    (tmp_path / "subs" / "ana(2).py").write_text("print(1)\n")
    (rej,) = scan_submissions(tmp_path / "subs")
    assert id_problem("ana(2)") in err.value.render() and id_problem("ana(2)") in rej.reason
    assert ID_RULE in err.value.render() and ID_RULE in rej.reason


def test_stand_in_ids_are_valid_and_distinct():
    names = ["ana (2)", "ana (3)", "a\udcffb", "a\udcfeb", "..", "-"]
    ids = [stand_in_id(n) for n in names]
    assert len(set(ids)) == len(ids) and all(is_student_id(i) for i in ids)
    assert normalize_id("  a \t b ") == "a_b"


@pytest.mark.parametrize("raw", [b"\xe9lena.py", b"stud\xff\xfeent"])
def test_an_entry_named_with_bytes_not_utf8_is_stored_as_shown(tmp_path, raw):
    # the rejection reached SQLite with the name's lone surrogates: UnicodeEncodeError
    # stopped the whole class's batch before any run
    from grader.batch import _submission_rows
    from grader.store import Store

    subs = tmp_path / "subs"
    subs.mkdir()
    if raw.endswith(b".py"):
        _bytes_name(subs, raw)
    else:
        os.mkdir(os.path.join(os.fsencode(subs), raw))
        _bytes_name(os.path.join(os.fsencode(subs), raw), b"main.py")
    (subs / "bob.py").write_text("print(1)\n")
    store = Store(tmp_path / "grading.db")
    store.put_submissions(_submission_rows(scan_submissions(subs)))
    rows = {r["student"]: r for r in store.submissions()}
    assert rows["bob"]["accepted"]
    (odd,) = [r for k, r in rows.items() if k != "bob"]
    shown = raw.decode("latin-1").encode("ascii", "backslashreplace").decode()
    assert not odd["accepted"] and odd["path"].endswith(shown)
    assert f"'{shown}' cannot be a student id" in odd["reason"]
