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
import re
from collections import Counter, _count_elements
from collections.abc import Callable, Iterable

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
        # First read each offending line as ``pass`` (same indentation): one Python 2
        # ``print "x"`` near the end must not cost the structure of the rest, which a copy
        # shares line for line; a few lines at most, fewer on large files (a parse each).
        tree, blanked = _parse_blanking(lines, stop, 3 if len(text) > 200_000 else 12)
        if tree is not None:
            shown = ", ".join(map(str, blanked))
            return tree, (f"syntax error near line {stop}; line{'s' * (len(blanked) > 1)} "
                          f"{shown} read as 'pass', the rest of the structure kept")
        # Halve the prefix until it parses: at most log2(n) attempts on a broken file.
        end = max(stop - 1, 0)
        while end > 0:
            try:
                return ast.parse("".join(lines[:end])), f"syntax error near line {stop}; " \
                    f"structure taken from lines 1-{end}"
            except (SyntaxError, ValueError, RecursionError, MemoryError):
                end //= 2
        return None, f"syntax error near line {stop}; no structure could be parsed"


def _parse_blanking(lines: list[str], first: int, attempts: int
                    ) -> tuple[ast.AST | None, list[int]]:
    """The tree of ``lines`` with each line a syntax error names replaced by ``pass`` at its
    indentation, line by line (``first`` the first such line), up to ``attempts`` lines;
    (None, []) when that does not make it parse."""
    lines = list(lines)
    blanked: list[int] = []
    bad: int | None = first
    for _ in range(attempts):
        if not bad or bad > len(lines) or bad in blanked:
            return None, []
        line = lines[bad - 1]
        lines[bad - 1] = line[:len(line) - len(line.lstrip(" \t"))] + "pass\n"
        blanked.append(bad)
        try:
            return ast.parse("".join(lines)), blanked
        except (SyntaxError, ValueError) as exc:
            bad = getattr(exc, "lineno", None)
        except (RecursionError, MemoryError):
            return None, []
    return None, []


