"""``similarity.beside.together``: two halves of a job, one forked, that meet midway through a
pipe; None (the caller does it all) when nothing can be forked or a half fails. And the
sketches it serves: half the class in a forked process gives the arrays one process gives."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _run(script: str) -> object:
    """The JSON on the last line a fresh (single-threaded) interpreter prints."""
    res = subprocess.run([sys.executable, "-c", script], check=True, cwd=ROOT,
                         capture_output=True, text=True, timeout=120)
    return json.loads(res.stdout.strip().splitlines()[-1])


def test_together_halves_exchange_midway_and_return_both_results():
    got = _run(
        "import json, os, threading\n"
        "from similarity.beside import together\n"
        "big = list(range(100_000))  # inherited, never sent\n"
        "def there(conn):\n"
        "    conn.send(os.getpid())\n"
        "    return conn.recv() + sum(big)\n"
        "def here(conn):\n"
        "    pid = conn.recv()\n"
        "    conn.send(21)\n"
        "    return pid\n"
        "ok = together(there, here)\n"
        "stop = threading.Event(); t = threading.Thread(target=stop.wait); t.start()\n"
        "busy = together(there, here)\n"
        "stop.set(); t.join()\n"
        "print(json.dumps([ok, os.getpid(), busy]))\n")
    (theirs, their_pid), me, busy = got
    assert their_pid != me  # the first half ran in another process...
    assert theirs == 21 + sum(range(100_000))  # ...with what this one sent it midway
    assert busy is None  # another thread runs: no fork


def test_together_gives_none_when_a_half_fails_and_leaves_no_process():
    got = _run(
        "import json, multiprocessing, os\n"
        "from similarity.beside import together\n"
        "def raises(conn):\n"
        "    raise ValueError('broken half')\n"
        "def dies(conn):\n"
        "    os._exit(3)  # gone before it sends what the other half waits for\n"
        "def waits(conn):\n"
        "    return conn.recv()\n"
        "out = [together(raises, lambda conn: 1), together(dies, waits)]\n"
        "out.append(len(multiprocessing.active_children()))\n"
        "print(json.dumps(out))\n")
    assert got == [None, None, 0]


def test_presence_sketches_in_two_processes_equal_one_process():
    got = _run(
        "import json\n"
        "import numpy as np\n"
        "from similarity.engine import _presence_together\n"
        "from similarity.sketch import (count_sketch, hashed_df, keep_rare, ngram_hash_sets,\n"
        "                               presence_sketches, set_rows)\n"
        "rng = np.random.default_rng(0)\n"
        "words = ['fit', 'predict', 'model', 'x_train', 'np.mean', 'for i in range']\n"
        "common = 'import numpy as np\\nX = load()\\n'\n"
        "texts = [common + ' '.join(rng.choice(words, 40)) for _ in range(23)]\n"
        "n_class, limit, dim = 20, 6.0, 64  # the last three documents are sources\n"
        "signals = {'text': (texts, (5, 6, 7), 2), 'tokens': (texts, (3, 4), 1)}\n"
        "got = _presence_together(signals, n_class, limit, dim)\n"
        "same = []\n"
        "for name, (docs, p, salt) in signals.items():\n"
        "    sets = ngram_hash_sets(docs, p)\n"
        "    rare = hashed_df(sets, np.arange(n_class)) <= limit\n"
        "    plain = count_sketch(set_rows(keep_rare(sets, rare)), dim, salt, mixed=True)\n"
        "    one = presence_sketches(docs, p, n_class, dim, salt, lambda df: df <= limit)\n"
        "    same.append([bool(np.array_equal(got[0][name], rare)),\n"
        "                 bool(np.array_equal(got[1][name], plain)),\n"
        "                 bool(np.array_equal(one[1], plain)), int((~rare).sum())])\n"
        "print(json.dumps(same))\n")
    for rare_same, two_same, one_same, common in got:
        assert rare_same and two_same and one_same
        assert common > 0  # the shared lines were common: the filter mattered


def test_sketched_class_pairs_equal_with_the_forked_and_the_one_process_set_up(tmp_path):
    from tests.unit.test_similarity_heldout import COPIES, HONEST

    folder = tmp_path / "s"
    folder.mkdir()
    for k, v in HONEST.items():
        (folder / f"{k}.py").write_text(v, encoding="utf-8")
    for k, (_, v) in COPIES.items():
        (folder / f"{k}.py").write_text(v, encoding="utf-8")
    got = _run(
        "import json, sys, threading\n"
        "from pathlib import Path\n"
        "import similarity.engine as engine\n"
        "from similarity import SimilarityOptions, compare\n"
        "forked = []\n"
        "plain = engine._presence_together\n"
        "def spy(*a, **k):\n"
        "    got = plain(*a, **k)\n"
        "    forked.append(got is not None)\n"
        "    return got\n"
        "engine._presence_together = spy\n"
        f"subs = {{p.stem: p for p in sorted(Path({str(folder)!r}).iterdir())}}\n"
        "o = SimilarityOptions(exact_pairs=0)  # sketch screening at any size\n"
        "def rows(r):\n"
        "    return [[p.a, p.b, p.score, p.flagged, p.estimated] for p in r.pairs]\n"
        "alone = rows(compare(subs, options=o))\n"
        "stop = threading.Event(); t = threading.Thread(target=stop.wait); t.start()\n"
        "beside_a_thread = rows(compare(subs, options=o))\n"
        "stop.set(); t.join()\n"
        "print(json.dumps([forked, alone == beside_a_thread, len(alone),\n"
        "                  sum(p[3] for p in alone)]))\n")
    forked, same, n_pairs, n_flagged = got
    assert forked == [True, False]  # single-threaded: forked; beside a thread: this process alone
    assert same and n_pairs > 50 and n_flagged >= 5
