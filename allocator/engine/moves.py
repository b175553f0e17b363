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
within their cap (:func:`allocator.objectives.loads_after`); families new to a
worker -- by today's placements, moves and these placements -- stay within the
policy's ``max_new_families_per_day``; at most ``max_moves`` children change
worker. Pinned cases never move.

Tiers, minimised lexicographically, one stage each (as :mod:`.rebalance`):

1. ``unallocated``: children left without a worker, each weighted by its priority
   class (:func:`allocator.objectives.class_weights`) so that one child of a higher
   class outweighs every child of the classes below (FORMAT.md "Who gets a worker first");
2. ``moves``: children whose worker changes;
3. ``change_cost``: their weighted cost,
   :func:`allocator.rebalancing.change_cost` (``10 + 5 x changes_last_12_months``,
   ``+ 10`` for looked-after, court and adoption work, ``- 5`` back to a previous
   worker);
4. ``balance``: :func:`allocator.objectives.balance_cost` of every placement and
   move.

The search starts from the better of "no moves" (the daily plan as it is) and a
greedy plan of direct moves (:func:`greedy_moves`, checked in plain Python by
:func:`violations`), as a complete hint; a stage only replaces the plan with a
better one, so the result is never worse than the daily plan on any tier.
Deterministic: one search worker, a fixed seed, and a deterministic work limit
besides the wall-clock one.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field

from ortools.sat.python import cp_model

from allocator.engine.lns import stage_share
from allocator.engine.solver import configured_solver
from allocator.objectives import balance_cost, change_cost, class_weights, loads_after
from allocator.rules import ServiceState, families_held, holding_blockers, new_families

#: Tier keys in priority order, one stage each.
MOVE_TIERS: tuple[str, ...] = ("unallocated", "moves", "change_cost", "balance")
STAGES: tuple[tuple[str, ...], ...] = tuple((key,) for key in MOVE_TIERS)


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
        (:func:`allocator.objectives.class_weights`).
    weight
        Centi-points.
    balance
        Candidate worker -> :func:`balance_cost`; the keys are its candidates.
    """

    id: str
    family: str
    priority: int
    weight: int
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
    """

    id: str
    cases: tuple[str, ...]
    family: str
    source: str
    weight: int
    cost: Mapping[str, int]
    balance: Mapping[str, int]


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
    room: dict[str, int]
    held: Mapping[str, frozenset[str]]
    intake_left: dict[str, int]
    max_moves: int
    pruned: bool = False


