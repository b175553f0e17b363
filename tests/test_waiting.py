"""Waiting time: a fact the engine knows, and no child starved within a class (issue 19).

Hand-worked instances: each comment gives the answer and why.
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from allocator.contract.models import Snapshot
from allocator.contract.policy import Policy, PolicyError
from allocator.domain.objectives import class_tiers, rebalance_tiers
from allocator.domain.rules import ServiceState
from allocator.io import InputError, load_policy, load_snapshot
from allocator.present.analysis import explain_case
from allocator.problems.daily import allocate
from allocator.problems.rebalancing import rebalance
from allocator.problems.recommend import recommend
from tests.builders import case, snapshot, worker

AS_OF = date(2026, 11, 23)
COUNT = Policy.model_validate({"waiting": {"rule": "count", "reserve_after_days": 0}})
AGE = Policy.model_validate({"waiting": {"rule": "age", "reserve_after_days": 0}})
#: ``age`` with a child who lost their worker counted by days waited, like a referral.
AGE_AS_WAITED = Policy.model_validate(
    {"waiting": {"rule": "age", "reserve_after_days": 0, "lost_worker_weeks": 0}}
)
RESERVE = Policy.model_validate({"waiting": {"rule": "age", "reserve_after_days": 14}})


def days_ago(n: int) -> date:
    return AS_OF - timedelta(days=n)


def placed(snap: Snapshot, policy: Policy) -> dict[str, str]:
    plan = allocate(snap, policy, time_limit=5)
    return {a.case: a.worker for a in plan.assignments}


# ------------------------------------------------------------------ at the door


def snapshot_file(tmp_path: Path, **fields: Any) -> Path:
    data = {
        "format": "caseload-snapshot/1",
        "as_of": AS_OF.isoformat(),
        "practitioners": [{"id": "P1", "team": "T", "grade": "senior", "fte": 1.0}],
        "cases": [{"id": "C1", "family": "F1", "type": "court", "complexity": 2, **fields}],
    }
    path = tmp_path / "s.json"
    path.write_text(json.dumps(data))
    return path


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        (
            {"waiting_since": "2026-11-24"},
            "s.json, cases[0] (id C1): field 'waiting_since' is '2026-11-24', after the "
            "snapshot's day (as_of 2026-11-23), expected the day the child started waiting",
        ),
        (
            {"waiting_since": "1899-12-31"},
            "field 'waiting_since' is '1899-12-31', expected a date written YYYY-MM-DD from",
        ),
        (
            {"waiting_since": "2026-10-01", "opened": "2026-10-02"},
            "s.json, cases[0] (id C1): field 'waiting_since' is '2026-10-01', before the day "
            "the case opened ('opened' 2026-10-02), expected a day on or after it",
        ),
        ({"waiting_since": "23/11/2026"}, "expected a date written YYYY-MM-DD"),
    ],
)
def test_a_waiting_date_that_cannot_be_is_refused_with_the_case_and_field(
    tmp_path: Path, fields: dict[str, str], expected: str
) -> None:
    with pytest.raises(InputError) as caught:
        load_snapshot(snapshot_file(tmp_path, **fields))
    text = "\n".join(caught.value.problems)
    assert expected in text
    assert "C1" in text or "cases[0]" in text


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        (
            "2026-11-24",
            "cases.csv, line 2 (id C1): field 'waiting_since' is '2026-11-24', after the "
            "snapshot's day (as_of 2026-11-23), expected",
        ),
        (
            " 2026-10-01 ",
            "cases.csv, line 2 (id C1): field 'waiting_since' is '2026-10-01', before the "
            "day the case opened ('opened' 2026-10-02), expected a day on or after it",
        ),
    ],
)
def test_a_waiting_date_that_cannot_be_is_one_sentence_naming_the_csv_line(
    tmp_path: Path, cell: str, expected: str
) -> None:
    # The dates are each well written: the problem is between them and the day, one
    # sentence with the file, line and id, never split in two at its "; ".
    folder = tmp_path / "snap"
    folder.mkdir()
    (folder / "snapshot.csv").write_text(f"format,as_of\ncaseload-snapshot/1,{AS_OF}\n")
    (folder / "practitioners.csv").write_text("id,team,grade,fte\nP1,T,senior,1\n")
    (folder / "cases.csv").write_text(
        f"id,family,type,complexity,opened,waiting_since\nC1,F1,court,2,2026-10-02,{cell}\n"
    )
    with pytest.raises(InputError) as caught:
        load_snapshot(folder)
    assert len(caught.value.problems) == 1
    assert expected in caught.value.problems[0]


def test_a_referrals_waiting_date_after_the_day_names_the_referrals_file(tmp_path: Path) -> None:
    snap = snapshot_file(tmp_path)
    referrals = tmp_path / "r.json"
    referrals.write_text(
        json.dumps(
            [
                {
                    "id": "R1",
                    "family": "F9",
                    "type": "court",
                    "complexity": 2,
                    "waiting_since": "2026-11-30",
                }
            ]
        )
    )
    with pytest.raises(InputError) as caught:
        load_snapshot(snap, referrals=referrals)
    assert caught.value.problems == [
        f"{referrals}, cases[0] (id R1): field 'waiting_since' is '2026-11-30', after the "
        "snapshot's day (as_of 2026-11-23), expected the day the child started waiting, on "
        "or before the snapshot's day."
    ]


def test_a_waiting_date_outside_the_domain_is_one_problem_not_two(tmp_path: Path) -> None:
    # Before 1900 is the date's own problem; it is not also "before opened".
    with pytest.raises(InputError) as caught:
        load_snapshot(snapshot_file(tmp_path, waiting_since="1899-12-31", opened="2026-10-02"))
    assert len(caught.value.problems) == 1


def test_the_waiting_rule_is_checked_in_the_policy(tmp_path: Path) -> None:
    path = tmp_path / "p.toml"
    path.write_text('[waiting]\nrule = "oldest"\n')
    with pytest.raises(PolicyError, match=r"waiting\.rule"):
        load_policy(path)


@pytest.mark.parametrize(
    ("rule", "label"),
    [
        ("count", "without a worker: statutory"),
        (
            "age",
            "without a worker: statutory (waiting weight: each child 1 + weeks waited + any "
            "head start)",
        ),
        (
            "age_points",
            "without a worker: statutory (waiting weight: each child's points x 2 x "
            "(1 + weeks waited + any head start))",
        ),
    ],
)
def test_the_class_tiers_label_says_what_its_value_counts(rule: str, label: str) -> None:
    # The label is what a manager reads beside the value: under age_points a 3-point
    # child referred today and a 5-point child who waited two weeks count
    # 3 x 2 x 1 + 5 x 2 x 3 = 36, as the label's formula gives.
    policy = Policy.model_validate({"waiting": {"rule": rule, "reserve_after_days": 0}})
    (statutory,) = [t for t in class_tiers(policy) if t.key == "unallocated_statutory"]
    assert statutory.label == label
    snap = snapshot(
        [worker("W", capacity_points=1)],
        [
            case("A", type="child_protection", weight=3, opened=AS_OF),
            case("B", type="child_protection", weight=5, opened=days_ago(14)),
        ],
    )
    expected = {"count": 2, "age": 1 + 3, "age_points": 36}[rule]
    assert allocate(snap, policy, time_limit=5).objective["unallocated_statutory"] == expected


# ------------------------------------------------------------------ days waited


def test_days_waiting_from_waiting_since_else_opened_else_the_leavers_last_day() -> None:
    snap = snapshot(
        [worker("W"), worker("GONE", leaving_on=days_ago(5))],
        [
            case("A", opened=days_ago(30)),  # a referral opened 30 days ago
            case("B", opened=days_ago(300), waiting_since=days_ago(12)),  # lost a worker
            case("C", worker="GONE", opened=days_ago(400)),  # their worker left 5 days ago
            case("D"),  # no dates: waiting from today
            case("E", worker="W", opened=days_ago(99)),  # has a worker: not waiting
        ],
    )
    state = ServiceState.of(snap, AGE)
    assert state.days_waiting == {"A": 30, "B": 12, "C": 5, "D": 0}
    # age: 1 + whole weeks waited; C lost their worker and counts 4 weeks more than
    # waited (waiting.lost_worker_weeks, the default): 1 + (5 + 28) // 7 = 5.
    assert state.waiting_weight == {"A": 5, "B": 2, "C": 5, "D": 1}
    assert ServiceState.of(snap, AGE_AS_WAITED).waiting_weight == {"A": 5, "B": 2, "C": 1, "D": 1}
    assert ServiceState.of(snap, COUNT).waiting_weight == dict.fromkeys("ABCD", 1)


# ------------------------------------------------------------------ a lost worker first


def lost_against_waiting(referred_days_ago: int) -> Snapshot:
    # W has 5 points of room. LOST (5 points) lost their worker, who left yesterday;
    # WAITED (5 points) was referred some days ago. Both are statutory.
    return snapshot(
        [worker("W", capacity_points=5), worker("GONE", leaving_on=days_ago(1))],
        [
            case("LOST", type="child_protection", weight=5, worker="GONE", opened=days_ago(200)),
            case("WAITED", type="child_protection", weight=5, opened=days_ago(referred_days_ago)),
        ],
    )


def test_a_child_who_lost_their_worker_comes_before_shorter_waits_in_their_class() -> None:
    # The leaver's child has waited a day, the referral 20: by days waited the
    # referral comes first (1 against 1 + 2 weeks); the 4 weeks' head start counts the
    # leaver's child 1 + 4, so the gap in their work is short.
    assert placed(lost_against_waiting(20), AGE_AS_WAITED) == {"WAITED": "W"}
    assert placed(lost_against_waiting(20), AGE) == {"LOST": "W"}
    plan = rebalance(lost_against_waiting(20), AGE, time_limit=5)
    assert {a.case: a.worker for a in plan.assignments} == {"LOST": "W"}


def test_a_child_who_lost_their_worker_does_not_pass_the_longest_waits() -> None:
    # A referral waiting 120 days (1 + 17 weeks) still outweighs the head start (1 + 4).
    assert placed(lost_against_waiting(120), AGE) == {"WAITED": "W"}


def test_a_child_back_in_the_queue_after_losing_their_worker_comes_first() -> None:
    # The simulation's and apply's form of the same child the morning after: no worker,
    # a previous worker, waiting since the worker's last day.
    snap = snapshot(
        [worker("W", capacity_points=5)],
        [
            case(
                "LOST",
                type="child_protection",
                weight=5,
                opened=days_ago(200),
                previous_workers=("GONE",),
                waiting_since=days_ago(1),
            ),
            case("WAITED", type="child_protection", weight=5, opened=days_ago(20)),
        ],
    )
    assert ServiceState.of(snap, AGE).lost_worker == frozenset({"LOST"})
    assert placed(snap, AGE) == {"LOST": "W"}


def test_a_lost_worker_never_outranks_a_higher_class() -> None:
    # An urgent referral still comes before a statutory child who lost their worker.
    snap = snapshot(
        [worker("W", capacity_points=5)],
        [
            case(
                "LOST",
                type="child_protection",
                weight=5,
                opened=days_ago(200),
                previous_workers=("GONE",),
                waiting_since=days_ago(30),
            ),
            case("URGENT", type="child_in_need", weight=5, priority="urgent", opened=AS_OF),
        ],
    )
    assert placed(snap, AGE) == {"URGENT": "W"}


# ------------------------------------------------------------------ within a class


def court_against_two() -> Snapshot:
    # W has 10.5 points of room. A court child (7 x 1.5 = 10.5 points) has waited 60
    # days; two child-protection children (5 points each) were referred today. Both
    # are statutory: W can take the court child or the two others, not all three.
    return snapshot(
        [worker("W", capacity_points=10.5)],
        [
            case("COURT", type="court", complexity=3, weight=10.5, opened=days_ago(60)),
            case("CP1", type="child_protection", weight=5, opened=AS_OF),
            case("CP2", type="child_protection", weight=5, opened=AS_OF),
        ],
    )


def test_counting_passes_over_the_child_who_has_waited() -> None:
    # Counting: two children beat one, whatever the wait.
    assert placed(court_against_two(), COUNT) == {"CP1": "W", "CP2": "W"}


def test_the_age_rule_places_the_child_who_has_waited() -> None:
    # Age: the court child weighs 1 + 8 weeks waited + the court head start (12 weeks)
    # = 21, the two new referrals 1 + 1 = 2.
    assert placed(court_against_two(), AGE) == {"COURT": "W"}


# ------------------------------------------------------------------ reservations


def stream_day(day: int, policy: Policy) -> dict[str, str]:
    """Day ``day`` of a daily stream against a court child who fits nowhere.

    W (cap 20) held four 5-point cases; one closes each morning, and each morning one
    child-protection child (5 points) is referred. The court child (10.5 points) has
    waited 60 days. ``day`` children have closed; each earlier day's referral is
    assumed placed with W (as counting would do), unless W's room was held.
    """
    held = [case(f"H{i}", worker="W", weight=5) for i in range(4 - day)]
    held += [case(f"CP{d}", worker="W", weight=5) for d in range(1, day)]
    return placed(
        snapshot(
            [worker("W", capacity_points=20)],
            [
                *held,
                case("COURT", type="court", complexity=3, weight=10.5, opened=days_ago(60 - day)),
                case(f"CP{day}", type="child_protection", weight=5, opened=AS_OF),
            ],
        ),
        policy,
    )


def test_without_a_reservation_a_daily_stream_starves_the_heavy_child() -> None:
    # Each morning 5 points are free: the court child (10.5) never fits, the day's
    # referral always does, and takes the room again.
    for day in (1, 2, 3):
        snap_plan = stream_day(day, AGE)
        assert "COURT" not in snap_plan
        # (the stream's referral takes the 5 freed points)
        assert snap_plan == {f"CP{day}": "W"}


def test_a_reservation_holds_the_room_until_the_long_waiting_child_fits() -> None:
    # With room held for the court child (waited 60 >= 14 days), W takes no other
    # statutory child: room builds up 5 points a day, and on day 3 (15 >= 10.5 points
    # free) the court child is placed. Bound: ceil(10.5 / 5) = 3 days.
    state_day1 = ServiceState.of(
        snapshot(
            [worker("W", capacity_points=20)],
            [
                *[case(f"H{i}", worker="W", weight=5) for i in range(3)],
                case("COURT", type="court", complexity=3, weight=10.5, opened=days_ago(59)),
                case("CP1", type="child_protection", weight=5, opened=AS_OF),
            ],
        ),
        RESERVE,
    )
    assert state_day1.held_for == {"W": "COURT"}
    assert state_day1.eligible("CP1") == []

    # Day by day: the held room is not refilled, so it grows.
    def day_of(closed: int) -> dict[str, str]:
        return placed(
            snapshot(
                [worker("W", capacity_points=20)],
                [
                    *[case(f"H{i}", worker="W", weight=5) for i in range(4 - closed)],
                    case(
                        "COURT",
                        type="court",
                        complexity=3,
                        weight=10.5,
                        opened=days_ago(60 - closed),
                    ),
                    *[
                        case(f"CP{d}", type="child_protection", weight=5, opened=AS_OF)
                        for d in range(1, closed + 1)
                    ],
                ],
            ),
            RESERVE,
        )

    assert day_of(1) == {}
    assert day_of(2) == {}
    assert "COURT" in day_of(3)


def test_no_room_is_held_for_a_child_above_every_cap_they_could_have() -> None:
    # OLD (5 points) has waited 53 days but A's cap is 3: freed room never makes OLD
    # fit A, so A's room is not held and R2 (2 points), who fits, is placed.
    snap = snapshot(
        [worker("A", capacity_points=3)],
        [
            case("OLD", type="child_protection", weight=5, opened=days_ago(53)),
            case("R2", type="child_protection", weight=2, opened=AS_OF),
        ],
    )
    assert ServiceState.of(snap, RESERVE).held_for == {}
    assert placed(snap, RESERVE) == {"R2": "A"}


def test_a_lost_workers_head_start_does_not_hold_room_before_the_days_are_waited() -> None:
    # LOST lost their worker yesterday (a head start in the class tier) but has
    # waited 1 day of the 14 before room is held for them.
    snap = snapshot(
        [worker("W", capacity_points=3), worker("GONE", leaving_on=days_ago(1))],
        [case("LOST", type="child_protection", weight=5, worker="GONE", opened=days_ago(200))],
    )
    assert ServiceState.of(snap, RESERVE).held_for == {}


def test_an_urgent_child_is_never_kept_off_room_held_for_a_statutory_one() -> None:
    snap = snapshot(
        [worker("W", capacity_points=20)],
        [
            *[case(f"H{i}", worker="W", weight=5) for i in range(3)],
            case("COURT", type="court", complexity=3, weight=10.5, opened=days_ago(59)),
            case("URG", type="child_in_need", priority="urgent", weight=5, opened=AS_OF),
        ],
    )
    # W is held for the court child, but an urgent child ranks above them.
    assert placed(snap, RESERVE) == {"URG": "W"}


def test_a_child_kept_off_held_room_is_told_why_and_the_plan_says_whose_it_is() -> None:
    # W (cap 20) holds three 5-point cases: 5 points free. The court child (10.5
    # points, waited 59 days) fits nowhere, so W's room is held; the new
    # child-protection referral could fit but is kept off it.
    snap = snapshot(
        [worker("W", capacity_points=20)],
        [
            *[case(f"H{i}", worker="W", weight=5) for i in range(3)],
            case("COURT", type="court", complexity=3, weight=10.5, opened=days_ago(59)),
            case("CP1", type="child_protection", weight=5, opened=AS_OF),
        ],
    )
    plan = allocate(snap, RESERVE, time_limit=5)
    reasons = {u.case: (str(u.code), u.reason, u.days_waiting) for u in plan.unallocated}
    code, reason, waited = reasons["CP1"]
    assert code == "no_capacity" and waited == 0
    assert "held for" in reason and "COURT" in reason and "59 days" in reason
    assert reasons["COURT"][2] == 59
    assert any(
        n.startswith("W's room is held for COURT, who has waited 59 days") for n in plan.notes
    )


def test_explain_tells_the_held_room_story_for_the_worker_kept_off() -> None:
    # The same morning: the plan is proved best and CP1's reason names COURT's held
    # room, so explain's why-not for W says so too, not "the search stopped".
    snap = snapshot(
        [worker("W", capacity_points=20)],
        [
            *[case(f"H{i}", worker="W", weight=5) for i in range(3)],
            case("COURT", type="court", complexity=3, weight=10.5, opened=days_ago(59)),
            case("CP1", type="child_protection", weight=5, opened=AS_OF),
        ],
    )
    plan = allocate(snap, RESERVE, time_limit=5)
    why = explain_case(snap, RESERVE, plan, "CP1")
    (alternative,) = [a for a in why.alternatives if a.worker == "W"]
    assert alternative.why_not == (
        "room held for COURT, waiting 59 days (policy waiting.reserve_after_days): no child "
        "of their class or below goes to W until COURT fits",
    )


def test_recommend_says_first_when_a_workers_room_is_held_for_a_longer_wait() -> None:
    # The same morning: W is the only worker, eligible by every rule for CP1 (held
    # room is the engine's device, not a rule a manager must obey), and its first
    # reason, the one the meeting page shows, says whose the room is.
    snap = snapshot(
        [worker("W", capacity_points=20)],
        [
            *[case(f"H{i}", worker="W", weight=5) for i in range(3)],
            case("COURT", type="court", complexity=3, weight=10.5, opened=days_ago(59)),
            case("CP1", type="child_protection", weight=5, opened=AS_OF),
        ],
    )
    held = (
        "W's room is held for COURT, waiting 59 days (policy waiting.reserve_after_days): "
        "the engine places no child of this class or below with W until COURT fits"
    )
    (w,) = recommend(snap, "CP1", RESERVE).ranked
    assert w.worker == "W" and w.reasons[0] == held
    # The child the room is held for is not kept off it (W is short of room for
    # COURT: a near miss), and with no reservations nobody is.
    (near,) = recommend(snap, "COURT", RESERVE).ineligible
    assert near.worker == "W" and all("held" not in r for r in near.reasons)
    assert all("held" not in r for r in recommend(snap, "CP1", AGE).ranked[0].reasons)


def test_a_handover_kept_off_held_room_is_told_whose_room_it_is() -> None:
    # W's 5 free points are held for COURT (10.5 points, waited 59 days). L leaves in
    # 10 days holding K (3 points, other work): W is the only one who could take K,
    # but not while W's room is held, so the note says so instead of "nobody has room".
    snap = snapshot(
        [worker("W", capacity_points=20), worker("L", leaving_on=AS_OF + timedelta(days=10))],
        [
            *[case(f"H{i}", worker="W", weight=5) for i in range(3)],
            case("COURT", type="court", complexity=3, weight=10.5, opened=days_ago(59)),
            case("K", worker="L", weight=3),
        ],
    )
    plan = rebalance(snap, RESERVE, time_limit=5)
    assert [h.case for h in plan.handovers] == []
    (note,) = [n for n in plan.notes if "no handover yet for K" in n]
    assert (
        "nobody who may hold them has room in this plan, except room held for children who "
        "have waited longer (W's for COURT; policy waiting.reserve_after_days)"
    ) in note


def test_a_leavers_child_opened_after_the_worker_left_waits_from_the_opening() -> None:
    # GONE left 10 days ago; C was opened (and given to them by mistake) 4 days ago:
    # the wait starts on the later day, never before the case existed.
    snap = snapshot(
        [worker("W"), worker("GONE", leaving_on=days_ago(10))],
        [case("C", worker="GONE", opened=days_ago(4))],
    )
    assert ServiceState.of(snap, AGE).days_waiting == {"C": 4}


# ------------------------------------------------------------------ handovers and caps


def test_a_leavers_children_are_planned_before_a_waiting_child_and_move_on_the_day() -> None:
    # L leaves on Friday 2026-12-11 holding C1, C2, C3 (child in need, 3 points each,
    # three families); R has room for 9 points; REF, a child-in-need referral of 3
    # points, has waited 3 weeks. Room for three of the four: the handovers come first
    # (they weigh as the longest wait), so REF waits; each child moves on Thursday
    # 2026-12-10 with 17 days' notice, and on that day apply_plan gives them to R.
    from allocator.problems.apply import apply_plan
    from allocator.problems.rebalancing import rebalance

    leaves, handover = date(2026, 12, 11), date(2026, 12, 10)
    snap = snapshot(
        [worker("L", leaving_on=leaves), worker("R", capacity_points=9)],
        [
            *(case(f"C{i}", worker="L") for i in (1, 2, 3)),
            case("REF", opened=days_ago(21)),
        ],
    )
    plan = rebalance(snap, Policy(), time_limit=10)
    assert {(h.case, h.worker, h.on, h.notice_days) for h in plan.handovers} == {
        (f"C{i}", "R", handover, 17) for i in (1, 2, 3)
    }
    assert [(u.case, u.days_waiting) for u in plan.unallocated] == [("REF", 21)]
    # The plan says where the room went, in the order of its tiers.
    assert any(
        "over-cap relief after urgent work and before statutory and other;" in n for n in plan.notes
    ), plan.notes
    on_the_day = apply_plan(snap, plan, Policy(), as_of=handover)
    workers = {c.id: c.worker for c in on_the_day.cases}
    assert [workers[f"C{i}"] for i in (1, 2, 3)] == ["R", "R", "R"]


def _over_cap_after_a_complexity_rise(referral_type: str) -> Snapshot:
    # O (cap 20) holds four child-protection children, 5 points each at complexity 2;
    # K3's complexity rose to 3 (7.5 points): O holds 22.5, 2.5 over. R has 7.5 points
    # of room: for one of O's children (5 points, which brings O within cap) or for
    # the referral REF (5 points, waited a week), not both.
    return snapshot(
        [worker("O", capacity_points=20), worker("R", capacity_points=7.5)],
        [
            case("K1", worker="O", type="child_protection", weight=None),
            case("K2", worker="O", type="child_protection", weight=None),
            case("K3", worker="O", type="child_protection", complexity=3, weight=None),
            case("K4", worker="O", type="child_protection", weight=None),
            case("REF", type=referral_type, weight=5, opened=days_ago(7)),
        ],
    )


#: Over-cap relief after the statutory class: a council's choice (docs/FORMAT.md
#: "Over-cap relief").
RELIEF_AFTER_STATUTORY = Policy(over_cap_relief_after="statutory")


def test_a_worker_over_cap_is_relieved_before_a_statutory_wait_by_default() -> None:
    # Relief ranks above every class but the first (urgent): one of O's children moves
    # to R and O is within cap; the child-protection referral REF waits.
    plan = rebalance(_over_cap_after_a_complexity_rise("child_protection"), Policy(), time_limit=10)
    assert plan.objective["over_cap_excess"] == 0
    moved = {a.case: (a.from_, a.worker) for a in plan.assignments}
    assert len(moved) == 1 and next(iter(moved.values())) == ("O", "R")
    assert [u.case for u in plan.unallocated] == ["REF"]


def test_relief_after_statutory_places_the_statutory_child_first() -> None:
    # The same day with relief after the statutory class: REF, who has no worker at
    # all, takes R's room and O stays 2.5 points over cap until room frees.
    snap = _over_cap_after_a_complexity_rise("child_protection")
    plan = rebalance(snap, RELIEF_AFTER_STATUTORY, time_limit=10)
    assert {(a.case, a.from_, a.worker) for a in plan.assignments} == {("REF", None, "R")}
    assert plan.objective["over_cap_excess"] == 2.5
    assert plan.unallocated == ()


def test_relief_after_statutory_still_comes_before_a_child_of_the_last_class() -> None:
    # A child-in-need referral (class ``other``) waits while O is relieved.
    snap = _over_cap_after_a_complexity_rise("child_in_need")
    plan = rebalance(snap, RELIEF_AFTER_STATUTORY, time_limit=10)
    assert plan.objective["over_cap_excess"] == 0
    moved = {a.case: (a.from_, a.worker) for a in plan.assignments}
    assert len(moved) == 1 and next(iter(moved.values())) == ("O", "R")
    assert [u.case for u in plan.unallocated] == ["REF"]


URGENT, STATUTORY, OTHER = "unallocated_urgent", "unallocated_statutory", "unallocated_other"
RELIEF = "over_cap_excess"


@pytest.mark.parametrize(
    ("after", "first_four"),
    [
        (None, [URGENT, RELIEF, STATUTORY, OTHER]),
        ("urgent", [URGENT, RELIEF, STATUTORY, OTHER]),
        ("statutory", [URGENT, STATUTORY, RELIEF, OTHER]),
    ],
)
def test_the_rebalance_tiers_put_relief_after_the_class_the_policy_names(
    after: str | None, first_four: list[str]
) -> None:
    policy = Policy(over_cap_relief_after=after)
    assert [t.key for t in rebalance_tiers(policy)][:4] == first_four


@pytest.mark.parametrize(
    ("text", "said"),
    [
        (
            '"statutroy"',
            "'statutroy' is not a class relief may follow; did you mean 'statutory'?",
        ),
        ('"Statutory"', "'Statutory' is not a class relief may follow; did you mean 'statutory'?"),
        (
            '"other"',
            "'other' is not a class relief may follow (the last class: relief would wait for "
            "every child); expected one of urgent, statutory",
        ),
        ('"court"', "'court' is not a class relief may follow; expected one of urgent, statutory"),
        ("2", "expected the name of one of the classes urgent, statutory, got 2"),
        ('["statutory"]', "expected the name of one of the classes urgent, statutory, got a list"),
        # A class the policy's own classes no longer have.
        (
            '"statutory"\npriority_classes = []',
            "'statutory' is not a class relief may follow (the policy's priority_classes "
            "name no class, so every case is 'other'); expected one of other",
        ),
    ],
)
def test_relief_after_anything_but_a_class_above_the_last_is_refused(
    tmp_path: Path, text: str, said: str
) -> None:
    path = tmp_path / "policy.toml"
    path.write_text(f"over_cap_relief_after = {text}\n", encoding="utf-8")
    with pytest.raises(PolicyError) as refused:
        load_policy(path)
    assert f"key 'over_cap_relief_after': {said}" in str(refused.value)
    assert "\n" not in str(refused.value).strip()


def test_the_note_says_relief_waits_for_the_statutory_children() -> None:
    from allocator.present.analysis import staffing_warnings

    snap = _over_cap_after_a_complexity_rise("child_protection")
    plan = rebalance(snap, RELIEF_AFTER_STATUTORY, time_limit=10)
    # The warning after a rebalance does not send the manager to run one.
    assert staffing_warnings(snap, RELIEF_AFTER_STATUTORY, plan) == [
        "O is over their cap: 22.5 of 20 points (4 cases); the next rebalance relieves them "
        "when room frees (the plan's notes say why this one could not)"
    ]
    assert (
        "O stays over cap: 22.5 of 20.0 points (relief comes after the urgent and statutory "
        "children (policy over_cap_relief_after), and no eligible worker had room left for "
        "enough of theirs)"
    ) in plan.notes


def test_the_note_blames_relief_order_only_where_room_went_to_a_child_before_relief() -> None:
    # Nobody waits and R has 3 points: no room for any of O's children, whatever the
    # order; the note says so, not the policy.
    snap = snapshot(
        [worker("O", capacity_points=20), worker("R", capacity_points=3)],
        [
            case("K1", worker="O", type="child_protection", weight=None),
            case("K2", worker="O", type="child_protection", weight=None),
            case("K3", worker="O", type="child_protection", complexity=3, weight=None),
            case("K4", worker="O", type="child_protection", weight=None),
        ],
    )
    plan = rebalance(snap, RELIEF_AFTER_STATUTORY, time_limit=10)
    assert (
        "O stays over cap: 22.5 of 20.0 points (no eligible worker had room for enough of "
        "their children)"
    ) in plan.notes


def test_relief_after_follows_the_classes_a_policy_gives_when_not_named_with_them() -> None:
    # As over_cap_classes: new classes without the key drop the one they no longer have.
    assert RELIEF_AFTER_STATUTORY.with_overrides(priority_classes=[]).over_cap_relief_after is None
    kept = RELIEF_AFTER_STATUTORY.with_overrides(points_per_fte=90)
    assert kept.over_cap_relief_after == "statutory"


def test_a_policy_without_relief_after_keeps_its_bytes() -> None:
    assert "over_cap_relief_after" not in Policy().model_dump(mode="json")
    # The first class named is the default, kept as not set.
    assert Policy(over_cap_relief_after="urgent") == Policy()
    assert RELIEF_AFTER_STATUTORY.model_dump(mode="json")["over_cap_relief_after"] == "statutory"


def test_the_plan_names_the_longest_wait_left_in_each_class() -> None:
    # W has room for one 3-point child: A (waited 30 days, other) is placed; B (10 days,
    # other) and C (statutory, 12 days, 5 points, too heavy for what is left) wait.
    snap = snapshot(
        [worker("W", capacity_points=3)],
        [
            case("A", opened=days_ago(30)),
            case("B", opened=days_ago(10)),
            case("C", type="child_protection", weight=5, opened=days_ago(12)),
        ],
    )
    plan = allocate(snap, AGE, time_limit=5)
    assert {a.case for a in plan.assignments} == {"A"}
    assert (
        "longest waits without a worker after this plan, by class: statutory C (12 days); "
        "other B (10 days)"
    ) in plan.notes


# ------------------------------------------------------------------ a promise kept


def promise_against_held_room() -> Snapshot:
    # GONE leaves in ten days holding H (5 points). W (cap 8, holding 3 points) has 5
    # points of room, held for WAITED (6 points, waited half a year, fits nowhere
    # yet). A handover of H to W was promised before the room was held.
    return snapshot(
        [worker("W", capacity_points=8), worker("GONE", leaving_on=days_ago(-10))],
        [
            case("H", type="child_protection", weight=5, worker="GONE", opened=days_ago(200)),
            case("WAITED", type="child_protection", weight=6, opened=days_ago(200)),
            case("KEPT", type="child_in_need", weight=3, worker="W", opened=days_ago(300)),
        ],
    )


def test_a_handover_promised_before_is_kept_while_it_can_be() -> None:
    # Room held for a long wait keeps H off W on a fresh rebalance; but H has been
    # told W will be their worker, and the promise is kept (the room was H's first).
    fresh = rebalance(promise_against_held_room(), RESERVE, time_limit=5)
    assert fresh.handovers == ()
    plan = rebalance(promise_against_held_room(), RESERVE, time_limit=5, planned={"H": "W"})
    assert [(h.case, h.worker) for h in plan.handovers] == [("H", "W")]


def test_a_head_start_above_the_weeks_counted_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "policy.toml"
    path.write_text("[waiting]\nmax_weeks = 10\nlost_worker_weeks = 12\n", encoding="utf-8")
    with pytest.raises(PolicyError, match=r"lost_worker_weeks': at most max_weeks \(10\)"):
        load_policy(path)


def test_explain_says_a_child_who_lost_their_worker_has_a_head_start() -> None:
    snap = lost_against_waiting(20)
    plan = allocate(snap, AGE, time_limit=5)
    assert explain_case(snap, AGE, plan, "LOST").head_start == 28
    assert explain_case(snap, AGE, plan, "WAITED").head_start is None
    assert explain_case(snap, AGE_AS_WAITED, plan, "LOST").head_start is None


# ------------------------------------------------------------------ a head start by case type


def court_against_a_longer_wait() -> Snapshot:
    # W (a senior, cap 14) has room for one of: CT, a court referral of 14 points made
    # today, or CP, a child-protection child of 14 points who has waited 5 weeks.
    day = date(2026, 11, 23)
    return snapshot(
        [worker("W", grade="senior", capacity_points=14)],
        [
            case("CT", type="court", complexity=3, weight=14.0, opened=day),
            case(
                "CP",
                type="child_protection",
                complexity=3,
                weight=14.0,
                opened=day - timedelta(days=35),
            ),
        ],
    )


def test_a_type_head_start_puts_court_before_a_shorter_extra_wait(tmp_path: Path) -> None:
    path = tmp_path / "policy.toml"
    path.write_text("[waiting]\nreserve_after_days = 0\n\n[waiting.type_weeks]\ncourt = 8\n")
    court_first = load_policy(path)
    snap = court_against_a_longer_wait()
    state = ServiceState.of(snap, court_first)
    # Counted: CT 0 + 8 weeks = 56 days; CP 35 days. age_points: 28 x (1 + 8), 28 x 6.
    assert state.counted_wait("CT", 0) == 56 and state.counted_wait("CP", 35) == 35
    assert state.waiting_weight == {"CT": 28 * 9, "CP": 28 * 6}
    placed = {a.case: a.worker for a in allocate(snap, court_first, work_units=0.5).assignments}
    assert placed == {"CT": "W"}
    # Without it the longer wait comes first.
    plain = Policy.model_validate({"waiting": {"reserve_after_days": 0, "type_weeks": {}}})
    placed = {a.case: a.worker for a in allocate(snap, plain, work_units=0.5).assignments}
    assert placed == {"CP": "W"}
    plan = allocate(snap, court_first, work_units=0.5)
    assert explain_case(snap, court_first, plan, "CP").head_start is None
    assert "type_weeks" not in plain.model_dump_json()  # the log's policy key as before
    assert '"type_weeks":{"court":8}' in court_first.model_dump_json()


@pytest.mark.parametrize(
    ("table", "said"),
    [
        ("court = 30", r"court: 30 weeks, at most max_weeks \(26\)"),
        ('court = "8"', "court"),
        ("courts = 8", "courts"),
        ("court = -1", "court"),
    ],
)
def test_a_bad_type_head_start_is_refused(tmp_path: Path, table: str, said: str) -> None:
    path = tmp_path / "policy.toml"
    path.write_text(f"[waiting.type_weeks]\n{table}\n", encoding="utf-8")
    with pytest.raises(PolicyError, match=said):
        load_policy(path)


# ------------------------------------------------------------------ weeks that count as none


def heavy_fresh_against_light_waited() -> Snapshot:
    # W has room for one: HEAVY, a 10-point child-protection referral of today, or
    # LIGHT, a 4-point one who has waited 3 weeks.
    return snapshot(
        [worker("W", capacity_points=10)],
        [
            case("HEAVY", type="child_protection", weight=10, opened=AS_OF),
            case("LIGHT", type="child_protection", weight=4, opened=days_ago(21)),
        ],
    )


@pytest.mark.parametrize(
    ("grace", "first"), [(0, "LIGHT"), (1, "LIGHT"), (2, "HEAVY"), (3, "HEAVY")]
)
def test_grace_weeks_serve_by_weight_until_a_wait_outlasts_them(grace: int, first: str) -> None:
    # Under age_points a child left out costs points x 2 x (1 + weeks waited beyond
    # the grace): HEAVY 10 x 2 x 1 = 20 whatever the grace; LIGHT 4 x 2 x (1 + 3) = 32
    # with none, 24 with one week's grace (LIGHT still placed: leaving them out costs
    # more), 16 with two and 8 with three (HEAVY placed: the heavier child first, as
    # the manager's rule does, until the lighter one's wait outlasts the grace).
    policy = Policy.model_validate(
        {"waiting": {"rule": "age_points", "reserve_after_days": 0, "grace_weeks": grace}}
    )
    state = ServiceState.of(heavy_fresh_against_light_waited(), policy)
    weights = state.waiting_weight
    assert weights["HEAVY"] == 20 * 1
    assert weights["LIGHT"] == 8 * (1 + max(0, 3 - grace))
    # The plan leaves out the child who costs less.
    assert placed(heavy_fresh_against_light_waited(), policy) == {first: "W"}


def test_the_grace_is_taken_from_the_wait_not_from_a_head_start() -> None:
    # Court work keeps its head start (12 weeks by default) from the first day: with 6
    # weeks' grace a court referral of today counts 1 + 12 weeks, a child-protection
    # child who has waited 7 weeks 1 + (7 - 6), one who has waited 5 weeks 1.
    policy = Policy.model_validate({"waiting": {"rule": "age", "grace_weeks": 6}})
    snap = snapshot(
        [worker("W", grade="senior")],
        [
            case("CT", type="court", opened=AS_OF),
            case("CP7", type="child_protection", opened=days_ago(49)),
            case("CP5", type="child_protection", opened=days_ago(35)),
        ],
    )
    assert ServiceState.of(snap, policy).waiting_weight == {"CT": 13, "CP7": 2, "CP5": 1}


def test_the_label_and_the_door_say_the_grace(tmp_path: Path) -> None:
    policy = Policy.model_validate({"waiting": {"grace_weeks": 6}})
    (statutory,) = [t for t in class_tiers(policy) if t.key == "unallocated_statutory"]
    assert statutory.label == (
        "without a worker: statutory (waiting weight: each child's points x 2 x "
        "(1 + weeks waited beyond 6 + any head start))"
    )
    # Without head starts (no type's, none for a lost worker) the label says none.
    bare = Policy.model_validate(
        {"waiting": {"grace_weeks": 6, "type_weeks": {}, "lost_worker_weeks": 0}}
    )
    (statutory,) = [t for t in class_tiers(bare) if t.key == "unallocated_statutory"]
    assert statutory.label.endswith("(1 + weeks waited beyond 6))")
    # A policy without it keeps its bytes (and its decision-log key) as before.
    assert (
        "grace_weeks"
        not in Policy.model_validate({"waiting": {"grace_weeks": 0}}).model_dump_json()
    )
    path = tmp_path / "policy.toml"
    for value, said in (
        ("12", r"grace_weeks': at most max_weeks \(10\): beyond it no week would count"),
        ("-1", r"grace_weeks"),
        ("true", r"grace_weeks"),
        ('"6"', r"grace_weeks"),
        ("1.5", r"grace_weeks"),
    ):
        path.write_text(f"[waiting]\nmax_weeks = 10\ngrace_weeks = {value}\n", encoding="utf-8")
        with pytest.raises(PolicyError, match=said):
            load_policy(path)


def test_the_terminal_lists_the_unallocated_by_class_before_their_wait() -> None:
    """A manager reads the urgent child first, though the child in need waited longer
    (a fresh user found the urgent child below a child in need); the class is shown."""
    from rich.console import Console

    from allocator.present.terminal import plan_summary

    snap = snapshot(
        [worker("P1", capacity_points=1)],
        [
            case("CIN", opened=days_ago(60)),
            case("URG", type="child_protection", priority="urgent"),
        ],
    )
    policy = Policy()
    plan = allocate(snap, policy, time_limit=5)
    assert {u.case for u in plan.unallocated} == {"CIN", "URG"}
    console = Console(record=True, width=200, emoji=False)
    plan_summary(plan, snap, policy, class_tiers(policy), console)
    rows = [line for line in console.export_text().splitlines() if "no_capacity" in line]
    assert [row.split()[1] for row in rows] == ["URG", "CIN"]
    assert "urgent" in rows[0] and "other" in rows[1] and " 60 " in rows[1]


def test_within_a_class_the_unallocated_are_read_by_the_wait_the_class_counts() -> None:
    """A court child referred today counts 12 weeks by the default head start and is
    served before a child-protection child of 12 days: the list a manager reads puts
    them in that order too (a fresh user found the court child 18th)."""
    from allocator.present.order import unallocated_order

    snap = snapshot(
        [worker("P1", capacity_points=1)],
        [
            case("CP12", type="child_protection", opened=days_ago(12)),
            case("CT0", type="court", opened=AS_OF),
            case("CP3", type="child_protection", opened=days_ago(3)),
        ],
    )
    policy = Policy()
    plan = allocate(snap, policy, time_limit=5)
    assert [u.case for u in unallocated_order(snap, policy, plan)] == ["CT0", "CP12", "CP3"]


# ------------------------------------------------------- room kept for a higher class

#: Room kept for the higher classes alone (no held room): 10 % of a cap.
KEPT = Policy.model_validate({"waiting": {"reserve_after_days": 0, "room_kept_share": 0.1}})
NOT_KEPT = Policy.model_validate({"waiting": {"reserve_after_days": 0, "room_kept_share": 0}})


def kept_morning(stat_waited: int = 10, stat_needs: tuple[str, ...] = ()) -> Snapshot:
    # W (cap 20) holds 15 points: 5 free, of which the last 10 % of the cap (2 points)
    # is kept while STAT (child protection, 10 points, fits nowhere) has waited a day
    # or more. OTHER4 (child in need, 4 points) would leave 1 point free: kept off.
    # OTHER3 (3 points) leaves 2: allowed. Both others fit W's 5 points together? No:
    # 4 + 3 = 7 > 5, so only one of them could be placed in any case.
    return snapshot(
        [worker("W", capacity_points=20)],
        [
            *[case(f"H{i}", worker="W", weight=5) for i in range(3)],
            case(
                "STAT",
                type="child_protection",
                weight=10,
                needs=stat_needs,
                opened=days_ago(stat_waited),
            ),
            case("OTHER4", weight=4, opened=AS_OF),
        ],
    )


def test_the_last_room_of_a_cap_is_kept_while_a_higher_class_child_waits() -> None:
    state = ServiceState.of(kept_morning(), KEPT)
    assert state.room_kept == {"W": (200, "STAT")}  # 10 % of 20 points, in centi-points
    assert state.room_kept_from("W", "OTHER4") == "STAT"
    assert state.eligible("OTHER4") == []
    assert placed(kept_morning(), KEPT) == {}
    # Without the key, OTHER4 takes the room the higher class would need.
    assert placed(kept_morning(), NOT_KEPT) == {"OTHER4": "W"}


def test_a_lower_class_child_may_take_room_short_of_the_kept_share() -> None:
    # OTHER3 (3 points) leaves 2 points free, the share kept: placed.
    snap = kept_morning()
    snap = snap.model_copy(update={"cases": (*snap.cases, case("OTHER3", weight=3, opened=AS_OF))})
    assert placed(snap, KEPT) == {"OTHER3": "W"}


def test_no_room_is_kept_for_a_child_referred_today_or_one_the_worker_may_not_hold() -> None:
    # Referred today: STAT may yet be placed this morning; there is no queue.
    assert ServiceState.of(kept_morning(stat_waited=0), KEPT).room_kept == {}
    assert placed(kept_morning(stat_waited=0), KEPT) == {"OTHER4": "W"}
    # STAT needs Welsh, which W does not speak: W's room is no use to them.
    welsh = kept_morning(stat_needs=("welsh",))
    assert ServiceState.of(welsh, KEPT).room_kept == {}
    assert placed(welsh, KEPT) == {"OTHER4": "W"}


def test_a_higher_class_child_is_never_kept_off_the_kept_room() -> None:
    # CP5 (child protection, 5 points) is of the class the room is kept for: placed.
    snap = kept_morning()
    snap = snap.model_copy(
        update={
            "cases": (*snap.cases, case("CP5", type="child_protection", weight=5, opened=AS_OF))
        }
    )
    assert ServiceState.of(snap, KEPT).room_kept_from("W", "CP5") is None
    assert placed(snap, KEPT) == {"CP5": "W"}


def test_a_child_kept_off_the_last_room_is_told_why_in_the_plan_explain_and_recommend() -> None:
    plan = allocate(kept_morning(), KEPT, time_limit=5)
    reasons = {u.case: (str(u.code), u.reason) for u in plan.unallocated}
    code, reason = reasons["OTHER4"]
    assert code == "no_capacity"
    assert reason == (
        "the only room is kept for a higher class: the last 10% of W's cap is kept for "
        "statutory children, as some had waited a day or more this morning (STAT, 10 days; "
        "policy waiting.room_kept_share); this class may have it once no child of a higher "
        "class who may go there has waited a day"
    )
    assert (
        "1 child of class other (OTHER4) had room only in the last 10% of caps, kept for "
        "higher classes while their children waited (policy waiting.room_kept_share); each "
        "reason says whose"
    ) in plan.notes
    assert not any("room_kept_share" in n for n in allocate(kept_morning(), NOT_KEPT).notes)
    why = explain_case(kept_morning(), KEPT, plan, "OTHER4")
    (alternative,) = [a for a in why.alternatives if a.worker == "W"]
    assert alternative.why_not == (
        "the last 10% of W's cap is kept for statutory children, as some had waited a day or "
        "more this morning (STAT, 10 days; policy waiting.room_kept_share)",
    )
    (w,) = recommend(kept_morning(), "OTHER4", KEPT).ranked
    assert w.reasons[0].startswith("the last 10% of W's cap is kept for statutory children")
    assert all(
        "kept for" not in r for r in recommend(kept_morning(), "OTHER4", NOT_KEPT).ranked[0].reasons
    )


def test_explain_shows_the_worker_whose_room_is_kept_though_others_rank_above_them() -> None:
    # V0-V2 (cap 100, 90.5 points: 9.5 free) rank above W for OTHER4 on balance, but
    # this morning's Welsh-speaking child-protection referrals (9.5 points) fill them;
    # W's room is kept for STAT (10 points, fits nowhere). The table's top 2 are full
    # workers: W, whom the reason names, is added with its why-not.
    snap = kept_morning()
    speak = [worker(f"V{i}", skills=["welsh"]) for i in range(3)]
    loads = [case(f"L{i}{k}", worker=f"V{i}", weight=9.05) for i in range(3) for k in range(10)]
    welsh = [
        case(f"CP{i}", type="child_protection", weight=9.5, needs=("welsh",), opened=AS_OF)
        for i in range(3)
    ]
    snap = snap.model_copy(
        update={
            "practitioners": (*speak, *snap.practitioners),
            "cases": (*loads, *snap.cases, *welsh),
        }
    )
    plan = allocate(snap, KEPT, time_limit=5)
    assert sorted(a.worker for a in plan.assignments if a.case.startswith("CP")) == [
        "V0",
        "V1",
        "V2",
    ]
    assert "W's cap is kept" in {u.case: u.reason for u in plan.unallocated}["OTHER4"]
    why = explain_case(snap, KEPT, plan, "OTHER4", top=2)
    workers = [a.worker for a in why.alternatives]
    assert workers[:2] != ["W"] and workers[-1] == "W" and len(workers) == 3
    assert why.alternatives[-1].why_not[0].startswith("the last 10% of W's cap is kept")
    # Before this, the table showed only the top 2, both full: W, the worker the reason
    # names, was not in it.
    assert "W" not in [c.worker for c in recommend(snap, "OTHER4", KEPT, top=2).ranked]


def test_the_managers_rule_keeps_no_room() -> None:
    from allocator.domain.greedy import manager_policy

    assert manager_policy(KEPT).waiting.room_kept_share == 0
    assert manager_policy(Policy()).waiting.room_kept_share == 0
    assert Policy().waiting.room_kept_share == 0.1


def pinned_to_w(snap: Snapshot, cid: str) -> Snapshot:
    cases = tuple(
        c.model_copy(update={"pinned_worker": "W"}) if c.id == cid else c for c in snap.cases
    )
    return snap.model_copy(update={"cases": cases})


def test_a_managers_pin_is_never_kept_off_the_kept_room() -> None:
    # OTHER4 pinned to W by a manager: the kept room is the engine's device, the pin
    # the manager's word, so W takes them (4 of W's 5 free points, within the cap).
    snap = pinned_to_w(kept_morning(), "OTHER4")
    assert ServiceState.of(snap, KEPT).room_kept_from("W", "OTHER4") is None
    assert placed(snap, KEPT) == {"OTHER4": "W"}


def test_a_managers_pin_is_never_kept_off_held_room() -> None:
    # The held-room morning with CP1 pinned to W: the manager's pin stands.
    snap = snapshot(
        [worker("W", capacity_points=20)],
        [
            *[case(f"H{i}", worker="W", weight=5) for i in range(3)],
            case("COURT", type="court", complexity=3, weight=10.5, opened=days_ago(59)),
            case("CP1", type="child_protection", weight=5, opened=AS_OF, pinned_worker="W"),
        ],
    )
    assert ServiceState.of(snap, RESERVE).held_from("W", "CP1") is None
    assert placed(snap, RESERVE) == {"CP1": "W"}


def test_the_meeting_may_give_a_child_the_room_the_engine_kept() -> None:
    # The meeting offers W for OTHER4 (the reason names W's kept room); a manager's
    # choice of W is honoured, not refused with the engine's own reason.
    from allocator.meeting.overrides import Override, final_workers, resolve

    snap = kept_morning()
    plan = allocate(snap, KEPT, time_limit=5)
    assert "OTHER4" in {u.case for u in plan.unallocated}
    choice = Override(
        manager="Ann", reason="W may take them", case="OTHER4", action="choose", worker="W"
    )
    result = resolve(snap, KEPT, plan, [choice])
    assert final_workers(result.plan)["OTHER4"] == "W"


def test_the_reason_names_a_child_the_room_is_still_kept_for_once_the_plan_placed_the_first() -> (
    None
):
    # STAT (10 points, waited 10 days) may go to W (5 points free) or V (empty); STAT2
    # (11 points, waited 3 days) fits nowhere once STAT is placed. The last 2 points of
    # both caps are kept. OTHER4 may not go to V and is kept off W; the plan places
    # STAT with V, and W's room stays kept for STAT2, whom the reason names (a manager
    # reading "STAT, 10 days" would look for STAT in vain).
    snap = snapshot(
        [worker("W", capacity_points=20), worker("V", capacity_points=20)],
        [
            *[case(f"H{i}", worker="W", weight=5) for i in range(3)],
            case("STAT", type="child_protection", weight=10, opened=days_ago(10)),
            case("STAT2", type="child_protection", weight=11, opened=days_ago(3)),
            case("OTHER4", weight=4, opened=AS_OF, excluded_workers=("V",)),
        ],
    )
    plan = allocate(snap, KEPT, time_limit=5)
    assert {a.case: a.worker for a in plan.assignments} == {"STAT": "V"}
    (reason,) = [u.reason for u in plan.unallocated if u.case == "OTHER4"]
    assert "(STAT2, 3 days; policy waiting.room_kept_share)" in reason
    why = explain_case(snap, KEPT, plan, "OTHER4")
    assert "STAT2, 3 days" in (why.diagnosis or "")
    (alternative,) = [a for a in why.alternatives if a.worker == "W"]
    assert "STAT2, 3 days" in alternative.why_not[0]
    # Without STAT2 the plan leaves nobody the room is kept for: the reason says the
    # room stays kept (for the class's next referrals), naming STAT and where it went.
    alone = snap.model_copy(update={"cases": tuple(c for c in snap.cases if c.id != "STAT2")})
    plan = allocate(alone, KEPT, time_limit=5)
    assert {a.case: a.worker for a in plan.assignments} == {"STAT": "V"}
    (reason,) = [u.reason for u in plan.unallocated if u.case == "OTHER4"]
    assert (
        "(STAT, 10 days, whom this plan places with V; the room stays kept for the class's "
        "next referrals; policy waiting.room_kept_share)"
    ) in reason


def test_the_reason_names_every_class_and_worker_the_room_is_kept_for() -> None:
    # W1 is kept for URG (urgent, Welsh, waited 3 days), W2 for STAT (statutory): the
    # reason names both classes, both workers' caps and the other child as a child.
    snap = snapshot(
        [
            worker("W1", capacity_points=20, skills=("welsh",)),
            worker("W2", capacity_points=20),
        ],
        [
            *[case(f"H{w}{i}", worker=w, weight=5) for w in ("W1", "W2") for i in range(3)],
            case("URG", priority="urgent", weight=10, needs=("welsh",), opened=days_ago(3)),
            case("STAT", type="child_protection", weight=10, opened=days_ago(10)),
            case("OTHER4", weight=4, opened=AS_OF),
        ],
    )
    plan = allocate(snap, KEPT, time_limit=5)
    (reason,) = [u.reason for u in plan.unallocated if u.case == "OTHER4"]
    assert reason.startswith(
        "the only room is kept for a higher class: the last 10% of the caps of W1 and W2 is "
        "kept for urgent and statutory children, as some had waited a day or more this "
        "morning (URG, 3 days, and 1 other child; policy waiting.room_kept_share)"
    )
