"""The forecast: a hand-checkable leaver, what the snapshot knows kept, same seed same
bytes, and every kind of bad input refused in one sentence."""

from __future__ import annotations

import dataclasses
import json
import random
from datetime import date, timedelta
from pathlib import Path
from typing import cast

import pytest

pytest.importorskip("pandas")

from click.testing import CliRunner

from allocator.cli import main
from allocator.contract.models import (
    SNAPSHOT_FORMAT,
    Case,
    CaseType,
    Grade,
    Handover,
    PendingHandovers,
    Practitioner,
    Snapshot,
)
from allocator.contract.policy import Policy
from allocator.generate import generate
from allocator.io import write_snapshot
from allocator.simulation import GreedyMethod, Settings, simulate
from allocator.simulation import forecast as fmod
from allocator.simulation.events import Day, EventStream
from allocator.simulation.forecast import (
    Calibration,
    ChildOutlook,
    ForecastError,
    ForecastSettings,
    forecast,
    forecast_events,
    measure,
    remaining_days,
    shortage_grades,
)
from allocator.simulation.forecast_report import summary_lines, workers_csv, write_forecast

MONDAY = date(2026, 11, 23)


def _snapshot(staff: list[Practitioner], cases: list[Case]) -> Snapshot:
    return Snapshot(
        format=SNAPSHOT_FORMAT, as_of=MONDAY, practitioners=tuple(staff), cases=tuple(cases)
    )


def _child(cid: str, worker: str | None, family: str = "F1") -> Case:
    return Case(id=cid, family=family, type=CaseType.CHILD_IN_NEED, complexity=1, worker=worker)


@pytest.fixture
def quiet(monkeypatch: pytest.MonkeyPatch) -> None:
    """No random events: each run is what the method does to what the snapshot knows."""

    def draw(snapshot: Snapshot, *, seed: int, days: int, **_: object) -> EventStream:
        return EventStream(snapshot.as_of, [Day() for _ in range(days + 1)], 0.0)

    monkeypatch.setattr(fmod, "draw_events", draw)


def _leaver(receiver_cap: float) -> Snapshot:
    # P1 leaves on Thursday 3 December (day 10, in week 2: days 8-14) holding three
    # children of one family; P2 is the only other worker, with ``receiver_cap`` points.
    leaves = MONDAY + timedelta(days=10)
    staff = [
        Practitioner(id="P1", team="T", grade=Grade.SENIOR, fte=1.0, leaving_on=leaves),
        Practitioner(id="P2", team="T", grade=Grade.SENIOR, fte=1.0, capacity_points=receiver_cap),
    ]
    return _snapshot(staff, [_child(f"C{k}", "P1") for k in (1, 2, 3)])


def test_a_leaver_with_three_children_and_no_room_anywhere(quiet: None) -> None:
    # No one has room (P2's cap is 0): every run, on day 10 P1 has gone and each child
    # is left waiting. Chance 1, week 2, cause leaver, waited in every run; the three
    # are waiting at the end of weeks 2 and 3 in every run, none at week 1's end.
    fc = forecast(_leaver(0.0), settings=ForecastSettings(weeks=3, runs=4, seed=1))
    assert [(o.case, o.chance, o.week, o.cause, o.chance_waiting) for o in fc.children] == [
        (c, 1.0, 2, "leaver", 1.0) for c in ("C1", "C2", "C3")
    ]
    assert {o.known for o in fc.children} == {"P1 leaves on 2026-12-03"}
    waiting = fc.weeks["waiting all"]
    assert [(b.p10, b.p90) for b in waiting if b] == [(0, 0), (3, 3), (3, 3)]
    needed = fc.weeks["handovers needed"]
    assert [b.mean for b in needed if b] == [0, 3, 0]
    assert [b.mean for b in fc.weeks["handovers with notice"] if b] == [0, 0, 0]
    # The longest wait under way at week 3's end: from day 10 to day 21.
    long = fc.weeks["statutory longest wait days"][2]
    assert long is not None and long.p50 == 0  # child in need is not statutory
    lines = summary_lines(fc)
    assert any("P1 leaves on 2026-12-03: 3 children" in line for line in lines)


