"""Lexicographic solve of the allocation model, tier by tier, from warm starts.

The tiers are solved in the stages of :data:`STAGES`: urgent and all-allocated
together (urgent weighted by ``n + 1``, so no number of other children can pay for
one urgent child), then one tier a stage. After a stage every one of its tiers is
held at the value reached. Each stage:

1. is done at once if the plan meets the tier's easy bound (:class:`_EasyBounds`,
   valid over every eligible worker);
2. on large services (pruned candidates), is improved by large-neighbourhood
   search: small exact models of a few cases each (:func:`_improve`);
3. on small services, is solved on the whole model, which proves optimality where
   it can within its budget.

The search starts from the best of three warm starts (the manager's greedy rule
and two tight packings), so it is never worse than the greedy rule.

Reproducibility: every solve is limited by CP-SAT's deterministic work, and each
stage's budget is what earlier stages really spent; the wall clock is only a
safety net, and a run it cuts short is flagged (:attr:`Solution.cut_short`).
"""

from __future__ import annotations

import functools
import math
import time
from collections.abc import Mapping
from dataclasses import dataclass, field

from ortools.sat.python import cp_model

from allocator.engine.candidates import candidate_workers
from allocator.engine.lns import (
    BUILD_WORK_PER_VARIABLE,
    MIN_WORK,
    NEIGHBOURHOOD,
    Round,
    neighbourhood_search,
    stage_share,
)
from allocator.engine.model import AllocationModel, LinearExpr
from allocator.engine.solver import WORK_PER_SECOND, configured_solver
from allocator.greedy import greedy_allocate, packing_allocate
from allocator.objectives import balance_cost, evaluate, outside_area, tier_vector
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
    cut_short: bool = False


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
        "previous_worker_returns": (sum(m.not_back.values()) + n - len(m.not_back), n),
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
        tier_bound = max(
            0,
            math.ceil(rest / weight - 1e-9) if weight == stage.weights[-1] else int(rest // weight),
        )
        out[key] = _minimised(key, tier_bound, n)
        if tier_bound < value:
            break
        rest -= value * weight
    return out


def _families(state: ServiceState) -> dict[str, list[str]]:
    """The cases needing a worker, grouped by family, in id order (computed once)."""
    if state.to_allocate_by_family is None:
        families: dict[str, list[str]] = {}
        for cid in sorted(state.to_allocate):
            families.setdefault(state.cases[cid].family, []).append(cid)
        state.to_allocate_by_family = families
    return state.to_allocate_by_family


@dataclass
class _EasyBounds:
    """Lower bounds on each minimised tier that need no search, valid for the whole
    problem (every eligible worker, not only the model's candidates).

    Each case is taken on its own (its best eligible worker for the tier); with some
    cases left unallocated, the costliest are assumed left out. When a stage's
    solution meets these bounds it is optimal without a proof by search.
    """

    n: int
    urgent_nobody: int
    nobody: int
    siblings: int
    forced_splits: int
    known: int
    best_costs: list[int]
    no_worker: int
    all_outside: int

    @classmethod
    def of(cls, state: ServiceState) -> _EasyBounds:
        cases = sorted(state.to_allocate)
        eligible = {c: state.eligible(c) for c in cases}
        families = _families(state)
        return cls(
            n=len(cases),
            urgent_nobody=_capacity_bound(state, eligible, urgent_only=True),
            nobody=_capacity_bound(state, eligible, urgent_only=False),
            siblings=sum(len(state.holders[f]) - 1 for f in families if state.holders.get(f)),
            forced_splits=_forced_splits(state, families, eligible),
            known=sum(
                1 for c in cases if any(w in state.cases[c].previous_workers for w in eligible[c])
            ),
            best_costs=sorted(
                min(balance_cost(state, c, w) for w in eligible[c]) for c in cases if eligible[c]
            ),
            no_worker=sum(1 for c in cases if not eligible[c]),
            all_outside=sum(
                1
                for c in cases
                if eligible[c] and all(outside_area(state, c, w) for w in eligible[c])
            ),
        )

    def at(self, unallocated: int) -> dict[str, int]:
        """The bounds once ``unallocated`` cases are known to stay without a worker."""
        return {
            "urgent_unallocated": self.urgent_nobody,
            "unallocated": self.nobody,
            # Each child left out can spare at most one family its forced split.
            "siblings_apart": self.siblings + max(0, self.forced_splits - unallocated),
            "previous_worker_returns": self.n - self.known,
            "balance": sum(self.best_costs[: max(0, self.n - unallocated - self.no_worker)]),
            "outside_area": max(0, self.all_outside - unallocated),
        }


def _capacity_bound(
    state: ServiceState, eligible: Mapping[str, list[str]], *, urgent_only: bool
) -> int:
    """Children that must stay unallocated whatever the plan (a Hall-type bound).

    For each set ``S`` of workers that is some case's eligible set, the cases whose
    eligible workers all lie in ``S`` compete for ``S``'s spare capacity. At most
    as many of them can be placed as

    - their smallest weights fit in ``S``'s pooled spare capacity, and
    - the sum over the workers in ``S`` of how many of them fit in that worker's own
      spare capacity (smallest first): room split across workers can be too
      fragmented for heavy cases, which pooling hides.

    The worst such set bounds the whole plan. Cases nobody may take are the special
    case ``S`` empty.
    """
    groups: dict[frozenset[str], list[int]] = {}
    for c, eligible_workers in eligible.items():
        if urgent_only and not state.is_urgent(c):
            continue
        groups.setdefault(frozenset(eligible_workers), []).append(state.weight[c])
    worst = 0
    for workers in groups:
        members = [(other, ws) for other, ws in groups.items() if other <= workers]
        weights = sorted(w for _, ws in members for w in ws)
        fit = min(
            _fit_count(weights, sum(state.spare_before(w) for w in workers)),
            _fit_per_worker(state, workers, members, len(weights)),
        )
        worst = max(worst, len(weights) - fit)
    return worst


def _fit_count(weights: list[int], room: int) -> int:
    """How many of ``weights`` (sorted ascending) fit in ``room``, smallest first."""
    fit = 0
    for weight in weights:
        if weight > room:
            break
        room -= weight
        fit += 1
    return fit


def _fit_per_worker(
    state: ServiceState,
    workers: frozenset[str],
    members: list[tuple[frozenset[str], list[int]]],
    total: int,
) -> int:
    """Sum over ``workers`` of how many member cases fit in each one's own room.

    Returns ``total`` at once when a quick over-estimate (every worker filled with
    the lightest member) already reaches it: the bound can only bite on heavy cases.
    """
    lightest = min(w for _, ws in members for w in ws)
    # A case of weight 0 fits any room, so the over-estimate is unbounded.
    if lightest == 0 or sum(state.spare_before(w) // lightest for w in workers) >= total:
        return total
    fit = 0
    for worker in workers:
        mine = sorted(w for eligible_set, ws in members if worker in eligible_set for w in ws)
        fit += _fit_count(mine, state.spare_before(worker))
        if fit >= total:
            return total
    return fit


def _forced_splits(
    state: ServiceState, families: Mapping[str, list[str]], eligible: Mapping[str, list[str]]
) -> int:
    """Families that cannot all go to one worker even with the service to themselves.

    A family whose worker(s) cannot take all its children needing a worker, or a new
    family of several children no single worker can take together, adds at least one
    worker when all its children are placed.
    """
    forced = 0
    for family, kids in families.items():
        holders = state.holders.get(family, frozenset())
        if not holders and len(kids) < 2:
            continue
        weight = sum(state.weight[c] for c in kids)
        common = set.intersection(*(set(eligible[c]) for c in kids))
        options = (common & holders) if holders else common
        if not any(state.spare_before(w) >= weight for w in options):
            forced += 1
    return forced


def _stage_value(stage: _Stage, values: Mapping[str, int | float], n: int) -> int:
    return int(
        sum(
            w * _minimised(k, values[k], n) for w, k in zip(stage.weights, stage.tiers, strict=True)
        )
    )


def _trouble(
    state: ServiceState,
    candidates: Mapping[str, list[str]],
    key: str,
    placed: Mapping[str, str],
) -> list[str]:
    """The cases where a stage's tier can still improve, most pressing first."""
    cases = sorted(state.to_allocate)
    if key in ("urgent_unallocated", "unallocated"):
        return sorted(
            (c for c in cases if c not in placed), key=lambda c: (not state.is_urgent(c), c)
        )
    if key == "siblings_apart":
        split: set[str] = set()
        for family, kids in _families(state).items():
            workers = set(state.holders.get(family, ())) | {placed[c] for c in kids if c in placed}
            if len(workers) > 1:
                split.update(c for c in kids if c in placed)
        return sorted(split)
    if key == "previous_worker_returns":
        return [
            c
            for c in cases
            if c in placed
            and placed[c] not in state.cases[c].previous_workers
            and any(w in state.cases[c].previous_workers for w in candidates[c])
        ]
    if key == "balance":
        return sorted(placed, key=lambda c: (-balance_cost(state, c, placed[c]), c))
    return sorted(c for c, w in placed.items() if outside_area(state, c, w))


#: CP-SAT deterministic work units per neighbourhood solve (reproducible, unlike seconds).
NEIGHBOURHOOD_WORK = 1.0


def _neighbourhood(
    candidates: Mapping[str, list[str]], seeds: list[str], placed: Mapping[str, str]
) -> set[str]:
    """``seeds`` plus every case placed with one of their candidate workers, capped."""
    by_worker: dict[str, list[str]] = {}
    for c, w in sorted(placed.items()):
        by_worker.setdefault(w, []).append(c)
    free: set[str] = set()
    for seed in seeds:
        around = {seed} | {c for w in candidates[seed] for c in by_worker.get(w, ())}
        if free and len(free | around) > NEIGHBOURHOOD:
            break
        free |= around
    return free


#: Per split family in a siblings neighbourhood: workers who could host it whole.
HOSTS = 3


def _family_neighbourhood(
    state: ServiceState,
    candidates: Mapping[str, list[str]],
    seeds: list[str],
    placed: Mapping[str, str],
) -> set[str]:
    """The seeds' families with the workers who hold them or could hold them whole.

    Keeping siblings together on a tightly packed service means emptying a worker who
    could take the whole family, so for each family the neighbourhood frees its
    children and every case placed today with its holders, with the workers its
    children are with, and with the few candidate workers with most room who could
    take all of them. Several families fit in one neighbourhood, so room can be
    traded between them.
    """
    load = dict(state.load_before)
    by_worker: dict[str, list[str]] = {}
    for c, w in sorted(placed.items()):
        load[w] += state.weight[c]
        by_worker.setdefault(w, []).append(c)
    families = _families(state)
    free: set[str] = set()
    seen: set[str] = set()
    for seed in seeds:
        family = state.cases[seed].family
        if family in seen:
            continue
        seen.add(family)
        kids = families[family]
        weight = sum(state.weight[c] for c in kids)
        common = set.intersection(*(set(candidates[c]) for c in kids))
        hosts = sorted(
            (w for w in common if state.spare_before(w) >= weight),
            key=lambda w: (load[w] - state.capacity[w], w),
        )[:HOSTS]
        workers = set(hosts) | {placed[c] for c in kids if c in placed}
        workers |= set(state.holders.get(family, ())) & common
        around = set(kids) | {c for w in workers for c in by_worker.get(w, ())}
        if free and len(free | around) > NEIGHBOURHOOD:
            break
        free |= around
    return free


def _improve(
    state: ServiceState,
    candidates: Mapping[str, list[str]],
    index: int,
    placed: dict[str, str],
    settings: SolverSettings,
    deadline: float,
    work: float,
) -> tuple[dict[str, str], bool, float]:
    """Large-neighbourhood search on stage ``index``: free a few cases, solve exactly, repeat.

    Each neighbourhood is a small model of its own: the cases where the stage's tier
    can improve and the cases sitting with the workers they could go to (for the
    siblings tier, whole families and the workers who could hold them); every other
    case stays put and uses up its worker's room. The tiers of earlier stages are
    held at their values.

    The search (:func:`~allocator.engine.lns.neighbourhood_search`) ends when every
    trouble case has been tried without improvement or when ``work`` is spent,
    counted in CP-SAT's deterministic units plus a fixed charge per variable built,
    so that the same input gives the same rounds on any machine. Returns the
    placements, whether the search ended on its own terms (reproducibly), and the
    work spent.
    """
    n = len(state.to_allocate)
    key = STAGES[index][-1]
    held = [k for keys in STAGES[:index] for k in keys]
    neighbourhood_of = (
        functools.partial(_family_neighbourhood, state)
        if key == "siblings_apart"
        else _neighbourhood
    )
    # Stage weights only order the tiers within a stage; any model's will do.
    stage = _Stage(list(STAGES[index]), 0, _unit_weights(STAGES[index], n))

    def solve_round(
        plan: dict[str, str], seeds: list[str], _sweep: int, work_left: float
    ) -> Round[dict[str, str]]:
        free = neighbourhood_of(candidates, seeds, plan)
        sub = AllocationModel(state, candidates, free=free, fixed=plan)
        now = sub.tier_values(plan)
        exprs = _tier_expressions(sub)
        for k in held:
            sub.model.add(exprs[k][0] <= now[k])
        sub.hint(plan)
        sub.model.minimize(_stages(sub)[index].objective)
        found, _, _, used = _run(
            sub.model,
            sub,
            settings,
            deadline - time.perf_counter(),
            min(NEIGHBOURHOOD_WORK, work_left),
        )
        charge = used + BUILD_WORK_PER_VARIABLE * (len(sub.x) + n)
        covered = [s for s in seeds if s in free]
        if found is None:
            return Round(covered, None, charge)
        return Round(covered, {c: w for c, w in plan.items() if c not in free} | found, charge)

    def better(candidate: dict[str, str], plan: dict[str, str]) -> bool:
        return _stage_value(stage, evaluate(state, candidate), n) < _stage_value(
            stage, evaluate(state, plan), n
        )

    return neighbourhood_search(
        placed,
        trouble=lambda plan: _trouble(state, candidates, key, plan),
        solve_round=solve_round,
        better=better,
        work=work,
        deadline=deadline,
    )


def _run(
    model: cp_model.CpModel,
    m: AllocationModel,
    settings: SolverSettings,
    seconds: float,
    work: float | None,
) -> tuple[dict[str, str] | None, str, float | None, float]:
    """One CP-SAT solve: placements found, status name, proven bound, work spent."""
    solver = configured_solver(
        seconds=seconds, work=work, seed=settings.seed, workers=settings.workers
    )
    status = solver.solve(model)
    used = solver.response_proto.deterministic_time
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return None, solver.status_name(status), None, used
    return m.placements(solver), solver.status_name(status), solver.best_objective_bound, used


def solve(state: ServiceState, settings: SolverSettings | None = None) -> Solution:
    """Allocate ``state.to_allocate`` optimally, or as well as the time allows.

    Stage by stage (tier by tier): if the current plan meets the tier's easy bound
    the stage is done; otherwise large-neighbourhood search improves it, and where
    the model holds every eligible worker a full solve then proves the optimum.
    Never worse than the greedy rule: the greedy plan is where the search starts
    and a plan is only ever replaced by one better on the stage being solved while
    every earlier tier is held.
    """
    settings = settings or SolverSettings()
    started = time.perf_counter()
    deadline = started + settings.time_limit
    greedy = greedy_allocate(state)
    if not state.to_allocate:
        return Solution(placed={}, proved=True, pruned=False, seconds=0.0)
    # Start from the best of the manager's rule and two tight packings, tier by tier.
    starts = (
        greedy,
        packing_allocate(state, by_family=True),
        packing_allocate(state, by_family=False),
    )
    start = min(starts, key=lambda p: tier_vector(evaluate(state, p)))
    candidates, pruned = candidate_workers(state, starts)
    if pruned:
        _offer_room_left(state, candidates, start)
    n = len(state.to_allocate)
    # The whole model is only built where it can prove something: with every
    # eligible worker. Large services are searched in neighbourhoods only.
    full = None if pruned else AllocationModel(state, candidates)

    placed = dict(start)
    proved = True
    cut_short = False
    bounds: dict[str, int | float] = {}
    log: list[str] = []
    easy_bounds = _EasyBounds.of(state)
    work_left = settings.time_limit * WORK_PER_SECOND
    for index, keys in enumerate(STAGES):
        name = "+".join(keys)
        values = evaluate(state, placed)
        easy = easy_bounds.at(int(values["unallocated"]))
        # Stage weights only order the tiers within a stage; any model's will do.
        stage = _stages(full)[index] if full else _Stage(list(keys), 0, _unit_weights(keys, n))
        floor = _stage_value(stage, easy, n)
        if _stage_value(stage, values, n) <= floor:
            log.append(f"{name}: optimal (meets its bound without search)")
        else:
            share = stage_share(index, len(STAGES))
            # Work budgets, not seconds, decide where each stage stops (reproducible):
            # the time limit converted once, then what each stage really spent. The
            # wall clock only guards the whole solve: a stage may overrun its share
            # of seconds on a busy machine without stopping on a different round.
            work = max(MIN_WORK, work_left * share)
            if full is None:
                placed, finished, spent = _improve(
                    state, candidates, index, placed, settings, deadline, work
                )
                work_left -= spent
                cut_short = cut_short or not finished
            values = evaluate(state, placed)
            bound: float = floor
            status = "feasible"
            if _stage_value(stage, values, n) <= floor:
                status = "optimal"
            elif full is not None:
                # A valid floor the solver cannot always see through presolve:
                # reaching it ends the solve at once.
                full.model.add(stage.objective >= floor)
                full.hint(placed)
                full.model.minimize(stage.objective)
                wall = deadline - time.perf_counter()
                found, status, solver_bound, used = _run(full.model, full, settings, wall, work)
                work_left -= used
                status = status.lower()
                # Stopped by the clock rather than by proof or by its work budget.
                cut_short = cut_short or (status != "optimal" and used < work * 0.99)
                if found is not None and (
                    _stage_value(stage, evaluate(state, found), n) < _stage_value(stage, values, n)
                ):
                    placed, values = found, evaluate(state, found)
                bound = max(floor, solver_bound if solver_bound is not None else floor)
            log.append(f"{name}: {status}")
            if status != "optimal" and proved:
                proved = False
                bounds.update(_decode_bounds(stage, bound, values, n))
        if full is not None:
            # Later stages keep every tier of this one at the value reached.
            exprs = _tier_expressions(full)
            for key in keys:
                full.model.add(exprs[key][0] <= _minimised(key, values[key], n))
    return Solution(
        placed=placed,
        proved=proved and not pruned,
        pruned=pruned,
        bounds=bounds,
        seconds=time.perf_counter() - started,
        from_greedy=placed == greedy,
        stages=log,
        variables=len(full.x) if full else sum(len(ws) for ws in candidates.values()),
        cut_short=cut_short,
    )


#: Extra candidates offered to each case the warm start leaves out.
ROOM_LEFT = 10


def _offer_room_left(
    state: ServiceState, candidates: dict[str, list[str]], start: Mapping[str, str]
) -> None:
    """Offer each case the warm start leaves out the workers with most room left.

    Pools are drawn from the room workers have before anything is placed; once the
    warm start has used it, the room that is left is where an unplaced child can go.
    """
    load = dict(state.load_before)
    for cid, wid in start.items():
        load[wid] += state.weight[cid]
    for cid in sorted(state.to_allocate):
        if cid in start:
            continue
        weight = state.weight[cid]
        roomy = sorted(
            (w for w in state.eligible(cid) if load[w] + weight <= state.capacity[w]),
            key=lambda w: (load[w] - state.capacity[w], w),
        )
        candidates[cid] = sorted(set(candidates[cid]) | set(roomy[:ROOM_LEFT]))


def _unit_weights(keys: tuple[str, ...], n: int) -> list[int]:
    """Lexicographic weights for a stage's tiers when no model gives their ranges.

    Only the urgent and all-allocated tiers share a stage, both at most ``n``.
    """
    return [(n + 1) ** (len(keys) - 1 - i) for i in range(len(keys))]
