"""The one model core: every model the engine solves is built here, once.

Daily allocation (:mod:`.model`), the moves that make room (:mod:`.moves`) and the
rebalance (:mod:`.rebalance`) are thin builders of one input, :class:`CoreInput`:

- *items*: a case, or siblings held by one worker who move together; each with an
  optional current worker (its *source*), the workers who may receive it, and its
  weight in centi-points;
- per worker, the room left under their cap and the families new to them they may
  still take (the intake limit), and the families that are not new to them;
- a budget of changes of worker (``None``: no budget);
- the tiers, in priority order, each a minimised integer expression.

Each item goes to exactly one receiver or stays where it is: with its source, or
without a worker when it has none. Each rule family is one method of
:class:`Formulation` (``_one_place_each``, ``_weighted_cap``, ``_intake_limit``,
``_move_budget``), written once for the three builders and for both backends
(:class:`Backend`: CP-SAT here, :class:`CoreModel`; HiGHS in :mod:`.highs`), and so
is each kind of tier:

- a *linear* tier: each item carries, per tier key, a coefficient if it stays and one
  per receiver (children left without a worker by priority class, changes of worker
  and their cost, balance, work outside a worker's area, children not back with a
  worker they know, the look-ahead), plus a constant per key;
- ``siblings_apart``: per family with an item, the distinct workers holding its
  children after the plan, minus one (or minus the workers before, for a family whose
  children all have a worker: see :func:`siblings_apart`);
- ``over_cap_excess``: per over-cap source, the centi-points still over its cap.

:func:`tier_values` gives every tier's value in plain Python, equal to the model's
expression at the same decisions (the tests hold the two together);
:func:`violations` checks the hard rules the same way. :func:`run_stage` is the one
way a model is solved, and :func:`solve_core_in_stages` gives the moves and the
rebalance the engine's one staged solve (:mod:`.stages`, which the daily allocation
runs too); every solve ends in a :class:`~allocator.domain.result.Result` of
:class:`~allocator.domain.result.TierResult`.
"""

from __future__ import annotations

import math
import time
from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Generic, Protocol, TypeVar

from allocator.contract.settings import ProgressCallback
from allocator.contract.units import CentiPoints
from allocator.domain.result import Result
from allocator.engine.lns import MIN_WORK, stage_share
from allocator.engine.solver import configured_solver
from allocator.engine.stages import Step, Tell
from allocator.engine.stages import solve_in_stages as staged

if TYPE_CHECKING:
    from ortools.sat.python import cp_model

#: The structural tiers; every other key is a linear tier.
SIBLINGS_APART = "siblings_apart"
OVER_CAP_EXCESS = "over_cap_excess"


@dataclass(frozen=True)
class Item:
    """A decision: a case, or siblings who move together.

    Attributes
    ----------
    id
        Unique in the input (a case id, or ``family@source``).
    cases
        The children, sorted.
    family
        Their family.
    weight
        Their combined weight, centi-points.
    receivers
        The workers it may go to, sorted (never its source).
    source
        The worker who holds it now, or ``None``.
    keeps_source
        Staying leaves it with ``source``, who still counts as its worker for the
        siblings tier (a long-absent or over-cap worker, a movable group); ``False``
        for a case without a worker or whose worker has left.
    stay_cost
        Tier key -> its coefficient when the item stays.
    receiver_cost
        Tier key -> receiver -> its coefficient when the item goes there (a receiver
        not named has 0).
    """

    id: str
    cases: tuple[str, ...]
    family: str
    weight: CentiPoints
    receivers: tuple[str, ...]
    source: str | None = None
    keeps_source: bool = False
    stay_cost: Mapping[str, int] = field(default_factory=dict)
    receiver_cost: Mapping[str, Mapping[str, int]] = field(default_factory=dict)

    @property
    def changes(self) -> int:
        """Changes of worker if the item moves (a case without a worker changes none)."""
        return len(self.cases) if self.source is not None else 0


