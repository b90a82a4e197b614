"""A tiny course and stdlib-only submissions, so real sandboxed batches take seconds."""

from __future__ import annotations

import csv
import hashlib
from pathlib import Path

N_TEST = 40

HONEST = '''
import csv, os
rows = list(csv.reader(open(os.path.join(os.environ["GRADER_DATA"], "test.csv"))))[1:]
with open(os.path.join(os.environ["GRADER_OUTPUT"], "submission.csv"), "w") as f:
    f.write("id,label\\n")
    for rid, x in rows:
        f.write(f"{rid},{'big' if float(x) > THRESHOLD else 'small'}\\n")
'''


def honest(threshold: float) -> str:
    return HONEST.replace("THRESHOLD", repr(threshold))


def make_course(root: Path, *, backend: str = "bwrap", time_limit_s: float = 20,
                memory_mb: int = 256, extra: str = "") -> Path:
    (root / "data").mkdir(parents=True)
    (root / "hidden").mkdir()
    (root / "course.toml").write_text(
        f'[competition]\nname = "tiny"\nseed = 1\n[grading]\nbaseline = 0.5\n'
        f'[sandbox]\nbackend = "{backend}"\ntime_limit_s = {time_limit_s}\n'
        f'memory_mb = {memory_mb}\ncpus = 1\noutput_limit_mb = 1\n' + extra)
    with (root / "data" / "train.csv").open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["id", "label", "x"])
        for i in range(30):
            x = i / 30
            w.writerow([f"tr{i}", "big" if x > 0.5 else "small", f"{x:.3f}"])
    xs = [(i * 7 % N_TEST) / N_TEST for i in range(N_TEST)]
    with (root / "data" / "test.csv").open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["id", "x"])
        w.writerows([f"t{i}", f"{x:.3f}"] for i, x in enumerate(xs))
    with (root / "hidden" / "test_labels.csv").open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["id", "label"])
        w.writerows([f"t{i}", "big" if x > 0.5 else "small"] for i, x in enumerate(xs))
    return root


def write_submissions(folder: Path, programs: dict[str, str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, source in programs.items():
        if name.endswith(".ipynb"):
            (folder / name).write_text(source)
        else:
            (folder / f"{name}.py").write_text(source)
    return folder


def read_grades(out: Path) -> dict[str, dict[str, str]]:
    with (out / "grades.csv").open() as f:
        return {r["student"]: r for r in csv.DictReader(f)}


def tree_digest(root: Path) -> str:
    h = hashlib.sha256()
    for p in sorted(root.rglob("*")):
        h.update(str(p.relative_to(root)).encode())
        if p.is_file():
            h.update(p.read_bytes())
    return h.hexdigest()
