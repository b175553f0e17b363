"""The simulation: event rates, conservation, a hand-checkable year, reproducibility."""

from __future__ import annotations

import filecmp
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("pandas")

from allocator.contract.models import (
    SNAPSHOT_FORMAT,
    Case,
    CaseType,
    Contract,
    Grade,
    Practitioner,
    Snapshot,
)
from allocator.contract.policy import Policy
from allocator.generate import generate
from allocator.simulation import (
    ConservationError,
    Decision,
    EngineMethod,
    GreedyMethod,
    Handover,
    Settings,
    compare,
    draw_events,
    simulate,
)
from allocator.simulation.events import (
    LEAVING_RATE,
    SICKNESS_SHARE,
    Absence,
    Day,
    EventStream,
    draw_duration,
    mean_duration,
)
from allocator.simulation.report import (
    PLOTS,
    combined,
    plots_without_data,
    summarise,
    write_outputs,
)
from allocator.simulation.run import is_rebalance_day

MONDAY = date(2026, 11, 23)


def _worker(
    pid: str, contract: Contract = Contract.PERMANENT, leaving_on: date | None = None
) -> Practitioner:
    return Practitioner(
        id=pid, team="T", grade=Grade.SENIOR, fte=1.0, contract=contract, leaving_on=leaving_on
    )


def _snapshot(staff: list[Practitioner], cases: list[Case]) -> Snapshot:
    return Snapshot(
        format=SNAPSHOT_FORMAT, as_of=MONDAY, practitioners=tuple(staff), cases=tuple(cases)
    )


def _quiet(snapshot: Snapshot, days: int) -> EventStream:
    """No events at all: the year is what the methods do to the snapshot."""
    return EventStream(snapshot.as_of, [Day() for _ in range(days + 1)], 0.0)


# ---------------------------------------------------------------------- event rates


def test_durations_have_their_means() -> None:
    import random

    rng = random.Random(1)
    for t in CaseType:
        draws = [draw_duration(rng, t) for _ in range(20_000)]
        assert sum(draws) / len(draws) == pytest.approx(mean_duration(t), rel=0.05), t


def test_leaving_and_sickness_rates_over_a_long_run() -> None:
    # 1,500 permanent and 500 agency workers, no cases, one year: the share leaving
    # within the year is 1 - exp(-rate) for each contract (within 4 standard errors),
    # and sickness takes about 3.2% of the days of those present.
    staff = [_worker(f"P{k:04d}") for k in range(1500)]
    staff += [_worker(f"A{k:04d}", Contract.AGENCY) for k in range(500)]
    snapshot = _snapshot(staff, [])
    events = draw_events(snapshot, seed=5, days=365)
    end = MONDAY + timedelta(days=365)
    for prefix, n, contract in (("P", 1500, Contract.PERMANENT), ("A", 500, Contract.AGENCY)):
        left = sum(1 for w, d in events.leaving_days.items() if w[0] == prefix and d <= end)
        p = 1 - pow(2.718281828, -LEAVING_RATE[contract])
        assert abs(left / n - p) < 4 * (p * (1 - p) / n) ** 0.5, (contract, left / n)
    sick_days = 0
    present_days = 0
    for w, last in events.leaving_days.items():
        if w[0] in "PA":
            present_days += min(365, (last - MONDAY).days)
    for day in events.days:
        for a in day.absences:
            if a.kind == "sickness" and a.worker[0] in "PA":
                sick_days += (min(a.back, events.leaving_days[a.worker], end) - a.start).days
    assert sick_days / present_days == pytest.approx(SICKNESS_SHARE, rel=0.15)


def test_referrals_keep_the_caseload_steady() -> None:
    # Little's law: over three years, closures and referrals balance within 10%.
    snapshot = generate(60, seed=4, referral_rate=0.0)
    events = draw_events(snapshot, seed=2, days=3 * 365)
    counts = events.counts()
    expected = events.referral_rate * 3 * 365
    assert counts["referred_children"] == pytest.approx(expected, rel=0.1)
    open_end = len(snapshot.cases) + counts["referred_children"] - counts["closures"]
    assert open_end == pytest.approx(len(snapshot.cases), rel=0.15)


