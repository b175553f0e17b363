"""What happens to a service in a year, drawn once from a seed, whatever the method.

:func:`draw_events` turns a snapshot and a seed into the whole year's event stream
before any method runs: referrals, closures, changes of complexity, notices, leavers,
joiners and absences, each on its day. Engine and greedy replay the same stream
(common random numbers), so a difference between them is the method's, not luck's.

Every random draw comes from a stream of its own, seeded by the run's seed and the
entity it concerns (``f"{seed}:case:{id}"``, ``f"{seed}:worker:{id}"``,
``f"{seed}:day:{d}"``): a case's closure day does not move when another case is
added, and the same seed gives the same events on any machine (``random.Random``
seeded with text is stable across runs and platforms).

Where the rates come from
-------------------------
Sources are in the project's ``DOMAIN.md``; *assumption* marks a plausible figure
with no public source we could cite.

- Leaving, permanent staff: 15.9% a year (DfE, *Children's social work workforce
  2023*: 5,254 FTE left of 33,119). Agency staff: 1.0 a year, i.e. a stay of about a
  year with one council (*assumption*: DOMAIN.md notes agency staff change employer
  far more often; Wirral filled 35% of posts with temporary workers in 2017).
  Fixed-term staff leave on ``contract_end`` where given, else at 0.5 a year
  (*assumption*).
- Notice: 28 days for permanent and fixed-term staff, 7 for agency (*assumption*:
  a month's contractual notice is usual; agency assignments end at a week's).
- Recruitment delay before a post is refilled on its contract: 56-182 days for
  permanent and fixed-term posts, 7-28 for agency (*assumption*; the DfE's 18.9%
  vacancy rate of 2023 includes posts never filled, which a replacement-only model
  does not represent).
- Sickness: 3.2% of working days (DfE workforce 2023), as episodes of 1-5 days
  (80%), 6-27 (13%) and 28-120 (7%) (*assumption* on the split).
- Maternity leave: 3% of staff start one in a year (*assumption*), 39 weeks (the
  weeks of statutory maternity pay, gov.uk), told to the employer 15 weeks before
  the birth (gov.uk), so known about 11 weeks (77 days) before it starts.
- Case durations by type: child-protection plans as they end in England (DfE,
  *Children in need 2025*, table D7: 3 months or less 15.9%, 3-6 months 11.0%, 6-12
  months 43.5%, 1-2 years 25.2%, 2 years or more 4.4%); care proceedings around the
  26-week limit (Children and Families Act 2014), triangular 120-365 days, mode 182;
  the other types exponential with means (*assumption*) chosen so that the open
  caseload's mix in steady state is close to the generator's (``CASE_MIX``):
  early help 150 days, child in need 355, looked after 880, care leaver 800,
  adoption 270. An open case's remaining time is drawn as a new case's (exact for the
  exponential types, an overstatement for the others).
- Referrals: a Poisson number of families each working day, with children enough
  that by Little's law (open = arrivals x mean duration) the open caseload stays at
  its starting size times ``arrival_factor``. Types, complexity, family sizes,
  urgency, Welsh and disability needs, siblings of open families (15%) and
  re-referrals to a worker in post (10%) as in :mod:`allocator.generate`.
- Complexity: a child's complexity moves up or down by one (within 1-4) 0.2 times a
  year (*assumption*); a move up may take the case above what its worker's grade may
  hold.
"""

from __future__ import annotations

import math
import random
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Final

from allocator import generate as gen
from allocator.contract.models import Case, CaseType, Contract, Practitioner, Priority, Snapshot
from allocator.domain.rules import is_gone, normalised

# ------------------------------------------------------------------------------ rates

