"""The next weeks before they happen: today's snapshot run forward many times.

:func:`forecast` runs the simulator (:func:`allocator.simulation.run.simulate`) from
today's snapshot for ``weeks`` weeks, ``runs`` times, each run on its own event
stream (run ``r`` of seed ``S`` draws its events from seed ``S * 10000 + r``), and
gathers per week the 10th, 50th and 90th percentiles across runs of what a manager
asks about:

- children waiting for a worker at the week's end, by priority class, and how many of
  them are statutory (a type named by a priority class) or urgent;
- the longest wait under way at the week's end, statutory and urgent, in days (days
  already waited before today included, as the engine counts them:
  :attr:`allocator.domain.rules.ServiceState.days_waiting`);
- the 90th percentile of the statutory waits begun in the week (days, the longest of
  a wait still open counted so far) and the longest urgent wait begun in it;
- workers over their cap at the week's end;
- children who lose their worker in the week (today's children, their first loss),
  and **handovers needed**: children whose worker leaves or starts a long absence in
  the week, and of those how many were handed over with notice (planned ahead);
- the FTE by grade, and in all, short of keeping statutory waits within a target
  (:func:`fte_short`).

And two named lists: each of today's children with a worker who may lose that worker
(the chance across runs, the likely week, the cause, what is known today — a
leaver's last day, a planned absence, a contract's end — and the handover promised
before today, if any), and each worker's chance of being over cap at a week's end.

What the snapshot already knows is kept in every run: ``leaving_on`` and
``available_from`` are honoured by :func:`~allocator.simulation.events.draw_events`;
a planned absence (``absence_from`` / ``absence_until``) is added to each run's events
(it is known today, so it is announced on day 0 and random absences that would
overlap it are dropped); handovers promised before today (a pending handovers file)
are kept as the simulator keeps its own promises; a fixed-term or agency
``contract_end`` is the latest last day the events draw. An open case's age is kept:
a child-protection plan or care proceedings (whose lengths are not memoryless)
closes after a length drawn given it has lasted this long; the other types' lengths
are exponential, so their age does not change what is left. :class:`Calibration`
replaces the national rates with a council's own (:mod:`allocator.simulation.calibrate`).

The runs are independent: with ``workers`` above 1 they go to a local Dask cluster
(:mod:`allocator.simulation.cluster`), else they run one after another in this process. Either
way the figures are gathered in run order, so the same seed gives the same figures,
byte for byte.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import cached_property
from typing import Any, Final, Literal

from allocator.contract.limits import (
    MAX_RUNS,
    MAX_SEED,
    MAX_WAIT_TARGET_DAYS,
    MAX_WEEKS,
    WAIT_TARGET_DAYS,
)
from allocator.contract.models import Case, CaseType, Contract, Grade, Handover, Snapshot
from allocator.contract.policy import Policy
from allocator.domain.rules import ServiceState, counted, grade_blockers, is_gone
from allocator.simulation.events import Absence, EventStream, draw_duration, draw_events
from allocator.simulation.records import CAUSES, Recorder, Wait, statutory_types

#: Run ``r`` of seed ``S`` draws its events from seed ``S * RUN_STRIDE + r``.
RUN_STRIDE = 10_000
#: The percentiles of each band.
BAND = (0.1, 0.5, 0.9)
#: Mean days left of a case already older than any length its type is drawn with
#: (*assumption*: such a case is overdue to close within weeks).
OVERDUE_MEAN_DAYS = 28.0

Method = Literal["engine", "greedy"]


class ForecastError(ValueError):
    """A forecast that cannot be made as asked (one sentence naming what)."""


@dataclass(frozen=True)
class Calibration:
    """Rates of a council's own history, in place of the national ones.

    Attributes
    ----------
    arrival_factor
        Referrals per day as a multiple of the rate that keeps today's open caseload
        steady (:func:`allocator.simulation.events.referral_children_per_day`).
    durations
        Case type (its value, ``"child_protection"``) -> observed lengths of closed
        cases, in days; a case of a type listed closes after a length resampled from
        these (given its age); other types keep the national lengths.
    leaving_rates
        Leaving rates a year by contract in place of the national ones.
    notes
        What was estimated from what, one sentence each (shown in the report).
    """

    arrival_factor: float = 1.0
    durations: Mapping[str, tuple[int, ...]] = field(default_factory=dict)
    leaving_rates: Mapping[Contract, float] = field(default_factory=dict)
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class ForecastSettings:
    """What a forecast is, apart from its snapshot and policy.

    Attributes
    ----------
    weeks
        Weeks forecast after the snapshot's ``as_of`` (1 to :data:`MAX_WEEKS`).
    runs
        Simulated futures (1 to :data:`MAX_RUNS`).
    seed
        The forecast's seed; run ``r`` uses seed ``seed * RUN_STRIDE + r``.
    method
        ``"greedy"`` (the manager's rule, fast) or ``"engine"`` each morning.
    rebalance_every
        Days between rebalances, as the simulator's (weekly).
    wait_target_days
        The statutory wait the FTE-short measures keep to: a statutory child waiting
        longer than this at a week's end counts (0 to :data:`MAX_WAIT_TARGET_DAYS`).
    """

    weeks: int = 8
    runs: int = 50
    seed: int = 0
    method: Method = "greedy"
    rebalance_every: int = 7
    wait_target_days: int = WAIT_TARGET_DAYS

    def check(self) -> None:
        """Raise :class:`ForecastError` naming the setting out of range."""
        if not 1 <= self.weeks <= MAX_WEEKS:
            raise ForecastError(f"weeks must be 1 to {MAX_WEEKS}, got {self.weeks}")
        if not 1 <= self.runs <= MAX_RUNS:
            raise ForecastError(f"runs must be 1 to {MAX_RUNS}, got {self.runs}")
        if self.method not in ("engine", "greedy"):
            raise ForecastError(f"method must be engine or greedy, got {self.method!r}")
        if not 0 <= self.wait_target_days <= MAX_WAIT_TARGET_DAYS:
            raise ForecastError(
                f"wait target must be 0 to {MAX_WAIT_TARGET_DAYS} days, got {self.wait_target_days}"
            )

    def run_seed(self, r: int) -> int:
        """The event seed of run ``r``."""
        return self.seed * RUN_STRIDE + r


# ----------------------------------------------------------------------------- events


def forecast_events(
    snapshot: Snapshot, seed: int, days: int, calibration: Calibration | None = None
) -> EventStream:
    """One run's events: :func:`draw_events`, then what the snapshot knows put in.

    Parameters
    ----------
    snapshot
        Today's service.
    seed
        The run's event seed.
    days
        Days after ``as_of``.
    calibration
        The council's own rates, else the national ones.

    Returns
    -------
    EventStream
        Planned absences added (known on day 0), random absences overlapping them
        dropped, and open cases' closures drawn given their age.
    """
    calibration = calibration or Calibration()
    events = draw_events(
        snapshot,
        seed=seed,
        days=days,
        arrival_factor=calibration.arrival_factor,
        leaving_rates=calibration.leaving_rates or None,
    )
    _planned_absences(events, snapshot)
    _closures(events, snapshot, seed, calibration)
    return events


def _planned_absences(events: EventStream, snapshot: Snapshot) -> None:
    """Each planned absence in the snapshot becomes an event, known on ``as_of``."""
    planned = {
        p.id: (p.absence_from, p.absence_until)
        for p in snapshot.practitioners
        if p.absence_from is not None and p.absence_until is not None
    }
    if not planned:
        return
    for day in events.days:
        day.absences = [
            a
            for a in day.absences
            if a.worker not in planned
            or not (a.start < planned[a.worker][1] and planned[a.worker][0] < a.back)
        ]
    for worker, (start, back) in sorted(planned.items()):
        assert start is not None and back is not None
        k = (start - events.start).days
        if 0 <= k < len(events.days):
            events.days[k].absences.append(Absence(worker, start, back, events.start, "planned"))


def _closures(events: EventStream, snapshot: Snapshot, seed: int, calibration: Calibration) -> None:
    """Open cases' closing days drawn given their age; referrals' from calibrated lengths."""
    where: dict[str, int] = {}
    for k, day in enumerate(events.days):
        for cid in day.closures:
            where[cid] = k
    moves: dict[str, int | None] = {}
    for case in snapshot.cases:
        age = (snapshot.as_of - case.opened).days if case.opened is not None else 0
        left = remaining_days(
            random.Random(f"{seed}:age:{case.id}"), case.type, max(0, age), calibration
        )
        if left is not None:
            moves[case.id] = left
    if calibration.durations:
        for k, day in enumerate(events.days):
            for case in day.referrals:
                rng = random.Random(f"{seed}:length:{case.id}")
                left = remaining_days(rng, case.type, 0, calibration)
                if left is not None:
                    moves[case.id] = k + left
    for cid, new in sorted(moves.items()):
        old = where.get(cid)
        if old is not None:
            events.days[old].closures.remove(cid)
        if new is not None and 1 <= new < len(events.days):
            events.days[new].closures.append(cid)


def remaining_days(
    rng: random.Random, case_type: CaseType, age: int, calibration: Calibration
) -> int | None:
    """Days left of a case of ``case_type`` open ``age`` days, or ``None`` to keep the
    simulator's draw (a national exponential length: memoryless, age changes nothing).

    A calibrated type resamples its observed lengths above ``age``; child protection
    and court draw the national lengths until one is above ``age``. A case older than
    every length closes after an exponential time, mean :data:`OVERDUE_MEAN_DAYS`.
    """
    observed = calibration.durations.get(case_type.value)
    draw: Callable[[], int]
    if observed:
        longer = [d for d in observed if d > age]
        if not longer:
            return max(1, math.ceil(rng.expovariate(1.0 / OVERDUE_MEAN_DAYS)))
        return rng.choice(longer) - age
    if case_type not in (CaseType.CHILD_PROTECTION, CaseType.COURT):
        return None
    if age <= 0:
        return None
    draw = lambda: draw_duration(rng, case_type)  # noqa: E731
    for _ in range(200):
        length = draw()
        if length > age:
            return length - age
    return max(1, math.ceil(rng.expovariate(1.0 / OVERDUE_MEAN_DAYS)))


# ------------------------------------------------------------------------------- runs


#: The groups of children a waiting target names (:mod:`allocator.simulation.capacity`).
WaitGroup = Literal["urgent", "statutory", "all"]
WAIT_GROUPS: tuple[WaitGroup, ...] = ("urgent", "statutory", "all")


@dataclass(frozen=True)
class BegunWait:
    """A wait begun in a run (not one under way before it): what a waiting target is
    judged on (:mod:`allocator.simulation.capacity`).

    Attributes
    ----------
    days
        Its length in days; a wait still open counted to the last week's end.
    urgent
        The child was urgent when it began.
    statutory
        The child is of a statutory type (named by a priority class).
    child
        The child as the run's events had left them when the wait ended (or at the
        last week's end, if open): their needs, type, pin, and complexity as moved;
        ``None`` for a referral when the run's events were not given.
    """

    days: int
    urgent: bool
    statutory: bool
    child: Case | None = None

    def among(self, group: WaitGroup) -> bool:
        """Whether the wait is one of ``group``'s: ``urgent``, ``statutory`` or ``all``."""
        return group == "all" or (self.urgent if group == "urgent" else self.statutory)


@dataclass(frozen=True)
class RunFigures:
    """One run's figures, plain data (a Dask worker returns it).

    Attributes
    ----------
    weekly
        Measure name -> one value per week (``None`` where the week had none, e.g.
        no statutory wait began).
    lost
        Today's child -> (day index of losing today's worker, cause, waited): the
        first loss only; ``waited`` is whether the child was left without a worker.
    over_cap
        Worker -> the weeks (1-based) at whose end they were over cap.
    seconds
        Wall-clock time of the simulation (not a figure).
    begun
        The waits begun in the run, in the recorder's order (by child, then day).
    """

    weekly: dict[str, list[float | None]]
    lost: dict[str, tuple[int, str, bool]]
    over_cap: dict[str, list[int]]
    seconds: float
    begun: tuple[BegunWait, ...] = ()

    @cached_property
    def waits(self) -> dict[WaitGroup, list[int]]:
        """Each group of :data:`WAIT_GROUPS` -> the lengths in days of its waits of
        :attr:`begun`, sorted."""
        return {g: sorted(w.days for w in self.begun if w.among(g)) for g in WAIT_GROUPS}


class ChildrenOfRun:
    """Each child of a run as its events left them on a day: today's open cases and
    the run's referrals, their complexity moved by the events up to that day.

    Without ``events``, today's cases as the snapshot has them, and no referral.
    """

    def __init__(self, snapshot: Snapshot, events: EventStream | None) -> None:
        self._cases = {c.id: c for c in snapshot.cases}
        self._moved: dict[str, list[tuple[int, int]]] = {}
        for k, day in enumerate(events.days if events is not None else ()):
            for c in day.referrals:
                self._cases[c.id] = c
            for cid, complexity in day.complexity:
                self._moved.setdefault(cid, []).append((k, complexity))

    def complexity(self, case_id: str, d: int) -> int:
        """The child's complexity on day ``d`` (the last change on or before it)."""
        level = self._cases[case_id].complexity
        for k, moved_to in self._moved.get(case_id, ()):
            if k <= d:
                level = moved_to
        return level

    def on(self, case_id: str, d: int) -> Case | None:
        """The child on day ``d``, or ``None`` for one the run does not know."""
        case = self._cases.get(case_id)
        if case is None:
            return None
        level = self.complexity(case_id, d)
        return case if level == case.complexity else case.model_copy(update={"complexity": level})


def run_once(
    snapshot: Snapshot,
    policy: Policy,
    settings: ForecastSettings,
    r: int,
    calibration: Calibration | None = None,
    already_waited: Mapping[str, int] | None = None,
    handovers: Sequence[Handover] = (),
) -> RunFigures:
    """Run ``r`` of a forecast: simulate ``settings.weeks`` weeks and measure them
    (``already_waited``: as :func:`measure`, given once for all runs; ``handovers``:
    promised before today, as :func:`allocator.simulation.run.simulate` takes them)."""
    from allocator.simulation.methods import EngineMethod, GreedyMethod
    from allocator.simulation.methods import Method as SimMethod
    from allocator.simulation.run import Settings, simulate

    seed = settings.run_seed(r)
    days = settings.weeks * 7
    events = forecast_events(snapshot, seed, days, calibration)
    method: SimMethod = (
        EngineMethod(seed=seed % (MAX_SEED + 1))  # CP-SAT's seed is 32-bit
        if settings.method == "engine"
        else GreedyMethod()
    )
    sim = Settings(days=days, seed=seed, rebalance_every=settings.rebalance_every)
    result = simulate(snapshot, method, policy, sim, events, handovers)
    return measure(
        result.recorder,
        snapshot,
        settings.weeks,
        result.seconds,
        already_waited,
        events=events,
        wait_target_days=settings.wait_target_days,
    )


def waited_before(snapshot: Snapshot, policy: Policy) -> dict[str, int]:
    """Days each child needing a worker on the snapshot's day has already waited: the
    engine's one definition (:attr:`ServiceState.days_waiting`: a departed worker's
    child waits from the worker's last day)."""
    return dict(ServiceState.of(snapshot, policy).days_waiting)


def measure(
    recorder: Recorder,
    snapshot: Snapshot,
    weeks: int,
    seconds: float = 0.0,
    already_waited: Mapping[str, int] | None = None,
    *,
    events: EventStream | None = None,
    wait_target_days: int = WAIT_TARGET_DAYS,
) -> RunFigures:
    """The :class:`RunFigures` of a simulated run's records (see the module docstring).

    ``already_waited``: :func:`waited_before` of the snapshot, computed here when not
    given (a forecast gives it once for all its runs). ``events``: the run's events,
    for the cases referred and their complexity changes, which the FTE-short measures
    need (:func:`fte_short`; left out without them); ``wait_target_days`` theirs.
    """
    policy = recorder.policy
    names = policy.class_names
    before = waited_before(snapshot, policy) if already_waited is None else already_waited
    ends = [7 * w for w in range(1, weeks + 1)]
    weekly: dict[str, list[float | None]] = {}
    at_end = {(row["day"], row["class"]): row["children"] for row in recorder.waiting}
    for name in names:
        weekly[f"waiting {name}"] = [_num(at_end.get((d, name), 0)) for d in ends]
    weekly["waiting all"] = [float(sum(_int(at_end.get((d, n), 0)) for n in names)) for d in ends]
    waits = recorder.all_waits()
    stat_n: list[float | None] = []
    urg_n: list[float | None] = []
    stat_long: list[float | None] = []
    urg_long: list[float | None] = []
    stat_p90: list[float | None] = []
    urg_max: list[float | None] = []
    for d in ends:
        under = [s for s in waits if s.start_day <= d and (s.end_day is None or s.end_day > d)]
        stat = [s for s in under if s.statutory]
        urg = [s for s in under if s.urgent]

        stat_n.append(float(len(stat)))
        urg_n.append(float(len(urg)))
        stat_long.append(float(max((days_waited(s, d, before) for s in stat), default=0)))
        urg_long.append(float(max((days_waited(s, d, before) for s in urg), default=0)))
        begun = [s for s in waits if d - 7 < s.start_day <= d and s.cause != "before_run"]
        lengths = sorted(s.days for s in begun if s.statutory)
        stat_p90.append(quantile(lengths, 0.9) if lengths else None)
        urgent = [s.days for s in begun if s.urgent]
        urg_max.append(float(max(urgent)) if urgent else None)
    weekly["statutory children waiting"] = stat_n
    weekly["urgent children waiting"] = urg_n
    weekly["statutory longest wait days"] = stat_long
    weekly["urgent longest wait days"] = urg_long
    weekly["statutory wait p90 days"] = stat_p90
    weekly["urgent wait max days"] = urg_max
    if events is not None:
        weekly.update(fte_short(waits, events, snapshot, policy, ends, before, wait_target_days))

    over: dict[str, list[int]] = {}
    counts = [0] * weeks
    week_of_end = {d: w for w, d in enumerate(ends)}
    for row in recorder.loads:
        at = week_of_end.get(_int(row["day"]))
        if at is not None and _num(row["load"]) > _num(row["capacity"]) + 1e-9:
            counts[at] += 1
            over.setdefault(str(row["worker"]), []).append(at + 1)
    weekly["workers over cap"] = list[float | None](float(c) for c in counts)

    # A child whose worker has left (last day on or before today) has lost them
    # already: waiting from week 0 (Forecast.waiting_today), not losing today's worker.
    held = dict(_held_today(snapshot))
    lost: dict[str, tuple[int, str, bool]] = {}
    for s in waits:
        if s.case in held and s.cause in CAUSES:
            _first(lost, s.case, s.start_day, s.cause, True)
    for row in recorder.changes:
        cid = str(row["case"])
        if cid in held and row["from_worker"] == held[cid]:
            waited = _int(row["days_without_worker"])
            _first(lost, cid, _int(row["day"]) - waited, str(row["cause"]), waited > 0)
    losing = [0.0] * weeks
    needed = [0.0] * weeks
    for day, cause, _ in lost.values():
        w = max(0, math.ceil(day / 7) - 1)
        if w < weeks:
            losing[w] += 1
            if cause in ("leaver", "long_absence"):
                needed[w] += 1
    planned = [0.0] * weeks
    for row in recorder.changes:
        if row["cause"] in ("leaver", "long_absence") and _int(row["notice_days"]) > 0:
            w = max(0, math.ceil(_int(row["day"]) / 7) - 1)
            if w < weeks:
                planned[w] += 1
    weekly["children losing their worker"] = list[float | None](losing)
    weekly["handovers needed"] = list[float | None](needed)
    weekly["handovers with notice"] = list[float | None](planned)
    # A wait still open at the end counts its days to the last week's end (day 7 x
    # weeks), as the weeks' longest waits do; the recorder's own count runs through
    # the last simulated day, one more.
    last = ends[-1] if ends else 0
    children = ChildrenOfRun(snapshot, events)
    begun_in_run = tuple(
        BegunWait(
            s.days if s.end_day is not None else last - s.start_day,
            s.urgent,
            s.statutory,
            children.on(s.case, s.end_day if s.end_day is not None else last),
        )
        for s in waits
        if s.cause != "before_run"
    )
    return RunFigures(weekly, lost, over, seconds, begun_in_run)


def days_waited(spell: Wait, d: int, before: Mapping[str, int]) -> int:
    """Days ``spell``'s child has waited by day ``d``: a wait begun on day 0 began
    before it for a child already waiting, or whose worker had left, on the
    snapshot's day (``before``: :func:`waited_before`)."""
    return d - spell.start_day + (before.get(spell.case, 0) if spell.start_day == 0 else 0)


def least_grade(case: Case, policy: Policy) -> Grade | None:
    """The least senior grade that may hold ``case`` (the who-may-hold-what table,
    :func:`allocator.domain.rules.grade_blockers`) and has a cap (a grade factor above 0);
    ``None`` when no grade may."""
    for grade in Grade:
        if policy.grade_factor[grade] > 0 and not grade_blockers(case, grade, policy):
            return grade
    return None


def shortage_grades(policy: Policy) -> tuple[Grade, ...]:
    """The grades an FTE-short measure can name: the least grade of some statutory
    type at some complexity, in grade order."""
    found = {
        least_grade(Case(id="x", family="x", type=t, complexity=k), policy)
        for t in CaseType
        if t.value in statutory_types(policy)
        for k in range(1, 5)
    }
    return tuple(g for g in Grade if g in found)


def fte_short(
    waits: Sequence[Wait],
    events: EventStream,
    snapshot: Snapshot,
    policy: Policy,
    ends: Sequence[int],
    before: Mapping[str, int],
    target_days: int,
) -> dict[str, list[float | None]]:
    """FTE by grade short of keeping statutory waits within ``target_days``, at each
    day of ``ends`` (measure -> one value per day).

    At a week's end, each statutory child waiting more than ``target_days`` (days
    already waited before today counted, as :func:`days_waited`) needs room of their
    weight (points, complexity as the events have moved it) at the least senior
    grade that may hold them (:func:`least_grade`); a grade's FTE short is that room
    over one FTE's cap of the grade (``points_per_fte`` x its grade factor), and
    ``fte short all`` the sum over grades. A child no grade may hold is left out
    (no extra staff places them). A lower bound of what would have kept the target
    that day: skills, patches, siblings and the intake limit are not counted.
    """
    children = ChildrenOfRun(snapshot, events)
    grades = shortage_grades(policy)
    short: dict[Grade, list[float]] = {g: [0.0] * len(ends) for g in grades}
    # (case, complexity) -> the least grade that may hold the child, and their FTE.
    need: dict[tuple[str, int], tuple[Grade | None, float]] = {}
    for w, d in enumerate(ends):
        for s in waits:
            if not s.statutory or s.start_day > d or (s.end_day is not None and s.end_day <= d):
                continue
            if days_waited(s, d, before) <= target_days:
                continue
            key = (s.case, children.complexity(s.case, d))
            if key not in need:
                now = children.on(s.case, d)
                assert now is not None  # a waiting child is today's or a referral
                grade = least_grade(now, policy)
                fte = (
                    policy.case_weight(now) / (policy.points_per_fte * policy.grade_factor[grade])
                    if grade is not None
                    else 0.0
                )
                need[key] = (grade, fte)
            grade, fte = need[key]
            if grade is not None and grade in short:
                short[grade][w] += fte
    out: dict[str, list[float | None]] = {
        f"fte short {g.value}": [round(v, 2) for v in values] for g, values in short.items()
    }
    out["fte short all"] = [round(sum(short[g][w] for g in grades), 2) for w in range(len(ends))]
    return out


def _first(
    out: dict[str, tuple[int, str, bool]], cid: str, day: int, cause: str, waited: bool
) -> None:
    """Keep the child's earliest loss; the same loss seen twice (its wait, then the
    change that ended it) waited if either says so."""
    old = out.get(cid)
    if old is None or day < old[0]:
        out[cid] = (day, cause, waited)
    elif day == old[0] and waited and not old[2]:
        out[cid] = (old[0], old[1], True)


def _num(value: object) -> float:
    assert isinstance(value, int | float)
    return float(value)


def _int(value: object) -> int:
    assert isinstance(value, int)
    return value


def quantile(values: Sequence[float], q: float) -> float:
    """The ``q`` quantile of sorted ``values`` by linear interpolation (numpy's default)."""
    if not values:
        raise ValueError("no values")
    pos = (len(values) - 1) * q
    lo = math.floor(pos)
    hi = min(lo + 1, len(values) - 1)
    return float(values[lo] + (values[hi] - values[lo]) * (pos - lo))


# ---------------------------------------------------------------------------- gathered


@dataclass(frozen=True)
class Band:
    """A measure's spread across runs: 10th, 50th and 90th percentiles and the mean,
    over the runs where it had a value (``runs`` of them)."""

    p10: float
    p50: float
    p90: float
    mean: float
    runs: int


@dataclass(frozen=True)
class ChildOutlook:
    """One of today's children who may lose their worker (a row of the manager's list).

    ``chance`` and ``chance_waiting`` are shares of runs (0-1); ``week`` is the median
    week of the loss over the runs where it happened (1-based; ``None`` if never);
    ``cause`` the most frequent cause then; ``known`` what the snapshot says today;
    ``handover`` the handover promised before today ("to P5 on 2026-12-10"), empty
    when none is.
    """

    case: str
    family: str
    type: str
    worker: str
    chance: float
    week: int | None
    cause: str
    chance_waiting: float
    known: str
    known_on: date | None
    handover: str = ""


@dataclass(frozen=True)
class WorkerOutlook:
    """A worker's chance (0-1) of being over cap at some week's end, the mean number
    of week-ends over cap and the chance at each week's end (``by_week``, week 1
    first); load and cap today in points."""

    worker: str
    team: str
    grade: str
    chance_over_cap: float
    weeks_over_cap: float
    load: float
    cap: float
    known: str
    by_week: tuple[float, ...] = ()


@dataclass(frozen=True)
class Forecast:
    """A gathered forecast: per-week bands, the children's and workers' lists.

    Attributes
    ----------
    as_of
        Today (the snapshot's day).
    settings
        As asked.
    weeks
        Measure -> one :class:`Band` per week (``None`` where no run had a value).
    children
        Today's children who may lose their worker, the known ones first.
    workers
        Workers with a chance of being over cap, most likely first.
    notes
        What the forecast assumed (calibration notes among them).
    seconds
        Wall-clock time of all runs (not a figure; not written to the files).
    runs
        Each run's figures, in run order.
    waiting_today
        ``"waiting <class>"`` -> children without a worker today (none in the
        snapshot, or one who has left), where the fan chart starts.
    over_cap_today
        Workers over their cap in the snapshot, today.
    """

    as_of: date
    settings: ForecastSettings
    weeks: dict[str, list[Band | None]]
    children: list[ChildOutlook]
    workers: list[WorkerOutlook]
    notes: tuple[str, ...]
    seconds: float
    runs: list[RunFigures]
    waiting_today: Mapping[str, int] = field(default_factory=dict)
    over_cap_today: int = 0

    def week_ending(self, w: int) -> date:
        """The last day of week ``w`` (1-based)."""
        return self.as_of + timedelta(days=7 * w)


def forecast(
    snapshot: Snapshot,
    policy: Policy | None = None,
    settings: ForecastSettings | None = None,
    *,
    calibration: Calibration | None = None,
    handovers: Sequence[Handover] = (),
    workers: int = 1,
    on_done: Callable[[int], None] | None = None,
) -> Forecast:
    """Run ``settings.runs`` futures of ``snapshot`` and gather them.

    Parameters
    ----------
    snapshot
        Today's service.
    policy
        FORMAT.md defaults when ``None``.
    settings
        Weeks, runs, seed, method; defaults 8 weeks, 50 runs, seed 0, greedy.
    calibration
        The council's own rates (:mod:`allocator.simulation.calibrate`), else national.
    handovers
        Handovers promised before today and still to make (a pending handovers file,
        :func:`allocator.problems.apply.still_pending` of it): in every run each receiver's
        room is kept from today and the child moves on the handover's day, unless
        something changed (the case closed, the receiver left, is absent, may no
        longer hold the child or has no room: docs/SIMULATION.md).
    workers
        1 runs in this process; more start a local Dask cluster of that many single
        threaded worker processes (:mod:`allocator.simulation.cluster`).
    on_done
        Called with each run's index as it finishes (a progress bar).

    Returns
    -------
    Forecast
        The same for the same arguments, whatever ``workers``.

    Raises
    ------
    ForecastError
        If a setting is out of range.
    """
    policy = policy or Policy()
    settings = settings or ForecastSettings()
    settings.check()
    import time

    started = time.perf_counter()
    results = _run_all(snapshot, policy, settings, calibration, handovers, workers, on_done)
    seconds = time.perf_counter() - started
    return gather(snapshot, policy, settings, results, calibration, seconds, handovers)


def _run_all(
    snapshot: Snapshot,
    policy: Policy,
    settings: ForecastSettings,
    calibration: Calibration | None,
    handovers: Sequence[Handover],
    workers: int,
    on_done: Callable[[int], None] | None,
) -> list[RunFigures]:
    already = waited_before(snapshot, policy)  # the same for every run
    if workers <= 1:
        out = []
        for r in range(settings.runs):
            out.append(run_once(snapshot, policy, settings, r, calibration, already, handovers))
            if on_done is not None:
                on_done(r)
        return out
    from dask import distributed

    from allocator.simulation.cluster import dask_client

    as_completed: Any = distributed.as_completed
    found: dict[int, RunFigures] = {}
    with dask_client(workers, None) as client:
        snap, pol = client.scatter(snapshot, broadcast=True), client.scatter(policy, broadcast=True)
        futures = [
            client.submit(
                run_once,
                snap,
                pol,
                settings,
                r,
                calibration,
                already,
                tuple(handovers),
                key=f"run-{r}",
                pure=False,
            )
            for r in range(settings.runs)
        ]
        for future in as_completed(futures):
            r = int(str(future.key).removeprefix("run-"))
            found[r] = future.result()
            if on_done is not None:
                on_done(r)
    return [found[r] for r in range(settings.runs)]


def gather(
    snapshot: Snapshot,
    policy: Policy,
    settings: ForecastSettings,
    runs: Sequence[RunFigures],
    calibration: Calibration | None = None,
    seconds: float = 0.0,
    handovers: Sequence[Handover] = (),
) -> Forecast:
    """The :class:`Forecast` of the runs' figures (bands, the children's and workers' lists;
    ``handovers``: those promised before today, named on their children's rows)."""
    n = len(runs)
    weeks: dict[str, list[Band | None]] = {}
    for name in runs[0].weekly if runs else ():
        weeks[name] = []
        for w in range(settings.weeks):
            values = sorted(v for r in runs if (v := r.weekly[name][w]) is not None)
            weeks[name].append(_band(values) if values else None)
    known = known_today(snapshot, policy, settings.weeks)
    promised = {h.case: f"to {h.worker} on {h.on.isoformat()}" for h in handovers}
    staff = {p.id: p for p in snapshot.practitioners}
    held = _held_today(snapshot)
    children: list[ChildOutlook] = []
    for c in snapshot.cases:
        worker = held.get(c.id)
        if worker is None:
            continue
        losses = [r.lost[c.id] for r in runs if c.id in r.lost]
        why, on = known.get(worker, ("", None))
        if not losses and not why:
            continue
        days = sorted(d for d, _, _ in losses)
        causes: dict[str, int] = {}
        for _, cause, _ in losses:
            causes[cause] = causes.get(cause, 0) + 1
        children.append(
            ChildOutlook(
                case=c.id,
                family=c.family,
                type=c.type.value,
                worker=worker,
                chance=round(len(losses) / n, 4) if n else 0.0,
                week=(max(1, math.ceil(quantile(days, 0.5) / 7)) if days else None),
                cause=max(sorted(causes), key=lambda k: causes[k]) if causes else "",
                chance_waiting=round(sum(1 for *_, w in losses if w) / n, 4) if n else 0.0,
                known=why,
                known_on=on,
                handover=promised.get(c.id, ""),
            )
        )
    children.sort(
        key=lambda o: (o.known_on is None, o.known_on or date.max, -o.chance, o.worker, o.case)
    )
    loads: dict[str, float] = {}
    for c in snapshot.cases:
        if c.worker is not None:
            loads[c.worker] = loads.get(c.worker, 0.0) + policy.case_weight(c)
    workers: list[WorkerOutlook] = []
    for wid in sorted({w for r in runs for w in r.over_cap}):
        p = staff.get(wid)
        hits = [len(r.over_cap.get(wid, ())) for r in runs]
        workers.append(
            WorkerOutlook(
                worker=wid,
                team=p.team if p else "",
                grade=p.grade.value if p else "",
                chance_over_cap=round(sum(1 for h in hits if h) / n, 4),
                weeks_over_cap=round(sum(hits) / n, 2),
                load=round(loads.get(wid, 0.0), 2),
                cap=round(policy.capacity(p), 2) if p else 0.0,
                known=known.get(wid, ("", None))[0] if p else "joins during the forecast",
                by_week=tuple(
                    round(sum(1 for r in runs if week in r.over_cap.get(wid, ())) / n, 4)
                    for week in range(1, settings.weeks + 1)
                ),
            )
        )
    workers.sort(key=lambda o: (-o.chance_over_cap, -o.weeks_over_cap, o.worker))
    notes = [
        f"{counted(n, 'run')} of {counted(settings.weeks, 'week')} from "
        f"{snapshot.as_of.isoformat()}, "
        f"method {settings.method}, seed {settings.seed}.",
    ]
    if (few := few_runs_note(n)) is not None:
        notes.append(few)
    if handovers:
        notes.append(
            f"{counted(len(handovers), 'handover')} promised before today kept in every run (the "
            "receiver's room held until the day), unless something changed."
        )
    if calibration is not None:
        notes.extend(calibration.notes)
    else:
        notes.append("Rates: the national ones cited in docs/SIMULATION.md (no history given).")
    waiting_today = {f"waiting {name}": 0 for name in policy.class_names}
    for c in snapshot.cases:
        if c.id not in held:
            waiting_today[f"waiting {policy.class_name(c)}"] += 1
    over_cap_today = sum(
        1
        for wid, load in loads.items()
        if wid in staff
        and not is_gone(staff[wid], snapshot.as_of)
        and load > policy.capacity(staff[wid]) + 1e-9
    )
    orphaned = [c for c in snapshot.cases if c.worker is not None and c.id not in held]
    # Only the leavers who still hold a child: one with none changes no child's story.
    left = sorted(
        {staff[c.worker] for c in orphaned if c.worker is not None},
        key=lambda p: (p.leaving_on, p.id),
    )
    if orphaned:
        # leaving_on is the last working day: on or before today the worker has gone,
        # so the day is named as theirs, not as a day they left "before today".
        who = ", ".join(f"{p.id}'s last day {p.leaving_on}" for p in left)
        notes.append(
            f"{counted(len(orphaned), 'child', 'children')} whose worker has left ({who}) "
            "have no worker today: counted as waiting from week 0, not as losing their worker."
        )
    return Forecast(
        snapshot.as_of,
        settings,
        weeks,
        children,
        workers,
        tuple(notes),
        seconds,
        list(runs),
        waiting_today,
        over_cap_today,
    )


def coverage(fc: Forecast, truths: Sequence[RunFigures]) -> dict[str, float]:
    """Per measure, the share of (truth, week) pairs whose value fell inside the
    forecast's 10-90% band (ends included); measures with no such pair are left out.

    A band that is right about its spread holds the truth about 80% of the time
    (more for counts, whose bands are often a single value).
    """
    out: dict[str, float] = {}
    for name, bands in fc.weeks.items():
        hits = total = 0
        for truth in truths:
            for w, band in enumerate(bands):
                value = truth.weekly[name][w]
                if band is None or value is None:
                    continue
                total += 1
                hits += band.p10 <= value <= band.p90
        if total:
            out[name] = round(hits / total, 4)
    return out


def backtest(
    snapshot: Snapshot,
    policy: Policy,
    settings: ForecastSettings,
    truths: int,
    calibration: Calibration | None = None,
) -> tuple[Forecast, dict[str, float]]:
    """Forecast, then play out ``truths`` further futures as "what happened" and
    measure how often each fell inside the bands (:func:`coverage`).

    The truths are runs ``settings.runs`` onwards of the same seed (events the
    forecast never saw). With a council's history this is where a past snapshot and
    the weeks that followed it would go; with the synthetic history it checks that
    the bands are as wide as the futures they describe.
    """
    fc = forecast(snapshot, policy, settings, calibration=calibration)
    played = [
        run_once(snapshot, policy, settings, settings.runs + k, calibration) for k in range(truths)
    ]
    return fc, coverage(fc, played)


def _band(values: Sequence[float]) -> Band:
    return Band(
        p10=round(quantile(values, BAND[0]), 2),
        p50=round(quantile(values, BAND[1]), 2),
        p90=round(quantile(values, BAND[2]), 2),
        mean=round(sum(values) / len(values), 2),
        runs=len(values),
    )


#: Runs below which a forecast says its bands are not a spread: with fewer, a band's
#: ends (:func:`quantile`, interpolated) lie between the lowest two and the highest two
#: runs, and with one run a band is that run's value.
MIN_RUNS_FOR_BANDS: Final = 10


def few_runs_note(runs: int) -> str | None:
    """The sentence a forecast of fewer than :data:`MIN_RUNS_FOR_BANDS` runs carries,
    in its notes and its summary's first lines; ``None`` for enough runs."""
    if runs >= MIN_RUNS_FOR_BANDS:
        return None
    return (
        f"Only {counted(runs, 'run')}: each 10-90% band spans what so few runs gave, not "
        f"the spread of what may happen (give --runs {MIN_RUNS_FOR_BANDS} or more)."
    )


def _held_today(snapshot: Snapshot) -> dict[str, str]:
    """Case -> worker for the children with a worker today: one who has not left
    (:func:`~allocator.domain.rules.is_gone`)."""
    staff = {p.id: p for p in snapshot.practitioners}
    return {
        c.id: c.worker
        for c in snapshot.cases
        if c.worker is not None and not is_gone(staff[c.worker], snapshot.as_of)
    }


def known_today(
    snapshot: Snapshot, policy: Policy, weeks: int
) -> dict[str, tuple[str, date | None]]:
    """Worker -> (what the snapshot says of their departure, the day), for departures
    within ``weeks`` weeks: a last day, a planned long absence, a contract's end, an
    absence under way of ``long_absence_days`` or more. A worker who has already left
    is not a departure: their children have no worker today."""
    end = snapshot.as_of + timedelta(days=7 * weeks)
    long_days = policy.long_absence_days
    out: dict[str, tuple[str, date | None]] = {}
    for p in snapshot.practitioners:
        if is_gone(p, snapshot.as_of):
            continue
        if p.leaving_on is not None and p.leaving_on <= end:
            out[p.id] = (f"{p.id} leaves on {p.leaving_on.isoformat()}", p.leaving_on)
        elif p.available_from is not None and p.available_from >= snapshot.as_of + timedelta(
            days=long_days
        ):
            out[p.id] = (
                f"{p.id} is away until {p.available_from.isoformat()}",
                snapshot.as_of,
            )
        elif (
            p.absence_from is not None
            and p.absence_until is not None
            and p.absence_from <= end
            and (p.absence_until - p.absence_from).days >= long_days
        ):
            out[p.id] = (
                f"{p.id} is away from {p.absence_from.isoformat()} "
                f"until {p.absence_until.isoformat()}",
                p.absence_from,
            )
        elif (
            p.contract is not Contract.PERMANENT
            and p.contract_end is not None
            and p.contract_end <= end
        ):
            out[p.id] = (
                f"{p.id}'s {p.contract.value} contract ends on {p.contract_end.isoformat()}",
                p.contract_end,
            )
    return out


__all__ = [
    "WAIT_GROUPS",
    "Band",
    "BegunWait",
    "Calibration",
    "ChildOutlook",
    "ChildrenOfRun",
    "Forecast",
    "ForecastError",
    "ForecastSettings",
    "RunFigures",
    "WaitGroup",
    "WorkerOutlook",
    "backtest",
    "coverage",
    "forecast",
    "forecast_events",
    "gather",
    "known_today",
    "measure",
    "quantile",
    "run_once",
]
