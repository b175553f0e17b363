"""What a simulation records, per child and per worker, and the tables it makes.

A **change of worker** is a child going to a worker other than the last one they
had: a move from one worker to another, or a child taken off a worker (to the
unallocated list) and later given a different one, counted on the day they get the
new worker, with the cause of losing the old one. A referral's first worker is no
change; a child given back the worker they lost is none either.

Causes (what lay behind the change, judged on the morning's snapshot):

- ``leaver``: the worker had gone (``leaving_on`` on or before the day);
- ``long_absence``: the worker was absent ``long_absence_days`` or more ahead;
- ``rule``: the worker may no longer hold the child (grade, skills, exclusion, pin:
  :func:`allocator.domain.rules.holding_blockers`), e.g. after complexity rose;
- ``over_cap``: the worker was over their cap;
- ``choice``: none of these — the method chose to move the child. These are the
  **avoidable** changes; the target is none.

**Notice** is the days between the day a child was told of the change (the day the
method decided it) and the day it took effect: 0 for every change today, since no
method yet plans handovers ahead. **Known** is the days between the day the cause was
known (the leaver's notice, an absence's announcement) and the change: the notice a
method that plans ahead could have given.

A **wait** is one spell a child spends with no worker: from the day they were
referred (cause ``referral``) or the day they lost their worker (the change causes
above) to the day they were given a worker (``ended = "placed"``) or their case closed
(``"closed"``). Its length in days is the end day less the start day, so a referral
placed the morning it arrives waited 0 days, and a spell is exactly the nights the
child spent on the unallocated list. A spell still open at the end of the run
(``"open"``) counts with its length so far: the last day less the start day, plus 1.
A child already without a worker on day 0 starts a spell on day 0 (cause
``referral`` if opened that day with no earlier worker, else ``before_run``): days
waited before the run are not counted. Each spell carries the child's priority class
on the day it began (the policy's classes, ``urgent`` included) and whether the
child's type is **statutory**: named by any of the policy's priority classes (by
default child protection, looked after, court and adoption).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Literal

from allocator.contract.models import Case, CaseType, Practitioner, Priority, Snapshot
from allocator.contract.policy import OTHER_CLASS, Policy
from allocator.contract.units import capacity_units, weight_units
from allocator.domain.rules import is_gone

if TYPE_CHECKING:
    import pandas as pd

    from allocator.simulation.events import Absence

Cause = Literal["leaver", "long_absence", "rule", "over_cap", "choice"]
#: Every cause, in the order reports list them.
CAUSES: tuple[Cause, ...] = ("leaver", "long_absence", "rule", "over_cap", "choice")
#: What began a wait: a referral, a worker lost (a change's cause), or the run's start.
WAIT_CAUSES: tuple[str, ...] = ("referral", *CAUSES, "before_run")


def statutory_types(policy: Policy) -> frozenset[str]:
    """Case types named by any of ``policy``'s priority classes ("statutory" work)."""
    return frozenset(
        t.value for k in policy.priority_classes for t in k.cases if isinstance(t, CaseType)
    )


def class_name(policy: Policy, case_type: str, *, urgent: bool) -> str:
    """The name of the first of ``policy``'s priority classes holding such a case."""
    for klass in policy.priority_classes:
        if case_type in klass.cases or (urgent and Priority.URGENT in klass.cases):
            return klass.name
    return OTHER_CLASS


@dataclass
class _Spell:
    """A wait under way: when and why it began, and the child's class then."""

    start: int
    cause: str
    klass: str
    urgent: bool
    known_days: int | None = None  # leaver / absence: days the cause was known before


@dataclass(frozen=True)
class Wait:
    """One wait (a row of the ``waits`` table; the module docstring defines it).

    ``end_day`` is ``None`` for a wait still open at the run's end; ``days`` is its
    length in days either way.
    """

    case: str
    type: str
    klass: str
    statutory: bool
    urgent: bool
    cause: str
    start_day: int
    end_day: int | None
    ended: str
    days: int
    known_days: int | None


@dataclass
class _Child:
    type: str
    klass: str  # priority class on the day the child opened (or day 0)
    opened: int
    closed: int | None = None
    changes: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    waiting: int = 0
    first_wait: int | None = None  # days before the first worker (children referred in the run)
    lost: tuple[str, Cause, int] | None = None  # worker, cause, day
    spell: _Spell | None = None  # the wait under way, if any


