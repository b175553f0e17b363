"""The engine's own tier values against the registry's, on a plan (Timefold's FULL_ASSERT).

Used by ``conftest.py`` on every plan the tests make, and by the property tests.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from allocator.contract.models import Plan
from allocator.contract.units import to_points
from allocator.domain.objectives import daily_tiers, rebalance_tiers, state_tiers
from allocator.domain.rules import ServiceState
from allocator.engine.core import tier_values as core_tier_values
from allocator.engine.model import daily_input, minimised
from allocator.engine.rebalance import tier_values


def bounds_hold(plan: Plan, state: ServiceState) -> None:
    """A bound is never beyond the plan's value, and an optimal plan meets every bound."""
    if not plan.bound:
        return
    tiers = {
        t.key: t
        for t in (*daily_tiers(state.policy, reference=True), *rebalance_tiers(state.policy))
    }
    for key, bound in plan.bound.items():
        value = plan.objective[key]
        better = bound <= value if tiers[key].sense == "min" else bound >= value
        assert better, f"{key}: bound {bound} is beyond the plan's value {value}"
        if plan.status == "optimal":
            assert bound == value, f"{key}: an optimal plan's bound {bound} != value {value}"


def rebalance_engine_agrees(plan: Plan, setup: Any, moved: Mapping[str, str]) -> None:
    """The rebalance engine's own tier values are the registry's on the plan (FULL_ASSERT)."""
    engine = tier_values(setup.data, moved)
    mine = plan.objective
    assert engine["changes_of_worker"] == mine["changes_of_worker"]
    assert engine["weighted_changes"] == mine["weighted_changes"]
    assert engine["balance"] == mine["balance"]
    assert to_points(engine["over_cap_excess"]) == mine["over_cap_excess"]
    # The engine counts a family only moved for cover or relief from its workers
    # before; the plan from one worker: a constant apart, and never below 0.
    shift = sum(before - 1 for before in setup.data.workers_before.values())
    assert engine["siblings_apart"] + shift == mine["siblings_apart"] >= 0
    # Children who had a worker and end without a new one: unallocated, or left
    # with a long-absent worker.
    lost = sum(1 for u in plan.unallocated if setup.state.cases[u.case].worker is not None)
    assert engine["leavers_unplaced"] == lost + mine["uncovered_absence"]
    assert engine["expected_changes"] == mine["expected_changes"]
    # Children of departing workers with no handover: the engine weighs each by its
    # priority class (as ``unplaced``), the plan counts them.
    state = setup.state
    handled = {h.case for h in plan.handovers} | {a.case for a in plan.assignments}
    unplanned = [c for c in state.to_hand_over if c not in handled]
    assert mine["handovers_unplanned"] == len(unplanned)
    weights = setup.class_weight
    # ... and as the longest wait the policy's rule counts (the handover comes first).
    longest = 7 * state.policy.waiting.max_weeks
    assert engine["handovers_unplanned"] == sum(
        weights[state.priority_class[c]] * state.weight_of_wait(c, longest) for c in unplanned
    )


def daily_engine_agrees(plan: Plan, state: ServiceState) -> None:
    """The daily model's own tier values (the core's, on its input) are the plan's.

    For a plan without moves: the model decides only the cases that need a worker.
    """
    placed = {a.case: a.worker for a in plan.assignments}
    data = daily_input(state, {c: state.eligible(c) for c in state.to_allocate})
    engine = core_tier_values(data, placed)
    n = len(state.to_allocate)
    for tier in state_tiers(state):  # the re-solve's tier too, when there is a reference
        # The model minimises every tier: a tier to maximise is counted from n down.
        assert engine[tier.key] == minimised(tier.key, plan.objective[tier.key], n), tier.key
