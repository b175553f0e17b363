"""The objective tiers, evaluated in plain Python from a plan's placements.

Tiers in strict priority order (a higher tier is never traded for a lower one):

1. ``unallocated_<class>`` (min), one tier per priority class of the policy
   (FORMAT.md "Who gets a worker first"; by default ``unallocated_urgent``,
   ``unallocated_statutory`` and ``unallocated_other``): children of that class left
   without a worker. Within a class every child counts alike; across classes, no
   number of children in a lower class pays for one in a higher class. (Counting
   every child alike across classes drops the heaviest, most at-risk children first
   when the service is full: they take the room of two or three lighter cases.)
2. ``siblings_apart`` (min): for each family the plan touches, the number of
   distinct workers holding its children after the plan, minus one.
2a. ``expected_changes`` (min), the look-ahead: per long-term child placed (looked
   after, court, adoption), the changes of worker expected later because the worker
   leaves before the case ends (:func:`expected_changes_cost`; policy ``look_ahead``).
3. ``previous_worker_returns`` (max): children placed with a worker they had before.
4. ``balance`` (min): each placement costs the rise it causes in its worker's convex
   utilisation penalty (zero below 60 % of capacity, then steeper at each of
   ``BALANCE_THRESHOLDS``), taken from the worker's load before the plan. Work thus
   goes where there is most room relative to capacity, and unlike the highest
   utilisation the measure still ranks plans once somebody is at their cap. It is
   linear in the placements, which lets the solver prove optimality in seconds
   (a convex penalty on final loads had a 10 % gap after 30 s on 150 workers); the
   intake limit bounds how much work can pile onto one worker in a day.
5. ``outside_area`` (min): children placed with a worker whose patches exclude them.

The engine optimises exactly these quantities; this module recomputes them from the
plan alone, so every figure a plan reports can be checked without the solver.

Each tier is an object registered once (as Timefold's constraints are): a key, a
direction, a label and unit for people, and its evaluation on a plan's placements
(:class:`Placements`) as *matches*, each with its contribution and a justification
(:meth:`Tier.matches`); the tier's value is the sum of its matches' points
(:meth:`Tier.value`). :func:`daily_tiers` and :func:`rebalance_tiers` list them in
priority order; :func:`evaluate`, :func:`rebalance_values`, ``check``, ``explain``
and the plan analysis iterate them.

A tier is the score, not a report of it: a *linear* tier (:attr:`Tier.linear`) also
carries its cost for a case at a worker and for a case that stays
(:meth:`Tier.cost`, :meth:`Tier.stay_cost`, :meth:`Tier.constant`, in the model's
minimised integer units; :meth:`Tier.minimised` relates them to the plan's value).
The daily model's coefficients (:func:`allocator.engine.model.daily_input`),
``recommend``'s ranking (:meth:`Tier.change`) and ``explain``'s why-not sentences
(:meth:`Tier.worse`) are read from the tier, and a verifier table
(``tests/test_tier_verifier.py``) holds the three equal.

The rebalance's plan tiers (:func:`rebalance_tiers`): the first priority class;
``over_cap_excess`` (points over-cap workers remain over their cap); the other
classes; ``handovers_unplanned`` (children of a departing worker with no handover
planned); ``changes_of_worker``, ``siblings_apart`` (as the daily tier, over every family with
a child the rebalance must or may move: see :class:`_RebalanceSiblingsApart`),
``expected_changes`` (as the daily tier), ``weighted_changes`` (:func:`change_cost`)
and ``balance``.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Collection, Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import timedelta
from functools import cached_property
from typing import ClassVar, Literal, TypeVar

from allocator.contract.models import CaseType, Contract, WorkerLoad
from allocator.contract.policy import Policy
from allocator.contract.units import percent, to_points
from allocator.domain.rules import (
    ServiceState,
    counted,
    covers_area,
    families_held,
    is_long_absent,
    label_text,
    new_families,
    points,
)

#: Utilisation thresholds (percent of capacity) where the balance penalty's slope rises.
BALANCE_THRESHOLDS: tuple[int, ...] = (60, 70, 80, 85, 90, 95, 100)
#: Balance cost units per 100 % of a worker's capacity above one threshold. Coarse
#: units (0.1 %) let the solver prove optimality quickly; finer ones only split ties
#: no manager would notice.
BALANCE_UNIT = 100

Sense = Literal["min", "max"]
K = TypeVar("K")
V = TypeVar("V")


@dataclass(frozen=True)
class Match:
    """One thing behind a tier's value, with its justification (as in score analysis).

    Attributes
    ----------
    cases, workers, family
        What the match is about.
    points
        Its contribution to the tier's value (centi-points for a tier in points).
    justification
        Why, naming ids and numbers only; empty until :meth:`Tier.matches` says it.
    """

    cases: tuple[str, ...]
    workers: tuple[str, ...] = ()
    family: str | None = None
    points: int = 1
    justification: str = ""


class Placements:
    """A plan's outcome over a service: what every tier, reason and worker table reads.

    Each figure is computed once, when first read: the tiers
    (:func:`evaluate`), the plan's reasons and diagnoses
    (:class:`allocator.explain.reasons.PlanView`, built on it) and the workers' table of the
    plan (:func:`worker_table`) share one. ``check`` builds its own from the plan
    alone, to stay independent.

    Parameters
    ----------
    state
        The indexed snapshot and policy.
    placed
        Case id -> worker id for every case the plan gives a worker: cases that need
        one, and moves. A case that needs a worker and is not placed ends with none.
        Not copied: it must not change while the outcome is read.
    """

    def __init__(self, state: ServiceState, placed: Mapping[str, str]) -> None:
        self.state = state
        self.placed = placed

    def final(self, case_id: str) -> str | None:
        """The case's worker once the plan is applied."""
        w = self.placed.get(case_id)
        if w is not None:
            return w
        return None if case_id in self.state.needs else self.state.cases[case_id].worker

    @cached_property
    def _loads(self) -> tuple[dict[str, int], dict[str, int]]:
        return loads_after(self.state, self.placed)

    @cached_property
    def load(self) -> dict[str, int]:
        """Each worker's load (centi-points) once the plan is applied (:func:`loads_after`)."""
        return self._loads[0]

    @cached_property
    def count(self) -> dict[str, int]:
        """Each worker's number of cases once the plan is applied (:func:`loads_after`)."""
        return self._loads[1]

    @cached_property
    def held(self) -> dict[str, frozenset[str]]:
        """Per worker, the families they held a child of in the snapshot."""
        return families_held(self.state)

    @cached_property
    def new(self) -> dict[str, set[str]]:
        """Per worker, the families the placements make new to them."""
        return new_families(self.state, self.placed)

    @cached_property
    def unplaced(self) -> list[str]:
        """The cases that need a worker and end with none, in snapshot order."""
        return [c for c in self.state.to_allocate if c not in self.placed]


