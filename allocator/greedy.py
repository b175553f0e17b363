"""The greedy rule a team manager applies by hand: the baseline and the warm start.

Cases in priority-class order (urgent, then statutory work, then the rest: FORMAT.md
"Who gets a worker first"), heaviest first within a class (then oldest referral,
then id). Each case goes to the worker of
a sibling if they have room, else to a previous worker with room (most recent
first), else to the eligible worker with the most spare capacity. Every hard rule
holds: caps, eligibility, pins and the intake limit.

The engine starts from this plan and keeps it among its candidates, so its answer
is never worse than this rule's.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from datetime import date

from allocator.policy import Policy
from allocator.rules import ServiceState


def manager_policy(policy: Policy) -> Policy:
    """``policy`` as a manager applying this rule by hand reads it: no room held for
    long waits (``waiting.reserve_after_days`` 0), which is the engine's own device;
    the rule's order (heaviest first) is how a manager serves the queue."""
    if policy.waiting.reserve_after_days == 0:
        return policy
    return policy.model_copy(
        update={"waiting": policy.waiting.model_copy(update={"reserve_after_days": 0})}
    )


def allocation_order(state: ServiceState) -> list[str]:
    """Cases needing a worker in the order a manager would take them."""
    return sorted(
        state.to_allocate,
        key=lambda c: (
            state.priority_class[c],
            -state.weight[c],
            state.cases[c].opened or date.min,
            c,
        ),
    )


def greedy_allocate(
    state: ServiceState,
    fixed: Mapping[str, str] | None = None,
    prefer: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """Place cases one by one by the manager's rule (see the module docstring).

    Parameters
    ----------
    state
        The service.
    fixed
        Placements already decided (case id to worker id); the rule places the
        other cases around them, and they are part of the result.
    prefer
        A worker to try first for some cases (an earlier plan's placements, kept
        where they still fit), before the rule's own choice.

    Returns
    -------
    dict
        Case id to worker id for every case placed; cases left out are unallocated.
    """
    return _one_by_one(
        state, allocation_order(state), most_room=True, fixed=fixed or {}, prefer=prefer or {}
    )


def revise_allocate(state: ServiceState, reference: Mapping[str, str]) -> dict[str, str]:
    """A re-solve's warm start: the ``reference`` plan, kept wherever it still holds.

    First the cases a manager pinned away from their reference worker, then the
    reference's placements (each with its reference worker if it still fits), then
    every other case, each part in :func:`allocation_order` and by the manager's rule
    where the reference does not decide.
    """
    order = allocation_order(state)

    def part(cid: str) -> int:
        pin = state.cases[cid].pinned_worker
        if pin is not None and pin != reference.get(cid):
            return 0
        return 1 if cid in reference else 2

    order = sorted(order, key=part)  # stable: allocation order within each part
    return _one_by_one(state, order, most_room=True, fixed={}, prefer=reference)


def packing_allocate(state: ServiceState, *, by_family: bool) -> dict[str, str]:
    """A warm start that packs tightly: hardest cases first, best fit.

    Urgent first, then the cases with the fewest eligible workers, then the
    heaviest; with ``by_family`` whole families are ranked so and siblings placed
    one after another. Each child goes to a sibling's or previous worker with room,
    else to the eligible worker it fits most tightly among those with room for the
    rest of its family too. The manager's rule spreads work evenly and leaves slivers
    of room too small for the heavy cases that come last; packing leaves fewer
    children out on a stretched service. Neither order wins everywhere (measured:
    by family keeps siblings together and placed more at 500 practitioners, case by
    case placed one more child at 150), so the engine tries both.
    """
    groups: dict[str, list[str]] = {}
    for cid in sorted(state.to_allocate):
        groups.setdefault(state.cases[cid].family if by_family else cid, []).append(cid)

    def hardness(kids: list[str]) -> tuple[int, int, int]:
        return (
            min(state.priority_class[c] for c in kids),
            min(len(state.eligible(c)) for c in kids),
            -sum(state.weight[c] for c in kids),
        )

    order = [c for g in sorted(groups, key=lambda g: (hardness(groups[g]), g)) for c in groups[g]]
    return _one_by_one(state, order, most_room=False, fixed={}, prefer={})


def _one_by_one(
    state: ServiceState,
    order: list[str],
    *,
    most_room: bool,
    fixed: Mapping[str, str],
    prefer: Mapping[str, str],
) -> dict[str, str]:
    """Place ``order`` in turn under every hard rule around the ``fixed`` placements;
    the ``prefer`` worker first, then continuity, then room."""
    load = dict(state.load_kept)  # the cases that must leave a worker free their room
    new_families: dict[str, set[str]] = defaultdict(set)
    family_workers: dict[str, list[str]] = {f: sorted(ws) for f, ws in state.holders.items()}
    limit = state.policy.max_new_families_per_day
    placed: dict[str, str] = dict(fixed)
    for cid, wid in sorted(fixed.items()):
        family = state.cases[cid].family
        load[wid] += state.weight[cid]
        if wid not in state.holders.get(family, ()):
            new_families[wid].add(family)
        if wid not in family_workers.setdefault(family, []):
            family_workers[family].append(wid)
    order = [c for c in order if c not in fixed]
    # Weight of each case and the siblings after it in ``order``: room to keep for them.
    rest: dict[str, int] = {}
    still: dict[str, int] = defaultdict(int)
    for cid in reversed(order):
        family = state.cases[cid].family
        still[family] += state.weight[cid]
        rest[cid] = still[family]

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

        choice = prefer[cid] if cid in prefer and fits(prefer[cid]) else None
        if choice is None:
            choice = next((w for w in family_workers.get(case.family, []) if fits(w)), None)
        if choice is None:
            choice = next((w for w in case.previous_workers if fits(w)), None)
        if choice is None:
            roomy = [w for w in eligible if fits(w)]
            if roomy and most_room:
                # Most spare capacity; the smallest id breaks ties.
                choice = min(roomy, key=lambda w: (load[w] - state.capacity[w], w))
            elif roomy:
                # Tightest fit among workers with room for the rest of the family.
                need = rest[cid]
                choice = min(
                    roomy,
                    key=lambda w: (
                        load[w] + need > state.capacity[w],
                        state.capacity[w] - load[w],
                        w,
                    ),
                )
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
