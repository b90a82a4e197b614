"""The course environment on the real backends: built once (cached across test sessions under
test-artifacts/environments), students' code runs on it, undeclared imports are
``missing_package``, gradebox's own packages are out of reach, bad requirements name the line.
"""

from __future__ import annotations

import dataclasses
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sandbox.environment import (
    EnvironmentFileError,
    EnvironmentNotBuilt,
    build_environment,
    load_environment,
    require_environment,
)
from tests.conftest import ROOT, fast_limits

CACHE = ROOT / "test-artifacts" / "environments"
#: scikit-image and a small pinned pure-Python extra
REQUIREMENTS = "# the course's packages\nscikit-image==0.26.0\ntabulate==0.8.10  # tables\n"


def _course(folder: Path, requirements: str | None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "course.toml").write_text('[competition]\nname = "env-test"\n')
    if requirements is not None:
        (folder / "environment").mkdir(exist_ok=True)
        (folder / "environment" / "requirements.txt").write_text(requirements)
    return folder


@pytest.fixture(scope="session")
def course_env(tmp_path_factory):
    """One built environment shared by every test (the build is timed once)."""
    course = _course(tmp_path_factory.mktemp("env-course"), REQUIREMENTS)
    result = build_environment(course, cache_dir=CACHE)
    print(f"\ncourse environment: built={result.built} resolved={result.resolved} "
          f"{result.seconds:.1f} s")
    return course, result


def test_build_writes_the_lock_and_a_second_build_does_nothing(course_env):
    course, first = course_env
    env = first.environment
    lock = (course / "environment" / "requirements.lock").read_text()
    assert "scikit-image==0.26.0" in lock and "tabulate==0.8.10" in lock
    assert "numpy==" in lock  # dependencies are resolved and pinned too
    assert env.lock == lock and Path(env.python).is_file()
    assert dict(env.packages)["scikit-image"] == "0.26.0"
    assert {"skimage", "tabulate", "numpy", "json"} <= env.modules
    assert env.top_level["skimage"] == ["scikit-image"]
    t = time.monotonic()
    said: list[str] = []
    again = build_environment(course, cache_dir=CACHE, log=said.append)
    assert not again.built and not again.resolved and time.monotonic() - t < 10
    # the file replaces the default ML set: what of it is gone is said (numpy and scipy come
    # with scikit-image, so they are not)
    (note,) = [m for m in said if "replaces the default ML set" in m]
    gone = note.split("not in this environment: ")[1].split(" (")[0].split(", ")
    assert {"pandas", "scikit-learn", "torch==2.13.0"} <= set(gone)
    assert not {"numpy", "scipy", "scikit-image"} & set(gone)
    assert again.environment.python == env.python
    assert require_environment(course, cache_dir=CACHE).python == env.python


def test_same_requirements_elsewhere_reuse_the_resolution_and_the_build(course_env, tmp_path):
    _, first = course_env
    other = _course(tmp_path / "copy", REQUIREMENTS.replace("# tables", ""))
    again = build_environment(other, cache_dir=CACHE)
    assert not again.built and not again.resolved
    assert again.environment.key == first.environment.key


def test_declared_but_not_built_refuses_with_the_command(course_env, tmp_path):
    course, _ = course_env
    with pytest.raises(EnvironmentNotBuilt) as err:
        require_environment(course, cache_dir=tmp_path / "empty-cache")
    text = err.value.render()
    assert "not built" in text and f"grader sandbox build {course}" in text


def test_requirements_edited_after_the_build_say_so(course_env, tmp_path):
    # it said "never built on this machine" beside the lock of the previous requirements
    course, _ = course_env
    edited = _course(tmp_path / "edited", REQUIREMENTS)
    lock = course / "environment" / "requirements.lock"
    (edited / "environment" / "requirements.lock").write_text(lock.read_text())
    assert require_environment(edited, cache_dir=CACHE).built
    (edited / "environment" / "requirements.txt").write_text(REQUIREMENTS + "tqdm\n")
    with pytest.raises(EnvironmentNotBuilt) as err:
        require_environment(edited, cache_dir=CACHE)
    text = err.value.render()
    assert "environment/requirements.txt changed since environment/requirements.lock" in text
    assert f"grader sandbox build {edited}" in text


