"""Issue 12: inputs and outputs a council can trust.

Each fault is fixed as a kind at the door (a domain on every number and date, one
rule for files), and each member of the kind has a test here.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from allocator.allocate import allocate
from allocator.check import check_plan
from allocator.io import InputError, load_snapshot
from allocator.policy import Policy
from allocator.rebalance import rebalance
from tests.builders import case, snapshot, worker

# ------------------------------------------------------------------ helpers


def practitioner_data(**fields: Any) -> dict[str, Any]:
    return {"id": "P1", "team": "North", "grade": "senior", "fte": 1.0, **fields}


def case_data(**fields: Any) -> dict[str, Any]:
    return {"id": "C1", "family": "F1", "type": "child_in_need", "complexity": 2, **fields}


def snapshot_text(
    practitioners: list[Any] | None = None, cases: list[Any] | None = None, **top: Any
) -> str:
    data = {
        "format": "caseload-snapshot/1",
        "as_of": "2026-11-23",
        "practitioners": [practitioner_data()] if practitioners is None else practitioners,
        "cases": [case_data()] if cases is None else cases,
        **top,
    }
    return json.dumps(data)


def only_problem(path: Path) -> str:
    with pytest.raises(InputError) as caught:
        load_snapshot(path)
    assert len(caught.value.problems) == 1, caught.value.problems
    return caught.value.problems[0]


# ------------------------------------------------------------------ numbers: zero weights


def test_a_case_of_weight_zero_is_allocated() -> None:
    # One worker, one 0-point case: 0 points never breaks a cap, so it is placed.
    snap = snapshot([worker("W")], [case("R0", weight=0)])
    plan = allocate(snap, Policy(), time_limit=2)
    assert [(a.case, a.worker) for a in plan.assignments] == [("R0", "W")]
    assert check_plan(snap, Policy(), plan) == []


def test_a_policy_scoring_a_type_at_zero_allocates_it() -> None:
    policy = Policy().with_overrides(type_points={"early_help": 0})
    snap = snapshot([worker("W")], [case("R0", type="early_help", weight=None)])
    plan = allocate(snap, policy, time_limit=2)
    assert [(a.case, a.worker) for a in plan.assignments] == [("R0", "W")]


def test_a_weight_that_rounds_to_zero_centi_points_is_allocated() -> None:
    snap = snapshot([worker("W")], [case("R0", weight=0.004)])
    plan = allocate(snap, Policy(), time_limit=2)
    assert [(a.case, a.worker) for a in plan.assignments] == [("R0", "W")]


def test_zero_weight_cases_of_a_leaver_move_even_to_a_zero_cap() -> None:
    # A has left holding two 0-point children; B's cap is 0 points, which still holds
    # 0 points, and C is a full-time worker: both children find a worker.
    snap = snapshot(
        [worker("A", leaving_on=date(2026, 11, 1)), worker("B", capacity_points=0), worker("C")],
        [case("X", worker="A", weight=0), case("Y", worker="A", weight=0.004)],
    )
    for plan in (allocate(snap, Policy(), time_limit=2), rebalance(snap, Policy(), time_limit=2)):
        assert sorted(a.case for a in plan.assignments) == ["X", "Y"]
        assert plan.unallocated == ()
        assert check_plan(snap, Policy(), plan) == []


# ------------------------------------------------------------------ numbers: domains


@pytest.mark.parametrize(
    ("record", "field", "value", "expected"),
    [
        # finite but huge: would overflow the solver's 64-bit integers
        ("case", "weight", 1e307, "a number from 0 to 10000 or null"),
        ("case", "weight", 10000.5, "a number from 0 to 10000 or null"),
        ("practitioner", "capacity_points", 1e19, "a number from 0 to 10000 or null"),
        ("case", "changes_last_12_months", 2**62, "a whole number from 0 to 366"),
        ("practitioner", "experience_years", 1e300, "a number from 0 to 70"),
        # true / false are not numbers
        ("case", "complexity", True, "a whole number from 1 to 4"),
        ("case", "weight", False, "a number from 0 to 10000 or null"),
        ("case", "changes_last_12_months", True, "a whole number from 0 to 366"),
        ("practitioner", "fte", True, "a number greater than 0 and at most 1"),
        ("practitioner", "experience_years", False, "a number from 0 to 70"),
        ("practitioner", "capacity_points", True, "a number from 0 to 10000 or null"),
    ],
)
def test_every_number_has_a_domain(
    tmp_path: Path, record: str, field: str, value: Any, expected: str
) -> None:
    path = tmp_path / "s.json"
    if record == "practitioner":
        path.write_text(snapshot_text([practitioner_data(**{field: value})], []))
        where = "practitioners[0] (id P1)"
    else:
        path.write_text(snapshot_text(cases=[case_data(**{field: value})]))
        where = "cases[0] (id C1)"
    shown = json.dumps(value) if isinstance(value, bool) else repr(value)
    shown = shown if len(shown) <= 30 else shown[:12] + "..."
    assert (
        only_problem(path) == f"{path}, {where}: field {field!r} is {shown}, expected {expected}."
    )


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity", "1e400"])
def test_json_non_finite_numbers_are_refused(tmp_path: Path, literal: str) -> None:
    path = tmp_path / "s.json"
    path.write_text(snapshot_text(cases=[case_data(weight=12345)]).replace("12345", literal))
    message = only_problem(path)
    assert "cases[0] (id C1): field 'weight' is " in message
    assert message.endswith("expected a number from 0 to 10000 or null.")


@pytest.mark.parametrize("cell", ["1e999", "nan", "inf", "-inf", "1e307", "true"])
def test_csv_numbers_have_the_same_domain(tmp_path: Path, cell: str) -> None:
    (tmp_path / "snapshot.csv").write_text("format,as_of\ncaseload-snapshot/1,2026-11-23\n")
    (tmp_path / "practitioners.csv").write_text("id,team,grade,fte\nP1,North,senior,1\n")
    (tmp_path / "cases.csv").write_text(
        f"id,family,type,complexity,weight\nC1,F1,child_in_need,2,{cell}\n"
    )
    assert only_problem(tmp_path) == (
        f"{tmp_path / 'cases.csv'}, line 2 (id C1): field 'weight' is {cell!r}, expected a "
        "number from 0 to 10000 or empty."
    )


def test_the_largest_values_in_the_domains_still_solve() -> None:
    # Every number at the top of its domain: the solver's sums must stay exact.
    snap = snapshot(
        [worker("W", capacity_points=10_000), worker("V", capacity_points=0.01)],
        [case(f"C{i}", weight=10_000, changes_last_12_months=366) for i in range(3)],
    )
    plan = allocate(snap, Policy(), time_limit=2)
    assert len(plan.assignments) == 1 and len(plan.unallocated) == 2
    assert check_plan(snap, Policy(), plan) == []


# ------------------------------------------------------------------ dates


@pytest.mark.parametrize(
    "value",
    [0, 1700000000, "2026-11-23T00:00:00", "2026-11-23 00:00", "20261123", "2026-11-3", True],
)
def test_dates_are_yyyy_mm_dd_only(tmp_path: Path, value: Any) -> None:
    path = tmp_path / "s.json"
    path.write_text(snapshot_text(as_of=value))
    message = only_problem(path)
    assert message.startswith(f"{path}: field 'as_of' is ")
    assert message.endswith("expected a date written YYYY-MM-DD from 1900-01-01 to 2999-12-31.")


@pytest.mark.parametrize(
    ("field", "value"), [("leaving_on", "9999-12-31"), ("opened", "1066-10-14")]
)
def test_dates_outside_the_calendar_domain_are_refused(
    tmp_path: Path, field: str, value: str
) -> None:
    path = tmp_path / "s.json"
    if field == "leaving_on":
        path.write_text(snapshot_text([practitioner_data(leaving_on=value)], []))
    else:
        path.write_text(snapshot_text(cases=[case_data(opened=value)]))
    assert f"field {field!r} is {value!r}, expected a date written YYYY-MM-DD from" in (
        only_problem(path)
    )


def test_the_last_day_with_the_longest_window_still_works() -> None:
    policy = Policy().with_overrides(leaving_window_days=3650, long_absence_days=3650)
    snap = snapshot(
        [worker("W", available_from=date(2999, 12, 31), leaving_on=date(2999, 12, 31))],
        [case("C1")],
    )
    snap = snap.model_copy(update={"as_of": date(2999, 12, 30)})
    # W is absent and leaving within the window: C1 waits, and nothing overflows.
    for plan in (allocate(snap, policy, time_limit=2), rebalance(snap, policy, time_limit=2)):
        assert [u.case for u in plan.unallocated] == ["C1"]
