"""A course folder saved from a spreadsheet (Excel, Romanian locale): the mistakes students'
programs trip on are found before any run, each naming the file, the line and the fix.

Before: trailing separators, an empty row, 'label ' in the header or decimal commas in the
features were accepted, and every student's program crashed (the batch exited 0); a
regression course's hidden label '2,395.42' made every student invalid_output, was quoted in
their pages, and ended in a traceback; a cp1250 course.toml was shown garbled; Notepad's BOM
gave 'Invalid statement'; time_limit_s = 1.800 (meant 1800) gave every program 1.8 s.
"""

from __future__ import annotations

import pytest

from grader.course import load_course
from grader.errors import CourseError
from grader.validate import check_inputs

TRAIN = "id,label,f1,f2\n1,cat,0.5,1.25\n2,dog,1.5,2.0\n3,cat,0.25,0.75\n"
TEST = "id,f1,f2\n11,0.5,1.0\n12,1.5,2.5\n"
HIDDEN = "id,label\n11,cat\n12,dog\n"
REG_TRAIN = "id,label,f1\n1,2395.42,0.5\n2,1200,1.5\n3,15.5,2.5\n"
REG_HIDDEN = "id,label\n11,10.5\n12,20\n"


def make_course(root, *, toml='[competition]\nname = "t"\n', train=TRAIN, test=TEST,
                hidden=HIDDEN, encoding="utf-8"):
    (root / "data").mkdir(parents=True, exist_ok=True)
    (root / "hidden").mkdir(exist_ok=True)
    (root / "course.toml").write_bytes(toml.encode(encoding))
    for path, text in (("data/train.csv", train), ("data/test.csv", test),
                       ("hidden/test_labels.csv", hidden)):
        (root / path).write_text(text, encoding="utf-8", newline="")
    return root


def refused(root) -> str:
    with pytest.raises(CourseError) as info:
        load_course(root)
    return info.value.render()


def test_a_clean_course_loads_without_notes(tmp_path):
    assert check_inputs(make_course(tmp_path)).notes == []


def test_trailing_separators_are_unnamed_columns(tmp_path):
    text = refused(make_course(tmp_path, train=TRAIN.replace("\n", ",,\n"),
                               test=TEST.replace("\n", ";\n")))
    assert ("data/train.csv:1  2 column(s) with no name (column 5, 6): the header ends in "
            "empty cells, a spreadsheet's trailing separators; delete those columns") in text
    assert "data/test.csv" not in text.split("data/train.csv:1")[0]


def test_an_empty_row_is_named_by_its_line_not_as_a_duplicate_id(tmp_path):
    text = refused(make_course(tmp_path, train=TRAIN + ",,,\n", hidden=HIDDEN + ",\n,\n"))
    assert "data/train.csv:5  an empty row" in text and ": delete it" in text
    assert "hidden/test_labels.csv:4  an empty row" in text and "and 1 more: delete them" in text
    assert "appears again" not in text and "empty label" not in text


def test_header_names_with_spaces(tmp_path):
    text = refused(make_course(tmp_path, train=TRAIN.replace("label,", "label ,", 1)))
    assert ("data/train.csv:1  column name(s) with spaces around them: 'label '; students' "
            "code looking up 'label' fails on 'label '") in text


@pytest.mark.parametrize("cell", ['"1,595"', '"2,395.42"', '"1.234,5"'])
def test_numbers_with_a_decimal_comma_or_thousands_separator(tmp_path, cell):
    text = refused(make_course(tmp_path, test=TEST.replace("0.5", cell, 1)))
    assert f"data/test.csv:2  {cell.strip(chr(34))!r} in column 'f1'" in text
    assert "write plain numbers with a decimal point" in text


def test_text_labels_of_a_classification_course_are_not_numbers_to_check(tmp_path):
    # 'cat' is a label, '1,5' a class name a course may well have: only features are checked
    train = TRAIN.replace("cat", '"1,5"')
    assert load_course(make_course(tmp_path, train=train, hidden=HIDDEN.replace("cat", '"1,5"')))


@pytest.mark.parametrize("where", ["train", "hidden"])
def test_a_regression_label_that_is_not_a_number_stops_the_course(tmp_path, where):
    # before: every student invalid_output quoting the hidden label, then a traceback
    toml = '[competition]\nname = "t"\nmetric = "mae"\n'
    train, hidden = REG_TRAIN, REG_HIDDEN
    if where == "train":
        train = train.replace("2395.42", '"2,395.42"')
    else:
        hidden = hidden.replace("20", '"2,0"')
    text = refused(make_course(tmp_path, toml=toml, train=train, hidden=hidden))
    shown = "data/train.csv:2  label '2,395.42' of id '1'" if where == "train" else \
        "hidden/test_labels.csv:3  label '2,0' of id '12'"
    assert f"{shown} is not a number: mae needs numeric labels" in text


