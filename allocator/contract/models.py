"""The data contract: snapshot and plan, exactly as in FORMAT.md (version 1).

Every model forbids unknown fields, so a typo such as ``workr`` is an error rather
than a silently ignored column. Cross-references between records are checked once,
here, by :class:`Snapshot`; anything past :func:`allocator.io.load_snapshot` is valid.

Extensions to FORMAT.md (all additive, documented in ``docs/FORMAT.md`` Part 2):
``Plan.gap``, ``Plan.notes``, ``Plan.settings``, ``Plan.bound`` as a mapping
from objective tier to its proven bound, ``Plan.proved``, ``Plan.exceptions``,
``Plan.made_from`` and ``Plan.handovers``; ``Practitioner.contract``,
``contract_end``, ``absence_from`` and ``absence_until``; :class:`PendingHandovers`,
the handovers still to come once a plan is applied.
"""

from __future__ import annotations

import math
import numbers
import re
import types
import unicodedata
from collections.abc import Collection
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from functools import cache
from typing import Annotated, Any, ClassVar, Final, Literal, Self, Union, get_args, get_origin

from annotated_types import Ge, Gt, Le
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

SNAPSHOT_FORMAT: Final = "caseload-snapshot/1"
PLAN_FORMAT: Final = "allocation-plan/1"
PENDING_FORMAT: Final = "pending-handovers/1"


class Grade(StrEnum):
    """A practitioner's grade; ``nqsw`` is newly qualified (protected first year)."""

    STUDENT = "student"
    NQSW = "nqsw"
    SOCIAL_WORKER = "social_worker"
    SENIOR = "senior"
    CONSULTANT = "consultant"


class Contract(StrEnum):
    """How a practitioner is employed: agency and fixed-term staff tend to leave sooner."""

    PERMANENT = "permanent"
    AGENCY = "agency"
    FIXED_TERM = "fixed_term"


class CaseType(StrEnum):
    """The kind of statutory work; ``court`` is care proceedings or pre-proceedings."""

    EARLY_HELP = "early_help"
    CHILD_IN_NEED = "child_in_need"
    CHILD_PROTECTION = "child_protection"
    LOOKED_AFTER = "looked_after"
    CARE_LEAVER = "care_leaver"
    COURT = "court"
    ADOPTION = "adoption"


class Priority(StrEnum):
    """``urgent`` means the child must be seen today."""

    URGENT = "urgent"
    STANDARD = "standard"


# ---------------------------------------------------------------- domains of values
#
# Every number and date a file may hold has a domain here, checked at the door, so
# nothing past reading can overflow the solver's 64-bit integers or the calendar.

MAX_POINTS: Final = 10_000
"""Largest weight or capacity in points (a full-time cap is 100 by default).

Far above any real caseload, and small enough that every sum the solver forms over
a service (in centi-points) stays exact in 64-bit integers.
"""
MAX_EXPERIENCE_YEARS: Final = 70
"""Largest ``experience_years``."""
MAX_CHANGES: Final = 366
"""Largest ``changes_last_12_months``: at most one change of worker a day."""
FIRST_DAY: Final = date(1900, 1, 1)
"""Earliest date a file may hold."""
LAST_DAY: Final = date(2999, 12, 31)
"""Latest date a file may hold: date arithmetic with any policy window stays in range."""

_ISO_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


_BOOL_REFUSED: Final = "expected a number, found true or false"


def exact_number(value: Any) -> Any:
    """``value`` as the plain ``int`` or ``float`` it is exactly; ``true``/``false`` and a
    number no float holds exactly refused.

    The one rule for every number at the library's door (docs/FORMAT.md "Numbers from
    Python"): pydantic's lax mode would take ``true`` as 1, round ``Decimal('0.1')``
    and ``Fraction(1, 3)`` to the nearest float, and widen ``numpy.float32(0.1)`` to
    0.10000000149011612, all in silence. A number of another kind is taken where it
    converts exactly: a numpy or other integer as that ``int``; a numpy ``float64`` (a
    ``float``) as it is; a ``Decimal`` or ``Fraction`` whose value is a whole number
    as that ``int``, else only where it equals the float it converts to
    (``Decimal('0.5')``); any other real number (``numpy.float32``, ``float16``,
    ``longdouble``) only where the float it converts to is both exactly its value and
    the number it prints as (``float32(0.5)``, not ``float32(0.1)``, which prints
    0.1). Anything that is no number goes on unchanged, for the field's own checks.

    Raises
    ------
    ValueError
        For ``true``/``false`` (numpy's too).
    pydantic_core.PydanticCustomError
        ``number_not_exact``, for a number no float holds exactly; its message says
        what it would have been stored as.
    """
    kind = type(value)
    if kind is int or kind is float:  # the common case first: this runs for every number
        return value
    if isinstance(value, bool) or getattr(getattr(value, "dtype", None), "kind", "") == "b":
        raise ValueError(_BOOL_REFUSED)
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, float):
        return float(value)
    if not isinstance(value, Decimal | numbers.Real):
        return value
    if isinstance(value, Decimal) and not value.is_finite():
        return math.nan if value.is_nan() else float(value)  # refused as such by the field
    if not isinstance(value, Decimal | numbers.Rational) and not math.isfinite(value):
        return float(value)
    if isinstance(value, numbers.Rational) and value.denominator == 1:
        return int(value.numerator)
    if isinstance(value, Decimal) and value == value.to_integral_value():
        return int(value)
    try:
        stored = float(value)
    except OverflowError:
        stored = math.inf
    if isinstance(value, Decimal | numbers.Rational):
        printed = True
    else:
        try:
            printed = float(str(value)) == stored
        except ValueError:
            printed = True  # no decimal form to compare: exactness alone decides
    if math.isfinite(stored) and value == stored and printed:
        return stored
    shown = repr(value)
    if not math.isfinite(stored):
        why = f"{shown} is beyond the largest float"
    elif printed:  # a Decimal or Fraction between two floats
        exact = str(Decimal(stored))
        exact = exact if len(exact) <= 36 else exact[:33] + "..."
        why = (
            f"no float holds {shown} exactly: it would be rounded to {exact}; "
            "pass float(value) if that rounding is meant"
        )
    else:
        why = (
            f"{shown} holds {stored!r}, not the {value!s} it prints as; pass "
            f"float(str(value)) if {value!s} is meant"
        )
    raise PydanticCustomError("number_not_exact", "{why}", {"why": why})


