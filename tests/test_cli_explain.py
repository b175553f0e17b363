"""The explain, recommend, check and diff commands, through click's CliRunner.

One hand-built service on 2026-11-23 (default policy; a full-time social worker's cap
is 100 points, an NQSW's 80):

- P1 (social worker, patch north) holds C1 (family F1, 20 points);
- P2 (social worker, patch south) holds C2 (10 points);
- P3 (NQSW) holds nothing;
- P4 (social worker, cap 10) holds C4 (9 points): 1 point spare.

Referrals, and where the optimum puts them:

- R1: C1's sibling (family F1), complexity 2, 3 points -> P1 (siblings together);
- R2: complexity 3 child protection, 5 points, P2 is its previous worker -> P2 (P3 may
  not hold complexity 3, P4 has no room; P1 and P2 tie on every tier but
  previous_worker_returns);
- R3: needs welsh, which nobody has -> unallocated, ``no_eligible_worker``;
- R4: pinned to P3 -> P3.

Everyone stays under 60 % of capacity, so balance is 0; no child is outside a patch.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from allocator import allocate
from allocator.cli import main
from allocator.contract.models import (
    Assignment,
    Case,
    Practitioner,
    Snapshot,
    Unallocated,
    UnallocatedCode,
)
from allocator.io import load_plan, write_json, write_snapshot

SNAPSHOT = Snapshot(
    format="caseload-snapshot/1",
    as_of="2026-11-23",
    practitioners=(
        Practitioner(id="P1", team="A", grade="social_worker", fte=1.0, areas=("north",)),
        Practitioner(id="P2", team="A", grade="social_worker", fte=1.0, areas=("south",)),
        Practitioner(id="P3", team="B", grade="nqsw", fte=1.0),
        Practitioner(id="P4", team="B", grade="social_worker", fte=1.0, capacity_points=10),
    ),
    cases=(
        Case(id="C1", family="F1", type="child_in_need", complexity=2, weight=20, worker="P1"),
        Case(id="C2", family="F2", type="child_in_need", complexity=2, weight=10, worker="P2"),
        Case(id="C4", family="F4", type="child_in_need", complexity=2, weight=9, worker="P4"),
        Case(id="R1", family="F1", type="child_in_need", complexity=2, weight=3, area="north"),
        Case(
            id="R2",
            family="F5",
            type="child_protection",
            complexity=3,
            weight=5,
            previous_workers=("P2", "X9"),
        ),
        Case(id="R3", family="F6", type="child_in_need", complexity=2, needs=("welsh",)),
        Case(id="R4", family="F7", type="early_help", complexity=1, pinned_worker="P3"),
    ),
)


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The snapshot, the engine's plan and a manager's edit of it, written once."""
    root = tmp_path_factory.mktemp("service")
    snap = write_snapshot(SNAPSHOT, root / "snapshot.json")
    plan = allocate(SNAPSHOT, time_limit=5)
    write_json(root / "plan.json", plan)
    # The manager's edit: R1 to P2 (splitting family F1), R2 left unallocated.
    edited = plan.model_copy(
        update={
            "assignments": tuple(
                a.model_copy(update={"worker": "P2"}) if a.case == "R1" else a
                for a in plan.assignments
                if a.case != "R2"
            ),
            "unallocated": (
                *plan.unallocated,
                Unallocated(
                    case="R2", code=UnallocatedCode.SEARCH_LIMIT, reason="held back by a manager"
                ),
            ),
        }
    )
    write_json(root / "edited.json", edited)
    return {
        "root": root,
        "snapshot": snap,
        "plan": root / "plan.json",
        "edited": root / "edited.json",
    }


def run(*args: Any) -> Result:
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def as_json(result: Result) -> Any:
    return json.loads(result.stdout)


def test_the_engine_plan_is_the_hand_worked_optimum(files: dict[str, Path]) -> None:
    plan = load_plan(files["plan"])
    assert {a.case: a.worker for a in plan.assignments} == {"R1": "P1", "R2": "P2", "R4": "P3"}
    assert [(u.case, u.code.value) for u in plan.unallocated] == [("R3", "no_eligible_worker")]


# ------------------------------------------------------------------ check