def test_undeclared_course_uses_the_default_set_only_when_built(tmp_path):
    course = _course(tmp_path / "plain", None)
    env = require_environment(course, cache_dir=tmp_path / "cache")
    assert not env.declared and not env.built and env.python == ""
    assert env.source == "the default ML set"


def _runner(runner, env):
    return dataclasses.replace(runner, python=env.python)


def test_declared_packages_import_and_run_ok(sandbox_backend, course_env):
    env = course_env[1].environment
    v, out, _ = _runner(sandbox_backend, env).run({
        "main.py": "import skimage, tabulate, numpy as np\nfrom helper import K\n"
                   "import os\nprint(skimage.__version__, tabulate.__version__, K)\n"
                   "open(os.path.join(os.environ['GRADER_OUTPUT'], 'submission.csv'), 'w')"
                   ".write('id,label\\n1,cat\\n')\n",
        "helper.py": "K = 3\n"}, limits=fast_limits(memory_mb=1024))
    assert v.status == "ok", v.stderr
    assert v.stdout.split() == ["0.26.0", "0.8.10", "3"]


def test_undeclared_import_is_missing_package(sandbox_backend, course_env):
    env = course_env[1].environment
    v, _, _ = _runner(sandbox_backend, env).run("import numpy\nimport cv2\n",
                                                limits=fast_limits(memory_mb=1024))
    assert v.status == "missing_package", (v.status, v.stderr)
    assert "imports cv2" in v.message and "opencv-python-headless" in v.message
    assert "environment/requirements.txt" in v.message
    # a student's own bug stays an error
    v, _, _ = _runner(sandbox_backend, env).run("from numpy import no_such_name\n")
    assert v.status == "error"


@pytest.mark.parametrize("module", ["grader", "dask", "jinja2"])
def test_gradebox_packages_are_not_importable(sandbox_backend, course_env, module):
    env = course_env[1].environment
    # the base interpreter's own site-packages (which hold jinja2 on some machines) are hidden
    sneaky = ("import site, sys\nsys.path[:0] = site.getsitepackages([sys.base_prefix])\n"
              f"sys.path.insert(0, {str(ROOT)!r})\nimport {module}\n")
    v, _, _ = _runner(sandbox_backend, env).run(sneaky)
    assert v.status == "missing_package", (v.status, v.stderr)
    assert f"No module named '{module}'" in v.stderr


def test_typo_unavailable_version_and_unparsable_line_name_the_line(tmp_path):
    cache = tmp_path / "cache"
    cases = {
        "typo": ("numpy\nscikit-imagge==0.26.0\n", "requirements.txt:2  scikit-imagge==0.26.0",
                 "no such package"),
        "version": ("tabulate==0.0.77\n", "requirements.txt:1  tabulate==0.0.77",
                    "no such version"),
        "parse": ("numpy\n\nscikit-learn=>1.2\n", "requirements.txt:3  scikit-learn=>1.2",
                  "not a requirement pip can read"),
        # the lock kept only 'name==version': pip then looked the name up on the index
        "url": ("numpy\nmylib @ file:///srv/wheels/mylib-1.0-py3-none-any.whl\n",
                "requirements.txt:2  mylib @ file:///srv/wheels/mylib-1.0-py3-none-any.whl",
                "a URL is not supported here"),
        "git": ("git+https://github.com/psf/requests.git\n",
                "requirements.txt:1  git+https://github.com/psf/requests.git",
                "a URL is not supported here"),
    }
    for name, (text, where, why) in cases.items():
        course = _course(tmp_path / name, text)
        with pytest.raises(EnvironmentFileError) as err:
            build_environment(course, cache_dir=cache)
        rendered = err.value.render()
        assert where in rendered and why in rendered, rendered
        assert not (course / "environment" / "requirements.lock").exists()
        # before any run: the batch's check says the same
        read_error = name in ("parse", "url", "git")
        with pytest.raises(EnvironmentFileError if read_error else EnvironmentNotBuilt):
            require_environment(course, cache_dir=cache)


