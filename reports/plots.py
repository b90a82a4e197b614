"""Plots as inline SVG (matplotlib, Agg-free SVG backend): self-contained, deterministic.

Each function returns ``Markup`` holding one ``<svg>`` element (no XML prolog, no scripts), to
be placed in a page as is. The SVG hash salt and metadata are fixed, so the same data gives
byte-identical plots (reports re-rendered from the store do not change).
"""

from __future__ import annotations

import io
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
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


#: a mark (baseline, reference, threshold) further from the data than this share of the data's
#: span gets its own panel after an axis break, so the histogram keeps the width
FAR = 0.6
#: most bins of a histogram; reference lines labelled one by one up to this many
MAX_BINS, MAX_LABELLED = 40, 8


@dataclass(frozen=True)
class Mark:
    """A vertical reference line: its label, value and colour key (``base``/``ref``/``thr``)."""

    name: str
    value: float
    kind: str


def bin_edges(values: Sequence[float]) -> np.ndarray:
    """Histogram bin edges that follow the data: numpy's ``"auto"`` rule on the data's own
    range (never stretched to a far baseline), 1 to :data:`MAX_BINS` bins, one narrow bin
    when every value is the same.

    Examples
    --------
    >>> bin_edges([0.5, 0.5]).round(3).tolist()
    [0.498, 0.502]
    """
    vals = np.asarray(values, dtype=float)
    lo, hi = float(vals.min()), float(vals.max())
    if hi - lo <= 1e-12:
        half = max(abs(lo) * 0.005, 1e-3)
        return np.array([lo - half, lo + half])
    edges = np.histogram_bin_edges(vals, bins="auto")
    n = min(max(len(edges) - 1, 5 if len(vals) >= 5 else 1), MAX_BINS)
    return np.linspace(lo, hi, n + 1)


def split_marks(values: Sequence[float], marks: Sequence[Mark]
                ) -> tuple[tuple[float, float], list[Mark], list[Mark], list[Mark]]:
    """The main axis' range (the data and the marks near it) and the marks far below, near
    and far above it (each far side gets its own panel after an axis break)."""
    vals = [float(v) for v in values]
    if not vals:
        vals = [m.value for m in marks] or [0.0, 1.0]
    lo, hi = min(vals), max(vals)
    span = hi - lo if hi > lo else max(abs(hi) * 0.1, 0.05)
    below = [m for m in marks if m.value < lo - FAR * span]
    above = [m for m in marks if m.value > hi + FAR * span]
    near = [m for m in marks if m not in below and m not in above]
    lo = min([lo, *(m.value for m in near)])
    hi = max([hi, *(m.value for m in near)])
    pad = (hi - lo if hi > lo else span) * 0.06
    return (lo - pad, hi + pad), below, near, above


