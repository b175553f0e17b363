"""Reading and writing files: every bad input is an InputError naming file, row and field."""

from __future__ import annotations

import csv
import json
import math
import os
import pickle
import stat
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from allocator.contract.models import (
    MAX_POINTS,
    Assignment,
    Case,
    Plan,
    Practitioner,
    Snapshot,
    Unallocated,
    WorkerLoad,
)
from allocator.io import (
    CASES_CSV,
    PRACTITIONERS_CSV,
    SNAPSHOT_CSV,
    InputError,
    dump_json,
    load_plan,
    load_snapshot,
    write_json,
    write_snapshot,
)

# ------------------------------------------------------------------ helpers


def practitioner(id: str = "P1", **fields: Any) -> dict[str, Any]:
    return {"id": id, "team": "North", "grade": "senior", "fte": 1.0, **fields}


def case(id: str = "C1", **fields: Any) -> dict[str, Any]:
    return {"id": id, "family": "F1", "type": "child_in_need", "complexity": 2, **fields}


def snapshot_data(
    practitioners: list[Any] | None = None, cases: list[Any] | None = None, **top: Any
) -> dict[str, Any]:
    return {
        "format": "caseload-snapshot/1",
        "as_of": "2026-11-23",
        "practitioners": [practitioner("P1"), practitioner("P2")]
        if practitioners is None
        else practitioners,
        "cases": [case("C1", worker="P1")] if cases is None else cases,
        **top,
    }


def write(path: Path, data: Any) -> Path:
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def write_csv_dir(
    directory: Path,
    practitioners: str = "id,team,grade,fte\nP1,North,senior,1\nP2,North,nqsw,0.5\n",
    cases: str = "id,family,type,complexity,worker\nC1,F1,child_in_need,2,P1\n",
    head: str = "format,as_of\ncaseload-snapshot/1,2026-11-23\n",
) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for name, text in (
        (SNAPSHOT_CSV, head),
        (PRACTITIONERS_CSV, practitioners),
        (CASES_CSV, cases),
    ):
        if text is not None:
            (directory / name).write_text(text, encoding="utf-8")
    return directory


def problems(path: Path, referrals: Path | None = None) -> list[str]:
    with pytest.raises(InputError) as caught:
        load_snapshot(path, referrals)
    assert str(caught.value) == "\n".join(caught.value.problems)
    assert caught.value.__cause__ is None or caught.value.__suppress_context__
    return caught.value.problems


def only(found: list[str]) -> str:
    assert len(found) == 1, found
    return found[0]


# ------------------------------------------------------------------ valid input


def test_valid_json_snapshot_loads(tmp_path: Path) -> None:
    data = snapshot_data(
        cases=[case("C1", worker="P1", needs=["welsh"], opened="2025-01-31"), case("C2")]
    )
    snapshot = load_snapshot(write(tmp_path / "s.json", data))
    assert snapshot.as_of == date(2026, 11, 23)
    assert [c.id for c in snapshot.cases] == ["C1", "C2"]
    assert snapshot.cases[0].needs == ("welsh",)
    assert snapshot.cases[0].opened == date(2025, 1, 31)
    assert snapshot.cases[1].worker is None


def test_valid_csv_snapshot_with_lists_nulls_bom_and_crlf(tmp_path: Path) -> None:
    directory = write_csv_dir(
        tmp_path / "snap",
        practitioners=(
            "\ufeffid,team,grade,fte,skills,available_from,capacity_points\r\n"
            "P1,North,senior,1,court; welsh,,\r\n"
            "P2,North,nqsw,0.5,,2026-12-01,40\r\n"
        ),
        cases=(
            "id,family,type,complexity,worker,needs,area\n"
            "C1,F1,court,3,P1,welsh;court,\n"
            ",,,,,,\n"  # a blank spreadsheet row is skipped
            "C2,F1,court,3,,,North\n"
        ),
    )
    snapshot = load_snapshot(directory)
    p1, p2 = snapshot.practitioners
    assert p1.skills == ("court", "welsh")
    assert p1.available_from is None and p1.capacity_points is None
    assert p2.available_from == date(2026, 12, 1) and p2.capacity_points == 40
    c1, c2 = snapshot.cases
    assert c1.needs == ("welsh", "court") and c1.area is None
    assert c2.worker is None and c2.area == "North" and c2.needs == ()


def test_csv_trailing_empty_cells_are_ignored(tmp_path: Path) -> None:
    directory = write_csv_dir(tmp_path, cases="id,family,type,complexity\nC1,F1,court,3,,\n")
    assert load_snapshot(directory).cases[0].id == "C1"


# ------------------------------------------------------------------ unreadable files


def test_path_that_does_not_exist(tmp_path: Path) -> None:
    message = only(problems(tmp_path / "nowhere.json"))
    assert "nowhere.json" in message and "no such file" in message


def test_referrals_path_that_does_not_exist(tmp_path: Path) -> None:
    snap = write(tmp_path / "s.json", snapshot_data())
    message = only(problems(snap, tmp_path / "ref.json"))
    assert "ref.json" in message and "no such file" in message


