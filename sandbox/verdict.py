"""The outcome of one sandboxed run, as plain data (JSON-serialisable)."""

from __future__ import annotations

import re
import signal
from collections.abc import Collection, Mapping
from dataclasses import asdict, dataclass, field

from sandbox._hostpaths import hide_host_paths
from sandbox._imports import distribution_for, missing_module
from sandbox.status import Status


@dataclass
class Verdict:
    """What the sandbox says about a run.

    ``status`` is one of ``ok``, ``error``, ``timeout``, ``memory``, ``missing_package``.
    ``message`` is one line for humans; ``error_tail`` holds the exception and the last
    traceback lines.
    """

    status: str
    exit_code: int | None
    wall_s: float
    backend: str
    message: str = ""
    error_tail: str = ""
    stdout: str = ""
    stderr: str = ""
    stdout_truncated: bool = False
    stderr_truncated: bool = False
    peak_memory_mb: float | None = None
    #: CPU seconds the run's processes used (its cgroup's accounting); None where unknown
    cpu_s: float | None = None
    gpu_devices: tuple[int, ...] = ()
    output_notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> Verdict:
        d = dict(d)
        d["gpu_devices"] = tuple(d.get("gpu_devices") or ())
        return cls(**{k: v for k, v in d.items() if k in cls.__dataclass_fields__})


OK, ERROR, TIMEOUT, MEMORY = Status.OK.value, Status.ERROR.value, Status.TIMEOUT.value, \
    Status.MEMORY.value
MISSING_PACKAGE = Status.MISSING_PACKAGE.value
_EXC_LINE = re.compile(r"^([A-Za-z_][\w.]*(Error|Exception|Interrupt|Exit)|MemoryError)\b.*$")


#: characters kept of one line of the error tail or of the exception line: the tail is stored
#: per run and shown on every page that lists the run (a never-ending line made it the whole
#: 256 KB of kept stderr)
MAX_LINE_CHARS = 500


def _clip(line: str) -> str:
    if len(line) <= MAX_LINE_CHARS:
        return line
    return f"{line[:MAX_LINE_CHARS]} ... ({len(line) - MAX_LINE_CHARS:,} more characters)"


def error_tail(stderr: str, lines: int = 12) -> str:
    """The last traceback of ``stderr`` (its last ``lines`` lines), or its last lines, each
    cut at ``MAX_LINE_CHARS``."""
    rows = [r for r in stderr.rstrip().splitlines() if r.strip()]
    start = max((i for i, r in enumerate(rows) if r.startswith("Traceback (most recent")),
                default=None)
    tail = rows[start:] if start is not None else rows
    return "\n".join(map(_clip, tail[-lines:]))


def exception_line(stderr: str) -> str:
    """The final ``SomeError: message`` line of a Python traceback (cut at
    ``MAX_LINE_CHARS``), or ``""``."""
    for row in reversed(stderr.rstrip().splitlines()):
        if _EXC_LINE.match(row.strip()):
            return _clip(row.strip())
    return ""


def _signal_name(num: int) -> str:
    try:
        return signal.Signals(num).name
    except ValueError:
        return f"signal {num}"


def classify(*, exit_code: int | None, timed_out: bool, oom_killed: bool, stderr: str,
             time_s: float, memory_mb: int, cancelled: bool = False,
             provided: Collection[str] | None = None,
             hide: Mapping[str, str] | None = None,
             space: tuple[int, int] | None = None) -> tuple[str, str, str]:
    """Turn how a run ended into ``(status, message, error_tail)``; the only place that does.

    Parameters
    ----------
    exit_code : int or None
        The program's exit status; negative or above 128 means killed by a signal.
    timed_out : bool
        The wall-clock limit was reached and the run was killed.
    oom_killed : bool
        The kernel (or Docker) reported an out-of-memory kill in the run.
    stderr : str
        The captured (possibly truncated) standard error.
    time_s, memory_mb : float, int
        The limits, quoted in the message.
    cancelled : bool, default=False
        The grader stopped the run (``sandbox.cancel_all``): not the program's fault.
    provided : collection of str, optional
        The top-level modules the run could import (course environment and the submission's
        own files): a ``ModuleNotFoundError`` for any other is ``missing_package``, the
        environment's gap rather than the student's crash. None: not known.
    hide : mapping of str to str, optional
        Host folders -> neutral names (``PythonRuntime.host_names``): the message and the
        error tail are for students, so they name no host path; ``stderr`` itself is kept.
        The runners' temporary folders are always hidden.
    space : (int, int), optional
        The run's output and ``/tmp`` sizes in MiB, quoted when it stopped on a full disk
        or too large a file.
    """
    names = hide or {}
    tail = error_tail(stderr) if exit_code not in (0, None) or timed_out else ""
    tail = hide_host_paths(tail, names)
    exc = hide_host_paths(exception_line(stderr), names)
    if cancelled:
        return ERROR, "stopped by the grader before it finished (cancelled)", tail
    if timed_out:
        return TIMEOUT, f"stopped after the time limit of {time_s:g} s", tail
    if exit_code == 0:
        # before the memory checks: a program that caught a MemoryError (and logged its
        # traceback) or lost a worker process to the memory limit, then finished and wrote
        # its predictions, is scored; it was once stopped at "ran out of memory", unscored
        return OK, "finished normally", ""
    if oom_killed or exc.startswith("MemoryError"):
        # files in /tmp and /dev/shm live in memory too: a program that only filled the
        # scratch space is told so, not left looking for a leak
        return MEMORY, (f"ran out of its {memory_mb} MiB of memory and was stopped (files "
                        "written to /tmp and /dev/shm count as memory)"), tail
    if exit_code is None:
        return ERROR, "the run did not report an exit status", tail
    sig = -exit_code if exit_code < 0 else exit_code - 128 if exit_code > 128 else 0
    if sig:
        return ERROR, f"killed by {_signal_name(sig)} (exit code {exit_code})", tail
    missing = missing_module(exc)
    if missing and provided is not None and missing not in provided:
        return MISSING_PACKAGE, (
            f"imports {missing}, which the course environment does not provide: the instructor "
            f"may add {distribution_for(missing)} to environment/requirements.txt (then "
            "'grader sandbox build'), or the program must do without it"), tail
    if exc and space and ("[Errno 28]" in exc or "[Errno 27]" in exc):
        return ERROR, (f"exited with code {exit_code}: {exc} (a run may write {space[0]} MiB "
                       f"to $GRADER_OUTPUT and {space[1]} MiB to /tmp, /dev/shm and its "
                       "working folder)"), tail
    if exc:
        return ERROR, f"exited with code {exit_code}: {exc}", tail
    if exit_code == 1 and "Traceback (most recent call last)" not in stderr:
        # sys.exit("Finished training") prints the text and exits with 1: the student saw
        # only a happy line in the log and "exited with code 1"
        last = next((row.strip() for row in reversed(stderr.rstrip().splitlines())
                     if row.strip()), "")
        said = (f"; the last line it wrote to stderr: {hide_host_paths(_clip(last), names)}"
                if last else "")
        return ERROR, (f"exited with code 1 without a traceback{said} (sys.exit(\"some text\") "
                       "prints the text and exits with code 1, an error: a program that "
                       "finished ends without sys.exit, or with sys.exit(0))"), tail
    return ERROR, f"exited with code {exit_code}", tail
