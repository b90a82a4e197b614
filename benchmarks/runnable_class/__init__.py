"""A generated runnable class for measuring plagiarism detection with behaviour.

Public API::

    cls = build_class(Path("work"), students=45, seed=0, data="mnist")
    cls.course, cls.submissions        # a course folder and one <student>.py each
    cls.is_copy("ana_pop", "dan_stan") # ground truth: same group (a source and its copies)

Honest students draw a model family, its settings, preprocessing and a writing style at
random (``plan``); pairs of honest students fit the same scikit-learn default in their own
words; rewritten copies compute their source's model in a style that differs in every choice
(``programs.rewrite_style``); light copies only rename.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from benchmarks.runnable_class.data import DATASETS, PROBABILITY, REGRESSION, task_of, write_course
from benchmarks.runnable_class.models import ModelSpec
from benchmarks.runnable_class.plan import ROLES, Student, plan_class
from benchmarks.runnable_class.programs import Style, starter

__all__ = ["DATASETS", "PROBABILITY", "REGRESSION", "ROLES", "ModelSpec", "RunnableClass",
           "Student", "Style", "build_class", "plan_class"]


@dataclass(frozen=True)
class RunnableClass:
    """A written class: the course folder, the submissions folder and who is who."""

    course: Path
    submissions: Path
    students: list[Student]
    task: str = "classification"  # "regression" (mse: numbers), "probability" (roc_auc)

    def by_name(self) -> dict[str, Student]:
        return {s.name: s for s in self.students}

    def is_copy(self, a: str, b: str) -> bool:
        """True when ``a`` and ``b`` are a source and its copy (or two copies of one)."""
        who = self.by_name()
        return a != b and who[a].group == who[b].group


def build_class(dest: Path, *, students: int = 45, seed: int = 0, data: str = "mnist",
                time_limit_s: int = 240, handout: bool = True) -> RunnableClass:
    """Write ``dest/course`` and ``dest/submissions`` (one ``<student>.py`` each).

    Parameters
    ----------
    dest : Path
        A folder that does not hold a class yet.
    students : int, default=45
    seed : int, default=0
        Seeds the plan, the programs and the data split.
    data : {"digits", "mnist", "tabular", "regression", "diabetes", "binary", "cancer"}
        ``regression`` and ``diabetes`` are regression courses (metric ``mse``, regressors);
        ``binary`` and ``cancer`` are graded by ``roc_auc`` (the probability of label 1).
    time_limit_s : int, default=240
        The sandbox's limit per run.
    handout : bool, default=True
        Give the course a ``starter/`` with every way the programs read the data and write
        the answers (shared I/O code is then the course's, not plagiarism); without it,
        honest programs that read and write alike look alike to code comparison.
    """
    dest = Path(dest)
    course = write_course(dest / "course", data, seed=seed, time_limit_s=time_limit_s)
    if handout:
        (course / "starter").mkdir()
        (course / "starter" / "io_examples.py").write_text(starter(task_of(data)), encoding="utf-8")
    subs = dest / "submissions"
    subs.mkdir(parents=True)
    plan = plan_class(students, seed=seed, data=data)
    for s in plan:
        (subs / f"{s.name}.py").write_text(s.source, encoding="utf-8")
    return RunnableClass(course, subs, plan, task_of(data))
