"""``grader review import``: a decided pair goes back to "not decided" as a new version of its
history (never a deletion), and a blank ``state`` is reported, not skipped. Real SQLite."""

from __future__ import annotations

import asyncio
import csv
from concurrent.futures import ThreadPoolExecutor

import pytest

from grader.cli import main
from grader.decisions import decide, export_csv, import_csv
from grader.errors import InputFileError
from grader.store import Store
from tests.synthetic_batch import make_batch


@pytest.fixture
def batch(tmp_path):
    out = tmp_path / "out"
    names = make_batch(out, students=12, pairs=6)
    store = Store(out / "grading.db")
    yield out, store, names
    store.close()


def _grade(store: Store, student: str) -> tuple[float | None, str]:
    g = {r["student"]: r for r in store.grades()}[student]
    return g["grade"], g["integrity"]


def _rows(path):
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def _write(path, rows):
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)


def _pair_row(rows, a, b):
    [row] = [r for r in rows if {r["a"], r["b"]} == {a, b}]
    return row


@pytest.mark.parametrize("spelling", ["undecided", "not decided", "Not_Decided"])
def test_import_puts_a_decided_pair_back_to_not_decided(batch, tmp_path, spelling):
    out, store, names = batch
    a, b = names["pair"]
    before = {s: _grade(store, s)[0] for s in (a, b)}
    decide(store, a, b, "peer", state="confirmed", note="same code", reviewer="ta1",
           named=[b], expected_version=0)
    assert _grade(store, a)[0] == 0.0
    path = tmp_path / "d.csv"
    export_csv(store, path)
    rows = _rows(path)
    _pair_row(rows, a, b).update(state=spelling, reviewer="ta2", note="asked the author")
    _write(path, rows)
    [stored] = import_csv(store, path)
    assert (stored["state"], stored["version"], stored["named"]) == ("undecided", 2, [])
    assert store.decisions() == []  # no current decision
    history = store.decision_history(a, b, "peer")  # the reset is recorded, nothing deleted
    assert [(h["state"], h["reviewer"], h["note"]) for h in history] == [
        ("confirmed", "ta1", "same code"), ("undecided", "ta2", "asked the author")]
    for s in (a, b):
        assert _grade(store, s) == (before[s], "")  # the grade is restored
    export_csv(store, path)
    row = _pair_row(_rows(path), a, b)
    assert (row["state"], row["version"], row["reviewer"]) == ("undecided", "2", "")
    assert import_csv(store, path) == []  # reading it back changes nothing
    # the review page shows a reset pair at version 0 ("not decided"): deciding again works
    again = decide(store, a, b, "peer", state="dismissed", reviewer="ta3", expected_version=0)
    assert again["version"] == 3 and store.decisions()[0]["state"] == "dismissed"


def test_a_blank_state_is_reported_with_the_pair_and_the_accepted_values(batch, tmp_path):
    out, store, names = batch
    a, b = names["pair"]
    c, w = names["web_pair"]
    path = tmp_path / "d.csv"
    path.write_text("a,b,kind,state,reviewer\n"
                    f"{a},{b},peer,confirmed,ta\n"
                    f"{c},{w},web,,ta\n", encoding="utf-8")
    with pytest.raises(InputFileError) as err:
        import_csv(store, path)
    [problem] = err.value.problems
    assert problem.startswith(f"d.csv:3  {c} ~ {w}: the state is empty; write confirmed, "
                              "dismissed, needs_discussion, or undecided")
    assert "nothing was stored" in err.value.render()
    assert store.decisions() == [] and store.decision_history(a, b, "peer") == []


def test_resetting_needs_a_reviewer_and_an_undecided_pair_stays_as_it_is(batch, tmp_path):
    out, store, names = batch
    a, b = names["pair"]
    c, w = names["web_pair"]
    decide(store, a, b, "peer", state="needs_discussion", reviewer="ta1", expected_version=0)
    path = tmp_path / "d.csv"
    path.write_text("a,b,state,reviewer\n"
                    f"{a},{b},undecided,\n"       # a reset must say who did it
                    f"{c},{w},not decided,\n",    # already undecided: nothing to store
                    encoding="utf-8")
    with pytest.raises(InputFileError) as err:
        import_csv(store, path)
    assert err.value.problems == ["d.csv:2  the reviewer's name is empty"]
    assert [d["state"] for d in store.decisions()] == ["needs_discussion"]


def test_review_import_on_the_command_line_and_the_reset_on_the_pair_page(batch, tmp_path,
                                                                          capsys):
    out, store, names = batch
    a, b = names["pair"]
    decide(store, a, b, "peer", state="confirmed", reviewer="ta1", expected_version=0)
    path = tmp_path / "d.csv"
    path.write_text(f"a,b,state,reviewer,version\n{a},{b},Not decided,ta2,1\n",
                    encoding="utf-8")
    assert main(["review", "import", str(out), "--csv", str(path)]) == 0
    assert "imported 1 decision(s)" in capsys.readouterr().out
    with (out / "grades.csv").open(encoding="utf-8") as f:
        assert all(r["integrity"] == "" for r in csv.DictReader(f))
    html = _get_page(out, a, b)
    assert "Not decided yet." in html and "History (2 decisions)" in html
    assert "not decided by ta2" in html and "confirmed by ta1" in html
    with pytest.raises(SystemExit):
        main(["review", "--help"])
    assert "undecided" in capsys.readouterr().out


