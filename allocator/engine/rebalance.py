"""The CP-SAT model of a rebalance: move as few children as the rules demand.

The unit of decision is a *group*: the movable children of one family held by one
worker (or, for referrals, the family's children with no worker). Siblings on the
same worker therefore move together by construction (a hard rule wherever the
family has a worker who may take all of them; see :mod:`allocator.rebalancing`).

One boolean per candidate (group, worker) pair and one ``stay[g]`` per group (for a
group that must move, ``stay`` means "found nobody" and is penalised in the first
tiers). One ``takes[f, w]`` per family and receiving worker when several groups of
the family could go there, for the intake limit and the siblings tier.

Tiers, minimised lexicographically in stages (as :mod:`allocator.engine.solve`):

1. ``unplaced``: children who must move and found nobody -- children of a worker
   who has left or is long absent, and referrals -- each weighted by its priority
   class (:func:`allocator.objectives.class_weights`): one child of a higher class
   outweighs every child of the classes below, and within a class every child
   counts alike (FORMAT.md "Who gets a worker first"). Leavers' children and
   referrals share the tier because the spec ranks children by class, not by why
   they have no worker: an urgent referral comes before a leaver's early-help
   child, and a leaver's court child before a child-in-need referral.
2. ``leavers_unplaced``: of those, the children who had a worker (who left or is
   long absent), counted. With tier 1 fixed this only decides, within a class,
   between a child who has just lost their worker and a referral: the first comes
   first. Without it the changes tiers would prefer the referral (placing it is no
   change of worker).
3. ``over_cap_excess``: centi-points over-capacity workers remain over their cap.
   Below the children without a worker: an over-cap worker's children have a worker,
   so relief never takes the room a child without one needs.
4. ``changes_of_worker``: children whose worker changes. With tiers 1 and 2 fixed
   only optional moves (off over-cap workers) can vary here, so fewer changes is
   never bought by leaving a child unplaced.
5. ``siblings_apart``: per family with a child the rebalance must or may move, the
   distinct workers holding its children after the plan, minus one, as the daily
   tier (:mod:`allocator.objectives`); children left without a worker hold nobody.
   A family only moved for cover or relief counts against its workers before
   instead, so a move that joins a child to their sibling's worker counts -1
   (:func:`siblings_apart`). Below ``changes_of_worker``: a manager does not change
   a child's worker only to join a sibling (and only over-cap workers' children
   could be so moved, an arbitrary few), but of the plans with fewest changes the
   one that keeps families together wins: a leaver's child goes to the worker who
   has their sibling, a new baby to a worker who has the family, and an over-cap
   worker's relief is the child whose sibling's worker has room. Above the cost of a
   change and balance, as siblings rank above previous workers and balance in the
   daily tiers.
6. ``weighted_changes``: the cost of those changes (see :mod:`allocator.rebalancing`).
7. ``balance``: the utilisation-penalty rise at the receivers
   (:func:`allocator.objectives.balance_cost`).

Receivers are only workers open for new work (present, staying, within their cap),
so no worker both gives and takes, and a source's load only falls.

Up to :data:`WHOLE_MODEL_PAIRS` (group, worker) pairs the
whole model is solved stage by stage, which proves optimality where it can. Above
it, large-neighbourhood search (:func:`_search_large`) improves the start in small
exact models, as the daily engine does.
"""

from __future__ import annotations

import functools
import math
import time
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from allocator.engine.candidates import spread_sample
from allocator.engine.lns import (
    BUILD_WORK_PER_VARIABLE,
    MIN_WORK,
    NEIGHBOURHOOD,
    Round,
    neighbourhood_search,
    stage_share,
)
from allocator.engine.solver import (
    WORK_PER_SECOND,
    Progress,
    ProgressCallback,
    configured_solver,
)

if TYPE_CHECKING:
    from ortools.sat.python import cp_model

#: Up to this many (group, worker) pairs the rebalance solves the whole model; above
#: it, neighbourhood search. The rebalance's own threshold, measured on it: on the
#: leavers' day (150 practitioners, 24k pairs, 10 s) the whole model did not improve
#: its start on the first tier, where the search left 245 children without a worker
#: against 257 (the daily engine's whole models pay off up to 60,000 pairs).
WHOLE_MODEL_PAIRS = 5_000

#: Tier keys in priority order.
REBALANCE_TIERS: tuple[str, ...] = (
    "unplaced",
    "leavers_unplaced",
    "over_cap_excess",
    "changes_of_worker",
    "siblings_apart",
    "weighted_changes",
    "balance",
)


