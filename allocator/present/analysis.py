"""Score analysis of a plan, for the manager who signs it and the staff it concerns.

Every figure is recomputed in plain Python from the snapshot, the policy and the
plan's own lists -- never from solver state -- so each is also a check of the plan:

:func:`analyse_plan`
    Each hard rule (:data:`allocator.explain.check.RULES`) with its violations, and each
    objective tier (:func:`allocator.domain.objectives.daily_tiers`) with its value, the plan's
    reported value and bound, and the matches behind it (which children are
    unallocated, which families are split, who went back to a worker they know ...).
    The matches' points add up to the tier's value.
:func:`worker_statement`
    One worker's figures: capacity, load and utilisation before and after, the cases
    they hold after the plan (new today, moved in, kept) and the cases moved off.
:func:`explain_case`
    One case: where it went and why (or why it went nowhere), the rules that
    collide, and the next-best workers with why each was not chosen.
:func:`diff_plans`
    What differs between two plans: cases that go elsewhere, cases allocated in one
    only, and the tiers side by side.

Output about cases names ids, case types, complexity, weights and patch names only
(and, in the rules' own sentences, grades and skills).
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Collection, Mapping, Sequence
from datetime import date
from enum import Enum
from typing import Any, Literal

from allocator.arguments import admitted, check_arguments, check_count
from allocator.contract.faults import kind_of
from allocator.contract.models import Assignment, Handover, Plan, Snapshot, UnallocatedCode
from allocator.contract.policy import Policy
from allocator.contract.units import to_points
from allocator.domain.objectives import (
    Match,
    Tier,
    daily_tiers,
    evaluate,
    is_rebalance,
    plan_tiers,
    tier_vector,
)
from allocator.domain.objectives import Placements as TierPlacements
from allocator.domain.rules import (
    ServiceState,
    counted,
    departure_sentence,
    departures,
    is_long_absent,
    notice,
    room_kept_clause,
)
from allocator.explain.check import RULES, Violation, joined, judge_plan
from allocator.explain.reasons import (
    PlanView,
    assignment_reasons,
    availability_rule,
    had_room,
    kept_off,
    worker_blockers,
)
from allocator.problems.recommend import (
    BEFORE_PLAN,
    ONCE_APPLIED,
    SCORED,
    Recommender,
    colliding,
    room_sentence,
    score_key,
    unknown_case,
    unknown_worker,
)

Side = Literal["a", "b", "same"]


def to_data(obj: Any) -> Any:
    """Plain JSON-able data from the results of this module (dataclasses, tuples, dates)."""
    if hasattr(obj, "to_dict"):
        return obj.to_dict()
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: to_data(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, tuple) and hasattr(obj, "_fields"):  # a NamedTuple
        return {k: to_data(getattr(obj, k)) for k in obj._fields}
    if isinstance(obj, list | tuple):
        return [to_data(v) for v in obj]
    if isinstance(obj, dict):
        return {str(k): to_data(v) for k, v in obj.items()}
    if isinstance(obj, date):
        return obj.isoformat()
    if isinstance(obj, Enum):
        return obj.value
    return obj


# ------------------------------------------------------------------ placements


@dataclasses.dataclass(frozen=True)
class Placements:
    """What a plan does to the snapshot, read the way :func:`check_plan` reads it.

    Attributes
    ----------
    daily
        Case -> worker for the cases that needed a worker and get one (the
        placements the objective tiers describe).
    moves
        Case -> worker for cases that kept a worker but are moved (a rebalance).
    final
        Every case -> its worker once the plan is applied (``None``: no worker).
    """

    daily: dict[str, str]
    moves: dict[str, str]
    final: dict[str, str | None]


def max_moves_of(plan: Plan) -> int | None:
    """The plan's limit on changes of worker (``rebalance --max-moves``), if it records one."""
    value = plan.settings.get("max_moves")
    return value if isinstance(value, int) else None


def placements(state: ServiceState, plan: Plan) -> Placements:
    """The plan's placements: the first assignment of each known case to a known worker.

    Listings that change nothing, name unknown cases or workers, or repeat a case are
    skipped (:func:`allocator.explain.check.check_plan` reports them).
    """
    given: dict[str, str] = {}
    for a in plan.assignments:
        case = state.cases.get(a.case)
        if case is None or a.case in given or a.worker not in state.practitioners:
            continue
        if a.worker == case.worker and a.worker not in state.gone:
            continue
        given[a.case] = a.worker
    for h in plan.handovers:  # a planned handover, as the move it becomes on its day
        case = state.cases.get(h.case)
        if case is None or h.case in given or h.worker not in state.practitioners:
            continue
        if h.worker != case.worker:
            given[h.case] = h.worker
    need = set(state.to_allocate)
    final: dict[str, str | None] = {cid: c.worker for cid, c in state.cases.items()}
    for u in plan.unallocated:
        if u.case in final and u.case not in given:
            final[u.case] = None
    final.update(given)
    return Placements(
        daily={c: w for c, w in given.items() if c in need},
        moves={c: w for c, w in given.items() if c not in need},
        final=final,
    )


# ------------------------------------------------------------------ plan analysis


@dataclasses.dataclass(frozen=True)
class RuleResult:
    """One hard rule and the plan's violations of it (normally none)."""

    rule: str
    violations: tuple[Violation, ...]

    @property
    def count(self) -> int:
        """How many violations."""
        return len(self.violations)

    def to_dict(self) -> dict[str, Any]:
        """Plain data for JSON."""
        return {"rule": self.rule, "count": self.count, "violations": to_data(self.violations)}


@dataclasses.dataclass(frozen=True)
class TierResult:
    """One objective tier: recomputed value, the plan's figure, its bound, and matches.

    Attributes
    ----------
    key, label, sense
        As in :func:`allocator.domain.objectives.daily_tiers`.
    value
        Recomputed from the plan's placements (:func:`allocator.domain.objectives.evaluate`).
    reported
        The plan's ``objective`` figure, if it gives one.
    bound
        The plan's proved bound for the tier, if any.
    matches
        What makes up the value; their ``points`` add up to it.
    """

    key: str
    label: str
    sense: str
    value: int | float
    reported: int | float | None
    bound: int | float | None
    matches: tuple[Match, ...]


