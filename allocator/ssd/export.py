"""``allocator export ssd``: a plan as SSD-shaped involvement rows a council can load.

One row per change the plan makes, in ``ssd_involvements`` columns:

- a **new involvement** for every assignment: the worker, the allocated-worker role,
  the child, ``invo_involvement_start_date`` = the plan's day, no end;
- an **ended involvement** for every case that leaves a worker (a move, or a case of
  a worker who left or is away that the plan could not place): the old worker,
  ``invo_involvement_end_date`` = the plan's day. It is the very row the import read
  (its ``invo_involvements_id`` and start date) when the import's open involvements
  are given (:func:`read_open_involvements`: the side file ``import ssd`` writes
  beside the snapshot); otherwise, or if that child's worker has changed since, a
  new id with an empty start, and a council's loader closes the open involvement
  of that child and worker.

``invo_worker_change_reason`` uses the SSD's code set: ``LEFTRL`` when the old worker
has left, ``ABSENC`` when they are away on the day, ``FCONTA`` for a child with no
worker before, ``MANAGE`` (managing caseloads) for any other move.
``invo_involvements_id`` is new and deterministic (``A`` + day + row number).
"""

from __future__ import annotations

import csv
from collections.abc import Mapping
from io import StringIO
from pathlib import Path

from allocator.contract.models import Plan, Practitioner, Snapshot
from allocator.io import InputError, write_text
from allocator.ssd.ssd_import import BASE_COLUMNS, CurrentInvolvement
from allocator.ssd.tables import Problems, parse_date, read_table, shown

INVOLVEMENT_COLUMNS = BASE_COLUMNS["ssd_involvements"]
"""The ``ssd_involvements`` fields written, in the SSD's names: those the import reads."""


def _reason(old: Practitioner | None, snapshot: Snapshot) -> str:
    if old is None:
        return "MANAGE"
    if old.leaving_on is not None and old.leaving_on <= snapshot.as_of:
        return "LEFTRL"
    if old.available_from is not None and old.available_from > snapshot.as_of:
        return "ABSENC"
    return "MANAGE"


OPEN_COLUMNS = (
    "invo_person_id",
    "invo_professional_id",
    "invo_involvements_id",
    "invo_involvement_start_date",
)
"""The columns of the open-involvements side file: each case's open involvement."""


def open_involvements_path(snapshot: str | Path) -> Path:
    """Where ``import ssd`` keeps the open involvements of the snapshot at ``snapshot``.

    ``snap.json`` gives ``snap.ssd-involvements.csv`` beside it; a CSV snapshot
    folder gives ``ssd-involvements.csv`` inside it.
    """
    path = Path(snapshot)
    if path.suffix.lower() == ".json":
        return path.with_name(path.stem + ".ssd-involvements.csv")
    return path / "ssd-involvements.csv"


def write_open_involvements(
    involvements: Mapping[str, CurrentInvolvement], path: str | Path
) -> Path:
    """Write each case's open involvement (the row its worker came from), atomically.

    Returns
    -------
    Path
        The file written (:data:`OPEN_COLUMNS`, one row per case with a worker).
    """
    out = StringIO(newline="")
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(OPEN_COLUMNS)
    for case in sorted(involvements):
        held = involvements[case]
        writer.writerow([case, held.worker, held.ident, held.start.isoformat()])
    path = Path(path)
    write_text(path, out.getvalue())
    return path


def read_open_involvements(path: str | Path) -> dict[str, CurrentInvolvement]:
    """Read a side file of :func:`write_open_involvements`.

    Raises
    ------
    InputError
        A missing file, column or id, or a bad date: file, line and field named.
    """
    problems = Problems()
    table = read_table(Path(path), problems, required=OPEN_COLUMNS)
    problems.raise_if_any()
    assert table is not None
    found: dict[str, CurrentInvolvement] = {}
    for row in table:
        case, worker, ident = (row.get(c) for c in OPEN_COLUMNS[:3])
        start = parse_date(row.get("invo_involvement_start_date"))
        if not (case and worker and ident):
            problems.error(f"{row.where()}: expected a person, a professional and an id")
        elif start is None:
            problems.error(
                f"{row.where(ident)}: field 'invo_involvement_start_date' is "
                f"{shown(row.get('invo_involvement_start_date'))}, expected a date YYYY-MM-DD"
            )
        else:
            found[case] = CurrentInvolvement(worker, ident, start)
    problems.raise_if_any()
    return found


