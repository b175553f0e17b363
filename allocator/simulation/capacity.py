"""The staffing question: the least extra FTE, by grade, that meets a waiting target.

A **target** is clauses joined by ``;``, each ``WHO [STAT] wait <= N days``:

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

:func:`capacity` adds whole extra workers of one grade (1.0 FTE each, permanent,
no specialist skills, any patch) to today's snapshot and forecasts again with the
same seeds (common random numbers: the same futures, more staff), doubling
``0, 1, 2, 4, ...`` until the target is met in at least ``confidence`` of the runs,
then halving the gap: the least such number, assuming more staff never makes waits
longer. **How sure**: the share of runs meeting the target at that number, with a
90% Wilson interval for the share over the futures it stands for.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

from allocator.models import Grade, Practitioner, Snapshot
from allocator.policy import Policy
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
    '"wait", <= or <, and a number of days written with the digits 0-9'
)
# ASCII only (re.ASCII, [0-9]): "\d" alone would read other scripts' digits ("١").
_CLAUSE = re.compile(
    r"^(?P<who>[a-z]+)\s+(?:(?P<stat>max|mean|p[0-9]+)\s+)?wait\s*(?P<op><=|=<|<)\s*"
    r"(?P<n>[0-9]+(?:\.[0-9]+)?)\s*(?P<unit>days?|weeks?)?$",
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
    for part in parts:
        if not part:
            continue
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
        days = float(m["n"]) * (7 if (m["unit"] or "").startswith("week") else 1)
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


def with_extra(snapshot: Snapshot, grade: Grade, extra: int) -> Snapshot:
    """``snapshot`` with ``extra`` more workers of ``grade`` (1.0 FTE, permanent, no
    specialist skills, any patch), ids ``EXTRA-<grade>-<k>``, team ``extra``."""
    if extra <= 0:
        return snapshot
    added = tuple(
        Practitioner(id=f"EXTRA-{grade.value}-{k}", team="extra", grade=grade, fte=1.0)
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
    """The least extra FTE of one grade meeting the target.

    Attributes
    ----------
    grade
        The grade added.
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
) -> Answer:
    """The least extra workers of ``grade`` meeting ``clauses`` in ``confidence`` of runs.

    Parameters
    ----------
    snapshot, policy, settings, calibration, workers
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

    Returns
    -------
    Answer
        The number, how sure, and the points tried.
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
                with_extra(snapshot, grade, extra),
                policy,
                settings,
                calibration=calibration,
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
    return Answer(grade, found, round(s, 4), lo, hi, tuple(steps))


def answer_lines(
    answers: Sequence[Answer], clauses: Sequence[Clause], confidence: float
) -> list[str]:
    """The answers in sentences, for the terminal."""
    target = "; ".join(c.text for c in clauses)
    lines = [f"Target: {target} (in at least {confidence:.0%} of runs)."]
    for a in answers:
        tried = ", ".join(f"+{s.extra}: {s.share:.0%}" for s in a.steps)
        if a.extra is None:
            lines.append(
                f"{a.grade.value}: not met even with {a.steps[-1].extra if a.steps else 0} "
                f"extra FTE ({a.share:.0%} of runs; 90% interval {a.low:.0%}-{a.high:.0%}). "
                f"Tried {tried}."
            )
        elif a.extra == 0:
            lines.append(
                f"{a.grade.value}: met with today's staff in {a.share:.0%} of runs "
                f"(90% interval {a.low:.0%}-{a.high:.0%})."
            )
        else:
            lines.append(
                f"{a.grade.value}: {a.extra} extra FTE meets it in {a.share:.0%} of runs "
                f"(90% interval {a.low:.0%}-{a.high:.0%}). Tried {tried}."
            )
    lines.append(
        "Extra workers are 1.0 FTE, permanent, with no specialist skills: a child who "
        "needs a Welsh speaker or court skills still waits for one."
    )
    return lines


def answers_csv(answers: Sequence[Answer]) -> str:
    """One row per grade and point tried: ``grade``, ``extra``, ``share``,
    ``chosen`` (the least meeting the target), ``low``, ``high`` (for the chosen)."""
    rows = ["grade,extra,share,chosen,low,high"]
    for a in answers:
        for s in sorted(a.steps, key=lambda s: s.extra):
            chosen = a.extra == s.extra
            low = f"{a.low:g}" if chosen else ""
            high = f"{a.high:g}" if chosen else ""
            rows.append(f"{a.grade.value},{s.extra},{s.share:g},{str(chosen).lower()},{low},{high}")
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
