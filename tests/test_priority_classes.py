"""Who gets a worker first (FORMAT.md): priority classes as the first tiers.

Each instance is small enough to work out by hand; the reasoning is in the comments.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from allocator import Policy, allocate, check_plan
from allocator.contract.models import Plan
from allocator.contract.policy import PolicyError
from allocator.contract.settings import Settings
from allocator.domain.greedy import allocation_order, greedy_allocate
from allocator.domain.result import TierResult
from allocator.domain.rules import ServiceState
from allocator.io import load_policy
from tests.builders import AS_OF, case, snapshot, worker


def placed(plan: Plan) -> dict[str, str]:
    return {a.case: a.worker for a in plan.assignments}


def test_court_case_goes_to_the_senior_before_two_lighter_children() -> None:
    # A part-time newly qualified worker with room for one child-in-need case (3
    # points) and a senior with room for 7. Referrals: a court case (7 points) and two
    # child-in-need cases (3 each). Counting children alike, both child-in-need cases
    # could go (one each, or both to the senior) and the court child would wait; but
    # court work is statutory, a higher class: it takes the senior's 7 points, one
    # child-in-need case the newly qualified worker's 3, and one waits.
    snap = snapshot(
        [
            worker("N1", grade="nqsw", fte=0.5, capacity_points=3),
            worker("S1", grade="senior", capacity_points=7),
        ],
        [
            case("COURT", type="court", weight=7),
            case("CIN1"),
            case("CIN2"),
        ],
    )
    policy = Policy()
    plan = allocate(snap, policy, time_limit=5)
    assert check_plan(snap, policy, plan) == []
    got = placed(plan)
    assert got["COURT"] == "S1"
    assert sorted(c for c, w in got.items() if w == "N1") in (["CIN1"], ["CIN2"])
    assert [u.case for u in plan.unallocated] in (["CIN1"], ["CIN2"])
    # The default waiting rule (age_points) counts each child left out as half points
    # x (1 + weeks waited): one 3-point referral of today, 6.
    assert plan.objective["unallocated_statutory"] == 0
    assert plan.objective["unallocated_other"] == 6
    # Proved: every tier's bound equals its value.
    assert plan.status == "optimal"
    assert plan.proved is not None and all(plan.proved.values())
    assert plan.bound is not None and plan.bound["unallocated_other"] == 6


def test_one_statutory_child_outweighs_any_number_of_others() -> None:
    # One worker with 10 points spare; a 10-point child-protection case and three
    # 3-point child-in-need cases (9 points, three children). Counting children alike
    # would place the three; statutory work comes first, so the one is placed.
    snap = snapshot(
        [worker("W1", capacity_points=10)],
        [
            case("CP", type="child_protection", weight=10),
            *(case(f"CIN{i}") for i in range(3)),
        ],
    )
    plan = allocate(snap, Policy(), time_limit=5)
    assert placed(plan) == {"CP": "W1"}
    assert len(plan.unallocated) == 3
    assert plan.objective["unallocated_other"] == 3 * 6  # three 3-point children, 6 each


def test_urgent_comes_before_statutory() -> None:
    # Room for one 10-point case: an urgent child-in-need case and a standard court
    # case. Urgent is the first class.
    snap = snapshot(
        [worker("W1", grade="senior", capacity_points=10)],
        [
            case("URGENT", weight=10, priority="urgent"),
            case("COURT", type="court", weight=10),
        ],
    )
    plan = allocate(snap, Policy(), time_limit=5)
    assert placed(plan) == {"URGENT": "W1"}
    assert plan.objective["unallocated_urgent"] == 0
    # One 10-point court child: 20 half points x (1 + the court head start, 12 weeks).
    assert plan.objective["unallocated_statutory"] == 20 * 13


def test_a_council_may_regroup_the_classes() -> None:
    # The same day as above, under a policy with a single class holding every case
    # ("other") that counts children alike (waiting rule "count"): the three lighter
    # children are placed. (By the default rule, age_points, the 10-point child would
    # weigh 20 against 3 x 6 = 18, and be placed.)
    snap = snapshot(
        [worker("W1", capacity_points=10)],
        [
            case("CP", type="child_protection", weight=10),
            *(case(f"CIN{i}") for i in range(3)),
        ],
    )
    alike = Policy.model_validate({"priority_classes": [], "waiting": {"rule": "count"}})
    plan = allocate(snap, alike, time_limit=5)
    assert sorted(placed(plan)) == ["CIN0", "CIN1", "CIN2"]
    assert set(plan.objective) >= {"unallocated_other"}
    assert "unallocated_statutory" not in plan.objective


def test_a_class_named_by_type_ranks_above_urgent_when_the_council_says_so() -> None:
    # Court work first, then urgent: the standard court case wins the only room.
    snap = snapshot(
        [worker("W1", grade="senior", capacity_points=10)],
        [
            case("URGENT", weight=10, priority="urgent"),
            case("COURT", type="court", weight=10),
        ],
    )
    policy = Policy.model_validate(
        {
            "priority_classes": [
                {"name": "court", "cases": ["court"]},
                {"name": "urgent", "cases": ["urgent"]},
            ]
        }
    )
    plan = allocate(snap, policy, time_limit=5)
    assert placed(plan) == {"COURT": "W1"}
    assert plan.objective["unallocated_court"] == 0
    assert plan.objective["unallocated_urgent"] == 20  # one 10-point child: 20 half points


def test_the_manager_rule_takes_classes_in_order_heaviest_first() -> None:
    # Greedy order: urgent, then statutory, then the rest; heaviest first within.
    snap = snapshot(
        [worker("W1", grade="senior", capacity_points=100)],
        [
            case("CIN_HEAVY", weight=9),
            case("CIN_LIGHT", weight=2),
            case("LA", type="looked_after", weight=4),
            case("URG", weight=1, priority="urgent"),
        ],
    )
    state = ServiceState.of(snap, Policy())
    assert allocation_order(state) == ["URG", "LA", "CIN_HEAVY", "CIN_LIGHT"]
    # At most 3 new families a day: the last in that order waits.
    assert sorted(greedy_allocate(state)) == ["CIN_HEAVY", "LA", "URG"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('[[priority_classes]]\nname = "other"\ncases = ["court"]\n', "other"),
        (
            '[[priority_classes]]\nname = "a"\ncases = ["court"]\n'
            '[[priority_classes]]\nname = "a"\ncases = ["adoption"]\n',
            "repeated",
        ),
        ('[[priority_classes]]\nname = "a"\ncases = ["standard"]\n', "standard"),
        ('[[priority_classes]]\nname = "a"\ncases = ["courtt"]\n', "priority_classes"),
        ('[[priority_classes]]\nname = "a"\ncases = []\n', "priority_classes"),
        ('[[priority_classes]]\nname = "Bad Name"\ncases = ["court"]\n', "priority_classes"),
        (
            "".join(f'[[priority_classes]]\nname = "c{i}"\ncases = ["court"]\n' for i in range(5)),
            "priority_classes",
        ),
        ('[[priority_classes]]\nname = "a"\ncases = ["court", "court"]\n', "names court twice"),
        (
            '[[priority_classes]]\nname = "a"\ncases = ["court"]\n'
            '[[priority_classes]]\nname = "b"\ncases = ["court"]\n',
            "class 'b' can hold no case: every case it names goes to an earlier class",
        ),
        (
            '[[priority_classes]]\nname = "a"\ncases = ["urgent", "court"]\n'
            '[[priority_classes]]\nname = "b"\ncases = ["urgent"]\n',
            "class 'b' can hold no case",
        ),
        (
            '[[priority_classes]]\nname = "a"\ncases = '
            '["early_help", "child_in_need", "child_protection", "looked_after"]\n'
            '[[priority_classes]]\nname = "b"\ncases = '
            '["care_leaver", "court", "adoption"]\n'
            '[[priority_classes]]\nname = "c"\ncases = ["urgent"]\n',
            "class 'c' can hold no case",
        ),
    ],
    ids=[
        "reserved-name",
        "repeated-name",
        "standard",
        "unknown-type",
        "empty",
        "bad-name",
        "five",
        "a-type-twice",
        "shadowed",
        "urgent-shadowed",
        "every-type-taken",
    ],
)
def test_bad_priority_classes_are_refused_naming_the_key(
    tmp_path: Path, text: str, expected: str
) -> None:
    path = tmp_path / "policy.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(PolicyError) as err:
        load_policy(path)
    assert expected in str(err.value)
    assert "policy.toml" in str(err.value)


@pytest.mark.slow
def test_on_pruned_candidates_only_bounds_over_every_worker_are_claimed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # With candidates pruned, a whole model's own bound holds for its candidates only:
    # each class's bound must then be the easy (Hall) bound or the LP's, both valid
    # over every eligible worker. (Work as 4 s would give; the clock, ample, never
    # stops a stage before its LP.)
    from allocator.engine import candidates
    from allocator.engine.model import minimised
    from allocator.engine.solve import _EasyBounds, _lp_bound, solve
    from allocator.generate import generate

    monkeypatch.setattr(candidates, "FULL_MODEL_PAIRS", 0)
    snap = generate(100, seed=3, load=1.0, referral_rate=0.08, welsh_families=0.3)
    state = ServiceState.of(snap, Policy())
    solution = solve(state, Settings(time_limit=60, work_units=1.2))
    assert solution.pruned and not solution.proved
    easy = _EasyBounds.of(state)
    n = len(state.to_allocate)
    unallocated = n - len(solution.decisions)
    keys = ("unallocated_urgent", "unallocated_statutory", "unallocated_other")
    for klass, key in enumerate(keys):
        tier = solution.tiers[key]
        above = {k: solution.tiers[k].value for k in keys[:klass]}
        floor = minimised(key, easy.at(state, unallocated)[key], n)
        floor = max(floor, _lp_bound(state, key, above) or 0)
        assert tier.bound == min(floor, tier.value)
        assert tier.proved == (tier.value <= floor)


# ------------------------------------------------------------------ the LP bound


def one_room_two_long_waits() -> ServiceState:
    """Two child-protection children who have waited three weeks (10 points each),
    X and Y, fit only A (room 10); a referral of today, Z (3 points), fits A or B
    (room 3). Every child is statutory."""
    three_weeks = AS_OF - timedelta(days=21)
    snap = snapshot(
        [worker("A", capacity_points=10), worker("B", capacity_points=3)],
        [
            case("X", type="child_protection", weight=10, opened=three_weeks),
            case("Y", type="child_protection", weight=10, opened=three_weeks),
            case("Z", type="child_protection", weight=3, opened=AS_OF),
        ],
    )
    return ServiceState.of(snap, Policy())


def test_the_lp_bound_weighs_the_child_who_must_wait_as_the_tier_does() -> None:
    # Waiting weights (age_points): X and Y 20 half points x (1 + 3 weeks) = 80 each,
    # Z 6 x 1 = 6. A holds one of X and Y: one child must wait. The Hall bound counts
    # that child and assumes the lightest wait, Z's: 6. The LP places X or Y whole on
    # A (their shares on A sum to at most one) and Z on B: 86 of 166, so at least
    # 80 waits, which is the optimum (X or Y waits).
    from allocator.engine.solve import _EasyBounds, _lp_bound

    state = one_room_two_long_waits()
    assert [state.waiting_weight[c] for c in "XYZ"] == [80, 80, 6]
    assert _EasyBounds.of(state).at(state, 0)["unallocated_statutory"] == 6
    assert _lp_bound(state, "unallocated_statutory", {"unallocated_urgent": 0}) == 80


def test_the_lp_bound_holds_the_classes_above_at_their_values() -> None:
    # Room for one 10-point case, an urgent child and a court child both wanting it
    # (20 half points each, today's referrals). With urgent held at 0 (placed) the
    # court child cannot be: 180 (with the court head start). Were urgent allowed its
    # own 20 out, the LP could place the court child instead: 0. Both are valid for
    # their own premise.
    from allocator.engine.solve import _lp_bound

    snap = snapshot(
        [worker("W1", grade="senior", capacity_points=10)],
        [
            case("URGENT", weight=10, priority="urgent"),
            case("COURT", type="court", weight=10),
        ],
    )
    state = ServiceState.of(snap, Policy())
    # The court child: 20 half points x (1 + the court head start, 12 weeks).
    assert _lp_bound(state, "unallocated_statutory", {"unallocated_urgent": 0}) == 20 * 13
    assert _lp_bound(state, "unallocated_statutory", {"unallocated_urgent": 20}) == 0


def test_the_lp_bound_reads_a_continuity_tier_from_the_tier_itself() -> None:
    # Two referrals from the north (3 points, 6 half points of waiting weight each);
    # N covers the north with room for one, S covers the south with room for one.
    # With both placed (the classes held at 0), one works outside their area: 1,
    # where the easy bound (children with no worker in their area) is 0. With one
    # child allowed out (6), nobody need work outside: 0.
    from allocator.engine.solve import _lp_bound

    snap = snapshot(
        [
            worker("N", capacity_points=3, areas=["north"]),
            worker("S", capacity_points=3, areas=["south"]),
        ],
        [case("C1", area="north"), case("C2", area="north")],
    )
    state = ServiceState.of(snap, Policy())
    classes = {"unallocated_urgent": 0, "unallocated_statutory": 0}
    assert _lp_bound(state, "outside_area", {**classes, "unallocated_other": 0}) == 1
    assert _lp_bound(state, "outside_area", {**classes, "unallocated_other": 6}) == 0


def test_a_class_at_its_lp_bound_is_proved_without_search_and_the_gap_is_zero() -> None:
    from allocator.engine.solve import solve
    from allocator.problems.daily import build_plan

    state = one_room_two_long_waits()
    result = solve(state, Settings(time_limit=10))
    assert "unallocated_statutory: optimal (meets its bound without search)" in result.stages
    assert result.tiers["unallocated_statutory"] == TierResult(80, 80, True)
    plan = build_plan(state, result.decisions, status="optimal", bound=result.bounds)
    assert plan.gap == 0.0


def test_the_gap_is_in_waiting_weight_throughout() -> None:
    # A plan placing only Z leaves 160 of the 166 of waiting weight without a worker
    # and places 6, against a bound of 80: it could place at best 6 + 80 more; it
    # misses 80 of those 86.
    from allocator.domain.objectives import daily_tiers, evaluate
    from allocator.domain.result import relative_gap

    state = one_room_two_long_waits()
    values = evaluate(state, {"Z": "B"})
    assert values["unallocated_statutory"] == 160
    bound = {**values, "unallocated_statutory": 80}
    gap = relative_gap(values, bound, daily_tiers(state.policy), waiting=166)
    assert gap == round(80 / 86, 6)