def test_a_child_whose_worker_left_before_today_has_waited_since_they_left(
    quiet: None,
) -> None:
    # P1 left 22 days before the snapshot still holding a child-protection child
    # (statutory); nobody has room. At week 1's end the child has waited 22 + 7 days,
    # as the engine counts days waited (from the worker's last day).
    gone = MONDAY - timedelta(days=22)
    staff = [
        Practitioner(id="P1", team="T", grade=Grade.SENIOR, fte=1.0, leaving_on=gone),
        Practitioner(id="P2", team="T", grade=Grade.SENIOR, fte=1.0, capacity_points=0.0),
    ]
    cp = Case(id="C1", family="F1", type=CaseType.CHILD_PROTECTION, complexity=1, worker="P1")
    fc = forecast(_snapshot(staff, [cp]), settings=ForecastSettings(weeks=1, runs=1, seed=1))
    long = fc.weeks["statutory longest wait days"][0]
    assert long is not None and long.p50 == 29


def test_a_worker_who_left_before_today_is_no_departure_and_their_children_wait_today(
    quiet: None,
) -> None:
    """A fresh user's forecast started its chart at 1 child waiting though 20 more had
    lost their worker before the snapshot, and asked for handovers for them: they
    have no worker today, so they wait from week 0 and lose no worker in the weeks."""
    staff = [
        Practitioner(
            id="P1", team="T", grade=Grade.SENIOR, fte=1.0, leaving_on=MONDAY - timedelta(days=9)
        ),
        Practitioner(
            id="P2", team="T", grade=Grade.SENIOR, fte=1.0, leaving_on=MONDAY + timedelta(days=3)
        ),
        Practitioner(id="P3", team="T", grade=Grade.SENIOR, fte=1.0, capacity_points=0.0),
    ]
    cases = [_child("C1", "P1"), _child("C2", "P1", "F2"), _child("C3", "P2", "F3")]
    cases.append(_child("C4", None, "F4"))
    fc = forecast(_snapshot(staff, cases), settings=ForecastSettings(weeks=2, runs=2, seed=1))
    assert fc.waiting_today == {"waiting urgent": 0, "waiting statutory": 0, "waiting other": 3}
    assert [(o.case, o.known) for o in fc.children] == [("C3", "P2 leaves on 2026-11-26")]
    assert [b.mean for b in fc.weeks["children losing their worker"] if b] == [1, 0]
    lines = summary_lines(fc)
    assert "Children without a worker today: 3 (urgent 0, statutory 0, other 3)." in lines
    assert "Departing workers' children with no handover yet: 1 of 1." in lines
    assert not any("P1" in line for line in lines)
    assert any(
        n.startswith("2 children whose worker has left (P1's last day ") for n in fc.notes
    ), fc.notes
    # Two runs make no spread, and the notes say so.
    assert any(n.startswith("Only 2 runs: each 10-90% band spans") for n in fc.notes)


def test_a_leaver_whose_children_have_a_receiver_are_handed_over_with_notice(
    quiet: None,
) -> None:
    # P2 has room for all three: the first rebalance (day 7) plans their handover for
    # the last weekday before P1 goes (Wednesday 2 December, day 9), so each child
    # changes worker in week 2, with notice, and never waits.
    fc = forecast(_leaver(100.0), settings=ForecastSettings(weeks=3, runs=2, seed=1))
    assert [(o.chance, o.week, o.chance_waiting) for o in fc.children] == [(1.0, 2, 0.0)] * 3
    assert [b.mean for b in fc.weeks["handovers with notice"] if b] == [0, 3, 0]
    assert all(b is not None and b.p90 == 0 for b in fc.weeks["waiting all"])


def test_workers_over_cap_are_named_with_their_chance(quiet: None) -> None:
    # P1 holds three children of weight above a 1-point cap and nobody may take them
    # (P2 has none): over cap at every week's end in every run.
    staff = [
        Practitioner(id="P1", team="T", grade=Grade.SENIOR, fte=1.0, capacity_points=1.0),
        Practitioner(id="P2", team="T", grade=Grade.SENIOR, fte=1.0, capacity_points=0.0),
    ]
    snap = _snapshot(staff, [_child(f"C{k}", "P1") for k in (1, 2, 3)])
    fc = forecast(snap, settings=ForecastSettings(weeks=2, runs=2))
    assert [(o.worker, o.chance_over_cap, o.weeks_over_cap, o.by_week) for o in fc.workers] == [
        ("P1", 1.0, 2.0, (1.0, 1.0))
    ]
    header, row = workers_csv(fc).splitlines()
    assert header.endswith(",known,week_1,week_2") and row.endswith(",1,1")
    assert [b.p50 for b in fc.weeks["workers over cap"] if b] == [1, 1]


