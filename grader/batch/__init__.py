"""A grading batch: intake → run (sandbox) → score → rank/grade → similarity → report.

Every stage's results go to the batch's SQLite store as they are produced, so a batch
resumes after a crash and re-running it re-does only what changed: a run is redone only when
its key (submission content, data, sandbox settings, backend) differs from the stored one.
"""

from __future__ import annotations

import csv
import hashlib
import json
import math
import shutil
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from grader.batch.progress import Progress
from grader.course import Course
from grader.executors.task import RunResult, RunTask
from grader.intake import Rejection, Submission, scan_submissions
from grader.status import Status
from grader.store import Store

#: stdout/stderr kept per run in runs/<student>/ (the verdict's own bound applies first)
GRADES_COLUMNS = ["student", "status", "score", "rank", "grade", "public_score", "band",
                  "base_grade", "deduction", "above_baseline", "message", "reproduced",
                  "kaggle_score", "kaggle_agreement"]


@dataclass
class BatchOptions:
    backend: str | None = None          # overrides [sandbox] backend
    jobs: int | None = None             # parallel sandboxes; default: GPUs, else 1
    executor: str = "local"             # local | dask
    scheduler: str | None = None        # Dask scheduler address
    reference: bool = False             # run the reference models into the batch
    reference_budget_s: float = 30.0
    similarity: bool = True
    reports: bool = True
    adjustments: Path | None = None     # adjustments.csv (deductions)
    kaggle_dir: Path | None = None      # <student>.csv: predictions uploaded to Kaggle
    quiet: bool = False


@dataclass
class BatchSummary:
    out_dir: Path
    counts: Counter = field(default_factory=Counter)
    ran: int = 0
    reused: int = 0
    grades: list[dict[str, Any]] = field(default_factory=list)
    #: stages after the runs that failed (their error is in the store's events)
    stage_errors: list[str] = field(default_factory=list)

    def line(self) -> str:
        total = sum(self.counts.values())
        order = [s.value for s in Status]
        parts = ", ".join(f"{self.counts[s]} {s}" for s in order if self.counts.get(s))
        return f"graded {total}: {parts} — see {self.out_dir / 'reports' / 'index.html'}"


def run_key(sub: Submission, course: Course, backend: str) -> str:
    """What a run depends on: code, data, sandbox settings and backend."""
    parts = [sub.content_hash, sub.entry, course.data_hash,
             json.dumps(course.describe()["sandbox"], sort_keys=True), backend]
    return hashlib.blake2b("\0".join(parts).encode(), digest_size=16).hexdigest()


def _make_task(sub: Submission, course: Course, backend: str) -> RunTask:
    files = {name: (sub.code_dir / name).read_bytes() for name in sub.files}
    return RunTask(
        student=sub.student, run_key=run_key(sub, course, backend), files=files, entry=sub.entry,
        data_dir=str(course.data_dir), limits=course.sandbox.limits(), backend=backend,
        python=course.sandbox.python, env={"GRADER_SEED": str(course.seed)},
        data_hash=course.data_hash, image=course.sandbox.image,
    )


def _make_executor(opts: BatchOptions, course: Course):
    gpus = course.sandbox.gpus
    if opts.executor == "dask":
        from grader.executors.dask import DaskExecutor

        return DaskExecutor(opts.scheduler)
    from grader.executors.local import LocalExecutor

    slots = None
    if gpus:
        from sandbox import gpus as gpu_mod

        devices = gpu_mod.detect_gpus()
        slots = [tuple(devices[i:i + gpus]) for i in range(0, len(devices) - gpus + 1, gpus)]
    jobs = opts.jobs or (len(slots) if slots else 1)
    return LocalExecutor(jobs=jobs, gpu_slots=slots)


def _save_run_files(out_dir: Path, result: RunResult) -> None:
    """runs/<student>/: truncated logs, the predictions and the sandbox's verdict."""
    folder = out_dir / "runs" / result.student
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    v = result.verdict
    (folder / "stdout.txt").write_text(v.get("stdout") or "", encoding="utf-8", errors="replace")
    (folder / "stderr.txt").write_text(v.get("stderr") or "", encoding="utf-8", errors="replace")
    if result.submission_csv is not None:
        (folder / "submission.csv").write_bytes(result.submission_csv)
    slim = {k: val for k, val in v.items() if k not in ("stdout", "stderr")}
    slim["output_error"] = result.output_error
    (folder / "verdict.json").write_text(json.dumps(slim, indent=2), encoding="utf-8")


