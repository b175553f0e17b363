"""What a simulated run's report may claim: figures with the number of waits behind
them, n/a where nothing is behind a figure, a short run's limits said, charts that
show only what can happen, and the command's words (a fresh analyst's faults)."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("pandas")

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import pandas as pd
from click.testing import CliRunner

from allocator.cli import main
from allocator.contract.models import SNAPSHOT_FORMAT, Case, CaseType, Grade, Practitioner, Snapshot
from allocator.contract.policy import Policy
from allocator.generate import generate
from allocator.io import write_snapshot
from allocator.simulation import GreedyMethod, Settings, compare
from allocator.simulation.forecast import Band, Forecast, ForecastSettings
from allocator.simulation.forecast_report import fan_figure
from allocator.simulation.records import CHANGE_COLUMNS, WAIT_COLUMNS, _frame
from allocator.simulation.report import (
    CHILD_FIGURES,
    FEWEST_FOR_A_FINDING,
    LONG_WAIT_DAYS,
    PLOTS,
    SHORT_RUN_DAYS,
    Figure,
    _child_figures_table,
    changes_figure,
    combined,
    plot_files,
    plots_without_data,
    render_markdown,
    rests_on_few,
    summarise,
    terminal_lines,
    utilisation_figure,
    wait_figures,
    waiting_figure,
    where_each_loses,
    write_outputs,
)
from allocator.simulation.sweep import summary_figure
from tests.test_year_figures import _wait

MONDAY = date(2026, 11, 23)


# ----------------------------------------------------- the number behind each figure

SAMPLED = [f for f in CHILD_FIGURES if f.sample_key is not None]


def _pair(figure: Figure, mine: int, theirs: int) -> dict[str, dict[str, Any]]:
    """Engine worse than greedy on ``figure`` alone, over ``mine`` and ``theirs`` waits
    (children, changes); every other figure equal."""
    base: dict[str, Any] = {f.key: 1.0 for f in CHILD_FIGURES}
    base.update({f.sample_key: 100 for f in SAMPLED if f.sample_key is not None})
    worse, better = (2.0, 1.0) if figure.better == "lower" else (0.25, 0.5)
    engine = {**base, figure.key: worse}
    greedy = {**base, figure.key: better}
    if figure.sample_key is not None:
        engine[figure.sample_key], greedy[figure.sample_key] = mine, theirs
    return {"engine": engine, "greedy": greedy}


def _losses(summaries: dict[str, dict[str, Any]], method: str = "engine") -> list[str]:
    lines = where_each_loses(summaries)
    start = next(k for k, line in enumerate(lines) if line.startswith(f"- **{method}**"))
    out = []
    for line in lines[start + 1 :]:
        if not line.startswith("  - "):
            break
        out.append(line)
    return out


@pytest.mark.parametrize("figure", SAMPLED, ids=[f.key for f in SAMPLED])
def test_each_compared_figure_shows_how_many_it_rests_on_and_few_is_no_finding(
    figure: Figure,
) -> None:
    # 12 against 14 (the fresh analyst's court median: 12 waits): both counts shown,
    # marked few. 25 against 30: shown, not marked.
    one, many = figure.sample_nouns
    (line,) = _losses(_pair(figure, 12, 14))
    assert line.startswith(f"  - {figure.label}: ")
    assert f"(12 {many}) against greedy" in line and f"(14 {many})" in line
    assert f"*few*: under {FEWEST_FOR_A_FINDING} {many}, not a finding" in line
    (line,) = _losses(_pair(figure, 25, 30))
    assert f"(25 {many})" in line and f"(30 {many})" in line and "few" not in line


@pytest.mark.parametrize(("mine", "theirs"), [(19, 200), (200, 19)])
def test_a_comparison_is_few_when_either_side_is(mine: int, theirs: int) -> None:
    figure = CHILD_FIGURES[0]
    lines = where_each_loses(_pair(figure, mine, theirs))
    assert "- **engine** is worse on 1 of 12 figures (1 of them on too few to be a finding):" in (
        lines
    )


@pytest.mark.parametrize("figure", SAMPLED, ids=[f.key for f in SAMPLED])
def test_the_table_of_what_children_live_through_marks_a_figure_on_few_too(
    figure: Figure,
) -> None:
    # A fresh user's 20-day run: a court median of 0 from 2 waits stood unmarked in
    # the table, while the first section marked only the figures that differed.
    summaries = _pair(figure, 2, 200)
    summaries["greedy"][figure.key] = summaries["engine"][figure.key]  # no difference
    (row,) = [
        line for line in _child_figures_table(summaries) if line.startswith(f"| {figure.label} |")
    ]
    one, many = figure.sample_nouns
    engine, greedy = row.split(" | ")[1:3]
    assert engine.endswith(f"(2 {many if 2 != 1 else one}) *few*"), row
    assert greedy.endswith(f"(200 {many})") and "few" not in greedy, row


def test_the_line_between_few_and_enough_is_the_documented_one() -> None:
    figure = CHILD_FIGURES[0]
    assert FEWEST_FOR_A_FINDING == 20
    assert rests_on_few(figure, {"court_waits": 19})
    assert not rests_on_few(figure, {"court_waits": 20})
    assert not rests_on_few(figure, {})  # a summary made before the count was kept


def test_a_total_shows_no_count() -> None:
    # Worker-days over cap is a total over every worker's days, not a figure of a
    # sample: no count beside it, never few.
    (over_cap,) = [f for f in CHILD_FIGURES if f.key == "worker_days_over_cap"]
    (line,) = _losses(_pair(over_cap, 0, 0))
    assert line == "  - worker-days over cap: 2 against greedy 1"


def test_every_count_a_figure_rests_on_is_in_the_summary() -> None:
    snapshot = generate(10, seed=2, contracts=True, referral_rate=0.05)
    (result,) = compare(snapshot, [GreedyMethod()], Policy(), Settings(days=20, seed=1))
    figures = summarise(result.recorder.tables(), 20)
    for f in SAMPLED:
        assert isinstance(figures[f.sample_key or ""], int), f.key
    tables = result.recorder.tables()
    assert figures["urgent_waits"] == int(tables["waits"]["urgent"].sum())
    assert figures["children_referred"] == int(tables["children"]["referred"].sum())


# -------------------------------------------------------- n/a where nothing is behind


def _worker(pid: str, **extra: Any) -> Practitioner:
    return Practitioner(id=pid, team="T", grade=Grade.SENIOR, fte=1.0, **extra)


def _snapshot(staff: list[Practitioner], cases: list[Case]) -> Snapshot:
    return Snapshot(
        format=SNAPSHOT_FORMAT, as_of=MONDAY, practitioners=tuple(staff), cases=tuple(cases)
    )


#: Each figure that is a share, mean, median or rate, and what it is over: when that
#: is 0 the figure is n/a (None; an empty cell in summary.csv), never 0.
OVER: dict[str, str] = {
    "share_1plus_changes": "children_open_all_run",
    "share_2plus_changes": "children_open_all_run",
    "looked_after_share_1plus": "looked_after_open_all_run",
    "looked_after_share_2plus": "looked_after_open_all_run",
    "changes_per_child_year": "child_years",
    **{f"changes_per_child_year_{c}": "child_years" for c in ("leaver", "rule", "choice")},
    "mean_notice_days": "changes",
    "mean_notice_days_leaver_absence": "leaver_absence_changes",
    "share_leaver_absence_with_notice": "leaver_absence_changes",
    "mean_known_days": "changes",
    "mean_waiting_days_referred": "children_referred",
    "load_spread": "worker_days_present",
    "worker_days_under 70%": "worker_days_present",
    "worker_days_over 100%": "worker_days_present",
    "court_wait_median_days": "court_waits",
    "court_wait_p90_days": "court_waits",
    "court_waits_90_days_share": "court_waits",
    "statutory_wait_median_days": "statutory_waits",
    "statutory_wait_p90_days": "statutory_waits",
    "leaver_children_told_ahead_share": "leaver_children_known_ahead",
    "leaver_child_mean_days_without_worker": "leaver_children",
}


def _services() -> dict[str, tuple[Snapshot, float]]:
    some = generate(3, seed=1, load=0.9, referral_rate=0.0, policy=None)
    return {
        "no cases": (_snapshot([_worker("P1")], []), 1.0),
        "no staff, no cases": (_snapshot([], []), 1.0),
        "no referrals": (some.model_copy(update={"as_of": MONDAY}), 0.0),
        "everyone absent": (
            _snapshot(
                [_worker("P1", available_from=MONDAY + timedelta(200))],
                [Case(id="C1", family="F1", type=CaseType.COURT, complexity=2)],
            ),
            1.0,
        ),
    }


@pytest.mark.parametrize("name", list(_services()))
def test_a_figure_over_nothing_is_na_in_the_summary_the_csv_and_the_report(
    name: str, tmp_path: Path
) -> None:
    snapshot, factor = _services()[name]
    settings = Settings(days=120, seed=1, arrival_factor=factor)
    results = compare(snapshot, [GreedyMethod()], Policy(), settings)
    figures = write_outputs(results, tmp_path, plots=False)["greedy"]
    csv = pd.read_csv(tmp_path / "summary.csv", keep_default_na=False)
    report = (tmp_path / "report.md").read_text(encoding="utf-8")
    empty = [key for key, over in OVER.items() if not figures[over]]
    assert empty, "each service leaves some figure with nothing behind it"
    for key in empty:
        assert figures[key] is None, key
        assert csv.loc[0, key] == "", key
    if not figures["child_years"]:
        assert "| changes per child-year | n/a |" in report
        said = "\n".join(terminal_lines(results, {"greedy": figures}, 120))
        assert "greedy: n/a changes per child-year" in said
    if not figures["children_referred"]:
        assert "| mean wait per referred child (days) | n/a | lower |" in report


def test_a_run_with_no_referrals_warns_once(tmp_path: Path) -> None:
    snapshot = write_snapshot(
        generate(6, seed=1, referral_rate=0.0).model_copy(update={"as_of": MONDAY}),
        tmp_path / "s.json",
    )
    out = tmp_path / "run"
    result = CliRunner().invoke(
        main,
        ["simulate", str(snapshot), "--days", "10", "--arrival-factor", "0", "--no-plots"]
        + ["--work-units", "0.05", "--rebalance-work-units", "0.05", "--out", str(out)],
    )
    assert result.exit_code == 0, result.output
    said = "warning: no child was referred in the 10 days of the run"
    assert result.stderr.count(said) == 1, result.stderr  # two methods, one warning
    report = (out / "report.md").read_text(encoding="utf-8")
    assert report.count("No child was referred in the 10 days of the run") == 1
    summary = pd.read_csv(out / "summary.csv", keep_default_na=False)
    assert list(summary["mean_waiting_days_referred"]) == ["", ""]


def test_a_run_with_referrals_warns_of_nothing(tmp_path: Path) -> None:
    snapshot = generate(6, seed=1, referral_rate=0.0).model_copy(update={"as_of": MONDAY})
    results = compare(snapshot, [GreedyMethod()], Policy(), Settings(days=30, seed=1))
    assert results[0].events.counts()["referred_children"] > 0
    figures = summarise(results[0].recorder.tables(), 30)
    assert not any(
        line.startswith("warning") for line in terminal_lines(results, {"greedy": figures}, 30)
    )


# ------------------------------------------------------------------- a short run


def _whole_summary(figures: dict[str, Any]) -> dict[str, Any]:
    """``figures`` with the counts every report row reads (none happened)."""
    return {"leavers": 0, "joiners": 0, "children": 1, **figures}


def _court_waits() -> pd.DataFrame:
    # Court waits of 5 and 50 days: none of 90 days, which a run of under 90 days
    # could not show anyway.
    rows = [_wait(f"C{k}", "court", days) for k, days in enumerate((5, 50))]
    return _frame(rows, WAIT_COLUMNS)


@pytest.mark.parametrize(
    ("days", "share"),
    [(1, None), (60, None), (LONG_WAIT_DAYS - 1, None), (90, None), (91, 0.0), (365, 0.0)],
)
def test_the_share_of_90_day_waits_is_na_in_a_run_too_short_for_one(
    days: int, share: float | None
) -> None:
    figures = wait_figures(_court_waits(), _frame([], CHANGE_COLUMNS), days=days)
    assert figures["court_waits"] == 2
    assert figures["court_waits_90_days_share"] == share
    report = render_markdown({"m": _whole_summary(figures)}, {"referred_children": 1}, days=days)
    said = "The share of court children's waits of 90 days or more is n/a"
    assert (said in report) is (share is None)


@pytest.mark.parametrize("days", [1, SHORT_RUN_DAYS - 1, SHORT_RUN_DAYS, 60, 365])
def test_rates_scaled_from_a_short_run_say_so(days: int) -> None:
    from types import SimpleNamespace

    figures = {"children_open_all_run": 0, "changes_per_child_year": 4.52, "avoidable_changes": 0}
    short = days < SHORT_RUN_DAYS
    report = render_markdown({"m": _whole_summary(figures)}, {"referred_children": 1}, days=days)
    assert ("Changes per child-year are scaled up from a run of" in report) is short
    events = SimpleNamespace(counts=lambda: {"referred_children": 1})
    run: Any = SimpleNamespace(method="m", seconds=0.0, events=events)
    said = "\n".join(terminal_lines([run], {"m": figures}, days))
    assert ("scaled up from a run of" in said) is short


@pytest.mark.parametrize("days", [1, 60, 365])
def test_the_year_benchmark_says_the_same_of_a_short_run(days: int) -> None:
    from benchmarks.year import render_markdown as year_markdown

    text = year_markdown(
        [], classes=["steady"], practitioners=[8], seeds=[1], days=days, policy=None
    )
    assert ("scaled up from a run of" in text) is (days < SHORT_RUN_DAYS)
    assert ("waits of 90 days or more is n/a" in text) is (days < LONG_WAIT_DAYS)


def test_the_year_benchmark_cells_leave_the_90_day_share_out_of_a_short_run() -> None:
    # A cell's figures come from summarise, with the cell's days: the same rule.
    from allocator.simulation.sweep import run_cell

    settings = {
        "service": {"name": "s", "practitioners": 6, "seed": 1, "contracts": True},
        "policy": {"name": "p"},
        "seed": 1,
        "method": "greedy",
        "days": 30,
        "work_units": 0.05,
        "rebalance_work_units": 0.05,
    }
    row = run_cell(settings)["row"]
    assert row["court_waits_90_days_share"] is None


# ---------------------------------------------------------------------- the charts


def _whole(ticks: Any) -> bool:
    return all(float(t).is_integer() for t in ticks)


def _legends_clear(fig: Any) -> bool:
    """Every legend of ``fig`` lies inside the figure and over no axes' data area."""
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    legends = [ax.get_legend() for ax in fig.axes if ax.get_legend() is not None]
    assert legends, "a chart with labelled data has a legend"
    page = fig.bbox
    for legend in legends:
        box = legend.get_window_extent(renderer)
        inside = page.x0 <= box.x0 and box.x1 <= page.x1 + 0.5
        if not inside or any(box.overlaps(ax.get_window_extent(renderer)) for ax in fig.axes):
            return False
    return True


