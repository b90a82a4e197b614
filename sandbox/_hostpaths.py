"""Host paths out of what a student reads: a run's one-line message and its error tail.

The sandbox binds the interpreter's folders at their host paths (the grader's virtualenv,
the course environment in its cache folder, pyenv's versions), so a traceback or an
``ImportError`` names them; the ``none`` backend and the executors run in the grader's own
temporary folders. The verdict's ``message`` and ``error_tail`` (stored, shown on the
student's page and in the feedback e-mail) name them neutrally instead; ``stderr`` (the
instructor's ``runs/<student>/stderr.txt``) keeps them whole.

Examples
--------
>>> names = {"/srv/envs/ab12": ENVIRONMENT, "/opt/py311": PYTHON}
>>> hide_host_paths("ImportError: cannot import name 'x' from 'numpy' "
...                 "(/srv/envs/ab12/lib/python3.11/site-packages/numpy/__init__.py)", names)
"ImportError: cannot import name 'x' from 'numpy' (<course environment>/lib/python3.11/site-packages/numpy/__init__.py)"
"""  # noqa: E501 - a doctest line

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Mapping

__all__ = ["ENVIRONMENT", "PYTHON", "SUBMISSION", "OUTPUT", "DATA", "GRADER",
           "hide_host_paths", "runtime_names"]

#: the environment students' programs run on (a course environment, or the grader's venv)
ENVIRONMENT = "<course environment>"
#: the interpreter that environment was made from (the standard library lives there)
PYTHON = "<python>"
SUBMISSION = "<submission>"
OUTPUT = "<output>"
DATA = "<data>"
#: any other folder of the grader's own
GRADER = "<grader folder>"

_PART = r"[^/\s'\"]+"  # one path component
#: the runners' temporary folders: the sandbox's workspaces, the executors' copies, staged data
_TEMP = re.compile(
    re.escape(tempfile.gettempdir().rstrip("/")) + rf"/gradebox-(?:(data)/{_PART}|"
    rf"(?:sandbox/)?{_PART}(?:/(code|out|output)(?=/|\b))?)")


def _temp_name(m: re.Match[str]) -> str:
    if m.group(1):
        return DATA
    return {"code": SUBMISSION, "out": OUTPUT, "output": OUTPUT}.get(m.group(2) or "", GRADER)


def runtime_names(prefix: str, base_prefix: str, *extra: str) -> dict[str, str]:
    """The neutral name of each folder of a run's interpreter (as given and resolved).

    Parameters
    ----------
    prefix, base_prefix : str
        The interpreter's ``sys.prefix`` (its environment) and ``sys.base_prefix``.
    *extra : str
        Other folders of that interpreter (e.g. the real executable's), named ``<python>``.
    """
    pairs = [(base_prefix, PYTHON), *((e, PYTHON) for e in extra)]
    if prefix and os.path.realpath(prefix) != os.path.realpath(base_prefix or "/"):
        pairs.append((prefix, ENVIRONMENT))  # last: a venv inside the base is the venv
    names: dict[str, str] = {}
    for path, name in pairs:
        for variant in {os.path.abspath(path), os.path.realpath(path)} if path else ():
            if variant != "/":
                names[variant] = name
    return names


def hide_host_paths(text: str, names: Mapping[str, str]) -> str:
    """``text`` with each host folder of ``names`` (and the runners' temporary folders)
    replaced by its neutral name; the longest folder wins, and only whole path components
    match (``/opt/py`` does not touch ``/opt/python``)."""
    if not text:
        return text
    text = _TEMP.sub(_temp_name, text)
    folders = sorted((p.rstrip("/") for p in names if p.rstrip("/")), key=len, reverse=True)
    if not folders:
        return text
    pattern = re.compile(r"(?<![\w.~/-])(" + "|".join(map(re.escape, folders)) + r")(?![\w.~-])")
    by_folder = {p.rstrip("/"): n for p, n in names.items()}
    return pattern.sub(lambda m: by_folder[m.group(1)], text)