def refuse_non_iso_day(value: Any) -> Any:
    """Let ``value`` through only as a ``date`` or text written exactly ``YYYY-MM-DD``.

    pydantic's lax mode would read ``0`` or a Unix timestamp as a date, and accept
    ``2026-11-23T00:00:00``; a file's date is the ten characters and nothing else.

    Raises
    ------
    ValueError
        For anything else (a number, a datetime, another layout of text).
    """
    if isinstance(value, str):  # the common case first: this runs for every date read
        if _ISO_DAY.fullmatch(value):
            return value
    elif isinstance(value, date) and not isinstance(value, datetime):
        return value
    raise ValueError("expected a date written YYYY-MM-DD")


ExactNumber: Final = BeforeValidator(exact_number)
"""Marks every number field of the contract, the policy and the settings: refuses
``true`` / ``false`` and a number of another kind no float holds exactly, and reads
one that converts exactly as the plain ``int`` or ``float`` (:func:`exact_number`)."""

TEXT_CELLS: Final = "text_cells"
"""Validation context key: the records come from text cells (a CSV file), where every
number is written as text; anywhere else (JSON, Python) a number is not quoted."""


def refuse_quoted_number(value: Any, info: ValidationInfo) -> Any:
    """Let ``value`` through unless it is text outside a CSV file's cells.

    JSON numbers are typed: ``"fte": "1.0"`` is text, and pydantic's lax mode would
    read it as the number silently (an exporter quoting every value is told once, at
    the door). A CSV cell is always text (:data:`TEXT_CELLS` in the context).

    Raises
    ------
    ValueError
        If ``value`` is a string and the context does not say text cells.
    """
    if isinstance(value, str) and not (info.context or {}).get(TEXT_CELLS):
        raise ValueError("expected a number written without quotes")
    return value


NotQuoted: Final = BeforeValidator(refuse_quoted_number)
"""Marks a number field of the contract that refuses a quoted number outside CSV."""

Points = Annotated[float, ExactNumber, NotQuoted, Ge(0), Le(MAX_POINTS)]
"""Weighted points: a case's weight or a worker's capacity, 0 to :data:`MAX_POINTS`."""
Fte = Annotated[float, ExactNumber, NotQuoted, Gt(0), Le(1)]
"""Contracted hours as a share of full time, in (0, 1]."""
Years = Annotated[float, ExactNumber, NotQuoted, Ge(0), Le(MAX_EXPERIENCE_YEARS)]
"""Years of post-qualifying experience."""
Complexity = Annotated[int, ExactNumber, NotQuoted, Ge(1), Le(4)]
"""Case complexity, 1 (least) to 4 (most)."""
Changes = Annotated[int, ExactNumber, NotQuoted, Ge(0), Le(MAX_CHANGES)]
"""Changes of worker in the last 12 months."""
Day = Annotated[date, BeforeValidator(refuse_non_iso_day), Ge(FIRST_DAY), Le(LAST_DAY)]
"""A calendar date written ``YYYY-MM-DD``, from :data:`FIRST_DAY` to :data:`LAST_DAY`."""


WaitingDays = Annotated[int, ExactNumber, NotQuoted, Ge(0), Le((LAST_DAY - FIRST_DAY).days)]
"""Days a child has waited for a worker (docs/FORMAT.md "Waiting"): 0 or more."""


REASONED_ERRORS: Final = ("number_not_exact", "set_not_ordered", "bytes_refused")
"""The error types of the door whose message says why (:func:`exact_number`,
:class:`Listed`): the readers add it after "expected ..."."""


def rebuilt_errors(exc: ValidationError) -> list[Any]:
    """``exc``'s errors, ready for ``ValidationError.from_exception_data`` (a door's
    own error class, raised in pydantic's place): pydantic rebuilds its own error types
    by name, and each of :data:`REASONED_ERRORS` from itself, its message kept."""
    return [
        {**err, "type": PydanticCustomError(err["type"], "{why}", {"why": err["msg"]})}
        if err["type"] in REASONED_ERRORS
        else err
        for err in exc.errors()
    ]


#: What the order of a list field means, where it means something, for the message
#: refusing a set there.
_ORDER_MEANS: Final = {
    "previous_workers": "the child's workers, latest first",
    "practitioners": "the file's order, which settles ties and orders the plan",
    "cases": "the file's order, which settles ties and orders the plan",
    "complexity_multiplier": "one per complexity, 1 to 4",
    "priority_classes": "who gets a worker first",
}


