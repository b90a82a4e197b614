"""Building a course environment with pip: resolve, install from the lock, probe.

pip runs from the grader's own interpreter against the environment's (``pip --python``), so
the environment itself holds no pip: students' programs cannot install anything, and the
environment holds exactly the locked distributions.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

from sandbox._pyenv import pyenv_problem
from sandbox._requirements import EnvironmentFileError, Requirements

#: run with the environment's interpreter (``-I``): its distributions, the top-level modules
#: each provides (``top_level.txt``, else the RECORD's first path parts) and every module it
#: can import, plus the site folders of the interpreter it was made from
PROBE = r"""
import importlib.metadata as md, json, pkgutil, platform, sys
dists, top = {}, {}
for d in md.distributions():
    name = d.metadata["Name"]
    if not name:
        continue
    dists[name] = d.version
    mods = set()
    text = d.read_text("top_level.txt")
    if text:
        mods = {m.strip() for m in text.split() if m.strip()}
    else:
        for f in d.files or ():
            first = f.parts[0]
            if first.endswith((".dist-info", ".data", ".pth")) or first in ("..", "bin"):
                continue
            if len(f.parts) > 1:
                mods.add(first)
            elif first.endswith((".py", ".so", ".pyd")):
                mods.add(first.split(".")[0])
    for m in sorted(mods):
        if m.isidentifier() and m != "__pycache__":
            top.setdefault(m, []).append(name)
modules = set(sys.builtin_module_names) | set(getattr(sys, "stdlib_module_names", ()))
modules |= {m.name for m in pkgutil.iter_modules()}
print(json.dumps({"distributions": dists, "top_level": top, "modules": sorted(modules),
                  "python": platform.python_version(), "prefix": sys.prefix,
                  "base_prefix": sys.base_prefix}))
