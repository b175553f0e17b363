"""Daily allocation, end to end: state -> greedy warm start -> solver -> explained plan."""

from __future__ import annotations

from collections.abc import Mapping

from allocator.engine import SolverSettings, solve
from allocator.explain import PlanView, assignment_reasons, diagnose_unallocated
from allocator.models import Assignment, Plan, Snapshot, WorkerLoad, unknown_staff_notes
from allocator.objectives import TIERS, evaluate, loads_after
from allocator.policy import Policy
from allocator.rules import POINTS_SCALE, ServiceState


def allocate(
    snapshot: Snapshot,
    policy: Policy | None = None,
    *,
    time_limit: float = 30.0,
    seed: int = 0,
    workers: int = 1,
) -> Plan:
    """Allocate every case that needs a worker, under the hard rules.

    Parameters
    ----------
    snapshot
        The service on one day, the day's referrals merged in.
    policy
        Weights, caps and who-may-hold-what; FORMAT.md defaults when ``None``.
    time_limit
        Wall-clock seconds for the solver. When it is reached the best plan found
        comes back with status ``feasible`` and its proven bounds.
    seed, workers
        CP-SAT random seed and search threads. The same snapshot, policy and
        settings give the same plan whenever the solve ends by proof.

    Returns
    -------
    Plan
        Always a plan: every case needing a worker is in ``assignments`` or in
        ``unallocated`` with a code and a reason.
    """
    policy = policy or Policy()
    state = ServiceState.of(snapshot, policy)
    settings = SolverSettings(time_limit=time_limit, seed=seed, workers=workers)
    solution = solve(state, settings)
    notes = list(unknown_staff_notes(snapshot))
    if solution.pruned:
        notes.append(
            "large service: each family was offered a diverse subset of its eligible "
            "workers (always its siblings' and previous workers and the greedy rule's "
            "choice), so optimality is not proved; bounds hold for every eligible worker"
        )
    if solution.cut_short:
        notes.append(
            f"the search stopped at the time limit ({time_limit:g} s) before it had "
            "finished; a rerun may differ slightly — a higher --time-limit reproduces "
            "it exactly once the search finishes within it"
        )
    return build_plan(
        state,
        solution.placed,
        status="optimal" if solution.proved else "feasible",
        bound=solution.bounds or None,
        solve_seconds=solution.seconds,
        notes=notes,
        settings={"time_limit": time_limit, "seed": seed, "workers": workers},
    )


def build_plan(
    state: ServiceState,
    placed: Mapping[str, str],
    *,
    status: str,
    bound: dict[str, int | float] | None = None,
    solve_seconds: float = 0.0,
    notes: list[str] | None = None,
    settings: dict[str, float | int | str] | None = None,
) -> Plan:
    """The plan for ``placed``, with reasons, diagnoses, worker loads and tier values."""
    view = PlanView.of(state, placed)  # shared by every sentence about this plan
    assignments = [
        Assignment(
            case=cid,
            worker=placed[cid],
            from_=state.cases[cid].worker,
            reasons=assignment_reasons(state, placed, cid, view=view),
        )
        for cid in sorted(placed)
    ]
    unallocated = [
        diagnose_unallocated(state, placed, cid, view=view)
        for cid in sorted(state.to_allocate)
        if cid not in placed
    ]
    load, count = loads_after(state, placed)
    workers = [
        WorkerLoad(
            id=wid,
            capacity=state.capacity[wid] / POINTS_SCALE,
            load_before=state.load_before[wid] / POINTS_SCALE,
            load_after=load[wid] / POINTS_SCALE,
            cases_before=state.cases_before[wid],
            cases_after=count[wid],
        )
        for wid in sorted(state.practitioners)
    ]
    objective = evaluate(state, placed)
    return Plan(
        as_of=state.as_of,
        status=status,  # type: ignore[arg-type]
        assignments=tuple(assignments),
        unallocated=tuple(unallocated),
        workers=tuple(workers),
        objective=objective,
        bound=bound,
        gap=relative_gap(objective, bound),
        solve_seconds=round(solve_seconds, 3),
        notes=tuple(notes or ()),
        settings=settings or {},
    )


def relative_gap(
    objective: Mapping[str, int | float], bound: Mapping[str, int | float] | None
) -> float:
    """Relative gap of the first tier short of its bound; 0.0 when none is.

    For the unallocated tiers the gap is measured on children allocated (what a
    manager counts); for the others on the tier's own value.
    """
    if not bound:
        return 0.0
    allocated = objective["allocated"]
    for tier in TIERS:
        if tier.key not in bound or bound[tier.key] == objective[tier.key]:
            continue
        value, best = objective[tier.key], bound[tier.key]
        if tier.key in ("urgent_unallocated", "unallocated"):
            most = allocated + (value - best)
            return round((most - allocated) / most, 6) if most else 0.0
        return round(abs(value - best) / max(abs(value), abs(best), 1), 6)
    return 0.0
