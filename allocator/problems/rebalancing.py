"""Rebalance: re-allocate with the fewest changes of worker, and what a cap would cost.

Who must move, who may move
---------------------------
- Every child of a worker who has **left** (``leaving_on`` on or before ``as_of``)
  must move; if nobody may take them they are ``unallocated`` with a code and reason.
- Every child whose worker **may no longer hold them** (excluded, pinned to another,
  outgrown the worker's grade, lacking a need: :func:`allocator.domain.rules.why_needs_worker`)
  must move, alone rather than with siblings the worker may keep; if nobody may take
  them they are ``unallocated`` (taken off that worker) with a code and reason. A pin
  to the current worker keeps an outgrown child there as a managed exception the plan
  lists.
- Every child of a worker **absent for at least** ``long_absence_days`` from ``as_of``
  must move (the move says it is cover for the absence). One nobody may take stays
  with the absent worker and the plan's notes name it (FORMAT.md only lets a case
  whose worker has left be unallocated).
- Children of a worker **over their cap** may move; the worker must end within the
  cap, and if that is impossible they stay over it and the notes say so.
- A pinned case never moves unless its pinned worker has left or is long absent;
  a case pinned to a worker who has left is unallocated with
  ``pinned_worker_cannot_hold``.
- Cases with no worker in the snapshot (referrals, backlog) are placed too, as in
  daily allocation, since a plan must account for them.
- Nothing else moves. ``max_moves`` caps the number of changes of worker.

Siblings held by the same worker move together, to the same worker: they form one
decision. Where no worker may statically hold all of them (grade, skills,
exclusions, room), the family is split into single children rather than left
unmoved: a child who must move is better placed alone than not at all. A departing
worker's children, whose handover is planned ahead, are always offered one by one
(the siblings tier keeps them together where it can): the one worker with room for a
whole family is often needed by an urgent child, and the family then had no handover.

Policy: the cost of a change
----------------------------
Moving a child costs ``10 + 5 x changes_last_12_months``, ``+ 10`` for
``looked_after``, ``court`` and ``adoption`` work, ``- 5`` when the new worker is one
of the child's ``previous_workers``; never below 1.

Objective (lexicographic, see :mod:`allocator.engine.rebalance`): children left
without a worker, by priority class (FORMAT.md "Who gets a worker first": one child
of a higher class before any number of a lower one, leavers' children and referrals
alike); within a class, children who have just lost their worker before referrals;
points still over cap; **number** of changes of worker; siblings apart; the changes'
weighted cost; balance. Counting changes before weighing them makes the plan meet
the lower bound below whenever capacity allows, and among plans with as few changes
a leaver's child goes to the worker who has their sibling, a new baby to a worker
who has the family, the child with the most changes this year, the looked-after
child or the court case stays put, and a child goes back to a worker they know
where one has room.

Search: the solver starts from the best of three plans by the tiers
(:func:`greedy_rebalance`): the tiers' order (the children who must move by class
and wait, leavers' children before referrals, fewest options first), a packing
(within each class the children who must move lightest per child first, each to the
worker they fit most tightly) and the manager's rule (:mod:`allocator.domain.greedy`), so
its answer is never worse than the manager's. On a full service packing places more of
them (measured on the leavers' day benchmark, 150 practitioners, before the classes:
95 leavers' children left without a worker against 142 by the manager's rule; the
search then brings it down further, see ``benchmarks/RESULTS.md``).

Lower bound on changes: the children who must move (and may go somewhere) plus, for
each over-cap worker, the fewest of their movable children whose removal brings
them within cap (heaviest first).
"""

from __future__ import annotations

import functools
import math
import time
from collections import Counter, defaultdict
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Literal

from allocator.arguments import (
    admitted,
    check_arguments,
    check_count,
    check_id_map,
    check_ids_known,
    check_instant,
)
from allocator.contract.models import (
    Assignment,
    Grade,
    Handover,
    Plan,
    Snapshot,
    Status,
    Unallocated,
    UnallocatedCode,
    cut_short_note,
    snapshot_notes,
)
from allocator.contract.policy import Policy
from allocator.contract.settings import Settings, calibrated_note, resolve_settings
from allocator.contract.units import POINTS_SCALE, CentiPoints, to_points
from allocator.domain.greedy import (
    HeldFamily,
    choose_worker,
    manager_order,
    previous_workers,
    relieve_over_cap,
)
from allocator.domain.objectives import (
    PLAN_TIERS,
    balance_cost,
    change_cost,
    class_tier_key,
    class_weights,
    classes_before_relief,
    expected_changes_cost,
    over_cap_sources,
    rebalance_tiers,
    rebalance_values,
    worker_table,
)
from allocator.domain.result import to_plan
from allocator.domain.rules import (
    ServiceState,
    counted,
    departure_sentence,
    families_held,
    handover_day,
    is_long_absent,
    joined,
    notice,
    points,
    room_kept_clause,
)
from allocator.engine.budget import calibrated
from allocator.engine.rebalance import (
    REBALANCE_TIERS,
    Group,
    RebalanceInput,
    solve_rebalance,
    tier_values,
)
from allocator.explain.reasons import (
    PlanView,
    availability_rule,
    had_room,
    held_room_notes,
    kept_off,
    longest_wait_note,
    room_kept_notes,
)


@dataclass
class Setup:
    """The rebalance problem in plain Python: groups, sources and what stays put."""

    state: ServiceState
    data: RebalanceInput
    why: dict[str, str]  # source -> the move reason
    #: Case -> why it must leave a worker who may no longer hold it (rules.why_needs_worker).
    case_why: dict[str, str] = field(default_factory=dict)
    stuck_pinned: list[str] = field(default_factory=list)  # pinned to a long-absent holder
    class_weight: list[int] = field(default_factory=list)  # per priority class, highest first
    #: Case -> receiver of each handover an earlier plan promised to a child still to hand over.
    promises: dict[str, str] = field(default_factory=dict)


