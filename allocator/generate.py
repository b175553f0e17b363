"""Synthetic children's social-care services: a realistic snapshot from a seed.

:func:`generate` builds one service in the FORMAT.md contract: teams of about eight
practitioners, their open caseload filled to a chosen share of the policy's weighted
capacity, and one day's referrals waiting for a worker. The same arguments always give
the same :class:`~allocator.contract.models.Snapshot` (one ``random.Random(seed)``, lists and
dicts iterated in insertion order, never the salted built-in ``hash``).

Where the numbers come from
---------------------------
Sources are listed in full in the project's ``DOMAIN.md``; each table below names the
one it follows. A figure marked *assumption* has no public source we could cite and is
a plausible round number, chosen so the service looks like the published ones.

- Caseload: 16.0 children per case-holding FTE in England in 2023, 16.1-17.8 in
  2016-2020, council averages 10.2-26.4 (DfE, *Children's social work workforce*). With
  the mixes below, the default ``load=0.9`` of the FORMAT.md weighted cap gives about
  19-20 children per FTE (18-19 per practitioner): a busy service, as one that needs
  an allocator is, but inside the range councils report.
- Caps: 100 points per full-time worker, newly qualified 80-90 points (Wirral's points
  scheme; the FORMAT.md grade factor 0.8); some workers are over their cap, as workers
  in a probation workload study were (77%-111% of capacity).
- Part-time: FTE is 0.94 of headcount (DfE workforce 2023: 33,119 FTE, 35,199 people).
- Turnover 15.9% a year and sickness absence 3.2% of working days (DfE workforce 2023):
  about 1.2% of staff leave in any 28 days (we use 1.5% gone, 1.5% going) and, with
  maternity leave, about 4% are absent on a given day.
- Welsh: 17.8% of people in Wales aged 3+ speak Welsh, 34.3% of those aged 5-15
  (ONS, Census 2021); we give 20% of workers and 15% of families Welsh.
- Continuity: 60% of looked-after children had at least one change of social worker in
  a year, 26% two or more (DfE via Community Care, 2019).
- Referrals: 23% of referrals are re-referrals within a year (DfE, *Characteristics of
  children in need 2018-19*). England completes about 645,000 assessments a year for
  about 400,000 children in need, some 0.65% of the open caseload per working day, so
  the default ``referral_rate=0.04`` is a week's allocation meeting rather than a day's.
- Court work: care proceedings should finish within 26 weeks (Children and Families
  Act 2014), hence court cases are the most recently opened statutory work.
"""

from __future__ import annotations

import heapq
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Generic, TypeVar

from allocator.contract.models import (
    SNAPSHOT_FORMAT,
    Case,
    CaseType,
    Contract,
    Grade,
    Practitioner,
    Priority,
    Snapshot,
)
from allocator.contract.policy import Policy
from allocator.domain.rules import is_gone

__all__ = ["generate", "with_contracts"]

T = TypeVar("T")


class _Table(Generic[T]):
    """A discrete distribution: values with relative weights, one rng call per draw."""

    __slots__ = ("values", "weights", "cum")

    def __init__(self, pairs: Sequence[tuple[T, float]]) -> None:
        self.values: list[T] = [v for v, _ in pairs]
        self.weights: list[float] = [w for _, w in pairs]
        cum: list[float] = []
        total = 0.0
        for w in self.weights:
            total += w
            cum.append(total)
        self.cum = cum

    def draw(self, rng: random.Random) -> T:
        return rng.choices(self.values, cum_weights=self.cum)[0]

    def apportion(self, n: int) -> list[T]:
        """Exactly ``n`` values in these proportions (largest remainder, ties in order)."""
        total = self.cum[-1]
        exact = [n * w / total for w in self.weights]
        counts = [int(x) for x in exact]
        by_remainder = sorted(range(len(exact)), key=lambda i: (-(exact[i] - counts[i]), i))
        for i in by_remainder[: n - sum(counts)]:
            counts[i] += 1
        return [v for v, k in zip(self.values, counts, strict=True) for _ in range(k)]


# ------------------------------------------------------------------------- the workforce

#: Practitioners per team; teams of 6-10 around a team manager are usual (assumption).
TEAM_SIZE = 8

#: Patches (areas) per team: a locality team covers one to three (assumption).
PATCHES_PER_TEAM = _Table([(1, 0.30), (2, 0.45), (3, 0.25)])

#: Grade mix. Newly qualified 15%: DfE workforce 2023 counts 6,028 FTE starters against
#: 33,119 in post (18%), most starters being in their assessed first year (ASYE).
#: Students on placement 5%, seniors 20% and consultants 5% (about one practice lead
#: per team of eight) are assumptions.
GRADE_MIX = _Table(
    [
        (Grade.STUDENT, 0.05),
        (Grade.NQSW, 0.15),
        (Grade.SOCIAL_WORKER, 0.55),
        (Grade.SENIOR, 0.20),
        (Grade.CONSULTANT, 0.05),
    ]
)

