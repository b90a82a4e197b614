"""The run stage: one sandboxed run per new or changed submission, results into the store.

A run is redone only when its key (submission content, data, sandbox settings, backend)
differs from the stored one, so a batch resumes after a crash and a rerun redoes only what
changed. Executors return results; only this process writes the store and ``runs/``.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import stat
import sys
from collections.abc import Callable
from pathlib import Path

from grader.batch.options import BatchOptions
from grader.batch.progress import Progress
from grader.batch.scores import UNSAVED
from grader.course import Course
from grader.errors import GraderError
from grader.executors.task import RunResult, RunTask
from grader.intake import Submission, hash_files
from grader.status import Status
from grader.store import Store
from sandbox import hide_host_paths, log_safe
from sandbox._hostpaths import ENVIRONMENT, runtime_names
from sandbox.environment import Environment

__all__ = ["run_key", "make_task", "make_executor", "resolve_backend", "run_tasks",
           "save_run_files"]


def run_key(sub: Submission, course: Course, backend: str,
            environment: Environment | None = None) -> str:
    """What a run depends on: code, data, sandbox settings, backend and the course
    environment it runs on (when one is built)."""
    sandbox_settings = {k: v for k, v in course.describe()["sandbox"].items()
                        if k != "preflight"}  # a check before runs, not part of a run
    parts = [sub.content_hash, sub.entry, course.data_hash,
             json.dumps(sandbox_settings, sort_keys=True), backend]
    if environment is not None and environment.python:
        parts.append(environment.key)
    if sub.data_files:  # only then, so the keys of code-only submissions stay as they were
        parts.append("data:" + hash_files(sub.code_dir, list(sub.data_files)))
    return hashlib.blake2b("\0".join(parts).encode(), digest_size=16).hexdigest()


def make_task(sub: Submission, course: Course, backend: str,
              environment: Environment | None = None) -> RunTask:
    """The executor's task for one submission (its files read into memory), run on the
    course environment when one is built, else on ``[sandbox] python`` or the grader's."""
    # the whole accepted folder: code and the files it reads beside it (its configs)
    files = {name: (sub.code_dir / name).read_bytes() for name in (*sub.files, *sub.data_files)}
    python = course.sandbox.python or (environment.python if environment else "")
    return RunTask(
        student=sub.student, run_key=run_key(sub, course, backend, environment), files=files,
        entry=sub.entry, data_dir=str(course.data_dir), limits=course.sandbox.limits(),
        backend=backend, python=python,
        # the time limit too, so a program can size its training to it (part of run_key)
        env={"GRADER_SEED": str(course.seed),
             "GRADER_TIME_LIMIT_S": f"{course.sandbox.time_limit_s:g}"},
        data_hash=course.data_hash, image=course.sandbox.image,
    )


def make_executor(opts: BatchOptions, course: Course, backend: str = "auto"):
    """The local pool (one slot per GPU group, else ``--jobs``) or the Dask executor."""
    gpus = course.sandbox.gpus
    if opts.executor == "dask":
        from grader.executors.dask import DaskExecutor

        return DaskExecutor(opts.scheduler)
    from grader.executors.local import LocalExecutor

    if gpus:  # each slot its own GPUs, or an error before any run (never a silent CPU run)
        return LocalExecutor.for_gpus(opts.jobs, gpus, backend=backend)
    return LocalExecutor(jobs=opts.jobs or 1)


def resolve_backend(course: Course, override: str | None) -> str:
    """The concrete backend for this batch ('auto' picks once, at the start)."""
    from sandbox import resolve_backend as pick

    name = override or course.sandbox.backend
    if name == "none":
        print("WARNING: running WITHOUT a sandbox (--backend none): submissions can read the "
              "hidden labels, the network and your files. Use this only for trusted code.",
              file=sys.stderr)
        return name
    return pick(name)  # fails early, with instructions, if it does not work here


def save_run_files(out_dir: Path, result: RunResult) -> None:
    """runs/<student>/: truncated logs, the predictions and the sandbox's verdict.

    The logs are written safe to print (``sandbox.log_safe``: no escape sequence acts on the
    terminal of whoever ``cat``s them), whichever worker or backend produced the verdict."""
    folder = out_dir / "runs" / result.student
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    v = result.verdict
    for name in ("stdout", "stderr"):
        (folder / f"{name}.txt").write_text(log_safe(v.get(name) or ""), encoding="utf-8",
                                            errors="replace")
    if result.submission_csv is not None:
        (folder / "submission.csv").write_bytes(result.submission_csv)
    slim = {k: val for k, val in v.items() if k not in ("stdout", "stderr")}
    slim["output_error"] = result.output_error
    (folder / "verdict.json").write_text(json.dumps(slim, indent=2), encoding="utf-8")