def test_check_accepts_the_engine_plan(files: dict[str, Path]) -> None:
    result = run("check", files["snapshot"], files["plan"])
    assert result.exit_code == 0, result.output
    assert "valid" in result.stdout
    data = as_json(run("check", files["snapshot"], files["plan"], "--json"))
    assert data["valid"] is True and data["violations"] == []
    assert "capacity" in data["rules"]


def _over_cap(files: dict[str, Path], tmp_path: Path) -> Path:
    """The plan with R2 (5 points) given by hand to P4, who has 1 point spare: P4 ends
    at 14 of 10."""
    plan = load_plan(files["plan"])
    broken = plan.model_copy(
        update={
            "assignments": tuple(
                Assignment(case=a.case, worker="P4" if a.case == "R2" else a.worker)
                for a in plan.assignments
            )
        }
    )
    write_json(tmp_path / "broken.json", broken)
    return tmp_path / "broken.json"


def test_check_rejects_an_over_cap_assignment(files: dict[str, Path], tmp_path: Path) -> None:
    _over_cap(files, tmp_path)
    result = run("check", files["snapshot"], tmp_path / "broken.json")
    assert result.exit_code == 1
    assert "capacity" in result.stdout and "P4" in result.stdout
    data = as_json(run("check", files["snapshot"], tmp_path / "broken.json", "--json"))
    assert data["valid"] is False
    capacity = [v for v in data["violations"] if v["rule"] == "capacity"]
    assert capacity == [
        {
            "rule": "capacity",
            "message": "P4 ends at 14.0 points, over the cap of 10.0",
            "case": None,
            "worker": "P4",
        }
    ]


def test_explain_says_first_that_a_plan_breaks_a_rule(
    files: dict[str, Path], tmp_path: Path
) -> None:
    """The first line of explain, not only a row of its table, says a plan breaks a
    hard rule; a plan that breaks none says so in the table's title."""
    _over_cap(files, tmp_path)
    result = run("explain", tmp_path / "broken.json", "--snapshot", files["snapshot"])
    first = " ".join(result.stdout.split("Hard rules")[0].split())
    assert "it breaks 1 hard rule (capacity: 1): not a plan to apply as it is" in first
    good = run("explain", files["plan"], "--snapshot", files["snapshot"])
    assert "breaks" not in good.stdout.split("Hard rules")[0]
    assert "none broken" in " ".join(good.stdout.split())


# ------------------------------------------------------------------ explain


def test_explain_plan_rule_by_rule(files: dict[str, Path]) -> None:
    result = run("explain", files["plan"], "--snapshot", files["snapshot"])
    assert result.exit_code == 0, result.output
    for text in ("conservation", "intake_limit", "without a worker", "R3"):
        assert text in result.stdout
    data = as_json(run("explain", files["plan"], "--snapshot", files["snapshot"], "--json"))
    assert [r["rule"] for r in data["rules"]][:2] == ["as_of", "conservation"]
    assert all(r["count"] == 0 for r in data["rules"]) and data["violations"] == 0
    tiers = {t["key"]: t for t in data["tiers"]}
    other = tiers["unallocated_other"]
    # R3 (3 points, referred today) weighs 6 half points x 1 by the default waiting rule.
    assert other["value"] == 6
    assert other["matches"][0]["cases"] == ["R3"]
    assert other["matches"][0]["justification"].startswith("no_eligible_worker")
    assert tiers["previous_worker_returns"]["value"] == 1
    assert tiers["previous_worker_returns"]["matches"][0]["cases"] == ["R2"]
    assert tiers["siblings_apart"]["value"] == 0
    for tier in data["tiers"]:
        assert tier["value"] == tier["reported"]
        assert sum(m["points"] for m in tier["matches"]) == tier["value"]


def test_explain_plan_names_split_families(files: dict[str, Path]) -> None:
    data = as_json(run("explain", files["edited"], "--snapshot", files["snapshot"], "--json"))
    split = {t["key"]: t for t in data["tiers"]}["siblings_apart"]
    assert split["value"] == 1
    (match,) = split["matches"]
    assert match["family"] == "F1" and match["workers"] == ["P1", "P2"]
    assert match["cases"] == ["C1", "R1"]
    # The edit's reported tiers and workers table no longer match its placements:
    # stale summaries, reported apart from the rules (none of which it breaks).
    assert data["violations"] == 0
    stale = {v["rule"] for v in data["stale"]}
    assert stale == {"objective", "workers_table"}