def test_python_version_names_what_this_machine_has(tmp_path):
    cache = tmp_path / "cache"
    major, minor, micro = sys.version_info[:3]
    cases = {
        "3.99": "asks for Python 3.99, which is not installed",
        # a patch release that is not the python3.X found: was built on that one silently
        f"{major}.{minor}.{micro + 1}": f"asks for Python {major}.{minor}.{micro + 1}, but",
    }
    for version, why in cases.items():
        course = _course(tmp_path / version, "")
        (course / "environment" / "python-version").write_text(version + "\n")
        with pytest.raises(EnvironmentFileError) as err:
            build_environment(course, cache_dir=cache)
        assert why in err.value.render(), err.value.render()
        assert not (course / "environment" / "requirements.lock").exists()
    course = _course(tmp_path / "own", "")  # the grader's own minor: fine
    (course / "environment" / "python-version").write_text(f"{major}.{minor}\n")
    result = build_environment(course, cache_dir=cache)
    lock = (course / "environment" / "requirements.lock").read_text()
    assert result.environment.packages == () and f"# python {major}.{minor}." in lock


def test_cli_build_is_cached(course_env):
    course, _ = course_env
    p = subprocess.run([sys.executable, "-m", "grader", "sandbox", "build", str(course),
                        "--cache-dir", str(CACHE)], capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    assert "already built (nothing to do)" in p.stdout
    env = load_environment(course, cache_dir=CACHE)
    assert str(env.path) in p.stdout


def test_an_empty_requirements_file_builds_the_standard_library_and_says_so(tmp_path):
    # allowed (a course may forbid every package), but an instructor who meant the default set
    # learns it at build time, not from every student's missing_package
    course = _course(tmp_path / "course", "# nothing yet\n\n")
    said: list[str] = []
    result = build_environment(course, cache_dir=CACHE, log=said.append)
    assert any("lists no packages" in m and "delete the file" in m for m in said), said
    env = result.environment
    assert dict(env.packages) == {} and "json" in env.modules and "numpy" not in env.modules


def test_an_environment_error_names_the_course_environment_not_its_folder(bwrap_sandbox,
                                                                          course_env):
    """An ImportError from an installed package names its file: the student reads
    ``<course environment>/...``, the instructor's stderr keeps the cache folder."""
    env = course_env[1].environment
    v, _, _ = _runner(bwrap_sandbox, env).run("from numpy import no_such_name\n",
                                              limits=fast_limits(memory_mb=1024))
    assert v.status == "error"
    assert "from 'numpy' (<course environment>/lib/python" in v.message, v.message
    for text in (v.message, v.error_tail):
        assert str(env.path) not in text and str(CACHE) not in text
    assert str(env.path) in v.stderr


def _toy_wheel(folder: Path, name: str = "gbtoy", version: str = "1.0") -> Path:
    """A real pure-Python wheel, built by hand (no network): module ``gbtoy``."""
    import base64
    import hashlib
    import zipfile

    info = f"{name}-{version}.dist-info"
    files = {f"{name}.py": "VALUE = 42\n",
             f"{info}/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n",
             f"{info}/WHEEL": "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\n"
                              "Tag: py3-none-any\n"}
    record = []
    for path, text in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=")
        record.append(f"{path},sha256={digest.decode()},{len(text.encode())}")
    files[f"{info}/RECORD"] = "\n".join([*record, f"{info}/RECORD,,"]) + "\n"
    folder.mkdir(parents=True, exist_ok=True)
    wheel = folder / f"{name}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as z:
        for path, text in files.items():
            z.writestr(path, text)
    return wheel


def test_a_failed_install_writes_no_lock_names_the_course_and_is_retried(tmp_path, monkeypatch):
    """The package index loses the package between resolving and installing (as a network
    that drops would): pip really fails, no lock claims a build, the next build installs."""
    index = tmp_path / "index"
    wheel = _toy_wheel(index)
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(index))
    course = _course(tmp_path / "ml course", "gbtoy==1.0\n")
    cache, away = tmp_path / "cache", tmp_path / "away.whl"
    lock = course / "environment" / "requirements.lock"

    def lose_the_wheel(line: str) -> None:
        if line.startswith("installing"):
            wheel.rename(away)

    with pytest.raises(EnvironmentFileError) as err:
        build_environment(course, cache_dir=cache, log=lose_the_wheel)
    text = err.value.render()
    assert "installing the course environment" in text and away.exists(), text
    assert not lock.exists() and not list(cache.rglob("*.lock"))
    assert f"then build again: grader sandbox build '{course.resolve()}'" in text, text
    assert "COURSE" not in text
    with pytest.raises(EnvironmentNotBuilt, match="never built"):
        require_environment(course, cache_dir=cache)
    away.rename(wheel)  # the index is back: the next build installs
    result = build_environment(course, cache_dir=cache)
    assert result.built and "gbtoy==1.0" in lock.read_text()
    assert require_environment(course, cache_dir=cache).python == result.environment.python