@dataclasses.dataclass(frozen=True)
class PlanAnalysis:
    """Every hard rule and every objective tier of one plan, with what is behind them.

    Attributes
    ----------
    as_of, status
        The plan's.
    allocated, unallocated
        Cases that needed a worker and got one, or not.
    moved
        Cases that kept a worker and are moved today (a rebalance plan).
    handovers
        Cases that keep their worker until a planned handover day, then move.
    rules
        Every rule of :data:`allocator.explain.check.RULES`, with its violations.
    tiers
        Every tier the plan is measured by (a rebalance's own, or the daily),
        recomputed on its placements, moves included, with the matches behind it.
    objective
        The plan's own ``objective``, as it reports it.
    notes
        The plan's notes, and what a reader of the figures should know.
    stale
        The plan's summaries (``workers``, ``objective``) that disagree with its
        placements (:func:`allocator.explain.check.stale_summaries`): not broken rules.
    exceptions
        Cases kept with a worker the who-may-hold-what table would not allow, because
        a manager pinned them there (case id, sentence), recomputed from the snapshot.
    """

    as_of: date
    status: str
    allocated: int
    unallocated: int
    moved: int
    rules: tuple[RuleResult, ...]
    tiers: tuple[TierResult, ...]
    objective: dict[str, int | float] = dataclasses.field(default_factory=dict)
    notes: tuple[str, ...] = ()
    stale: tuple[Violation, ...] = ()
    exceptions: tuple[tuple[str, str], ...] = ()
    handovers: int = 0

    @property
    def violations(self) -> int:
        """Violations of all rules together."""
        return sum(r.count for r in self.rules)

    def to_dict(self) -> dict[str, Any]:
        """Plain data for JSON."""
        data = {f.name: to_data(getattr(self, f.name)) for f in dataclasses.fields(self)}
        data["violations"] = self.violations
        return data


def analyse_plan(snapshot: Snapshot, policy: Policy, plan: Plan) -> PlanAnalysis:
    """Each hard rule and each objective tier of ``plan``, with the cases behind them.

    Parameters
    ----------
    snapshot, policy
        The service the plan is for and the policy it must obey.
    plan
        Any plan: the allocator's or a manager's.

    Returns
    -------
    PlanAnalysis
        Rules in the order of :data:`allocator.explain.check.RULES`, tiers in priority order.

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
    """
    check_arguments("analyse_plan", snapshot=snapshot, policy=policy, plan=plan)
    snapshot, plan = (
        admitted("analyse_plan", "snapshot", snapshot),
        admitted("analyse_plan", "plan", plan),
    )
    policy = admitted("analyse_plan", "policy", policy)
    state = ServiceState.of(snapshot, policy)
    found, stale = judge_plan(snapshot, policy, plan)
    rules = tuple(RuleResult(rule, tuple(v for v in found if v.rule == rule)) for rule in RULES)
    placed = placements(state, plan)
    # The tiers the plan is measured by (a rebalance's own, or the daily), each
    # recomputed on every placement, moves included, as the plan's figures are; the
    # diagnoses are made under the same outcome (as the plan's own).
    on = TierPlacements(state, {**placed.daily, **placed.moves})
    view = PlanView.of(state, on.placed, max_moves_of(plan), outcome=on)
    tiers = tuple(
        TierResult(
            key=t.key,
            label=t.label,
            sense=t.sense,
            value=t.value(on),
            reported=plan.objective.get(t.key),
            bound=plan.bound.get(t.key) if plan.bound else None,
            matches=_tier_matches(t, on, view),
        )
        for t in plan_tiers(policy, plan.objective)
    )
    notes = list(plan.notes)
    notes.extend(
        f"handover planned: {h.case} from {h.from_} to {h.worker} on {h.on} "
        f"({notice(h.notice_days)}; {h.from_} goes on {h.departs})"
        for h in plan.handovers
    )
    handed = len({h.case for h in plan.handovers} & placed.moves.keys())
    if placed.moves:
        kind = "a rebalance: its own tiers" if is_rebalance(plan.objective) else "the daily tiers"
        today = len(placed.moves) - handed
        ahead = f" and {handed} handed over on their day" if handed else ""
        notes.append(
            f"{counted(today, 'case')} that kept a worker are moved today{ahead} (as a rebalance "
            f"or --allow-moves does); {kind} are recomputed on every placement, moves "
            "and handovers included"
        )
    return PlanAnalysis(
        as_of=plan.as_of,
        status=plan.status,
        allocated=len(placed.daily),
        unallocated=len(state.to_allocate) - len(placed.daily),
        moved=len(placed.moves) - handed,
        handovers=handed,
        rules=rules,
        tiers=tiers,
        objective=dict(plan.objective),
        notes=tuple(notes),
        stale=tuple(stale),
        exceptions=tuple(state.exceptions.items()),
    )


def _tier_matches(tier: Tier, on: TierPlacements, view: PlanView) -> tuple[Match, ...]:
    """What makes up a tier's value (points add up to it): the tier's own matches.

    A child left without a worker is justified by its diagnosis (code and reason).
    """
    matches = tier.matches(on)
    if not tier.priority_class:
        return matches
    return tuple(
        dataclasses.replace(m, justification=f"{d.code}: {d.reason}")
        for m in matches
        if (d := view.diagnose(m.cases[0]))
    )


# ------------------------------------------------------------------ worker statement


@dataclasses.dataclass(frozen=True)
class CaseLine:
    """One case on a worker's statement.

    Attributes
    ----------
    case, type, complexity, weight
        The case (weight in points).
    change
        ``kept`` (held before and after), ``no_handover`` (kept by a worker who
        departs within the leaving window, with no handover planned), ``new`` (had no
        worker), ``moved_in`` (from another worker today), ``handover_in`` (from
        another worker on a planned handover's day), ``moved_off`` (leaves this worker
        today), ``handover_off`` (leaves this worker on a planned handover's day).
    other_worker
        Where it came from (``moved_in``, ``handover_in``) or goes to (``moved_off``,
        ``handover_off``; ``None`` for unallocated).
    on
        The handover's day (``handover_in``, ``handover_off``), else ``None``.
    """

    case: str
    type: str
    complexity: int
    weight: float
    change: str
    other_worker: str | None = None
    on: date | None = None


@dataclasses.dataclass(frozen=True)
class WorkerStatement:
    """One worker's figures before and after the plan (what they may see of their own).

    ``capacity`` and the loads are in points; ``utilisation_before`` and
    ``utilisation_after`` are fractions of the capacity, not percents (0.85 is 85%;
    above 1 over the cap), rounded to 4 places, and ``None`` for a capacity of 0.
    """

    worker: str
    team: str
    grade: str
    fte: float
    availability: str | None
    capacity: float
    load_before: float
    load_after: float
    utilisation_before: float | None
    utilisation_after: float | None
    cases_before: int
    cases_after: int
    new_families: tuple[str, ...]
    intake_limit: int
    cases: tuple[CaseLine, ...]
    moved_off: tuple[CaseLine, ...]
    violations: tuple[Violation, ...]

    def to_dict(self) -> dict[str, Any]:
        """Plain data for JSON."""
        return {f.name: to_data(getattr(self, f.name)) for f in dataclasses.fields(self)}


