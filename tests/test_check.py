"""check_plan: for each rule, a plan that satisfies it and a plan that breaks it.

Every instance is a hand-built snapshot of 2-4 cases on 2026-11-23 under the default
policy unless a test says otherwise. Weights are given explicitly so the arithmetic
in each comment is easy to follow.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from allocator.contract.models import (
    Assignment,
    Plan,
    Snapshot,
    Unallocated,
    UnallocatedCode,
    WorkerLoad,
)
from allocator.contract.policy import Policy
from allocator.explain.check import RULES, SUMMARIES, Violation, check_plan, points, stale_summaries
from tests.builders import case, snapshot, worker

AS_OF = date(2026, 11, 23)
LEFT = date(2026, 11, 20)


def plan(
    assign: list[tuple[str, str, str | None]] | None = None,
    unallocated: list[str] | None = None,
    **fields: Any,
) -> Plan:
    """A plan from ``(case, worker, from)`` triples and unallocated case ids."""
    values: dict[str, Any] = {"as_of": AS_OF, "status": "optimal"}
    values.update(fields)
    return Plan(
        assignments=tuple(Assignment(case=c, worker=w, from_=f) for c, w, f in assign or []),
        unallocated=tuple(
            Unallocated(case=c, code=UnallocatedCode.NO_CAPACITY, reason="-")
            for c in unallocated or []
        ),
        **values,
    )


def rules(violations: list[Violation]) -> list[str]:
    return [v.rule for v in violations]


# Base instance: P1 a social worker (cap 100, empty), P2 an NQSW on 0.5 FTE
# (cap 100 x 0.5 x 0.8 = 40, empty), P3 left on 2026-11-20 and still holds C2.
# R1 is a new referral. Cases needing a worker: R1 (no worker) and C2 (gone worker).
BASE = snapshot(
    [worker("P1"), worker("P2", grade="nqsw", fte=0.5), worker("P3", leaving_on=LEFT)],
    [case("R1"), case("C2", worker="P3")],
)
VALID = [("R1", "P1", None), ("C2", "P1", "P3")]


def check(snap: Snapshot, p: Plan, policy: Policy | None = None) -> list[Violation]:
    return check_plan(snap, policy or Policy(), p)


def stale(snap: Snapshot, p: Plan, policy: Policy | None = None) -> list[Violation]:
    return stale_summaries(snap, policy or Policy(), p)


# ------------------------------------------------------------------ whole plans


def test_valid_plan_with_table_and_objective_has_no_violation() -> None:
    # P1 gets R1 and C2: 0 -> 6 points, 0 -> 2 cases; P3 loses C2: 3 -> 0, 1 -> 0.
    # One change of worker (C2 off P3), nobody left unallocated.
    table = (
        WorkerLoad(
            id="P1", capacity=100, load_before=0, load_after=6, cases_before=0, cases_after=2
        ),
        WorkerLoad(
            id="P3", capacity=100, load_before=3, load_after=0, cases_before=1, cases_after=0
        ),
    )
    objective = {
        "unallocated_urgent": 0,
        "unallocated_statutory": 0,
        "unallocated_other": 0,
        "unallocated": 0,
        "changes_of_worker": 1,
        "allocated": 2,
        "siblings_apart": 0,
        "not_a_tier": 99,
    }
    assert check(BASE, plan(VALID, workers=table, objective=objective)) == []
    assert stale(BASE, plan(VALID, workers=table, objective=objective)) == []


def test_leaving_everything_unallocated_is_valid() -> None:
    # Unallocating is always allowed; it breaks no hard rule.
    assert check(BASE, plan([], ["R1", "C2"])) == []


def test_rule_ids_are_the_documented_ones() -> None:
    assert RULES == (
        "as_of",
        "conservation",
        "unknown_worker",
        "gone_worker",
        "availability",
        "grade",
        "skills",
        "excluded_worker",
        "pinned_worker",
        "from_mismatch",
        "handover",
        "capacity",
        "intake_limit",
    )
    assert SUMMARIES == ("workers_table", "objective", "days_waiting", "status")


def test_as_of_must_match() -> None:
    assert rules(check(BASE, plan(VALID, as_of=date(2026, 11, 24)))) == ["as_of"]


def test_order_is_deterministic_and_by_rule() -> None:
    # R1 to an unknown worker, C2 missing entirely: conservation first, then the
    # assignment's unknown_worker, then gone_worker (P3 still holds C2).
    p = plan([("R1", "P9", None)])
    first = check(BASE, p)
    assert first == check(BASE, p)
    assert rules(first) == ["conservation", "unknown_worker", "gone_worker"]


# ------------------------------------------------------------------ conservation


def test_conservation_missing_case() -> None:
    # C2 needs a worker (P3 has left) but is in neither list.
    found = check(BASE, plan([("R1", "P1", None)]))
    assert ("conservation", "C2") in [(v.rule, v.case) for v in found]
    assert any("neither" in v.message and "P3" in v.message for v in found)


def test_conservation_case_listed_twice() -> None:
    found = check(BASE, plan(VALID, ["R1"]))
    assert rules(found) == ["conservation"]
    assert found[0].case == "R1"
    assert "2 times" in found[0].message


def test_conservation_unknown_case() -> None:
    found = check(BASE, plan([*VALID, ("X9", "P1", None)]))
    assert rules(found) == ["conservation"]
    assert found[0].message == "X9 is not a case in the snapshot"


@pytest.mark.parametrize("reason", ["", "   ", "\n\t"])
def test_conservation_an_unallocated_case_without_a_reason(reason: str) -> None:
    # FORMAT.md: every case ending with no worker is listed "with a machine-readable
    # code and a sentence a team manager can act on". Before, a hand-made plan whose
    # unallocated R1 said nothing passed check with no violation.
    snap = snapshot([worker("P1")], [case("R1")])
    silent = plan().model_copy(
        update={"unallocated": (Unallocated(case="R1", code="my_code", reason=reason),)}
    )
    found = check(snap, silent)
    assert rules(found) == ["conservation"]
    assert found[0].case == "R1"
    assert found[0].message == (
        "R1 is listed as unallocated with no reason; each case left without a worker "
        "says why, in words a manager can act on"
    )
    assert check(snap, plan(unallocated=["R1"])) == []  # any reason, any code: valid


def test_conservation_unallocating_a_case_that_keeps_its_worker() -> None:
    snap = snapshot([worker("P1")], [case("R1"), case("C5", worker="P1")])
    found = check(snap, plan([("R1", "P1", None)], ["C5"]))
    assert rules(found) == ["conservation"]
    assert found[0].case == "C5"


def test_conservation_assignment_that_changes_nothing() -> None:
    snap = snapshot([worker("P1")], [case("R1"), case("C5", worker="P1")])
    found = check(snap, plan([("R1", "P1", None), ("C5", "P1", "P1")]))
    assert rules(found) == ["conservation"]


def test_move_of_a_case_that_needs_no_worker_is_allowed() -> None:
    # C5 is with P1 (present, under cap): moving it to P2 is a move, allowed when
    # `from` names P1.
    snap = snapshot([worker("P1"), worker("P2")], [case("R1"), case("C5", worker="P1")])
    assert check(snap, plan([("R1", "P1", None), ("C5", "P2", "P1")])) == []


# ------------------------------------------------------------- who may hold what


def test_unknown_worker() -> None:
    found = check(BASE, plan([("R1", "P9", None), ("C2", "P1", "P3")]))
    assert rules(found) == ["unknown_worker"]
    assert found[0].message == "R1 is assigned to P9, who is not among the practitioners"


def test_gone_worker_assigned() -> None:
    # R1 to P3, who left on 2026-11-20.
    found = check(BASE, plan([("R1", "P3", None), ("C2", "P1", "P3")]))
    assert rules(found) == ["gone_worker"]
    assert (found[0].case, found[0].worker) == ("R1", "P3")
    assert "2026-11-20" in found[0].message


def test_gone_worker_still_holding_after_the_plan() -> None:
    # C2 is listed nowhere, so P3 (gone) still holds it after the plan.
    found = check(BASE, plan([("R1", "P1", None)]))
    gone = [v for v in found if v.rule == "gone_worker"]
    assert [(v.case, v.worker) for v in gone] == [("C2", "P3")]
    assert gone[0].message == "P3 left on 2026-11-20 but still holds C2 after the plan"


@pytest.mark.parametrize(
    ("fields", "ok"),
    [
        ({"available_from": date(2026, 12, 1)}, False),  # absent on as_of
        ({"available_from": AS_OF}, True),  # back today
        ({"leaving_on": date(2026, 12, 10)}, False),  # leaves within 28 days
        ({"leaving_on": date(2026, 12, 22)}, True),  # 29 days away
    ],
)
def test_availability(fields: dict[str, Any], ok: bool) -> None:
    snap = snapshot([worker("P1"), worker("P4", **fields)], [case("R1"), case("R2")])
    found = check(snap, plan([("R1", "P4", None), ("R2", "P1", None)]))
    assert rules(found) == ([] if ok else ["availability"])


@pytest.mark.parametrize(
    ("fields", "ok"),
    [
        ({"complexity": 2}, True),  # an NQSW holds up to complexity 2
        ({"complexity": 3}, False),  # ... not 3
        ({"type": "court", "complexity": 1}, False),  # ... and never court work
    ],
)
def test_grade(fields: dict[str, Any], ok: bool) -> None:
    snap = snapshot([worker("P2", grade="nqsw")], [case("R1", **fields)])
    found = check(snap, plan([("R1", "P2", None)]))
    assert rules(found) == ([] if ok else ["grade"])


def test_grade_message_names_the_ceiling() -> None:
    snap = snapshot([worker("P2", grade="nqsw")], [case("R1", complexity=3)])
    (found,) = check(snap, plan([("R1", "P2", None)]))
    assert (
        found.message
        == "R1 is assigned to P2, but complexity 3 is above 2, the most an nqsw may hold"
    )


@pytest.mark.parametrize(("skills", "ok"), [(("welsh",), True), (("court",), False)])
def test_skills(skills: tuple[str, ...], ok: bool) -> None:
    snap = snapshot([worker("P1", skills=skills)], [case("R1", needs=("welsh",))])
    found = check(snap, plan([("R1", "P1", None)]))
    assert rules(found) == ([] if ok else ["skills"])


@pytest.mark.parametrize(("to", "ok"), [("P2", True), ("P1", False)])
def test_excluded_worker(to: str, ok: bool) -> None:
    snap = snapshot([worker("P1"), worker("P2")], [case("R1", excluded_workers=("P1", "X7"))])
    found = check(snap, plan([("R1", to, None)]))
    assert rules(found) == ([] if ok else ["excluded_worker"])


@pytest.mark.parametrize(("to", "ok"), [("P2", True), ("P1", False)])
def test_pinned_worker(to: str, ok: bool) -> None:
    snap = snapshot([worker("P1"), worker("P2")], [case("R1", pinned_worker="P2")])
    found = check(snap, plan([("R1", to, None)]))
    assert rules(found) == ([] if ok else ["pinned_worker"])


@pytest.mark.parametrize(
    ("triples", "ok"),
    [
        ([("R1", "P1", None), ("C2", "P1", "P3")], True),
        ([("R1", "P1", None), ("C2", "P1", None)], False),  # C2's worker is P3
        ([("R1", "P1", "P3"), ("C2", "P1", "P3")], False),  # R1 has no worker
    ],
)
def test_from_mismatch(triples: list[tuple[str, str, str | None]], ok: bool) -> None:
    found = check(BASE, plan(triples))
    assert rules(found) == ([] if ok else ["from_mismatch"])


# ----------------------------------------------------------------- loads and intake


@pytest.mark.parametrize(("weight", "ok"), [(40.0, True), (40.01, False)])
def test_capacity(weight: float, ok: bool) -> None:
    # P2 (NQSW, 0.5 FTE) has a cap of 100 x 0.5 x 0.8 = 40 points; 40.01 is one
    # centi-point over.
    snap = snapshot([worker("P2", grade="nqsw", fte=0.5)], [case("R1", weight=weight)])
    found = check(snap, plan([("R1", "P2", None)]))
    assert rules(found) == ([] if ok else ["capacity"])
    if not ok:
        assert found[0].message == "P2 ends at 40.01 points, over the cap of 40.0"


def test_capacity_message_example() -> None:
    # P12 holds 100 points and gets 4.5 more: 104.5 over a cap of 100.
    snap = snapshot(
        [worker("P12")], [case("C1", worker="P12", weight=100.0), case("R1", weight=4.5)]
    )
    (found,) = check(snap, plan([("R1", "P12", None)]))
    assert found.message == "P12 ends at 104.5 points, over the cap of 100.0"


def test_capacity_over_before_takes_nothing_new() -> None:
    # P1's cap is overridden to 10 and they hold 12 points; moving C2 (8) off them
    # brings them to 4, but they were over capacity, so R1 (3) may not go to them.
    snap = snapshot(
        [worker("P1", capacity_points=10), worker("P2")],
        [case("C1", worker="P1", weight=4.0), case("C2", worker="P1", weight=8.0), case("R1")],
    )
    found = check(snap, plan([("C2", "P2", "P1"), ("R1", "P1", None)]))
    assert rules(found) == ["capacity"]
    assert "already over capacity" in found[0].message


@pytest.mark.parametrize(("families", "ok"), [(3, True), (4, False)])
def test_intake_limit(families: int, ok: bool) -> None:
    # Four new referrals to P1. With `families` distinct families among them P1 takes
    # that many new families; the default limit is 3.
    fams = [f"F{i % families}" for i in range(4)]
    cases = [case(f"R{i}", family=fams[i]) for i in range(4)]
    snap = snapshot([worker("P1")], cases)
    found = check(snap, plan([(f"R{i}", "P1", None) for i in range(4)]))
    assert rules(found) == ([] if ok else ["intake_limit"])


def test_intake_limit_counts_only_families_new_to_the_worker() -> None:
    # Four referrals from four families, but P1 already holds C0 of family FR0, so
    # only three families are new to P1.
    cases = [case(f"R{i}") for i in range(4)] + [case("C0", family="FR0", worker="P1")]
    snap = snapshot([worker("P1")], cases)
    assert check(snap, plan([(f"R{i}", "P1", None) for i in range(4)])) == []


def test_intake_limit_follows_the_policy() -> None:
    snap = snapshot([worker("P1")], [case("R1"), case("R2")])
    found = check(
        snap, plan([("R1", "P1", None), ("R2", "P1", None)]), Policy(max_new_families_per_day=1)
    )
    assert rules(found) == ["intake_limit"]
    assert "over the limit of 1" in found[0].message


# ----------------------------------------------------------------- reported figures


def _rows(load_after: float = 6.0) -> tuple[WorkerLoad, ...]:
    return (
        WorkerLoad(
            id="P1",
            capacity=100,
            load_before=0,
            load_after=load_after,
            cases_before=0,
            cases_after=2,
        ),
        WorkerLoad(
            id="P3", capacity=100, load_before=3, load_after=0, cases_before=1, cases_after=0
        ),
    )


@pytest.mark.parametrize(("load_after", "ok"), [(6.0, True), (6.01, True), (6.5, False)])
def test_workers_table_figures(load_after: float, ok: bool) -> None:
    # P1 ends at 3 + 3 = 6 points; 0.01 points of rounding is tolerated.
    assert check(BASE, plan(VALID, workers=_rows(load_after))) == []
    found = stale(BASE, plan(VALID, workers=_rows(load_after)))
    assert rules(found) == ([] if ok else ["workers_table"])


@pytest.mark.parametrize(
    ("where", "given", "found"),
    [
        # C2's worker P3 left on 2026-11-20: C2 has waited 3 days on 2026-11-23.
        ("assignments", 3, []),
        ("assignments", 30, ["C2's days_waiting is given as 30 but recomputes to 3"]),
        ("unallocated", 0, ["C2's days_waiting is given as 0 but recomputes to 3"]),
        ("unallocated", None, []),  # left out: nothing to compare
    ],
)
def test_days_waiting_figures(where: str, given: int | None, found: list[str]) -> None:
    # A stale wait is a stale figure, not a broken rule: a manager reading "waited 30
    # days" of a child who waited 3 is misled, so check says so.
    if where == "assignments":
        rows = {
            "assignments": (
                Assignment(case="R1", worker="P1"),
                Assignment(case="C2", worker="P1", from_="P3", days_waiting=given),
            )
        }
    else:
        rows = {
            "assignments": (Assignment(case="R1", worker="P1"),),
            "unallocated": (
                Unallocated(case="C2", code="no_capacity", reason="-", days_waiting=given),
            ),
        }
    p = Plan(as_of=AS_OF, status="optimal", **rows)
    assert check(BASE, p) == []
    stale_found = stale(BASE, p)
    assert [v.message for v in stale_found] == found
    assert all(v.rule == "days_waiting" and v.case == "C2" for v in stale_found)


def test_workers_table_needs_a_row_per_changed_worker() -> None:
    # P3's load changes (3 -> 0) but only P1 has a row.
    found = stale(BASE, plan(VALID, workers=_rows()[:1]))
    assert rules(found) == ["workers_table"]
    assert found[0].worker == "P3"


def test_workers_table_counts_and_unknown_rows() -> None:
    bad = (
        *_rows()[:1],
        WorkerLoad(
            id="P3", capacity=100, load_before=3, load_after=0, cases_before=1, cases_after=1
        ),
        WorkerLoad(
            id="P9", capacity=100, load_before=0, load_after=0, cases_before=0, cases_after=0
        ),
    )
    found = stale(BASE, plan(VALID, workers=bad))
    assert [(v.rule, v.worker) for v in found] == [
        ("workers_table", "P3"),
        ("workers_table", "P9"),
    ]


@pytest.mark.parametrize(
    ("objective", "ok"),
    [
        ({"unallocated": 1, "allocated": 1, "changes_of_worker": 0}, True),
        ({"unallocated": 0}, False),
        ({"changes_of_worker": 1}, False),
    ],
)
def test_objective(objective: dict[str, int], ok: bool) -> None:
    # R1 placed with P1, C2 left unallocated: 1 unallocated, 1 allocated, no change
    # of worker (only placements off a worker who left count).
    p = plan([("R1", "P1", None)], ["C2"], objective=objective)
    assert check(BASE, p) == []  # a stale total breaks no rule
    assert rules(stale(BASE, p)) == ([] if ok else ["objective"])


def test_points_formatting() -> None:
    assert [points(u) for u in (10450, 225, 0, -150, 4000)] == [
        "104.5",
        "2.25",
        "0.0",
        "-1.5",
        "40.0",
    ]


@pytest.mark.parametrize(
    ("objective", "ok"),
    [
        ({"changes_of_worker": 1}, True),
        ({"changes_of_worker": 7}, False),
        # A rebalance's own tiers, judged as the rebalance counts them: C5 (child in
        # need, no change this year) moves P1 -> P2 at a cost of 10; P1 was not over
        # cap, so the family is none the rebalance had to touch (siblings_apart 0).
        ({"changes_of_worker": 1, "weighted_changes": 10, "siblings_apart": 0}, True),
        ({"changes_of_worker": 1, "weighted_changes": 11}, False),
        ({"weighted_changes": 10, "over_cap_excess": 1.0}, False),
    ],
)
def test_the_objective_of_moves_and_of_a_rebalance_is_checked(
    objective: dict[str, float], ok: bool
) -> None:
    # Moving C5 (which needs no worker) is a move; the figures a plan reports for it
    # are recomputed on its placements, the rebalance's tiers (weighted_changes ...)
    # for a plan that reports them. Before, such a plan's objective went unchecked.
    snap = snapshot([worker("P1"), worker("P2")], [case("C5", worker="P1")])
    p = plan([("C5", "P2", "P1")], objective=objective)
    assert check(snap, p) == []
    assert rules(stale(snap, p)) == ([] if ok else ["objective"])


def test_diff_never_calls_a_plan_that_breaks_a_hard_rule_the_better() -> None:
    # A fresh user's hand edit took a worker over cap and `diff --snapshot` called it
    # the better plan (it left fewer children unallocated). P1 has room for one child of
    # 3 points in 4: plan A places one, plan B both (6 points, over the cap).
    from rich.console import Console

    from allocator.present.analysis import diff_plans
    from allocator.present.terminal import render_diff
    from allocator.problems.daily import allocate

    snap = snapshot([worker("P1", capacity_points=4.0)], [case("C1"), case("C2")])
    a = allocate(snap, time_limit=30, work_units=0.5)
    assert [x.case for x in a.assignments] == ["C1"] or [x.case for x in a.assignments] == ["C2"]
    both = tuple(Assignment(case=c, worker="P1") for c in ("C1", "C2"))
    b = a.model_copy(update={"assignments": both, "unallocated": ()})
    diff = diff_plans(a, b, snap, Policy())
    assert diff.better == "a" and not diff.broken_a
    assert diff.broken_b and diff.broken_b[0].startswith("capacity: ")
    console = Console(width=200, record=True)
    render_diff(diff, console)
    text = console.export_text()
    assert "plan B breaks 1 hard rule (capacity: 1) against the snapshot: capacity: " in text
    assert "better: plan A, the only one within the hard rules" in text
    # Both broken: neither is called better. Without a snapshot nothing can be checked.
    assert diff_plans(b, b, snap, Policy()).better is None
    assert diff_plans(a, b).broken_b == ()


def test_a_plan_saying_optimal_beside_an_unproved_tier_is_a_stale_summary() -> None:
    from allocator.explain.check import stale_summaries

    p = plan(VALID)
    said = p.model_copy(update={"status": "optimal", "proved": {"siblings_apart": False}})
    stale = [v for v in stale_summaries(BASE, Policy(), said) if v.rule == "status"]
    assert [v.message for v in stale] == [
        "the plan says optimal, but its own proved list leaves siblings_apart unproved"
    ]
    honest = p.model_copy(update={"status": "feasible", "proved": {"siblings_apart": False}})
    assert not [v for v in stale_summaries(BASE, Policy(), honest) if v.rule == "status"]
