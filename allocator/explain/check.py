"""An independent check of any plan against the snapshot and the policy's hard rules.

:func:`check_plan` takes a snapshot, a policy and a plan -- the allocator's, another
tool's, or a manager's allocation typed by hand -- and recomputes every hard rule of
FORMAT.md's "Default policy" in plain Python from the plan alone: it imports the
rules (:mod:`allocator.domain.rules`) and the tiers (:mod:`allocator.domain.objectives`), never the
engine, so it also checks the solver: a plan the engine writes must come back with
no :class:`Violation`. :func:`stale_summaries` compares the plan's summaries with the
recomputed figures: a stale total is not a broken rule.

Rules (ids in :data:`RULES`, the registry's :data:`allocator.domain.rules.RULES`; each
rule's evaluation and sentence is the registry's, so check, explain and recommend
say the same):

``as_of``
    The plan is for the snapshot's day.
``conservation``
    Every case that needs a worker (:attr:`allocator.domain.rules.ServiceState.needs`: no
    worker, one who has left, or one who may no longer hold it) is listed exactly once
    across ``assignments`` and ``unallocated``; no case twice; no unknown case; no
    case that keeps its worker listed as unallocated; no unallocated case without a
    reason (blank text is none: :func:`stated`); no assignment that changes nothing.
    An assignment of a case that does not need a worker is a move: allowed.
    A case whose present worker may no longer hold it and that the plan leaves with
    them is reported under the rule that worker breaks (``grade``, ``skills``,
    ``excluded_worker``, ``pinned_worker``): the rules hold for every case's worker
    at the end of the plan, kept cases included.
per assignment, in plan order
    ``unknown_worker`` (the worker exists), ``gone_worker`` (has not left),
    ``availability`` (present today and not leaving within the window), then every
    rule of :func:`allocator.domain.rules.holding_rules` -- ``grade`` (may hold the
    complexity and type), ``skills`` (has every skill the case needs),
    ``excluded_worker``, ``pinned_worker`` (is the pinned worker, if any) -- and
    ``from_mismatch`` (``from`` is the case's worker in the snapshot).
    ``gone_worker`` also flags a worker who has left and still holds a case once the
    plan is applied.
``handover``
    Each planned handover (the plan's ``handovers``) moves a child of a worker who
    departs within the leaving window (:attr:`allocator.domain.rules.ServiceState.departing`;
    not a child pinned to them), on a day from ``as_of`` to before they go, with its
    notice in days; the receiver is judged by every per-assignment rule above, and by
    ``capacity`` and ``intake_limit`` below with the handovers counted as made.
``capacity``
    A worker given any case ends at or under their cap, and was not over it before.
``intake_limit``
    No worker takes more than ``max_new_families_per_day`` families new to them.

Summaries (ids in :data:`SUMMARIES`, reported by :func:`stale_summaries`; a plan may
leave any of them out):

``workers_table``
    The plan's ``workers`` rows, if any, match the recomputed figures, and cover every
    worker whose load or case count changes.
``days_waiting``
    Each ``days_waiting`` the plan gives, on an assignment or an unallocated case
    that needs a worker, is the days that child has waited on ``as_of``
    (docs/FORMAT.md "Waiting").
``objective``
    The plan's ``objective`` values match the tiers recomputed on its placements:
    :func:`allocator.domain.objectives.evaluate` for a daily plan (moves to make room
    included), :func:`allocator.domain.objectives.rebalance_values` for a rebalance's (one
    that reports the rebalance's own tiers, such as ``weighted_changes``). Keys the
    checker does not compute (``changes_lower_bound``) are left alone.

Points are compared in integer centi-points (:data:`allocator.contract.units.POINTS_SCALE`),
exactly as :class:`allocator.domain.rules.ServiceState` does.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass

from allocator.arguments import admitted, check_arguments
from allocator.contract.faults import with_article
from allocator.contract.models import Assignment, FileDigest, MadeFrom, Plan, Snapshot
from allocator.contract.policy import Policy, overrides_of, overrides_said
from allocator.contract.units import POINTS_SCALE
from allocator.domain.objectives import plan_values
from allocator.domain.rules import (
    AVAILABILITY_RULES,
    CAPACITY,
    HANDOVER,
    INTAKE_LIMIT,
    RULE_IDS,
    ServiceState,
    holding_rules,
    joined,
    new_families,
    points,
)

#: Every rule id :func:`check_plan` may report, in the order it reports them: the ids
#: of the registry (:data:`allocator.domain.rules.RULES`).
RULES: tuple[str, ...] = RULE_IDS

#: Every summary id :func:`stale_summaries` may report, in the order it reports them.
SUMMARIES: tuple[str, ...] = ("workers_table", "objective", "days_waiting", "status")

#: Tolerance of the ``workers`` table, in centi-points (0.01 points).
TABLE_TOLERANCE = 1
#: Tolerance for fractional objective values (``highest_utilisation`` is rounded to 4 places).
OBJECTIVE_TOLERANCE = 1e-4


@dataclass(frozen=True)
class Violation:
    """One broken rule, in words a team manager can act on.

    Attributes
    ----------
    rule
        The rule's id, one of :data:`RULES` (or of :data:`SUMMARIES` for a stale
        summary).
    message
        What is wrong, naming ids and numbers only.
    case, worker
        The case and the worker concerned, where there is one.
    """

    rule: str
    message: str
    case: str | None = None
    worker: str | None = None


__all__ = [
    "INPUT_OPTIONS",
    "RULES",
    "SUMMARIES",
    "Violation",
    "check_plan",
    "input_mismatches",
    "joined",
    "judge_plan",
    "points",
    "stale_summaries",
]


# ------------------------------------------------------------------------ checker


def check_plan(snapshot: Snapshot, policy: Policy, plan: Plan) -> list[Violation]:
    """Every hard rule ``plan`` breaks, recomputed from the snapshot and the policy.

    Parameters
    ----------
    snapshot
        The service's state the plan starts from.
    policy
        The policy the plan must obey (FORMAT.md defaults: ``Policy()``).
    plan
        Any plan: the allocator's or a manager's manual allocation.

    Returns
    -------
    list of Violation
        Empty when the plan breaks no rule. Always in the same order: ``as_of``;
        ``conservation`` (with the cases a plan leaves with a worker who may no longer
        hold them); each assignment's rules in plan order (``unknown_worker`` to
        ``from_mismatch``, as in :data:`RULES`); cases a gone worker still holds, in
        snapshot order; ``capacity`` and ``intake_limit`` by worker in snapshot order.
        Stale summaries are not here: see :func:`stale_summaries`.

    Raises
    ------
    TypeError
        If the snapshot, policy or plan is of another kind (a dict, a file name,
        ``None``), naming the argument and how to make one.
    InputError
        If the snapshot or the plan (a ``model_copy`` no constructor checked) does not
        hold to the contract, one sentence per problem.
    PolicyError
        A ``ValueError``: a policy copy out of its domains.

    Notes
    -----
    Where a case is listed more than once, its first assignment counts for loads and
    intake (the duplicate itself is a ``conservation`` violation). A plan naming cases
    or workers the snapshot does not hold is judged, not refused: those are violations.
    """
    check_arguments("check_plan", snapshot=snapshot, policy=policy, plan=plan)
    snapshot, policy = (
        admitted("check_plan", "snapshot", snapshot),
        admitted("check_plan", "policy", policy),
    )
    return _judge(snapshot, policy, admitted("check_plan", "plan", plan))[0]


def stale_summaries(snapshot: Snapshot, policy: Policy, plan: Plan) -> list[Violation]:
    """The plan's summaries (``workers``, ``objective``) that disagree with its placements.

    A summary the plan leaves out is not stale. A hand-edited plan whose totals were
    not updated breaks no rule: this is reported apart from :func:`check_plan`.

    Returns
    -------
    list of Violation
        Rule ids from :data:`SUMMARIES`: ``workers_table`` by row, then missing rows
        in snapshot order; ``objective`` in the order :func:`evaluate` gives.
    """
    return _judge(snapshot, policy, plan)[1]


def judge_plan(
    snapshot: Snapshot, policy: Policy, plan: Plan
) -> tuple[list[Violation], list[Violation]]:
    """:func:`check_plan` and :func:`stale_summaries` together, in one pass.

    Returns
    -------
    (violations, stale)
        Broken rules, and stale summaries.
    """
    return _judge(snapshot, policy, plan)


def _judge(
    snapshot: Snapshot, policy: Policy, plan: Plan
) -> tuple[list[Violation], list[Violation]]:
    state = ServiceState.of(snapshot, policy)
    out: list[Violation] = []
    if plan.as_of != snapshot.as_of:
        out.append(
            Violation(
                "as_of",
                f"the plan is for {plan.as_of} but the snapshot is of {snapshot.as_of}",
            )
        )
    given, emptied = _conservation(state, plan, out)
    for assignment in plan.assignments:
        _assignment_rules(state, assignment, out)
    # A planned handover is judged as the assignment it becomes on its day: every rule
    # holds for the receiver, and its room and intake count from today.
    given.update(_handovers(state, plan, given, emptied, out))

    final = {cid: case.worker for cid, case in state.cases.items()}
    final.update(dict.fromkeys(emptied))
    final.update(given)
    _gone_holders(state, final, given, out)
    load_after, count_after = _loads(state, final)
    _capacity(state, plan, given, load_after, out)
    _intake_limit(state, given, out)
    stale: list[Violation] = []
    _workers_table(state, plan, load_after, count_after, stale)
    _objective(state, plan, given, stale)
    _days_waiting(state, plan, stale)
    _status(plan, stale)
    return out, stale


def stated(reason: str) -> bool:
    """Whether a plan's reason (an unallocated case's, an exception's) says anything:
    FORMAT.md asks for a sentence a manager can act on, and blank text is none."""
    return bool(reason.strip())


def _conservation(
    state: ServiceState, plan: Plan, out: list[Violation]
) -> tuple[dict[str, str], set[str]]:
    """Each case that needs a worker listed once; returns what the plan changes.

    Returns the cases the plan gives a worker (first assignment of each known case
    that changes its worker) and the known cases it leaves with none.
    """
    listings: dict[str, list[str]] = defaultdict(list)
    for a in plan.assignments:
        listings[a.case].append("assignments")
    for u in plan.unallocated:
        listings[u.case].append("unallocated")

    for cid, where in listings.items():
        if cid not in state.cases:
            out.append(Violation("conservation", f"{cid} is not a case in the snapshot", case=cid))
        elif len(where) > 1:
            counts = ", ".join(
                f"{where.count(k)} in {k}" for k in ("assignments", "unallocated") if k in where
            )
            out.append(
                Violation(
                    "conservation",
                    f"{cid} is listed {len(where)} times ({counts}); each case appears once",
                    case=cid,
                )
            )
    first_worker: dict[str, str] = {}
    for a in plan.assignments:
        first_worker.setdefault(a.case, a.worker)
    for cid in state.to_allocate:
        old = state.cases[cid].worker
        if old is not None and old not in state.gone:
            if cid not in listings or first_worker.get(cid) == old:
                _kept_against_rules(state, cid, old, out)
            continue
        if cid not in listings:
            why = "has no worker" if old is None else f"was held by {old}, who has left"
            out.append(
                Violation(
                    "conservation",
                    f"{cid} {why} but is in neither assignments nor unallocated",
                    case=cid,
                    worker=old,
                )
            )

    need = set(state.to_allocate)
    given: dict[str, str] = {}
    for a in plan.assignments:
        case = state.cases.get(a.case)
        if case is None or a.case in given:
            continue
        if a.worker == case.worker and a.worker not in state.gone:
            if a.case in need:
                continue  # reported above under the rule the holder breaks
            out.append(
                Violation(
                    "conservation",
                    f"{a.case} is assigned to {a.worker}, who already holds it; list only "
                    "cases whose worker changes",
                    case=a.case,
                    worker=a.worker,
                )
            )
            continue
        given[a.case] = a.worker
    emptied: set[str] = set()
    for u in plan.unallocated:
        case = state.cases.get(u.case)
        if case is None or u.case in given or u.case in emptied:
            continue
        emptied.add(u.case)
        if not stated(u.reason):
            out.append(
                Violation(
                    "conservation",
                    f"{u.case} is listed as unallocated with no reason; each case left "
                    "without a worker says why, in words a manager can act on",
                    case=u.case,
                )
            )
        if u.case not in need:
            out.append(
                Violation(
                    "conservation",
                    f"{u.case} is listed as unallocated but is held by {case.worker}, who "
                    "has not left; only a case that needs a worker can be unallocated",
                    case=u.case,
                    worker=case.worker,
                )
            )
    return given, emptied


def _handovers(
    state: ServiceState,
    plan: Plan,
    given: Mapping[str, str],
    emptied: set[str],
    out: list[Violation],
) -> dict[str, str]:
    """Each planned handover: a departing worker's child, once, on a day before they go,
    to a worker every rule allows (:func:`_assignment_rules`). Returns case -> receiver
    for the handovers of known cases not otherwise listed."""
    handed: dict[str, str] = {}
    for h in plan.handovers:
        case = state.cases.get(h.case)

        def report(message: str, case: str = h.case, worker: str = h.worker) -> None:
            out.append(Violation(HANDOVER.id, message, case=case, worker=worker))

        if case is None:
            out.append(
                Violation("conservation", f"{h.case} is not a case in the snapshot", case=h.case)
            )
            continue
        if h.case in given or h.case in emptied or h.case in handed:
            out.append(
                Violation(
                    "conservation",
                    f"{h.case} has a planned handover and is listed elsewhere in the plan; "
                    "each case appears once",
                    case=h.case,
                )
            )
            continue
        _assignment_rules(state, Assignment(case=h.case, worker=h.worker, from_=h.from_), out)
        departs = state.departing.get(case.worker or "")
        if departs is None:
            report(
                f"{h.case} has a handover planned but its worker {case.worker} does not leave "
                "or start a long absence within the leaving window"
            )
        elif h.case not in state.to_hand_over:
            report(f"{h.case} is pinned to {case.worker}: a manager re-pins it, no handover")
        else:
            if h.departs != departs:
                report(
                    f"{h.case}'s handover gives departs {h.departs}, "
                    f"but {case.worker} goes on {departs}"
                )
            if not state.as_of <= h.on < departs:
                report(
                    f"{h.case} is handed over on {h.on}, expected a day from {state.as_of} to "
                    f"before {departs}, when {case.worker} goes"
                )
        if h.notice_days != (gap := (h.on - state.as_of).days):
            report(
                f"{h.case}'s notice is given as {h.notice_days} days, but {h.on} is "
                + (
                    f"{gap} days after {state.as_of}"
                    if gap > 0
                    else f"{-gap} days before {state.as_of}"
                    if gap < 0
                    else "as_of itself (0 days' notice)"
                )
            )
        handed[h.case] = h.worker
    return handed


def _kept_against_rules(state: ServiceState, cid: str, wid: str, out: list[Violation]) -> None:
    """A case the plan leaves with a present worker who may no longer hold it."""
    case = state.cases[cid]
    for rule, sentence in holding_rules(case, state.practitioners[wid], state.policy):
        out.append(
            Violation(
                rule,
                f"{cid} stays with {wid} after the plan, but {sentence}; move it or list it "
                "as unallocated",
                case=cid,
                worker=wid,
            )
        )


def _assignment_rules(state: ServiceState, a: Assignment, out: list[Violation]) -> None:
    """The rules on one (case, worker) pair: who may hold what, and ``from``."""
    case = state.cases.get(a.case)
    if case is None:
        return  # conservation has reported it
    cid, wid = a.case, a.worker

    def report(rule: str, message: str) -> None:
        out.append(Violation(rule, message, case=cid, worker=wid))

    p = state.practitioners.get(wid)
    if p is None:
        report("unknown_worker", f"{cid} is assigned to {wid}, who is not among the practitioners")
    elif wid == case.worker and wid not in state.gone:
        pass  # a no-op listing, reported by conservation; the worker gets nothing new
    else:
        # The taking rules on the worker alone; capacity and the intake limit are
        # judged per worker on the whole plan (_capacity, _intake_limit).
        for taking in AVAILABILITY_RULES:
            sentence = taking.unavailable(state, wid)
            if sentence is not None:
                report(taking.id, f"{cid} is assigned to {wid}, but {sentence}")
        for rule, sentence in holding_rules(case, p, state.policy):
            report(rule, f"{cid} is assigned to {wid}, but {sentence}")
    if a.from_ != case.worker:
        now = "it has no worker" if case.worker is None else f"its worker is {case.worker}"
        said = "no worker" if a.from_ is None else a.from_
        report("from_mismatch", f"{cid} is listed as moving from {said}, but {now}")


def _gone_holders(
    state: ServiceState,
    final: Mapping[str, str | None],
    given: Mapping[str, str],
    out: list[Violation],
) -> None:
    """A worker who has left holds nothing once the plan is applied.

    Cases the plan itself gives to a gone worker were reported with their assignment.
    """
    for cid, wid in final.items():
        if wid is not None and wid in state.gone and cid not in given:
            left = state.practitioners[wid].leaving_on
            out.append(
                Violation(
                    "gone_worker",
                    f"{wid} left on {left} but still holds {cid} after the plan",
                    case=cid,
                    worker=wid,
                )
            )


def _loads(
    state: ServiceState, final: Mapping[str, str | None]
) -> tuple[dict[str, int], dict[str, int]]:
    """Each practitioner's load (centi-points) and case count once the plan is applied."""
    load = dict.fromkeys(state.practitioners, 0)
    count = dict.fromkeys(state.practitioners, 0)
    for cid, wid in final.items():
        if wid in load:
            load[wid] += state.weight[cid]
            count[wid] += 1
    return load, count


