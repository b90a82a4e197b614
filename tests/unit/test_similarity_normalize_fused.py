"""``normalize_source`` lexes and normalises in one loop; this checks it against the plain
two-step form (``lex``, then the normalisation rules token by token), docstrings included."""

from __future__ import annotations

import random
import tokenize
from pathlib import Path

from similarity.normalize import (
    _is_prose,
    _name_info,
    _string_body,
    normalize_comment,
    normalize_source,
)
from tests.similarity_lexers import lex

ROOT = Path(__file__).resolve().parents[2]


def _reference(text: str) -> tuple[list, list, list, list]:
    """tokens, lines, comments, words of ``text`` from ``lex``'s token list."""
    raw = lex(text)
    tokens: list[str] = []
    lines: list[tuple[int, int]] = []
    comments: list[tuple[int, str, str]] = []
    words: list[str] = []
    prev_struct, drop_newline = True, False
    struct = {tokenize.NEWLINE: "NL", tokenize.INDENT: "IN", tokenize.DEDENT: "DE"}
    for i, (ttype, s, l0, l1) in enumerate(raw):
        if ttype == tokenize.COMMENT:
            body = s.lstrip("#").strip()
            norm = normalize_comment(body)
            if norm and _is_prose(norm):
                comments.append((l0, norm, body))
            continue
        if ttype in struct:
            if drop_newline and ttype == tokenize.NEWLINE:
                drop_newline = False
                continue
            drop_newline = False
            tokens.append(struct[ttype])
            lines.append((l0, l1))
            prev_struct = True
            continue
        if ttype == tokenize.STRING:
            body = _string_body(s)
            norm = normalize_comment(body)
            j = i + 1
            while j < len(raw) and raw[j][0] == tokenize.COMMENT:
                j += 1
            is_doc = prev_struct and (j == len(raw) or raw[j][0] == tokenize.NEWLINE)
            if norm and (is_doc or _is_prose(norm)):
                comments.append((l0, norm, body.strip()[:200]))
            if is_doc:
                drop_newline = True
                continue
            tok = "STR"
            if norm:
                words.append("s:" + norm[:100])
        elif ttype == tokenize.NAME:
            tok, ws = _name_info(s)
            words.extend(ws)
        elif ttype == tokenize.NUMBER:
            tok = "NUM"
            words.append("n:" + s.lower())
        elif ttype == tokenize.OP:
            tok = s
        else:
            tok = "?"
        tokens.append(tok)
        lines.append((l0, l1))
        prev_struct = False
    return tokens, lines, comments, words


def test_one_loop_normalisation_matches_lex_then_normalise():
    sources = [p.read_text(encoding="utf-8", errors="replace")
               for d in ("similarity", "tests/unit") for p in sorted((ROOT / d).glob("*.py"))]
    sources += [p.read_text(encoding="utf-8", errors="replace")
                for p in sorted((ROOT / "grader" / "demo").rglob("*.py"))]
    pieces = ["'s'", '"""doc string here"""', "# a comment with words\n", "#x\n", "\n", "    ",
              "\t", "x", "(", ")", ";", "\\\n", "'''a b c'''", "def f():", "if x:", " ", "1",
              "'long prose string with many words'", "$", "\r\n", "[", "]", "f'{x}'", "'''"]
    rnd = random.Random(0)
    sources += ["".join(rnd.choice(pieces) for _ in range(rnd.randint(0, 40)))
                for _ in range(3000)]
    for src in sources:
        nf = normalize_source(src)
        assert (nf.tokens, nf.lines, nf.comments, nf.words) == _reference(src), src[:200]