def worker_statement(
    snapshot: Snapshot, policy: Policy, plan: Plan, worker_id: str
) -> WorkerStatement:
    """The workload statement of ``worker_id`` under ``plan``.

    Raises
    ------
    TypeError
        If the snapshot, policy, plan or ``worker_id`` is of another kind (a dict, a file
        name, ``None``, an int for an id), naming the argument.
    InputError
        If the snapshot or the plan (a ``model_copy`` no constructor checked) does not
        hold to the contract, one sentence per problem.
    PolicyError
        A ``ValueError``: a policy copy out of its domains.
    UnknownIdError
        If ``worker_id`` is not a practitioner of the snapshot.
    """
    check_arguments(
        "worker_statement", snapshot=snapshot, policy=policy, plan=plan, worker_id=worker_id
    )
    snapshot = admitted("worker_statement", "snapshot", snapshot)
    plan, policy = (
        admitted("worker_statement", "plan", plan),
        admitted("worker_statement", "policy", policy),
    )
    state = ServiceState.of(snapshot, policy)
    p = state.practitioners.get(worker_id)
    if p is None:
        raise unknown_worker(worker_id)
    placed = placements(state, plan)
    final = placed.final
    # A planned handover moves on its day, not today: said apart from today's moves.
    handover_on = {h.case: h.on for h in plan.handovers if h.case not in placed.daily}
    held: list[CaseLine] = []
    off: list[CaseLine] = []
    load_after = 0
    for cid, case in state.cases.items():
        before, after = case.worker, final[cid]
        on = handover_on.get(cid) if before != after else None

        def line(change: str, other: str | None, cid: str = cid, on: date | None = on) -> CaseLine:
            c = state.cases[cid]
            return CaseLine(
                cid, c.type.value, c.complexity, to_points(state.weight[cid]), change, other, on
            )

        if after == worker_id:
            load_after += state.weight[cid]
            if before == worker_id and worker_id in state.departing and cid in state.to_hand_over:
                # Theirs until they go, with nobody named yet: a fresh user read the
                # list of a leaver's children as settled.
                held.append(line("no_handover", None))
            elif before == worker_id:
                held.append(line("kept", None))
            elif before is None:
                held.append(line("new", None))
            else:
                held.append(line("handover_in" if on else "moved_in", before))
        elif before == worker_id:
            off.append(line("handover_off" if on else "moved_off", after))
    order = {"new": 0, "moved_in": 1, "handover_in": 2, "no_handover": 3, "kept": 4}
    held.sort(key=lambda c: (order[c.change], c.case))
    cap = state.capacity[worker_id]
    previous = {c.family for c in snapshot.cases if c.worker == worker_id}
    given = {**placed.daily, **placed.moves}
    new = sorted({state.cases[c].family for c, w in given.items() if w == worker_id} - previous)
    blocker = availability_rule(state, worker_id)
    return WorkerStatement(
        worker=worker_id,
        team=p.team,
        grade=p.grade.value,
        fte=p.fte,
        availability=blocker.message if blocker else None,
        capacity=to_points(cap),
        load_before=to_points(state.load_before[worker_id]),
        load_after=to_points(load_after),
        utilisation_before=round(state.load_before[worker_id] / cap, 4) if cap > 0 else None,
        utilisation_after=round(load_after / cap, 4) if cap > 0 else None,
        cases_before=state.cases_before[worker_id],
        cases_after=len(held),
        new_families=tuple(new),
        intake_limit=policy.max_new_families_per_day,
        cases=tuple(held),
        moved_off=tuple(sorted(off, key=lambda c: c.case)),
        violations=tuple(
            v for v in judge_plan(snapshot, policy, plan)[0] if _concerns(v, worker_id, plan)
        ),
    )


def _concerns(violation: Violation, worker_id: str, plan: Plan) -> bool:
    """Whether a broken rule belongs on ``worker_id``'s statement: it names them, or
    names no worker but a case the plan lists with them (a case listed twice, one
    listing theirs: the statement shows the first), or names neither (the whole plan
    is in doubt). A manager shown a clean statement from a broken plan would trust it."""
    if violation.worker is not None:
        return violation.worker == worker_id
    if violation.case is None:
        return True
    listed = {a.case for a in plan.assignments if a.worker == worker_id}
    listed |= {h.case for h in plan.handovers if h.worker == worker_id}
    return violation.case in listed


# ------------------------------------------------------------------ one case


@dataclasses.dataclass(frozen=True)
class Alternative:
    """A next-best worker for a case, and why the plan did not choose them.

    ``eligible`` is ``False`` for a near miss the rules stop before the plan, listed
    for a child left without a worker whom nobody may take: ``why_not`` then gives
    every rule that stops them.
    """

    worker: str
    score: dict[str, int]
    reasons: tuple[str, ...]
    why_not: tuple[str, ...]
    eligible: bool = True