def _capacity(
    state: ServiceState,
    plan: Plan,
    given: Mapping[str, str],
    load_after: Mapping[str, int],
    out: list[Violation],
) -> None:
    """A worker given any case ends within their cap and was not over it before.

    A case the plan lists as a managed exception to the cap (``waives: capacity``),
    of a class the policy allows over cap (``over_cap_classes``), with a reason, and
    given by the plan to that worker, is the manager's documented exception: it does
    not count against the worker's cap, and a worker given only such cases is not
    judged on the cap at all. Any other listing of that kind is a ``capacity``
    violation.
    """
    allowed: dict[str, list[str]] = {}
    for e in plan.exceptions:
        if e.waives != "capacity":
            continue
        case = state.cases.get(e.case)
        if case is None:
            continue  # conservation has reported it
        problem = None
        if given.get(e.case) != e.worker:
            problem = f"the plan does not give {e.case} to {e.worker}"
        elif not state.policy.may_exceed_cap(case):
            problem = (
                f"{e.case} is of class '{state.policy.class_name(case)}', and the policy "
                "allows over cap only for "
                + (", ".join(state.policy.over_cap_classes) or "no class")
            )
        elif not stated(e.reason):
            problem = "the exception gives no reason"
        if problem is not None:
            out.append(
                Violation(
                    CAPACITY.id,
                    f"{e.case} is listed as over {e.worker}'s cap by exception, but {problem}",
                    case=e.case,
                    worker=e.worker,
                )
            )
        else:
            allowed.setdefault(e.worker, []).append(e.case)
    receivers = {w for c, w in given.items() if c not in allowed.get(w, ())}
    for wid in state.practitioners:
        if wid not in receivers:
            continue
        excepted = sum(state.weight[c] for c in allowed.get(wid, ()))
        message = CAPACITY.after_plan(state, wid, load_after[wid] - excepted)
        if message is not None:
            out.append(Violation(CAPACITY.id, message, worker=wid))


