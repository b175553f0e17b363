"""The staffing question: the least extra FTE, by grade, that meets a waiting target.

A **target** is clauses joined by ``;`` (an empty clause, as from a ``;`` at the end,
is refused: a clause may have been lost), each ``WHO [STAT] wait <= N days``:

- ``WHO``: ``urgent`` (children referred urgent), ``statutory`` (types named by a
  priority class), or ``all``;
- ``STAT``: ``max`` (the default), ``mean``, or a percentile ``p1`` ... ``p99``;
- ``<=`` or ``<``, a number written with the digits 0-9, and ``day`` / ``days`` (or
  ``week`` / ``weeks``). A target no run could meet (``wait < 0 days``: no wait is
  shorter than none) is refused with why.

E.g. ``"urgent wait <= 1 day; statutory p90 wait <= 10 days"``. A clause is judged in
each run on the waits begun in the forecast (:attr:`RunFigures.waits`: a wait still
open at the end counts its days so far; children already waiting today are not
among them, since no one added today can shorten the days already waited); a run
with no such wait meets it. A run meets the target if it meets every clause.

:func:`capacity` adds whole extra workers of one grade and contract (1.0 FTE each,
permanent by default, no specialist skills, any patch) to today's snapshot and
forecasts again with the same seeds (common random numbers: the same futures, more
staff), doubling ``0, 1, 2, 4, ...`` until the target is met in at least
``confidence`` of the runs, then halving the gap: the least such number, assuming
more staff never makes waits longer. **How sure**: the share of runs meeting the
target at that number, with a 90% Wilson interval for the share over the futures it
stands for.

**Which part fails, and why**: each point of the search also gives, per clause, the
share of runs meeting it and, in the runs that missed it, the waits longer than it
allows and how many of them are of children no added worker may hold, by the rules of
who may hold what (a skill the child needs, such as Welsh or court work, that a
generic added worker lacks; a grade's complexity ceiling or excluded types; a pin):
:class:`Part`. A clause no number tried meets is named with that likely reason
(:func:`answer_lines`). The forecast's FTE short by grade is a lower bound that counts
no skill (docs/FORECAST.md): where most of the waits that miss are of children the
added workers may not hold, this search finds no number at all.

**What it costs**: where the policy gives the council's cost of one FTE a year of
that grade and contract (``[costs.<grade>] <contract> = N``), the answer is priced:
that cost times the FTE, a year and over the forecast's weeks. There is no default:
the project's sources (DOMAIN.md) hold no published pay or agency figure, so an
answer without the policy's cost says so instead of guessing one.
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from allocator.contract.models import Case, Contract, Grade, Handover, Practitioner, Snapshot
from allocator.contract.policy import Policy
from allocator.domain.rules import SKILLS, counted, holding_rules, label_text, missing_needs
from allocator.simulation.forecast import (
    BegunWait,
    Calibration,
    ForecastError,
    ForecastSettings,
    RunFigures,
    WaitGroup,
    forecast,
    quantile,
)

#: Most extra FTE the search tries by default.
MAX_EXTRA = 20
#: How the clauses' grammar is shown in a message.
TARGET_FORM = (
    'expected clauses like "urgent wait <= 1 day; statutory p90 wait <= 10 days": '
    "who (urgent, statutory, all), an optional statistic (max, mean, p1 to p99), "
    '"wait", <= or <, and a number written with the digits 0-9, in days (the default) '
    "or weeks"
)
# ASCII only (re.ASCII, [0-9]): "\d" alone would read other scripts' digits ("١").
_CLAUSE = re.compile(
    r"^(?P<who>[a-z]+)\s+(?:(?P<stat>max|mean|p[0-9]+)\s+)?wait\s*(?P<op><=|=<|<)\s*"
    r"(?P<n>[-+]?[0-9]+(?:\.[0-9]+)?)\s*(?P<unit>[a-z]+)?$",
    re.ASCII,
)

WHO: dict[str, WaitGroup] = {"urgent": "urgent", "statutory": "statutory", "all": "all"}


class TargetError(ForecastError):
    """A target the tool cannot read, in one sentence naming the clause."""


@dataclass(frozen=True)
class Clause:
    """One clause of a target: ``stat`` of ``who``'s waits ``<=`` (or ``<``) ``days``.

    ``stat`` is ``"max"``, ``"mean"`` or a percentile as a share (``0.9`` for p90).
    """

    who: WaitGroup
    stat: str | float
    days: float
    strict: bool
    text: str

    def within(self, days: float) -> bool:
        """Whether ``days`` (a statistic, or one wait's length) is within the clause's
        limit: ``<= N`` or ``< N`` days."""
        return days < self.days if self.strict else days <= self.days + 1e-9

    def misses(self, wait: BegunWait) -> bool:
        """Whether ``wait`` is of the clause's children (``who``) and longer than it
        allows. Only such waits make a run miss the clause: the max, mean or any
        percentile of waits all within the limit is within it too."""
        return wait.among(self.who) and not self.within(wait.days)

    def value(self, run: RunFigures) -> float | None:
        """The clause's statistic in ``run`` (days), ``None`` if no such wait began."""
        lengths = run.waits.get(self.who, [])
        if not lengths:
            return None
        if self.stat == "max":
            return float(lengths[-1])
        if self.stat == "mean":
            return sum(lengths) / len(lengths)
        assert isinstance(self.stat, float)
        return quantile(lengths, self.stat)

    def met(self, run: RunFigures) -> bool:
        """Whether ``run`` meets the clause (a run with no such wait does)."""
        v = self.value(run)
        return v is None or self.within(v)


def parse_target(text: str) -> tuple[Clause, ...]:
    """The clauses of a target (see the module docstring).

    Raises
    ------
    TargetError
        Naming the clause that cannot be read and what was expected.
    """
    clauses: list[Clause] = []
    parts = [p.strip() for p in text.split(";")]
    if not any(parts):
        raise TargetError(f"the target is empty; {TARGET_FORM}")
    for n, part in enumerate(parts, start=1):
        if not part:
            raise TargetError(
                f"clause {n} of {len(parts)} is empty (a ';' with nothing after it, or two "
                f"together); {TARGET_FORM}"
            )
        odd = sorted({ch for ch in part if not ch.isascii()})
        if odd:
            shown = ", ".join(f"{ch!r} (U+{ord(ch):04X})" for ch in odd)
            verb = "is" if len(odd) == 1 else "are"
            raise TargetError(
                f"cannot read {part!r}: {shown} {verb} not plain ASCII; write the digits 0-9 "
                f"and <= or < as on a keyboard; {TARGET_FORM}"
            )
        m = _CLAUSE.match(" ".join(part.lower().split()))
        if m is None:
            raise TargetError(f"cannot read {part!r}; {TARGET_FORM}")
        who = WHO.get(m["who"])
        if who is None:
            raise TargetError(
                f"cannot read {part!r}: {m['who']!r} is not urgent, statutory or all; {TARGET_FORM}"
            )
        stat: str | float = m["stat"] or "max"
        if isinstance(stat, str) and stat.startswith("p"):
            k = int(stat[1:])
            if not 1 <= k <= 99:
                raise TargetError(
                    f"cannot read {part!r}: percentile {stat} is not p1 to p99; {TARGET_FORM}"
                )
            stat = k / 100
        unit = m["unit"] or "days"
        if unit not in ("day", "days", "week", "weeks"):
            raise TargetError(f"cannot read {part!r}: {unit!r} is not days or weeks; {TARGET_FORM}")
        if m["n"].startswith("-"):
            raise TargetError(
                f"cannot read {part!r}: a wait cannot be {m['n']} {unit} (0 or more); {TARGET_FORM}"
            )
        days = float(m["n"]) * (7 if unit.startswith("week") else 1)
        strict = m["op"] == "<"
        if strict and days == 0:
            raise TargetError(
                f"cannot meet {part!r}: no wait is shorter than 0 days, so no staffing meets "
                "it; expected a number above 0 after <, or <= 0 days for a child allocated "
                "the day they are referred"
            )
        clauses.append(Clause(who, stat, days, strict, part))
    return tuple(clauses)


def meets(clauses: Sequence[Clause], run: RunFigures) -> bool:
    """Whether ``run`` meets every clause."""
    return all(c.met(run) for c in clauses)


def added_worker(grade: Grade, contract: Contract = Contract.PERMANENT, k: int = 1) -> Practitioner:
    """The ``k``-th worker the search adds: ``grade`` on ``contract``, 1.0 FTE, no
    specialist skills, any patch, no contract end, team ``extra``; id
    ``EXTRA-<grade>-<k>`` (permanent) or ``EXTRA-<grade>-<contract>-<k>``."""
    tag = grade.value if contract is Contract.PERMANENT else f"{grade.value}-{contract.value}"
    return Practitioner(
        id=f"EXTRA-{tag}-{k}", team="extra", grade=grade, fte=1.0, contract=contract
    )


def with_extra(
    snapshot: Snapshot, grade: Grade, extra: int, contract: Contract = Contract.PERMANENT
) -> Snapshot:
    """``snapshot`` with ``extra`` more workers of ``grade`` on ``contract``
    (:func:`added_worker`)."""
    if extra <= 0:
        return snapshot
    added = tuple(added_worker(grade, contract, k) for k in range(1, extra + 1))
    return snapshot.model_copy(update={"practitioners": (*snapshot.practitioners, *added)})


def why_not_added(case: Case, added: Practitioner, policy: Policy) -> list[str]:
    """Why a worker the search adds (``added``, :func:`added_worker`) may not hold
    ``case``: ``needs <skill>`` for each skill the child needs that they lack, then the
    sentence of each other rule of who may hold what that stops them (the grade's
    complexity ceiling or excluded types, a pin to another worker). Empty if they
    may. The rules' one definition: :func:`allocator.domain.rules.holding_rules`."""
    reasons = [f"needs {label_text(need)}" for need in missing_needs(case, added)]
    reasons += [why for rule, why in holding_rules(case, added, policy) if rule != SKILLS.id]
    return reasons


@dataclass(frozen=True)
class Part:
    """How one clause of the target fared at one point of the search.

    Attributes
    ----------
    share
        Share of runs (0-1) meeting the clause.
    waits_over
        In the runs that missed it, the waits longer than it allows
        (:meth:`Clause.misses`).
    barred
        Of those, the waits of children no added worker may hold
        (:func:`why_not_added`).
    why
        Each reason an added worker may not hold them, with its number of waits,
        most first (a child needing court work and Welsh counts under both).
    """

    share: float
    waits_over: int = 0
    barred: int = 0
    why: tuple[tuple[str, int], ...] = ()


def part_of(
    clause: Clause, runs: Sequence[RunFigures], added: Practitioner, policy: Policy
) -> Part:
    """How ``clause`` fared over ``runs`` (:class:`Part`), judged for workers like
    ``added``. A waiting child the runs do not know is counted as holdable."""
    missed = [r for r in runs if not clause.met(r)]
    over = [w for r in missed for w in r.begun if clause.misses(w)]
    reasons: Counter[str] = Counter()
    barred = 0
    for wait in over:
        why = why_not_added(wait.child, added, policy) if wait.child is not None else []
        barred += bool(why)
        reasons.update(why)
    share = (len(runs) - len(missed)) / len(runs) if runs else 1.0
    ranked = tuple(sorted(reasons.items(), key=lambda kv: (-kv[1], kv[0])))
    return Part(round(share, 4), len(over), barred, ranked)


@dataclass(frozen=True)
class Step:
    """One point of the search: ``extra`` workers added, the share of runs meeting
    the target (0-1), and how each clause fared (:class:`Part`, in the target's
    order)."""

    extra: int
    share: float
    parts: tuple[Part, ...] = ()


@dataclass(frozen=True)
class Answer:
    """The least extra FTE of one grade and contract meeting the target.

    Attributes
    ----------
    grade
        The grade added.
    contract
        Their contract.
    cost_per_fte
        The policy's cost of one FTE a year of that grade and contract
        (:attr:`allocator.contract.policy.Policy.costs`); ``None`` when the policy gives none.
    weeks
        The forecast's weeks (for the cost over them).
    extra
        The least number of 1.0 FTE workers found; ``None`` if even ``max_extra``
        did not meet the target.
    share
        Share of runs meeting the target with ``extra`` (or with ``max_extra``).
    low, high
        A 90% Wilson interval of that share.
    steps
        Every point tried, in the order tried.
    clauses
        The target's clauses in words, in its order (the parts of each step).
    """

    grade: Grade
    extra: int | None
    share: float
    low: float
    high: float
    steps: tuple[Step, ...]
    contract: Contract = Contract.PERMANENT
    cost_per_fte: float | None = None
    weeks: int = 8
    clauses: tuple[str, ...] = ()

    @property
    def cost_a_year(self) -> float | None:
        """``extra`` FTE at :attr:`cost_per_fte` (``None`` without a cost or an answer)."""
        if self.cost_per_fte is None or self.extra is None:
            return None
        return self.extra * self.cost_per_fte

    @property
    def cost_over_weeks(self) -> float | None:
        """:attr:`cost_a_year` over the forecast's weeks (a year is 52 weeks)."""
        year = self.cost_a_year
        return None if year is None else year * self.weeks / 52


def wilson(hits: int, n: int, z: float = 1.645) -> tuple[float, float]:
    """A Wilson score interval (90% for the default ``z``) for ``hits`` of ``n``."""
    if n == 0:
        return 0.0, 1.0
    p = hits / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return round(max(0.0, centre - half), 3), round(min(1.0, centre + half), 3)


def capacity(
    snapshot: Snapshot,
    clauses: Sequence[Clause],
    grade: Grade,
    *,
    policy: Policy | None = None,
    settings: ForecastSettings | None = None,
    confidence: float = 0.8,
    max_extra: int = MAX_EXTRA,
    calibration: Calibration | None = None,
    workers: int = 1,
    on_step: Callable[[Step], None] | None = None,
    contract: Contract = Contract.PERMANENT,
    handovers: Sequence[Handover] = (),
) -> Answer:
    """The least extra workers of ``grade`` meeting ``clauses`` in ``confidence`` of runs.

    Parameters
    ----------
    snapshot, policy, settings, calibration, handovers, workers
        As :func:`allocator.simulation.forecast.forecast` (the same seeds each step).
    clauses
        From :func:`parse_target`.
    grade
        The grade of the workers added.
    confidence
        Share of runs (0-1) that must meet the target.
    max_extra
        Most workers tried.
    on_step
        Called with each point as it is known (progress).
    contract
        The contract of the workers added (an agency worker leaves at the agency
        rate and is replaced sooner: docs/SIMULATION.md).

    Returns
    -------
    Answer
        The number, how sure, the points tried, and the policy's cost if it gives one.
    """
    if not 0 < confidence <= 1:
        raise ForecastError(f"confidence must be above 0 and at most 1, got {confidence}")
    if max_extra < 0:
        raise ForecastError(f"max_extra must be 0 or more, got {max_extra}")
    policy = policy or Policy()
    settings = settings or ForecastSettings()
    settings.check()
    tried: dict[int, float] = {}
    steps: list[Step] = []

    added = added_worker(grade, contract)

    def share(extra: int) -> float:
        if extra not in tried:
            fc = forecast(
                with_extra(snapshot, grade, extra, contract),
                policy,
                settings,
                calibration=calibration,
                handovers=handovers,
                workers=workers,
            )
            tried[extra] = sum(meets(clauses, r) for r in fc.runs) / len(fc.runs)
            parts = tuple(part_of(c, fc.runs, added, policy) for c in clauses)
            steps.append(Step(extra, round(tried[extra], 4), parts))
            if on_step is not None:
                on_step(steps[-1])
        return tried[extra]

    def ok(extra: int) -> bool:
        return share(extra) >= confidence - 1e-9

    found: int | None = None
    if ok(0):
        found = 0
    else:
        low, high = 0, 1
        while high < max_extra and not ok(high):
            low, high = high, min(2 * high, max_extra)
        if high <= max_extra and ok(high):
            while high - low > 1:
                mid = (low + high) // 2
                if ok(mid):
                    high = mid
                else:
                    low = mid
            found = high
    at = found if found is not None else max_extra
    s = share(at)
    lo, hi = wilson(round(s * settings.runs), settings.runs)
    cost = policy.costs.get(grade, {}).get(contract)
    return Answer(
        grade,
        found,
        round(s, 4),
        lo,
        hi,
        tuple(steps),
        contract,
        cost,
        settings.weeks,
        tuple(c.text for c in clauses),
    )


def step_line(who: str, step: Step, clauses: Sequence[Clause]) -> str:
    """One point of the search as it becomes known, for the terminal:
    ``social_worker +4: target met in 40% of runs``; with more than one clause, each
    clause's share after it."""
    line = f"{who} +{step.extra}: target met in {step.share:.0%} of runs"
    if len(clauses) > 1 and len(step.parts) == len(clauses):
        line += (
            " ("
            + "; ".join(
                f"{c.text}: {p.share:.0%}" for c, p in zip(clauses, step.parts, strict=True)
            )
            + ")"
        )
    return line


def answer_lines(
    answers: Sequence[Answer], clauses: Sequence[Clause], confidence: float
) -> list[str]:
    """The answers in sentences, for the terminal: per grade and contract, the least
    extra FTE meeting the target, or that none tried did; with more than one clause,
    each clause's share at each point tried; and for a clause no point tried met, the
    likely reason (:func:`never_met_lines`)."""
    target = "; ".join(c.text for c in clauses)
    lines = [f"Target: {target} (in at least {confidence:.0%} of runs)."]
    for a in answers:
        tried = ", ".join(f"+{s.extra}: {s.share:.0%}" for s in a.steps)
        who = _who(a)
        if a.extra is None:
            most = a.steps[-1].extra if a.steps else 0
            reach = f"even with {most} extra FTE" if most else "with today's staff"
            lines.append(
                f"{who}: not met {reach} ({a.share:.0%} of runs; 90% interval "
                f"{a.low:.0%}-{a.high:.0%}). Tried {tried}."
            )
        elif a.extra == 0:
            lines.append(
                f"{who}: met with today's staff in {a.share:.0%} of runs "
                f"(90% interval {a.low:.0%}-{a.high:.0%})."
            )
        else:
            lines.append(
                f"{who}: {a.extra} extra FTE meets it in {a.share:.0%} of runs "
                f"(90% interval {a.low:.0%}-{a.high:.0%}){_priced(a)}. Tried {tried}."
            )
        if len(clauses) > 1:
            for k, c in enumerate(clauses):
                shares = ", ".join(
                    f"+{s.extra}: {s.parts[k].share:.0%}" for s in a.steps if s.parts
                )
                lines.append(f"  {c.text}: met in {shares} of runs.")
        lines += [f"  {line}" for line in never_met_lines(a, clauses, confidence)]
    priced = [a for a in answers if a.cost_a_year is not None and a.extra]
    if len(priced) > 1:
        best = min(priced, key=lambda a: (a.cost_a_year or 0.0, a.grade.value, a.contract.value))
        lines.append(f"Cheapest that meets it: {_costed(best)}.")
    unpriced = sorted({_who(a) for a in answers if a.cost_per_fte is None and a.extra})
    if unpriced:
        lines.append(
            f"No cost for {', '.join(unpriced)}: the policy gives none ([costs.<grade>] "
            "<contract> = cost of one FTE a year) and the tool assumes no figure."
        )
    lines.append(
        "Extra workers are 1.0 FTE with no specialist skills, starting today: a child "
        "who needs a Welsh speaker or court skills still waits for one. So this answer "
        "can be far above the forecast's FTE short, a lower bound that counts only the "
        "room at the least grade that may hold each child, skills aside "
        '(docs/FORECAST.md, "FTE short by grade").'
    )
    return lines


def never_met_lines(a: Answer, clauses: Sequence[Clause], confidence: float) -> list[str]:
    """For each clause that no point tried met in ``confidence`` of the runs, a
    sentence with its best share and the likely reason, read from the runs at the
    most extra FTE tried (:class:`Part`): most of the waits that miss it are of
    children no added worker may hold (and why), or the added workers may hold them
    and more than were tried might do."""
    judged = [s for s in a.steps if len(s.parts) == len(clauses)]
    if not judged:
        return []
    last = max(judged, key=lambda s: s.extra)
    lines = []
    for k, c in enumerate(clauses):
        if any(s.parts[k].share >= confidence - 1e-9 for s in judged):
            continue
        part = last.parts[k]
        best = max(s.parts[k].share for s in judged)
        line = (
            f"{c.text}: never met in {confidence:.0%} of runs (at best {best:.0%}); with "
            f"+{last.extra}, the runs that missed it had {counted(part.waits_over, 'wait')} "
            "longer than it allows"
        )
        if part.waits_over and part.barred * 2 >= part.waits_over:
            reasons = "; ".join(f"{why} ({n})" for why, n in part.why)
            line += (
                f", {part.barred} of them ({part.barred / part.waits_over:.0%}) of children "
                f"no added {a.grade.value} may hold: {reasons}. Likely reason: generic "
                "extra staff cannot take these children; workers with those skills (or of "
                "a grade that may hold them) can."
            )
        else:
            line += (
                f"; an added {a.grade.value} may hold {part.waits_over - part.barred} of "
                f"them. Likely reason: too few added within the {last.extra} tried "
                "(--max-fte), or not soon enough."
            )
        lines.append(line)
    return lines


def _who(a: Answer) -> str:
    """The grade, and the contract when not permanent (``social_worker, agency``)."""
    if a.contract is Contract.PERMANENT:
        return a.grade.value
    return f"{a.grade.value}, {a.contract.value}"


def _costed(a: Answer) -> str:
    """``a``'s FTE and what they cost, in words."""
    return f"{a.extra} FTE {_who(a)}{_priced(a)}"


def _priced(a: Answer) -> str:
    year, weeks = a.cost_a_year, a.cost_over_weeks
    if year is None or weeks is None:
        return ""
    return (
        f", costing {year:,.0f} a year ({a.cost_per_fte:,.0f} per FTE, the policy's "
        f"costs.{a.grade.value}.{a.contract.value}), {weeks:,.0f} over the {a.weeks} weeks"
    )


def answers_csv(answers: Sequence[Answer]) -> str:
    """One row per grade, contract and point tried: ``grade``, ``contract``, ``extra``,
    ``share``, ``chosen`` (the least meeting the target), ``low``, ``high`` (the 90%
    interval of the chosen's share, or of the most tried when none meets it),
    ``cost_per_fte`` (the policy's, a year; empty when none) and
    ``cost_a_year`` (the chosen's extra FTE at that cost); then for each clause ``k``
    of the target (1, 2, ...: :class:`Part`) ``part_k`` (its words), ``part_k_share``
    (runs meeting it), ``part_k_waits_over`` (in the runs that missed it, the waits
    longer than it allows), ``part_k_barred`` (of those, of children no added worker
    may hold) and ``part_k_why`` (the reasons and their waits: ``needs court: 30;
    needs welsh: 15``)."""
    clauses = max((len(s.parts) for a in answers for s in a.steps), default=0)
    header = ["grade", "contract", "extra", "share", "chosen", "low", "high"]
    header += ["cost_per_fte", "cost_a_year"]
    for k in range(1, clauses + 1):
        header += [f"part_{k}", f"part_{k}_share", f"part_{k}_waits_over"]
        header += [f"part_{k}_barred", f"part_{k}_why"]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    for a in answers:
        per = "" if a.cost_per_fte is None else f"{a.cost_per_fte:g}"
        # The answer's interval is of the chosen, or of the most tried when none met.
        judged = a.extra if a.extra is not None else max((s.extra for s in a.steps), default=0)
        for s in sorted(a.steps, key=lambda s: s.extra):
            chosen = a.extra == s.extra
            low = f"{a.low:g}" if s.extra == judged else ""
            high = f"{a.high:g}" if s.extra == judged else ""
            year = f"{a.cost_a_year:g}" if chosen and a.cost_a_year is not None else ""
            row = [a.grade.value, a.contract.value, str(s.extra), f"{s.share:g}"]
            row += [str(chosen).lower(), low, high, per, year]
            for part, text in zip(s.parts, a.clauses, strict=True):
                why = "; ".join(f"{reason}: {n}" for reason, n in part.why)
                row += [text, f"{part.share:g}", str(part.waits_over), str(part.barred), why]
            writer.writerow(row)
    return buffer.getvalue()


__all__ = [
    "Answer",
    "Clause",
    "Part",
    "Step",
    "TargetError",
    "added_worker",
    "answer_lines",
    "answers_csv",
    "capacity",
    "meets",
    "never_met_lines",
    "parse_target",
    "part_of",
    "step_line",
    "why_not_added",
    "wilson",
    "with_extra",
]
