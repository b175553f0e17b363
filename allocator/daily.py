"""Daily allocation, end to end: state -> greedy warm start -> solver -> explained plan.

With ``allow_moves`` above zero, a last step may move up to that many existing cases
when that lets more cases be allocated (:mod:`allocator.engine.moves`).
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping

from allocator.engine.solver import ProgressCallback
from allocator.explain import (
    PlanView,
    assignment_reasons,
    diagnose_unallocated,
    held_room_notes,
    longest_wait_note,
)
from allocator.models import (
    Assignment,
    Plan,
    Snapshot,
    Status,
    cut_short_note,
    empty_snapshot_notes,
    unknown_staff_notes,
)
from allocator.objectives import class_tiers, evaluate, loads_after, worker_table
from allocator.policy import Policy
from allocator.rules import ServiceState, managed_exceptions

#: Share of ``time_limit`` the move step (``allow_moves``) gets in deterministic work.
MOVES_SHARE = 0.25
#: Wall-clock seconds kept per case needing a worker to write the plan: its reasons
#: and diagnoses (measured: 2.0 s for 1,967 cases at 1,000 practitioners, 1 ms each;
#: with the summary on a machine shared with two other jobs, 4.5 s).
PLAN_SECONDS_PER_CASE = 0.0025
#: Least wall-clock time a solve is given, however little is left.
MIN_WALL_SECONDS = 0.1
#: Share of a re-solve's work (``reference``) the tiers below the reference tier get
#: together: with nearly every case kept where it was they have little left to gain,
#: and a whole day's search for it costs what a fresh solve costs (measured at 150
#: practitioners: 6 s of an 8 s re-solve, for no change of any tier).
POLISH_SHARE = 0.1


def allocate(
    snapshot: Snapshot,
    policy: Policy | None = None,
    *,
    time_limit: float = 30.0,
    seed: int = 0,
    workers: int = 1,
    allow_moves: int = 0,
    clock_started: float | None = None,
    work_units: float | None = None,
    progress: ProgressCallback | None = None,
    reference: Mapping[str, str] | None = None,
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
    allow_moves
        Most existing cases (children who keep a worker otherwise) the plan may move
        to another worker when that lets more cases be allocated, urgent ones first.
        0 (the default): nobody moves. The move step runs only when the daily plan
        leaves cases unallocated; it gets :data:`MOVES_SHARE` of ``time_limit`` in
        deterministic work (more wall time if the daily solve left some).
    clock_started
        ``time.perf_counter()`` when the user's clock started (a command's start, so
        that reading the input counts); default: now. The whole call returns within
        ``time_limit`` of it, plan included, whatever the machine is doing.
    work_units
        The search's work budget in CP-SAT deterministic units, fixed whatever the
        time limit (the move step gets :data:`MOVES_SHARE` of it on top); default:
        ``time_limit`` converted at
        :data:`~allocator.engine.solver.WORK_PER_SECOND`. The budget, not the
        clock, decides where the search stops, so a caller that needs the same plan
        on any machine (a test, an audit re-run) fixes it and gives ``time_limit``
        ample room: the clock then never cuts the search short.
    progress
        Called with a :class:`~allocator.engine.solver.Progress` as each tier's stage
        starts and improves (the command line draws it on a terminal); ``None``: no
        reports.
    reference
        A plan being revised (case id -> worker; a re-solve after a manager's
        override): a tier right after the priority classes,
        ``reference_changes``, counts the cases needing a worker that end somewhere
        other than their reference worker (or without one when the reference placed
        them), and the reference, kept wherever it still holds, is a warm start.
        The tiers below it share :data:`POLISH_SHARE` of the work. Entries for cases
        that need no worker are ignored. ``None``: a fresh solve.

    Returns
    -------
    Plan
        Always a plan: every case needing a worker is in ``assignments`` or in
        ``unallocated`` with a code and a reason.

    Raises
    ------
    ValueError
        If ``time_limit`` is not a finite number of seconds above 0, or
        ``work_units`` not a finite number above 0.
    """
    # The solver is imported only where a solve happens (check, explain, recommend
    # and diff never load OR-Tools).
    from allocator.engine.moves import make_room
    from allocator.engine.solve import SolverSettings, solve
    from allocator.engine.solver import WORK_PER_SECOND

    if not (math.isfinite(time_limit) and time_limit > 0):
        raise ValueError(f"time_limit must be a finite number of seconds above 0, got {time_limit}")
    if work_units is not None and not (math.isfinite(work_units) and work_units > 0):
        raise ValueError(f"work_units must be a finite number above 0, got {work_units}")
    work = time_limit * WORK_PER_SECOND if work_units is None else work_units
    clock_started = time.perf_counter() if clock_started is None else clock_started
    policy = policy or Policy()
    state = ServiceState.of(snapshot, policy)
    if reference is not None:
        state.reference = {c: w for c, w in sorted(reference.items()) if c in state.needs}
    # The wall clock: the limit less what has passed and what writing the plan will
    # take (the engine keeps its own margin). Work budgets, not this, decide where the
    # search stops.
    deadline = clock_started + time_limit - PLAN_SECONDS_PER_CASE * len(state.to_allocate)
    settings = SolverSettings(
        time_limit=time_limit,
        seed=seed,
        workers=workers,
        deterministic_time=work,
        wall_seconds=max(MIN_WALL_SECONDS, deadline - time.perf_counter()),
        progress=progress,
        polish_work=None if reference is None else POLISH_SHARE * work,
    )
    solution = solve(state, settings)
    placed = solution.decisions
    status: Status = "optimal" if solution.proved else "feasible"
    bound: dict[str, int | float] | None = solution.bounds
    proved: dict[str, bool] | None = {k: t.proved for k, t in solution.tiers.items()}
    seconds = solution.seconds
    notes = [*empty_snapshot_notes(snapshot), *unknown_staff_notes(snapshot)]
    if solution.pruned:
        notes.append(
            "large service: each family was offered a diverse subset of its eligible "
            "workers (always its siblings' and previous workers and the greedy rule's "
            "choice), so optimality is not proved; bounds hold for every eligible worker"
        )
    if solution.cut_short:
        notes.append(cut_short_note("search", time_limit))
    notes.extend(longest_wait_note(state, placed))
    notes.extend(held_room_notes(state, placed))
    run_settings: dict[str, float | int | str] = {
        "time_limit": time_limit,
        "seed": seed,
        "workers": workers,
    }
    if work_units is not None:
        run_settings["work_units"] = work_units
    if allow_moves > 0:
        run_settings["allow_moves"] = allow_moves
        if len(placed) < len(state.to_allocate):
            made = make_room(
                state,
                placed,
                allow_moves,
                time_limit=max(MIN_WALL_SECONDS, deadline - time.perf_counter()),
                work=MOVES_SHARE * work,
                seed=seed,
            )
            seconds += made.seconds
            placed = {**placed, **made.placed, **made.moved}
            if made.moved:
                # The daily solve's proof and bounds are for a plan without moves.
                status, bound, proved = "feasible", None, None
                notes.append(
                    f"{len(made.moved)} case(s) moved to make room for {len(made.placed)} "
                    f"more allocation(s) (at most {allow_moves} allowed); the moves were "
                    "chosen after the daily plan, with its placements fixed, so the plan is "
                    "not proved optimal over moves and placements together"
                )
                if made.cut_short:
                    notes.append(cut_short_note("search for moves", time_limit))
    return build_plan(
        state,
        placed,
        status=status,
        bound=bound,
        proved=proved,
        solve_seconds=seconds,
        notes=notes,
        settings=run_settings,
    )