#: Contracted hours. Mean 0.93, matching FTE / headcount = 0.94 (DfE workforce 2023).
FTE_MIX = _Table([(1.0, 0.80), (0.8, 0.08), (0.6, 0.06), (0.5, 0.06)])

#: Post-qualifying experience range (years) by grade (assumption).
EXPERIENCE: dict[Grade, tuple[float, float]] = {
    Grade.STUDENT: (0.0, 0.0),
    Grade.NQSW: (0.0, 1.0),
    Grade.SOCIAL_WORKER: (1.0, 8.0),
    Grade.SENIOR: (4.0, 15.0),
    Grade.CONSULTANT: (8.0, 25.0),
}

#: Share of workers who speak Welsh (Census 2021: 17.8% of people in Wales, more of the
#: young; we take 20%). Every team of three or more has at least one.
WELSH_STAFF = 0.20

#: Share of each grade with each further skill (assumption). Seniors and consultants all
#: do court work; students and newly qualified staff do none (FORMAT.md grade rules).
SKILL_RATES: dict[str, dict[Grade, float]] = {
    "court": {Grade.SOCIAL_WORKER: 0.35, Grade.SENIOR: 1.0, Grade.CONSULTANT: 1.0},
    "disability": {
        Grade.NQSW: 0.05,
        Grade.SOCIAL_WORKER: 0.12,
        Grade.SENIOR: 0.12,
        Grade.CONSULTANT: 0.12,
    },
    "adoption": {Grade.SOCIAL_WORKER: 0.10, Grade.SENIOR: 0.10, Grade.CONSULTANT: 0.10},
}

#: Staff movements on ``as_of`` (DfE workforce 2023: turnover 15.9% a year, sickness
#: absence 3.2% of days; see the module docstring).
GONE_RATE = 0.015  # left on or before as_of, cases not yet moved in the export
LEAVING_SOON_RATE = 0.015  # last day within the next 28 days
LEAVING_LATER_RATE = 0.01  # notice given, last day 29-90 days away
ABSENT_RATE = 0.04  # absent on as_of
RETURNED_RATE = 0.01  # back from an absence; available_from in the past
OVERRIDE_RATE = 0.02  # a manager's capacity_points override

#: Kind of absence -> days from as_of until back (assumption; maternity up to 39 weeks of
#: statutory pay, long sickness, short sickness or leave).
ABSENCES = _Table([((60, 270), 0.35), ((28, 120), 0.20), ((1, 27), 0.45)])

#: Override as a share of the computed cap: phased return, practice educator, extra
#: duties, or an experienced worker agreeing to more (assumption).
OVERRIDE_FACTORS = _Table([(0.5, 0.25), (0.6, 0.25), (0.75, 0.35), (1.1, 0.15)])

#: Each worker's target load as a share of capacity: triangular(load - 0.20, load + 0.15,
#: mode load + 0.05), whose mean is ``load``. At 0.9 it spans 70%-105%, some over cap
#: (probation workloads ranged 77%-111%; 49% of newly qualified workers did not get the
#: protected caseload they were promised, Community Care 2018).
LOAD_SPREAD = (-0.20, 0.15, 0.05)

# ---------------------------------------------------------------------------- the cases

#: Open caseload by type, per child. Looked-after children are about a fifth of
#: children in need in England (DfE, *Characteristics of children in need*); the rest
#: of the split is an assumption.
CASE_MIX = _Table(
    [
        (CaseType.CHILD_IN_NEED, 0.40),
        (CaseType.CHILD_PROTECTION, 0.20),
        (CaseType.LOOKED_AFTER, 0.22),
        (CaseType.CARE_LEAVER, 0.08),
        (CaseType.COURT, 0.05),
        (CaseType.ADOPTION, 0.02),
        (CaseType.EARLY_HELP, 0.03),
    ]
)

#: New work by type: mostly assessments leading to child in need or child protection
#: plans, some emergency entries to care and new proceedings (assumption).
REFERRAL_MIX = _Table(
    [
        (CaseType.CHILD_IN_NEED, 0.45),
        (CaseType.CHILD_PROTECTION, 0.25),
        (CaseType.LOOKED_AFTER, 0.10),
        (CaseType.EARLY_HELP, 0.08),
        (CaseType.COURT, 0.05),
        (CaseType.CARE_LEAVER, 0.04),
        (CaseType.ADOPTION, 0.03),
    ]
)

#: Older unallocated work, as a share of the day's referrals (at least one child).
BACKLOG_SHARE = 0.01
BACKLOG_MIX = _Table([(CaseType.CHILD_IN_NEED, 0.7), (CaseType.EARLY_HELP, 0.3)])

#: Complexity 1-4 by type, skewed to 2; court work the most complex (assumption).
COMPLEXITY: dict[CaseType, _Table[int]] = {
    CaseType.EARLY_HELP: _Table([(1, 0.55), (2, 0.40), (3, 0.05)]),
    CaseType.CHILD_IN_NEED: _Table([(1, 0.30), (2, 0.50), (3, 0.16), (4, 0.04)]),
    CaseType.CHILD_PROTECTION: _Table([(1, 0.05), (2, 0.50), (3, 0.35), (4, 0.10)]),
    CaseType.LOOKED_AFTER: _Table([(1, 0.20), (2, 0.50), (3, 0.24), (4, 0.06)]),
    CaseType.CARE_LEAVER: _Table([(1, 0.40), (2, 0.45), (3, 0.12), (4, 0.03)]),
    CaseType.COURT: _Table([(2, 0.25), (3, 0.50), (4, 0.25)]),
    CaseType.ADOPTION: _Table([(1, 0.10), (2, 0.55), (3, 0.30), (4, 0.05)]),
}

