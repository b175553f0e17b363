"""The hard rules and the service's starting state, in plain Python.

One definition of each rule, shared by the engine (to decide which case x worker
pairs may exist at all), the greedy baseline, the checker and the explanations.
Nothing here imports the solver.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import cache, cached_property
from typing import NewType

from allocator.models import Case, Grade, ManagedException, Practitioner, Priority, Snapshot
from allocator.policy import Policy

#: Weights and capacities are compared in integer centi-points everywhere (solver and
#: plain Python alike), so 0.75 x 3 = 2.25 points is exact and both sides agree.
POINTS_SCALE = 100

#: Points (floats, as in the interchange format) scaled once, at the door, to whole
#: hundredths of a point; every load is a sum of these, exact.
CentiPoints = NewType("CentiPoints", int)


def _hundredths(points: float) -> float:
    # Six places drop the binary noise of a decimal (0.1 x 3 x 100 = 30.000000000000004)
    # without touching any hundredth a person wrote.
    return round(points * POINTS_SCALE, 6)


def weight_units(points: float) -> CentiPoints:
    """A case's weight in centi-points, rounded up to the next hundredth of a point.

    Rounding a weight up (and a cap down, :func:`capacity_units`) keeps every sum of
    weights at or above the true one, so a cap the plan says holds really holds:
    three cases of 3.334 points (10.002 in all) do not fit a cap of 10.
    """
    return CentiPoints(math.ceil(_hundredths(points)))


def capacity_units(points: float) -> CentiPoints:
    """A worker's capacity in centi-points, rounded down to the hundredth of a point."""
    return CentiPoints(math.floor(_hundredths(points)))


def to_points(units: int) -> float:
    """Centi-points back to points, for people and the plan."""
    return units / POINTS_SCALE


def is_gone(p: Practitioner, as_of: date) -> bool:
    """A worker whose last day is on or before ``as_of`` has left and holds nothing."""
    return p.leaving_on is not None and p.leaving_on <= as_of


def availability_blocker(p: Practitioner, as_of: date, policy: Policy) -> str | None:
    """Why ``p`` may take no new case on ``as_of``, or ``None`` if they may."""
    if is_gone(p, as_of):
        return f"{p.id} left on {p.leaving_on}"
    if p.available_from is not None and p.available_from > as_of:
        return f"{p.id} is absent until {p.available_from}"
    if p.leaving_on is not None and p.leaving_on <= as_of + timedelta(
        days=policy.leaving_window_days
    ):
        return f"{p.id} leaves on {p.leaving_on} (within {policy.leaving_window_days} days)"
    return None


@cache  # a service has few distinct skills, needs and patches; this is on hot paths
def normalised(text: str) -> str:
    """A skill, need or area as it is matched: case and surrounding spaces ignored.

    FORMAT.md: ``needs`` are "matched to ``skills`` ignoring case and surrounding
    spaces"; areas are matched the same way. The one definition every comparison uses.

    Examples
    --------
    >>> normalised("  Welsh "), normalised("Patch 02A") == normalised("patch 02a")
    ('welsh', True)
    """
    return text.strip().casefold()


@cache
def normalised_set(items: tuple[str, ...]) -> frozenset[str]:
    """:func:`normalised` of each item (a worker's ``skills`` or ``areas``)."""
    return frozenset(normalised(item) for item in items)


def missing_needs(case: Case, p: Practitioner) -> list[str]:
    """The case's ``needs`` that are not among ``p``'s ``skills`` (see :func:`normalised`)."""
    if not case.needs:
        return []
    skills = normalised_set(p.skills)
    return [n for n in case.needs if normalised(n) not in skills]


def covers_area(p: Practitioner, area: str | None) -> bool | None:
    """Whether ``p``'s patches include ``area``; ``None`` when either is not given.

    An empty ``areas`` list means the worker covers any patch, which is not a match
    on the child's patch: that too gives ``None``.
    """
    if area is None or not p.areas:
        return None
    return normalised(area) in normalised_set(p.areas)


