"""The methods a simulation compares: what each morning's allocation and rebalance do.

A :class:`Method` is given the service as a :class:`~allocator.models.Snapshot` and
returns a :class:`Decision`: who goes where, who is left without a worker, and any
handovers it plans ahead (a change of worker on a later day, told to the child now).
The simulation applies the decision and measures the notice each child got, so a
method that plans handovers ahead (issue 13, item 3) slots in as one more class here.
Today neither method plans ahead: every change takes effect the day it is decided,
with 0 days' notice.

- :class:`EngineMethod`: :func:`allocator.daily.allocate` each morning and
  :func:`allocator.rebalancing.rebalance` on rebalance days, each with a fixed
  deterministic work budget and a time limit far above it, so that the same seed
  gives the same plans on any machine.
- :class:`GreedyMethod`: the manager's rule (:func:`allocator.greedy.greedy_allocate`)
  each morning; on rebalance days the manager also takes the children of long-absent
  workers, and whole families off over-cap workers (the smallest family that alone
  brings them within cap, else the heaviest, until within cap), and places them by
  the same rule.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Protocol

from allocator.models import Plan, Snapshot
from allocator.policy import Policy
from allocator.rules import ServiceState
from allocator.simulation.records import Cause

#: Default work budgets (CP-SAT deterministic units) for the engine, chosen for speed:
#: see docs/SIMULATION.md, "Speed" for what they cost against larger budgets.
DAILY_WORK_UNITS = 0.2
REBALANCE_WORK_UNITS = 0.5
#: Wall-clock seconds the engine may take per solve; far above what the work budgets
#: need, so the budget, never the clock, ends a search (reproducibility).
AMPLE_SECONDS = 600.0


@dataclass(frozen=True)
class Handover:
    """A change of worker decided now and taking effect on ``on`` (notice for the child).

    ``cause`` is what lies behind it (a leaver's handover planned before their last
    day is still a change caused by the leaver).
    """

    case: str
    worker: str
    on: date
    cause: Cause = "leaver"


@dataclass(frozen=True)
class Decision:
    """What a method decided for one morning.

    Attributes
    ----------
    placed
        Case -> worker for every case given a worker or moved now.
    unallocated
        Cases left without a worker (taken off their worker, if they had one).
    needed
        The cases that needed a decision (each must be in ``placed`` or
        ``unallocated``: the conservation rule).
    handovers
        Changes decided now that take effect later; none from today's methods.
    """

    placed: Mapping[str, str]
    unallocated: frozenset[str]
    needed: frozenset[str]
    handovers: tuple[Handover, ...] = field(default=())


class Method(Protocol):
    """A way of running a service day to day."""

    name: str

    def allocate(self, snapshot: Snapshot, policy: Policy) -> Decision:
        """The morning's allocation."""
        ...

    def rebalance(self, snapshot: Snapshot, policy: Policy) -> Decision:
        """The periodic rebalance (which also places what the morning would)."""
        ...


def _from_plan(plan: Plan, needed: frozenset[str]) -> Decision:
    return Decision(
        placed={a.case: a.worker for a in plan.assignments},
        unallocated=frozenset(u.case for u in plan.unallocated),
        needed=needed,
    )


@dataclass
class EngineMethod:
    """The allocator's engine, with deterministic work budgets."""

    daily_work_units: float = DAILY_WORK_UNITS
    rebalance_work_units: float = REBALANCE_WORK_UNITS
    seed: int = 0
    name: str = "engine"

    def allocate(self, snapshot: Snapshot, policy: Policy) -> Decision:
        """:func:`allocator.daily.allocate` with ``work_units`` fixed."""
        from allocator.daily import allocate

        needed = frozenset(ServiceState.of(snapshot, policy).to_allocate)
        if not needed:
            return Decision({}, frozenset(), needed)
        plan = allocate(
            snapshot,
            policy,
            time_limit=AMPLE_SECONDS,
            work_units=self.daily_work_units,
            seed=self.seed,
        )
        return _from_plan(plan, needed)

    def rebalance(self, snapshot: Snapshot, policy: Policy) -> Decision:
        """:func:`allocator.rebalancing.rebalance` with ``work_units`` fixed."""
        from allocator.rebalancing import rebalance

        needed = frozenset(ServiceState.of(snapshot, policy).to_allocate)
        plan = rebalance(
            snapshot,
            policy,
            time_limit=AMPLE_SECONDS,
            work_units=self.rebalance_work_units,
            seed=self.seed,
        )
        return _from_plan(plan, needed)