def _get_page(out, a, b) -> str:
    """The review app's pair page, through its ASGI interface (no network)."""
    from grader.review import make_app
    from reports._load import pair_page

    app = make_app(out)
    sent: list[dict] = []

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message):
        sent.append(message)

    path = f"/reports/{pair_page(a, b)}"
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
             "method": "GET", "scheme": "http", "path": path, "raw_path": path.encode(),
             "query_string": b"", "root_path": "", "headers": [(b"host", b"127.0.0.1")],
             "client": ("127.0.0.1", 1), "server": ("127.0.0.1", 80)}
    # in a thread of its own: a browser test before this one may leave an event loop
    # running in this thread (Playwright's sync API), where asyncio.run refuses to start
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, app(scope, receive, send)).result()
    assert sent[0]["status"] == 200, sent
    return b"".join(m.get("body", b"") for m in sent[1:]).decode()


def test_the_review_page_withdraws_a_decision_and_refuses_an_empty_withdrawal(batch):
    # the pair page's "back to not decided" calls decide(state="undecided")
    from grader.errors import GraderError

    out, store, names = batch
    a, b = names["pair"]
    before = _grade(store, a)[0]
    first = decide(store, a, b, "peer", state="confirmed", reviewer="ta1", named=[a],
                   expected_version=0)
    assert _grade(store, a)[0] == 0.0
    reset = decide(store, a, b, "peer", state="undecided", reviewer="ta2", named=[a],
                   note="wrong pair", expected_version=first["version"])
    assert (reset["state"], reset["version"], reset["named"]) == ("undecided", 2, [])
    assert store.decisions() == [] and _grade(store, a) == (before, "")
    assert [h["state"] for h in store.decision_history(a, b, "peer")] == [
        "confirmed", "undecided"]
    with pytest.raises(GraderError) as err:  # nothing left to withdraw
        decide(store, a, b, "peer", state="undecided", reviewer="ta2", expected_version=0)
    assert "is not decided: there is no decision to withdraw" in err.value.render()
    assert len(store.decision_history(a, b, "peer")) == 2


def test_review_import_updates_the_exports_and_the_pages_with_the_grade(batch, tmp_path,
                                                                        capsys):
    # After an import grades.csv said 0 while exports/moodle.csv, grades_columns.csv,
    # results.json and the pages still said 10, until 'grader report': an upload straight
    # after the import sent the old grades.
    import json

    from reports._load import page_name

    out, store, names = batch
    a, b = names["pair"]
    assert main(["report", str(out), "--columns", "student,grade,rank",
                 "--moodle-item", "Proiect ML", "--quiet"]) == 0
    before = {r["student"]: r["grade"] for r in _rows(out / "grades.csv")}
    path = tmp_path / "d.csv"
    export_csv(store, path)
    rows = _rows(path)
    _pair_row(rows, a, b).update(state="confirmed", reviewer="ta1")
    _write(path, rows)
    assert main(["review", "import", str(out), "--csv", str(path)]) == 0
    assert "exports/ and the pages updated" in capsys.readouterr().out
    after = {r["student"]: r["grade"] for r in _rows(out / "grades.csv")}
    changed = [s for s in after if after[s] != before[s]]
    assert changed  # the confirmed finding took a grade
    moodle_rows = {r["Username"]: r for r in _rows(out / "exports" / "moodle.csv")}
    moodle = {k: r["Proiect ML"] for k, r in moodle_rows.items()}
    for s in changed:  # the gradebook says why, in the student page's words, naming nobody
        feedback = moodle_rows[s]["Feedback"]
        assert "after the course staff's review the grade is" in feedback
        assert ({a, b} - {s}).pop() not in feedback
    columns = _rows(out / "exports" / "grades_columns.csv")
    assert list(columns[0]) == ["student", "grade", "rank"]  # the chosen columns are kept
    results = json.loads((out / "results.json").read_text())
    graded = {s["student"]: s for s in results["students"]}
    for s in changed:
        assert float(moodle[s]) == float(after[s])
        assert float(next(r["grade"] for r in columns if r["student"] == s)) == float(after[s])
        assert graded[s]["grade"] == float(after[s])
        page = (out / "reports" / "students" / f"{page_name(s)}.txt").read_text()
        assert f"Grade: {float(after[s]):.2f}" in page
    # and a decision in the review app does the same for the exports
    from grader.decisions import refresh_grades_csv

    decide(store, a, b, "peer", state="dismissed", reviewer="ta2", expected_version=1)
    refresh_grades_csv(out, store)
    moodle = {r["Username"]: r["Proiect ML"] for r in _rows(out / "exports" / "moodle.csv")}
    assert all(float(moodle[s]) == float(before[s]) for s in changed)
