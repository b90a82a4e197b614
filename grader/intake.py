"""A submissions folder → one :class:`Submission` or :class:`Rejection` per student.

One entry per student: ``submissions/<student>/`` holding ``.py`` files (entry point
``main.py``, or the only ``.py``), or a single ``submissions/<student>.py``; hidden entries
and the instructor's notes beside them (``README.md``, ``readme.txt``, ``notes.txt``...) are
no student's. The course accepts
only ``.py`` files: notebooks, archives, binaries, non-UTF-8, empty files and ambiguous entry
points are rejected with a reason and a hint, never run.
"""

from __future__ import annotations

import ast
import hashlib
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

from diagnostics.source import source_encoding
from diagnostics.text import terminal_safe
from grader.errors import SubmissionsError
from grader.names import ID_RULE, id_problem, normalize_id, stand_in_id, undecodable
from sandbox._codecopy import JUNK_NAMES

#: documents for people, never copied into the run (every other accepted file is)
_NOT_COPIED_SUFFIXES = {".pdf"}
#: most bytes of non-code files (configs, small word lists) copied into a run
MAX_DATA_BYTES = 8 * 1024 * 1024
#: the predictions file uploaded to Kaggle (issue #8's reproduction check)
KAGGLE_FILE = "kaggle_submission.csv"
MAX_PY_BYTES = 2 * 1024 * 1024
MAX_FILES = 50
#: the longest path of a file inside a submission folder (the run copies it under its own
#: folder, and a path near the system's 4,096-byte limit failed every run as a grader fault)
MAX_PATH_BYTES = 1024
_ARCHIVES = {".zip", ".tar", ".gz", ".tgz", ".bz2", ".xz", ".7z", ".rar"}
#: the one wording of the course's rule against notebooks (intake, mail intake, reports)
NOTEBOOK_REASON = "only .py files are accepted (no .ipynb): notebooks are never run"
NOTEBOOK_HINT = ("in Jupyter use File > Download as > Python (.py), save it as main.py and "
                 "resubmit")
_COPY_HINT = "copy the files themselves into the submission folder (cp, not ln or cp -l)"


@dataclass(frozen=True)
class Submission:
    student: str
    path: Path
    #: the folder holding the code (the file's parent for a single .py)
    code_dir: Path
    entry: str
    files: tuple[str, ...]
    content_hash: str
    kaggle_predictions: Path | None = None
    #: the folder's other files (configs, word lists), relative to ``code_dir``: copied into
    #: the run's working copy beside the code, never compared as code
    data_files: tuple[str, ...] = ()
    #: files beside the code that never reach the run (binary files, archives, notebooks: a
    #: laptop's model.pt and loss.png), said on the student's page
    left_out: tuple[str, ...] = ()


@dataclass(frozen=True)
class Rejection:
    student: str
    path: Path
    reason: str
    hint: str
    found: tuple[str, ...] = field(default_factory=tuple)

    def render(self) -> str:
        """The rejection as the terminal shows it (student-made text shown escaped)."""
        found = terminal_safe(", ".join(self.found) or "nothing")
        return (f"rejected: {terminal_safe(self.student)} ({terminal_safe(self.path)})\n"
                f"  found: {found}\n  reason: {terminal_safe(self.reason)}\n"
                f"  hint: {terminal_safe(self.hint)}")


def hash_files(root: Path, names: list[str], *, single: bool = False) -> str:
    """Content hash of a submission: file names and bytes (a single file: bytes only, since
    its name is the student's). Names are hashed as the bytes on disk."""
    h = hashlib.blake2b(digest_size=16)
    for name in sorted(names, key=os.fsencode):
        label = b"<single>" if single else os.fsencode(name)
        h.update(label + b"\0" + (root / name).read_bytes() + b"\0")
    return h.hexdigest()


#: file names a rejection lists at most (a data folder of 4,000 images made a 40 KB reason,
#: copied into grades.csv, the exports and every page)
_MAX_LISTED = 12


def _some(names: list[str]) -> str:
    """``names`` joined, at most ``_MAX_LISTED`` of them, then how many more."""
    more = len(names) - _MAX_LISTED
    return ", ".join(names[:_MAX_LISTED]) + (f" and {more} more" if more > 0 else "")


