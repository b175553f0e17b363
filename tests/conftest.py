"""Shared test settings: every plan judged by the checker, and hypothesis profiles.

Every plan the allocator makes during the tests is judged by the independent checker
(Timefold's FULL_ASSERT idea): the engine's plans must break no hard rule, and the
summaries they report (the workers table, the objective tiers recomputed through
:func:`allocator.objectives.evaluate`) must agree with the checker's. The plan
builders of ``allocate`` and ``rebalance`` are wrapped for the whole session, so a
disagreement fails whichever test made the plan, not only the tests that call
``check_plan`` themselves.

Hypothesis: the ``ci`` profile (selected when the ``CI`` environment variable is set,
as ``.ci/run`` does) derandomises it, so a failure in CI reproduces with the same
examples on any machine, and prints the failing example's blob.
``HYPOTHESIS_PROFILE`` names a profile explicitly.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Iterator, Mapping
from typing import Any

import pytest
from hypothesis import settings

from allocator.check import judge_plan
from allocator.engine.rebalance import tier_values
from allocator.models import Plan
from allocator.objectives import daily_tiers, rebalance_tiers
from allocator.rules import ServiceState, to_points

settings.register_profile("ci", derandomize=True, print_blob=True, deadline=None)
settings.register_profile("dev")
settings.load_profile(
    os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if os.environ.get("CI") else "dev")
)


def _judged(plan: Plan, state: ServiceState) -> Plan:
    broken, stale = judge_plan(state.snapshot, state.policy, plan)
    assert broken == [], [v.message for v in broken]
    assert stale == [], [v.message for v in stale]
    _bounds_hold(plan, state)
    return plan


def _bounds_hold(plan: Plan, state: ServiceState) -> None:
    """A bound is never beyond the plan's value, and an optimal plan meets every bound."""
    if not plan.bound:
        return
    tiers = {t.key: t for t in (*daily_tiers(state.policy), *rebalance_tiers(state.policy))}
    for key, bound in plan.bound.items():
        value = plan.objective[key]
        better = bound <= value if tiers[key].sense == "min" else bound >= value
        assert better, f"{key}: bound {bound} is beyond the plan's value {value}"
        if plan.status == "optimal":
            assert bound == value, f"{key}: an optimal plan's bound {bound} != value {value}"


def _engine_agrees(plan: Plan, setup: Any, moved: Mapping[str, str]) -> None:
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


@pytest.fixture(autouse=True, scope="session")
def every_plan_is_checked() -> Iterator[None]:
    # The modules, not the functions the package re-exports under the same names.
    allocating = importlib.import_module("allocator.daily")
    rebalancing = importlib.import_module("allocator.rebalancing")
    build_plan = allocating.build_plan
    rebalance_plan = rebalancing._plan

    def checked_build_plan(state: ServiceState, *args: Any, **kwargs: Any) -> Plan:
        return _judged(build_plan(state, *args, **kwargs), state)

    def checked_rebalance_plan(setup: Any, moved: Mapping[str, str], **kwargs: Any) -> Plan:
        plan = _judged(rebalance_plan(setup, moved, **kwargs), setup.state)
        _engine_agrees(plan, setup, moved)
        return plan

    patch = pytest.MonkeyPatch()
    patch.setattr(allocating, "build_plan", checked_build_plan)
    patch.setattr(rebalancing, "_plan", checked_rebalance_plan)
    yield
    patch.undo()