@dataclass(frozen=True)
class Tier:
    """One objective tier: its plan key, direction, a label for people and its unit.

    ``priority_class`` marks the tiers that count the children of one priority class
    left without a worker. A registered tier (:func:`daily_tiers`,
    :func:`rebalance_tiers`) also evaluates itself on a plan's placements, and a
    linear one carries its cost (see the module notes).
    """

    key: str
    sense: Sense
    label: str
    unit: str
    priority_class: bool = False

    #: Whether the tier is a sum over placements (:meth:`cost`, :meth:`stay_cost`,
    #: :meth:`constant`): the model's coefficients, ``recommend``'s score and
    #: ``explain``'s why-not are then read from those methods. The priority classes
    #: are linear too: each child left without a worker costs their waiting weight.
    linear: ClassVar[bool] = False
    #: Whether a linear tier's cost depends on the case only through its kind (type,
    #: complexity, needs) and weight: ``recommend`` caches the order of every worker
    #: by such a tier once per kind of case.
    by_kind: ClassVar[bool] = False

    # ------------------------------------------------------------ the tier's cost
    # The model minimises every tier: a "min" tier as its value, a "max" tier as its
    # complement (:meth:`minimised`). For a linear tier that minimised value, over a
    # model deciding ``cases``, is
    #     constant(cases) + sum(cost(c, w) for each c placed with w)
    #                     + sum(stay_cost(c) for each c left without a worker),
    # integers in the tier's units, the rest of the plan (cases not decided) a constant.

    def cost(self, state: ServiceState, case_id: str, worker_id: str) -> int:
        """What placing ``case_id`` with ``worker_id`` adds to the minimised tier."""
        return 0

    def stay_cost(self, state: ServiceState, case_id: str) -> int:
        """What ``case_id`` left without a worker adds to the minimised tier."""
        return 0

    def constant(self, state: ServiceState, cases: Collection[str]) -> int:
        """The minimised tier's constant over a model deciding ``cases``.

        A maximised tier counts from the number of cases down (its complement).
        """
        return len(cases) if self.sense == "max" else 0

    def minimised(self, value: int | float, cases: int) -> int | float:
        """The plan's value as the model's minimised value, and back (an involution).

        ``cases``: the cases needing a worker. A maximised tier is minimised as its
        complement, ``cases - value``.
        """
        return cases - value if self.sense == "max" else value

    def change(self, state: ServiceState, case_id: str, worker_id: str) -> int:
        """How placing ``case_id`` with ``worker_id``, rather than nowhere, moves the plan.

        In the plan's own units and sense (a return counts +1), for a linear tier:
        :meth:`cost` less :meth:`stay_cost`, with the sign of the tier's sense.
        ``recommend`` scores a worker by it; the verifier table holds it equal to the
        plan's evaluation with and without the placement.
        """
        delta = self.cost(state, case_id, worker_id) - self.stay_cost(state, case_id)
        return -delta if self.sense == "max" else delta

    def placed_alone(self, state: ServiceState, case_id: str, worker_id: str) -> Match:
        """The match of ``case_id`` placed with ``worker_id`` alone, justified."""
        on = Placements(state, {case_id: worker_id})
        match = Match((case_id,), (worker_id,), points=self.change(state, case_id, worker_id))
        return replace(match, justification=self.justify(on, match))

    def worse(
        self, state: ServiceState, case_id: str, worker_id: str, chosen: str, mine: int, theirs: int
    ) -> str:
        """Why ``worker_id`` costs more than ``chosen`` on this tier for ``case_id`` alone.

        ``mine`` and ``theirs``: the two placements' scores (:meth:`change`, or the
        family's extra workers for ``siblings_apart``). From the tier's justification
        of each placement.
        """
        a = self.placed_alone(state, case_id, worker_id).justification
        b = self.placed_alone(state, case_id, chosen).justification
        return (
            f"{self.label}: {mine} {self.unit} with {worker_id} ({a}) against {theirs} "
            f"with {chosen} ({b})"
        )

    def contributions(self, on: Placements) -> Iterator[Match]:
        """What makes up the tier's value on ``on``, without justifications (fast)."""
        raise NotImplementedError(f"tier {self.key} has no evaluation")

    def justify(self, on: Placements, match: Match) -> str:
        """The sentence behind one match, naming ids and numbers only."""
        return ""

    def total(self, on: Placements) -> int:
        """The tier's value in its integer units (centi-points for a tier in points)."""
        return sum(m.points for m in self.contributions(on))

    def value(self, on: Placements) -> int | float:
        """The tier's value as a plan reports it (points as points)."""
        total = self.total(on)
        return to_points(total) if self.unit == "points" else total

    def matches(self, on: Placements) -> tuple[Match, ...]:
        """Every match, each with its justification; their points add up to :meth:`total`.

        In :meth:`order`.
        """
        return tuple(
            replace(m, justification=self.justify(on, m))
            for m in sorted(self.contributions(on), key=self.order)
        )

    def order(self, match: Match) -> tuple[object, ...]:
        """How :meth:`matches` sorts: by family, then cases, unless a tier says otherwise."""
        return (match.family or "", match.cases, match.workers)

    def short(self, match: Match) -> str:
        """A few words for one match in a table: ``C1 -> P2``, ``C1``."""
        if match.cases and match.workers:
            return f"{match.cases[0]} -> {match.workers[-1]}"
        return match.cases[0] if match.cases else ", ".join(match.workers)


