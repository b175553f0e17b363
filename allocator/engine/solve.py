"""Lexicographic solve of the allocation model, tier by tier, from warm starts.

The tiers (:func:`allocator.domain.objectives.daily_tiers`) are solved one stage each, in
priority order, by the engine's one staged solve
(:func:`allocator.engine.stages.solve_in_stages`; this module's
:class:`_DailyStages` is what a day supplies to it): first one stage per priority
class (who gets a worker first), then siblings together, previous workers, balance
and area. After a stage its tier is held at the value reached. Each stage:

1. is done at once if the plan meets the tier's easy bound (:class:`_EasyBounds`,
   valid over every eligible worker) or, for a linear tier, its LP bound
   (:func:`_lp_bound`, in the tier's own units: waiting weight for a class);
2. is improved by large-neighbourhood search: small exact models of a few cases
   each (:func:`_improve`), on worker pools above
   :data:`~allocator.engine.candidates.NEIGHBOURHOOD_PAIRS` eligible pairs;
3. then, from that plan, is solved on a whole model (:func:`_whole_model_step`),
   which proves optimality where it holds every eligible worker. A priority class's
   stage is solved on a model of that class and the classes above it only: the
   cases of lower classes cannot change its optimum (they only take room) and
   leaving them out shrinks the hard part of a stretched day. On large services
   (pruned candidates) only class models within :data:`PRUNED_CLASS_MODEL_PAIRS`
   run, and prove nothing; a continuity stage's model above the neighbourhood size
   gets at most :data:`CONTINUITY_WHOLE_WORK`, except the siblings tier's
   (:func:`_whole_model_leads`).
4. the siblings tier's stage, given the work for it, ends with HiGHS on its whole
   model (:func:`_highs_step`): its root heuristics find what CP-SAT's search misses
   there.

The search starts from the best of three warm starts (the manager's greedy rule
and two tight packings), so it is never worse than the greedy rule; a re-solve
(``ServiceState.reference``) starts from the plan it revises, kept wherever it still
holds, so that what moves is what the search finds worth moving.

Every tier ends with its value, a bound and whether it is proved
(:class:`TierResult`). A tier's bound is lexicographic: the best value any plan
could reach while the tiers above keep the values found.

Reproducibility: every solve is limited by CP-SAT's deterministic work (HiGHS's by
its nodes), and each stage's budget is a share of what earlier stages left; the wall
clock is only a safety net, and a run it cuts short is flagged
(:attr:`~allocator.domain.result.Result.cut_short`).
"""

from __future__ import annotations

import functools
import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from ortools.sat.python import cp_model

from allocator.contract.settings import Settings
from allocator.domain.greedy import greedy_allocate, packing_allocate, revise_allocate
from allocator.domain.objectives import (
    REFERENCE_CHANGES,
    REFERENCE_TIER,
    balance_cost,
    class_tier_key,
    evaluate,
    expected_changes_cost,
    outside_area,
    state_tiers,
    tier_vector,
)
from allocator.domain.result import Result, TierResult
from allocator.domain.rules import ServiceState
from allocator.engine.candidates import NEIGHBOURHOOD_PAIRS, candidate_workers
from allocator.engine.core import CoreModel, StageRun, run_stage, tier_values
from allocator.engine.lns import (
    BUILD_WORK_PER_VARIABLE,
    MIN_WORK,
    NEIGHBOURHOOD,
    Round,
    neighbourhood_search,
)
from allocator.engine.model import allocation_model, daily_input, minimised
from allocator.engine.stages import Step, Tell
from allocator.engine.stages import solve_in_stages as staged

LinearExpr = cp_model.LinearExprT


def stage_keys(state: ServiceState) -> tuple[str, ...]:
    """The tier of each stage, in order: one per priority class, then the rest."""
    return tuple(t.key for t in state_tiers(state))


def _class_index(key: str, state: ServiceState) -> int | None:
    """The priority class a tier key counts, or ``None`` for a continuity tier."""
    keys = [class_tier_key(n) for n in state.policy.class_names]
    return keys.index(key) if key in keys else None


def _stage_objective(m: CoreModel, state: ServiceState, key: str) -> LinearExpr:
    """What a neighbourhood of a stage minimises: its tier, and for a priority class
    also the children of lower classes, weighted below it, and in a re-solve the
    children placed other than the plan revised, weighted below those.

    A neighbourhood holds every class; without the second term the solver could drop
    lower-class children it need not. Without the third, a neighbourhood that places
    one more child may move any others it holds, and a re-solve cut short by the
    clock before its reference stage keeps those moves (a fresh trial saw 91 children
    move for one choice at 1,000 practitioners, on a loaded machine).
    """
    tier = m.tiers[key]
    klass = _class_index(key, state)
    if klass is None:
        return tier
    lower_keys = [class_tier_key(name) for name in state.policy.class_names[klass + 1 :]]
    lower = cp_model.LinearExpr.sum([m.tiers[k] for k in lower_keys])
    # One unit of the stage's tier outweighs every lower-class child left out.
    most_lower = sum(item.stay_cost.get(k, 0) for item in m.data.items for k in lower_keys)
    classes = cp_model.LinearExpr.weighted_sum([tier, lower], [most_lower + 1, 1])
    if REFERENCE_CHANGES not in m.tiers:
        return classes
    # One unit of the classes outweighs every change from the plan revised (at most
    # one a case).
    most_changes = len(m.data.items)
    return cp_model.LinearExpr.weighted_sum(
        [classes, m.tiers[REFERENCE_CHANGES]], [most_changes + 1, 1]
    )


