"""The normalised statement stream (``similarity.canonical``): each disguise it is meant to
see through leaves the stream unchanged, and real changes of behaviour do not."""

from __future__ import annotations

import ast
import textwrap

import numpy as np
import pandas as pd
import pytest

import similarity.factorize as fz
from similarity import SimilarityOptions, compare
from similarity.calibrate import RowStatistics, lift, standout
from similarity.canonical import canonical_labels, canonical_stream


def labels(src: str, **kw) -> list[list[str]]:
    return canonical_labels(ast.parse(textwrap.dedent(src)), **kw)


BASE = """
import sys

def mean(xs):
    total = 0
    for x in xs:
        total += x
    return total / len(xs)

data = [float(v) for v in sys.argv[1:]]
m = mean(data)
limit = 10
print("mean", m)
if m > limit:
    print("large")
"""


def test_dead_code_leaves_the_stream_unchanged():
    dead = """
    import sys
    import os

    def mean(xs):
        '''The mean.'''
        total = 0
        scratch = 17
        for x in xs:
            total += x
            pass
        return total / len(xs)
        print("never runs")

    data = [float(v) for v in sys.argv[1:]]
    m = mean(data)
    if False:
        print("debug", data)
    limit = 10
    ignored = limit * 3
    print("mean", m)
    if m > limit:
        print("large")
    """
    assert labels(dead) == labels(BASE)
    # An inserted function nothing calls only appends to the stream (it runs "at the end").
    unused = labels(BASE + "\ndef unused_helper(a, b):\n    return a * b + 42\n")
    assert unused[: len(labels(BASE))] == labels(BASE) and len(unused) > len(labels(BASE))


def test_independent_statements_reordered_leave_the_stream_unchanged():
    reordered = """
    import sys

    def mean(xs):
        total = 0
        for x in xs:
            total += x
        return total / len(xs)

    limit = 10
    data = [float(v) for v in sys.argv[1:]]
    m = mean(data)
    print("mean", m)
    if limit < m:
        print("large")
    """
    assert labels(reordered) == labels(BASE)


def test_dependent_or_effectful_statements_keep_their_order():
    # Swapping two prints changes what the program does: the stream must change too.
    a = labels("print('a')\nprint('b')\n")
    b = labels("print('b')\nprint('a')\n")
    assert a != b
    # x read before vs after it is rebound: a data dependency, not a free order.
    assert labels("x = 1\ny = x\nx = 2\nprint(x, y)\n") != \
        labels("x = 1\nx = 2\ny = x\nprint(x, y)\n")


def test_extracting_a_helper_leaves_the_stream_unchanged():
    inline = """
    rows = open("data.txt").read().split()
    values = [int(r) for r in rows]
    values.sort()
    print(values[0], values[-1])
    """
    extracted = """
    def report(values):
        values.sort()
        print(values[0], values[-1])

    def main():
        rows = open("data.txt").read().split()
        values = [int(r) for r in rows]
        report(values)

    if __name__ == "__main__":
        main()
    """
    assert labels(extracted) == labels(inline)


def test_helper_with_return_is_inlined_where_it_is_called():
    inline = "n = int(input())\nr = n * n + 1\nprint(r)\n"
    helper = "def f(v):\n    return v * v + 1\n\nn = int(input())\nr = f(n)\nprint(r)\n"
    got = labels(helper)
    # The helper's body (``return`` as an assignment) comes before the call's statement.
    assert ["Assign", "ID", "BinOp:Add", "BinOp:Mult", "ID", "ID", "Const:1"] in got
    assert ["Call"] not in [s[:1] for s in got]  # no call to a user function is left
    assert len(got) == len(labels(inline)) + 1


def test_literals_and_builtins_keep_their_identity():
    assert labels("print(len(x) + 3)\n") != labels("print(len(x) + 4)\n")
    assert labels("print('done')\n") != labels("print('ok')\n")
    assert labels("print(len(x))\n") != labels("print(sum(x))\n")
    assert labels("print(total)\n") == labels("print(renamed_variable)\n")


def test_recursion_and_absurd_nesting_do_not_break_it():
    rec = "def f(n):\n    return 1 if n < 2 else n * f(n - 1)\n\nprint(f(5))\n"
    assert labels(rec)  # recursive helpers are inlined once, then stay calls
    # A tree deeper than the interpreter's recursion limit (built directly: the parser
    # would refuse to read it) gives an empty stream, never an exception.
    node: ast.expr = ast.Constant(1)
    for _ in range(20_000):
        node = ast.BinOp(left=node, op=ast.Add(), right=ast.Constant(1))
    tree = ast.Module(body=[ast.Expr(ast.Call(ast.Name("print", ast.Load()), [node], []))],
                      type_ignores=[])
    assert canonical_stream(tree) == ""
    assert canonical_labels(None) == []


