"""The year's report: figures per method side by side, tables, plots.

:func:`summarise` reduces one method's tables to the figures a council would ask for;
:func:`write_outputs` writes every method's tables (CSV for the small ones, Parquet
for the daily ones), ``summary.csv``, ``report.md`` and three PNG plots. Nothing
written depends on the clock or the machine: the same seed gives the same files,
byte for byte (run times go to the terminal only).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

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


def summarise(tables: Mapping[str, pd.DataFrame]) -> dict[str, Any]:
    """One method's year in figures (keys as in ``summary.csv``)."""
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
    return out


#: Case types of long-term work (the look-ahead's, ``allocator.objectives.EXPECTED_CASE_DAYS``).
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
    results: Sequence[Result], out: str | Path, *, title: str = "", plots: bool = True
) -> dict[str, dict[str, Any]]:
    """Write the tables, ``summary.csv``, ``report.md`` and the plots into ``out``.

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
    for name in ("changes", "children", "workers"):
        tables[name].to_csv(folder / f"{name}.csv", index=False, lineterminator="\n")
    for name in ("changes", "children", "waiting", "loads", "workers"):
        tables[name].to_parquet(folder / f"{name}.parquet", index=False)
    summary = pd.DataFrame([{"method": m, **s} for m, s in summaries.items()])
    summary.to_csv(folder / "summary.csv", index=False, lineterminator="\n")
    events = results[0].events
    (folder / "report.md").write_text(
        render_markdown(summaries, events.counts(), title=title, days=len(events.days) - 1),
        encoding="utf-8",
    )
    if plots:
        write_plots(tables, folder, methods=[r.method for r in results])
    return summaries


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
) -> str:
    """The report: each figure as a row, one column per method, the anchor beside.

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
        ("avoidable changes (no leaver, absence, cap or rule)", "avoidable_changes", "0"),
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
    lines += [f"A run of {days} days.", ""]
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


def write_plots(
    tables: Mapping[str, pd.DataFrame], folder: Path, methods: Sequence[str] | None = None
) -> None:
    """Three PNGs: changes per child, children waiting over the year, utilisation bands.

    ``methods`` (default: those in the ``waiting`` table) names the panels, so a run
    with no children or no staff still gets its plots, empty.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    meta = {"Software": None}  # no version string: the same files from any install
    children, waiting, loads = tables["children"], tables["waiting"], tables["loads"]
    if methods is None:
        methods = list(dict.fromkeys(waiting["method"]))

    fig, ax = plt.subplots(figsize=(7, 4))
    whole = children[children["open_all_run"]]
    top = int(whole["changes"].max()) if len(whole) else 0
    width = 0.8 / max(1, len(methods))
    for k, m in enumerate(methods):
        counts = whole[whole["method"] == m]["changes"].value_counts(normalize=True)
        xs = list(range(top + 1))
        ax.bar([x + k * width for x in xs], [counts.get(x, 0.0) for x in xs], width, label=m)
    ax.set_xlabel("changes of worker in the year")
    ax.set_ylabel("share of children open all year")
    _legend(ax)
    fig.tight_layout()
    fig.savefig(folder / "changes_per_child.png", dpi=100, metadata=meta)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(7, 4))
    for m in methods:
        for name, group in waiting[waiting["method"] == m].groupby("class", sort=True):
            ax.plot(group["day"], group["children"], label=f"{m}: {name}")
    ax.set_xlabel("day")
    ax.set_ylabel("children without a worker")
    _legend(ax, fontsize="small")
    fig.tight_layout()
    fig.savefig(folder / "waiting.png", dpi=100, metadata=meta)
    plt.close(fig)

    fig, axes = plt.subplots(1, len(methods), figsize=(5 * len(methods), 4), squeeze=False)
    for ax, m in zip(axes[0], methods, strict=True):
        present = loads[(loads["method"] == m) & ~loads["absent"]]
        days = sorted(set(present["day"]))
        bottom = [0.0] * len(days)
        for label, lo, hi in BANDS:
            inside = present[(present["utilisation"] > lo) & (present["utilisation"] <= hi)]
            share = inside.groupby("day").size() / present.groupby("day").size()
            values = [float(share.get(d, 0.0)) for d in days]
            ax.fill_between(
                days,
                bottom,
                [b + v for b, v in zip(bottom, values, strict=True)],
                label=label,
                step="post",
            )
            bottom = [b + v for b, v in zip(bottom, values, strict=True)]
        ax.set_title(m)
        ax.set_xlabel("day")
        ax.set_ylabel("share of workers at work")
    _legend(axes[0][-1], fontsize="small", loc="lower right")
    fig.tight_layout()
    fig.savefig(folder / "utilisation.png", dpi=100, metadata=meta)
    plt.close(fig)


def _legend(ax: Any, **options: Any) -> None:
    """A legend if anything was drawn (an empty run draws nothing: no warning then)."""
    if ax.get_legend_handles_labels()[0]:
        ax.legend(**options)