def _stage_value(
    state: ServiceState, key: str, values: Mapping[str, int | float]
) -> tuple[float, ...]:
    """A plan's value on a stage, comparable lexicographically (smaller is better):
    for a priority class, its tier, then the lower classes, then in a re-solve the
    changes from the plan revised (as :func:`_stage_objective`)."""
    n = len(state.to_allocate)
    klass = _class_index(key, state)
    if klass is None:
        return (minimised(key, values[key], n),)
    lower = sum(values[class_tier_key(name)] for name in state.policy.class_names[klass + 1 :])
    return (values[key], lower, values.get(REFERENCE_CHANGES, 0))


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
    nobody_by_class: list[int]
    siblings: int
    forced_splits: int
    known: int
    best_costs: list[int]
    no_worker: int
    all_outside: int
    best_look_ahead: list[int] = field(default_factory=list)

    @classmethod
    def of(cls, state: ServiceState) -> _EasyBounds:
        cases = sorted(state.to_allocate)
        eligible = {c: state.eligible(c) for c in cases}
        families = _families(state)
        return cls(
            n=len(cases),
            nobody_by_class=[
                _lightest_waits(
                    state,
                    k,
                    _capacity_bound(state, eligible, functools.partial(_in_class, state, k)),
                )
                for k in range(len(state.policy.class_names))
            ],
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
            best_look_ahead=sorted(
                min(expected_changes_cost(state, c, w) for w in eligible[c])
                for c in cases
                if eligible[c]
            ),
        )

    def at(self, state: ServiceState, unallocated: int) -> dict[str, int]:
        """The bounds (plan units) once ``unallocated`` cases are known to stay without
        a worker."""
        return {
            **{
                class_tier_key(name): bound
                for name, bound in zip(state.policy.class_names, self.nobody_by_class, strict=True)
            },
            # Each child left out can spare at most one family its forced split.
            "siblings_apart": self.siblings + max(0, self.forced_splits - unallocated),
            "previous_worker_returns": self.known,
            "balance": sum(self.best_costs[: max(0, self.n - unallocated - self.no_worker)]),
            "outside_area": max(0, self.all_outside - unallocated),
            # Each child placed costs at least its cheapest worker; the costliest left out.
            "expected_changes": sum(
                self.best_look_ahead[: max(0, self.n - unallocated - self.no_worker)]
            ),
            # A re-solve: changes forced by the rules (a manager's pin elsewhere ...).
            **({} if state.reference is None else {REFERENCE_CHANGES: REFERENCE_TIER.floor(state)}),
        }


#: Most eligible (case, worker) pairs of a priority class for its LP bound
#: (:func:`_lp_bound`) to be computed; above, the class keeps its Hall bound.
#: Measured at 1,000 practitioners, loaded machine: 0.3 to 0.8 s for 93,015 pairs
#: (statutory), 1.1 to 3.3 s for 234,849 (other), where the Hall bound is the same.
LP_BOUND_PAIRS = 150_000
#: Up to this many eligible (case, worker) pairs in a priority class and the classes
#: above it, the class's LP bound (:func:`_lp_bound`) holds the classes above at
#: their values; above, it takes the class alone. Measured at 1,000 practitioners
#: (130,870 pairs for urgent and statutory): 2.6 s against 0.7 s for statutory alone
#: on a loaded machine, for the same bound; on the 150-practitioner days the classes
#: above are what make the bound tight (packed-150: statutory 986 alone, 1,864 with
#: urgent held, against the proved optimum 1,928). The continuity tiers' LP bounds,
#: over every case, are computed up to this many pairs in all.
HELD_CLASSES_LP_PAIRS = 60_000


def _pairs(state: ServiceState, cases: list[str]) -> int:
    """Eligible (case, worker) pairs of ``cases``."""
    return sum(len(state.eligible(c)) for c in cases)


def _lp_bound(state: ServiceState, key: str, settled: Mapping[str, int | float]) -> int | None:
    """A lower bound on the linear tier ``key`` (minimised form) from a linear programme.

    ``settled`` holds the tiers above at the values found (minimised form), as the
    stage holds them. The LP (:func:`~allocator.engine.highs.least_linear_cost`)
    places the children fractionally on every eligible worker, each at most once in
    all, within each worker's room before the plan
    (:meth:`ServiceState.spare_before`), minimising the tier (its costs read from
    the tier itself, :meth:`~allocator.domain.objectives.Tier.cost` and ``stay_cost``)
    while each linear tier in ``settled`` stays at its value. For a priority class
    the children are those of the class and the classes above (a class's tier is
    the waiting weight, :attr:`ServiceState.waiting_weight`, of its children left
    without a worker), or the class alone above :data:`HELD_CLASSES_LP_PAIRS` pairs
    (nothing held then); for a continuity tier, every child, up to that many pairs.
    The bound is the LP's optimum rounded up (the tier is a whole number).

    Why it is valid (a lower bound on the tier over every plan that keeps the tiers
    above at their values, the stage's lexicographic bound): take any such plan and,
    for a priority class, drop the children of lower classes; what is left is a
    feasible point of the LP with the same value on the tier. The children dropped
    only took room and intake; the intake limit, the siblings tier (not linear) and
    the tiers below are left out of the LP, fractions are let in, and the classes
    above are left out on a large service: each only widens the set of points the
    LP minimises over. Every eligible worker is offered, not the search's
    candidates, so the bound holds for the whole problem.

    Returns ``None`` where it is not computed: a tier that is not linear, or a
    service above the pair limits. In the tier's own units: unlike the Hall bound
    (:func:`_capacity_bound`), which counts children and so can only assume the
    lightest waits are the ones left out.
    """
    from allocator.engine.highs import LinearCosts, least_linear_cost

    linear = {t.key: t for t in state_tiers(state) if t.linear}
    if key not in linear:
        return None
    klass = _class_index(key, state)
    cases = sorted(
        c for c in state.to_allocate if klass is None or state.priority_class[c] <= klass
    )
    held = [k for k in settled if k in linear]
    if _pairs(state, cases) > HELD_CLASSES_LP_PAIRS:
        if klass is None:
            return None
        cases = [c for c in cases if state.priority_class[c] == klass]
        held = []
        if _pairs(state, cases) > LP_BOUND_PAIRS:
            return None

    def costs(tier_key: str) -> LinearCosts:
        tier = linear[tier_key]
        # A priority class costs nothing where a child is placed.
        at = [
            [0 if tier.priority_class else tier.cost(state, c, w) for w in state.eligible(c)]
            for c in cases
        ]
        return at, [tier.stay_cost(state, c) for c in cases]

    def constant(tier_key: str) -> int:
        return linear[tier_key].constant(state, cases)

    workers = {w for c in cases for w in state.eligible(c)}
    least = least_linear_cost(
        [state.weight[c] for c in cases],
        [state.eligible(c) for c in cases],
        {w: state.spare_before(w) for w in workers},
        [costs(key), *(costs(k) for k in held)],
        [settled[k] - constant(k) for k in held],
    )
    if math.isinf(least):
        return None
    # The LP's optimum up to HiGHS's tolerances: rounding it down a little first only
    # weakens the bound.
    return constant(key) + math.ceil(least - LP_TOLERANCE * max(1.0, abs(least)))


