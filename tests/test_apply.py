"""apply: the snapshot after a plan, so tomorrow starts from today's decisions (issue 22, 7).

One hand-built service on Monday 2026-11-23 under the default policy (a full-time
social worker's cap is 100 points), and one plan written by hand, checked against
every field it changes:

- P1 left on 2026-11-20 and still holds C1 and C5; P2 holds C2; P3 holds nothing.
- P4 leaves on Friday 2026-12-11 (inside the 28-day window) holding C6: the plan hands
  C6 over to P5 on Thursday 2026-12-10, the last weekday before (17 days' notice).
- P5 leaves on 2026-12-22, outside the window, so may take C6 today.
- R1 is an urgent referral.

The plan: R1 to P3 (a first worker), C1 to P2 (moved off P1), C5 left waiting.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

import allocator
from allocator.cli import main
from allocator.contract.models import (
    Assignment,
    Case,
    Handover,
    MadeFrom,
    ManagedException,
    PendingHandovers,
    Plan,
    Snapshot,
    Unallocated,
)
from allocator.contract.policy import Policy
from allocator.explain.check import check_plan
from allocator.io import InputError, load_snapshot, write_json
from allocator.problems.apply import (
    AppliedPlan,
    PlanNotApplicable,
    applied,
    apply_plan,
    still_pending,
)
from allocator.problems.daily import allocate
from allocator.problems.recommend import recommend
from tests.builders import AS_OF, case, snapshot, worker

GONE = date(2026, 11, 20)
LEAVES = date(2026, 12, 11)
HANDOVER_DAY = date(2026, 12, 10)
RECEIVER_LEAVES = date(2026, 12, 22)


def service() -> Snapshot:
    return snapshot(
        [
            worker("P1", leaving_on=GONE),
            worker("P2"),
            worker("P3"),
            worker("P4", leaving_on=LEAVES),
            worker("P5", leaving_on=RECEIVER_LEAVES),
        ],
        [
            case("C1", worker="P1", previous_workers=("P9",), changes_last_12_months=2),
            case("C2", worker="P2"),
            case("C5", worker="P1", changes_last_12_months=1),
            case("C6", worker="P4"),
            case("R1", priority="urgent"),
        ],
    )


def handover() -> Handover:
    return Handover.model_validate(
        {
            "case": "C6",
            "worker": "P5",
            "from": "P4",
            "on": HANDOVER_DAY,
            "departs": LEAVES,
            "notice_days": 17,
        }
    )


def plan(**changes: object) -> Plan:
    fields: dict[str, object] = {
        "as_of": AS_OF,
        "status": "feasible",
        "assignments": (
            Assignment(case="R1", worker="P3"),
            Assignment.model_validate({"case": "C1", "worker": "P2", "from": "P1"}),
        ),
        "unallocated": (Unallocated(case="C5", code="no_capacity", reason="a manager's choice"),),
        "handovers": (handover(),),
    }
    fields.update(changes)
    return Plan.model_validate(fields)


def by_id(snap: Snapshot) -> dict[str, Case]:
    return {c.id: c for c in snap.cases}


def test_the_hand_made_plan_breaks_no_rule() -> None:
    assert check_plan(service(), Policy(), plan()) == []


# ------------------------------------------------------------------ every field


def test_a_first_worker_is_set_and_an_urgent_child_seen_becomes_standard() -> None:
    r1 = by_id(apply_plan(service(), plan(), Policy()))["R1"]
    # A first worker is no change of worker: nothing to put in previous_workers.
    assert (r1.worker, r1.priority.value) == ("P3", "standard")
    assert (r1.previous_workers, r1.changes_last_12_months) == ((), 0)


def test_a_move_puts_the_old_worker_first_and_counts_one_change() -> None:
    c1 = by_id(apply_plan(service(), plan(), Policy()))["C1"]
    assert c1.worker == "P2"
    assert c1.previous_workers == ("P1", "P9")
    assert c1.changes_last_12_months == 3  # 2 before, +1 for P1 -> P2
    assert c1.priority.value == "standard"


def test_a_child_left_waiting_loses_their_worker_and_is_not_counted_yet() -> None:
    c5 = by_id(apply_plan(service(), plan(), Policy()))["C5"]
    assert c5.worker is None
    assert c5.previous_workers == ("P1",)
    # As the plan's changes_of_worker: the change is the child's next worker.
    assert c5.changes_last_12_months == 1


def test_a_handover_still_to_come_leaves_the_child_with_their_worker() -> None:
    result = applied(service(), plan(), Policy())
    c6 = by_id(result.snapshot)["C6"]
    assert (c6.worker, c6.previous_workers, c6.changes_last_12_months) == ("P4", (), 0)
    assert result.pending == (handover(),)
    assert result.handed == () and result.lapsed == ()


def test_cases_the_plan_leaves_out_and_the_staff_are_as_they_were() -> None:
    before, after = service(), apply_plan(service(), plan(), Policy())
    assert by_id(after)["C2"] == by_id(before)["C2"]
    assert after.practitioners == before.practitioners  # P1 stays until the export drops them
    assert after.as_of == AS_OF
    assert [c.id for c in after.cases] == [c.id for c in before.cases]


def test_the_outcome_lists_what_happened_and_says_it_in_one_line() -> None:
    result = applied(service(), plan(), Policy())
    assert (result.placed, result.moved, result.waiting) == (("R1",), ("C1",), ("C5",))
    assert result.summary() == "1 placed, 1 moved, 1 left waiting, 1 handover pending"


def test_a_later_day_makes_the_handovers_due_by_then() -> None:
    # On 2026-12-09 the handover (on 12-10) is still to come; on 12-10 it is made.
    early = applied(service(), plan(), Policy(), as_of=date(2026, 12, 9))
    assert early.snapshot.as_of == date(2026, 12, 9) and len(early.pending) == 1
    on_the_day = applied(service(), plan(), Policy(), as_of=HANDOVER_DAY)
    c6 = by_id(on_the_day.snapshot)["C6"]
    assert (c6.worker, c6.previous_workers, c6.changes_last_12_months) == ("P5", ("P4",), 1)
    assert on_the_day.handed == ("C6",) and on_the_day.pending == ()
    assert "1 handed over" in on_the_day.summary()


def test_a_handover_whose_receiver_has_gone_by_the_day_lapses() -> None:
    # P5 leaves on 2026-12-22: on that day the handover of 12-10 is due but P5 has gone.
    result = applied(service(), plan(), Policy(), as_of=RECEIVER_LEAVES)
    assert by_id(result.snapshot)["C6"].worker == "P4"
    assert result.lapsed == (handover(),) and result.handed == ()
    assert "1 handover lapsed" in result.summary()


def test_waiting_since_is_cleared_for_a_child_placed_and_set_for_one_left_waiting() -> None:
    after = by_id(apply_plan(service(), plan(), Policy()))
    assert after["R1"].waiting_since is None
    # C5's worker P1 left on GONE: the child has waited since then (FORMAT.md), not
    # from the plan's day.
    assert after["C5"].waiting_since == GONE


@pytest.mark.parametrize(
    ("fields", "since"),
    [
        # no worker, opened 30 days ago: waiting since the opening, not from today
        ({"opened": date(2026, 10, 24)}, date(2026, 10, 24)),
        # no worker, no opening date: the wait is counted from today
        ({}, AS_OF),
        # a worker still present who may no longer hold the child: waits from today
        ({"worker": "P2", "excluded_workers": ("P2",), "opened": date(2026, 1, 5)}, AS_OF),
        # a worker who has gone: since their last day (or the opening, if later)
        ({"worker": "P1", "opened": date(2026, 1, 5)}, GONE),
    ],
)
def test_a_child_left_waiting_keeps_the_day_their_wait_began(
    fields: dict[str, object], since: date
) -> None:
    # W2 needs a worker and the plan leaves them waiting: the next day's days waited
    # go on from where today's were (docs/FORMAT.md "Waiting"), never restarted at 0.
    snap = snapshot(
        [worker("P1", leaving_on=GONE), worker("P2")],
        [case("W2", **fields)],
    )
    left = Plan.model_validate(
        {
            "as_of": AS_OF,
            "status": "feasible",
            "unallocated": [{"case": "W2", "code": "no_capacity", "reason": "full"}],
        }
    )
    assert check_plan(snap, Policy(), left) == []
    assert by_id(apply_plan(snap, left, Policy()))["W2"].waiting_since == since


def test_the_package_exports_apply_plan() -> None:
    assert allocator.apply_plan is apply_plan
    assert allocator.AppliedPlan is AppliedPlan
    assert "apply_plan" in allocator.__all__


# ------------------------------------------------------------------ tomorrow


def test_allocating_the_next_day_offers_nobody_the_plan_placed() -> None:
    # The next morning (Tuesday) from the applied snapshot: R1 and C1 have workers who
    # may hold them, so only C5 (left waiting) needs a decision.
    policy = Policy()
    tomorrow = apply_plan(service(), plan(), policy, as_of=date(2026, 11, 24))
    second = allocate(tomorrow, policy, time_limit=10, work_units=1)
    decided = {a.case for a in second.assignments} | {u.case for u in second.unallocated}
    assert decided == {"C5"}
    assert check_plan(tomorrow, policy, second) == []


def test_applying_the_engines_own_plan_leaves_nothing_to_decide() -> None:
    policy = Policy()
    today = service()
    first = allocate(today, policy, time_limit=10, work_units=1)
    after = apply_plan(today, first, policy)
    again = allocate(after, policy, time_limit=10, work_units=1)
    assert again.assignments == () and again.unallocated == ()


# ------------------------------------------------------------------ refused


def refused(p: Plan, **kwargs: object) -> list[str]:
    with pytest.raises(PlanNotApplicable) as caught:
        applied(service(), p, Policy(), **kwargs)  # type: ignore[arg-type]
    return caught.value.problems


def test_a_plan_for_another_day_is_refused() -> None:
    (problem,) = refused(plan(as_of=date(2026, 11, 24)), source="plan.json")
    assert problem.startswith("plan.json: the plan is for 2026-11-24")
    assert "snapshot is of 2026-11-23" in problem


@pytest.mark.parametrize("day", [AS_OF, date(2026, 11, 22)])
def test_an_as_of_not_after_the_snapshots_day_is_refused(day: date) -> None:
    (problem,) = refused(plan(), as_of=day)
    assert f"as_of (--as-of) is {day}, expected a day after the snapshot's 2026-11-23" in problem


def test_an_as_of_more_than_a_year_after_the_snapshot_is_refused() -> None:
    (problem,) = refused(plan(), as_of=date(2099, 11, 23))
    expected = "as_of (--as-of) is 2099-11-23, expected at most 366 days after the snapshot's"
    assert f"{expected} 2026-11-23" in problem
    # 366 days on is the last day a plan applies.
    assert applied(service(), plan(), Policy(), as_of=date(2027, 11, 24)).snapshot


ASSIGN_R1 = Assignment(case="R1", worker="P3")
MOVE_C1 = Assignment.model_validate({"case": "C1", "worker": "P2", "from": "P1"})
LEAVE_C5 = Unallocated(case="C5", code="x", reason="y")


@pytest.mark.parametrize(
    ("changes", "where"),
    [
        (
            {"assignments": (ASSIGN_R1, MOVE_C1, Assignment(case="X1", worker="P3"))},
            "assignments[2]",
        ),
        (
            {"unallocated": (LEAVE_C5, Unallocated(case="X1", code="x", reason="y"))},
            "unallocated[1]",
        ),
        (
            {"handovers": (handover(), handover().model_copy(update={"case": "X1"}))},
            "handovers[1]",
        ),
        ({"exceptions": (ManagedException(case="X1", worker="P2", reason="r"),)}, "exceptions[0]"),
    ],
)
def test_a_case_the_snapshot_lacks_is_named(changes: dict[str, object], where: str) -> None:
    problems = refused(plan(**changes))
    assert (
        f"plan, {where}: field 'case' names 'X1', which is not a case of the snapshot"
        in (problems[0])
    )


def test_a_plan_naming_mostly_cases_the_snapshot_lacks_is_one_sentence() -> None:
    """Another service's plan: one sentence with a count, not a line per case."""
    strangers = tuple(Assignment(case=f"X{i}", worker="P3") for i in range(5))
    problems = refused(plan(assignments=(ASSIGN_R1, *strangers)))
    assert problems[-1] == (
        "plan: 5 of the 8 cases it names are not in the snapshot (X0, X1, X2 ...): a plan of "
        "another service, or made with --referrals not given here?"
    )
    assert not any("field 'case' names" in p for p in problems)