def _reject(student: str, path: Path, found: list[str], reason: str, hint: str) -> Rejection:
    if len(found) > _MAX_LISTED:
        found = [*found[:_MAX_LISTED], f"... and {len(found) - _MAX_LISTED} more"]
    return Rejection(student, path, reason, hint, tuple(found))


def _listed(folder: Path) -> list[str]:
    """Every file and link in a submission folder, relative and sorted, without what
    systems and editors leave there (``JUNK_NAMES``: never copied into the sandbox)."""
    found = []
    for root, dirs, files in os.walk(folder, followlinks=False):
        dirs[:] = [d for d in dirs if d not in JUNK_NAMES]
        links = [d for d in dirs if os.path.islink(os.path.join(root, d))]  # not descended
        found += [os.path.relpath(os.path.join(root, name), folder)
                  for name in (*files, *links) if name not in JUNK_NAMES]
    return sorted(set(found))


def _not_plain(rel: str, st: os.stat_result) -> str | None:
    """Why an entry is not a folder or a regular file with one link (None: it is)."""
    if stat.S_ISLNK(st.st_mode):
        return f"{rel} is a symbolic link"
    if stat.S_ISDIR(st.st_mode):
        return None
    if not stat.S_ISREG(st.st_mode):
        return f"{rel} is not a regular file"
    if st.st_nlink != 1:
        # a second name of a file elsewhere (e.g. the hidden labels) would be run as code
        return f"{rel} is a hard link (one of {st.st_nlink} names of the same file)"
    return None


def _odd_entries(folder: Path) -> list[str]:
    """Every link, hard link or special file in ``folder`` (not followed), with why."""
    odd: list[str] = []
    for root, dirs, files in os.walk(folder, followlinks=False):
        dirs[:] = [d for d in dirs if d not in JUNK_NAMES]
        files = [f for f in files if f not in JUNK_NAMES]
        for name in sorted(dirs + files):
            full = os.path.join(root, name)
            why = _not_plain(os.path.relpath(full, folder), os.lstat(full))
            if why:
                odd.append(why)
    return odd


def _check_py(student: str, path: Path, root: Path, name: str, found: list[str], *,
              may_be_empty: bool = False) -> Rejection | None:
    """Why the file ``name`` cannot be run, or None. ``may_be_empty``: a module beside the
    entry point (an empty ``__init__.py`` marks a package, as Python intends)."""
    file = root / name
    if file.is_symlink():
        return _reject(student, path, found, f"{name} is a symbolic link",
                       "send the file itself, not a link")
    odd = _not_plain(name, file.lstat())
    if odd:
        return _reject(student, path, found, f"{odd}; only regular files with one link are "
                       "accepted", _COPY_HINT)
    size = file.stat().st_size
    if not may_be_empty and (size == 0 or not file.read_bytes().strip()):
        return _reject(student, path, found, f"{name} is empty", "resubmit the file with your code")
    if size > MAX_PY_BYTES:
        return _reject(student, path, found, f"{name} is {size // 1024} KiB (limit "
                       f"{MAX_PY_BYTES // 1024} KiB)", "send only code; load data from $GRADER_DATA")
    data = file.read_bytes()
    if b"\0" in data:
        return _reject(student, path, found, f"{name} is a binary file, not Python source",
                       "send the .py source file")
    encoding = source_encoding(data)  # UTF-8 unless the file declares its own (PEP 263)
    try:
        data.decode(encoding)
    except UnicodeDecodeError as exc:
        what = "UTF-8" if encoding == "utf-8" else f"{encoding} as its coding line declares"
        return _reject(student, path, found,
                       f"{name} is not {what} (byte {exc.start}: "
                       f"{data[exc.start:exc.start + 1]!r})",
                       "save the file as UTF-8 in your editor and resubmit")
    return None


