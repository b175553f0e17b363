"""The year's report: figures per method side by side, tables, plots.

:func:`summarise` reduces one method's tables to the figures a council would ask for;
:func:`write_outputs` writes every method's tables (CSV for the small ones, Parquet
for the daily ones), ``summary.csv``, ``report.md`` and the PNG plots that have data.
Nothing written depends on the clock or the machine: the same seed gives the same
files, byte for byte (run times go to the terminal only).

What the report may claim is decided here once: a figure with nothing behind it is
``None`` (n/a), never 0; a comparison of methods shows the number of waits (children,
changes) behind each figure and marks one resting on fewer than
:data:`FEWEST_FOR_A_FINDING`; a run too short for a figure says so
(:func:`short_run_note`, :func:`long_wait_note`).
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from allocator.contract.models import CaseType
from allocator.domain.rules import counted
from allocator.io import SIMULATE
from allocator.simulation.charts import (
    count_axis,
    legend_outside,
    png,
    whole_number_ticks,
)
from allocator.simulation.records import CAUSES

if TYPE_CHECKING:
    import pandas as pd

    from allocator.simulation.run import Result

#: England 2017-18: looked-after children with at least one / two or more changes of
#: social worker in the year (DfE via Community Care, 2019; DOMAIN.md).
ANCHOR_ONE_PLUS = 0.60
ANCHOR_TWO_PLUS = 0.26
#: Utilisation bands (load / cap) for the report and the plot.
BANDS: tuple[tuple[str, float, float], ...] = (
    ("under 70%", -1.0, 0.70),
    ("70-85%", 0.70, 0.85),
    ("85-100%", 0.85, 1.0 + 1e-9),
    ("over 100%", 1.0 + 1e-9, 1e9),
)


#: A leaver's child counts as "known ahead" when the leaving was known this many days
#: (or more) before the child lost the worker (issue 19's target: >= 90% told ahead).
KNOWN_AHEAD_DAYS = 7
#: A court child's wait this long (days) or longer is a long one (issue 19's table).
LONG_WAIT_DAYS = 90
#: A figure computed over fewer waits (children, changes) than this is marked in the
#: report's first section as resting on few, not a finding: with a dozen waits one
#: wait more or fewer moves a median or a 90th percentile by days (the 90th percentile
#: of 12 waits lies between the second and third longest). A rule of thumb, not a
#: test of significance.
FEWEST_FOR_A_FINDING = 20
#: A run shorter than this (days) scales its changes per child-year up from so little
#: time that a handful of changes reads as a year's rate; the report says so.
SHORT_RUN_DAYS = 28


@dataclass(frozen=True)
class Figure:
    """One figure of what children live through, and which way is better.

    Attributes
    ----------
    key
        Its key in :func:`summarise` (and ``summary.csv``).
    label
        What it is, in words, with its unit.
    better
        ``lower`` or ``higher``: the direction in which a method does better.
    percent
        A share, printed as a percentage.
    sample_key
        The key of the number of waits, children or changes the figure is computed
        over (``None`` for a total, such as worker-days over cap): shown beside it
        where methods are compared, and marked when under
        :data:`FEWEST_FOR_A_FINDING`.
    sample_nouns
        What that number counts, singular and plural: ``("wait", "waits")``.
    """

    key: str
    label: str
    better: Literal["lower", "higher"]
    percent: bool = False
    sample_key: str | None = None
    sample_nouns: tuple[str, str] = ("wait", "waits")

    def worse(self, a: float, b: float) -> bool:
        """Whether ``a`` is worse than ``b`` on this figure."""
        return a > b if self.better == "lower" else a < b

    def sample(self, figures: Mapping[str, Any]) -> int | None:
        """How many waits (children, changes) the figure rests on in ``figures``;
        ``None`` for a figure that is a total, or a summary made before it was kept."""
        if self.sample_key is None or figures.get(self.sample_key) is None:
            return None
        return int(figures[self.sample_key])


#: The figures of issue 19's table, in its order: what the year is judged on.
CHILD_FIGURES: tuple[Figure, ...] = (
    Figure(
        "court_wait_median_days",
        "court children, median wait for a worker (days)",
        "lower",
        sample_key="court_waits",
    ),
    Figure(
        "court_wait_p90_days",
        "court children, 90th-percentile wait (days)",
        "lower",
        sample_key="court_waits",
    ),
    Figure(
        "court_waits_90_days_share",
        f"court children's waits of {LONG_WAIT_DAYS} days or more",
        "lower",
        percent=True,
        sample_key="court_waits",
    ),
    Figure(
        "statutory_wait_median_days",
        "statutory children, median wait (days)",
        "lower",
        sample_key="statutory_waits",
    ),
    Figure(
        "statutory_wait_p90_days",
        "statutory children, 90th-percentile wait (days)",
        "lower",
        sample_key="statutory_waits",
    ),
    Figure(
        "urgent_child_days_waiting",
        "urgent child-days waiting",
        "lower",
        sample_key="urgent_waits",
    ),
    Figure(
        "leaver_children_told_ahead_share",
        f"a leaver's children told ahead, of those whose worker's leaving was known "
        f"{KNOWN_AHEAD_DAYS}+ days before",
        "higher",
        percent=True,
        sample_key="leaver_children_known_ahead",
        sample_nouns=("child", "children"),
    ),
    Figure(
        "mean_notice_days_leaver_absence",
        "mean notice, leaver and long-absence changes (days)",
        "higher",
        sample_key="leaver_absence_changes",
        sample_nouns=("change", "changes"),
    ),
    Figure(
        "leaver_child_mean_days_without_worker",
        "a leaver's child, mean days with no worker",
        "lower",
        sample_key="leaver_children",
        sample_nouns=("child", "children"),
    ),
    Figure("worker_days_over_cap", "worker-days over cap", "lower"),
    Figure(
        "changes_per_child_year",
        "changes of worker per child-year",
        "lower",
        sample_key="changes",
        sample_nouns=("change", "changes"),
    ),
    Figure(
        "mean_waiting_days_referred",
        "mean wait per referred child (days)",
        "lower",
        sample_key="children_referred",
        sample_nouns=("child", "children"),
    ),
)


def summarise(tables: Mapping[str, pd.DataFrame], days: int) -> dict[str, Any]:
    """One method's run in figures (keys as in ``summary.csv``).

    ``days`` is the run's length (days after the snapshot's day). Days are calendar
    days; rates are per child-year (a child open 365 days). The figures of
    :data:`CHILD_FIGURES` come from :func:`wait_figures`. A figure with nothing
    behind it is ``None`` (n/a; an empty cell in ``summary.csv``), never 0: a mean,
    median or share of no waits, children or changes, a rate over no child-years.
    Totals (changes, child-days waiting, worker-days over cap) are 0 when nothing
    happened, since none is their true count.
    """
    children, changes = tables["children"], tables["changes"]
    waiting, loads, workers = tables["waiting"], tables["loads"], tables["workers"]
    child_years = float(children["days_open"].sum()) / 365.0
    whole = children[children["open_all_run"]]
    lac = whole[whole["type"] == "looked_after"]
    out: dict[str, Any] = {
        "children": len(children),
        "child_years": round(child_years, 3),
        "children_open_all_run": len(whole),
        "looked_after_open_all_run": len(lac),
        "share_1plus_changes": _share(whole["changes"] >= 1),
        "share_2plus_changes": _share(whole["changes"] >= 2),
        "looked_after_share_1plus": _share(lac["changes"] >= 1),
        "looked_after_share_2plus": _share(lac["changes"] >= 2),
        "changes": len(changes),
        "changes_per_child_year": _rate(len(changes), child_years),
    }
    for cause in CAUSES:
        n = int((changes["cause"] == cause).sum())
        out[f"changes_{cause}"] = n
        out[f"changes_per_child_year_{cause}"] = _rate(n, child_years)
    # Long-term work (looked after, court, adoption): what the look-ahead aims at.
    long_term = children[children["type"].isin(LONG_TERM)]
    long_years = float(long_term["days_open"].sum()) / 365.0
    out["changes_per_child_year_long_term"] = _rate(
        int(changes["type"].isin(LONG_TERM).sum()), long_years
    )
    out["avoidable_changes"] = int(changes["avoidable"].sum())
    out["mean_notice_days"] = _mean(changes["notice_days"])
    # The changes a handover could be planned for: a leaver's or a long absence's.
    foreseen = changes[changes["cause"].isin(["leaver", "long_absence"])]
    out["mean_notice_days_leaver_absence"] = _mean(foreseen["notice_days"])
    out["leaver_absence_changes"] = len(foreseen)
    out["share_leaver_absence_with_notice"] = _share(foreseen["notice_days"] > 0)
    out["mean_known_days"] = _mean(changes["known_days"].dropna())
    for name, group in waiting.groupby("class", sort=True):
        out[f"waiting_child_days_{name}"] = int(group["children"].sum())
        out[f"waiting_max_{name}"] = int(group["children"].max())
    referred = children[children["referred"]]
    out["children_referred"] = len(referred)
    out["mean_waiting_days_referred"] = _mean(referred["waiting_days"])
    present = loads[~loads["absent"]]
    spread = present.groupby("day")["utilisation"].std(ddof=0)
    out["load_spread"] = round(float(spread.mean()), 4) if len(spread) else None
    out["worker_days_present"] = len(present)
    for label, lo, hi in BANDS:
        inside = (present["utilisation"] > lo) & (present["utilisation"] <= hi)
        out[f"worker_days_{label}"] = _share(inside)
    out["worker_days_over_cap"] = int(workers["days_over_cap"].sum())
    out["leavers"] = int(workers["left_day"].notna().sum())
    out["joiners"] = int((workers["joined_day"] > 0).sum())
    classes = list(dict.fromkeys(waiting["class"]))  # the policy's order
    out.update(wait_figures(tables["waits"], changes, classes, days=days))
    return out


def wait_figures(
    waits: pd.DataFrame, changes: pd.DataFrame, classes: Sequence[str] = (), *, days: int
) -> dict[str, Any]:
    """The figures of waiting, from the ``waits`` and ``changes`` tables of a run of
    ``days`` days (after the snapshot's day).

    A **wait** is one spell without a worker (``allocator.simulation.records``): a
    referral's first, or one after losing a worker; a wait open at the run's end
    counts its days so far. Medians and 90th percentiles interpolate linearly
    between waits (pandas' ``quantile``). All in days; a figure of no waits is
    ``None``, with the number of waits it is over beside it (``court_waits``, ...).

    - ``court_wait_median_days``, ``court_wait_p90_days``: median and 90th
      percentile of court children's waits;
      ``court_waits_90_days_share``: the share of them lasting 90 days or more,
      ``None`` for a run of 90 days or fewer, in which hardly any wait could last that
      long and the share would read as none did;
    - ``statutory_wait_median_days``, ``statutory_wait_p90_days``: the same for the
      waits of children of a statutory type (named by a policy priority class);
    - ``urgent_child_days_waiting``: days of the waits of children urgent when the
      wait began (urgency lasts until a worker is given), over ``urgent_waits``;
    - a **leaver's child** is a child who lost their worker to a leaver: a change
      caused by a leaver, or a leaver's wait that ended without one (still open, or
      the case closed). ``leaver_child_mean_days_without_worker``: their mean days
      between losing the worker and getting the next (0 for a handover on the day);
      ``leaver_children_told_ahead_share``: of those whose worker's leaving was
      known 7 or more days before they lost the worker, the share told of the change
      ahead (notice over 0 days);
    - by ``classes`` (a wait's class on the day it began) and by case type: the
      number of waits, their median, 90th percentile and longest.
    """
    import pandas as pd

    out: dict[str, Any] = {}
    court = waits[waits["type"] == CaseType.COURT.value]["days"]
    out["court_waits"] = len(court)
    out["court_wait_median_days"] = _quantile(court, 0.5)
    out["court_wait_p90_days"] = _quantile(court, 0.9)
    out["court_waits_90_days_share"] = (
        _share(court >= LONG_WAIT_DAYS) if _long_waits_seen(days) else None
    )
    statutory = waits[waits["statutory"]]["days"]
    out["statutory_waits"] = len(statutory)
    out["statutory_wait_median_days"] = _quantile(statutory, 0.5)
    out["statutory_wait_p90_days"] = _quantile(statutory, 0.9)
    urgent = waits[waits["urgent"]]["days"]
    out["urgent_waits"] = len(urgent)
    out["urgent_child_days_waiting"] = int(urgent.sum())

    moved = changes[changes["cause"] == "leaver"]
    unplaced = waits[(waits["cause"] == "leaver") & (waits["ended"] != "placed")]
    leaver = pd.DataFrame(
        {
            "notice_days": [*moved["notice_days"], *[0] * len(unplaced)],
            # Known before the child lost the worker: a change's ``known_days`` runs
            # to the change, which came ``days_without_worker`` after the loss.
            "known_days": [
                *(moved["known_days"] - moved["days_without_worker"]),
                *unplaced["known_days"],
            ],
            "days_without_worker": [*moved["days_without_worker"], *unplaced["days"]],
        }
    )
    ahead = leaver[leaver["known_days"].fillna(-1).astype(float) >= KNOWN_AHEAD_DAYS]
    out["leaver_children"] = len(leaver)
    out["leaver_children_known_ahead"] = len(ahead)
    out["leaver_children_told_ahead_share"] = _share(ahead["notice_days"] > 0)
    out["leaver_child_mean_days_without_worker"] = _mean(leaver["days_without_worker"])

    for kind, column, names in (
        ("class", "class", classes),
        ("type", "type", [t.value for t in CaseType]),
    ):
        for name in names:
            lengths = waits[waits[column] == name]["days"]
            out[f"waits_{kind}_{name}"] = len(lengths)
            out[f"wait_median_days_{kind}_{name}"] = _quantile(lengths, 0.5)
            out[f"wait_p90_days_{kind}_{name}"] = _quantile(lengths, 0.9)
            out[f"wait_longest_days_{kind}_{name}"] = int(lengths.max()) if len(lengths) else None
    return out


def _quantile(days: pd.Series, q: float) -> float | None:
    """The ``q`` quantile of ``days`` (linear interpolation), or None for no waits."""
    return round(float(days.quantile(q)), 3) if len(days) else None


def _mean(values: pd.Series) -> float | None:
    """The mean of ``values``, or None for no values."""
    return round(float(values.mean()), 3) if len(values) else None


#: Case types of long-term work (the look-ahead's,
#: ``allocator.domain.objectives.EXPECTED_CASE_DAYS``).
LONG_TERM = ("looked_after", "court", "adoption")


def _share(mask: pd.Series) -> float | None:
    """The share of ``mask`` that is true, or None for a share of nobody."""
    return round(float(mask.mean()), 4) if len(mask) else None


def _rate(n: int, years: float) -> float | None:
    """``n`` a year over ``years`` (child-years), or None over none."""
    return round(n / years, 4) if years else None


def combined(results: Sequence[Result]) -> dict[str, pd.DataFrame]:
    """Every method's tables, one frame per table with a ``method`` column."""
    import pandas as pd

    per = [r.recorder.tables() for r in results]
    return {k: pd.concat([t[k] for t in per], ignore_index=True) for k in per[0]}


def write_outputs(
    results: Sequence[Result],
    out: str | Path,
    *,
    title: str = "",
    plots: bool = True,
    made_with: str = "",
    made_by: str = SIMULATE,
) -> dict[str, dict[str, Any]]:
    """Write the tables, ``summary.csv``, ``report.md`` and the plots into the results
    folder ``out``, all or none (:func:`allocator.io.write_results_folder`, its
    manifest naming ``made_by``).

    ``made_with`` (the settings that reproduce the run, in words) is the report's
    first line under its title. Without ``plots``, the plots an earlier run left in
    ``out`` are removed, so that the folder holds one run; with them, a plot that
    would have no data is left out (and removed), and the report says which and why.

    Returns
    -------
    dict
        Method name -> :func:`summarise` figures.
    """
    import pandas as pd

    from allocator.io import write_results_folder

    tables = combined(results)
    events = results[0].events
    days = len(events.days) - 1
    methods = [r.method for r in results]
    summaries = {r.method: summarise(r.recorder.tables(), days) for r in results}
    files: dict[str, bytes | str] = {}
    for name in ("changes", "children", "waits", "workers"):
        files[f"{name}.csv"] = tables[name].to_csv(index=False, lineterminator="\n")
    for name in ("changes", "children", "waits", "waiting", "loads", "workers"):
        buffer = io.BytesIO()
        tables[name].to_parquet(buffer, index=False)
        files[f"{name}.parquet"] = buffer.getvalue()
    summary = pd.DataFrame([{"method": m, **s} for m, s in summaries.items()])
    files["summary.csv"] = summary.to_csv(index=False, lineterminator="\n")
    left_out = plots_without_data(tables) if plots else {}
    files["report.md"] = render_markdown(
        summaries,
        events.counts(),
        title=title,
        days=days,
        made_with=made_with,
        plots_left_out=left_out,
    )
    if plots:
        files |= plot_files(tables, methods=methods, days=days)
    # One run's files, all or none; an earlier run's plots this one leaves out go.
    write_results_folder(out, made_by, files)
    return summaries


#: The PNG files :func:`plot_files` draws.
PLOTS = ("changes_per_child.png", "waiting.png", "utilisation.png")


#: England's anchors are a year's figures: set beside a run of a year only.
YEAR_DAYS = (365, 366)


def render_markdown(
    summaries: Mapping[str, Mapping[str, Any]],
    events: Mapping[str, int],
    *,
    title: str = "",
    days: int = 365,
    made_with: str = "",
    plots_left_out: Mapping[str, str] | None = None,
) -> str:
    """The report: each figure as a row, one column per method, the anchor beside;
    ``made_with``, if given, the line under the title that says how it was run.

    ``days`` is the run's length: the children "open all run" are those open for all
    of it, and England's yearly anchors stand beside a run of a year only. A figure
    with nothing behind it (``None`` in :func:`summarise`: a share of nobody, a rate
    over no child-years) is printed "n/a", not 0. ``events`` are the run's event
    counts (:meth:`~allocator.simulation.events.EventStream.counts`);
    ``plots_left_out`` names each plot left out for want of data, with why
    (:func:`plots_without_data`).
    """
    methods = list(summaries)
    year = days in YEAR_DAYS
    whole = "open all year" if year else f"open all {counted(days, 'day')}"
    one, two = ("60% (LAC)", "26% (LAC)") if year else ("", "")
    rows: list[tuple[str, str, str]] = [
        (f"children {whole} with >= 1 change", "share_1plus_changes", one),
        (f"children {whole} with >= 2 changes", "share_2plus_changes", two),
        (f"looked-after, {whole}, >= 1 change", "looked_after_share_1plus", one[:3]),
        (f"looked-after, {whole}, >= 2 changes", "looked_after_share_2plus", two[:3]),
        ("changes per child-year", "changes_per_child_year", ""),
        (
            "  long-term work (looked after, court, adoption)",
            "changes_per_child_year_long_term",
            "",
        ),
    ]
    rows += [(f"  of which {c}", f"changes_per_child_year_{c}", "") for c in CAUSES]
    rows += [
        ("avoidable changes (no leaver, absence, cap or rule)", "avoidable_changes", "0, a target"),
        ("mean notice before a change (days)", "mean_notice_days", ""),
        ("  leaver and absence changes: mean notice (days)", "mean_notice_days_leaver_absence", ""),
        ("  leaver and absence changes: share with notice", "share_leaver_absence_with_notice", ""),
        ("mean days the cause was known before (leaver, absence)", "mean_known_days", ""),
        ("mean days unallocated per referred child", "mean_waiting_days_referred", ""),
    ]
    keys = sorted(k for k in next(iter(summaries.values())) if k.startswith("waiting_child_days_"))
    rows += [(f"child-days waiting, {k.removeprefix('waiting_child_days_')}", k, "") for k in keys]
    rows += [
        ("load spread (mean daily s.d. of load / cap)", "load_spread", ""),
        *[(f"worker-days {label}", f"worker_days_{label}", "") for label, _, _ in BANDS],
        ("worker-days over cap", "worker_days_over_cap", ""),
        ("children", "children", ""),
        ("child-years", "child_years", ""),
        ("leavers / joiners", "leavers", ""),
    ]
    lines = [f"# {title or 'A year in the life of a service'}", ""]
    if made_with:
        lines += [made_with, ""]
    lines += [
        f"A run of {counted(days, 'day')} after the snapshot's: day 0 (the snapshot's day) to day "
        f"{days}, so {days + 1} days on the books, and a wait still open at the end counts "
        f"up to {days + 1} days (docs/SIMULATION.md, a wait).",
        "",
    ]
    warnings = run_warnings(events, days)
    if warnings:
        lines += [*(f"**{w[0].upper()}{w[1:]}**" for w in warnings), ""]
    lines += where_each_loses(summaries)
    lines += _child_figures_table(summaries)
    lines += _waits_table(summaries)
    lines += ["## Every figure", ""]
    lines.append("| figure | " + " | ".join(methods) + " | England, a year |")
    lines.append("|---|" + "---|" * len(methods) + "---|")
    for label, key, anchor in rows:
        cells = []
        for m in methods:
            value = summaries[m].get(key)
            if key == "leavers":
                value = f"{summaries[m]['leavers']} / {summaries[m]['joiners']}"
            cells.append(_cell(value, percent=key.startswith(("share", "looked", "worker_days_"))))
        lines.append(f"| {label} | " + " | ".join(cells) + f" | {anchor} |")
    lines += ["", "Events in the run (the same for every method):", ""]
    lines += [f"- {k.replace('_', ' ')}: {v}" for k, v in sorted(events.items())]
    lines += ["", *_notes(summaries, days, plots_left_out or {}), ""]
    return "\n".join(lines)


def run_warnings(events: Mapping[str, int], days: int) -> list[str]:
    """What makes a whole run's figures worth little, in sentences (said once, on the
    terminal as warnings and at the top of ``report.md``): a run with no referrals.

    ``events`` as :func:`render_markdown` takes them.
    """
    if events.get("referred_children", 0) == 0:
        return [
            f"no child was referred in the {counted(days, 'day')} of the run (its "
            "referrals at --arrival-factor 0, or a service with no open cases to draw a "
            "rate from): every figure per referred child is n/a"
        ]
    return []


def short_run_note(days: int) -> str | None:
    """The sentence saying that a run of ``days`` days is too short for its figures per
    child-year (under :data:`SHORT_RUN_DAYS`), or ``None``."""
    if days >= SHORT_RUN_DAYS:
        return None
    return (
        f"Changes per child-year are scaled up from a run of {counted(days, 'day')} (under "
        f"{SHORT_RUN_DAYS}): a change or two reads as a year's rate, so they are no finding."
    )


def _long_waits_seen(days: int) -> bool:
    """Whether a run of ``days`` days can show waits of :data:`LONG_WAIT_DAYS` days or
    more as a share: only a run longer than that. In a run of 90 days only a child
    waiting from the first day to the last could, so the share read 0.0 % (a fresh
    analyst's run), as the shorter runs' did before they were n/a."""
    return days > LONG_WAIT_DAYS


def long_wait_note(days: int) -> str | None:
    """The sentence saying why the share of waits of :data:`LONG_WAIT_DAYS` days or
    more is n/a in a run of ``days`` days (:func:`wait_figures`), or ``None``."""
    if _long_waits_seen(days):
        return None
    return (
        f"The share of court children's waits of {LONG_WAIT_DAYS} days or more is n/a: "
        f"the run of {counted(days, 'day')} is no longer than {LONG_WAIT_DAYS}."
    )


def figure_value(figures: Mapping[str, Any], figure: Figure) -> float | None:
    """``figure``'s value in ``figures``, or None where there is none (n/a)."""
    value = figures.get(figure.key)
    return None if value is None else float(value)


def show(figure: Figure, value: float | None) -> str:
    """A figure's value as the report prints it: ``57.0%``, ``113 days``... or ``n/a``."""
    if value is None:
        return "n/a"
    if figure.percent:
        return f"{value:.1%}"
    return f"{value:,.3f}".rstrip("0").rstrip(".") if value != int(value) else f"{value:,.0f}"


def rests_on_few(figure: Figure, figures: Mapping[str, Any]) -> bool:
    """Whether ``figure`` in ``figures`` is computed over fewer waits (children,
    changes) than :data:`FEWEST_FOR_A_FINDING`: too few to be a finding."""
    n = figure.sample(figures)
    return n is not None and n < FEWEST_FOR_A_FINDING


def shown_with_sample(figure: Figure, figures: Mapping[str, Any]) -> str:
    """A figure's value and the number it rests on: ``12 (12 waits)``; the value alone
    for a total (``figure.sample_key`` is ``None``)."""
    text = show(figure, figure_value(figures, figure))
    n = figure.sample(figures)
    if n is None:
        return text
    one, many = figure.sample_nouns
    return f"{text} ({counted(n, one, many)})"


def where_each_loses(summaries: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """The report's first section: each method's figures worse than another method's.

    Each figure of :data:`CHILD_FIGURES` is compared method against method in its
    own direction (lower or higher is better), each value with the number of waits
    (children, changes) behind it; a comparison where either side rests on fewer
    than :data:`FEWEST_FOR_A_FINDING` is kept and marked as no finding. A figure
    either method has no value for (no court child waited) is left out, and said so.
    """
    methods = list(summaries)
    lines = ["## Where each method loses", ""]
    if len(methods) < 2:
        return [*lines, f"One method ran ({', '.join(methods)}): nothing to compare.", ""]
    lines += [
        f"Each value with the number it rests on; a comparison resting on fewer than "
        f"{FEWEST_FOR_A_FINDING} waits, children or changes is marked *few*: not a finding. "
        "No difference here is tested for chance: the spread across seeds "
        "(`python -m benchmarks.year`) is the test.",
        "",
    ]
    for m in methods:
        worse = []
        few = 0
        for f in CHILD_FIGURES:
            mine = figure_value(summaries[m], f)
            others = {o: figure_value(summaries[o], f) for o in methods if o != m}
            if mine is None or any(v is None for v in others.values()):
                continue
            better = [o for o, v in others.items() if v is not None and f.worse(mine, v)]
            if not better:
                continue
            line = f"{f.label}: {shown_with_sample(f, summaries[m])} against " + ", ".join(
                f"{o} {shown_with_sample(f, summaries[o])}" for o in better
            )
            if any(rests_on_few(f, summaries[x]) for x in (m, *better)):
                one, many = f.sample_nouns
                line += f" — *few*: under {FEWEST_FOR_A_FINDING} {many}, not a finding"
                few += 1
            worse.append(line)
        if worse:
            thin = f" ({few} of them on too few to be a finding)" if few else ""
            lines.append(
                f"- **{m}** is worse on {len(worse)} of {len(CHILD_FIGURES)} figures{thin}:"
            )
            lines += [f"  - {w}" for w in worse]
        else:
            lines.append(f"- **{m}** is worse on none of the {len(CHILD_FIGURES)} figures.")
    missing = [
        f.label
        for f in CHILD_FIGURES
        if any(figure_value(summaries[m], f) is None for m in methods)
    ]
    if missing:
        lines.append(f"- Not compared (no value for a method): {'; '.join(missing)}.")
    return [*lines, ""]


def terminal_lines(
    results: Sequence[Result], summaries: Mapping[str, Mapping[str, Any]], days: int
) -> list[str]:
    """What ``simulate`` says on the terminal, in plain text.

    First the run's warnings (:func:`run_warnings`, once for all methods), each
    ``warning: ...``. Then, with two methods or more, report.md's first section
    (:func:`where_each_loses`), so the terminal opens as the report does. Then one
    line per method: changes per child-year (n/a over no
    child-years); the shares of children open all ``days`` days with one and with
    two or more changes (beside England's for a run of a year); avoidable changes;
    the run's seconds (the clock shows here only). A run under
    :data:`SHORT_RUN_DAYS` says its rates are scaled up (:func:`short_run_note`).
    """
    lines = [f"warning: {w}" for w in run_warnings(results[0].events.counts(), days)]
    # Where each method loses first, as report.md opens: the finding before the rates.
    if len(results) > 1:
        lines += [
            line.replace("**", "").replace("*few*", "few")
            for line in where_each_loses(summaries)[2:]
            if line
        ]
    for r in results:
        s = summaries[r.method]
        if not s["children_open_all_run"]:
            shares = f"no children open all {counted(days, 'day')}"
        else:
            england = f" (England, a year: {ANCHOR_ONE_PLUS:.0%} / {ANCHOR_TWO_PLUS:.0%})"
            shares = (
                f"{s['share_1plus_changes']:.1%} >= 1 and {s['share_2plus_changes']:.1%} >= 2 "
                f"of children open all {counted(days, 'day')}"
                + (england if days in YEAR_DAYS else "")
            )
        rate = s["changes_per_child_year"]
        lines.append(
            f"{r.method}: {'n/a' if rate is None else f'{rate:g}'} changes per child-year, "
            f"{shares}, {s['avoidable_changes']} avoidable; {r.seconds:.0f} s"
        )
    note = short_run_note(days)
    if note is not None:
        lines.append(note)
    return lines


def _child_figures_table(summaries: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """What children live through: :data:`CHILD_FIGURES`, one column per method."""
    methods = list(summaries)
    lines = ["## What children live through", ""]
    lines.append("| figure | " + " | ".join(methods) + " | better |")
    lines.append("|---|" + "---|" * len(methods) + "---|")
    for f in CHILD_FIGURES:
        # Each value with the number it rests on, and marked where that is too few to be
        # a finding, as in the first section (a court median of 0 from 2 waits read as a
        # result in this table).
        cells = [_child_cell(f, summaries[m]) for m in methods]
        lines.append(f"| {f.label} | " + " | ".join(cells) + f" | {f.better} |")
    lines += [
        "",
        f"*few*: resting on fewer than {FEWEST_FOR_A_FINDING} waits, children or changes, "
        "not a finding.",
        "",
        "A wait is one spell a child spends with no worker, from referral or from losing "
        "a worker to being given one (or the case closing); a wait still open at the end "
        'of the run counts with its days so far (docs/SIMULATION.md, "Waits").',
        "",
    ]
    return lines


def _child_cell(figure: Figure, figures: Mapping[str, Any]) -> str:
    """A figure as the table of what children live through shows it: ``n/a`` with
    nothing behind it, else its value with the number it rests on, marked *few* where
    that is too few to be a finding (:func:`rests_on_few`)."""
    if figure_value(figures, figure) is None:
        return "n/a"
    few = " *few*" if rests_on_few(figure, figures) else ""
    return shown_with_sample(figure, figures) + few


def _waits_table(summaries: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """Waits by class and by case type: number, median, 90th percentile, longest (days)."""
    methods = list(summaries)
    groups: list[tuple[str, str]] = []
    for m in methods:
        for k in summaries[m]:
            if k.startswith("waits_class_") or k.startswith("waits_type_"):
                kind, name = k.removeprefix("waits_").split("_", 1)
                if (kind, name) not in groups:
                    groups.append((kind, name))
    if not groups:
        return []
    lines = [
        "## Waits by class and by case type (days)",
        "",
        "A class row counts the waits of the policy's priority class (an urgent referral "
        "is in class urgent, whatever its type); the statutory figures above count every "
        "child of a statutory type, urgent ones included, so the two medians differ.",
        "",
    ]
    lines.append(
        "| waits of | " + " | ".join(f"{m}: n, median / p90 / longest" for m in methods) + " |"
    )
    lines.append("|---|" + "---|" * len(methods))
    for kind, name in groups:
        cells = []
        for m in methods:
            s = summaries[m]
            n = s.get(f"waits_{kind}_{name}") or 0
            if not n:
                cells.append("0")
                continue
            parts = [
                _cell(s.get(f"wait_{q}_days_{kind}_{name}"), percent=False)
                for q in ("median", "p90", "longest")
            ]
            cells.append(f"{n}, {' / '.join(parts)}")
        label = f"class {name}" if kind == "class" else name.replace("_", " ")
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return [*lines, ""]


def _notes(
    summaries: Mapping[str, Mapping[str, Any]], days: int, plots_left_out: Mapping[str, str]
) -> list[str]:
    """What the figures show, in sentences: the anchors' footing, a short run's
    figures, notice, an empty run, the plots left out."""
    notes = []
    if all(not s.get("children") for s in summaries.values()):
        notes.append("The run had no children: every share is n/a.")
    if days in YEAR_DAYS:
        notes.append("England: looked-after children, 2017-18 (DfE via Community Care, 2019).")
    else:
        notes.append(
            f"England's 60% / 26% (looked-after children with >= 1 / >= 2 changes in a "
            f"year, 2017-18) are a year's figures: not comparable with a run of "
            f"{counted(days, 'day')}."
        )
    short = short_run_note(days)
    if short is not None:
        notes.append(short)
    long_waits = long_wait_note(days)
    if long_waits is not None:
        notes.append(long_waits)
    notice = {
        m: s["mean_notice_days"]
        for m, s in summaries.items()
        if s.get("changes") and s.get("mean_notice_days") is not None
    }
    if notice and all(v == 0 for v in notice.values()):
        notes.append("Notice is 0 for every change: no handover was planned ahead in this run.")
    elif notice:
        told = [f"{m} {v:g} days" for m, v in notice.items()]
        notes.append("Mean notice before a change: " + ", ".join(told) + ".")
    if plots_left_out:
        notes.append(
            "Left out, having no data: "
            + "; ".join(f"{name} ({why})" for name, why in plots_left_out.items())
            + "."
        )
    return notes


def _cell(value: object, *, percent: bool) -> str:
    if value is None:
        return "n/a"
    if percent and isinstance(value, float):
        return f"{value:.1%}"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def run_words(days: int) -> str:
    """The run's length in a plot's words: ``the year`` for a year, else ``90 days``."""
    return "the year" if days in YEAR_DAYS else f"{days} days"


def band_shares(loads: pd.DataFrame) -> pd.DataFrame:
    """Each day's share of workers at work in each utilisation band (:data:`BANDS`).

    One row per day with anyone at work, one column per band, in the bands' order;
    each row sums to 1. A band nobody is in that day has share 0 (not NaN, which
    would blank every band stacked above it in the plot).
    """
    import pandas as pd

    present = loads[~loads["absent"]]
    days = sorted(set(present["day"]))
    per_day = present.groupby("day").size()
    columns = {}
    for label, lo, hi in BANDS:
        inside = present[(present["utilisation"] > lo) & (present["utilisation"] <= hi)]
        share = inside.groupby("day").size().reindex(days, fill_value=0) / per_day.reindex(days)
        columns[label] = share.fillna(0.0).astype(float)
    return pd.DataFrame(columns, index=pd.Index(days, name="day"))


def plots_without_data(tables: Mapping[str, pd.DataFrame]) -> dict[str, str]:
    """The plots of :data:`PLOTS` that would have no data, each with why: the changes
    per child with no child open all run, the children waiting with no day recorded,
    the utilisation bands with no worker at work on any day. :func:`plot_files`
    leaves them out; the report names them."""
    children, waiting, loads = tables["children"], tables["waiting"], tables["loads"]
    left_out = {}
    if not children["open_all_run"].any():
        left_out[PLOTS[0]] = "no child was open all run"
    if waiting.empty:
        left_out[PLOTS[1]] = "no day was recorded"
    if loads["absent"].all():  # also true of no loads at all
        left_out[PLOTS[2]] = "no worker was at work on any day"
    return left_out


def changes_figure(children: pd.DataFrame, methods: Sequence[str], days: int) -> Any:
    """The bar chart of changes per child open all run: each method's bars side by
    side, centred on the whole number of changes they count; labelled by the run's
    length (``days``)."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4))
    whole = children[children["open_all_run"]]
    top = int(whole["changes"].max()) if len(whole) else 0
    width = 0.8 / max(1, len(methods))
    xs = list(range(top + 1))
    for k, m in enumerate(methods):
        counts = whole[whole["method"] == m]["changes"].value_counts(normalize=True)
        offset = (k - (len(methods) - 1) / 2) * width
        ax.bar([x + offset for x in xs], [counts.get(x, 0.0) for x in xs], width, label=m)
    ax.set_xticks(xs)
    ax.set_ylim(bottom=0)
    words = run_words(days)
    ax.set_xlabel(f"changes of worker in {words}")
    ax.set_ylabel("share of children open all " + ("year" if words == "the year" else words))
    legend_outside(ax)
    fig.tight_layout()
    return fig


def waiting_figure(waiting: pd.DataFrame, methods: Sequence[str]) -> Any:
    """Children waiting for a worker at each day's end, a line per method and class:
    whole days along, whole children up from 0."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4))
    for m in methods:
        for name, group in waiting[waiting["method"] == m].groupby("class", sort=True):
            ax.plot(group["day"], group["children"], label=f"{m}: {name}")
    ax.set_xlabel("day")
    ax.set_ylabel("children without a worker")
    whole_number_ticks(ax.xaxis)
    count_axis(ax)
    legend_outside(ax, fontsize="small")
    fig.tight_layout()
    return fig


def utilisation_figure(loads: pd.DataFrame, methods: Sequence[str]) -> Any:
    """Each day's share of workers at work in each utilisation band, a panel per
    method, stacked to 1; the bands' legend beside the last panel."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(methods), figsize=(5 * len(methods) + 1.5, 4), squeeze=False)
    for ax, m in zip(axes[0], methods, strict=True):
        shares = band_shares(loads[loads["method"] == m])
        days_at_work = list(shares.index)
        bottom = [0.0] * len(days_at_work)
        for label, _, _ in BANDS:
            top = [b + float(v) for b, v in zip(bottom, shares[label], strict=True)]
            ax.fill_between(days_at_work, bottom, top, label=label, step="post")
            bottom = top
        ax.set_title(m)
        ax.set_xlabel("day")
        ax.set_ylabel("share of workers at work")
        whole_number_ticks(ax.xaxis)
        ax.set_ylim(0, 1)
    legend_outside(axes[0][-1], fontsize="small")
    fig.tight_layout()
    return fig


def plot_files(
    tables: Mapping[str, pd.DataFrame],
    methods: Sequence[str] | None = None,
    *,
    days: int = 365,
) -> dict[str, bytes]:
    """The PNGs of :data:`PLOTS` that have data, by file name: changes per child,
    children waiting over the run, utilisation bands.

    ``methods`` (default: those in the ``waiting`` table) names the panels; ``days``
    is the run's length, for the labels. A plot with no data
    (:func:`plots_without_data`) is not drawn.
    """
    import matplotlib

    matplotlib.use("Agg")

    children, waiting, loads = tables["children"], tables["waiting"], tables["loads"]
    if methods is None:
        methods = list(dict.fromkeys(waiting["method"]))
    left_out = plots_without_data(tables)
    drawn: dict[str, bytes] = {}
    for name in PLOTS:
        if name in left_out:
            continue
        if name == PLOTS[0]:
            drawn[name] = png(changes_figure(children, methods, days))
        elif name == PLOTS[1]:
            drawn[name] = png(waiting_figure(waiting, methods))
        else:
            drawn[name] = png(utilisation_figure(loads, methods))
    return drawn