def _h(s: str) -> int:
    # surrogatepass: a string literal may hold an escaped lone surrogate ("\udcff")
    data = s.encode("utf-8", "surrogatepass")
    return int.from_bytes(hashlib.blake2b(data, digest_size=8).digest(), "little",
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

# Fast forms of ``_label`` for the node types whose label depends on the node; anything they
# do not know (subclasses, odd values) goes to ``_label`` itself.
_CONST_LABEL = {str: "Str", bytes: "Str", bool: "Bool", type(None): "None", int: "Num",
                float: "Num", complex: "Num", type(...): "Num"}
_BUILTIN_CALL = {n: f"Call:{n}" for n in _BUILTINS}
_OP_NAME = {t: t.__name__ for t in _SKIP_TYPES}


def _constant_label(node: ast.Constant) -> str | None:
    return _CONST_LABEL.get(type(node.value)) or _label(node)


def _call_label(node: ast.Call) -> str | None:
    f = node.func
    t = type(f)
    if t is ast.Name:
        return _BUILTIN_CALL.get(f.id, "Call")  # type: ignore[attr-defined]
    if t is ast.Attribute:
        return f"Call:.{f.attr}"  # type: ignore[attr-defined]
    return _label(node)


def _binop_label(node: ast.BinOp) -> str | None:
    name = _OP_NAME.get(type(node.op))
    return f"BinOp:{name}" if name is not None else _label(node)


_LABEL_FN = {ast.Constant: _constant_label, ast.Call: _call_label, ast.BinOp: _binop_label}
_DYNAMIC = (ast.Constant, ast.Call, ast.BinOp, ast.BoolOp, ast.UnaryOp, ast.Compare)
# ASDL field types that never hold a walked node (names, literals, contexts, operators).
_LEAF_FIELD_TYPES = frozenset({"identifier", "string", "constant", "int", "expr_context",
                               "operator", "boolop", "unaryop", "cmpop"})
_SIGNATURE = re.compile(r"^\w+\((.*)\)$")

# Per node type: (label or None when it depends on the node, the function giving it then,
# (field name, whether the field is a body) for each field that may hold child nodes,
# is a statement, is an expression, what it adds to its statement's summary (``_S_*``), is a
# node with effects).
_TypeInfo = tuple[str | None, Callable[[ast.AST], str | None] | None,
                  tuple[tuple[str, bool], ...], bool, bool, int, bool]

# Statement summaries, as ``canonical`` orders statements by them: the names a statement
# reads and writes, whether it has effects and whether it calls anything. The walk here
# makes them on its way (``summaries`` of ``ast_feature_counts``), sparing canonical a second
# walk over every expression. Builtins without side effects: calls to them are no effect.
PURE_BUILTINS = frozenset({"abs", "all", "any", "bin", "bool", "chr", "dict", "divmod",
                           "enumerate", "filter", "float", "format", "frozenset", "hash",
                           "hex", "int", "isinstance", "len", "list", "map", "max", "min",
                           "oct", "ord", "pow", "range", "repr", "reversed", "round", "set",
                           "slice", "sorted", "str", "sum", "tuple", "type", "zip"})
TERMINAL_NODES = (ast.Return, ast.Raise, ast.Break, ast.Continue)
_EFFECT_NODES = (*TERMINAL_NODES, ast.Yield, ast.YieldFrom, ast.Await, ast.Global,
                 ast.Nonlocal, ast.Delete, ast.Assert)
_CALLING = (ast.Call, ast.Yield, ast.YieldFrom, ast.Await, ast.NamedExpr)
_S_CALL, _S_TARGET, _S_CALLING, _S_NAME = 1, 2, 3, 4
Summary = tuple[set[str], set[str], bool, bool]  # reads, writes, effect, calls anything


def _type_info(t: type) -> _TypeInfo:
    dynamic = issubclass(t, _DYNAMIC)
    label = None if dynamic else _label(ast.AST.__new__(t))
    fn = (_LABEL_FN.get(t, _label) if dynamic else None)
    # Fields that may hold child nodes, from the ASDL signature in the class docstring
    # (``Name(identifier id, expr_context ctx)``): skipping the others saves a getattr
    # each. Without a readable signature, every field is looked at.
    names: tuple[str, ...] = tuple(t._fields)
    m = _SIGNATURE.match((t.__doc__ or "").strip())
    if m:
        decl = [a.split() for a in m.group(1).split(",") if a.strip()]
        if [d[-1] for d in decl] == list(names):
            names = tuple(d[-1] for d in decl if d[0].rstrip("*?") not in _LEAF_FIELD_TYPES)
    return (label, fn, tuple((f, f in _BODY_FIELDS) for f in names), issubclass(t, ast.stmt),
            issubclass(t, ast.expr), _summary_kind(t), issubclass(t, _EFFECT_NODES))


def _summary_kind(t: type) -> int:
    """What a node of type ``t`` adds to its statement's summary (``canonical._Program._scan``
    sorts node types the same way): 4 a name, 1 a call, 2 an attribute or subscript (a write
    to its base when stored to), 3 another node that calls (yield, await, walrus), 0 nothing
    (statements add their own summaries)."""
    if t is ast.Name:
        return _S_NAME
    if t is ast.Constant or issubclass(t, ast.stmt):
        return 0
    if t is ast.Call:
        return _S_CALL
    if t is ast.Attribute or t is ast.Subscript:
        return _S_TARGET
    return _S_CALLING if issubclass(t, _CALLING) else 0


_INFO: dict[type, _TypeInfo] = {t: _type_info(t) for t in _subclasses(ast.AST) - _SKIP_TYPES}


def _info(t: type) -> _TypeInfo:
    info = _INFO.get(t)
    if info is None:  # a node class made after import
        info = _INFO[t] = _type_info(t)
    return info


# Stable hash of every feature seen, per feature kind: the same keys recur in every file, so
# most files need few blake2b calls (about 5 of 6 keys are found on class1000). Each cache is
# emptied when it reaches _HASH_CACHE_MAX entries: about 11 MB in all after 1,000 files; a
# bound of 1 << 17 held about 50 MB and was no faster.
_HASH_CACHE_MAX = 1 << 15
_HASHES: dict[str, dict] = {kind: {} for kind in "LPGHSE"}


def _hashes(kind: str, keys: Iterable) -> list[int]:
    """The stable hash of each feature key of one kind (a string or a tuple of strings):
    blake2b of ``kind`` and the key's parts joined by U+001F."""
    cache = _HASHES[kind]
    keys = list(keys)
    hs = list(map(cache.get, keys))
    if None in hs:
        if len(cache) + len(keys) > _HASH_CACHE_MAX:
            cache.clear()
        for i, h in enumerate(hs):
            if h is None:
                key = keys[i]
                hs[i] = cache[key] = _h(f"{kind}\x1f{key}" if type(key) is str
                                        else "\x1f".join((kind, *key)))
    return hs


class _TooDeep(Exception):
    """The tree is deeper than the recursive walk is allowed to go."""


_MAX_RECURSION = 300  # deeper trees take the iterative walk (no RecursionError)


def ast_feature_counts(tree: ast.AST | None, summaries: dict[int, Summary] | None = None
                       ) -> Counter:
    """Bag of canonical AST features of a parsed file: stable 64-bit hash -> count.

    Features per node: its label; parent>label; grandparent>parent>label; and, for nodes with
    at most 8 children, its shape ``label(sorted child labels)``. Subtrees: every statement
    (without nested bodies) and every expression of 3 to 40 nodes, canonical and nameless.
    One pass over the tree (linear in its size).

    Parameters
    ----------
    tree : ast.AST or None
        From ``parse_tolerant`` (``None`` gives an empty bag).
    summaries : dict, optional
        Filled with ``id(statement) -> (reads, writes, effect, calls)`` of the tree's
        statements, for ``canonical.canonical_streams`` (left empty for a tree too deep for
        the recursive walk).

    Returns
    -------
    collections.Counter
        ``{feature_hash: count}``; hashes are blake2b, stable across processes.
    """
    if tree is None:
        return Counter()
    # The walk lists plain string and tuple keys (counted in C by ``Counter``), hashed once
    # per distinct key at the end. Labels and parent>label pairs are taken from the listed
    # grandparent>parent>label triples.
    bags: tuple[list, list, list, list] = ([], [], [], [])  # G, H, S, E
    if summaries is None:
        summaries = {}
    try:
        _walk_recursive(tree, bags, summaries)
    except (_TooDeep, RecursionError):
        bags = ([], [], [], [])
        summaries.clear()
        _walk_iterative(tree, bags)
    counted: list[dict] = []
    for keys in bags:
        bag: dict = {}
        _count_elements(bag, keys)  # Counter's own C loop, without Counter's set-up
        counted.append(bag)
    # Labels and parent>label pairs, added up from the distinct triples (a few hundred, where
    # the triples listed are thousands). Each key comes first where its first triple does,
    # so the bags are in the order counting the listed triples would give.
    labels: dict = {}
    pairs: dict = {}
    labels_get, pairs_get = labels.get, pairs.get
    for key, c in counted[0].items():
        label = key[2]
        labels[label] = labels_get(label, 0) + c
        pair = key[1:]
        pairs[pair] = pairs_get(pair, 0) + c
    hashes: list[int] = []
    values: list[int] = []
    for kind, bag in zip("LPGHSE", (labels, pairs, *counted)):
        hashes += _hashes(kind, bag)
        values += bag.values()
    counts: Counter = Counter()
    dict.update(counts, zip(hashes, values))
    if len(counts) < len(hashes):  # two features share a hash: add up their counts
        counts = Counter()
        for h, c in zip(hashes, values):
            counts[h] += c
    return counts


def _walk_recursive(tree: ast.AST, bags: tuple[list, list, list, list],
                    summaries: dict[int, Summary]) -> None:
    """Fill ``bags`` and ``summaries`` by a recursive walk (the fast one); raises ``_TooDeep``
    on deep trees."""
    add_triple, add_shape, add_stmt, add_expr = (b.append for b in bags)
    AST, AugAssign, Name, Load, skip, infos = ast.AST, ast.AugAssign, ast.Name, ast.Load, \
        _SKIP_TYPES, _INFO
    Attribute, Subscript, pure = ast.Attribute, ast.Subscript, PURE_BUILTINS
    max_subtree, max_shape, max_depth = _MAX_SUBTREE, _MAX_CHILDREN_SHAPE, _MAX_RECURSION

    def visit(node: ast.AST, parent: str, grand: str, depth: int, sm: list
              ) -> tuple[str, str | None, int]:
        """-> (label, subtree text or None for a statement, subtree size). ``sm`` is the
        summary (reads, writes, effect, calls) of the statement the node is part of."""
        if depth > max_depth:
            raise _TooDeep
        t = type(node)
        orig = node
        if t is AugAssign:
            node = _augmented_as_assign(node)  # type: ignore[arg-type]
            t = ast.Assign
        try:
            label, label_fn, fields, is_stmt, is_expr, skind, effect = infos[t]
        except KeyError:
            label, label_fn, fields, is_stmt, is_expr, skind, effect = _info(t)
        if label is None:
            label = label_fn(node)  # type: ignore[misc]
        if is_stmt:
            own = [set(), set(), effect, False]
        else:
            own = sm
            if skind:  # what this node adds to its statement's summary
                if skind == _S_CALL:
                    own[3] = True
                    f = node.func  # type: ignore[attr-defined]
                    if not (type(f) is Name and f.id in pure):
                        own[2] = True
                elif skind == _S_TARGET:
                    if type(node.ctx) is not Load:  # type: ignore[attr-defined]
                        base = node.value  # type: ignore[attr-defined]
                        while type(base) is Attribute or type(base) is Subscript:
                            base = base.value
                        if type(base) is Name:
                            own[1].add(base.id)  # x.a = 1 / x[i] = 1 changes x
                elif skind == _S_CALLING:
                    own[3] = True
                    if effect:
                        own[2] = True
                else:
                    (own[0] if type(node.ctx) is Load else own[1]).add(node.id)  # type: ignore
        kids: list[str] = []
        parts: list[str] = []
        size = 1
        for fname, in_body in fields:
            v = getattr(node, fname, None)
            if v is None:
                continue
            for c in v if type(v) is list else (v,):
                ct = type(c)
                leaf = infos.get(ct)
                if leaf is None:  # not a walked node type, or one made after import
                    if ct in skip or not isinstance(c, AST):
                        continue
                    leaf = _info(ct)
                if not leaf[2]:
                    # A leaf child (Name, Constant, Pass, ...), inlined: half the nodes
                    # are leaves, and a call each would cost more than all the rest.
                    k_label = leaf[0] or leaf[1](c)  # type: ignore[misc]
                    add_triple((parent, label, k_label))
                    kids.append(k_label)
                    if ct is Name:
                        (own[0] if type(c.ctx) is Load else own[1]).add(c.id)
                    if leaf[3]:
                        add_stmt(k_label)
                        if leaf[6]:  # break, continue, global...: an effect, no names
                            own[2] = True
                    elif not in_body:
                        size += 1
                        parts.append(k_label)
                    continue
                k_label, k_text, k_size = visit(c, label, parent, depth + 1, own)
                kids.append(k_label)
                if k_text is not None and not in_body:
                    size += k_size
                    parts.append(k_text)
        if not depth:
            return label, None, size  # every file has a module: it is no evidence of anything
        add_triple((grand, parent, label))
        if 0 < len(kids) <= max_shape:
            kids.sort()
            add_shape((label, *kids))
        if is_stmt:
            reads, writes, effect, calls = own
            summaries[id(orig)] = (reads, writes, effect, calls)
            sm[0] |= reads
            sm[1] |= writes
            if effect:
                sm[2] = True
            if calls:
                sm[3] = True
            add_stmt(f"{label}({','.join(parts)})"[:2000] if parts else label)
            return label, None, size  # nested statements are features of their own
        if size > max_subtree:
            return label, label + "#big", size
        if not parts:
            return label, label, size
        text = f"{label}({','.join(parts)})"
        if size >= 3 and is_expr:
            add_expr(text)
        return label, text, size

    try:
        visit(tree, "^", "^", 0, [set(), set(), False, False])
    finally:
        # ``visit`` refers to itself through its closure: a reference cycle that would keep
        # the walk's keys and sets (thousands of objects a file) alive until a cyclic
        # collection, which the reading workers postpone. Breaking it frees them now.
        visit = None  # type: ignore[assignment]  # noqa: F841


def _walk_iterative(tree: ast.AST, bags: tuple[list, list, list, list]) -> None:
    """The same as ``_walk_recursive`` with an explicit stack: any depth, somewhat slower."""
    add_triple, add_shape, add_stmt, add_expr = (b.append for b in bags)
    AST, skip = ast.AST, _SKIP_TYPES
    # id(node) as its parent knows it -> (label, text or None for a statement, size). An
    # AugAssign stands in for the Assign it is rewritten to, under the AugAssign's id.
    serial: dict[int, tuple[str, str | None, int]] = {}
    # Post-order walk. Entries: (node, parent label, grandparent label, children or None on
    # the way down, key).
    stack: list = [(tree, "^", "^", None, id(tree))]
    while stack:
        node, parent, grand, children, key = stack.pop()
        if type(node) is ast.AugAssign:
            node = _augmented_as_assign(node)
        label, label_fn, fields, is_stmt, is_expr, *_ = _info(type(node))
        if label is None:
            label = label_fn(node)  # type: ignore[misc]
        if children is None:
            children = []
            for fname, in_body in fields:
                v = getattr(node, fname, None)
                if type(v) is list:
                    children.extend((in_body, c) for c in v
                                    if isinstance(c, AST) and type(c) not in skip)
                elif isinstance(v, AST) and type(v) not in skip:
                    children.append((in_body, v))
            stack.append((node, parent, grand, children, key))
            stack.extend((c, label, parent, None, id(c)) for _, c in children)
            continue
        parts, size, kids = [], 1, []
        for in_body, c in children:
            k_label, k_text, k_size = serial[id(c)]
            kids.append(k_label)
            if k_text is not None and not in_body:
                size += k_size
                parts.append(k_text)
        if node is tree:
            continue
        text = f"{label}({','.join(parts)})" if parts else label
        serial[key] = (label, None if is_stmt else text if size <= _MAX_SUBTREE
                       else label + "#big", size)
        add_triple((grand, parent, label))
        if 0 < len(kids) <= _MAX_CHILDREN_SHAPE:
            kids.sort()
            add_shape((label, *kids))
        if is_stmt:
            add_stmt(text[:2000])
        elif 3 <= size <= _MAX_SUBTREE and is_expr:
            add_expr(text)
