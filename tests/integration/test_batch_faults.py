"""One student's trouble never stops a class: a fault injected into each per-student stage
becomes that student's status, and every other student is graded (real bubblewrap, real store)."""

from __future__ import annotations

import pytest

import grader.batch as batch_mod
import grader.batch.runs as runs_mod
import grader.executors.task as task_mod
import grader.intake as intake_mod
import grader.scoring as scoring_mod
from grader.batch import BatchOptions, run_batch
from grader.course import load_course
from tests.integration.batch_helpers import honest, make_course, read_grades, write_submissions

pytestmark = [pytest.mark.bwrap, pytest.mark.slow]

OPTS = dict(similarity=False, reports=False, quiet=True)
VICTIM = "victim"


def _inject(monkeypatch, module, name, *, when):
    """Make ``module.name`` raise for the victim only (``when`` picks the victim's call)."""
    real = getattr(module, name)

    def faulty(*args, **kwargs):
        if when(*args, **kwargs):
            raise RuntimeError("injected fault")
        return real(*args, **kwargs)

    monkeypatch.setattr(module, name, faulty)


def _is_victim_sub(sub, *_a, **_k):
    return getattr(sub, "student", None) == VICTIM


STAGES = {
    # intake: reading the victim's folder fails
    "intake": (intake_mod, "read_submission", lambda student, *_a, **_k: student == VICTIM),
    # the run's task cannot be made (its files cannot be read)
    "task": (batch_mod, "make_task", _is_victim_sub),
    # the run itself (anything in the sandbox call that is not the student's program)
    "run": (task_mod, "_execute", lambda task, *_a, **_k: task.student == VICTIM),
    # saving the run's files
    "save": (runs_mod, "save_run_files", lambda _out, result: result.student == VICTIM),
    # scoring the victim's predictions
    "score": (scoring_mod.Scorer, "parse",
              lambda self, raw: raw.splitlines()[1].startswith(b"t39,")),
}


@pytest.mark.parametrize("stage", list(STAGES))
def test_a_fault_in_one_students_stage_becomes_their_status(stage, tmp_path, monkeypatch,
                                                              bwrap_sandbox):
    course = load_course(make_course(tmp_path / "course"))
    victim_code = honest(0.5)
    if stage == "score":  # the victim writes its rows last id first: its bytes mark it
        victim_code = victim_code.replace("for rid, x in rows:", "for rid, x in reversed(rows):")
    subs = write_submissions(tmp_path / "subs", {"alice": honest(0.5), VICTIM: victim_code,
                                                 "zoe": honest(0.3)})
    module, name, when = STAGES[stage]
    _inject(monkeypatch, module, name, when=when)
    summary = run_batch(course, subs, tmp_path / "out", BatchOptions(jobs=2, **OPTS))
    g = read_grades(tmp_path / "out")
    assert set(g) == {"alice", VICTIM, "zoe"}
    assert g["alice"]["status"] == "ok" and g["zoe"]["status"] == "ok"
    assert g["alice"]["rank"] == "1" and g["zoe"]["grade"] != ""
    if stage == "save":  # the logs are lost, the verdict is kept: the grader's error, said
        # why, and the next batch runs it again
        assert g[VICTIM]["status"] == "error" and g[VICTIM]["grade"] == ""
        assert "could not save" in g[VICTIM]["message"]
        monkeypatch.undo()
        again = run_batch(course, subs, tmp_path / "out", BatchOptions(jobs=2, **OPTS))
        assert again.ran == 1 and read_grades(tmp_path / "out")[VICTIM]["status"] == "ok"
    else:
        assert g[VICTIM]["status"] in ("error", "rejected")
        assert "injected fault" in g[VICTIM]["message"]
        assert g[VICTIM]["grade"] == ""
    assert summary.counts["ok"] == 2
