"""The engine's model as a MIP, solved lexicographically with HiGHS: the reference.

The same variables, hard rules and tier expressions as
:class:`allocator.engine.model.AllocationModel`, in the same tier order, with one
difference on purpose: **every** eligible (case, worker) pair is a column, never a
pruned candidate subset, so a proof here is a proof for the whole problem.

- ``x[c, w]`` binary per eligible pair; ``unplaced[c]`` binary per case, and
  ``unplaced[c] + sum_w x[c, w] = 1``;
- weighted cap in centi-points: ``sum_c weight[c] x[c, w] <= spare[w]``;
- ``takes[f, w]`` binary for a family with several children to place
  (``x[c, w] <= takes[f, w] <= sum_c x[c, w]``; with one child it is ``x`` itself);
- intake limit: ``sum_f takes[f, w] <= max_new_families_per_day`` over families new
  to ``w`` (``w`` holds none of their children);
- ``siblings_apart``: ``len(holders) - 1 + sum takes`` over non-holders for a family
  already held; for one that is not, an integer ``split[f] >= sum takes - 1``;
- ``previous_worker_returns``: ``sum x`` over the children's previous workers
  (maximised; the engine's ``not_back`` slack is the same sum, complemented);
- ``balance``: ``sum balance_cost(c, w) x[c, w]``; ``outside_area``: ``sum x`` over
  pairs outside the worker's patches.

Stages: one tier at a time (the engine groups the two unallocated tiers in one stage;
the lexicographic optimum is the same). The first stage may start from given
placements (the harness gives the greedy plan, as the engine starts from it). After a
stage its tier is bounded by the value reached, and the next stage starts from that
solution. Every stage objective has
integer coefficients, so an absolute gap below one proves optimality.
"""

from __future__ import annotations

import math
import time
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field

import highspy
import numpy as np

from allocator.objectives import balance_cost, class_tier_key, daily_tiers, evaluate, outside_area
from allocator.rules import ServiceState

#: Objectives are integral, so a gap of half a unit is a proof (and robust to rounding).
ABSOLUTE_GAP = 0.5
INF = highspy.kHighsInf


@dataclass
class MipSolution:
    """What HiGHS found: placements, proof status, lexicographic bounds, timings.

    Attributes
    ----------
    placed
        Case id to worker id.
    proved
        Every stage proved optimal within the time limit.
    values
        Each tier's value as the MIP computed it (plan units), for cross-checking
        against :func:`allocator.objectives.evaluate`.
    bounds
        For the first tier not proved: the best value any plan could reach (plan
        units). Empty when proved.
    seconds, build_seconds
        Wall time of the whole run, and of building the model within it.
    """

    placed: dict[str, str]
    proved: bool
    values: dict[str, int] = field(default_factory=dict)
    bounds: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    build_seconds: float = 0.0
    stages: list[str] = field(default_factory=list)
    columns: int = 0
    rows: int = 0


@dataclass
class _Expr:
    """A tier as ``constant + sum coef * col`` (plan units, its own sense)."""

    cols: list[int] = field(default_factory=list)
    coefs: list[float] = field(default_factory=list)
    constant: int = 0

    def add(self, col: int, coef: float = 1.0) -> None:
        self.cols.append(col)
        self.coefs.append(coef)


