"""The hard rules and the service's starting state, in plain Python.

One definition of each rule, shared by the engine (to decide which case x worker
pairs may exist at all), the greedy baseline, the checker and the explanations.
Nothing here imports the solver.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import cache, cached_property
from typing import Literal

from allocator.contract.faults import with_article
from allocator.contract.models import (
    Case,
    Grade,
    ManagedException,
    Practitioner,
    Priority,
    Snapshot,
    UnallocatedCode,
)
from allocator.contract.policy import Policy
from allocator.contract.units import (
    HALF_POINT,
    CentiPoints,
    capacity_units,
    percent,
    to_points,
    weight_units,
)


def waiting_start(case: Case, lost: Practitioner | None, day: date) -> date | None:
    """The ``waiting_since`` of ``case`` left without a worker on ``day``, having held
    ``lost`` (docs/FORMAT.md "Waiting"): the worker's last day if they have left (the
    child waited from then, or from the case's opening if later), else ``day``.
    ``None`` (wait from ``opened``, the default) for a case opened after ``day``,
    which loading warns of and reads as it is: no day is both on or after its
    opening and on or before ``day``."""
    if case.opened is not None and case.opened > day:
        return None
    if lost is not None and lost.leaving_on is not None and lost.leaving_on <= day:
        return max(lost.leaving_on, case.opened or lost.leaving_on)
    return day


def _lost_worker(case: Case) -> bool:
    """Whether ``case``, needing a worker, had one on this case (see
    :attr:`ServiceState.lost_worker`)."""
    if case.worker is not None:
        return True
    since = case.waiting_since
    if not case.previous_workers or since is None:
        return False
    return case.opened is None or since > case.opened


def is_gone(p: Practitioner, as_of: date) -> bool:
    """A worker whose last day is on or before ``as_of`` has left and holds nothing."""
    return p.leaving_on is not None and p.leaving_on <= as_of


def availability_blocker(p: Practitioner, as_of: date, policy: Policy) -> str | None:
    """Why ``p`` may take no new case on ``as_of``, or ``None`` if they may."""
    if is_gone(p, as_of):
        return f"{p.id} left on {p.leaving_on}"
    if p.available_from is not None and p.available_from > as_of:
        return f"{p.id} is absent until {p.available_from}"
    if p.leaving_on is not None and p.leaving_on <= as_of + timedelta(
        days=policy.leaving_window_days
    ):
        return f"{p.id} leaves on {p.leaving_on} (within {policy.leaving_window_days} days)"
    if planned_long_absence(p, as_of, policy):
        return (
            f"{p.id} is away from {p.absence_from} until {p.absence_until} "
            f"(a long absence starting within {policy.leaving_window_days} days)"
        )
    return None


def planned_long_absence(p: Practitioner, as_of: date, policy: Policy) -> bool:
    """A known absence of ``long_absence_days`` or more, not begun, starting within the
    leaving window (``absence_from`` after ``as_of``; docs/FORMAT.md "Planned handovers")."""
    return (
        p.absence_from is not None
        and p.absence_until is not None
        and as_of < p.absence_from <= as_of + timedelta(days=policy.leaving_window_days)
        and (p.absence_until - p.absence_from).days >= policy.long_absence_days
    )


def departure(p: Practitioner, as_of: date, policy: Policy) -> date | None:
    """The day a worker here today stops holding children, if a handover is due first.

    Their leaving day (``leaving_on`` after ``as_of`` and within the leaving window)
    or the first day of a planned long absence (:func:`planned_long_absence`),
    whichever comes first; ``None`` for any other worker (one who has left or is
    absent today is dealt with today, not ahead).
    """
    if is_gone(p, as_of) or (p.available_from is not None and p.available_from > as_of):
        return None
    days: list[date] = []
    if p.leaving_on is not None and p.leaving_on <= as_of + timedelta(
        days=policy.leaving_window_days
    ):
        days.append(p.leaving_on)
    if planned_long_absence(p, as_of, policy):
        assert p.absence_from is not None
        days.append(p.absence_from)
    return min(days, default=None)


def departures(snapshot: Snapshot, policy: Policy) -> dict[str, date]:
    """Worker -> the day they stop holding children (:func:`departure`), for each worker
    whose children need a handover planned ahead, by id (no indexing of the cases)."""
    out: dict[str, date] = {}
    for p in sorted(snapshot.practitioners, key=lambda p: p.id):
        day = departure(p, snapshot.as_of, policy)
        if day is not None:
            out[p.id] = day
    return out


def departure_sentence(state: ServiceState, worker_id: str) -> str:
    """Why ``worker_id``'s children need a handover: "P3 leaves on ...", or "P3 starts a
    long absence on ... (back ...)"."""
    p = state.practitioners[worker_id]
    day = state.departing[worker_id]
    if p.leaving_on == day:
        return f"{worker_id} leaves on {day}"
    return f"{worker_id} starts a long absence on {day} (back {p.absence_until})"


def handover_day(as_of: date, departs: date) -> date:
    """The day a child is handed over: the last weekday before ``departs``, not before
    ``as_of`` (the worker still works that day; on ``departs`` they have gone)."""
    day = departs - timedelta(days=1)
    while day.weekday() >= 5 and day > as_of:
        day -= timedelta(days=1)
    return max(day, as_of)


@cache  # few distinct labels; every sentence naming one comes here
def label_text(label: str) -> str:
    """A label (a skill, need, area or team) as a sentence shows it: each run of
    spaces, tabs and line breaks one space, none at either end.

    A label may hold line breaks by design (a spreadsheet cell may hold an area on two
    lines); put in a reason as written, it split the reason across two lines of a
    table ("needs court" / "fake: no worker has it"). Every sentence that names a label
    shows it through here; :func:`normalised`, the matching, reads it the same way.

    Examples
    --------
    >>> label_text("Patch\\n01a "), label_text("court\\r\\n\\tfake")
    ('Patch 01a', 'court fake')
    """
    return " ".join(label.split())


