"""An override either happens or says why not (issue 22, item 1), on services worked
out by hand.

Each worker has a cap of a few points and every case weighs 3 unless said otherwise,
so who has room is plain arithmetic.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from builders import case, snapshot, worker

from allocator.contract.models import Plan, Snapshot
from allocator.contract.policy import Policy, PolicyError
from allocator.domain.rules import ServiceState
from allocator.explain.check import check_plan, stale_summaries
from allocator.io import load_policy
from allocator.meeting.log import DecisionLog, replay
from allocator.meeting.overrides import (
    Override,
    OverrideError,
    OverrideRefused,
    check_holdable,
    final_workers,
    resolve,
    solver_settings,
)
from allocator.problems.apply import apply_plan
from allocator.problems.daily import allocate
from allocator.web.app import Meeting

POLICY = Policy()


def opened(
    snap: Snapshot, tmp_path: Path, policy: Policy = POLICY, db: str = "log.db"
) -> tuple[Meeting, DecisionLog]:
    """A meeting on ``snap``'s morning plan, with its log (close it at the end)."""
    log = DecisionLog(str(tmp_path / db))
    return Meeting.open(snap, policy, log, allocate(snap, policy, work_units=1.0)), log


def welsh_court() -> Snapshot:
    # A (the only Welsh speaker, cap 3) holds H1; B (cap 3) holds H2, pinned there.
    # U, an urgent Welsh referral of 3 points, fits nobody: A is full and nobody else
    # speaks Welsh. H1 could only make room by moving to B, who is full.
    return snapshot(
        [
            worker("A", capacity_points=3, skills=["welsh"]),
            worker("B", capacity_points=3),
        ],
        [
            case("H1", worker="A", type="looked_after"),
            case("H2", worker="B", pinned_worker="B"),
            case("U", priority="urgent", needs=["welsh"]),
            case("S", needs=["welsh"]),
        ],
    )


def by(**fields: object) -> Override:
    values: dict[str, object] = {"manager": "Ann", "reason": "court tomorrow"}
    values.update(fields)
    return Override.model_validate(values)


@pytest.fixture
def meeting(tmp_path: Path) -> Iterator[Meeting]:
    snap = welsh_court()
    log = DecisionLog(str(tmp_path / "log.db"))
    yield Meeting.open(snap, POLICY, log, allocate(snap, POLICY, work_units=1.0))
    log.close()


def test_no_room_is_refused_with_the_points_short_and_nothing_moves(meeting: Meeting) -> None:
    assert final_workers(meeting.plan)["U"] is None  # nobody has room
    before, decision = meeting.plan, meeting.decision_id
    with pytest.raises(OverrideRefused) as refused:
        meeting.override(by(case="U", action="choose", worker="A"))
    said = str(refused.value)
    # The room said once (a fresh user read it three times over on the preview).
    assert said.startswith(
        "U needs 3.0 points; A has 0.0 spare under the plan in force: 3.0 points short"
    )
    assert said.count("spare") == 1
    assert "over cap by exception" in said and "Nothing was changed" in said
    assert meeting.plan is before and meeting.decision_id == decision
    assert len(meeting.log.decisions()) == 1  # nothing logged


def test_a_held_child_never_loses_their_worker_to_an_override_that_cannot_place_them(
    meeting: Meeting,
) -> None:
    # H1 (looked after, with A) given to B, who is full with a pinned case: the
    # re-solve cannot place H1 with B. Before, H1 left A and stayed with nobody.
    with pytest.raises(OverrideRefused, match="B has 0.0 spare .*: 3.0 points short"):
        meeting.override(by(case="H1", action="choose", worker="B"))
    assert final_workers(meeting.plan).get("H1", "A") == "A"
    assert meeting.overrides == []


def test_over_cap_by_exception_is_placed_listed_and_accepted_by_check(meeting: Meeting) -> None:
    meeting.override(by(case="U", action="choose", worker="A", over_cap=True))
    plan = meeting.plan
    assert final_workers(plan)["U"] == "A"
    assert final_workers(plan).get("H1", "A") == "A"  # nothing else moved for it
    (exception,) = plan.exceptions
    assert (exception.case, exception.worker, exception.waives) == ("U", "A", "capacity")
    assert "over cap by Ann's exception (A ends at 6.0 of 3.0 points): court tomorrow" in (
        exception.reason
    )
    a = next(w for w in plan.workers if w.id == "A")
    assert (a.load_before, a.load_after, a.capacity) == (3.0, 6.0, 3.0)
    assert check_plan(meeting.snapshot, POLICY, plan) == []
    # Its loads and tier values are the snapshot's own, recomputed: none is stale.
    from allocator.explain.check import stale_summaries

    assert stale_summaries(meeting.snapshot, POLICY, plan) == []
    # Without the listing the same placements break the cap: the exception is what
    # check accepts, not the load.
    bare = plan.model_copy(update={"exceptions": ()})
    assert [v.rule for v in check_plan(meeting.snapshot, POLICY, bare)] == ["capacity"]
    # The morning's warnings say it is the manager's exception, not a load for a
    # rebalance to undo (a manager was told "allocator rebalance can relieve them").
    from allocator.present.analysis import staffing_warnings

    (said,) = [w for w in staffing_warnings(meeting.snapshot, POLICY, plan) if "A is over" in w]
    assert said.startswith("A is over their cap by a manager's exception for U: 6 of 3 points")
    assert "rebalance" not in said
    (plain,) = [w for w in staffing_warnings(meeting.snapshot, POLICY, bare) if "A is over" in w]
    assert plain.endswith("allocator rebalance can relieve them")
    # The log names it and replays it byte for byte.
    events = meeting.log.history("U")
    assert [e.event for e in events][-1] == "chosen_over_cap"
    assert replay(meeting.log, meeting.decision_id).identical


