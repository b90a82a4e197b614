"""Every mistake in the instructor's input is caught before any run (issue 14, item 2).

Each test drives the real command line (``grader run``) on a real course folder and checks
that the message names the file and line, a did-you-mean and the fix, and that no run started
and nothing was written: ``run_batch`` creates ``--out`` before anything else, so an absent
output folder proves it was never called.
"""

from __future__ import annotations

import pytest

from grader.cli import main
from grader.errors import InputFileError
from grader.store import Store
from grader.validate import check_inputs
from tests.unit.test_course_config import make_course

PROGRAM = "print('never run')\n"


def setup(tmp_path, toml='[competition]\nname = "t"\n', adjustments=None, folders=("starter",)):
    course = make_course(tmp_path / "course", toml=toml)
    for name in folders:
        (course / name).mkdir()
    subs = tmp_path / "subs"
    subs.mkdir()
    for student in ("ana", "bogdan_svm", "ioana"):
        (subs / f"{student}.py").write_text(PROGRAM)
    if adjustments is not None:
        (course / "adjustments.csv").write_text(adjustments, encoding="utf-8")
    return course, subs, tmp_path / "out"


def run_cli(capsys, course, subs, out, *extra):
    code = main(["run", str(course), "--submissions", str(subs), "--out", str(out),
                 "--backend", "none", *extra])
    return code, capsys.readouterr().err


def test_mistyped_baseline_model_is_reported_before_any_run(tmp_path, capsys):
    toml = '[competition]\nname = "t"\n[grading]\nbaseline = "knnn"\n'
    course, subs, out = setup(tmp_path, toml=toml)
    code, err = run_cli(capsys, course, subs, out)
    assert code == 1 and not out.exists()
    assert 'course.toml:4  [grading] baseline = "knnn"' in err
    assert 'did you mean "knn"?' in err and "write a number" in err


def test_mistyped_optimum_and_a_model_of_the_wrong_task(tmp_path, capsys):
    toml = ('[competition]\nname = "t"\n[grading]\npolicy = "accuracy_scaled"\n'
            'baseline = "knn_regressor"\noptimum = "bst"\n')
    course, subs, out = setup(tmp_path, toml=toml)
    code, err = run_cli(capsys, course, subs, out, "--reference")
    assert code == 1 and not out.exists()
    assert "course.toml:5" in err and "regression model" in err and "classification" in err
    assert 'course.toml:6  [grading] optimum = "bst"' in err and 'did you mean "best"?' in err


def test_reference_model_of_the_other_task_is_named_by_run_and_reference(tmp_path, capsys):
    """A classification model listed in a regression course's [reference] models never runs:
    both commands name it with the models that fit, instead of a row marked 'skipped'."""
    toml = ('[competition]\nname = "t"\nmetric = "mae"\n[grading]\nbaseline = "mean"\n'
            '[reference]\nmodels = ["mean", "knn", "knn_regressor"]\n')
    course, subs, out = setup(tmp_path, toml=toml)
    code, err = run_cli(capsys, course, subs, out, "--reference")
    assert code == 1 and not out.exists()
    expected = ('course.toml:7  [reference] models: "knn"\n    a classification model but '
                'metric "mae" is regression, so it would never run')
    assert expected in err and "kernel_ridge, knn_regressor, mean" in err
    assert '"knn_regressor"' not in err and '"mean"' not in err  # the fitting ones pass
    ref_out = tmp_path / "ref"
    assert main(["reference", str(course), "--out", str(ref_out)]) == 1
    assert expected in capsys.readouterr().err and not ref_out.exists()


def test_baseline_model_that_will_not_have_run(tmp_path, capsys):
    toml = '[competition]\nname = "t"\n[grading]\nbaseline = "knn"\n'
    course, subs, out = setup(tmp_path, toml=toml)
    code, err = run_cli(capsys, course, subs, out)
    assert code == 1 and not out.exists()
    assert "course.toml:4" in err and "add --reference" in err
    # a model stored by an earlier 'grader reference' into the same folder is enough
    out.mkdir()
    with Store(out / "grading.db") as store:
        store.put_reference([dict(model="knn", params={}, public_score=0.6, private_score=0.6,
                                  validation_score=None, fit_s=0.1, predict_s=0.1, status="ok",
                                  message="", is_baseline=1)])
    assert check_inputs(course, subs, reference_models={"knn"}).course.grading.baseline == "knn"


def test_misspelled_template_folder(tmp_path, capsys):
    toml = '[competition]\nname = "t"\n[similarity]\ntemplate = "startr"\n'
    course, subs, out = setup(tmp_path, toml=toml)
    code, err = run_cli(capsys, course, subs, out)
    assert code == 1 and not out.exists()
    assert 'course.toml:4  [similarity] template = "startr"' in err
    assert 'no such folder' in err and 'did you mean "starter"?' in err