@cache  # a service has few distinct skills, needs and patches; this is on hot paths
def normalised(text: str) -> str:
    """A skill, need or area as it is matched: case ignored, and its spaces as a sentence
    shows them (:func:`label_text`: none around it, each run of spaces, tabs and line
    breaks one space).

    FORMAT.md: ``needs`` are "matched to ``skills`` ignoring case and surrounding
    spaces"; areas are matched the same way, and a line break within a label (a
    spreadsheet cell on two lines) is a space. The one definition every comparison uses.

    Examples
    --------
    >>> normalised("  Welsh "), normalised("Patch 02A") == normalised("patch\\n02a")
    ('welsh', True)
    """
    return label_text(text).casefold()


@cache
def normalised_set(items: tuple[str, ...]) -> frozenset[str]:
    """:func:`normalised` of each item (a worker's ``skills`` or ``areas``)."""
    return frozenset(normalised(item) for item in items)


def missing_needs(case: Case, p: Practitioner) -> list[str]:
    """The case's ``needs`` that are not among ``p``'s ``skills`` (see :func:`normalised`)."""
    if not case.needs:
        return []
    skills = normalised_set(p.skills)
    return [n for n in case.needs if normalised(n) not in skills]


def covers_area(p: Practitioner, area: str | None) -> bool | None:
    """Whether ``p``'s patches include ``area``; ``None`` when either is not given.

    An empty ``areas`` list means the worker covers any patch, which is not a match
    on the child's patch: that too gives ``None``.
    """
    if area is None or not p.areas:
        return None
    return normalised(area) in normalised_set(p.areas)


def kept_despite_grade(case: Case, p: Practitioner) -> bool:
    """Whether a manager's pin keeps ``case`` with ``p``, its current worker, despite grade.

    FORMAT.md: a pin naming the current worker keeps an outgrown case there as a
    managed exception to the who-may-hold-what table (never to ``needs`` or
    ``excluded_workers``). A pin never lets a new allocation or a move break a rule,
    so the exception holds only for the worker who holds the case today.
    """
    return case.worker == p.id and case.pinned_worker == p.id


def grade_blockers(case: Case, grade: Grade, policy: Policy) -> list[str]:
    """Why the who-may-hold-what table stops ``grade`` holding ``case``, if it does.

    The table's one definition: the grade's complexity ceiling, then its excluded
    types (``policy.grades``). Empty when the grade may hold the case.
    """
    rule = policy.grades[grade]
    out: list[str] = []
    if case.complexity > rule.max_complexity:
        out.append(
            f"complexity {case.complexity} is above {rule.max_complexity}, the most "
            f"{with_article(grade.value)} may hold"
        )
    if case.type in rule.excluded_types:
        out.append(f"{with_article(grade.value)} may not hold {case.type.value} work")
    return out


def holding_rules(case: Case, p: Practitioner, policy: Policy) -> list[tuple[str, str]]:
    """Every rule that stops ``p`` holding ``case`` at the end of a plan, with its rule id.

    The one definition of "may this worker hold this case once the plan is applied",
    for new allocations, moves and cases a plan keeps alike: each rule of
    :data:`HOLDING_RULES` in turn -- the who-may-hold-what table (rule id ``grade``:
    complexity ceiling and excluded types), ``needs`` within ``skills``
    (``skills``), ``excluded_workers`` (``excluded_worker``) and ``pinned_worker``
    (``pinned_worker``); not availability, capacity or intake, which bind only new
    cases (:data:`TAKING_RULES`).

    The table is waived for the case's current worker when the case is pinned to
    them (:func:`kept_despite_grade`).

    Returns
    -------
    list of (rule id, sentence)
        Empty when ``p`` may hold the case, else in the order above.
    """
    return [
        (rule.id, sentence) for rule in HOLDING_RULES for sentence in rule.broken(case, p, policy)
    ]


def holding_blockers(case: Case, p: Practitioner, policy: Policy) -> list[str]:
    """The sentences of :func:`holding_rules`: why ``p`` may not hold ``case``."""
    return [sentence for _, sentence in holding_rules(case, p, policy)]


def managed_exception(case: Case, p: Practitioner, policy: Policy) -> str | None:
    """Why ``case`` stays with ``p`` only as a managed exception, or ``None``.

    A sentence when ``p`` holds the case today, the case is pinned to ``p`` and the
    who-may-hold-what table alone would not let ``p`` hold it.
    """
    if not kept_despite_grade(case, p):
        return None
    unpinned = case.model_copy(update={"pinned_worker": None})
    table = [sentence for rule, sentence in holding_rules(unpinned, p, policy) if rule == "grade"]
    if not table:
        return None
    return f"pinned to {p.id} by a manager, who keeps it there although {'; '.join(table)}"


def why_needs_worker(
    case: Case, practitioners: Mapping[str, Practitioner], as_of: date, policy: Policy
) -> str | None:
    """Why ``case`` needs a worker today, or ``None`` when its worker may keep it.

    FORMAT.md: a case needs a worker when it has none, when its worker has left, or
    when its current worker breaks a hard rule today (:func:`holding_rules`: excluded,
    pinned to another, outgrown their grade, lacking a need), unless a pin to that
    worker keeps an outgrown case as a managed exception.

    Parameters
    ----------
    case
        The case as in the snapshot.
    practitioners
        Every practitioner by id (``case.worker``, if any, must be among them).
    as_of
        The snapshot's date.
    policy
        The who-may-hold-what table.

    Returns
    -------
    str or None
        ``"it has no worker"``, ``"P1 left on 2026-11-20"`` or ``"P1 may no longer
        hold it: ..."``; ``None`` when nothing needs doing.
    """
    if case.worker is None:
        return "it has no worker"
    p = practitioners[case.worker]
    if is_gone(p, as_of):
        return f"{p.id} left on {p.leaving_on}"
    broken = holding_blockers(case, p, policy)
    if broken:
        return f"{p.id} may no longer hold it: {'; '.join(broken)}"
    return None


def families_held(state: ServiceState) -> dict[str, frozenset[str]]:
    """Per worker, the families they hold at least one child of in the snapshot."""
    held: dict[str, set[str]] = defaultdict(set)
    for case in state.snapshot.cases:
        if case.worker is not None:
            held[case.worker].add(case.family)
    return {wid: frozenset(fams) for wid, fams in held.items()}


