"""The one staged solve: a lexicographic objective, one stage per tier.

Every solve of the engine runs this loop: the daily allocation
(:func:`allocator.engine.solve.solve`) and the moves that make room and the
rebalance (:func:`allocator.engine.core.solve_in_stages`). A problem supplies what
differs between them (:class:`StagedProblem`): a plan's value on a tier, the tier's
floor (a bound no plan can beat), how a stage searches and on what budget, a repair
before each stage, and how a tier is held once settled. The loop owns what is the
same for all:

- a stage whose plan meets its floor is proved without a search;
- a stage the wall clock has run out on keeps its plan, flagged as cut short;
- a stage searches from the best plan so far (the problem's step keeps a plan only
  where it is better), then its tier is held at the value reached, so the result is
  never worse than the start on any tier, in priority order;
- each tier ends with its value, its bound (the best any plan could reach with the
  tiers above held) and whether the two meet, in the plan's units;
- progress is told as each searching stage starts and ends.

Values handed between the loop and a problem are in the *minimised* form the models
use (a maximised tier as its complement); :meth:`StagedProblem.in_plan_units` turns
them back for the result and the progress display.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from allocator.contract.settings import Progress, ProgressCallback
from allocator.domain.result import Result, TierResult

#: A stage's report of a better plan or bound while it searches: (value, bound),
#: minimised form.
Tell = Callable[[float, float], None]


@dataclass(frozen=True)
class Step:
    """What one stage's search did.

    Attributes
    ----------
    decisions
        The plan after the stage: the start unless the search found one better on the
        stage (item id -> receiver).
    status
        How the search ended (CP-SAT's status in lower case, or how a neighbourhood
        search ended); the loop writes ``optimal`` instead where the tier is proved.
    bound
        The best value any plan could reach on the tier with the tiers above held,
        minimised form, at least the stage's floor.
    used
        Deterministic work units spent.
    cut_short
        Stopped by the wall clock rather than by proof or its budget.
    """

    decisions: dict[str, str]
    status: str
    bound: float
    used: float
    cut_short: bool


class StagedProblem(Protocol):
    """What one kind of solve supplies to :func:`solve_in_stages`."""

    @property
    def keys(self) -> Sequence[str]:
        """The tiers, one stage each, in priority order."""
        ...

    def value(self, key: str, decisions: Mapping[str, str]) -> float:
        """The plan's value on tier ``key``, minimised form."""
        ...

    def floor(self, index: int, key: str, decisions: Mapping[str, str], deadline: float) -> float:
        """A value no plan can beat on stage ``index`` with the tiers above held
        (minimised form); a plan at it needs no search."""
        ...

    def prepare(self, index: int, decisions: dict[str, str]) -> dict[str, str]:
        """The plan stage ``index`` starts from: ``decisions``, or a repair of it that
        holds every tier settled and is no worse in priority order."""
        ...

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
        """Search stage ``index`` (tier ``key``) from ``decisions``, above ``floor``;
        ``spent``: the work earlier stages used (the problem shares its budget)."""
        ...

    def settle(self, key: str, value: float) -> None:
        """Hold tier ``key`` at ``value`` (minimised form) in every later stage."""
        ...

    def in_plan_units(self, key: str, value: float) -> float:
        """A minimised value of tier ``key`` in the plan's units and sense."""
        ...


#: The log line of a stage whose plan meets its floor.
AT_FLOOR = "optimal (meets its bound without search)"
#: The log line of a stage the wall clock ran out before.
NOT_SEARCHED = "not searched (time limit)"


def solve_in_stages(
    problem: StagedProblem,
    start: Mapping[str, str],
    *,
    deadline: float,
    progress: ProgressCallback | None = None,
) -> Result:
    """Minimise ``problem``'s tiers lexicographically from ``start``, one stage each.

    Parameters
    ----------
    problem
        What differs between solves (:class:`StagedProblem`).
    start
        Item id -> receiver: a plan that keeps every hard rule.
    deadline
        ``time.perf_counter()`` value after which no stage starts a search (a
        safety net: work budgets decide where searches stop).
    progress
        Told of each stage that searches, as it starts and ends, in plan units.

    Returns
    -------
    Result
        The decisions, each tier's value, bound and proof, a log line per stage, and
        whether the clock cut a stage short; the caller adds its statistics.
    """
    started = time.perf_counter()
    decisions = dict(start)
    result = Result(decisions={})
    spent = 0.0
    keys = problem.keys
    for index, key in enumerate(keys):

        def tell(value: float, bound: float, index: int = index, key: str = key) -> None:
            if progress is not None:
                plan_value = problem.in_plan_units(key, value)
                plan_bound = problem.in_plan_units(key, min(value, bound))
                progress(Progress(key, index + 1, len(keys), plan_value, plan_bound))

        decisions = problem.prepare(index, decisions)
        value = problem.value(key, decisions)
        floor = problem.floor(index, key, decisions, deadline)
        bound = floor
        if value <= floor:
            status = AT_FLOOR
        else:
            tell(value, floor)
            if time.perf_counter() >= deadline:
                status, result.cut_short = NOT_SEARCHED, True
            else:
                step = problem.step(index, key, decisions, floor, spent, deadline, tell)
                decisions, spent = step.decisions, spent + step.used
                result.cut_short = result.cut_short or step.cut_short
                value = problem.value(key, decisions)
                bound = max(floor, step.bound)
                status = "optimal" if value <= bound else step.status
                tell(value, bound)
        result.stages.append(f"{key}: {status}")
        result.tiers[key] = TierResult(
            problem.in_plan_units(key, value),
            problem.in_plan_units(key, min(bound, value)),
            value <= bound,
        )
        problem.settle(key, value)
    result.decisions = decisions
    result.seconds = time.perf_counter() - started
    return result
