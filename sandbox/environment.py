"""The course environment: what students' programs may import, built once per lock.

A course declares its packages in ``environment/requirements.txt`` (pip syntax, pinned or
not) and optionally a Python version in ``environment/python-version``; without them the
default ML set (``DEFAULT_REQUIREMENTS``) is used. ``build_environment`` resolves them once
into ``environment/requirements.lock`` (``name==version`` lines, beside the requirements) and
installs the lock into a virtual environment under a cache folder named by the lock's hash:
building again from the same lock does nothing, and a built environment works offline.

Runs use it through ``RunSpec(python=env.python)``: the sandbox binds that environment
read-only in place of the grader's own virtualenv, so gradebox's packages (grader, Dask,
Jinja2...) are not importable unless the course declares them.

Examples
--------
>>> env = require_environment(Path("course"))            # doctest: +SKIP
>>> RunSpec(..., python=env.python or sys.executable)    # doctest: +SKIP
"""

from __future__ import annotations

import fcntl
import functools
import glob
import json
import os
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from sandbox import _depends, _envbuild
from sandbox._imports import KNOWN_DISTRIBUTIONS, distribution_for, local_modules, missing_module
from sandbox._pyenv import pyenv_problem
from sandbox._requirements import (
    DEFAULT_REQUIREMENTS,
    LOCK_FILE,
    PYTHON_FILE,
    REQUIREMENTS_FILE,
    EnvironmentFileError,
    Requirements,
    format_lock,
    lock_key,
    lock_matches,
    lock_pins,
    python_tag,
    read_requirements,
)
from sandbox.errors import SandboxError

__all__ = [
    "Environment", "BuildResult", "EnvironmentFileError", "EnvironmentNotBuilt",
    "DEFAULT_REQUIREMENTS", "KNOWN_DISTRIBUTIONS", "REQUIREMENTS_FILE", "LOCK_FILE",
    "build_environment", "load_environment", "require_environment", "read_requirements",
    "default_cache_dir", "importable_modules", "masked_paths", "provided_modules",
    "distribution_for", "missing_module", "local_modules", "dependency_only_modules",
]

#: written last into a built environment: its lock, packages and modules (a complete build)
META_FILE = "gradebox-env.json"
_RESOLVED = "resolved"  # cache subfolder: earlier resolutions, by requirements and Python


class EnvironmentNotBuilt(SandboxError):
    """The course declares an environment that is not built on this machine."""

    reference = "environment-not-built"


@dataclass(frozen=True)
class Environment:
    """A course environment, built or not.

    Attributes
    ----------
    course_root : Path
    declared : bool
        The course has ``environment/requirements.txt`` (else the default ML set).
    source : str
        Where the requirements come from, for messages.
    lock : str
        The lock file's text (``""`` when never resolved on this machine).
    key : str
        The hash of the lock: the environment's folder and image tag.
    path : Path or None
        The environment's folder when built.
    python : str
        Its interpreter, ``""`` when not built (runs then use the grader's own).
    packages : tuple of (str, str)
        ``(distribution, version)`` of everything installed, sorted by name.
    modules : frozenset of str
        Every top-level module its Python can import (standard library included).
    top_level : dict
        Top-level module -> the distributions providing it.
    """

    course_root: Path
    declared: bool
    source: str
    lock: str = ""
    key: str = ""
    path: Path | None = None
    python: str = ""
    packages: tuple[tuple[str, str], ...] = ()
    modules: frozenset[str] = frozenset()
    top_level: dict[str, list[str]] = field(default_factory=dict)

    @property
    def built(self) -> bool:
        return bool(self.python)

    @property
    def image_tag(self) -> str:
        """The Docker image built from this environment (``grader sandbox build --base``)."""
        return f"gradebox/env:{self.key}" if self.key else ""

    def build_command(self) -> str:
        return _envbuild.build_command(self.course_root)

    def to_dict(self) -> dict:
        """Plain data for the batch store and the student page (no module lists)."""
        return {"declared": self.declared, "source": self.source, "key": self.key,
                "built": self.built, "python": self.python, "lock": self.lock,
                "packages": [list(p) for p in self.packages]}


@dataclass(frozen=True)
class BuildResult:
    """What ``build_environment`` did: ``built`` is False when it was already there."""

    environment: Environment
    built: bool
    resolved: bool
    seconds: float