def test_over_cap_counts_in_the_next_days_loads(meeting: Meeting) -> None:
    meeting.override(by(case="U", action="choose", worker="A", over_cap=True))
    tomorrow = apply_plan(meeting.snapshot, meeting.plan, POLICY)
    state = ServiceState.of(tomorrow, POLICY)
    # A is over cap the next day: what the simulation counts as a day over cap.
    assert state.load_before["A"] > state.capacity["A"]


def test_over_cap_only_for_the_classes_the_policy_allows(meeting: Meeting) -> None:
    # S is a standard child in need: class "other", not allowed over cap by default.
    with pytest.raises(OverrideError, match="class 'other'.*only for urgent and statutory"):
        meeting.override(by(case="S", action="choose", worker="A", over_cap=True))
    # A council that allows no exception at all.
    strict = Policy(over_cap_classes=())
    state = ServiceState.of(meeting.snapshot, strict)
    from allocator.meeting.overrides import check_holdable

    with pytest.raises(OverrideError, match="no class under this policy"):
        check_holdable(state, by(case="U", action="choose", worker="A", over_cap=True))
    # And check refuses a plan listing an exception its policy does not allow.
    meeting.override(by(case="U", action="choose", worker="A", over_cap=True))
    # (the listing itself, then A's cap, which nothing excuses).
    found = check_plan(meeting.snapshot, strict, meeting.plan)
    assert [v.rule for v in found] == ["capacity", "capacity"]
    assert "allows over cap only for no class" in found[0].message
    assert "ends at 6.0 points, over the cap of 3.0" in found[1].message


def test_policy_over_cap_classes_must_name_classes() -> None:
    with pytest.raises((ValueError, PolicyError), match="'urgnet' is not a priority class"):
        Policy(over_cap_classes=("urgnet",))


@pytest.mark.parametrize(
    ("toml", "classes"),
    [
        ("", ("urgent", "statutory")),
        ("priority_classes = []\n", ()),
        ('[[priority_classes]]\nname = "protection"\ncases = ["court"]\n', ("protection",)),
        ('over_cap_classes = ["urgent"]\npriority_classes = []\n', None),
    ],
    ids=["default", "no-classes", "renamed", "explicit-unknown"],
)
def test_over_cap_classes_default_follows_the_classes_a_policy_names(
    tmp_path: Path, toml: str, classes: tuple[str, ...] | None
) -> None:
    # The default is every class above "other": a policy that drops or renames the
    # classes still loads; a class named explicitly must exist.
    path = tmp_path / "policy.toml"
    path.write_text(toml, encoding="utf-8")
    if classes is None:
        with pytest.raises(PolicyError, match="'urgent' is not a priority class"):
            load_policy(path)
    else:
        assert load_policy(path).over_cap_classes == classes


def test_a_class_the_policys_own_classes_drop_is_said_to_be_dropped(tmp_path: Path) -> None:
    # A fresh user emptied the example's priority_classes and was told only that
    # over_cap_classes named no class; the message now names the classes' key.
    path = tmp_path / "policy.toml"
    path.write_text('priority_classes = []\nover_cap_classes = ["urgent"]\n', encoding="utf-8")
    with pytest.raises(PolicyError) as refused:
        load_policy(path)
    assert (
        "key 'over_cap_classes': 'urgent' is not a priority class (the policy's "
        "priority_classes name no class, so every case is 'other'); expected any of other"
    ) in str(refused.value)
    renamed = '[[priority_classes]]\nname = "first"\ncases = ["court"]\n'
    path.write_text(f'over_cap_classes = ["statutory"]\n{renamed}', encoding="utf-8")
    with pytest.raises(PolicyError, match=r"\(the policy's priority_classes name first\)"):
        load_policy(path)
    # A typo is not a dropped class: no such sentence.
    path.write_text('over_cap_classes = ["urgnet"]\n', encoding="utf-8")
    with pytest.raises(PolicyError) as typo:
        load_policy(path)
    assert "priority_classes name" not in str(typo.value)


def test_over_cap_classes_names_each_class_once() -> None:
    with pytest.raises((ValueError, PolicyError), match="'urgent' repeated"):
        Policy(over_cap_classes=("urgent", "urgent"))


def siblings() -> Snapshot:
    # A (cap 9) holds S1 and S2 of family F (3 points each): 3 spare. S3, their new
    # sibling, weighs 4. B has room for anything.
    return snapshot(
        [worker("A", capacity_points=9), worker("B", capacity_points=20)],
        [
            case("S1", family="F", worker="A"),
            case("S2", family="F", worker="A"),
            case("S3", family="F", weight=4.0),
        ],
    )


def test_one_child_without_room_is_not_honoured_by_the_re_solve() -> None:
    snap = siblings()
    plan = allocate(snap, POLICY, work_units=1.0)
    assert final_workers(plan)["S3"] == "B"  # A has 3 points spare, S3 needs 4
    # The re-solve does not move the children A holds: S3 pinned to A ends with
    # nobody, which the meeting refuses (below) rather than logs.
    overrides = [by(case="S3", action="choose", worker="A")]
    alone = resolve(snap, POLICY, plan, overrides)
    assert final_workers(alone.plan)["S3"] is None
    from allocator.meeting.overrides import refusal

    why = refusal(snap, POLICY, plan, overrides, overrides, alone)
    assert why is not None and "A has 3.0 points spare" in why and "1.0 points short" in why
    # Statutory children may go over cap; a child in need may not: nothing offered.
    assert "over cap by exception" not in why