@dataclasses.dataclass(frozen=True)
class CaseExplanation:
    """Why one case went where it did, or nowhere, and why not to the next-best workers.

    Attributes
    ----------
    outcome
        ``allocated`` (had no worker, given one), ``moved`` (from another worker),
        ``handover`` (a handover planned ahead: ``reasons`` give its day and notice),
        ``unallocated`` (ends with no worker), ``kept`` (the plan leaves it with its
        worker), ``missing`` (needs a worker but the plan does not list it) or
        ``invalid`` (assigned to someone who is not a practitioner, or to the worker
        who already holds it: see ``violations``).
    worker_before, worker_after
        Its worker in the snapshot and once the plan is applied.
    reasons
        For a placed case, :func:`allocator.explain.reasons.assignment_reasons` recomputed.
    plan_agrees
        Whether the reasons (or the unallocated code and reason) the plan states are
        the recomputed ones; ``None`` when it states none. The plan's own text is not
        repeated: a hand-made plan's may hold anything.
    plan_code
        The unallocated code the plan gives, where it lists the case as unallocated.
    code, diagnosis
        For a case left without a worker, the recomputed diagnosis.
    colliding_rules
        For a case nobody may take, the rules that together leave it nobody.
    score
        The tier score of its placement, where placed.
    alternatives
        The next-best workers (eligible before the plan), best first, each with why
        it was not chosen, their room reasons said as judged before the plan
        (:data:`~allocator.problems.recommend.BEFORE_PLAN`; for a ``kept`` case, once
        it is applied); for a child left without a worker, then up to ``top``
        more whose room the engine keeps for another child (held or kept room, which
        the diagnosis names), by id. For a child left without a worker whom nobody
        may take before the plan, the ``top`` nearest misses instead
        (``eligible`` false), each with the rules that stop them.
    violations
        The plan's violations concerning this case.
    needs_worker
        Why the case needs a worker today (no worker, worker gone, or a worker who
        may no longer hold it: :attr:`allocator.domain.rules.ServiceState.needs`), or ``None``.
    exception
        Why the case stays with its worker only as a manager's managed exception
        (:attr:`allocator.domain.rules.ServiceState.exceptions`), or ``None``.
    no_handover
        For a ``kept`` child of a worker departing within the leaving window with no
        handover in the plan: "P3 leaves on ...; no handover planned: <why>", the why
        judged once the plan is applied (:func:`_no_handover`); else ``None``.
    days_waiting
        For a case that needs a worker, the days it has waited for one
        (:attr:`allocator.domain.rules.ServiceState.days_waiting`); else ``None``.
    head_start
        For a case that needs a worker, the days their class tier counts beyond those
        waited (:meth:`allocator.domain.rules.ServiceState.counted_wait`: policy
        ``waiting.type_weeks`` for the case's type, and ``waiting.lost_worker_weeks``
        for a child who lost their worker, each x 7), or ``None`` when none.
    priority, priority_class
        The case's ``priority`` (``urgent`` or ``standard``) and the name of the
        policy's priority class that holds it (:meth:`~allocator.contract.policy.Policy.class_name`:
        ``urgent``, ``statutory`` or ``other`` by default), the order in which children
        get a worker.
    """

    case: str
    family: str
    type: str
    complexity: int
    weight: float
    outcome: str
    worker_before: str | None
    worker_after: str | None
    reasons: tuple[str, ...]
    plan_agrees: bool | None
    plan_code: str | None
    code: str | None
    diagnosis: str | None
    colliding_rules: tuple[str, ...]
    score: dict[str, int] | None
    alternatives: tuple[Alternative, ...]
    violations: tuple[Violation, ...]
    needs_worker: str | None = None
    exception: str | None = None
    no_handover: str | None = None
    days_waiting: int | None = None
    head_start: int | None = None
    priority: str = "standard"
    priority_class: str = "other"

    def to_dict(self) -> dict[str, Any]:
        """Plain data for JSON."""
        return {f.name: to_data(getattr(self, f.name)) for f in dataclasses.fields(self)}


def _colliding_rules(state: ServiceState, case_id: str, view: PlanView) -> tuple[str, ...]:
    """The rules that leave ``case_id`` nobody under ``view``, as ``recommend`` names
    them (:func:`allocator.problems.recommend.colliding`), from every worker who has
    not left; empty when somebody may take it."""
    blocked: Counter[frozenset[str]] = Counter(
        frozenset(b.rule for b in worker_blockers(state, case_id, wid, view))
        for wid in state.practitioners
        if wid not in state.gone
    )
    return colliding(blocked)


