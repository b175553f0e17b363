"""Moves that make room: after the daily solve, move a few existing cases so more
children can be allocated (``allocator allocate --allow-moves N``).

The daily plan's placements stay as they are. Two kinds of decision are added:

* each case the daily plan leaves *waiting* (unallocated) may go to any worker who
  may hold it by the static rules (availability, grade, needs, exclusions, pin),
  whatever their room: room is what moves can make;
* each *movable group* -- the children of one family held by one worker, none of
  them pinned, none needing a worker -- may stay or move, together, to another
  worker who may hold every child of it (:meth:`ServiceState.may_hold`). Siblings
  held by one worker are never split by a move, and a group of more children than
  the budget never moves.

Only what could help is offered (each cut is sound unless said otherwise): groups of
the workers who may hold some waiting case that does not fit in their room now but
could once their ``max_moves`` heaviest movable children left; targets where the
group could fit, now or once the target's own groups left; for a waiting case, the
workers where it could fit likewise; and no worker at the intake limit is offered a
family new to them. Three cuts are not sound: a group only goes to a worker who had
room for all of it before the plan (so every move is to a worker the daily rules
call eligible, and its explanation says so); a group is offered at most
:data:`MAX_TARGETS` targets; and a chain of moves only passes through workers who
may hold a waiting case that could fit there. The step is optimal over the moves
it offers.

Hard rules: each worker's load after the plan, the moves and the placements stays
within their cap (:func:`allocator.domain.objectives.loads_after`); families new to a
worker -- by today's placements, moves and these placements -- stay within the
policy's ``max_new_families_per_day``; at most ``max_moves`` children change
worker. Pinned cases never move.

Tiers, minimised lexicographically, one stage each (as :mod:`.rebalance`):

1. ``unallocated``: children left without a worker, each weighted by its priority
   class (:func:`allocator.domain.objectives.class_weights`) so that one child of a higher
   class outweighs every child of the classes below (FORMAT.md "Who gets a worker first");
2. ``moves``: children whose worker changes;
3. ``change_cost``: their weighted cost,
   :func:`allocator.problems.rebalancing.change_cost` (``10 + 5 x changes_last_12_months``,
   ``+ 10`` for looked-after, court and adoption work, ``- 5`` back to a previous
   worker);
4. ``balance``: :func:`allocator.domain.objectives.balance_cost` of every placement and
   move.

The search starts from the better of "no moves" (the daily plan as it is) and a
greedy plan of direct moves (:func:`greedy_moves`, checked in plain Python by
:func:`violations`), as a complete hint; a stage only replaces the plan with a
better one, so the result is never worse than the daily plan on any tier.
Deterministic: one search worker, a fixed seed, and a deterministic work limit
besides the wall-clock one.
"""

from __future__ import annotations

import functools
import time
from collections import defaultdict
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field

from allocator.contract.settings import Settings
from allocator.contract.units import CentiPoints
from allocator.domain.greedy import choose_worker, previous_workers
from allocator.domain.objectives import balance_cost, change_cost, class_weights, loads_after
from allocator.domain.result import Result
from allocator.domain.rules import ServiceState, counted, families_held, new_families
from allocator.engine.core import CoreInput, Item, solve_core_in_stages
from allocator.engine.core import tier_values as core_tier_values
from allocator.engine.core import violations as core_violations

#: Tier keys in priority order, one stage each.
MOVE_TIERS: tuple[str, ...] = ("unallocated", "moves", "change_cost", "balance")


#: Most receiving workers offered to one movable group: those with most room left
#: after the daily plan (and always the children's previous workers). Keeps the
#: model small on large services; the search is then not proved over every worker.
MAX_TARGETS = 12
#: Share of the work budget for the first stage (placing waiting cases).
PLACING_SHARE = 0.7


@dataclass(frozen=True)
class Waiting:
    """A case the daily plan leaves unallocated.

    Attributes
    ----------
    id, family
        The case and its family.
    priority
        Its weight in the ``unallocated`` tier
        (:func:`allocator.domain.objectives.class_weights`).
    weight
        Centi-points.
    balance
        Candidate worker -> :func:`balance_cost`; the keys are its candidates.
    """

    id: str
    family: str
    priority: int
    weight: CentiPoints
    balance: Mapping[str, int]


