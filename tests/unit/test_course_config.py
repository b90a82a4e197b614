"""course.toml and the course folder: defaults, and one clear line per problem."""

import pytest

from grader.course import DEFAULT_BANDS, load_course
from grader.errors import CourseError


def make_course(root, toml='[competition]\nname = "t"\n', train="id,label,x\na,0,1\nb,1,2\n",
                test="id,x\nt1,1\nt2,2\nt3,3\n", hidden="id,label\nt1,0\nt2,1\nt3,1\n"):
    (root / "data").mkdir(parents=True, exist_ok=True)
    (root / "hidden").mkdir(exist_ok=True)
    (root / "course.toml").write_text(toml)
    for path, text in (("data/train.csv", train), ("data/test.csv", test),
                       ("hidden/test_labels.csv", hidden)):
        if text is not None:
            (root / path).write_text(text)
    return root


def problems_of(root):
    with pytest.raises(CourseError) as info:
        load_course(root)
    return info.value.render()


def test_defaults(tmp_path):
    course = load_course(make_course(tmp_path))
    assert course.name == "t" and course.metric == "accuracy"
    assert course.competition.public_fraction == 0.3
    assert course.grading.policy == "rank_bands" and course.grading.bands == DEFAULT_BANDS
    assert course.grading.baseline == "majority" and course.grading.scale_bands_to == 150
    s = course.sandbox
    assert (s.backend, s.time_limit_s, s.memory_mb, s.cpus, s.gpus, s.output_limit_mb) == \
        ("auto", 1800, 8192, 2, 0, 64)
    assert len(course.config_hash) == 32 and len(course.data_hash) == 32


def test_every_key_of_the_design(tmp_path):
    toml = """
[competition]
name = "digits"
metric = "macro_f1"
public_fraction = 0.25
seed = 7
[grading]
policy = "accuracy_scaled"
baseline = 0.5
optimum = 0.95
bands = [[1, 10], [11, 8]]
scale_bands_to = 100
[sandbox]
backend = "bwrap"
image = "gradebox/course:1"
time_limit_s = 60
memory_mb = 4096
cpus = 1
gpus = 1
output_limit_mb = 8
[similarity]
threshold = 0.7
template = "starter"
archive = "archive"
web = "web"
[final]
exam_weight = 0.5
"""
    c = load_course(make_course(tmp_path, toml=toml))
    assert c.metric == "macro_f1" and c.seed == 7 and c.grading.optimum == 0.95
    assert c.grading.bands == ((1, 10.0), (11, 8.0)) and c.sandbox.limits().memory_mb == 4096
    assert c.similarity.threshold == 0.7 and c.extra["final"] == {"exam_weight": 0.5}


def test_all_problems_reported_at_once_with_lines(tmp_path):
    toml = ('[competition]\nname = "t"\nmetric = "acuracy"\n[grading]\npolicy = "rank-bands"\n'
            '[sandbox]\nmemory_mb = "8G"\ntimeout = 5\n[extras]\nx = 1\n')
    text = problems_of(make_course(tmp_path, toml=toml))
    assert "5 problem(s)" in text
    assert 'course.toml:3' in text and 'did you mean "accuracy"' in text
    assert 'course.toml:5' in text and 'did you mean "rank_bands"' in text
    assert "course.toml:7" in text and "whole number of megabytes" in text
    assert "course.toml:8" in text and "unknown key" in text
    assert "[extras]" in text and "unknown table" in text


def test_missing_name(tmp_path):
    assert "name is missing" in problems_of(make_course(tmp_path, toml="[competition]\n"))


def test_missing_files(tmp_path):
    text = problems_of(make_course(tmp_path, test=None, hidden=None))
    assert "data/test.csv is missing" in text and "hidden/test_labels.csv is missing" in text


def test_test_ids_must_match_hidden_labels(tmp_path):
    text = problems_of(make_course(tmp_path, hidden="id,label\nt1,0\nt2,1\nt9,1\n"))
    assert "differ" in text and "'t3'" in text and "'t9'" in text


def test_missing_label_column_names_the_file_and_the_column_to_rename(tmp_path):
    train = problems_of(make_course(tmp_path / "a", train="id,Target,x\na,0,1\nb,1,2\n"))
    assert "data/train.csv has no 'label' column" in train
    assert "rename the column 'Target' to 'label'" in train and "hidden labels" not in train
    hidden = problems_of(make_course(tmp_path / "b", hidden="id,y\nt1,0\nt2,1\nt3,1\n"))
    assert "hidden/test_labels.csv has no 'label' column" in hidden
    assert "rename the column 'y' to 'label'" in hidden and "'id,label'" in hidden


