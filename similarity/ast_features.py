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


def _subclasses(base: type) -> set[type]:
    out = set()
    for c in base.__subclasses__():
        out |= {c} | _subclasses(c)
    return out


# Contexts and operators are part of their parent's label: never walked on their own.
_SKIP_TYPES = frozenset(_subclasses(ast.expr_context) | _subclasses(ast.operator)
                        | _subclasses(ast.boolop) | _subclasses(ast.unaryop)
                        | _subclasses(ast.cmpop))
_DYNAMIC = (ast.Constant, ast.Call, ast.BinOp, ast.BoolOp, ast.UnaryOp, ast.Compare)
_STATIC: dict[type, str | None] = {}  # labels that depend only on the node's type


def _fast_label(node: ast.AST) -> str | None:
    t = type(node)
    try:
        return _STATIC[t]
    except KeyError:
        label = _label(node)
        if not isinstance(node, _DYNAMIC):
            _STATIC[t] = label
        return label


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
    feats: Counter = Counter()  # tuple keys, tagged by kind; hashed once per distinct key
    AST, stmt, expr, skip = ast.AST, ast.stmt, ast.expr, _SKIP_TYPES
    body_fields = _BODY_FIELDS
    # id(node) as its parent knows it -> (canonical text, subtree size, label). An AugAssign
    # stands in for the Assign it is rewritten to, under the AugAssign's id.
    serial: dict[int, tuple[str, int, str]] = {}
    # Iterative post-order walk (no recursion limit on deeply nested code). Entries:
    # (node, parent label, grandparent label, children or None on the way down, key).
    stack: list = [(tree, "^", "^", None, id(tree))]
    while stack:
        node, parent, grand, children, key = stack.pop()
        if children is None:
            if type(node) is ast.AugAssign:
                node = _augmented_as_assign(node)
            label = _fast_label(node)
            inner, outer = (label, parent) if label is not None else (parent, grand)
            children = []
            for fname in node._fields:
                v = getattr(node, fname, None)
                if type(v) is list:
                    children.extend((fname, c) for c in v
                                    if isinstance(c, AST) and type(c) not in skip)
                elif isinstance(v, AST) and type(v) not in skip:
                    children.append((fname, v))
            stack.append((node, parent, grand, children, key))
            stack.extend((c, inner, outer, None, id(c)) for _, c in children)
            continue
        label = _fast_label(node)
        if label is None:
            continue
        parts, size, kids = [], 1, []
        for fname, c in children:
            ent = serial.get(id(c))
            if ent is None:
                continue  # operators and contexts: already in this node's label
            kids.append(ent[2])
            if fname in body_fields or isinstance(c, stmt):
                continue  # nested statements are features of their own
            size += ent[1]
            parts.append(ent[0])
        text = f"{label}({','.join(parts)})" if parts else label
        serial[key] = (text if size <= _MAX_SUBTREE else label + "#big", size, label)
        if node is tree:
            continue  # every file has a module: it is no evidence of anything
        feats[("L", label)] += 1
        feats[("P", parent, label)] += 1
        feats[("G", grand, parent, label)] += 1
        if 0 < len(kids) <= _MAX_CHILDREN_SHAPE:
            kids.sort()
            feats[("H", label, *kids)] += 1
        if isinstance(node, stmt):
            feats[("S", text[:2000])] += 1
        elif 3 <= size <= _MAX_SUBTREE and isinstance(node, expr):
            feats[("E", text)] += 1
    for f, c in feats.items():
        counts[_h("\x1f".join(f))] += c
    return counts
