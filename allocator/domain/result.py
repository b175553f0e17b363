"""What a solve found (:class:`Result`), and the one way a plan is written from it.

Every solve of the engine — the daily allocation, the moves that make room, the
rebalance and so the cap cost — ends in one :class:`Result`: the decisions, each
tier's value, bound and proof, the status, and the solver's statistics. The plan a
manager reads (:class:`~allocator.contract.models.Plan`, the FORMAT.md contract) is produced
from it apart, by :func:`to_plan`, the one place a plan's status, bounds, gap and
settings are written. No solver import.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from allocator.contract.models import (
    Assignment,
    Handover,
    Plan,
    Status,
    Unallocated,
    WorkerLoad,
)
from allocator.contract.settings import Settings
from allocator.domain.objectives import Tier
from allocator.domain.rules import ServiceState, managed_exceptions


@dataclass(frozen=True)
class TierResult:
    """One tier of a solve: the value reached, the best value possible, and whether proved.

    Attributes
    ----------
    value
        The tier's value in the plan's units (children, workers, centi-points, cost
        units), in the plan's sense (``previous_worker_returns`` is maximised).
    bound
        The best value any plan could reach with the tiers above at their values
        (a lower bound for a minimised tier, an upper bound for a maximised one),
        in the same key and units as ``value``.
    proved
        Whether ``value`` equals ``bound`` over every worker the rules allow.
    """

    value: int | float
    bound: int | float
    proved: bool


@dataclass
class Result:
    """What a solve found: the decisions, each tier's value, bound and proof, and the
    solver's statistics.

    Attributes
    ----------
    decisions
        The outcome: item id -> receiver (daily allocation: case id -> worker; a
        rebalance: group id -> worker); an item absent stays where it is.
    tiers
        Tier key -> :class:`TierResult`, in priority order.
    pruned
        Statistics: some items were offered only some of the workers who may take
        them, so nothing is proved over every worker.
    seconds
        Statistics: wall-clock seconds the solve took.
    stages
        Statistics: one line per stage, its tier and how it ended.
    variables
        Statistics: (item, worker) pairs in the largest model.
    cut_short
        Statistics: a stage stopped at the wall clock rather than by proof or its
        work budget (a higher time limit reproduces the run).
    from_greedy
        Statistics: the decisions are the manager's rule's own.
    """

    decisions: dict[str, str]
    tiers: dict[str, TierResult] = field(default_factory=dict)
    pruned: bool = False
    seconds: float = 0.0
    stages: list[str] = field(default_factory=list)
    variables: int = 0
    cut_short: bool = False
    from_greedy: bool = False

    @property
    def proved(self) -> bool:
        """Every tier proved optimal over every worker the rules allow."""
        return not self.pruned and all(t.proved for t in self.tiers.values())

    @property
    def status(self) -> Status:
        """``optimal`` when :attr:`proved`, else ``feasible`` (a plan always exists)."""
        return "optimal" if self.proved else "feasible"

    @property
    def bounds(self) -> dict[str, int | float]:
        """Each tier's bound, keyed as its value."""
        return {key: t.bound for key, t in self.tiers.items()}


def to_plan(
    state: ServiceState,
    *,
    status: Status,
    objective: dict[str, int | float],
    tiers: Sequence[Tier],
    bound: dict[str, int | float] | None,
    proved: dict[str, bool] | None,
    assignments: Sequence[Assignment],
    unallocated: Sequence[Unallocated],
    workers: Sequence[WorkerLoad],
    seconds: float,
    notes: Sequence[str],
    settings: Settings,
    options: Mapping[str, float | int | str] | None = None,
    handovers: Sequence[Handover] = (),
) -> Plan:
    """The plan a solve's outcome makes: the one place a :class:`Plan` is built.

    Parameters
    ----------
    state
        The service solved.
    status
        The solve's (:attr:`Result.status`), or ``feasible`` where a later step (the
        moves) voids its proof.
    objective
        Every figure of the plan, each tier's value among them, in plan keys and units.
    tiers
        The plan's tiers, in priority order (the gap is measured on them).
    bound, proved
        Per tier, in plan keys and units; ``None`` where nothing is proved.
    assignments, unallocated, workers, handovers
        The plan's lists, each sorted as FORMAT.md says.
    seconds
        Wall-clock seconds of solving (rounded to the millisecond).
    notes
        Observations a manager should see.
    settings
        The settings the solve ran with (recorded so that they reproduce the plan).
    options
        The problem's own options recorded beside them (``allow_moves``,
        ``max_moves``, a cap cost's override).
    """
    return Plan(
        as_of=state.as_of,
        status=status,
        assignments=tuple(assignments),
        unallocated=tuple(unallocated),
        workers=tuple(workers),
        objective=objective,
        bound=bound,
        proved=proved,
        gap=plan_gap(objective, bound, tiers, sum(state.waiting_weight.values())),
        solve_seconds=round(seconds, 3),
        notes=tuple(notes),
        settings={**settings.record(), **(options or {})},
        exceptions=managed_exceptions(state),
        handovers=tuple(handovers),
    )


def plan_gap(
    objective: Mapping[str, int | float],
    bound: Mapping[str, int | float] | None,
    tiers: Sequence[Tier],
    waiting: int,
) -> float | None:
    """A plan's ``gap``: on children allocated, where the plan counts them.

    0.0 without a bound (nothing proved, nothing measured against); ``None`` for a
    plan that does not report ``allocated`` (a rebalance); else :func:`relative_gap`
    (``waiting``: the waiting weight of every child needing a worker).
    """
    if not bound:
        return 0.0
    if "allocated" not in objective:
        return None
    return relative_gap(objective, bound, tiers, waiting)


def relative_gap(
    objective: Mapping[str, int | float],
    bound: Mapping[str, int | float] | None,
    tiers: Sequence[Tier],
    waiting: int,
) -> float:
    """The plan's gap on children allocated, weighed by their wait; 0.0 when every
    priority class is proved.

    The priority-class tiers weigh each child left without a worker by their wait
    (:attr:`~allocator.domain.rules.ServiceState.waiting_weight`), and so do their bounds,
    so the gap is in that unit throughout. At the first priority-class tier short of
    its bound: the share of the waiting weight a plan could place at best that this
    one does not, ``(value - bound) / (placed + value - bound)``, where ``placed`` is
    ``waiting`` (the waiting weight of every child needing a worker) less the class
    tiers' values: the waiting weight of the children this plan allocates. The
    tiers below the classes (siblings, balance, ...) carry their own value and bound
    in the plan; folding them in here would report "66 % gap" on a plan whose every
    child placement is proved, when only the siblings tier is open.
    """
    if not bound:
        return 0.0
    classes = [t for t in tiers if t.priority_class]
    placed = waiting - sum(objective[t.key] for t in classes)
    for tier in classes:
        if bound.get(tier.key, objective[tier.key]) == objective[tier.key]:
            continue
        short = objective[tier.key] - bound[tier.key]
        most = placed + short
        return round(short / most, 6) if most else 0.0
    return 0.0


__all__ = ["Result", "TierResult", "plan_gap", "relative_gap", "to_plan"]
