"""A regression pair page's "largest shared errors" show centred residuals (the behavioural
model's: prediction − true value, minus the student's own mean residual), and say so: a
reader checking a row against "prediction − true value" found every residual off by the same
amount. The real course, scorer, behavioural model, similarity engine, store and pages of
``tests.unit.test_reports_wording_task``."""

from __future__ import annotations

import html
import re

import pytest

from tests.unit.test_reports_wording_task import _batch

ROW = re.compile(r"<tr><td>([^<]*)</td><td>([^<]*)</td><td>([^<]*)</td><td>([^<]*)</td>"
                 r'<td class="num">([^<]*)</td><td class="num">([^<]*)</td></tr>')


def test_the_shared_errors_table_says_its_residuals_are_centred(tmp_path):
    _, pair = _batch(tmp_path, "mse")
    table = pair.split('<table id="shared-wrong">')[1].split("</table>")[0]
    assert "Residuals are centred: prediction − true value, minus that student" in table
    assert '<th class="num">centred residual ' in table
    rows = [[html.unescape(c) for c in m] for m in ROW.findall(table)]
    assert len(rows) >= 5
    # each student's shown residual is prediction − truth less one constant (their mean)
    for col_pred, col_res in ((1, 4), (2, 5)):
        offsets = [float(r[col_pred]) - float(r[3]) - float(r[col_res]) for r in rows]
        assert max(offsets) - min(offsets) == pytest.approx(0, abs=2e-3)


def test_predictions_show_six_digits_or_as_many_as_tell_them_apart():
    from reports.render import pair_values

    assert pair_values(25.951372943372988, 25.951372943372988) == ("25.9514", "25.9514")
    # two honest models that agree in their first six digits still look different
    assert pair_values(25.951372943, 25.951379001) == ("25.95137", "25.95138")
    assert pair_values(1e-9, 2e-9) == ("1e-09", "2e-09")
    a, b = pair_values(0.1 + 0.2, 0.3)  # differ in the 17th digit only
    assert a != b and float(a) == 0.1 + 0.2 and float(b) == 0.3
    assert str(pair_values(None, 3.0)[1]) == "3" and "–" in str(pair_values(None, 3.0)[0])


def test_the_page_shows_predictions_to_six_digits(tmp_path):
    _, pair = _batch(tmp_path, "mse")
    table = pair.split('<table id="shared-wrong">')[1].split("</table>")[0]
    rows = [[html.unescape(c) for c in m] for m in ROW.findall(table)]

    def digits(text: str) -> int:
        return len(text.split("e")[0].replace("-", "").replace(".", "").lstrip("0"))

    # six significant digits, more only where two different predictions need them
    assert rows and all(digits(r[k]) <= 6 or r[1] != r[2] for r in rows for k in (1, 2))
    assert all(float(r[1]) and float(r[2]) for r in rows)


def test_roc_auc_shared_errors_are_on_the_wrong_side_of_one_half(tmp_path):
    # A probability of 0.005 for a negative is no error: it was listed among "the largest
    # shared errors" below the real ones (a TA reading it found near-perfect answers there).
    _, pair = _batch(tmp_path, "roc_auc")
    table = pair.split('<table id="shared-wrong">')[1].split("</table>")[0]
    assert "on the wrong side of 0.5" in table
    rows = [[html.unescape(c) for c in m] for m in ROW.findall(table)]
    assert rows and all(abs(float(r[k]) - float(r[3])) > 0.5 for r in rows for k in (1, 2))


def test_regression_shared_errors_are_each_students_large_ones(tmp_path):
    _, pair = _batch(tmp_path, "mse")
    table = pair.split('<table id="shared-wrong">')[1].split("</table>")[0]
    assert "each by more than their own median error" in table


@pytest.mark.parametrize("metric", ["mse", "accuracy"])
def test_a_pair_flagged_on_behaviour_alone_tells_the_ta_what_else_gives_it(tmp_path, metric):
    # honest students who implement the slides' algorithm with the slides' settings give
    # identical predictions too (a class written by hand: 11 such pairs flagged); the page
    # said only "a copy's predictions are its source's"
    _, pair = _batch(tmp_path, metric)
    assert "flagged on <b>behaviour</b>" in pair
    note = pair.split('id="behaviour-alone">')[1].split("</p>")[0]
    assert note.startswith("Flagged on behaviour alone: the code evidence is 0.")
    assert "same settings" in note and "check that the two programs do not" in note
