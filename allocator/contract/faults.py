""":class:`InputError` and the words of its sentences.

Values quoted back (ids, enum values, numbers and dates only: free text of a child's
record never), "did you mean", one pydantic error told as a sentence, and
:class:`_Report`, which collects every problem found while reading and raises them
together, a problem repeated row after row said once.
"""

from __future__ import annotations

import difflib
import math
import numbers
import re
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, get_args

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from allocator.contract.fields import _Field, _fields_of
from allocator.contract.models import REASONED_ERRORS, rebuilt_errors, unwrapped

# Values longer than this are cut when quoted back in a message.
_SHOWN_CHARS = 30


class AllocatorError(Exception):
    """Base of every refusal of input the allocator makes: catch it to catch them all.

    :class:`InputError` (a snapshot, plan, file or id that does not hold to the
    contract; :class:`~allocator.problems.recommend.UnknownIdError`,
    :class:`~allocator.problems.apply.PlanNotApplicable`),
    :class:`~allocator.contract.policy.PolicyError` (a policy out of its domains) and
    :class:`~allocator.contract.settings.SettingsError` (a setting out of its domain)
    derive from it, each keeping its own kinds (``PolicyError`` and ``SettingsError``
    are both ``ValueError``). An argument of the wrong kind (a dict for a snapshot) is a
    ``TypeError``, and a count out of its range (``allow_moves=-1``) a ``ValueError``:
    slips in the calling code, not in the council's data.
    """


class InputError(AllocatorError):
    """Input that cannot be used, with every problem found, one sentence each.

    Parameters
    ----------
    problems
        One full sentence per problem, naming the file, the row or record id, the
        field, what was found and what was expected.

    Attributes
    ----------
    problems
        The sentences, in file and row order; ``str(error)`` joins them with newlines.
    """

    def __init__(self, problems: str | Sequence[str]) -> None:
        self.problems: list[str] = [problems] if isinstance(problems, str) else list(problems)
        super().__init__("\n".join(self.problems))

    def __str__(self) -> str:
        return "\n".join(self.problems)

    def __reduce__(self) -> tuple[type[InputError], tuple[list[str]]]:
        # Its own class, not InputError: an UnknownIdError from a worker process is
        # still caught as one.
        return (type(self), (self.problems,))


def _short(value: str) -> str:
    """``value`` quoted, cut to a readable length."""
    if len(value) > _SHOWN_CHARS:
        value = value[: _SHOWN_CHARS - 3] + "..."
    return repr(value)


def _label(value: str) -> str:
    """An id as it appears after ``(id ...)``: cut, control characters escaped, unquoted."""
    return _short(value)[1:-1]


def non_finite(value: object) -> str | None:
    """A float that is no number, in words (``not a number (NaN)``, ``infinite
    (inf)``), or ``None`` for any other value: NaN was once said "is null" (a JSON dump
    writes it so), which sent a reader looking for a missing value."""
    if isinstance(value, float) and not math.isfinite(value):
        if math.isnan(value):
            return "not a number (NaN)"
        return f"infinite ({value!r})"
    return None


def _found(value: Any, echo: bool) -> str:
    """What was found, in words; the value itself only when it is safe to show."""
    if value is None:
        return "null"
    if isinstance(value, bool) or getattr(getattr(value, "dtype", None), "kind", "") == "b":
        return "true" if value else "false"
    if (said := non_finite(value)) is not None:
        return said
    if isinstance(value, numbers.Number | Decimal):  # a numpy number, a Decimal: as written
        text = repr(value)
        return (text if len(text) <= _SHOWN_CHARS else text[:12] + "...") if echo else "a number"
    if isinstance(value, str):
        if not value.strip():
            return "empty"
        return _short(value) if echo else "text"
    if isinstance(value, list | tuple):
        return "a list"
    if isinstance(value, set | frozenset):
        return "a set"
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, bytes | bytearray | memoryview):
        return "bytes"
    return "a value of another kind"


#: Words read with a vowel sound though they start with a consonant letter (``an
#: nqsw``: "en-queue"), and words starting with a vowel letter read with a consonant
#: sound (``a uint8``: "you-int").
_AN_ANYWAY = ("nqsw", "ndarray", "html", "sql", "fte", "mip", "ssd", "xml", "hour")
_A_ANYWAY = ("uint", "uni", "use", "usu", "uuid", "one", "euro")


