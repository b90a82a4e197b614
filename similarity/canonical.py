"""A normalised statement stream: what a program does, independent of how it was disguised.

The Python equivalent of JPlag's token sequence normalisation (``de.jplag.normalization``:
a dependency graph over statements, dead statements dropped, independent statements put in
a fixed order by a priority queue of token sequences), extended with helper inlining:

- **dead code** leaves the stream: statements after ``return``/``raise``/``break``/
  ``continue`` in a block, ``pass``, bare literals (docstrings), ``if False:`` bodies,
  assignments to names that are never read (when the value calls nothing), and imports.
  Functions the program never calls come after its own code (as if called at the end), so an
  inserted unused function only appends: dropping them instead left programs whose code sits
  in uncalled functions with a few statements each, and such tiny streams made honest pairs
  look alike (83 flagged pairs instead of 18 in a synthetic class of 1,000);
- **helpers are inlined**: a call to a function defined in the file (``f(x)``, or
  ``obj.f(x)`` for a method) emits that function's body where it is called (``return e``
  becomes an assignment of ``e``), so extracting code into a helper, or inlining one, leaves
  the stream as it was; ``if __name__ == "__main__":`` is unwrapped;
- **independent statements are ordered canonically**: within a block, statement ``j``
  depends on an earlier ``i`` when one writes a name the other reads or writes, or both have
  effects (calls that are not pure builtins, control flow); of the statements whose
  predecessors are all placed, the one with the smallest token sequence goes first. Swapping
  independent statements therefore leaves the stream as it was.

Each statement becomes a short sequence of labels (the ``ast_features`` canonical labels:
``for``/``while`` are one ``Loop``, ``x += 1`` is ``x = x + 1``, ``a > b`` is ``b < a``,
commutative operands sorted; names are ``ID`` but builtins, method names and literals (numbers
and strings, up to 40 characters) keep their identity), and each label one character, so the
stream feeds the same string kernel and fingerprints as the token stream.
"""

from __future__ import annotations

import ast
import builtins
import hashlib
import heapq
import re
from collections import Counter, deque
from functools import lru_cache

from similarity.ast_features import _info as _ast_info

__all__ = ["canonical_stream", "canonical_streams", "canonical_labels", "STATEMENT_SEP"]

STATEMENT_SEP = "\x1d"  # not in any label's character range: n-grams may span statements

_BUILTINS = frozenset(n for n in dir(builtins) if not n.startswith("_"))
# Builtins without side effects: calls to them do not order statements.
_PURE = frozenset({"abs", "all", "any", "bin", "bool", "chr", "dict", "divmod", "enumerate",
                   "filter", "float", "format", "frozenset", "hash", "hex", "int", "isinstance",
                   "len", "list", "map", "max", "min", "oct", "ord", "pow", "range", "repr",
                   "reversed", "round", "set", "slice", "sorted", "str", "sum", "tuple",
                   "type", "zip"})
_COMMUTATIVE = (ast.Add, ast.Mult, ast.BitAnd, ast.BitOr, ast.BitXor)
_FLIP = {ast.Gt: ast.Lt, ast.GtE: ast.LtE}
_TERMINAL = (ast.Return, ast.Raise, ast.Break, ast.Continue)
_BODIES = ("body", "orelse", "finalbody")
_IDENT = re.compile(r"[^\W\d]\w*")
_LOOPS = (ast.For, ast.AsyncFor, ast.While)
_MAX_INLINE_DEPTH = 3  # helpers of helpers of helpers; deeper calls stay calls
_MAX_INLINES = 8  # a helper called more often than this stays a call (bounded stream)
_MAX_REORDER = 300  # longer blocks keep their order (the dependency graph is quadratic)
_LITERAL_CHARS = 40  # a literal's label keeps this much of its value


@lru_cache(maxsize=1 << 14)
def _char(label: str) -> str:
    """One private-use character per label, by a stable hash (the same in every process)."""
    h = int.from_bytes(hashlib.blake2b(label.encode(), digest_size=4).digest(), "little")
    return chr(0xE000 + h % 6400)


def _subclasses(base: type) -> set[type]:
    out = set()
    for c in base.__subclasses__():
        out |= {c} | _subclasses(c)
    return out


