"""The Senedd question's spec (issue 23, item 4): 22 Welsh councils, caps 80-100."""

from __future__ import annotations

from benchmarks.wales import (
    CAPS,
    SPEC,
    WALES_LOOKED_AFTER,
    looked_after,
    practitioners,
    read_councils,
    spec_text,
)


def test_the_shipped_spec_is_what_the_councils_make() -> None:
    # Edit examples/wales/councils.csv, then `python -m benchmarks.wales`.
    assert SPEC.read_text(encoding="utf-8") == spec_text(read_councils())


def test_22_councils_14_from_the_table_and_8_estimated_to_its_wales_row() -> None:
    councils = read_councils()
    assert len(councils) == 22 and len({c.name for c in councils}) == 22
    found = [c for c in councils if c.source == "statswales"]
    assert len(found) == 14 and sum(c.looked_after for c in found) == 3740
    # The estimates share the Wales row's remainder (7,200 - 3,740 = 3,460); each is
    # rounded to 5, so together they are within 5 x 8 / 2 of it.
    estimated = sum(c.looked_after for c in councils if c.source == "estimated")
    assert abs(estimated - (WALES_LOOKED_AFTER - 3740)) <= 20
    assert all(c.looked_after % 5 == 0 for c in councils)


def test_the_remainder_is_shared_in_proportion() -> None:
    # 100 shared 3:1 -> 75 and 25; 10 shared 1:1 -> 5 and 5.
    assert looked_after(100, {"a": 3, "b": 1}) == {"a": 75, "b": 25}
    assert looked_after(10, {"a": 1, "b": 1}) == {"a": 5, "b": 5}


def test_a_council_s_practitioners_follow_the_cited_ratios() -> None:
    # 352 looked after / 0.22 = 1,600 children; / 16.0 a FTE = 100 FTE; / 0.93 = 107.5.
    assert practitioners(352) == 108
    assert practitioners(0) == 1


def test_the_spec_is_valid_and_is_every_council_under_every_cap() -> None:
    import tomllib

    from allocator.simulation.sweep import cells_of

    data = tomllib.loads(spec_text(read_councils(), days=90, seeds=(1,)))
    cells = cells_of(data, "wales")
    assert len(cells) == 22 * len(CAPS)
    assert {c.policy["points_per_fte"] for c in cells} == set(CAPS)
    assert all(c.method == "greedy" and c.days == 90 for c in cells)
