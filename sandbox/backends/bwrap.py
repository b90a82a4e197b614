"""The bubblewrap backend: namespaces, a minimal read-only filesystem, cgroups, rlimits.

As root, bwrap sets the sandbox up and ``setpriv`` then becomes uid 65534 with no
capabilities and ``no_new_privs`` before the interpreter starts; without root, bwrap runs
in a user namespace. The run sees only: ``/usr`` (and the ``/lib*``, ``/bin`` links), a few
files of ``/etc``, the Python prefixes, the data (read-only), its code copy and output
folder, a private sized ``/tmp`` and ``/dev/shm``, its own ``/proc`` and a minimal ``/dev``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time

from sandbox import _active, _cgroup, _keyring, _workspace, seccomp
from sandbox._backend import BackendInfo
from sandbox._housekeeping import sweep_once
from sandbox._process import run_process
from sandbox._runtime import (
    CODE_DIR,
    DATA_DIR,
    OUTPUT_DIR,
    PythonRuntime,
    python_runtime,
    sandbox_env,
)
from sandbox._workspace import CPU_ONLINE, Workspace
from sandbox.environment import masked_paths, provided_modules
from sandbox.errors import SandboxBroken
from sandbox.gpus import bwrap_device_flags, cuda_env, detect_gpus
from sandbox.spec import RunSpec
from sandbox.verdict import Verdict, classify

NAME = "bwrap"
# fonts: matplotlib's savefig goes through fontconfig, which prints an error without it
_ETC_FROM_HOST = ("ld.so.cache", "ld.so.conf", "ld.so.conf.d", "localtime", "alternatives",
                  "nsswitch.conf", "fonts")
_ETC_SYNTHETIC = ("passwd", "group", "hostname", "hosts")
_TOP_LEVEL = ("bin", "sbin", "lib", "lib32", "lib64", "libx32")


def _ancestors(path: str) -> list[str]:
    """``--dir`` flags (mode 0755) for each parent of ``path``: bwrap makes them 0700."""
    parts = path.strip("/").split("/")[:-1]
    flags: list[str] = []
    for i in range(1, len(parts) + 1):
        flags += ["--perms", "0755", "--dir", "/" + "/".join(parts[:i])]
    return flags


def bwrap_flags(spec: RunSpec, ws: Workspace, runtime: PythonRuntime, *,
                as_root: bool) -> list[str]:
    """Every bwrap option of a run, from ``spec.limits`` and the workspace (one screen)."""
    tmp = str(spec.limits.tmp_mb * 1024 * 1024)
    f = ["--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts",
         "--unshare-cgroup-try", "--die-with-parent", "--new-session", "--clearenv",
         "--hostname", "sandbox"]
    if not as_root:
        f += ["--unshare-user", "--cap-drop", "ALL"]
    f += ["--ro-bind", "/usr", "/usr"]
    for top in _TOP_LEVEL:
        p = "/" + top
        if os.path.islink(p):
            f += ["--symlink", os.readlink(p), p]
        elif os.path.isdir(p):
            f += ["--ro-bind", p, p]
    f += ["--perms", "0755", "--dir", "/etc"]
    for name in _ETC_FROM_HOST:
        f += ["--ro-bind-try", f"/etc/{name}", f"/etc/{name}"]
    for name in _ETC_SYNTHETIC:
        f += ["--ro-bind", str(ws.etc / name), f"/etc/{name}"]
    f += ["--proc", "/proc", "--dev", "/dev",
          "--perms", "1777", "--size", tmp, "--tmpfs", "/tmp",
          "--perms", "1777", "--size", tmp, "--tmpfs", "/dev/shm"]
    # the run's CPUs, not the host's, for os.cpu_count() (no other /sys is visible)
    f += _ancestors(CPU_ONLINE) + ["--ro-bind", str(ws.etc / "cpu_online"), CPU_ONLINE]
    # after the tmpfs mounts: a runtime installed under /tmp (a CI checkout) stays visible
    for prefix in runtime.prefixes:
        if prefix != "/usr" and not prefix.startswith("/usr/"):
            f += _ancestors(prefix) + ["--ro-bind", prefix, prefix]
    for hidden in masked_paths(runtime.executable):  # a course environment's base packages
        f += ["--perms", "0555", "--size", "4096", "--tmpfs", hidden]
    f += bwrap_device_flags(spec.gpu_devices)
    f += ["--perms", "0755", "--dir", "/grader",
          "--ro-bind", str(spec.data_dir.resolve()), DATA_DIR,
          "--bind", str(ws.code), CODE_DIR,
          "--bind", str(ws.out), OUTPUT_DIR,
          "--chdir", CODE_DIR]
    env = sandbox_env(spec, data=DATA_DIR, output=OUTPUT_DIR, bin_dir=runtime.bin_dir,
                      gpu_env=cuda_env(spec.gpu_devices))  # CUDA numbers from 0
    for k, v in env.items():
        f += ["--setenv", k, v]
    return f


def command(spec: RunSpec, ws: Workspace, runtime: PythonRuntime, *,
            seccomp_fd: int) -> list[str]:
    """The full ``[keyring step] bwrap ... --seccomp FD -- [setpriv ...] python entry`` line.

    ``seccomp_fd`` holds ``sandbox.seccomp``'s filter (inherited by bwrap, which installs it
    just before ``setpriv``); the keyring step gives the run a new, empty session keyring.
    """
    as_root = os.geteuid() == 0
    drop = []
    if as_root:
        # become the unprivileged user with no capabilities that could be regained
        drop = ["setpriv", f"--reuid={ws.uid}", f"--regid={ws.uid}", "--clear-groups",
                "--bounding-set=-all", "--inh-caps=-all", "--no-new-privs", "--"]
    return [*_keyring.fresh_session_prefix(), "bwrap",
            *bwrap_flags(spec, ws, runtime, as_root=as_root), "--seccomp", str(seccomp_fd),
            "--", *drop, *spec.argv(runtime.executable)]


def _check_gpu_limits(spec: RunSpec, cgroup) -> None:
    """GPU runs need a memory cgroup: the RLIMIT_AS fallback breaks CUDA's start-up, whose
    virtual reservations are far larger than any memory limit."""
    if spec.gpu_devices and "memory" not in (cgroup.controls if cgroup else set()):
        raise SandboxBroken(
            f"cannot run {spec.name} on a GPU under bubblewrap: no memory cgroup here "
            f"(cgroup {_cgroup.detect().version}), and an address-space limit breaks CUDA",
            hint="run the grader as root on a host with the memory controller (cgroup v2 "
                 "delegated, or v1), or use the Docker backend; 'grader sandbox check' says which")


def run(spec: RunSpec) -> Verdict:
    """Run ``spec`` under bubblewrap and return its verdict (the workspace is always removed)."""
    sweep_once()
    runtime = python_runtime(spec.python)
    ws = _workspace.prepare(spec)
    cgroup = _cgroup.create(spec.limits) if os.geteuid() == 0 else None
    try:
        _check_gpu_limits(spec, cgroup)
        with _active.track() as handle, seccomp.filter_pipe() as seccomp_fd:
            res = run_process(command(spec, ws, runtime, seccomp_fd=seccomp_fd),
                              env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin"}, cwd=None,
                              limits=spec.limits, cgroup=cgroup, name=spec.name, handle=handle,
                              pass_fds=(seccomp_fd,), sized_workspace=ws.mounted)
        peak = cgroup.peak_memory_bytes() if cgroup else None
        cpu = cgroup.cpu_seconds() if cgroup else None
        oom = bool(cgroup and cgroup.oom_kills())
        notes = _workspace.harvest(ws, spec.output_dir, spec.limits.output_bytes)
    finally:
        if cgroup is not None:
            cgroup.destroy()
        _workspace.cleanup(ws)
    stderr = res.stderr.text()
    status, message, tail = classify(exit_code=res.exit_code, timed_out=res.timed_out,
                                     oom_killed=oom, stderr=stderr, time_s=spec.limits.time_s,
                                     memory_mb=spec.limits.memory_mb,
                                     cancelled=handle.cancelled,
                                     space=(spec.limits.output_mb, spec.limits.tmp_mb),
                                     provided=provided_modules(runtime.executable, spec.code_dir),
                                     hide=runtime.host_names())
    return Verdict(status=status, exit_code=res.exit_code, wall_s=round(res.wall_s, 3),
                   backend=NAME, message=message, error_tail=tail, stdout=res.stdout.text(),
                   stderr=stderr, stdout_truncated=res.stdout.truncated,
                   stderr_truncated=res.stderr.truncated,
                   peak_memory_mb=None if peak is None else round(peak / 2**20, 1),
                   cpu_s=None if cpu is None else round(cpu, 3),
                   gpu_devices=tuple(spec.gpu_devices), output_notes=notes)


def check() -> BackendInfo:
    """Does bubblewrap work here? Runs ``/bin/true`` in a minimal sandbox."""
    exe = shutil.which("bwrap")
    if not exe:
        return BackendInfo(NAME, False, "bubblewrap is not installed "
                           "(Debian/Ubuntu: apt-get install bubblewrap)")
    if not shutil.which("prlimit") or (os.geteuid() == 0 and not shutil.which("setpriv")):
        return BackendInfo(NAME, False, "prlimit/setpriv missing (apt-get install util-linux)")
    argv = [exe, "--unshare-pid", "--unshare-net", "--die-with-parent", "--ro-bind", "/usr", "/usr",
            "--symlink", "usr/bin", "/bin", "--symlink", "usr/lib", "/lib",
            "--symlink", "usr/lib64", "/lib64", "--proc", "/proc", "--dev", "/dev"]
    if os.geteuid() != 0:
        argv += ["--unshare-user"]
    t = time.monotonic()
    try:
        with seccomp.filter_pipe() as fd:  # the run's filter too: the kernel must accept it
            p = subprocess.run(argv + ["--seccomp", str(fd), "--", "/usr/bin/true"],
                               capture_output=True, text=True, timeout=20, pass_fds=(fd,))
    except ValueError as exc:
        return BackendInfo(NAME, False, f"{exc}: add its system call table to sandbox/seccomp.py")
    except (OSError, subprocess.SubprocessError) as exc:
        return BackendInfo(NAME, False, f"bwrap failed to start: {exc}")
    if p.returncode != 0 and "seccomp" in p.stderr.lower():
        return BackendInfo(NAME, False, f"the kernel refused the seccomp filter: "
                           f"{p.stderr.strip()} (a kernel with CONFIG_SECCOMP_FILTER is needed)")
    if p.returncode != 0:
        return BackendInfo(NAME, False, f"bwrap cannot create namespaces: {p.stderr.strip()} "
                           "(enable unprivileged user namespaces or run as root)")
    details = {"version": subprocess.run([exe, "--version"], capture_output=True,
                                         text=True).stdout.strip(),
               "startup_s": f"{time.monotonic() - t:.3f}",
               "cgroups": _cgroup.describe()["limits"] if os.geteuid() == 0
               else "none without root: rlimit fallback, no GPU runs"}
    return BackendInfo(NAME, True, "", detect_gpus(), details)
