"""A loader given data instead of a path says so, and what to use instead.

``load_snapshot({...})`` met pathlib's "expected str, bytes or os.PathLike object, not
dict"; each ``load_*`` the README lists now names the argument, the kind given and
the function for data already in memory.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import allocator
from allocator.io.plans import load_pending_handovers

SLIPS: list[tuple[str, Callable[[], Any], str]] = [
    ("load_snapshot", lambda: allocator.load_snapshot({"cases": []}), "path is a dict"),
    ("load_snapshot", lambda: allocator.load_snapshot(b"s.json"), "path is a bytes"),
    (
        "load_snapshot",
        lambda: allocator.load_snapshot("s.json", referrals=[{"id": "R1"}]),
        "referrals is a list",
    ),
    ("load_plan", lambda: allocator.load_plan({"status": "optimal"}), "path is a dict"),
    ("load_policy", lambda: allocator.load_policy({"points_per_fte": 90}), "path is a dict"),
    ("load_pending_handovers", lambda: load_pending_handovers(7), "path is an int"),
]


@pytest.mark.parametrize(("call", "slip", "said"), SLIPS, ids=[f"{c}-{s}" for c, _, s in SLIPS])
def test_data_given_for_a_path_is_refused_naming_what_to_use(
    call: str, slip: Callable[[], Any], said: str
) -> None:
    with pytest.raises(TypeError) as raised:
        slip()
    message = str(raised.value)
    assert message.startswith(f"{call}: {said} ("), message
    assert "expected a file path" in message and "PathLike object" not in message


def test_the_snapshot_loader_points_at_snapshot_from_dict() -> None:
    with pytest.raises(TypeError, match=r"use allocator\.snapshot_from_dict\(data\)"):
        allocator.load_snapshot({"format": "caseload-snapshot/1"})  # type: ignore[arg-type]


def test_paths_of_either_kind_still_load() -> None:
    root = Path(__file__).parent.parent / "examples"
    assert allocator.load_snapshot(root / "service.json").practitioners
    assert allocator.load_snapshot(str(root / "service.json")).practitioners
    assert allocator.load_policy(None) == allocator.Policy()
