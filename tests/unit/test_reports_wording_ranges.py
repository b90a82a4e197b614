"""A pair page writes where a fragment lies as ``main.py:8`` for one line (never ``8–8``) and
never ``:?–?`` for a side without lines. A real store (``tests.synthetic_batch``) and
``render_reports``."""

from __future__ import annotations

import re

from grader.batch.outputs import render_reports
from grader.store import Store
from reports._code import line_span
from reports._load import pair_page
from tests.synthetic_batch import make_batch


def test_line_span_of_one_line_many_lines_and_none():
    assert line_span({"file_a": "main.py", "start_a": 8, "end_a": 8}, "a") == "main.py:8"
    assert line_span({"file_a": "main.py", "start_a": 8, "end_a": 10}, "a") == "main.py:8–10"
    assert line_span({"file_a": "main.py", "start_a": 8, "end_a": 10}, "b") == "–"
    assert line_span({"start_b": 3, "end_b": 3}, "b") == "line 3"
    assert line_span({"file_b": "x.py", "start_b": "3"}, "b") == "x.py"  # not a line number


def test_pair_page_fragment_table_has_no_one_line_or_empty_ranges(tmp_path):
    out = tmp_path / "out"
    names = make_batch(out, students=10, pairs=2)
    with Store(out / "grading.db") as st:
        pairs, clusters = st.similarity_pairs(), st.similarity_clusters()
        first = next(p for p in pairs if (p["a"], p["b"]) == names["pair"])
        first["fragments"].append({"file_a": "main.py", "start_a": 7, "end_a": 7,
                                   "file_b": "main.py", "start_b": 9, "end_b": 9, "tokens": 12})
        first["fragments"].append({"file_a": "main.py", "start_a": 14, "end_a": 15})
        st.put_similarity(pairs, clusters)
    render_reports(out)
    page = (out / "reports" / pair_page(*names["pair"])).read_text()
    table = page.split('id="fragment-table"', 1)[1].split("</table>", 1)[0]
    cells = re.findall(r"<td>([^<]*)</td>", table)
    assert "main.py:1–12" in cells and "main.py:7" in cells and "main.py:9" in cells
    assert "main.py:14–15" in cells and "–" in cells  # the side without lines
    assert not any(re.search(r"(\d+)–\1\b|\?", c) for c in cells), cells
