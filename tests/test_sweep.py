"""Policy sweeps: the spec, a two-cell sweep on a LocalCluster, resuming."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

pytest.importorskip("distributed")

from allocator.sweep import Cell, SpecError, cells_of, run_sweep

SPEC = {
    "days": 6,
    "seeds": [1],
    "methods": ["greedy"],
    "services": [{"name": "s8", "practitioners": 8, "seed": 2, "contracts": True}],
    "policies": [{"name": "cap100"}, {"name": "cap90", "points_per_fte": 90}],
}


def test_cells_are_the_product_in_order() -> None:
    cells = cells_of({**SPEC, "methods": ["engine", "greedy"], "seeds": [1, 2]})
    assert len(cells) == 2 * 2 * 2
    assert [(c.policy["name"], c.seed, c.method) for c in cells[:3]] == [
        ("cap100", 1, "engine"),
        ("cap100", 1, "greedy"),
        ("cap100", 2, "engine"),
    ]
    assert len({c.key for c in cells}) == len(cells)


def test_a_bad_spec_names_every_problem() -> None:
    bad = {
        "services": [{"name": "x", "practitioners": 5, "snapshot": "a.json"}],
        "policies": [{"name": "p", "points_per_fte": -1}],
        "methods": ["mip"],
        "colour": 1,
    }
    with pytest.raises(SpecError) as info:
        cells_of(bad)
    text = str(info.value)
    assert "unknown key 'colour'" in text
    assert "not both" in text
    assert "policies[0]" in text
    assert "method 'mip'" in text


@pytest.mark.slow
def test_two_cells_on_a_local_cluster_then_resumed(tmp_path: Path) -> None:
    import pandas as pd

    cells = cells_of(SPEC)
    seen: list[tuple[Cell, float]] = []
    target = run_sweep(cells, tmp_path, workers=2, on_done=lambda c, s: seen.append((c, s)))
    table = pd.read_parquet(target)
    assert list(table["policy"]) == ["cap100", "cap90"]
    assert (table["children"] > 0).all()
    assert not any(math.isnan(s) for _, s in seen)
    # Run again: both cells are found done and nothing is recomputed (no cluster).
    again: list[float] = []
    run_sweep(cells, tmp_path, workers=2, on_done=lambda c, s: again.append(s))
    assert len(again) == 2 and all(math.isnan(s) for s in again)
    assert pd.read_parquet(target).equals(table)
