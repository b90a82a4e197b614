"""Order-free structural features: a bag of canonical AST node n-grams and small subtrees.

A bag does not care where a statement is, so moving declarations, reordering independent
statements or wrapping code into functions changes few features. Canonical labels make common
control-flow rewrites look alike: ``for`` and ``while`` are both ``Loop``, ``x += 1`` is
``x = x + 1``, ``a > b`` is ``b < a``, an f-string is a string, a comprehension is a loop.
Identifier names never appear (renaming changes nothing); builtin calls and method names do
(``print``, ``.append``, ``.backward``), since a disguise rarely changes them.
"""

from __future__ import annotations

import ast
import builtins
import hashlib
from collections import Counter

__all__ = ["ast_feature_counts", "parse_tolerant"]

_BUILTINS = frozenset(n for n in dir(builtins) if not n.startswith("_"))
_CANON = {
    "For": "Loop", "AsyncFor": "Loop", "While": "Loop", "comprehension": "Loop",
    "IfExp": "If", "AnnAssign": "Assign", "AsyncFunctionDef": "Def", "FunctionDef": "Def",
    "Lambda": "Def", "JoinedStr": "Str", "FormattedValue": "Fmt", "ListComp": "Comp",
    "SetComp": "Comp", "GeneratorExp": "Comp", "DictComp": "Comp", "AsyncWith": "With",
    "Starred": "Star", "Load": None, "Store": None, "Del": None,
}
_FLIP = {"Gt": "Lt", "GtE": "LtE"}
_MAX_CHILDREN_SHAPE = 8  # bigger nodes (long bodies) would only give one-off shapes
_MAX_SUBTREE = 40  # expression subtrees up to this many nodes are features of their own
_BODY_FIELDS = ("body", "orelse", "finalbody", "handlers", "cases")


def _augmented_as_assign(node: ast.AugAssign) -> ast.Assign:
    """``x op= v`` -> ``x = x op v`` so both spellings give the same features."""
    value = ast.BinOp(left=node.target, op=node.op, right=node.value)
    return ast.Assign(targets=[node.target], value=value)


def _label(node: ast.AST) -> str | None:
    name = type(node).__name__
    if name in _CANON:
        return _CANON[name]
    if isinstance(node, ast.Constant):
        v = node.value
        return ("Str" if isinstance(v, str | bytes) else "Bool" if isinstance(v, bool)
                else "None" if v is None else "Num")
    if isinstance(node, ast.Call):
        f = node.func
        if isinstance(f, ast.Name) and f.id in _BUILTINS:
            return f"Call:{f.id}"
        if isinstance(f, ast.Attribute):
            return f"Call:.{f.attr}"
        return "Call"
    if isinstance(node, ast.BinOp):
        return f"BinOp:{type(node.op).__name__}"
    if isinstance(node, ast.BoolOp | ast.UnaryOp):
        return f"{name}:{type(node.op).__name__}"
    if isinstance(node, ast.Compare):
        ops = sorted(_FLIP.get(type(o).__name__, type(o).__name__) for o in node.ops)
        return "Compare:" + ",".join(ops)
    if isinstance(node, ast.operator | ast.boolop | ast.unaryop | ast.cmpop):
        return None  # already part of the parent's label
    return name


def parse_tolerant(text: str) -> tuple[ast.AST | None, str | None]:
    """Parse source; on a syntax error, parse the longest prefix of whole lines that parses.

    Returns
    -------
    tree : ast.AST or None
    note : str or None
        Set when the file was not valid Python.
    """
    try:
        return ast.parse(text), None
    except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
        lines = text.splitlines(keepends=True)
        stop = getattr(exc, "lineno", None) or len(lines)
        # Halve the prefix until it parses: at most log2(n) attempts on a broken file.
        end = max(stop - 1, 0)
        while end > 0:
            try:
                return ast.parse("".join(lines[:end])), f"syntax error near line {stop}; " \
                    f"structure taken from lines 1-{end}"
            except (SyntaxError, ValueError, RecursionError, MemoryError):
                end //= 2
        return None, f"syntax error near line {stop}; no structure could be parsed"


def _h(s: str) -> int:
    return int.from_bytes(hashlib.blake2b(s.encode(), digest_size=8).digest(), "little",
                          signed=True)


def ast_feature_counts(tree: ast.AST | None) -> Counter:
    """Bag of canonical AST features of a parsed file: stable 64-bit hash -> count.

    Features per node: its label; parent>label; grandparent>parent>label; and, for nodes with
    at most 8 children, its shape ``label(sorted child labels)``. Subtrees: every statement
    (without nested bodies) and every expression of 3 to 40 nodes, canonical and nameless.
    One pass over the tree (linear in its size).

    Parameters
    ----------
    tree : ast.AST or None
        From ``parse_tolerant`` (``None`` gives an empty bag).

    Returns
    -------
    collections.Counter
        ``{feature_hash: count}``; hashes are blake2b, stable across processes.
    """
    counts: Counter = Counter()
    if tree is None:
        return counts
    feats: Counter = Counter()
    # Iterative post-order walk (no recursion limit on deeply nested code). Each entry:
    # (node, parent label, grandparent label, children done?).
    serial: dict[int, tuple[str, int]] = {}  # id(node) -> (canonical text, subtree size)
    # ``key`` is the id of the node as its parent knows it (an AugAssign stands in for the
    # Assign it is rewritten to).
    stack: list[tuple[ast.AST, str, str, bool, int]] = [(tree, "^", "^", False, id(tree))]
    while stack:
        node, parent, grand, done, key = stack.pop()
        if not done and isinstance(node, ast.AugAssign):
            node = _augmented_as_assign(node)
        label = _label(node)
        if not done:
            stack.append((node, parent, grand, True, key))
            inner = label if label is not None else parent
            outer = parent if label is not None else grand
            for c in ast.iter_child_nodes(node):
                stack.append((c, inner, outer, False, id(c)))
            continue
        # Children are finished: their canonical texts are in ``serial``.
        parts, size, kids = [], 1, []
        for fname, value in ast.iter_fields(node):
            for c in (value if isinstance(value, list) else [value]):
                if not isinstance(c, ast.AST):
                    continue
                t, n = serial.get(id(c), ("", 0))
                if t:
                    kids.append(t.split("(", 1)[0].removesuffix("#big"))
                if fname in _BODY_FIELDS or isinstance(c, ast.stmt):
                    continue  # nested statements are features of their own
                size += n
                if t:
                    parts.append(t)
        if label is None:
            continue
        text = f"{label}({','.join(parts)})" if parts else label
        if size > _MAX_SUBTREE:
            text_for_parent = f"{label}#big"
        else:
            text_for_parent = text
        serial[key] = (text_for_parent, size)
        if node is tree:
            continue  # every file has a module: it is no evidence of anything
        feats[label] += 1
        feats[f"{parent}>{label}"] += 1
        feats[f"{grand}>{parent}>{label}"] += 1
        if 0 < len(kids) <= _MAX_CHILDREN_SHAPE:
            feats[f"{label}({','.join(sorted(kids))})"] += 1
        if isinstance(node, ast.stmt):
            feats["S:" + text[:2000]] += 1
        elif isinstance(node, ast.expr) and 3 <= size <= _MAX_SUBTREE:
            feats["E:" + text] += 1
    for f, c in feats.items():
        counts[_h(f)] += c
    return counts
