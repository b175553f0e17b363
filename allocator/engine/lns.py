"""The large-neighbourhood search loop shared by daily allocation and the rebalance.

A round frees a few decisions around some *seeds* (places where the tier being
improved can still get better), solves that small model exactly and keeps the
result if it is better. The loop here owns what both searches share: which seeds
are still to try, the work budget, and the wall-clock safety net.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Generic, TypeVar

Plan = TypeVar("Plan")

#: Largest number of decisions (cases or groups) a neighbourhood frees at once.
NEIGHBOURHOOD = 60
#: Work charged per variable a neighbourhood builds, and per decision of the day, in
#: Python (a deterministic proxy for the time spent outside the solver each round).
BUILD_WORK_PER_VARIABLE = 2e-5
#: Share of the work the first stage (children placed) may use: every child left
#: out is a child without a social worker, so it comes first in time too.
FIRST_STAGE_SHARE = 0.5
#: Least work a stage is given, however much earlier stages overspent.
MIN_WORK = 0.05


def stage_share(index: int, stages: int, first: float = FIRST_STAGE_SHARE) -> float:
    """Share of the work still left that stage ``index`` of ``stages`` may use.

    ``first`` for the first stage, then an equal split among the stages still to run
    (each inherits what earlier ones did not spend).
    """
    return first if index == 0 else 1 / (stages - index)


@dataclass
class Round(Generic[Plan]):
    """What one neighbourhood gave.

    Attributes
    ----------
    covered
        The seeds this round's neighbourhood took in (not tried again until the plan
        improves).
    found
        The whole plan with the neighbourhood re-solved, or ``None`` if the solver
        found nothing.
    work
        Deterministic work the round cost (solver units plus any fixed charge).
    """

    covered: Collection[str]
    found: Plan | None
    work: float


def neighbourhood_search(
    plan: Plan,
    *,
    trouble: Callable[[Plan], list[str]],
    solve_round: Callable[[Plan, list[str], int, float], Round[Plan]],
    better: Callable[[Plan, Plan], bool],
    work: float,
    deadline: float,
    sweeps: int = 1,
) -> tuple[Plan, bool, float]:
    """Improve ``plan`` round by round until every seed is tried or ``work`` is spent.

    Parameters
    ----------
    plan
        Where the search starts; every plan it returns is this one or better.
    trouble
        The seeds of a plan, in a fixed order.
    solve_round
        ``(plan, untried seeds, sweep, work cap) -> Round``: one neighbourhood.
    better
        ``(candidate, plan)``: whether the candidate improves on the plan.
    work
        Deterministic work budget: where the search stops, the same on any machine.
    deadline
        Wall-clock time (``time.perf_counter``) after which no round starts that could
        not finish, judged by the last round's time per unit of work: only a safety
        net.
    sweeps
        Passes over the seeds without improvement before the search ends; each
        sweep number is handed to ``solve_round`` so it can vary its neighbourhoods.

    Returns
    -------
    tuple
        The plan, whether the search ended on its own terms (budget or seeds
        exhausted, hence reproducible) rather than by the clock, and the work spent.
    """
    tried: set[str] = set()
    sweep = 0
    last, last_work = 0.0, 0.0  # how long the last round took, and the work it cost
    spent = 0.0
    while spent < work:
        # The next round costs at most the work left; judge its time by the last one's.
        expected = last * min(1.0, (work - spent) / last_work) if last_work > 0 else last
        if time.perf_counter() + expected >= deadline:
            return plan, False, spent
        seeds = [s for s in trouble(plan) if s not in tried]
        if not seeds and sweep + 1 < sweeps:
            sweep += 1
            tried.clear()
            continue
        if not seeds:
            break
        started = time.perf_counter()
        result = solve_round(plan, seeds, sweep, work - spent)
        spent += result.work
        last, last_work = time.perf_counter() - started, result.work
        tried.update(result.covered)
        if result.found is not None and better(result.found, plan):
            plan = result.found
            tried.clear()
    return plan, True, spent
