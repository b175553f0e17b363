"""The best workers for one case, ranked the way the engine ranks placements.

A team manager asks "who should take this child?" -- a referral that has just come
in, or an open case whose worker may need to change. :class:`Recommender` indexes a
snapshot once and then answers in milliseconds on a service of thousands of
practitioners; :func:`recommend` is the one-off form.

Each worker the hard rules allow (:meth:`allocator.rules.ServiceState.may_hold`,
plus the intake limit) is scored by the engine's tier costs of placing this case
alone with them today, and the scores are compared lexicographically, tier by tier,
as the engine compares plans (:data:`allocator.objectives.TIERS`):

1. ``siblings_apart`` -- the family's extra workers if the child goes there, so a
   sibling's worker comes first;
2. ``previous_worker_returns`` -- 1 for a worker the child has had before (max);
3. ``balance`` -- :func:`allocator.objectives.balance_cost`, the rise in the worker's
   utilisation penalty;
4. ``outside_area`` -- 1 if the worker's patches exclude the child's area;

then the worker id. The unallocated tiers are 0 for every placement and are left out.

The workers the rules stop are listed too, "nearest misses" first, each with every
rule that stops them (rule ids of :data:`allocator.check.RULES`): sorted by the two
continuity tiers (a sibling's or previous worker who cannot take the child is what a
manager asks about first), then the number of blocking rules, then the other tiers.

Nothing here imports the solver; the sentences name ids, grades, case types, skills
and patch names only.
"""

from __future__ import annotations

import dataclasses
import heapq
from bisect import bisect_left
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import accumulate
from typing import Any

from allocator.check import joined, points
from allocator.explain import (
    Blocker,
    area_reasons,
    availability_rule,
    capacity_rule,
    covering_rules,
    intake_rule,
    tagged_holding_blockers,
)
from allocator.io import InputError
from allocator.models import Case, Practitioner, Snapshot
from allocator.objectives import BALANCE_THRESHOLDS, BALANCE_UNIT
from allocator.policy import Policy
from allocator.rules import (
    ServiceState,
    families_held,
    holding_rules,
    normalised,
    normalised_set,
    to_points,
)

#: The tiers one placement moves, in priority order, with their direction.
SCORE_TIERS: tuple[tuple[str, str], ...] = (
    ("siblings_apart", "min"),
    ("previous_worker_returns", "max"),
    ("balance", "min"),
    ("outside_area", "min"),
)


@dataclass(frozen=True, slots=True)
class _Worker:
    """What a query needs of one practitioner, precomputed (the per-query loop is hot)."""

    id: str
    static: tuple[str, ...]  # rules stopping them whatever the case: availability, over cap
    spare: int
    capacity: int
    areas: frozenset[str]
    thresholds: tuple[int, ...]  # balance thresholds in centi-points, ascending
    prefix: tuple[int, ...]  # prefix[k] = sum(thresholds[:k])
    penalty_before: int

    def penalty(self, load: int) -> int:
        """sum(max(0, load - t) for t in thresholds), by bisection."""
        k = bisect_left(self.thresholds, load)
        return k * load - self.prefix[k]


class UnknownIdError(InputError, LookupError):
    """A case or worker id that is not in the snapshot (or the plan)."""


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
        When nobody is eligible: the rules that together leave the case nobody.
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
        }


def score_key(score: dict[str, int]) -> tuple[int, ...]:
    """The score as a tuple to compare lexicographically (smaller is better)."""
    return tuple(score[key] if sense == "min" else -score[key] for key, sense in SCORE_TIERS)


