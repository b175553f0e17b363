"""Reading extract tables, with problems: a CSV file per table, or a database table.

A :class:`Table` holds its cells column by column (every cell text, as read) with
each record's place in the source: the spreadsheet line of a CSV file (header =
line 1), or the row number of a database table (rows in the order of the table's
first column, its id). The imports check and join tables as polars data frames
(:meth:`Table.frame`), see ``docs/IMPORT-MAPPINGS.md`` ("Why polars"); a record is
taken out as a :class:`Row` only where one is needed: a small table, or a message.

Every problem is a sentence naming the file or table, the line or row, the column,
what was found and what was expected, collected in :class:`Problems` and raised
together as :class:`allocator.io.InputError`. Values are quoted back only for ids,
codes, numbers and dates; free text (names, notes) is never read.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from io import BytesIO, TextIOWrapper
from pathlib import Path
from typing import Any, NamedTuple
from urllib.parse import unquote_plus

import polars as pl

from allocator.contract.models import (
    CONTROL_CHARACTERS,
    FIRST_DAY,
    LAST_DAY,
    Case,
    hides,
)
from allocator.io import (
    InputError,
    decode_utf8,
    describe_value,
    expected_at,
    padded_width,
    ragged_row,
    ragged_under_a_wrong_header,
    read_input,
    separator_problem,
    unknown_column,
)

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
_NUMBER_FIELDS = frozenset(
    {"complexity", "weight", "fte", "experience_years", "capacity_points"}
    | {"changes_last_12_months"}
)
_DATE_FIELDS = frozenset(
    {"opened", "waiting_since", "available_from", "leaving_on", "contract_end"}
)
_CONTROL_CHARACTER = re.compile(f"[{CONTROL_CHARACTERS}]")


def found_value(name: str, value: object) -> str:
    """What a message says was found in field ``name``: the value only if it is safe.

    Ids, codes, numbers and dates are quoted; text in a number or date field is quoted
    only when it looks like a number or date (a name typed in the wrong column is not);
    free text is never quoted, but described: what kind of text it is and why it is
    not shown.

    >>> found_value("fte", "0.8 FTE"), found_value("team", "")
    ('text that is not a number (not quoted: it may be a name)', 'empty')
    """
    if value is None or value == "":
        return "empty"
    if name in ECHO_FIELDS and isinstance(value, int | float | date):
        return shown(str(value))
    if not isinstance(value, str):
        return "a list" if isinstance(value, list | tuple) else "not valid"
    if name in _TEXT_ECHO_FIELDS or (name in ECHO_FIELDS and _NUMERIC_TEXT.fullmatch(value)):
        return shown(value)
    if not value.strip():
        return "blank (spaces only)"
    if _CONTROL_CHARACTER.search(value) or any(hides(ch) for ch in value):
        return "text holding a control or invisible character (not quoted: it may be a name)"
    kind = "a number" if name in _NUMBER_FIELDS else "a date" if name in _DATE_FIELDS else ""
    if kind:
        return f"text that is not {kind} (not quoted: it may be a name)"
    return "text (not quoted: it may be a name)"


def shown(value: str) -> str:
    """A code, id or date quoted back in a message, cut to 30 characters."""
    return describe_value(value if len(value) <= _SHOWN else value[: _SHOWN - 3] + "...")


#: A problem found in more rows than this is given once: how many rows, the first
#: rows, and the first row's sentence (as snapshot loading does, ``allocator.io``).
LISTED_ROWS = 3
#: At most this many different problems are kept; the rest are counted, so that a
#: file of bad rows costs bounded memory and a screenful of text, not one line a row.
KEPT_PROBLEMS = 100

_PLACE = re.compile(
    r"^(?P<source>.+?), (?P<unit>line|row) (?P<n>\d+)(?: \(id [^)]*\))?: (?P<rest>.*)$", re.S
)
_QUOTED_OR_NUMBER = re.compile(r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"|\d+")


def _kind_of(message: str) -> tuple[str, str, str] | None:
    """(source, unit, the problem with its values masked) of a row's problem, so that
    the same problem in many rows is one kind; ``None`` for a problem of no row."""
    found = _PLACE.match(message)
    if found is None:
        return None
    rest = found["rest"]
    tokens = list(_QUOTED_OR_NUMBER.finditer(rest))
    masked, end = [], 0
    for i, token in enumerate(tokens):
        masked.append(rest[end : token.start()])
        masked.append(token.group() if i == 0 and token.group()[0] in "'\"" else "_")
        end = token.end()
    masked.append(rest[end:])
    return found["source"], found["unit"], "".join(masked)


class _Collected:
    """Problem sentences in the order found, the same problem in many rows kept once
    (its count, first rows and first sentence), at most :data:`KEPT_PROBLEMS` kinds."""

    def __init__(self) -> None:
        self._kinds: dict[object, list[str]] = {}  # kind -> its first LISTED_ROWS sentences
        self._places: dict[object, list[str]] = {}
        self._counts: dict[object, int] = {}
        self.dropped = 0

    def add(self, message: str) -> None:
        kind: object = _kind_of(message) or message
        if kind not in self._kinds:
            if len(self._kinds) >= KEPT_PROBLEMS:
                self.dropped += 1
                return
            self._kinds[kind], self._places[kind], self._counts[kind] = [], [], 0
        self._counts[kind] += 1
        if len(self._kinds[kind]) < LISTED_ROWS:
            self._kinds[kind].append(message)
            found = _PLACE.match(message)
            self._places[kind].append(f"{found['unit']} {found['n']}" if found else "")

    def __bool__(self) -> bool:
        return bool(self._kinds)

    def __len__(self) -> int:
        return sum(self._counts.values()) + self.dropped

    def sentences(self) -> list[str]:
        out: list[str] = []
        for kind, messages in self._kinds.items():
            count = self._counts[kind]
            if count <= LISTED_ROWS or not isinstance(kind, tuple):
                out.extend(messages)
                continue
            source, unit = kind[0], kind[1]
            more = count - len(messages)
            out.append(
                f"{source}: the same problem in {count:,} {unit}s "
                f"({', '.join(self._places[kind])} and {more:,} more); {messages[0]}"
            )
        if self.dropped:
            out.append(
                f"... and {self.dropped:,} more problems of other kinds (only the first "
                f"{KEPT_PROBLEMS} kinds are listed)."
            )
        return list(dict.fromkeys(out))

    def __iter__(self) -> Iterator[str]:
        return iter(self.sentences())


class Problems:
    """Problems found while importing, kept in the order found; raised together.

    The same problem in more than :data:`LISTED_ROWS` rows of a table is given once,
    with its count and first rows, and memory is bounded (:data:`KEPT_PROBLEMS`):
    100 MB of bad dates is a few lines, not one a row.

    Attributes
    ----------
    errors
        The problems that stop the import.
    warnings
        The problems the import worked around (listed in its report).
    """

    def __init__(self) -> None:
        self.errors = _Collected()
        self.warnings = _Collected()

    def error(self, message: str) -> None:
        """Record a problem that stops the import."""
        self.errors.add(message if message.endswith(".") else message + ".")

    def warn(self, message: str) -> None:
        """Record a problem the import worked around."""
        self.warnings.add(message if message.endswith(".") else message + ".")

    def raise_if_any(self) -> None:
        """Raise :class:`InputError` with every error recorded, if any.

        Raises
        ------
        InputError
            One sentence per error (or per kind of error in many rows), in the order
            found.
        """
        if self.errors:
            raise InputError(self.errors.sentences())


@dataclass(frozen=True)
class Row:
    """One record of a table: its cells by column name and where it came from.

    Attributes
    ----------
    source
        The file as given, or the database table's name.
    line
        The spreadsheet line (the header is line 1), or the database row number.
    cells
        Stripped cell text by column name; a column the table lacks is absent.
    unit
        ``"line"`` (a CSV file) or ``"row"`` (a database table), as messages say it.
    """

    source: str
    line: int
    cells: dict[str, str]
    unit: str = "line"

    def get(self, column: str) -> str:
        """The stripped cell, ``""`` when empty or absent."""
        return self.cells.get(column, "")

    def where(self, ident: str | None = None) -> str:
        """``ssd_involvements.csv, line 4`` (with ``(id X)`` when ``ident`` is given)."""
        return where(self.source, self.unit, self.line, ident)

    def cell(self, column: str, ident: str | None = None) -> Cell:
        """Where the value of ``column`` of this record was read."""
        return Cell(self.source, self.unit, self.line, ident or None, column)


def where(source: str, unit: str, line: int, ident: str | None = None) -> str:
    """``ssd_involvements.csv, line 4 (id I03)`` or ``ssd_involvements, row 4 (id I03)``."""
    label = f" (id {shown(ident)[1:-1]})" if ident else ""
    return f"{source}, {unit} {line}{label}"


class Cell(NamedTuple):
    """Where one value was read: a column of one record of a table.

    A snapshot field filled from the extract is checked by the allocator's models;
    a value they refuse is named where it was written (this file, line and column),
    not on the record it was filled into. (A tuple: one is made for most values read.)
    """

    source: str
    unit: str
    line: int
    ident: str | None
    column: str
    written: str | None = None
    """The cell as written, where the value was converted (a date): quoted back as is."""

    @property
    def where(self) -> str:
        """The record, as messages say it: ``ssd_person.csv, line 3 (id C002)``."""
        return where(self.source, self.unit, self.line, self.ident)

    def sentence(self, found: str, expected: str) -> str:
        """The problem with the value read here: ``file, line 3 (id X): field ...``."""
        return f"{self.where}: field {self.column!r} is {found}, expected {expected}"


class Counted(NamedTuple):
    """Where a value counted over many records of a table came from (a child's changes
    of worker): the table, and what was counted, in words."""

    source: str
    what: str

    @property
    def where(self) -> str:
        """The table, as messages say it."""
        return self.source

    def sentence(self, found: str, expected: str) -> str:
        """The problem with the value counted: ``file: what is found, expected ...``."""
        return f"{self.source}: {self.what} is {found}, expected {expected}"


_ID_WORDS = expected_at(Case, ("id",))
ID_RULE = _ID_WORDS[_ID_WORDS.find("(") :]
"""What an id must be, in the contract's own words (``models.Id``): the parenthesis of
``expected_at`` for an id, which calls it text."""
ID_EXPECTED = f"an id {ID_RULE}"
"""What an id column (``prof_professional_id``, ``fami_family_id``) must hold, in words."""
DATE_RANGE = f"a date from {FIRST_DAY.isoformat()} to {LAST_DAY.isoformat()}"
"""The dates a snapshot may hold (``models.Day``), in words: said of a date read from an
extract that a snapshot field refuses (read as a date, only its range can be wrong)."""


LINE = "_line"
"""The column of :meth:`Table.frame` holding each record's line (or row) number."""