#: Relative slack added to an LP optimum before it is rounded into a bound.
LP_TOLERANCE = 1e-6


def _lightest_waits(state: ServiceState, klass: int, children: int) -> int:
    """A class tier's bound when at least ``children`` of its children stay without a
    worker: the least they can weigh (the lightest waiting weights of the class)."""
    weights = sorted(
        state.waiting_weight[c] for c in state.to_allocate if state.priority_class[c] == klass
    )
    return sum(weights[:children])


def _in_class(state: ServiceState, klass: int, case_id: str) -> bool:
    return state.priority_class[case_id] == klass


def _capacity_bound(
    state: ServiceState, eligible: Mapping[str, list[str]], counted: Callable[[str], bool]
) -> int:
    """Children among the ``counted`` ones that must stay unallocated whatever the plan
    (a Hall-type bound).

    For each set ``S`` of workers that is some counted case's eligible set, the
    counted cases whose eligible workers all lie in ``S`` compete for ``S``'s spare
    capacity (other cases could only take more of it). At most as many of them can
    be placed as

    - their smallest weights fit in ``S``'s pooled spare capacity, and
    - the sum over the workers in ``S`` of how many of them fit in that worker's own
      spare capacity (smallest first): room split across workers can be too
      fragmented for heavy cases, which pooling hides.

    The worst such set bounds the whole plan. Cases nobody may take are the special
    case ``S`` empty.
    """
    groups: dict[frozenset[str], list[int]] = {}
    for c, eligible_workers in eligible.items():
        if counted(c):
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
    """Families that add a worker even with the service to themselves.

    A new family of several children adds one when no single worker may take them
    all. A family already held adds one beyond its holders when its children needing
    a worker cannot all go to holders: some child has no holder who may take them
    with room for them, or the holders' room together is short of the family's
    weight. (Children may go to different holders without adding a worker: a test
    that asked one holder to take them all claimed a worker the plan need not add.)
    """
    forced = 0
    for family, kids in families.items():
        holders = state.holders.get(family, frozenset())
        weight = sum(state.weight[c] for c in kids)
        if not holders:
            if len(kids) < 2:
                continue
            common = set.intersection(*(set(eligible[c]) for c in kids))
            if not any(state.spare_before(w) >= weight for w in common):
                forced += 1
            continue
        hosts = {w for c in kids for w in eligible[c] if w in holders}
        room = sum(max(0, state.spare_before(w)) for w in hosts)
        homeless = any(
            not any(w in hosts and state.spare_before(w) >= state.weight[c] for w in eligible[c])
            for c in kids
        )
        if room < weight or homeless:
            forced += 1
    return forced


