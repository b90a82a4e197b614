"""Side-by-side building blocks: per-line highlighting, escaping, fragment marks, safe reading."""

from __future__ import annotations

import os

from reports._code import annotate, highlight_lines, source_files


def test_highlight_keeps_one_entry_per_source_line_and_escapes():
    src = 'x = "<script>alert(1)</script>"\ns = """doc\n<b>two</b>\n"""\n# </div>\n'
    lines = highlight_lines(src)
    assert len(lines) == src.count("\n")
    html = "".join(lines)
    assert "<script>" not in html and "</div>" not in html and "<b>" not in html
    assert "&lt;script&gt;" in html and "&lt;/div&gt;" in html
    # a docstring spanning lines is split into one span per line, each closed on its line
    for line in lines:
        assert line.count("<span") == line.count("</span>")


def test_highlight_marks_tokens_with_pygments_classes():
    html = highlight_lines("def f(x):\n    return x\n")[0]
    assert '<span class="k">def</span>' in html and '<span class="nf">f</span>' in html


def test_annotate_marks_exactly_the_fragment_lines_per_side(tmp_path):
    (tmp_path / "a.py").write_text("\n".join(f"x{i} = {i}" for i in range(1, 21)) + "\n")
    files, note = source_files(tmp_path / "a.py")
    assert note == "" and len(files[0].lines) == 20
    frags = [{"file_a": "a.py", "start_a": 3, "end_a": 5, "file_b": "b.py", "start_b": 10,
              "end_b": 12, "tokens": 9},
             {"file_a": "a.py", "start_a": 8, "end_a": 8}]
    view = annotate("ana", files, frags, "a")
    marked = {ln.number: ln.frag for ln in view.files[0][1] if ln.frag is not None}
    assert marked == {3: 0, 4: 0, 5: 0, 8: 1}
    side_b = annotate("bob", files, frags, "b")  # b.py is not among these files
    assert all(ln.frag is None for ln in side_b.files[0][1])


def test_annotate_tolerates_missing_and_malformed_fields(tmp_path):
    (tmp_path / "only.py").write_text("a = 1\nb = 2\nc = 3\n")
    files, _ = source_files(tmp_path / "only.py")
    frags = [{"start_a": 2, "end_a": 3}, {"file_a": "only.py", "start_a": "x"}, {}]
    view = annotate("ana", files, frags, "a")
    assert [ln.frag for ln in view.files[0][1]] == [None, 0, 0]


def test_source_files_never_follows_links_or_leaves_the_folder(tmp_path):
    secret = tmp_path / "secret.py"
    secret.write_text("HIDDEN = 'labels'\n")
    sub = tmp_path / "student"
    sub.mkdir()
    (sub / "main.py").write_text("print('hi')\n")
    os.symlink(secret, sub / "link.py")
    files, note = source_files(sub, ["main.py", "link.py", "../secret.py"])
    assert note == "" and [f.name for f in files] == ["main.py"]
    missing, why = source_files(tmp_path / "gone")
    assert missing == [] and "no longer" in why


def test_source_files_bounds_what_it_reads(tmp_path, monkeypatch):
    import reports._code as code

    monkeypatch.setattr(code, "MAX_SOURCE_BYTES", 100)
    (tmp_path / "big.py").write_text("x = 1\n" * 1000)
    files, _ = source_files(tmp_path / "big.py")
    assert len(files[0].lines) <= 17 and "only the first" in files[0].note


def test_one_submission_shows_a_bounded_amount_of_code_over_all_its_files(tmp_path, monkeypatch):
    # 20 helper files of blank lines made each of a student's pair pages 378 MB
    import reports._code as code

    monkeypatch.setattr(code, "MAX_SUBMISSION_LINES", 300)
    monkeypatch.setattr(code, "MAX_SUBMISSION_BYTES", 5_000)
    sub = tmp_path / "ana"
    sub.mkdir()
    (sub / "main.py").write_text("x = 1\n" * 100)
    for k in range(20):
        (sub / f"m{k:02d}.py").write_text("\n" * 2_000 + "y = 2\n")
    files, _ = source_files(sub)
    assert len(files) == 21  # every file is named, with what was left out
    assert sum(len(f.lines) for f in files) <= 300
    assert sum(len("\n".join(f.lines)) for f in files) <= 5_000 + 300
    assert files[0].name == "m00.py" and "only the first 300 lines shown" in files[0].note
    assert "at most 5 kB and 300 lines" in files[-1].note and not files[-1].lines


def test_starter_lines_are_read_whitespace_collapsed(tmp_path):
    from reports._code import starter_lines

    (tmp_path / "main.py").write_text("import os\nDATA  =  os.environ['GRADER_DATA']\npass\n")
    assert starter_lines(tmp_path) == {"import os", "DATA = os.environ['GRADER_DATA']"}
