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

from similarity.ast_features import _CALLING, _EFFECT_NODES, PURE_BUILTINS, TERMINAL_NODES, Summary
from similarity.ast_features import _info as _ast_info

__all__ = ["canonical_stream", "canonical_streams", "canonical_labels", "STATEMENT_SEP"]

STATEMENT_SEP = "\x1d"  # not in any label's character range: n-grams may span statements

_BUILTINS = frozenset(n for n in dir(builtins) if not n.startswith("_"))
# Builtins without side effects: calls to them do not order statements.
_PURE = PURE_BUILTINS
_COMMUTATIVE = (ast.Add, ast.Mult, ast.BitAnd, ast.BitOr, ast.BitXor)
_FLIP = {ast.Gt: ast.Lt, ast.GtE: ast.LtE}
_TERMINAL = TERMINAL_NODES
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
    # surrogatepass: a string literal may hold an escaped lone surrogate ("\udcff")
    data = label.encode("utf-8", "surrogatepass")
    h = int.from_bytes(hashlib.blake2b(data, digest_size=4).digest(), "little")
    return chr(0xE000 + h % 6400)


def _subclasses(base: type) -> set[type]:
    out = set()
    for c in base.__subclasses__():
        out |= {c} | _subclasses(c)
    return out


# Contexts and operators carry no names: never visited on their own.
_LEAVES = frozenset(_subclasses(ast.expr_context) | _subclasses(ast.operator)
                    | _subclasses(ast.boolop) | _subclasses(ast.unaryop) | _subclasses(ast.cmpop))
_Summary = Summary  # reads, writes, effect, calls anything


class _ByType(dict):
    """``type -> fn(type)``, computed on first sight of each type. Every per-node decision
    below is one look-up here instead of a chain of isinstance tests (isinstance against an
    AST class costs about 50 ns per class named). Computed with issubclass, so a subclass goes
    where isinstance would send it."""

    def __init__(self, fn):
        super().__init__()
        self.fn = fn

    def __missing__(self, t: type):
        v = self[t] = self.fn(t)
        return v


# How ``_Program._scan`` treats each node type, and the fields of each type that may hold
# nodes (from the ASDL signature, as ``ast_features`` reads it: contexts, operators and
# identifiers are skipped).
_K_NAME, _K_CONST, _K_STMT, _K_CALL, _K_TARGET, _K_CALLING, _K_OTHER = (
    "name", "const", "stmt", "call", "target", "calling", "other")
_SCAN_FIELDS: dict[type, tuple[str, ...]] = {}


def _scan_kind(t: type) -> str | None:
    """The kind of a walked node type, None for a type never walked (contexts, operators,
    non-nodes)."""
    if not issubclass(t, ast.AST) or t in _LEAVES:
        return None
    kind = (_K_NAME if t is ast.Name else _K_CONST if t is ast.Constant
            else _K_STMT if issubclass(t, ast.stmt) else _K_CALL if t is ast.Call
            else _K_TARGET if t is ast.Attribute or t is ast.Subscript
            else _K_CALLING if issubclass(t, _CALLING) else _K_OTHER)
    _SCAN_FIELDS[t] = tuple(f for f, _ in _ast_info(t)[2])
    return kind


