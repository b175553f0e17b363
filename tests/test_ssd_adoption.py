"""Adoption from the SSD: ``ssd_permanence`` and ``ssd_legal_status``, worked out by hand.

The example extract (``tests/test_ssd_import.py``) holds C003's reversed adoption
plan and care order (C2): C003 stays ``court``. Each test adds rows to a copy:

- an ADM decision (2026-06-01) for C002, a child in need: the mapping's order puts
  ``ssd_permanence`` before ``ssd_cin_episodes``, so C002 becomes ``adoption``;
- the same decision reversed before ``as_of``, or an adoption order made: not adoption;
- legal status E1 (placement order) for C004: adoption; D1 is dropped from
  ``adoption_legal_statuses`` in the mapping: a D1 row is then not adoption.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from allocator.io import InputError
from tests.test_ssd_import import EXAMPLE, edit, run


@pytest.fixture
def extract(tmp_path: Path) -> Path:
    """A private copy of the example extract and its mapping and side tables."""
    shutil.copytree(EXAMPLE, tmp_path / "ssd")
    return tmp_path / "ssd"


PERMANENCE = "extract/ssd_permanence.csv"
LEGAL = "extract/ssd_legal_status.csv"


def add_row(path: Path, **cells: str) -> None:
    def change(fields, rows):  # type: ignore[no-untyped-def]
        rows.append({f: cells.get(f, "") for f in fields})

    edit(path, change)


def types(folder: Path) -> dict[str, str]:
    snapshot, _ = run(folder)
    return {c.id: c.type.value for c in snapshot.cases}


def test_the_example_has_no_adoption(extract: Path) -> None:
    assert "adoption" not in types(extract).values()
    assert types(extract)["C003"] == "court"


def test_an_adm_decision_makes_adoption(extract: Path) -> None:
    add_row(
        extract / PERMANENCE,
        perm_table_id="P2",
        perm_person_id="C002",
        perm_adm_decision_date="2026-06-01",
    )
    snapshot, report = run(extract)
    case = {c.id: c for c in snapshot.cases}["C002"]
    assert case.type.value == "adoption"
    assert case.opened is not None and case.opened.isoformat() == "2026-03-01"  # CIN start
    assert report.counts["open cases of type adoption"] == 1


@pytest.mark.parametrize(
    "ended",
    [
        {"perm_decision_reversed_date": "2026-10-01"},
        {"perm_permanence_order_date": "2026-11-01"},
    ],
)
def test_a_reversed_decision_or_an_order_ends_it(extract: Path, ended: dict[str, str]) -> None:
    add_row(
        extract / PERMANENCE,
        perm_table_id="P2",
        perm_person_id="C002",
        perm_adm_decision_date="2026-06-01",
        **ended,
    )
    assert types(extract)["C002"] == "child_in_need"


def test_a_placement_order_alone_makes_adoption(extract: Path) -> None:
    add_row(
        extract / PERMANENCE,
        perm_table_id="P2",
        perm_person_id="C002",
        perm_placement_order_date="2026-07-01",
    )
    assert types(extract)["C002"] == "adoption"


def test_legal_status_codes_come_from_the_mapping(extract: Path) -> None:
    add_row(
        extract / LEGAL,
        lega_legal_status_id="L2",
        lega_person_id="C004",
        lega_legal_status="E1",
        lega_legal_status_start_date="2026-10-25",
    )
    add_row(
        extract / LEGAL,
        lega_legal_status_id="L3",
        lega_person_id="C002",
        lega_legal_status="D1",
        lega_legal_status_start_date="2026-10-25",
    )
    assert types(extract)["C004"] == "adoption"
    assert types(extract)["C002"] == "adoption"
    mapping = (extract / "mapping.toml").read_text()
    (extract / "mapping.toml").write_text(
        mapping.replace('statuses = ["E1", "D1"]', 'statuses = ["E1"]')
    )
    assert types(extract)["C002"] == "child_in_need"
    _, report = run(extract)
    assert report.counts["ssd_legal_status rows of other statuses (not used)"] == 2  # C2, D1


def test_an_ended_legal_status_is_not_adoption(extract: Path) -> None:
    add_row(
        extract / LEGAL,
        lega_legal_status_id="L2",
        lega_person_id="C004",
        lega_legal_status="E1",
        lega_legal_status_start_date="2026-10-25",
        lega_legal_status_end_date="2026-11-01",
    )
    assert types(extract)["C004"] == "child_in_need"


def test_bad_permanence_date_names_file_line_and_field(extract: Path) -> None:
    add_row(
        extract / PERMANENCE,
        perm_table_id="P2",
        perm_person_id="C002",
        perm_adm_decision_date="2026-06-01",
        perm_decision_reversed_date="31/02/2026",
    )
    with pytest.raises(InputError) as caught:
        run(extract)
    assert (
        "ssd_permanence.csv, line 3 (id P2): field 'perm_decision_reversed_date' is "
        "'31/02/2026', expected a date" in str(caught.value)
    )


def test_permanence_for_an_unknown_child(extract: Path) -> None:
    add_row(
        extract / PERMANENCE,
        perm_table_id="P2",
        perm_person_id="C404",
        perm_adm_decision_date="2026-06-01",
    )
    with pytest.raises(InputError) as caught:
        run(extract)
    assert (
        "ssd_permanence.csv, line 3 (id P2): field 'perm_person_id' is 'C404', expected a "
        "pers_person_id of ssd_person" in str(caught.value)
    )


def test_legal_status_without_a_start_date(extract: Path) -> None:
    add_row(
        extract / LEGAL, lega_legal_status_id="L2", lega_person_id="C004", lega_legal_status="E1"
    )
    with pytest.raises(InputError) as caught:
        run(extract)
    assert (
        "ssd_legal_status.csv, line 3 (id L2): field 'lega_legal_status_start_date' is empty"
        in str(caught.value)
    )


def test_missing_permanence_table(extract: Path) -> None:
    (extract / PERMANENCE).unlink()
    with pytest.raises(InputError) as caught:
        run(extract)
    assert "ssd_permanence.csv: table missing" in str(caught.value)
