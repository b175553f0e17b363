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

**What it costs**: where the policy gives the council's cost of one FTE a year of
that grade and contract (``[costs.<grade>] <contract> = N``), the answer is priced:
that cost times the FTE, a year and over the forecast's weeks. There is no default:
the project's sources (DOMAIN.md) hold no published pay or agency figure, so an
answer without the policy's cost says so instead of guessing one.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

from allocator.contract.models import Contract, Grade, Handover, Practitioner, Snapshot
from allocator.contract.policy import Policy
from allocator.simulation.forecast import (
    Calibration,
    ForecastError,
    ForecastSettings,
    RunFigures,
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

Who = Literal["urgent", "statutory", "all"]
WHO: dict[str, Who] = {"urgent": "urgent", "statutory": "statutory", "all": "all"}


class TargetError(ForecastError):
    """A target the tool cannot read, in one sentence naming the clause."""


@dataclass(frozen=True)
class Clause:
    """One clause of a target: ``stat`` of ``who``'s waits ``<=`` (or ``<``) ``days``.

    ``stat`` is ``"max"``, ``"mean"`` or a percentile as a share (``0.9`` for p90).
    """

    who: Who
    stat: str | float
    days: float
    strict: bool
    text: str

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
        if v is None:
            return True
        return v < self.days if self.strict else v <= self.days + 1e-9


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


def with_extra(
    snapshot: Snapshot, grade: Grade, extra: int, contract: Contract = Contract.PERMANENT
) -> Snapshot:
    """``snapshot`` with ``extra`` more workers of ``grade`` on ``contract`` (1.0 FTE, no
    specialist skills, any patch, no contract end), team ``extra``; ids
    ``EXTRA-<grade>-<k>`` (permanent) or ``EXTRA-<grade>-<contract>-<k>``."""
    if extra <= 0:
        return snapshot
    tag = grade.value if contract is Contract.PERMANENT else f"{grade.value}-{contract.value}"
    added = tuple(
        Practitioner(id=f"EXTRA-{tag}-{k}", team="extra", grade=grade, fte=1.0, contract=contract)
        for k in range(1, extra + 1)
    )
    return snapshot.model_copy(update={"practitioners": (*snapshot.practitioners, *added)})


@dataclass(frozen=True)
class Step:
    """One point of the search: ``extra`` workers added, the share of runs meeting
    the target (0-1)."""

    extra: int
    share: float


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
            steps.append(Step(extra, round(tried[extra], 4)))
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
    return Answer(grade, found, round(s, 4), lo, hi, tuple(steps), contract, cost, settings.weeks)


def answer_lines(
    answers: Sequence[Answer], clauses: Sequence[Clause], confidence: float
) -> list[str]:
    """The answers in sentences, for the terminal."""
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
        "who needs a Welsh speaker or court skills still waits for one."
    )
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
    ``cost_a_year`` (the chosen's extra FTE at that cost)."""
    rows = ["grade,contract,extra,share,chosen,low,high,cost_per_fte,cost_a_year"]
    for a in answers:
        per = "" if a.cost_per_fte is None else f"{a.cost_per_fte:g}"
        # The answer's interval is of the chosen, or of the most tried when none met.
        judged = a.extra if a.extra is not None else max((s.extra for s in a.steps), default=0)
        for s in sorted(a.steps, key=lambda s: s.extra):
            chosen = a.extra == s.extra
            low = f"{a.low:g}" if s.extra == judged else ""
            high = f"{a.high:g}" if s.extra == judged else ""
            year = f"{a.cost_a_year:g}" if chosen and a.cost_a_year is not None else ""
            rows.append(
                f"{a.grade.value},{a.contract.value},{s.extra},{s.share:g},"
                f"{str(chosen).lower()},{low},{high},{per},{year}"
            )
    return "\n".join(rows) + "\n"


__all__ = [
    "Answer",
    "Clause",
    "Step",
    "TargetError",
    "answer_lines",
    "answers_csv",
    "capacity",
    "meets",
    "parse_target",
    "wilson",
    "with_extra",
]
