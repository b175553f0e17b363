"""The second backend: the core formulation as a MIP, solved lexicographically with HiGHS.

The same input (:class:`~allocator.engine.core.CoreInput`) and the same rules and
tiers (:class:`~allocator.engine.core.Formulation`) as the CP-SAT model, on HiGHS's
branch-and-cut instead of CP-SAT's search: a reference for the engine's figures (the
benchmarks run it beside the engine on every eligible pair, so a proof here is a
proof for the whole problem), as PyJobShop offers CP Optimizer beside OR-Tools.

Stages: one tier at a time, in priority order. The first stage may start from given
decisions; after a stage its tier is held at the value reached and the next stage
starts from that solution. Every stage objective has integer coefficients, so an
absolute gap below one proves optimality.

The engine itself uses HiGHS for two things: :func:`least_linear_cost`, the linear
programme whose optimum bounds the linear tiers of daily allocation (the priority
classes first: :mod:`allocator.engine.solve`), and :func:`improve_stage`, the siblings
stage's last step. So ``highspy`` is a dependency of the package.
"""

from __future__ import annotations

import functools
import math
import os
import sys
import time
from collections.abc import Mapping, Sequence

import highspy
import numpy as np

from allocator.domain.result import Result, TierResult
from allocator.engine.core import (
    CoreInput,
    Formulation,
    Linear,
    StageRun,
    tier_floor,
    tier_values,
)

#: Objectives are integral, so a gap of half a unit is a proof (and robust to rounding).
ABSOLUTE_GAP = 0.5
INF = highspy.kHighsInf

Row = tuple[list[int], list[float], float, float]


class _Columns:
    """:class:`~allocator.engine.core.Backend` collecting HiGHS columns and rows."""

    def __init__(self) -> None:
        self.upper: list[float] = []
        self.rows: list[Row] = []

    def _column(self, upper: float) -> int:
        self.upper.append(upper)
        return len(self.upper) - 1

    def bool_var(self, name: str) -> int:
        return self._column(1.0)

    def int_var(self, upper: int, name: str) -> int:
        return self._column(float(upper))

    def exactly_one(self, vars_: Sequence[int]) -> None:
        self.rows.append((list(vars_), [1.0] * len(vars_), 1.0, 1.0))

    def implies(self, a: int, b: int) -> None:
        self.rows.append(([a, b], [1.0, -1.0], -INF, 0.0))

    def at_most(self, terms: Sequence[tuple[int, int]], bound: int) -> None:
        self.rows.append(
            ([var for _, var in terms], [float(coef) for coef, _ in terms], -INF, float(bound))
        )


def _new_highs() -> highspy.Highs:
    """A silent HiGHS instance.

    HiGHS prints its banner on standard output when the first instance of a process
    is made, before any option can be set; a plan written to standard output
    (``--out -``) must not carry it, so that first instance is made with the output
    file descriptor pointed at the null device.
    """
    _banner_swallowed()
    highs = highspy.Highs()  # type: ignore[no-untyped-call]
    highs.setOptionValue("output_flag", False)
    return highs


@functools.cache
def _banner_swallowed() -> None:
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        with open(os.devnull, "wb") as null:
            os.dup2(null.fileno(), 1)
            highspy.Highs()  # type: ignore[no-untyped-call]
    finally:
        os.dup2(saved, 1)
        os.close(saved)


def _add_rows(highs: highspy.Highs, rows: list[Row]) -> None:
    """Add ``rows`` (columns, coefficients, lower, upper) to ``highs`` in one call."""
    if not rows:
        return
    starts = np.cumsum([0] + [len(r[0]) for r in rows[:-1]], dtype=np.int32)
    indices = np.fromiter((c for r in rows for c in r[0]), dtype=np.int32)
    values = np.fromiter((v for r in rows for v in r[1]), dtype=np.float64)
    highs.addRows(
        len(rows),
        np.array([r[2] for r in rows]),
        np.array([r[3] for r in rows]),
        len(indices),
        starts,
        indices,
        values,
    )


