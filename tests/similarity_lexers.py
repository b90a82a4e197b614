"""The two lexers the tests check ``similarity.normalize`` against (test code only).

``lex`` is the readable two-step form of the engine's fused lexer (tokens with ``tokenize``'s
types and layout rules); ``tokenize_reference`` is the standard library's ``tokenize`` on the
same text. ``normalize_source`` must agree with ``lex`` followed by the normalisation rules,
and ``lex`` with ``tokenize`` on valid code.
"""

from __future__ import annotations

import io
import tokenize

from similarity.normalize import _CLOSE, _GROUP_TYPE, _LEX, _OPEN


def lex(text: str) -> list[tuple[int, str, int, int]]:
    """``(type, string, first_line, last_line)`` tokens with ``tokenize``'s types and layout
    rules (NEWLINE, INDENT, DEDENT; NL and ENDMARKER are not emitted). Never raises."""
    out: list[tuple[int, str, int, int]] = []
    append = out.append
    line, depth, indents, bol = 1, 0, [0], True
    newline_t, indent_t, dedent_t = tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT
    name_t, op_t, comment_t = tokenize.NAME, tokenize.OP, tokenize.COMMENT
    opening, closing, group_type = _OPEN, _CLOSE, _GROUP_TYPE
    for m in _LEX.finditer(text):
        g = m.lastindex
        if g == 6:
            if depth == 0 and not bol:
                append((newline_t, "", line, line))
            line += 1
            bol = depth == 0
            continue
        if g == 7:
            if m[7][0] == "\\":
                line += 1
            continue
        s = m[g]
        if g == 1:
            append((comment_t, s, line, line))
            continue
        if bol:
            start = m.start(g)
            prefix = text[text.rfind("\n", 0, start) + 1 : start]
            col = len(prefix.expandtabs(8)) if "\t" in prefix else len(prefix)
            if col > indents[-1]:
                indents.append(col)
                append((indent_t, "", line, line))
            while col < indents[-1]:
                indents.pop()
                append((dedent_t, "", line, line))
            if col > indents[-1]:  # dedent to a column never opened: tolerate it
                indents.append(col)
            bol = False
        if g == 4:  # the commonest tokens first
            append((name_t, s, line, line))
        elif g == 5:
            if s in opening:
                depth += 1
            elif s in closing and depth:
                depth -= 1
            append((op_t, s, line, line))
        elif g == 2:
            first = line
            line += s.count("\n")
            append((tokenize.STRING, s, first, line))
        else:
            append((group_type[g], s, line, line))
    if not bol:
        append((newline_t, "", line, line))
    for _ in indents[1:]:
        append((dedent_t, "", line, line))
    return out


def tokenize_reference(text: str) -> list[tuple[int, str, int, int]]:
    """The same as ``lex`` through the standard ``tokenize`` module (may raise on invalid
    code); kept to check ``lex`` against it."""
    skip = (tokenize.NL, tokenize.ENCODING, tokenize.ENDMARKER)
    return [(t.type, "" if t.type in (tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT)
             else t.string, t.start[0], t.end[0])
            for t in tokenize.generate_tokens(io.StringIO(text).readline) if t.type not in skip]
