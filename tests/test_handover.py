"""Handovers planned ahead and the look-ahead tier (issue 13, items 3 and 4).

Hand-checkable services: a leaver with three children, a worker starting a long
absence, and a court case choosing between a permanent and an agency worker.
"""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path

import pytest

from allocator.contract.models import Assignment, Handover, Plan
from allocator.contract.policy import Policy
from allocator.domain.objectives import evaluate, expected_changes_cost
from allocator.domain.rules import ServiceState, handover_day
from allocator.explain.check import check_plan
from allocator.problems.daily import allocate
from allocator.problems.rebalancing import rebalance
from tests.builders import AS_OF, case, snapshot, worker

# AS_OF is Monday 2026-11-23. P1's last day is Friday 2026-12-11: 18 days ahead,
# inside the 28-day leaving window. On 2026-12-11 P1 has gone (``is_gone``), so the
# handover is the last weekday before it: Thursday 2026-12-10, 17 days' notice.
LEAVES = date(2026, 12, 11)
HANDOVER_DAY = date(2026, 12, 10)


def leaver_service():  # type: ignore[no-untyped-def]
    """P1 leaves holding C1 and C2 (siblings, family F1) and C3 (family F3), 3 points each.

    P2 holds C9, C3's sibling, with room for one more child (cap 6, load 3). P3 is
    empty. Fewest changes: all three must change (3). Siblings: C3 joins C9 with P2
    (family F3 then has one worker); C1 and C2 move together to P3 (P2 has no room
    for them).
    """
    return snapshot(
        [
            worker("P1", leaving_on=LEAVES),
            worker("P2", capacity_points=6.0),
            worker("P3"),
        ],
        [
            case("C1", family="F1", worker="P1"),
            case("C2", family="F1", worker="P1"),
            case("C3", family="F3", worker="P1"),
            case("C9", family="F3", worker="P2"),
        ],
    )


def test_handover_day_is_the_last_weekday_before_the_worker_goes() -> None:
    assert handover_day(AS_OF, LEAVES) == HANDOVER_DAY
    # Leaving on a Monday: handed over the Friday before.
    assert handover_day(AS_OF, date(2026, 12, 7)) == date(2026, 12, 4)
    # Leaving tomorrow: handed over today (no earlier day is left).
    assert handover_day(AS_OF, date(2026, 11, 24)) == AS_OF


def test_a_leaver_with_three_children_gets_handovers_planned_ahead() -> None:
    snap = leaver_service()
    plan = rebalance(snap, time_limit=10)
    # Nothing moves today: the children stay with P1 until the handover day.
    assert plan.assignments == () and plan.unallocated == ()
    got = {h.case: (h.worker, h.from_, h.on, h.departs, h.notice_days) for h in plan.handovers}
    assert got == {
        "C1": ("P3", "P1", HANDOVER_DAY, LEAVES, 17),
        "C2": ("P3", "P1", HANDOVER_DAY, LEAVES, 17),
        "C3": ("P2", "P1", HANDOVER_DAY, LEAVES, 17),
    }
    assert plan.objective["handovers_unplanned"] == 0
    assert plan.objective["changes_of_worker"] == 3
    assert plan.objective["siblings_apart"] == 0
    assert check_plan(snap, Policy(), plan) == []
    # Round trip through JSON keeps the section (``from`` by its alias).
    again = Plan.model_validate_json(plan.model_dump_json(by_alias=True))
    assert again.handovers == plan.handovers


def test_check_judges_the_receiver_of_a_handover() -> None:
    snap = leaver_service()
    plan = rebalance(snap, time_limit=10)
    # All three to P2, who has room for one: capacity broken at the end of the plan.
    crowded = plan.model_copy(
        update={"handovers": tuple(h.model_copy(update={"worker": "P2"}) for h in plan.handovers)}
    )
    assert "capacity" in {v.rule for v in check_plan(snap, Policy(), crowded)}
    # A handover on the leaving day itself is too late.
    late = plan.model_copy(
        update={
            "handovers": tuple(
                h.model_copy(update={"on": LEAVES, "notice_days": 18}) for h in plan.handovers
            )
        }
    )
    assert {v.rule for v in check_plan(snap, Policy(), late)} == {"handover"}
    # A notice that does not match the day says which side of as_of the day falls
    # ("-3 days after" was a fresh user's reading).
    early = plan.model_copy(
        update={"handovers": (plan.handovers[0].model_copy(update={"on": date(2026, 11, 20)}),)}
    )
    said = [v.message for v in check_plan(snap, Policy(), early) if v.rule == "handover"]
    assert "C1's notice is given as 17 days, but 2026-11-20 is 3 days before 2026-11-23" in said
    today = plan.model_copy(
        update={"handovers": (plan.handovers[0].model_copy(update={"on": AS_OF}),)}
    )
    said = [v.message for v in check_plan(snap, Policy(), today) if v.rule == "handover"]
    assert (
        "C1's notice is given as 17 days, but 2026-11-23 is as_of itself (0 days' notice)" in said
    )
    # A handover of a child whose worker is staying.
    stray = Handover(
        case="C9", worker="P3", **{"from": "P2"}, on=AS_OF, departs=LEAVES, notice_days=0
    )
    wrong = plan.model_copy(update={"handovers": (*plan.handovers, stray)})
    assert "handover" in {v.rule for v in check_plan(snap, Policy(), wrong)}


