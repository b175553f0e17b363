"""Issue 20's two-worker service: the engine, ``recommend`` and ``explain`` give one answer.

On 2026-11-23, default policy:

- AG: agency social worker, contract ending in ten weeks (2027-02-01), holding nothing;
- PM: permanent social worker, holding C1, 70 of 100 points;
- R1: a looked-after referral, complexity 2, 4 points.

Worked by hand, tier by tier: both may hold R1 and neither is a sibling's or previous
worker. The look-ahead comes before balance: a looked-after case is expected to run
880 days, AG's contract ends long before (a certain change of worker later: 100
hundredths), and PM, permanent, leaves within 880 days with chance
1 - exp(-0.159 x 880 / 365) = 32 %. So R1 goes to PM, although AG is empty (balance
0 against PM's 8) -- and ``recommend`` ranks PM first, and ``explain --case`` says the
look-ahead is why AG was not chosen. Before issue 20 ``recommend`` ranked AG first
(its score had no look-ahead) and ``explain`` said AG "would cost the plan more on
this or a higher tier elsewhere", though nothing else was in the plan.
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from allocator import allocate
from allocator.cli import main
from allocator.contract.models import Plan, Snapshot
from allocator.contract.policy import Policy
from allocator.io import write_json
from allocator.present.analysis import explain_case
from allocator.problems.recommend import recommend
from tests.builders import AS_OF, case, snapshot, worker

#: What explain says of AG: the look-ahead, in the tier's own words, and nothing else.
WHY_NOT_AG = (
    "look-ahead: the child can expect 1.00 later change(s) of worker with AG (agency "
    "contract ends on 2027-02-01, before the case's expected end (2029-04-21)) against "
    "0.32 with PM (permanent staff leave at 0.159 a year: 32% chance of leaving within "
    "the case's expected 880 days)"
)


def two_workers() -> Snapshot:
    return snapshot(
        [worker("AG", contract="agency", contract_end=AS_OF + timedelta(weeks=10)), worker("PM")],
        [case("C1", worker="PM", weight=70.0), case("R1", type="looked_after", weight=4.0)],
    )


def test_engine_recommend_and_explain_agree_in_the_library() -> None:
    snap, policy = two_workers(), Policy()
    plan = allocate(snap, policy, work_units=1.0)
    assert [(a.case, a.worker) for a in plan.assignments] == [("R1", "PM")]
    assert plan.status == "optimal"
    assert plan.objective["expected_changes"] == 32

    rec = recommend(snap, "R1")
    assert [c.worker for c in rec.ranked] == ["PM", "AG"]
    assert rec.ranked[0].score["expected_changes"] == 32
    assert rec.ranked[1].score["expected_changes"] == 100
    assert rec.ranked[1].score["balance"] == 0  # AG is better on balance, a lower tier
    assert "R1 with AG: agency contract ends on 2027-02-01" in rec.ranked[1].reasons[0]

    e = explain_case(snap, policy, plan, "R1")
    assert e.outcome == "allocated" and e.worker_after == "PM"
    (ag,) = e.alternatives
    assert ag.worker == "AG"
    assert ag.why_not == (WHY_NOT_AG,)


def run(*args: Any) -> Any:
    result = CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result


def test_engine_recommend_and_explain_agree_through_the_cli(tmp_path: Path) -> None:
    service, plan_file = tmp_path / "service.json", tmp_path / "plan.json"
    write_json(service, two_workers())
    run("allocate", service, "--work-units", 1, "--out", plan_file)
    plan = Plan.model_validate_json(plan_file.read_text())
    assert [(a.case, a.worker) for a in plan.assignments] == [("R1", "PM")]

    ranked = json.loads(run("recommend", service, "R1", "--json").stdout)["ranked"]
    assert [c["worker"] for c in ranked] == ["PM", "AG"]

    args = ("explain", plan_file, "--snapshot", service, "--case", "R1")
    data = json.loads(run(*args, "--json").stdout)
    assert data["worker_after"] == "PM"
    assert [(a["worker"], a["why_not"]) for a in data["alternatives"]] == [("AG", [WHY_NOT_AG])]
    text = run(*args).stdout
    assert "look-ahead" in text and "elsewhere" not in text
