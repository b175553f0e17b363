"""A backtest on a council's own history: forecast from a day in the past, then
compare with what the history says happened.

Given an SSD history (a folder of table extracts or a database, with its mapping)
and a day ``on`` at least ``weeks`` weeks before the history's last date:

1. **the snapshot as of** ``on`` (:func:`rebuild`): ``allocator import ssd`` as of
   that day (episodes and involvements open on it), then what the extract cannot
   date made safe: staff are those with an allocated-worker involvement begun by
   ``on`` who had not left (an involvement ended ``LEFTRL`` by then and none open),
   since ``ssd_professionals`` keeps no start or end of a post; the side tables'
   leaving and absence dates are dropped (they may have been set after ``on``); a
   child who has had a worker since the case opened is no longer urgent (urgency is
   spent once a child is seen, as the simulator has it); a waiting child who had a
   worker waits from that worker's last involvement (``waiting_since``);
2. **rates from before** ``on`` **only** (:func:`calibrate_before`): the history cut
   at ``on`` — episodes begun after it dropped, ends after it made open, leavers
   after it dropped, staff in post those of the rebuilt snapshot — and calibrated
   as ``forecast --history`` does (:func:`allocator.simulation.calibrate.estimate`);
3. **the forecast** of the ``weeks`` weeks after ``on``
   (:func:`allocator.simulation.forecast.forecast`);
4. **what happened** (:func:`what_happened`), from the history, at each week's end
   (day ``on + 7w``) for the measures an extract supports: children waiting (an open
   episode, no open allocated-worker involvement) by priority class, in all,
   statutory and urgent; the longest statutory wait under way; and of the children
   with a worker on ``on``, those who lost that worker in the week (the involvement
   open on ``on`` ended while the child's case stayed open, or with a change
   reason) and of those, the handovers needed (reason ``LEFTRL`` or ``ABSENC``).
   Workers over cap are not compared: a child's weight comes from the side table or
   the mapping, one value undated, so a load on a past day is not what it was (on
   the simulated history, 8 workers over cap by the extract against 2 in the
   simulation the same day);
5. **calibration** (:func:`compare`): per measure and in all, the share of weeks
   whose truth fell inside the forecast's 10-90% band (ends included), and the bias,
   the truth less the forecast's median, averaged over the weeks.

The same history, day, settings and seed give the same figures, byte for byte.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from pathlib import Path

from allocator.contract.models import Priority, Snapshot
from allocator.contract.policy import Policy
from allocator.domain.rules import counted
from allocator.io import InputError
from allocator.simulation.calibrate import Episode, episodes_of, estimate
from allocator.simulation.forecast import (
    Calibration,
    Forecast,
    ForecastSettings,
    forecast,
)
from allocator.simulation.records import statutory_types
from allocator.ssd.mapping import SsdMapping, role_key
from allocator.ssd.ssd_import import BASE_COLUMNS, read_tables
from allocator.ssd.tables import Problems, cell_date

#: The reasons that make a lost worker a handover needed (the worker left, or is away).
HANDOVER_REASONS = frozenset({"LEFTRL", "ABSENC"})


class BacktestError(InputError):
    """A backtest that cannot be made on this history as asked (one sentence)."""


@dataclass(frozen=True)
class Involvement:
    """One allocated-worker involvement: the child, the worker, first and last day
    (``end`` ``None`` while open) and the change reason (upper case, may be empty)."""

    person: str
    worker: str
    start: date
    end: date | None
    reason: str


@dataclass(frozen=True)
class History:
    """What the backtest reads of an SSD history, once.

    Attributes
    ----------
    source
        The folder or database URL, as given.
    mapping
        Its mapping.
    episodes
        The episodes of the child-in-need, early-help, child-protection and
        looked-after tables the mapping orders.
    involvements
        The allocated-worker involvements (the mapping's roles), by start.
    first, last
        The earliest episode start and the latest date in the episodes and
        involvements: the history's span (the SSD does not say the extract's day).
    """

    source: str
    mapping: SsdMapping
    episodes: tuple[Episode, ...]
    involvements: tuple[Involvement, ...]
    first: date
    last: date

    def in_post(self, day: date) -> Callable[[str], bool]:
        """Whether a worker was in post on ``day``, by their involvements alone: one
        begun by then, and not left (an involvement ended ``LEFTRL`` by then, none
        open on it)."""
        begun: set[str] = set()
        holding: set[str] = set()
        left: set[str] = set()
        for i in self.involvements:
            if i.start > day:
                continue
            begun.add(i.worker)
            if i.end is None or i.end > day:
                holding.add(i.worker)
            elif i.reason == "LEFTRL":
                left.add(i.worker)
        return lambda w: w in begun and (w in holding or w not in left)


def read_history(source: str | Path, mapping: SsdMapping) -> History:
    """Read an SSD history's episodes and allocated-worker involvements.

    Raises
    ------
    allocator.io.InputError
        A table or column missing, a bad date (file, line and column named), or a
        history with no episode.
    """
    source = str(source)
    wanted: dict[str, tuple[str, ...]] = {"ssd_involvements": BASE_COLUMNS["ssd_involvements"]}
    from allocator.simulation.calibrate import EPISODE_TABLES

    for spec in EPISODE_TABLES:
        if spec.table in mapping.episodes.order:
            wanted[spec.table] = (spec.ident, spec.person, spec.start, spec.end)
    problems = Problems()
    tables = read_tables(source, mapping, wanted, problems)
    problems.raise_if_any()
    episodes = episodes_of(tables, problems)
    roles = {role_key(r) for r in mapping.involvements.allocated_roles}
    involvements: list[Involvement] = []
    for row in tables["ssd_involvements"]:
        if role_key(row.get("invo_professional_role_id")) not in roles:
            continue
        ident = row.get("invo_involvements_id") or None
        start = cell_date(row, "invo_involvement_start_date", problems, required=True, ident=ident)
        end = cell_date(row, "invo_involvement_end_date", problems, ident=ident)
        if start is None or (end is not None and end < start):
            continue  # the import names an end before the start
        involvements.append(
            Involvement(
                row.get("invo_person_id"),
                row.get("invo_professional_id"),
                start,
                end,
                row.get("invo_worker_change_reason").strip().upper(),
            )
        )
    problems.raise_if_any()
    if not episodes:
        raise BacktestError(f"{source}: no episode in the history, expected dated episodes")
    if not involvements:
        # Without one, nobody is in post on any day: a forecast of a service with no
        # staff would be reported as if it meant something (a fresh user's mapping
        # named a role the extract does not use).
        found = sorted(
            {
                " ".join(row.get("invo_professional_role_id").split())
                for row in tables["ssd_involvements"]
            }
        )
        raise BacktestError(
            f"{source}: no involvement has an allocated-worker role "
            f"({', '.join(mapping.involvements.allocated_roles)}, the mapping's "
            f"involvements.allocated_roles); the roles in ssd_involvements are "
            f"{', '.join(found[:10]) or 'none'}"
        )
    days = [e.start for e in episodes] + [e.end for e in episodes if e.end is not None]
    days += [i.start for i in involvements] + [i.end for i in involvements if i.end is not None]
    involvements.sort(key=lambda i: (i.start, i.person, i.worker))
    return History(
        source,
        mapping,
        tuple(episodes),
        tuple(involvements),
        min(e.start for e in episodes),
        max(days),
    )


# ------------------------------------------------------------------- the past snapshot


def rebuild(history: History, day: date) -> Snapshot:
    """The snapshot as of ``day``: ``import ssd`` as of it, made safe (the module's
    step 1)."""
    from allocator.ssd.ssd_import import import_ssd

    snapshot, _ = import_ssd(history.source, history.mapping, day)
    in_post = history.in_post(day)
    staff = [
        p.model_copy(
            update={
                "leaving_on": None,
                "available_from": None,
                "absence_from": None,
                "absence_until": None,
            }
        )
        for p in snapshot.practitioners
        if in_post(p.id)
    ]
    kept = {p.id for p in staff}
    seen: dict[str, date] = {}  # child -> latest involvement end by ``day``
    given: dict[str, date] = {}  # child -> latest involvement start by ``day``
    for i in history.involvements:
        if i.start > day:
            continue
        given[i.person] = max(given.get(i.person, i.start), i.start)
        if i.end is not None and i.end <= day:
            seen[i.person] = max(seen.get(i.person, i.end), i.end)
    cases = []
    for c in snapshot.cases:
        update: dict[str, object] = {}
        if c.pinned_worker is not None and c.pinned_worker not in kept:
            update["pinned_worker"] = None
        ended = seen.get(c.id)
        opened = c.opened or date.min
        if c.priority is Priority.URGENT and given.get(c.id, date.min) >= opened:
            update["priority"] = Priority.STANDARD
        if c.worker is None and c.waiting_since is None and ended is not None and ended >= opened:
            update["waiting_since"] = ended
        cases.append(c.model_copy(update=update) if update else c)
    return Snapshot(
        format=snapshot.format, as_of=day, practitioners=tuple(staff), cases=tuple(cases)
    )


def calibrate_before(history: History, snapshot: Snapshot) -> Calibration:
    """Rates from the history before ``snapshot``'s day only (the module's step 2)."""
    day = snapshot.as_of
    # An episode still open on the day is open as far as the day knows.
    episodes = [
        e if e.end is None or e.end <= day else replace(e, end=None)
        for e in history.episodes
        if e.start <= day
    ]
    leavers = [
        (i.worker, i.end)
        for i in history.involvements
        if i.reason == "LEFTRL" and i.end is not None and i.end <= day
    ]
    return estimate(
        episodes,
        leavers,
        len(snapshot.practitioners),
        snapshot,
        source=f"{history.source} before {day.isoformat()}",
    )


# ---------------------------------------------------------------------- what happened

#: The measures :func:`what_happened` derives besides ``waiting <class>``.
TRUTH_MEASURES = (
    "waiting all",
    "statutory children waiting",
    "urgent children waiting",
    "statutory longest wait days",
    "children losing their worker",
    "handovers needed",
)


def what_happened(
    history: History, start: Snapshot, policy: Policy, weeks: int
) -> dict[str, list[float]]:
    """The history's value of each measure it supports at each week's end after
    ``start`` (the snapshot rebuilt as of the backtest's day; module's step 4)."""
    out: dict[str, list[float]] = {f"waiting {n}": [] for n in policy.class_names}
    out.update({name: [] for name in TRUTH_MEASURES})
    statutory = statutory_types(policy)
    for w in range(1, weeks + 1):
        day = start.as_of + timedelta(days=7 * w)
        snap = rebuild(history, day)
        waiting = [c for c in snap.cases if c.worker is None]
        for name in policy.class_names:
            out[f"waiting {name}"].append(
                float(sum(1 for c in waiting if policy.class_name(c) == name))
            )
        stat = [c for c in waiting if c.type.value in statutory]
        out["waiting all"].append(float(len(waiting)))
        out["statutory children waiting"].append(float(len(stat)))
        out["urgent children waiting"].append(
            float(sum(1 for c in waiting if c.priority is Priority.URGENT))
        )
        out["statutory longest wait days"].append(
            float(
                max(
                    ((day - since).days for c in stat if (since := c.waiting_since or c.opened)),
                    default=0,
                )
            )
        )
    losing, needed = _losses(history, start, weeks)
    out["children losing their worker"] = losing
    out["handovers needed"] = needed
    return out


def _losses(history: History, start: Snapshot, weeks: int) -> tuple[list[float], list[float]]:
    """Per week, children with a worker on the start day who lost that worker (first
    loss), and of them those whose involvement ended ``LEFTRL`` or ``ABSENC``."""
    day = start.as_of
    held = {c.id: c.worker for c in start.cases if c.worker is not None}
    open_on: dict[str, list[Episode]] = {}
    for e in history.episodes:
        open_on.setdefault(e.person, []).append(e)
    losing = [0.0] * weeks
    needed = [0.0] * weeks
    ended: dict[str, Involvement] = {}
    for i in history.involvements:
        if held.get(i.person) != i.worker or i.start > day:
            continue
        if i.end is None or i.end <= day:
            continue
        old = ended.get(i.person)
        if old is None or (old.end or date.max) > i.end:
            ended[i.person] = i
    for person, i in sorted(ended.items()):
        assert i.end is not None
        still_open = any(
            e.start <= i.end and (e.end is None or e.end > i.end) for e in open_on.get(person, ())
        )
        if not (still_open or i.reason):
            continue  # the case closed: no loss
        w = max(0, math.ceil((i.end - day).days / 7) - 1)
        if w < weeks:
            losing[w] += 1
            if i.reason in HANDOVER_REASONS:
                needed[w] += 1
    return losing, needed


# ------------------------------------------------------------------------- comparison


@dataclass(frozen=True)
class WeekCheck:
    """One measure in one week: the truth against the forecast's band."""

    week: int
    week_ending: date
    measure: str
    truth: float
    p10: float
    p50: float
    p90: float

    @property
    def inside(self) -> bool:
        """Whether the truth fell inside the 10-90% band (ends included)."""
        return self.p10 <= self.truth <= self.p90


