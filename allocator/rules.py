"""The hard rules and the service's starting state, in plain Python.

One definition of each rule, shared by the engine (to decide which case x worker
pairs may exist at all), the greedy baseline, the checker and the explanations.
Nothing here imports the solver.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import cached_property
from typing import NewType

from allocator.models import Case, Practitioner, Priority, Snapshot
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


def holding_blockers(case: Case, p: Practitioner, policy: Policy) -> list[str]:
    """Every rule that stops ``p`` holding ``case``, whatever their load or availability.

    Covers grade (complexity ceiling and excluded types), ``needs`` within ``skills``,
    ``excluded_workers`` and ``pinned_worker``.
    """
    blockers: list[str] = []
    rule = policy.grades[p.grade]
    if case.complexity > rule.max_complexity:
        blockers.append(
            f"complexity {case.complexity} is above {rule.max_complexity}, the most a "
            f"{p.grade.value} may hold"
        )
    if case.type in rule.excluded_types:
        blockers.append(f"a {p.grade.value} may not hold {case.type.value} work")
    missing = [n for n in case.needs if n not in p.skills]
    if missing:
        blockers.append(f"{p.id} lacks {' + '.join(missing)}")
    if p.id in case.excluded_workers:
        blockers.append(f"{p.id} is excluded from this case (conflict of interest)")
    if case.pinned_worker is not None and case.pinned_worker != p.id:
        blockers.append(f"the case is pinned to {case.pinned_worker}")
    return blockers


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
        for c in snapshot.cases:
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
            to_allocate=[c.id for c in snapshot.cases if needs_worker(c, gone)],
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


def needs_worker(case: Case, gone: frozenset[str]) -> bool:
    """Unallocated, or held by a worker who has left."""
    return case.worker is None or case.worker in gone
