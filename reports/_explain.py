"""Why a student got their grade, as view data for the student's page (html, md, txt).

Everything comes from the store: the band table the batch graded with (scaled to the class),
the baseline and where it comes from (``meta["grading"]``, written by the grade stage), the
student's grade row, and what the course releases. For a crash, the traceback in the run's
``stderr.txt`` is reordered so the frames in the student's own files come first.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reports._load import Batch, StudentRow, finite, places_text
from reports._wording import baseline_words

#: the most of a run's stderr.txt read back (its end: the last traceback is there)
STDERR_READ_BYTES = 512 * 1024
#: library frames listed after the student's own (the rest are counted)
MAX_LIBRARY_FRAMES = 6

_FRAME = re.compile(r'^\s*File "(?P<file>[^"]+)", line (?P<line>\d+)(?:, in (?P<func>.+))?\s*$')
_MARKERS = re.compile(r"^\s*[\^~]+\s*$")  # Python 3.11+ position markers under a code line
_EXCEPTION = re.compile(r"^([A-Za-z_][\w.]*(Error|Exception|Interrupt|Exit|Warning)|MemoryError)"
                        r"\b.*$")
_LIBRARY = ("/site-packages/", "/dist-packages/", "/lib/python", "<frozen ")

#: what follows for the grade when a run gives no valid output (DESIGN.md: a status, no grade)
NO_GRADE: dict[str, str] = {
    "rejected": "Your submission was not run, so it has no project grade: only its status, "
                "rejected, is recorded.",
    "invalid_output": "No project grade: the run finished but its submission.csv could not be "
                      "scored (the message above says why), so only its status, "
                      "invalid_output, is recorded. Fix the problem and resubmit if the course "
                      "allows it.",
}
NO_GRADE_DEFAULT = ("No project grade: a run that ends with status {status} is not scored, "
                    "even if it wrote submission.csv before it stopped; it gets no grade, only "
                    "its status ({status}). Fix the problem and resubmit if the course allows "
                    "it.")


@dataclass(frozen=True)
class Frame:
    """One frame of a Python traceback."""

    file: str
    line: int
    func: str
    code: str
    own: bool

    @property
    def where(self) -> str:
        return f"{self.file}, line {self.line}"


# --- the crash -----------------------------------------------------------------------------

def read_stderr(out_dir: Path, student: str) -> str:
    """The end of ``runs/<student>/stderr.txt`` (never through a link), or ``""``."""
    if not student or Path(student).name != student or student in (".", ".."):
        return ""
    path = Path(out_dir) / "runs" / student / "stderr.txt"
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except OSError:
        return ""
    with os.fdopen(fd, "rb") as f:
        size = os.fstat(f.fileno()).st_size
        f.seek(max(0, size - STDERR_READ_BYTES))
        return f.read(STDERR_READ_BYTES).decode("utf-8", "replace")


def parse_frames(log: str, files: list[str]) -> tuple[list[Frame], str]:
    """The frames of the last traceback in ``log`` (oldest first) and its exception line.

    A frame is the student's own when its file is one of ``files`` (the names received) and
    not inside an installed package.
    """
    lines = log.splitlines()
    start = max((i for i, r in enumerate(lines) if r.startswith("Traceback (most recent")),
                default=None)
    if start is None:
        return [], ""
    frames: list[Frame] = []
    exception = ""
    i = start + 1
    while i < len(lines):
        m = _FRAME.match(lines[i])
        if m:
            code = ""
            if i + 1 < len(lines) and not _FRAME.match(lines[i + 1]) \
                    and lines[i + 1].startswith("    ") and not _MARKERS.match(lines[i + 1]):
                code = lines[i + 1].strip()
                i += 1
            path = m["file"]
            frames.append(Frame(_short(path, files), int(m["line"]), (m["func"] or "").strip(),
                                code, _is_own(path, files)))
        elif _EXCEPTION.match(lines[i].strip()):
            exception = lines[i].strip()
        i += 1
    return frames, exception


def _is_own(path: str, files: list[str]) -> bool:
    if any(marker in path for marker in _LIBRARY):
        return False
    norm = path.replace("\\", "/")
    return any(norm == f or norm.endswith("/" + f) for f in files)


def _short(path: str, files: list[str]) -> str:
    """A frame's file as the student knows it: their own file's name, or the library path
    from the package on (``pandas/core/frame.py``), never the sandbox's folders."""
    norm = path.replace("\\", "/")
    for f in sorted(files, key=len, reverse=True):
        if norm == f or norm.endswith("/" + f):
            return f
    for marker in ("/site-packages/", "/dist-packages/"):
        if marker in norm:
            return norm.split(marker, 1)[1]
    return norm.rsplit("/", 1)[-1] if "/lib/python" in norm else norm