def _intake_limit(state: ServiceState, given: Mapping[str, str], out: list[Violation]) -> None:
    """No worker takes more new families in one plan than the policy allows."""
    new = new_families(state, given)
    for wid in state.practitioners:
        message = INTAKE_LIMIT.after_plan(state, wid, new.get(wid, set()))
        if message is not None:
            out.append(Violation(INTAKE_LIMIT.id, message, worker=wid))


def _workers_table(
    state: ServiceState,
    plan: Plan,
    load_after: Mapping[str, int],
    count_after: Mapping[str, int],
    out: list[Violation],
) -> None:
    """The plan's ``workers`` rows agree with the loads recomputed from its placements."""
    if not plan.workers:
        return
    seen: set[str] = set()
    for row in plan.workers:
        wid = row.id
        if wid not in state.practitioners:
            out.append(
                Violation(
                    "workers_table",
                    f"the workers table has a row for {wid}, who is not among the practitioners",
                    worker=wid,
                )
            )
            continue
        if wid in seen:
            out.append(Violation("workers_table", f"the workers table has {wid} twice", worker=wid))
            continue
        seen.add(wid)
        expected_points = {
            "capacity": state.capacity[wid],
            "load_before": state.load_before[wid],
            "load_after": load_after[wid],
        }
        for name, units in expected_points.items():
            shown: float = getattr(row, name)
            if abs(shown * POINTS_SCALE - units) > TABLE_TOLERANCE + 1e-9:
                out.append(
                    Violation(
                        "workers_table",
                        f"{wid}'s {name} is given as {shown:g} points but recomputes to "
                        f"{points(units)}",
                        worker=wid,
                    )
                )
        expected_counts = {
            "cases_before": state.cases_before[wid],
            "cases_after": count_after[wid],
        }
        for name, count in expected_counts.items():
            shown_count: int = getattr(row, name)
            if shown_count != count:
                out.append(
                    Violation(
                        "workers_table",
                        f"{wid}'s {name} is given as {shown_count} but recomputes to {count}",
                        worker=wid,
                    )
                )
    for wid in state.practitioners:
        changed = (
            load_after[wid] != state.load_before[wid] or count_after[wid] != state.cases_before[wid]
        )
        if changed and wid not in seen:
            out.append(
                Violation(
                    "workers_table",
                    f"the workers table has no row for {wid}, whose load changes from "
                    f"{points(state.load_before[wid])} to {points(load_after[wid])} points "
                    f"({state.cases_before[wid]} to {count_after[wid]} cases)",
                    worker=wid,
                )
            )