@dataclass(frozen=True)
class Movable:
    """Siblings held by one worker that stay or move together.

    Attributes
    ----------
    id
        ``family@source``.
    cases
        The children, sorted.
    family, source
        Their family and the worker who holds them.
    weight
        Their combined weight, centi-points.
    cost, balance
        Target worker -> change cost and balance cost summed over the children;
        the keys are the targets.
    previous
        The children's previous workers, the most recent of any child first.
    """

    id: str
    cases: tuple[str, ...]
    family: str
    source: str
    weight: CentiPoints
    cost: Mapping[str, int]
    balance: Mapping[str, int]
    previous: tuple[str, ...] = ()


@dataclass
class MovesInput:
    """The move model's data, in ids and integers.

    Attributes
    ----------
    waiting, movable
        The decisions.
    room
        Worker -> centi-points left under their cap after the daily plan, for every
        worker who may receive or give.
    held
        Worker -> families that are not new to them: held in the snapshot, or
        already given to them by the daily plan.
    intake_left
        Worker -> families new to them they may still take.
    max_moves
        Most children who may change worker.
    pruned
        Whether some groups were offered only some of the workers who may hold them.
    """

    waiting: list[Waiting]
    movable: list[Movable]
    room: dict[str, CentiPoints]
    held: Mapping[str, frozenset[str]]
    intake_left: dict[str, int]
    max_moves: int
    pruned: bool = False

    @functools.cached_property
    def core(self) -> CoreInput:
        """The move step as the engine's one model input (:func:`core_input`)."""
        return core_input(self)


@dataclass
class MovesSolution:
    """What the move step found: the step's outcome in cases, and its staged solve.

    Attributes
    ----------
    placed
        Waiting case -> worker, for the waiting cases it places.
    moved
        Case -> new worker, for every child that moves.
    result
        The staged solve (:class:`~allocator.domain.result.Result`: decisions by item,
        tiers, statistics); ``pruned`` when some groups were offered only some of
        the workers who may hold them, and its ``stages`` open with the greedy start.
    """

    placed: dict[str, str] = field(default_factory=dict)
    moved: dict[str, str] = field(default_factory=dict)
    result: Result = field(default_factory=lambda: Result(decisions={}))

    @property
    def seconds(self) -> float:
        """Wall-clock seconds the step took."""
        return self.result.seconds

    @property
    def cut_short(self) -> bool:
        """A stage stopped at the wall-clock limit rather than by proof or work limit."""
        return self.result.cut_short

    @property
    def proved(self) -> bool:
        """Every stage proved optimal over the offered workers."""
        return all(t.proved for t in self.result.tiers.values())


# ------------------------------------------------------------------ set-up (plain Python)


