"""The verifier table: each linear tier's cost is one number, read three ways.

For a case ``c`` and an eligible worker ``w``, each linear daily tier
(:attr:`allocator.domain.objectives.Tier.linear`) must give the same figure as

- **the model**: :func:`allocator.engine.model.daily_input`'s coefficient of ``c``
  at ``w`` less its coefficient when ``c`` stays (the minimised form, turned back
  into the plan's sense);
- **the plan**: the tier's value (:meth:`allocator.domain.objectives.Tier.total`) with
  ``c`` placed with ``w`` less its value without, whatever the other cases do;
- **recommend**: :meth:`allocator.problems.recommend.Recommender.score` of ``(c, w)``
  (``reference_changes`` aside: ``recommend`` revises no plan).

Timefold's ``ConstraintVerifier``, one row per tier: on a hand-worked service, with
the figure worked out in a comment, and on generated services.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from allocator.contract.models import Snapshot
from allocator.contract.policy import Policy
from allocator.domain.objectives import (
    CONTINUITY_TIERS,
    REFERENCE_TIER,
    Match,
    Placements,
    Tier,
    registered_tier,
)
from allocator.domain.rules import ServiceState
from allocator.engine.core import CoreInput
from allocator.engine.model import daily_input
from allocator.generate import generate
from allocator.problems.recommend import Recommender
from tests.builders import AS_OF, case, snapshot, worker

LINEAR: tuple[Tier, ...] = tuple(t for t in (REFERENCE_TIER, *CONTINUITY_TIERS) if t.linear)


def hand_snapshot() -> Snapshot:
    """AG: agency, contract ending in ten weeks, patch north, holds nothing.
    PM: permanent, patch south, holds C1 (70 of 100 points).
    R1: looked-after referral, 4 points, patch north, PM its previous worker.
    R2: child-in-need referral, 3 points, no patch."""
    return snapshot(
        [
            worker(
                "AG", contract="agency", contract_end=AS_OF + timedelta(weeks=10), areas=("north",)
            ),
            worker("PM", areas=("south",)),
        ],
        [
            case("C1", worker="PM", weight=70.0),
            case("R1", type="looked_after", weight=4.0, area="north", previous_workers=("PM",)),
            case("R2", weight=3.0),
        ],
    )


#: (tier, case, worker, the change in the plan's value), worked by hand.
HAND: list[tuple[str, str, str, int]] = [
    # Look-ahead, hundredths of a change: AG's contract ends before a looked-after
    # case's expected 880 days (certain: 100); PM, permanent, leaves at 0.159 a year:
    # 1 - exp(-0.159 x 880 / 365) = 0.318 -> 32. Child-in-need work has none.
    ("expected_changes", "R1", "AG", 100),
    ("expected_changes", "R1", "PM", 32),
    ("expected_changes", "R2", "AG", 0),
    # PM had R1 before: one return.
    ("previous_worker_returns", "R1", "PM", 1),
    ("previous_worker_returns", "R1", "AG", 0),
    # Balance, 0.1 % of capacity per unit: AG ends at 4 %, under 60 %: 0. PM goes
    # from 70 to 74 points: 4 above 60 % and 4 above 70 % = 8 % of 100 = 8.
    ("balance", "R1", "AG", 0),
    ("balance", "R1", "PM", 8),
    ("balance", "R2", "PM", 6),
    # R1's patch is north: PM's are south only.
    ("outside_area", "R1", "AG", 0),
    ("outside_area", "R1", "PM", 1),
    ("outside_area", "R2", "PM", 0),
    # The plan revised put R1 with PM: kept there, one change fewer; elsewhere none.
    ("reference_changes", "R1", "PM", -1),
    ("reference_changes", "R1", "AG", 0),
    ("reference_changes", "R2", "AG", 0),
]


def with_reference(snap: Snapshot) -> ServiceState:
    """The service indexed under the default policy, revising a plan that puts every
    other case needing a worker with its first eligible worker."""
    state = ServiceState.of(snap, Policy())
    state.reference = {
        c: ws[0] for k, c in enumerate(state.to_allocate) if k % 2 == 0 if (ws := state.eligible(c))
    }
    return state


def model_change(data: CoreInput, tier: Tier, case_id: str, worker_id: str) -> int:
    """The model's coefficient of ``case_id`` at ``worker_id`` less its stay cost, in
    the plan's sense."""
    item = next(i for i in data.items if i.id == case_id)
    delta = item.receiver_cost.get(tier.key, {}).get(worker_id, 0) - item.stay_cost.get(tier.key, 0)
    return -delta if tier.sense == "max" else delta


def plan_change(state: ServiceState, tier: Tier, case_id: str, worker_id: str) -> int:
    """The tier's value with the placement less without it, the other cases placed
    with their first eligible worker (any placements would do: the tier is linear)."""
    others = {c: ws[-1] for c in state.to_allocate if c != case_id if (ws := state.eligible(c))}
    return tier.total(Placements(state, {**others, case_id: worker_id})) - tier.total(
        Placements(state, others)
    )