_SCAN_KIND = _ByType(_scan_kind)
_IS_EFFECT = _ByType(lambda t: issubclass(t, _EFFECT_NODES))
_IS_FUNC = _ByType(lambda t: issubclass(t, (ast.FunctionDef, ast.AsyncFunctionDef)))


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

    def __init__(self, tree: ast.Module, text: str | None = None,
                 summaries: dict[int, _Summary] | None = None):
        self.funcs: dict[str, ast.FunctionDef | ast.AsyncFunctionDef] = {}
        # Summaries made by ``ast_features``' walk of this tree, where it was walked; the
        # others are made here when first needed.
        self._summary: dict[int, _Summary] = summaries if summaries is not None else {}
        is_func = _IS_FUNC
        stack: deque[ast.stmt] = deque(tree.body)
        while stack:  # statements only (nested functions, methods): no expression is visited
            n = stack.popleft()
            if is_func[type(n)]:
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
        into shared sets, its nested statements by recursion (bounded by block nesting).
        Names and constants, half the nodes, are taken where their parent lists them."""
        reads: set[str] = set()
        writes: set[str] = set()
        effect = _IS_EFFECT[type(node)]
        calls = False
        stack = [node]
        kinds, fields_of, load, pure = _SCAN_KIND, _SCAN_FIELDS, ast.Load, _PURE
        name_k, const_k, stmt_k = _K_NAME, _K_CONST, _K_STMT
        push = stack.append
        while stack:
            n = stack.pop()
            t = type(n)
            kind = kinds[t]
            if kind is name_k:
                (reads if type(n.ctx) is load else writes).add(n.id)
                continue
            if kind is stmt_k:
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
                effect = effect or _IS_EFFECT[t]
            for name in fields_of[t]:
                v = getattr(n, name, None)
                for c in v if type(v) is list else (v,):
                    k = kinds[type(c)]
                    if k is name_k:
                        (reads if type(c.ctx) is load else writes).add(c.id)
                    elif k is not None and k is not const_k:
                        push(c)
        out = (reads, writes, effect, calls)
        self._summary[id(node)] = out
        return out

    def callee(self, call: ast.Call) -> ast.FunctionDef | ast.AsyncFunctionDef | None:
        f = call.func
        k = _CALLEE_KIND[type(f)]
        name = f.id if k == 1 else f.attr if k == 2 else None
        return self.funcs.get(name) if name else None


_CALLEE_KIND = _ByType(lambda t: 1 if issubclass(t, ast.Name)
                       else 2 if issubclass(t, ast.Attribute) else 0)


def _literal(v: object) -> str:
    """A literal's label keeps its value: a renamed copy keeps its constants and messages,
    and they tell as much as the structure (copydetect keeps them as written in its k-grams).
    Values everyone shares (file names, column names) are suppressed as common code later."""
    t = type(v)
    if t is str:
        return "Str:" + v[:_LITERAL_CHARS]  # type: ignore[index]
    if t is bytes or isinstance(v, str | bytes):
        return "Str:" + (v if isinstance(v, str) else repr(v))[:_LITERAL_CHARS]
    return f"Const:{v!r}"[:_LITERAL_CHARS]


# Branches of ``_Emitter.expr`` (in the order its isinstance tests were written).
(_E_NAME, _E_CONST, _E_FSTR, _E_CALL, _E_ATTR, _E_BINOP, _E_BOOLOP, _E_COMPARE, _E_COMP,
 _E_OTHER) = range(10)
_COMPS = (ast.ListComp, ast.SetComp, ast.GeneratorExp, ast.DictComp)


def _kind_by_base(t: type, table: tuple, other: int) -> int:
    """The kind of the first base in ``table`` that ``t`` derives from, else ``other`` (the
    generic branch, whose node fields are registered here)."""
    for kind, base in table:
        if issubclass(t, base):
            return kind
    if issubclass(t, ast.AST):  # the generic branch: its fields that may hold nodes
        _SCAN_KIND[t]  # noqa: B018 (registers the type's fields)
    return other


_EXPR_BASES = ((_E_NAME, ast.Name), (_E_CONST, ast.Constant), (_E_FSTR, ast.JoinedStr),
               (_E_CALL, ast.Call), (_E_ATTR, ast.Attribute), (_E_BINOP, ast.BinOp),
               (_E_BOOLOP, ast.BoolOp), (_E_COMPARE, ast.Compare), (_E_COMP, _COMPS))
_EXPR_KIND = _ByType(lambda t: _kind_by_base(t, _EXPR_BASES, _E_OTHER))
_EXPR_CHILD = _ByType(lambda t: issubclass(t, (ast.expr, ast.comprehension, ast.keyword,
                                                 ast.arg, ast.arguments)))
_IS_EXPR = _ByType(lambda t: issubclass(t, ast.expr))
_B_LABEL = {n: f"B:{n}" for n in _BUILTINS}
_CALL_LABEL = {n: f"Call:{n}" for n in _BUILTINS}
_IS_COMMUTATIVE = _ByType(lambda t: issubclass(t, _COMMUTATIVE))


def _children(node: ast.AST, wanted: _ByType) -> list[ast.AST]:
    """``ast.iter_child_nodes(node)`` (in its order) of the types ``wanted`` says yes to."""
    out = []
    t = type(node)
    fields = _SCAN_FIELDS.get(t)
    if fields is None:
        fields = node._fields  # not a walked type (never in a parsed tree): every field
    for name in fields:
        v = getattr(node, name, None)
        if type(v) is list:
            out += [c for c in v if wanted[type(c)]]
        elif wanted[type(v)]:
            out.append(v)
    return out


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
        kind = _EXPR_KIND[type(node)]
        if kind == _E_NAME:
            out.append(_B_LABEL.get(node.id, "ID"))
        elif kind == _E_CONST:
            out.append(_literal(node.value))
        elif kind == _E_CALL:
            self.call(node, out, pre)
        elif kind == _E_ATTR:
            out.append("Attr")
            self.expr(node.value, out, pre)
        elif kind == _E_BINOP:
            out.append(f"BinOp:{type(node.op).__name__}")
            # (through ``sub``, as before: as many frames per level, so the same depth of
            # absurd nesting gives up with RecursionError)
            left = self.sub(node.left, pre)
            right = self.sub(node.right, pre)
            if _IS_COMMUTATIVE[type(node.op)] and right < left:
                left, right = right, left
            out += left
            out += right
        elif kind == _E_FSTR:
            out.append("Str")
            for v in node.values:
                if isinstance(v, ast.FormattedValue):
                    self.expr(v.value, out, pre)
        elif kind == _E_BOOLOP:
            out.append(f"BoolOp:{type(node.op).__name__}")
            for p in sorted(self.sub(v, pre) for v in node.values):
                out += p
        elif kind == _E_COMPARE:
            left, ops, comps = node.left, node.ops, node.comparators
            if len(ops) == 1 and type(ops[0]) in _FLIP:
                left, ops, comps = comps[0], [_FLIP[type(ops[0])]()], [left]
            out.append("Compare:" + ",".join(type(o).__name__ for o in ops))
            self.expr(left, out, pre)
            for c in comps:
                self.expr(c, out, pre)
        elif kind == _E_COMP:
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
            for child in _children(node, _EXPR_CHILD):
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
        args = [*node.args, *[k.value for k in node.keywords]] if node.keywords else node.args
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
        k = _CALLEE_KIND[type(f)]
        if k == 1:
            out.append(_CALL_LABEL.get(f.id, "Call"))
        elif k == 2:
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
        kind = _STMT_KIND[type(node)]
        if kind == _S_EXPR:
            if _EXPR_KIND[type(node.value)] == _E_CALL \
                    and self.inlinable(node.value) is not None:
                self.call(node.value, [], pre)  # a helper called for its effect: its body
                return pre
            out.append("Expr")
            self.expr(node.value, out, pre)
        elif kind == _S_ASSIGN:
            out.append("Assign")
            for t in node.targets:
                self.expr(t, out, pre)
            self.expr(node.value, out, pre)
        elif kind == _S_ANNASSIGN:
            out.append("Assign")
            self.expr(node.target, out, pre)
            self.expr(node.value, out, pre)
        elif kind == _S_AUGASSIGN:
            out.append("Assign")
            self.expr(node.target, out, pre)
            self.expr(ast.BinOp(left=node.target, op=node.op, right=node.value), out, pre)
        elif kind == _S_RETURN:
            out.append("Assign" if inlined else "Return")
            if inlined:
                out.append("ID")
            self.expr(node.value, out, pre)
        elif kind == _S_IF:
            return pre + self.compound(["If"], node.test, [node.body, node.orelse], inlined,
                                       pre)
        elif kind == _S_FOR:
            return pre + self.compound(["Loop"], node.iter, [node.body, node.orelse], inlined,
                                       pre)
        elif kind == _S_WHILE:
            return pre + self.compound(["Loop"], node.test, [node.body, node.orelse], inlined,
                                       pre)
        elif kind == _S_WITH:
            return pre + self.compound(["With"], None, [node.body], inlined, pre,
                                       [i.context_expr for i in node.items])
        elif kind == _S_TRY:
            blocks = [node.body, *(h.body for h in node.handlers), node.orelse, node.finalbody]
            return pre + self.compound(["Try"], None, blocks, inlined, pre)
        elif kind == _S_CLASS:
            return []  # methods are emitted where they are called
        else:
            out.append(type(node).__name__)
            for child in _children(node, _IS_EXPR):
                self.expr(child, out, pre)
        return [*pre, out]

    def compound(self, head: list[str], test: ast.AST | None, blocks: list[list[ast.stmt]],
                 inlined: bool, pre: list[list[str]], extra: list[ast.AST] = ()
                 ) -> list[list[str]]:
        out = head
        self.expr(test, out, pre)
        for e in extra:
            self.expr(e, out, pre)
        for b in blocks:
            if b:
                out.append("{")
                for s in self.block(b, inlined):
                    out += s
                out.append("}")
        return [out]  # one statement: moved as a whole

    def block(self, body: list[ast.stmt], inlined: bool = False) -> list[list[str]]:
        """A block's statements, dead code removed, independent statements ordered."""
        units: list[tuple[list[list[str]], ast.stmt]] = []
        for node in _live(body, self.p):
            seqs = [s for s in self.stmt(node, inlined) if s]
            if seqs:
                units.append((seqs, node))
        if len(units) < 2:
            return [s for seqs, _ in units for s in seqs]
        return [s for seqs in _canonical_order(units, self.p) for s in seqs]


