"""What each field of a model looks like in a file, in words: for reading CSV cells
(:func:`_fields_of`) and for saying what was expected at a place in a document
(:func:`locate`, :func:`expected_at`).
"""

from __future__ import annotations

import types
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from enum import Enum
from functools import cache
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import annotated_types
from pydantic import BaseModel
from pydantic.fields import FieldInfo

from allocator.contract.models import ID_PATTERN, LABEL_PATTERN

# Text fields holding ids, which may be quoted back in a message (as may enum values,
# numbers and dates); any other text (team, area, needs, skills, reasons ...) is
# described by its kind, never shown: it may identify a child.
_ID_FIELDS = frozenset(
    {"id", "family", "worker", "pinned_worker", "previous_workers", "excluded_workers", "case"}
    | {"from"}
)


#: What text of each pattern of the contract must be, in words.
_PATTERN_WORDS = {
    ID_PATTERN: "(not empty, no space at either end, no control or invisible character)",
    LABEL_PATTERN: "(not blank, no control or invisible character but tabs and line breaks)",
}


def _pattern_of(metadata: Iterable[Any]) -> str | None:
    """The contract's pattern (``models.Id``, ``models.Label``) in ``metadata``, if any."""
    for m in metadata:
        if (pattern := getattr(m, "pattern", None)) in _PATTERN_WORDS:
            return str(pattern)
    return None


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
    """``tp`` without ``Annotated``, and its metadata added to ``metadata`` (a
    ``Field(...)``'s constraints as pydantic lists them for a field's own type)."""
    extra: tuple[Any, ...] = ()
    while get_origin(tp) is Annotated:
        tp, *more = get_args(tp)
        for item in more:
            extra += tuple(item.metadata) if isinstance(item, FieldInfo) else (item,)
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
        if (pattern := _pattern_of(item_metadata)) is not None:
            return f"a list of {'ids' if id_like else 'labels'}, each {_PATTERN_WORDS[pattern]}"
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
        if (pattern := _pattern_of(metadata)) is not None:
            noun = "an id" if id_like else "a label" if pattern == LABEL_PATTERN else "text"
            return f"{noun} {_PATTERN_WORDS[pattern]}"
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
