"""What to run: the submission, the data, the output folder and the limits."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path

from sandbox.limits import Limits


@dataclass(frozen=True)
class RunSpec:
    """One sandboxed run of a student's program under the run contract.

    The program runs as ``python <entry>`` with the working directory set to a writable
    *copy* of ``code_dir``; ``GRADER_DATA`` points at ``data_dir`` (read-only) and
    ``GRADER_OUTPUT`` at ``output_dir`` (the only writable folder that outlives the run).

    Attributes
    ----------
    code_dir : Path
        The submission's folder on the host (never modified).
    entry : str
        The entry point, relative to ``code_dir`` (e.g. ``"main.py"``).
    data_dir : Path
        The course's public data folder.
    output_dir : Path
        An existing, empty host folder that receives the run's outputs.
    limits : Limits
    gpu_devices : tuple of int
        Host GPU indices this run may use (from ``sandbox.gpus``); empty for none.
    env : dict
        Extra environment variables for the program (nothing of the grader's leaks).
    python : str
        The interpreter on the host whose environment the program runs in.
    name : str
        A label for logs and container names (the student's name).
    image : str
        Docker only: the image to run in; ``""`` is the host-runtime image (the host's
        Python bind-mounted read-only), otherwise the image's own ``python3`` is used.
    """

    code_dir: Path
    entry: str
    data_dir: Path
    output_dir: Path
    limits: Limits = field(default_factory=Limits)
    gpu_devices: tuple[int, ...] = ()
    env: dict[str, str] = field(default_factory=dict)
    python: str = sys.executable
    name: str = "run"
    image: str = ""

    def argv(self, python: str) -> list[str]:
        """The program's command line: ``python -- <entry>``.

        ``--`` ends the interpreter's options, so an entry named like one (``--help.py``,
        ``-c.py``) is run as the file it is instead of being read as an option; the
        program still sees ``sys.argv[0] == entry``.
        """
        return [python, "--", self.entry]