@dataclass(frozen=True)
class Group:
    """Children who move (or stay) together.

    Attributes
    ----------
    id
        ``family@source`` (``family@new`` for referrals).
    cases
        The children, sorted.
    family
        Their family.
    source
        The worker they leave, ``None`` for referrals.
    must_move
        Their worker has left or is long absent, or they have none.
    weight
        Their combined weight, centi-points.
    cost, balance
        Per candidate worker: weighted-change cost and balance cost, summed over the
        children. The keys are the candidate workers.
    priority
        Their weight in the ``unplaced`` tier if they must move and find nobody: the
        sum of their priority classes' weights
        (:func:`allocator.objectives.class_weights`), set once for the whole
        rebalance so a neighbourhood weighs them alike.
    keeps_source
        Staying leaves them with ``source``, who still counts as their worker (a
        long-absent or over-cap worker); ``False`` for referrals and children of a
        worker who has left, who then have no worker.
    """

    id: str
    cases: tuple[str, ...]
    family: str
    source: str | None
    must_move: bool
    weight: int
    cost: Mapping[str, int]
    balance: Mapping[str, int]
    priority: int
    keeps_source: bool

    @property
    def changes(self) -> int:
        """Changes of worker if this group moves (referrals have no worker to change)."""
        return len(self.cases) if self.source is not None else 0


@dataclass
class RebalanceInput:
    """Everything the model needs, in integers and ids.

    Attributes
    ----------
    groups
        The movable groups.
    spare
        Receiver -> room left under their cap (centi-points).
    held_families
        Receiver -> families they hold a child of in the snapshot.
    intake_limit
        Most families new to a worker in one plan.
    excess
        Over-capacity source -> centi-points over cap before the plan.
    max_moves
        Most changes of worker, or ``None``.
    intake_used
        Receiver -> new families already given to them by placements outside the
        model (a neighbourhood of the large-neighbourhood search).
    holders
        Family -> the workers who hold one of its children whatever the groups do
        (children in no group; in a neighbourhood also the groups kept in place),
        for every family with a group. For a receiver ``w``, ``w`` is among a
        family's holders exactly when the family is in ``held_families[w]``.
    workers_before
        Family -> how many workers hold its children before the plan, for the
        families none of whose children needs a worker (only optional moves or
        cover touch them). Their ``siblings_apart`` term is workers after minus
        workers before (see :func:`siblings_apart`).
    """

    groups: list[Group]
    spare: dict[str, int]
    held_families: Mapping[str, frozenset[str]]
    intake_limit: int
    excess: dict[str, int]
    max_moves: int | None = None
    intake_used: Mapping[str, int] = field(default_factory=dict)
    holders: Mapping[str, frozenset[str]] = field(default_factory=dict)
    workers_before: Mapping[str, int] = field(default_factory=dict)

    def by_family(self) -> dict[str, list[Group]]:
        """The groups of each family, in input order."""
        out: dict[str, list[Group]] = defaultdict(list)
        for g in self.groups:
            out[g.family].append(g)
        return dict(out)


@dataclass
class RebalanceSolution:
    """Group id -> receiving worker (absent = stays / found nobody), and proof status."""

    moved: dict[str, str]
    proved: bool
    bounds: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    stages: list[str] = field(default_factory=list)
    variables: int = 0
    cut_short: bool = False


def tier_values(data: RebalanceInput, moved: Mapping[str, str]) -> dict[str, int]:
    """Every tier's value for ``moved``, in plain Python (matches the model exactly).

    Parameters
    ----------
    data
        The rebalance.
    moved
        Group id -> receiving worker; a group not in it stays.

    Returns
    -------
    dict
        Tier key -> value: ``unplaced`` in class-weighted children,
        ``leavers_unplaced``, ``changes_of_worker`` in children,
        ``over_cap_excess`` in centi-points, ``siblings_apart`` in workers,
        ``weighted_changes`` and ``balance`` in their cost units.
    """
    relief: dict[str, int] = defaultdict(int)
    values = dict.fromkeys(REBALANCE_TIERS, 0)
    for g in data.groups:
        w = moved.get(g.id)
        if w is None:
            if g.must_move:
                values["unplaced"] += g.priority
                if g.source is not None:
                    values["leavers_unplaced"] += len(g.cases)
            continue
        if g.source is not None:
            relief[g.source] += g.weight
        values["changes_of_worker"] += g.changes
        values["weighted_changes"] += g.cost[w]
        values["balance"] += g.balance[w]
    values["over_cap_excess"] = sum(max(0, e - relief[s]) for s, e in data.excess.items())
    values["siblings_apart"] = siblings_apart(data, moved)
    return values