def test_family_override_through_the_meeting(tmp_path: Path) -> None:
    snap = siblings()
    meeting, log = opened(snap, tmp_path)
    with pytest.raises(OverrideRefused) as refused:
        meeting.override(by(case="S3", action="choose", worker="A", family=True))
    said = str(refused.value)
    assert said.startswith(
        "family F (S1 + S2 + S3) needs 4.0 points beyond S1 + S2, already with A; "
        "A has 3.0 spare under the plan in force"
    )
    assert "1.0 points short" in said and meeting.overrides == []
    # Given to B, who has room: every sibling moves there in one decision.
    meeting.override(by(case="S1", action="choose", worker="B", family=True))
    assert {c: final_workers(meeting.plan).get(c) for c in ("S1", "S2", "S3")} == dict.fromkeys(
        ("S1", "S2", "S3"), "B"
    )
    assert meeting.said == (
        "family F (S1 + S2 + S3) needs 6.0 points beyond S3, already with B; "
        "B has 16.0 spare under the plan in force"
    )
    (decision, *_) = log.decisions()
    chosen = [e for c in ("S1", "S2", "S3") for e in log.history(c) if e.event == "chosen"]
    assert {e.decision_id for e in chosen} == {decision.id} and len(chosen) == 3
    log.close()


def test_family_and_over_cap_go_with_choose_only() -> None:
    from allocator.meeting.overrides import check_override

    with pytest.raises(OverrideError, match="with 'choose' only"):
        check_override(welsh_court(), by(case="U", action="exclude", worker="A", over_cap=True))


def test_the_page_offers_over_cap_and_family_and_lists_the_exception(meeting: Meeting) -> None:
    import re

    from fastapi.testclient import TestClient

    from allocator.web.app import create_app

    client = TestClient(create_app(meeting, allowed_hosts=["testserver"]))
    html = {"accept": "text/html"}
    page = client.get("/", headers=html).text
    assert 'name="over_cap"' in page and 'name="family"' in page
    # Nobody has room for U: the page names who could take them if room were made.
    row = page[page.index('id="case-U"') :]
    assert "nobody with room; closest:</span> A (3.0 points short)" in row[: row.index("</tr>")]
    assert meeting.nearest("U") == [("A", "3.0 points short")]
    found = re.search(r'name="csrf" value="([^"]+)"', page)
    assert found is not None
    form = {"csrf": found.group(1), "case": "U", "action": "choose", "worker": "A"}
    form |= {"reason": "court tomorrow", "manager": "Ann"}
    refused = client.post("/overrides", data=form, headers=html, follow_redirects=False)
    assert refused.status_code == 422 and "3.0 points short" in refused.text
    done = client.post(
        "/overrides", data={**form, "over_cap": "true"}, headers=html, follow_redirects=True
    )
    assert done.status_code == 200
    assert 'id="exceptions"' in done.text and "U with A (over cap)" in done.text
    # The JSON API says the same.
    state = client.get("/").json()
    assert state["plan"]["exceptions"][0]["waives"] == "capacity"


def roomless() -> Snapshot:
    # A (Welsh, cap 3) holds H1, who needs nothing special; B (cap 3) is empty. U, an
    # urgent Welsh child, fits only with A, once H1 moves to B: one move makes room.
    return snapshot(
        [worker("A", capacity_points=3, skills=["welsh"]), worker("B", capacity_points=3)],
        [case("H1", worker="A"), case("U", priority="urgent", needs=["welsh"])],
    )


def test_the_engine_makes_room_when_asked_shown_with_its_cost_before_acceptance(
    tmp_path: Path,
) -> None:
    from fastapi.testclient import TestClient

    from allocator.web.app import create_app

    snap = roomless()
    meeting, log = opened(snap, tmp_path)
    client = TestClient(create_app(meeting, allowed_hosts=["testserver"]))
    body = {"case": "U", "action": "choose", "worker": "A", "reason": "r", "manager": "Ann"}
    # Without make_room: refused, saying room could be made.
    plain = client.post("/overrides", json=body)
    assert plain.status_code == 422 and "ask it to make room" in plain.json()["detail"]
    # Its preview says so and lists no move: a refused override moves nobody.
    refused = client.post("/overrides?preview=1", json=body).json()
    assert "ask it to make room" in refused["refused"]
    assert refused["moved"] == [] and refused["changes_of_worker"] == 0
    # The preview: H1 would move to B, one child's change of worker; nothing changed.
    seen = client.post("/overrides?preview=1", json={**body, "make_room": True})
    assert seen.status_code == 200
    assert seen.json() == {
        "preview": True, "decision_id": meeting.decision_id,
        "moved": [{"case": "H1", "before": "A", "after": "B"}], "changes_of_worker": 1,
        "families_split": 0, "families_joined": 0, "ends": {"U": "A"},
        "said": "U needs 3.0 points; A has 0.0 spare under the plan in force", "refused": None,
    }  # fmt: skip
    assert len(log.decisions()) == 1 and meeting.overrides == []
    # Accepted without its preview: refused, since it moves a child off their worker.
    unseen = client.post("/overrides", json={**body, "make_room": True})
    assert unseen.status_code == 422
    assert "move H1 off A, who holds them today: preview it first" in unseen.json()["detail"]
    # Accepted on the plan previewed: the same moves, logged as the re-solve's with
    # the override that caused them.
    done = client.post(
        f"/overrides?previewed={seen.json()['decision_id']}", json={**body, "make_room": True}
    )
    assert done.status_code == 200
    assert done.json()["moved"] == [{"case": "H1", "before": "A", "after": "B"}]
    moved = next(e for e in log.history("H1") if e.event == "moved")
    assert moved.manager is None and moved.caused_by is not None
    assert check_plan(snap, POLICY, meeting.plan) == []
    # U is placed by the moves: no note has U waiting (a fresh trial's did).
    assert not any("longest waits" in n and "U (" in n for n in meeting.plan.notes)
    assert replay(log, meeting.decision_id).identical
    log.close()


def room_then_more() -> Snapshot:
    # roomless, and two more children: H2 held by B (who keeps room for one more) and
    # R, a referral any worker may take. After U is given to A by moving H1 to B, a
    # later override's re-solve must keep H1 at B and move nobody else's child.
    return snapshot(
        [worker("A", capacity_points=3, skills=["welsh"]), worker("B", capacity_points=9),
         worker("C", capacity_points=3)],
        [case("H1", worker="A"), case("H2", worker="B"), case("H3", worker="C"),
         case("U", priority="urgent", needs=["welsh"]), case("R")],
    )  # fmt: skip