def _waiting(days: int, counts: list[float]) -> pd.DataFrame:
    rows = [
        {"method": m, "day": d, "class": c, "children": counts[d % len(counts)]}
        for m in ("engine", "greedy")
        for c in ("urgent", "statutory", "other")
        for d in range(days + 1)
    ]
    return pd.DataFrame(rows)


@pytest.mark.parametrize(("days", "counts"), [(1, [0]), (1, [0, 1]), (10, [0, 3]), (365, [40])])
def test_children_waiting_are_whole_children_over_whole_days_from_0(
    days: int, counts: list[float]
) -> None:
    # A day run with nobody waiting drew ticks at day 0.2 and a y axis from -0.04.
    fig = waiting_figure(_waiting(days, counts), ["engine", "greedy"])
    ax = fig.axes[0]
    assert _whole(ax.get_xticks()) and _whole(ax.get_yticks())
    assert ax.get_ylim()[0] == 0 and ax.get_ylim()[1] >= max(1, *counts)
    assert _legends_clear(fig)
    plt.close(fig)


def _loads(days: int) -> pd.DataFrame:
    rows = [
        {"method": m, "day": d, "worker": w, "utilisation": u, "absent": False}
        for m in ("engine", "greedy")
        for d in range(days + 1)
        for w, u in (("P1", 0.5), ("P2", 0.9), ("P3", 1.2))
    ]
    return pd.DataFrame(rows)


