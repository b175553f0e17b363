"""Loading a plan (:func:`load_plan`) and a pending handovers file
(:func:`load_pending_handovers`): JSON documents whose problems are named by table
row, as a snapshot's are.
"""

from __future__ import annotations

import re
import types
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any, TypeVar, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from allocator.contract.faults import (
    InputError,
    _explain,
    _found,
    _Report,
    did_you_mean,
    with_article,
)
from allocator.contract.fields import _fields_of, _unwrap, locate
from allocator.contract.models import (
    PENDING_FORMAT,
    PLAN_FORMAT,
    Assignment,
    Handover,
    PendingHandovers,
    Plan,
    Unallocated,
    WorkerLoad,
)
from allocator.io.layout import STDIN, PathLike, check_path
from allocator.io.reading import _read_json, _Table
from allocator.io.validating import _check_format

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
    TypeError
        If ``path`` is not a file path (a dict, a Plan).
    """
    check_path(
        "load_plan", "path", path, "for a plan held as a dict, use Plan.model_validate(data)"
    )
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
    TypeError
        If ``path`` is not a file path.
    """
    check_path(
        "load_pending_handovers",
        "path",
        path,
        "for handovers held as a dict, use PendingHandovers.model_validate(data)",
    )
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
            f"of {with_article(kind)} file."
        )
    return _document(data, model, expected_format, str(path), noun, tables)


def plan_from_dict(data: Mapping[str, Any], *, source: str = "plan") -> Plan:
    """Validate a plan held in memory (parsed JSON, or a plan's own
    ``model_dump(by_alias=True)``), with the same sentences as :func:`load_plan`.

    Raises
    ------
    InputError
        With every problem found, one sentence each, naming ``source`` where a file
        would be named (``plan, assignments[0] (case R1): ...``).
    """
    if not isinstance(data, Mapping):
        raise InputError(
            f"{source}: found {_found(data, echo=False)}, expected an object with the fields "
            "of a plan."
        )
    return _document(dict(data), Plan, PLAN_FORMAT, source, "plan", _PLAN_TABLES)


def _document(
    data: dict[str, Any],
    model: type[_Document],
    expected_format: str,
    source: str,
    noun: str,
    tables: Mapping[str, tuple[type[BaseModel], str, str, int]],
) -> _Document:
    """``data`` validated as ``model``; problems named by table row, from ``source``."""
    report = _Report()
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
                assert isinstance(rows, (list, tuple))  # a plan's own dump holds tuples
                records = _Table(source, str(loc[0]), list(rows), rank, id_key=key)
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
