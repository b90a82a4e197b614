"""One run as data: what an executor ships to a slot or a worker, and what comes back.

``execute_run`` is the whole job of a slot: materialise the submission, run it in the
sandbox, read ``submission.csv`` as untrusted bytes, clean up. It writes nothing to the store:
results travel back as data and only the coordinating process persists them.
"""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sandbox.errors import SandboxError
from sandbox.limits import Limits


@dataclass(frozen=True)
class RunTask:
    student: str
    run_key: str
    #: the submission's files (relative path → bytes): submissions travel with the task
    files: dict[str, bytes]
    entry: str
    data_dir: str
    limits: Limits
    backend: str
    python: str = ""
    env: dict[str, str] = field(default_factory=dict)
    #: content hash of the data folder (for workers that stage data by hash)
    data_hash: str = ""
    #: Docker image ("" = the host-runtime image)
    image: str = ""

    @property
    def needs_gpu(self) -> bool:
        return self.limits.gpus > 0


@dataclass
class RunResult:
    student: str
    run_key: str
    verdict: dict[str, Any]
    #: the raw bytes of submission.csv, or None with ``output_error`` saying why
    submission_csv: bytes | None
    output_error: str | None
    started_at: float
    finished_at: float
    worker: str = ""
    attempts: int = 1


def execute_run(task: RunTask, gpu_devices: tuple[int, ...] = (),
                data_dir: str | None = None) -> RunResult:
    """Run one submission in the sandbox and collect its output as data. Never raises: a
    failure of the grader itself becomes this run's ``error`` (retried by the next rerun)."""
    started = time.time()
    try:
        return _execute(task, gpu_devices, data_dir, started)
    except SandboxError:
        raise  # the machine's fault (no backend here): the executor retries or reports it
    except Exception as exc:  # noqa: BLE001 - one student's run must not stop the batch
        # the grader's fault, not the student's: no finished run key, so a rerun retries it
        return RunResult(task.student, "", {
            "status": "error", "exit_code": None, "wall_s": 0.0, "backend": task.backend,
            "grader_fault": True,
            "message": f"the grader failed while running this submission "
                       f"({type(exc).__name__}: {exc}); not the student's fault: rerun the "
                       "batch to retry it"}, None, None, started, time.time(),
            worker=socket.gethostname())


def _execute(task: RunTask, gpu_devices: tuple[int, ...], data_dir: str | None,
             started: float) -> RunResult:
    import sandbox
    from sandbox.outputs import MISPLACED_NOTE, SUBMISSION_CSV, OutputError, read_submission_csv

    work = Path(tempfile.mkdtemp(prefix=f"gradebox-{task.student[:40]}-"))
    try:
        code, out = work / "code", work / "output"
        out.mkdir(parents=True)
        for rel, content in task.files.items():
            target = (code / rel).resolve()
            if not target.is_relative_to(code.resolve()):
                continue  # intake never produces such paths; refuse them anyway
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(content)
        spec = sandbox.RunSpec(
            code_dir=code, entry=task.entry, data_dir=Path(data_dir or task.data_dir),
            output_dir=out, limits=task.limits, gpu_devices=tuple(gpu_devices),
            env=dict(task.env), name=task.student, image=task.image,
            **({"python": task.python} if task.python else {}),
        )
        try:
            verdict = sandbox.run(spec, backend=task.backend)
        except sandbox.SandboxBroken as exc:
            return RunResult(task.student, task.run_key,
                             {"status": "sandbox_broken", "message": exc.message},
                             None, None, started, time.time(), worker=socket.gethostname())
        csv_bytes, output_error = None, None
        if verdict.status == "ok":
            try:
                csv_bytes = read_submission_csv(out, task.limits.output_bytes)
            except OutputError as exc:
                output_error = str(exc)
                # the sandbox dropped it as no plain file (a FIFO, a device): say that, not
                # "no submission.csv was written"
                dropped = [n for n in verdict.output_notes
                           if n.startswith(f"{SUBMISSION_CSV}:")]
                if exc.reason == "missing" and dropped:
                    output_error = (f"{dropped[0]}: write submission.csv as a plain "
                                    "file (open(path, 'w')), not a pipe, link or device")
                elif exc.reason == "missing" and MISPLACED_NOTE in verdict.output_notes:
                    output_error = (f"{MISPLACED_NOTE}: write it to "
                                    "os.path.join(os.environ['GRADER_OUTPUT'], "
                                    "'submission.csv')")
        return RunResult(task.student, task.run_key, verdict.to_dict(), csv_bytes, output_error,
                         started, time.time(), worker=socket.gethostname())
    finally:
        shutil.rmtree(work, ignore_errors=True)
        if work.exists():  # files the sandbox user made read-only
            os.system(f"chmod -R u+rwX {str(work)!r} 2>/dev/null")
            shutil.rmtree(work, ignore_errors=True)