@dataclass
class CoreInput:
    """Everything a model needs, in ids and integers.

    Attributes
    ----------
    items
        The decisions.
    tiers
        The tier keys of this model, in priority order (all minimised).
    room
        Worker -> centi-points left under their cap before the items move, for every
        receiver and source. An item that keeps its source when it stays counts in
        that source's load (its leaving frees room); one that does not (its worker
        has gone or may no longer hold it) does not.
    new_families_left
        Receiver -> families new to them they may still take.
    held
        Worker -> families that are not new to them (an item of such a family uses
        none of their intake).
    holders
        Family -> the workers who hold one of its children whatever the items do,
        for the siblings tier.
    workers_before
        Family -> workers holding its children before the plan, for the families none
        of whose children needs a worker (see :func:`siblings_apart`).
    excess
        Over-cap source -> centi-points over their cap before the plan.
    move_budget
        Most changes of worker, or ``None``.
    constants
        Tier key -> a constant added to the tier.
    """

    items: list[Item]
    tiers: tuple[str, ...]
    room: Mapping[str, CentiPoints]
    new_families_left: Mapping[str, int]
    held: Mapping[str, frozenset[str]]
    holders: Mapping[str, frozenset[str]] = field(default_factory=dict)
    workers_before: Mapping[str, int] = field(default_factory=dict)
    excess: Mapping[str, int] = field(default_factory=dict)
    move_budget: int | None = None
    constants: Mapping[str, int] = field(default_factory=dict)

    def by_family(self) -> dict[str, list[Item]]:
        """The items of each family, in input order."""
        out: dict[str, list[Item]] = defaultdict(list)
        for item in self.items:
            out[item.family].append(item)
        return dict(out)

    @property
    def pairs(self) -> int:
        """(item, receiver) pairs: the model's size."""
        return sum(len(item.receivers) for item in self.items)


# ------------------------------------------------------------------ plain Python


def tier_values(data: CoreInput, decisions: Mapping[str, str]) -> dict[str, int]:
    """Every tier's value at ``decisions`` (item id -> receiver; absent = stays).

    Equal to the model's tier expressions at the same decisions.
    """
    values = {key: data.constants.get(key, 0) for key in data.tiers}
    linear = [k for k in data.tiers if k not in (SIBLINGS_APART, OVER_CAP_EXCESS)]
    relief = _relief(data, decisions)
    for item in data.items:
        w = decisions.get(item.id)
        if w is None:
            for key in linear:
                values[key] += item.stay_cost.get(key, 0)
            continue
        for key in linear:
            values[key] += item.receiver_cost.get(key, {}).get(w, 0)
    if OVER_CAP_EXCESS in values:
        values[OVER_CAP_EXCESS] += sum(max(0, e - relief[s]) for s, e in data.excess.items())
    if SIBLINGS_APART in values:
        values[SIBLINGS_APART] += siblings_apart(data, decisions)
    return values


def _relief(data: CoreInput, decisions: Mapping[str, str]) -> dict[str, int]:
    """Per source, the centi-points that leave it: items that move, and items that do
    not keep it whatever they do (they leave it even if they find nobody)."""
    relief: dict[str, int] = defaultdict(int)
    for item in data.items:
        if item.source is not None and (item.id in decisions or not item.keeps_source):
            relief[item.source] += item.weight
    return relief


def violations(data: CoreInput, decisions: Mapping[str, str]) -> list[str]:
    """The hard rules ``decisions`` break, in plain Python (empty: a solution).

    The same rules as :class:`CoreModel`: each decision names one of its item's
    receivers; what arrives at a worker, less what leaves them, fits in their room;
    families new to a worker stay within what they may take; changes of worker stay
    within the budget. Used to check a warm start before it is given as a hint.
    """
    out: list[str] = []
    items = {item.id: item for item in data.items}
    delta: dict[str, int] = defaultdict(int)
    new: dict[str, set[str]] = defaultdict(set)
    changes = 0
    for item_id, w in sorted(decisions.items()):
        item = items[item_id]
        if w not in item.receivers:
            out.append(f"{item_id} is not offered {w}")
            continue
        delta[w] += item.weight
        if item.source is not None and item.keeps_source:  # else not in its room
            delta[item.source] -= item.weight
        changes += item.changes
        if item.family not in data.held.get(w, frozenset()):
            new[w].add(item.family)
    arriving = {w for w in decisions.values()}
    for w in sorted(arriving & set(delta)):
        if delta[w] > data.room[w]:
            out.append(f"{w} gains {delta[w]} centi-points with {data.room[w]} of room")
    for w in sorted(new):
        if len(new[w]) > data.new_families_left[w]:
            out.append(f"{w} takes {len(new[w])} new families, {data.new_families_left[w]} left")
    if data.move_budget is not None and changes > data.move_budget:
        out.append(f"{changes} children change worker, at most {data.move_budget} may")
    return out


