"""Python-aware normalisation: source text -> an abstract token stream with source positions.

Identifiers become ``ID`` (keywords and builtins such as ``print`` or ``range`` stay, since a
disguise rarely renames them), numbers ``NUM`` and strings ``STR``; comments, docstrings and
layout-only tokens leave the structural stream. Each token keeps the lines it spans, as
Dolos's ``tokenizeWithMapping`` keeps a region per token, so matches map back to line ranges.

Comments, docstrings and unusual string literals (prose, long messages) are kept apart as a
second signal: a copied comment is strong evidence of copying.

Nothing is ever dropped: unreadable bytes are decoded with replacement, huge files are cut at
a byte limit, and the lexer (``lex``: ``tokenize``'s token kinds and layout rules in one regular
expression, checked against ``tokenize`` in the tests) accepts code that ``tokenize`` rejects.
"""

from __future__ import annotations

import builtins
import keyword
import os
import re
import token
import tokenize
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from diagnostics.source import source_encoding

__all__ = ["NormalizedFile", "read_source", "read_bounded", "decode_source", "normalize_source",
           "normalize_lines", "normalize_comment", "token_stream", "TOKEN_CHAR",
           "CHAR_TOKEN"]

_KEYWORDS = frozenset(keyword.kwlist) | frozenset(keyword.softkwlist)
_BUILTINS = frozenset(n for n in dir(builtins) if not n.startswith("_"))
# Tokens that only carry layout (or nothing): never part of the structural stream.
# Each normalised token is also one character (a closed vocabulary), so the token stream is a
# string: the string kernel runs over token n-grams, and the cache stores one short string.
_VOCAB = sorted(_KEYWORDS | _BUILTINS | set(token.EXACT_TOKEN_TYPES)
                | {"ID", "NUM", "STR", "NL", "IN", "DE", "?"})
TOKEN_CHAR: dict[str, str] = {t: chr(0x4E00 + i) for i, t in enumerate(_VOCAB)}
CHAR_TOKEN: dict[str, str] = {c: t for t, c in TOKEN_CHAR.items()}
UNKNOWN_CHAR = chr(0x4E00 + len(_VOCAB))
TOKEN_CHAR_BASE = 0x4E00


def token_stream(tokens: list[str]) -> str:
    """The tokens as one string of their characters (``TOKEN_CHAR``)."""
    try:
        return "".join(map(TOKEN_CHAR.__getitem__, tokens))  # every token known: a C loop
    except KeyError:
        get = TOKEN_CHAR.get
        return "".join([get(t, UNKNOWN_CHAR) for t in tokens])
_SKIP = {tokenize.NL, tokenize.ENCODING, tokenize.ENDMARKER, tokenize.COMMENT}
_STRUCT = {tokenize.NEWLINE: "NL", tokenize.INDENT: "IN", tokenize.DEDENT: "DE"}


@dataclass
class NormalizedFile:
    """One source file, normalised.

    Attributes
    ----------
    name : str
        The file's name inside its submission (e.g. ``main.py`` or ``pkg/model.py``).
    text : str
        The (possibly cut) decoded text.
    tokens : list of str
        The structural stream: ``ID``, ``NUM``, ``STR``, keywords, builtins, operators,
        ``NL`` (end of statement), ``IN``/``DE`` (block start/end).
    lines : list of tuple of int
        ``(first_line, last_line)`` (1-based) of each token.
    comments : list of tuple of (int, str, str)
        ``(line, normalised_text, original_text)`` of each comment, docstring and unusual string.
    words : list of str
        The lexical signal: identifier sub-words (``trainLoader`` -> ``train``, ``loader``),
        number literals as written and every string literal's normalised text (except
        docstrings, which are comments).
    notes : list of str
        What was done to read the file (not UTF-8, cut, syntax error fallback, ...).
    """

    name: str
    text: str
    tokens: list[str] = field(default_factory=list)
    lines: list[tuple[int, int]] = field(default_factory=list)
    comments: list[tuple[int, str, str]] = field(default_factory=list)
    words: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def read_source(path: Path, max_bytes: int) -> tuple[str, list[str]]:
    """Read a file as text, whatever it holds, bounded to ``max_bytes``.

    Parameters
    ----------
    path : Path
        The file.
    max_bytes : int
        At most this many bytes are read; a longer file is cut (at a line end if possible).

    Returns
    -------
    text : str
        UTF-8 text; undecodable bytes become U+FFFD, NUL bytes are removed.
    notes : list of str
        One short sentence per repair made.
    """
    return decode_source(read_bounded(path, max_bytes), max_bytes)