def test_malformed_json_names_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    path.write_text('{\n  "format": "caseload-snapshot/1",\n  "as_of" "2026-11-23"\n}\n')
    message = only(problems(path))
    assert message == f"{path}: not valid JSON: expecting ':' delimiter at line 3, column 11."


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ('{"format": "caseload', "unterminated string starting at line 1, column 12."),
        ('{"as_of": "2026-\u0001"}', "invalid control character at line 1, column 17."),
        ("{} x", "extra data at line 1, column 4."),
    ],
)
def test_a_json_error_is_a_whole_sentence(tmp_path: Path, text: str, said: str) -> None:
    # "Unterminated string starting at." ended mid-sentence (a user fault)
    path = tmp_path / "s.json"
    path.write_text(text)
    assert only(problems(path)) == f"{path}: not valid JSON: {said}"


@pytest.mark.parametrize("text", ["", "  \n\n"])
def test_empty_file(tmp_path: Path, text: str) -> None:
    path = tmp_path / "s.json"
    path.write_text(text)
    assert only(problems(path)) == f"{path}: the file is empty."


def test_file_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    path.write_bytes(b'{"format": "caf\xe9"}')
    assert "not UTF-8" in only(problems(path))


def test_json_that_is_not_an_object(tmp_path: Path) -> None:
    message = only(problems(write(tmp_path / "s.json", [1, 2])))
    assert "found a list, expected a JSON object" in message


def test_single_csv_file_is_not_a_snapshot(tmp_path: Path) -> None:
    path = tmp_path / "cases.csv"
    path.write_text("id\n")
    assert "directory holding snapshot.csv" in only(problems(path))


# ------------------------------------------------------------------ format version


def test_missing_format_is_reported_with_other_problems(tmp_path: Path) -> None:
    data = snapshot_data(cases=[case(complexity=9)])
    del data["format"]
    found = problems(write(tmp_path / "s.json", data))
    assert "required field 'format' is missing, expected 'caseload-snapshot/1'" in found[0]
    assert "field 'complexity' is 9" in found[1]


def test_unknown_format_version_stops_reading(tmp_path: Path) -> None:
    data = snapshot_data(cases=[case(complexity=9)], format="caseload-snapshot/2")
    message = only(problems(write(tmp_path / "s.json", data)))
    assert message.startswith(f"{tmp_path / 's.json'}: field 'format' is 'caseload-snapshot/2'")
    assert "expected 'caseload-snapshot/1'" in message


@pytest.mark.parametrize(
    ("given", "loader", "said"),
    [
        ("allocation-plan/1", "snapshot", "this file is a plan, where a snapshot was expected"),
        (
            "pending-handovers/1",
            "snapshot",
            "is a pending-handovers file (from apply), where a snapshot",
        ),
        ("caseload-snapshot/1", "plan", "this file is a snapshot, where a plan was expected"),
        ("pending-handovers/1", "plan", "(from apply), where a plan was expected"),
        ("caseload-snapshot/1", "pending", "a snapshot, where a pending-handovers file"),
        ("allocation-plan/1", "pending", "a plan, where a pending-handovers file"),
    ],
)
def test_another_of_the_allocators_files_is_named_for_what_it_is(
    tmp_path: Path, given: str, loader: str, said: str
) -> None:
    """Files given in the wrong order (check SNAPSHOT PLAN written PLAN SNAPSHOT) are
    told as such, not only as a wrong format version."""
    from allocator.io import load_pending_handovers

    path = write(tmp_path / "f.json", {"format": given})
    load = {"snapshot": load_snapshot, "plan": load_plan, "pending": load_pending_handovers}
    with pytest.raises(InputError) as caught:
        load[loader](path)
    assert said in str(caught.value)
    assert "in the order the command takes them" in str(caught.value)


# ------------------------------------------------------------------ field problems


def test_unknown_field_suggests_close_name(tmp_path: Path) -> None:
    data = snapshot_data(cases=[case("C1"), case("C0013", workr="P1")])
    message = only(problems(write(tmp_path / "s.json", data)))
    assert message == (
        f"{tmp_path / 's.json'}, cases[1] (id C0013): unknown field 'workr'; did you mean 'worker'?"
    )


def test_unknown_field_without_close_name_lists_fields(tmp_path: Path) -> None:
    data = snapshot_data(practitioners=[practitioner(banana=1)])
    message = only(problems(write(tmp_path / "s.json", data)))
    assert "practitioners[0] (id P1): unknown field 'banana'; expected one of id, team" in message


def test_unknown_top_level_field(tmp_path: Path) -> None:
    message = only(problems(write(tmp_path / "s.json", snapshot_data(case=[]))))
    assert "unknown field 'case'; did you mean 'cases'?" in message


def test_missing_required_field(tmp_path: Path) -> None:
    bad = case("C7")
    del bad["family"]
    message = only(problems(write(tmp_path / "s.json", snapshot_data(cases=[bad]))))
    assert message == (
        f"{tmp_path / 's.json'}, cases[0] (id C7): required field 'family' is missing, "
        "expected an id (not empty, no space at either end, no control or invisible character)."
    )


def test_missing_table(tmp_path: Path) -> None:
    data = snapshot_data()
    del data["cases"]
    assert "required field 'cases' is missing" in only(problems(write(tmp_path / "s.json", data)))