def resolve_backend(course: Course, override: str | None) -> str:
    """The concrete backend for this batch ('auto' picks once, at the start)."""
    name = override or course.sandbox.backend
    if name == "none":
        print("WARNING: running WITHOUT a sandbox (--backend none): submissions can read the "
              "hidden labels, the network and your files. Use this only for trusted code.",
              file=sys.stderr)
        return name
    if name != "auto":
        from sandbox import resolve_backend as pick

        return pick(name)  # fails early, with instructions, if it does not work here
    from sandbox import resolve_backend as pick

    return pick("auto")


def run_batch(course: Course, submissions_dir: str | Path, out_dir: str | Path,
              opts: BatchOptions | None = None,
              log: Callable[[str], None] | None = None) -> BatchSummary:
    """Grade every submission in ``submissions_dir`` into ``out_dir`` (resumable)."""
    opts = opts or BatchOptions()
    out = Path(out_dir).resolve()
    out.mkdir(parents=True, exist_ok=True)
    say = log or (lambda s: None if opts.quiet else print(s, file=sys.stderr))
    entries = scan_submissions(submissions_dir)
    backend = resolve_backend(course, opts.backend)
    summary = BatchSummary(out)
    with Store(out / "grading.db") as store:
        store.set_meta(course=course.name, course_root=str(course.root),
                       config_hash=course.config_hash, data_hash=course.data_hash,
                       config=course.describe(), backend=backend, executor=opts.executor,
                       submissions_dir=str(Path(submissions_dir).resolve()),
                       started_at=time.time())
        store.put_submissions(_submission_rows(entries))
        accepted = [e for e in entries if isinstance(e, Submission)]
        store.delete_runs_except(e.student for e in accepted)
        done = store.finished_run_keys()
        tasks = [t for t in (_make_task(s, course, backend) for s in accepted)
                 if done.get(t.student) != t.run_key]
        summary.reused = len(accepted) - len(tasks)
        say(f"{course.name}: {len(entries)} submissions ({len(entries) - len(accepted)} rejected), "
            f"{len(tasks)} to run, {summary.reused} already graded; backend {backend}, "
            f"executor {opts.executor}")
        if tasks:
            _run_tasks(tasks, opts, course, store, out, say)
            summary.ran = len(tasks)
        store.set_meta(runs_finished_at=time.time())
        finish_batch(course, store, out, opts, say, summary)
    return summary


def _submission_rows(entries: list[Submission | Rejection]) -> list[dict[str, Any]]:
    rows = []
    for e in entries:
        if isinstance(e, Submission):
            rows.append(dict(student=e.student, path=str(e.path), entry=e.entry, files=list(e.files),
                             content_hash=e.content_hash, accepted=True, reason=None, hint=None))
        else:
            rows.append(dict(student=e.student, path=str(e.path), entry=None, files=list(e.found),
                             content_hash=None, accepted=False, reason=e.reason, hint=e.hint))
    return rows


def _run_tasks(tasks: list[RunTask], opts: BatchOptions, course: Course, store: Store, out: Path,
               say: Callable[[str], None]) -> None:
    executor = _make_executor(opts, course)
    progress = Progress(len(tasks), stream=sys.stderr if not opts.quiet else open("/dev/null", "w"))
    broken: list[str] = []
    try:
        for result in executor.map_unordered(tasks):
            if result.verdict.get("status") == "sandbox_broken":
                # the machine's fault, not the student's: store nothing so a rerun retries it
                broken.append(f"{result.student}: {result.verdict.get('message')}")
                progress.update(result.student, "sandbox failure")
                continue
            _save_run_files(out, result)
            store.put_run(result.student, result.run_key, result.verdict,
                          output_error=result.output_error, started_at=result.started_at,
                          finished_at=result.finished_at, attempts=result.attempts,
                          worker=result.worker)
            status = result.verdict["status"]
            if status == "ok" and result.output_error:
                status = Status.INVALID_OUTPUT.value
            progress.update(result.student, status, result.verdict.get("wall_s"))
    except KeyboardInterrupt:
        progress.close()
        say("stopping: killing running sandboxes; finished results are kept")
        executor.cancel()
        raise
    except BaseException:
        executor.cancel()
        raise
    else:
        executor.close()
    finally:
        progress.close()
    if broken:
        from grader.errors import GraderError

        store.log_event("sandbox_broken", broken)
        raise GraderError(f"the sandbox failed on {len(broken)} run(s); their results were not "
                          "stored", problems=broken[:10],
                          hint="run 'grader sandbox check', fix the machine, then rerun the same "
                               "command: finished runs are kept")