#: Mean days a case in today's open caseload has been open, by type (assumption, with
#: proceedings bounded by the 26-week limit of the Children and Families Act 2014).
DAYS_OPEN: dict[CaseType, float] = {
    CaseType.EARLY_HELP: 100.0,
    CaseType.CHILD_IN_NEED: 220.0,
    CaseType.CHILD_PROTECTION: 250.0,
    CaseType.LOOKED_AFTER: 1000.0,
    CaseType.CARE_LEAVER: 1400.0,
    CaseType.COURT: 150.0,
    CaseType.ADOPTION: 450.0,
}
MAX_DAYS_OPEN = 17 * 365

#: Children per family: 1 ~55%, 2 ~25%, 3 ~12%, 4+ ~8% (assumption).
FAMILY_SIZE = _Table([(1, 0.55), (2, 0.25), (3, 0.12), (4, 0.05), (5, 0.02), (6, 0.01)])
SIBLING_SAME_TYPE = 0.85  # siblings usually share the plan (same conference, same care order)
SIBLING_SAME_COMPLEXITY = 0.70
SPLIT_FAMILY = 0.04  # a sibling group with one child held by a second worker


@dataclass(frozen=True)
class _Mix:
    """Case types per child, drawn so that a care leaver is a family of one.

    Care leavers are young adults with a case of their own (a sibling may still be open
    as another type). A family's size is drawn first from :data:`FAMILY_SIZE`; a family
    of one is a care leaver with chance ``alone``, otherwise every child's type comes
    from ``groups`` (the mix without care leavers). ``alone`` = care leavers' share x
    mean family size / share of one-child families keeps both tables exact per child.
    """

    groups: _Table[CaseType]
    alone: float

    @classmethod
    def of(cls, mix: _Table[CaseType]) -> _Mix:
        size = FAMILY_SIZE
        total = size.cum[-1]
        mean = sum(v * w for v, w in zip(size.values, size.weights, strict=True)) / total
        share = dict(zip(mix.values, (w / mix.cum[-1] for w in mix.weights), strict=True))
        leavers = share.get(CaseType.CARE_LEAVER, 0.0)
        return cls(
            groups=_Table([(t, w) for t, w in share.items() if t is not CaseType.CARE_LEAVER]),
            alone=min(1.0, leavers * mean / (size.weights[size.values.index(1)] / total)),
        )


OPEN_TYPES = _Mix.of(CASE_MIX)
REFERRAL_TYPES = _Mix.of(REFERRAL_MIX)
BACKLOG_TYPES = _Mix.of(BACKLOG_MIX)

WELSH_FAMILIES = 0.15  # families needing a Welsh-speaking worker (see WELSH_STAFF)
DISABILITY_NEED = 0.05  # children needing a worker with disability expertise (assumption)

#: Changes of worker in the last 12 months for a case open all year; a case opened d < 365
#: days ago keeps each change with chance d / 365. Calibrated so looked-after children
#: come out at 60% with at least one change and 26% with two or more (DfE via Community
#: Care 2019); used for every type.
CHANGES = _Table([(0, 0.31), (1, 0.37), (2, 0.19), (3, 0.09), (4, 0.04)])
FORMER_STAFF_SHARE = 0.5  # share of previous workers who have since left (turnover 15.9%/yr)
OLDER_WORKER = 0.3  # a case open over a year had a worker before the last 12 months

#: Looked-after children placed away from home: another patch, or outside the authority.
PLACED_ELSEWHERE = 0.12
PLACED_OUTSIDE = 0.05

EXCLUDED_RATE = 0.01  # families with a conflict of interest recorded
PINNED_RATE = 0.005  # open families a manager has pinned to their current worker

#: Referrals: siblings of open families, re-referrals known to a worker still in post
#: (23% of referrals are re-referrals, DfE 2018-19; about half to a worker still here),
#: the rest new families.
SIBLING_REFERRAL = 0.15
RE_REFERRAL = 0.10
#: Step of the low-discrepancy sequence that places referral kinds (golden ratio - 1).
GOLDEN = 0.6180339887498949
#: Chance a referral family is urgent (seen today), by its first child's type; about 16%
#: overall with REFERRAL_MIX (assumption: safeguarding and emergency entries to care).
URGENT: dict[CaseType, float] = {
    CaseType.CHILD_PROTECTION: 0.30,
    CaseType.COURT: 0.30,
    CaseType.LOOKED_AFTER: 0.25,
    CaseType.CHILD_IN_NEED: 0.10,
    CaseType.CARE_LEAVER: 0.05,
    CaseType.EARLY_HELP: 0.0,
    CaseType.ADOPTION: 0.0,
}