#: the course's data files, by name: a program that looks for them elsewhere broke the contract
_DATA_NAMES = ("train.csv", "test.csv", "validation.csv")
_MISSING_FILE = re.compile(r"^FileNotFoundError: \[Errno 2\] No such file or directory: "
                           r"'(?P<path>[^']*)'")


def data_path_hint(exception: str) -> str | None:
    """The fix for a crash that looked for the course's data outside ``$GRADER_DATA`` (e.g.
    ``data/train.csv`` relative to the program, or a path from the student's laptop); None
    for every other crash."""
    m = _MISSING_FILE.match(exception or "")
    if not m:
        return None
    path = m.group("path")
    name = path.replace("\\", "/").rsplit("/", 1)[-1]
    if name not in _DATA_NAMES or path.startswith("/grader/data/"):
        return None
    return (f"your program looked for {path!r}, but the course's data is only in the folder "
            f"named by the environment variable GRADER_DATA (read-only): open it as "
            f"os.path.join(os.environ[\"GRADER_DATA\"], \"{name}\"), and write your predictions "
            "to os.path.join(os.environ[\"GRADER_OUTPUT\"], \"submission.csv\")")


_MISSING_NAME = re.compile(r"^ImportError: cannot import name '(?P<name>[^']+)' from "
                           r"'(?P<module>[^']+)'")


def import_name_hint(exception: str) -> str | None:
    """The fix for ``ImportError: cannot import name X from M``: M is there but has no X (a
    typo, or a name of another version than the course's); None for every other crash."""
    m = _MISSING_NAME.match(exception or "")
    if not m:
        return None
    name, module = m.group("name"), m.group("module")
    top = module.split(".")[0]
    return (f"{module} in the course environment has no {name!r}: check the spelling and "
            f"the documentation of {module}, and that {name!r} exists in the course's version "
            f"of {top} (yours may differ: compare {top}.__version__ with the instructor's "
            "list of packages)")


#: what a download attempt ends with in a run without network (DNS fails first; urllib,
#: requests, torch.hub, sklearn.datasets.fetch_*, huggingface all end in one of these)
_NO_NETWORK = re.compile(
    r"Temporary failure in name resolution|Name or service not known|Network is unreachable"
    r"|nodename nor servname|No address associated with hostname|Failed to resolve"
    r"|NameResolutionError|Max retries exceeded with url|URLError|ConnectionError: "
    r"|LocalEntryNotFoundError|We couldn't connect to")


def network_hint(exception: str) -> str | None:
    """The fix for a crash that tried to download (a dataset, pretrained weights, a package):
    runs have no network; None for every other crash."""
    if not _NO_NETWORK.search(exception or ""):
        return None
    return ("your program tried to reach the network (to download data, pretrained weights or "
            "a package), and graded runs have no network at all: train only on the course's "
            "data in the folder named by GRADER_DATA, and use only the packages the course "
            "environment provides; to test this on your machine, run with the network off")


#: multiprocessing's words when a program starts workers (DataLoader num_workers, Pool,
#: joblib) at import time under the spawn or forkserver start method: each worker imports the
#: program again and the run hangs or dies
_NO_MAIN_GUARD = "before the current process has finished its bootstrapping phase"