@pytest.mark.parametrize("days", [1, 30])
def test_the_utilisation_panels_count_whole_days_and_keep_the_legend_off_the_bands(
    days: int,
) -> None:
    fig = utilisation_figure(_loads(days), ["engine", "greedy"])
    for ax in fig.axes:
        assert _whole(ax.get_xticks())
        assert ax.get_ylim() == (0.0, 1.0)
    assert _legends_clear(fig)
    plt.close(fig)


def test_the_changes_bars_start_at_0_with_the_legend_beside_them() -> None:
    children = pd.DataFrame(
        [{"method": m, "open_all_run": True, "changes": n} for m in ("a", "b") for n in (0, 1, 1)]
    )
    fig = changes_figure(children, ["a", "b"], 30)
    assert fig.axes[0].get_ylim()[0] == 0
    assert _legends_clear(fig)
    plt.close(fig)


def _forecast(medians: list[float]) -> Forecast:
    bands: list[Band | None] = [Band(0.0, m, m + 1, m, 10) for m in medians]
    return Forecast(
        as_of=MONDAY,
        settings=ForecastSettings(weeks=len(medians), runs=10, seed=1),
        weeks={"waiting urgent": bands, "waiting statutory": bands, "waiting all": bands},
        children=[],
        workers=[],
        notes=(),
        seconds=0.0,
        runs=[],
        waiting_today={"waiting urgent": 0, "waiting statutory": 1},
    )