def test_explain_case_placed(files: dict[str, Path]) -> None:
    args = ("explain", files["plan"], "--snapshot", files["snapshot"], "--case", "R1")
    result = run(*args)
    assert result.exit_code == 0, result.output
    assert "allocated to P1" in result.stdout and "sibling C1 is with P1" in result.stdout
    data = as_json(run(*args, "--json"))
    assert data["outcome"] == "allocated" and data["worker_after"] == "P1"
    assert data["score"]["siblings_apart"] == 0
    # P2 and P3 (P4 has no room) would each split family F1.
    alternatives = {a["worker"]: a for a in data["alternatives"]}
    assert set(alternatives) == {"P2", "P3"}
    assert alternatives["P2"]["why_not"] == [
        "the family would have 1 extra worker with P2 against 0 with P1"
    ]


def test_explain_case_previous_worker_beats_an_equal(files: dict[str, Path]) -> None:
    args = ("explain", files["plan"], "--snapshot", files["snapshot"], "--case", "R2", "--json")
    data = as_json(run(*args))
    assert data["worker_after"] == "P2"
    assert "previous worker of this child" in data["reasons"]
    (p1,) = data["alternatives"]
    assert p1["worker"] == "P1"
    assert p1["why_not"] == ["P2 had the child before; P1 did not"]


def test_explain_case_unallocated(files: dict[str, Path]) -> None:
    args = ("explain", files["plan"], "--snapshot", files["snapshot"], "--case", "R3")
    result = run(*args)
    assert result.exit_code == 0, result.output
    assert "no_eligible_worker" in result.stdout
    data = as_json(run(*args, "--json"))
    assert data["outcome"] == "unallocated" and data["code"] == "no_eligible_worker"
    assert data["diagnosis"].startswith("no worker may hold it: needs welsh")
    assert data["colliding_rules"] == ["skills"]
    # Nobody may take R3: the table shows the nearest misses and what stops each
    # (it was empty, read as "nobody came near").
    assert data["alternatives"], "no near misses shown"
    for a in data["alternatives"]:
        assert a["eligible"] is False
        assert f"{a['worker']} lacks welsh (skills)" in a["why_not"]
    assert "the nearest misses, and why not" in result.stdout


def test_explain_worker_statement(files: dict[str, Path]) -> None:
    args = ("explain", files["plan"], "--snapshot", files["snapshot"], "--worker", "P1")
    result = run(*args)
    assert result.exit_code == 0, result.output
    for text in ("P1", "C1", "R1", "new today", "23"):
        assert text in result.stdout
    data = as_json(run(*args, "--json"))
    assert (data["capacity"], data["load_before"], data["load_after"]) == (100.0, 20.0, 23.0)
    assert (data["cases_before"], data["cases_after"]) == (1, 2)
    assert data["utilisation_after"] == 0.23
    assert [(c["case"], c["change"]) for c in data["cases"]] == [("R1", "new"), ("C1", "kept")]
    assert data["cases"][0] == {
        "case": "R1",
        "type": "child_in_need",
        "complexity": 2,
        "weight": 3.0,
        "change": "new",
        "other_worker": None,
        "on": None,
    }
    assert data["new_families"] == [] and data["moved_off"] == []


def test_explain_worker_moved_off(files: dict[str, Path]) -> None:
    # In the edit R1 goes to P2: P2's statement lists it as new.
    args = ("explain", files["edited"], "--snapshot", files["snapshot"], "--worker", "P2")
    data = as_json(run(*args, "--json"))
    assert ("R1", "new") in [(c["case"], c["change"]) for c in data["cases"]]
    assert data["new_families"] == ["F1"]


