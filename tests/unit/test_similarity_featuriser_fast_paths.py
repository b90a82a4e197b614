"""The featuriser's fast paths give what the plain ones give: statement summaries made by
``ast_features``' walk equal ``canonical``'s own scan, and a block's order is the same whether
its dependencies are found pair by pair or by name masks."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from similarity import canonical
from similarity.ast_features import ast_feature_counts, parse_tolerant
from similarity.canonical import _Program, canonical_streams

ROOT = Path(__file__).resolve().parents[2]

SNIPPETS = [
    "x = 1\nx += f(x)\ny = [a for a in x if (b := a)]\nprint(x, y)\n",
    "def g():\n    global n\n    n = 1\n    yield n\n    await h()\n    return\n",
    "class C:\n    def m(self):\n        self.a.b[0] = 2\n        del self.c\n",
    "for i in range(3):\n    if i:\n        break\n    continue\nelse:\n    pass\n",
    "try:\n    a = len(b)\nexcept E as e:\n    raise e\nfinally:\n    assert a\n",
    "match p:\n    case [x, y]:\n        z = x\n    case _:\n        z = sorted(y)\n",
    "async def f():\n    async with a as b:\n        async for c in b:\n            d = c\n",
]


def _sources() -> list[str]:
    files = sorted((ROOT / "similarity").glob("*.py")) + sorted(
        (ROOT / "grader" / "demo").rglob("*.py"))
    return [p.read_text(encoding="utf-8", errors="replace") for p in files] + SNIPPETS


def test_walk_summaries_equal_the_canonical_scan():
    checked = 0
    for src in _sources():
        tree, _ = parse_tolerant(src)
        summaries: dict = {}
        ast_feature_counts(tree, summaries)
        program = _Program(tree, src)  # no summaries given: it scans each statement itself
        for node in ast.walk(tree):
            if isinstance(node, ast.stmt) and id(node) in summaries:
                assert summaries[id(node)] == program._scan(node), ast.unparse(node)[:200]
                checked += 1
    assert checked > 1000


def test_streams_are_the_same_with_and_without_walk_summaries():
    for src in _sources():
        tree, _ = parse_tolerant(src)
        summaries: dict = {}
        ast_feature_counts(tree, summaries)
        with_walk = canonical_streams(tree, src, functions=True, summaries=summaries)
        assert with_walk == canonical_streams(tree, src, functions=True)


@pytest.mark.parametrize("pairwise_max", [0, 300])
def test_block_order_is_the_same_by_pairs_and_by_name_masks(monkeypatch, pairwise_max):
    sources = _sources()
    default = [canonical_streams(parse_tolerant(s)[0], s, functions=True) for s in sources]
    monkeypatch.setattr(canonical, "_PAIRWISE_MAX", pairwise_max)
    assert [canonical_streams(parse_tolerant(s)[0], s, functions=True)
            for s in sources] == default
