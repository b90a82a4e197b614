"""A hostile program's terminal escapes never reach the stored logs raw (runs/<student>/).

The program runs in the real bubblewrap sandbox inside a real batch; the files on disk are
read back as bytes and must hold no control character but newline and tab.
"""

from __future__ import annotations

import re

import pytest

from grader.batch import BatchOptions, run_batch
from grader.course import load_course
from tests.conftest import fast_limits
from tests.integration.batch_helpers import make_course, write_submissions

#: OSC 52 (clipboard write), a window title, clear-screen, cursor up + erase line (hides the
#: line before), colours, BEL, NUL, backspace, DEL, a lone CR, the 8-bit CSI and a bidi override
HOSTILE = r'''
import sys
out = sys.stdout
out.write("line-before\n")
out.write("\x1b[1A\x1b[2Kforged\n")
out.write("\x1b]52;c;ZWNobyBwd25lZA==\x07copied\n")
out.write("\x1b]0;pwned-title\x1b\\titled\n")
out.write("\x1b[2J\x1b[Hcleared\n")
out.write("\x1b[31mred\x1b[0m \x1b[8mconcealed\x1b[28m\n")
out.write("bell\x07nul\x00bs\x08del\x7f\n")
out.write("progress 10%\rprogress 100%\n")
out.write("c1\u009b2Jbidi\u202eevil\n")
out.write("tab\there\n")
sys.stderr.write("\x1b]0;err-title\x07Traceback (most recent call last):\n")
sys.stderr.write("ValueError: \x1b[2Jboom\n")
sys.exit(1)
'''
#: bytes a terminal acts on (C0 but LF and TAB, DEL) and C1 as UTF-8 (U+0080..U+009F)
_CONTROL_BYTES = re.compile(rb"[\x00-\x08\x0b-\x1f\x7f]|\xc2[\x80-\x9f]")


@pytest.mark.bwrap
def test_stored_logs_hold_no_terminal_controls(tmp_path, bwrap_sandbox):
    course = load_course(make_course(tmp_path / "course", time_limit_s=20))
    subs = write_submissions(tmp_path / "subs", {"hostile": HOSTILE})
    run_batch(course, subs, tmp_path / "out",
              BatchOptions(jobs=1, similarity=False, reports=False, quiet=True))
    folder = tmp_path / "out" / "runs" / "hostile"
    raw_out = (folder / "stdout.txt").read_bytes()
    raw_err = (folder / "stderr.txt").read_bytes()
    for name, raw in (("stdout", raw_out), ("stderr", raw_err)):
        bad = _CONTROL_BYTES.findall(raw)
        assert not bad, f"{name}.txt holds raw control bytes {bad[:5]}"
    out = raw_out.decode("utf-8").splitlines()
    # the attempts stay on record as inert text, every line in its place
    assert out[0] == "line-before"
    assert out[1] == r"\x1b[1A\x1b[2Kforged"
    assert out[2] == r"\x1b]52;c;ZWNobyBwd25lZA==\x07copied"
    assert out[3] == r"\x1b]0;pwned-title\x1b\titled"
    assert out[4] == r"\x1b[2J\x1b[Hcleared"
    assert out[5] == "red concealed"  # colours dropped: nothing hidden by them
    assert out[6] == r"bell\x07nul\x00bs\x08del\x7f"
    assert out[7:9] == ["progress 10%", "progress 100%"]  # CR cannot overwrite a line
    assert out[9] == r"c1\x9b2Jbidi\u202eevil"
    assert out[10] == "tab\there"
    err = raw_err.decode("utf-8")
    assert r"\x1b]0;err-title\x07Traceback" in err and r"ValueError: \x1b[2Jboom" in err


def test_control_flood_stays_bounded(sandbox_backend):
    """Each kept byte becomes at most four characters: the log stays bounded (both
    backends: the neutralising is in the log capture they share)."""
    src = "import sys\nsys.stdout.write('\\x1b' * 300_000)\n"
    v, _, _ = sandbox_backend.run(src, limits=fast_limits(log_kb=8))
    assert v.status == "ok" and v.stdout_truncated
    assert "\x1b" not in v.stdout and v.stdout.startswith(r"\x1b\x1b")
    assert "bytes omitted by the grader" in v.stdout
    assert len(v.stdout) <= 4 * 8 * 1024 + 100
