"""The CP-SAT model of a rebalance: move as few children as the rules demand.

The unit of decision is a *group*: the movable children of one family held by one
worker (or, for referrals, the family's children with no worker). Siblings on the
same worker therefore move together by construction (a hard rule wherever the
family has a worker who may take all of them, except for a departing worker's
children, offered one by one; see :mod:`allocator.problems.rebalancing`).

One boolean per candidate (group, worker) pair and one ``stay[g]`` per group (for a
group that must move, ``stay`` means "found nobody" and is penalised in the first
tiers). One ``takes[f, w]`` per family and receiving worker when several groups of
the family could go there, for the intake limit and the siblings tier.

Tiers, minimised lexicographically in stages (as :mod:`allocator.engine.solve`):

0. ``unplaced_first_class``: the children of the first priority class (urgent by
   default: seen today) who must move, or are a departing worker's to hand over,
   and found nobody, each by their waiting weight (``ServiceState.waiting_weight``);
   and handovers promised by an earlier plan, still possible, not kept (as an urgent
   child referred today each: the child has been told).
0a. ``unplaced_upper_classes``: the children of the priority classes after the first
   down to the policy's ``over_cap_relief_after``
   (:func:`allocator.domain.objectives.classes_before_relief`; none by default) who
   must move, or are a departing worker's to hand over, and found nobody, each by
   their class's weight times their waiting weight (as in ``unplaced``).
0b. ``over_cap_excess``: centi-points over-capacity workers remain over their cap.
   After the classes above and before the rest: by default after the urgent children
   and before every other class, so a cap broken by events (a complexity rise) is
   restored before room goes to a child of a lower class. The simulated year showed
   relief after the statutory class no better and no worse on issue 19's count of
   targets (docs/FORMAT.md "Over-cap relief"; benchmarks/YEAR.md), so the choice is
   the council's. The relieved child keeps their worker if nobody may take them.
1. ``unplaced``: children who must move and found nobody -- children of a worker
   who has left or is long absent, and referrals -- each weighted by its priority
   class (:func:`allocator.domain.objectives.class_weights`) times its waiting weight: one
   child of a higher class outweighs every child of the classes below, and within a
   class a child who has waited longer counts more (FORMAT.md "Who gets a worker
   first", "no child is starved"). Leavers' children and referrals share the tier
   because the spec ranks children by class, not by why they have no worker: an
   urgent referral comes before a leaver's early-help child, and a leaver's court
   child before a child-in-need referral. A departing worker's child whose handover
   is not planned counts here too, as the longest wait the policy's rule counts:
   planned now, the handover spares them the wait that would start on the day.
2. ``leavers_unplaced``: of those, the children who had a worker (who left or is
   long absent), counted. With tier 1 fixed this only decides, within a class,
   between a child who has just lost their worker and a referral: the first comes
   first. Without it the changes tiers would prefer the referral (placing it is no
   change of worker).
2a. ``handovers_unplanned``: children of a worker who departs within the leaving
   window (leaves, or starts a planned long absence) with no receiver planned,
   weighted as in tier 1, for the plan's own figure. Moving such a child plans the
   handover (:mod:`allocator.problems.rebalancing`).
4. ``changes_of_worker``: children whose worker changes. With tiers 1 and 2 fixed
   only optional moves (off over-cap workers) can vary here, so fewer changes is
   never bought by leaving a child unplaced.
5. ``siblings_apart``: per family with a child the rebalance must or may move, the
   distinct workers holding its children after the plan, minus one, as the daily
   tier (:mod:`allocator.domain.objectives`); children left without a worker hold nobody.
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
5a. ``expected_changes``: the look-ahead, as the daily tier
   (:func:`allocator.domain.objectives.expected_changes_cost`): below siblings, so it never
   splits a family; above the changes' cost and balance.
6. ``weighted_changes``: the cost of those changes (see :mod:`allocator.problems.rebalancing`).
7. ``balance``: the utilisation-penalty rise at the receivers
   (:func:`allocator.domain.objectives.balance_cost`).

Receivers are only workers open for new work (present, staying, within their cap),
so no worker both gives and takes, and a source's load only falls.

Up to :data:`WHOLE_MODEL_PAIRS` (group, worker) pairs the
whole model is solved stage by stage, which proves optimality where it can. Above
it, large-neighbourhood search (:func:`_search`) improves the start in small
exact models, as the daily engine does.
"""