def siblings_apart(data: RebalanceInput, moved: Mapping[str, str]) -> int:
    """The ``siblings_apart`` tier: extra workers across the families with a group.

    A family's workers after the plan are its fixed holders, the receiver of each
    group that moves, and the source of each group that stays and keeps them
    (:attr:`Group.keeps_source`); a child left without a worker holds nobody. A
    family with a child who needs a worker (a referral, a leaver's child) counts its
    workers after minus one, as the daily tier. A family whose children all have a
    worker (moved only for cover or relief) counts its workers after minus its
    workers before: 0 while the plan leaves it as it was, -1 when a move joins a
    child to their sibling's worker. That ranks plans exactly as counting such a
    family's workers after minus one (the two differ by a constant), and agrees with
    the daily figure (:func:`allocator.objectives.evaluate`) whenever no such family
    is moved.
    """
    return sum(
        _family_apart(data, family, groups, moved) for family, groups in data.by_family().items()
    )


def tier_floor(data: RebalanceInput, key: str) -> int:
    """A value no plan can beat on tier ``key``: a stage at it needs no search.

    0 for every tier but ``siblings_apart``, which can go below 0 (see
    :func:`siblings_apart`): per family, its best term (:func:`_family_floor`).
    """
    if key != "siblings_apart":
        return 0
    return sum(_family_floor(data, family) for family in data.by_family())


def _family_floor(data: RebalanceInput, family: str) -> int:
    """The least ``siblings_apart`` term of one family: all its children with one worker.

    Its fixed holders stay; a family whose children all have a worker keeps at least
    one.
    """
    fixed = len(data.holders.get(family, ()))
    before = data.workers_before.get(family)
    return max(1, fixed) - before if before is not None else max(0, fixed - 1)


def _family_apart(
    data: RebalanceInput, family: str, groups: list[Group], moved: Mapping[str, str]
) -> int:
    """One family's ``siblings_apart`` term (``groups``: all its groups in ``data``)."""
    workers = set(data.holders.get(family, ()))
    for g in groups:
        w = moved.get(g.id)
        if w is not None:
            workers.add(w)
        elif g.keeps_source and g.source is not None:
            workers.add(g.source)
    before = data.workers_before.get(family)
    return len(workers) - before if before is not None else max(0, len(workers) - 1)