@pytest.mark.parametrize(
    ("changes", "where", "field"),
    [
        (
            {"assignments": (Assignment(case="R1", worker="P7"), MOVE_C1)},
            "assignments[0]",
            "worker",
        ),
        (
            {
                "assignments": (
                    ASSIGN_R1,
                    Assignment.model_validate({"case": "C1", "worker": "P2", "from": "P7"}),
                )
            },
            "assignments[1]",
            "from",
        ),
        (
            {"handovers": (handover().model_copy(update={"worker": "P7"}),)},
            "handovers[0]",
            "worker",
        ),
        ({"handovers": (handover().model_copy(update={"from_": "P7"}),)}, "handovers[0]", "from"),
        (
            {"exceptions": (ManagedException(case="C2", worker="P7", reason="r"),)},
            "exceptions[0]",
            "worker",
        ),
    ],
)
def test_a_worker_the_snapshot_lacks_is_named(
    changes: dict[str, object], where: str, field: str
) -> None:
    (problem,) = refused(plan(**changes))
    assert problem.startswith(f"plan, {where} (case ")
    assert f"field '{field}' names 'P7', who is not among the snapshot's practitioners" in problem


@pytest.mark.parametrize(
    ("changes", "rule"),
    [
        # C5 needs a decision (its worker has left) and is in neither list.
        ({"unallocated": ()}, "conservation"),
        # P4 leaves within the window: no new case.
        ({"assignments": (Assignment(case="R1", worker="P4"), MOVE_C1)}, "availability"),
        # P1 has left: they take nothing.
        ({"assignments": (Assignment(case="R1", worker="P1"), MOVE_C1)}, "gone_worker"),
        # C1 is P1's, not P3's.
        (
            {
                "assignments": (
                    ASSIGN_R1,
                    Assignment.model_validate({"case": "C1", "worker": "P2", "from": "P3"}),
                )
            },
            "from_mismatch",
        ),
        # A handover a day late: on or after P4's last day.
        ({"handovers": (handover().model_copy(update={"on": LEAVES}),)}, "handover"),
    ],
)
def test_a_plan_that_breaks_a_hard_rule_is_refused_with_its_violations(
    changes: dict[str, object], rule: str
) -> None:
    problems = refused(plan(**changes))
    assert any(p.startswith(f"plan: breaks a hard rule ({rule}): ") for p in problems), problems


