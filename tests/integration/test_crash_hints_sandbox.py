"""Crashes real training programs hit, told with their fix on the student's page: a
checkpoint saved into the read-only data folder (the page said only "run it locally"),
``from .model import Net`` in the program that is run, text decoded as ASCII, a model
moved to a GPU the run does not have, and NaN features made by the student's own division. The real bubblewrap sandbox, batch and pages."""

from __future__ import annotations

import pytest

from grader.batch import BatchOptions, run_batch
from grader.course import load_course
from tests.integration.batch_helpers import make_course

pytestmark = [pytest.mark.bwrap, pytest.mark.slow]


def test_read_only_data_and_relative_imports_are_told_their_fix(tmp_path, bwrap_sandbox):
    course = load_course(make_course(tmp_path / "course"))
    subs = tmp_path / "subs"
    subs.mkdir()
    (subs / "ckpt.py").write_text(
        "import os\nwith open(os.path.join(os.environ['GRADER_DATA'], 'model.pt'), 'wb') as f:"
        "\n    f.write(b'weights')\n")
    (subs / "pkg").mkdir()
    (subs / "pkg" / "main.py").write_text("from .model import Net\n")
    (subs / "pkg" / "model.py").write_text("Net = object\n")
    (subs / "ascii.py").write_text("'ștefan'.encode('utf-8').decode('ascii')\n")
    (subs / "gpu.py").write_text("import torch\nnet = torch.nn.Linear(2, 2).cuda()\n")
    (subs / "nan.py").write_text(  # a constant column standardised: 0 / 0
        "import numpy as np\nfrom sklearn.linear_model import LogisticRegression\n"
        "X = np.array([[1.0, 5.0], [2.0, 5.0], [3.0, 5.0], [4.0, 5.0]])\n"
        "Xs = (X - X.mean(0)) / X.std(0)\n"
        "LogisticRegression().fit(Xs, [0, 1, 0, 1])\n")
    run_batch(course, subs, tmp_path / "out", BatchOptions(similarity=False, quiet=True))
    pages = {s: " ".join((tmp_path / "out" / "reports" / "students" / f"{s}.txt")
                         .read_text().split()) for s in ("ckpt", "pkg", "ascii", "gpu", "nan")}
    assert "Read-only file system" in pages["ckpt"]
    assert "in a read-only place: the course's data folder (GRADER_DATA)" in pages["ckpt"]
    assert "Save checkpoints and other files in the working folder" in pages["ckpt"]
    assert "from model import Net instead of from .model import Net" in pages["pkg"]
    assert "the course's files are UTF-8 (accents, emoji): open them with " \
           "encoding=\"utf-8\"" in pages["ascii"]
    assert "asked for a GPU (.cuda(), device=\"cuda\", or torch.load of a checkpoint saved " \
           "on a GPU) and this run has none" in pages["gpu"]
    assert "NaN or infinite values made by your own arithmetic: numpy warned at nan.py, line " \
           "4 (invalid value encountered in divide)" in pages["nan"]


def test_a_program_is_told_its_seed_and_time_limit(tmp_path, bwrap_sandbox):
    from tests.integration.batch_helpers import honest, read_grades

    course = load_course(make_course(tmp_path / "course", time_limit_s=20))
    subs = tmp_path / "subs"
    subs.mkdir()
    check = ("import os\nassert os.environ['GRADER_TIME_LIMIT_S'] == '20', os.environ\n"
             "assert os.environ['GRADER_SEED'] == '1'\n")
    (subs / "ana.py").write_text(check + honest(0.5))
    run_batch(course, subs, tmp_path / "out", BatchOptions(similarity=False, reports=False,
                                                           quiet=True))
    g = read_grades(tmp_path / "out")["ana"]
    assert g["status"] == "ok", g["message"]