# Branches of ``_Emitter.stmt`` (in the order its isinstance tests were written).
(_S_EXPR, _S_ASSIGN, _S_ANNASSIGN, _S_AUGASSIGN, _S_RETURN, _S_IF, _S_FOR, _S_WHILE, _S_WITH,
 _S_TRY, _S_CLASS, _S_OTHER) = range(12)


_STMT_BASES = ((_S_EXPR, ast.Expr), (_S_ASSIGN, ast.Assign), (_S_ANNASSIGN, ast.AnnAssign),
               (_S_AUGASSIGN, ast.AugAssign), (_S_RETURN, ast.Return), (_S_IF, ast.If),
               (_S_FOR, (ast.For, ast.AsyncFor)), (_S_WHILE, ast.While),
               (_S_WITH, (ast.With, ast.AsyncWith)), (_S_TRY, ast.Try),
               (_S_CLASS, ast.ClassDef))
_STMT_KIND = _ByType(lambda t: _kind_by_base(t, _STMT_BASES, _S_OTHER))

# What ``_live`` does with a statement type: leave it out, or look closer.
_L_KEEP, _L_SKIP, _L_EXPR, _L_IF, _L_WHILE = range(5)


def _live_kind(t: type) -> int:
    if issubclass(t, (ast.Pass, ast.Import, ast.ImportFrom, ast.FunctionDef,
                      ast.AsyncFunctionDef, ast.Global, ast.Nonlocal)):
        return _L_SKIP
    if issubclass(t, ast.Expr):
        return _L_EXPR
    if issubclass(t, ast.If):
        return _L_IF
    if issubclass(t, ast.While):
        return _L_WHILE
    return _L_KEEP