def test_the_event_stream_does_not_depend_on_anything_but_seed_and_snapshot() -> None:
    snapshot = generate(20, seed=3)
    a = draw_events(snapshot, seed=9, days=120)
    b = draw_events(snapshot, seed=9, days=120)
    assert a.days == b.days and a.leaving_days == b.leaving_days
    assert draw_events(snapshot, seed=10, days=120).days != a.days


def test_contracts_behind_an_option_leave_the_service_as_it_was() -> None:
    plain = generate(40, seed=11)
    with_contracts = generate(40, seed=11, contracts=True)
    assert plain.cases == with_contracts.cases
    assert {p.contract for p in with_contracts.practitioners} > {Contract.PERMANENT}
    assert [
        p.model_copy(update={"contract": Contract.PERMANENT, "contract_end": None})
        for p in with_contracts.practitioners
    ] == list(plain.practitioners)


# --------------------------------------------------------------------- conservation


def test_conservation_holds_every_day_of_a_busy_month() -> None:
    # Checked inside simulate each day; a run that ends is a run that conserved.
    snapshot = generate(25, seed=3, contracts=True)
    result = simulate(snapshot, GreedyMethod(), settings=Settings(days=60, seed=4))
    tables = result.recorder.tables()
    assert len(tables["waiting"]) == 61 * len(Policy().class_names)


@dataclass
class _Forgetful(GreedyMethod):
    """Drops one case that needs a worker from both lists: conservation must catch it."""

    name: str = "forgetful"

    def allocate(self, snapshot: Snapshot, policy: Policy) -> Decision:
        d = super().allocate(snapshot, policy)
        if not d.needed:
            return d
        lost = min(d.needed)
        return Decision(
            {c: w for c, w in d.placed.items() if c != lost}, d.unallocated - {lost}, d.needed
        )


def test_a_lost_child_fails_loudly() -> None:
    snapshot = generate(12, seed=1)
    with pytest.raises(ConservationError, match="in neither list"):
        simulate(snapshot, _Forgetful(), settings=Settings(days=5, seed=1))


# ------------------------------------------------------------------ a year by hand


def _leaver_year() -> Snapshot:
    # P1 leaves on Thursday 3 December (day 10), known in the snapshot. P1 holds three
    # siblings of family F1; P2 holds their fourth sibling and has room; P3 has room.
    return _snapshot(
        [_worker("P1", leaving_on=date(2026, 12, 3)), _worker("P2"), _worker("P3")],
        [
            Case(id=f"C{k}", family="F1", type=CaseType.CHILD_IN_NEED, complexity=2, worker="P1")
            for k in (1, 2, 3)
        ]
        + [Case(id="C4", family="F1", type=CaseType.CHILD_IN_NEED, complexity=2, worker="P2")],
    )


@pytest.mark.parametrize("method", [EngineMethod(), GreedyMethod()], ids=["engine", "greedy"])
def test_a_leaver_with_three_children(method: EngineMethod | GreedyMethod) -> None:
    # Issue 13, item 3: the first rebalance, on Tuesday 24 November (day 1, the
    # first working day after day 0), plans the handovers of P1's three children
    # (P1 goes within the 28-day window) to P2, who has their sibling, for the last
    # weekday before P1's last day: Wednesday 2 December (day 9). The children get
    # 8 days' notice, and the change is still caused by the leaver (known 9 days
    # before it).
    snapshot = _leaver_year()
    result = simulate(
        snapshot, method, settings=Settings(days=30, seed=0), events=_quiet(snapshot, 30)
    )
    changes = result.recorder.tables()["changes"]
    assert list(changes["case"]) == ["C1", "C2", "C3"]
    assert set(changes["day"]) == {9}
    assert set(changes["to_worker"]) == {"P2"}
    assert set(changes["cause"]) == {"leaver"}
    assert set(changes["notice_days"]) == {8}
    assert set(changes["known_days"]) == {9}
    figures = summarise(result.recorder.tables(), 30)
    assert figures["avoidable_changes"] == 0
    assert figures["leavers"] == 1


