"""A course that adds or changes environment/python-version is told that the Python changed,
not that requirements.txt did (QA: 'environment/requirements.txt changed since ...' after
only python-version was added pointed at the wrong file)."""

from __future__ import annotations

import pytest

from sandbox._requirements import format_lock, read_requirements
from sandbox.environment import EnvironmentNotBuilt, require_environment


def test_a_new_python_version_is_named_as_the_change(tmp_path):
    env = tmp_path / "environment"
    env.mkdir()
    (env / "requirements.txt").write_text("numpy\n")
    lock = format_lock(read_requirements(tmp_path), [("numpy", "2.3.0")], "3.10.4")
    (env / "requirements.lock").write_text(lock)
    (env / "python-version").write_text("3.11\n")  # this machine's
    with pytest.raises(EnvironmentNotBuilt) as info:
        require_environment(tmp_path, cache_dir=tmp_path / "cache")
    text = info.value.render()
    assert ("environment/python-version asks for Python 3.11 and environment/requirements.lock "
            "was resolved for Python 3.10.4") in text
    assert "requirements.txt changed" not in text
    (env / "python-version").unlink()
    (env / "requirements.txt").write_text("numpy\nscipy\n")  # a real requirements change
    with pytest.raises(EnvironmentNotBuilt, match="requirements.txt changed since"):
        require_environment(tmp_path, cache_dir=tmp_path / "cache")