def run_tasks(tasks: list[RunTask], opts: BatchOptions, course: Course, store: Store, out: Path,
              say: Callable[[str], None]) -> None:
    """Run ``tasks`` on the executor, storing each result as it arrives."""
    executor = make_executor(opts, course, tasks[0].backend if tasks else "auto")
    progress = Progress(len(tasks), stream=sys.stderr if not opts.quiet else open("/dev/null", "w"),
                        order=[t.student for t in tasks], slots=getattr(executor, "jobs", None))
    local = opts.executor != "dask"
    if local:
        say_oversubscribed(getattr(executor, "jobs", 1), course.sandbox.cpus, say)
    progress.start()
    final_status = _final_status(course)
    hidden = _student_path_names(course, out, tasks)
    broken: list[str] = []
    busy: dict[str, float] = {}  # timed out while this machine was overloaded: host load
    try:
        for result in executor.map_unordered(tasks):
            if local and starved_timeout(result.verdict):
                busy[result.student] = _host_load()
            if result.verdict.get("status") == "sandbox_broken":
                # the machine's fault, not the student's: store nothing so a rerun retries it
                broken.append(f"{result.student}: {result.verdict.get('message')}")
                progress.update(result.student, "sandbox failure")
                continue
            try:
                save_run_files(out, result)
            except Exception as exc:  # noqa: BLE001 - the logs are lost, the verdict is kept
                say(f"could not save the run files of {result.student}: {exc}")
                why = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
                result.output_error = result.output_error or (
                    f"{UNSAVED} ({type(exc).__name__}: {why}); the next run of the same "
                    "command runs it again")
            _hide_for_students(result, hidden)  # after runs/: the instructor's files keep all
            store.put_run(result.student, result.run_key, result.verdict,
                          output_error=result.output_error, started_at=result.started_at,
                          finished_at=result.finished_at, attempts=result.attempts,
                          worker=result.worker)
            progress.update(result.student, final_status(result), result.verdict.get("wall_s"))
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
    if busy:
        say_busy_timeouts(busy, say)
        store.log_event("timeouts_on_a_busy_machine", sorted(busy))
    if broken:
        store.log_event("sandbox_broken", broken)
        raise GraderError(f"the sandbox failed on {len(broken)} run(s); their results were not "
                          "stored", problems=broken[:10],
                          hint="run 'grader sandbox check', fix the machine, then rerun the same "
                               "command: finished runs are kept")


def say_oversubscribed(jobs: int, cpus: float, say: Callable[[str], None]) -> None:
    """A warning when ``jobs`` runs of ``cpus`` cores each ask for more cores than the machine
    has: each run's CPU quota is then not its own, and a program near its time limit times
    out in one batch and not in another (a 4 s torch program took 70 s under --jobs 2 on two
    cores with other work running)."""
    cores = os.cpu_count() or 1
    if jobs > 1 and jobs * cpus > cores:
        say(f"warning: --jobs {jobs} x {cpus:g} CPU(s) per run = {jobs * cpus:g} > this "
            f"machine's {cores} cores: runs compete for the CPU, so a run near its time limit "
            f"may time out in one batch and not in another; use --jobs {max(1, int(cores // cpus))}"
            " for grades that do not depend on the load")


def lost_run_files(store: Store, out: Path) -> list[str]:
    """Students whose stored run finished but whose ``runs/<student>/submission.csv`` is gone
    (deleted, or never saved): they are run again. Resuming from the store alone scored such a
    student ``invalid_output`` ("could not be read back"), which reads as the student's fault,
    and moved every rank below."""
    return sorted(
        student for student, run in store.runs().items()
        if run["status"] == "ok" and (
            str(run.get("output_error") or "").startswith(UNSAVED)
            or (not run.get("output_error")
                and not _regular_file(out / "runs" / student / "submission.csv"))))


def _regular_file(path: Path) -> bool:
    """``path`` is a regular file itself (not a link, a folder or missing)."""
    try:
        return stat.S_ISREG(os.lstat(path).st_mode)
    except OSError:
        return False


#: a timed-out run that used less CPU than this share of one core over its wall time was
#: kept from the CPU (or waited)
STARVED_SHARE = 0.5