# Contexts and operators carry no names: never visited on their own.
_LEAVES = frozenset(_subclasses(ast.expr_context) | _subclasses(ast.operator)
                    | _subclasses(ast.boolop) | _subclasses(ast.unaryop) | _subclasses(ast.cmpop))
_EFFECT_NODES = (*_TERMINAL, ast.Yield, ast.YieldFrom, ast.Await, ast.Global, ast.Nonlocal,
                 ast.Delete, ast.Assert)
_CALLING = (ast.Call, ast.Yield, ast.YieldFrom, ast.Await, ast.NamedExpr)
_Summary = tuple[set[str], set[str], bool, bool]  # reads, writes, effect, calls anything

# How ``_Program._scan`` treats each node type (one dict look-up per node instead of a chain
# of isinstance tests), and the fields of each type that may hold nodes (from the ASDL
# signature, as ``ast_features`` reads it: contexts, operators and identifiers are skipped).
_K_NAME, _K_CONST, _K_STMT, _K_CALL, _K_TARGET, _K_CALLING, _K_OTHER = (
    "name", "const", "stmt", "call", "target", "calling", "other")
_SCAN_KIND: dict[type, str] = {}
_SCAN_FIELDS: dict[type, tuple[str, ...]] = {}


def _scan_kind(t: type) -> str | None:
    """The kind of a walked node type (registered on first sight), None for a type never
    walked (contexts, operators, non-nodes)."""
    if not issubclass(t, ast.AST) or t in _LEAVES:
        return None
    kind = (_K_NAME if t is ast.Name else _K_CONST if t is ast.Constant
            else _K_STMT if issubclass(t, ast.stmt) else _K_CALL if t is ast.Call
            else _K_TARGET if t is ast.Attribute or t is ast.Subscript
            else _K_CALLING if issubclass(t, _CALLING) else _K_OTHER)
    _SCAN_FIELDS[t] = tuple(f for f, _ in _ast_info(t)[2])
    _SCAN_KIND[t] = kind
    return kind


def _walked(v: object) -> bool:
    """Whether a field value is a node ``_scan`` walks (a type not seen before)."""
    return isinstance(v, ast.AST) and _scan_kind(type(v)) is not None


def _tree_counts(tree: ast.AST) -> Counter:
    """Identifier occurrences from the tree (as the text scan would count them)."""
    out: Counter = Counter()
    for n in ast.walk(tree):
        if isinstance(n, ast.Name):
            out[n.id] += 1
        elif isinstance(n, ast.Attribute):
            out[n.attr] += 1
        elif isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            out[n.name] += 1
        elif isinstance(n, ast.arg):
            out[n.arg] += 1
        elif isinstance(n, ast.Global | ast.Nonlocal):
            out.update(n.names)
    return out


