"""Reading input files, each once (:func:`read_input`: a regular file or standard
input, at most :data:`MAX_INPUT_BYTES`), decoded as UTF-8 and parsed as JSON (a key
repeated in an object reported) or as a CSV table (:class:`_Table`: the header,
ragged rows, a wrong separator); every problem is added to a :class:`_Report`.
"""

from __future__ import annotations

import csv
import json
import os
import stat
import sys
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from io import StringIO
from pathlib import Path
from typing import Any, Final

from allocator.contract.faults import (
    LISTED_ROWS,
    InputError,
    _Kind,
    _label,
    _Report,
    _sentence,
    _short,
    unknown_column,
    unreadable_number,
)
from allocator.contract.fields import _Field
from allocator.io.layout import LIST_SEPARATOR, STDIN, PathLike, _unneutralised


class _Failed:
    """Marks a file that could not be read (the reason is in the report)."""


_FAILED = _Failed()

MAX_INPUT_BYTES: Final = 256 * 1024 * 1024
"""Largest input file read (snapshot, CSV table, referrals, plan or policy): 256 MiB.

A 50,000-case JSON snapshot is about 20 MB; the limit stops a wrong path (a device
such as ``/dev/zero``, a runaway export) from filling the memory.
"""


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


#: The standard input stream already read to its end, if any: a second ``-`` in one
#: command would otherwise read nothing and be called an empty file.
_read_stdin: object | None = None


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
        unreadable, larger than the limit, or a spreadsheet workbook (not text).
    """
    if str(path) == STDIN:
        global _read_stdin
        stream = sys.stdin.buffer
        if stream is _read_stdin:
            raise InputError(
                f"{STDIN}: standard input was read already for another input of this "
                "command; it can stand for one file only"
            )
        _read_stdin = stream
        return _not_a_workbook(_read_stream(stream.read, "standard input"), STDIN)
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
                return _not_a_workbook(_read_stream(sys.stdin.buffer.read, path), path)
            raise InputError(
                f"{path}: not a regular file (a device, pipe or socket), expected a file, "
                f"or {STDIN} for standard input"
            )
        if status.st_size > MAX_INPUT_BYTES:
            raise _too_large(path)
        with os.fdopen(os.dup(fd), "rb") as handle:
            return _not_a_workbook(_read_stream(handle.read, path), path)
    except OSError as exc:
        raise InputError(f"{path}: cannot read the file ({exc.strerror or exc})") from None
    finally:
        os.close(fd)


#: The first bytes of a spreadsheet workbook, by kind: every input is text, and a
#: workbook renamed .csv would otherwise be read as one column of binary noise.
_WORKBOOKS: Final = (
    (b"PK\x03\x04", "a ZIP archive (an Excel .xlsx or OpenDocument .ods workbook?)"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an old Excel .xls workbook"),
)


def _not_a_workbook(data: bytes, path: PathLike) -> bytes:
    """``data`` unless it starts as a spreadsheet workbook does (then one sentence)."""
    for magic, kind in _WORKBOOKS:
        if data.startswith(magic):
            raise InputError(
                f"{path}: {kind}, expected a text file; save a sheet as CSV "
                "(comma-separated, UTF-8) and give that"
            )
    return data


def decode_utf8(data: bytes, path: PathLike, *, table: bool = False) -> str:
    """``data``, the bytes of ``path``, as text: UTF-8, a byte-order mark dropped.

    Every reader of a text file decodes through here, so that a byte that is not
    UTF-8 is said in one way: where it is, as a person finds it in an editor or a
    spreadsheet (:func:`not_utf8`).

    Parameters
    ----------
    data, path
        The file's bytes, and the file (named in the sentence).
    table
        Whether the file is a CSV table: its row is named as the CSV readers count
        rows, with the column.

    Raises
    ------
    InputError
        One sentence, e.g. ``cases.csv, line 412, column 'area': not UTF-8 text (byte
        39092 cannot be read)``; each reader adds what it expected.
    """
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(not_utf8(path, data, exc, table=table)) from None


def not_utf8(path: PathLike, data: bytes, exc: UnicodeDecodeError, *, table: bool = False) -> str:
    """Where ``data`` (``path``'s bytes) stops being UTF-8, as :func:`decode_utf8` says it.

    The byte alone ("byte 39092") left a person counting bytes in a file of lines. The
    text line and its column (a character's) are given; for a CSV table (``table``) the row as the
    CSV readers count rows (the header is line 1; a quoted cell over several text
    lines is one row), the column named by the header, and the text line too where it
    differs from the row. The byte counts from the start of the file, a byte-order
    mark included.
    """
    skipped = len(data) - len(exc.object)  # a byte-order mark "utf-8-sig" dropped
    byte = skipped + exc.start + 1
    # Everything before the bad byte decodes: that is where the decoder stopped.
    before = bytes(exc.object[: exc.start]).decode("utf-8", errors="replace")
    lines = before.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    line, column = len(lines), len(lines[-1]) + 1
    where = f"line {line}, column {column}"  # as a JSON error names its place
    if table:
        where = _csv_place(before, line)
    return f"{path}, {where}: not UTF-8 text (byte {byte} cannot be read)"


#: Stands in for the byte that cannot be read, to find the CSV cell it falls in: a
#: character of Unicode's private use area, which no decoded text before it holds.
_MARK: Final = "\ue000"


def _csv_place(before: str, line: int) -> str:
    """``line 412, column 'area'`` for a byte that cannot be read after the text
    ``before`` it (``line``: the text line it is on), as the CSV readers count rows."""
    rows = list(csv.reader(StringIO(before + _MARK, newline=""), strict=False))
    found = (
        (r, c) for r, cells in enumerate(rows) for c, text in enumerate(cells) if _MARK in text
    )
    row, cell = next(found, (len(rows) - 1, -1))
    said = f"line {row + 1}"
    if row > 0 and 0 <= cell < len(rows[0]) and (name := rows[0][cell].strip()):
        said += f", column {_short(name)}"
    return said if row + 1 == line else f"{said} (text line {line})"


def _read_text(path: Path, report: _Report, rank: int, *, table: bool = False) -> str | _Failed:
    """The file's text (UTF-8, with or without a byte-order mark), or a reported failure;
    ``table``: a CSV table (see :func:`decode_utf8`)."""
    try:
        raw = read_input(path)
    except InputError as exc:
        report.add(rank, -1, str(exc))
        return _FAILED
    try:
        text = decode_utf8(raw, path, table=table)
    except InputError as exc:
        report.add(
            rank,
            -1,
            f"{exc}, expected a file saved as UTF-8 (in a spreadsheet: 'CSV UTF-8')",
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
    except ValueError as exc:
        report.add(rank, -1, f"{path}: not valid JSON: {unreadable_number(exc)}")
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
    # Optional fields a CSV file has no column for (every row takes the default).
    absent_columns: frozenset[str] = frozenset()
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
    text = _read_text(path, report, rank, table=True)
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
    absent = frozenset(f for f, spec in fields.items() if not spec.required and f not in seen)
    table = _Table(
        str(path), name, [], rank, lines=[], missing_columns=missing, absent_columns=absent
    )
    assert table.lines is not None
    id_index = header.index("id") if "id" in header else None
    padded = padded_width((cells for _, cells in records[1:]), len(header))
    for number, cells in records[1:]:
        if not any(cell.strip() for cell in cells):
            continue
        if len(cells) == padded and not "".join(cells[len(header) :]).strip():
            cells = cells[: len(header)]  # the empty cells an export ends every row with
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


def padded_width(rows: Iterable[Sequence[str]], columns: int) -> int:
    """The width to which the file pads its rows: ``columns`` (line 1's), or a wider
    width that more than half of the rows with a cell filled have, every cell beyond
    ``columns`` empty (an export or spreadsheet that ends each row with empty cells).

    A few rows wider than line 1 are not padding, even where their last cells are
    empty: a comma typed in a cell without quotes ("court,welsh", "13,6") splits it
    in two and moves every cell after it one column on, so the row is refused
    (:func:`ragged_row`), never read with its cells in the wrong columns.
    """
    filled = 0
    wide: Counter[int] = Counter()
    for cells in rows:
        if not "".join(cells).strip():
            continue
        filled += 1
        if len(cells) > columns and not "".join(cells[columns:]).strip():
            wide[len(cells)] += 1
    if not wide:
        return columns
    width, count = min(wide.items(), key=lambda item: (-item[1], item[0]))
    return width if 2 * count > filled else columns


def ragged_row(cells: int, columns: int, *, snapshot: bool = True) -> str:
    """What is wrong with a row of ``cells`` cells under a line 1 of ``columns``; a
    row too wide says how a comma typed in a cell makes one (``snapshot``: with the
    snapshot tables' own ways to write a list and a number)."""
    message = f"found {cells} cells, expected {columns} (one per column of line 1)"
    if cells > columns:
        message += (
            "; a comma in a cell without quotes splits it in two and moves the cells after it: "
        )
        if snapshot:
            message += (
                "separate list items with ';' (court;welsh), write numbers with '.' (13.6), or "
            )
        message += "put the cell in double quotes"
    return message


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
        message = ragged_row(cells, columns)
        kind = (_Kind(str(path), "the number of cells", f"{cells} cells"), f"line {line}", message)
        report.add(rank, line, f"{path}, line {line}: {message}", kind)


def _count_items(n: int) -> str:
    """``"1 item"``, ``"2 items"``."""
    return f"{n} item" if n == 1 else f"{n} items"