@dataclass
class Table:
    """The records of one table, column by column, and its header.

    Attributes
    ----------
    source
        The file as given, or the database table's name (used in messages).
    columns
        The header's column names, stripped.
    unit
        ``"line"`` for a CSV file, ``"row"`` for a database table.
    cells
        Each column's cells (stripped text), one per record, in source order.
    lines
        Each record's line (or row) number.
    """

    source: str
    columns: list[str]
    unit: str = "line"
    cells: dict[str, list[str]] = field(default_factory=dict)
    lines: list[int] = field(default_factory=list)

    def append(self, line: int, values: dict[str, str]) -> None:
        """Add one record found at ``line``: ``values`` has a cell for every column."""
        self.lines.append(line)
        for name, value in values.items():
            self.cells.setdefault(name, []).append(value)

    def row(self, index: int) -> Row:
        """The ``index``-th record (0-based) as a :class:`Row`."""
        values = {name: cells[index] for name, cells in self.cells.items()}
        return Row(self.source, self.lines[index], values, self.unit)

    def where(self, line: int, ident: str | None = None) -> str:
        """Where a record at ``line`` is, as messages say it."""
        return where(self.source, self.unit, line, ident)

    def cell(self, line: int, column: str, ident: str | None = None) -> Cell:
        """Where the value of ``column`` of the record at ``line`` was read."""
        return Cell(self.source, self.unit, line, ident or None, column)

    def frame(self, columns: Sequence[str]) -> pl.DataFrame:
        """``columns`` (text; an absent column is all empty) and :data:`LINE`, as a frame."""
        n = len(self.lines)
        data: dict[str, Any] = {c: self.cells.get(c, [""] * n) for c in columns}
        data[LINE] = self.lines
        schema: dict[str, Any] = {c: pl.String for c in columns}
        schema[LINE] = pl.Int64
        return pl.DataFrame(data, schema=schema)

    def __iter__(self) -> Iterator[Row]:
        return (self.row(i) for i in range(len(self.lines)))

    def __len__(self) -> int:
        return len(self.lines)


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
        data = read_input(path)
        decode_utf8(data, path, table=True)  # checked whole (where named), then streamed
    except InputError as exc:
        problems.error(str(exc))
        return None
    # Decoded as it is read: no second copy of the whole file as text (a large extract
    # of bad rows must fit the import's memory).
    stream = TextIOWrapper(BytesIO(data), encoding="utf-8-sig", newline="")
    reader = csv.reader(stream, strict=True)
    try:
        header = [cell.strip() for cell in next(reader)]
    except StopIteration:
        problems.error(f"{path}: the file is empty, expected a header line")
        return None
    except csv.Error as exc:
        problems.error(f"{path}, line 1: not valid CSV ({exc})")
        return None
    if (wrong_separator := separator_problem(path, header)) is not None:
        problems.error(wrong_separator)
        return None
    table = Table(str(path), header)
    header_missing = [column for column in required if column not in header]
    for column in header_missing:
        problems.error(f"{path}, line 1: required column {column!r} is missing")
    if known is not None:
        allowed = list(known)
        for column in header:
            if column and column not in allowed:
                problems.error(
                    f"{path}, line 1: unknown column {shown(column)}"
                    + unknown_column(column, allowed)
                )
    # Records are gathered whole and split into columns once: per-cell work in Python
    # is what makes a 300,000-row table slow.
    width = len(header)
    records: list[list[str]] = []
    lines: list[int] = []
    misfits: list[tuple[int, int]] = []  # (line, cells) of rows not as wide as line 1
    read: list[tuple[int, list[str]]] = []  # (line, cells) of the rows with a cell filled
    try:
        for cells in reader:
            if "".join(cells).strip():
                read.append((reader.line_num, cells))
    except csv.Error as exc:
        problems.error(f"{path}, line {reader.line_num}: not valid CSV ({exc})")
    padded = padded_width((cells for _, cells in read), width)
    for line, cells in read:
        if len(cells) != width:
            if len(cells) == padded and not "".join(cells[width:]).strip():
                cells = cells[:width]  # the empty cells an export ends every row with
            else:
                misfits.append((line, len(cells)))
                continue
        records.append(cells)
        lines.append(line)
    del read
    if misfits and (header_missing or not records):
        # The header is at fault (a problem on line 1, or no row fits it): said once.
        if not header_missing:
            problems.error(
                f"{path}, line 1: names {width} columns but no row has {width} cells; "
                "expected one name per column"
            )
        problems.error(ragged_under_a_wrong_header(path, width, misfits))
    else:
        for line, count in misfits:
            problems.error(f"{path}, line {line}: {ragged_row(count, width, snapshot=False)}")
    columns: list[tuple[str, ...]] = list(zip(*records, strict=True)) if records else []
    for index, name in enumerate(header):
        if name:  # a repeated column name: the last one is read
            table.cells[name] = [cell.strip() for cell in columns[index]] if records else []
    table.lines = lines
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