def test_a_planned_long_absence_gets_handovers_and_the_worker_no_new_case() -> None:
    # P1 starts 39 weeks' maternity leave on Wednesday 2026-12-16 (23 days ahead).
    snap = snapshot(
        [
            worker("P1", absence_from=date(2026, 12, 16), absence_until=date(2027, 9, 15)),
            worker("P2"),
        ],
        [case("C1", worker="P1"), case("R1")],
    )
    state = ServiceState.of(snap, Policy())
    assert state.departing == {"P1": date(2026, 12, 16)}
    assert state.eligible("R1") == ["P2"]  # no new case to P1
    plan = rebalance(snap, time_limit=10)
    assert [(h.case, h.worker, h.on, h.notice_days) for h in plan.handovers] == [
        ("C1", "P2", date(2026, 12, 15), 22)
    ]
    assert check_plan(snap, Policy(), plan) == []


def test_an_earlier_handover_is_honoured_unless_something_changed() -> None:
    # P2 and P3 could each take C1; the earlier plan chose P3 and is kept.
    snap = snapshot(
        [worker("P1", leaving_on=LEAVES), worker("P2"), worker("P3")],
        [case("C1", worker="P1")],
    )
    assert rebalance(snap, time_limit=10, planned={"C1": "P3"}).handovers[0].worker == "P3"
    assert rebalance(snap, time_limit=10, planned={"C1": "P2"}).handovers[0].worker == "P2"
    # The promised receiver now leaves too: planned afresh.
    gone = snap.model_copy(
        update={
            "practitioners": (
                worker("P1", leaving_on=LEAVES),
                worker("P2"),
                worker("P3", leaving_on=date(2026, 12, 1)),
            )
        }
    )
    assert rebalance(gone, time_limit=10, planned={"C1": "P3"}).handovers[0].worker == "P2"
    # The promised receiver is no longer on the staff list at all (left, and taken off
    # the books): planned afresh, where it used to stop the rebalance with a KeyError.
    assert rebalance(snap, time_limit=10, planned={"C1": "X9"}).handovers[0].worker in ("P2", "P3")


def court_service(**sibling: str):  # type: ignore[no-untyped-def]
    """A court referral R1 (weight 7) and two seniors: PA agency with the most room
    (balance prefers them), PP permanent and busier. Court work is expected to run 26
    weeks: an agency worker leaves within it with chance 1 - exp(-182/365) = 39%, a
    permanent one 1 - exp(-0.159 x 182/365) = 8%.
    """
    cases = [case("R1", type="court", complexity=2, weight=7.0, family="F1")]
    cases.append(case("H1", family="F9", worker="PP", weight=50.0))
    if sibling:
        cases.append(case("S1", family="F1", **sibling))
    return snapshot(
        [worker("PA", grade="senior", contract="agency"), worker("PP", grade="senior")], cases
    )


def test_look_ahead_costs_follow_the_contract() -> None:
    state = ServiceState.of(court_service(), Policy())
    assert expected_changes_cost(state, "R1", "PA") == 39
    assert expected_changes_cost(state, "R1", "PP") == 8
    assert expected_changes_cost(state, "H1", "PA") == 0  # child in need: not long-term
    ended = court_service().model_copy(
        update={
            "practitioners": (
                worker("PA", grade="senior", contract="agency", contract_end=date(2027, 1, 31)),
                worker("PP", grade="senior"),
            )
        }
    )
    # The contract ends before the case's expected end (2027-05-24): a certain change.
    assert expected_changes_cost(ServiceState.of(ended, Policy()), "R1", "PA") == 100
    assert expected_changes_cost(ServiceState.of(ended, Policy(look_ahead=False)), "R1", "PA") == 0