def explain_case(
    snapshot: Snapshot,
    policy: Policy,
    plan: Plan,
    case_id: str,
    *,
    top: int = 5,
    recommender: Recommender | None = None,
) -> CaseExplanation:
    """Where ``case_id`` went under ``plan`` and why; the next-best workers and why not.

    Parameters
    ----------
    snapshot, policy, plan
        The service, its policy and the plan.
    case_id
        Any case of the snapshot.
    top
        How many next-best workers to give.
    recommender
        A :class:`~allocator.problems.recommend.Recommender` of ``snapshot`` under ``policy``,
        to share one across calls.

    Raises
    ------
    TypeError
        If the snapshot, policy, plan or ``case_id`` is of another kind (a dict, a file
        name, ``None``, an int for an id), or ``top`` is not a whole number, naming the argument.
    InputError
        If the snapshot or the plan (a ``model_copy`` no constructor checked) does not
        hold to the contract, one sentence per problem.
    PolicyError
        A ``ValueError``: a policy copy out of its domains.
    ValueError
        If ``top`` is outside 0 to 1,000,000, or ``recommender`` is of another
        snapshot or policy (a ``TypeError`` if it is no Recommender).
    UnknownIdError
        If ``case_id`` is not a case of the snapshot.
    """
    check_arguments("explain_case", snapshot=snapshot, policy=policy, plan=plan, case_id=case_id)
    top = check_count("explain_case", "top", top)
    snapshot = admitted("explain_case", "snapshot", snapshot)
    plan, policy = (
        admitted("explain_case", "plan", plan),
        admitted("explain_case", "policy", policy),
    )
    if recommender is not None and not isinstance(recommender, Recommender):
        raise TypeError(
            f"explain_case: recommender is {kind_of(recommender)}, expected an "
            "allocator.Recommender of the snapshot under the policy, or None"
        )
    if recommender is not None and (
        recommender.state.snapshot != snapshot or recommender.state.policy != policy
    ):
        # One kept from yesterday's service answered for today's, with its loads.
        raise ValueError(
            "explain_case: recommender is of another snapshot or policy than the ones "
            "given: build one of these (allocator.Recommender(snapshot, policy))"
        )
    # The alternatives are ranked on the service before the plan, and their room
    # reasons say so beside the why-nots judged once it is applied.
    rec = (recommender or Recommender(snapshot, policy)).judging_on(BEFORE_PLAN)
    state = rec.state
    case = state.cases.get(case_id)
    if case is None:
        raise unknown_case(case_id)
    placed = placements(state, plan)
    # Every placement of the plan, moves included: the loads and intake under which the
    # allocator and the rebalance write their reasons and diagnoses.
    everything = {**placed.daily, **placed.moves}
    view = PlanView.of(state, everything, max_moves_of(plan))
    after = placed.final[case_id]
    before = case.worker
    listed_as: dict[str, Assignment] = {}
    for a in plan.assignments:
        listed_as.setdefault(a.case, a)  # the first listing counts, as in check_plan
    lost_as = {u.case: u for u in plan.unallocated}

    reasons: tuple[str, ...] = ()
    plan_agrees: bool | None = None
    plan_code: str | None = None
    code = diagnosis = None
    collide: tuple[str, ...] = ()
    handed = {h.case: h for h in plan.handovers}
    if case_id in handed and case_id not in listed_as:
        h = handed[case_id]
        outcome = "handover"  # moves on h.on, with h.notice_days days' notice
        reasons = (
            f"handover planned on {h.on} ({notice(h.notice_days)}): {h.from_} goes on {h.departs}",
            *assignment_reasons(state, everything, case_id, view=view),
        )
    elif case_id in placed.daily or case_id in placed.moves:
        outcome = "allocated" if before is None else "moved"
        reasons = assignment_reasons(state, everything, case_id, view=view)
        if case_id in listed_as and listed_as[case_id].reasons:
            plan_agrees = tuple(listed_as[case_id].reasons) == reasons
    elif case_id in listed_as:
        outcome = "invalid"  # listed with an unknown worker or with its own worker
    elif case_id in state.to_allocate:
        outcome = "unallocated" if case_id in lost_as else "missing"
        d = view.diagnose(case_id)
        code, diagnosis = str(d.code), d.reason
        alone = had_room(d)
        left_too = [sid for sid in state.families[case.family] if sid != case_id and sid in lost_as]
        if alone is not None and is_rebalance(plan.objective) and left_too:
            # A rebalance moves a family as one (allocator.problems.rebalancing): the
            # room for all of them may be what was missing, not search time.
            diagnosis = alone + (
                f" room for this child alone; a rebalance moves a family as one, and "
                f"{', '.join(sorted(left_too))} {'is' if len(left_too) == 1 else 'are'} left "
                "too: no worker had room for them all, or the search stopped before it found "
                "one; place this child by hand (allocator recommend) or make room"
            )
        collide = _colliding_rules(state, case_id, view)
        if case_id in lost_as:
            stated = lost_as[case_id]
            plan_code = str(stated.code)
            plan_agrees = (str(stated.code), stated.reason) == (code, diagnosis)
    else:
        outcome = "kept"
    no_handover = (
        _no_handover(state, view, plan, case_id)
        if outcome == "kept" and before is not None and before in state.departing
        else None
    )

    # The family as the plan leaves it, this child aside: ranks continuity in context.
    siblings = {
        w
        for sid in state.families[case.family]
        if sid != case_id
        and (w := placed.final[sid]) is not None
        and w in state.practitioners  # a hand-made plan's unknown worker is a violation
        and w not in state.gone
    }
    chosen = after if outcome in ("allocated", "moved", "handover") else None
    left = outcome in ("unallocated", "missing")
    found = rec.recommend(case_id, top=top + 1, ineligible=top if left else 0, siblings=siblings)
    others = [c for c in found.ranked if c.worker != chosen][:top]
    if left and not found.eligible_count:
        # Nobody may take the child even before the plan: an empty table read as
        # "nobody came near" (a fresh user's urgent child), while recommend listed
        # who did. The nearest misses before the plan, those fewest rules stop once it
        # is applied first (the workers the diagnosis names), each with what stops them.
        others = sorted(
            found.ineligible,
            key=lambda c: len({b.rule for b in worker_blockers(state, case_id, c.worker, view)}),
        )
    blamed = _kept_off(state, view, case_id) if outcome == "unallocated" else []
    if any(w not in {c.worker for c in others} for w in blamed):
        # The reason names workers whose room is held or kept for another child, by id;
        # they may rank below the table's cut on score, and a manager looks for the
        # ones the reason names in the table (at most ``top`` more rows, in its order).
        everyone = rec.recommend(case_id, top=len(state.practitioners), ineligible=0)
        by_worker = {c.worker: c for c in everyone.ranked}
        shown = {c.worker for c in others}
        others += [by_worker[w] for w in blamed if w not in shown and w in by_worker][:top]
    chosen_score = rec.score(case_id, chosen, siblings=siblings) if chosen else None
    alternatives = tuple(
        Alternative(
            worker=c.worker,
            score=c.score,
            reasons=_room_after(state, view, rec, case_id, c.worker, c.reasons)
            if outcome == "kept"
            else c.reasons,
            why_not=tuple(
                _why_not(
                    state, view, plan, case_id, c.worker, c.score, chosen, chosen_score, outcome
                )
                if c.eligible
                else _stopped(state, view, plan, case_id, c.worker, c.score, outcome)
            ),
            eligible=c.eligible,
        )
        for c in others
    )
    return CaseExplanation(
        case=case_id,
        family=case.family,
        type=case.type.value,
        complexity=case.complexity,
        weight=to_points(state.weight[case_id]),
        outcome=outcome,
        worker_before=before,
        worker_after=after,
        reasons=reasons,
        plan_agrees=plan_agrees,
        plan_code=plan_code,
        code=code,
        diagnosis=diagnosis,
        colliding_rules=collide,
        score=chosen_score,
        alternatives=alternatives,
        violations=tuple(v for v in judge_plan(snapshot, policy, plan)[0] if v.case == case_id),
        needs_worker=state.needs.get(case_id),
        exception=state.exceptions.get(case_id),
        no_handover=no_handover,
        days_waiting=state.days_waiting.get(case_id),
        head_start=(state.counted_wait(case_id, 0) or None) if case_id in state.needs else None,
        priority=case.priority.value,
        priority_class=policy.class_name(case),
    )


def _kept_off(state: ServiceState, view: PlanView, case_id: str) -> list[str]:
    """The workers with room for ``case_id`` under the plan who the engine keeps it
    off, their room held or kept for another child (the reason names them), by id."""
    staff = sorted(w for w in state.practitioners if w not in state.gone)
    with_room, held, kept = kept_off(state, case_id, staff, view.load)
    return [w for w in with_room if w in held or w in kept]


def _no_handover(state: ServiceState, view: PlanView, plan: Plan, case_id: str) -> str:
    """Why a departing worker's child has no handover in ``plan``, once it is applied.

    A child pinned to the worker is left for a manager to re-pin (docs/FORMAT.md
    "Planned handovers"); otherwise the diagnosis of a child without a worker under
    the plan's loads and intake (no room, intake limit, nobody may hold it).
    """
    case = state.cases[case_id]
    source = case.worker
    assert source is not None
    why: str
    if case.pinned_worker == source:
        why = f"pinned to {source} by a manager; re-pin the child to plan a handover"
    else:
        d = view.diagnose(case_id)
        if d.code == UnallocatedCode.SEARCH_LIMIT and not plan.handovers:
            why = "this plan plans no handovers (allocator rebalance plans them ahead)"
        else:
            why = d.reason
    return f"{departure_sentence(state, source)}; no handover planned: {why}"


def _room_after(
    state: ServiceState,
    view: PlanView,
    rec: Recommender,
    case_id: str,
    wid: str,
    reasons: tuple[str, ...],
) -> tuple[str, ...]:
    """``reasons`` (an alternative's from ``rec``, room judged before the plan) with
    the room ``wid`` has once the plan is applied in place of the room before it."""
    before = rec.room_reason(case_id, wid)
    kept = [r for r in reasons if r != before]
    late = _late(state, view, case_id, wid)
    if late:
        return (*kept, f"{ONCE_APPLIED}: {'; '.join(late)}")
    return (
        *kept,
        room_sentence(
            state.capacity[wid] - view.load[wid],
            view.load[wid] + state.weight[case_id],
            state.capacity[wid],
            ONCE_APPLIED,
        ),
    )


#: The rules a plan's placements change the verdict of: room and new families.
_ROOM_RULES = frozenset({"capacity", "intake_limit"})