@pytest.mark.parametrize("medians", [[0.5, 1.5], [0.0, 0.0], [12.5, 30.0, 7.0]])
def test_the_fan_chart_counts_whole_children_from_0_with_the_legend_beside_it(
    medians: list[float],
) -> None:
    # Medians of counts may sit at a half; the ticks may not.
    fig = fan_figure(_forecast(medians))
    ax = fig.axes[0]
    assert _whole(ax.get_yticks()) and _whole(ax.get_xticks())
    assert ax.get_ylim()[0] == 0
    assert _legends_clear(fig)
    plt.close(fig)


def test_the_sweep_summary_counts_whole_children_with_legends_beside_the_bars() -> None:
    totals = pd.DataFrame(
        {
            "policy": ["cap80", "cap100"],
            "method": ["greedy", "greedy"],
            **{
                f"{k}{s}": [0.4, 1.6]
                for k in (
                    "fte_short_nqsw",
                    "fte_short_social_worker",
                    "fte_short_all",
                    "waiting_urgent",
                    "waiting_other",
                    "waiting_all",
                    "changes_per_child_year",
                )
                for s in ("", "_min", "_max")
            },
        }
    )
    fig = summary_figure(totals)
    waiting = fig.axes[1]
    assert _whole(waiting.get_yticks()) and waiting.get_ylim()[0] == 0
    assert _legends_clear(fig)
    plt.close(fig)


