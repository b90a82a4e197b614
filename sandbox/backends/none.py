"""No sandbox: the program runs as the grader's user with only rlimits and the wall clock.

For trusted code (the instructor's own reference solutions) only; every run warns loudly.
"""

from __future__ import annotations

import sys

from sandbox import _active, _workspace
from sandbox._backend import BackendInfo
from sandbox._hostpaths import DATA
from sandbox._process import run_process
from sandbox._runtime import python_runtime, sandbox_env
from sandbox.gpus import cuda_env
from sandbox.spec import RunSpec
from sandbox.verdict import Verdict, classify

NAME = "none"
WARNING = ("WARNING: gradebox is running {name} WITHOUT A SANDBOX (backend='none'): the program "
           "can read, write and send anything this user can. Use it only for trusted code.")


def run(spec: RunSpec) -> Verdict:
    print(WARNING.format(name=spec.name), file=sys.stderr, flush=True)
    runtime = python_runtime(spec.python)
    ws = _workspace.prepare(spec)
    try:
        env = sandbox_env(spec, data=str(spec.data_dir.resolve()), output=str(ws.out),
                          bin_dir=runtime.bin_dir, gpu_env=cuda_env(spec.gpu_devices,
                                                                    renumbered=False),
                          home=str(ws.code))
        with _active.track() as handle:
            res = run_process(spec.argv(runtime.executable), env=env, cwd=str(ws.code),
                              limits=spec.limits, cgroup=None, name=spec.name, handle=handle)
        notes = _workspace.harvest(ws, spec.output_dir, spec.limits.output_bytes)
    finally:
        _workspace.cleanup(ws)
    stderr = res.stderr.text()
    status, message, tail = classify(exit_code=res.exit_code, timed_out=res.timed_out,
                                     oom_killed=False, stderr=stderr, time_s=spec.limits.time_s,
                                     memory_mb=spec.limits.memory_mb,
                                     cancelled=handle.cancelled,
                                     space=(spec.limits.output_mb, spec.limits.tmp_mb),
                                     hide={**runtime.host_names(),
                                           str(spec.data_dir.resolve()): DATA})
    return Verdict(status=status, exit_code=res.exit_code, wall_s=round(res.wall_s, 3),
                   backend=NAME, message=message + " (unsandboxed)", error_tail=tail,
                   stdout=res.stdout.text(), stderr=stderr,
                   stdout_truncated=res.stdout.truncated, stderr_truncated=res.stderr.truncated,
                   gpu_devices=tuple(spec.gpu_devices), output_notes=notes)


def check() -> BackendInfo:
    return BackendInfo(NAME, True, "always available; NOT a sandbox (trusted code only)")
