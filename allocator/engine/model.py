"""The CP-SAT model of daily allocation.

One boolean per candidate (case, worker) pair (see :mod:`.candidates`); one boolean
per (family, worker) pair where a family has several children to place or already
has a worker, marking that the worker takes at least one of its children. Those
family indicators carry both the intake limit (new families per worker) and the
siblings-apart tier, so no constraint ever links two children pairwise.

Every expression here equals the plain-Python figure of :mod:`allocator.objectives`
for the same placements (constants included); the tests hold the two together.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Mapping

from ortools.sat.python import cp_model

from allocator.objectives import balance_cost, class_tier_key, outside_area
from allocator.rules import ServiceState

LinearExpr = cp_model.LinearExprT


class AllocationModel:
    """CP-SAT variables, hard rules and tier expressions for one day's allocation.

    Parameters
    ----------
    state
        The service.
    candidates
        For each case needing a worker, the workers it may be given (all eligible).
    free
        The cases to decide (default: all cases needing a worker). The others keep
        their place in ``fixed``: a neighbourhood of the large-neighbourhood search.
        Fixed placements use up their workers' room and intake, and a fixed child
        counts as a family holder for its siblings, so every tier of the model is the
        plan's tier less a constant.
    fixed
        Placements of the cases not in ``free`` (absent: left unallocated).
    """

    def __init__(
        self,
        state: ServiceState,
        candidates: Mapping[str, list[str]],
        *,
        free: Collection[str] | None = None,
        fixed: Mapping[str, str] | None = None,
    ) -> None:
        self.state = state
        self.model = cp_model.CpModel()
        self.cases = sorted(state.to_allocate if free is None else free)
        decided = set(self.cases)
        kept = {c: w for c, w in (fixed or {}).items() if c not in decided}
        self.fixed_load: dict[str, int] = defaultdict(int)
        self.fixed_new: dict[str, set[str]] = defaultdict(set)
        # Holders of the families being decided: today's, plus fixed placements.
        self.holders: dict[str, set[str]] = {
            state.cases[c].family: set(state.holders.get(state.cases[c].family, ()))
            for c in self.cases
        }
        for cid, wid in kept.items():
            family = state.cases[cid].family
            self.fixed_load[wid] += state.weight[cid]
            if wid not in state.holders.get(family, ()):
                self.fixed_new[wid].add(family)
            if family in self.holders:
                self.holders[family].add(wid)
        self.x: dict[tuple[str, str], cp_model.IntVar] = {}
        self.by_worker: dict[str, list[tuple[str, cp_model.IntVar]]] = defaultdict(list)
        for cid in self.cases:
            for wid in candidates[cid]:
                var = self.model.new_bool_var(f"x[{cid},{wid}]")
                self.x[cid, wid] = var
                self.by_worker[wid].append((cid, var))
        self.candidates = candidates

        # Hard rules, then the tier expressions, in the fixed order of the tiers.
        self._one_worker_per_case()
        self._weighted_cap()
        self.takes_family = self._family_indicators()
        self._intake_limit()
        self.unallocated_by_class = self._unallocated_by_class()
        self.siblings_apart = self._keep_families_together()
        self.previous_worker_returns = self._previous_workers()
        self.balance = self._balance()
        self.outside_area = self._outside_area()

    # ------------------------------------------------------------------ hard rules

    def _one_worker_per_case(self) -> None:
        """Exactly one of: a candidate worker, or ``unplaced[c]``.

        An explicit non-negative slack per case (rather than ``1 - sum(x)``) lets the
        solver see at once that no tier can fall below zero.
        """
        self.unplaced: dict[str, cp_model.IntVar] = {}
        for cid in self.cases:
            slack = self.model.new_bool_var(f"unplaced[{cid}]")
            self.model.add_exactly_one([slack, *(self.x[cid, w] for w in self.candidates[cid])])
            self.unplaced[cid] = slack

    def _weighted_cap(self) -> None:
        for wid, pairs in self.by_worker.items():
            spare = self.state.spare_before(wid) - self.fixed_load[wid]
            if sum(self.state.weight[c] for c, _ in pairs) > spare:
                self.model.add(sum(self.state.weight[c] * v for c, v in pairs) <= spare)

    def _family_indicators(self) -> dict[tuple[str, str], cp_model.IntVar]:
        """``takes[f, w]``: worker ``w`` is given at least one child of family ``f``.

        Needed where it is not a single pair variable already: a family with
        several children to place.
        """
        children: dict[str, list[str]] = defaultdict(list)
        for cid in self.cases:
            children[self.state.cases[cid].family].append(cid)
        takes: dict[tuple[str, str], cp_model.IntVar] = {}
        for family, kids in children.items():
            workers = sorted({w for c in kids for w in self.candidates[c]})
            for wid in workers:
                pair_vars = [self.x[c, wid] for c in kids if (c, wid) in self.x]
                if len(kids) == 1:
                    takes[family, wid] = pair_vars[0]
                    continue
                var = self.model.new_bool_var(f"takes[{family},{wid}]")
                for pv in pair_vars:
                    self.model.add_implication(pv, var)
                # takes may only be 1 if a child really goes there: keeps counts honest.
                # Linear (not an enforced clause) so the LP relaxation sees it.
                self.model.add(var <= sum(pair_vars))
                takes[family, wid] = var
        self.families = dict(children)
        return takes

    def _intake_limit(self) -> None:
        limit = self.state.policy.max_new_families_per_day
        new: dict[str, list[cp_model.IntVar]] = defaultdict(list)
        for (family, wid), var in self.takes_family.items():
            if wid not in self.holders.get(family, ()):
                new[wid].append(var)
        for wid, vars_ in new.items():
            room = limit - len(self.fixed_new[wid])
            if len(vars_) > room:
                self.model.add(sum(vars_) <= room)

    # ------------------------------------------------------------------ tiers

    def _unallocated_by_class(self) -> list[LinearExpr]:
        """Per priority class (highest first), its children the plan leaves without a worker."""
        by_class: list[list[cp_model.IntVar]] = [[] for _ in self.state.policy.class_names]
        for cid in self.cases:
            by_class[self.state.priority_class[cid]].append(self.unplaced[cid])
        return [sum(slacks) for slacks in by_class]

    def _keep_families_together(self) -> LinearExpr:
        """Per family: distinct workers after the plan minus one (never below zero)."""
        terms: list[LinearExpr] = []
        constant = 0
        self.split: dict[str, cp_model.IntVar] = {}
        for family, kids in self.families.items():
            holders = self.holders.get(family, set())
            extra = [
                self.takes_family[family, w]
                for w in sorted({w for c in kids for w in self.candidates[c]})
                if w not in holders
            ]
            if holders:
                constant += len(holders) - 1
                terms.extend(extra)
            elif len(kids) > 1 and len(extra) > 1:
                # max(0, k - 1) as a non-negative variable pushed down by the objective.
                split = self.model.new_int_var(0, len(kids) - 1, f"split[{family}]")
                self.model.add(split >= sum(extra) - 1)
                self.split[family] = split
                terms.append(split)
        # Each child placed adds at most one worker to its family.
        self.siblings_apart_min = constant
        self.siblings_apart_max = constant + len(self.cases)
        return constant + sum(terms)

    def _previous_workers(self) -> LinearExpr:
        """Children back with a previous worker, as ``known - not_back``.

        ``not_back[c]`` is a non-negative slack per child who has an eligible previous
        worker, so the minimised form (``n - returns``) is visibly non-negative.
        """
        self.not_back: dict[str, cp_model.IntVar] = {}
        for cid in self.cases:
            back = [
                self.x[cid, w]
                for w in self.candidates[cid]
                if w in self.state.cases[cid].previous_workers
            ]
            if back:
                slack = self.model.new_bool_var(f"not_back[{cid}]")
                self.model.add_exactly_one([slack, *back])
                self.not_back[cid] = slack
        # The minimised form: children placed who are not back with a worker they know.
        self.not_returned = sum(self.not_back.values()) + len(self.cases) - len(self.not_back)
        return len(self.not_back) - sum(self.not_back.values())

    def _balance(self) -> LinearExpr:
        """Sum over placements of the utilisation-penalty rise each causes."""
        cost = {pair: balance_cost(self.state, *pair) for pair in self.x}
        self.balance_max = sum(
            max((cost[c, w] for w in self.candidates[c]), default=0) for c in self.cases
        )
        return sum(cost[pair] * var for pair, var in self.x.items() if cost[pair])

    def _outside_area(self) -> LinearExpr:
        return sum(var for (cid, wid), var in self.x.items() if outside_area(self.state, cid, wid))

    # ------------------------------------------------------------------ helpers

    def hint(self, placed: Mapping[str, str]) -> None:
        """Start the search from ``placed``, every auxiliary variable hinted too.

        A complete hint is a feasible solution the solver takes as is; a partial one
        it must repair, which on a tightly constrained stage can take the whole budget.
        """
        self.model.clear_hints()  # type: ignore[no-untyped-call]  # untyped in OR-Tools
        for (cid, wid), var in self.x.items():
            self.model.add_hint(var, placed.get(cid) == wid)
        for cid, var in self.unplaced.items():
            self.model.add_hint(var, cid not in placed)
        for (family, wid), var in self.takes_family.items():
            if len(self.families[family]) > 1:
                self.model.add_hint(var, any(placed.get(c) == wid for c in self.families[family]))
        for family, var in self.split.items():
            used = {placed[c] for c in self.families[family] if c in placed}
            self.model.add_hint(var, max(0, len(used) - 1))
        for cid, var in self.not_back.items():
            self.model.add_hint(var, placed.get(cid) not in self.state.cases[cid].previous_workers)

    def tier_values(self, placed: Mapping[str, str]) -> dict[str, int]:
        """The value each minimised tier expression takes at ``placed`` (plain Python).

        Lets a neighbourhood hold the tiers above the one it improves at their
        current values without a solve.
        """
        state = self.state
        mine = {c: placed[c] for c in self.cases if c in placed}
        apart = 0
        for family, kids in self.families.items():
            holders = self.holders.get(family, set())
            used = {mine[c] for c in kids if c in mine} - holders
            apart += len(used) + len(holders) - 1 if holders else max(0, len(used) - 1)
        back = sum(1 for c in self.not_back if mine.get(c) in state.cases[c].previous_workers)
        by_class = [0] * len(state.policy.class_names)
        for c in self.cases:
            if c not in mine:
                by_class[state.priority_class[c]] += 1
        return {
            **{
                class_tier_key(name): count
                for name, count in zip(state.policy.class_names, by_class, strict=True)
            },
            "siblings_apart": apart,
            "previous_worker_returns": len(self.cases) - back,
            "balance": sum(balance_cost(state, c, w) for c, w in mine.items()),
            "outside_area": sum(1 for c, w in mine.items() if outside_area(state, c, w)),
        }

    def placements(self, solver: cp_model.CpSolver) -> dict[str, str]:
        """The placements in the solver's current solution."""
        return {cid: wid for (cid, wid), var in self.x.items() if solver.boolean_value(var)}
