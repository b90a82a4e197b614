"""The engine end to end on small real folders: template subtraction, class-share
suppression, archive and web corpora, multi-file evidence, outputs, options and determinism."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from similarity import (
    SimilarityInputError,
    SimilarityOptions,
    SimilarityOptionsError,
    compare,
    write_outputs,
)
from tests.unit.test_similarity_heldout import CNN_A, CNN_B, FOREST, KNN, LOGREG, STARTER, SVM

ROOT = Path(__file__).resolve().parents[2]


def write(folder: Path, files: dict[str, str]) -> dict[str, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    out = {}
    for name, src in files.items():
        p = folder / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(src, encoding="utf-8")
        out[Path(name).stem if "/" not in name else name.split("/")[0]] = (
            p if "/" not in name else folder / name.split("/")[0])
    return out


def pair(result, a, b):
    a, b = sorted((a, b)) if not b.startswith(("archive:", "web:")) else (a, b)
    return next((p for p in result.pairs if (p.a, p.b) == (a, b)), None)


def test_template_code_never_counts_as_copying(tmp_path):
    # Two students who kept the whole starter and wrote little of their own.
    tail_a = "\n\ntrain, test = load_data()\nwrite_submission(test['id'], [0] * len(test))\n"
    tail_b = ("\n\nif __name__ == '__main__':\n    tr, te = load_data()\n"
              "    labels = tr['label'].mode()[0]\n    write_submission(te['id'], [labels] * len(te))\n")
    subs = write(tmp_path / "s", {"ana.py": STARTER + tail_a, "bob.py": STARTER + tail_b})
    tmpl = write(tmp_path / "t", {"starter.py": STARTER})["starter"]
    without = compare(subs, options=SimilarityOptions(min_score=0.0))
    with_t = compare(subs, template=tmpl, options=SimilarityOptions(min_score=0.0))
    assert pair(without, "ana", "bob").score >= without.options.threshold  # the starter is shared
    p = pair(with_t, "ana", "bob")
    assert p is None or (not p.flagged and not p.fragments)


def test_fragments_common_to_the_class_are_suppressed(tmp_path):
    # 12 students: all share one boilerplate block, two of them also share a real copy.
    boiler = ("import torch\n\ndef train_step(model, batch, opt, loss_fn):\n"
              "    opt.zero_grad()\n    out = model(batch[0])\n    loss = loss_fn(out, batch[1])\n"
              "    loss.backward()\n    opt.step()\n    return loss.item()\n\n")
    bodies = [CNN_A, CNN_B, LOGREG, FOREST, KNN, SVM]
    files = {f"s{i:02d}.py": boiler + bodies[i % 6].replace("import os", f"import os  # {i}")
             + f"\nSEED = {i}\n" * (i + 1) for i in range(12)}
    files["s00.py"] = boiler + KNN
    files["s06.py"] = boiler + CNN_A
    subs = write(tmp_path / "s", files)
    r = compare(subs, options=SimilarityOptions(min_score=0.0, max_class_share=0.25,
                                                share_min_count=2))
    assert r.stats["suppressed_columns"]["fingerprints"] > 0
    # The boilerplate alone never appears as evidence.
    p = pair(r, "s01", "s02")  # CNN_B vs LOGREG: only the boilerplate in common
    assert p is None or not p.flagged
    for p in r.pairs:
        for f in p.fragments:
            assert not (f.start_a <= 4 and f.end_a >= 9 and f.start_b <= 4 and f.end_b >= 9)


def test_archive_and_web_corpora(tmp_path):
    subs = write(tmp_path / "s", {"ana.py": CNN_A, "bob.py": LOGREG, "cris.py": SVM})
    arch = tmp_path / "archive"
    write(arch, {"2023_dan.py": LOGREG.replace("search", "grid"), "2023_eve.py": LOGREG,
                 "2022_old/main.py": FOREST})
    web = tmp_path / "web"
    write(web, {"pytorch_tutorial.py": CNN_A.replace("# pixels", "# the pixels")})
    r = compare(subs, archive=arch, web=web, options=SimilarityOptions())
    kinds = {(p.a, p.b): p.kind for p in r.pairs}
    assert kinds.get(("bob", "archive:2023_dan")) == "archive"
    assert kinds.get(("bob", "archive:2023_eve")) == "archive"
    assert kinds.get(("ana", "web:pytorch_tutorial")) == "web"
    assert pair(r, "bob", "archive:2023_dan").flagged
    assert pair(r, "ana", "web:pytorch_tutorial").flagged
    # Archive entries are never compared with each other (dan and eve are identical).
    assert not any(p.a.startswith("archive:") for p in r.pairs)
    # Archive/web pairs never make student clusters.
    assert all(not m.startswith(("archive:", "web:")) for c in r.clusters for m in c)


def test_archive_through_the_index_finds_the_same_source(tmp_path):
    subs = write(tmp_path / "s", {"ana.py": CNN_A, "bob.py": LOGREG})
    arch = tmp_path / "archive"
    noise = {f"x{i:03d}.py": f"def f{i}(a):\n    return a * {i} + {i % 7}\n" for i in range(60)}
    write(arch, {**noise, "2021_copy.py": LOGREG})
    exhaustive = compare(subs, archive=arch, options=SimilarityOptions())
    indexed = compare(subs, archive=arch, options=SimilarityOptions(exhaustive_pairs=10,
                                                                    index_candidates=3))
    assert indexed.stats["archive_index"] and not exhaustive.stats["archive_index"]
    assert indexed.stats["sources_scored"] <= 6
    a, b = pair(exhaustive, "bob", "archive:2021_copy"), pair(indexed, "bob", "archive:2021_copy")
    assert a.flagged and b.flagged and abs(a.score - b.score) < 0.05


def test_multi_file_submissions_name_the_files(tmp_path):
    model_py = CNN_A.split("def make_loader")[0]
    train_py = "from model import Net\n\n\ndef make_loader" + CNN_A.split("def make_loader")[1]
    subs = write(tmp_path / "s", {"ana/model.py": model_py, "ana/train.py": train_py,
                                  "bob.py": CNN_A, "cris.py": LOGREG})
    r = compare(subs, options=SimilarityOptions())
    p = pair(r, "ana", "bob")
    assert p.flagged
    files_a = {f.file_a for f in p.fragments}
    assert files_a == {"model.py", "train.py"}
    assert {f.file_b for f in p.fragments} == {"bob.py"}
    for f in p.fragments:
        assert 1 <= f.start_a <= f.end_a and 1 <= f.start_b <= f.end_b
        assert f.tokens >= r.options.min_fragment_tokens


def test_fragments_point_at_the_copied_lines(tmp_path):
    knn_fn = KNN.split("def knn_predict")[1].split("\n\n\n")[0]
    host = CNN_B + "\n\ndef knn_predict" + knn_fn + "\n"
    subs = write(tmp_path / "s", {"ana.py": KNN, "bob.py": host, "cris.py": SVM})
    r = compare(subs, options=SimilarityOptions())
    p = pair(r, "ana", "bob")
    assert p.fragments
    f = p.fragments[0]
    a_lines = KNN.splitlines()[f.start_a - 1 : f.end_a]
    b_lines = host.splitlines()[f.start_b - 1 : f.end_b]
    assert any("knn_predict" in ln for ln in a_lines) and a_lines == b_lines


def test_shared_comments_are_listed(tmp_path):
    comment = "    # move tensors to GPU if CUDA is available\n"
    a = CNN_B.replace("        xb, yb = X[idx], y[idx]\n", comment + "        xb, yb = X[idx], y[idx]\n")
    b = LOGREG.replace("    search.fit(X, y)\n", comment + "    search.fit(X, y)\n")
    subs = write(tmp_path / "s", {"ana.py": a, "bob.py": b})
    r = compare(subs, options=SimilarityOptions(min_score=0.0))
    p = pair(r, "ana", "bob")
    assert "move tensors to GPU if CUDA is available" in p.shared_comments
    assert p.components["comments"] > 0


def test_f_string_fields_are_code_not_shared_prose(tmp_path):
    # f"{d}/train.csv" read as the prose "d train csv": two honest programs that load their
    # data with f-string paths shared 'rare strings' (comments 1.0), flagged at 0.71 on code
    paths = ("d = os.environ['GRADER_DATA']\n"
             "train = pd.read_csv(f'{d}/train.csv')\ntest = pd.read_csv(f'{d}/test.csv')\n"
             "out = f\"{os.environ['GRADER_OUTPUT']}/submission.csv\"\n")
    prose = "print(f'epoch {epoch}: the training loss went down to {loss:.3f} today')\n"
    subs = write(tmp_path / "s", {"ana.py": paths + prose + CNN_B, "bob.py": paths + LOGREG})
    r = compare(subs, options=SimilarityOptions(min_score=0.0))
    assert pair(r, "ana", "bob").components["comments"] == 0
    subs = write(tmp_path / "t", {"ana.py": paths + prose + CNN_B,
                                  "bob.py": paths + prose + LOGREG})
    p = pair(compare(subs, options=SimilarityOptions(min_score=0.0)), "ana", "bob")
    assert p.components["comments"] > 0  # the literal text of an f-string is still prose
    assert any("training loss went down" in c for c in p.shared_comments), p.shared_comments


def test_outputs_and_symmetry(tmp_path):
    subs = write(tmp_path / "s", {"ana.py": CNN_A, "bob.py": CNN_A.replace("model", "net"),
                                  "cris.py": KNN, "dan.py": KNN.replace("k=7", "k=5"),
                                  "eve.py": SVM})
    r = compare(subs, options=SimilarityOptions(min_score=0.0))
    write_outputs(r, tmp_path / "out")
    rows = list(csv.DictReader(open(tmp_path / "out" / "pairs.csv")))
    assert list(rows[0])[:3] == ["a", "b", "score"]
    scores = [float(x["score"]) for x in rows]
    assert scores == sorted(scores, reverse=True) and all(0 <= s <= 1 for s in scores)
    assert len(rows) == 10  # every pair once
    doc = json.loads((tmp_path / "out" / "pairs.json").read_text())
    assert doc["pairs"][0]["fragments"] and doc["clusters"] == [["ana", "bob"], ["cris", "dan"]]
    clusters = list(csv.DictReader(open(tmp_path / "out" / "clusters.csv")))
    assert {(c["cluster"], c["student"]) for c in clusters} == {
        ("1", "ana"), ("1", "bob"), ("2", "cris"), ("2", "dan")}
    # Symmetric: the same pair scores the same whichever name sorts first.
    swapped = compare({"zed": subs["ana"], "amy": subs["bob"]}, options=SimilarityOptions())
    plain = compare({"amy": subs["ana"], "zed": subs["bob"]}, options=SimilarityOptions())
    assert swapped.pairs[0].score == pytest.approx(plain.pairs[0].score, abs=1e-9)


def test_malformed_submissions_are_compared_not_dropped(tmp_path):
    (tmp_path / "s").mkdir()
    (tmp_path / "s" / "empty.py").write_bytes(b"")
    (tmp_path / "s" / "binary.py").write_bytes(bytes(range(256)) * 20)
    (tmp_path / "s" / "latin.py").write_bytes(CNN_A.replace("loss", "pérte").encode("latin-1"))
    (tmp_path / "s" / "broken.py").write_text(CNN_A[:1500] + "\ndef oops(:\n" + CNN_A[1500:])
    (tmp_path / "s" / "nopy").mkdir()
    (tmp_path / "s" / "nopy" / "notes.txt").write_text("hello")
    subs = {p.stem: p for p in (tmp_path / "s").iterdir()}
    r = compare(subs, options=SimilarityOptions())
    assert {"binary", "latin", "broken", "nopy"} <= set(r.notes)
    assert pair(r, "broken", "latin").flagged  # both still carry CNN_A
    assert r.stats["submissions"] == 5


def test_missing_paths_and_bad_options_are_user_errors(tmp_path):
    with pytest.raises(SimilarityInputError) as e:
        compare({"ana": tmp_path / "nope.py"})
    assert "ana" in e.value.render() and "hint" in e.value.render()
    with pytest.raises(SimilarityOptionsError) as e:
        SimilarityOptions(threshold=1.5, k=0, weights={"ast": 1.0})
    assert "3 problems" in e.value.message
    assert SimilarityOptions().weights == SimilarityOptions().weights  # defaults are copies


def test_same_input_same_output_across_processes(tmp_path):
    subs = write(tmp_path / "s", {"ana.py": CNN_A, "bob.py": CNN_A.replace("images", "imgs"),
                                  "cris.py": KNN, "dan.py": LOGREG})
    script = (
        "import sys, json; from pathlib import Path; from similarity import *\n"
        "subs = {p.stem: p for p in sorted(Path(sys.argv[1]).iterdir())}\n"
        "write_outputs(compare(subs, options=SimilarityOptions(min_score=0.0)), Path(sys.argv[2]))\n")
    outs = []
    for seed in ("0", "12345"):
        out = tmp_path / f"out{seed}"
        subprocess.run([sys.executable, "-c", script, str(tmp_path / "s"), str(out)], check=True,
                       cwd=ROOT, env={"PYTHONHASHSEED": seed, "PATH": ""})
        outs.append(((out / "pairs.csv").read_bytes(),
                     json.loads((out / "pairs.json").read_text())["pairs"]))
    assert outs[0] == outs[1]
    del subs


def test_cache_reuses_features_and_gives_the_same_result(tmp_path):
    subs = write(tmp_path / "s", {"ana.py": CNN_A, "bob.py": CNN_A.replace("images", "imgs"),
                                  "cris.py": KNN})
    cache = tmp_path / "cache"
    first = compare(subs, cache_dir=cache)
    entries = sorted(cache.rglob("*.json"))
    assert len(entries) == 3
    late = write(tmp_path / "late", {"dan.py": KNN.replace("votes", "ballots")})
    second = compare({**subs, **late}, cache_dir=cache)
    assert len(sorted(cache.rglob("*.json"))) == 4  # only the late file was read
    assert pair(second, "cris", "dan").flagged
    a, b = pair(first, "ana", "bob"), pair(second, "ana", "bob")
    assert np.isclose(a.score, b.score, atol=0.05)


def test_sketch_screening_flags_the_same_pairs_as_exact_scoring(tmp_path):
    from tests.unit.test_similarity_heldout import COPIES, HONEST

    files = {f"{k}.py": v for k, v in HONEST.items()}
    files.update({f"{k}.py": v for k, (_, v) in COPIES.items()})
    subs = write(tmp_path / "s", files)
    exact = compare(subs, options=SimilarityOptions())
    sketched = compare(subs, options=SimilarityOptions(exact_pairs=0))
    assert sketched.stats["sketched"] and not exact.stats["sketched"]
    fe = {(p.a, p.b): p.score for p in exact.pairs if p.flagged}
    fs = {(p.a, p.b): p.score for p in sketched.pairs if p.flagged}
    assert fe.keys() == fs.keys() and len(fe) >= 5
    for k in fe:  # flagged pairs are rescored exactly, not estimated
        assert fs[k] == pytest.approx(fe[k], abs=0.02)
    assert not any(p.estimated for p in sketched.pairs if p.flagged)


def test_focus_scores_a_late_submission_exactly_as_a_full_run(tmp_path):
    from tests.unit.test_similarity_heldout import COPIES, HONEST

    files = {f"{k}.py": v for k, v in HONEST.items()}
    files.update({f"{k}.py": v for k, (_, v) in COPIES.items()})
    subs = write(tmp_path / "s", files)
    web = tmp_path / "web"
    write(web, {"tutorial.py": CNN_A})
    full = compare(subs, web=web, options=SimilarityOptions(min_score=0.0))
    late = compare(subs, web=web, options=SimilarityOptions(min_score=0.0),
                   focus=["copy_loops", "cnn_b"])
    involved = {(p.a, p.b): p.score for p in full.pairs if {"copy_loops", "cnn_b"} & {p.a, p.b}}
    got = {(p.a, p.b): p.score for p in late.pairs}
    assert got.keys() == involved.keys()
    assert all(got[k] == pytest.approx(v, abs=1e-9) for k, v in involved.items())
    with pytest.raises(SimilarityInputError):
        compare(subs, focus=["nobody"])


@pytest.mark.parametrize("exact_pairs", [200_000, 0])
def test_empty_files_share_nothing(tmp_path, exact_pairs):
    subs = write(tmp_path / "s", {"a.py": "", "b.py": "\n\n", "c.py": "# just a comment\n"})
    r = compare(subs, options=SimilarityOptions(min_score=0.0, exact_pairs=exact_pairs))
    assert all(p.score == 0.0 for p in r.pairs)


def test_forked_readers_give_the_same_result_as_one_process(tmp_path):
    """From 200 submissions a single-threaded process reads them in forked workers; with a
    second thread running it reads them itself. Same pairs, same scores either way. (In a
    fresh interpreter: the test process itself may have other threads.)"""
    import similarity.engine as engine

    programs = (CNN_A, CNN_B, KNN, LOGREG, SVM, FOREST)
    files = {f"s{i:03d}.py": programs[i % 6].replace("model", f"model_{i // 6}")
             for i in range(engine._FORK_FROM)}
    write(tmp_path / "s", files)
    script = (
        "import json, sys, threading; from pathlib import Path\n"
        "import similarity.engine as engine; from similarity import *\n"
        "subs = {p.stem: p for p in sorted(Path(sys.argv[1]).iterdir())}\n"
        "o = SimilarityOptions(min_score=0.0, workers=2)\n"
        "def run():\n"
        "    before = engine._WORKER_CPU[0]\n"
        "    pairs = [[p.a, p.b, p.score] for p in compare(subs, options=o).pairs]\n"
        "    return pairs, engine._WORKER_CPU[0] > before\n"
        "forked, used = run()\n"
        "stop = threading.Event(); t = threading.Thread(target=stop.wait); t.start()\n"
        "threaded, used_threaded = run(); stop.set(); t.join()\n"
        "print(json.dumps([forked, used, threaded, used_threaded]))\n")
    res = subprocess.run([sys.executable, "-c", script, str(tmp_path / "s")], check=True,
                         cwd=ROOT, capture_output=True, text=True)
    forked, used, threaded, used_threaded = json.loads(res.stdout.strip().splitlines()[-1])
    assert used and not used_threaded  # workers read only while the process had one thread
    alone = [[p.a, p.b, p.score] for p in compare(
        {Path(n).stem: tmp_path / "s" / n for n in files},
        options=SimilarityOptions(min_score=0.0, workers=1)).pairs]
    assert forked == alone == threaded


def test_forked_evidence_gives_the_same_files(tmp_path):
    """From 200 evidence pairs a forked worker aligns every other pair (only while the
    process has one thread). The files are the same either way (a fresh interpreter, as
    above)."""
    programs = (CNN_A, CNN_B, KNN, LOGREG, SVM, FOREST)
    files = {f"s{i:03d}.py": programs[i % 6].replace("model", f"model_{i // 6}")
             for i in range(110)}  # 5,995 pairs at min_score 0
    write(tmp_path / "s", files)
    script = (
        "import sys, threading; from pathlib import Path\n"
        "import similarity.engine as engine\n"
        "from similarity import *\n"
        "subs = {p.stem: p for p in sorted(Path(sys.argv[1]).iterdir())}\n"
        "o = SimilarityOptions(min_score=0.0, workers=2, evidence_pairs=300)\n"
        "write_outputs(compare(subs, options=o), Path(sys.argv[2]) / 'forked')\n"
        "print(engine._EVIDENCE_FORKS[0])\n"
        "stop = threading.Event(); t = threading.Thread(target=stop.wait); t.start()\n"
        "write_outputs(compare(subs, options=o), Path(sys.argv[2]) / 'threaded')\n"
        "stop.set(); t.join()\n"
        "print(engine._EVIDENCE_FORKS[0])\n")
    res = subprocess.run([sys.executable, "-c", script, str(tmp_path / "s"), str(tmp_path)],
                         check=True, cwd=ROOT, capture_output=True, text=True)
    assert res.stdout.split() == ["1", "1"]  # forked once, then not with a thread
    for name in ("pairs.csv", "clusters.csv"):
        assert (tmp_path / "forked" / name).read_bytes() == \
            (tmp_path / "threaded" / name).read_bytes()
    forked = json.loads((tmp_path / "forked" / "pairs.json").read_text())
    threaded = json.loads((tmp_path / "threaded" / "pairs.json").read_text())
    assert forked["pairs"] == threaded["pairs"]
    assert sum(bool(p["fragments"]) for p in forked["pairs"]) > 50  # evidence was made
