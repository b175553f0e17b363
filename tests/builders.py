"""Builders for tiny hand-checkable services, shared by the tests."""

from __future__ import annotations

from datetime import date
from typing import Any

from allocator.contract.models import Case, Practitioner, Snapshot

AS_OF = date(2026, 11, 23)


def worker(pid: str, **fields: Any) -> Practitioner:
    """A full-time social worker (cap 100 points) unless ``fields`` say otherwise."""
    values: dict[str, Any] = {"id": pid, "team": "A", "grade": "social_worker", "fte": 1.0}
    values.update(fields)
    return Practitioner(**values)


def case(cid: str, **fields: Any) -> Case:
    """A child-in-need case of weight 3 in its own family unless ``fields`` say otherwise."""
    values: dict[str, Any] = {
        "id": cid,
        "family": f"F{cid}",
        "type": "child_in_need",
        "complexity": 2,
        "weight": 3.0,
    }
    values.update(fields)
    return Case(**values)


def snapshot(practitioners: list[Practitioner], cases: list[Case]) -> Snapshot:
    return Snapshot(
        format="caseload-snapshot/1",
        as_of=AS_OF,
        practitioners=tuple(practitioners),
        cases=tuple(cases),
    )