@dataclass
class GreedyMethod:
    """The manager's rule by hand (:mod:`allocator.greedy`)."""

    name: str = "greedy"

    def allocate(self, snapshot: Snapshot, policy: Policy) -> Decision:
        """Each case needing a worker placed by the manager's rule, in its order."""
        from allocator.greedy import greedy_allocate

        state = ServiceState.of(snapshot, policy)
        placed = greedy_allocate(state)
        needed = frozenset(state.to_allocate)
        return Decision(placed, needed - placed.keys(), needed)

    def rebalance(self, snapshot: Snapshot, policy: Policy) -> Decision:
        """The morning's rule, plus long absences and over-cap workers relieved."""
        from allocator.greedy import greedy_allocate

        state = ServiceState.of(snapshot, policy)
        needed = frozenset(state.to_allocate)
        freed = _cases_to_relieve(state)
        if not freed:
            return self.allocate(snapshot, policy)
        # The manager takes the cases off their worker (who may not have them back)
        # and places them with the morning's work by the same rule.
        cases = []
        for c in snapshot.cases:
            holder = freed.get(c.id)
            if holder is None:
                cases.append(c)
            else:
                cases.append(
                    c.model_copy(
                        update={
                            "worker": None,
                            "previous_workers": (holder, *c.previous_workers),
                            "excluded_workers": (*c.excluded_workers, holder),
                        }
                    )
                )
        relieved = ServiceState.of(snapshot.model_copy(update={"cases": tuple(cases)}), policy)
        placed = greedy_allocate(relieved)
        return Decision(
            {c: w for c, w in placed.items() if c in needed or c in freed},
            needed - placed.keys(),
            needed,
        )


def _cases_to_relieve(state: ServiceState) -> dict[str, str]:
    """Case -> holder for the children a manager's weekly review would move.

    Every child of a worker absent ``long_absence_days`` or more (pinned ones stay),
    and whole families off each worker over cap until within it.
    """
    policy = state.policy
    out: dict[str, str] = {}
    long_absent = {
        w
        for w, p in state.practitioners.items()
        if w not in state.gone
        and p.available_from is not None
        and p.available_from >= state.as_of + timedelta(days=policy.long_absence_days)
    }
    held: dict[str, dict[str, list[str]]] = {}
    for cid, c in state.cases.items():
        if c.worker is None or c.worker in state.gone or cid in state.needs:
            continue
        if c.pinned_worker == c.worker:
            continue
        held.setdefault(c.worker, {}).setdefault(c.family, []).append(cid)
    for w in sorted(long_absent):
        for kids in held.get(w, {}).values():
            out.update(dict.fromkeys(kids, w))
    for w in sorted(held):
        if w in long_absent:
            continue
        excess = state.load_before[w] - state.capacity[w]
        pool = dict(held[w])
        while excess > 0 and pool:
            weight = {f: sum(state.weight[c] for c in kids) for f, kids in pool.items()}
            enough = [f for f in pool if weight[f] >= excess]
            if enough:
                family = min(enough, key=lambda f: (len(pool[f]), weight[f], f))
            else:
                family = max(pool, key=lambda f: (weight[f], f))
            out.update(dict.fromkeys(pool.pop(family), w))
            excess -= weight[family]
    return out
