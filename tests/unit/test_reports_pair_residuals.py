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
