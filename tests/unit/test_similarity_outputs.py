"""The similarity output files: pairs.csv byte for byte as the cell-by-cell safe CSV writer
writes it, pairs.json listing the pairs with evidence as ``Pair.to_dict()``, clusters as connected
components without scipy's graph module, and what ``grader similarity`` imports."""

from __future__ import annotations

import csv
import io
import json
import random
import subprocess
import sys
from pathlib import Path

import numpy as np

from diagnostics.text import csv_cell, csv_writer
from similarity import Fragment, Pair, SimilarityOptions, clusters, write_outputs
from similarity.clusters import connected_components
from similarity.engine import SimilarityResult
from similarity.options import COMPONENTS
from similarity.outputs import PAIRS_COLUMNS

ROOT = Path(__file__).resolve().parents[2]
SCORED = (*COMPONENTS, "comments")
# names a student controls: formulas, separators, quotes, line breaks, other scripts, bidi
NAMES = ["ana", "=cmd|' /C calc'!A0", 'bo,"b"', "cris\ndan", "ștefan", "-1", "+x", "@a",
         "\tt", " sp", "e\u202eve", "-0.5"]


def reference_row(p: Pair) -> list:
    """A pair's cells as the writer wrote them one by one before the line templates."""
    b = p.behaviour or {}
    return [p.a, p.b, f"{p.score:.4f}", f"{p.code:.4f}",
            *(f"{p.components[c]:.4f}" for c in SCORED),
            *([f"{b['behaviour']:.4f}", b["same_wrong"], b["both_wrong"],
               f"{b['expected']:.2f}", f"{b['p_value']:.3g}", b["explained_by"]]
              if b else ["", "", "", "", "", ""]),
            p.kind, "true" if p.flagged else "false", p.reason,
            "true" if p.estimated else "false"]


def make_pairs(n: int, seed: int = 0) -> list[Pair]:
    rng = random.Random(seed)
    special = [float("nan"), float("inf"), float("-inf"), -0.25, -0.0, 1e-7, 0.5, 2.5e-6]
    pairs = []
    for k in range(n):
        comps = {c: rng.random() for c in SCORED}
        if k % 9 == 0:
            comps[rng.choice(SCORED)] = rng.choice(special)
        beh = None
        if k % 5 == 0:
            beh = {"behaviour": rng.random(), "same_wrong": rng.randrange(20),
                   "both_wrong": rng.randrange(40), "expected": rng.random() * 3,
                   "p_value": rng.choice([1e-7, 0.5, 1.0]), "agreement": None,
                   "explained_by": rng.choice(["", "KNeighborsClassifier()", "=evil"])}
        score = rng.choice(special) if k % 17 == 0 else rng.random()
        p = Pair(rng.choice(NAMES), rng.choice(NAMES + ["web:tutorial"]), score, comps,
                 rng.choice(["peer", "web", "archive"]), rng.random() < 0.3,
                 estimated=rng.random() < 0.1, code=rng.random(), behaviour=beh)
        if k % 7 == 0:
            p.fragments = [Fragment("main.py", 1, 9, "x,y.py", 2, 10, 40)]
            p.shared_comments = ["# same typo", "=formula"]
        pairs.append(p)
    return pairs


def result_of(pairs: list[Pair]) -> SimilarityResult:
    return SimilarityResult(pairs=pairs, clusters=clusters(pairs),
                            notes={"ștefan": ["not UTF-8"]}, stats={"seconds": {"total": 1.5}},
                            options=SimilarityOptions())


def test_pairs_csv_is_byte_for_byte_the_safe_cell_writer(tmp_path):
    pairs = make_pairs(600)
    write_outputs(result_of(pairs), tmp_path)
    buf = io.StringIO(newline="")
    w = csv_writer(buf)
    w.writerow(PAIRS_COLUMNS)
    w.writerows(map(reference_row, pairs))
    assert (tmp_path / "pairs.csv").read_bytes() == buf.getvalue().encode("utf-8")
    rows = list(csv.reader(open(tmp_path / "pairs.csv", newline="", encoding="utf-8")))
    assert len(rows) == 601 and rows[0][:3] == ["a", "b", "score"]
    # no cell a spreadsheet would run, a number kept as a number
    assert not any(c.startswith(("=", "+", "@")) for r in rows for c in r)
    assert "'-inf" in {c for r in rows for c in r} and "-0.2500" in {c for r in rows for c in r}


def test_csv_cell_is_what_the_writer_writes():
    for value in [*NAMES, "", "a\rb", 'q"', 3, 0.5, None, "-inf"]:
        buf = io.StringIO(newline="")
        csv_writer(buf).writerow(["x", value, "y"])
        assert buf.getvalue() == f"x,{csv_cell(value)},y\r\n", value


def test_pairs_json_lists_the_pairs_with_evidence(tmp_path):
    """pairs.json is the evidence, pairs.csv the ranking: the best ``evidence_pairs`` pairs
    (evidence was looked for, found or not) and every later pair that carries some, in the
    ranking's order, each as ``Pair.to_dict()``."""
    pairs = make_pairs(600, seed=1)
    pairs[450].behaviour = {**(pairs[450].behaviour or {}), "description": "17 identical"}
    res = result_of(pairs)
    res.options = SimilarityOptions(evidence_pairs=100)
    write_outputs(res, tmp_path)
    doc = json.loads((tmp_path / "pairs.json").read_text(encoding="utf-8"))
    listed = [p for i, p in enumerate(pairs) if i < 100 or i % 7 == 0 or i == 450]
    assert 100 < len(listed) < 200
    # json.dumps on both sides: NaN reads back as NaN (never equal to itself)
    want = json.dumps([p.to_dict() for p in listed], ensure_ascii=False)
    assert json.dumps(doc["pairs"], ensure_ascii=False) == want
    assert list(doc) == ["options", "clusters", "notes", "stats", "pairs"]
    assert doc["notes"] == {"ștefan": ["not UTF-8"]} and doc["clusters"] == res.clusters
    assert doc["options"] == res.options.to_dict()
    rows = list(csv.reader(open(tmp_path / "pairs.csv", newline="", encoding="utf-8")))
    assert len(rows) == 601  # every pair is still ranked


