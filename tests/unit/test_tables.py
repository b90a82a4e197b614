"""One reader for every instructor table: encodings Excel writes, separators, quoting, lines."""

from __future__ import annotations

import pytest

from grader.adjustments import read_adjustments
from grader.errors import InputFileError
from grader.grading import load_adjustments
from grader.ops.roster import load_roster
from grader.ops.tables import parse_number, read_table

#: one whole-class sheet, exported by Romanian Excel as "CSV UTF-8": BOM, ';', decimal commas
SHEET = ("Nr. matricol;Nume și prenume;E-mail;Puncte;Observații\n"
         "ana-pop;Ana Pop;ana@s.unibuc.ro;0,5;slides late\n"
         "bogdan_svm;Bogdan Șerban;bogdan@s.unibuc.ro;;\n"
         'ioana;"Mărgărit; Ioana";ioana@s.unibuc.ro;2;"no\ndocumentation"\n')


def test_the_same_export_loads_as_roster_and_as_adjustments(tmp_path):
    p = tmp_path / "class.csv"
    p.write_bytes(b"\xef\xbb\xbf" + SHEET.encode("utf-8"))
    roster = load_roster(p)
    assert roster.ids == ["ana-pop", "bogdan_svm", "ioana"]
    assert roster.get("ioana").name == "Mărgărit; Ioana" and roster.get("ioana").line == 4
    adj = read_adjustments(p, 2.0)
    # an empty points cell deducts nothing; a quoted cell may hold ';' and a line break
    assert [(a.student, a.points, a.note, a.line) for a in adj] == [
        ("ana-pop", 0.5, "slides late", 2), ("ioana", 2.0, "no\ndocumentation", 4)]
    assert load_adjustments(p, 2.0)["ana-pop"] == (0.5, "slides late")


def test_utf16_with_bom_and_tabs(tmp_path):
    # Excel's "Unicode Text": UTF-16 LE with a BOM, tab separated
    p = tmp_path / "roster.txt"
    p.write_bytes("student\tname\r\nștefan\tȘtefan Țurcanu\r\n".encode("utf-16"))
    t = read_table(p, "roster")
    assert (t.encoding, t.delimiter, t.header, t.rows, t.notes) == (
        "utf-16", "\t", ["student", "name"], [(2, ["ștefan", "Ștefan Țurcanu"])], [])


def test_eight_bit_files_are_read_with_a_note(tmp_path):
    p = tmp_path / "adjustments.csv"
    p.write_bytes("student,points,note\nana,1,prezentare slabă\n".encode("cp1250"))
    t = read_table(p, "adjustments")
    assert t.encoding == "cp1250" and t.rows[0][1][2] == "prezentare slabă"
    assert "adjustments.csv:2" in t.notes[0] and "CSV UTF-8" in t.notes[0]
    # 0x81 has no cp1250 character: Latin-1 then, still with the note
    p.write_bytes(b"student,points,note\nana,1,caf\xe9\x81\n")
    t = read_table(p, "adjustments")
    assert t.encoding == "latin-1" and "Latin-1" in t.notes[0]


def test_excel_for_mac_exports_are_read_as_mac_roman(tmp_path):
    # "Comma Separated Values" from Excel for Mac: Mac Roman, each line ended by a lone CR.
    # Its 'Câmpeanu Émile' was read as Latin-1's 'C\x89mpeanu \x83mile', and named line 1.
    p = tmp_path / "roster.csv"
    p.write_bytes("Nume,Email\rPopa Ana,a@x.ro\rCâmpeanu Émile,e@x.ro\r".encode("mac_roman"))
    t = read_table(p, "roster")
    assert t.encoding == "mac_roman" and t.rows[1] == (3, ["Câmpeanu Émile", "e@x.ro"])
    assert "roster.csv:3" in t.notes[0] and "Excel for Mac" in t.notes[0]
    # the same bytes with Windows line ends stay cp1250's
    p.write_bytes(b"Nume,Email\r\nPopa Ana,a@x.ro\r\n" + "Câmpeanu,e\r\n".encode("cp1250"))
    assert read_table(p, "roster").encoding == "cp1250"


def test_decimal_comma_only_when_comma_is_not_the_separator(tmp_path):
    assert parse_number("1,5", decimal_comma=True) == 1.5
    with pytest.raises(ValueError):
        parse_number("1,5")
    with pytest.raises(ValueError):
        parse_number("nan")
    p = tmp_path / "a.csv"
    p.write_text('student,points\nana,"1,5"\n')
    with pytest.raises(InputFileError) as err:
        read_adjustments(p, 2.0)
    assert "a.csv:2" in err.value.render() and "not a number" in err.value.render()


def test_missing_and_empty_files_name_the_fix(tmp_path):
    with pytest.raises(InputFileError, match="does not exist") as err:
        read_table(tmp_path / "nope.csv", "adjustments")
    assert "pass the path" in err.value.render()
    (tmp_path / "empty.csv").write_bytes(b"\xef\xbb\xbf\n\n")
    with pytest.raises(InputFileError, match="empty"):
        read_table(tmp_path / "empty.csv", "roster")


def test_adjustment_header_names_a_close_column(tmp_path):
    p = tmp_path / "adjustments.csv"
    p.write_text("student,pionts\nana,1\n")
    with pytest.raises(InputFileError, match="student,points") as err:
        read_adjustments(p, 2.0)
    assert "did you mean 'pionts'?" in err.value.render()