def test_wrong_enum_value_lists_allowed_values(tmp_path: Path) -> None:
    data = snapshot_data(practitioners=[practitioner(grade="manager")], cases=[case(type="courtt")])
    first, second = problems(write(tmp_path / "s.json", data))
    assert (
        "practitioners[0] (id P1): field 'grade' is 'manager', expected one of student, " in first
    )
    assert "nqsw, social_worker, senior, consultant." in first
    assert "cases[0] (id C1): field 'type' is 'courtt', expected one of early_help," in second
    assert "court, adoption." in second


def test_wrong_type(tmp_path: Path) -> None:
    data = snapshot_data(cases=[case(complexity="high", previous_workers="P1")])
    first, second = problems(write(tmp_path / "s.json", data))
    assert "field 'complexity' is 'high', expected a whole number from 1 to 4" in first
    assert "field 'previous_workers' is 'P1', expected a list of ids" in second


@pytest.mark.parametrize(
    ("record", "field", "value", "expected"),
    [
        ("practitioner", "fte", 0, "a number greater than 0 and at most 1"),
        ("practitioner", "fte", 1.2, "a number greater than 0 and at most 1"),
        ("practitioner", "experience_years", -1, "a number from 0 to 70"),
        ("case", "complexity", 0, "a whole number from 1 to 4"),
        ("case", "complexity", 5, "a whole number from 1 to 4"),
        ("case", "weight", -2.5, "a number from 0 to 10000 or null"),
    ],
)
def test_numbers_out_of_range(
    tmp_path: Path, record: str, field: str, value: float, expected: str
) -> None:
    if record == "practitioner":
        data = snapshot_data(practitioners=[{**practitioner(), field: value}], cases=[])
        where = "practitioners[0] (id P1)"
    else:
        data = snapshot_data(cases=[{**case(), field: value}])
        where = "cases[0] (id C1)"
    message = only(problems(write(tmp_path / "s.json", data)))
    assert message == (
        f"{tmp_path / 's.json'}, {where}: field {field!r} is {value!r}, expected {expected}."
    )


