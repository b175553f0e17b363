"""Issue 12: inputs and outputs a council can trust.

Each fault is fixed as a kind at the door (a domain on every number and date, one
rule for files), and each member of the kind has a test here.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from datetime import date
from io import BytesIO, TextIOWrapper
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner

from allocator.cli import main
from allocator.contract.models import CaseType
from allocator.contract.policy import Policy, PolicyError
from allocator.explain.check import check_plan
from allocator.io import InputError, load_plan, load_policy, load_snapshot, reading, write_json
from allocator.present.terminal import printable
from allocator.problems.daily import allocate
from allocator.problems.rebalancing import rebalance
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


# ------------------------------------------------------------------ duplicate JSON keys


def test_a_repeated_key_in_a_record_is_refused_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    path.write_text(
        snapshot_text(cases=[case_data(weight=3)]).replace(
            '"weight": 3', '"weight": 3, "weight": 30'
        )
    )
    assert only_problem(path) == (
        f"{path}: key 'weight' appears more than once in one object (the record 'C1'); "
        "expected each key once (which value was meant?)."
    )


def test_colons_in_text_values_are_no_repeated_keys(tmp_path: Path) -> None:
    # The fast reader counts colons to prove no key is repeated; a colon inside a
    # value only sends the file the slow way, which reads it the same.
    path = tmp_path / "s.json"
    path.write_text(snapshot_text([practitioner_data(team="North: East")], [case_data()]))
    assert load_snapshot(path).practitioners[0].team == "North: East"


def test_a_repeated_top_level_key_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    path.write_text(snapshot_text().replace('"as_of"', '"as_of": "2026-11-24", "as_of"'))
    assert "key 'as_of' appears more than once in one object;" in only_problem(path)


def test_repeated_keys_in_referrals_and_plans_are_refused(tmp_path: Path) -> None:
    snap = tmp_path / "s.json"
    snap.write_text(snapshot_text(cases=[]))
    referrals = tmp_path / "r.json"
    referrals.write_text(
        '[{"id": "R1", "id": "R2", "family": "F", "type": "court", "complexity": 1}]'
    )
    with pytest.raises(InputError) as caught:
        load_snapshot(snap, referrals)
    assert "key 'id' appears more than once" in str(caught.value)
    plan = tmp_path / "p.json"
    plan.write_text(
        '{"format": "allocation-plan/1", "as_of": "2026-11-23", '
        '"status": "optimal", "status": "feasible"}'
    )
    with pytest.raises(InputError, match="key 'status' appears more than once"):
        load_plan(plan)


# ------------------------------------------------------------------ input files


def test_a_device_is_not_read(tmp_path: Path) -> None:
    with pytest.raises(InputError) as caught:
        load_snapshot("/dev/zero")
    assert str(caught.value) == (
        "/dev/zero: not a regular file (a device, pipe or socket), expected a file, or - "
        "for standard input."
    )


def test_a_fifo_with_no_writer_does_not_block(tmp_path: Path) -> None:
    fifo = tmp_path / "snap.json"
    os.mkfifo(fifo)
    with pytest.raises(InputError, match="not a regular file"):
        load_snapshot(fifo)
    with pytest.raises(InputError, match="not a regular file"):
        load_plan(fifo)


def test_a_csv_table_that_is_a_device_is_refused(tmp_path: Path) -> None:
    (tmp_path / "snapshot.csv").write_text("format,as_of\ncaseload-snapshot/1,2026-11-23\n")
    (tmp_path / "practitioners.csv").symlink_to("/dev/zero")
    (tmp_path / "cases.csv").write_text("id,family,type,complexity\n")
    assert "practitioners.csv: not a regular file" in only_problem(tmp_path)


def test_a_file_over_the_size_limit_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "s.json"
    path.write_text(snapshot_text())
    monkeypatch.setattr(reading, "MAX_INPUT_BYTES", 100)
    assert only_problem(path) == (
        f"{path}: larger than 100 bytes, the most the allocator reads from one file; "
        "expected a snapshot, referrals, plan or policy file."
    )


def test_standard_input_over_the_size_limit_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(reading, "MAX_INPUT_BYTES", 100)
    monkeypatch.setattr(sys, "stdin", TextIOWrapper(BytesIO(b" " * 101)))
    with pytest.raises(InputError, match="standard input: larger than 100 bytes"):
        load_snapshot("-")


def test_a_piped_invalid_snapshot_is_read_once_and_reported(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    text = snapshot_text(cases=[case_data(complexity=9)])
    monkeypatch.setattr(sys, "stdin", TextIOWrapper(BytesIO(text.encode())))
    with pytest.raises(InputError) as caught:
        load_snapshot("-")
    assert caught.value.problems == [
        "-, cases[0] (id C1): field 'complexity' is 9, expected a whole number from 1 to 4."
    ]


def test_a_valid_snapshot_from_standard_input() -> None:
    text = snapshot_text()
    result = CliRunner().invoke(main, ["recommend", "-", "C1", "--json"], input=text)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["case"] == "C1"


def test_snapshot_and_referrals_cannot_both_be_standard_input() -> None:
    with pytest.raises(InputError, match="both name standard input"):
        load_snapshot("-", "-")


def test_standard_input_given_for_two_files_is_said_so() -> None:
    """check - - read the snapshot from standard input, then an empty plan: "the file
    is empty" hid that one stream cannot be two files."""
    result = CliRunner().invoke(main, ["check", "-", "-"], input=snapshot_text())
    assert result.exit_code == 2
    assert result.stderr.strip() == (
        "error: -: standard input was read already for another input of this command; it "
        "can stand for one file only."
    )