def test_moves_made_to_make_room_stand_and_no_later_re_solve_makes_more(tmp_path: Path) -> None:
    from allocator.web.app import Meeting as WebMeeting

    snap = room_then_more()
    meeting, log = opened(snap, tmp_path)
    meeting.override(by(case="U", action="choose", worker="A", make_room=True), previewed=True)
    assert final_workers(meeting.plan)["H1"] == "B" and final_workers(meeting.plan)["U"] == "A"
    # The plan records the choice's moves apart from the meeting's settings...
    assert "allow_moves" not in meeting.plan.settings
    assert meeting.plan.settings["make_room_moves"] == 3
    # ... so a later override's re-solve keeps H1 at B, moves no held child, and
    # still honours U with A.
    meeting.override(by(case="R", action="exclude", worker="C"))
    after = final_workers(meeting.plan)
    assert after["H1"] == "B" and after["U"] == "A"
    assert after.get("H2", "B") == "B" and after.get("H3", "C") == "C"
    assert [m.case for m in meeting.moved if m.case.startswith("H")] == []
    assert check_plan(snap, POLICY, meeting.plan) == []
    assert replay(log, meeting.decision_id).identical
    # A restart resumes the meeting: a make-room choice is no setting of the meeting.
    resumed, said = WebMeeting.resume(snap, POLICY, log, solver_settings(meeting.plan))
    assert resumed is not None, said
    assert resumed.overrides == meeting.overrides
    log.close()


def test_a_case_kept_off_a_worker_is_still_listed_when_a_later_re_solve_moves_it(
    tmp_path: Path,
) -> None:
    # A, B and C have room for one child each; R1 goes back to A and R2 to B (their
    # previous workers). R1 is kept off B: no change. Then R2 is given to A: R1 must
    # leave A, may not go to B, and goes to C. The manager is told (moved) and the log
    # has the event, though R1 has an override of its own (a fresh trial saw such a
    # child's placement lost unsaid).
    snap = snapshot(
        [worker(w, capacity_points=3) for w in "ABC"],
        [case("R1", previous_workers=["A"]), case("R2", previous_workers=["B"])],
    )
    meeting, log = opened(snap, tmp_path)
    assert final_workers(meeting.plan) == {"R1": "A", "R2": "B"}
    meeting.override(by(case="R1", action="exclude", worker="B"))
    assert final_workers(meeting.plan)["R1"] == "A"  # the previous placement stands
    meeting.override(by(case="R2", action="choose", worker="A"))
    assert final_workers(meeting.plan) == {"R1": "C", "R2": "A"}
    assert [(m.case, m.before, m.after) for m in meeting.moved] == [("R1", "A", "C")]
    assert [e.event for e in log.history("R1")][-1] == "moved"
    log.close()


def test_the_page_previews_and_accepts(tmp_path: Path) -> None:
    import re

    from fastapi.testclient import TestClient

    from allocator.web.app import create_app

    snap = roomless()
    meeting, log = opened(snap, tmp_path)
    client = TestClient(create_app(meeting, allowed_hosts=["testserver"]))
    html = {"accept": "text/html"}
    page = client.get("/", headers=html).text
    assert 'name="make_room"' in page and 'name="preview" value="1"' in page
    csrf = re.search(r'name="csrf" value="([^"]+)"', page)
    assert csrf is not None
    form = {"csrf": csrf.group(1), "case": "U", "action": "choose", "worker": "A"}
    form |= {"reason": "r", "manager": "Ann", "make_room": "true", "preview": "1"}
    shown = client.post("/overrides", data=form, headers=html)
    assert shown.status_code == 200 and 'id="preview"' in shown.text
    assert "this child moves: H1 (A → B); in all, 1 child changes worker" in shown.text
    assert len(log.decisions()) == 1
    accept = re.search(
        r'<form method="post" action="/overrides" id="accept">(.*?)</form>', shown.text, re.S
    )  # noqa: E501
    assert accept is not None
    fields = dict(re.findall(r'name="(\w+)" value="([^"]*)"', accept.group(1)))
    assert fields["make_room"] == "true" and "preview" not in fields
    done = client.post("/overrides", data=fields, headers=html, follow_redirects=True)
    assert done.status_code == 200 and final_workers(meeting.plan)["U"] == "A"
    log.close()


def test_allocator_check_accepts_the_exception_and_says_so(
    meeting: Meeting, tmp_path: Path
) -> None:
    from click.testing import CliRunner

    from allocator.cli import main
    from allocator.io import write_json, write_snapshot

    meeting.override(by(case="U", action="choose", worker="A", over_cap=True))
    write_snapshot(meeting.snapshot, tmp_path / "s.json")
    write_json(tmp_path / "p.json", meeting.plan)
    paths = [str(tmp_path / "s.json"), str(tmp_path / "p.json")]
    shown = CliRunner().invoke(main, ["check", *paths], env={"COLUMNS": "300"})
    assert shown.exit_code == 0, shown.output
    assert "managed exception: U given to A over cap: given to A over cap by Ann's" in (
        shown.output
    )


def test_keeping_a_child_off_their_worker_when_nobody_else_may_take_them_is_refused(
    meeting: Meeting,
) -> None:
    # Keeping H1 off A leaves H1 with nobody (B is full): "a child who has a worker
    # never loses them to an override that cannot place them". Refused before
    # anything moves, saying how to take H1 from A anyway (not by leaving H1
    # unallocated: H1 needs no worker, and a plan saying so is refused by check).
    decision = meeting.decision_id
    with pytest.raises(OverrideRefused) as refused:
        meeting.override(by(case="H1", action="exclude", worker="A"))
    said = str(refused.value)
    assert said.startswith("this would leave H1 without a worker (nobody else may take the child)")
    assert "To take H1 from A anyway, choose a worker (over cap by exception" in said
    assert "unallocated" not in said
    assert meeting.decision_id == decision and final_workers(meeting.plan).get("H1", "A") == "A"


