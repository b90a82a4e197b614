"""The demo mailbox and roster are deterministic and carry the envelope dates."""

from __future__ import annotations

import mailbox

from grader.demo.ops import make_demo_mailbox, write_demo_roster
from grader.ops.roster import load_roster

SOURCES = {"ana-popescu": "print(1)\n", "stefan-turcanu": "print(2)\n"}


def test_same_input_same_bytes(tmp_path):
    a = make_demo_mailbox(SOURCES, tmp_path / "a.mbox")
    b = make_demo_mailbox(SOURCES, tmp_path / "b.mbox")
    assert a.read_bytes() == b.read_bytes()
    froms = [m.get_from() for m in mailbox.mbox(a)]
    assert froms[0] == "ana-popescu@s.unibuc.ro Sat Jan 10 10:00:00 2026"
    assert len(froms) == 6


def test_demo_roster_kaggle_names_differ_only_in_case_and_diacritics(tmp_path):
    path = write_demo_roster(SOURCES, tmp_path / "roster.csv",
                             names={"stefan-turcanu": "Ștefan Țurcanu"})
    roster = load_roster(path)
    assert roster.get("stefan-turcanu").kaggle == "STEFAN TURCANU"
    m = roster.match_kaggle("Ștefan Țurcanu")
    assert (m.student, m.how) == ("stefan-turcanu", "case/diacritics-insensitive")