def unwrapped(annotation: Any) -> Any:
    """``annotation`` without ``Annotated[...]`` and ``| None``; a union of several
    kinds stays as it is."""
    while True:
        if get_origin(annotation) is Annotated:
            annotation = get_args(annotation)[0]
            continue
        if get_origin(annotation) in (Union, types.UnionType):
            rest = [a for a in get_args(annotation) if a is not type(None)]
            if len(rest) == 1:
                annotation = rest[0]
                continue
        return annotation


@cache
def _container(model: type[BaseModel], name: str) -> Any:
    """What field ``name`` of ``model`` holds, maybe null: ``tuple``, ``list`` or
    ``dict`` for a collection, else ``None`` (a record, a value, a union of kinds)."""
    origin = get_origin(unwrapped(model.model_fields[name].annotation))
    return origin if origin in (tuple, list, dict) else None


def _is_list_field(model: type[BaseModel], name: str) -> bool:
    """Whether field ``name`` of ``model`` holds a list (a tuple or list, maybe null)."""
    return _container(model, name) in (tuple, list)


def in_sorted_order(items: Collection[Any]) -> tuple[Any, ...]:
    """A set's items in one order, the same in every process: by kind, then as text
    (ids, labels and enum values sort as the text they are)."""
    return tuple(sorted(items, key=lambda item: (type(item).__qualname__, str(item))))


_BYTES: Final = (bytes, bytearray, memoryview)


def refuse_bytes(value: Any, table: bool) -> None:
    """Refuse ``value`` if it is bytes, or a list, tuple or set holding bytes as an
    item, or, where ``table`` (the field is a table, not a record), a table holding
    them as a key or value. One level: a nested record checks its own fields.

    Raises
    ------
    pydantic_core.PydanticCustomError
        ``bytes_refused``, saying to decode them.
    """
    held: Any = (value,)
    if isinstance(value, dict) and table:
        held = (*value.keys(), *value.values())
    elif isinstance(value, list | tuple | set | frozenset):
        held = value
    if any(isinstance(v, _BYTES) for v in held):
        raise PydanticCustomError(
            "bytes_refused", "bytes are no text or number: decode them first (UTF-8)"
        )


class Listed(BaseModel):
    """Base of every model of the door (the contract's records, the policy's tables):
    bytes anywhere, and a Python ``set`` given for a list field.

    Bytes (``bytes``, ``bytearray``, ``memoryview``) are refused in every field and as
    an item or key of a list or table field: pydantic's lax mode would read ``b"3"`` as
    the number 3 and ``b"C1"`` as the id ``C1``, in silence, and bytes are no text a
    caller has decoded (:func:`refuse_bytes`).

    A set's order is its hash order, which for text changes from process to process
    (``PYTHONHASHSEED``): taken as it came, the same input could give different plans.
    Where the field is a set in meaning (:attr:`UNORDERED`: a worker's skills, a
    child's needs), the set is sorted (:func:`in_sorted_order`); where its order means
    something (a child's ``previous_workers``, latest first; the records of a
    snapshot), or might, it is refused, saying so.
    """

    #: The list fields that are sets in meaning, where a set given is sorted.
    UNORDERED: ClassVar[frozenset[str]] = frozenset()

    @field_validator("*", mode="before")
    @classmethod
    def _a_set_in_one_order(cls, value: Any, info: ValidationInfo) -> Any:
        """Bytes refused (:func:`refuse_bytes`); a set for a list field sorted where
        :attr:`UNORDERED`, else refused."""
        name = info.field_name or ""
        refuse_bytes(
            value, isinstance(value, dict) and bool(name) and _container(cls, name) is dict
        )
        if not isinstance(value, set | frozenset):
            return value
        if not name or not _is_list_field(cls, name):
            return value  # refused by the field itself: a set is no text, no number
        if name in cls.UNORDERED:
            return in_sorted_order(value)
        means = _ORDER_MEANS.get(name, "the order given")
        raise PydanticCustomError(
            "set_not_ordered",
            "a set has no order (Python's changes from run to run), and this list's order "
            "is {means}: give a list or tuple in that order",
            {"means": means},
        )


class Record(Listed):
    """Base of every contract model: unknown fields are rejected, values are immutable.

    No float field accepts NaN or infinity; a set given for a list field is sorted or
    refused (:class:`Listed`).
    """

    # hide_input_in_errors: a constructor's error never quotes the value (a label may
    # identify a child, or hold the characters it is refused for); the readers build
    # their sentences from the error's details, which keep it.
    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        populate_by_name=True,
        allow_inf_nan=False,
        hide_input_in_errors=True,
    )

    def __init__(self, **data: Any) -> None:
        # A council system building records in code reads the sentences a file's
        # records get (the record, its id, the field), not pydantic's dump.
        try:
            super().__init__(**data)
        except ValidationError as exc:
            raise _refused(exc, type(self), data) from None

    # pydantic's own mark of its base __init__: without it, a record inside another (a
    # CSV table's rows, a snapshot's cases) is built by calling this __init__, one
    # Python call a record, without the reader's context (CSV cells read as text).
    __init__.__pydantic_base_init__ = True  # type: ignore[attr-defined]

    @classmethod
    def model_validate(cls, obj: Any, *args: Any, **kwargs: Any) -> Self:
        """As pydantic's, refusing with a
        :class:`~allocator.contract.faults.ContractInvalid` (an ``InputError``)."""
        try:
            return super().model_validate(obj, *args, **kwargs)
        except ValidationError as exc:
            raise _refused(exc, cls, obj) from None


