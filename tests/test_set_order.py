"""A Python ``set`` given for a list field, and for ``handovers``.

Before, a set was taken in its iteration order, which for text is its hash order and
changes from process to process (``PYTHONHASHSEED``): the same input, built with sets
of skills, areas and needs, could give another snapshot and another plan in the next
run. Now a set where the list is a set in meaning (skills, areas, needs,
excluded_workers; the policy's excluded types, a class's cases, over_cap_classes) is
sorted; a set where the order means something (previous_workers, latest first; the
complexity multipliers; handovers) is refused.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import allocator
from allocator import InputError, Policy, PolicyError
from allocator.contract.models import Case
from allocator.contract.policy import policy_over
from tests.builders import AS_OF, case, snapshot, worker

ROOT = Path(__file__).resolve().parents[1]

#: Builds a service whose label lists are sets, allocates it on a fixed work budget
#: and prints the snapshot as read and the plan (less its wall-clock seconds).
SCRIPT = f"""
import allocator
skills = ["court", "welsh", "autism", "signing", "youth_justice", "substance_use"]
data = {{
    "format": "caseload-snapshot/1",
    "as_of": "{AS_OF.isoformat()}",
    "practitioners": [
        {{"id": f"P{{i}}", "team": "A", "grade": "social_worker", "fte": 1.0,
          "skills": set(skills[i:] + ["generic"]), "areas": {{"north", "south", "east"}}}}
        for i in range(4)
    ],
    "cases": [
        {{"id": f"C{{i}}", "family": f"F{{i}}", "type": "child_in_need", "complexity": 2,
          "needs": {{"court", "welsh", "autism"}} if i % 2 else {{"generic"}}, "area": "north",
          "excluded_workers": {{"P9", "P8", "P7"}}, "weight": 30.0}}
        for i in range(8)
    ],
}}
snapshot = allocator.snapshot_from_dict(data)
plan = allocator.allocate(snapshot, work_units=0.3, time_limit=60)
print(snapshot.model_dump_json())
print(plan.model_dump_json(exclude={{"solve_seconds"}}))
"""


def _run(hash_seed: str) -> str:
    env = {**os.environ, "PYTHONHASHSEED": hash_seed}
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_sets_of_labels_give_the_same_plan_in_every_process() -> None:
    first, *others = (_run(seed) for seed in ("1", "2", "3"))
    assert (
        '"skills":["autism","court","generic","signing","substance_use","welsh","youth_justice"]'
        in (first)
    )
    # Without sorting, the plan's reason read "only worker with court + autism + welsh"
    # in one process and "autism + welsh + court" in another.
    assert "only worker with autism + court + welsh" in first
    for other in others:
        assert other == first  # byte for byte: the snapshot as read, then the plan


def test_a_set_where_order_matters_is_refused_naming_the_field() -> None:
    data = {
        "format": "caseload-snapshot/1",
        "as_of": AS_OF.isoformat(),
        "practitioners": [],
        "cases": [
            {
                "id": "C1",
                "family": "F1",
                "type": "court",
                "complexity": 2,
                "previous_workers": {"P1", "P2"},
            }
        ],
    }
    with pytest.raises(InputError) as raised:
        allocator.snapshot_from_dict(data)
    said = str(raised.value)
    assert "cases[0] (id C1): field 'previous_workers' is a set, expected a list of ids" in said
    assert "latest first: give a list or tuple in that order" in said
    with pytest.raises(ValueError, match="set has no order"):
        Case(id="C1", family="F1", type="court", complexity=2, previous_workers=frozenset({"P1"}))


def test_the_policy_sorts_a_set_in_meaning_and_refuses_an_ordered_one() -> None:
    policy = Policy(
        grades={"nqsw": {"max_complexity": 2, "excluded_types": {"court", "adoption"}}},
        over_cap_classes={"statutory", "urgent"},
    )
    assert [t.value for t in policy.grades["nqsw"].excluded_types] == ["adoption", "court"]
    assert policy.over_cap_classes == ("statutory", "urgent")
    with pytest.raises(PolicyError, match="key 'complexity_multiplier' is a set, expected"):
        policy_over(Policy(), {"complexity_multiplier": {1.0, 2.0, 3.0, 4.0}}, "policy.toml")


def test_a_set_of_handovers_is_refused() -> None:
    snap = snapshot([worker("P1")], [case("C1")])
    with pytest.raises(TypeError, match=r"allocate: handovers is a set, .* in order"):
        allocator.allocate(snap, handovers=set())
    with pytest.raises(TypeError, match=r"apply_plan: earlier is a frozenset"):
        allocator.apply_plan(snap, allocator.allocate(snap, work_units=0.3), earlier=frozenset())