def new_families(state: ServiceState, given: Mapping[str, str]) -> dict[str, set[str]]:
    """Per worker, the families ``given`` hands them that they held no child of before.

    Parameters
    ----------
    state
        The indexed snapshot.
    given
        Case id -> worker id for every case the plan gives a worker (new or moved).

    Returns
    -------
    dict
        Worker id -> family ids new to them; workers with none are left out.
    """
    return new_families_of(state.snapshot, given)


def new_families_of(snapshot: Snapshot, given: Mapping[str, str]) -> dict[str, set[str]]:
    """:func:`new_families` of a snapshot not indexed (a plan in force, ranked against
    the service once applied: :mod:`allocator.problems.recommend`)."""
    held: dict[str, set[str]] = defaultdict(set)
    family: dict[str, str] = {}
    for case in snapshot.cases:
        family[case.id] = case.family
        if case.worker is not None:
            held[case.worker].add(case.family)
    new: dict[str, set[str]] = defaultdict(set)
    for cid, wid in given.items():
        if family[cid] not in held.get(wid, ()):
            new[wid].add(family[cid])
    return dict(new)


@dataclass
class ServiceState:
    """A snapshot under a policy, indexed once: weights, capacities, loads, families.

    Build it with :meth:`of`. Loads and weights are in integer centi-points
    (:data:`POINTS_SCALE`).
    """

    snapshot: Snapshot
    policy: Policy
    practitioners: dict[str, Practitioner]
    cases: dict[str, Case]
    weight: dict[str, CentiPoints]
    capacity: dict[str, CentiPoints]
    load_before: dict[str, int]
    cases_before: dict[str, int]
    families: dict[str, list[str]]
    gone: frozenset[str]
    #: Case id -> why it needs a worker (:func:`why_needs_worker`), in snapshot order.
    needs: dict[str, str] = field(default_factory=dict)
    #: The cases of ``needs``: every case a plan must place or list as unallocated.
    to_allocate: list[str] = field(default_factory=list)
    _screened: dict[tuple[object, ...], list[str]] = field(default_factory=dict, repr=False)
    _eligible: dict[str, list[str]] = field(default_factory=dict, repr=False)
    #: ``to_allocate`` grouped by family, filled in by the engine on first use.
    to_allocate_by_family: dict[str, list[str]] | None = field(default=None, repr=False)
    #: Memo of :func:`allocator.domain.objectives.balance_cost` by (worker, weight).
    balance_costs: dict[tuple[str, int], int] = field(default_factory=dict, repr=False)
    #: Memo of :func:`allocator.domain.objectives.expected_changes_cost` by (case type, worker).
    look_ahead_costs: dict[tuple[str, str], int] = field(default_factory=dict, repr=False)
    #: Memo of :func:`allocator.domain.objectives.evaluate`: a plan's tier values by its
    #: placements (the most recent few).
    evaluations: dict[tuple[object, ...], dict[str, int | float]] = field(
        default_factory=dict, repr=False
    )
    #: Memo of :func:`allocator.domain.objectives.outcome_of`: a plan's outcome by its
    #: placements (the most recent few). Typed ``object`` here: the outcome's type
    #: lives in objectives, a layer above the state.
    outcomes: dict[tuple[tuple[str, str], ...], object] = field(default_factory=dict, repr=False)
    #: A plan being revised (case id -> worker, cases that need a worker only): when
    #: set, daily allocation keeps its placements where it can
    #: (:data:`allocator.domain.objectives.REFERENCE_CHANGES`); ``None``: a fresh solve.
    reference: Mapping[str, str] | None = field(default=None, repr=False)

    @cached_property
    def priority_class(self) -> dict[str, int]:
        """Each case's priority class, as an index into ``policy.class_names`` (0 first)."""
        return {cid: self.policy.priority_class(c) for cid, c in self.cases.items()}

    @cached_property
    def days_waiting(self) -> dict[str, int]:
        """Days each case needing a worker has waited for one on ``as_of``, by case id.

        From ``waiting_since`` where given; else, for a child with no worker, from
        ``opened``; for a child whose worker has left, from :func:`waiting_start`
        (the worker's last day, or ``opened`` if later); otherwise 0 (a child still
        with a worker who must be replaced has not begun to wait). Never negative
        (docs/FORMAT.md "Waiting").
        """
        out: dict[str, int] = {}
        for cid in self.to_allocate:
            case = self.cases[cid]
            since = case.waiting_since
            if since is None:
                if case.worker is None:
                    since = case.opened
                elif case.worker in self.gone:
                    since = waiting_start(case, self.practitioners[case.worker], self.as_of)
            out[cid] = max(0, (self.as_of - since).days) if since is not None else 0
        return out

    @cached_property
    def waiting_weight(self) -> dict[str, int]:
        """What each case needing a worker costs its class's tier if left without one.

        By the policy's waiting rule (:class:`allocator.contract.policy.Waiting`): 1 each
        (``count``); 1 + whole weeks counted (:meth:`counted_wait`: waited beyond the
        ``grace_weeks``, plus any head start), up to ``max_weeks`` (``age``); that
        times the case's weight in half points, at least 1 (``age_points``). Integer,
        at least 1.
        """
        return {
            cid: self.weight_of_wait(cid, self.counted_wait(cid, days))
            for cid, days in self.days_waiting.items()
        }

    def counted_wait(self, case_id: str, days: int) -> int:
        """The days of waiting the class tiers count for ``case_id``, which has waited
        ``days``: ``days`` less the policy's ``waiting.grace_weeks`` (at least 0), plus
        the head start for the case's type (``waiting.type_weeks``), plus, for a child
        who has lost their worker (:attr:`lost_worker`), ``waiting.lost_worker_weeks``;
        in weeks of 7 days. The grace is taken from the wait alone: a head start counts
        from the first day."""
        waiting = self.policy.waiting
        days = max(0, days - 7 * waiting.grace_weeks)
        days += 7 * waiting.type_weeks.get(self.cases[case_id].type, 0)
        if case_id in self.lost_worker:
            return days + 7 * waiting.lost_worker_weeks
        return days

    @cached_property
    def lost_worker(self) -> frozenset[str]:
        """Children needing a worker who have lost the one they had on this case.

        Those still with a worker who must be replaced (left, long absent, may no
        longer hold them), and those with no worker who had one on this case:
        ``previous_workers`` given and a ``waiting_since`` after ``opened`` (the wait
        began after the case opened; a re-referral known to a past worker waits from
        its opening and is not one). A departing worker's child awaiting a planned
        handover (:attr:`to_hand_over`) is not among them: they still have a worker.
        """
        return frozenset(c for c in self.to_allocate if _lost_worker(self.cases[c]))

    def weight_of_wait(self, case_id: str, days: int) -> int:
        """What ``case_id`` costs its class's tier once it has waited ``days`` days
        (:attr:`waiting_weight`): also the weight of a departing worker's child, whose
        handover the rebalance plans (:func:`allocator.problems.rebalancing.rebalance`)."""
        rule = self.policy.waiting
        if rule.rule == "count":
            return 1
        age = 1 + min(days // 7, rule.max_weeks)
        if rule.rule == "age_points":
            age *= max(1, self.weight[case_id] // HALF_POINT)
        return age

    @classmethod
    def of(cls, snapshot: Snapshot, policy: Policy) -> ServiceState:
        """Index ``snapshot`` under ``policy``."""
        practitioners = {p.id: p for p in snapshot.practitioners}
        cases = {c.id: c for c in snapshot.cases}
        gone = frozenset(p.id for p in snapshot.practitioners if is_gone(p, snapshot.as_of))
        weight = {c.id: weight_units(policy.case_weight(c)) for c in snapshot.cases}
        load: dict[str, int] = dict.fromkeys(practitioners, 0)
        count: dict[str, int] = dict.fromkeys(practitioners, 0)
        families: dict[str, list[str]] = defaultdict(list)
        needs: dict[str, str] = {}
        for c in snapshot.cases:
            why = why_needs_worker(c, practitioners, snapshot.as_of, policy)
            if why is not None:
                needs[c.id] = why
            families[c.family].append(c.id)
            if c.worker is not None:
                load[c.worker] += weight[c.id]
                count[c.worker] += 1
        return cls(
            snapshot=snapshot,
            policy=policy,
            practitioners=practitioners,
            cases=cases,
            weight=weight,
            capacity={pid: capacity_units(policy.capacity(p)) for pid, p in practitioners.items()},
            load_before=load,
            cases_before=count,
            families=dict(families),
            gone=gone,
            needs=needs,
            to_allocate=list(needs),
        )

    @property
    def as_of(self) -> date:
        """The snapshot's date."""
        return self.snapshot.as_of

    @cached_property
    def open_for_new(self) -> frozenset[str]:
        """Workers who may take a new case today: present, staying, not already over cap."""
        return frozenset(
            pid
            for pid, p in self.practitioners.items()
            if availability_blocker(p, self.as_of, self.policy) is None
            and self.load_before[pid] <= self.capacity[pid]
        )

    @cached_property
    def holders(self) -> dict[str, frozenset[str]]:
        """Per family, the workers who keep at least one of its children (not moving)."""
        moving = set(self.to_allocate)
        held: dict[str, set[str]] = defaultdict(set)
        for c in self.snapshot.cases:
            if c.worker is not None and c.id not in moving:
                held[c.family].add(c.worker)
        return {f: frozenset(ws) for f, ws in held.items()}

    @cached_property
    def load_kept(self) -> dict[str, int]:
        """Each worker's load (centi-points) without the cases that must leave them.

        A case that needs a worker (:attr:`needs`) leaves its present worker in every
        plan: placed elsewhere or unallocated. Its room is theirs to fill.
        """
        load = dict(self.load_before)
        for cid in self.to_allocate:
            holder = self.cases[cid].worker
            if holder is not None:
                load[holder] -= self.weight[cid]
        return load

    def spare_before(self, worker_id: str) -> int:
        """Capacity left (centi-points) before the plan, the cases that must leave freed.

        The cases that must leave the worker (:attr:`load_kept`) do not take room:
        the checker judges the cap on the loads once the plan is applied.
        """
        return self.capacity[worker_id] - self.load_kept[worker_id]

    def eligible(self, case_id: str) -> list[str]:
        """Workers the static rules let take ``case_id`` today, sorted by id.

        Static: availability, grade, needs, exclusions, pin, and the case fitting in
        the worker's spare capacity before anything else is allocated. Workers are
        screened once per (type, complexity, needs) and then per case, so this stays
        fast on services of thousands of practitioners.
        """
        known = self._eligible.get(case_id)
        if known is not None:
            return known
        weight = self.weight[case_id]
        eligible = [
            pid
            for pid in self.allowed(case_id)
            if weight <= self.spare_before(pid)
            and not self.held_from(pid, case_id)
            and not self.room_kept_from(pid, case_id)
        ]
        self._eligible[case_id] = eligible
        return eligible

    @cached_property
    def held_for(self) -> dict[str, str]:
        """Worker -> the long-waiting child whose room they hold (:func:`hold_room`):
        no other child of that class or below is eligible with them. Empty unless the
        policy's ``waiting.reserve_after_days`` is above 0."""
        return hold_room(self)

    def held_from(self, worker_id: str, case_id: str) -> str | None:
        """The child whose reserved room at ``worker_id`` keeps ``case_id`` off them
        (:attr:`held_for`), or ``None``: a child of a lower or the same class, not
        the child it is held for. A child of a higher class is never kept off, nor a
        child a manager pinned to the worker (``pinned_worker``, the meeting's
        choice): held room is the engine's device, the pin the manager's word."""
        held = self.held_for.get(worker_id)
        if held is None or held == case_id or self.cases[case_id].pinned_worker == worker_id:
            return None
        if self.priority_class[case_id] < self.priority_class[held]:
            return None
        return held

    @cached_property
    def room_kept(self) -> dict[str, tuple[int, str]]:
        """Worker -> (centi-points of their cap kept from the last class, the child it
        is kept for): each worker open for new work whom the rules allow to take a
        child of a higher class who has waited a day or more and whose cap is at least
        that child's weight, that child being the first such in the class order, the
        longest wait first (policy ``waiting.room_kept_share``; :meth:`room_kept_from`).
        Empty when the share is 0 or the policy has one class."""
        share = self.policy.waiting.room_kept_share
        if share <= 0 or len(self.policy.class_names) <= 1:
            return {}
        return {
            w: (round(self.capacity[w] * share), cid) for w, cid in self.room_kept_after({}).items()
        }

    def room_kept_after(
        self, placed: Mapping[str, str], workers: Collection[str] | None = None
    ) -> dict[str, str]:
        """Worker -> the first child their room is kept for once a plan ``placed`` is
        applied (``{}``: this morning, :attr:`room_kept`): the first in the class order,
        the longest wait first, of the higher-class children who may go there (a cap at
        least their weight: room freed never makes a child fit a cap below it), have
        waited a day and are left waiting by the plan; of ``workers`` only, where given.
        A worker for whom none is left is not in the result: their room stays kept for
        the day (the morning's queue is the sign that the class needs room, and
        tomorrow's referrals of the class find it; benchmarks/YEAR.md measured filling
        it instead)."""
        last = len(self.policy.class_names) - 1
        wanted = None if workers is None else set(workers)
        most = len(self.open_for_new) if wanted is None else len(wanted)
        out: dict[str, str] = {}
        waiting = (
            c
            for c in self.to_allocate
            if c not in placed and self.priority_class[c] < last and self.days_waiting[c]
        )
        for cid in sorted(waiting, key=self.first_waiting):
            if len(out) == most:
                break
            for w in self.allowed(cid):
                if (
                    w not in out
                    and (wanted is None or w in wanted)
                    and self.weight[cid] <= self.capacity[w]
                ):
                    out[w] = cid
        return out

    def first_waiting(self, case_id: str) -> tuple[int, int, str]:
        """The sort key of who room is kept for first: the class order, then the
        longest wait, then the id (:attr:`room_kept`, :func:`room_kept_clause`)."""
        return (self.priority_class[case_id], -self.days_waiting[case_id], case_id)

    def room_kept_from(self, worker_id: str, case_id: str) -> str | None:
        """The higher-class child for whom ``worker_id``'s last room is kept, if it
        keeps ``case_id`` off them (:attr:`room_kept`): ``case_id`` is of the last
        class and would leave less than the kept share of the worker's cap free;
        else ``None``. A child a manager pinned to the worker (``pinned_worker``, the
        meeting's choice) is never kept off: the kept room is the engine's device, the
        pin the manager's word."""
        kept = self.room_kept.get(worker_id)
        if kept is None or self.priority_class[case_id] < len(self.policy.class_names) - 1:
            return None
        if self.cases[case_id].pinned_worker == worker_id:
            return None
        share, for_child = kept
        if self.weight[case_id] <= self.spare_before(worker_id) - share:
            return None
        return for_child

    def allowed(self, case_id: str) -> list[str]:
        """Workers the static rules let take ``case_id`` today whatever their room.

        :meth:`eligible` without its room check: availability, grade, needs,
        exclusions and pin (the moves that make room ask who could take a case once
        room is made).
        """
        case = self.cases[case_id]
        key = kind_of(case)
        screened = self._screened.get(key)
        if screened is None:
            probe = kind_probe(case)
            screened = [
                pid
                for pid in sorted(self.open_for_new)
                if not kind_rules(probe, self.practitioners[pid], self.policy)
            ]
            self._screened[key] = screened
        rules = barring_rules(case)
        if not rules:
            return list(screened)
        return [
            pid
            for pid in screened
            if not any(r.broken(case, self.practitioners[pid], self.policy) for r in rules)
        ]

    @cached_property
    def departing(self) -> dict[str, date]:
        """Worker -> the day they stop holding children, for each worker whose children
        need a handover planned ahead (:func:`departure`), by id."""
        return departures(self.snapshot, self.policy)

    @cached_property
    def to_hand_over(self) -> list[str]:
        """Cases whose handover is planned ahead, in snapshot order: held by a
        :attr:`departing` worker, not needing a worker today, not pinned to them (a
        manager re-pins such a child)."""
        return [
            c.id
            for c in self.snapshot.cases
            if c.worker in self.departing and c.id not in self.needs and c.pinned_worker != c.worker
        ]

    def may_hold(self, case_id: str, worker_id: str) -> bool:
        """Whether ``worker_id`` is among :meth:`eligible` workers for ``case_id``."""
        if worker_id not in self.open_for_new:
            return False
        case = self.cases[case_id]
        if holding_blockers(case, self.practitioners[worker_id], self.policy):
            return False
        return self.weight[case_id] <= self.spare_before(worker_id)

    def is_urgent(self, case_id: str) -> bool:
        """Whether the case is an urgent one."""
        return self.cases[case_id].priority is Priority.URGENT

    @cached_property
    def exceptions(self) -> dict[str, str]:
        """Case id -> sentence for each case kept with its worker as a managed exception.

        See :func:`managed_exception`; in snapshot order.
        """
        out: dict[str, str] = {}
        for c in self.snapshot.cases:
            if c.worker is not None and c.pinned_worker == c.worker and c.id not in self.needs:
                why = managed_exception(c, self.practitioners[c.worker], self.policy)
                if why is not None:
                    out[c.id] = why
        return out


def managed_exceptions(state: ServiceState) -> tuple[ManagedException, ...]:
    """The plan's list of cases kept with their worker only by a manager's pin.

    See :attr:`allocator.domain.rules.ServiceState.exceptions`; in snapshot order.
    """
    return tuple(
        ManagedException(case=cid, worker=worker, reason=why)
        for cid, why in state.exceptions.items()
        if (worker := state.cases[cid].worker) is not None
    )


def is_long_absent(state: ServiceState, worker_id: str) -> bool:
    """Present on the books but absent ``long_absence_days`` or more from ``as_of``.

    The rebalance covers such a worker's children (:mod:`allocator.problems.rebalancing`).
    """
    p = state.practitioners[worker_id]
    return (
        worker_id not in state.gone
        and p.available_from is not None
        and p.available_from >= state.as_of + timedelta(days=state.policy.long_absence_days)
    )


# ------------------------------------------------------------------------ sentences


def counted(n: int, noun: str, plural: str | None = None) -> str:
    """A count for people: ``counted(1, "day")`` is ``"1 day"``, ``counted(12, "week")``
    ``"12 weeks"``; ``plural`` for a noun that takes no s (``counted(2, "child",
    "children")``)."""
    return f"{n} {noun}" if n == 1 else f"{n} {plural or noun + 's'}"


def notice(days: int) -> str:
    """A handover's notice for people: ``notice(1)`` is ``"1 day's notice"``,
    ``notice(17)`` ``"17 days' notice"`` (:func:`counted`)."""
    return counted(days, "day's", "days'") + " notice"


def points(units: int) -> str:
    """Centi-points as points for people: one decimal, two where needed.

    Examples
    --------
    >>> points(10450), points(225), points(0)
    ('104.5', '2.25', '0.0')
    """
    text = f"{to_points(units):.2f}"
    return text[:-1] if text.endswith("0") else text


def joined(ids: Iterable[str], limit: int = 5) -> str:
    """``"A, B and C"``; past ``limit`` items, ``"A, B, C, D, E and 3 more"``."""
    items = list(ids)
    if len(items) > limit:
        return f"{', '.join(items[:limit])} and {len(items) - limit} more"
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} and {items[-1]}"


def room_kept_clause(
    state: ServiceState, kept: Mapping[str, str], placed: Mapping[str, str] | None = None
) -> str:
    """Why workers' last room is not a lower-class child's (:meth:`ServiceState.room_kept_from`),
    for people: ``kept`` maps each worker to the child their room is kept for. "the
    last 10% of the caps of W1 and W2 is kept for statutory children, as some had
    waited a day or more this morning (C5, 12 days, and 1 other child; policy
    waiting.room_kept_share)". With ``placed`` (case -> worker, the plan's
    placements), a worker's child the plan places gives way to the next child the
    room is still kept for (:meth:`ServiceState.room_kept_after`); where the plan
    leaves none, the clause says so ("C5, 12 days, whom this plan places with W3; the
    room stays kept for the class's next referrals"), so a manager is not left to look
    for a child who no longer waits.

    Each class a child of ``kept`` belongs to is named ("urgent and statutory
    children"): a worker's room is kept for the first child in the class order who
    may go there, which need not be of the first class named."""
    workers = sorted(kept)
    if placed and any(c in placed for c in kept.values()):
        # The child a worker's room was kept for got a worker from this plan: name the
        # next child it is still kept for, if the plan leaves one waiting.
        after = state.room_kept_after(placed, [w for w, c in kept.items() if c in placed])
        kept = {w: after.get(w, c) for w, c in kept.items()}
    children = sorted(set(kept.values()), key=state.first_waiting)
    first = children[0]
    names = [
        state.policy.class_names[k] for k in sorted({state.priority_class[c] for c in children})
    ]
    name = joined((n.replace("_", " ") for n in names), limit=len(names))
    share = percent(state.policy.waiting.room_kept_share * 100, 100)
    whose = f"{workers[0]}'s cap" if len(workers) == 1 else f"the caps of {joined(workers)}"
    where = (placed or {}).get(first)
    also = f", whom this plan places with {where}" if where is not None else ""
    if len(children) > 1:
        also += f", and {counted(len(children) - 1, 'other child', 'other children')}"
    if where is not None and all(c in (placed or {}) for c in children):
        also += "; the room stays kept for the class's next referrals"
    return (
        f"the last {share} of {whose} is kept for {name} children, as some had waited a day "
        f"or more this morning ({first}, {counted(state.days_waiting[first], 'day')}{also}; "
        "policy waiting.room_kept_share)"
    )


# ------------------------------------------------------------------ the rule registry
#
# Each hard rule is one object (as Timefold's constraints are): an id, a label, what
# it binds, the unallocated code a case gets when the rule leaves it with nobody, and
# -- for the rules on a (case, worker) pair -- how to evaluate it, giving the sentence
# a manager reads. ``check``, ``explain``, ``recommend``, the rebalance's reasons and
# the engine's eligibility all iterate these; nothing else writes a rule.

#: What a rule binds. ``plan``: the plan as a whole (its day, its listings, its
#: workers). ``holder``: every case's worker at the end of the plan, kept cases
#: included. ``taker``: a worker the plan gives a case, new or moved.
Binds = Literal["plan", "holder", "taker"]


@dataclass(frozen=True)
class Rule:
    """One hard rule, registered once in :data:`RULES`.

    Attributes
    ----------
    id
        The rule id ``check`` reports and ``explain`` and ``recommend`` name.
    label
        What the rule asks, for people (``check --rules``, reports).
    binds
        What it binds (:data:`Binds`).
    code
        The :class:`~allocator.contract.models.UnallocatedCode` of a case this rule alone
        leaves with nobody; ``None`` for the rules on a plan as a whole.
    """

    id: str
    label: str
    binds: Binds
    code: UnallocatedCode | None = None


@dataclass(frozen=True)
class HoldingRule(Rule):
    """A rule on who may hold a case at the end of a plan (:data:`HOLDING_RULES`).

    Attributes
    ----------
    per_kind
        The rule depends on the case only through its kind (type, complexity,
        needs), so a screen of the staff per kind of case holds for every case of
        that kind (a pin to the current worker aside: :func:`kept_despite_grade`).
    """

    per_kind: bool = False

    def broken(self, case: Case, p: Practitioner, policy: Policy) -> list[str]:
        """Why ``p`` may not hold ``case`` under this rule: sentences, empty if they may."""
        raise NotImplementedError

    def may_bar(self, case: Case) -> bool:
        """Whether this rule can stop anyone holding ``case`` (``False`` only when
        :meth:`broken` is empty for every practitioner: screens then skip the rule)."""
        return True


class _Grade(HoldingRule):
    def broken(self, case: Case, p: Practitioner, policy: Policy) -> list[str]:
        if kept_despite_grade(case, p):
            return []
        return grade_blockers(case, p.grade, policy)


class _Skills(HoldingRule):
    def broken(self, case: Case, p: Practitioner, policy: Policy) -> list[str]:
        missing = missing_needs(case, p)
        return [f"{p.id} lacks {' + '.join(map(label_text, missing))}"] if missing else []


class _Excluded(HoldingRule):
    def broken(self, case: Case, p: Practitioner, policy: Policy) -> list[str]:
        if p.id in case.excluded_workers:
            return [f"{p.id} is kept off this case (its excluded workers)"]
        return []

    def may_bar(self, case: Case) -> bool:
        return bool(case.excluded_workers)


class _Pinned(HoldingRule):
    def broken(self, case: Case, p: Practitioner, policy: Policy) -> list[str]:
        if case.pinned_worker is not None and case.pinned_worker != p.id:
            return [f"the case is pinned to {case.pinned_worker}"]
        return []

    def may_bar(self, case: Case) -> bool:
        return case.pinned_worker is not None


@dataclass(frozen=True)
class Room:
    """Where a worker stands when a case is offered to them.

    Attributes
    ----------
    load
        Centi-points they hold at that point (without the case offered).
    held
        Families they held a child of in the snapshot.
    new
        Families the plan already makes new to them (without the case offered).
    """

    load: int
    held: Collection[str] = ()
    new: Collection[str] = ()


@dataclass(frozen=True)
class TakingRule(Rule):
    """A rule on a worker the plan gives a case, new or moved (:data:`TAKING_RULES`)."""

    def blocks(self, state: ServiceState, case: Case, worker_id: str, room: Room) -> str | None:
        """Why ``worker_id``, standing at ``room``, may not take ``case``; ``None`` if they may."""
        raise NotImplementedError


class AvailabilityRule(TakingRule):
    """A taking rule on the worker alone, whatever the case: present and staying."""

    def blocks(self, state: ServiceState, case: Case, worker_id: str, room: Room) -> str | None:
        return self.unavailable(state, worker_id)

    def unavailable(self, state: ServiceState, worker_id: str) -> str | None:
        """Why ``worker_id`` may take no new case today under this rule, if they may not."""
        raise NotImplementedError


class _Gone(AvailabilityRule):
    def unavailable(self, state: ServiceState, worker_id: str) -> str | None:
        if worker_id in state.gone:
            return f"{worker_id} left on {state.practitioners[worker_id].leaving_on}"
        return None


class _Availability(AvailabilityRule):
    def unavailable(self, state: ServiceState, worker_id: str) -> str | None:
        if worker_id in state.gone:
            return None  # GONE_WORKER's
        return availability_blocker(state.practitioners[worker_id], state.as_of, state.policy)


class _Capacity(TakingRule):
    def blocks(self, state: ServiceState, case: Case, worker_id: str, room: Room) -> str | None:
        cap, before = state.capacity[worker_id], state.load_before[worker_id]
        weight = state.weight[case.id]
        if before > cap:
            return f"{worker_id} is over capacity ({points(before)} of {points(cap)} points)"
        if weight > cap:
            return (
                f"{worker_id}'s cap is {points(cap)} points and the case needs {points(weight)}: "
                "no room can be made"
            )
        if room.load + weight > cap:
            return (
                f"{worker_id} has {points(cap - room.load)} points spare and the case needs "
                f"{points(weight)}"
            )
        return None

    def after_plan(self, state: ServiceState, worker_id: str, load_after: int) -> str | None:
        """Why a worker the plan gives cases breaks the cap once it is applied, if they do."""
        cap, before = state.capacity[worker_id], state.load_before[worker_id]
        if before > cap:
            return (
                f"{worker_id} was already over capacity before the plan ({points(before)} "
                f"points, cap {points(cap)}) and may take no new case"
            )
        if load_after > cap:
            return f"{worker_id} ends at {points(load_after)} points, over the cap of {points(cap)}"
        return None


class _Intake(TakingRule):
    def blocks(self, state: ServiceState, case: Case, worker_id: str, room: Room) -> str | None:
        limit = state.policy.max_new_families_per_day
        if case.family in room.held or case.family in room.new or len(room.new) < limit:
            return None
        families = "family" if limit == 1 else "families"
        if not room.new:
            return f"the policy allows {limit} new {families} per run"
        return (
            f"{worker_id} already takes {len(room.new)} new {families} in this plan, "
            f"the limit of {limit}"
        )

    def after_plan(self, state: ServiceState, worker_id: str, new: Collection[str]) -> str | None:
        """Why a worker breaks the limit with the families ``new`` to them, if they do."""
        limit = state.policy.max_new_families_per_day
        if len(new) <= limit:
            return None
        return (
            f"{worker_id} takes {len(new)} new families in this plan "
            f"({', '.join(sorted(new))}), over the limit of {limit}"
        )


_Code = UnallocatedCode

AS_OF = Rule("as_of", "the plan is for the snapshot's day", "plan")
CONSERVATION = Rule(
    "conservation", "every case that needs a worker is listed once, and no other", "plan"
)
UNKNOWN_WORKER = Rule("unknown_worker", "the worker is among the practitioners", "plan")
# A worker who has left is no longer staff: a case only they could hold has nobody
# who may hold it (``eligible_unavailable`` is for staff who are away or leaving).
GONE_WORKER = _Gone(
    "gone_worker",
    "the worker has not left (and holds nothing once they have)",
    "taker",
    _Code.NO_ELIGIBLE_WORKER,
)
AVAILABILITY = _Availability(
    "availability",
    "present today and not leaving within the window",
    "taker",
    _Code.ELIGIBLE_UNAVAILABLE,
)
GRADE = _Grade(
    "grade",
    "the grade may hold the case's complexity and type",
    "holder",
    _Code.NO_ELIGIBLE_WORKER,
    per_kind=True,
)
SKILLS = _Skills(
    "skills", "has every skill the case needs", "holder", _Code.NO_ELIGIBLE_WORKER, per_kind=True
)
EXCLUDED_WORKER = _Excluded(
    "excluded_worker", "not among the case's excluded workers", "holder", _Code.NO_ELIGIBLE_WORKER
)
PINNED_WORKER = _Pinned(
    "pinned_worker",
    "the pinned worker, where the case is pinned",
    "holder",
    _Code.PINNED_WORKER_CANNOT_HOLD,
)
FROM_MISMATCH = Rule("from_mismatch", "``from`` is the case's worker in the snapshot", "plan")
HANDOVER = Rule(
    "handover",
    "a planned handover moves a child of a worker who departs within the window, "
    "on a day from as_of to before they go",
    "plan",
)
CAPACITY = _Capacity(
    "capacity", "within the weighted cap, and not over it before", "taker", _Code.NO_CAPACITY
)
INTAKE_LIMIT = _Intake(
    "intake_limit",
    "at most max_new_families_per_day families new to the worker",
    "taker",
    _Code.INTAKE_LIMIT,
)

#: Every hard rule, in the order ``check`` reports them.
RULES: tuple[Rule, ...] = (
    AS_OF,
    CONSERVATION,
    UNKNOWN_WORKER,
    GONE_WORKER,
    AVAILABILITY,
    GRADE,
    SKILLS,
    EXCLUDED_WORKER,
    PINNED_WORKER,
    FROM_MISMATCH,
    HANDOVER,
    CAPACITY,
    INTAKE_LIMIT,
)
#: The rules on who may hold a case at the end of a plan, in :data:`RULES` order.
HOLDING_RULES: tuple[HoldingRule, ...] = tuple(r for r in RULES if isinstance(r, HoldingRule))
#: The rules on a worker the plan gives a case, in :data:`RULES` order.
TAKING_RULES: tuple[TakingRule, ...] = tuple(r for r in RULES if isinstance(r, TakingRule))
#: The taking rules on the worker alone (``gone_worker``, ``availability``).
AVAILABILITY_RULES: tuple[AvailabilityRule, ...] = tuple(
    r for r in TAKING_RULES if isinstance(r, AvailabilityRule)
)
#: The rule ids, in :data:`RULES` order.
RULE_IDS: tuple[str, ...] = tuple(r.id for r in RULES)
_BY_ID: dict[str, Rule] = {r.id: r for r in RULES}


def rule(rule_id: str) -> Rule:
    """The registered rule ``rule_id`` (:data:`RULE_IDS`); ``KeyError`` if there is none."""
    return _BY_ID[rule_id]


def taking_blockers(
    state: ServiceState, case: Case, worker_id: str, room: Room
) -> list[tuple[str, str]]:
    """Every rule that stops ``worker_id`` taking ``case`` now, with its rule id.

    The holding rules (:data:`HOLDING_RULES`), then the rules on a worker given a
    case (:data:`TAKING_RULES`), each judged with the worker at ``room``.
    """
    p = state.practitioners[worker_id]
    out = holding_rules(case, p, state.policy)
    for r in TAKING_RULES:
        sentence = r.blocks(state, case, worker_id, room)
        if sentence is not None:
            out.append((r.id, sentence))
    return out


#: The holding rules that depend on a case only through its kind (type, complexity,
#: needs): a screen of the staff per kind of case (:func:`kind_rules`).
KIND_RULES: tuple[HoldingRule, ...] = tuple(r for r in HOLDING_RULES if r.per_kind)
#: The holding rules judged case by case (exclusions, the pin).
CASE_RULES: tuple[HoldingRule, ...] = tuple(r for r in HOLDING_RULES if not r.per_kind)


def kind_of(case: Case) -> tuple[object, ...]:
    """The kind of a case, what :data:`KIND_RULES` depend on: (type, complexity, needs)."""
    return (case.type, case.complexity, case.needs)


def kind_probe(case: Case) -> Case:
    """A case of ``case``'s kind with no worker, pin or exclusion, for a staff screen.

    Without a worker the pin's waiver of the grade table (:func:`kept_despite_grade`)
    never applies, so the screen holds for every case of the kind offered to a new
    worker.
    """
    return case.model_copy(update={"worker": None, "pinned_worker": None, "excluded_workers": ()})


def kind_rules(probe: Case, p: Practitioner, policy: Policy) -> list[tuple[str, str]]:
    """The :data:`KIND_RULES` that stop ``p`` holding a case of ``probe``'s kind."""
    return [(r.id, s) for r in KIND_RULES for s in r.broken(probe, p, policy)]


def case_rules(case: Case, p: Practitioner, policy: Policy) -> list[tuple[str, str]]:
    """The :data:`CASE_RULES` (exclusion, pin) that stop ``p`` holding ``case``."""
    return [(r.id, s) for r in CASE_RULES for s in r.broken(case, p, policy)]


def barring_rules(case: Case) -> tuple[HoldingRule, ...]:
    """The :data:`CASE_RULES` that can stop anyone holding ``case``.

    Most cases have no exclusion and no pin: then none, and a screen of the staff
    asks no rule per practitioner (it runs once per case, on services of thousands).
    """
    return tuple(r for r in CASE_RULES if r.may_bar(case))


#: Most workers whose room is held for long-waiting children, as a share of the
#: workers open for new work (a reservation stops a worker's intake until the child
#: fits: held everywhere, nobody else could be placed).
MAX_HELD_SHARE = 0.2


def hold_room(state: ServiceState) -> dict[str, str]:
    """Room reserved for the children at the head of the queue: worker -> child
    (:attr:`ServiceState.held_for`).

    A child of a class above the last (urgent, statutory by default) who has waited
    at least the policy's ``waiting.reserve_after_days`` (days waited, the head start
    of a lost worker aside) and fits with no worker the rules allow gets the allowed
    worker closest to fitting them (least shortfall, then id; only a worker whose cap
    is at least the child's weight: freed room never makes a child fit a smaller cap),
    one child per worker, the longest waits first, at most :data:`MAX_HELD_SHARE` of
    the workers open for new work. That worker then takes
    no other child of the same class or below until the child fits: room freed by
    closures builds up for them instead of going to lighter, later children (the
    reservation for the job at the head of the queue in a batch scheduler's
    backfill).
    """
    after = state.policy.waiting.reserve_after_days
    if after <= 0:
        return {}
    last = len(state.policy.class_names) - 1
    waited = state.days_waiting
    queue = sorted(
        (c for c in state.to_allocate if state.priority_class[c] < last and waited[c] >= after),
        key=lambda c: (state.priority_class[c], -waited[c], -state.weight[c], c),
    )
    most = max(1, int(MAX_HELD_SHARE * len(state.open_for_new)))
    held: dict[str, str] = {}
    for cid in queue:
        if len(held) >= most:
            break
        # Only a worker whose cap can take the child is worth holding: room freed
        # elsewhere never makes a child fit a cap below their weight.
        allowed = [
            w
            for w in state.allowed(cid)
            if w not in held and state.weight[cid] <= state.capacity[w]
        ]
        if not allowed or any(state.weight[cid] <= state.spare_before(w) for w in allowed):
            continue  # nobody could ever hold them, or they fit today: nothing to reserve
        closest = min(allowed, key=lambda w: (state.weight[cid] - state.spare_before(w), w))
        held[closest] = cid
    return held
