"""The greedy rule a team manager applies by hand: the baseline and the warm start.

This module is the rule's one home. Its three parts, each defined once here:

- **the order of cases** (:func:`manager_order`): priority class first (urgent, then
  statutory work, then the rest: FORMAT.md "Who gets a worker first"), heaviest
  first within a class, then the oldest referral, then id;
- **the choice of worker** (:func:`choose_worker`): the worker of a sibling if they
  have room, else a previous worker with room (most recent first), else the
  eligible worker with the most spare capacity, the smallest id breaking ties;
- **the over-cap relief** (:func:`relieve_over_cap`): off a worker over their cap,
  the smallest family that alone brings them within it, else the heaviest, until
  within cap.

Every hard rule holds: caps, eligibility, pins and the intake limit. A handover
ahead (a departing worker's child) is placed with the week's other work by the same
rule.

The rule's users: the daily warm start and baseline (:func:`greedy_allocate`,
:func:`revise_allocate`); the rebalance's warm starts
(:func:`allocator.problems.rebalancing.greedy_rebalance`: the manager's plan is one of three,
and the other two share its choice of worker where they do not pack, and its
over-cap relief); the moves step's warm start
(:func:`allocator.engine.moves.greedy_moves`: where a moved family goes); the
benchmark's greedy column; and the simulation's ``greedy`` method
(:mod:`allocator.simulation.methods`). The engine keeps this plan among its starts,
so its answer is never worse than this rule's. The warm starts' other orders
(packing here and in the rebalance, the rebalance's tiers' order, the moves step's
order of waiting cases) serve the engine's tiers, are measured where they are
defined, and are not the manager's rule.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from allocator.contract.models import Case
from allocator.contract.policy import Policy
from allocator.domain.rules import ServiceState


def manager_policy(policy: Policy) -> Policy:
    """``policy`` as a manager applying this rule by hand reads it: no room held for
    long waits (``waiting.reserve_after_days`` 0) and none kept for the higher classes
    (``waiting.room_kept_share`` 0), which are the engine's own devices; the rule's
    order (heaviest first) is how a manager serves the queue."""
    waiting = policy.waiting
    if waiting.reserve_after_days == 0 and waiting.room_kept_share == 0:
        return policy
    return policy.model_copy(
        update={
            "waiting": waiting.model_copy(update={"reserve_after_days": 0, "room_kept_share": 0})
        }
    )


def manager_order(
    priority_class: int, weight: int, opened: date | None, key: str
) -> tuple[int, int, date, str]:
    """The sort key of the order a manager takes work in (ascending: first first).

    Parameters
    ----------
    priority_class
        0 for the first class (urgent by default), then 1, 2, ...
    weight
        Centi-points (a family moving together: the family's weight).
    opened
        The referral's date (the oldest of a family's), ``None`` if unknown.
    key
        The case's (or family's) id: the last tie-break.
    """
    return (priority_class, -weight, opened or date.min, key)


def allocation_order(state: ServiceState) -> list[str]:
    """Cases needing a worker in the order a manager would take them (:func:`manager_order`)."""
    return sorted(
        state.to_allocate,
        key=lambda c: manager_order(
            state.priority_class[c], state.weight[c], state.cases[c].opened, c
        ),
    )


def choose_worker(
    eligible: Iterable[str],
    fits: Callable[[str], bool],
    *,
    siblings: Sequence[str],
    previous: Sequence[str],
    room: Callable[[str], int],
) -> str | None:
    """The worker a manager gives a case (or a family moving together) to, if any.

    Parameters
    ----------
    eligible
        Every worker who may hold it by the static rules.
    fits
        Whether a worker may take it now (eligible, room, intake limit, budget).
    siblings
        The workers of its siblings, in the order to try them.
    previous
        Its previous workers, most recent first.
    room
        Centi-points a worker has left under their cap (asked only of workers who
        fit, and only when no sibling's or previous worker does).

    Returns
    -------
    str or None
        A sibling's worker who fits, else a previous worker who fits, else the
        eligible worker who fits with the most room (the smallest id on ties);
        ``None`` when nobody fits.
    """
    for w in siblings:
        if fits(w):
            return w
    for w in previous:
        if fits(w):
            return w
    return min((w for w in eligible if fits(w)), key=lambda w: (-room(w), w), default=None)


def previous_workers(children: Iterable[Case]) -> list[str]:
    """The previous workers of ``children`` (a family moving together), the most
    recent of any child first (then by id): :func:`choose_worker`'s ``previous``."""
    rank: dict[str, int] = {}
    for child in children:
        for i, w in enumerate(child.previous_workers):
            rank[w] = min(rank.get(w, i), i)
    return sorted(rank, key=lambda w: (rank[w], w))


@dataclass(frozen=True)
class HeldFamily:
    """A family's children on one worker, as the over-cap relief weighs them.

    Attributes
    ----------
    key
        Its id (a family id, or the rebalance's ``family@worker`` group id).
    children
        How many children.
    weight
        Their combined weight, centi-points.
    """

    key: str
    children: int
    weight: int


def relieve_over_cap(
    excess: int, pool: Iterable[HeldFamily], take: Callable[[HeldFamily], bool]
) -> list[HeldFamily]:
    """Take families off a worker ``excess`` centi-points over cap until within it.

    Each turn: the smallest family that alone brings the worker within cap (fewest
    children, then lightest, then key), else the heaviest (then key); ``take`` says
    whether it could go (a family that could not is not tried again).

    Parameters
    ----------
    excess
        Centi-points over cap before any family leaves.
    pool
        The families the worker may give up.
    take
        Places a family elsewhere and says whether it went.

    Returns
    -------
    list of HeldFamily
        The families taken off, in order.
    """
    left = sorted(pool, key=lambda f: f.key)
    taken: list[HeldFamily] = []
    while excess > 0 and left:
        enough = [f for f in left if f.weight >= excess]
        order = (
            sorted(enough, key=lambda f: (f.children, f.weight, f.key))
            if enough
            else sorted(left, key=lambda f: (-f.weight, f.key))
        )
        for family in order:
            left.remove(family)
            if take(family):
                taken.append(family)
                excess -= family.weight
                break
        else:
            break
    return taken


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

        siblings = family_workers.get(case.family, [])
        choice = prefer[cid] if cid in prefer and fits(prefer[cid]) else None
        if choice is None and most_room:
            choice = choose_worker(
                eligible,
                fits,
                siblings=siblings,
                previous=case.previous_workers,
                room=lambda w: state.capacity[w] - load[w],
            )
        elif choice is None:
            # Packing: continuity first as the manager's rule, then the tightest fit.
            choice = next((w for w in (*siblings, *case.previous_workers) if fits(w)), None)
            roomy = [w for w in eligible if fits(w)] if choice is None else []
            if roomy:
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