@pytest.mark.parametrize("worker", ["P1", "P2"])
def test_a_worker_statement_from_a_plan_listing_a_case_twice_says_the_rule_is_broken(
    files: dict[str, Path], tmp_path: Path, worker: str
) -> None:
    # A fresh manager's edit listed R1 with P1 and again with P2: check caught it, but
    # P2's statement left R1 out (the first listing counts) and said nothing was wrong.
    plan = load_plan(files["plan"])
    (r1,) = [a for a in plan.assignments if a.case == "R1"]
    twice = plan.model_copy(
        update={"assignments": (*plan.assignments, r1.model_copy(update={"worker": "P2"}))}
    )
    write_json(tmp_path / "twice.json", twice)
    args = ("explain", tmp_path / "twice.json", "--snapshot", files["snapshot"], "--worker", worker)
    data = as_json(run(*args, "--json"))
    assert [v["case"] for v in data["violations"]] == ["R1"], data["violations"]
    assert "R1 is listed 2 times" in " ".join(run(*args).stdout.split())
    # A worker the duplicate does not concern gets a clean statement.
    clean = (*args[:-1], "P3", "--json")
    assert as_json(run(*clean))["violations"] == []


# ------------------------------------------------------------------ recommend


def test_recommend_ranks_the_siblings_worker_first(files: dict[str, Path]) -> None:
    result = run("recommend", files["snapshot"], "R1")
    assert result.exit_code == 0, result.output
    assert "P1" in result.stdout and "holds sibling C1" in result.stdout
    data = as_json(run("recommend", files["snapshot"], "R1", "--json"))
    assert [c["worker"] for c in data["ranked"]][0] == "P1"
    # P4 has 1 point spare and R1 needs 3.
    (p4,) = data["ineligible"]
    assert p4["worker"] == "P4"
    assert p4["blockers"] == [
        {"rule": "capacity", "message": "P4 has 1.0 points spare and the case needs 3.0"}
    ]


def test_recommend_lists_why_not_and_respects_top(files: dict[str, Path]) -> None:
    result = run("recommend", files["snapshot"], "R2", "--top", "1")
    assert result.exit_code == 0, result.output
    assert "P3" in result.stdout and "grade" in result.stdout
    data = as_json(run("recommend", files["snapshot"], "R2", "--top", "1", "--json"))
    assert [c["worker"] for c in data["ranked"]] == ["P2"]
    assert data["eligible_count"] == 2
    why = {c["worker"]: [b["rule"] for b in c["blockers"]] for c in data["ineligible"]}
    assert why == {"P3": ["grade"], "P4": ["capacity"]}


# ------------------------------------------------------------------ diff


def test_diff_shows_moves_and_tiers(files: dict[str, Path]) -> None:
    result = run("diff", files["plan"], files["edited"])
    assert result.exit_code == 0, result.output
    assert "R1" in result.stdout and "R2" in result.stdout
    data = as_json(run("diff", files["plan"], files["edited"], "--json"))
    changes = {c["case"]: c for c in data["changes"]}
    assert changes["R1"] == {
        "case": "R1",
        "kind": "different_worker",
        "a": "P1",
        "b": "P2",
        "a_on": None,
        "b_on": None,
    }
    assert changes["R2"]["kind"] == "allocated_only_in_a"
    assert data["recomputed"] is False
    # As reported, the edit still carries the engine's tiers.
    assert data["better"] == "same"


def test_diff_of_another_services_plan_lists_a_screenful_of_broken_rules(
    files: dict[str, Path], tmp_path: Path
) -> None:
    # A fresh manager's diff against another service's plan printed all 102 broken
    # rules in one 9 KB paragraph; apply and explain already summarised them.
    plan = load_plan(files["plan"])
    strangers = tuple(
        Assignment(case=f"X{i:02}", worker="P1", reasons=("another service",)) for i in range(12)
    )
    write_json(tmp_path / "other.json", plan.model_copy(update={"assignments": strangers}))
    result = run("diff", files["plan"], tmp_path / "other.json", "--snapshot", files["snapshot"])
    said = " ".join(result.stdout.split()).split("plan B breaks ")[1].split(" better:")[0]
    # 12 strangers and the 3 cases it leaves out, counted by rule as explain counts them.
    assert said.startswith("1 hard rule (conservation: 15) against the snapshot: "), said
    assert "X04" in said and "X05" not in said
    assert said.endswith(
        "... and 10 more (is it a plan of this snapshot? allocator check lists them all)"
    )


