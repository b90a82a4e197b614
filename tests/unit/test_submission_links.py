"""Hard links, symbolic links and special files in a submission (issue 16, item 9): intake
rejects the submission with a reason, and the sandbox's copy refuses them before copying."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from grader.intake import Rejection, Submission, scan_submissions
from sandbox._codecopy import CodeRefused, copy_code

LABELS = "id,label\n10,SECRET-LABEL\n"


@pytest.fixture
def course(tmp_path) -> Path:
    c = tmp_path / "course"
    (c / "hidden").mkdir(parents=True)
    (c / "hidden" / "test_labels.csv").write_text(LABELS)
    (tmp_path / "subs").mkdir()
    return c


def _entries(folder: Path) -> dict:
    return {e.student: e for e in scan_submissions(folder)}


def test_intake_rejects_a_file_hard_linked_to_the_hidden_labels(course, tmp_path):
    eve = tmp_path / "subs" / "eve"
    eve.mkdir()
    (eve / "main.py").write_text("import labels\n")
    os.link(course / "hidden" / "test_labels.csv", eve / "labels.py")
    (tmp_path / "subs" / "ana.py").write_text("print(1)\n")
    e = _entries(tmp_path / "subs")
    assert isinstance(e["ana"], Submission)
    assert isinstance(e["eve"], Rejection)
    assert "labels.py is a hard link (one of 2 names of the same file)" in e["eve"].reason
    assert "cp, not ln" in e["eve"].hint and "SECRET" not in e["eve"].render()


@pytest.mark.parametrize("kind", ["hardlink-doc", "symlink-doc", "fifo", "single-file",
                                  "linked-folder", "nested-hardlink"])
def test_intake_rejects_every_link_and_special_file(course, tmp_path, kind):
    subs, labels = tmp_path / "subs", course / "hidden" / "test_labels.csv"
    eve = subs / "eve"
    if kind == "single-file":
        os.link(labels, subs / "eve.py")
    elif kind == "linked-folder":
        (tmp_path / "elsewhere").mkdir()
        (tmp_path / "elsewhere" / "main.py").write_text("print(1)\n")
        eve.symlink_to(tmp_path / "elsewhere")
    else:
        eve.mkdir()
        (eve / "main.py").write_text("print(1)\n")
        if kind == "hardlink-doc":
            os.link(labels, eve / "notes.txt")
        elif kind == "symlink-doc":
            (eve / "README.md").symlink_to(labels)
        elif kind == "fifo":
            os.mkfifo(eve / "pipe.txt")
        else:
            (eve / "pkg").mkdir()
            os.link(labels, eve / "pkg" / "data.py")
    e = _entries(subs)["eve"]
    assert isinstance(e, Rejection), e
    assert any(w in e.reason for w in ("hard link", "symbolic link", "not a regular file"))
    assert "SECRET" not in e.render()


def test_copy_refuses_before_copying_anything(course, tmp_path):
    src, dst = tmp_path / "code", tmp_path / "dst"
    (src / "pkg").mkdir(parents=True)
    dst.mkdir()
    (src / "main.py").write_text("print(1)\n")
    (src / "pkg" / "a.py").write_text("A = 1\n")
    os.link(course / "hidden" / "test_labels.csv", src / "pkg" / "z.py")
    (src / "link.py").symlink_to(course / "hidden" / "test_labels.csv")
    os.mkfifo(src / "fifo")
    with pytest.raises(CodeRefused) as e:
        copy_code(src, dst, "eve")
    assert not any(dst.iterdir())
    assert e.value.problems == ["fifo (not a regular file)", "link.py (a symbolic link)",
                                "pkg/z.py (a hard link: one of 2 names of the same file)"]
    assert "eve" in e.value.message and "cp, not ln" in e.value.message


def test_copy_copies_folders_and_plain_files(tmp_path):
    src, dst = tmp_path / "code", tmp_path / "dst"
    (src / "pkg" / "sub").mkdir(parents=True)
    dst.mkdir()
    (src / "main.py").write_text("print(1)\n")
    (src / "pkg" / "sub" / "b.py").write_bytes(b"B = 2\n" * 300_000)
    copy_code(src, dst, "ana")
    assert (dst / "main.py").read_text() == "print(1)\n"
    assert (dst / "pkg" / "sub" / "b.py").read_bytes() == b"B = 2\n" * 300_000


def test_copy_checks_each_file_again_while_copying(course, tmp_path, monkeypatch):
    # a file swapped for a hard link after the first check is refused when it is opened
    from sandbox import _codecopy

    src, dst = tmp_path / "code", tmp_path / "dst"
    src.mkdir()
    dst.mkdir()
    os.link(course / "hidden" / "test_labels.csv", src / "main.py")
    monkeypatch.setattr(_codecopy, "refused_entries", lambda _src: [])
    with pytest.raises(CodeRefused, match="main.py .a hard link"):
        copy_code(src, dst, "eve")
    assert not (dst / "main.py").exists()


def test_similarity_says_which_links_it_skipped_and_which_submissions_are_empty(course,
                                                                                tmp_path):
    # grader similarity on its own (no intake before it): a link is never followed, and
    # neither it nor an empty file passes without a note
    from similarity.corpora import load_submission

    eve = tmp_path / "subs" / "eve"
    eve.mkdir()
    (eve / "main.py").write_text("print(1)\n")
    (eve / "leak.py").symlink_to(course / "hidden" / "test_labels.csv")
    sub = load_submission("eve", "peer", eve, max_bytes=100_000, max_files=50)
    assert [f.name for f in sub.files] == ["main.py"]
    assert "1 link(s) skipped (links are never followed)" in sub.notes
    (tmp_path / "subs" / "tom.py").write_text("")
    tom = load_submission("tom", "peer", tmp_path / "subs" / "tom.py", max_bytes=100_000,
                          max_files=50)
    assert "no code (empty files): nothing to compare" in tom.notes


def test_similarity_compares_upper_case_py_files(tmp_path):
    # grader similarity on a class folder as downloaded: Main.PY is Python too
    from similarity.corpora import children, load_submission

    (tmp_path / "ana").mkdir()
    (tmp_path / "ana" / "Main.PY").write_text("print(1)\n")
    (tmp_path / "bob.Py").write_text("print(2)\n")
    found = children(tmp_path)
    assert sorted(found) == ["ana", "bob"]
    sub = load_submission("ana", "peer", found["ana"], max_bytes=100_000, max_files=50)
    assert [f.name for f in sub.files] == ["Main.PY"] and sub.files[0].tokens


def test_similarity_skips_what_macos_leaves_in_a_folder(tmp_path):
    # an unzipped Mac upload: __MACOSX/._main.py is a resource fork, not Python
    from similarity.corpora import load_submission

    (tmp_path / "ana" / "__MACOSX").mkdir(parents=True)
    (tmp_path / "ana" / "__MACOSX" / "._main.py").write_bytes(b"\0\5\26\7\0\2\0\0Mac OS X")
    (tmp_path / "ana" / "._main.py").write_bytes(b"\0\5\26\7\0\2\0\0Mac OS X")
    (tmp_path / "ana" / "main.py").write_text("print(1)\n")
    sub = load_submission("ana", "peer", tmp_path / "ana", max_bytes=100_000, max_files=50)
    assert [f.name for f in sub.files] == ["main.py"]
