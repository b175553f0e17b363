"""The year's report: figures per method side by side, tables, plots.

:func:`summarise` reduces one method's tables to the figures a council would ask for;
:func:`write_outputs` writes every method's tables (CSV for the small ones, Parquet
for the daily ones), ``summary.csv``, ``report.md`` and three PNG plots. Nothing
written depends on the clock or the machine: the same seed gives the same files,
byte for byte (run times go to the terminal only).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from allocator.contract.models import CaseType
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
    share_of
        For a share, the key of its denominator: a share of nobody is n/a, not 0%.
    """

    key: str
    label: str
    better: Literal["lower", "higher"]
    percent: bool = False
    share_of: str | None = None

    def worse(self, a: float, b: float) -> bool:
        """Whether ``a`` is worse than ``b`` on this figure."""
        return a > b if self.better == "lower" else a < b


#: The figures of issue 19's table, in its order: what the year is judged on.
CHILD_FIGURES: tuple[Figure, ...] = (
    Figure("court_wait_median_days", "court children, median wait for a worker (days)", "lower"),
    Figure("court_wait_p90_days", "court children, 90th-percentile wait (days)", "lower"),
    Figure(
        "court_waits_90_days_share",
        f"court children's waits of {LONG_WAIT_DAYS} days or more",
        "lower",
        percent=True,
        share_of="court_waits",
    ),
    Figure("statutory_wait_median_days", "statutory children, median wait (days)", "lower"),
    Figure("statutory_wait_p90_days", "statutory children, 90th-percentile wait (days)", "lower"),
    Figure("urgent_child_days_waiting", "urgent child-days waiting", "lower"),
    Figure(
        "leaver_children_told_ahead_share",
        f"a leaver's children told ahead, of those whose worker's leaving was known "
        f"{KNOWN_AHEAD_DAYS}+ days before",
        "higher",
        percent=True,
        share_of="leaver_children_known_ahead",
    ),
    Figure(
        "mean_notice_days_leaver_absence",
        "mean notice, leaver and long-absence changes (days)",
        "higher",
    ),
    Figure(
        "leaver_child_mean_days_without_worker",
        "a leaver's child, mean days with no worker",
        "lower",
    ),
    Figure("worker_days_over_cap", "worker-days over cap", "lower"),
    Figure("changes_per_child_year", "changes of worker per child-year", "lower"),
    Figure("mean_waiting_days_referred", "mean wait per referred child (days)", "lower"),
)


