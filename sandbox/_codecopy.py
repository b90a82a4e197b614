"""Copy a submission into the sandbox: folders and regular files with one link, nothing else.

A symbolic link, a hard link (a second name of a file elsewhere, e.g. the hidden labels),
a fifo, a socket or a device in a submission folder is refused before anything is copied,
and the run becomes an ``error`` verdict that says which entry and how to fix it. Files are
opened with ``O_NOFOLLOW`` and checked again with ``fstat`` while they are copied, so a swap
between the check and the copy is refused too.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

_FIX = "copy the files themselves into the submission folder (cp, not ln or cp -l)"

#: what operating systems, editors and tools leave in a folder, never the student's code:
#: not copied into the sandbox, and not checked (a link inside .git refused the whole run)
JUNK_NAMES = frozenset({".DS_Store", "Thumbs.db", "desktop.ini", ".git", ".ipynb_checkpoints",
                        "__MACOSX", ".idea", ".vscode", "__pycache__"})


class CodeRefused(Exception):
    """A submission folder holds entries that are not plain folders or single-link files."""

    def __init__(self, name: str, problems: list[str]) -> None:
        self.problems = problems
        self.message = (f"not run: {name}'s submission holds {', '.join(problems)}; only "
                        f"regular files with one link are copied into the sandbox; {_FIX}")
        super().__init__(self.message)


def _problem(rel: str, st: os.stat_result) -> str | None:
    if stat.S_ISLNK(st.st_mode):
        return f"{rel} (a symbolic link)"
    if stat.S_ISDIR(st.st_mode):
        return None
    if not stat.S_ISREG(st.st_mode):
        return f"{rel} (not a regular file)"
    if st.st_nlink != 1:
        return f"{rel} (a hard link: one of {st.st_nlink} names of the same file)"
    return None


def refused_entries(src: Path) -> list[str]:
    """Every entry of ``src`` that may not be copied, with why (empty: all may be)."""
    problems: list[str] = []
    for root, dirs, files in os.walk(src, followlinks=False):
        dirs[:] = [d for d in dirs if d not in JUNK_NAMES]
        for name in sorted(dirs + [f for f in files if f not in JUNK_NAMES]):
            path = os.path.join(root, name)
            bad = _problem(os.path.relpath(path, src), os.lstat(path))
            if bad:
                problems.append(bad)
    return problems


def copy_code(src: Path, dst: Path, name: str) -> None:
    """Copy the submission folder ``src`` into the existing folder ``dst``.

    Raises
    ------
    CodeRefused
        If ``src`` holds anything but folders and regular files with one link (checked
        before the first byte is copied, and again on each open file).
    """
    problems = refused_entries(src)
    if problems:
        raise CodeRefused(name, problems)
    for root, dirs, files in os.walk(src, followlinks=False):
        dirs[:] = [d for d in dirs if d not in JUNK_NAMES]
        rel = os.path.relpath(root, src)
        target = dst if rel == "." else dst / rel
        for d in dirs:
            (target / d).mkdir(exist_ok=True)
        for f in files:
            if f in JUNK_NAMES:
                continue
            _copy_file(os.path.join(root, f), target / f, os.path.join(rel, f), name)


def _copy_file(path: str, target: Path, rel: str, name: str) -> None:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError as exc:
        raise CodeRefused(name, [f"{os.path.normpath(rel)} (cannot be opened: {exc.strerror})"]
                          ) from exc
    with os.fdopen(fd, "rb") as fin:
        bad = _problem(os.path.normpath(rel), os.fstat(fd))
        if bad:
            raise CodeRefused(name, [bad])
        with open(target, "xb") as fout:
            while buf := fin.read(1 << 20):
                fout.write(buf)