def main_guard_hint(log: str) -> str | None:
    """The fix for a program that starts worker processes without an
    ``if __name__ == "__main__":`` guard (it hangs until the time limit, or crashes); None
    when the log does not show it."""
    if _NO_MAIN_GUARD not in " ".join((log or "").split()):  # the message spans lines
        return None
    return ("your program starts worker processes (DataLoader num_workers, multiprocessing, "
            "joblib) while it is being imported: put the code that trains and predicts under "
            "if __name__ == \"__main__\": so the workers do not run it again")


_READ_ONLY = re.compile(r"\[Errno 30\] Read-only file system: '(?P<path>[^']*)'")


def read_only_hint(exception: str) -> str | None:
    """The fix for a crash that wrote into a read-only place (a checkpoint saved into the
    data folder); None for every other crash."""
    m = _READ_ONLY.search(exception or "")
    if not m:
        return None
    return (f"your program tried to write {m.group('path')!r}, in a read-only place: the "
            "course's data folder (GRADER_DATA) and the system's folders cannot be written. "
            "Save checkpoints and other files in the working folder (the current folder, "
            "e.g. \"model.pt\"); write the predictions to os.path.join(os.environ"
            "[\"GRADER_OUTPUT\"], \"submission.csv\")")


_RELATIVE_IMPORT = "attempted relative import with no known parent package"


def relative_import_hint(exception: str) -> str | None:
    """The fix for ``from .model import Net`` in the program that is run: it runs as a
    script, not as part of a package; None for every other crash."""
    if _RELATIVE_IMPORT not in (exception or ""):
        return None
    return ("main.py runs as a script (python main.py), not as part of a package, so imports "
            "with a leading dot fail: import your own files beside it by name, e.g. "
            "from model import Net instead of from .model import Net")


def decode_hint(exception: str) -> str | None:
    """The fix for reading the course's (UTF-8) text with another codec; None otherwise."""
    if not (exception or "").startswith("UnicodeDecodeError:"):
        return None
    return ("your program read text with a codec that is not UTF-8, and the course's files "
            "are UTF-8 (accents, emoji): open them with encoding=\"utf-8\" "
            "(open(path, encoding=\"utf-8\"); pandas.read_csv reads UTF-8 unless told "
            "otherwise), and do not decode with \"ascii\" or \"latin-1\"")


#: what PyTorch says when a program asks for a GPU the run does not have (.cuda(),
#: device="cuda", torch.load of a checkpoint saved on a GPU without map_location)
_NO_GPU = re.compile(r"Torch not compiled with CUDA enabled|No CUDA GPUs are available"
                     r"|Found no NVIDIA driver|CUDA driver initialization failed"
                     r"|Attempting to deserialize object on a CUDA device")


def gpu_hint(exception: str) -> str | None:
    """The fix for a program that insists on a GPU in a run without one; None otherwise."""
    if not _NO_GPU.search(exception or ""):
        return None
    return ("your program asked for a GPU (.cuda(), device=\"cuda\", or torch.load of a "
            "checkpoint saved on a GPU) and this run has none: pick the device with "
            "device = torch.device(\"cuda\" if torch.cuda.is_available() else \"cpu\"), "
            "move the model and data with .to(device), and load checkpoints with "
            "torch.load(path, map_location=device)")


_NAN_CRASH = re.compile(r"contains NaN|contains infinity|Input contains NaN"
                        r"|value too large for dtype")
_OWN_WARNING = re.compile(r"^(?P<path>[^\n:]+\.py):(?P<line>\d+): RuntimeWarning: "
                          r"(?P<what>(?:invalid value|divide by zero|overflow)[^\n]*)$", re.M)


