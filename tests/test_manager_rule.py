"""The manager's rule (allocator.domain.greedy), one definition read by every greedy user."""

from __future__ import annotations

from allocator.domain.greedy import HeldFamily, choose_worker, relieve_over_cap


def test_choice_of_worker_sibling_then_previous_then_most_room() -> None:
    # Room: A 5, B 30, C 30, D 2. A sibling's worker comes first though B and C are
    # emptier; without one, a previous worker (the most recent first); without one,
    # the most room, the smallest id breaking the tie between B and C.
    room = {"A": 500, "B": 3000, "C": 3000, "D": 200}

    def fits(w: str) -> bool:
        return room[w] >= 300  # a 3-point case

    def pick(siblings: list[str], previous: list[str]) -> str | None:
        return choose_worker(
            sorted(room), fits, siblings=siblings, previous=previous, room=room.__getitem__
        )

    assert pick(["A"], ["C"]) == "A"
    assert pick(["D"], ["C", "A"]) == "C"  # D has no room: the most recent previous
    assert pick([], ["D"]) == "B"  # nobody known fits: most room, B before C
    room.update(A=0, B=0, C=0)
    assert pick([], []) is None


def test_over_cap_relief_smallest_family_that_suffices_else_the_heaviest() -> None:
    # 10 points over: B (one child, 12) and C (two children, 15) each suffice alone;
    # the family with fewer children goes. If B cannot go anywhere, C does.
    pool = [
        HeldFamily("B", 1, 1200),
        HeldFamily("C", 2, 1500),
        HeldFamily("D", 1, 500),
        HeldFamily("E", 1, 500),
    ]
    assert [f.key for f in relieve_over_cap(1000, pool, lambda f: True)] == ["B"]
    assert [f.key for f in relieve_over_cap(1000, pool, lambda f: f.key != "B")] == ["C"]
    # 30 over: nobody suffices, so the heaviest (C, 15), then B (12: 3 left), then the
    # smallest that suffices, D and E tied (one child, 5 points): D by id.
    taken = relieve_over_cap(3000, pool, lambda f: True)
    assert [f.key for f in taken] == ["C", "B", "D"]
    # Heaviest ties go by id too (the simulation once took the last id).
    tied = [HeldFamily("F2", 1, 400), HeldFamily("F1", 1, 400)]
    assert [f.key for f in relieve_over_cap(1000, tied, lambda f: True)] == ["F1", "F2"]
