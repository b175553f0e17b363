"""The allocation policy: every number in FORMAT.md's "Default policy", loadable from TOML.

A council's policy file need only name what it changes; everything else keeps the
FORMAT.md default. Unknown keys and impossible values are rejected.

Example ``policy.toml``::

    points_per_fte = 90
    max_new_families_per_day = 2

    [type_points]
    court = 8

    [grades.nqsw]
    max_complexity = 2
    excluded_types = ["court", "adoption"]

    # Who gets a worker first: classes in order; a case falls into the first class
    # that names its type (or "urgent", for urgent cases); the rest are "other".
    [[priority_classes]]
    name = "urgent"
    cases = ["urgent"]

    [[priority_classes]]
    name = "statutory"
    cases = ["child_protection", "looked_after", "court", "adoption"]
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from enum import Enum
from functools import cache
from typing import Annotated, Any, Final, Literal, Self, get_args, get_origin

from annotated_types import Ge, Gt, Le
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_serializer,
)
from pydantic_core import ErrorDetails

from allocator.contract.faults import (
    AllocatorError,
    describe_value,
    did_you_mean,
    is_typo_of,
    typo_match,
)
from allocator.contract.fields import expected_at, locate
from allocator.contract.models import (
    MAX_POINTS,
    REASONED_ERRORS,
    Case,
    CaseType,
    Contract,
    ExactNumber,
    Grade,
    Listed,
    Practitioner,
    Priority,
    rebuilt_errors,
    unwrapped,
)

# Domains of the policy's numbers. Each bound keeps what the policy computes inside
# the snapshot's own domains: type points x multiplier <= MAX_POINTS for a weight,
# points per FTE x FTE x grade factor <= MAX_POINTS for a cap.
MAX_TYPE_POINTS: Final = 1_000
"""Largest points for one case type."""
MAX_MULTIPLIER: Final = 10
"""Largest complexity multiplier."""
MAX_WINDOW_DAYS: Final = 3_650
"""Longest leaving window or long-absence threshold, in days (ten years)."""
MAX_NEW_FAMILIES: Final = 1_000
"""Largest ``max_new_families_per_day``."""
MAX_COST_PER_FTE: Final = 10_000_000
"""Largest cost of one FTE a year (``costs``), in the council's currency."""


_TEXT_REFUSED: Final = "expected a number, found text"


def refuse_text(value: Any) -> Any:
    """Let ``value`` through unless it is text.

    A policy file is TOML, whose numbers are typed: ``max_weeks = "26"`` is text, and
    pydantic's lax mode would read it as the number silently (a quoted value is more
    often a slip such as ``"2 weeks"`` than a number meant).

    Raises
    ------
    ValueError
        If ``value`` is a string.
    """
    if isinstance(value, str):
        raise ValueError(_TEXT_REFUSED)
    return value


NotText: Final = BeforeValidator(refuse_text)
"""Marks a policy number that refuses text (TOML numbers are written unquoted)."""

TypePoints = Annotated[float, ExactNumber, NotText, Ge(0), Le(MAX_TYPE_POINTS)]
Multiplier = Annotated[float, ExactNumber, NotText, Ge(0), Le(MAX_MULTIPLIER)]
CapPerFte = Annotated[float, ExactNumber, NotText, Gt(0), Le(MAX_POINTS)]
Share = Annotated[float, ExactNumber, NotText, Ge(0), Le(1)]
CostPerFte = Annotated[float, ExactNumber, NotText, Ge(0), Le(MAX_COST_PER_FTE)]
MaxComplexity = Annotated[int, ExactNumber, NotText, Ge(0), Le(4)]
WindowDays = Annotated[int, ExactNumber, NotText, Ge(0), Le(MAX_WINDOW_DAYS)]
AbsenceDays = Annotated[int, ExactNumber, NotText, Ge(1), Le(MAX_WINDOW_DAYS)]
NewFamilies = Annotated[int, ExactNumber, NotText, Ge(0), Le(MAX_NEW_FAMILIES)]


