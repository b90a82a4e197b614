"""A lock pin this machine cannot install is blamed on the lock, with --upgrade as the fix:
it said 'environment/requirements.txt:4 scikit-learn: no such version' and told the
instructor to fix requirements.txt, which would not help (the lock was resolved on a machine
with other versions, and is installed as it is)."""

from __future__ import annotations

from sandbox._envbuild import pip_failure
from sandbox._requirements import read_requirements

PIP = ("ERROR: Could not find a version that satisfies the requirement scikit-learn==9.9.9 "
       "(from versions: 1.5.0, 1.6.1, 1.9.1)\n"
       "ERROR: No matching distribution found for scikit-learn==9.9.9\n")


def test_a_lock_pin_not_available_here_names_the_lock_and_upgrade(tmp_path):
    (tmp_path / "environment").mkdir()
    (tmp_path / "environment" / "requirements.txt").write_text("numpy\nscikit-learn\n")
    reqs = read_requirements(tmp_path)
    err = pip_failure(PIP, reqs, "installing", tmp_path)
    text = err.render()
    assert "pip cannot install scikit-learn (installing the course environment): the course's " \
           "requirements.lock pins it" in text
    assert "requirements.lock: scikit-learn==9.9.9" in text
    assert "no such version available here; the latest available: 1.5.0, 1.6.1, 1.9.1" in text
    assert f"grader sandbox build {tmp_path} --upgrade" in text
    assert "fix the line" not in text
    # resolving from requirements.txt still names its line
    assert "fix the line in environment/requirements.txt" in pip_failure(
        PIP, reqs, "resolving", tmp_path).render()


def test_a_misspelt_package_is_pointed_at_the_search_not_a_missing_page(tmp_path):
    (tmp_path / "environment").mkdir()
    (tmp_path / "environment" / "requirements.txt").write_text("scikit-lern\n")
    reqs = read_requirements(tmp_path)
    text = pip_failure("ERROR: Could not find a version that satisfies the requirement "
                       "scikit-lern (from versions: none)\nERROR: No matching distribution "
                       "found for scikit-lern\n", reqs, "resolving", tmp_path).render()
    assert "no such package on the package index (a typo?)" in text
    assert "check the spelling: pypi.org/search/?q=scikit-lern" in text
    assert "pypi.org/project/scikit-lern" not in text