def _tables(**frames: pd.DataFrame) -> dict[str, pd.DataFrame]:
    children = pd.DataFrame([{"method": "m", "open_all_run": True, "changes": 1}])
    waiting = pd.DataFrame([{"method": "m", "day": 0, "class": "urgent", "children": 0}])
    loads = pd.DataFrame(
        [{"method": "m", "day": 0, "worker": "P1", "utilisation": 0.5, "absent": False}]
    )
    return {"children": children, "waiting": waiting, "loads": loads, **frames}


@pytest.mark.parametrize(
    ("plot", "tables"),
    [
        (
            "changes_per_child.png",
            _tables(children=pd.DataFrame({"method": [], "open_all_run": [], "changes": []})),
        ),
        (
            "waiting.png",
            _tables(waiting=pd.DataFrame(columns=["method", "day", "class", "children"])),
        ),
        (
            "utilisation.png",
            _tables(
                loads=pd.DataFrame(
                    [{"method": "m", "day": 0, "worker": "P1", "utilisation": 0.0, "absent": True}]
                )
            ),
        ),
    ],
)
def test_a_chart_with_no_data_is_left_out_and_the_report_says_why(
    plot: str, tables: dict[str, pd.DataFrame], tmp_path: Path
) -> None:
    drawn = plot_files(tables, ["m"], days=5)
    left_out = plots_without_data(tables)
    assert list(left_out) == [plot]
    assert sorted(drawn) == sorted(other for other in PLOTS if other != plot)
    report = render_markdown(
        {"m": _whole_summary({})}, {"referred_children": 1}, days=5, plots_left_out=left_out
    )
    assert f"Left out, having no data: {plot} ({left_out[plot]})." in report


def test_a_service_with_no_cases_draws_no_blank_changes_chart(tmp_path: Path) -> None:
    snapshot = _snapshot([_worker("P1")], [])
    results = compare(snapshot, [GreedyMethod()], Policy(), Settings(days=5, seed=1))
    assert "changes_per_child.png" in plots_without_data(combined(results))
    write_outputs(results, tmp_path)
    assert not (tmp_path / "changes_per_child.png").exists()
    assert "changes_per_child.png (no child was open all run)" in (
        (tmp_path / "report.md").read_text(encoding="utf-8")
    )


# ----------------------------------------------------------------- the command's words


def test_simulate_help_names_the_run_by_its_days() -> None:
    result = CliRunner().invoke(main, ["simulate", "--help"])
    assert result.exit_code == 0
    text = " ".join(result.output.split())
    assert "for a year;" not in text and "for --days days (a year by default)" in text