def test_measure_counts_the_waiting_the_simulator_records() -> None:
    snap = generate(8, seed=2)
    result = simulate(snap, GreedyMethod(), Policy(), Settings(days=14, seed=3))
    figures = measure(result.recorder, snap, 2)
    for w, d in enumerate((7, 14)):
        rows = [r for r in result.recorder.waiting if r["day"] == d]
        assert figures.weekly["waiting all"][w] == sum(int(str(r["children"])) for r in rows)


# ----------------------------------------------------------- what the snapshot knows


def test_a_planned_absence_is_in_every_run_and_overlapping_draws_are_dropped() -> None:
    start, back = MONDAY + timedelta(days=12), MONDAY + timedelta(days=40)
    snap = generate(10, seed=1)
    first = snap.practitioners[0].model_copy(update={"absence_from": start, "absence_until": back})
    snap = snap.model_copy(update={"practitioners": (first, *snap.practitioners[1:])})
    snap = snap.model_copy(update={"as_of": MONDAY})
    for seed in range(5):
        events = forecast_events(snap, seed, 56)
        mine = [a for day in events.days for a in day.absences if a.worker == first.id]
        planned = [a for a in mine if a.kind == "planned"]
        assert [(a.start, a.back, a.known) for a in planned] == [(start, back, MONDAY)]
        assert all(a.back <= start or a.start >= back for a in mine if a.kind != "planned")


def test_a_known_leaver_stays_and_a_contract_end_is_the_latest_last_day() -> None:
    snap = generate(12, seed=4, contracts=True)
    ends = {p.id: p.contract_end for p in snap.practitioners if p.contract_end}
    assert ends, "the generator gives some staff a contract end"
    for seed in range(3):
        events = forecast_events(snap, seed, 56)
        for pid, end in ends.items():
            assert events.leaving_days[pid] <= max(end, MONDAY + timedelta(days=1))


def test_an_open_case_closes_after_its_age() -> None:
    rng = random.Random(1)
    # A child-protection plan open 400 days: its length is drawn above 400 days, so at
    # most 1095 - 400 days are left.
    left = [remaining_days(rng, CaseType.CHILD_PROTECTION, 400, Calibration()) for _ in range(200)]
    assert all(x is not None and 1 <= x <= 695 for x in left)
    # Exponential lengths are memoryless: the simulator's draw is kept.
    assert remaining_days(rng, CaseType.LOOKED_AFTER, 400, Calibration()) is None
    # A calibrated type resamples its observed lengths above the age.
    cal = Calibration(durations={"looked_after": (100, 500, 900)})
    assert {remaining_days(rng, CaseType.LOOKED_AFTER, 400, cal) for _ in range(50)} == {100, 500}
    # Older than any observed length: closes within weeks.
    overdue = remaining_days(rng, CaseType.LOOKED_AFTER, 1000, cal)
    assert overdue is not None and overdue >= 1


# ------------------------------------------------------------------- reproducibility


def test_same_seed_same_bytes(tmp_path: Path) -> None:
    snap = generate(10, seed=1, contracts=True)
    settings = ForecastSettings(weeks=2, runs=3, seed=5)
    for name in ("a", "b"):
        write_forecast(forecast(snap, settings=settings), tmp_path / name)
    names = sorted(p.name for p in (tmp_path / "a").iterdir())
    assert names == [
        "children.csv",
        "children_all.csv",
        "forecast.md",
        "manifest.json",
        "waiting.png",
        "weeks.csv",
        "weeks.parquet",
        "workers.csv",
    ]
    for n in names:
        assert (tmp_path / "a" / n).read_bytes() == (tmp_path / "b" / n).read_bytes(), n