from __future__ import annotations

import functools
import time
from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace

from allocator.contract.settings import Settings
from allocator.contract.units import CentiPoints
from allocator.domain.result import Result
from allocator.engine.candidates import spread_sample
from allocator.engine.core import (
    CoreInput,
    CoreModel,
    Item,
    family_apart,
    family_floor,
    run_stage,
    solve_core_in_stages,
)
from allocator.engine.core import tier_floor as core_tier_floor
from allocator.engine.core import tier_values as core_tier_values
from allocator.engine.lns import (
    BUILD_WORK_PER_VARIABLE,
    FIRST_STAGE_SHARE,
    NEIGHBOURHOOD,
    Round,
    neighbourhood_search,
)

#: Up to this many (group, worker) pairs the rebalance solves the whole model; above
#: it, neighbourhood search. The rebalance's own threshold, measured on it: on the
#: leavers' day (150 practitioners, 24k pairs, 10 s) the whole model did not improve
#: its start on the first tier, where the search left 245 children without a worker
#: against 257 (the daily engine's whole models pay off up to 60,000 pairs).
WHOLE_MODEL_PAIRS = 5_000

#: Tier keys in priority order.
REBALANCE_TIERS: tuple[str, ...] = (
    "unplaced_first_class",
    "unplaced_upper_classes",
    "over_cap_excess",
    "unplaced",
    "leavers_unplaced",
    "handovers_unplanned",
    "changes_of_worker",
    "siblings_apart",
    "expected_changes",
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
        (:func:`allocator.domain.objectives.class_weights`), set once for the whole
        rebalance so a neighbourhood weighs them alike.
    keeps_source
        Staying leaves them with ``source``, who still counts as their worker (a
        long-absent or over-cap worker); ``False`` for referrals and children of a
        worker who has left, who then have no worker.
    handover
        Their worker departs within the leaving window (leaves, or starts a long
        absence): moving them plans a handover ahead, and staying counts in
        ``handovers_unplanned`` (weighted by class, as ``priority``).
    first_class
        Their weight in ``unplaced_first_class`` if they must move (or are handed
        over) and find nobody: the waiting weights of those of them in the first
        priority class (urgent by default), plus, for a handover promised before and
        still possible, each child's weight as a first-class child referred today
        (breaking a promise costs as leaving an urgent child would); 0 for the rest.
    upper_classes
        Their weight in ``unplaced_upper_classes`` if they must move (or are handed
        over) and find nobody: as ``priority``, over those of them in a priority class
        after the first and served before over-cap relief; 0 for the rest.
    promised, promise_cost
        The receiver a handover promised before and still possible names, and what
        breaking the promise costs in ``unplaced_first_class`` (included in
        ``first_class``): charged if the group stays or goes to any other worker.
        The group keeps every candidate worker, so a promise broken by a child of
        the first class, who needed the receiver's room, is planned again elsewhere
        instead of leaving the child with no handover.
    look_ahead
        Per candidate worker: the look-ahead cost (``expected_changes``) summed over
        the children; a worker not named costs 0.
    """

    id: str
    cases: tuple[str, ...]
    family: str
    source: str | None
    must_move: bool
    weight: CentiPoints
    cost: Mapping[str, int]
    balance: Mapping[str, int]
    priority: int
    keeps_source: bool
    handover: bool = False
    first_class: int = 0
    upper_classes: int = 0
    promised: str | None = None
    promise_cost: int = 0
    look_ahead: Mapping[str, int] = field(default_factory=dict)

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
    spare: dict[str, CentiPoints]
    held_families: Mapping[str, frozenset[str]]
    intake_limit: int
    excess: dict[str, int]
    max_moves: int | None = None
    intake_used: Mapping[str, int] = field(default_factory=dict)
    holders: Mapping[str, frozenset[str]] = field(default_factory=dict)
    workers_before: Mapping[str, int] = field(default_factory=dict)

    @functools.cached_property
    def core(self) -> CoreInput:
        """This rebalance as the engine's one model input (:func:`core_input`)."""
        return core_input(self)


def core_input(data: RebalanceInput) -> CoreInput:
    """The rebalance as the engine's one model input: each group an item.

    A group stays with its source (or, if it must move, finds nobody) or goes to one
    of its candidate workers. ``unplaced`` and ``leavers_unplaced`` count the groups
    who must move and stay; ``changes_of_worker``, ``weighted_changes`` and
    ``balance`` the groups who move, at their receiver.
    """
    limit = data.intake_limit
    items = []
    for g in data.groups:
        receivers = tuple(sorted(g.cost))
        stay_cost: dict[str, int] = {}
        if (g.must_move or g.handover) and g.first_class:
            stay_cost["unplaced_first_class"] = g.first_class
        if (g.must_move or g.handover) and g.upper_classes:
            stay_cost["unplaced_upper_classes"] = g.upper_classes
        if g.must_move:
            stay_cost["unplaced"] = g.priority
            if g.source is not None:
                stay_cost["leavers_unplaced"] = len(g.cases)
        if g.handover:
            # A handover not planned counts with the children left without a worker,
            # by its class and as the longest wait (see the module's tier 1).
            stay_cost["unplaced"] = g.priority
            stay_cost["handovers_unplanned"] = g.priority
        items.append(
            Item(
                id=g.id,
                cases=g.cases,
                family=g.family,
                weight=g.weight,
                receivers=receivers,
                source=g.source,
                keeps_source=g.keeps_source,
                stay_cost=stay_cost,
                receiver_cost={
                    "unplaced_first_class": {
                        w: g.promise_cost for w in receivers if w != g.promised
                    }
                    if g.promise_cost
                    else {},
                    "changes_of_worker": dict.fromkeys(receivers, g.changes),
                    "weighted_changes": g.cost,
                    "balance": g.balance,
                    "expected_changes": g.look_ahead,
                },
            )
        )
    receivers_all = sorted({w for item in items for w in item.receivers})
    return CoreInput(
        items=items,
        tiers=REBALANCE_TIERS,
        room=data.spare,
        new_families_left={w: limit - data.intake_used.get(w, 0) for w in receivers_all},
        held=data.held_families,
        holders=data.holders,
        workers_before=data.workers_before,
        excess=data.excess,
        move_budget=data.max_moves,
    )


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
        ``over_cap_excess`` in centi-points, ``siblings_apart`` in workers
        (:func:`allocator.engine.core.siblings_apart`), ``weighted_changes`` and
        ``balance`` in their cost units.
    """
    return core_tier_values(data.core, moved)


def tier_floor(data: RebalanceInput, key: str) -> int:
    """A value no plan can beat on tier ``key``: a stage at it needs no search."""
    return core_tier_floor(data.core, key)


def rebalance_model(data: RebalanceInput) -> CoreModel:
    """The CP-SAT model of one rebalance (see :func:`core_input`)."""
    return CoreModel(data.core)


def solve_rebalance(
    data: RebalanceInput,
    warm: Mapping[str, str],
    settings: Settings | None = None,
    *,
    complete: Callable[[dict[str, str]], dict[str, str]] | None = None,
    started: float | None = None,
) -> Result:
    """Minimise the tiers lexicographically, one stage per tier, from ``warm``.

    ``warm`` (the greedy plan) must satisfy the hard rules. Up to
    :data:`WHOLE_MODEL_PAIRS` pairs the whole model is solved in stages
    (:func:`allocator.engine.core.solve_core_in_stages`); above it, neighbourhood search
    (:func:`_search`). Either way the answer is never worse than ``warm`` on any
    tier, in priority order.

    Each stage is limited by CP-SAT deterministic work: the settings' whole budget
    (:attr:`~allocator.contract.settings.Settings.work`: ``work_units``, or the time limit
    converted once), shared equally among the stages still to run, with what earlier
    stages did not use passed on. The same input then gives the same plan on any
    machine; the wall clock (the settings' ``time_limit``) only guards the whole solve
    and a run it cuts short is flagged (``cut_short``). The settings' ``progress`` is
    told of each stage that searches, as it starts and ends. ``complete`` (a plan
    -> the plan with the children it left unplaced placed by hand) runs before each
    stage of the whole model (:func:`allocator.engine.core.solve_core_in_stages`).
    ``started`` (a :func:`time.perf_counter` reading; default now) is when the time
    limit's clock started: what the caller did before, within the limit, counts.
    """
    settings = settings or Settings()
    started = time.perf_counter() if started is None else started
    deadline = started + settings.time_limit
    large = data.core.pairs > WHOLE_MODEL_PAIRS
    return solve_core_in_stages(
        data.core,
        warm,
        work=settings.work,
        deadline=deadline,
        seed=settings.seed,
        workers=settings.workers,
        progress=settings.progress,
        # The first tier (children who must move) gets half the search's budget.
        first_share=FIRST_STAGE_SHARE if large else None,
        search=functools.partial(_search, data, settings.seed, settings.workers) if large else None,
        # Only the whole model: its stages at a small budget cannot rearrange what a
        # stage displaced, where the search's neighbourhoods can, and there a plan
        # completed by hand was a worse start (leavers-150, 24k pairs: the unplaced
        # tier 2.57e8 without, 2.68e8 with; the manager's rule 2.64e8).
        complete=None if large else complete,
    )


def _search(
    data: RebalanceInput,
    seed: int,
    workers: int,
    index: int,
    key: str,
    moved: dict[str, str],
    work: float,
    deadline: float,
) -> tuple[dict[str, str], bool, float]:
    """Large-neighbourhood search on stage ``index``, for rebalances too big to solve whole.

    Measured on the leavers' day benchmark (150 practitioners, 24k pair variables):
    the whole model spent a 10 s budget on presolve and search without improving
    its start. Here each round frees the groups where the tier can improve and the
    groups placed with the workers they could go to, and solves just those exactly;
    every other group keeps its place and uses up its worker's room, intake and
    moves (:func:`_neighbourhood_input`). A round's result is kept when the tier
    improves with every earlier tier held, so the plan is never worse than ``moved``.
    """
    return neighbourhood_search(
        moved,
        trouble=functools.partial(_trouble, data, key),
        solve_round=functools.partial(
            _solve_round, data, index, deadline=deadline, seed=seed, workers=workers
        ),
        better=functools.partial(_improves, data, index),
        work=work,
        deadline=deadline,
        sweeps=SWEEPS,
    )


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
    key = REBALANCE_TIERS[index]
    free, receivers = _free_groups(data, seeds, plan, sweep)
    covered = [gid for gid in seeds if gid in free]
    sub = _neighbourhood_input(data, free, receivers, plan)
    m = rebalance_model(sub)
    now = tier_values(sub, plan)
    for held in REBALANCE_TIERS[:index]:
        expr = m.tiers[held]
        if not isinstance(expr, int):
            m.model.add(expr <= now[held])
    expr = m.tiers[key]
    charge = BUILD_WORK_PER_VARIABLE * (m.variables + len(data.groups))
    if isinstance(expr, int):  # nothing in this neighbourhood counts for the tier
        return Round(covered, None, charge)
    run = run_stage(
        m,
        expr,
        plan,
        seconds=deadline - time.perf_counter(),
        work=min(ROUND_WORK, work_left),
        seed=seed,
        workers=workers,
    )
    charge += run.work
    if run.decisions is None:
        return Round(covered, None, charge)
    found = {gid: w for gid, w in plan.items() if gid not in free} | run.decisions
    return Round(covered, found, charge)


def _improves(
    data: RebalanceInput, index: int, found: Mapping[str, str], plan: Mapping[str, str]
) -> bool:
    """Whether ``found`` beats ``plan`` on the tiers up to ``index``, in priority order."""
    before, after = tier_values(data, plan), tier_values(data, found)
    tiers = REBALANCE_TIERS[: index + 1]
    return [after[k] for k in tiers] < [before[k] for k in tiers]


#: The tiers of the classes served before over-cap relief, and each group's weight in it.
_SERVED_BEFORE_RELIEF: dict[str, Callable[[Group], int]] = {
    "unplaced_first_class": lambda g: g.first_class,
    "unplaced_upper_classes": lambda g: g.upper_classes,
}


def _trouble(data: RebalanceInput, key: str, moved: Mapping[str, str]) -> list[str]:
    """Groups where tier ``key`` can improve, in a fixed order."""
    waiting = [g for g in data.groups if g.id not in moved and g.cost]  # somewhere to go
    if (weight := _SERVED_BEFORE_RELIEF.get(key)) is not None:
        # The groups with a weight in the tier, the heaviest per child first.
        counted = [g for g in waiting if (g.must_move or g.handover) and weight(g)]
        return [g.id for g in sorted(counted, key=lambda g: -weight(g) / len(g.cases))]
    if key == "unplaced":  # highest priority class first
        must = [g for g in waiting if g.must_move or g.handover]
        return [g.id for g in sorted(must, key=lambda g: -g.priority / len(g.cases))]
    if key == "leavers_unplaced":
        return [g.id for g in waiting if g.must_move and g.source is not None]
    if key == "handovers_unplanned":
        return [g.id for g in sorted(waiting, key=lambda g: -g.priority) if g.handover]
    if key == "over_cap_excess":
        return [g.id for g in waiting if g.source in data.excess]
    if key == "changes_of_worker":
        return [g.id for g in data.groups if g.id in moved and not g.must_move]
    if key == "siblings_apart":  # every group of a family the plan leaves split
        core = data.core
        split = {
            f
            for f, items in core.by_family().items()
            if family_apart(core, f, items, moved) > family_floor(core, f)
        }
        return [g.id for g in data.groups if g.family in split and g.cost]
    field_of = {"weighted_changes": "cost", "balance": "balance", "expected_changes": "look_ahead"}
    placed = [g for g in data.groups if g.id in moved]

    def costs(g: Group) -> Mapping[str, int]:
        return getattr(g, field_of[key])  # type: ignore[no-any-return]

    return [
        g.id
        for g in sorted(placed, key=lambda g: (-costs(g).get(moved[g.id], 0), g.id))
        if costs(g).get(moved[g.id], 0) > min((costs(g).get(w, 0) for w in g.cost), default=0)
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
    room: dict[str, int] = dict(data.spare)  # what is left as groups are placed
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
    spare: dict[str, int] = dict(data.spare)
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
                    look_ahead={w: x for w, x in g.look_ahead.items() if w in offered},
                )
            )
    return RebalanceInput(
        groups=groups,
        spare={w: CentiPoints(room) for w, room in spare.items()},
        held_families={w: frozenset(families) for w, families in held.items()},
        intake_limit=data.intake_limit,
        excess={s: e - relief[s] for s, e in data.excess.items() if e > relief[s]},
        max_moves=None if data.max_moves is None else data.max_moves - changes,
        intake_used=intake_used,
        holders={f: frozenset(ws) for f, ws in holders.items()},
        workers_before={f: n for f, n in data.workers_before.items() if f in deciding},
    )
