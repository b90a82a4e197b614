"""A course's ``environment/requirements.txt`` (or the default ML set), checked line by line,
and the lock file of what was resolved from it.

Every line must be one requirement in pip's syntax (``name``, ``name==1.2``, ``name>=1,<2``,
markers allowed); pip options (``-r``, ``-e``, ``--index-url``) are refused with the line,
because the build must not depend on anything outside the file. URLs (``name @ URL``,
``git+https://...``) are refused too: the lock pins ``name==version`` from the package index, so
the environment would not hold what the URL names (pip then failed, or installed the index's
build of that name).
"""

from __future__ import annotations

import hashlib
import platform
import sys
from dataclasses import dataclass
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from sandbox.errors import SandboxError

REQUIREMENTS_FILE = "environment/requirements.txt"
LOCK_FILE = "environment/requirements.lock"
PYTHON_FILE = "environment/python-version"

#: What students' programs may import when the course declares nothing (README, "course
#: environment"). torch is pinned: 2.13.0 is the CPU wheel; an unpinned torch may resolve to a
#: multi-GB CUDA build.
DEFAULT_REQUIREMENTS: tuple[str, ...] = (
    "numpy", "pandas", "scikit-learn", "scipy", "torch==2.13.0", "pillow",
    "opencv-python-headless", "scikit-image", "matplotlib", "tqdm",
)
_LOCK_HEADER = "# gradebox course environment: resolved by `grader sandbox build`; do not edit"


_URL_REFUSED = ("a URL is not supported here: the lock pins versions from the package index, so "
                "the environment would not hold what the URL names; name a released version "
                "(e.g. requests==2.32.3), or publish the package on the index pip is "
                "configured with")


class EnvironmentFileError(SandboxError):
    """``environment/requirements.txt`` (or ``python-version``) cannot be used as written."""

    reference = "course-environment"


@dataclass(frozen=True)
class Requirements:
    """The requirements of a course environment, each with the line it came from.

    Attributes
    ----------
    source : str
        ``"environment/requirements.txt"`` or ``"the default ML set"``.
    declared : bool
        True when the course folder has ``environment/requirements.txt``.
    lines : tuple of (int, str)
        ``(line number, requirement text)``; line numbers are 0 for the default set.
    python : str
        The Python version asked for in ``environment/python-version`` (``""``: the grader's).
    """

    source: str
    declared: bool
    lines: tuple[tuple[int, str], ...]
    python: str = ""

    def text(self) -> str:
        """The requirements as a pip requirements file."""
        return "".join(f"{req}\n" for _, req in self.lines)

    def digest(self) -> str:
        """A fixed hash of what is asked for (order and comments do not matter)."""
        norm = sorted(str(Requirement(r)) for _, r in self.lines)
        payload = "\n".join([*norm, f"python={self.python}"])
        return hashlib.blake2b(payload.encode(), digest_size=16).hexdigest()

    def where(self, name: str) -> str:
        """``file:line  text`` of the requirement naming the distribution ``name``, or ``""``."""
        want = canonicalize_name(name)
        for lineno, req in self.lines:
            if canonicalize_name(Requirement(req).name) == want:
                return f"{self.source}:{lineno}  {req}" if lineno else f"{self.source}: {req}"
        return ""


def read_requirements(course_root: Path) -> Requirements:
    """The course's requirements, every line checked (all problems reported at once).

    Raises
    ------
    EnvironmentFileError
        If a line is not a requirement pip accepts, is a pip option, or names a distribution
        twice; or if ``environment/python-version`` is not a version like ``3.11``.
    """
    path = course_root / REQUIREMENTS_FILE
    python = _read_python_version(course_root)
    if not path.is_file():
        return Requirements("the default ML set", False,
                            tuple((0, r) for r in DEFAULT_REQUIREMENTS), python)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise EnvironmentFileError(f"cannot read {REQUIREMENTS_FILE}: {exc}",
                                   hint="save it as UTF-8 text, one package per line") from None
    lines: list[tuple[int, str]] = []
    problems: list[str] = []
    seen: dict[str, int] = {}
    for lineno, raw in enumerate(text.splitlines(), 1):
        line = raw.split(" #", 1)[0].strip()
        if not line or line.startswith("#"):
            continue
        where = f"{REQUIREMENTS_FILE}:{lineno}  {line}"
        if line.startswith("-"):
            problems.append(f"{where}\n    pip options are not supported here: list one package "
                            "per line, e.g. numpy==2.1 (indexes come from pip's own configuration)")
            continue
        try:
            req = Requirement(line)
        except InvalidRequirement as exc:
            req, reason = None, str(exc).splitlines()[0]
        if "://" in line.split(";", 1)[0] or (req is not None and req.url):
            problems.append(f"{where}\n    {_URL_REFUSED}")
            continue
        if req is None:
            problems.append(f"{where}\n    not a requirement pip can read ({reason}); write e.g. "
                            "scikit-image==0.26.0 or numpy>=2,<3")
            continue
        name = canonicalize_name(req.name)
        if name in seen:
            problems.append(f"{where}\n    {req.name} is already listed on line {seen[name]}: "
                            "keep one line per package")
            continue
        seen[name] = lineno
        lines.append((lineno, line))
    if problems:
        raise EnvironmentFileError(f"{REQUIREMENTS_FILE} has {len(problems)} problem(s)",
                                   problems=problems,
                                   hint="fix the lines shown, then run 'grader sandbox build "
                                        f"{course_root}'")
    return Requirements(REQUIREMENTS_FILE, True, tuple(lines), python)


def _read_python_version(course_root: Path) -> str:
    path = course_root / PYTHON_FILE
    if not path.is_file():
        return ""
    version = path.read_text(encoding="utf-8", errors="replace").strip()
    parts = version.split(".")
    if not (2 <= len(parts) <= 3 and all(p.isdigit() for p in parts) and parts[0] == "3"):
        raise EnvironmentFileError(
            f"{PYTHON_FILE} holds {version!r}, not a Python version",
            hint="write a version such as 3.11 (or delete the file to use the grader's Python)")
    return version


# --- the lock file ----------------------------------------------------------------------------

def python_tag(version: str) -> str:
    """What the lock depends on besides the packages: Python version, platform, machine."""
    return f"python {version} {sys.platform} {platform.machine()}"


def format_lock(reqs: Requirements, pins: list[tuple[str, str]], python_version: str) -> str:
    """The lock file's text: a header tying it to the requirements, then ``name==version``."""
    rows = sorted(pins, key=lambda p: canonicalize_name(p[0]))
    return "\n".join([
        _LOCK_HEADER,
        f"# requirements: {reqs.digest()}  ({reqs.source})",
        f"# {python_tag(python_version)}",
        *(f"{name}=={version}" for name, version in rows),
    ]) + "\n"


def lock_matches(lock_text: str, reqs: Requirements) -> bool:
    """Was ``lock_text`` resolved from exactly these requirements?"""
    return f"# requirements: {reqs.digest()} " in lock_text


def lock_pins(lock_text: str) -> list[tuple[str, str]]:
    """``(name, version)`` of every pinned line of a lock file."""
    pins = []
    for line in lock_text.splitlines():
        if line and not line.startswith("#") and "==" in line:
            name, _, version = line.partition("==")
            pins.append((name.strip(), version.strip()))
    return pins


def lock_key(lock_text: str) -> str:
    """The environment's cache key: a hash of the pins and the Python/platform line."""
    body = [ln for ln in lock_text.splitlines()
            if ln and (not ln.startswith("#") or ln.startswith("# python "))]
    return hashlib.blake2b("\n".join(body).encode(), digest_size=10).hexdigest()
