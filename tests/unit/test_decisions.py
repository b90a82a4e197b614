"""TAs' decisions in a real SQLite store: history, optimistic concurrency, the grade under
``[integrity]``, and CSV export/import with bad rows refused whole."""

from __future__ import annotations

import csv

import pytest

from grader.course import IntegrityConfig
from grader.decisions import DecisionConflict, decide, export_csv, import_csv, pair_key
from grader.errors import GraderError, InputFileError
from grader.grading import apply_integrity
from grader.store import Store
from tests.synthetic_batch import make_batch


@pytest.fixture
def batch(tmp_path):
    out = tmp_path / "out"
    names = make_batch(out, students=12, pairs=6)
    store = Store(out / "grading.db")
    yield store, names
    store.close()


def _grade(store: Store, student: str) -> tuple[float | None, str]:
    g = {r["student"]: r for r in store.grades()}[student]
    return g["grade"], g["integrity"]


def test_history_is_kept_and_the_latest_is_current(batch):
    store, names = batch
    a, b = names["pair"]
    first = decide(store, b, a, "peer", state="needs_discussion", note="look at step_3",
                   reviewer="ta1", expected_version=0)
    assert (first["lo"], first["hi"], first["version"]) == (a, b, 1)
    decide(store, a, b, "peer", state="dismissed", note="starter code", reviewer="ta2",
           expected_version=1)
    history = store.decision_history(a, b, "peer")
    assert [(h["state"], h["reviewer"], h["version"]) for h in history] == [
        ("needs_discussion", "ta1", 1), ("dismissed", "ta2", 2)]
    [current] = store.decisions()
    assert (current["state"], current["note"], current["version"]) == ("dismissed",
                                                                      "starter code", 2)


def test_a_stale_version_is_refused_naming_who_decided(batch):
    store, names = batch
    a, b = names["pair"]
    decide(store, a, b, "peer", state="confirmed", reviewer="maria", expected_version=0)
    with pytest.raises(DecisionConflict, match="maria decided .* \\(confirmed\\)"):
        decide(store, a, b, "peer", state="dismissed", reviewer="ion", expected_version=0)
    assert [h["reviewer"] for h in store.decision_history(a, b, "peer")] == ["maria"]


def test_bad_decisions_are_refused(batch):
    store, names = batch
    a, b = names["pair"]
    with pytest.raises(GraderError, match="not stored") as err:
        decide(store, a, "nobody", "peer", state="guilty", reviewer=" ", expected_version=0)
    text = err.value.render()
    assert "no pair" in text and "'guilty'" in text and "reviewer" in text
    assert store.decisions() == []


def test_confirmed_zeroes_both_and_reversal_restores(batch):
    store, names = batch
    a, b = names["pair"]
    before = {s: _grade(store, s)[0] for s in (a, b)}
    assert all(v and v > 0 for v in before.values())
    decide(store, a, b, "peer", state="confirmed", note="same functions", reviewer="ta1",
           expected_version=0)
    for s in (a, b):
        grade, outcome = _grade(store, s)
        assert grade == 0.0 and "confirmed" in outcome and "same functions" in outcome
    decide(store, a, b, "peer", state="dismissed", reviewer="ta1", expected_version=1)
    for s in (a, b):
        assert _grade(store, s) == (before[s], "")


def test_named_policy_and_points():
    rows = [{"student": "ana", "grade": 8.0}, {"student": "dan", "grade": 9.0},
            {"student": "eva", "grade": None}]
    d = [{"lo": "ana", "hi": "dan", "state": "confirmed", "note": "", "reviewer": "t",
          "named": ["dan"]},
         {"lo": "dan", "hi": "eva", "state": "needs_discussion", "note": "ask", "reviewer": "t",
          "named": []}]
    out = {r["student"]: r for r in apply_integrity(rows, d, IntegrityConfig(3, "named"))}
    assert [out[s]["grade"] for s in ("ana", "dan", "eva")] == [8.0, 6.0, None]
    assert out["ana"]["integrity"] == "" and "9 -> 6" in out["dan"]["integrity"]
    assert "needs discussion" in out["eva"]["integrity"]
    again = apply_integrity(list(out.values()), [], IntegrityConfig())
    assert [r["grade"] for r in again] == [8.0, 9.0, None]