def _refused(exc: ValidationError, model: type[BaseModel], data: Any) -> ValidationError:
    """``exc`` in the house's words (:class:`~allocator.contract.faults.ContractInvalid`),
    once: a record refused inside another is said by the outer one."""
    from allocator.contract.faults import ContractInvalid  # faults reads this module

    return exc if isinstance(exc, ContractInvalid) else ContractInvalid.of(exc, model, data)


#: Control characters (C0, DEL and C1: NUL, escape codes, the bell, an 8-bit CSI; and
#: the bidirectional overrides and isolates, U+202A-U+202E and U+2066-U+2069, which
#: make text read in another order than it is stored), as a regular expression's
#: class: in no id and no person's name. A NUL cannot be stored in PostgreSQL's text (a
#: decision log there refused the snapshot after its solve), an escape code is read by
#: a terminal, and a reversed name or reason misleads whoever reads the log.
_C0 = "\\x00-\\x1f"
_C0_BUT_TAB_AND_BREAKS = "\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f"
_DEL_C1_AND_BIDI = "\\x7f-\\x9f\\u202a-\\u202e\\u2066-\\u2069"
CONTROL_CHARACTERS = _C0 + _DEL_C1_AND_BIDI

#: Unicode's categories of the characters that show nothing or change how text reads
#: without showing: format characters (Cf: zero-width space and joiners, the soft
#: hyphen, a byte-order mark, the direction marks and overrides, the word joiner) and
#: the line and paragraph separators (Zl, Zp).
HIDDEN_CATEGORIES: Final = ("Cf", "Zl", "Zp")
#: Characters Unicode calls letters or symbols that show nothing: the Hangul fillers
#: and the blank Braille pattern (a fresh trial signed off as U+3164, and the log read
#: "Signed off by" and a blank).
BLANK_LOOKING: Final = frozenset("\u115f\u1160\u3164\uffa0\u2800")
#: Unicode's default-ignorable code points (Default_Ignorable_Code_Point) outside
#: those categories, as ranges: marks that show nothing (U+034F COMBINING GRAPHEME
#: JOINER, the Khmer inherent vowels, the Mongolian free variation selectors, the
#: variation selectors U+FE00-U+FE0F and U+E0100-U+E01EF) and the code points Unicode
#: keeps ignorable for later (U+2065, U+FFF0-U+FFF8, U+E0000-U+E0FFF). A fresh trial
#: signed off as "Ann\u034fSmith", a second Ann Smith on every page.
IGNORABLE_RANGES: Final = (
    (0x034F, 0x034F),
    (0x17B4, 0x17B5),
    (0x180B, 0x180F),
    (0x2065, 0x2065),
    (0xFE00, 0xFE0F),
    (0xFFF0, 0xFFF8),
    (0xE0000, 0xE0FFF),
)


def hides(ch: str) -> bool:
    """Whether ``ch`` shows nothing or changes how text reads without showing: one of
    :data:`HIDDEN_CATEGORIES`, :data:`BLANK_LOOKING` or :data:`IGNORABLE_RANGES`. The
    one definition: ids and labels refuse these (:data:`INVISIBLE_CHARACTERS`, the same
    set as a pattern's class), and so do a person's name and a reason in the decision
    log."""
    return (
        unicodedata.category(ch) in HIDDEN_CATEGORIES
        or ch in BLANK_LOOKING
        or any(lo <= ord(ch) <= hi for lo, hi in IGNORABLE_RANGES)
    )


#: :func:`hides`' characters as a regular expression's class (pydantic's Rust engine
#: reads Unicode categories): in no id or label, where ``"P1"`` and ``"P1\u200b"``
#: would be two workers who look the same on every page.
INVISIBLE_CHARACTERS = (
    "".join(rf"\p{{{c}}}" for c in HIDDEN_CATEGORIES)
    + "".join(f"\\u{ord(c):04x}" for c in sorted(BLANK_LOOKING))
    + "".join(f"\\U{lo:08x}-\\U{hi:08x}" for lo, hi in IGNORABLE_RANGES)
)

#: An id: not empty, no space or other blank at either end (``"W01 "`` would not match
#: ``"W01"`` elsewhere in the file, and the message naming ``'W01'`` would mislead), and
#: no control or invisible character (:data:`CONTROL_CHARACTERS`,
#: :data:`INVISIBLE_CHARACTERS`). CSV cells and the imports' values are trimmed before
#: they get here.
_REFUSED = CONTROL_CHARACTERS + INVISIBLE_CHARACTERS
_END = rf"[^\s{_REFUSED}]"
ID_PATTERN: Final = rf"^{_END}(?:[^{_REFUSED}]*{_END})?$"
Id = Annotated[str, Field(min_length=1, pattern=ID_PATTERN)]

#: A label: a worker's team, skills and areas, a case's needs and area. A need is met
#: by the skill of its name and an area by a worker's areas, ignoring case and the
#: spaces around them (:func:`allocator.domain.rules.normalised`), so a label may have
#: spaces at its ends but may not be blank: ``""`` would match no skill, and every
#: child with that need would be left without a worker though nothing looked wrong.
#: No control or invisible character, as in an id, but tabs and line breaks (a
#: spreadsheet cell may hold an area on two lines; they are spaces to the matching).
_LABEL_REFUSED = _C0_BUT_TAB_AND_BREAKS + _DEL_C1_AND_BIDI + INVISIBLE_CHARACTERS
LABEL_PATTERN: Final = rf"^[^{_LABEL_REFUSED}]*[^\s{_LABEL_REFUSED}][^{_LABEL_REFUSED}]*$"
Label = Annotated[str, Field(pattern=LABEL_PATTERN)]


