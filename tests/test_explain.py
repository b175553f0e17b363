"""Explanations: reasons for placed cases and diagnoses of unallocated ones.

Hand-built snapshots of 2-4 cases on 2026-11-23 under the default policy unless a
test says otherwise; the reasoning behind each expected sentence is in a comment.
"""

from __future__ import annotations

import ast
from datetime import date
from pathlib import Path

import pytest

from allocator.contract.models import Case, Practitioner, Snapshot, UnallocatedCode
from allocator.contract.policy import Policy
from allocator.domain.rules import ServiceState
from allocator.explain import reasons as explain
from allocator.explain.reasons import assignment_reasons, diagnose_unallocated
from tests.builders import case, worker

AS_OF = date(2026, 11, 23)


def state(
    practitioners: list[Practitioner], cases: list[Case], policy: Policy | None = None
) -> ServiceState:
    snap = Snapshot(
        format="caseload-snapshot/1",
        as_of=AS_OF,
        practitioners=tuple(practitioners),
        cases=tuple(cases),
    )
    return ServiceState.of(snap, policy or Policy())


def test_explain_does_not_import_ortools() -> None:
    tree = ast.parse(Path(explain.__file__).read_text(encoding="utf-8"))
    imported = {
        alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
    } | {node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert not any(name.startswith("ortools") for name in imported)


# ------------------------------------------------------------------ assignment reasons


def test_reason_sibling_held_before() -> None:
    # C1 (family F) stays with P2; its sibling R1 joins P2.
    s = state(
        [worker("P1"), worker("P2")], [case("C1", family="F", worker="P2"), case("R1", family="F")]
    )
    assert "sibling C1 is with P2" in assignment_reasons(s, {"R1": "P2"}, "R1")


def test_reason_sibling_placed_in_the_same_plan() -> None:
    # R1 and R2 are new siblings both placed with P1 in this plan.
    s = state([worker("P1"), worker("P2")], [case("R1", family="F"), case("R2", family="F")])
    placed = {"R1": "P1", "R2": "P1"}
    assert "sibling R2 is with P1" in assignment_reasons(s, placed, "R1")
    assert "sibling R1 is with P1" in assignment_reasons(s, placed, "R2")


def test_reason_previous_worker() -> None:
    # R1 had P2 before (P9 is former staff); P2 takes it back.
    s = state([worker("P1"), worker("P2")], [case("R1", previous_workers=("P2", "P9"))])
    reasons = assignment_reasons(s, {"R1": "P2"}, "R1")
    assert "previous worker of this child" in reasons


def test_reason_only_eligible_worker() -> None:
    # Complexity 4: only the senior P3 may hold it (P1 social worker, P2 NQSW).
    s = state(
        [worker("P1"), worker("P2", grade="nqsw"), worker("P3", grade="senior")],
        [case("R1", complexity=4)],
    )
    assert assignment_reasons(s, {"R1": "P3"}, "R1") == (
        "the only worker the rules allow with room for it",
    )


def test_reason_only_worker_with_the_needed_skills() -> None:
    # Only P2 has both welsh and court; P1 has welsh alone.
    s = state(
        [worker("P1", skills=("welsh",)), worker("P2", skills=("welsh", "court"))],
        [case("R1", needs=("welsh", "court"))],
    )
    assert assignment_reasons(s, {"R1": "P2"}, "R1") == ("only worker with welsh + court",)


def test_reason_pin_area_and_no_rival_sentence() -> None:
    s = state(
        [worker("P1"), worker("P2", areas=("north", "east"))],
        [case("R1", pinned_worker="P2", area="north")],
    )
    assert assignment_reasons(s, {"R1": "P2"}, "R1") == (
        "pinned to P2 by a manager",
        "covers the child's area (north)",
    )


def test_reason_most_spare_capacity_or_one_of() -> None:
    # P1 holds 10 points (90 spare), P2 holds 40 (60 spare): both may hold R1.
    s = state(
        [worker("P1"), worker("P2")],
        [case("C1", worker="P1", weight=10.0), case("C2", worker="P2", weight=40.0), case("R1")],
    )
    assert assignment_reasons(s, {"R1": "P1"}, "R1") == (
        "most spare capacity among the 2 eligible workers (90.0 points)",
    )
    # With P2 instead: 40 + 3 = 43 points of 100.
    assert assignment_reasons(s, {"R1": "P2"}, "R1") == (
        "one of 2 eligible workers; ends at 43% of capacity",
    )


def test_a_reason_near_the_cap_never_reads_100_percent() -> None:
    # P1 holds 50 (50 spare), P2 96.75; R1 (3 points) with P2 ends at 99.75 of 100.
    s = state(
        [worker("P1"), worker("P2")],
        [case("C1", worker="P1", weight=50.0), case("C2", worker="P2", weight=96.75), case("R1")],
    )
    assert assignment_reasons(s, {"R1": "P2"}, "R1") == (
        "one of 2 eligible workers; ends at 99.8% of capacity",
    )


def test_the_balance_tiers_words_never_read_100_percent_below_the_cap() -> None:
    from allocator.domain.objectives import daily_tiers

    s = state(
        [worker("P1"), worker("P2")],
        [case("C1", worker="P1", weight=50.0), case("C2", worker="P2", weight=96.75), case("R1")],
    )
    (balance,) = [t for t in daily_tiers(Policy()) if t.key == "balance"]
    words = balance.worse(s, "R1", "P2", "P1", 9, 0)
    assert "P2 would end at 99.8% of capacity" in words
    assert "100%" not in words


def test_reason_move_off_a_worker_who_left() -> None:
    s = state(
        [worker("P1"), worker("P40", leaving_on=date(2026, 11, 20))], [case("C1", worker="P40")]
    )
    reasons = assignment_reasons(s, {"C1": "P1"}, "C1")
    assert reasons[0] == "P40 left on 2026-11-20"
    assert "the only worker the rules allow with room for it" in reasons


def test_reasons_refuse_an_unplaced_case() -> None:
    s = state([worker("P1")], [case("R1")])
    with pytest.raises(ValueError, match="R1"):
        assignment_reasons(s, {}, "R1")


# ------------------------------------------------------------- unallocated diagnosis


def test_pinned_worker_cannot_hold_grade() -> None:
    # Pinned to the NQSW P2, who may hold complexity 2 at most.
    s = state(
        [worker("P1"), worker("P2", grade="nqsw")], [case("R1", complexity=3, pinned_worker="P2")]
    )
    d = diagnose_unallocated(s, {}, "R1")
    assert d.code is UnallocatedCode.PINNED_WORKER_CANNOT_HOLD
    assert d.reason.startswith("pinned to P2 by a manager but P2 cannot hold it")
    assert "complexity 3" in d.reason and "nqsw" in d.reason


def test_pinned_worker_cannot_hold_absent() -> None:
    s = state(
        [worker("P1"), worker("P2", available_from=date(2026, 12, 1))],
        [case("R1", pinned_worker="P2")],
    )
    d = diagnose_unallocated(s, {}, "R1")
    assert d.code is UnallocatedCode.PINNED_WORKER_CANNOT_HOLD
    assert "P2 is absent until 2026-12-01" in d.reason


def test_pinned_worker_cannot_hold_excluded_collision() -> None:
    s = state(
        [worker("P1"), worker("P3")], [case("R1", pinned_worker="P3", excluded_workers=("P3",))]
    )
    d = diagnose_unallocated(s, {}, "R1")
    assert d.code is UnallocatedCode.PINNED_WORKER_CANNOT_HOLD
    assert d.reason.startswith("rules collide: pinned to P3 but P3 is in excluded_workers")


def test_pinned_worker_cannot_hold_once_the_plan_fills_them() -> None:
    # P2's cap is 10; R2 (8 points) went to P2 in this plan, leaving 2 for R1 (3).
    s = state(
        [worker("P1"), worker("P2", capacity_points=10)],
        [case("R1", pinned_worker="P2"), case("R2", weight=8.0)],
    )
    d = diagnose_unallocated(s, {"R2": "P2"}, "R1")
    assert d.code is UnallocatedCode.PINNED_WORKER_CANNOT_HOLD
    assert "P2 has 2.0 points spare and the case needs 3.0" in d.reason


def test_no_eligible_worker_skills() -> None:
    # P1 and P3 have welsh, P2 has court, nobody both.
    s = state(
        [
            worker("P1", skills=("welsh",)),
            worker("P2", skills=("court",)),
            worker("P3", skills=("welsh",)),
        ],
        [case("R1", needs=("welsh", "court"))],
    )
    d = diagnose_unallocated(s, {}, "R1")
    assert d.code is UnallocatedCode.NO_ELIGIBLE_WORKER
    assert "needs welsh and court: 2 workers have welsh, 1 has court, none both" in d.reason


def test_no_eligible_worker_grade() -> None:
    # Complexity 4 court work: only a senior or consultant; there are none.
    s = state([worker("P1"), worker("P2", grade="nqsw")], [case("R1", type="court", complexity=4)])
    d = diagnose_unallocated(s, {}, "R1")
    assert d.code is UnallocatedCode.NO_ELIGIBLE_WORKER
    assert "complexity 4 court work needs a senior or consultant; there are none" in d.reason


def test_no_eligible_worker_exclusions() -> None:
    # Only P1 has welsh, and P1 is excluded (P2 lacks welsh).
    s = state(
        [worker("P1", skills=("welsh",)), worker("P2")],
        [case("R1", needs=("welsh",), excluded_workers=("P1",))],
    )
    d = diagnose_unallocated(s, {}, "R1")
    assert d.code is UnallocatedCode.NO_ELIGIBLE_WORKER
    assert "exclusions leave nobody: P1" in d.reason


def test_eligible_unavailable() -> None:
    # P1 is away until 1 December, P2 leaves on 10 December (within 28 days).
    s = state(
        [
            worker("P1", available_from=date(2026, 12, 1)),
            worker("P2", leaving_on=date(2026, 12, 10)),
        ],
        [case("R1")],
    )
    d = diagnose_unallocated(s, {}, "R1")
    assert d.code is UnallocatedCode.ELIGIBLE_UNAVAILABLE
    assert "P1 is absent until 2026-12-01" in d.reason
    assert "P2 leaves on 2026-12-10" in d.reason


def test_eligible_unavailable_names_five_then_counts() -> None:
    # Seven absent workers, back on 1-7 December: the five soonest are named.
    s = state(
        [worker(f"P{i}", available_from=date(2026, 12, i)) for i in range(7, 0, -1)], [case("R1")]
    )
    d = diagnose_unallocated(s, {}, "R1")
    assert d.code is UnallocatedCode.ELIGIBLE_UNAVAILABLE
    assert "P1 is absent until 2026-12-01" in d.reason
    assert "P6" not in d.reason
    assert "and 2 more" in d.reason


def test_no_capacity() -> None:
    # R1 weighs 10. P1 (cap 100) holds 92: 8 spare. P2 (cap 10) got R2 (9 points) in
    # this plan: 1 spare. Best is P1, 2 points short.
    s = state(
        [worker("P1"), worker("P2", capacity_points=10)],
        [case("C1", worker="P1", weight=92.0), case("R1", weight=10.0), case("R2", weight=9.0)],
    )
    d = diagnose_unallocated(s, {"R2": "P2"}, "R1")
    assert d.code is UnallocatedCode.NO_CAPACITY
    assert "P1 8.0 spare and P2 1.0 spare" in d.reason
    assert "P1 is 2.0 points short" in d.reason


def test_intake_limit() -> None:
    # Limit of one new family: P1 took R1 (family FR1) in this plan, so R2 of another
    # family cannot go to P1 even though P1 has room.
    s = state([worker("P1")], [case("R1"), case("R2")], Policy(max_new_families_per_day=1))
    d = diagnose_unallocated(s, {"R1": "P1"}, "R2")
    assert d.code is UnallocatedCode.INTAKE_LIMIT
    assert d.reason.startswith("P1 has room")
    assert "max_new_families_per_day" in d.reason


def test_sibling_of_a_new_family_is_not_blocked_by_intake() -> None:
    # R3 is R1's sibling: the family is already new to P1, so P1 could still take R3.
    # Leaving it out is then the search stopping early.
    s = state(
        [worker("P1")],
        [case("R1", family="F"), case("R3", family="F")],
        Policy(max_new_families_per_day=1),
    )
    d = diagnose_unallocated(s, {"R1": "P1"}, "R3")
    assert d.code is UnallocatedCode.SEARCH_LIMIT


def test_search_stopped_early() -> None:
    s = state([worker("P1")], [case("R1")])
    d = diagnose_unallocated(s, {}, "R1")
    assert d.code is UnallocatedCode.SEARCH_LIMIT
    assert d.reason == (
        "P1 had room but the search stopped before placing it; rerun with a longer --time-limit"
    )


def test_diagnosis_refuses_a_placed_case() -> None:
    s = state([worker("P1")], [case("R1")])
    with pytest.raises(ValueError, match="R1"):
        diagnose_unallocated(s, {"R1": "P1"}, "R1")


def test_no_capacity_single_eligible_worker() -> None:
    # Only P1 may hold complexity-4 work (P2 is an NQSW); P1's cap is 10, C0 takes 5
    # of it, and R1 weighs 6.
    s = state(
        [worker("P1", grade="senior", capacity_points=10), worker("P2", grade="nqsw")],
        [case("C0", worker="P1", weight=5.0), case("R1", complexity=4, weight=6.0)],
    )
    d = diagnose_unallocated(s, {}, "R1")
    assert d.code is UnallocatedCode.NO_CAPACITY
    assert d.reason.startswith(
        "needs 6.0 points but P1, the only eligible worker, has no room after this plan "
        "(P1 5.0 spare); P1 is 1.0 points short"
    )


def test_no_capacity_above_every_cap() -> None:
    # P1's cap is 5 and R1 weighs 6: no room can be made, and the sentence says so.
    s = state(
        [worker("P1", grade="senior", capacity_points=5), worker("P2", grade="nqsw")],
        [case("R1", complexity=4, weight=6.0)],
    )
    d = diagnose_unallocated(s, {}, "R1")
    assert d.code is UnallocatedCode.NO_CAPACITY
    assert d.reason.startswith(
        "needs 6.0 points, more than the cap of any worker who may hold it (the largest: "
        "P1, 5.0 points): no worker's cap can hold it, so freeing capacity cannot help"
    )


def test_no_eligible_worker_grade_and_skills_apart() -> None:
    # The senior P2 may hold complexity 4 but lacks welsh; P1 has welsh but is a social
    # worker (complexity 3 at most).
    s = state(
        [worker("P1", skills=("welsh",)), worker("P2", grade="senior")],
        [case("R1", complexity=4, needs=("welsh",))],
    )
    d = diagnose_unallocated(s, {}, "R1")
    assert d.code is UnallocatedCode.NO_ELIGIBLE_WORKER
    assert "needs a senior or consultant with welsh" in d.reason
    assert "1 is of that grade and 1 has welsh, none both" in d.reason


def test_pinned_to_a_worker_who_has_left() -> None:
    s = state(
        [worker("P1"), worker("P2", leaving_on=date(2026, 11, 20))],
        [case("R1", pinned_worker="P2")],
    )
    d = diagnose_unallocated(s, {}, "R1")
    assert d.code is UnallocatedCode.PINNED_WORKER_CANNOT_HOLD
    assert "P2 left on 2026-11-20" in d.reason


def test_diagnosis_follows_the_plan_it_is_given() -> None:
    # P1 (cap 10) alone. R1 (8) and R2 (3) cannot both fit. With nothing placed R2 could
    # go to P1 (search stopped early); once R1 is placed there is no room. The same
    # dict, changed in place, must not be answered from the earlier plan.
    s = state([worker("P1", capacity_points=10)], [case("R1", weight=8.0), case("R2")])
    placed: dict[str, str] = {}
    assert diagnose_unallocated(s, placed, "R2").code is UnallocatedCode.SEARCH_LIMIT
    placed["R1"] = "P1"
    assert diagnose_unallocated(s, placed, "R2").code is UnallocatedCode.NO_CAPACITY
    del placed["R1"]
    assert diagnose_unallocated(s, placed, "R2").code is UnallocatedCode.SEARCH_LIMIT


def test_reason_for_a_hand_made_placement_that_breaks_a_rule() -> None:
    # A manager put the complexity-3 R1 with the NQSW P2: the reason says why that is
    # unusual (check_plan reports it as a `grade` violation).
    s = state([worker("P1"), worker("P2", grade="nqsw")], [case("R1", complexity=3)])
    (reason,) = assignment_reasons(s, {"R1": "P2"}, "R1")
    assert reason.startswith("P2 would not normally be eligible: complexity 3 is above 2")


# ------------------------------------------------------------------ the plan's view


def test_no_hidden_module_state() -> None:
    # The plan's loads live in an explicit PlanView, not in a module-level cache.
    assert not hasattr(explain, "_last")


def test_a_shared_view_gives_the_same_sentences() -> None:
    # P1 cap 10 holds 5; R1 (3) goes to P1; R2 (3) cannot fit after it.
    s = state(
        [worker("P1", capacity_points=10), worker("P2", grade="nqsw")],
        [case("C1", worker="P1", weight=5.0), case("R1"), case("R2", complexity=3)],
    )
    placed = {"R1": "P1"}
    view = explain.PlanView.of(s, placed)
    assert view.load["P1"] == 800
    assert assignment_reasons(s, placed, "R1", view=view) == assignment_reasons(s, placed, "R1")
    assert view.reasons("R1") == assignment_reasons(s, placed, "R1")
    assert diagnose_unallocated(s, placed, "R2", view=view) == diagnose_unallocated(s, placed, "R2")
    assert view.diagnose("R2").code is UnallocatedCode.NO_CAPACITY


def test_a_view_of_other_placements_is_refused() -> None:
    s = state([worker("P1"), worker("P2")], [case("R1"), case("R2")])
    view = explain.PlanView.of(s, {"R1": "P1"})
    with pytest.raises(ValueError, match="another state or other placements"):
        assignment_reasons(s, {"R1": "P2"}, "R1", view=view)
    other = state([worker("P1"), worker("P2")], [case("R1"), case("R2")])
    with pytest.raises(ValueError, match="another state"):
        diagnose_unallocated(other, {"R1": "P1"}, "R2", view=view)


def test_the_view_copies_the_placements() -> None:
    s = state([worker("P1")], [case("R1")])
    placed = {"R1": "P1"}
    view = explain.PlanView.of(s, placed)
    placed.clear()
    assert view.placed == {"R1": "P1"}


# ------------------------------------------------------------- colliding rules named


def test_pin_against_grade_names_both_rules() -> None:
    s = state(
        [worker("P1"), worker("P2", grade="nqsw")], [case("R1", complexity=3, pinned_worker="P2")]
    )
    d = diagnose_unallocated(s, {}, "R1")
    assert "rules collide: pinned_worker and grade; a manager must change the pin" in d.reason


def test_pin_against_capacity_and_availability_names_them_all() -> None:
    # P2 is away and already over their cap of 5 (holds 6).
    s = state(
        [worker("P1"), worker("P2", capacity_points=5, available_from=date(2026, 12, 1))],
        [case("C1", worker="P2", weight=6.0), case("R1", pinned_worker="P2")],
    )
    d = diagnose_unallocated(s, {}, "R1")
    assert "rules collide: pinned_worker, availability and capacity" in d.reason


def test_no_eligible_worker_names_the_colliding_rules() -> None:
    # Only P1 has welsh and is excluded; P2 lacks welsh: skills and the exclusion collide.
    s = state(
        [worker("P1", skills=("welsh",)), worker("P2")],
        [case("R1", needs=("welsh",), excluded_workers=("P1",))],
    )
    d = diagnose_unallocated(s, {}, "R1")
    assert "rules collide: skills and excluded_worker" in d.reason
    # Grade alone stops everyone: one rule, no collision sentence.
    s = state([worker("P1"), worker("P2", grade="nqsw")], [case("R1", type="court", complexity=4)])
    assert "rules collide" not in diagnose_unallocated(s, {}, "R1").reason


def test_grade_and_skills_apart_collide() -> None:
    s = state(
        [worker("P1", skills=("welsh",)), worker("P2", grade="senior")],
        [case("R1", complexity=4, needs=("welsh",))],
    )
    assert "rules collide: grade and skills" in diagnose_unallocated(s, {}, "R1").reason
    assert explain.colliding_rules(s, "R1") == ("grade", "skills")


def test_worker_blockers_tag_each_rule() -> None:
    # P2: NQSW (complexity 3), lacks welsh, excluded, absent, and 1 point spare.
    s = state(
        [
            worker("P1", skills=("welsh",)),
            worker("P2", grade="nqsw", capacity_points=4, available_from=date(2026, 12, 1)),
        ],
        [
            case("C1", worker="P2", weight=3.0),
            case("R1", complexity=3, needs=("welsh",), excluded_workers=("P2",)),
        ],
    )
    rules = [b.rule for b in explain.worker_blockers(s, "R1", "P2")]
    assert rules == ["grade", "skills", "excluded_worker", "availability", "capacity"]
    assert explain.worker_blockers(s, "R1", "P1") == []


def test_worker_blockers_under_a_plan_count_its_placements() -> None:
    # Limit one new family: once R1 goes to P1, R2 (another family) is stopped by intake;
    # a capacity of 5 with R1 (3) placed leaves 2 for R2 (3).
    s = state(
        [worker("P1", capacity_points=5)],
        [case("R1"), case("R2")],
        Policy(max_new_families_per_day=1),
    )
    view = explain.PlanView.of(s, {"R1": "P1"})
    assert explain.worker_blockers(s, "R2", "P1") == []
    blockers = explain.worker_blockers(s, "R2", "P1", view)
    assert [b.rule for b in blockers] == ["capacity", "intake_limit"]
    assert blockers[0].message == "P1 has 2.0 points spare and the case needs 3.0"
    # R1's own placement does not count against it.
    assert explain.worker_blockers(s, "R1", "P1", view) == []


def test_covering_rules_prefers_forced_rules_then_the_widest() -> None:
    assert explain.covering_rules([["grade"], ["skills"]]) == ["grade", "skills"]
    assert explain.covering_rules([["grade", "skills"], ["skills", "capacity"]]) == ["skills"]
    assert explain.covering_rules([["grade"], []]) == []


@pytest.mark.parametrize(
    ("status", "advice"),
    [
        ("optimal", "would improve the plan, which says it is proved best"),
        ("feasible", "a longer --time-limit may move it"),
    ],
)
def test_why_not_never_advises_more_time_for_a_proved_plan(status: str, advice: str) -> None:
    # P1 would be better for R1 alone (a previous worker: 1 return against 0), no
    # capacity or intake stops it, yet the plan chose P2. Only a plan not proved best
    # may be improved by searching longer; a plan that says it is proved best is
    # contradicted, not excused by costs "elsewhere" (no other case took P1's room).
    from allocator.contract.models import Plan
    from allocator.explain.reasons import PlanView
    from allocator.present.analysis import _why_not
    from allocator.problems.recommend import Recommender

    s = state([worker("P1"), worker("P2")], [case("R1", previous_workers=("P1",))])
    rec = Recommender(s.snapshot, state=s)
    plan = Plan(as_of=date(2026, 11, 23), status=status)  # type: ignore[arg-type]
    mine, chosen = rec.score("R1", "P1"), rec.score("R1", "P2")
    said = _why_not(s, PlanView.of(s, {}), plan, "R1", "P1", mine, "P2", chosen, "allocated")
    assert len(said) == 1 and advice in said[0]
    assert "elsewhere" not in said[0]


def test_why_not_costs_the_plan_elsewhere_only_when_another_case_took_the_room() -> None:
    # P1 (cap 10) had R1 before: better for R1 alone than P2. But the plan gives P1
    # R2 (6 points), leaving 4 spare; R1 needs 6. That is the cost elsewhere.
    from allocator.contract.models import Plan
    from allocator.explain.reasons import PlanView
    from allocator.present.analysis import _why_not
    from allocator.problems.recommend import Recommender

    s = state(
        [worker("P1", capacity_points=10), worker("P2")],
        [case("R1", previous_workers=("P1",), weight=6.0), case("R2", weight=6.0)],
    )
    rec = Recommender(s.snapshot, state=s)
    plan = Plan(as_of=date(2026, 11, 23), status="optimal")
    placed = {"R1": "P2", "R2": "P1"}
    mine, chosen = rec.score("R1", "P1"), rec.score("R1", "P2")
    (said,) = _why_not(s, PlanView.of(s, placed), plan, "R1", "P1", mine, "P2", chosen, "allocated")
    assert said.startswith(
        "better than P2 on 'children back with a worker they know' for this case alone, but "
        "once this plan is applied: P1 has 4.0 points spare and the case needs 6.0 (capacity); "
        "the room went to R2"
    )
    assert said.endswith("would cost the plan more on this or a higher tier elsewhere")


def test_a_child_outside_the_workers_patches_hears_why_this_worker_first() -> None:
    # A fresh user read "outside P0010's patches" as the reason a child went to
    # P0010: the area is a cost the choice accepted, said after why the worker.
    from tests.builders import case, snapshot, worker

    snap = snapshot(
        [worker("P1", areas=["North"]), worker("P2", areas=["South"], capacity_points=2)],
        [case("R1", area="South")],
    )
    state = ServiceState.of(snap, Policy())
    reasons = assignment_reasons(state, {"R1": "P1"}, "R1")
    assert reasons[0] == "the only worker the rules allow with room for it"
    assert reasons[-1] == "outside P1's patches (the child's area is South)"
    # Where the worker covers the area, it is a reason and comes first.
    covered = assignment_reasons(state, {"R1": "P2"}, "R1")
    assert covered[0] == "covers the child's area (South)"


def test_who_had_room_is_read_only_from_the_search_stopped_diagnosis() -> None:
    """The rebalance and explain add "room for this child alone" after the workers who
    had room; the move limit's search_limit names none, so nothing is read from it."""
    from allocator.contract.models import Unallocated
    from allocator.explain.reasons import had_room

    stopped = Unallocated(
        case="C1",
        code="search_limit",
        reason="P1 and P2 each had room but the search stopped before placing it; rerun "
        "with a longer --time-limit",
    )
    assert had_room(stopped) == "P1 and P2 each had"
    limit = stopped.model_copy(
        update={
            "reason": "the limit of 1 change of worker (--max-moves) was reached; raise it "
            "to place this child"
        }
    )
    assert had_room(limit) is None
    assert had_room(stopped.model_copy(update={"code": "no_capacity"})) is None
