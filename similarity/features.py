"""Per-file features, computed once per file content and cacheable by content hash.

A ``FileFeatures`` holds everything the engine needs from one file: the normalised token
stream with line spans, the comment signal, the whitespace-collapsed text and the AST bag.
With a cache folder, features are stored as JSON under the blake2b hash of the file's bytes
(and of the engine's feature version), so a late submission is compared with the whole class
without re-reading anyone else's files.
"""

from __future__ import annotations

import gc
import hashlib
import json
import os
import sys
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from similarity.ast_features import ast_feature_counts, parse_tolerant
from similarity.canonical import canonical_streams
from similarity.normalize import (
    CHAR_TOKEN,
    UNKNOWN_CHAR,
    decode_source,
    normalize_lines,
    read_bounded,
    token_stream,
)

__all__ = ["FileFeatures", "extract_file", "extract_text", "FEATURE_VERSION"]

FEATURE_VERSION = "11"  # bump when normalisation or features change: old cache entries retire


@dataclass
class FileFeatures:
    """Features of one source file (see module docstring)."""

    name: str
    digest: str
    tokens: list[str]
    lines: np.ndarray  # (n_tokens, 2) int32: first and last line of each token
    comments: list[tuple[int, str, str]]
    text: str  # whitespace runs collapsed to one space
    line_texts: list[str]  # each source line, whitespace-collapsed (for template removal)
    ast_keys: np.ndarray  # int64 feature hashes
    ast_counts: np.ndarray  # int32 counts
    words: list[str] = field(default_factory=list)  # lexical signal (see normalize)
    stream: str = ""  # the tokens as one string, one character each (normalize.TOKEN_CHAR)
    canon: str = ""  # the normalised statement stream (``canonical.canonical_stream``)
    canon_defs: str = ""  # every function's body, normalised (subtracted when a template)
    notes: list[str] = field(default_factory=list)

    def to_json(self) -> dict:
        # Tokens as one string of their characters when the vocabulary covers them (fast
        # to load), else as a list.
        toks = self.stream if UNKNOWN_CHAR not in self.stream else self.tokens
        return {"v": FEATURE_VERSION, "tokens": toks, "lines": self.lines.ravel().tolist(),
                "comments": self.comments, "line_texts": self.line_texts,
                "ast_keys": self.ast_keys.tolist(), "ast_counts": self.ast_counts.tolist(),
                "words": self.words, "canon": self.canon,
                "canon_defs": self.canon_defs, "notes": self.notes}

    @classmethod
    def from_json(cls, name: str, digest: str, d: dict) -> FileFeatures:
        lt = d["line_texts"]
        toks = d["tokens"]
        tokens = [CHAR_TOKEN[c] for c in toks] if isinstance(toks, str) else toks
        return cls(name=name, digest=digest, tokens=tokens, stream=token_stream(tokens),
                   lines=np.asarray(d["lines"], dtype=np.int32).reshape(-1, 2),
                   comments=[tuple(c) for c in d["comments"]],
                   text=" ".join(t for t in lt if t), line_texts=lt,
                   ast_keys=np.asarray(d["ast_keys"], dtype=np.int64),
                   ast_counts=np.asarray(d["ast_counts"], dtype=np.int32), words=d["words"],
                   canon=d["canon"], canon_defs=d["canon_defs"], notes=d["notes"])


def _digest(data: bytes, max_bytes: int, functions: bool = False) -> str:
    h = hashlib.blake2b(digest_size=16)
    # The Python version is part of the key: its keywords and builtins shape the tokens.
    h.update(f"gradebox-similarity-features:{FEATURE_VERSION}:{max_bytes}:{int(functions)}:"
             f"{sys.version_info[0]}.{sys.version_info[1]}\0".encode())
    h.update(data)
    return h.hexdigest()


