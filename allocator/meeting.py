"""The allocation meeting: a manager's overrides, and the re-solve that honours them.

A manager looks at the proposed plan and changes a few choices, each with a reason:

* ``choose``: the case goes to another worker (a pin, as ``pinned_worker``);
* ``exclude``: the case must not go to a worker (added to ``excluded_workers``);
* ``unallocate``: the case stays without a worker for now.

:func:`resolve` re-solves in one solve through the public
:func:`allocator.daily.allocate` with the overrides written into the snapshot and the
previous plan as the ``reference``: after the priority classes, the fewest other
cases placed differently from it (the ``reference_changes`` tier).

Everything here is a pure function of its arguments and the solver settings, so a
decision log can replay it (:mod:`allocator.decisions`).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from allocator.io import dump_json
from allocator.models import Assignment, Plan, Snapshot, Unallocated
from allocator.objectives import REFERENCE_CHANGES
from allocator.policy import Policy
from allocator.rules import (
    AVAILABILITY_RULES,
    CAPACITY,
    GONE_WORKER,
    Room,
    ServiceState,
    holding_rules,
)

#: The unallocated code of a case a manager chose to leave without a worker.
MANAGER_UNALLOCATED = "manager_unallocated"
#: Longest reason or manager name accepted (characters).
MAX_REASON = 500
MAX_NAME = 100

Action = Literal["choose", "exclude", "unallocate"]
# Control characters (NUL, escape codes) but tab and line breaks: refused at the door,
# so none reaches the log, a terminal or PostgreSQL (which refuses NUL in text).
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def no_control(value: str) -> str:
    """``value`` unless it holds a control character (tab and line breaks allowed)."""
    if _CONTROL.search(value):
        raise ValueError("control characters (such as NUL or escape) are not accepted")
    return value


Text = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1), AfterValidator(no_control)
]


class Override(BaseModel):
    """One manager's change to the proposed plan, with who and why.

    Attributes
    ----------
    case
        The case's id.
    action
        ``choose`` (``worker`` takes the case), ``exclude`` (keep it off ``worker``)
        or ``unallocate`` (leave it without a worker).
    worker
        The worker chosen or excluded; ``None`` for ``unallocate``.
    reason
        Why, in the manager's words (stored as typed).
    manager
        Who decided, as they typed their name.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    case: Text
    action: Action
    worker: Annotated[str, AfterValidator(no_control)] | None = None
    reason: Annotated[Text, Field(max_length=MAX_REASON)]
    manager: Annotated[Text, Field(max_length=MAX_NAME)]


class OverrideError(ValueError):
    """An override that cannot apply to the snapshot (unknown id, missing worker)."""


def check_override(snapshot: Snapshot, override: Override) -> None:
    """Refuse an override naming an unknown case or worker.

    Raises
    ------
    OverrideError
        One sentence naming the id and what was expected.
    """
    if override.case not in {c.id for c in snapshot.cases}:
        raise OverrideError(f"case {override.case!r} is not in the snapshot")
    if override.action == "unallocate":
        if override.worker is not None:
            raise OverrideError("leaving a case unallocated names no worker")
        return
    if override.worker is None:
        raise OverrideError(f"'{override.action}' needs a worker")
    if override.worker not in {p.id for p in snapshot.practitioners}:
        raise OverrideError(f"worker {override.worker!r} is not among the practitioners")


def holding_blockers_of(state: ServiceState, override: Override) -> list[tuple[str, str]]:
    """Every hard rule that stops a ``choose`` override's worker holding its case.

    Judged by the rule registry (:mod:`allocator.rules`) on the case as the override
    leaves it (pinned to the worker, not excluded from them), whatever the worker's
    room: the holding rules (grade, skills, exclusions, pin); for a worker who would
    take the case new, availability and the cap they cannot meet whatever moves
    (over it already, or the case heavier than it); for the case's own worker, only
    having left. Room a re-solve can make (load, intake) is the solver's to find.

    Returns
    -------
    list of (rule id, sentence)
        Empty when the override may stand (or is not a ``choose``).
    """
    if override.action != "choose" or override.worker is None:
        return []
    worker = override.worker
    before = state.cases[override.case]
    case = before.model_copy(
        update={
            "pinned_worker": worker,
            "excluded_workers": tuple(w for w in before.excluded_workers if w != worker),
        }
    )
    out = holding_rules(case, state.practitioners[worker], state.policy)
    taking = (*AVAILABILITY_RULES, CAPACITY) if worker != before.worker else (GONE_WORKER,)
    for rule in taking:
        sentence = rule.blocks(state, case, worker, Room(load=0))
        if sentence is not None:
            out.append((rule.id, sentence))
    return out


