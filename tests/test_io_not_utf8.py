"""A byte that is not UTF-8 is said where a person finds it: the line (and column), and
for a CSV table the row as the CSV errors count rows and the column's name, beside the
byte. One sentence from one helper (:func:`allocator.io.decode_utf8`), for every reader
of a text file: a test per reader."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from allocator.contract.policy import PolicyError
from allocator.io import InputError, decode_utf8, load_pending_handovers, load_plan, load_policy
from allocator.io import load_snapshot as _load_snapshot
from allocator.simulation.sweep import SpecError, load_spec
from allocator.ssd.mapping import load_columns_mapping, load_ssd_mapping
from allocator.ssd.tables import Problems, read_table
from allocator.web.names import load_display_names
from allocator.web.security import load_users

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
BOM = b"\xef\xbb\xbf"
# A JSON document whose second line holds the bad byte: '  "format": "caf' is 16
# characters, so the byte is the 17th of line 2 and byte 2 + 17 = 19 of the file.
JSON = b'{\n  "format": "caf\xe9"\n}\n'
JSON_PLACE = "line 2, column 17: not UTF-8 text (byte 19 cannot be read)"
# The same place in TOML: '# caf' is 5 characters and line 1 is 'a = 1\n' (6 bytes).
TOML = b"a = 1\n# caf\xe9\n"
TOML_PLACE = "line 2, column 6: not UTF-8 text (byte 12 cannot be read)"
EXPECTED_TEXT = "expected a file saved as UTF-8 (in a spreadsheet: 'CSV UTF-8')"
EXPECTED_TOML = "expected a TOML file saved as UTF-8"


def refused(read: Callable[[], object], error: type[Exception] = InputError) -> str:
    """The one sentence ``read`` is refused with: never a traceback's decode error."""
    with pytest.raises(error) as caught:
        read()
    problems = getattr(caught.value, "problems", [str(caught.value)])
    assert len(problems) == 1, problems
    assert "codec" not in problems[0] and "0xe9" not in problems[0]
    return str(problems[0])


def load_snapshot(path: Path, referrals: Path | None = None) -> object:
    return _load_snapshot(path, referrals)


def test_the_helper_says_line_and_column_and_counts_the_byte_order_mark() -> None:
    with pytest.raises(InputError) as caught:
        decode_utf8(JSON, "f.json")
    assert str(caught.value) == f"f.json, {JSON_PLACE}"
    # The mark is three bytes of the file: the byte counts them (it said 16 for 19).
    with pytest.raises(InputError) as caught:
        decode_utf8(BOM + JSON, "f.json")
    assert str(caught.value) == "f.json, line 2, column 17: not UTF-8 text (byte 22 cannot be read)"
    assert decode_utf8(BOM + b"ok", "f.json") == "ok"


def test_the_helper_names_a_csv_row_as_the_csv_errors_count_rows_and_its_column() -> None:
    # Row 2's area is quoted over two text lines: row 3 starts on text line 4. The
    # bytes before the bad one: 'id,area\n' 8, 'C1,"Patch\n' 10, '01"\n' 4, 'C2,caf' 6.
    data = b'id,area\nC1,"Patch\n01"\nC2,caf\xe9\n'
    with pytest.raises(InputError) as caught:
        decode_utf8(data, "cases.csv", table=True)
    assert str(caught.value) == (
        "cases.csv, line 3, column 'area' (text line 4): not UTF-8 text (byte 29 cannot be read)"
    )
    # In the header: the line alone.
    with pytest.raises(InputError) as caught:
        decode_utf8(b"id,ar\xe9a\n", "cases.csv", table=True)
    assert str(caught.value) == "cases.csv, line 1: not UTF-8 text (byte 6 cannot be read)"


