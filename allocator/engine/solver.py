"""The CP-SAT solver settings every model in the engine is solved with."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ortools.sat.python import cp_model


def configured_solver(
    *,
    seconds: float,
    work: float | None,
    seed: int,
    workers: int,
    interleave: bool = False,
    lp: bool = True,
) -> cp_model.CpSolver:
    """A CP-SAT solver limited by ``work`` (deterministic units) and ``seconds`` (wall).

    The work limit is what makes a run reproducible; the wall-clock limit is only a
    safety net. With more than one worker the interleaved search is used, which is
    deterministic; CP-SAT's parallel portfolio is not. ``interleave`` asks for it on
    one worker too: CP-SAT then takes turns between its full search and its own
    large-neighbourhood workers, still deterministically. ``lp`` ``False`` searches
    without the linear relaxation (``linearization_level`` 0): no bound beyond
    propagation, but every unit spent on the search (:data:`LP_FREE_SHARE` in
    :mod:`allocator.engine.solve` says where that pays).
    """
    # Imported here, where a solve happens: loading OR-Tools takes about half a second.
    from ortools.sat.python import cp_model

    solver = cp_model.CpSolver()
    params = solver.parameters
    params.max_time_in_seconds = max(0.05, seconds)
    if work is not None:
        params.max_deterministic_time = max(0.01, work)
    params.random_seed = seed
    params.num_workers = workers
    params.interleave_search = workers > 1 or interleave
    # Measured on synthetic services: level 2 puts the exactly-one and family
    # constraints into the LP (level 1 left a stage's bound below zero for a tier of
    # non-negative slacks); probing and symmetry detection cost more than they save.

    params.linearization_level = 2 if lp else 0
    params.symmetry_level = 0
    params.cp_model_probing_level = 0
    # Ctrl-C belongs to the command line, which stops cleanly with no half-written
    # plan; CP-SAT's own handler would only end the current solve.
    params.catch_sigint_signal = False
    return solver
