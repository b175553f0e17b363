"""explain --case: the alternatives of a child left without a worker (the nearest misses
when nobody may take them), and which load each alternative's room is judged on."""

from __future__ import annotations

from rich.console import Console

from allocator.contract.models import Snapshot
from allocator.contract.policy import Policy
from allocator.present.analysis import explain_case
from allocator.present.terminal import render_case
from allocator.problems.daily import allocate
from allocator.problems.recommend import recommend
from allocator.web.app import Picture
from tests.builders import case, snapshot, worker

POLICY = Policy()


def nobody_may() -> Snapshot:
    # R needs welsh and weighs 3. P1 speaks it but has 2 points spare (cap 10, holds
    # 8); P2 has room but no welsh; P3 has neither (cap 10, holds 9). Nobody may take
    # R, before or after the plan.
    return snapshot(
        [
            worker("P1", capacity_points=10, skills=["welsh"]),
            worker("P2"),
            worker("P3", capacity_points=10),
        ],
        [
            case("H1", worker="P1", weight=8),
            case("H3", worker="P3", weight=9),
            case("R", needs=("welsh",)),
        ],
    )


def test_a_child_nobody_may_take_is_shown_the_nearest_misses_and_what_stops_each() -> None:
    snap = nobody_may()
    plan = allocate(snap, POLICY, time_limit=5)
    assert [u.case for u in plan.unallocated] == ["R"]
    why = explain_case(snap, POLICY, plan, "R")
    by_worker = {a.worker: a for a in why.alternatives}
    # The table was empty: read as "nobody came near".
    assert set(by_worker) == {"P1", "P2", "P3"}
    assert not any(a.eligible for a in why.alternatives)
    # Those the fewest rules stop come first: P3, stopped by two, last.
    assert why.alternatives[-1].worker == "P3"
    assert by_worker["P1"].why_not == (
        "once this plan is applied: P1 has 2.0 points spare and the case needs 3.0 (capacity)",
    )
    assert by_worker["P2"].why_not == ("P2 lacks welsh (skills)",)
    assert by_worker["P3"].why_not == (
        "P3 lacks welsh (skills)",
        "once this plan is applied: P3 has 1.0 points spare and the case needs 3.0 (capacity)",
    )
    # At most top of them.
    assert len(explain_case(snap, POLICY, plan, "R", top=1).alternatives) == 1
    console = Console(record=True, width=250, emoji=False)
    render_case(why, console)
    text = console.export_text()
    assert "Nobody may take the child: the nearest misses, and why not" in text
    assert "P2 lacks welsh (skills)" in text
    assert "Next-best workers" not in text


def filled_by_the_plan() -> Snapshot:
    # P1 (cap 20, holds 10: 10 points spare) is the only worker. U (urgent) and S
    # (standard) weigh 6 each: the plan gives P1 U, leaving 4 points, and S waits.
    # Before the plan P1 had room for S; once it is applied, not.
    return snapshot(
        [worker("P1", capacity_points=20)],
        [
            case("H1", worker="P1", weight=10),
            case("U", weight=6, priority="urgent"),
            case("S", weight=6),
        ],
    )


def test_an_alternatives_room_says_which_load_it_is_judged_on() -> None:
    snap = filled_by_the_plan()
    plan = allocate(snap, POLICY, time_limit=5)
    assert {a.case: a.worker for a in plan.assignments} == {"U": "P1"}
    why = explain_case(snap, POLICY, plan, "S")
    (p1,) = why.alternatives
    assert p1.eligible
    # A fresh user read "10.0 points spare" beside "4.0 points spare" and saw a
    # contradiction: each now says which load it is judged on.
    assert "before this plan: 10.0 points spare; would end at 80% of capacity" in p1.reasons
    assert p1.why_not == (
        "once this plan is applied: P1 has 4.0 points spare and the case needs 6.0 (capacity)",
    )
    assert why.to_dict()["alternatives"][0]["reasons"] == list(p1.reasons)
    # recommend says the same room in the same words: unlabelled before any plan,
    # labelled once the plan in force is applied.
    (before,) = recommend(snap, "S", POLICY).ranked
    assert "10.0 points spare; would end at 80% of capacity" in before.reasons
    assert not any("plan" in r for r in before.reasons)
    (after,) = recommend(snap, "S", POLICY, plan=plan).ineligible
    assert "once this plan is applied: 4.0 points spare; would end at 110% of capacity" in (
        after.reasons
    )


def test_the_meeting_pages_alternatives_say_their_room_is_once_the_plan_is_applied() -> None:
    # R (3 points) goes to one of two empty workers; the other is the page's alternative,
    # their room (the only reason: no area, sibling or look-ahead) on the plan's loads.
    snap = snapshot([worker("P1"), worker("P2")], [case("R")])
    plan = allocate(snap, POLICY, time_limit=5)
    (placed,) = plan.assignments
    picture = Picture.of(snap, POLICY, plan, ())
    ((other, reason),) = [(w, r) for w, r in picture.alternatives["R"] if w != placed.worker]
    assert reason == "once this plan is applied: 100.0 points spare; would end at 3% of capacity"
