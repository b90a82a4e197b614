"""``grader similarity`` as a user runs it: a real subprocess on real folders, including the
embedded demo (its renamed copy and pasted tutorial must be the top two findings, and no
honest pair may reach the threshold)."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "grader" / "demo"


def grader(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "grader", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=300)


def test_demo_copy_and_tutorial_are_the_top_two(tmp_path):
    if not (DEMO / "submissions").is_dir():
        pytest.skip("the embedded demo is not in this checkout")
    out = tmp_path / "sim"
    res = grader("similarity", str(DEMO / "submissions"), "--out", str(out),
                 "--template", str(DEMO / "starter"), "--web", str(DEMO / "web"))
    assert res.returncode == 0, res.stderr
    rows = list(csv.DictReader(open(out / "pairs.csv", encoding="utf-8")))
    assert rows and list(rows[0])[:3] == ["a", "b", "score"]
    top = {frozenset((r["a"], r["b"])) for r in rows[:2]}
    assert frozenset(("tudor_tutorial", "web:mlp_tutorial")) in top
    assert frozenset(("ana_knn", "sorin_copy")) in top
    flagged = [r for r in rows if r["flagged"] == "true"]
    assert len(flagged) == 2, flagged  # no honest pair reaches the threshold
    doc = json.loads((out / "pairs.json").read_text(encoding="utf-8"))
    assert all(p["fragments"] for p in doc["pairs"][:2])
    assert doc["clusters"] == [["ana_knn", "sorin_copy"]]
    assert (out / "clusters.csv").is_file()
    assert "tudor_tutorial" in res.stdout and "wrote" in res.stdout


def test_cli_reads_every_child_and_reports_user_errors(tmp_path):
    a, b = tmp_path / "year1", tmp_path / "year2"
    a.mkdir()
    b.mkdir()
    src = "def mean(xs):\n    total = 0\n    for x in xs:\n        total += x\n" \
          "    return total / len(xs)\n\nprint(mean([1, 2, 3]))\n"
    (a / "ana.py").write_text(src)
    (b / "bob").mkdir()
    (b / "bob" / "main.py").write_text(src.replace("total", "acc"))
    (b / "notes.txt").write_text("not a submission")
    out = tmp_path / "out"
    res = grader("similarity", str(a), str(b), "--out", str(out), "--min-score", "0.2")
    assert res.returncode == 0, res.stderr
    rows = list(csv.DictReader(open(out / "pairs.csv")))
    assert [(r["a"], r["b"]) for r in rows] == [("ana", "bob")]
    # A missing folder: exit 1, no traceback.
    (b / "ana.py").write_text(src)
    res = grader("similarity", str(a), str(b), str(tmp_path / "nope"), "--out", str(out))
    assert res.returncode == 1
    assert "error[invalid-submissions]" in res.stderr and "Traceback" not in res.stderr
    assert "nope" in res.stderr
    # one name in two folders (two sections of a class): both compared, the pair flagged
    res = grader("similarity", str(a), str(b), "--out", str(out))
    assert res.returncode == 0 and f"ana: both {a / 'ana.py'} and {b / 'ana.py'}" in res.stderr
    rows = list(csv.DictReader(open(out / "pairs.csv")))
    assert ("ana", "ana (2)", "true") in [(r["a"], r["b"], r["flagged"]) for r in rows]
    res = grader("similarity", str(a), "--out", str(out), "--min-score", "2")
    assert res.returncode == 1 and "min_score" in res.stderr and "Traceback" not in res.stderr
    # a file and a folder of one name: both compared, the second under its own label, with a
    # warning (the file was once dropped without a word, then the whole class was refused)
    (b / "ana.py").unlink()
    (b / "bob.py").write_text(src.replace("total", "s").replace("xs", "values"))
    res = grader("similarity", str(b), "--out", str(out))
    assert res.returncode == 0, res.stderr
    assert f"warning: bob: both {b / 'bob'} and {b / 'bob.py'}" in res.stderr
    rows = list(csv.DictReader(open(out / "pairs.csv")))
    assert [(r["a"], r["b"], r["flagged"]) for r in rows] == [("bob", "bob (2)", "true")]
    # --out a file: said before the comparison, not a traceback after it
    (b / "bob.py").unlink()
    res = grader("similarity", str(a), str(b), "--out", str(b / "notes.txt"))
    assert res.returncode == 1 and "is a file, not a folder" in res.stderr
    assert "Traceback" not in res.stderr


def test_students_are_named_as_grader_run_names_them(tmp_path):
    # a folder name with a space and decomposed diacritics (as macOS writes them): pairs.csv
    # names the student by the id grades.csv has, so the two tables join
    import unicodedata

    subs = tmp_path / "subs"
    subs.mkdir()
    src = "def mean(xs):\n    total = 0\n    for x in xs:\n        total += x\n" \
          "    return total / len(xs)\n\nprint(mean([1, 2, 3]))\n"
    (subs / unicodedata.normalize("NFD", "Ștefan Mărgărit")).mkdir()
    (subs / unicodedata.normalize("NFD", "Ștefan Mărgărit") / "main.py").write_text(src)
    (subs / "ana.py").write_text(src)
    out = tmp_path / "out"
    res = grader("similarity", str(subs), "--out", str(out))
    assert res.returncode == 0, res.stderr
    rows = list(csv.DictReader(open(out / "pairs.csv", encoding="utf-8")))
    assert {rows[0]["a"], rows[0]["b"]} == {"ana", unicodedata.normalize("NFC", "Ștefan_Mărgărit")}
    # two entries that name one student are both compared, the second under its own label
    (subs / "Ștefan_Mărgărit.py").write_text(src)
    res = grader("similarity", str(subs), "--out", str(out))
    assert res.returncode == 0 and "Ștefan_Mărgărit: both" in res.stderr
    names = {r[k] for r in csv.DictReader(open(out / "pairs.csv", encoding="utf-8"))
             for k in ("a", "b")}
    assert names == {"ana", "Ștefan_Mărgărit", "Ștefan_Mărgărit (2)"}


def test_a_reader_that_leaves_early_gets_the_files_and_no_traceback(tmp_path):
    """``grader similarity ... | head``: the output pipe closes before the summary is printed."""
    if not (DEMO / "submissions").is_dir():
        pytest.skip("the embedded demo is not in this checkout")
    out = tmp_path / "sim"
    proc = subprocess.Popen([sys.executable, "-m", "grader", "similarity",
                             str(DEMO / "submissions"), "--out", str(out)], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    proc.stdout.close()  # the reader is gone before anything is printed
    err = proc.stderr.read()
    assert proc.wait(timeout=300) == 141, err  # as a shell reports a program SIGPIPE ended
    assert "Traceback" not in err and "BrokenPipe" not in err
    assert (out / "pairs.csv").is_file() and (out / "pairs.json").is_file()
    summary = grader("similarity", str(DEMO / "submissions"), "--out", str(out))
    assert summary.stdout.startswith("15 submissions, all 105 pairs, "), summary.stdout