def test_a_forecast_without_plots_removes_an_earlier_chart(tmp_path: Path) -> None:
    snap = generate(5, seed=3)
    fc = forecast(snap, settings=ForecastSettings(weeks=1, runs=1, seed=1))
    write_forecast(fc, tmp_path)
    assert (tmp_path / "waiting.png").exists()
    write_forecast(fc, tmp_path, plots=False)
    assert not (tmp_path / "waiting.png").exists() and (tmp_path / "forecast.md").exists()


def test_the_weeks_table_as_parquet_holds_the_csv(tmp_path: Path) -> None:
    """Issue 23, item 1 ("CSV/Parquet"): weeks.parquet is weeks.csv, row for row, with
    typed columns: a date, whole numbers, doubles and nulls where no run had a value."""
    from datetime import date

    import pandas as pd

    snap = generate(10, seed=1, contracts=True)
    write_forecast(forecast(snap, settings=ForecastSettings(weeks=2, runs=3, seed=5)), tmp_path)
    table = pd.read_parquet(tmp_path / "weeks.parquet")
    text = pd.read_csv(tmp_path / "weeks.csv", keep_default_na=False, dtype=str)
    assert list(table.columns) == list(text.columns)
    assert len(table) == len(text) and list(table["measure"]) == list(text["measure"])
    assert isinstance(table["week_ending"][0], date)
    assert [d.isoformat() for d in table["week_ending"]] == list(text["week_ending"])
    assert str(table["week"].dtype) == "int64" and str(table["runs"].dtype) == "int64"
    for column in ("p10", "p50", "p90", "mean"):
        for full, written in zip(table[column], text[column], strict=True):
            # The CSV writes 6 significant digits; an empty cell is a null.
            assert written == ("" if pd.isna(full) else f"{full:g}"), (column, full)
    # A measure with no value in any run (no urgent wait began) is null, with runs 0.
    empty = table[table["runs"] == 0]
    assert empty[["p10", "p50", "p90", "mean"]].isna().all().all()


def test_the_engine_as_inner_policy_is_reproducible_too() -> None:
    snap = generate(4, seed=1)
    settings = ForecastSettings(weeks=1, runs=1, seed=2, method="engine")
    a, b = forecast(snap, settings=settings), forecast(snap, settings=settings)
    assert a.weeks == b.weeks and a.children == b.children and a.workers == b.workers


@pytest.mark.slow
def test_runs_on_dask_give_the_same_figures() -> None:
    snap = generate(8, seed=1)
    settings = ForecastSettings(weeks=1, runs=3, seed=2)
    here = forecast(snap, settings=settings)
    there = forecast(snap, settings=settings, workers=2)
    assert here.weeks == there.weeks and here.children == there.children


def test_settings_out_of_range_are_refused() -> None:
    for bad, word in (
        (ForecastSettings(weeks=0), "weeks"),
        (ForecastSettings(weeks=53), "weeks"),
        (ForecastSettings(runs=0), "runs"),
        (ForecastSettings(runs=1001), "runs"),
    ):
        with pytest.raises(ForecastError, match=word):
            bad.check()


# ------------------------------------------------------------------------ the command


def _invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["forecast", *args])
    assert "Traceback" not in result.output
    assert not isinstance(result.exception, Exception) or isinstance(
        result.exception, SystemExit
    ), result.exception
    return result.exit_code, result.output


@pytest.fixture
def small(tmp_path: Path) -> Path:
    return write_snapshot(generate(6, seed=1), tmp_path / "s.json")


def test_the_command_writes_its_files_and_speaks_plainly(small: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    code, output = _invoke(str(small), "--weeks", "2", "--runs", "2", "--out", str(out))
    assert code == 0, output
    assert "Children waiting for a worker at the end of week 2" in output
    assert (out / "weeks.csv").read_text().startswith("week,week_ending,measure,p10,p50,p90")
    assert (out / "children.csv").read_text().startswith("case,family,type,worker,known")


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["--weeks", "0"], "--weeks"),
        (["--weeks", "53"], "--weeks"),
        (["--weeks", "eight"], "--weeks"),
        (["--runs", "0"], "--runs"),
        (["--runs", "1001"], "--runs"),
        (["--seed", "-1"], "--seed"),
        (["--method", "both"], "--method"),
        (["--workers", "0"], "--workers"),
    ],
)
def test_bad_options_name_the_option(
    small: Path, tmp_path: Path, args: list[str], named: str
) -> None:
    code, output = _invoke(str(small), *args, "--out", str(tmp_path / "o"))
    assert code == 2 and named in output, output


