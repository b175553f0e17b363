"""Shared test settings: every plan judged by the checker, and hypothesis profiles.

Every plan the allocator makes during the tests is judged by the independent checker
(Timefold's FULL_ASSERT idea): the engine's plans must break no hard rule, and the
summaries they report (the workers table, the objective tiers recomputed through
:func:`allocator.domain.objectives.evaluate`) must agree with the checker's. The plan
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

from allocator.contract.models import Plan
from allocator.domain.rules import ServiceState
from allocator.explain.check import judge_plan
from tests.full_assert import bounds_hold, daily_engine_agrees, rebalance_engine_agrees

#: Up to this many cases to allocate, every daily plan is also held against the
#: daily model's own tier values (building the model costs time on large services).
SMALL = 200

settings.register_profile("ci", derandomize=True, print_blob=True, deadline=None)
settings.register_profile("dev")
settings.load_profile(
    os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if os.environ.get("CI") else "dev")
)


def _judged(plan: Plan, state: ServiceState) -> Plan:
    broken, stale = judge_plan(state.snapshot, state.policy, plan)
    assert broken == [], [v.message for v in broken]
    assert stale == [], [v.message for v in stale]
    bounds_hold(plan, state)
    return plan


@pytest.fixture(autouse=True, scope="session")
def every_plan_is_checked() -> Iterator[None]:
    # The modules, not the functions the package re-exports under the same names.
    allocating = importlib.import_module("allocator.problems.daily")
    rebalancing = importlib.import_module("allocator.problems.rebalancing")
    build_plan = allocating.build_plan
    rebalance_plan = rebalancing._plan

    def checked_build_plan(state: ServiceState, *args: Any, **kwargs: Any) -> Plan:
        plan = _judged(build_plan(state, *args, **kwargs), state)
        moves = any(a.case not in state.needs for a in plan.assignments)
        if not moves and len(state.to_allocate) <= SMALL:
            daily_engine_agrees(plan, state)
        return plan

    def checked_rebalance_plan(setup: Any, moved: Mapping[str, str], **kwargs: Any) -> Plan:
        plan = _judged(rebalance_plan(setup, moved, **kwargs), setup.state)
        rebalance_engine_agrees(plan, setup, moved)
        return plan

    patch = pytest.MonkeyPatch()
    patch.setattr(allocating, "build_plan", checked_build_plan)
    patch.setattr(rebalancing, "_plan", checked_rebalance_plan)
    yield
    patch.undo()
