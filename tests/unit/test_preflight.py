"""Pre-flight: import forms, the name -> distribution mapping, warn and reject modes."""

from __future__ import annotations

import sys

import pytest

from grader.course import load_course
from grader.intake import scan_submissions
from grader.preflight import check_student, imports_of, run_preflight
from sandbox.environment import Environment, distribution_for, importable_modules

#: a small environment: numpy and scikit-image (and the standard library)
MODULES = set(sys.stdlib_module_names) | {"numpy", "skimage", "PIL"}
TOP_LEVEL = {"numpy": ["numpy"], "skimage": ["scikit-image"], "PIL": ["pillow"]}

FORMS = '''
import os, json
import numpy as np
import cv2.data as cvd
from sklearn.svm import SVC
from . import sibling
from .helpers import f
from mymod import thing
if os.environ.get("FAST"):
    import lightgbm
def train():
    from xgboost import XGBClassifier
try:
    import torchvision
except ImportError:
    torchvision = None
try:
    import tqdm
finally:
    pass
'''


def test_import_forms_are_found_with_their_lines():
    uses = {(u.module, u.line, u.guarded) for u in imports_of(FORMS)}
    assert ("numpy", 3, False) in uses and ("os", 2, False) in uses and ("json", 2, False) in uses
    assert ("cv2", 4, False) in uses  # nested and aliased: the top-level module counts
    assert ("sklearn", 5, False) in uses
    assert ("lightgbm", 10, False) in uses and ("xgboost", 12, False) in uses  # if / def
    assert ("torchvision", 14, True) in uses  # guarded by except ImportError
    assert ("tqdm", 18, False) in uses  # try/finally does not guard
    # relative imports are the student's own
    assert not any(u.module in ("sibling", "helpers", "") for u in imports_of(FORMS))


def test_missing_imports_name_the_distribution_and_skip_local_modules():
    res = check_student("ana", {"main.py": FORMS, "mymod.py": "thing = 1\n"}, MODULES, TOP_LEVEL)
    missing = {m.module: m for m in res.missing}
    assert set(missing) == {"cv2", "sklearn", "lightgbm", "xgboost", "torchvision", "tqdm"}
    assert missing["cv2"].distribution == "opencv-python-headless"
    assert missing["sklearn"].distribution == "scikit-learn"
    assert (missing["cv2"].file, missing["cv2"].line) == ("main.py", 4)
    assert missing["torchvision"].guarded and not missing["cv2"].guarded
    assert not res.rejected  # warn mode
    assert "cv2 (main.py:4; package opencv-python-headless)" in res.message


def test_mapping_prefers_the_environments_metadata():
    assert distribution_for("PIL") == "pillow" and distribution_for("skimage") == "scikit-image"
    assert distribution_for("yaml") == "pyyaml" and distribution_for("bs4") == "beautifulsoup4"
    assert distribution_for("some_pkg") == "some-pkg"
    assert distribution_for("cv2", {"cv2": ["opencv-contrib-python"]}) == "opencv-contrib-python"


def test_multi_file_submission_uses_its_own_modules_and_subfolders():
    files = {"main.py": "from model import build\nimport utils.io\nimport skimage\n",
             "model.py": "import PIL.Image\nimport numpy\n",
             "utils/io.py": "import pandas\n"}
    res = check_student("lucia", files, MODULES, TOP_LEVEL)
    assert [(m.module, m.file, m.line) for m in res.missing] == [("pandas", "utils/io.py", 1)]


def test_reject_mode_rejects_unguarded_missing_imports_only():
    guarded = "try:\n    import cv2\nexcept ImportError:\n    cv2 = None\n"
    assert not check_student("a", {"main.py": guarded}, MODULES, mode="reject").rejected
    hard = check_student("b", {"main.py": "import cv2\n"}, MODULES, mode="reject")
    assert hard.rejected and hard.message.startswith("rejected before running: imports cv2")
    clean = check_student("c", {"main.py": "import numpy\n"}, MODULES, mode="reject")
    assert not clean.rejected and clean.missing == ()


def test_unparsable_file_is_noted_not_fatal():
    res = check_student("d", {"main.py": "import cv2\n", "bad.py": "def (:\n"}, MODULES)
    assert res.unparsed and res.unparsed[0].startswith("bad.py: SyntaxError")
    assert [m.module for m in res.missing] == ["cv2"]


def test_deep_but_legal_expressions_do_not_stop_the_preflight():
    # legal Python deeper than the recursion limit: 2,000 terms, a 1,500-attribute chain,
    # 1,500 calls in a row (found by a hostile-submission probe: the batch died before any
    # run); the imports around them are still found
    deep = {"sum.py": "import cv2\nx = " + "+".join(["1"] * 2000) + "\n",
            "attr.py": "import lightgbm\nv = o" + ".b" * 1500 + "\n",
            "call.py": "def f():\n    return f\n\nf" + "()" * 1500 + "\n"}
    res = check_student("d", deep, MODULES)
    assert {m.module for m in res.missing} == {"cv2", "lightgbm"}
    # a chain too deep even for the parser is noted, not fatal
    res = check_student("e", {"main.py": "x = " + "+".join(["1"] * 200_000) + "\n"}, MODULES)
    assert res.unparsed and "main.py" in res.unparsed[0]