_LIVE_KIND = _ByType(_live_kind)
_IS_CONST = _ByType(lambda t: issubclass(t, ast.Constant))
_IS_TERMINAL = _ByType(lambda t: issubclass(t, _TERMINAL))
# Assignment statements (``_dead_assignment``): 1 with ``targets``, 2 with one ``target``.
_ASSIGN_KIND = _ByType(lambda t: 1 if issubclass(t, ast.Assign)
                       else 2 if issubclass(t, (ast.AnnAssign, ast.AugAssign)) else 0)
# Assignment targets: 1 a name, 2 a tuple or list (of names, if it is to be dead), 0 other.
_TARGET_KIND = _ByType(lambda t: 1 if issubclass(t, ast.Name)
                       else 2 if issubclass(t, (ast.Tuple, ast.List)) else 0)


def _live(body: list[ast.stmt], p: _Program) -> list[ast.stmt]:
    """The statements of a block that can matter (see the module docstring)."""
    out = []
    kinds, is_const = _LIVE_KIND, _IS_CONST
    for node in body:
        kind = kinds[type(node)]
        if kind == _L_SKIP:
            continue
        if kind == _L_EXPR:
            if is_const[type(node.value)]:
                continue  # docstrings and stray literals
        elif kind != _L_KEEP and is_const[type(node.test)]:
            if not node.test.value:
                out.extend(_live(node.orelse, p) if kind == _L_IF else [])
                continue
            if kind == _L_IF:
                out.extend(_live(node.body, p))
                continue
        if _dead_assignment(node, p):
            continue
        out.append(node)
        if _IS_TERMINAL[type(node)]:
            break  # the rest of the block never runs
    return out


def _dead_assignment(node: ast.stmt, p: _Program) -> bool:
    kind = _ASSIGN_KIND[type(node)]
    if kind == 1:
        targets = node.targets
    elif kind == 2:
        targets = [node.target]
    else:
        return False
    tk = _TARGET_KIND
    for t in targets:
        k = tk[type(t)]
        if k == 1:
            continue
        if k == 2 and all(tk[type(e)] == 1 for e in t.elts):
            continue
        return False  # attribute, subscript or starred targets: a write someone may see
    _, writes, _, calls = p.summary(node)
    return not calls and not any(p.used(w) for w in writes)


_PAIRWISE_MAX = 8  # blocks up to this long test every pair of statements (cheaper than masks)


