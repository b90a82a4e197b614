"""The similarity stage: the class compared with itself, the starter template, past years'
archive and known web sources (``similarity.compare``), pairs and clusters into the store.

When only some submissions are new or changed since the last run (a late submission), only
the pairs involving them are scored (``focus``); the others keep their stored scores and
evidence.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

import similarity
from grader.course import Course, hash_tree
from grader.store import Store

__all__ = ["similarity_stage"]


def similarity_stage(course: Course, store: Store, out: Path,
                     say: Callable[[str], None]) -> None:
    """Compare the class (all pairs, or only the changed submissions' pairs) and store it."""
    rows = [s for s in store.submissions() if s["accepted"]]
    subs = {s["student"]: Path(s["path"]) for s in rows}
    hashes = {s["student"]: s["content_hash"] for s in rows}
    if len(subs) < 2:
        return
    sim = course.similarity
    corpora = {k: course.optional_dir(v, default) for k, v, default in (
        ("template", sim.template, "starter"), ("archive", sim.archive, "archive"),
        ("web", sim.web, "web"))}
    settings = hashlib.blake2b(json.dumps(
        [course.describe()["similarity"],
         {k: _tree_hash(v) for k, v in corpora.items()}], sort_keys=True).encode(),
        digest_size=16).hexdigest()
    previous = store.meta().get("similarity_inputs") or {}
    focus: set[str] | None = None
    if previous.get("settings") == settings and (out / "similarity" / "pairs.csv").exists():
        old = previous.get("hashes", {})
        changed = {s for s in subs if old.get(s) != hashes[s]}
        removed = set(old) - set(subs)
        if not changed and not removed:
            say("similarity: no submission changed, previous results kept")
            return
        if len(changed) <= len(subs) // 2:
            focus = changed
    options = similarity.SimilarityOptions.resolve(threshold=sim.threshold)
    result = similarity.compare(subs, **corpora, options=options,
                                cache_dir=out / "similarity" / "cache",
                                focus=sorted(focus) if focus is not None else None)
    if focus is not None:
        result = _merge_pairs(result, store, keep=set(subs) - focus)
        say(f"similarity: {len(focus)} new or changed submission(s) compared with everyone; "
            "other pairs kept")
    (out / "similarity").mkdir(exist_ok=True)
    similarity.write_outputs(result, out / "similarity")
    store.put_similarity([_pair_dict(p) for p in result.pairs], result.clusters)
    store.set_meta(similarity_inputs={"settings": settings, "hashes": hashes})
    flagged = [p for p in result.pairs if p.flagged]
    say(f"similarity: {len(result.pairs)} pairs, {len(flagged)} above the threshold")


def _tree_hash(folder: Path | None) -> str:
    if folder is None:
        return ""
    if folder.is_dir():
        return hash_tree(folder)
    return hashlib.blake2b(folder.read_bytes()).hexdigest() if folder.is_file() else ""


def _merge_pairs(result: similarity.SimilarityResult, store: Store, keep: set[str]
                 ) -> similarity.SimilarityResult:
    """The focused result plus the stored pairs among students in ``keep`` (unchanged)."""
    def unchanged(p: dict) -> bool:
        return p["a"] in keep and (p["b"] in keep or p["kind"] != "peer")

    old = [similarity.Pair(a=p["a"], b=p["b"], score=p["score"], components=p["components"],
                           kind=p["kind"], flagged=bool(p["flagged"]),
                           fragments=[similarity.Fragment(**f) for f in p["fragments"]],
                           shared_comments=p["shared_comments"])
           for p in store.similarity_pairs() if unchanged(p)]
    pairs = sorted(old + list(result.pairs), key=lambda p: (-p.score, p.a, p.b))
    return replace(result, pairs=pairs, clusters=similarity.clusters(pairs))


def _pair_dict(p: similarity.Pair) -> dict[str, Any]:
    d = asdict(p)
    d.setdefault("kind", "peer")
    d.setdefault("flagged", False)
    return d