class HighsModel(Formulation[int]):
    """The formulation of one :class:`CoreInput` as a HiGHS MIP (columns are ints)."""

    def __init__(self, data: CoreInput) -> None:
        self.columns = _Columns()
        super().__init__(data, self.columns)
        self.highs = _new_highs()
        n = len(self.columns.upper)
        self.highs.addVars(n, np.zeros(n), np.array(self.columns.upper))
        self.highs.changeColsIntegrality(
            n, np.arange(n, dtype=np.int32), np.array([highspy.HighsVarType.kInteger] * n)
        )
        self.add_rows(self.columns.rows)

    def add_rows(self, rows: list[Row]) -> None:
        _add_rows(self.highs, rows)

    def start(self, decisions: Mapping[str, str]) -> list[float]:
        """Every column's value at ``decisions``."""
        values = [0.0] * len(self.columns.upper)
        for col, value in self.start_values(decisions):
            values[col] = float(value)
        return values

    def decisions(self, col_value: Sequence[float]) -> dict[str, str]:
        """Item id -> receiver in a solution."""
        return {i: w for (i, w), col in self.place.items() if col_value[col] > 0.5}

    def minimise(self, key: str) -> None:
        """Make tier ``key`` the objective (the model's minimised form, less its constant)."""
        n = self.highs.getNumCol()
        tier: Linear[int] = self.linear_tiers[key]
        costs = np.zeros(n)
        if tier.terms:
            np.add.at(
                costs,
                np.array([col for _, col in tier.terms], dtype=np.int64),
                np.array([float(coef) for coef, _ in tier.terms]),
            )
        self.highs.changeColsCost(n, np.arange(n, dtype=np.int32), costs)

    def hold(self, key: str, value: int | float) -> None:
        """Keep tier ``key`` (minimised form) at ``value`` or below from now on."""
        tier: Linear[int] = self.linear_tiers[key]
        cols = [col for _, col in tier.terms]
        self.add_rows([(cols, [float(c) for c, _ in tier.terms], -INF, value - tier.constant)])

    def warm_start(self, col_value: Sequence[float]) -> None:
        """Offer ``col_value`` (every column's value) as the next run's incumbent."""
        warm = highspy.HighsSolution()
        warm.col_value = list(col_value)
        warm.value_valid = True
        self.highs.setSolution(warm)

    def dual_bound(self, key: str) -> float:
        """The last run's proved lower bound on tier ``key`` (minimised form)."""
        return float(self.highs.getInfo().mip_dual_bound) + self.linear_tiers[key].constant

    def exact(self) -> None:
        """Settings under which a run's result depends only on the model and its start:
        one thread, a fixed seed, and a gap of under one unit (objectives are integral)."""
        h = self.highs
        h.setOptionValue("mip_rel_gap", 0.0)
        h.setOptionValue("mip_abs_gap", ABSOLUTE_GAP)
        h.setOptionValue("random_seed", 0)


