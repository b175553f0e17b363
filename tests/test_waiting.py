"""Waiting time: a fact the engine knows, and no child starved within a class (issue 19).

Hand-worked instances: each comment gives the answer and why.
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from allocator.daily import allocate
from allocator.io import InputError, load_snapshot
from allocator.models import Snapshot
from allocator.policy import Policy, PolicyError, load_policy
from allocator.rules import ServiceState
from tests.builders import case, snapshot, worker

AS_OF = date(2026, 11, 23)
COUNT = Policy.model_validate({"waiting": {"rule": "count", "reserve_after_days": 0}})
AGE = Policy.model_validate({"waiting": {"rule": "age", "reserve_after_days": 0}})
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
            "field 'waiting_since' is 2026-11-24, after as_of 2026-11-23",
        ),
        (
            {"waiting_since": "1899-12-31"},
            "field 'waiting_since' is '1899-12-31', expected a date written YYYY-MM-DD from",
        ),
        (
            {"waiting_since": "2026-10-01", "opened": "2026-10-02"},
            "field 'waiting_since' is 2026-10-01, before 'opened' 2026-10-02",
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


def test_the_waiting_rule_is_checked_in_the_policy(tmp_path: Path) -> None:
    path = tmp_path / "p.toml"
    path.write_text('[waiting]\nrule = "oldest"\n')
    with pytest.raises(PolicyError, match=r"waiting\.rule"):
        load_policy(path)


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
    # age: 1 + whole weeks waited.
    assert state.waiting_weight == {"A": 5, "B": 2, "C": 1, "D": 1}
    assert ServiceState.of(snap, COUNT).waiting_weight == dict.fromkeys("ABCD", 1)


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
    # Age: the court child weighs 1 + 8 weeks = 9, the two new referrals 1 + 1 = 2.
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
    from allocator.apply import apply_plan
    from allocator.rebalancing import rebalance

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
    on_the_day = apply_plan(snap, plan, Policy(), as_of=handover)
    workers = {c.id: c.worker for c in on_the_day.cases}
    assert [workers[f"C{i}"] for i in (1, 2, 3)] == ["R", "R", "R"]


def test_over_cap_after_a_complexity_rise_is_relieved_before_a_statutory_wait() -> None:
    # O (cap 20) holds four child-protection children, 5 points each at complexity 2;
    # K3's complexity rose to 3 (7.5 points): O holds 22.5, 2.5 over. R has 7.5 points
    # of room. A child-protection referral CP (5 points, waited a week) could take it,
    # but relief ranks above the statutory class (only an urgent child comes first):
    # one of O's children moves to R and O is within cap; CP waits.
    from allocator.rebalancing import rebalance

    snap = snapshot(
        [worker("O", capacity_points=20), worker("R", capacity_points=7.5)],
        [
            case("K1", worker="O", type="child_protection", weight=None),
            case("K2", worker="O", type="child_protection", weight=None),
            case("K3", worker="O", type="child_protection", complexity=3, weight=None),
            case("K4", worker="O", type="child_protection", weight=None),
            case("CP", type="child_protection", weight=None, opened=days_ago(7)),
        ],
    )
    plan = rebalance(snap, Policy(), time_limit=10)
    assert plan.objective["over_cap_excess"] == 0
    moved = {a.case: (a.from_, a.worker) for a in plan.assignments}
    assert len(moved) == 1 and next(iter(moved.values())) == ("O", "R")
    assert [u.case for u in plan.unallocated] == ["CP"]


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
