"""Why each case went where it did, and why a case went nowhere -- from the plan alone.

Every sentence is recomputed in plain Python from the snapshot, the policy and the
plan's placements (``placed``: case id -> worker id for the cases of
:attr:`allocator.rules.ServiceState.to_allocate` the plan gives a worker), never from
solver variables, so an explanation is also an independent check of the model.

Children's data is sensitive: sentences name ids, grades, case types, skills and the
patch name only -- never other details of a case or of a child.

:func:`assignment_reasons`
    Short sentences for a placed case: pin, siblings, previous worker, area, and how
    the worker compares with the other eligible workers.
:func:`diagnose_unallocated`
    A code and one actionable sentence for a case left without a worker, found by
    checking, in order: the pin, who may hold it at all, who is available, who has
    room, who is under the intake limit.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from allocator.check import families_held, joined, new_families, points
from allocator.models import Case, Grade, Practitioner, Unallocated, UnallocatedCode
from allocator.objectives import loads_after, outside_area
from allocator.rules import ServiceState, availability_blocker, holding_blockers

#: How many workers a sentence names before saying "and N more".
NAMED = 5


@dataclass
class _PlanView:
    """What every sentence about one plan shares, computed once per plan."""

    load: dict[str, int]
    held: dict[str, frozenset[str]]
    new: dict[str, set[str]]
    screened: dict[tuple[object, ...], list[Practitioner]] = field(default_factory=dict)


# The plan is explained case by case (one call per case), and recomputing loads for
# each call is quadratic on a large service, so the last plan's view is kept.
# The state is held by reference (``is``), the placements by value (a copy).
_last: tuple[ServiceState, dict[str, str], _PlanView] | None = None


def _view(state: ServiceState, placed: Mapping[str, str]) -> _PlanView:
    """Loads, families held and new families once ``placed`` is applied (cached)."""
    global _last
    if _last is not None and _last[0] is state and _last[1] == placed:
        return _last[2]
    frozen = dict(placed)
    load, _ = loads_after(state, frozen)
    view = _PlanView(load=load, held=families_held(state), new=new_families(state, frozen))
    _last = (state, frozen, view)
    return view


# ---------------------------------------------------------------- assignment reasons


def assignment_reasons(
    state: ServiceState, placed: Mapping[str, str], case_id: str
) -> tuple[str, ...]:
    """The rules that made ``placed[case_id]`` the choice, as short sentences.

    Parameters
    ----------
    state
        The indexed snapshot and policy.
    placed
        Case id -> worker id for the cases of ``state.to_allocate`` the plan places.
    case_id
        A case of ``placed``.

    Returns
    -------
    tuple of str
        In order: why the case moved (its worker has left), the pin, siblings with the
        same worker, the child's previous worker, the area, and the worker among the
        eligible ones (``state.may_hold``, listed by ``state.eligible``): "only eligible
        worker", "most spare capacity among the 6 eligible workers (30.0 points)" or
        "one of 6 eligible workers; ends at 84% of capacity".

    Raises
    ------
    ValueError
        If ``case_id`` is not placed by the plan, or placed with an unknown worker.
    """
    if case_id not in placed:
        raise ValueError(f"{case_id} is not placed by this plan")
    case = state.cases[case_id]
    wid = placed[case_id]
    if wid not in state.practitioners:
        raise ValueError(f"{case_id} is placed with {wid}, who is not among the practitioners")
    reasons: list[str] = []
    moved = _why_moved(state, case, wid)
    if moved:
        reasons.append(moved)
    if case.pinned_worker == wid:
        reasons.append(f"pinned to {wid} by a manager")
    siblings = _siblings_with(state, placed, case_id, wid)
    if len(siblings) == 1:
        reasons.append(f"sibling {siblings[0]} is with {wid}")
    elif siblings:
        reasons.append(f"siblings {joined(siblings, NAMED)} are with {wid}")
    if wid in case.previous_workers:
        reasons.append("previous worker of this child")
    reasons.extend(_area_reasons(state, case, wid))
    reasons.extend(_choice_reasons(state, placed, case, wid))
    return tuple(reasons)


def _why_moved(state: ServiceState, case: Case, wid: str) -> str | None:
    """Why the case leaves its old worker, when it has one."""
    old = case.worker
    if old is None or old == wid:
        return None
    p = state.practitioners[old]
    blocker = availability_blocker(p, state.as_of, state.policy)
    if blocker is not None:  # "P0040 left on 2026-11-20", "... is absent until ..."
        return blocker
    if state.load_before[old] > state.capacity[old]:
        return (
            f"{old} was over capacity ({points(state.load_before[old])} of "
            f"{points(state.capacity[old])} points)"
        )
    return f"moved from {old}"


def _siblings_with(
    state: ServiceState, placed: Mapping[str, str], case_id: str, wid: str
) -> list[str]:
    """The case's siblings ``wid`` keeps from before or receives in this plan."""
    family = state.cases[case_id].family
    # A sibling held by ``wid`` stays with them unless ``wid`` has left (placed cases
    # never go to someone who has left, but a hand-made plan might try).
    kept = wid not in state.gone
    return [
        sid
        for sid in state.families[family]
        if sid != case_id and (placed.get(sid) == wid or (kept and state.cases[sid].worker == wid))
    ]


