"""Plots that read on any class (issue 14, item 7): bins follow the data, a far baseline gets
its own panel after an axis break, every reference line is labelled."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import numpy as np

from reports import plots
from reports.plots import Mark, bin_edges, split_marks


def _texts(svg) -> list[str]:
    root = ET.fromstring(str(svg))
    return ["".join(t.itertext()).strip() for t in root.iter() if t.tag.endswith("text")]


def _axes(svg) -> int:
    # matplotlib names every axes' group "axes_<n>"
    return len(set(re.findall(r'id="axes_\d+"', str(svg))))


def test_huge_class_far_above_the_baseline_fills_the_plot():
    rng = np.random.default_rng(0)
    scores = np.clip(rng.normal(0.95, 0.015, 5000), 0, 1)
    edges = bin_edges(scores)
    # bins over the data's own range (never stretched down to the baseline), many of them
    assert edges[0] == scores.min() and edges[-1] == scores.max() and 10 <= len(edges) - 1 <= 40
    (lo, hi), below, near, above = split_marks(
        scores, [Mark("baseline", 0.1, "base"), Mark("knn", 0.96, "ref")])
    assert [m.name for m in below] == ["baseline"] and [m.name for m in near] == ["knn"]
    assert not above and lo > 0.85 and hi < 1.01  # the histogram keeps the axis
    svg = plots.score_distribution(scores, metric="private accuracy", baseline=0.1,
                                   references=[("knn", 0.96), ("svm", 0.975)])
    texts = _texts(svg)
    assert _axes(svg) == 2  # the baseline's panel after the break, and the data's
    assert "baseline 0.1" in texts and "knn 0.96" in texts and "svm 0.975" in texts


def test_tiny_class_gets_one_panel_and_few_bins():
    for scores in ([0.91], [0.91, 0.93, 0.97]):
        edges = bin_edges(scores)
        assert 1 <= len(edges) - 1 <= len(scores)
        assert edges[0] <= min(scores) and edges[-1] >= max(scores)
        svg = plots.score_distribution(scores, metric="accuracy", baseline=0.88,
                                       references=[("knn", 0.93)])
        assert _axes(svg) == 1 and "baseline 0.88" in _texts(svg) and "knn 0.93" in _texts(svg)


def test_a_baseline_near_the_data_stays_on_the_same_axis():
    (lo, hi), below, near, above = split_marks([0.5, 0.6, 0.7], [Mark("baseline", 0.45, "base")])
    assert not below and not above and lo < 0.45 < hi


def test_many_reference_models_share_one_legend_entry():
    refs = [(f"model{i}", 0.90 + i * 0.005) for i in range(12)]
    texts = _texts(plots.score_distribution(np.linspace(0.9, 0.99, 50), baseline=0.1,
                                            references=refs))
    assert "reference models" in texts and not any(t.startswith("model") for t in texts)
    assert "baseline 0.1" in texts


def test_no_scores_still_draws_the_marks():
    texts = _texts(plots.score_distribution([], threshold=0.45, label="pairs"))
    assert "no scores" in texts and "threshold 0.45" in texts