def parsed_date(column: str) -> pl.Expr:
    """:func:`parse_date` on a text column of a frame, vectorised: a date, or null."""
    text = pl.col(column)
    iso = text.str.extract_groups(r"^([0-9]{4})-([0-9]{2})-([0-9]{2})(?:[T ][0-9:.]+)?$")
    uk = text.str.extract_groups(r"^([0-9]{1,2})/([0-9]{1,2})/([0-9]{4})(?: [0-9:.]+)?$")
    iso_text = pl.concat_str([iso.struct.field(str(i)) for i in (1, 2, 3)], separator="-")
    uk_text = pl.concat_str(
        [
            uk.struct.field("3"),
            uk.struct.field("2").str.zfill(2),
            uk.struct.field("1").str.zfill(2),
        ],
        separator="-",
    )
    return pl.coalesce(iso_text, uk_text).str.strptime(pl.Date, "%Y-%m-%d", strict=False)


def frame_dates(
    frame: pl.DataFrame,
    table: Table,
    columns: dict[str, bool],
    ident: str | None,
    problems: Problems,
) -> pl.DataFrame:
    """Parse date columns of ``frame`` in place; report bad and missing ones.

    Parameters
    ----------
    frame
        From :meth:`Table.frame`; each of ``columns`` is replaced by its dates.
    table
        Where the frame came from (for messages).
    columns
        Column name to whether it is required (empty is then an error).
    ident
        The id column, named in messages; ``None`` if the table has none.
    problems
        Where each problem is recorded, as :func:`cell_date` words it.

    Returns
    -------
    polars.DataFrame
        ``frame`` with each of ``columns`` a date column (null if empty or bad) and a
        boolean column ``_bad`` true on any row that had a problem.
    """
    bad = pl.lit(False)
    parsed = frame.with_columns(
        **{f"_date_{c}": parsed_date(c) for c in columns},
    )
    for column, required in columns.items():
        empty = pl.col(column) == ""
        wrong = ~empty & pl.col(f"_date_{column}").is_null()
        missing = empty if required else pl.lit(False)
        names = [LINE, column] + ([ident] if ident else [])
        for record in parsed.filter(wrong | missing).select(names).iter_rows(named=True):
            at = table.where(record[LINE], (record[ident] or None) if ident else None)
            if record[column] == "":
                problems.error(f"{at}: field {column!r} is empty, expected a date")
            else:
                problems.error(
                    f"{at}: field {column!r} is {shown(record[column])}, expected a date "
                    f"written {DATE_FORMATS}"
                )
        bad = bad | wrong | missing
    return (
        parsed.with_columns(_bad=bad).drop(list(columns)).rename({f"_date_{c}": c for c in columns})
    )