def test_diff_with_snapshot_recomputes_the_tiers(files: dict[str, Path]) -> None:
    args = ("diff", files["plan"], files["edited"], "--snapshot", files["snapshot"], "--json")
    data = as_json(run(*args))
    tiers = {t["key"]: t for t in data["tiers"]}
    # The edit leaves R2 (child protection: statutory work) without a worker too.
    # Weighed by the default waiting rule: R2 (5 points) 10, R3 (3 points) 6.
    assert (tiers["unallocated_statutory"]["a"], tiers["unallocated_statutory"]["b"]) == (0, 10)
    assert tiers["unallocated_statutory"]["better"] == "a"
    assert (tiers["unallocated_other"]["a"], tiers["unallocated_other"]["b"]) == (6, 6)
    assert (tiers["siblings_apart"]["a"], tiers["siblings_apart"]["b"]) == (0, 1)
    # R1 lives in north, P2's patch is south.
    assert (tiers["outside_area"]["a"], tiers["outside_area"]["b"]) == (0, 1)
    assert tiers["balance"]["better"] == "same"
    assert data["better"] == "a" and data["recomputed"] is True
    human = run(*args[:-1])
    assert "plan A" in human.stdout and "recomputed from the snapshot" in human.stdout


def test_diff_warns_when_the_plans_were_made_apart(files: dict[str, Path], tmp_path: Path) -> None:
    from allocator.contract.models import FileDigest, MadeFrom
    from allocator.explain.check import plans_made_apart

    plan = load_plan(files["plan"])
    assert plans_made_apart(plan, plan) == []
    digest = {"snapshot": FileDigest(file="a.json", sha256="a" * 64)}
    a = plan.model_copy(update={"made_from": MadeFrom(**digest)})
    other = {"snapshot": FileDigest(file="b.json", sha256="b" * 64)}
    b = plan.model_copy(update={"made_from": MadeFrom(**other)})
    (snapshots,) = plans_made_apart(a, b)
    assert snapshots.startswith("plan A was made from snapshot a.json (SHA-256 aaaaaaaaaaaa...)")
    assert "plan B from b.json (SHA-256 bbbbbbbbbbbb...)" in snapshots
    referrals = FileDigest(file="r.json", sha256="c" * 64)
    c = plan.model_copy(update={"made_from": MadeFrom(**digest, referrals=referrals)})
    (one_sided,) = plans_made_apart(a, c)
    assert one_sided.startswith("plan B was made with a referrals file and plan A without one")
    by_rebalance = plan.model_copy(update={"made_from": MadeFrom(**digest, command="rebalance")})
    by_allocate = plan.model_copy(update={"made_from": MadeFrom(**digest, command="allocate")})
    (commands,) = plans_made_apart(by_allocate, by_rebalance)
    assert commands.startswith("plan A was made by allocate and plan B by rebalance: the tiers")
    assert plans_made_apart(by_allocate, a) == []  # a plan with no command recorded
    later = plan.model_copy(update={"as_of": plan.as_of.replace(year=plan.as_of.year + 1)})
    assert plans_made_apart(plan, later)[0].startswith(f"plan A is for {plan.as_of} and plan B")
    # On the command line, on stderr, naming the files; the diff itself still comes.
    write_json(tmp_path / "b.json", b)
    write_json(tmp_path / "a.json", a)
    result = run("diff", tmp_path / "a.json", tmp_path / "b.json")
    assert result.exit_code == 0
    assert f"warning: {tmp_path / 'a.json'} was made from snapshot a.json" in result.stderr
    # Plans of two services are not ranked, as a whole or tier by tier.
    assert "better by the tiers" not in result.stdout
    assert "not ranked: the plans were made for different days" in " ".join(result.stdout.split())
    data = as_json(run("diff", tmp_path / "a.json", tmp_path / "b.json", "--json"))
    assert data["better"] is None and all(t["better"] is None for t in data["tiers"])
    same = run("diff", tmp_path / "a.json", tmp_path / "a.json")
    assert "better by the tiers in priority order: neither" in same.stdout


# ------------------------------------------------------------------ bad input


