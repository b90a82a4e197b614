"""``course.toml`` and the course folder → a frozen, validated :class:`Course`.

Every key of DESIGN.md is accepted with a documented default; unknown keys, wrong types and
inconsistent data files are reported all at once, each problem on a line naming the file
(and line, where there is one) and what to write instead.
"""

from __future__ import annotations

import csv
import difflib
import hashlib
import json
import re
import sys
import tomllib
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from grader.course_tables import (
    EXCEL_ERRORS,
    header_problems,
    is_empty_row,
    is_number,
    number_problems,
    row_problems,
    thousands_hint,
)
from grader.course_toml import toml_error
from grader.errors import CourseError
from grader.ops.final_grades import FINAL_KEYS_HINT, final_rules_problems
from grader.ops.tables import mac_export
from sandbox.limits import Limits

METRICS = ("accuracy", "macro_f1", "mse", "mae", "kendall_tau", "roc_auc")
#: the metrics of a regression course: its labels are numbers
REGRESSION_METRICS = ("mse", "mae", "kendall_tau")
POLICIES = ("rank_bands", "accuracy_scaled")
BACKENDS = ("auto", "docker", "bwrap", "none")
MODALITIES = ("auto", "tabular", "images", "text")
PREFLIGHT_MODES = ("warn", "reject")
INTEGRITY_SCOPES = ("both", "named")
INTEGRITY_WORDS = ("zero", "none")

#: The course's table (slides, "Sistem de notare"): (first place of the band, max grade).
#: Places 1-30 → 10, 31-50 → 9, 51-90 → 8, 91-120 → 7, 121-150 → 6, 151 and later → 5.
DEFAULT_BANDS: tuple[tuple[int, float], ...] = (
    (1, 10.0), (31, 9.0), (51, 8.0), (91, 7.0), (121, 6.0), (151, 5.0),
)


@dataclass(frozen=True)
class CompetitionConfig:
    name: str
    metric: str = "accuracy"
    public_fraction: float = 0.3
    seed: int = 0
    modality: str = "auto"


@dataclass(frozen=True)
class GradingConfig:
    policy: str = "rank_bands"
    #: a number, or the name of a reference model whose score is the baseline
    baseline: float | str = "majority"
    bands: tuple[tuple[int, float], ...] = DEFAULT_BANDS
    #: the class size the band table is written for; other sizes scale the limits
    scale_bands_to: int = 150
    #: sizes within this fraction of ``scale_bands_to`` keep the table as written
    scale_tolerance: float = 0.2
    #: the grade of a valid run that does not beat the baseline
    below_baseline_grade: float = 4.0
    #: ``accuracy_scaled``: the score that earns the maximum (a number or a reference model)
    optimum: float | str | None = None
    max_grade: float = 10.0
    min_grade: float = 1.0
    #: most points the presentation/documentation deductions may take (slides: 2)
    max_deduction: float = 2.0


@dataclass(frozen=True)
class SandboxConfig:
    backend: str = "auto"
    image: str = ""
    python: str = ""
    # the defaults are the sandbox's own (one place: sandbox.limits.Limits)
    time_limit_s: float = Limits.time_s
    memory_mb: int = Limits.memory_mb
    cpus: float = Limits.cpus
    gpus: int = Limits.gpus
    output_limit_mb: int = Limits.output_mb
    processes: int = Limits.processes
    log_kb: int = Limits.log_kb
    #: imports the course environment lacks: "warn" (report them) or "reject" (never run)
    preflight: str = "warn"

    def limits(self) -> Limits:
        return Limits(
            time_s=self.time_limit_s, memory_mb=self.memory_mb, cpus=self.cpus, gpus=self.gpus,
            output_mb=self.output_limit_mb, log_kb=self.log_kb, processes=self.processes,
        )


@dataclass(frozen=True)
class SimilarityConfig:
    threshold: float | None = None
    template: str = ""
    archive: str = ""
    web: str = ""
    enabled: bool = True


@dataclass(frozen=True)
class ReportsConfig:
    #: show students their private score (after the competition closes)
    release_private: bool = False
    #: show students the similarity findings about them
    release_similarity: bool = False