class GradeRule(Listed):
    """What a grade may hold: a complexity ceiling and types it never holds."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)
    UNORDERED = frozenset({"excluded_types"})

    max_complexity: MaxComplexity
    excluded_types: tuple[CaseType, ...] = ()


#: Most priority classes a policy may name (besides ``other``): each class multiplies
#: the range of a lexicographic weight, which must stay within 64 bits.
MAX_PRIORITY_CLASSES = 4
#: The name of the class every case no priority class names falls into (always last).
OTHER_CLASS = "other"
#: Statutory work (FORMAT.md "Who gets a worker first"): these children must never
#: wait on an unallocated list.
STATUTORY_TYPES: tuple[CaseType, ...] = (
    CaseType.CHILD_PROTECTION,
    CaseType.LOOKED_AFTER,
    CaseType.COURT,
    CaseType.ADOPTION,
)


class PriorityClass(Listed):
    """One class of "who gets a worker first" (FORMAT.md): a name and what it holds.

    Attributes
    ----------
    name
        Lower-case words joined by ``_``; the plan's tier key is ``unallocated_<name>``.
    cases
        Case types, and ``urgent`` for every urgent case whatever its type.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)
    UNORDERED = frozenset({"cases"})  # a case is in the class or not: no order

    name: str = Field(pattern=r"^[a-z][a-z0-9_]{0,39}$")
    cases: tuple[CaseType | Priority, ...] = Field(min_length=1)

    @field_validator("cases", mode="before")
    @classmethod
    def _urgent_or_types(cls, value: Any) -> Any:
        """Each member is a case type or ``urgent``, said in those words when it is not."""
        allowed = [t.value for t in CaseType] + [Priority.URGENT.value]
        if isinstance(value, list | tuple):
            wrong = [v for v in value if not isinstance(v, str) or v not in allowed]
            if wrong:
                raise ValueError(
                    f"{', '.join(repr(v) for v in wrong)} is not a case type or 'urgent'; "
                    f"expected any of {', '.join(allowed)}"
                )
        return value

    def holds(self, case: Case) -> bool:
        """Whether ``case`` belongs to this class (urgent, or of a type it names)."""
        return case.type in self.cases or (
            case.priority is Priority.URGENT and Priority.URGENT in self.cases
        )


#: Longest wait, in weeks, the ``age`` rules count (a child waiting longer counts as
#: one who has waited this long); keeps a class's weights within 64-bit range.
MAX_WAITING_WEEKS: Final = 52
Weeks = Annotated[int, ExactNumber, NotText, Ge(0), Le(MAX_WAITING_WEEKS)]


#: The default weeks of waiting that count as none within a class (``grace_weeks``):
#: the simulated year's choice (docs/FORMAT.md "Waiting").
GRACE_WEEKS: Final = 0
#: The default ``waiting.room_kept_share``: 10 % of a worker's cap kept for a higher
#: class while one of its children waits. Chosen by the simulated year
#: (``python -m benchmarks year``; benchmarks/YEAR.md "Room kept for the higher
#: classes").
ROOM_KEPT_SHARE: Final = 0.1


#: The default head start of a court child within their class (weeks): court work runs
#: to the court's timetable, and the simulated year served court children sooner with
#: it: 8 weeks before room was kept for the higher classes, 12 since (36 of 60 targets
#: against 33 on seeds 1-2; benchmarks/YEAR.md, docs/FORMAT.md "Waiting").
COURT_HEAD_START_WEEKS: Final = 12