def test_starter_helpers_are_subtracted_where_students_inline_them(tmp_path):
    starter = "def load():\n    return open('train.csv').read().split()\n"
    a = starter + "\nrows = load()\nprint(sorted(rows)[:3])\n"
    b = "rows = open('train.csv').read().split()\nfor r in rows:\n    print(r.upper())\n"
    assert labels(starter, functions=True)  # the starter's bodies, as if called
    (tmp_path / "s").mkdir()
    (tmp_path / "s" / "ana.py").write_text(a)
    (tmp_path / "s" / "bob.py").write_text(b)
    (tmp_path / "starter.py").write_text(starter)
    subs = {"ana": tmp_path / "s" / "ana.py", "bob": tmp_path / "s" / "bob.py"}
    without = compare(subs, options=SimilarityOptions(min_score=0.0))
    with_t = compare(subs, template=tmp_path / "starter.py",
                     options=SimilarityOptions(min_score=0.0))
    fp = [next((p.components["fingerprints"] for p in r.pairs), 0.0) for r in (without, with_t)]
    assert fp[1] < fp[0]


PROGRAM = """
import sys

def read_numbers(path):
    with open(path) as fh:
        return [float(line) for line in fh if line.strip()]

def variance(xs):
    mu = sum(xs) / len(xs)
    acc = 0.0
    for x in xs:
        acc += (x - mu) ** 2
    return acc / (len(xs) - 1)

def main():
    xs = read_numbers(sys.argv[1])
    v = variance(xs)
    print("n =", len(xs))
    print("variance =", round(v, 4))

main()
"""

DISGUISED = """
import sys
import math

def main():
    unused = math.pi * 2
    with open(sys.argv[1]) as handle:
        values = [float(ln) for ln in handle if ln.strip()]
    print("n =", len(values))
    average = sum(values) / len(values)
    total = 0.0
    for item in values:
        total = total + (item - average) ** 2
    result = total / (len(values) - 1)
    print("variance =", round(result, 4))
    return
    print("unreachable")

main()
"""

OTHERS = {
    "fizz": "for i in range(1, 31):\n    print('Fizz' * (i % 3 == 0) + 'Buzz' * (i % 5 == 0) or i)\n",
    "primes": ("def is_prime(n):\n    if n < 2:\n        return False\n    k = 2\n"
               "    while k * k <= n:\n        if n % k == 0:\n            return False\n"
               "        k += 1\n    return True\n\nprint([p for p in range(50) if is_prime(p)])\n"),
    "words": ("import collections\ntext = open('book.txt').read().lower().split()\n"
              "counts = collections.Counter(text)\nfor w, c in counts.most_common(10):\n"
              "    print(f'{w}: {c}')\n"),
    "grid": ("size = 8\nboard = [['.'] * size for _ in range(size)]\nfor r in range(size):\n"
             "    board[r][r] = 'Q'\nprint('\\n'.join(''.join(row) for row in board))\n"),
}


def test_inlined_reordered_copy_with_dead_code_is_found(tmp_path):
    files = {"orig": PROGRAM, "copy": DISGUISED, **OTHERS}
    subs = {}
    for name, src in files.items():
        p = tmp_path / f"{name}.py"
        p.write_text(src)
        subs[name] = p
    result = compare(subs, options=SimilarityOptions(min_score=0.0))
    top = result.pairs[0]
    assert {top.a, top.b} == {"copy", "orig"}
    assert top.flagged
    # The normalised stream sees the same program: helpers inlined, the dead statements out,
    # the print moved before the computation it does not depend on.
    assert top.components["fingerprints"] >= 0.6, top.components


def test_a_pair_that_stands_out_ranks_above_a_look_alike_cluster():
    # Students 0-5 write look-alike programs (0.42 with each other); 6 and 7 are unlike
    # everyone (0.05) but 0.40 with each other: a standout pair below the cluster's scores.
    n = 12
    s = np.full((n, n), 0.05)
    s[:6, :6] = 0.42
    s[6, 7] = s[7, 6] = 0.40
    np.fill_diagonal(s, 1.0)
    stats = RowStatistics(n, floor=0.05).fit_blocks(
        (r, s[r]) for r in np.array_split(np.arange(n), 3))
    rows, cols = np.array([0, 6]), np.array([1, 7])
    code = s[rows, cols]
    lifted = lift(code, standout(code, rows, cols, stats), 0.5, 3.0, 3.0)
    assert lifted[1] > lifted[0]  # the standout pair now ranks first
    assert lifted[0] == pytest.approx(0.42)  # the cluster is not lowered, only not raised
    # Nothing in common stays nothing in common, however much it stands out.
    assert lift(np.array([0.0]), np.array([50.0]), 0.5, 3.0, 3.0)[0] == 0.0


def test_factorize_matches_pandas_on_both_paths(monkeypatch):
    rng = np.random.default_rng(0)
    keys = rng.integers(-50, 50, size=1000)
    for sort in (False, True):
        codes, uniq = fz.factorize(keys, sort=sort)
        pcodes, puniq = pd.factorize(keys, sort=sort)
        assert codes.tolist() == pcodes.tolist() and uniq.tolist() == puniq.tolist()
    assert fz.unique(keys).tolist() == pd.unique(keys).tolist()
    monkeypatch.setattr(fz, "PANDAS_FROM", 10)  # the pandas path gives the same
    assert fz.factorize(keys)[0].tolist() == pd.factorize(keys)[0].tolist()