def _trouble(
    state: ServiceState,
    candidates: Mapping[str, list[str]],
    key: str,
    placed: Mapping[str, str],
) -> list[str]:
    """The cases where a stage's tier can still improve, most pressing first."""
    cases = sorted(state.to_allocate)
    klass = _class_index(key, state)
    if klass is not None:
        # The longest waits first (the heaviest cost to the tier).
        return sorted(
            (c for c in cases if c not in placed and state.priority_class[c] == klass),
            key=lambda c: (-state.waiting_weight[c], c),
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
    if key == "expected_changes":
        cost = functools.partial(expected_changes_cost, state)
        return sorted(
            (c for c, w in placed.items() if cost(c, w) > min(cost(c, v) for v in candidates[c])),
            key=lambda c: (-cost(c, placed[c]), c),
        )
    if key == REFERENCE_CHANGES:
        reference = state.reference or {}
        return [c for c in sorted(reference) if placed.get(c) != reference[c]]
    return sorted(c for c, w in placed.items() if outside_area(state, c, w))


#: CP-SAT deterministic work units per neighbourhood solve (reproducible, unlike seconds).
NEIGHBOURHOOD_WORK = 1.0


#: Rings of a seed's chain a priority class's neighbourhood frees: the cases placed
#: with the seed's candidate workers, then those placed with theirs, and so on while
#: the neighbourhood stays within :data:`~allocator.engine.lns.NEIGHBOURHOOD` cases.
#: On a packed service
#: a child is placed only if the child holding the room they need moves to room a
#: third child holds (a chain of reassignments); one ring frees the second child but
#: never the third.
CHAIN_RINGS = 3


def _neighbourhood(
    candidates: Mapping[str, list[str]],
    seeds: list[str],
    placed: Mapping[str, str],
    rings: int = 1,
) -> set[str]:
    """``seeds`` and the chains around them, capped.

    Per seed: every case placed with one of its candidate workers (the first ring,
    always), then the cases placed with those cases' candidate workers, up to
    ``rings`` rings while the neighbourhood stays within
    :data:`~allocator.engine.lns.NEIGHBOURHOOD` cases.
    """
    by_worker: dict[str, list[str]] = {}
    for c, w in sorted(placed.items()):
        by_worker.setdefault(w, []).append(c)

    def ring(cases: set[str]) -> set[str]:
        return {c for f in sorted(cases) for w in candidates[f] for c in by_worker.get(w, ())}

    free: set[str] = set()
    for seed in seeds:
        around = {seed} | ring({seed})
        if free and len(free | around) > NEIGHBOURHOOD:
            break
        frontier = around - {seed}
        for _ in range(rings - 1):
            further = ring(frontier) - around
            if not further or len(free | around | further) > NEIGHBOURHOOD:
                break
            around |= further
            frontier = further
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
    load = dict(state.load_kept)
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
    key: str,
    held: tuple[str, ...],
    placed: dict[str, str],
    settings: Settings,
    deadline: float,
    work: float,
) -> tuple[dict[str, str], bool, float]:
    """Large-neighbourhood search on the stage of tier ``key``: free a few cases, solve
    exactly, repeat.

    Each neighbourhood is a small model of its own: the cases where the stage's tier
    can improve and the cases sitting with the workers they could go to (for the
    siblings tier, whole families and the workers who could hold them); every other
    case stays put and uses up its worker's room. The ``held`` tiers (earlier
    stages) keep their values; on a priority class's stage, children of lower
    classes may give up their place to one of the class.

    The search (:func:`~allocator.engine.lns.neighbourhood_search`) ends when every
    trouble case has been tried without improvement or when ``work`` is spent,
    counted in CP-SAT's deterministic units plus a fixed charge per variable built,
    so that the same input gives the same rounds on any machine. Returns the
    placements, whether the search ended on its own terms (reproducibly), and the
    work spent.
    """
    n = len(state.to_allocate)
    neighbourhood_of: Callable[[Mapping[str, list[str]], list[str], Mapping[str, str]], set[str]]
    if key == "siblings_apart":
        neighbourhood_of = functools.partial(_family_neighbourhood, state)
    elif _class_index(key, state) is not None:
        # Placing a child may take a chain of reassignments; the continuity tiers
        # gain more from more seeds a round (measured: chains there changed no tier
        # but siblings, by 2 to 5 either way).
        neighbourhood_of = functools.partial(_neighbourhood, rings=CHAIN_RINGS)
    else:
        neighbourhood_of = _neighbourhood
    lp_free = _lp_free(state, key, settings)

    def solve_round(
        plan: dict[str, str], seeds: list[str], _sweep: int, work_left: float
    ) -> Round[dict[str, str]]:
        free = neighbourhood_of(candidates, seeds, plan)
        sub = allocation_model(state, candidates, free=free, fixed=plan)
        now = tier_values(sub.data, plan)
        for k in held:
            sub.model.add(sub.tiers[k] <= now[k])
        run = _run(
            sub,
            _stage_objective(sub, state, key),
            plan,
            settings,
            deadline - time.perf_counter(),
            min(NEIGHBOURHOOD_WORK, work_left),
            interleave=lp_free and _interleaved_lp_free(settings),
            lp=not lp_free,
        )
        charge = run.work + BUILD_WORK_PER_VARIABLE * (sub.variables + n)
        covered = [s for s in seeds if s in free]
        if run.decisions is None:
            return Round(covered, None, charge)
        kept = {c: w for c, w in plan.items() if c not in free}
        return Round(covered, kept | run.decisions, charge)

    def better(candidate: dict[str, str], plan: dict[str, str]) -> bool:
        return _stage_value(state, key, evaluate(state, candidate)) < _stage_value(
            state, key, evaluate(state, plan)
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
    m: CoreModel,
    objective: LinearExpr,
    start: Mapping[str, str],
    settings: Settings,
    seconds: float,
    work: float | None,
    interleave: bool = False,
    lp: bool = True,
) -> StageRun:
    """One CP-SAT solve of ``m`` from ``start`` with the user's seed and workers."""
    return run_stage(
        m,
        objective,
        start,
        seconds=seconds,
        work=work,
        seed=settings.seed,
        workers=settings.workers,
        interleave=interleave,
        lp=lp,
    )


#: Share of the last priority class's whole-model work searched without the linear
#: relaxation, after the rest has searched and bounded with it and not proved the
#: stage (a model the relaxation proves keeps its proof); that stage's
#: neighbourhoods search without it throughout. The last class ("other") is
#: many light cases whose relaxation is weak (a bound of 57 under a plan of 130 on the
#: 150-practitioner day at 0.95) and costs most of a small budget. Measured at the
#: default budgets (benchmarks/SEARCH.md, "The last class searched without the LP"):
#: that day's class 194 -> 130 (the plain model 180 to 191), the 25-practitioner
#: day still proved, the stretched and packed days' classes as before. On the
#: statutory class the relaxation pays: without it stretched-150 lost 590 units.
LP_FREE_SHARE = 0.75
#: Least eligible pairs of the day for :data:`LP_FREE_SHARE`: on a smaller model the
#: relaxation is cheap and guides the search (the README's example, 290 pairs at 3
#: work units: the class 6 with it, 10 without).
LP_FREE_PAIRS = 1_000
#: Least work budget of the whole solve (units) for :data:`LP_FREE_SHARE`: measured
#: from a two-second day's 0.6. At a simulated morning's 0.2 the simulated year moved
#: both ways (benchmarks/SEARCH.md: 35 of issue 19's 60 targets against 36), so the
#: simulation's mornings search as before.
LP_FREE_BUDGET = 0.5
#: Least work budget of the whole solve (units) for that search without the LP to be
#: CP-SAT's interleaved search (its own neighbourhood workers in turn with the full
#: search; deterministic), in the neighbourhoods and on the whole model: a time limit
#: of 7 s or more. Measured on the 150-practitioner day at 0.95, seeds 1, 3 and 4
#: (benchmarks/SEARCH.md, "The last class at a long time limit"), the class alone ->
#: interleaved: at 9 units (the default for 30 s) 147 / 217 / 105 -> 83 / 171 / 66,
#: at 4 units 191 / 377 / 111 -> 109 / 240 / 66, at 2 units 191 / 403 / 115 -> 158 /
#: 409 / 85; at 1 unit it lost on two seeds of three (100 -> 188, 404 -> 463) and at
#: the two-second day's 0.6 on seed 1 (130 -> 194).
LP_FREE_INTERLEAVE_BUDGET = 2.0


def _lp_free(state: ServiceState, key: str, settings: Settings) -> bool:
    """Whether stage ``key`` searches without the LP for part of its work
    (:data:`LP_FREE_SHARE`): the last priority class's, where the policy has more
    than one, the day more than :data:`LP_FREE_PAIRS` eligible pairs and the solve at
    least :data:`LP_FREE_BUDGET` units."""
    last = len(state.policy.class_names) - 1
    return (
        last > 0
        and _class_index(key, state) == last
        and settings.work >= LP_FREE_BUDGET
        and _pairs(state, state.to_allocate) > LP_FREE_PAIRS
    )