class MipModel:
    """The allocation MIP for one day, built into a :class:`highspy.Highs` instance.

    Parameters
    ----------
    state
        The service; every pair of ``state.eligible`` becomes a column.
    """

    def __init__(self, state: ServiceState) -> None:
        self.state = state
        self.cases = sorted(state.to_allocate)
        self.eligible = {c: state.eligible(c) for c in self.cases}
        self._lower: list[float] = []
        self._upper: list[float] = []
        self._integer: list[bool] = []
        self._rows: list[tuple[list[int], list[float], float, float]] = []

        self.x: dict[tuple[str, str], int] = {}
        for cid in self.cases:
            for wid in self.eligible[cid]:
                self.x[cid, wid] = self._column()
        # Hard rules, then the tier expressions, in the order of engine/model.py.
        self.unplaced = self._one_worker_per_case()
        self._weighted_cap()
        self.takes = self._family_indicators()
        self._intake_limit()
        self.tiers: dict[str, _Expr] = {
            **{
                class_tier_key(name): self._unallocated(klass)
                for klass, name in enumerate(state.policy.class_names)
            },
            "siblings_apart": self._keep_families_together(),
            "previous_worker_returns": self._previous_workers(),
            "balance": self._balance(),
            "outside_area": self._outside_area(),
        }
        self.highs = self._build()

    # ------------------------------------------------------------------ building

    def _column(self, upper: float = 1.0) -> int:
        self._lower.append(0.0)
        self._upper.append(upper)
        self._integer.append(True)
        return len(self._lower) - 1

    def _row(self, cols: list[int], coefs: list[float], lower: float, upper: float) -> None:
        self._rows.append((cols, coefs, lower, upper))

    def _one_worker_per_case(self) -> dict[str, int]:
        unplaced = {}
        for cid in self.cases:
            slack = self._column()
            cols = [slack, *(self.x[cid, w] for w in self.eligible[cid])]
            self._row(cols, [1.0] * len(cols), 1.0, 1.0)
            unplaced[cid] = slack
        return unplaced

    def _weighted_cap(self) -> None:
        by_worker: dict[str, list[str]] = defaultdict(list)
        for cid, wid in self.x:
            by_worker[wid].append(cid)
        for wid, cids in by_worker.items():
            spare = self.state.spare_before(wid)
            weights = [float(self.state.weight[c]) for c in cids]
            if sum(weights) > spare:
                self._row([self.x[c, wid] for c in cids], weights, -INF, float(spare))

    def _family_indicators(self) -> dict[tuple[str, str], int]:
        children: dict[str, list[str]] = defaultdict(list)
        for cid in self.cases:
            children[self.state.cases[cid].family].append(cid)
        takes: dict[tuple[str, str], int] = {}
        for family, kids in children.items():
            for wid in sorted({w for c in kids for w in self.eligible[c]}):
                pairs = [self.x[c, wid] for c in kids if (c, wid) in self.x]
                if len(kids) == 1:
                    takes[family, wid] = pairs[0]
                    continue
                var = self._column()
                for col in pairs:
                    self._row([col, var], [1.0, -1.0], -INF, 0.0)  # x <= takes
                self._row([var, *pairs], [1.0] + [-1.0] * len(pairs), -INF, 0.0)
                takes[family, wid] = var
        self.families = dict(children)
        return takes

    def _intake_limit(self) -> None:
        limit = self.state.policy.max_new_families_per_day
        new: dict[str, list[int]] = defaultdict(list)
        for (family, wid), col in self.takes.items():
            if wid not in self.state.holders.get(family, ()):
                new[wid].append(col)
        for cols in new.values():
            if len(cols) > limit:
                self._row(cols, [1.0] * len(cols), -INF, float(limit))

    def _unallocated(self, klass: int) -> _Expr:
        """Children of priority class ``klass`` left without a worker."""
        expr = _Expr()
        for cid in self.cases:
            if self.state.priority_class[cid] == klass:
                expr.add(self.unplaced[cid])
        return expr

    def _keep_families_together(self) -> _Expr:
        expr = _Expr()
        self.split: dict[str, int] = {}
        for family, kids in self.families.items():
            holders = self.state.holders.get(family, frozenset())
            extra = [
                self.takes[family, w]
                for w in sorted({w for c in kids for w in self.eligible[c]})
                if w not in holders
            ]
            if holders:
                expr.constant += len(holders) - 1
                for col in extra:
                    expr.add(col)
            elif len(kids) > 1 and len(extra) > 1:
                split = self._column(upper=float(len(kids) - 1))
                # split >= sum(extra) - 1
                self._row([*extra, split], [1.0] * len(extra) + [-1.0], -INF, 1.0)
                expr.add(split)
                self.split[family] = split
        return expr

    def _previous_workers(self) -> _Expr:
        expr = _Expr()
        for (cid, wid), col in self.x.items():
            if wid in self.state.cases[cid].previous_workers:
                expr.add(col)
        return expr

    def _balance(self) -> _Expr:
        expr = _Expr()
        for pair, col in self.x.items():
            cost = balance_cost(self.state, *pair)
            if cost:
                expr.add(col, float(cost))
        return expr

    def _outside_area(self) -> _Expr:
        expr = _Expr()
        for pair, col in self.x.items():
            if outside_area(self.state, *pair):
                expr.add(col)
        return expr

    def _build(self) -> highspy.Highs:
        h = highspy.Highs()  # type: ignore[no-untyped-call]
        h.setOptionValue("output_flag", False)
        n = len(self._lower)
        h.addVars(n, np.array(self._lower), np.array(self._upper))
        h.changeColsIntegrality(
            n,
            np.arange(n, dtype=np.int32),
            np.array([highspy.HighsVarType.kInteger] * n),
        )
        self._add_rows(h, self._rows)
        return h

    @staticmethod
    def _add_rows(
        h: highspy.Highs, rows: list[tuple[list[int], list[float], float, float]]
    ) -> None:
        if not rows:
            return
        starts = np.cumsum([0] + [len(r[0]) for r in rows[:-1]], dtype=np.int32)
        indices = np.fromiter((c for r in rows for c in r[0]), dtype=np.int32)
        values = np.fromiter((v for r in rows for v in r[1]), dtype=np.float64)
        h.addRows(
            len(rows),
            np.array([r[2] for r in rows]),
            np.array([r[3] for r in rows]),
            len(indices),
            starts,
            indices,
            values,
        )

    # ------------------------------------------------------------------ solving

    def value(self, key: str, col_value: list[float]) -> int:
        """A tier's value (plan units) in a solution."""
        expr = self.tiers[key]
        total = expr.constant + sum(
            c * col_value[i] for i, c in zip(expr.cols, expr.coefs, strict=True)
        )
        return round(total)

    def solution_of(self, placed: Mapping[str, str]) -> list[float]:
        """Every column's value for the placements ``placed`` (pairs outside are dropped)."""
        values = [0.0] * len(self._lower)
        for (cid, wid), col in self.x.items():
            if placed.get(cid) == wid:
                values[col] = 1.0
        for cid, col in self.unplaced.items():
            if (cid, placed.get(cid, "")) not in self.x:
                values[col] = 1.0
        for (family, wid), col in self.takes.items():
            if any(values[self.x[c, wid]] for c in self.families[family] if (c, wid) in self.x):
                values[col] = 1.0
        for family, col in self.split.items():
            used = {placed[c] for c in self.families[family] if (c, placed.get(c, "")) in self.x}
            values[col] = float(max(0, len(used) - 1))
        return values

    def placements(self, col_value: list[float]) -> dict[str, str]:
        """Case id to worker id in a solution."""
        return {cid: wid for (cid, wid), col in self.x.items() if col_value[col] > 0.5}


