"""Reading and writing snapshots and plans: the only module that touches files.

Input is checked once, here, and every problem a person can fix is reported
together: :class:`InputError` carries one sentence per problem, naming the file,
the row (a CSV line as a spreadsheet shows it, or ``cases[12] (id C0013)`` in
JSON), the field, what was found and what was expected. Free-text values of a
child's record (``area``, ``needs`` ...) are never quoted back; ids, enum values,
numbers and dates may be, shortened.

Formats (see ``docs/FORMAT.md`` Part 2 for the CSV layout and referrals file):

- a snapshot is a JSON file (FORMAT.md) or a directory of CSV tables
  (``snapshot.csv``, ``practitioners.csv``, ``cases.csv``);
- a day's referrals are a JSON list of cases, a JSON object ``{"cases": [...]}``,
  or a CSV file with the columns of ``cases.csv``;
- a plan is a JSON file (FORMAT.md).

Every input file is read once by :func:`read_input`: a regular file or ``-``
(standard input), at most :data:`MAX_INPUT_BYTES`; a key repeated in a JSON object
is an error. Output is written atomically (temporary file in the same directory,
``fsync``, ``os.replace``), so a reader never sees half a file and a failed write
leaves the previous file in place; :func:`check_output` refuses a target that must
not be replaced (a link, a device, a read-only file, an input) before any work.
"""

from __future__ import annotations

import contextlib
import csv
import difflib
import hashlib
import json
import math
import os
import re
import secrets
import stat
import sys
import types
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from enum import Enum
from functools import cache
from io import StringIO
from pathlib import Path
from typing import Annotated, Any, Final, Literal, TypeVar, Union, get_args, get_origin

import annotated_types
from pydantic import BaseModel, TypeAdapter, ValidationError
from pydantic_core import ErrorDetails, to_json, to_jsonable_python

from allocator.models import (
    FIRST_DAY,
    LAST_DAY,
    PENDING_FORMAT,
    PLAN_FORMAT,
    SNAPSHOT_FORMAT,
    Assignment,
    Case,
    Day,
    FileDigest,
    Handover,
    MadeFrom,
    PendingHandovers,
    Plan,
    Practitioner,
    Snapshot,
    Unallocated,
    WorkerLoad,
    case_doubts,
)

__all__ = [
    "CASES_CSV",
    "LIST_SEPARATOR",
    "PRACTITIONERS_CSV",
    "SNAPSHOT_CSV",
    "MAX_INPUT_BYTES",
    "STDIN",
    "InputError",
    "check_output",
    "check_output_folder",
    "describe_value",
    "dump_json",
    "file_digest",
    "inputs_of",
    "expected_at",
    "locate",
    "Location",
    "did_you_mean",
    "is_typo_of",
    "unknown_column",
    "load_plan",
    "load_snapshot",
    "read_input",
    "write_bytes",
    "write_json",
    "write_snapshot",
]

PathLike = str | os.PathLike[str]

SNAPSHOT_CSV = "snapshot.csv"
"""File of a CSV snapshot directory holding the one row of ``format`` and ``as_of``."""
PRACTITIONERS_CSV = "practitioners.csv"
"""File of a CSV snapshot directory holding one practitioner per row."""
CASES_CSV = "cases.csv"
"""File of a CSV snapshot directory holding one case per row."""
LIST_SEPARATOR = ";"
"""Separator of the items of a list field inside one CSV cell."""

# Values longer than this are cut when quoted back in a message.
_SHOWN_CHARS = 30

# Text fields holding ids, which may be quoted back in a message (as may enum values,
# numbers and dates); any other text (team, area, needs, skills, reasons ...) is
# described by its kind, never shown: it may identify a child.
_ID_FIELDS = frozenset(
    {"id", "family", "worker", "pinned_worker", "previous_workers", "excluded_workers", "case"}
    | {"from"}
)


class InputError(Exception):
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
        return (InputError, (self.problems,))


# ------------------------------------------------------------------ field descriptions


@dataclass(frozen=True)
class _Field:
    """How one model field looks in a file, for reading CSV cells and for messages."""

    name: str
    expected: str  # e.g. "a whole number from 1 to 4"
    item_expected: str  # for a list item or mapping value; else same as expected
    nullable: bool
    required: bool
    is_list: bool
    numeric: bool
    echo: bool  # a wrong value may be quoted back in a message


def _show_bound(value: Any) -> str:
    """A bound as written in a message: ``4``, ``10000``, ``0.5`` or ``2999-12-31``."""
    return value.isoformat() if isinstance(value, date) else f"{value:g}"


def _bounds(metadata: Iterable[Any]) -> str:
    """The phrase for pydantic's numeric or date bounds, e.g. ``" from 1 to 4"``."""
    lower = upper = ""
    ge = le = None
    for item in metadata:
        if isinstance(item, annotated_types.Ge):
            ge, lower = item.ge, f"at least {_show_bound(item.ge)}"
        elif isinstance(item, annotated_types.Gt):
            lower = f"greater than {_show_bound(item.gt)}"
        elif isinstance(item, annotated_types.Le):
            le, upper = item.le, f"at most {_show_bound(item.le)}"
        elif isinstance(item, annotated_types.Lt):
            upper = f"less than {_show_bound(item.lt)}"
    if ge is not None and le is not None:
        return f" from {_show_bound(ge)} to {_show_bound(le)}"
    if ge is not None and not upper:
        return f" of {_show_bound(ge)} or more"
    parts = [p for p in (lower, upper) if p]
    return " " + " and ".join(parts) if parts else ""


def _unwrap(tp: Any, metadata: Sequence[Any] = ()) -> tuple[Any, tuple[Any, ...]]:
    """``tp`` without ``Annotated``, and its metadata added to ``metadata``."""
    extra: tuple[Any, ...] = ()
    while get_origin(tp) is Annotated:
        tp, *more = get_args(tp)
        extra += tuple(more)
    return tp, tuple(metadata) + extra


def _describe_type(tp: Any, metadata: Sequence[Any] = (), id_like: bool = False) -> str:
    """What a valid value of type ``tp`` looks like, in words."""
    tp, metadata = _unwrap(tp, metadata)
    origin = get_origin(tp)
    args = get_args(tp)
    if origin in (Union, types.UnionType):
        if set(args) == {int, float}:
            return "a number" + _bounds(metadata)
        if all(isinstance(a, type) and issubclass(a, Enum) for a in args):
            return "one of " + ", ".join(str(m.value) for a in args for m in a)
        return " or ".join(_describe_type(a, metadata, id_like) for a in args)
    if origin is Literal:
        return repr(args[0]) if len(args) == 1 else "one of " + ", ".join(map(str, args))
    if origin in (tuple, list):
        item, item_metadata = _unwrap(args[0] if args else Any)
        if isinstance(item, type) and issubclass(item, BaseModel):
            return "a list of objects"
        if (isinstance(item, type) and issubclass(item, Enum)) or get_origin(item) in (
            Union,
            types.UnionType,
        ):
            return "a list of values, each " + _describe_type(item)
        if item in (int, float):
            count = f"{len(args)} " if origin is tuple and Ellipsis not in args else ""
            number = _describe_type(item, item_metadata).removeprefix("a ")
            return f"a list of {count}{number.replace('number', 'numbers', 1)}"
        return "a list of ids" if id_like else "a list of text values"
    if origin is dict:
        return "an object mapping names to " + _describe_type(args[1]).replace(
            "a number", "numbers"
        )
    if tp is type(None):
        return "null"
    if isinstance(tp, type) and issubclass(tp, Enum):
        return "one of " + ", ".join(str(m.value) for m in tp)
    if tp is date:
        return "a date written YYYY-MM-DD" + _bounds(metadata)
    if tp is bool:
        return "true or false"
    if tp is int:
        return "a whole number" + _bounds(metadata)
    if tp is float:
        return "a number" + _bounds(metadata)
    if tp is str:
        non_empty = any(isinstance(m, annotated_types.MinLen) for m in metadata)
        if id_like:
            return "a non-empty id" if non_empty else "an id"
        return "non-empty text" if non_empty else "text"
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        return "an object"
    return getattr(tp, "__name__", str(tp))


def _is_echo_type(tp: Any) -> bool:
    """Whether values of ``tp`` are enums, numbers or dates (safe to quote back)."""
    tp, _ = _unwrap(tp)
    if get_origin(tp) in (Union, types.UnionType, Literal):
        return True
    if get_origin(tp) is dict:
        return True  # plan objective / settings: names and numbers chosen by the allocator
    return isinstance(tp, type) and (issubclass(tp, Enum | int | float | date))


