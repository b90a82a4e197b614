"""Python-aware normalisation: source text -> an abstract token stream with source positions.

Identifiers become ``ID`` (keywords and builtins such as ``print`` or ``range`` stay, since a
disguise rarely renames them), numbers ``NUM`` and strings ``STR``; comments, docstrings and
layout-only tokens leave the structural stream. Each token keeps the lines it spans, as
Dolos's ``tokenizeWithMapping`` keeps a region per token, so matches map back to line ranges.

Comments, docstrings and unusual string literals (prose, long messages) are kept apart as a
second signal: a copied comment is strong evidence of copying.

Nothing is ever dropped: unreadable bytes are decoded with replacement, huge files are cut at
a byte limit, and code that ``tokenize`` rejects goes through a tolerant regular-expression
lexer that produces the same kinds of tokens.
"""

from __future__ import annotations

import builtins
import io
import keyword
import re
import tokenize
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["NormalizedFile", "read_source", "normalize_source", "normalize_comment"]

_KEYWORDS = frozenset(keyword.kwlist) | frozenset(keyword.softkwlist)
_BUILTINS = frozenset(n for n in dir(builtins) if not n.startswith("_"))
# Tokens that only carry layout (or nothing): never part of the structural stream.
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
    notes: list[str] = []
    with open(path, "rb") as fh:
        data = fh.read(max_bytes + 1)
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
        text = data.decode("utf-8", errors="replace")
        notes.append("not valid UTF-8; undecodable bytes replaced")
    return text, notes


def normalize_comment(text: str) -> str:
    """Comparable form of a comment or string: lower case, words only, single spaces."""
    return " ".join(re.findall(r"[^\W_]+", text.lower()))


def _is_prose(s: str) -> bool:
    """A comment/string worth comparing: at least three words or 24 letters/digits."""
    words = s.split()
    return len(words) >= 3 or len(s.replace(" ", "")) >= 24


def _string_body(tok: str) -> str:
    """The content of a string literal token, without prefix and quotes."""
    m = re.match(r"(?is)^[rbuf]*('''|\"\"\"|'|\")(.*)$", tok)
    if not m:
        return tok
    q, body = m.group(1), m.group(2)
    return body[: -len(q)] if body.endswith(q) else body


_SUBWORD = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|[0-9]+")


def name_words(name: str) -> list[str]:
    """Lower-case sub-words of an identifier: ``trainLoader_2`` -> ``train``, ``loader``."""
    return [w.lower() for w in _SUBWORD.findall(name) if len(w) > 1 and not w.isdigit()]


def _name_token(s: str) -> str:
    return s if s in _KEYWORDS or s in _BUILTINS else "ID"


def _python_tokens(text: str) -> list[tuple[int, str, int, int]]:
    """``(type, string, first_line, last_line)`` from the standard tokenizer (may raise)."""
    out = []
    for t in tokenize.generate_tokens(io.StringIO(text).readline):
        out.append((t.type, t.string, t.start[0], t.end[0]))
    return out


# A tolerant lexer for code that ``tokenize`` rejects (unbalanced brackets, bad indentation,
# unterminated strings, Python 2). Same token kinds; blocks from indentation of each line.
_LEX = re.compile(
    r"""
    (?P<comment>\#[^\n]*)
  | (?P<string>(?:[rRbBuUfF]{0,2})(?:'''[\s\S]*?(?:'''|$(?![\s\S]))|\"\"\"[\s\S]*?(?:\"\"\"|$(?![\s\S]))
        |'(?:\\.|[^'\\\n])*'?|"(?:\\.|[^"\\\n])*"?))
  | (?P<number>(?:0[xXoObB])?[0-9][0-9_]*(?:\.[0-9_]*)?(?:[eE][+-]?[0-9]+)?[jJ]?|\.[0-9][0-9_]*)
  | (?P<name>[^\W\d]\w*)
  | (?P<op>\*\*=|//=|>>=|<<=|\.\.\.|->|:=|[-+*/%&|^@=<>!]=|\*\*|//|<<|>>|[-+*/%&|^~@=<>.,:;()\[\]{}])
  | (?P<newline>\n)
  | (?P<space>[ \t\f\r\\]+)
  | (?P<other>.)
    """,
    re.VERBOSE,
)