def test_a_plan_over_a_workers_cap_is_refused() -> None:
    # P3's cap is 100 points; R1 at 101 points cannot go there.
    heavy = service().model_copy(
        update={
            "cases": tuple(
                c.model_copy(update={"weight": 101.0}) if c.id == "R1" else c
                for c in service().cases
            )
        }
    )
    with pytest.raises(PlanNotApplicable, match=r"breaks a hard rule \(capacity\)"):
        apply_plan(heavy, plan(), Policy())


# ------------------------------------------------------------------ recommend --plan


def test_recommend_against_the_plan_in_force_ranks_a_filled_worker_lower() -> None:
    # P1 and P2, caps 100; P2 holds 55 points. R1 (60 points) and R2 (10 points) are
    # referrals. The balance tier counts load above 60 % of the cap (and above each
    # later threshold). Before the plan, R2 costs P1 nothing (0 -> 10) and P2 5 points
    # above 60 % (55 -> 65): P1 first. Once the plan gives R1 to P1, R2 takes P1 from
    # 60 to 70 (10 points above 60 %, none above 70 %): P2 (5 points) comes first.
    snap = snapshot(
        [worker("P1"), worker("P2")],
        [
            case("C2", worker="P2", weight=55.0),
            case("R1", weight=60.0),
            case("R2", weight=10.0),
        ],
    )
    # The plan must decide for R2 too (conservation): it leaves R2 waiting.
    in_force = Plan(
        as_of=AS_OF,
        status="feasible",
        assignments=(Assignment(case="R1", worker="P1"),),
        unallocated=(Unallocated(case="R2", code="x", reason="y"),),
    )
    before = [c.worker for c in recommend(snap, "R2", Policy()).ranked]
    after = [c.worker for c in recommend(snap, "R2", Policy(), plan=in_force).ranked]
    assert before == ["P1", "P2"]
    assert after == ["P2", "P1"]


def test_recommend_keeps_the_room_of_a_handover_still_to_come() -> None:
    # P5 (cap 100) is promised C6 on 12-10; once its 95 points are reserved, a
    # 10-point referral no longer fits P5.
    snap = service().model_copy(
        update={
            "cases": tuple(
                c.model_copy(update={"weight": 95.0}) if c.id == "C6" else c
                for c in service().cases
            )
            + (case("R2", weight=10.0),)
        }
    )
    in_force = plan(
        unallocated=(LEAVE_C5, Unallocated(case="R2", code="x", reason="y")),
    )
    assert "P5" in [c.worker for c in recommend(snap, "R2", Policy()).ranked]
    result = recommend(snap, "R2", Policy(), plan=in_force)
    assert "P5" not in [c.worker for c in result.ranked]
    assert "P5" in [c.worker for c in result.ineligible]


def test_recommend_for_the_promised_child_keeps_their_receiver_eligible() -> None:
    # The room reserved at P5 is C6's own: asked about C6, P5 is still one of the
    # workers who may take them.
    snap = service().model_copy(
        update={
            "cases": tuple(
                c.model_copy(update={"weight": 95.0}) if c.id == "C6" else c
                for c in service().cases
            )
        }
    )
    result = recommend(snap, "C6", Policy(), handovers=(handover(),))
    assert "P5" in [c.worker for c in result.ranked]
    # And the child's own promise is said with the ranking (a fresh user read the list
    # as C6 having nobody yet); asked about another child, it is not.
    assert result.handover == handover()
    assert result.to_dict()["handover"]["worker"] == "P5"
    assert recommend(snap, "R1", Policy(), handovers=(handover(),)).handover is None


# ------------------------------------------------------------------ the command line


def run(*args: object) -> Result:
    return CliRunner().invoke(main, [str(a) for a in args])


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    snap = tmp_path / "service.json"
    write_json(snap, service())
    plan_file = tmp_path / "plan.json"
    write_json(plan_file, plan())
    return {"snapshot": snap, "plan": plan_file, "dir": tmp_path}


def test_cli_apply_writes_the_next_snapshot_and_the_pending_handovers(
    files: dict[str, Path],
) -> None:
    out = files["dir"] / "next.json"
    result = run("apply", files["plan"], "--snapshot", files["snapshot"], "--out", out)
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(
        f"applied {files['plan']}: 1 placed, 1 moved, 1 left waiting, 1 handover pending;"
    )
    assert load_snapshot(out) == apply_plan(service(), plan(), Policy())
    pending = json.loads((files["dir"] / "next.handovers.json").read_text())
    assert pending["format"] == "pending-handovers/1"
    assert pending["as_of"] == "2026-11-23"
    assert pending["plan"]["file"] == str(files["plan"])
    assert [h["case"] for h in pending["handovers"]] == ["C6"]


