"""A grading batch: intake → run (sandbox) → score → rank/grade → similarity → report.

Every stage's results go to the batch's SQLite store as they are produced, so a batch
resumes after a crash and re-running it re-does only what changed. The stages, in flow order:

- ``runs``: one sandboxed run per new or changed submission (``run_key``);
- ``scores``: predictions scored on the hidden labels, then ranked and graded;
- ``reference``: the course's reference models on the same data (``--reference``);
- ``reproduction``: runs against the predictions uploaded to Kaggle;
- ``similarity``: the plagiarism engine on the class;
- ``outputs``: grades.csv, leaderboard.csv, the terminal tables and the HTML reports.
"""

from __future__ import annotations

import sys
import time
import traceback
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from diagnostics import Diagnostic
from diagnostics.text import terminal_lines, terminal_safe
from grader.batch.options import BatchOptions, BatchSummary
from grader.batch.outputs import (
    GRADES_COLUMNS,
    leaderboard_text,
    reference_text,
    render_reports,
    reports_digest,
    write_grades_csv,
)
from grader.batch.runs import lost_run_files, make_task, resolve_backend, run_key, run_tasks
from grader.batch.scores import baseline_score, grade_batch, optimum_score, score_runs
from grader.course import Course
from grader.errors import SubmissionsError
from grader.intake import Rejection, Submission, left_out_note, scan_submissions
from grader.preflight import PreflightReport, run_preflight
from grader.store import Store
from grader.validate import check_inputs, stored_reference_models
from sandbox.environment import Environment, require_environment

__all__ = ["run_batch", "finish_batch", "BatchOptions", "BatchSummary", "GRADES_COLUMNS",
           "run_key", "make_task", "resolve_backend", "baseline_score", "optimum_score",
           "write_grades_csv", "leaderboard_text", "reference_text"]


def run_batch(course: Course, submissions_dir: str | Path, out_dir: str | Path,
              opts: BatchOptions | None = None,
              log: Callable[[str], None] | None = None) -> BatchSummary:
    """Grade every submission in ``submissions_dir`` into ``out_dir`` (resumable)."""
    opts = opts or BatchOptions()
    # every instructor file checked whole before anything runs or is written
    check_inputs(course, submissions_dir, adjustments=opts.adjustments,
                 kaggle_dir=opts.kaggle_dir,
                 reference_models=None if opts.reference else stored_reference_models(out_dir))
    out = Path(out_dir).resolve()
    out.mkdir(parents=True, exist_ok=True)
    say = log or (lambda s: None if opts.quiet else print(terminal_lines(s), file=sys.stderr))
    entries = scan_submissions(submissions_dir)
    backend = resolve_backend(course, opts.backend)
    environment = require_environment(course.root)  # refuses a declared, unbuilt one
    say(_environment_line(environment, course))
    entries, preflight = _preflight(entries, environment, course, say)
    for e in entries:
        if isinstance(e, Submission) and e.left_out:
            say(f"note: {terminal_safe(e.student)}: {terminal_safe(left_out_note(e.left_out))}")
    accepted = [e for e in entries if isinstance(e, Submission)]
    unknown = sorted(set(opts.rerun) - {e.student for e in accepted})
    if unknown:  # before anything is stored
        raise SubmissionsError(
            f"--rerun names {len(unknown)} student(s) without an accepted submission in "
            f"{submissions_dir}", problems=unknown,
            hint="use the ids of grades.csv's student column")
    summary = BatchSummary(out)
    with Store(out / "grading.db") as store:
        store.set_meta(course=course.name, course_root=str(course.root),
                       config_hash=course.config_hash, data_hash=course.data_hash,
                       config=course.describe(), backend=backend, executor=opts.executor,
                       submissions_dir=str(Path(submissions_dir).resolve()),
                       started_at=time.time(), environment=environment.to_dict(),
                       preflight=preflight.to_dict())
        gone = sorted({r["student"] for r in store.submissions()}
                      - {e.student for e in entries})
        if gone:  # the store follows the folder: say so rather than drop anyone silently
            say(f"{len(gone)} student(s) graded before are no longer in {submissions_dir}: "
                f"{', '.join(gone)}; their scores and grades are removed from this batch "
                "(their files under runs/ stay; put the submission back and rerun to grade "
                "it again)")
        store.put_submissions(_submission_rows(entries))
        store.delete_runs_except(e.student for e in accepted)
        done = store.finished_run_keys()
        lost = lost_run_files(store, out)
        if lost:
            say(f"note: {len(lost)} finished run(s) have no saved files under {out / 'runs'} "
                f"(deleted, or never saved): run again: {', '.join(map(terminal_safe, lost))}")
            for student in lost:
                done.pop(student, None)
        tasks = [t for t in (_task_or_failure(s, course, backend, store, environment)
                             for s in accepted)
                 if t is not None and (done.get(t.student) != t.run_key
                                       or t.student in opts.rerun)]
        summary.reused = len(accepted) - len(tasks)
        say(f"{course.name}: {len(entries)} submissions ({len(entries) - len(accepted)} rejected), "
            f"{len(tasks)} to run, {summary.reused} already graded; backend {backend}, "
            f"executor {opts.executor}")
        if tasks:
            run_tasks(tasks, opts, course, store, out, say)
            summary.ran = len(tasks)
        store.set_meta(runs_finished_at=time.time())
        finish_batch(course, store, out, opts, say, summary)
    return summary