class RebalanceModel:
    """CP-SAT variables, hard rules and tier expressions of one rebalance."""

    def __init__(self, data: RebalanceInput) -> None:
        self.data = data
        from ortools.sat.python import cp_model  # here: the groups above need no solver

        self.model = cp_model.CpModel()
        self.y: dict[tuple[str, str], cp_model.IntVar] = {}
        self.stay: dict[str, cp_model.IntVar] = {}
        self.by_worker: dict[str, list[tuple[Group, cp_model.IntVar]]] = defaultdict(list)
        for g in data.groups:
            self.stay[g.id] = self.model.new_bool_var(f"stay[{g.id}]")
            for w in sorted(g.cost):
                var = self.model.new_bool_var(f"y[{g.id},{w}]")
                self.y[g.id, w] = var
                self.by_worker[w].append((g, var))

        # takes[family, w] with the groups it stands for, so a hint can set it too.
        self.takes: dict[tuple[str, str], tuple[cp_model.IntVar, list[str]]] = {}
        self.families = data.by_family()

        # Hard rules, then the tiers in priority order.
        self._one_place_per_group()
        self._weighted_cap()
        self._intake_limit()
        self._max_moves()
        self.tiers: dict[str, tuple[cp_model.LinearExprT, int]] = {
            "unplaced": self._unplaced(),
            "leavers_unplaced": self._leavers_unplaced(),
            "over_cap_excess": self._over_cap_excess(),
            "changes_of_worker": self._changes_of_worker(),
            "siblings_apart": self._keep_families_together(),
            "weighted_changes": self._weighted_changes(),
            "balance": self._balance(),
        }

    # ------------------------------------------------------------------ hard rules

    def _one_place_per_group(self) -> None:
        for g in self.data.groups:
            self.model.add_exactly_one(
                [self.stay[g.id], *(self.y[g.id, w] for w in sorted(g.cost))]
            )

    def _weighted_cap(self) -> None:
        for w, pairs in self.by_worker.items():
            spare = self.data.spare[w]
            if sum(g.weight for g, _ in pairs) > spare:
                self.model.add(sum(g.weight * v for g, v in pairs) <= spare)

    def _family_worker(self, family: str, w: str) -> cp_model.IntVar:
        """A boolean that is 1 exactly when ``w`` receives a group of ``family``.

        The pair variable itself where only one of the family's groups may go to
        ``w``; else ``takes[family, w]``, made once and shared by the intake limit and
        the siblings tier.
        """
        groups = [g for g in self.families[family] if w in g.cost]
        if len(groups) == 1:
            return self.y[groups[0].id, w]
        known = self.takes.get((family, w))
        if known is not None:
            return known[0]
        takes = self.model.new_bool_var(f"takes[{family},{w}]")
        vars_ = [self.y[g.id, w] for g in groups]
        for v in vars_:
            self.model.add_implication(v, takes)
        # Linear (not an enforced clause) so the LP relaxation sees it; keeps it exact.
        self.model.add(takes <= sum(vars_))
        self.takes[family, w] = (takes, [g.id for g in groups])
        return takes

    def _intake_limit(self) -> None:
        """Families new to a receiver, one indicator per (family, receiver)."""
        limit = self.data.intake_limit
        new: dict[str, list[cp_model.IntVar]] = defaultdict(list)
        for w, pairs in sorted(self.by_worker.items()):
            held = self.data.held_families.get(w, frozenset())
            for family in sorted({g.family for g, _ in pairs} - held):
                new[w].append(self._family_worker(family, w))
        for w, vars_ in new.items():
            room = limit - self.data.intake_used.get(w, 0)
            if len(vars_) > room:
                self.model.add(sum(vars_) <= room)

    def _max_moves(self) -> None:
        if self.data.max_moves is not None:
            self.model.add(
                sum(g.changes * (1 - self.stay[g.id]) for g in self.data.groups if g.changes)
                <= self.data.max_moves
            )

    # ------------------------------------------------------------------ tiers

    def _unplaced(self) -> tuple[cp_model.LinearExprT, int]:
        """Children who must move and found nobody, weighted by priority class."""
        must = [g for g in self.data.groups if g.must_move]
        return sum(g.priority * self.stay[g.id] for g in must), sum(g.priority for g in must)

    def _leavers_unplaced(self) -> tuple[cp_model.LinearExprT, int]:
        """Children of a worker who left or is long absent who found nobody, counted."""
        lost = [g for g in self.data.groups if g.must_move and g.source is not None]
        return sum(len(g.cases) * self.stay[g.id] for g in lost), sum(len(g.cases) for g in lost)

    def _over_cap_excess(self) -> tuple[cp_model.LinearExprT, int]:
        """Per over-cap source, ``max(0, excess - weight moved off)`` as a slack."""
        off: dict[str, list[Group]] = defaultdict(list)
        for g in self.data.groups:
            if g.source in self.data.excess:
                off[g.source].append(g)
        self.remaining: dict[str, cp_model.IntVar] = {}
        for s, excess in sorted(self.data.excess.items()):
            r = self.model.new_int_var(0, excess, f"remaining[{s}]")
            self.model.add(r >= excess - sum(g.weight * (1 - self.stay[g.id]) for g in off[s]))
            self.remaining[s] = r
        return sum(self.remaining.values()), sum(self.data.excess.values())

    def _changes_of_worker(self) -> tuple[cp_model.LinearExprT, int]:
        moving = [g for g in self.data.groups if g.changes]
        return (
            sum(g.changes * (1 - self.stay[g.id]) for g in moving),
            sum(g.changes for g in moving),
        )

    def _keep_families_together(self) -> tuple[cp_model.LinearExprT, int]:
        """Per family with a group, as :func:`siblings_apart`.

        A family's workers are its fixed holders plus one boolean per other worker it
        may end with: a receiver taking one of its groups (:meth:`_family_worker`),
        or a source kept by a group that stays (``keep[f, s]``). A family with a
        child who needs a worker and no fixed holder counts ``max(0, n - 1)`` through
        a non-negative ``split[f]`` pushed down by the objective.
        """
        self.keep: dict[tuple[str, str], tuple[cp_model.IntVar, list[str]]] = {}
        self.split: dict[str, cp_model.IntVar] = {}
        constant = 0
        terms: list[cp_model.LinearExprT] = []
        most = 0
        for family, groups in sorted(self.families.items()):
            holders = self.data.holders.get(family, frozenset())
            receivers = sorted({w for g in groups for w in g.cost} - holders)
            ends = [self._family_worker(family, w) for w in receivers]
            kept: dict[str, list[Group]] = defaultdict(list)
            for g in groups:
                if g.keeps_source and g.source is not None and g.source not in holders:
                    kept[g.source].append(g)
            for source, staying in sorted(kept.items()):
                if len(staying) == 1:
                    ends.append(self.stay[staying[0].id])
                    continue
                keep = self.model.new_bool_var(f"keep[{family},{source}]")
                for g in staying:
                    self.model.add_implication(self.stay[g.id], keep)
                self.model.add(keep <= sum(self.stay[g.id] for g in staying))
                self.keep[family, source] = (keep, [g.id for g in staying])
                ends.append(keep)
            before = self.data.workers_before.get(family)
            if before is not None:
                constant += len(holders) - before
                terms.extend(ends)
            elif holders:
                constant += len(holders) - 1
                terms.extend(ends)
            elif len(groups) > 1 and len(ends) > 1:  # one group holds one worker at most
                split = self.model.new_int_var(0, len(ends) - 1, f"split[{family}]")
                self.model.add(split >= sum(ends) - 1)
                self.split[family] = split
                terms.append(split)
            most += len(holders) + len(ends)
        return constant + sum(terms), most

    def _weighted_changes(self) -> tuple[cp_model.LinearExprT, int]:
        expr = sum(
            g.cost[w] * self.y[g.id, w] for g in self.data.groups for w in g.cost if g.cost[w]
        )
        return expr, sum(max(g.cost.values(), default=0) for g in self.data.groups)

    def _balance(self) -> tuple[cp_model.LinearExprT, int]:
        expr = sum(
            g.balance[w] * self.y[g.id, w]
            for g in self.data.groups
            for w in g.balance
            if g.balance[w]
        )
        return expr, sum(max(g.balance.values(), default=0) for g in self.data.groups)

    # ------------------------------------------------------------------ helpers

    def hint(self, moved: Mapping[str, str]) -> None:
        """A complete hint: every decision and slack variable."""
        self.model.clear_hints()  # type: ignore[no-untyped-call]  # untyped in OR-Tools
        for (gid, w), var in self.y.items():
            self.model.add_hint(var, moved.get(gid) == w)
        for gid, var in self.stay.items():
            self.model.add_hint(var, gid not in moved)
        relief: dict[str, int] = defaultdict(int)
        for g in self.data.groups:
            if g.id in moved and g.source is not None:
                relief[g.source] += g.weight
        for s, var in self.remaining.items():
            self.model.add_hint(var, max(0, self.data.excess[s] - relief[s]))
        for (_, w), (var, gids) in self.takes.items():
            self.model.add_hint(var, any(moved.get(gid) == w for gid in gids))
        for var, gids in self.keep.values():
            self.model.add_hint(var, any(gid not in moved for gid in gids))
        for family, var in self.split.items():
            self.model.add_hint(var, max(0, self._workers_after(family, moved) - 1))

    def _workers_after(self, family: str, moved: Mapping[str, str]) -> int:
        """How many of the family's possible end workers (not fixed holders) ``moved`` uses."""
        holders = self.data.holders.get(family, frozenset())
        ends: set[str] = set()
        for g in self.families[family]:
            w = moved.get(g.id)
            if w is not None:
                ends.add(w)
            elif g.keeps_source and g.source is not None:
                ends.add(g.source)
        return len(ends - holders)

    def moves(self, solver: cp_model.CpSolver) -> dict[str, str]:
        """Group id -> worker in the solver's current solution."""
        return {gid: w for (gid, w), var in self.y.items() if solver.boolean_value(var)}