@cache
def _fields_of(model: type[BaseModel]) -> dict[str, _Field]:
    """Each field of ``model`` under the name it has in a file (its alias, if any)."""
    fields: dict[str, _Field] = {}
    for attr, info in model.model_fields.items():
        name = info.alias or attr
        tp: Any = info.annotation
        metadata: tuple[Any, ...] = tuple(info.metadata)
        nullable = False
        if get_origin(tp) in (Union, types.UnionType) and type(None) in get_args(tp):
            rest = tuple(a for a in get_args(tp) if a is not type(None))
            nullable = True
            tp = rest[0] if len(rest) == 1 else Union[rest]  # noqa: UP007
        tp, metadata = _unwrap(tp, metadata)
        id_like = name in _ID_FIELDS
        is_list = get_origin(tp) in (tuple, list)
        if is_list:
            item: Any = get_args(tp)[0]
        elif get_origin(tp) is dict:
            item = get_args(tp)[1]
        else:
            item = tp
        item_type, _ = _unwrap(item)
        fields[name] = _Field(
            name=name,
            expected=_describe_type(tp, metadata, id_like),
            item_expected=_describe_type(item, metadata, id_like),
            nullable=nullable,
            required=info.is_required(),
            is_list=is_list,
            numeric=item_type in (int, float),
            echo=id_like or _is_echo_type(item),
        )
    return fields


# ------------------------------------------------------------------ message helpers


def _short(value: str) -> str:
    """``value`` quoted, cut to a readable length."""
    if len(value) > _SHOWN_CHARS:
        value = value[: _SHOWN_CHARS - 3] + "..."
    return repr(value)


def _label(value: str) -> str:
    """An id as it appears after ``(id ...)``: cut, control characters escaped, unquoted."""
    return _short(value)[1:-1]


def _found(value: Any, echo: bool) -> str:
    """What was found, in words; the value itself only when it is safe to show."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        text = repr(value)
        return (text if len(text) <= _SHOWN_CHARS else text[:12] + "...") if echo else "a number"
    if isinstance(value, str):
        if not value.strip():
            return "empty"
        return _short(value) if echo else "text"
    if isinstance(value, list | tuple):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return "a value of another kind"


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


@dataclass(frozen=True)
class Location:
    """Where a pydantic error points inside a model, in words (see :func:`locate`).

    Attributes
    ----------
    loc
        The location without pydantic's union tags (``cases[0]``, not
        ``cases[0].str-enum[CaseType]``); ``"[key]"`` still marks a mapping's key.
    expected
        What a valid value there is, in words (``"a number from 0 to 10"``).
    owner
        The model whose field the last part names (for "did you mean"), if any.
    """

    loc: tuple[int | str, ...]
    expected: str
    owner: type[BaseModel] | None


def locate(model: type[BaseModel], loc: Sequence[int | str]) -> Location:
    """Follow a pydantic error location ``loc`` through the fields of ``model``.

    ``"[key]"`` in ``loc`` stands for a mapping's key, as in pydantic's errors.
    """
    tp: Any = model
    metadata: tuple[Any, ...] = ()
    owner: type[BaseModel] | None = None
    kept: list[int | str] = []
    for part in loc:
        tp, metadata = _unwrap(tp, metadata)
        origin = get_origin(tp)
        if origin in (Union, types.UnionType) and isinstance(part, str):
            continue  # a union member's tag: the value is described by the whole union
        kept.append(part)
        if isinstance(tp, type) and issubclass(tp, BaseModel):
            owner = tp
            info = tp.model_fields.get(str(part))
            if info is None:
                return Location(tuple(kept), "a known key", owner)
            tp, metadata = info.annotation, tuple(info.metadata)
            if get_origin(tp) in (Union, types.UnionType) and type(None) in get_args(tp):
                rest = tuple(a for a in get_args(tp) if a is not type(None))
                tp = rest[0] if len(rest) == 1 else Union[rest]  # noqa: UP007
        elif origin is dict:
            tp, metadata = get_args(tp)[0 if part == "[key]" else 1], ()
        elif origin in (tuple, list):
            args = get_args(tp)
            fixed = origin is tuple and Ellipsis not in args
            tp = args[int(part)] if fixed and isinstance(part, int) else args[0]
            metadata = ()
        else:
            break
    return Location(tuple(kept), _describe_type(tp, metadata), owner)


def expected_at(model: type[BaseModel], loc: Sequence[int | str]) -> str:
    """What a valid value at ``loc`` (a pydantic error location) of ``model`` is, in words."""
    return locate(model, loc).expected


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


def did_you_mean(name: str, known: Iterable[str]) -> str:
    """``"; did you mean 'worker'?"`` for a known name ``name`` is a typo of
    (:func:`is_typo_of`), else the list of names."""
    known = list(known)
    close = [
        k for k in difflib.get_close_matches(name, known, n=3, cutoff=0.5) if is_typo_of(name, k)
    ] or [k for k in known if is_typo_of(name, k)]
    if close:
        return f"; did you mean {close[0]!r}?"
    return "; expected one of " + ", ".join(known)


#: Column names that hold free text about a child or a worker: never read, and never
#: suggested as a field (a child's notes must not feed the matching rules).
FREE_TEXT_COLUMNS = frozenset(
    {"notes", "note", "comments", "comment", "description", "remarks", "narrative",
     "summary", "free_text", "freetext", "details", "case_notes", "case notes"}
)  # fmt: skip


def unknown_column(column: str, fields: Iterable[str]) -> str:
    """What to say of a column no field has: free text is named as such (leave it
    out); any other name gets :func:`did_you_mean`."""
    if " ".join(column.replace("_", " ").split()).casefold() in {
        c.replace("_", " ") for c in FREE_TEXT_COLUMNS
    }:
        return (
            "; it looks like free text, which the allocator never reads: leave it out of "
            "the export (no field takes it)"
        )
    return did_you_mean(column, fields)


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
    return f"field {path!r} is {found}, expected {expected}"


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


# ------------------------------------------------------------------ reading files


class _Failed:
    """Marks a file that could not be read (the reason is in the report)."""


_FAILED = _Failed()


MAX_INPUT_BYTES: Final = 256 * 1024 * 1024
"""Largest input file read (snapshot, CSV table, referrals, plan or policy): 256 MiB.