def test_not_finite_numbers_are_rejected_once(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    text = json.dumps(snapshot_data(practitioners=[practitioner(capacity_points=1)], cases=[]))
    path.write_text(text.replace('"capacity_points": 1', '"capacity_points": Infinity'))
    message = only(problems(path))
    assert "field 'capacity_points' is infinite (inf), expected a number from 0 to 10000" in message


def test_invalid_dates(tmp_path: Path) -> None:
    data = snapshot_data(
        practitioners=[practitioner(leaving_on="31/12/2026")],
        cases=[case(opened="2026-02-30")],
        as_of="2026-13-01",
    )
    as_of, leaving, opened = problems(write(tmp_path / "s.json", data))
    assert as_of.startswith(f"{tmp_path / 's.json'}: field 'as_of' is '2026-13-01'")
    assert "expected a date written YYYY-MM-DD" in as_of
    assert (
        "practitioners[0] (id P1): field 'leaving_on' is '31/12/2026', expected a date" in leaving
    )
    assert "cases[0] (id C1): field 'opened' is '2026-02-30' (day value is outside" in opened


def test_record_that_is_not_an_object(tmp_path: Path) -> None:
    data = snapshot_data(cases=[case(), "C2"])
    message = only(problems(write(tmp_path / "s.json", data)))
    assert message.endswith("cases[1]: found text, expected an object with the case's fields.")


def test_free_text_is_described_never_quoted(tmp_path: Path) -> None:
    data = snapshot_data(
        practitioners=[practitioner(team={"name": "Secret Team"})],
        cases=[case(area=["14 Rose Street"], needs="interpreter Farsi")],
    )
    text = "\n".join(problems(write(tmp_path / "s.json", data)))
    label = "(not blank, no control or invisible character but tabs and line breaks)"
    assert f"field 'team' is an object, expected a label {label}" in text
    assert f"field 'area' is a list, expected a label {label} or null" in text
    assert f"field 'needs' is text, expected a list of labels, each {label}" in text
    for secret in ("Secret", "Rose", "Farsi"):
        assert secret not in text


# ------------------------------------------------------------------ cross-references


def test_duplicate_ids(tmp_path: Path) -> None:
    data = snapshot_data(
        practitioners=[practitioner("P1"), practitioner("P2"), practitioner("P1")],
        cases=[case("C1"), case("C1")],
    )
    staff, cases = problems(write(tmp_path / "s.json", data))
    assert "practitioners[2] (id P1): duplicate id 'P1', already used at practitioners[0]" in staff
    assert "cases[1] (id C1): duplicate id 'C1', already used at cases[0]" in cases


def test_unknown_worker_and_pinned_worker(tmp_path: Path) -> None:
    data = snapshot_data(cases=[case("C1", worker="P9"), case("C2", pinned_worker="P8")])
    worker, pinned = problems(write(tmp_path / "s.json", data))
    assert worker == (
        f"{tmp_path / 's.json'}, cases[0] (id C1): field 'worker' is 'P9', expected the id of "
        "one of the practitioners or null (a worker who has left stays in the practitioners "
        "with leaving_on: their children are then re-allocated)."
    )
    assert "cases[1] (id C2): field 'pinned_worker' is 'P8', expected the id" in pinned


def test_invalid_practitioner_still_counts_as_staff(tmp_path: Path) -> None:
    # P1's row is wrong, but a case naming P1 should not also be reported.
    data = snapshot_data(practitioners=[practitioner("P1", fte=3)], cases=[case(worker="P1")])
    assert "field 'fte' is 3" in only(problems(write(tmp_path / "s.json", data)))


def test_several_errors_in_one_file_all_reported_in_row_order(tmp_path: Path) -> None:
    data = snapshot_data(
        practitioners=[practitioner("P1", grade="boss"), practitioner("P1", fte=2)],
        cases=[
            case("C1", complexity=7, worker="P5"),
            case("C2", workr="P1"),
            case("C3", opened="soon", type="x"),
        ],
        as_of="tomorrow",
    )
    found = problems(write(tmp_path / "s.json", data))
    assert len(found) == 9, found
    rows = [
        "as_of",
        "practitioners[0]",
        "practitioners[1]",
        "practitioners[1]",
        "cases[0]",
        "cases[0]",
        "cases[1]",
        "cases[2]",
        "cases[2]",
    ]
    for message, row in zip(found, rows, strict=True):
        assert row in message and message.endswith((".", "?"))


# ------------------------------------------------------------------ CSV


def test_csv_ragged_row_names_line(tmp_path: Path) -> None:
    directory = write_csv_dir(
        tmp_path,
        cases="id,family,type,complexity,worker\nC1,F1,court,3,P1\nC2,F1,court\n",
    )
    assert only(problems(directory)) == (
        f"{directory / CASES_CSV}, line 3: found 3 cells, expected 5 (one per column of line 1)."
    )


def test_csv_unknown_column_reported_once_on_header(tmp_path: Path) -> None:
    directory = write_csv_dir(
        tmp_path,
        cases="id,family,type,complexity,workr\nC1,F1,court,3,P1\nC2,F1,court,3,P1\n",
    )
    assert only(problems(directory)) == (
        f"{directory / CASES_CSV}, line 1: unknown column 'workr'; did you mean 'worker'?"
    )


def test_csv_missing_column_reported_once(tmp_path: Path) -> None:
    directory = write_csv_dir(tmp_path, cases="id,type,complexity\nC1,court,3\nC2,court,3\n")
    assert only(problems(directory)) == (
        f"{directory / CASES_CSV}, line 1: required column 'family' is missing."
    )


def test_csv_row_problems_name_spreadsheet_line_id_and_field(tmp_path: Path) -> None:
    directory = write_csv_dir(
        tmp_path,
        practitioners="id,team,grade,fte\nP1,North,senior,1\nP2,North,nqsw,1.5\n",
        cases=(
            "id,family,type,complexity,worker,area\n"
            'C1,F1,court,3,P1,"Flat 2\nRose Street"\n'  # one spreadsheet row on two lines
            "C2,,courtt,,P7,\n"
        ),
    )
    fte, family, kind, complexity, worker = problems(directory)
    assert fte == (
        f"{directory / PRACTITIONERS_CSV}, line 3 (id P2): field 'fte' is '1.5', expected a "
        "number greater than 0 and at most 1."
    )
    assert family == (
        f"{directory / CASES_CSV}, line 3 (id C2): required field 'family' is empty, "
        "expected an id (not empty, no space at either end, no control or invisible character)."
    )
    assert "line 3 (id C2): field 'type' is 'courtt', expected one of early_help" in kind
    assert "line 3 (id C2): required field 'complexity' is empty" in complexity
    assert "line 3 (id C2): field 'worker' is 'P7', expected the id of one of the " in worker
    # A CSV folder: the practitioners are in another file, which the sentence names.
    assert "practitioners in " in worker and "practitioners.csv or empty" in worker


def test_csv_duplicate_ids_name_both_lines(tmp_path: Path) -> None:
    directory = write_csv_dir(
        tmp_path, cases="id,family,type,complexity\nC1,F1,court,3\nC1,F1,court,3\n"
    )
    assert "line 3 (id C1): duplicate id 'C1', already used at line 2" in only(problems(directory))


def test_csv_bad_quoting(tmp_path: Path) -> None:
    directory = write_csv_dir(tmp_path, cases='id,family,type,complexity\nC1,"F1"x,court,3\n')
    message = only(problems(directory))
    assert message.startswith(f"{directory / CASES_CSV}, line 2: not valid CSV")


def test_csv_missing_and_empty_files(tmp_path: Path) -> None:
    directory = write_csv_dir(tmp_path, cases="")
    (directory / PRACTITIONERS_CSV).unlink()
    missing, empty = problems(directory)
    assert missing == f"{directory / PRACTITIONERS_CSV}: no such file."
    assert empty == f"{directory / CASES_CSV}: the file is empty."


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (
            "format,as_of\ncaseload-snapshot/0,2026-11-23\n",
            "field 'format' is 'caseload-snapshot/0'",
        ),
        ("format,as_of\n,2026-11-23\n", "required field 'format' is empty"),
        ("as_of\n2026-11-23\n", "line 1: required column 'format' is missing"),
        ("format,as_of\ncaseload-snapshot/1,23/11/2026\n", "field 'as_of' is '23/11/2026'"),
        ("format,as_of\n", "found 0 rows under the header, expected one row"),
    ],
)
def test_csv_snapshot_file(tmp_path: Path, head: str, expected: str) -> None:
    directory = write_csv_dir(tmp_path, head=head)
    message = only(problems(directory))
    assert message.startswith(str(directory / SNAPSHOT_CSV)) and expected in message
    if "format" in expected and "column" not in expected:
        assert "expected 'caseload-snapshot/1'" in message


