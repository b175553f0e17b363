"""Validating the records read: each table against its model, a document's
``format``, a snapshot's ``as_of``, and the checks across records (ids once, workers
who exist, waiting dates), on the raw records so that each problem names its file
and row; also the one reading of a date given outside a snapshot (:func:`parse_day`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Any, Final

from pydantic import BaseModel, TypeAdapter, ValidationError
from pydantic_core import ErrorDetails

from allocator.contract.faults import _explain, _found, _Report, _short
from allocator.contract.fields import _fields_of
from allocator.contract.models import (
    FIRST_DAY,
    LAST_DAY,
    PENDING_FORMAT,
    PLAN_FORMAT,
    SNAPSHOT_FORMAT,
    TEXT_CELLS,
    Day,
    Snapshot,
)
from allocator.io.reading import _Table

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
        return adapter.validate_python(table.rows, context={TEXT_CELLS: csv_file})
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
        if value in FILE_KINDS and expected in FILE_KINDS:
            # Another of the allocator's own files: most often two paths swapped
            # (check takes SNAPSHOT PLAN, explain PLAN --snapshot SNAPSHOT).
            why = (
                f": this file is {FILE_KINDS[value]}, where {FILE_KINDS[expected]} was "
                "expected (are the files in the order the command takes them? see its --help)"
            )
        else:
            why = " (the only version this allocator reads)"
        report.add(rank, 0, f"{where}: field 'format' is {found}, expected {expected!r}{why}")
        return False
    return True


#: The allocator's own files by their ``format``, as a sentence names them.
FILE_KINDS: Final = {
    SNAPSHOT_FORMAT: "a snapshot",
    PLAN_FORMAT: "a plan",
    PENDING_FORMAT: "a pending-handovers file (from apply)",
}


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


def _raw_ids(table: _Table) -> Iterable[tuple[int, str]]:
    for i, row in enumerate(table.rows):
        if isinstance(row, dict):
            ident = row.get("id")
            if isinstance(ident, str) and ident:
                yield i, ident


def _nameless(table: _Table) -> list[int]:
    """The records of ``table`` with no id to know them by (missing, blank, not text,
    or not a record at all): what refers to them cannot be told from a typo."""
    named = {i for i, ident in _raw_ids(table) if ident.strip()}
    return [i for i in range(len(table.rows)) if i not in named]


def _cross_references(
    practitioners: _Table | None,
    cases: _Table | None,
    referrals: _Table | None,
    report: _Report,
) -> None:
    """Report duplicate ids and ``worker`` / ``pinned_worker`` naming no practitioner.

    Works on the raw records so that a record with another problem still counts
    (its id is known staff; its own references are checked). While a practitioner
    has no id (:func:`_nameless`, reported by its own check), a reference to a worker
    not among the others may be to them: those references are said in one sentence,
    not reported as the cases' own faults (:func:`_unchecked_workers`).
    """
    staff: set[str] | None = None
    nameless = _nameless(practitioners) if practitioners is not None else []
    unchecked: list[str] = []  # workers named who may be the nameless practitioners
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
        # An id refused for a blank at either end is reported there once: references
        # to it as meant (trimmed) are not reported again on every child it holds.
        staff.update(ident.strip() for ident in first)
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
            elif nameless and staff is not None and isinstance(worker, str) and worker not in staff:
                unchecked.append(worker)
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
            if nameless and staff is not None and isinstance(pinned, str) and pinned not in staff:
                unchecked.append(pinned)
            elif staff is not None and isinstance(pinned, str) and pinned not in staff:
                table.add(
                    report,
                    i,
                    f"field 'pinned_worker' is {_short(pinned)}, expected the id of one of the "
                    f"practitioners{staff_file} or {null}",
                    ("field 'pinned_worker'", "unknown"),
                )
    if unchecked and practitioners is not None:
        _unchecked_workers(practitioners, nameless, unchecked, report)


def _unchecked_workers(
    practitioners: _Table, nameless: list[int], unchecked: list[str], report: _Report
) -> None:
    """One sentence for the references to workers not among the practitioners that
    have an id, while some have none (``nameless``): said after the first of those.

    Reported one by one they read as twenty faults of the cases where the fault is one
    missing id (a fresh user's trial); left out, a real typo among them would vanish
    until the id is given. So they are named together, with the ids they give.
    """
    places = [practitioners.place(i) for i in nameless[:3]]
    if len(nameless) > 3:
        places.append(f"{len(nameless) - 3} more")
    ids = sorted(set(unchecked))
    shown = ", ".join(_short(i) for i in ids[:5]) + (
        f" and {len(ids) - 5} more" if len(ids) > 5 else ""
    )
    one = len(nameless) == 1
    refs = "1 reference" if len(unchecked) == 1 else f"{len(unchecked)} references"
    report.add(
        practitioners.rank,
        practitioners.row_key(nameless[0]),
        f"{practitioners.source}: references to workers were not checked, as "
        f"{_joined(places)} {'has' if one else 'have'} no id: {refs} in the cases name a "
        f"worker who is not among the practitioners with an id ({shown}); give "
        f"{'it its id' if one else 'them their ids'} and they are checked",
    )


def _joined(items: list[str]) -> str:
    """``a``, ``a and b``, ``a, b and c``."""
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"


def _raw_day(value: Any) -> date | None:
    """``value`` as a date when it is one written ``YYYY-MM-DD`` within the dates'
    domain (a JSON string, a CSV cell or a date), else ``None``: any other value is
    reported by its field's own check."""
    if isinstance(value, date) and not isinstance(value, datetime):
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
    the model's own check (:class:`allocator.contract.models.Snapshot`) is the library's.
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