def _objective(
    state: ServiceState, plan: Plan, given: Mapping[str, str], out: list[Violation]
) -> None:
    """The plan's reported objective values agree with the tiers on its placements.

    A rebalance's plan (it reports the rebalance's own tiers, such as
    ``weighted_changes``) is judged by :func:`allocator.domain.objectives.rebalance_values`,
    any other by :func:`allocator.domain.objectives.evaluate`; moves included in both.
    """
    if not plan.objective:
        return
    placed = {cid: wid for cid, wid in given.items() if wid in state.practitioners}
    values = plan_values(state, placed, plan.objective)
    for key, value in values.items():
        if key in plan.objective and not _same(plan.objective[key], value):
            out.append(
                Violation(
                    "objective",
                    f"objective {key} is given as {plan.objective[key]} but the plan's "
                    f"placements give {value}",
                )
            )


def _status(plan: Plan, out: list[Violation]) -> None:
    """A plan that says ``optimal`` proves every tier it lists in ``proved`` (a fresh
    user's hand-edited "optimal" beside unproved tiers passed unflagged)."""
    unproved = [key for key, done in (plan.proved or {}).items() if not done]
    if plan.status == "optimal" and unproved:
        out.append(
            Violation(
                "status",
                f"the plan says optimal, but its own proved list leaves {', '.join(unproved)} "
                "unproved",
            )
        )


