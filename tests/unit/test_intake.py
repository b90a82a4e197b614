"""Submission intake: what is accepted, what is rejected and why."""

import pytest

from grader.errors import SubmissionsError
from grader.intake import Rejection, Submission, left_out_note, scan_submissions


def entries(tmp_path):
    return {e.student: e for e in scan_submissions(tmp_path)}


def test_single_file_and_folder(tmp_path):
    (tmp_path / "ana.py").write_text("print(1)\n")
    (tmp_path / "bob").mkdir()
    (tmp_path / "bob" / "main.py").write_text("import util\n")
    (tmp_path / "bob" / "util.py").write_text("X = 1\n")
    (tmp_path / "bob" / "report.pdf").write_bytes(b"%PDF-1.4\0binary")
    (tmp_path / "cri").mkdir()
    (tmp_path / "cri" / "solution.py").write_text("print(2)\n")
    e = entries(tmp_path)
    assert isinstance(e["ana"], Submission) and e["ana"].entry == "ana.py"
    assert e["bob"].entry == "main.py" and e["bob"].files == ("main.py", "util.py")
    assert e["cri"].entry == "solution.py"


def test_content_hash_follows_content(tmp_path):
    (tmp_path / "a.py").write_text("print(1)\n")
    (tmp_path / "b.py").write_text("print(1)\n")
    first = entries(tmp_path)
    assert first["a"].content_hash == first["b"].content_hash
    (tmp_path / "b.py").write_text("print(2)\n")
    assert entries(tmp_path)["b"].content_hash != first["b"].content_hash


@pytest.mark.parametrize("name,content,reason", [
    ("nb.ipynb", b"{}", "notebooks"),
    ("arch.zip", b"PK\x03\x04", "archives"),
    ("bin.exe", b"MZ\0\0", "only .py"),
])
def test_non_python_single_files_rejected(tmp_path, name, content, reason):
    (tmp_path / name).write_bytes(content)
    (tmp_path / "zz_other.py").write_text("print(1)")  # an archive alone is the class's download
    e = next(iter(entries(tmp_path).values()))
    assert isinstance(e, Rejection) and reason in e.reason and e.hint


@pytest.mark.parametrize("files,reason", [
    ({"proiect.ipynb": b"{}"}, "notebooks"),
    ({"main.py": b""}, "empty"),
    ({"main.py": b"   \n\n"}, "empty"),
    ({"main.py": b"x = '\xe9t\xe9'\n"}, "not UTF-8"),
    ({"main.py": b"\x7fELF\0\0\0"}, "binary"),
    ({"a.py": b"print(1)", "b.py": b"print(2)"}, "ambiguous"),
    ({}, "no .py"),
])
def test_folder_rejections(tmp_path, files, reason):
    folder = tmp_path / "stud"
    folder.mkdir()
    for name, content in files.items():
        (folder / name).write_bytes(content)
    e = entries(tmp_path)["stud"]
    assert isinstance(e, Rejection), e
    assert reason in e.reason
    assert "stud" in e.render() and "hint:" in e.render()


def test_symlinked_source_rejected(tmp_path):
    folder = tmp_path / "eve"
    folder.mkdir()
    (folder / "main.py").symlink_to("/etc/passwd")
    assert "link" in entries(tmp_path)["eve"].reason


def test_folder_problems(tmp_path):
    with pytest.raises(SubmissionsError, match="does not exist"):
        scan_submissions(tmp_path / "nope")
    with pytest.raises(SubmissionsError, match="empty"):
        scan_submissions(tmp_path)


def test_two_entries_of_one_student_reject_that_student_only(tmp_path):
    # one student's double upload stopped the whole class's batch before any run
    (tmp_path / "ana.py").write_text("print(1)")
    (tmp_path / "ana").mkdir()
    (tmp_path / "ana" / "main.py").write_text("print(1)")
    (tmp_path / "ion pop.py").write_text("print(2)")
    (tmp_path / "ion_pop.py").write_text("print(3)")
    (tmp_path / "bob.py").write_text("print(4)")
    got = entries(tmp_path)
    assert sorted(got) == ["ana", "bob", "ion_pop"] and isinstance(got["bob"], Submission)
    for student, names in (("ana", "ana and ana.py"), ("ion_pop", "ion pop.py and ion_pop.py")):
        e = got[student]
        assert isinstance(e, Rejection)
        assert e.reason == f"{names} both name the student '{student}': which one to grade " \
                           "is ambiguous"
        assert "keep one entry per student" in e.hint


def test_a_class_archive_is_named_with_the_fix(tmp_path):
    """The whole class as one download, passed as is or alone in the folder: an error that
    says to unpack it (it read 'does not exist', or graded one rejected 'student')."""
    subs = tmp_path / "subs"
    subs.mkdir()
    (subs / "class-2026.zip").write_bytes(b"PK\x03\x04")
    for path in (subs / "class-2026.zip", subs):
        with pytest.raises(SubmissionsError) as info:
            scan_submissions(path)
        text = info.value.render()
        assert "class-2026.zip" in text and "unzip" in text and "does not exist" not in text
    (subs / "ana.py").write_text("print(1)")  # an archive beside a student: that student's
    assert isinstance(entries(subs)["class-2026"], Rejection)
    with pytest.raises(SubmissionsError, match="is a file, not a folder"):
        scan_submissions(subs / "ana.py")


