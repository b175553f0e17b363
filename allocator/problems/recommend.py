"""The best workers for one case, ranked the way the engine ranks placements.

A team manager asks "who should take this child?" -- a referral that has just come
in, or an open case whose worker may need to change. :class:`Recommender` indexes a
snapshot once and then answers in well under a millisecond on a service of thousands
of practitioners: the first question about a kind of case (type, complexity, needs,
weight) ranks every worker for it once (:class:`_Ranking`), and each question then
takes the first workers of that order, judging one by one only the few whose rules or
score depend on the child (siblings', previous, excluded and pinned workers, the
family's holders). :func:`recommend` is the one-off form.

Each worker the hard rules allow (:meth:`allocator.domain.rules.ServiceState.may_hold`,
plus the intake limit) is scored by the daily tiers below the priority classes
(:data:`allocator.domain.objectives.CONTINUITY_TIERS`), in their priority order, as the
engine scores placing this case alone with them today:

1. ``siblings_apart`` -- the family's extra workers if the child goes there, so a
   sibling's worker comes first;
2. every linear tier after it (the look-ahead, ``previous_worker_returns``,
   ``balance``, ``outside_area``): its own :meth:`allocator.domain.objectives.Tier.change`,
   the very costs the engine's model is built from (:func:`allocator.engine.model.daily_input`);

then the worker id. The scores are compared lexicographically, tier by tier, as the
engine compares plans. The unallocated tiers are the same for every placement and
are left out.

The workers the rules stop are listed too, "nearest misses" first, each with every
rule that stops them (rule ids of the registry,
:data:`allocator.domain.rules.RULES`): sorted by the two
continuity tiers (a sibling's or previous worker who cannot take the child is what a
manager asks about first), then the number of blocking rules, then the other tiers.
When nobody may take the child, :func:`colliding` names the rules that between them
stop everyone; ``explain --case`` names them by the same function.

Nothing here imports the solver; the sentences name ids, grades, case types, skills
and patch names only.
"""

from __future__ import annotations

import copy
import heapq
from bisect import bisect_left
from collections import Counter
from collections.abc import Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from itertools import combinations
from typing import Any

from allocator.arguments import (
    admitted,
    check_arguments,
    check_count,
    check_id_set,
    check_id_sets,
    check_items,
)
from allocator.contract.faults import describe_value
from allocator.contract.faults import kind_of as value_kind
from allocator.contract.models import Case, Handover, Plan, Practitioner, Snapshot
from allocator.contract.policy import Policy
from allocator.contract.units import percent, to_points
from allocator.domain.objectives import CONTINUITY_TIERS, Tier
from allocator.domain.rules import (
    CAPACITY,
    INTAKE_LIMIT,
    RULE_IDS,
    Room,
    ServiceState,
    case_rules,
    families_held,
    joined,
    kind_of,
    kind_probe,
    kind_rules,
    new_families_of,
    normalised,
    normalised_set,
    points,
    room_kept_clause,
    taking_blockers,
)
from allocator.explain.reasons import (
    Blocker,
    area_reasons,
    availability_rule,
)
from allocator.io import InputError

#: The tiers one placement moves, in priority order: the daily tiers below the
#: priority classes (:data:`allocator.domain.objectives.CONTINUITY_TIERS`; a re-solve's
#: ``reference_changes`` has no reference plan here). ``siblings_apart`` first, the
#: family's extra workers; then the linear tiers, each scored by its own cost.
SCORED: tuple[Tier, ...] = CONTINUITY_TIERS
#: The linear tiers of :data:`SCORED`, in priority order.
LINEAR: tuple[Tier, ...] = SCORED[1:]
assert SCORED[0].key == "siblings_apart" and all(t.linear for t in LINEAR)
#: (key, sense) of each tier of the score, in priority order.
SCORE_TIERS: tuple[tuple[str, str], ...] = tuple((t.key, t.sense) for t in SCORED)
#: The linear tiers whose cost depends on the case only through its kind and weight
#: (:attr:`allocator.domain.objectives.Tier.by_kind`): the cached order of workers per kind
#: of case sorts by them. The other linear tiers are 0 for a regular worker
#: (``previous_worker_returns``: previous workers are judged one by one) or ordered
#: within equal runs of the cached order (``outside_area``, the last tier): the tests
#: hold the fast path to a full sort by :func:`score_key`.
BY_KIND: tuple[Tier, ...] = tuple(t for t in LINEAR if t.by_kind)
_RETURNS = next(k for k, (key, _) in enumerate(SCORE_TIERS) if key == "previous_worker_returns")
assert LINEAR[-1].key == "outside_area"
#: The tiers with reasons of their own below (previous worker, area, room).
_OWN_REASONS = frozenset({"previous_worker_returns", "outside_area", "balance"})

#: What a room reason is judged on, said before it where a plan is in play: ``explain``
#: ranks a plan's alternatives on the service before it, while its why-nots and
#: ``recommend --plan`` judge room once it is applied (a fresh user read "13.5 points
#: spare" beside "0.25 points spare" of one worker and took them for a contradiction).
BEFORE_PLAN = "before this plan"
#: See :data:`BEFORE_PLAN`.
ONCE_APPLIED = "once this plan is applied"


