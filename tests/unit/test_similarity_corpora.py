"""Which children of a class folder are submissions, a name twice where a file and a folder
share it: one listing of the folder, on a real file system."""

from __future__ import annotations

import os

from similarity.corpora import children, entries


def test_children_are_folders_and_py_files_by_name(tmp_path):
    (tmp_path / "zoe.py").write_text("x = 1\n")
    (tmp_path / "Ana.PY").write_text("x = 2\n")  # a Windows editor's suffix
    (tmp_path / "bob").mkdir()
    (tmp_path / "notes.txt").write_text("not a submission")
    (tmp_path / ".hidden.py").write_text("x = 3\n")
    (tmp_path / "__pycache__").mkdir()
    (tmp_path / "other").mkdir()
    os.symlink(tmp_path / "other", tmp_path / "link_dir")
    os.symlink(tmp_path / "zoe.py", tmp_path / "link.py")
    got = children(tmp_path)
    assert list(got) == ["Ana", "bob", "other", "zoe"]
    assert got["Ana"] == tmp_path / "Ana.PY" and got["bob"] == tmp_path / "bob"
    assert [n for n, _ in entries(tmp_path)] == list(got)


def test_a_file_and_a_folder_of_one_name_are_both_listed(tmp_path):
    (tmp_path / "bo.py").write_text("x = 1\n")
    (tmp_path / "bo").mkdir()
    (tmp_path / "cy.py").write_text("x = 1\n")
    assert entries(tmp_path) == [("bo", tmp_path / "bo"), ("bo", tmp_path / "bo.py"),
                                 ("cy", tmp_path / "cy.py")]
    assert children(tmp_path)["bo"] == tmp_path / "bo"  # the first by name: the folder


def test_names_that_are_not_utf8_are_shown_and_every_output_is_written(tmp_path):
    # a file named with a byte that is not UTF-8 (an old Windows zip) reached pairs.json as a
    # lone surrogate and the whole comparison failed: UnicodeEncodeError
    from pathlib import Path

    from similarity import compare, write_outputs

    code = ("import numpy as np\n\ndef fit(X, y):\n    w = np.linalg.pinv(X) @ y\n"
            "    return w\n\nprint(fit(np.eye(3), np.ones(3)))\n")
    classes = tmp_path / "class"
    (classes / "zed").mkdir(parents=True)
    (classes / "ana.py").write_text(code)
    Path(os.fsdecode(bytes(classes / "zed") + b"/m\xffin.py")).write_text(code)
    Path(os.fsdecode(bytes(classes) + b"/c\xe2t.py")).write_text(code + "x = 1\n")
    got = children(classes)
    assert sorted(got) == ["ana", "c\\xe2t", "zed"]
    result = compare(got)
    write_outputs(result, tmp_path / "out")
    pair = next(p for p in result.pairs if {p.a, p.b} == {"ana", "zed"})
    assert pair.flagged and pair.fragments[0].file_b == "m\\xffin.py"
    assert "m\\\\xffin.py" in (tmp_path / "out" / "pairs.json").read_text()
    assert "c\\xe2t" in (tmp_path / "out" / "pairs.csv").read_text()