class _Program:
    """The file's functions, the names it ever reads (for dead-assignment removal) and, per
    statement, the names it reads and writes and whether it has effects: one pass over the
    tree, each node visited once however deeply its blocks nest."""

    def __init__(self, tree: ast.Module, text: str | None = None):
        self.funcs: dict[str, ast.FunctionDef | ast.AsyncFunctionDef] = {}
        self._summary: dict[int, _Summary] = {}
        stack: deque[ast.stmt] = deque(tree.body)
        while stack:  # statements only (nested functions, methods): no expression is visited
            n = stack.popleft()
            if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef):
                self.funcs[n.name] = n  # the last definition wins, as at run time
            for name in _BODIES:
                stack.extend(getattr(n, name, ()))
            for h in getattr(n, "handlers", ()):
                stack.extend(h.body)
        # How often each identifier occurs in the file: one occurrence (its assignment or its
        # def) means nothing reads it. From the text by one regex scan (strings and comments
        # count too, which only keeps more code alive), or from the tree when no text is given.
        self.counts = Counter(_IDENT.findall(text)) if text is not None else _tree_counts(tree)

    def summary(self, node: ast.stmt) -> _Summary:
        """Names the statement reads and writes, whether it has effects and calls anything
        (computed when first needed: only for code that is emitted)."""
        got = self._summary.get(id(node))
        return got if got is not None else self._scan(node)

    def used(self, name: str) -> bool:
        return self.counts.get(name, 0) > 1

    def _scan(self, node: ast.AST) -> _Summary:
        """One statement's (or the module's) summary: its expressions walked with a stack
        into shared sets, its nested statements by recursion (bounded by block nesting)."""
        reads: set[str] = set()
        writes: set[str] = set()
        effect = isinstance(node, _EFFECT_NODES)
        calls = False
        stack = [node]
        kinds, load, pure = _SCAN_KIND, ast.Load, _PURE
        while stack:
            n = stack.pop()
            t = type(n)
            kind = kinds.get(t)
            if kind is None:
                kind = _scan_kind(t)
            if kind is _K_NAME:
                (reads if type(n.ctx) is load else writes).add(n.id)
                continue
            if kind is _K_CONST:
                continue
            if kind is _K_STMT:
                if n is not node:
                    r, w, e, c = self.summary(n)
                    reads |= r
                    writes |= w
                    effect = effect or e
                    calls = calls or c
                    continue
            elif kind is _K_CALL:
                calls = True
                f = n.func
                if not (type(f) is ast.Name and f.id in pure):
                    effect = True
            elif kind is _K_TARGET:
                if type(n.ctx) is not load:
                    base = n.value
                    while type(base) is ast.Attribute or type(base) is ast.Subscript:
                        base = base.value
                    if type(base) is ast.Name:
                        writes.add(base.id)  # x.a = 1 / x[i] = 1 changes x
            elif kind is _K_CALLING:
                calls = True
                effect = effect or isinstance(n, _EFFECT_NODES)
            for name in _SCAN_FIELDS[t]:
                v = getattr(n, name, None)
                if type(v) is list:
                    stack.extend([c for c in v if type(c) in kinds or _walked(c)])
                elif v is not None and (type(v) in kinds or _walked(v)):
                    stack.append(v)
        out = (reads, writes, effect, calls)
        self._summary[id(node)] = out
        return out

    def callee(self, call: ast.Call) -> ast.FunctionDef | ast.AsyncFunctionDef | None:
        f = call.func
        name = f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute) \
            else None
        return self.funcs.get(name) if name else None


def _literal(v: object) -> str:
    """A literal's label keeps its value: a renamed copy keeps its constants and messages,
    and they tell as much as the structure (copydetect keeps them as written in its k-grams).
    Values everyone shares (file names, column names) are suppressed as common code later."""
    if isinstance(v, str | bytes):
        return "Str:" + (v if isinstance(v, str) else repr(v))[:_LITERAL_CHARS]
    return f"Const:{v!r}"[:_LITERAL_CHARS]


