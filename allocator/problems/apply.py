"""The service after a plan: tomorrow starts from today's decisions.

:func:`apply_plan` takes a snapshot, the plan made for it and the policy, and gives
the snapshot once the plan is carried out; :func:`applied` gives the same with what
happened to each case, for a summary. Nothing here solves: the plan is judged first
by :func:`allocator.explain.check.check_plan`, the independent checker, and refused if it
breaks a hard rule, names a case or worker the snapshot lacks, or is for another day.

What the plan does to each case (docs/FORMAT.md, "Applying a plan"):

- an **assignment** sets ``worker``. A child moved off a worker puts that worker at
  the front of ``previous_workers`` and counts one more ``changes_last_12_months``
  (as the plan's ``changes_of_worker`` counts it); a first worker (``from`` null)
  counts no change. An urgent child placed has been seen: ``priority`` becomes
  ``standard``.
- an **unallocated** case that had a worker loses them: ``worker`` null, the worker
  at the front of ``previous_workers``. It is not counted as a change (the plan's
  ``changes_of_worker`` does not count it either): the change is the child's next
  worker, which the snapshot can no longer tell apart from a first one.
- a **handover** planned ahead leaves the child with their worker until its day. The
  snapshot has no place for a promise (Part 1 is the council's export, which knows
  nothing of it), so handovers still to come are returned apart
  (:attr:`AppliedPlan.pending`) and the command line writes them beside the snapshot.
  A handover whose day has come by the snapshot's day (the plan's day, or a later
  ``as_of``) is made, as the simulation makes it on its day: as an assignment with
  ``from``, if its receiver may still take the child then (not gone or away, every
  holding rule met); else it lapses. Handovers an earlier plan promised
  (:func:`still_pending` of the file written then) are carried forward alike unless
  the plan decides for the child anew; a plan made by ``allocator rebalance`` lists
  every handover in force, and one it leaves out is withdrawn.
- ``waiting_since`` is cleared for a child placed and, for a child left waiting
  without one, set to the day their wait began: ``opened`` for a child who had no
  worker (the day the reading rule counts from), the day a departed worker left
  (:func:`allocator.domain.rules.waiting_start`), else the plan's day.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Final

from allocator.arguments import admitted, check_arguments, check_day, check_items
from allocator.contract.models import (
    MAX_CHANGES,
    Case,
    Handover,
    PendingHandovers,
    Plan,
    Practitioner,
    Priority,
    Snapshot,
)
from allocator.contract.policy import Policy
from allocator.domain.rules import counted, holding_blockers, is_gone, waiting_start
from allocator.explain.check import first_breaks, judge_plan
from allocator.io import InputError

__all__ = [
    "AppliedPlan",
    "PlanNotApplicable",
    "applied",
    "apply_plan",
    "reserve_handovers",
    "reserve_room",
    "still_pending",
]


class PlanNotApplicable(InputError):
    """A plan that cannot be applied to the snapshot given, one sentence per reason."""


@dataclass(frozen=True)
class AppliedPlan:
    """A snapshot after a plan, and what the plan did to it.

    Attributes
    ----------
    snapshot
        The service once the plan is carried out (``as_of`` the day asked for).
    placed
        Cases given a first worker (assignments with ``from`` null), in plan order.
    moved
        Cases moved from one worker to another (assignments with ``from``), in plan
        order.
    handed
        Cases handed over because their handover's day had come by ``as_of`` (the
        plan's day included, as the simulation makes a handover on its day).
    waiting
        Cases the plan leaves without a worker, in plan order.
    pending
        Handovers planned ahead whose day has not come: the child is still with
        ``from``.
    lapsed
        Handovers whose day had come but whose receiver may no longer take the child
        (gone, away, or a holding rule now stops them): the child stays with their
        worker and needs a new decision.
    """

    snapshot: Snapshot
    placed: tuple[str, ...] = ()
    moved: tuple[str, ...] = ()
    handed: tuple[str, ...] = ()
    waiting: tuple[str, ...] = ()
    pending: tuple[Handover, ...] = ()
    lapsed: tuple[Handover, ...] = ()

    def summary(self) -> str:
        """One line: how many placed, moved, left waiting and handovers pending."""
        parts = [f"{len(self.placed)} placed", f"{len(self.moved)} moved"]
        if self.handed:
            parts.append(f"{len(self.handed)} handed over (their day had come)")
        parts += [
            f"{len(self.waiting)} left waiting",
            f"{counted(len(self.pending), 'handover')} pending",
        ]
        if self.lapsed:
            parts.append(
                f"{counted(len(self.lapsed), 'handover')} lapsed (receiver may no longer take)"
            )
        return ", ".join(parts)


def apply_plan(
    snapshot: Snapshot,
    plan: Plan,
    policy: Policy | None = None,
    *,
    as_of: date | None = None,
    earlier: Iterable[Handover] = (),
) -> Snapshot:
    """The snapshot after ``plan``: :attr:`AppliedPlan.snapshot` of :func:`applied`.

    Parameters
    ----------
    snapshot
        The service the plan was made for (referrals merged in, as for the plan).
    plan
        The plan in force.
    policy
        The policy the plan must obey; FORMAT.md defaults when ``None``.
    as_of
        The day of the snapshot returned; default the plan's day. A later day makes
        the handovers due by then.
    earlier
        Handovers an earlier plan promised and not yet made
        (:func:`still_pending` of the file ``apply`` wrote): carried forward as the
        plan's own, unless the plan decides for the child anew.

    Raises
    ------
    TypeError
        If the snapshot, plan, or a policy given is of another kind (a dict, a file
        name), ``as_of`` is not a ``datetime.date`` or ``None``, or ``earlier`` is not
        a sequence of Handover records (a set is refused: it has no order), naming the
        argument.
    InputError
        If the snapshot or the plan (a ``model_copy`` no constructor checked) does not
        hold to the contract, one sentence per problem.
    PolicyError
        A ``ValueError``: a policy copy out of its domains.
    PlanNotApplicable
        See :func:`applied`.
    """
    check_arguments("apply_plan", optional=("policy",), snapshot=snapshot, plan=plan, policy=policy)
    check_day("apply_plan", "as_of", as_of)
    earlier = check_items("apply_plan", "earlier", earlier, Handover, "Handover records")
    snapshot, plan = (
        admitted("apply_plan", "snapshot", snapshot),
        admitted("apply_plan", "plan", plan),
    )
    policy = admitted("apply_plan", "policy", policy)
    return applied(snapshot, plan, policy, as_of=as_of, earlier=earlier).snapshot


def applied(
    snapshot: Snapshot,
    plan: Plan,
    policy: Policy | None = None,
    *,
    as_of: date | None = None,
    earlier: Iterable[Handover] = (),
    source: str = "plan",
) -> AppliedPlan:
    """Carry out ``plan`` on ``snapshot``; see the module's docstring for each field.

    Parameters
    ----------
    snapshot, plan, policy, as_of, earlier
        As :func:`apply_plan`.
    source
        The name messages give the plan (its file, on the command line).

    Returns
    -------
    AppliedPlan
        The snapshot after the plan and what happened to each case. The practitioners
        are as they were (staff who have gone stay until the council's export drops
        them); ``changes_last_12_months`` is not aged by a later ``as_of`` (the
        snapshot does not say when the earlier changes were).

    Raises
    ------
    PlanNotApplicable
        One sentence per problem: the plan is for another day; ``as_of`` is not after
        the snapshot's; the plan names a case or worker the snapshot lacks; or it
        breaks a hard rule (each of :func:`allocator.explain.check.check_plan`'s violations,
        with its rule id).
    """
    policy = policy or Policy()
    day = snapshot.as_of if as_of is None else as_of
    problems = _door(snapshot, plan, as_of, source)
    if problems:
        raise PlanNotApplicable(problems)
    # The arguments were checked above: the plan is judged, not the snapshot validated again.
    broken = judge_plan(snapshot, policy, plan)[0]
    if broken:
        held = {c.id: c.worker for c in snapshot.cases}
        already = sum(1 for a in plan.assignments if held.get(a.case) == a.worker)
        if plan.assignments and 2 * already >= len(plan.assignments):
            # Applied twice (to the snapshot apply wrote): one sentence, not a break
            # per case (a fresh user's --force printed 78 lines).
            raise PlanNotApplicable(
                f"{source}: looks applied already: {already} of its "
                f"{counted(len(plan.assignments), 'assignment')} "
                f"{'is' if already == 1 else 'are'} held in this snapshot by the "
                f"worker it names ({counted(len(broken), 'hard-rule violation')} "
                f"{'follows' if len(broken) == 1 else 'follow'} from it; is this the "
                "snapshot apply wrote from it?)"
            )
        said = [f"{source}: breaks a hard rule ({v.rule}): {v.message}" for v in broken]
        raise PlanNotApplicable(
            first_breaks(
                said,
                f"{source}: ... and {{n}} more hard-rule violations (is it a plan of this "
                "snapshot? allocator check lists them all)",
            )
        )
    cases = {c.id: c for c in snapshot.cases}
    staff = {p.id: p for p in snapshot.practitioners}
    placed: list[str] = []
    moved: list[str] = []
    handed: list[str] = []
    for a in plan.assignments:
        cases[a.case] = _given(cases[a.case], a.worker)
        (placed if a.from_ is None else moved).append(a.case)
    for u in plan.unallocated:
        cases[u.case] = _left_waiting(cases[u.case], plan.as_of, staff)
    # An earlier promise stands unless this plan decides for the child anew (or it no
    # longer applies: the case gone, the child moved, the receiver off the books).
    decided = {a.case for a in plan.assignments} | {u.case for u in plan.unallocated}
    decided |= {h.case for h in plan.handovers}
    before = {c.id: c for c in snapshot.cases}
    kept = [h for h in earlier if h.case not in decided and _stands(h, before, staff)]
    if plan.made_from is not None and plan.made_from.command == "rebalance":
        # A rebalance decides every departing worker's child: the handovers it lists are
        # all those in force, and a promise it left out is withdrawn (its receiver's
        # room may have gone to another child in the plan).
        kept = []
    pending: list[Handover] = []
    lapsed: list[Handover] = []
    for h in (*plan.handovers, *kept):
        if h.on > day:
            pending.append(h)
        elif _may_take(cases[h.case], staff[h.worker], day, policy):
            cases[h.case] = _given(cases[h.case], h.worker)
            handed.append(h.case)
        else:
            lapsed.append(h)
    after = snapshot.model_copy(
        update={"as_of": day, "cases": tuple(cases[c.id] for c in snapshot.cases)}
    )
    return AppliedPlan(
        snapshot=after,
        placed=tuple(placed),
        moved=tuple(moved),
        handed=tuple(handed),
        waiting=tuple(u.case for u in plan.unallocated),
        pending=tuple(pending),
        lapsed=tuple(lapsed),
    )


def reserve_handovers(
    snapshot: Snapshot, policy: Policy, handovers: Iterable[Handover]
) -> Snapshot:
    """``snapshot`` with each receiver's cap lowered by the children handed to them later.

    A handover takes room at its receiver from the day it is planned (docs/FORMAT.md,
    "Planned handovers"): a question asked of the service meanwhile (who may take a
    referral?) must not offer that room again. See :func:`reserve_room`.
    """
    return reserve_room(snapshot, policy, ((h.case, h.worker) for h in handovers))


def reserve_room(
    snapshot: Snapshot, policy: Policy, promised: Iterable[tuple[str, str]]
) -> Snapshot:
    """``snapshot`` with each receiver's cap lowered by the children promised to them.

    ``promised``: (case, receiver) pairs. ``capacity_points`` becomes the cap less the
    promised children's weights, at least 0; a case no longer in the snapshot, or
    already with its receiver, keeps nothing. The one way room is kept for a promise:
    the morning's allocation, ``recommend`` and the simulation's methods all use it.
    """
    cases = {c.id: c for c in snapshot.cases}
    held: dict[str, float] = {}
    for cid, receiver in promised:
        case = cases.get(cid)
        if case is None or case.worker == receiver:
            continue
        held[receiver] = held.get(receiver, 0.0) + policy.case_weight(case)
    if not held:
        return snapshot
    staff = tuple(
        p.model_copy(
            update={"capacity_points": max(0.0, round(policy.capacity(p) - held[p.id], 2))}
        )
        if p.id in held
        else p
        for p in snapshot.practitioners
    )
    return snapshot.model_copy(update={"practitioners": staff})


def still_pending(
    snapshot: Snapshot,
    record: PendingHandovers,
    policy: Policy | None = None,
    *,
    source: str = "handovers",
) -> tuple[Handover, ...]:
    """The handovers of ``record`` still to make on ``snapshot``'s day.

    ``record`` is what ``allocator apply`` wrote beside an earlier snapshot
    (:class:`~allocator.contract.models.PendingHandovers`). A handover still stands while its
    day has not passed (on ``as_of`` it is made that day), the child is in the
    snapshot with the worker it is handed over from, and the receiver is on the
    staff list and, with ``policy``, may take the child on the day (not gone or
    away, every holding rule allowing it: as ``apply`` judges it on the day); any
    other has been made, or no longer applies (the case closed, a manager moved the
    child, the receiver left the books or may no longer hold the child) and is
    dropped.

    Raises
    ------
    InputError
        If ``record`` is of a day after the snapshot's, promises one child twice, or
        holds a handover no plan makes: to the worker it leaves, or on or after the
        day that worker departs (``source`` names the file; the first few named).
    """
    if record.as_of > snapshot.as_of:
        raise InputError(
            f"{source}: the handovers are of {record.as_of}, after the snapshot's day "
            f"{snapshot.as_of}; expected the file written with this snapshot or an earlier one"
        )
    counts = Counter(h.case for h in record.handovers)
    twice = sorted(c for c, n in counts.items() if n > 1)
    if twice:
        raise InputError(
            f"{source}: case {', '.join(twice)} is handed over twice; expected one promise "
            "per child, as allocator apply writes it"
        )
    impossible = [
        f"handovers[{i}] (case {h.case}): {why}"
        for i, h in enumerate(record.handovers)
        if (why := _never_made(h)) is not None
    ]
    if impossible:
        raise InputError(
            f"{source}: {_named(impossible, '; ')}; expected handovers as allocator apply "
            "writes them"
        )
    cases = {c.id: c for c in snapshot.cases}
    staff = {p.id: p for p in snapshot.practitioners}
    return tuple(
        h for h in record.handovers if h.on >= snapshot.as_of and _stands(h, cases, staff, policy)
    )


def _never_made(h: Handover) -> str | None:
    """Why no plan makes ``h`` (a hand-edited promise), or ``None``."""
    if h.worker == h.from_:
        return f"handed over to {h.worker}, the worker it is handed over from"
    if h.on >= h.departs:
        return (
            f"handed over on {h.on}, not before {h.from_} departs on {h.departs}: the child "
            "would be without a worker between"
        )
    return None


#: Handovers named one by one in :func:`lapsed`'s sentence; the rest are counted.
LAPSED_NAMED: Final = 5


def lapsed(
    snapshot: Snapshot, record: PendingHandovers, policy: Policy | None = None
) -> str | None:
    """One sentence on the handovers of ``record`` that :func:`still_pending` drops
    and a manager should hear of, or ``None``.

    :func:`still_pending` drops them, as it should when a case closed or a manager
    moved the child; but a whole file dropped is more often the wrong file, and a
    child told of a worker deserves a manager's look either way. Each is named with
    what no longer holds (first :data:`LAPSED_NAMED`, then a count): those still to
    come that no longer apply (``policy`` as for :func:`still_pending`), and those
    whose day has passed with the child still with the worker they were to leave (a
    handover not made).
    """
    cases = {c.id: c for c in snapshot.cases}
    staff = {p.id: p for p in snapshot.practitioners}
    to_come = [h for h in record.handovers if h.on >= snapshot.as_of]
    why = [
        f"{h.case} ({reason})"
        for h in to_come
        if (reason := _why_not_standing(h, cases, staff, policy)) is not None
    ]
    not_made = [
        f"{h.case} (due {h.on}, still with {h.from_})"
        for h in record.handovers
        if h.on < snapshot.as_of and h.case in cases and cases[h.case].worker == h.from_
    ]
    parts = []
    if why:
        # "the 1 handover ... no longer applies", "1 of the 3 handovers ... applies": the
        # verb agrees with the handovers dropped (a fresh user read "1 of 1 handover ...
        # no longer apply").
        which = (
            f"the {counted(len(why), 'handover')}"
            if len(why) == len(to_come)
            else f"{len(why)} of the {len(to_come)} handovers"
        )
        verbs = (
            "applies to this snapshot and is" if len(why) == 1 else "apply to this snapshot and are"
        )
        parts.append(f"{which} still to come no longer {verbs} dropped: {_named(why)}")
    if not_made:
        verbs = "was not made and is" if len(not_made) == 1 else "were not made and are"
        parts.append(
            f"{counted(len(not_made), 'handover')} whose day has passed {verbs} dropped: "
            f"{_named(not_made)}"
        )
    if not parts:
        return None
    return "; ".join(parts) + "; if none do, is it the file written with this snapshot?"


def _named(items: list[str], sep: str = ", ") -> str:
    """The first :data:`LAPSED_NAMED` of ``items``, then a count."""
    more = f" and {len(items) - LAPSED_NAMED} more" if len(items) > LAPSED_NAMED else ""
    return sep.join(items[:LAPSED_NAMED]) + more


def _stands(
    h: Handover,
    cases: Mapping[str, Case],
    staff: Mapping[str, Practitioner],
    policy: Policy | None = None,
) -> bool:
    """Whether ``h`` still applies (:func:`_why_not_standing`)."""
    return _why_not_standing(h, cases, staff, policy) is None


def _why_not_standing(
    h: Handover,
    cases: Mapping[str, Case],
    staff: Mapping[str, Practitioner],
    policy: Policy | None = None,
) -> str | None:
    """What no longer holds for ``h``, in words, or ``None``: its child is open (in
    ``cases``) with the worker it is handed over from, its receiver is on the staff
    list and, with ``policy``, may take the child on its day (not gone or away, every
    holding rule allows it: :func:`_why_may_not_take`)."""
    case = cases.get(h.case)
    if case is None:
        return "not in the snapshot: closed?"
    if case.worker != h.from_:
        return f"held by {case.worker or 'nobody'}, not {h.from_}"
    receiver = staff.get(h.worker)
    if receiver is None:
        return f"{h.worker} is not on the staff list"
    if policy is not None:
        return _why_may_not_take(case, receiver, h.on, policy)
    return None


# ------------------------------------------------------------------ the door

#: The furthest ``as_of`` may lie after the plan's day (days): a year. Further on, a
#: plan made today says nothing reliable (typing 2099 for 2026 is the usual cause).
APPLY_AHEAD_DAYS: Final = 366


def _door(snapshot: Snapshot, plan: Plan, as_of: date | None, source: str) -> list[str]:
    """The plainest reasons the plan cannot apply, before the rules are judged."""
    problems: list[str] = []
    if plan.as_of != snapshot.as_of:
        problems.append(
            f"{source}: the plan is for {plan.as_of} but the snapshot is of {snapshot.as_of}; "
            "expected the snapshot the plan was made from"
        )
    if as_of is not None and as_of <= snapshot.as_of:
        problems.append(
            f"as_of (--as-of) is {as_of}, expected a day after the snapshot's {snapshot.as_of} "
            "(leave it out for the snapshot of the plan's own day)"
        )
    elif as_of is not None and (as_of - snapshot.as_of).days > APPLY_AHEAD_DAYS:
        problems.append(
            f"as_of (--as-of) is {as_of}, expected at most {APPLY_AHEAD_DAYS} days after the "
            f"snapshot's {snapshot.as_of}: a plan is one morning's decision, and a year "
            "on the service has changed beyond it (make a plan for that day)"
        )
    cases = {c.id for c in snapshot.cases}
    staff = {p.id for p in snapshot.practitioners}
    # Each row of the plan naming a case: where it is, the case, the workers it names.
    rows: list[tuple[str, str, dict[str, str | None]]] = []
    rows += [
        (f"assignments[{i}]", a.case, {"worker": a.worker, "from": a.from_})
        for i, a in enumerate(plan.assignments)
    ]
    rows += [(f"unallocated[{i}]", u.case, {}) for i, u in enumerate(plan.unallocated)]
    rows += [
        (f"handovers[{i}]", h.case, {"worker": h.worker, "from": h.from_})
        for i, h in enumerate(plan.handovers)
    ]
    rows += [
        (f"exceptions[{i}]", e.case, {"worker": e.worker}) for i, e in enumerate(plan.exceptions)
    ]
    strangers = [case for _, case, _ in rows if case not in cases]
    if rows and 2 * len(strangers) > len(rows):
        # Most of it names cases the snapshot lacks: another service's plan, said once
        # (a fresh user's recommend --plan printed 130 lines).
        shown = ", ".join(strangers[:3])
        return [
            *problems,
            f"{source}: {len(strangers)} of the {counted(len(rows), 'case')} it names "
            f"{'is' if len(strangers) == 1 else 'are'} not in the "
            f"snapshot ({shown} ...): a plan of another service, or made with --referrals "
            "not given here?",
        ]
    for where, case, workers in rows:
        if case not in cases:
            problems.append(
                f"{source}, {where}: field 'case' names {case!r}, which is not a case of the "
                "snapshot (was the plan made with --referrals?)"
            )
        for field, worker in workers.items():
            if worker is not None and worker not in staff:
                problems.append(
                    f"{source}, {where} (case {case}): field {field!r} names {worker!r}, who is "
                    "not among the snapshot's practitioners"
                )
    return problems


# ------------------------------------------------------------------ one case


def _given(case: Case, worker: str) -> Case:
    """``case`` with ``worker``: a change of worker if it had another one."""
    if case.worker == worker:
        return case
    update: dict[str, object] = {"worker": worker}
    if case.worker is not None:
        update["previous_workers"] = (case.worker, *case.previous_workers)
        update["changes_last_12_months"] = min(case.changes_last_12_months + 1, MAX_CHANGES)
    if case.priority is Priority.URGENT:
        update["priority"] = Priority.STANDARD  # seen today: the urgency is spent
    update["waiting_since"] = None  # no longer waiting
    return case.model_copy(update=update)


def _may_take(case: Case, p: Practitioner, day: date, policy: Policy) -> bool:
    """Whether ``p`` may still take ``case`` on its handover day: not gone, not away,
    and every holding rule (grade, skills, exclusions, pin) still allows it."""
    return _why_may_not_take(case, p, day, policy) is None


def _why_may_not_take(case: Case, p: Practitioner, day: date, policy: Policy) -> str | None:
    """Why ``p`` may not take ``case`` on ``day`` (:func:`_may_take`), or ``None``."""
    if is_gone(p, day):
        return f"{p.id} has gone by {day}"
    if p.available_from is not None and p.available_from > day:
        return f"{p.id} is away until {p.available_from}"
    start, back = p.absence_from, p.absence_until
    if start is not None and back is not None and start <= day < back:
        return f"{p.id} is away from {start} until {back}"
    blockers = holding_blockers(case, p, policy)
    return f"{p.id} may not hold them: {'; '.join(blockers)}" if blockers else None


def _left_waiting(case: Case, day: date, staff: Mapping[str, Practitioner]) -> Case:
    """``case`` without a worker from ``day``, waiting since :func:`waiting_start`
    (a wait already under way keeps its first day)."""
    update: dict[str, object] = {}
    if case.worker is not None:
        update["worker"] = None
        update["previous_workers"] = (case.worker, *case.previous_workers)
    if case.waiting_since is None:
        if case.worker is None:
            # Already waiting, since the case opened (the reading rule's default,
            # docs/FORMAT.md "Waiting"): the day is written down, never restarted.
            opened = case.opened
            update["waiting_since"] = min(opened, day) if opened is not None else day
        else:
            update["waiting_since"] = waiting_start(case, staff.get(case.worker), day)
    return case.model_copy(update=update) if update else case