@dataclass(frozen=True)
class _Unallocated(Tier):
    """``unallocated_<class>``: the children of one priority class left without a worker."""

    index: int = 0
    linear = True

    def stay_cost(self, state: ServiceState, case_id: str) -> int:
        """A child of this class left without a worker costs their waiting weight
        (:attr:`allocator.domain.rules.ServiceState.waiting_weight`)."""
        return state.waiting_weight[case_id] if state.priority_class[case_id] == self.index else 0

    def contributions(self, on: Placements) -> Iterator[Match]:
        classes, weight = on.state.priority_class, on.state.waiting_weight
        return (Match((c,), points=weight[c]) for c in on.unplaced if classes[c] == self.index)

    def justify(self, on: Placements, match: Match) -> str:
        case = match.cases[0]
        days = on.state.days_waiting[case]
        waited = f", waiting {days} day{'s' if days != 1 else ''}" if days else ""
        return f"{case} needs a worker and has none after the plan{waited}"


class _SiblingsApart(Tier):
    """Per family with a child who needs a worker: its workers after the plan, minus one."""

    def families(self, on: Placements) -> set[str]:
        """The families the tier counts."""
        return {on.state.cases[c].family for c in on.state.to_allocate}

    def contributions(self, on: Placements) -> Iterator[Match]:
        for family in self.families(on):
            by_worker: dict[str, list[str]] = defaultdict(list)
            for cid in on.state.families[family]:
                w = on.final(cid)
                if w is not None:
                    by_worker[w].append(cid)
            if len(by_worker) > 1:
                yield Match(
                    cases=tuple(sorted(c for cs in by_worker.values() for c in cs)),
                    workers=tuple(sorted(by_worker)),
                    family=family,
                    points=len(by_worker) - 1,
                )

    def short(self, match: Match) -> str:
        return f"family {match.family}"

    def justify(self, on: Placements, match: Match) -> str:
        family = match.family or ""
        held = {
            w: sorted(c for c in on.state.families[family] if on.final(c) == w)
            for w in match.workers
        }
        return f"siblings with {len(match.workers)} workers: " + "; ".join(
            f"{w} ({', '.join(held[w])})" for w in match.workers
        )

    def worse(
        self, state: ServiceState, case_id: str, worker_id: str, chosen: str, mine: int, theirs: int
    ) -> str:
        return (
            f"the family would have {counted(mine, 'extra worker')} with {worker_id} against "
            f"{theirs} with {chosen}"
        )


class _PreviousWorkerReturns(Tier):
    """Children placed with a worker they had before.

    Minimised as the children *not* back with a worker they know: the cases decided,
    less one for each placed with a previous worker.
    """

    linear = True

    def cost(self, state: ServiceState, case_id: str, worker_id: str) -> int:
        return -1 if worker_id in state.cases[case_id].previous_workers else 0

    def worse(
        self, state: ServiceState, case_id: str, worker_id: str, chosen: str, mine: int, theirs: int
    ) -> str:
        return f"{chosen} had the child before; {worker_id} did not"

    def contributions(self, on: Placements) -> Iterator[Match]:
        cases = on.state.cases
        return (Match((c,), (w,)) for c, w in on.placed.items() if w in cases[c].previous_workers)

    def justify(self, on: Placements, match: Match) -> str:
        return f"back with {match.workers[0]}, who had the child before"


class _Balance(Tier):
    """Each placement's rise in its worker's utilisation penalty (:func:`balance_cost`)."""

    linear = True
    by_kind = True

    def cost(self, state: ServiceState, case_id: str, worker_id: str) -> int:
        return balance_cost(state, case_id, worker_id)

    def worse(
        self, state: ServiceState, case_id: str, worker_id: str, chosen: str, mine: int, theirs: int
    ) -> str:
        weight = state.weight[case_id]

        def share(w: str) -> str:
            return percent(state.load_kept[w] + weight, state.capacity[w])

        return (
            f"costs {mine} on balance against {theirs} with {chosen} ({worker_id} would end "
            f"at {share(worker_id)} of capacity before other changes, {chosen} at "
            f"{share(chosen)})"
        )

    def contributions(self, on: Placements) -> Iterator[Match]:
        for c, w in on.placed.items():
            cost = balance_cost(on.state, c, w)
            if cost:
                yield Match((c,), (w,), points=cost)

    def order(self, match: Match) -> tuple[object, ...]:
        return (-match.points, match.cases)

    def short(self, match: Match) -> str:
        return f"{match.cases[0]} ({match.points})"

    def justify(self, on: Placements, match: Match) -> str:
        st, (c,), (w,) = on.state, match.cases, match.workers
        share = percent(st.load_before[w], st.capacity[w])
        return (
            f"{w} holds {share} of capacity before the plan; the case adds "
            f"{points(st.weight[c])} points"
        )


