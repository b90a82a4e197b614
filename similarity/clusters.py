"""Groups of students linked by flagged peer pairs: the one place clusters are made."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

__all__ = ["clusters"]


def clusters(pairs: Iterable[Any]) -> list[list[str]]:
    """Connected components (two or more students) of the graph of flagged peer pairs.

    Parameters
    ----------
    pairs : iterable
        Objects or dicts with ``a``, ``b``, ``flagged`` and ``kind`` (archive and web sources
        never link students).

    Returns
    -------
    list of list of str
        Each cluster's names sorted; clusters largest first, ties by their names.
    """
    edges = []
    for p in pairs:
        get = p.get if isinstance(p, dict) else lambda k, p=p: getattr(p, k)
        if get("flagged") and (get("kind") or "peer") == "peer":
            edges.append((get("a"), get("b")))
    if not edges:
        return []
    # Union-find with path halving: a few thousand flagged pairs at most, and no scipy.csgraph
    # import (a quarter of a second of `grader similarity`'s start-up).
    parent: dict[str, str] = {}

    def root(x: str) -> str:
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b in edges:
        ra, rb = root(a), root(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    groups: dict[str, list[str]] = {}
    for name in sorted(parent):
        groups.setdefault(root(name), []).append(name)
    return sorted((g for g in groups.values() if len(g) > 1), key=lambda g: (-len(g), g))