def read_submission(student: str, path: Path) -> Submission | Rejection:
    """Validate one student's entry (a folder or a single ``.py``)."""
    if path.is_symlink():
        return _reject(student, path, [path.name], f"{path.name} is a symbolic link",
                       "put the student's folder or file itself in the submissions folder")
    if path.is_file():
        if _cased_py(path.name):
            return _reject(student, path, [path.name], *_cased_py_problem([path.name]))
        if _hidden_txt(path.name):
            right = path.name[:-4]
            return _reject(student, path, [path.name],
                           f"{path.name} is saved as a text file (.txt): Windows hides "
                           f"known extensions, so it showed as {right}",
                           f"rename it to {right} (in Explorer: View > Show > File name "
                           "extensions) and resubmit")
        if path.suffix != ".py":
            return _reject(student, path, [path.name], _why_not_py(path.name),
                           _hint_for(path.name))
        bad = _check_py(student, path, path.parent, path.name, [path.name])
        if bad:
            return bad
        return Submission(student, path, path.parent, path.name, (path.name,),
                          hash_files(path.parent, [path.name], single=True))

    files = _listed(path)
    bad_names = [terminal_safe(f) for f in files if undecodable(f)]
    if bad_names:
        return _reject(student, path, [terminal_safe(f) for f in files],
                       f"file name(s) not valid UTF-8: {', '.join(bad_names)} (undecodable bytes "
                       "shown as \\xNN)", "rename the files using plain letters and digits "
                       "(e.g. utils.py) and resubmit")
    long = [f for f in files if len(os.fsencode(f)) > MAX_PATH_BYTES]
    if long:  # copied into the run's folder, it would pass the system's 4,096-byte limit
        return _reject(student, path, [terminal_safe(f)[:120] + "..." for f in long[:3]],
                       f"{len(long)} file path(s) inside the folder are longer than "
                       f"{MAX_PATH_BYTES} bytes (the longest: {max(map(len, long)):,} "
                       "characters)", "send the code in a flat folder with short names "
                       "(e.g. main.py, utils.py) and resubmit")
    odd = _odd_entries(path)
    if odd:
        return _reject(student, path, files, f"{'; '.join(odd)}; only regular files with one "
                       "link are accepted", _COPY_HINT)
    cased = [f for f in files if _cased_py(f)]
    if cased:  # Main.PY runs, but no import finds Helper.PY, and nothing compares them
        return _reject(student, path, files, *_cased_py_problem(cased))
    py = [f for f in files if f.endswith(".py")]
    if not py:
        if any(f.endswith(".ipynb") for f in files):
            return _reject(student, path, files, NOTEBOOK_REASON, NOTEBOOK_HINT)
        return _reject(student, path, files, "no .py file found" if not files else
                       "only .py files are accepted; notebooks, archives and binary files are never run",
                       "submit your code as main.py")
    # Binary files, archives and notebooks beside the code are left out of the run, not a
    # reason to refuse it: a laptop's model.pt and loss.png cost a working program its grade.
    # The run never sees them (a program that only loads a model it did not train then
    # fails, and its page says which files were left out). A binary .txt or .md too.
    others = [f for f in files if not f.endswith(".py") and Path(f).name != KAGGLE_FILE
              and Path(f).suffix.lower() not in _NOT_COPIED_SUFFIXES]
    left_out = [f for f in others
                if Path(f).suffix.lower() in _ARCHIVES | {".ipynb"} or _looks_binary(path / f)]
    if len(py) > MAX_FILES:
        return _reject(student, path, files, f"{len(py)} .py files (limit {MAX_FILES})",
                       "send only your own code")
    if "main.py" in py:
        entry = "main.py"
    elif len(py) == 1:
        entry = py[0]
    else:
        cased = [f for f in py if f.lower() == "main.py"]
        likely = _likely_entry(path, py)
        return _reject(student, path, files,
                       f"{len(py)} .py files and none is main.py: the entry point is ambiguous",
                       f"rename {cased[0]} to main.py (file names are case-sensitive here) "
                       "and resubmit" if cased else
                       f"rename {likely} to main.py and resubmit ({likely} looks like the "
                       "program: no other file imports it and it runs code)" if likely
                       else "name the file to run main.py")
    for name in py:  # only the program that is run must hold code
        bad = _check_py(student, path, path, name, files, may_be_empty=name != entry)
        if bad:
            return bad
    dropped = set(left_out)
    data = [f for f in others if f not in dropped]
    size = sum((path / f).stat().st_size for f in data)
    if size > MAX_DATA_BYTES:
        largest = max(data, key=lambda f: (path / f).stat().st_size)
        return _reject(student, path, files,
                       f"the files besides code total {size // 1024} KiB (limit "
                       f"{MAX_DATA_BYTES // 1024} KiB; largest: {largest})",
                       "send only code and small configuration files; read the course's data "
                       "from $GRADER_DATA")
    kaggle = path / KAGGLE_FILE
    return Submission(student, path, path, entry, tuple(py), hash_files(path, py),
                      kaggle if kaggle.is_file() and not kaggle.is_symlink() else None,
                      tuple(data), tuple(left_out))


