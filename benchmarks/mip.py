"""The daily model on the HiGHS backend, every eligible pair in: the reference.

The model is the engine's own (:func:`allocator.engine.model.daily_input`, the rules
and tiers of :class:`allocator.engine.core.Formulation`), solved by
:func:`allocator.engine.highs.solve_highs` with one difference on purpose:
**every** eligible (case, worker) pair is a column, never a pruned candidate subset,
so a proof here is a proof for the whole problem.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from allocator.domain.rules import ServiceState
from allocator.engine.highs import solve_highs
from allocator.engine.model import daily_input, minimised


@dataclass
class MipSolution:
    """What HiGHS found, in the plan's keys and units.

    Attributes
    ----------
    placed
        Case id to worker id.
    proved
        Every stage proved optimal within the time limit.
    values
        Each tier's value as the backend computed it (plan units), for
        cross-checking against :func:`allocator.domain.objectives.evaluate`.
    bounds
        For each tier not proved: the best value any plan could reach with the tiers
        above at their values (plan units).
    seconds
        Wall time of the whole run.
    stages
        One line per stage.
    columns
        (case, worker) pairs.
    """

    placed: dict[str, str]
    proved: bool
    values: dict[str, int | float] = field(default_factory=dict)
    bounds: dict[str, int | float] = field(default_factory=dict)
    seconds: float = 0.0
    stages: list[str] = field(default_factory=list)
    columns: int = 0


def solve_mip(
    state: ServiceState,
    *,
    time_limit: float = 120.0,
    threads: int = 1,
    start: Mapping[str, str] | None = None,
) -> MipSolution:
    """Solve the day's allocation lexicographically with HiGHS, every eligible pair in.

    Parameters
    ----------
    state
        The service.
    time_limit
        Wall-clock seconds for the whole run (building included); see
        :func:`~allocator.engine.highs.solve_highs`.
    threads
        HiGHS threads.
    start
        Placements to start the first stage from (the harness passes the greedy
        plan, as the engine starts from it); a start never affects the proof.
    """
    if not state.to_allocate:
        return MipSolution(placed={}, proved=True)
    every_pair = {c: state.eligible(c) for c in state.to_allocate}
    solution = solve_highs(
        daily_input(state, every_pair), start=start, time_limit=time_limit, threads=threads
    )
    n = len(state.to_allocate)
    return MipSolution(
        placed=solution.decisions,
        proved=solution.proved,
        values={k: minimised(k, t.value, n) for k, t in solution.tiers.items()},
        bounds={k: minimised(k, t.bound, n) for k, t in solution.tiers.items() if not t.proved},
        seconds=solution.seconds,
        stages=solution.stages,
        columns=solution.variables,
    )