def read_database(
    url: str,
    wanted: Mapping[str, Sequence[str]],
    problems: Problems,
    schema: str | None = None,
    optional: Mapping[str, Sequence[str]] | None = None,
) -> dict[str, Table]:
    """Read the named columns of tables of a database, through SQLAlchemy.

    Parameters
    ----------
    url
        A SQLAlchemy database URL (``postgresql://user@host/db``,
        ``mssql+pyodbc://...``, ``sqlite:///ssd.db``).
    wanted
        Table name to the columns read (each one must exist).
    problems
        Where problems are recorded: a table or column missing, no connection.
    schema
        The database schema holding the tables (the connection's default if ``None``).
    optional
        Table name to columns read only if the table has them.

    Returns
    -------
    dict of str to Table
        Each table found, its cells as text: empty for NULL, ``YYYY-MM-DD`` for a date
        (a time after it for a datetime), ``Y``/``N`` for a boolean. Rows are numbered
        from 1 in the order of the table's first column read (its id).
    """
    import sqlalchemy as sa
    from sqlalchemy.exc import ArgumentError, NoSuchModuleError, SQLAlchemyError

    try:
        engine = sa.create_engine(_with_driver(url), connect_args=connect_args(url))
    except (ArgumentError, ValueError):
        problems.error(
            f"{hide_password(url)}: not a database URL (dialect://user@host/database) "
            "and not a folder"
        )
        return {}
    except (NoSuchModuleError, ImportError) as exc:
        problems.error(
            f"{hide_password(url)}: the database driver is not installed "
            f"({first_error_line(exc)}); expected {driver_hint(url)}"
        )
        return {}
    shown_url = hide_password(url)
    file = engine.url.database if engine.dialect.name == "sqlite" else None
    if file not in (None, "", ":memory:") and not Path(str(file)).is_file():
        problems.error(f"{shown_url}: no such SQLite file (the import creates none)")
        engine.dispose()
        return {}
    tables: dict[str, Table] = {}
    try:
        with engine.connect() as connection:
            inspector = sa.inspect(connection)
            present = set(inspector.get_table_names(schema=schema))
            for name, columns in wanted.items():
                if name not in present:
                    problems.error(
                        f"{shown_url}: table {name!r} missing, expected a table of that name"
                        + (f" in schema {schema!r}" if schema else "")
                    )
                    continue
                have = {c["name"] for c in inspector.get_columns(name, schema=schema)}
                missing = [c for c in columns if c not in have]
                for column in missing:
                    problems.error(f"{shown_url}: table {name!r} has no column {column!r}")
                if missing:
                    continue
                extra = [c for c in (optional or {}).get(name, ()) if c in have]
                read = list(dict.fromkeys([*columns, *extra]))
                query: Any = (
                    sa.select(*(sa.column(c) for c in read))
                    .select_from(sa.table(name, schema=schema))
                    .order_by(sa.column(read[0]))
                )
                table = Table(name, read, unit="row")
                result = connection.execution_options(stream_results=True).execute(query)
                for number, record in enumerate(result, start=1):
                    table.append(number, {c: _cell(v) for c, v in zip(read, record, strict=True)})
                tables[name] = table
    except SQLAlchemyError as exc:
        if timed_out(exc) and "connect" not in first_error_line(exc).lower():
            problems.error(f"{shown_url}: {database_error(exc, 'reading the tables')}")
        else:
            problems.error(f"{shown_url}: the database could not be read ({first_error_line(exc)})")
    finally:
        engine.dispose()
    return tables