def test_csv_not_finite_number(tmp_path: Path) -> None:
    directory = write_csv_dir(tmp_path, practitioners="id,team,grade,fte\nP1,North,senior,nan\n")
    message = only(problems(directory))
    assert "line 2 (id P1): field 'fte' is 'nan', expected a number greater than 0" in message


# ------------------------------------------------------------------ referrals


@pytest.mark.parametrize("shape", ["list", "object", "csv"])
def test_referrals_are_merged(tmp_path: Path, shape: str) -> None:
    snap = write(tmp_path / "s.json", snapshot_data())
    if shape == "csv":
        ref = tmp_path / "ref.csv"
        ref.write_text(
            "id,family,type,complexity,worker,needs\nR1,F9,court,3,,welsh\nR2,F9,court,3,,\n"
        )
    else:
        rows = [case("R1", family="F9", needs=["welsh"]), case("R2", family="F9", worker="")]
        ref = write(tmp_path / "ref.json", rows if shape == "list" else {"cases": rows})
    snapshot = load_snapshot(snap, ref)
    assert [c.id for c in snapshot.cases] == ["C1", "R1", "R2"]
    assert snapshot.cases[1].needs == ("welsh",)
    assert all(c.worker is None for c in snapshot.cases[1:])


def test_referrals_into_csv_snapshot(tmp_path: Path) -> None:
    ref = write(tmp_path / "ref.json", [case("R1")])
    snapshot = load_snapshot(write_csv_dir(tmp_path / "snap"), ref)
    assert [c.id for c in snapshot.cases] == ["C1", "R1"]


def test_referral_with_a_worker(tmp_path: Path) -> None:
    snap = write(tmp_path / "s.json", snapshot_data())
    ref = write(tmp_path / "ref.json", [case("R1", worker="P1")])
    assert only(problems(snap, ref)) == (
        f"{ref}, cases[0] (id R1): field 'worker' is 'P1', expected null: a referral is not "
        "yet allocated."
    )


def test_referral_repeating_a_snapshot_id_names_both(tmp_path: Path) -> None:
    snap = write(tmp_path / "s.json", snapshot_data(cases=[case("C0"), case("C1")]))
    ref = tmp_path / "ref.csv"
    ref.write_text("id,family,type,complexity\nR1,F9,court,3\nC1,F9,court,3\n")
    assert only(problems(snap, ref)) == (
        f"{ref}, line 3 (id C1): id 'C1' is already in the snapshot ({snap}, cases[1]); "
        "expected a new case id."
    )


def test_referrals_repeating_their_own_ids(tmp_path: Path) -> None:
    snap = write(tmp_path / "s.json", snapshot_data())
    ref = write(tmp_path / "ref.json", {"cases": [case("R1"), case("R1")]})
    assert "cases[1] (id R1): duplicate id 'R1', already used at cases[0]" in only(
        problems(snap, ref)
    )


def test_referral_problems_reported_with_snapshot_problems(tmp_path: Path) -> None:
    snap = write(tmp_path / "s.json", snapshot_data(cases=[case(complexity=0)]))
    ref = write(tmp_path / "ref.json", {"cases": [case("R1", pinned_worker="P9")], "extra": 1})
    snap_problem, extra, pinned = problems(snap, ref)
    assert snap_problem.startswith(str(snap)) and "complexity" in snap_problem
    assert extra == f"{ref}: unknown field 'extra'; expected one of cases."
    assert "(id R1): field 'pinned_worker' is 'P9'" in pinned


def test_referrals_of_wrong_shape(tmp_path: Path) -> None:
    snap = write(tmp_path / "s.json", snapshot_data())
    ref = write(tmp_path / "ref.json", "R1")
    assert "found text, expected a list of cases" in only(problems(snap, ref))


# ------------------------------------------------------------------ round trips

TEXT = st.text(
    st.characters(codec="utf-8", exclude_categories=("Cs", "Cc", "Cf", "Zs", "Zl", "Zp")),
    min_size=1,
    max_size=8,
).filter(lambda s: ";" not in s and s == s.strip())
DATES = st.dates(min_value=date(2000, 1, 1), max_value=date(2040, 12, 31))