def test_cli_apply_twice_says_the_plan_looks_applied_already(files: dict[str, Path]) -> None:
    """Applied to the snapshot it wrote (with --force past the file check), a plan is one
    sentence, not a hard-rule break per case it lists."""
    out = files["dir"] / "next.json"
    assert run("apply", files["plan"], "--snapshot", files["snapshot"], "--out", out).exit_code == 0
    again = files["dir"] / "again.json"
    result = run("apply", files["plan"], "--snapshot", out, "--out", again, "--force")
    assert result.exit_code == 2
    (line,) = [x for x in result.stderr.splitlines() if x.startswith("error:")]
    assert line.startswith(f"error: {files['plan']}: looks applied already: 2 of its 2 ")
    assert "breaks a hard rule" not in result.stderr


def test_cli_apply_as_of_a_later_day_to_a_csv_folder(files: dict[str, Path]) -> None:
    out = files["dir"] / "next"
    result = run(
        "apply",
        files["plan"],
        "--snapshot",
        files["snapshot"],
        "--out",
        out,
        "--as-of",
        "2026-12-10",
    )
    assert result.exit_code == 0, result.output
    after = load_snapshot(out)
    assert after.as_of == HANDOVER_DAY and by_id(after)["C6"].worker == "P5"
    assert json.loads((out / "handovers.json").read_text())["handovers"] == []


def test_cli_apply_writes_no_handovers_file_for_a_plan_without_handovers(
    files: dict[str, Path],
) -> None:
    write_json(files["plan"], plan(handovers=()))
    out = files["dir"] / "next.json"
    result = run("apply", files["plan"], "--snapshot", files["snapshot"], "--out", out)
    assert result.exit_code == 0, result.output
    assert not (files["dir"] / "next.handovers.json").exists()
    assert "handovers.json" not in result.stdout


def test_cli_apply_writes_over_an_older_handovers_file_beside_the_snapshot(
    files: dict[str, Path],
) -> None:
    # A plan with a handover, then one without, applied to the same path: the older
    # promise does not stay behind for tomorrow's rebalance to follow.
    out = files["dir"] / "next.json"
    sidecar = files["dir"] / "next.handovers.json"
    run("apply", files["plan"], "--snapshot", files["snapshot"], "--out", out)
    assert len(json.loads(sidecar.read_text())["handovers"]) == 1
    write_json(files["plan"], plan(handovers=()))
    result = run("apply", files["plan"], "--snapshot", files["snapshot"], "--out", out)
    assert result.exit_code == 0, result.output
    assert json.loads(sidecar.read_text())["handovers"] == []
    assert "next.handovers.json" in result.stdout


def test_cli_apply_bad_plan_exits_2_naming_the_file_and_case(files: dict[str, Path]) -> None:
    write_json(files["plan"], plan(unallocated=(Unallocated(case="X1", code="x", reason="y"),)))
    out = files["dir"] / "next.json"
    result = run("apply", files["plan"], "--snapshot", files["snapshot"], "--out", out)
    assert result.exit_code == 2
    assert f"error: {files['plan']}, unallocated[0]: field 'case' names 'X1'" in result.stderr
    assert "Traceback" not in result.output
    assert not out.exists()


def test_cli_apply_refuses_a_plan_breaking_a_rule(files: dict[str, Path]) -> None:
    write_json(files["plan"], plan(unallocated=()))
    result = run(
        "apply", files["plan"], "--snapshot", files["snapshot"], "--out", files["dir"] / "n.json"
    )
    assert result.exit_code == 2
    assert f"{files['plan']}: breaks a hard rule (conservation): " in result.stderr


def test_cli_apply_refuses_an_as_of_before_the_snapshot(files: dict[str, Path]) -> None:
    result = run(
        "apply", files["plan"], "--snapshot", files["snapshot"], "--out", files["dir"] / "n.json",
        "--as-of", "2026-11-23",
    )  # fmt: skip
    assert result.exit_code == 2
    assert "as_of (--as-of) is 2026-11-23, expected a day after" in result.stderr


def test_cli_apply_refuses_to_replace_an_input(files: dict[str, Path]) -> None:
    result = run("apply", files["plan"], "--snapshot", files["snapshot"], "--out", files["plan"])
    assert result.exit_code == 2
    assert "is the input plan" in result.stderr


def test_cli_apply_refuses_bad_plan_json(files: dict[str, Path]) -> None:
    files["plan"].write_text('{"format": "allocation-plan/1", "as_of": "2026-11-23"}')
    result = run(
        "apply", files["plan"], "--snapshot", files["snapshot"], "--out", files["dir"] / "n.json"
    )
    assert result.exit_code == 2
    assert f"{files['plan']}: required field 'status' is missing" in result.stderr


# What the plan was made from: refused unless --force (then warned).


def made_from(files: dict[str, Path], *, referrals: Path | None = None) -> None:
    """Record in the plan file that it was made from the snapshot file as it is now."""
    from allocator.io import inputs_of

    recorded = plan().model_copy(
        update={"made_from": inputs_of(files["snapshot"], referrals, None, "allocate")}
    )
    write_json(files["plan"], recorded)


def test_cli_apply_with_the_files_the_plan_was_made_from_says_nothing(
    files: dict[str, Path],
) -> None:
    made_from(files)
    result = run(
        "apply", files["plan"], "--snapshot", files["snapshot"], "--out", files["dir"] / "n.json"
    )
    assert result.exit_code == 0, result.output
    assert result.stderr == ""


def test_cli_apply_refuses_a_snapshot_changed_since_the_plan(files: dict[str, Path]) -> None:
    made_from(files)
    changed = service().model_copy(
        update={"practitioners": (*service().practitioners, worker("P8"))}
    )
    write_json(files["snapshot"], changed)
    out = files["dir"] / "n.json"
    result = run("apply", files["plan"], "--snapshot", files["snapshot"], "--out", out)
    assert result.exit_code == 2
    assert f"error: {files['plan']}: this plan was made with snapshot" in result.stderr
    assert "--force" in result.stderr
    assert not out.exists()
    forced = run("apply", files["plan"], "--snapshot", files["snapshot"], "--out", out, "--force")
    assert forced.exit_code == 0, forced.output
    assert f"warning: {files['plan']}: this plan was made with snapshot" in forced.stderr
    assert out.exists()