def kept_despite_grade(case: Case, p: Practitioner) -> bool:
    """Whether a manager's pin keeps ``case`` with ``p``, its current worker, despite grade.

    FORMAT.md: a pin naming the current worker keeps an outgrown case there as a
    managed exception to the who-may-hold-what table (never to ``needs`` or
    ``excluded_workers``). A pin never lets a new allocation or a move break a rule,
    so the exception holds only for the worker who holds the case today.
    """
    return case.worker == p.id and case.pinned_worker == p.id


def grade_blockers(case: Case, grade: Grade, policy: Policy) -> list[str]:
    """Why the who-may-hold-what table stops ``grade`` holding ``case``, if it does.

    The table's one definition: the grade's complexity ceiling, then its excluded
    types (``policy.grades``). Empty when the grade may hold the case.
    """
    rule = policy.grades[grade]
    out: list[str] = []
    if case.complexity > rule.max_complexity:
        out.append(
            f"complexity {case.complexity} is above {rule.max_complexity}, the most a "
            f"{grade.value} may hold"
        )
    if case.type in rule.excluded_types:
        out.append(f"a {grade.value} may not hold {case.type.value} work")
    return out


def holding_rules(case: Case, p: Practitioner, policy: Policy) -> list[tuple[str, str]]:
    """Every rule that stops ``p`` holding ``case`` at the end of a plan, with its rule id.

    The one definition of "may this worker hold this case once the plan is applied",
    for new allocations, moves and cases a plan keeps alike. Covers the
    who-may-hold-what table (rule id ``grade``: complexity ceiling and excluded
    types), ``needs`` within ``skills`` (``skills``), ``excluded_workers``
    (``excluded_worker``) and ``pinned_worker`` (``pinned_worker``); not
    availability, capacity or intake, which bind only new cases.

    The table is waived for the case's current worker when the case is pinned to
    them (:func:`kept_despite_grade`).

    Returns
    -------
    list of (rule id, sentence)
        Empty when ``p`` may hold the case, else in the order above.
    """
    blockers: list[tuple[str, str]] = []
    if not kept_despite_grade(case, p):
        blockers.extend(("grade", sentence) for sentence in grade_blockers(case, p.grade, policy))
    missing = missing_needs(case, p)
    if missing:
        blockers.append(("skills", f"{p.id} lacks {' + '.join(missing)}"))
    if p.id in case.excluded_workers:
        blockers.append(
            ("excluded_worker", f"{p.id} is excluded from this case (conflict of interest)")
        )
    if case.pinned_worker is not None and case.pinned_worker != p.id:
        blockers.append(("pinned_worker", f"the case is pinned to {case.pinned_worker}"))
    return blockers


def holding_blockers(case: Case, p: Practitioner, policy: Policy) -> list[str]:
    """The sentences of :func:`holding_rules`: why ``p`` may not hold ``case``."""
    return [sentence for _, sentence in holding_rules(case, p, policy)]


def managed_exception(case: Case, p: Practitioner, policy: Policy) -> str | None:
    """Why ``case`` stays with ``p`` only as a managed exception, or ``None``.

    A sentence when ``p`` holds the case today, the case is pinned to ``p`` and the
    who-may-hold-what table alone would not let ``p`` hold it.
    """
    if not kept_despite_grade(case, p):
        return None
    unpinned = case.model_copy(update={"pinned_worker": None})
    table = [sentence for rule, sentence in holding_rules(unpinned, p, policy) if rule == "grade"]
    if not table:
        return None
    return f"pinned to {p.id} by a manager, who keeps it there although {'; '.join(table)}"


def why_needs_worker(
    case: Case, practitioners: Mapping[str, Practitioner], as_of: date, policy: Policy
) -> str | None:
    """Why ``case`` needs a worker today, or ``None`` when its worker may keep it.

    FORMAT.md: a case needs a worker when it has none, when its worker has left, or
    when its current worker breaks a hard rule today (:func:`holding_rules`: excluded,
    pinned to another, outgrown their grade, lacking a need), unless a pin to that
    worker keeps an outgrown case as a managed exception.

    Parameters
    ----------
    case
        The case as in the snapshot.
    practitioners
        Every practitioner by id (``case.worker``, if any, must be among them).
    as_of
        The snapshot's date.
    policy
        The who-may-hold-what table.

    Returns
    -------
    str or None
        ``"it has no worker"``, ``"P1 left on 2026-11-20"`` or ``"P1 may no longer
        hold it: ..."``; ``None`` when nothing needs doing.
    """
    if case.worker is None:
        return "it has no worker"
    p = practitioners[case.worker]
    if is_gone(p, as_of):
        return f"{p.id} left on {p.leaving_on}"
    broken = holding_blockers(case, p, policy)
    if broken:
        return f"{p.id} may no longer hold it: {'; '.join(broken)}"
    return None


