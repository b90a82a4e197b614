"""The student page's comparison bars follow "better": on an error metric (mse, mae) the
smallest error gets the longest bar, not the largest; accuracy's bars are unchanged."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from grader.batch.outputs import render_reports
from reports._load import page_name
from reports.render import bar_widths
from tests.synthetic_batch import make_batch
from tests.unit.test_reports_render import _set_metric
from tests.unit.test_reports_wording_task import _batch


def _bars(html: str) -> list[tuple[float, float]]:
    """(score, bar width %) of each row of the comparison table, in page order."""
    body = html.split('id="comparison-table"', 1)[1].split("</tbody>", 1)[0]
    rows = re.findall(r'<td class="num">([^<]+)</td>\s*<td[^>]*><span class="bar" '
                      r'style="width:([0-9.]+)%"></span>', body)
    return [(float(score), float(width)) for score, width in rows]


def test_on_a_real_mse_course_the_smallest_error_has_the_longest_bar(tmp_path):
    student, _ = _batch(tmp_path, "mse")
    html = student["html"]
    bars = _bars(html)
    assert len(bars) >= 2, bars  # the student and the mean-of-targets baseline
    best = min(bars)
    assert best[1] == 100.0 and all(w < 100.0 for s, w in bars if s > best[0]), bars
    for score, width in bars:  # an error twice the best one gets half its bar
        assert width == pytest.approx(100.0 * best[0] / score, abs=0.05), bars
    assert "a smaller mse is better: the longest bar is the smallest error" in html


@pytest.mark.parametrize("metric", ["mse", "accuracy"])
def test_bars_follow_the_metric_direction_with_the_reference_models(tmp_path, metric):
    out = tmp_path / "out"
    names = make_batch(out, students=8, pairs=2)
    _set_metric(out, metric)
    render_reports(out)
    html = Path(out / "reports" / "students" / f"{page_name(names['ok'][0])}.html").read_text()
    bars = _bars(html)
    assert len(bars) >= 4, bars  # the student, majority, knn, svm_rbf
    widths = [w for _, w in bars]
    # rows are listed best first, so the bars only shrink down the table
    assert widths == sorted(widths, reverse=True) and widths[0] == 100.0, bars
    scores = [s for s, _ in bars]
    if metric == "mse":
        assert scores[0] == min(scores) and widths[-1] < widths[0]
        assert "longest bar is the smallest error" in html
    else:  # as before: the bar is proportional to the score, the best one full
        assert scores[0] == max(scores)
        for score, width in bars:
            assert width == pytest.approx(100.0 * score / max(scores), abs=0.05), bars
        assert "longest bar is the smallest error" not in html


def test_bar_widths_edge_cases():
    assert bar_widths([0.5, 2.0, None], False) == [100.0, 25.0, 0.0]
    assert bar_widths([0.0, 0.5, None], False) == [100.0, 0.0, 0.0]  # a perfect 0
    assert bar_widths([None], False) == [0.0]
    assert bar_widths([-0.2, 0.4, 0.8], True) == [0.0, 50.0, 100.0]  # kendall_tau below 0
    assert bar_widths([0.0, 0.0], True) == [0.0, 0.0]
