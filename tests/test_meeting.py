"""Overrides and the re-solve that honours them (allocator.meeting.overrides), on tiny services.

Two workers A and B, each with room for exactly one 3-point case (cap 3 points), and
two referrals R1, R2 of 3 points each: the solver puts one case with each worker.
"""

from __future__ import annotations

import pytest
from builders import case, snapshot, worker

from allocator.contract.models import Plan, Snapshot
from allocator.contract.policy import Policy
from allocator.meeting.overrides import (
    MANAGER_UNALLOCATED,
    Override,
    OverrideError,
    apply_overrides,
    canonical_plan,
    final_workers,
    resolve,
)
from allocator.present.html_report import tiers_table
from allocator.problems.daily import allocate

POLICY = Policy()


def tight() -> Snapshot:
    return snapshot(
        [worker("A", capacity_points=3), worker("B", capacity_points=3)],
        [case("R1"), case("R2")],
    )


def roomy() -> Snapshot:
    return snapshot(
        [worker("A"), worker("B"), worker("C")],
        [case("R1"), case("R2"), case("R3")],
    )


def proposed(snap: Snapshot) -> Plan:
    return allocate(snap, POLICY, work_units=1.0)


def by(manager: str = "Ann", **fields: str | None) -> Override:
    return Override(manager=manager, reason=fields.pop("reason", None) or "why", **fields)  # type: ignore[arg-type]


def test_choose_keeps_every_other_placement() -> None:
    # Room for everyone: the chosen worker takes R1, every other case stays put.
    snap = roomy()
    plan = proposed(snap)
    before = final_workers(plan)
    other = next(w for w in "ABC" if w != before["R1"])
    result = resolve(snap, POLICY, plan, [by(case="R1", action="choose", worker=other)])
    after = final_workers(result.plan)
    assert after["R1"] == other
    assert result.moved == ()
    assert result.plan.objective["reference_changes"] == 0
    assert {c: w for c, w in after.items() if c != "R1"} == {
        c: w for c, w in before.items() if c != "R1"
    }
    reasons = next(a.reasons for a in result.plan.assignments if a.case == "R1")
    assert reasons[0] == "chosen by Ann: why"
    # Kept placements carry no "pinned by a manager" reason: those pins are not a manager's.
    assert not any(
        "by a manager" in r for a in result.plan.assignments if a.case != "R1" for r in a.reasons
    )


def test_choosing_a_full_worker_moves_what_it_must() -> None:
    # A and B each hold one case and are full: giving B's neighbour case to B forces B's
    # own case out, and that case moves to the worker just freed (one change of the
    # previous plan, the fewest possible). It is listed as what else moved.
    snap = tight()
    plan = proposed(snap)
    before = final_workers(plan)
    on_b = next(c for c, w in before.items() if w == "B")
    other = "R1" if on_b == "R2" else "R2"
    result = resolve(snap, POLICY, plan, [by(case=other, action="choose", worker="B")])
    after = final_workers(result.plan)
    assert after == {other: "B", on_b: "A"}
    assert result.plan.objective["reference_changes"] == 1
    assert [(m.case, m.before, m.after) for m in result.moved] == [(on_b, "B", "A")]


def test_exclude_keeps_the_case_off_the_worker() -> None:
    snap = roomy()
    plan = proposed(snap)
    first = final_workers(plan)["R1"]
    result = resolve(snap, POLICY, plan, [by(case="R1", action="exclude", worker=first)])
    assert final_workers(result.plan)["R1"] not in (None, first)


def test_unallocate_lists_the_case_with_the_managers_reason() -> None:
    snap = roomy()
    plan = proposed(snap)
    result = resolve(
        snap, POLICY, plan, [by(case="R2", action="unallocate", reason="family moving away")]
    )
    (gone,) = result.plan.unallocated
    assert gone.case == "R2" and gone.code == MANAGER_UNALLOCATED
    assert gone.reason == "left unallocated by Ann: family moving away"
    assert result.moved == ()


def test_later_override_of_a_case_refines_the_earlier() -> None:
    snap = roomy()
    pinned = apply_overrides(
        snap,
        [
            by(case="R1", action="choose", worker="A"),
            by(case="R1", action="exclude", worker="A"),
        ],
    )
    r1 = next(c for c in pinned.cases if c.id == "R1")
    assert r1.pinned_worker is None and r1.excluded_workers == ("A",)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"case": "NOPE", "action": "unallocate"}, "case 'NOPE' is not in the snapshot"),
        ({"case": "R1", "action": "choose", "worker": "Z"}, "worker 'Z' is not among"),
        ({"case": "R1", "action": "choose"}, "'choose' needs a worker"),
    ],
)
def test_unknown_ids_are_refused(fields: dict[str, str], message: str) -> None:
    with pytest.raises(OverrideError, match=message):
        apply_overrides(roomy(), [by(**fields)])