def test_cli_apply_asks_about_forgotten_referrals(files: dict[str, Path]) -> None:
    referrals = files["dir"] / "referrals.json"
    write_json(referrals, [])
    made_from(files, referrals=referrals)
    result = run(
        "apply", files["plan"], "--snapshot", files["snapshot"], "--out", files["dir"] / "n.json"
    )
    assert result.exit_code == 2
    assert "did you forget --referrals?" in result.stderr


def test_cli_recommend_with_the_plan_in_force(files: dict[str, Path]) -> None:
    # R2 (10 points) joins as a referral; P5 is promised C6 (95 points) in the plan.
    snap = service().model_copy(
        update={
            "cases": tuple(
                c.model_copy(update={"weight": 95.0}) if c.id == "C6" else c
                for c in service().cases
            )
        }
    )
    write_json(files["snapshot"], snap)
    referrals = files["dir"] / "referrals.json"
    write_json(referrals, [case("R2", weight=10.0)])
    write_json(
        files["plan"], plan(unallocated=(LEAVE_C5, Unallocated(case="R2", code="x", reason="y")))
    )
    base = ("recommend", files["snapshot"], "R2", "--referrals", referrals, "--json")
    before = json.loads(run(*base).stdout)
    after = run(*base, "--plan", files["plan"])
    assert after.exit_code == 0, after.output
    ranked = [c["worker"] for c in json.loads(after.stdout)["ranked"]]
    assert "P5" in [c["worker"] for c in before["ranked"]] and "P5" not in ranked


def test_cli_recommend_refuses_a_plan_for_another_day(files: dict[str, Path]) -> None:
    write_json(files["plan"], plan(as_of=date(2026, 11, 24)))
    result = run("recommend", files["snapshot"], "R1", "--plan", files["plan"])
    assert result.exit_code == 2
    assert f"error: {files['plan']}: the plan is for 2026-11-24" in result.stderr


# ------------------------------------------------------------------ rebalance --referrals


def test_rebalance_with_referrals_places_a_referral(tmp_path: Path) -> None:
    # P1 has room and nothing else to do: the referral goes to P1, in the rebalance's
    # plan, which records the referrals file it was made with.
    snap = tmp_path / "s.json"
    write_json(snap, snapshot([worker("P1")], [case("C1", worker="P1")]))
    referrals = tmp_path / "r.json"
    write_json(referrals, [case("R1")])
    out = tmp_path / "plan.json"
    result = run("rebalance", snap, "--referrals", referrals, "--out", out, "--work-units", "1")
    assert result.exit_code == 0, result.output
    made = json.loads(out.read_text())
    assert [(a["case"], a["worker"]) for a in made["assignments"]] == [("R1", "P1")]
    assert made["made_from"]["referrals"]["file"] == str(referrals)
    # ... and the morning's one plan applies, with the referrals it was made with.
    applied_out = tmp_path / "next.json"
    done = run("apply", out, "--snapshot", snap, "--referrals", referrals, "--out", applied_out)
    assert done.exit_code == 0, done.output
    assert by_id(load_snapshot(applied_out))["R1"].worker == "P1"


# ------------------------------------------------------------------ one definition


def test_apply_plan_agrees_with_the_simulations_day() -> None:
    """The simulation applies a decision day by day (``_apply``, ``_due_handovers``);
    apply_plan is the one definition it can come to use: on a generated service's
    rebalance (moves, children left waiting by a worker who has gone, a handover on
    2026-12-16), both give every case the same worker, previous workers and priority,
    and the same count of changes, on the plan's day and on the handovers' day."""
    from allocator.domain.rules import ServiceState
    from allocator.generate import generate
    from allocator.problems.rebalancing import rebalance
    from allocator.simulation.methods import _from_plan
    from allocator.simulation.records import Recorder
    from allocator.simulation.run import _apply, _due_handovers, _Service

    policy = Policy()
    snap = generate(40, seed=3, load=1.0)
    made = rebalance(snap, policy, work_units=0.3, time_limit=30)
    day = min(h.on for h in made.handovers)
    assert made.handovers and any(a.from_ for a in made.assignments) and made.unallocated
    needed = frozenset(ServiceState.of(snap, policy).to_allocate)
    before = by_id(snap)
    for today in (snap.as_of, day):
        service = _Service(
            staff={p.id: p for p in snap.practitioners},
            cases={c.id: c for c in snap.cases},
        )
        recorder = Recorder(snap, policy, "engine")
        decision = _from_plan(made, needed, snap)
        _apply(service, recorder, decision, 0, snap.as_of, snap)
        pending = {h.case: (h, snap.as_of) for h in decision.handovers}
        _due_handovers(service, recorder, pending, (today - snap.as_of).days, today)
        ours = by_id(apply_plan(snap, made, policy, as_of=None if today == snap.as_of else today))
        for cid, theirs in service.cases.items():
            mine = ours[cid]
            assert (mine.worker, mine.previous_workers, mine.priority) == (
                theirs.worker,
                theirs.previous_workers,
                theirs.priority,
            ), cid
            counted = before[cid].changes_last_12_months + len(service.change_days.get(cid, ()))
            assert mine.changes_last_12_months == counted, cid


# ------------------------------------------------------------------ carried forward


def pending_record(day: date = AS_OF, *handovers: Handover) -> PendingHandovers:
    return PendingHandovers(as_of=day, handovers=handovers or (handover(),))


def test_still_pending_keeps_a_promise_that_still_stands() -> None:
    assert still_pending(service(), pending_record()) == (handover(),)


@pytest.mark.parametrize(
    ("change", "why"),
    [
        ({"on": date(2026, 11, 20)}, "its day has passed"),
        ({"case": "C9"}, "the case has closed"),
        ({"from_": "P2"}, "the child is no longer with the worker it was handed from"),
        ({"worker": "P7"}, "the receiver is not on the staff list"),
    ],
)
def test_still_pending_drops_a_promise_that_no_longer_applies(
    change: dict[str, object], why: str
) -> None:
    record = pending_record(AS_OF, handover().model_copy(update=change))
    assert still_pending(service(), record) == (), why


def test_a_pending_file_promising_one_child_twice_is_refused() -> None:
    twice = pending_record(AS_OF, handover(), handover().model_copy(update={"worker": "P3"}))
    with pytest.raises(InputError, match=r"h.json: case C6 is handed over twice"):
        still_pending(service(), twice, source="h.json")