A 50,000-case JSON snapshot is about 20 MB; the limit stops a wrong path (a device
such as ``/dev/zero``, a runaway export) from filling the memory.
"""
STDIN: Final = "-"
"""The path that names standard input (read once, to its end)."""


def _describe_size(size: int) -> str:
    return f"{size / 2**20:.0f} MiB" if size >= 2**20 else f"{size} bytes"


def _too_large(path: Path | str) -> InputError:
    return InputError(
        f"{path}: larger than {_describe_size(MAX_INPUT_BYTES)}, the most the allocator "
        "reads from one file; expected a snapshot, referrals, plan or policy file"
    )


def _read_stream(read: Any, path: Path | str) -> bytes:
    """Everything ``read`` (a file's ``read``) gives, refusing more than the size limit."""
    chunks: list[bytes] = []
    total = 0
    while chunk := read(min(2**20, MAX_INPUT_BYTES + 1 - total)):
        chunks.append(chunk)
        total += len(chunk)
        if total > MAX_INPUT_BYTES:
            raise _too_large(path)
    return b"".join(chunks)


def _is_stdin(status: os.stat_result) -> bool:
    """Whether ``status`` is that of this process's standard input (``/dev/stdin``)."""
    try:
        own = os.fstat(0)
    except OSError:
        return False
    return (own.st_dev, own.st_ino) == (status.st_dev, status.st_ino)


def read_input(path: PathLike) -> bytes:
    """The bytes of one input file, read once, or of standard input for ``-``.

    Only a regular file (or standard input) is read, and at most
    :data:`MAX_INPUT_BYTES`: a device such as ``/dev/zero`` would never end and a
    FIFO with no writer would block for ever.

    Parameters
    ----------
    path
        The file, or ``-`` (or ``/dev/stdin``) for standard input.

    Returns
    -------
    bytes
        The whole content.

    Raises
    ------
    InputError
        One sentence naming the file: missing, a directory, not a regular file,
        unreadable, or larger than the limit.
    """
    if str(path) == STDIN:
        return _read_stream(sys.stdin.buffer.read, "standard input")
    path = Path(path)
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(path, flags)  # non-blocking: opening a FIFO with no writer returns
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise InputError(f"{path}: is a directory, expected a file") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot read the file ({exc.strerror or exc})") from None
    try:
        status = os.fstat(fd)
        if stat.S_ISDIR(status.st_mode):
            raise InputError(f"{path}: is a directory, expected a file")
        if not stat.S_ISREG(status.st_mode):
            if _is_stdin(status):
                return _read_stream(sys.stdin.buffer.read, path)
            raise InputError(
                f"{path}: not a regular file (a device, pipe or socket), expected a file, "
                f"or {STDIN} for standard input"
            )
        if status.st_size > MAX_INPUT_BYTES:
            raise _too_large(path)
        with os.fdopen(os.dup(fd), "rb") as handle:
            return _read_stream(handle.read, path)
    except OSError as exc:
        raise InputError(f"{path}: cannot read the file ({exc.strerror or exc})") from None
    finally:
        os.close(fd)


def _read_text(path: Path, report: _Report, rank: int) -> str | _Failed:
    """The file's text (UTF-8, with or without a byte-order mark), or a reported failure."""
    try:
        raw = read_input(path)
    except InputError as exc:
        report.add(rank, -1, str(exc))
        return _FAILED
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        report.add(
            rank,
            -1,
            f"{path}: not UTF-8 text (byte {exc.start + 1} cannot be read), expected a file "
            "saved as UTF-8 (in a spreadsheet: 'CSV UTF-8')",
        )
        return _FAILED
    if not text.strip():
        report.add(rank, -1, f"{path}: the file is empty")
        return _FAILED
    return text


def _unique_keys(path: Path, report: _Report, rank: int) -> Any:
    """A JSON ``object_pairs_hook`` that reports every key repeated within one object."""

    def hook(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        data = dict(pairs)
        if len(data) < len(pairs):
            seen: set[str] = set()
            ident = data.get("id", data.get("case"))
            owner = f" (the record {_short(ident)})" if isinstance(ident, str) else ""
            for key, _ in pairs:
                if key in seen:
                    report.add(
                        rank,
                        -1,
                        f"{path}: key {_short(key)} appears more than once in one "
                        f"object{owner}; expected each key once (which value was meant?)",
                    )
                seen.add(key)
        return data

    return hook


def _read_json(path: Path, report: _Report, rank: int) -> Any:
    """The parsed JSON document, or :data:`_FAILED` with the reason reported.

    A key repeated within one object is reported (JSON readers differ on which value
    wins), and the document is still returned so that other problems are found too.
    """
    text = _read_text(path, report, rank)
    if isinstance(text, _Failed):
        return text
    return _parse_json(text, path, report, rank)


def json_error(exc: json.JSONDecodeError) -> str:
    """The parser's complaint as a whole sentence with its place.

    Python's own messages end mid-sentence where the place follows
    (``Unterminated string starting at``): the line and column complete them.
    """
    place = f"line {exc.lineno}, column {exc.colno}"
    msg = exc.msg[:1].lower() + exc.msg[1:]
    return f"{msg} {place}" if msg.endswith(" at") else f"{msg} at {place}"


def _parse_json(text: str, path: Path, report: _Report, rank: int) -> Any:
    """``text`` parsed as JSON (see :func:`_read_json`), or :data:`_FAILED`."""
    try:
        return json.loads(text, object_pairs_hook=_unique_keys(path, report, rank))
    except json.JSONDecodeError as exc:
        report.add(rank, -1, f"{path}: not valid JSON: {json_error(exc)}")
    except RecursionError:
        report.add(rank, -1, f"{path}: not valid JSON: nested too deeply")
    return _FAILED


@dataclass
class _Table:
    """The raw records of one table, as read, with where each came from.

    ``lines`` holds the spreadsheet line of each record for a CSV file and is
    ``None`` for JSON, where a record is named by its index (``cases[12]``).
    """

    source: str
    name: str
    rows: list[Any]
    rank: int
    lines: list[int] | None = None
    missing_columns: frozenset[str] = frozenset()
    # Ids of CSV rows too broken to validate (ragged), still counted as known staff.
    broken_ids: list[str] = field(default_factory=list)
    id_key: str = "id"

    def row_key(self, i: int) -> int:
        """The row number used to sort problems."""
        return self.lines[i] if self.lines is not None else i

    def place(self, i: int) -> str:
        """``cases[12]`` or ``line 14``, without the id."""
        return f"line {self.lines[i]}" if self.lines is not None else f"{self.name}[{i}]"

    def where(self, i: int) -> str:
        """``cases[12] (id C0013)`` or ``line 14 (id C0013)``."""
        row = self.rows[i]
        ident = row.get(self.id_key) if isinstance(row, dict) else None
        label = f" ({self.id_key} {_label(ident)})" if isinstance(ident, str) and ident else ""
        return self.place(i) + label

    def add(
        self,
        report: _Report,
        i: int,
        message: str,
        kind: tuple[str, str] | None = None,
    ) -> None:
        """Report ``message`` about record ``i``.

        ``kind`` (the subject, such as ``"field 'opened'"``, and the error) groups the
        same problem in many rows into one report (:data:`LISTED_ROWS`).
        """
        where = self.where(i)
        grouped = None if kind is None else (_Kind(self.source, *kind), where, _sentence(message))
        report.add(self.rank, self.row_key(i), f"{self.source}, {where}: {message}", grouped)


def _read_csv(
    path: Path, fields: Mapping[str, _Field], name: str, report: _Report, rank: int
) -> _Table | None:
    """Read a CSV table into records keyed by field name; ``None`` if unreadable.

    Cells are stripped of surrounding spaces; an empty cell is left out of its
    record (so the field takes its default: null or an empty list); a list cell is
    split on ``;``. Rows whose cells are all empty are skipped. Header problems are
    reported once, not on every row.
    """
    text = _read_text(path, report, rank)
    if isinstance(text, _Failed):
        return None
    reader = csv.reader(StringIO(text, newline=""), strict=True)
    records: list[tuple[int, list[str]]] = []
    line = 0
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            report.add(
                rank,
                line + 1,
                f"{path}, line {line + 1}: not valid CSV ({exc}); the rest "
                "of the file was not read",
            )
            break
        line += 1
        records.append((line, cells))
    if not records:
        return None
    _, header_cells = records[0]
    header = [cell.strip() for cell in header_cells]
    if (wrong_separator := separator_problem(path, header)) is not None:
        report.add(rank, 1, wrong_separator)
        return None
    columns: list[str | None] = []  # None: a column that is not read
    seen: set[str] = set()
    header_problems = len(report)
    for column in header:
        if not column:
            columns.append(None)
            continue
        if column in seen:
            report.add(rank, 1, f"{path}, line 1: column {_short(column)} appears twice")
            columns.append(None)
        elif column not in fields:
            message = f"{path}, line 1: unknown column {_short(column)}"
            report.add(rank, 1, message + unknown_column(column, fields))
            columns.append(None)
        else:
            columns.append(column)
        seen.add(column)
    missing = frozenset(f for f, spec in fields.items() if spec.required and f not in seen)
    for column in sorted(missing, key=list(fields).index):
        report.add(rank, 1, f"{path}, line 1: required column {column!r} is missing")
    header_wrong = len(report) > header_problems
    ragged: list[tuple[int, int]] = []  # (line, cells) of rows not one cell per column
    table = _Table(str(path), name, [], rank, lines=[], missing_columns=missing)
    assert table.lines is not None
    id_index = header.index("id") if "id" in header else None
    for number, cells in records[1:]:
        if not any(cell.strip() for cell in cells):
            continue
        if len(cells) > len(header) and not any(c.strip() for c in cells[len(header) :]):
            cells = cells[: len(header)]  # trailing empty cells a spreadsheet may add
        if len(cells) != len(header):
            ragged.append((number, len(cells)))
            if id_index is not None and id_index < len(cells) and cells[id_index].strip():
                table.broken_ids.append(cells[id_index].strip())
            continue
        record: dict[str, Any] = {}
        for key, cell in zip(columns, cells, strict=True):
            if key is None:
                continue
            cell = _unneutralised(cell.strip())
            if not cell:
                continue
            if fields[key].is_list:
                items = [item.strip() for item in cell.split(LIST_SEPARATOR)]
                record[key] = [item for item in items if item]
                if "," in cell:
                    # "court, welsh" is one item where two were surely meant. The
                    # cell's text is not quoted back: it may identify a child.
                    row_id = "" if id_index is None else f" (id {cells[id_index].strip()})"
                    report.warnings.append(
                        f"{path}, line {number}{row_id}: the {key!r} cell holds a comma; "
                        f"list items are separated by {LIST_SEPARATOR!r}, so it was read as "
                        f"{_count_items(len(record[key]))}"
                    )
            else:
                record[key] = cell
        table.rows.append(record)
        table.lines.append(number)
    _report_ragged(path, len(header), ragged, header_wrong, report, rank)
    return table


def ragged_under_a_wrong_header(path: Path, columns: int, ragged: list[tuple[int, int]]) -> str:
    """One sentence for the rows (line, cells) that do not fit a header with a
    problem: pointing at line 1, however few (a column added to the header alone
    makes every row look short). Also the SSD import's (:mod:`allocator.ssd.tables`)."""
    lines = [line for line, _ in ragged]
    counts = sorted({cells for _, cells in ragged})
    found = f"{counts[0]}" if len(counts) == 1 else f"{counts[0]} to {counts[-1]}"
    shown = ", ".join(map(str, lines[:LISTED_ROWS]))
    more = len(lines) - LISTED_ROWS
    where = f"line {shown}" if len(lines) == 1 else f"lines {shown}"
    if more > 0:
        where += f" and {more} more"
    rows = "1 row" if len(lines) == 1 else f"{len(lines)} rows"
    return (
        f"{path}, {where}: {rows} found with {found} cells where line 1 has {columns} "
        "columns; fix the problem with line 1 above first (these rows were not read)"
    )


def separator_problem(path: Path, header: Sequence[str]) -> str | None:
    """The one problem of a header read as a single column whose name holds another
    separator (a semicolon- or tab-separated file saved as .csv), else ``None``: said
    once, instead of every column missing and every row too wide."""
    if len(header) != 1:
        return None
    for separator, words in ((";", "semicolons"), ("\t", "tabs"), ("|", "bars")):
        if separator in header[0]:
            return (
                f"{path}, line 1: one column named {_short(header[0])}, its names separated "
                f"by {words}; expected a CSV file, its columns separated by commas"
            )
    return None


def _report_ragged(
    path: Path,
    columns: int,
    ragged: list[tuple[int, int]],
    header_wrong: bool,
    report: _Report,
    rank: int,
) -> None:
    """Report the rows (line, cells) whose cells are not one per column of line 1.

    After a problem with line 1 they are one sentence pointing at it, however few:
    a column added to the header alone makes every row look short. Otherwise each
    row is named, and the same count in more than :data:`LISTED_ROWS` rows is one
    sentence (:class:`_Report`).
    """
    if not ragged:
        return
    if header_wrong:
        report.add(rank, ragged[0][0], ragged_under_a_wrong_header(path, columns, ragged))
        return
    for line, cells in ragged:
        message = f"found {cells} cells, expected {columns} (one per column of line 1)"
        kind = (_Kind(str(path), "the number of cells", f"{cells} cells"), f"line {line}", message)
        report.add(rank, line, f"{path}, line {line}: {message}", kind)


# ------------------------------------------------------------------ validating tables

_PRACTITIONERS: TypeAdapter[list[Practitioner]] = TypeAdapter(list[Practitioner])
_CASES: TypeAdapter[list[Case]] = TypeAdapter(list[Case])
_DATE: TypeAdapter[date] = TypeAdapter(Day)

DAY_EXPECTED: Final = "a date written YYYY-MM-DD from 1900-01-01 to 2999-12-31"
"""What a date is, as every message about one says (FORMAT.md "Domains of values")."""


def parse_day(value: Any) -> date | None:
    """``value`` as a date in the format's domain (:data:`DAY_EXPECTED`), else ``None``.

    The one reading of a date given outside a snapshot (``--as-of``, a mapping's
    ``as_of``), so that it is refused, and worded, as a snapshot's ``as_of`` is.
    """
    try:
        return _DATE.validate_python(value)
    except ValidationError:
        return None


def _validate_table(
    table: _Table,
    adapter: TypeAdapter[list[Any]],
    model: type[BaseModel],
    noun: str,
    report: _Report,
) -> list[Any]:
    """All records of ``table`` as models, every problem reported (then ``[]``).

    The whole list is validated in one call, which is fast and still yields every
    error of every record, each located by record index.
    """
    fields = _fields_of(model)
    csv_file = table.lines is not None
    try:
        return adapter.validate_python(table.rows)
    except ValidationError as exc:
        for err in exc.errors(include_url=False):
            index = err["loc"][0]
            assert isinstance(index, int)
            err["loc"] = err["loc"][1:]
            if err["type"] == "missing" and err["loc"] and err["loc"][0] in table.missing_columns:
                continue  # reported once, on the header line
            subject = f"field {str(err['loc'][0])!r}" if err["loc"] else f"the {noun}"
            table.add(report, index, _explain(err, fields, noun, csv_file), (subject, err["type"]))
        return []


def _check_format(
    value: Any, expected: str, where: str, csv_file: bool, report: _Report, rank: int
) -> bool:
    """Report a missing or wrong ``format``; ``False`` if reading should stop."""
    if value is None or value == "":
        state = "is empty" if csv_file else "is missing"
        report.add(rank, 0, f"{where}: required field 'format' {state}, expected {expected!r}")
        return True
    if value != expected:
        found = _short(value) if isinstance(value, str) else _found(value, echo=True)
        report.add(
            rank,
            0,
            f"{where}: field 'format' is {found}, expected {expected!r} (the only version "
            "this allocator reads)",
        )
        return False
    return True


def _check_as_of(
    data: Mapping[str, Any], where: str, csv_file: bool, report: _Report, rank: int
) -> date | None:
    """The snapshot's ``as_of`` date, or ``None`` with the problem reported."""
    fields = _fields_of(Snapshot)
    if data.get("as_of") in (None, ""):
        err: ErrorDetails = {"type": "missing", "loc": ("as_of",), "msg": "", "input": None}
        report.add(rank, 0, f"{where}: {_explain(err, fields, 'snapshot', csv_file)}")
        return None
    try:
        return _DATE.validate_python(data["as_of"])
    except ValidationError as exc:
        err = exc.errors(include_url=False)[0]
        err["loc"] = ("as_of",)
        report.add(rank, 0, f"{where}: {_explain(err, fields, 'snapshot', csv_file)}")
        return None


@dataclass
class _Parts:
    """A snapshot as read, before its records are validated."""

    source: str
    format_ok: bool
    as_of: date | None
    practitioners: _Table | None
    cases: _Table | None
    validated: bool = False  # the tables hold only ids; the records are already models


def _snapshot_json(path: Path | str, data: Any, report: _Report) -> _Parts:
    source = str(path)
    if isinstance(data, _Failed):
        return _Parts(source, True, None, None, None)
    if not isinstance(data, dict):
        report.add(
            0,
            -1,
            f"{path}: found {_found(data, echo=False)}, expected a JSON object with the fields "
            "format, as_of, practitioners and cases",
        )
        return _Parts(source, False, None, None, None)
    fields = _fields_of(Snapshot)
    if not _check_format(data.get("format"), SNAPSHOT_FORMAT, source, False, report, 0):
        return _Parts(source, False, None, None, None)
    for key in data:
        if key not in fields:
            report.add(0, 0, f"{path}: unknown field {_short(key)}" + did_you_mean(key, fields))
    as_of = _check_as_of(data, source, False, report, 0)
    tables: list[_Table | None] = []
    for rank, name in ((1, "practitioners"), (2, "cases")):
        rows = data.get(name)
        if name not in data:
            report.add(rank, -1, f"{path}: required field {name!r} is missing, expected a list")
            tables.append(None)
        elif not isinstance(rows, list):
            found = _found(rows, echo=False)
            report.add(rank, -1, f"{path}: field {name!r} is {found}, expected a list")
            tables.append(None)
        else:
            tables.append(_Table(source, name, rows, rank))
    return _Parts(source, True, as_of, tables[0], tables[1])


def _snapshot_csv(directory: Path, report: _Report) -> _Parts:
    head_path = directory / SNAPSHOT_CSV
    head_fields = {k: v for k, v in _fields_of(Snapshot).items() if k in ("format", "as_of")}
    head = _read_csv(head_path, head_fields, "snapshot", report, 0)
    format_ok, as_of = True, None
    if head is not None and head.lines is not None:
        if len(head.rows) != 1:
            report.add(
                0,
                -1,
                f"{head_path}: found {len(head.rows)} rows under the header, expected one row "
                "with the format and as_of",
            )
        else:
            where = f"{head_path}, line {head.lines[0]}"
            row = head.rows[0]
            if "format" not in head.missing_columns:
                format_ok = _check_format(
                    row.get("format"), SNAPSHOT_FORMAT, where, True, report, 0
                )
            if "as_of" not in head.missing_columns:
                as_of = _check_as_of(row, where, True, report, 0)
    if not format_ok:
        return _Parts(str(directory), False, None, None, None)
    practitioners = _read_csv(
        directory / PRACTITIONERS_CSV, _fields_of(Practitioner), "practitioners", report, 1
    )
    cases = _read_csv(directory / CASES_CSV, _fields_of(Case), "cases", report, 2)
    return _Parts(str(directory), True, as_of, practitioners, cases)


def _referrals(path: Path, report: _Report) -> _Table | None:
    """The referrals file's cases as a table (rank 3), or ``None`` if unreadable."""
    rank = 3
    if path.suffix.lower() == ".csv":
        return _read_csv(path, _fields_of(Case), "cases", report, rank)
    data = _read_json(path, report, rank)
    if isinstance(data, _Failed):
        return None
    return _referrals_data(path, data, report)


def _referrals_data(path: Path | str, data: Any, report: _Report) -> _Table | None:
    """Parsed referrals (a list of cases or ``{"cases": [...]}``) as a table (rank 3)."""
    rank = 3
    if isinstance(data, dict):
        for key in data:
            if key != "cases":
                message = f"{path}: unknown field {_short(key)}" + did_you_mean(key, ["cases"])
                report.add(rank, -1, message)
        if "cases" not in data:
            report.add(rank, -1, f"{path}: required field 'cases' is missing, expected a list")
            return None
        data = data["cases"]
    if not isinstance(data, list):
        report.add(
            rank,
            -1,
            f"{path}: found {_found(data, echo=False)}, expected a list of cases or an "
            'object {"cases": [...]}',
        )
        return None
    # FORMAT.md allows a referral's worker to be "empty or null"; the model wants null.
    rows = [
        {**row, "worker": None} if isinstance(row, dict) and row.get("worker") == "" else row
        for row in data
    ]
    return _Table(str(path), "cases", rows, rank)


def _raw_ids(table: _Table) -> Iterable[tuple[int, str]]:
    for i, row in enumerate(table.rows):
        if isinstance(row, dict):
            ident = row.get("id")
            if isinstance(ident, str) and ident:
                yield i, ident


def _cross_references(
    practitioners: _Table | None,
    cases: _Table | None,
    referrals: _Table | None,
    report: _Report,
) -> None:
    """Report duplicate ids and ``worker`` / ``pinned_worker`` naming no practitioner.

    Works on the raw records so that a record with another problem still counts
    (its id is known staff; its own references are checked).
    """
    staff: set[str] | None = None
    if practitioners is not None and not practitioners.rows and not practitioners.broken_ids:
        where = (
            f"{practitioners.source}: no rows under the header"
            if practitioners.lines is not None
            else f"{practitioners.source}: field 'practitioners' is an empty list"
        )
        report.add(
            practitioners.rank,
            -1,
            f"{where}, expected at least one practitioner (was the table emptied?)",
        )
    if practitioners is not None:
        staff = set(practitioners.broken_ids)
        first: dict[str, int] = {}
        for i, ident in _raw_ids(practitioners):
            if ident in first:
                practitioners.add(
                    report,
                    i,
                    f"duplicate id {_short(ident)}, already used at "
                    f"{practitioners.place(first[ident])}; expected each practitioner id once",
                    ("the id", "duplicate"),
                )
            else:
                first[ident] = i
        staff.update(first)
    # Where the practitioners are, when not in the same file as the case (a CSV folder).
    staff_file = (
        f" in {practitioners.source}"
        if practitioners is not None and practitioners.lines is not None
        else ""
    )
    seen: dict[str, tuple[_Table, int]] = {}
    for table in (cases, referrals):
        if table is None:
            continue
        null = "empty" if table.lines is not None else "null"
        for i, ident in _raw_ids(table):
            if ident not in seen:
                seen[ident] = (table, i)
                continue
            other, j = seen[ident]
            if other is table:
                message = (
                    f"duplicate id {_short(ident)}, already used at {table.place(j)}; "
                    "expected each case id once"
                )
            else:
                message = (
                    f"id {_short(ident)} is already in the snapshot ({other.source}, "
                    f"{other.place(j)}); expected a new case id"
                )
            table.add(report, i, message, ("the id", "duplicate"))
        for i, row in enumerate(table.rows):
            if not isinstance(row, dict):
                continue
            worker = row.get("worker")
            if table is referrals and worker is not None:
                found = _short(worker) if isinstance(worker, str) else _found(worker, True)
                table.add(
                    report,
                    i,
                    f"field 'worker' is {found}, expected {null}: a referral is not yet allocated",
                    ("field 'worker'", "referral"),
                )
            elif staff is not None and isinstance(worker, str) and worker not in staff:
                table.add(
                    report,
                    i,
                    f"field 'worker' is {_short(worker)}, expected the id of one of the "
                    f"practitioners{staff_file} or {null} (a worker who has left stays in the "
                    "practitioners with leaving_on: their children are then re-allocated)",
                    ("field 'worker'", "unknown"),
                )
            pinned = row.get("pinned_worker")
            if staff is not None and isinstance(pinned, str) and pinned not in staff:
                table.add(
                    report,
                    i,
                    f"field 'pinned_worker' is {_short(pinned)}, expected the id of one of the "
                    f"practitioners{staff_file} or {null}",
                    ("field 'pinned_worker'", "unknown"),
                )


def _fast_snapshot(text: str) -> Snapshot | None:
    """The JSON snapshot parsed and validated in one call by pydantic-core, or ``None``.

    Most snapshots are valid, and this is about three times faster than reading
    record by record; anything it does not accept goes the slow, fully reported way.

    pydantic-core keeps the last of a repeated key silently, so the snapshot is only
    returned when no key can have been repeated: each key in the text is followed by
    one ``:`` and the records hold one field per distinct key, so if the text holds
    no more colons than the records hold fields, no key was repeated. (Colons inside
    text values only send a snapshot the slow way, which finds repeats exactly.)
    """
    try:
        snapshot = Snapshot.model_validate_json(text)
    except ValidationError:
        return None
    if not snapshot.practitioners:
        # the model accepts it; the reader's own rule (FORMAT.md "Reading rules") does
        # not, and the slow way reports it
        return None
    fields = len(snapshot.model_fields_set) + sum(
        len(record.model_fields_set) for record in (*snapshot.practitioners, *snapshot.cases)
    )
    return snapshot if text.count(":") <= fields else None


def _count_items(n: int) -> str:
    """``"1 item"``, ``"2 items"``."""
    return f"{n} item" if n == 1 else f"{n} items"


def load_snapshot(
    path: PathLike, referrals: PathLike | None = None, *, warnings: list[str] | None = None
) -> Snapshot:
    """Read and validate a snapshot, with a day's referrals merged in.

    Parameters
    ----------
    path
        A JSON snapshot file (FORMAT.md) or a directory holding ``snapshot.csv``,
        ``practitioners.csv`` and ``cases.csv``.
    referrals
        Optional file of new cases: a JSON list of cases, a JSON object
        ``{"cases": [...]}``, or (name ending ``.csv``) a CSV file with the columns of
        ``cases.csv``. Each must have no ``worker`` and an id not in the snapshot;
        they are appended after the snapshot's cases.
    warnings
        If given, doubts about input that is still read are appended to it, one
        sentence each (e.g. a CSV list cell holding a comma: ``court, welsh`` is one
        skill, not two).

    Returns
    -------
    Snapshot
        Valid: every field checked, ids unique, ``worker`` and ``pinned_worker``
        naming practitioners.

    Raises
    ------
    InputError
        With every problem found in all the files, one sentence each.
    """
    if str(path) == STDIN and referrals is not None and str(referrals) == STDIN:
        raise InputError(
            "the snapshot and the referrals both name standard input (-), which can be read "
            "once; expected at most one of them to be -."
        )
    path = Path(path)
    report = _Report()
    practitioners: list[Practitioner] = []
    cases: list[Case] = []
    text: str | _Failed = _FAILED
    if str(path) != STDIN and path.is_dir():
        parts = _snapshot_csv(path, report)
    elif str(path) != STDIN and not (path.exists() or path.is_symlink()):
        raise InputError(
            f"{path}: no such file or directory, expected a JSON snapshot file or a "
            "directory of CSV tables."
        )
    elif path.suffix.lower() == ".csv":
        raise InputError(
            f"{path}: a single CSV file, expected a JSON snapshot file or a directory "
            f"holding {SNAPSHOT_CSV}, {PRACTITIONERS_CSV} and {CASES_CSV}."
        )
    elif not isinstance(text := _read_text(path, report, 0), _Failed) and (
        (fast := _fast_snapshot(text)) is not None
    ):
        if referrals is None:
            if warnings is not None and (doubts := case_doubts(fast)):
                ids = _Table(str(path), "cases", [{"id": c.id} for c in fast.cases], 2)
                warnings.extend(_case_warnings(fast, doubts, [ids]))
            return fast
        # Only the ids are needed to check the referrals against the snapshot.
        practitioners, cases = list(fast.practitioners), list(fast.cases)
        parts = _Parts(
            str(path),
            True,
            fast.as_of,
            _Table(str(path), "practitioners", [{"id": p.id} for p in practitioners], 1),
            _Table(str(path), "cases", [{"id": c.id} for c in cases], 2),
            validated=True,
        )
    else:
        data = _FAILED if isinstance(text, _Failed) else _parse_json(text, path, report, 0)
        parts = _snapshot_json(path, data, report)
    if not parts.format_ok:
        report.raise_if_any()
    extra: _Table | None = None
    if referrals is not None:
        referrals_path = Path(referrals)
        if referrals_path.is_dir():
            report.add(3, -1, f"{referrals_path}: is a directory, expected a referrals file")
        else:
            extra = _referrals(referrals_path, report)
    return _assemble(parts, extra, report, practitioners, cases, warnings)


def snapshot_from_dict(
    data: Mapping[str, Any], referrals: Any = None, *, source: str = "snapshot"
) -> Snapshot:
    """Validate a snapshot held in memory, with the same messages as :func:`load_snapshot`.

    For a service that builds the snapshot itself (from a case-management system's
    API, say) rather than writing a file: the same checks run, and every problem is
    reported in the same words, naming ``source`` where a file would be named.

    Parameters
    ----------
    data
        The snapshot as parsed JSON: ``{"format": "caseload-snapshot/1", "as_of":
        "YYYY-MM-DD", "practitioners": [...], "cases": [...]}`` (docs/FORMAT.md).
    referrals
        Optional new cases, as a referrals file holds them: a list of case records
        or ``{"cases": [...]}``. Appended after the snapshot's cases.
    source
        The name messages give the snapshot (``"snapshot"``: ``snapshot, cases[3] (id
        C0004): ...``); the referrals are named ``<source> referrals``.

    Returns
    -------
    Snapshot
        Valid, as from :func:`load_snapshot`.

    Raises
    ------
    InputError
        With every problem found, one sentence each.
    """
    report = _Report()
    parts = _snapshot_json(source, data, report)
    if not parts.format_ok:
        report.raise_if_any()
    extra = None if referrals is None else _referrals_data(f"{source} referrals", referrals, report)
    return _assemble(parts, extra, report, [], [])


def _raw_day(value: Any) -> date | None:
    """``value`` as a date when it is one written ``YYYY-MM-DD`` within the dates'
    domain (a JSON string, a CSV cell or a date), else ``None``: any other value is
    reported by its field's own check."""
    if isinstance(value, date):
        day = value
    elif isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value.strip()):
        try:
            day = date.fromisoformat(value.strip())
        except ValueError:
            return None
    else:
        return None
    return day if FIRST_DAY <= day <= LAST_DAY else None


def _waiting_dates(table: _Table, as_of: date, report: _Report) -> None:
    """Report a ``waiting_since`` after the snapshot's day or before the case opened,
    with the file, row and id (docs/FORMAT.md "Waiting": refused at the door).

    On the raw records, so the sentence names the row as every other problem does;
    the model's own check (:class:`allocator.models.Snapshot`) is the library's.
    """
    for i, row in enumerate(table.rows):
        if not isinstance(row, dict):
            continue
        since = _raw_day(row.get("waiting_since"))
        if since is None:
            continue
        shown = repr(since.isoformat())
        if since > as_of:
            table.add(
                report,
                i,
                f"field 'waiting_since' is {shown}, after the snapshot's day (as_of "
                f"{as_of.isoformat()}), expected the day the child started waiting, on or "
                "before the snapshot's day",
                ("field 'waiting_since'", "after as_of"),
            )
        opened = _raw_day(row.get("opened"))
        if opened is not None and since < opened:
            table.add(
                report,
                i,
                f"field 'waiting_since' is {shown}, before the day the case opened "
                f"('opened' {opened.isoformat()}), expected a day on or after it",
                ("field 'waiting_since'", "before opened"),
            )


def _assemble(
    parts: _Parts,
    extra: _Table | None,
    report: _Report,
    practitioners: list[Practitioner],
    cases: list[Case],
    warnings: list[str] | None = None,
) -> Snapshot:
    """Validate the records read (unless already models), cross-check, build the snapshot.

    Doubts about input still used are appended to ``warnings`` when given.
    """
    if not parts.validated:
        if parts.practitioners is not None:
            practitioners = _validate_table(
                parts.practitioners, _PRACTITIONERS, Practitioner, "practitioner", report
            )
        if parts.cases is not None:
            cases = _validate_table(parts.cases, _CASES, Case, "case", report)
    if extra is not None:
        cases += _validate_table(extra, _CASES, Case, "case", report)
    _cross_references(parts.practitioners, parts.cases, extra, report)
    if parts.as_of is not None:
        for table in (parts.cases, extra):
            if table is not None:
                _waiting_dates(table, parts.as_of, report)
    report.raise_if_any()
    if warnings is not None:
        warnings.extend(report.warnings)
    assert parts.as_of is not None
    try:
        snapshot = Snapshot(
            format=SNAPSHOT_FORMAT,
            as_of=parts.as_of,
            practitioners=tuple(practitioners),
            cases=tuple(cases),
        )
    except ValidationError as exc:  # a rule of the model's own not checked above
        problems = [
            f"{parts.source}: {problem}"
            for err in exc.errors(include_url=False)
            for problem in str(err["msg"]).removeprefix("Value error, ").split("; ")
        ]
        raise InputError([_sentence(p) for p in problems]) from None
    if warnings is not None:
        warnings.extend(_case_warnings(snapshot, case_doubts(snapshot), [parts.cases, extra]))
    return snapshot


def _case_warnings(
    snapshot: Snapshot, doubts: Sequence[tuple[int, str]], tables: Sequence[_Table | None]
) -> list[str]:
    """Each of :func:`allocator.models.case_doubts` naming the file and row its case
    came from: ``tables`` are those the snapshot's cases were read from, in order (the
    snapshot's, then the referrals'), so a referral's doubt names the referrals file."""
    rows = [(table, i) for table in tables if table is not None for i in range(len(table.rows))]
    out: list[str] = []
    for index, doubt in doubts:
        if len(rows) == len(snapshot.cases):
            table, i = rows[index]
            out.append(f"{table.source}, {table.where(i)}: {doubt}")
        else:  # not read from tables row for row: named by id alone
            out.append(f"case {snapshot.cases[index].id}: {doubt}")
    return out


# ------------------------------------------------------------------ plans

# Each table of a plan: its record model, the noun for messages, the key naming a
# record, and its rank (the order in which problems are listed). Every other list of
# records in a document is found by :func:`_tables_of`; these only name theirs better.
_PLAN_TABLES: dict[str, tuple[type[BaseModel], str, str, int]] = {
    "assignments": (Assignment, "assignment", "case", 1),
    "unallocated": (Unallocated, "unallocated case", "case", 2),
    "workers": (WorkerLoad, "worker load", "id", 3),
}


@cache
def _tables_of(model: type[BaseModel]) -> dict[str, tuple[type[BaseModel], str, str, int]]:
    """Every field of ``model`` that is a list of records, as :data:`_PLAN_TABLES`.

    A record is named by its ``case`` (else its ``id``) and described by its model's
    name in words (``ManagedException``: "managed exception"), so an error inside any
    list of a document (a plan's ``handovers[2]``, ``exceptions[0]``) is told as one
    inside ``assignments[]`` is: file, index, id, the exact field and what it expects.
    """
    tables: dict[str, tuple[type[BaseModel], str, str, int]] = {}
    for rank, (attr, info) in enumerate(model.model_fields.items(), start=1):
        tp, _ = _unwrap(info.annotation)
        if get_origin(tp) not in (tuple, list) or not get_args(tp):
            continue
        item, _ = _unwrap(get_args(tp)[0])
        if isinstance(item, type) and issubclass(item, BaseModel):
            key = "case" if "case" in item.model_fields else "id"
            noun = re.sub(r"(?<=[a-z])(?=[A-Z])", " ", item.__name__).lower()
            tables[info.alias or attr] = (item, noun, key, rank)
    return tables


def load_plan(path: PathLike) -> Plan:
    """Read and validate a plan (FORMAT.md "Plan") from a JSON file.

    Parameters
    ----------
    path
        The plan file. Its ``format`` must be ``allocation-plan/1``.

    Returns
    -------
    Plan
        The validated plan.

    Raises
    ------
    InputError
        With every problem found, one sentence each, e.g.
        ``plan.json, assignments[3] (case R0004): field 'worker' is missing ...``.
    """
    return _load_document(path, Plan, PLAN_FORMAT, "plan", "plan", _PLAN_TABLES)


#: The one table of a pending handovers file, as :data:`_PLAN_TABLES`.
_PENDING_TABLES: dict[str, tuple[type[BaseModel], str, str, int]] = {
    "handovers": (Handover, "handover", "case", 1),
}


def load_pending_handovers(path: PathLike) -> PendingHandovers:
    """Read and validate a pending handovers file (docs/FORMAT.md, "Applying a plan").

    Parameters
    ----------
    path
        The file ``allocator apply`` wrote beside a snapshot (``next.handovers.json``).
        Its ``format`` must be ``pending-handovers/1``.

    Raises
    ------
    InputError
        With every problem found, one sentence each, as :func:`load_plan`.
    """
    return _load_document(
        path, PendingHandovers, PENDING_FORMAT, "pending handovers", "handovers", _PENDING_TABLES
    )


_Document = TypeVar("_Document", bound=BaseModel)


def _explain_nested(err: ErrorDetails, model: type[BaseModel]) -> str | None:
    """An error inside a document's field that is itself an object (a plan's
    ``made_from.snapshot.sha256``, a pending file's ``plan.sha256``), named by its whole
    path and described by the field it points at; ``None`` for any other error."""
    loc = err["loc"]
    info = model.model_fields.get(str(loc[0])) if len(loc) > 1 else None
    if info is None:
        return None
    tp: Any = info.annotation
    if get_origin(tp) in (Union, types.UnionType):
        members = [a for a in get_args(tp) if a is not type(None)]
        tp = members[0] if len(members) == 1 else None
    if not (isinstance(tp, type) and issubclass(tp, BaseModel)):
        return None
    where = locate(model, loc)
    path = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in where.loc)[1:]
    kind = err["type"]
    if kind == "extra_forbidden":
        known = where.owner.model_fields if where.owner is not None else ()
        return f"unknown field {path!r}" + did_you_mean(str(loc[-1]), known)
    expected = where.expected
    pattern = (err.get("ctx") or {}).get("pattern")
    if kind == "string_pattern_mismatch" and pattern:
        sha = pattern == "^[0-9a-f]{64}$"
        expected = "a SHA-256: 64 digits 0-9 and a-f" if sha else f"text matching {pattern}"
    if kind == "missing":
        return f"required field {path!r} is missing, expected {expected}"
    return f"field {path!r} is {_found(err['input'], echo=True)}, expected {expected}"