def room_sentence(spare: int, load_after: int, capacity: int, judged_on: str | None = None) -> str:
    """The one wording of a worker's room for a case: ``spare`` points, and the share
    of ``capacity`` that ``load_after`` (with the case) would be (all in the state's
    integer points), after ``judged_on``
    (:data:`BEFORE_PLAN`, :data:`ONCE_APPLIED`; ``None``: ranked before any plan,
    nothing to tell apart)."""
    said = f"{points(spare)} points spare; would end at {percent(load_after, capacity)} of capacity"
    return f"{judged_on}: {said}" if judged_on else said


@dataclass(frozen=True, slots=True)
class _Worker:
    """What a query needs of one practitioner, precomputed (the per-query loop is hot)."""

    id: str
    static: tuple[str, ...]  # rules stopping them whatever the case: availability, over cap
    spare: int
    areas: frozenset[str]


class UnknownIdError(InputError, LookupError):
    """A case or worker id that is not in the snapshot (or the plan)."""


def unknown_case(case_id: object) -> UnknownIdError:
    """The refusal of ``case_id``, which is no case of the snapshot (every public call's
    words)."""
    return UnknownIdError(f"case {describe_value(case_id)} is not in the snapshot")


def unknown_worker(worker_id: object) -> UnknownIdError:
    """The refusal of ``worker_id``, who is not among the practitioners (every public
    call's words)."""
    return UnknownIdError(f"worker {describe_value(worker_id)} is not among the practitioners")


@dataclass(frozen=True)
class Candidate:
    """One worker for the case, with the score the engine would give the placement.

    Attributes
    ----------
    worker
        The practitioner's id.
    eligible
        Whether every hard rule allows the placement today.
    score
        Tier key -> value of placing the case alone with this worker (see
        :data:`SCORE_TIERS`).
    reasons
        Short sentences: sibling, previous worker, area, room.
    blockers
        For an ineligible worker, every rule that stops them, with its rule id.
    load_after, utilisation_after
        The worker's load (points) and share of capacity with the case added.
    """

    worker: str
    eligible: bool
    score: dict[str, int]
    reasons: tuple[str, ...]
    blockers: tuple[Blocker, ...] = ()
    load_after: float = 0.0
    utilisation_after: float | None = None

    def to_dict(self) -> dict[str, Any]:
        """Plain data for JSON."""
        return {
            "worker": self.worker,
            "eligible": self.eligible,
            "score": dict(self.score),
            "reasons": list(self.reasons),
            "blockers": [{"rule": b.rule, "message": b.message} for b in self.blockers],
            "load_after": self.load_after,
            "utilisation_after": self.utilisation_after,
        }


@dataclass(frozen=True)
class Recommendation:
    """The ranked workers for one case.

    Attributes
    ----------
    case, family, type, complexity, weight
        The case (weight in points).
    current_worker
        Its worker in the snapshot, if any; never among the candidates (the
        ranking is of alternatives to them).
    needs_worker
        Whether the case is unallocated or its worker has left.
    eligible_count
        How many workers the hard rules allow.
    ranked
        The best eligible workers, best first.
    ineligible
        The nearest misses among the workers the rules stop, with why.
    colliding_rules
        When nobody is eligible: the rules that together leave the case nobody
        (:func:`colliding`).
    planned
        The worker the plan in force gives the case to today (``recommend(...,
        plan=...)``), if it places or moves it: once the plan is applied they are its
        current worker, and the ranking is of alternatives to them.
    handover
        The handover already promised for this child and not yet made (from the plan
        in force or the pending handovers file), if any: the ranking is of
        alternatives to it.
    """

    case: str
    family: str
    type: str
    complexity: int
    weight: float
    current_worker: str | None
    needs_worker: bool
    eligible_count: int
    ranked: tuple[Candidate, ...]
    ineligible: tuple[Candidate, ...]
    colliding_rules: tuple[str, ...] = ()
    handover: Handover | None = None
    planned: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """Plain data for JSON."""
        return {
            "case": self.case,
            "family": self.family,
            "type": self.type,
            "complexity": self.complexity,
            "weight": self.weight,
            "current_worker": self.current_worker,
            "needs_worker": self.needs_worker,
            "eligible_count": self.eligible_count,
            "ranked": [c.to_dict() for c in self.ranked],
            "ineligible": [c.to_dict() for c in self.ineligible],
            "colliding_rules": list(self.colliding_rules),
            "planned": self.planned,
            "handover": None
            if self.handover is None
            else self.handover.model_dump(mode="json", by_alias=True),
        }


def score_key(score: dict[str, int]) -> tuple[int, ...]:
    """The score as a tuple to compare lexicographically (smaller is better)."""
    return tuple(score[key] if sense == "min" else -score[key] for key, sense in SCORE_TIERS)


def as_score(key: tuple[int, ...]) -> dict[str, int]:
    """The score whose :func:`score_key` is ``key``."""
    return {
        name: value if sense == "min" else -value
        for (name, sense), value in zip(SCORE_TIERS, key, strict=True)
    }


