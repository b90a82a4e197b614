"""``grader sandbox check`` (which backends work, why not, which GPUs) and ``grader sandbox build``."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from grader.errors import SandboxUnavailable

COURSE_IMAGE = "gradebox/course:1"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    check = sub.add_parser("check", help="report which sandbox backends work on this machine")
    check.add_argument("--json", action="store_true", help="print the report as JSON")
    build = sub.add_parser("build", help="build a course's environment (COURSE), or the course "
                                         "image from sandbox/images/Dockerfile")
    build.add_argument("course", nargs="?", type=Path, default=None,
                       help="course folder: build its environment/requirements.txt (or the "
                            "default ML set) for both backends, once per lock")
    build.add_argument("--tag", default=COURSE_IMAGE, help=f"image tag [{COURSE_IMAGE}]")
    build.add_argument("--base", default=None, help="override the CUDA PyTorch base image; with "
                       "COURSE: also build the environment's Docker image from it")
    build.add_argument("--upgrade", action="store_true",
                       help="with COURSE: resolve the requirements again (newer versions)")
    build.add_argument("--cache-dir", type=Path, default=None,
                       help="with COURSE: where environments live [~/.cache/gradebox/"
                            "environments, or $GRADEBOX_ENV_CACHE]")


def run(args: argparse.Namespace) -> int:
    return _check(args) if args.action == "check" else _build(args)


def _check(args: argparse.Namespace) -> int:
    from sandbox import available_backends
    from sandbox._run import AUTO_ORDER

    report = available_backends()
    auto = next((n for n in AUTO_ORDER if report[n]["works"]), None)
    host = _host_report()
    if args.json:
        print(json.dumps({"backends": report, "auto": auto, **host}, indent=2))
        return 0 if auto else 3
    print(f"cgroup: {host['cgroup']['version']} — {host['cgroup']['limits']}")
    for g in host["gpus"]:
        print(f"gpu {g['index']}: {g['uuid']} bus {g['pci_bus_id']} node {g['node']}"
              + (f" MIG {', '.join(g['mig'])}" if g["mig"] else ""))
    if host["gpu_problems"]:
        print("gpu nodes: NOT usable by bubblewrap: " + "; ".join(host["gpu_problems"]))
    for name, info in report.items():
        mark = "ok  " if info["works"] else "NO  "
        gpus = ",".join(map(str, info["gpus"])) or "none"
        print(f"{mark}{name:<7} gpus: {gpus:<8} {info['reason']}")
        for k, v in info["details"].items():
            print(f"        {k}: {v}")
    print(f"auto -> {auto or 'nothing works (install docker.io or bubblewrap)'}")
    return 0 if auto else 3


def _host_report() -> dict:
    """The cgroup version and each GPU's UUID and device node (index != minor)."""
    from sandbox import _cgroup, gpus

    found = gpus.inventory()
    rows = [{"index": d.index, "uuid": d.uuid, "pci_bus_id": d.pci_bus_id, "mig": list(d.mig_uuids),
             "node": f"/dev/nvidia{d.minor}" if d.minor is not None else "unknown"}
            for d in found]
    problems: list[str] = []
    if found:
        try:
            gpus.device_nodes([d.index for d in found])
        except gpus.GpuUnavailable as exc:
            problems = exc.problems or [exc.message]
    return {"cgroup": _cgroup.describe(), "gpus": rows, "gpu_problems": problems}


def _build(args: argparse.Namespace) -> int:
    if args.course is not None:
        from grader.cli.commands._sandbox_env import build_course_environment

        return build_course_environment(args)
    from sandbox.backends import docker as dk

    info = dk.check()
    if not info.works and "engine" not in info.details:
        raise SandboxUnavailable(f"cannot build {args.tag}: {info.reason}",
                                 hint="start the engine: sandbox/start_dockerd.sh")
    import docker.errors

    folder = Path(dk.__file__).resolve().parent.parent / "images"
    buildargs = {"BASE": args.base} if args.base else {}
    print(f"building {args.tag} from {folder / 'Dockerfile'} (pulls the base image once)")
    try:
        for chunk in dk.client().api.build(path=str(folder), tag=args.tag, buildargs=buildargs,
                                           decode=True, rm=True, forcerm=True):
            if "stream" in chunk:
                print(chunk["stream"], end="")
            if "error" in chunk:
                raise docker.errors.BuildError(chunk["error"], [])
    except (docker.errors.BuildError, docker.errors.APIError) as exc:
        raise SandboxUnavailable(
            f"building {args.tag} failed: {str(exc).strip()[:400]}",
            hint="the base image and wheels need network access once; on an offline machine "
                 "`docker load` a saved course image, or use the host-runtime image (default)",
        ) from exc
    print(f"built {args.tag}; set [sandbox] image = \"{args.tag}\" in course.toml")
    return 0