class Waiting(Listed):
    """How waiting counts within a priority class (FORMAT.md "no child is starved";
    docs/FORMAT.md "Waiting").

    Attributes
    ----------
    rule
        What a child left without a worker costs within their class:

        - ``count``: 1 each (more children placed is better, whoever waited);
        - ``age``: 1 + whole weeks waited (up to ``max_weeks``), so a child who has
          waited longer outweighs a later one, and a month's wait outweighs four
          new referrals;
        - ``age_points``: ``age`` times the case's weight in half points, so a heavy
          child is not passed over for two light ones either.
    max_weeks
        Weeks of waiting beyond which a wait counts no more (1 to
        :data:`MAX_WAITING_WEEKS`).
    grace_weeks
        Weeks of a child's own wait that count as none (0 to ``max_weeks``; default
        :data:`GRACE_WEEKS`): ``age`` is 1 + the weeks waited beyond them, plus any
        head start below (which counts from the first day). Within them a class is
        served by weight under ``age_points`` (heaviest first, as the manager's rule
        does, so the usual wait stays short); beyond them the longest wait comes first
        (so the longest waits stay bounded). ``0``: every week counts. No effect under
        ``count``.
    reserve_after_days
        A statutory or urgent child who has waited this many days and fits with no
        eligible worker has room *reserved*: the eligible worker closest to fitting
        them takes no other child of their class or below until they fit
        (backfilling, as batch schedulers reserve room for the job at the head of
        the queue). ``0``: no reservations.
    room_kept_share
        Share of a worker's cap (0 to 1; default :data:`ROOM_KEPT_SHARE`) that a child
        of the last class (``other`` by default) may not take while a child of a
        higher class whom the worker's grade and skills allow has waited a day or
        more: the last room is kept for the higher class (trunk reservation, as a
        telephone exchange keeps its last lines for priority calls), so room freed by
        closures builds up for the children the classes put first instead of going
        to lighter, lower-class children. ``0``: none kept.
    lost_worker_weeks
        A child who has lost their worker (the worker has left, is leaving within the
        leaving window, is long absent or may no longer hold them; or no worker now,
        ``previous_workers`` given and ``waiting_since`` after ``opened``) counts this
        many weeks more than they have waited (up to ``max_weeks`` in all): within
        their class they come before children who have waited less than that for a
        first worker, so a handover is planned ahead and a gap in the child's work is
        short, but not before the longest waits. ``0``: their wait counts from the day
        it began, like a referral's. No effect under ``count``.
    type_weeks
        Case type -> weeks a child of that type counts more than they have waited
        (each 0 to :data:`MAX_WAITING_WEEKS`, at most ``max_weeks``; default court
        :data:`COURT_HEAD_START_WEEKS`, every other type 0):
        within their class such a child comes before children who have waited less
        than that longer, as a manager takes court work first for its timetable,
        without a class of its own (which would let a court child always pass any
        number of child-protection children). No effect under ``count``.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    rule: Literal["count", "age", "age_points"] = "age_points"
    max_weeks: Annotated[int, ExactNumber, NotText, Ge(1), Le(MAX_WAITING_WEEKS)] = 26
    grace_weeks: Weeks = GRACE_WEEKS
    reserve_after_days: WindowDays = 14
    room_kept_share: Share = ROOM_KEPT_SHARE
    lost_worker_weeks: Weeks = 4
    type_weeks: dict[CaseType, Weeks] = Field(
        default_factory=lambda: {CaseType.COURT: COURT_HEAD_START_WEEKS}
    )

    @model_serializer(mode="wrap")
    def _without_empty_type_weeks(self, handler: SerializerFunctionWrapHandler) -> Any:
        """The rule's data; ``type_weeks`` left out when empty and ``grace_weeks``
        when 0, so that a policy without them has the bytes (and the decision log's
        SHA-256 key) it had before the keys existed."""
        data = handler(self)
        if not self.type_weeks and isinstance(data, dict):
            data.pop("type_weeks", None)
        if not self.grace_weeks and isinstance(data, dict):
            data.pop("grace_weeks", None)
        return data

    @field_validator("lost_worker_weeks", "grace_weeks")
    @classmethod
    def _head_start_within_the_count(cls, value: int, info: ValidationInfo) -> int:
        most = info.data.get("max_weeks")
        if most is not None and value > most:
            beyond = (
                "beyond it no week would count"
                if info.field_name == "grace_weeks"
                else "a longer wait counts no more"
            )
            raise ValueError(f"at most max_weeks ({most}): {beyond}")
        return value

    @field_validator("type_weeks")
    @classmethod
    def _type_head_starts_within_the_count(
        cls, value: dict[CaseType, int], info: ValidationInfo
    ) -> dict[CaseType, int]:
        most = info.data.get("max_weeks")
        for kind, weeks in value.items():
            if most is not None and weeks > most:
                raise ValueError(
                    f"{kind.value}: {weeks} weeks, at most max_weeks ({most}): a longer "
                    "wait counts no more"
                )
        return value


def _default_priority_classes() -> tuple[PriorityClass, ...]:
    return (
        PriorityClass(name="urgent", cases=(Priority.URGENT,)),
        PriorityClass(name="statutory", cases=STATUTORY_TYPES),
    )


def _default_type_points() -> dict[CaseType, float]:
    return {
        CaseType.EARLY_HELP: 2,
        CaseType.CHILD_IN_NEED: 3,
        CaseType.CHILD_PROTECTION: 5,
        CaseType.LOOKED_AFTER: 4,
        CaseType.CARE_LEAVER: 2,
        CaseType.COURT: 7,
        CaseType.ADOPTION: 5,
    }


def _default_grades() -> dict[Grade, GradeRule]:
    never_student = (
        CaseType.CHILD_PROTECTION,
        CaseType.LOOKED_AFTER,
        CaseType.COURT,
        CaseType.ADOPTION,
    )
    return {
        Grade.STUDENT: GradeRule(max_complexity=1, excluded_types=never_student),
        Grade.NQSW: GradeRule(max_complexity=2, excluded_types=(CaseType.COURT, CaseType.ADOPTION)),
        Grade.SOCIAL_WORKER: GradeRule(max_complexity=3),
        Grade.SENIOR: GradeRule(max_complexity=4),
        Grade.CONSULTANT: GradeRule(max_complexity=4),
    }


class Policy(Listed):
    """Weights, caps and who-may-hold-what (FORMAT.md defaults built in).

    Attributes
    ----------
    type_points
        Points per case type before the complexity multiplier, 0 to
        :data:`MAX_TYPE_POINTS`.
    complexity_multiplier
        Multiplier for complexity 1, 2, 3, 4, each 0 to :data:`MAX_MULTIPLIER`.
    points_per_fte
        Weighted cap in points of a full-time practitioner with grade factor 1,
        above 0 and at most :data:`allocator.contract.models.MAX_POINTS`.
    grade_factor
        Share of the full cap per grade (protected caseloads), 0 to 1.
    grades
        Highest complexity (0 to 4) and excluded case types per grade.
    leaving_window_days
        No new case to a worker who leaves within this many days of ``as_of``
        (0 to :data:`MAX_WINDOW_DAYS`).
    long_absence_days
        An absence this long or longer from ``as_of`` has cases covered on rebalance
        (1 to :data:`MAX_WINDOW_DAYS` days).
    max_new_families_per_day
        No worker gets more new families than this in one run (0 to
        :data:`MAX_NEW_FAMILIES`).
    priority_classes
        Who gets a worker first, highest class first (FORMAT.md); every case no
        class names falls into a last class, ``other``. A case in a higher class is
        never left unallocated so that any number in lower classes can be allocated.
    look_ahead
        Long-term work (looked after, court, adoption) prefers staff likely to stay:
        the ``expected_changes`` tier (:func:`allocator.domain.objectives.expected_changes_cost`).
        ``false`` leaves the tier at 0 everywhere (docs/FORMAT.md "Look-ahead").
    waiting
        How waiting counts within a priority class (:class:`Waiting`).
    over_cap_classes
        The priority classes whose children a manager may give a worker over their
        cap, by a documented exception with a reason (docs/FORMAT.md "Over cap by a
        manager's exception"); names from :attr:`class_names`, each once. Default:
        every priority class above ``other`` (``urgent`` and ``statutory`` with the
        default classes; a policy that renames or drops classes keeps working);
        ``[]`` allows no exception.
    over_cap_relief_after
        The priority class after which a rebalance relieves workers over their cap
        (:func:`allocator.domain.objectives.classes_before_relief`): it places the
        children of that class and every class above it first, then brings workers
        back within cap, then places the classes below. The name of a class above
        the last (``other``); ``None`` (the default, and what the first class's name
        becomes): the first class (urgent), the order the simulated year showed no
        worse (docs/FORMAT.md "Over-cap relief").
    costs
        The council's own cost of one FTE a year, by grade and contract
        (``[costs.social_worker] agency = 78000``), in its own currency, 0 to
        :data:`MAX_COST_PER_FTE`; read only by ``allocator capacity`` to price extra
        staff. Empty by default: the project's sources hold no published pay or
        agency figure to build in (docs/FORECAST.md, "Costs").

    Raises
    ------
    PolicyInvalid
        On construction (and from ``model_validate``), one sentence per key refused,
        naming it as a policy file would write it, what was found and what was
        expected (``Policy: key 'waiting.room_kept_share' is 2, expected a number from
        0 to 1.``), as a file's policy is refused (:func:`policy_over`). A
        :class:`PolicyError` and pydantic's ``ValidationError`` (both ``ValueError``),
        for code that catches either.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)
    UNORDERED = frozenset({"over_cap_classes"})

    def __init__(self, **data: Any) -> None:
        # A council system building a policy in code reads the sentences a policy
        # file gets, not pydantic's dump with its links and a default's knock-on error.
        try:
            super().__init__(**data)
        except PolicyInvalid:
            raise
        except ValidationError as exc:
            raise PolicyInvalid.of(exc, data) from None

    @classmethod
    def model_validate(cls, obj: Any, *args: Any, **kwargs: Any) -> Self:
        """As pydantic's, refusing with a :class:`PolicyInvalid`."""
        try:
            return super().model_validate(obj, *args, **kwargs)
        except PolicyInvalid:
            raise
        except ValidationError as exc:
            raise PolicyInvalid.of(exc, obj if isinstance(obj, dict) else {}) from None

    type_points: dict[CaseType, TypePoints] = Field(default_factory=_default_type_points)
    complexity_multiplier: tuple[Multiplier, Multiplier, Multiplier, Multiplier] = (
        0.75,
        1.0,
        1.5,
        2.0,
    )
    points_per_fte: CapPerFte = 100.0
    grade_factor: dict[Grade, Share] = Field(
        default_factory=lambda: {
            Grade.STUDENT: 0.3,
            Grade.NQSW: 0.8,
            Grade.SOCIAL_WORKER: 1.0,
            Grade.SENIOR: 1.0,
            Grade.CONSULTANT: 1.0,
        }
    )
    grades: dict[Grade, GradeRule] = Field(default_factory=_default_grades)
    leaving_window_days: WindowDays = 28
    long_absence_days: AbsenceDays = 28
    max_new_families_per_day: NewFamilies = 3
    look_ahead: Annotated[bool, Field(strict=True)] = True
    priority_classes: tuple[PriorityClass, ...] = Field(
        default_factory=_default_priority_classes, max_length=MAX_PRIORITY_CLASSES
    )
    waiting: Waiting = Field(default_factory=Waiting)
    over_cap_classes: tuple[str, ...] = Field(
        default_factory=lambda data: tuple(c.name for c in data.get("priority_classes", ()))
    )
    over_cap_relief_after: Annotated[str, Field(strict=True)] | None = None
    costs: dict[Grade, dict[Contract, CostPerFte]] = Field(default_factory=dict)

    @model_serializer(mode="wrap")
    def _without_unset_keys(self, handler: SerializerFunctionWrapHandler) -> Any:
        """The policy's data; ``costs`` left out when empty and
        ``over_cap_relief_after`` when not set, so that a policy without them has the
        bytes (and the decision log's SHA-256 key) it had before the keys existed."""
        data = handler(self)
        if not self.costs and isinstance(data, dict):
            data.pop("costs", None)
        if self.over_cap_relief_after is None and isinstance(data, dict):
            data.pop("over_cap_relief_after", None)
        return data

    @field_validator("priority_classes")
    @classmethod
    def _distinct_class_names(cls, value: tuple[PriorityClass, ...]) -> tuple[PriorityClass, ...]:
        names = [c.name for c in value]
        if OTHER_CLASS in names:
            raise ValueError(
                f"'{OTHER_CLASS}' is the class every case no class names falls into, always "
                "last: give this class another name (or leave its cases out to rank them last)"
            )
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            raise ValueError(f"class names must differ ({', '.join(repeated)} repeated)")
        earlier: set[CaseType | Priority] = set()
        for klass in value:
            members = [m.value for m in klass.cases]
            twice = sorted({m for m in members if members.count(m) > 1})
            if twice:
                raise ValueError(f"class '{klass.name}' names {', '.join(twice)} twice")
            # A case goes to the first class that holds it: a class whose every member
            # an earlier class names (or after classes naming every type) holds none.
            if set(klass.cases) <= earlier or set(CaseType) <= earlier:
                raise ValueError(
                    f"class '{klass.name}' can hold no case: every case it names goes to an "
                    "earlier class (a case belongs to the first class that names its type, "
                    "or 'urgent' for an urgent one)"
                )
            earlier |= set(klass.cases)
        return value

    @field_validator("over_cap_classes")
    @classmethod
    def _over_cap_classes_named(cls, value: tuple[str, ...], info: ValidationInfo) -> Any:
        classes = info.data.get("priority_classes")
        if classes is None:
            return value  # the classes were refused themselves: said there
        names = (*(c.name for c in classes), OTHER_CLASS)
        repeated = sorted({n for n in value if value.count(n) > 1})
        if repeated:
            raise ValueError(f"each class once ({', '.join(map(repr, repeated))} repeated)")
        unknown = [n for n in value if n not in names]
        if unknown:
            raise ValueError(
                f"{', '.join(repr(n) for n in unknown)} is not a priority class"
                f"{_dropped_by(unknown, classes)}; expected any of {', '.join(names)}"
            )
        return value

    @field_validator("over_cap_relief_after", mode="before")
    @classmethod
    def _relief_after_a_class(cls, value: Any, info: ValidationInfo) -> Any:
        classes = info.data.get("priority_classes")
        if value is None or classes is None:
            return value  # not set, or the classes were refused themselves: said there
        names = (*(c.name for c in classes), OTHER_CLASS)
        # Relief after the last class would leave a worker over cap whenever any child
        # could use the room (and the search then misses reliefs nobody needed the
        # room for): a class above the last, or the only one.
        allowed = names[: max(1, len(names) - 1)]
        if not isinstance(value, str):
            raise ValueError(
                f"expected the name of one of the classes {', '.join(allowed)}, "
                f"got {describe_value(value)}"
            )
        if value not in allowed:
            last = " (the last class: relief would wait for every child)" if value in names else ""
            raise ValueError(
                f"{describe_value(value)} is not a class relief may follow{last}"
                f"{_dropped_by([value], classes)}{did_you_mean(value, allowed)}"
            )
        # The first class is the default: kept as not set, so the policy has the bytes
        # (and decision-log key) of one that does not name it.
        return None if value == names[0] else value

    # ------------------------------------------------------------------ derived values

    @property
    def class_names(self) -> tuple[str, ...]:
        """The priority classes' names, highest first, ending with ``other``."""
        return (*(c.name for c in self.priority_classes), OTHER_CLASS)

    def priority_class(self, case: Case) -> int:
        """The index in :attr:`class_names` of the first class holding ``case``."""
        for index, klass in enumerate(self.priority_classes):
            if klass.holds(case):
                return index
        return len(self.priority_classes)

    def class_name(self, case: Case) -> str:
        """The name of the priority class holding ``case`` (``other`` when none does)."""
        return self.class_names[self.priority_class(case)]

    def may_exceed_cap(self, case: Case) -> bool:
        """Whether a manager may give ``case`` to a worker over their cap, by exception
        (its class is among :attr:`over_cap_classes`)."""
        return self.class_name(case) in self.over_cap_classes

    def case_weight(self, case: Case) -> float:
        """The case's explicit ``weight``, else type points x complexity multiplier."""
        if case.weight is not None:
            return case.weight
        return self.type_points[case.type] * self.complexity_multiplier[case.complexity - 1]

    def capacity(self, practitioner: Practitioner) -> float:
        """The practitioner's ``capacity_points``, else points per FTE x fte x grade factor."""
        if practitioner.capacity_points is not None:
            return practitioner.capacity_points
        return self.points_per_fte * practitioner.fte * self.grade_factor[practitioner.grade]

    def with_overrides(self, **values: Any) -> Policy:
        """A copy with top-level numbers replaced, validated (e.g. ``points_per_fte=90``).

        Raises
        ------
        PolicyError
            If a value is outside its domain or a key is unknown.
        """
        return policy_over(self, values, "policy override")


