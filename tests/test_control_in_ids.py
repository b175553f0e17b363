"""A control character in an id is refused at the door (issue 24: NUL refused at the door).

The attack: an export whose ids hold a NUL, an escape code or the bell. A NUL cannot be
stored in PostgreSQL's text, so a meeting on a PostgreSQL log solved the morning and
then stopped with "cannot read the decision log"; an escape code reached terminals and
files. Every id field of every input is one rule (``allocator.contract.models.Id``): each is
refused with one sentence naming the file, the row and the field, exit 2.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from allocator.cli import main
from allocator.io import InputError, load_plan, load_snapshot
from tests.test_door import case_data, practitioner_data, snapshot_text

#: NUL, the escape of a terminal's colour code, the bell, DEL, a line break inside, an
#: 8-bit CSI (C1).
CONTROLS = ["C\x00X", "C\x1b[31mX", "C\x07X", "C\x7fX", "C\nX", "C\x9b2JX"]
EXPECTED = "expected an id (not empty, no space at either end, no control or invisible character)"


def _snapshot(field: str, value: str) -> tuple[list[Any], list[Any]]:
    """Practitioners and cases with ``value`` in one id ``field`` (``practitioner.id``
    or a case's field), every other id as meant."""
    if field == "practitioner.id":
        return [practitioner_data(id=value)], [case_data()]
    ids = [value] if field in ("previous_workers", "excluded_workers") else value
    return [practitioner_data()], [case_data(**{field: ids})]


FIELDS = [
    "practitioner.id",
    "id",
    "family",
    "worker",
    "previous_workers",
    "pinned_worker",
    "excluded_workers",
]


@pytest.mark.parametrize("value", CONTROLS, ids=["nul", "escape", "bell", "del", "newline", "c1"])
@pytest.mark.parametrize("field", FIELDS)
def test_a_control_character_in_any_snapshot_id_is_refused(
    tmp_path: Path, field: str, value: str
) -> None:
    staff, cases = _snapshot(field, value)
    path = tmp_path / "s.json"
    path.write_text(snapshot_text(practitioners=staff, cases=cases))
    with pytest.raises(InputError) as caught:
        load_snapshot(path)
    problems = caught.value.problems
    name = "id" if field == "practitioner.id" else field
    row = "practitioners[0]" if field == "practitioner.id" else "cases[0]"
    # A reference to a worker may instead be told it names no practitioner: refused
    # either way, where it is written.
    assert any(row in p and f"field '{name}" in p and "expected" in p for p in problems), problems
    # The value is shown escaped, never raw.
    assert not any(ch in p for p in problems for ch in "\x00\x1b\x07\x7f\x9b")


def test_a_control_character_in_a_csv_cell_id_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "service"
    folder.mkdir()
    (folder / "snapshot.csv").write_text("format,as_of\ncaseload-snapshot/1,2026-11-23\n")
    (folder / "practitioners.csv").write_text("id,team,grade,fte\nP1,North,senior,1\n")
    (folder / "cases.csv").write_text("id,family,type,complexity\nC\x1b[2J1,F1,child_in_need,2\n")
    result = CliRunner().invoke(main, ["allocate", str(folder)])
    assert result.exit_code == 2
    assert "cases.csv" in result.output and "line 2" in result.output
    assert "field 'id'" in result.output and EXPECTED in result.output
    assert "\x1b" not in result.output and "Traceback" not in result.output


def test_a_control_character_in_a_plans_case_id_is_refused(tmp_path: Path) -> None:
    plan = {
        "format": "allocation-plan/1",
        "as_of": "2026-11-23",
        "status": "optimal",
        "assignments": [{"case": "C\x001", "worker": "P1", "reasons": []}],
        "unallocated": [],
    }
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(plan))
    with pytest.raises(InputError) as caught:
        load_plan(path)
    problems = caught.value.problems
    assert any("field 'case'" in p and "no control or invisible character" in p for p in problems)


def test_serve_refuses_a_nul_in_an_id_before_it_solves_or_logs(tmp_path: Path) -> None:
    # Before: solved, then "cannot read the decision log ...: PostgreSQL text fields
    # cannot contain NUL (0x00) bytes" (the snapshot's case ids are logged).
    path = tmp_path / "s.json"
    path.write_text(snapshot_text(cases=[case_data(id="C\x001")]))
    log = tmp_path / "log.db"
    result = CliRunner().invoke(main, ["serve", str(path), "--db", str(log), "--port", "0"])
    assert result.exit_code == 2
    assert "cases[0]" in result.output and "field 'id'" in result.output
    assert EXPECTED in result.output and "solving" not in result.output
    assert not log.exists()


def test_ids_and_labels_refuse_what_a_persons_name_refuses_as_hidden() -> None:
    # One definition of a character that hides (contract.models.hides, by Unicode
    # category): the id and label patterns refuse exactly those (with the controls),
    # as a person's name in the decision log does. Every character of the Basic
    # Multilingual Plane is tried; before, ids listed 12 of them and let U+180E, U+2028,
    # U+3164 (a Hangul filler) and the other format characters through.
    import unicodedata

    from pydantic import TypeAdapter, ValidationError

    from allocator.contract.models import Id, Label, hides

    ids, labels = TypeAdapter(Id), TypeAdapter(Label)

    def refused(adapter: TypeAdapter[str], value: str) -> bool:
        try:
            adapter.validate_python(value)
        except ValidationError:
            return True
        return False

    controls = {chr(c) for c in (*range(0x20), *range(0x7F, 0xA0))}
    controls |= {chr(c) for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A))}
    allowed_in_labels = {"\t", "\n", "\r"}
    for code in range(0x10000):
        ch = chr(code)
        if unicodedata.category(ch) == "Cs":  # a lone surrogate is no text at all
            continue
        expected = hides(ch) or ch in controls
        assert refused(ids, f"A{ch}B") == expected, f"U+{code:04X} in an id"
        expected_label = expected and ch not in allowed_in_labels
        assert refused(labels, f"A{ch}B") == expected_label, f"U+{code:04X} in a label"


@pytest.mark.parametrize("code", [0xE0001, 0xE0020, 0xE0100, 0xE01EF, 0xE0FFF, 0x1D173, 0x1BCA0])
def test_ids_and_labels_refuse_the_hidden_characters_beyond_the_first_plane(code: int) -> None:
    # The tags, the variation selectors 17-256 and the reserved ignorable code points
    # (U+E0000-U+E0FFF), the musical and shorthand format controls: "P1" and "P1" with
    # one of these after it would be two workers who look the same on every page.
    from pydantic import TypeAdapter, ValidationError

    from allocator.contract.models import Id, Label, hides

    assert hides(chr(code))
    for adapter in (TypeAdapter(Id), TypeAdapter(Label)):
        with pytest.raises(ValidationError):
            adapter.validate_python(f"P1{chr(code)}")
