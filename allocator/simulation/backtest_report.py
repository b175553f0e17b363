"""A backtest's files and its words.

:func:`write_backtest` writes into a folder, each file atomically (:mod:`allocator.io`):

- ``weeks.csv``: one row per measure and week: ``measure``, ``week``,
  ``week_ending``, ``truth`` (what the history says), ``p10``, ``p50``, ``p90`` (the
  forecast's band) and ``inside`` (1 when the truth fell inside the band, ends
  included);
- ``coverage.csv``: one row per measure, then ``all``: ``measure``, ``weeks``,
  ``inside``, ``coverage`` (the share inside), ``bias`` (truth less the forecast's
  median, mean over the weeks; empty for ``all``, whose measures have different
  units);
- ``backtest.md``: the summary and the forecast's notes (the calibration's among
  them).

Numbers are written with a fixed format, so the same backtest gives the same bytes.
"""

from __future__ import annotations

from pathlib import Path

from allocator.domain.rules import counted
from allocator.io import BACKTEST, write_results_folder
from allocator.simulation.backtest import Backtest
from allocator.simulation.forecast_report import _csv


def weeks_csv(bt: Backtest) -> str:
    """``weeks.csv`` (see the module)."""
    return _csv(
        ["measure", "week", "week_ending", "truth", "p10", "p50", "p90", "inside"],
        [
            [c.measure, c.week, c.week_ending, c.truth, c.p10, c.p50, c.p90, int(c.inside)]
            for c in bt.checks
        ],
    )


def coverage_csv(bt: Backtest) -> str:
    """``coverage.csv`` (see the module)."""
    rows: list[list[object]] = [
        [m.measure, m.weeks, m.inside, round(m.coverage, 4), m.bias] for m in bt.measures
    ]
    share = bt.inside / bt.pairs if bt.pairs else 0.0
    rows.append(["all", bt.pairs, bt.inside, round(share, 4), None])
    return _csv(["measure", "weeks", "inside", "coverage", "bias"], rows)


def summary_lines(bt: Backtest) -> list[str]:
    """The summary, one sentence a line (the terminal and ``backtest.md``)."""
    fc, s = bt.forecast, bt.forecast.settings
    snap = bt.snapshot
    waiting = sum(1 for c in snap.cases if c.worker is None)
    share = bt.inside / bt.pairs if bt.pairs else 0.0
    lines = [
        f"Backtest of {bt.history.source} from {fc.as_of.isoformat()}: "
        f"{counted(s.weeks, 'week')}, {counted(s.runs, 'run')}, seed {s.seed}, method "
        f"{s.method}.",
        f"The snapshot as of {fc.as_of.isoformat()}: {len(snap.practitioners)} practitioners, "
        f"{len(snap.cases)} open cases, {waiting} waiting.",
        f"In all, the truth fell inside the 10-90% band in {bt.inside} of {bt.pairs} "
        f"week-measures ({share:.0%}).",
    ]
    for m in bt.measures:
        lines.append(
            f"  {m.measure}: {m.inside} of {m.weeks} weeks inside ({m.coverage:.0%}), "
            f"bias {m.bias:+g} (truth less median, mean over the weeks)"
        )
    return lines


def write_backtest(bt: Backtest, out: str | Path, *, made_by: str = BACKTEST) -> list[Path]:
    """Write the backtest's files into the results folder ``out`` (created if needed),
    all or none, its manifest naming ``made_by`` (:func:`allocator.io.write_results_folder`);
    their paths."""
    notes = "\n".join(f"- {n}" for n in bt.forecast.notes)
    markdown = "# Backtest\n\n" + "\n".join(summary_lines(bt)) + "\n\n## Notes\n\n" + notes + "\n"
    files: dict[str, bytes | str] = {
        "weeks.csv": weeks_csv(bt),
        "coverage.csv": coverage_csv(bt),
        "backtest.md": markdown,
    }
    return write_results_folder(out, made_by, files)


__all__ = ["coverage_csv", "summary_lines", "weeks_csv", "write_backtest"]