def colliding(blocked: Mapping[frozenset[str], int]) -> tuple[str, ...]:
    """The rules that between them stop every worker: what leaves a case nobody.

    ``blocked`` holds, for each set of rule ids stopping some workers, how many it
    stops. The answer is the fewest rules such that every worker is stopped by one
    of them (each rule that alone stops some worker is among them); among as few,
    the rules that stop the most workers, so that a rule whose workers another rule
    of the answer stops anyway is not named in its place (the Welsh speakers are full
    and the workers away lack Welsh: "skills and capacity", not "availability and
    capacity"); then the order of the registry. Empty when some worker is stopped by
    nothing (somebody may take the case) or there is no worker.

    Returns
    -------
    tuple of str
        Rule ids in the order of :data:`allocator.domain.rules.RULE_IDS`; two or more
        means the rules collide.

    Examples
    --------
    >>> colliding({frozenset({"capacity"}): 5, frozenset({"skills", "availability"}): 1,
    ...            frozenset({"skills", "capacity"}): 12})
    ('skills', 'capacity')
    """
    sets = [rules for rules, n in blocked.items() if n > 0]
    if not sets or any(not rules for rules in sets):
        return ()
    order = {r: k for k, r in enumerate(RULE_IDS)}
    unknown = len(order)  # an id the registry lacks (none today) goes last
    named = sorted({r for rules in sets for r in rules}, key=lambda r: (order.get(r, unknown), r))
    bit = {r: 1 << k for k, r in enumerate(named)}
    masks = [sum(bit[r] for r in rules) for rules in sets]
    stops = {r: sum(n for rules, n in blocked.items() if n > 0 and r in rules) for r in named}
    # Any answer holds the rules that alone stop some worker; the rest is searched
    # smallest first (a handful of rules: at most 2 ** len(RULE_IDS) sets).
    forced = [r for r in named if frozenset({r}) in blocked and blocked[frozenset({r})] > 0]
    base = sum(bit[r] for r in forced)
    left = [m for m in masks if not m & base]
    others = [r for r in named if r not in forced]
    for size in range(len(others) + 1):
        best: tuple[int, tuple[str, ...]] | None = None
        for extra in combinations(others, size):
            mask = base | sum(bit[r] for r in extra)
            if all(m & mask for m in left):
                weight = sum(stops[r] for r in extra)
                if best is None or weight > best[0]:  # the first of equals: registry order
                    best = (weight, extra)
        if best is not None:
            chosen = {*forced, *best[1]}
            return tuple(r for r in named if r in chosen)
    return ()  # not reached: every rule named covers every set


def miss_key(key: tuple[int, ...], sibling: int, rules: int) -> tuple[int, ...]:
    """How near a blocked worker is to taking the case (smaller is nearer).

    ``key``: the worker's :func:`score_key`; ``sibling``: 1 if the family has workers
    and this is not one of them; ``rules``: how many rules stop them. A sibling's or
    a previous worker first, then the fewest rules, then the other tiers in order.
    """
    rest = tuple(v for k, v in enumerate(key) if k not in (0, _RETURNS))
    return (sibling, key[_RETURNS], rules, *rest)


class _Ranking:
    """Workers in rank order for one kind of case and weight, before per-case rules.

    Sorted by the number of rules stopping them, their costs on the tiers of
    :data:`BY_KIND` in priority order, and id; :meth:`walk` puts, within equal rules
    and costs, the workers covering the child's area first, as the full key does
    (:meth:`Recommender._key`).
    """

    __slots__ = (
        "areas",
        "costs",
        "count",
        "counts",
        "eligible",
        "ends",
        "rules",
        "sets",
        "wids",
    )

    def __init__(
        self, rows: list[tuple[int, tuple[int, ...], str, frozenset[str], tuple[str, ...]]]
    ) -> None:
        # rows: (number of rules, BY_KIND costs, id, patches, rule ids), one per worker.
        rows.sort(key=lambda row: row[:3])
        self.counts = [row[0] for row in rows]
        self.costs = [row[1] for row in rows]
        self.wids = [row[2] for row in rows]
        self.areas = [row[3] for row in rows]
        self.rules = {row[2]: row[4] for row in rows}
        self.count = {row[2]: row[0] for row in rows}
        self.sets = Counter(frozenset(row[4]) for row in rows)
        self.eligible = bisect_left(self.counts, 1)  # workers no rule stops
        # ends[i]: the end of the run of equal (rules, costs) that i is in.
        self.ends = [0] * len(rows)
        end = len(rows)
        for i in range(len(rows) - 1, -1, -1):
            if i + 1 < len(rows) and rows[i][:2] != rows[i + 1][:2]:
                end = i + 1
            self.ends[i] = end

    def walk(
        self, area: str | None, start: int, stop: int, skip: set[str | None], n: int
    ) -> Iterator[tuple[int, str]]:
        """The first ``n`` workers of ``[start, stop)`` not in ``skip``, in rank order.

        Yields (rule count, id).
        """
        i = start
        while i < stop and n > 0:
            end = min(self.ends[i], stop)
            for want in (0, 1) if area is not None else (0,):
                for j in range(i, end):
                    wid = self.wids[j]
                    outside = area is not None and bool(self.areas[j]) and area not in self.areas[j]
                    if outside != want or wid in skip:
                        continue
                    yield self.counts[j], wid
                    n -= 1
                    if n <= 0:
                        return
            i = end

    def blocked_sets(
        self, uniform: tuple[str, ...], skip: set[str | None]
    ) -> Counter[frozenset[str]]:
        """How many workers each set of rules stops, ``uniform`` added to every set."""
        out = Counter(self.sets)
        for wid in skip:
            if wid is not None and wid in self.rules:
                out[frozenset(self.rules[wid])] -= 1
        if uniform:
            added: Counter[frozenset[str]] = Counter()
            for held, n in out.items():
                added[held | frozenset(uniform)] += n
            out = added
        return +out  # drops the sets no worker is left with