def test_run_preflight_on_intake_submissions(tmp_path):
    subs = tmp_path / "subs"
    (subs / "ana").mkdir(parents=True)
    (subs / "ana" / "main.py").write_text("import numpy\nimport cv2\n")
    (subs / "bob.py").write_text("import os\n")
    env = Environment(tmp_path, True, "environment/requirements.txt", python="/x/bin/python",
                      modules=frozenset(MODULES), top_level=TOP_LEVEL)
    report = run_preflight(scan_submissions(subs), env, mode="reject")
    assert report.rejected == {"ana": report.students[0].message}
    assert [s.student for s in report.flagged] == ["ana"]
    assert "1 submission(s) import packages" in report.summary()
    assert "opencv-python-headless" in report.summary()
    data = report.to_dict()
    assert data["students"][0]["missing"][0]["module"] == "cv2"
    with pytest.raises(ValueError):
        run_preflight([], env, mode="strict")


def test_a_file_name_with_escape_sequences_is_shown_not_obeyed(tmp_path):
    # a helper file whose name sets the terminal's title, clears the screen, or writes a
    # forged "all fine" line over the warning (found by a red-team helper)
    subs = tmp_path / "subs"
    (subs / "ana").mkdir(parents=True)
    (subs / "ana" / "main.py").write_text("print(1)\n")
    (subs / "ana" / "x\x1b]0;OWNED\x07\x1b[2J.py").write_text("import notapkg_zz\n")
    (subs / "ana" / "y\rpre-flight: every submission's imports are fine\x1b[K\nb.py").write_text(
        "import notapkg_yy\n")
    env = Environment(tmp_path, True, "environment/requirements.txt", python="/x/bin/python",
                      modules=frozenset(MODULES), top_level=TOP_LEVEL)
    text = run_preflight(scan_submissions(subs), env, mode="warn").summary()
    assert not any(ch in text for ch in "\x1b\x07\r")
    assert "\\x1b]0;OWNED\\x07" in text and "y\\x0dpre-flight" in text and "\\x0ab.py" in text
    assert len(text.splitlines()) == 2  # the heading and ana's line: nothing forged


def test_unbuilt_environment_checks_the_graders_interpreter(tmp_path):
    env = Environment(tmp_path, False, "the default ML set")
    subs = tmp_path / "subs"
    subs.mkdir()
    (subs / "ana.py").write_text("import numpy\nimport cv2_not_installed\n")
    report = run_preflight(scan_submissions(subs), env)
    assert "numpy" in importable_modules(sys.executable)
    assert [m.module for m in report.students[0].missing] == ["cv2_not_installed"]
    assert "grader's own environment" in report.environment


def test_course_toml_preflight_key(tmp_path):
    (tmp_path / "data").mkdir()
    (tmp_path / "hidden").mkdir()
    (tmp_path / "data" / "train.csv").write_text("id,label\n1,a\n")
    (tmp_path / "data" / "test.csv").write_text("id\n2\n")
    (tmp_path / "hidden" / "test_labels.csv").write_text("id,label\n2,a\n")
    (tmp_path / "course.toml").write_text('[competition]\nname = "x"\n')
    assert load_course(tmp_path).sandbox.preflight == "warn"
    (tmp_path / "course.toml").write_text('[competition]\nname = "x"\n[sandbox]\n'
                                          'preflight = "reject"\n')
    assert load_course(tmp_path).sandbox.preflight == "reject"
    (tmp_path / "course.toml").write_text('[competition]\nname = "x"\n[sandbox]\n'
                                          'preflight = "rejectt"\n')
    with pytest.raises(Exception, match="problem") as err:
        load_course(tmp_path)
    assert 'did you mean "reject"' in err.value.render()


def _site_packages(root, dists: dict[str, list[str]]):
    """A site-packages folder with real ``.dist-info`` metadata (name -> Requires-Dist lines),
    read by importlib.metadata as pip's installs are."""
    site = root / "lib" / "python3.11" / "site-packages"
    for name, requires in dists.items():
        info = site / f"{name.replace('-', '_')}-1.0.dist-info"
        info.mkdir(parents=True)
        lines = ["Metadata-Version: 2.1", f"Name: {name}", "Version: 1.0",
                 *(f"Requires-Dist: {r}" for r in requires)]
        (info / "METADATA").write_text("\n".join(lines) + "\n")
    return root


