"""Running untrusted code: ``run(spec, backend=...) -> Verdict``.

Public names: ``run``, ``RunSpec``, ``Limits``, ``Verdict``, ``available_backends``.
"""

from sandbox.limits import Limits
from sandbox.spec import RunSpec
from sandbox.verdict import Verdict

__all__ = ["Limits", "RunSpec", "Verdict", "run", "available_backends"]


def run(spec: RunSpec, backend: str = "auto") -> Verdict:  # pragma: no cover - replaced below
    from sandbox._run import run as _run

    return _run(spec, backend)


def available_backends():  # pragma: no cover - replaced below
    from sandbox._run import available_backends as _ab

    return _ab()
