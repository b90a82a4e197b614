"""When the machine counts as overloaded for a timed-out run: the load average, unless the
kernel's CPU pressure says no task waited for a CPU (tasks asleep in the kernel raise the load
and take no CPU: a student's waiting vforks excused their own timeout)."""

from __future__ import annotations

import os

import pytest

from grader.batch.runs import CPU_PRESSURE_BUSY, _cpu_pressure, _host_load

PSI = "some avg10={a10} avg60={a60} avg300=1.00 total=123\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=0\n"


def test_cpu_pressure_is_read_from_the_kernels_format(tmp_path):
    f = tmp_path / "cpu"
    f.write_text(PSI.format(a10=2.5, a60=61.25))
    assert _cpu_pressure(str(f)) == 61.25
    assert _cpu_pressure(str(tmp_path / "absent")) is None
    f.write_text("garbage\n")
    assert _cpu_pressure(str(f)) is None


@pytest.mark.skipif(not hasattr(os, "getloadavg"), reason="no load average here")
def test_a_load_without_cpu_pressure_is_no_overload(tmp_path):
    f = tmp_path / "cpu"
    f.write_text(PSI.format(a10=90.0, a60=CPU_PRESSURE_BUSY / 2))
    assert _host_load(str(f)) == 0.0
    f.write_text(PSI.format(a10=0.0, a60=CPU_PRESSURE_BUSY + 40))
    assert _host_load(str(f)) == pytest.approx(os.getloadavg()[0], abs=1.0)
    # no PSI in this kernel: the load average decides
    assert _host_load(str(tmp_path / "absent")) == pytest.approx(os.getloadavg()[0], abs=1.0)