@dataclass(frozen=True)
class IntegrityConfig:
    """What a TA's confirmed similarity finding does to the project grade."""

    #: "zero" (the project grade becomes 0), "none" (recorded, grade kept) or points deducted
    confirmed: float | str = "zero"
    #: "both" students of a confirmed pair, or only those the TA "named" in the decision
    applies_to: str = "both"


@dataclass(frozen=True)
class Course:
    """A validated course folder. Paths are absolute."""

    root: Path
    competition: CompetitionConfig
    grading: GradingConfig = field(default_factory=GradingConfig)
    sandbox: SandboxConfig = field(default_factory=SandboxConfig)
    similarity: SimilarityConfig = field(default_factory=SimilarityConfig)
    reports: ReportsConfig = field(default_factory=ReportsConfig)
    integrity: IntegrityConfig = field(default_factory=IntegrityConfig)
    #: tables passed through untouched for other parts (e.g. ``[final]``, ``[reproduction]``)
    extra: dict[str, Any] = field(default_factory=dict)
    config_hash: str = ""
    data_hash: str = ""

    @property
    def name(self) -> str:
        return self.competition.name

    @property
    def metric(self) -> str:
        return self.competition.metric

    @property
    def seed(self) -> int:
        return self.competition.seed

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    @property
    def hidden_dir(self) -> Path:
        return self.root / "hidden"

    @property
    def task(self) -> str:
        return "regression" if self.metric in REGRESSION_METRICS else "classification"

    def optional_dir(self, value: str, default: str) -> Path | None:
        """A corpus folder from ``[similarity]`` (relative to the course) or its default."""
        path = (self.root / (value or default)).resolve()
        return path if path.exists() else None

    def describe(self) -> dict[str, Any]:
        d = {k: asdict(v) for k, v in (
            ("competition", self.competition), ("grading", self.grading),
            ("sandbox", self.sandbox), ("similarity", self.similarity), ("reports", self.reports),
            ("integrity", self.integrity),
        )}
        d.update(self.extra)
        return d


# --- schema -------------------------------------------------------------------------------

_SECTIONS: dict[str, type] = {
    "competition": CompetitionConfig,
    "grading": GradingConfig,
    "sandbox": SandboxConfig,
    "similarity": SimilarityConfig,
    "reports": ReportsConfig,
    "integrity": IntegrityConfig,
}
#: tables owned by other parts of gradebox, validated there
_PASS_THROUGH = ("final", "reproduction", "reference")
#: pass-through tables checked here too, so their mistakes show at the first run, beside the
#: rest of course.toml's (not weeks later at the command that reads them)
_PASS_THROUGH_CHECKS = {"final": lambda table, text: final_rules_problems(table, text)[1],
                        "reproduction": lambda table, text: _reproduction_problems(table, text)}


def _reproduction_problems(table: Any, text: str) -> list[str]:
    from grader.ops.reproduction import reproduction_options  # pandas: only when the table is

    return reproduction_options(table, text)[1]

_CHOICES = {
    ("competition", "metric"): METRICS,
    ("competition", "modality"): MODALITIES,
    ("grading", "policy"): POLICIES,
    ("sandbox", "backend"): BACKENDS,
    ("sandbox", "preflight"): PREFLIGHT_MODES,
    ("integrity", "applies_to"): INTEGRITY_SCOPES,
}
_EXAMPLES = {
    "memory_mb": "a whole number of megabytes, e.g. 8192",
    "time_limit_s": "a number of seconds, e.g. 1800",
    "cpus": "a number of cores, e.g. 2",
    "gpus": "a whole number of GPUs per run, e.g. 1",
    "output_limit_mb": "a whole number of megabytes, e.g. 64",
    "public_fraction": "a fraction between 0 and 1, e.g. 0.3",
    "seed": "a whole number, e.g. 42",
    "scale_bands_to": "a whole number of participants, e.g. 150",
    "baseline": 'a number (e.g. 0.85) or a reference model name (e.g. "majority")',
    "optimum": 'a number (e.g. 0.98) or a reference model name (e.g. "best")',
    "bands": "a list of [first_place, max_grade] pairs, e.g. [[1, 10], [31, 9], [51, 8]]",
    "threshold": "a score between 0 and 1, e.g. 0.6",
    "confirmed": '"zero", "none" or a number of points deducted, e.g. 3',
}