def _load_document(
    path: PathLike,
    model: type[_Document],
    expected_format: str,
    kind: str,
    noun: str,
    tables: Mapping[str, tuple[type[BaseModel], str, str, int]],
) -> _Document:
    """Read one JSON document of ``model``; problems named by table row, as a plan's.

    ``kind`` names the file (``a JSON plan file``), ``noun`` the document in messages.
    """
    path = Path(path)
    report = _Report()
    if str(path) != STDIN and not path.exists():
        raise InputError(f"{path}: no such file, expected a JSON {kind} file.")
    data = _read_json(path, report, 0)
    report.raise_if_any()
    if not isinstance(data, dict):
        raise InputError(
            f"{path}: found {_found(data, echo=False)}, expected a JSON object with the fields "
            f"of a {kind} file."
        )
    source = str(path)
    if not _check_format(data.get("format"), expected_format, source, False, report, 0):
        report.raise_if_any()
    tables = {**_tables_of(model), **tables}
    try:
        document = model.model_validate(data)
    except ValidationError as exc:
        for err in exc.errors(include_url=False):
            loc = err["loc"]
            table = tables.get(str(loc[0])) if loc else None
            rows = data.get(str(loc[0])) if loc else None
            if table is not None and len(loc) > 1 and isinstance(loc[1], int):
                row_model, row_noun, key, rank = table
                assert isinstance(rows, list)
                records = _Table(source, str(loc[0]), rows, rank, id_key=key)
                err["loc"] = loc[2:]
                records.add(report, loc[1], _explain(err, _fields_of(row_model), row_noun, False))
            elif loc and loc[0] == "format":
                continue  # reported above
            else:
                said = _explain_nested(err, model) or _explain(err, _fields_of(model), noun, False)
                report.add(0, 0, f"{source}: {said}")
        report.raise_if_any()
        raise InputError(f"{source}: not a valid {noun} ({exc.error_count()} problems).") from None
    report.raise_if_any()
    return document


