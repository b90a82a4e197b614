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
    # scipy's graph module is imported here, only when something is flagged: `grader
    # similarity` on a class with no flagged pair never pays for it
    import numpy as np
    import scipy.sparse as sp
    from scipy.sparse.csgraph import connected_components

    names = sorted({n for e in edges for n in e})
    index = {n: i for i, n in enumerate(names)}
    rows = np.array([index[a] for a, _ in edges])
    cols = np.array([index[b] for _, b in edges])
    graph = sp.coo_matrix((np.ones(len(edges)), (rows, cols)), shape=(len(names),) * 2)
    _, labels = connected_components(graph, directed=False)
    groups: dict[int, list[str]] = {}
    for name, label in zip(names, labels.tolist(), strict=True):
        groups.setdefault(label, []).append(name)
    return sorted((g for g in groups.values() if len(g) > 1), key=lambda g: (-len(g), g))