# The package each URL scheme's driver comes from (SQLAlchemy's dialect+driver names).
_DRIVERS: dict[str, str] = {
    "postgresql": "pip install 'allocator[postgres]' (psycopg)",
    "postgres": "pip install 'allocator[postgres]' (psycopg)",
    "postgresql+psycopg": "pip install 'allocator[postgres]' (psycopg)",
    "postgresql+psycopg2": "pip install psycopg2-binary",
    "mssql": "pip install pyodbc, and Microsoft's ODBC Driver for SQL Server",
    "mssql+pyodbc": "pip install pyodbc, and Microsoft's ODBC Driver for SQL Server",
    "mssql+pymssql": "pip install pymssql",
    "mysql": "pip install mysqlclient",
    "mysql+pymysql": "pip install pymysql",
    "oracle": "pip install cx_Oracle",
    "oracle+oracledb": "pip install oracledb",
}


def driver_hint(url: str) -> str:
    """How to install the driver a database URL names: the right package for its scheme."""
    scheme = url.split("://", 1)[0].lower()
    hint = _DRIVERS.get(scheme)
    if hint is not None:
        return hint
    driver = scheme.partition("+")[2]
    return (
        f"the Python package of the driver {driver!r} installed"
        if driver
        else f"the Python driver of the {scheme!r} database installed"
    )