def test_an_out_that_is_a_file_is_refused(small: Path) -> None:
    # The one rule for --out folders (io.check_output_folder), said as allocate says it.
    code, output = _invoke(str(small), "--out", str(small))
    assert code == 2 and f"{small}: expected a folder" in output, output


def test_snapshot_errors_name_the_file_and_field(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.json"
    code, output = _invoke(str(missing), "--out", str(tmp_path / "o"))
    assert code == 2 and "nowhere.json" in output, output

    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    code, output = _invoke(str(broken), "--out", str(tmp_path / "o"))
    assert code == 2 and "broken.json" in output, output

    data = json.loads(generate(3, seed=1).model_dump_json())
    data["practitioners"][0]["fte"] = -1
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(data))
    code, output = _invoke(str(bad), "--out", str(tmp_path / "o"))
    assert code == 2 and "bad.json" in output and "fte" in output, output

    policy = tmp_path / "policy.toml"
    policy.write_text("points_per_fte = 'lots'\n")
    good = write_snapshot(generate(3, seed=1), tmp_path / "good.json")
    code, output = _invoke(str(good), "--policy", str(policy), "--out", str(tmp_path / "o"))
    assert code == 2 and "points_per_fte" in output, output


@pytest.mark.parametrize("command", ["forecast", "capacity"])
def test_the_readme_synopsis_names_every_option(command: str) -> None:
    import re

    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    start = readme.index(f"allocator {command} ", readme.index("## What it does"))
    rest = readme[start + 1 :]
    end = re.search(r"\nallocator \w", rest)
    synopsis = rest[: end.start()] if end else rest
    helped = CliRunner().invoke(main, [command, "--help"]).output
    options = set(re.findall(r"^\s+(--[a-z][a-z-]*)", helped, flags=re.M)) - {"--help"}
    assert not sorted(o for o in options if o not in synopsis)


# ------------------------------------------------------- handovers promised before today


def _promised_service() -> tuple[Snapshot, Handover]:
    # P1 leaves on Thursday 3 December (day 10) holding C1; an earlier apply promised
    # C1 to P2 on the last weekday before, Wednesday 2 December (day 9), told on the
    # plan's day a week ago. P2's cap is C1's weight (2.25 points) exactly; C9, a
    # referral of the same weight, needs a worker today and nobody else may take one
    # (P1 is leaving within the window).
    leaves = MONDAY + timedelta(days=10)
    staff = [
        Practitioner(id="P1", team="T", grade=Grade.SENIOR, fte=1.0, leaving_on=leaves),
        Practitioner(id="P2", team="T", grade=Grade.SENIOR, fte=1.0, capacity_points=2.25),
    ]
    c9 = Case(id="C9", family="F9", type=CaseType.CHILD_IN_NEED, complexity=1, opened=MONDAY)
    promise = Handover.model_validate(
        {
            "case": "C1",
            "worker": "P2",
            "from": "P1",
            "on": MONDAY + timedelta(days=9),
            "departs": leaves,
            "notice_days": 16,
        }
    )
    return _snapshot(staff, [_child("C1", "P1"), c9]), promise