def solve_highs(
    data: CoreInput,
    *,
    start: Mapping[str, str] | None = None,
    time_limit: float = 120.0,
    threads: int = 1,
) -> Result:
    """Minimise ``data``'s tiers lexicographically with HiGHS.

    Parameters
    ----------
    data
        The input, as for CP-SAT.
    start
        Decisions to start the first stage from (item id -> receiver); a start never
        affects a proof.
    time_limit
        Wall-clock seconds for the whole run, building included. A stage cut by it
        keeps its best solution and its tier's bound; the later stages still run (at
        least a second each) so a plan comes back.
    threads
        HiGHS threads.

    Returns
    -------
    Result
        The decisions, and each tier's value (the plain-Python figure,
        :func:`~allocator.engine.core.tier_values`), bound and proof.
    """
    started = time.perf_counter()
    m = HighsModel(data)
    h = m.highs
    m.exact()
    h.setOptionValue("threads", threads)
    solution = Result(decisions=dict(start or {}), variables=m.variables)
    col_value = m.start(start) if start is not None else None
    for index, key in enumerate(data.tiers):
        m.minimise(key)
        left = time_limit - (time.perf_counter() - started)
        h.setOptionValue("time_limit", max(1.0, left / (len(data.tiers) - index)))
        if col_value is not None:
            m.warm_start(col_value)
        h.run()
        status = h.getModelStatus()
        solution.stages.append(f"{key}: {h.modelStatusToString(status)}")
        found = h.getSolution()
        if not found.value_valid:
            break
        col_value = list(found.col_value)
        solution.decisions = m.decisions(col_value)
        # The tier's true value: an incumbent cut by the time limit may carry slack in
        # split[f] (only pushed down at optimality).
        reached = tier_values(data, solution.decisions)[key]
        optimal = status == highspy.HighsModelStatus.kOptimal
        dual = m.dual_bound(key)
        bound = tier_floor(data, key)
        if optimal:
            bound = reached
        elif math.isfinite(dual):
            bound = max(bound, math.ceil(dual - 1e-6))
        solution.tiers[key] = TierResult(reached, min(bound, reached), reached <= bound)
        # Later stages keep this tier at the value reached.
        m.hold(key, reached)
    solution.cut_short = len(solution.tiers) < len(data.tiers)
    solution.seconds = time.perf_counter() - started
    return solution


def improve_stage(
    data: CoreInput,
    key: str,
    held: Mapping[str, int | float],
    start: Mapping[str, str],
    *,
    seconds: float,
    nodes: int,
) -> StageRun:
    """Minimise tier ``key`` of ``data`` with HiGHS from ``start``: one stage of the engine.

    The tiers in ``held`` (minimised form) stay at their values or below. HiGHS's
    root heuristics (sub-MIPs guided by its LP) find what CP-SAT's search can miss:
    measured on the siblings tier, with the priority classes held, 9 families apart
    to 6 (proved, 4.5 s) on a 25-practitioner day and 21 to 16 (proved, 7.9 s) on a
    stretched 150-practitioner one (benchmarks/SEARCH.md).

    Parameters
    ----------
    data
        The model's input; every tier in ``held`` and ``key`` must be linear in it.
    key
        The tier minimised.
    held
        Tier key -> the most it may be (minimised form).
    start
        Item id -> receiver: a feasible plan, HiGHS's first incumbent.
    seconds
        Wall-clock limit. A run it stops returns no decisions (``cut_short``): what
        HiGHS holds at that moment depends on the machine's speed, and a plan must
        not.
    nodes
        Most branch-and-bound nodes (1: the root alone), the run's reproducible limit.

    Returns
    -------
    StageRun
        The decisions (``None`` if cut short or none found), ``optimal`` or
        ``feasible``, the proved bound on the tier (minimised form) and no CP-SAT work.
    """
    m = HighsModel(data)
    h = m.highs
    m.exact()
    h.setOptionValue("threads", 1)
    h.setOptionValue("time_limit", max(0.01, seconds))
    h.setOptionValue("mip_max_nodes", max(1, nodes))
    for held_key, value in held.items():
        m.hold(held_key, value)
    m.minimise(key)
    m.warm_start(m.start(start))
    h.run()
    status = h.getModelStatus()
    found = h.getSolution()
    dual = m.dual_bound(key)
    bound = dual if math.isfinite(dual) else None
    if status == highspy.HighsModelStatus.kTimeLimit:
        return StageRun(None, "unknown", bound, 0.0, cut_short=True)
    if not found.value_valid:
        return StageRun(None, "unknown", bound, 0.0, cut_short=False)
    optimal = status == highspy.HighsModelStatus.kOptimal
    return StageRun(
        m.decisions(list(found.col_value)),
        "optimal" if optimal else "feasible",
        bound,
        0.0,
        cut_short=False,
    )


