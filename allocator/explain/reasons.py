"""Why each case went where it did, and why a case went nowhere -- from the plan alone.

Every sentence is recomputed in plain Python from the snapshot, the policy and the
plan's placements (``placed``: case id -> worker id for the cases of
:attr:`allocator.domain.rules.ServiceState.to_allocate` the plan gives a worker), never from
solver variables, so an explanation is also an independent check of the model.

Children's data is sensitive: sentences name ids, grades, case types, skills and the
patch name only -- never other details of a case or of a child.

:func:`assignment_reasons`
    Short sentences for a placed case: pin, siblings, previous worker, area, and how
    the worker compares with the other eligible workers.
:func:`diagnose_unallocated`
    A code and one actionable sentence for a case left without a worker, found by
    checking, in order: the pin, who may hold it at all, who is available, who has
    room, who is under the intake limit. Where hard rules collide (a pin against the
    pinned worker's grade, the only skilled worker excluded ...) the sentence names
    them by their :data:`allocator.explain.check.RULES` ids.
:class:`PlanView`
    The loads and new families of one plan, built once and shared by every sentence
    about it.
:func:`worker_blockers`, :func:`colliding_rules`
    Every hard rule (by rule id) that stops one worker taking a case, before the
    plan or once it is applied; and the rules that together leave a case nobody.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from functools import cached_property
from typing import NamedTuple

from allocator.contract.faults import with_article
from allocator.contract.models import Case, Grade, Practitioner, Unallocated, UnallocatedCode
from allocator.contract.policy import Policy
from allocator.contract.units import percent
from allocator.domain.objectives import Placements, loads_after, outcome_of, outside_area
from allocator.domain.rules import (
    AVAILABILITY,
    AVAILABILITY_RULES,
    CAPACITY,
    GRADE,
    INTAKE_LIMIT,
    PINNED_WORKER,
    RULE_IDS,
    Room,
    Rule,
    ServiceState,
    barring_rules,
    counted,
    covers_area,
    grade_blockers,
    holding_rules,
    joined,
    kind_of,
    kind_probe,
    kind_rules,
    label_text,
    missing_needs,
    normalised,
    points,
    room_kept_clause,
    taking_blockers,
)

#: How many workers a sentence names before saying "and N more".
NAMED = 5


@dataclass
class PlanView:
    """What every sentence about one plan shares, computed once per (state, placements).

    Build it with :meth:`of` and pass it to :func:`assignment_reasons` and
    :func:`diagnose_unallocated` (keyword ``view``), or call :meth:`reasons` and
    :meth:`diagnose`. Explaining a whole plan case by case then costs one pass over
    the service, not one per case.

    Attributes
    ----------
    state
        The indexed snapshot and policy.
    placed
        A private copy of the placements (case id -> worker id) the view describes.
    load, count
        Each worker's load (centi-points) and case count once ``placed`` is applied.
    held
        Per worker, the families they held a child of in the snapshot.
    new
        Per worker, the families ``placed`` makes new to them.
    max_moves
        The most changes of worker the plan was allowed (``rebalance --max-moves``),
        or ``None``: a child the limit stopped is diagnosed as such.
    outcome
        The plan's outcome the view reads ``load``, ``count``, ``held`` and ``new``
        from (:class:`allocator.domain.objectives.Placements`), shared with the tiers.
    screened
        Per kind of case (type, complexity, needs), the staff grade and skills allow;
        filled as sentences need it.
    """

    state: ServiceState
    placed: dict[str, str]
    load: dict[str, int]
    count: dict[str, int]
    held: dict[str, frozenset[str]]
    new: dict[str, set[str]]
    max_moves: int | None = None
    outcome: Placements | None = field(default=None, repr=False)
    screened: dict[tuple[object, ...], list[Practitioner]] = field(default_factory=dict, repr=False)

    @classmethod
    def of(
        cls,
        state: ServiceState,
        placed: Mapping[str, str],
        max_moves: int | None = None,
        *,
        outcome: Placements | None = None,
    ) -> PlanView:
        """Index the placements ``placed`` (copied) over ``state``.

        ``max_moves``: the plan's limit on changes of worker, if it had one.
        ``outcome``: the placements' outcome if the caller has one (its ``placed``
        must equal ``placed``), else one is made.
        """
        frozen = dict(placed)
        on = outcome if outcome is not None else outcome_of(state, frozen)
        return cls(
            state=state,
            placed=frozen,
            load=on.load,
            count=on.count,
            held=on.held,
            new=on.new,
            max_moves=max_moves,
            outcome=on,
        )

    def room(self, worker_id: str) -> Room:
        """Where ``worker_id`` stands once the placements are applied."""
        return Room(
            load=self.load[worker_id],
            held=self.held.get(worker_id, frozenset()),
            new=self.new.get(worker_id, set()),
        )

    @cached_property
    def unavailable(self) -> dict[str, Blocker]:
        """Worker -> the availability rule stopping them taking any case today
        (:func:`availability_rule`), for each worker it stops."""
        return {w: b for w in self.state.practitioners if (b := availability_rule(self.state, w))}

    @cached_property
    def changes(self) -> int:
        """Changes of worker the placements make (placed cases that had a worker)."""
        return sum(1 for c in self.placed if self.state.cases[c].worker is not None)

    def reasons(self, case_id: str) -> tuple[str, ...]:
        """:func:`assignment_reasons` for ``case_id`` under this view's placements."""
        return _assignment_reasons(self.state, self.placed, case_id, lambda: self)

    def diagnose(self, case_id: str) -> Unallocated:
        """:func:`diagnose_unallocated` for ``case_id`` under this view's placements."""
        return _diagnose(self.state, self.placed, case_id, self)

    def matches(self, state: ServiceState, placed: Mapping[str, str], case_id: str) -> bool:
        """Cheap test that the view was built for ``state`` and for ``placed``.

        The state must be the same object; the placements must have as many entries
        and agree on ``case_id`` (a full comparison per call would make explaining a
        plan quadratic).
        """
        return (
            self.state is state
            and len(self.placed) == len(placed)
            and self.placed.get(case_id) == placed.get(case_id)
        )