#: Draws a worker makes before giving up on finding a family they may hold.
MAX_DRAWS = 200
#: Families a worker may hold but has no room for before they count as full.
MAX_MISFITS = 3
#: How far down each queue of set-aside families a worker looks.
PENDING_SCAN = 64


# ------------------------------------------------------------------- internal records


@dataclass
class _Worker:
    index: int
    id: str
    team: int
    grade: Grade
    skills: set[str]
    max_complexity: int = 4
    excluded_types: frozenset[CaseType] = frozenset()
    model: Practitioner | None = None
    capacity: float = 0.0
    target: float = 0.0
    load: float = 0.0


@dataclass
class _Child:
    seq: int  # creation order, breaks ties when numbering
    family: int
    type: CaseType
    complexity: int
    needs: list[str]
    opened: date
    worker: int | None = None
    area: str | None = None
    previous: list[str] = field(default_factory=list)
    changes: int = 0
    priority: Priority = Priority.STANDARD
    pinned: bool = False
    excluded: list[str] = field(default_factory=list)


@dataclass
class _Unit:
    """Children allocated together: a family, or part of a split family."""

    family: int
    children: list[_Child]
    weight: float
    max_complexity: int
    types: frozenset[CaseType]
    needs: frozenset[str]


class _Builder:
    """Holds the generator's state; one instance per :func:`generate` call."""

    def __init__(
        self, rng: random.Random, as_of: date, policy: Policy, welsh_families: float
    ) -> None:
        self.rng = rng
        self.as_of = as_of
        self.policy = policy
        self.welsh_families = welsh_families
        self.workers: list[_Worker] = []
        self.patches: list[list[str]] = []
        self.former: list[str] = []
        self.seq = 0
        self.families = 0
        self.team_ids: list[list[str]] = []
        self.family_area: dict[int, str] = {}
        self.all_patches: list[str] = []

    # ------------------------------------------------------------------- workforce

    def staff(self, n: int) -> None:
        """Teams, grades, skills, absences, leavers and overrides for ``n`` workers."""
        rng = self.rng
        n_teams = max(1, round(n / TEAM_SIZE))
        sizes = [n // n_teams + (1 if t < n % n_teams else 0) for t in range(n_teams)]
        tw = max(2, len(str(n_teams)))
        team_names = [f"Team {t + 1:0{tw}d}" for t in range(n_teams)]
        self.patches = [
            [f"Patch {t + 1:0{tw}d}{'abc'[k]}" for k in range(PATCHES_PER_TEAM.draw(rng))]
            for t in range(n_teams)
        ]
        team_of = [t for t in range(n_teams) for _ in range(sizes[t])]
        grades = GRADE_MIX.apportion(n)
        rng.shuffle(grades)
        _ensure_a_lead_per_team(grades, team_of, n_teams)

        pw = max(4, len(str(n)))
        for i in range(n):
            grade = grades[i]
            skills = {s for s, by in SKILL_RATES.items() if rng.random() < by.get(grade, 0.0)}
            if rng.random() < WELSH_STAFF:
                skills.add("welsh")
            rule = self.policy.grades[grade]
            self.workers.append(
                _Worker(
                    i,
                    f"P{i + 1:0{pw}d}",
                    team_of[i],
                    grade,
                    skills,
                    rule.max_complexity,
                    frozenset(rule.excluded_types),
                )
            )
        for t in range(n_teams):
            members = [w for w in self.workers if w.team == t]
            if len(members) >= 3 and not any("welsh" in w.skills for w in members):
                rng.choice(members).skills.add("welsh")

        # Movements: disjoint groups from one shuffled order, so each is exact.
        order = list(range(n))
        rng.shuffle(order)
        counts = [
            _count(r, n) for r in (GONE_RATE, LEAVING_SOON_RATE, LEAVING_LATER_RATE, ABSENT_RATE)
        ]
        counts.append(round(RETURNED_RATE * n))
        groups: list[list[int]] = []
        start = 0
        for k in counts:
            groups.append(order[start : start + k])
            start += k
        gone, soon, later, absent, returned = (set(g) for g in groups)
        staying = [i for i in order if i not in gone]
        overrides = set(rng.sample(staying, min(_count(OVERRIDE_RATE, n), len(staying))))

        as_of = self.as_of
        for w in self.workers:
            i = w.index
            leaving_on: date | None = None
            available_from: date | None = None
            if i in gone:
                leaving_on = as_of - timedelta(days=rng.randint(0, 21))
            elif i in soon:
                leaving_on = as_of + timedelta(days=rng.randint(1, 28))
            elif i in later:
                leaving_on = as_of + timedelta(days=rng.randint(29, 90))
            elif i in absent:
                lo, hi = ABSENCES.draw(rng)
                available_from = as_of + timedelta(days=rng.randint(lo, hi))
            elif i in returned:
                available_from = as_of - timedelta(days=rng.randint(1, 30))
            lo_x, hi_x = EXPERIENCE[w.grade]
            practitioner = Practitioner(
                id=w.id,
                team=team_names[w.team],
                grade=w.grade,
                experience_years=round(rng.uniform(lo_x, hi_x), 1),
                fte=1.0 if w.grade is Grade.STUDENT else FTE_MIX.draw(rng),
                skills=tuple(sorted(w.skills)),
                areas=tuple(self.patches[w.team]),
                available_from=available_from,
                leaving_on=leaving_on,
            )
            if i in overrides:
                points = round(self.policy.capacity(practitioner) * OVERRIDE_FACTORS.draw(rng))
                practitioner = practitioner.model_copy(update={"capacity_points": float(points)})
            w.model = practitioner
            w.capacity = self.policy.capacity(practitioner)

        self.team_ids = [[w.id for w in self.workers if w.team == t] for t in range(n_teams)]
        self.all_patches = [p for ps in self.patches for p in ps]
        # Former staff who may appear in case histories: about three years of leavers.
        pool = max(3, round(0.5 * n))
        xw = max(4, len(str(pool)))
        self.former = [f"X{k + 1:0{xw}d}" for k in range(pool)]

    # ------------------------------------------------------------------------ cases

    def _child(
        self, family: int, type_: CaseType, complexity: int, needs: list[str], opened: date
    ) -> _Child:
        self.seq += 1
        return _Child(self.seq, family, type_, complexity, needs, opened)

    def _needs(self, type_: CaseType, welsh: bool) -> list[str]:
        needs = ["welsh"] if welsh else []
        if type_ is CaseType.COURT:
            needs.append("court")
        elif type_ is CaseType.ADOPTION:
            needs.append("adoption")
        if self.rng.random() < DISABILITY_NEED:
            needs.append("disability")
        return sorted(needs)

    def _unit(self, family: int, children: list[_Child]) -> _Unit:
        tp, mult = self.policy.type_points, self.policy.complexity_multiplier
        return _Unit(
            family=family,
            children=children,
            weight=sum(tp[c.type] * mult[c.complexity - 1] for c in children),
            max_complexity=max(c.complexity for c in children),
            types=frozenset(c.type for c in children),
            needs=frozenset(n for c in children for n in c.needs),
        )

    def family(self, mix: _Mix, opened: date | None, size: int | None = None) -> list[_Child]:
        """A new family's children, types from ``mix``.

        ``opened`` None draws an open case's start date; ``size`` None draws from
        :data:`FAMILY_SIZE`.
        """
        rng = self.rng
        self.families += 1
        key = self.families
        welsh = rng.random() < self.welsh_families
        size = FAMILY_SIZE.draw(rng) if size is None else size
        if size == 1 and rng.random() < mix.alone:
            base_type = CaseType.CARE_LEAVER
        else:
            base_type = mix.groups.draw(rng)
        base_complexity = COMPLEXITY[base_type].draw(rng)
        if opened is None:
            days = min(MAX_DAYS_OPEN, 3 + int(rng.expovariate(1.0 / DAYS_OPEN[base_type])))
            opened = self.as_of - timedelta(days=days)
        children = []
        for k in range(size):
            same = k == 0 or rng.random() < SIBLING_SAME_TYPE
            type_ = base_type if same else mix.groups.draw(rng)
            if type_ is base_type and rng.random() < SIBLING_SAME_COMPLEXITY:
                complexity = base_complexity
            else:
                complexity = COMPLEXITY[type_].draw(rng)
            children.append(self._child(key, type_, complexity, self._needs(type_, welsh), opened))
        return children

    def _open_units(self) -> list[_Unit]:
        """One open family as allocation units: usually one, two when split."""
        children = self.family(OPEN_TYPES, opened=None)
        if len(children) > 1 and self.rng.random() < SPLIT_FAMILY:
            return [
                self._unit(children[0].family, children[:-1]),
                self._unit(children[0].family, children[-1:]),
            ]
        return [self._unit(children[0].family, children)]

    def _can_hold(self, w: _Worker, unit: _Unit) -> bool:
        """The grade and skill rules of :func:`allocator.domain.rules.holding_blockers`."""
        return (
            unit.max_complexity <= w.max_complexity
            and unit.types.isdisjoint(w.excluded_types)
            and unit.needs <= w.skills
        )

    def fill(self, load: float) -> list[_Child]:
        """Give every worker families until their load reaches a target near ``load``.

        The worker furthest below target (relative to it) acts next, so all workers fill
        at the same pace. A drawn family the worker may not hold (grade, skills) or has
        no room for is set aside and offered first to the next workers, so the mix of
        types, complexities and needs across the service stays the mix of
        :data:`CASE_MIX`. Set-aside families queue by the skills they need, so a Welsh
        family waits for a Welsh speaker rather than behind families nobody can fit.
        """
        rng = self.rng
        lo, hi, mode = LOAD_SPREAD
        for w in self.workers:
            share = max(0.0, rng.triangular(load + lo, load + hi, load + mode))
            w.target = w.capacity * share
        total_target = sum(w.target for w in self.workers)
        if total_target > 0:
            scale = load * sum(w.capacity for w in self.workers) / total_target
            for w in self.workers:
                w.target *= scale

        heap = [(-1.0, w.index) for w in self.workers if w.target > 0]
        heapq.heapify(heap)
        pending = _SetAside()
        queued: list[_Unit] = []  # the second half of a split family, offered next
        held: list[_Child] = []
        while heap:
            _, i = heapq.heappop(heap)
            w = self.workers[i]
            unit = pending.take(w, self._can_hold)
            if unit is None:
                misfits = 0
                for _ in range(MAX_DRAWS):
                    if not queued:
                        queued = self._open_units()
                    candidate = queued.pop(0)
                    holdable = self._can_hold(w, candidate)
                    if holdable and _fits(w, candidate):
                        unit = candidate
                        break
                    pending.add(candidate)
                    misfits += holdable
                    if misfits == MAX_MISFITS:
                        break
                if unit is None:
                    continue  # nothing more this worker may hold or has room for: done
            self._assign(unit, w)
            held.extend(unit.children)
            if w.load < w.target:
                heapq.heappush(heap, (-(w.target - w.load) / w.target, i))
        return held

    def _assign(self, unit: _Unit, w: _Worker) -> None:
        rng = self.rng
        w.load += unit.weight
        # A split family's second worker takes the children where the first found them.
        area = self.family_area.setdefault(unit.family, rng.choice(self.patches[w.team]))
        opened = unit.children[0].opened
        days_open = (self.as_of - opened).days
        changes = CHANGES.draw(rng)
        if days_open < 365:
            changes = sum(1 for _ in range(changes) if rng.random() < days_open / 365)
        previous = self._history(
            w, changes + (1 if days_open > 365 and rng.random() < OLDER_WORKER else 0)
        )
        for c in unit.children:
            c.worker = w.index
            c.area = area
            if c.type is CaseType.LOOKED_AFTER:
                r = rng.random()
                if r < PLACED_OUTSIDE:
                    c.area = None
                elif r < PLACED_OUTSIDE + PLACED_ELSEWHERE:
                    c.area = rng.choice(self.all_patches)
            c.changes = changes
            c.previous = list(previous)

    def _history(self, w: _Worker, k: int) -> list[str]:
        """``k`` distinct previous workers, most recent first, never the current one."""
        rng = self.rng
        names: list[str] = []
        for _ in range(k * 3):  # a few retries for duplicates and the current worker
            if len(names) == k:
                break
            if rng.random() < FORMER_STAFF_SHARE or len(self.workers) == 1:
                name = rng.choice(self.former)
            elif rng.random() < 0.7:
                name = rng.choice(self.team_ids[w.team])
            else:
                name = rng.choice(self.workers).id
            if name != w.id and name not in names:
                names.append(name)
        return names

    def conflicts_and_pins(self, held: list[_Child]) -> None:
        """Rare exclusions (conflicts of interest) and manager's pins on open families."""
        rng = self.rng
        by_family: dict[int, list[_Child]] = {}
        for c in held:
            by_family.setdefault(c.family, []).append(c)
        for children in by_family.values():
            holders = {c.worker for c in children}
            if rng.random() < EXCLUDED_RATE:
                name = self._someone_else(holders)
                for c in children:
                    c.excluded = [name]
            holder = children[0].worker
            if len(holders) == 1 and holder is not None and rng.random() < PINNED_RATE:
                model = self.workers[holder].model
                # Pins stay with workers who are staying (a pin to a leaver is a defect).
                if model is not None and model.leaving_on is None:
                    for c in children:
                        c.pinned = True

    def _someone_else(self, holders: set[int | None]) -> str:
        rng = self.rng
        if rng.random() < 0.3 or len(self.workers) <= len(holders):
            return rng.choice(self.former)
        while True:
            w = rng.choice(self.workers)
            if w.index not in holders:
                return w.id

    # -------------------------------------------------------------------- new work

    def backlog(self, n_children: int) -> list[_Child]:
        """Older unallocated work: child in need / early help, waiting 2-8 weeks."""
        rng = self.rng
        out: list[_Child] = []
        while len(out) < n_children:
            opened = self.as_of - timedelta(days=rng.randint(14, 56))
            children = self.family(BACKLOG_TYPES, opened=opened, size=1)
            area = rng.choice(self.all_patches)
            for c in children:
                c.complexity = min(c.complexity, 2)
                c.area = area
            out.extend(children)
        return out

    def referrals(self, n_children: int, held: list[_Child]) -> list[_Child]:
        """The day's referrals: siblings of open families, re-referrals, new families."""
        rng = self.rng
        out: list[_Child] = []
        open_families: list[_Child] = []  # first child of each open family
        seen: set[int] = set()
        for c in held:
            if c.family not in seen:
                seen.add(c.family)
                open_families.append(c)
        in_post = [
            w for w in self.workers if w.model is not None and not is_gone(w.model, self.as_of)
        ]
        team_sizes = [len(ids) for ids in self.team_ids]
        # Kinds follow a golden-ratio sequence from a random start rather than independent
        # draws: the shares hold even among a small service's dozen referral families.
        phase = rng.random()
        # Urgency by systematic sampling: each family keeps its chance URGENT[type], and
        # the number of urgent families is within one of the sum of those chances.
        urgency = rng.random()
        k = 0
        while len(out) < n_children:
            r = (phase + k * GOLDEN) % 1.0
            k += 1
            if r < SIBLING_REFERRAL and open_families:
                sibling = rng.choice(open_families)
                welsh = "welsh" in sibling.needs
                type_ = REFERRAL_MIX.draw(rng)
                child = self._child(
                    sibling.family,
                    type_,
                    COMPLEXITY[type_].draw(rng),
                    self._needs(type_, welsh),
                    self.as_of,
                )
                child.area = self.family_area.get(sibling.family, sibling.area)
                children = [child]
            else:
                children = self.family(REFERRAL_TYPES, opened=self.as_of)
                if r < SIBLING_REFERRAL + RE_REFERRAL and in_post:
                    known_to = rng.choice(in_post)
                    area = rng.choice(self.patches[known_to.team])
                    previous = [known_to.id]
                    if rng.random() < 0.3:
                        previous.append(rng.choice(self.former))
                else:
                    team = rng.choices(range(len(self.patches)), weights=team_sizes)[0]
                    area = rng.choice(self.patches[team])
                    previous = []
                for c in children:
                    c.area = area
                    c.previous = list(previous)
            before = int(urgency)
            urgency += URGENT[children[0].type]
            urgent = int(urgency) > before
            priority = Priority.URGENT if urgent else Priority.STANDARD
            excluded = [self._someone_else(set())] if rng.random() < EXCLUDED_RATE else []
            for c in children:
                c.priority = priority
                c.excluded = list(excluded)
            out.extend(children)
        return out


class _SetAside:
    """Families drawn but not yet placed, one queue per set of needs, oldest first."""

    def __init__(self) -> None:
        self.queues: dict[frozenset[str], list[_Unit]] = {}
        self.order: list[frozenset[str]] = []  # most specific needs first

    def add(self, unit: _Unit) -> None:
        queue = self.queues.get(unit.needs)
        if queue is None:
            queue = self.queues[unit.needs] = []
            self.order.append(unit.needs)
            self.order.sort(key=lambda needs: (-len(needs), sorted(needs)))
        queue.append(unit)

    def take(self, w: _Worker, can_hold: Callable[[_Worker, _Unit], bool]) -> _Unit | None:
        """The first family ``w`` may hold and has room for, removed; else ``None``."""
        for needs in self.order:
            if not needs <= w.skills:
                continue
            queue = self.queues[needs]
            for j, unit in enumerate(queue[:PENDING_SCAN]):
                if _fits(w, unit) and can_hold(w, unit):
                    return queue.pop(j)
        return None


def _fits(w: _Worker, unit: _Unit) -> bool:
    """Whether ``w`` takes ``unit`` as their next family while filling to target.

    A quarter of the family's weight may go past the target (with the retries of
    :data:`MAX_MISFITS`, targets are then met on average), but only a worker whose
    target is over their cap ends over it, and then by at most 5% of the target.
    """
    if w.load + unit.weight * 0.75 > w.target:
        return False
    ceiling = w.capacity if w.target <= w.capacity else w.target * 1.05
    return w.load + unit.weight <= ceiling


def _count(rate: float, n: int) -> int:
    """``rate`` of ``n``, at least one in a service of ten or more so every case shows."""
    k = round(rate * n)
    return max(1, k) if n >= 10 else k


def _ensure_a_lead_per_team(grades: list[Grade], team_of: list[int], n_teams: int) -> None:
    """Swap grades so every team has a senior or consultant where the mix allows."""
    leads = {Grade.SENIOR, Grade.CONSULTANT}
    members: list[list[int]] = [[] for _ in range(n_teams)]
    for i, t in enumerate(team_of):
        members[t].append(i)
    for t in range(n_teams):
        if any(grades[i] in leads for i in members[t]):
            continue
        donor = max(range(n_teams), key=lambda u: (sum(grades[i] in leads for i in members[u]), -u))
        donor_leads = [i for i in members[donor] if grades[i] in leads]
        if len(donor_leads) < 2:
            return
        a, b = donor_leads[0], members[t][0]
        grades[a], grades[b] = grades[b], grades[a]


def generate(
    practitioners: int,
    *,
    seed: int = 0,
    load: float = 0.9,
    referral_rate: float = 0.04,
    as_of: date = date(2026, 11, 23),
    policy: Policy | None = None,
    welsh_families: float = WELSH_FAMILIES,
    contracts: bool = False,
) -> Snapshot:
    """A realistic synthetic service: staff, open caseload and a day's referrals.

    Parameters
    ----------
    practitioners
        Number of practitioners (about eight to a team).
    seed
        Seed of the one random generator; the same arguments give the same snapshot.
    load
        Open caseload as a share of the service's total weighted capacity under
        ``policy`` (0.9 = 90% on average; each worker varies around it, from about
        ``load - 0.2`` to ``load + 0.15``).
    referral_rate
        Children referred, as a share of the open caseload's children.
    as_of
        The snapshot's date.
    policy
        Weights, caps and grade rules the caseload respects; the defaults if None.
    welsh_families
        Share of families needing a Welsh-speaking worker (default
        :data:`WELSH_FAMILIES`; 0.3 for a Welsh-speaking area's stretched service).
    contracts
        Give staff contracts (:func:`with_contracts`): agency, fixed-term and
        permanent. Off by default, so that a seed's service is what it always was.

    Returns
    -------
    Snapshot
        Practitioners ``P0001``..., cases ``C000001``... numbered by date opened,
        families ``F00001``..., former staff ``X0001``... in case histories. The day's
        referrals are the cases with ``worker`` null and ``opened == as_of``; older
        unallocated cases are the backlog; workers with ``leaving_on <= as_of`` have
        left but still hold cases in the export.

    Raises
    ------
    ValueError
        If ``practitioners`` < 1 or ``load`` / ``referral_rate`` is negative.

    Examples
    --------
    >>> snapshot = generate(25, seed=7)
    >>> len(snapshot.practitioners)
    25
    """
    if practitioners < 1:
        raise ValueError(f"practitioners must be at least 1, got {practitioners}")
    if load < 0 or referral_rate < 0:
        raise ValueError("load and referral_rate must be >= 0")
    if not 0 <= welsh_families <= 1:
        raise ValueError(f"welsh_families must be from 0 to 1, got {welsh_families}")
    policy = Policy() if policy is None else policy
    builder = _Builder(random.Random(seed), as_of, policy, welsh_families)
    builder.staff(practitioners)
    held = builder.fill(load)
    builder.conflicts_and_pins(held)
    n_referrals = round(referral_rate * len(held))
    backlog = builder.backlog(max(1, round(BACKLOG_SHARE * n_referrals)) if n_referrals else 0)
    referrals = builder.referrals(n_referrals, held)
    snapshot = _snapshot(builder, held + backlog + referrals)
    return with_contracts(snapshot, seed) if contracts else snapshot


#: Agency workers' share of the workforce: 17.8% of FTE in September 2023 (DfE,
#: *Children's social work workforce 2023*).
AGENCY_SHARE = 0.178
#: Fixed-term (non-agency) staff: an *assumption* (no national figure).
FIXED_TERM_SHARE = 0.05


def with_contracts(snapshot: Snapshot, seed: int) -> Snapshot:
    """``snapshot`` with each practitioner's ``contract`` and ``contract_end`` drawn.

    From a random stream of its own (``f"{seed}:contracts"``), so the rest of the
    service is exactly what :func:`generate` makes without contracts. Students on
    placement are fixed-term, their placement ending within 30-240 days; of the
    others, :data:`AGENCY_SHARE` are agency (half with an assignment end date 28-180
    days away) and :data:`FIXED_TERM_SHARE` fixed-term (ending within 60-365 days).
    """
    rng = random.Random(f"{seed}:contracts")
    staff: list[Practitioner] = []
    for p in snapshot.practitioners:
        r = rng.random()
        days = rng.randint(28, 365)
        end: date | None = snapshot.as_of + timedelta(days=days)
        if p.grade is Grade.STUDENT:
            contract, end = Contract.FIXED_TERM, snapshot.as_of + timedelta(days=30 + days % 211)
        elif r < AGENCY_SHARE:
            contract = Contract.AGENCY
            end = snapshot.as_of + timedelta(days=28 + days % 153) if days % 2 else None
        elif r < AGENCY_SHARE + FIXED_TERM_SHARE:
            contract, end = Contract.FIXED_TERM, snapshot.as_of + timedelta(days=max(60, days))
        else:
            contract, end = Contract.PERMANENT, None
        staff.append(p.model_copy(update={"contract": contract, "contract_end": end}))
    return snapshot.model_copy(update={"practitioners": tuple(staff)})


def _snapshot(builder: _Builder, children: list[_Child]) -> Snapshot:
    """Number cases by date opened (families by their first child) and validate."""
    children = sorted(children, key=lambda c: (c.opened, c.seq))
    cw = max(6, len(str(len(children))))
    fw = max(5, len(str(builder.families)))
    family_ids: dict[int, str] = {}
    cases: list[Case] = []
    workers = builder.workers
    for k, c in enumerate(children, start=1):
        if c.family not in family_ids:
            family_ids[c.family] = f"F{len(family_ids) + 1:0{fw}d}"
        worker = None if c.worker is None else workers[c.worker].id
        cases.append(
            Case(
                id=f"C{k:0{cw}d}",
                family=family_ids[c.family],
                type=c.type,
                complexity=c.complexity,
                worker=worker,
                previous_workers=tuple(c.previous),
                changes_last_12_months=c.changes,
                area=c.area,
                needs=tuple(c.needs),
                priority=c.priority,
                pinned_worker=worker if c.pinned else None,
                excluded_workers=tuple(c.excluded),
                opened=c.opened,
            )
        )
    return Snapshot(
        format=SNAPSHOT_FORMAT,
        as_of=builder.as_of,
        practitioners=tuple(w.model for w in workers if w.model is not None),
        cases=tuple(cases),
    )
