"""Reading what a run left behind, as untrusted data: never through a link, never unpickled.

Examples
--------
>>> data = read_submission_csv(Path("runs/ana/output"), max_bytes=1 << 20)  # doctest: +SKIP
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

from diagnostics.text import terminal_safe
from sandbox.errors import SandboxError

SUBMISSION_CSV = "submission.csv"
#: the verdict's note for a predictions file left in the working folder (a copy thrown away
#: after the run): the commonest way to miss $GRADER_OUTPUT
MISPLACED_NOTE = "submission.csv written to the working folder, not to $GRADER_OUTPUT"


class OutputError(SandboxError):
    """The run's ``submission.csv`` cannot be read; ``message`` is meant for the student.

    Attributes
    ----------
    reason : str
        One of ``missing``, ``link``, ``not_regular``, ``too_large``, ``unreadable``.
    """

    reference = "invalid-output"

    def __init__(self, message: str, *, reason: str, hint: str | None = None):
        super().__init__(message, hint=hint)
        self.reason = reason


def read_submission_csv(output_dir: Path, max_bytes: int) -> bytes:
    """The bytes of ``output_dir/submission.csv``, if it is a regular file of at most ``max_bytes``.

    The file is checked with ``lstat`` (no link, a regular file, small enough), opened with
    ``O_NOFOLLOW | O_NONBLOCK`` and checked again with ``fstat`` on the open descriptor (so a
    file swapped in between is caught), and at most ``max_bytes + 1`` bytes are read.

    Parameters
    ----------
    output_dir : Path
        The run's output folder on the host (``spec.output_dir``).
    max_bytes : int
        The largest accepted size.

    Raises
    ------
    OutputError
        With ``reason`` ``missing``, ``link``, ``not_regular``, ``too_large`` or ``unreadable``.
    """
    path = Path(output_dir) / SUBMISSION_CSV
    hint = "write a plain CSV file to os.path.join(os.environ['GRADER_OUTPUT'], 'submission.csv')"
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        others = _other_csv_files(Path(output_dir))
        found = (f" (it holds {', '.join(others)}: the predictions must be in a file named "
                 "exactly submission.csv, at the folder's top)" if others else "")
        raise OutputError(f"no submission.csv was written to $GRADER_OUTPUT{found}",
                          reason="missing", hint=hint) from None
    _check(st, max_bytes, hint)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise OutputError("submission.csv is a link, not a file", reason="link",
                              hint=hint) from None
        raise OutputError(f"submission.csv cannot be opened ({exc.strerror})",
                          reason="unreadable", hint=hint) from None
    with os.fdopen(fd, "rb") as f:
        st2 = os.fstat(f.fileno())
        _check(st2, max_bytes, hint)
        if (st2.st_dev, st2.st_ino) != (st.st_dev, st.st_ino):
            raise OutputError("submission.csv changed while it was being read",
                              reason="unreadable", hint=hint)
        data = f.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise OutputError(f"submission.csv is larger than {max_bytes} bytes",
                          reason="too_large", hint="write one row per test id, nothing else")
    return data


def _check(st: os.stat_result, max_bytes: int, hint: str) -> None:
    if stat.S_ISLNK(st.st_mode):
        raise OutputError("submission.csv is a link, not a file; links are never followed",
                          reason="link", hint=hint)
    if not stat.S_ISREG(st.st_mode):
        raise OutputError("submission.csv is not a regular file", reason="not_regular",
                          hint=hint)
    if st.st_size > max_bytes:
        raise OutputError(
            f"submission.csv is {st.st_size} bytes, more than the limit of {max_bytes}",
            reason="too_large", hint="write one row per test id, nothing else")


def _other_csv_files(output_dir: Path, most: int = 5) -> list[str]:
    """CSV files the run left in its output folder or one folder down (``predictions.csv``,
    ``Submission.csv``, ``output/submission.csv``), named as shown to the student: a wrong
    name got only "no submission.csv was written"."""
    found: list[str] = []
    try:
        with os.scandir(output_dir) as top:
            entries = sorted(top, key=lambda e: e.name)
        for e in entries:
            if e.is_symlink():
                continue
            if e.is_file() and e.name.lower().endswith(".csv"):
                found.append(e.name)
            elif e.is_dir():
                with os.scandir(e.path) as inner:
                    found += sorted(f"{e.name}/{i.name}" for i in inner
                                    if i.name.lower().endswith(".csv") and not i.is_symlink()
                                    and i.is_file())
            if len(found) >= most:
                break
    except OSError:
        pass
    return [terminal_safe(n) for n in found[:most]]