def _environment_line(environment: Environment, course: Course) -> str:
    """Which Python the runs get: the course environment, or (none built) the grader's own,
    which lets programs import what the course never declared until it is built."""
    if environment.built:
        return (f"environment: {environment.source}, {len(environment.packages)} packages "
                f"({environment.python})")
    return ("warning: no course environment is built: programs run on the grader's own "
            "interpreter and can import its packages (dask, jinja2, ...), so a verdict may "
            "change once one is built; build it first, once: "
            f"{environment.build_command()}")


def _preflight(entries: list[Submission | Rejection], environment: Environment, course: Course,
               say: Callable[[str], None]) -> tuple[list[Submission | Rejection], PreflightReport]:
    """Every submission's imports against the course environment, before any run: the
    summary is shown now, and under ``[sandbox] preflight = "reject"`` a submission importing
    what the environment lacks is rejected with the reason."""
    accepted = [e for e in entries if isinstance(e, Submission)]
    report = run_preflight(accepted, environment, mode=course.sandbox.preflight)
    if report.flagged:
        say(report.summary())
    rejected = report.rejected
    return [Rejection(e.student, e.path, rejected[e.student],
                      "ask the course staff to add the package to environment/requirements.txt, "
                      "or use one the course provides", tuple(e.files))
            if isinstance(e, Submission) and e.student in rejected else e
            for e in entries], report


def _task_or_failure(sub: Submission, course: Course, backend: str, store: Store,
                     environment: Environment | None = None):
    """The run task of ``sub``, or None after storing why it could not be made (its files
    vanished or cannot be read): that student's ``error``, retried by the next rerun."""
    try:
        return make_task(sub, course, backend, environment)
    except Exception as exc:  # noqa: BLE001 - one student's files must not stop the batch
        now = time.time()
        store.put_run(sub.student, "", {
            "status": "error", "exit_code": None, "wall_s": 0.0, "backend": backend,
            "message": f"the grader could not prepare this submission's run "
                       f"({type(exc).__name__}: {exc}); rerun the batch once the files are "
                       "readable"}, output_error=None, started_at=now, finished_at=now)
        return None


def _submission_rows(entries: list[Submission | Rejection]) -> list[dict[str, Any]]:
    rows = []
    for e in entries:
        if isinstance(e, Submission):
            rows.append(dict(student=e.student, path=str(e.path), entry=e.entry, files=list(e.files),
                             content_hash=e.content_hash, accepted=True, reason=None, hint=None,
                             left_out=[terminal_safe(f) for f in e.left_out]))
        else:  # its names may hold bytes that are not UTF-8 (lone surrogates, which SQLite
            # refuses): stored as shown, \xNN
            rows.append(dict(student=e.student, path=terminal_safe(e.path), entry=None,
                             files=[terminal_safe(f) for f in e.found], content_hash=None,
                             accepted=False, reason=e.reason, hint=e.hint))
    return rows