def _cased_py(name: str) -> bool:
    """``Main.PY``, ``model.Py``: a Python file whose suffix is not the lower-case ``.py``."""
    suffix = Path(name).suffix
    return suffix.lower() == ".py" and suffix != ".py"


def _cased_py_problem(names: list[str]) -> tuple[str, str]:
    """The reason and hint for files named ``*.PY`` (Windows editors keep the case typed)."""
    renames = ", ".join(f"{n} -> {str(Path(n).with_suffix('.py'))}" for n in names)
    return (f"{', '.join(names)}: the suffix must be lower-case .py (Python imports and the "
            "grader find only .py files)", f"rename {renames} and resubmit")


def _likely_entry(root: Path, py: list[str]) -> str | None:
    """The one file of a multi-file submission that looks like the program to run: no other
    file imports it, and it runs code when run (a ``__main__`` guard or a top-level call or
    loop), not only defines things. None when that is not exactly one file (never guessed
    further: the hint names it, the student renames it)."""
    imported: set[str] = set()
    runs: list[str] = []
    for name in py:
        try:
            if (root / name).stat().st_size > MAX_PY_BYTES:  # refused anyway, never parsed
                return None
            tree = ast.parse((root / name).read_bytes())
        except (SyntaxError, ValueError, RecursionError, MemoryError, OSError):
            return None
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                imported.update(p for a in node.names for p in a.name.split("."))
            elif isinstance(node, ast.ImportFrom):
                imported.update((node.module or "").split("."))
                imported.update(a.name for a in node.names)  # from . import helpers
        if any(isinstance(n, ast.Expr | ast.For | ast.While | ast.With | ast.If | ast.Try)
               and not (isinstance(n, ast.Expr) and isinstance(n.value, ast.Constant))
               for n in tree.body):
            runs.append(name)
    likely = [f for f in runs if Path(f).stem not in imported]
    return likely[0] if len(likely) == 1 else None


def _looks_binary(p: Path) -> bool:
    try:
        with p.open("rb") as f:
            return b"\0" in f.read(4096)
    except OSError:
        return True


def _why_not_py(name: str) -> str:
    suffix = Path(name).suffix.lower()
    if suffix == ".ipynb":
        return NOTEBOOK_REASON
    if suffix in _ARCHIVES:
        return "only .py files are accepted; archives are never unpacked or run"
    return "only .py files are accepted; binary and other files are never run"


def left_out_note(names: tuple[str, ...] | list[str]) -> str:
    """What the student and the instructor read about the files left out of a run."""
    tops = sorted({n.split(os.sep)[0] + (os.sep if os.sep in n else "") for n in names})
    return (f"left out of the run: {_some(tops)} (binary files, archives and notebooks are "
            "never copied into it: a program makes its model files and plots when it runs, and "
            "reads the course's data from $GRADER_DATA)")


def _file_stem(name: str) -> str:
    """The student a file names: ``ana.py`` is ana, and so is ``ana.py.txt`` (Windows hides
    a known extension such as .txt, so the student saw ana.py)."""
    stem = Path(name).stem
    return stem[:-3] if _hidden_txt(name) else stem


def _hidden_txt(name: str) -> bool:
    """``ana.py.txt``: a .py file saved as text, its .txt hidden by Windows Explorer."""
    return name.lower().endswith(".py.txt") and len(name) > 7


def _hint_for(name: str) -> str:
    if name.lower().endswith(".ipynb"):
        return NOTEBOOK_HINT
    return "submit your code as .py files (entry point main.py)"