def _area_reasons(state: ServiceState, case: Case, wid: str) -> list[str]:
    """Whether the worker's patches include the child's (named by patch only)."""
    if case.area is None:
        return []
    if case.area in state.practitioners[wid].areas:
        return [f"covers the child's area ({case.area})"]
    if outside_area(state, case.id, wid):
        return [f"outside {wid}'s patches (the child's area is {case.area})"]
    return []


def _choice_reasons(
    state: ServiceState, placed: Mapping[str, str], case: Case, wid: str
) -> list[str]:
    """How ``wid`` compares with the other workers who may hold the case."""
    eligible = state.eligible(case.id)  # the workers state.may_hold admits
    if wid not in eligible:
        # Only a hand-made plan gets here; check_plan names the broken rule.
        return [f"{wid} would not normally be eligible: " + "; ".join(_why_not(state, case, wid))]
    if case.pinned_worker == wid:
        return []  # the pin is the reason; nobody else is eligible by definition
    if len(eligible) == 1:
        if case.needs:
            skilled = [p.id for p in _staff(state) if _has_needs(case, p)]
            if skilled == [wid]:
                return [f"only worker with {' + '.join(case.needs)}"]
        return ["only eligible worker"]
    caps, before = state.capacity, state.load_before
    spare = caps[wid] - before[wid]
    if spare >= max(caps[pid] - before[pid] for pid in eligible):
        return [
            f"most spare capacity among the {len(eligible)} eligible workers "
            f"({points(spare)} points)"
        ]
    load, cap = _view(state, placed).load[wid], caps[wid]
    ends = f"; ends at {round(100 * load / cap)}% of capacity" if cap > 0 else ""
    return [f"one of {len(eligible)} eligible workers{ends}"]


def _why_not(state: ServiceState, case: Case, wid: str) -> list[str]:
    """Every static rule that stops ``wid`` taking ``case`` today."""
    p = state.practitioners[wid]
    why = list(holding_blockers(case, p, state.policy))
    blocker = availability_blocker(p, state.as_of, state.policy)
    if blocker is not None:
        why.append(blocker)
    spare = state.capacity[wid] - state.load_before[wid]
    if state.weight[case.id] > spare:
        why.append(
            f"{wid} had {points(spare)} points spare and the case needs "
            f"{points(state.weight[case.id])}"
        )
    return why or ["no rule recorded"]


# ------------------------------------------------------------- unallocated diagnosis