def _line_of(text: str, section: str, key: str | None) -> int | None:
    """The line of ``key`` in ``[section]`` (or of the section header), for error messages."""
    in_section = False
    for i, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if stripped.startswith("["):
            in_section = stripped.strip("[] ") == section
            if in_section and key is None:
                return i
            continue
        if in_section and key and re.match(rf"{re.escape(key)}\s*=", stripped):
            return i
    return None


def _check_type(section: str, key: str, value: Any, default: Any) -> str | None:
    """Why ``value`` does not fit the field whose default is ``default``, or None."""
    expected = _EXAMPLES.get(key)
    if key in ("baseline", "optimum"):
        ok = isinstance(value, str) or (isinstance(value, int | float) and not isinstance(value, bool))
        return None if ok else f"expected {expected}"
    if key == "confirmed":
        ok = value in INTEGRITY_WORDS or (isinstance(value, int | float)
                                          and not isinstance(value, bool) and value >= 0)
        return None if ok else f"expected {expected}"
    if key == "threshold":
        ok = isinstance(value, int | float) and not isinstance(value, bool) and 0 <= value <= 1
        return None if ok else f"expected {expected}"
    if key == "bands":
        ok = (isinstance(value, list) and value and all(
            isinstance(b, list) and len(b) == 2 and all(isinstance(x, int | float) for x in b)
            for b in value))
        if not ok:
            return f"expected {expected}"
        firsts = [b[0] for b in value]
        if firsts[0] != 1:
            return (f"the first band must start at place 1, not {firsts[0]}, e.g. "
                    "[[1, 10], [31, 9]]")
        for before, band in zip(value, value[1:]):
            if band[0] <= before[0]:
                return (f"the first places must increase: {band} starts at or before "
                        f"{before}, e.g. [[1, 10], [31, 9]]")
            if band[1] > before[1]:
                return (f"a later band cannot give a higher grade: {band} follows {before} "
                        "(better places must not get lower grades)")
        return None
    if isinstance(default, bool):
        return None if isinstance(value, bool) else "expected true or false"
    if isinstance(default, int):
        ok = isinstance(value, int) and not isinstance(value, bool) and value >= 0
        # 2.048 (three decimals, as a thousands separator leaves): meant 2048
        three = isinstance(value, float) and value > 0 and abs(
            value * 1000 - round(value * 1000)) < 1e-6 and abs(
            value * 100 - round(value * 100)) > 1e-6
        return None if ok else f"expected {expected or 'a whole number'}" + (
            thousands_hint(f"{value:.3f}") if three else "")
    if isinstance(default, float):
        ok = isinstance(value, int | float) and not isinstance(value, bool) and value >= 0
        return None if ok else f"expected {expected or 'a number'}"
    if isinstance(default, str):
        return None if isinstance(value, str) else "expected a string in quotes"
    return None


