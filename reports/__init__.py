"""Reports: the instructor summary, the TA similarity review and student feedback as static,
self-contained HTML (plus Markdown/plain text for e-mail), and CSV/JSON exports — all rendered
from a batch's store.

Public API::

    info = render_all(Path("out"))     # writes out/reports/..., out/results.json, out/exports/
"""

from reports.render import make_environment, render_all

__all__ = ["render_all", "make_environment"]