def default_cache_dir() -> Path:
    """``$GRADEBOX_ENV_CACHE``, else ``$XDG_CACHE_HOME/gradebox/environments`` (~/.cache)."""
    if os.environ.get("GRADEBOX_ENV_CACHE"):
        return Path(os.environ["GRADEBOX_ENV_CACHE"]).resolve()
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base).resolve() / "gradebox" / "environments"


@functools.lru_cache(maxsize=16)
def _python_version(base: str) -> str:
    p = subprocess.run([base, "-I", "-c", "import platform;print(platform.python_version())"],
                       capture_output=True, text=True, timeout=60)
    if p.returncode != 0:
        pyenv = pyenv_problem(base, p.stderr, "the course's Python (environment/python-version, "
                                              "else the grader's own)")
        if pyenv:
            raise EnvironmentFileError(pyenv[0], hint=pyenv[1])
        raise EnvironmentFileError(f"cannot start the Python {base}: {p.stderr.strip()[-300:]}",
                                   hint="install a working Python, or fix environment/python-version")
    return p.stdout.strip()


def _resolved_path(cache: Path, reqs: Requirements, version: str) -> Path:
    tag = python_tag(version).replace(" ", "-")
    return cache / _RESOLVED / f"{reqs.digest()}-{tag}.lock"


def _find_lock(course_root: Path, reqs: Requirements, cache: Path, version: str) -> str:
    """The lock of these requirements: beside them, else an earlier resolution here."""
    for path in (course_root / LOCK_FILE, _resolved_path(cache, reqs, version)):
        if path.is_file():
            text = path.read_text(encoding="utf-8")
            if lock_matches(text, reqs) and python_tag(version) in text:
                return text
    return ""


def _from_meta(course_root: Path, reqs: Requirements, lock: str, folder: Path) -> Environment:
    meta = json.loads((folder / META_FILE).read_text(encoding="utf-8"))
    return Environment(
        course_root=course_root, declared=reqs.declared, source=reqs.source, lock=lock,
        key=folder.name, path=folder, python=str(folder / "bin" / "python"),
        packages=tuple(sorted((n, v) for n, v in meta["distributions"].items())),
        modules=frozenset(meta["modules"]), top_level=meta["top_level"])


def load_environment(course_root: str | Path, *, cache_dir: Path | None = None) -> Environment:
    """The course's environment as built on this machine (``python == ""`` when not built).

    Raises
    ------
    EnvironmentFileError
        If ``environment/requirements.txt`` has lines pip cannot read.
    """
    root = Path(course_root).resolve()
    cache = Path(cache_dir).resolve() if cache_dir else default_cache_dir()
    reqs = read_requirements(root)
    version = _python_version(_envbuild.base_python(reqs))
    lock = _find_lock(root, reqs, cache, version)
    if not lock:
        return Environment(root, reqs.declared, reqs.source)
    folder = cache / lock_key(lock)
    if not (folder / META_FILE).is_file():
        return Environment(root, reqs.declared, reqs.source, lock=lock, key=folder.name)
    return _from_meta(root, reqs, lock, folder)


def require_environment(course_root: str | Path, *,
                        cache_dir: Path | None = None) -> Environment:
    """The environment a batch must run on; call it before the first run.

    A course with ``environment/requirements.txt`` must have it built; a course without one
    runs on the default ML set when that was built (``grader sandbox build COURSE``), else on
    the grader's own virtualenv (``python == ""``: the caller keeps its interpreter).

    Raises
    ------
    EnvironmentNotBuilt
        If the course declares an environment that is not built here (with the command to
        type).
    EnvironmentFileError
        If the requirements file cannot be read.
    """
    env = load_environment(course_root, cache_dir=cache_dir)
    if env.declared and not env.built:
        why = (_why_no_lock(env) if not env.lock else
               f"its lock {LOCK_FILE} is not installed in {cache_dir or default_cache_dir()}")
        raise EnvironmentNotBuilt(
            f"the course environment ({REQUIREMENTS_FILE}) is not built: {why}",
            hint=f"build it once (later runs work offline): {env.build_command()}")
    return env


