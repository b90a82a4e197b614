"""TAs' decisions on similarity pairs: confirmed, dismissed or needs discussion.

A decision is keyed by the pair's two names in sorted order plus its kind (``peer``, ``web``,
``archive``, ``template``), never by a row number or a score, so it still applies after a late
submission re-runs the similarity stage. The store keeps every version (an audit trail); the
latest is the current one. A reviewer decides *on top of* the version they saw: when another
TA decided the same pair meanwhile, :func:`decide` refuses with :class:`DecisionConflict`
naming who decided and when, and nothing is stored.

A pair is put back to "not decided" by a decision whose state is :data:`UNDECIDED` (written
``undecided`` or ``not decided`` in an imported CSV): a new version in the history, with who
reset it and when, never a deletion; the pair then has no current decision.

The outcome reaches the grades through ``[integrity]`` (:func:`grader.grading.apply_integrity`),
re-applied by :func:`reapply` whenever a decision changes and by ``grader report``.
"""

from __future__ import annotations

import csv
import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from diagnostics.text import FORMULA_PREFIXES, csv_writer
from grader.course import IntegrityConfig
from grader.errors import GraderError, InputFileError
from grader.grading import apply_integrity
from grader.store import UNDECIDED, Store

__all__ = ["STATES", "UNDECIDED", "UNDECIDED_SPELLINGS", "CSV_COLUMNS", "DecisionConflict",
           "PairRef", "pair_key", "decide", "reapply", "policy_of", "export_csv", "import_csv",
           "when", "refresh_grades_csv"]

#: the decision states, in the order the review page offers them
STATES = ("confirmed", "dismissed", "needs_discussion")
#: how an imported CSV may write "back to not decided" (case, spaces and '-' do not matter);
#: ``grader review export`` writes ``undecided`` for a pair with no current decision
UNDECIDED_SPELLINGS = (UNDECIDED, "not_decided")
#: the accepted ``state`` values of an imported CSV, as the messages list them
_CSV_STATES = "confirmed, dismissed, needs_discussion, or undecided (also 'not decided')"
#: the columns of ``grader review export`` (``import`` needs ``a, b, state, reviewer``)
CSV_COLUMNS = ["a", "b", "kind", "score", "flagged", "state", "note", "reviewer", "named",
               "version", "decided_at"]


class DecisionConflict(GraderError):
    """Another reviewer decided the pair after this reviewer loaded it."""

    reference = "decision-conflict"


@dataclass(frozen=True)
class PairRef:
    """A pair as decisions know it: ``lo < hi`` by name, and its kind."""

    lo: str
    hi: str
    kind: str

    def label(self) -> str:
        return f"{self.lo} ~ {self.hi} ({self.kind})"


def pair_key(a: str, b: str, kind: str | None = None) -> PairRef:
    """The key of a pair, whichever way round its names come.

    Examples
    --------
    >>> pair_key("dan", "ana", "peer")
    PairRef(lo='ana', hi='dan', kind='peer')
    """
    lo, hi = sorted((a, b))
    return PairRef(lo, hi, kind or "peer")


