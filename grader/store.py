"""The batch's SQLite store (``grading.db``): the only module with SQL.

Only the coordinating process writes it; executors return results as data. Each write is
one transaction, so a batch killed at any moment loses nothing already committed. Runs are
keyed by a hash of their inputs (submission content, course config and data, backend), so
resuming and re-doing only what changed are lookups.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS submissions (
    student TEXT PRIMARY KEY, path TEXT NOT NULL, entry TEXT, files TEXT NOT NULL,
    content_hash TEXT, accepted INTEGER NOT NULL, reason TEXT, hint TEXT,
    updated_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS runs (
    student TEXT PRIMARY KEY, run_key TEXT NOT NULL, status TEXT NOT NULL, exit_code INTEGER,
    message TEXT, error_tail TEXT, wall_s REAL, peak_memory_mb REAL, backend TEXT,
    started_at REAL, finished_at REAL, verdict TEXT NOT NULL, output_error TEXT,
    attempts INTEGER NOT NULL DEFAULT 1, worker TEXT);
CREATE TABLE IF NOT EXISTS scores (
    student TEXT PRIMARY KEY, status TEXT NOT NULL, message TEXT, public_score REAL,
    private_score REAL, details TEXT, scored_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS grades (
    student TEXT PRIMARY KEY, status TEXT NOT NULL, rank INTEGER, band TEXT, base_grade REAL,
    deduction REAL, grade REAL, above_baseline INTEGER, note TEXT, graded_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS reference (
    model TEXT PRIMARY KEY, params TEXT, public_score REAL, private_score REAL,
    validation_score REAL, fit_s REAL, predict_s REAL, status TEXT NOT NULL, message TEXT,
    is_baseline INTEGER NOT NULL DEFAULT 0, created_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS reference_cache (
    cache_key TEXT PRIMARY KEY, model TEXT NOT NULL, params TEXT, validation_score REAL,
    fit_s REAL, predict_s REAL, elapsed_s REAL, status TEXT NOT NULL, message TEXT,
    deadline_s REAL NOT NULL, predictions TEXT, trained_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS reference_scores (
    cache_key TEXT NOT NULL, scored_with TEXT NOT NULL, public_score REAL, private_score REAL,
    PRIMARY KEY (cache_key, scored_with));
CREATE TABLE IF NOT EXISTS similarity_pairs (
    a TEXT NOT NULL, b TEXT NOT NULL, score REAL NOT NULL, kind TEXT, flagged INTEGER,
    components TEXT, fragments TEXT, shared_comments TEXT, created_at REAL NOT NULL,
    PRIMARY KEY (a, b));
CREATE TABLE IF NOT EXISTS similarity_clusters (
    cluster INTEGER NOT NULL, student TEXT NOT NULL, PRIMARY KEY (cluster, student));
CREATE TABLE IF NOT EXISTS reproduction (
    student TEXT PRIMARY KEY, agreement REAL, run_score REAL, kaggle_score REAL,
    flagged INTEGER NOT NULL, message TEXT, checked_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS final_grades (
    student TEXT PRIMARY KEY, final REAL, grade REAL, status TEXT NOT NULL, reason TEXT,
    record TEXT NOT NULL, steps TEXT NOT NULL, computed_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS events (
    at REAL NOT NULL, kind TEXT NOT NULL, detail TEXT);
CREATE TABLE IF NOT EXISTS decisions (
    lo TEXT NOT NULL, hi TEXT NOT NULL, kind TEXT NOT NULL, version INTEGER NOT NULL,
    state TEXT NOT NULL, note TEXT NOT NULL, reviewer TEXT NOT NULL, named TEXT NOT NULL,
    decided_at REAL NOT NULL, PRIMARY KEY (lo, hi, kind, version));
CREATE TABLE IF NOT EXISTS feedback_sent (
    student TEXT NOT NULL, address TEXT NOT NULL, digest TEXT NOT NULL, message_id TEXT,
    sent_at REAL NOT NULL, PRIMARY KEY (student, digest));
"""