def _setup(
    state: ServiceState, max_moves: int | None, planned: Mapping[str, str] | None = None
) -> Setup:
    policy = state.policy
    long_absent = {w for w in state.practitioners if is_long_absent(state, w)}
    over_cap = set(over_cap_sources(state))
    departing = state.departing
    handing = set(state.to_hand_over)
    why: dict[str, str] = {}
    for w in sorted(state.gone | long_absent):  # the registry's sentence: "left on", "absent until"
        unavailable = availability_rule(state, w)
        assert unavailable is not None
        cover = "" if w in state.gone else ": cover for the absence"
        why[w] = unavailable.message + cover
    for w in sorted(over_cap):
        excess = to_points(state.load_before[w] - state.capacity[w])
        why[w] = f"{w} is {excess:g} points over cap"
    for w, day in departing.items():  # a handover planned ahead
        why[w] = f"{departure_sentence(state, w)}: handover planned before {day}"

    need = set(state.to_allocate)  # referrals, leavers' children, cases a worker may not keep
    # Cases a present worker may no longer hold: they must move, in groups of their own.
    case_why = {
        cid: reason
        for cid, reason in state.needs.items()
        if (holder := state.cases[cid].worker) is not None and holder not in state.gone
    }
    members: dict[tuple[str, str | None, bool], list[str]] = defaultdict(list)
    stuck: list[str] = []
    for c in state.snapshot.cases:
        src = c.worker
        if c.id in case_why:
            members[c.family, src, True].append(c.id)
            continue
        if src is not None and src not in why:
            continue
        if src is not None and src not in state.gone and c.pinned_worker == src:
            stuck.append(c.id)  # pinned to a long-absent or over-cap holder: stays
            continue
        members[c.family, src, False].append(c.id)
    # Who gets a worker first: one weight per priority class, over every child who
    # must move (the most that could be left without a worker), each child weighed
    # within their class by their wait (``ServiceState.waiting_weight``). A departing
    # worker's child weighs as the longest wait the rule counts: their handover comes
    # before every waiting child of their class (planned now, it spares them the wait
    # that would start on the day, docs/FORMAT.md "Waiting"); any other child who
    # need not move counts 1.
    waits = dict(state.waiting_weight)
    longest = 7 * policy.waiting.max_weeks
    waits.update((c, state.weight_of_wait(c, longest)) for c in handing)
    class_weight = class_weights(
        len(policy.class_names),
        sum(
            waits.get(c, 1)
            for (_, src, broken), kids in members.items()
            if broken or src not in over_cap
            for c in kids
        ),
    )

    relief = classes_before_relief(policy)

    def group(
        family: str, src: str | None, kids: list[str], suffix: str = "", broken: bool = False
    ) -> Group | None:
        common: set[str] | None = None
        for cid in kids:
            ws = set(state.eligible(cid))
            common = ws if common is None else common & ws
        weight = CentiPoints(sum(state.weight[c] for c in kids))
        targets = sorted(w for w in common or () if weight <= state.spare_before(w) and w != src)
        handover = not broken and all(c in handing for c in kids)
        promised = {planned.get(c) for c in kids} if planned and handover else set()
        receiver = promised.pop() if len(promised) == 1 else None
        kept = (
            receiver is not None
            and receiver in state.practitioners  # else taken off the books since
            and receiver != src
            and weight <= state.spare_before(receiver)
            and all(receiver in state.allowed(c) for c in kids)
        )
        if receiver is not None and kept:
            # Honour the handover planned before while the rules and the room still
            # allow it: the child has been told. Room held since for a long wait does
            # not break the promise (the room was the child's first), and breaking it
            # costs in the first tier as an urgent child left today would: the
            # receiver's room is as good as taken, as in the mornings between.
            targets = sorted({*targets, receiver})
        else:
            receiver = None
        if not targets and len(kids) > 1:
            return None
        promise_cost = sum(state.weight_of_wait(c, 0) for c in kids) if receiver else 0
        # Each child's weight in the class tiers: their class's weight x their wait.
        weighed = {c: class_weight[state.priority_class[c]] * waits.get(c, 1) for c in kids}
        return Group(
            id=f"{family}@{src or 'new'}{'!' if broken else ''}{suffix}",
            cases=tuple(sorted(kids)),
            family=family,
            source=src,
            must_move=not handover and (broken or src is None or src not in over_cap),
            weight=weight,
            cost={w: sum(change_cost(state, c, w) for c in kids) for w in targets},
            balance={w: sum(balance_cost(state, c, w) for c in kids) for w in targets},
            priority=sum(weighed.values()),
            upper_classes=sum(
                w for c, w in weighed.items() if 0 < state.priority_class[c] < relief
            ),
            first_class=sum(waits.get(c, 1) for c in kids if state.priority_class[c] == 0)
            + promise_cost,
            promised=receiver,
            promise_cost=promise_cost,
            keeps_source=src is not None and not any(c in need for c in kids),
            handover=handover,
            look_ahead={
                w: cost
                for w in targets
                if (cost := sum(expected_changes_cost(state, c, w) for c in kids))
            },
        )

    groups: list[Group] = []
    for (family, src, broken), kids in sorted(
        members.items(), key=lambda kv: (kv[0][0], kv[0][1] or "", kv[0][2])
    ):
        # A departing worker's children are offered one by one: the siblings tier
        # keeps them together wherever one worker has room for them all, and where
        # none has (or the one who has is needed by a child of a higher class), each
        # still gets a handover before the day instead of the family losing its
        # worker together (measured: on a 150-practitioner service, 17 of 64 such
        # children had no handover as a unit, none one by one). So are the children
        # of a worker who has already left: a case system's snapshot holds them with
        # that worker, and as a unit 6 of them were left with nobody though a worker
        # had room for one (a 20-practitioner service). Every family one by one was
        # measured by the year and not kept (benchmarks/YEAR.md: 23 of 60 targets
        # against 24).
        departed = src is not None and src in state.gone
        one_by_one = not broken and len(kids) > 1 and (departed or all(c in handing for c in kids))
        g = None if one_by_one else group(family, src, kids, broken=broken)
        if g is not None:
            groups.append(g)
            continue
        for cid in sorted(kids):  # nobody may take the whole family: split it
            single = group(family, src, [cid], suffix=f"#{cid}", broken=broken)
            assert single is not None
            groups.append(single)

    receivers = sorted({w for g in groups for w in g.cost})
    held = families_held(state)
    grouped = {c for g in groups for c in g.cases}
    holders: dict[str, frozenset[str]] = {}
    workers_before: dict[str, int] = {}
    for family in sorted({g.family for g in groups}):
        children = [state.cases[c] for c in state.families[family]]
        holders[family] = frozenset(
            c.worker for c in children if c.worker is not None and c.id not in grouped
        )
        if not any(c.id in need for c in children):
            workers_before[family] = len({c.worker for c in children if c.worker is not None})
    data = RebalanceInput(
        groups=groups,
        spare={w: CentiPoints(state.spare_before(w)) for w in receivers},
        held_families={w: held.get(w, frozenset()) for w in receivers},
        intake_limit=policy.max_new_families_per_day,
        excess={w: state.load_before[w] - state.capacity[w] for w in sorted(over_cap)},
        max_moves=max_moves,
        holders=holders,
        workers_before=workers_before,
    )
    return Setup(
        state=state,
        data=data,
        why=why,
        case_why=case_why,
        stuck_pinned=stuck,
        class_weight=class_weight,
        promises={c: w for c, w in sorted((planned or {}).items()) if c in handing},
    )