def three_ways(state: ServiceState, tier: Tier, pairs: list[tuple[str, str]]) -> None:
    """Model, plan and recommend agree on ``tier`` for every (case, worker) of ``pairs``."""
    data = daily_input(state, {c: state.eligible(c) for c in state.to_allocate})
    rec = Recommender(state.snapshot, state.policy, state=state)
    for c, w in pairs:
        plan = plan_change(state, tier, c, w)
        assert model_change(data, tier, c, w) == plan, (tier.key, c, w)
        assert tier.change(state, c, w) == plan, (tier.key, c, w)
        if tier is not REFERENCE_TIER:
            assert rec.score(c, w)[tier.key] == plan, (tier.key, c, w)


def test_every_daily_tier_below_the_classes_is_verified() -> None:
    # siblings_apart is the one structural tier: the core counts a family's workers.
    assert {t.key for t in LINEAR} == {t.key for t in (REFERENCE_TIER, *CONTINUITY_TIERS)} - {
        "siblings_apart"
    }


@pytest.mark.parametrize(("key", "case_id", "worker_id", "expected"), HAND)
def test_hand_worked(key: str, case_id: str, worker_id: str, expected: int) -> None:
    tier = registered_tier(key)
    assert tier is not None and tier.linear
    state = ServiceState.of(hand_snapshot(), Policy())
    state.reference = {"R1": "PM"}
    assert plan_change(state, tier, case_id, worker_id) == expected
    three_ways(state, tier, [(case_id, worker_id)])


def some_workers(state: ServiceState, case_id: str) -> list[str]:
    """Six of the case's eligible workers, its previous and reference workers first."""
    eligible = state.eligible(case_id)
    first = [*state.cases[case_id].previous_workers, (state.reference or {}).get(case_id)]
    return list(dict.fromkeys([w for w in first if w in eligible] + eligible[:6]))


@pytest.fixture(scope="module")
def generated() -> list[ServiceState]:
    # Agency and fixed-term staff with contract ends, leavers, patches, previous
    # workers: generated services of a few sizes, each revising a plan.
    return [with_reference(generate(n, seed=seed)) for n, seed in ((12, 1), (25, 2), (40, 3))]


@pytest.mark.parametrize("tier", LINEAR, ids=lambda t: t.key)
def test_generated(tier: Tier, generated: list[ServiceState]) -> None:
    seen: set[int] = set()
    for state in generated:
        pairs = [(c, w) for c in state.to_allocate for w in some_workers(state, c)]
        three_ways(state, tier, pairs)
        seen.update(tier.change(state, c, w) for c, w in pairs)
    assert len(seen) > 1, f"{tier.key} is the same for every placement: the table proves little"


def test_a_new_tier_is_explained_in_its_own_words() -> None:
    # A linear tier that writes no why-not sentence of its own: explain says it from
    # the tier's label, unit and justification of each placement (no fallback to
    # another tier's sentence, as an unknown key once fell into the area's).
    class Far(Tier):
        linear = True

        def cost(self, state: ServiceState, case_id: str, worker_id: str) -> int:
            return 5 if worker_id == "PM" else 1

        def justify(self, on: Placements, match: Match) -> str:
            return f"{match.workers[0]} is {match.points} km away"

    far = Far("far", "min", "distance", "km")
    state = ServiceState.of(hand_snapshot(), Policy())
    assert far.worse(state, "R2", "PM", "AG", 5, 1) == (
        "distance: 5 km with PM (PM is 5 km away) against 1 with AG (AG is 1 km away)"
    )


def test_siblings_apart_recommend_scores_the_familys_workers_after_the_placement(
    generated: list[ServiceState],
) -> None:
    # The structural tier: the core counts a family's workers, so there is no
    # coefficient to compare; recommend's score of (c, w), given where the plan puts
    # c's siblings, is the family's extra workers once c is with w: the tier's match.
    tier = registered_tier("siblings_apart")
    assert tier is not None and not tier.linear
    checked = 0
    for state in generated:
        rec = Recommender(state.snapshot, state.policy, state=state)
        for c in state.to_allocate:
            family = state.cases[c].family
            if len(state.families[family]) < 2:
                continue
            others = {o: ws[-1] for o in state.to_allocate if o != c if (ws := state.eligible(o))}
            for w in some_workers(state, c):
                on = Placements(state, {**others, c: w})
                siblings = {
                    f
                    for s in state.families[family]
                    if s != c and (f := on.final(s)) is not None and f not in state.gone
                }
                apart = sum(m.points for m in tier.contributions(on) if m.family == family)
                assert rec.score(c, w, siblings=siblings)["siblings_apart"] == apart, (c, w)
                checked += 1
    assert checked > 20