#: Leaving rate per year by contract (see the module docstring).
LEAVING_RATE: Final[dict[Contract, float]] = {
    Contract.PERMANENT: 0.159,
    Contract.AGENCY: 1.0,
    Contract.FIXED_TERM: 0.5,
}
#: Days between notice and the last day, by contract.
NOTICE_DAYS: Final[dict[Contract, int]] = {
    Contract.PERMANENT: 28,
    Contract.AGENCY: 7,
    Contract.FIXED_TERM: 28,
}
#: Days from a leaver's last day to the replacement's first, by contract (uniform).
RECRUITMENT_DAYS: Final[dict[Contract, tuple[int, int]]] = {
    Contract.PERMANENT: (56, 182),
    Contract.AGENCY: (7, 28),
    Contract.FIXED_TERM: (56, 182),
}
#: Share of working days lost to sickness (DfE workforce 2023).
SICKNESS_SHARE: Final = 0.032
#: Sickness episodes: (shortest, longest) days and share of episodes.
SICKNESS_EPISODES: Final = (((1, 5), 0.80), ((6, 27), 0.13), ((28, 120), 0.07))
#: Maternity leaves starting per worker per year, their length and how far ahead known.
MATERNITY_RATE: Final = 0.03
MATERNITY_DAYS: Final = 39 * 7
MATERNITY_KNOWN_DAYS: Final = 77
#: Complexity moves per child per year.
COMPLEXITY_RATE: Final = 0.2
#: Mean days a case stays open, for the types drawn as exponential.
MEAN_DAYS: Final[dict[CaseType, float]] = {
    CaseType.EARLY_HELP: 150.0,
    CaseType.CHILD_IN_NEED: 355.0,
    CaseType.LOOKED_AFTER: 880.0,
    CaseType.CARE_LEAVER: 800.0,
    CaseType.ADOPTION: 270.0,
}
#: Child-protection plans by length on ending (DfE Children in need 2025, D7): days.
CP_LENGTHS: Final = (
    ((1, 91), 0.159),
    ((92, 182), 0.110),
    ((183, 365), 0.435),
    ((366, 730), 0.252),
    ((731, 1095), 0.044),
)
#: Care proceedings: triangular (low, high, mode) days around the 26-week limit.
COURT_DAYS: Final = (120, 365, 182)

WORKING_DAYS: Final = frozenset(range(5))  # Monday to Friday
_YEAR: Final = 365.0


def mean_duration(case_type: CaseType) -> float:
    """Mean days a case of ``case_type`` stays open under the rates above."""
    if case_type is CaseType.CHILD_PROTECTION:
        total = sum(w for _, w in CP_LENGTHS)
        return sum((lo + hi) / 2 * w for (lo, hi), w in CP_LENGTHS) / total
    if case_type is CaseType.COURT:
        return sum(COURT_DAYS) / 3
    return MEAN_DAYS[case_type]


def draw_duration(rng: random.Random, case_type: CaseType) -> int:
    """Days until a case of ``case_type`` closes, at least 1."""
    if case_type is CaseType.CHILD_PROTECTION:
        (lo, hi) = rng.choices([b for b, _ in CP_LENGTHS], [w for _, w in CP_LENGTHS])[0]
        return rng.randint(lo, hi)
    if case_type is CaseType.COURT:
        low, high, mode = COURT_DAYS
        return max(1, round(rng.triangular(low, high, mode)))
    return max(1, math.ceil(rng.expovariate(1.0 / MEAN_DAYS[case_type])))


def referral_children_per_day(open_children: int, arrival_factor: float = 1.0) -> float:
    """Children referred per calendar day keeping ``open_children`` steady (Little's law)."""
    mix = gen.REFERRAL_MIX
    total = mix.cum[-1]
    mean = sum(w / total * mean_duration(t) for t, w in zip(mix.values, mix.weights, strict=True))
    return open_children * arrival_factor / mean


def _poisson(rng: random.Random, mean: float) -> int:
    """A Poisson draw (Knuth's method; the means here are small)."""
    if mean <= 0:
        return 0
    if mean > 30:  # normal approximation keeps the loop short
        return max(0, round(rng.gauss(mean, math.sqrt(mean))))
    limit, k, p = math.exp(-mean), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


def _stream(seed: int, *parts: object) -> random.Random:
    return random.Random(":".join(str(p) for p in (seed, *parts)))


# ----------------------------------------------------------------------------- events


@dataclass(frozen=True)
class Absence:
    """A worker away from ``start`` until ``back`` (``available_from``), known on ``known``."""

    worker: str
    start: date
    back: date
    known: date
    kind: str  # "sickness" or "maternity"


@dataclass(frozen=True)
class Notice:
    """A worker says on ``on`` that ``last_day`` is their last (``leaving_on``)."""

    worker: str
    on: date
    last_day: date