class _OutsideArea(Tier):
    """Children placed with a worker whose patches are listed and exclude them."""

    linear = True

    def cost(self, state: ServiceState, case_id: str, worker_id: str) -> int:
        return int(outside_area(state, case_id, worker_id))

    def worse(
        self, state: ServiceState, case_id: str, worker_id: str, chosen: str, mine: int, theirs: int
    ) -> str:
        area = label_text(state.cases[case_id].area or "")
        return f"the child's area ({area}) is outside {worker_id}'s patches but not {chosen}'s"

    def contributions(self, on: Placements) -> Iterator[Match]:
        return (Match((c,), (w,)) for c, w in on.placed.items() if outside_area(on.state, c, w))

    def justify(self, on: Placements, match: Match) -> str:
        area = label_text(on.state.cases[match.cases[0]].area or "")
        return f"the child's area ({area}) is outside {match.workers[0]}'s patches"


class _ExpectedChanges(Tier):
    """Look-ahead: the changes of worker a placement is expected to bring later.

    Per long-term child placed (:func:`expected_changes_cost`), hundredths of an
    expected change.
    """

    linear = True
    by_kind = True

    def cost(self, state: ServiceState, case_id: str, worker_id: str) -> int:
        return expected_changes_cost(state, case_id, worker_id)

    def worse(
        self, state: ServiceState, case_id: str, worker_id: str, chosen: str, mine: int, theirs: int
    ) -> str:
        def reason(w: str) -> str:
            return leaving_reason(state, case_id, w)

        return (
            f"look-ahead: the child can expect {mine / LOOK_AHEAD_UNIT:.2f} later change(s) of "
            f"worker with {worker_id} ({reason(worker_id)}) against "
            f"{theirs / LOOK_AHEAD_UNIT:.2f} with {chosen} ({reason(chosen)})"
        )

    def contributions(self, on: Placements) -> Iterator[Match]:
        for c, w in on.placed.items():
            cost = expected_changes_cost(on.state, c, w)
            if cost:
                yield Match((c,), (w,), points=cost)

    def order(self, match: Match) -> tuple[object, ...]:
        return (-match.points, match.cases)

    def short(self, match: Match) -> str:
        return f"{match.cases[0]} -> {match.workers[0]} ({match.points})"

    def justify(self, on: Placements, match: Match) -> str:
        (c,), (w,) = match.cases, match.workers
        return f"{c} with {w}: {leaving_reason(on.state, c, w)}"


#: The look-ahead tier, in the daily tiers and the rebalance's.
EXPECTED_CHANGES = _ExpectedChanges(
    "expected_changes",
    "min",
    "look-ahead: changes expected as staff leave (long-term work)",
    "hundredths of a change",
)

#: The daily tiers below the priority classes, in priority order. ``expected_changes``
#: comes after ``siblings_apart`` (it never splits a family, or leaves a child
#: without a worker, to keep a long-term child with staff likely to stay) and before
#: ``previous_worker_returns``: a child sent back to a worker they know who is sure
#: to leave before the case ends (an agency contract ending next month) gets two
#: changes instead of one; among workers equally likely to stay, which is most of a
#: service (every permanent worker costs the same), the known worker still wins.
CONTINUITY_TIERS: tuple[Tier, ...] = (
    _SiblingsApart("siblings_apart", "min", "extra workers across siblings", "workers"),
    EXPECTED_CHANGES,
    _PreviousWorkerReturns(
        "previous_worker_returns", "max", "children back with a worker they know", "children"
    ),
    _Balance("balance", "min", "balance: load near caps", "penalty"),
    _OutsideArea("outside_area", "min", "children outside their worker's patch", "children"),
)


def class_tier_key(name: str) -> str:
    """The tier key of priority class ``name``: ``unallocated_<name>``."""
    return f"unallocated_{name}"


#: How each waiting rule counts a child left without a worker, for the tier's label:
#: the value a manager reads is the sum of these (``age_points`` weighs a child in
#: half points, so a 3-point child referred today counts 6).
WAITING_UNITS = {
    "count": "children",
    "age": "waiting weight: each child 1 + weeks waited",
    "age_points": "waiting weight: each child's points x 2 x (1 + weeks waited)",
}


def class_tiers(policy: Policy) -> tuple[Tier, ...]:
    """One tier per priority class of ``policy``, highest first.

    Each counts its children left without a worker by the policy's waiting rule
    (:attr:`allocator.domain.rules.ServiceState.waiting_weight`).
    """
    counted = WAITING_UNITS[policy.waiting.rule]
    if policy.waiting.type_weeks or policy.waiting.lost_worker_weeks:
        # A court child referred today counts 12 weeks by default: said, so that a
        # value of 546 for two children who waited no day adds up.
        counted = counted.replace("weeks waited", "weeks waited + any head start")
    if policy.waiting.grace_weeks:
        counted = counted.replace(
            "weeks waited", f"weeks waited beyond {policy.waiting.grace_weeks}"
        )
    suffix = "" if policy.waiting.rule == "count" else f" ({counted})"
    return tuple(
        _Unallocated(
            class_tier_key(name),
            "min",
            f"without a worker: {name.replace('_', ' ')}{suffix}",
            "children",
            priority_class=True,
            index=k,
        )
        for k, name in enumerate(policy.class_names)
    )


class _ReferenceChanges(Tier):
    """Children a re-solve places other than the plan it revises (``state.reference``).

    One per case the reference places that ends with another worker, or with none.
    A case the reference leaves out counts nothing wherever it goes: the priority
    classes above already decide who gets a worker. Minimised from the reference's
    cases down: 1 each, less 1 for each kept where the reference put it.
    """

    linear = True

    def cost(self, state: ServiceState, case_id: str, worker_id: str) -> int:
        return -1 if (state.reference or {}).get(case_id) == worker_id else 0

    def constant(self, state: ServiceState, cases: Collection[str]) -> int:
        reference = state.reference or {}
        return sum(1 for c in cases if c in reference)

    def worse(
        self, state: ServiceState, case_id: str, worker_id: str, chosen: str, mine: int, theirs: int
    ) -> str:
        return f"{chosen} had {case_id} in the plan being revised; {worker_id} did not"

    def contributions(self, on: Placements) -> Iterator[Match]:
        reference = on.state.reference or {}
        for c in sorted(reference):
            now = on.placed.get(c)
            if now != reference[c]:
                yield Match((c,), (reference[c],) if now is None else (reference[c], now))

    def justify(self, on: Placements, match: Match) -> str:
        (c,) = match.cases
        now = f"goes to {match.workers[1]}" if len(match.workers) > 1 else "is left without one"
        return f"{c} had {match.workers[0]} in the plan being revised and {now}"

    def floor(self, state: ServiceState) -> int:
        """Changes no plan avoids: reference workers who may no longer take their case
        (a manager's pin elsewhere or exclusion, a rule), counted without any search."""
        reference = state.reference or {}
        return sum(1 for c, w in reference.items() if w not in state.eligible(c))