def score_distribution(scores: Sequence[float], *, metric: str = "score",
                       baseline: float | None = None,
                       references: Sequence[tuple[str, float]] = (),
                       threshold: float | None = None, bins: int | None = None,
                       label: str = "score distribution") -> Markup:
    """Histogram of scores with the baseline, reference models or a threshold marked.

    The bins follow the data (:func:`bin_edges`); a mark far from the data sits in its own
    narrow panel after an axis break (:func:`split_marks`), so an ordinary class far above
    the baseline still fills the plot; every line is labelled with its name and value.

    Parameters
    ----------
    scores : sequence of float
    metric : str, default="score"
        The x-axis label.
    baseline : float, optional
        Drawn as a red dashed line.
    references : sequence of (name, score), default=()
        Drawn as thin dotted lines, each labelled (one legend entry when more than
        :data:`MAX_LABELLED`).
    threshold : float, optional
        Drawn as an orange line (the similarity threshold).
    bins : int, optional
        A fixed number of bins over the data's range instead of :func:`bin_edges`.
    """
    vals = [float(s) for s in scores if s is not None and np.isfinite(s)]
    marks = ([Mark("baseline", float(baseline), "base")] if baseline is not None else []) + [
        Mark(str(n), float(v), "ref") for n, v in references if v is not None] + (
        [Mark("threshold", float(threshold), "thr")] if threshold is not None else [])
    (lo, hi), below, near, above = split_marks(vals, marks)
    ratios = ([1] if below else []) + [6] + ([1] if above else [])
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    fig = Figure(figsize=(6.0, 2.6), dpi=72)
    axes = list(np.atleast_1d(fig.subplots(1, len(ratios), sharey=True,
                                           gridspec_kw={"width_ratios": ratios})))
    main = axes[1 if below else 0]
    if vals:
        edges = (np.linspace(min(vals), max(vals), bins + 1) if bins and max(vals) > min(vals)
                 else bin_edges(vals))
        main.hist(vals, bins=edges, color=_COLOURS["bar"], edgecolor="white")
    else:
        main.text(0.5, 0.5, "no scores", ha="center", va="center", transform=main.transAxes)
    main.set_xlim(lo, hi)
    labelled = sum(1 for m in marks if m.kind == "ref") <= MAX_LABELLED
    for ax, group in ((axes[0], below), (main, near), (axes[-1], above)):
        if not group:
            continue
        if ax is not main:
            _far_panel(ax, group)
        for m in group:
            _draw_mark(ax, m, labelled)
    _style(main, metric, "count")
    if main is not axes[0]:  # the count belongs to the leftmost axis
        main.set_ylabel("")
        axes[0].set_ylabel("count")
    main.xaxis.set_major_locator(MaxNLocator(6))
    main.yaxis.get_major_locator().set_params(integer=True)
    for ax in axes:  # many references: one legend entry where their first line is
        if any(ln.get_label() == "reference models" for ln in ax.get_lines()):
            ax.legend(fontsize=7, frameon=False, loc="upper left")
    _breaks(axes, main)
    return _svg(fig, label)


def _draw_mark(ax, m: Mark, labelled: bool) -> None:
    style = {"base": dict(linestyle="--", linewidth=1.5), "ref": dict(linestyle=":", linewidth=1),
             "thr": dict(linestyle="-", linewidth=1.5)}[m.kind]
    first_ref = m.kind == "ref" and not any(ln.get_label() == "reference models"
                                            for ln in ax.get_lines())
    legend = "reference models" if (m.kind == "ref" and not labelled and first_ref) else None
    ax.axvline(m.value, color=_COLOURS[m.kind], label=legend or "_nolegend_", **style)
    if labelled or m.kind != "ref":
        # the name and value beside the line, at the top, reading upwards
        ax.text(m.value, 0.98, f" {m.name} {m.value:.3g}", transform=ax.get_xaxis_transform(),
                rotation=90, va="top", ha="right", fontsize=7, color=_COLOURS[m.kind],
                bbox={"facecolor": "white", "alpha": 0.75, "edgecolor": "none", "pad": 0.5})


def _far_panel(ax, group: list[Mark]) -> None:
    lo, hi = min(m.value for m in group), max(m.value for m in group)
    half = max((hi - lo) * 0.15, abs(hi) * 0.02, 1e-3)
    ax.set_xlim(lo - half, hi + half)
    ax.set_xticks(sorted({round(m.value, 4) for m in group})[:3])
    ax.tick_params(axis="x", labelsize=7)


def _breaks(axes: list, main) -> None:
    """Axis-break marks (``//``) between the main panel and a far panel."""
    if len(axes) == 1:
        return
    for ax in axes:
        for side in ("top", "right", "left"):
            ax.spines[side].set_visible(False)
        if ax is not axes[0]:
            ax.tick_params(axis="y", left=False)
    main.spines["left"].set_visible(main is axes[0])
    axes[0].spines["left"].set_visible(True)
    kw = dict(marker=[(-1, -1.5), (1, 1.5)], markersize=8, linestyle="none", color="k",
              mec="k", mew=1, clip_on=False)
    for left, right in zip(axes[:-1], axes[1:], strict=True):
        left.plot([1], [0], transform=left.transAxes, **kw)
        right.plot([0], [0], transform=right.transAxes, **kw)