class _Emitter:
    """Turns statements into label sequences, inlining helpers and ordering blocks."""

    def __init__(self, program: _Program):
        self.p = program
        self.stack: list[str] = []  # functions being inlined (no recursion)
        self.cache: dict[str, list[list[str]]] = {}  # each helper's normalised body
        self.uses: dict[str, int] = {}  # how often each helper was inlined

    # -- expressions ---------------------------------------------------------------------
    def expr(self, node: ast.AST | None, out: list[str], pre: list[list[str]]) -> None:
        """Labels of an expression (pre-order); inlined helper bodies go to ``pre``."""
        if node is None:
            return
        if isinstance(node, ast.Name):
            out.append(f"B:{node.id}" if node.id in _BUILTINS else "ID")
        elif isinstance(node, ast.Constant):
            out.append(_literal(node.value))
        elif isinstance(node, ast.JoinedStr):
            out.append("Str")
            for v in node.values:
                if isinstance(v, ast.FormattedValue):
                    self.expr(v.value, out, pre)
        elif isinstance(node, ast.Call):
            self.call(node, out, pre)
        elif isinstance(node, ast.Attribute):
            out.append("Attr")
            self.expr(node.value, out, pre)
        elif isinstance(node, ast.BinOp):
            out.append(f"BinOp:{type(node.op).__name__}")
            parts = [self.sub(node.left, pre), self.sub(node.right, pre)]
            if isinstance(node.op, _COMMUTATIVE):
                parts.sort()
            for p in parts:
                out.extend(p)
        elif isinstance(node, ast.BoolOp):
            out.append(f"BoolOp:{type(node.op).__name__}")
            for p in sorted(self.sub(v, pre) for v in node.values):
                out.extend(p)
        elif isinstance(node, ast.Compare):
            left, ops, comps = node.left, node.ops, node.comparators
            if len(ops) == 1 and type(ops[0]) in _FLIP:
                left, ops, comps = comps[0], [_FLIP[type(ops[0])]()], [left]
            out.append("Compare:" + ",".join(type(o).__name__ for o in ops))
            self.expr(left, out, pre)
            for c in comps:
                self.expr(c, out, pre)
        elif isinstance(node, ast.ListComp | ast.SetComp | ast.GeneratorExp | ast.DictComp):
            out.append("Comp")
            for g in node.generators:
                out.append("Loop")
                self.expr(g.iter, out, pre)
                for cond in g.ifs:
                    out.append("If")
                    self.expr(cond, out, pre)
            if isinstance(node, ast.DictComp):
                self.expr(node.key, out, pre)
                self.expr(node.value, out, pre)
            else:
                self.expr(node.elt, out, pre)
        else:
            out.append(type(node).__name__)
            for child in ast.iter_child_nodes(node):
                if isinstance(child, ast.expr | ast.comprehension | ast.keyword | ast.arg
                              | ast.arguments):
                    self.expr(child, out, pre)

    def sub(self, node: ast.AST, pre: list[list[str]]) -> list[str]:
        out: list[str] = []
        self.expr(node, out, pre)
        return out

    def inlinable(self, node: ast.Call) -> ast.FunctionDef | ast.AsyncFunctionDef | None:
        """The helper a call runs, when its body is to be inlined here."""
        fn = self.p.callee(node)
        if fn is None or fn.name in self.stack or len(self.stack) >= _MAX_INLINE_DEPTH \
                or self.uses.get(fn.name, 0) >= _MAX_INLINES:
            return None
        return fn

    def body(self, fn: ast.FunctionDef | ast.AsyncFunctionDef) -> list[list[str]]:
        """A helper's normalised body (made once per file: every call site shares it)."""
        if fn.name not in self.cache:
            self.stack.append(fn.name)
            self.cache[fn.name] = self.block(fn.body, inlined=True)
            self.stack.pop()
        return self.cache[fn.name]

    def call(self, node: ast.Call, out: list[str], pre: list[list[str]]) -> None:
        fn = self.inlinable(node)
        args = [*node.args, *(k.value for k in node.keywords)]
        if fn is not None:
            # The helper's body runs here: its statements come before this one, and the
            # call's value is a name (what ``return`` assigned).
            for a in args:
                self.expr(a, out, pre)
            self.uses[fn.name] = self.uses.get(fn.name, 0) + 1
            pre.extend(self.body(fn))
            out.append("ID")
            return
        f = node.func
        if isinstance(f, ast.Name):
            out.append(f"Call:{f.id}" if f.id in _BUILTINS else "Call")
        elif isinstance(f, ast.Attribute):
            out.append(f"Call:.{f.attr}")
            self.expr(f.value, out, pre)
        else:
            out.append("Call")
            self.expr(f, out, pre)
        for a in args:
            self.expr(a, out, pre)

    # -- statements ----------------------------------------------------------------------
    def stmt(self, node: ast.stmt, inlined: bool) -> list[list[str]]:
        """The label sequences of one statement: inlined helper bodies, then its own."""
        pre: list[list[str]] = []
        out: list[str] = []
        if isinstance(node, ast.Expr):
            if isinstance(node.value, ast.Call) and self.inlinable(node.value) is not None:
                self.call(node.value, [], pre)  # a helper called for its effect: its body
                return pre
            out.append("Expr")
            self.expr(node.value, out, pre)
        elif isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            out.append("Assign")
            for t in targets:
                self.expr(t, out, pre)
            self.expr(node.value, out, pre)
        elif isinstance(node, ast.AugAssign):
            out.append("Assign")
            self.expr(node.target, out, pre)
            self.expr(ast.BinOp(left=node.target, op=node.op, right=node.value), out, pre)
        elif isinstance(node, ast.Return):
            out.append("Assign" if inlined else "Return")
            if inlined:
                out.append("ID")
            self.expr(node.value, out, pre)
        elif isinstance(node, ast.If):
            return pre + self.compound(["If"], node.test, [node.body, node.orelse], inlined,
                                       pre)
        elif isinstance(node, _LOOPS):
            head = node.iter if isinstance(node, ast.For | ast.AsyncFor) else node.test
            return pre + self.compound(["Loop"], head, [node.body, node.orelse], inlined, pre)
        elif isinstance(node, ast.With | ast.AsyncWith):
            return pre + self.compound(["With"], None, [node.body], inlined, pre,
                                       [i.context_expr for i in node.items])
        elif isinstance(node, ast.Try):
            blocks = [node.body, *(h.body for h in node.handlers), node.orelse, node.finalbody]
            return pre + self.compound(["Try"], None, blocks, inlined, pre)
        elif isinstance(node, ast.ClassDef):
            return []  # methods are emitted where they are called
        else:
            out.append(type(node).__name__)
            for child in ast.iter_child_nodes(node):
                if isinstance(child, ast.expr):
                    self.expr(child, out, pre)
        return [*pre, out]

    def compound(self, head: list[str], test: ast.AST | None, blocks: list[list[ast.stmt]],
                 inlined: bool, pre: list[list[str]], extra: list[ast.AST] = ()
                 ) -> list[list[str]]:
        out = list(head)
        self.expr(test, out, pre)
        for e in extra:
            self.expr(e, out, pre)
        seqs = [out]
        for b in blocks:
            if b:
                seqs.append(["{"])
                seqs.extend(self.block(b, inlined))
                seqs.append(["}"])
        return [[lab for s in seqs for lab in s]]  # one statement: moved as a whole

    def block(self, body: list[ast.stmt], inlined: bool = False) -> list[list[str]]:
        """A block's statements, dead code removed, independent statements ordered."""
        units: list[tuple[list[list[str]], ast.stmt]] = []
        for node in _live(body, self.p):
            seqs = [s for s in self.stmt(node, inlined) if s]
            if seqs:
                units.append((seqs, node))
        return [s for seqs in _canonical_order(units, self.p) for s in seqs]