def test_the_same_override_sent_again_is_refused_and_logs_nothing(meeting: Meeting) -> None:
    # A double click: the override in force, sent again as it stands, decides nothing;
    # the plan and its sign-off stand, and the log holds no second decision.
    first = meeting.override(by(case="U", action="choose", worker="A", over_cap=True))
    signed = meeting.sign_off("Ann", decision_id=first, plan_sha256=None)
    with pytest.raises(OverrideRefused, match="already in force .*nothing logged"):
        meeting.override(by(case="U", action="choose", worker="A", over_cap=True))
    assert meeting.decision_id == first and meeting.signed is not None
    assert meeting.log.decisions()[0].id == signed
    # A new reason is a new word on the case: it is decided and logged.
    meeting.override(by(case="U", action="choose", worker="A", over_cap=True, reason="x"))
    assert meeting.decision_id > signed


def room_making(a_cap: float, u_weight: float, others: dict[str, float]) -> str | None:
    # A (the only Welsh speaker) is full: H1 pinned to A, family G (H2 + H2b) and
    # single children H3 (and H4 when A's cap takes it); ``others``: workers and caps,
    # holding nothing. U, Welsh, needs ``u_weight`` points.
    from allocator.meeting.overrides import room_by_moving

    held = [
        case("H1", worker="A", pinned_worker="A"),
        case("H2", worker="A", family="G"),
        case("H2b", worker="A", family="G"),
        case("H3", worker="A"),
    ]
    if a_cap > 12:
        held.append(case("H4", worker="A"))
    staff = [worker("A", capacity_points=a_cap, skills=["welsh"])]
    staff += [worker(w, capacity_points=cap) for w, cap in others.items()]
    u = case("U", needs=["welsh"], weight=u_weight)
    return room_by_moving(ServiceState.of(snapshot(staff, [*held, u]), POLICY), "U", "A")


def test_room_is_made_by_moving_the_fewest_children_never_a_pinned_one() -> None:
    # H3 alone makes the 3 points; family G would too, but moves two children.
    assert room_making(12, 3, {"B": 6}) == (
        "room if H3 (3.0 points) moves to B: 1 change of worker"
    )


def test_a_family_moves_whole_never_split() -> None:
    # 6 points: only family G weighs that much; its two children go together.
    assert room_making(12, 6, {"B": 6}) == (
        "room if family G (H2 + H2b, 6.0 points) moves to B: 2 changes of worker"
    )


def test_two_families_make_room_at_two_workers_when_one_lacks_it() -> None:
    # 6 points; nobody has room for family G; H3 and H4 go to B and C, 3 points each.
    assert room_making(15, 6, {"B": 3, "C": 3}) == (
        "room if H3 (3.0 points) moves to B and H4 (3.0 points) to C: 2 changes of worker"
    )
    # With room nowhere, no move is suggested (the points short are all that is said).
    assert room_making(15, 6, {"B": 0.5}) is None


def test_a_preview_says_when_a_choice_splits_siblings_and_an_accept_binds_to_it(
    tmp_path: Path,
) -> None:
    from fastapi.testclient import TestClient

    from allocator.web.app import create_app

    # K1 is held by A; K2, K1's sibling, is referred and goes to A with them. Giving
    # K2 to B splits the family: the preview says so (a fresh trial saw a split said
    # nowhere). An accept names the decision previewed, and a plan changed since is
    # refused: what was shown is what happens.
    snap = snapshot(
        [worker("A", capacity_points=9), worker("B", capacity_points=9)],
        [case("K1", worker="A", family="F"), case("K2", family="F"), case("R")],
    )
    meeting, log = opened(snap, tmp_path)
    assert final_workers(meeting.plan)["K2"] == "A"
    client = TestClient(create_app(meeting, allowed_hosts=["testserver"]))
    body = {"case": "K2", "action": "choose", "worker": "B", "reason": "r", "manager": "Ann"}
    seen = client.post("/overrides?preview=1", json=body).json()
    assert seen["families_split"] == 1 and seen["refused"] is None
    import re

    html = {"accept": "text/html", "origin": "http://testserver"}
    csrf = re.search(r'name="csrf" value="([^"]+)"', client.get("/", headers=html).text)
    assert csrf is not None
    form = {**body, "preview": "1", "csrf": csrf.group(1)}
    page = client.post("/overrides", data=form, headers=html).text
    assert "1 family is split between more workers" in page
    assert f'name="previewed" value="{meeting.decision_id}"' in page
    # Someone else's override lands first: the accept of the old preview is refused.
    other = {"case": "R", "action": "exclude", "worker": "A", "reason": "r", "manager": "Bo"}
    assert client.post("/overrides", json=other).status_code == 200
    late = client.post(f"/overrides?previewed={seen['decision_id']}", json=body)
    assert late.status_code == 409 and "Preview again" in late.json()["detail"]
    assert final_workers(meeting.plan)["K2"] == "A"
    now = client.post(f"/overrides?previewed={meeting.decision_id}", json=body)
    assert now.status_code == 200 and final_workers(meeting.plan)["K2"] == "B"
    log.close()


def test_keeping_a_child_off_a_worker_they_are_not_with_logs_no_placement(tmp_path: Path) -> None:
    # A second trial's: "placed P0019 from P0019" in a child's history, who had not moved.
    snap = snapshot(
        [worker("A", capacity_points=3), worker("B", capacity_points=3)],
        [case("R1", previous_workers=["A"])],
    )
    meeting, log = opened(snap, tmp_path)
    meeting.override(by(case="R1", action="exclude", worker="B"))
    assert [e.event for e in log.history("R1")] == ["proposed", "kept_off"]
    log.close()