def _pyenv_shim_without_a_version() -> tuple[Path, str, str]:
    """A real pyenv shim ``python3.M`` that the system Python does not provide:
    ``(shims folder, minor, an installed version providing it)``, else skip."""
    import os
    import shutil

    if not shutil.which("pyenv"):
        pytest.skip("pyenv is not installed here")
    root = Path(subprocess.run(["pyenv", "root"], capture_output=True, text=True,
                               timeout=30).stdout.strip())
    mine = f"{sys.version_info.major}.{sys.version_info.minor}"
    for version in sorted(os.listdir(root / "versions")) if (root / "versions").is_dir() else []:
        minor = ".".join(version.split(".")[:2])
        if (minor.startswith("3.") and minor != mine and (root / "shims" / f"python{minor}").exists()
                and not shutil.which(f"python{minor}", path="/usr/local/bin:/usr/bin:/bin")):
            return root / "shims", minor, version
    pytest.skip("no pyenv shim here for a Python the system lacks")


def test_a_pyenv_shim_with_no_version_selected_names_the_setting_and_the_fix(tmp_path,
                                                                             monkeypatch):
    shims, minor, version = _pyenv_shim_without_a_version()
    monkeypatch.setenv("PATH", f"{shims}:/usr/local/bin:/usr/bin:/bin")
    monkeypatch.setenv("PYENV_VERSION", "system")  # selects no version providing python3.M
    course = _course(tmp_path / "course", "")
    (course / "environment" / "python-version").write_text(f"{minor}\n")
    with pytest.raises(EnvironmentFileError) as err:
        build_environment(course, cache_dir=tmp_path / "cache")
    text = err.value.render()
    assert f"environment/python-version ({minor}) selects python{minor}, a pyenv shim" in text
    assert f"PYENV_VERSION={version}" in text and f"versions/{version}/bin" in text, text
    assert "command not found" not in text and "pyenv help global" not in text, text
    # the same shim as [sandbox] python: the run refuses with the course.toml setting named
    from sandbox import SandboxBroken
    from sandbox._runtime import python_runtime

    with pytest.raises(SandboxBroken) as err:
        python_runtime(str(shims / f"python{minor}"))
    text = err.value.render()
    assert "[sandbox] python in course.toml selects" in text and "pyenv shim" in text, text
    assert f"name the interpreter itself: {shims.parent}/versions/{version}/bin/python{minor}" \
        in text, text


def test_preflight_warns_about_imports_only_a_dependency_provides(course_env, tmp_path):
    """The real built environment lists scikit-image and tabulate: scipy and numpy are
    there only because scikit-image requires them (read from the installed metadata)."""
    from grader.intake import scan_submissions
    from grader.preflight import run_preflight

    course, result = course_env
    subs = tmp_path / "subs"
    subs.mkdir()
    (subs / "ana.py").write_text("import skimage\nimport scipy.ndimage\nimport tabulate\n")
    (subs / "bob.py").write_text("import skimage, tabulate, json\n")
    report = run_preflight(scan_submissions(subs), result.environment, mode="reject")
    by = {s.student: s for s in report.students}
    assert by["ana"].warning == ("scipy (ana.py:2) works only because scipy comes with "
                                 "scikit-image; add it to requirements")
    assert not by["ana"].rejected and by["bob"].dependency_only == ()
    assert "pre-flight warning: 1 submission(s)" in report.summary()


def test_the_system_pythons_packages_are_not_importable(sandbox_backend, course_env):
    # Debian's python3 keeps yaml, six, pygments in /usr/lib/python3/dist-packages: a program
    # that put that folder on sys.path imported packages the course never declared
    system = Path("/usr/lib/python3/dist-packages")
    if not (system / "yaml").is_dir():
        pytest.skip("no Debian python3-yaml on this machine")
    env = course_env[1].environment
    sneaky = f"import sys\nsys.path.append({str(system)!r})\nimport yaml\n"
    v, _, _ = _runner(sandbox_backend, env).run(sneaky)
    assert v.status == "missing_package", (v.status, v.stderr)
    assert "No module named 'yaml'" in v.stderr
