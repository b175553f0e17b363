"""The CP-SAT solver settings every model in the engine is solved with."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ortools.sat.python import cp_model

#: Work units per second of a user's time limit. CP-SAT does 0.34 to 0.47 units a
#: second of CPU on these models on the 2-core machine we measure on (the stretched
#: 150-practitioner day: 10.5 units in 24.8 CPU seconds, whole models included), and
#: the Python side takes time too. 0.3 leaves room for a machine shared with other
#: work, so a search normally ends on its work budget, the same on any machine, before
#: the wall-clock guard (measured: the same day took 37 s of wall time for 10.5 units
#: with two other jobs on the machine).
WORK_PER_SECOND = 0.3


@dataclass(frozen=True)
class Progress:
    """Where a running solve is, for a progress display (no solver types).

    Attributes
    ----------
    tier
        The key of the tier being solved (``unallocated_statutory``, ``balance`` ...).
    stage, stages
        Its stage, counted from 1, of how many.
    value
        The best plan's value on that tier so far, in plan units.
    bound
        The best value any plan could reach on it (with the tiers above held), as far
        as proved so far.
    """

    tier: str
    stage: int
    stages: int
    value: int | float
    bound: int | float


#: A callable told of each step of a solve (the command line draws it; the engine
#: knows nothing of the display).
ProgressCallback = Callable[[Progress], None]


def configured_solver(
    *, seconds: float, work: float | None, seed: int, workers: int, interleave: bool = False
) -> cp_model.CpSolver:
    """A CP-SAT solver limited by ``work`` (deterministic units) and ``seconds`` (wall).

    The work limit is what makes a run reproducible; the wall-clock limit is only a
    safety net. With more than one worker the interleaved search is used, which is
    deterministic; CP-SAT's parallel portfolio is not. ``interleave`` asks for it on
    one worker too: CP-SAT then takes turns between its full search and its own
    large-neighbourhood workers, still deterministically.
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

    params.linearization_level = 2
    params.symmetry_level = 0
    params.cp_model_probing_level = 0
    # Ctrl-C belongs to the command line, which stops cleanly with no half-written
    # plan; CP-SAT's own handler would only end the current solve.
    params.catch_sigint_signal = False
    return solver