class Recommender:
    """A snapshot indexed once, answering "who should take this case?" fast.

    Parameters
    ----------
    snapshot
        The service (referrals merged in).
    policy
        The policy; FORMAT.md defaults when ``None``.
    state
        An already indexed :class:`~allocator.domain.rules.ServiceState` of ``snapshot``
        under ``policy``, to share one.
    new_today
        Per worker, the families new to them that a plan in force already gives them
        today (:func:`plan_new_families`): the intake limit counts them. None by
        default (ranking before any plan).
    judged_on
        What the loads of ``snapshot`` are, said before each room reason
        (:func:`room_sentence`): :data:`ONCE_APPLIED` for a snapshot a plan has been
        applied to, :data:`BEFORE_PLAN` for the service a plan's alternatives are
        ranked on; ``None`` (the default) when no plan is in play.

    Raises
    ------
    TypeError
        If the snapshot, or a policy given, is of another kind (a dict, a file name),
        or ``state``, ``new_today`` or ``judged_on`` is, naming the argument.
    ValueError
        If ``state`` is not of ``snapshot`` under the policy given.
    InputError
        If the snapshot (a ``model_copy`` no constructor checked) does not hold to the
        contract, one sentence per problem.
    UnknownIdError
        If ``new_today`` names a worker who is not among the practitioners.
    PolicyError
        A ``ValueError``: a policy copy out of its domains.

    Examples
    --------
    >>> rec = Recommender(snapshot)                  # doctest: +SKIP
    >>> [c.worker for c in rec.recommend("R0001").ranked]  # doctest: +SKIP
    ['P0140', 'P0007', ...]
    """

    def __init__(
        self,
        snapshot: Snapshot,
        policy: Policy | None = None,
        *,
        state: ServiceState | None = None,
        new_today: Mapping[str, Collection[str]] | None = None,
        judged_on: str | None = None,
    ) -> None:
        check_arguments("Recommender", optional=("policy",), snapshot=snapshot, policy=policy)
        if state is None:
            snapshot = admitted("Recommender", "snapshot", snapshot)
            policy = admitted("Recommender", "policy", policy)
        elif not isinstance(state, ServiceState):
            raise TypeError(
                f"Recommender: state is {value_kind(state)}, expected a ServiceState of the "
                "snapshot, or None"
            )
        elif state.snapshot != snapshot or (policy is not None and state.policy != policy):
            raise ValueError(
                "Recommender: state is of another snapshot or policy than the ones given"
            )
        if judged_on is not None and not isinstance(judged_on, str):
            raise TypeError(
                f"Recommender: judged_on is {value_kind(judged_on)} ({judged_on!r:.40}), "
                "expected text (ONCE_APPLIED, BEFORE_PLAN) or None"
            )
        self.state = state or ServiceState.of(snapshot, policy or Policy())
        st = self.state
        self._new_today = check_id_sets("Recommender", "new_today", new_today or {})
        self._refuse_unknown("Recommender", "new_today", self._new_today)
        self.judged_on = judged_on
        self._staff: list[Practitioner] = [
            p for pid, p in st.practitioners.items() if pid not in st.gone
        ]
        self._by_id: dict[str, _Worker] = {}
        for p in st.practitioners.values():  # leavers too, to score a hand-made plan
            static: list[str] = []
            blocker = availability_rule(st, p.id)
            if blocker is not None:
                static.append(blocker.rule)
            if st.load_before[p.id] > st.capacity[p.id]:
                static.append(CAPACITY.id)
            self._by_id[p.id] = _Worker(
                id=p.id,
                static=tuple(static),
                spare=st.spare_before(p.id),  # the cases that must leave them freed
                areas=normalised_set(p.areas),
            )
        # The candidates: everyone who has not left, in snapshot order.
        self._workers = [self._by_id[p.id] for p in self._staff]
        self._held = families_held(st)
        # Grade and skills depend only on (type, complexity, needs): screened once each.
        self._screens: dict[tuple[object, ...], dict[str, tuple[str, ...]]] = {}
        # The workers in rank order for a kind of case and its weight, kept once built.
        self._rankings: dict[tuple[object, ...], _Ranking] = {}

    # ------------------------------------------------------------------ queries

    def recommend(
        self,
        case_id: str,
        top: int = 5,
        ineligible: int = 3,
        *,
        siblings: Iterable[str] | None = None,
    ) -> Recommendation:
        """The ``top`` best eligible workers for ``case_id`` and ``ineligible`` near misses.

        Parameters
        ----------
        case_id
            Any case of the snapshot: a referral, a case whose worker has left, or an
            open case (then the ranking is of alternatives to its current worker).
        top
            How many eligible workers to return.
        ineligible
            How many of the workers the rules stop to return, with why.
        siblings
            The workers holding the child's siblings, where not those of the
            snapshot (e.g. once a plan is applied); default: the snapshot's holders
            of the other children, leavers left out.

        Raises
        ------
        UnknownIdError
            If ``case_id`` is not a case of the snapshot (text or not: ``3`` is named
            as no case), or ``siblings`` names a worker who is not among the
            practitioners.
        TypeError
            If ``top`` or ``ineligible`` is not a whole number, or ``siblings`` is not
            a collection of ids (text is refused: ``"P1"`` is no list of workers).
        ValueError
            If ``top`` is below 1 (a ranking of nobody would read as "nobody may take
            it") or ``ineligible`` below 0.
        """
        top = check_count("recommend", "top", top, low=1)
        ineligible = check_count("recommend", "ineligible", ineligible)
        st = self.state
        case = st.cases.get(case_id)
        if case is None:
            raise unknown_case(case_id)
        current = case.worker
        family = self._family("recommend", case, siblings)
        screen = self._screen(case)
        ranking = self._ranking(case, screen)
        # Workers whose rules or score depend on more than the kind of case and its
        # weight are taken one by one; every other worker ("regular") ranks by the
        # cached order, rules that hold for every regular worker (a pin elsewhere, an
        # intake limit of 0) added alike, so the order stands.
        special = self._special(case, family) - {current}
        uniform: tuple[str, ...] = ()
        if case.pinned_worker is not None:
            uniform += ("pinned_worker",)
        if st.policy.max_new_families_per_day <= 0:
            uniform += ("intake_limit",)
        skipped = special | {current}
        area = normalised(case.area) if case.area is not None else None  # as w.areas
        eligible: list[tuple[tuple[int, ...], str]] = []  # the special ones, then the best
        blocked: list[tuple[str, tuple[str, ...]]] = []
        for wid in sorted(special):
            w = self._by_id.get(wid)
            if w is None or wid in st.gone:
                continue
            rules = self._rule_ids(case, w, screen)
            if rules:
                blocked.append((wid, rules))
            else:
                eligible.append((self._key(case, w, family), wid))
        eligible_count = len(eligible)
        if not uniform:
            eligible_count += ranking.eligible - sum(
                1 for wid in skipped if wid is not None and ranking.count.get(wid) == 0
            )
            for _, wid in ranking.walk(area, 0, ranking.eligible, skipped, top):
                eligible.append((self._key(case, self._by_id[wid], family), wid))
        ranked = tuple(
            self._candidate(case, wid, as_score(key), family, ())
            for key, wid in heapq.nsmallest(top, eligible)
        )
        first_blocked = 0 if uniform else ranking.eligible
        regular_misses = [
            (
                miss_key(
                    self._key(case, self._by_id[wid], family),
                    int(bool(family)),
                    count + len(uniform),
                ),
                wid,
            )
            for count, wid in ranking.walk(
                area, first_blocked, len(ranking.wids), skipped, ineligible
            )
        ]
        misses = self._nearest_misses(case, blocked, family, ineligible, regular_misses)
        collide: tuple[str, ...] = ()
        if not eligible_count:
            sets = ranking.blocked_sets(uniform, skipped)
            sets.update(frozenset(rules) for _, rules in blocked)
            collide = colliding(sets)
        return Recommendation(
            case=case.id,
            family=case.family,
            type=case.type.value,
            complexity=case.complexity,
            weight=to_points(st.weight[case.id]),
            current_worker=current,
            needs_worker=case.id in st.needs,
            eligible_count=eligible_count,
            ranked=ranked,
            ineligible=misses,
            colliding_rules=collide,
        )

    def score(
        self, case_id: str, worker_id: str, *, siblings: Iterable[str] | None = None
    ) -> dict[str, int]:
        """The tier score of placing ``case_id`` alone with ``worker_id`` (any worker).

        ``siblings`` as in :meth:`recommend`.

        Raises
        ------
        TypeError
            If an id is not text, or ``siblings`` is not a collection of ids.
        UnknownIdError
            If ``case_id`` is not a case of the snapshot, or ``worker_id`` or one of
            ``siblings`` is not among the practitioners.
        """
        case = self._known("score", case_id, worker_id)
        return self._score(case, worker_id, self._family("score", case, siblings))

    def judging_on(self, judged_on: str | None) -> Recommender:
        """This recommender, its room reasons said as judged on ``judged_on``; the
        index and rankings shared (they hold no sentences)."""
        if judged_on == self.judged_on:
            return self
        other = copy.copy(self)
        other.judged_on = judged_on
        return other

    def room_reason(self, case_id: str, worker_id: str) -> str | None:
        """The room reason of ``worker_id`` for ``case_id`` among the candidate's
        reasons (:func:`room_sentence`), or ``None`` where none is given (no cap, or
        over it).

        Raises
        ------
        TypeError, UnknownIdError
            As :meth:`score`.
        """
        self._known("room_reason", case_id, worker_id)
        st = self.state
        spare, cap = st.spare_before(worker_id), st.capacity[worker_id]
        if cap <= 0 or spare < 0:
            return None
        after = st.load_kept[worker_id] + st.weight[case_id]
        return room_sentence(spare, after, cap, self.judged_on)

    def blockers(self, case_id: str, worker_id: str) -> tuple[Blocker, ...]:
        """Every rule stopping ``worker_id`` taking ``case_id`` today, with its id.

        Raises
        ------
        TypeError, UnknownIdError
            As :meth:`score`.
        """
        case = self._known("blockers", case_id, worker_id)
        return self._blockers(case, self.state.practitioners[worker_id])

    # ------------------------------------------------------------------ internals

    def _known(self, call: str, case_id: str, worker_id: str) -> Case:
        """``case_id``'s case, once both ids are text the snapshot holds."""
        check_arguments(call, case_id=case_id, worker_id=worker_id)
        case = self.state.cases.get(case_id)
        if case is None:
            raise unknown_case(case_id)
        if worker_id not in self.state.practitioners:
            raise unknown_worker(worker_id)
        return case

    def _family(self, call: str, case: Case, siblings: Iterable[str] | None) -> frozenset[str]:
        """The workers holding the child's siblings: ``siblings`` where given (a list of
        the practitioners' ids), else the snapshot's."""
        if siblings is None:
            return self._sibling_workers(case)
        given = check_id_set(call, "siblings", siblings)
        self._refuse_unknown(call, "siblings", given)
        return given

    def _refuse_unknown(self, call: str, name: str, workers: Iterable[str]) -> None:
        """Refuse ``workers`` (an argument's ids) naming anyone off the staff list: a
        mistyped id was taken in silence as a worker of its own."""
        unknown = sorted(w for w in workers if w not in self.state.practitioners)
        if unknown:
            who = "who is" if len(unknown) == 1 else "who are"
            raise UnknownIdError(
                f"{call}: {name} names {', '.join(map(describe_value, unknown))}, {who} not "
                "among the practitioners"
            )

    def _sibling_workers(self, case: Case) -> frozenset[str]:
        """Workers who keep one of the child's siblings (not this child, not a leaver)."""
        st = self.state
        return frozenset(
            w
            for sid in st.families[case.family]
            if sid != case.id and (w := st.cases[sid].worker) is not None and w not in st.gone
        )

    def _special(self, case: Case, siblings: frozenset[str]) -> set[str]:
        """Workers whose rules or score for ``case`` are not those of the cached order.

        The siblings' workers, previous, excluded and pinned workers, and every holder
        of the family (the intake limit does not stop them).
        """
        st = self.state
        out = set(siblings) | set(case.previous_workers) | set(case.excluded_workers)
        if case.pinned_worker is not None:
            out.add(case.pinned_worker)
        for sid in st.families[case.family]:
            if (w := st.cases[sid].worker) is not None:
                out.add(w)
        # Workers the plan in force brings to the intake limit: the cached order does
        # not know which families are new to them.
        limit = st.policy.max_new_families_per_day
        out.update(w for w, new in self._new_today.items() if len(new) >= limit)
        return out

    def _ranking(self, case: Case, screen: dict[str, tuple[str, ...]]) -> _Ranking:
        """Every worker in rank order for a case of this kind and weight (cached)."""
        weight = self.state.weight[case.id]
        key = (case.type, case.complexity, case.needs, weight)
        ranking = self._rankings.get(key)
        if ranking is None:
            st = self.state
            rows = []
            for w in self._workers:
                rules = screen.get(w.id, ()) + w.static
                if weight > w.spare and "capacity" not in w.static:
                    rules += ("capacity",)
                # Any case of this kind and weight costs the same on these tiers.
                costs = tuple(t.cost(st, case.id, w.id) for t in BY_KIND)
                rows.append((len(rules), costs, w.id, w.areas, rules))
            ranking = self._rankings[key] = _Ranking(rows)
        return ranking

    def _screen(self, case: Case) -> dict[str, tuple[str, ...]]:
        """Per worker, the grade and skills rules (ids) stopping them, for this kind of case."""
        key = kind_of(case)
        screen = self._screens.get(key)
        if screen is None:
            policy = self.state.policy
            # The kind of case alone: exclusions, the pin and the current worker are
            # judged per case in _rule_ids.
            probe = kind_probe(case)
            screen = {}
            for p in self._staff:
                ids = tuple(dict.fromkeys(rule for rule, _ in kind_rules(probe, p, policy)))
                if ids:
                    screen[p.id] = ids
            self._screens[key] = screen
        return screen

    def _rule_ids(
        self, case: Case, w: _Worker, screen: dict[str, tuple[str, ...]]
    ) -> tuple[str, ...]:
        """The ids of every rule stopping ``w`` taking ``case`` today (cheap, no sentences).

        ``screen`` is :meth:`_screen` of the case. Agrees with
        :func:`allocator.explain.reasons.worker_blockers` before the plan (the tests hold the
        two together).
        """
        st = self.state
        wid = w.id
        ids = screen.get(wid, ())
        ids += tuple(rule for rule, _ in case_rules(case, self.state.practitioners[wid], st.policy))
        ids += w.static
        # The cap as CAPACITY.blocks judges it from spare room, and the intake limit as
        # INTAKE_LIMIT.blocks, from the families the plan in force already makes new
        # to the worker (none before a plan: then only a limit of 0 stops anyone).
        if self.state.weight[case.id] > w.spare and CAPACITY.id not in w.static:
            ids += (CAPACITY.id,)
        new = self._new_today.get(wid, frozenset())
        if (
            case.family not in self._held.get(wid, ())
            and case.family not in new
            and len(new) >= st.policy.max_new_families_per_day
        ):
            ids += (INTAKE_LIMIT.id,)
        return ids

    def _blockers(self, case: Case, p: Practitioner) -> tuple[Blocker, ...]:
        """The sentences for :meth:`_rule_ids`: every registered rule, before the plan (or
        with the new families a plan in force gives: ``new_today``)."""
        st = self.state
        room = Room(
            load=st.load_kept[p.id],
            held=self._held.get(p.id, frozenset()),
            new=self._new_today.get(p.id, frozenset()),
        )
        return tuple(Blocker(rule, s) for rule, s in taking_blockers(st, case, p.id, room))

    def _score(self, case: Case, wid: str, siblings: frozenset[str]) -> dict[str, int]:
        """Tier key -> value of placing ``case`` alone with ``wid`` (plan units).

        ``siblings_apart``: the family's extra workers with the child there; every
        other tier: its :meth:`~allocator.domain.objectives.Tier.change`.
        """
        return as_score(self._key(case, self._by_id[wid], siblings))

    @staticmethod
    def _apart(wid: str, siblings: frozenset[str]) -> int:
        """The family's extra workers once the child is with ``wid``."""
        return len(siblings) - (wid in siblings) if siblings else 0

    def _key(self, case: Case, w: _Worker, siblings: frozenset[str]) -> tuple[int, ...]:
        """:func:`score_key` of :meth:`_score`, without building the mapping (hot path).

        Each linear tier's minimised change: its cost less its stay cost.
        """
        st, cid, wid = self.state, case.id, w.id
        return (
            self._apart(wid, siblings),
            *(t.cost(st, cid, wid) - t.stay_cost(st, cid) for t in LINEAR),
        )

    def _nearest_misses(
        self,
        case: Case,
        blocked: Iterable[tuple[str, tuple[str, ...]]],
        siblings: frozenset[str],
        n: int,
        regular: Iterable[tuple[tuple[int, ...], str]] = (),
    ) -> tuple[Candidate, ...]:
        """The ``n`` blocked workers nearest to taking the case (see the module notes).

        ``blocked`` holds the workers ranked one by one, with their rule ids;
        ``regular`` the first ``n`` of the others, already keyed, in order.
        """
        if n <= 0:
            return ()
        keyed = list(regular)
        for wid, rules in blocked:
            sib = 0 if (not siblings or wid in siblings) else 1
            keyed.append(
                (miss_key(self._key(case, self._by_id[wid], siblings), sib, len(rules)), wid)
            )
        keyed.sort()
        st = self.state
        return tuple(
            self._candidate(
                case,
                wid,
                self._score(case, wid, siblings),
                siblings,
                self._blockers(case, st.practitioners[wid]),
            )
            for _, wid in keyed[:n]
        )

    def _candidate(
        self,
        case: Case,
        wid: str,
        score: dict[str, int],
        siblings: frozenset[str],
        blockers: tuple[Blocker, ...],
    ) -> Candidate:
        st = self.state
        cap = st.capacity[wid]
        after = st.load_kept[wid] + st.weight[case.id]
        share = after / cap if cap > 0 else None
        return Candidate(
            worker=wid,
            eligible=not blockers,
            score=score,
            reasons=tuple(self._reasons(case, wid, siblings)),
            blockers=blockers,
            load_after=to_points(after),
            utilisation_after=round(share, 4) if share is not None else None,
        )

    def _reasons(self, case: Case, wid: str, siblings: frozenset[str]) -> list[str]:
        st = self.state
        reasons: list[str] = []
        kept_for = st.held_from(wid, case.id)
        if kept_for is not None:
            # Not a hard rule (a manager may still choose them), but the engine keeps
            # this child off them: said first, as the plan's reason and explain say it
            # (the meeting page shows an alternative's first reason).
            reasons.append(
                f"{wid}'s room is held for {kept_for}, waiting {st.days_waiting[kept_for]} "
                "days (policy waiting.reserve_after_days): the engine places no child of "
                f"this class or below with {wid} until {kept_for} fits"
            )
        room_for = st.room_kept_from(wid, case.id)
        if room_for is not None:
            reasons.append(
                f"{room_kept_clause(st, {wid: room_for})}: the engine places no child of "
                f"this class with {wid} beyond it"
            )
        if case.pinned_worker == wid:
            reasons.append(f"pinned to {wid} by a manager")
        if wid in siblings:
            held = [
                sid
                for sid in st.families[case.family]
                if sid != case.id and st.cases[sid].worker == wid
            ]
            if held:
                word = "sibling" if len(held) == 1 else "siblings"
                reasons.append(f"holds {word} {joined(held)}")
            else:  # given by the caller's placements (e.g. a plan), not the snapshot
                reasons.append("has a sibling of this child")
        elif siblings:
            reasons.append(
                f"siblings are with {joined(sorted(siblings))}: the family would have one "
                "more worker"
            )
        if wid in case.previous_workers:
            reasons.append("previous worker of this child")
        # Any other tier that scores this placement, in its own words (the look-ahead).
        reasons.extend(
            t.placed_alone(st, case.id, wid).justification
            for t in LINEAR
            if t.key not in _OWN_REASONS and t.change(st, case.id, wid)
        )
        reasons.extend(area_reasons(st, case, wid))
        room = self.room_reason(case.id, wid)
        if room is not None:
            reasons.append(room)
        return reasons


