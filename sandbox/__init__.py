"""Running untrusted code: ``run(spec, backend=...) -> Verdict``.

Public names: ``run``, ``RunSpec``, ``Limits``, ``Verdict``, ``available_backends``, plus
``GpuPool``/``detect_gpus`` (GPU assignment), ``read_submission_csv``/``OutputError``
(reading outputs as data), ``log_safe`` (a run's log made safe to print),
``hide_host_paths`` (host folders named neutrally for students), ``SandboxError``
(and its ``SandboxUnavailable``, ``SandboxBroken``) and ``cancel_all`` (stop every run in
flight, e.g. on Ctrl-C).
"""

from sandbox._active import cancel_all
from sandbox._hostpaths import hide_host_paths
from sandbox._logs import log_safe
from sandbox._run import available_backends, resolve_backend, run
from sandbox.errors import SandboxBroken, SandboxError, SandboxUnavailable
from sandbox.gpus import GpuPool, detect_gpus
from sandbox.limits import Limits
from sandbox.outputs import MISPLACED_NOTE, OutputError, read_submission_csv
from sandbox.spec import RunSpec
from sandbox.verdict import Verdict

__all__ = [
    "Limits", "RunSpec", "Verdict", "run", "available_backends", "resolve_backend",
    "GpuPool", "detect_gpus", "OutputError", "read_submission_csv", "SandboxBroken",
    "SandboxError", "SandboxUnavailable", "cancel_all", "log_safe",
    "hide_host_paths", "MISPLACED_NOTE",
]
