"""Bytes at the library's door: refused in every field, naming it, never read.

Before, pydantic's lax mode read ``b"3"`` as the weight 3, ``b"C1"`` as the id ``C1``
and ``b"court"`` as the case type, in silence: bytes are no text a caller decoded, and
a council system passing them has a fault worth telling. One check for the whole kind
(``allocator.contract.models.refuse_bytes``, run for every field of every record and
policy table); one test per field below.
"""

from __future__ import annotations

from typing import Any

import pytest

import allocator
from allocator import InputError, Policy, PolicyError
from allocator.contract.models import Case, Practitioner
from allocator.contract.policy import Waiting, policy_over
from tests.builders import case, snapshot, worker

SNAP = snapshot([worker("P1"), worker("P2")], [case("C1", worker="P1"), case("R1")])
KINDS = [
    pytest.param(lambda b: b, id="bytes"),
    pytest.param(bytearray, id="bytearray"),
    pytest.param(memoryview, id="memoryview"),
]


def _as_bytes(value: Any) -> bytes:
    """A JSON value of the snapshot as the bytes of its text (a list: its first item's)."""
    text = value[0] if isinstance(value, list) and value else value
    return str("x" if text is None or text == [] else text).encode()


#: (the snapshot's list, the record's index, a field of its model), one per field.
RECORD_FIELDS = [
    *[pytest.param("practitioners", 1, f, id=f"worker-{f}") for f in Practitioner.model_fields],
    *[pytest.param("cases", 0, f, id=f"case-{f}") for f in Case.model_fields],
]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(("records", "index", "field"), RECORD_FIELDS)
def test_a_records_field_given_bytes_is_refused_naming_it(
    kind: Any, records: str, index: int, field: str
) -> None:
    data = SNAP.model_dump(mode="json", by_alias=True)
    record = data[records][index]
    value = kind(_as_bytes(record.get(field)))
    record[field] = [value] if isinstance(record.get(field), list) else value
    with pytest.raises(InputError) as raised:
        allocator.snapshot_from_dict(data)
    said = str(raised.value)
    assert f"{records}[{index}]" in said and f"field '{field}'" in said
    assert "bytes are no text or number" in said


@pytest.mark.parametrize("field", ["format", "as_of"])
def test_the_snapshots_own_fields_given_bytes_are_refused(field: str) -> None:
    data = SNAP.model_dump(mode="json", by_alias=True)
    data[field] = str(data[field]).encode()
    with pytest.raises(InputError, match=f"field '{field}' is bytes"):
        allocator.snapshot_from_dict(data)


#: One value per policy key, as bytes where the key holds one value, as a table or
#: list holding bytes where it holds many: the key named, the bytes refused.
POLICY_BYTES = [
    ("type_points", {"court": b"7"}, "type_points"),
    ("type_points", {b"court": 7}, "type_points"),
    ("complexity_multiplier", [b"1", 1, 1, 1], "complexity_multiplier"),
    ("points_per_fte", b"100", "points_per_fte"),
    ("grade_factor", {"nqsw": b"0.8"}, "grade_factor"),
    ("grades", {"nqsw": {"max_complexity": b"2"}}, "grades.nqsw.max_complexity"),
    ("leaving_window_days", b"14", "leaving_window_days"),
    ("long_absence_days", b"28", "long_absence_days"),
    ("max_new_families_per_day", b"3", "max_new_families_per_day"),
    ("look_ahead", [b"court"], "look_ahead"),
    ("priority_classes", [{"name": b"urgent", "cases": ["urgent"]}], "priority_classes"),
    ("over_cap_classes", [b"urgent"], "over_cap_classes"),
    ("over_cap_relief_after", b"statutory", "over_cap_relief_after"),
    ("costs", {"cost_per_fte": b"50000"}, "costs"),
    *[
        ("waiting", {key: b"1"}, f"waiting.{key}")
        for key in Waiting.model_fields
        if key != "type_weeks"
    ],
    ("waiting", {"type_weeks": {"court": b"12"}}, "waiting.type_weeks"),
]


def test_every_policy_key_has_a_bytes_case() -> None:
    assert {key for key, _, _ in POLICY_BYTES} == set(Policy.model_fields)


@pytest.mark.parametrize(("key", "value", "named"), POLICY_BYTES)
def test_a_policy_key_given_bytes_is_refused_naming_it(key: str, value: Any, named: str) -> None:
    with pytest.raises(PolicyError) as raised:
        policy_over(Policy(), {key: value}, "policy.toml")
    said = str(raised.value)
    assert f"policy.toml: key '{named}" in said, said
    assert "bytes are no text or number" in said or "got bytes" in said, said
    with pytest.raises(ValueError, match="bytes"):
        Policy(**{key: value})
