"""Shared fixtures: real sandboxes (bubblewrap, Docker), markers by folder.

Heavy fixtures are refused in ``tests/unit`` (as pip's tests refuse ``script`` there). A
missing engine skips with a reason, except under ``CI=true`` where it fails.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
#: the course slides' worked examples with exact values (copied from the course folder)
WORKED_EXAMPLES = ROOT / "tests" / "fixtures" / "worked_examples.json"
HEAVY_FIXTURES = {"bwrap_sandbox", "docker_sandbox", "sandbox_backend", "dask_client"}
FIXTURE_MARKERS = {"bwrap_sandbox": "bwrap", "docker_sandbox": "docker"}
FOLDER_MARKERS = {"browser": "browser"}


def pytest_collection_modifyitems(config, items):
    for item in items:
        try:
            parts = Path(str(item.fspath)).resolve().relative_to(ROOT / "tests").parts
        except ValueError:  # collected from outside tests/ (e.g. doctests)
            parts = ()
        folder = parts[0] if len(parts) > 1 else ""
        if folder in FOLDER_MARKERS:
            item.add_marker(FOLDER_MARKERS[folder])
        fixtures = set(getattr(item, "fixturenames", ()))
        if folder == "unit" and fixtures & HEAVY_FIXTURES:
            raise pytest.UsageError(
                f"{item.nodeid} uses {sorted(fixtures & HEAVY_FIXTURES)}: real engines belong "
                "in tests/integration, not tests/unit")
        for fx, marker in FIXTURE_MARKERS.items():
            if fx in fixtures:
                item.add_marker(marker)


def need(condition: bool, reason: str) -> None:
    """Skip the test when ``condition`` is false; under ``CI=true`` fail instead."""
    if condition:
        return
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"required engine missing under CI: {reason}")
    pytest.skip(reason)


# --------------------------------------------------------------------------- sandboxes

@dataclass
class SandboxRunner:
    """Runs a program (source text) in one backend with small, fast test limits."""

    backend: str
    base: Path
    python: str = sys.executable
    counter: list[int] = field(default_factory=lambda: [0])

    def run(self, source: str | dict[str, str], *, limits=None, data_dir: Path | None = None,
            env: dict[str, str] | None = None, name: str = "student", entry: str = "main.py",
            **spec_kw):
        """Write ``source`` as ``entry`` (or a dict of files) and run ``entry``; returns
        ``(verdict, output_dir, code_dir)``."""
        from sandbox import RunSpec, run

        self.counter[0] += 1
        d = self.base / f"{self.backend}-{self.counter[0]}"
        code, out = d / "code", d / "out"
        code.mkdir(parents=True)
        out.mkdir()
        files = {entry: source} if isinstance(source, str) else source
        for rel, text in files.items():
            (code / rel).parent.mkdir(parents=True, exist_ok=True)
            (code / rel).write_text(text)
        if data_dir is None:
            data_dir = d / "data"
            data_dir.mkdir()
            (data_dir / "train.csv").write_text("id,label\n1,cat\n2,dog\n")
        spec = RunSpec(code_dir=code, entry=entry, data_dir=data_dir, output_dir=out,
                       limits=limits or fast_limits(), env=dict(env or {}),
                       python=self.python, name=name, **spec_kw)
        return run(spec, backend=self.backend), out, code


def fast_limits(**kw):
    from sandbox import Limits

    base = dict(time_s=30.0, memory_mb=512, cpus=1.0, processes=64, output_mb=8, log_kb=64,
                tmp_mb=64)
    base.update(kw)
    return Limits(**base)


@pytest.fixture(scope="session")
def bwrap_sandbox(tmp_path_factory) -> SandboxRunner:
    """A working bubblewrap backend (real bwrap, real cgroups when root)."""
    from sandbox.backends import bwrap

    info = bwrap.check()
    need(info.works, f"bubblewrap sandbox unavailable: {info.reason}")
    return SandboxRunner("bwrap", tmp_path_factory.mktemp("bwrap-runs"))


@pytest.fixture(scope="session")
def docker_sandbox(tmp_path_factory) -> SandboxRunner:
    """A working Docker backend; the host-runtime image is built once per session."""
    script = ROOT / "sandbox" / "start_dockerd.sh"
    if os.geteuid() == 0 and script.exists():
        subprocess.run([str(script)], capture_output=True, timeout=90)
    from sandbox.backends import docker as dk

    info = dk.check()
    need(info.works, f"Docker sandbox unavailable: {info.reason}")
    dk.ensure_host_image()
    dk.sweep_stale()
    return SandboxRunner("docker", tmp_path_factory.mktemp("docker-runs"))


@pytest.fixture(params=[pytest.param("bwrap", marks=pytest.mark.bwrap),
                        pytest.param("docker", marks=pytest.mark.docker)])
def sandbox_backend(request) -> SandboxRunner:
    """Each test using this runs once per real backend."""
    return request.getfixturevalue(f"{request.param}_sandbox")
