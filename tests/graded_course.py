"""A real course's submission.csv files scored by its real ``Scorer``, stored in a real SQLite
store, graded by the batch's grade stage (``grade_batch``) and rendered (``render_all``)."""

from __future__ import annotations

from pathlib import Path

from grader.batch.scores import grade_batch
from grader.scoring import Scorer
from grader.store import Store
from reports.render import render_all


def grade_outputs(out: Path, course_dir: Path, scorer: Scorer,
                  outputs: dict[str, bytes]) -> tuple[list[dict], dict, dict]:
    """Each student's ``submission.csv`` bytes through the pipeline's last stages; returns
    the grade rows, the stored scores and the store's meta."""
    with Store(out / "grading.db") as st:
        st.set_meta(course="t", course_root=str(course_dir), config=scorer.course.describe())
        st.put_submissions([dict(student=s, path=str(course_dir / f"{s}.py"), entry=f"{s}.py",
                                 files=[f"{s}.py"], content_hash=s, accepted=True, reason=None,
                                 hint=None) for s in outputs])
        rows = []
        for s, raw in outputs.items():
            sc = scorer.evaluate(raw)
            rows.append(dict(student=s, status="ok", message="", public_score=sc.public,
                             private_score=sc.private, details=sc.details))
        st.put_scores(rows)
        grades = grade_batch(scorer.course, st, scorer, None)
        st.put_grades(grades)
        render_all(out, st.snapshot())
        return grades, st.scores(), st.meta()
