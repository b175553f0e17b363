"""The rebalance problem for the harness: its greedy rule and its tiers, by case.

:func:`allocator.problems.rebalancing.rebalance` decides per *group* (a family's children on one
worker) and ranks plans by its own tiers (``REBALANCE_TIERS``: unplaced, weighted by
priority class; leavers' children unplaced; over-cap excess; changes of worker;
siblings apart; weighted changes; balance). To compare
it with its greedy rule on the same terms, this module rebuilds the rebalance set-up
and maps plans to groups and back.

It uses ``allocator.problems.rebalancing._setup`` and ``_plan``, which are private: the
rebalance module has no public way yet to get its greedy plan or its tier values for
a given plan. Everything rebalance-specific the harness needs is here, so a change
there means a change in this one file.
"""

from __future__ import annotations

from collections.abc import Mapping

from allocator.contract.models import Plan
from allocator.contract.settings import Settings
from allocator.domain.rules import ServiceState
from allocator.engine.rebalance import REBALANCE_TIERS, tier_values
from allocator.problems.rebalancing import Setup, _plan, _setup, greedy_rebalance


def greedy_plan(state: ServiceState) -> Plan:
    """The manager's rule on the rebalance's groups (:func:`greedy_rebalance`, one of its
    warm starts), as a plan."""
    setup = _setup(state, None)
    moved = greedy_rebalance(setup)
    return _plan(
        setup, moved, status="feasible", bound=None, seconds=0.0, notes=[], settings=Settings()
    )


def _groups_moved(setup: Setup, placed: Mapping[str, str]) -> dict[str, str]:
    """Group id -> worker for the groups all of whose children ``placed`` gives one worker."""
    moved = {}
    for g in setup.data.groups:
        workers = {placed.get(c) for c in g.cases}
        if len(workers) == 1 and None not in workers and g.source not in workers:
            (w,) = workers
            assert w is not None
            moved[g.id] = w
    return moved


def objective(state: ServiceState, placed: Mapping[str, str]) -> list[tuple[str, str, int]]:
    """The rebalance tiers of ``placed`` (case -> worker), all minimised, in order.

    In the engine's units (``unplaced`` in class-weighted children, ``over_cap_excess``
    in centi-points), as its bounds are.
    """
    setup = _setup(state, None)
    values = tier_values(setup.data, _groups_moved(setup, placed))
    return [(key, "min", values[key]) for key in REBALANCE_TIERS]