def summarise(tables: Mapping[str, pd.DataFrame]) -> dict[str, Any]:
    """One method's year in figures (keys as in ``summary.csv``).

    Days are calendar days. The figures of :data:`CHILD_FIGURES` come from
    :func:`wait_figures`; a figure of nobody (a median of no waits) is ``None``.
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
    out["mean_notice_days"] = round(float(changes["notice_days"].mean()), 3) if len(changes) else 0
    # The changes a handover could be planned for: a leaver's or a long absence's.
    foreseen = changes[changes["cause"].isin(["leaver", "long_absence"])]
    out["mean_notice_days_leaver_absence"] = (
        round(float(foreseen["notice_days"].mean()), 3) if len(foreseen) else 0
    )
    out["leaver_absence_changes"] = len(foreseen)
    out["share_leaver_absence_with_notice"] = _share(foreseen["notice_days"] > 0)
    known = changes["known_days"].dropna()
    out["mean_known_days"] = round(float(known.mean()), 3) if len(known) else None
    for name, group in waiting.groupby("class", sort=True):
        out[f"waiting_child_days_{name}"] = int(group["children"].sum())
        out[f"waiting_max_{name}"] = int(group["children"].max())
    referred = children[children["referred"]]
    out["mean_waiting_days_referred"] = (
        round(float(referred["waiting_days"].mean()), 3) if len(referred) else 0.0
    )
    present = loads[~loads["absent"]]
    spread = present.groupby("day")["utilisation"].std(ddof=0)
    out["load_spread"] = round(float(spread.mean()), 4) if len(spread) else 0.0
    out["worker_days_present"] = len(present)
    for label, lo, hi in BANDS:
        inside = (present["utilisation"] > lo) & (present["utilisation"] <= hi)
        out[f"worker_days_{label}"] = _share(inside)
    out["worker_days_over_cap"] = int(workers["days_over_cap"].sum())
    out["leavers"] = int(workers["left_day"].notna().sum())
    out["joiners"] = int((workers["joined_day"] > 0).sum())
    classes = list(dict.fromkeys(waiting["class"]))  # the policy's order
    out.update(wait_figures(tables["waits"], changes, classes))
    return out


def wait_figures(
    waits: pd.DataFrame, changes: pd.DataFrame, classes: Sequence[str] = ()
) -> dict[str, Any]:
    """The figures of waiting, from the ``waits`` and ``changes`` tables.

    A **wait** is one spell without a worker (``allocator.simulation.records``): a
    referral's first, or one after losing a worker; a wait open at the run's end
    counts its days so far. Medians and 90th percentiles interpolate linearly
    between waits (pandas' ``quantile``). All in days.

    - ``court_wait_median_days``, ``court_wait_p90_days``: median and 90th
      percentile of court children's waits;
      ``court_waits_90_days_share``: the share of them lasting 90 days or more;
    - ``statutory_wait_median_days``, ``statutory_wait_p90_days``: the same for the
      waits of children of a statutory type (named by a policy priority class);
    - ``urgent_child_days_waiting``: days of the waits of children urgent when the
      wait began (urgency lasts until a worker is given);
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
    out["court_waits_90_days_share"] = _share(court >= LONG_WAIT_DAYS)
    statutory = waits[waits["statutory"]]["days"]
    out["statutory_waits"] = len(statutory)
    out["statutory_wait_median_days"] = _quantile(statutory, 0.5)
    out["statutory_wait_p90_days"] = _quantile(statutory, 0.9)
    out["urgent_child_days_waiting"] = int(waits[waits["urgent"]]["days"].sum())

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
            days = waits[waits[column] == name]["days"]
            out[f"waits_{kind}_{name}"] = len(days)
            out[f"wait_median_days_{kind}_{name}"] = _quantile(days, 0.5)
            out[f"wait_p90_days_{kind}_{name}"] = _quantile(days, 0.9)
            out[f"wait_longest_days_{kind}_{name}"] = int(days.max()) if len(days) else None
    return out


def _quantile(days: pd.Series, q: float) -> float | None:
    """The ``q`` quantile of ``days`` (linear interpolation), or None for no waits."""
    return round(float(days.quantile(q)), 3) if len(days) else None


def _mean(values: pd.Series) -> float | None:
    return round(float(values.mean()), 3) if len(values) else None


#: Case types of long-term work (the look-ahead's,
#: ``allocator.domain.objectives.EXPECTED_CASE_DAYS``).
LONG_TERM = ("looked_after", "court", "adoption")


def _share(mask: pd.Series) -> float:
    return round(float(mask.mean()), 4) if len(mask) else 0.0


def _rate(n: int, years: float) -> float:
    return round(n / years, 4) if years else 0.0


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
) -> dict[str, dict[str, Any]]:
    """Write the tables, ``summary.csv``, ``report.md`` and the plots into ``out``.

    ``made_with`` (the settings that reproduce the run, in words) is the report's
    first line under its title. Without ``plots``, the plots an earlier run left in
    ``out`` are removed, so that the folder holds one run.

    Returns
    -------
    dict
        Method name -> :func:`summarise` figures.
    """
    import pandas as pd

    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    tables = combined(results)
    summaries = {r.method: summarise(r.recorder.tables()) for r in results}
    for name in ("changes", "children", "waits", "workers"):
        tables[name].to_csv(folder / f"{name}.csv", index=False, lineterminator="\n")
    for name in ("changes", "children", "waits", "waiting", "loads", "workers"):
        tables[name].to_parquet(folder / f"{name}.parquet", index=False)
    summary = pd.DataFrame([{"method": m, **s} for m, s in summaries.items()])
    summary.to_csv(folder / "summary.csv", index=False, lineterminator="\n")
    events = results[0].events
    (folder / "report.md").write_text(
        render_markdown(
            summaries,
            events.counts(),
            title=title,
            days=len(events.days) - 1,
            made_with=made_with,
        ),
        encoding="utf-8",
    )
    if plots:
        write_plots(tables, folder, methods=[r.method for r in results], days=len(events.days) - 1)
    else:
        for name in PLOTS:
            (folder / name).unlink(missing_ok=True)
    return summaries


#: The PNG files :func:`write_plots` writes.
PLOTS = ("changes_per_child.png", "waiting.png", "utilisation.png")


#: England's anchors are a year's figures: set beside a run of a year only.
YEAR_DAYS = (365, 366)

#: Each share's denominator (a key of :func:`summarise`): a share of none is not 0%.
SHARE_OF: dict[str, str] = {
    "share_1plus_changes": "children_open_all_run",
    "share_2plus_changes": "children_open_all_run",
    "looked_after_share_1plus": "looked_after_open_all_run",
    "looked_after_share_2plus": "looked_after_open_all_run",
    "share_leaver_absence_with_notice": "leaver_absence_changes",
    **{f"worker_days_{label}": "worker_days_present" for label, _, _ in BANDS},
}