def changes_lower_bound(setup: Setup, moved: Mapping[str, str], proved: Collection[str]) -> int:
    """Fewest changes of worker an optimal rebalance makes, given the plan ``moved``.

    ``proved``: the tiers (:data:`REBALANCE_TIERS` keys) whose value in ``moved`` is
    proved optimal. The tiers come first, so once ``unplaced`` is proved the optimum
    leaves no more of the children who must move unplaced than ``moved`` does
    (``leavers_unplaced``): it changes the worker of at least (children who must move)
    - (those ``moved`` leaves unplaced). Once ``leavers_unplaced`` is proved too, the
    optimum leaves no more points over cap either, so each over-cap worker sheds at
    least their excess less that total, less what their children who must move can
    carry: at least that many of their other children (heaviest first) change worker.
    Once ``handovers_unplanned`` is proved at 0 as well, every departing worker's
    child has a handover in the optimum, each a change of worker: they count, and
    what they carry off an over-cap worker is taken from that worker's excess first.
    With ``changes_of_worker`` itself proved, the bound is its value; with nothing
    proved, 0.

    Unlike a count of the children who could go somewhere, this never exceeds an
    optimal plan's changes.
    """
    data = setup.data
    values = tier_values(data, moved)
    if "changes_of_worker" in proved:  # proved with every tier above: any best plan's
        return values["changes_of_worker"]
    if "unplaced" not in proved:
        return 0
    must = sum(len(g.cases) for g in data.groups if g.must_move and g.source is not None)
    bound = must - values["leavers_unplaced"]
    if "leavers_unplaced" not in proved:
        return bound
    handed = "handovers_unplanned" in proved and values["handovers_unplanned"] == 0

    def leaves(g: Group) -> bool:  # certain to leave its worker in the optimum
        return g.must_move or (handed and g.handover)

    if handed:
        bound += sum(len(g.cases) for g in data.groups if g.handover and not g.must_move)
    for s, excess in data.excess.items():
        own = [g for g in data.groups if g.source == s]
        needed = excess - values["over_cap_excess"] - sum(g.weight for g in own if leaves(g))
        weights = sorted(
            (setup.state.weight[c] for g in own if not leaves(g) for c in g.cases), reverse=True
        )
        shed = 0
        for weight in weights:
            if shed >= needed:
                break
            shed += weight
            bound += 1
    return bound


def _plan_bound(
    setup: Setup,
    tier_bounds: Mapping[str, int | float] | None,
    objective: Mapping[str, int | float],
    siblings_shift: int = 0,
) -> dict[str, int | float] | None:
    """The engine's tier bounds in the plan's own keys and units (as its ``objective``).

    ``unplaced`` (children without a worker weighted by class) becomes one bound per
    priority class, lexicographically: a class's bound holds with the classes above
    at their values, and the classes below a class short of its bound get none. It
    is given only when no long-absent worker's child is left uncovered: the tier
    counts those children too, the objective's classes do not.
    ``over_cap_excess`` goes from centi-points to points; ``siblings_apart`` moves by
    ``siblings_shift``, the constant between the engine's tier and the plan's
    (:class:`allocator.domain.objectives.PLAN_TIERS`: the plan's never goes below 0);
    ``leavers_unplaced`` has no key of its own in the plan and is left out. A tier at
    0 is at its bound whatever the search proved: every plan tier counts up from 0.
    """
    at_zero: dict[str, int | float] = {
        t.key: 0
        for t in rebalance_tiers(setup.state.policy)
        if t.sense == "min" and objective.get(t.key) == 0
    }
    if not tier_bounds:
        return at_zero or None
    out: dict[str, int | float] = {}
    # The tier also counts long-absent workers' children nobody could cover, which the
    # objective keeps apart (``uncovered_absence``): only without them do the two agree.
    if "unplaced" in tier_bounds and not objective["uncovered_absence"]:
        rest = tier_bounds["unplaced"]
        names = setup.state.policy.class_names
        for name, weight in zip(names, setup.class_weight, strict=True):
            key = class_tier_key(name)
            # Every lower class together weighs less than one child of this one.
            out[key] = min(objective[key], max(0, math.floor(rest / weight + 1e-9)))
            if out[key] < objective[key]:
                break
            rest -= objective[key] * weight
    if tier_bounds.get("handovers_unplanned") == 0:  # else class-weighted: no plan key
        out["handovers_unplanned"] = 0
    if "over_cap_excess" in tier_bounds:
        out["over_cap_excess"] = to_points(int(tier_bounds["over_cap_excess"]))
    for tier in PLAN_TIERS:
        if tier.key in tier_bounds and tier.key not in out and tier.key != "handovers_unplanned":
            out[tier.key] = tier_bounds[tier.key]
    if "siblings_apart" in out:
        out["siblings_apart"] += siblings_shift
    return {**out, **at_zero} or None


#: The rebalance's warm starts (:func:`greedy_rebalance`): two orders tuned to the
#: rebalance's tiers, and the manager's rule; in the order ties between them are broken.
WarmStart = Literal["tiers", "packing", "manager"]
WARM_STARTS: tuple[WarmStart, ...] = ("tiers", "packing", "manager")