def siblings_apart(data: CoreInput, decisions: Mapping[str, str]) -> int:
    """The ``siblings_apart`` tier: extra workers across the families with an item.

    A family's workers after the plan are its fixed holders, the receiver of each
    item that moves, and the source of each item that stays and keeps them
    (:attr:`Item.keeps_source`); a child left without a worker holds nobody. A
    family with a child who needs a worker counts its workers after minus one. A
    family whose children all have a worker (moved only for cover or relief) counts
    its workers after minus its workers before: 0 while the plan leaves it as it
    was, -1 when a move joins a child to their sibling's worker. That ranks plans
    exactly as counting its workers after minus one (the two differ by a constant).
    """
    return sum(
        family_apart(data, family, items, decisions) for family, items in data.by_family().items()
    )


def family_apart(
    data: CoreInput, family: str, items: Sequence[Item], decisions: Mapping[str, str]
) -> int:
    """One family's ``siblings_apart`` term (``items``: all its items in ``data``)."""
    workers = set(data.holders.get(family, ()))
    for item in items:
        w = decisions.get(item.id)
        if w is not None:
            workers.add(w)
        elif item.keeps_source and item.source is not None:
            workers.add(item.source)
    before = data.workers_before.get(family)
    return len(workers) - before if before is not None else max(0, len(workers) - 1)


def family_floor(data: CoreInput, family: str) -> int:
    """The least ``siblings_apart`` term of one family: all its children with one worker.

    Its fixed holders stay; a family whose children all have a worker keeps at least
    one.
    """
    fixed = len(data.holders.get(family, ()))
    before = data.workers_before.get(family)
    return max(1, fixed) - before if before is not None else max(0, fixed - 1)


def tier_floor(data: CoreInput, key: str) -> int:
    """A value no plan can beat on tier ``key`` (a stage at it needs no search).

    The constant plus, per item, its least coefficient; for ``siblings_apart`` the
    least term of each family; 0 for ``over_cap_excess``.
    """
    if key == OVER_CAP_EXCESS:
        return 0
    if key == SIBLINGS_APART:
        return sum(family_floor(data, family) for family in data.by_family())
    floor = data.constants.get(key, 0)
    for item in data.items:
        costs = item.receiver_cost.get(key, {})
        options = [costs.get(w, 0) for w in item.receivers]
        options.append(item.stay_cost.get(key, 0))
        floor += min(options)
    return floor


# ------------------------------------------------------------------ the formulation

Var = TypeVar("Var")


class Backend(Protocol[Var]):
    """What a solver gives the formulation: variables and three kinds of constraint.

    CP-SAT (:class:`CoreModel`) and HiGHS (:mod:`.highs`) each implement it, so the
    rules and tiers of :class:`Formulation` are written once for both.
    """

    def bool_var(self, name: str) -> Var: ...

    def int_var(self, upper: int, name: str) -> Var:
        """A whole number from 0 to ``upper``."""
        ...

    def exactly_one(self, vars_: Sequence[Var]) -> None: ...

    def implies(self, a: Var, b: Var) -> None:
        """``a <= b`` for booleans."""
        ...

    def at_most(self, terms: Sequence[tuple[int, Var]], bound: int) -> None:
        """``sum(coef * var) <= bound``."""
        ...


@dataclass
class Linear(Generic[Var]):
    """A tier: ``constant + sum(coef * var)`` (an empty one is the constant alone)."""

    terms: list[tuple[int, Var]] = field(default_factory=list)
    constant: int = 0