#: A linear tier's costs over a packing's items: per item, its cost at each of its
#: receivers (in the order of ``receivers``), and its cost if left out.
LinearCosts = tuple[Sequence[Sequence[int]], Sequence[int]]


def least_linear_cost(
    weights: Sequence[int],
    receivers: Sequence[Sequence[str]],
    room: Mapping[str, int],
    tiers: Sequence[LinearCosts],
    most: Sequence[float],
) -> float:
    """The least of ``tiers[0]`` a fractional packing can reach: a linear programme.

    Items ``i`` of weight ``weights[i]`` (centi-points) each go, at most once in all,
    in fractions to their ``receivers[i]``; what a receiver ``w`` gets weighs at most
    ``room[w]``. A tier's value is each item's cost at its receivers times its share
    there, plus its cost left out times the share not placed. Minimised:
    ``tiers[0]``, while each later tier ``tiers[k]`` stays at ``most[k - 1]`` or
    below. Every integer packing is such a fractional one, so the optimum bounds
    what any integer packing reaches from below.

    Parameters
    ----------
    weights, receivers
        Per item, its weight and the receivers it may go to.
    room
        Receiver -> the weight it may still take (every receiver named).
    tiers, most
        Per tier, its costs (:data:`LinearCosts`, integers); the first is minimised,
        each later one held at its ``most``.

    Returns
    -------
    float
        The LP's optimum; ``-inf`` (nothing known) if HiGHS ends without one.
    """
    counts = np.fromiter((len(ws) for ws in receivers), dtype=np.int64, count=len(receivers))
    n = int(counts.sum())
    left_out = [float(sum(stays)) for _, stays in tiers]
    if n == 0:
        return left_out[0]
    names = sorted(room)
    index = {w: k for k, w in enumerate(names)}
    item = np.repeat(np.arange(len(receivers)), counts)
    worker = np.fromiter((index[w] for ws in receivers for w in ws), dtype=np.int64, count=n)
    weight = np.asarray(weights, dtype=float)[item]

    def change(costs: LinearCosts) -> np.ndarray:
        """Per column, what placing it changes: its cost there less its cost left out."""
        at, stays = costs
        placed = np.fromiter((c for row in at for c in row), dtype=float, count=n)
        changes: np.ndarray = placed - np.asarray(stays, dtype=float)[item]
        return changes

    h = _new_highs()
    h.setOptionValue("threads", 1)
    # Measured at 1,000 practitioners: 0.28 s without presolve against 0.79 s with
    # it on 93,015 columns (1.12 s against 2.14 s on 234,849): the rows are as
    # simple as rows get, and presolve finds little to remove.
    h.setOptionValue("presolve", "off")
    h.addVars(n, np.zeros(n), np.ones(n))
    h.changeColsCost(n, np.arange(n, dtype=np.int32), change(tiers[0]))
    columns = np.arange(n, dtype=np.int32)
    # Each item at most once: its columns are consecutive.
    h.addRows(
        len(receivers),
        np.full(len(receivers), -INF),
        np.ones(len(receivers)),
        n,
        np.concatenate(([0], np.cumsum(counts)[:-1])).astype(np.int32),
        columns,
        np.ones(n),
    )
    # Each receiver within its room: its columns, gathered.
    order = np.argsort(worker, kind="stable")
    per_worker = np.bincount(worker, minlength=len(names))
    h.addRows(
        len(names),
        np.full(len(names), -INF),
        np.array([float(room[w]) for w in names]),
        n,
        np.concatenate(([0], np.cumsum(per_worker)[:-1])).astype(np.int32),
        columns[order],
        weight[order],
    )
    rows: list[Row] = []
    for costs, held, out in zip(tiers[1:], most, left_out[1:], strict=True):
        coefficients = change(costs)
        used = np.flatnonzero(coefficients)
        rows.append((used.tolist(), coefficients[used].tolist(), -INF, held - out))
    _add_rows(h, rows)
    h.run()
    if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        return -math.inf
    return float(h.getInfo().objective_function_value) + left_out[0]