@dataclass
class Day:
    """Everything that happens on one day, applied before the morning's allocation."""

    referrals: list[Case] = field(default_factory=list)
    closures: list[str] = field(default_factory=list)
    complexity: list[tuple[str, int]] = field(default_factory=list)
    notices: list[Notice] = field(default_factory=list)
    absences: list[Absence] = field(default_factory=list)
    joiners: list[Practitioner] = field(default_factory=list)


@dataclass
class EventStream:
    """The year's events by day index (0 is the snapshot's ``as_of``) and what drew them.

    Attributes
    ----------
    start
        The snapshot's ``as_of``.
    days
        One :class:`Day` per day, ``days[0]`` empty (the snapshot is day 0).
    referral_rate
        Children referred per calendar day (Little's law, see the module docstring).
    leaving_days
        Per worker (start staff and joiners), the last day drawn, where in the run.
    """

    start: date
    days: list[Day]
    referral_rate: float
    leaving_days: dict[str, date] = field(default_factory=dict)

    def date(self, d: int) -> date:
        """The calendar date of day index ``d``."""
        return self.start + timedelta(days=d)

    def counts(self) -> dict[str, int]:
        """Events of each kind over the run (for reports and the rate tests)."""
        out: dict[str, int] = defaultdict(int)
        for day in self.days:
            out["referred_children"] += len(day.referrals)
            out["closures"] += len(day.closures)
            out["complexity_changes"] += len(day.complexity)
            out["notices"] += len(day.notices)
            out["absences"] += len(day.absences)
            out["joiners"] += len(day.joiners)
        return dict(out)


def _is_working(d: date) -> bool:
    return d.weekday() in WORKING_DAYS