def test_a_json_snapshot(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    path.write_bytes(JSON)
    assert refused(lambda: load_snapshot(path)) == f"{path}, {JSON_PLACE}, {EXPECTED_TEXT}."


def csv_snapshot(tmp_path: Path) -> Path:
    folder = shutil.copytree(EXAMPLES / "service-csv", tmp_path / "service")
    cases = folder / "cases.csv"
    lines = cases.read_bytes().split(b"\n")
    # Row 5's area (the ninth column) holds the byte.
    cells = lines[4].split(b",")
    cells[8] = b"Patch caf\xe9"
    lines[4] = b",".join(cells)
    cases.write_bytes(b"\n".join(lines))
    return folder


def test_a_csv_snapshot_directory(tmp_path: Path) -> None:
    folder = csv_snapshot(tmp_path)
    cases = folder / "cases.csv"
    byte = cases.read_bytes().index(b"\xe9") + 1
    assert refused(lambda: load_snapshot(folder)) == (
        f"{cases}, line 5, column 'area': not UTF-8 text (byte {byte} cannot be read), "
        f"{EXPECTED_TEXT}."
    )


def test_a_json_referrals_file(tmp_path: Path) -> None:
    path = tmp_path / "referrals.json"
    path.write_bytes(JSON)
    assert refused(lambda: load_snapshot(EXAMPLES / "service.json", path)) == (
        f"{path}, {JSON_PLACE}, {EXPECTED_TEXT}."
    )


def test_a_csv_referrals_file(tmp_path: Path) -> None:
    path = tmp_path / "referrals.csv"
    # 31 bytes of header, then 'R1,F1,court,2,caf' (17): the bad byte is byte 49.
    path.write_bytes(b"id,family,type,complexity,area\nR1,F1,court,2,caf\xe9\n")
    assert refused(lambda: load_snapshot(EXAMPLES / "service.json", path)) == (
        f"{path}, line 2, column 'area': not UTF-8 text (byte 49 cannot be read), {EXPECTED_TEXT}."
    )


def test_a_plan(tmp_path: Path) -> None:
    path = tmp_path / "plan.json"
    path.write_bytes(JSON)
    assert refused(lambda: load_plan(path)) == f"{path}, {JSON_PLACE}, {EXPECTED_TEXT}."


def test_a_pending_handovers_file(tmp_path: Path) -> None:
    path = tmp_path / "plan.handovers.json"
    path.write_bytes(JSON)
    assert refused(lambda: load_pending_handovers(path)) == (
        f"{path}, {JSON_PLACE}, {EXPECTED_TEXT}."
    )


def test_a_policy_file(tmp_path: Path) -> None:
    path = tmp_path / "policy.toml"
    path.write_bytes(TOML)
    assert refused(lambda: load_policy(path), PolicyError) == (
        f"{path}, {TOML_PLACE}, {EXPECTED_TOML}."
    )


def test_an_ssd_table(tmp_path: Path) -> None:
    path = tmp_path / "ssd_person.csv"
    path.write_bytes(b"id,name\nC1,caf\xe9\n")
    problems = Problems()
    assert read_table(path, problems) is None
    assert problems.errors.sentences() == [
        f"{path}, line 2, column 'name': not UTF-8 text (byte 15 cannot be read)."
    ]


@pytest.mark.parametrize("load", [load_ssd_mapping, load_columns_mapping])
def test_an_ssd_or_columns_mapping(tmp_path: Path, load: Callable[[Path], object]) -> None:
    path = tmp_path / "mapping.toml"
    path.write_bytes(TOML)
    assert refused(lambda: load(path)) == f"{path}, {TOML_PLACE}, {EXPECTED_TOML}"


@pytest.mark.parametrize("load", [load_users, load_display_names])
def test_the_meetings_users_and_names_files(tmp_path: Path, load: Callable[[str], object]) -> None:
    path = tmp_path / "users.toml"
    path.write_bytes(TOML)
    assert refused(lambda: load(str(path)), ValueError) == (
        f"{path}, {TOML_PLACE}, {EXPECTED_TOML}"
    )


def test_a_sweep_spec(tmp_path: Path) -> None:
    path = tmp_path / "sweep.toml"
    path.write_bytes(TOML)
    assert refused(lambda: load_spec(path), SpecError) == f"{path}, {TOML_PLACE}, {EXPECTED_TOML}"