def _days_waiting(state: ServiceState, plan: Plan, out: list[Violation]) -> None:
    """The plan's ``days_waiting`` figures agree with the days recomputed from the
    snapshot (:attr:`allocator.domain.rules.ServiceState.days_waiting`)."""
    rows = [(a.case, a.days_waiting) for a in plan.assignments]
    rows += [(u.case, u.days_waiting) for u in plan.unallocated]
    for cid, given in rows:
        waited = state.days_waiting.get(cid)
        # Left out, or a case that needed no worker in this snapshot (a meeting's
        # override may make an open case one to decide): nothing to compare.
        if given is None or waited is None or given == waited:
            continue
        out.append(
            Violation(
                "days_waiting",
                f"{cid}'s days_waiting is given as {given} but recomputes to {waited}",
                case=cid,
            )
        )


def _same(reported: float, computed: float) -> bool:
    """Integers must agree exactly; fractions (utilisation) to :data:`OBJECTIVE_TOLERANCE`."""
    if isinstance(computed, int) and float(reported).is_integer():
        return int(reported) == computed
    if isinstance(computed, int):
        return False
    return abs(reported - computed) <= OBJECTIVE_TOLERANCE


# ------------------------------------------------------------------ inputs

#: The command-line option that names each input a plan records.
INPUT_OPTIONS: dict[str, str] = {
    "snapshot": "SNAPSHOT",
    "referrals": "--referrals",
    "policy": "--policy",
}