def test_bom_and_leading_zero_ids_are_notes(tmp_path):
    root = make_course(tmp_path, train="\ufeff" + TRAIN,
                       test=TEST.replace("11,", "011,").replace("12,", "012,"),
                       hidden=HIDDEN.replace("11,", "011,").replace("12,", "012,"))
    notes = check_inputs(root).notes
    assert any(n.startswith("data/train.csv starts with a UTF-8 byte-order mark") for n in notes)
    assert any(n.startswith("data/test.csv has 2 id(s) with leading zeros, e.g. '011': pandas "
                            "and spreadsheets read them as numbers (11)") for n in notes)


def test_course_toml_with_notepads_bom_loads(tmp_path):
    course = load_course(make_course(tmp_path, toml='\ufeff[competition]\nname = "Învățare"\n'))
    assert course.name == "Învățare"


def test_course_toml_not_in_utf8_is_refused_with_its_line(tmp_path):
    root = make_course(tmp_path, toml='[competition]\nname = "Învăţare automată"\n',
                       encoding="cp1250")
    text = refused(root)
    assert "course.toml is not UTF-8 text (line 2)" in text and "save course.toml as UTF-8" in text


def test_a_time_limit_written_with_a_thousands_separator_is_named(tmp_path):
    toml = '[competition]\nname = "t"\n[sandbox]\ntime_limit_s = 1.800\n'
    notes = check_inputs(make_course(tmp_path, toml=toml)).notes
    assert notes == ["course.toml:4: [sandbox] time_limit_s = 1.8 gives every program 1.8 s to "
                     "train and predict (if 1.800 was meant as 1800, write 1800: a decimal "
                     "point is not a thousands separator)"]
    plain = '[competition]\nname = "t"\n[sandbox]\ntime_limit_s = 5\n'
    assert check_inputs(make_course(tmp_path, toml=plain)).notes == [
        "course.toml:4: [sandbox] time_limit_s = 5 gives every program 5 s to train and predict"]


@pytest.mark.parametrize("encoding,sep,end", [("utf-8", ";", "\n"), ("utf-16", "\t", "\n"),
                                              ("cp1250", ";", "\n"), ("cp1250", "\t", "\n"),
                                              ("mac_roman", ";", "\r")])
def test_excel_exports_come_with_a_command_that_converts_them(tmp_path, encoding, sep, end):
    # a Romanian Excel writes ';' and decimal commas in every "CSV" format, "Unicode Text"
    # is UTF-16 with tabs, and an old "CSV" is cp1250: "save it as comma-separated CSV"
    # could not be followed there. The command the error prints converts the file.
    # Excel for Mac's "Comma Separated Values" is Mac Roman with lines ended by a lone CR
    # (its 'câine' was converted as cp1250, 'c‰ine').
    import re
    import subprocess

    label = "câine" if encoding == "mac_roman" else "pisică"  # Mac Roman has no 'ă'
    root = make_course(tmp_path, train=TRAIN.replace("cat", label),
                       hidden=HIDDEN.replace("cat", label))
    path = root / "data" / "train.csv"
    rows = [line.split(",") for line in TRAIN.replace("cat", label).splitlines()]
    text = end.join(sep.join(c.replace(".", ",") for c in r) for r in rows) + end
    path.write_bytes(text.encode(encoding))
    message = refused(root)
    if encoding == "mac_roman":
        assert "line 2" in message and "Excel for Mac" in message
    command, move = re.search(r"convert it with (.+), check train.converted.csv, then move it "
                              r"over train.csv \((mv .+)\)$", message, re.M).groups()
    original = path.read_bytes()
    assert subprocess.run(command, shell=True).returncode == 0
    assert path.read_bytes() == original  # written beside it: a second run reads it again
    assert subprocess.run(command, shell=True).returncode == 0
    assert subprocess.run(move, shell=True).returncode == 0
    course = load_course(root)
    table = path.read_text(encoding="utf-8").splitlines()
    assert table[0] == "id,label,f1,f2" and table[1] == f"1,{label},0.5,1.25"
    assert course.name == "t"