def _late(state: ServiceState, view: PlanView, case_id: str, wid: str) -> list[str]:
    """What stops ``wid`` taking ``case_id`` on room and intake once the plan's other
    placements are applied, each sentence with its rule id."""
    return [
        f"{b.message} ({b.rule})"
        for b in worker_blockers(state, case_id, wid, view)
        if b.rule in _ROOM_RULES
    ]


def _stopped(
    state: ServiceState,
    view: PlanView,
    plan: Plan,
    case_id: str,
    wid: str,
    score: Mapping[str, int],
    outcome: str,
) -> list[str]:
    """Why ``wid``, a near miss the rules stop before the plan, could not take the
    child under it: every rule that stops them then, room and intake said as judged
    once the plan is applied; where none does (a rebalance freed their room), what
    :func:`_why_not` says of a worker with room."""
    held = [
        f"{b.message} ({b.rule})"
        for b in worker_blockers(state, case_id, wid, view)
        if b.rule not in _ROOM_RULES
    ]
    late = _late(state, view, case_id, wid)
    if not held:
        return _why_not(state, view, plan, case_id, wid, score, None, None, outcome)
    return [*held, f"{ONCE_APPLIED}: {'; '.join(late)}"] if late else held


def _why_not(
    state: ServiceState,
    view: PlanView,
    plan: Plan,
    case_id: str,
    wid: str,
    score: Mapping[str, int],
    chosen: str | None,
    chosen_score: Mapping[str, int] | None,
    outcome: str,
) -> list[str]:
    """Why ``wid``, eligible before the plan, did not get the case under it.

    The first tier, in priority order, on which ``wid`` scores worse than the chosen
    worker for this case alone, in that tier's own words
    (:meth:`allocator.domain.objectives.Tier.worse`); else the room the plan's other
    placements took (then, for a plan proved best, placing the case with ``wid``
    would cost the plan more elsewhere); else what is left: a search that stopped,
    or a tie.
    """
    if outcome == "kept":
        return []  # nobody was chosen over them: these are alternatives to the worker
    late = _late(state, view, case_id, wid)
    full = f"{ONCE_APPLIED}: {'; '.join(late)}"
    held = state.held_from(wid, case_id)
    if held is not None and not late:
        # The engine keeps the case off this worker: their room is held for a child
        # who has waited longer (the plan's reason for the case says so too).
        return [
            f"room held for {held}, waiting {state.days_waiting[held]} days (policy "
            "waiting.reserve_after_days): no child of their class or below goes to "
            f"{wid} until {held} fits"
        ]
    kept = state.room_kept_from(wid, case_id)
    if kept is not None and not late:
        # The engine keeps a lower-class child off a worker's last room while a
        # higher-class child they may hold waits (the plan's reason says so too).
        return [room_kept_clause(state, {wid: kept}, view.placed)]
    if chosen is None or chosen_score is None:
        return (
            [full]
            if late
            else ["had room under this plan; the search stopped before placing the case"]
        )
    mine, theirs = score_key(dict(score)), score_key(dict(chosen_score))
    better: Tier | None = None
    for tier, a, b in zip(SCORED, mine, theirs, strict=True):
        if a > b:
            worse = tier.worse(state, case_id, wid, chosen, score[tier.key], chosen_score[tier.key])
            return [worse, full] if late else [worse]
        if a < b:
            better = tier
            break
    if better is None:
        return [full] if late else [f"ties with {chosen} on every tier; the search kept {chosen}"]
    alone = f"better than {chosen} on '{better.label}' for this case alone"
    if is_rebalance(plan.objective) and not late:
        # A rebalance ranks by its own tiers (changes of worker and their cost), not
        # by the daily tiers this score is made of.
        return [f"{alone}, by the daily tiers; a rebalance weighs the changes of worker first"]
    if late:
        # Other cases of the plan took the room: that is where the case would cost more.
        taken = sorted(c for c, w in view.placed.items() if w == wid and c != case_id)
        went = f"; the room went to {joined(taken)}" if taken else ""
        if plan.status == "optimal":
            return [
                f"{alone}, but {full}{went}: the plan is proved best as a whole, so placing "
                f"it with {wid} would cost the plan more on this or a higher tier elsewhere"
            ]
        return [f"{alone}, but {full}{went}"]
    if plan.status == "optimal":
        return [
            f"{alone}, and {wid} has room under this plan: placing the case with {wid} would "
            "improve the plan, which says it is proved best (was it edited by hand?)"
        ]
    return [
        f"{alone}: this plan (status {plan.status}) is not proved best; a longer "
        "--time-limit may move it"
    ]


# ------------------------------------------------------------------ diff


@dataclasses.dataclass(frozen=True)
class CaseChange:
    """A case the two plans treat differently.

    Attributes
    ----------
    case
        The case.
    kind
        ``different_worker`` (both give it a worker, not the same),
        ``allocated_only_in_a`` / ``allocated_only_in_b`` (one gives it a worker, the
        other leaves it unallocated), ``moved_only_in_a`` / ``moved_only_in_b`` (one
        gives it a worker, the other does not list it: it keeps its worker there),
        ``different_handover`` (both give it a worker, at least one by a handover
        ahead, and not the same worker on the same day), ``handover_only_in_a`` /
        ``handover_only_in_b`` (one plans its handover ahead, the other does not
        list it: it stays with its departing worker there).
    a, b
        Its worker under each plan (``None``: unallocated or, where not listed, kept).
    a_on, b_on
        The day of its handover under each plan, where the plan hands it over ahead
        (``None``: given its worker today, or not at all).
    """

    case: str
    kind: str
    a: str | None
    b: str | None
    a_on: date | None = None
    b_on: date | None = None


@dataclasses.dataclass(frozen=True)
class TierComparison:
    """One tier's value under each plan, and which is better (``same`` when equal)."""

    key: str
    label: str
    sense: str
    a: int | float | None
    b: int | float | None
    better: Side | None


@dataclasses.dataclass(frozen=True)
class PlanDiff:
    """What differs between plans A and B.

    Attributes
    ----------
    changes
        The cases the plans treat differently, by case id.
    tiers
        Each tier side by side (recomputed when a snapshot was given, else as the
        plans report them).
    better
        The better plan by the tiers taken in priority order; ``None`` when a tier
        is missing. A plan that breaks a hard rule is never the better one: with a
        snapshot, the other plan is, if it keeps them; ``None`` if neither does.
    recomputed
        Whether the tiers were recomputed from a snapshot.
    broken_a, broken_b
        With a snapshot, the hard rules each plan breaks against it
        (:func:`allocator.explain.check.check_plan`, ``rule: message``); empty without.
    """

    as_of_a: date
    as_of_b: date
    changes: tuple[CaseChange, ...]
    tiers: tuple[TierComparison, ...]
    better: Side | None
    recomputed: bool
    notes: tuple[str, ...] = ()
    broken_a: tuple[str, ...] = ()
    broken_b: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """Plain data for JSON."""
        return {f.name: to_data(getattr(self, f.name)) for f in dataclasses.fields(self)}