#: Key of the re-solve tier, right after the priority classes when a reference is given.
REFERENCE_CHANGES = "reference_changes"
REFERENCE_TIER = _ReferenceChanges(
    REFERENCE_CHANGES, "min", "children placed differently from the plan revised", "children"
)


def registered_tier(key: str) -> Tier | None:
    """The daily tier ``key`` below the priority classes (``reference_changes`` too),
    or ``None`` (a priority class, or no daily tier)."""
    return next((t for t in (REFERENCE_TIER, *CONTINUITY_TIERS) if t.key == key), None)


def minimised(key: str, value: int | float, cases: int) -> int | float:
    """A daily tier's plan value as its model's minimised value, and back (an involution).

    ``cases``: the cases needing a worker. :meth:`Tier.minimised` of the tier ``key``;
    a priority class is minimised as it is.
    """
    tier = registered_tier(key)
    return value if tier is None else tier.minimised(value, cases)


def daily_tiers(policy: Policy, *, reference: bool = False) -> tuple[Tier, ...]:
    """Every tier of daily allocation under ``policy``, in strict priority order.

    With ``reference`` (a re-solve that revises a plan: ``ServiceState.reference``),
    :data:`REFERENCE_TIER` comes right after the priority classes.
    """
    return class_tiers(policy) + ((REFERENCE_TIER,) if reference else ()) + CONTINUITY_TIERS


def state_tiers(state: ServiceState) -> tuple[Tier, ...]:
    """The daily tiers of ``state``: :func:`daily_tiers`, with the re-solve tier when
    ``state`` has a reference plan."""
    return daily_tiers(state.policy, reference=state.reference is not None)


def class_weights(classes: int, children: int) -> list[int]:
    """Lexicographic weights of ``classes`` priority classes over ``children`` children.

    One integer tier that counts the children left without a worker class by class:
    the room-making step (:mod:`allocator.engine.moves`) and the rebalance
    (:mod:`allocator.engine.rebalance`) weigh each such child by its class's weight.

    Parameters
    ----------
    classes
        Number of priority classes (``len(policy.class_names)``).
    children
        Most children that can be left without a worker in one plan.

    Returns
    -------
    list of int
        Weight per class, highest class first: ``(children + 1) ** (classes - 1 - k)``
        for class ``k``, so one child of a class outweighs all ``children`` of the
        classes below (FORMAT.md "Who gets a worker first"). The policy allows at most
        :data:`~allocator.contract.policy.MAX_PRIORITY_CLASSES` named classes, which keeps the
        weights within CP-SAT's 64-bit range for any realistic day.
    """
    return [(children + 1) ** (classes - 1 - k) for k in range(classes)]