class Formulation(Generic[Var]):
    """The variables, hard rules and tiers of one :class:`CoreInput`, for any backend.

    Attributes
    ----------
    place
        (item id, receiver) -> 1 when the item goes there.
    stay
        Item id -> 1 when the item stays where it is.
    linear_tiers
        Tier key -> its minimised expression, in priority order.
    """

    def __init__(self, data: CoreInput, backend: Backend[Var]) -> None:
        self.data = data
        self.backend = backend
        self.place: dict[tuple[str, str], Var] = {}
        self.stay: dict[str, Var] = {}
        # Per worker: (weight, var) of what may arrive, and of what may leave (stay).
        self._arriving: dict[str, list[tuple[int, Var]]] = defaultdict(list)
        self._leaving: dict[str, list[tuple[int, Var]]] = defaultdict(list)
        for item in data.items:
            self.stay[item.id] = backend.bool_var(f"stay[{item.id}]")
            if item.source is not None and item.keeps_source:  # else not in its room
                self._leaving[item.source].append((item.weight, self.stay[item.id]))
            for w in item.receivers:
                var = backend.bool_var(f"place[{item.id},{w}]")
                self.place[item.id, w] = var
                self._arriving[w].append((item.weight, var))
        self.families = data.by_family()
        # takes[family, w] (with the items it stands for): ``w`` receives an item of
        # the family; made once, shared by the intake limit and the siblings tier.
        self.takes: dict[tuple[str, str], tuple[Var, list[str]]] = {}
        self.keep: dict[tuple[str, str], tuple[Var, list[str]]] = {}
        self.split: dict[str, Var] = {}
        self.remaining: dict[str, Var] = {}

        # Hard rules, then the tiers in priority order.
        self._one_place_each()
        self._weighted_cap()
        self._intake_limit()
        self._move_budget()
        self.linear_tiers: dict[str, Linear[Var]] = {key: self._tier(key) for key in data.tiers}

    # ------------------------------------------------------------------ hard rules

    def _one_place_each(self) -> None:
        """Exactly one of: a receiver, or ``stay``.

        An explicit ``stay`` per item (rather than ``1 - sum(place)``) lets the solver
        see at once that no tier can fall below zero.
        """
        for item in self.data.items:
            self.backend.exactly_one(
                [self.stay[item.id], *(self.place[item.id, w] for w in item.receivers)]
            )

    def _weighted_cap(self) -> None:
        """What arrives at a worker, less what leaves them, fits in their room.

        An item leaves when it does not stay: ``weight * (1 - stay)``.
        """
        for w, arriving in sorted(self._arriving.items()):
            room = self.data.room[w]
            if sum(weight for weight, _ in arriving) <= room:
                continue
            leaving = self._leaving.get(w, [])
            self.backend.at_most([*arriving, *leaving], room + sum(weight for weight, _ in leaving))

    def _intake_limit(self) -> None:
        """Families new to a receiver, at most the intake they have left."""
        new: dict[str, list[Var]] = defaultdict(list)
        for family, items in sorted(self.families.items()):
            for w in sorted({w for item in items for w in item.receivers}):
                if family not in self.data.held.get(w, frozenset()):
                    new[w].append(self.family_worker(family, w))
        for w, vars_ in sorted(new.items()):
            left = self.data.new_families_left[w]
            if len(vars_) > left:
                self.backend.at_most([(1, v) for v in vars_], left)

    def _move_budget(self) -> None:
        budget = self.data.move_budget
        moving = [item for item in self.data.items if item.changes and item.receivers]
        if budget is not None and sum(item.changes for item in moving) > budget:
            self.backend.at_most(
                [(item.changes, self.place[item.id, w]) for item in moving for w in item.receivers],
                budget,
            )

    def family_worker(self, family: str, w: str) -> Var:
        """A boolean that is 1 exactly when ``w`` receives an item of ``family``.

        The pair variable itself where only one of the family's items may go to
        ``w``; else ``takes[family, w]``, made once and shared.
        """
        items = [item for item in self.families[family] if (item.id, w) in self.place]
        if len(items) == 1:
            return self.place[items[0].id, w]
        known = self.takes.get((family, w))
        if known is not None:
            return known[0]
        takes = self.backend.bool_var(f"takes[{family},{w}]")
        vars_ = [self.place[item.id, w] for item in items]
        for v in vars_:
            self.backend.implies(v, takes)
        # takes may only be 1 if an item really goes there: keeps counts exact.
        # Linear (not an enforced clause) so the LP relaxation sees it.
        self.backend.at_most([(1, takes), *((-1, v) for v in vars_)], 0)
        self.takes[family, w] = (takes, [item.id for item in items])
        return takes

    # ------------------------------------------------------------------ tiers

    def _tier(self, key: str) -> Linear[Var]:
        if key == SIBLINGS_APART:
            return self._siblings_apart()
        if key == OVER_CAP_EXCESS:
            return self._over_cap_excess()
        return self._linear(key)

    def _linear(self, key: str) -> Linear[Var]:
        tier: Linear[Var] = Linear(constant=self.data.constants.get(key, 0))
        for item in self.data.items:
            if coef := item.stay_cost.get(key, 0):
                tier.terms.append((coef, self.stay[item.id]))
            for w, coef in item.receiver_cost.get(key, {}).items():
                if coef and (item.id, w) in self.place:
                    tier.terms.append((coef, self.place[item.id, w]))
        return tier

    def _over_cap_excess(self) -> Linear[Var]:
        """Per over-cap source, ``max(0, excess - weight off them)`` as a slack.

        ``remaining >= excess - sum(weight * (1 - stay)) - gone``: an item that keeps
        its source leaves it when it moves; ``gone`` is the weight of the items that
        leave it whatever they do (see :func:`_relief`).
        """
        off: dict[str, list[Item]] = defaultdict(list)
        gone: dict[str, int] = defaultdict(int)
        for item in self.data.items:
            if item.source is not None and item.source in self.data.excess:
                if item.keeps_source:
                    off[item.source].append(item)
                else:
                    gone[item.source] += item.weight
        tier: Linear[Var] = Linear()
        for s, excess in sorted(self.data.excess.items()):
            r = self.backend.int_var(excess, f"remaining[{s}]")
            staying = [(item.weight, self.stay[item.id]) for item in off[s]]
            self.backend.at_most(
                [*staying, (-1, r)], sum(weight for weight, _ in staying) + gone[s] - excess
            )
            self.remaining[s] = r
            tier.terms.append((1, r))
        return tier

    def _siblings_apart(self) -> Linear[Var]:
        """Per family with an item, as :func:`siblings_apart`.

        A family's workers are its fixed holders plus one boolean per other worker it
        may end with: a receiver taking one of its items (:meth:`family_worker`), or a
        source kept by an item that stays (``keep[f, s]``). A family with a child who
        needs a worker and no fixed holder counts ``max(0, n - 1)`` through a
        non-negative ``split[f]`` pushed down by the objective.
        """
        tier: Linear[Var] = Linear()
        for family, items in sorted(self.families.items()):
            holders = self.data.holders.get(family, frozenset())
            receivers = sorted({w for item in items for w in item.receivers} - holders)
            ends = [self.family_worker(family, w) for w in receivers]
            kept: dict[str, list[Item]] = defaultdict(list)
            for item in items:
                if item.keeps_source and item.source is not None and item.source not in holders:
                    kept[item.source].append(item)
            for source, staying in sorted(kept.items()):
                if len(staying) == 1:
                    ends.append(self.stay[staying[0].id])
                    continue
                keep = self.backend.bool_var(f"keep[{family},{source}]")
                for item in staying:
                    self.backend.implies(self.stay[item.id], keep)
                self.backend.at_most([(1, keep), *((-1, self.stay[i.id]) for i in staying)], 0)
                self.keep[family, source] = (keep, [item.id for item in staying])
                ends.append(keep)
            before = self.data.workers_before.get(family)
            if before is not None or holders:
                tier.constant += len(holders) - (before if before is not None else 1)
                tier.terms.extend((1, end) for end in ends)
            elif len(items) > 1 and len(ends) > 1:  # one item holds one worker at most
                split = self.backend.int_var(min(len(items), len(ends)) - 1, f"split[{family}]")
                # split >= sum(ends) - 1
                self.backend.at_most([*((1, end) for end in ends), (-1, split)], 1)
                self.split[family] = split
                tier.terms.append((1, split))
        return tier

    # ------------------------------------------------------------------ a start

    def start_values(self, decisions: Mapping[str, str]) -> Iterator[tuple[Var, int]]:
        """Every variable's value at ``decisions`` (a complete start for a solver).

        Decisions of items not in the model are ignored.
        """
        for (item_id, w), var in self.place.items():
            yield var, int(decisions.get(item_id) == w)
        for item_id, var in self.stay.items():
            yield var, int(item_id not in decisions)
        for (_, w), (var, ids) in self.takes.items():
            yield var, int(any(decisions.get(i) == w for i in ids))
        for var, ids in self.keep.values():
            yield var, int(any(i not in decisions for i in ids))
        for family, var in self.split.items():
            yield var, max(0, self._ends_used(family, decisions) - 1)
        relief = _relief(self.data, decisions)
        for s, var in self.remaining.items():
            yield var, max(0, self.data.excess[s] - relief[s])

    def _ends_used(self, family: str, decisions: Mapping[str, str]) -> int:
        """How many of the family's possible end workers (not fixed holders) are used."""
        holders = self.data.holders.get(family, frozenset())
        ends: set[str] = set()
        for item in self.families[family]:
            w = decisions.get(item.id)
            if w is not None:
                ends.add(w)
            elif item.keeps_source and item.source is not None:
                ends.add(item.source)
        return len(ends - holders)

    @property
    def variables(self) -> int:
        """Pair variables in the model."""
        return len(self.place)