@dataclass(frozen=True)
class MeasureCheck:
    """A measure over the weeks: how often the truth was inside the band, and the
    bias (truth less the median, averaged over the weeks)."""

    measure: str
    weeks: int
    inside: int
    bias: float

    @property
    def coverage(self) -> float:
        """The share of weeks inside the band."""
        return self.inside / self.weeks if self.weeks else 0.0


@dataclass(frozen=True)
class Backtest:
    """A backtest's result.

    Attributes
    ----------
    history
        What was read.
    snapshot
        The snapshot rebuilt as of the backtest's day.
    forecast
        The forecast from it (calibration notes in its ``notes``).
    truth
        Measure -> the history's value at each week's end.
    checks
        Each (week, measure) compared, by measure then week.
    measures
        Each measure's coverage and bias, in :attr:`truth`'s order.
    """

    history: History
    snapshot: Snapshot
    forecast: Forecast
    truth: dict[str, list[float]]
    checks: list[WeekCheck]
    measures: list[MeasureCheck]

    @property
    def inside(self) -> int:
        """(week, measure) pairs whose truth fell inside the band."""
        return sum(m.inside for m in self.measures)

    @property
    def pairs(self) -> int:
        """(week, measure) pairs compared."""
        return sum(m.weeks for m in self.measures)


