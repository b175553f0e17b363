"""A forecast's files and its words: CSV tables, a fan chart, a summary in sentences.

:func:`write_forecast` writes into a folder, each file atomically
(:mod:`allocator.io`):

- ``weeks.csv``: one row per week and measure: ``week``, ``week_ending``,
  ``measure``, ``p10``, ``p50``, ``p90``, ``mean``, ``runs`` (runs with a value);
- ``weeks.parquet``: the same table for pandas, polars or R (:func:`weeks_parquet`):
  the week ending a date, the figures doubles (full precision; null where no run had a
  value), ``week`` and ``runs`` whole numbers;
- ``children.csv``: the manager's list — today's children whose worker the snapshot
  knows is going, and those more likely than not to lose their worker
  (:func:`on_the_list`): ``case``, ``family``, ``type``, ``worker``, ``known`` (what
  the snapshot says), ``known_on``, ``handover`` (promised before today, if any),
  ``chance`` (0-1), ``likely_week``, ``cause``, ``chance_waiting``;
- ``children_all.csv``: the same columns for every child who loses their worker in
  some run (``children.csv`` is its first rows that are on the list);
- ``workers.csv``: each worker who may be over cap at a week's end: ``worker``,
  ``team``, ``grade``, ``chance_over_cap`` (at some week's end), ``weeks_over_cap``
  (mean), ``load`` and ``cap`` today (points), ``known``, then the chance at each
  week's end, ``week_1`` ... ``week_N``;
- ``forecast.md``: the summary and the notes;
- ``waiting.png``: children waiting by class, median and 10-90% band (unless
  ``plots=False``).

Numbers are written with a fixed format, so the same forecast gives the same bytes.
"""

from __future__ import annotations

import csv
import io
from datetime import date
from pathlib import Path
from typing import Any

from allocator.domain.rules import counted
from allocator.io import FORECAST, FORMULA_STARTS, write_results_folder
from allocator.simulation.charts import count_axis, legend_outside, png
from allocator.simulation.forecast import Band, ChildOutlook, Forecast, few_runs_note

#: Measures the summary speaks of, in its order.
WAITING_ALL = "waiting all"
#: The columns of ``weeks.csv`` and ``weeks.parquet``; the band's among them.
BAND_COLUMNS = ("p10", "p50", "p90", "mean")
WEEK_COLUMNS = ("week", "week_ending", "measure", *BAND_COLUMNS, "runs")


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, date):
        return value.isoformat()
    text = str(value)
    # A cell a spreadsheet would run as a formula is written as text.
    return "'" + text if text.lstrip("'").startswith(FORMULA_STARTS) else text