"""
_SITE_PROBE = "import json,site;print(json.dumps(site.getsitepackages()))"
_NOT_FOUND = re.compile(r"(?:Could not find a version that satisfies the requirement|"
                        r"No matching distribution found for) ([A-Za-z0-9._-]+)")
_CONFLICT = re.compile(r"The conflict is caused by:(.*?)(?:\n\n|To fix)", re.S)


def base_python(reqs: Requirements) -> str:
    """The interpreter the environment is made from: ``python-version``'s, else the grader's.

    Raises
    ------
    EnvironmentFileError
        If ``environment/python-version`` asks for a Python that is not installed here.
    """
    own = getattr(sys, "_base_executable", sys.executable)
    if not reqs.python:
        return own
    mine = ".".join(map(str, sys.version_info[:3]))
    if mine == reqs.python or mine.rsplit(".", 1)[0] == reqs.python:
        return own
    found = shutil.which(f"python{'.'.join(reqs.python.split('.')[:2])}")
    if not found:
        raise EnvironmentFileError(
            f"environment/python-version asks for Python {reqs.python}, which is not installed "
            "on this machine",
            hint=f"install it (e.g. apt-get install python{reqs.python}) or delete "
                 "environment/python-version to use the grader's Python "
                 f"{sys.version_info.major}.{sys.version_info.minor}")
    p = subprocess.run([found, "-I", "-c", "import platform;print(platform.python_version())"],
                       capture_output=True, text=True, timeout=60)
    if p.returncode != 0:  # e.g. a pyenv shim with no version selected that provides it
        setting = f"environment/python-version ({reqs.python})"
        message, hint = pyenv_problem(found, p.stderr, setting, "put {bin} first on PATH") or (
            f"{setting} selects {found}, which does not start (exit code {p.returncode}): "
            f"{(p.stderr.strip().splitlines() or ['no message'])[-1][:200]}",
            "install a working Python of that version, or delete environment/python-version "
            "to use the grader's own")
        raise EnvironmentFileError(message, hint=hint)
    if reqs.python.count(".") == 2:  # a patch release asked for: python3.X may be another one
        have = p.stdout.strip()
        if have != reqs.python:
            minor = ".".join(reqs.python.split(".")[:2])
            raise EnvironmentFileError(
                f"environment/python-version asks for Python {reqs.python}, but this machine's "
                f"Python {minor} ({found}) is {have}",
                hint=f"write {minor} in environment/python-version to accept any Python "
                     f"{minor}, or install Python {reqs.python}")
    return found


def _pip(target_python: str, *args: str, timeout: float = 3600) -> subprocess.CompletedProcess:
    """``pip --python target ...`` from the grader's interpreter, output captured.

    pip re-runs itself under the target interpreter, a grandchild ``subprocess.run`` would
    not kill: so it runs in a session of its own, and on any way out but the end (Ctrl-C,
    SIGTERM, the timeout) the whole session is killed. (Killed alone, the outer pip left the
    inner one installing into the environment's folder, and the next build failed on it.)
    """
    cmd = [sys.executable, "-m", "pip", "--python", target_python,
           "--disable-pip-version-check", "--no-input", *args]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    try:
        out, err = proc.communicate(timeout=timeout)
    except BaseException:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except OSError:
            pass
        proc.wait()
        raise
    return subprocess.CompletedProcess(cmd, proc.returncode, out, err)


def make_venv(base: str, folder: Path) -> str:
    """A bare virtual environment (no pip) at ``folder``; returns its interpreter."""
    subprocess.run([base, "-m", "venv", "--without-pip", str(folder)], check=True,
                   capture_output=True, timeout=300)
    return str(folder / "bin" / "python")


def build_command(course_root: str | Path, *options: str) -> str:
    """The command that builds this course's environment, with its real folder.

    Examples
    --------
    >>> build_command("/srv/ml course", "--upgrade")
    "grader sandbox build '/srv/ml course' --upgrade"
    """
    return shlex.join(["grader", "sandbox", "build", str(course_root), *options])


def resolve(reqs: Requirements, base: str,
            course_root: str | Path) -> tuple[list[tuple[str, str]], str]:
    """What pip would install for ``reqs`` on ``base`` (a dry run, nothing installed).

    Returns ``(pins, python_version)``.

    Raises
    ------
    EnvironmentFileError
        Naming the requirement line pip could not satisfy.
    """
    with tempfile.TemporaryDirectory(prefix="gradebox-resolve-") as tmp:
        python = make_venv(base, Path(tmp) / "venv")
        req_file, report = Path(tmp) / "requirements.txt", Path(tmp) / "report.json"
        req_file.write_text(reqs.text(), encoding="utf-8")
        p = _pip(python, "install", "--dry-run", "--ignore-installed", "--quiet",
                 "--report", str(report), "-r", str(req_file))
        if p.returncode != 0 or not report.is_file():
            raise pip_failure(p.stdout + p.stderr, reqs, "resolving", course_root)
        data = json.loads(report.read_text(encoding="utf-8"))
        version = json.loads(subprocess.run(
            [python, "-I", "-c", "import json,platform;print(json.dumps(platform.python_version()))"],
            capture_output=True, text=True, check=True, timeout=60).stdout)
    pins = [(i["metadata"]["name"], i["metadata"]["version"]) for i in data.get("install", [])]
    return pins, version


def install(lock_text: str, folder: Path, base: str, reqs: Requirements,
            course_root: str | Path) -> None:
    """Create the environment at ``folder`` and install exactly the lock's pins into it."""
    python = make_venv(base, folder)
    lock = folder / "requirements.lock"
    lock.write_text(lock_text, encoding="utf-8")
    p = _pip(python, "install", "--no-deps", "--quiet", "--no-warn-script-location",
             "-r", str(lock))
    if p.returncode != 0:
        raise pip_failure(p.stdout + p.stderr, reqs, "installing", course_root)


def probe(python: str) -> dict:
    """The environment's distributions, top-level modules and importable modules (see PROBE)."""
    p = subprocess.run([python, "-I", "-c", PROBE], capture_output=True, text=True, timeout=300)
    if p.returncode != 0:
        raise EnvironmentFileError(f"the built environment's Python does not start: "
                                   f"{p.stderr.strip()[-400:]}",
                                   hint="delete the environment folder and build again")
    info = json.loads(p.stdout)
    base = subprocess.run([str(Path(info["base_prefix"]) / "bin" / "python3"), "-I", "-c",
                           _SITE_PROBE], capture_output=True, text=True, timeout=60)
    # the base interpreter's own packages: hidden in the sandbox (not on the course's list)
    info["masked"] = json.loads(base.stdout) if base.returncode == 0 else []
    return info


def pip_failure(output: str, reqs: Requirements, stage: str,
                course_root: str | Path) -> EnvironmentFileError:
    """pip's failure as one error naming the requirement line it could not satisfy, and the
    command to build again with the course's real folder."""
    again = build_command(course_root)
    lines = [ln for ln in output.splitlines() if "is ignored: it is neither" not in ln]
    text = "\n".join(lines)
    missing = _NOT_FOUND.search(text)
    if missing:
        name = re.split(r"[<>=!~;\[ ]", missing.group(1))[0]
        where = reqs.where(name) or f"{reqs.source}: {name} (needed by another package)"
        versions = re.search(r"\(from versions: ([^)]*)\)", text)
        known = versions.group(1).strip() if versions else ""
        latest = ", ".join(known.split(", ")[-8:])
        why = (f"no such version available here; the latest available: {latest}"
               if known and known != "none"
               else "no such package on the package index (a typo?)")
        if stage == "installing":  # the lock's pin, resolved elsewhere or on another index
            pin = re.search(r"(?:satisfies the requirement|distribution found for) (\S+)", text)
            if not (known and known != "none"):
                why = "not available from this machine's package index now"
            return EnvironmentFileError(
                f"pip cannot install {name} ({stage} the course environment): the course's "
                "requirements.lock pins it",
                problems=[f"requirements.lock: {pin.group(1) if pin else name}\n    {why}"],
                hint=f"make it available to pip (its package index, or PIP_FIND_LINKS), "
                     f"then build again: {again}; or, for a lock resolved on another machine "
                     f"or index, resolve it again here: {build_command(course_root, '--upgrade')}")
        # a name that does not exist has no project page: point at the search instead
        look = (f"pypi.org/project/{name} lists the versions" if known and known != "none"
                else f"check the spelling: pypi.org/search/?q={name}")
        return EnvironmentFileError(
            f"pip cannot install {name} ({stage} the course environment)",
            problems=[f"{where}\n    {why}"],
            hint=f"fix the line in {reqs.source} ({look}), then build again: {again}")
    conflict = _CONFLICT.search(text)
    detail = conflict.group(1).strip() if conflict else "\n".join(lines[-8:])
    return EnvironmentFileError(
        f"pip failed while {stage} the course environment from {reqs.source}",
        problems=[ln for ln in detail.splitlines() if ln.strip()][:12],
        hint=f"relax or fix the versions in {reqs.source} (pip's message above), then build "
             f"again: {again}")