def is_database_url(source: str) -> bool:
    """Whether an import's SOURCE names a database (``dialect://...``), not a folder."""
    return re.match(r"^[A-Za-z][A-Za-z0-9+._-]*://", source) is not None


def _with_driver(url: str) -> str:
    """``postgresql://`` with psycopg 3 when psycopg2 (SQLAlchemy's default) is absent."""
    match = re.match(r"^(postgresql|postgres)://", url)
    if match is None:
        return url
    import importlib.util

    if importlib.util.find_spec("psycopg2") is None and importlib.util.find_spec("psycopg"):
        return "postgresql+psycopg://" + url[match.end() :]
    return url


#: Seconds a database server has to answer a connection: a host that accepts TCP and
#: never answers is one error after this, not a hang.
CONNECT_TIMEOUT = 10
#: Seconds one statement may take (PostgreSQL's ``statement_timeout``, MySQL's read
#: timeout), and may wait for a lock another session holds (SQLite's busy timeout): a
#: table locked elsewhere or a server that stalls mid-query is one error, not a hang.
STATEMENT_TIMEOUT = 60.0


def connect_args(
    url: str, timeout: float | None = None, statement_timeout: float | None = None
) -> dict[str, Any]:
    """The driver's connect and statement timeouts for ``url`` (PostgreSQL, MySQL, SQL
    Server, SQLite); ``None`` takes :data:`CONNECT_TIMEOUT` and :data:`STATEMENT_TIMEOUT`.

    >>> connect_args("postgresql://u@h/db", 5, 30)
    {'connect_timeout': 5, 'options': '-c statement_timeout=30000'}
    >>> connect_args("sqlite:///log.db", 5, 30)
    {'timeout': 30.0}
    """
    seconds = CONNECT_TIMEOUT if timeout is None else timeout
    statement = STATEMENT_TIMEOUT if statement_timeout is None else statement_timeout
    scheme = url.split("://", 1)[0].lower()
    backend, _, driver = scheme.partition("+")
    if backend in ("postgresql", "postgres"):
        return {
            "connect_timeout": max(int(seconds), 1),
            "options": f"-c statement_timeout={max(int(statement * 1000), 1)}",
        }
    if backend in ("mysql", "mariadb"):
        return {"connect_timeout": max(int(seconds), 1), "read_timeout": max(int(statement), 1)}
    if backend == "mssql" and driver in ("", "pyodbc"):
        return {"timeout": max(int(seconds), 1)}
    if backend == "mssql" and driver == "pymssql":
        return {"login_timeout": max(int(seconds), 1), "timeout": max(int(statement), 1)}
    if backend == "sqlite":
        return {"timeout": float(statement)}  # how long to wait for another's lock
    return {}


