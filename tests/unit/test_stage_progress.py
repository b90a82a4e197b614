"""Progress of the similarity engine's long stages (``diagnostics.progress.StageProgress``): quiet
for quick stages, a line per tenth in logs, a redrawn line on a terminal; and the engine
reports its reading and scoring stages to it."""

from __future__ import annotations

import io
from pathlib import Path

from diagnostics.progress import StageProgress
from similarity import compare
from tests.unit.test_batch_progress import _Clock as Clock
from tests.unit.test_batch_progress import _Terminal as Terminal


def _stage(progress: StageProgress, clock: Clock, stage: str, total: int, step_s: float):
    progress(stage, 0, total)
    for done in range(1, total + 1):
        clock.t += step_s
        progress(stage, done, total)


def test_a_quick_stage_prints_nothing():
    clock, out = Clock(), io.StringIO()
    p = StageProgress(stream=out, clock=clock)
    _stage(p, clock, "read submissions", 400, 0.002)  # 0.8 s in all
    p.close()
    assert out.getvalue() == ""


def test_a_slow_stage_in_a_log_prints_a_line_per_tenth_with_the_time_left():
    clock, out = Clock(), io.StringIO()
    p = StageProgress(stream=out, clock=clock)
    _stage(p, clock, "read submissions", 5000, 0.01)  # 50 s
    _stage(p, clock, "score pairs", 5000, 0.002)  # 10 s: a new stage starts its own tenths
    p.close()
    lines = out.getvalue().splitlines()
    read = [ln for ln in lines if "read submissions" in ln]
    score = [ln for ln in lines if "score pairs" in ln]
    # quiet for the first second, then where it stands, then at each tenth
    assert read[0].startswith("similarity: read submissions 10") and read[0].endswith("ETA 49 s")
    assert read[1] == "similarity: read submissions 500/5,000 · ETA 45 s"
    assert len(read) == 11 and 10 <= len(score) <= 11
    assert read[-1] == "similarity: read submissions 5,000/5,000"  # done: no ETA
    assert score[-1].endswith("5,000/5,000") and "\r" not in out.getvalue()


def test_a_terminal_gets_one_redrawn_line_per_stage():
    clock, out = Clock(), Terminal()
    p = StageProgress(stream=out, clock=clock)
    _stage(p, clock, "read submissions", 1000, 0.01)  # 10 s, redrawn every 0.2 s at most
    _stage(p, clock, "score pairs", 100, 0.05)
    p.close()
    text = out.getvalue()
    draws = text.split("\r\033[K")[1:]
    # 9 s and 4 s drawn at most every 0.2 s (45 + 20), and each stage's final state
    assert 60 <= len(draws) <= 70
    assert draws[-1].startswith("similarity: score pairs 100/100")
    assert text.count("\n") == 2  # each stage's line ended once, at the next stage and close


def test_through_say_lines_reach_the_batch_log_not_the_stream():
    clock, out, said = Clock(), Terminal(), []
    p = StageProgress(stream=out, say=said.append, clock=clock)
    _stage(p, clock, "score pairs", 100, 0.1)
    p.close()
    assert out.getvalue() == "" and len(said) == 10 and said[-1].endswith("100/100")


def test_the_engine_reports_reading_and_scoring(tmp_path: Path):
    subs = {}
    for i in range(4):
        f = tmp_path / f"s{i}.py"
        f.write_text(f"import numpy as np\nx{i} = np.arange({i})\nprint(x{i}.sum())\n")
        subs[f.stem] = f
    seen: list[tuple[str, int, int]] = []
    compare(subs, progress=lambda *a: seen.append(a))
    stages = [s for s, _, _ in seen]
    assert stages.index("read submissions") < stages.index("score pairs")
    read = [(d, t) for s, d, t in seen if s == "read submissions"]
    score = [(d, t) for s, d, t in seen if s == "score pairs"]
    assert read[-1] == (4, 4) and [d for d, _ in read] == [1, 2, 3, 4]
    assert score[0] == (0, 4) and score[-1] == (4, 4)
