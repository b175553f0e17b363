"""recommend: the workers for one case ranked by the engine's tiers, with why not.

Hand-built snapshots on 2026-11-23 under the default policy (a full-time social
worker's cap is 100 points); the expected ranking is worked out in each comment.
A generated service holds the fast paths to the plain definitions they shortcut.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner

import allocator
from allocator.cli import main
from allocator.contract.models import Snapshot
from allocator.contract.policy import Policy
from allocator.domain.objectives import balance_cost, outside_area
from allocator.explain.reasons import worker_blockers
from allocator.generate import generate
from allocator.io import InputError, write_json
from allocator.problems.recommend import Recommender, UnknownIdError, miss_key, recommend, score_key
from tests.builders import case, snapshot, worker

AS_OF = date(2026, 11, 23)


def family_snapshot() -> Snapshot:
    """R1 is a referral whose sibling C1 is held by P1.

    P1 holds C1 (60 points); P2 holds nothing; P3 had R1 before and holds 30 points;
    P4 is an NQSW (R1 is complexity 3); P5 is absent; P6 is excluded from R1.
    """
    return snapshot(
        [
            worker("P1"),
            worker("P2"),
            worker("P3"),
            worker("P4", grade="nqsw"),
            worker("P5", available_from=date(2026, 12, 1)),
            worker("P6"),
        ],
        [
            case("C1", family="F", worker="P1", weight=60.0),
            case("C3", worker="P3", weight=30.0),
            case(
                "R1",
                family="F",
                complexity=3,
                previous_workers=("P3",),
                excluded_workers=("P6",),
            ),
        ],
    )


def test_sibling_worker_first_then_previous_worker_then_balance() -> None:
    # siblings_apart: P1 keeps the family on one worker (0); anyone else makes it 1.
    # Then previous_worker_returns: P3 had the child. Then balance: P2 (empty) before
    # anyone else. P1 is first although P2 has far more room.
    rec = recommend(family_snapshot(), "R1")
    assert [c.worker for c in rec.ranked] == ["P1", "P3", "P2"]
    first = rec.ranked[0]
    assert first.score["siblings_apart"] == 0
    assert "holds sibling C1" in first.reasons
    assert rec.ranked[1].score == {
        "siblings_apart": 1,
        "expected_changes": 0,
        "previous_worker_returns": 1,
        "balance": 0,
        "outside_area": 0,
    }
    assert "previous worker of this child" in rec.ranked[1].reasons
    assert rec.eligible_count == 3
    assert all(c.eligible and not c.blockers for c in rec.ranked)


def test_ineligible_workers_listed_with_the_rule_that_stops_them() -> None:
    rec = recommend(family_snapshot(), "R1", ineligible=5)
    why = {c.worker: c.blockers for c in rec.ineligible}
    assert set(why) == {"P4", "P5", "P6"}
    assert [b.rule for b in why["P4"]] == ["grade"]
    assert "complexity 3 is above 2" in why["P4"][0].message
    assert [b.rule for b in why["P5"]] == ["availability"]
    assert "absent until 2026-12-01" in why["P5"][0].message
    assert [b.rule for b in why["P6"]] == ["excluded_worker"]
    assert not any(c.eligible for c in rec.ineligible)


def test_sibling_worker_who_is_full_is_the_first_near_miss() -> None:
    # P1 holds R1's sibling but has 1 point spare (cap 10, holds 9); R1 needs 3.
    # P2 (NQSW, complexity 3) is stopped by grade. Continuity ranks P1 first.
    snap = snapshot(
        [worker("P2", grade="nqsw"), worker("P1", capacity_points=10), worker("P3")],
        [case("C1", family="F", worker="P1", weight=9.0), case("R1", family="F", complexity=3)],
    )
    rec = recommend(snap, "R1", ineligible=2)
    assert [c.worker for c in rec.ranked] == ["P3"]
    assert rec.ranked[0].score["siblings_apart"] == 1
    assert [c.worker for c in rec.ineligible] == ["P1", "P2"]
    (full,) = rec.ineligible[0].blockers
    assert full.rule == "capacity"
    assert full.message == "P1 has 1.0 points spare and the case needs 3.0"


def test_open_case_ranks_alternatives_to_its_worker() -> None:
    # C1 is held by P1: P1 is not a candidate; P2 and P3 are, P3 (less loaded) first.
    snap = snapshot(
        [worker("P1"), worker("P2"), worker("P3")],
        [case("C1", worker="P1"), case("C2", worker="P2", weight=70.0)],
    )
    rec = recommend(snap, "C1")
    assert rec.current_worker == "P1" and not rec.needs_worker
    assert [c.worker for c in rec.ranked] == ["P3", "P2"]


def test_nobody_eligible_names_the_colliding_rules() -> None:
    # Only P1 has welsh and P1 is excluded; P2 lacks welsh.
    snap = snapshot(
        [worker("P1", skills=("welsh",)), worker("P2")],
        [case("R1", needs=("welsh",), excluded_workers=("P1",))],
    )
    rec = recommend(snap, "R1")
    assert rec.ranked == () and rec.eligible_count == 0
    assert rec.colliding_rules == ("skills", "excluded_worker")


def test_pinned_case_has_only_its_pinned_worker() -> None:
    snap = snapshot([worker("P1"), worker("P2")], [case("R1", pinned_worker="P2")])
    rec = recommend(snap, "R1")
    assert [c.worker for c in rec.ranked] == ["P2"]
    assert "pinned to P2 by a manager" in rec.ranked[0].reasons
    assert [b.rule for b in rec.ineligible[0].blockers] == ["pinned_worker"]


def test_outside_area_orders_equal_workers() -> None:
    # Both empty (balance 0); P2 covers north, P1 covers south only.
    snap = snapshot(
        [worker("P1", areas=("south",)), worker("P2", areas=("north",))],
        [case("R1", area="north")],
    )
    rec = recommend(snap, "R1")
    assert [c.worker for c in rec.ranked] == ["P2", "P1"]
    assert rec.ranked[1].score["outside_area"] == 1


def test_unknown_case_is_an_input_error() -> None:
    with pytest.raises(UnknownIdError, match="'R9' is not in the snapshot") as err:
        recommend(family_snapshot(), "R9")
    assert isinstance(err.value, InputError) and isinstance(err.value, LookupError)


def test_top_and_ineligible_limit_the_lists() -> None:
    rec = recommend(family_snapshot(), "R1", top=1, ineligible=0)
    assert [c.worker for c in rec.ranked] == ["P1"] and rec.ineligible == ()


def test_a_top_of_zero_is_refused_not_read_as_nobody_eligible(tmp_path: Path) -> None:
    # --top 0 printed "3 eligible worker(s)" then "nobody may take it today:  rule"
    # (a user fault): the option and the library refuse it.
    with pytest.raises(ValueError, match="top is 0, expected a whole number from 1"):
        recommend(family_snapshot(), "R1", top=0)
    path = tmp_path / "s.json"
    write_json(path, family_snapshot())
    result = CliRunner().invoke(main, ["recommend", str(path), "R1", "--top", "0"])
    assert result.exit_code == 2
    assert "Invalid value for '--top'" in result.stderr and "nobody" not in result.output


def test_exported_and_serialisable() -> None:
    assert allocator.problems.recommend.recommend is recommend
    data = recommend(family_snapshot(), "R1").to_dict()
    assert data["ranked"][0]["worker"] == "P1"
    assert data["ineligible"][0]["blockers"][0].keys() == {"rule", "message"}


# ------------------------------------------------------- agreement with the definitions


@pytest.fixture(scope="module")
def service() -> Recommender:
    return Recommender(generate(40, seed=3), Policy())


def test_eligible_agrees_with_state_eligible(service: Recommender) -> None:
    state = service.state
    for cid in state.to_allocate:
        rec = service.recommend(cid, top=1000, ineligible=0)
        assert sorted(c.worker for c in rec.ranked) == state.eligible(cid), cid
        keys = [score_key(c.score) for c in rec.ranked]
        assert keys == sorted(keys)


def test_scores_and_rules_agree_with_the_plain_definitions(service: Recommender) -> None:
    state = service.state
    cases = state.to_allocate[:8] + [c.id for c in state.snapshot.cases[::97] if c.worker]
    staff = [w for w in state.practitioners if w not in state.gone]
    for cid in cases:
        for wid in staff:
            score = service.score(cid, wid)
            assert score["balance"] == balance_cost(state, cid, wid)
            assert score["outside_area"] == int(outside_area(state, cid, wid))
            if wid == state.cases[cid].worker:
                continue
            fast = [b.rule for b in service.blockers(cid, wid)]
            assert fast == [b.rule for b in worker_blockers(state, cid, wid)], (cid, wid)
            assert (not fast) == state.may_hold(cid, wid), (cid, wid)


@pytest.mark.parametrize("intake", [2, 0], ids=["default-intake", "no-new-families"])
def test_the_cached_ranking_equals_sorting_every_worker(intake: int) -> None:
    # The fast path ranks most workers by an order cached per kind of case and weight;
    # here every answer must equal the plain definition: every worker but the case's
    # own, eligible ones by score, blocked ones by (sibling, previous worker, number of
    # rules, look-ahead, balance, area), ties by id; and the rules colliding when
    # nobody is left.
    from collections import Counter

    from allocator.problems.recommend import colliding

    snap = generate(40, seed=4, load=1.05)
    rec = Recommender(snap, Policy().with_overrides(max_new_families_per_day=intake))
    state = rec.state
    staff = [w for w in state.practitioners if w not in state.gone]
    for c in snap.cases[::7]:
        siblings = rec._sibling_workers(c)
        keyed, missed, rules = [], [], []
        for wid in staff:
            if wid == c.worker:
                continue
            key = score_key(rec.score(c.id, wid))
            blockers = [b.rule for b in rec.blockers(c.id, wid)]
            rules.append(blockers)
            if not blockers:
                keyed.append((key, wid))
                continue
            sib = 0 if not siblings or wid in siblings else 1
            missed.append((miss_key(key, sib, len(blockers)), wid))
        got = rec.recommend(c.id, top=6, ineligible=4)
        assert [c_.worker for c_ in got.ranked] == [w for _, w in sorted(keyed)[:6]], c.id
        assert [c_.worker for c_ in got.ineligible] == [w for _, w in sorted(missed)[:4]], c.id
        assert got.eligible_count == len(keyed)
        plain = colliding(Counter(frozenset(r) for r in rules))
        assert got.colliding_rules == (() if keyed else plain)


def test_the_library_exports_the_fast_path_and_the_module() -> None:
    # allocator.problems.recommend is the module (README:
    # allocator.problems.recommend.Recommender), and
    # the fast path is at the top level too.
    import allocator.problems.recommend as module

    assert allocator.problems.recommend is module
    assert allocator.Recommender is module.Recommender is Recommender


def test_balance_is_the_engines_from_the_load_kept() -> None:
    # P1 holds C1 (50 points), from which P1 is now excluded: C1 must leave P1, so the
    # engine prices R1 at P1 from the 20 points P1 keeps (24 % after: balance 0), not
    # from the 70 held today (74 %: 8). recommend once read the 70 and put P2 first.
    snap = snapshot(
        [worker("P1"), worker("P2")],
        [
            case("C1", worker="P1", weight=50.0, excluded_workers=("P1",)),
            case("C2", worker="P1", weight=20.0),
            case("R1", weight=4.0),
        ],
    )
    rec = recommend(snap, "R1")
    assert [(c.worker, c.score["balance"]) for c in rec.ranked] == [("P1", 0), ("P2", 0)]


def test_recommend_on_a_service_whose_staff_have_all_left_says_so(tmp_path: Path) -> None:
    snap = generate(5, seed=1)
    gone = snap.model_copy(
        update={
            "practitioners": tuple(
                p.model_copy(update={"leaving_on": date(2000, 1, 1)}) for p in snap.practitioners
            )
        }
    )
    path = tmp_path / "gone.json"
    write_json(path, gone)
    result = CliRunner().invoke(main, ["recommend", str(path), gone.cases[0].id])
    assert result.exit_code == 0, result.output
    assert "nobody may take it today: nobody on the staff list is still here" in result.output


def test_recommend_on_a_plan_counts_the_new_families_it_gives_each_worker() -> None:
    # A fresh user followed `recommend --plan` to a worker the plan had already
    # brought to the intake limit; `check` then refused the plan. With one new
    # family a day, P1 (the most room) took R1's family in the plan: R2 may not go
    # there, and the ranking says why; before any plan P1 ranks first.
    policy = Policy(max_new_families_per_day=1)
    snap = snapshot(
        [worker("P1"), worker("P2"), worker("P3")],
        [
            case("H2", worker="P2", weight=60),
            case("H3", worker="P3", weight=70),
            case("R1"),
            case("R2"),
        ],
    )
    before = recommend(snap, "R2", policy)
    assert before.ranked[0].worker == "P1"
    plan = allocator.allocate(snap, policy, work_units=1.0)
    taker = next(a.worker for a in plan.assignments if a.case == "R1")
    other = next(a.worker for a in plan.assignments if a.case == "R2")
    assert taker != other
    rec = recommend(snap, "R2", policy, plan=plan)
    assert taker not in [c.worker for c in rec.ranked]
    blocked = {m.worker: m for m in rec.ineligible}
    assert taker in blocked
    assert [b.rule for b in blocked[taker].blockers] == ["intake_limit"]
    # What the ranking offers, check accepts.
    first = rec.ranked[0].worker
    edited = plan.model_copy(
        update={
            "assignments": tuple(
                a.model_copy(update={"worker": first}) if a.case == "R2" else a
                for a in plan.assignments
            )
        }
    )
    assert allocator.check_plan(snap, policy, edited) == []