def rich_snapshot() -> Snapshot:
    return Snapshot(
        format="caseload-snapshot/1",
        as_of=date(2026, 11, 23),
        practitioners=(
            Practitioner(
                id="P1",
                team='Brycheiniog, "East"',
                grade="senior",
                experience_years=7.25,
                fte=0.6,
                skills=("court", "welsh"),
                areas=("Llŷn",),
                available_from=date(2026, 12, 1),
                leaving_on=None,
                capacity_points=55.5,
            ),
            Practitioner(id="P2", team="West", grade="nqsw", fte=1.0),
        ),
        cases=(
            Case(
                id="C1",
                family="F1",
                type="court",
                complexity=4,
                weight=12.125,
                worker="P1",
                previous_workers=("P0", "P2"),
                changes_last_12_months=3,
                area='North, "line two"',  # quoted in CSV
                needs=("welsh",),
                priority="urgent",
                pinned_worker="P1",
                excluded_workers=("P9",),
                opened=date(2024, 2, 29),
            ),
            Case(id="C2", family="F1", type="early_help", complexity=1),
        ),
    )


@pytest.mark.parametrize("target", ["snap.json", "snap_csv"])
def test_snapshot_round_trip(tmp_path: Path, target: str) -> None:
    snapshot = rich_snapshot()
    written = write_snapshot(snapshot, tmp_path / target)
    assert written == tmp_path / target
    assert load_snapshot(written) == snapshot


def test_csv_layout_written(tmp_path: Path) -> None:
    directory = write_snapshot(rich_snapshot(), tmp_path / "out")
    assert sorted(p.name for p in directory.iterdir()) == [
        CASES_CSV,
        PRACTITIONERS_CSV,
        SNAPSHOT_CSV,
    ]
    assert (
        directory / SNAPSHOT_CSV
    ).read_text() == "format,as_of\ncaseload-snapshot/1,2026-11-23\n"
    header, first = (directory / CASES_CSV).read_text().splitlines()[:2]
    assert header.split(",") == list(Case.model_fields)
    assert first.startswith("C1,F1,court,4,12.125,P1,P0;P2,3,")


def test_csv_refuses_values_it_cannot_hold(tmp_path: Path) -> None:
    snapshot = rich_snapshot().model_copy(
        update={"cases": (Case(id="C1", family="F1", type="court", complexity=1, needs=("a;b",)),)}
    )
    with pytest.raises(InputError) as caught:
        write_snapshot(snapshot, tmp_path / "out")
    assert "cases.csv, line 2 (id C1): field 'needs'" in only(caught.value.problems)
    assert not (tmp_path / "out").exists()


@pytest.mark.slow
@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    ids=st.lists(TEXT, min_size=1, max_size=4, unique=True),
    area=st.none() | TEXT,
    needs=st.lists(TEXT, max_size=3).map(tuple),
    opened=st.none() | DATES,
    weight=st.none() | st.floats(min_value=0, max_value=MAX_POINTS, allow_nan=False),
    fte=st.floats(min_value=1e-6, max_value=1.0),
)
def test_round_trip_property(
    tmp_path: Path,
    ids: list[str],
    area: str | None,
    needs: tuple[str, ...],
    opened: date | None,
    weight: float | None,
    fte: float,
) -> None:
    snapshot = Snapshot(
        format="caseload-snapshot/1",
        as_of=date(2026, 1, 1),
        practitioners=(Practitioner(id="P1", team="T", grade="senior", fte=fte),),
        cases=tuple(
            Case(
                id=i,
                family="F",
                type="adoption",
                complexity=2,
                area=area,
                needs=needs,
                opened=opened,
                weight=weight,
                worker="P1",
            )
            for i in ids
        ),
    )
    for target in ("p.json", "p_csv"):
        assert load_snapshot(write_snapshot(snapshot, tmp_path / target)) == snapshot


# ------------------------------------------------------------------ plans


def sample_plan() -> Plan:
    return Plan(
        as_of=date(2026, 11, 23),
        status="feasible",
        assignments=(
            Assignment(case="R1", worker="P1", reasons=("continuity",)),
            Assignment(case="C2", worker="P2", from_="P1"),
        ),
        unallocated=(Unallocated(case="R9", code="no_capacity", reason="Nobody has room."),),
        workers=(
            WorkerLoad(
                id="P1",
                capacity=100.0,
                load_before=80.0,
                load_after=88.5,
                cases_before=10,
                cases_after=11,
            ),
        ),
        objective={"unallocated": 1, "changes_of_worker": 1},
        bound={"unallocated": 0},
        solve_seconds=0.25,
    )


def test_plan_round_trip_writes_from_alias(tmp_path: Path) -> None:
    path = tmp_path / "plan.json"
    write_json(path, sample_plan())
    text = path.read_text(encoding="utf-8")
    assert '"from": "P1"' in text and '"from_"' not in text
    assert text.endswith("}\n") and text.startswith('{\n  "format": "allocation-plan/1"')
    assert load_plan(path) == sample_plan()


def plan_problems(path: Path) -> list[str]:
    with pytest.raises(InputError) as caught:
        load_plan(path)
    return caught.value.problems


def test_plan_problems(tmp_path: Path) -> None:
    data = json.loads(dump_json(sample_plan()))
    data["status"] = "done"
    data["assignments"][1]["workr"] = data["assignments"][1].pop("worker")
    data["workers"][0]["capacity"] = "lots"
    path = write(tmp_path / "plan.json", data)
    status, missing, workr, capacity = plan_problems(path)
    assert status == (
        f"{path}: field 'status' is 'done', expected one of optimal, feasible, invalid_input."
    )
    assert (
        workr == f"{path}, assignments[1] (case C2): unknown field 'workr'; did you mean 'worker'?"
    )
    assert missing.startswith(f"{path}, assignments[1] (case C2): required field 'worker'")
    assert capacity == f"{path}, workers[0] (id P1): field 'capacity' is 'lots', expected a number."