def check_holdable(state: ServiceState, override: Override) -> None:
    """Refuse a ``choose`` whose worker may not hold the case (:func:`holding_blockers_of`).

    Raises
    ------
    OverrideError
        Naming the worker, the case, and each rule broken by its id.
    """
    broken = holding_blockers_of(state, override)
    if broken:
        why = "; ".join(f"{sentence} (rule {rule})" for rule, sentence in broken)
        raise OverrideError(f"{override.worker} may not hold {override.case}: {why}")


def merge_override(overrides: Sequence[Override], override: Override) -> list[Override]:
    """The overrides in effect once ``override`` is added: the newest word on a case wins.

    ``choose`` and ``unallocate`` replace every earlier override of the case; ``exclude``
    replaces an earlier ``unallocate`` of the case and an earlier override naming the
    same worker (a ``choose`` of them, or the same exclusion), and keeps the others (a
    choice of another worker, other exclusions), which still hold beside it.
    """

    def replaced(old: Override) -> bool:
        if old.case != override.case:
            return False
        if override.action != "exclude":
            return True
        return old.action == "unallocate" or old.worker == override.worker

    return [*(o for o in overrides if not replaced(o)), override]


def apply_overrides(snapshot: Snapshot, overrides: Sequence[Override]) -> Snapshot:
    """The snapshot with the overrides written in as pins and exclusions, in order.

    A later override of a case refines the earlier ones: ``choose`` replaces a pin and
    lifts an exclusion of that worker; ``exclude`` lifts a pin to that worker;
    ``unallocate`` excludes every practitioner.
    """
    if not overrides:
        return snapshot
    for override in overrides:
        check_override(snapshot, override)
    staff = tuple(p.id for p in snapshot.practitioners)
    by_case: dict[str, list[Override]] = {}
    for override in overrides:
        by_case.setdefault(override.case, []).append(override)
    cases = []
    for case in snapshot.cases:
        for o in by_case.get(case.id, ()):
            excluded = tuple(case.excluded_workers)
            pin = case.pinned_worker
            if o.action == "choose":
                pin, excluded = o.worker, tuple(w for w in excluded if w != o.worker)
            elif o.action == "exclude":
                excluded = excluded if o.worker in excluded else (*excluded, str(o.worker))
                pin = None if pin == o.worker else pin
            else:
                pin, excluded = None, staff
            case = case.model_copy(update={"pinned_worker": pin, "excluded_workers": excluded})
        cases.append(case)
    return snapshot.model_copy(update={"cases": tuple(cases)})


def placed_snapshot(snapshot: Snapshot, plan: Plan) -> Snapshot:
    """``snapshot`` with ``plan``'s placements applied: each case it assigns holds its
    worker (loads as after the plan); the cases it leaves unallocated are as they were.
    """
    given = {a.case: a.worker for a in plan.assignments}
    if not given:
        return snapshot
    cases = tuple(
        c.model_copy(update={"worker": given[c.id]}) if c.id in given else c for c in snapshot.cases
    )
    return snapshot.model_copy(update={"cases": cases})


def final_workers(plan: Plan) -> dict[str, str | None]:
    """Each case the plan decides -> its worker after the plan (``None``: unallocated)."""
    placed: dict[str, str | None] = {a.case: a.worker for a in plan.assignments}
    placed.update({u.case: None for u in plan.unallocated})
    return placed


@dataclass(frozen=True)
class Moved:
    """A case the re-solve placed differently from the previous plan (not overridden)."""

    case: str
    before: str | None
    after: str | None


@dataclass(frozen=True)
class Resolution:
    """A re-solved plan and what else moved.

    Attributes
    ----------
    plan
        The new plan (``made_from`` and ``settings`` as the previous plan's); its
        objective reports ``reference_changes``, the previous plan's placements it
        changed (docs/FORMAT.md).
    moved
        Cases not overridden whose worker differs from the previous plan's.
    """

    plan: Plan
    moved: tuple[Moved, ...]