# --- the stages after the runs -------------------------------------------------------------

def finish_batch(course: Course, store: Store, out: Path, opts: BatchOptions,
                 say: Callable[[str], None], summary: BatchSummary) -> None:
    """Score, grade, compare and report from what the store holds (cheap; always redone)."""
    from grader.scoring import Scorer

    scorer = Scorer(course)
    score_rows = score_runs(store, scorer, out)
    store.put_scores(score_rows)
    if opts.reference:
        from grader.batch.reference import run_reference_stage

        _guarded("reference models", store, summary, say, run_reference_stage, course, store,
                 scorer, out, budget_s=opts.reference_budget_s, say=say)
    _guarded("reproduction check", store, summary, say, _reproduction_stage, course, store,
             scorer, out, opts.kaggle_dir)
    grade_rows = grade_batch(course, store, scorer, opts.adjustments)
    store.put_grades(grade_rows)
    summary.grades = store.grades()
    summary.counts = Counter(g["status"] for g in summary.grades)
    write_grades_csv(out, store)
    if opts.similarity and course.similarity.enabled:
        _guarded("similarity", store, summary, say, _similarity_stage, course, store, out, say)
    if opts.reports:
        _guarded("reports", store, summary, say, _reports_stage, out, say)
    if not opts.quiet:
        print(leaderboard_text(store))
        if store.reference():
            print(reference_text(store))
        print(summary.line())


