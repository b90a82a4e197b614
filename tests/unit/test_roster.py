"""Roster loading and matching: header variants, all problems at once, Romanian diacritics."""

from __future__ import annotations

import csv
import io

import pytest

from grader.errors import InputFileError
from grader.ops.roster import fold_text, load_roster

ROSTER = """\
student,name,email,kaggle,group
ana-popescu,Ana Popescu,ana.popescu@s.unibuc.ro,AnaP,231
stefan-turcanu,Ștefan Țurcanu,stefan.turcanu@s.unibuc.ro; stefan.t@gmail.com,Ștefan Țurcanu,231
ioana-margarit,Ioana Mărgărit,ioana.margarit@s.unibuc.ro,,232
andrei-campeanu,Andrei Câmpeanu,andrei.campeanu@s.unibuc.ro,Câmpeanu Team,232
irina-birsan,Irina Bîrsan,irina.birsan@s.unibuc.ro,irina_b,233
mihai-ionescu-1,Mihai Ionescu,mihai.ionescu1@s.unibuc.ro,,233
mihai-ionescu-2,Mihai Ionescu,mihai.ionescu2@s.unibuc.ro,,233
"""


@pytest.fixture
def roster(tmp_path):
    p = tmp_path / "roster.csv"
    p.write_text(ROSTER, encoding="utf-8")
    return load_roster(p)


def test_fold_text_treats_cedilla_and_comma_letters_alike():
    # U+015F/U+0163 (cedilla, legacy encodings) vs U+0219/U+021B (comma below, correct).
    assert fold_text("\u015etefan \u0162urcanu") == fold_text("\u0218tefan \u021aurcanu")
    assert fold_text("Mărgărit Câmpeanu Bîrsan") == "margarit campeanu birsan"


def test_header_variants_bom_semicolons(tmp_path):
    p = tmp_path / "export.csv"
    text = ("Nr. matricol;Nume și prenume;E-mail;Echipa Kaggle;Grupa\n"
            "s001;Elena Șerban;elena@s.unibuc.ro;ElenaS;241\n"
            "\n"
            "s002;Radu Vlădescu;radu@s.unibuc.ro;;241\n")
    p.write_bytes(("\ufeff" + text).encode("utf-8"))
    r = load_roster(p)
    assert r.ids == ["s001", "s002"]
    s = r.get("s002")
    assert (s.name, s.emails, s.group, s.line) == ("Radu Vlădescu", ("radu@s.unibuc.ro",),
                                                   "241", 4)


def test_all_row_problems_reported_at_once_with_lines(tmp_path):
    p = tmp_path / "roster.csv"
    p.write_text("student,name,email\n"
                 "ok-1,Ana Pop,ana@x.ro\n"
                 ",No Id,noid@x.ro\n"
                 "../evil,Evil,evil@x.ro\n"
                 "ok-2,Bob,not-an-address\n"
                 "ok-1,Ana Again,ana2@x.ro\n"
                 "ok-3,Carol,ANA@x.ro\n", encoding="utf-8")
    with pytest.raises(InputFileError) as err:
        load_roster(p)
    problems = "\n".join(err.value.problems)
    assert len(err.value.problems) == 5
    for line, words in ((3, "empty student id"), (4, "not usable as a folder name"),
                        (5, "is not an e-mail address"), (6, "already given on line 2"),
                        (7, "already given on line 2")):
        assert f"roster.csv:{line}" in problems and words in problems
    assert "fix these rows" in err.value.render()


def test_missing_columns_and_non_utf8(tmp_path):
    p = tmp_path / "roster.csv"
    p.write_text("id,mail\n1,a@b.ro\n", encoding="utf-8")
    with pytest.raises(InputFileError, match="header") as err:
        load_roster(p)
    assert any("no 'name' column" in x for x in err.value.problems)
    # Romanian Excel's "CSV" is cp1250: read with a note naming the line and the fix
    p.write_bytes("student,name\ns1,Ana\ns2,Ştefan\n".encode("cp1250"))
    r = load_roster(p)
    assert r.get("s2").name == "Ştefan"
    assert len(r.notes) == 1 and "roster.csv:3: roster file is not UTF-8" in r.notes[0]
    assert "Windows-1250" in r.notes[0] and "CSV UTF-8" in r.notes[0]
    with pytest.raises(InputFileError, match="does not exist"):
        load_roster(tmp_path / "nope.csv")