@pytest.mark.parametrize("method", ["greedy", "engine"])
def test_a_promised_handover_is_made_on_its_day_in_every_run(quiet: None, method: str) -> None:
    # With the promise: P2's room is C1's from today, so C9 waits in every run (the
    # only child waiting at each week's end), and C1 moves to P2 on day 9 (week 2),
    # with notice, never waiting. Its row names the promise.
    snap, promise = _promised_service()
    settings = ForecastSettings(weeks=2, runs=3, seed=1, method=cast(fmod.Method, method))
    fc = forecast(snap, settings=settings, handovers=(promise,))
    assert [(o.case, o.chance, o.week, o.cause, o.chance_waiting) for o in fc.children] == [
        ("C1", 1.0, 2, "leaver", 0.0)
    ]
    assert fc.children[0].handover == "to P2 on 2026-12-02"
    assert [(b.p10, b.p90) for b in fc.weeks["waiting all"] if b] == [(1, 1), (1, 1)]
    assert [b.mean for b in fc.weeks["handovers with notice"] if b] == [0, 1]
    lines = summary_lines(fc)
    assert "Departing workers' children with no handover yet: 0 of 1." in lines
    assert any("1 handover promised before today" in n for n in fc.notes)
    # Without it the morning fills P2's room with C9 at once, and C1 waits from day 10.
    bare = forecast(snap, settings=settings)
    assert [(o.case, o.week, o.chance_waiting, o.handover) for o in bare.children] == [
        ("C1", 2, 1.0, "")
    ]
    assert "Departing workers' children with no handover yet: 1 of 1." in summary_lines(bare)


def test_the_command_keeps_a_pending_handovers_file_and_warns_of_one_left_beside(
    quiet: None, tmp_path: Path
) -> None:
    snap, promise = _promised_service()
    path = write_snapshot(snap, tmp_path / "next.json")
    pending = PendingHandovers(as_of=MONDAY, handovers=(promise,))
    beside = tmp_path / "next.handovers.json"
    beside.write_text(pending.model_dump_json(by_alias=True))
    args = (str(path), "--weeks", "2", "--runs", "1", "--no-plots")
    code, output = _invoke(*args, "--out", str(tmp_path / "a"))
    assert code == 0 and f"give --handovers {beside}" in output, output
    code, output = _invoke(*args, "--handovers", str(beside), "--out", str(tmp_path / "b"))
    assert code == 0 and "give --handovers" not in output, output
    rows = (tmp_path / "b" / "children.csv").read_text().splitlines()
    assert rows[0].split(",")[6] == "handover" and "to P2 on 2026-12-02" in rows[1]
    later = PendingHandovers(as_of=MONDAY + timedelta(days=1), handovers=(promise,))
    beside.write_text(later.model_dump_json(by_alias=True))
    code, output = _invoke(*args, "--handovers", str(beside), "--out", str(tmp_path / "c"))
    assert code == 2 and "after the snapshot's day" in output, output


# ------------------------------------------------------------------ FTE short by grade


def test_fte_short_by_grade_counts_statutory_children_waiting_past_the_target(
    quiet: None,
) -> None:
    # Nobody has room. C1 (child protection, 40 points) and C2 (court, 50 points) have
    # waited 20 days today; C3 (child protection, 20 points) was referred 2 days ago.
    # Target 10 days. The least grade that may hold child protection at complexity 1
    # is nqsw (80 points a FTE: 100 x 0.8), court social_worker (100 points).
    # Week 1 (day 7): C1 27 days, C2 27, C3 9 (within): nqsw 40/80 = 0.5, sw 0.5.
    # Week 2 (day 14): C3 16 days too: nqsw (40 + 20)/80 = 0.75; in all 1.25.
    since = MONDAY - timedelta(days=20)
    staff = [Practitioner(id="P2", team="T", grade=Grade.SENIOR, fte=1.0, capacity_points=0.0)]

    def waiting(cid: str, kind: CaseType, weight: float, opened: date) -> Case:
        return Case(id=cid, family=cid, type=kind, complexity=1, weight=weight, opened=opened)

    cases = [
        waiting("C1", CaseType.CHILD_PROTECTION, 40, since),
        waiting("C2", CaseType.COURT, 50, since),
        waiting("C3", CaseType.CHILD_PROTECTION, 20, MONDAY - timedelta(days=2)),
    ]
    fc = forecast(_snapshot(staff, cases), settings=ForecastSettings(weeks=2, runs=2, seed=1))

    def medians(name: str) -> list[float]:
        return [b.p50 for b in fc.weeks[name] if b]

    assert medians("fte short nqsw") == [0.5, 0.75]
    assert medians("fte short social_worker") == [0.5, 0.5]
    assert medians("fte short senior") == [0, 0]
    assert medians("fte short all") == [1.0, 1.25]
    assert shortage_grades(Policy()) == (Grade.NQSW, Grade.SOCIAL_WORKER, Grade.SENIOR)
    line = next(s for s in summary_lines(fc) if s.startswith("FTE short"))
    assert "within 10 days" in line and "most in week 2, 1.25" in line
    # A wider target: none is past 30 days at week 1, C1 and C2 are (34) at week 2.
    wide = ForecastSettings(weeks=2, runs=1, seed=1, wait_target_days=30)
    fc = forecast(_snapshot(staff, cases), settings=wide)
    assert [b.p50 for b in fc.weeks["fte short all"] if b] == [0, 1.0]


