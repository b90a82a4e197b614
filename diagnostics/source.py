"""Python source bytes to text the way Python itself reads them (PEP 263).

A student's file is UTF-8 unless it says otherwise: a UTF-8 byte-order mark, or a coding
declaration (``# -*- coding: latin-1 -*-``) on its first or second line. Python runs such a
file; intake accepts it, and the code pages and the import check read it in its own encoding.
"""

from __future__ import annotations

import io
import tokenize

__all__ = ["source_encoding", "decode_source_bytes"]


def source_encoding(data: bytes) -> str:
    """The encoding Python reads ``data`` in: the coding declaration's, ``utf-8-sig`` after a
    byte-order mark, else ``utf-8``. A declaration Python rejects (an unknown codec, or one that
    contradicts the byte-order mark) gives ``utf-8``: the bytes then have to be UTF-8."""
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    except SyntaxError:
        return "utf-8"
    return encoding


def decode_source_bytes(data: bytes, errors: str = "strict") -> str:
    """``data`` decoded in its :func:`source_encoding` (``errors`` as for ``bytes.decode``).

    Raises
    ------
    UnicodeDecodeError
        With ``errors="strict"``, where the bytes are not in that encoding.
    """
    return data.decode(source_encoding(data), errors)