def _checked(
    view: PlanView | None, state: ServiceState, placed: Mapping[str, str], case_id: str
) -> PlanView | None:
    if view is not None and not view.matches(state, placed, case_id):
        raise ValueError("the view was built for another state or other placements")
    return view


# ---------------------------------------------------------------- assignment reasons


def assignment_reasons(
    state: ServiceState,
    placed: Mapping[str, str],
    case_id: str,
    *,
    view: PlanView | None = None,
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
    view
        Optional :class:`PlanView` of ``(state, placed)``, shared across calls.

    Returns
    -------
    tuple of str
        In order: why the case moved (its worker has left), the pin, siblings with the
        same worker, the child's previous worker, the area where the worker covers
        it, the worker among the eligible ones (``state.may_hold``, listed by
        ``state.eligible``): "the only worker the rules allow with room for it",
        "most spare capacity among the 6 eligible workers (30.0 points)" or "one of 6
        eligible workers; ends at 84% of capacity"; last, the area where the child is
        outside the worker's patches.

    Raises
    ------
    ValueError
        If ``case_id`` is not placed by the plan, or placed with an unknown worker.
    """
    given = _checked(view, state, placed, case_id)
    return _assignment_reasons(state, placed, case_id, lambda: given or PlanView.of(state, placed))


def _assignment_reasons(
    state: ServiceState,
    placed: Mapping[str, str],
    case_id: str,
    view: Callable[[], PlanView],
) -> tuple[str, ...]:
    """:func:`assignment_reasons`; ``view`` is only built when a sentence needs loads."""
    if case_id not in placed:
        raise ValueError(f"{case_id} is not placed by this plan")
    case = state.cases[case_id]
    wid = placed[case_id]
    if wid not in state.practitioners:
        raise ValueError(f"{case_id} is placed with {wid}, who is not among the practitioners")
    reasons: list[str] = []
    moved = _why_moved(state, placed, case, wid)
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
    # The area is a reason where the worker covers it; where the child is outside
    # their patches it is a cost the choice accepted, said last, so that the first
    # reason a manager reads says why this worker (a fresh user read "outside P0010's
    # patches" as the reason a child who had waited 41 days went to P0010).
    covered = case.area is not None and covers_area(state.practitioners[wid], case.area)
    if covered:
        reasons.extend(area_reasons(state, case, wid))
    reasons.extend(_choice_reasons(state, placed, view, case, wid))
    if not covered:
        reasons.extend(area_reasons(state, case, wid))
    return tuple(reasons)


def _why_moved(state: ServiceState, placed: Mapping[str, str], case: Case, wid: str) -> str | None:
    """Why the case leaves its old worker, when it has one.

    A case moved off a worker who is present, staying and within their cap was moved
    to make room for the cases the same plan gives that worker (``--allow-moves``).
    """
    old = case.worker
    if old is None or old == wid:
        return None
    p = state.practitioners[old]
    if old not in state.gone and case.id in state.needs:
        return state.needs[case.id]  # "P0040 may no longer hold it: ..."
    unavailable = availability_rule(state, old)
    if unavailable is not None:  # "P0040 left on 2026-11-20", "... is absent until ..."
        blocker = unavailable.message
        long = state.as_of + timedelta(days=state.policy.long_absence_days)
        if old not in state.gone and p.available_from is not None and p.available_from >= long:
            return f"{blocker}: cover for the absence"
        return blocker
    if state.load_before[old] > state.capacity[old]:
        return (
            f"{old} was over capacity ({points(state.load_before[old])} of "
            f"{points(state.capacity[old])} points)"
        )
    arrivals = sorted(
        (c for c, w in placed.items() if w == old and c != case.id),
        key=lambda c: (not state.is_urgent(c), c),
    )
    if not arrivals:
        return f"moved from {old}"
    # Name the arrivals that could not fit in the room ``old`` had before the plan;
    # if each could, it is all of them together that needed the room.
    spare = state.spare_before(old)
    needed = [c for c in arrivals if state.weight[c] > spare] or arrivals
    made_for = joined([_case_label(state, c) for c in needed], NAMED)
    if len(needed) > 1 and needed is arrivals:
        made_for = f"the cases {old} takes in this plan: {made_for}"
    return f"moved from {old} to make room for {made_for}"


def _case_label(state: ServiceState, case_id: str) -> str:
    """``"urgent R0012 (court)"``, ``"C0003 (child in need)"``: id, priority and type."""
    case = state.cases[case_id]
    urgent = "urgent " if state.is_urgent(case_id) else ""
    return f"{urgent}{case_id} ({case.type.value.replace('_', ' ')})"


def _moved_off(state: ServiceState, placed: Mapping[str, str], wid: str) -> list[str]:
    """Cases ``wid`` held that the plan moves to another worker (``wid`` has not left)."""
    return sorted(
        c
        for c, w in placed.items()
        if w != wid and state.cases[c].worker == wid and wid not in state.gone
    )


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
        if sid != case_id
        and (
            placed.get(sid) == wid
            or (kept and state.cases[sid].worker == wid and sid not in placed)
        )
    ]


def area_reasons(state: ServiceState, case: Case, wid: str) -> list[str]:
    """Whether the worker's patches include the child's (named by patch only)."""
    if case.area is None:
        return []
    area = label_text(case.area)
    if covers_area(state.practitioners[wid], case.area):
        return [f"covers the child's area ({area})"]
    if outside_area(state, case.id, wid):
        return [f"outside {wid}'s patches (the child's area is {area})"]
    return []


def _only_skilled(state: ServiceState, case: Case, wid: str) -> list[str]:
    """``["only worker with welsh + court"]`` where ``wid`` is the one worker on the staff
    with every need of the case, else nothing."""
    if case.needs and [p.id for p in _staff(state) if _has_needs(case, p)] == [wid]:
        return [f"only worker with {' + '.join(map(label_text, case.needs))}"]
    return []


def _choice_reasons(
    state: ServiceState,
    placed: Mapping[str, str],
    view: Callable[[], PlanView],
    case: Case,
    wid: str,
) -> list[str]:
    """How ``wid`` compares with the other workers who may hold the case."""
    eligible = state.eligible(case.id)  # the workers state.may_hold admits
    if wid not in eligible:
        why = _why_not(state, case, wid)
        off = _moved_off(state, placed, wid)
        if off and _only_room(state, case, wid):
            # --allow-moves: the room was made by moving cases off ``wid``.
            moves = joined([f"{c} to {placed[c]}" for c in off], NAMED)
            return [*_only_skilled(state, case, wid), f"{why[0]}; moving {moves} made room"]
        # Only a hand-made plan gets here; check_plan names the broken rule.
        return [f"{wid} would not normally be eligible: " + "; ".join(why)]
    if case.pinned_worker == wid:
        return []  # the pin is the reason; nobody else is eligible by definition
    if len(eligible) == 1:
        return _only_skilled(state, case, wid) or [
            "the only worker the rules allow with room for it"
        ]
    spare = state.spare_before(wid)
    if spare >= max(state.spare_before(pid) for pid in eligible):
        return [
            f"most spare capacity among the {len(eligible)} eligible workers "
            f"({points(spare)} points)"
        ]
    load, cap = view().load[wid], state.capacity[wid]
    ends = f"; ends at {percent(load, cap)} of capacity" if cap > 0 else ""
    return [f"one of {len(eligible)} eligible workers{ends}"]


def _static_rules(state: ServiceState, case: Case, wid: str) -> list[tuple[str, str]]:
    """Every rule that stops ``wid`` taking ``case`` before the plan, the intake aside."""
    before = Room(load=state.load_kept[wid])
    return [
        (rule, sentence)
        for rule, sentence in taking_blockers(state, case, wid, before)
        if rule != INTAKE_LIMIT.id
    ]


def _only_room(state: ServiceState, case: Case, wid: str) -> bool:
    """Whether room before the plan is the only static rule stopping ``wid``."""
    return state.load_before[wid] <= state.capacity[wid] and all(
        rule == CAPACITY.id for rule, _ in _static_rules(state, case, wid)
    )


def _why_not(state: ServiceState, case: Case, wid: str) -> list[str]:
    """Every static rule that stops ``wid`` taking ``case`` today."""
    return [sentence for _, sentence in _static_rules(state, case, wid)] or ["no rule recorded"]


# ------------------------------------------------------------- unallocated diagnosis


def diagnose_unallocated(
    state: ServiceState,
    placed: Mapping[str, str],
    case_id: str,
    *,
    view: PlanView | None = None,
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
    view
        Optional :class:`PlanView` of ``(state, placed)``, shared across calls.

    Returns
    -------
    Unallocated

    Raises
    ------
    ValueError
        If the plan places ``case_id``.
    """
    given = _checked(view, state, placed, case_id)
    return _diagnose(state, placed, case_id, given or PlanView.of(state, placed))


def _diagnose(
    state: ServiceState, placed: Mapping[str, str], case_id: str, view: PlanView
) -> Unallocated:
    """:func:`diagnose_unallocated` with the plan's view at hand."""
    if case_id in placed:
        raise ValueError(f"{case_id} is placed with {placed[case_id]} by this plan")
    case = state.cases[case_id]
    load = view.load
    # A case taken off a present worker who may no longer hold it says so first.
    taken_off = (
        f"{state.needs[case_id]}, so it leaves {case.worker}; "
        if case.worker is not None and case.worker not in state.gone and case_id in state.needs
        else ""
    )

    def result(code: UnallocatedCode, reason: str) -> Unallocated:
        return Unallocated(
            case=case_id,
            code=code,
            reason=taken_off + reason,
            days_waiting=state.days_waiting.get(case_id),
        )

    if case.pinned_worker is not None:
        pinned = _pin_problem(state, load, case, case.pinned_worker)
        if pinned:
            return result(_code(PINNED_WORKER), pinned)

    eligible = _may_hold_ignoring_availability(state, view, case)
    if not eligible:
        reason = _nobody_eligible(state, case, _staff(state))
        return result(_code(GRADE), reason)

    available = [p for p in eligible if p.id not in view.unavailable]
    if not available:
        return result(_code(AVAILABILITY), _all_unavailable(state, eligible))

    weight = state.weight[case_id]
    largest = max(available, key=lambda p: (state.capacity[p.id], p.id))
    if weight > state.capacity[largest.id]:
        return result(_code(CAPACITY), _above_every_cap(state, weight, largest))
    with_room, held, kept = kept_off(state, case_id, [p.id for p in available], load)
    if not with_room:
        spare = {p.id: state.capacity[p.id] - load[p.id] for p in available}
        return result(_code(CAPACITY), _no_room(weight, spare))
    if len(held) == len(with_room):
        return result(_code(CAPACITY), _room_held(state, held))
    with_room = [w for w in with_room if w not in held]
    kept = {w: k for w, k in kept.items() if w not in held}
    if len(kept) == len(with_room):
        return result(
            _code(CAPACITY),
            f"the only room is kept for a higher class: {room_kept_clause(state, kept, placed)}; "
            "this class may have it once no child of a higher class who may go there has "
            "waited a day",
        )
    with_room = [w for w in with_room if w not in kept]

    limit = state.policy.max_new_families_per_day
    open_intake = [
        wid for wid in with_room if INTAKE_LIMIT.blocks(state, case, wid, view.room(wid)) is None
    ]
    if not open_intake:
        one = len(with_room) == 1
        families = "family" if limit == 1 else "families"
        # At a limit of 0 no run gives anybody a new family: the next run would not help.
        action = (
            "the policy lets no worker take a new family: raise max_new_families_per_day"
            if limit == 0
            else "allocate it in the next run or raise max_new_families_per_day"
        )
        return result(
            _code(INTAKE_LIMIT),
            f"{joined(with_room, NAMED)} {'has' if one else 'have'} room but "
            f"{'is' if one else 'each is'} at the limit of {limit} new {families} in one run; "
            f"{action}",
        )
    if view.max_moves is not None and case.worker is not None:
        # The child moves with its siblings leaving the same worker: one change each.
        together = [
            sid
            for sid in state.families[case.family]
            if sid not in placed and sid in state.needs and state.cases[sid].worker == case.worker
        ]
        if view.changes + len(together) > view.max_moves:
            return result(
                UnallocatedCode.SEARCH_LIMIT,
                f"the limit of {counted(view.max_moves, 'change')} of worker (--max-moves) was "
                "reached; "
                "raise it to place this child",
            )
    had = "had" if len(open_intake) == 1 else "each had"
    return result(
        UnallocatedCode.SEARCH_LIMIT,
        f"{joined(open_intake, NAMED)} {had}{_SEARCH_STOPPED}; rerun with a longer --time-limit",
    )


#: The words after the workers in a ``search_limit`` diagnosis where somebody had room.
_SEARCH_STOPPED = " room but the search stopped before placing it"


def had_room(said: Unallocated) -> str | None:
    """Who had room for the child of ``said`` where its diagnosis is that the search
    stopped before placing it ("P1 had", "P1 and P2 each had"); ``None`` for any other
    diagnosis (the move limit's ``search_limit`` included). A caller that knows more
    than the diagnosis (a rebalance moves a family as one) says it after these words."""
    if said.code != UnallocatedCode.SEARCH_LIMIT or _SEARCH_STOPPED not in said.reason:
        return None
    return said.reason.split(_SEARCH_STOPPED, 1)[0]


def longest_wait_note(state: ServiceState, placed: Mapping[str, str]) -> list[str]:
    """One plan note: per priority class, the child left waiting longest after the plan
    and their days waited (docs/FORMAT.md "Waiting"); none when nobody waits."""
    longest: dict[int, tuple[int, str]] = {}
    for cid, days in state.days_waiting.items():
        if cid in placed:
            continue
        klass = state.priority_class[cid]
        if klass not in longest or (-days, cid) < (-longest[klass][0], longest[klass][1]):
            longest[klass] = (days, cid)
    if not longest:
        return []
    names = state.policy.class_names
    parts = [
        f"{names[k].replace('_', ' ')} {cid} ({counted(waited, 'day')})"
        for k, (waited, cid) in sorted(longest.items())
    ]
    return ["longest waits without a worker after this plan, by class: " + "; ".join(parts)]


def held_room_notes(state: ServiceState, placed: Mapping[str, str]) -> list[str]:
    """One plan note per worker whose room stays held for a long-waiting child who is
    still without a worker after the plan (:attr:`ServiceState.held_for`)."""
    return [
        f"{w}'s room is held for {h}, who has waited "
        f"{counted(state.days_waiting[h], 'day')} and needs "
        f"{points(state.weight[h])} points ({points(state.weight[h] - state.spare_before(w))} "
        f"more than {w} has free): {w} takes no other child of that class or below until "
        "then (policy waiting.reserve_after_days)"
        for w, h in sorted(state.held_for.items())
        if h not in placed
    ]


def kept_off(
    state: ServiceState, case_id: str, workers: Iterable[str], load: Mapping[str, int]
) -> tuple[list[str], dict[str, str], dict[str, str]]:
    """Of ``workers``, those with room for ``case_id`` under ``load`` (centi-points: a
    plan's loads), in the order given; and of them, those held room keeps the case off
    (worker -> the child it is held for, :meth:`ServiceState.held_from`) and those kept
    room keeps it off (worker -> the child it is kept for,
    :meth:`ServiceState.room_kept_from`). The one reading of the engine's devices a
    reason, a note and ``explain`` give."""
    weight = state.weight[case_id]
    with_room = [w for w in workers if weight <= state.capacity[w] - load[w]]
    held = {w: h for w in with_room if (h := state.held_from(w, case_id)) is not None}
    kept = {w: k for w in with_room if (k := state.room_kept_from(w, case_id)) is not None}
    return with_room, held, kept


def room_kept_notes(state: ServiceState, placed: Mapping[str, str]) -> list[str]:
    """One plan note naming the children of the last class the plan leaves without a
    worker whose only room before the plan was kept for a higher class
    (:meth:`ServiceState.room_kept_from`): what keeping it cost this morning."""
    if not state.room_kept:
        return []
    load, _ = loads_after(state, placed)
    off = []
    for cid in state.to_allocate:
        if cid in placed:
            continue
        with_room, _, kept = kept_off(state, cid, state.allowed(cid), load)
        if with_room and len(kept) == len(with_room):
            off.append(cid)
    if not off:
        return []
    share = percent(state.policy.waiting.room_kept_share * 100, 100)
    name = state.policy.class_names[-1].replace("_", " ")
    return [
        f"{counted(len(off), 'child', 'children')} of class {name} "
        f"({joined(off, NAMED)}) had room only in the last {share} of caps, kept for "
        "higher classes while their children waited (policy waiting.room_kept_share); each "
        "reason says whose"
    ]


def _room_held(state: ServiceState, held: Mapping[str, str]) -> str:
    """The sentence for a child whose only room is held for children waiting longer."""
    parts = [
        f"{w}'s for {h} ({points(state.weight[h])} points, waiting "
        f"{counted(state.days_waiting[h], 'day')})"
        for w, h in sorted(held.items())
    ]
    return (
        f"the only room is held for children who have waited longer: {'; '.join(parts)} "
        "(policy waiting.reserve_after_days); it goes to them once it is enough"
    )


def _code(rule: Rule) -> UnallocatedCode:
    """The unallocated code of a registered rule on a (case, worker) pair."""
    assert rule.code is not None, rule.id
    return rule.code


def _staff(state: ServiceState) -> list[Practitioner]:
    """Practitioners who have not left, in snapshot order."""
    return [p for pid, p in state.practitioners.items() if pid not in state.gone]


def _may_hold_ignoring_availability(
    state: ServiceState, view: PlanView, case: Case
) -> list[Practitioner]:
    """Staff who pass the holding rules for ``case``: grade, needs, exclusion, pin.

    The rules on the kind of case (grade, needs) are screened once per kind for the
    plan (:data:`allocator.domain.rules.KIND_RULES`), the others case by case.
    """
    key = kind_of(case)
    screened = view.screened.get(key)
    if screened is None:
        probe = kind_probe(case)
        screened = [p for p in _staff(state) if not kind_rules(probe, p, state.policy)]
        view.screened[key] = screened
    rules = barring_rules(case)
    if not rules:
        return list(screened)
    return [p for p in screened if not any(r.broken(case, p, state.policy) for r in rules)]


def _has_needs(case: Case, p: Practitioner) -> bool:
    return not missing_needs(case, p)


def _grade_allows(state: ServiceState, case: Case, grade: Grade) -> bool:
    return not grade_blockers(case, grade, state.policy)


def _pin_problem(state: ServiceState, load: Mapping[str, int], case: Case, pin: str) -> str | None:
    """Why the pinned worker cannot hold the case given the plan, or ``None``."""
    # The exclusion gets its own sentence below, so leave it out of the list; the
    # intake limit does not stop a pinned case (the pin is the manager's choice).
    unexcluded = case.model_copy(update={"excluded_workers": ()})
    broken = [
        (rule, sentence)
        for rule, sentence in taking_blockers(state, unexcluded, pin, Room(load=load[pin]))
        if rule != INTAKE_LIMIT.id
    ]
    why = [sentence for _, sentence in broken]
    excluded = pin in case.excluded_workers
    if excluded:
        collide = f"rules collide: pinned to {pin} but {pin} is in excluded_workers"
        also = f" (and {'; '.join(why)})" if why else ""
        return f"{collide}{also}; a manager must change the pin or the exclusion"
    if why:
        rules = _ordered({rule for rule, _ in broken})
        return (
            f"pinned to {pin} by a manager but {pin} cannot hold it: {'; '.join(why)}; "
            f"rules collide: {joined(['pinned_worker', *rules])}; a manager must change the pin"
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
        parts.append(f"{work} needs {with_article(grades)}; there are none")
    if case.needs and not skilled:
        parts.append(_needs_sentence(case, staff))
    if not parts:
        both = [p for p in graded if _has_needs(case, p)]
        if not both:
            needs = " and ".join(map(label_text, case.needs))
            parts.append(
                f"{work} needs {with_article(grades)} with {needs}: "
                f"{_count(len(graded), 'is', 'are')} "
                f"of that grade and {_count(len(skilled), 'has', 'have')} {needs}, none both"
            )
        else:
            ids = joined([p.id for p in both], NAMED)
            verb = "is" if len(both) == 1 else "are"
            parts.append(
                f"exclusions leave nobody: {ids} could hold it but {verb} in excluded_workers"
            )
    collide = covering_rules([_holding_rule_ids(case, p, state.policy) for p in staff])
    if len(collide) > 1:
        parts.append(f"rules collide: {joined(collide)}")
    return f"no worker may hold it: {'; '.join(parts)}; a manager must arrange cover"


def _count(n: int, one: str, many: str) -> str:
    """``"1 is"``, ``"3 are"``: a number with its verb."""
    return f"{n} {one if n == 1 else many}"


def _needs_sentence(case: Case, staff: Sequence[Practitioner]) -> str:
    """``"needs welsh and court: 3 workers have welsh, 5 have court, none both"``."""
    if len(case.needs) == 1:
        return f"needs {label_text(case.needs[0])}: no worker has it"
    counts = [
        sum(1 for p in staff if normalised(n) in map(normalised, p.skills)) for n in case.needs
    ]
    needs = [label_text(n) for n in case.needs]
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
    blockers = [
        unavailable.message if (unavailable := availability_rule(state, p.id)) else p.id
        for p in ordered
    ]
    n = len(eligible)
    who = "the only worker who may hold it is" if n == 1 else f"all {n} workers who may hold it are"
    return (
        f"{who} unavailable: {joined(blockers, NAMED)}; allocate it when one is back or "
        "arrange cover"
    )


def _above_every_cap(state: ServiceState, weight: int, largest: Practitioner) -> str:
    """The case weighs more than the cap of every worker who may hold it."""
    cap = points(state.capacity[largest.id])
    return (
        f"needs {points(weight)} points, more than the cap of any worker who may hold it "
        f"(the largest: {largest.id}, {cap} points): no worker's cap can hold it, so "
        "freeing capacity cannot help; a manager must raise a cap or review the case's weight"
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


# ------------------------------------------------------- rules that stop a worker


class Blocker(NamedTuple):
    """One hard rule that stops a worker taking a case.

    Attributes
    ----------
    rule
        The rule's id, one of :data:`allocator.explain.check.RULES` (``grade``, ``skills``,
        ``excluded_worker``, ``pinned_worker``, ``gone_worker``, ``availability``,
        ``capacity``, ``intake_limit``).
    message
        What stops them, naming ids and numbers only.
    """

    rule: str
    message: str


def _holding_rule_ids(case: Case, p: Practitioner, policy: Policy) -> list[str]:
    """The rule id of each sentence :func:`allocator.domain.rules.holding_rules` gives, in order."""
    return [rule for rule, _ in holding_rules(case, p, policy)]


def tagged_holding_blockers(case: Case, p: Practitioner, policy: Policy) -> list[Blocker]:
    """:func:`allocator.domain.rules.holding_rules` as :class:`Blocker` values."""
    return [Blocker(rule, message) for rule, message in holding_rules(case, p, policy)]


def availability_rule(state: ServiceState, worker_id: str) -> Blocker | None:
    """The availability rule (``gone_worker`` or ``availability``) stopping a worker today."""
    for rule in AVAILABILITY_RULES:
        sentence = rule.unavailable(state, worker_id)
        if sentence is not None:
            return Blocker(rule.id, sentence)
    return None


def worker_blockers(
    state: ServiceState, case_id: str, worker_id: str, view: PlanView | None = None
) -> list[Blocker]:
    """Every hard rule that stops ``worker_id`` taking ``case_id``, with its rule id.

    Parameters
    ----------
    state
        The indexed snapshot and policy.
    case_id, worker_id
        The case and the worker.
    view
        A plan's :class:`PlanView`: capacity and the intake limit are then judged
        once its placements are applied (the case's own placement, if any, left
        out). Without it they are judged before any allocation, as
        :meth:`allocator.domain.rules.ServiceState.may_hold` does.

    Returns
    -------
    list of Blocker
        Empty when the worker may take the case. Holding rules first (grade, skills,
        exclusion, pin), then availability, capacity and the intake limit
        (:func:`allocator.domain.rules.taking_blockers`).
    """
    case = state.cases[case_id]
    view = view or PlanView.of(state, {})
    weight = state.weight[case_id]
    own = view.placed.get(case_id) == worker_id
    # The case's own placement is left out: the question is whether it could go there.
    room = view.room(worker_id)
    if own:
        room = Room(load=room.load - weight, held=room.held, new=())  # it was not new to them
    return [
        Blocker(rule, sentence)
        for rule, sentence in taking_blockers(state, case, worker_id, room)
        if not (own and rule == INTAKE_LIMIT.id)
    ]


def colliding_rules(
    state: ServiceState, case_id: str, view: PlanView | None = None
) -> tuple[str, ...]:
    """The hard rules that together leave ``case_id`` with nobody, by rule id.

    Each worker who has not left is judged with :func:`worker_blockers` (before the
    plan, or under ``view``). When somebody may take the case the answer is empty.
    Otherwise it is the rules each of which alone stands between the case and some
    worker (e.g. ``("skills", "excluded_worker")`` when the only skilled worker is
    excluded); if no rule stands alone like that, the rule that stops everyone, else
    every rule that stops anyone.

    Returns
    -------
    tuple of str
        Rule ids in the order of :data:`allocator.explain.check.RULES`; two or more means the
        rules collide.
    """
    view = view or PlanView.of(state, {})
    per_worker: list[list[str]] = []
    for wid in state.practitioners:
        if wid in state.gone:
            continue
        rules = [b.rule for b in worker_blockers(state, case_id, wid, view)]
        if not rules:
            return ()
        per_worker.append(rules)
    return tuple(covering_rules(per_worker))


def covering_rules(per_worker: Sequence[Sequence[str]]) -> list[str]:
    """A small set of rules that between them block every worker (RULES order).

    ``per_worker`` holds, for each worker, the ids of the rules blocking them.

    Starts from the rules that alone block some worker (any such set must hold them),
    then adds, greedily, the rule blocking most of the workers still uncovered. Empty
    when some worker is blocked by nothing.
    """
    return covering_counted(Counter(frozenset(rules) for rules in per_worker))


def covering_counted(blocked: Mapping[frozenset[str], int]) -> list[str]:
    """:func:`covering_rules` of workers given as how many each set of rules blocks."""
    if not blocked or any(not rules for rules in blocked):
        return []
    chosen = {next(iter(rules)) for rules in blocked if len(rules) == 1}
    uncovered = {rules: n for rules, n in blocked.items() if not rules & chosen}
    while uncovered:
        best = max(
            _ordered({r for rules in uncovered for r in rules}),
            key=lambda r: sum(n for rules, n in uncovered.items() if r in rules),
        )  # max keeps the first of equals: RULES order breaks ties
        chosen.add(best)
        uncovered = {rules: n for rules, n in uncovered.items() if best not in rules}
    return _ordered(chosen)


def _ordered(rules: set[str]) -> list[str]:
    """Rule ids in the order of the registry (:data:`allocator.domain.rules.RULE_IDS`)."""
    return [r for r in RULE_IDS if r in rules]
