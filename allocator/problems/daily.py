"""Daily allocation, end to end: state -> greedy warm start -> solver -> explained plan.

With ``allow_moves`` above zero, a last step may move up to that many existing cases
when that lets more cases be allocated (:mod:`allocator.engine.moves`).
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Literal

from allocator.arguments import (
    admitted,
    check_arguments,
    check_count,
    check_id_map,
    check_ids_known,
    check_instant,
    check_items,
)
from allocator.contract.models import (
    Assignment,
    Handover,
    Plan,
    Snapshot,
    Status,
    cut_short_note,
    snapshot_notes,
)
from allocator.contract.policy import Policy
from allocator.contract.settings import Settings, calibrated_note, resolve_settings
from allocator.domain.objectives import daily_tiers, evaluate, outcome_of, worker_table
from allocator.domain.result import to_plan
from allocator.domain.rules import ServiceState, counted
from allocator.explain.reasons import (
    PlanView,
    assignment_reasons,
    diagnose_unallocated,
    held_room_notes,
    longest_wait_note,
    room_kept_notes,
)

#: Share of the work budget (:attr:`Settings.work`) the move step (``allow_moves``) gets.
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
    settings: Settings | None = None,
    *,
    allow_moves: int = 0,
    reference: Mapping[str, str] | None = None,
    handovers: Sequence[Handover] = (),
    clock_started: float | None = None,
    time_limit: float | None = None,
    work_units: float | Literal["auto"] | None = None,
) -> Plan:
    """Allocate every case that needs a worker, under the hard rules.

    Parameters
    ----------
    snapshot
        The service on one day, the day's referrals merged in.
    policy
        Weights, caps and who-may-hold-what; FORMAT.md defaults when ``None``.
    settings
        Time limit, work budget, seed, search workers and progress reports
        (:class:`~allocator.contract.settings.Settings`); its defaults when ``None``. The same
        snapshot, policy and settings give the same plan whenever the solve ends by
        proof or on its work budget. When the time limit is reached the best plan
        found comes back with status ``feasible`` and its proven bounds.
    allow_moves
        Most existing cases (children who keep a worker otherwise) the plan may move
        to another worker when that lets more cases be allocated, urgent ones first.
        0 (the default): nobody moves. The move step runs only when the daily plan
        leaves cases unallocated; it gets :data:`MOVES_SHARE` of the work budget on
        top (more wall time if the daily solve left some).
    reference
        A plan being revised (case id -> worker; a re-solve after a manager's
        override): a tier right after the priority classes,
        ``reference_changes``, counts the cases needing a worker that end somewhere
        other than their reference worker (or without one when the reference placed
        them), and the reference, kept wherever it still holds, is a warm start.
        The tiers below it share :data:`POLISH_SHARE` of the work. Entries for cases
        that need no worker are ignored. ``None``: a fresh solve.
    handovers
        Handovers an earlier plan promised and not yet made
        (:func:`allocator.problems.apply.still_pending` of the file ``apply`` wrote): each
        receiver's room for the child is kept, so the morning's referrals do not take
        it (:func:`allocator.problems.apply.reserve_handovers`), and a note says whose. The plan
        is written on the service's own caps; its ``balance`` tier, which reads the
        caps, is then neither bounded nor proved.
    clock_started
        ``time.perf_counter()`` when the user's clock started (a command's start, so
        that reading the input counts); default: now. The whole call returns within
        the time limit of it, plan included, whatever the machine is doing.
    time_limit, work_units
        Shorthand for ``Settings(time_limit=..., work_units=...)`` (README), when
        ``settings`` is not given.

    Returns
    -------
    Plan
        Always a plan: every case needing a worker is in ``assignments`` or in
        ``unallocated`` with a code and a reason.

    Raises
    ------
    SettingsError
        A ``ValueError``: a shorthand setting, or one of ``settings``, outside its
        domain, one sentence each naming the call, the setting, the value given and
        what it expects (:class:`~allocator.contract.settings.SettingsError`).
    TypeError
        If ``settings`` and a shorthand are both given, or an argument is of another
        kind (the snapshot, policy or settings; ``reference`` not a mapping of text to
        text; ``handovers`` not Handover records; a count not a whole number).
    InputError
        If the snapshot or policy copy does not hold to the contract, or ``reference``
        names a case not in the snapshot or a worker not among its practitioners.
    PolicyError
        A ``ValueError``: a policy copy out of its domains.
    ValueError
        ``allow_moves`` out of its range, or a ``clock_started`` that is no past
        ``perf_counter`` reading.
    """
    check_arguments(
        "allocate",
        optional=("policy", "settings"),
        snapshot=snapshot,
        policy=policy,
        settings=settings,
    )
    allow_moves = check_count("allocate", "allow_moves", allow_moves)
    check_id_map("allocate", "reference", reference)
    handovers = check_items("allocate", "handovers", handovers, Handover, "Handover records")
    check_instant("allocate", "clock_started", clock_started)
    snapshot, policy = (
        admitted("allocate", "snapshot", snapshot),
        admitted("allocate", "policy", policy),
    )
    check_ids_known("allocate", "reference", reference, snapshot)
    # The solver is imported only where a solve happens (check, explain, recommend
    # and diff never load OR-Tools).
    from allocator.engine.budget import calibrated
    from allocator.engine.moves import make_room
    from allocator.engine.solve import solve

    settings = resolve_settings(
        settings, time_limit=time_limit, work_units=work_units, call="allocate"
    )
    clock_started = time.perf_counter() if clock_started is None else clock_started
    asked, settings = settings, calibrated(settings, clock_started)  # "auto": in the limit
    policy = policy or Policy()
    state = ServiceState.of(snapshot, policy)
    # The solve sees each promised receiver's cap less the children promised to them;
    # the plan is written on the service's own (so check and explain read it as is).
    solved = state
    if handovers:
        from allocator.problems.apply import reserve_handovers

        solved = ServiceState.of(reserve_handovers(snapshot, policy, handovers), policy)
    if reference is not None:
        state.reference = {c: w for c, w in sorted(reference.items()) if c in state.needs}
        solved.reference = state.reference
    # The wall clock: the limit less what has passed and what writing the plan will
    # take (the engine keeps its own margin). Work budgets, not this, decide where the
    # search stops.
    deadline = clock_started + settings.time_limit - PLAN_SECONDS_PER_CASE * len(state.to_allocate)
    result = solve(
        solved,
        settings,
        wall_seconds=max(MIN_WALL_SECONDS, deadline - time.perf_counter()),
        polish_work=None if reference is None else POLISH_SHARE * settings.work,
    )
    placed = result.decisions
    status = result.status
    bound: dict[str, int | float] | None = result.bounds
    proved: dict[str, bool] | None = {k: t.proved for k, t in result.tiers.items()}
    seconds = result.seconds
    notes = [
        *snapshot_notes(snapshot),
        *calibrated_note(asked, settings, cut_short=result.cut_short),
    ]
    if result.pruned:
        notes.append(
            "large service: each family was offered a diverse subset of its eligible "
            "workers (always its siblings' and previous workers and the greedy rule's "
            "choice), so optimality is not proved; bounds hold for every eligible worker"
        )
    if result.cut_short:
        notes.append(cut_short_note("search", settings.time_limit))
    if handovers:
        notes.append(kept_for_handovers_note(handovers))
        if bound is not None and proved is not None and BALANCE in bound:
            # Bounded on the kept caps: not a bound on the plan's balance, on its own.
            bound = {k: v for k, v in bound.items() if k != BALANCE}
            proved = {**proved, BALANCE: False}
            status = "feasible"
    options: dict[str, float | int | str] = {}
    if allow_moves > 0:
        options["allow_moves"] = allow_moves
        if len(placed) < len(state.to_allocate):
            made = make_room(
                solved,
                placed,
                allow_moves,
                settings,
                wall_seconds=max(MIN_WALL_SECONDS, deadline - time.perf_counter()),
                work=MOVES_SHARE * settings.work,
            )
            seconds += made.seconds
            placed = {**placed, **made.placed, **made.moved}
            if made.moved:
                # The daily solve's proof and bounds are for a plan without moves.
                status, bound, proved = "feasible", None, None
                notes.append(
                    f"{counted(len(made.moved), 'case')} moved to make room for "
                    f"{len(made.placed)} more {'child' if len(made.placed) == 1 else 'children'}"
                    f" (at most {allow_moves} allowed); the moves were found after the "
                    "day's placements and with them held, so the plan is not proved the best "
                    "over moves and placements together"
                )
                if made.cut_short:
                    notes.append(cut_short_note("search for moves", settings.time_limit))
    # After any moves: a child the moves placed waits no longer (a fresh trial's note
    # named a child the make-room step had placed).
    notes.extend(longest_wait_note(state, placed))
    notes.extend(held_room_notes(solved, placed))
    notes.extend(room_kept_notes(solved, placed))
    return build_plan(
        state,
        placed,
        status=status,
        bound=bound,
        proved=proved,
        solve_seconds=seconds,
        notes=notes,
        settings=settings,
        options=options,
        reasons_on=solved if solved is not state else None,
    )


#: The daily tier that reads the caps (load near them): with room kept for handovers the
#: solve's caps are not the plan's, so its bound does not hold for the plan.
BALANCE = "balance"


def kept_for_handovers_note(handovers: Sequence[Handover]) -> str:
    """The plan's note on the room kept for handovers still to come, by receiver."""
    by_worker: dict[str, list[Handover]] = {}
    for h in sorted(handovers, key=lambda h: (h.worker, h.case)):
        by_worker.setdefault(h.worker, []).append(h)
    said = "; ".join(
        f"{w}: " + ", ".join(f"{h.case} on {h.on.isoformat()}" for h in hs)
        for w, hs in by_worker.items()
    )
    return (
        f"room kept for {counted(len(handovers), 'handover')} promised before and still to come "
        f"(the pending handovers file): {said}; no referral was given that room"
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
    settings: Settings | None = None,
    options: Mapping[str, float | int | str] | None = None,
    reasons_on: ServiceState | None = None,
) -> Plan:
    """The daily plan for ``placed``, with reasons, diagnoses, worker loads and tier
    values (written by :func:`~allocator.domain.result.to_plan`).

    ``bound`` and ``proved`` are keyed as the plan's objective (each daily tier), in
    the same units; ``settings`` (default :class:`Settings`' defaults) and
    ``options`` are recorded in the plan. ``reasons_on``: the state the solve saw,
    where it differs from ``state`` (room kept for handovers): the reasons and the
    diagnoses of the children left without a worker are given on it, so that room
    kept is not said to be free; the tables and tiers stay on ``state``.
    """
    outcome = outcome_of(state, placed)  # the tiers', every sentence's, the workers' table's
    judged = reasons_on or state
    view = PlanView.of(judged, placed, outcome=None if reasons_on else outcome)
    assignments = [
        Assignment(
            case=cid,
            worker=placed[cid],
            from_=state.cases[cid].worker,
            reasons=assignment_reasons(judged, placed, cid, view=view),
            days_waiting=state.days_waiting.get(cid),
        )
        for cid in sorted(placed)
    ]
    unallocated = [
        diagnose_unallocated(judged, placed, cid, view=view)
        for cid in sorted(state.to_allocate)
        if cid not in placed
    ]
    return to_plan(
        state,
        status=status,
        objective=evaluate(state, placed),
        tiers=daily_tiers(state.policy),
        bound=bound,
        proved=proved,
        assignments=assignments,
        unallocated=unallocated,
        workers=worker_table(state, outcome.load, outcome.count),
        seconds=solve_seconds,
        notes=notes or (),
        settings=settings or Settings(),
        options=options,
    )