def _interleaved_lp_free(settings: Settings) -> bool:
    """Whether a search without the LP (:func:`_lp_free`) is CP-SAT's interleaved one:
    a solve of at least :data:`LP_FREE_INTERLEAVE_BUDGET` units."""
    return settings.work >= LP_FREE_INTERLEAVE_BUDGET


def _displaced(m: CoreModel, placed: Mapping[str, str]) -> LinearExpr:
    """How many of ``m``'s cases leave the worker ``placed`` gives them (0 to all)."""
    kept = [
        m.place[item.id, placed[item.id]]
        for item in m.data.items
        if (item.id, placed.get(item.id, "")) in m.place
    ]
    return len(kept) - cp_model.LinearExpr.sum(kept)


#: Wall-clock seconds to build and hint a whole model, per (case, worker) pair (measured:
#: 1.3 s for 23,129 pairs at 1,000 practitioners).
BUILD_SECONDS_PER_PAIR = 6e-5
#: Least work worth giving a whole model of more than NEIGHBOURHOOD_PAIRS pairs.
MIN_WHOLE_WORK = 0.3
#: On a large service, the most candidate pairs a priority class's whole model may have.
PRUNED_CLASS_MODEL_PAIRS = 20_000
#: Most work a continuity stage's whole model gets after its neighbourhoods, above
#: NEIGHBOURHOOD_PAIRS pairs (below, it gets the stage's whole budget: small days are
#: where it proves optimality), siblings apart (:func:`_whole_model_leads`). Measured
#: on the 150-practitioner days: 1.5 to 2.4 more units per stage changed no tier but
#: siblings.
CONTINUITY_WHOLE_WORK = 0.5
#: Share of what the priority classes leave that the first continuity stage (siblings
#: together) may use, at least: the rest is split evenly over the later stages.
#: Measured (python -m benchmarks' 150-practitioner classes, same work): half, rather
#: than an even fifth, kept 21 families apart instead of 27 on the packed day and 21
#: instead of 24 on the stretched one; no other class changed above the later tiers.
FIRST_CONTINUITY_SHARE = 0.5
#: On a small service, share of a stage's work its neighbourhood search may use
#: before the whole model takes the rest.
LNS_SHARE = 0.3
#: Share of its wall-clock time the solve plans to use; the rest is a margin for the
#: work a stage finishes after the clock is read and for the machine's other jobs (a
#: limit of 30 s then ends within it, not at 31.7 s as measured on a shared machine).
WALL_SHARE = 0.95
#: Share of the work budget the priority-class stages may use together: every child
#: left out is a child without a social worker, so they come first in time too.
CLASS_STAGES_SHARE = 0.75


@dataclass
class _WholeModels:
    """The whole models of a small service, built as the stages need them.

    A priority class's stage is solved on a model of the cases of that class and the
    classes above (:func:`solve`); the continuity stages on one model of every case.
    Each model holds the tiers already settled at their values.
    """

    state: ServiceState
    candidates: Mapping[str, list[str]]
    pruned: bool
    settled: dict[str, int | float] = field(default_factory=dict)
    current: CoreModel | None = None
    covers_all: bool = False

    def cases_of(self, key: str) -> list[str]:
        """The cases a whole model of stage ``key`` decides."""
        klass = _class_index(key, self.state)
        return [
            c
            for c in self.state.to_allocate
            if klass is None or self.state.priority_class[c] <= klass
        ]

    def pairs(self, key: str) -> int:
        """(case, worker) pairs in stage ``key``'s whole model."""
        return sum(len(self.candidates[c]) for c in self.cases_of(key))

    def build_seconds(self, key: str) -> float:
        """Wall-clock seconds building stage ``key``'s model may take (none if built)."""
        if _class_index(key, self.state) is None and self.covers_all:
            return 0.0
        return BUILD_SECONDS_PER_PAIR * self.pairs(key)

    def takes(self, key: str) -> bool:
        """Whether stage ``key`` is solved on a whole model after its neighbourhoods.

        Every stage of a small service is (the model then holds every eligible
        worker and can prove its optimum). On a large one, with pruned candidates,
        only a priority class's stage whose model stays within
        :data:`PRUNED_CLASS_MODEL_PAIRS`: it cannot prove anything there, but one
        model of every child competing for the room finds exchanges that small
        neighbourhoods do not, where a class has most to gain; bigger models cost far
        more wall time per unit of work (measured: 21.8 s of solving for 3 units).
        """
        if not self.pruned:
            return True
        if _class_index(key, self.state) is None:
            return False
        return self.pairs(key) <= PRUNED_CLASS_MODEL_PAIRS

    def for_stage(self, key: str) -> CoreModel:
        if _class_index(key, self.state) is None and self.covers_all and self.current:
            return self.current
        cases = self.cases_of(key)
        m = allocation_model(self.state, self.candidates, free=cases)
        for held, value in self.settled.items():
            m.model.add(m.tiers[held] <= value)
        self.current, self.covers_all = m, len(cases) == len(self.state.to_allocate)
        return m

    def settle(self, key: str, value: int | float) -> None:
        """Hold tier ``key`` (minimised form) at ``value`` in every model from now on."""
        self.settled[key] = value
        if self.covers_all and self.current is not None:
            self.current.model.add(self.current.tiers[key] <= value)


@dataclass
class _Step:
    """What a whole model did for a stage."""

    placed: dict[str, str]
    status: str
    bound: float
    used: float
    cut_short: bool


def _whole_model_leads(state: ServiceState, key: str) -> bool:
    """Whether stage ``key``'s whole model, where it takes one, gets most of the
    stage's work (the neighbourhoods :data:`LNS_SHARE` first): the priority classes,
    and the siblings tier, whose whole model runs CP-SAT's own neighbourhood workers
    (:func:`_whole_model_step`). Measured (stretched-150 and packed-150, seeds 1-4,
    the default budget of 9 units): families apart 194 in all with the siblings
    neighbourhoods first and the whole model at most :data:`CONTINUITY_WHOLE_WORK`,
    189 with the whole model leading (four days better, three the same, one worse by
    one family); at 18 units 180 against 167, better on all eight. The classes above
    are solved before and held, so they cannot change. Other continuity stages
    gain little from their whole model above the neighbourhood size."""
    return _class_index(key, state) is not None or key == "siblings_apart"