# ------------------------------------------------------------------ the CP-SAT backend


class _CpSat:
    """:class:`Backend` on a CP-SAT model."""

    def __init__(self, model: cp_model.CpModel) -> None:
        self.model = model

    def bool_var(self, name: str) -> cp_model.IntVar:
        return self.model.new_bool_var(name)

    def int_var(self, upper: int, name: str) -> cp_model.IntVar:
        return self.model.new_int_var(0, upper, name)

    def exactly_one(self, vars_: Sequence[cp_model.IntVar]) -> None:
        self.model.add_exactly_one(vars_)

    def implies(self, a: cp_model.IntVar, b: cp_model.IntVar) -> None:
        self.model.add_implication(a, b)

    def at_most(self, terms: Sequence[tuple[int, cp_model.IntVar]], bound: int) -> None:
        self.model.add(sum(coef * var for coef, var in terms) <= bound)


class CoreModel(Formulation["cp_model.IntVar"]):
    """The formulation of one :class:`CoreInput` on CP-SAT.

    Attributes
    ----------
    model
        The CP-SAT model.
    tiers
        Tier key -> its minimised expression (an int where nothing can change it).
    """

    def __init__(self, data: CoreInput) -> None:
        # Imported here: building the inputs above needs no solver.
        from ortools.sat.python import cp_model

        self.model = cp_model.CpModel()
        super().__init__(data, _CpSat(self.model))
        self.tiers: dict[str, cp_model.LinearExprT] = {
            key: tier.constant + sum(coef * var for coef, var in tier.terms)
            for key, tier in self.linear_tiers.items()
        }

    def hint(self, decisions: Mapping[str, str]) -> None:
        """Start the search from ``decisions``, every auxiliary variable hinted too.

        A complete hint is a feasible solution the solver takes as is; a partial one
        it must repair, which on a tightly constrained stage can take the whole budget.
        """
        self.model.clear_hints()  # type: ignore[no-untyped-call]  # untyped in OR-Tools
        for var, value in self.start_values(decisions):
            self.model.add_hint(var, value)

    def decisions(self, solver: cp_model.CpSolver) -> dict[str, str]:
        """Item id -> receiver in the solver's current solution."""
        return {i: w for (i, w), var in self.place.items() if solver.boolean_value(var)}


