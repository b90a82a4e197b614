"""A student whose run failed on an import is told what to do about it: an ImportError of a
name the module lacks (a typo, or another version's name) gets its own fix, and a package the
course environment lacks gets a "What to do" (it had none). Real batches on the real
bubblewrap sandbox, read back from the rendered student pages."""

from __future__ import annotations

import pytest

from grader.batch import BatchOptions, run_batch
from grader.course import load_course
from tests.integration.batch_helpers import honest, make_course, read_grades, write_submissions

PROGRAMS = {
    "badname": "from json import no_such_name\n",
    "nopkg": "import gradebox_no_such_package_zz\n",
    "other": "import json\njson.loads('{oops')\n",  # keeps the general advice
    "fine": honest(0.5),
    # what pandas' import_optional_dependency raises (DataFrame.to_markdown without tabulate)
    "optdep": "raise ImportError(\"Missing optional dependency 'gradebox_zz_optional'.  Use pip "
              "or conda to install gradebox_zz_optional.\")\n",
}
NAME_HINT = "json in the course environment has no 'no_such_name': check the spelling"
PACKAGE_HINT = "import only the packages the course environment provides"
GENERAL = "run your program locally the way the grader does"


@pytest.mark.bwrap
def test_import_failures_get_their_own_fix(tmp_path, bwrap_sandbox):
    course = load_course(make_course(tmp_path / "course", time_limit_s=20))
    out = tmp_path / "out"
    run_batch(course, write_submissions(tmp_path / "subs", PROGRAMS), out,
              BatchOptions(jobs=2, similarity=False, quiet=True))
    grades = read_grades(out)
    assert grades["badname"]["status"] == "error"
    assert grades["nopkg"]["status"] == "missing_package"
    assert grades["optdep"]["status"] == "missing_package"  # was the student's error
    assert grades["other"]["status"] == "error" and grades["fine"]["status"] == "ok"
    for ext in ("html", "md", "txt"):
        page = {s: (out / "reports" / "students" / f"{s}.{ext}").read_text(encoding="utf-8")
                for s in PROGRAMS}
        text = {s: p.replace("&#39;", "'").replace("\\_", "_") for s, p in page.items()}
        assert NAME_HINT in text["badname"] and GENERAL not in text["badname"], ext
        assert PACKAGE_HINT in text["nopkg"], ext
        # the page lists the course environment's packages: the hint points there (it said
        # "the instructor lists them"), with the usual stand-in for a boosting library
        assert "(listed under 'Course environment' on this page; e.g. scikit-learn's " \
            "HistGradientBoostingClassifier in place of xgboost or lightgbm)" in \
            " ".join(text["nopkg"].split()), ext
        assert GENERAL in text["other"] and NAME_HINT not in text["other"], ext
        assert PACKAGE_HINT not in text["fine"] and NAME_HINT not in text["fine"], ext