#: The policy figures a rebalance may override from the command line
#: (``rebalance --points-per-fte 90``); a plan records those it was made with in its
#: ``settings``, and is judged under the same (``check``).
POLICY_OVERRIDES: Final = (
    "points_per_fte",
    "long_absence_days",
    "max_new_families_per_day",
    "leaving_window_days",
)


def overrides_of(settings: Mapping[str, object]) -> dict[str, int | float]:
    """The policy overrides a plan's ``settings`` record: each key of
    :data:`POLICY_OVERRIDES` holding a number, in that order (``{}``: none)."""
    return {
        key: value
        for key in POLICY_OVERRIDES
        if isinstance(value := settings.get(key), int | float)
    }


def overrides_said(overrides: Mapping[str, int | float]) -> str:
    """Overrides as the command line gives them (``--points-per-fte 90``), or "no
    override"."""
    return (
        ", ".join(f"--{k.replace('_', '-')} {v:g}" for k, v in overrides.items()) or "no override"
    )


def _dropped_by(named: Sequence[str], classes: Sequence[PriorityClass]) -> str:
    """Where a key names a built-in class its own ``priority_classes`` drop (a fresh
    user's file kept ``over_cap_classes`` after emptying the classes, and was told only
    of that key): the classes the policy does name."""
    built_in = {c.name for c in _default_priority_classes()}
    if not any(n in built_in for n in named):
        return ""
    if not classes:
        return " (the policy's priority_classes name no class, so every case is 'other')"
    return f" (the policy's priority_classes name {', '.join(c.name for c in classes)})"


