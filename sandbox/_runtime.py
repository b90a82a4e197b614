"""The Python runtime a submission runs in, and the clean environment it gets.

The sandbox shows the program only the folders its interpreter needs: the venv
(``sys.prefix``), the interpreter it was made from (``sys.base_prefix``) and the folder of
the real executable, all read-only.
"""

from __future__ import annotations

import functools
import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from sandbox._hostpaths import runtime_names
from sandbox._pyenv import pyenv_problem
from sandbox.errors import SandboxBroken
from sandbox.spec import RunSpec

# Where the run's folders appear inside a sandbox (host paths are never shown).
CODE_DIR = "/grader/code"
DATA_DIR = "/grader/data"
OUTPUT_DIR = "/grader/output"


@dataclass(frozen=True)
class PythonRuntime:
    """The interpreter to run and the host folders it needs (bound read-only)."""

    executable: str
    prefixes: tuple[str, ...]
    bin_dir: str
    #: ``sys.prefix`` and ``sys.base_prefix`` as the interpreter reports them
    prefix: str = ""
    base_prefix: str = ""

    def host_names(self) -> dict[str, str]:
        """Its host folders -> the neutral names students read (``sandbox._hostpaths``)."""
        return runtime_names(self.prefix, self.base_prefix, *self.prefixes)


_PROBE = "import json,os,sys;print(json.dumps([sys.prefix,sys.base_prefix,os.path.realpath(sys.executable)]))"


@functools.lru_cache(maxsize=8)
def python_runtime(python: str) -> PythonRuntime:
    """Inspect ``python`` (once per process) and return the folders it needs.

    Raises
    ------
    SandboxBroken
        If ``python`` cannot be started.
    """
    # not realpath: venvs made from the same interpreter share it, but not their packages
    if os.path.abspath(python) == os.path.abspath(sys.executable):
        prefix, base, real = sys.prefix, sys.base_prefix, os.path.realpath(sys.executable)
    else:
        try:
            prefix, base, real = json.loads(
                subprocess.run([python, "-I", "-c", _PROBE], capture_output=True, text=True,
                               check=True, timeout=60).stdout
            )
        except subprocess.CalledProcessError as exc:
            pyenv = pyenv_problem(python, exc.stderr or "", "[sandbox] python in course.toml")
            if pyenv:
                raise SandboxBroken(pyenv[0], hint=pyenv[1]) from exc
            raise SandboxBroken(
                f"cannot start the submissions' Python interpreter {python} (exit code "
                f"{exc.returncode}): {(exc.stderr or '').strip()[-300:]}",
                hint="set a working interpreter in [sandbox] python (a venv with the course's "
                     "packages), or leave it out to use the course environment",
            ) from exc
        except (OSError, subprocess.SubprocessError, ValueError) as exc:
            raise SandboxBroken(
                f"cannot start the submissions' Python interpreter {python}: {exc}",
                hint="set a working interpreter (a venv with the course's packages)",
            ) from exc
    dirs = [os.path.realpath(p) for p in (prefix, base)]
    real_dir = str(Path(real).parent.parent)
    if not any(real.startswith(d + os.sep) for d in dirs):
        dirs.append(real_dir)
    # keep only outermost folders, and never the whole root or /usr twice
    uniq: list[str] = []
    for d in sorted(set(dirs), key=len):
        if not any(d == u or d.startswith(u + os.sep) for u in uniq):
            uniq.append(d)
    exe = os.path.abspath(shutil.which(python) or python)
    return PythonRuntime(exe, tuple(uniq), os.path.dirname(exe), prefix, base)


def sandbox_env(spec: RunSpec, *, data: str, output: str, bin_dir: str,
                gpu_env: dict[str, str], home: str = "/tmp") -> dict[str, str]:
    """The whole environment of a run: nothing is inherited from the grader.

    Parameters
    ----------
    spec : RunSpec
    data, output : str
        ``GRADER_DATA`` and ``GRADER_OUTPUT`` as the program sees them.
    bin_dir : str
        The interpreter's ``bin`` folder, first on ``PATH``.
    gpu_env : dict
        ``CUDA_VISIBLE_DEVICES`` and friends, from ``sandbox.gpus.cuda_env``.
    """
    threads = str(spec.limits.whole_cpus)  # as os.cpu_count() in the run
    env = {
        "PATH": f"{bin_dir}:/usr/local/bin:/usr/bin:/bin",
        "HOME": home,
        "TMPDIR": "/tmp",
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "PYTHONUNBUFFERED": "1",  # the last lines before a crash or a kill reach the log
        # str hashes, and so the order of a set of labels (list(set(y)) as the class order)
        # and Python's hash() as a feature hash, the same in every run: otherwise the same
        # seeded program gives other predictions, and another grade, each time it runs
        "PYTHONHASHSEED": "0",
        "MPLBACKEND": "Agg",
        "OMP_NUM_THREADS": threads,
        "MKL_NUM_THREADS": threads,
        "OPENBLAS_NUM_THREADS": threads,
        "NUMEXPR_NUM_THREADS": threads,
        # joblib's n_jobs=-1 (GridSearchCV, RandomForest...) counts the host's cores, not the
        # run's share: on a 64-core server it would start 64 workers against a 2-core quota
        "LOKY_MAX_CPU_COUNT": threads,
    }
    env.update(gpu_env)
    env.update({str(k): str(v) for k, v in spec.env.items()})
    env["GRADER_DATA"] = data
    env["GRADER_OUTPUT"] = output
    return env