@dataclass
class _Staff:
    grade: str
    contract: str
    joined_day: int
    left_day: int | None = None
    days_on_books: int = 0
    days_over_cap: int = 0
    utilisation_sum: float = 0.0


@dataclass
class Recorder:
    """Collects one method's year; :meth:`tables` turns it into data frames.

    Parameters
    ----------
    snapshot
        The service on day 0 (its open cases are the children present from the start).
    policy
        For weights, caps and priority classes.
    method
        The method's name, carried into every table.
    """

    snapshot: Snapshot
    policy: Policy
    method: str
    children: dict[str, _Child] = field(default_factory=dict)
    changes: list[dict[str, object]] = field(default_factory=list)
    waiting: list[dict[str, object]] = field(default_factory=list)
    loads: list[dict[str, object]] = field(default_factory=list)
    staff: dict[str, _Staff] = field(default_factory=dict)
    absences: list[Absence] = field(default_factory=list)
    known_on: dict[tuple[str, str], date] = field(default_factory=dict)
    waits: list[Wait] = field(default_factory=list)
    last_day: int = 0
    statutory: frozenset[str] = field(init=False, default=frozenset())

    def __post_init__(self) -> None:
        self.statutory = statutory_types(self.policy)
        for c in self.snapshot.cases:
            urgent = c.priority is Priority.URGENT
            child = _Child(
                type=c.type.value,
                klass=class_name(self.policy, c.type.value, urgent=urgent),
                opened=0,
            )
            if c.worker is None:
                first = c.opened == self.snapshot.as_of and not c.previous_workers
                if c.opened == self.snapshot.as_of:
                    child.first_wait = 0
                child.spell = _Spell(0, "referral" if first else "before_run", child.klass, urgent)
            self.children[c.id] = child
        for p in self.snapshot.practitioners:
            self._staff(p, 0)
            # What the snapshot already says is known from day 0.
            if p.leaving_on is not None:
                self.known_on[p.id, "leaver"] = self.snapshot.as_of
            if p.available_from is not None:
                self.known_on[p.id, "long_absence"] = self.snapshot.as_of

    def _staff(self, p: Practitioner, d: int) -> None:
        self.staff[p.id] = _Staff(p.grade.value, p.contract.value, d)

    def open_children(self) -> int:
        """Children opened (or present on day 0) and not yet closed."""
        return sum(1 for c in self.children.values() if c.closed is None)

    # ------------------------------------------------------------------- events

    def opened(self, case: Case, d: int) -> None:
        """A referral arrived on day ``d``: their first wait begins."""
        urgent = case.priority is Priority.URGENT
        klass = class_name(self.policy, case.type.value, urgent=urgent)
        self.children[case.id] = _Child(
            type=case.type.value,
            klass=klass,
            opened=d,
            first_wait=0,
            spell=_Spell(d, "referral", klass, urgent),
        )

    def closed(self, case_id: str, d: int) -> None:
        """A case closed on day ``d`` (ending any wait under way)."""
        child = self.children[case_id]
        child.closed = d
        self._end_wait(case_id, d, "closed")

    def joined(self, p: Practitioner, d: int) -> None:
        """A new worker started on day ``d``."""
        self._staff(p, d)

    def known(self, worker: str, kind: str, on: date) -> None:
        """The day a worker's departure (``leaver``) or absence became known."""
        self.known_on[worker, kind] = on

    def absence(self, absence: Absence) -> None:
        """An absence began (kept for the rate checks)."""
        self.absences.append(absence)

    def lost(self, case_id: str, worker: str, cause: Cause, d: int) -> None:
        """A child was taken off ``worker`` and left without one."""
        child = self.children[case_id]
        if child.lost is None:
            child.lost = (worker, cause, d)
        if child.spell is None:
            # Urgency is spent once a child has a worker: a child losing one is standard.
            known = (
                self.known_on.get((worker, cause)) if cause in ("leaver", "long_absence") else None
            )
            today = self.snapshot.as_of.toordinal() + d
            child.spell = _Spell(
                d,
                cause,
                class_name(self.policy, child.type, urgent=False),
                False,
                None if known is None else max(0, today - known.toordinal()),
            )

    def _end_wait(self, case_id: str, d: int, ended: str) -> None:
        """Close the child's wait under way, if any, on day ``d`` (``placed`` / ``closed``)."""
        child = self.children[case_id]
        if child.spell is not None:
            self.waits.append(self._wait(case_id, child, child.spell, d, ended))
            child.spell = None

    def _wait(
        self, case_id: str, child: _Child, spell: _Spell, end: int | None, ended: str
    ) -> Wait:
        last = end if end is not None else self.last_day + 1
        return Wait(
            case=case_id,
            type=child.type,
            klass=spell.klass,
            statutory=child.type in self.statutory,
            urgent=spell.urgent,
            cause=spell.cause,
            start_day=spell.start,
            end_day=end,
            ended=ended,
            days=last - spell.start,
            known_days=spell.known_days,
        )

    def placed(
        self,
        case_id: str,
        old: str | None,
        new: str,
        cause: Cause | None,
        d: int,
        *,
        notice_days: int,
    ) -> bool:
        """A child given ``new`` (``old`` their worker this morning); True if a change."""
        child = self.children[case_id]
        lost_on = d
        if old is None:
            self._end_wait(case_id, d, "placed")
            if child.lost is None:  # a first worker
                return False
            old, cause, lost_on = child.lost
            child.lost = None
            if old == new:
                return False
        assert cause is not None
        child.changes[cause] += 1
        known = self.known_on.get((old, cause)) if cause in ("leaver", "long_absence") else None
        today = self.snapshot.as_of.toordinal() + d
        self.changes.append(
            {
                "method": self.method,
                "day": d,
                "case": case_id,
                "type": child.type,
                "from_worker": old,
                "to_worker": new,
                "cause": cause,
                "avoidable": cause == "choice",
                "days_without_worker": d - lost_on,
                "notice_days": notice_days,
                "known_days": None if known is None else max(0, today - known.toordinal()),
            }
        )
        return True

    def end_of_day(
        self, d: int, today: date, staff: dict[str, Practitioner], cases: dict[str, Case]
    ) -> None:
        """Waiting children by priority class, and each worker's load, at the day's end."""
        self.last_day = d
        policy = self.policy
        names = policy.class_names
        waiting = [0] * len(names)
        load: dict[str, int] = defaultdict(int)
        for cid, c in cases.items():
            if c.worker is None:
                waiting[policy.priority_class(c)] += 1
                child = self.children[cid]
                child.waiting += 1
            else:
                load[c.worker] += weight_units(policy.case_weight(c))
        for k, name in enumerate(names):
            self.waiting.append(
                {"method": self.method, "day": d, "class": name, "children": waiting[k]}
            )
        for w, p in staff.items():
            row = self.staff[w]
            if is_gone(p, today):
                if row.left_day is None:
                    row.left_day = d
                continue
            cap = capacity_units(policy.capacity(p))
            units = load.get(w, 0)
            row.days_on_books += 1
            if units > cap:
                row.days_over_cap += 1
            util = units / cap if cap else 0.0
            row.utilisation_sum += util
            absent = p.available_from is not None and p.available_from > today
            self.loads.append(
                {
                    "method": self.method,
                    "day": d,
                    "worker": w,
                    "load": units / 100,
                    "capacity": cap / 100,
                    "utilisation": round(util, 4),
                    "absent": absent,
                }
            )
        for w, row in self.staff.items():
            if w not in staff and row.left_day is None:
                row.left_day = d

    # ------------------------------------------------------------------- tables

    def all_waits(self) -> list[Wait]:
        """Every wait, those still open at the run's end included, by case and start day."""
        still = [
            self._wait(cid, c, c.spell, None, "open")
            for cid, c in self.children.items()
            if c.spell is not None
        ]
        return sorted([*self.waits, *still], key=lambda w: (w.case, w.start_day))

    def tables(self) -> dict[str, pd.DataFrame]:
        """``changes``, ``children``, ``waits``, ``waiting``, ``loads`` and ``workers``."""

        waits = self.all_waits()
        longest: dict[str, int] = defaultdict(int)
        spells: dict[str, int] = defaultdict(int)
        for spell in waits:
            spells[spell.case] += 1
            longest[spell.case] = max(longest[spell.case], spell.days)
        wait_rows: list[dict[str, object]] = [
            {
                "method": self.method,
                "case": spell.case,
                "type": spell.type,
                "class": spell.klass,
                "statutory": spell.statutory,
                "urgent": spell.urgent,
                "cause": spell.cause,
                "start_day": spell.start_day,
                "end_day": spell.end_day,
                "ended": spell.ended,
                "days": spell.days,
                "known_days": spell.known_days,
            }
            for spell in waits
        ]
        children = []
        for cid in sorted(self.children):
            child = self.children[cid]
            closed = child.closed if child.closed is not None else self.last_day + 1
            row: dict[str, object] = {
                "method": self.method,
                "case": cid,
                "type": child.type,
                "class": child.klass,
                "opened_day": child.opened,
                "closed_day": child.closed,
                "days_open": closed - child.opened,
                "open_all_run": child.opened == 0 and child.closed is None,
                "changes": sum(child.changes.values()),
                "waiting_days": child.waiting,
                "waits": spells.get(cid, 0),
                "longest_wait_days": longest.get(cid, 0),
                "referred": child.first_wait is not None,
            }
            for cause in CAUSES:
                row[f"changes_{cause}"] = child.changes.get(cause, 0)
            children.append(row)
        workers = []
        for w in sorted(self.staff):
            s = self.staff[w]
            workers.append(
                {
                    "method": self.method,
                    "worker": w,
                    "grade": s.grade,
                    "contract": s.contract,
                    "joined_day": s.joined_day,
                    "left_day": s.left_day,
                    "days_on_books": s.days_on_books,
                    "days_over_cap": s.days_over_cap,
                    "mean_utilisation": (
                        round(s.utilisation_sum / s.days_on_books, 4) if s.days_on_books else None
                    ),
                }
            )
        # Each table is built with its columns and types named, so a table with no
        # rows (no children, no staff left, no changes) has the same shape as a full
        # one and every figure of the report can be computed from it.
        return {
            "changes": _frame(self.changes, CHANGE_COLUMNS),
            "children": _frame(children, CHILD_COLUMNS),
            "waits": _frame(wait_rows, WAIT_COLUMNS),
            "waiting": _frame(self.waiting, WAITING_COLUMNS),
            "loads": _frame(self.loads, LOAD_COLUMNS),
            "workers": _frame(workers, WORKER_COLUMNS),
        }