# ------------------------------------------------------------------ policy files


def test_at_an_intake_limit_of_0_a_referral_is_not_told_to_wait_for_the_next_run() -> None:
    # A fresh manager's policy of 0 new families a day left all 21 children "at the
    # limit of 0 new families in one run; allocate it in the next run", which would
    # do the same.
    snap = snapshot([worker("P1")], [case("R1")])
    plan = allocate(snap, Policy(max_new_families_per_day=0), time_limit=5)
    (left,) = plan.unallocated
    assert "the policy lets no worker take a new family: raise max_new_families_per_day" in (
        left.reason
    )
    assert "next run" not in left.reason


@pytest.mark.parametrize(
    ("text", "said"),
    [
        (
            "[grades.social_worker]\nmax_complexity = 0\n",
            "grades.social_worker.max_complexity is 0: a social_worker may hold no case",
        ),
        ("[grade_factor]\nnqsw = 0\n", "grade_factor.nqsw is 0: an nqsw's cap is 0 points"),
        (
            "max_new_families_per_day = 0\n",
            "max_new_families_per_day is 0: no worker may take a new family",
        ),
    ],
)
def test_a_rule_that_leaves_children_without_a_worker_is_warned(
    tmp_path: Path, text: str, said: str
) -> None:
    path = tmp_path / "policy.toml"
    path.write_text(text, encoding="utf-8")
    warnings: list[str] = []
    load_policy(path, warnings=warnings)
    assert [w for w in warnings if said in w] == [w for w in warnings]
    assert len(warnings) == 1 and warnings[0].startswith(f"{path}: ")


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ('{"format": "caseload-snapshot/1", "as_of": "2026-11-23"}', "a snapshot (JSON)"),
        ('{"format": "allocation-plan/1"}', "a plan (JSON)"),
        ("[1, 2]", "a JSON document"),
        ('{"points_per_fte": 90}', "a JSON document"),
    ],
)
def test_a_json_file_given_as_the_policy_is_named_for_what_it_is(
    tmp_path: Path, text: str, said: str
) -> None:
    path = tmp_path / "policy.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(PolicyError) as err:
        load_policy(path)
    assert str(err.value) == (
        f"{path}: this file is {said}, where a TOML policy file was expected (is it the "
        "right file for --policy?)"
    )


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("points_per_fte = 90\npoints_per_fte = 100\n", "key 'points_per_fte' is given twice"),
        ("[type_points]\ncourt = 10\ncourt = 12\n", "key 'court' is given twice"),
        ("[grades.nqsw]\nmax_complexity = 2\n[grades.nqsw]\nmax_complexity = 3\n", "twice"),
    ],
)
def test_a_key_given_twice_in_a_policy_file_is_named(tmp_path: Path, text: str, named: str) -> None:
    path = tmp_path / "policy.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(PolicyError) as err:
        load_policy(path)
    assert str(err.value).startswith(f"{path}: not valid TOML: ")
    assert named in str(err.value)