def nan_hint(exception: str, log: str, files: list[str]) -> str | None:
    """The cause of a crash on NaN or infinite inputs: where numpy warned, in the student's
    own files, of an invalid value or a division by zero (``(X - mean) / std`` with a
    constant column), else both likely causes. None when the crash is another one."""
    if not _NAN_CRASH.search(exception or ""):
        return None
    names = {Path(f).name for f in files}
    warned = next((m for m in _OWN_WARNING.finditer(log or "")
                   if Path(m.group("path")).name in names), None)
    check = "; check numpy.isfinite(X).all() before fit"
    if warned:
        return (f"your features hold NaN or infinite values made by your own arithmetic: "
                f"numpy warned at {Path(warned.group('path')).name}, line "
                f"{warned.group('line')} ({warned.group('what')}). A division by zero, such "
                "as (X - mean) / std where a column is constant (std 0), makes them: divide "
                "by std + 1e-8, or drop constant columns" + check)
    return ("your features hold NaN or infinite values: missing values in the data (fill "
            "them, e.g. sklearn.impute.SimpleImputer) or your own arithmetic (a division by "
            "zero such as (X - mean) / std on a constant column, log of 0)" + check)


def crash_hint(exception: str) -> str | None:
    """The fix for a crash with a known cause (:func:`data_path_hint`,
    :func:`import_name_hint`, :func:`network_hint`, :func:`read_only_hint`,
    :func:`relative_import_hint`, :func:`decode_hint`, :func:`gpu_hint`); None when the
    general advice is all there is."""
    return (data_path_hint(exception) or import_name_hint(exception)
            or network_hint(exception) or read_only_hint(exception)
            or relative_import_hint(exception) or decode_hint(exception)
            or gpu_hint(exception))


def crash_view(log: str, files: list[str]) -> dict[str, Any] | None:
    """The crash for the page: the student's own frames first (innermost first), the
    exception, then a few library frames; None when ``log`` holds no traceback."""
    frames, exception = parse_frames(log, files)
    if not frames and not exception:
        return None
    own = [f for f in reversed(frames) if f.own]
    library = [f for f in reversed(frames) if not f.own]
    return {"own": own, "exception": exception,
            "where": own[0].where if own else "",
            "library": library[:MAX_LIBRARY_FRAMES],
            "library_more": max(0, len(library) - MAX_LIBRARY_FRAMES)}


# --- the grade -----------------------------------------------------------------------------

def band_rows(bands: list[dict[str, Any]], place: int | None) -> list[dict[str, Any]]:
    """The stored band table as rows (``places``, ``grade``, ``you``), the student's marked.

    Examples
    --------
    >>> rows = band_rows([{"first": 1, "last": 8, "grade": 10.0},
    ...                   {"first": 9, "last": None, "grade": 9.0}], place=9)
    >>> [(r["places"], r["you"]) for r in rows]
    [('1-8', False), ('9+', True)]
    """
    rows = []
    for b in bands:
        first, last = int(b["first"]), b.get("last")
        places = places_text(first, None if last is None else int(last))
        you = place is not None and place >= first and (last is None or place <= int(last))
        rows.append({"places": places, "grade": float(b["grade"]), "you": you,
                     "empty": last is not None and int(last) < first})
    return rows


def _g(v: float | None) -> str:
    return "–" if v is None else f"{v:g}"


def _public_place(b: Batch, s: StudentRow, greater: bool) -> tuple[int | None, bool]:
    """The student's place by the public score among the ranked students, and whether it
    is shared (a tie)."""
    mine = s.public
    if mine is None:
        return None, False
    others = [r.public for r in b.students if r.rank is not None and r.public is not None
              and r.student != s.student]
    better = sum(1 for v in others if (v > mine if greater else v < mine))
    return better + 1, any(v == mine for v in others)


def _baseline_text(b: Batch, inputs: dict[str, Any]) -> tuple[str, float | None]:
    value = finite(inputs.get("baseline"))
    if value is None:
        base = b.baseline()
        value = base["private_score"] if base else None
    source = baseline_words(str(inputs.get("baseline_source") or ""), b.task, b.metric)
    if value is None:
        return "", None
    if source.startswith("fixed baseline"):  # the number is the baseline: said once
        return f"the {source}", value
    # "beats the mean of the training targets (32494.8178)" read as a mean of 32494.8: the
    # number is the baseline's score, and says so
    what = f", the {source}," if source else ""
    if not b.release_private:
        # the baseline's private score is a statistic of the hidden part (the majority
        # label's share there): until it is released, its public score is what is shown
        base = b.baseline()
        public = base.get("public_score") if base else None
        return (f"the baseline{what} whose public {b.metric} is {public:.4f} (the private "
                "scores decide)" if public is not None else f"the baseline{what.rstrip(',')}"
                ), value
    return f"the baseline{what} whose private {b.metric} is {value:.4f}", value


