"""What a batch writes for people: ``grades.csv`` and ``leaderboard.csv`` (one writer each,
used by ``grader run`` and ``grader grades``), the terminal tables, and the HTML reports
(``reports.render_all`` on the store's snapshot)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from diagnostics.text import csv_writer, score_text, terminal_safe
from grader.errors import StoreError
from grader.store import Store

__all__ = ["GRADES_COLUMNS", "write_grades_csv", "leaderboard_text", "reference_text",
           "render_reports"]

#: the columns of grades.csv (DESIGN.md promises the first five)
GRADES_COLUMNS = ["student", "status", "score", "rank", "grade", "public_score", "band",
                  "base_grade", "deduction", "above_baseline", "message", "reproduced",
                  "kaggle_score", "kaggle_agreement", "integrity"]


def write_grades_csv(out: Path, store: Store, *,
                     leaderboard_names: Mapping[str, str] | None = None) -> None:
    """``grades.csv`` (every graded submission) and ``leaderboard.csv`` (the ranked ones).

    ``leaderboard_names`` (``grader grades``) adds a ``leaderboard_name`` column: the team
    name each student had on the imported leaderboard.
    """
    scores = store.scores()
    repro = store.reproduction()
    columns = GRADES_COLUMNS + (["leaderboard_name"] if leaderboard_names is not None else [])
    with (out / "grades.csv").open("w", newline="", encoding="utf-8") as f:
        w = csv_writer(f)  # every cell csv_safe: names, messages, team names
        w.writerow(columns)
        for g in store.grades():
            sc = scores.get(g["student"], {})
            row = [g["student"], g["status"], _fmt(sc.get("private_score")), g["rank"] or "",
                   _fmt(g["grade"]), _fmt(sc.get("public_score")), g["band"],
                   _fmt(g["base_grade"]), _fmt(g["deduction"]),
                   "" if g["above_baseline"] is None else bool(g["above_baseline"]),
                   g["note"], *_repro_cells(repro.get(g["student"])), g.get("integrity") or ""]
            if leaderboard_names is not None:
                row.append(leaderboard_names.get(g["student"], g["student"]))
            w.writerow(row)
    with (out / "leaderboard.csv").open("w", newline="", encoding="utf-8") as f:
        w = csv_writer(f)
        w.writerow(["rank", "student", "private_score", "public_score", "grade"])
        for g in store.grades():
            if g["rank"] is not None:
                sc = scores[g["student"]]
                w.writerow([g["rank"], g["student"], _fmt(sc["private_score"]),
                            _fmt(sc["public_score"]), _fmt(g["grade"])])


def _repro_cells(r: dict[str, Any] | None) -> list[str]:
    if r is None:
        return ["", "", ""]
    return ["no" if r["flagged"] else "yes", _fmt(r["kaggle_score"]), _fmt(r["agreement"])]


def _fmt(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, float):
        return f"{v:.6g}"
    return str(v)


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1].rstrip() + "…"


def leaderboard_text(store: Store, limit: int = 50) -> str:
    """The leaderboard as the terminal shows it after a batch (the first ``limit`` rows)."""
    scores = store.scores()
    grades = store.grades()
    lines = [f"{'rank':>4}  {'student':<24} {'private':>8} {'public':>8} {'grade':>5}  status"]
    for g in grades[:limit]:
        sc = scores.get(g["student"], {})
        priv, pub, grade = sc.get("private_score"), sc.get("public_score"), g["grade"]
        lines.append(f"{g['rank'] or '-':>4}  {terminal_safe(g['student']):<24} "
                     f"{'' if priv is None else score_text(priv):>8} "
                     f"{'' if pub is None else score_text(pub):>8} "
                     f"{'' if grade is None else f'{grade:g}':>5}  {g['status']}"
                     + (f"  ({_clip(terminal_safe(g['note']), 90)})"
                        if g["status"] != "ok" and g["note"] else ""))
    if len(grades) > limit:  # (a TA counting rows took the missing two for ungraded)
        lines.append(f"  ... and {len(grades) - limit} more (every student: grades.csv, "
                     "reports/index.html)")
    return "\n".join(lines)


def reference_text(store: Store, greater_is_better: bool = True) -> str:
    """The reference models' table, best first (lowest first for an error metric), the
    baseline marked."""
    from grader.grading import best_first

    rows = best_first(store.reference(), greater_is_better)
    lines = [f"\nreference models{'':<10} {'private':>8} {'public':>8}  fit s"]
    for r in rows:
        mark = "  (baseline)" if r["is_baseline"] else ""
        if r["private_score"] is None:
            lines.append(f"  {r['model']:<24} {r['status']}: {terminal_safe(r['message'][:60])}")
            continue
        lines.append(f"  {r['model']:<24} {score_text(r['private_score']):>8} "
                     f"{score_text(r['public_score']):>8} "
                     f"{r['fit_s'] or 0:6.1f}{mark}")
    return "\n".join(lines)


#: meta keys that change on every run without changing what the pages mean
_VOLATILE_META = ("started_at", "runs_finished_at", "reports_digest")
#: row timestamps rewritten by every run's cheap stages (scores and grades are redone)
_VOLATILE_ROWS = ("scored_at", "graded_at", "updated_at", "created_at", "checked_at",
                  "computed_at")


def _stable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _stable(v) for k, v in value.items() if k not in _VOLATILE_ROWS}
    if isinstance(value, list | tuple):
        return [_stable(v) for v in value]
    return value


def reports_digest(snapshot: Mapping[str, Any]) -> str:
    """What the pages are made of: the store's snapshot (less the run's clock times) and the
    report templates and assets, as one hash."""
    import hashlib
    import json

    import reports

    data = {k: _stable(v) for k, v in snapshot.items() if k != "meta"}
    data["meta"] = {k: v for k, v in (snapshot.get("meta") or {}).items()
                    if k not in _VOLATILE_META}
    h = hashlib.blake2b(json.dumps(data, sort_keys=True, default=str).encode(), digest_size=16)
    for path in sorted(Path(reports.__file__).parent.rglob("*")):
        if path.is_file() and path.suffix in (".py", ".j2", ".css", ".js"):
            h.update(path.name.encode())
            h.update(path.read_bytes())
    return h.hexdigest()


def render_reports(out: Path, *, progress: Callable[[str], None] | None = None,
                   **options: Any) -> dict[str, Any]:
    """Render the batch's HTML reports and exports from its store (``reports.render_all``).

    Raises
    ------
    StoreError
        When ``out`` holds no ``grading.db``.
    """
    from reports import render_all

    db = Path(out) / "grading.db"
    if not db.is_file():
        raise StoreError(f"no grading.db in {out}",
                         hint="pass the --out folder of 'grader run' or 'grader demo'")
    with Store(db) as store:
        snapshot = store.snapshot()
    return render_all(Path(out), snapshot, progress=progress, **options)