class Recommender:
    """A snapshot indexed once, answering "who should take this case?" fast.

    Parameters
    ----------
    snapshot
        The service (referrals merged in).
    policy
        The policy; FORMAT.md defaults when ``None``.
    state
        An already indexed :class:`~allocator.rules.ServiceState` of ``snapshot``
        under ``policy``, to share one.

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
    ) -> None:
        self.state = state or ServiceState.of(snapshot, policy or Policy())
        st = self.state
        self._staff: list[Practitioner] = [
            p for pid, p in st.practitioners.items() if pid not in st.gone
        ]
        self._unavailable: dict[str, Blocker] = {}
        self._by_id: dict[str, _Worker] = {}
        for p in st.practitioners.values():  # leavers too, to score a hand-made plan
            static: list[str] = []
            blocker = availability_rule(st, p.id)
            if blocker is not None:
                self._unavailable[p.id] = blocker
                static.append(blocker.rule)
            cap, before = st.capacity[p.id], st.load_before[p.id]
            if before > cap:
                static.append("capacity")
            thresholds = tuple(sorted(cap * t // 100 for t in BALANCE_THRESHOLDS))
            prefix = tuple(accumulate(thresholds, initial=0))
            worker = _Worker(
                id=p.id,
                static=tuple(static),
                spare=cap - before,
                capacity=cap,
                areas=normalised_set(p.areas),
                thresholds=thresholds,
                prefix=prefix,
                penalty_before=0,
            )
            self._by_id[p.id] = dataclasses.replace(worker, penalty_before=worker.penalty(before))
        # The candidates: everyone who has not left, in snapshot order.
        self._workers = [self._by_id[p.id] for p in self._staff]
        self._held = families_held(st)
        # Grade and skills depend only on (type, complexity, needs): screened once each.
        self._screens: dict[tuple[object, ...], dict[str, tuple[str, ...]]] = {}

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
            If ``case_id`` is not a case of the snapshot.
        """
        st = self.state
        case = st.cases.get(case_id)
        if case is None:
            raise UnknownIdError(f"case {case_id!r} is not in the snapshot")
        current = case.worker
        family = self._sibling_workers(case) if siblings is None else frozenset(siblings)
        eligible: list[tuple[tuple[int, ...], str]] = []
        blocked: list[tuple[str, tuple[str, ...]]] = []
        screen = self._screen(case)
        for w in self._workers:
            if w.id == current:
                continue
            rules = self._rule_ids(case, w, screen)
            if rules:
                blocked.append((w.id, rules))
            else:
                eligible.append((self._key(case, w, family), w.id))
        ranked = tuple(
            self._candidate(case, wid, self._score(case, wid, family), family, ())
            for _, wid in heapq.nsmallest(top, eligible)
        )
        misses = self._nearest_misses(case, blocked, family, ineligible)
        collide = () if eligible else tuple(covering_rules([rules for _, rules in blocked]))
        return Recommendation(
            case=case.id,
            family=case.family,
            type=case.type.value,
            complexity=case.complexity,
            weight=to_points(st.weight[case.id]),
            current_worker=current,
            needs_worker=case.id in st.needs,
            eligible_count=len(eligible),
            ranked=ranked,
            ineligible=misses,
            colliding_rules=collide,
        )

    def score(
        self, case_id: str, worker_id: str, *, siblings: Iterable[str] | None = None
    ) -> dict[str, int]:
        """The tier score of placing ``case_id`` alone with ``worker_id`` (any worker).

        ``siblings`` as in :meth:`recommend`.
        """
        case = self.state.cases[case_id]
        family = self._sibling_workers(case) if siblings is None else frozenset(siblings)
        return self._score(case, worker_id, family)

    def blockers(self, case_id: str, worker_id: str) -> tuple[Blocker, ...]:
        """Every rule stopping ``worker_id`` taking ``case_id`` today, with its id."""
        return self._blockers(self.state.cases[case_id], self.state.practitioners[worker_id])

    # ------------------------------------------------------------------ internals

    def _sibling_workers(self, case: Case) -> frozenset[str]:
        """Workers who keep one of the child's siblings (not this child, not a leaver)."""
        st = self.state
        return frozenset(
            w
            for sid in st.families[case.family]
            if sid != case.id and (w := st.cases[sid].worker) is not None and w not in st.gone
        )

    def _screen(self, case: Case) -> dict[str, tuple[str, ...]]:
        """Per worker, the grade and skills rules (ids) stopping them, for this kind of case."""
        key = (case.type, case.complexity, case.needs)
        screen = self._screens.get(key)
        if screen is None:
            policy = self.state.policy
            # The kind of case alone: exclusions, the pin and the current worker are
            # judged per case in _rule_ids.
            probe = case.model_copy(
                update={"worker": None, "excluded_workers": (), "pinned_worker": None}
            )
            screen = {}
            for p in self._staff:
                ids = tuple(dict.fromkeys(rule for rule, _ in holding_rules(probe, p, policy)))
                if ids:
                    screen[p.id] = ids
            self._screens[key] = screen
        return screen

    def _rule_ids(
        self, case: Case, w: _Worker, screen: dict[str, tuple[str, ...]]
    ) -> tuple[str, ...]:
        """The ids of every rule stopping ``w`` taking ``case`` today (cheap, no sentences).

        ``screen`` is :meth:`_screen` of the case. Agrees with
        :func:`allocator.explain.worker_blockers` before the plan (the tests hold the
        two together).
        """
        wid = w.id
        ids = screen.get(wid, ())
        if wid in case.excluded_workers:
            ids += ("excluded_worker",)
        if case.pinned_worker is not None and case.pinned_worker != wid:
            ids += ("pinned_worker",)
        ids += w.static
        if self.state.weight[case.id] > w.spare and "capacity" not in w.static:
            ids += ("capacity",)
        if self.state.policy.max_new_families_per_day <= 0 and case.family not in self._held.get(
            wid, ()
        ):
            ids += ("intake_limit",)
        return ids

    def _blockers(self, case: Case, p: Practitioner) -> tuple[Blocker, ...]:
        """The sentences for :meth:`_rule_ids`."""
        st = self.state
        out = tagged_holding_blockers(case, p, st.policy)
        if p.id in self._unavailable:
            out.append(self._unavailable[p.id])
        full = capacity_rule(st, p.id, st.weight[case.id], st.load_before[p.id])
        if full is not None:
            out.append(full)
        intake = intake_rule(st, case.family, p.id, self._held, {})
        if intake is not None:
            out.append(intake)
        return tuple(out)

    def _score(self, case: Case, wid: str, siblings: frozenset[str]) -> dict[str, int]:
        """Tier key -> value of placing ``case`` alone with ``wid``."""
        key = self._key(case, self._by_id[wid], siblings)
        return {
            name: value if sense == "min" else -value
            for (name, sense), value in zip(SCORE_TIERS, key, strict=True)
        }

    def _key(self, case: Case, w: _Worker, siblings: frozenset[str]) -> tuple[int, int, int, int]:
        """:func:`score_key` of :meth:`_score`, without building the mapping (hot path).

        The balance term is :func:`allocator.objectives.balance_cost`, computed from
        the worker's precomputed thresholds (the tests check they agree exactly).
        """
        wid = w.id
        apart = len(siblings) - (wid in siblings) if siblings else 0
        balance = 0
        if w.capacity > 0:
            rise = w.penalty(self.state.load_before[wid] + self.state.weight[case.id])
            rise -= w.penalty_before
            balance = (rise * BALANCE_UNIT + w.capacity // 2) // w.capacity
        outside = case.area is not None and bool(w.areas) and normalised(case.area) not in w.areas
        return (apart, -(wid in case.previous_workers), balance, int(outside))

    def _nearest_misses(
        self,
        case: Case,
        blocked: Iterable[tuple[str, tuple[str, ...]]],
        siblings: frozenset[str],
        n: int,
    ) -> tuple[Candidate, ...]:
        """The ``n`` blocked workers nearest to taking the case (see the module notes)."""
        if n <= 0:
            return ()
        # Continuity and the count of rules first: balance is computed only for the few
        # that can still make the cut.
        rough = []
        for wid, rules in blocked:
            sib = 0 if (not siblings or wid in siblings) else 1
            back = -1 if wid in case.previous_workers else 0
            rough.append(((sib, back, len(rules)), wid))
        rough.sort()
        if len(rough) > n:
            cut = rough[n - 1][0]
            rough = [r for r in rough if r[0] <= cut]
        keyed = []
        for (sib, back, count), wid in rough:
            rest = self._key(case, self._by_id[wid], siblings)[2:]
            keyed.append(((sib, back, count, *rest), wid))
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
        after = st.load_before[wid] + st.weight[case.id]
        share = after / cap if cap > 0 else None
        return Candidate(
            worker=wid,
            eligible=not blockers,
            score=score,
            reasons=tuple(self._reasons(case, wid, siblings, share)),
            blockers=blockers,
            load_after=to_points(after),
            utilisation_after=round(share, 4) if share is not None else None,
        )

    def _reasons(
        self, case: Case, wid: str, siblings: frozenset[str], share: float | None
    ) -> list[str]:
        st = self.state
        reasons: list[str] = []
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
        reasons.extend(area_reasons(st, case, wid))
        spare = st.capacity[wid] - st.load_before[wid]
        if share is not None and spare >= 0:
            reasons.append(
                f"{points(spare)} points spare; would end at {round(100 * share)}% of capacity"
            )
        return reasons


def recommend(
    snapshot: Snapshot,
    case_id: str,
    policy: Policy | None = None,
    top: int = 5,
    ineligible: int = 3,
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

    Returns
    -------
    Recommendation

    Raises
    ------
    UnknownIdError
        If ``case_id`` is not a case of the snapshot.

    Notes
    -----
    Indexing the snapshot costs far more than one query; to ask about many cases,
    build one :class:`Recommender`.
    """
    return Recommender(snapshot, policy).recommend(case_id, top=top, ineligible=ineligible)