def test_still_pending_refuses_a_file_of_a_later_day() -> None:
    with pytest.raises(InputError, match=r"h.json: the handovers are of 2026-11-24, after"):
        still_pending(service(), pending_record(date(2026, 11, 24)), source="h.json")


def test_an_earlier_promise_is_carried_forward_then_made_on_its_day() -> None:
    # Today's plan (no handovers of its own) leaves C6 alone: the earlier promise stays
    # pending, and is made on 2026-12-10 as the plan's own handovers are.
    today = plan(handovers=())
    kept = applied(service(), today, Policy(), earlier=(handover(),))
    assert kept.pending == (handover(),) and by_id(kept.snapshot)["C6"].worker == "P4"
    made = applied(service(), today, Policy(), as_of=HANDOVER_DAY, earlier=(handover(),))
    assert made.handed == ("C6",) and by_id(made.snapshot)["C6"].worker == "P5"


def test_a_plan_that_decides_for_the_child_anew_supersedes_an_earlier_promise() -> None:
    # Today's plan hands C6 to P3 instead: the promise to P5 is gone.
    to_p3 = handover().model_copy(update={"worker": "P3"})
    result = applied(service(), plan(handovers=(to_p3,)), Policy(), earlier=(handover(),))
    assert result.pending == (to_p3,)


def test_a_rebalance_that_leaves_out_an_earlier_promise_withdraws_it() -> None:
    # A rebalance lists every handover in force: the promise to P5 it does not list
    # again is withdrawn, where a morning's allocation would carry it forward.
    rebalanced = plan(handovers=(), made_from=MadeFrom(command="rebalance"))
    assert applied(service(), rebalanced, Policy(), earlier=(handover(),)).pending == ()
    morning = plan(handovers=(), made_from=MadeFrom(command="allocate"))
    assert applied(service(), morning, Policy(), earlier=(handover(),)).pending == (handover(),)


def test_a_due_handover_lapses_when_a_rule_now_stops_the_receiver() -> None:
    # C6 now excludes P5: on the day the earlier promise cannot be kept.
    snap = service().model_copy(
        update={
            "cases": tuple(
                c.model_copy(update={"excluded_workers": ("P5",)}) if c.id == "C6" else c
                for c in service().cases
            )
        }
    )
    result = applied(snap, plan(handovers=()), Policy(), as_of=HANDOVER_DAY, earlier=(handover(),))
    assert result.lapsed == (handover(),) and by_id(result.snapshot)["C6"].worker == "P4"


def test_rebalance_keeps_an_earlier_receiver_from_the_handovers_file(tmp_path: Path) -> None:
    # P4 leaves holding C6. Left to itself the rebalance hands C6 to P3 (the emptier);
    # the handovers file promised C6 to P5, who may still take them: kept.
    snap = snapshot(
        [worker("P3"), worker("P4", leaving_on=LEAVES), worker("P5")],
        [case("C6", worker="P4"), case("C7", worker="P5", weight=50.0)],
    )
    snap_file, pending_file = tmp_path / "s.json", tmp_path / "s.handovers.json"
    write_json(snap_file, snap)
    write_json(pending_file, pending_record())
    fresh = run("rebalance", snap_file, "--work-units", "0.3", "--out", tmp_path / "a.json")
    kept = run(
        "rebalance", snap_file, "--handovers", pending_file, "--work-units", "0.3",
        "--out", tmp_path / "b.json",
    )  # fmt: skip
    assert fresh.exit_code == 0 and kept.exit_code == 0, kept.output
    receiver = {
        name: [h["worker"] for h in json.loads((tmp_path / name).read_text())["handovers"]]
        for name in ("a.json", "b.json")
    }
    assert receiver == {"a.json": ["P3"], "b.json": ["P5"]}


def test_cli_apply_carries_the_handovers_file_forward(files: dict[str, Path]) -> None:
    # Day 1: the plan hands C6 over on 12-10; apply writes next.handovers.json.
    first = files["dir"] / "next.json"
    assert (
        run("apply", files["plan"], "--snapshot", files["snapshot"], "--out", first).exit_code == 0
    )
    # Day 2 (Tuesday): a plan for the next snapshot that leaves C5 waiting again.
    tuesday = files["dir"] / "tuesday.json"
    write_json(tuesday, load_snapshot(first).model_copy(update={"as_of": date(2026, 11, 24)}))
    second_plan = files["dir"] / "plan2.json"
    write_json(
        second_plan, Plan(as_of=date(2026, 11, 24), status="optimal", unallocated=(LEAVE_C5,))
    )
    second = files["dir"] / "next2.json"
    args = ("apply", second_plan, "--snapshot", tuesday, "--out", second)
    result = run(*args, "--handovers", files["dir"] / "next.handovers.json")
    assert result.exit_code == 0, result.output
    assert "0 placed, 0 moved, 1 left waiting, 1 handover pending" in result.stdout
    carried = json.loads((files["dir"] / "next2.handovers.json").read_text())
    assert [h["case"] for h in carried["handovers"]] == ["C6"]
    # Without --handovers the promise would not be carried: no file is written.
    (files["dir"] / "next2.handovers.json").unlink()
    assert run(*args).exit_code == 0
    assert not (files["dir"] / "next2.handovers.json").exists()


def test_cli_recommend_keeps_the_room_of_the_handovers_file(files: dict[str, Path]) -> None:
    # As test_recommend_keeps_the_room_of_a_handover_still_to_come, the promise read
    # from the file apply wrote instead of from the plan: C6 (98 points) promised to P5
    # leaves P5 2 points, too few for R1 (3 points).
    snap = service().model_copy(
        update={
            "cases": tuple(
                c.model_copy(update={"weight": 98.0}) if c.id == "C6" else c
                for c in service().cases
            )
        }
    )
    write_json(files["snapshot"], snap)
    pending_file = files["dir"] / "pending.json"
    write_json(pending_file, pending_record())
    base = ("recommend", files["snapshot"], "R1", "--json")
    before = [c["worker"] for c in json.loads(run(*base).stdout)["ranked"]]
    after = run(*base, "--handovers", pending_file)
    assert after.exit_code == 0, after.output
    assert "P5" in before and "P5" not in [c["worker"] for c in json.loads(after.stdout)["ranked"]]
    own = run("recommend", files["snapshot"], "C6", "--handovers", pending_file)
    assert own.exit_code == 0, own.output
    assert "a handover is already planned: P4 to P5 on 2026-12-10" in " ".join(own.stdout.split())