def explain_grade(b: Batch, s: StudentRow, ranked: int) -> dict[str, Any]:
    """Why ``s`` got their grade: the band table with their place, the baseline rule, the
    deduction, what is released, and the steps from place to grade.

    Returns
    -------
    dict
        ``graded`` (bool), ``no_grade`` (the sentence for a run without a grade),
        ``bands`` (rows, see :func:`band_rows`; empty under ``accuracy_scaled``),
        ``participants``, ``scaled``, ``written_for``, ``place_grade`` (what the place earns
        before the baseline rule), ``capped`` (bool), ``cap``, ``baseline`` (sentence),
        ``beat`` (bool or None), ``deduction``, ``deduction_note``, ``steps`` (sentences),
        ``ranks`` (why the public and private places differ), ``released`` and
        ``not_released`` (lists of what the student sees and does not yet see).
    """
    g = s.grade or {}
    inputs = b.meta.get("grading") or {}
    grading = b.config.get("grading") or {}
    policy = inputs.get("policy") or grading.get("policy") or "rank_bands"
    greater = bool(inputs.get("greater_is_better", True))
    released = [f"your public {b.metric}", "your rank and grade"]
    per_class = (" and the per-class results on the whole test set" if b.has_classes
                 else "")
    not_released = [] if b.release_private else [
        f"your private {b.metric} (on the hidden part of the test set){per_class}, until the "
        "competition closes"]
    if b.release_private:
        released.insert(1, f"your private {b.metric}")
    out: dict[str, Any] = dict(
        graded=s.rank is not None and g.get("grade") is not None, no_grade="", bands=[],
        participants=inputs.get("participants", ranked), scaled=bool(inputs.get("scaled")),
        written_for=grading.get("scale_bands_to"), place_grade=None, capped=False, cap=None,
        baseline="", beat=None, deduction=0.0, deduction_note="", steps=[], ranks="",
        released=released, not_released=not_released, policy=policy)
    if not out["graded"]:
        if s.status != "ok":
            out["no_grade"] = NO_GRADE.get(s.status, NO_GRADE_DEFAULT).format(status=s.status)
        return out
    place = int(s.rank)
    bands = band_rows(inputs.get("bands") or [], place) if policy == "rank_bands" else []
    out["bands"] = bands
    base, grade = finite(g.get("base_grade")), finite(g.get("grade"))
    mine = next((r for r in bands if r["you"]), None)
    place_grade = mine["grade"] if mine else base
    beat = None if g.get("above_baseline") is None else bool(g["above_baseline"])
    cap = finite(grading.get("below_baseline_grade"))
    capped = beat is False and base is not None and place_grade is not None \
        and base < place_grade
    baseline, base_value = _baseline_text(b, inputs)
    # one answer for every id never beats the baseline, whatever its score (grade_scores):
    # said where the score alone would have beaten it
    constant = ((s.score or {}).get("details") or {}).get("constant") if beat is False \
        else None
    score = s.private
    if constant is not None and not (
            base_value is not None and score is not None
            and (score > base_value if greater else score < base_value)):
        constant = None
    not_beat = (f"Your predictions are one answer ({constant!r}) for every test id, as a "
                f"baseline's are: whatever their score, they do not beat "
                f"{baseline or 'the baseline'}" if constant is not None
                else f"Your private score does not beat {baseline or 'the baseline'}")
    deduction = finite(g.get("deduction")) or 0.0
    out.update(place_grade=place_grade, capped=capped, cap=base if capped else cap,
               beat=beat, deduction=deduction, deduction_note=_deduction_note(g, deduction))
    out["baseline"] = (
        "A grade of 5 or more needs a private score strictly "
        + ("above " if greater else f"below (a smaller {b.metric} is better) ")
        + (baseline or "the baseline")
        # "at or below it" is the wrong way round on an error metric: say what it means
        + (f"; a valid run {'at or below' if greater else 'at or above'} it gets {_g(cap)}. "
           if cap is not None else ". ")
        + ("" if beat is None else "Your private score beats it." if beat
           else f"{not_beat}." if constant is not None
           else "Your private score does not beat it."))
    out["ranks"] = _ranks_text(b, s, place, ranked, greater)
    steps = [f"Your place: {place} of {ranked}, by the private score (ties share the best "
             "place)."]
    if policy == "rank_bands" and mine:
        band = (f"a band of its own (place {place})" if mine["places"] == str(place)
                else f"the band of places {mine['places']}")
        steps.append(f"Place {place} is in {band}, which earns {_g(place_grade)}.")
    elif policy != "rank_bands":
        steps.append(_scaled_text(inputs, base if not capped else None))
    if capped:
        steps.append(f"{not_beat}, so the grade is capped at {_g(base)} (the place alone would "
                     f"earn {_g(place_grade)}).")
    elif beat is False:
        steps.append(f"{not_beat}; the grade is at most {_g(cap)}: {_g(base)}.")
    elif beat:
        steps.append(f"Your private score beats {baseline or 'the baseline'}, so the "
                     f"{'band' if policy == 'rank_bands' else 'scaled'} grade stands: "
                     f"{_g(base)}.")
    if deduction:
        why = f": {out['deduction_note']}" if out["deduction_note"] else ""
        steps.append(f"Deduction for the presentation/documentation: {_g(deduction)} "
                     f"point(s){why}. {_g(base)} − {_g(deduction)} = "
                     f"{_g(round((base or 0) - deduction, 2))}.")
    before = finite(g.get("pre_integrity"))
    if before is not None and grade is not None and before != grade:
        steps.append(f"After the course staff's review, the grade is {_g(grade)} (it would be "
                     f"{_g(before)} otherwise).")
    steps.append(f"Your grade: {_g(grade)}.")
    out["steps"] = steps
    return out