def test_a_court_case_goes_to_the_permanent_worker_not_the_agency_one() -> None:
    snap = court_service()
    plan = allocate(snap, Policy(), time_limit=10)
    assert {a.case: a.worker for a in plan.assignments} == {"R1": "PP"}
    assert plan.objective["expected_changes"] == 8
    # Without the look-ahead, balance sends it to the agency worker with more room.
    off = allocate(snap, Policy(look_ahead=False), time_limit=10)
    assert {a.case: a.worker for a in off.assignments} == {"R1": "PA"}
    assert off.objective["expected_changes"] == 0


def test_look_ahead_never_costs_a_child_their_sibling_or_their_allocation() -> None:
    # R1's brother is with the agency worker: siblings come first.
    snap = court_service(worker="PA")
    plan = allocate(snap, Policy(), time_limit=10)
    assert {a.case: a.worker for a in plan.assignments} == {"R1": "PA"}
    assert plan.objective["siblings_apart"] == 0
    # The permanent worker is full: the child still gets the agency worker.
    full = court_service().model_copy(
        update={
            "cases": (
                case("R1", type="court", complexity=2, weight=7.0),
                case("H1", worker="PP", weight=98.0),
            )
        }
    )
    placed = allocate(full, Policy(), time_limit=10)
    assert {a.case: a.worker for a in placed.assignments} == {"R1": "PA"}
    assert evaluate(ServiceState.of(full, Policy()), {"R1": "PA"})["expected_changes"] == 39


def test_explain_shows_a_planned_handover() -> None:
    from allocator.present.analysis import analyse_plan, explain_case, staffing_warnings

    snap = leaver_service()
    plan = rebalance(snap, time_limit=10)
    e = explain_case(snap, Policy(), plan, "C3")
    assert (e.outcome, e.worker_before, e.worker_after) == ("handover", "P1", "P2")
    assert e.reasons[0] == "handover planned on 2026-12-10 (17 days' notice): P1 goes on 2026-12-11"
    analysis = analyse_plan(snap, Policy(), plan)
    assert analysis.violations == 0
    assert (
        "handover planned: C3 from P1 to P2 on 2026-12-10 (17 days' notice; P1 goes on 2026-12-11)"
        in (analysis.notes)
    )
    # Three handovers on their day, nobody moved today (a fresh user read "3 moved").
    assert (analysis.moved, analysis.handovers) == (0, 3)
    assert (
        "0 cases that kept a worker are moved today and 3 handed over on their day (as a "
        "rebalance or --allow-moves does); a rebalance: its own tiers are recomputed on every "
        "placement, moves and handovers included"
    ) in analysis.notes
    # Every child handed over: nothing left to warn about P1.
    assert not any(w.startswith("P1") for w in staffing_warnings(snap, Policy(), plan))


def test_a_worker_statement_says_handovers_apart_from_todays_moves() -> None:
    """A fresh user read ``explain --worker``'s "moved in from P1" as a move made today."""
    from rich.console import Console

    from allocator.present.analysis import WorkerStatement, worker_statement
    from allocator.present.terminal import render_worker

    def render_text(statement: WorkerStatement) -> str:
        console = Console(width=200, record=True, file=io.StringIO())
        render_worker(statement, console)
        return console.export_text()

    snap = leaver_service()
    plan = rebalance(snap, time_limit=10)
    receiver = worker_statement(snap, Policy(), plan, "P3")
    assert [(c.case, c.change, c.other_worker, c.on) for c in receiver.cases] == [
        ("C1", "handover_in", "P1", HANDOVER_DAY),
        ("C2", "handover_in", "P1", HANDOVER_DAY),
    ]
    leaver = worker_statement(snap, Policy(), plan, "P1")
    assert {(c.case, c.change, c.other_worker, c.on) for c in leaver.moved_off} == {
        ("C1", "handover_off", "P3", HANDOVER_DAY),
        ("C2", "handover_off", "P3", HANDOVER_DAY),
        ("C3", "handover_off", "P2", HANDOVER_DAY),
    }
    text = render_text(receiver)
    assert "handed over from P1 on 2026-12-10" in text and "moved in" not in text
    # Before any handover is planned, the leaver's children say so (a fresh user read
    # the list as settled).
    unplanned = worker_statement(snap, Policy(), plan.model_copy(update={"handovers": ()}), "P1")
    assert [(c.case, c.change) for c in unplanned.cases] == [
        ("C1", "no_handover"),
        ("C2", "no_handover"),
        ("C3", "no_handover"),
    ]
    assert "no handover planned yet" in render_text(unplanned)
    assert "P2 (handover on 2026-12-10)" in render_text(leaver)
    # A child moved today is still "moved in": the same statement on a plan moving C9.
    moved = plan.model_copy(
        update={"assignments": (Assignment(case="C9", worker="P3", reasons=("by hand",)),)}
    )
    today = worker_statement(snap, Policy(), moved, "P3")
    assert ("C9", "moved_in", "P2", None) in [
        (c.case, c.change, c.other_worker, c.on) for c in today.cases
    ]