class Practitioner(Record):
    """A member of staff who may hold cases.

    Attributes
    ----------
    id, team, grade, experience_years, fte, skills, areas, available_from,
    leaving_on, capacity_points
        As in FORMAT.md. ``capacity_points`` overrides the cap the policy computes.
    contract, contract_end
        An extension (docs/FORMAT.md, "Contracts"): how the worker is employed, and
        the day a fixed-term or agency contract ends, where known.
    absence_from, absence_until
        An extension (docs/FORMAT.md, "Planned handovers"): a known absence that has
        not begun: away from ``absence_from`` until ``absence_until`` (back that day).
        Both or neither; ``absence_until`` after ``absence_from``.
    """

    UNORDERED = frozenset({"skills", "areas"})

    id: Id
    team: Label
    grade: Grade
    experience_years: Years = 0.0
    fte: Fte
    skills: tuple[Label, ...] = ()
    areas: tuple[Label, ...] = ()
    available_from: Day | None = None
    leaving_on: Day | None = None
    capacity_points: Points | None = None
    contract: Contract = Contract.PERMANENT
    contract_end: Day | None = None
    absence_from: Day | None = None
    absence_until: Day | None = None

    @model_validator(mode="after")
    def _absence_both_or_neither(self) -> Practitioner:
        """A planned absence names its first day and the day the worker is back."""
        start, back = self.absence_from, self.absence_until
        if (start is None) != (back is None):
            given, value, missing = (
                ("absence_from", start, "absence_until")
                if back is None
                else ("absence_until", back, "absence_from")
            )
            raise ValueError(
                f"field {given!r} is '{value}' but {missing!r} is null, expected both dates "
                "(a planned absence's first day and the day back) or neither"
            )
        if start is not None and back is not None and back <= start:
            raise ValueError(
                f"field 'absence_until' is '{back}', expected a day after 'absence_from' "
                f"('{start}')"
            )
        return self


class Case(Record):
    """One child. Siblings share a ``family``; ``worker`` null means unallocated."""

    UNORDERED = frozenset({"needs", "excluded_workers"})

    id: Id
    family: Id
    type: CaseType
    complexity: Complexity
    weight: Points | None = None
    worker: str | None = None
    previous_workers: tuple[Id, ...] = ()
    changes_last_12_months: Changes = 0
    area: Label | None = None
    needs: tuple[Label, ...] = ()
    priority: Priority = Priority.STANDARD
    pinned_worker: str | None = None
    excluded_workers: tuple[Id, ...] = ()
    opened: Day | None = None
    waiting_since: Day | None = None


class Snapshot(Record):
    """The state of a service on one day, plus the cases to allocate."""

    format: Literal["caseload-snapshot/1"]
    as_of: Day
    practitioners: tuple[Practitioner, ...]
    cases: tuple[Case, ...]

    @model_validator(mode="after")
    def _references_resolve(self) -> Snapshot:
        """Ids are unique and ``worker`` / ``pinned_worker`` name current practitioners.

        ``previous_workers`` and ``excluded_workers`` may name former staff, so they
        are not checked here (see :func:`unknown_staff_notes`).
        """
        problems: list[str] = []
        staff: set[str] = set()
        for p in self.practitioners:
            if p.id in staff:
                problems.append(f"practitioner {p.id}: duplicate id")
            staff.add(p.id)
        seen: set[str] = set()
        for c in self.cases:
            if c.id in seen:
                problems.append(f"case {c.id}: duplicate id")
            seen.add(c.id)
            if c.worker is not None and c.worker not in staff:
                problems.append(
                    f"case {c.id}: field 'worker' names {c.worker!r}, who is not among "
                    "the practitioners"
                )
            if c.pinned_worker is not None and c.pinned_worker not in staff:
                problems.append(
                    f"case {c.id}: field 'pinned_worker' names {c.pinned_worker!r}, who is "
                    "not among the practitioners"
                )
            problems.extend(_waiting_problems(c, self.as_of))
        if problems:
            raise ValueError("; ".join(problems))
        return self


def _waiting_problems(case: Case, as_of: date) -> list[str]:
    """What is wrong with ``case``'s ``waiting_since``, one sentence each.

    A wait cannot start after the snapshot's day (the waiting days would be negative)
    nor before the case opened; a child who has a worker on the books is not waiting
    (``waiting_since`` is read only for a child with no worker, or whose worker has
    gone: docs/FORMAT.md "Waiting").
    """
    since = case.waiting_since
    if since is None:
        return []
    out = []
    if since > as_of:
        out.append(
            f"case {case.id}: field 'waiting_since' is {since.isoformat()}, after as_of "
            f"{as_of.isoformat()}; expected the day the child started waiting, on or before "
            "the snapshot's day"
        )
    if case.opened is not None and since < case.opened:
        out.append(
            f"case {case.id}: field 'waiting_since' is {since.isoformat()}, before 'opened' "
            f"{case.opened.isoformat()}; expected a day on or after the case opened"
        )
    return out