def _whole_model_step(
    state: ServiceState,
    whole: _WholeModels,
    key: str,
    placed: dict[str, str],
    floor: float,
    settings: Settings,
    deadline: float,
    work: float,
) -> _Step:
    """Solve stage ``key`` on its whole model from ``placed``; keep the result if better.

    ``floor`` is the tier's easy bound (minimised form) and ``work`` what is left of
    the stage's budget; a continuity stage whose model has more than
    :data:`~allocator.engine.candidates.NEIGHBOURHOOD_PAIRS` pairs uses at most
    :data:`CONTINUITY_WHOLE_WORK`.
    The step is skipped, and flagged as cut short, when the wall clock leaves less
    than twice the time building the model takes.
    """
    if deadline - time.perf_counter() < 2 * whole.build_seconds(key):
        return _Step(placed, "feasible", floor, 0.0, cut_short=True)
    if work < MIN_WHOLE_WORK and whole.pairs(key) > NEIGHBOURHOOD_PAIRS:
        # Too little work to load a model this size, let alone search it (measured:
        # 0.15 units on 7,318 pairs returned no solution, 0.3 s each).
        return _Step(placed, "feasible", floor, 0.0, cut_short=False)
    m = whole.for_stage(key)
    tier = m.tiers[key]
    # A valid floor the solver cannot always see through presolve: reaching it ends
    # the solve at once.
    m.model.add(tier >= floor)
    # A class model that does not see the lower classes would scatter its cases over
    # the room they were using: below the tier, it moves as few cases as it can off
    # their place in the plan so far. (Only there: the term makes proofs slower.)
    scale = 1 if whole.covers_all else len(m.data.items) + 1
    objective = (
        tier
        if whole.covers_all
        else cp_model.LinearExpr.weighted_sum([tier, _displaced(m, placed)], [scale, 1])
    )
    work = max(MIN_WORK, work)
    if not _whole_model_leads(state, key) and whole.pairs(key) > NEIGHBOURHOOD_PAIRS:
        work = min(work, CONTINUITY_WHOLE_WORK)
    # The siblings tier's whole model runs CP-SAT's own neighbourhood workers in turn
    # with its full search (deterministic): measured at the same work, 8 families
    # apart instead of 10 on the 25-practitioner day and 8 (proved) instead of 9 on
    # the 150-practitioner day at load 1.05, no class worse.
    lp_free = _lp_free(state, key, settings)
    run = _run(
        m,
        objective,
        placed,
        settings,
        deadline - time.perf_counter(),
        work * (1 - LP_FREE_SHARE) if lp_free else work,
        interleave=key == "siblings_apart",
    )
    found, spent, cut_short = run.decisions, run.work, run.cut_short
    if lp_free and run.status != "optimal":
        # Not proved with the relaxation: the rest of the work searches without it,
        # from the best plan so far (the bound stays the relaxation's).
        more = _run(
            m,
            objective,
            placed if found is None else found,
            settings,
            deadline - time.perf_counter(),
            max(MIN_WORK, work - spent),
            interleave=_interleaved_lp_free(settings),
            lp=False,
        )
        found = found if more.decisions is None else more.decisions
        spent, cut_short = spent + more.work, cut_short or more.cut_short
    if found is not None:
        # A class model leaves the lower classes out: they go back where they were
        # where they still fit, else by the manager's rule.
        trial = found if whole.covers_all else greedy_allocate(state, fixed=found, prefer=placed)
        if _stage_value(state, key, evaluate(state, trial)) < _stage_value(
            state, key, evaluate(state, placed)
        ):
            placed = trial
    bound = floor
    solver_bound = run.tier_bound(scale)
    if solver_bound is not None and not whole.pruned:
        # objective = scale x tier (+ displaced < scale). (On pruned candidates the
        # solver's bound holds for the candidates only.)
        bound = max(floor, solver_bound)
    return _Step(placed, run.status, bound, spent, cut_short)


#: The tiers a HiGHS run may improve after CP-SAT's search (:func:`_highs_step`): the
#: one where it was measured to find what the search misses (benchmarks/SEARCH.md).
HIGHS_TIERS = frozenset({"siblings_apart"})
#: Least work (units) the stage must have been given for the HiGHS run: a long time
#: limit's days, not a two-second day's or a simulated morning's. Measured: HiGHS's
#: root took 0.35 to 25 s on the 150-practitioner days, 4.5 s on the 25-practitioner
#: one.
HIGHS_MIN_WORK = 0.5
#: A model this small (pairs) needs half of :data:`HIGHS_MIN_WORK`: its root takes a
#: fraction of a second. Measured on the README's example (290 pairs, 3 work units, the
#: siblings stage given 0.375): 6 families apart without the run, 4 with it, proved (the
#: optimum HiGHS finds on the whole model in 2 minutes), 0.8 s more in all.
HIGHS_SMALL_PAIRS = 1_000
#: Most (case, worker) pairs a model the HiGHS run solves may have (measured: 9,110 on
#: the packed 150-practitioner day, proved at its root in 11.3 s).
HIGHS_PAIRS = 10_000
#: Branch-and-bound nodes the HiGHS run may explore: its reproducible limit. Measured:
#: the root found each improvement; the 25-practitioner day was proved at node 15.
HIGHS_NODES = 32
#: Share of the wall clock left that the HiGHS run may take; the later stages keep the
#: rest.
HIGHS_WALL_SHARE = 0.75
#: Least share of the children to place that the plan leaves without a worker for the
#: HiGHS run: a day whose room is contested. Measured on the 150-practitioner days at
#: 30 s: where children compete for the room (stretched, packed: 76 % and 80 % left
#: without a worker) HiGHS kept 5 and 4 more families together; on the days with room
#: (none and 1 of 148 left) its root took 9 and 25 s and found nothing.
HIGHS_UNPLACED_SHARE = 0.05


