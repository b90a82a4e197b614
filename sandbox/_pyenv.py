"""A pyenv shim that cannot run: pyenv's own text turned into one message naming the setting.

``python3.12`` on ``PATH`` is often pyenv's shim (``~/.pyenv/shims/python3.12``). When the
Python version pyenv selects for the grader's user does not provide it, the shim prints
pyenv's advice about ``pyenv global`` and exits 127; when the selected version is not
installed, it says so. Either way the instructor set an interpreter (``environment/
python-version``, ``[sandbox] python``) and needs to know which setting to change and how.
"""

from __future__ import annotations

import re
from pathlib import Path

__all__ = ["pyenv_problem"]

_NOT_FOUND = re.compile(r"^pyenv: ([\w.+-]+): command not found", re.M)
_NOT_INSTALLED = re.compile(r"^pyenv: version [`'\"]([^'`\"]+)['`\"] is not installed"
                            r"(?: \(set by ([^)]+)\))?", re.M)
_VERSIONS = re.compile(r"exists in these Python versions:\n((?:[ \t]+\S+\n?)+)")


def pyenv_problem(python: str, output: str, setting: str,
                  instead: str = "name the interpreter itself: {path}") -> tuple[str, str] | None:
    """``(message, hint)`` for a pyenv shim that failed with ``output``, or None.

    Parameters
    ----------
    python : str
        The interpreter as configured or found (``/root/.pyenv/shims/python3.12``).
    output : str
        What it printed (stderr) when started.
    setting : str
        Where the instructor chose it, e.g. ``"environment/python-version (3.12)"``.
    instead : str
        The other fix, with ``{path}`` (the installed interpreter) and ``{bin}`` (its folder).

    Examples
    --------
    >>> msg, hint = pyenv_problem("/home/t/.pyenv/shims/python3.12",
    ...     "pyenv: python3.12: command not found\\n\\nThe `python3.12' command exists in these "
    ...     "Python versions:\\n  3.12.1\\n\\nNote: See 'pyenv help global' for tips\\n",
    ...     "environment/python-version (3.12)")
    >>> msg
    'environment/python-version (3.12) selects python3.12, a pyenv shim, but no Python version pyenv has selected provides python3.12 (it is installed in: 3.12.1)'
    >>> hint.split(";")[0]
    'select it for the user running the grader (pyenv global <current> 3.12.1, or PYENV_VERSION=3.12.1)'
    """  # noqa: E501 - doctest lines
    root = _pyenv_root(python)
    missing = _NOT_FOUND.search(output)
    if missing:
        command = missing.group(1)
        block = _VERSIONS.search(output)
        versions = block.group(1).split() if block else []
        where = f" (it is installed in: {', '.join(versions)})" if versions else ""
        message = (f"{setting} selects {command}, a pyenv shim, but no Python version pyenv "
                   f"has selected provides {command}{where}")
        if versions:
            v = versions[-1]
            full = f"{root}/versions/{v}/bin/{command}" if root else ""
            hint = (f"select it for the user running the grader (pyenv global <current> {v}, "
                    f"or PYENV_VERSION={v})" + ("; or " + instead.format(
                        path=full, bin=str(Path(full).parent)) if full else ""))
        else:
            hint = (f"install it (pyenv install {_minor(command) or '<version>'}), then select "
                    "it (pyenv global), or name an installed interpreter's full path")
        return message, hint
    absent = _NOT_INSTALLED.search(output)
    if absent:
        by = f", set by {absent.group(2)}" if absent.group(2) else ""
        message = (f"{setting} selects {Path(python).name}, a pyenv shim, but the Python "
                   f"version pyenv selects ({absent.group(1)}{by}) is not installed")
        hint = (f"pyenv install {absent.group(1)}, or select an installed version (pyenv "
                "versions lists them; pyenv global VERSION), or name an interpreter's full path")
        return message, hint
    return None


def _pyenv_root(python: str) -> str:
    """``~/.pyenv`` for ``~/.pyenv/shims/python3.12`` (``""`` when not a shim path)."""
    p = Path(python)
    return str(p.parent.parent) if p.parent.name == "shims" else ""


def _minor(command: str) -> str:
    m = re.search(r"(\d+\.\d+)$", command)
    return m.group(1) if m else ""
