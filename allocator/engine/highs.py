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

Needs ``highspy`` (the optional extra ``mip``; the ``test`` extra has it too).
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence

import highspy
import numpy as np

from allocator.engine.core import (
    CoreInput,
    Formulation,
    Linear,
    tier_floor,
    tier_values,
)
from allocator.result import Result, TierResult

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


class HighsModel(Formulation[int]):
    """The formulation of one :class:`CoreInput` as a HiGHS MIP (columns are ints)."""

    def __init__(self, data: CoreInput) -> None:
        self.columns = _Columns()
        super().__init__(data, self.columns)
        self.highs = highspy.Highs()  # type: ignore[no-untyped-call]
        self.highs.setOptionValue("output_flag", False)
        n = len(self.columns.upper)
        self.highs.addVars(n, np.zeros(n), np.array(self.columns.upper))
        self.highs.changeColsIntegrality(
            n, np.arange(n, dtype=np.int32), np.array([highspy.HighsVarType.kInteger] * n)
        )
        self.add_rows(self.columns.rows)

    def add_rows(self, rows: list[Row]) -> None:
        if not rows:
            return
        starts = np.cumsum([0] + [len(r[0]) for r in rows[:-1]], dtype=np.int32)
        indices = np.fromiter((c for r in rows for c in r[0]), dtype=np.int32)
        values = np.fromiter((v for r in rows for v in r[1]), dtype=np.float64)
        self.highs.addRows(
            len(rows),
            np.array([r[2] for r in rows]),
            np.array([r[3] for r in rows]),
            len(indices),
            starts,
            indices,
            values,
        )

    def start(self, decisions: Mapping[str, str]) -> list[float]:
        """Every column's value at ``decisions``."""
        values = [0.0] * len(self.columns.upper)
        for col, value in self.start_values(decisions):
            values[col] = float(value)
        return values

    def decisions(self, col_value: Sequence[float]) -> dict[str, str]:
        """Item id -> receiver in a solution."""
        return {i: w for (i, w), col in self.place.items() if col_value[col] > 0.5}


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
    h.setOptionValue("mip_rel_gap", 0.0)
    h.setOptionValue("mip_abs_gap", ABSOLUTE_GAP)
    h.setOptionValue("threads", threads)
    h.setOptionValue("random_seed", 0)
    n = h.getNumCol()
    all_cols = np.arange(n, dtype=np.int32)
    solution = Result(decisions=dict(start or {}), variables=m.variables)
    col_value = m.start(start) if start is not None else None
    for index, key in enumerate(data.tiers):
        tier: Linear[int] = m.linear_tiers[key]
        costs = np.zeros(n)
        if tier.terms:
            np.add.at(
                costs,
                np.array([col for _, col in tier.terms], dtype=np.int64),
                np.array([float(coef) for coef, _ in tier.terms]),
            )
        h.changeColsCost(n, all_cols, costs)
        left = time_limit - (time.perf_counter() - started)
        h.setOptionValue("time_limit", max(1.0, left / (len(data.tiers) - index)))
        if col_value is not None:
            warm = highspy.HighsSolution()
            warm.col_value = col_value
            warm.value_valid = True
            h.setSolution(warm)
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
        dual = h.getInfo().mip_dual_bound + tier.constant
        bound = tier_floor(data, key)
        if optimal:
            bound = reached
        elif math.isfinite(dual):
            bound = max(bound, math.ceil(dual - 1e-6))
        solution.tiers[key] = TierResult(reached, min(bound, reached), reached <= bound)
        # Later stages keep this tier at the value reached.
        cols = [col for _, col in tier.terms]
        m.add_rows([(cols, [float(c) for c, _ in tier.terms], -INF, reached - tier.constant)])
    solution.cut_short = len(solution.tiers) < len(data.tiers)
    solution.seconds = time.perf_counter() - started
    return solution