@dataclass
class _PlansAhead(GreedyMethod):
    """Names P2 for P1's children on day 0, to take effect on P1's last day but one."""

    name: str = "plans-ahead"

    def allocate(self, snapshot: Snapshot, policy: Policy) -> Decision:
        d = super().allocate(snapshot, policy)
        if snapshot.as_of != MONDAY:
            return d
        on = date(2026, 12, 2)
        handovers = tuple(Handover(c, "P2", on) for c in ("C1", "C2", "C3"))
        return Decision(d.placed, d.unallocated, d.needed, handovers)


def test_a_planned_handover_is_measured_as_notice() -> None:
    # The slot for issue 13's item 3: a method that plans the handover on day 0 for
    # day 9 gives the children 9 days' notice, and the cause is still the leaver.
    snapshot = _leaver_year()
    result = simulate(
        snapshot, _PlansAhead(), settings=Settings(days=14, seed=0), events=_quiet(snapshot, 14)
    )
    changes = result.recorder.tables()["changes"]
    assert set(changes["day"]) == {9}
    assert set(changes["notice_days"]) == {9}
    assert set(changes["cause"]) == {"leaver"}


@dataclass
class _Withdraws(_PlansAhead):
    """Plans ahead on day 0, then its first rebalance (day 7) lists no handover."""

    name: str = "withdraws"

    def rebalance(self, snapshot: Snapshot, policy: Policy) -> Decision:
        d = GreedyMethod.allocate(self, snapshot, policy)
        return Decision(d.placed, d.unallocated, d.needed, ())


def test_a_rebalance_that_does_not_list_a_promise_withdraws_it() -> None:
    # A rebalance lists every handover in force: the one promised on day 0 and left
    # out on day 7 is not made on day 9 (its receiver's room was not kept for it);
    # the children lose P1 on the day P1 leaves instead, with no notice.
    snapshot = _leaver_year()
    result = simulate(
        snapshot, _Withdraws(), settings=Settings(days=14, seed=0), events=_quiet(snapshot, 14)
    )
    changes = result.recorder.tables()["changes"]
    assert 9 not in set(changes["day"])
    assert set(changes["notice_days"]) == {0}
    assert set(changes["case"]) == {"C1", "C2", "C3"}


def test_rebalance_days() -> None:
    # Weekly: the first working morning on or after each multiple of 7 days.
    assert not is_rebalance_day(0, None, 7)
    assert is_rebalance_day(7, None, 7)
    assert not is_rebalance_day(8, 7, 7)
    assert is_rebalance_day(15, 7, 7)  # day 14 was a Sunday: Monday 15th
    assert not is_rebalance_day(7, None, 0)


# ------------------------------------------------------------------ reproducibility


@pytest.mark.slow
def test_same_seed_same_files_byte_for_byte(tmp_path: Path) -> None:
    snapshot = generate(15, seed=2, contracts=True)
    for run in ("a", "b"):
        results = compare(
            snapshot,
            [EngineMethod(daily_work_units=0.05, rebalance_work_units=0.1), GreedyMethod()],
            settings=Settings(days=21, seed=3),
        )
        write_outputs(results, tmp_path / run)
    names = sorted(p.name for p in (tmp_path / "a").iterdir())
    assert "report.md" in names and "changes.parquet" in names and "waiting.png" in names
    match, mismatch, errors = filecmp.cmpfiles(tmp_path / "a", tmp_path / "b", names, shallow=False)
    assert mismatch == [] and errors == []


#: One method's change figures, as the terminal reads them: half of 10 children open
#: all year changed worker once, one in ten twice.
TERMINAL_FIGURES = {
    "children_open_all_run": 10,
    "share_1plus_changes": 0.5,
    "share_2plus_changes": 0.1,
    "changes_per_child_year": 0.75,
    "avoidable_changes": 2,
}


def _terminal_run(method: str, seconds: float) -> Any:
    """A run as :func:`~allocator.simulation.report.terminal_lines` reads it: its
    method, seconds and 40 referred children."""
    from types import SimpleNamespace

    events = SimpleNamespace(counts=lambda: {"referred_children": 40})
    return SimpleNamespace(method=method, seconds=seconds, events=events)