def test_cli_a_bad_handovers_file_exits_2_naming_it(files: dict[str, Path]) -> None:
    bad = files["dir"] / "pending.json"
    bad.write_text('{"format": "pending-handovers/1", "as_of": "2026-11-23", "handovers": [{}]}')
    result = run(
        "apply", files["plan"], "--snapshot", files["snapshot"], "--out", files["dir"] / "n.json",
        "--handovers", bad,
    )  # fmt: skip
    assert result.exit_code == 2
    assert f"{bad}, handovers[0]" in result.stderr and "'case' is missing" in result.stderr
    write_json(bad, pending_record(date(2026, 11, 30)))
    later = run("recommend", files["snapshot"], "R1", "--handovers", bad)
    assert later.exit_code == 2
    assert f"{bad}: the handovers are of 2026-11-30, after the snapshot's day" in later.stderr


def test_an_earlier_promise_that_no_longer_applies_is_dropped_not_an_error() -> None:
    # Given straight to the library (not through still_pending): a closed case and a
    # receiver off the books are dropped.
    gone = (
        handover().model_copy(update={"case": "C9"}),
        handover().model_copy(update={"worker": "P7"}),
    )
    result = applied(service(), plan(handovers=()), Policy(), as_of=HANDOVER_DAY, earlier=gone)
    assert (result.pending, result.handed, result.lapsed) == ((), (), ())


def test_cli_apply_refuses_a_policy_the_plan_was_not_made_with(files: dict[str, Path]) -> None:
    made_from(files)
    policy = files["dir"] / "policy.toml"
    policy.write_text("")
    result = run(
        "apply", files["plan"], "--snapshot", files["snapshot"], "--policy", policy,
        "--out", files["dir"] / "n.json",
    )  # fmt: skip
    assert result.exit_code == 2
    assert "this plan was made without a policy file, but --policy" in result.stderr


def test_cli_apply_reads_standard_input_once(files: dict[str, Path]) -> None:
    result = run("apply", "-", "--snapshot", "-", "--out", files["dir"] / "n.json")
    assert result.exit_code == 2
    assert "the plan and another input both name standard input (-)" in result.output


def test_cli_rebalance_handovers_is_not_for_a_policy_override(files: dict[str, Path]) -> None:
    pending_file = files["dir"] / "pending.json"
    write_json(pending_file, pending_record())
    result = run(
        "rebalance", files["snapshot"], "--handovers", pending_file, "--points-per-fte", "90"
    )
    assert result.exit_code == 2
    assert "--handovers is for the plan in force" in result.output


