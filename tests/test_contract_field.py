"""The practitioner's `contract` and `contract_end` (docs/FORMAT.md, "Contracts")."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from allocator.contract.models import Contract
from allocator.io import InputError, load_snapshot, write_snapshot
from tests.builders import snapshot, worker


def test_contract_defaults_to_permanent() -> None:
    assert worker("P1").contract is Contract.PERMANENT
    assert worker("P1").contract_end is None


@pytest.mark.parametrize("target", ["snap.json", "snap"])
def test_contract_round_trips_through_json_and_csv(tmp_path: Path, target: str) -> None:
    service = snapshot(
        [worker("P1", contract="agency", contract_end=date(2027, 3, 31)), worker("P2")], []
    )
    assert load_snapshot(write_snapshot(service, tmp_path / target)) == service


def test_unknown_contract_names_field_and_allowed_values(tmp_path: Path) -> None:
    data = json.loads(snapshot([worker("P1")], []).model_dump_json())
    data["practitioners"][0]["contract"] = "zero_hours"
    path = tmp_path / "snap.json"
    path.write_text(json.dumps(data))
    with pytest.raises(InputError) as caught:
        load_snapshot(path)
    message = "\n".join(caught.value.problems)
    assert "contract" in message and "fixed_term" in message and "P1" in message
