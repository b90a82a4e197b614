"""The Docker backend: one labelled, locked-down container per run, always removed.

Offline machines use the *host-runtime* image: an empty image (``docker import`` of an
empty tar) into which the host's ``/usr``, ``/lib*`` and Python prefixes are bind-mounted
read-only. Real deployments use the course image from ``sandbox/images/Dockerfile``.
"""

from __future__ import annotations

import io
import os
import socket
import tarfile
import threading
import time

from sandbox import _active, _cgroup, _workspace
from sandbox._backend import BackendInfo
from sandbox._housekeeping import sweep_once
from sandbox._logs import BoundedLog, drain_pairs, start_drain
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
from sandbox.gpus import detect_gpus, docker_device_requests, docker_gpu_env
from sandbox.spec import RunSpec
from sandbox.verdict import Verdict, classify

NAME = "docker"
HOST_IMAGE = "gradebox/host-runtime:2"
LABEL = "gradebox.run"
OWNER_LABEL = "gradebox.owner"  # "<hostname>:<grader pid>", for sweeping after a crash
_TOP_LEVEL = ("bin", "sbin", "lib", "lib32", "lib64", "libx32")
# fonts: matplotlib's savefig goes through fontconfig, which prints an error without it
_ETC_FROM_HOST = ("ld.so.cache", "ld.so.conf", "ld.so.conf.d", "localtime", "alternatives", "fonts")
_local = threading.local()
_swept = threading.Event()


def client():
    """A Docker client per thread (the SDK's HTTP session is not shared between threads)."""
    c = getattr(_local, "client", None)
    if c is None:
        import docker

        c = docker.from_env(timeout=60)
        _local.client = c
    return c


def _owner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _host_runtime_volumes(runtime: PythonRuntime, ws: Workspace) -> dict[str, dict]:
    vols: dict[str, dict] = {"/usr": {"bind": "/usr", "mode": "ro"}}
    for top in _TOP_LEVEL:
        # merged-/usr hosts: the image already has /lib -> usr/lib links (see ensure_host_image)
        if os.path.isdir("/" + top) and not os.path.islink("/" + top):
            vols["/" + top] = {"bind": "/" + top, "mode": "ro"}
    for name in _ETC_FROM_HOST:
        if os.path.exists(f"/etc/{name}"):
            vols[f"/etc/{name}"] = {"bind": f"/etc/{name}", "mode": "ro"}
    for prefix in runtime.prefixes:
        if prefix != "/usr" and not prefix.startswith("/usr/"):
            vols[prefix] = {"bind": prefix, "mode": "ro"}
    for name in ("passwd", "group"):
        vols[str(ws.etc / name)] = {"bind": f"/etc/{name}", "mode": "ro"}
    return vols


def container_kwargs(spec: RunSpec, ws: Workspace, *, image: str, runtime: PythonRuntime | None,
                     cgroup_parent: str | None) -> dict:
    """Every ``containers.create`` argument of a run, from ``spec.limits`` (one screen)."""
    from docker.types import LogConfig, Ulimit

    lim = spec.limits
    vols = _host_runtime_volumes(runtime, ws) if runtime else {}
    vols[str(spec.data_dir.resolve())] = {"bind": DATA_DIR, "mode": "ro"}
    vols[str(ws.code)] = {"bind": CODE_DIR, "mode": "rw"}
    vols[str(ws.out)] = {"bind": OUTPUT_DIR, "mode": "rw"}
    # the run's CPUs, not the host's, for os.cpu_count()
    vols[str(ws.etc / "cpu_online")] = {"bind": CPU_ONLINE, "mode": "ro"}
    python = runtime.executable if runtime else "python3"
    bin_dir = runtime.bin_dir if runtime else "/opt/conda/bin"
    env = sandbox_env(spec, data=DATA_DIR, output=OUTPUT_DIR, bin_dir=bin_dir,
                      gpu_env=docker_gpu_env(spec.gpu_devices))
    # a watchdog as PID 1: if the grader dies, the container still stops at the outer clock
    watchdog = ["timeout", "-s", "KILL", f"{int(lim.outer_time_s)}s"]
    kw = dict(
        image=image, command=[*watchdog, *spec.argv(python)], working_dir=CODE_DIR, environment=env,
        user=f"{ws.uid}:{ws.uid}", hostname="sandbox",
        network_mode="none", ipc_mode="private", read_only=True, privileged=False,
        cap_drop=["ALL"], security_opt=["no-new-privileges"],
        mem_limit=lim.memory_bytes, memswap_limit=lim.memory_bytes, mem_swappiness=0,
        # at most this machine's cores: a course written for a bigger server failed every
        # Docker run as broken
        nano_cpus=int(lim.host_cpus * 1e9), pids_limit=lim.processes,
        # RLIMIT_NPROC counts every process of uid 65534 on the host: pids_limit is the real
        # per-run bound, this one only stops a runaway user
        ulimits=[Ulimit(name="fsize", soft=lim.file_bytes(ws.mounted),
                        hard=lim.file_bytes(ws.mounted)),
                 Ulimit(name="nproc", soft=lim.processes * 8, hard=lim.processes * 8),
                 Ulimit(name="core", soft=0, hard=0),
                 Ulimit(name="nofile", soft=4096, hard=4096)],
        tmpfs={"/tmp": f"size={lim.tmp_mb}m,mode=1777,nosuid,nodev",
               # a course environment's base interpreter packages: not the course's
               **{p: "size=4k,mode=0555,ro" for p in masked_paths(python) if runtime}},
        shm_size=lim.tmp_mb * 1024 * 1024, volumes=vols,
        device_requests=docker_device_requests(spec.gpu_devices),
        labels={LABEL: "1", OWNER_LABEL: _owner(), "gradebox.name": spec.name[:60]},
        log_config=LogConfig(type="none"),  # logs are streamed through attach, never to disk
        detach=True, stdin_open=False, tty=False,
    )
    if cgroup_parent:
        kw["cgroup_parent"] = cgroup_parent
    return kw