def compare(fc: Forecast, truth: Mapping[str, Sequence[float]]) -> list[WeekCheck]:
    """Each week of each measure with a truth and a band (module's step 5)."""
    checks: list[WeekCheck] = []
    for name, values in truth.items():
        bands = fc.weeks.get(name)
        if bands is None:
            continue
        for w, (value, band) in enumerate(zip(values, bands, strict=False), start=1):
            if band is None:
                continue
            checks.append(
                WeekCheck(w, fc.week_ending(w), name, value, band.p10, band.p50, band.p90)
            )
    return checks


def summarise(checks: Sequence[WeekCheck]) -> list[MeasureCheck]:
    """Coverage and bias per measure, in the checks' order."""
    by: dict[str, list[WeekCheck]] = {}
    for c in checks:
        by.setdefault(c.measure, []).append(c)
    return [
        MeasureCheck(
            name,
            len(rows),
            sum(1 for r in rows if r.inside),
            round(sum(r.truth - r.p50 for r in rows) / len(rows), 2),
        )
        for name, rows in by.items()
    ]


def check_span(history: History, day: date, weeks: int) -> None:
    """Refuse a day outside the history, or too few weeks of history after it.

    Raises
    ------
    BacktestError
        In one sentence naming the history's span.
    """
    span = f"{history.first.isoformat()} to {history.last.isoformat()}"
    if not history.first <= day <= history.last:
        raise BacktestError(
            f"{history.source}: --from {day.isoformat()} is outside the history ({span}); "
            "expected a day inside it with the weeks to forecast after it"
        )
    end = day + timedelta(days=7 * weeks)
    if end > history.last:
        have = (history.last - day).days // 7
        raise BacktestError(
            f"{history.source}: too few weeks after {day.isoformat()}: "
            f"{counted(weeks, 'week')} need the history to reach {end.isoformat()}, it ends "
            f"on {history.last.isoformat()} ({counted(have, 'whole week')} after); expected "
            f"--from at least {counted(weeks, 'week')} before its end"
        )