def test_match_name_levels(roster):
    assert roster.match_name("Ștefan Țurcanu").how == "exact"
    m = roster.match_name("\u015etefan \u0162urcanu")  # cedilla forms
    assert (m.student, m.how) == ("stefan-turcanu", "cedilla/comma variant")
    m = roster.match_name("STEFAN turcanu")
    assert (m.student, m.how) == ("stefan-turcanu", "case/diacritics-insensitive")
    m = roster.match_name("Turcanu Stefan")
    assert (m.student, m.how) == ("stefan-turcanu", "word-order-insensitive")
    m = roster.match_name("Ioana Margarita")
    assert m.student is None and "closest: 'ioana-margarit'" in m.reason


def test_ambiguous_names_are_never_guessed(roster):
    m = roster.match_name("mihai ionescu")
    assert m.student is None and m.ambiguous
    assert m.candidates == ("mihai-ionescu-1", "mihai-ionescu-2")
    assert "ambiguous" in m.reason and "not guessed" in m.reason


def test_match_email(roster):
    assert roster.match_email("ana.popescu@s.unibuc.ro").how == "exact"
    m = roster.match_email("Ștefan <Stefan.T@GMAIL.com>")
    assert (m.student, m.how) == ("stefan-turcanu", "case-insensitive")
    m = roster.match_email("Ana <ana.popescu@gmail.com>")
    assert m.student is None and "not in the roster" in m.reason


def test_kaggle_export_with_case_and_diacritics_differences(roster):
    # A Kaggle leaderboard export: TeamName as the students typed it.
    export = io.StringIO(
        "TeamId,TeamName,SubmissionDate,Score\n"
        "101,AnaP,2026-01-10 10:00:00,0.91\n"
        "102,stefan turcanu,2026-01-10 11:00:00,0.90\n"
        "103,\u015etefan \u0162urcanu,2026-01-10 11:30:00,0.89\n"
        "104,CAMPEANU TEAM,2026-01-10 12:00:00,0.88\n"
        "105,Irina B,2026-01-10 12:30:00,0.87\n"
        "106,irina-b,2026-01-10 12:40:00,0.87\n"
        "107,Ioana Mărgărit,2026-01-10 13:00:00,0.86\n"
        "108,Mihai Ionescu,2026-01-10 14:00:00,0.85\n"
        "109,DeepLearners42,2026-01-10 15:00:00,0.84\n")
    got = {row["TeamName"]: roster.match_kaggle(row["TeamName"])
           for row in csv.DictReader(export)}
    assert {k: (m.student, m.how) for k, m in got.items() if m.matched} == {
        "AnaP": ("ana-popescu", "exact"),
        "stefan turcanu": ("stefan-turcanu", "case/diacritics-insensitive"),
        "\u015etefan \u0162urcanu": ("stefan-turcanu", "cedilla/comma variant"),
        "CAMPEANU TEAM": ("andrei-campeanu", "case/diacritics-insensitive"),
        "Irina B": ("irina-birsan", "spacing/punctuation-insensitive"),
        "irina-b": ("irina-birsan", "spacing/punctuation-insensitive"),
        # no kaggle column for her: her name is used, and that is reported
        "Ioana Mărgărit": ("ioana-margarit", "name, exact"),
    }
    assert got["Mihai Ionescu"].ambiguous and got["Mihai Ionescu"].student is None
    assert "no roster entry" in got["DeepLearners42"].reason


def test_a_kaggle_team_named_as_a_student_id_is_that_student(roster):
    # students told to enter under their id, the roster's kaggle column left empty
    m = roster.match_kaggle("ioana-margarit")
    assert (m.student, m.how) == ("ioana-margarit", "student id, exact")
    m = roster.match_kaggle("IOANA-MARGARIT")
    assert (m.student, m.how) == ("ioana-margarit", "student id, case/diacritics-insensitive")