def test_unknown_student_in_adjustments(tmp_path, capsys):
    course, subs, out = setup(
        tmp_path, adjustments="student,points,note\nana,1,slides\nbogdan_svn,0.5,late\n")
    code, err = run_cli(capsys, course, subs, out)
    assert code == 1 and not out.exists()
    assert "adjustments.csv:3  student 'bogdan_svn' is not among the submissions" in err
    assert "did you mean 'bogdan_svm'?" in err and "correct the id or delete the row" in err


def test_every_problem_at_once(tmp_path, capsys):
    toml = ('[competition]\nname = "t"\n[grading]\nbaseline = "knnn"\n'
            '[similarity]\nweb = "wbe"\n[reference]\nmodels = ["svm_ovr"]\n')
    course, subs, out = setup(
        tmp_path, toml=toml, folders=("web",),
        adjustments="student;points\nana;3\nbogdan_svn;1\nioana;1\nioana;1\n")
    code, err = run_cli(capsys, course, subs, out, "--kaggle-dir", str(tmp_path / "kagle"))
    assert code == 1 and not out.exists()
    assert "problem(s) in the input; nothing was run or written" in err
    for expected in ('did you mean "knn"?', 'did you mean "web"?', 'did you mean "svm_ovo"?',
                     "adjustments.csv:2  points 3 of 'ana' outside 0..2",
                     # the unknown id beside the bad rows, not on the next run
                     "adjustments.csv:3  student 'bogdan_svn' is not among the submissions",
                     "adjustments.csv:5  ioana appears twice (first on line 4)",
                     "--kaggle-dir", "no such folder"):
        assert expected in err, expected


def test_course_toml_errors_join_the_other_files(tmp_path):
    toml = '[competition]\nname = "t"\n[sandbox]\nmemory_mb = "8G"\n'
    course, subs, _ = setup(tmp_path, toml=toml,
                            adjustments="student,points\nbogdan_svn,1\n")
    with pytest.raises(InputFileError) as info:
        check_inputs(course, subs, adjustments=course / "adjustments.csv")
    text = info.value.render()
    assert "course.toml:4" in text and "memory_mb" in text
    assert "adjustments.csv:2" in text and "bogdan_svm" in text


def test_missing_inputs_are_named(tmp_path, capsys):
    course, subs, out = setup(tmp_path)
    code, err = run_cli(capsys, course, tmp_path / "submisions", out,
                        "--adjustments", str(tmp_path / "adjustmnts.csv"))
    assert code == 1 and not out.exists()
    assert "submisions does not exist" in err and "adjustmnts.csv" in err
    assert "pass the path of the adjustments CSV file" in err


def test_good_input_passes_and_is_returned_read(tmp_path):
    toml = '[competition]\nname = "t"\n[grading]\nbaseline = "majority"\n'
    course, subs, _ = setup(tmp_path, toml=toml, adjustments=(
        "\ufeffNr. matricol;Nume;Puncte;Observații\nana;Ana;1,5;slides\nioana;Ioana;;\n"))
    checked = check_inputs(course, subs, adjustments=course / "adjustments.csv",
                           reference_models=set())
    assert checked.course.name == "t"
    assert sorted(e.student for e in checked.submissions) == ["ana", "bogdan_svm", "ioana"]
    assert checked.deductions() == {"ana": (1.5, "slides")}


def test_hidden_label_never_seen_in_training_is_warned_before_the_run(tmp_path):
    """A hidden label no training row has cannot be predicted by anyone (the scorer allows
    only training labels): a typo like '1.0' for '1' is named, with its file and line."""
    course = make_course(tmp_path / "course", hidden="id,label\nt1,0\nt2,1.0\nt3,1.0\n")
    subs = tmp_path / "subs"
    subs.mkdir()
    (subs / "ana.py").write_text(PROGRAM)
    notes = check_inputs(course, subs).notes
    assert len(notes) == 1
    assert "hidden/test_labels.csv has 2 label(s) that no row of data/train.csv has" in notes[0]
    assert "'1.0' (2 row(s))" in notes[0] and "hidden/test_labels.csv:3" in notes[0]
    assert "Training labels: '0', '1'" in notes[0]
    (course / "hidden" / "test_labels.csv").write_text("id,label\nt1,0\nt2,1\nt3,1\n")
    assert check_inputs(course, subs).notes == []
    # regression: labels are numbers, not classes; nothing to warn about
    (course / "course.toml").write_text('[competition]\nname = "t"\nmetric = "mse"\n')
    (course / "hidden" / "test_labels.csv").write_text("id,label\nt1,0.5\nt2,7\nt3,1\n")
    assert check_inputs(course, subs).notes == []
