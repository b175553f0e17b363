"""A year of a service, day by day: events, the morning's decision, records.

Each day of :func:`simulate`:

1. the day's events (:mod:`allocator.simulation.events`) change the service: cases
   close, complexity moves, notices are given (``leaving_on``), absences start
   (``available_from``), joiners arrive, referrals come in;
2. on a working day the method decides: the rebalance on rebalance days (every
   ``rebalance_every`` days, on the first working day on or after each; it places
   what the morning would as well, and lists every handover in force: one promised
   before and not listed is withdrawn), else the morning's allocation;
3. planned handovers falling due take effect, unless something changed (the case
   closed, the receiver left, is absent, may no longer hold the child or has no
   room for them): the notice is the days since the child was first told;
4. the decision is applied and **conservation** checked: every open child is with
   a worker on the books or on the unallocated list, every case that needed a
   decision got one, no child is lost or counted twice; a breach raises
   :class:`ConservationError` at once;
5. the day is recorded (:class:`~allocator.simulation.records.Recorder`).

Staff who have gone are taken off the books once they hold no child, and pins naming
them are cleared (a manager would pin the case again).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

from allocator.contract import models
from allocator.contract.models import SNAPSHOT_FORMAT, Case, Practitioner, Priority, Snapshot
from allocator.contract.policy import Policy
from allocator.domain.rules import counted, is_gone, waiting_start
from allocator.simulation.events import Absence, Day, EventStream, draw_events
from allocator.simulation.methods import Decision, Handover, Method, departure_cause
from allocator.simulation.records import Cause, Recorder

#: Rebalance every this many days by default (weekly).
REBALANCE_EVERY = 7


#: ``simulate(on_day=...)``: day index, date, staff on the books, open cases.
DayObserver = Callable[[int, date, Mapping[str, Practitioner], Mapping[str, Case]], None]


class ConservationError(RuntimeError):
    """A child lost, counted twice, or left with a worker who has gone."""


@dataclass(frozen=True)
class Settings:
    """What a simulation run is, apart from its snapshot and method.

    Attributes
    ----------
    days
        Days simulated after the snapshot's ``as_of``.
    seed
        Seed of the event stream (and the engine's CP-SAT seed).
    rebalance_every
        Days between rebalances; 0 never rebalances.
    arrival_factor
        Referrals as a multiple of the steady-state rate.
    """

    days: int = 365
    seed: int = 0
    rebalance_every: int = REBALANCE_EVERY
    arrival_factor: float = 1.0


@dataclass
class Result:
    """One method's year: its records, and the wall-clock time it took (not an output)."""

    method: str
    recorder: Recorder
    seconds: float
    events: EventStream


@dataclass
class _Service:
    """The service's mutable state between days."""

    staff: dict[str, Practitioner]
    cases: dict[str, Case]
    change_days: dict[str, list[date]] = field(default_factory=dict)

    def snapshot(self, as_of: date) -> Snapshot:
        cases = []
        for c in self.cases.values():
            recent = sum(1 for d in self.change_days.get(c.id, ()) if d > as_of - timedelta(365))
            if recent != c.changes_last_12_months:
                c = c.model_copy(update={"changes_last_12_months": min(recent, 366)})
                self.cases[c.id] = c
            cases.append(c)
        return Snapshot(
            format=SNAPSHOT_FORMAT,
            as_of=as_of,
            practitioners=tuple(self.staff.values()),
            cases=tuple(cases),
        )


def _left_before(snapshot: Snapshot) -> Snapshot:
    """``snapshot`` with each child whose worker has left (last day on or before its
    day) shown as a case system shows them: no worker, the one who left first among
    their previous workers, waiting since the worker's last day
    (:func:`~allocator.domain.rules.waiting_start`, unless ``waiting_since`` says
    otherwise). Their loss came before the run: it is a wait from day 0 (cause
    ``before_run``), not a change of worker on day 0 that no method could have told
    them of ahead (a fresh user's run counted 20 such children as leaver changes with
    no notice). Both methods read such a child as waiting since the worker's last day
    either way."""
    staff = {p.id: p for p in snapshot.practitioners}
    cases = []
    for c in snapshot.cases:
        gone = staff.get(c.worker) if c.worker is not None else None
        if gone is not None and is_gone(gone, snapshot.as_of):
            c = c.model_copy(
                update={
                    "worker": None,
                    "previous_workers": (gone.id, *c.previous_workers),
                    "waiting_since": c.waiting_since or waiting_start(c, gone, snapshot.as_of),
                }
            )
        cases.append(c)
    return snapshot.model_copy(update={"cases": tuple(cases)})


def _initial_change_days(case: Case, start: date) -> list[date]:
    """The snapshot's ``changes_last_12_months`` spread evenly over the year before."""
    n = case.changes_last_12_months
    return [start - timedelta(days=round(365 * (k + 1) / (n + 1))) for k in range(n)]


def is_rebalance_day(d: int, last: int | None, every: int) -> bool:
    """Whether working day index ``d`` rebalances: the first on or after each multiple."""
    if every <= 0 or d == 0:
        return False
    due = (d // every) * every
    return last is None or last < due


def simulate(
    snapshot: Snapshot,
    method: Method,
    policy: Policy | None = None,
    settings: Settings | None = None,
    events: EventStream | None = None,
    promised: Sequence[models.Handover] = (),
    on_day: DayObserver | None = None,
) -> Result:
    """Run ``method`` on ``snapshot`` for ``settings.days`` days.

    Parameters
    ----------
    snapshot
        The service on day 0.
    method
        What decides each morning (:mod:`allocator.simulation.methods`).
    policy
        FORMAT.md defaults when ``None``.
    settings
        Days, seed, rebalance frequency; defaults: a year, seed 0, weekly.
    events
        The event stream, drawn from the seed when ``None``; pass one stream to
        several methods to save drawing it again (it is the same either way).
    promised
        Handovers planned before day 0 and not yet made (a pending handovers file,
        :func:`allocator.problems.apply.still_pending` of it): each is in force from day 0
        as one the method promised itself, its receiver's room kept until its day,
        made on that day unless something changed; the child was told on its ``on``
        less ``notice_days``. Each ``from`` must be on ``snapshot``'s staff list.
    on_day
        Called at each day's end, after it is recorded, with the day's index, its
        date, the staff on the books and the open cases (read only): what a case
        system would hold that evening (:mod:`allocator.simulation.history` writes it
        as an SSD extract). Nothing in the run depends on it.

    Returns
    -------
    Result
        The records, ready for :mod:`allocator.simulation.report`.

    Raises
    ------
    ConservationError
        If any day's state breaks the conservation rule.
    """
    policy = policy or Policy()
    settings = settings or Settings()
    if events is None:
        events = draw_events(
            snapshot,
            seed=settings.seed,
            days=settings.days,
            arrival_factor=settings.arrival_factor,
        )
    started = time.perf_counter()
    snapshot = _left_before(snapshot)
    service = _Service(
        staff={p.id: p for p in snapshot.practitioners},
        cases={c.id: c for c in snapshot.cases},
        change_days={c.id: _initial_change_days(c, snapshot.as_of) for c in snapshot.cases},
    )
    recorder = Recorder(snapshot, policy, method.name)
    pending = _promised_before(snapshot, promised)
    kept = getattr(method, "promised", None)
    if isinstance(kept, dict):
        kept.clear()  # a method's handovers promised in an earlier run
        kept.update({cid: (h.worker, h.on) for cid, (h, _) in pending.items()})
    # Absences known before they start (maternity leave) are announced on the day
    # they become known: ``absence_from`` / ``absence_until`` (docs/FORMAT.md).
    announced: dict[int, list[Absence]] = {}
    for later in events.days:
        for absence in later.absences:
            if absence.known < absence.start:
                k = (absence.known - events.start).days
                announced.setdefault(max(0, k), []).append(absence)
    last_rebalance: int | None = None
    for d in range(settings.days + 1):
        today = events.date(d)
        day = events.days[d]
        _apply_events(service, recorder, day, d, today)
        for absence in announced.get(d, ()):
            _announce(service, absence, today)
        decision: Decision | None = None
        if today.weekday() < 5:
            snap = service.snapshot(today)
            if is_rebalance_day(d, last_rebalance, settings.rebalance_every):
                decision = method.rebalance(snap, policy)
                last_rebalance = d
                # A rebalance lists every handover in force: one it does not list is
                # withdrawn (the plan found the child another way, or none).
                listed = {h.case for h in decision.handovers}
                for cid in [c for c in pending if c not in listed]:
                    del pending[cid]
            else:
                decision = method.allocate(snap, policy)
            _apply(service, recorder, decision, d, today, snap)
            for h in decision.handovers:
                earlier = pending.get(h.case)
                # The same promise again keeps the day the child was first told.
                told = earlier[1] if earlier and earlier[0].worker == h.worker else today
                pending[h.case] = (h, told)
        _due_handovers(service, recorder, pending, d, today)
        _retire(service, today)
        _conserve(service, today, decision, d, recorder.open_children())
        recorder.end_of_day(d, today, service.staff, service.cases)
        if on_day is not None:
            on_day(d, today, service.staff, service.cases)
    return Result(method.name, recorder, time.perf_counter() - started, events)


def _promised_before(
    snapshot: Snapshot, promised: Sequence[models.Handover]
) -> dict[str, tuple[Handover, date]]:
    """Case -> (the handover, the day the child was told) of handovers planned before
    the run, as :func:`simulate` keeps its own pending ones."""
    staff = {p.id: p for p in snapshot.practitioners}
    return {
        h.case: (
            Handover(h.case, h.worker, h.on, departure_cause(staff[h.from_], h.departs)),
            h.on - timedelta(days=h.notice_days),
        )
        for h in promised
    }


def _apply_events(service: _Service, recorder: Recorder, day: Day, d: int, today: date) -> None:
    for cid in day.closures:
        case = service.cases.pop(cid, None)
        if case is not None:
            recorder.closed(cid, d)
    for cid, complexity in day.complexity:
        case = service.cases.get(cid)
        if case is not None:
            service.cases[cid] = case.model_copy(update={"complexity": complexity})
    for notice in day.notices:
        p = service.staff.get(notice.worker)
        if p is not None and not is_gone(p, today):
            service.staff[p.id] = p.model_copy(update={"leaving_on": notice.last_day})
            recorder.known(p.id, "leaver", notice.on)
    for absence in day.absences:
        p = service.staff.get(absence.worker)
        if p is not None and not is_gone(p, today):
            service.staff[p.id] = p.model_copy(
                update={"available_from": absence.back, "absence_from": None, "absence_until": None}
            )
            recorder.known(p.id, "long_absence", absence.known)
            recorder.absence(absence)
    for joiner in day.joiners:
        service.staff[joiner.id] = joiner
        recorder.joined(joiner, d)
    for case in day.referrals:
        service.cases[case.id] = case
        service.change_days[case.id] = []
        recorder.opened(case, d)


def _announce(service: _Service, absence: Absence, today: date) -> None:
    """A worker's coming absence becomes known: their planned-absence fields are set."""
    p = service.staff.get(absence.worker)
    if p is not None and not is_gone(p, today) and absence.start > today:
        service.staff[p.id] = p.model_copy(
            update={"absence_from": absence.start, "absence_until": absence.back}
        )


def _cause(
    snap_staff: dict[str, Practitioner],
    case: Case,
    today: date,
    policy: Policy,
    long_absence_days: int,
    load: dict[str, float],
) -> Cause:
    """Why ``case`` leaves its worker today (the worker as in the morning's snapshot)."""
    from allocator.domain.rules import holding_blockers

    assert case.worker is not None
    p = snap_staff[case.worker]
    if is_gone(p, today):
        return "leaver"
    if p.available_from is not None and p.available_from >= today + timedelta(
        days=long_absence_days
    ):
        return "long_absence"
    if holding_blockers(case, p, policy):
        return "rule"
    if load.get(p.id, 0.0) > policy.capacity(p) + 1e-9:
        return "over_cap"
    return "choice"


def _apply(
    service: _Service,
    recorder: Recorder,
    decision: Decision,
    d: int,
    today: date,
    snap: Snapshot,
) -> None:
    policy = recorder.policy
    staff = {p.id: p for p in snap.practitioners}
    load: dict[str, float] = {}
    for c in snap.cases:
        if c.worker is not None:
            load[c.worker] = load.get(c.worker, 0.0) + policy.case_weight(c)
    missing = decision.needed - decision.placed.keys() - decision.unallocated
    both = decision.placed.keys() & decision.unallocated
    if missing or both:
        raise ConservationError(
            f"day {d} ({today}): {counted(len(missing), 'case')} needing a worker in neither list "
            f"(e.g. {sorted(missing)[:3]}), {len(both)} in both (e.g. {sorted(both)[:3]})"
        )
    for cid in sorted(decision.unallocated):
        case = service.cases[cid]
        if case.worker is not None:
            why = _cause(staff, case, today, policy, policy.long_absence_days, load)
            recorder.lost(cid, case.worker, why, d)
            service.cases[cid] = case.model_copy(
                update={
                    "worker": None,
                    "previous_workers": (case.worker, *case.previous_workers),
                    # Waiting from today, or from the day a departed worker left.
                    "waiting_since": waiting_start(case, staff[case.worker], today),
                }
            )
    for cid in sorted(decision.placed):
        worker = decision.placed[cid]
        case = service.cases[cid]
        if worker not in service.staff or is_gone(service.staff[worker], today):
            raise ConservationError(f"day {d}: case {cid} placed with {worker}, not on the books")
        if case.worker == worker:
            continue
        cause: Cause | None = None
        if case.worker is not None:
            cause = _cause(staff, case, today, policy, policy.long_absence_days, load)
        changed = recorder.placed(cid, case.worker, worker, cause, d, notice_days=0)
        previous = case.previous_workers
        if case.worker is not None:
            previous = (case.worker, *previous)
        update: dict[str, object] = {
            "worker": worker,
            "previous_workers": previous,
            "waiting_since": None,
        }
        if case.priority is Priority.URGENT:
            update["priority"] = Priority.STANDARD  # seen today: urgency is spent
        if changed:
            service.change_days.setdefault(cid, []).append(today)
        service.cases[cid] = case.model_copy(update=update)


def _due_handovers(
    service: _Service,
    recorder: Recorder,
    pending: dict[str, tuple[Handover, date]],
    d: int,
    today: date,
) -> None:
    """Planned handovers whose day has come, honoured unless something changed."""
    for cid in sorted(pending):
        handover, told = pending[cid]
        if handover.on > today:
            continue
        del pending[cid]
        case = service.cases.get(cid)
        worker = service.staff.get(handover.worker)
        if case is None or worker is None or is_gone(worker, today) or case.worker is None:
            continue
        if case.worker == handover.worker:
            continue
        if not _may_take(service, recorder.policy, case, worker, today):
            continue  # something changed: the morning after, the child is placed afresh
        changed = recorder.placed(
            cid, case.worker, handover.worker, handover.cause, d, notice_days=(today - told).days
        )
        if changed:
            service.change_days.setdefault(cid, []).append(today)
        service.cases[cid] = case.model_copy(
            update={
                "worker": handover.worker,
                "previous_workers": (case.worker, *case.previous_workers),
            }
        )


def _may_take(
    service: _Service, policy: Policy, case: Case, worker: Practitioner, today: date
) -> bool:
    """Whether ``worker`` may still take ``case`` on the handover day: every holding
    rule, present (not absent), and within their cap with the child."""
    from allocator.domain.rules import holding_blockers

    if holding_blockers(case, worker, policy):
        return False
    if worker.available_from is not None and worker.available_from > today:
        return False
    load = sum(policy.case_weight(c) for c in service.cases.values() if c.worker == worker.id)
    return load + policy.case_weight(case) <= policy.capacity(worker) + 1e-9


def _retire(service: _Service, today: date) -> None:
    """Take staff who have gone and hold no child off the books; clear pins to them."""
    holding = {c.worker for c in service.cases.values() if c.worker is not None}
    gone = {w for w, p in service.staff.items() if is_gone(p, today) and w not in holding}
    if not gone:
        return
    for w in gone:
        del service.staff[w]
    for cid, c in service.cases.items():
        if c.pinned_worker in gone:
            service.cases[cid] = c.model_copy(update={"pinned_worker": None})


def _conserve(
    service: _Service, today: date, decision: Decision | None, d: int, expected: int
) -> None:
    """Every open child is with a worker on the books, or on the unallocated list.

    ``expected`` is the children opened and not closed, counted apart from the
    service's cases: a child dropped or duplicated shows as a difference.
    """
    if len(service.cases) != expected:
        raise ConservationError(
            f"day {d} ({today}): {len(service.cases)} open cases, expected {expected}"
        )
    for cid, c in service.cases.items():
        if c.worker is None:
            continue
        p = service.staff.get(c.worker)
        if p is None:
            raise ConservationError(f"day {d} ({today}): case {cid} held by {c.worker}, unknown")
        if decision is not None and is_gone(p, today):
            raise ConservationError(
                f"day {d} ({today}): case {cid} still held by {c.worker}, who has gone"
            )


def compare(
    snapshot: Snapshot,
    methods: list[Method],
    policy: Policy | None = None,
    settings: Settings | None = None,
) -> list[Result]:
    """Each of ``methods`` over the same year: one event stream, drawn once.

    Common random numbers: every method sees exactly the same referrals, closures,
    leavers, joiners, absences and complexity changes.
    """
    settings = settings or Settings()
    events = draw_events(
        snapshot, seed=settings.seed, days=settings.days, arrival_factor=settings.arrival_factor
    )
    return [simulate(snapshot, m, policy, settings, events) for m in methods]
