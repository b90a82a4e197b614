"""Where submissions and sources come from: class folders, template, archive and web corpora.

A *submission* is one student's work: a single ``.py`` file or a folder of them (searched
recursively, symbolic links never followed). Archive and web corpora are folders whose
immediate children are submissions/sources, named ``archive:<name>`` and ``web:<name>``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from diagnostics.text import terminal_safe
from similarity.features import FileFeatures, extract_file

__all__ = ["Submission", "python_files", "load_submission", "children", "entries", "SOURCE_KINDS"]

SOURCE_KINDS = ("peer", "archive", "web")


@dataclass
class Submission:
    """One submission (or source) with the features of each of its files."""

    name: str
    kind: str  # "peer" (this year's class), "archive", "web" or "template"
    path: Path
    files: list[FileFeatures]
    notes: list[str] = field(default_factory=list)


def python_files(path: Path, max_files: int) -> tuple[list[tuple[Path, str]], list[str]]:
    """The ``.py`` files of a submission with their names inside it, and notes.

    A file is itself (whatever its suffix: it was named as a submission). A folder gives its
    ``.py`` files (``.PY`` too) in sorted order, skipping hidden files and folders,
    ``__pycache__``, ``__MACOSX`` and links.
    """
    notes: list[str] = []
    if path.is_file():
        # names as intake shows them (terminal_safe): bytes that are not UTF-8 (lone
        # surrogates, which no file, page or database holds) as \\xNN, bidi marks escaped;
        # the file is still read by its real path
        return [(path, terminal_safe(path.name))], notes
    found: list[tuple[Path, str]] = []
    links = 0
    for root, dirs, files in os.walk(path, followlinks=False):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".")
                         and d not in ("__pycache__", "__MACOSX"))
        for f in sorted(files):
            if f.startswith("."):  # macOS's ._main.py (resource forks), editors' swap files
                continue
            p = Path(root) / f
            if p.is_symlink():
                links += 1  # never followed: it may point anywhere on this machine
            elif f.lower().endswith(".py") and p.is_file():  # Main.PY too (Windows editors)
                found.append((p, terminal_safe(p.relative_to(path).as_posix())))
    if links:
        notes.append(f"{links} link(s) skipped (links are never followed)")
    found.sort(key=lambda t: t[1])
    if not found:
        notes.append("no .py file found")
    if len(found) > max_files:
        notes.append(f"{len(found)} .py files; only the first {max_files} were compared")
        found = found[:max_files]
    return found, notes


def load_submission(name: str, kind: str, path: Path, *, max_bytes: int, max_files: int,
                    cache_dir: Path | None = None) -> Submission:
    """Read and featurise one submission (cached by file content when ``cache_dir`` is set)."""
    files, notes = python_files(path, max_files)
    feats: list[FileFeatures] = []
    for p, fname in files:
        try:
            feats.append(extract_file(p, fname, max_bytes=max_bytes, cache_dir=cache_dir,
                                      functions=kind == "template"))
        except OSError as exc:  # unreadable file: kept as an empty file with a note
            notes.append(f"{fname}: could not be read ({exc.strerror or exc})")
    for f in feats:
        notes.extend(f"{f.name}: {n}" for n in f.notes)
    if feats and not any(f.tokens for f in feats):
        notes.append("no code (empty files): nothing to compare")
    return Submission(name=name, kind=kind, path=path, files=feats, notes=notes)


def entries(folder: Path) -> list[tuple[str, Path]]:
    """(submission name, path) of every immediate child of ``folder`` that is a submission,
    sorted by the child's name, a name twice where a ``.py`` file and a folder share it
    (``bo.py`` and ``bo/``): one directory listing, whose entries know their own type (no
    ``stat`` per child: a class of 500 took 0.03 s of stats on every run)."""
    out = []
    with os.scandir(folder) as it:
        for e in it:
            if e.name.startswith(".") or e.name == "__pycache__" or e.is_symlink():
                continue
            name = terminal_safe(e.name)  # a submission's name is text in every output
            if e.is_dir():
                out.append((name, name, Path(e.path)))
            elif e.name.lower().endswith(".py") and e.is_file():
                out.append((name, name[:-3], Path(e.path)))
    out.sort(key=lambda t: t[0])
    return [(name, path) for _, name, path in out]


def children(folder: Path) -> Mapping[str, Path]:
    """Immediate children of a corpus folder that are submissions: folders and ``.py`` files.

    Named by folder name or file stem (``.py`` in any case); hidden entries, links and other
    files are skipped. Of a file and a folder of one name the folder is kept (see
    :func:`entries` for both).
    """
    out: dict[str, Path] = {}
    for name, path in entries(folder):
        out.setdefault(name, path)
    return out
