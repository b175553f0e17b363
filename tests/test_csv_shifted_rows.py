"""A comma typed in a CSV cell without quotes splits the cell and moves every cell after
it one column on. Where the row ended in empty cells, the reader took the extra cell
for the empty cells "some spreadsheets add" and read the row shifted: a worker written
``court,welsh`` became skills ``court`` and areas ``welsh`` with no word said (a fresh
trial's find), and ``13,6`` years of experience made ``fte`` 6. Every CSV door now
takes empty cells beyond line 1 only as the padding of a file that pads its rows, and
refuses a row wider than its neighbours, naming the line and what a comma does.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from allocator.io import InputError, load_snapshot, padded_width, ragged_row
from allocator.ssd.columns import import_csv
from allocator.ssd.mapping import load_columns_mapping
from allocator.ssd.tables import Problems, read_table

HEAD = "format,as_of\ncaseload-snapshot/1,2026-11-23\n"
STAFF = "id,team,grade,fte,skills,areas,available_from,leaving_on\n"
CASES = "id,family,type,complexity,worker,needs,opened\n"
COMMA = "a comma in a cell without quotes splits it in two"
COUNCIL = Path(__file__).resolve().parent.parent / "examples" / "ssd" / "council-report"


def folder(tmp_path: Path, staff: str, cases: str) -> Path:
    directory = tmp_path / "service"
    directory.mkdir()
    (directory / "snapshot.csv").write_text(HEAD)
    (directory / "practitioners.csv").write_text(staff)
    (directory / "cases.csv").write_text(cases)
    return directory


def problems(path: Path, referrals: Path | None = None) -> list[str]:
    with pytest.raises(InputError) as caught:
        load_snapshot(path, referrals)
    return caught.value.problems


def test_a_list_typed_with_a_comma_in_practitioners_is_refused_not_shifted(
    tmp_path: Path,
) -> None:
    staff = STAFF + "P1,North,senior,1,court,welsh,,,\nP2,North,senior,1,,,,\n"
    cases = CASES + "C1,F1,court,3,P1,,\n"
    [problem] = problems(folder(tmp_path, staff, cases))
    where = tmp_path / "service" / "practitioners.csv"
    assert problem.startswith(f"{where}, line 2: found 9 cells, expected 8")
    assert COMMA in problem and "court;welsh" in problem


def test_a_decimal_comma_in_cases_is_refused_with_its_line(tmp_path: Path) -> None:
    staff = STAFF + "P1,North,senior,1,,,,\n"
    cases = "id,family,type,complexity,weight,worker,opened\n"
    cases += "C1,F1,court,3,,P1,\nC2,F1,court,3,7,5,,\n"
    [problem] = problems(folder(tmp_path, staff, cases))
    assert "cases.csv, line 3: found 8 cells, expected 7" in problem and COMMA in problem


def test_a_shifted_referral_row_is_refused(tmp_path: Path) -> None:
    directory = folder(tmp_path, STAFF + "P1,North,senior,1,,,,\n", CASES)
    referrals = tmp_path / "referrals.csv"
    referrals.write_text(CASES + "R1,F9,court,3,,welsh,court,\nR2,F9,court,3,,,\n")
    [problem] = problems(directory, referrals)
    assert problem.startswith(f"{referrals}, line 2: found 8 cells, expected 7")
    assert COMMA in problem


def test_a_file_that_pads_every_row_is_still_read(tmp_path: Path) -> None:
    # the documented tolerance: an export that ends every row with empty cells
    staff = STAFF + "P1,North,senior,1,court;welsh,,,,\nP2,North,nqsw,0.5,,,,,\n"
    cases = CASES + "C1,F1,court,3,P1,,,,\nC2,F1,court,3,,,,,\n"
    snapshot = load_snapshot(folder(tmp_path, staff, cases))
    assert snapshot.practitioners[0].skills == ("court", "welsh")
    assert [c.id for c in snapshot.cases] == ["C1", "C2"]


def test_a_shifted_row_in_a_padded_file_is_refused(tmp_path: Path) -> None:
    staff = STAFF + "P1,North,senior,1,court,welsh,,,,\nP2,North,nqsw,0.5,,,,,\n"
    staff += "P3,North,nqsw,0.5,,,,,\n"
    cases = CASES + "C1,F1,court,3,P1,,\n"
    [problem] = problems(folder(tmp_path, staff, cases))
    assert "practitioners.csv, line 2: found 10 cells, expected 8" in problem


def test_padded_width() -> None:
    assert padded_width([["a", "b"], ["c", "d"]], 2) == 2
    assert padded_width([["a", "b", ""], ["c", "d", ""]], 2) == 3
    assert padded_width([["a", "b", ""]], 2) == 3  # one row, padded: as before
    assert padded_width([["a", "b", ""], ["c", "d"], ["e", "f"]], 2) == 2
    assert padded_width([["a", "b", "x"], ["c", "d", "y"]], 2) == 2  # not empty: not padding
    assert padded_width([["", "", ""], ["a", "b", ""], ["c", "d", ""]], 2) == 3  # blank skipped
    assert "found 2 cells, expected 3" in ragged_row(2, 3) and COMMA not in ragged_row(2, 3)


def test_an_ssd_table_with_a_shifted_row_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "ssd_person.csv"
    path.write_text("id,name,born\nC1,Ann,\nC2,Smith, Bob,\nC3,Cy,\n")
    problems = Problems()
    read_table(path, problems)
    [problem] = problems.errors.sentences()
    assert problem.startswith(f"{path}, line 3: found 4 cells, expected 3")
    assert COMMA in problem and "court;welsh" not in problem


def test_an_ssd_table_padded_on_every_row_is_read(tmp_path: Path) -> None:
    path = tmp_path / "ssd_person.csv"
    path.write_text("id,name,born\nC1,Ann,,\nC2,Bob,,\n")
    problems = Problems()
    table = read_table(path, problems)
    assert not problems.errors and table is not None
    assert table.cells["name"] == ["Ann", "Bob"] and table.lines == [2, 3]


def test_a_council_report_with_a_comma_in_a_team_name_is_refused(tmp_path: Path) -> None:
    report = shutil.copytree(COUNCIL, tmp_path / "report")
    staff = report / "staff.csv"
    text = staff.read_text()
    assert "S101,Worker One,North Safeguarding," in text
    staff.write_text(
        text.replace("S101,Worker One,North Safeguarding,", "S101,Worker One,North, Safeguarding,")
    )
    with pytest.raises(InputError) as caught:
        import_csv(report, load_columns_mapping(report / "columns.toml"))
    [problem] = caught.value.problems
    assert problem.startswith(f"{staff}, line 2: found 10 cells, expected 9") and COMMA in problem
