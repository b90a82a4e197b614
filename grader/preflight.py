"""Pre-flight: every submission's imports checked against the course environment, before any run.

Each ``.py`` file is parsed with ``ast`` (never run): ``import x``, ``import x.y as z``,
``from x import y``, imports inside functions, ``if`` blocks and ``try`` blocks. Relative
imports and the student's own modules are fine, as is the standard library. What remains and
the environment cannot import is reported per student, with the distribution to declare
(``cv2`` -> ``opencv-python-headless``). ``[sandbox] preflight = "reject"`` turns such
submissions away before any run; ``"warn"`` (the default) only reports them. An import guarded
by ``try: ... except ImportError`` is reported but never rejects: the program copes without it.

An import the environment provides only because a declared package requires it (``import
scipy`` when the course lists scikit-learn alone) works today but is not the course's promise:
it is reported as a warning (never a rejection), naming the package that brings it, from the
installed distributions' metadata (``sandbox.environment.dependency_only_modules``).
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from diagnostics.source import decode_source_bytes
from diagnostics.text import terminal_safe
from sandbox._imports import KNOWN_DISTRIBUTIONS
from sandbox._requirements import DEFAULT_REQUIREMENTS, REQUIREMENTS_FILE
from sandbox.environment import (
    Environment,
    dependency_only_modules,
    distribution_for,
    importable_modules,
    local_modules,
)

MODES = ("warn", "reject")
_GUARDS = {"ImportError", "ModuleNotFoundError", "Exception", "BaseException"}


@dataclass(frozen=True)
class ImportUse:
    """One import statement's top-level module, where it is, and whether it is guarded."""

    module: str
    file: str
    line: int
    guarded: bool = False


@dataclass(frozen=True)
class MissingImport:
    module: str
    #: the distribution to add to environment/requirements.txt
    distribution: str
    file: str
    line: int
    guarded: bool = False


@dataclass(frozen=True)
class DependencyImport:
    """An import that works only because a declared package requires its distribution."""

    module: str
    #: the distribution providing ``module`` (to add to environment/requirements.txt)
    distribution: str
    #: the declared requirement that brings it into the environment
    required_by: str
    file: str
    line: int

    @property
    def text(self) -> str:
        return (f"{self.module} ({self.file}:{self.line}) works only because "
                f"{self.distribution} comes with {self.required_by}; add it to requirements")


@dataclass(frozen=True)
class StudentPreflight:
    """One student's result: the imports the environment lacks, those it provides only as
    a dependency of another package (warnings), and files not parsed."""

    student: str
    missing: tuple[MissingImport, ...] = ()
    unparsed: tuple[str, ...] = ()
    rejected: bool = False
    dependency_only: tuple[DependencyImport, ...] = ()

    @property
    def warning(self) -> str:
        """One line for the instructor about the dependency-only imports (``""``: none)."""
        return "; ".join(d.text for d in self.dependency_only)

    @property
    def message(self) -> str:
        """One line for the instructor (and the student, when rejected)."""
        if not self.missing:
            return ""
        parts = [f"{m.module} ({m.file}:{m.line}{', optional' if m.guarded else ''}; "
                 f"package {m.distribution}{_own_file_note(m.module)})" for m in self.missing]
        lead = "rejected before running: imports" if self.rejected else "imports"
        return (f"{lead} {', '.join(parts)}, not in the course environment; the instructor may "
                "add the package to environment/requirements.txt")


def _own_file_note(module: str) -> str:
    """For a module the grader knows no package of: it may be the student's own file or
    folder that did not come with the submission (``from nets import Net`` without nets/)."""
    if module in KNOWN_DISTRIBUTIONS or module in sys.stdlib_module_names:
        return ""
    return f", unless {module} is the student's own {module}.py or {module}/, not submitted"