def test_folder_data_files_are_kept_for_the_run(tmp_path):
    """Files besides code (configs, word lists) travel with the code into the run; documents
    for people (.pdf) and the Kaggle upload do not, and neither counts as code."""
    bob = tmp_path / "bob"
    (bob / "config").mkdir(parents=True)
    (bob / "main.py").write_text("print(1)\n")
    (bob / "config" / "settings.json").write_text('{"C": 1}\n')
    (bob / "vocab.txt").write_text("a\nb\n")
    (bob / "report.pdf").write_bytes(b"%PDF-1.4\0binary")
    (bob / "kaggle_submission.csv").write_text("id,label\n")
    sub = entries(tmp_path)["bob"]
    assert sub.files == ("main.py",)
    assert sub.data_files == ("config/settings.json", "vocab.txt")


def test_folder_data_files_are_bounded(tmp_path):
    from grader.intake import MAX_DATA_BYTES

    bob = tmp_path / "bob"
    bob.mkdir()
    (bob / "main.py").write_text("print(1)\n")
    (bob / "train_copy.csv").write_text("x\n" * (MAX_DATA_BYTES // 2 + 1))
    rejection = entries(tmp_path)["bob"]
    assert isinstance(rejection, Rejection)
    assert "train_copy.csv" in rejection.reason and "GRADER_DATA" in rejection.hint


def test_the_instructors_notes_beside_the_entries_are_no_student(tmp_path):
    (tmp_path / "ana.py").write_text("print(1)\n")
    (tmp_path / "readme.txt").write_text("deadline: Friday\n")
    (tmp_path / "README.md").write_text("# class of 2026\n")
    (tmp_path / "bob.txt").write_text("print(2)\n")  # a student's code sent as text: rejected
    e = entries(tmp_path)
    assert set(e) == {"ana", "bob"} and isinstance(e["bob"], Rejection)


def test_windows_names_are_named_with_the_rename(tmp_path):
    # Main.PY runs, but no import finds Helper.PY: the student is told to rename, not that
    # "only .py files are accepted" (which they believe they sent). 'cri.py.txt' (Windows
    # hid the .txt) was the student 'cri.py' told the same; Main.py beside utils.py was "name
    # the file to run main.py"
    (tmp_path / "ana.PY").write_text("print(1)\n")
    (tmp_path / "cri.py.txt").write_text("print(1)\n")
    for student, files in (("bob", ("main.py", "helper.Py")), ("dan", ("Main.py", "utils.py"))):
        (tmp_path / student).mkdir()
        for name in files:
            (tmp_path / student / name).write_text("x = 1\n")
    got = entries(tmp_path)
    assert set(got) == {"ana", "bob", "cri", "dan"}
    for student, name in (("ana", "ana.PY"), ("bob", "helper.Py")):
        e = got[student]
        assert isinstance(e, Rejection), e
        assert f"{name}: the suffix must be lower-case .py" in e.reason
        assert f"rename {name} -> {name[:-3]}.py" in e.hint
    assert got["cri"].reason == ("cri.py.txt is saved as a text file (.txt): Windows hides known "
                                 "extensions, so it showed as cri.py")
    assert got["cri"].hint.startswith("rename it to cri.py (in Explorer")
    assert got["dan"].hint == ("rename Main.py to main.py (file names are case-sensitive here) "
                               "and resubmit")


def test_what_systems_and_editors_leave_in_a_folder_is_ignored_and_not_copied(tmp_path):
    # a .git folder (with a link inside), .DS_Store or a notebook checkpoint rejected the
    # whole submission although main.py was there
    from sandbox._codecopy import copy_code

    stud = tmp_path / "subs" / "ana"
    (stud / ".git" / "objects").mkdir(parents=True)
    (stud / ".git" / "objects" / "ab12").write_bytes(b"\x78\x01\0\0binary")
    (stud / ".git" / "HEAD-link").symlink_to("/etc/passwd")
    (stud / ".ipynb_checkpoints").mkdir()
    (stud / ".ipynb_checkpoints" / "main-checkpoint.ipynb").write_text("{}")
    (stud / ".DS_Store").write_bytes(b"\0\0\0\1Bud1")
    (stud / "__MACOSX").mkdir()
    (stud / "__MACOSX" / "._main.py").write_bytes(b"\0\5\26\7")
    (stud / "main.py").write_text("import model\n")
    (stud / "model.py").write_text("X = 1\n")
    e = entries(tmp_path / "subs")["ana"]
    assert isinstance(e, Submission), e
    assert e.files == ("main.py", "model.py") and e.data_files == ()
    dst = tmp_path / "copy"
    dst.mkdir()
    copy_code(stud, dst, "ana")
    assert sorted(p.name for p in dst.rglob("*")) == ["main.py", "model.py"]


def test_binary_files_beside_the_code_are_left_out_not_a_rejection(tmp_path):
    # a laptop's checkpoint, plots and copy of the data beside a working main.py refused the
    # whole folder ("only .py files are accepted"), and the student lost the grade
    stud = tmp_path / "bob"
    (stud / "data" / "images").mkdir(parents=True)
    for i in range(30):
        (stud / "data" / "images" / f"{i:03}.png").write_bytes(b"\x89PNG\r\n\x1a\n\0\0")
    (stud / "main.py").write_text("print(1)\n")
    (stud / "model.pt").write_bytes(b"PK\x03\x04\0\0binary")
    (stud / "config.json").write_text('{"lr": 0.1}\n')
    (stud / "old.zip").write_bytes(b"PK\x05\x06" + b"\0" * 18)
    (stud / "scratch.ipynb").write_text("{}")
    e = entries(tmp_path)["bob"]
    assert isinstance(e, Submission), e
    assert e.files == ("main.py",) and e.data_files == ("config.json",)
    assert len(e.left_out) == 33 and {"model.pt", "old.zip", "scratch.ipynb"} <= set(e.left_out)
    # a binary file named .txt is left out too (a 2 GB one refused the folder for its size)
    (stud / "notes.txt").write_bytes(b"\0" * 10_000)
    (stud / "README.md").write_text("# my project\n")
    e2 = entries(tmp_path)["bob"]
    assert isinstance(e2, Submission) and "notes.txt" in e2.left_out
    assert "README.md" in e2.data_files
    # said briefly: the folder, not its 30 images
    assert left_out_note(e.left_out).startswith(
        "left out of the run: data/, model.pt, old.zip, scratch.ipynb (binary files, archives "
        "and notebooks are never copied into it")


def test_a_folder_of_only_a_notebook_is_still_refused(tmp_path):
    stud = tmp_path / "cara"
    stud.mkdir()
    (stud / "scratch.ipynb").write_text("{}")
    e = entries(tmp_path)["cara"]
    assert isinstance(e, Rejection) and "notebooks" in e.reason


def test_an_empty_init_beside_the_entry_point_is_a_package_not_a_problem(tmp_path):
    # a utils/ package with an empty __init__.py was rejected as "utils/__init__.py is empty"
    stud = tmp_path / "ana"
    (stud / "utils").mkdir(parents=True)
    (stud / "utils" / "__init__.py").write_text("")
    (stud / "utils" / "io.py").write_text("def read():\n    return 1\n")
    (stud / "main.py").write_text("from utils.io import read\nprint(read())\n")
    e = entries(tmp_path)["ana"]
    assert isinstance(e, Submission), e
    assert "utils/__init__.py" in e.files
    (stud / "main.py").write_text("\n")  # the program that runs must still hold code
    e = entries(tmp_path)["ana"]
    assert isinstance(e, Rejection) and e.reason == "main.py is empty"



@pytest.mark.parametrize("files,hint", [
    ({"train.py": b"import helpers\nhelpers.go()\n", "helpers.py": b"def go():\n    pass\n"},
     "rename train.py to main.py"),
    ({"run.py": b"from pkg import model\nif __name__ == '__main__':\n    model.fit()\n",
      "pkg/__init__.py": b"", "pkg/model.py": b"print('loading')\ndef fit():\n    pass\n"},
     "rename run.py to main.py"),
    ({"a.py": b"print(1)", "b.py": b"print(2)"}, "name the file to run main.py"),
    ({"a.py": b'"""docs"""\nX = 1\n', "b.py": b"def f():\n    pass\n"},
     "name the file to run main.py"),
])
def test_a_folder_without_main_py_names_the_file_that_looks_like_the_program(tmp_path, files,
                                                                             hint):
    # "name the file to run main.py" left the student to guess which of their files we meant
    folder = tmp_path / "stud"
    for name, content in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(content)
    e = entries(tmp_path)["stud"]
    assert isinstance(e, Rejection) and "ambiguous" in e.reason
    assert e.hint.startswith(hint), e.hint


def test_a_path_too_long_to_copy_into_a_run_is_refused_at_intake(tmp_path):
    # nested folders giving a 4,070-character path were accepted, and every run then failed
    # as "the grader failed" (File name too long) and was retried forever
    deep = tmp_path / "subs" / "ana"
    (deep).mkdir(parents=True)
    (deep / "main.py").write_text("print(1)\n")
    nested = deep
    for i in range(6):
        nested = nested / (f"{i}" * 200)
    nested.mkdir(parents=True)
    (nested / "words.txt").write_text("a\n")
    e = entries(tmp_path / "subs")["ana"]
    assert isinstance(e, Rejection)
    assert e.reason.startswith("1 file path(s) inside the folder are longer than 1024 bytes "
                               "(the longest: 1,215 characters)")
    assert e.hint.startswith("send the code in a flat folder with short names")
    assert all(len(f) <= 123 for f in e.found)