# ------------------------------------------------------------------ one stage


@dataclass
class StageRun:
    """What one CP-SAT solve of a stage gave.

    Attributes
    ----------
    decisions
        Item id -> receiver in the solution found, or ``None`` if none was found.
    status
        CP-SAT's status, lower case (``optimal``, ``feasible``, ``unknown`` ...).
    bound
        The solver's proved lower bound on the objective, or ``None`` without a
        solution.
    work
        Deterministic work units spent.
    cut_short
        Stopped by the wall clock rather than by proof or its work budget.
    """

    decisions: dict[str, str] | None
    status: str
    bound: float | None
    work: float
    cut_short: bool

    def tier_bound(self, scale: int = 1) -> int | None:
        """The proved bound on a whole-number tier minimised as ``scale x tier + r``,
        ``0 <= r < scale`` (``scale`` 1: the tier alone)."""
        if self.bound is None:
            return None
        return math.ceil((self.bound - scale + 1) / scale - 1e-6)


def run_stage(
    m: CoreModel,
    objective: cp_model.LinearExprT,
    start: Mapping[str, str],
    *,
    seconds: float,
    work: float | None,
    seed: int,
    workers: int,
    presolve: bool = True,
    interleave: bool = False,
    lp: bool = True,
) -> StageRun:
    """Minimise ``objective`` on ``m`` from ``start`` (a complete hint): one stage.

    Parameters
    ----------
    m
        The model, with the earlier stages' tiers already held.
    objective
        What the stage minimises.
    start
        Item id -> receiver: a feasible plan the search starts from.
    seconds
        Wall-clock limit (a safety net).
    work
        Deterministic work units, or ``None`` for no limit.
    seed, workers
        CP-SAT's ``random_seed`` and ``num_workers``.
    presolve
        ``False`` where presolve alone would use the budget (the moves' model).
    interleave
        CP-SAT's interleaved search with its own neighbourhood workers, even on one
        worker (:func:`~allocator.engine.solver.configured_solver`).
    lp
        ``False``: search without the linear relaxation
        (:func:`~allocator.engine.solver.configured_solver`).
    """
    from ortools.sat.python import cp_model

    m.hint(start)
    m.model.minimize(objective)
    solver = configured_solver(
        seconds=seconds, work=work, seed=seed, workers=workers, interleave=interleave, lp=lp
    )
    if not presolve:
        solver.parameters.cp_model_presolve = False
    status = solver.solve(m.model)
    used = solver.response_proto.deterministic_time
    name = solver.status_name(status).lower()
    cut_short = status != cp_model.OPTIMAL and (work is None or used < work * 0.99)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return StageRun(None, name, None, used, cut_short)
    return StageRun(m.decisions(solver), name, solver.best_objective_bound, used, cut_short)