def solve_rebalance(
    data: RebalanceInput,
    warm: Mapping[str, str],
    *,
    time_limit: float = 30.0,
    seed: int = 0,
    workers: int = 1,
    work: float | None = None,
    progress: ProgressCallback | None = None,
) -> RebalanceSolution:
    """Minimise the tiers lexicographically, one stage per tier, from ``warm``.

    ``warm`` (the greedy plan) must satisfy the hard rules. Each stage starts from the
    best plan so far as a complete hint and is then bounded by the value reached, so
    the answer is never worse than ``warm`` on any tier, in priority order.

    Each stage is limited by CP-SAT deterministic work: ``time_limit`` converted once
    at :data:`WORK_PER_SECOND`, shared equally among the stages still to run, with
    what earlier stages did not use passed on. The same input then gives the same
    plan on any machine; the wall clock only guards the whole solve and a run it cuts
    short is flagged (``cut_short``). ``work``, when given, is the whole budget in
    work units instead of the converted time limit. ``progress`` is told of each stage
    that searches, as it starts and ends (:class:`~allocator.engine.solver.Progress`).
    """
    from ortools.sat.python import cp_model

    started = time.perf_counter()
    deadline = started + time_limit
    # Work budgets, not seconds, decide where each stage stops (reproducible): the
    # time limit converted once (or the caller's budget), then what each stage spent.
    work_left = time_limit * WORK_PER_SECOND if work is None else work
    moved = dict(warm)
    pairs = sum(len(g.cost) for g in data.groups)
    if pairs > WHOLE_MODEL_PAIRS:
        return _search_large(data, moved, started, deadline, work_left, seed, workers, progress)
    cut_short = False
    m = RebalanceModel(data)
    proved = True
    bounds: dict[str, int] = {}
    log: list[str] = []
    for index, key in enumerate(REBALANCE_TIERS):
        expr, _ = m.tiers[key]
        current = tier_values(data, moved)[key]
        if current == tier_floor(data, key) or isinstance(expr, int):
            log.append(f"{key}: optimal (at its floor)")
        else:
            _tell(progress, index, current, tier_floor(data, key))
            work = max(MIN_WORK, work_left / (len(REBALANCE_TIERS) - index))
            m.hint(moved)
            m.model.minimize(expr)
            solver = configured_solver(
                seconds=deadline - time.perf_counter(),
                work=work,
                seed=seed,
                workers=workers,
            )
            status = solver.solve(m.model)
            used = solver.response_proto.deterministic_time
            work_left -= used
            # Stopped by the clock rather than by proof or by its work budget.
            cut_short = cut_short or (status != cp_model.OPTIMAL and used < work * 0.99)
            if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
                found = m.moves(solver)
                if tier_values(data, found)[key] < current:
                    moved = found
            optimal = status == cp_model.OPTIMAL
            log.append(f"{key}: {solver.status_name(status).lower()}")
            if not optimal and proved:
                proved = False
                if status == cp_model.FEASIBLE:
                    # CP-SAT may stop with a bound below what any plan can reach
                    # (e.g. negative on a sum of children): the floor is as valid.
                    bound = math.ceil(solver.best_objective_bound - 1e-6)
                    bounds[key] = max(tier_floor(data, key), bound)
            value = tier_values(data, moved)[key]
            _tell(
                progress, index, value, value if optimal else bounds.get(key, tier_floor(data, key))
            )
        if not isinstance(expr, int):  # an empty tier is the constant 0
            m.model.add(expr <= tier_values(data, moved)[key])
    return RebalanceSolution(
        moved=moved,
        proved=proved,
        bounds=bounds,
        seconds=time.perf_counter() - started,
        stages=log,
        variables=len(m.y),
        cut_short=cut_short,
    )


