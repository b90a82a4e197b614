"""Subsequence match merging (JPlag's defence against inserted statements) in the evidence
fragments: hand-made tiles, then real submissions with a statement inserted between two copied
runs."""

from __future__ import annotations

from pathlib import Path

from similarity import SimilarityOptions, compare
from similarity.align import merge_neighbours

# A program long enough that its copied halves are runs of their own.
ORIGINAL = '''\
import numpy as np


def train(features, labels, rate, epochs):
    weights = np.zeros(features.shape[1])
    bias = 0.0
    for epoch in range(epochs):
        scores = features @ weights + bias
        probabilities = 1.0 / (1.0 + np.exp(-scores))
        gradient = features.T @ (probabilities - labels) / len(labels)
        weights = weights - rate * gradient
        bias = bias - rate * float(np.mean(probabilities - labels))
    margins = features @ weights + bias
    predicted = (margins > 0).astype(int)
    accuracy = float(np.mean(predicted == labels))
    return weights, bias, accuracy
'''


def test_neighbours_in_both_orders_within_the_gap_merge():
    # (x, y, n): two runs separated by 3 tokens in A and 5 in B (average 4 <= 6)
    assert merge_neighbours([(0, 0, 20), (23, 25, 15)], gap=6) == [[(0, 0, 20), (23, 25, 15)]]
    # an average gap of 7 is too far
    assert merge_neighbours([(0, 0, 20), (27, 27, 15)], gap=6) == [[(0, 0, 20)],
                                                                  [(27, 27, 15)]]
    # neighbours in A but swapped in B (moved code) are not merged
    assert merge_neighbours([(0, 30, 20), (22, 0, 15)], gap=6) == [[(0, 30, 20)],
                                                                  [(22, 0, 15)]]
    # a chain merges into one group; gap 0 merges nothing
    chain = [(0, 0, 10), (12, 11, 10), (24, 22, 10)]
    assert merge_neighbours(chain, gap=6) == [chain]
    assert merge_neighbours(chain, gap=0) == [[t] for t in chain]


def _write(folder: Path, files: dict[str, str]) -> dict[str, Path]:
    folder.mkdir(parents=True)
    for name, text in files.items():
        (folder / name).write_text(text)
    return {Path(n).stem: folder / n for n in files}


def test_an_inserted_statement_does_not_split_the_fragment(tmp_path):
    lines = ORIGINAL.splitlines(keepends=True)
    at = next(i for i, ln in enumerate(lines) if "weights = weights" in ln)
    # the copier adds a logging line in the middle of the loop (live code: it is output)
    copy = "".join(lines[:at] + ['        print("epoch", epoch, float(gradient[0]))\n']
                   + lines[at:])
    subs = _write(tmp_path / "s", {"ana.py": ORIGINAL, "bob.py": copy, "cris.py": "x = 1\n"})
    merged = compare(subs, options=SimilarityOptions())
    plain = compare(subs, options=SimilarityOptions(merge_gap=0))

    def fragments(result):
        p = next(p for p in result.pairs if {p.a, p.b} == {"ana", "bob"})
        return p.fragments

    assert len(fragments(merged)) < len(fragments(plain))
    # the merged fragment spans the inserted line (on bob's side, whichever side bob is)
    inserted = at + 1  # 1-based line of the print in bob.py

    def spans(f):
        return (f.start_b < inserted < f.end_b if f.file_b == "bob.py"
                else f.start_a < inserted < f.end_a)

    assert any(spans(f) for f in fragments(merged)), fragments(merged)
    assert not any(spans(f) for f in fragments(plain)), fragments(plain)
    # its tokens are the matched ones of both runs, not the inserted ones
    assert max(f.tokens for f in fragments(merged)) == sum(f.tokens for f in fragments(plain))
    # scores do not depend on merging (fragments only)
    assert [p.score for p in merged.pairs] == [p.score for p in plain.pairs]