def cut_short_note(search: str, time_limit: float) -> str:
    """The plan note for a ``search`` the wall clock stopped before its work budget."""
    return (
        f"the {search} stopped at the time limit ({time_limit:g} s) before it had "
        "finished; a rerun may differ slightly — a higher --time-limit reproduces it "
        "exactly once the search finishes within it"
    )


def empty_snapshot_notes(snapshot: Snapshot) -> list[str]:
    """A note when the snapshot holds no cases.

    A plan of nothing is then correct, but the likelier story is a cases table emptied
    or exported without its rows, which the manager should hear about.
    """
    if snapshot.cases:
        return []
    return [
        "the snapshot holds no cases and no referrals, so there was nothing to allocate: "
        "check that the cases table (cases.csv, or 'cases' in the JSON) has its rows"
    ]


def snapshot_warnings(snapshot: Snapshot) -> list[str]:
    """Doubts about a valid snapshot that a person should check, one sentence each
    (``practitioner P3: ...``, ``case C12: ...``; see :func:`practitioner_doubts` and
    :func:`case_doubts`)."""
    staff = [
        f"practitioner {snapshot.practitioners[i].id}: {doubt}"
        for i, doubt in practitioner_doubts(snapshot)
    ]
    return staff + [f"case {snapshot.cases[i].id}: {doubt}" for i, doubt in case_doubts(snapshot)]


def practitioner_doubts(snapshot: Snapshot) -> list[tuple[int, str]]:
    """Doubts about the practitioners of a valid snapshot, each with the worker's index.

    - A known absence under way on ``as_of`` (``absence_from`` on or before it,
      ``absence_until`` after it) with no ``available_from``: the two absence fields
      describe an absence that has not begun and are ignored once it has
      (docs/FORMAT.md "Planned handovers"), so the worker is read as present and may be
      given children. The export should say ``available_from`` (the day back); a
      fresh user's snapshot said neither and was planned without a word.

    Returns
    -------
    list of (int, str)
        The practitioner's index in ``snapshot.practitioners`` and the doubt, in order.
    """
    out: list[tuple[int, str]] = []
    for i, p in enumerate(snapshot.practitioners):
        start, back = p.absence_from, p.absence_until
        if (
            start is not None
            and back is not None
            and start <= snapshot.as_of < back
            and p.available_from is None
        ):
            out.append(
                (
                    i,
                    f"field 'absence_from' is {start.isoformat()}, on or before as_of "
                    f"{snapshot.as_of.isoformat()}, and 'absence_until' {back.isoformat()} is "
                    "after it, but 'available_from' is empty: an absence under way is "
                    "ignored, so the worker is read as present and may be given children; "
                    f"if they are away, give available_from {back.isoformat()}",
                )
            )
    return out


def case_doubts(snapshot: Snapshot) -> list[tuple[int, str]]:
    """Doubts about the cases of a valid snapshot, each with the case's index.

    The index lets a reader name the file and row the case came from (a referral's
    doubt names the referrals file, not the snapshot).

    - An ``excluded_workers`` id that is neither a practitioner nor in any child's
      ``previous_workers``: former staff may be named (and are known from the
      children's histories), but an id nobody knows is likelier a typo, which leaves
      the conflict of interest unguarded; each is named with its case. Former staff
      keep the plan's note (:func:`unknown_staff_notes`).
    - A case ``opened`` after ``as_of``: no case opens after the day the snapshot
      describes. Like every other date past ``as_of`` (a return from absence, a
      leaving day) it is accepted; unlike them it can only be a mistake (a day and
      month swapped), so it is named.

    Returns
    -------
    list of (int, str)
        The case's index in ``snapshot.cases`` and the doubt, in case order.
    """
    known = {p.id for p in snapshot.practitioners}
    known.update(w for c in snapshot.cases for w in c.previous_workers)
    out: list[tuple[int, str]] = []
    for i, c in enumerate(snapshot.cases):
        for w in c.excluded_workers:
            if w not in known:
                out.append(
                    (
                        i,
                        f"excluded_workers names {w!r}, who is neither a practitioner nor any "
                        "child's previous worker; a mistyped id leaves the conflict of interest "
                        "unguarded: check it (a former member of staff may stay)",
                    )
                )
        if c.opened is not None and c.opened > snapshot.as_of:
            out.append(
                (
                    i,
                    f"field 'opened' is {c.opened.isoformat()}, after as_of "
                    f"{snapshot.as_of.isoformat()}; a case cannot open after the snapshot's "
                    "day: check the date (the case is read as it is)",
                )
            )
    return out


def unknown_staff_notes(snapshot: Snapshot) -> list[str]:
    """Notes on ``previous_workers`` / ``excluded_workers`` naming former staff.

    These are legitimate (people leave), so they are reported, not rejected.
    """
    staff = {p.id for p in snapshot.practitioners}
    former = sorted(
        {w for c in snapshot.cases for w in (*c.previous_workers, *c.excluded_workers)} - staff
    )
    if not former:
        return []
    shown = ", ".join(former[:10]) + (" ..." if len(former) > 10 else "")
    return [
        f"{len(former)} staff {'id' if len(former) == 1 else 'ids'} in "
        "previous_workers/excluded_workers are not among the "
        f"practitioners (former staff, taken as such): {shown}"
    ]