def test_spreadsheet_exports_of_course_csvs(tmp_path):
    """Excel's "CSV UTF-8" starts with a byte-order mark: read as the same header (it was
    "first column is not 'id'", found '\\ufeffid'); a ';'-separated export is named as such."""
    bom = "\ufeffid,label\nt1,0\nt2,1\nt3,1\n"
    course = load_course(make_course(tmp_path / "a", hidden=bom))
    from grader.scoring import Scorer

    assert list(Scorer(course).truth.index) == ["t1", "t2", "t3"]
    text = problems_of(make_course(tmp_path / "b", hidden="id;label\nt1;0\nt2;1\nt3;1\n"))
    assert "hidden/test_labels.csv:1" in text and "separated by ';'" in text


def test_duplicate_ids(tmp_path):
    text = problems_of(make_course(tmp_path, test="id,x\nt1,1\nt2,2\nt1,3\nt3,3\n"))
    assert "duplicate" in text and "data/test.csv:4" in text


def test_invalid_toml(tmp_path):
    assert "not valid TOML" in problems_of(make_course(tmp_path, toml="[competition\nname="))


def test_accuracy_scaled_needs_optimum(tmp_path):
    toml = '[competition]\nname = "t"\n[grading]\npolicy = "accuracy_scaled"\n'
    assert "needs an optimum" in problems_of(make_course(tmp_path, toml=toml))


@pytest.mark.parametrize("bands, says", [
    ("[[1, 8], [31, 9], [51, 10]]", "a later band cannot give a higher grade: [31, 9] follows"),
    ("[[1, 10], [31, 9], [21, 8]]", "the first places must increase: [21, 8] starts at or before"),
    ("[[2, 10], [31, 9]]", "the first band must start at place 1, not 2"),
])
def test_a_bands_table_that_cannot_be_meant_names_its_bad_entry(tmp_path, bands, says):
    toml = f'[competition]\nname = "t"\n[grading]\nbands = {bands}\n'
    assert says in problems_of(make_course(tmp_path, toml=toml))


@pytest.mark.parametrize("column", ["label", "Target"])
def test_answers_left_in_test_csv_are_refused(tmp_path, column):
    # every submission reads data/test.csv: a label column there shows them the answers
    root = make_course(tmp_path, test=f"id,x,{column}\nt1,1,0\nt2,2,1\nt3,3,1\n")
    text = problems_of(root)
    assert f"data/test.csv has a {column!r} column" in text
    assert "hidden/test_labels.csv" in text


def test_a_test_csv_without_ids_is_told_to_keep_labels_out(tmp_path):
    text = problems_of(make_course(tmp_path, test="x,y\n1,2\n"))
    assert "'id,feature_1,...'" in text and "'id,label" not in text


def test_a_missing_competition_name_reads_as_one_line_of_toml(tmp_path):
    text = problems_of(make_course(tmp_path, toml="[competition]\nmetric = 'accuracy'\n"))
    assert 'add e.g. name = "digits-2026" under [competition]' in text and "\\n" not in text


def test_every_data_problem_is_reported_at_once(tmp_path):
    # a duplicate test id and the ids it pushed out of test.csv: both shown, not one per run
    root = make_course(tmp_path, test="id,x\nt1,1\nt1,2\n",
                       hidden="id,label\nt1,0\nt2,1\nt3,\n")
    text = problems_of(root)
    assert "data/test.csv has duplicate id(s)" in text and "id 't1' appears again" in text
    assert "hidden/test_labels.csv has 2 id(s) not in data/test.csv" in text
    assert "1 empty label(s)" in text


@pytest.mark.parametrize("toml, where, fix", [
    ('[competition]\nname = "t"\npublic_fraction = 0,3\n', "course.toml:3:20",
     "write decimals with a point (0.3, not 0,3)"),
    ('[competition]\nname = digits 2026\n', "course.toml:2:8", 'put text in double quotes'),
    ('[sandbox]\nnetwork = True\n[competition]\nname = "t"\n', "course.toml:2:11",
     "write true or false in lower case"),
    ('[competition]\nname = "t"\nname = "u"\n', "course.toml:3", "given twice"),
    ('[competition\nname = "t"\n', "course.toml:1:13", "check quotes, brackets"),
])
def test_invalid_toml_shows_the_line_and_the_likely_fix(tmp_path, toml, where, fix):
    """tomllib says only "Invalid value (at line 2, column 8)": the error shows the line
    (file:line:column, as editors take it) and says what is likely wrong with it."""
    text = problems_of(make_course(tmp_path, toml=toml))
    assert "not valid TOML at line" in text and where in text and fix in text
    line = toml.splitlines()[int(where.split(":")[1]) - 1]
    assert line.strip() in text


def test_invalid_toml_in_the_final_rules(tmp_path):
    from grader.ops.final_grades import load_final_rules

    make_course(tmp_path, toml='[competition]\nname = "t"\n[final]\nlab_weight = 0,5\n')
    with pytest.raises(CourseError) as info:
        load_final_rules(tmp_path)
    text = info.value.render()
    assert "course.toml:4:" in text and "lab_weight = 0,5" in text and "decimals" in text
