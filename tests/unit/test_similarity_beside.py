"""``similarity.beside``: half a job in a forked worker, half here; None (nothing forked)
while another thread runs."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_beside_forks_only_a_single_threaded_process():
    script = (
        "import json, os, threading\n"
        "from similarity.beside import beside, can_fork\n"
        "big = list(range(100_000))  # inherited, never sent\n"
        "got = beside(lambda: (os.getpid(), sum(big)), lambda: os.getpid())\n"
        "stop = threading.Event(); t = threading.Thread(target=stop.wait); t.start()\n"
        "busy = [can_fork(), beside(lambda: 1, lambda: 2)]\n"
        "stop.set(); t.join()\n"
        "print(json.dumps([got, os.getpid(), busy]))\n")
    res = subprocess.run([sys.executable, "-c", script], check=True, cwd=ROOT,
                         capture_output=True, text=True)
    (theirs, mine), me, busy = json.loads(res.stdout.strip().splitlines()[-1])
    assert mine == me and theirs[0] != me  # the other half ran in another process
    assert theirs[1] == sum(range(100_000))
    assert busy == [False, None]