def _highs_improves(whole: _WholeModels, key: str, work: float, unplaced: int) -> bool:
    """Whether stage ``key`` ends with a HiGHS run (:func:`_highs_step`): a tier in
    :data:`HIGHS_TIERS`, a stage given at least :data:`HIGHS_MIN_WORK` (half of it on a
    model within :data:`HIGHS_SMALL_PAIRS`), on a model of every eligible worker within
    :data:`HIGHS_PAIRS` pairs, on a day whose plan leaves
    ``unplaced`` children (at least :data:`HIGHS_UNPLACED_SHARE` of them) without a
    worker. Decided by the input and the settings alone, never by the clock, so that
    the plan is reproducible."""
    pairs = whole.pairs(key)
    least = HIGHS_MIN_WORK / 2 if pairs <= HIGHS_SMALL_PAIRS else HIGHS_MIN_WORK
    return (
        key in HIGHS_TIERS
        and work >= least
        and not whole.pruned
        and pairs <= HIGHS_PAIRS
        and unplaced >= HIGHS_UNPLACED_SHARE * len(whole.state.to_allocate)
    )


def _highs_step(
    state: ServiceState,
    whole: _WholeModels,
    key: str,
    placed: dict[str, str],
    floor: float,
    deadline: float,
) -> _Step:
    """Improve stage ``key`` from ``placed`` with HiGHS on its whole model, the tiers
    settled so far held (:func:`~allocator.engine.highs.improve_stage`); keep the
    result if better. ``floor``: the tier's bound so far (minimised form).

    A run the wall clock stops gives nothing and is flagged as cut short, so that a
    plan never depends on the machine's speed but where the plan says so."""
    from allocator.engine.highs import improve_stage

    seconds = HIGHS_WALL_SHARE * (deadline - time.perf_counter())
    if seconds <= 0:
        return _Step(placed, "feasible", floor, 0.0, cut_short=True)
    data = daily_input(state, whole.candidates, free=whole.cases_of(key))
    run = improve_stage(data, key, whole.settled, placed, seconds=seconds, nodes=HIGHS_NODES)
    bound = floor
    if run.bound is not None:
        bound = max(floor, math.ceil(run.bound - 1e-6))
    if run.decisions is not None and _stage_value(
        state, key, evaluate(state, run.decisions)
    ) < _stage_value(state, key, evaluate(state, placed)):
        placed = run.decisions
    return _Step(placed, run.status, bound, 0.0, run.cut_short)


@dataclass
class _DailyStages:
    """:class:`~allocator.engine.stages.StagedProblem` of a day's allocation: each
    stage improved by neighbourhoods, then on its whole model where it takes one."""

    state: ServiceState
    settings: Settings
    keys: tuple[str, ...]
    candidates: dict[str, list[str]]
    pools: dict[str, list[str]]
    whole: _WholeModels
    polish_work: float | None
    easy_bounds: _EasyBounds = field(init=False)
    _evaluated: tuple[dict[str, str], dict[str, int | float]] | None = None

    def __post_init__(self) -> None:
        self.easy_bounds = _EasyBounds.of(self.state)

    @property
    def n(self) -> int:
        return len(self.state.to_allocate)

    def values(self, decisions: Mapping[str, str]) -> dict[str, int | float]:
        """Every tier's plan value at ``decisions`` (the last plan's kept: a stage asks
        for its value and floor of one plan)."""
        if self._evaluated is None or self._evaluated[0] != decisions:
            self._evaluated = (dict(decisions), evaluate(self.state, decisions))
        return self._evaluated[1]

    def value(self, key: str, decisions: Mapping[str, str]) -> float:
        return minimised(key, self.values(decisions)[key], self.n)

    def floor(self, index: int, key: str, decisions: Mapping[str, str], deadline: float) -> float:
        values = self.values(decisions)
        floor = minimised(
            key, self.easy_bounds.at(self.state, int(values["unallocated"]))[key], self.n
        )
        if (
            _class_index(key, self.state) is not None
            and minimised(key, values[key], self.n) > floor
            and time.perf_counter() < deadline
        ):
            # The Hall bound counts children; the LP weighs them as the tier does.
            # (Only the classes: on the 150-practitioner day at 0.95 the continuity
            # tiers' LPs cost 0.1 to 0.2 s each, a quarter of a 2-second day, and
            # proved only expected changes, which the search reaches anyway.)
            lp = _lp_bound(self.state, key, self.whole.settled)
            floor = floor if lp is None else max(floor, lp)
        return floor

    def prepare(self, index: int, decisions: dict[str, str]) -> dict[str, str]:
        return decisions

    def budget(self, index: int, key: str, spent: float) -> float:
        """Stage ``index``'s work: the priority classes share
        :data:`CLASS_STAGES_SHARE` of the whole, the first continuity stage at least
        :data:`FIRST_CONTINUITY_SHARE` of what they leave, every later stage an even
        share of what is left; a re-solve's stages below its reference tier share
        ``polish_work``."""
        keys, total = self.keys, self.settings.work
        classes = len(self.state.policy.class_names)
        if index < classes:
            left = total * CLASS_STAGES_SHARE - spent
            return max(MIN_WORK, left / (classes - index))
        share = 1 / (len(keys) - index)
        if index == classes:
            share = max(share, FIRST_CONTINUITY_SHARE)
        work = max(MIN_WORK, (total - spent) * share)
        if self.polish_work is not None and REFERENCE_CHANGES in keys[: index + 1]:
            below = len(keys) - 1 - keys.index(REFERENCE_CHANGES)
            work = (
                max(MIN_WORK, total - spent - self.polish_work)
                if key == REFERENCE_CHANGES
                else max(MIN_WORK, self.polish_work / below)
            )
        return work

    def step(
        self,
        index: int,
        key: str,
        decisions: dict[str, str],
        floor: float,
        spent: float,
        deadline: float,
        tell: Tell,
    ) -> Step:
        # Work budgets, not seconds, decide where each stage stops (reproducible):
        # the time limit converted once, each stage a share of what is left. The
        # wall clock only guards the whole solve.
        work = self.budget(index, key, spent)
        whole, candidates, pools = self.whole, self.candidates, self.pools
        # Neighbourhoods first: cheap, many small exchanges. On a small service a
        # whole model then takes what is left, from the improved plan, to prove
        # the stage or improve it further.
        # Cases the manager's rule refilled after a class model may sit with a worker
        # outside their pools: the models must hold the plan (a hint they cannot
        # hold leaves CP-SAT to search from nothing).
        _offer_placements(candidates, decisions)
        _offer_placements(pools, decisions)
        if not whole.takes(key):
            lns_work = work
        elif _whole_model_leads(self.state, key) or whole.pairs(key) <= NEIGHBOURHOOD_PAIRS:
            lns_work = work * LNS_SHARE
        else:
            lns_work = max(MIN_WORK, work - CONTINUITY_WHOLE_WORK)
        placed, finished, used = _improve(
            self.state, pools, key, self.keys[:index], decisions, self.settings, deadline, lns_work
        )
        status, bound, cut_short = "feasible", floor, not finished
        tell(self.value(key, placed), floor)
        if whole.takes(key) and self.value(key, placed) > floor:
            step = _whole_model_step(
                self.state, whole, key, placed, floor, self.settings, deadline, work - used
            )
            placed, used = step.placed, used + step.used
            status, bound = step.status, max(bound, step.bound)
            cut_short = cut_short or step.cut_short
        unplaced = int(self.values(placed)["unallocated"])
        if _highs_improves(whole, key, work, unplaced) and self.value(key, placed) > bound:
            step = _highs_step(self.state, whole, key, placed, bound, deadline)
            placed = step.placed
            status = "optimal" if step.status == "optimal" else status
            bound = max(bound, step.bound)
            cut_short = cut_short or step.cut_short
        return Step(placed, status, bound, used, cut_short)

    def settle(self, key: str, value: float) -> None:
        self.whole.settle(key, value)

    def in_plan_units(self, key: str, value: float) -> float:
        return minimised(key, value, self.n)


