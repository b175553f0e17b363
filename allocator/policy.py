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
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from allocator.models import Case, CaseType, Grade, Practitioner


class GradeRule(BaseModel):
    """What a grade may hold: a complexity ceiling and types it never holds."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    max_complexity: int = Field(ge=0, le=4)
    excluded_types: tuple[CaseType, ...] = ()


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