def with_article(word: str) -> str:
    """``word`` after "a" or "an", as it is read: the one place a sentence's article is
    chosen (every "is a int" was built by hand).

    >>> with_article("int"), with_article("str"), with_article("uint8"), with_article("nqsw")
    ('an int', 'a str', 'a uint8', 'an nqsw')
    """
    low = word.casefold()
    vowel = low[:1] in ("a", "e", "i", "o", "u")
    if low.startswith(_AN_ANYWAY):
        vowel = True
    elif low.startswith(_A_ANYWAY):
        vowel = False
    return f"{'an' if vowel else 'a'} {word}"


def kind_of(value: object) -> str:
    """The kind of ``value`` with its article: ``an int``, ``a dict``, ``an ndarray``."""
    return with_article(type(value).__name__)


def unreadable_number(exc: ValueError) -> str:
    """Why a JSON or TOML parser's ``ValueError`` (not its syntax error) stopped it,
    in words: Python reads no integer of more than ``sys.get_int_max_str_digits()``
    digits, and no field takes one."""
    if "digits" in str(exc):
        return (
            f"a number written with more than {sys.get_int_max_str_digits():,} digits, "
            "expected a number a field can take"
        )
    return str(exc)


def describe_value(value: Any) -> str:
    """A number, date, id or name as quoted back in a message (text cut to 30 characters).

    For values that never identify a child (settings, enum values, numbers): free
    text of a child's record is described by :func:`_found` instead.
    """
    if isinstance(value, str):
        return _short(value)
    if isinstance(value, date):
        return value.isoformat()
    return _found(value, echo=True)


def _sentence(text: str) -> str:
    return text if text.endswith((".", "?", "!")) else text + "."


def _edits(a: str, b: str) -> int:
    """Edits from ``a`` to ``b``: a letter added, dropped, changed, or two swapped."""
    before2: list[int] = []
    before = list(range(len(b) + 1))
    for i, ca in enumerate(a, start=1):
        row = [i] + [0] * len(b)
        for j, cb in enumerate(b, start=1):
            row[j] = min(before[j] + 1, row[j - 1] + 1, before[j - 1] + (ca != cb))
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                row[j] = min(row[j], before2[j - 2] + 1)
        before2, before = before, row
    return before[-1]