def test_the_terminal_sets_a_year_beside_englands_figures() -> None:
    # A year's run is set beside England's 60% / 26%; a shorter run is not, and a run
    # in which no child stayed open throughout says so instead of 0%.
    from allocator.simulation.report import terminal_lines

    figures, run = TERMINAL_FIGURES, _terminal_run("greedy", 3.2)
    assert terminal_lines([run], {"greedy": figures}, 365) == [
        "greedy: 0.75 changes per child-year, 50.0% >= 1 and 10.0% >= 2 of children open "
        "all 365 days (England, a year: 60% / 26%), 2 avoidable; 3 s"
    ]
    assert "England" not in terminal_lines([run], {"greedy": figures}, 30)[0]
    none_open = {**figures, "children_open_all_run": 0}
    assert (
        "changes per child-year, no children open all 30 days, 2 avoidable"
        in (terminal_lines([run], {"greedy": none_open}, 30)[0])
    )


def test_the_terminal_opens_with_where_each_method_loses() -> None:
    # As report.md opens: the finding (which method is worse on what) before each
    # method's rates, which a reader otherwise takes for the result.
    from allocator.simulation.report import terminal_lines

    runs = [_terminal_run(m, 1.0) for m in ("engine", "greedy")]
    figures = TERMINAL_FIGURES
    lines = terminal_lines(runs, {"engine": figures, "greedy": figures}, 365)
    first_rate = next(i for i, line in enumerate(lines) if "changes per child-year, " in line)
    assert lines[0].startswith("Each value with the number it rests on"), lines
    assert first_rate > 0 and all(
        not line.startswith(("engine:", "greedy:")) for line in lines[:first_rate]
    )


