"""A synthetic batch folder filled through the ``Store`` API, for tests and benchmarks.

Real SQLite, real code files; every status, a reference table with a baseline, peer and web
pairs with fragments, clusters and a reproduction flag. Hostile text (``<script>`` in a log, a
file named with HTML) is included on purpose. Deterministic for a given ``seed``.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

HOSTILE_LOG = '<script>alert("pwned")</script><img src=x onerror=alert(1)>'
HOSTILE_FILE = "<img src=x onerror=alert(2)>.py"
CLASSES = ["cat", "dog", "<b>bird</b>"]


def student_name(i: int) -> str:
    """Fixed-width names, none a substring of another."""
    return f"st{i:04d}x"


def _code(name: str, i: int, copy_of: str | None = None) -> str:
    body = [f"# solution of {copy_of or name}: marker-{copy_of or name}",
            "import os", "import numpy as np", "",
            "DATA = os.environ['GRADER_DATA']", "OUT = os.environ['GRADER_OUTPUT']", ""]
    for k in range(30):
        body.append(f"def step_{k}(x):\n    '''step {k} of {copy_of or name}'''\n"
                    f"    return x * {k + i % 7} + {k}")
    body.append("print('<script>not from the report</script>')")
    return "\n".join(body) + "\n"


def make_batch(out_dir: Path, *, students: int = 24, pairs: int = 8, seed: int = 0,
               release_private: bool = False, release_similarity: bool = False
               ) -> dict[str, Any]:
    """Fill ``out_dir/grading.db`` (and code under ``out_dir/../submissions``).

    Returns a dict with the names used: ``students``, ``ok``, ``failed`` (status → name),
    ``hostile`` (the student whose log and file name carry HTML), ``pair`` (a flagged peer
    pair with fragments), ``web_pair``.
    """
    import numpy as np

    from grader.store import Store

    rng = np.random.default_rng(seed)
    out_dir = Path(out_dir)
    root = out_dir.parent
    subs_dir, course = root / "submissions", root / "course"
    (course / "web").mkdir(parents=True, exist_ok=True)
    subs_dir.mkdir(parents=True, exist_ok=True)
    (course / "web" / "tutorial.py").write_text(_code("tutorial", 3, "web-tutorial"))
    names = [student_name(i) for i in range(1, students + 1)]
    failed = {"error": names[-1], "timeout": names[-2], "memory": names[-3],
              "invalid_output": names[-4], "rejected": names[-5]}
    status_of = {v: k for k, v in failed.items()}
    hostile = failed["error"]
    copy_of = {names[1]: names[0]}  # names[1] copied names[0]
    sub_rows, runs, scores = [], [], []
    now = time.time()
    # distinct scores: no two students (or reference models) print the same 4 decimals
    ranks_scores = np.sort(rng.choice(np.arange(3000, 9900), size=students, replace=False))[::-1]
    for i, name in enumerate(names):
        status = status_of.get(name, "ok")
        folder = subs_dir / name
        folder.mkdir(exist_ok=True)
        files = ["main.py"]
        (folder / "main.py").write_text(_code(name, i, copy_of.get(name)))
        if name == hostile:
            files.append(HOSTILE_FILE)
            (folder / HOSTILE_FILE).write_text("x = 1\n")
        accepted = status != "rejected"
        sub_rows.append(dict(student=name, path=str(folder), entry="main.py" if accepted else None,
                             files=files if accepted else ["notebook.ipynb"],
                             content_hash=f"h{i}", accepted=accepted,
                             reason=None if accepted else "only .py files are accepted",
                             hint=None if accepted else "save the notebook as main.py"))
        if not accepted:
            scores.append(dict(student=name, status="rejected", message="only .py files",
                               public_score=None, private_score=None, details={}))
            continue
        wall = float(np.round(rng.uniform(1, 60), 2))
        msg = {"error": f"exited with code 1: {HOSTILE_LOG}", "timeout": "stopped after 40 s",
               "memory": "killed: over the memory limit of 2048 MB",
               "invalid_output": "submission.csv header is 'a,b'; expected 'id,label'"
               }.get(status, "")
        run_status = "ok" if status == "invalid_output" else status
        verdict = dict(status=run_status, exit_code=0 if run_status == "ok" else 1, wall_s=wall,
                       peak_memory_mb=float(100 + i), backend="bwrap", message=msg,
                       error_tail=(f"Traceback (most recent call last):\n  {HOSTILE_LOG}\n"
                                   f"ValueError: {HOSTILE_LOG}") if status == "error" else "")
        runs.append((name, verdict, now - 100 + i, now - 100 + i + wall,
                     msg if status == "invalid_output" else None))
        if status != "ok":
            scores.append(dict(student=name, status=status, message=msg, public_score=None,
                               private_score=None, details={}))
            continue
        private = ranks_scores[i] / 10000
        public = private - 0.00013
        conf = rng.integers(0, 20, size=(3, 3)).tolist()
        for k in range(3):
            conf[k][k] += 60
        per_class = [{"label": c, "precision": 0.8, "recall": 0.7, "f1": 0.75, "support": 90}
                     for c in CLASSES]
        scores.append(dict(student=name, status="ok", message="", public_score=public,
                           private_score=private,
                           details={"classes": CLASSES, "per_class": per_class,
                                    "confusion": conf,
                                    # the public part's own matrix (shown before release)
                                    "public": {"classes": CLASSES, "per_class": per_class,
                                               "confusion": [[v // 3 for v in r]
                                                             for r in conf]}}))
    ok = [s["student"] for s in scores if s["status"] == "ok"]
    grades = []
    for s in scores:
        if s["status"] == "ok":
            place = ok.index(s["student"]) + 1
            band_grade = 10.0 if place <= len(ok) // 3 else 8.0 if place <= 2 * len(ok) // 3 else 6.0
            grades.append(dict(student=s["student"], status="ok", rank=place,
                               band=f"{place}-{place}", base_grade=band_grade, deduction=0.5,
                               grade=band_grade - 0.5, above_baseline=1,
                               note="-0.5 presentation/documentation"))
        else:
            grades.append(dict(student=s["student"], status=s["status"], rank=None, band="",
                               base_grade=None, deduction=0.0, grade=None, above_baseline=None,
                               note=s["message"]))
    peer_pairs = []
    frag = {"file_a": "main.py", "start_a": 1, "end_a": 12, "file_b": "main.py", "start_b": 1,
            "end_b": 12, "tokens": 80}
    frag2 = {"file_a": "main.py", "start_a": 20, "end_a": 28, "file_b": "main.py", "start_b": 20,
             "end_b": 28, "tokens": 40}
    comps = ("fingerprints", "tokens", "ast", "text", "lexical", "comments")
    peer_pairs.append(dict(a=names[0], b=names[1], score=0.93, kind="peer", flagged=True,
                           components={c: 0.9 for c in comps}, fragments=[frag, frag2],
                           shared_comments=[f"step 3 of {names[0]}", HOSTILE_LOG]))
    peer_pairs.append(dict(a=names[2], b="web:tutorial", score=0.71, kind="web", flagged=True,
                           components={c: 0.7 for c in comps}, fragments=[frag],
                           shared_comments=[]))
    for k in range(max(0, pairs - 2)):
        a, b = sorted(rng.choice(names[:len(names) - 5], size=2, replace=False))
        if (a, b) in {(p["a"], p["b"]) for p in peer_pairs}:
            continue
        peer_pairs.append(dict(a=a, b=b, score=float(np.round(rng.uniform(0.15, 0.6), 4)),
                               kind="peer", flagged=False,
                               components={c: float(np.round(rng.uniform(0, 1), 3))
                                           for c in comps},
                               fragments=[{"file_a": "main.py", "start_a": 8, "end_a": 10}]
                               if k % 3 == 0 else [], shared_comments=[]))
    config = {
        "competition": {"name": "synthetic", "metric": "accuracy", "public_fraction": 0.3},
        "grading": {"policy": "rank_bands", "baseline": "majority"},
        "sandbox": {"time_limit_s": 40.0, "memory_mb": 2048},
        "similarity": {"threshold": 0.45, "template": "", "archive": "", "web": ""},
        "reports": {"release_private": release_private,
                    "release_similarity": release_similarity},
    }
    with Store(out_dir / "grading.db") as st:
        st.set_meta(course="synthetic <course>", course_root=str(course), config=config,
                    backend="bwrap", executor="local", submissions_dir=str(subs_dir),
                    started_at=now - 120, runs_finished_at=now - 10, baseline=0.3333)
        st.put_submissions(sub_rows)
        for name, verdict, t0, t1, out_err in runs:
            st.put_run(name, f"k-{name}", verdict, output_error=out_err, started_at=t0,
                       finished_at=t1)
        st.put_scores(scores)
        st.put_reference([
            dict(model="majority", params={}, public_score=0.3312, private_score=0.3333,
                 fit_s=0.01, predict_s=0.01, status="ok", is_baseline=1),
            dict(model="knn", params={"n_neighbors": 5}, public_score=0.2101,
                 private_score=0.2102, fit_s=0.2, predict_s=0.3, status="ok"),
            dict(model="svm_rbf", params={"C": 10}, public_score=0.2201, private_score=0.2202,
                 fit_s=1.2, predict_s=0.3, status="ok"),
        ])
        st.put_grades(grades)
        st.put_similarity(peer_pairs, [[names[0], names[1]]])
        st.put_reproduction([dict(student=ok[min(3, len(ok) - 1)], agreement=0.61,
                                  run_score=0.8, kaggle_score=0.95, flagged=True,
                                  message="the uploaded predictions differ from the run's")]
                            if ok else [])
    return {"students": names, "ok": ok, "failed": failed, "hostile": hostile,
            "pair": (names[0], names[1]), "web_pair": (names[2], "web:tutorial"),
            "out": out_dir}