@dataclass(frozen=True)
class PreflightReport:
    """Every student's pre-flight, as plain data for the store and the reports."""

    mode: str
    environment: str
    students: tuple[StudentPreflight, ...] = field(default_factory=tuple)
    #: the course has environment/requirements.txt (it replaces the default ML set)
    declared: bool = False

    @property
    def flagged(self) -> list[StudentPreflight]:
        """Students with something to report: missing or dependency-only imports."""
        return [s for s in self.students if s.missing or s.dependency_only]

    @property
    def rejected(self) -> dict[str, str]:
        """student -> reason, for the students turned away (``reject`` mode only)."""
        return {s.student: s.message for s in self.students if s.rejected}

    def summary(self) -> str:
        """The lines shown at the top of the batch output."""
        lacking = [s for s in self.students if s.missing]
        warned = [s for s in self.students if s.dependency_only]
        if not lacking and not warned:
            return f"pre-flight: every submission's imports are in {self.environment}"
        lines = []
        if lacking:
            missing = sorted({m.distribution for s in lacking for m in s.missing})
            lines.append(f"pre-flight ({self.mode}): {len(lacking)} submission(s) import "
                         f"packages {self.environment} lacks: {', '.join(missing)}")
            # a student's file names are in these: shown, never obeyed, by the terminal
            lines += [f"  {terminal_safe(s.student)}: {terminal_safe(s.message)}"
                      for s in lacking]
            lines += self._requirements_advice(lacking)
        if warned:
            pulled = sorted({d.distribution for s in warned for d in s.dependency_only})
            lines.append(f"pre-flight warning: {len(warned)} submission(s) import packages "
                         f"that {self.environment} has only as dependencies of listed ones: "
                         f"{', '.join(pulled)}")
            lines += [f"  {terminal_safe(s.student)}: {terminal_safe(s.warning)}"
                      for s in warned]
        return "\n".join(lines)

    def _requirements_advice(self, lacking: list[StudentPreflight]) -> list[str]:
        """How to add packages without losing the default ML set: a requirements.txt replaces
        it. An instructor who followed "add xgboost to environment/requirements.txt" to the
        letter got a file of one line, and every student's ``import pandas`` failed."""
        defaults = {canonicalize_name(Requirement(r).name): r for r in DEFAULT_REQUIREMENTS}
        missing = {m.distribution: m.module for s in lacking for m in s.missing}
        if self.declared:
            dropped = sorted({defaults[canonicalize_name(d)] for d in missing
                              if canonicalize_name(d) in defaults})
            if not dropped:
                return []
            return [f"note: {REQUIREMENTS_FILE} replaces the default ML set, it does not add to "
                    f"it; {len(dropped)} of the default set's packages are imported here but "
                    f"not listed: add {', '.join(dropped)} to it, then 'grader sandbox build'"]
        # packages the grader knows (an unknown name may be a student's own file left out)
        extra = sorted(d for d, module in missing.items() if module in KNOWN_DISTRIBUTIONS
                       and canonicalize_name(d) not in defaults)
        if not extra:
            return []
        return [f"to add {', '.join(extra)}: create {REQUIREMENTS_FILE} holding the default "
                "ML set and the new package(s), one per line (the file replaces the default "
                "set), then 'grader sandbox build':",
                *(f"    {r}" for r in (*DEFAULT_REQUIREMENTS, *extra))]

    def to_dict(self) -> dict:
        return asdict(self)


def _guarded(handlers: list[ast.ExceptHandler]) -> bool:
    for h in handlers:
        if h.type is None:
            return True
        names = h.type.elts if isinstance(h.type, ast.Tuple) else [h.type]
        if any(isinstance(n, ast.Name) and n.id in _GUARDS for n in names):
            return True
    return False