def sweep_stale() -> int:
    """Remove gradebox containers left by graders that died; returns how many.

    A container of this host is stale when its grader process is gone. A running container
    of another host (a grader in another container sharing this engine) is left alone;
    stopped ones are removed.
    """
    removed = 0
    host = socket.gethostname()
    for c in client().containers.list(all=True, filters={"label": LABEL}):
        h, _, pid = c.labels.get(OWNER_LABEL, "").rpartition(":")
        if h == host and pid.isdigit():
            try:
                os.kill(int(pid), 0)
                continue  # a grader beside us is still using it
            except ProcessLookupError:
                pass
            except PermissionError:
                continue
        elif c.status == "running":
            continue
        try:
            c.remove(force=True)
            removed += 1
        except Exception:  # noqa: BLE001 - already gone
            pass
    return removed


def ensure_host_image() -> str:
    """Create the host-runtime image if it is missing (works offline); returns its tag.

    The image holds no files, only the host's top-level links (``/lib -> usr/lib`` on
    merged-/usr systems), so the bind-mounted ``/usr`` is seen exactly as on the host.
    """
    import docker.errors

    c = client()
    try:
        c.images.get(HOST_IMAGE)
    except docker.errors.ImageNotFound:
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w") as tar:
            for top in _TOP_LEVEL:
                if os.path.islink("/" + top):
                    info = tarfile.TarInfo(top)
                    info.type, info.linkname = tarfile.SYMTYPE, os.readlink("/" + top)
                    tar.addfile(info)
        repo, tag = HOST_IMAGE.split(":")
        c.api.import_image_from_data(buf.getvalue(), repository=repo, tag=tag)
    return HOST_IMAGE


def run(spec: RunSpec) -> Verdict:
    """Run ``spec`` in a fresh container; the container and workspace are always removed."""
    c = client()
    if not _swept.is_set():
        _swept.set()
        sweep_stale()
    sweep_once()
    image = spec.image or HOST_IMAGE
    runtime = python_runtime(spec.python) if image == HOST_IMAGE else None
    ws = _workspace.prepare(spec)
    # the parent cgroup gives peak memory and OOM counts after the container is gone
    cgroup = _cgroup.RunCgroup.create(spec.limits)
    out, err = BoundedLog(spec.limits.log_bytes), BoundedLog(spec.limits.log_bytes)
    try:
        kw = container_kwargs(spec, ws, image=image, runtime=runtime,
                              cgroup_parent=cgroup.docker_parent if cgroup.paths else None)
        with _active.track() as handle:
            exit_code, timed_out, wall, oom = _run_container(c, kw, spec, handle, out, err)
        oom = oom or cgroup.oom_kills() > 0
        peak = cgroup.peak_memory_bytes()
        cpu = cgroup.cpu_seconds()
        notes = _workspace.harvest(ws, spec.output_dir, spec.limits.output_bytes)
    finally:
        cgroup.destroy()
        _workspace.cleanup(ws)
    stderr = err.text()
    status, message, tail = classify(exit_code=exit_code, timed_out=timed_out, oom_killed=oom,
                                     stderr=stderr, time_s=spec.limits.time_s,
                                     memory_mb=spec.limits.memory_mb,
                                     cancelled=handle.cancelled,
                                     space=(spec.limits.output_mb, spec.limits.tmp_mb),
                                     provided=provided_modules(runtime.executable, spec.code_dir)
                                     if runtime else None,
                                     hide=runtime.host_names() if runtime else None)
    return Verdict(status=status, exit_code=exit_code, wall_s=round(wall, 3), backend=NAME,
                   message=message, error_tail=tail, stdout=out.text(), stderr=stderr,
                   stdout_truncated=out.truncated, stderr_truncated=err.truncated,
                   peak_memory_mb=None if peak is None else round(peak / 2**20, 1),
                   cpu_s=None if cpu is None else round(cpu, 3),
                   gpu_devices=tuple(spec.gpu_devices), output_notes=notes)