#: Cyrillic and Greek letters drawn as a Latin letter (capital and small), for the
#: likeness of ids: ``С1`` (Cyrillic Es) beside ``C1`` is said, not passed in silence.
_CONFUSABLE = str.maketrans(
    "АВСЕНІЈКМОРЅТХУаеіјорсѕхуԁԛԜԝΑΒΕΖΗΙΚΜΝΟΡΤΥΧοαικνρτυχ",
    "ABCEHIJKMOPSTXYaeijopcsxydqWwABEZHIKMNOPTYXoaiknptux",
)


def _id_likeness(ident: str) -> str:
    """What two ids that look alike share: no blanks, NFKC-normalised and case-folded
    (``Ｃ1`` full-width, ``c1``, ``C 1`` are ``c1``), Cyrillic and Greek look-alikes read
    as the Latin letter they are drawn as."""
    folded = unicodedata.normalize("NFKC", "".join(ident.split())).translate(_CONFUSABLE)
    return unicodedata.normalize("NFKC", folded.casefold())


def _scripts(ident: str) -> set[str]:
    """The scripts of the letters of ``ident`` among Latin, Cyrillic and Greek."""
    found = set()
    for ch in ident:
        if ch.isalpha():
            name = unicodedata.name(ch, "")
            for script in ("LATIN", "CYRILLIC", "GREEK"):
                if name.startswith(script):
                    found.add(script.title())
    return found


def _shown_id(ident: str) -> str:
    """An id as a look-alike note shows it: other than ASCII escaped (``\\u0421 1``), so
    the note shows how the two differ."""
    return ident if ident.isascii() else ascii(ident)[1:-1]


def lookalike_id_notes(snapshot: Snapshot) -> list[str]:
    """Notes on ids that look alike but differ: only in letter case or blanks
    (``C000001`` and ``c000001``, ``C 000001``), under Unicode NFKC normalisation
    (a full-width ``Ｃ1`` beside ``C1``), or by a Cyrillic or Greek letter drawn as a
    Latin one (a Cyrillic ``С1`` beside ``C1``); and ids that mix Latin letters with
    Cyrillic or Greek ones (``PС1``). Two children, or one written twice? Legal (ids
    are matched exactly), so said, not refused: a fresh manager's referral ``c000001``
    beside the snapshot's ``C000001`` was allocated as another child, with no word."""
    out: list[str] = []
    for kind, ids in (
        ("case", [c.id for c in snapshot.cases]),
        ("practitioner", [p.id for p in snapshot.practitioners]),
    ):
        alike: dict[str, list[str]] = {}
        for ident in ids:
            alike.setdefault(_id_likeness(ident), []).append(ident)
        groups = sorted(sorted(g) for g in alike.values() if len(g) > 1)
        if groups:
            shown = "; ".join(" and ".join(map(_shown_id, g)) for g in groups[:5]) + (
                " ..." if len(groups) > 5 else ""
            )
            out.append(
                f"{len(groups)} {kind} {'id differs' if len(groups) == 1 else 'ids differ'} from "
                f"another only in letter case, blanks, full-width or look-alike letters "
                f"({shown}): each is taken as a different {kind}; check that none is one "
                f"{kind} written twice"
            )
        mixed = sorted(i for i in ids if "Latin" in _scripts(i) and len(_scripts(i)) > 1)
        if mixed:
            shown = ", ".join(map(_shown_id, mixed[:5])) + (" ..." if len(mixed) > 5 else "")
            out.append(
                f"{len(mixed)} {kind} {'id mixes' if len(mixed) == 1 else 'ids mix'} Latin "
                f"letters with Cyrillic or Greek ones ({shown}), which look the same on a "
                "page: check that each is written as the system that made it writes it"
            )
    return out


def snapshot_notes(snapshot: Snapshot) -> list[str]:
    """Every note a plan makes of the snapshot it was made from, in this order: an
    empty snapshot (:func:`empty_snapshot_notes`), former staff named
    (:func:`unknown_staff_notes`), ids that look alike (:func:`lookalike_id_notes`)."""
    return [
        *empty_snapshot_notes(snapshot),
        *unknown_staff_notes(snapshot),
        *lookalike_id_notes(snapshot),
    ]


# ---------------------------------------------------------------------------- plan


class Assignment(Record):
    """A case whose worker the plan sets (``from_`` null) or changes."""

    case: Id
    worker: Id
    from_: str | None = Field(default=None, alias="from")
    reasons: tuple[str, ...] = ()
    days_waiting: WaitingDays | None = None


class UnallocatedCode(StrEnum):
    """Machine-readable reason a case ends the plan without a worker."""

    NO_ELIGIBLE_WORKER = "no_eligible_worker"
    ELIGIBLE_UNAVAILABLE = "eligible_unavailable"
    NO_CAPACITY = "no_capacity"
    INTAKE_LIMIT = "intake_limit"
    PINNED_WORKER_CANNOT_HOLD = "pinned_worker_cannot_hold"
    SEARCH_LIMIT = "search_limit"


class Unallocated(Record):
    """A case that ends the plan with no worker, and why, in words a manager can act on.

    ``code`` is one of :class:`UnallocatedCode` in the allocator's plans, but FORMAT.md
    lets any tool choose its codes: any other non-empty text is kept as it is.
    """

    case: Id
    code: Id
    reason: str
    days_waiting: WaitingDays | None = None

    @field_validator("code")
    @classmethod
    def _own_codes_as_members(cls, value: str) -> str:
        """The allocator's own codes become :class:`UnallocatedCode` members."""
        try:
            return UnallocatedCode(value)
        except ValueError:
            return value