@dataclass
class MovesSolution:
    """What the move step found.

    Attributes
    ----------
    placed
        Waiting case -> worker, for the waiting cases it places.
    moved
        Case -> new worker, for every child that moves.
    proved
        Every stage proved optimal over the offered workers.
    pruned
        Some groups were offered only some of the workers who may hold them.
    cut_short
        A stage stopped at the wall-clock limit rather than by proof or work limit.
    """

    placed: dict[str, str] = field(default_factory=dict)
    moved: dict[str, str] = field(default_factory=dict)
    proved: bool = True
    pruned: bool = False
    cut_short: bool = False
    seconds: float = 0.0
    stages: list[str] = field(default_factory=list)
    variables: int = 0


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
    room = {w: state.capacity[w] - load[w] for w in open_}
    screened: dict[tuple[object, ...], list[str]] = {}

    def may_hold_any_load(cid: str) -> list[str]:
        """Open workers the holding rules allow for ``cid``, ignoring room."""
        case = state.cases[cid]
        key = (case.type, case.complexity, case.needs)
        if key not in screened:
            probe = case.model_copy(update={"excluded_workers": (), "pinned_worker": None})
            screened[key] = [
                w for w in open_ if not holding_blockers(probe, state.practitioners[w], policy)
            ]
        return [
            w
            for w in screened[key]
            if w not in case.excluded_workers
            and (case.pinned_worker is None or case.pinned_worker == w)
            and state.weight[cid] <= state.capacity[w]
        ]

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
        weight = sum(state.weight[c] for c in kids)
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
        weight = sum(state.weight[c] for c in kids)
        targets = [w for w in targets if weight <= room[w] + most.get(w, 0)]
        if not targets:
            continue
        previous = {w for c in kids for w in state.cases[c].previous_workers}
        if len(targets) > MAX_TARGETS:
            pruned = True
            roomy = sorted(targets, key=lambda w: (-room[w], w))[:MAX_TARGETS]
            targets = sorted(set(roomy) | (previous & set(targets)))
        movable.append(
            Movable(
                id=f"{family}@{source}",
                cases=tuple(kids),
                family=family,
                source=source,
                weight=weight,
                cost={w: sum(change_cost(state, c, w) for c in kids) for w in targets},
                balance={w: sum(balance_cost(state, c, w) for c in kids) for w in targets},
            )
        )

    # A waiting case only needs the workers where it fits now or once groups move off.
    most = freeable({(g.family, g.source) for g in movable})
    priority = class_weights(len(state.policy.class_names), len(waiting_ids))
    waiting = [
        Waiting(
            id=cid,
            family=state.cases[cid].family,
            priority=priority[state.priority_class[cid]],
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


def tier_values(
    data: MovesInput, placed: Mapping[str, str], moved: Mapping[str, str]
) -> dict[str, int]:
    """Every tier's value, in plain Python (equal to the model's expressions).

    ``placed``: waiting case id -> worker; ``moved``: group id -> worker.
    """
    values = dict.fromkeys(MOVE_TIERS, 0)
    for u in data.waiting:
        if u.id in placed:
            values["balance"] += u.balance[placed[u.id]]
        else:
            values["unallocated"] += u.priority
    for g in data.movable:
        if g.id in moved:
            values["moves"] += len(g.cases)
            values["change_cost"] += g.cost[moved[g.id]]
            values["balance"] += g.balance[moved[g.id]]
    return values


def violations(data: MovesInput, placed: Mapping[str, str], moved: Mapping[str, str]) -> list[str]:
    """The model's hard rules that (``placed``, ``moved``) break, in plain Python.

    ``placed``: waiting case id -> worker; ``moved``: group id -> worker. Empty when
    the pair is a solution of the model (offered workers only, caps, intake, budget).
    """
    out: list[str] = []
    waiting = {u.id: u for u in data.waiting}
    groups = {g.id: g for g in data.movable}
    delta: dict[str, int] = defaultdict(int)
    new: dict[str, set[str]] = defaultdict(set)
    for cid, w in placed.items():
        u = waiting[cid]
        if w not in u.balance:
            out.append(f"{cid} is not offered {w}")
        delta[w] += u.weight
        if u.family not in data.held.get(w, frozenset()):
            new[w].add(u.family)
    children = 0
    for gid, w in moved.items():
        g = groups[gid]
        if w not in g.cost:
            out.append(f"{gid} is not offered {w}")
        delta[w] += g.weight
        delta[g.source] -= g.weight
        children += len(g.cases)
        if g.family not in data.held.get(w, frozenset()):
            new[w].add(g.family)
    for w in sorted(delta):
        if delta[w] > 0 and delta[w] > data.room[w]:
            out.append(f"{w} gains {delta[w]} centi-points with {data.room[w]} of room")
    for w in sorted(new):
        if len(new[w]) > data.intake_left.get(w, 0):
            out.append(f"{w} takes {len(new[w])} new families, {data.intake_left.get(w, 0)} left")
    if children > data.max_moves:
        out.append(f"{children} children move, at most {data.max_moves} may")
    return out


def greedy_moves(data: MovesInput) -> tuple[dict[str, str], dict[str, str]]:
    """A quick plan of moves: the warm start the solver improves on.

    Waiting cases in turn, urgent first, then lightest (more fit): each goes to the candidate
    worker where it fits with the fewest moves, then the cheapest, then by id. To
    make room at a worker, its groups are moved heaviest first (fewest children
    first), each to the target with most room left that may take it, until the case
    fits; no chains. A case that cannot be placed within the budget left is skipped.
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
            options = [
                t
                for t in g.cost
                if free(t) - gained[t] >= g.weight and may_take(g.family, t, extra[t])
            ]
            if not options:
                continue
            t = min(options, key=lambda t: (g.cost[t], -(free(t) - gained[t]), t))
            chosen.append((g, t))
            gained[t] += g.weight
            extra[t].add(g.family)
            children += len(g.cases)
            cost += g.cost[t]
            short -= g.weight
        return (children, cost, chosen) if short <= 0 else None

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


class MovesModel:
    """CP-SAT variables, hard rules and tier expressions of the move step."""

    def __init__(self, data: MovesInput) -> None:
        self.data = data
        self.model = cp_model.CpModel()
        self.x: dict[tuple[str, str], cp_model.IntVar] = {}
        self.unplaced: dict[str, cp_model.IntVar] = {}
        self.y: dict[tuple[str, str], cp_model.IntVar] = {}
        self.stay: dict[str, cp_model.IntVar] = {}
        # Per worker: (weight, var) of what may arrive, and of what may leave.
        self.incoming: dict[str, list[tuple[int, cp_model.IntVar]]] = defaultdict(list)
        self.outgoing: dict[str, list[tuple[int, cp_model.IntVar]]] = defaultdict(list)
        # Per (family, worker): the variables that would give the worker the family.
        self.gives: dict[tuple[str, str], list[cp_model.IntVar]] = defaultdict(list)
        for u in data.waiting:
            self.unplaced[u.id] = self.model.new_bool_var(f"unplaced[{u.id}]")
            for w in sorted(u.balance):
                var = self.model.new_bool_var(f"x[{u.id},{w}]")
                self.x[u.id, w] = var
                self.incoming[w].append((u.weight, var))
                self.gives[u.family, w].append(var)
        for g in data.movable:
            self.stay[g.id] = self.model.new_bool_var(f"stay[{g.id}]")
            self.outgoing[g.source].append((g.weight, self.stay[g.id]))
            for w in sorted(g.cost):
                var = self.model.new_bool_var(f"y[{g.id},{w}]")
                self.y[g.id, w] = var
                self.incoming[w].append((g.weight, var))
                self.gives[g.family, w].append(var)

        # Hard rules, then the tiers in priority order.
        self._one_place_each()
        self._weighted_cap()
        self._intake_limit()
        self._max_moves()
        self.tiers: dict[str, tuple[cp_model.LinearExprT, int]] = {
            "unallocated": self._unallocated(),
            "moves": self._moves(),
            "change_cost": self._change_cost(),
            "balance": self._balance(),
        }

    # ------------------------------------------------------------------ hard rules

    def _one_place_each(self) -> None:
        for u in self.data.waiting:
            self.model.add_exactly_one(
                [self.unplaced[u.id], *(self.x[u.id, w] for w in sorted(u.balance))]
            )
        for g in self.data.movable:
            self.model.add_exactly_one(
                [self.stay[g.id], *(self.y[g.id, w] for w in sorted(g.cost))]
            )

    def _weighted_cap(self) -> None:
        """What arrives, less what leaves, fits in the room left after the daily plan."""
        for w, arriving in sorted(self.incoming.items()):
            room = self.data.room[w]
            if sum(weight for weight, _ in arriving) <= room:
                continue
            leaving = self.outgoing.get(w, [])
            # A group leaves when it does not stay: weight * (1 - stay).
            self.model.add(
                sum(weight * v for weight, v in arriving)
                - sum(weight * (1 - stay) for weight, stay in leaving)
                <= room
            )

    def _intake_limit(self) -> None:
        """Families new to a worker, one indicator per (family, worker) if several vars."""
        new: dict[str, list[cp_model.IntVar]] = defaultdict(list)
        self.takes: dict[tuple[str, str], cp_model.IntVar] = {}
        for (family, w), vars_ in sorted(self.gives.items()):
            if family in self.data.held.get(w, frozenset()):
                continue
            if len(vars_) == 1:
                new[w].append(vars_[0])
                continue
            takes = self.model.new_bool_var(f"takes[{family},{w}]")
            for v in vars_:
                self.model.add_implication(v, takes)
            self.model.add(takes <= sum(vars_))
            self.takes[family, w] = takes
            new[w].append(takes)
        for w, vars_ in sorted(new.items()):
            left = self.data.intake_left.get(w, 0)
            if len(vars_) > left:
                self.model.add(sum(vars_) <= left)

    def _max_moves(self) -> None:
        expr, most = self._moves()
        if most > self.data.max_moves:
            self.model.add(expr <= self.data.max_moves)

    # ------------------------------------------------------------------ tiers

    def _unallocated(self) -> tuple[cp_model.LinearExprT, int]:
        waiting = self.data.waiting
        return (
            sum(u.priority * self.unplaced[u.id] for u in waiting),
            sum(u.priority for u in waiting),
        )

    def _moves(self) -> tuple[cp_model.LinearExprT, int]:
        groups = self.data.movable
        return (
            sum(len(g.cases) * self.y[g.id, w] for g in groups for w in sorted(g.cost)),
            sum(len(g.cases) for g in groups),
        )

    def _change_cost(self) -> tuple[cp_model.LinearExprT, int]:
        groups = self.data.movable
        return (
            sum(g.cost[w] * self.y[g.id, w] for g in groups for w in sorted(g.cost) if g.cost[w]),
            sum(max(g.cost.values()) for g in groups),
        )

    def _balance(self) -> tuple[cp_model.LinearExprT, int]:
        waiting = sum(
            u.balance[w] * self.x[u.id, w]
            for u in self.data.waiting
            for w in sorted(u.balance)
            if u.balance[w]
        )
        groups = sum(
            g.balance[w] * self.y[g.id, w]
            for g in self.data.movable
            for w in sorted(g.balance)
            if g.balance[w]
        )
        most = sum(max(u.balance.values(), default=0) for u in self.data.waiting) + sum(
            max(g.balance.values()) for g in self.data.movable
        )
        return waiting + groups, most

    # ------------------------------------------------------------------ helpers

    def hint(self, placed: Mapping[str, str], moved: Mapping[str, str]) -> None:
        """A complete hint: every decision and intake-indicator variable.

        A complete feasible hint is a solution the solver takes as is.
        """
        self.model.clear_hints()  # type: ignore[no-untyped-call]  # untyped in OR-Tools
        for (cid, w), var in self.x.items():
            self.model.add_hint(var, placed.get(cid) == w)
        for cid, var in self.unplaced.items():
            self.model.add_hint(var, cid not in placed)
        for (gid, w), var in self.y.items():
            self.model.add_hint(var, moved.get(gid) == w)
        for gid, var in self.stay.items():
            self.model.add_hint(var, gid not in moved)
        # The intake indicators are implied; hint them too, so the hint is complete.
        given = {(u.family, to) for u in self.data.waiting if (to := placed.get(u.id))}
        given |= {(g.family, to) for g in self.data.movable if (to := moved.get(g.id))}
        for key, var in self.takes.items():
            self.model.add_hint(var, key in given)

    def solution(self, solver: cp_model.CpSolver) -> tuple[dict[str, str], dict[str, str]]:
        """Waiting case -> worker and group id -> worker in the solver's solution."""
        placed = {cid: w for (cid, w), var in self.x.items() if solver.boolean_value(var)}
        moved = {gid: w for (gid, w), var in self.y.items() if solver.boolean_value(var)}
        return placed, moved


# ------------------------------------------------------------------ the solve


def _stage_value(
    data: MovesInput,
    keys: tuple[str, ...],
    weights: list[int],
    placed: Mapping[str, str],
    moved: Mapping[str, str],
) -> int:
    """A stage's weighted objective at (``placed``, ``moved``), in plain Python."""
    tiers = tier_values(data, placed, moved)
    return sum(w * tiers[k] for w, k in zip(weights, keys, strict=True))


def solve_moves(
    data: MovesInput, *, time_limit: float = 10.0, work: float | None = None, seed: int = 0
) -> tuple[dict[str, str], dict[str, str], MovesSolution]:
    """Minimise the tiers lexicographically, stage by stage, from the greedy moves.

    Parameters
    ----------
    data
        From :func:`moves_input`.
    time_limit
        Wall-clock seconds for all stages (a safety net).
    work
        CP-SAT deterministic work units for all stages; ``None`` for no limit. The
        search normally ends by proof or on this budget, so it reproduces.
    seed
        CP-SAT ``random_seed``.

    Returns
    -------
    tuple
        Waiting case -> worker, group id -> worker, and the solution's record (whose
        ``placed`` and ``moved`` are left empty: see :func:`make_room`).
    """
    started = time.perf_counter()
    result = MovesSolution(pruned=data.pruned)
    placed: dict[str, str] = {}
    moved: dict[str, str] = {}
    if not any(u.balance for u in data.waiting):
        result.stages.append("nothing to place: no waiting case has a worker who may hold it")
        return placed, moved, result
    m = MovesModel(data)
    result.variables = len(m.x) + len(m.y)
    # Start from the greedy moves where they are valid (they always place at least as
    # many cases as "no moves" does), else from "no moves": never worse than either.
    start = greedy_moves(data)
    if not violations(data, *start):
        placed, moved = start
        result.stages.append(f"greedy: {len(placed)} placed, {len(moved)} group(s) moved")
    n = len(data.waiting)
    work_left = work
    for index, keys in enumerate(STAGES):
        name = "+".join(keys)
        exprs = [m.tiers[k][0] for k in keys]
        weights = [(n + 1) ** (len(keys) - 1 - i) for i in range(len(keys))]
        objective = sum(w * e for w, e in zip(weights, exprs, strict=True))
        current = _stage_value(data, keys, weights, placed, moved)
        if current == 0 or isinstance(objective, int):
            result.stages.append(f"{name}: optimal (zero)")
        else:
            remaining = time_limit - (time.perf_counter() - started)
            # Placing more cases is what the step is for: it gets most of the budget.
            share = stage_share(index, len(STAGES), first=PLACING_SHARE)
            budget = None if work_left is None else max(0.01, work_left * share)
            m.hint(placed, moved)
            m.model.minimize(objective)
            solver = configured_solver(seconds=remaining * share, work=budget, seed=seed, workers=1)
            # Measured (150 practitioners, 17k variables): presolve alone used more
            # than a 2-unit budget, so not even the hint came back; without it the
            # hint is returned at once and the budget goes to the search. Tiny models
            # are proved either way.
            solver.parameters.cp_model_presolve = False
            status = solver.solve(m.model)
            used = solver.response_proto.deterministic_time
            if work_left is not None:
                work_left = max(0.0, work_left - used)
            if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
                found_placed, found_moved = m.solution(solver)
                if _stage_value(data, keys, weights, found_placed, found_moved) < current:
                    placed, moved = found_placed, found_moved
            result.stages.append(f"{name}: {solver.status_name(status).lower()}")
            if status != cp_model.OPTIMAL:
                result.proved = False
                if budget is None or used < budget * 0.99:
                    result.cut_short = True
            if index == 0 and not placed:
                # Nothing more can be allocated: no move is worth making.
                break
        if not isinstance(objective, int):  # an empty tier is the constant 0
            m.model.add(objective <= _stage_value(data, keys, weights, placed, moved))
    result.seconds = time.perf_counter() - started
    return placed, moved, result


def make_room(
    state: ServiceState,
    placed: Mapping[str, str],
    max_moves: int,
    *,
    time_limit: float = 10.0,
    work: float | None = None,
    seed: int = 0,
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
    time_limit, work, seed
        See :func:`solve_moves`.

    Returns
    -------
    MovesSolution
        ``placed``: the waiting cases now placed; ``moved``: each moving child and its
        new worker. Both empty when no move helps.
    """
    if max_moves <= 0 or all(c in placed for c in state.to_allocate):
        return MovesSolution()
    data = moves_input(state, placed, max_moves)
    new, moved_groups, result = solve_moves(data, time_limit=time_limit, work=work, seed=seed)
    groups = {g.id: g for g in data.movable}
    result.placed = dict(sorted(new.items()))
    result.moved = {c: w for gid, w in sorted(moved_groups.items()) for c in groups[gid].cases}
    return result