def _run_container(c, kw: dict, spec: RunSpec, handle, out: BoundedLog,
                   err: BoundedLog) -> tuple[int | None, bool, float, bool]:
    """Create, attach, start and wait for one container; always remove it.

    Returns ``(exit_code, timed_out, wall_s, oom_killed)``.
    """
    import docker.errors
    import requests.exceptions

    engine_errors = (docker.errors.DockerException, requests.exceptions.RequestException)
    container = None
    try:
        try:
            container = c.containers.create(**kw)
            # attached before start: no output is lost, and nothing goes to a log file
            stream = c.api.attach(container.id, stdout=True, stderr=True, stream=True,
                                  demux=True)
            reader = start_drain(drain_pairs, stream, out, err)
            start = time.monotonic()
            handle.kill = container.kill
            container.start()
            if handle.cancelled:  # cancel_all() came while the container was starting
                container.kill()
        except engine_errors as exc:
            raise SandboxBroken(f"Docker could not start the container of {spec.name}: {exc}",
                                hint="run 'grader sandbox check'") from exc
        timed_out = False
        try:
            exit_code = c.api.wait(container.id, timeout=spec.limits.time_s)["StatusCode"]
        except (requests.exceptions.ReadTimeout, requests.exceptions.ConnectionError):
            timed_out, exit_code = True, None
        wall = time.monotonic() - start
        if timed_out:
            try:
                container.kill()
                outer = max(5.0, spec.limits.outer_time_s - spec.limits.time_s)
                exit_code = c.api.wait(container.id, timeout=outer)["StatusCode"]
            except engine_errors as exc:
                raise SandboxBroken(f"the container of {spec.name} did not stop: {exc}",
                                    hint="check 'docker ps' and the engine's log") from exc
        reader.join(timeout=10)
        try:
            oom = bool(c.api.inspect_container(container.id)["State"].get("OOMKilled"))
        except engine_errors:
            oom = False
        return exit_code, timed_out, wall, oom
    finally:
        handle.kill = None
        if container is not None:
            try:
                container.remove(force=True)
            except engine_errors:
                pass  # swept by the next grader (labelled with our pid)


def check(image: str | None = None) -> BackendInfo:
    """Does the engine answer, and is the image there (the host-runtime one is created)?"""
    try:
        import docker
    except ImportError:
        return BackendInfo(NAME, False, "the 'docker' Python package is missing (pip install docker)")
    try:
        c = client()
        c.ping()
        ver = c.version().get("Version", "?")
    except Exception as exc:  # noqa: BLE001 - any failure means "not usable"
        return BackendInfo(NAME, False, f"the Docker engine does not answer ({type(exc).__name__}); "
                           "start it with sandbox/start_dockerd.sh or 'systemctl start docker'")
    image = image or HOST_IMAGE
    try:
        if image == HOST_IMAGE:
            ensure_host_image()
        else:
            c.images.get(image)
    except docker.errors.ImageNotFound:
        return BackendInfo(NAME, False, f"image {image} is missing: run 'grader sandbox build'",
                           details={"engine": ver})
    except docker.errors.DockerException as exc:
        return BackendInfo(NAME, False, f"cannot create image {image}: {exc}",
                           details={"engine": ver})
    runtimes = c.info().get("Runtimes", {})
    gpus = detect_gpus() if "nvidia" in runtimes or os.path.exists("/usr/bin/nvidia-container-runtime") else []
    return BackendInfo(NAME, True, "", gpus, {"engine": ver, "image": image})
