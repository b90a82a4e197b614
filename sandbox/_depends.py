"""Which declared requirement brought each other distribution into a built environment.

Read from the installed distributions' own metadata (``importlib.metadata`` on the
environment's ``site-packages``, ``Requires-Dist``), never from the network: ``scipy`` in an
environment that declares only ``scikit-learn`` is there because scikit-learn requires it.
A submission importing it works today, and breaks when scikit-learn stops requiring it.
"""

from __future__ import annotations

import importlib.metadata as md
from collections import deque
from collections.abc import Iterable
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

__all__ = ["brought_in_by"]


def _requires(dist: md.Distribution) -> list[str]:
    """The distributions ``dist`` always requires (not those of its optional extras)."""
    out = []
    for line in dist.requires or ():
        try:
            req = Requirement(line)
        except InvalidRequirement:
            continue
        if req.marker is not None and "extra" in str(req.marker):
            continue
        out.append(canonicalize_name(req.name))
    return out


def brought_in_by(env_path: Path, declared: Iterable[str]) -> dict[str, str]:
    """Each installed distribution that is not declared -> the declared one requiring it.

    Parameters
    ----------
    env_path : Path
        The built environment's folder (its ``lib/python*/site-packages`` is read).
    declared : iterable of str
        The requirement names of ``environment/requirements.txt`` (or the default set).

    Returns
    -------
    dict
        Canonical distribution name -> the declared name (as written) whose dependency tree
        holds it nearest (ties: the first declared name in sorted order). Distributions no
        declared one requires are left out.
    """
    paths = [str(p) for p in sorted(Path(env_path).glob("lib/python*/site-packages"))]
    if not paths:
        return {}
    graph: dict[str, list[str]] = {}
    for dist in md.distributions(path=paths):
        name = dist.metadata["Name"]
        if name:
            graph.setdefault(canonicalize_name(name), _requires(dist))
    roots = {canonicalize_name(n): n for n in sorted(declared, key=canonicalize_name)}
    origin: dict[str, str] = {c: n for c, n in roots.items()}
    queue = deque(roots)  # breadth first from every root at once: the nearest root wins
    while queue:
        node = queue.popleft()
        for dep in graph.get(node, ()):
            if dep in graph and dep not in origin:
                origin[dep] = origin[node]
                queue.append(dep)
    return {dist: root for dist, root in origin.items() if dist not in roots}
