"""cgroup layouts against a *fake* cgroupfs (plain folders and files, stated as such).

This machine mounts cgroup v1 with an empty v2 hierarchy beside it (hybrid), so what needs v2
controllers (memory.max, pids.max, cpu.max, subtree delegation) is checked here as the files
gradebox writes; cgroup.kill and the v2 process tracking run on a real cgroup2 mount in
tests/integration/test_sandbox_gpu.py.
"""

from __future__ import annotations

from pathlib import Path

from sandbox import _cgroup
from sandbox.limits import Limits


def _v2_root(tmp_path: Path, offered: str = "cpuset cpu io memory hugetlb pids") -> Path:
    root = tmp_path / "cgroup"
    root.mkdir(parents=True)
    (root / "cgroup.controllers").write_text(offered + "\n")
    (root / "cgroup.subtree_control").write_text("")
    (root / "cgroup.procs").write_text("1\n")
    return root


def _v1_root(tmp_path: Path, unified: bool) -> Path:
    root = tmp_path / "cgroup"
    for c in ("memory", "pids", "cpu", "devices"):
        (root / c).mkdir(parents=True)
        (root / c / "cgroup.procs").write_text("")
    if unified:
        (root / "unified").mkdir()
        (root / "unified" / "cgroup.controllers").write_text("")
    return root


def test_versions_are_told_apart(tmp_path):
    assert _cgroup.detect(_v2_root(tmp_path / "a")).version == "v2"
    assert _cgroup.detect(_v1_root(tmp_path / "b", unified=False)).version == "v1"
    h = _cgroup.detect(_v1_root(tmp_path / "c", unified=True))
    assert h.version == "hybrid" and h.v2_root == tmp_path / "c" / "cgroup" / "unified"
    (tmp_path / "d").mkdir()
    assert _cgroup.detect(tmp_path / "d").version == "none"


def test_v2_parent_delegates_the_three_controllers(tmp_path):
    root = _v2_root(tmp_path)
    parent = _cgroup.v2_parent(root)
    assert parent.path == root / "gradebox" and parent.reason == ""
    assert parent.controllers == ("memory", "pids", "cpu")
    assert (root / "cgroup.subtree_control").read_text() == "+memory +pids +cpu"
    assert (root / "gradebox" / "cgroup.subtree_control").read_text() == "+memory +pids +cpu"


def test_v2_parent_names_what_is_not_offered(tmp_path):
    parent = _cgroup.v2_parent(_v2_root(tmp_path, offered="hugetlb"))
    assert parent.controllers == ()
    assert "memory, pids, cpu not delegated" in parent.reason and "hugetlb" in parent.reason


def test_v2_run_cgroup_writes_every_limit(tmp_path):
    lim = Limits(memory_mb=300, processes=50, cpus=1.5)
    parent = _cgroup.V2Parent(tmp_path, ("memory", "pids", "cpu"))
    cg = _cgroup.RunCgroupV2.create(lim, parent)
    p = cg.path
    assert p.parent == tmp_path and p.name.split("-")[0].isdigit()
    assert (p / "memory.max").read_text() == str(300 * 2**20)
    assert (p / "memory.swap.max").read_text() == "0"
    assert (p / "memory.oom.group").read_text() == "1"
    assert (p / "pids.max").read_text() == "50"
    assert (p / "cpu.max").read_text() == "150000 100000"
    assert cg.controls == {"memory", "pids", "cpu"} and cg.docker_parent is None
    (p / "memory.events").write_text("low 0\nhigh 0\nmax 3\noom 1\noom_kill 2\n")
    (p / "memory.peak").write_text("123456\n")
    assert cg.oom_kills() == 2 and cg.peak_memory_bytes() == 123456


def test_v2_without_memory_controller_leaves_rlimits_to_the_launcher(tmp_path):
    from sandbox._process import rlimit_flags

    lim = Limits(memory_mb=300, processes=50)
    cg = _cgroup.RunCgroupV2.create(lim, _cgroup.V2Parent(tmp_path, ("pids",)))
    assert cg.controls == {"pids"} and not (cg.path / "memory.max").exists()
    flags = rlimit_flags(lim, cg)
    assert f"--as={300 * 2**20}" in flags and not any(f.startswith("--nproc") for f in flags)


def test_describe_says_the_version(tmp_path):
    d = _cgroup.describe(_v1_root(tmp_path / "h", unified=True))
    assert d["version"] == "hybrid (limits through v1)"
    assert _cgroup.describe(_v2_root(tmp_path / "v2"))["version"] == "v2"
    assert "memory, pids, cpu" in _cgroup.describe(_v2_root(tmp_path / "v2b"))["limits"]


def test_a_launcher_that_cannot_join_its_cgroup_is_a_broken_sandbox(tmp_path):
    """The real launcher (``/bin/sh``) with a cgroup it cannot join: the machine's fault,
    told by the launcher's own mark file, not by words a student could print."""
    import pytest

    from sandbox._process import run_process
    from sandbox.errors import SandboxBroken
    from tests.conftest import fast_limits

    class Unjoinable:  # a cgroup whose procs file cannot be written (a removed hierarchy)
        controls = {"memory", "pids"}

        def procs_files(self):
            return [tmp_path / "gone" / "cgroup.procs"]

        def kill_all(self):
            pass

    with pytest.raises(SandboxBroken, match="could not start"):
        run_process(["/bin/true"], env={}, cwd=None, limits=fast_limits(), cgroup=Unjoinable(),
                    name="ana")