def diff_plans(
    plan_a: Plan,
    plan_b: Plan,
    snapshot: Snapshot | None = None,
    policy: Policy | None = None,
) -> PlanDiff:
    """What differs between two plans; with ``snapshot``, tiers recomputed from it.

    Parameters
    ----------
    plan_a, plan_b
        The plans, e.g. the allocator's and a manager's edit of it.
    snapshot, policy
        When given, each plan's tiers are recomputed with
        :func:`allocator.domain.objectives.evaluate` rather than read from the plan.

    Raises
    ------
    TypeError
        If a plan is of another kind, or ``snapshot``/``policy`` is given and is of
        another kind, naming the argument and how to make one.
    InputError
        If a plan or the snapshot (a ``model_copy`` no constructor checked) does not
        hold to the contract, one sentence per problem.
    PolicyError
        A ``ValueError``: a policy copy out of its domains.
    """
    check_arguments(
        "diff_plans",
        optional=("snapshot", "policy"),
        plan_a=plan_a,
        plan_b=plan_b,
        snapshot=snapshot,
        policy=policy,
    )
    plan_a, plan_b = (
        admitted("diff_plans", "plan_a", plan_a),
        admitted("diff_plans", "plan_b", plan_b),
    )
    snapshot, policy = (
        admitted("diff_plans", "snapshot", snapshot),
        admitted("diff_plans", "policy", policy),
    )
    a_given, a_lost = _listed(plan_a)
    b_given, b_lost = _listed(plan_b)
    changes: list[CaseChange] = []
    for cid in sorted(set(a_given) | set(b_given) | a_lost | b_lost):
        (a, a_on), (b, b_on) = a_given.get(cid, (None, None)), b_given.get(cid, (None, None))
        ahead = a_on is not None or b_on is not None
        if a is not None and b is not None:
            if (a, a_on) != (b, b_on):
                kind = "different_handover" if ahead else "different_worker"
                changes.append(CaseChange(cid, kind, a, b, a_on, b_on))
        elif a is not None:
            kind = (
                "allocated_only_in_a"
                if cid in b_lost
                else "handover_only_in_a"
                if a_on is not None
                else "moved_only_in_a"
            )
            changes.append(CaseChange(cid, kind, a, None, a_on, None))
        elif b is not None:
            kind = (
                "allocated_only_in_b"
                if cid in a_lost
                else "handover_only_in_b"
                if b_on is not None
                else "moved_only_in_b"
            )
            changes.append(CaseChange(cid, kind, None, b, None, b_on))

    notes: list[str] = []
    if plan_a.as_of != plan_b.as_of:
        notes.append(f"the plans are for different days: {plan_a.as_of} and {plan_b.as_of}")
    policy = policy or Policy()
    # Two rebalances are compared on the rebalance's own tiers (changes of worker,
    # handovers, ...), as they report them: a fresh user's diff of two rebalances showed
    # only the daily tiers, which leave those out.
    rebalances = is_rebalance(plan_a.objective) and is_rebalance(plan_b.objective)
    all_tiers = plan_tiers(policy, plan_a.objective) if rebalances else daily_tiers(policy)
    if rebalances and snapshot is not None:
        notes.append(
            "both plans are rebalances: their own tiers are shown as the plans report them, "
            "not recomputed from the snapshot"
        )
    if snapshot is not None and not rebalances:
        state = ServiceState.of(snapshot, policy)
        values_a = evaluate(state, placements(state, plan_a).daily)
        values_b = evaluate(state, placements(state, plan_b).daily)
        for name, plan, values in (("A", plan_a, values_a), ("B", plan_b, values_b)):
            if placements(state, plan).moves:
                notes.append(
                    f"plan {name} moves cases that kept a worker (a rebalance); its tiers "
                    "count only the cases that needed a worker"
                )
                continue
            wrong = [
                t.key
                for t in all_tiers
                if t.key in plan.objective and plan.objective[t.key] != values[t.key]
            ]
            if wrong:
                notes.append(
                    f"plan {name} reports {joined(wrong)} differently from its placements; "
                    "the recomputed values are shown"
                )
    else:
        values_a, values_b = dict(plan_a.objective), dict(plan_b.objective)
    tiers = tuple(_compare(t, values_a.get(t.key), values_b.get(t.key)) for t in all_tiers)
    better: Side | None = None
    if all(t.key in values_a and t.key in values_b for t in all_tiers):
        va, vb = tier_vector(values_a, all_tiers), tier_vector(values_b, all_tiers)
        better = "a" if va < vb else "b" if vb < va else "same"
    # A manager comparing their edit with the engine's plan must not be told a plan
    # that breaks a hard rule is the better one (a fresh user's over-cap edit was).
    broken_a, broken_b = (
        ()
        if snapshot is None
        else tuple(f"{v.rule}: {v.message}" for v in judge_plan(snapshot, policy, plan)[0])
        for plan in (plan_a, plan_b)
    )
    if broken_a or broken_b:
        better = None if broken_a and broken_b else "b" if broken_a else "a"
    return PlanDiff(
        as_of_a=plan_a.as_of,
        as_of_b=plan_b.as_of,
        changes=tuple(changes),
        tiers=tiers,
        better=better,
        recomputed=snapshot is not None and not rebalances,
        notes=tuple(notes),
        broken_a=broken_a,
        broken_b=broken_b,
    )


def _listed(plan: Plan) -> tuple[dict[str, tuple[str, date | None]], set[str]]:
    """Per case the plan gives a worker, the worker and, for a handover ahead, its day
    (the first assignment, else the handover); and its unallocated cases."""
    given: dict[str, tuple[str, date | None]] = {}
    for a in plan.assignments:
        given.setdefault(a.case, (a.worker, None))
    for h in plan.handovers:
        given.setdefault(h.case, (h.worker, h.on))
    return given, {u.case for u in plan.unallocated if u.case not in given}


def _compare(tier: Tier, a: int | float | None, b: int | float | None) -> TierComparison:
    better: Side | None = None
    if a is not None and b is not None:
        if a == b:
            better = "same"
        elif (a < b) == (tier.sense == "min"):
            better = "a"
        else:
            better = "b"
    return TierComparison(tier.key, tier.label, tier.sense, a, b, better)


# ------------------------------------------------------------------ staffing warnings


#: The words after a worker's id in every over-cap warning of :func:`staffing_warnings`
#: (one definition: the page and the terminal find those sentences by it).
OVER_CAP = " is over their cap"