# ------------------------------------------------------------------ provenance


def file_digest(path: PathLike) -> FileDigest:
    """The SHA-256 of an input file, or of a CSV snapshot directory, with its name.

    A directory's digest is the SHA-256 of the lines ``<sha256 of file>  <file
    name>\n`` for its three tables in the order ``snapshot.csv``,
    ``practitioners.csv``, ``cases.csv`` (a missing table counts as empty), so two
    directories holding the same tables have the same digest.

    Parameters
    ----------
    path
        The file or directory, named as the user named it.

    Raises
    ------
    OSError
        If the file cannot be read.
    """
    if str(path) == STDIN:
        return FileDigest(file=STDIN)  # read once already: no digest can be taken
    path = Path(path)
    if path.is_dir():
        lines = []
        for name in (SNAPSHOT_CSV, PRACTITIONERS_CSV, CASES_CSV):
            table = path / name
            data = table.read_bytes() if table.exists() else b""
            lines.append(f"{hashlib.sha256(data).hexdigest()}  {name}\n")
        digest = hashlib.sha256("".join(lines).encode()).hexdigest()
    else:
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
    return FileDigest(file=str(path), sha256=digest)


def inputs_of(
    snapshot: PathLike,
    referrals: PathLike | None = None,
    policy: PathLike | None = None,
    command: str | None = None,
) -> MadeFrom:
    """What a plan is made from (or checked against): each input file with its digest.

    Parameters
    ----------
    snapshot, referrals, policy
        The files as given on the command line; ``None`` for one not given.
    command
        The command that made the plan (``allocate``, ``rebalance``), if any.

    Raises
    ------
    OSError
        If a file cannot be read (they have been read once already, so rarely).
    """
    return MadeFrom(
        snapshot=file_digest(snapshot),
        referrals=None if referrals is None else file_digest(referrals),
        policy=None if policy is None else file_digest(policy),
        command=command,
    )