@pytest.mark.parametrize("text", ["", "\n\n", "# the council's policy, to follow\n", "\ufeff"])
def test_a_policy_file_that_sets_nothing_is_the_defaults_and_says_so(
    tmp_path: Path, text: str
) -> None:
    path = tmp_path / "policy.toml"
    path.write_text(text, encoding="utf-8")
    warnings: list[str] = []
    assert load_policy(path, warnings=warnings) == Policy()
    assert warnings == [
        f"{path} sets nothing (it is empty or holds only comments): the built-in defaults "
        'apply (docs/FORMAT.md "The default policy")'
    ]
    path.write_text("points_per_fte = 100\n", encoding="utf-8")
    warnings.clear()
    load_policy(path, warnings=warnings)
    assert warnings == []


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        (
            "points_per_fte = inf",
            "key 'points_per_fte' is infinite (inf), expected a number greater than 0 "
            "and at most 10000.",
        ),
        (
            "points_per_fte = nan",
            "key 'points_per_fte' is not a number (NaN), expected a number greater than 0 "
            "and at most 10000.",
        ),
        (
            "points_per_fte = 1e400",
            "key 'points_per_fte' is infinite (inf), expected a number greater than 0 "
            "and at most 10000.",
        ),
        (
            "[type_points]\ncourt = 1e307",
            "key 'type_points.court' is 1e+307, expected a number from 0 to 1000.",
        ),
        (
            "complexity_multiplier = [1, 2, 3, -inf]",
            "key 'complexity_multiplier[3]' is infinite (-inf), expected a number from 0 to 10.",
        ),
        (
            "[grade_factor]\nstudent = nan",
            "key 'grade_factor.student' is not a number (NaN), expected a number from 0 to 1.",
        ),
        (
            "max_new_families_per_day = true",
            "key 'max_new_families_per_day' is true, expected a whole number from 0 to 1000.",
        ),
        (
            "leaving_window_days = 99999999999",
            "key 'leaving_window_days' is 99999999999, expected a whole number from 0 to 3650.",
        ),
        (
            "long_absence_days = 0",
            "key 'long_absence_days' is 0, expected a whole number from 1 to 3650.",
        ),
        (
            "[grades.nqsw]\nmax_complexity = false",
            "key 'grades.nqsw.max_complexity' is false, expected a whole number from 0 to 4.",
        ),
        # a quoted number is text, never read as the number silently: one per kind
        (
            'points_per_fte = "100"',
            "key 'points_per_fte' is '100', expected a number greater than 0 and at most "
            "10000, written without quotes.",
        ),
        (
            '[type_points]\ncourt = "7"',
            "key 'type_points.court' is '7', expected a number from 0 to 1000, written without "
            "quotes.",
        ),
        (
            'complexity_multiplier = ["1", 1, 1.5, 2]',
            "key 'complexity_multiplier[0]' is '1', expected a number from 0 to 10, written "
            "without quotes.",
        ),
        (
            '[grade_factor]\nnqsw = "0.8"',
            "key 'grade_factor.nqsw' is '0.8', expected a number from 0 to 1, written without "
            "quotes.",
        ),
        (
            '[grades.nqsw]\nmax_complexity = "2"',
            "key 'grades.nqsw.max_complexity' is '2', expected a whole number from 0 to 4, "
            "written without quotes.",
        ),
        (
            'leaving_window_days = "28"',
            "key 'leaving_window_days' is '28', expected a whole number from 0 to 3650, written "
            "without quotes.",
        ),
        (
            'long_absence_days = "28"',
            "key 'long_absence_days' is '28', expected a whole number from 1 to 3650, written "
            "without quotes.",
        ),
        (
            'max_new_families_per_day = "3"',
            "key 'max_new_families_per_day' is '3', expected a whole number from 0 to 1000, "
            "written without quotes.",
        ),
        (
            '[waiting]\nmax_weeks = "26"',
            "key 'waiting.max_weeks' is '26', expected a whole number from 1 to 52, written "
            "without quotes.",
        ),
        (
            '[waiting]\nroom_kept_share = "0.1"',
            "key 'waiting.room_kept_share' is '0.1', expected a number from 0 to 1, written "
            "without quotes.",
        ),
        (
            "[waiting]\nroom_kept_share = 1.5",
            "key 'waiting.room_kept_share' is 1.5, expected a number from 0 to 1.",
        ),
        (
            "[waiting]\nroom_kept_share = -0.1",
            "key 'waiting.room_kept_share' is -0.1, expected a number from 0 to 1.",
        ),
        (
            '[waiting]\nreserve_after_days = "14"',
            "key 'waiting.reserve_after_days' is '14', expected a whole number from 0 to 3650, "
            "written without quotes.",
        ),
        # in the policy file's own words, not pydantic's
        (
            "typo = 3",
            "unknown key 'typo'; expected one of type_points, complexity_multiplier, "
            "points_per_fte, grade_factor, grades, leaving_window_days, long_absence_days, "
            "max_new_families_per_day, look_ahead, priority_classes, waiting, over_cap_classes, "
            "over_cap_relief_after, costs.",
        ),
        ("points_per_ft = 90", "unknown key 'points_per_ft'; did you mean 'points_per_fte'?"),
        (
            "[grades.nqsw]\nexcluded = []",
            "unknown key 'grades.nqsw.excluded'; did you mean 'excluded_types'?",
        ),
        (
            "complexity_multiplier = [1, 2, 3]",
            "key 'complexity_multiplier' has 3 values, "
            "expected a list of 4 numbers (one per complexity 1 to 4), each a number from 0 to 10.",
        ),
        (
            # a typo of a case type: the one it is close to (a table keyed by an enum)
            "[type_points]\ncourtt = 3",
            "[type_points] has the key 'courtt'; did you mean 'court'?",
        ),
        (
            "[grades.boss]\nmax_complexity = 2",
            "[grades] has the key 'boss', expected one of "
            "student, nqsw, social_worker, senior, consultant.",
        ),
        (
            '[grades.nqsw]\nexcluded_types = ["courtt"]',
            "key 'grades.nqsw.excluded_types[0]' is "
            "'courtt', expected one of early_help, child_in_need, child_protection, looked_after, "
            "care_leaver, court, adoption.",
        ),
        ("type_points = 3", "key 'type_points' is 3, expected a table of numbers from 0 to 1000."),
        ("grades = 5", "key 'grades' is 5, expected a table of tables."),
        (
            'complexity_multiplier = "big"',
            "key 'complexity_multiplier' is 'big', expected a list of 4 numbers from 0 to 10.",
        ),
        (
            '[grades.nqsw]\nexcluded_types = "court"',
            "key 'grades.nqsw.excluded_types' is 'court', expected a list of values, each one of "
            "early_help, child_in_need, child_protection, looked_after, care_leaver, court, "
            "adoption.",
        ),
        (
            '[[priority_classes]]\nname = "a"\ncases = ["court"]\nkases = ["court"]',
            "unknown key 'priority_classes[0].kases'; did you mean 'cases'?",
        ),
        (
            '[[priority_classes]]\nname = "a"\ncases = ["courtt"]',
            "key 'priority_classes[0].cases': 'courtt' is not a case type or 'urgent'; expected "
            "any of early_help, child_in_need, child_protection, looked_after, care_leaver, "
            "court, adoption, urgent.",
        ),
        (
            '[[priority_classes]]\nname = "a"\ncases = []',
            "key 'priority_classes[0].cases' has 0 items, expected at least 1.",
        ),
        (
            '[[priority_classes]]\nname = "other"\ncases = ["court"]',
            "key 'priority_classes': 'other' is the class every case no class names falls into, "
            "always last: give this class another name (or leave its cases out to rank them "
            "last).",
        ),
    ],
)
def test_policy_problems_in_the_files_own_words(tmp_path: Path, toml: str, message: str) -> None:
    path = tmp_path / "policy.toml"
    path.write_text(toml + "\n")
    with pytest.raises(PolicyError) as caught:
        load_policy(path)
    assert str(caught.value) == f"{path}: {message}"