def _deduction_note(g: dict[str, Any], points: float) -> str:
    """The instructor's note of the deduction, from the grade row's note (the grade stage
    writes ``-<points> presentation/documentation: <note>`` last)."""
    if not points:
        return ""
    note = str(g.get("note") or "")
    marker = f"-{points:g} presentation/documentation"
    _, found, rest = note.rpartition(marker)
    return rest.removeprefix(": ").strip() if found else ""


def _ranks_text(b: Batch, s: StudentRow, place: int, ranked: int, greater: bool) -> str:
    public_place, tied = _public_place(b, s, greater)
    fraction = finite((b.config.get("competition") or {}).get("public_fraction"))
    share = f" ({fraction:.0%} of the test set)" if fraction is not None else ""
    private_share = f" ({1 - fraction:.0%})" if fraction is not None else ""
    if public_place is None:
        by_public = ""
    elif public_place == place:
        by_public = f" By your public {b.metric} you are also place {public_place}."
    else:
        tie = " (tied)" if tied else ""
        by_public = (f" By your public {b.metric}{share} you would be place {public_place}"
                     f"{tie} of {ranked}; your rank {place} comes from the private "
                     f"{b.metric}, so the two differ.")
    if b.release_private:
        return (f"Places come from the private {b.metric}, computed on the hidden part of the "
                f"test set{private_share}; the public leaderboard uses only the public part, "
                "so places there can differ." + by_public)
    return (f"Places come from the private {b.metric}, computed on the hidden part of the test "
            f"set{private_share}, which is not released until the competition closes; the "
            f"public {b.metric} you see uses only the public part, so your place on the public "
            "leaderboard can differ from your rank." + by_public)


def _scaled_text(inputs: dict[str, Any], grade: float | None) -> str:
    base, best = finite(inputs.get("baseline")), finite(inputs.get("optimum"))
    ends = (f" (baseline {base:.4f}, optimum {best:.4f})" if base is not None
            and best is not None else "")
    return ("The grade grows linearly from 5 at the baseline to the maximum at the optimum"
            f"{ends}, by your private score" + (f": {_g(grade)}." if grade is not None else "."))
