"""``allocator import csv``: a council's own CSV reports to a snapshot, by a columns mapping.

Each report (one for staff, one for cases) is read with :mod:`allocator.ssd.tables`.
Every column is either mapped to a snapshot field (renamed, and converted: dates in
``DD/MM/YYYY``, ``Yes``/``No``, ``80%``, codes translated by a ``values`` table, such
as a case type derived from a status column) or listed under ``drop``; any other
column is an error, so a renamed column in next month's report is not silently lost.
Fields no column fills come from ``defaults``, counted in the report.

Each problem names the file, the spreadsheet line, the column and the field, and
what was expected, and is raised as :class:`allocator.io.InputError` (exit code 2).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from allocator.contract.models import SNAPSHOT_FORMAT, TEXT_CELLS, Case, Practitioner, Snapshot
from allocator.io import DAY_EXPECTED, did_you_mean, expected_at, parse_day, unknown_column
from allocator.ssd.mapping import ColumnRule, ColumnsMapping, TableRules
from allocator.ssd.report import ImportReport
from allocator.ssd.tables import (
    ECHO_FIELDS,
    Problems,
    Row,
    found_value,
    inside,
    parse_date,
    read_table,
    shown,
)

_YES = frozenset({"yes", "y", "true", "1"})
_NO = frozenset({"no", "n", "false", "0"})
_LIST_FIELDS: dict[type[BaseModel], frozenset[str]] = {
    Practitioner: frozenset({"skills", "areas"}),
    Case: frozenset({"previous_workers", "needs", "excluded_workers"}),
}


class _Bad(Exception):
    """A cell that cannot be converted; the message says what was expected."""


@dataclass(frozen=True)
class _Built:
    record: dict[str, Any]
    row: Row
    origin: dict[str, str]  # field -> the column it came from
    # field -> the cell as written, quoted, where it may be echoed (a message quotes
    # what the cell held, never the converted value: '200%', not '2.0')
    cells: dict[str, str]


def _convert(text: str, rule: ColumnRule) -> Any:
    """One non-empty cell, converted by ``rule``; raises :class:`_Bad`."""
    if rule.convert == "yes_no":
        word = text.casefold()
        if word in _YES:
            return rule.yes if rule.yes is not None else True
        if word in _NO:
            return rule.no if rule.no is not None else None
        raise _Bad("expected Yes or No")
    if rule.values:
        for code, value in rule.values.items():
            if code.casefold() == text.casefold():
                return value
        raise _Bad("expected one of " + ", ".join(shown(code) for code in rule.values))
    if rule.convert in ("date_dmy", "date_iso"):
        day = parse_date(text)
        uk = "/" in text
        if day is None or uk != (rule.convert == "date_dmy"):
            raise _Bad(
                "expected a date written DD/MM/YYYY"
                if rule.convert == "date_dmy"
                else "expected a date written YYYY-MM-DD"
            )
        return day
    if rule.convert in ("percent", "number"):
        body = text[:-1].strip() if rule.convert == "percent" and text.endswith("%") else text
        try:
            number = float(body)
        except ValueError:
            raise _Bad(
                "expected a percentage such as 80%" if rule.convert == "percent" else "a number"
            ) from None
        if not math.isfinite(number):
            raise _Bad("expected a finite number")
        return number / 100 if rule.convert == "percent" else number
    if rule.convert == "list":
        return [item.strip() for item in text.split(rule.separator) if item.strip()]
    return text


def _build(
    folder: Path,
    rules: TableRules,
    model: type[BaseModel],
    noun: str,
    problems: Problems,
    report: ImportReport,
    where: str = "columns mapping",
) -> list[_Built]:
    """Rename, convert and default one report's rows into records of ``model``.

    ``where`` starts an error about the mapping itself (it names the mapping file).
    """
    for column, rule in rules.columns.items():
        if rule.field not in model.model_fields:
            problems.error(
                f"{where}: [{noun}.columns] {column!r} names field {rule.field!r}"
                + did_you_mean(rule.field, model.model_fields)
            )
    for name in rules.defaults:
        if name not in model.model_fields:
            problems.error(
                f"{where}: [{noun}.defaults] has unknown field {name!r}"
                + did_you_mean(name, model.model_fields)
            )
    problems.raise_if_any()
    path = inside(folder, rules.file)
    if path is None:
        problems.error(
            f"{where}: [{noun}] file {shown(rules.file)}: expected a report in the folder "
            f"({folder.resolve()}), named relative to it; a path outside it is not read"
        )
        return []
    table = read_table(path, problems, required=tuple(rules.columns))
    if table is None:
        return []
    for column in table.columns:
        if column and column not in rules.columns and column not in rules.drop:
            mapped = [*rules.columns, *rules.drop]
            # A free-text column is never steered onto a mapped one (unknown_column).
            close = unknown_column(column, mapped) if mapped else ""
            problems.error(
                f"{path}, line 1: unknown column {shown(column)}, expected it under "
                f"[{noun}.columns] or in [{noun}] drop"
                + ("" if close.startswith("; expected one of") else close)
            )
    dropped = [c for c in rules.drop if c in table.columns]
    if dropped:
        report.count(f"columns dropped from {rules.file}", len(dropped))
    lists = _LIST_FIELDS[model]
    built: list[_Built] = []
    if noun == "practitioners" and not table.lines:
        # the rule of the snapshot's own CSV and JSON (FORMAT.md "Reading rules")
        problems.error(
            f"{path}: no rows under the header, expected at least one practitioner "
            "(was the table emptied?)"
        )
    for row in table:
        report.count(f"rows read from {rules.file}")
        record: dict[str, Any] = {}
        origin: dict[str, str] = {}
        cells: dict[str, str] = {}
        for column, rule in rules.columns.items():
            text = row.get(column)
            if not text:
                continue
            echo = rule.field in ECHO_FIELDS or bool(rule.values) or rule.convert != "text"
            try:
                value = _convert(text, rule)
            except _Bad as exc:
                found = shown(text) if echo else "not valid"
                problems.error(
                    f"{row.where(row.get(_id_column(rules)) or None)}: column {column!r} "
                    f"(field {rule.field!r}) is {found}, {exc}"
                )
                continue
            if value is None:
                continue
            if rule.field in lists:
                items = value if isinstance(value, list) else [value]
                record.setdefault(rule.field, [])
                record[rule.field] += [i for i in items if i not in record[rule.field]]
                origin.setdefault(rule.field, column)
            else:  # the last column giving the field holds the value validated
                record[rule.field] = value
                origin[rule.field] = column
                cells.pop(rule.field, None)
                if echo:
                    read = f"{value:g}" if isinstance(value, float) else text
                    cells[rule.field] = shown(text) + (f" (read as {read})" if read != text else "")
        for name, value in rules.defaults.items():
            if name not in record:
                record[name] = value
                report.defaulted(noun, name, f"default {value!r}")
        built.append(_Built(record, row, origin, cells))
    return built


def _as_departed(item: _Built, worker: str, day: date) -> None:
    """A case whose worker is not in the staff report, as a departed worker's child:
    no worker, the id kept as a previous worker (continuity and conflicts still see
    it), and waiting from ``day`` unless the report gives ``waiting_since``."""
    item.record.pop("worker", None)
    previous = list(item.record.get("previous_workers") or [])
    if worker not in previous:
        previous.append(worker)
    item.record["previous_workers"] = previous
    item.record.setdefault("waiting_since", day)


def _id_column(rules: TableRules) -> str:
    return next((c for c, r in rules.columns.items() if r.field == "id"), "")


def _validate(built: list[_Built], model: type[BaseModel], problems: Problems) -> list[Any]:
    out: list[Any] = []
    for item in built:
        try:
            # A council's report is cells of text: a number is written as text there.
            out.append(model.model_validate(item.record, context={TEXT_CELLS: True}))
        except ValidationError as exc:
            ident = item.record.get("id")
            where = item.row.where(ident if isinstance(ident, str) else None)
            for err in exc.errors():
                name = str(err["loc"][0]) if err["loc"] else "?"
                column = item.origin.get(name)
                value = item.record.get(name)
                if err["type"] == "missing":
                    problems.error(
                        f"{where}: field {name!r} has no value (no column or default gives "
                        f"it), expected {expected_at(model, (name,))}"
                    )
                    continue
                found = item.cells.get(name) or found_value(name, value)
                source = f"column {column!r} (field {name!r})" if column else f"field {name!r}"
                problems.error(
                    f"{where}: {source} is {found}, expected {expected_at(model, (name,))}"
                )
    return out


def import_csv(
    folder: str | Path, mapping: ColumnsMapping, as_of: date | None = None
) -> tuple[Snapshot, ImportReport]:
    """Build a snapshot from a council's CSV reports.

    Parameters
    ----------
    folder
        The folder holding the reports named by the mapping (``[practitioners] file``
        and ``[cases] file``).
    mapping
        The columns mapping (:func:`allocator.ssd.mapping.load_columns_mapping`).
    as_of
        The snapshot's day; the mapping's ``as_of`` when not given.

    Returns
    -------
    tuple of Snapshot and ImportReport
        The snapshot, validated by the allocator's own models, and what was read,
        dropped and defaulted.

    Raises
    ------
    allocator.io.InputError
        Every problem, one sentence each, naming file, line, column, field and what
        was expected.
    """
    folder = Path(folder)
    problems = Problems()
    report = ImportReport()
    day = as_of
    if day is None and mapping.as_of:
        day = parse_day(mapping.as_of)
        if day is None:
            problems.error(
                f"{mapping.where}: as_of is {shown(mapping.as_of)}, expected {DAY_EXPECTED} "
                "(or give --as-of)"
            )
    elif day is None:
        problems.error(
            f"{mapping.where}: no as_of, give --as-of YYYY-MM-DD or as_of in the mapping"
        )
    where = mapping.where
    staff_rows = _build(
        folder, mapping.practitioners, Practitioner, "practitioners", problems, report, where
    )
    case_rows = _build(folder, mapping.cases, Case, "cases", problems, report, where)
    problems.raise_if_any()
    # every id of the staff report, valid or not: a broken staff row is reported once
    known = {str(item.record.get("id")) for item in staff_rows}
    for item in case_rows:
        for name in ("worker", "pinned_worker"):
            value = item.record.get(name)
            if isinstance(value, str) and value and value not in known:
                column = item.origin.get(name, name)
                said = (
                    f"{item.row.where(item.record.get('id'))}: column {column!r} (field "
                    f"{name!r}) is {shown(value)}"
                )
                if name == "worker" and mapping.unknown_workers == "departed" and day:
                    _as_departed(item, value, day)
                    problems.warn(
                        f"{said}, who is not in {mapping.practitioners.file}: taken as a "
                        f"departed worker's child (no worker; {shown(value)} kept as a "
                        f"previous worker; waiting from {day.isoformat()}), as the "
                        'mapping\'s unknown_workers = "departed" says'
                    )
                    continue
                hint = (
                    ' (or unknown_workers = "departed" in the mapping, to take the child '
                    "as a departed worker's)"
                    if name == "worker"
                    else ""
                )
                problems.error(
                    f"{said}, expected the id of a practitioner in "
                    f"{mapping.practitioners.file}{hint}"
                )
    staff = _validate(staff_rows, Practitioner, problems)
    cases = _validate(case_rows, Case, problems)
    seen: dict[str, Row] = {}
    for group, rows in (("practitioner", staff_rows), ("case", case_rows)):
        seen.clear()
        for item in rows:
            ident = item.record.get("id")
            if isinstance(ident, str) and ident in seen:
                problems.error(
                    f"{item.row.where(ident)}: {group} id {shown(ident)} is already on line "
                    f"{seen[ident].line}, expected each id once"
                )
            elif isinstance(ident, str):
                seen[ident] = item.row
    problems.raise_if_any()
    assert day is not None
    report.counts["practitioners"] = len(staff)
    report.counts["cases"] = len(cases)
    try:
        snapshot = Snapshot(
            format=SNAPSHOT_FORMAT, as_of=day, practitioners=tuple(staff), cases=tuple(cases)
        )
    except ValidationError as exc:
        for err in exc.errors():
            problems.error(str(err["msg"]).removeprefix("Value error, "))
        problems.raise_if_any()
        raise
    report.warnings.extend(problems.warnings)
    return snapshot, report
