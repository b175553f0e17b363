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
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from allocator.models import CaseType, WorkerLoad
from allocator.policy import Policy
from allocator.rules import ServiceState, covers_area, to_points

#: Utilisation thresholds (percent of capacity) where the balance penalty's slope rises.
BALANCE_THRESHOLDS: tuple[int, ...] = (60, 70, 80, 85, 90, 95, 100)
#: Balance cost units per 100 % of a worker's capacity above one threshold. Coarse
#: units (0.1 %) let the solver prove optimality quickly; finer ones only split ties
#: no manager would notice.
BALANCE_UNIT = 100

Sense = Literal["min", "max"]


@dataclass(frozen=True)
class Tier:
    """One objective tier: its plan key, direction, a label for people and its unit.

    ``priority_class`` marks the tiers that count the children of one priority class
    left without a worker.
    """

    key: str
    sense: Sense
    label: str
    unit: str
    priority_class: bool = False


#: The tiers below the priority classes, in priority order.
CONTINUITY_TIERS: tuple[Tier, ...] = (
    Tier("siblings_apart", "min", "extra workers across siblings", "workers"),
    Tier("previous_worker_returns", "max", "children back with a worker they know", "children"),
    Tier("balance", "min", "balance: load near caps", "penalty"),
    Tier("outside_area", "min", "children outside their worker's patch", "children"),
)


def class_tier_key(name: str) -> str:
    """The tier key of priority class ``name``: ``unallocated_<name>``."""
    return f"unallocated_{name}"


def class_tiers(policy: Policy) -> tuple[Tier, ...]:
    """One tier per priority class of ``policy``, highest first."""
    return tuple(
        Tier(
            class_tier_key(name),
            "min",
            f"without a worker: {name.replace('_', ' ')}",
            "children",
            priority_class=True,
        )
        for name in policy.class_names
    )


def daily_tiers(policy: Policy) -> tuple[Tier, ...]:
    """Every tier of daily allocation under ``policy``, in strict priority order."""
    return class_tiers(policy) + CONTINUITY_TIERS


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
        :data:`~allocator.policy.MAX_PRIORITY_CLASSES` named classes, which keeps the
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
        base = state.load_before[worker_id]
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
    """Every tier's value for the placements ``placed`` (case id -> worker id).

    Also reports, for people, ``unallocated`` (children without a worker, every
    class together), ``changes_of_worker`` (cases moved off a worker),
    ``highest_utilisation`` among workers given a case, and ``allocated``.
    """
    load, _ = loads_after(state, placed)
    unplaced = [c for c in state.to_allocate if c not in placed]
    touched = {state.cases[c].family for c in state.to_allocate}
    apart = 0
    for fam in touched:
        workers = set(state.holders.get(fam, ()))
        workers.update(placed[c] for c in state.families[fam] if c in placed)
        apart += max(0, len(workers) - 1)
    returns = sum(1 for c, w in placed.items() if w in state.cases[c].previous_workers)
    outside = sum(1 for c, w in placed.items() if outside_area(state, c, w))
    balance = sum(balance_cost(state, c, w) for c, w in placed.items())
    receivers = set(placed.values())
    highest = max(
        (load[w] / state.capacity[w] for w in receivers if state.capacity[w] > 0), default=0.0
    )
    by_class = [0] * len(state.policy.class_names)
    for c in unplaced:
        by_class[state.priority_class[c]] += 1
    return {
        **{
            class_tier_key(name): count
            for name, count in zip(state.policy.class_names, by_class, strict=True)
        },
        "unallocated": len(unplaced),
        "siblings_apart": apart,
        "previous_worker_returns": returns,
        "balance": balance,
        "outside_area": outside,
        "allocated": len(state.to_allocate) - len(unplaced),
        "changes_of_worker": sum(1 for c in placed if state.cases[c].worker is not None),
        "highest_utilisation": round(highest, 4),
    }


def outside_area(state: ServiceState, case_id: str, worker_id: str) -> bool:
    """Whether the worker's patches are listed and exclude the child's area."""
    return covers_area(state.practitioners[worker_id], state.cases[case_id].area) is False


def tier_vector(values: Mapping[str, int | float], tiers: tuple[Tier, ...]) -> tuple[float, ...]:
    """The ``tiers`` of ``values`` as a tuple to compare lexicographically (smaller is better)."""
    return tuple(values[t.key] if t.sense == "min" else -values[t.key] for t in tiers)


#: Rebalance's cost of a change of worker (policy, see ``allocator.rebalancing``): a
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
