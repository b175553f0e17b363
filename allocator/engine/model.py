"""Daily allocation as a :class:`~allocator.engine.core.CoreInput`: a thin builder.

Each case needing a worker is one item with no source: it goes to one of its
candidate workers (see :mod:`.candidates`) or stays without a worker. Its tiers are
the daily tiers (:func:`allocator.objectives.state_tiers`), each in its minimised
form: per priority class, its children left without a worker; for a re-solve, the
children not kept where the reference plan put them (a constant, the reference's
cases, less one for each kept: a linear tier); siblings apart; changes expected as
staff leave (the look-ahead, long-term work); children *not* back with a worker they
know (``n - returns``); balance; work outside a worker's area.

A neighbourhood of the large-neighbourhood search decides only some cases
(``free``); the others keep their place in ``fixed``. Fixed placements use up their
workers' room and intake, and a fixed child counts as a holder of their family, so
every tier of the model is the plan's tier less a constant.

Every tier equals the plain-Python figure of :mod:`allocator.objectives` for the
same placements (in its minimised form); the tests hold the two together.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Mapping

from allocator.engine.core import CoreInput, CoreModel, Item
from allocator.objectives import (
    REFERENCE_CHANGES,
    balance_cost,
    expected_changes_cost,
    outside_area,
    state_tiers,
)
from allocator.rules import ServiceState

#: The daily tier whose model form is the complement of the plan's figure.
RETURNS = "previous_worker_returns"
#: The look-ahead tier (:data:`allocator.objectives.EXPECTED_CHANGES`).
LOOK_AHEAD = "expected_changes"


def minimised(key: str, value: int | float, cases: int) -> int | float:
    """A daily tier's plan value as its model's minimised value, and back (an involution).

    ``cases``: the cases needing a worker. Only ``previous_worker_returns`` differs.
    """
    return cases - value if key == RETURNS else value


def daily_input(
    state: ServiceState,
    candidates: Mapping[str, list[str]],
    *,
    free: Collection[str] | None = None,
    fixed: Mapping[str, str] | None = None,
) -> CoreInput:
    """The core input of one day's allocation, or of a neighbourhood of it.

    Parameters
    ----------
    state
        The service.
    candidates
        For each case needing a worker, the workers it may be given (all eligible).
    free
        The cases to decide (default: all cases needing a worker).
    fixed
        Placements of the cases not in ``free`` (absent: left unallocated).
    """
    tiers = tuple(t.key for t in state_tiers(state))
    class_keys = tiers[: len(state.policy.class_names)]
    cases = sorted(state.to_allocate if free is None else free)
    deciding = set(cases)
    fixed_load: dict[str, int] = defaultdict(int)
    fixed_new: dict[str, set[str]] = defaultdict(set)
    families = {state.cases[c].family for c in cases}
    holders: dict[str, set[str]] = {f: set(state.holders.get(f, ())) for f in families}
    for cid, wid in (fixed or {}).items():
        if cid in deciding:
            continue
        family = state.cases[cid].family
        fixed_load[wid] += state.weight[cid]
        if wid not in state.holders.get(family, ()):
            fixed_new[wid].add(family)
        if family in holders:
            holders[family].add(wid)
    items: list[Item] = []
    reference = state.reference or {}
    for cid in cases:
        case = state.cases[cid]
        receivers = tuple(sorted(candidates[cid]))
        receiver_cost = {
            RETURNS: {w: -1 for w in receivers if w in case.previous_workers},
            "balance": {w: balance_cost(state, cid, w) for w in receivers},
            "outside_area": {w: 1 for w in receivers if outside_area(state, cid, w)},
            # Look-ahead (long-term work): changes expected as staff leave.
            LOOK_AHEAD: {
                w: cost for w in receivers if (cost := expected_changes_cost(state, cid, w))
            },
        }
        if state.reference is not None:
            # Counted from the reference's cases down: 1 each, less 1 kept in place.
            was = reference.get(cid)
            receiver_cost[REFERENCE_CHANGES] = {was: -1} if was in receivers else {}
        items.append(
            Item(
                id=cid,
                cases=(cid,),
                family=case.family,
                weight=state.weight[cid],
                receivers=receivers,
                stay_cost={class_keys[state.priority_class[cid]]: state.waiting_weight[cid]},
                receiver_cost=receiver_cost,
            )
        )
    workers = sorted({w for item in items for w in item.receivers})
    held: dict[str, set[str]] = defaultdict(set)
    for family, ws in holders.items():
        for w in ws:
            held[w].add(family)
    limit = state.policy.max_new_families_per_day
    return CoreInput(
        items=items,
        tiers=tiers,
        room={w: state.spare_before(w) - fixed_load[w] for w in workers},
        new_families_left={w: limit - len(fixed_new[w]) for w in workers},
        held={w: frozenset(fs) for w, fs in held.items()},
        holders={f: frozenset(ws) for f, ws in holders.items()},
        # Children not back with a worker they know: every case, less those who are.
        constants={
            RETURNS: len(cases),
            **(
                {REFERENCE_CHANGES: sum(1 for c in cases if c in reference)}
                if state.reference is not None
                else {}
            ),
        },
    )


def allocation_model(
    state: ServiceState,
    candidates: Mapping[str, list[str]],
    *,
    free: Collection[str] | None = None,
    fixed: Mapping[str, str] | None = None,
) -> CoreModel:
    """The CP-SAT model of :func:`daily_input` (same parameters)."""
    return CoreModel(daily_input(state, candidates, free=free, fixed=fixed))