def render_markdown(
    summaries: Mapping[str, Mapping[str, Any]],
    events: Mapping[str, int],
    *,
    title: str = "",
    days: int = 365,
    made_with: str = "",
) -> str:
    """The report: each figure as a row, one column per method, the anchor beside;
    ``made_with``, if given, the line under the title that says how it was run.

    ``days`` is the run's length: the children "open all run" are those open for all
    of it, and England's yearly anchors stand beside a run of a year only. A share of
    nobody (no children open all run, no worker-days) is printed "n/a", not 0%.
    """
    methods = list(summaries)
    year = days in YEAR_DAYS
    whole = "open all year" if year else f"open all {days} days"
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
        f"A run of {days} days after the snapshot's: day 0 (the snapshot's day) to day "
        f"{days}, so {days + 1} days on the books, and a wait still open at the end counts "
        f"up to {days + 1} days (docs/SIMULATION.md, a wait).",
        "",
    ]
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
            elif key in SHARE_OF and not summaries[m].get(SHARE_OF[key]):
                value = None  # a share of nobody
            cells.append(_cell(value, percent=key.startswith(("share", "looked", "worker_days_"))))
        lines.append(f"| {label} | " + " | ".join(cells) + f" | {anchor} |")
    lines += ["", "Events in the run (the same for every method):", ""]
    lines += [f"- {k.replace('_', ' ')}: {v}" for k, v in sorted(events.items())]
    lines += ["", *_notes(summaries, days), ""]
    return "\n".join(lines)


def figure_value(figures: Mapping[str, Any], figure: Figure) -> float | None:
    """``figure``'s value in ``figures``, or None where there is none (a share of nobody)."""
    value = figures.get(figure.key)
    if value is None or (figure.share_of is not None and not figures.get(figure.share_of)):
        return None
    return float(value)


def show(figure: Figure, value: float | None) -> str:
    """A figure's value as the report prints it: ``57.0%``, ``113 days``... or ``n/a``."""
    if value is None:
        return "n/a"
    if figure.percent:
        return f"{value:.1%}"
    return f"{value:,.3f}".rstrip("0").rstrip(".") if value != int(value) else f"{value:,.0f}"