class _Drawer:
    """Builds an :class:`EventStream`; one instance per :func:`draw_events` call."""

    def __init__(
        self,
        snapshot: Snapshot,
        seed: int,
        days: int,
        arrival_factor: float,
        leaving_rates: Mapping[Contract, float] | None = None,
    ) -> None:
        self.seed = seed
        self.leaving_rate = {**LEAVING_RATE, **(leaving_rates or {})}
        self.start = snapshot.as_of
        self.n = days
        self.days = [Day() for _ in range(days + 1)]
        self.leaving: dict[str, date] = {}
        self.present: dict[str, Practitioner] = {}  # staff on the books, by id, for re-referrals
        self.joined = 0
        self.open_families: dict[str, int] = defaultdict(int)  # family -> open children
        self.family_case: dict[str, Case] = {}  # family -> one open child (its area, needs)
        self.skills = {normalised(s) for p in snapshot.practitioners for s in p.skills}
        self.areas = [p.areas for p in snapshot.practitioners if p.areas]
        open_children = sum(1 for c in snapshot.cases if c.worker is not None)
        self.rate = referral_children_per_day(open_children, arrival_factor)
        sizes = gen.FAMILY_SIZE
        self.mean_family = (
            sum(v * w for v, w in zip(sizes.values, sizes.weights, strict=True)) / (sizes.cum[-1])
        )

    def index(self, d: date) -> int:
        return (d - self.start).days

    def at(self, d: date) -> Day | None:
        k = self.index(d)
        return self.days[k] if 1 <= k <= self.n else None

    # ---------------------------------------------------------------------- cases

    def case_life(self, case: Case, opened_index: int) -> None:
        """Closure day and complexity moves of one child, from the child's own stream."""
        rng = _stream(self.seed, "case", case.id)
        close = opened_index + draw_duration(rng, case.type)
        complexity = case.complexity
        t = float(opened_index)
        while True:
            t += rng.expovariate(COMPLEXITY_RATE / _YEAR)
            k = math.ceil(t)
            if k >= close or k > self.n:
                break
            step = rng.choice((-1, 1))
            new = min(4, max(1, complexity + step))
            if new != complexity:
                complexity = new
                self.days[k].complexity.append((case.id, new))
        self.open_families[case.family] += 1
        self.family_case.setdefault(case.family, case)
        if close <= self.n:
            self.days[close].closures.append(case.id)
            self._closing[close].append(case)

    # -------------------------------------------------------------------- workers

    def worker_life(self, p: Practitioner, from_index: int) -> None:
        """Leaving, notice, absences and the replacement of one worker."""
        rng = _stream(self.seed, "worker", p.id)
        self.present[p.id] = p
        contract = p.contract
        if p.leaving_on is not None:
            last = p.leaving_on
            notice_on = self.start  # already known in the snapshot
        else:
            years = rng.expovariate(self.leaving_rate[contract])
            last = self.start + timedelta(days=from_index + max(1, math.ceil(years * _YEAR)))
            if p.contract_end is not None and contract is not Contract.PERMANENT:
                last = min(last, max(p.contract_end, self.start + timedelta(days=from_index + 1)))
            notice_on = max(
                self.start + timedelta(days=from_index + 1),
                last - timedelta(days=NOTICE_DAYS[contract]),
            )
            if self.index(last) <= self.n and (day := self.at(notice_on)) is not None:
                day.notices.append(Notice(p.id, notice_on, last))
        self.leaving[p.id] = last
        self._absences(rng, p, from_index, last)
        if self.index(last) <= self.n:
            self._leavers[max(self.index(last), 0)].append(p)
            lo, hi = RECRUITMENT_DAYS[contract]
            first = max(self.index(last), 0) + rng.randint(lo, hi)
            if first <= self.n:
                self._replacements.append((first, p))

    def _absences(self, rng: random.Random, p: Practitioner, from_index: int, last: date) -> None:
        k = from_index
        if p.available_from is not None:
            k = max(k, self.index(p.available_from))
        end = min(self.n, self.index(last) - 1)
        mean_episode = sum((lo + hi) / 2 * w for (lo, hi), w in SICKNESS_EPISODES)
        # An absence can start only on a day at work: starts per day at work are the
        # rates over the share of days at work, so the shares come out as cited.
        at_work = 1.0 - SICKNESS_SHARE - MATERNITY_RATE * MATERNITY_DAYS / _YEAR
        per_day = (SICKNESS_SHARE / mean_episode + MATERNITY_RATE / _YEAR) / at_work
        maternity_share = (MATERNITY_RATE / _YEAR) / at_work / per_day
        while True:
            k += max(1, math.ceil(rng.expovariate(per_day)))
            if k > end:
                return
            start = self.start + timedelta(days=k)
            if rng.random() < maternity_share:
                length, kind = MATERNITY_DAYS, "maternity"
                known = max(self.start, start - timedelta(days=MATERNITY_KNOWN_DAYS))
            else:
                (lo, hi) = rng.choices(
                    [b for b, _ in SICKNESS_EPISODES], [w for _, w in SICKNESS_EPISODES]
                )[0]
                length, kind, known = rng.randint(lo, hi), "sickness", start
            self.days[k].absences.append(
                Absence(p.id, start, start + timedelta(days=length), known, kind)
            )
            k += length

    def joiner(self, first: int, post: Practitioner) -> Practitioner:
        """The replacement for ``post``: same team, grade, hours, skills and contract."""
        self.joined += 1
        rng = _stream(self.seed, "joiner", self.joined)
        lo, hi = gen.EXPERIENCE[post.grade]
        on = self.start + timedelta(days=first)
        contract_end = None
        if post.contract is not Contract.PERMANENT and post.contract_end is not None:
            contract_end = on + timedelta(days=rng.randint(90, 365))
        return Practitioner(
            id=f"J{self.joined:04d}",
            team=post.team,
            grade=post.grade,
            experience_years=round(rng.uniform(lo, hi), 1),
            fte=post.fte,
            skills=post.skills,
            areas=post.areas,
            contract=post.contract,
            contract_end=contract_end,
        )

    # ------------------------------------------------------------------ referrals

    def referrals(self, k: int) -> list[Case]:
        """The day's referred children, from the day's own stream."""
        d = self.start + timedelta(days=k)
        if not _is_working(d):
            return []
        rng = _stream(self.seed, "day", k)
        families = _poisson(rng, self.rate * 7 / 5 / self.mean_family)
        out: list[Case] = []
        present = [p for p in self.present.values() if not is_gone(p, d)]
        open_families = sorted(f for f, n in self.open_families.items() if n > 0)
        for j in range(families):
            r = rng.random()
            kids: list[tuple[CaseType, int]] = []
            family = f"G{k:04d}{j:03d}"
            previous: tuple[str, ...] = ()
            area: str | None = rng.choice(self.areas)[0] if self.areas else None
            welsh = "welsh" in self.skills and rng.random() < gen.WELSH_FAMILIES
            if r < gen.SIBLING_REFERRAL and open_families:
                family = rng.choice(open_families)
                sibling = self.family_case[family]
                area, welsh = sibling.area, "welsh" in sibling.needs
                t = gen.REFERRAL_MIX.draw(rng)
                kids.append((t, gen.COMPLEXITY[t].draw(rng)))
            else:
                size = gen.FAMILY_SIZE.draw(rng)
                mix = gen.REFERRAL_TYPES
                if size == 1 and rng.random() < mix.alone:
                    first = CaseType.CARE_LEAVER
                else:
                    first = mix.groups.draw(rng)
                for n in range(size):
                    if n == 0 or rng.random() < gen.SIBLING_SAME_TYPE:
                        t = first
                    else:
                        t = mix.groups.draw(rng)
                    kids.append((t, gen.COMPLEXITY[t].draw(rng)))
                if r < gen.SIBLING_REFERRAL + gen.RE_REFERRAL and present:
                    known = rng.choice(present)
                    previous = (known.id,)
                    area = known.areas[0] if known.areas else area
            urgent = rng.random() < gen.URGENT[kids[0][0]]
            for n, (t, complexity) in enumerate(kids):
                needs: list[str] = ["welsh"] if welsh else []
                if t in (CaseType.COURT, CaseType.ADOPTION) and t.value in self.skills:
                    needs.append(t.value)
                if "disability" in self.skills and rng.random() < gen.DISABILITY_NEED:
                    needs.append("disability")
                out.append(
                    Case(
                        id=f"R{k:04d}{j:03d}{n}",
                        family=family,
                        type=t,
                        complexity=complexity,
                        previous_workers=previous,
                        area=area,
                        needs=tuple(sorted(needs)),
                        priority=Priority.URGENT if urgent else Priority.STANDARD,
                        opened=d,
                    )
                )
        return out

    # ------------------------------------------------------------------------ all

    def draw(self, snapshot: Snapshot) -> EventStream:
        self._closing: dict[int, list[Case]] = defaultdict(list)
        self._leavers: dict[int, list[Practitioner]] = defaultdict(list)
        self._replacements: list[tuple[int, Practitioner]] = []
        for p in snapshot.practitioners:
            self.worker_life(p, 0)
        for c in snapshot.cases:
            self.case_life(c, 0)
        for k in range(1, self.n + 1):
            for c in self._closing.pop(k, []):
                self.open_families[c.family] -= 1
            for p in self._leavers.pop(k, []):
                self.present.pop(p.id, None)
            due = sorted((x for x in self._replacements if x[0] == k), key=lambda x: x[1].id)
            self._replacements = [x for x in self._replacements if x[0] != k]
            for _, post in due:
                joiner = self.joiner(k, post)
                self.days[k].joiners.append(joiner)
                self.worker_life(joiner, k)
            for case in self.referrals(k):
                self.days[k].referrals.append(case)
                self.case_life(case, k)
        return EventStream(self.start, self.days, self.rate, dict(self.leaving))