def _deep_merge(base: dict[str, Any], update: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in update.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


class PolicyError(AllocatorError, ValueError):
    """A policy file that cannot be read or holds an unknown key or impossible value
    (an :class:`~allocator.contract.faults.AllocatorError` and a ``ValueError``)."""


class PolicyInvalid(ValidationError, PolicyError):
    """A policy built in code (:class:`Policy`) with keys out of their domains, one
    sentence a key, in the words a policy file's problems get.

    Pydantic's ``ValidationError`` (what ``Policy(...)`` always raised) and a
    :class:`PolicyError`; only its message is the house's, without pydantic's dump,
    links, or the knock-on error of a default drawn from a refused key. ``errors()``
    keeps pydantic's details.
    """

    data: dict[str, Any]

    @classmethod
    def of(cls, exc: ValidationError, data: dict[str, Any]) -> PolicyInvalid:
        """``exc`` (pydantic's, from validating :class:`Policy` on ``data``) in the
        house's words."""
        error = cls.from_exception_data(exc.title, rebuilt_errors(exc))
        error.data = data
        return error

    def __str__(self) -> str:
        return _policy_problems("Policy", self, self.data)


def policy_over(base: Policy, values: dict[str, Any], source: str) -> Policy:
    """``base`` with ``values`` (a policy file's tables, or top-level numbers) merged
    in and validated.

    Raises
    ------
    PolicyError
        One sentence per problem, naming ``source`` (a file, or "policy override"),
        the key as written, what was found and what was expected.
    """
    merged = _deep_merge(base.model_dump(mode="json"), values)
    for follows in ("over_cap_classes", "over_cap_relief_after"):
        if "priority_classes" in values and follows not in values:
            merged.pop(follows, None)  # the default follows the classes given
    try:
        return Policy.model_validate(merged)
    except ValidationError as exc:
        raise PolicyError(_policy_problems(source, exc, values)) from None


def _key_path(loc: tuple[int | str, ...]) -> str:
    """A pydantic location in the policy file's own words: ``grades.nqsw.excluded_types[0]``."""
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _enum_keys(table: tuple[int | str, ...]) -> list[str]:
    """The names the table at ``table`` (``("type_points",)``, ``("costs", "senior")``)
    may have as keys when they are an enum's (case types, grades, contracts); else none."""
    annotation: Any = Policy
    for part in table:
        annotation = unwrapped(annotation)
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            field = annotation.model_fields.get(str(part))
            if field is None:
                return []
            annotation = field.annotation
        elif get_origin(annotation) is dict:
            annotation = get_args(annotation)[1]
        else:
            return []
    annotation = unwrapped(annotation)
    key = get_args(annotation)[0] if get_origin(annotation) is dict else None
    return [str(e.value) for e in key] if isinstance(key, type) and issubclass(key, Enum) else []


@cache
def _key_paths(model: type[BaseModel], prefix: str = "") -> tuple[str, ...]:
    """Every key of the policy file's fixed tables, written as a path
    (``waiting.room_kept_share``); tables keyed by a grade or case type are not walked."""
    paths: list[str] = []
    for name, field in model.model_fields.items():
        paths.append(prefix + name)
        inner = unwrapped(field.annotation)
        if isinstance(inner, type) and issubclass(inner, BaseModel):
            paths += _key_paths(inner, f"{prefix}{name}.")
    return tuple(paths)


def _unknown_key_hint(loc: tuple[int | str, ...], known: Iterable[str]) -> str:
    """What to write instead of an unknown key: the same key in another table
    ("; did you mean 'waiting.room_kept_share'?", a key put in the wrong table), else a
    close name in its own table, else a close key anywhere, else its table's keys."""
    name = str(loc[-1])
    here = ".".join(str(p) for p in loc[:-1] if isinstance(p, str))
    elsewhere = [p for p in _key_paths(Policy) if p.rsplit(".", 1)[-1] == name and p != here]
    if elsewhere:
        return f"; did you mean {elsewhere[0]!r}?"
    known = list(known)
    match = typo_match(name, known) or next(
        (
            p
            for p in _key_paths(Policy)
            if p.rpartition(".")[0] != here and is_typo_of(name, p.rpartition(".")[2])
        ),
        None,
    )
    return f"; did you mean {match!r}?" if match is not None else did_you_mean(name, known)


def _policy_problem(err: ErrorDetails, data: dict[str, Any]) -> str:
    """One validation error of a policy, as a sentence about its keys and values.

    Empty for an error that only repeats another (a list too short because an item
    was refused).
    """
    where = locate(Policy, tuple(err["loc"]))
    loc, kind, ctx = where.loc, err["type"], err.get("ctx") or {}
    key = _key_path(loc)
    if loc and loc[-1] == "[key]":  # a table's key that is not a case type or grade
        table = loc[:-2]
        match = typo_match(str(loc[-2]), _enum_keys(table))
        hint = (
            f"; did you mean {match!r}?"
            if match is not None
            else f", expected {locate(Policy, (*table, '[key]')).expected}"
        )
        return f"[{_key_path(table)}] has the key {describe_value(loc[-2])}{hint}"
    if kind == "extra_forbidden":
        known = where.owner.model_fields if where.owner is not None else ()
        return f"unknown key {key!r}" + _unknown_key_hint(loc, known)
    if kind in ("missing", "too_short", "too_long") and loc[:1] == ("complexity_multiplier",):
        given = data.get("complexity_multiplier")
        count = f"{len(given)} values" if isinstance(given, list) else "a value"
        return (
            f"key 'complexity_multiplier' has {count}, expected a list of 4 numbers (one "
            f"per complexity 1 to 4), each {expected_at(Policy, ('complexity_multiplier', 0))}"
        )
    if kind == "missing":
        return f"key {key!r} is missing, expected {_in_toml(where.expected)}"
    if kind in ("too_short", "too_long"):
        given_items = err["input"]
        if kind == "too_short" and len(given_items) >= ctx.get("min_length", 0):
            return ""  # long enough as written: an item was refused, and is reported
        bound = (
            f"at least {ctx.get('min_length')}"
            if kind == "too_short"
            else f"at most {ctx.get('max_length')}"
        )
        return f"key {key!r} has {ctx.get('actual_length')} items, expected {bound}"
    found = describe_value(err["input"])
    if kind in REASONED_ERRORS:  # a number not exact, a set for a list: why, in its words
        return f"key {key!r} is {found}, expected {_in_toml(where.expected)}: {err['msg']}"
    refused = isinstance(err["input"], bool) or str(err["msg"]).endswith(_TEXT_REFUSED)
    if kind == "value_error" and not refused:  # a rule of the policy's
        return f"key {key!r}: {str(err['msg']).removeprefix('Value error, ')}"
    expected = _in_toml(where.expected)
    if refused and isinstance(err["input"], str):
        expected += ", written without quotes"
    if kind == "string_pattern_mismatch":
        expected += f" matching the pattern {ctx.get('pattern')}"
    return f"key {key!r} is {found}, expected {expected}"


def _in_toml(expected: str) -> str:
    """A description of a value in TOML's words: a mapping is a table."""
    return (
        expected.replace("an object mapping names to an object", "a table of tables")
        .replace("an object mapping names to", "a table of")
        .replace("an object", "a table")
    )


def _policy_problems(source: str, exc: ValidationError, data: dict[str, Any]) -> str:
    """Every error of ``exc`` as a sentence naming ``source``, one a line."""
    problems = []
    for err in exc.errors():
        if err["type"] == "default_factory_not_called":
            continue  # a default drawn from a value refused itself: said there
        problem = _policy_problem(err, data)
        if problem:
            text = f"{source}: {problem}"
            problems.append(text if text.endswith("?") else text + ".")
    return "\n".join(dict.fromkeys(problems))
