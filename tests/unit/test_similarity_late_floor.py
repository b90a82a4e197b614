"""A late submission's pairs are cut at the class's noise floor, as a full run cuts them: its
few dozen pairs are too few for the engine to set a floor of its own, so every one was kept
and pairs.csv's rows depended on the order the submissions came in (81 rows of a late pair
of students against 68 in a fresh run). The real similarity stage, a real store."""

from __future__ import annotations

import csv
import random

from grader.batch.similarity import similarity_stage
from grader.course import load_course
from grader.store import Store
from tests.unit.test_scoring import make

_LINES = ["import numpy as np", "import pandas as pd", "from sklearn.svm import SVC",
          "x = np.arange({n})", "y = x * {n} + 1", "df = pd.DataFrame({{'a': x}})",
          "for i in range({n}):\n    total = i * {n}", "def f{n}(v):\n    return v ** {n}",
          "print('value', {n})", "clf = SVC(C={n})", "z = [k for k in range({n}) if k % 3]",
          "while y.sum() < {n}:\n    y = y + 1", "s = 'text {n}'.upper()",
          "with open('f{n}.txt', 'w') as fh:\n    fh.write(str({n}))",
          "class M{n}:\n    def go(self):\n        return {n}", "w = dict(a={n}, b=2)"]


def _program(rng: random.Random) -> str:
    lines = rng.sample(_LINES, 7)
    return "\n".join(ln.format(n=rng.randint(2, 99)) for ln in lines) + "\n"


def _stage(course, subs, out, students):
    """The similarity stage on ``students`` (their files in ``subs``), as a batch runs it: the
    class's noise floor it kept."""
    with Store(out / "grading.db") as st:
        st.put_submissions([dict(student=s, path=str(subs / f"{s}.py"), entry=f"{s}.py",
                                 files=[f"{s}.py"], content_hash=s, accepted=True,
                                 reason=None, hint=None) for s in students])
        similarity_stage(course, st, out, lambda _msg: None)
        return st.meta()["similarity_inputs"]["noise_floor"]


def _rows(out):
    with open(out / "similarity" / "pairs.csv", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def test_a_late_submissions_pairs_are_cut_at_the_class_noise_floor(tmp_path):
    course_dir = tmp_path / "course"
    course_dir.mkdir()
    make(course_dir)
    course = load_course(course_dir)
    subs, out = tmp_path / "subs", tmp_path / "out"
    subs.mkdir()
    rng = random.Random(4)
    names = [f"s{i:02}" for i in range(36)]
    for name in names:
        (subs / f"{name}.py").write_text(_program(rng))

    def stage(students):
        return _stage(course, subs, out, students)

    floor = stage(names[:-1])  # 595 pairs: enough for the class to set its noise floor
    assert floor > 0
    late = stage(names)  # one late student: only their 35 pairs are scored
    assert late == floor
    theirs = [r for r in _rows(out) if names[-1] in (r["a"], r["b"])]
    assert theirs and len(theirs) < 35
    assert all(float(r["score"]) >= floor or r["flagged"] == "true" for r in theirs)


def test_a_class_that_grows_past_the_floors_bound_gets_the_fresh_floor(tmp_path):
    # 30 students (435 pairs) are too few for a noise floor: every pair is kept. Five late
    # ones make 595 pairs: the incremental pairs.csv kept all of them (a tester: 780 rows
    # where a fresh comparison kept 66)
    course_dir = tmp_path / "course"
    course_dir.mkdir()
    make(course_dir)
    course = load_course(course_dir)
    subs = tmp_path / "subs"
    subs.mkdir()
    rng = random.Random(7)
    names = [f"s{i:02}" for i in range(35)]
    for name in names:
        (subs / f"{name}.py").write_text(_program(rng))

    def stage(out, students):
        return _stage(course, subs, out, students)

    grown, fresh = tmp_path / "grown", tmp_path / "fresh"
    grown.mkdir()
    fresh.mkdir()
    assert stage(grown, names[:30]) == 0.0 and len(_rows(grown)) == 435
    floor = stage(grown, names)  # five late students: only their pairs are scored
    fresh_floor = stage(fresh, names)
    assert floor > 0 and abs(floor - fresh_floor) < 1e-3
    keys = {(r["a"], r["b"]) for r in _rows(grown)}
    fresh_keys = {(r["a"], r["b"]) for r in _rows(fresh)}
    # nearly the fresh rows: the thirty's stored scores came from a class of thirty (what is
    # common changes a little with five more, as documented), so some at the floor differ
    assert len(keys) <= 2 * len(fresh_keys) < 595 / 4, (len(keys), len(fresh_keys))
    assert len(keys & fresh_keys) >= 0.9 * len(fresh_keys), (len(keys & fresh_keys),
                                                             len(fresh_keys))
