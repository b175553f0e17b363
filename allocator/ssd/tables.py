"""Reading extract tables: one CSV file per table, cells by column name, with problems.

Plain :mod:`csv` rather than a dataframe library: the joins the imports need are a
handful of dictionary look-ups keyed by person or professional id, which stay
linear in the number of rows; a dataframe would add a heavy dependency without
making those joins shorter or the error messages (file, line, field) easier to keep.

Every problem is a sentence naming the file, the spreadsheet line (header = line 1),
the column, what was found and what was expected, collected in :class:`Problems`
and raised together as :class:`allocator.io.InputError`. Values are quoted back only
for ids, codes, numbers and dates; free text (names, notes) is never read.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from io import StringIO
from pathlib import Path

from allocator.io import InputError, describe_value, did_you_mean, read_input

_SHOWN = 30

ECHO_FIELDS = frozenset(
    {"id", "family", "worker", "pinned_worker", "previous_workers", "excluded_workers"}
    | {"type", "grade", "priority", "complexity", "weight", "fte", "experience_years"}
    | {"capacity_points", "changes_last_12_months", "opened", "available_from", "leaving_on"}
)
"""Snapshot fields whose values may be quoted back in a message (ids, codes, numbers,
dates); any other (team, area, needs, skills) is free text that may identify a child."""


_NUMERIC_TEXT = re.compile(r"[-+0-9.,:/eE% ]+")
_TEXT_ECHO_FIELDS = frozenset(
    {"id", "family", "worker", "pinned_worker", "previous_workers", "excluded_workers"}
    | {"type", "grade", "priority"}
)


def found_value(name: str, value: object) -> str:
    """What a message says was found in field ``name``: the value only if it is safe.

    Ids, codes, numbers and dates are quoted; text in a number or date field is quoted
    only when it looks like a number or date (a name typed in the wrong column is not);
    free text is never quoted.
    """
    if name in ECHO_FIELDS and isinstance(value, int | float | date):
        return shown(str(value))
    safe_text = isinstance(value, str) and (
        name in _TEXT_ECHO_FIELDS or (name in ECHO_FIELDS and _NUMERIC_TEXT.fullmatch(value))
    )
    if safe_text:
        return shown(str(value))
    return "not valid"


def shown(value: str) -> str:
    """A code, id or date quoted back in a message, cut to 30 characters."""
    return describe_value(value if len(value) <= _SHOWN else value[: _SHOWN - 3] + "...")


class Problems:
    """Problems found while importing, kept in the order found; raised together.

    Attributes
    ----------
    errors
        One sentence per problem that stops the import.
    warnings
        One sentence per problem the import worked around (listed in its report).
    """

    def __init__(self) -> None:
        self.errors: list[str] = []
        self.warnings: list[str] = []

    def error(self, message: str) -> None:
        """Record a problem that stops the import."""
        self.errors.append(message if message.endswith(".") else message + ".")

    def warn(self, message: str) -> None:
        """Record a problem the import worked around."""
        self.warnings.append(message if message.endswith(".") else message + ".")

    def raise_if_any(self) -> None:
        """Raise :class:`InputError` with every error recorded, if any.

        Raises
        ------
        InputError
            One sentence per error, in the order found.
        """
        if self.errors:
            raise InputError(list(dict.fromkeys(self.errors)))


@dataclass(frozen=True)
class Row:
    """One record of a table: its cells by column name and where it came from.

    Attributes
    ----------
    source
        The file, as given.
    line
        The spreadsheet line (the header is line 1).
    cells
        Stripped cell text by column name; a column the file lacks is absent.
    """

    source: str
    line: int
    cells: dict[str, str]

    def get(self, column: str) -> str:
        """The stripped cell, ``""`` when empty or absent."""
        return self.cells.get(column, "")

    def where(self, ident: str | None = None) -> str:
        """``ssd_involvements.csv, line 4`` (with ``(id X)`` when ``ident`` is given)."""
        label = f" (id {shown(ident)[1:-1]})" if ident else ""
        return f"{self.source}, line {self.line}{label}"


@dataclass
class Table:
    """The rows of one CSV file and its header.

    Attributes
    ----------
    source
        The file, as given (used in messages).
    columns
        The header's column names, stripped.
    rows
        Every non-blank record, in file order.
    """

    source: str
    columns: list[str]
    rows: list[Row] = field(default_factory=list)

    def __iter__(self) -> Iterator[Row]:
        return iter(self.rows)

    def __len__(self) -> int:
        return len(self.rows)


def read_table(
    path: Path,
    problems: Problems,
    required: Sequence[str] = (),
    known: Iterable[str] | None = None,
) -> Table | None:
    """Read one CSV file (UTF-8, with or without a byte-order mark).

    Parameters
    ----------
    path
        The file.
    problems
        Where problems are recorded.
    required
        Columns that must be in the header; each missing one is reported on line 1.
    known
        If given, every column must be one of these (a typo such as ``cine_person``
        is reported with a suggestion) rather than silently ignored.

    Returns
    -------
    Table or None
        The table; ``None`` if the file is missing or unreadable (reported).
    """
    if not path.is_file():
        problems.error(f"{path}: table missing, expected a CSV file of that name")
        return None
    try:
        text = read_input(path).decode("utf-8-sig")
    except InputError as exc:
        problems.error(str(exc))
        return None
    except UnicodeDecodeError as exc:
        problems.error(f"{path}: not UTF-8 text (byte {exc.start + 1} cannot be read)")
        return None
    reader = csv.reader(StringIO(text, newline=""), strict=True)
    try:
        header = [cell.strip() for cell in next(reader)]
    except StopIteration:
        problems.error(f"{path}: the file is empty, expected a header line")
        return None
    except csv.Error as exc:
        problems.error(f"{path}, line 1: not valid CSV ({exc})")
        return None
    table = Table(str(path), header)
    for column in required:
        if column not in header:
            problems.error(f"{path}, line 1: required column {column!r} is missing")
    if known is not None:
        allowed = list(known)
        for column in header:
            if column and column not in allowed:
                problems.error(
                    f"{path}, line 1: unknown column {shown(column)}"
                    + did_you_mean(column, allowed)
                )
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            problems.error(f"{path}, line {reader.line_num}: not valid CSV ({exc})")
            break
        line = reader.line_num
        if not any(cell.strip() for cell in cells):
            continue
        if len(cells) > len(header) and not any(c.strip() for c in cells[len(header) :]):
            cells = cells[: len(header)]
        if len(cells) != len(header):
            problems.error(
                f"{path}, line {line}: found {len(cells)} cells, expected {len(header)} "
                "(one per column of line 1)"
            )
            continue
        values = {name: cell.strip() for name, cell in zip(header, cells, strict=True) if name}
        table.rows.append(Row(str(path), line, values))
    return table


_ISO_DATE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})(?:[T ][0-9:.]+)?")
_UK_DATE = re.compile(r"([0-9]{1,2})/([0-9]{1,2})/([0-9]{4})(?: [0-9:.]+)?")
DATE_FORMATS = "YYYY-MM-DD (a time after it is ignored) or DD/MM/YYYY"
"""The date layouts an extract may use, in words."""


def parse_date(text: str) -> date | None:
    """A date written ``YYYY-MM-DD`` (SQL ``datetime`` with a time is fine) or ``DD/MM/YYYY``.

    Returns
    -------
    date or None
        ``None`` if ``text`` is not such a date.
    """
    match = _ISO_DATE.fullmatch(text)
    try:
        if match:
            return date(int(match[1]), int(match[2]), int(match[3]))
        match = _UK_DATE.fullmatch(text)
        if match:
            return date(int(match[3]), int(match[2]), int(match[1]))
    except ValueError:
        return None
    return None


def cell_date(
    row: Row, column: str, problems: Problems, required: bool = False, ident: str | None = None
) -> date | None:
    """The date in ``column`` of ``row``; ``None`` if empty (an error if ``required``).

    ``ident``, the row's id, is named in a message when given.
    """
    text = row.get(column)
    if not text:
        if required:
            problems.error(f"{row.where(ident)}: field {column!r} is empty, expected a date")
        return None
    value = parse_date(text)
    if value is None:
        problems.error(
            f"{row.where(ident)}: field {column!r} is {shown(text)}, expected a date "
            f"written {DATE_FORMATS}"
        )
    return value


def one_year_before(day: date) -> date:
    """The same day a year earlier (29 February goes to 28 February)."""
    try:
        return day.replace(year=day.year - 1)
    except ValueError:
        return day.replace(year=day.year - 1, day=28)
