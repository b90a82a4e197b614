"""Host folders named neutrally in what students read (sandbox._hostpaths)."""

from __future__ import annotations

import tempfile

from sandbox import hide_host_paths
from sandbox._hostpaths import ENVIRONMENT, PYTHON, runtime_names

TMP = tempfile.gettempdir()


def test_whole_components_only_and_the_longest_folder_wins():
    names = {"/opt/py": PYTHON, "/opt/py/envs/a1": ENVIRONMENT}
    text = ('File "/opt/py/envs/a1/lib/x.py" and /opt/py/lib/json/__init__.py, '
            "not /opt/python/lib or /opt/py.bak or x/opt/py")
    assert hide_host_paths(text, names) == (
        'File "<course environment>/lib/x.py" and <python>/lib/json/__init__.py, '
        "not /opt/python/lib or /opt/py.bak or x/opt/py")


def test_the_runners_temporary_folders():
    text = (f"{TMP}/gradebox-sandbox/123-abc/code/main.py {TMP}/gradebox-ana-x1/output/s.csv "
            f"{TMP}/gradebox-data/9f-x/train.csv {TMP}/gradebox-ana-x1")
    assert hide_host_paths(text, {}) == ("<submission>/main.py <output>/s.csv <data>/train.csv "
                                         "<grader folder>")


def test_runtime_names_a_venv_as_the_environment_and_its_base_as_python(tmp_path):
    base, venv = tmp_path / "base", tmp_path / "base" / "venvs" / "v"
    venv.mkdir(parents=True)
    names = runtime_names(str(venv), str(base))
    assert names[str(venv)] == ENVIRONMENT and names[str(base)] == PYTHON
    # no venv: the interpreter's own prefix is <python>
    assert runtime_names(str(base), str(base)) == {str(base): PYTHON}
    assert "/" not in runtime_names("/", "/")
