"""Terminal escapes and CSV formulas (issue 16, items 6-7): one function each, used by every
writer. The writers are found by scanning the package source, not listed by hand."""

from __future__ import annotations

import ast
import csv
import io
from pathlib import Path

import pytest

from diagnostics import Diagnostic
from diagnostics.text import csv_safe, csv_writer, terminal_safe
from grader.batch.progress import Progress
from grader.cli import main
from tests.unit.test_course_config import make_course

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("grader", "sandbox", "similarity", "reference", "reports", "diagnostics")
#: students' and tutorials' programs shipped as demo data, not gradebox code
NOT_OURS = ("grader/demo/submissions", "grader/demo/starter", "grader/demo/web")
FORMULA = "=cmd|' /C calc'!A0"
ESCAPE = "\x1b]0;pwned\x07"


def _modules():
    for pkg in PACKAGES:
        for path in sorted((ROOT / pkg).rglob("*.py")):
            rel = path.relative_to(ROOT).as_posix()
            if not rel.startswith(NOT_OURS) and rel != "diagnostics/text.py":
                yield rel, ast.parse(path.read_text(encoding="utf-8"))


def _csv_writers(tree) -> list[int]:
    """Lines that make a csv.writer or csv.DictWriter."""
    return [n.lineno for n in ast.walk(tree) if isinstance(n, ast.Call)
            and isinstance(n.func, ast.Attribute) and n.func.attr in ("writer", "DictWriter")
            and isinstance(n.func.value, ast.Name) and n.func.value.id == "csv"]


def _names_used(tree) -> set[str]:
    return {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}


def _imports_from_diagnostics(tree) -> set[str]:
    return {a.name for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)
            and (n.module or "").startswith("diagnostics") for a in n.names}


def test_every_csv_writer_in_the_source_neutralises_its_cells():
    found, bad = [], []
    for rel, tree in _modules():
        raw = _csv_writers(tree)
        safe = {"csv_writer", "csv_safe"} & _imports_from_diagnostics(tree) & _names_used(tree)
        if raw or "csv_writer" in safe:
            found.append(rel)
        if raw and "csv_safe" not in safe:
            bad.append(f"{rel}:{raw[0]} makes a csv writer without diagnostics.text.csv_safe "
                       "(use diagnostics.text.csv_writer)")
    assert not bad, "\n".join(bad)
    # the scan does find the writers the issue names
    for rel in ("grader/batch/outputs.py", "similarity/outputs.py", "reports/exports.py",
                "grader/ops/mail_intake.py", "grader/ops/final_grades.py"):
        assert rel in found, rel


def test_no_module_writes_its_own_formula_guard():
    """One place: no private copy of the OWASP prefix list survives."""
    for rel, tree in _modules():
        for n in ast.walk(tree):
            if isinstance(n, ast.Tuple) and {getattr(e, "value", None) for e in n.elts} >= \
                    {"=", "+", "-", "@"}:
                pytest.fail(f"{rel}:{n.lineno} has its own formula prefix list; use csv_safe")


@pytest.mark.parametrize("cell,expected", [
    (FORMULA, "'" + FORMULA), ("+1+2", "'+1+2"), ("-x", "'-x"), ("@SUM(A1)", "'@SUM(A1)"),
    ("\tx", "'\tx"), ("\rx", "'\rx"), ("-0.5", "-0.5"), ("+3", "+3"), ("-1e-3", "-1e-3"),
    (-0.5, -0.5), (None, None), ("ana", "ana"), ("", ""),
])
def test_csv_safe(cell, expected):
    assert csv_safe(cell) == expected


def test_terminal_safe_shows_controls_escaped_and_keeps_letters():
    assert terminal_safe(ESCAPE) == "\\x1b]0;pwned\\x07"
    assert terminal_safe("a\r\nb\x9b2J") == "a\\x0d\\x0ab\\x9b2J"
    assert terminal_safe("\u202eevil") == "\\u202eevil"
    assert terminal_safe("b\udcffad").encode("utf-8") == b"b\\xffad"
    assert terminal_safe("Ștefan Țurcanu, 李雷") == "Ștefan Țurcanu, 李雷"


def test_csv_writer_round_trip():
    buf = io.StringIO()
    csv_writer(buf).writerows([[FORMULA, -0.5, "-0.5"], ["a,b", "=1", None]])
    rows = list(csv.reader(io.StringIO(buf.getvalue())))
    assert rows == [["'" + FORMULA, "-0.5", "-0.5"], ["a,b", "'=1", ""]]


def test_diagnostics_and_progress_lines_are_terminal_safe():
    d = Diagnostic(f"bad name {ESCAPE}", problems=[f"row 2: {ESCAPE}"], hint="fix\nit")
    text = d.render()
    assert "\x1b" not in text and "\x07" not in text and text.count("\n") == 3
    out = io.StringIO()
    p = Progress(1, stream=out)
    p.update(f"ana{ESCAPE}", "ok", 1.0)
    assert "\x1b" not in out.getvalue() and "ana\\x1b]0;pwned\\x07" in out.getvalue()


def test_grader_grades_end_to_end_with_hostile_team_names(tmp_path, capsys):
    """A plain student,score table whose names are a formula and an escape sequence:
    grades.csv, leaderboard.csv and the terminal all get them neutralised."""
    course = make_course(tmp_path / "c",
                         toml='[competition]\nname = "t"\n[grading]\nbaseline = 0.1\n')
    lb = tmp_path / "lb.csv"
    with lb.open("w", newline="") as f:
        csv.writer(f).writerows([["student", "score"], [FORMULA, 0.9], [f"ana{ESCAPE}", 0.8],
                                 ["bob", 0.7]])
    code = main(["grades", str(course), "--leaderboard", str(lb), "--out", str(tmp_path / "o")])
    printed = capsys.readouterr()
    assert "\x1b" not in printed.out + printed.err
    for name in ("grades.csv", "leaderboard.csv"):
        path = tmp_path / "o" / name
        if code != 0 or not path.is_file():
            pytest.fail(f"grader grades exited {code}: {printed.err[-500:]}")
        cells = [c for row in csv.reader(path.open(encoding="utf-8")) for c in row]
        # the name is the student id, white space as _ (as grader run writes ids)
        assert "'" + FORMULA.replace(" ", "_") in cells, (name, cells)
        assert not any(c.startswith(("=", "+", "@")) for c in cells)
        assert not any(c.startswith("-") and not c[1:2].isdigit() for c in cells)


def test_terminal_lines_keeps_the_callers_line_breaks_and_escapes_the_rest():
    from diagnostics.text import terminal_lines

    got = terminal_lines("pre-flight: 1 submission\n  ana: x\x1b]0;OWNED\x07.py\rfake")
    assert got.split("\n") == ["pre-flight: 1 submission",
                               "  ana: x\\x1b]0;OWNED\\x07.py\\x0dfake"]
