"""Python source bytes read as Python reads them (diagnostics.source, PEP 263): intake accepts
a file whose coding line declares its encoding, and the code pages show its text."""

from __future__ import annotations

import subprocess
import sys

import pytest

from diagnostics.source import decode_source_bytes, source_encoding
from grader.intake import Rejection, Submission, scan_submissions
from reports._code import source_files

LATIN1_BYTES = "# -*- coding: latin-1 -*-\nname = 'été'\nprint(len(name))\n".encode("latin-1")


@pytest.mark.parametrize("data,encoding", [
    (b"x = 1\n", "utf-8"),
    (b"\xef\xbb\xbfx = 1\n", "utf-8-sig"),
    (b"# -*- coding: latin-1 -*-\nx = '\xe9'\n", "iso-8859-1"),
    (b"#!/usr/bin/env python\n# coding=cp1250\nx = 1\n", "cp1250"),
    (b"x = 1\n# coding: latin-1\n", "utf-8"),  # on the third line: no declaration
    (b"# coding: no-such-codec\nx = 1\n", "utf-8"),  # Python rejects it: UTF-8 it must be
])
def test_the_encoding_python_reads(data, encoding):
    assert source_encoding(data) == encoding


def test_decoding_follows_the_declaration():
    assert decode_source_bytes(LATIN1_BYTES).splitlines()[1] == "name = 'été'"
    with pytest.raises(UnicodeDecodeError):
        decode_source_bytes(b"x = '\xe9t\xe9'\n")  # no declaration: UTF-8, and it is not
    assert decode_source_bytes(b"x = '\xe9'\n", errors="replace") == "x = '\ufffd'\n"


def test_python_runs_what_intake_accepts(tmp_path):
    (tmp_path / "ana.py").write_bytes(LATIN1_BYTES)
    # Python itself reads the declared encoding: the program runs and counts three letters
    ran = subprocess.run([sys.executable, str(tmp_path / "ana.py")], capture_output=True,
                         text=True, check=True)
    assert ran.stdout.strip() == "3"
    (tmp_path / "bob.py").write_bytes(b"x = '\xe9t\xe9'\nprint(x)\n")  # latin-1, undeclared
    (tmp_path / "eve.py").write_bytes(b"# coding: utf-8\nx = '\xe9'\n")  # declared, wrong
    (tmp_path / "dan.py").write_bytes(b"# coding: cp1250\nx = '\x81'\n")  # no such cp1250 byte
    entries = {e.student: e for e in scan_submissions(tmp_path)}
    assert isinstance(entries["ana"], Submission)
    assert isinstance(entries["bob"], Rejection) and "not UTF-8" in entries["bob"].reason
    assert isinstance(entries["eve"], Rejection) and "not UTF-8" in entries["eve"].reason
    assert isinstance(entries["dan"], Rejection) and \
        "not cp1250 as its coding line declares" in entries["dan"].reason


def test_the_code_page_shows_the_declared_text(tmp_path):
    (tmp_path / "ana.py").write_bytes(LATIN1_BYTES)
    files, note = source_files(tmp_path / "ana.py")
    text = "".join(str(line) for line in files[0].lines)
    assert note == "" and "été" in text and "\ufffd" not in text
