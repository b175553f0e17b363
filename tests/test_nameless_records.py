"""A record refused for its id, and what refers to it: a practitioner with no id makes
the references to an unknown worker impossible to tell from a typo, so they are said in
one sentence (with the ids they give), not as twenty faults of the cases; a case with
no id is one problem (nothing in a snapshot refers to a case id)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from allocator.io import InputError, load_snapshot
from tests.builders import case, snapshot, worker

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
UNKNOWN = "expected the id of one of the practitioners"


def problems(path: Path, referrals: Path | None = None) -> list[str]:
    with pytest.raises(InputError) as caught:
        load_snapshot(path, referrals)
    return caught.value.problems


def service(**practitioner_3: Any) -> dict[str, Any]:
    # P1 holds C1 and C2 (C2 pinned to P1); P2 holds C3; P3 holds nothing. The second
    # practitioner's record is then changed as the test says.
    snap = snapshot(
        [worker("P1"), worker("P2"), worker("P3")],
        [
            case("C1", worker="P1"),
            case("C2", worker="P1", pinned_worker="P1"),
            case("C3", worker="P2"),
        ],
    )
    data = snap.model_dump(mode="json", by_alias=True, exclude_none=True)
    data["practitioners"][0].update(practitioner_3)
    data["practitioners"][0] = {k: v for k, v in data["practitioners"][0].items() if v != "DROP"}
    return data


@pytest.mark.parametrize(
    ("change", "refused"),
    [
        ({"id": "DROP"}, "required field 'id' is missing"),
        ({"id": ""}, "field 'id'"),
        ({"id": "   "}, "field 'id'"),
        ({"id": 1}, "field 'id'"),
    ],
    ids=["missing", "empty", "blank", "not-text"],
)
def test_a_practitioner_with_no_id_gives_one_sentence_for_the_references(
    tmp_path: Path, change: dict[str, Any], refused: str
) -> None:
    path = tmp_path / "s.json"
    path.write_text(json.dumps(service(**change)))
    first, second = problems(path)
    assert first.startswith(f"{path}, practitioners[0]") and refused in first
    # C1's worker and C2's worker and pin name P1: three references, not three faults.
    assert second == (
        f"{path}: references to workers were not checked, as practitioners[0] has no id: "
        "3 references in the cases name a worker who is not among the practitioners with "
        "an id ('P1'); give it its id and they are checked."
    )


def test_a_typo_among_them_is_still_named(tmp_path: Path) -> None:
    data = service(id="DROP")
    data["cases"][2]["worker"] = "P22"  # a typo of P2, not the nameless P1
    path = tmp_path / "s.json"
    path.write_text(json.dumps(data))
    _, second = problems(path)
    assert "('P1', 'P22')" in second and "3 references" not in second


def test_with_every_practitioner_named_an_unknown_worker_is_the_cases_fault(
    tmp_path: Path,
) -> None:
    data = service()
    data["cases"][2]["worker"] = "P22"
    path = tmp_path / "s.json"
    path.write_text(json.dumps(data))
    (only,) = problems(path)
    assert only.startswith(f"{path}, cases[2] (id C3): field 'worker' is 'P22', {UNKNOWN}")


def test_a_practitioners_csv_row_with_an_empty_id_cell(tmp_path: Path) -> None:
    # The trial's fault in a CSV folder: P0004's id cell emptied; 20 cases name P0004.
    folder = shutil.copytree(EXAMPLES / "service-csv", tmp_path / "service")
    staff = folder / "practitioners.csv"
    lines = staff.read_text(encoding="utf-8").split("\n")
    assert lines[4].startswith("P0004,")
    lines[4] = lines[4][len("P0004") :]
    staff.write_text("\n".join(lines), encoding="utf-8")
    found = problems(folder)
    assert len(found) == 2, found
    assert found[0].startswith(f"{staff}, line 5: required field 'id' is empty")
    assert found[1].startswith(
        f"{staff}: references to workers were not checked, as line 5 has no id: "
    )
    assert "('P0004')" in found[1]
    assert not any(UNKNOWN in p for p in found)


def test_a_referrals_pin_to_an_unknown_worker_is_among_them(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    path.write_text(json.dumps(service(id="DROP")))
    referrals = tmp_path / "r.json"
    referrals.write_text(
        json.dumps([case("R1", pinned_worker="P9").model_dump(mode="json", exclude_none=True)])
    )
    _, second = problems(path, referrals)
    assert "4 references" in second and "('P1', 'P9')" in second


def test_a_case_with_no_id_is_one_problem(tmp_path: Path) -> None:
    data = service()
    del data["cases"][1]["id"]
    path = tmp_path / "s.json"
    path.write_text(json.dumps(data))
    (only,) = problems(path)
    assert only.startswith(f"{path}, cases[1]: required field 'id' is missing")