def diagnose_unallocated(
    state: ServiceState, placed: Mapping[str, str], case_id: str
) -> Unallocated:
    """Why ``case_id`` ends the plan without a worker: a code and one sentence.

    Checks in order, the first that explains it wins:

    1. pinned, and the pinned worker cannot hold it (grade, skills, exclusion,
       availability, capacity) -> ``pinned_worker_cannot_hold``;
    2. nobody passes the holding rules -> ``no_eligible_worker``, naming the
       requirement nobody meets;
    3. everyone who may hold it is absent or leaving -> ``eligible_unavailable``;
    4. nobody available has room once ``placed`` is applied -> ``no_capacity``;
    5. everyone with room is at the intake limit -> ``intake_limit``;
    6. otherwise somebody could have taken it and the search stopped early ->
       ``search_limit``.

    Parameters
    ----------
    state
        The indexed snapshot and policy.
    placed
        Case id -> worker id for the cases of ``state.to_allocate`` the plan places.
    case_id
        A case the plan leaves without a worker.

    Returns
    -------
    Unallocated

    Raises
    ------
    ValueError
        If the plan places ``case_id``.
    """
    if case_id in placed:
        raise ValueError(f"{case_id} is placed with {placed[case_id]} by this plan")
    case = state.cases[case_id]
    view = _view(state, placed)
    load = view.load

    def result(code: UnallocatedCode, reason: str) -> Unallocated:
        return Unallocated(case=case_id, code=code, reason=reason)

    if case.pinned_worker is not None:
        pinned = _pin_problem(state, load, case, case.pinned_worker)
        if pinned:
            return result(UnallocatedCode.PINNED_WORKER_CANNOT_HOLD, pinned)

    eligible = _may_hold_ignoring_availability(state, view, case)
    if not eligible:
        reason = _nobody_eligible(state, case, _staff(state))
        return result(UnallocatedCode.NO_ELIGIBLE_WORKER, reason)

    available = [p for p in eligible if availability_blocker(p, state.as_of, state.policy) is None]
    if not available:
        return result(UnallocatedCode.ELIGIBLE_UNAVAILABLE, _all_unavailable(state, eligible))

    weight = state.weight[case_id]
    spare = {p.id: state.capacity[p.id] - load[p.id] for p in available}
    with_room = [p.id for p in available if weight <= spare[p.id]]
    if not with_room:
        return result(UnallocatedCode.NO_CAPACITY, _no_room(weight, spare))

    limit = state.policy.max_new_families_per_day
    held, new = view.held, view.new
    open_intake = [
        wid
        for wid in with_room
        if case.family in held.get(wid, ())
        or case.family in new.get(wid, ())
        or len(new.get(wid, ())) < limit
    ]
    if not open_intake:
        one = len(with_room) == 1
        families = "family" if limit == 1 else "families"
        return result(
            UnallocatedCode.INTAKE_LIMIT,
            f"{joined(with_room, NAMED)} {'has' if one else 'have'} room but "
            f"{'is' if one else 'each is'} at the limit of {limit} new {families} in one run; "
            "allocate it in the next run or raise max_new_families_per_day",
        )
    had = "had" if len(open_intake) == 1 else "each had"
    return result(
        UnallocatedCode.SEARCH_LIMIT,
        f"{joined(open_intake, NAMED)} {had} room but the search stopped before placing it; "
        "rerun with a longer --time-limit",
    )


def _staff(state: ServiceState) -> list[Practitioner]:
    """Practitioners who have not left, in snapshot order."""
    return [p for pid, p in state.practitioners.items() if pid not in state.gone]


def _may_hold_ignoring_availability(
    state: ServiceState, view: _PlanView, case: Case
) -> list[Practitioner]:
    """Staff who pass :func:`holding_blockers` for ``case``: grade, needs, exclusion, pin.

    Grade and needs are screened once per (type, complexity, needs) for the plan.
    """
    key = (case.type, case.complexity, case.needs)
    screened = view.screened.get(key)
    if screened is None:
        probe = case.model_copy(update={"excluded_workers": (), "pinned_worker": None})
        screened = [p for p in _staff(state) if not holding_blockers(probe, p, state.policy)]
        view.screened[key] = screened
    return [
        p
        for p in screened
        if p.id not in case.excluded_workers
        and (case.pinned_worker is None or case.pinned_worker == p.id)
    ]


def _has_needs(case: Case, p: Practitioner) -> bool:
    return all(n in p.skills for n in case.needs)


def _grade_allows(state: ServiceState, case: Case, grade: Grade) -> bool:
    rule = state.policy.grades[grade]
    return case.complexity <= rule.max_complexity and case.type not in rule.excluded_types


def _pin_problem(state: ServiceState, load: Mapping[str, int], case: Case, pin: str) -> str | None:
    """Why the pinned worker cannot hold the case given the plan, or ``None``."""
    p = state.practitioners[pin]
    # The exclusion gets its own sentence below, so leave it out of the list.
    unexcluded = case.model_copy(update={"excluded_workers": ()})
    why = holding_blockers(unexcluded, p, state.policy)
    blocker = availability_blocker(p, state.as_of, state.policy)
    if blocker is not None:
        why.append(blocker)
    cap, weight = state.capacity[pin], state.weight[case.id]
    if state.load_before[pin] > cap:
        why.append(
            f"{pin} is over capacity ({points(state.load_before[pin])} of {points(cap)} points)"
        )
    elif load[pin] + weight > cap:
        why.append(
            f"{pin} has {points(cap - load[pin])} points spare and the case needs {points(weight)}"
        )
    excluded = pin in case.excluded_workers
    if excluded:
        collide = f"rules collide: pinned to {pin} but {pin} is in excluded_workers"
        also = f" (and {'; '.join(why)})" if why else ""
        return f"{collide}{also}; a manager must change the pin or the exclusion"
    if why:
        return (
            f"pinned to {pin} by a manager but {pin} cannot hold it: {'; '.join(why)}; "
            "a manager must change the pin"
        )
    return None