def test_keeping_a_child_off_an_over_cap_workers_placements_moves_them_once(
    tmp_path: Path,
) -> None:
    # A third trial's: after an over-cap exception on A, keeping R (given A by the plan)
    # off A listed R twice, with A and with B: the exception's "other placements stand"
    # held R at A though the manager had just kept R off A.
    snap = snapshot(
        [worker("A", capacity_points=3), worker("B", capacity_points=3)],
        [case("R", previous_workers=["A"]), case("U", priority="urgent")],
    )
    meeting, log = opened(snap, tmp_path)
    assert final_workers(meeting.plan)["R"] == "A"
    meeting.override(by(case="U", action="choose", worker="A", over_cap=True))
    assert final_workers(meeting.plan)["R"] == "A"  # R stands beside the exception
    meeting.override(by(case="R", action="exclude", worker="A"))
    cases = [a.case for a in meeting.plan.assignments]
    assert sorted(cases) == sorted(set(cases))  # nobody twice
    assert final_workers(meeting.plan)["R"] == "B"
    assert check_plan(snap, POLICY, meeting.plan) == []
    assert replay(log, meeting.decision_id).identical
    log.close()


def test_a_later_re_solve_counts_moves_made_to_make_room_against_the_intake_limit(
    tmp_path: Path,
) -> None:
    # One new family a worker a day. U (urgent, Welsh) is given to A by moving H1 to
    # B: B's one new family. R, back with C (their previous worker), is then kept off
    # C: B has the room but not the intake, so R waits (a fresh trial's re-solve held
    # H1 at B as if B had held them yesterday, gave R to B too, and check refused the
    # plan: B took two new families).
    policy = Policy(max_new_families_per_day=1)
    snap = snapshot(
        [worker("A", capacity_points=3, skills=["welsh"]), worker("B", capacity_points=9),
         worker("C", capacity_points=3)],
        [case("H1", worker="A"), case("U", priority="urgent", needs=["welsh"]),
         case("R", previous_workers=["C"])],
    )  # fmt: skip
    meeting, log = opened(snap, tmp_path, policy)
    assert final_workers(meeting.plan)["R"] == "C"
    meeting.override(by(case="U", action="choose", worker="A", make_room=True), previewed=True)
    assert final_workers(meeting.plan)["H1"] == "B"
    meeting.override(by(case="R", action="exclude", worker="C"))
    after = final_workers(meeting.plan)
    assert after["H1"] == "B" and after["U"] == "A" and after["R"] is None
    assert check_plan(snap, policy, meeting.plan) == []
    # Its totals are the snapshot's, as check counts them: H1's move is no allocation
    # (a fresh trial's plan said 1,022 allocated where its placements give 1,019).
    assert stale_summaries(snap, policy, meeting.plan) == []
    # The standing move keeps the reason it was made with, not a pin's.
    (h1,) = [a for a in meeting.plan.assignments if a.case == "H1"]
    assert h1.from_ == "A" and not any("pinned" in r for r in h1.reasons)
    log.close()


def test_a_child_who_needs_no_worker_cannot_be_left_unallocated(meeting: Meeting) -> None:
    # H1 is held by A, who may keep them: a plan lists as unallocated only a child who
    # needs a worker (a fresh trial's 'leave unallocated' on such a child made a plan
    # check and apply refused, and the page said nothing).
    with pytest.raises(OverrideError) as refused:
        meeting.override(by(case="H1", action="unallocate"))
    said = str(refused.value)
    assert "H1 is held by A, who may keep them" in said and "choose another worker" in said
    assert meeting.overrides == []


def test_an_accepted_override_says_where_its_child_ends(tmp_path: Path) -> None:
    # Keeping R off the worker the plan gave them moves R: the answer and the page
    # say where R went (a fresh trial's exclude answered "moved": [] and the page
    # "Nothing else moved", and R was listed nowhere).
    from fastapi.testclient import TestClient

    from allocator.web.app import create_app

    snap = snapshot(
        [worker(w, capacity_points=3) for w in "AB"], [case("R", previous_workers=["A"])]
    )
    meeting, log = opened(snap, tmp_path)
    client = TestClient(create_app(meeting, allowed_hosts=["testserver"]))
    body = {"case": "R", "action": "exclude", "worker": "A", "reason": "r", "manager": "Ann"}
    done = client.post("/overrides", json=body)
    assert done.status_code == 200 and done.json()["ends"] == {"R": "B"}
    assert client.get("/", headers={"Accept": "application/json"}).json()["ends"] == {"R": "B"}
    page = client.get("/", headers={"Accept": "text/html"}).text
    assert "The last override: R with B." in page
    log.close()


def test_over_cap_answers_say_how_far_over_the_worker_is_and_would_be(tmp_path: Path) -> None:
    # A (cap 3) holds H1 (3 points); U1 and U2 are urgent Welsh referrals only A may
    # hold. A fresh trial read "A has 0.0 spare" of a worker already far over cap,
    # and nothing said where the exception would leave them.
    snap = snapshot(
        [worker("A", capacity_points=3, skills=["welsh"]), worker("B", capacity_points=3)],
        [case("H1", worker="A"), case("U1", priority="urgent", needs=["welsh"]),
         case("U2", priority="urgent", needs=["welsh"])],
    )  # fmt: skip
    meeting, log = opened(snap, tmp_path)
    meeting.override(by(case="U1", action="choose", worker="A", over_cap=True))
    # A worker over cap is short by what they are over too (a fresh trial read "14.0
    # points short" of a worker 7.0 over, for a child of 14.0).
    with pytest.raises(OverrideRefused) as refused:
        meeting.override(by(case="U2", action="choose", worker="A"))
    assert str(refused.value).startswith(
        "U2 needs 3.0 points; A is 3.0 points over their cap under the plan in force: "
        "6.0 points short"
    )
    assert meeting.said == (
        "U1 needs 3.0 points; A has 0.0 spare under the plan in force; over cap by "
        "exception, A would hold 6.0 of 3.0 points"
    )
    meeting.override(by(case="U2", action="choose", worker="A", over_cap=True))
    assert meeting.said == (
        "U2 needs 3.0 points; A is 3.0 points over their cap under the plan in force; "
        "over cap by exception, A would hold 9.0 of 3.0 points"
    )
    assert check_plan(snap, POLICY, meeting.plan) == []
    log.close()


