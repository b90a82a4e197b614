"""Inline SVG plots: well-formed, self-contained, deterministic."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from reports import plots


def test_plots_are_standalone_svg_without_scripts_or_links():
    for svg in (plots.grade_distribution([10, 9, 9, 4]),
                plots.score_distribution([0.5, 0.7, 0.9], metric="accuracy", baseline=0.4,
                                         references=[("knn", 0.8)]),
                plots.score_distribution([], threshold=0.45)):
        root = ET.fromstring(str(svg))
        assert root.tag.endswith("svg") and root.get("aria-label")
        text = str(svg)
        assert "<script" not in text and "href=\"http" not in text and "<?xml" not in text


def test_same_data_gives_byte_identical_svg():
    a = plots.score_distribution([0.1, 0.2, 0.3], baseline=0.15)
    b = plots.score_distribution([0.1, 0.2, 0.3], baseline=0.15)
    c = plots.score_distribution([0.1, 0.2, 0.35], baseline=0.15)
    assert a == b and a != c


def test_grade_bars_count_students_per_grade():
    svg = str(plots.grade_distribution([10, 10, 10, 7]))
    # one bar per distinct grade: the x tick labels name exactly the grades given
    assert ">10<" in svg and ">7<" in svg and ">9<" not in svg