def timed_out(exc: BaseException) -> bool:
    """Whether a database error is a statement that ran out of time: PostgreSQL's
    ``statement_timeout``, a SQLite file another session holds locked past the busy
    timeout, a driver's read timeout."""
    origin = getattr(exc, "orig", None) or exc
    if getattr(origin, "sqlstate", None) == "57014":  # query_canceled (psycopg 3)
        return True
    text = str(origin).lower()
    return any(
        words in text
        for words in ("statement timeout", "database is locked", "database table is locked",
                      "read timed out", "timed out")
    )  # fmt: skip


def database_error(exc: BaseException, doing: str, statement_timeout: float | None = None) -> str:
    """One sentence for a database error while ``doing`` something: a timeout named as
    such (what timed out and after how long), any other error by its first line."""
    if timed_out(exc) and "connect" not in first_error_line(exc).lower():
        seconds = STATEMENT_TIMEOUT if statement_timeout is None else statement_timeout
        return (
            f"{doing} timed out: no answer within the {seconds:g}-second statement timeout "
            f"({first_error_line(exc)}); a table locked by another session, or a stalled "
            "server"
        )
    return f"{doing} failed ({first_error_line(exc)})"


def inside(folder: Path, name: str) -> Path | None:
    """``folder / name`` if it lies in ``folder`` (or below it, links resolved), else
    ``None``: a mapping names its files relative to its folder, and a path outside it
    (``/etc/shadow``, ``../..``) is not read, nor echoed in an error."""
    path = (folder / name).resolve()
    return folder / name if path.is_relative_to(folder.resolve()) else None


def hide_password(url: str) -> str:
    """A URL as messages show it: any password replaced by ``***``, in the user part
    (``user:pw@``) or the query (``?password=pw``, libpq's ``sslpassword`` too)."""
    url = re.sub(r"(://[^:/@]*:)[^@]*@", r"\1***@", url)

    def hidden(m: re.Match[str]) -> str:
        # The key as the driver reads it: percent-decoded (?pass%77ord= is password).
        key = unquote_plus(m[2]).casefold()
        return f"{m[1]}{m[2]}=***" if key in ("password", "sslpassword") else m[0]

    return re.sub(r"([?&])([^=&#]*)=([^&#]*)", hidden, url)


def first_error_line(exc: BaseException) -> str:
    """The first line of an error from a driver, without SQLAlchemy's background link."""
    origin = getattr(exc, "orig", None) or exc
    text = str(origin).strip().splitlines()
    return hide_password(text[0]) if text else type(origin).__name__


def _cell(value: object) -> str:
    """A database value as the text a CSV extract would hold."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "Y" if value else "N"
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    return str(value).strip()