def _search_large(
    data: RebalanceInput,
    moved: dict[str, str],
    started: float,
    deadline: float,
    work_left: float,
    seed: int,
    workers: int,
    progress: ProgressCallback | None = None,
) -> RebalanceSolution:
    """Large-neighbourhood search, tier by tier, for rebalances too big to solve whole.

    Measured on the leavers' day benchmark (150 practitioners, 24k pair variables):
    the whole model spent a 10 s budget on presolve and search without improving
    its start. Here each round frees the groups where the tier can improve and the
    groups placed with the workers they could go to, and solves just those exactly;
    every other group keeps its place and uses up its worker's room, intake and
    moves (:func:`_neighbourhood_input`). A round's result is kept when the tier
    improves with every earlier tier held, so the plan is never worse than ``moved``.
    Optimality is not proved.
    """
    log: list[str] = []
    cut_short = False
    for index, key in enumerate(REBALANCE_TIERS):
        if tier_values(data, moved)[key] == tier_floor(data, key):
            log.append(f"{key}: optimal (at its floor)")
            continue
        floor = tier_floor(data, key)
        _tell(progress, index, tier_values(data, moved)[key], floor)
        share = stage_share(index, len(REBALANCE_TIERS))
        moved, finished, spent = neighbourhood_search(
            moved,
            trouble=functools.partial(_trouble, data, key),
            solve_round=functools.partial(
                _solve_round, data, index, deadline=deadline, seed=seed, workers=workers
            ),
            better=functools.partial(_improves, data, index),
            work=max(MIN_WORK, work_left * share),
            deadline=deadline,
            sweeps=SWEEPS,
        )
        work_left -= spent
        cut_short = cut_short or not finished
        log.append(f"{key}: feasible (neighbourhood search)")
        _tell(progress, index, tier_values(data, moved)[key], floor)
    return RebalanceSolution(
        moved=moved,
        proved=False,
        seconds=time.perf_counter() - started,
        stages=log,
        variables=sum(len(g.cost) for g in data.groups),
        cut_short=cut_short,
    )