def test_override_needs_a_reason_and_a_name() -> None:
    with pytest.raises(ValueError):
        Override(case="R1", action="unallocate", reason="  ", manager="Ann")
    with pytest.raises(ValueError):
        Override(case="R1", action="unallocate", reason="x", manager="")


def test_canonical_plan_ignores_the_wall_clock() -> None:
    plan = proposed(roomy())
    assert canonical_plan(plan) == canonical_plan(plan.model_copy(update={"solve_seconds": 9.9}))


# ------------------------------------------------------------------ one solve, a reference


def three_pairs() -> Snapshot:
    """A, B and C have room for two 3-point cases each (cap 6); R1, R2, R3 need a worker.

    Each worker at 3 of 6 points (50 %) costs no balance; a second case takes its
    worker to 100 % and costs balance. The proposed plan gives one case to each.
    """
    return snapshot(
        [worker(w, capacity_points=6) for w in "ABC"],
        [case("R1"), case("R2"), case("R3")],
    )


def test_an_override_moves_one_case_and_nothing_else() -> None:
    # R1 goes to R2's worker Y, who then holds two (100 %): a fresh solve would ease
    # Y by moving R2 to the worker R1 left (balance); the re-solve keeps R2 and R3
    # where they were (reference_changes 0 comes before balance), and proves it.
    snap = three_pairs()
    plan = proposed(snap)
    before = final_workers(plan)
    assert sorted(before.values()) == ["A", "B", "C"]
    y = before["R2"]
    overrides = [by(case="R1", action="choose", worker=y)]
    fresh = final_workers(allocate(apply_overrides(snap, overrides), POLICY, work_units=1.0))
    assert fresh["R2"] == before["R1"]  # what the reference tier prevents
    result = resolve(snap, POLICY, plan, overrides)
    assert final_workers(result.plan) == {"R1": y, "R2": y, "R3": before["R3"]}
    assert result.moved == ()
    plan_after = result.plan
    assert plan_after.objective["reference_changes"] == 0
    assert plan_after.bound is not None and plan_after.bound["reference_changes"] == 0
    assert plan_after.proved is not None and plan_after.proved["reference_changes"]
    # The tier sits right after the priority classes in the objective, and the
    # report's tiers table shows it.
    keys = list(plan_after.objective)
    assert keys.index("reference_changes") == keys.index("unallocated") + 1
    assert "children placed differently from the plan revised" in tiers_table(plan_after, POLICY)


def waiting_urgent() -> Snapshot:
    """A (cap 6) is full with E and E2, existing cases; B (cap 9) holds F (3 points).

    U, an urgent referral, may not go to B (excluded), so it waits: A has no room.
    R, a referral of the lowest class, goes to B (6 of 9).
    """
    return snapshot(
        [worker("A", capacity_points=6), worker("B", capacity_points=9)],
        [
            case("E", worker="A"),
            case("E2", worker="A"),
            case("F", worker="B"),
            case("U", priority="urgent", excluded_workers=("B",)),
            case("R"),
        ],
    )


def test_room_an_override_frees_lets_a_waiting_urgent_child_in() -> None:
    # The manager gives E, an existing case of A's, to B (3 points of room left). That
    # frees 3 points on A: U, urgent and waiting, goes to A. R stays with B. U's
    # placement is the only other change, and it changes none of the previous plan's
    # placements (reference_changes 0).
    snap = waiting_urgent()
    plan = proposed(snap)
    assert final_workers(plan) == {"R": "B", "U": None}
    result = resolve(snap, POLICY, plan, [by(case="E", action="choose", worker="B")])
    assert final_workers(result.plan) == {"E": "B", "R": "B", "U": "A"}
    assert [(m.case, m.before, m.after) for m in result.moved] == [("U", None, "A")]
    assert result.plan.objective["reference_changes"] == 0
    assert result.plan.objective["unallocated_urgent"] == 0
    moved_e = next(a for a in result.plan.assignments if a.case == "E")
    assert moved_e.from_ == "A" and moved_e.reasons[0] == "chosen by Ann: why"


def test_reference_tier_only_with_a_reference() -> None:
    snap = three_pairs()
    plan = proposed(snap)
    assert "reference_changes" not in plan.objective
    # A reference that names a worker nobody can now use counts that change, at once
    # proved (the easy bound counts it), and the case goes elsewhere.
    pinned = apply_overrides(snap, [by(case="R1", action="exclude", worker="A")])
    again = allocate(pinned, POLICY, work_units=1.0, reference={"R1": "A", "R2": "B"})
    after = final_workers(again)
    assert after["R1"] != "A" and after["R2"] == "B"
    assert again.objective["reference_changes"] == 1
    assert again.bound is not None and again.bound["reference_changes"] == 1
