"""The student page explains the grade (issue 14, item 5): the band table the batch graded
with and the student's place in it, the baseline cap, the deduction and its note, why public
and private places differ, and a crash's own frames first. Grades come from the real grading
code (``grade_rows``) on a real SQLite store."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

from grader.batch.scores import grade_rows
from grader.course import GradingConfig, IntegrityConfig
from grader.store import Store
from reports._explain import crash_view, data_path_hint, explain_grade, parse_frames
from reports._load import load_batch

# the real traceback of the demo's gabi_crash.py (pandas 2, Python 3.11), as the sandbox
# writes it: the student's file under the run's folder, pandas under the environment
GABI = '''Traceback (most recent call last):
  File "/work/code/gabi_crash.py", line 11, in <module>
    tree.fit(train.drop(columns=["id", "target"]), train["target"])  # the column is "label"
             ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
  File "/opt/env/lib/python3.11/site-packages/pandas/core/frame.py", line 6974, in drop
    return super().drop(
           ^^^^^^^^^^^^^
  File "/opt/env/lib/python3.11/site-packages/pandas/core/generic.py", line 4721, in drop
    obj = obj._drop_axis(labels, axis, level=level, errors=errors)
          ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
  File "/opt/env/lib/python3.11/site-packages/pandas/core/generic.py", line 4760, in _drop_axis
    new_axis = axis.drop(labels, errors=errors)
               ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
  File "/opt/env/lib/python3.11/site-packages/pandas/core/indexes/base.py", line 7626, in drop
    raise KeyError(f"{labels[mask].tolist()} not found in axis")
KeyError: "['target'] not found in axis"
'''


def _batch(tmp_path: Path, scores: dict[str, tuple[float, float]], *, baseline: float = 0.5,
           failed: dict[str, str] | None = None, adjustments: str = "",
           release_private: bool = False, grading: GradingConfig | None = None):
    """A store graded by ``grade_rows`` (the batch's own grade stage) → the view data."""
    grading = grading or GradingConfig()
    adj = None
    if adjustments:
        adj = tmp_path / "adjustments.csv"
        adj.write_text(adjustments)
    failed = failed or {}
    with Store(tmp_path / "grading.db") as store:
        store.set_meta(course="t", config={
            "grading": asdict(grading), "competition": {"metric": "accuracy",
                                                        "public_fraction": 0.3},
            "reports": {"release_private": release_private}})
        names = [*scores, *failed]
        store.put_submissions([dict(student=n, path=str(tmp_path / n), entry="main.py",
                                    files=["main.py"], content_hash=n, accepted=True,
                                    reason=None, hint=None) for n in names])
        store.put_scores([dict(student=n, status="ok", message="", public_score=pub,
                               private_score=priv, details={})
                          for n, (pub, priv) in scores.items()]
                         + [dict(student=n, status=st, message="it failed", public_score=None,
                                 private_score=None, details={}) for n, st in failed.items()])
        store.put_grades(grade_rows(store, grading, baseline=baseline,
                                    baseline_source="fixed baseline 0.5", optimum=None,
                                    greater_is_better=True, adjustments=adj,
                                    integrity=IntegrityConfig()))
        snapshot = store.snapshot()
    b = load_batch(tmp_path, snapshot)
    ranked = sum(1 for s in b.students if s.rank is not None)
    return b, {s.student: s for s in b.students}, ranked


def _class_of_40(below: int = 0) -> dict[str, tuple[float, float]]:
    """40 students, distinct private scores (s01 best); the last ``below`` under 0.5."""
    out = {}
    for i in range(1, 41):
        private = 0.95 - i * 0.01 if i <= 40 - below else 0.45 - i * 0.001
        out[f"s{i:02d}"] = (round(private, 4), round(private, 4))
    return out


def test_band_table_is_the_scaled_one_with_the_place_marked(tmp_path):
    b, s, ranked = _batch(tmp_path, _class_of_40())
    ex = explain_grade(b, s["s09"], ranked)
    # the course's table for 150, scaled to 40 (README: 1-8, 9-14, 15-24, 25-32, 33-40)
    assert [(r["places"], r["grade"]) for r in ex["bands"]][:5] == [
        ("1-8", 10.0), ("9-14", 9.0), ("15-24", 8.0), ("25-32", 7.0), ("33-40", 6.0)]
    assert [r["places"] for r in ex["bands"] if r["you"]] == ["9-14"]
    assert ex["scaled"] and ex["participants"] == 40 and ex["place_grade"] == 9.0
    assert "band of places 9-14, which earns 9" in " ".join(ex["steps"])
    assert ex["steps"][-1] == "Your grade: 9."
    top = explain_grade(b, s["s01"], ranked)
    assert [r["places"] for r in top["bands"] if r["you"]] == ["1-8"]
    assert not top["capped"] and top["beat"] is True


def test_below_baseline_says_both_what_the_place_earns_and_the_cap(tmp_path):
    b, s, ranked = _batch(tmp_path, _class_of_40(below=3))
    ex = explain_grade(b, s["s39"], ranked)  # place 39: band 33-40 earns 6, capped at 4
    assert ex["capped"] and ex["place_grade"] == 6.0 and ex["cap"] == 4.0
    assert [r["places"] for r in ex["bands"] if r["you"]] == ["33-40"]
    text = " ".join(ex["steps"])
    assert "capped at 4 (the place alone would earn 6)" in text
    assert "does not beat it" in ex["baseline"] and "strictly above the fixed baseline 0.5" in ex["baseline"]
    assert "(0.5000)" not in ex["baseline"]  # the number is the baseline: said once
    assert s["s39"].grade["grade"] == 4.0


def test_deduction_and_its_note(tmp_path):
    b, s, ranked = _batch(tmp_path, _class_of_40(),
                          adjustments="student,points,note\ns02,1.5,slides missing; no demo\n")
    ex = explain_grade(b, s["s02"], ranked)
    assert ex["deduction"] == 1.5 and ex["deduction_note"] == "slides missing; no demo"
    assert "10 − 1.5 = 8.5" in " ".join(ex["steps"]) and ex["steps"][-1] == "Your grade: 8.5."


def test_tied_best_public_score_is_told_the_rank_is_private(tmp_path):
    scores = {f"s{i:02d}": (0.90 if i <= 5 else 0.80 - i * 0.01, 0.90 - i * 0.01)
              for i in range(1, 12)}
    b, s, ranked = _batch(tmp_path, scores)
    ex = explain_grade(b, s["s05"], ranked)
    assert s["s05"].rank == 5 and ranked == 11
    assert "you would be place 1 (tied) of 11; your rank 5 comes from the private" in ex["ranks"]
    assert "not released until the competition closes" in ex["ranks"]
    assert ex["not_released"] and not any("private" in r for r in ex["released"])
    (tmp_path / "r").mkdir()
    b2, s2, ranked2 = _batch(tmp_path / "r", scores, release_private=True)
    released = explain_grade(b2, s2["s05"], ranked2)
    assert released["not_released"] == [] and "your private accuracy" in released["released"]


def test_failed_run_is_told_the_grade_that_follows(tmp_path):
    b, s, ranked = _batch(tmp_path, _class_of_40(), failed={"gabi": "error"})
    ex = explain_grade(b, s["gabi"], ranked)
    assert not ex["graded"] and ex["bands"] == []
    assert "No project grade" in ex["no_grade"] and "status (error)" in ex["no_grade"]


def test_crash_frames_from_the_students_files_come_first():
    view = crash_view(GABI, ["gabi_crash.py"])
    assert view["where"] == "gabi_crash.py, line 11"
    assert [f.where for f in view["own"]] == ["gabi_crash.py, line 11"]
    assert view["own"][0].code.startswith("tree.fit(train.drop(")
    assert view["exception"] == "KeyError: \"['target'] not found in axis\""
    # the library frames follow, innermost first, named from the package on
    assert [f.file for f in view["library"]] == [
        "pandas/core/indexes/base.py", "pandas/core/generic.py", "pandas/core/generic.py",
        "pandas/core/frame.py"]


def test_crash_frames_of_several_own_files_innermost_first():
    log = ("noise before\nTraceback (most recent call last):\n"
           '  File "/w/main.py", line 3, in <module>\n    run()\n'
           '  File "/w/lib/util.py", line 7, in run\n    np.zeros(-1)\n'
           '  File "/env/lib/python3.11/site-packages/numpy/core/numeric.py", line 1, in zeros\n'
           "ValueError: negative dimensions are not allowed\n")
    frames, exc = parse_frames(log, ["main.py", "lib/util.py"])
    assert [(f.file, f.own) for f in frames] == [("main.py", True), ("lib/util.py", True),
                                                 ("numpy/core/numeric.py", False)]
    view = crash_view(log, ["main.py", "lib/util.py"])
    assert [f.where for f in view["own"]] == ["lib/util.py, line 7", "main.py, line 3"]
    assert exc == "ValueError: negative dimensions are not allowed"
    assert crash_view("no traceback here\n", ["main.py"]) is None


def test_data_read_outside_grader_data_gets_the_contract_as_the_fix():
    """A program reading data/train.csv beside itself (as on the student's laptop) crashes
    with FileNotFoundError: the page names that path and how to open the data instead."""
    log = ("Traceback (most recent call last):\n"
           '  File "/grader/code/kim.py", line 3, in <module>\n'
           '    tr = pd.read_csv("data/train.csv")\n'
           '  File "/env/lib/python3.11/site-packages/pandas/io/common.py", line 954, in get_handle\n'
           "    handle = open(handle, ioargs.mode)\n"
           "FileNotFoundError: [Errno 2] No such file or directory: 'data/train.csv'\n")
    hint = data_path_hint(crash_view(log, ["kim.py"])["exception"])
    assert "'data/train.csv'" in hint and 'os.environ["GRADER_DATA"], "train.csv"' in hint
    laptop = "FileNotFoundError: [Errno 2] No such file or directory: 'C:\\Users\\kim\\test.csv'"
    assert 'os.environ["GRADER_DATA"], "test.csv"' in data_path_hint(laptop)
    # other crashes keep the general advice
    for other in ("FileNotFoundError: [Errno 2] No such file or directory: 'model.pt'",
                  "FileNotFoundError: [Errno 2] No such file or directory: '/grader/data/train.csv'",
                  "KeyError: 'label'", ""):
        assert data_path_hint(other) is None


def test_pages_show_the_band_table_and_the_place(tmp_path):
    from reports.render import render_all

    b, s, ranked = _batch(tmp_path, _class_of_40(below=3))
    with Store(tmp_path / "grading.db") as store:
        render_all(tmp_path, store.snapshot())
    html = (tmp_path / "reports" / "students" / "s39.html").read_text()
    assert 'id="band-table"' in html and 'class="you-row" id="your-band"' in html
    assert "6.00 → capped at 4.00 (does not beat the baseline)" in html
    md = (tmp_path / "reports" / "students" / "s39.md").read_text()
    assert "| 33-40 | 6 | **← you (place 39)** |" in md
    txt = (tmp_path / "reports" / "students" / "s39.txt").read_text()
    assert "33-40          6  <- you (place 39)" in txt
    assert "Grade from the ranking: 6.00, capped at 4.00 (does not beat the baseline)" in txt


def test_a_download_attempt_is_told_runs_have_no_network():
    from reports._explain import crash_hint

    for exception in (
            "urllib.error.URLError: <urlopen error [Errno -3] Temporary failure in name "
            "resolution>",
            "requests.exceptions.ConnectionError: HTTPSConnectionPool(host='x.org', port=443): "
            "Max retries exceeded with url: /w.pt (Caused by NameResolutionError(...))",
            "socket.gaierror: [Errno -2] Name or service not known"):
        assert "no network" in crash_hint(exception), exception
    assert crash_hint("ZeroDivisionError: division by zero") is None


def test_workers_started_without_a_main_guard_are_told_to_add_it():
    from reports._explain import main_guard_hint

    log = ("RuntimeError: \n        An attempt has been made to start a new process before the\n"
           "        current process has finished its bootstrapping phase.")
    assert main_guard_hint(log) is not None  # as Python prints it, over several lines
    assert 'if __name__ == "__main__":' in main_guard_hint(
        "An attempt has been made to start a new process before the current process has "
        "finished its bootstrapping phase.")
    assert main_guard_hint("ZeroDivisionError: division by zero") is None