def backtest(
    history: History,
    day: date,
    settings: ForecastSettings,
    policy: Policy | None = None,
    *,
    workers: int = 1,
) -> Backtest:
    """Forecast ``settings.weeks`` weeks from ``day`` with rates from before it, and
    compare with what the history says happened (see the module).

    Raises
    ------
    BacktestError
        ``day`` outside the history, or too few weeks of history after it.
    allocator.simulation.calibrate.HistoryError
        Too little history before ``day`` to calibrate.
    allocator.simulation.forecast.ForecastError
        Weeks or runs out of range.
    """
    policy = policy or Policy()
    settings.check()
    check_span(history, day, settings.weeks)
    snapshot = rebuild(history, day)
    calibration = calibrate_before(history, snapshot)
    truth = what_happened(history, snapshot, policy, settings.weeks)
    fc = forecast(snapshot, policy, settings, calibration=calibration, workers=workers)
    checks = compare(fc, truth)
    return Backtest(history, snapshot, fc, truth, checks, summarise(checks))


__all__ = [
    "Backtest",
    "BacktestError",
    "History",
    "Involvement",
    "MeasureCheck",
    "WeekCheck",
    "backtest",
    "calibrate_before",
    "check_span",
    "compare",
    "read_history",
    "rebuild",
    "summarise",
    "what_happened",
]
