"""The forecast: a hand-checkable leaver, what the snapshot knows kept, same seed same
bytes, and every kind of bad input refused in one sentence."""

from __future__ import annotations

import json
import random
from datetime import date, timedelta
from pathlib import Path

import pytest

pytest.importorskip("pandas")

from click.testing import CliRunner

from allocator.cli import main
from allocator.generate import generate
from allocator.io import write_snapshot
from allocator.models import (
    SNAPSHOT_FORMAT,
    Case,
    CaseType,
    Grade,
    Practitioner,
    Snapshot,
)
from allocator.policy import Policy
from allocator.simulation import GreedyMethod, Settings, simulate
from allocator.simulation import forecast as fmod
from allocator.simulation.events import Day, EventStream
from allocator.simulation.forecast import (
    Calibration,
    ForecastError,
    ForecastSettings,
    forecast,
    forecast_events,
    measure,
    remaining_days,
)
from allocator.simulation.forecast_report import summary_lines, write_forecast

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
    assert [(o.worker, o.chance_over_cap, o.weeks_over_cap) for o in fc.workers] == [
        ("P1", 1.0, 2.0)
    ]
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
    assert names == ["children.csv", "forecast.md", "waiting.png", "weeks.csv", "workers.csv"]
    for n in names:
        assert (tmp_path / "a" / n).read_bytes() == (tmp_path / "b" / n).read_bytes(), n


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