@pytest.mark.parametrize(
    "args, message",
    [
        (("recommend", "{snapshot}", "R9"), "{snapshot}: case 'R9' is not in the snapshot"),
        (("explain", "{plan}", "--snapshot", "{snapshot}", "--case", "R9"), "{snapshot}: "),
        (("explain", "{plan}", "--snapshot", "{snapshot}", "--worker", "P9"), "{snapshot}: "),
        (("check", "{snapshot}", "{root}/missing.json"), "no such file"),
        (("diff", "{plan}", "{root}/missing.json"), "no such file"),
        (("check", "{snapshot}", "{plan}", "--policy", "{root}/missing.toml"), "policy"),
    ],
)
def test_bad_input_exits_2_with_a_message(
    files: dict[str, Path], args: tuple[str, ...], message: str
) -> None:
    names = {k: str(v) for k, v in files.items()}
    filled = [a.format(**names) for a in args]
    result = CliRunner().invoke(main, filled)
    assert result.exit_code == 2
    assert message.format(**names) in result.stderr


def test_case_and_worker_together_is_a_usage_error(files: dict[str, Path]) -> None:
    args = ("explain", files["plan"], "--snapshot", files["snapshot"], "--case", "R1")
    result = CliRunner().invoke(main, [str(a) for a in (*args, "--worker", "P1")])
    assert result.exit_code == 2
    assert "not both" in result.stderr


def test_policy_file_changes_the_answer(files: dict[str, Path]) -> None:
    # Letting an NQSW hold complexity 3 makes P3 eligible for R2 (and P3 is empty, so
    # it ranks above P1 on balance; P2 stays first as R2's previous worker).
    policy = files["root"] / "policy.toml"
    policy.write_text("[grades.nqsw]\nmax_complexity = 3\n", encoding="utf-8")
    args = ("recommend", files["snapshot"], "R2", "--policy", policy, "--json")
    data = as_json(run(*args))
    assert data["eligible_count"] == 3
    assert [c["worker"] for c in data["ranked"]][0] == "P2"
    assert "P3" in [c["worker"] for c in data["ranked"]]


# ------------------------------------------------------------------ hand-made plans


def test_a_plan_that_leaves_a_case_out_or_moves_one(files: dict[str, Path]) -> None:
    from allocator.contract.policy import Policy
    from allocator.present.analysis import analyse_plan, explain_case, worker_statement

    plan = load_plan(files["plan"])
    # Drop R3 from the lists, and move the open case C2 from P2 to P1.
    edited = plan.model_copy(
        update={
            "assignments": (*plan.assignments, Assignment(case="C2", worker="P1", from_="P2")),
            "unallocated": (),
        }
    )
    policy = Policy()
    assert explain_case(SNAPSHOT, policy, edited, "R3").outcome == "missing"
    moved = explain_case(SNAPSHOT, policy, edited, "C2")
    assert (moved.outcome, moved.worker_before, moved.worker_after) == ("moved", "P2", "P1")
    # Explained under the whole plan: the edit gives P2 the referral R2.
    assert moved.reasons[0] == "moved from P2 to make room for R2 (child protection)"
    analysis = analyse_plan(SNAPSHOT, policy, edited)
    assert analysis.moved == 1 and any("rebalance" in n for n in analysis.notes)
    conservation = {r.rule: r for r in analysis.rules}["conservation"]
    assert [v.case for v in conservation.violations] == ["R3"]
    p2 = worker_statement(SNAPSHOT, policy, edited, "P2")
    assert [(c.case, c.change, c.other_worker) for c in p2.moved_off] == [("C2", "moved_off", "P1")]
    p1 = worker_statement(SNAPSHOT, policy, edited, "P1")
    assert ("C2", "moved_in", "P2") in [(c.case, c.change, c.other_worker) for c in p1.cases]


def test_an_assignment_to_an_unknown_worker(files: dict[str, Path]) -> None:
    from allocator.contract.policy import Policy
    from allocator.present.analysis import explain_case

    plan = load_plan(files["plan"])
    edited = plan.model_copy(
        update={
            "assignments": tuple(
                a.model_copy(update={"worker": "P9"}) if a.case == "R1" else a
                for a in plan.assignments
            )
        }
    )
    e = explain_case(SNAPSHOT, Policy(), edited, "R1")
    assert e.outcome == "invalid"
    assert [v.rule for v in e.violations] == ["unknown_worker"]


