"""submission.csv with several id problems: the student hears about all of them at once
(repeated ids, ids that are not test ids, missing test ids), each with a count, examples and
the fix; stored as the run's invalid_output message in a real SQLite store."""

from __future__ import annotations

import pytest

from grader.batch.scores import score_runs
from grader.scoring import OutputInvalid
from grader.store import Store
from tests.unit.test_scoring import csv_bytes, make


def test_duplicates_and_missing_ids_are_reported_together(tmp_path):
    (tmp_path / "course").mkdir()
    scorer, labels = make(tmp_path / "course")
    ids = [f"t{i}" for i in range(200) if i not in (5, 6, 7, 8, 150)]
    ids += ["t0", "t1", "t1", "t2", "t3"]  # t0, t2, t3 twice; t1 three times
    out = tmp_path / "out"
    (out / "runs" / "ana").mkdir(parents=True)
    (out / "runs" / "ana" / "submission.csv").write_bytes(
        csv_bytes(ids, [labels[int(i[1:])] for i in ids]))
    with Store(out / "grading.db") as store:
        store.put_submissions([dict(student="ana", path="submissions/ana.py", entry="ana.py",
                                    files=["ana.py"], content_hash="h", accepted=True,
                                    reason=None, hint=None)])
        store.put_run("ana", "k", {"status": "ok", "exit_code": 0}, output_error=None,
                      started_at=0.0, finished_at=1.0)
        [row] = score_runs(store, scorer, out)
    message = row["message"]
    assert row["status"] == "invalid_output"
    assert message.startswith("submission.csv has 2 problems: 1) it lists 4 id(s) more than "
                              "once: 't0' (2 times), 't1' (3 times), 't2' (2 times) and 1 more; "
                              "write one row per test id. 2) it misses 5 of 200 test ids: "
                              "'t5', 't6', 't7' and 2 more; write a row for every id of "
                              "data/test.csv"), message
    assert "\n" not in message  # one line: grades.csv and the student's page


def test_every_kind_of_id_problem_is_listed(tmp_path):
    scorer, labels = make(tmp_path)
    ids = [f"t{i}" for i in range(1, 200)] + ["t9", "x1", "x2"]
    with pytest.raises(OutputInvalid) as err:
        scorer.parse(csv_bytes(ids, ["cat"] * len(ids)))
    text = str(err.value)
    assert text.startswith("submission.csv has 3 problems: 1) it lists 1 id(s) more than once: "
                           "'t9' (2 times); write one row per test id. 2) it has 2 id(s) that "
                           "are not test ids: 'x1', 'x2'; use the ids of data/test.csv. 3) it "
                           "misses 1 of 200 test ids: 't0'; write a row for every id of "
                           "data/test.csv"), text


def test_one_problem_keeps_one_sentence(tmp_path):
    scorer, labels = make(tmp_path)
    ids = [f"t{i}" for i in range(200)] + ["t4"]
    with pytest.raises(OutputInvalid, match=r"^submission.csv lists 1 id\(s\) more than once: "
                                            r"'t4' \(2 times\); write one row per test id$"):
        scorer.parse(csv_bytes(ids, [labels[int(i[1:])] for i in ids]))
