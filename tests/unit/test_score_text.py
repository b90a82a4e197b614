"""Huge but valid scores read as numbers: a regression column of 1e150 is a valid submission,
and its mse of 1e300 was printed as a 300-digit number in the terminal table and the
instructor's page (red team)."""

from __future__ import annotations

from diagnostics.text import score_text
from reports.render import _num_html, _num_text


def test_scores_keep_four_decimals_and_huge_ones_their_exponent():
    assert score_text(0.91234567) == "0.9123"
    assert score_text(3252.04712) == "3252.0471"
    assert score_text(-2.5) == "-2.5000"
    assert score_text(1e300) == "1.0000e+300"
    assert score_text(12_345_678.9) == "1.2346e+07"
    assert score_text(0.5, 2) == "0.50"
    for shown in (_num_html(1e300), _num_text(1e300, 4, "-")):
        assert shown == "1.0000e+300"
    assert _num_text(None, 4, "-") == "-"