def scan_submissions(folder: str | Path) -> list[Submission | Rejection]:
    """Every student's entry in ``folder``, sorted by student name.

    Raises
    ------
    SubmissionsError
        If the folder does not exist or is empty. (Two entries that name the same student
        are that student's rejection.)
    """
    root = Path(folder)
    if root.is_file() and _is_archive(root.name):
        raise SubmissionsError(f"--submissions {root} is an archive, not a folder",
                               hint=f"unpack it first (e.g. 'unzip {root} -d submissions') and "
                                    "pass the folder with one entry per student")
    if root.exists() and not root.is_dir():
        raise SubmissionsError(f"--submissions {root} is a file, not a folder",
                               hint="pass the folder that holds one folder or .py file per "
                                    "student (its parent folder, if this is one student's file)")
    if not root.is_dir():
        raise SubmissionsError(f"submissions folder {root} does not exist",
                               hint="pass the folder with one entry per student")
    entries: dict[str, Path] = {}
    twice: dict[str, list[Path]] = {}
    odd_names: list[Rejection] = []
    for child in sorted(root.iterdir(), key=lambda p: os.fsencode(p.name)):
        if child.name.startswith(".") or child.name == "__pycache__" or _folder_note(child):
            continue
        student = normalize_id(_file_stem(child.name) if child.is_file() else child.name)
        why = id_problem(student)
        if why:  # this student's entry is rejected; the others are graded
            odd_names.append(_bad_name(child, why))
            continue
        if student in entries:
            twice.setdefault(student, [entries[student]]).append(child)
            continue
        entries[student] = child
    # Which of two entries is the student's is the instructor's call: that student is
    # rejected, naming both, and everyone else is graded (rerunning resumes)
    clashes = [_clash(student, paths) for student, paths in twice.items()]
    for student in twice:
        del entries[student]
    if not entries and not odd_names and not clashes:
        raise SubmissionsError(f"submissions folder {root} is empty",
                               hint="put one folder or .py file per student in it")
    if len(entries) == 1 and not odd_names:
        only = next(iter(entries.values()))
        if only.is_file() and _is_archive(only.name):
            # the whole class as one download: grading it would reject one "student"
            raise SubmissionsError(
                f"submissions folder {root} holds only the archive {only.name}",
                hint=f"unpack it (e.g. 'unzip {only} -d {root}'), delete the archive, and run "
                     "again; each student's folder or .py file must be directly inside")
    found = [_read_guarded(s, p) for s, p in entries.items()] + odd_names + clashes
    return sorted(found, key=lambda e: e.student)


def _clash(student: str, paths: list[Path]) -> Rejection:
    """The rejection of a student with two or more entries (``ana.py`` and ``ana/``, or
    ``ana pop.py`` and ``ana_pop.py``, which name the same id)."""
    names = [terminal_safe(p.name) for p in paths]
    return _reject(student, paths[0], names,
                   f"{' and '.join(names)} {'both' if len(names) == 2 else 'all'} name the student '{terminal_safe(student)}': "
                   "which one to grade is ambiguous",
                   "keep one entry per student (remove or rename the others) and run again; "
                   "the rest of the class is graded and kept")


#: the instructor's own notes beside the students' entries (README.md, readme.txt, ...): no
#: student is called that, so they are not taken for a student's rejected submission
_FOLDER_NOTES = frozenset({"readme", "license", "notes", "instructions"})


def _folder_note(child: Path) -> bool:
    return (child.is_file() and child.stem.lower() in _FOLDER_NOTES
            and child.suffix.lower() in {"", ".md", ".txt", ".rst", ".pdf"})


def _is_archive(name: str) -> bool:
    return any(name.lower().endswith(suffix) for suffix in _ARCHIVES)


def _bad_name(child: Path, why: str) -> Rejection:
    """The rejection of an entry whose name is no student id, under a safe stand-in id."""
    shown = terminal_safe(child.name)
    return Rejection(stand_in_id(child.name), child,
                     f"the name '{shown}' cannot be a student id: {why}; allowed: {ID_RULE}",
                     "rename the file or folder to the student's id (e.g. ana-popescu or "
                     "ștefan_țurcanu) and run again", (shown,))


def _read_guarded(student: str, path: Path) -> Submission | Rejection:
    """``read_submission``, where any failure becomes this student's rejection: one odd
    entry never stops the class."""
    try:
        return read_submission(student, path)
    except Exception as exc:  # noqa: BLE001 - one student's files must not stop the batch
        return Rejection(student, path, f"the grader could not read this submission "
                         f"({type(exc).__name__}: {exc})",
                         "check the files (names, permissions, encoding) and send them again; "
                         "if they look fine, report this to the course staff")
