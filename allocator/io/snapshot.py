"""Loading a snapshot: a JSON file or a folder of CSV tables, with a day's referrals
(:func:`load_snapshot`), or a snapshot held in memory (:func:`snapshot_from_dict`):
read, validate, cross-check, build.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter, ValidationError

from allocator.contract.faults import InputError, _found, _Report, _sentence, _short, did_you_mean
from allocator.contract.fields import _fields_of
from allocator.contract.models import (
    SNAPSHOT_FORMAT,
    Case,
    Practitioner,
    Snapshot,
    case_doubts,
    practitioner_doubts,
)
from allocator.io.layout import (
    CASES_CSV,
    PRACTITIONERS_CSV,
    SNAPSHOT_CSV,
    STDIN,
    PathLike,
    check_path,
)
from allocator.io.reading import (
    _FAILED,
    _Failed,
    _parse_json,
    _read_csv,
    _read_json,
    _read_text,
    _Table,
)
from allocator.io.validating import (
    FILE_KINDS,
    _check_as_of,
    _check_format,
    _cross_references,
    _validate_table,
    _waiting_dates,
)

_PRACTITIONERS: TypeAdapter[list[Practitioner]] = TypeAdapter(list[Practitioner])

_CASES: TypeAdapter[list[Case]] = TypeAdapter(list[Case])


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
        # A list of cases is how referrals are written: given as the snapshot, most
        # often the day's referrals file in the snapshot's place.
        hint = (
            " (a list of cases is referrals: give it as --referrals)"
            if isinstance(data, list)
            else ""
        )
        report.add(
            0,
            -1,
            f"{path}: found {_found(data, echo=False)}, expected a JSON object with the fields "
            f"format, as_of, practitioners and cases{hint}",
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
        elif not isinstance(rows, list | tuple):  # a tuple: Snapshot.model_dump()'s form
            found = _found(rows, echo=False)
            report.add(rank, -1, f"{path}: field {name!r} is {found}, expected a list")
            tables.append(None)
        else:
            tables.append(_Table(source, name, list(rows), rank))
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
    if path.suffix.lower() != ".json" and _reads_as_toml(path):
        # A policy file in the referrals' place (a fresh manager's was told to rename
        # it to .csv, its keys having commas).
        report.add(
            rank,
            -1,
            f"{path}: this is a TOML file (a policy?), not referrals: give the day's new "
            'cases, a list of cases or an object {"cases": [...]}',
        )
        return None
    if path.suffix.lower() != ".json" and _looks_like_csv(path):
        report.add(
            rank,
            -1,
            f"{path}: referrals are read as CSV only from a file named .csv, and this one "
            "reads as CSV (its first line has commas and no JSON): rename it to .csv",
        )
        return None
    data = _read_json(path, report, rank)
    if isinstance(data, _Failed):
        return None
    return _referrals_data(path, data, report)


def _reads_as_toml(path: Path) -> bool:
    """Whether ``path`` is a TOML document setting something (a policy file): never true
    of a CSV table, whose header is not TOML, nor of JSON."""
    import tomllib

    try:
        return bool(tomllib.loads(path.read_text(encoding="utf-8-sig")))
    except (OSError, UnicodeDecodeError, ValueError):
        return False  # reading it properly says why


def _looks_like_csv(path: Path) -> bool:
    """Whether ``path``'s first line reads as a CSV header: commas, and no JSON opening."""
    try:
        with open(path, "rb") as f:
            first = f.readline(4096).decode("utf-8-sig", errors="replace").strip()
    except OSError:
        return False  # reading it properly says why
    return bool(first) and first[0] not in "[{" and "," in first


def _referrals_data(path: Path | str, data: Any, report: _Report) -> _Table | None:
    """Parsed referrals (a list of cases or ``{"cases": [...]}``) as a table (rank 3)."""
    rank = 3
    referrals = 'the day\'s new cases, a list of cases or an object {"cases": [...]}'
    written = data.get("format") if isinstance(data, dict) else None
    kind = FILE_KINDS.get(written) if isinstance(written, str) else None
    if kind is not None:
        # Another of the allocator's files given as the referrals (a plan, the
        # service file twice): named by its format, one sentence, not one per field.
        report.add(rank, -1, f"{path}: this is {kind}, not referrals: give {referrals}")
        return None
    if isinstance(data, dict) and "practitioners" in data:
        report.add(
            rank,
            -1,
            f"{path}: this is a snapshot (it has practitioners), not referrals: give {referrals}",
        )
        return None
    if isinstance(data, dict) and "as_of" in data:
        # Referrals carry no date of their own: the snapshot's as_of is the day.
        report.add(
            rank,
            -1,
            f"{path}: referrals have no as_of (the snapshot's as_of is their day): leave it "
            f"out, or check that these are the referrals of the snapshot's day; expected "
            f"{referrals}",
        )
        return None
    if isinstance(data, dict) and "cases" not in data and "id" in data:
        report.add(
            rank,
            -1,
            f"{path}: this is one case, not a list of referrals: write it as [{{...}}] or "
            '{"cases": [{...}]}',
        )
        return None
    if isinstance(data, dict):
        for key in data:
            if key != "cases":
                message = f"{path}: unknown field {_short(key)}" + did_you_mean(key, ["cases"])
                report.add(rank, -1, message)
        if "cases" not in data:
            report.add(rank, -1, f"{path}: required field 'cases' is missing, expected a list")
            return None
        data = data["cases"]
    if not isinstance(data, list | tuple):
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