def finish_batch(course: Course, store: Store, out: Path, opts: BatchOptions,
                 say: Callable[[str], None], summary: BatchSummary) -> None:
    """Score, grade, compare and report from what the store holds (cheap; always redone)."""
    from grader.batch.reproduction import reproduction_stage
    from grader.scoring import Scorer

    scorer = Scorer(course)
    store.put_scores(score_runs(store, scorer, out))
    if opts.reference:
        _guarded("reference models", store, summary, say, _reference_on_device, course, store,
                 scorer, out, opts, say)
    _guarded("reproduction check", store, summary, say, reproduction_stage, course, store,
             scorer, out, opts.kaggle_dir)
    store.put_grades(grade_batch(course, store, scorer, opts.adjustments))
    summary.grades = store.grades()
    summary.counts = Counter(g["status"] for g in summary.grades)
    write_grades_csv(out, store)
    if opts.similarity and course.similarity.enabled:
        from grader.batch.similarity import similarity_stage

        _guarded("similarity", store, summary, say, similarity_stage, course, store, out, say)
    if opts.reports:
        _guarded("reports", store, summary, say, _reports_stage, out, say)
    if not opts.quiet:
        print(leaderboard_text(store))
        if store.reference():
            from grader.scoring import greater_is_better

            print(reference_text(store, greater_is_better(course.metric)))
        print(summary.line(reports=opts.reports))


def _reference_on_device(course: Course, store: Store, scorer, out: Path, opts: BatchOptions,
                         say: Callable[[str], None]) -> None:
    """The reference models, on a GPU of the same host-wide pool the students' runs use when
    the course runs on GPUs (never a device a running sandbox holds), else on the CPU."""
    from grader.batch.reference import run_reference_stage
    from sandbox import gpus

    if not course.sandbox.gpus:
        # a CPU course never takes a GPU outside the pool (on a machine with none: the default)
        run_reference_stage(course, store, scorer, out, budget_s=opts.reference_budget_s,
                            say=say, device="cpu" if gpus.detect_gpus() else None)
        return

    pool = gpus.GpuPool(gpus.detect_gpus(), 1, lock_dir=gpus.default_lock_dir())
    with pool.acquire() as (gpu,):
        device = gpus.resolve([gpu])[0].uuid
        say(f"reference: training on GPU {gpu} ({device}), held from the runs' pool")
        run_reference_stage(course, store, scorer, out, budget_s=opts.reference_budget_s,
                            say=say, device=device)


def _guarded(stage: str, store: Store, summary: BatchSummary, warn: Callable[[str], None],
             fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
    """Run a stage after the runs; its failure is reported and stored, never fatal: the
    grades are already stored and the other stages still run."""
    try:
        return fn(*args, **kwargs)
    except Diagnostic:
        raise  # a user's error (a bad corpus folder, ...): stop with its message
    except Exception as exc:  # noqa: BLE001 - a bug in one stage must not lose the batch
        store.log_event("stage_failed", {"stage": stage, "error": repr(exc),
                                         "traceback": traceback.format_exc()})
        summary.stage_errors.append(stage)
        warn(f"warning: the {stage} stage failed ({type(exc).__name__}: {exc}); grades are kept "
             "and the command exits 2. The traceback is in grading.db (events); 'grader run' "
             "again retries the stage (after the cause is fixed, if the message names one).")
        return None


def _reports_stage(out: Path, say: Callable[[str], None]) -> None:
    """Render the reports, unless nothing they show changed since they were last rendered
    (a rerun that ran nothing keeps its pages: re-rendering a class is most of its time)."""
    with Store(out / "grading.db") as store:
        digest = reports_digest(store.snapshot())
        kept = store.meta().get("reports_digest") == digest and \
            (out / "reports" / "index.html").is_file()
    if kept:
        say(f"reports: nothing changed, {out / 'reports' / 'index.html'} kept")
        return
    pages = render_reports(out)
    with Store(out / "grading.db") as store:
        store.set_meta(reports_digest=digest)
    say(f"reports: {out / 'reports' / 'index.html'} ({pages.get('students')} student pages, "
        f"{pages.get('pairs')} pair pages, {pages.get('seconds', 0):.1f} s)")