def starved_timeout(verdict: dict) -> bool:
    """Did this run time out while the machine was overloaded *and* get too little CPU to
    call the time its own? The load average alone is not enough: a student's program can
    raise it (150 spinning processes took it from 2 to 56 and excused its own timeout, and
    every other timeout for minutes after); one that spins uses its CPU quota in full. Where
    the run's CPU time is unknown (no cgroup), the load decides."""
    if verdict.get("status") != "timeout" or _host_load() <= (os.cpu_count() or 1):
        return False
    cpu, wall = verdict.get("cpu_s"), verdict.get("wall_s")
    return cpu is None or not wall or cpu < STARVED_SHARE * float(wall)


#: the kernel's CPU pressure (PSI "some" over the last minute: the share of time a runnable
#: task waited for a CPU, in %) under which this machine was not short of CPU, whatever its
#: load average says
CPU_PRESSURE_BUSY = 25.0


def _host_load(pressure_file: str = "/proc/pressure/cpu") -> float:
    """The 1-minute load average, or 0 where the kernel's CPU pressure says no task waited
    long for a CPU. The load average also counts tasks asleep in the kernel, which take no
    CPU: a student's 110 processes waiting in ``vfork`` took it from 1.3 to 32 at 0.15 s of
    CPU and excused their own timeout, and every other for minutes after. CPU pressure counts
    only tasks that waited for a CPU; where the kernel has none (no PSI), the load decides."""
    try:
        load = os.getloadavg()[0]
    except OSError:  # not available on this platform
        return 0.0
    pressure = _cpu_pressure(pressure_file)
    return 0.0 if pressure is not None and pressure < CPU_PRESSURE_BUSY else load


def _cpu_pressure(path: str) -> float | None:
    """PSI's ``some avg60`` for the CPU (``some avg10=.. avg60=.. avg300=.. total=..``), or None
    where the kernel does not report it."""
    try:
        with open(path, encoding="ascii") as fh:
            for line in fh:
                fields = line.split()
                if fields and fields[0] == "some":
                    return float(dict(f.split("=", 1) for f in fields[1:])["avg60"])
    except (OSError, ValueError, KeyError):
        pass
    return None


def say_busy_timeouts(busy: dict[str, float], say: Callable[[str], None]) -> None:
    """A warning naming the runs that timed out while the machine was overloaded (its load
    average above its cores): their time was not all their own, so the instructor reruns
    them on a quieter machine before the timeouts count."""
    cores = os.cpu_count() or 1
    names = sorted(busy)
    say(f"warning: {len(names)} run(s) timed out while this machine was overloaded (load "
        f"{max(busy.values()):.1f} on {cores} cores): {', '.join(names)}; their time may not be "
        "their own: run them again with fewer jobs and nothing else running: grader run ... "
        f"--jobs 1 --rerun {' '.join(names)}")


def _student_path_names(course: Course, out: Path, tasks: list[RunTask]) -> dict[str, str]:
    """The grader's own folders -> the neutral names a student reads instead: the course
    folder, the batch folder, the grader's interpreter and the runs' environments."""
    names = runtime_names(sys.prefix, sys.base_prefix)
    for python in sorted({t.python for t in tasks if t.python}):
        names[str(Path(python).parent.parent)] = ENVIRONMENT
    names[str(course.root)] = "<course>"
    names[str(Path(out).resolve())] = "<batch folder>"
    return names


def _hide_for_students(result: RunResult, names: dict[str, str]) -> None:
    """The run's student-visible texts (message, error tail, output error) without host
    paths; the sandbox hides its own, this catches the grader's (a grader fault's message)."""
    for key in ("message", "error_tail"):
        if isinstance(result.verdict.get(key), str):
            result.verdict[key] = hide_host_paths(result.verdict[key], names)
    if result.output_error:
        result.output_error = hide_host_paths(result.output_error, names)


def _final_status(course: Course) -> Callable[[RunResult], str]:
    """The status a finished run will have in grades.csv, for the log line: an ok run whose
    submission.csv is unusable (unreadable, or rejected by the scorer's checks: header, ids,
    labels) is ``invalid_output``. The hidden labels are read once, on the first ok run."""
    scorer = None

    def status(result: RunResult) -> str:
        nonlocal scorer
        value = result.verdict["status"]
        if value != Status.OK.value:
            return value
        if result.output_error and result.output_error.startswith(UNSAVED):
            return Status.ERROR.value  # the grader's, as grades.csv will say
        if result.output_error or result.submission_csv is None:
            return Status.INVALID_OUTPUT.value
        from grader.scoring import OutputInvalid, Scorer

        try:
            scorer = scorer or Scorer(course)
            scorer.parse(result.submission_csv)
        except OutputInvalid:
            return Status.INVALID_OUTPUT.value
        except Exception:  # noqa: BLE001 - only a log line; the score stage reports it
            return value
        return value

    return status
