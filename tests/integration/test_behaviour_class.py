"""A small generated runnable class (``benchmarks.runnable_class``) graded on real
bubblewrap: every exact behavioural copy is flagged for its behaviour, the two honest students
who fit scikit-learn's default k-NN are explained by it, and no honest pair is flagged."""

from __future__ import annotations

import csv

import pytest

from benchmarks.runnable_class import build_class
from grader.batch import BatchOptions, run_batch
from grader.course import load_course
from similarity import SimilarityOptions

pytestmark = [pytest.mark.bwrap, pytest.mark.slow]


def _read(path):
    with path.open() as f:
        return list(csv.DictReader(f))


def test_generated_class_copies_flagged_defaults_explained(tmp_path, bwrap_sandbox):
    cls = build_class(tmp_path / "class", students=12, seed=0, data="tabular",
                      time_limit_s=60)
    run_batch(load_course(cls.course), cls.submissions, tmp_path / "out",
              BatchOptions(jobs=2, reports=False, quiet=True))
    grades = {r["student"]: r["status"] for r in _read(tmp_path / "out" / "grades.csv")}
    assert grades == {s.name: "ok" for s in cls.students}
    preds = {s: {r["id"]: r["label"] for r in _read(tmp_path / "out" / "runs" / s /
                                                     "submission.csv")} for s in grades}
    pairs = {tuple(sorted((r["a"], r["b"]))): r
             for r in _read(tmp_path / "out" / "similarity" / "pairs.csv")}
    who = cls.by_name()

    exact = [(s.copy_of, s.name) for s in cls.students
             if s.copy_of and preds[s.name] == preds[s.copy_of]]
    assert len(exact) >= 2, "the generator's copies compute their source's predictions"
    checked = 0
    for a, b in exact:
        row = pairs[tuple(sorted((a, b)))]
        if row["explained_by"]:
            # the source's model is a standard one: two honest users of it agree as much, so
            # only the code can tell (a light copy is still flagged on code)
            assert float(row["behaviour"]) == 0.0, row
            continue
        assert row["flagged"] == "true" and row["reason"] in ("behaviour", "both"), row
        checked += 1
    assert checked >= 1, "no exact copy of a non-standard model to check"

    # The default pair's agreement is explained: no behavioural evidence against them.
    defaults = [s.name for s in cls.students if s.role == "default"]
    assert len(defaults) == 2 and who[defaults[0]].spec.standard == \
        "sklearn:KNeighborsClassifier()"
    row = pairs[tuple(sorted(defaults))]
    assert row["explained_by"] == "sklearn:KNeighborsClassifier()", row
    assert float(row["behaviour"]) == 0.0 and row["reason"] in ("", "code"), row

    # An explained agreement ranks (from explained_share * threshold up) but is never flagged.
    options = SimilarityOptions()
    assert float(row["score"]) >= options.explained_share * options.threshold - 1e-4, row
    assert row["flagged"] == "false", row

    # No honest pair is flagged, on any evidence: the shared idioms of these short programs
    # give honest pairs code scores up to ~0.8, but their predictions are independent, so
    # code alone must reach code_alone (similarity.verdict).
    honest_flagged = [k for k, r in pairs.items() if r["flagged"] == "true"
                      and not cls.is_copy(*k)]
    assert honest_flagged == []
    high_code = [r for k, r in pairs.items() if not cls.is_copy(*k)
                 and float(r["code"]) >= options.threshold]
    for r in high_code:  # raw code kept in its column; the score is on the runs' scale
        assert float(r["score"]) < options.threshold, r