# ------------------------------------------------------------------ writing


def dump_json(model_or_data: Any) -> str:
    """The JSON text written for a model or plain data: indent 2, UTF-8, final newline.

    Pydantic models are written by alias (``Assignment.from_`` as ``from``), dates as
    ``YYYY-MM-DD``, tuples as lists, non-ASCII text as itself.

    Raises
    ------
    ValueError
        For a number JSON cannot hold (NaN, infinity).
    pydantic_core.PydanticSerializationError
        For an object that is not data.
    """
    # pydantic-core writes a 50,000-case snapshot in a fraction of the time json.dumps
    # takes, but turns NaN and infinity into null silently; the scan below is cheap and
    # the strict check only runs when the text may hold such a constant.
    text = to_json(model_or_data, indent=2, by_alias=True, inf_nan_mode="constants").decode()
    if "NaN" in text or "Infinity" in text:
        json.dumps(to_jsonable_python(model_or_data, by_alias=True), allow_nan=False)
    return text + "\n"


def _fsync_directory(directory: Path) -> None:
    """Make a rename durable; not possible on every platform, so best effort."""
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _same_file(a: os.stat_result, b: os.stat_result) -> bool:
    return (a.st_dev, a.st_ino) == (b.st_dev, b.st_ino)


def _output_problem(path: Path, inputs: Mapping[str, PathLike]) -> str | None:
    """Why the file ``path`` must not be replaced by an output, or ``None`` if it may.

    It may be a new path in an existing folder the allocator can write in, or an
    existing regular file that is writable and is none of ``inputs``.
    """
    try:
        status = os.lstat(path)
    except FileNotFoundError:
        folder = path.parent
        if not folder.is_dir():
            return f"the folder {folder} does not exist; expected a path in an existing folder"
        if not os.access(folder, os.W_OK | os.X_OK):
            return f"cannot write in the folder {folder}; expected a folder you may write in"
        return None
    except OSError as exc:
        return f"cannot be examined ({exc.strerror or exc})"
    if stat.S_ISLNK(status.st_mode):
        return (
            "is a symbolic link, which would be replaced rather than its target written; "
            "expected a regular file or a new path (name the link's target instead)"
        )
    if stat.S_ISDIR(status.st_mode):
        return "is a folder, expected a file or a new path"
    if not stat.S_ISREG(status.st_mode):
        return "is a device, pipe or socket, expected a regular file or a new path"
    for name, source in inputs.items():
        if str(source) == STDIN:
            continue
        source = Path(source)
        candidates = (
            [source / t for t in (SNAPSHOT_CSV, PRACTITIONERS_CSV, CASES_CSV)]
            if source.is_dir()
            else [source]
        )
        for candidate in candidates:
            with contextlib.suppress(OSError):
                if _same_file(os.stat(candidate), status):
                    return f"is the input {name} ({candidate}); expected another path"
    writable = status.st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH)
    if not writable or not os.access(path, os.W_OK):
        return "is read-only; expected a file that may be replaced, or a new path"
    return None