def _csv(header: list[str], rows: list[list[object]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([_cell(v) for v in row])
    return buffer.getvalue()


def _week_rows(fc: Forecast) -> list[list[object]]:
    """The rows of ``weeks.csv`` and ``weeks.parquet``, in :data:`WEEK_COLUMNS`' order."""
    rows: list[list[object]] = []
    for w in range(1, fc.settings.weeks + 1):
        for name, bands in fc.weeks.items():
            b = bands[w - 1]
            if b is None:
                rows.append([w, fc.week_ending(w), name, None, None, None, None, 0])
            else:
                rows.append([w, fc.week_ending(w), name, b.p10, b.p50, b.p90, b.mean, b.runs])
    return rows


def weeks_csv(fc: Forecast) -> str:
    """``weeks.csv`` (see the module docstring)."""
    return _csv([*WEEK_COLUMNS], _week_rows(fc))


def weeks_parquet(fc: Forecast) -> bytes:
    """``weeks.parquet``: the rows of :func:`weeks_csv` as Parquet (pyarrow, the ``sim``
    extra's engine, as ``allocator simulate``'s tables), the same bytes for the same
    forecast."""
    import pandas as pd

    table = pd.DataFrame(_week_rows(fc), columns=[*WEEK_COLUMNS])
    types = {"week": "int64", "runs": "int64"} | dict.fromkeys(BAND_COLUMNS, "Float64")
    table = table.astype(types)
    buffer = io.BytesIO()
    table.to_parquet(buffer, index=False)
    return buffer.getvalue()


def on_the_list(o: ChildOutlook) -> bool:
    """Whether a child is on the manager's list: their worker's going is known today,
    or they are more likely than not (a chance above one half) to lose their worker."""
    return bool(o.known) or o.chance > 0.5


def children_csv(fc: Forecast, *, every: bool = False) -> str:
    """``children.csv``, the manager's list; ``every``: ``children_all.csv`` (see the
    module docstring)."""
    header = [
        "case",
        "family",
        "type",
        "worker",
        "known",
        "known_on",
        "handover",
        "chance",
        "likely_week",
        "cause",
        "chance_waiting",
    ]
    rows: list[list[object]] = [
        [
            o.case,
            o.family,
            o.type,
            o.worker,
            o.known,
            o.known_on,
            o.handover,
            o.chance,
            o.week,
            o.cause,
            o.chance_waiting,
        ]
        for o in fc.children
        if every or on_the_list(o)
    ]
    return _csv(header, rows)


def workers_csv(fc: Forecast) -> str:
    """``workers.csv`` (see the module docstring)."""
    header = [
        "worker",
        "team",
        "grade",
        "chance_over_cap",
        "weeks_over_cap",
        "load",
        "cap",
        "known",
        *(f"week_{k}" for k in range(1, fc.settings.weeks + 1)),
    ]
    rows: list[list[object]] = [
        [
            o.worker,
            o.team,
            o.grade,
            o.chance_over_cap,
            o.weeks_over_cap,
            o.load,
            o.cap,
            o.known,
            *o.by_week,
        ]
        for o in fc.workers
    ]
    return _csv(header, rows)


def _spread(b: Band | None, unit: str = "") -> str:
    if b is None:
        return "none in any run"
    return f"{b.p50:g}{unit} (10-90%: {b.p10:g}-{b.p90:g})"


def _p50(b: Band | None) -> float:
    return b.p50 if b is not None else 0.0


def summary_lines(fc: Forecast, *, files: bool = True) -> list[str]:
    """The forecast in plain sentences, for the terminal and ``forecast.md`` (which
    name the files with the lists), or without the files (``files`` false: the
    meeting page, which shows the lists itself)."""
    n = fc.settings.weeks
    last = n - 1
    end = fc.week_ending(n).isoformat()
    w = fc.weeks
    lines = [
        f"Forecast from {fc.as_of.isoformat()} to {end} ({counted(n, 'week')}, "
        f"{counted(fc.settings.runs, 'run')}, {fc.settings.method}, seed {fc.settings.seed}).",
        *([few] if (few := few_runs_note(fc.settings.runs)) is not None else []),
        f"Children without a worker today: {sum(fc.waiting_today.values())} ("
        + ", ".join(f"{k.removeprefix('waiting ')} {v}" for k, v in fc.waiting_today.items())
        + ").",
        f"Children waiting for a worker at the end of week {n}: "
        f"{_spread(w[WAITING_ALL][last])}; of statutory types "
        f"{_spread(w['statutory children waiting'][last])}; "
        f"urgent {_spread(w['urgent children waiting'][last])}.",
    ]
    classes = [
        k.removeprefix("waiting ") for k in w if k.startswith("waiting ") and k != WAITING_ALL
    ]
    by_class = ", ".join(f"{k} {_spread(w['waiting ' + k][last])}" for k in classes)
    lines.append(f"By class at week {n}: {by_class}.")
    lines.append(
        f"Longest statutory wait under way at week {n}: "
        f"{_spread(w['statutory longest wait days'][last], ' days')}; urgent: "
        f"{_spread(w['urgent longest wait days'][last], ' days')}."
    )
    over = w["workers over cap"]
    worst = max(range(n), key=lambda k: (_p50(over[k]), -k))
    lines.append(
        f"Workers over cap: {fc.over_cap_today} today; {_spread(over[last])} at week {n}; "
        f"most in week {worst + 1}: {_spread(over[worst])}."
    )
    losing = sum((b.mean for b in w["children losing their worker"] if b), 0.0)
    needed = sum((b.mean for b in w["handovers needed"] if b), 0.0)
    planned = sum((b.mean for b in w["handovers with notice"] if b), 0.0)
    lines.append(
        f"Children losing today's worker in the {counted(n, 'week')}: {losing:.0f} on average; "
        f"{needed:.0f} because their worker leaves or starts a long absence (handovers "
        f"needed), {planned:.0f} of them handed over with notice."
    )
    known = [o for o in fc.children if o.known]
    likely = [o for o in fc.children if o.chance > 0.5]
    if known:
        by_worker: dict[str, list[ChildOutlook]] = {}
        for o in known:
            by_worker.setdefault(o.known, []).append(o)
        said = "; ".join(f"{k}: {len(v)} children" + _handed(v) for k, v in by_worker.items())
        lines.append(f"Known today: {said}.")
        bare = sum(1 for o in known if not o.handover)
        lines.append(f"Departing workers' children with no handover yet: {bare} of {len(known)}.")
    listed = sum(1 for o in fc.children if on_the_list(o))
    named = f"; {listed} are named in children.csv (all in children_all.csv)" if files else ""
    lines.append(
        f"{len(likely)} {_children(len(likely))} more likely than not to lose their worker; "
        f"{len(fc.children)} may{named}."
    )
    lines.extend(_short_lines(fc))
    risky = [o for o in fc.workers if o.chance_over_cap > 0.5]
    lines.append(
        f"{len(risky)} {'worker is' if len(risky) == 1 else 'workers are'} more likely than "
        "not to be over cap at some week's end" + (" (workers.csv)." if files else ".")
    )
    return lines


def _children(n: int) -> str:
    return "child is" if n == 1 else "children are"


def _handed(children: list[ChildOutlook]) -> str:
    promised = sum(1 for o in children if o.handover)
    return f" ({promised} with a handover promised)" if promised else ""


#: The measure of the service-wide FTE short; per grade ``fte short <grade>``.
FTE_SHORT_ALL = "fte short all"


def _short_lines(fc: Forecast) -> list[str]:
    """The FTE short of the wait target, service-wide and by grade, at the week it
    peaks (by median)."""
    w = fc.weeks
    if FTE_SHORT_ALL not in w:
        return []
    n = fc.settings.weeks
    peak = max(range(n), key=lambda k: (_p50(w[FTE_SHORT_ALL][k]), -k))
    grades = [
        k.removeprefix("fte short ") for k in w if k.startswith("fte short ") and k != FTE_SHORT_ALL
    ]
    by_grade = ", ".join(f"{g} {_spread(w['fte short ' + g][peak])}" for g in grades)
    return [
        f"FTE short of keeping statutory waits within {fc.settings.wait_target_days} days "
        f"(room for the statutory children waiting longer, at the least senior grade that "
        f"may hold each): most in week {peak + 1}, {_spread(w[FTE_SHORT_ALL][peak])} in all; "
        f"by grade {by_grade}; at week {n}: {_spread(w[FTE_SHORT_ALL][n - 1])}. A lower "
        "bound: skills (Welsh, court), patches, siblings and the intake limit are not "
        "counted; `allocator capacity` counts them, so its answer can be far higher."
    ]


def write_forecast(
    fc: Forecast, out: str | Path, *, plots: bool = True, made_by: str = FORECAST
) -> list[Path]:
    """Write the forecast's files into the results folder ``out`` (created if needed),
    all or none, its manifest naming ``made_by`` (:func:`allocator.io.write_results_folder`:
    without ``plots`` an earlier run's chart goes, telling another forecast's story);
    returns their paths."""
    files: dict[str, bytes | str] = {
        "weeks.csv": weeks_csv(fc),
        "children.csv": children_csv(fc),
        "children_all.csv": children_csv(fc, every=True),
        "workers.csv": workers_csv(fc),
        "forecast.md": _markdown(fc),
        "weeks.parquet": weeks_parquet(fc),
    }
    if plots:
        files["waiting.png"] = fan_chart(fc)
    return write_results_folder(out, made_by, files)


def _markdown(fc: Forecast) -> str:
    lines = ["# Forecast", ""]
    lines += [f"- {s}" for s in summary_lines(fc)]
    lines += ["", "## Notes", ""]
    lines += [f"- {s}" for s in fc.notes]
    lines += [
        "",
        "Files: weeks.csv and weeks.parquet (per week, 10-50-90% across runs), "
        "children.csv (the children whose worker is known to be going or who are more "
        "likely than not to lose their worker), children_all.csv (every child who may), "
        "workers.csv (who may be over cap), waiting.png.",
        "",
    ]
    return "\n".join(lines)


def fan_figure(fc: Forecast) -> Any:
    """The fan chart as a Matplotlib figure: children waiting at each week's end by
    class, median line and 10-90% band, from today's count (week 0); whole weeks
    along, whole children up from 0 (a median of counts may still sit at a half), the
    legend beside the chart, clear of the bands."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 4))
    weeks = list(range(0, fc.settings.weeks + 1))
    for name, bands in fc.weeks.items():
        if not name.startswith("waiting ") or name == WAITING_ALL:
            continue
        now = float(fc.waiting_today.get(name, 0))
        lo = [now] + [b.p10 if b else 0.0 for b in bands]
        mid = [now] + [b.p50 if b else 0.0 for b in bands]
        hi = [now] + [b.p90 if b else 0.0 for b in bands]
        (line,) = ax.plot(weeks, mid, label=name.removeprefix("waiting "))
        ax.fill_between(weeks, lo, hi, alpha=0.2, color=line.get_color())
    ax.set_xticks(weeks)
    count_axis(ax)
    ax.set_xlabel(f"week after {fc.as_of.isoformat()} (0: today)")
    ax.set_ylabel("children waiting at the week's end")
    ax.set_title(f"Children waiting: median and 10-90% of {fc.settings.runs} runs")
    legend_outside(ax, fontsize="small")
    fig.tight_layout()
    return fig


def fan_chart(fc: Forecast) -> bytes:
    """:func:`fan_figure` as PNG bytes."""
    return png(fan_figure(fc))


__all__ = [
    "children_csv",
    "on_the_list",
    "fan_chart",
    "fan_figure",
    "summary_lines",
    "weeks_csv",
    "weeks_parquet",
    "workers_csv",
    "write_forecast",
]
