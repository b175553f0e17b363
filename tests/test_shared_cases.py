"""The shared small failing inputs 13, 17 and 19 (``../shared/cases/README.md``).

Each snapshot is copied into ``tests/cases/`` as it was shared. The right behaviour,
from that README, worked out by hand:

13. L has left holding K1 (court, 14 points, needs court) and K2 (child in need,
    3 points). S, the only other court-skilled senior, has 100 - 10 x 9.5 = 5 points
    spare; W has 100 - 6 x 10 = 40. So K2 moves to W, and K1 is unallocated with a
    reason naming S's 5 spare points against the 14 it needs.
17. Only W (senior, 100 - 20 = 80 spare) may take child-protection work today (ST
    is a student, N is absent until 1 December). Seven 5-point children in five
    families; at most 3 new families: the family of three (one family, three
    children) and two singles, and the other two singles ``intake_limit``.
19. H1 weighs 120 points; S1's cap is 100 and S2's 80: nobody's cap can hold it,
    and the reason must say freeing capacity cannot help. K1-K4 (30 each, one
    family) are placed: 3 with S1 (90), 1 with S2.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from allocator import Policy, allocate, check_plan, rebalance
from allocator.contract.models import Plan, Snapshot
from allocator.io import load_snapshot
from allocator.problems.recommend import recommend

CASES = Path(__file__).parent / "cases"


def shared(name: str) -> Snapshot:
    return load_snapshot(CASES / f"{name}.json")


def solve(command: str, snap: Snapshot) -> Plan:
    plan = (allocate if command == "allocate" else rebalance)(snap, Policy(), time_limit=5)
    assert check_plan(snap, Policy(), plan) == []
    return plan


def test_13_rebalance_names_the_spare_points() -> None:
    snap = shared("13-rebalance-nobody-can-take")
    plan = solve("rebalance", snap)
    assert [(a.case, a.from_, a.worker) for a in plan.assignments] == [("K2", "L", "W")]
    (k1,) = plan.unallocated
    assert (k1.case, k1.code) == ("K1", "no_capacity")
    assert "S 5.0 spare" in k1.reason and "needs 14.0 points" in k1.reason
    assert "at or over their cap" not in k1.reason
    # The same code and words as the daily allocation: one diagnosis.
    daily = solve("allocate", snap).unallocated[0]
    assert (k1.code, k1.reason) == (daily.code, daily.reason)


@pytest.mark.parametrize("command", ["allocate", "rebalance"])
def test_17_intake_limit_is_coded_alike(command: str) -> None:
    plan = solve(command, shared("17-intake-limit-siblings"))
    placed = {a.case for a in plan.assignments}
    assert {"B1", "B2", "B3"} <= placed and len(placed) == 5
    assert all(a.worker == "W" for a in plan.assignments)
    assert len(plan.unallocated) == 2
    assert {u.code for u in plan.unallocated} == {"intake_limit"}


@pytest.mark.parametrize("command", ["allocate", "rebalance"])
def test_19_no_cap_can_hold_it(command: str) -> None:
    snap = shared("19-case-heavier-than-any-cap")
    plan = solve(command, snap)
    assert sorted(a.case for a in plan.assignments) == ["K1", "K2", "K3", "K4"]
    (h1,) = plan.unallocated
    assert h1.case == "H1" and h1.code == "no_capacity"
    assert "no worker's cap can hold it" in h1.reason
    assert "freeing capacity cannot help" in h1.reason
    # recommend says the same of each worker.
    misses = recommend(snap, "H1").ineligible
    assert {m.worker for m in misses} == {"S1", "S2"}
    for m in misses:
        assert any("no room can be made" in b.message for b in m.blockers)
