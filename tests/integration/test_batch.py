"""Whole batches on the real bubblewrap sandbox: statuses, hostile neighbours, resume."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time

import pytest

from grader.batch import BatchOptions, run_batch
from grader.course import load_course
from tests.integration.batch_helpers import (
    honest,
    make_course,
    read_grades,
    tree_digest,
    write_submissions,
)

pytestmark = [pytest.mark.bwrap, pytest.mark.slow]

OPTS = dict(similarity=False, reports=False, quiet=True)

CASES = {
    "good": honest(0.5),
    "fair": honest(0.3),
    "crash": "import json\njson.loads('{oops')\n",
    "slow": "while True:\n    pass\n",
    "hog": "chunks = []\nwhile True:\n    chunks.append(bytearray(50 * 1024 * 1024))\n",
    "headerless": honest(0.5).replace('f.write("id,label\\n")', "pass"),
    "notebook.ipynb": '{"cells": []}',
    # output_limit_mb = 1: the write itself fails, whatever the program does
    "oversized": honest(0.5) + "\nwith open(os.path.join(os.environ['GRADER_OUTPUT'], "
                 "'submission.csv'), 'a') as f:\n    f.write('x' * 3_000_000)\n",
}


def test_every_status_end_to_end(tmp_path, bwrap_sandbox):
    course = load_course(make_course(tmp_path / "course", time_limit_s=4, memory_mb=200))
    subs = write_submissions(tmp_path / "subs", CASES)
    summary = run_batch(course, subs, tmp_path / "out", BatchOptions(jobs=2, **OPTS))
    g = read_grades(tmp_path / "out")
    assert {k: v["status"] for k, v in g.items()} == {
        "good": "ok", "fair": "ok", "crash": "error", "slow": "timeout", "hog": "memory",
        "headerless": "invalid_output", "notebook": "rejected", "oversized": "error"}
    # the output folder is full (a sized tmpfs as root; else the file-size limit): the
    # message quotes the limits
    assert ("No space left" in g["oversized"]["message"]
            or "File too large" in g["oversized"]["message"])
    assert "MiB to $GRADER_OUTPUT" in g["oversized"]["message"]
    assert g["good"]["rank"] == "1" and float(g["good"]["score"]) == 1.0
    assert float(g["fair"]["score"]) < 1.0 and g["fair"]["rank"] == "2"
    assert "JSONDecodeError" in g["crash"]["message"]
    assert "header" in g["headerless"]["message"] and g["headerless"]["grade"] == ""
    assert "notebook" in g["notebook"]["message"]
    for student in ("good", "crash", "slow", "hog"):
        run = tmp_path / "out" / "runs" / student
        verdict = json.loads((run / "verdict.json").read_text())
        assert verdict["status"] == g[student]["status"]
        assert (run / "stdout.txt").exists() and (run / "stderr.txt").exists()
    assert "Traceback" in (tmp_path / "out" / "runs" / "crash" / "stderr.txt").read_text()
    assert summary.counts["ok"] == 2 and summary.ran == 7
    db = sqlite3.connect(tmp_path / "out" / "grading.db")
    assert db.execute("SELECT count(*) FROM runs").fetchone()[0] == 7
    assert db.execute("SELECT count(*) FROM grades").fetchone()[0] == 8


HOSTILE = {
    "peek_relative": '''
import os, shutil
for c in ["../hidden/test_labels.csv", "../../hidden/test_labels.csv",
          os.path.join(os.environ["GRADER_DATA"], "..", "hidden", "test_labels.csv"),
          "/proc/1/root/hidden/test_labels.csv"]:
    if os.path.exists(c):
        shutil.copy(c, os.path.join(os.environ["GRADER_OUTPUT"], "submission.csv"))
        raise SystemExit(0)
raise SystemExit("nothing found")
''',
    "search_everything": '''
import os, shutil
for root, dirs, files in os.walk("/"):
    dirs[:] = [d for d in dirs if root != "/" or d not in ("proc", "sys", "usr")]
    if "test_labels.csv" in files:
        shutil.copy(os.path.join(root, "test_labels.csv"),
                    os.path.join(os.environ["GRADER_OUTPUT"], "submission.csv"))
        break
''',
    "link_labels": '''
import os
os.symlink(os.path.abspath("../../hidden/test_labels.csv"),
           os.path.join(os.environ["GRADER_OUTPUT"], "submission.csv"))
''',
    "vandal": '''
import os, signal
for target in [os.path.join(os.environ["GRADER_DATA"], "test.csv"), "/etc/passwd", "/x"]:
    try:
        open(target, "w").write("id,x\\n")
    except OSError:
        pass
try:
    os.kill(-1, signal.SIGKILL)
except OSError:
    pass
''',
    "forker": '''
import os, time
for _ in range(10000):
    try:
        os.fork()
    except OSError:
        break
time.sleep(2)
''',
    "spammer": "import sys\nwhile True:\n    sys.stdout.write('x' * 65536)\n",
    "fifo": "import os\nos.mkfifo(os.path.join(os.environ['GRADER_OUTPUT'], 'submission.csv'))\n",
    "in_cwd": "open('submission.csv', 'w').write('id,label\\n')\n",
}


def test_hostile_neighbours_do_not_change_honest_scores(tmp_path, bwrap_sandbox):
    course_dir = make_course(tmp_path / "course", time_limit_s=6)
    before = tree_digest(course_dir)
    course = load_course(course_dir)
    honest_only = {"good": honest(0.5), "fair": honest(0.3)}
    run_batch(course, write_submissions(tmp_path / "a", honest_only), tmp_path / "out-a",
              BatchOptions(jobs=2, **OPTS))
    run_batch(course, write_submissions(tmp_path / "b", {**honest_only, **HOSTILE}),
              tmp_path / "out-b", BatchOptions(jobs=2, **OPTS))
    alone, mixed = read_grades(tmp_path / "out-a"), read_grades(tmp_path / "out-b")
    for s in honest_only:
        assert mixed[s]["status"] == "ok"
        assert mixed[s]["score"] == alone[s]["score"] and mixed[s]["public_score"] == alone[s]["public_score"]
    for s in HOSTILE:
        assert mixed[s]["status"] != "ok" or float(mixed[s]["score"]) < 1.0, mixed[s]
    assert mixed["link_labels"]["status"] == "invalid_output"
    assert "link" in mixed["link_labels"]["message"]
    # a pipe as submission.csv: told it was no plain file, not that nothing was written
    assert mixed["fifo"]["status"] == "invalid_output"
    assert "not a regular file" in mixed["fifo"]["message"], mixed["fifo"]
    # the commonest miss: predictions written to the working folder
    assert mixed["in_cwd"]["status"] == "invalid_output"
    assert "working folder, not to $GRADER_OUTPUT" in mixed["in_cwd"]["message"], mixed["in_cwd"]
    assert tree_digest(course_dir) == before  # data, hidden labels and config untouched
    out_size = sum(p.stat().st_size for p in (tmp_path / "out-b").rglob("*") if p.is_file())
    assert out_size < 5 * 1024 * 1024  # the spammer's output was bounded


def _run_keys(out):
    db = sqlite3.connect(out / "grading.db")
    return {r[0]: (r[1], r[2]) for r in db.execute("SELECT student, run_key, finished_at FROM runs")}


def test_rerun_redoes_only_what_changed(tmp_path, bwrap_sandbox):
    course = load_course(make_course(tmp_path / "course"))
    subs = write_submissions(tmp_path / "subs", {"a": honest(0.5), "b": honest(0.4), "c": honest(0.2)})
    out = tmp_path / "out"
    assert run_batch(course, subs, out, BatchOptions(**OPTS)).ran == 3
    first = _run_keys(out)
    again = run_batch(course, subs, out, BatchOptions(**OPTS))
    assert again.ran == 0 and again.reused == 3 and _run_keys(out) == first
    (subs / "b.py").write_text(honest(0.5))          # a changed submission
    write_submissions(subs, {"late": honest(0.6)})   # a late one
    (subs / "c.py").unlink()                         # a withdrawn one
    third = run_batch(course, subs, out, BatchOptions(**OPTS))
    assert third.ran == 2
    keys = _run_keys(out)
    assert keys["a"] == first["a"] and keys["b"] != first["b"] and "late" in keys
    assert "c" not in keys and "c" not in read_grades(out)


def test_a_run_whose_saved_files_are_gone_is_run_again_not_failed(tmp_path, bwrap_sandbox):
    """runs/<student>/ deleted (or never saved): resuming from the store alone scored the
    student invalid_output ("could not be read back") and moved every rank below."""
    import shutil

    course = load_course(make_course(tmp_path / "course"))
    subs = write_submissions(tmp_path / "subs", {"a": honest(0.5), "b": honest(0.4),
                                                 "c": honest(0.2)})
    out = tmp_path / "out"
    run_batch(course, subs, out, BatchOptions(**OPTS))
    before = read_grades(out)
    shutil.rmtree(out / "runs" / "b")
    said: list[str] = []
    again = run_batch(course, subs, out, BatchOptions(**{**OPTS, "quiet": False}),
                      log=said.append)
    assert again.ran == 1 and again.reused == 2
    assert any(s.startswith("note: 1 finished run(s) have no saved files") and s.endswith(": b")
               for s in said), said
    assert read_grades(out) == before
    assert run_batch(course, subs, out, BatchOptions(**OPTS)).ran == 0
    # a link in its place (to another student's predictions) or a folder: run again, never
    # read through (the link scored c with b's predictions)
    (out / "runs" / "c" / "submission.csv").unlink()
    (out / "runs" / "c" / "submission.csv").symlink_to(out / "runs" / "b" / "submission.csv")
    (out / "runs" / "a" / "submission.csv").unlink()
    (out / "runs" / "a" / "submission.csv").mkdir()
    assert run_batch(course, subs, out, BatchOptions(**OPTS)).ran == 2
    assert read_grades(out) == before


def test_folder_files_besides_code_reach_the_run(tmp_path, bwrap_sandbox):
    """The run gets a copy of the student's folder: a config the code reads beside itself is
    there (it was silently left out: FileNotFoundError), and changing it re-runs the student."""
    course = load_course(make_course(tmp_path / "course"))
    subs = tmp_path / "subs"
    (subs / "jan" / "config").mkdir(parents=True)
    reads_config = honest(0.5).replace(
        "import csv, os\n", "import csv, os\nTHRESHOLD = float(open(os.path.join(os.path.dirname("
        "os.path.abspath(__file__)), 'config', 'threshold.txt')).read())\n"
        # the Kaggle upload stays outside: copying it would pass the reproduction check
        "assert not os.path.exists(os.path.join(os.path.dirname(os.path.abspath(__file__)), "
        "'kaggle_submission.csv'))\n"
    ).replace("> 0.5", "> THRESHOLD")
    (subs / "jan" / "kaggle_submission.csv").write_text("id,label\nt0,big\n")
    (subs / "jan" / "main.py").write_text(reads_config)
    (subs / "jan" / "config" / "threshold.txt").write_text("0.5\n")
    (subs / "jan" / "report.pdf").write_bytes(b"%PDF-1.4\0 not for the run")
    out = tmp_path / "out"
    run_batch(course, subs, out, BatchOptions(**OPTS))
    first = read_grades(out)["jan"]
    assert first["status"] == "ok" and float(first["score"]) == 1.0, first["message"]
    assert run_batch(course, subs, out, BatchOptions(**OPTS)).ran == 0
    (subs / "jan" / "config" / "threshold.txt").write_text("0.3\n")
    assert run_batch(course, subs, out, BatchOptions(**OPTS)).ran == 1
    assert float(read_grades(out)["jan"]["score"]) < 1.0


def test_binary_files_beside_the_code_are_left_out_and_the_program_graded(tmp_path,
                                                                          bwrap_sandbox):
    """A laptop's checkpoint and plot beside a working main.py refused the whole folder (a
    lost grade); now the program runs without them, and its page and the batch say so."""
    course = load_course(make_course(tmp_path / "course"))
    subs = tmp_path / "subs"
    (subs / "lia").mkdir(parents=True)
    here = "os.path.dirname(os.path.abspath(__file__))"
    (subs / "lia" / "main.py").write_text(honest(0.5).replace(
        "import csv, os\n", "import csv, os\n"
        f"assert sorted(os.listdir({here})) == ['main.py'], os.listdir({here})\n"))
    (subs / "lia" / "model.pt").write_bytes(b"PK\x03\x04\0\0weights")
    (subs / "lia" / "loss.png").write_bytes(b"\x89PNG\r\n\x1a\n\0\0")
    out = tmp_path / "out"
    said: list[str] = []
    run_batch(course, subs, out, BatchOptions(similarity=False), log=said.append)
    lia = read_grades(out)["lia"]
    assert lia["status"] == "ok" and float(lia["score"]) == 1.0, lia["message"]
    assert any(s.startswith("note: lia: left out of the run: loss.png, model.pt") for s in said)
    page = (out / "reports" / "students" / "lia.html").read_text()
    assert "Left out of the run:</strong> <code>loss.png</code>, <code>model.pt</code>" in page
    assert "Left out of the run: loss.png, model.pt" in (
        out / "reports" / "students" / "lia.txt").read_text()


def test_sigkill_and_resume_loses_nothing(tmp_path, bwrap_sandbox):
    course_dir = make_course(tmp_path / "course")
    slow_honest = "import time\ntime.sleep(1.5)\n" + honest(0.5)
    subs = write_submissions(tmp_path / "subs", {f"s{i}": slow_honest for i in range(6)})
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "grader", "run", str(course_dir), "--submissions", str(subs),
           "--out", str(out), "--jobs", "1", "--no-similarity", "--no-reports"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    deadline = time.time() + 60
    while time.time() < deadline:
        if (out / "grading.db").exists() and len(_safe_keys(out)) >= 2:
            break
        time.sleep(0.1)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    before = _safe_keys(out)
    assert 2 <= len(before) < 6
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    after = _run_keys(out)
    assert len(after) == 6
    for student, key in before.items():
        assert after[student] == key  # finished runs were not redone
    assert all(r["status"] == "ok" for r in read_grades(out).values())
    # --no-reports: the last line points at what was written, not at a page never rendered
    assert f"see {out / 'grades.csv'}" in result.stdout and "index.html" not in result.stdout


def _safe_keys(out):
    try:
        return _run_keys(out)
    except sqlite3.Error:
        return {}


def test_ctrl_c_stops_cleanly_and_keeps_finished(tmp_path, bwrap_sandbox):
    import psutil

    course_dir = make_course(tmp_path / "course", time_limit_s=60)
    subs = write_submissions(tmp_path / "subs", {
        "quick": honest(0.5), "sleeper1": "import time\ntime.sleep(50)\n",
        "sleeper2": "import time\ntime.sleep(50)\n", "sleeper3": "import time\ntime.sleep(50)\n"})
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "grader", "run", str(course_dir), "--submissions", str(subs),
           "--out", str(out), "--jobs", "2", "--no-similarity", "--no-reports"]
    # as from a terminal: a shell starts background jobs (CI runners) with SIGINT ignored
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    deadline = time.time() + 60
    while time.time() < deadline and "quick" not in _safe_keys(out):
        time.sleep(0.1)
    time.sleep(1.0)  # the sleepers are running now
    sandboxes = psutil.Process(proc.pid).children(recursive=True)
    assert sandboxes, "expected running sandboxes"
    started = time.time()
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 130 and time.time() - started < 20
    assert "finished results are kept" in err
    _, alive = psutil.wait_procs(sandboxes, timeout=10)
    assert not [p for p in alive if p.status() != psutil.STATUS_ZOMBIE]
    assert set(_run_keys(out)) == {"quick"}


def test_late_submission_is_compared_without_redoing_the_class(tmp_path, bwrap_sandbox):
    import csv as _csv

    course = load_course(make_course(tmp_path / "course"))
    base = honest(0.5)
    variants = {"ana": base, "bob": base.replace("rows", "lines"),
                "cri": honest(0.3) + "\nprint('a different ending', len(rows))\n",
                "dan": "import os\nprint(sorted(os.listdir(os.environ['GRADER_DATA'])))\n"}
    subs = write_submissions(tmp_path / "subs", variants)
    out = tmp_path / "out"
    opts = dict(reports=False, quiet=True)
    run_batch(course, subs, out, BatchOptions(**opts))
    first = (out / "similarity" / "pairs.csv").read_text()
    said: list[str] = []
    again = run_batch(course, subs, out, BatchOptions(**opts), log=said.append)
    assert again.ran == 0 and any("no submission changed" in s for s in said)
    # an upgrade whose engine code differs compares the class again (no stale pairs)
    import grader.batch.similarity as stage

    real = stage._engine_hash
    stage._engine_hash = lambda: real() + "-upgraded"
    try:
        said.clear()
        run_batch(course, subs, out, BatchOptions(**opts), log=said.append)
    finally:
        stage._engine_hash = real
    assert not any("no submission changed" in s for s in said)
    assert any(s.startswith("similarity: ") and "pairs" in s for s in said), said
    assert (out / "similarity" / "pairs.csv").read_text() == first
    run_batch(course, subs, out, BatchOptions(**opts))  # and back (the same code as at first)
    # a late copy of ana's program, renamed
    write_submissions(subs, {"eve": base.replace("rows", "records")})
    said.clear()
    late = run_batch(course, subs, out, BatchOptions(**opts), log=said.append)
    assert late.ran == 1
    assert any("1 new or changed submission(s) compared with everyone" in s for s in said)
    with (out / "similarity" / "pairs.csv").open() as f:
        pairs = {frozenset((r["a"], r["b"])): r for r in _csv.DictReader(f)}
    assert pairs[frozenset(("ana", "eve"))]["flagged"] == "true"
    # the old pairs were kept as they were
    with open(tmp_path / "first.csv", "w") as f:
        f.write(first)
    with (tmp_path / "first.csv").open() as f:
        for r in _csv.DictReader(f):
            assert pairs[frozenset((r["a"], r["b"]))]["score"] == r["score"]
    # and the newcomer's pairs score as in a full run on a fresh output folder
    run_batch(course, subs, tmp_path / "full", BatchOptions(**opts))
    with (tmp_path / "full" / "similarity" / "pairs.csv").open() as f:
        full = {frozenset((r["a"], r["b"])): r for r in _csv.DictReader(f)}
    for key, row in full.items():
        if "eve" in key:
            assert pairs[key]["score"] == row["score"]
    # --rerun runs a finished student again (a machine fault stored as their error), only them
    said.clear()
    again = run_batch(course, subs, out, BatchOptions(**opts, rerun=("cri",)), log=said.append)
    assert again.ran == 1 and any("1 to run" in s for s in said), said
    from grader.errors import SubmissionsError

    with pytest.raises(SubmissionsError, match="--rerun names 1 student"):
        run_batch(course, subs, out, BatchOptions(**opts, rerun=("nobody",)))
    # a student whose submission left the folder is dropped, and the run says who
    import shutil

    target = next(p for p in subs.iterdir() if p.name.startswith("dan"))
    shutil.rmtree(target) if target.is_dir() else target.unlink()
    said.clear()
    run_batch(course, subs, out, BatchOptions(**opts), log=said.append)
    assert any("no longer in" in s and "dan" in s for s in said), said
    with (out / "grades.csv").open() as f:
        assert "dan" not in {r["student"] for r in _csv.DictReader(f)}


def test_a_rejected_submission_is_still_compared_on_its_code(tmp_path, bwrap_sandbox):
    # A copy sent as model.py beside config.py (no main.py) is rejected and never run; it
    # used to be left out of the similarity stage too, so its source was never flagged.
    import csv as _csv

    course = load_course(make_course(tmp_path / "course"))
    base = honest(0.5)
    subs = write_submissions(tmp_path / "subs", {
        "ana": base, "cri": honest(0.3) + "\nprint('a different ending', len(rows))\n",
        "dan": "import os\nprint(sorted(os.listdir(os.environ['GRADER_DATA'])))\n"})
    (subs / "sam").mkdir()
    (subs / "sam" / "model.py").write_text(base.replace("rows", "records"))
    (subs / "sam" / "config.py").write_text("THRESHOLD = 0.5\n")
    out = tmp_path / "out"
    said: list[str] = []
    run_batch(course, subs, out, BatchOptions(quiet=True), log=said.append)
    assert read_grades(out)["sam"]["status"] == "rejected"
    with (out / "similarity" / "pairs.csv").open() as f:
        pairs = {frozenset((r["a"], r["b"])): r for r in _csv.DictReader(f)}
    assert pairs[frozenset(("ana", "sam"))]["flagged"] == "true"
    assert pairs[frozenset(("ana", "sam"))]["behaviour"] == ""  # no run: code evidence only
    before = pairs[frozenset(("ana", "sam"))]["score"]
    pages = [p.name for p in (out / "reports" / "pairs").glob("*.html")]
    assert any(p.startswith("ana__sam") for p in pages)
    # unchanged: nothing is compared again; the rejected code changed: it is
    said.clear()
    run_batch(course, subs, out, BatchOptions(quiet=True), log=said.append)
    assert any("no submission changed" in s for s in said), said
    (subs / "sam" / "model.py").write_text(
        "import os\nprint(sorted(os.listdir(os.environ['GRADER_DATA'])), 'mine')\n")
    said.clear()
    run_batch(course, subs, out, BatchOptions(quiet=True), log=said.append)
    assert any("1 new or changed submission(s) compared" in s for s in said), said
    with (out / "similarity" / "pairs.csv").open() as f:
        pairs = {frozenset((r["a"], r["b"])): r for r in _csv.DictReader(f)}
    assert pairs.get(frozenset(("ana", "sam")), {}).get("score") != before
    assert float(pairs[frozenset(("dan", "sam"))]["code"]) > 0.5  # now dan's program


def test_a_rejected_folder_with_a_name_that_is_not_utf8_does_not_stop_the_stage(tmp_path,
                                                                                 bwrap_sandbox):
    # zed's copy sits in a file whose name has a byte that is not UTF-8: the folder is
    # rejected, and comparing its code made the whole similarity stage fail (exit 2)
    import csv as _csv

    course = load_course(make_course(tmp_path / "course"))
    base = honest(0.5)
    subs = write_submissions(tmp_path / "subs", {
        "ana": base, "dan": "import os\nprint(sorted(os.listdir(os.environ['GRADER_DATA'])))\n"})
    (subs / "zed").mkdir()
    with open(os.fsencode(subs / "zed") + b"/m\xffin.py", "w") as f:
        f.write(base.replace("rows", "records"))
    # and entries whose own names are no student id (stand-in ids): they were stored as
    # shown, which names no file, and silently left out of the comparison
    (subs / "eve\u202egnp.py").write_text(base.replace("rows", "lines"))
    with open(os.fsencode(subs) + b"/ion\xff.py", "w") as f:
        f.write(base.replace("rows", "items"))
    out = tmp_path / "out"
    summary = run_batch(course, subs, out, BatchOptions(quiet=True))
    assert summary.stage_errors == []
    grades = read_grades(out)
    assert grades["zed"]["status"] == "rejected"
    eve = next(s for s in grades if s.startswith("eve"))
    ion = next(s for s in grades if s.startswith("ion"))
    assert grades[eve]["status"] == grades[ion]["status"] == "rejected"
    with (out / "similarity" / "pairs.csv").open() as f:
        pairs = {frozenset((r["a"], r["b"])): r for r in _csv.DictReader(f)}
    for other in ("zed", eve, ion):
        assert pairs[frozenset(("ana", other))]["flagged"] == "true", other
    page = next((out / "reports" / "pairs").glob("ana__zed*.html")).read_text()
    assert "m\\xffin.py" in page and "records" in page  # zed's code is shown beside ana's
    page = next((out / "reports" / "pairs").glob(f"ana__{eve}*.html")).read_text()
    assert "eve\\u202egnp.py" in page and "\u202e" not in page and "lines" in page
