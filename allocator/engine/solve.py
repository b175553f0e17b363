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

import time
from dataclasses import dataclass, field

from ortools.sat.python import cp_model

from allocator.engine.candidates import candidate_workers
from allocator.engine.model import AllocationModel, LinearExpr
from allocator.greedy import greedy_allocate
from allocator.objectives import TIERS, evaluate, tier_vector
from allocator.rules import ServiceState

#: Largest stage objective magnitude: doubles hold integers exactly below 2**53.
MAX_STAGE_MAGNITUDE = 2**52


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
    """Each tier as a minimised expression with an upper bound on its magnitude."""
    n = len(m.cases)
    return {
        "urgent_unallocated": (m.urgent_unallocated, n),
        "unallocated": (m.unallocated, n),
        "siblings_apart": (m.siblings_apart, m.siblings_apart_max),
        "previous_worker_returns": (-m.previous_worker_returns, n),
        "balance": (m.balance, m.balance_max),
        "outside_area": (m.outside_area, n),
    }


def _stages(m: AllocationModel) -> list[_Stage]:
    exprs = _tier_expressions(m)
    groups: list[list[str]] = [[]]
    magnitude = 1
    for tier in TIERS:
        size = exprs[tier.key][1] + 1
        if groups[-1] and magnitude * size > MAX_STAGE_MAGNITUDE:
            groups.append([])
            magnitude = 1
        groups[-1].append(tier.key)
        magnitude *= size
    stages = []
    for keys in groups:
        weights = []
        for i in range(len(keys)):
            w = 1
            for later in keys[i + 1 :]:
                w *= exprs[later][1] + 1
            weights.append(w)
        objective = sum(w * exprs[k][0] for w, k in zip(weights, keys, strict=True))
        stages.append(_Stage(keys, objective, weights))
    return stages


def _decode_bounds(stage: _Stage, bound: float, values: dict[str, int | float]) -> dict[str, int]:
    """Lexicographic per-tier bounds from a stage's combined bound.

    Tier ``i``'s bound assumes the tiers above it keep the values found; once a tier
    is found short of its bound the tiers below have no meaningful bound.
    """
    out: dict[str, int] = {}
    rest = bound
    for key, weight in zip(stage.tiers, stage.weights, strict=True):
        value = -values[key] if key == "previous_worker_returns" else values[key]
        tier_bound = int(rest // weight)
        out[key] = -tier_bound if key == "previous_worker_returns" else tier_bound
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
            bounds.update(_decode_bounds(stage, solver.best_objective_bound, values))
        # Later stages keep every tier of this one at the value reached. One bound
        # per tier propagates far better than one bound on the weighted sum.
        reached = evaluate(state, placed)
        exprs = _tier_expressions(m)
        for key in stage.tiers:
            expr = exprs[key][0]
            m.model.add(expr <= (-reached[key] if key == "previous_worker_returns" else reached[key]))
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