def test_an_accepted_choice_that_splits_a_family_says_so(tmp_path: Path) -> None:
    # K1 and K2, siblings, go to A together; K1 is then given to B: the answer and the
    # page say a family was split (a fresh trial's over-cap choice split siblings
    # unsaid).
    from fastapi.testclient import TestClient

    from allocator.web.app import create_app

    snap = snapshot(
        [worker("A", capacity_points=9, skills=["welsh"]), worker("B", capacity_points=9)],
        [case("K1", family="F1"), case("K2", family="F1", needs=["welsh"])],
    )
    meeting, log = opened(snap, tmp_path)
    assert final_workers(meeting.plan) == {"K1": "A", "K2": "A"}
    client = TestClient(create_app(meeting, allowed_hosts=["testserver"]))
    body = {"case": "K1", "action": "choose", "worker": "B", "reason": "r", "manager": "Ann"}
    done = client.post("/overrides", json=body)
    assert done.status_code == 200 and done.json()["families_split"] == 1
    page = client.get("/", headers={"Accept": "text/html"}).text
    assert "it split 1 family (siblings now with more than one worker)" in page
    log.close()


def test_room_made_for_a_choice_that_goes_to_a_child_first_in_order_is_said(
    tmp_path: Path,
) -> None:
    # A (the only Welsh speaker, cap 3) holds H1, whom B could take. S (statutory) and
    # U (urgent) both need Welsh. The manager gives S to A, making room: the room
    # made by moving H1 goes to U, who comes first. A fresh trial was told "no moves
    # make room" where the page named one.
    snap = snapshot(
        [worker("A", capacity_points=3, skills=["welsh"]), worker("B", capacity_points=3)],
        [case("H1", worker="A"), case("U", priority="urgent", needs=["welsh"]),
         case("S", type="child_protection", needs=["welsh"])],
    )  # fmt: skip
    meeting, log = opened(snap, tmp_path)
    with pytest.raises(OverrideRefused) as refused:
        meeting.override(by(case="S", action="choose", worker="A", make_room=True), previewed=True)
    said = str(refused.value)
    assert "3.0 points short, and the room the re-solve made with A went to U" in said
    assert "(class, then wait)" in said and meeting.overrides == []
    log.close()


def test_a_child_a_re_solve_gives_a_first_worker_is_logged_placed(tmp_path: Path) -> None:
    # A and B have room for one child each: R1 and R2 are placed, W waits. R1 left
    # unallocated frees A for W, whose event is 'placed', not 'moved' from nobody.
    snap = snapshot(
        [worker(w, capacity_points=3) for w in "AB"],
        [case("R1", opened=date(2026, 11, 1)), case("R2", opened=date(2026, 11, 1)),
         case("W", opened=date(2026, 11, 20))],
    )  # fmt: skip
    meeting, log = opened(snap, tmp_path)
    assert final_workers(meeting.plan)["W"] is None
    meeting.override(by(case="R1", action="unallocate"))
    (event,) = [e for e in log.history("W") if e.decision_id == meeting.decision_id]
    assert (event.event, event.from_worker) == ("placed", None) and event.worker is not None
    log.close()


def test_a_worker_over_cap_in_the_snapshot_is_refused_with_the_rule_said(
    meeting: Meeting,
) -> None:
    snap = snapshot(
        [worker("A", capacity_points=3), worker("B", capacity_points=9)],
        [case("H1", worker="A", weight=4.0), case("U", priority="urgent")],
    )
    state = ServiceState.of(snap, POLICY)
    with pytest.raises(OverrideError) as refused:
        check_holdable(state, by(case="U", action="choose", worker="A"))
    said = str(refused.value)
    assert "A is over capacity (4.0 of 3.0 points) (rule capacity)" in said
    assert "takes no new case, even where the plan in force moves work off them" in said
    assert "a manager may give urgent and statutory children over cap by exception" in said


def test_a_child_moved_to_make_room_then_kept_off_their_new_worker_goes_on(
    tmp_path: Path,
) -> None:
    # U was given to A by moving H1 to B. Keeping H1 off B moves H1 on to D, who has
    # room, not back to A, whose room U's choice has (a fresh trial's exclusion was
    # refused where another worker had room). With nobody else, it is refused.
    snap = snapshot(
        [worker("A", capacity_points=3, skills=["welsh"]), worker("B", capacity_points=9),
         worker("C", capacity_points=3), worker("D", capacity_points=3)],
        [case("H1", worker="A"), case("H3", worker="C"), case("D1", worker="D"),
         case("U", priority="urgent", needs=["welsh"])],
    )  # fmt: skip
    meeting, log = opened(snap, tmp_path)
    meeting.override(by(case="U", action="choose", worker="A", make_room=True), previewed=True)
    assert final_workers(meeting.plan)["H1"] == "B"
    # D is full: nobody but A (whose room U has) may take H1 off B.
    with pytest.raises(OverrideRefused) as refused:
        meeting.override(by(case="H1", action="exclude", worker="B"), previewed=True)
    assert str(refused.value).startswith("this would leave H1 without a worker")
    log.close()
    roomy = snap.model_copy(
        update={"cases": tuple(c for c in snap.cases if c.id != "D1")}
    )  # D now has room
    meeting, log = opened(roomy, tmp_path, db="log2.db")
    meeting.override(by(case="U", action="choose", worker="A", make_room=True), previewed=True)
    moved_to = final_workers(meeting.plan)["H1"]
    assert moved_to in {"B", "D"}
    meeting.override(by(case="H1", action="exclude", worker=moved_to), previewed=True)
    after = final_workers(meeting.plan)
    assert after["U"] == "A" and after["H1"] not in {"A", moved_to, None}
    assert check_plan(roomy, POLICY, meeting.plan) == []
    log.close()