def test_naming_the_web_source_does_not_spare_the_student(batch, tmp_path):
    """Under applies_to = "named", a confirmed web finding naming the source (the only name a
    CSV row can get wrong this way) reached no grade and no integrity note at all."""
    store, names = batch
    student, source = names["web_pair"]
    graded = _grade(store, student)[0]
    assert graded and graded > 0
    d = [{"lo": source, "hi": student, "kind": "web", "state": "confirmed", "note": "tutorial",
          "reviewer": "t", "named": [source]}]
    [row] = [r for r in apply_integrity(store.grades(), d, IntegrityConfig("zero", "named"))
             if r["student"] == student]
    assert row["grade"] == 0.0 and "with web:tutorial (t) - tutorial" in row["integrity"]
    with pytest.raises(GraderError) as err:
        decide(store, student, source, "web", state="confirmed", reviewer="t", named=[source],
               expected_version=0)
    assert "named 'web:tutorial': the web source, not a student" in err.value.render()
    path = tmp_path / "d.csv"
    path.write_text(f"a,b,kind,state,reviewer,named\n{student},{source},web,confirmed,t,"
                    f"{source}\n", encoding="utf-8")
    with pytest.raises(InputFileError) as err:
        import_csv(store, path)
    assert "d.csv:2  named 'web:tutorial': the web source" in err.value.problems[0]
    assert store.decisions() == []


