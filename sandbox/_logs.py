"""Bounded capture of stdout/stderr: keep the head and the tail, count what was dropped.

A submission may print 500 MB; the grader keeps ``limit`` bytes in memory whatever it
prints, and nothing goes to disk until the verdict is written.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from typing import BinaryIO


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
        """The kept bytes as text, with a marker where bytes were dropped."""
        with self._lock:
            keep = self.limit - self.limit // 2
            tail = bytes(self._tail[-keep:]) if keep else b""
            head = bytes(self._head)
            dropped = self.total - len(head) - len(tail)
        if dropped > 0:
            mid = f"\n[... {dropped} bytes omitted by the grader ...]\n".encode()
            return (head + mid + tail).decode("utf-8", errors="replace")
        return (head + tail).decode("utf-8", errors="replace")


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
