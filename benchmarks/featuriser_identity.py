#!/usr/bin/env python3
"""The featuriser gives the same output as an earlier revision: every field of
``FileFeatures``, for every file of the given folders and for a set of adversarial sources.

The earlier revision's ``similarity`` package is taken out of git (``git archive``) into a
temporary folder and run in its own process; its features come back pickled and are compared,
field by field and type by type, with the working tree's. Each source is featurised twice,
with ``functions=False`` and ``functions=True``.

    benchmarks/featuriser_identity.py --ref a30e4c0 /tmp/class /path/to/irplag tests
"""

from __future__ import annotations

import argparse
import dataclasses
import pickle
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
MAX_BYTES = 1 << 20


def adversarial() -> dict[str, str]:
    """Sources that stress the lexer, the parser fallback and the tree walks."""
    deep_expr = "x = " + "(" * 1000 + "1" + ")" * 1000 + "\n"
    deep_list = "x = " + "[" * 150 + "]" * 150 + "\n"
    deep_blocks = "".join("    " * i + f"if x{i}:\n" for i in range(90)) + "    " * 90 + "y = 1\n"
    deep_binop = "y = " + " + ".join(f"a{i}" for i in range(3000)) + "\n"
    deep_calls = "z = " + "f(" * 200 + "1" + ")" * 200 + "\n"
    deep_attr = "w = a" + ".b" * 2000 + "\n"
    deep_defs = "".join("    " * i + f"def f{i}(a):\n" for i in range(60)) + "    " * 60 + \
        "return a\n"
    many_stmts = "".join(f"v{i % 37} = v{(i * 7) % 41} + {i}\nprint(v{i % 13})\n"
                         for i in range(400))
    deeper = {}
    for n in (150, 240, 330, 500):  # around the depth where the walks give up
        deeper[f"blocks_{n}"] = "".join(" " * i + f"if x{i}:\n" for i in range(n)) + \
            " " * n + "y = 1\n"
        deeper[f"binop_{n}"] = "y = " + " + ".join(f"a{i}" for i in range(2 * n)) + "\n"
        deeper[f"calls_{n}"] = "z = " + "f(" * (n // 2) + "1" + ")" * (n // 2) + "\n"
    for n in range(200, 520, 8):  # a + b + ...: where the canonical stream gives up
        use = "print(y)\n"  # (an assignment nothing reads is dropped before it is walked)
        deeper[f"binop_sweep_{2 * n}"] = "y = " + " + ".join(f"a{i}" for i in range(2 * n)) \
            + "\n" + use
        deeper[f"attr_sweep_{n}"] = "y = a" + ".b" * n + "\n" + use
        deeper[f"nest_sweep_{n}"] = "y = " + "-(" * (n // 2) + "1" + ")" * (n // 2) + "\n" + use
    return deeper | {
        "empty": "",
        "blank": "\n\n   \n",
        "only_comment": "# just a comment here that is long enough\n",
        "docstring_only": '"""A module docstring with several words in it."""\n',
        "syntax_error": "def f(:\n    return 1\nx = [1, 2\nprint(x)\n",
        "syntax_error_late": "x = 1\ny = 2\n" * 50 + "def (\n" + "z = 3\n" * 20,
        "unterminated_string": "s = 'abc\nt = \"\"\"never closed\n",
        "python2": "print 'hello'\nexec 'x = 1'\nraise E, 'v'\n",
        "tabs": "def f(x):\n\tif x:\n\t\treturn x\n\telse:\n\t    return -x\n",
        "mixed_indent": "if a:\n        b = 1\n    c = 2\n  d = 3\n",
        "huge_line": "x = [" + ", ".join(str(i) for i in range(20000)) + "]\n",
        "huge_string": "s = '" + "word " * 50000 + "'\n",
        "non_utf8_replaced": b"x = '\xff\xfe caf\xe9'\n# comment \x80\x81 here ok\n".decode(
            "utf-8", errors="replace"),
        "nul": "x = 1\x00\ny = 2\n",
        "crlf": "def f(a, b):\r\n    return a + b\r\n\r\nprint(f(1, 2))\r\n",
        "cr_only": "x = 1\ry = 2\r",
        "continuations": "x = 1 + \\\n    2 + \\\n    3\nif x and \\\n   y:\n    pass\n",
        "deep_expr": deep_expr,
        "deep_list": deep_list,
        "deep_blocks": deep_blocks,
        "deep_binop": deep_binop,
        "deep_calls": deep_calls,
        "deep_attr": deep_attr,
        "deep_defs": deep_defs,
        "many_stmts": many_stmts,
        "async": ("import asyncio\nasync def g(n):\n    async with lock as l:\n"
                  "        async for i in aiter(n):\n            await asyncio.sleep(i)\n"
                  "            yield i\n    return\nasync def main():\n"
                  "    r = [x async for x in g(3)]\n    await g(1)\nasyncio.run(main())\n"),
        "match": ("def h(cmd):\n    match cmd:\n        case ['go', d] if d > 0:\n"
                  "            return d\n        case {'k': v, **rest}:\n            return v\n"
                  "        case Point(x=0, y=yy) | [_, yy]:\n            return yy\n"
                  "        case str() as s:\n            return s\n        case _:\n"
                  "            return None\nprint(h(['go', 1]))\n"),
        "walrus": ("if (n := len(a)) > 10:\n    print(n)\nwhile (line := f.readline()):\n"
                   "    total += len(line)\nys = [y for x in xs if (y := g(x)) is not None]\n"),
        "decorators": ("import functools\n@functools.lru_cache(maxsize=None)\n@staticmethod\n"
                       "def fib(n):\n    return n if n < 2 else fib(n - 1) + fib(n - 2)\n"
                       "class A(B, metaclass=M):\n    @property\n    def v(self) -> int:\n"
                       "        return self._v\n    @v.setter\n    def v(self, x):\n"
                       "        self._v = x\nprint(fib(10), A().v)\n"),
        "lambdas": ("key = lambda x, *a, k=1, **kw: (x[1], -x[0])\nitems.sort(key=key)\n"
                    "f = (lambda: (lambda y: y * 2))()\nprint(sorted(d, key=lambda k: d[k]))\n"),
        "nested_functions": ("def outer(a):\n    def helper(b):\n        def inner(c):\n"
                             "            return c * 2\n        return inner(b) + 1\n"
                             "    x = helper(a)\n    unused = 5\n    return x\n"
                             "def never(q):\n    return q\nprint(outer(3))\n"),
        "global_nonlocal": ("count = 0\ndef bump():\n    global count\n    count += 1\n"
                            "def mk():\n    n = 0\n    def inc():\n        nonlocal n\n"
                            "        n += 1\n        return n\n    return inc\nbump()\n"
                            "print(mk()(), count)\n"),
        "try_with": ("try:\n    with open(p) as f, open(q) as g:\n        data = f.read()\n"
                     "except (IOError, ValueError) as e:\n    raise RuntimeError('bad') from e\n"
                     "except* TypeError:\n    pass\nelse:\n    print(data)\nfinally:\n"
                     "    del data\n"),
        "dead_code": ("def f(x):\n    return x\n    print('never')\nif False:\n    y = 1\n"
                      "else:\n    y = 2\nwhile 0:\n    z = 3\nif True:\n    w = 4\n"
                      "while 1:\n    break\npass\nx = 5\nprint(f(y), w)\n"),
        "main_guard": ("def main():\n    a = 1\n    b = 2\n    print(a + b)\n"
                       "if __name__ == '__main__':\n    main()\n    main()\n"),
        "fstrings": ("name = 'x'\nprint(f'{name!r:>10} and {name=} {{literal}} {a + b:.{p}f}')\n"
                     "s = rb'raw\\bytes' + b'\\x00'\nu = u'unicode'\nt = '''multi\nline'''\n"),
        "comparisons": ("a = x > y\nb = x >= y > z\nc = not (x in y)\nd = x is not None\n"
                        "e = -x ** 2 // 3 % 4 @ m\nf = x & y | z ^ ~w << 2 >> 1\n"
                        "g = a and b or c\nh = a if b else c\nprint(a, b, c, d, e, f, g, h)\n"),
        "augassign": ("x = 0\nfor i in range(10):\n    x += i\n    x -= 1\n    x *= 2\n"
                      "    x //= 3\n    x **= 1\n    x @= m\n    x |= 1\nprint(x)\n"),
        "annotations": ("from typing import Generic, TypeVar\nT = TypeVar('T')\n"
                        "def f[U](a: list[int], /, b: 'str' = 'x', *, c: T) -> dict[str, U]:\n"
                        "    v: int = 1\n    w: float\n    return {}\ntype Alias = list[int]\n"
                        "class C[V](Generic[T]):\n    attr: int = 3\nprint(f([1], c=2))\n"),
        "star": ("a, *b = range(5)\nprint(*b, **{'sep': ','})\nfirst, (second, *rest) = x\n"
                 "[p, q] = r\nd = {**e, 'k': 1}\ns = {*a, *b}\n"),
        "slices": "y = x[1:2, ::3, ...]\nz = x[a][b].c[d:e]\nx[0].attr = 5\ndel x[1], y.a\n",
        "assert_yield": ("def gen():\n    assert x, 'msg'\n    yield from range(3)\n"
                         "    y = yield 5\n    return y\nlist(gen())\n"),
        "stray_chars": "x = 1 $ 2\ny = `z`\n? ?\nprint(x ! y)\n",
        "unicode_idents": "café = 1\nπ = 3.14\n变量 = café + π\nprint(变量)\n",
        "numbers": "a = 0x_ff + 0o17 + 0b1010 + 1_000 + 1e-3 + 2j + .5 + 5. + 1E+5J\n",
        "long_comments": "\n".join(f"# comment number {i} says something about the code"
                                   for i in range(200)) + "\nx = 1\n",
        "redefined": ("def f():\n    return 1\ndef f():\n    return 2\nclass K:\n"
                      "    def f(self):\n        return 3\nprint(f(), K().f())\n"),
        "recursive_helper": ("def f(n):\n    return f(n - 1) if n else 0\n"
                             "def g(n):\n    return h(n)\ndef h(n):\n    return g(n)\n"
                             "print(f(3), g(1))\n"),
        "many_calls": "def h(a):\n    b = a * 2\n    return b\n" + "".join(
            f"r{i} = h({i})\n" for i in range(20)) + "print(" + ", ".join(
            f"r{i}" for i in range(20)) + ")\n",
        "semicolons": "a = 1; b = 2; print(a); print(b)\nif a: c = 3; d = 4\n",
        "brackets_unbalanced": "x = (1, 2\ny = ]\nz = {'a': [1, 2}\n",
        "indent_error": "def f():\nreturn 1\n  x = 2\n",
        "only_dedent": "    x = 1\ny = 2\n",
        "surrogate_literal": 'x = "\\udcff"\nprint(x, b"\\xff")\n',
        "bom_text": "\ufeffx = 1\n",
        "form_feed": "x = 1\n\f\ndef f():\n    \f return 2\n",
        "global_stmt_top": "global a\nnonlocal b\nimport os, sys as s\nfrom . import x\n",
    }


def _features_dump(files: list[str], extra: dict[str, str], out: str) -> None:
    """Run in the process of the revision under test (its ``similarity`` first on sys.path)."""
    from similarity.features import extract_text
    from similarity.normalize import decode_source, read_bounded

    sources = []
    for f in files:
        text, notes = decode_source(read_bounded(Path(f), MAX_BYTES), MAX_BYTES)
        sources.append((f, text, notes))
    sources += [(f"<{k}>", v, []) for k, v in extra.items()]
    result = {}
    for name, text, notes in sources:
        for functions in (False, True):
            try:
                ff = extract_text(text, name, list(notes), "d", functions)
            except Exception as exc:  # noqa: BLE001 (a failure is an output to compare too)
                result[(name, functions)] = {"error": f"{type(exc).__name__}: {exc}"}
                continue
            result[(name, functions)] = {f.name: getattr(ff, f.name)
                                         for f in dataclasses.fields(ff)}
    with open(out, "wb") as fh:
        pickle.dump(result, fh)


def _same(a: object, b: object) -> bool:
    """Equal in value and in type, all the way down (arrays: dtype, shape and values)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, np.ndarray):
        return a.dtype == b.dtype and a.shape == b.shape and bool(np.array_equal(a, b))
    if isinstance(a, list | tuple):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    return a == b


def _run(src_root: Path, files: list[str], extra: dict[str, str], out: Path) -> None:
    code = ("import sys; sys.path[:0] = [sys.argv[1], sys.argv[2]]; "
            "import pickle; from featuriser_identity import _features_dump; "
            "a = pickle.load(open(sys.argv[3], 'rb')); _features_dump(*a, sys.argv[4])")
    args = out.with_suffix(".args")
    with open(args, "wb") as fh:
        pickle.dump((files, extra), fh)
    subprocess.run([sys.executable, "-c", code, str(src_root), str(ROOT / "benchmarks"),
                    str(args), str(out)], check=True)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--ref", default="HEAD", help="the revision to compare with")
    ap.add_argument("folders", nargs="*", type=Path, help="folders of .py files (recursive)")
    a = ap.parse_args()
    files = sorted(str(f) for d in a.folders for f in Path(d).rglob("*.py") if f.is_file())
    extra = adversarial()
    with tempfile.TemporaryDirectory() as tmp:
        t = Path(tmp)
        (t / "old").mkdir()
        arch = subprocess.run(["git", "-C", str(ROOT), "archive", a.ref, "similarity"],
                              check=True, capture_output=True).stdout
        subprocess.run(["tar", "-x", "-C", str(t / "old")], input=arch, check=True)
        _run(t / "old", files, extra, t / "old.pkl")
        _run(ROOT, files, extra, t / "new.pkl")
        old = pickle.loads((t / "old.pkl").read_bytes())
        new = pickle.loads((t / "new.pkl").read_bytes())
    assert old.keys() == new.keys()
    bad = [(k, f) for k in old for f in old[k].keys() | new[k].keys()
           if not _same(old[k].get(f), new[k].get(f))]
    for (name, functions), f in bad[:20]:
        print(f"DIFFERENT: {name} functions={functions} field {f}: "
              f"{str(old[name, functions].get(f))[:200]!r} -> "
              f"{str(new[name, functions].get(f))[:200]!r}")
    for k, v in old.items():
        if "error" in v:
            print(f"error in {a.ref}: {k[0]} functions={k[1]}: {v['error'][:200]}")
    n_src = len(old) // 2
    print(f"{n_src} sources ({len(files)} files, {len(extra)} adversarial) x 2 modes, "
          f"{sum(len(v) for v in old.values())} fields compared with {a.ref}: "
          f"{len(bad)} different")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