def moves_input(state: ServiceState, placed: Mapping[str, str], max_moves: int) -> MovesInput:
    """The move model's data for the daily plan ``placed`` (case -> worker).

    Parameters
    ----------
    state
        The service.
    placed
        The daily plan's placements (cases of ``state.to_allocate`` only).
    max_moves
        Most children who may change worker.
    """
    policy = state.policy
    load, _ = loads_after(state, placed)
    open_ = sorted(state.open_for_new)
    room = {w: CentiPoints(state.capacity[w] - load[w]) for w in open_}

    def may_hold_any_load(cid: str) -> list[str]:
        """Open workers the rules allow for ``cid`` whose cap it fits, ignoring load."""
        return [w for w in state.allowed(cid) if state.weight[cid] <= state.capacity[w]]

    held_before = families_held(state)
    new_today = new_families(state, placed)
    held = {w: held_before.get(w, frozenset()) | frozenset(new_today.get(w, ())) for w in open_}
    intake_left = {
        w: max(0, policy.max_new_families_per_day - len(new_today.get(w, ()))) for w in open_
    }

    def may_receive(family: str, w: str) -> bool:
        return intake_left[w] > 0 or family in held[w]

    waiting_ids = sorted(c for c in state.to_allocate if c not in placed)
    candidates = {
        cid: [w for w in may_hold_any_load(cid) if may_receive(state.cases[cid].family, w)]
        for cid in waiting_ids
    }
    # Workers whose room, if made bigger, would let a waiting case in.
    sources = {w for cid, ws in candidates.items() for w in ws if state.weight[cid] > room[w]}

    members: dict[tuple[str, str], list[str]] = defaultdict(list)
    blocked: set[tuple[str, str]] = set()
    need = set(state.to_allocate)
    for c in state.snapshot.cases:
        if c.worker not in sources or c.id in need or c.id in placed:
            continue
        key = (c.family, c.worker)
        members[key].append(c.id)
        if c.pinned_worker is not None:
            blocked.add(key)  # a pinned child never moves, nor do siblings it keeps

    def may_take(kids: list[str], weight: int, family: str, source: str) -> list[str]:
        return [
            w
            for w in open_
            if w != source
            and weight <= state.spare_before(w)
            and may_receive(family, w)
            and all(state.may_hold(c, w) for c in kids)
        ]

    # Groups that may move at all: not pinned, within the budget, somewhere to go.
    static: dict[tuple[str, str], list[str]] = {}
    for (family, source), kids in sorted(members.items()):
        if (family, source) in blocked or len(kids) > max_moves:
            continue
        weight = CentiPoints(sum(state.weight[c] for c in kids))
        targets = may_take(kids, weight, family, source)
        if targets:
            static[family, source] = targets

    def freeable(keys: Collection[tuple[str, str]]) -> dict[str, int]:
        """Per source, the most room ``max_moves`` children moving off could free."""
        weights: dict[str, list[int]] = defaultdict(list)
        for family, source in keys:
            weights[source].extend(state.weight[c] for c in members[family, source])
        return {w: sum(sorted(ws, reverse=True)[:max_moves]) for w, ws in weights.items()}

    # Keep only the sources where moves could let some waiting case in, then the
    # targets where a group could fit (now, or once that target's own groups move).
    most = freeable(static)
    useful = {
        w
        for cid, ws in candidates.items()
        for w in ws
        if room[w] < state.weight[cid] <= room[w] + most.get(w, 0)
    }
    static = {key: ts for key, ts in static.items() if key[1] in useful}
    most = freeable(static)

    pruned = False
    movable: list[Movable] = []
    for (family, source), targets in sorted(static.items()):
        kids = sorted(members[family, source])
        weight = CentiPoints(sum(state.weight[c] for c in kids))
        targets = [w for w in targets if weight <= room[w] + most.get(w, 0)]
        if not targets:
            continue
        previous = previous_workers(state.cases[c] for c in kids)
        if len(targets) > MAX_TARGETS:
            pruned = True
            roomy = sorted(targets, key=lambda w: (-room[w], w))[:MAX_TARGETS]
            targets = sorted(set(roomy) | (set(previous) & set(targets)))
        movable.append(
            Movable(
                id=f"{family}@{source}",
                cases=tuple(kids),
                family=family,
                source=source,
                weight=weight,
                cost={w: sum(change_cost(state, c, w) for c in kids) for w in targets},
                balance={w: sum(balance_cost(state, c, w) for c in kids) for w in targets},
                previous=tuple(previous),
            )
        )

    # A waiting case only needs the workers where it fits now or once groups move off.
    most = freeable({(g.family, g.source) for g in movable})
    waits = state.waiting_weight
    priority = class_weights(len(state.policy.class_names), sum(waits[c] for c in waiting_ids))
    waiting = [
        Waiting(
            id=cid,
            family=state.cases[cid].family,
            priority=priority[state.priority_class[cid]] * waits[cid],
            weight=state.weight[cid],
            balance={
                w: balance_cost(state, cid, w)
                for w in candidates[cid]
                if state.weight[cid] <= room[w] + most.get(w, 0)
            },
        )
        for cid in waiting_ids
    ]
    return MovesInput(
        waiting=waiting,
        movable=movable,
        room=room,
        held=held,
        intake_left=intake_left,
        max_moves=max_moves,
        pruned=pruned,
    )


def core_input(data: MovesInput) -> CoreInput:
    """The move step as the engine's one model input.

    A waiting case is an item with no source: it goes to a worker or stays without
    one (``unallocated``, weighted by its class). A movable group is an item whose
    source keeps it if it stays; moving it costs its children as ``moves`` and its
    ``change_cost``. Both pay ``balance`` at their receiver.
    """
    items = [
        Item(
            id=u.id,
            cases=(u.id,),
            family=u.family,
            weight=u.weight,
            receivers=tuple(sorted(u.balance)),
            stay_cost={"unallocated": u.priority},
            receiver_cost={"balance": u.balance},
        )
        for u in data.waiting
    ]
    items += [
        Item(
            id=g.id,
            cases=g.cases,
            family=g.family,
            weight=g.weight,
            receivers=tuple(sorted(g.cost)),
            source=g.source,
            keeps_source=True,
            receiver_cost={
                "moves": dict.fromkeys(g.cost, len(g.cases)),
                "change_cost": g.cost,
                "balance": g.balance,
            },
        )
        for g in data.movable
    ]
    receivers = {w for item in items for w in item.receivers}
    return CoreInput(
        items=items,
        tiers=MOVE_TIERS,
        room=data.room,
        new_families_left={w: data.intake_left.get(w, 0) for w in sorted(receivers)},
        held=data.held,
        move_budget=data.max_moves,
    )