def check_output(
    path: PathLike | None, inputs: Mapping[str, PathLike | None] | None = None
) -> None:
    """Refuse, before any work is done, an output path that must not be replaced.

    Parameters
    ----------
    path
        Where a plan or a JSON snapshot will be written; ``None`` or ``-`` (standard
        output) is always fine. Otherwise it must be a new path in an existing
        folder that can be written, or an existing regular file that is writable —
        never a symbolic link, a device (``/dev/null``), a pipe or a folder.
    inputs
        The command's input files by what they are (``{"snapshot": ...}``): the
        output may not be one of them (nor a table of an input CSV folder).

    Raises
    ------
    InputError
        One sentence naming the path and what was expected.
    """
    if path is None or str(path) == STDIN:
        return
    given = {name: source for name, source in (inputs or {}).items() if source is not None}
    problem = _output_problem(Path(path), given)
    if problem is not None:
        raise InputError(f"{path}: {problem}; nothing was written.")


def check_output_folder(
    path: PathLike,
    inputs: Mapping[str, PathLike | None] | None = None,
    files: Sequence[str] = (SNAPSHOT_CSV, PRACTITIONERS_CSV, CASES_CSV),
) -> None:
    """Refuse, before any work is done, an output folder that must not be written.

    The one rule for every ``--out`` folder (a CSV snapshot, a forecast, a
    simulation, a capacity table, a sweep): an existing folder, or a new name in an
    existing folder you may write in (the folder is then made) — as a file's
    ``--out`` (:func:`check_output`), a missing parent folder is refused, never made.

    Parameters
    ----------
    path
        The folder.
    inputs
        As :func:`check_output`.
    files
        The files to be written in an existing folder, each checked as
        :func:`check_output` (default: a CSV snapshot's tables).

    Raises
    ------
    InputError
        If ``path`` is a symbolic link or a file, its parent folder does not exist
        or may not be written, or one of ``files`` may not be replaced.
    """
    folder = Path(path)
    if folder.is_symlink() or (folder.exists() and not folder.is_dir()):
        raise InputError(
            f"{folder}: expected a folder (not a link or a file); nothing was written."
        )
    if folder.is_dir():
        for name in files:
            check_output(folder / name, inputs)
        return
    problem = _output_problem(folder, {})
    if problem is not None:
        raise InputError(f"{folder}: {problem}; nothing was written.")