def test_cli_a_handovers_file_that_no_longer_applies_is_named_not_dropped_in_silence(
    tmp_path: Path,
) -> None:
    # The file promises C6 (held by P4) to P5. Given with a snapshot where C6 is gone
    # (closed, or the wrong file) or a manager moved C6, the rebalance still runs but
    # says what it dropped and why; where the promise stands it says nothing.
    snap = snapshot(
        [worker("P3"), worker("P4", leaving_on=LEAVES), worker("P5")],
        [case("C7", worker="P5")],
    )
    snap_file, pending_file = tmp_path / "s.json", tmp_path / "s.handovers.json"
    write_json(snap_file, snap)
    write_json(pending_file, pending_record())
    result = run(
        "rebalance", snap_file, "--handovers", pending_file, "--work-units", "0.3",
        "--out", tmp_path / "a.json",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert (
        f"warning: {pending_file}: the 1 handover still to come no longer applies to this "
        "snapshot and is dropped: C6 (not in the snapshot: closed?); if none do, is it the "
        "file written with this snapshot?"
    ) in " ".join(result.output.split())
    moved = snapshot(
        [worker("P3"), worker("P4", leaving_on=LEAVES), worker("P5")],
        [case("C6", worker="P3"), case("C7", worker="P5")],
    )
    write_json(snap_file, moved)
    again = run(
        "rebalance", snap_file, "--handovers", pending_file, "--work-units", "0.3",
        "--out", tmp_path / "b.json",
    )  # fmt: skip
    assert "C6 (held by P3, not P4)" in again.output
    stands = moved.model_copy(update={"cases": (case("C6", worker="P4"), case("C7", worker="P5"))})
    write_json(snap_file, stands)
    quiet = run(
        "rebalance", snap_file, "--handovers", pending_file, "--work-units", "0.3",
        "--out", tmp_path / "c.json",
    )  # fmt: skip
    assert quiet.exit_code == 0 and "warning" not in quiet.output


def test_cli_rebalance_quiet_keeps_the_warnings_and_drops_the_lists(tmp_path: Path) -> None:
    # A fresh user asked for rebalance --quiet as allocate has; and the rebalance now
    # warns, as allocate does, of a leaver still holding a child with no handover.
    snap = snapshot(
        [worker("P3", capacity_points=5.0), worker("P4", leaving_on=LEAVES)],
        [case("C6", worker="P4"), case("C8", family="F8", worker="P4", weight=50.0)],
    )
    snap_file = tmp_path / "s.json"
    write_json(snap_file, snap)
    args = ("rebalance", snap_file, "--work-units", "0.3", "--out", tmp_path / "p.json")
    loud, quiet = run(*args), run(*args, "--quiet")
    assert loud.exit_code == 0 and quiet.exit_code == 0, quiet.output
    warning = f"warning: P4 leaves on {LEAVES}"
    assert (
        "Handovers planned ahead" in loud.stderr and "Handovers planned ahead" not in quiet.stderr
    )
    for result in (loud, quiet):
        said = " ".join(result.stderr.split())
        assert (
            warning in said and "still holds 2 children (1 handover planned, 1 without one)" in said
        )
        # The rebalance has run: its advice is not to run it again.
        assert "nobody the rules allow had room for the rest before the day" in said


def test_recommend_ranks_a_childs_promised_sibling_at_its_receiver() -> None:
    # S1 and S2 (family F1) are P4's; S1 is promised to P5. Asked about S2, P5 is the
    # worker of S2's sibling-to-be: the family stays together there (a fresh user saw
    # P5 said to add "one more worker" to the family).
    snap = snapshot(
        [worker("P4", leaving_on=LEAVES), worker("P5"), worker("P6")],
        [case("S1", family="F1", worker="P4"), case("S2", family="F1", worker="P4")],
    )
    promise = handover().model_copy(update={"case": "S1"})
    plain = recommend(snap, "S2", Policy())
    kept = recommend(snap, "S2", Policy(), handovers=(promise,))
    siblings = {c.worker: c.score.get("siblings_apart") for c in kept.ranked}
    assert siblings["P5"] < siblings["P6"]
    assert kept.ranked[0].worker == "P5"
    assert {c.worker: c.score.get("siblings_apart") for c in plain.ranked}["P5"] == siblings["P6"]


def test_allocate_keeps_the_room_of_a_handover_still_to_come(tmp_path: Path) -> None:
    # A fresh user's morning: yesterday's rebalance promised C6 to P5; today's
    # allocation gave a referral P5's room, since allocate knew nothing of the promise.
    snap = snapshot(
        [worker("P4", leaving_on=LEAVES), worker("P5", capacity_points=8.0)],
        [case("C6", worker="P4", weight=5.0), case("R1", weight=5.0)],
    )
    promise = handover()
    fresh = allocate(snap, Policy(), work_units=0.5)
    kept = allocate(snap, Policy(), work_units=0.5, handovers=(promise,))
    assert {a.case: a.worker for a in fresh.assignments} == {"R1": "P5"}
    assert kept.assignments == () and [u.case for u in kept.unallocated] == ["R1"]
    assert any(n.startswith("room kept for 1 handover") and "P5: C6 on 2026-12-10" in n
               for n in kept.notes)  # fmt: skip
    # Written on the service's own caps (check reads it as is); the balance tier, which
    # reads the caps, is not bounded by a solve on the kept ones.
    assert check_plan(snap, Policy(), kept) == []
    # R1's diagnosis counts the kept room: no room, not "the search stopped" (a fresh
    # user was told to rerun with a longer time limit for room that was promised).
    (left,) = kept.unallocated
    assert left.code == "no_capacity", left
    assert kept.proved is not None and kept.proved["balance"] is False
    assert kept.bound is not None and "balance" not in kept.bound
    # The command line reads the file apply wrote.
    snap_file, pending_file = tmp_path / "s.json", tmp_path / "s.handovers.json"
    write_json(snap_file, snap)
    write_json(pending_file, pending_record())
    out = tmp_path / "p.json"
    result = run("allocate", snap_file, "--handovers", pending_file, "--work-units", "0.5",
                 "--out", out)  # fmt: skip
    assert result.exit_code == 0, result.output
    assert json.loads(out.read_text())["assignments"] == []
    # The leaver warning counts the promise as planned (it said "plan their handover").
    said = " ".join(result.stderr.split())
    assert "still holds 1 child (1 handover planned" not in said  # nothing left to warn
    assert "P4 leaves" not in said


def test_still_pending_drops_a_promise_whose_receiver_may_no_longer_hold_the_child() -> None:
    # A fresh user's meeting kept room for a promise to a worker who may not hold the
    # child (apply would have let it lapse on the day): with the policy, it is dropped
    # with the reason, as apply judges it.
    from allocator.problems.apply import lapsed

    receiver = handover().worker
    snap = service()
    barred = snap.model_copy(
        update={
            "cases": tuple(
                c.model_copy(update={"excluded_workers": (receiver,)})
                if c.id == handover().case
                else c
                for c in snap.cases
            )
        }
    )
    record = pending_record()
    assert still_pending(barred, record) == (handover(),)  # no policy: not judged
    assert still_pending(barred, record, Policy()) == ()
    said = lapsed(barred, record, Policy())
    assert said is not None and f"{handover().case} ({receiver} may not hold them:" in said


@pytest.mark.parametrize(
    ("change", "said"),
    [
        ({"worker": "P4"}, "handed over to P4, the worker it is handed over from"),
        ({"on": LEAVES}, f"handed over on {LEAVES}, not before P4 departs on {LEAVES}"),
    ],
)
def test_a_pending_file_with_a_handover_no_plan_makes_is_refused(
    change: dict[str, object], said: str
) -> None:
    record = pending_record(AS_OF, handover().model_copy(update=change))
    with pytest.raises(InputError, match=rf"h.json: handovers\[0\] \(case C6\): {said}"):
        still_pending(service(), record, source="h.json")


def test_a_handover_whose_day_passed_unmade_is_said() -> None:
    from allocator.problems.apply import lapsed

    passed = handover().model_copy(update={"on": date(2026, 11, 20)})
    said = lapsed(service(), pending_record(AS_OF, passed))
    assert (
        said is not None and "1 handover whose day has passed was not made and is dropped" in said
    )
    assert "C6 (due 2026-11-20, still with P4)" in said


def test_the_handovers_that_no_longer_apply_are_counted_in_agreement() -> None:
    """A fresh manager read "1 of 1 handover ... no longer apply": the count, the noun
    and the verb now agree, for one of several, several, and all of one."""
    from allocator.problems.apply import lapsed

    closed = [handover().model_copy(update={"case": cid}) for cid in ("C8", "C9")]
    one = lapsed(service(), pending_record(AS_OF, handover(), closed[1]), Policy())
    assert one is not None and one.startswith(
        "1 of the 2 handovers still to come no longer applies to this snapshot and is "
        "dropped: C9 (not in the snapshot"
    ), one
    two = lapsed(service(), pending_record(AS_OF, handover(), *closed), Policy())
    assert two is not None and two.startswith(
        "2 of the 3 handovers still to come no longer apply to this snapshot and are dropped"
    ), two
    both = lapsed(service(), pending_record(AS_OF, *closed), Policy())
    assert both is not None and both.startswith(
        "the 2 handovers still to come no longer apply to this snapshot and are dropped"
    ), both


def test_a_refusal_with_many_hard_rule_breaks_lists_five_and_counts_the_rest() -> None:
    """Another service's plan whose case ids the snapshot shares (generated services
    number their cases alike): five breaks and a count, not a screenful each."""
    from allocator.generate import generate

    made_for = generate(20, seed=1)
    other = generate(20, seed=3, load=1.05, referral_rate=0.08)
    the_plan = allocate(made_for, Policy(), work_units=1.0)
    with pytest.raises(PlanNotApplicable) as caught:
        applied(other, the_plan, Policy(), source="a20.json")
    problems = caught.value.problems
    assert len(problems) == 6
    assert all(p.startswith("a20.json: breaks a hard rule (") for p in problems[:5])
    assert problems[5].startswith("a20.json: ... and ")
    assert problems[5].endswith(
        "more hard-rule violations (is it a plan of this snapshot? allocator check lists them all)"
    )