def read_bounded(path: Path, max_bytes: int) -> bytes:
    """The first ``max_bytes + 1`` bytes of a file (all of a shorter one)."""
    with open(path, "rb") as fh:
        # read(n) allocates n bytes before reading: ask for the file's size instead of a
        # megabyte per small file (a file that grew meanwhile is read on to the bound).
        size = os.fstat(fh.fileno()).st_size
        data = fh.read(min(max_bytes + 1, size + 1))
        if len(data) > size:
            data += fh.read(max_bytes + 1 - len(data))
    return data


def decode_source(data: bytes, max_bytes: int) -> tuple[str, list[str]]:
    """``read_source`` on bytes already read (``max_bytes + 1`` of them tell a longer file)."""
    notes: list[str] = []
    if len(data) > max_bytes:
        data = data[:max_bytes]
        cut = data.rfind(b"\n")
        if cut > max_bytes // 2:
            data = data[: cut + 1]
        notes.append(f"longer than {max_bytes} bytes; only the first {len(data)} were compared")
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    if b"\x00" in data:
        notes.append("contains NUL bytes (binary?); compared as text without them")
        data = data.replace(b"\x00", b"")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        # a coding line (PEP 263: '# -*- coding: latin-1 -*-') is how Python reads the file
        encoding = source_encoding(data)
        try:
            text = data.decode(encoding)
        except (UnicodeDecodeError, LookupError):
            # a Windows editor's 8-bit file: read it in the course's code page, so its
            # identifiers match a UTF-8 copy's letter for letter (U+FFFD in a name would
            # break the parse and hide the copy's structure); Latin-1 reads anything else
            try:
                text, name = data.decode("cp1250"), "Windows-1250"
            except UnicodeDecodeError:
                text, name = data.decode("latin-1"), "Latin-1"
            notes.append(f"not valid UTF-8; read as {name}")
    return text, notes


def normalize_comment(text: str) -> str:
    """Comparable form of a comment or string: lower case, words only, single spaces."""
    return " ".join(re.findall(r"[^\W_]+", text.lower()))


def _is_prose(s: str) -> bool:
    """A comment/string worth comparing: at least three words or 24 letters/digits."""
    words = s.split()
    return len(words) >= 3 or len(s.replace(" ", "")) >= 24


def _string_body(tok: str) -> str:
    """The content of a string literal token, without prefix and quotes; an f-string's
    replacement fields left out (they are code, which the token stream sees: as text,
    ``f"{data_dir}/train.csv"`` read as the prose "data dir train csv", and two students'
    file paths were 'shared rare strings' that doubled an honest pair's score)."""
    m = re.match(r"(?is)^([rbuf]*)('''|\"\"\"|'|\")(.*)$", tok)
    if not m:
        return tok
    prefix, q, body = m.group(1), m.group(2), m.group(3)
    body = body[: -len(q)] if body.endswith(q) else body
    return _without_fields(body) if "f" in prefix.lower() else body


def _without_fields(body: str) -> str:
    """An f-string's literal text: ``{...}`` fields (nested ones too) removed, ``{{`` and
    ``}}`` kept as the braces they write."""
    if "{" not in body and "}" not in body:
        return body
    out: list[str] = []
    depth = 0
    i, n = 0, len(body)
    while i < n:
        c = body[i]
        if depth == 0 and body[i:i + 2] in ("{{", "}}"):
            out.append(c)
            i += 2
            continue
        if c == "{":
            depth += 1
        elif c == "}" and depth:
            depth -= 1
        elif depth == 0:
            out.append(c)
        i += 1
    return "".join(out)


_SUBWORD = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|[0-9]+")


def name_words(name: str) -> list[str]:
    """Lower-case sub-words of an identifier: ``trainLoader_2`` -> ``train``, ``loader``."""
    return [w.lower() for w in _SUBWORD.findall(name) if len(w) > 1 and not w.isdigit()]


@lru_cache(maxsize=1 << 16)
def _name_info(s: str) -> tuple[str, tuple[str, ...]]:
    """A name's token (itself for keywords and builtins, else ``ID``) and its sub-words."""
    if s in _KEYWORDS or s in _BUILTINS:
        return s, ()
    return "ID", tuple(name_words(s))