def _parse_section(name: str, table: Any, text: str, problems: list[str]) -> dict[str, Any]:
    cls = _SECTIONS[name]
    fields = cls.__dataclass_fields__
    out: dict[str, Any] = {}
    if not isinstance(table, dict):
        problems.append(f"course.toml:{_line_of(text, name, None) or '?'}  [{name}] must be a table")
        return out
    for key, value in table.items():
        where = f"course.toml:{_line_of(text, name, key) or '?'}"
        shown = f"[{name}] {key} = {json.dumps(value, ensure_ascii=False)}"
        if key not in fields:
            close = difflib.get_close_matches(key, fields, n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            problems.append(f"{where}  {shown}\n    unknown key{hint}; known: {', '.join(fields)}")
            continue
        default = fields[key].default
        if default is fields[key].default_factory or name == "competition" and key == "name":
            default = ""
        choices = _CHOICES.get((name, key))
        if choices is not None:
            if value not in choices:
                close = difflib.get_close_matches(str(value), choices, n=1)
                hint = f' (did you mean "{close[0]}"?)' if close else ""
                options = " or ".join(f'"{c}"' for c in choices)
                problems.append(f"{where}  {shown}\n    expected {options}{hint}")
                continue
        else:
            why = _check_type(name, key, value, default)
            if why:
                problems.append(f"{where}  {shown}\n    {why}")
                continue
        if key == "bands":
            value = tuple((int(a), float(b)) for a, b in value)
        out[key] = value
    return out


def hash_tree(folder: Path) -> str:
    """Content hash of every file under ``folder`` (names and bytes), in a fixed order."""
    h = hashlib.blake2b(digest_size=16)
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        h.update(str(path.relative_to(folder)).encode() + b"\0")
        with path.open("rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
    return h.hexdigest()


def read_id_column(path: Path, *, need_label: bool, course_file: str,
                   duplicates: list[str] | None = None, problems: list[str] | None = None,
                   numeric_labels: str | None = None) -> tuple[list[str], list[str]]:
    """The ids (and labels) of a course CSV, checking header and duplicates (an error, or
    appended to ``duplicates`` when given, so a caller can report them with other problems).

    A row of empty cells is skipped. With ``problems``, the spreadsheet mistakes students'
    programs would trip on are appended to it (``grader.course_tables``): unnamed columns,
    names with spaces around them, empty rows, and with ``numeric_labels`` (the regression
    metric) labels that are not numbers."""
    try:
        # utf-8-sig: spreadsheets ("CSV UTF-8") start the file with a byte-order mark
        with path.open(newline="", encoding="utf-8-sig") as f:
            reader = csv.reader(f)
            header = next(reader, None)
            if not header or header[0].strip() != "id":
                other = next((sep for sep in ";\t|" if header and sep in header[0]), None)
                if header and header[0].strip() in ("", "Unnamed: 0") and len(header) > 1 \
                        and header[1].strip() == "id":
                    raise CourseError(
                        f"{course_file} starts with a column before 'id'",
                        problems=[f"{course_file}:1  found {header[:4]!r}"],
                        hint="its first column is the row index pandas writes unless told "
                             "index=False: delete the column (or write the file again with "
                             "to_csv(path, index=False))")
                raise CourseError(
                    f"{course_file} must start with a header whose first column is 'id'",
                    problems=[f"{course_file}:1  found {header!r}"],
                    hint=(f"the file is separated by {other!r}, not commas (a spreadsheet "
                          "export; a Romanian or German Excel writes ';' in every CSV "
                          "format): convert it with " + _convert_command(path)
                          if other else
                          ("write the header line, e.g. 'id,label,...'" if need_label
                           else "write the header line, e.g. 'id,feature_1,...' (the ids and "
                                "the features only: the labels belong in "
                                "hidden/test_labels.csv)")),
                )
            label_col = None
            if need_label:
                if "label" not in [h.strip() for h in header]:
                    raise CourseError(
                        f"{course_file} has no 'label' column",
                        problems=[f"{course_file}:1  header {header!r}"],
                        hint=_label_hint(course_file, header),
                    )
                label_col = [h.strip() for h in header].index("label")
            ids, labels, seen, dups = [], [], set(), []
            empty: list[int] = []
            bad_labels: list[tuple[int, str, str]] = []
            for lineno, row in enumerate(reader, 2):
                if not row:
                    continue
                if is_empty_row(row):
                    empty.append(lineno)
                    continue
                rid = row[0].strip()
                if rid in seen:
                    dups.append(f"{course_file}:{lineno}  id {rid!r} appears again")
                seen.add(rid)
                ids.append(rid)
                if label_col is not None:
                    label = row[label_col].strip() if label_col < len(row) else ""
                    labels.append(label)
                    if numeric_labels and not is_number(label) or label in EXCEL_ERRORS:
                        bad_labels.append((lineno, rid, label))
            if problems is not None:
                problems += header_problems(header, course_file)
                problems += row_problems(course_file, empty, bad_labels, numeric_labels)
    except UnicodeDecodeError as exc:
        message, fix = _not_utf8(path, course_file, exc)
        raise CourseError(message, hint=fix) from None
    if dups and duplicates is not None:
        duplicates += dups[:10]
    elif dups:
        raise CourseError(f"{course_file} has {len(dups)} duplicate id(s)", problems=dups[:10],
                          hint="every id must appear exactly once")
    return ids, labels


def _convert_command(path: Path, encoding: str = "utf-8-sig") -> str:
    """A command that writes ``path`` again as the comma-separated UTF-8 CSV the course
    needs, beside it (``train.converted.csv``: the original is never overwritten, and a
    second run reads the original again), then says to move it in place. The separator is
    read from the header line; beside ``;`` or a tab, a comma between digits is a decimal
    comma (a Romanian Excel), and ``2.529,33`` groups thousands with '.'; a file with decimal
    points keeps them. This interpreter's pandas, ids kept as text."""
    text = path.read_bytes()[:65536].decode(encoding, "replace")
    header = text.splitlines()[0] if text else ""
    sep = max((";", "\t", ",", "|"), key=header.count)
    read = f"sep={sep!r}, encoding={encoding!r}"
    if sep != "," and re.search(r"\d,\d", text):  # decimal commas (a comma separates nothing)
        read += ", decimal=','"
        if re.search(r"\d\.\d{3},\d", text):  # 2.529,33: a '.' groups thousands
            read += ", thousands='.'"
    new = path.with_name(f"{path.stem}.converted.csv")
    return (f"{sys.executable} -c \"import pandas as pd; pd.read_csv({str(path)!r}, {read}, "
            f"dtype={{'id': str}}).to_csv({str(new)!r}, index=False)\", check "
            f"{new.name}, then move it over {path.name} (mv {str(new)!r} {str(path)!r})")


def _not_utf8(path: Path, course_file: str, exc: UnicodeDecodeError) -> tuple[str, str]:
    """The message and the fix for a course CSV that is not UTF-8: Excel's "Unicode Text"
    (UTF-16, tab-separated) or a Windows code page, each with the command that converts it."""
    raw = path.read_bytes()
    line = raw[: exc.start].count(b"\n") + 1
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return (f"{course_file} is UTF-16 text (Excel's 'Unicode Text'), not UTF-8",
                "convert it with " + _convert_command(path, "utf-16"))
    if mac_export(raw):  # lines ended by a lone CR: Excel for Mac's "Comma Separated Values"
        line = raw[: exc.start].count(b"\r") + 1
        return (f"{course_file} is not UTF-8 text (line {line}: {exc.reason}; Excel for Mac's "
                "'Comma Separated Values', in Mac Roman?)", "save it as 'CSV UTF-8', or "
                "convert it with " + _convert_command(path, "mac_roman"))
    return (f"{course_file} is not UTF-8 text (line {line}: {exc.reason}; a Windows code page "
            "such as cp1250?)", "save it as UTF-8 CSV, or convert it with "
            + _convert_command(path, "cp1250"))


#: column names instructors use for the label (case-insensitive), renamed by the hint
_LABEL_LOOKALIKES = ("label", "labels", "target", "class", "y", "category", "digit")


def _label_hint(course_file: str, header: list[str]) -> str:
    """The fix for a course CSV without a 'label' column, naming a likely column to rename."""
    likely = [h for h in header if h.strip().lower() in _LABEL_LOOKALIKES]
    rename = f"rename the column {likely[0].strip()!r} to 'label'; " if likely else ""
    if course_file.startswith("hidden/"):
        return rename + "the hidden labels file must have the header 'id,label'"
    return (rename + f"{course_file} needs the header 'id,label,...' with each example's label "
            "in the 'label' column")


def _toml_text(path: Path) -> str:
    """course.toml as text: UTF-8, with or without Notepad's byte-order mark (tomllib
    refused the invisible mark as 'Invalid statement at line 1'). Another encoding is an
    error naming the line: read with replacement characters, a cp1250 course name was
    shown garbled on every page."""
    data = path.read_bytes()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise CourseError(f"course.toml is not UTF-8 text (line {line})",
                          problems=[f"course.toml:{line}  "
                                    f"{data.splitlines()[line - 1].decode('utf-8', 'replace')}"],
                          hint="save course.toml as UTF-8 (in Notepad: Save as, Encoding "
                               "UTF-8); its names and texts are shown on every page") from None


def load_course(path: str | Path) -> Course:
    """Load and validate a course folder (``course.toml``, ``data/``, ``hidden/``).

    Raises
    ------
    CourseError
        Listing every problem found, each naming the file and the fix.
    """
    root = Path(path).resolve()
    toml_path = root / "course.toml"
    if not root.is_dir():
        raise CourseError(f"course folder {root} does not exist",
                          hint="pass the folder that holds course.toml, data/ and hidden/")
    if not toml_path.is_file():
        raise CourseError(f"{toml_path} not found",
                          hint="every course folder needs a course.toml with at least "
                               '[competition] name = "..."; see README.md, section "course.toml"')
    text = _toml_text(toml_path)
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise toml_error(exc, text) from None

    problems: list[str] = []
    parsed: dict[str, dict[str, Any]] = {}
    extra: dict[str, Any] = {}
    for section, table in raw.items():
        if section in _SECTIONS:
            parsed[section] = _parse_section(section, table, text, problems)
        elif section in _PASS_THROUGH:
            if section in _PASS_THROUGH_CHECKS:
                problems += _PASS_THROUGH_CHECKS[section](table, text)
            extra[section] = table
        else:
            close = difflib.get_close_matches(section, [*_SECTIONS, *_PASS_THROUGH], n=1)
            hint = f" (did you mean [{close[0]}]?)" if close else ""
            problems.append(f"course.toml:{_line_of(text, section, None) or '?'}  [{section}]\n"
                            f"    unknown table{hint}")
    comp = parsed.get("competition", {})
    if not comp.get("name"):
        problems.append('course.toml  [competition] name is missing\n'
                        '    add e.g. name = "digits-2026" under [competition]')
    frac = comp.get("public_fraction", 0.3)
    if not 0 < frac < 1:
        problems.append(f"course.toml:{_line_of(text, 'competition', 'public_fraction') or '?'}  "
                        f"[competition] public_fraction = {frac}\n    expected a fraction strictly "
                        "between 0 and 1, e.g. 0.3")
    grading = parsed.get("grading", {})
    if grading.get("policy") == "accuracy_scaled" and grading.get("optimum") is None:
        problems.append("course.toml  [grading] policy = \"accuracy_scaled\" needs an optimum\n"
                        '    add optimum = 0.98 (a score) or optimum = "best" (the best reference model)')
    if problems:
        hint = 'every key and its default is listed in README.md, section "course.toml"'
        if any("  [final] " in p for p in problems):
            hint += f"; {FINAL_KEYS_HINT}"
        raise CourseError(f"course.toml has {len(problems)} problem(s)", problems=problems,
                          hint=hint)

    _check_data(root, comp.get("metric", "accuracy"))
    course = Course(
        root=root,
        competition=CompetitionConfig(**comp),
        grading=GradingConfig(**grading),
        sandbox=SandboxConfig(**parsed.get("sandbox", {})),
        similarity=SimilarityConfig(**parsed.get("similarity", {})),
        reports=ReportsConfig(**parsed.get("reports", {})),
        integrity=IntegrityConfig(**parsed.get("integrity", {})),
        extra=extra,
    )
    config_hash = hashlib.blake2b(
        json.dumps(course.describe(), sort_keys=True, default=str).encode(), digest_size=16
    ).hexdigest()
    object.__setattr__(course, "config_hash", config_hash)
    object.__setattr__(course, "data_hash", hash_tree(root / "data"))
    return course


#: test.csv columns that hold answers, whatever their case: every submission reads test.csv
_ANSWER_COLUMNS = frozenset({"label", "labels", "target", "y", "class"})


def _check_no_answers(path: Path) -> None:
    """data/test.csv must not carry the answers: every submission can read it."""
    with path.open(newline="", encoding="utf-8-sig") as f:
        header = next(csv.reader(f), None) or []
    leaked = [h for h in header if h.strip().lower() in _ANSWER_COLUMNS]
    if leaked:
        raise CourseError(
            f"data/test.csv has a {leaked[0].strip()!r} column: every submission can read it, "
            "so the test answers would be visible to students",
            problems=[f"data/test.csv:1  header {header[:8]!r}"],
            hint="remove the column from data/test.csv (ids and features only); the labels "
                 "belong in hidden/test_labels.csv")


def _check_data(root: Path, metric: str = "accuracy") -> None:
    """The data files exist, have ids, the test ids equal the hidden labels' ids, and no
    spreadsheet mistake waits for the students' programs (``grader.course_tables``)."""
    data, hidden = root / "data", root / "hidden"
    missing = [f"{p.relative_to(root)} is missing" for p in
               (data / "train.csv", data / "test.csv", hidden / "test_labels.csv") if not p.is_file()]
    if missing:
        raise CourseError(
            f"course folder {root} is incomplete", problems=missing,
            hint="a course needs data/train.csv (id,label,...), data/test.csv (id,...) and "
                 "hidden/test_labels.csv (id,label)")
    # every problem of the three files at once: a fix must not reveal the next one
    errors: list[CourseError] = []
    dups: list[str] = []
    sheet: list[str] = []  # spreadsheet mistakes
    numeric = metric if metric in REGRESSION_METRICS else None

    def ids_of(path: Path, need_label: bool, name: str) -> tuple[list[str], list[str]] | None:
        try:
            return read_id_column(path, need_label=need_label, course_file=name,
                                  duplicates=dups, problems=sheet, numeric_labels=numeric)
        except CourseError as exc:
            errors.append(exc)
            return None

    train = ids_of(data / "train.csv", True, "data/train.csv")
    test = ids_of(data / "test.csv", False, "data/test.csv")
    hidden_read = ids_of(hidden / "test_labels.csv", True, "hidden/test_labels.csv")
    for read, path, name in ((train, data / "train.csv", "data/train.csv"),
                             (test, data / "test.csv", "data/test.csv")):
        if read is not None:
            sheet += number_problems(path, name, skip={"id", "label"})
    if sheet:
        errors.append(CourseError(
            f"the course's CSV files have {len(sheet)} spreadsheet mistake(s) that students' "
            "programs would trip on", problems=sheet,
            hint="fix each file as said and run again"))
    if test is not None and not test[0]:
        errors.append(CourseError("data/test.csv has no rows",
                                  hint="add one row per test example"))
    if test is not None:
        try:
            _check_no_answers(data / "test.csv")
        except CourseError as exc:
            errors.append(exc)
    if dups:
        files = sorted({d.split(":")[0] for d in dups})
        errors.append(CourseError(f"{' and '.join(files)} "
                                  f"{'has' if len(files) == 1 else 'have'} duplicate id(s)",
                                  problems=dups, hint="every id must appear exactly once"))
    if test is not None and hidden_read is not None:
        test_ids, (hidden_ids, labels) = test[0], hidden_read
        only_test = sorted(set(test_ids) - set(hidden_ids))
        only_hidden = sorted(set(hidden_ids) - set(test_ids))
        if only_test or only_hidden:
            problems = []
            if only_test:
                problems.append(f"data/test.csv has {len(only_test)} id(s) with no hidden "
                                "label, e.g. " + ", ".join(map(repr, only_test[:5])))
            if only_hidden:
                problems.append(f"hidden/test_labels.csv has {len(only_hidden)} id(s) not in "
                                "data/test.csv, e.g. " + ", ".join(map(repr, only_hidden[:5])))
            errors.append(CourseError(
                "the test ids of data/test.csv and hidden/test_labels.csv differ",
                problems=problems, hint="both files must list exactly the same ids"))
        empty = [i for i, lab in zip(hidden_ids, labels, strict=True) if lab == ""]
        if empty:
            errors.append(CourseError(f"hidden/test_labels.csv has {len(empty)} empty "
                                      f"label(s), e.g. id {empty[0]!r}",
                                      hint="every test id needs its label"))
    if len(errors) == 1:
        raise errors[0]
    if errors:
        raise CourseError(
            f"the course's data files have {len(errors)} problems",
            problems=[line for e in errors for line in (
                e.message, *(f"  {p}" for p in e.problems),
                *([f"  fix: {e.hint}"] if e.hint else []))])