def _differing_digests(a: FileDigest, b: FileDigest) -> tuple[str, str] | None:
    """The two files' SHA-256, shortened for a sentence, when they differ by content
    (both known and unequal); else ``None`` (standard input, with no digest, matches
    anything; a copy under another name matches)."""
    if a.sha256 is None or b.sha256 is None or a.sha256 == b.sha256:
        return None
    return a.sha256[:12], b.sha256[:12]


#: The inputs that make the service (the rest, the policy, is how it is judged).
SERVICE_INPUTS = ("snapshot", "referrals")


def same_service(a: MadeFrom | None, b: MadeFrom | None) -> bool:
    """Whether two records hold the same service by content (their ``service_sha256``,
    both known and equal): then the files they name may differ in their bytes (JSON
    re-saved, a byte-order mark, the CSV tables of the same data) or in how the cases
    were split between snapshot and referrals, and the service is still the same."""
    return (
        a is not None
        and b is not None
        and a.service_sha256 is not None
        and a.service_sha256 == b.service_sha256
    )


def input_mismatches(made_from: MadeFrom | None, given: MadeFrom) -> list[str]:
    """Where the files a plan is judged against differ from those it was made from.

    A plan that records what it was made from (``made_from``) is compared, file by
    file, with the files given now: a checker's 51 violations often mean only that
    ``--referrals`` was forgotten, and this says so first.

    Parameters
    ----------
    made_from
        The plan's record of its inputs; ``None`` (a plan from another tool or made
        by hand) gives no sentence.
    given
        The files given to the checker (:func:`allocator.io.inputs_of`).

    Returns
    -------
    list of str
        One sentence per input that differs, in the order snapshot, referrals, policy.
        Files are compared by SHA-256 only: a copy under another name matches, and
        standard input (no digest) matches anything; the snapshot and referrals say
        nothing where both records hold the same service (:func:`same_service`).
    """
    if made_from is None:
        return []
    out: list[str] = []
    for name, option in INPUT_OPTIONS.items():
        if name in SERVICE_INPUTS and same_service(made_from, given):
            continue
        then: FileDigest | None = getattr(made_from, name)
        now: FileDigest | None = getattr(given, name)
        if then is None and now is None:
            continue
        if then is None:
            assert now is not None
            out.append(
                f"this plan was made without {with_article(name)} file, but {option} "
                f"{now.file} was "
                "given: the figures below may not be of the inputs the plan was made from"
            )
        elif now is None:
            out.append(f"this plan was made with {name} {then.file}: did you forget {option}?")
        elif digests := _differing_digests(then, now):
            out.append(
                f"this plan was made with {name} {then.file} (SHA-256 {digests[0]}...); "
                f"{now.file} differs (SHA-256 {digests[1]}...): the plan may be judged "
                "against inputs it was not made from"
            )
    return out