def _live(body: list[ast.stmt], p: _Program) -> list[ast.stmt]:
    """The statements of a block that can matter (see the module docstring)."""
    out = []
    for node in body:
        if isinstance(node, ast.Pass | ast.Import | ast.ImportFrom | ast.FunctionDef
                      | ast.AsyncFunctionDef | ast.Global | ast.Nonlocal):
            continue
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
            continue  # docstrings and stray literals
        if isinstance(node, ast.If | ast.While) and isinstance(node.test, ast.Constant):
            if not node.test.value:
                out.extend(_live(node.orelse, p) if isinstance(node, ast.If) else [])
                continue
            if isinstance(node, ast.If):
                out.extend(_live(node.body, p))
                continue
        if _dead_assignment(node, p):
            continue
        out.append(node)
        if isinstance(node, _TERMINAL):
            break  # the rest of the block never runs
    return out


def _dead_assignment(node: ast.stmt, p: _Program) -> bool:
    if isinstance(node, ast.Assign):
        targets = node.targets
    elif isinstance(node, ast.AnnAssign | ast.AugAssign):
        targets = [node.target]
    else:
        return False
    if not all(isinstance(t, ast.Name) or (isinstance(t, ast.Tuple | ast.List) and all(
            isinstance(e, ast.Name) for e in t.elts)) for t in targets):
        return False  # attribute, subscript or starred targets: a write someone may see
    _, writes, _, calls = p.summary(node)
    return not calls and not any(p.used(w) for w in writes)


_SYNTHETIC: _Summary = (set(), set(), True, True)  # a made-up call (files of definitions only)