def balance_cost(state: ServiceState, case_id: str, worker_id: str) -> int:
    """Tier 5 cost of placing ``case_id`` with ``worker_id``: the penalty rise it causes.

    The rise in load above each threshold the worker then passes, summed, in units of
    ``1 / BALANCE_UNIT`` of the worker's capacity (so 0.1 % with the default), rounded.
    """
    key = (worker_id, state.weight[case_id])
    cost = state.balance_costs.get(key)
    if cost is None:
        base = state.load_kept[worker_id]  # the cases that must leave free their room
        cap = state.capacity[worker_id]
        end = base + key[1]
        rise = sum(
            max(0, end - cap * t // 100) - max(0, base - cap * t // 100) for t in BALANCE_THRESHOLDS
        )
        cost = (rise * BALANCE_UNIT + cap // 2) // cap if cap > 0 else 0
        state.balance_costs[key] = cost
    return cost


def loads_after(
    state: ServiceState, placed: Mapping[str, str]
) -> tuple[dict[str, int], dict[str, int]]:
    """Each worker's load (centi-points) and case count once ``placed`` is applied.

    Cases that need a worker leave their old worker (who has left) whether or not
    they are placed; any other case in ``placed`` is a move and leaves its worker.
    """
    load = dict(state.load_before)
    count = dict(state.cases_before)
    leaving = set(state.to_allocate) | set(placed)
    for cid in leaving:
        old = state.cases[cid].worker
        if old is not None:
            load[old] -= state.weight[cid]
            count[old] -= 1
    for cid, wid in placed.items():
        load[wid] += state.weight[cid]
        count[wid] += 1
    return load, count


def evaluate(state: ServiceState, placed: Mapping[str, str]) -> dict[str, int | float]:
    """Every daily tier's value for the placements ``placed`` (case id -> worker id).

    Each tier of :func:`state_tiers` evaluates itself (``reference_changes`` only
    when ``state`` has a reference plan). Also reports, for people,
    ``unallocated`` (children without a worker, every class together),
    ``changes_of_worker`` (cases moved off a worker), ``highest_utilisation`` among
    workers given a case, and ``allocated``.
    """
    # The search asks again and again about the same few plans (the incumbent against
    # each candidate): each distinct plan is evaluated once per state.
    key = (state.reference is not None, tuple(sorted(placed.items())))
    known = _kept(state.evaluations, key, lambda: _evaluate(state, placed))
    return dict(known)  # a copy: a caller changing it changes no other's


def outcome_of(state: ServiceState, placed: Mapping[str, str]) -> Placements:
    """The outcome of ``placed`` (case id -> worker id) over ``state``, computed once.

    The search, the tiers and the writing of the plan ask about the same few plans:
    the outcome of each of the most recent :data:`EVALUATIONS_KEPT` distinct plans
    is kept on ``state``, its placements copied (a caller changing theirs afterwards
    changes nothing here).
    """
    key = tuple(sorted(placed.items()))
    outcome = _kept(state.outcomes, key, lambda: Placements(state, dict(placed)))
    assert isinstance(outcome, Placements)
    return outcome


#: Distinct plans whose values and outcomes a state keeps (:func:`evaluate`,
#: :func:`outcome_of`).
EVALUATIONS_KEPT = 16


def _kept(memo: dict[K, V], key: K, make: Callable[[], V]) -> V:
    """``memo[key]``, made by ``make`` the first time; the oldest entry leaves when
    :data:`EVALUATIONS_KEPT` are kept."""
    known = memo.get(key)
    if known is None:
        known = make()
        if len(memo) >= EVALUATIONS_KEPT:
            del memo[next(iter(memo))]  # the oldest
        memo[key] = known
    return known


def _evaluate(state: ServiceState, placed: Mapping[str, str]) -> dict[str, int | float]:
    """:func:`evaluate` without the memo."""
    on = outcome_of(state, placed)
    values: dict[str, int | float] = {t.key: t.value(on) for t in state_tiers(state)}
    receivers = set(placed.values())
    load = on.load
    highest = max(
        (load[w] / state.capacity[w] for w in receivers if state.capacity[w] > 0), default=0.0
    )
    return {
        **{t.key: values[t.key] for t in class_tiers(state.policy)},
        "unallocated": len(on.unplaced),
        **({REFERENCE_CHANGES: values[REFERENCE_CHANGES]} if REFERENCE_CHANGES in values else {}),
        **{t.key: values[t.key] for t in CONTINUITY_TIERS},
        "allocated": len(state.to_allocate) - len(on.unplaced),
        "changes_of_worker": CHANGES_OF_WORKER.total(on),
        "highest_utilisation": round(highest, 4),
    }


def outside_area(state: ServiceState, case_id: str, worker_id: str) -> bool:
    """Whether the worker's patches are listed and exclude the child's area."""
    return covers_area(state.practitioners[worker_id], state.cases[case_id].area) is False


def tier_vector(values: Mapping[str, int | float], tiers: tuple[Tier, ...]) -> tuple[float, ...]:
    """The ``tiers`` of ``values`` as a tuple to compare lexicographically (smaller is better)."""
    return tuple(values[t.key] if t.sense == "min" else -values[t.key] for t in tiers)


#: Rebalance's cost of a change of worker (policy, see ``allocator.problems.rebalancing``): a
#: base, more per change the child had this year, more for statutory,
#: relationship-heavy work, less when the child goes back to a worker they know.
#: Case types whose change of worker costs more.
HEAVY_TYPES = frozenset({CaseType.LOOKED_AFTER, CaseType.COURT, CaseType.ADOPTION})
CHANGE_BASE = 10
CHANGE_PER_PREVIOUS_CHANGE = 5
CHANGE_HEAVY_TYPE = 10
CHANGE_BACK_TO_PREVIOUS = 5


def change_cost(state: ServiceState, case_id: str, worker_id: str) -> int:
    """The policy cost of moving ``case_id`` to ``worker_id`` (see the module docstring)."""
    case = state.cases[case_id]
    if case.worker is None:
        return 0  # a referral's first worker is not a change
    cost = CHANGE_BASE + CHANGE_PER_PREVIOUS_CHANGE * case.changes_last_12_months
    if case.type in HEAVY_TYPES:
        cost += CHANGE_HEAVY_TYPE
    if worker_id in case.previous_workers:
        cost -= CHANGE_BACK_TO_PREVIOUS
    return max(1, cost)


# ------------------------------------------------------------------ look-ahead

#: Leaving rate per year by contract. Permanent: 15.9% (DfE, *Children's social work
#: workforce 2023*: 5,254 FTE left of 33,119). Agency: 1.0 a year, a stay of about a
#: year with one council (*assumption*: agency staff change employer far more often,
#: DOMAIN.md; Wirral filled 35% of posts with temporary workers, 2017). Fixed-term:
#: 0.5 a year where no ``contract_end`` is given (*assumption*). The simulation's
#: turnover uses the same rates (:mod:`allocator.simulation.events`).
LEAVING_RATE: dict[Contract, float] = {
    Contract.PERMANENT: 0.159,
    Contract.AGENCY: 1.0,
    Contract.FIXED_TERM: 0.5,
}
#: Expected days a long-term case has still to run, by type: care proceedings 26
#: weeks (the limit since April 2014, Children and Families Act 2014); looked-after
#: and adoption work the simulation's mean durations (880 and 270 days, chosen so the
#: open caseload's mix stays steady; *assumption*, :mod:`allocator.simulation.events`).
#: Only these types carry a look-ahead cost: the relationship-heavy, long-running work
#: whose change of worker costs most (``HEAVY_TYPES``).
EXPECTED_CASE_DAYS: dict[CaseType, int] = {
    CaseType.LOOKED_AFTER: 880,
    CaseType.COURT: 182,
    CaseType.ADOPTION: 270,
}
#: Look-ahead cost units per expected change (hundredths).
LOOK_AHEAD_UNIT = 100


def leaving_chance(state: ServiceState, case_id: str, worker_id: str) -> tuple[float, str]:
    """The chance ``worker_id`` leaves before ``case_id`` is expected to end, and why.

    Certain (1) when their ``leaving_on``, or the ``contract_end`` of an agency or
    fixed-term contract, falls before the case's expected end (today plus
    :data:`EXPECTED_CASE_DAYS`); else ``1 - exp(-rate x years)`` with the contract's
    :data:`LEAVING_RATE`. 0 for a case type without a look-ahead.
    """
    case = state.cases[case_id]
    days = EXPECTED_CASE_DAYS.get(case.type)
    if days is None:
        return 0.0, "not long-term work"
    p = state.practitioners[worker_id]
    end = state.as_of + timedelta(days=days)
    if p.leaving_on is not None and p.leaving_on < end:
        return 1.0, f"leaves on {p.leaving_on}, before the case's expected end ({end})"
    if p.contract is not Contract.PERMANENT and p.contract_end is not None and p.contract_end < end:
        return 1.0, (
            f"{p.contract.value.replace('_', '-')} contract ends on {p.contract_end}, before "
            f"the case's expected end ({end})"
        )
    rate = LEAVING_RATE[p.contract]
    chance = 1 - math.exp(-rate * days / 365)
    return chance, (
        f"{p.contract.value.replace('_', '-')} staff leave at {rate:g} a year: "
        f"{chance:.0%} chance of leaving within the case's expected {days} days"
    )


def expected_changes_cost(state: ServiceState, case_id: str, worker_id: str) -> int:
    """The look-ahead cost of ``case_id`` with ``worker_id``: hundredths of a change.

    ``round(100 x`` :func:`leaving_chance` ``)``: the changes of worker the child can
    expect later because this worker leaves before the case ends; 0 when the policy's
    ``look_ahead`` is off.
    """
    if not state.policy.look_ahead:
        return 0
    # The cost depends on the case only through its type: one memo entry per type.
    key = (state.cases[case_id].type.value, worker_id)
    cost = state.look_ahead_costs.get(key)
    if cost is None:
        cost = round(LOOK_AHEAD_UNIT * leaving_chance(state, case_id, worker_id)[0])
        state.look_ahead_costs[key] = cost
    return cost


def leaving_reason(state: ServiceState, case_id: str, worker_id: str) -> str:
    """The sentence behind :func:`expected_changes_cost`."""
    return leaving_chance(state, case_id, worker_id)[1]


# ------------------------------------------------------------------ rebalance tiers


def over_cap_sources(state: ServiceState) -> frozenset[str]:
    """Workers over their cap before the plan whose children the rebalance may move.

    Present (not gone, not long absent: those workers' children must move anyway)
    and holding more than their cap.
    """
    return frozenset(
        w
        for w in state.practitioners
        if w not in state.gone
        and not is_long_absent(state, w)
        and state.load_before[w] > state.capacity[w]
    )


class _OverCapExcess(Tier):
    """Centi-points each worker over their cap before the plan remains over it."""

    def contributions(self, on: Placements) -> Iterator[Match]:
        st = on.state
        for w in sorted(over_cap_sources(st)):
            excess = on.load[w] - st.capacity[w]
            if excess > 0:
                yield Match((), (w,), points=excess)

    def short(self, match: Match) -> str:
        return f"{match.workers[0]} (+{points(match.points)})"

    def justify(self, on: Placements, match: Match) -> str:
        (w,) = match.workers
        return (
            f"{w} ends at {points(on.load[w])} of {points(on.state.capacity[w])} points, "
            f"{points(match.points)} over"
        )


class _ChangesOfWorker(Tier):
    """Children the plan moves off a worker they had."""

    def contributions(self, on: Placements) -> Iterator[Match]:
        cases = on.state.cases
        for c, w in on.placed.items():
            old = cases[c].worker
            if old is not None:
                yield Match((c,), (old, w))

    def justify(self, on: Placements, match: Match) -> str:
        old, new = match.workers
        return f"{match.cases[0]} moves from {old} to {new}"


class _WeightedChanges(Tier):
    """The policy cost of each change of worker (:func:`change_cost`)."""

    def contributions(self, on: Placements) -> Iterator[Match]:
        for m in CHANGES_OF_WORKER.contributions(on):
            yield replace(m, points=change_cost(on.state, m.cases[0], m.workers[1]))

    def short(self, match: Match) -> str:
        return f"{match.cases[0]} ({match.points})"

    def justify(self, on: Placements, match: Match) -> str:
        case = on.state.cases[match.cases[0]]
        back = " (back to a worker they know)" if match.workers[1] in case.previous_workers else ""
        return (
            f"{case.id}: {counted(case.changes_last_12_months, 'change')} this year, "
            f"{case.type.value.replace('_', ' ')} work{back}"
        )


class _RebalanceSiblingsApart(_SiblingsApart):
    """Per family the rebalance must or may move, its workers after the plan, minus one.

    The families: those with a child who needs a worker (as the daily tier), and
    those with a child held by a worker who is long absent, over their cap or departing
    (a handover to plan), unless
    the child is pinned to that worker (it stays). Never negative: a family the plan
    leaves as it was counts what it counted before, and a move that joins a child to
    their sibling's worker counts one less. The engine's tier
    (:func:`allocator.engine.rebalance.siblings_apart`) counts such a family's workers
    after minus its workers before, which ranks plans alike but can go below 0; the
    two differ by a constant of the rebalance.
    """

    def families(self, on: Placements) -> set[str]:
        st = on.state
        away = over_cap_sources(st) | {w for w in st.practitioners if is_long_absent(st, w)}
        handing = set(st.to_hand_over)
        return {
            c.family
            for c in st.snapshot.cases
            if c.id in st.needs
            or c.id in handing
            or (c.worker in away and c.pinned_worker != c.worker)
        }


class _HandoversUnplanned(Tier):
    """Children of a worker who departs within the window with no handover planned.

    :attr:`allocator.domain.rules.ServiceState.to_hand_over` children the plan neither
    hands over nor places (docs/FORMAT.md "Planned handovers").
    """

    def contributions(self, on: Placements) -> Iterator[Match]:
        st = on.state
        for c in st.to_hand_over:
            if c not in on.placed:
                w = st.cases[c].worker
                yield Match((c,), (w,) if w is not None else ())

    def justify(self, on: Placements, match: Match) -> str:
        (c,), (w,) = match.cases, match.workers
        return f"{c} stays with {w}, who goes on {on.state.departing[w]}, with no handover planned"


HANDOVERS_UNPLANNED = _HandoversUnplanned(
    "handovers_unplanned", "min", "children of departing staff with no handover", "children"
)
OVER_CAP_EXCESS = _OverCapExcess("over_cap_excess", "min", "points over caps, in all", "points")
CHANGES_OF_WORKER = _ChangesOfWorker(
    "changes_of_worker", "min", "children who change worker", "children"
)

#: The rebalance plan's objective tiers after the priority classes, in priority order.
PLAN_TIERS: tuple[Tier, ...] = (
    HANDOVERS_UNPLANNED,
    OVER_CAP_EXCESS,
    CHANGES_OF_WORKER,
    _RebalanceSiblingsApart(
        "siblings_apart", "min", "extra workers across siblings (change)", "workers"
    ),
    EXPECTED_CHANGES,  # after siblings, as in the daily tiers
    _WeightedChanges("weighted_changes", "min", "cost of the changes", "cost"),
    next(t for t in CONTINUITY_TIERS if t.key == "balance"),  # as the daily tier
)


def match_label(key: str, match: Match) -> str:
    """:meth:`Tier.short` of the registered tier ``key`` (any priority class alike)."""
    tier = next((t for t in (*CONTINUITY_TIERS, REFERENCE_TIER, *PLAN_TIERS) if t.key == key), None)
    return (tier or Tier(key, "min", key, "children")).short(match)


def classes_before_relief(policy: Policy) -> int:
    """How many priority classes a rebalance serves before relieving workers over cap:
    those down to the policy's ``over_cap_relief_after`` (the first, urgent, by
    default; docs/FORMAT.md "Over-cap relief")."""
    after = policy.over_cap_relief_after
    return 1 if after is None else policy.class_names.index(after) + 1


def rebalance_tiers(policy: Policy) -> tuple[Tier, ...]:
    """The rebalance plan's tiers, as its objective keys, in priority order.

    The classes :func:`classes_before_relief` counts (urgent by default), then
    ``over_cap_excess``, then the classes below.
    """
    classes = class_tiers(policy)
    relief = classes_before_relief(policy)
    return (
        classes[:relief]
        + (OVER_CAP_EXCESS,)
        + classes[relief:]
        + (HANDOVERS_UNPLANNED, *PLAN_TIERS[2:])
    )


#: Objective keys only a rebalance's plan reports: its tiers the daily plan lacks.
REBALANCE_ONLY: frozenset[str] = frozenset({"over_cap_excess", "weighted_changes"})


def is_rebalance(objective: Mapping[str, object]) -> bool:
    """Whether a plan's ``objective`` is a rebalance's (it reports the rebalance's tiers)."""
    return any(key in objective for key in REBALANCE_ONLY)


def plan_tiers(
    policy: Policy, objective: Mapping[str, object], *, reference: bool = False
) -> tuple[Tier, ...]:
    """The tiers a plan with ``objective`` is measured by: a rebalance's, or the daily
    (``reference``: with a re-solve's tier of changes, :func:`daily_tiers`)."""
    if is_rebalance(objective):
        return rebalance_tiers(policy)
    return daily_tiers(policy, reference=reference)


def plan_values(
    state: ServiceState, placed: Mapping[str, str], objective: Mapping[str, object]
) -> dict[str, int | float]:
    """The figures a plan with ``objective`` reports, recomputed on ``placed``."""
    return rebalance_values(state, placed) if is_rebalance(objective) else evaluate(state, placed)


def rebalance_values(state: ServiceState, placed: Mapping[str, str]) -> dict[str, int | float]:
    """Every rebalance tier's value for ``placed`` (cases that need a worker, and moves).

    Also, for people: ``unallocated`` (every class together), ``uncovered_absence``
    (children of a long-absent worker who stay with them), ``over_cap_workers``
    (workers still over their cap) and ``previous_worker_returns``.
    """
    on = Placements(state, placed)
    values: dict[str, int | float] = {t.key: t.value(on) for t in rebalance_tiers(state.policy)}
    uncovered = sum(
        1
        for c in state.snapshot.cases
        if c.worker is not None
        and c.id not in placed
        and c.id not in state.needs
        and c.pinned_worker != c.worker
        and is_long_absent(state, c.worker)
    )
    return {
        **{t.key: values[t.key] for t in class_tiers(state.policy)},
        "unallocated": len(on.unplaced),
        "uncovered_absence": uncovered,
        "handovers_unplanned": values["handovers_unplanned"],
        "over_cap_excess": values["over_cap_excess"],
        "over_cap_workers": sum(1 for _ in OVER_CAP_EXCESS.contributions(on)),
        **{t.key: values[t.key] for t in PLAN_TIERS[2:]},
        "previous_worker_returns": next(
            t for t in CONTINUITY_TIERS if t.key == "previous_worker_returns"
        ).total(on),
    }


def worker_table(
    state: ServiceState, load: Mapping[str, int], count: Mapping[str, int]
) -> list[WorkerLoad]:
    """The plan's ``workers`` rows: every practitioner's load and cases, before and after."""
    return [
        WorkerLoad(
            id=wid,
            capacity=to_points(state.capacity[wid]),
            load_before=to_points(state.load_before[wid]),
            load_after=to_points(load[wid]),
            cases_before=state.cases_before[wid],
            cases_after=count[wid],
        )
        for wid in sorted(state.practitioners)
    ]