def _why_no_lock(env: Environment) -> str:
    """Why no lock fits: the requirements changed since the lock beside them, or no build."""
    path = env.course_root / LOCK_FILE
    if path.is_file():
        text = path.read_text(encoding="utf-8", errors="replace")
        reqs = read_requirements(env.course_root)
        if not lock_matches(text, reqs):
            locked = next((ln.split()[2] for ln in text.splitlines()
                           if ln.startswith("# python ") and len(ln.split()) > 2), "")
            if reqs.python and locked and not (locked + ".").startswith(reqs.python + "."):
                return (f"{PYTHON_FILE} asks for Python {reqs.python} and {LOCK_FILE} was "
                        f"resolved for Python {locked} (build again to resolve it for the "
                        "new version)")
            return (f"{REQUIREMENTS_FILE} changed since {LOCK_FILE} was resolved from it "
                    "(build again to resolve and install the new requirements)")
        return f"{LOCK_FILE} was resolved for another Python or platform than this machine's"
    return "it was never built on this machine"


def build_environment(course_root: str | Path, *, cache_dir: Path | None = None,
                      upgrade: bool = False, log=None) -> BuildResult:
    """Resolve the course's requirements (once) and build the environment (once per lock).

    Parameters
    ----------
    course_root : path
        The course folder; ``environment/requirements.lock`` is written there once the
        environment is installed (a failed install leaves none, and the next build retries).
    cache_dir : Path, optional
        Where environments live, one folder per lock hash; default ``default_cache_dir()``.
    upgrade : bool, default=False
        Resolve again even when a lock of these requirements exists (newer versions).
    log : callable, optional
        Receives one line per step (``print`` for the CLI).

    Raises
    ------
    EnvironmentFileError
        Naming the requirement line pip cannot parse, find or satisfy.
    """
    say = log or (lambda _msg: None)
    started = time.monotonic()
    root = Path(course_root).resolve()
    cache = Path(cache_dir).resolve() if cache_dir else default_cache_dir()
    reqs = read_requirements(root)
    if reqs.declared and not reqs.lines:
        # allowed (a course may want the standard library only), but rarely meant
        say(f"note: {reqs.source} lists no packages: programs get Python's standard library "
            "only (no numpy); delete the file for the default ML set")
    base = _envbuild.base_python(reqs)
    version = _python_version(base)
    lock = "" if upgrade else _find_lock(root, reqs, cache, version)
    resolved = not lock
    if resolved:
        say(f"resolving {reqs.source} for Python {version}")
        pins, version = _envbuild.resolve(reqs, base, root)
        lock = format_lock(reqs, pins, version)
    if reqs.declared and reqs.lines:
        dropped = _defaults_left_out(lock)
        if dropped:
            # a requirements.txt replaces the default set: "add xgboost to it" taken to the
            # letter gave a file of one line, and every student's "import pandas" failed
            say(f"note: {reqs.source} replaces the default ML set; these of its packages are "
                f"not in this environment: {', '.join(dropped)} (list them in the file too if "
                "students may import them)")
    folder = cache / lock_key(lock)
    built = False
    if not (folder / META_FILE).is_file():
        cache.mkdir(parents=True, exist_ok=True)
        with open(cache / f"{folder.name}.building", "w") as guard:
            fcntl.flock(guard, fcntl.LOCK_EX)  # a parallel build of the same lock waits here
            if not (folder / META_FILE).is_file():
                say(f"installing {len(lock_pins(lock))} packages into {folder}")
                _install(lock, folder, base, reqs, root)
                built = True
    # only now: a failed install leaves no lock behind that looks built, and is retried
    if resolved:
        _write(_resolved_path(cache, reqs, version), lock)
    _write_lock(root, lock)
    env = _from_meta(root, reqs, lock, folder)
    return BuildResult(env, built, resolved, round(time.monotonic() - started, 1))


def _defaults_left_out(lock: str) -> list[str]:
    """The default ML set's packages that ``lock`` holds neither as listed nor as a dependency."""
    pinned = {canonicalize_name(n) for n, _ in lock_pins(lock)}
    return [r for r in DEFAULT_REQUIREMENTS if canonicalize_name(Requirement(r).name) not in pinned]