def _guarded(stage: str, store: Store, summary: BatchSummary, warn: Callable[[str], None],
             fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
    """Run a stage after the runs; its failure is reported and stored, never fatal: the
    grades are already stored and the other stages still run."""
    from grader.errors import GraderError

    try:
        return fn(*args, **kwargs)
    except GraderError:
        raise
    except Exception as exc:  # noqa: BLE001 - a bug in one stage must not lose the batch
        import traceback

        store.log_event("stage_failed", {"stage": stage, "error": repr(exc),
                                         "traceback": traceback.format_exc()})
        summary.stage_errors.append(stage)
        warn(f"warning: the {stage} stage failed ({type(exc).__name__}: {exc}); grades are kept. "
            "The traceback is in grading.db (events); 'grader run' again retries it.")
        return None


def score_runs(store: Store, scorer, out: Path) -> list[dict[str, Any]]:
    from grader.scoring import OutputInvalid

    rows = []
    runs = store.runs()
    for sub in store.submissions():
        student = sub["student"]
        row = dict(student=student, public_score=None, private_score=None, details={})
        if not sub["accepted"]:
            rows.append({**row, "status": Status.REJECTED.value, "message": sub["reason"]})
            continue
        run = runs.get(student)
        if run is None:
            continue  # not run yet (an interrupted batch): no row until it runs
        if run["status"] != "ok":
            rows.append({**row, "status": run["status"], "message": run["message"]})
            continue
        if run["output_error"]:
            rows.append({**row, "status": Status.INVALID_OUTPUT.value,
                         "message": run["output_error"]})
            continue
        try:
            preds = scorer.parse((out / "runs" / student / "submission.csv").read_bytes())
        except OutputInvalid as exc:
            rows.append({**row, "status": Status.INVALID_OUTPUT.value, "message": str(exc)})
            continue
        except OSError as exc:
            rows.append({**row, "status": Status.INVALID_OUTPUT.value,
                         "message": f"submission.csv could not be read back: {exc.strerror}"})
            continue
        score = scorer.score(preds)
        rows.append({**row, "status": Status.OK.value, "message": "",
                     "public_score": score.public, "private_score": score.private,
                     "details": score.details})
    return rows


def baseline_score(course: Course, store: Store, scorer) -> tuple[float | None, str]:
    """The baseline's private score and where it comes from."""
    value = course.grading.baseline
    if isinstance(value, int | float):
        return float(value), f"fixed baseline {value:g}"
    table = {r["model"]: r for r in store.reference() if r["status"] == "ok"}
    if value in table:
        return table[value]["private_score"], f"reference model '{value}'"
    if value in ("majority", "most_frequent"):
        return _majority_score(course, scorer), "majority class of the training labels"
    raise_missing = f"baseline '{value}' is not a number and no reference model of that name ran"
    from grader.errors import CourseError

    raise CourseError(raise_missing, hint="set [grading] baseline to a number or run "
                      "'grader reference' (or 'grader run --reference') first")


def _majority_score(course: Course, scorer) -> float:
    import pandas as pd

    from grader.course import read_id_column

    _, labels = read_id_column(course.data_dir / "train.csv", need_label=True,
                               course_file="data/train.csv")
    if course.task == "regression":
        import numpy as np

        value = str(float(np.mean([float(x) for x in labels])))
    else:
        counts = Counter(labels)
        value = sorted(counts, key=lambda k: (-counts[k], k))[0]
    preds = pd.Series(value, index=scorer.truth.index)
    return scorer.score(preds).private


def optimum_score(course: Course, store: Store) -> float | None:
    value = course.grading.optimum
    if value is None or isinstance(value, int | float):
        return value
    table = [r for r in store.reference() if r["status"] == "ok" and r["private_score"] is not None]
    if value == "best" and table:
        from grader.scoring import greater_is_better

        pick = max if greater_is_better(course.metric) else min
        return pick(r["private_score"] for r in table)
    named = [r for r in table if r["model"] == value]
    return named[0]["private_score"] if named else None


def grade_batch(course: Course, store: Store, scorer, adjustments: Path | None) -> list[dict]:
    import pandas as pd

    from grader.grading import grade_scores, load_adjustments

    scores = store.scores()
    baseline, _ = baseline_score(course, store, scorer)
    store.set_meta(baseline=baseline)
    deductions = load_adjustments(adjustments, course.grading.max_deduction) if adjustments else {}
    valid = pd.Series({s: r["private_score"] for s, r in scores.items()
                       if r["status"] == Status.OK.value and r["private_score"] is not None
                       and not math.isnan(r["private_score"])}, dtype=float)
    graded = {g.student: g for g in grade_scores(
        valid, course.grading, greater_is_better=scorer.greater_is_better, baseline=baseline,
        optimum=optimum_score(course, store), deductions=deductions)}
    rows = []
    for student, sc in scores.items():
        g = graded.get(student)
        rows.append(dict(
            student=student, status=sc["status"], rank=g.rank if g else None,
            band=g.band if g else "", base_grade=g.base_grade if g else None,
            deduction=g.deduction if g else 0.0, grade=g.grade if g else None,
            above_baseline=None if g is None else int(g.above_baseline),
            note=(g.note if g else sc["message"]) or ""))
    return rows


def write_grades_csv(out: Path, store: Store) -> None:
    scores = store.scores()
    repro = store.reproduction()
    with (out / "grades.csv").open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(GRADES_COLUMNS)
        for g in store.grades():
            sc = scores.get(g["student"], {})
            w.writerow([g["student"], g["status"], _fmt(sc.get("private_score")), g["rank"] or "",
                        _fmt(g["grade"]), _fmt(sc.get("public_score")), g["band"],
                        _fmt(g["base_grade"]), _fmt(g["deduction"]),
                        "" if g["above_baseline"] is None else bool(g["above_baseline"]),
                        g["note"], *_repro_cells(repro.get(g["student"]))])
    with (out / "leaderboard.csv").open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["rank", "student", "private_score", "public_score", "grade"])
        for g in store.grades():
            if g["rank"] is not None:
                sc = scores[g["student"]]
                w.writerow([g["rank"], g["student"], _fmt(sc["private_score"]),
                            _fmt(sc["public_score"]), _fmt(g["grade"])])


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1].rstrip() + "…"


def _repro_cells(r: dict[str, Any] | None) -> list[str]:
    if r is None:
        return ["", "", ""]
    return ["no" if r["flagged"] else "yes", _fmt(r["kaggle_score"]), _fmt(r["agreement"])]