def test_plan_with_wrong_format_or_missing(tmp_path: Path) -> None:
    snapshot = write(tmp_path / "s.json", snapshot_data())
    message = only(plan_problems(snapshot))
    assert "field 'format' is 'caseload-snapshot/1', expected 'allocation-plan/1'" in message
    assert "no such file" in only(plan_problems(tmp_path / "none.json"))
    bad = tmp_path / "bad.json"
    bad.write_text("{")
    assert only(plan_problems(bad)).endswith(
        "not valid JSON: expecting property name enclosed in double quotes at line 1, column 2."
    )


def test_plan_missing_format_reported_with_other_problems(tmp_path: Path) -> None:
    data = json.loads(dump_json(sample_plan()))
    del data["format"]
    data["unallocated"][0]["code"] = ""
    path = write(tmp_path / "plan.json", data)
    missing, code = plan_problems(path)
    assert missing == f"{path}: required field 'format' is missing, expected 'allocation-plan/1'."
    where = f"{path}, unallocated[0] (case R9)"
    assert code == (
        f"{where}: field 'code' is empty, expected text (not empty, no space at either end, "
        "no control or invisible character)."
    )


def test_plan_accepts_codes_of_other_tools(tmp_path: Path) -> None:
    # FORMAT.md: a checker accepts codes it does not know (the spec's own example).
    data = json.loads(dump_json(sample_plan()))
    data["unallocated"][0]["code"] = "no_eligible_capacity"
    assert load_plan(write(tmp_path / "plan.json", data)).unallocated[0].code == (
        "no_eligible_capacity"
    )


@pytest.mark.parametrize("field", ["solve_seconds", "gap"])
@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_plan_rejects_non_finite_numbers(tmp_path: Path, field: str, value: float) -> None:
    data = json.loads(dump_json(sample_plan()))
    data[field] = value
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(data))  # Python writes NaN, Infinity, -Infinity
    (problem,) = plan_problems(path)
    assert f"field '{field}' is" in problem and "expected a number" in problem


def test_plan_rejects_non_finite_summaries(tmp_path: Path) -> None:
    data = json.loads(dump_json(sample_plan()))
    data["objective"] = {"unallocated": math.nan}
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(data))
    (problem,) = plan_problems(path)
    assert "objective.unallocated" in problem


# ------------------------------------------------------------------ writing


@pytest.mark.parametrize("target", [None, "-"])
def test_write_json_to_stdout(capsys: pytest.CaptureFixture[str], target: str | None) -> None:
    write_json(target, {"when": date(2026, 1, 2), "who": ("Siân",)})
    assert capsys.readouterr().out == '{\n  "when": "2026-01-02",\n  "who": [\n    "Siân"\n  ]\n}\n'


def test_write_json_is_utf8_and_leaves_no_temporary_file(tmp_path: Path) -> None:
    path = tmp_path / "out.json"
    write_json(path, {"name": "Siân"})
    assert path.read_bytes() == '{\n  "name": "Siân"\n}\n'.encode()
    assert [p.name for p in tmp_path.iterdir()] == ["out.json"]


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), object()])
def test_failed_serialisation_keeps_existing_file(tmp_path: Path, bad: object) -> None:
    path = tmp_path / "out.json"
    path.write_text("old\n")
    with pytest.raises((ValueError, TypeError)):
        write_json(path, {"value": bad})
    assert path.read_text() == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["out.json"]


def test_nan_text_in_strings_is_fine() -> None:
    assert dump_json({"note": "NaN Infinity"}) == '{\n  "note": "NaN Infinity"\n}\n'


def test_failed_write_removes_temporary_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "out.json"
    path.write_text("old\n")

    def broken_replace(src: str, dst: str) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk full"):
        write_json(path, {"a": 1})
    assert path.read_text() == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["out.json"]


def test_rewrite_keeps_file_mode(tmp_path: Path) -> None:
    path = tmp_path / "out.json"
    path.write_text("{}\n")
    path.chmod(0o640)
    write_json(path, {"a": 1})
    assert stat.S_IMODE(path.stat().st_mode) == 0o640


def test_input_error_pickles() -> None:
    error = InputError(["a.", "b."])
    copy = pickle.loads(pickle.dumps(error))
    assert copy.problems == ["a.", "b."] and str(copy) == "a.\nb."