# ------------------------------------------------------------------ the staged solve

#: A neighbourhood search for one stage: ``(index, key, decisions, work, deadline)`` to
#: ``(decisions, finished on its own terms, work spent)``.
Search = Callable[[int, str, dict[str, str], float, float], tuple[dict[str, str], bool, float]]


def _completed(
    data: CoreInput, decisions: dict[str, str], candidate: dict[str, str], index: int
) -> dict[str, str]:
    """``candidate`` where it may replace ``decisions`` before stage ``index``: no hard
    rule broken, each tier already held (before ``index``) no higher, and the tiers
    lower in priority order; else ``decisions``."""
    if candidate == decisions or violations(data, candidate):
        return decisions
    before, after = tier_values(data, decisions), tier_values(data, candidate)
    if any(after[k] > before[k] for k in data.tiers[:index]):
        return decisions
    if [after[k] for k in data.tiers] < [before[k] for k in data.tiers]:
        return candidate
    return decisions


@dataclass
class _CoreStages:
    """:class:`~allocator.engine.stages.StagedProblem` of a :class:`CoreInput`: each
    stage on the whole model, or by a neighbourhood search where one is given."""

    data: CoreInput
    work: float | None
    seed: int
    workers: int
    first_share: float | None
    presolve: bool
    search: Search | None
    complete: Callable[[dict[str, str]], dict[str, str]] | None
    model: CoreModel | None = None

    @property
    def keys(self) -> Sequence[str]:
        return self.data.tiers

    def value(self, key: str, decisions: Mapping[str, str]) -> float:
        return tier_values(self.data, decisions)[key]

    def floor(self, index: int, key: str, decisions: Mapping[str, str], deadline: float) -> float:
        if self.model is not None and isinstance(self.model.tiers[key], int):
            return self.value(key, decisions)  # an empty tier: nothing to search
        return tier_floor(self.data, key)

    def prepare(self, index: int, decisions: dict[str, str]) -> dict[str, str]:
        if self.complete is None:
            return decisions
        return _completed(self.data, decisions, self.complete(decisions), index)

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
        stages = len(self.data.tiers)
        share = stage_share(index, stages, self.first_share or 1 / stages)
        budget = None if self.work is None else max(MIN_WORK, max(0.0, self.work - spent) * share)
        if self.model is None:
            assert self.search is not None  # no model without a search
            found, finished, used = self.search(index, key, decisions, budget or MIN_WORK, deadline)
            return Step(found, "feasible (neighbourhood search)", floor, used, not finished)
        value = self.value(key, decisions)
        run = run_stage(
            self.model,
            self.model.tiers[key],
            decisions,
            seconds=deadline - time.perf_counter(),
            work=budget,
            seed=self.seed,
            workers=self.workers,
            presolve=self.presolve,
        )
        if run.decisions is not None and self.value(key, run.decisions) < value:
            decisions = run.decisions
        bound = max(floor, run.tier_bound() or floor)
        if run.status == "optimal":  # proved: the plan kept is the optimum
            bound = max(bound, self.value(key, decisions))
        return Step(decisions, run.status, bound, run.work, run.cut_short)

    def settle(self, key: str, value: float) -> None:
        if self.model is None:
            return
        expr = self.model.tiers[key]
        if not isinstance(expr, int):  # an empty tier is the constant 0
            self.model.model.add(expr <= value)

    def in_plan_units(self, key: str, value: float) -> float:
        return value


