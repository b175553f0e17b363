"""Daily allocation as a :class:`~allocator.engine.core.CoreInput`: a thin builder.

Each case needing a worker is one item with no source: it goes to one of its
candidate workers (see :mod:`.candidates`) or stays without a worker. Its tiers are
the daily tiers (:func:`allocator.domain.objectives.state_tiers`), each in its minimised
form: siblings apart (structural, written by the core), and every other tier linear,
its coefficients read from the tier itself (:meth:`allocator.domain.objectives.Tier.cost`,
``stay_cost`` and ``constant``): per priority class its children left without a
worker, each at their waiting weight (``ServiceState.waiting_weight``); for a
re-solve the children not kept where the
reference plan put them, the look-ahead, the children *not* back with a worker they
know (``n - returns``: :meth:`~allocator.domain.objectives.Tier.minimised`), balance and
work outside a worker's area. A tier added to the registry is in the model without
a line here.

A neighbourhood of the large-neighbourhood search decides only some cases
(``free``); the others keep their place in ``fixed``. Fixed placements use up their
workers' room and intake, and a fixed child counts as a holder of their family, so
every tier of the model is the plan's tier less a constant.

Every tier equals the plain-Python figure of :mod:`allocator.domain.objectives` for the
same placements (in its minimised form); the tests hold the two together.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Mapping

from allocator.contract.units import CentiPoints
from allocator.domain.objectives import minimised, state_tiers
from allocator.domain.rules import ServiceState, families_held
from allocator.engine.core import CoreInput, CoreModel, Item

__all__ = ["allocation_model", "daily_input", "minimised"]


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
    registered = state_tiers(state)
    tiers = tuple(t.key for t in registered)
    linear = [t for t in registered if t.linear]
    cases = sorted(state.to_allocate if free is None else free)
    deciding = set(cases)
    fixed_load: dict[str, int] = defaultdict(int)
    fixed_new: dict[str, set[str]] = defaultdict(set)
    families = {state.cases[c].family for c in cases}
    holders: dict[str, set[str]] = {f: set(state.holders.get(f, ())) for f in families}
    # A family new to a worker is one they held no child of in the snapshot, those
    # leaving them today included: the intake rule's one definition (families_held;
    # the model read it without the leaving children and, on a hypothesis test's day,
    # left an urgent child out that the rule allowed, calling it optimal).
    known = {w: set(fs) for w, fs in families_held(state).items()}
    for cid, wid in (fixed or {}).items():
        if cid in deciding:
            continue
        family = state.cases[cid].family
        fixed_load[wid] += state.weight[cid]
        if family not in known.get(wid, ()):
            fixed_new[wid].add(family)
        if family in holders:
            holders[family].add(wid)
    items: list[Item] = []
    for cid in cases:
        case = state.cases[cid]
        receivers = tuple(sorted(candidates[cid]))
        receiver_cost = {
            t.key: costs
            for t in linear
            if (costs := {w: cost for w in receivers if (cost := t.cost(state, cid, w))})
        }
        stays = {t.key: cost for t in linear if (cost := t.stay_cost(state, cid))}
        items.append(
            Item(
                id=cid,
                cases=(cid,),
                family=case.family,
                weight=state.weight[cid],
                receivers=receivers,
                stay_cost=stays,
                receiver_cost=receiver_cost,
            )
        )
    workers = sorted({w for item in items for w in item.receivers})
    held: dict[str, set[str]] = defaultdict(set)
    for family, ws in holders.items():
        for w in ws:
            held[w].add(family)
    for w in workers:
        held[w] |= known.get(w, set()) & families
    limit = state.policy.max_new_families_per_day
    return CoreInput(
        items=items,
        tiers=tiers,
        room={w: CentiPoints(state.spare_before(w) - fixed_load[w]) for w in workers},
        new_families_left={w: limit - len(fixed_new[w]) for w in workers},
        held={w: frozenset(fs) for w, fs in held.items()},
        holders={f: frozenset(ws) for f, ws in holders.items()},
        constants={t.key: constant for t in linear if (constant := t.constant(state, cases))},
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