def _nobody_eligible(state: ServiceState, case: Case, staff: Sequence[Practitioner]) -> str:
    """Which requirement nobody meets: grade, skills, both together, or exclusions."""
    work = f"complexity {case.complexity} {case.type.value.replace('_', ' ')} work"
    allowed = [g for g in Grade if _grade_allows(state, case, g)]
    grades = " or ".join(g.value for g in allowed)
    graded = [p for p in staff if p.grade in allowed]
    skilled = [p for p in staff if _has_needs(case, p)]
    parts: list[str] = []
    if not allowed:
        parts.append(f"no grade may hold {work} under this policy")
    elif not graded:
        parts.append(f"{work} needs a {grades}; there are none")
    if case.needs and not skilled:
        parts.append(_needs_sentence(case, staff))
    if not parts:
        both = [p for p in graded if _has_needs(case, p)]
        if not both:
            needs = " and ".join(case.needs)
            parts.append(
                f"{work} needs a {grades} with {needs}: {_count(len(graded), 'is', 'are')} "
                f"of that grade and {_count(len(skilled), 'has', 'have')} {needs}, none both"
            )
        else:
            ids = joined([p.id for p in both], NAMED)
            verb = "is" if len(both) == 1 else "are"
            parts.append(
                f"exclusions leave nobody: {ids} could hold it but {verb} in excluded_workers"
            )
    return f"no worker may hold it: {'; '.join(parts)}; a manager must arrange cover"


def _count(n: int, one: str, many: str) -> str:
    """``"1 is"``, ``"3 are"``: a number with its verb."""
    return f"{n} {one if n == 1 else many}"


def _needs_sentence(case: Case, staff: Sequence[Practitioner]) -> str:
    """``"needs welsh and court: 3 workers have welsh, 5 have court, none both"``."""
    needs = case.needs
    if len(needs) == 1:
        return f"needs {needs[0]}: no worker has it"
    counts = [sum(1 for p in staff if n in p.skills) for n in needs]
    said = [f"{_count(c, 'has', 'have')} {n}" for c, n in zip(counts, needs, strict=True)]
    said[0] = f"{_count(counts[0], 'worker has', 'workers have')} {needs[0]}"
    listed = ", ".join(said)
    none = "none both" if len(needs) == 2 else "none all of them"
    return f"needs {' and '.join(needs)}: {listed}, {none}"


def _all_unavailable(state: ServiceState, eligible: Sequence[Practitioner]) -> str:
    """Everyone who may hold it, soonest back first, with when they return or leave."""

    def soonest(p: Practitioner) -> tuple[int, str, str]:
        if p.available_from is not None and p.available_from > state.as_of:
            return (0, p.available_from.isoformat(), p.id)
        return (1, (p.leaving_on.isoformat() if p.leaving_on else ""), p.id)

    ordered = sorted(eligible, key=soonest)
    blockers = [availability_blocker(p, state.as_of, state.policy) or p.id for p in ordered]
    n = len(eligible)
    who = "the only worker who may hold it is" if n == 1 else f"all {n} workers who may hold it are"
    return (
        f"{who} unavailable: {joined(blockers, NAMED)}; allocate it when one is back or "
        "arrange cover"
    )


def _no_room(weight: int, spare: Mapping[str, int]) -> str:
    """Who may hold it, their spare points after the plan, and how short the best is."""
    ordered = sorted(spare, key=lambda wid: (-spare[wid], wid))
    shown = [
        f"{wid} {points(abs(spare[wid]))} {'spare' if spare[wid] >= 0 else 'over'}"
        for wid in ordered
    ]
    best = ordered[0]
    short = f"{best} is {points(weight - spare[best])} points short"
    if len(ordered) == 1:
        who = f"{best}, the only eligible worker, has no room after this plan ({shown[0]})"
    else:
        who = (
            f"none of the {len(ordered)} eligible workers has room after this plan: "
            f"{joined(shown, NAMED)}"
        )
    return f"needs {points(weight)} points but {who}; {short}; free capacity or raise a cap"