def where_each_loses(summaries: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """The report's first section: each method's figures worse than another method's.

    Each figure of :data:`CHILD_FIGURES` is compared method against method in its
    own direction (lower or higher is better); a figure either method has no value
    for (no court child waited) is left out, and said so.
    """
    methods = list(summaries)
    lines = ["## Where each method loses", ""]
    if len(methods) < 2:
        return [*lines, f"One method ran ({', '.join(methods)}): nothing to compare.", ""]
    missing = []
    for m in methods:
        worse = []
        for f in CHILD_FIGURES:
            mine = figure_value(summaries[m], f)
            others = {o: figure_value(summaries[o], f) for o in methods if o != m}
            if mine is None or any(v is None for v in others.values()):
                continue
            better = [
                f"{o} {show(f, v)}" for o, v in others.items() if v is not None and f.worse(mine, v)
            ]
            if better:
                worse.append(f"{f.label}: {show(f, mine)} against {', '.join(better)}")
        if worse:
            lines.append(f"- **{m}** is worse on {len(worse)} of {len(CHILD_FIGURES)} figures:")
            lines += [f"  - {w}" for w in worse]
        else:
            lines.append(f"- **{m}** is worse on none of the {len(CHILD_FIGURES)} figures.")
    for f in CHILD_FIGURES:
        if any(figure_value(summaries[m], f) is None for m in methods):
            missing.append(f.label)
    if missing:
        lines.append(f"- Not compared (no value for a method): {'; '.join(missing)}.")
    return [*lines, ""]


def terminal_lines(
    results: Sequence[Result], summaries: Mapping[str, Mapping[str, Any]], days: int
) -> list[str]:
    """What ``simulate`` says on the terminal, in plain text.

    One line per method: changes per child-year; the shares of children open all
    ``days`` days with one and with two or more changes (beside England's for a run of
    a year); avoidable changes; the run's seconds (the clock shows here only). Then,
    with two methods or more, report.md's first section (:func:`where_each_loses`).
    """
    lines = []
    for r in results:
        s = summaries[r.method]
        if not s["children_open_all_run"]:
            shares = f"no children open all {days} days"
        else:
            england = f" (England, a year: {ANCHOR_ONE_PLUS:.0%} / {ANCHOR_TWO_PLUS:.0%})"
            shares = (
                f"{s['share_1plus_changes']:.1%} >= 1 and {s['share_2plus_changes']:.1%} >= 2 "
                f"of children open all {days} days" + (england if days in YEAR_DAYS else "")
            )
        lines.append(
            f"{r.method}: {s['changes_per_child_year']:g} changes per child-year, {shares}, "
            f"{s['avoidable_changes']} avoidable; {r.seconds:.0f} s"
        )
    if len(results) > 1:
        lines += [line.replace("**", "") for line in where_each_loses(summaries)[2:] if line]
    return lines


def _child_figures_table(summaries: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """What children live through: :data:`CHILD_FIGURES`, one column per method."""
    methods = list(summaries)
    lines = ["## What children live through", ""]
    lines.append("| figure | " + " | ".join(methods) + " | better |")
    lines.append("|---|" + "---|" * len(methods) + "---|")
    for f in CHILD_FIGURES:
        cells = [show(f, figure_value(summaries[m], f)) for m in methods]
        lines.append(f"| {f.label} | " + " | ".join(cells) + f" | {f.better} |")
    lines += [
        "",
        "A wait is one spell a child spends with no worker, from referral or from losing "
        "a worker to being given one (or the case closing); a wait still open at the end "
        'of the run counts with its days so far (docs/SIMULATION.md, "Waits").',
        "",
    ]
    return lines


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


def _notes(summaries: Mapping[str, Mapping[str, Any]], days: int) -> list[str]:
    """What the figures show, in sentences: the anchors' footing, notice, an empty run."""
    notes = []
    if all(not s.get("children") for s in summaries.values()):
        notes.append("The run had no children: every share is n/a.")
    if days in YEAR_DAYS:
        notes.append("England: looked-after children, 2017-18 (DfE via Community Care, 2019).")
    else:
        notes.append(
            f"England's 60% / 26% (looked-after children with >= 1 / >= 2 changes in a "
            f"year, 2017-18) are a year's figures: not comparable with a run of {days} days."
        )
    told = [
        f"{m} {s.get('mean_notice_days', 0):g} days"
        for m, s in summaries.items()
        if s.get("changes")
    ]
    if told and all(s.get("mean_notice_days", 0) == 0 for s in summaries.values()):
        notes.append("Notice is 0 for every change: no handover was planned ahead in this run.")
    elif told:
        notes.append("Mean notice before a change: " + ", ".join(told) + ".")
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
    words = run_words(days)
    ax.set_xlabel(f"changes of worker in {words}")
    ax.set_ylabel("share of children open all " + ("year" if words == "the year" else words))
    _legend(ax)
    fig.tight_layout()
    return fig


def write_plots(
    tables: Mapping[str, pd.DataFrame],
    folder: Path,
    methods: Sequence[str] | None = None,
    *,
    days: int = 365,
) -> None:
    """Three PNGs: changes per child, children waiting over the run, utilisation bands.

    ``methods`` (default: those in the ``waiting`` table) names the panels, so a run
    with no children or no staff still gets its plots, empty; ``days`` is the run's
    length, for the labels.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    meta = {"Software": None}  # no version string: the same files from any install
    children, waiting, loads = tables["children"], tables["waiting"], tables["loads"]
    if methods is None:
        methods = list(dict.fromkeys(waiting["method"]))

    fig = changes_figure(children, methods, days)
    fig.savefig(folder / PLOTS[0], dpi=100, metadata=meta)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(7, 4))
    for m in methods:
        for name, group in waiting[waiting["method"] == m].groupby("class", sort=True):
            ax.plot(group["day"], group["children"], label=f"{m}: {name}")
    ax.set_xlabel("day")
    ax.set_ylabel("children without a worker")
    _legend(ax, fontsize="small")
    fig.tight_layout()
    fig.savefig(folder / PLOTS[1], dpi=100, metadata=meta)
    plt.close(fig)

    fig, axes = plt.subplots(1, len(methods), figsize=(5 * len(methods), 4), squeeze=False)
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
    _legend(axes[0][-1], fontsize="small", loc="lower right")
    fig.tight_layout()
    fig.savefig(folder / PLOTS[2], dpi=100, metadata=meta)
    plt.close(fig)


def _legend(ax: Any, **options: Any) -> None:
    """A legend if anything was drawn (an empty run draws nothing: no warning then)."""
    if ax.get_legend_handles_labels()[0]:
        ax.legend(**options)
