"""The plain whole-model CP-SAT solve: the model an analyst writes in an afternoon.

One CP-SAT model of the day with **every** eligible (case, worker) pair (the engine's
own input, :func:`allocator.engine.model.daily_input`, so each rule and each tier is
written once, in :class:`allocator.engine.core.Formulation`, its coefficients read
from :class:`allocator.domain.objectives.Tier`), solved lexicographically: one stage per
tier, each minimising its tier with the tiers above held at their values, from the
previous stage's solution (the first from the manager's rule, as the engine and the
MIP start). The priority classes are one stage, a weighted sum (lexicographic), with
three quarters of the time, as the engine gives its class stages; each continuity
tier then has the time left split evenly, a stage CP-SAT proves handing its unused
time on. No neighbourhoods, no class models, no bounds of its own, CP-SAT's default
parameters and its parallel portfolio on ``workers`` threads.

This is the benchmark's third reference (``python -m benchmarks --methods plain``),
the competitor of issue 21: the engine must be at least as good on every tier.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from dataclasses import dataclass, field

from ortools.sat.python import cp_model

from allocator.domain.objectives import class_tier_key
from allocator.domain.rules import ServiceState
from allocator.engine.core import CoreInput, CoreModel, tier_floor, tier_values
from allocator.engine.model import daily_input, minimised

LinearExpr = cp_model.LinearExprT

#: CP-SAT threads of the plain model (the analyst's laptop default on this machine).
PLAIN_WORKERS = 2
#: Share of the time limit the priority classes' stage may use (the engine's share too).
CLASS_SHARE = 0.75


@dataclass
class PlainSolution:
    """What the plain model found, in the plan's keys and units.

    Attributes
    ----------
    placed
        Case id to worker id.
    proved
        Every stage proved optimal within the time.
    bounds
        For each tier not proved: CP-SAT's bound with the tiers above held (plan units).
    stages
        One line per stage: tier, status, seconds.
    columns
        (case, worker) pairs.
    """

    placed: dict[str, str]
    proved: bool
    bounds: dict[str, int | float] = field(default_factory=dict)
    stages: list[str] = field(default_factory=list)
    columns: int = 0


def solve_plain(
    state: ServiceState,
    *,
    time_limit: float,
    workers: int = PLAIN_WORKERS,
    seed: int = 0,
    start: Mapping[str, str] | None = None,
) -> PlainSolution:
    """Solve the day's tiers on one whole CP-SAT model, in stages.

    The first stage minimises the priority classes together as one weighted sum
    (each class's weight above everything the classes below can weigh, so the sum
    is lexicographic) with :data:`CLASS_SHARE` of the time; each continuity tier is
    then a stage of its own with the time left split evenly.

    Parameters
    ----------
    state
        The service.
    time_limit
        Wall-clock seconds for the whole run, building included.
    workers
        CP-SAT ``num_workers`` (its default parallel portfolio; not reproducible).
    seed
        CP-SAT ``random_seed``.
    start
        The first stage's hint (the harness passes the manager's rule).
    """
    began = time.perf_counter()
    if not state.to_allocate:
        return PlainSolution(placed={}, proved=True)
    every_pair = {c: state.eligible(c) for c in state.to_allocate}
    data = daily_input(state, every_pair)
    m = CoreModel(data)
    n = len(state.to_allocate)
    classes = [class_tier_key(name) for name in state.policy.class_names]
    weights: list[int] = []
    below = 0  # the most the classes below can weigh
    for key in reversed(classes):
        weights.insert(0, below + 1)
        below += (below + 1) * sum(item.stay_cost.get(key, 0) for item in data.items)
    stages: list[tuple[list[str], LinearExpr]] = [
        (classes, cp_model.LinearExpr.weighted_sum([m.tiers[k] for k in classes], weights))
    ]
    stages += [([k], m.tiers[k]) for k in data.tiers if k not in classes]
    decisions = dict(start or {})
    out = PlainSolution(placed={}, proved=True, columns=data.pairs)
    for index, (keys, objective) in enumerate(stages):
        if all(isinstance(m.tiers[k], int) for k in keys):  # empty tiers
            continue
        stage_began = time.perf_counter()
        left = time_limit - (stage_began - began)
        share = CLASS_SHARE if index == 0 else 1 / (len(stages) - index)
        solver = cp_model.CpSolver()
        solver.parameters.max_time_in_seconds = max(0.05, left * share)
        solver.parameters.num_workers = workers
        solver.parameters.random_seed = seed
        if decisions:
            m.hint(decisions)
        m.model.minimize(objective)
        status = solver.solve(m.model)
        name = solver.status_name(status).lower()
        if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            found = m.decisions(solver)
            if not decisions or _vector(data, found, keys) <= _vector(data, decisions, keys):
                decisions = found
        proved = status == cp_model.OPTIMAL
        if not proved and out.proved and len(keys) == 1 and status == cp_model.FEASIBLE:
            bound = max(tier_floor(data, keys[0]), math.ceil(solver.best_objective_bound - 1e-6))
            out.bounds[keys[0]] = minimised(keys[0], bound, n)
        out.proved = out.proved and proved
        out.stages.append(f"{'+'.join(keys)}: {name} in {time.perf_counter() - stage_began:.1f} s")
        values = tier_values(data, decisions)
        for k in keys:
            if not isinstance(m.tiers[k], int):
                m.model.add(m.tiers[k] <= values[k])
    out.placed = decisions
    return out


def _vector(data: CoreInput, decisions: Mapping[str, str], keys: list[str]) -> list[int]:
    values = tier_values(data, decisions)
    return [values[k] for k in keys]