def draw_events(
    snapshot: Snapshot,
    *,
    seed: int,
    days: int = 365,
    arrival_factor: float = 1.0,
    leaving_rates: Mapping[Contract, float] | None = None,
) -> EventStream:
    """The year's events for ``snapshot``, from ``seed`` alone (see the module docstring).

    Parameters
    ----------
    snapshot
        The service on day 0; its staff's ``contract`` and ``contract_end``, and any
        ``leaving_on`` and ``available_from`` already known, are respected.
    seed
        The run's seed; every stream is derived from it and an entity's id.
    days
        Days after ``as_of`` to draw (day 0 is the snapshot itself).
    arrival_factor
        Referrals as a multiple of the rate that keeps the caseload steady.
    leaving_rates
        Leaving rates per year by contract in place of :data:`LEAVING_RATE`'s (a
        council's own, :mod:`allocator.simulation.calibrate`); others as cited.

    Returns
    -------
    EventStream
        The same for the same arguments, byte for byte.
    """
    if days < 1:
        raise ValueError(f"days must be at least 1, got {days}")
    if arrival_factor < 0:
        raise ValueError(f"arrival_factor must be 0 or more, got {arrival_factor}")
    return _Drawer(snapshot, seed, days, arrival_factor, leaving_rates).draw(snapshot)


__all__ = ["Absence", "Day", "EventStream", "Notice", "draw_events", "mean_duration"]