@pytest.mark.slow
def test_simulate_command(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from allocator.cli import main
    from allocator.io import write_snapshot

    path = write_snapshot(generate(10, seed=1), tmp_path / "s.json")
    out = tmp_path / "out"
    result = CliRunner().invoke(
        main,
        [
            "simulate",
            str(path),
            "--days",
            "10",
            "--seed",
            "1",
            "--work-units",
            "0.05",
            "--no-plots",
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "changes per child-year" in result.output
    assert (out / "summary.csv").read_text().startswith("method,")
    report = (out / "report.md").read_text()
    # The run says how it was made and how long it was, in days on the books.
    assert (
        f"Made with: `allocator simulate {path} --days 10 --seed 1 --method both "
        "--rebalance-every 7 --arrival-factor 1 --work-units 0.05 --rebalance-work-units 0.5` "
        "(the default policy)."
    ) in report
    assert "A run of 10 days after the snapshot's: day 0 (the snapshot's day) to day 10, so " in (
        report
    )


def test_a_run_without_plots_leaves_no_earlier_runs_plots(tmp_path: Path) -> None:
    """A fresh user's re-run with --no-plots left the last run's charts beside its
    report, telling another story."""
    snapshot = generate(5, seed=1)
    result = simulate(snapshot, GreedyMethod(), settings=Settings(days=3, seed=0))
    write_outputs([result], tmp_path, plots=True)
    assert all((tmp_path / name).exists() for name in PLOTS)
    write_outputs([result], tmp_path, plots=False)
    assert not any((tmp_path / name).exists() for name in PLOTS)
    assert (tmp_path / "report.md").exists()


@pytest.mark.parametrize("method", [EngineMethod(), GreedyMethod()], ids=["engine", "greedy"])
def test_an_announced_maternity_leave_gets_its_handover_planned(
    method: EngineMethod | GreedyMethod,
) -> None:
    # P1's maternity leave starts on Monday 21 December (day 28), announced on day 3
    # (Thursday 26 November). It comes within the 28-day window on day 0's terms from
    # Monday 23 November + 28 = 21 December: the first rebalance after the
    # announcement (the weekly one on Monday 30 November, day 7) plans C1's handover
    # to P2 for Friday 18 December (day 25): 18 days' notice, caused by the absence.
    snapshot = _snapshot(
        [_worker("P1"), _worker("P2")],
        [Case(id="C1", family="F1", type=CaseType.CHILD_IN_NEED, complexity=2, worker="P1")],
    )
    events = _quiet(snapshot, 35)
    start = date(2026, 12, 21)
    events.days[28].absences.append(
        Absence("P1", start, start + timedelta(days=273), date(2026, 11, 26), "maternity")
    )
    result = simulate(snapshot, method, settings=Settings(days=35, seed=0), events=events)
    changes = result.recorder.tables()["changes"]
    assert list(changes["case"]) == ["C1"]
    assert list(changes["day"]) == [25]
    assert list(changes["to_worker"]) == ["P2"]
    assert list(changes["cause"]) == ["long_absence"]
    assert list(changes["notice_days"]) == [18]


# ---------------------------------------------------------------- degenerate services


def _gone(p: Practitioner, on: date) -> Practitioner:
    return p.model_copy(update={"leaving_on": on})


def _degenerate() -> dict[str, tuple[Snapshot, float]]:
    """Services at the edges: each must give a whole report, not a crash."""
    some = generate(3, seed=1, load=0.9, referral_rate=0.0, policy=None)
    some = some.model_copy(update={"as_of": MONDAY})
    return {
        "no cases": (_snapshot([_worker("P1"), _worker("P2")], []), 1.0),
        "no cases, no referrals": (_snapshot([_worker("P1")], []), 0.0),
        "no staff, no cases": (_snapshot([], []), 1.0),
        "one practitioner": (_snapshot([_worker("P1")], []), 1.0),
        "everyone gone on day 0": (
            some.model_copy(
                update={"practitioners": [_gone(p, MONDAY) for p in some.practitioners]}
            ),
            0.0,
        ),
        "everyone gone on day 2": (
            _snapshot([_worker("P1", leaving_on=MONDAY + timedelta(days=2))], []),
            1.0,
        ),
        "everyone absent": (
            _snapshot(
                [_worker("P1").model_copy(update={"available_from": MONDAY + timedelta(200)})], []
            ),
            1.0,
        ),
        "no referrals": (some, 0.0),
    }


@pytest.mark.parametrize("name", list(_degenerate()))
def test_a_degenerate_service_gives_a_whole_report(name: str, tmp_path: Path) -> None:
    snapshot, factor = _degenerate()[name]
    settings = Settings(days=8, seed=1, rebalance_every=1, arrival_factor=factor)
    results = compare(snapshot, [GreedyMethod()], Policy(), settings)
    summaries = write_outputs(results, tmp_path, title=name, plots=True)
    report = (tmp_path / "report.md").read_text(encoding="utf-8")
    assert report.startswith(f"# {name}")
    # A plot with data is drawn; one without is left out, and the report says so.
    left_out = plots_without_data(combined(results))
    for png in PLOTS:
        if png in left_out:
            assert not (tmp_path / png).exists()
            assert f"{png} ({left_out[png]})" in report
        else:
            assert (tmp_path / png).stat().st_size > 0
    figures = summaries["greedy"]
    assert figures["children"] == len(results[0].recorder.children)


def test_empty_tables_have_their_columns() -> None:
    # No staff, no children: every table still has every column, typed.
    from allocator.simulation.records import (
        CHANGE_COLUMNS,
        CHILD_COLUMNS,
        LOAD_COLUMNS,
        WORKER_COLUMNS,
    )

    result = simulate(_snapshot([], []), GreedyMethod(), None, Settings(days=1, seed=1))
    tables = result.recorder.tables()
    for name, columns in [
        ("changes", CHANGE_COLUMNS),
        ("children", CHILD_COLUMNS),
        ("loads", LOAD_COLUMNS),
        ("workers", WORKER_COLUMNS),
    ]:
        assert len(tables[name]) == 0
        assert {k: str(v) for k, v in tables[name].dtypes.items()} == columns, name
    assert summarise(tables, 1)["children"] == 0


def test_simulate_a_service_with_no_cases_from_the_command_line(tmp_path: Path) -> None:
    # The fresh user's steps: an empty service, then a month of it.
    from click.testing import CliRunner

    from allocator.cli import main

    runner = CliRunner()
    snapshot, out = str(tmp_path / "l0.json"), str(tmp_path / "siml0")
    made = runner.invoke(
        main,
        ["generate", "--practitioners", "5", "--seed", "1", "--load", "0"]
        + ["--referral-rate", "0", "--out", snapshot],
    )
    assert made.exit_code == 0, made.output
    result = runner.invoke(
        main,
        ["simulate", snapshot, "--days", "30", "--method", "greedy", "--no-plots"]
        + ["--out", out + "/"],
    )
    assert result.exit_code == 0, result.output
    assert (Path(out) / "report.md").exists()
    assert (Path(out) / "summary.csv").exists()
    # The path in the message is written once, normalised: no "siml0//report.md".
    assert f"wrote {Path(out) / 'report.md'} and its tables" in result.stderr
    assert "//" not in result.stderr


def test_report_states_the_run_length_and_the_notice_it_shows() -> None:
    # A 60-day run: no yearly anchor beside its shares, and the notice sentence says
    # what the figures show (here 1.3 and 2 days), not that no method plans ahead.
    from allocator.simulation.report import render_markdown

    figures = {
        "children": 10,
        "children_open_all_run": 4,
        "looked_after_open_all_run": 0,
        "share_1plus_changes": 0.5,
        "share_2plus_changes": 0.25,
        "looked_after_share_1plus": None,  # summarise's share of nobody
        "looked_after_share_2plus": None,
        "changes": 3,
        "leavers": 1,
        "joiners": 0,
    }
    engine = {**figures, "mean_notice_days": 1.3}
    greedy = {**figures, "mean_notice_days": 2.0}
    text = render_markdown({"engine": engine, "greedy": greedy}, {}, days=60)
    assert "no method yet plans handovers" not in text
    assert "Mean notice before a change: engine 1.3 days, greedy 2 days." in text
    assert "open all year" not in text and "children open all 60 days with >= 1" in text
    assert "60% (LAC)" not in text and "not comparable with a run of 60 days" in text
    # No looked-after child open all run: the share is n/a, not 0.0%.
    row = next(line for line in text.splitlines() if line.startswith("| looked-after"))
    assert "n/a" in row and "0.0%" not in row
    year = render_markdown({"engine": engine}, {}, days=365)
    assert "children open all year with >= 1 change | 50.0% | 60% (LAC) |" in year


def test_report_of_a_service_with_no_children_prints_no_shares(tmp_path: Path) -> None:
    result = simulate(_snapshot([], []), GreedyMethod(), None, Settings(days=8, seed=1))
    write_outputs([result], tmp_path, plots=False)
    text = (tmp_path / "report.md").read_text(encoding="utf-8")
    assert "0.0%" not in text
    assert "The run had no children" in text


@pytest.mark.parametrize("method", [EngineMethod(), GreedyMethod()], ids=["engine", "greedy"])
def test_a_child_whose_worker_left_before_the_run_waits_from_day_0_with_no_change(
    method: EngineMethod | GreedyMethod,
) -> None:
    """L left 9 days before the snapshot still holding C1: the child lost L before the
    run, so day 0 records no leaver change (no method could have told them ahead) but a
    wait from day 0 (cause before_run), ended when P places them."""
    snapshot = _snapshot(
        [_worker("L", leaving_on=MONDAY - timedelta(days=9)), _worker("P")],
        [Case(id="C1", family="F1", type=CaseType.CHILD_IN_NEED, complexity=2, worker="L")],
    )
    result = simulate(
        snapshot, method, settings=Settings(days=3, seed=0), events=_quiet(snapshot, 3)
    )
    tables = result.recorder.tables()
    assert list(tables["changes"]["case"]) == []
    waits = tables["waits"]
    assert list(waits["case"]) == ["C1"] and list(waits["cause"]) == ["before_run"]
    assert list(waits["start_day"]) == [0] and list(waits["ended"]) == ["placed"]