def proofs_hold(plan: Plan) -> bool:
    """Every tier a plan says is proved has its value at its bound, and 'optimal' only
    with every tier proved."""
    proved = plan.proved or {}
    bound = plan.bound or {}
    held = all(bound.get(k) == plan.objective.get(k) for k, yes in proved.items() if yes)
    return held and (plan.status != "optimal" or all(proved.values()))


def test_a_re_solved_plan_claims_no_proof_its_values_do_not_meet(tmp_path: Path) -> None:
    # A fresh trial read "proved yes" beside values above their bounds after
    # exceptions and moves: the re-solve counts its plan anew from the snapshot.
    snap = room_then_more()
    meeting, log = opened(snap, tmp_path)
    assert proofs_hold(meeting.plan)
    meeting.override(by(case="U", action="choose", worker="A", make_room=True), previewed=True)
    assert proofs_hold(meeting.plan)
    meeting.override(by(case="R", action="exclude", worker="B"))
    assert proofs_hold(meeting.plan)
    log.close()


def test_a_family_choice_keeps_a_siblings_own_documented_exception(tmp_path: Path) -> None:
    # S1 was given to A over cap with the head of service's reason; giving the family
    # to A as one action adds S2 and leaves S1's reason as it was (a fresh trial's
    # family choice wrote its own reason over it).
    snap = snapshot(
        [worker("A", capacity_points=3, skills=["welsh"]), worker("B", capacity_points=3)],
        [case("H1", worker="A"),
         case("S1", family="F", priority="urgent", needs=["welsh"]),
         case("S2", family="F", priority="urgent", needs=["welsh"])],
    )  # fmt: skip
    meeting, log = opened(snap, tmp_path)
    meeting.override(
        by(case="S1", action="choose", worker="A", over_cap=True, reason="agreed with HoS")
    )
    meeting.override(
        by(case="S2", action="choose", worker="A", over_cap=True, family=True, reason="sibling")
    )
    reasons = {e.case: e.reason for e in meeting.plan.exceptions}
    assert reasons["S1"].endswith("agreed with HoS") and reasons["S2"].endswith("sibling")
    assert [e.event for e in log.history("S1")].count("chosen_over_cap") == 1
    assert check_plan(snap, POLICY, meeting.plan) == []
    log.close()


def test_the_re_solve_note_counts_only_placements_no_override_names(tmp_path: Path) -> None:
    # R1 kept off A goes to B; R2 stays: "0 of its 1 other placement changed" (a fresh
    # trial's note counted the excluded child among the others).
    snap = snapshot(
        [worker(w, capacity_points=6) for w in "ABC"],
        [case("R1", previous_workers=["A"]), case("R2", previous_workers=["C"])],
    )
    meeting, log = opened(snap, tmp_path)
    meeting.override(by(case="R1", action="exclude", worker="A"))
    assert final_workers(meeting.plan) == {"R1": "B", "R2": "C"}
    assert any(n.endswith("0 of its 1 other placement changed") for n in meeting.plan.notes)
    log.close()


def test_a_chosen_childs_reasons_say_the_choice_once(tmp_path: Path) -> None:
    # A fresh trial read "chosen by Ann: ..." and then "pinned to B by a manager".
    snap = snapshot(
        [worker(w, capacity_points=6) for w in "AB"], [case("R", previous_workers=["A"])]
    )
    meeting, log = opened(snap, tmp_path)
    meeting.override(by(case="R", action="choose", worker="B"))
    (r,) = meeting.plan.assignments
    assert r.worker == "B" and r.reasons[0] == "chosen by Ann: court tomorrow"
    assert not any(reason.startswith("pinned to") for reason in r.reasons)
    log.close()


def test_families_split_and_joined_are_counted_apart() -> None:
    # F2 joins F1 with A while G2 leaves G1 for B: one family joined, one split (a
    # fresh trial's preview said 0, the net, and hid the split).
    from allocator.contract.models import Assignment
    from allocator.meeting.overrides import families_changed

    snap = snapshot(
        [worker("A", capacity_points=9), worker("B", capacity_points=9)],
        [case("F1", family="F", worker="A"), case("F2", family="F"),
         case("G1", family="G", worker="A"), case("G2", family="G", worker="A")],
    )  # fmt: skip
    before = allocate(snap, POLICY, work_units=1.0)
    after = before.model_copy(
        update={
            "assignments": (
                Assignment(case="F2", worker="A", reasons=("r",)),
                Assignment(case="G2", worker="B", from_="A", reasons=("r",)),
            )
        }
    )
    start = before.model_copy(
        update={"assignments": (Assignment(case="F2", worker="B", reasons=("r",)),)}
    )
    assert families_changed(snap, start, after) == (1, 1)
    assert families_changed(snap, after, start) == (1, 1)
    assert families_changed(snap, start, start) == (0, 0)


def test_a_move_made_for_a_choice_since_changed_is_released(tmp_path: Path) -> None:
    # A and C speak Welsh and are full (H1, H3); B has room. U is given to A by moving
    # H1 to B; then the manager gives U to C instead, moving H3 to B: H1 goes back to
    # A, whose room no choice needs now (a fresh trial's child stayed moved, their
    # reason naming the old choice).
    snap = snapshot(
        [worker("A", capacity_points=3, skills=["welsh"]), worker("B", capacity_points=9),
         worker("C", capacity_points=3, skills=["welsh"])],
        [case("H1", worker="A"), case("H3", worker="C"),
         case("U", priority="urgent", needs=["welsh"])],
    )  # fmt: skip
    meeting, log = opened(snap, tmp_path)
    meeting.override(by(case="U", action="choose", worker="A", make_room=True), previewed=True)
    assert final_workers(meeting.plan)["H1"] == "B"
    meeting.override(by(case="U", action="choose", worker="C", make_room=True), previewed=True)
    after = final_workers(meeting.plan)
    assert after["U"] == "C" and after.get("H3") == "B" and "H1" not in after
    assert check_plan(snap, POLICY, meeting.plan) == []
    log.close()