def test_a_policy_that_is_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "policy.toml"
    path.write_bytes(b"# caf\xe9\npoints_per_fte = 90\n")
    with pytest.raises(PolicyError) as caught:
        load_policy(path)
    assert str(caught.value) == (
        f"{path}, line 1, column 6: not UTF-8 text (byte 6 cannot be read), expected a TOML "
        "file saved as UTF-8."
    )


def test_a_policy_that_is_a_device_or_missing(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match="policy file /dev/zero: not a regular file"):
        load_policy("/dev/zero")
    with pytest.raises(PolicyError, match="nope.toml: no such file"):
        load_policy(tmp_path / "nope.toml")


def test_policy_zero_weights_are_legal(tmp_path: Path) -> None:
    path = tmp_path / "policy.toml"
    path.write_text(
        "points_per_fte = 10000\ncomplexity_multiplier = [0, 0, 0, 10]\n"
        "[type_points]\nearly_help = 0\ncourt = 1000\n[grade_factor]\nstudent = 0\n"
    )
    policy = load_policy(path)
    assert policy.type_points[CaseType.EARLY_HELP] == 0
    assert policy.case_weight(case("C", type="court", complexity=4, weight=None)) == 10_000


def test_a_policy_override_out_of_its_domain_is_a_policy_error() -> None:
    with pytest.raises(
        PolicyError, match=r"policy override: key 'points_per_fte' is not a number \(NaN\)"
    ):
        Policy().with_overrides(points_per_fte=float("nan"))


@pytest.mark.parametrize(
    "toml", ["points_per_fte = inf", "points_per_fte = 90\npoints_per_fte = 80", "[grades]\nx=1"]
)
def test_the_cli_reports_policy_problems_with_exit_2(tmp_path: Path, toml: str) -> None:
    snap = tmp_path / "s.json"
    snap.write_text(snapshot_text())
    policy = tmp_path / "policy.toml"
    policy.write_text(toml + "\n")
    for command in (["allocate", str(snap)], ["recommend", str(snap), "C1"]):
        result = CliRunner().invoke(main, [*command, "--policy", str(policy)])
        assert result.exit_code == 2, result.output
        assert result.stderr.startswith(f"error: {policy}: ")
        assert "Traceback" not in result.output


# ------------------------------------------------------------------ command-line numbers


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("--time-limit", "nan"),
        ("--time-limit", "inf"),
        ("--time-limit", "1e999"),
        ("--time-limit", "0"),
        ("--seed", "2147483648"),
        ("--seed", "-1"),
        ("--workers", "100000"),
        ("--allow-moves", str(2**70)),
    ],
)
def test_allocate_options_have_domains(tmp_path: Path, option: str, value: str) -> None:
    snap = tmp_path / "s.json"
    snap.write_text(snapshot_text())
    result = CliRunner().invoke(main, ["allocate", str(snap), option, value])
    assert result.exit_code == 2
    assert f"Invalid value for '{option}'" in result.stderr
    assert "is not in the range" in result.stderr


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("--points-per-fte", "nan"),
        ("--points-per-fte", "1e307"),
        ("--long-absence-days", str(2**40)),
        ("--leaving-window-days", "99999999"),
        ("--max-new-families-per-day", str(2**63)),
        ("--max-moves", str(2**70)),
    ],
)
def test_rebalance_options_have_domains(tmp_path: Path, option: str, value: str) -> None:
    snap = tmp_path / "s.json"
    snap.write_text(snapshot_text())
    result = CliRunner().invoke(main, ["rebalance", str(snap), option, value])
    assert result.exit_code == 2
    assert f"Invalid value for '{option}'" in result.stderr


@pytest.mark.parametrize("option", ["--load", "--referral-rate"])
def test_generate_options_are_finite(tmp_path: Path, option: str) -> None:
    result = CliRunner().invoke(
        main, ["generate", "--practitioners", "3", option, "nan", "--out", str(tmp_path / "s.json")]
    )
    assert result.exit_code == 2 and "is not in the range" in result.stderr


@pytest.mark.parametrize("value", ["-5", str(10**23), "2147483648"])
def test_generate_seed_has_the_domain_of_every_seed(tmp_path: Path, value: str) -> None:
    # generate took any int (-5, 10**23) where allocate took 0..2^31-1 (a user fault)
    result = CliRunner().invoke(
        main, ["generate", "--practitioners", "3", "--seed", value, "--out", str(tmp_path / "s")]
    )
    assert result.exit_code == 2
    assert "Invalid value for '--seed'" in result.stderr
    assert "0<=x<=2147483647" in result.stderr


