"""Start a sandbox command on the host, enforce the wall clock, capture bounded logs.

The command is started through a tiny ``/bin/sh`` launcher that first moves itself into the
run's cgroups (so every descendant is counted from its first instruction; Python's
``preexec_fn`` is unsafe in the grader's thread pool), then sets the rlimits with
``prlimit`` and ``exec``s the backend.
"""

from __future__ import annotations

import os
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass

from sandbox._active import RunHandle
from sandbox._cgroup import RunCgroup
from sandbox._logs import BoundedLog, drain_stream, start_drain
from sandbox.errors import SandboxBroken
from sandbox.limits import Limits

LAUNCH_FAILED = 125
_MARK = "gradebox-launcher:"


@dataclass
class ProcessResult:
    exit_code: int | None
    timed_out: bool
    wall_s: float
    stdout: BoundedLog
    stderr: BoundedLog


def rlimit_flags(limits: Limits, cgroup: RunCgroup | None, *,
                 sized_workspace: bool = False) -> list[str]:
    """``prlimit`` options: always file size, cores, open files; memory/processes as fallback
    (``sized_workspace``: every writable place is a sized tmpfs, see ``Limits.file_bytes``)."""
    controls = cgroup.controls if cgroup else set()
    flags = [f"--fsize={limits.file_bytes(sized_workspace)}", "--core=0", "--nofile=4096"]
    if "memory" not in controls:
        flags.append(f"--as={limits.memory_bytes}")  # weaker than a cgroup: counts address space
    if "pids" not in controls:
        flags.append(f"--nproc={limits.processes}")
    return flags


def launcher(argv: list[str], limits: Limits, cgroup: RunCgroup | None, *,
             failed_mark: str, sized_workspace: bool = False) -> list[str]:
    """Wrap ``argv`` so that it starts inside ``cgroup`` with the run's rlimits. Where it
    cannot, the launcher creates the file ``failed_mark`` and exits ``LAUNCH_FAILED``: the
    file (in a folder no sandbox sees) tells its failure from a student's program that
    prints the same words and exits 125 itself."""
    procs = [str(p) for p in cgroup.procs_files()] if cgroup else []
    joins = " && ".join(f'echo $$ > "${i + 2}"' for i in range(len(procs))) or "true"
    script = (f'{joins} || {{ : > "$1"; echo "{_MARK} cannot join the run cgroup" >&2; '
              f"exit {LAUNCH_FAILED}; }}; shift {len(procs) + 1}; exec \"$@\"")
    return ["/bin/sh", "-c", script, "sh", failed_mark, *procs, "prlimit",
            *rlimit_flags(limits, cgroup, sized_workspace=sized_workspace), "--", *argv]


def run_process(argv: list[str], *, env: dict[str, str], cwd: str | None, limits: Limits,
                cgroup: RunCgroup | None, name: str, handle: RunHandle | None = None,
                pass_fds: tuple[int, ...] = (), sized_workspace: bool = False) -> ProcessResult:
    """Run ``argv`` (already sandboxed) under the wall clock; kill everything at the limit.

    ``pass_fds`` are inherited by the command (e.g. bwrap's ``--seccomp FD``); no other is.

    Raises
    ------
    SandboxBroken
        If the launcher could not start or the run did not die after being killed
        (the outer clock).
    """
    # the launcher marks its own failure in a folder no sandbox sees (see ``launcher``)
    with tempfile.TemporaryDirectory(prefix="gradebox-launch-") as private:
        failed_mark = os.path.join(private, "failed")
        out, err = BoundedLog(limits.log_bytes), BoundedLog(limits.log_bytes)
        start = time.monotonic()
        try:
            proc = subprocess.Popen(launcher(argv, limits, cgroup, failed_mark=failed_mark,
                                             sized_workspace=sized_workspace),
                                    stdin=subprocess.DEVNULL,
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
                                    cwd=cwd, process_group=0, close_fds=True, pass_fds=pass_fds)
        except OSError as exc:
            raise SandboxBroken(f"cannot start the sandbox for {name}: {exc}",
                                hint="run 'grader sandbox check'") from exc
        if handle is not None:
            handle.kill = lambda: _kill(proc if proc.poll() is None else None, cgroup)
        readers = [start_drain(drain_stream, proc.stdout, out),
                   start_drain(drain_stream, proc.stderr, err)]
        timed_out = False
        try:
            proc.wait(timeout=limits.time_s)
        except subprocess.TimeoutExpired:
            timed_out = True
        wall = time.monotonic() - start
        if handle is not None:
            handle.kill = None
        # the process group only while its leader is unreaped (a reaped pid may be reused)
        _kill(proc if timed_out else None, cgroup)
        try:
            proc.wait(timeout=max(5.0, limits.outer_time_s - limits.time_s))
        except subprocess.TimeoutExpired as exc:
            raise SandboxBroken(f"the sandbox of {name} did not stop after SIGKILL",
                                hint="the machine needs an administrator: check 'ps' and dmesg") from exc
        for t in readers:
            t.join(timeout=10)
        if proc.returncode == LAUNCH_FAILED and os.path.exists(failed_mark):
            raise SandboxBroken(f"the sandbox of {name} could not start: {err.text()[:500]}",
                                hint="run 'grader sandbox check'")
        # killed by a signal: the shell's 128 + N, as Docker and bwrap's own child report it
        # (a timeout showed -9 under bwrap and 137 under Docker on the student's page)
        code = proc.returncode
        return ProcessResult(128 - code if code is not None and code < 0 else code, timed_out,
                             wall, out, err)


def _kill(proc: subprocess.Popen | None, cgroup: RunCgroup | None) -> None:
    """Kill the launcher's process group and whatever is left in the run's cgroups."""
    if proc is not None:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
    if cgroup is not None:
        cgroup.kill_all()
