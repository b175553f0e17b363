"""Calibration from a history with a known truth, thin data falling back with a note,
a history too short refused, and the bands' coverage of futures they did not see."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

import pytest

pytest.importorskip("pandas")

from click.testing import CliRunner

from allocator.cli import main
from allocator.contract.models import Contract
from allocator.contract.policy import Policy
from allocator.generate import generate
from allocator.io import InputError, write_snapshot
from allocator.simulation.calibrate import (
    LENGTH_POINTS,
    MIN_EPISODES,
    Episode,
    HistoryError,
    calibrate_ssd,
    estimate,
    synthetic_history,
    write_history,
)
from allocator.simulation.events import LEAVING_RATE, referral_children_per_day
from allocator.simulation.forecast import (
    Band,
    Calibration,
    ForecastSettings,
    RunFigures,
    backtest,
    coverage,
    forecast,
)


@pytest.fixture(scope="module")
def service() -> tuple[object, list[Episode], list[tuple[str, date]], int]:
    snap = generate(60, seed=3, contracts=True)
    episodes, leavers, staff = synthetic_history(snap, seed=7)
    return snap, episodes, leavers, staff


def test_referral_rate_and_turnover_come_back_from_a_known_history(
    service: tuple[object, list[Episode], list[tuple[str, date]], int],
) -> None:
    from allocator.contract.models import Snapshot

    snap, episodes, leavers, staff = service
    assert isinstance(snap, Snapshot)
    cal = estimate(episodes, leavers, staff, snap)
    # The window runs from the first day anything ended (recording_start); the
    # referrals before it are not counted, so the rate is over the days they came in.
    first_end = min([e.end for e in episodes if e.end is not None] + [day for _, day in leavers])
    window = (snap.as_of - first_end).days
    # The referral rate is the doors' starts over the window, exactly; against the
    # rate the history was drawn at it is close (the simulator draws families, and
    # care leavers have no episode): within 20%.
    doors = sum(1 for e in episodes if e.door and e.start >= snap.as_of - timedelta(days=window))
    national = referral_children_per_day(sum(1 for c in snap.cases if c.worker is not None))
    assert cal.arrival_factor == pytest.approx(doors / window / national, abs=1e-3)
    assert 0.8 <= cal.arrival_factor <= 1.1
    # Turnover: the history was drawn at the national rates, so the factor is near 1.
    factor = cal.leaving_rates[Contract.PERMANENT] / LEAVING_RATE[Contract.PERMANENT]
    assert 0.6 <= factor <= 1.5
    assert any("Staff turnover" in n and "leavers" in n for n in cal.notes)
    # Child protection lengths: a distribution of LENGTH_POINTS lengths, estimated from
    # the closed plans and the open ones, and said how many of each.
    cp = [e for e in episodes if e.case_type == "child_protection"]
    closed = [e for e in cp if e.end is not None]
    if len(closed) >= MIN_EPISODES:
        assert len(cal.durations["child_protection"]) == LENGTH_POINTS
        assert any(
            f"from {len(closed)} closed and {len(cp) - len(closed)} open episodes" in n
            for n in cal.notes
        )


def _exponential_history(mean: float, seed: int) -> list[tuple[int, int, bool]]:
    """Spans (observed_span's) of episodes of exponential length ``mean`` starting at
    a steady rate for five years, seen through a window of the last 365 days."""
    import random

    from allocator.simulation.calibrate import observed_span

    rng = random.Random(seed)
    as_of = date(2026, 11, 23)
    since = as_of - timedelta(days=365)
    spans = []
    for k in range(3000):
        start = as_of - timedelta(days=int(k * 5 * 365 / 3000))
        length = max(1, round(rng.expovariate(1 / mean)))
        end = start + timedelta(days=length)
        span = observed_span(
            Episode("child_in_need", f"C{k}", start, end if end <= as_of else None, True),
            since,
            as_of,
        )
        if span is not None:
            spans.append(span)
    return spans


@pytest.mark.parametrize("mean", [150, 355, 880])
def test_lengths_of_open_and_closed_episodes_come_back_near_the_truth(mean: int) -> None:
    import math
    import statistics

    from allocator.simulation.calibrate import censored_lengths

    spans = _exponential_history(mean, seed=mean)
    lengths = censored_lengths(spans)
    # The median of an exponential is mean x ln 2.
    assert statistics.median(lengths) == pytest.approx(mean * math.log(2), rel=0.15)
    assert statistics.mean(lengths) == pytest.approx(mean, rel=0.2)


def test_an_open_episode_counts_from_when_the_window_saw_it() -> None:
    from allocator.simulation.calibrate import censored_lengths, observed_span

    since, as_of = date(2026, 1, 1), date(2026, 12, 31)
    # Begun 100 days before the window, closed 50 days into it: seen from length 100.
    assert observed_span(
        Episode(
            "child_in_need", "A", since - timedelta(days=100), since + timedelta(days=50), True
        ),
        since,
        as_of,
    ) == (100, 150, True)
    # Closed before the window began: not seen.
    assert (
        observed_span(
            Episode("child_in_need", "B", date(2025, 1, 1), date(2025, 6, 1), True), since, as_of
        )
        is None
    )
    # Open on as_of: its days so far, not closed.
    assert observed_span(
        Episode("child_in_need", "C", as_of - timedelta(days=30), None, True), since, as_of
    ) == (0, 30, False)
    # Hand-checked Kaplan-Meier: four seen from length 0. At 10, one of 4 closes:
    # survival 0.75. The open one leaves at 15; at 20, one of the 2 left closes:
    # 0.375. Eight quantiles at 1/16, 3/16, ...: two by 10, three more by 20.
    lengths = censored_lengths(
        [(0, 10, True), (0, 15, False), (0, 20, True), (0, 40, False)], 8, min_at_risk=1
    )
    assert lengths[:2] == (10, 10)  # the first quarter closes at 10
    assert lengths[2:5] == (20, 20, 20)  # to 0.625 closed by 20
    assert all(x > 20 for x in lengths[5:])  # the rest beyond the data, exponential


def test_the_csv_tables_read_back_to_the_same_estimates(
    service: tuple[object, list[Episode], list[tuple[str, date]], int], tmp_path: Path
) -> None:
    from allocator.contract.models import Snapshot

    snap, episodes, leavers, staff = service
    assert isinstance(snap, Snapshot)
    write_history(tmp_path, episodes, leavers, staff)
    read = calibrate_ssd(tmp_path, snap)
    direct = estimate(episodes, leavers, staff, snap)
    assert (read.arrival_factor, read.durations, read.leaving_rates) == (
        direct.arrival_factor,
        direct.durations,
        direct.leaving_rates,
    )


def test_thin_data_falls_back_to_national_rates_with_a_note() -> None:
    snap = generate(10, seed=1)
    # 40 child-in-need starts over 200 days, 5 closed, no staff table: the referral
    # rate is estimated; lengths and turnover stay national, each with a note. The
    # first closes on day 10, so recording starts then: the 38 starts from day 10 on.
    start = snap.as_of - timedelta(days=200)
    episodes = [
        Episode(
            "child_in_need",
            f"C{k}",
            start + timedelta(days=5 * k),
            start + timedelta(days=5 * k + 10) if k < 5 else None,
            True,
        )
        for k in range(40)
    ]
    cal = estimate(episodes, [], 0, snap)
    assert cal.durations == {}
    assert cal.leaving_rates == {}
    # The first closed on day 10, the window's first day: seen closing before it.
    assert any("child_in_need: 4 closed episodes (fewer than 30)" in n for n in cal.notes)
    assert any("0 leavers found" in n and "national" in n for n in cal.notes)
    assert any("Referrals:" in n and "38 child-in-need" in n for n in cal.notes)


def test_cases_open_since_before_the_extract_are_not_counted_as_referrals() -> None:
    snap = generate(10, seed=1)
    # An extract begun 120 days ago: 200 cases open since years before it (no end),
    # then 60 child-in-need referrals, one every 2 days, each closing 10 days on.
    # Nothing ends before the extract began, so the window is the 120 days it holds
    # less the first 10 (before the first end): 55 referrals over 110 days. Counting
    # from the oldest open case would say 365 days and a third of the rate.
    began = snap.as_of - timedelta(days=120)
    old = [
        Episode("child_in_need", f"O{k}", began - timedelta(days=400 + 7 * k), None, True)
        for k in range(200)
    ]
    new = [
        Episode(
            "child_in_need",
            f"N{k}",
            began + timedelta(days=2 * k),
            began + timedelta(days=2 * k + 10),
            True,
        )
        for k in range(60)
    ]
    cal = estimate(old + new, [], 0, snap)
    national = referral_children_per_day(sum(1 for c in snap.cases if c.worker is not None))
    assert cal.arrival_factor == pytest.approx(55 / 110 / national, abs=1e-3)
    assert cal.notes[0].endswith(
        f"the 110 days to {snap.as_of.isoformat()} (recorded from "
        f"{(began + timedelta(days=10)).isoformat()}, the first day an episode ended or a "
        "worker left)."
    )
    assert any("55 child-in-need and early-help starts" in n for n in cal.notes)


def _open_from(first: date, *, every: int, count: int) -> list[Episode]:
    """``count`` child-in-need referrals from ``first``, one every ``every`` days, all
    still open."""
    return [
        Episode("child_in_need", f"C{k}", first + timedelta(days=every * k), None, True)
        for k in range(count)
    ]


def test_a_history_of_open_cases_only_is_taken_from_its_first_start() -> None:
    snap = generate(10, seed=1)
    episodes = _open_from(snap.as_of - timedelta(days=100), every=2, count=50)
    cal = estimate(episodes, [], 0, snap)
    assert "the first episode's start: nothing had ended" in cal.notes[0]
    assert "the 98 days" in cal.notes[0]  # to the last start, 2 days before as_of


def test_a_leavers_day_marks_the_recording_start_too() -> None:
    snap = generate(10, seed=1)
    episodes = _open_from(snap.as_of - timedelta(days=300), every=7, count=43)
    left = snap.as_of - timedelta(days=150)
    cal = estimate(episodes, [("W1", left)], 0, snap)
    assert "the 144 days" in cal.notes[0]  # the leaver to the last start
    # A leaver after the snapshot's day is the future: it does not move the start.
    later = estimate(episodes, [("W1", snap.as_of + timedelta(days=1))], 0, snap)
    assert "the 294 days" in later.notes[0]


def _daily(weeks: int, until: date) -> list[Episode]:
    """A child-in-need referral a day for ``weeks`` weeks up to ``until``, each closing
    30 days on (open if that is after ``until``)."""
    first = until - timedelta(weeks=weeks)
    out = []
    for k in range(weeks * 7):
        start = first + timedelta(days=k)
        end = start + timedelta(days=30)
        out.append(Episode("child_in_need", f"C{k}", start, end if end <= until else None, True))
    return out


def test_a_stale_history_is_refused_saying_when_it_ends() -> None:
    snap = generate(5, seed=1)
    ended = snap.as_of - timedelta(days=60)
    with pytest.raises(HistoryError) as caught:
        estimate(_daily(30, ended), [], 0, snap)
    assert str(caught.value) == (
        f"history: the history's last record is on {ended.isoformat()}, 60 days before "
        f"the snapshot's day {snap.as_of.isoformat()}; expected a history up to it "
        "(within 31 days): rates from then would be taken as today's"
    )
    # A month behind is an extract's usual lag: taken, the window ending at its last
    # record (the days after it recorded nothing: counted, they would thin the rate).
    behind = snap.as_of - timedelta(days=31)
    cal = estimate(_daily(30, behind), [], 0, snap)
    assert f"days to {behind.isoformat()}" in cal.notes[0]
    assert "the history's last record, 31 days before the snapshot's day" in cal.notes[0]
    on_time = estimate(_daily(30, snap.as_of), [], 0, snap)
    assert cal.arrival_factor == pytest.approx(on_time.arrival_factor, rel=0.02)


def test_a_history_after_the_snapshots_day_is_refused_saying_so() -> None:
    snap = generate(5, seed=1)
    later = _daily(20, snap.as_of + timedelta(days=400))
    with pytest.raises(HistoryError, match="no episode starts on or before the snapshot's day"):
        estimate(later, [], 0, snap)
    # Begun before the day, but recording ends soon after it: too short, and why.
    soon = _daily(20, snap.as_of + timedelta(days=100))
    with pytest.raises(HistoryError) as caught:
        estimate(soon, [], 0, snap)
    assert "history too short to calibrate" in str(caught.value)
    assert "after the snapshot's day" in str(caught.value)
    # Long enough before the day, and running on after it: used, and said.
    longer = _daily(40, snap.as_of + timedelta(days=60))
    cal = estimate(longer, [], 0, snap)
    assert any(n.startswith("The history runs on to") for n in cal.notes)


def test_no_staff_tables_says_so_in_the_turnover_note(tmp_path: Path) -> None:
    snap = generate(10, seed=1)
    write_history(tmp_path, _daily(20, snap.as_of), [("W1", snap.as_of)], 5)
    (tmp_path / "ssd_professionals.csv").unlink()
    cal = calibrate_ssd(tmp_path, snap)
    assert any(
        n.startswith(f"Staff turnover: {tmp_path} lacks the ssd_professionals or ssd_involvements")
        for n in cal.notes
    )
    assert cal.leaving_rates == {}
    assert any("children with a worker steady" in n for n in cal.notes)


@pytest.mark.parametrize(
    ("days", "count"),
    [(30, 100), (400, 5)],
    ids=["too-short-a-span", "too-few-episodes"],
)
def test_a_history_too_short_is_refused_in_one_sentence(days: int, count: int) -> None:
    snap = generate(5, seed=1)
    first = snap.as_of - timedelta(days=days)
    episodes = [Episode("child_in_need", f"C{k}", first, None, True) for k in range(count)]
    with pytest.raises(HistoryError, match="history too short to calibrate"):
        estimate(episodes, [], 0, snap)


def test_a_bad_date_names_the_file_line_and_column(tmp_path: Path) -> None:
    (tmp_path / "ssd_cp_plans.csv").write_text(
        "cppl_cp_plan_id,cppl_person_id,cppl_cp_plan_start_date,cppl_cp_plan_end_date\n"
        "CP1,C1,2026-02-30,\n"
    )
    with pytest.raises(InputError, match=r"ssd_cp_plans.csv, line 2.*cppl_cp_plan_start_date"):
        calibrate_ssd(tmp_path, generate(3, seed=1))


def test_a_calibrated_forecast_says_what_it_estimated(
    service: tuple[object, list[Episode], list[tuple[str, date]], int],
) -> None:
    from allocator.contract.models import Snapshot

    snap, episodes, leavers, staff = service
    assert isinstance(snap, Snapshot)
    small = generate(8, seed=2)
    cal = estimate(episodes, leavers, staff, snap)
    fc = forecast(small, settings=ForecastSettings(weeks=1, runs=2), calibration=cal)
    assert any("Referrals:" in n for n in fc.notes)


@pytest.mark.slow
def test_bands_cover_futures_they_did_not_see() -> None:
    # 30 runs make the bands; 20 further runs play "what happened" (40 truth-weeks).
    # A measure falls inside its 10-90% band about 80% of the time (counts: often
    # more, their bands being whole numbers, ends included); far less would mean bands
    # too narrow. Seen here: 0.95 for children waiting, 0.92 over all measures.
    snap = generate(10, seed=5, contracts=True)
    settings = ForecastSettings(weeks=2, runs=30, seed=4)
    _, cover = backtest(snap, Policy(), settings, truths=20)
    assert cover["waiting all"] >= 0.65
    assert sum(cover.values()) / len(cover) >= 0.7


def test_coverage_counts_truths_inside_the_band_ends_included() -> None:
    # Bands 2-4 (week 1) and 0-1 (week 2); truths (3, 1) and (5, 0): 3 of 4 inside.
    fc = forecast(generate(3, seed=1), settings=ForecastSettings(weeks=2, runs=1))
    bands = {"waiting all": [Band(2, 3, 4, 3, 1), Band(0, 0, 1, 0.5, 1)]}
    fc = replace(fc, weeks=bands)
    truths = [
        RunFigures({"waiting all": [3.0, 1.0]}, {}, {}, 0.0),
        RunFigures({"waiting all": [5.0, 0.0]}, {}, {}, 0.0),
    ]
    assert coverage(fc, truths) == {"waiting all": 0.75}


def test_the_command_calibrates_from_a_history_folder(tmp_path: Path) -> None:
    today = generate(6, seed=1)
    write_history(tmp_path / "h", *synthetic_history(today, seed=2))
    snap = write_snapshot(today, tmp_path / "s.json")
    out = tmp_path / "out"
    result = CliRunner().invoke(
        main,
        [
            "forecast",
            str(snap),
            "--weeks",
            "1",
            "--runs",
            "2",
            "--history",
            str(tmp_path / "h"),
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "Calibrated from" in (out / "forecast.md").read_text()


def test_the_command_refuses_a_short_history(tmp_path: Path) -> None:
    (tmp_path / "h").mkdir()
    (tmp_path / "h" / "ssd_cin_episodes.csv").write_text(
        "cine_referral_id,cine_person_id,cine_referral_date,cine_close_date\n1,C1,2026-11-01,\n"
    )
    snap = write_snapshot(generate(3, seed=1), tmp_path / "s.json")
    result = CliRunner().invoke(
        main,
        ["forecast", str(snap), "--history", str(tmp_path / "h"), "--out", str(tmp_path / "o")],
    )
    assert result.exit_code == 2
    assert "history too short to calibrate" in result.output
    assert "Traceback" not in result.output


def test_the_command_refuses_a_missing_history_folder(tmp_path: Path) -> None:
    snap = write_snapshot(generate(3, seed=1), tmp_path / "s.json")
    result = CliRunner().invoke(
        main,
        ["forecast", str(snap), "--history", str(tmp_path / "nope"), "--out", str(tmp_path / "o")],
    )
    assert result.exit_code == 2 and "nope" in result.output, result.output


def test_the_command_refuses_a_history_folder_with_no_episode_table(tmp_path: Path) -> None:
    snap = write_snapshot(generate(3, seed=1), tmp_path / "s.json")
    empty = tmp_path / "empty"
    empty.mkdir()
    result = CliRunner().invoke(
        main, ["forecast", str(snap), "--history", str(empty), "--out", str(tmp_path / "o")]
    )
    assert result.exit_code == 2, result.output
    assert f"error: {empty}: no SSD episode table found, expected one or more of" in result.output
    assert "ssd_cin_episodes.csv" in result.output


def test_calibration_is_plain_data() -> None:
    assert Calibration().arrival_factor == 1.0


def test_the_tail_takes_over_where_few_episodes_are_still_followed() -> None:
    from allocator.simulation.calibrate import censored_lengths

    # 60 episodes closing at 1 to 60 days, the longest followed alone at the end: a
    # Kaplan-Meier to the last would put its remaining chance on day 60 (a fresh trial
    # saw 36 of 200 lengths at one day). Past 10 still followed the tail takes over.
    lengths = censored_lengths([(0, k, True) for k in range(1, 61)])
    assert max(lengths.count(x) for x in set(lengths)) <= 4
    assert max(lengths) > 60