def test_an_assignment_to_a_worker_who_has_left(files: dict[str, Path]) -> None:
    from allocator.contract.policy import Policy
    from allocator.present.analysis import explain_case

    gone = Practitioner(id="P5", team="A", grade="senior", fte=1.0, leaving_on="2026-11-20")
    snap = SNAPSHOT.model_copy(update={"practitioners": (*SNAPSHOT.practitioners, gone)})
    plan = load_plan(files["plan"])
    edited = plan.model_copy(
        update={
            "assignments": tuple(
                a.model_copy(update={"worker": "P5"}) if a.case == "R1" else a
                for a in plan.assignments
            )
        }
    )
    e = explain_case(snap, Policy(), edited, "R1")
    assert (e.outcome, e.worker_after) == ("allocated", "P5")
    assert e.reasons[-1].startswith("P5 would not normally be eligible: P5 left on 2026-11-20")
    assert "gone_worker" in [v.rule for v in e.violations]
    assert e.score is not None and e.score["siblings_apart"] == 1


def test_a_plans_own_text_is_compared_not_repeated(files: dict[str, Path]) -> None:
    # The edit leaves R2 unallocated "held back by a manager": free text a hand-made
    # plan may fill with anything, so it is never echoed; only its code is.
    args = ("explain", files["edited"], "--snapshot", files["snapshot"], "--case", "R2")
    data = as_json(run(*args, "--json"))
    assert data["outcome"] == "unallocated"
    assert (data["plan_code"], data["plan_agrees"]) == ("search_limit", False)
    assert data["code"] == "search_limit"  # P1 and P2 had room: the recomputed code agrees
    human = run(*args)
    assert "held back" not in human.stdout and "held back" not in json.dumps(data)
    assert "the plan states other reasons" in human.stdout
    engine = as_json(
        run("explain", files["plan"], "--snapshot", files["snapshot"], "--case", "R1", "--json")
    )
    assert engine["plan_agrees"] is True


def test_explain_case_says_the_childs_priority_class_and_wait(tmp_path: Path) -> None:
    """A fresh manager read "care_leaver, complexity 3" for an urgent child and no word
    that they were urgent: the header now says the priority, the class and the wait.
    P1 has room for none of the referrals and keeps K, whose wait is not known."""
    snap = Snapshot(
        format="caseload-snapshot/1",
        as_of="2026-11-23",
        practitioners=(
            Practitioner(id="P1", team="A", grade="social_worker", fte=1.0, capacity_points=4),
        ),
        cases=(
            Case(id="K", family="FK", type="child_in_need", complexity=1, weight=3, worker="P1"),
            Case(
                id="U",
                family="FU",
                type="care_leaver",
                complexity=3,
                weight=6,
                priority="urgent",
                opened="2026-11-19",
            ),
            Case(
                id="S",
                family="FS",
                type="child_protection",
                complexity=2,
                weight=6,
                opened="2026-11-22",
            ),
        ),
    )
    path = write_snapshot(snap, tmp_path / "s.json")
    write_json(tmp_path / "plan.json", allocate(snap, time_limit=5))
    headers = {}
    for cid in ("U", "S", "K"):
        result = run("explain", tmp_path / "plan.json", "--snapshot", path, "--case", cid)
        assert result.exit_code == 0, result.output
        headers[cid] = " ".join(result.stdout.split("outcome:")[0].split())
    assert headers["U"].endswith(
        "care_leaver, complexity 3, weight 6 points, family FU; urgent priority, class "
        "urgent, waited 4 days"
    ), headers["U"]
    assert headers["S"].endswith("; standard priority, class statutory, waited 1 day")
    assert headers["K"].endswith("family FK; standard priority, class other")
    args = ("explain", tmp_path / "plan.json", "--snapshot", path, "--case", "U", "--json")
    data = as_json(run(*args))
    assert (data["priority"], data["priority_class"], data["days_waiting"]) == (
        "urgent",
        "urgent",
        4,
    )