def solve_core_in_stages(
    data: CoreInput,
    start: Mapping[str, str],
    *,
    work: float | None,
    deadline: float,
    seed: int,
    workers: int,
    first_share: float | None = None,
    presolve: bool = True,
    progress: ProgressCallback | None = None,
    search: Search | None = None,
    complete: Callable[[dict[str, str]], dict[str, str]] | None = None,
) -> Result:
    """Minimise ``data``'s tiers lexicographically, one stage each
    (:func:`allocator.engine.stages.solve_in_stages`, the engine's one staged solve).

    Each stage is solved on the whole model (:func:`run_stage`), or, where
    ``search`` is given (a model too big to solve whole), by that neighbourhood
    search (:func:`allocator.engine.lns.neighbourhood_search` over small models of
    ``data``); then it proves only what reaches the tier's floor
    (:func:`tier_floor`).

    Parameters
    ----------
    data
        The input; ``start`` (item id -> receiver) must satisfy its hard rules.
    work
        CP-SAT deterministic work units for all stages (``None``: no limit): each
        stage gets a share of what is left (:func:`~allocator.engine.lns.stage_share`,
        ``first_share`` for the first stage; default an equal split), so the same
        input gives the same plan on any machine.
    deadline
        ``time.perf_counter()`` value at which every stage stops (a safety net); a
        stage it stops is flagged (:attr:`Result.cut_short`).
    seed, workers, presolve
        See :func:`run_stage`.
    progress
        Told of each stage that searches, as it starts and ends.
    search
        ``search(index, key, decisions, work, deadline)`` improves stage ``index``
        (tier ``key``) from ``decisions`` within ``work`` units and returns the
        decisions, whether it ended on its own terms, and the work spent.
    complete
        ``complete(decisions)``, when given, runs before each stage: a cheap repair
        by hand (the problem's own warm-start rule placing what the plan
        left unplaced). Its plan is kept if it breaks no hard rule, no tier already
        held is higher and the tiers are lower in priority order; else ignored.

    Returns
    -------
    Result
        Each tier's value, bound (with the tiers above held at their values) and proof.
    """
    problem = _CoreStages(
        data,
        work,
        seed,
        workers,
        first_share,
        presolve,
        search,
        complete,
        model=CoreModel(data) if search is None else None,
    )
    result = staged(problem, start, deadline=deadline, progress=progress)
    result.variables = data.pairs
    return result