def _tell(progress: ProgressCallback | None, index: int, value: int, bound: int) -> None:
    """Report stage ``index`` of the rebalance at ``value``, proved no better than ``bound``."""
    if progress is not None:
        stages = len(REBALANCE_TIERS)
        progress(Progress(REBALANCE_TIERS[index], index + 1, stages, value, min(bound, value)))


def _solve_round(
    data: RebalanceInput,
    index: int,
    plan: dict[str, str],
    seeds: list[str],
    sweep: int,
    work_left: float,
    *,
    deadline: float,
    seed: int,
    workers: int,
) -> Round[dict[str, str]]:
    """One neighbourhood of stage ``index``: its tier minimised, earlier tiers held."""
    from ortools.sat.python import cp_model

    key = REBALANCE_TIERS[index]
    free, receivers = _free_groups(data, seeds, plan, sweep)
    covered = [gid for gid in seeds if gid in free]
    sub = _neighbourhood_input(data, free, receivers, plan)
    m = RebalanceModel(sub)
    now = tier_values(sub, plan)
    for held in REBALANCE_TIERS[:index]:
        expr, _ = m.tiers[held]
        if not isinstance(expr, int):
            m.model.add(expr <= now[held])
    expr, _ = m.tiers[key]
    charge = BUILD_WORK_PER_VARIABLE * (len(m.y) + len(data.groups))
    if isinstance(expr, int):  # nothing in this neighbourhood counts for the tier
        return Round(covered, None, charge)
    m.hint(plan)
    m.model.minimize(expr)
    solver = configured_solver(
        seconds=deadline - time.perf_counter(),
        work=min(ROUND_WORK, work_left),
        seed=seed,
        workers=workers,
    )
    status = solver.solve(m.model)
    charge += solver.response_proto.deterministic_time
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return Round(covered, None, charge)
    found = {gid: w for gid, w in plan.items() if gid not in free} | m.moves(solver)
    return Round(covered, found, charge)


def _improves(
    data: RebalanceInput, index: int, found: Mapping[str, str], plan: Mapping[str, str]
) -> bool:
    """Whether ``found`` beats ``plan`` on the tiers up to ``index``, in priority order."""
    before, after = tier_values(data, plan), tier_values(data, found)
    tiers = REBALANCE_TIERS[: index + 1]
    return [after[k] for k in tiers] < [before[k] for k in tiers]


def _trouble(data: RebalanceInput, key: str, moved: Mapping[str, str]) -> list[str]:
    """Groups where tier ``key`` can improve, in a fixed order."""
    waiting = [g for g in data.groups if g.id not in moved and g.cost]  # somewhere to go
    if key == "unplaced":  # highest priority class first
        must = [g for g in waiting if g.must_move]
        return [g.id for g in sorted(must, key=lambda g: -g.priority / len(g.cases))]
    if key == "leavers_unplaced":
        return [g.id for g in waiting if g.must_move and g.source is not None]
    if key == "over_cap_excess":
        return [g.id for g in waiting if g.source in data.excess]
    if key == "changes_of_worker":
        return [g.id for g in data.groups if g.id in moved and not g.must_move]
    if key == "siblings_apart":  # every group of a family the plan leaves split
        split = {
            f
            for f, groups in data.by_family().items()
            if _family_apart(data, f, groups, moved) > _family_floor(data, f)
        }
        return [g.id for g in data.groups if g.family in split and g.cost]
    field_of = {"weighted_changes": "cost", "balance": "balance"}[key]
    placed = [g for g in data.groups if g.id in moved]
    return [
        g.id
        for g in sorted(placed, key=lambda g: (-getattr(g, field_of)[moved[g.id]], g.id))
        if getattr(g, field_of)[moved[g.id]] > min(getattr(g, field_of).values())
    ]