#: What to use for a snapshot held in memory, said when one is given as a path.
_DICT_SNAPSHOT = (
    "for a snapshot held as a dict (parsed JSON), use allocator.snapshot_from_dict(data)"
)


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
    TypeError
        If ``path`` or ``referrals`` is not a file path (a dict: use
        :func:`snapshot_from_dict`).
    """
    check_path("load_snapshot", "path", path, _DICT_SNAPSHOT)
    check_path("load_snapshot", "referrals", referrals, _DICT_SNAPSHOT, none=True)
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
            if warnings is not None:
                staff = _Table(
                    str(path), "practitioners", [{"id": p.id} for p in fast.practitioners], 1
                )
                ids = _Table(str(path), "cases", [{"id": c.id} for c in fast.cases], 2)
                warnings.extend(_doubts_where(fast, staff, [ids]))
                warnings.extend(_left_out(_Parts(str(path), True, fast.as_of, staff, ids), fast))
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
        warnings.extend(_doubts_where(snapshot, parts.practitioners, [parts.cases, extra]))
        warnings.extend(_left_out(parts, snapshot))
    return snapshot


#: Optional columns a snapshot's CSV table may leave out, and what leaving one out of
#: the whole table makes of the morning: each changes who holds or may hold a child
#: without any error (a fresh user's export without ``worker`` reallocated the service).
LEFT_OUT_COLUMNS: dict[str, dict[str, str]] = {
    "practitioners": {
        "leaving_on": "no worker is read as leaving, so no leaver's children are handed over",
        "available_from": "every worker is read as at work today",
        "skills": "no worker is read as having a skill, so a child who needs one has nobody",
    },
    "cases": {
        "worker": "every case is read as having no worker, so every child needs one",
        "excluded_workers": "no case is read as excluding any worker (conflicts of interest)",
        "needs": "no case is read as needing a skill, so any worker may take any child",
    },
}


def _left_out(parts: _Parts, snapshot: Snapshot) -> list[str]:
    """Doubts about a snapshot that says nothing of who holds whom: each column of
    :data:`LEFT_OUT_COLUMNS` a CSV table leaves out, and (JSON or CSV) a service with
    staff where none of the snapshot's own cases has a worker."""
    out = []
    for table in (parts.practitioners, parts.cases):
        if table is None:
            continue
        for column, meaning in LEFT_OUT_COLUMNS.get(table.name, {}).items():
            if column in table.absent_columns:
                out.append(f"{table.source}: no {column!r} column: {meaning}")
    cases = parts.cases
    if cases is None or "worker" in cases.absent_columns:  # nothing read, or said above
        return out
    own = snapshot.cases[: len(cases.rows)]  # the day's referrals never have a worker
    if snapshot.practitioners and len(own) > 1 and all(c.worker is None for c in own):
        out.append(
            f"{cases.source}: none of the {len(own)} cases has a worker, so every child is "
            "read as needing one (a 'worker' field or column left out of the export?)"
        )
    return out


def _doubts_where(
    snapshot: Snapshot, practitioners: _Table | None, case_tables: Sequence[_Table | None]
) -> list[str]:
    """:func:`allocator.contract.models.practitioner_doubts`, then :func:`case_doubts`, each
    naming the file and row its record came from: ``case_tables`` are those the
    snapshot's cases were read from, in order (the snapshot's, then the referrals'),
    so a referral's doubt names the referrals file."""
    staff = [practitioners] if practitioners is not None else []
    return _named(
        snapshot.practitioners, practitioner_doubts(snapshot), staff, "practitioner"
    ) + _named(snapshot.cases, case_doubts(snapshot), case_tables, "case")


def _named(
    records: Sequence[Practitioner] | Sequence[Case],
    doubts: Sequence[tuple[int, str]],
    tables: Sequence[_Table | None],
    kind: str,
) -> list[str]:
    """Each doubt (record index, sentence) with the file and row of its record, or its
    id where the records were not read from ``tables`` row for row."""
    rows = [(table, i) for table in tables if table is not None for i in range(len(table.rows))]
    out: list[str] = []
    for index, doubt in doubts:
        if len(rows) == len(records):
            table, i = rows[index]
            out.append(f"{table.source}, {table.where(i)}: {doubt}")
        else:
            out.append(f"{kind} {records[index].id}: {doubt}")
    return out
