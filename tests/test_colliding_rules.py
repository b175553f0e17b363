"""The rules named when nobody may take a child, and a child the plan in force places.

A fresh team manager read "nobody may take it today; rules collide: availability and
capacity" of a Welsh-speaking child whose Welsh-speaking workers were full: the
workers away lacked Welsh anyway, so skills and capacity were what stopped everyone.
The rules named are the fewest that between them stop every worker, and among as
few, those that stop the most workers (:func:`allocator.problems.recommend.colliding`),
the same in ``recommend`` and ``explain --case``. The same child was given a worker by
the plan in force, and ``recommend --plan`` said "nobody may take it" without naming
them.

Hand-built services on 2026-11-23 under the default policy; each expectation is
worked out in its comment.
"""

from __future__ import annotations

from collections import Counter
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner

from allocator.cli import main
from allocator.contract.models import Snapshot
from allocator.contract.policy import Policy
from allocator.io import write_json
from allocator.present.analysis import explain_case
from allocator.problems.daily import allocate
from allocator.problems.recommend import colliding, recommend
from tests.builders import case, snapshot, worker


def sets(*rows: tuple[int, str]) -> Counter[frozenset[str]]:
    """``(how many workers, "rule rule ...")`` rows as :func:`colliding` takes them."""
    return Counter({frozenset(rules.split()): n for n, rules in rows})


@pytest.mark.parametrize(
    ("blocked", "named"),
    [
        # Two Welsh speakers full, one worker with room lacks Welsh: each rule alone
        # stops somebody, so both are named (C000492 of the example service).
        (sets((2, "capacity"), (1, "skills")), ("skills", "capacity")),
        # The Welsh speakers are full; the one worker away lacks Welsh too, as do the
        # full others. Capacity and availability would cover everyone as well, but
        # skills stops three workers and availability one: skills is named (C000496).
        (
            sets((1, "capacity"), (1, "skills availability"), (2, "skills capacity")),
            ("skills", "capacity"),
        ),
        # Grade stops everyone: one rule, no collision, whatever else stops some.
        (sets((2, "grade skills"), (1, "grade")), ("grade",)),
        # The fewest, not the first found rule by rule: grade stops four of six
        # workers, but skills and capacity between them stop all six; grade, then one
        # rule for each of the last two, would name three.
        (
            sets(
                (2, "grade skills"),
                (2, "grade capacity"),
                (1, "skills availability"),
                (1, "capacity excluded_worker"),
            ),
            ("skills", "capacity"),
        ),
        # As few, stopping as many: the registry's order decides (grade before skills).
        (sets((1, "grade skills")), ("grade",)),
        # Somebody may take the child, or there is nobody to ask: nothing collides.
        (sets((1, ""), (3, "skills")), ()),
        (Counter(), ()),
    ],
    ids=["each-alone", "dominated-rule", "one-stops-all", "fewest", "tie", "free", "nobody"],
)
def test_the_rules_named_are_the_fewest_that_stop_the_most(
    blocked: Counter[frozenset[str]], named: tuple[str, ...]
) -> None:
    assert colliding(blocked) == named


def welsh_service() -> Snapshot:
    """R needs Welsh (3 points). P1 speaks Welsh and is full (3 of 3 points); P2 is away
    until 1 December and lacks Welsh; P3 lacks Welsh and is full."""
    return snapshot(
        [
            worker("P1", skills=("welsh",), capacity_points=3),
            worker("P2", available_from=date(2026, 12, 1)),
            worker("P3", capacity_points=3),
        ],
        [case("C1", worker="P1"), case("C3", worker="P3"), case("R", needs=("welsh",))],
    )


def test_recommend_and_explain_name_the_same_rules(tmp_path: Path) -> None:
    # P1: capacity; P2: skills and availability; P3: skills and capacity. Capacity
    # alone stops P1, so it is named; skills (P2, P3) rather than availability (P2).
    snap, policy = welsh_service(), Policy()
    assert recommend(snap, "R", policy).colliding_rules == ("skills", "capacity")
    plan = allocate(snap, policy, work_units=1.0)
    assert [u.case for u in plan.unallocated] == ["R"]
    assert explain_case(snap, policy, plan, "R").colliding_rules == ("skills", "capacity")
    path = tmp_path / "s.json"
    write_json(path, snap)
    shown = CliRunner().invoke(main, ["recommend", str(path), "R"], env={"COLUMNS": "200"})
    assert shown.exit_code == 0, shown.output
    assert "nobody may take it today; rules collide: skills and capacity" in shown.output
    assert "availability and" not in shown.output


def placed_service() -> Snapshot:
    """Only P1 speaks Welsh: P1 holds C1 (Welsh, 3 points) with 3 of 6 points spare; R
    is a referral needing Welsh (3 points), so the plan gives R to P1. P2 lacks Welsh."""
    return snapshot(
        [worker("P1", skills=("welsh",), capacity_points=6), worker("P2")],
        [case("C1", worker="P1", needs=("welsh",)), case("R", needs=("welsh",))],
    )


@pytest.mark.parametrize(
    ("child", "with_plan", "said"),
    [
        # C1 is P1's: P2 lacks Welsh, so nobody else may take it, and P1 is named.
        ("C1", False, "0 eligible workers besides its current worker P1"),
        # The plan gives R to P1 (checked below): said, and "nobody else".
        ("R", True, "0 eligible workers besides P1, to whom the plan in force gives it today"),
    ],
    ids=["held", "placed-by-the-plan"],
)
def test_a_child_with_a_worker_is_never_said_to_have_nobody(
    tmp_path: Path, child: str, with_plan: bool, said: str
) -> None:
    snap, policy = placed_service(), Policy()
    path = tmp_path / "s.json"
    write_json(path, snap)
    args = ["recommend", str(path), child]
    if with_plan:
        plan = allocate(snap, policy, work_units=1.0)
        assert [(a.case, a.worker) for a in plan.assignments] == [("R", "P1")]
        write_json(tmp_path / "plan.json", plan)
        args += ["--plan", str(tmp_path / "plan.json")]
        rec = recommend(snap, child, policy, plan=plan)
        assert (rec.planned, rec.current_worker, rec.eligible_count) == ("P1", "P1", 0)
    shown = CliRunner().invoke(main, args, env={"COLUMNS": "200"})
    assert shown.exit_code == 0, shown.output
    assert said in shown.output
    assert "nobody else may take it today: skills rule" in shown.output
    assert "nobody may take it" not in shown.output


def test_a_child_without_a_worker_is_said_to_have_nobody(tmp_path: Path) -> None:
    # C2 (3 points) fills P1: R has no worker and nobody may take it (P1 capacity,
    # P2 skills): "nobody", not "nobody else", and no worker named.
    snap = placed_service()
    full = snap.model_copy(update={"cases": (*snap.cases, case("C2", worker="P1"))})
    path = tmp_path / "s.json"
    write_json(path, full)
    shown = CliRunner().invoke(main, ["recommend", str(path), "R"], env={"COLUMNS": "200"})
    assert shown.exit_code == 0, shown.output
    assert "R: child_in_need, complexity 2, weight 3 points, family FR; 0 eligible workers\n" in (
        shown.output
    )
    assert "nobody may take it today; rules collide: skills and capacity" in shown.output
    assert recommend(full, "R").planned is None