def _canonical_order(units: list[tuple[list[list[str]], ast.stmt]],
                     p: _Program) -> list[list[list[str]]]:
    """Topological order of the block's dependency graph, smallest label sequence first.

    Statement ``j`` depends on an earlier ``i`` when both have effects, ``i`` writes a name
    ``j`` reads or writes, or ``i`` reads a name ``j`` writes. In a long block the earlier
    statements are found per name (bit masks of statements, by name): linear in the names,
    not quadratic in the statements."""
    n = len(units)
    if n < 2 or n > _MAX_REORDER:
        return [u[0] for u in units]
    keys = ["\x00".join(["\x01".join(s) for s in seqs]) for seqs, _ in units]
    preds = [0] * n
    succ: list[list[int]] = [[] for _ in range(n)]
    info = [p.summary(node) for _, node in units]
    if n <= _PAIRWISE_MAX:  # few statements: every pair, by set tests in C
        for j in range(1, n):
            rj, wj, ej, _ = info[j]
            for i in range(j):
                ri, wi, ei, _ = info[i]
                if (ei and ej) or not (wi.isdisjoint(rj) and wi.isdisjoint(wj)
                                       and ri.isdisjoint(wj)):
                    succ[i].append(j)
                    preds[j] += 1
    else:  # the earlier statements by name: linear in the names
        writers: dict[str, int] = {}  # name -> bit mask of the statements so far writing it
        readers: dict[str, int] = {}
        effects = 0  # bit mask of the statements so far with effects
        for j in range(n):
            rj, wj, ej, _ = info[j]
            mask = effects if ej else 0
            for name in rj:
                mask |= writers.get(name, 0)
            for name in wj:
                mask |= writers.get(name, 0) | readers.get(name, 0)
            if mask:
                preds[j] = mask.bit_count()
                while mask:
                    low = mask & -mask
                    succ[low.bit_length() - 1].append(j)
                    mask ^= low
            bit = 1 << j
            if ej:
                effects |= bit
            for name in rj:
                readers[name] = readers.get(name, 0) | bit
            for name in wj:
                writers[name] = writers.get(name, 0) | bit
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


def _labels(tree: ast.AST | None, text: str | None = None, functions: bool = False,
            summaries: dict[int, _Summary] | None = None
            ) -> tuple[list[list[str]], list[list[str]]]:
    """What runs, and (when asked) every function's body, from one pass over the file."""
    if not isinstance(tree, ast.Module):
        return [], []
    try:
        p = _Program(tree, text, summaries)
        em = _Emitter(p)
        run = em.block(_entry(tree))
        run.extend(_roots(p, em))
        bodies = [s for fn in p.funcs.values() for s in em.body(fn)] if functions else []
    except RecursionError:  # absurdly nested code: no normalised stream, the rest still works
        return [], []
    return run, bodies


# Each label's character, for ``_encode``'s loop in C (``map`` over the dict's __getitem__);
# emptied when it holds _CHARS_MAX labels (literal values make the labels an open set).
_CHARS: dict[str, str] = {}
_CHARS_MAX = 1 << 16


def _encode(seqs: list[list[str]]) -> str:
    try:
        return STATEMENT_SEP.join(["".join(map(_CHARS.__getitem__, seq)) for seq in seqs])
    except KeyError:
        if len(_CHARS) > _CHARS_MAX:
            _CHARS.clear()
        # This file's labels in a dict of its own: another thread may empty _CHARS meanwhile.
        chars: dict[str, str] = {}
        for seq in seqs:
            for label in seq:
                if label not in chars:
                    c = _CHARS.get(label)
                    if c is None:
                        c = _CHARS[label] = _char(label)
                    chars[label] = c
        return STATEMENT_SEP.join(["".join(map(chars.__getitem__, seq)) for seq in seqs])


def canonical_stream(tree: ast.AST | None, *, functions: bool = False) -> str:
    """The normalised program as one character per label, statements separated by
    ``STATEMENT_SEP`` (see ``canonical_labels``)."""
    return canonical_streams(tree, functions=functions)[1 if functions else 0]


def canonical_streams(tree: ast.AST | None, text: str | None = None, *,
                      functions: bool = False, summaries: dict[int, _Summary] | None = None
                      ) -> tuple[str, str]:
    """``canonical_stream(tree)`` and, when ``functions``, ``canonical_stream(tree,
    functions=True)`` (else ``""``) at once; ``text`` (the parsed source) spares a walk over
    the tree for its identifiers, and ``summaries`` (from ``ast_feature_counts`` on the same
    tree, still alive: they are keyed by node id) a walk over its expressions."""
    run, bodies = _labels(tree, text, functions, summaries)
    return _encode(run), _encode(bodies)
