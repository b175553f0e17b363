"""``allocator import csv``: a council's own reports, renamed, converted, derived and dropped.

``examples/ssd/council-report``: staff.csv (``Contracted Hours %`` such as ``80%``,
``Welsh Speaker`` / ``Court Trained`` Yes/No into skills, ``Leaving Date`` DD/MM/YYYY,
``Job Role`` codes into grades) and cases.csv (``Legal Status`` into the type, ``Urgent``
Yes/No into the priority, ``Risk Level`` into complexity); names and notes are dropped.
"""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner

from allocator.cli import main
from allocator.io import InputError, load_snapshot
from allocator.ssd.columns import import_csv
from allocator.ssd.mapping import load_columns_mapping

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "ssd" / "council-report"


@pytest.fixture
def report(tmp_path: Path) -> Path:
    shutil.copytree(EXAMPLE, tmp_path / "report")
    return tmp_path / "report"


def run(folder: Path):  # type: ignore[no-untyped-def]
    return import_csv(folder, load_columns_mapping(folder / "columns.toml"))


def replace(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


def test_converted_values(report: Path) -> None:
    snapshot, rep = run(report)
    assert snapshot.as_of == date(2026, 11, 23)
    staff = {p.id: p for p in snapshot.practitioners}
    assert staff["S101"].skills == ("welsh", "court")  # two Yes/No columns, one list
    assert staff["S102"].fte == 0.8  # "80%"
    assert staff["S103"].grade.value == "nqsw"  # "ASYE Social Worker"
    assert staff["S104"].leaving_on == date(2026, 12, 31)  # "31/12/2026"
    cases = {c.id: c for c in snapshot.cases}
    assert {k: c.type.value for k, c in cases.items()} == {
        "C101": "child_protection",
        "C102": "child_in_need",
        "C103": "looked_after",
        "C104": "early_help",
        "C105": "care_leaver",
    }
    assert cases["C103"].previous_workers == ("S101", "S102")
    assert cases["C103"].changes_last_12_months == 2
    assert cases["C104"].priority.value == "urgent" and cases["C104"].worker is None
    assert cases["C101"].complexity == 3  # Risk Level High
    assert cases["C101"].opened == date(2026, 10, 2)
    assert rep.defaults[("practitioners", "experience_years", "default 2")] == 4
    assert rep.counts["columns dropped from cases.csv"] == 2


def problems_of(folder: Path) -> list[str]:
    with pytest.raises(InputError) as caught:
        run(folder)
    return caught.value.problems


def test_bad_date(report: Path) -> None:
    replace(report / "staff.csv", "31/12/2026", "2026-12-31")
    [problem] = problems_of(report)
    assert problem == (
        f"{report / 'staff.csv'}, line 5 (id S104): column 'Leaving Date' (field "
        "'leaving_on') is '2026-12-31', expected a date written DD/MM/YYYY."
    )


def test_bad_percentage(report: Path) -> None:
    replace(report / "staff.csv", "80%", "eighty")
    [problem] = problems_of(report)
    assert "line 3 (id S102): column 'Contracted Hours %' (field 'fte') is 'eighty'" in problem
    assert "expected a percentage such as 80%" in problem


def test_percentage_out_of_range(report: Path) -> None:
    replace(report / "staff.csv", "80%", "180%")
    [problem] = problems_of(report)
    # what the cell held, not the converted 1.8
    assert (
        "line 3 (id S102): column 'Contracted Hours %' (field 'fte') is '180%' (read as 1.8), "
        "expected a number greater than 0 and at most 1."
    ) in problem


def test_a_converted_number_out_of_range_quotes_the_cell(report: Path) -> None:
    replace(report / "cases.csv", "CP Plan,S101,S104,1,", "CP Plan,S101,S104,-4,")
    [problem] = problems_of(report)
    assert (
        "line 2 (id C101): column 'Worker Changes 12m' (field 'changes_last_12_months') "
        "is '-4', expected"
    ) in problem


def test_unknown_code(report: Path) -> None:
    replace(report / "cases.csv", "CP Plan", "CPP")
    [problem] = problems_of(report)
    assert "line 2 (id C101): column 'Legal Status' (field 'type') is 'CPP'" in problem
    assert "expected one of 'CP Plan', 'CIN'" in problem


def test_bad_yes_no(report: Path) -> None:
    replace(report / "cases.csv", "20/11/2026,Yes", "20/11/2026,Maybe")
    [problem] = problems_of(report)
    assert "line 5 (id C104): column 'Urgent' (field 'priority')" in problem
    assert "expected Yes or No" in problem


def test_unknown_column(report: Path) -> None:
    replace(report / "cases.csv", "Notes", "Allocated Team")
    [problem] = problems_of(report)
    assert "cases.csv, line 1: unknown column 'Allocated Team'" in problem
    assert "[cases.columns] or in [cases] drop" in problem


def test_missing_column(report: Path) -> None:
    text = (report / "staff.csv").read_text().replace("Team,", "Unit,", 1)
    (report / "staff.csv").write_text(text)
    problems = problems_of(report)
    assert any("staff.csv, line 1: required column 'Team' is missing" in p for p in problems)


def test_missing_file(report: Path) -> None:
    (report / "cases.csv").unlink()
    [problem] = problems_of(report)
    assert problem.endswith("cases.csv: table missing, expected a CSV file of that name.")


def test_worker_not_in_staff_report(report: Path) -> None:
    replace(report / "cases.csv", "CIN,S102", "CIN,S999")
    [problem] = problems_of(report)
    assert "line 3 (id C102): column 'Allocated Worker' (field 'worker') is 'S999'" in problem


def test_free_text_is_never_quoted(report: Path) -> None:
    replace(report / "staff.csv", "North Safeguarding,Social Worker", ",Social Worker")
    [problem] = problems_of(report)
    assert "field 'team' has no value" in problem


def test_cli_import_csv(report: Path, tmp_path: Path) -> None:
    out = tmp_path / "snap"
    args = ["import", "csv", str(report), "--columns", str(report / "columns.toml")]
    result = CliRunner().invoke(main, [*args, "--as-of", "2026-11-30", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "4 practitioners, 5 cases" in result.output
    assert load_snapshot(out).as_of == date(2026, 11, 30)  # --as-of wins over the mapping
    replace(report / "cases.csv", "CP Plan", "CPP")
    result = CliRunner().invoke(main, [*args, "--out", str(tmp_path / "x.json")])
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert "(field 'type') is 'CPP'" in result.output


def test_mapping_naming_an_unknown_field(report: Path) -> None:
    replace(report / "columns.toml", '"Team" = { field = "team" }', '"Team" = { field = "teem" }')
    [problem] = problems_of(report)
    mapping = report / "columns.toml"
    assert problem.startswith(
        f"columns mapping {mapping}: [practitioners.columns] 'Team' names field 'teem'"
    )


def test_mapping_with_an_unknown_converter(report: Path) -> None:
    replace(report / "columns.toml", 'convert = "percent"', 'convert = "percentage"')
    with pytest.raises(InputError) as caught:
        load_columns_mapping(report / "columns.toml")
    [problem] = caught.value.problems
    assert "key 'practitioners.columns.Contracted Hours %.convert' is 'percentage'" in problem


def test_no_as_of_anywhere(report: Path) -> None:
    replace(report / "columns.toml", 'as_of = "2026-11-23"', "")
    [problem] = problems_of(report)
    assert problem == (
        f"columns mapping {report / 'columns.toml'}: no as_of, give --as-of YYYY-MM-DD "
        "or as_of in the mapping."
    )


@pytest.mark.parametrize("as_of", ["2026-02-30", "tomorrow", "11/23/2026", "23/11/2026"])
def test_an_invalid_as_of_in_the_mapping_says_so(report: Path, as_of: str) -> None:
    replace(report / "columns.toml", 'as_of = "2026-11-23"', f'as_of = "{as_of}"')
    [problem] = problems_of(report)
    assert problem == (
        f"columns mapping {report / 'columns.toml'}: as_of is '{as_of}', expected a date "
        "written YYYY-MM-DD from "
        "1900-01-01 to 2999-12-31 (or give --as-of)."
    )


def test_an_unquoted_toml_date_as_of_is_the_day(report: Path) -> None:
    # as_of = 2026-11-23 (a TOML date, no quotes) means exactly that day.
    replace(report / "columns.toml", 'as_of = "2026-11-23"', "as_of = 2026-11-23")
    snapshot, _ = import_csv(report, load_columns_mapping(report / "columns.toml"))
    assert snapshot.as_of == date(2026, 11, 23)


def test_a_toml_date_time_as_of_names_the_mapping_file(report: Path) -> None:
    replace(report / "columns.toml", 'as_of = "2026-11-23"', "as_of = 2026-11-23T10:00:00")
    with pytest.raises(InputError) as caught:
        load_columns_mapping(report / "columns.toml")
    [problem] = caught.value.problems
    assert problem.startswith(f"{report / 'columns.toml'}: key 'as_of'")


@pytest.mark.parametrize("command", ["csv", "ssd"])
def test_an_invalid_as_of_option_is_worded_as_a_snapshot_date(
    report: Path, tmp_path: Path, command: str
) -> None:
    # the same words as a snapshot's as_of (FORMAT.md domains), not strptime's
    mapping = ["--columns", str(report / "columns.toml")]
    if command == "ssd":
        mapping = ["--mapping", str(EXAMPLE.parent / "mapping.toml")]
    result = CliRunner().invoke(
        main,
        ["import", command, str(report), *mapping, "--as-of", "2026-02-30"]
        + ["--out", str(tmp_path / "s.json")],
    )
    assert result.exit_code == 2
    assert (
        "Invalid value for '--as-of': '2026-02-30', expected a date written YYYY-MM-DD "
        "from 1900-01-01 to 2999-12-31."
    ) in " ".join(result.output.split())
    assert "%Y" not in result.output


def test_second_example_layout() -> None:
    folder = EXAMPLE.parent / "council-report-b"
    snapshot, rep = import_csv(folder, load_columns_mapping(folder / "columns.toml"))
    staff = {p.id: p for p in snapshot.practitioners}
    assert staff["P1"].grade.value == "consultant"
    assert staff["P2"].fte == 0.6 and staff["P2"].available_from == date(2026, 12, 1)
    assert staff["P3"].skills == ("disability",) and staff["P3"].capacity_points == 90
    cases = {c.id: c for c in snapshot.cases}
    assert [cases[k].type.value for k in ("Q1", "Q3", "Q4")] == [
        "child_protection",
        "looked_after",
        "court",
    ]
    assert cases["Q4"].worker is None and cases["Q4"].needs == ("interpreter",)
    assert cases["Q3"].previous_workers == ("P2",)
    assert rep.defaults[("cases", "complexity", "default 2")] == 4


def test_an_empty_staff_report_is_an_error_as_in_a_snapshot(report: Path) -> None:
    # FORMAT.md "Reading rules": no practitioner is refused in a snapshot's JSON and
    # CSV alike, so the import refuses it too rather than write such a snapshot.
    staff = report / "staff.csv"
    staff.write_text(staff.read_text().splitlines()[0] + "\n")
    cases = report / "cases.csv"
    cases.write_text(cases.read_text().splitlines()[0] + "\n")
    with pytest.raises(InputError) as caught:
        run(report)
    assert caught.value.problems == [
        f"{staff}: no rows under the header, expected at least one practitioner "
        "(was the table emptied?)."
    ]


def test_a_free_text_column_is_not_steered_onto_a_mapped_one(report: Path) -> None:
    # The attack a fresh trial made: the mapping drops "Note" (say), the report's column
    # is "Notes": "did you mean 'Note'?" would steer free text toward a mapped name.
    replace(
        report / "columns.toml", 'drop = ["Child Name", "Notes"]', 'drop = ["Child Name", "Note"]'
    )
    [problem] = problems_of(report)
    assert "cases.csv, line 1: unknown column 'Notes'" in problem
    assert "did you mean" not in problem
    assert "looks like free text, which the allocator never reads" in problem


@pytest.mark.parametrize("name", ["/etc/passwd", "../../../etc/passwd"])
def test_a_report_outside_the_folder_is_not_read(report: Path, name: str) -> None:
    # A second trial's attack: the mapping's file named /etc/shadow was read and its
    # first line echoed as an unknown column.
    replace(report / "columns.toml", 'file = "cases.csv"', f'file = "{name}"')
    [problem] = problems_of(report)
    assert "expected a report in the folder" in problem and "is not read" in problem
    assert "root:" not in problem  # no line of the file echoed


@pytest.mark.parametrize("column", ["Allocated Worker Note", "Worker Notes", "case_comments"])
def test_a_column_with_a_free_text_word_is_named_free_text(column: str) -> None:
    # A second trial's: "Allocated Worker Note" got "did you mean 'Allocated Worker'?".
    from allocator.io import unknown_column

    said = unknown_column(column, ["Allocated Worker", "Worker", "Case"])
    assert "looks like free text" in said and "did you mean" not in said
