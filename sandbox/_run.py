"""Backend registry and choice: ``run(spec, backend)`` and ``available_backends()``."""

from __future__ import annotations

import importlib
import threading
import time

from sandbox._backend import BackendInfo
from sandbox._codecopy import CodeRefused
from sandbox.errors import SandboxUnavailable
from sandbox.spec import RunSpec
from sandbox.verdict import Verdict

# name -> module with ``run(spec) -> Verdict`` and ``check() -> BackendInfo``
BACKENDS: dict[str, str] = {
    "docker": "sandbox.backends.docker",
    "bwrap": "sandbox.backends.bwrap",
    "none": "sandbox.backends.none",
}
AUTO_ORDER = ("docker", "bwrap")  # "none" is never chosen automatically
_CHECK_TTL_S = 60.0
_cache: dict[str, tuple[float, BackendInfo]] = {}
_lock = threading.Lock()
INSTALL_HINT = (
    "install Docker (apt-get install docker.io; then sandbox/start_dockerd.sh) or bubblewrap "
    "(apt-get install bubblewrap); 'grader sandbox check' says what is missing. Only for "
    "trusted code: backend = \"none\""
)


def _check(name: str, fresh: bool = False) -> BackendInfo:
    with _lock:
        hit = _cache.get(name)
        if hit and not fresh and time.monotonic() - hit[0] < _CHECK_TTL_S:
            return hit[1]
    info = importlib.import_module(BACKENDS[name]).check()
    with _lock:
        _cache[name] = (time.monotonic(), info)
    return info


def resolve_backend(backend: str) -> str:
    """The backend ``run`` would use for ``backend`` (``"auto"`` picks the first that works).

    Raises
    ------
    SandboxUnavailable
        If ``backend`` is unknown, or does not work here, or none works for ``"auto"``.
    """
    if backend == "auto":
        reasons = []
        for name in AUTO_ORDER:
            info = _check(name)
            if info.works:
                return name
            reasons.append(f"{name}: {info.reason}")
        raise SandboxUnavailable("no sandbox backend works on this machine",
                                 problems=reasons, hint=INSTALL_HINT)
    if backend not in BACKENDS:
        raise SandboxUnavailable(
            f"unknown sandbox backend {backend!r}",
            hint=f"use one of: auto, {', '.join(BACKENDS)} ([sandbox] backend in course.toml)")
    info = _check(backend)
    if not info.works:
        raise SandboxUnavailable(f"the {backend} sandbox does not work here: {info.reason}",
                                 hint=INSTALL_HINT)
    return backend


def run(spec: RunSpec, backend: str = "auto") -> Verdict:
    """Run one submission under ``backend`` and return its verdict.

    Parameters
    ----------
    spec : RunSpec
        What to run; ``spec.output_dir`` must exist and receives the run's outputs.
    backend : {"auto", "docker", "bwrap", "none"}, default="auto"
        ``"auto"`` is Docker when the engine answers and the image exists, else bubblewrap.
        ``"none"`` runs without a sandbox (trusted code only) and warns on stderr.

    Returns
    -------
    Verdict
        ``status`` is ``ok``, ``error``, ``timeout`` or ``memory``; the student's failures are
        verdicts, never exceptions. A submission holding links or special files is not run
        (``error``, the message names them).

    Raises
    ------
    SandboxUnavailable
        If the backend does not work on this machine.
    sandbox.errors.SandboxBroken
        If the backend failed while running (the machine needs attention).
    """
    name = resolve_backend(backend)
    try:
        return importlib.import_module(BACKENDS[name]).run(spec)
    except CodeRefused as exc:  # links or special files in the submission: never run
        return Verdict(status="error", exit_code=None, wall_s=0.0, backend=name,
                       message=exc.message)


def available_backends(fresh: bool = True) -> dict[str, dict]:
    """For each backend: ``works``, ``reason`` (why not), ``gpus`` it sees and details."""
    return {name: _check(name, fresh=fresh).to_dict() for name in BACKENDS}