def _fmt(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, float):
        return f"{v:.6g}"
    return str(v)


def leaderboard_text(store: Store, limit: int = 50) -> str:
    scores = store.scores()
    lines = [f"{'rank':>4}  {'student':<24} {'private':>8} {'public':>8} {'grade':>5}  status"]
    for g in store.grades()[:limit]:
        sc = scores.get(g["student"], {})
        priv, pub, grade = sc.get("private_score"), sc.get("public_score"), g["grade"]
        lines.append(f"{g['rank'] or '-':>4}  {g['student']:<24} "
                     f"{'' if priv is None else f'{priv:.4f}':>8} "
                     f"{'' if pub is None else f'{pub:.4f}':>8} "
                     f"{'' if grade is None else f'{grade:g}':>5}  {g['status']}"
                     + (f"  ({_clip(g['note'], 90)})" if g["status"] != "ok" and g["note"] else ""))
    return "\n".join(lines)


def reference_text(store: Store) -> str:
    """The reference models' table, best first, the baseline marked."""
    rows = sorted(store.reference(), key=lambda r: -(r["private_score"] or -1e9))
    lines = [f"\nreference models{'':<10} {'private':>8} {'public':>8}  fit s"]
    for r in rows:
        mark = "  (baseline)" if r["is_baseline"] else ""
        if r["private_score"] is None:
            lines.append(f"  {r['model']:<24} {r['status']}: {r['message'][:60]}")
            continue
        lines.append(f"  {r['model']:<24} {r['private_score']:8.4f} {r['public_score']:8.4f} "
                     f"{r['fit_s'] or 0:6.1f}{mark}")
    return "\n".join(lines)


def _reproduction_stage(course: Course, store: Store, scorer, out: Path,
                        kaggle_dir: Path | None) -> None:
    """Compare each run's predictions with the file the student uploaded to Kaggle
    (``kaggle_dir/<student>.csv``, else ``kaggle_submission.csv`` beside the code; never
    shipped into the sandbox)."""
    try:
        from grader.ops.reproduction import check_reproduction, load_kaggle_predictions
    except ImportError:
        return
    from grader.intake import KAGGLE_FILE

    rows = []
    options = course.extra.get("reproduction", {})
    scores = store.scores()
    for sub in store.submissions():
        student = sub["student"]
        kaggle = Path(sub["path"]) / KAGGLE_FILE
        if kaggle_dir is not None and (Path(kaggle_dir) / f"{student}.csv").is_file():
            kaggle = Path(kaggle_dir) / f"{student}.csv"
        run_csv = out / "runs" / student / "submission.csv"
        if not sub["accepted"] or not kaggle.is_file() or scores.get(student, {}).get("status") != "ok":
            continue
        try:
            theirs = load_kaggle_predictions(kaggle, list(scorer.truth.index))
            ours = scorer.parse(run_csv.read_bytes())
            res = check_reproduction(ours, theirs, lambda p: scorer.score_series(p).private,
                                     **{k: v for k, v in options.items() if k in ("tolerance",
                                                                                   "min_agreement")})
        except Exception as exc:  # a malformed upload is the student's problem, not the batch's
            rows.append(dict(student=student, agreement=None, run_score=None, kaggle_score=None,
                             flagged=True, message=f"kaggle_submission.csv unusable: {exc}"))
            continue
        rows.append(dict(student=student, agreement=res.agreement, run_score=res.run_score,
                         kaggle_score=res.kaggle_score, flagged=res.flagged, message=res.message))
    store.put_reproduction(rows)


