"""Source code for the side-by-side view: read bounded, highlight per line, mark fragments.

Pygments tokens are turned into one HTML string per source line (a multi-line string or
docstring is split at its newlines), so every line can carry its own fragment colour. Each token
is escaped here before it is wrapped in a span: the result is safe ``Markup``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from markupsafe import Markup, escape

from diagnostics.source import decode_source_bytes
from diagnostics.text import terminal_safe

#: at most this much of one file is shown (a page stays light; the rest is noted)
MAX_SOURCE_BYTES = 200_000
#: ...and of one submission's files together, and at most this many lines of it: every line
#: becomes about 90 bytes of HTML, so 20 helper files of 2 MB of blank lines made each pair
#: page 378 MB and its rendering 2 GB (a red-team finding); the rest is noted
MAX_SUBMISSION_BYTES = 400_000
MAX_SUBMISSION_LINES = 20_000
#: distinct fragment colours (CSS classes frag-0 .. frag-N-1), reused cyclically
FRAGMENT_COLOURS = 8


@dataclass
class SourceFile:
    """One file of a submission, ready for the page."""

    name: str
    lines: tuple[Markup, ...]
    note: str = ""


@dataclass
class CodeLine:
    number: int
    html: Markup
    frag: int | None = None  # index of the fragment covering this line
    starter: bool = False  # the line is in the starter/template code (not plagiarism)


@dataclass
class CodeView:
    """The files of one side of a pair, lines annotated with fragment indices."""

    who: str
    files: list[tuple[str, list[CodeLine], str]] = field(default_factory=list)
    missing: str = ""


@lru_cache(maxsize=4096)  # identical files (copies, shared modules) are lexed once
def highlight_lines(text: str) -> tuple[Markup, ...]:
    """Python source → one escaped, Pygments-highlighted HTML string per line.

    Examples
    --------
    >>> highlight_lines("x = 1 # <b>\\n")[0]
    Markup('<span class="n">x</span> <span class="o">=</span> <span class="mi">1</span> <span class="c1"># &lt;b&gt;</span>')
    """
    from pygments.lexers import PythonLexer
    from pygments.token import STANDARD_TYPES

    lines: list[list[str]] = [[]]
    for ttype, value in PythonLexer(stripnl=False, ensurenl=False).get_tokens(text):
        css = STANDARD_TYPES.get(ttype)
        while css is None and ttype.parent is not None:  # a sub-type Pygments has no class for
            ttype = ttype.parent
            css = STANDARD_TYPES.get(ttype)
        for i, part in enumerate(value.split("\n")):
            if i:
                lines.append([])
            if part:
                esc = str(escape(part))
                lines[-1].append(f'<span class="{css}">{esc}</span>' if css else esc)
    if lines and not lines[-1] and text.endswith("\n"):
        lines.pop()
    return tuple(Markup("".join(parts)) for parts in lines)


def _read_bounded(path: Path, limit: int = MAX_SOURCE_BYTES) -> tuple[str, str]:
    with path.open("rb") as fh:
        raw = fh.read(limit + 1)
    note = ""
    if len(raw) > limit:
        raw, note = raw[:limit], f"only the first {limit / 1000:g} kB shown"
    text = decode_source_bytes(raw, errors="replace").replace("\r\n", "\n").replace("\r", "\n")
    return text, note


def source_files(path: Path | None, names: list[str] | None = None) -> tuple[list[SourceFile], str]:
    """The ``.py`` files of a submission (a ``.py`` file or a folder), highlighted.

    Returns the files and a note when the code could not be read (moved, deleted). Links are
    never followed and names stay inside the folder.
    """
    if path is None:
        return [], "the code is not available"
    path = Path(path)
    if path.is_symlink() or not path.exists():
        return [], f"the code is no longer at {path}"
    if path.is_file():
        targets = [(path, terminal_safe(path.name))]
    else:
        wanted = names if names else sorted(
            terminal_safe(p.relative_to(path).as_posix()) for p in path.rglob("*.py")
            if "__pycache__" not in p.parts)
        root = path.resolve()
        targets = []
        shown: dict[str, Path] | None = None
        for n in wanted:
            p = path / n
            if not p.exists():  # a name stored as shown: bytes that are not UTF-8 as \xNN
                if shown is None:
                    shown = {terminal_safe(q.relative_to(path).as_posix()): q
                             for q in path.rglob("*") if q.suffix.lower() == ".py"}
                p = shown.get(n, p)
            if p.is_symlink() or not p.is_file() or root not in p.resolve().parents:
                continue
            targets.append((p, n))
    out = []
    left_bytes, left_lines = MAX_SUBMISSION_BYTES, MAX_SUBMISSION_LINES
    for p, n in targets:
        if left_bytes <= 0 or left_lines <= 0:
            out.append(SourceFile(n, (), f"not shown: a page shows at most "
                                         f"{MAX_SUBMISSION_BYTES // 1000} kB and "
                                         f"{MAX_SUBMISSION_LINES:,} lines of one submission"))
            continue
        try:
            text, note = _read_bounded(p, min(MAX_SOURCE_BYTES, left_bytes))
        except OSError as exc:
            out.append(SourceFile(n, (), f"could not be read ({exc.strerror or exc})"))
            continue
        left_bytes -= len(text.encode("utf-8", "replace"))
        lines = highlight_lines(text)
        if len(lines) > left_lines:
            lines, note = lines[:left_lines], f"only the first {left_lines:,} lines shown"
        left_lines -= len(lines)
        out.append(SourceFile(n, lines, note))
    return out, ""


def annotate(who: str, files: list[SourceFile], fragments: list[dict[str, Any]], side: str,
             missing: str = "") -> CodeView:
    """Mark every line that a fragment covers on ``side`` (``"a"`` or ``"b"``).

    Fragments are dicts like ``similarity.Fragment.to_dict()``: ``file_a, start_a, end_a, file_b,
    start_b, end_b, tokens`` (1-based, inclusive lines). Missing or malformed fields are
    tolerated: a fragment without a file applies to the only file, one without lines is skipped.
    """
    marks: dict[tuple[str | None, int], int] = {}
    single = files[0].name if len(files) == 1 else None
    for i, f in enumerate(fragments):
        fname = f.get(f"file_{side}") or single
        try:
            start, end = int(f.get(f"start_{side}")), int(f.get(f"end_{side}"))
        except (TypeError, ValueError):
            continue
        for n in range(start, min(end, start + 100_000) + 1):
            marks.setdefault((fname, n), i)
    view = CodeView(who=who, missing=missing)
    for sf in files:
        lines = [CodeLine(n, html, marks.get((sf.name, n))) for n, html in enumerate(sf.lines, 1)]
        view.files.append((sf.name, lines, sf.note))
    return view


def line_span(fragment: dict[str, Any], side: str) -> str:
    """Where one side of a fragment lies, as the pair page writes it: ``main.py:3–9``,
    ``main.py:8`` (one line, never ``8–8``), ``main.py`` (no lines recorded) or ``–``.

    Examples
    --------
    >>> line_span({"file_a": "main.py", "start_a": 8, "end_a": 8}, "a")
    'main.py:8'
    >>> line_span({"file_b": "util.py", "start_b": 3, "end_b": 9}, "b")
    'util.py:3–9'
    """
    name = str(fragment.get(f"file_{side}") or "")
    start, end = fragment.get(f"start_{side}"), fragment.get(f"end_{side}")
    if not isinstance(start, int) or isinstance(start, bool):
        return name or "–"
    if not isinstance(end, int) or isinstance(end, bool) or end <= start:
        lines = f"{start}"
    else:
        lines = f"{start}–{end}"
    return f"{name}:{lines}" if name else f"line{'s' if '–' in lines else ''} {lines}"


def starter_lines(folder: Path | None) -> frozenset[str]:
    """The non-trivial lines of the starter/template code, whitespace-collapsed."""
    if folder is None or not folder.is_dir() or folder.is_symlink():
        return frozenset()
    out = set()
    for path in sorted(folder.rglob("*.py")):
        if path.is_symlink() or not path.is_file():
            continue
        try:
            text, _ = _read_bounded(path)
        except OSError:
            continue
        out.update(_norm(line) for line in text.split("\n"))
    return frozenset(x for x in out if len(x) >= 6)  # "pass", "else:" are everyone's


def _norm(line: str) -> str:
    return " ".join(line.split())


def mark_starter(view: CodeView, starter: frozenset[str]) -> int:
    """Mark the lines of ``view`` that appear in the starter code; returns how many."""
    count = 0
    if not starter:
        return 0
    for _name, lines, _note in view.files:
        for ln in lines:
            if _norm(ln.html.striptags()) in starter:
                ln.starter = True
                count += 1
    return count


def code_block(view: CodeView, side: str) -> Markup:
    """The lines of one side as HTML (built here, not in Jinja: a pair page has thousands of
    lines and this is the hot loop). Every piece is escaped ``Markup`` or a number."""
    out: list[str] = []
    for fi, (name, lines, note) in enumerate(view.files, 1):
        head = Markup("<h3>{} · {}{}</h3>").format(
            view.who, name, Markup(' <span class="muted">({})</span>').format(note) if note else "")
        out.append(str(head))
        out.append(str(Markup('<div class="code highlight" data-file="{}">').format(name)))
        for ln in lines:
            # "lno", not "no": Pygments styles .no (constants) dark red
            start = ' starter" title="in the starter code' if ln.starter else ""
            if ln.frag is None:
                out.append(f'<div class="ln{start}" id="{side}{fi}-L{ln.number}"><span class="lno">'
                           f'{ln.number}</span><span class="src">{ln.html}</span></div>')
            else:
                out.append(f'<div class="ln match frag-{ln.frag % FRAGMENT_COLOURS}{start}" '
                           f'id="{side}{fi}-L{ln.number}" data-frag="{ln.frag}"><span class="lno">'
                           f'{ln.number}</span><span class="src">{ln.html}</span></div>')
        out.append("</div>")
    return Markup("\n".join(out))
