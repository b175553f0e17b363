"""The methods a simulation compares: what each morning's allocation and rebalance do.

A :class:`Method` is given the service as a :class:`~allocator.contract.models.Snapshot` and
returns a :class:`Decision`: who goes where, who is left without a worker, and any
handovers it plans ahead (a change of worker on a later day, told to the child now).
The simulation applies the decision and measures the notice each child got.

Both methods plan handovers ahead (issue 13, item 3) on rebalance days: the children
of a worker who departs within the leaving window (leaves, or starts a planned long
absence) get a receiver and a handover day before the worker goes
(:attr:`allocator.contract.models.Plan.handovers` for the engine; the manager's rule for
greedy). Until the day, each method keeps room at the receiver for the child it
promised (:func:`reserve_room`), and a later rebalance keeps the promise unless
something changed.

- :class:`EngineMethod`: :func:`allocator.problems.daily.allocate` each morning and
  :func:`allocator.problems.rebalancing.rebalance` on rebalance days, each with a fixed
  deterministic work budget and a time limit far above it, so that the same seed
  gives the same plans on any machine.
- :class:`GreedyMethod`: the manager's rule (:mod:`allocator.domain.greedy`, the rule the
  engine's warm starts and the benchmark's greedy column use) each morning; on
  rebalance days the manager also takes the children of long-absent workers, and
  whole families off over-cap workers (:func:`allocator.domain.greedy.relieve_over_cap`:
  the smallest family that alone brings them within cap, else the heaviest, until
  within cap), and places them by the same rule.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Protocol

from allocator.contract.models import Plan, Practitioner, Snapshot
from allocator.contract.policy import Policy
from allocator.contract.settings import Settings
from allocator.domain.rules import ServiceState, handover_day, is_long_absent
from allocator.problems.apply import reserve_room as keep_room
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
        Changes decided now that take effect later (planned handovers). A rebalance
        lists every handover in force, those promised before and kept included; a
        morning's allocation lists none and changes none.
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


def _from_plan(plan: Plan, needed: frozenset[str], snapshot: Snapshot) -> Decision:
    staff = {p.id: p for p in snapshot.practitioners}
    return Decision(
        placed={a.case: a.worker for a in plan.assignments},
        unallocated=frozenset(u.case for u in plan.unallocated),
        needed=needed,
        handovers=tuple(
            Handover(
                h.case,
                h.worker,
                h.on,
                departure_cause(staff[h.from_], h.departs),
            )
            for h in plan.handovers
        ),
    )


def _pending(
    snapshot: Snapshot, promised: Mapping[str, tuple[str, date]]
) -> dict[str, tuple[str, date]]:
    """The promised handovers still to come: the case open, still with another worker,
    its day not past (a handover falls due after the morning's decision)."""
    cases = {c.id: c for c in snapshot.cases}
    return {
        cid: (w, on)
        for cid, (w, on) in sorted(promised.items())
        if on >= snapshot.as_of
        and cid in cases
        and cases[cid].worker is not None
        and cases[cid].worker != w
    }


def reserve_room(
    snapshot: Snapshot, policy: Policy, promised: Mapping[str, tuple[str, date]]
) -> Snapshot:
    """``snapshot`` with each receiver's cap lowered by the children promised to them
    and still to hand over (:func:`_pending`; :func:`allocator.problems.apply.reserve_room`).

    A planned handover takes room at its receiver from the day it is planned: the
    morning's allocation must not fill it.
    """
    pending = _pending(snapshot, promised)
    return keep_room(snapshot, policy, ((c, w) for c, (w, _) in pending.items()))


@dataclass
class EngineMethod:
    """The allocator's engine, with deterministic work budgets."""

    daily_work_units: float = DAILY_WORK_UNITS
    rebalance_work_units: float = REBALANCE_WORK_UNITS
    seed: int = 0
    name: str = "engine"
    #: Case -> (receiver, day) of the handovers planned and not yet made.
    promised: dict[str, tuple[str, date]] = field(default_factory=dict)

    def settings(self, work_units: float) -> Settings:
        """A solve's settings: ``work_units`` fixed, the clock ample (it never decides)."""
        return Settings(time_limit=AMPLE_SECONDS, work_units=work_units, seed=self.seed)

    def allocate(self, snapshot: Snapshot, policy: Policy) -> Decision:
        """:func:`allocator.problems.daily.allocate` with ``work_units`` fixed, the room of
        promised handovers kept (:func:`reserve_room`)."""
        from allocator.problems.daily import allocate

        needed = frozenset(ServiceState.of(snapshot, policy).to_allocate)
        if not needed:
            return Decision({}, frozenset(), needed)
        plan = allocate(
            reserve_room(snapshot, policy, self.promised),
            policy,
            self.settings(self.daily_work_units),
        )
        return _from_plan(plan, needed, snapshot)

    def rebalance(self, snapshot: Snapshot, policy: Policy) -> Decision:
        """:func:`allocator.problems.rebalancing.rebalance` with ``work_units`` fixed; the
        handovers it plans are promised, and kept at the next rebalance unless
        something changed."""
        from allocator.problems.rebalancing import rebalance

        needed = frozenset(ServiceState.of(snapshot, policy).to_allocate)
        pending = _pending(snapshot, self.promised)
        plan = rebalance(
            snapshot,
            policy,
            self.settings(self.rebalance_work_units),
            planned={c: w for c, (w, _) in pending.items()},
        )
        decision = _from_plan(plan, needed, snapshot)
        # The plan lists the promises it keeps (its handovers): the others are withdrawn.
        self.promised = {h.case: (h.worker, h.on) for h in decision.handovers}
        return decision


@dataclass
class GreedyMethod:
    """The manager's rule by hand (:mod:`allocator.domain.greedy`)."""

    name: str = "greedy"
    #: Case -> (receiver, day) of the handovers planned and not yet made.
    promised: dict[str, tuple[str, date]] = field(default_factory=dict)

    def allocate(self, snapshot: Snapshot, policy: Policy) -> Decision:
        """Each case needing a worker placed by the manager's rule, in its order, the
        room of promised handovers kept (:func:`reserve_room`)."""
        from allocator.domain.greedy import greedy_allocate, manager_policy

        policy = manager_policy(policy)
        state = ServiceState.of(reserve_room(snapshot, policy, self.promised), policy)
        placed = greedy_allocate(state)
        needed = frozenset(state.to_allocate)
        return Decision(placed, needed - placed.keys(), needed)

    def rebalance(self, snapshot: Snapshot, policy: Policy) -> Decision:
        """The morning's rule, plus long absences and over-cap workers relieved, and
        handovers planned for the children of departing workers not yet promised."""
        from allocator.domain.greedy import greedy_allocate, manager_policy

        policy = manager_policy(policy)
        state = ServiceState.of(snapshot, policy)
        needed = frozenset(state.to_allocate)
        pending = _pending(snapshot, self.promised)
        self.promised = pending
        ahead = {
            c: w for c in state.to_hand_over if c not in pending and (w := state.cases[c].worker)
        }
        freed = {
            c: w for c, w in _cases_to_relieve(state).items() if c not in ahead and c not in pending
        }
        promises = tuple(
            Handover(c, w, on, _departure_cause(state, c)) for c, (w, on) in pending.items()
        )
        if not freed and not ahead:
            morning = self.allocate(snapshot, policy)
            return Decision(morning.placed, morning.unallocated, morning.needed, promises)
        # The manager takes the cases off their worker (who may not have them back)
        # and places them with the morning's work by the same rule; a departing
        # worker's child placed so is handed over before the worker goes.
        released = {**freed, **ahead}
        cases = []
        for c in snapshot.cases:
            holder = released.get(c.id)
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
        kept = reserve_room(snapshot, policy, pending)
        relieved = ServiceState.of(kept.model_copy(update={"cases": tuple(cases)}), policy)
        placed = greedy_allocate(relieved)
        handovers = tuple(
            Handover(
                c,
                w,
                handover_day(state.as_of, state.departing[ahead[c]]),
                _departure_cause(state, c),
            )
            for c, w in sorted(placed.items())
            if c in ahead
        )
        self.promised.update({h.case: (h.worker, h.on) for h in handovers})
        return Decision(
            {c: w for c, w in placed.items() if c in needed or c in freed},
            needed - placed.keys(),
            needed,
            promises + handovers,
        )


def departure_cause(p: Practitioner, departs: date) -> Cause:
    """Why a child of ``p``, who stops holding children on ``departs``, is handed over:
    ``p`` leaves that day, or starts a long absence."""
    return "leaver" if p.leaving_on == departs else "long_absence"


def _departure_cause(state: ServiceState, case_id: str) -> Cause:
    """:func:`departure_cause` of a departing worker's child ``case_id`` (a worker no
    longer departing, whose promise still stands, by their leaving day if any)."""
    holder = state.cases[case_id].worker
    assert holder is not None
    p = state.practitioners[holder]
    departs = state.departing.get(holder, p.leaving_on)
    return departure_cause(p, departs) if departs is not None else "long_absence"


def _cases_to_relieve(state: ServiceState) -> dict[str, str]:
    """Case -> holder for the children a manager's weekly review would move.

    Every child of a worker absent ``long_absence_days`` or more
    (:func:`allocator.domain.rules.is_long_absent`; pinned ones stay), and whole families off
    each worker over cap by the manager's over-cap relief
    (:func:`allocator.domain.greedy.relieve_over_cap`; placed afterwards with the week's
    other work, so each family released counts as taken).
    """
    from allocator.domain.greedy import HeldFamily, relieve_over_cap

    out: dict[str, str] = {}
    long_absent = {w for w in state.practitioners if is_long_absent(state, w)}
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
        pool = [
            HeldFamily(f, len(kids), sum(state.weight[c] for c in kids))
            for f, kids in held[w].items()
        ]
        for family in relieve_over_cap(
            state.load_before[w] - state.capacity[w], pool, lambda _: True
        ):
            out.update(dict.fromkeys(held[w][family.key], w))
    return out