def families_held(state: ServiceState) -> dict[str, frozenset[str]]:
    """Per worker, the families they hold at least one child of in the snapshot."""
    held: dict[str, set[str]] = defaultdict(set)
    for case in state.snapshot.cases:
        if case.worker is not None:
            held[case.worker].add(case.family)
    return {wid: frozenset(fams) for wid, fams in held.items()}


def new_families(state: ServiceState, given: Mapping[str, str]) -> dict[str, set[str]]:
    """Per worker, the families ``given`` hands them that they held no child of before.

    Parameters
    ----------
    state
        The indexed snapshot.
    given
        Case id -> worker id for every case the plan gives a worker (new or moved).

    Returns
    -------
    dict
        Worker id -> family ids new to them; workers with none are left out.
    """
    held = families_held(state)
    new: dict[str, set[str]] = defaultdict(set)
    for cid, wid in given.items():
        family = state.cases[cid].family
        if family not in held.get(wid, ()):
            new[wid].add(family)
    return dict(new)


@dataclass
class ServiceState:
    """A snapshot under a policy, indexed once: weights, capacities, loads, families.

    Build it with :meth:`of`. Loads and weights are in integer centi-points
    (:data:`POINTS_SCALE`).
    """

    snapshot: Snapshot
    policy: Policy
    practitioners: dict[str, Practitioner]
    cases: dict[str, Case]
    weight: dict[str, CentiPoints]
    capacity: dict[str, CentiPoints]
    load_before: dict[str, int]
    cases_before: dict[str, int]
    families: dict[str, list[str]]
    gone: frozenset[str]
    #: Case id -> why it needs a worker (:func:`why_needs_worker`), in snapshot order.
    needs: dict[str, str] = field(default_factory=dict)
    #: The cases of ``needs``: every case a plan must place or list as unallocated.
    to_allocate: list[str] = field(default_factory=list)
    _screened: dict[tuple[object, ...], list[str]] = field(default_factory=dict, repr=False)
    _eligible: dict[str, list[str]] = field(default_factory=dict, repr=False)
    #: ``to_allocate`` grouped by family, filled in by the engine on first use.
    to_allocate_by_family: dict[str, list[str]] | None = field(default=None, repr=False)
    #: Memo of :func:`allocator.objectives.balance_cost` by (worker, weight).
    balance_costs: dict[tuple[str, int], int] = field(default_factory=dict, repr=False)

    @cached_property
    def priority_class(self) -> dict[str, int]:
        """Each case's priority class, as an index into ``policy.class_names`` (0 first)."""
        return {cid: self.policy.priority_class(c) for cid, c in self.cases.items()}

    @classmethod
    def of(cls, snapshot: Snapshot, policy: Policy) -> ServiceState:
        """Index ``snapshot`` under ``policy``."""
        practitioners = {p.id: p for p in snapshot.practitioners}
        cases = {c.id: c for c in snapshot.cases}
        gone = frozenset(p.id for p in snapshot.practitioners if is_gone(p, snapshot.as_of))
        weight = {c.id: weight_units(policy.case_weight(c)) for c in snapshot.cases}
        load: dict[str, int] = dict.fromkeys(practitioners, 0)
        count: dict[str, int] = dict.fromkeys(practitioners, 0)
        families: dict[str, list[str]] = defaultdict(list)
        needs: dict[str, str] = {}
        for c in snapshot.cases:
            why = why_needs_worker(c, practitioners, snapshot.as_of, policy)
            if why is not None:
                needs[c.id] = why
            families[c.family].append(c.id)
            if c.worker is not None:
                load[c.worker] += weight[c.id]
                count[c.worker] += 1
        return cls(
            snapshot=snapshot,
            policy=policy,
            practitioners=practitioners,
            cases=cases,
            weight=weight,
            capacity={pid: capacity_units(policy.capacity(p)) for pid, p in practitioners.items()},
            load_before=load,
            cases_before=count,
            families=dict(families),
            gone=gone,
            needs=needs,
            to_allocate=list(needs),
        )

    @property
    def as_of(self) -> date:
        """The snapshot's date."""
        return self.snapshot.as_of

    @cached_property
    def open_for_new(self) -> frozenset[str]:
        """Workers who may take a new case today: present, staying, not already over cap."""
        return frozenset(
            pid
            for pid, p in self.practitioners.items()
            if availability_blocker(p, self.as_of, self.policy) is None
            and self.load_before[pid] <= self.capacity[pid]
        )

    @cached_property
    def holders(self) -> dict[str, frozenset[str]]:
        """Per family, the workers who keep at least one of its children (not moving)."""
        moving = set(self.to_allocate)
        held: dict[str, set[str]] = defaultdict(set)
        for c in self.snapshot.cases:
            if c.worker is not None and c.id not in moving:
                held[c.family].add(c.worker)
        return {f: frozenset(ws) for f, ws in held.items()}

    def spare_before(self, worker_id: str) -> int:
        """Capacity left (centi-points) before the plan, counting cases about to move off."""
        return self.capacity[worker_id] - self.load_before[worker_id]

    def eligible(self, case_id: str) -> list[str]:
        """Workers the static rules let take ``case_id`` today, sorted by id.

        Static: availability, grade, needs, exclusions, pin, and the case fitting in
        the worker's spare capacity before anything else is allocated. Workers are
        screened once per (type, complexity, needs) and then per case, so this stays
        fast on services of thousands of practitioners.
        """
        known = self._eligible.get(case_id)
        if known is not None:
            return known
        case = self.cases[case_id]
        key = (case.type, case.complexity, case.needs)
        screened = self._screened.get(key)
        if screened is None:
            probe = case.model_copy(update={"excluded_workers": (), "pinned_worker": None})
            screened = [
                pid
                for pid in sorted(self.open_for_new)
                if not holding_blockers(probe, self.practitioners[pid], self.policy)
            ]
            self._screened[key] = screened
        weight = self.weight[case_id]
        eligible = [
            pid
            for pid in screened
            if pid not in case.excluded_workers
            and (case.pinned_worker is None or case.pinned_worker == pid)
            and weight <= self.spare_before(pid)
        ]
        self._eligible[case_id] = eligible
        return eligible

    def may_hold(self, case_id: str, worker_id: str) -> bool:
        """Whether ``worker_id`` is among :meth:`eligible` workers for ``case_id``."""
        if worker_id not in self.open_for_new:
            return False
        case = self.cases[case_id]
        if holding_blockers(case, self.practitioners[worker_id], self.policy):
            return False
        return self.weight[case_id] <= self.spare_before(worker_id)

    def is_urgent(self, case_id: str) -> bool:
        """Whether the case is an urgent one."""
        return self.cases[case_id].priority is Priority.URGENT

    @cached_property
    def exceptions(self) -> dict[str, str]:
        """Case id -> sentence for each case kept with its worker as a managed exception.

        See :func:`managed_exception`; in snapshot order.
        """
        out: dict[str, str] = {}
        for c in self.snapshot.cases:
            if c.worker is not None and c.pinned_worker == c.worker and c.id not in self.needs:
                why = managed_exception(c, self.practitioners[c.worker], self.policy)
                if why is not None:
                    out[c.id] = why
        return out


def managed_exceptions(state: ServiceState) -> tuple[ManagedException, ...]:
    """The plan's list of cases kept with their worker only by a manager's pin.

    See :attr:`allocator.rules.ServiceState.exceptions`; in snapshot order.
    """
    return tuple(
        ManagedException(case=cid, worker=worker, reason=why)
        for cid, why in state.exceptions.items()
        if (worker := state.cases[cid].worker) is not None
    )