def test_pairs_json_follows_a_field_added_to_to_dict(tmp_path):
    class Tagged(Pair):
        def to_dict(self) -> dict:
            return {**super().to_dict(), "tag": self.a.upper()}

    pairs = [Tagged("ana", f"s{i}", 0.5 - i / 100, dict.fromkeys(SCORED, 0.25), "peer", False)
             for i in range(20)]
    write_outputs(result_of(pairs), tmp_path)
    doc = json.loads((tmp_path / "pairs.json").read_text(encoding="utf-8"))
    assert doc["pairs"] == [p.to_dict() for p in pairs] and doc["pairs"][5]["tag"] == "ANA"


def bfs_components(n: int, edges: list[tuple[int, int]]) -> list[int]:
    adj: dict[int, list[int]] = {i: [] for i in range(n)}
    for a, b in edges:
        adj[a].append(b)
        adj[b].append(a)
    label = [-1] * n
    for s in range(n):  # s is the smallest node of its component when first reached
        if label[s] < 0:
            label[s], todo = s, [s]
            while todo:
                for y in adj[todo.pop()]:
                    if label[y] < 0:
                        label[y] = s
                        todo.append(y)
    return label


def test_connected_components_match_a_graph_search():
    rng = random.Random(3)
    for _ in range(300):
        n = rng.randint(1, 120)
        edges = [(rng.randrange(n), rng.randrange(n)) for _ in range(rng.randint(0, 150))]
        rows = np.array([a for a, _ in edges], dtype=int)
        cols = np.array([b for _, b in edges], dtype=int)
        assert connected_components(n, rows, cols).tolist() == bfs_components(n, edges)
    # a long path given in shuffled order is one component
    perm = np.random.default_rng(0).permutation(5000)
    assert set(connected_components(5000, perm[:-1], perm[1:]).tolist()) == {0}


def test_clusters_link_flagged_peer_pairs_only():
    def p(a, b, flagged=True, kind="peer"):
        return Pair(a, b, 0.9, dict.fromkeys(SCORED, 0.9), kind, flagged)

    got = clusters([p("dan", "eve"), p("ana", "bob"), p("bob", "cris"), p("fay", "gil", False),
                    p("eve", "web:t", kind="web"), {"a": "gil", "b": "hal", "flagged": True,
                                                   "kind": None}])
    assert got == [["ana", "bob", "cris"], ["dan", "eve"], ["gil", "hal"]]
    assert clusters([p("a", "b", False)]) == []


def test_grader_similarity_loads_no_heavy_module(tmp_path):
    """The command's start-up is most of its time on a class: only what it uses is loaded
    (numpy, scipy.sparse), not scipy's graph and linear algebra modules, numpy's developer
    tools, pandas, the store, the report templates, Dask, torch, scikit-learn or the sandbox."""
    subs = tmp_path / "subs"
    subs.mkdir()
    src = "def mean(xs):\n    total = 0\n    for x in xs:\n        total += x\n" \
          "    return total / len(xs)\n\nprint(mean([1, 2, 3]))\n"
    for name in ("ana", "bob", "cris"):
        (subs / f"{name}.py").write_text(src, encoding="utf-8")
    heavy = ["scipy.sparse.csgraph", "scipy.linalg", "numpy.f2py", "numpy.testing", "pandas",
             "sqlite3", "jinja2", "dask", "torch", "sklearn", "sandbox", "grader.store"]
    script = (
        "import sys; from grader.cli import main\n"
        f"code = main(['similarity', {str(subs)!r}, '--out', {str(tmp_path / 'out')!r}])\n"
        f"print('LOADED', [m for m in {heavy!r} if m in sys.modules], code)\n"
        # numpy's namespace is whole again after scipy's clone of it
        "import numpy; print('NUMPY', 'f2py' in numpy.__all__, 'testing' in dir(numpy))\n")
    res = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True,
                         text=True, check=True)
    assert "LOADED [] 0" in res.stdout, res.stdout + res.stderr
    assert "NUMPY True True" in res.stdout
    assert json.loads((tmp_path / "out" / "pairs.json").read_text())["clusters"] == [
        ["ana", "bob", "cris"]]


def test_small_p_values_keep_their_exponent_in_pairs_json(tmp_path):
    """A p-value's evidence is its exponent: 7.89e-08 must not be written as 0.0 (six
    decimals), while the other behaviour numbers keep six decimals."""
    beh = {"behaviour": 0.123456789, "same_wrong": 17, "both_wrong": 20,
           "expected": 2.123456789, "p_value": 7.891234e-08, "agreement": None,
           "explained_by": ""}
    pairs = [Pair("ana", "bob", 0.9, dict.fromkeys(SCORED, 0.5), "peer", True,
                  code=0.2, reason="behaviour", behaviour=beh) for _ in range(3)]
    write_outputs(result_of(pairs), tmp_path)
    got = json.loads((tmp_path / "pairs.json").read_text(encoding="utf-8"))["pairs"][0]
    assert got["behaviour"]["p_value"] == 7.89123e-08
    assert got["behaviour"]["expected"] == 2.123457
    assert got["behaviour"]["behaviour"] == 0.123457
    with open(tmp_path / "pairs.csv", newline="", encoding="utf-8") as fh:
        assert next(csv.DictReader(fh))["p_value"] == "7.89e-08"