@pytest.mark.parametrize(
    ("team", "cell"),
    [
        ("=cmd|' /C calc'!A0", "'=cmd|' /C calc'!A0"),
        ("+SUM(A1)", "'+SUM(A1)"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("'=already quoted", "''=already quoted"),
        ("'plain quote", "'plain quote"),
    ],
    ids=["equals", "plus", "minus", "at", "quoted-formula", "plain-quote"],
)
def test_formula_cells_are_neutralised_and_read_back(tmp_path: Path, team: str, cell: str) -> None:
    # A spreadsheet would run the first four as formulas: each is written after a "'",
    # as spreadsheets show text, and reads back as written.
    snapshot = Snapshot(
        format="caseload-snapshot/1",
        as_of=date(2026, 11, 23),
        practitioners=(Practitioner(id="P1", team=team, grade="senior", fte=1.0),),
        cases=(Case(id="C1", family="F1", type="court", complexity=2, needs=("=x", "y")),),
    )
    directory = write_snapshot(snapshot, tmp_path / "out")
    rows = list(csv.reader((directory / PRACTITIONERS_CSV).open(encoding="utf-8")))
    assert rows[1][rows[0].index("team")] == cell
    cases = list(csv.reader((directory / CASES_CSV).open(encoding="utf-8")))
    assert cases[1][cases[0].index("needs")] == "'=x;y"
    assert load_snapshot(directory) == snapshot


def test_a_snapshot_given_as_referrals_is_one_sentence(tmp_path: Path) -> None:
    # A fresh user gave the service file as --referrals: three unknown fields and a
    # problem per case, where one sentence says what happened.
    snap = write(tmp_path / "s.json", snapshot_data())
    said = only(problems(snap, snap))
    assert said == (
        f"{snap}: this is a snapshot, not referrals: give the day's new cases, a list of "
        'cases or an object {"cases": [...]}.'
    )
    # Without its format, by its practitioners.
    bare = write(tmp_path / "bare.json", {**snapshot_data(), "format": None})
    assert "this is a snapshot (it has practitioners), not referrals" in only(problems(snap, bare))


@pytest.mark.parametrize(
    ("data", "said"),
    [
        ({"format": "allocation-plan/1", "as_of": "2026-11-23"}, "this is a plan, not referrals"),
        (
            {"format": "pending-handovers/1", "as_of": "2026-11-23"},
            "this is a pending-handovers file (from apply), not referrals",
        ),
        ({"as_of": "2026-11-20", "cases": []}, "referrals have no as_of (the snapshot's as_of"),
    ],
    ids=["plan", "pending", "dated"],
)
def test_another_file_given_as_referrals_is_named_by_what_it_is(
    tmp_path: Path, data: dict[str, Any], said: str
) -> None:
    # A fresh manager gave the plan as --referrals and was told it was a snapshot.
    snap = write(tmp_path / "s.json", snapshot_data())
    assert said in only(problems(snap, write(tmp_path / "r.json", data)))


@pytest.mark.parametrize("name", ["policy.toml", "policy.txt"])
def test_a_policy_given_as_referrals_is_named_a_toml_file(tmp_path: Path, name: str) -> None:
    # A fresh manager's policy file as --referrals was told to rename it to .csv.
    snap = write(tmp_path / "s.json", snapshot_data())
    policy = tmp_path / name
    policy.write_text(
        'max_new_families_per_day = 2\n[grades.nqsw]\ntypes = ["court", "child_in_need"]\n'
    )
    assert "this is a TOML file (a policy?), not referrals" in only(problems(snap, policy))


def test_referrals_given_as_the_snapshot_are_told_to_be_referrals(tmp_path: Path) -> None:
    ref = write(tmp_path / "r.json", [{"id": "R1", "family": "F9", "type": "court"}])
    assert only(problems(ref)).endswith("(a list of cases is referrals: give it as --referrals).")


def test_one_case_given_as_referrals_says_to_make_it_a_list(tmp_path: Path) -> None:
    snap = write(tmp_path / "s.json", snapshot_data())
    ref = write(tmp_path / "one.json", {"id": "R1", "family": "F9", "type": "child_in_need"})
    assert "this is one case, not a list of referrals" in only(problems(snap, ref))


@pytest.mark.parametrize("name", ["refs.txt", "refs"])
def test_csv_referrals_not_named_csv_are_told_to_be(tmp_path: Path, name: str) -> None:
    snap = write(tmp_path / "s.json", snapshot_data())
    ref = tmp_path / name
    ref.write_text("id,family,type,complexity,weight\nR1,F9,child_in_need,2,3\n")
    assert "rename it to .csv" in only(problems(snap, ref))


@pytest.mark.parametrize(
    ("data", "said"),
    [
        ({"a": float("nan")}, "a is nan"),
        ({"cases": [{"weight": 1.0}, {"weight": float("inf")}]}, "cases[1].weight is inf"),
        (float("-inf"), "the value is -inf"),
    ],
)
def test_a_number_json_cannot_hold_is_named_where_it_is(
    tmp_path: Path, data: Any, said: str
) -> None:
    # A council developer's NaN met "Out of range float values are not JSON compliant",
    # with no field named.
    with pytest.raises(ValueError) as caught:
        write_json(tmp_path / "out.json", data)
    assert (
        str(caught.value) == f"{said}, a number JSON cannot hold: expected a finite number or null"
    )
    assert not (tmp_path / "out.json").exists()
    # The word in text is data, not a number.
    write_json(tmp_path / "text.json", {"id": "NaN", "note": "Infinity"})
    assert json.loads((tmp_path / "text.json").read_text()) == {"id": "NaN", "note": "Infinity"}
