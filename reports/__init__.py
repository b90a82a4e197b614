"""Reports: the instructor summary, the TA similarity review and student feedback as static,
self-contained HTML (plus Markdown/plain text for e-mail), and CSV/JSON exports — all rendered
from a batch's stored data. reports/ reads no database itself: the caller passes the store's
content as plain data (``grader.store.Store.snapshot()``).

Public API::

    info = render_all(Path("out"), snapshot)  # writes out/reports/..., results.json, exports/
"""

from reports._wording import baseline_words, validation_measure
from reports.errors import ReportsError
from reports.render import make_environment, render_all, render_page, write_exports

__all__ = ["render_all", "render_page", "write_exports", "make_environment", "ReportsError", "validation_measure",
           "baseline_words"]