def _commands(group: click.Group, path: str = "") -> Iterator[tuple[str, click.Command]]:
    for name, command in sorted(group.commands.items()):
        if isinstance(command, click.Group):
            yield from _commands(command, f"{path}{name} ")
        else:
            yield f"{path}{name}", command


def test_every_seed_option_has_one_domain() -> None:
    # FORMAT.md "Domains of values": --seed 0 to 2,147,483,647, whatever the command
    seeds = {
        name: param.type
        for name, command in _commands(main)
        for param in command.params
        if param.name == "seed"
    }
    assert {"allocate", "generate", "simulate"} <= set(seeds)
    for name, kind in seeds.items():
        assert isinstance(kind, click.IntRange), name
        assert (kind.min, kind.max) == (0, 2**31 - 1), name


def test_the_largest_seed_and_a_fractional_time_limit_run(tmp_path: Path) -> None:
    snap = tmp_path / "s.json"
    snap.write_text(snapshot_text())
    result = CliRunner().invoke(
        main, ["allocate", str(snap), "--seed", "2147483647", "--time-limit", "0.5"]
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["settings"]["seed"] == 2147483647


# ------------------------------------------------------------------ --out


def refused_out(tmp_path: Path, out: str | Path, command: str = "allocate") -> str:
    """Run ``command`` on a fresh snapshot with ``--out out``; the refusal it prints."""
    snap = tmp_path / "s.json"
    if not snap.exists():
        snap.write_text(snapshot_text())
    result = CliRunner().invoke(main, [command, str(snap), "--out", str(out)])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    return result.stderr


@pytest.mark.parametrize("command", ["allocate", "rebalance"])
def test_out_refuses_a_device(tmp_path: Path, command: str) -> None:
    assert refused_out(tmp_path, "/dev/null", command) == (
        "error: /dev/null: is a device, pipe or socket, expected a regular file or a new path; "
        "nothing was written.\n"
    )
    assert Path("/dev/null").is_char_device()


def test_out_refuses_a_fifo(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe")
    assert "is a device, pipe or socket" in refused_out(tmp_path, tmp_path / "pipe")


def test_out_refuses_a_symlink_and_leaves_its_target(tmp_path: Path) -> None:
    target = tmp_path / "target.json"
    target.write_text("kept\n")
    link = tmp_path / "link.json"
    link.symlink_to(target)
    assert "is a symbolic link" in refused_out(tmp_path, link)
    assert link.is_symlink() and target.read_text() == "kept\n"


def test_out_refuses_a_read_only_file(tmp_path: Path) -> None:
    out = tmp_path / "plan.json"
    out.write_text("kept\n")
    out.chmod(0o444)
    assert "is read-only" in refused_out(tmp_path, out)
    assert out.read_text() == "kept\n"


def test_out_refuses_a_folder(tmp_path: Path) -> None:
    assert "is a folder, expected a file" in refused_out(tmp_path, tmp_path)


@pytest.mark.parametrize("command", ["allocate", "rebalance"])
def test_out_refuses_the_input_snapshot(tmp_path: Path, command: str) -> None:
    snap = tmp_path / "s.json"
    snap.write_text(snapshot_text())
    before = snap.read_text()
    assert f"is the input snapshot ({snap})" in refused_out(tmp_path, snap, command)
    assert snap.read_text() == before


def test_out_refuses_the_referrals_policy_and_a_csv_table(tmp_path: Path) -> None:
    snap = tmp_path / "s.json"
    snap.write_text(snapshot_text(cases=[]))
    referrals = tmp_path / "r.json"
    referrals.write_text("[]")
    policy = tmp_path / "p.toml"
    policy.write_text("")
    for out, what in ((referrals, "referrals"), (policy, "policy")):
        result = CliRunner().invoke(
            main,
            ["allocate", str(snap), "--referrals", str(referrals), "--policy", str(policy)]
            + ["--out", str(out)],
        )
        assert result.exit_code == 2 and f"is the input {what}" in result.stderr
    folder = tmp_path / "csv"
    assert (
        CliRunner()
        .invoke(main, ["generate", "--practitioners", "2", "--format", "csv", "--out", str(folder)])
        .exit_code
        == 0
    )
    result = CliRunner().invoke(main, ["allocate", str(folder), "--out", str(folder / "cases.csv")])
    assert result.exit_code == 2 and "is the input snapshot" in result.stderr


def test_out_in_a_missing_folder_is_refused_before_solving(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_solve(*args: object, **kwargs: object) -> None:
        raise AssertionError("solved before checking --out")

    monkeypatch.setattr("allocator.cli.morning.allocate", no_solve)
    message = refused_out(tmp_path, tmp_path / "nowhere" / "plan.json")
    assert message == (
        f"error: {tmp_path / 'nowhere' / 'plan.json'}: the folder {tmp_path / 'nowhere'} does "
        "not exist; expected a path in an existing folder; nothing was written.\n"
    )


def test_generate_refuses_unsafe_targets(tmp_path: Path) -> None:
    link = tmp_path / "link.json"
    link.symlink_to(tmp_path / "elsewhere.json")
    folder_link = tmp_path / "tables"
    folder_link.symlink_to(tmp_path / "elsewhere")
    fifo = tmp_path / "pipe.json"
    os.mkfifo(fifo)
    for fmt, out, expected in (
        ("json", fifo, "is a device, pipe or socket"),
        ("json", link, "is a symbolic link"),
        ("csv", folder_link, "expected a folder (not a link or a file)"),
    ):
        result = CliRunner().invoke(
            main, ["generate", "--practitioners", "2", "--format", fmt, "--out", str(out)]
        )
        assert result.exit_code == 2, result.output
        assert expected in result.stderr
    assert not (tmp_path / "elsewhere.json").exists()
    assert not (tmp_path / "elsewhere").exists()


def test_the_library_writer_refuses_links_and_devices(tmp_path: Path) -> None:
    link = tmp_path / "link.json"
    link.symlink_to(tmp_path / "target.json")
    with pytest.raises(InputError, match="is a symbolic link"):
        write_json(link, {"a": 1})
    assert not (tmp_path / "target.json").exists()
    with pytest.raises(InputError, match="is a device"):
        write_json("/dev/null", {"a": 1})


def test_a_new_file_and_an_existing_writable_plan_are_written(tmp_path: Path) -> None:
    snap = tmp_path / "s.json"
    snap.write_text(snapshot_text())
    out = tmp_path / "plan.json"
    for _ in range(2):  # new, then replaced
        result = CliRunner().invoke(main, ["allocate", str(snap), "--out", str(out)])
        assert result.exit_code == 0, result.output
        assert json.loads(out.read_text())["format"] == "allocation-plan/1"


# ------------------------------------------------------------------ ids are text, not markup

MARKUP_WORKERS = ("P[/]", "[bold red]P5", "[link=http://evil.example]P6", "P:cat:7", "P8\\")
MARKUP_CASES = ("C[/]", "[b]C2", "C:cat:3", "C4\\", "[link=x]C5")


def run_every_command(
    tmp_path: Path,
    workers: tuple[str, ...] = MARKUP_WORKERS,
    cases: tuple[str, ...] = MARKUP_CASES,
) -> dict[str, str]:
    """Each command's rich output (stdout and stderr) on a service whose ids are markup
    (or the given ``workers`` and ``cases``, five of each)."""
    MARKUP_WORKERS, MARKUP_CASES = workers, cases  # noqa: N806 (the module's names, shadowed)
    snap = snapshot(
        # a cap of 5 points holds one 3-point case: every worker gets one of the five
        [worker(w, capacity_points=5) for w in MARKUP_WORKERS],
        [case(c, family="F" + c, weight=3) for c in MARKUP_CASES],
    )
    snap_path = tmp_path / "s.json"
    write_json(snap_path, snap)
    plan_path = tmp_path / "plan.json"
    runner = CliRunner(env={"COLUMNS": "400"})
    outputs: dict[str, str] = {}

    def run(name: str, args: list[str], code: int = 0) -> None:
        result = runner.invoke(main, args)
        assert result.exception is None or isinstance(result.exception, SystemExit), result
        assert result.exit_code == code, (name, result.output)
        outputs[name] = result.stdout + result.stderr

    run("allocate", ["allocate", str(snap_path), "--out", str(plan_path), "--time-limit", "2"])
    run("rebalance", ["rebalance", str(snap_path), "--time-limit", "2"])
    plan = plan_path.read_text()
    assert {a["worker"] for a in json.loads(plan)["assignments"]} <= set(MARKUP_WORKERS)
    for c in MARKUP_CASES:
        run(f"explain {c}", ["explain", str(plan_path), "--snapshot", str(snap_path), "--case", c])
        run(f"recommend {c}", ["recommend", str(snap_path), c])
    for w in MARKUP_WORKERS:
        run(
            f"explain {w}", ["explain", str(plan_path), "--snapshot", str(snap_path), "--worker", w]
        )
    run("explain", ["explain", str(plan_path), "--snapshot", str(snap_path)])
    run("check", ["check", str(snap_path), str(plan_path)])
    run("diff", ["diff", str(plan_path), str(plan_path), "--snapshot", str(snap_path)])
    # a hand-made plan moving every case between markup workers: check and diff list them
    moved = json.loads(plan)
    for a in moved["assignments"]:  # every case to the next worker along
        a["worker"] = MARKUP_WORKERS[(MARKUP_WORKERS.index(a["worker"]) + 1) % 5]
    moved_path = tmp_path / "moved.json"
    moved_path.write_text(json.dumps(moved))
    run("check moved", ["check", str(snap_path), str(moved_path)])
    run("diff moved", ["diff", str(plan_path), str(moved_path)])
    for a in moved["assignments"]:  # every case to one worker: over the cap
        a["worker"] = MARKUP_WORKERS[0]
    moved_path.write_text(json.dumps(moved))
    run("check crowded", ["check", str(snap_path), str(moved_path)], code=1)
    return outputs


def test_markup_in_ids_is_shown_literally_everywhere(tmp_path: Path) -> None:
    outputs = run_every_command(tmp_path)
    for c in MARKUP_CASES:
        assert c in outputs[f"explain {c}"] and c in outputs[f"recommend {c}"]
        assert c in outputs["diff moved"]
    for w in MARKUP_WORKERS:
        assert w in outputs[f"explain {w}"]
        assert w in outputs["allocate"]  # the workers' table: each worker gains cases
    assert MARKUP_WORKERS[0] in outputs["check crowded"]
    shown = "".join(text for name, text in outputs.items() if name != "rebalance")  # no JSON
    assert "🐱" not in shown  # :cat: is an id, not an emoji code
    assert "C4\\\\" not in shown and "P8\\\\" not in shown  # one backslash, not two


# Control characters themselves (an escape code, NUL, the bell) and the bidirectional
# overrides and isolates (U+202A-U+202E, U+2066-U+2069) are refused in an id at the
# door (tests/test_control_in_ids.py; models.CONTROL_CHARACTERS; tested below). What
# an id may still hold and a terminal would read, shown escaped everywhere: rich's
# markup, the bidirectional marks (U+200E, U+200F), other invisible format characters.
CONTROL_WORKERS = ("[bold]P", "[link=x]P[/link]", "P[/]Q", "P[dim]Z", "P\\[S")
CONTROL_CASES = ("[/]C", "[red]C", "C[i]N", "C[u]Y", "C\\W")


@pytest.mark.parametrize(
    "ident",
    # Bidirectional overrides and isolates; characters that print as nothing: the
    # direction marks, a zero-width space, the soft hyphen, the word joiner, a BOM.
    ["P\u202eE", "P\u2066B", "C\u2067X", "P\u200fQ", "P\u200bZ", "P\u00adS", "C\u2060W"]
    + ["C\ufeffV", "C\u200eN"],
)
def test_an_id_with_a_bidirectional_override_or_an_invisible_character_is_refused_at_the_door(
    tmp_path: Path, ident: str
) -> None:
    # The attack: an id that reverses the text around it in every table and log, or
    # that looks like another id on every page (two workers "P1").
    path = tmp_path / "s.json"
    write_json(path, snapshot([worker("A"), worker("PLACEHOLDER")], [case("R1")]))
    text = path.read_text(encoding="utf-8").replace("PLACEHOLDER", ident)
    path.write_text(text, encoding="utf-8")
    result = CliRunner().invoke(main, ["allocate", str(path), "--out", str(tmp_path / "p.json")])
    assert result.exit_code == 2
    assert printable(ident) in result.output and ident not in result.output
    assert not (tmp_path / "p.json").exists()


def test_control_characters_in_ids_are_shown_as_escapes_everywhere(tmp_path: Path) -> None:
    # The attack: ids whose characters would reverse the text or be read as markup,
    # in every command's tables, warnings and errors.
    outputs = run_every_command(tmp_path, CONTROL_WORKERS, CONTROL_CASES)
    for name, text in outputs.items():
        raw = [ch for ch in text if not (ch.isprintable() or ch == "\n")]
        assert not raw, (name, raw)
    shown = "".join(outputs.values())
    for ident in CONTROL_WORKERS + CONTROL_CASES:
        assert printable(ident) in shown, ident
    # An unknown id in an error is shown the same way.
    result = CliRunner().invoke(main, ["recommend", str(tmp_path / "s.json"), "X\x1b[2J"])
    assert result.exit_code == 2 and "\x1b" not in result.output
    assert "X\\x1b[2J" in result.output


def test_the_summary_lists_a_worker_whose_load_changes_but_not_count(tmp_path: Path) -> None:
    # Case 05: S (cap 100, 96 points in twelve 8-point cases) may hold the 10-point
    # court referral pinned to them only if one case moves to W: S ends with as many
    # cases as before but a heavier load, and the summary must list S.
    held = [case(f"S{i:02}", family=f"FS{i}", weight=8, worker="S") for i in range(12)]
    referral = case("R1", type="court", complexity=3, weight=10, pinned_worker="S")
    snap = snapshot([worker("S", grade="senior"), worker("W")], [*held, referral])
    path = tmp_path / "s.json"
    write_json(path, snap)
    result = CliRunner(env={"COLUMNS": "200"}).invoke(
        main, ["allocate", str(path), "--allow-moves", "1", "--out", str(tmp_path / "p.json")]
    )
    assert result.exit_code == 0, result.output
    plan = json.loads((tmp_path / "p.json").read_text())
    assert {(a["case"], a["worker"]) for a in plan["assignments"]} >= {("R1", "S")}
    rows = [line for line in result.stderr.splitlines() if line.startswith("│ S ")]
    assert len(rows) == 1 and "12 -> 12" in rows[0], result.stderr


def test_a_missing_folder_is_named_not_a_temporary_file(tmp_path: Path) -> None:
    target = tmp_path / "nowhere" / "plan.json"
    with pytest.raises(InputError) as caught:
        write_json(target, {"a": 1})
    assert str(caught.value) == (
        f"{target}: the folder {target.parent} does not exist; expected a path in an existing "
        "folder; nothing was written."
    )
    assert ".tmp" not in str(caught.value)


# ------------------------------------------------------------------ numbers too long to read

TOO_LONG = "1" + "0" * 5000
TOO_LONG_SAID = "a number written with more than 4,300 digits, expected a number a field can take"


def test_a_number_too_long_to_read_in_each_json_file_is_one_sentence(tmp_path: Path) -> None:
    # Python reads no integer of more than 4,300 digits: a ValueError, not a syntax error.
    snap = tmp_path / "s.json"
    snap.write_text(snapshot_text(cases=[case_data(weight=12345)]).replace("12345", TOO_LONG))
    assert only_problem(snap) == f"{snap}: not valid JSON: {TOO_LONG_SAID}."
    plan = tmp_path / "plan.json"
    plan.write_text('{"format": ' + TOO_LONG + "}")
    with pytest.raises(InputError, match=f"plan.json: not valid JSON: {TOO_LONG_SAID}"):
        load_plan(plan)


def test_a_number_too_long_to_read_in_each_toml_file_is_one_sentence(tmp_path: Path) -> None:
    from allocator.simulation.sweep import SpecError, load_spec
    from allocator.ssd.mapping import load_columns_mapping, load_ssd_mapping

    path = tmp_path / "f.toml"
    path.write_text(f"[type_points]\ncourt = {TOO_LONG}\n")
    with pytest.raises(PolicyError, match=f"not valid TOML: {TOO_LONG_SAID}"):
        load_policy(path)
    for load in (load_ssd_mapping, load_columns_mapping):
        with pytest.raises(InputError, match=f"f.toml: not valid TOML \\({TOO_LONG_SAID}\\)"):
            load(path)
    with pytest.raises(SpecError, match=f"f.toml: not valid TOML: {TOO_LONG_SAID}"):
        load_spec(path)
    from allocator.web.names import load_display_names

    path.write_text(f"[names]\nP1 = {TOO_LONG}\n")
    with pytest.raises(ValueError, match=f"f.toml: not a TOML file \\({TOO_LONG_SAID}\\)"):
        load_display_names(str(path))


# ------------------------------------------------------------------ numbers written as text


@pytest.mark.parametrize(
    ("record", "field", "text", "expected"),
    [
        ("practitioners", "fte", "1.0", "a number greater than 0 and at most 1"),
        ("practitioners", "capacity_points", "80", "a number from 0 to 10000 or null"),
        ("practitioners", "experience_years", "3", "a number from 0 to 70"),
        ("cases", "complexity", "2", "a whole number from 1 to 4"),
        ("cases", "weight", "4.5", "a number from 0 to 10000 or null"),
        ("cases", "changes_last_12_months", "1", "a whole number from 0 to 366"),
    ],
)
def test_a_json_number_written_as_text_is_refused(
    tmp_path: Path, record: str, field: str, text: str, expected: str
) -> None:
    # An exporter quoting every value is told at the door, not read silently.
    make = practitioner_data if record == "practitioners" else case_data
    path = tmp_path / "s.json"
    path.write_text(snapshot_text(**{record: [make(**{field: text})]}))
    message = only_problem(path)
    assert f"field {field!r} is {text!r} (text), expected {expected}, written without quotes" in (
        message
    )


def test_a_csv_cell_is_text_and_its_number_is_read(tmp_path: Path) -> None:
    folder = tmp_path / "service"
    folder.mkdir()
    (folder / "snapshot.csv").write_text("format,as_of\ncaseload-snapshot/1,2026-11-23\n")
    (folder / "practitioners.csv").write_text("id,team,grade,fte\nP1,North,senior,0.5\n")
    (folder / "cases.csv").write_text("id,family,type,complexity\nC1,F1,child_in_need,2\n")
    snap = load_snapshot(folder)
    assert snap.practitioners[0].fte == 0.5 and snap.cases[0].complexity == 2


@pytest.mark.parametrize("spaced", ["P1 ", " P1", "P1\t"])
def test_an_id_with_a_blank_at_either_end_is_refused(tmp_path: Path, spaced: str) -> None:
    # " P1" would never match "P1" elsewhere in the file: said where it is written.
    path = tmp_path / "s.json"
    # Its child names it as meant ("P1"): one problem, at the id, not one per child.
    staff = [practitioner_data(id=spaced)]
    path.write_text(snapshot_text(practitioners=staff, cases=[case_data(worker="P1")]))
    message = only_problem(path)
    assert f"field 'id' is {spaced!r}, expected an id (not empty, no space at either end" in (
        message
    )


# ------------------------------------------------------------------ a workbook given as text

XLSX = b"PK\x03\x04" + b"\x00" * 40
XLS = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 40


@pytest.mark.parametrize(
    ("content", "kind"), [(XLSX, "a ZIP archive"), (XLS, "an old Excel .xls")], ids=["xlsx", "xls"]
)
def test_a_spreadsheet_workbook_given_for_any_text_input_is_one_sentence(
    tmp_path: Path, content: bytes, kind: str
) -> None:
    from allocator.ssd.tables import Problems, read_table

    said = "expected a text file; save a sheet as CSV (comma-separated, UTF-8) and give that"
    snap = tmp_path / "s.json"
    snap.write_bytes(content)
    message = only_problem(snap)
    assert message.startswith(f"{snap}: {kind}") and said in message
    folder = tmp_path / "service"
    folder.mkdir()
    (folder / "snapshot.csv").write_text("format,as_of\ncaseload-snapshot/1,2026-11-23\n")
    (folder / "practitioners.csv").write_text("id,team,grade,fte\nP1,North,senior,1\n")
    (folder / "cases.csv").write_bytes(content)
    (problem,) = pytest.raises(InputError, load_snapshot, folder).value.problems
    assert problem.startswith(f"{folder / 'cases.csv'}: {kind}") and said in problem
    policy = tmp_path / "p.toml"
    policy.write_bytes(content)
    with pytest.raises(PolicyError, match=kind):
        load_policy(policy)
    problems = Problems()
    assert read_table(folder / "cases.csv", problems) is None
    assert [p for p in problems.errors.sentences() if kind in p]