#: Most hard-rule violations a refusal or a comparison lists one by one: past it, the
#: first :data:`BREAKS_SHOWN_PAST` and a count (:func:`first_breaks`).
SHOWN_BREAKS = 10
BREAKS_SHOWN_PAST = 5


def first_breaks(said: list[str], more: str) -> list[str]:
    """``said`` (one sentence per broken rule) cut to a screenful: all of them up to
    :data:`SHOWN_BREAKS`, else the first :data:`BREAKS_SHOWN_PAST` and ``more``
    formatted with the count of the rest (``"... and {n} more"``). Most often so many
    are another service's plan, where a screenful says no more than five."""
    if len(said) <= SHOWN_BREAKS:
        return said
    return [*said[:BREAKS_SHOWN_PAST], more.format(n=len(said) - BREAKS_SHOWN_PAST)]


#: What makes two plans' tiers not comparable at all (:func:`rankable`): another day,
#: other policy overrides, another snapshot or referrals. Another command or policy
#: file is said (:func:`plans_made_apart`) but still ranked: both count the same children.
UNRANKABLE = frozenset({"day", "overrides", "snapshot", "referrals"})


def _differences(
    a: Plan, b: Plan, names: tuple[str, str], recomputed: bool
) -> list[tuple[str, str]]:
    """(what differs, the sentence saying it) for two plans, by the plans' own records:
    what differs is ``day``, ``overrides``, ``command`` or an input of
    :data:`INPUT_OPTIONS` (``made_from``, compared by SHA-256 as
    :func:`input_mismatches` does; a plan without a record says nothing of them)."""
    first, second = names
    out: list[tuple[str, str]] = []
    if a.as_of != b.as_of:
        out.append(
            (
                "day",
                f"{first} is for {a.as_of} and {second} for {b.as_of}: plans of different "
                "days differ in their services as well as in their decisions",
            )
        )
    over = (overrides_of(a.settings), overrides_of(b.settings))
    if over[0] != over[1]:
        said = [overrides_said(o) for o in over]
        out.append(
            (
                "overrides",
                f"{first} was made with {said[0]} and {second} with {said[1]}: plans under "
                "different policies differ in what breaks a rule",
            )
        )
    if a.made_from is None or b.made_from is None:
        return out
    made_by = (a.made_from.command, b.made_from.command)
    if None not in made_by and made_by[0] != made_by[1]:
        out.append(
            (
                "command",
                f"{first} was made by {made_by[0]} and {second} by {made_by[1]}: the tiers "
                "each reports count different things (a rebalance counts the handovers it "
                "plans; an allocation leaves a departing worker's children with them)"
                + ("" if recomputed else ": give --snapshot to recompute both by the same rules"),
            )
        )
    for name in INPUT_OPTIONS:
        if name in SERVICE_INPUTS and same_service(a.made_from, b.made_from):
            continue
        mine: FileDigest | None = getattr(a.made_from, name)
        theirs: FileDigest | None = getattr(b.made_from, name)
        if (mine is None) != (theirs is None):
            with_it, without = (first, second) if mine is not None else (second, first)
            out.append(
                (
                    name,
                    f"{with_it} was made with {with_article(name)} file and {without} "
                    "without one: the "
                    "cases they differ on may differ because of it",
                )
            )
        elif (
            mine is not None
            and theirs is not None
            and (digests := _differing_digests(mine, theirs))
        ):
            out.append(
                (
                    name,
                    f"{first} was made from {name} {mine.file} (SHA-256 {digests[0]}...) "
                    f"and {second} from {theirs.file} (SHA-256 {digests[1]}...): the "
                    "cases they differ on may differ because the inputs do",
                )
            )
    return out


def rankable(a: Plan, b: Plan) -> bool:
    """Whether two plans can be ranked against each other: none of their differences
    (:func:`plans_made_apart`) is in :data:`UNRANKABLE`. Plans of two services differ
    in their cases, and plans of two caps in what breaks a rule."""
    return not any(what in UNRANKABLE for what, _ in _differences(a, b, ("", ""), recomputed=False))


def plans_made_apart(
    a: Plan, b: Plan, names: tuple[str, str] = ("plan A", "plan B"), *, recomputed: bool = False
) -> list[str]:
    """Why two plans may not be comparable: made for different days, by different
    commands, or from different input files by the plans' own records
    (``made_from``, compared by SHA-256 as :func:`input_mismatches` does; a plan
    without a record says nothing).

    Returns
    -------
    list of str
        One sentence per difference, in the order day, policy overrides, command
        (allocate or rebalance), snapshot, referrals, policy; ``names`` names the plans
        in them (their files, on the command line); ``recomputed``: the tiers are
        recomputed from a snapshot (no advice to give one).
    """
    return [sentence for _, sentence in _differences(a, b, names, recomputed)]
