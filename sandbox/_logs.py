r"""Bounded capture of stdout/stderr: keep the head and the tail, count what was dropped.

A submission may print 500 MB; the grader keeps ``limit`` bytes in memory whatever it
prints, and nothing goes to disk until the verdict is written.

The kept text is made safe to print (:func:`log_safe`): an instructor who ``cat``s or
``less -R``s ``runs/<student>/stdout.txt`` must not have a hostile program act on their
terminal (OSC 52 clipboard writes, window titles, cursor moves that hide lines, clear-screen).
The rule, applied by ``BoundedLog.text`` to every backend's logs:

- colour and style sequences (SGR, ``ESC [ ... m``) are dropped: they carry no text, and
  text they hide (concealed, black on black) then shows;
- every other control character, C0 and C1 alike (ESC, BEL, NUL, backspace, DEL, the 8-bit
  CSI ``\x9b``...), plus the Unicode line and paragraph separators and the bidi overrides,
  is shown as a visible escape (``\x1b``, ``\x07``, ``\u202e``), so the attempt stays on
  record as inert text;
- newline and tab are kept; CRLF becomes LF and a lone CR ends the line (progress bars use
  it; it can no longer overwrite the line before it).

``Limits.log_kb`` still bounds the bytes kept from the program; each control byte becomes at
most four characters, so a stored log is at most four times that in the worst case.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable
from typing import BinaryIO

#: colour/style sequences: dropped (no content of their own)
_SGR = re.compile(r"\x1b\[[0-9;:]*m")
#: everything a terminal may act on, or that reorders or forges lines, but LF and TAB
_UNSAFE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029"
                     r"\u202a-\u202e\u2066-\u2069]")


def _visible(m: re.Match[str]) -> str:
    code = ord(m.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def log_safe(text: str) -> str:
    r"""``text`` (a run's stdout or stderr) safe to print on a terminal, lines kept.

    Colour sequences are dropped, CRLF and lone CR become LF, and every other control
    character is shown as a backslash escape (see the module docstring).

    Examples
    --------
    >>> log_safe("\x1b]52;c;ZXZpbA==\x07ok \x1b[31mred\x1b[0m\r\n\tdone")
    '\\x1b]52;c;ZXZpbA==\\x07ok red\n\tdone'
    """
    if not _UNSAFE.search(text):  # the common case, and fast
        return text
    text = _SGR.sub("", text).replace("\r\n", "\n").replace("\r", "\n")
    return _UNSAFE.sub(_visible, text)


class BoundedLog:
    """A byte sink that keeps the first ``limit // 2`` and the last ``limit // 2`` bytes.

    Parameters
    ----------
    limit : int
        Most bytes kept in total (head plus tail).
    """

    def __init__(self, limit: int):
        self.limit = limit
        self._head = bytearray()
        self._tail = bytearray()
        self.total = 0
        self._lock = threading.Lock()

    def feed(self, chunk: bytes) -> None:
        with self._lock:
            self.total += len(chunk)
            head_room = self.limit // 2 - len(self._head)
            if head_room > 0:
                self._head += chunk[:head_room]
                chunk = chunk[head_room:]
            if not chunk:
                return
            keep = self.limit - self.limit // 2
            self._tail += chunk[-keep:] if keep else b""
            # trim lazily so that many small writes stay O(n) overall
            if len(self._tail) > 2 * keep:
                del self._tail[: len(self._tail) - keep]

    @property
    def truncated(self) -> bool:
        return self.total > self.limit

    def text(self) -> str:
        """The kept bytes as text safe to print (:func:`log_safe`), with a marker where bytes
        were dropped."""
        with self._lock:
            keep = self.limit - self.limit // 2
            tail = bytes(self._tail[-keep:]) if keep else b""
            head = bytes(self._head)
            dropped = self.total - len(head) - len(tail)
        if dropped > 0:
            mid = f"\n[... {dropped} bytes omitted by the grader ...]\n".encode()
            return log_safe((head + mid + tail).decode("utf-8", errors="replace"))
        return log_safe((head + tail).decode("utf-8", errors="replace"))


def drain_stream(stream: BinaryIO, log: BoundedLog, chunk: int = 1 << 16) -> None:
    """Read ``stream`` to its end into ``log`` (run in a thread)."""
    try:
        while True:
            data = stream.read1(chunk) if hasattr(stream, "read1") else stream.read(chunk)
            if not data:
                break
            log.feed(data)
    except (OSError, ValueError):
        pass  # the pipe was closed under us while stopping the run
    finally:
        try:
            stream.close()
        except OSError:
            pass


def drain_pairs(pairs: Iterable[tuple[bytes | None, bytes | None]], out: BoundedLog,
                err: BoundedLog) -> None:
    """Consume a demultiplexed ``(stdout, stderr)`` stream (Docker's attach) into two logs."""
    try:
        for o, e in pairs:
            if o:
                out.feed(o)
            if e:
                err.feed(e)
    except Exception:  # noqa: BLE001 - the connection drops when the container is killed
        pass


def start_drain(target, *args) -> threading.Thread:
    t = threading.Thread(target=target, args=args, daemon=True, name="sandbox-log")
    t.start()
    return t
