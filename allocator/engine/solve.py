"""Lexicographic solve of the allocation model in stages, from a greedy warm start.

Tiers are grouped into as few stages as the solver's integer range allows: within
a stage, tier ``i`` is weighted by the product of ``range + 1`` of the tiers after
it, so no amount of improvement below can pay for one unit of a tier above (a proof,
not a tuning choice). After a stage, its objective is bounded by the value reached
and the next stage starts from that solution.

Reproducibility: CP-SAT's parallel portfolio is not deterministic, so with more
than one worker the search is interleaved (``interleave_search``), which is; a fixed
``random_seed`` fixes the rest. A run that ends by proof or by the deterministic
work limit is reproducible; one cut by the wall-clock limit may not be (the plan's
status is then ``feasible`` and says so).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

from ortools.sat.python import cp_model

from allocator.engine.candidates import candidate_workers
from allocator.engine.model import AllocationModel, LinearExpr
from allocator.greedy import greedy_allocate
from allocator.objectives import TIERS, evaluate, tier_vector
from allocator.rules import ServiceState

@dataclass(frozen=True)
class SolverSettings:
    """Settings a user may tune; the defaults are deterministic.

    Attributes
    ----------
    time_limit
        Wall-clock seconds for the whole solve.
    seed
        CP-SAT ``random_seed``.
    workers
        CP-SAT search workers (threads).
    deterministic_time
        CP-SAT deterministic work limit for the whole solve (machine-independent
        units); with it, a cut-off run is reproducible too. ``None`` for none.
    """

    time_limit: float = 30.0
    seed: int = 0
    workers: int = 1
    deterministic_time: float | None = None


@dataclass
class Solution:
    """What the engine found: placements, proof status and lexicographic bounds."""

    placed: dict[str, str]
    proved: bool
    pruned: bool
    bounds: dict[str, int | float] = field(default_factory=dict)
    seconds: float = 0.0
    from_greedy: bool = False
    stages: list[str] = field(default_factory=list)
    variables: int = 0


@dataclass
class _Stage:
    tiers: list[str]
    objective: LinearExpr
    weights: list[int]


def _tier_expressions(m: AllocationModel) -> dict[str, tuple[LinearExpr, int]]:
    """Each tier as a non-negative minimised expression, with its largest value."""
    n = len(m.cases)
    return {
        "urgent_unallocated": (m.urgent_unallocated, n),
        "unallocated": (m.unallocated, n),
        "siblings_apart": (m.siblings_apart, m.siblings_apart_max),
        "previous_worker_returns": (sum(m.not_back) + n - len(m.not_back), n),
        "balance": (m.balance, m.balance_max),
        "outside_area": (m.outside_area, n),
    }


def _minimised(key: str, value: int | float, n: int) -> int | float:
    """A tier's plan value as its minimised expression's value (and back: an involution)."""
    return n - value if key == "previous_worker_returns" else value


#: Tiers solved together in one stage. Each other tier has a stage of its own: one
#: objective combining tiers by large weights is lexicographically exact but proved
#: far slower by CP-SAT than a sequence of simple objectives (measured: a 40-case
#: day unproved after 10 s as one stage, proved in well under a second in stages).
STAGES: tuple[tuple[str, ...], ...] = (
    ("urgent_unallocated", "unallocated"),
    ("siblings_apart",),
    ("previous_worker_returns",),
    ("balance",),
    ("outside_area",),
)


def _stages(m: AllocationModel) -> list[_Stage]:
    exprs = _tier_expressions(m)
    stages = []
    for keys in STAGES:
        weights = []
        for i in range(len(keys)):
            w = 1
            for later in keys[i + 1 :]:
                w *= exprs[later][1] + 1
            weights.append(w)
        objective = sum(w * exprs[k][0] for w, k in zip(weights, keys, strict=True))
        stages.append(_Stage(list(keys), objective, weights))
    return stages


def _decode_bounds(
    stage: _Stage, bound: float, values: dict[str, int | float], n: int
) -> dict[str, int | float]:
    """Lexicographic per-tier bounds (in plan units) from a stage's combined bound.

    Tier ``i``'s bound assumes the tiers above it keep the values found; once a tier
    is found short of its bound the tiers below have no meaningful bound.
    """
    out: dict[str, int | float] = {}
    rest = bound
    for key, weight in zip(stage.tiers, stage.weights, strict=True):
        value = _minimised(key, values[key], n)
        tier_bound = max(0, math.ceil(rest / weight - 1e-9) if weight == stage.weights[-1]
                         else int(rest // weight))
        out[key] = _minimised(key, tier_bound, n)
        if tier_bound < value:
            break
        rest -= value * weight
    return out


def solve(state: ServiceState, settings: SolverSettings | None = None) -> Solution:
    """Allocate ``state.to_allocate`` optimally, or as well as the time allows.

    Never worse than the greedy rule: the greedy plan is the solver's first hint,
    and if the solver returns nothing better, the greedy plan is returned.
    """
    settings = settings or SolverSettings()
    started = time.perf_counter()
    greedy = greedy_allocate(state)
    if not state.to_allocate:
        return Solution(placed={}, proved=True, pruned=False, seconds=0.0)
    candidates, pruned = candidate_workers(state, greedy)
    m = AllocationModel(state, candidates)
    m.hint(greedy)

    placed = dict(greedy)
    proved = True
    bounds: dict[str, int | float] = {}
    log: list[str] = []
    stages = _stages(m)
    for index, stage in enumerate(stages):
        remaining = settings.time_limit - (time.perf_counter() - started)
        solver = cp_model.CpSolver()
        params = solver.parameters
        params.max_time_in_seconds = max(0.1, remaining / (len(stages) - index))
        if settings.deterministic_time is not None:
            params.max_deterministic_time = settings.deterministic_time / len(stages)
        params.random_seed = settings.seed
        params.num_workers = settings.workers
        params.interleave_search = settings.workers > 1
        # Measured on synthetic services: probing and symmetry detection cost more
        # presolve time than they save on this assignment structure.
        params.symmetry_level = 0
        params.cp_model_probing_level = 0
        m.model.minimize(stage.objective)
        status = solver.solve(m.model)
        log.append(f"{'+'.join(stage.tiers)}: {solver.status_name(status)}")
        if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            proved = False
            break
        found = m.placements(solver)
        if tier_vector(evaluate(state, found)) <= tier_vector(evaluate(state, placed)):
            placed = found
        if status != cp_model.OPTIMAL and proved:
            proved = False
            values = evaluate(state, placed)
            bounds.update(
                _decode_bounds(stage, solver.best_objective_bound, values, len(m.cases))
            )
        # Later stages keep every tier of this one at the value reached. One bound
        # per tier propagates far better than one bound on the weighted sum.
        reached = evaluate(state, placed)
        exprs = _tier_expressions(m)
        for key in stage.tiers:
            expr = exprs[key][0]
            m.model.add(expr <= _minimised(key, reached[key], len(m.cases)))
        m.hint(placed)
    return Solution(
        placed=placed,
        proved=proved,
        pruned=pruned,
        bounds=bounds,
        seconds=time.perf_counter() - started,
        from_greedy=placed == greedy,
        stages=log,
        variables=len(m.x),
    )