def build_plan(
    state: ServiceState,
    placed: Mapping[str, str],
    *,
    status: Status,
    bound: dict[str, int | float] | None = None,
    proved: dict[str, bool] | None = None,
    solve_seconds: float = 0.0,
    notes: list[str] | None = None,
    settings: dict[str, float | int | str] | None = None,
) -> Plan:
    """The plan for ``placed``, with reasons, diagnoses, worker loads and tier values.

    ``bound`` and ``proved`` are keyed as the plan's objective (each daily tier), in
    the same units.
    """
    view = PlanView.of(state, placed)  # shared by every sentence about this plan
    assignments = [
        Assignment(
            case=cid,
            worker=placed[cid],
            from_=state.cases[cid].worker,
            reasons=assignment_reasons(state, placed, cid, view=view),
            days_waiting=state.days_waiting.get(cid),
        )
        for cid in sorted(placed)
    ]
    unallocated = [
        diagnose_unallocated(state, placed, cid, view=view)
        for cid in sorted(state.to_allocate)
        if cid not in placed
    ]
    workers = worker_table(state, *loads_after(state, placed))
    objective = evaluate(state, placed)
    return Plan(
        as_of=state.as_of,
        status=status,
        assignments=tuple(assignments),
        unallocated=tuple(unallocated),
        workers=tuple(workers),
        objective=objective,
        bound=bound,
        proved=proved,
        gap=relative_gap(state, objective, bound),
        solve_seconds=round(solve_seconds, 3),
        notes=tuple(notes or ()),
        settings=settings or {},
        exceptions=managed_exceptions(state),
    )


def relative_gap(
    state: ServiceState,
    objective: Mapping[str, int | float],
    bound: Mapping[str, int | float] | None,
) -> float:
    """The plan's gap on children allocated, in waiting weight; 0.0 when every
    priority class is proved.

    The priority-class tiers weigh each child left without a worker by their wait
    (:attr:`~allocator.rules.ServiceState.waiting_weight`), and so do their bounds;
    the gap is in the same unit throughout. At the first class short of its bound:
    the share of the waiting weight a plan could place at best that this one does
    not, ``(value - bound) / (placed + value - bound)``, ``placed`` being the
    waiting weight of the children this plan allocates (every class). The tiers
    below the classes (siblings, balance, ...) carry their own value and bound in
    the plan; folding them in here would report "66 % gap" on a plan whose every
    child placement is proved, when only the siblings tier is open.
    """
    if not bound:
        return 0.0
    classes = class_tiers(state.policy)
    placed = sum(state.waiting_weight.values()) - sum(objective[t.key] for t in classes)
    for tier in classes:
        if bound.get(tier.key, objective[tier.key]) == objective[tier.key]:
            continue
        short = objective[tier.key] - bound[tier.key]
        most = placed + short
        return round(short / most, 6) if most else 0.0
    return 0.0
