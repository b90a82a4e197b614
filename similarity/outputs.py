"""Write a ``SimilarityResult`` as files: pairs.csv, pairs.json and clusters.csv."""

from __future__ import annotations

import json
from pathlib import Path

from diagnostics.text import csv_writer
from similarity.engine import SimilarityResult
from similarity.options import COMPONENTS

__all__ = ["write_outputs", "PAIRS_COLUMNS"]

#: the final score first (code and behaviour combined), then the code evidence, then the
#: behavioural evidence from hidden-test predictions (empty without runs), then the verdict
PAIRS_COLUMNS = ("a", "b", "score", "code", *COMPONENTS, "comments", "behaviour", "same_wrong",
                 "both_wrong", "expected_same_wrong", "p_value", "explained_by", "kind",
                 "flagged", "reason")


def write_outputs(result: SimilarityResult, out_dir: Path) -> None:
    """Write ``pairs.csv``, ``pairs.json`` and ``clusters.csv`` into ``out_dir`` (created).

    Parameters
    ----------
    result : SimilarityResult
    out_dir : Path

    Notes
    -----
    ``pairs.csv`` has the columns ``PAIRS_COLUMNS``, highest score first; ``pairs.json``
    holds the same pairs with fragments and shared comments, plus the options, the notes
    and the clusters; ``clusters.csv`` has ``cluster,size,student`` (one row per member).
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    with open(out_dir / "pairs.csv", "w", newline="", encoding="utf-8") as fh:
        w = csv_writer(fh)  # every cell csv_safe: submission names come from students
        w.writerow(PAIRS_COLUMNS)
        for p in result.pairs:
            b = p.behaviour or {}
            w.writerow([p.a, p.b, f"{p.score:.4f}", f"{p.code:.4f}",
                        *(f"{p.components[c]:.4f}" for c in (*COMPONENTS, "comments")),
                        *([f"{b['behaviour']:.4f}", b["same_wrong"], b["both_wrong"],
                           f"{b['expected']:.2f}", f"{b['p_value']:.3g}", b["explained_by"]]
                          if b else ["", "", "", "", "", ""]),
                        p.kind, "true" if p.flagged else "false", p.reason])
    doc = {"options": result.options.to_dict(), "clusters": result.clusters,
           "notes": result.notes, "stats": result.stats,
           "pairs": [p.to_dict() for p in result.pairs]}
    with open(out_dir / "pairs.json", "w", encoding="utf-8") as fh:
        # dumps, not dump: only the one-shot encoder is the C one (dump, or any indent, takes
        # the pure-Python encoder: seconds for a class's tens of thousands of pairs).
        fh.write(json.dumps(doc, ensure_ascii=False))
    with open(out_dir / "clusters.csv", "w", newline="", encoding="utf-8") as fh:
        w = csv_writer(fh)
        w.writerow(("cluster", "size", "student"))
        for i, group in enumerate(result.clusters, 1):
            for s in group:
                w.writerow((i, len(group), s))
