"""What every chart of the simulation shares: the axes of counts and days, where the
legend goes, and a PNG's bytes (the results folder writes them, all files at once).

Used by :mod:`allocator.simulation.report` (a run's plots),
:mod:`allocator.simulation.forecast_report` (the forecast's fan chart) and
:mod:`allocator.simulation.sweep` (a sweep's summary): one habit each, so the charts
agree. Matplotlib (the ``sim`` extra) is imported by the callers, which pass their
axes and figures here.
"""

from __future__ import annotations

import io
from typing import Any

#: Resolution of every PNG (dots per inch).
DPI = 100


def whole_number_ticks(axis: Any) -> None:
    """Ticks on whole numbers only along ``axis`` (an ``Axes.xaxis`` or ``yaxis``) of
    days, weeks or a count: a tick at day 0.2 or 1.5 children names nothing that
    can happen. A count's value may still fall between ticks (a median of counts
    can be a half)."""
    from matplotlib.ticker import MaxNLocator

    axis.set_major_locator(MaxNLocator(integer=True))


def count_axis(ax: Any) -> None:
    """``ax``'s y axis as a count (children, workers): whole-number ticks, from 0,
    and up to at least 1, so that a count of none all along is a line on the floor of
    a readable axis, not one centred between -0.04 and 0.04."""
    whole_number_ticks(ax.yaxis)
    top = ax.get_ylim()[1]
    ax.set_ylim(0, max(1.0, top))


def legend_outside(ax: Any, **options: Any) -> None:
    """A legend to the right of ``ax``, outside its data, if anything drawn has a
    label (a run with nothing drawn has no legend: no warning then).

    The figure's ``tight_layout`` afterwards narrows the axes to make room for it.
    """
    if ax.get_legend_handles_labels()[0]:
        ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0.0, **options)


def png(fig: Any) -> bytes:
    """``fig`` as PNG bytes, then closed. No ``Software`` stamp: the same chart gives
    the same bytes from any install."""
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI, metadata={"Software": None})
    plt.close(fig)
    return buffer.getvalue()