def test_an_import_only_a_dependency_provides_is_a_warning_naming_the_package(tmp_path):
    """scipy is installed only because scikit-learn requires it: importing it works today
    and is reported as a warning (never a rejection), from the installed metadata."""
    course = tmp_path / "course"
    (course / "environment").mkdir(parents=True)
    (course / "environment" / "requirements.txt").write_text("scikit-learn>=1.3\n")
    env_dir = _site_packages(tmp_path / "env", {
        "scikit-learn": ["numpy>=1.19", "scipy>=1.6", "joblib>=1.2",
                         'pytest>=7; extra == "tests"'],
        "scipy": ["numpy<2.6,>=1.23"], "numpy": [], "joblib": [], "pytest": []})
    top_level = {"sklearn": ["scikit-learn"], "scipy": ["scipy"], "numpy": ["numpy"],
                 "joblib": ["joblib"], "pytest": ["pytest"]}
    env = Environment(course, True, "environment/requirements.txt", python="/x/bin/python",
                      path=env_dir, modules=frozenset(MODULES | set(top_level)),
                      top_level=top_level)
    subs = tmp_path / "subs"
    for student, files in {
            "ana": {"main.py": "import sklearn\nfrom scipy import stats\nimport numpy as np\n"},
            "bob": {"main.py": "from sklearn.svm import SVC\nimport json\n"},
            "carol": {"main.py": "import scipy\n", "scipy.py": "x = 1\n"},  # her own module
            "dan": {"main.py": "import pytest\n"}}.items():  # only an optional extra's
        for rel, text in files.items():
            (subs / student).mkdir(parents=True, exist_ok=True)
            (subs / student / rel).write_text(text)
    report = run_preflight(scan_submissions(subs), env, mode="reject")
    by = {s.student: s for s in report.students}
    assert [d.module for d in by["ana"].dependency_only] == ["scipy", "numpy"]
    assert by["ana"].warning.startswith(
        "scipy (main.py:2) works only because scipy comes with scikit-learn; add it to "
        "requirements; numpy (main.py:3) works only because numpy comes with scikit-learn")
    assert not by["ana"].rejected and not by["ana"].missing  # a warning, not an error
    assert by["bob"].dependency_only == () and by["carol"].dependency_only == ()
    assert by["dan"].dependency_only == ()  # nothing declared requires pytest
    summary = report.summary()
    assert "pre-flight warning: 1 submission(s)" in summary and "numpy, scipy" in summary
    assert "ana: scipy (main.py:2) works only because" in summary
    assert report.to_dict()["students"][0]["dependency_only"][0]["required_by"] == "scikit-learn"
    assert report.rejected == {}


def test_an_unknown_import_may_be_the_students_own_file_left_out():
    # a folder submission whose own nets/ package was not sent: the instructor was told only
    # to add a package 'nets' to the course environment
    res = check_student("ana", {"main.py": "from nets import Net\nimport tqdm\n"}, MODULES,
                        TOP_LEVEL)
    assert "nets (main.py:1; package nets, unless nets is the student's own nets.py or nets/, " \
           "not submitted)" in res.message
    assert "tqdm (main.py:2; package tqdm)" in res.message  # a known package: no such note


def test_a_requirements_file_that_drops_the_default_set_is_said_with_the_fix(tmp_path):
    # An instructor who followed "add xgboost to environment/requirements.txt" to the letter
    # wrote a file of one line; every student's "import pandas" then failed, with no word that
    # the file replaces the default ML set.
    subs = tmp_path / "subs"
    subs.mkdir()
    (subs / "ana.py").write_text("import pandas\nimport sklearn\nimport xgboost\n")
    (subs / "bob.py").write_text("import numpy\nimport pandas\n")
    declared = Environment(tmp_path, True, "environment/requirements.txt",
                           python="/x/bin/python", modules=frozenset(MODULES | {"xgboost"}),
                           top_level={**TOP_LEVEL, "xgboost": ["xgboost"]})
    summary = run_preflight(scan_submissions(subs), declared).summary()
    assert ("note: environment/requirements.txt replaces the default ML set, it does not add "
            "to it; 2 of the default set's packages are imported here but not listed: add "
            "pandas, scikit-learn to it, then 'grader sandbox build'") in summary
    # a package missing from a course with no file yet: the file to write, line by line
    (subs / "bob.py").write_text("import numpy\nimport lightgbm\nimport mynets\n")
    summary = run_preflight(scan_submissions(subs),
                            Environment(tmp_path, False, "the default ML set")).summary()
    lines = summary.splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith("to add "))
    assert lines[at].startswith("to add lightgbm, xgboost: create environment/requirements.txt "
                                "holding the default ML set and the new package(s)")
    listed = [line.strip() for line in lines[at + 1:]]
    assert listed[:2] == ["numpy", "pandas"] and listed[-2:] == ["lightgbm", "xgboost"]
    assert "mynets" not in listed  # unknown: perhaps the student's own file, left out
    assert "replaces the default ML set" not in summary.replace("(the file replaces", "")