def solve(
    state: ServiceState,
    settings: Settings | None = None,
    *,
    wall_seconds: float | None = None,
    polish_work: float | None = None,
) -> Result:
    """Allocate ``state.to_allocate`` optimally, or as well as the time allows.

    Stage by stage (tier by tier; the engine's one staged solve,
    :func:`allocator.engine.stages.solve_in_stages`): if the current plan meets the
    tier's easy bound the stage is done; otherwise large-neighbourhood search, then a
    whole-model solve where the stage takes one, improves it. Never worse than the
    greedy rule: the best warm start is where the search starts (a re-solve's, the
    plan it revises), and a plan is only ever replaced by one better on the stage
    being solved while every earlier tier is held.

    Parameters
    ----------
    state
        The service; its ``to_allocate`` are placed (and ``reference``, if set, is the
        plan a re-solve revises).
    settings
        Time limit, work budget, seed, search workers, progress
        (:class:`~allocator.contract.settings.Settings`); its defaults when ``None``.
    wall_seconds
        Wall-clock seconds the solve may take, if less than the time limit (the caller
        keeps the rest to read the input and write the plan); only a safety net, as
        the work budget decides where the search stops.
    polish_work
        A re-solve's (``ServiceState.reference``) work budget for the stages below
        its reference tier together, out of the whole budget; ``None``: they take
        their share of what is left, as every stage does.

    Returns
    -------
    Result
        The placements and every tier's value, bound and proof (:class:`TierResult`).
    """
    settings = settings or Settings()
    started = time.perf_counter()
    deadline = started + WALL_SHARE * (
        settings.time_limit if wall_seconds is None else wall_seconds
    )
    tiers = state_tiers(state)
    if not state.to_allocate:
        empty = evaluate(state, {})
        return Result(
            decisions={},
            tiers={t.key: TierResult(empty[t.key], empty[t.key], True) for t in tiers},
            pruned=False,
        )
    greedy = greedy_allocate(state)
    # Start from the best of the manager's rule and two tight packings, tier by tier.
    starts: tuple[dict[str, str], ...] = (
        greedy,
        packing_allocate(state, by_family=True),
        packing_allocate(state, by_family=False),
    )
    if state.reference is not None:
        # A re-solve: the plan it revises, kept wherever it still holds, is where the
        # search starts. A packing that places a child more moves hundreds of others,
        # and a search cut short by the clock before its reference stage kept them (on
        # a loaded machine, 146 children moved for one choice at 1,000 practitioners).
        start = revise_allocate(state, state.reference)
    else:
        start = min(starts, key=lambda p: tier_vector(evaluate(state, p), tiers))
    # Whole models take every eligible worker where they can (and so prove); the
    # neighbourhoods, built round after round, take pools above a smaller size.
    candidates, pruned = candidate_workers(state, starts)
    pools, pooled = candidate_workers(state, starts, full_pairs=NEIGHBOURHOOD_PAIRS)
    if pooled:
        _offer_room_left(state, pools, start)
    if pruned:
        candidates = pools
    if state.reference is not None:
        # A re-solve: each case may go back to its reference worker where the rules allow.
        kept = {c: w for c, w in state.reference.items() if w in state.eligible(c)}
        _offer_placements(candidates, kept)
        _offer_placements(pools, kept)
    problem = _DailyStages(
        state,
        settings,
        stage_keys(state),
        candidates,
        pools,
        _WholeModels(state, candidates, pruned=pruned),
        polish_work,
    )
    result = staged(problem, start, deadline=deadline, progress=settings.progress)
    result.pruned = pruned
    result.seconds = time.perf_counter() - started
    result.from_greedy = result.decisions == greedy
    result.variables = sum(len(ws) for ws in candidates.values())
    return result


def _offer_placements(candidates: dict[str, list[str]], placed: Mapping[str, str]) -> None:
    """Add each case's worker in ``placed`` to its candidates where it is missing."""
    for cid, wid in placed.items():
        if wid not in candidates[cid]:
            candidates[cid] = sorted([*candidates[cid], wid])


#: Extra candidates offered to each case the warm start leaves out.
ROOM_LEFT = 10


def _offer_room_left(
    state: ServiceState, candidates: dict[str, list[str]], start: Mapping[str, str]
) -> None:
    """Offer each case the warm start leaves out the workers with most room left.

    Pools are drawn from the room workers have before anything is placed; once the
    warm start has used it, the room that is left is where an unplaced child can go.
    """
    load = dict(state.load_kept)
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
