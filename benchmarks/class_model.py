"""HiGHS on one priority class's model alone: how far is a stretched day's class tier?

``python -m benchmarks.class_model [PRACTITIONERS] [SECONDS]`` builds the daily
model of the stretched scenario (:func:`benchmarks.scenarios.stretched`) holding only
the urgent and statutory cases, with every eligible worker (no pruning), and solves
its first two tiers lexicographically with the HiGHS backend
(:func:`allocator.engine.highs.solve_highs`) from the manager's rule's placements. It
prints each tier's value, bound and whether proved: a second opinion on the engine's
statutory figure and its bound at 1,000 practitioners, where the gap is open.
"""

from __future__ import annotations

import dataclasses
import sys
import time

from allocator.contract.policy import Policy
from allocator.domain.greedy import greedy_allocate
from allocator.domain.rules import ServiceState
from allocator.engine.highs import solve_highs
from allocator.engine.model import daily_input
from benchmarks.scenarios import stretched


def main(practitioners: int = 1000, seconds: float = 200.0) -> None:
    state = ServiceState.of(stretched(practitioners).snapshot(), Policy())
    cases = [c for c in state.to_allocate if state.priority_class[c] <= 1]
    every_pair = {c: state.eligible(c) for c in state.to_allocate}
    data = daily_input(state, every_pair, free=cases)
    data = dataclasses.replace(data, tiers=data.tiers[:2])
    kept = set(cases)
    start = {c: w for c, w in greedy_allocate(state).items() if c in kept}
    began = time.perf_counter()
    solution = solve_highs(data, start=start, time_limit=seconds)
    print(f"stretched-{practitioners}: {data.pairs} pairs, {time.perf_counter() - began:.1f} s")
    for key, tier in solution.tiers.items():
        print(f"  {key}: {tier.value} (bound {tier.bound}, proved {tier.proved})")


if __name__ == "__main__":
    args = sys.argv[1:]
    main(int(args[0]) if args else 1000, float(args[1]) if len(args) > 1 else 200.0)
