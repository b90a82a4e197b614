"""``grader sandbox build COURSE``: the course environment for both backends.

The environment (a virtualenv keyed by the lock's hash) serves bubblewrap, and Docker through
the host-runtime image with the environment bound in. ``--base IMAGE`` also builds a Docker
image from the same lock (``gradebox/env:<hash>``, for GPU servers with a registry).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from grader.errors import SandboxUnavailable


def build_course_environment(args: argparse.Namespace) -> int:
    """Build (or find) the course's environment; print what was done and how long it took."""
    from sandbox.environment import build_environment

    course = Path(args.course)
    if not (course / "course.toml").is_file():
        raise SandboxUnavailable(f"{course} is not a course folder (no course.toml)",
                                 hint="pass the folder that holds course.toml")
    result = build_environment(course, cache_dir=args.cache_dir, upgrade=args.upgrade, log=print)
    env = result.environment
    what = ("built" if result.built
            else "lock resolved again; an environment for it was already built"
            if result.resolved else "already built (nothing to do)")
    print(f"course environment {what}: {len(env.packages)} packages from {env.source}, "
          f"{result.seconds:.1f} s")
    print(f"  lock:        {course.resolve() / 'environment' / 'requirements.lock'}")
    print(f"  environment: {env.path}")
    print("  bubblewrap and Docker (host-runtime image) run students' code on it")
    if args.base:
        tag = _build_image(env, args.base)
        print(f"  docker image: {tag}; set [sandbox] image = \"{tag}\" in course.toml to use it")
    return 0


def _build_image(env, base: str) -> str:
    from sandbox._envimage import build_image
    from sandbox.backends import docker as dk

    info = dk.check()
    if not info.works and "engine" not in info.details:
        raise SandboxUnavailable(f"cannot build the environment's image: {info.reason}",
                                 hint="start the engine (sandbox/start_dockerd.sh), or leave out "
                                      "--base: Docker then binds the environment in")
    import docker.errors

    try:
        return build_image(dk.client(), env.lock, env.image_tag, base=base, log=print)
    except (docker.errors.BuildError, docker.errors.APIError) as exc:
        raise SandboxUnavailable(
            f"building {env.image_tag} from {base} failed: {str(exc).strip()[:400]}",
            hint="the base image and wheels need network access once; without a registry "
                 "leave out --base (Docker binds the built environment in)") from exc
