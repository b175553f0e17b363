"""The greedy rule a team manager applies by hand: the baseline and the warm start.

Urgent cases first (then oldest referral, then id). Each case goes to the worker of
a sibling if they have room, else to a previous worker with room (most recent
first), else to the eligible worker with the most spare capacity. Every hard rule
holds: caps, eligibility, pins and the intake limit.

The engine starts from this plan and keeps it among its candidates, so its answer
is never worse than this rule's.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date

from allocator.rules import ServiceState


def allocation_order(state: ServiceState) -> list[str]:
    """Cases needing a worker in the order a manager would take them."""
    return sorted(
        state.to_allocate,
        key=lambda c: (
            not state.is_urgent(c),
            state.cases[c].opened or date.min,
            c,
        ),
    )


def greedy_allocate(state: ServiceState) -> dict[str, str]:
    """Place cases one by one by the manager's rule (see the module docstring).

    Returns
    -------
    dict
        Case id to worker id for every case placed; cases left out are unallocated.
    """
    return _one_by_one(state, allocation_order(state), most_room=True)


def packing_allocate(state: ServiceState) -> dict[str, str]:
    """A second warm start that packs tightly: hardest cases first, best fit.

    Urgent cases first, then the cases with the fewest eligible workers and the
    heaviest, each to a sibling's or previous worker with room, else to the eligible
    worker it fits most tightly. The manager's rule spreads work evenly and leaves
    slivers of room too small for the heavy cases that come last; packing leaves
    fewer children out on a stretched service.
    """
    order = sorted(
        state.to_allocate,
        key=lambda c: (not state.is_urgent(c), len(state.eligible(c)), -state.weight[c], c),
    )
    return _one_by_one(state, order, most_room=False)


def _one_by_one(state: ServiceState, order: list[str], *, most_room: bool) -> dict[str, str]:
    """Place ``order`` in turn under every hard rule; continuity first, then room."""
    load = dict(state.load_before)
    new_families: dict[str, set[str]] = defaultdict(set)
    family_workers: dict[str, list[str]] = {f: sorted(ws) for f, ws in state.holders.items()}
    limit = state.policy.max_new_families_per_day
    placed: dict[str, str] = {}

    for cid in order:
        case = state.cases[cid]
        weight = state.weight[cid]
        eligible = state.eligible(cid)
        eligible_set = set(eligible)

        def fits(
            wid: str,
            family: str = case.family,
            weight: int = weight,
            eligible_set: set[str] = eligible_set,
        ) -> bool:
            if wid not in eligible_set or load[wid] + weight > state.capacity[wid]:
                return False
            is_new = wid not in state.holders.get(family, ())
            return not is_new or family in new_families[wid] or len(new_families[wid]) < limit

        choice = next((w for w in family_workers.get(case.family, []) if fits(w)), None)
        if choice is None:
            choice = next((w for w in case.previous_workers if fits(w)), None)
        if choice is None:
            roomy = [w for w in eligible if fits(w)]
            if roomy:
                # Most (or, packing, least) spare capacity; the smallest id breaks ties.
                sign = 1 if most_room else -1
                choice = min(roomy, key=lambda w: (sign * (load[w] - state.capacity[w]), w))
        if choice is None:
            continue
        placed[cid] = choice
        load[choice] += weight
        if choice not in state.holders.get(case.family, ()):
            new_families[choice].add(case.family)
        family_workers.setdefault(case.family, [])
        if choice not in family_workers[case.family]:
            family_workers[case.family].append(choice)
    return placed