def test_export_then_import_round_trip(batch, tmp_path):
    store, names = batch
    a, b = names["pair"]
    path = tmp_path / "decisions.csv"
    # the two flagged pairs and the two held under the threshold (0.58 and 0.374, from 80 %
    # of 0.45 up), all undecided
    assert export_csv(store, path) == 4
    rows = list(csv.DictReader(path.open()))
    assert [r["flagged"] for r in rows] == ["yes", "yes", "no", "no"]
    rows[0].update(state="confirmed", reviewer="offline ta", note="=cmd|' /C calc'!A0")
    with path.open("w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    stored = import_csv(store, path)
    assert [(s["lo"], s["hi"], s["state"]) for s in stored] == [(a, b, "confirmed")]
    export_csv(store, path)
    assert "'=cmd" in path.read_text()  # a formula is neutralised for spreadsheets
    assert import_csv(store, path) == []  # reading the export back changes nothing
    assert store.decisions()[0]["note"] == "=cmd|' /C calc'!A0"


def test_import_refuses_bad_rows_and_stores_nothing(batch, tmp_path):
    store, names = batch
    a, b = names["pair"]
    path = tmp_path / "d.csv"
    path.write_text("a,b,state,reviewer,note\n"
                    f"{a},{b},confirmed,ta,fine row\n"
                    f"{a},ghost,confirmed,ta,\n"
                    f"{names['ok'][3]},{names['ok'][4]},dismissed,ta,\n"
                    f"{a},{b},maybe,ta,\n"
                    f"{a},{b},confirmed,ta,x,extra\n")
    with pytest.raises(InputFileError) as err:
        import_csv(store, path)
    text = err.value.render()
    assert "d.csv:3  'ghost' is not a student" in text
    assert "d.csv:4  no pair" in text
    assert "d.csv:5  state 'maybe'" in text
    assert "d.csv:6  6 cells for 5 columns" in text
    assert "nothing was stored" in text
    assert store.decisions() == []


def test_import_with_a_bad_header_points_to_where_the_columns_are_described(batch, tmp_path):
    store, names = batch
    a, b = names["pair"]
    path = tmp_path / "d.csv"
    path.write_text(f"student_a,student_b,verdict\n{a},{b},confirmed\n")
    with pytest.raises(InputFileError) as err:
        import_csv(store, path)
    text = err.value.render()
    assert "no 'state' column" in text
    assert 'README.md, "Reviewing similarity (TAs)"' in text and "review export" in text
    assert store.decisions() == []


def test_import_with_a_stale_version_stores_nothing(batch, tmp_path):
    store, names = batch
    a, b = names["pair"]
    c, w = names["web_pair"]
    path = tmp_path / "d.csv"
    export_csv(store, path)
    decide(store, a, b, "peer", state="dismissed", reviewer="online ta", expected_version=0)
    text = path.read_text().splitlines()
    rows = [text[0]] + [ln.replace(",undecided,,,,0,", ",confirmed,,offline,,0,")
                        for ln in text[1:]]
    path.write_text("\n".join(rows) + "\n")
    with pytest.raises(InputFileError, match="decided by someone else"):
        import_csv(store, path)
    assert [d["reviewer"] for d in store.decisions()] == ["online ta"]
    assert pair_key(c, w, "web") not in {pair_key(d["lo"], d["hi"], d["kind"])
                                         for d in store.decisions()}


def test_grader_final_shows_the_integrity_outcome(tmp_path):
    from grader.ops.final_grades import (
        final_grades,
        load_components,
        load_integrity,
        load_project_grades,
    )
    from grader.ops.roster import load_roster

    roster = tmp_path / "roster.csv"
    roster.write_text("student,name\nana,Ana Pop\ndan,Dan Ion\n")
    grades = tmp_path / "grades.csv"
    grades.write_text("student,status,grade,deduction,integrity\n"
                      "ana,ok,0,,\"confirmed, grade 9 -> 0: with dan (ta1) - same code\"\n"
                      "dan,ok,8,,\n")
    comps = tmp_path / "components.csv"
    comps.write_text("student,exam,lab_test,lab_other\nana,7,8,9\ndan,6,7,8\n")
    r = load_roster(roster)
    rows = load_components(comps, roster=r, project_grades=load_project_grades(grades),
                           integrity=load_integrity(grades))
    results = {x.student: x for x in final_grades(rows, roster=r)}
    # the outcome only: the other student, the reviewer and the note stay in grades.csv
    assert results["ana"].steps[0] == ("project 0 from grades.csv; integrity: confirmed, grade "
                                       "9 -> 0")
    assert results["dan"].steps[0] == "project 8 from grades.csv"


def test_course_integrity_table_is_checked(tmp_path):
    from grader.course import load_course
    from grader.errors import CourseError
    from tests.unit.test_course_config import make_course

    ok = load_course(make_course(tmp_path / "a", toml='[competition]\nname = "t"\n[integrity]\n'
                                                     'confirmed = 3\napplies_to = "named"\n'))
    assert (ok.integrity.confirmed, ok.integrity.applies_to) == (3, "named")
    assert ok.describe()["integrity"] == {"confirmed": 3, "applies_to": "named"}
    with pytest.raises(CourseError) as err:
        load_course(make_course(tmp_path / "b", toml='[competition]\nname = "t"\n[integrity]\n'
                                                    'confirmed = "expel"\napplies_to = "one"\n'))
    text = err.value.render()
    assert 'confirmed = "expel"' in text and '"zero", "none" or a number' in text
    assert 'expected "both" or "named"' in text


def test_a_decision_survives_a_rerun_of_the_similarity_stage(batch, tmp_path):
    from reports._load import load_batch

    store, names = batch
    a, b = names["pair"]
    decide(store, a, b, "peer", state="dismissed", reviewer="ta", note="starter",
           expected_version=0)
    # a late submission: the stage stores every pair again, this one the other way round
    pairs = store.similarity_pairs()
    for p in pairs:
        if {p["a"], p["b"]} == {a, b}:
            p["a"], p["b"], p["score"] = b, a, 0.95
    store.put_similarity(pairs, [[a, b]])
    view = load_batch(tmp_path, store.snapshot())
    [pair] = [p for p in view.pairs if {p["a"], p["b"]} == {a, b}]
    assert pair["decision_state"] == "dismissed" and pair["engine_flagged"]
    assert not pair["flagged"] and view.clusters == []  # a dismissed pair links nobody


def test_export_into_a_missing_folder_is_refused_not_created(batch, tmp_path):
    store, _ = batch
    with pytest.raises(InputFileError, match="does not exist"):
        export_csv(store, tmp_path / "typo" / "dir" / "d.csv")
    assert not (tmp_path / "typo").exists()