def _similarity_stage(course: Course, store: Store, out: Path, say: Callable[[str], None]) -> None:
    """Compare the class. When only some submissions are new or changed since the last run
    (a late submission), only the pairs involving them are scored (``focus``); the others
    keep their stored scores and evidence."""
    try:
        import similarity
        compare = similarity.compare
    except (ImportError, AttributeError):
        say("similarity: engine not available, skipped")
        return
    rows = [s for s in store.submissions() if s["accepted"]]
    subs = {s["student"]: Path(s["path"]) for s in rows}
    hashes = {s["student"]: s["content_hash"] for s in rows}
    if len(subs) < 2:
        return
    sim = course.similarity
    corpora = {k: course.optional_dir(v, default) for k, v, default in (
        ("template", sim.template, "starter"), ("archive", sim.archive, "archive"),
        ("web", sim.web, "web"))}
    settings = hashlib.blake2b(json.dumps(
        [course.describe()["similarity"],
         {k: _tree_hash(v) for k, v in corpora.items()}], sort_keys=True).encode(),
        digest_size=16).hexdigest()
    previous = store.meta().get("similarity_inputs") or {}
    focus: set[str] | None = None
    if previous.get("settings") == settings and (out / "similarity" / "pairs.csv").exists():
        old = previous.get("hashes", {})
        changed = {s for s in subs if old.get(s) != hashes[s]}
        removed = set(old) - set(subs)
        if not changed and not removed:
            say("similarity: no submission changed, previous results kept")
            return
        if len(changed) <= len(subs) // 2:
            focus = changed
    # a course threshold below the engine's default min_score lowers min_score with it
    options = similarity.SimilarityOptions(**(
        {"threshold": sim.threshold,
         "min_score": min(similarity.SimilarityOptions().min_score, sim.threshold)}
        if sim.threshold is not None else {}))
    result = compare(subs, **corpora, options=options, cache_dir=out / "similarity" / "cache",
                     focus=sorted(focus) if focus is not None else None)
    if focus is not None:
        result = _merge_pairs(result, store, keep=set(subs) - focus)
        say(f"similarity: {len(focus)} new or changed submission(s) compared with everyone; "
            "other pairs kept")
    (out / "similarity").mkdir(exist_ok=True)
    similarity.write_outputs(result, out / "similarity")
    store.put_similarity([_pair_dict(p) for p in result.pairs], result.clusters)
    store.set_meta(similarity_inputs={"settings": settings, "hashes": hashes})
    flagged = [p for p in result.pairs if p.flagged]
    say(f"similarity: {len(result.pairs)} pairs, {len(flagged)} above the threshold")


def _tree_hash(folder: Path | None) -> str:
    from grader.course import _hash_tree

    return _hash_tree(folder) if folder is not None and folder.is_dir() else \
        (hashlib.blake2b(folder.read_bytes()).hexdigest() if folder and folder.is_file() else "")


def _merge_pairs(result, store: Store, keep: set[str]):
    """The focused result plus the stored pairs among students in ``keep`` (unchanged)."""
    from dataclasses import replace

    from similarity import Fragment, Pair

    def unchanged(p: dict) -> bool:
        return p["a"] in keep and (p["b"] in keep or p["kind"] != "peer")

    old = [Pair(a=p["a"], b=p["b"], score=p["score"], components=p["components"],
                kind=p["kind"], flagged=bool(p["flagged"]),
                fragments=[Fragment(**f) for f in p["fragments"]],
                shared_comments=p["shared_comments"])
           for p in store.similarity_pairs() if unchanged(p)]
    pairs = sorted(old + list(result.pairs), key=lambda p: (-p.score, p.a, p.b))
    return replace(result, pairs=pairs, clusters=_clusters(pairs))


def _clusters(pairs) -> list[list[str]]:
    """Students linked by flagged peer pairs (connected components), largest first."""
    parent: dict[str, str] = {}

    def root(x: str) -> str:
        while parent.setdefault(x, x) != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for p in pairs:
        if p.flagged and p.kind == "peer":
            parent[root(p.a)] = root(p.b)
    groups: dict[str, list[str]] = {}
    for x in parent:
        groups.setdefault(root(x), []).append(x)
    return sorted((sorted(g) for g in groups.values() if len(g) > 1), key=lambda g: (-len(g), g))


def _pair_dict(p) -> dict[str, Any]:
    from dataclasses import asdict, is_dataclass

    d = asdict(p) if is_dataclass(p) else dict(p)
    d.setdefault("kind", "peer")
    d.setdefault("flagged", False)
    return d


def _reports_stage(out: Path, say: Callable[[str], None]) -> None:
    try:
        from reports import render_all
    except ImportError:
        return
    pages = render_all(out)
    say(f"reports: {out / 'reports' / 'index.html'} ({pages.get('students')} student pages, "
        f"{pages.get('pairs')} pair pages, {pages.get('seconds', 0):.1f} s)")