def _install(lock: str, folder: Path, base: str, reqs: Requirements, root: Path) -> None:
    """Install ``lock`` into ``folder``, check it and write the metadata last."""
    if folder.exists():
        shutil.rmtree(folder)  # an interrupted build
    t = time.monotonic()
    try:
        _envbuild.install(lock, folder, base, reqs, root)
        info = _envbuild.probe(str(folder / "bin" / "python"))
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    want = {canonicalize_name(n): v for n, v in lock_pins(lock)}
    have = {canonicalize_name(n): v for n, v in info["distributions"].items()}
    if want != have:
        shutil.rmtree(folder, ignore_errors=True)
        diff = sorted(set(want.items()) ^ set(have.items()))
        raise EnvironmentFileError(
            "the built environment differs from its lock", problems=[f"{n}=={v}" for n, v in diff],
            hint=f"build again with '{_envbuild.build_command(root, '--upgrade')}'")
    info["lock"] = lock
    info["build_s"] = round(time.monotonic() - t, 1)
    _write(folder / META_FILE, json.dumps(info, indent=1, sort_keys=True))


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + f".{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def _write_lock(root: Path, lock: str) -> None:
    """The lock beside the requirements (kept in the cache too when the course is read-only)."""
    path = root / LOCK_FILE
    if path.is_file() and path.read_text(encoding="utf-8") == lock:
        return
    try:
        _write(path, lock)
    except OSError:
        pass  # the cache's copy under resolved/ serves this machine


# --- what a run can import ---------------------------------------------------------------------

def _meta_of(python: str) -> dict | None:
    meta = Path(python).parent.parent / META_FILE
    if meta.is_file():
        return json.loads(meta.read_text(encoding="utf-8"))
    return None


@functools.lru_cache(maxsize=16)
def importable_modules(python: str) -> frozenset[str]:
    """Every top-level module ``python`` can import (its environment's, else probed once)."""
    meta = _meta_of(python)
    if meta is None:
        try:
            p = subprocess.run([python, "-I", "-c", _envbuild.PROBE], capture_output=True,
                               text=True, timeout=120)
            meta = json.loads(p.stdout) if p.returncode == 0 else {"modules": []}
        except (OSError, subprocess.SubprocessError, ValueError):
            meta = {"modules": []}
    return frozenset(meta["modules"])


@functools.lru_cache(maxsize=16)
def masked_paths(python: str) -> tuple[str, ...]:
    """Folders the sandbox hides for ``python``: its base interpreter's own site-packages,
    and the system Pythons' package folders.

    Only for a course environment (made without the system site-packages): the base prefix is
    bound for the standard library, but the packages installed there are not the course's.
    """
    meta = _meta_of(python)
    if not meta:
        return ()
    # and the system's other Pythons' packages (Debian's python3 keeps yaml, six, pip in
    # /usr/lib/python3/dist-packages): a program could put them on sys.path itself
    system = sorted({*glob.glob("/usr/lib/python3/dist-packages"),
                     *glob.glob("/usr/lib/python3*/site-packages"),
                     *glob.glob("/usr/local/lib/python3*/dist-packages"),
                     *glob.glob("/usr/local/lib/python3*/site-packages")})
    return tuple(dict.fromkeys(p for p in (*meta.get("masked", []), *system)
                               if os.path.isdir(p) and not _holds(python, p)))


def _holds(python: str, folder: str) -> bool:
    """Whether ``folder`` is (inside) the course environment ``python`` belongs to."""
    env = os.path.dirname(os.path.dirname(os.path.abspath(python)))
    return os.path.abspath(folder).startswith(env + os.sep)


def dependency_only_modules(env: Environment) -> dict[str, tuple[str, str]]:
    """Top-level modules a built environment provides only as a dependency of a declared
    requirement: module -> ``(its distribution, the declared requirement bringing it)``.

    ``{"scipy": ("scipy", "scikit-learn")}`` when the course lists scikit-learn but not scipy.
    Read from the installed distributions' metadata (no network); ``{}`` when not built.
    """
    if not env.built or env.path is None:
        return {}
    declared = [Requirement(r).name for _, r in read_requirements(env.course_root).lines]
    origin = _depends.brought_in_by(env.path, declared)
    wanted = {canonicalize_name(n) for n in declared}
    out: dict[str, tuple[str, str]] = {}
    for module, dists in sorted(env.top_level.items()):
        names = [(d, canonicalize_name(d)) for d in dists]
        if any(c in wanted for _, c in names):
            continue
        found = next(((d, origin[c]) for d, c in names if c in origin), None)
        if found:
            out[module] = found
    return out


def provided_modules(python: str, code_dir: Path) -> frozenset[str] | None:
    """What a run may import: ``python``'s modules plus the submission's own (None: unknown)."""
    mods = importable_modules(python)
    if not mods:
        return None
    return mods | local_modules(code_dir)