def test_a_wait_target_out_of_range_is_refused(small: Path, tmp_path: Path) -> None:
    with pytest.raises(ForecastError, match="wait target"):
        ForecastSettings(wait_target_days=366).check()
    code, output = _invoke(str(small), "--wait-target", "-1", "--out", str(tmp_path / "o"))
    assert code == 2 and "--wait-target" in output, output


# ------------------------------------------------------------------ the manager's list


def test_the_managers_list_holds_the_known_and_the_likely_and_all_are_kept(
    tmp_path: Path,
) -> None:
    # Three children: one whose worker is known to leave (chance 0.1), one likely
    # (0.6) and one unlikely (0.2, nothing known): children.csv names the first two,
    # children_all.csv all three.
    def row(case: str, chance: float, known: str) -> ChildOutlook:
        on = MONDAY if known else None
        return ChildOutlook(case, "F", "child_in_need", "P1", chance, 1, "choice", 0.0, known, on)

    fc = forecast(generate(3, seed=1), settings=ForecastSettings(weeks=1, runs=1))
    fc = dataclasses.replace(
        fc,
        children=[
            row("C1", 0.1, "P1 leaves on 2026-11-30"),
            row("C2", 0.6, ""),
            row("C3", 0.2, ""),
        ],
    )
    write_forecast(fc, tmp_path, plots=False)

    def cases(name: str) -> list[str]:
        return [line.split(",")[0] for line in (tmp_path / name).read_text().splitlines()[1:]]

    assert cases("children.csv") == ["C1", "C2"]
    assert cases("children_all.csv") == ["C1", "C2", "C3"]
    assert any("2 are named in children.csv" in line for line in summary_lines(fc))


def test_a_leavers_child_opened_after_the_snapshots_day_is_forecast(quiet: None) -> None:
    # A fresh trial's traceback: loading warns of a case opened after as_of and reads
    # it as it is; when its worker left, its wait began on a day no rule allowed.
    from datetime import timedelta

    from allocator.domain.rules import waiting_start

    snap = generate(20, seed=3, contracts=True)
    leaver = next(p for p in snap.practitioners if p.leaving_on is not None)
    child = next(c for c in snap.cases if c.worker == leaver.id)
    later = child.model_copy(update={"opened": snap.as_of + timedelta(days=20)})
    snap = snap.model_copy(
        update={"cases": tuple(later if c.id == child.id else c for c in snap.cases)}
    )
    assert waiting_start(later, leaver, snap.as_of + timedelta(days=30)) is not None
    assert waiting_start(later, leaver, snap.as_of + timedelta(days=5)) is None
    fc = forecast(snap, settings=ForecastSettings(weeks=6, runs=2, seed=1))
    assert fc.weeks["waiting all"]


def test_the_summary_says_who_is_over_cap_today_and_that_few_runs_make_no_spread(
    quiet: None,
) -> None:
    """A fresh user read "Workers over cap: 0" at week 1 while allocate warned of two
    over cap today; and a one-run forecast's bands read as a spread."""
    staff = [
        Practitioner(id="P1", team="T", grade=Grade.SENIOR, fte=1.0, capacity_points=2.0),
        Practitioner(id="P2", team="T", grade=Grade.SENIOR, fte=1.0),
    ]
    fc = forecast(
        _snapshot(staff, [_child("C1", "P1")]), settings=ForecastSettings(weeks=1, runs=1)
    )
    assert fc.over_cap_today == 1
    lines = summary_lines(fc)
    assert any(line.startswith("Workers over cap: 1 today; ") for line in lines)
    assert lines[1].startswith("Only 1 run: each 10-90% band spans what so few runs gave")
