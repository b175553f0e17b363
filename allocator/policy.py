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

import tomllib
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from allocator.models import Case, CaseType, Grade, Practitioner, Priority


class GradeRule(BaseModel):
    """What a grade may hold: a complexity ceiling and types it never holds."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    max_complexity: int = Field(ge=0, le=4)
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


class PriorityClass(BaseModel):
    """One class of "who gets a worker first" (FORMAT.md): a name and what it holds.

    Attributes
    ----------
    name
        Lower-case words joined by ``_``; the plan's tier key is ``unallocated_<name>``.
    cases
        Case types, and ``urgent`` for every urgent case whatever its type.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=r"^[a-z][a-z0-9_]{0,39}$")
    cases: tuple[CaseType | Priority, ...] = Field(min_length=1)

    @field_validator("cases")
    @classmethod
    def _urgent_or_types(
        cls, value: tuple[CaseType | Priority, ...]
    ) -> tuple[CaseType | Priority, ...]:
        if Priority.STANDARD in value:
            raise ValueError("'standard' is not a class member: name case types or 'urgent'")
        return value

    def holds(self, case: Case) -> bool:
        """Whether ``case`` belongs to this class (urgent, or of a type it names)."""
        return case.type in self.cases or (
            case.priority is Priority.URGENT and Priority.URGENT in self.cases
        )


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


class Policy(BaseModel):
    """Weights, caps and who-may-hold-what (FORMAT.md defaults built in).

    Attributes
    ----------
    type_points
        Points per case type before the complexity multiplier.
    complexity_multiplier
        Multiplier for complexity 1, 2, 3, 4.
    points_per_fte
        Weighted cap of a full-time practitioner with grade factor 1.
    grade_factor
        Share of the full cap per grade (protected caseloads).
    grades
        Highest complexity and excluded case types per grade.
    leaving_window_days
        No new case to a worker who leaves within this many days of ``as_of``.
    long_absence_days
        An absence this long or longer from ``as_of`` has cases covered on rebalance.
    max_new_families_per_day
        No worker gets more new families than this in one run.
    priority_classes
        Who gets a worker first, highest class first (FORMAT.md); every case no
        class names falls into a last class, ``other``. A case in a higher class is
        never left unallocated so that any number in lower classes can be allocated.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    type_points: dict[CaseType, float] = Field(default_factory=_default_type_points)
    complexity_multiplier: tuple[float, float, float, float] = (0.75, 1.0, 1.5, 2.0)
    points_per_fte: float = Field(default=100.0, gt=0)
    grade_factor: dict[Grade, float] = Field(
        default_factory=lambda: {
            Grade.STUDENT: 0.3,
            Grade.NQSW: 0.8,
            Grade.SOCIAL_WORKER: 1.0,
            Grade.SENIOR: 1.0,
            Grade.CONSULTANT: 1.0,
        }
    )
    grades: dict[Grade, GradeRule] = Field(default_factory=_default_grades)
    leaving_window_days: int = Field(default=28, ge=0)
    long_absence_days: int = Field(default=28, ge=1)
    max_new_families_per_day: int = Field(default=3, ge=0)
    priority_classes: tuple[PriorityClass, ...] = Field(
        default_factory=_default_priority_classes, max_length=MAX_PRIORITY_CLASSES
    )

    @field_validator("priority_classes")
    @classmethod
    def _distinct_class_names(cls, value: tuple[PriorityClass, ...]) -> tuple[PriorityClass, ...]:
        names = [c.name for c in value]
        if OTHER_CLASS in names:
            raise ValueError(f"'{OTHER_CLASS}' is the class of every case no class names")
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            raise ValueError(f"class names must differ ({', '.join(repeated)} repeated)")
        return value

    @field_validator("type_points", "grade_factor")
    @classmethod
    def _non_negative(cls, value: dict[Any, float]) -> dict[Any, float]:
        bad = [str(k) for k, v in value.items() if v < 0]
        if bad:
            raise ValueError(f"must be >= 0 (negative for {', '.join(bad)})")
        return value

    @field_validator("complexity_multiplier")
    @classmethod
    def _positive_multipliers(
        cls, value: tuple[float, float, float, float]
    ) -> tuple[float, float, float, float]:
        if any(v < 0 for v in value):
            raise ValueError("multipliers must be >= 0")
        return value

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
        """A copy with top-level numbers replaced, validated (e.g. ``points_per_fte=90``)."""
        return Policy.model_validate(_deep_merge(self.model_dump(mode="json"), values))


def _deep_merge(base: dict[str, Any], update: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in update.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


class PolicyError(ValueError):
    """A policy file that cannot be read or holds an unknown key or impossible value."""


def load_policy(path: str | Path | None = None) -> Policy:
    """Read a TOML policy file over the built-in defaults; ``None`` gives the defaults.

    Raises
    ------
    PolicyError
        Naming the file, the key and what was expected.
    """
    if path is None:
        return Policy()
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise PolicyError(f"{path}: cannot read policy file ({exc.strerror})") from None
    except tomllib.TOMLDecodeError as exc:
        raise PolicyError(f"{path}: not valid TOML: {exc}") from None
    try:
        return Policy().with_overrides(**data)
    except ValidationError as exc:
        lines = [
            f"{path}: key '{'.'.join(str(p) for p in err['loc'])}': {err['msg']}"
            + (f" (found {err['input']!r})" if not isinstance(err["input"], dict) else "")
            for err in exc.errors()
        ]
        raise PolicyError("\n".join(lines)) from None
