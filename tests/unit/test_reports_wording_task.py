"""The pages speak the course's task: a regression course (mse, mae) is never told of classes,
labels or wrong answers, and a classification course keeps its own words.

A real course folder (``tests.unit.test_scoring.make``), its real ``Scorer``, the real grade
stage (``grade_batch``), the real similarity engine with the real behavioural model, the
grader's own evidence step for the pair page, a real SQLite store and ``render_all``.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from grader.batch import similarity as batch_similarity
from grader.batch.scores import grade_batch
from grader.store import Store
from reports._load import pair_page
from reports.render import render_all
from similarity import SimilarityOptions, compare
from similarity.behaviour import BehaviourModel
from similarity.behaviour_identity import IdentityEvidence
from tests.unit.test_scoring import csv_bytes, make

N_IDS = 200
STUDENTS = [f"s{i}" for i in range(1, 9)]
COPIER, SOURCE = "s2", "s1"  # s2 hands in s1's predictions, slightly changed
#: phrases only a classification course may show (the pages of both tasks are searched)
CLASSIFICATION_WORDS = ("per-class", "Per class", "per class", "wrong label", "wrong answer",
                        "true label", "confusion", "majority class", "ids both got wrong",
                        "identical wrong")
#: phrases a regression course shows instead
REGRESSION_WORDS = {"student": ("mean of the training targets",),
                    "pair": ("residual", "Largest shared errors", "true value")}


def _program(i: int) -> str:
    """Distinct small programs: the pair is flagged on behaviour, not on code."""
    body = [f"import numpy as np  # {i}", f"x{i} = np.arange({i})"]
    body += [f"def f{i}_{k}(v):\n    return v * {k + i} - {i * k}" for k in range(i)]
    return "\n".join(body) + "\n"


def _predictions(metric: str, truth: list[str]) -> dict[str, list[str]]:
    rng = np.random.default_rng(7)
    if metric in ("mse", "roc_auc"):  # numbers: values, or the positive class's probability
        y = np.array([float(v) for v in truth])
        noise = 0.5 if metric == "mse" else 0.25
        preds = {s: y + rng.normal(0, noise, y.size) for s in STUDENTS}
        preds[COPIER] = preds[SOURCE] + rng.normal(0, 1e-4, y.size)  # a trace: a copy
        if metric == "roc_auc":
            preds = {s: np.clip(p, 0, 1) for s, p in preds.items()}
        return {s: [f"{v:.4f}" for v in p] for s, p in preds.items()}
    labels = sorted(set(truth))
    out = {}
    for s in STUDENTS:
        p = list(truth)
        for k in np.nonzero(rng.random(len(p)) < 0.3)[0]:
            p[k] = labels[(labels.index(p[k]) + int(rng.integers(1, len(labels)))) % len(labels)]
        out[s] = p
    out[COPIER] = list(out[SOURCE])
    return out


def _batch(tmp_path, metric: str):
    """Grade and compare a class of 8 on a real course of ``metric``, render every page."""
    course_dir = tmp_path / "course"
    course_dir.mkdir()
    classes = {"mse": None, "roc_auc": ("0", "1")}.get(metric, ("cat", "dog", "frog"))
    scorer, _ = make(course_dir, metric=metric, n=N_IDS, classes=classes)
    course, ids = scorer.course, [str(i) for i in scorer.truth.index]
    truth = [str(v) for v in scorer.truth]
    preds = _predictions(metric, truth)
    out, subs = tmp_path / "out", tmp_path / "subs"
    subs.mkdir()
    code = {}
    for i, s in enumerate(STUDENTS, 1):
        (subs / f"{s}.py").write_text(_program(i))
        code[s] = subs / f"{s}.py"
        (out / "runs" / s).mkdir(parents=True)
        (out / "runs" / s / "submission.csv").write_bytes(csv_bytes(ids, preds[s]))
    # as grader.batch.similarity: roc_auc's probabilities are compared as residuals too
    regression = course.task == "regression" or metric == "roc_auc"
    truth_values = [float(v) for v in truth] if regression else truth
    model = BehaviourModel.fit(
        {s: ([float(v) for v in p] if regression else p) for s, p in preds.items()},
        truth_values, task="regression" if regression else "classification", ids=ids)
    evidence = model if regression else IdentityEvidence(model)
    result = compare(code, options=SimilarityOptions(min_score=0.0), behaviour=evidence)
    batch_similarity._behaviour_evidence(result.pairs, evidence,
                                         SimpleNamespace(data_dir=course.data_dir))
    pair = next(p for p in result.pairs if {p.a, p.b} == {SOURCE, COPIER})
    assert pair.flagged and pair.behaviour["shared_wrong"], pair.behaviour
    with Store(out / "grading.db") as st:
        st.set_meta(course="t", course_root=str(course.root), config=course.describe())
        st.put_submissions([dict(student=s, path=str(code[s]), entry=f"{s}.py",
                                 files=[f"{s}.py"], content_hash=s, accepted=True, reason=None,
                                 hint=None) for s in STUDENTS])
        rows = []
        for s in STUDENTS:
            sc = scorer.evaluate((out / "runs" / s / "submission.csv").read_bytes())
            rows.append(dict(student=s, status="ok", message="", public_score=sc.public,
                             private_score=sc.private, details=sc.details))
        st.put_scores(rows)
        st.put_grades(grade_batch(course, st, scorer, None))
        st.put_similarity([p.to_dict() for p in result.pairs], result.clusters)
        render_all(out, st.snapshot())
    rep = out / "reports"
    student = {ext: (rep / "students" / f"{SOURCE}.{ext}").read_text()
               for ext in ("html", "md", "txt")}
    student["index"] = (rep / "index.html").read_text()  # the instructor's words follow too
    return student, (rep / pair_page(pair.a, pair.b)).read_text()


def test_regression_pages_speak_of_residuals_not_classes(tmp_path):
    student, pair = _batch(tmp_path, "mse")
    _no_classes(student, pair)
    for phrase in REGRESSION_WORDS["student"]:
        assert phrase in student["html"] and phrase in student["txt"], phrase
    assert "Baseline to beat: <strong>mean of the training targets</strong>" in student["index"]
    # the baseline rule says which way an error metric beats it
    assert "strictly below (a smaller mse is better)" in student["txt"]
    for phrase in REGRESSION_WORDS["pair"]:
        assert phrase in pair, phrase
    # a copy's p-value underflows: it is tiny, never written as impossible (p = 0)
    assert '<td class="num">p &lt; 1e-300</td>' in pair and ">p = 0<" not in pair


def test_roc_auc_pages_have_no_per_class_section_and_compare_residuals(tmp_path):
    student, pair = _batch(tmp_path, "roc_auc")
    assert 'id="classes"' not in student["html"] and "per-class" not in student["html"]
    assert "Per class" not in student["md"] and "Per class" not in student["txt"]
    assert "residual" in pair and "true class (1 = positive)" in pair
    # the true class as the labels have it: 1 and 0, not 1.0 (a float) in the shared errors
    import re

    table = pair.split('id="shared-wrong"')[1].split("</table>")[0]
    truths = re.findall(r"<tr><td>[^<]*</td><td>[^<]*</td><td>[^<]*</td><td>([^<]*)</td>", table)
    assert truths and set(truths) <= {"0", "1"}, truths
    for phrase in ("wrong label", "identical wrong answers", "ids both got wrong"):
        assert phrase not in pair, phrase


def _no_classes(student: dict[str, str], pair: str) -> None:
    for ext, text in {**student, "pair": pair}.items():
        for phrase in CLASSIFICATION_WORDS:
            assert phrase not in text, (ext, phrase)
    assert 'id="classes"' not in student["html"]  # no per-class section without classes


def test_classification_pages_keep_their_own_words(tmp_path):
    student, pair = _batch(tmp_path, "accuracy")
    assert 'id="classes"' in student["html"] and "Per class" in student["html"]
    assert "per-class results" in student["html"]  # not released yet
    assert "majority class of the training labels" in student["html"]
    assert "Baseline to beat: <strong>majority</strong>" in student["index"]
    assert "lower" not in student["txt"]
    for phrase in ("wrong label", "identical wrong answers", "true label", "ids both got wrong"):
        assert phrase in pair, phrase
    for phrase in ("residual", "Largest shared errors"):
        assert phrase not in pair, phrase


def test_the_reports_task_is_the_courses(tmp_path):
    """``reports._load`` keeps its own list of regression metrics (engines never import
    grader): it names the same task as ``grader.course.Course.task`` for every metric."""
    from grader.scoring import METRICS
    from reports._load import Batch

    tasks = set()
    for metric in METRICS:
        (tmp_path / metric).mkdir()
        scorer, _ = make(tmp_path / metric, metric=metric, n=20, classes=("0", "1"))
        batch = Batch(tmp_path, {"config": {"competition": {"metric": metric}}}, [], [], [], [])
        assert batch.task == scorer.course.task, metric
        tasks.add(batch.task)
    assert tasks == {"classification", "regression"}