def tier_values(
    data: MovesInput, placed: Mapping[str, str], moved: Mapping[str, str]
) -> dict[str, int]:
    """Every tier's value, in plain Python (equal to the model's expressions).

    ``placed``: waiting case id -> worker; ``moved``: group id -> worker.
    """
    return core_tier_values(data.core, {**placed, **moved})


def violations(data: MovesInput, placed: Mapping[str, str], moved: Mapping[str, str]) -> list[str]:
    """The model's hard rules that (``placed``, ``moved``) break, in plain Python.

    ``placed``: waiting case id -> worker; ``moved``: group id -> worker. Empty when
    the pair is a solution of the model (offered workers only, caps, intake, budget).
    """
    return core_violations(data.core, {**placed, **moved})


def greedy_moves(data: MovesInput) -> tuple[dict[str, str], dict[str, str]]:
    """A quick plan of moves: the warm start the solver improves on.

    Waiting cases in turn, by their weight in the first tier (class and wait), then
    lightest (more fit): each goes to the candidate worker where it fits with the
    fewest moves, then the cheapest, then by id. To make room at a worker, its groups
    are moved fewest children first, then heaviest, each where the manager's choice
    sends it (:func:`allocator.domain.greedy.choose_worker`: a worker of the family, else a
    previous worker, else the most room left), until the case fits; no chains. A case
    that cannot be placed within the budget left is skipped.
    """
    groups_at: dict[str, list[Movable]] = defaultdict(list)
    for g in data.movable:
        groups_at[g.source].append(g)
    for gs in groups_at.values():
        gs.sort(key=lambda g: (len(g.cases), -g.weight, min(g.cost.values()), g.id))
    delta: dict[str, int] = defaultdict(int)
    new: dict[str, set[str]] = defaultdict(set)
    placed: dict[str, str] = {}
    moved: dict[str, str] = {}
    budget = data.max_moves

    def free(w: str) -> int:
        return data.room[w] - delta[w]

    def may_take(family: str, w: str, extra: set[str]) -> bool:
        if family in data.held.get(w, frozenset()) or family in new[w] | extra:
            return True
        return len(new[w] | extra) < data.intake_left.get(w, 0)

    def fits(g: Movable, gained: Mapping[str, int], extra: Mapping[str, set[str]], t: str) -> bool:
        """Whether ``t`` may take ``g`` with ``gained`` and ``extra`` already on its way."""
        return t in g.cost and free(t) - gained[t] >= g.weight and may_take(g.family, t, extra[t])

    def room_at(u: Waiting, w: str) -> tuple[int, int, list[tuple[Movable, str]]] | None:
        """Moves (children, cost, [(group, target)]) that let ``u`` in at ``w``."""
        if not may_take(u.family, w, set()):
            return None
        short = u.weight - free(w)
        chosen: list[tuple[Movable, str]] = []
        gained: dict[str, int] = defaultdict(int)
        extra: dict[str, set[str]] = defaultdict(set)
        children = cost = 0
        for g in groups_at.get(w, []):
            if short <= 0:
                break
            if g.id in moved or children + len(g.cases) > budget:
                continue
            t = choose_worker(
                sorted(g.cost),
                functools.partial(fits, g, gained, extra),
                siblings=sorted(t for t in g.cost if g.family in data.held.get(t, ())),
                previous=g.previous,
                room=lambda t: free(t) - gained[t],
            )
            if t is None:
                continue
            chosen.append((g, t))
            gained[t] += g.weight
            extra[t].add(g.family)
            children += len(g.cases)
            cost += g.cost[t]
            short -= g.weight
        return (children, cost, chosen) if short <= 0 else None

    # Not the manager's order (heaviest first): the step's own, by its first tier's
    # weight (class and wait), then lightest, which fits more. Measured on 480
    # generated services (6-20 practitioners, loads 0.95 and 1.05, 4 moves): the
    # manager's order made this start lexicographically worse on 17, better on none.
    for u in sorted(data.waiting, key=lambda u: (-u.priority, u.weight, u.id)):
        best: tuple[int, int, str, list[tuple[Movable, str]]] | None = None
        for w in sorted(u.balance):
            option = room_at(u, w)
            if option is not None and (best is None or option[:2] + (w,) < best[:3]):
                best = (option[0], option[1], w, option[2])
        if best is None:
            continue
        children, _, w, chosen = best
        for g, t in chosen:
            moved[g.id] = t
            delta[t] += g.weight
            delta[g.source] -= g.weight
            if g.family not in data.held.get(t, frozenset()):
                new[t].add(g.family)
        budget -= children
        placed[u.id] = w
        delta[w] += u.weight
        if u.family not in data.held.get(w, frozenset()):
            new[w].add(u.family)
    return placed, moved


