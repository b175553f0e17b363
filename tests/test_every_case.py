"""The hard rules hold for every case's worker at the end of a plan, kept cases included.

FORMAT.md: a case needs a worker when it has none, its worker has left, or its
current worker breaks a hard rule today (excluded, pinned to another, outgrown the
worker's grade). Each member of that kind is tried on the smallest instance that
shows it, through allocate, rebalance, check and explain:

- ``excluded``: P1 holds C1 and is now in C1's ``excluded_workers``;
- ``pinned``: P1 holds C1, which a manager pinned to P2;
- ``outgrown``: P1, a newly qualified worker, holds C1, care proceedings (``court``),
  which an NQSW may never hold.

In each, P2 (a senior with room) may hold C1, so the fewest changes is one: C1
moves P1 -> P2. And the managed exception: the outgrown case pinned to P1 stays with
P1, listed in the plan's ``exceptions``, and no rule is broken.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from allocator import Policy, allocate, check_plan, rebalance
from allocator.cli import main
from allocator.contract.models import Plan, Snapshot
from allocator.domain.rules import ServiceState, why_needs_worker
from allocator.io import write_json
from allocator.present.analysis import explain_case
from tests.builders import AS_OF, case, snapshot, worker

POLICY = Policy()

#: Fields of C1 (held by P1) that make P1 break a hard rule, by member of the kind.
MEMBERS: dict[str, dict[str, Any]] = {
    "excluded": {"excluded_workers": ("P1",)},
    "pinned": {"pinned_worker": "P2"},
    "outgrown": {"type": "court", "complexity": 2},
}
#: The rule id check reports for each member when a plan leaves C1 with P1.
BROKEN_RULE = {"excluded": "excluded_worker", "pinned": "pinned_worker", "outgrown": "grade"}


def service(c1: dict[str, Any], *, p2: bool = True) -> Snapshot:
    """P1 (NQSW, cap 80, holds C1 of 3 points) and, unless ``p2`` is False, P2 (senior)."""
    staff = [worker("P1", grade="nqsw")]
    if p2:
        staff.append(worker("P2", grade="senior"))
    return snapshot(staff, [case("C1", worker="P1", **c1)])


def empty_plan() -> Plan:
    """The plan that changes nothing: what every command produced before the fix."""
    return Plan(as_of=AS_OF, status="optimal")


def moves(plan: Plan) -> dict[str, tuple[str | None, str]]:
    return {a.case: (a.from_, a.worker) for a in plan.assignments}


# ------------------------------------------------------------------ the one definition


@pytest.mark.parametrize("member", MEMBERS)
def test_the_case_needs_a_worker(member: str) -> None:
    snap = service(MEMBERS[member])
    state = ServiceState.of(snap, POLICY)
    assert state.to_allocate == ["C1"]
    assert state.needs["C1"].startswith("P1 may no longer hold it: ")


def test_a_case_its_worker_may_hold_needs_none() -> None:
    # The satisfying side: a child-in-need case of complexity 2 with an NQSW.
    assert ServiceState.of(service({}), POLICY).to_allocate == []


def test_pin_to_the_current_worker_keeps_an_outgrown_case_as_an_exception() -> None:
    snap = service({**MEMBERS["outgrown"], "pinned_worker": "P1"})
    state = ServiceState.of(snap, POLICY)
    assert state.to_allocate == []
    assert state.exceptions["C1"].startswith("pinned to P1 by a manager")
    assert "court" in state.exceptions["C1"]


@pytest.mark.parametrize(
    "c1",
    [
        # A pin waives only the grade table: never needs, never an exclusion.
        {"pinned_worker": "P1", "needs": ("welsh",)},
        {"pinned_worker": "P1", "excluded_workers": ("P1",)},
    ],
)
def test_pin_to_the_current_worker_waives_nothing_else(c1: dict[str, Any]) -> None:
    snap = service(c1)
    practitioners = {p.id: p for p in snap.practitioners}
    assert why_needs_worker(snap.cases[0], practitioners, AS_OF, POLICY) is not None


def test_a_pin_never_lets_a_new_allocation_break_the_grade_table() -> None:
    # R1 (court) is new and pinned to P1, an NQSW: the pin is no exception for it.
    snap = snapshot([worker("P1", grade="nqsw")], [case("R1", type="court", pinned_worker="P1")])
    plan = allocate(snap, POLICY, time_limit=5)
    assert moves(plan) == {}
    assert [u.code for u in plan.unallocated] == ["pinned_worker_cannot_hold"]


# ------------------------------------------------------------------ allocate / rebalance


@pytest.mark.parametrize("member", MEMBERS)
def test_allocate_moves_the_case_with_one_change(member: str) -> None:
    snap = service(MEMBERS[member])
    plan = allocate(snap, POLICY, time_limit=5)
    assert moves(plan) == {"C1": ("P1", "P2")}
    assert plan.objective["changes_of_worker"] == 1
    reasons = plan.assignments[0].reasons
    assert reasons[0].startswith("P1 may no longer hold it: ")
    assert check_plan(snap, POLICY, plan) == []


@pytest.mark.parametrize("member", MEMBERS)
def test_rebalance_moves_the_case_with_one_change(member: str) -> None:
    snap = service(MEMBERS[member])
    plan = rebalance(snap, POLICY, time_limit=5)
    assert moves(plan) == {"C1": ("P1", "P2")}
    assert plan.objective["changes_of_worker"] == 1
    assert plan.assignments[0].reasons[0].startswith("P1 may no longer hold it: ")
    assert check_plan(snap, POLICY, plan) == []


@pytest.mark.parametrize("member", ["excluded", "outgrown"])
@pytest.mark.parametrize("command", ["allocate", "rebalance"])
def test_nobody_else_may_hold_it_so_it_is_unallocated(member: str, command: str) -> None:
    # Without P2 nobody may hold C1: it leaves P1 and is listed with a reason.
    snap = service(MEMBERS[member], p2=False)
    plan = (allocate if command == "allocate" else rebalance)(snap, POLICY, time_limit=5)
    assert moves(plan) == {}
    (lost,) = plan.unallocated
    assert lost.case == "C1" and lost.code == "no_eligible_worker"
    assert lost.reason.startswith("P1 may no longer hold it: ")
    assert check_plan(snap, POLICY, plan) == []
    # C1's 3 points leave P1 (the workers table says so).
    (p1,) = plan.workers
    assert (p1.load_before, p1.load_after) == (3.0, 0.0)


@pytest.mark.parametrize("command", ["allocate", "rebalance"])
def test_the_exception_stays_and_is_listed(command: str) -> None:
    snap = service({**MEMBERS["outgrown"], "pinned_worker": "P1"})
    plan = (allocate if command == "allocate" else rebalance)(snap, POLICY, time_limit=5)
    assert moves(plan) == {} and plan.unallocated == ()
    (exception,) = plan.exceptions
    assert (exception.case, exception.worker) == ("C1", "P1")
    assert check_plan(snap, POLICY, plan) == []


# ------------------------------------------------------------------ check


@pytest.mark.parametrize("member", MEMBERS)
def test_check_flags_a_plan_that_leaves_the_case(member: str) -> None:
    snap = service(MEMBERS[member])
    found = check_plan(snap, POLICY, empty_plan())
    assert [(v.rule, v.case, v.worker) for v in found] == [(BROKEN_RULE[member], "C1", "P1")]
    assert found[0].message.startswith("C1 stays with P1 after the plan, but ")


@pytest.mark.parametrize("member", MEMBERS)
def test_check_flags_an_assignment_to_the_same_worker(member: str) -> None:
    # Listing C1 with P1 changes nothing: it is still a broken rule, reported once.
    snap = service(MEMBERS[member])
    plan = Plan.model_validate(
        {
            "as_of": AS_OF,
            "status": "optimal",
            "assignments": [{"case": "C1", "worker": "P1", "from": "P1"}],
        }
    )
    assert [v.rule for v in check_plan(snap, POLICY, plan)] == [BROKEN_RULE[member]]


@pytest.mark.parametrize("member", MEMBERS)
def test_check_accepts_the_case_unallocated(member: str) -> None:
    snap = service(MEMBERS[member])
    plan = Plan.model_validate(
        {
            "as_of": AS_OF,
            "status": "optimal",
            "unallocated": [{"case": "C1", "code": "manager_review", "reason": "-"}],
        }
    )
    assert check_plan(snap, POLICY, plan) == []


def test_check_accepts_the_exception_kept() -> None:
    snap = service({**MEMBERS["outgrown"], "pinned_worker": "P1"})
    assert check_plan(snap, POLICY, empty_plan()) == []


# ------------------------------------------------------------------ explain


@pytest.mark.parametrize("member", MEMBERS)
def test_explain_says_why_a_left_case_needs_a_worker(member: str) -> None:
    snap = service(MEMBERS[member])
    e = explain_case(snap, POLICY, empty_plan(), "C1")
    assert e.outcome == "missing"
    assert e.needs_worker is not None and e.needs_worker.startswith("P1 may no longer hold it")
    assert [v.rule for v in e.violations] == [BROKEN_RULE[member]]


@pytest.mark.parametrize("member", MEMBERS)
def test_explain_agrees_with_the_plan_that_moves_it(member: str) -> None:
    snap = service(MEMBERS[member])
    plan = allocate(snap, POLICY, time_limit=5)
    e = explain_case(snap, POLICY, plan, "C1")
    assert (e.outcome, e.worker_after, e.plan_agrees) == ("moved", "P2", True)
    assert e.violations == ()


def test_explain_names_the_exception() -> None:
    snap = service({**MEMBERS["outgrown"], "pinned_worker": "P1"})
    e = explain_case(snap, POLICY, empty_plan(), "C1")
    assert e.outcome == "kept" and e.needs_worker is None
    assert e.exception is not None and e.exception.startswith("pinned to P1 by a manager")


def test_cli_check_exit_codes(tmp_path: Path) -> None:
    # The CLI end to end: the empty plan breaks the exclusion (exit 1), the
    # allocator's plan does not (exit 0).
    snap_path, plan_path = tmp_path / "snap.json", tmp_path / "plan.json"
    snap = service(MEMBERS["excluded"])
    write_json(snap_path, snap)
    write_json(plan_path, empty_plan())
    runner = CliRunner()
    broken = runner.invoke(main, ["check", str(snap_path), str(plan_path), "--json"])
    assert broken.exit_code == 1
    assert [v["rule"] for v in json.loads(broken.stdout)["violations"]] == ["excluded_worker"]
    write_json(plan_path, allocate(snap, POLICY, time_limit=5))
    ok = runner.invoke(main, ["check", str(snap_path), str(plan_path)])
    assert ok.exit_code == 0, ok.output


def test_cli_lists_the_exception_and_explains_the_case(tmp_path: Path) -> None:
    snap_path, plan_path = tmp_path / "snap.json", tmp_path / "plan.json"
    write_json(snap_path, service({**MEMBERS["outgrown"], "pinned_worker": "P1"}))
    runner = CliRunner()
    made = runner.invoke(main, ["allocate", str(snap_path), "--out", str(plan_path)])
    assert made.exit_code == 0, made.output
    assert "managed exception: C1 stays with P1: pinned to P1 by a manager" in made.stderr
    checked = runner.invoke(main, ["check", str(snap_path), str(plan_path)])
    assert checked.exit_code == 0 and "managed exception: C1" in checked.stdout
    explained = runner.invoke(
        main, ["explain", str(plan_path), "--snapshot", str(snap_path), "--case", "C1"]
    )
    assert "managed exception: pinned to P1" in explained.stdout


def test_cli_explain_says_why_the_case_needs_a_worker(tmp_path: Path) -> None:
    snap_path, plan_path = tmp_path / "snap.json", tmp_path / "plan.json"
    write_json(snap_path, service(MEMBERS["excluded"]))
    write_json(plan_path, empty_plan())
    result = CliRunner().invoke(
        main, ["explain", str(plan_path), "--snapshot", str(snap_path), "--case", "C1"]
    )
    assert result.exit_code == 0, result.output
    assert "needs a worker: P1 may no longer hold it: P1 is kept off" in result.stdout