def staffing_warnings(
    snapshot: Snapshot,
    policy: Policy,
    plan: Plan,
    promised: Sequence[Handover] = (),
    *,
    absent: Collection[str] = (),
) -> list[str]:
    """What a manager must act on this morning about staff, once the plan is applied.

    A worker leaving, or starting a planned long absence, within the policy's window
    (``leaving_window_days``) who still holds a child with no handover planned after
    the plan, soonest first; and a worker over their cap after the plan, most over
    first. One sentence each, naming ids only.

    Parameters
    ----------
    snapshot, policy, plan
        The service, its policy and the plan (its ``workers`` table gives the
        caseloads after it).
    promised
        Handovers an earlier plan promised and still to make (``allocate
        --handovers``): counted as planned, beside the plan's own.
    absent
        Workers whose load another sentence tells (:func:`morning_risks`: a long
        absence, whose children need cover over cap or not): no over-cap sentence.
    """
    # Leaving within the window, or starting a planned long absence within it
    # (:attr:`allocator.domain.rules.ServiceState.departing`), soonest first.
    departing = departures(snapshot, policy)
    staff = {p.id: p for p in snapshot.practitioners}
    handed: dict[str, int] = {}
    ours = {h.case for h in plan.handovers}
    for h in [*plan.handovers, *(h for h in promised if h.case not in ours)]:
        handed[h.from_] = handed.get(h.from_, 0) + 1
    planned_here = {h.from_ for h in plan.handovers}
    out: list[str] = []
    # Counted from the plan's own lists, not its workers table: a rebalance's table
    # gives the loads once its handovers are made, a plan with handovers added by
    # hand the loads before them (the warning once said "0 without one" of the first).
    moved_off = {a.case for a in plan.assignments}
    for wid, day in sorted(departing.items(), key=lambda kv: (kv[1], kv[0])):
        held = [c.id for c in snapshot.cases if c.worker == wid and c.id not in moved_off]
        without = len(held) - handed.get(wid, 0)
        if without <= 0:
            continue
        days = (day - snapshot.as_of).days
        when = "tomorrow" if days == 1 else f"in {days} days"
        children = "child" if len(held) == 1 else "children"
        goes = (
            f"leaves on {day.isoformat()}"
            if staff[wid].leaving_on == day
            else f"starts a long absence on {day.isoformat()}"
        )
        planned = (
            f" ({counted(handed[wid], 'handover')} planned, {without} without one)"
            if wid in handed
            else ""
        )
        # Where this plan planned some of them, a rebalance has run: the rest found no
        # worker with room before the day (advice to run it again would go round).
        action = (
            "nobody the rules allow had room for the rest before the day: make room or agree cover"
            if wid in planned_here
            else "plan their handover (allocator rebalance plans it ahead)"
        )
        out.append(
            f"{wid} {goes} ({when}) and still holds {len(held)} {children}{planned}: {action}"
        )
    over = sorted(
        (w for w in plan.workers if w.load_after > w.capacity and w.id not in absent),
        key=lambda w: (w.capacity - w.load_after, w.id),
    )
    # Over cap by a manager's documented exception (the plan's exceptions): said as
    # agreed, not as something a rebalance should undo.
    excepted: dict[str, list[str]] = {}
    for e in plan.exceptions:
        if e.waives == "capacity":
            excepted.setdefault(e.worker, []).append(e.case)
    for w in over:
        load = f"{w.load_after:g} of {w.capacity:g} points ({counted(w.cases_after, 'case')})"
        if w.id in excepted:
            cases = ", ".join(sorted(excepted[w.id]))
            out.append(
                f"{w.id}{OVER_CAP} by a manager's exception for {cases}: {load}; "
                "review it when room frees"
            )
        elif w.id in departing:
            # Their children leave them by the day anyway: the departure is the story
            # (said above where handovers are missing), not a relief to come.
            out.append(
                f"{w.id}{OVER_CAP}: {load}, until they go on "
                f"{departing[w.id].isoformat()} and their children are handed over"
            )
        elif is_rebalance(plan.objective):
            # This plan is the rebalance: it found no room it could use for them.
            out.append(
                f"{w.id}{OVER_CAP}: {load}; the next rebalance relieves them when "
                "room frees (the plan's notes say why this one could not)"
            )
        else:
            out.append(f"{w.id}{OVER_CAP}: {load}; allocator rebalance can relieve them")
    return out


def morning_risks(
    snapshot: Snapshot, policy: Policy, plan: Plan, promised: Sequence[Handover] = ()
) -> list[str]:
    """The morning's whole picture of staff, for the meeting page and the report.

    :func:`staffing_warnings` (leavers and long absences starting within the window
    who still hold children, the handovers ``promised`` before counted as planned,
    over-cap staff), each over-cap worker's managed
    exceptions to the cap named, then each worker absent today for the policy's
    ``long_absence_days`` or more who still holds children after the plan, longest
    absence first. One sentence each, ids only.
    """
    state = ServiceState.of(snapshot, policy)
    away = sorted(
        (p for p in snapshot.practitioners if is_long_absent(state, p.id)),
        key=lambda p: (-(p.available_from - snapshot.as_of).days if p.available_from else 0, p.id),
    )
    # A long-absent worker's load is told by their absence's sentence below: over cap
    # or not, their children need cover (a rebalance counts them as left with an
    # absent worker, not among the workers still over cap).
    out = staffing_warnings(snapshot, policy, plan, promised, absent={p.id for p in away})
    excepted: dict[str, list[str]] = {}
    for e in plan.exceptions:
        if e.waives == "capacity":
            excepted.setdefault(e.worker, []).append(e.case)
    for i, sentence in enumerate(out):
        worker = sentence.split(" ", 1)[0]
        if worker in excepted and OVER_CAP in sentence:
            cases = ", ".join(excepted[worker])
            out[i] = f"{sentence} (over cap by a manager's exception: {cases})"
    after = {w.id: w for w in plan.workers}
    # After a rebalance, what it left with an absent worker found nobody with room
    # (advice to run it again would go round).
    action = (
        "nobody the rules allow had room for them in this rebalance: make room or agree cover"
        if is_rebalance(plan.objective)
        else "allocator rebalance covers them"
    )
    for p in away:
        row = after.get(p.id)
        held = row.cases_after if row is not None else state.cases_before[p.id]
        if held == 0:
            continue
        children = "child" if held == 1 else "children"
        # Leaving while away (a resignation during sick leave): said, as the staffing
        # warnings' leaver sentence is not given to an absent worker.
        leaves = (
            f"; leaves on {p.leaving_on}, before returning"
            if p.leaving_on is not None
            and p.available_from is not None
            and p.leaving_on < p.available_from
            else ""
        )
        out.append(
            f"{p.id} is absent until {p.available_from} (a long absence{leaves}) and still "
            f"holds {held} {children}: {action}"
        )
    return out