# ``_name_info`` of the names seen (a dict look-up costs a third of the lru_cache call, and
# names are half the tokens); filled up to _KNOWN_NAMES_MAX names, then only the lru_cache.
_KNOWN_NAMES: dict[str, tuple[str, tuple[str, ...]]] = {}
_KNOWN_NAMES_MAX = 1 << 16

# The lexer. One regular expression in the spirit of ``tokenize`` (same token kinds, same
# INDENT/DEDENT/NEWLINE rules), but several times faster, and it never fails: unbalanced
# brackets, bad indentation, unterminated strings and Python 2 all still give tokens. On valid
# code it yields the same stream as ``tokenize`` (tested on hundreds of files).
_LEX = re.compile(
    r"""
    [ \t\f\r]*  # blanks before a token go with it: half as many matches to loop over
    (?:(\#[^\r\n]*)
  | ((?:[rRbBuUfF]{1,2})?(?:'''[^'\\]*(?:(?:\\.|'(?!''))[^'\\]*)*(?:'''|\Z)
        |\"\"\"[^"\\]*(?:(?:\\.|"(?!""))[^"\\]*)*(?:\"\"\"|\Z)
        |'[^'\\\n]*(?:\\.[^'\\\n]*)*'?|"[^"\\\n]*(?:\\.[^"\\\n]*)*"?))
  | ((?:0[xXoObB][0-9a-fA-F_]+|[0-9][0-9_]*(?:\.[0-9_]*)?(?:[eE][+-]?[0-9_]+)?
        |\.[0-9][0-9_]*(?:[eE][+-]?[0-9_]+)?)[jJ]?)
  | ([^\W\d]\w*)
  | (\*\*=|//=|>>=|<<=|\.\.\.|->|:=|[-+*/%&|^@=<>!]=|\*\*|//|<<|>>|[-+*/%&|^~@=<>.,:;()\[\]{}])
  | (\r?\n)
  | (\\\r?\n|[ \t\f\r]+)  # a line continuation, or blanks at the very end
  | (.))
    """,
    re.VERBOSE | re.DOTALL,
)
_GROUP_TYPE = {1: tokenize.COMMENT, 2: tokenize.STRING, 3: tokenize.NUMBER, 4: tokenize.NAME,
               5: tokenize.OP, 8: tokenize.ERRORTOKEN}
_OPEN, _CLOSE = frozenset("([{"), frozenset(")]}")


def normalize_source(text: str, name: str = "<string>", notes: list[str] | None = None
                     ) -> NormalizedFile:
    """Normalise Python source text into the structural stream and the comment signal.

    Parameters
    ----------
    text : str
        Source code (any content: invalid code falls back to a tolerant lexer).
    name : str, default="<string>"
        The file's name inside its submission, kept for the evidence.
    notes : list of str, optional
        Notes from reading the file, carried over.

    Returns
    -------
    NormalizedFile

    Examples
    --------
    >>> normalize_source("total = price * 2  # double it\\n").tokens
    ['ID', '=', 'ID', '*', 'NUM', 'NL']
    """
    nf, firsts, spans = normalize_lines(text, name, notes)
    nf.lines = [(n, n) for n in firsts]
    for i, last in spans:
        nf.lines[i] = (firsts[i], last)
    return nf