def greedy_rebalance(
    setup: Setup, *, start: WarmStart = "manager", plan: Mapping[str, str] | None = None
) -> dict[str, str]:
    """A plan by hand: the manager's rule (:mod:`allocator.domain.greedy`), or a warm start.

    Group by group (a family's children on one worker move together): first the
    children who must move (leavers', long-absent workers', those a worker may no
    longer hold, and referrals) — those of the first class (urgent), then each
    handover promised by an earlier plan at its receiver where it still fits, then
    the rest — then the handovers planned ahead, each in the
    manager's order (:func:`allocator.domain.greedy.manager_order`: the group's highest
    class, heaviest, oldest referral, id); then each over-cap worker relieved by the
    manager's over-cap relief (:func:`allocator.domain.greedy.relieve_over_cap`). Each group
    goes where the manager's choice sends it (:func:`allocator.domain.greedy.choose_worker`:
    a worker of the family, else a previous worker of its children, most recent
    first, else the most room). Every hard rule holds, ``max_moves`` included.

    Two other ``start`` orders serve the search, which starts from the best of the
    three by the tiers (its answer is then never worse than the manager's rule):

    - ``tiers``: the children who must move, then the handovers, in the tiers' order
      instead (by class and wait, highest first; within a class the children who
      had a worker before referrals; families with fewest options first), each
      placed by the manager's choice. Measured: starting from the manager's order
      instead, the engine's 120-day simulation (40 practitioners, 0.5 work units a
      rebalance) made 0.47 changes per child-year against 0.44, and left urgent
      children 594 child-days without a worker against 458.
    - ``packing``: the children who must move packed tightly: in the tiers' order
      but lightest per child before fewest options, each to the worker it fits most
      tightly after any worker already holding the family. On a stretched service
      the other two leave slivers of room too small for the families that come last.

    ``plan``, when given, is completed instead of starting from nobody moved: its
    moves stand, and only the groups it leaves without a worker (must move, or a
    handover not planned) are placed, where they still fit; nobody is relieved (see
    :func:`complete_between_stages`).

    Returns
    -------
    dict
        Group id -> receiver for every group that moves.
    """
    data, state = setup.data, setup.state
    room: dict[str, int] = dict(data.spare)  # what is left as groups are placed
    new: dict[str, set[str]] = defaultdict(set)
    # Receivers given a family by this plan, in placement order (after its holders).
    given: dict[str, list[str]] = defaultdict(list)
    moved: dict[str, str] = {}
    moves_left = data.max_moves if data.max_moves is not None else 1 << 60
    by_id = {g.id: g for g in data.groups}
    for gid, w in sorted((plan or {}).items()):
        g = by_id[gid]
        moved[gid] = w
        room[w] -= g.weight
        moves_left -= g.changes
        if g.family not in data.held_families.get(w, ()):
            new[w].add(g.family)
            if w not in given[g.family]:
                given[g.family].append(w)

    def fits(g: Group, w: str) -> bool:
        if w not in g.cost or g.weight > room[w] or g.changes > moves_left:
            return False
        known = g.family in data.held_families.get(w, ()) or g.family in new[w]
        return known or len(new[w]) < data.intake_limit

    def place(g: Group) -> bool:
        nonlocal moves_left
        if g.promised is not None and fits(g, g.promised):
            choice: str | None = g.promised
        elif start == "packing" and g.must_move:
            options = [w for w in sorted(g.cost) if fits(g, w)]
            choice = min(
                options,
                key=lambda w: (
                    g.family not in data.held_families.get(w, ()) and g.family not in new[w],
                    room[w],
                    g.cost[w],
                    w,
                ),
                default=None,
            )
        else:
            holders = sorted(w for w in g.cost if g.family in data.held_families.get(w, ()))
            choice = choose_worker(
                sorted(g.cost),
                lambda w: fits(g, w),
                siblings=[*holders, *given[g.family]],
                previous=previous_workers(state.cases[c] for c in g.cases),
                room=lambda w: room[w],
            )
        if choice is None:
            return False
        moved[g.id] = choice
        room[choice] -= g.weight
        if g.family not in data.held_families.get(choice, ()):
            new[choice].add(g.family)
            if choice not in given[g.family]:
                given[g.family].append(choice)
        moves_left -= g.changes
        return True

    def manager_key(g: Group) -> tuple[int, int, date, str]:
        return manager_order(
            min(state.priority_class[c] for c in g.cases),
            g.weight,
            min((d for c in g.cases if (d := state.cases[c].opened)), default=None),
            g.id,
        )

    def tiers_key(g: Group) -> tuple[int, bool, float, int, str]:
        # The class's weight (with the children's waits): highest class first.
        return (
            -(g.priority // len(g.cases)),
            g.source is None,
            g.weight / len(g.cases) if start == "packing" and g.must_move else 0,
            len(g.cost),
            g.id,
        )

    order = manager_key if start == "manager" else tiers_key
    # The first class's children who must move, then the promises where they still
    # fit (a broken one costs in the first tier as such a child), then the rest.
    for g in sorted((g for g in data.groups if g.must_move and g.first_class), key=order):
        if g.id not in moved:
            place(g)
    for g in sorted((g for g in data.groups if g.promised is not None), key=order):
        if g.id not in moved:
            place(g)
    for g in sorted((g for g in data.groups if g.must_move and g.id not in moved), key=order):
        place(g)
    # Handovers planned ahead after the children who need a worker today.
    ahead = [g for g in data.groups if g.handover]
    for g in sorted((g for g in ahead if g.id not in moved), key=order):
        place(g)
    if plan is not None:
        return moved
    for s, excess in data.excess.items():
        excess -= sum(g.weight for g in ahead if g.source == s and g.id in moved)
        relieve_over_cap(
            excess,
            [
                HeldFamily(g.id, len(g.cases), g.weight)
                for g in data.groups
                if g.source == s and g.id not in moved
            ],
            lambda f: place(by_id[f.key]),
        )
    return moved


def complete_between_stages(setup: Setup, plan: Mapping[str, str]) -> dict[str, str]:
    """``plan`` completed by hand before the search's next stage (the warm start's
    ``tiers`` order and the manager's choice, :func:`greedy_rebalance`).

    A stage that moves children to lower its own tier (an urgent child to the one
    worker who may take them, a promise back to its receiver) can leave others it
    displaced with nobody, though room is left elsewhere; the next stage would spend
    its budget finding that room again. Measured on a 150-practitioner rebalance (64
    handovers, 4 departing workers): at 0.5 work units the children who must move
    stage started 71 million (a statutory child's weight) above its optimum of 12
    and did not reach it; 2 work units did. The staged solve keeps the completed plan
    only where no tier already held gets worse
    (:func:`allocator.engine.core.solve_core_in_stages`), and only for the whole model's
    stages (:func:`allocator.engine.rebalance.solve_rebalance` says why).
    """
    return greedy_rebalance(setup, start="tiers", plan=plan)


def rebalance(
    snapshot: Snapshot,
    policy: Policy | None = None,
    settings: Settings | None = None,
    *,
    max_moves: int | None = None,
    planned: Mapping[str, str] | None = None,
    time_limit: float | None = None,
    work_units: float | Literal["auto"] | None = None,
    clock_started: float | None = None,
) -> Plan:
    """Re-allocate the children who must move, with the fewest changes of worker.

    Children of a worker who departs within the leaving window (their ``leaving_on``,
    or a planned long absence's ``absence_from``) stay with them and get a planned
    handover (the plan's ``handovers``): receiver, day, notice.

    Parameters
    ----------
    snapshot
        The service on one day.
    policy
        FORMAT.md defaults when ``None``.
    settings
        Time limit, work budget, seed, search workers and progress reports
        (:class:`~allocator.contract.settings.Settings`; its defaults when ``None``), as for
        :func:`allocator.problems.daily.allocate`: with ``work_units`` fixed and an ample time
        limit the plan is the same on any machine. Progress is reported for each
        stage that searches (tier key, value, bound in the engine's units).
    max_moves
        Most changes of worker the plan may make (hard), or ``None``.
    planned
        Case -> receiver of handovers planned by an earlier plan: kept where that
        receiver may still take the child (nothing changed), so the child's notice
        stands.
    time_limit, work_units
        Shorthand for ``Settings(time_limit=..., work_units=...)`` (README), when
        ``settings`` is not given.
    clock_started
        ``time.perf_counter()`` when the user's clock started (a command's start, so
        that reading the input and measuring a ``work_units="auto"`` budget count);
        default: now. The search's wall-clock guard runs from it.

    Returns
    -------
    Plan
        Moves in ``assignments`` (``from`` = the worker left), each with its reason;
        children of leavers nobody may take in ``unallocated``. ``objective`` holds
        ``unallocated_<class>`` (per priority class, the waiting weight of its
        children on the unallocated list under the policy's ``[waiting]`` rule:
        points x 2 x (1 + weeks waited) by default, children under ``rule =
        "count"``), ``unallocated`` (children), ``changes_of_worker``,
        ``siblings_apart`` (workers, see
        :func:`allocator.engine.rebalance.siblings_apart`), ``weighted_changes``,
        ``changes_lower_bound`` and more.

    Raises
    ------
    SettingsError
        A ``ValueError``: a shorthand setting, or one of ``settings``, outside its
        domain, one sentence each naming the call, the setting, the value given and
        what it expects (:class:`~allocator.contract.settings.SettingsError`).
    TypeError
        If ``settings`` and a shorthand are both given, or an argument is of another
        kind (the snapshot, policy or settings; ``planned`` not a mapping of text to
        text; ``max_moves`` not a whole number or ``None``).
    InputError
        If the snapshot or policy copy does not hold to the contract, or ``planned``
        names a case not in the snapshot (a receiver no longer on the staff list is
        planned afresh).
    PolicyError
        A ``ValueError``: a policy copy out of its domains.
    ValueError
        ``max_moves`` out of its range, or a ``clock_started`` that is no past
        ``perf_counter`` reading.
    """
    check_arguments(
        "rebalance",
        optional=("policy", "settings"),
        snapshot=snapshot,
        policy=policy,
        settings=settings,
    )
    max_moves = check_count("rebalance", "max_moves", max_moves, none=True)
    check_id_map("rebalance", "planned", planned)
    check_instant("rebalance", "clock_started", clock_started)
    snapshot = admitted("rebalance", "snapshot", snapshot)
    policy = admitted("rebalance", "policy", policy)
    check_ids_known("rebalance", "planned", planned, snapshot, workers=False)
    asked = resolve_settings(
        settings, time_limit=time_limit, work_units=work_units, call="rebalance"
    )
    clock_started = time.perf_counter() if clock_started is None else clock_started
    settings = calibrated(asked, clock_started)
    policy = policy or Policy()
    state = ServiceState.of(snapshot, policy)
    setup = _setup(state, max_moves, planned)
    starts = {kind: greedy_rebalance(setup, start=kind) for kind in WARM_STARTS}
    greedy = starts["manager"]
    start = min(
        starts.values(),
        key=lambda moved: [tier_values(setup.data, moved)[k] for k in REBALANCE_TIERS],
    )
    solution = solve_rebalance(
        setup.data,
        start,
        settings,
        complete=functools.partial(complete_between_stages, setup),
        started=clock_started,
    )
    notes = [
        *snapshot_notes(snapshot),
        *calibrated_note(asked, settings, cut_short=solution.cut_short),
    ]
    if solution.cut_short:
        notes.append(cut_short_note("search", settings.time_limit))
    greedy_values = tier_values(setup.data, greedy)
    values = tier_values(setup.data, solution.decisions)
    proved: list[str] = []
    for key in REBALANCE_TIERS:  # a tier counts as proved only with every tier above
        if not (solution.proved or solution.bounds.get(key) == values[key]):
            break
        proved.append(key)
    lower_bound = changes_lower_bound(setup, solution.decisions, proved)
    groups = setup.data.groups
    greedy_left = sum(len(g.cases) for g in groups if g.must_move and g.id not in greedy)
    left = sum(len(g.cases) for g in groups if g.must_move and g.id not in solution.decisions)
    handed = sum(len(g.cases) for g in groups if g.handover and g.id in solution.decisions)
    least = f", at least {lower_bound} in any best plan" if lower_bound else ""
    notes.append(
        f"changes of worker: {values['changes_of_worker']} "
        f"({values['changes_of_worker'] - handed} today + "
        f"{counted(handed, 'planned handover')})"
        f"{least}; this plan leaves {counted(left, 'child', 'children')} who must move "
        "unplaced (no worker, "
        f"or a long-absent one) and {points(values['over_cap_excess'])} points over cap. "
        "For comparison, the manager's rule (one family at a time, one of the search's "
        f"starting points) makes {greedy_values['changes_of_worker']} changes of worker (cost of "
        f"the changes {greedy_values['weighted_changes']}), leaves "
        f"{counted(greedy_left, 'such child', 'such children')} unplaced and "
        f"{points(greedy_values['over_cap_excess'])} points over "
        "cap; the tiers above say which comes first"
    )
    return _plan(
        setup,
        solution.decisions,
        status=solution.status,
        bound=dict(solution.bounds) or None,
        seconds=solution.seconds,
        notes=notes,
        lower_bound=lower_bound,
        settings=settings,
        options={} if max_moves is None else {"max_moves": max_moves},
    )


def _handed_over_apart(state: ServiceState, handovers: list[Handover]) -> dict[str, str]:
    """Case -> a sentence for each child handed over to a different worker from a
    sibling handed over from the same worker: who went where, and why they are apart
    (a departing worker's children are offered one by one, and the siblings tier keeps
    them together wherever one worker may take them all in the plan)."""
    by_family: dict[tuple[str, str], list[Handover]] = defaultdict(list)
    for h in handovers:
        by_family[state.cases[h.case].family, h.from_].append(h)
    out: dict[str, str] = {}
    for (_, source), group in sorted(by_family.items()):
        if len({h.worker for h in group}) < 2:
            continue
        points = to_points(sum(state.weight[h.case] for h in group))
        for h in group:
            others = ", ".join(f"{o.case} to {o.worker}" for o in group if o.worker != h.worker)
            out[h.case] = (
                f"apart from sibling(s) {others}: no one worker may take all "
                f"{len(group)} of {source}'s children of this family ({points:g} points) "
                "in this plan, so each gets a handover rather than none"
            )
    return out


def _as_family(said: Unallocated, g: Group) -> Unallocated:
    """A child of a family the rebalance moves as one (:func:`_setup`): where one
    worker had room for the child alone, the room for all of them was what was
    missing, not search time (a fresh user was told to rerun an optimal plan)."""
    alone = had_room(said)
    if len(g.cases) == 1 or alone is None:
        return said
    return said.model_copy(
        update={
            "code": UnallocatedCode.NO_CAPACITY,
            "reason": f"{alone} room for this child alone, but a rebalance moves the "
            f"family together ({', '.join(g.cases)}: {to_points(g.weight):g} points) and "
            "no worker the rules allow had room for all of them after the plan's other "
            "placements; place this child by hand (allocator recommend) or make room",
        }
    )


def _broken_promises(
    setup: Setup,
    assignments: list[Assignment],
    handovers: list[Handover],
) -> dict[str, str]:
    """Case -> a sentence for each handover an earlier plan promised that this plan
    does not keep: to whom it was promised, why not, and what happens instead.

    The child has been told of the promised worker, so a manager must tell them
    again: the plan says so in the handover's reasons and in its notes.
    """
    state = setup.state
    receiver = {h.case: h for h in handovers}
    kept = {c: g.promised for g in setup.data.groups for c in g.cases if g.promised}
    first = state.policy.class_names[0]
    out: dict[str, str] = {}
    for cid, promised in setup.promises.items():
        now = receiver.get(cid)
        if now is not None and now.worker == promised:
            continue
        took = sorted(
            a.case
            for a in assignments
            if a.worker == promised and state.priority_class[a.case] == 0 and a.from_ is None
        )
        if kept.get(cid) != promised:
            why = f"{promised} may no longer take them (rules or room)"
        elif took:
            why = f"{promised}'s room went to {', '.join(took)} ({first}), who needed it"
        else:
            why = f"{promised}'s room went to other children in the tiers' order"
        then = (
            f"handed over to {now.worker} on {now.on} instead: tell the child"
            if now is not None
            else "no handover yet"
        )
        out[cid] = (
            f"{cid}: the handover promised to {promised} by an earlier plan is not kept "
            f"({why}); {then}"
        )
    return out


def _intake_stopped(
    setup: Setup, source: str, moved: Mapping[str, str], load: Mapping[str, int]
) -> bool:
    """Whether a family of ``source``'s that stays could go to a worker with room for it
    but for the intake limit (that worker already took as many new families as it may).
    """
    data, state = setup.data, setup.state
    new: dict[str, set[str]] = defaultdict(set)
    by_id = {g.id: g for g in data.groups}
    for gid, w in moved.items():
        family = by_id[gid].family
        if family not in data.held_families.get(w, frozenset()):
            new[w].add(family)
    for g in data.groups:
        if g.source != source or g.id in moved:
            continue
        for w in g.cost:
            room = load[w] + g.weight <= state.capacity[w]
            known = g.family in data.held_families.get(w, frozenset()) or g.family in new[w]
            if room and not known and len(new[w]) >= data.intake_limit:
                return True
    return False


def _plan(
    setup: Setup,
    moved: Mapping[str, str],
    *,
    status: Status,
    bound: dict[str, int | float] | None,
    seconds: float,
    notes: list[str],
    settings: Settings,
    options: Mapping[str, float | int | str] | None = None,
    lower_bound: int | None = None,
) -> Plan:
    state, data = setup.state, setup.data
    if lower_bound is None:  # nothing proved about the tiers
        lower_bound = changes_lower_bound(setup, moved, proved=())
    final = {cid: c.worker for cid, c in state.cases.items()}
    gone_or_new = set(state.to_allocate)
    for g in data.groups:
        w = moved.get(g.id)
        for cid in g.cases:
            if w is not None:
                final[cid] = w
            elif cid in gone_or_new:
                final[cid] = None
    load = dict.fromkeys(state.practitioners, 0)
    count = dict.fromkeys(state.practitioners, 0)
    for cid, w in final.items():
        if w is not None:
            load[w] += state.weight[cid]
            count[w] += 1

    assignments: list[Assignment] = []
    unallocated: list[Unallocated] = []
    uncovered: list[str] = []
    handovers: list[Handover] = []
    unplanned: list[str] = []
    moves_used = sum(g.changes for g in data.groups if g.id in moved)
    # Handovers count as placements for every rule and tier: the plan once applied,
    # the handovers made (docs/FORMAT.md "Planned handovers").
    placed = {cid: w for g in data.groups if (w := moved.get(g.id)) is not None for cid in g.cases}
    view = PlanView.of(state, placed, max_moves=data.max_moves)
    for g in data.groups:
        w = moved.get(g.id)
        for cid in g.cases:
            if g.handover and g.source is not None:
                if w is None:
                    unplanned.append(cid)
                    continue
                departs = state.departing[g.source]
                on = handover_day(state.as_of, departs)
                handovers.append(
                    Handover(
                        case=cid,
                        worker=w,
                        from_=g.source,
                        on=on,
                        departs=departs,
                        notice_days=(on - state.as_of).days,
                        reasons=(
                            f"{departure_sentence(state, g.source)}: handed over on {on}",
                            *view.reasons(cid),
                        ),
                    )
                )
            elif w is not None:
                assignments.append(
                    Assignment(
                        case=cid,
                        worker=w,
                        from_=g.source,
                        reasons=view.reasons(cid),
                        days_waiting=state.days_waiting.get(cid),
                    )
                )
            elif cid in gone_or_new:
                unallocated.append(_as_family(view.diagnose(cid), g))
            elif g.must_move:
                uncovered.append(cid)
    assignments.sort(key=lambda a: a.case)
    unallocated.sort(key=lambda u: u.case)
    broken = _broken_promises(setup, assignments, handovers)
    apart = _handed_over_apart(state, handovers)
    for i, h in enumerate(handovers):  # a broken promise first, siblings apart last
        first = [broken[h.case]] if h.case in broken else []
        last = [apart[h.case]] if h.case in apart else []
        if first or last:
            handovers[i] = h.model_copy(update={"reasons": (*first, *h.reasons, *last)})
    notes.extend(broken[c] for c in sorted(broken))
    handovers.sort(key=lambda h: (h.on, h.case))
    if handovers:
        least, most = (f(h.notice_days for h in handovers) for f in (min, max))
        notes.append(
            f"{counted(len(handovers), 'handover')} planned ahead for the children of "
            f"{counted(len({h.from_ for h in handovers}), 'departing worker')}, with "
            + (f"{least} to {most} days' notice" if least != most else notice(most))
        )
    by_leaver: dict[str, list[str]] = defaultdict(list)
    for cid in sorted(unplanned):
        source = state.cases[cid].worker
        assert source is not None  # a departing worker's child
        by_leaver[source].append(cid)
    for source, kids in sorted(by_leaver.items()):
        # Said early, with the day: a manager can find room before the child waits.
        day = handover_day(state.as_of, state.departing[source])
        # Room held for a longer-waiting child, or kept for a higher class, is room the
        # engine keeps them off: say whose, as the plan's reasons for children kept off
        # it do.
        devices = [kept_off(state, cid, state.allowed(cid), load) for cid in kids]
        held = sorted({f"{w}'s for {state.held_for[w]}" for _, on, _ in devices for w in on})
        kept = {w: k for _, _, by in devices for w, k in by.items()}
        why = "nobody who may hold them has room in this plan"
        if held:
            why += (
                f", except room held for children who have waited longer ({', '.join(held)}; "
                "policy waiting.reserve_after_days)"
            )
        if kept:
            clause = room_kept_clause(state, kept, view.placed)
            why += f"{' or' if held else ', except'} room kept: {clause}"
        notes.append(
            f"{departure_sentence(state, source)}: no handover yet for {', '.join(kids)} "
            f"(the handover day is {day}, in {counted((day - state.as_of).days, 'day')}): "
            f"{why}; free "
            "room or the next rebalance tries again (allocator explain --case names who "
            "could and what stops them)"
        )

    # The classes the rebalance serves before relieving workers over cap, and after.
    names, relief = state.policy.class_names, classes_before_relief(state.policy)
    served_first, served_after = names[:relief], names[relief:]
    waiting_first = [u.case for u in unallocated if state.cases[u.case].worker is None]
    moving_now = sum(1 for a in assignments if a.from_ is not None)
    if waiting_first and (moving_now or handovers):
        # A manager comparing this plan with the morning's allocate sees more children
        # left waiting: say where the room went, and that allocate moves nobody.
        by_class = Counter(state.policy.class_names[state.priority_class[c]] for c in waiting_first)
        classes = ", ".join(
            f"{name} {by_class[name]}" for name in state.policy.class_names if by_class[name]
        )
        order = f"over-cap relief after {joined(served_first)} work" + (
            f" and before {joined(served_after)}" if served_after else ""
        )
        notes.append(
            f"{counted(len(waiting_first), 'child', 'children')} with no worker yet "
            f"{'stays' if len(waiting_first) == 1 else 'stay'} "
            f"without one ({classes}) while this rebalance moves "
            f"{counted(moving_now, 'child', 'children')} today and plans "
            f"{counted(len(handovers), 'handover')}: the room goes in the order of the "
            f"plan's tiers ({order}; within a class the longest waits first, a departing "
            "worker's child to hand over counting as the longest wait and one who lost "
            f"their worker {counted(state.policy.waiting.lost_worker_weeks, 'week')} more than "
            "waited); "
            "allocate, which moves nobody, gives the queue all the room"
        )
    given = {a.case: a.worker for a in assignments}
    notes.extend(longest_wait_note(state, given))
    notes.extend(held_room_notes(state, given))
    notes.extend(room_kept_notes(state, given))
    values = tier_values(data, moved)
    still_over = sorted(s for s in data.excess if load[s] > state.capacity[s])
    if uncovered:
        notes.append(
            f"{counted(len(uncovered), 'child', 'children')} of long-absent workers could "
            "not be covered and "
            f"stay with them: {', '.join(sorted(uncovered))}"
        )
    if setup.stuck_pinned:
        notes.append(
            f"{counted(len(setup.stuck_pinned), 'pinned child', 'pinned children')} "
            f"{'stays' if len(setup.stuck_pinned) == 1 else 'stay'} "
            "with their absent or over-cap "
            f"pinned worker: {', '.join(sorted(setup.stuck_pinned))}"
        )
    limited = data.max_moves is not None and moves_used >= data.max_moves
    # Room went to children the policy serves before relief.
    room_served_first = any(g.upper_classes for g in data.groups if g.id in moved)
    for s in still_over:
        if limited and data.max_moves is not None:
            why = f"the limit of {counted(data.max_moves, 'change')} of worker was reached"
        elif _intake_stopped(setup, s, moved, load):
            why = (
                "a worker with room for one of their families had already taken "
                f"{counted(data.intake_limit, 'new family', 'new families')} (the intake limit)"
            )
        elif room_served_first:
            why = (
                f"relief comes after the {joined(served_first)} children (policy "
                "over_cap_relief_after), and no eligible worker had room left for enough "
                "of theirs"
            )
        else:
            why = "no eligible worker had room for enough of their children"
        notes.append(
            f"{s} stays over cap: {points(load[s])} of {points(state.capacity[s])} points ({why})"
        )
    workers = worker_table(state, load, count)
    # Every figure from the tier registry, on the plan's placements: what check
    # recomputes. The engine's own tier values (``values``) agree but on
    # ``siblings_apart``, which the engine counts from the families' workers before
    # for families only moved for cover or relief: a constant apart.
    objective = rebalance_values(state, placed)
    returns = objective.pop("previous_worker_returns")
    objective["changes_lower_bound"] = lower_bound
    objective["previous_worker_returns"] = returns  # as the daily tier, referrals too
    siblings_shift = int(objective["siblings_apart"]) - values["siblings_apart"]
    # The plan's tiers, as its objective keys; an optimal plan meets every bound.
    tier_keys = [t.key for t in rebalance_tiers(state.policy)]
    plan_bound = (
        {k: objective[k] for k in tier_keys}
        if status == "optimal"
        else _plan_bound(setup, bound, objective, siblings_shift)
    )
    return to_plan(
        state,
        status=status,
        objective=objective,
        tiers=rebalance_tiers(state.policy),
        bound=plan_bound,
        proved={k: plan_bound.get(k) == objective[k] for k in tier_keys} if plan_bound else None,
        assignments=assignments,
        unallocated=unallocated,
        workers=workers,
        seconds=seconds,
        notes=notes,
        settings=settings,
        options=options,
        handovers=handovers,
    )


# ---------------------------------------------------------------------------- cap cost


@dataclass
class CapCost:
    """What a policy (typically a lower cap) would cost the service today.

    Attributes
    ----------
    plan
        The rebalance under the new policy.
    changes
        Children who must change worker under it (all reasons).
    changes_for_cap
        Of those, children moved off workers over the new cap.
    could_not_hold
        Children the service could not hold at all: unallocated, left with a
        long-absent worker, or the fewest children still beyond a worker's cap.
    could_not_hold_by
        ``could_not_hold`` by those three reasons, keyed ``unallocated``,
        ``left_with_absent_worker`` and ``beyond_a_cap``.
    extra_fte
        Grade -> extra FTE needed to hold today's caseload with no child changing
        worker: per worker over the new cap, excess points / (points per FTE x grade
        factor), summed by grade.
    baseline
        The same figures for the same rebalance under today's policy, where asked
        (:func:`cap_cost`'s ``baseline``): what the service sees anyway.
    """

    plan: Plan
    changes: int
    changes_for_cap: int
    could_not_hold: int
    extra_fte: dict[Grade, float]
    could_not_hold_by: dict[str, int] = field(default_factory=dict)
    baseline: CapCost | None = None

    def notes(self) -> list[str]:
        """The report as sentences for a plan's ``notes``."""
        fte = ", ".join(f"{g.value} {v:.2f}" for g, v in self.extra_fte.items()) or "none"
        out = [
            f"cap cost: {counted(self.changes, 'child', 'children')} must change worker "
            f"({self.changes_for_cap} because of the cap); {self.could_not_hold} could not "
            f"be held at all; extra FTE to keep every child with their worker: {fte} "
            f"(total {sum(self.extra_fte.values()):.2f})"
        ]
        if self.baseline is not None:
            out.append(
                "under today's policy the same rebalance: "
                f"{counted(self.baseline.changes, 'child changes', 'children change')} worker, "
                f"{self.baseline.could_not_hold} could not be held "
                f"at all: the policy's own cost is the difference"
            )
        return out


def cap_cost(
    snapshot: Snapshot,
    policy: Policy,
    settings: Settings | None = None,
    *,
    max_moves: int | None = None,
    baseline: Policy | None = None,
) -> CapCost:
    """Rebalance under ``policy`` and report what it costs (see :class:`CapCost`).

    ``settings`` and ``max_moves`` are those of :func:`rebalance`. With ``baseline``
    (today's policy), the same rebalance under it too, as the report's ``baseline``:
    what the service would see anyway (a leaver's children, referrals without room),
    so that the policy's own cost is the difference. Two solves, each with
    ``settings``.

    Raises
    ------
    TypeError
        If the snapshot, policy, settings or baseline is of another kind (a dict, a
        file name; ``None`` for the policy), or ``max_moves`` is not a whole number
        or ``None``, naming the argument.
    InputError
        If the snapshot (a ``model_copy`` no constructor checked) does not hold to the
        contract, one sentence per problem.
    PolicyError
        A ``ValueError``: the policy or baseline copy out of its domains.
    ValueError
        If ``max_moves`` is outside 0 to 1,000,000.
    """
    check_arguments(
        "cap_cost",
        optional=("settings", "baseline"),
        snapshot=snapshot,
        policy=policy,
        settings=settings,
        baseline=baseline,
    )
    max_moves = check_count("cap_cost", "max_moves", max_moves, none=True)
    snapshot, policy = (
        admitted("cap_cost", "snapshot", snapshot),
        admitted("cap_cost", "policy", policy),
    )
    baseline = admitted("cap_cost", "baseline", baseline)
    settings = resolve_settings(settings, call="cap_cost")
    plan = rebalance(snapshot, policy, settings, max_moves=max_moves)
    report = _cap_figures(snapshot, policy, plan)
    if baseline is not None:
        report.baseline = _cap_figures(
            snapshot, baseline, rebalance(snapshot, baseline, settings, max_moves=max_moves)
        )
    report.plan = plan.model_copy(update={"notes": (*plan.notes, *report.notes())})
    return report


def _cap_figures(snapshot: Snapshot, policy: Policy, plan: Plan) -> CapCost:
    """The figures of :class:`CapCost` for ``plan``, a rebalance under ``policy``."""
    state = ServiceState.of(snapshot, policy)
    over = {
        w
        for w in state.practitioners
        if w not in state.gone and state.load_before[w] > state.capacity[w]
    }
    changes_for_cap = sum(1 for a in plan.assignments if a.from_ in over)
    after = {row.id: row for row in plan.workers}
    beyond = 0
    for w in over:
        if is_long_absent(state, w):
            continue  # their children are counted as left with an absent worker
        row = after[w]
        excess = round(row.load_after * POINTS_SCALE) - state.capacity[w]
        if excess <= 0:
            continue
        weights = sorted(
            (
                state.weight[c.id]
                for c in snapshot.cases
                if c.worker == w and all(a.case != c.id for a in plan.assignments)
            ),
            reverse=True,
        )
        taken = 0
        for w_ in weights:
            if taken >= excess:
                break
            taken += w_
            beyond += 1
    extra: dict[Grade, float] = {}
    for grade in Grade:
        total = sum(
            to_points(state.load_before[w] - state.capacity[w])
            / (policy.points_per_fte * policy.grade_factor[grade])
            for w in sorted(over)
            if state.practitioners[w].grade is grade and policy.grade_factor[grade] > 0
        )
        if total > 0:
            extra[grade] = round(total, 2)
    uncovered = int(plan.objective.get("uncovered_absence", 0))
    return CapCost(
        plan=plan,
        changes=int(plan.objective["changes_of_worker"]),
        changes_for_cap=changes_for_cap,
        could_not_hold=len(plan.unallocated) + uncovered + beyond,
        extra_fte=extra,
        could_not_hold_by={
            "unallocated": len(plan.unallocated),
            "left_with_absent_worker": uncovered,
            "beyond_a_cap": beyond,
        },
    )


__all__ = [
    "PLAN_TIERS",
    "CapCost",
    "cap_cost",
    "change_cost",
    "greedy_rebalance",
    "is_long_absent",
    "rebalance",
    "rebalance_tiers",
]
