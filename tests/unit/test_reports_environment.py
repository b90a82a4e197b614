"""The student page lists the course environment the programs ran on (issue 15)."""

from __future__ import annotations

from grader.batch.outputs import render_reports
from grader.store import Store
from tests.synthetic_batch import make_batch


def test_student_page_lists_the_course_environment(tmp_path):
    out = tmp_path / "out"
    names = make_batch(out, students=6, pairs=2)
    student = names["students"][0]
    page = out / "reports" / "students" / f"{student}.html"
    render_reports(out)
    assert 'id="environment"' not in page.read_text()  # the grader's own interpreter: no list
    with Store(out / "grading.db") as store:
        store.set_meta(environment={"built": True, "source": "environment/requirements.txt",
                                    "packages": [["numpy", "2.4.6"], ["scikit-image", "0.26.0"],
                                                 ["<b>evil</b>", "1"]]})
    render_reports(out)
    html = page.read_text()
    assert 'id="environment"' in html and "scikit-image==0.26.0" in html
    assert "<b>evil</b>" not in html and "&lt;b&gt;evil&lt;/b&gt;" in html
    for ext in ("md", "txt"):
        assert "scikit-image==0.26.0" in page.with_suffix(f".{ext}").read_text()


def test_instructor_page_shows_the_preflight_before_anything_else(tmp_path):
    out = tmp_path / "out"
    names = make_batch(out, students=6, pairs=2)
    who = names["students"][1]
    with Store(out / "grading.db") as store:
        store.set_meta(preflight={
            "mode": "warn", "environment": "the course environment (requirements.txt)",
            "students": [{"student": who, "rejected": False, "unparsed": [],
                          "missing": [{"module": "cv2", "distribution": "opencv-python-headless",
                                       "file": "main.py", "line": 3, "guarded": False}]},
                         {"student": names["students"][2], "missing": [], "rejected": False}]})
    render_reports(out)
    html = (out / "reports" / "index.html").read_text()
    assert html.index('id="preflight"') < html.index('id="facts"')
    assert "cv2 (main.py:3) → add opencv-python-headless" in html and who in html
    assert names["students"][2] not in html[html.index('id="preflight"'):html.index('id="facts"')]


def test_instructor_page_lists_imports_that_come_only_as_a_dependency(tmp_path):
    # the pre-flight's own report, as the batch stores it: one student imports scipy, which
    # the environment has only because scikit-learn requires it (a warning: the run went on)
    from grader.preflight import DependencyImport, PreflightReport, StudentPreflight

    out = tmp_path / "out"
    names = make_batch(out, students=6, pairs=2)
    who = names["students"][3]
    report = PreflightReport(mode="warn", environment="the course environment", students=(
        StudentPreflight(who, dependency_only=(DependencyImport(
            "scipy", "scipy", "scikit-learn", "main.py", 2),)),
        StudentPreflight(names["students"][4])))
    with Store(out / "grading.db") as store:
        store.set_meta(preflight=report.to_dict())
    render_reports(out)
    html = (out / "reports" / "index.html").read_text()
    section = html[html.index('id="preflight"'):html.index('id="facts"')]
    assert 'id="preflight-dependencies"' in section and who in section
    assert "scipy (main.py:2) comes with scikit-learn → add scipy" in section
    assert "lacks" not in section  # nobody misses an import
    assert names["students"][4] not in section
