"""Plots as inline SVG (matplotlib, Agg-free SVG backend): self-contained, deterministic.

Each function returns ``Markup`` holding one ``<svg>`` element (no XML prolog, no scripts), to
be placed in a page as is. The SVG hash salt and metadata are fixed, so the same data gives
byte-identical plots (reports re-rendered from the store do not change).
"""

from __future__ import annotations

import io
from collections import Counter
from collections.abc import Sequence

from markupsafe import Markup

_COLOURS = {"bar": "#4c72b0", "base": "#c44e52", "ref": "#8172b3", "thr": "#dd8452"}


def _figure(width: float = 6.0, height: float = 2.6):
    from matplotlib.figure import Figure  # no pyplot: no global state, no GUI backend

    fig = Figure(figsize=(width, height), dpi=72)
    return fig, fig.add_subplot(1, 1, 1)


def _svg(fig, title: str) -> Markup:
    import matplotlib

    buf = io.StringIO()
    with matplotlib.rc_context({"svg.hashsalt": "gradebox", "svg.fonttype": "none",
                                "font.size": 9}):
        fig.tight_layout()
        fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None})
    text = buf.getvalue()
    svg = text[text.index("<svg"):]
    # an accessible name; matplotlib's own ids are salted per figure content
    svg = svg.replace("<svg ", f'<svg role="img" aria-label="{_attr(title)}" ', 1)
    return Markup(svg)


def _attr(s: str) -> str:
    return (s.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")
            .replace(">", "&gt;"))


def _style(ax, xlabel: str, ylabel: str) -> None:
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)


def grade_distribution(grades: Sequence[float]) -> Markup:
    """Bar chart: how many students got each grade.

    Parameters
    ----------
    grades : sequence of float
        One grade per graded student (missing grades left out).
    """
    fig, ax = _figure()
    counts = Counter(round(float(g), 2) for g in grades)
    xs = sorted(counts)
    ax.bar([f"{x:g}" for x in xs], [counts[x] for x in xs], color=_COLOURS["bar"])
    if not xs:
        ax.text(0.5, 0.5, "no grades", ha="center", va="center", transform=ax.transAxes)
    _style(ax, "grade", "students")
    ax.yaxis.get_major_locator().set_params(integer=True)
    return _svg(fig, "grade distribution")


def score_distribution(scores: Sequence[float], *, metric: str = "score",
                       baseline: float | None = None,
                       references: Sequence[tuple[str, float]] = (),
                       threshold: float | None = None, bins: int = 20,
                       label: str = "score distribution") -> Markup:
    """Histogram of scores with the baseline, reference models or a threshold marked.

    Parameters
    ----------
    scores : sequence of float
    metric : str, default="score"
        The x-axis label.
    baseline : float, optional
        Drawn as a red dashed line.
    references : sequence of (name, score), default=()
        Drawn as thin dotted lines, named in the legend when few.
    threshold : float, optional
        Drawn as an orange line (the similarity threshold).
    bins : int, default=20
    """
    fig, ax = _figure()
    vals = [float(s) for s in scores]
    if vals:
        ax.hist(vals, bins=bins, color=_COLOURS["bar"], edgecolor="white")
    else:
        ax.text(0.5, 0.5, "no scores", ha="center", va="center", transform=ax.transAxes)
    if baseline is not None:
        ax.axvline(baseline, color=_COLOURS["base"], linestyle="--", label="baseline")
    for i, (name, value) in enumerate(references):
        ax.axvline(value, color=_COLOURS["ref"], linestyle=":", linewidth=1,
                   label=name if len(references) <= 6 else ("reference models" if i == 0 else None))
    if threshold is not None:
        ax.axvline(threshold, color=_COLOURS["thr"], label="threshold")
    if baseline is not None or references or threshold is not None:
        ax.legend(fontsize=7, frameon=False, loc="upper left")
    _style(ax, metric, "count")
    return _svg(fig, label)