def _fallback_tokens(text: str) -> list[tuple[int, str, int, int]]:
    out: list[tuple[int, str, int, int]] = []
    line, depth, indents, at_line_start = 1, 0, [0], True
    for m in _LEX.finditer(text):
        kind, s = m.lastgroup, m.group()
        first = line
        line += s.count("\n")
        if kind == "space":
            continue
        if kind == "newline":
            if depth == 0 and out and out[-1][0] not in (tokenize.NEWLINE, tokenize.NL):
                out.append((tokenize.NEWLINE, "\n", first, first))
            at_line_start = True
            continue
        if kind == "comment":
            out.append((tokenize.COMMENT, s, first, first))
            continue
        if at_line_start and depth == 0:
            col = len(text[text.rfind("\n", 0, m.start()) + 1 : m.start()].expandtabs(8))
            if col > indents[-1]:
                indents.append(col)
                out.append((tokenize.INDENT, "", first, first))
            while col < indents[-1]:
                indents.pop()
                out.append((tokenize.DEDENT, "", first, first))
        at_line_start = False
        if kind == "op":
            depth = max(0, depth + (s in "([{") - (s in ")]}"))
        ttype = {"string": tokenize.STRING, "number": tokenize.NUMBER, "name": tokenize.NAME,
                 "op": tokenize.OP}.get(kind, tokenize.ERRORTOKEN)
        out.append((ttype, s, first, line))
    return out


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
    nf = NormalizedFile(name=name, text=text, notes=list(notes or []))
    try:
        raw = _python_tokens(text)
    except (tokenize.TokenError, IndentationError, SyntaxError, ValueError) as exc:
        raw = _fallback_tokens(text)
        nf.notes.append(f"not valid Python ({type(exc).__name__}); compared with a tolerant lexer")
    prev_struct = True  # at the start of a statement (a bare string there is a docstring)
    drop_newline = False  # the NEWLINE ending a dropped docstring goes with it
    for i, (ttype, s, l0, l1) in enumerate(raw):
        if ttype == tokenize.COMMENT:
            body = s.lstrip("#").strip()
            norm = normalize_comment(body)
            if norm and _is_prose(norm):
                nf.comments.append((l0, norm, body))
            continue
        if ttype in _SKIP:
            continue
        if ttype in _STRUCT:
            if drop_newline and ttype == tokenize.NEWLINE:
                drop_newline = False
                continue
            drop_newline = False
            nf.tokens.append(_STRUCT[ttype])
            nf.lines.append((l0, l1))
            prev_struct = True
            continue
        if ttype == tokenize.STRING:
            body = _string_body(s)
            norm = normalize_comment(body)
            j = i + 1
            while j < len(raw) and raw[j][0] in (tokenize.NL, tokenize.COMMENT):
                j += 1
            nxt = raw[j] if j < len(raw) else None
            is_doc = prev_struct and (nxt is None or nxt[0] in (tokenize.NEWLINE,
                                                                 tokenize.ENDMARKER))
            if norm and (is_doc or _is_prose(norm)):
                nf.comments.append((l0, norm, body.strip()[:200]))
            if is_doc:
                drop_newline = True
                continue  # docstrings are documentation, not structure
            tok = "STR"
            if norm:
                nf.words.append("s:" + norm[:100])
        elif ttype == tokenize.NAME:
            tok = _name_token(s)
            if tok == "ID":
                nf.words.extend(name_words(s))
        elif ttype == tokenize.NUMBER:
            tok = "NUM"
            nf.words.append("n:" + s.lower())
        elif ttype == tokenize.OP:
            tok = s
        else:
            tok = "?"  # stray characters ($, ?, backticks): kept so positions stay honest
        nf.tokens.append(tok)
        nf.lines.append((l0, l1))
        prev_struct = False
    return nf