def _frame(rows: list[dict[str, object]], columns: Mapping[str, str]) -> pd.DataFrame:
    """``rows`` as a frame with exactly ``columns`` (name -> pandas dtype), even if empty."""
    import pandas as pd

    frame = pd.DataFrame(rows, columns=list(columns))
    if not rows:
        return frame.astype(dict(columns))
    # Full tables keep pandas' own inference but for whole numbers that may be missing.
    nullable = {k: v for k, v in columns.items() if v == "Int64"}
    return frame.astype(nullable) if nullable else frame


#: The columns of each table and their types (pandas dtypes; ``Int64`` may be empty).
CHANGE_COLUMNS: dict[str, str] = {
    "method": "object",
    "day": "int64",
    "case": "object",
    "type": "object",
    "from_worker": "object",
    "to_worker": "object",
    "cause": "object",
    "avoidable": "bool",
    "days_without_worker": "int64",
    "notice_days": "int64",
    "known_days": "Int64",
}
CHILD_COLUMNS: dict[str, str] = {
    "method": "object",
    "case": "object",
    "type": "object",
    "class": "object",
    "opened_day": "int64",
    "closed_day": "float64",  # NaN while open, as pandas reads ``None`` among numbers
    "days_open": "int64",
    "open_all_run": "bool",
    "changes": "int64",
    "waiting_days": "int64",  # days waited in all: the sum of the child's waits
    "waits": "int64",
    "longest_wait_days": "int64",
    "referred": "bool",
    **{f"changes_{cause}": "int64" for cause in CAUSES},
}
WAIT_COLUMNS: dict[str, str] = {
    "method": "object",
    "case": "object",
    "type": "object",
    "class": "object",
    "statutory": "bool",
    "urgent": "bool",
    "cause": "object",
    "start_day": "int64",
    "end_day": "Int64",  # empty while the wait is open at the run's end
    "ended": "object",  # placed, closed or open
    "days": "int64",
    "known_days": "Int64",  # leaver / absence waits: days the cause was known before
}
WAITING_COLUMNS: dict[str, str] = {
    "method": "object",
    "day": "int64",
    "class": "object",
    "children": "int64",
}
LOAD_COLUMNS: dict[str, str] = {
    "method": "object",
    "day": "int64",
    "worker": "object",
    "load": "float64",
    "capacity": "float64",
    "utilisation": "float64",
    "absent": "bool",
}
WORKER_COLUMNS: dict[str, str] = {
    "method": "object",
    "worker": "object",
    "grade": "object",
    "contract": "object",
    "joined_day": "int64",
    "left_day": "Int64",
    "days_on_books": "int64",
    "days_over_cap": "int64",
    "mean_utilisation": "float64",
}
