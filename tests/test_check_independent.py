"""``check`` is an independent judge: no engine, any tool's codes, stale totals apart.

Instances: P1 and P2, social workers with room; R1 a new referral (3 points).
"""

from __future__ import annotations

import ast
import json
from pathlib import Path

from click.testing import CliRunner

from allocator.cli import main
from allocator.contract.models import Plan, WorkerLoad
from allocator.contract.policy import Policy
from allocator.explain.check import check_plan, judge_plan
from allocator.io import write_json
from tests.builders import AS_OF, case, snapshot, worker

ALLOCATOR = Path(__file__).resolve().parent.parent / "allocator"
SNAP = snapshot([worker("P1"), worker("P2")], [case("R1")])


def imported_modules(path: Path) -> set[str]:
    """Every module a source file imports, at any depth of the file."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def allocator_imports(module: str, seen: set[str] | None = None) -> set[str]:
    """Every ``allocator`` module ``module`` imports, directly or through others.

    The package's ``__init__`` (the public API, which re-exports the solving
    functions) is not followed: ``check`` itself must not need the engine.
    """
    seen = set() if seen is None else seen
    path = ALLOCATOR.parent / (module.replace(".", "/") + ".py")
    if not path.exists():
        path = ALLOCATOR.parent / module.replace(".", "/") / "__init__.py"
    for name in imported_modules(path):
        if name.startswith("allocator.") and name not in seen:
            seen.add(name)
            allocator_imports(name, seen)
    return seen


def test_check_does_not_import_the_engine() -> None:
    reached = allocator_imports("allocator.explain.check")
    assert {"allocator.domain.rules", "allocator.domain.objectives"} <= reached
    assert not any(m.startswith("allocator.engine") for m in reached), sorted(reached)


def test_the_engine_does_not_import_check() -> None:
    for path in sorted((ALLOCATOR / "engine").glob("*.py")):
        assert "allocator.explain.check" not in imported_modules(path), path.name


def plan(**fields: object) -> Plan:
    return Plan.model_validate({"as_of": AS_OF, "status": "feasible", **fields})


def test_codes_of_other_tools_are_accepted() -> None:
    # The spec's own example code, unknown to the allocator: R1 unallocated is legal.
    p = plan(unallocated=[{"case": "R1", "code": "no_eligible_capacity", "reason": "greedy"}])
    assert check_plan(SNAP, Policy(), p) == []


def test_summaries_may_be_absent() -> None:
    # No workers, objective, bound or solve_seconds: nothing stale, nothing broken.
    p = plan(assignments=[{"case": "R1", "worker": "P1"}])
    assert judge_plan(SNAP, Policy(), p) == ([], [])


def test_stale_totals_are_not_broken_rules() -> None:
    # A legal hand edit (R1 to P2 instead of P1) whose table still shows P1 taking it.
    stale_row = WorkerLoad(
        id="P1", capacity=100, load_before=0, load_after=3, cases_before=0, cases_after=1
    )
    p = plan(
        assignments=[{"case": "R1", "worker": "P2"}],
        workers=[stale_row.model_dump()],
        objective={"unallocated": 1},  # R1 is allocated: 0
    )
    broken, stale = judge_plan(SNAP, Policy(), p)
    assert broken == []
    assert [(v.rule, v.worker) for v in stale] == [
        ("workers_table", "P1"),  # load_after 3 recomputes to 0
        ("workers_table", "P1"),  # cases_after 1 recomputes to 0
        ("workers_table", "P2"),  # no row for P2, whose load changes
        ("objective", None),
    ]


def test_cli_exit_code_is_0_when_only_summaries_are_stale(tmp_path: Path) -> None:
    snap_path, plan_path = tmp_path / "s.json", tmp_path / "p.json"
    write_json(snap_path, SNAP)
    write_json(
        plan_path, plan(assignments=[{"case": "R1", "worker": "P2"}], objective={"allocated": 0})
    )
    runner = CliRunner()
    result = runner.invoke(main, ["check", str(snap_path), str(plan_path), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["valid"] is True and data["violations"] == []
    assert [v["rule"] for v in data["stale"]] == ["objective"]
    text = runner.invoke(main, ["check", str(snap_path), str(plan_path)])
    assert text.exit_code == 0 and "stale" in text.stdout and "valid" in text.stdout


def test_cli_accepts_a_greedy_plans_code(tmp_path: Path) -> None:
    snap_path, plan_path = tmp_path / "s.json", tmp_path / "p.json"
    write_json(snap_path, SNAP)
    plan_path.write_text(
        json.dumps(
            {
                "format": "allocation-plan/1",
                "as_of": "2026-11-23",
                "status": "feasible",
                "unallocated": [{"case": "R1", "code": "no_eligible_capacity", "reason": "-"}],
            }
        )
    )
    result = CliRunner().invoke(main, ["check", str(snap_path), str(plan_path)])
    assert result.exit_code == 0, result.output


def test_non_finite_numbers_are_bad_input(tmp_path: Path) -> None:
    snap_path, plan_path = tmp_path / "s.json", tmp_path / "p.json"
    write_json(snap_path, SNAP)
    plan_path.write_text(
        '{"format": "allocation-plan/1", "as_of": "2026-11-23", "status": "feasible", '
        '"unallocated": [{"case": "R1", "code": "x", "reason": "-"}], "solve_seconds": NaN}'
    )
    result = CliRunner().invoke(main, ["check", str(snap_path), str(plan_path)])
    assert result.exit_code == 2 and "solve_seconds" in result.stderr


def test_every_plan_the_tests_make_is_judged() -> None:
    # tests/conftest.py wraps the plan builders of allocate and rebalance for the
    # session, so the checker judges every plan the engine makes in any test.
    import importlib

    assert importlib.import_module("allocator.problems.daily").build_plan.__name__ == (
        "checked_build_plan"
    )
    assert importlib.import_module("allocator.problems.rebalancing")._plan.__name__ == (
        "checked_rebalance_plan"
    )