def involvement_rows(
    plan: Plan,
    snapshot: Snapshot,
    role: str,
    opened: Mapping[str, CurrentInvolvement] | None = None,
    *,
    sources: tuple[str, str] = ("plan", "snapshot"),
) -> list[dict[str, str]]:
    """The plan's changes as ``ssd_involvements`` rows (ended rows first for each child).

    Parameters
    ----------
    plan
        The plan (its cases must be in ``snapshot``).
    snapshot
        The snapshot the plan was made from: current workers, leavers and absences.
    role
        The ``invo_professional_role_id`` of the allocated worker.
    opened
        Each case's open involvement as the import read it
        (:func:`read_open_involvements`): an ended row then carries that row's id and
        start. A case missing from it, or whose worker differs, gets a new id.
    sources
        The plan's and the snapshot's names in messages (their files, from the CLI).

    Returns
    -------
    list of dict
        One row per ended or new involvement, keyed by :data:`INVOLVEMENT_COLUMNS`.

    Raises
    ------
    InputError
        If the plan names a case or worker the snapshot does not hold.
    """
    cases = {c.id: c for c in snapshot.cases}
    staff = {p.id: p for p in snapshot.practitioners}
    named = [a.case for a in plan.assignments] + [u.case for u in plan.unallocated]
    plan_name, snapshot_name = sources
    problems = [
        f"{plan_name}: case {case!r} is not in the snapshot {snapshot_name}, expected the "
        "snapshot the plan was made from"
        for case in named
        if case not in cases
    ]
    problems += [
        f"{plan_name}: worker {a.worker!r} (case {a.case!r}) is not a practitioner of the "
        f"snapshot {snapshot_name}, expected the snapshot the plan was made from"
        for a in plan.assignments
        if a.worker not in staff
    ]
    if problems:
        raise InputError(problems)
    day = plan.as_of.isoformat()
    rows: list[dict[str, str]] = []

    opened = opened or {}

    def add(worker: str, person: str, start: str, end: str, reason: str, ident: str = "") -> None:
        rows.append(
            dict(
                zip(
                    INVOLVEMENT_COLUMNS,
                    (
                        ident or f"A{plan.as_of:%Y%m%d}-{len(rows) + 1:05d}",
                        worker,
                        role,
                        person,
                        start,
                        end,
                        reason,
                    ),
                    strict=True,
                )
            )
        )

    def end(worker: str, person: str, reason: str) -> None:
        held = opened.get(person)
        if held is not None and held.worker == worker:
            add(worker, person, held.start.isoformat(), day, reason, held.ident)
        else:
            add(worker, person, "", day, reason)

    for assignment in plan.assignments:
        old_id = cases[assignment.case].worker
        if old_id == assignment.worker:
            continue
        old = staff.get(old_id) if old_id else None
        reason = "FCONTA" if old_id is None else _reason(old, snapshot)
        if old_id is not None:
            end(old_id, assignment.case, reason)
        add(assignment.worker, assignment.case, day, "", reason)
    for left in plan.unallocated:
        old_id = cases[left.case].worker
        if old_id is not None:
            end(old_id, left.case, _reason(staff.get(old_id), snapshot))
    return rows


def write_involvements(rows: list[dict[str, str]], folder: str | Path) -> Path:
    """Write ``ssd_involvements.csv`` into ``folder`` (created if needed), atomically.

    Returns
    -------
    Path
        The file written.
    """
    out = StringIO(newline="")
    writer = csv.DictWriter(out, fieldnames=INVOLVEMENT_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise InputError(f"{folder}: expected a folder; nothing was written.")
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / "ssd_involvements.csv"
    write_text(target, out.getvalue())
    return target