# ------------------------------------------------------------------ the model


def solve_moves(
    data: MovesInput, settings: Settings, *, wall_seconds: float, work: float | None
) -> MovesSolution:
    """Minimise the tiers lexicographically, stage by stage, from the greedy moves.

    Parameters
    ----------
    data
        From :func:`moves_input`.
    settings
        The seed is CP-SAT's ``random_seed``; the step searches on one worker.
    wall_seconds
        Wall-clock seconds for all stages (a safety net).
    work
        CP-SAT deterministic work units for all stages; ``None`` for no limit. The
        search normally ends by proof or on this budget, so it reproduces.

    Returns
    -------
    MovesSolution
        The waiting cases placed, each moving child's new worker, and the solve.
    """
    started = time.perf_counter()
    if not any(u.balance for u in data.waiting):
        return MovesSolution(
            result=Result(
                decisions={},
                pruned=data.pruned,
                stages=["nothing to place: no waiting case has a worker who may hold it"],
            )
        )
    # Start from the greedy moves where they are valid (they always place at least as
    # many cases as "no moves" does), else from "no moves": never worse than either.
    stages: list[str] = []
    placed, moved = greedy_moves(data)
    start: dict[str, str] = {}
    if not violations(data, placed, moved):
        start = {**placed, **moved}
        stages.append(f"greedy: {len(placed)} placed, {counted(len(moved), 'group')} moved")
    result = solve_core_in_stages(
        data.core,
        start,
        work=work,
        deadline=started + wall_seconds,
        seed=settings.seed,
        workers=1,
        # Placing more cases is what the step is for: it gets most of the budget.
        first_share=PLACING_SHARE,
        # Measured (150 practitioners, 17k variables): presolve alone used more than a
        # 2-unit budget, so not even the hint came back; without it the hint is
        # returned at once and the budget goes to the search. Tiny models are proved
        # either way.
        presolve=False,
    )
    result.pruned = data.pruned
    result.stages = stages + result.stages
    result.seconds = time.perf_counter() - started
    waiting = {u.id for u in data.waiting}
    groups = {g.id: g for g in data.movable}
    found = result.decisions
    return MovesSolution(
        placed={i: w for i, w in sorted(found.items()) if i in waiting},
        moved={c: w for i, w in sorted(found.items()) if i not in waiting for c in groups[i].cases},
        result=result,
    )


def make_room(
    state: ServiceState,
    placed: Mapping[str, str],
    max_moves: int,
    settings: Settings | None = None,
    *,
    wall_seconds: float | None = None,
    work: float | None = None,
) -> MovesSolution:
    """Move at most ``max_moves`` children so that more waiting cases are allocated.

    Parameters
    ----------
    state
        The service.
    placed
        The daily plan's placements.
    max_moves
        Most children who may change worker (0: nobody moves).
    settings
        Its seed and time limit (:class:`~allocator.contract.settings.Settings`); defaults when
        ``None``.
    wall_seconds, work
        See :func:`solve_moves`; ``wall_seconds`` defaults to the time limit.

    Returns
    -------
    MovesSolution
        ``placed``: the waiting cases now placed; ``moved``: each moving child and its
        new worker. Both empty when no move helps.
    """
    if max_moves <= 0 or all(c in placed for c in state.to_allocate):
        return MovesSolution()
    settings = settings or Settings()
    return solve_moves(
        moves_input(state, placed, max_moves),
        settings,
        wall_seconds=settings.time_limit if wall_seconds is None else wall_seconds,
        work=work,
    )