class ManagedException(Record):
    """A case a manager's documented exception lets a worker hold against a rule.

    FORMAT.md: a pin naming the current worker keeps an outgrown case there
    (``waives: grade``, the who-may-hold-what table), and a manager may place a case
    over a worker's cap (``waives: capacity``), each a managed exception the plan
    lists with its reason (extension, ``docs/FORMAT.md`` Part 2). ``waives`` is
    written only for ``capacity``: a plan without it reads as before.
    """

    case: Id
    worker: Id
    reason: str
    waives: Literal["grade", "capacity"] = Field(
        default="grade", exclude_if=lambda value: value == "grade"
    )


class FileDigest(Record):
    """A file a plan was made from: its name as given and its SHA-256 (hex).

    ``sha256`` is null for standard input (``-``), which cannot be read again.
    """

    file: str
    sha256: str | None = Field(default=None, pattern=r"^[0-9a-f]{64}$")


class MadeFrom(Record):
    """What a plan was made from (extension): the input files, each with its digest,
    and the digest of the service they hold.

    The solver settings are the plan's ``settings``. ``None`` for a file not given
    (no referrals file, the default policy).
    """

    snapshot: FileDigest | None = None
    referrals: FileDigest | None = None
    policy: FileDigest | None = None
    command: str | None = None
    #: The SHA-256 (hex) of the service as read (the snapshot with the referrals
    #: merged, as the snapshot's canonical JSON): the same for the same service in
    #: another file (re-saved, a byte-order mark added, the CSV tables of the same
    #: data), where the files' digests differ. ``None`` in plans made before it.
    service_sha256: str | None = Field(default=None, pattern=r"^[0-9a-f]{64}$")


class Handover(Record):
    """A change of worker planned ahead (extension, docs/FORMAT.md "Planned handovers").

    The child stays with ``from`` until ``on``, the handover day, and goes to
    ``worker`` then; ``notice_days`` is the days between the plan's ``as_of`` and
    ``on``, the notice the child gets. ``departs`` is the day ``from`` stops holding
    children (their leaving day, or the first day of a long absence).
    """

    case: Id
    worker: Id
    from_: Id = Field(alias="from")
    on: Day
    departs: Day
    notice_days: Annotated[int, ExactNumber, NotQuoted, Ge(0)]
    reasons: tuple[str, ...] = ()


class WorkerLoad(Record):
    """One practitioner's weighted load and case count before and after the plan."""

    id: Id
    capacity: float
    load_before: float
    load_after: float
    cases_before: int
    cases_after: int


Status = Literal["optimal", "feasible", "invalid_input"]


class Plan(Record):
    """What the allocator decided (FORMAT.md "Plan").

    Attributes
    ----------
    status
        ``optimal`` (proved), ``feasible`` (time limit reached; see ``bound`` and
        ``gap``) or ``invalid_input``.
    objective
        Each objective tier's value, in priority order (see ``allocator.engine``).
    bound
        Extension: for each tier, keyed and in units as ``objective``, the best
        value any plan could reach with the tiers above at their values (equal to
        the value where proved).
    proved
        Extension: for each tier, whether its value is proved to equal its bound
        over every eligible worker; ``status`` is ``optimal`` only when all are.
    gap
        Extension: the gap on children allocated, weighed by their wait as the
        priority classes weigh them (``allocator.domain.result.relative_gap``);
        0 when every priority class is proved. Other tiers: see ``bound``, ``proved``.
    notes
        Extension: observations a manager should see (e.g. former staff named).
    settings
        Extension: the solver settings that reproduce this plan.
    exceptions
        Extension: cases kept with a worker the who-may-hold-what table would not
        allow, because a manager pinned them there.
    made_from
        Extension: the input files the plan was made from, with their SHA-256.
    handovers
        Extension: changes of worker planned ahead for the children of a worker who
        leaves or starts a long absence soon (docs/FORMAT.md "Planned handovers").
    """

    format: Literal["allocation-plan/1"] = PLAN_FORMAT
    as_of: Day
    status: Status
    assignments: tuple[Assignment, ...] = ()
    unallocated: tuple[Unallocated, ...] = ()
    workers: tuple[WorkerLoad, ...] = ()
    objective: dict[str, int | float] = Field(default_factory=dict)
    bound: dict[str, int | float] | None = None
    proved: dict[str, bool] | None = None
    gap: float | None = None
    solve_seconds: float = 0.0
    notes: tuple[str, ...] = ()
    settings: dict[str, float | int | str] = Field(default_factory=dict)
    exceptions: tuple[ManagedException, ...] = ()
    made_from: MadeFrom | None = None
    handovers: tuple[Handover, ...] = ()


class PendingHandovers(Record):
    """Handovers a plan planned ahead and not yet made, kept beside the snapshot after it.

    Extension (docs/FORMAT.md, "Applying a plan"): ``allocator apply`` writes one
    beside the snapshot it writes, so that the promise made to each child outlives the
    plan file. Each handover is as the plan gave it (its ``notice_days`` counted from
    the plan's day).

    Attributes
    ----------
    as_of
        The day of the snapshot they go with.
    plan
        The plan file they come from, with its SHA-256; null when not from a file.
    handovers
        The handovers still to come, in the plan's order.
    """

    format: Literal["pending-handovers/1"] = PENDING_FORMAT
    as_of: Day
    plan: FileDigest | None = None
    handovers: tuple[Handover, ...] = ()