def solver_settings(plan: Plan) -> dict[str, Any]:
    """The keyword arguments of :func:`allocator.daily.allocate` that made ``plan``."""
    s = plan.settings
    out: dict[str, Any] = {
        "time_limit": float(s.get("time_limit", 30.0)),
        "seed": int(s.get("seed", 0)),
        "workers": int(s.get("workers", 1)),
    }
    if "work_units" in s:
        out["work_units"] = float(s["work_units"])
    if "allow_moves" in s:
        out["allow_moves"] = int(s["allow_moves"])
    return out


def resolve(
    snapshot: Snapshot,
    policy: Policy,
    previous: Plan,
    overrides: Sequence[Override],
) -> Resolution:
    """Re-solve ``previous`` with ``overrides``, changing as little else as possible.

    One solve (:func:`allocator.daily.allocate`) of the snapshot with the overrides
    written in as pins and exclusions, with the previous plan's other placements as
    its ``reference``: right after the priority classes, it minimises the cases that
    end somewhere other than the previous plan put them (or without a worker when it
    gave them one), and starts from the previous plan. So a child waiting for a
    worker gets one when an override frees room, and otherwise as few other cases
    move as the rules allow.

    Parameters
    ----------
    snapshot
        The service as loaded (without any override).
    policy
        The policy.
    previous
        The plan the manager is changing; its settings are reused.
    overrides
        Every override so far, oldest first (each re-solve takes them all).

    Returns
    -------
    Resolution

    Raises
    ------
    OverrideError
        If an override names an unknown case or worker.
    """
    from allocator.daily import allocate

    base = apply_overrides(snapshot, overrides)
    overridden = {o.case for o in overrides}
    cases = {c.id: c for c in base.cases}
    reference = {a.case: a.worker for a in previous.assignments if a.case not in overridden}
    plan = allocate(base, policy, reference=reference, **solver_settings(previous))
    plan = _tidy(plan, overrides, previous)
    before, after = final_workers(previous), final_workers(plan)
    moved = tuple(
        Moved(c, before.get(c, cases[c].worker), after.get(c, cases[c].worker))
        for c in sorted(set(before) | set(after))
        if c not in overridden and before.get(c, cases[c].worker) != after.get(c, cases[c].worker)
    )
    return Resolution(plan=plan, moved=moved)


def _tidy(plan: Plan, overrides: Sequence[Override], previous: Plan) -> Plan:
    """The re-solved plan in the manager's terms.

    A case a manager chose a worker for says so with their reason first; a case left
    unallocated by a manager says so with their reason, not the exclusions that
    implement it.
    """
    last: dict[str, Override] = {}
    for o in overrides:
        last[o.case] = o
    assignments = []
    for a in plan.assignments:
        reasons = a.reasons
        mine = last.get(a.case)
        if mine is not None and mine.action == "choose" and mine.worker == a.worker:
            reasons = (f"chosen by {mine.manager}: {mine.reason}", *reasons)
        assignments.append(Assignment(case=a.case, worker=a.worker, from_=a.from_, reasons=reasons))
    unallocated = []
    for u in plan.unallocated:
        mine = last.get(u.case)
        if mine is not None and mine.action == "unallocate":
            u = Unallocated(
                case=u.case,
                code=MANAGER_UNALLOCATED,
                reason=f"left unallocated by {mine.manager}: {mine.reason}",
            )
        unallocated.append(u)
    kept = len(previous.assignments) - sum(1 for a in previous.assignments if a.case in last)
    changes = plan.objective.get(REFERENCE_CHANGES, 0)
    notes = (
        *plan.notes,
        f"re-solved with {len(overrides)} manager override(s) in one solve, keeping the "
        f"previous plan's other placements where it could: {changes:g} of its {kept} "
        "other placement(s) changed",
    )
    return plan.model_copy(
        update={
            "assignments": tuple(assignments),
            "unallocated": tuple(unallocated),
            "notes": notes,
            "made_from": previous.made_from,
        }
    )


def canonical_plan(plan: Plan) -> bytes:
    """The plan's JSON bytes with ``solve_seconds`` zeroed: what a replay must match.

    ``solve_seconds`` is the wall-clock time of the solve, which no re-run repeats;
    everything else a deterministic solve (fixed ``work_units``) reproduces.
    """
    return dump_json(plan.model_copy(update={"solve_seconds": 0.0})).encode("utf-8")


def digest(data: bytes) -> str:
    """SHA-256 of ``data``, lower-case hex."""
    return hashlib.sha256(data).hexdigest()


def changed_cases(overrides: Iterable[Override]) -> list[str]:
    """The ids of the cases the overrides touch, in first-touched order."""
    return list(dict.fromkeys(o.case for o in overrides))