def when(t: float | None) -> str:
    """A decision's time as people read it (UTC, to the second)."""
    if t is None:
        return ""
    return dt.datetime.fromtimestamp(t, dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def policy_of(meta: dict[str, Any]) -> IntegrityConfig:
    """The ``[integrity]`` policy stored with the batch (defaults when it has none)."""
    table = (meta.get("config") or {}).get("integrity") or {}
    return IntegrityConfig(**{k: v for k, v in table.items()
                              if k in IntegrityConfig.__dataclass_fields__})


def _threshold(store: Store) -> float:
    """The batch's similarity threshold (the course's, else the engine's default)."""
    value = ((store.meta().get("config") or {}).get("similarity") or {}).get("threshold")
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    from similarity import SimilarityOptions

    return SimilarityOptions().threshold


def _pairs(store: Store) -> dict[PairRef, dict[str, Any]]:
    return {pair_key(p["a"], p["b"], p["kind"]): p for p in store.similarity_pairs()}


def _check(ref: PairRef, state: str, reviewer: str, named: list[str],
           pairs: dict[PairRef, dict[str, Any]], *, csv_row: bool = False) -> list[str]:
    """Why a decision cannot be stored (empty when it can). A CSV row may also reset the
    pair (:data:`UNDECIDED`); resetting an undecided pair needs no reviewer (it stores
    nothing), so the caller passes a placeholder then."""
    problems = []
    if ref not in pairs:
        problems.append(f"no pair {ref.label()} in this batch's similarity results (was a "
                        "submission removed or renamed?)")
    if state != UNDECIDED and state not in STATES:
        problems.append(f"state {state!r} is not one of "
                        f"{_CSV_STATES if csv_row else ', '.join(STATES)}")
    if not reviewer.strip():
        problems.append("the reviewer's name is empty")
    stray = [n for n in named if n not in (ref.lo, ref.hi)]
    if stray:
        problems.append(f"named {', '.join(map(repr, stray))} not in the pair "
                        f"{ref.lo} ~ {ref.hi}")
    sources = [n for n in named if n not in stray and ref.kind != "peer"
               and n.startswith(f"{ref.kind}:")]
    if sources:
        problems.append(f"named {', '.join(map(repr, sources))}: the {ref.kind} source, not a "
                        "student; name the student or nobody (a finding naming nobody applies "
                        "to the student)")
    return problems


def decide(store: Store, a: str, b: str, kind: str | None, *, state: str, note: str = "",
           reviewer: str, named: list[str] | None = None,
           expected_version: int | None) -> dict[str, Any]:
    """Store one decision (and re-apply the grades), on top of ``expected_version``.

    Parameters
    ----------
    store : Store
        The batch's store.
    a, b, kind : str
        The pair (either order) and its kind.
    state : {"confirmed", "dismissed", "needs_discussion", "undecided"}
        ``undecided`` withdraws the current decision (the review page's "back to not
        decided"): a new version in the history, never a deletion.
    note, reviewer : str
        Free text, and who decides (required).
    named : list of str, optional
        The students of the pair the finding is about (``[integrity] applies_to = "named"``).
    expected_version : int or None
        The version the reviewer saw (0: undecided). None stores on top of any version.

    Raises
    ------
    DecisionConflict
        Another reviewer stored a newer version: the message says who, when and what.
    GraderError
        The pair is unknown, the state is not one of :data:`STATES`, or the reviewer is empty.
    """
    ref = pair_key(a, b, kind)
    named = [] if state == UNDECIDED else sorted(set(named or []))  # a reset names nobody
    pairs = _pairs(store)
    problems = _check(ref, state, reviewer, named, pairs)
    if state == UNDECIDED and not problems and ref in pairs and \
            _current_state(store, ref) in (None, UNDECIDED):
        problems.append(f"{ref.label()} is not decided: there is no decision to withdraw")
    if problems:
        gone = ref not in pairs
        raise GraderError(f"decision on {ref.label()} not stored", problems=problems,
                          hint="open the pair again from the similarity overview (the batch "
                               "was re-run since this page was loaded)" if gone else
                               "pick one of the states and give your name")
    [row] = store.add_decisions([dict(lo=ref.lo, hi=ref.hi, kind=ref.kind, state=state,
                                      note=note.strip(), reviewer=reviewer.strip(), named=named,
                                      expected_version=_seen(store, ref, expected_version))])
    if row is None:
        cur = store.decision_history(ref.lo, ref.hi, ref.kind)[-1]
        raise DecisionConflict(
            f"{cur['reviewer']} decided {ref.label()} at {when(cur['decided_at'])} "
            f"({cur['state']}) after you opened it; your decision was not stored",
            hint="read their decision and note, then decide again if you still disagree")
    reapply(store)
    return row


def _current_state(store: Store, ref: PairRef) -> str | None:
    history = store.decision_history(ref.lo, ref.hi, ref.kind)
    return history[-1]["state"] if history else None


def _seen(store: Store, ref: PairRef, expected_version: int | None) -> int | None:
    """The version a reviewer decided on: 0 ("not decided", as a page or an export shows a
    pair with no current decision) means the pair's latest reset when it was reset, so a
    decision after a reset is not refused as stale; any other version is taken as given."""
    if expected_version != 0:
        return expected_version
    history = store.decision_history(ref.lo, ref.hi, ref.kind)
    return history[-1]["version"] if history and history[-1]["state"] == UNDECIDED else 0


def _csv_state(text: str) -> str:
    """A ``state`` cell as stored: ``"Needs discussion"`` → ``"needs_discussion"``,
    ``"not decided"`` → :data:`UNDECIDED`."""
    state = "_".join(text.lower().replace("-", " ").split())
    return UNDECIDED if state in UNDECIDED_SPELLINGS else state


def reapply(store: Store) -> list[dict[str, Any]]:
    """Re-apply every current decision to the stored grades (from their pre-decision grade),
    by the batch's ``[integrity]`` policy. Returns the updated grade rows."""
    rows = apply_integrity(store.grades(), store.decisions(), policy_of(store.meta()))
    store.set_integrity(rows)
    return rows


# --- CSV for TAs who work offline --------------------------------------------------------

def _uncell(text: str) -> str:
    """A cell as written, without the quote ``csv_safe`` put before a formula."""
    return text[1:] if text.startswith("'") and text[1:2] and text[1] in FORMULA_PREFIXES \
        else text


#: ``review export`` also lists unflagged pairs from this share of the threshold up: the
#: pairs held just under it (identical predictions on too few wrong answers, explained
#: agreement, one kind of evidence not even moderate) are what a TA should look at next
EXPORT_FROM_SHARE = 0.8


def export_csv(store: Store, path: Path) -> int:
    """Every pair with a decision or a flag, or scoring at least ``EXPORT_FROM_SHARE`` of the
    threshold (the current decision, if any) → CSV; the TA fills ``state``, ``note``,
    ``reviewer``. A pair with no current decision has the state ``undecided`` and its latest
    version (after a reset, the reset's). Returns the number of rows.

    Raises
    ------
    InputFileError
        When the CSV's folder does not exist (a typo is not made into folders)."""
    path = Path(path)
    if not path.parent.is_dir():
        raise InputFileError(f"cannot write {path}: the folder {path.parent} does not exist",
                             hint="create the folder first, or give a path in an existing one")
    current = {PairRef(d["lo"], d["hi"], d["kind"]): d for d in store.decisions()}
    near = EXPORT_FROM_SHARE * _threshold(store)
    rows = []
    for ref, p in _pairs(store).items():
        d = current.get(ref)
        if d is None and not p.get("flagged") and not float(p["score"]) >= near:
            continue
        version = d["version"] if d else _seen(store, ref, 0)
        d = d or {}
        rows.append([ref.lo, ref.hi, ref.kind, f"{p['score']:.4f}",
                     "yes" if p.get("flagged") else "no", d.get("state", UNDECIDED),
                     d.get("note", ""), d.get("reviewer", ""),
                     ";".join(d.get("named") or []), version,
                     when(d.get("decided_at"))])
    rows.sort(key=lambda r: (-float(r[3]), r[0], r[1]))
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv_writer(f)  # a note or name starting with '=' must not run as a formula
        w.writerow(CSV_COLUMNS)
        w.writerows(rows)
    return len(rows)


def import_csv(store: Store, path: Path) -> list[dict[str, Any]]:
    """Decisions from a CSV (``a, b, state, reviewer`` and optionally ``kind, note, named,
    version``), all or nothing. Returns the stored decisions.

    ``state`` is one of :data:`STATES` (``needs discussion`` also reads as
    ``needs_discussion``) or ``undecided`` / ``not decided``, which puts a decided pair back
    to not decided: stored as a new version naming the reviewer (``named`` is ignored), so
    the history keeps what was reset. Rows equal to the current state (the export read back
    unchanged, an undecided pair left undecided) store nothing.

    Raises
    ------
    InputFileError
        Listing every bad row by line: an empty state, an unknown student, a pair that no
        longer exists, a malformed row, a state not among the accepted ones, a pair given
        twice, or a stale version. Nothing is stored then.
    """
    from grader.ops.roster import read_table, resolve_columns

    path = Path(path)
    header, table = read_table(path, "decisions", extra_cells=True)  # reported below
    aliases = {c: (c,) for c in CSV_COLUMNS}
    cols = resolve_columns(header, aliases, ("a", "b", "state", "reviewer"), path, "decisions")
    students = {s["student"] for s in store.submissions()}
    pairs = _pairs(store)
    current = {PairRef(d["lo"], d["hi"], d["kind"]): d for d in store.decisions()}
    problems: list[str] = []
    todo: list[dict[str, Any]] = []
    seen: dict[PairRef, int] = {}
    for line, cells in table:
        def get(c: str, cells: list[str] = cells) -> str:
            i = cols.get(c)
            return _uncell(cells[i].strip()) if i is not None and i < len(cells) else ""

        where = f"{path.name}:{line}"
        if len(cells) > len(header):
            problems.append(f"{where}  {len(cells)} cells for {len(header)} columns (a note "
                            "with a comma needs quotes)")
            continue
        a, b, state = get("a"), get("b"), _csv_state(get("state"))
        if not state:
            pair = f"{a} ~ {b}" if a and b else f"a={a!r}, b={b!r}"
            problems.append(f"{where}  {pair}: the state is empty; write {_CSV_STATES} "
                            "(to leave the pair as it is, delete the row)")
            continue
        if not a or not b:
            problems.append(f"{where}  the pair needs both names (a={a!r}, b={b!r})")
            continue
        unknown = [n for n in (a, b) if ":" not in n and n not in students]
        if unknown:
            problems.append(f"{where}  {', '.join(map(repr, unknown))} is not a student of "
                            "this batch")
            continue
        kinds = [r.kind for r in pairs if (r.lo, r.hi) == tuple(sorted((a, b)))]
        ref = pair_key(a, b, get("kind") or (kinds[0] if len(kinds) == 1 else None))
        named = sorted({n.strip() for n in get("named").split(";") if n.strip()})
        cur = current.get(ref)
        reviewer = get("reviewer")
        if state == UNDECIDED:
            named = []  # a reset is about nobody; the export's names of the decision it undoes
            if cur is None:  # undecided already: nothing to store, so no reviewer needed
                reviewer = reviewer or "-"
        why = _check(ref, state, reviewer, named, pairs, csv_row=True)
        if ref in seen:
            why.append(f"the pair is also on line {seen[ref]}")
        version = get("version")
        if version and not version.isdigit():
            why.append(f"version {version!r} is not a whole number")
        if why:
            problems.extend(f"{where}  {w}" for w in why)
            continue
        seen[ref] = line
        if state == UNDECIDED and cur is None:
            continue  # not decided, and to stay so
        if cur and (cur["state"], cur["note"], cur["reviewer"], cur["named"]) == (
                state, get("note"), reviewer, named):
            continue  # the export read back unchanged
        todo.append(dict(lo=ref.lo, hi=ref.hi, kind=ref.kind, state=state, note=get("note"),
                         reviewer=reviewer, named=named, line=line,
                         expected_version=_seen(store, ref, int(version) if version else None)))
    if problems:
        raise InputFileError(f"decisions {path} has {len(problems)} problem(s); nothing was "
                             "stored", problems=problems,
                             hint="fix the rows named above and import the file again "
                                  "('grader review export' writes a file to start from)")
    stored = store.add_decisions(todo)
    stale = [r for r, s in zip(todo, stored, strict=True) if s is None]
    if stale:
        raise InputFileError(
            f"decisions {path}: {len(stale)} pair(s) were decided by someone else after the "
            "export; nothing was stored",
            problems=[f"{path.name}:{r['line']}  {PairRef(r['lo'], r['hi'], r['kind']).label()} "
                      f"is now at version {current_version(store, r)}, the file has "
                      f"{r['expected_version']}" for r in stale],
            hint="export again, copy your decisions into the new file, and import it")
    if stored:
        reapply(store)
    return [s for s in stored if s is not None]


def current_version(store: Store, r: dict[str, Any]) -> int:
    """The current version of a decision row's pair (0 when undecided)."""
    history = store.decision_history(r["lo"], r["hi"], r["kind"])
    return history[-1]["version"] if history else 0


def refresh_grades_csv(out: Path, store: Store) -> None:
    """Rewrite ``grades.csv`` from the store after a decision, keeping the
    ``leaderboard_name`` column that ``grader grades`` added (the names are not stored),
    and the exports a gradebook is filled from (``results.json``, ``exports/``) where the
    batch has them: an upload right after a decision took the grade from before it."""
    from grader.batch.outputs import write_grades_csv

    path = Path(out) / "grades.csv"
    names: dict[str, str] | None = None
    if path.is_file():
        with path.open(newline="", encoding="utf-8") as f:
            reader = csv.DictReader(f)
            if "leaderboard_name" in (reader.fieldnames or []):
                names = {r["student"]: r["leaderboard_name"] for r in reader}
    write_grades_csv(Path(out), store, leaderboard_names=names)
    if (Path(out) / "results.json").is_file() or (Path(out) / "exports").is_dir():
        from reports import write_exports

        write_exports(Path(out), store.snapshot())