def _canonical_order(units: list[tuple[list[list[str]], ast.stmt]],
                     p: _Program) -> list[list[list[str]]]:
    """Topological order of the block's dependency graph, smallest label sequence first."""
    n = len(units)
    if n < 2 or n > _MAX_REORDER:
        return [u[0] for u in units]
    info = [_SYNTHETIC if getattr(node, "synthetic", False) else p.summary(node)
            for _, node in units]
    keys = ["\x00".join("\x01".join(s) for s in seqs) for seqs, _ in units]
    preds = [0] * n
    succ: list[list[int]] = [[] for _ in range(n)]
    for j in range(n):
        rj, wj, ej, _ = info[j]
        for i in range(j):
            ri, wi, ei, _ = info[i]
            if (ei and ej) or wi & (rj | wj) or ri & wj:
                succ[i].append(j)
                preds[j] += 1
    ready = [(keys[i], i) for i in range(n) if preds[i] == 0]
    heapq.heapify(ready)
    order = []
    while ready:
        _, i = heapq.heappop(ready)
        order.append(units[i][0])
        for j in succ[i]:
            preds[j] -= 1
            if preds[j] == 0:
                heapq.heappush(ready, (keys[j], j))
    return order


def _entry(tree: ast.Module) -> list[ast.stmt]:
    """The module's own statements, the ``__main__`` guard unwrapped."""
    body: list[ast.stmt] = []
    for node in tree.body:
        if isinstance(node, ast.If) and _is_main_guard(node.test):
            body.extend(node.body)
        else:
            body.append(node)
    return body


def _roots(p: _Program, em: _Emitter) -> list[list[str]]:
    """The functions the module's own code never ran, as if called after it. Functions
    nothing else refers to go first, so a helper is inlined in its caller rather than
    emitted on its own."""
    out: list[list[str]] = []
    for first in (True, False):
        for fn in p.funcs.values():
            if fn.name in em.cache or (first and p.used(fn.name)):
                continue
            out.extend(em.body(fn))
    return out


def _call_of(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> ast.Expr:
    node = ast.Expr(ast.Call(func=ast.Name(fn.name, ast.Load()), args=[], keywords=[]))
    node.synthetic = True  # no summary of its own: ordered as a call with effects
    return node


def _is_main_guard(test: ast.expr) -> bool:
    return (isinstance(test, ast.Compare) and isinstance(test.left, ast.Name)
            and test.left.id == "__name__")


def canonical_labels(tree: ast.AST | None, *, functions: bool = False) -> list[list[str]]:
    """The normalised program as one label sequence per top-level statement.

    Parameters
    ----------
    tree : ast.Module or None
        A parsed file (``ast_features.parse_tolerant``); None gives an empty list.
    functions : bool, default=False
        Instead of what runs, every function's body as if it were called at the top level
        (for starter code: its helpers are subtracted wherever a student inlines them).

    Returns
    -------
    list of list of str

    Examples
    --------
    >>> import ast
    >>> a = canonical_labels(ast.parse("x = 1\\ny = 2\\nprint(x, y)"))
    >>> a == canonical_labels(ast.parse("y = 2\\nx = 1\\nunused = 3\\nprint(x, y)"))
    True
    """
    return _labels(tree, None, functions)[1 if functions else 0]


def _labels(tree: ast.AST | None, text: str | None = None, functions: bool = False
            ) -> tuple[list[list[str]], list[list[str]]]:
    """What runs, and (when asked) every function's body, from one pass over the file."""
    if not isinstance(tree, ast.Module):
        return [], []
    try:
        p = _Program(tree, text)
        em = _Emitter(p)
        run = em.block(_entry(tree))
        run.extend(_roots(p, em))
        bodies = [s for fn in p.funcs.values() for s in em.body(fn)] if functions else []
    except RecursionError:  # absurdly nested code: no normalised stream, the rest still works
        return [], []
    return run, bodies


def _encode(seqs: list[list[str]]) -> str:
    return STATEMENT_SEP.join(["".join(map(_char, seq)) for seq in seqs])


def canonical_stream(tree: ast.AST | None, *, functions: bool = False) -> str:
    """The normalised program as one character per label, statements separated by
    ``STATEMENT_SEP`` (see ``canonical_labels``)."""
    return canonical_streams(tree, functions=functions)[1 if functions else 0]


def canonical_streams(tree: ast.AST | None, text: str | None = None, *,
                      functions: bool = False) -> tuple[str, str]:
    """``canonical_stream(tree)`` and, when ``functions``, ``canonical_stream(tree,
    functions=True)`` (else ``""``) at once; ``text`` (the parsed source) spares a walk over
    the tree for its identifiers."""
    run, bodies = _labels(tree, text, functions)
    return _encode(run), _encode(bodies)