def test_training_labels_that_differ_only_in_diacritics_or_case_are_named(tmp_path):
    train = TRAIN + "4,câine,0.5,0.5\n5,Cat,1.0,1.0\n"
    notes = check_inputs(make_course(tmp_path, train=train.replace("2,dog", "2,caine"))).notes
    assert any("data/train.csv has labels that differ only in diacritics or case: 'caine' (1 "
               "row(s)), 'câine' (1 row(s)): every model learns them as different classes" in n
               for n in notes)
    assert any("'Cat' (1 row(s)), 'cat' (2 row(s))" in n for n in notes)


def test_a_text_column_that_holds_a_number_with_a_comma_is_text(tmp_path):
    # a review that reads "3,000" in a text course is not a number written the European way
    train = ("id,label,text\n1,pos,great film\n2,neg,\"3,000\"\n3,pos,loved it\n"
             "4,neg,boring and long\n")
    test = "id,text\n11,fine\n12,\"1,5\"\n"
    assert load_course(make_course(tmp_path, train=train, test=test)).name == "t"


@pytest.mark.parametrize("cells,value", [("2.529,33", "2529.33"), ("0.5", "0.5")])
def test_the_converting_command_reads_thousands_only_where_the_file_groups_them(tmp_path, cells,
                                                                               value):
    # a ';' file with decimal points must keep 0.5 (thousands='.' would make it 5)
    import re
    import subprocess

    root = make_course(tmp_path)
    path = root / "data" / "train.csv"
    path.write_text(f"id;label;f1;f2\n1;cat;{cells};1\n2;dog;3;1\n3;cat;4;1\n")
    command, move = re.search(r"convert it with (.+), check .+ \((mv .+)\)$", refused(root),
                              re.M).groups()
    assert subprocess.run(command, shell=True).returncode == 0
    assert subprocess.run(move, shell=True).returncode == 0
    assert path.read_text().splitlines()[1] == f"1,cat,{value},1"


def test_a_pandas_index_column_and_a_scientific_decimal_comma_are_named(tmp_path):
    indexed = "\n".join(f"{i - 1 if i else ''},{line}" for i, line in
                        enumerate(TRAIN.splitlines())) + "\n"
    text = refused(make_course(tmp_path, train=indexed))
    assert "data/train.csv starts with a column before 'id'" in text
    assert "the row index pandas writes unless told index=False" in text
    text = refused(make_course(tmp_path / "sci", test=TEST.replace("0.5", '"2,75E-03"', 1)))
    assert "data/test.csv:2  '2,75E-03' in column 'f1'" in text


def test_a_spreadsheets_error_values_are_refused_as_labels_and_features(tmp_path):
    # '#N/A' in hidden/test_labels.csv was a note ("a label no training row has") and the
    # batch ranked everyone with it; pandas reads it as missing in students' features
    text = refused(make_course(tmp_path, hidden=HIDDEN.replace("dog", "#N/A"),
                               test=TEST.replace("1.5", "#DIV/0!", 1)))
    assert "hidden/test_labels.csv:3  label '#N/A' of id '12' is a spreadsheet's error value" \
        in text
    assert "data/test.csv:3  '#DIV/0!' in column 'f1': a spreadsheet's error value" in text


def test_a_whole_number_written_with_a_thousands_separator_is_named(tmp_path):
    toml = '[competition]\nname = "t"\n[sandbox]\nmemory_mb = 2.048\n'
    assert "(if 2.048 was meant as 2048, write 2048: a decimal point is not a thousands " \
           "separator)" in refused(make_course(tmp_path, toml=toml))


def test_blank_lines_are_named_for_the_students_who_read_with_the_csv_module(tmp_path):
    # pandas skips a blank line; csv.reader gives [] there and a program's row[0] crashed
    # every csv-module student (the demo's own programs read the data that way)
    root = make_course(tmp_path, train=TRAIN + "\n\n", test=TEST.replace("\n", "\r\n\r\n", 1))
    notes = check_inputs(root).notes
    train_line = len(TRAIN.splitlines()) + 1
    assert any(n.startswith(f"data/train.csv:{train_line} is a blank line (2 in all)")
               and "csv module" in n for n in notes)
    assert any(n.startswith("data/test.csv:2 is a blank line:") for n in notes)
    assert load_course(root).name == "t"  # a note, not a refusal


def test_a_blank_line_inside_a_quoted_cell_is_no_blank_row(tmp_path):
    train = ('id,label,text\n1,pos,"great film\n\nloved it"\n2,neg,boring\n'
             '3,pos,"fine\r\n\r\nreally"\n')
    root = make_course(tmp_path, train=train, test='id,text\n11,"ok\n\nok"\n12,bad\n')
    assert not any("blank line" in n for n in check_inputs(root).notes)
