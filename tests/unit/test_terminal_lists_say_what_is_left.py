"""The terminal's lists say when they stop short: the leaderboard after ``grader run`` (50
rows) and the flagged pairs of ``grader similarity`` (``--top``). A TA counting the rows took
the two students past the 50th for ungraded, and 10 listed pairs for all 18 flagged."""

from __future__ import annotations

from grader.batch.outputs import leaderboard_text
from grader.cli import main
from grader.store import Store


def _store(path, n):
    store = Store(path / "grading.db")
    store.put_scores([{"student": f"s{i:02d}", "status": "ok", "message": "",
                       "public_score": 0.5, "private_score": 1 - i / 100, "details": {}}
                      for i in range(n)])
    store.put_grades([{"student": f"s{i:02d}", "status": "ok", "rank": i + 1, "band": 1,
                       "base_grade": 10, "deduction": 0, "grade": 10, "above_baseline": 1,
                       "note": ""} for i in range(n)])
    return store


def test_the_leaderboard_says_how_many_rows_it_left_out(tmp_path):
    store = _store(tmp_path, 7)
    text = leaderboard_text(store, limit=5)
    assert "s04" in text and "s05" not in text
    assert text.splitlines()[-1].strip().startswith("... and 2 more")
    assert "more" not in leaderboard_text(store, limit=7)


def test_similarity_says_how_many_flagged_pairs_it_did_not_list(tmp_path, capsys):
    subs = tmp_path / "subs"
    body = ("import numpy as np\n\ndef train(rows, labels, steps):\n    w = np.zeros(3)\n"
            "    for _ in range(steps):\n        w += 0.1 * rows.T @ (labels - rows @ w)\n"
            "    return w\n\nprint(train(np.eye(3), np.ones(3), 50))\n")
    for i in range(5):  # five copies of one program: ten flagged pairs
        (subs / f"s{i}").mkdir(parents=True)
        (subs / f"s{i}" / "main.py").write_text(body.replace("steps", f"steps{i}"))
    assert main(["similarity", str(subs), "--out", str(tmp_path / "o"), "--top", "4"]) == 0
    out = capsys.readouterr().out
    listed = [line for line in out.splitlines() if line.startswith("! ")]
    assert len(listed) == 4
    assert "... and 6 more flagged" in out
    assert main(["similarity", str(subs), "--out", str(tmp_path / "o2"), "--top", "10"]) == 0
    assert "more flagged" not in capsys.readouterr().out