#: The name of the pending handovers written beside a CSV snapshot folder.
PENDING_HANDOVERS_NAME = "handovers.json"


def pending_handovers_path(snapshot_path: PathLike) -> Path:
    """Where the handovers still pending go beside a snapshot written to ``snapshot_path``.

    ``next.json`` -> ``next.handovers.json``; a CSV snapshot folder ``next/`` ->
    ``next/handovers.json`` (a folder's other files are ignored by the reader).
    """
    path = Path(snapshot_path)
    if path.suffix.lower() == ".json":
        return path.with_name(f"{path.stem}.handovers.json")
    return path / PENDING_HANDOVERS_NAME


def check_snapshot_output(
    path: PathLike, inputs: Mapping[str, PathLike | None] | None = None
) -> None:
    """Refuse, before any work, a snapshot target :func:`write_snapshot` may not replace.

    A ``.json`` path as :func:`check_output`; any other path as a CSV folder
    (:func:`check_output_folder`).

    Raises
    ------
    InputError
        One sentence naming the path and what was expected.
    """
    if str(path) == STDIN:
        raise InputError(
            "-: standard output, expected a .json file or a folder for the snapshot; "
            "nothing was written."
        )
    if Path(path).suffix.lower() == ".json":
        check_output(path, inputs)
    else:
        check_output_folder(path, inputs)


def _atomic_write(path: Path, content: bytes) -> None:
    """Replace ``path`` with ``content`` in one step, or leave it as it was.

    The temporary file lives in the same directory (so ``os.replace`` is a rename on
    one file system) and keeps the mode of the file it replaces. The target is
    checked first (:func:`check_output`): a link, device or read-only file is
    never replaced.

    Raises
    ------
    InputError
        If ``path`` may not be replaced.
    OSError
        If writing fails; it names ``path``, not the temporary file.
    """
    check_output(path)
    directory = path.parent
    temporary = directory / f".{path.name}.{secrets.token_hex(6)}.tmp"
    try:
        fd = os.open(
            temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666
        )
    except OSError as exc:
        raise OSError(exc.errno, exc.strerror, str(path)) from None
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
        with contextlib.suppress(FileNotFoundError):
            os.chmod(temporary, stat.S_IMODE(os.stat(path).st_mode))
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
    _fsync_directory(directory)


def json_for_terminal(text: str) -> str:
    r"""JSON ``text`` with every character that is not printable (a C1 control, a bidi
    override) written as its ``\uXXXX`` escape: the same JSON, nothing a terminal acts on.

    A file keeps the bytes :func:`dump_json` gives (stored plans are hashed); only
    standard output, which may be a terminal, is escaped.

    >>> json_for_terminal('{"id": "C‮R"}')
    '{"id": "C\\u202eR"}'
    """
    if text.replace("\n", "").isprintable():
        return text

    def escaped(ch: str) -> str:
        if ch == "\n" or ch.isprintable():
            return ch
        units = ch.encode("utf-16-be")
        return "".join(
            f"\\u{int.from_bytes(units[i : i + 2], 'big'):04x}" for i in range(0, len(units), 2)
        )

    return "".join(escaped(ch) for ch in text)


def write_json(path: PathLike | None, model_or_data: Any) -> None:
    """Write a model or plain data as JSON (see :func:`dump_json`), atomically.

    Parameters
    ----------
    path
        The file to write; ``None`` or ``"-"`` writes to standard output.
    model_or_data
        A pydantic model (written by alias) or JSON-able data.

    Raises
    ------
    ValueError, pydantic_core.PydanticSerializationError
        If the data cannot be written as JSON; an existing file is left untouched.
    InputError
        If ``path`` may not be replaced (see :func:`check_output`): a link, a
        device, a folder, a read-only file, or a path in a folder that does not exist.
    OSError
        If the file cannot be written.
    """
    text = dump_json(model_or_data)
    if path is None or str(path) == "-":
        sys.stdout.write(json_for_terminal(text))
        sys.stdout.flush()
        return
    _atomic_write(Path(path), text.encode("utf-8"))


def write_text(path: PathLike, text: str) -> None:
    """Write UTF-8 text to ``path`` atomically (as :func:`write_json` does).

    Raises
    ------
    InputError
        If ``path`` may not be replaced (see :func:`check_output`).
    OSError
        If the file cannot be written.
    """
    write_bytes(path, text.encode("utf-8"))


def write_bytes(path: PathLike, content: bytes) -> None:
    """Write ``content`` to ``path`` atomically (as :func:`write_text` does): a PNG.

    Raises
    ------
    InputError
        If ``path`` may not be replaced (see :func:`check_output`).
    OSError
        If the file cannot be written.
    """
    _atomic_write(Path(path), content)


#: A cell starting with one of these is a formula to a spreadsheet (CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@")


def _neutralised(text: str) -> str:
    """``text`` as a cell a spreadsheet shows as text, never runs: a leading ``'``
    before a formula character (and before quotes that precede one, so that
    :func:`_unneutralised` reads back exactly what was written)."""
    return "'" + text if text.lstrip("'").startswith(FORMULA_STARTS) else text


def _unneutralised(cell: str) -> str:
    """The value of a cell :func:`_neutralised` wrote (or a spreadsheet user quoted)."""
    if cell.startswith("'") and cell.lstrip("'").startswith(FORMULA_STARTS):
        return cell[1:]
    return cell


def _csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, Enum):
        return str(value.value)
    if isinstance(value, float):
        return repr(value)  # shortest text that reads back as the same float
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, tuple | list):
        return _neutralised(LIST_SEPARATOR.join(value))
    return _neutralised(str(value))


def _unwritable(value: Any) -> str | None:
    """Why ``value`` would not read back the same from a CSV cell, or ``None``."""
    if isinstance(value, str) and (not value or value != value.strip()):
        return "is empty or starts or ends with a space"
    if isinstance(value, tuple):
        for item in value:
            if not item or item != item.strip() or LIST_SEPARATOR in item:
                return (
                    f"has an item that is empty, has surrounding spaces or holds {LIST_SEPARATOR!r}"
                )
    if isinstance(value, float) and not math.isfinite(value):
        return "is not a finite number"
    return None


def _csv_text(
    records: Sequence[BaseModel], model: type[BaseModel], name: str
) -> tuple[str, list[str]]:
    """One table as CSV text, and the values that would not read back the same."""
    attrs = list(model.model_fields)
    columns = list(_fields_of(model))
    out = StringIO(newline="")
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    problems: list[str] = []
    for i, record in enumerate(records):
        values = [getattr(record, attr) for attr in attrs]
        for column, value in zip(columns, values, strict=True):
            why = _unwritable(value)
            if why is not None:
                ident = getattr(record, "id", "")
                problems.append(
                    f"cannot write {name}, line {i + 2} (id {_label(str(ident))}): field "
                    f"{column!r} {why}, which a CSV cell cannot hold exactly; write JSON instead."
                )
        writer.writerow([_csv_cell(value) for value in values])
    return out.getvalue(), problems


def write_snapshot(snapshot: Snapshot, path: PathLike) -> Path:
    """Write a snapshot as JSON (``path`` ends ``.json``) or as a CSV directory.

    The CSV directory holds ``snapshot.csv``, ``practitioners.csv`` and ``cases.csv``
    (layout in ``docs/FORMAT.md`` Part 2); it is created if needed and each file
    is replaced atomically. Either way :func:`load_snapshot` reads back an equal
    snapshot.

    Parameters
    ----------
    snapshot
        The snapshot to write.
    path
        A ``.json`` file name, or a directory.

    Returns
    -------
    Path
        ``path``, for chaining (``load_snapshot(write_snapshot(s, p)) == s``).

    Raises
    ------
    InputError
        If a value cannot be held exactly by a CSV cell (empty text, text with
        surrounding spaces, a list item holding ``;``), or if the target may not be
        replaced (:func:`check_output`, :func:`check_output_folder`); nothing is
        written then.
    OSError
        If a file cannot be written.
    """
    path = Path(path)
    if path.suffix.lower() != ".json":
        check_output_folder(path)
    if path.suffix.lower() == ".json":
        write_json(path, snapshot)
        return path
    head = StringIO(newline="")
    writer = csv.writer(head, lineterminator="\n")
    writer.writerow(["format", "as_of"])
    writer.writerow([snapshot.format, snapshot.as_of.isoformat()])
    staff, staff_problems = _csv_text(snapshot.practitioners, Practitioner, PRACTITIONERS_CSV)
    cases, case_problems = _csv_text(snapshot.cases, Case, CASES_CSV)
    if staff_problems or case_problems:
        raise InputError([f"{path}: {p}" for p in staff_problems + case_problems])
    path.mkdir(parents=True, exist_ok=True)
    for name, text in (
        (SNAPSHOT_CSV, head.getvalue()),
        (PRACTITIONERS_CSV, staff),
        (CASES_CSV, cases),
    ):
        _atomic_write(path / name, text.encode("utf-8"))
    return path