def solve_mip(
    state: ServiceState,
    *,
    time_limit: float = 120.0,
    threads: int = 1,
    start: Mapping[str, str] | None = None,
) -> MipSolution:
    """Solve the day's allocation lexicographically with HiGHS, every eligible pair in.

    Parameters
    ----------
    state
        The service.
    time_limit
        Wall-clock seconds for the whole run (building included). A stage cut by it
        keeps its best solution, its tier's bound is reported and the later stages
        still run (in the time left, at least a second each) so a plan comes back.
    threads
        HiGHS threads.
    start
        Placements to start the first stage from (the harness passes the greedy
        plan, as the engine starts from it); a start never affects the proof.
    """
    started = time.perf_counter()
    if not state.to_allocate:
        return MipSolution(placed={}, proved=True)
    m = MipModel(state)
    h = m.highs
    build_seconds = time.perf_counter() - started
    h.setOptionValue("mip_rel_gap", 0.0)
    h.setOptionValue("mip_abs_gap", ABSOLUTE_GAP)
    h.setOptionValue("threads", threads)
    h.setOptionValue("random_seed", 0)

    n = h.getNumCol()
    all_cols = np.arange(n, dtype=np.int32)
    proved = True
    bounds: dict[str, int] = {}
    values: dict[str, int] = {}
    log: list[str] = []
    placed: dict[str, str] = {}
    col_value = m.solution_of(start) if start is not None else None
    tiers = daily_tiers(state.policy)
    for index, tier in enumerate(tiers):
        expr = m.tiers[tier.key]
        sign = 1.0 if tier.sense == "min" else -1.0
        costs = np.zeros(n)
        np.add.at(costs, np.array(expr.cols, dtype=np.int64), sign * np.array(expr.coefs))
        h.changeColsCost(n, all_cols, costs)
        left = time_limit - (time.perf_counter() - started)
        h.setOptionValue(
            "time_limit", max(1.0, left / (len(tiers) - index)) if not proved else max(1.0, left)
        )
        if col_value is not None:
            warm = highspy.HighsSolution()
            warm.col_value = col_value
            warm.value_valid = True
            h.setSolution(warm)
        h.run()
        status = h.getModelStatus()
        log.append(f"{tier.key}: {h.modelStatusToString(status)}")
        solution = h.getSolution()
        if not solution.value_valid:
            proved = False
            break
        col_value = list(solution.col_value)
        placed = m.placements(col_value)
        # The tier's true value: an incumbent cut by the time limit may carry slack in
        # split[f] (only pushed down at optimality), as in the engine.
        reached = int(evaluate(state, placed)[tier.key])
        values[tier.key] = m.value(tier.key, col_value)
        if status != highspy.HighsModelStatus.kOptimal and proved:
            proved = False
            dual = h.getInfo().mip_dual_bound + expr.constant * sign
            best = math.ceil(dual - 1e-6) if sign > 0 else math.floor(-dual + 1e-6)
            bounds[tier.key] = best
        # Later stages keep this tier at the value reached.
        if sign > 0:
            row = (list(expr.cols), list(expr.coefs), -INF, float(reached - expr.constant))
        else:
            row = (list(expr.cols), list(expr.coefs), float(reached - expr.constant), INF)
        MipModel._add_rows(h, [row])
    return MipSolution(
        placed=placed,
        proved=proved and len(values) == len(tiers),
        values=values,
        bounds=bounds,
        seconds=time.perf_counter() - started,
        build_seconds=build_seconds,
        stages=log,
        columns=n,
        rows=len(m._rows),
    )