def test_a_planned_absence_needs_both_dates(tmp_path: Path) -> None:
    import json

    from allocator.io import InputError, load_snapshot

    staff = {"team": "A", "grade": "senior", "fte": 1}
    path = tmp_path / "s.json"
    path.write_text(
        json.dumps(
            {
                "format": "caseload-snapshot/1",
                "as_of": "2026-11-23",
                "practitioners": [
                    {"id": "P1", **staff, "absence_from": "2026-12-16"},
                    {
                        "id": "P2",
                        **staff,
                        "absence_from": "2026-12-16",
                        "absence_until": "2026-12-01",
                    },
                ],
                "cases": [],
            }
        )
    )
    with pytest.raises(InputError) as caught:
        load_snapshot(path)
    assert caught.value.problems == [
        f"{path}, practitioners[0] (id P1): field 'absence_from' is '2026-12-16' but "
        "'absence_until' is null, expected both dates (a planned absence's first day and "
        "the day back) or neither.",
        f"{path}, practitioners[1] (id P2): field 'absence_until' is '2026-12-01', expected a "
        "day after 'absence_from' ('2026-12-16').",
    ]


def test_a_family_is_split_for_handovers_when_its_one_worker_with_room_is_needed() -> None:
    """P1 leaves holding siblings C1 and C2 (3 points each). Only W, the one Welsh
    speaker, has room for both (6 points); A and B have room for one each. An urgent
    referral R1 (6 points) needs Welsh: W's room is R1's (the first tier). Offered as
    one unit the family found nobody else and lost its worker on the day with no
    handover; offered one by one, each child is handed over before the day, apart
    (the siblings tier keeps them together only where one worker has room)."""
    snap = snapshot(
        [
            worker("P1", leaving_on=LEAVES),
            worker("W", capacity_points=6.0, skills=["welsh"]),
            worker("A", capacity_points=3.0),
            worker("B", capacity_points=3.0),
        ],
        [
            case("C1", family="F1", worker="P1"),
            case("C2", family="F1", worker="P1"),
            case("R1", family="F2", priority="urgent", weight=6.0, needs=["welsh"]),
        ],
    )
    plan = rebalance(snap, time_limit=10)
    assert {a.case: a.worker for a in plan.assignments} == {"R1": "W"}
    assert {h.case: h.worker for h in plan.handovers} in (
        {"C1": "A", "C2": "B"},
        {"C1": "B", "C2": "A"},
    )
    assert plan.objective["handovers_unplanned"] == 0
    assert plan.objective["siblings_apart"] == 1
    assert check_plan(snap, Policy(), plan) == []
    # Each handover says why the siblings are apart, and where the other went.
    other = {h.case: h.worker for h in plan.handovers}
    for h in plan.handovers:
        sibling = "C2" if h.case == "C1" else "C1"
        assert h.reasons[-1] == (
            f"apart from sibling(s) {sibling} to {other[sibling]}: no one worker may take "
            "all 2 of P1's children of this family (6 points) in this plan, so each gets a "
            "handover rather than none"
        )
    # With room for R1 elsewhere too, the family stays together with W.
    roomy = snap.model_copy(
        update={"practitioners": (*snap.practitioners, worker("V", skills=["welsh"]))}
    )
    together = rebalance(roomy, time_limit=10)
    receivers = {h.worker for h in together.handovers}
    assert len(receivers) == 1 and together.objective["siblings_apart"] == 0
    assert not any(r.startswith("apart from") for h in together.handovers for r in h.reasons)


