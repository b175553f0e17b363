"""Ids in ``reference`` (allocate) and ``planned`` (rebalance) that the snapshot does
not hold are refused naming them; they were ignored in silence. Entries for cases
that exist but need no worker are still ignored, as documented."""

from __future__ import annotations

import pytest

import allocator
from allocator import InputError, Settings
from tests.builders import case, snapshot, worker

SNAP = snapshot([worker("P1"), worker("P2")], [case("R1"), case("K1", worker="P1")])
FAST = Settings(work_units=0.3, time_limit=20)


@pytest.mark.parametrize(
    ("mapping", "said"),
    [
        ({"R9": "P1"}, "names 1 case id not among the snapshot's cases ('R9')"),
        ({"R1": "P7"}, "names 1 worker id not among the snapshot's practitioners ('P7')"),
        ({"X1": "P1", "X2": "P1"}, "names 2 case ids not among the snapshot's cases ('X1', 'X2')"),
    ],
)
def test_allocate_refuses_reference_ids_the_snapshot_does_not_hold(
    mapping: dict[str, str], said: str
) -> None:
    with pytest.raises(InputError, match=f"^allocate: reference {__import__('re').escape(said)}"):
        allocator.allocate(SNAP, None, FAST, reference=mapping)


@pytest.mark.parametrize(
    ("mapping", "said"),
    [
        ({"R9": "P1"}, "names 1 case id not among the snapshot's cases ('R9')"),
        ({"R9": "Q1", "R8": "P1"}, "names 2 case ids not among the snapshot's cases ('R8', 'R9')"),
    ],
)
def test_rebalance_refuses_planned_ids_the_snapshot_does_not_hold(
    mapping: dict[str, str], said: str
) -> None:
    with pytest.raises(InputError, match=f"^rebalance: planned {__import__('re').escape(said)}"):
        allocator.rebalance(SNAP, None, FAST, planned=mapping)


def test_a_case_that_needs_no_worker_is_still_ignored() -> None:
    # K1 keeps P1 and needs no worker: its entry is ignored, as documented.
    plan = allocator.allocate(SNAP, None, FAST, reference={"K1": "P2", "R1": "P2"})
    assert {a.case for a in plan.assignments} == {"R1"}
