"""A course environment as a Docker image, tagged by the lock's hash (GPU servers).

The image starts from a CUDA-capable base (the course image's by default) and installs the
lock's pins with the local version labels dropped (``torch==2.13.0+cpu`` becomes
``torch==2.13.0``, so the GPU build is installed). Machines without a registry skip the image:
Docker then runs the host-runtime image with the environment's folder bound in read-only.
"""

from __future__ import annotations

import io
import re
import tarfile

from sandbox._requirements import lock_pins

#: the course image's base (sandbox/images/Dockerfile)
DEFAULT_BASE = "pytorch/pytorch:2.5.1-cuda12.4-cudnn9-runtime"

DOCKERFILE = """\
# A gradebox course environment, built by `grader sandbox build COURSE --base IMAGE`.
FROM {base}
ENV PIP_NO_CACHE_DIR=1 PYTHONDONTWRITEBYTECODE=1 MPLBACKEND=Agg
COPY requirements.lock /opt/gradebox-env/requirements.lock
RUN python3 -m pip install --no-deps -r /opt/gradebox-env/requirements.lock
RUN mkdir -p /grader/code /grader/data /grader/output && chmod 0755 /grader
LABEL gradebox.environment="{key}"
WORKDIR /grader/code
USER 65534:65534
CMD ["python3", "--version"]
"""


def image_lock(lock_text: str) -> str:
    """The lock's pins without local version labels (``+cpu``): the image's own builds."""
    return "".join(f"{name}=={re.sub(r'[+].*$', '', version)}\n"
                   for name, version in lock_pins(lock_text))


def build_context(lock_text: str, key: str, base: str = DEFAULT_BASE) -> bytes:
    """The build context (a tar holding the Dockerfile and the image's lock)."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for name, text in (("Dockerfile", DOCKERFILE.format(base=base, key=key)),
                           ("requirements.lock", image_lock(lock_text))):
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size, info.mode = len(data), 0o644
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def build_image(client, lock_text: str, tag: str, *, base: str = DEFAULT_BASE,
                log=print) -> str:
    """Build (or find) the image ``tag`` of this lock; returns the tag.

    Raises
    ------
    docker.errors.BuildError, docker.errors.APIError
        From the engine (the caller turns them into a message with what to do).
    """
    import docker.errors

    try:
        client.images.get(tag)
        return tag  # the same lock: nothing to do
    except docker.errors.ImageNotFound:
        pass
    ctx = build_context(lock_text, tag.rpartition(":")[2], base)
    for chunk in client.api.build(fileobj=io.BytesIO(ctx), custom_context=True, tag=tag,
                                  decode=True, rm=True, forcerm=True):
        if "stream" in chunk:
            log(chunk["stream"].rstrip())
        if "error" in chunk:
            raise docker.errors.BuildError(chunk["error"], [])
    return tag