def imports_of(source: str, file: str = "main.py") -> list[ImportUse]:
    """The absolute imports of ``source`` (top-level module names), in order of lines.

    Raises
    ------
    SyntaxError
        If ``source`` is not valid Python.
    """
    found: list[ImportUse] = []
    # Imports are statements: only statements (and the handlers and cases holding them) are
    # walked, from an explicit stack, so a student's 2,000-term expression (legal Python,
    # deeper than the interpreter's recursion limit) cannot stop the batch's pre-flight.
    stack: list[tuple[ast.AST, bool]] = [(ast.parse(source, filename=file), False)]
    while stack:
        node, guarded = stack.pop()
        if isinstance(node, ast.Import):
            found.extend(ImportUse(a.name.split(".")[0], file, node.lineno, guarded)
                         for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append(ImportUse(node.module.split(".")[0], file, node.lineno, guarded))
        if isinstance(node, ast.Try | ast.TryStar):
            inner = guarded or _guarded(node.handlers)
            stack += [(child, inner) for child in node.body]
            stack += [(child, guarded) for child in
                      [*node.handlers, *node.orelse, *node.finalbody]]
            continue
        stack += [(child, guarded) for child in ast.iter_child_nodes(node)
                  if isinstance(child, ast.stmt | ast.excepthandler | ast.match_case)]
    return sorted(found, key=lambda u: u.line)


def check_student(student: str, files: dict[str, str], modules: Iterable[str],
                  top_level: dict[str, list[str]] | None = None, *, mode: str = "warn",
                  dependency_only: Mapping[str, tuple[str, str]] | None = None,
                  ) -> StudentPreflight:
    """One student's pre-flight from their files (relative path -> source text).

    ``dependency_only`` maps a module the environment has only as a dependency to ``(its
    distribution, the declared package requiring it)``: importing it is a warning.
    """
    own = local_modules(Path("."), files)
    available = set(modules) | own | {"__future__"}
    pulled = dependency_only or {}
    missing: list[MissingImport] = []
    warned: list[DependencyImport] = []
    warned_seen: set[str] = set()
    unparsed: list[str] = []
    seen: set[tuple[str, bool]] = set()
    for rel in sorted(files):
        try:
            uses = imports_of(files[rel], rel)
        except (SyntaxError, ValueError) as exc:
            unparsed.append(f"{rel}: {type(exc).__name__} on line {getattr(exc, 'lineno', '?')}")
            continue
        except (RecursionError, MemoryError) as exc:  # nested deeper than the parser goes
            unparsed.append(f"{rel}: {type(exc).__name__} (nested too deeply to read)")
            continue
        for use in uses:
            if use.module in pulled and use.module not in own and use.module not in warned_seen:
                warned_seen.add(use.module)
                warned.append(DependencyImport(use.module, *pulled[use.module], use.file,
                                               use.line))
            if use.module in available or (use.module, use.guarded) in seen:
                continue
            seen.add((use.module, use.guarded))
            missing.append(MissingImport(use.module, distribution_for(use.module, top_level),
                                         use.file, use.line, use.guarded))
    rejected = mode == "reject" and any(not m.guarded for m in missing)
    return StudentPreflight(student, tuple(missing), tuple(unparsed), rejected, tuple(warned))


def run_preflight(submissions: Iterable, env: Environment, *,
                  mode: str = "warn") -> PreflightReport:
    """Check every submission (``grader.intake.Submission``) against ``env``.

    When ``env`` is not built, the grader's own interpreter is what runs students' code, so
    its modules are the ones checked.
    """
    if mode not in MODES:
        raise ValueError(f"preflight mode must be one of {MODES}, not {mode!r}")
    modules = env.modules if env.built else importable_modules(sys.executable)
    top_level = env.top_level if env.built else None
    pulled = dependency_only_modules(env)  # {} when not built: no list of the course's
    where = (f"the course environment ({env.source})" if env.built
             else "the grader's own environment (no course environment built)")
    results = []
    for sub in submissions:
        files = {}
        for rel in sub.files:
            if rel.endswith(".py"):
                files[rel] = decode_source_bytes((Path(sub.code_dir) / rel).read_bytes(),
                                                 errors="replace")
        results.append(check_student(sub.student, files, modules, top_level, mode=mode,
                                     dependency_only=pulled))
    return PreflightReport(mode, where, tuple(results), declared=env.declared)