def plan_new_families(
    snapshot: Snapshot, plan: Plan, *, leave_out: str | None = None
) -> dict[str, set[str]]:
    """Per worker, the families ``plan`` makes new to them today: what the intake limit
    counts (its placements and handovers, as ``check`` counts them), ``leave_out``'s
    own placement aside (the child whose worker is being chosen again).

    ``snapshot`` is the service the plan was made for, before it is applied.
    """
    given = {a.case: a.worker for a in plan.assignments}
    given.update((h.case, h.worker) for h in plan.handovers)
    given.pop(leave_out or "", None)
    return new_families_of(snapshot, given)


def recommend(
    snapshot: Snapshot,
    case_id: str,
    policy: Policy | None = None,
    top: int = 5,
    ineligible: int = 3,
    *,
    plan: Plan | None = None,
    handovers: Iterable[Handover] = (),
) -> Recommendation:
    """The best workers for ``case_id``: a one-off :meth:`Recommender.recommend`.

    Parameters
    ----------
    snapshot
        The service (referrals merged in).
    case_id
        Any case of the snapshot; for an open case, alternatives to its worker.
    policy
        The policy; FORMAT.md defaults when ``None``.
    top, ineligible
        How many eligible workers, and how many near misses, to return.
    plan
        The plan in force for ``snapshot``, if any: workers are ranked against the
        service once it is applied (:func:`allocator.problems.apply.applied`: the morning's
        placements on their new workers' loads), the room of its handovers still to
        come kept at their receivers (:func:`allocator.problems.apply.reserve_handovers`),
        and the families it already makes new to each worker counted against the
        intake limit (:func:`plan_new_families`).
    handovers
        Handovers an earlier plan promised and not yet made
        (:func:`allocator.problems.apply.still_pending`): their receivers' room is kept too
        (with ``plan``, those the plan does not decide anew).

    Returns
    -------
    Recommendation

    Raises
    ------
    TypeError
        If the snapshot, ``case_id``, or a policy or plan given is of another kind,
        ``top``/``ineligible`` is not a whole number, or ``handovers`` is not a
        sequence of Handover records (a set is refused: it has no order), naming the
        argument.
    InputError
        If the snapshot or the plan (a ``model_copy`` no constructor checked) does not
        hold to the contract, one sentence per problem.
    PolicyError
        A ``ValueError``: a policy copy out of its domains.
    ValueError
        If ``top`` is below 1 or ``ineligible`` below 0 (or either above 1,000,000).
    UnknownIdError
        If ``case_id`` is not a case of the snapshot.
    allocator.problems.apply.PlanNotApplicable
        If ``plan`` cannot be applied to ``snapshot`` (another day, unknown ids, a
        broken hard rule).

    Notes
    -----
    Indexing the snapshot costs far more than one query; to ask about many cases,
    build one :class:`Recommender` (of the snapshot after the plan, for a plan in
    force).
    """
    check_arguments(
        "recommend",
        optional=("policy", "plan"),
        snapshot=snapshot,
        case_id=case_id,
        policy=policy,
        plan=plan,
    )
    top = check_count("recommend", "top", top, low=1)
    ineligible = check_count("recommend", "ineligible", ineligible)
    handovers = check_items("recommend", "handovers", handovers, Handover, "Handover records")
    snapshot, plan = (
        admitted("recommend", "snapshot", snapshot),
        admitted("recommend", "plan", plan),
    )
    policy = admitted("recommend", "policy", policy)
    if plan is not None or handovers:
        from allocator.problems.apply import applied, reserve_handovers

        policy = policy or Policy()
        promised: Iterable[Handover] = handovers
        new_today: dict[str, set[str]] = {}
        if plan is not None:
            new_today = plan_new_families(snapshot, plan, leave_out=case_id)
            after = applied(snapshot, plan, policy, earlier=handovers)
            snapshot, promised = after.snapshot, after.pending
        # The child asked about keeps their own promised room: it is theirs to take.
        mine = [h for h in promised if h.case == case_id]
        others = [h for h in promised if h not in mine]
        # Their siblings' promises are ranked as made, so that a worker a sibling is
        # promised to is ranked as the sibling's worker (a fresh user saw that worker
        # said to add "one more worker" to the family); the others keep their room.
        family = {c.id: c.family for c in snapshot.cases}
        own = family.get(case_id)
        siblings = {
            h.case: h.worker for h in others if own is not None and family.get(h.case) == own
        }
        if siblings:
            snapshot = snapshot.model_copy(
                update={
                    "cases": tuple(
                        c.model_copy(update={"worker": siblings[c.id]}) if c.id in siblings else c
                        for c in snapshot.cases
                    )
                }
            )
        snapshot = reserve_handovers(
            snapshot, policy, [h for h in others if h.case not in siblings]
        )
        # Room is judged once the plan is applied, and said so; promised handovers
        # alone (no plan) only lower their receivers' caps: no plan to tell apart.
        rec = Recommender(
            snapshot,
            policy,
            new_today=new_today,
            judged_on=ONCE_APPLIED if plan is not None else None,
        ).recommend(case_id, top=top, ineligible=ineligible)
        # Said with the ranking: a manager asking about a child who already has a new
        # worker named (today's placement, or a handover to come) should not read the
        # ranking as the child having none.
        given = plan.assignments if plan is not None else ()
        planned = next((a.worker for a in given if a.case == case_id), None)
        return replace(rec, handover=mine[0] if mine else None, planned=planned)
    return Recommender(snapshot, policy).recommend(case_id, top=top, ineligible=ineligible)