def normalize_lines(text: str, name: str = "<string>", notes: list[str] | None = None
                    ) -> tuple[NormalizedFile, list[int], list[tuple[int, int]]]:
    """``normalize_source`` with the token lines in a flat form, without a tuple per token.

    Returns
    -------
    nf : NormalizedFile
        With ``lines`` empty.
    firsts : list of int
        The first line of each token; its last line is the same,
    spans : list of tuple of (int, int)
        except for these ``(token index, last line)`` (strings over several lines).
    """
    nf = NormalizedFile(name=name, text=text, notes=list(notes or []))
    # ``lex`` and the normalisation in one loop (no intermediate token list): the same
    # layout rules as ``lex``, checked against it in the tests.
    tokens, words, comments = nf.tokens, nf.words, nf.comments
    firsts: list[int] = []
    spans: list[tuple[int, int]] = []
    add_token, add_line = tokens.append, firsts.append
    opening, closing, name_info = _OPEN, _CLOSE, _name_info
    known_names = _KNOWN_NAMES
    names_get = known_names.get
    line, depth, indents, bol = 1, 0, [0], True
    prev_struct = True  # at the start of a statement (a bare string there is a docstring)
    # A string at the start of a statement is a docstring when a NEWLINE comes next (comments
    # aside): until then it waits here as (line span, normalised text, body, comments index).
    pending: tuple[int, int, str, str, int] | None = None
    for m in _LEX.finditer(text):
        g = m.lastindex
        if g == 4:  # a name: the commonest token first
            if bol or pending is not None:
                prev_struct = _layout(nf, firsts, spans, m.start(4), text, line, indents, bol,
                                      pending, prev_struct)
                bol, pending = False, None
            s = m[4]
            info = names_get(s)
            if info is None:
                info = name_info(s)
                if len(known_names) < _KNOWN_NAMES_MAX:
                    known_names[s] = info
            tok, ws = info
            if ws:
                words += ws
            add_token(tok)
            add_line(line)
            prev_struct = False
            continue
        if g == 5:
            if bol or pending is not None:
                prev_struct = _layout(nf, firsts, spans, m.start(5), text, line, indents, bol,
                                      pending, prev_struct)
                bol, pending = False, None
            tok = m[5]
            if tok in opening:
                depth += 1
            elif tok in closing and depth:
                depth -= 1
            add_token(tok)
            add_line(line)
            prev_struct = False
            continue
        if g == 6:
            if depth == 0 and not bol:
                if pending is not None:  # a docstring: it and its NEWLINE leave the stream
                    _docstring(comments, pending)
                    pending = None
                else:
                    add_token("NL")
                    add_line(line)
                    prev_struct = True
            line += 1
            bol = depth == 0
            continue
        if g == 7:
            if m[7][0] == "\\":
                line += 1
            continue
        s = m[g]
        if g == 1:
            body = s.lstrip("#").strip()
            norm = normalize_comment(body)
            if norm and _is_prose(norm):
                comments.append((line, norm, body))
            continue
        if bol or pending is not None:
            prev_struct = _layout(nf, firsts, spans, m.start(g), text, line, indents, bol,
                                  pending, prev_struct)
            bol, pending = False, None
        if g == 2:
            first = line
            line += s.count("\n")
            body = _string_body(s)
            norm = normalize_comment(body)
            if prev_struct:
                pending = (first, line, norm, body, len(comments))
                continue
            if norm and _is_prose(norm):
                comments.append((first, norm, body.strip()[:200]))
            if line != first:
                spans.append((len(tokens), line))
            add_token("STR")
            add_line(first)
            if norm:
                words.append("s:" + norm[:100])
        elif g == 3:
            add_token("NUM")
            add_line(line)
            words.append("n:" + s.lower())
        else:
            add_token("?")  # stray characters ($, ?, backticks): kept so positions stay honest
            add_line(line)
        prev_struct = False
    if not bol:
        if pending is not None:
            _docstring(comments, pending)
        else:
            add_token("NL")
            add_line(line)
    for _ in indents[1:]:
        add_token("DE")
        add_line(line)
    return nf, firsts, spans


def _docstring(comments: list[tuple[int, str, str]], pending: tuple[int, int, str, str, int]
               ) -> None:
    """A pending string turned out to be a docstring: only its comment entry stays."""
    first, _, norm, body, at = pending
    if norm:
        comments.insert(at, (first, norm, body.strip()[:200]))


def _layout(nf: NormalizedFile, firsts: list[int], spans: list[tuple[int, int]], start: int,
            text: str, line: int, indents: list[int], bol: bool,
            pending: tuple[int, int, str, str, int] | None, prev_struct: bool) -> bool:
    """Before a token (starting at ``start``): the pending string (not a docstring, as a token
    follows it on the same logical line) and, at the beginning of a line, INDENT/DEDENT
    tokens. Returns whether the token starts a statement."""
    if pending is not None:
        first, last, norm, body, at = pending
        if norm and _is_prose(norm):
            nf.comments.insert(at, (first, norm, body.strip()[:200]))
        if last != first:
            spans.append((len(nf.tokens), last))
        nf.tokens.append("STR")
        firsts.append(first)
        if norm:
            nf.words.append("s:" + norm[:100])
        prev_struct = False
    if bol:  # the same indentation rules as ``lex``
        prefix = text[text.rfind("\n", 0, start) + 1 : start]
        col = len(prefix.expandtabs(8)) if "\t" in prefix else len(prefix)
        if col > indents[-1]:
            indents.append(col)
            nf.tokens.append("IN")
            firsts.append(line)
            prev_struct = True
        while col < indents[-1]:
            indents.pop()
            nf.tokens.append("DE")
            firsts.append(line)
            prev_struct = True
        if col > indents[-1]:  # dedent to a column never opened: tolerate it
            indents.append(col)
    return prev_struct