_gc_lock = threading.Lock()
_gc_pausers = 0  # threads inside _gc_paused; the first turns the collector off, the last on
_gc_was_enabled = False


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Cyclic GC off for the duration (process-wide, so counted across threads: one thread's
    file done does not turn it back on under another's)."""
    global _gc_pausers, _gc_was_enabled
    with _gc_lock:
        if _gc_pausers == 0:
            _gc_was_enabled = gc.isenabled()
            gc.disable()
        _gc_pausers += 1
    try:
        yield
    finally:
        with _gc_lock:
            _gc_pausers -= 1
            if _gc_pausers == 0 and _gc_was_enabled:
                gc.enable()


def extract_text(text: str, name: str = "<string>", notes: list[str] | None = None,
                 digest: str = "", functions: bool = False) -> FileFeatures:
    """Features of source text.

    Parameters
    ----------
    text : str
        Python source (anything; invalid code is handled, see ``normalize_source``).
    name : str, default="<string>"
        The file's name inside its submission.
    notes : list of str, optional
        Notes from reading the file.
    digest : str, default=""
        The content hash, when known.
    functions : bool, default=False
        Also normalise every function's body on its own (``canon_defs``): for starter code,
        whose helpers are subtracted wherever a student inlines them.

    Returns
    -------
    FileFeatures
    """
    # A file's syntax tree and token tuples make no reference cycles (reference counting
    # frees them), but the thousands of nodes ast.parse allocates set off cyclic collections
    # that traverse the whole heap, a third of the time per file once the engine's imports
    # (numpy, pandas) are loaded. So the collector waits until the file is done.
    with _gc_paused():
        nf, firsts, spans = normalize_lines(text, name, notes)
        tree, note = parse_tolerant(text)
        if note and not any(n.startswith("not valid Python") for n in nf.notes):
            nf.notes.append(note)
        summaries: dict = {}  # each statement's names and effects, for the canonical stream
        counts = ast_feature_counts(tree, summaries)
        canon, canon_defs = canonical_streams(tree, text, functions=functions,
                                              summaries=summaries)
        del tree, summaries
    keys = np.fromiter(counts.keys(), dtype=np.int64, count=len(counts))
    values = np.fromiter(counts.values(), dtype=np.int32, count=len(counts))
    order = np.argsort(keys)  # keys are distinct: any sort gives the same order
    # " ".join(ln.split()) is the regex ``\s+`` -> " " and strip(), several times faster
    # (``str.split`` and ``re``'s ``\s`` agree on what is whitespace).
    line_texts = [" ".join(ln.split()) for ln in text.splitlines()]
    # Each token's (first, last) line: the first line twice, then the last lines of the
    # few tokens (strings) that span several.
    lines = np.empty((len(firsts), 2), dtype=np.int32)
    lines[:, 0] = lines[:, 1] = np.array(firsts, dtype=np.int32)
    for i, last in spans:
        lines[i, 1] = last
    return FileFeatures(
        name=name, digest=digest, tokens=nf.tokens, stream=token_stream(nf.tokens),
        lines=lines,
        comments=nf.comments, text=" ".join(t for t in line_texts if t),
        line_texts=line_texts, ast_keys=keys[order], ast_counts=values[order],
        words=nf.words, canon=canon, canon_defs=canon_defs, notes=nf.notes,
    )


def extract_file(path: Path, name: str, *, max_bytes: int,
                 cache_dir: Path | None = None, functions: bool = False) -> FileFeatures:
    """Features of one file, from the cache when its content was seen before.

    Parameters
    ----------
    path : Path
        The file (read bounded to ``max_bytes``).
    name : str
        Its name inside the submission, for the evidence.
    max_bytes : int
        Read limit (``SimilarityOptions.max_file_bytes``).
    cache_dir : Path, optional
        Folder of cached features (created if missing); entries are JSON, keyed by content.
    functions : bool, default=False
        See ``extract_text`` (part of the cache key).

    Returns
    -------
    FileFeatures
    """
    data = read_bounded(path, max_bytes)
    digest = _digest(data, max_bytes, functions)
    entry = cache_dir / digest[:2] / f"{digest}.json" if cache_dir is not None else None
    if entry is not None and entry.is_file():
        try:
            with open(entry, encoding="utf-8") as fh:
                d = json.load(fh)
            if d.get("v") == FEATURE_VERSION:
                return FileFeatures.from_json(name, digest, d)
        except (OSError, ValueError, KeyError, TypeError):
            pass  # a damaged cache entry is recomputed and overwritten
    text, notes = decode_source(data, max_bytes)  # the bytes hashed above, not read again
    ff = extract_text(text, name, notes, digest, functions)
    if entry is not None:
        entry.parent.mkdir(parents=True, exist_ok=True)
        # Write then rename, so a concurrent reader never sees half an entry.
        fd, tmp = tempfile.mkstemp(dir=entry.parent, suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(ff.to_json(), fh)
        os.replace(tmp, entry)
    return ff