#: Per seed group in a rebalance neighbourhood: receivers with most room, and spread.
ROOMIEST = 4
SPREAD = 4
#: CP-SAT work per neighbourhood: a round that cannot prove its optimum soon is
#: rarely worth more than several other rounds.
ROUND_WORK = 0.1
#: Sweeps over a tier's groups, each offering other receivers, before the tier ends.
SWEEPS = 3


def _free_groups(
    data: RebalanceInput, seeds: list[str], moved: Mapping[str, str], sweep: int
) -> tuple[set[str], set[str]]:
    """A neighbourhood: ``seeds``, a few receivers for each, and the groups they took.

    Rebalance groups can each go to a hundred workers, so a neighbourhood is a
    handful of receivers per seed (those with most room left, an even spread offset
    by the group id and the ``sweep``, so rounds and sweeps differ, and the workers
    its family has or is given, so siblings can join) and the groups placed with
    them, each offered only those receivers and its own. Returns the groups and the
    receivers.
    """
    by_id = {g.id: g for g in data.groups}
    by_worker: dict[str, list[str]] = defaultdict(list)
    family_workers: dict[str, set[str]] = defaultdict(set)
    room = dict(data.spare)
    for gid, w in sorted(moved.items()):
        by_worker[w].append(gid)
        room[w] -= by_id[gid].weight
        family_workers[by_id[gid].family].add(w)
    free: set[str] = set()
    receivers: set[str] = set()
    for seed in seeds:
        g = by_id[seed]
        options = sorted(g.cost)
        roomiest = sorted(options, key=lambda w: (-room[w], w))[:ROOMIEST]
        chosen = set(roomiest) | set(spread_sample(options, SPREAD, f"{seed}/{sweep}"))
        chosen |= (family_workers[g.family] | data.holders.get(g.family, frozenset())) & set(
            options
        )
        if moved.get(seed):
            chosen.add(moved[seed])
        around = {seed} | {gid for w in chosen for gid in by_worker[w]}
        if free and len(free | around) > NEIGHBOURHOOD:
            break
        free |= around
        receivers |= chosen
    return free, receivers


def _neighbourhood_input(
    data: RebalanceInput, free: set[str], receivers: set[str], moved: Mapping[str, str]
) -> RebalanceInput:
    """The rebalance of the ``free`` groups with every other group kept where it is.

    Each free group may go to ``receivers`` or stay where it is. Kept groups use up
    their receivers' room, intake and the move budget, relieve their over-cap
    sources, and make their family known to their receiver; a kept group is a fixed
    holder of its family (its receiver, or its source if it stays with them). So each
    tier of the smaller model is the whole
    plan's tier less a constant.
    """
    spare = dict(data.spare)
    held = {w: set(families) for w, families in data.held_families.items()}
    intake_used: dict[str, int] = defaultdict(int)
    relief: dict[str, int] = defaultdict(int)
    deciding = {g.family for g in data.groups if g.id in free}
    holders = {f: set(data.holders.get(f, ())) for f in deciding}
    changes = 0
    for g in data.groups:
        w = moved.get(g.id)
        if g.id in free:
            continue
        if g.family in deciding:
            if w is not None:
                holders[g.family].add(w)
            elif g.keeps_source and g.source is not None:
                holders[g.family].add(g.source)
        if w is None:
            continue
        spare[w] -= g.weight
        if g.family not in held.setdefault(w, set()):
            held[w].add(g.family)
            intake_used[w] += 1
        if g.source is not None:
            relief[g.source] += g.weight
        changes += g.changes
    groups = []
    for g in data.groups:
        if g.id in free:
            offered = receivers | {moved[g.id]} if g.id in moved else receivers
            groups.append(
                replace(
                    g,
                    cost={w: c for w, c in g.cost.items() if w in offered},
                    balance={w: b for w, b in g.balance.items() if w in offered},
                )
            )
    return RebalanceInput(
        groups=groups,
        spare=spare,
        held_families={w: frozenset(families) for w, families in held.items()},
        intake_limit=data.intake_limit,
        excess={s: e - relief[s] for s, e in data.excess.items() if e > relief[s]},
        max_moves=None if data.max_moves is None else data.max_moves - changes,
        intake_used=intake_used,
        holders={f: frozenset(ws) for f, ws in holders.items()},
        workers_before={f: n for f, n in data.workers_before.items() if f in deciding},
    )