def is_typo_of(name: str, known: str) -> bool:
    """Whether ``name`` reads as ``known`` mistyped, or cut short: a few edits for its
    length (one up to 7 letters), or the start of it (``sha`` for ``sha256``).

    Stricter than a likeness: ``notes`` is not taken for ``needs`` (two letters
    changed in five), so a free-text column is never steered onto a field the rules
    read.

    >>> is_typo_of("workr", "worker"), is_typo_of("notes", "needs"), is_typo_of("sha", "sha256")
    (True, False, True)
    """
    a, b = name.casefold(), known.casefold()
    if len(a) >= 3 and b.startswith(a):
        return True
    return _edits(a, b) <= max(1, len(a) // 4)


def typo_match(name: str, known: Iterable[str]) -> str | None:
    """The known name ``name`` is a typo of (:func:`is_typo_of`), the likest first;
    ``None`` when it is none's."""
    known = list(known)
    close = [
        k for k in difflib.get_close_matches(name, known, n=3, cutoff=0.5) if is_typo_of(name, k)
    ] or [k for k in known if is_typo_of(name, k)]
    return close[0] if close else None


def did_you_mean(name: str, known: Iterable[str]) -> str:
    """``"; did you mean 'worker'?"`` for a known name ``name`` is a typo of
    (:func:`typo_match`), else the list of names."""
    known = list(known)
    match = typo_match(name, known)
    if match is not None:
        return f"; did you mean {match!r}?"
    return "; expected one of " + ", ".join(known)


#: Column names that hold free text about a child or a worker: never read, and never
#: suggested as a field (a child's notes must not feed the matching rules).
FREE_TEXT_COLUMNS = frozenset(
    {"notes", "note", "comments", "comment", "description", "remarks", "narrative",
     "summary", "free_text", "freetext", "details", "case_notes", "case notes"}
)  # fmt: skip


def unknown_column(column: str, fields: Iterable[str]) -> str:
    """What to say of a column no field has: free text is named as such (leave it
    out): a column named as free text, or with such a word in its name ("Allocated
    Worker Note", "Worker Notes"), which a likeness would otherwise steer onto a
    field; any other name gets :func:`did_you_mean`."""
    name = " ".join(column.replace("_", " ").split()).casefold()
    free = {c.replace("_", " ") for c in FREE_TEXT_COLUMNS}
    if name in free or any(word in free for word in name.split()):
        return (
            "; it looks like free text, which the allocator never reads: leave it out of "
            "the export (no field takes it)"
        )
    return did_you_mean(column, fields)


def _is_number(text: object) -> bool:
    """Whether ``text`` is a number written as text ("1.0", "2")."""
    try:
        float(str(text))
    except ValueError:
        return False
    return isinstance(text, str)


def _explain(err: ErrorDetails, fields: Mapping[str, _Field], noun: str, csv_file: bool) -> str:
    """One pydantic error, located below its record, as the middle of a sentence.

    ``err["loc"]`` is relative to the record: ``()`` for the record itself,
    ``(field, ...)`` for a field, list index or mapping key below it.
    """
    loc = err["loc"]
    kind = err["type"]
    if not loc:
        if kind in ("model_type", "model_attributes_type", "dict_type"):
            found = _found(err["input"], echo=False)
            return f"found {found}, expected an object with the {noun}'s fields"
        return str(err["msg"]).removeprefix("Value error, ")
    name = str(loc[0])
    spec = fields.get(name)
    if kind == "extra_forbidden" or spec is None:
        return f"unknown field {_short(name)}" + did_you_mean(name, fields)
    null = " or empty" if csv_file else " or null"
    expected = spec.expected + (null if spec.nullable else "")
    if kind == "missing":
        state = "is empty" if csv_file else "is missing"
        return f"required field {name!r} {state}, expected {expected}"
    path = name
    if len(loc) > 1:  # an item of a list or a value of a mapping; deeper parts are union tags
        sub = loc[1]
        path = f"{name}[{sub}]" if isinstance(sub, int) else f"{name}.{sub}"
        expected = spec.item_expected
    found = _found(err["input"], spec.echo)
    reason = (err.get("ctx") or {}).get("error")
    if kind.startswith("date") and isinstance(reason, str) and "range" in reason:
        found += f" ({reason})"  # e.g. "day value is outside expected range"
    if not csv_file and "without quotes" in str(err["msg"]) and _is_number(err["input"]):
        found += " (text)"
        expected += ", written without quotes"  # models.refuse_quoted_number
    if kind in REASONED_ERRORS:  # a number not exact, a set for a list: why, in its words
        return f"field {path!r} is {found}, expected {expected}: {err['msg']}"
    return f"field {path!r} is {found}, expected {expected}"


class ContractInvalid(ValidationError, InputError):
    """A contract record built in code (``Case(...)``, ``Snapshot.model_validate(...)``)
    off the contract, one sentence a problem, in the words a file's record gets:
    ``Case (id C1): field 'complexity' is 7, expected a whole number from 1 to 4.``

    Pydantic's ``ValidationError`` (what the constructors always raised; ``errors()``
    keeps its details) and an :class:`InputError`, whose ``problems`` are the
    sentences (:func:`record_problems`).
    """

    problems: list[str]

    @classmethod
    def of(cls, exc: ValidationError, model: type[BaseModel], data: Any) -> ContractInvalid:
        """``exc`` (pydantic's, from building ``model`` of ``data``) in the house's words."""
        error = cls.from_exception_data(exc.title, rebuilt_errors(exc))
        error.problems = record_problems(model, exc, data)
        return error

    def __str__(self) -> str:
        return "\n".join(self.problems)

    def __reduce__(self) -> tuple[type[InputError], tuple[list[str]]]:
        # pydantic's details hold values that need not pickle: the sentences do.
        return (InputError, (self.problems,))


def record_problems(model: type[BaseModel], exc: ValidationError, data: Any) -> list[str]:
    """Each error of ``exc``, from building ``model`` of ``data`` in code, as a sentence
    naming the model, the record within it (``Snapshot, cases[3] (id C4)``) and the
    field, as :func:`allocator.io.snapshot_from_dict` names a document's."""
    out: list[str] = []
    for err in exc.errors(include_url=False):
        loc, owner, record, where = err["loc"], model, data, model.__name__
        if len(loc) >= 2 and isinstance(loc[1], int) and str(loc[0]) in model.model_fields:
            item = get_args(unwrapped(model.model_fields[str(loc[0])].annotation))[:1]
            if item and isinstance(item[0], type) and issubclass(item[0], BaseModel):
                rows = data.get(loc[0]) if isinstance(data, Mapping) else None
                index = loc[1]
                record = None
                if isinstance(rows, Sequence) and not isinstance(rows, str):
                    record = rows[index] if 0 <= index < len(rows) else None
                owner, where, loc = item[0], f"{where}, {loc[0]}[{index}]", loc[2:]
        for key in ("id", "case"):  # a plan's rows are named by their case, as load_plan's
            ident = record.get(key) if isinstance(record, Mapping) else getattr(record, key, None)
            if isinstance(ident, str) and ident:
                where += f" ({key} {_label(ident)})"
                break
        said = _explain({**err, "loc": loc}, _fields_of(owner), owner.__name__.lower(), False)
        out.append(f"{where}: {_sentence(said)}")
    return out


#: A problem repeated in more rows than this is reported once, with its count and
#: the first rows: a whole column saved wrongly (Excel re-saving every date as
#: DD/MM/YYYY) is one fix, not 490 lines.
LISTED_ROWS = 3

_DAY_FIRST = re.compile(r"'\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4}'")


@dataclass(frozen=True)
class _Kind:
    """What makes two problems in different rows of one file the same problem."""

    source: str
    subject: str  # "field 'opened'", "the id"
    error: str  # pydantic's error type, or a name for a cross-reference problem


class _Report:
    """Problems collected while reading, sorted by file and row when raised.

    A problem of one :class:`_Kind` found in more than :data:`LISTED_ROWS` rows is
    given once: how many rows, the first few, and the first row's full sentence,
    whose "expected ..." is the one fix.
    """

    def __init__(self) -> None:
        self._items: list[tuple[int, int, str, tuple[_Kind, str, str] | None]] = []
        #: Doubts about input that is still used, one sentence each, in reading order.
        self.warnings: list[str] = []

    def add(
        self, rank: int, row: int, message: str, kind: tuple[_Kind, str, str] | None = None
    ) -> None:
        """Record ``message`` for the file of ``rank`` at ``row`` (-1: the file itself).

        ``kind`` is (the kind of problem, where in the file, the message after the
        place), for a problem that may repeat row after row.
        """
        self._items.append((rank, row, _sentence(message), kind))

    def __len__(self) -> int:
        return len(self._items)

    def raise_if_any(self) -> None:
        """Raise :class:`InputError` with every problem recorded so far, if any."""
        if not self._items:
            return
        ordered = sorted(self._items, key=lambda item: (item[0], item[1]))
        rows: dict[_Kind, list[tuple[str, str]]] = {}
        for _, _, _, kind in ordered:
            if kind is not None:
                rows.setdefault(kind[0], []).append(kind[1:])
        problems: list[str] = []
        for _, _, message, kind in ordered:
            if kind is None or len(rows[kind[0]]) <= LISTED_ROWS:
                problems.append(message)
            elif rows[kind[0]][0] == kind[1:]:  # the first of its kind speaks for all
                problems.append(_grouped(kind[0], rows[kind[0]]))
        raise InputError(list(dict.fromkeys(problems)))


def _grouped(kind: _Kind, rows: list[tuple[str, str]]) -> str:
    """One sentence for a problem found in many rows."""
    places = [place for place, _ in rows[:LISTED_ROWS]]
    more = len(rows) - len(places)
    first_place, first = rows[0]
    text = (
        f"{kind.source}: the same problem with {kind.subject} in {len(rows)} rows "
        f"({', '.join(places)} and {more} more); {first_place}: {first}"
    )
    text = _sentence(text)
    if "expected a date" in first and _DAY_FIRST.search(first):
        text += (
            " The dates look day-first (DD/MM/YYYY), as a spreadsheet saves them in a UK "
            "locale: give the column the format YYYY-MM-DD and save again."
        )
    return text
