"""The settings of a solve, one object for every solve: allocate, rebalance, cap cost.

The command line, the meeting's re-solves, the simulation and a library caller all
build one :class:`Settings` and hand it down whole; it is checked once, here, against
the value domains of :mod:`allocator.contract.limits`. Part of the contract with the user,
beside :mod:`allocator.contract.models` and :mod:`allocator.contract.policy`; no solver import.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Annotated, Any, Final, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, field_validator

from allocator.contract.faults import AllocatorError, did_you_mean, kind_of, non_finite
from allocator.contract.limits import MAX_SEED, MAX_TIME_LIMIT, MAX_WORKERS
from allocator.contract.models import ExactNumber, exact_number, rebuilt_errors

#: Work units per second of a user's time limit. CP-SAT does 0.34 to 0.47 units a
#: second of CPU on these models on the 2-core machine we measure on (the stretched
#: 150-practitioner day: 10.5 units in 24.8 CPU seconds, whole models included), and
#: the Python side takes time too. 0.3 leaves room for a machine shared with other
#: work, so a search normally ends on its work budget, the same on any machine, before
#: the wall-clock guard (measured: the same day took 37 s of wall time for 10.5 units
#: with two other jobs on the machine).
WORK_PER_SECOND = 0.3
#: ``work_units`` asking for a budget calibrated to the machine at start-up
#: (:func:`allocator.engine.budget.calibrated`).
AUTO_WORK: Final = "auto"


@dataclass(frozen=True)
class Progress:
    """Where a running solve is, for a progress display (no solver types).

    Attributes
    ----------
    tier
        The key of the tier being solved (``unallocated_statutory``, ``balance`` ...).
    stage, stages
        Its stage, counted from 1, of how many.
    value
        The best plan's value on that tier so far, in plan units.
    bound
        The best value any plan could reach on it (with the tiers above held), as far
        as proved so far.
    """

    tier: str
    stage: int
    stages: int
    value: int | float
    bound: int | float


#: A callable told of each step of a solve (the command line draws it; the engine
#: knows nothing of the display).
ProgressCallback = Callable[[Progress], None]


def means_auto(value: object) -> bool:
    """Whether a ``work_units`` value asks for :data:`AUTO_WORK`: the word, whatever its
    case and surrounding spaces (the library and the command line read it alike)."""
    return isinstance(value, str) and value.strip().casefold() == AUTO_WORK


#: What each setting expects, in words: the end of every sentence refusing one.
EXPECTED: Final = {
    "time_limit": f"a number of seconds above 0 and at most {MAX_TIME_LIMIT:,.0f}",
    "work_units": (
        f"a number above 0 and at most {MAX_TIME_LIMIT:,.0f}, '{AUTO_WORK}' (calibrated to "
        "this machine) or None (the time limit's worth)"
    ),
    "seed": f"a whole number from 0 to {MAX_SEED:,}",
    "workers": f"a whole number from 1 to {MAX_WORKERS:,}",
    "progress": "a callable taking a Progress, or None",
}


class SettingsError(ValidationError, AllocatorError):
    """Settings outside their domains, one sentence a setting: ``Settings: time_limit is
    -1, expected a number of seconds above 0 and at most 86,400``.

    A pydantic ``ValidationError`` (so a ``ValueError``), as :class:`Settings` always
    raised, for code that catches either, and an
    :class:`~allocator.contract.faults.AllocatorError`; only its message is the house's,
    without pydantic's dump and links. ``errors()`` keeps pydantic's details.

    Attributes
    ----------
    call
        What was called: ``Settings``, or the public function whose shorthand
        (``allocate(time_limit=...)``) or settings were refused.
    """

    call: str = "Settings"

    @classmethod
    def of(cls, exc: ValidationError, call: str = "Settings") -> SettingsError:
        """``exc`` (pydantic's, from validating :class:`Settings`) in the house's words."""
        error = cls.from_exception_data(exc.title, rebuilt_errors(exc))
        error.call = call
        return error

    @property
    def problems(self) -> list[str]:
        """One sentence per refused setting, in the order given."""
        return settings_problems(self, self.call)

    def __str__(self) -> str:
        return "\n".join(self.problems)


def settings_problems(exc: ValidationError, call: str) -> list[str]:
    """Each error of ``exc`` as a sentence naming ``call``, the setting, the value
    given and what the setting expects."""
    out: list[str] = []
    for err in exc.errors():
        name = str(err["loc"][0]) if err["loc"] else "settings"
        value = err["input"]
        if err["type"] == "extra_forbidden":
            out.append(f"{call}: unknown setting {name!r}" + did_you_mean(name, EXPECTED))
            continue
        expected = EXPECTED.get(name, str(err["msg"]).removeprefix("Value error, "))
        shown = shown_value(value)
        if err["type"] == "number_not_exact":  # models.exact_number: why, in its words
            out.append(f"{call}: {name} is {shown}, expected {expected}: {err['msg']}")
            continue
        if (said := non_finite(value)) is not None:
            out.append(f"{call}: {name} is {said}, expected {expected}")
            continue
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            out.append(f"{call}: {name} is {kind_of(value)} ({shown}), expected {expected}")
        elif isinstance(value, str) and name != "work_units":
            out.append(f"{call}: {name} is text ({shown}), expected {expected}, not text")
        else:
            out.append(f"{call}: {name} is {shown}, expected {expected}")
    return list(dict.fromkeys(out))


def shown_value(value: object) -> str:
    """``value`` as a message quotes it back: its ``repr``, cut to 40 characters."""
    shown = repr(value)
    return shown if len(shown) <= 40 else shown[:37] + "..."


#: A fixed work budget's domain.
_BUDGET: TypeAdapter[float] = TypeAdapter(
    Annotated[float, Field(gt=0, le=MAX_TIME_LIMIT, allow_inf_nan=False)]
)


class Settings(BaseModel):
    """How long and how a solve searches; the defaults are deterministic.

    Attributes
    ----------
    time_limit
        Wall-clock seconds for the whole call, above 0 and at most 86,400. When it is
        reached the best plan found comes back with status ``feasible`` and its proven
        bounds. Default 30.
    work_units
        The search's work budget in CP-SAT deterministic units, above 0 and at most
        86,400, fixed whatever the time limit; ``None`` (the default): ``time_limit``
        converted at :data:`WORK_PER_SECOND`. The budget, not the clock, decides where
        the search stops, so a caller that needs the same plan on any machine (a test,
        an audit re-run) fixes it and gives ``time_limit`` ample room. ``"auto"``
        (:data:`AUTO_WORK`): the limit converted at this machine's speed, measured when
        the solve starts (:func:`allocator.engine.budget.calibrated`), so the search
        uses the time it is given; the plan records the budget it used, which
        reproduces it.
    seed
        CP-SAT's random seed, 0 to 2,147,483,647. Default 0.
    workers
        CP-SAT search threads, 1 to 256; above 1, CP-SAT's interleaved (still
        deterministic) parallel search. Default 1.
    progress
        Called with a :class:`Progress` as each tier's stage
        starts and improves (a progress display; no effect on the plan); ``None``
        (the default): no reports.

    Raises
    ------
    SettingsError
        On construction (and from :meth:`model_validate`, :meth:`from_record`), one
        sentence per setting refused, naming it, the value given and what it expects:
        ``Settings: seed is -1, expected a whole number from 0 to 2,147,483,647``. A
        ``ValueError`` (and pydantic's ``ValidationError``, as it always was).

    Examples
    --------
    >>> Settings(work_units=3, time_limit=600).work
    3.0
    >>> Settings(time_limit=10).work
    3.0
    """

    # Strict: True is not a time limit, nor "10" a number (a caller's slip, refused).
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False, strict=True)

    time_limit: Annotated[float, ExactNumber, Field(gt=0, le=MAX_TIME_LIMIT)] = 30.0
    work_units: Annotated[float, Field(gt=0, le=MAX_TIME_LIMIT)] | Literal["auto"] | None = None
    seed: Annotated[int, ExactNumber, Field(ge=0, le=MAX_SEED)] = 0
    workers: Annotated[int, ExactNumber, Field(ge=1, le=MAX_WORKERS)] = 1

    @field_validator("work_units", mode="before")
    @classmethod
    def _a_budget_or_auto(cls, value: Any) -> Any:
        """One sentence for a bad budget (a union would say two, one per member)."""
        if value is None:
            return value
        if means_auto(value):
            return AUTO_WORK
        value = exact_number(value)
        try:
            return _BUDGET.validate_python(value, strict=True)
        except ValidationError:
            raise ValueError(
                f"expected a number above 0 and at most {MAX_TIME_LIMIT:g}, or '{AUTO_WORK}'"
            ) from None

    # Not part of the plan's record (:meth:`record`): it only watches.
    progress: Annotated[Callable[[Progress], None] | None, Field(exclude=True, repr=False)] = None

    def __init__(self, **data: Any) -> None:
        try:
            super().__init__(**data)
        except SettingsError:
            raise
        except ValidationError as exc:
            raise SettingsError.of(exc) from None

    @classmethod
    def model_validate(cls, *args: Any, **kwargs: Any) -> Self:
        """As pydantic's, refusing with a :class:`SettingsError`."""
        try:
            return super().model_validate(*args, **kwargs)
        except SettingsError:
            raise
        except ValidationError as exc:
            raise SettingsError.of(exc) from None

    @property
    def work(self) -> float:
        """The search's whole work budget, in CP-SAT deterministic units.

        Raises
        ------
        ValueError
            If ``work_units`` is ``"auto"``: the solve calibrates it first.
        """
        if self.work_units == AUTO_WORK:
            raise ValueError(
                "work_units='auto' has no budget until the solve calibrates it "
                "(allocator.engine.budget.calibrated)"
            )
        return self.time_limit * WORK_PER_SECOND if self.work_units is None else self.work_units

    def record(self) -> dict[str, float | int]:
        """The settings as a plan records them (``Plan.settings``): what reproduces it.

        ``time_limit``, ``seed`` and ``workers``, and ``work_units`` when fixed.
        """
        out: dict[str, float | int] = {
            "time_limit": self.time_limit,
            "seed": self.seed,
            "workers": self.workers,
        }
        if isinstance(self.work_units, float | int):  # "auto" is recorded as calibrated
            out["work_units"] = self.work_units
        return out

    @classmethod
    def from_record(cls, record: Mapping[str, Any]) -> Settings:
        """The settings a plan records (:meth:`record`); other keys are ignored.

        Raises
        ------
        ValueError
            If a recorded setting is outside its domain.
        """
        return cls.model_validate({k: record[k] for k in cls.recorded_keys() if k in record})

    @staticmethod
    def recorded_keys() -> tuple[str, ...]:
        """The keys :meth:`record` may write, in order."""
        return ("time_limit", "seed", "workers", "work_units")


def calibrated_note(asked: Settings, used: Settings, *, cut_short: bool) -> list[str]:
    """The plan's note on a budget calibrated to the machine (``asked`` had
    ``work_units="auto"``, ``used`` the number it became); none otherwise. A search
    the clock cut short did not spend it, so the number would not reproduce the plan."""
    if asked.work_units != AUTO_WORK or used.work_units == AUTO_WORK:
        return []
    units = f"{used.work_units:g} unit{'' if used.work_units == 1 else 's'}"
    said = (
        f"work budget {units}, calibrated to this machine's speed for what was left of "
        f"the {asked.time_limit:g}-second limit (work units 'auto')"
    )
    if cut_short:
        return [f"{said}; the clock stopped the search before it spent the budget"]
    return [
        f"{said}; a fixed budget of {units} with an ample time limit reproduces this "
        f"plan on any machine (--work-units {used.work_units:g})"
    ]


def resolve_settings(
    settings: Settings | None,
    *,
    time_limit: float | None = None,
    work_units: float | Literal["auto"] | None = None,
    call: str = "Settings",
) -> Settings:
    """The settings of a call: ``settings``, or the ``time_limit`` and ``work_units``
    shorthands of :func:`allocator.allocate` and :func:`allocator.rebalance` (README:
    ``allocate(snapshot, policy, time_limit=10)``), or the defaults.

    ``settings`` is validated again, as the door validates every model: a copy made
    with pydantic's ``model_copy(update=...)`` is never checked by its constructor.

    Raises
    ------
    TypeError
        If ``settings`` and a shorthand are both given.
    SettingsError
        A ``ValueError``: a shorthand, or a setting of ``settings``, outside its
        domain, named with ``call`` (``allocate: time_limit is -1, expected ...``).
    """
    shorthand = {
        k: v for k, v in (("time_limit", time_limit), ("work_units", work_units)) if v is not None
    }
    if settings is not None:
        if shorthand:
            raise TypeError(
                f"{call}: give {', '.join(shorthand)} in settings or as keyword(s), not both: "
                f"Settings({', '.join(f'{k}={v!r}' for k, v in shorthand.items())}, ...)"
            )
        fields = {name: getattr(settings, name) for name in type(settings).model_fields}
    else:
        fields = shorthand
    try:
        return Settings.model_validate(fields)
    except SettingsError as exc:
        exc.call = call
        raise


__all__ = [
    "AUTO_WORK",
    "WORK_PER_SECOND",
    "Progress",
    "ProgressCallback",
    "Settings",
    "SettingsError",
    "calibrated_note",
    "means_auto",
    "resolve_settings",
]