#: (table, column, declaration) added after a store was first written: older grading.db files
#: get them on open
_ADDED_COLUMNS = (
    ("grades", "integrity", "TEXT NOT NULL DEFAULT ''"),
    ("grades", "pre_integrity", "REAL"),
    ("similarity_pairs", "code", "REAL"),  # the code score alone (score: code and behaviour)
    ("similarity_pairs", "reason", "TEXT NOT NULL DEFAULT ''"),  # code | behaviour | both
    ("similarity_pairs", "behaviour", "TEXT"),  # JSON: the behavioural evidence, or null
    # the pair's place in the engine's order (``similarity.rank_key``: ties in score broken
    # by how near the two runs' predictions are, then the code score); null before
    ("similarity_pairs", "rank", "INTEGER"),
    # JSON: files beside the code never copied into the run (binary files, archives, notebooks)
    ("submissions", "left_out", "TEXT NOT NULL DEFAULT '[]'"),
)


#: the state of a decision that puts a pair back to "not decided" (a new version in the
#: history, never a deletion)
UNDECIDED = "undecided"


class Store:
    """A batch's ``grading.db``. Use as a context manager or call :meth:`close`."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        self.db.row_factory = sqlite3.Row
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=FULL")
        self.db.executescript(_SCHEMA)
        self._add_columns()
        with self.transaction():
            self._set_meta("schema_version", SCHEMA_VERSION)

    def _add_columns(self) -> None:
        """Columns added after a store was first written (older grading.db files)."""
        for table, col, decl in _ADDED_COLUMNS:
            have = {r["name"] for r in self.db.execute(f"PRAGMA table_info({table})")}
            if col not in have:
                self.db.execute(f"ALTER TABLE {table} ADD COLUMN {col} {decl}")

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield self.db
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    # --- meta and events ----------------------------------------------------------------

    def _set_meta(self, key: str, value: Any) -> None:
        self.db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, json.dumps(value)))

    def set_meta(self, **values: Any) -> None:
        with self.transaction():
            for k, v in values.items():
                self._set_meta(k, v)

    def meta(self) -> dict[str, Any]:
        return {r["key"]: json.loads(r["value"]) for r in self.db.execute("SELECT * FROM meta")}

    def log_event(self, kind: str, detail: Any = None) -> None:
        with self.transaction():
            self.db.execute("INSERT INTO events VALUES (?, ?, ?)",
                            (time.time(), kind, json.dumps(detail)))

    # --- submissions --------------------------------------------------------------------

    def put_submissions(self, rows: Iterable[dict[str, Any]]) -> None:
        """Replace the submission list (a student no longer in the folder is dropped)."""
        rows = list(rows)
        now = time.time()
        with self.transaction():
            self.db.execute("DELETE FROM submissions")
            self.db.executemany(
                "INSERT INTO submissions (student, path, entry, files, content_hash, accepted,"
                " reason, hint, updated_at, left_out) VALUES (:student, :path, :entry, :files,"
                " :content_hash, :accepted, :reason, :hint, :updated_at, :left_out)",
                [{**r, "files": json.dumps(r["files"]), "accepted": int(r["accepted"]),
                  "left_out": json.dumps(r.get("left_out") or []), "updated_at": now}
                 for r in rows])

    def submissions(self) -> list[dict[str, Any]]:
        return [_row(r, json_cols=("files", "left_out")) for r in
                self.db.execute("SELECT * FROM submissions ORDER BY student")]

    # --- runs ---------------------------------------------------------------------------

    def finished_run_keys(self) -> dict[str, str]:
        return {r["student"]: r["run_key"] for r in self.db.execute("SELECT student, run_key FROM runs")}

    def put_run(self, student: str, run_key: str, verdict: dict[str, Any], *,
                output_error: str | None, started_at: float, finished_at: float,
                attempts: int = 1, worker: str | None = None) -> None:
        slim = {k: v for k, v in verdict.items() if k not in ("stdout", "stderr")}
        with self.transaction():
            self.db.execute(
                "INSERT OR REPLACE INTO runs VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (student, run_key, verdict["status"], verdict.get("exit_code"),
                 verdict.get("message"), verdict.get("error_tail"), verdict.get("wall_s"),
                 verdict.get("peak_memory_mb"), verdict.get("backend"), started_at, finished_at,
                 json.dumps(slim), output_error, attempts, worker))

    def runs(self) -> dict[str, dict[str, Any]]:
        return {r["student"]: _row(r, json_cols=("verdict",))
                for r in self.db.execute("SELECT * FROM runs")}

    def delete_runs_except(self, students: Iterable[str]) -> None:
        keep = set(students)
        stale = [s for s in self.finished_run_keys() if s not in keep]
        with self.transaction():
            for table in ("runs", "scores", "grades", "reproduction"):
                self.db.executemany(f"DELETE FROM {table} WHERE student = ?", [(s,) for s in stale])

    # --- scores and grades --------------------------------------------------------------

    def put_scores(self, rows: Iterable[dict[str, Any]]) -> None:
        now = time.time()
        with self.transaction():
            self.db.execute("DELETE FROM scores")
            self.db.executemany(
                "INSERT INTO scores VALUES (:student, :status, :message, :public_score,"
                " :private_score, :details, :scored_at)",
                [{**r, "details": json.dumps(r.get("details") or {}), "scored_at": now} for r in rows])

    def scores(self) -> dict[str, dict[str, Any]]:
        return {r["student"]: _row(r, json_cols=("details",))
                for r in self.db.execute("SELECT * FROM scores")}

    def put_grades(self, rows: Iterable[dict[str, Any]]) -> None:
        now = time.time()
        with self.transaction():
            self.db.execute("DELETE FROM grades")
            self.db.executemany(
                "INSERT INTO grades (student, status, rank, band, base_grade, deduction, grade,"
                " above_baseline, note, graded_at, integrity, pre_integrity) VALUES (:student,"
                " :status, :rank, :band, :base_grade, :deduction, :grade, :above_baseline, :note,"
                " :graded_at, :integrity, :pre_integrity)",
                [{"integrity": "", "pre_integrity": r.get("grade"), **r, "graded_at": now}
                 for r in rows])

    def grades(self) -> list[dict[str, Any]]:
        return [dict(r) for r in self.db.execute(
            "SELECT * FROM grades ORDER BY rank IS NULL, rank, student")]

    # --- reference models ---------------------------------------------------------------

    def put_reference(self, rows: Iterable[dict[str, Any]]) -> None:
        now = time.time()
        with self.transaction():
            self.db.execute("DELETE FROM reference")
            self.db.executemany(
                "INSERT INTO reference VALUES (:model, :params, :public_score, :private_score,"
                " :validation_score, :fit_s, :predict_s, :status, :message, :is_baseline,"
                " :created_at)",
                [{"validation_score": None, "message": "", "is_baseline": 0, **r,
                  "params": json.dumps(r.get("params") or {}), "created_at": now} for r in rows])

    def reference(self) -> list[dict[str, Any]]:
        return [_row(r, json_cols=("params",)) for r in self.db.execute(
            "SELECT * FROM reference ORDER BY private_score IS NULL, model")]

    def cached_reference(self, keys: Iterable[str]) -> dict[str, dict[str, Any]]:
        """Trained reference models by cache key (data, model, parameters, code): their
        parameters, predictions (a JSON list in test.csv's order), timings and status."""
        keys = list(keys)
        if not keys:
            return {}
        marks = ",".join("?" * len(keys))
        return {r["cache_key"]: _row(r, json_cols=("params", "predictions")) for r in
                self.db.execute(f"SELECT * FROM reference_cache WHERE cache_key IN ({marks})",
                                keys)}

    def reference_predictions(self) -> dict[str, list]:
        """The test predictions (test.csv's order) of the reference models that ran ``ok``
        in this batch, by model, from the cache that trained them."""
        rows = self.db.execute(
            "SELECT c.model, c.predictions FROM reference_cache c JOIN reference r"
            " ON r.model = c.model WHERE r.status = 'ok' AND c.predictions IS NOT NULL"
            " ORDER BY c.model")
        return {r["model"]: json.loads(r["predictions"]) for r in rows}

    def put_cached_reference(self, rows: Iterable[dict[str, Any]]) -> None:
        """Store freshly trained models; each replaces its model's older entries (a model is
        cached for its latest data and parameters only, so the store does not grow)."""
        rows = list(rows)
        with self.transaction():
            self.db.executemany("DELETE FROM reference_cache WHERE model = ?",
                                [(r["model"],) for r in rows])
            self.db.executemany(
                "INSERT INTO reference_cache VALUES (:cache_key, :model, :params,"
                " :validation_score, :fit_s, :predict_s, :elapsed_s, :status, :message,"
                " :deadline_s, :predictions, :trained_at)",
                [{**r, "params": json.dumps(r.get("params") or {}, sort_keys=True),
                  "predictions": None if r.get("predictions") is None
                  else json.dumps(r["predictions"])} for r in rows])

    def reference_scores(self, scored_with: str) -> dict[str, tuple[float | None, float | None]]:
        """Cached models' (public, private) scores under one scoring set-up (a hash of the
        hidden labels and the competition's settings), by cache key."""
        return {r["cache_key"]: (r["public_score"], r["private_score"]) for r in self.db.execute(
            "SELECT * FROM reference_scores WHERE scored_with = ?", (scored_with,))}

    def put_reference_scores(self, scored_with: str,
                             scores: dict[str, tuple[float | None, float | None]]) -> None:
        """Record scores; those of models no longer cached, or of another set-up, go."""
        with self.transaction():
            self.db.execute("DELETE FROM reference_scores WHERE scored_with != ? OR cache_key"
                            " NOT IN (SELECT cache_key FROM reference_cache)", (scored_with,))
            self.db.executemany("INSERT OR REPLACE INTO reference_scores VALUES (?, ?, ?, ?)",
                                [(k, scored_with, pub, priv) for k, (pub, priv) in scores.items()])

    # --- similarity ---------------------------------------------------------------------

    def put_similarity(self, pairs: Iterable[dict[str, Any]], clusters: list[list[str]]) -> None:
        now = time.time()
        with self.transaction():
            self.db.execute("DELETE FROM similarity_pairs")
            self.db.execute("DELETE FROM similarity_clusters")
            self.db.executemany(
                "INSERT INTO similarity_pairs (a, b, score, kind, flagged, components, fragments,"
                " shared_comments, created_at, code, reason, behaviour, rank) VALUES (:a, :b,"
                " :score, :kind, :flagged, :components, :fragments, :shared_comments,"
                " :created_at, :code, :reason, :behaviour, :rank)",
                [{**p, "flagged": int(p.get("flagged", 0)), "rank": rank,
                  "code": p.get("code", p.get("score")), "reason": p.get("reason") or "",
                  "behaviour": None if p.get("behaviour") is None else json.dumps(p["behaviour"]),
                  "components": json.dumps(p.get("components") or {}),
                  "fragments": json.dumps(p.get("fragments") or []),
                  "shared_comments": json.dumps(p.get("shared_comments") or []),
                  "created_at": now} for rank, p in enumerate(pairs)])
            self.db.executemany("INSERT INTO similarity_clusters VALUES (?, ?)",
                                [(i, s) for i, c in enumerate(clusters, 1) for s in c])

    def similarity_pairs(self) -> list[dict[str, Any]]:
        return [_row(r, json_cols=("components", "fragments", "shared_comments", "behaviour"))
                for r in
                self.db.execute("SELECT * FROM similarity_pairs"
                                " ORDER BY score DESC, COALESCE(rank, 0), a, b")]

    def similarity_clusters(self) -> list[list[str]]:
        clusters: dict[int, list[str]] = {}
        for r in self.db.execute("SELECT * FROM similarity_clusters ORDER BY cluster, student"):
            clusters.setdefault(r["cluster"], []).append(r["student"])
        return list(clusters.values())

    # --- reproduction -------------------------------------------------------------------

    def snapshot(self) -> dict[str, Any]:
        """Everything the reports show, as plain data (``reports.render_all`` takes it)."""
        return {"meta": self.meta(), "submissions": self.submissions(), "runs": self.runs(),
                "scores": self.scores(), "grades": self.grades(),
                "reproduction": self.reproduction(), "reference": self.reference(),
                "pairs": self.similarity_pairs(), "clusters": self.similarity_clusters(),
                "decisions": self.decisions()}

    def put_reproduction(self, rows: Iterable[dict[str, Any]]) -> None:
        now = time.time()
        with self.transaction():
            self.db.execute("DELETE FROM reproduction")
            self.db.executemany(
                "INSERT INTO reproduction VALUES (:student, :agreement, :run_score, :kaggle_score,"
                " :flagged, :message, :checked_at)",
                [{**r, "flagged": int(r["flagged"]), "checked_at": now} for r in rows])

    def reproduction(self) -> dict[str, dict[str, Any]]:
        return {r["student"]: dict(r) for r in self.db.execute("SELECT * FROM reproduction")}

    # --- TAs' decisions on similarity pairs (an append-only history) --------------------

    def decisions(self) -> list[dict[str, Any]]:
        """The current decision of every decided pair (its latest version); a pair whose
        latest version is a reset (state :data:`UNDECIDED`) is not decided."""
        return [_row(r, json_cols=("named",)) for r in self.db.execute(
            "SELECT d.* FROM decisions d JOIN (SELECT lo, hi, kind, MAX(version) AS v"
            " FROM decisions GROUP BY lo, hi, kind) m ON d.lo = m.lo AND d.hi = m.hi"
            " AND d.kind = m.kind AND d.version = m.v WHERE d.state != ?"
            " ORDER BY d.lo, d.hi, d.kind", (UNDECIDED,))]

    def decision_history(self, lo: str, hi: str, kind: str) -> list[dict[str, Any]]:
        """Every version of one pair's decision, oldest first."""
        return [_row(r, json_cols=("named",)) for r in self.db.execute(
            "SELECT * FROM decisions WHERE lo = ? AND hi = ? AND kind = ? ORDER BY version",
            (lo, hi, kind))]

    def add_decisions(self, rows: Iterable[dict[str, Any]]) -> list[dict[str, Any] | None]:
        """Append decisions in one transaction (all or none).

        Each row has ``lo, hi, kind, state, note, reviewer, named`` and ``expected_version``
        (the version the reviewer saw, 0 for none; None: on top of whatever is current).
        Returns, per row, the stored row, or None when the pair's current version is not
        the expected one (another reviewer decided meanwhile). When any row is None nothing
        is stored and the other rows come back with ``stored=False``.
        """
        now = time.time()
        rows = list(rows)
        out: list[dict[str, Any] | None] = []
        try:
            with self.transaction():
                for r in rows:
                    cur = self.db.execute(
                        "SELECT COALESCE(MAX(version), 0) FROM decisions WHERE lo = ? AND hi = ?"
                        " AND kind = ?", (r["lo"], r["hi"], r["kind"])).fetchone()[0]
                    if r.get("expected_version") is not None and r["expected_version"] != cur:
                        out.append(None)
                        continue
                    row = dict(lo=r["lo"], hi=r["hi"], kind=r["kind"], version=cur + 1,
                               state=r["state"], note=r["note"], reviewer=r["reviewer"],
                               named=list(r["named"]), decided_at=r.get("decided_at") or now)
                    self.db.execute(
                        "INSERT INTO decisions VALUES (:lo, :hi, :kind, :version, :state, :note,"
                        " :reviewer, :named, :decided_at)",
                        {**row, "named": json.dumps(row["named"])})
                    out.append(row)
                if None in out:
                    raise _Stale
        except _Stale:
            return [None if o is None else {**o, "stored": False} for o in out]
        return out

    def set_integrity(self, rows: Iterable[dict[str, Any]]) -> None:
        """Update the grade and integrity outcome of graded students (``grade``,
        ``integrity``, ``note`` per ``student``); ``pre_integrity`` stays as graded."""
        with self.transaction():
            self.db.executemany(
                "UPDATE grades SET grade = :grade, integrity = :integrity WHERE student = :student",
                [{"student": r["student"], "grade": r["grade"], "integrity": r["integrity"]}
                 for r in rows])

    # --- feedback e-mails sent ------------------------------------------------------------

    def feedback_sent(self) -> dict[tuple[str, str], dict[str, Any]]:
        """(student, digest of the message's content) → when and to whom it was sent."""
        return {(r["student"], r["digest"]): dict(r)
                for r in self.db.execute("SELECT * FROM feedback_sent")}

    def mark_sent(self, student: str, address: str, digest: str, message_id: str) -> None:
        """Record one sent message (its own transaction: a crash after it loses nothing)."""
        with self.transaction():
            self.db.execute("INSERT OR REPLACE INTO feedback_sent VALUES (?, ?, ?, ?, ?)",
                            (student, address, digest, message_id, time.time()))

    # --- final course grades ------------------------------------------------------------

    def put_final_grades(self, rows: Iterable[dict[str, Any]]) -> None:
        """Rows of ``grader final``: student, final, grade, status, reason, record, steps."""
        now = time.time()
        with self.transaction():
            self.db.execute("DELETE FROM final_grades")
            self.db.executemany(
                "INSERT INTO final_grades VALUES (:student, :final, :grade, :status, :reason,"
                " :record, :steps, :computed_at)",
                [{**r, "record": json.dumps(r["record"], ensure_ascii=False),
                  "steps": json.dumps(r["steps"], ensure_ascii=False), "computed_at": now}
                 for r in rows])

    def final_grades(self) -> list[dict[str, Any]]:
        return [_row(r, json_cols=("record", "steps")) for r in
                self.db.execute("SELECT * FROM final_grades ORDER BY student")]


class _Stale(Exception):
    """Rolls back a batch of decisions of which one was made on a stale version."""


def _row(r: sqlite3.Row, json_cols: tuple[str, ...] = ()) -> dict[str, Any]:
    d = dict(r)
    for c in json_cols:
        if d.get(c) is not None:
            d[c] = json.loads(d[c])
    return d