def test_a_promise_broken_by_an_urgent_child_is_planned_again_elsewhere() -> None:
    """C1's handover was promised to W (the earlier plan). Today an urgent referral R1
    arrives that only W may take, and W has room for one of them: R1 takes it (a
    broken promise costs as an urgent child left, and R1 is one), and C1 gets a new
    handover to A instead of losing their worker with none on the day."""
    snap = snapshot(
        [
            worker("P1", leaving_on=LEAVES),
            worker("W", capacity_points=3.0, skills=["welsh"]),
            worker("A", capacity_points=3.0),
        ],
        [
            case("C1", worker="P1"),
            case("R1", priority="urgent", needs=["welsh"]),
        ],
    )
    # Without R1 the promise is kept.
    calm = snap.model_copy(update={"cases": snap.cases[:1]})
    kept = rebalance(calm, time_limit=10, planned={"C1": "W"})
    assert [(h.case, h.worker) for h in kept.handovers] == [("C1", "W")]
    plan = rebalance(snap, time_limit=10, planned={"C1": "W"})
    assert {a.case: a.worker for a in plan.assignments} == {"R1": "W"}
    assert [(h.case, h.worker) for h in plan.handovers] == [("C1", "A")]
    assert check_plan(snap, Policy(), plan) == []
    # The child was told of W: the plan says the promise is broken, why, and what now.
    said = (
        "C1: the handover promised to W by an earlier plan is not kept (W's room went to "
        f"R1 (urgent), who needed it); handed over to A on {HANDOVER_DAY} instead: tell the child"
    )
    assert plan.handovers[0].reasons[0] == said
    assert said in plan.notes
    # With nobody else to take C1, the plan says there is no handover yet.
    alone = snap.model_copy(update={"practitioners": snap.practitioners[:2]})
    lost = rebalance(alone, time_limit=10, planned={"C1": "W"})
    assert lost.handovers == ()
    assert any(
        n.startswith("C1: the handover promised to W") and n.endswith("no handover yet")
        for n in lost.notes
    )


def test_a_proved_rebalance_bounds_its_changes_by_their_value() -> None:
    # A fresh user read "no bound yet" beside "children who change worker 12, best 12,
    # proved": with the tier proved the bound is its value, promises kept or not.
    snap = leaver_service()
    for planned in (None, {"C1": "P3", "C2": "P3", "C3": "P2"}):
        plan = rebalance(snap, time_limit=10, planned=planned)
        assert plan.proved is not None and plan.proved["changes_of_worker"]
        assert plan.objective["changes_lower_bound"] == plan.objective["changes_of_worker"] == 3


def test_diff_lists_the_handovers_two_plans_plan_differently() -> None:
    # A fresh user's `diff` of two rebalances listed no handover: the children a
    # leaver hands over ahead are changes of worker all the same.
    from rich.console import Console

    from allocator.present.analysis import diff_plans
    from allocator.present.terminal import render_diff

    snap = leaver_service()
    plan = rebalance(snap, time_limit=10)
    handovers = {h.case: h for h in plan.handovers}
    # B: C1 goes to P2 instead, a day earlier; C2 is not handed over; C3 as in A.
    earlier = HANDOVER_DAY.replace(day=HANDOVER_DAY.day - 1)
    b = plan.model_copy(
        update={
            "handovers": (
                handovers["C1"].model_copy(update={"worker": "P2", "on": earlier}),
                handovers["C3"],
            )
        }
    )
    diff = diff_plans(plan, b)
    got = {c.case: (c.kind, c.a, c.a_on, c.b, c.b_on) for c in diff.changes}
    assert got == {
        "C1": ("different_handover", "P3", HANDOVER_DAY, "P2", earlier),
        "C2": ("handover_only_in_a", "P3", HANDOVER_DAY, None, None),
    }
    # Two rebalances side by side on the rebalance's own tiers, as they report them.
    keys = [t.key for t in diff.tiers]
    assert "changes_of_worker" in keys and "handovers_unplanned" in keys
    console = Console(width=200, record=True)
    render_diff(diff, console)
    text = console.export_text()
    assert "2 cases treated differently" in text
    assert f"P3 from {HANDOVER_DAY.isoformat()}" in text and f"P2 from {earlier}" in text
    assert "handed over only in A (B leaves it with its worker)" in text
    # With the snapshot too, two rebalances' tiers are still theirs, and the table's
    # title says so (it said "recomputed from the snapshot" above a note saying not).
    with_snapshot = diff_plans(plan, b, snap)
    assert with_snapshot.recomputed is False
    console = Console(width=200, record=True)
    render_diff(with_snapshot, console)
    assert "recomputed from the snapshot" not in console.export_text().split("note:")[0]
