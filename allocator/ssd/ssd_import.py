"""``allocator import ssd``: a folder of SSD table extracts (CSV) to a snapshot.

The Standard Safeguarding Dataset (Data to Insight, ``data-to-insight/ssd-data-model``)
holds a council's children's social care records in shared tables. This module reads
the few it needs, by their real table and field names:

- ``ssd_professionals`` (``prof_professional_id``, ``prof_professional_job_title``,
  ``prof_professional_department``, ``prof_full_time_equivalency``,
  ``prof_agency_worker_flag``) and ``ssd_department`` (``dept_team_id``,
  ``dept_team_name``): the practitioners;
- ``ssd_person`` (``pers_person_id``) and ``ssd_family`` (``fami_family_id``,
  ``fami_person_id``): the children and their families;
- the episode tables (``ssd_pre_proceedings``, ``ssd_cp_plans``, ``ssd_cla_episodes``,
  ``ssd_cin_episodes``, ``ssd_early_help_episodes``, ``ssd_care_leavers``): which
  children have an open case and of what type;
- ``ssd_involvements``: who holds each child now, who held them before, and how
  often the worker changed in the last year.

Names (``prof_professional_name``) and free text are never read. What the SSD does
not hold comes from the mapping file (:mod:`allocator.ssd.mapping`), and every such
value is counted in the :class:`~allocator.ssd.report.ImportReport`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from functools import cache, partial
from pathlib import Path
from typing import Annotated, Any, get_args, get_origin

import polars as pl
from pydantic import BaseModel, TypeAdapter, ValidationError

from allocator.contract.models import (
    ID_PATTERN,
    SNAPSHOT_FORMAT,
    TEXT_CELLS,
    Case,
    Contract,
    Practitioner,
    Snapshot,
)
from allocator.domain.rules import counted
from allocator.io import expected_at
from allocator.ssd.mapping import EPISODE_TABLES, SsdMapping, role_key
from allocator.ssd.report import ImportReport
from allocator.ssd.tables import (
    DATE_RANGE,
    ID_EXPECTED,
    LINE,
    Cell,
    Counted,
    Problems,
    Row,
    Table,
    found_value,
    frame_dates,
    inside,
    is_database_url,
    one_year_before,
    read_database,
    read_table,
    shown,
)

Place = Cell | Counted
"""Where a snapshot field's value was read: a cell of the extract or a side table, or a
count over a table's rows."""

BASE_COLUMNS: dict[str, tuple[str, ...]] = {
    "ssd_person": ("pers_person_id",),
    "ssd_family": ("fami_family_id", "fami_person_id"),
    "ssd_department": ("dept_team_id", "dept_team_name"),
    "ssd_professionals": (
        "prof_professional_id",
        "prof_professional_job_title",
        "prof_professional_department",
        "prof_full_time_equivalency",
        "prof_agency_worker_flag",
    ),
    "ssd_involvements": (
        "invo_involvements_id",
        "invo_professional_id",
        "invo_professional_role_id",
        "invo_person_id",
        "invo_involvement_start_date",
        "invo_involvement_end_date",
        "invo_worker_change_reason",
    ),
}
"""The tables every import reads and the columns it needs of each."""


@dataclass(frozen=True)
class EpisodeColumns:
    """Where an episode table keeps its id, child, start and end, and other dates."""

    ident: str
    person: str
    start: str | None
    end: str | None
    extra: tuple[str, ...] = ()
    other_dates: tuple[str, ...] = ()

    @property
    def required(self) -> tuple[str, ...]:
        """Every column the import reads."""
        named = (self.ident, self.person, self.start, self.end, *self.extra, *self.other_dates)
        return tuple(c for c in named if c is not None)

    @property
    def dates(self) -> tuple[str, ...]:
        """The date columns checked on every row read (the start, if any, required)."""
        return tuple(c for c in (self.start, self.end, *self.other_dates) if c is not None)


EPISODE_COLUMNS: dict[str, EpisodeColumns] = {
    "ssd_pre_proceedings": EpisodeColumns(
        "prep_table_id",
        "prep_person_id",
        "prep_pre_pro_decision_date",
        None,
        ("prep_pre_pro_outcome", "prep_la_final_care_plan", "prep_agree_stepdown_issue_date"),
    ),
    "ssd_cp_plans": EpisodeColumns(
        "cppl_cp_plan_id", "cppl_person_id", "cppl_cp_plan_start_date", "cppl_cp_plan_end_date"
    ),
    "ssd_permanence": EpisodeColumns(
        "perm_table_id",
        "perm_person_id",
        None,
        None,
        other_dates=(
            "perm_adm_decision_date",
            "perm_placement_order_date",
            "perm_decision_reversed_date",
            "perm_permanence_order_date",
        ),
    ),
    "ssd_legal_status": EpisodeColumns(
        "lega_legal_status_id",
        "lega_person_id",
        "lega_legal_status_start_date",
        "lega_legal_status_end_date",
        ("lega_legal_status",),
    ),
    "ssd_cla_episodes": EpisodeColumns(
        "clae_cla_episode_id",
        "clae_person_id",
        "clae_cla_episode_start_date",
        "clae_cla_episode_ceased",
    ),
    "ssd_cin_episodes": EpisodeColumns(
        "cine_referral_id", "cine_person_id", "cine_referral_date", "cine_close_date"
    ),
    "ssd_early_help_episodes": EpisodeColumns(
        "earl_episode_id", "earl_person_id", "earl_episode_start_date", "earl_episode_end_date"
    ),
    "ssd_care_leavers": EpisodeColumns(
        "clea_table_id", "clea_person_id", None, None, ("clea_care_leaver_in_touch",)
    ),
}
"""The columns of each episode table (SSD field names). A pre-proceedings row's
step-down date is read only on a step-down row (see :func:`_pre_proceedings_open`);
a permanence row starts at the ADM decision (else the placement order) and ends at
the decision being reversed or the permanence order, whichever is first."""

CHANGE_REASONS = frozenset(
    {"MANAGE", "FCONTA", "LEFTRL", "ORGRST", "TSPROC", "ABSENC", "CHCHAN", "PCCHAN", "SWDIED"}
    | {"OTHERS"}
)
"""The SSD's code set for ``invo_worker_change_reason``."""

AGENCY_FLAGS = {"Y": True, "N": False, "": False}
"""``prof_agency_worker_flag`` values (Y/N; empty = not agency)."""

CARE_LEAVER_WORKER = "clea_care_leaver_worker_id"
"""The optional ``ssd_care_leavers`` column naming the allocated worker: used for a care
leaver with no open allocated involvement."""

UNKNOWN_TEAM = "unknown"
"""The team of a professional whose department is empty."""


@dataclass(frozen=True)
class CurrentInvolvement:
    """The open allocated-worker involvement a case's current worker was read from.

    Kept so that ``allocator export ssd`` can close this very row (its id and start)
    when a plan moves the child; see ``docs/IMPORT-MAPPINGS.md``.
    """

    worker: str
    ident: str
    start: date


@dataclass
class History:
    """What the involvements say about each child (by person id)."""

    current: dict[str, CurrentInvolvement]
    current_lines: dict[str, int]
    """The line (or row) of each child's current involvement."""
    previous: dict[str, list[str]]
    changes: dict[str, int]
    open_children: set[str]
    """Children with an open allocated-worker involvement (with or without a case)."""
    open_counts: dict[str, int]


def _read_all(source: str, mapping: SsdMapping, problems: Problems) -> dict[str, Table]:
    wanted: dict[str, tuple[str, ...]] = dict(BASE_COLUMNS)
    for episode in mapping.episodes.order:
        wanted[episode] = EPISODE_COLUMNS[episode].required
    optional = {"ssd_care_leavers": (CARE_LEAVER_WORKER,)}
    return read_tables(source, mapping, wanted, problems, optional=optional)


def read_tables(
    source: str,
    mapping: SsdMapping,
    wanted: Mapping[str, Sequence[str]],
    problems: Problems,
    *,
    optional: Mapping[str, Sequence[str]] | None = None,
) -> dict[str, Table]:
    """The SSD tables ``wanted`` (name -> required columns) from ``source``: a folder
    of CSV extracts (``<name>.csv``) or a database URL; what is wrong goes to
    ``problems``, and a table missing, or missing a column, is left out of the answer.
    ``optional`` (database only): tables read where present."""
    if is_database_url(source):
        return read_database(
            source, wanted, problems, schema=mapping.database.schema_name, optional=optional
        )
    folder = Path(source)
    if folder.exists() and not folder.is_dir():
        problems.error(
            f"{source}: a file, not a folder; expected a folder of SSD tables (CSV, one file "
            "per table such as ssd_person.csv) or a database URL (postgresql://..., "
            "mssql+pyodbc://..., sqlite:///...)"
        )
        return {}
    if not folder.is_dir():
        problems.error(
            f"{source}: no such folder, expected a folder of SSD tables (CSV) or a "
            "database URL (postgresql://..., mssql+pyodbc://..., sqlite:///...)"
        )
        return {}
    tables: dict[str, Table] = {}
    for name, columns in wanted.items():
        table = read_table(folder / f"{name}.csv", problems, required=columns)
        # A table without a column it needs is reported and left out, as a missing one
        # is: the other tables are still checked.
        if table is not None and all(column in table.columns for column in columns):
            tables[name] = table
    return tables


def _report_rows(
    frame: pl.DataFrame,
    table: Table,
    ident: str | None,
    problems: Problems,
    message: Callable[[dict[str, Any]], str],
) -> None:
    """One error per row of ``frame``: where it is, then ``message(row)``."""
    for record in frame.iter_rows(named=True):
        at = table.where(record[LINE], (record[ident] or None) if ident else None)
        problems.error(f"{at}: {message(record)}")


def _known_people(
    frame: pl.DataFrame,
    table: Table,
    column: str,
    ident: str | None,
    people: pl.Series | None,
    problems: Problems,
) -> pl.DataFrame:
    """The rows of ``frame`` naming a child of ``ssd_person``; the others reported.

    ``people`` is ``None`` when ``ssd_person`` could not be read (reported): the rows
    are then kept unchecked, so that their other problems are still found.
    """
    if people is None:
        return frame
    empty = pl.col(column) == ""
    unknown = ~empty & ~pl.col(column).is_in(people.implode())
    _report_rows(
        frame.filter(empty),
        table,
        ident,
        problems,
        lambda r: f"field {column!r} is empty, expected a person id",
    )
    _report_rows(
        frame.filter(unknown),
        table,
        ident,
        problems,
        lambda r: (
            f"field {column!r} is {shown(r[column])}, expected a pers_person_id of ssd_person"
        ),
    )
    return frame.filter(~empty & ~unknown)


def _open_episodes(
    tables: dict[str, Table],
    mapping: SsdMapping,
    people: pl.Series | None,
    as_of: date,
    problems: Problems,
    report: ImportReport,
) -> tuple[pl.DataFrame, dict[str, tuple[str, Cell]]]:
    """Each child's open episodes, and the care-leaver table's workers.

    Returns
    -------
    tuple
        A frame of open episodes (``person``, ``rank`` in the order, ``start``, null
        for a care leaver, and where the start was read: the row's ``line``, ``ident``
        and the start's ``column``), and for each open care-leaver row naming one, the
        ``clea_care_leaver_worker_id`` with where it was written.
    """
    found: list[pl.DataFrame] = []
    care_leaver_workers: dict[str, tuple[str, Cell]] = {}
    closed_in_touch = [c.upper() for c in mapping.episodes.care_leaver_closed_in_touch]
    adoption_codes = [c.strip().upper() for c in mapping.episodes.adoption_legal_statuses]
    for rank, name in enumerate(mapping.episodes.order):
        table = tables.get(name)
        if table is None:
            continue
        spec = EPISODE_COLUMNS[name]
        worker_column = [CARE_LEAVER_WORKER] if name == "ssd_care_leavers" else []
        frame = table.frame([*spec.required, *worker_column])
        # An episode is one row: a repeated id is two records of one episode, or two
        # episodes under one id, and either is a fault of the extract to be said.
        _ids_once(frame, table, spec.ident, "episode once", problems)
        frame = _known_people(frame, table, spec.person, spec.ident, people, problems)
        report.count(f"{name} rows read", frame.height)
        if name == "ssd_legal_status":
            code = pl.col("lega_legal_status").str.strip_chars().str.to_uppercase()
            other = frame.filter(~code.is_in(adoption_codes)).height
            if other:
                report.count("ssd_legal_status rows of other statuses (not used)", other)
            frame = frame.filter(code.is_in(adoption_codes))
        if name == "ssd_permanence":
            decided = (pl.col("perm_adm_decision_date") != "") | (
                pl.col("perm_placement_order_date") != ""
            )
            undecided = frame.filter(~decided).height
            if undecided:
                report.count("ssd_permanence rows with no adoption decision (not used)", undecided)
            frame = frame.filter(decided)
        # where each row's start is written, and as written (a message quotes it back)
        if name == "ssd_permanence":
            decision = pl.col("perm_adm_decision_date") != ""
            frame = frame.with_columns(
                _start_column=pl.when(decision)
                .then(pl.lit("perm_adm_decision_date"))
                .otherwise(pl.lit("perm_placement_order_date")),
                _start_text=pl.when(decision)
                .then(pl.col("perm_adm_decision_date"))
                .otherwise(pl.col("perm_placement_order_date")),
            )
        else:
            frame = frame.with_columns(
                _start_column=pl.lit(spec.start or "", dtype=pl.String),
                _start_text=pl.col(spec.start) if spec.start else pl.lit("", dtype=pl.String),
            )
        dates = {c: c == spec.start for c in spec.dates}
        frame = frame_dates(frame, table, dates, spec.ident, problems)
        frame = frame.filter(~pl.col("_bad"))
        if name == "ssd_permanence":
            frame = frame.with_columns(
                _start=pl.coalesce("perm_adm_decision_date", "perm_placement_order_date"),
                _end=pl.min_horizontal("perm_decision_reversed_date", "perm_permanence_order_date"),
            )
        else:
            frame = frame.with_columns(
                _start=pl.col(spec.start) if spec.start else pl.lit(None, dtype=pl.Date),
                _end=pl.col(spec.end) if spec.end else pl.lit(None, dtype=pl.Date),
            )
        later = frame.filter(pl.col("_start") > as_of).height
        if later:
            report.count(f"{name} rows starting after as_of (not used)", later)
        frame = frame.filter(pl.col("_start").is_null() | (pl.col("_start") <= as_of))
        if name == "ssd_pre_proceedings":
            is_open = _pre_proceedings_open(frame, table, as_of, problems)
        elif name == "ssd_care_leavers":
            in_touch = pl.col("clea_care_leaver_in_touch").str.to_uppercase()
            is_open = ~in_touch.is_in(closed_in_touch)
        else:
            backwards = (pl.col("_end") < pl.col("_start")).fill_null(False)
            end_name = spec.end or "perm_decision_reversed_date/perm_permanence_order_date"
            start_name = spec.start or "the adoption decision"

            def backwards_message(r: dict[str, Any], e: str = end_name, s: str = start_name) -> str:
                return (
                    f"field {e!r} is {r['_end'].isoformat()}, "
                    f"expected a date on or after {s} ({r['_start'].isoformat()})"
                )

            _report_rows(frame.filter(backwards), table, spec.ident, problems, backwards_message)
            is_open = pl.col("_end").is_null() | (pl.col("_end") > as_of)
        opened = frame.filter(is_open)
        if name == "ssd_care_leavers":
            named = opened.filter(pl.col(CARE_LEAVER_WORKER) != "")
            for record in named.iter_rows(named=True):
                at = table.cell(record[LINE], CARE_LEAVER_WORKER, record[spec.ident])
                care_leaver_workers[record[spec.person]] = (record[CARE_LEAVER_WORKER], at)
        found.append(
            opened.select(
                person=pl.col(spec.person),
                rank=pl.lit(rank, dtype=pl.Int64),
                start=pl.col("_start"),
                line=pl.col(LINE),
                ident=pl.col(spec.ident),
                column=pl.col("_start_column"),
                text=pl.col("_start_text"),
            )
        )
    schema = {
        "person": pl.String,
        "rank": pl.Int64,
        "start": pl.Date,
        "line": pl.Int64,
        "ident": pl.String,
        "column": pl.String,
        "text": pl.String,
    }
    episodes = pl.concat(found) if found else pl.DataFrame(schema=schema)
    return episodes, care_leaver_workers


def _pre_proceedings_open(
    frame: pl.DataFrame, table: Table, as_of: date, problems: Problems
) -> pl.Expr:
    """Whether each pre-proceedings row is still open on ``as_of``, as an expression.

    A row ends when the final hearing made a plan (any ``prep_la_final_care_plan``
    except ``H`` – not yet at final hearing, still in care proceedings), or when the
    decision to step down took effect (``prep_agree_stepdown_issue_date``; a bad date
    there is an error only on a step-down row).
    """
    final_plan = pl.col("prep_la_final_care_plan")
    planned = (final_plan != "") & ~final_plan.str.to_uppercase().str.starts_with("H")
    stepping = pl.col("prep_pre_pro_outcome").str.to_lowercase().str.contains("step down")
    stepped = frame.filter(~planned & stepping)
    column = "prep_agree_stepdown_issue_date"
    stepped = frame_dates(stepped, table, {column: False}, "prep_table_id", problems)
    ended_lines = stepped.filter(pl.col(column) <= as_of)[LINE]
    return ~planned & ~pl.col(LINE).is_in(ended_lines.implode())


def _each_id_once(
    frame: pl.DataFrame, table: Table, ident: str, noun: str, problems: Problems
) -> None:
    """Report each row of ``frame`` whose ``ident`` is empty, not an id
    (``models.Id``), or already on an earlier row of the table."""
    frame = frame.select(LINE, ident)
    ids = pl.col(ident)
    _report_rows(
        frame.filter(ids == ""),
        table,
        None,
        problems,
        lambda r: f"field {ident!r} is empty, expected {ID_EXPECTED}",
    )
    # The contract's own pattern: the rule an id of the snapshot is held to.
    _report_rows(
        frame.filter((ids != "") & ~ids.str.contains(ID_PATTERN)),
        table,
        ident,
        problems,
        lambda r: f"field {ident!r} is {shown(r[ident])}, expected {ID_EXPECTED}",
    )
    _ids_once(frame, table, ident, noun, problems)


def _ids_once(frame: pl.DataFrame, table: Table, ident: str, noun: str, problems: Problems) -> None:
    """Report each row of ``frame`` whose non-empty ``ident`` is already on an earlier
    row of the table (:func:`repeated_id`): the check of every SSD table with an id."""
    frame = frame.select(LINE, ident)
    ids = pl.col(ident)
    # rows in the table's order: a repeat is any but the first of its id (no window
    # over every id: the repeats are few, their first lines looked up alone)
    repeated = frame.filter((ids != "") & ~ids.is_first_distinct())
    firsts = frame.filter(ids.is_in(repeated[ident].implode()) & ids.is_first_distinct())
    repeated = repeated.join(firsts.rename({LINE: "_first"}), on=ident, how="left")
    _report_rows(
        repeated,
        table,
        ident,
        problems,
        lambda r: repeated_id(ident, r[ident], table.unit, r["_first"], noun),
    )


def repeated_id(column: str, value: str, unit: str, first: int, noun: str) -> str:
    """The sentence for an id already on an earlier row: "cine_referral_id 'R1' is
    already on line 2, expected each episode once" — the one wording of every SSD
    table's repeated id, row by row or a frame at once (:func:`_ids_once`)."""
    return f"{column} {shown(value)} is already on {unit} {first}, expected each {noun}"


def _involvements(
    table: Table,
    mapping: SsdMapping,
    people: pl.Series | None,
    professionals: pl.Series | None,
    as_of: date,
    problems: Problems,
    report: ImportReport,
) -> History:
    """Who holds each child now, who held them before, and the changes in the last year.

    Only involvements in an allocated-worker role that started by ``as_of`` count.
    The current worker is the open one (started by ``as_of``, no end or ending after
    it); of several with different workers, the latest start (then the latest line)
    is taken, with a warning. Previous workers are those of closed involvements,
    latest end first, each once. A change is an involvement that started in the year
    up to ``as_of`` with a different worker from the one before it (by start).

    Every row's ``invo_involvements_id`` is an id, and once in the table: ``export
    ssd`` closes the very row the current worker was read from by it. ``people`` or
    ``professionals`` is ``None`` when its table could not be read (reported): the
    rows are then not checked against it.
    """
    ident = "invo_involvements_id"
    frame = table.frame(BASE_COLUMNS["ssd_involvements"]).rename(
        {
            "invo_professional_id": "worker",
            "invo_person_id": "person",
            "invo_involvement_start_date": "start",
            "invo_involvement_end_date": "end",
        }
    )
    report.count("involvements read", frame.height)
    _each_id_once(
        frame, table, ident, "involvement once (export ssd closes a row by its id)", problems
    )
    reason = pl.col("invo_worker_change_reason")
    _report_rows(
        frame.filter((reason != "") & ~reason.str.to_uppercase().is_in(sorted(CHANGE_REASONS))),
        table,
        ident,
        problems,
        lambda r: (
            f"field 'invo_worker_change_reason' is {shown(r['invo_worker_change_reason'])}, "
            f"expected one of {', '.join(sorted(CHANGE_REASONS))} or empty"
        ),
    )
    roles = [role_key(r) for r in mapping.involvements.allocated_roles]  # as the column below
    role = (
        pl.col("invo_professional_role_id")
        .str.replace_all(r"\s+", " ")
        .str.strip_chars()
        .str.to_lowercase()
    )
    other = frame.filter(~role.is_in(roles)).height
    if other:
        report.count("involvements in other roles (not used)", other)
    frame = frame.filter(role.is_in(roles))
    if professionals is None:
        unknown = pl.lit(False)
    else:
        unknown = ~pl.col("worker").is_in(professionals.implode())
    if mapping.unknown_workers == "refuse":
        _report_rows(
            frame.filter(unknown),
            table,
            ident,
            problems,
            lambda r: (
                f"field 'invo_professional_id' is {shown(r['worker'])}, "
                "expected a prof_professional_id of ssd_professionals (or unknown_workers "
                '= "departed" in the mapping, to take their children as a departed '
                "worker's)"
            ),
        )
        frame = frame.filter(~unknown)
    # else kept: a closed one names a former worker; an open one's child is taken as a
    # departed worker's when the cases are built.
    stranger = pl.lit(False) if people is None else ~pl.col("person").is_in(people.implode())
    _report_rows(
        frame.filter(stranger),
        table,
        ident,
        problems,
        lambda r: (
            f"field 'invo_person_id' is {shown(r['person'])}, "
            "expected a pers_person_id of ssd_person"
        ),
    )
    frame = frame.filter(~stranger)
    frame = frame.rename(
        {"start": "invo_involvement_start_date", "end": "invo_involvement_end_date"}
    )
    frame = frame_dates(
        frame,
        table,
        {"invo_involvement_start_date": True, "invo_involvement_end_date": False},
        ident,
        problems,
    ).rename({"invo_involvement_start_date": "start", "invo_involvement_end_date": "end"})
    frame = frame.filter(~pl.col("_bad"))
    backwards = (pl.col("end") < pl.col("start")).fill_null(False)
    _report_rows(
        frame.filter(backwards),
        table,
        ident,
        problems,
        lambda r: (
            f"field 'invo_involvement_end_date' is {r['end'].isoformat()}, "
            f"expected a date on or after the start ({r['start'].isoformat()})"
        ),
    )
    frame = frame.filter(~backwards)
    later = frame.filter(pl.col("start") > as_of).height
    if later:
        report.count("allocated-worker involvements starting after as_of (not used)", later)
    frame = frame.filter(pl.col("start") <= as_of).sort(["person", "start", LINE])
    report.count("allocated-worker involvements used", frame.height)

    is_open = pl.col("end").is_null() | (pl.col("end") > as_of)
    current = (
        frame.filter(is_open)
        .group_by("person", maintain_order=True)
        .agg(
            pl.col("worker").last(),
            pl.col(ident).last(),
            pl.col("start").last(),
            pl.col(LINE).last().alias("line"),
            pl.len().alias("open"),
            pl.col("worker").n_unique().alias("workers"),
            pl.col(LINE),
        )
    )
    for record in current.filter(pl.col("workers") > 1).iter_rows(named=True):
        lines = record[LINE]
        problems.warn(
            f"{table.source}: child {shown(record['person'])} has {record['open']} open "
            f"allocated-worker involvements ({table.unit}s "
            f"{', '.join(str(n) for n in lines)}); the latest, {table.unit} {lines[-1]}, "
            "is taken as the current worker"
        )
    previous = (
        frame.filter(~is_open)
        .sort(["person", "end", "start", LINE], descending=[False, True, True, True])
        .group_by("person", maintain_order=True)
        .agg(pl.col("worker").unique(maintain_order=True))
    )
    year_ago = one_year_before(as_of)
    before = pl.col("worker").shift(1).over("person")
    changes = (
        frame.filter(before.is_not_null() & (pl.col("worker") != before))
        .filter(pl.col("start") > year_ago)
        .group_by("person")
        .len()
    )
    return History(
        current={
            person: CurrentInvolvement(worker, ident_value, start)
            for person, worker, ident_value, start in current.select(
                "person", "worker", ident, "start"
            ).iter_rows()
        },
        current_lines=dict(current.select("person", "line").iter_rows()),
        previous=dict(previous.iter_rows()),
        changes=dict(changes.iter_rows()),
        open_children=set(current["person"]),
        open_counts=dict(current.select("person", "open").iter_rows()),
    )


@dataclass(frozen=True)
class SideRow:
    """A row of a side table: where it is, and the columns whose value the allocator's
    models refuse (reported where it is written, and not used)."""

    row: Row
    refused: frozenset[str] = frozenset()

    def value(self, name: str) -> Any:
        """The value the row gives field ``name`` (a list for a list field), ``None``
        if its cell is empty or refused."""
        if name in self.refused or not self.row.get(name):
            return None
        return _side_value(self.row, name)


class _WorkerCells:
    """Where each child's involvement with each professional is first written in
    ``ssd_involvements``, indexed on first use: only a refused id needs it."""

    def __init__(self, table: Table) -> None:
        self._table = table
        self._index: dict[tuple[str, str], int] | None = None

    def place(self, person: str, field: str, worker: object) -> Cell | None:
        """Where ``person``'s former ``worker`` (an item of ``field``) is written: the
        ``invo_professional_id`` of their first row together; ``None`` for another
        field, or a pair no row holds."""
        if field != "previous_workers":
            return None
        cells = self._table.cells
        if self._index is None:
            self._index = {}
            pairs = zip(cells["invo_person_id"], cells["invo_professional_id"], strict=True)
            for index, pair in enumerate(pairs):
                self._index.setdefault(pair, index)
        found = self._index.get((person, str(worker)))
        if found is None:
            return None
        ident = cells["invo_involvements_id"][found]
        return self._table.cell(self._table.lines[found], "invo_professional_id", ident)


def _side_table(
    name: str | None,
    mapping: SsdMapping,
    model: type[BaseModel],
    known: tuple[str, ...],
    noun: str,
    problems: Problems,
) -> dict[str, SideRow]:
    """Rows of an optional side table by ``id``, each value checked at the door.

    The file is one in the mapping's folder (or below it); any other path is refused
    unread, so a mapping cannot make the import read, and echo in its errors, a file
    elsewhere (``/etc/shadow``, ``../..``). Every row's values are checked by the
    field of ``model`` they fill, whether or not the row matches a record, and before
    its id is: a problem in one row hides none in another. ``noun`` names what an id
    must be (``a child's pers_person_id``).
    """
    if name is None:
        return {}
    path = inside(mapping.folder, name)
    if path is None:
        problems.error(
            f"side_table {shown(name)}: expected a file in the mapping's folder "
            f"({mapping.folder.resolve()}), named relative to it; a path outside it is not read"
        )
        return {}
    table = read_table(path, problems, required=("id",), known=("id", *known))
    rows: dict[str, SideRow] = {}
    refusals: dict[tuple[str, str], list[tuple[tuple[str | int, ...], Any]]] = {}
    for row in table or ():
        ident = row.get("id")
        refused: set[str] = set()
        for column in known:
            text = row.get(column)
            if not text:
                continue
            if (column, text) not in refusals:  # a side table repeats its values
                refusals[column, text] = _refusals(model, column, _side_value(row, column))
            for loc, part in refusals[column, text]:
                _refused(model, loc, part, row.cell(column, ident), problems)
            if refusals[column, text]:
                refused.add(column)
        if not ident:
            problems.error(f"{row.where()}: field 'id' is empty, expected {ID_EXPECTED}: {noun}")
        elif ident in rows:
            first = rows[ident].row.line
            problems.error(
                f"{row.where(ident)}: "
                + repeated_id("id", ident, row.unit, first, "id once (one row of values per id)")
            )
        elif not _is_id(ident):
            problems.error(
                f"{row.where(ident)}: field 'id' is {shown(ident)}, expected {ID_EXPECTED}: {noun}"
            )
        else:
            rows[ident] = SideRow(row, frozenset(refused)) if refused else SideRow(row)
    return rows


LIST_FIELDS = frozenset({"skills", "areas", "needs", "excluded_workers"})


def _side_value(row: Row, name: str) -> Any:
    text = row.get(name)
    if name in LIST_FIELDS:
        return [item.strip() for item in text.split(";") if item.strip()]
    return text


@cache
def _field_type(model: type[BaseModel], name: str) -> TypeAdapter[Any]:
    """The type of one field of ``model``, with its constraints: one value is checked
    by the very rule the model checks it with."""
    info = model.model_fields[name]
    form: Any = Annotated[info.annotation, info]  # the field's type and its Field(...)
    return TypeAdapter(form)


def _is_id(text: str) -> bool:
    """Whether ``text`` is an id as the snapshot's models hold one (``models.Id``)."""
    try:
        _field_type(Case, "id").validate_python(text)
    except ValidationError:
        return False
    return True


@cache
def _holds_ids(model: type[BaseModel], name: str) -> bool:
    """Whether field ``name`` of ``model`` is an id or a list of ids (``models.Id``)."""
    info = model.model_fields.get(name)
    if info is None:
        return False
    metadata = list(info.metadata)
    for arg in get_args(info.annotation):  # tuple[Annotated[str, Field(...)], ...]
        if get_origin(arg) is Annotated:
            for item in get_args(arg)[1:]:
                metadata.extend(getattr(item, "metadata", [item]))
    return any(getattr(item, "pattern", None) == ID_PATTERN for item in metadata)


def _refused(
    model: type[BaseModel],
    loc: tuple[int | str, ...],
    value: Any,
    place: Place,
    problems: Problems,
) -> None:
    """One sentence for ``value``, which ``model`` refuses at ``loc`` (a field, or an
    item of a list field), named where it was read."""
    name = str(loc[0])
    item = len(loc) > 1 and isinstance(loc[1], int)
    if _holds_ids(model, name):
        expected = ID_EXPECTED
    elif isinstance(value, date):  # read as a date from the extract: only its range is wrong
        expected = DATE_RANGE
    else:
        expected = expected_at(model, loc[:2] if item else (name,))
    if isinstance(place, Cell) and place.written:  # a date as the extract writes it
        found = shown(place.written)
    else:
        found = found_value(name, value)
    problems.error(place.sentence(found, expected))


def _refusals(
    model: type[BaseModel], name: str, value: Any
) -> list[tuple[tuple[str | int, ...], Any]]:
    """What field ``name`` of ``model`` refuses in ``value`` (text cells): each
    problem's place in the field (``(name,)``, or ``(name, index)`` for an item of a
    list) and the value there; empty if it takes it."""
    try:
        _field_type(model, name).validate_python(value, context={TEXT_CELLS: True})
    except ValidationError as exc:
        found: list[tuple[tuple[str | int, ...], Any]] = []
        for err in exc.errors():
            index = err["loc"][0] if err["loc"] else None
            if isinstance(index, int) and isinstance(value, list):
                found.append(((name, index), value[index]))
            else:
                found.append(((name,), value))
        return found
    return []


def _validated(
    model: type[BaseModel],
    record: dict[str, Any],
    places: Mapping[str | tuple[str, int], Place],
    problems: Problems,
    item_place: Callable[[str, Any], Place | None] | None = None,
) -> Any:
    """``record`` as ``model``, or ``None`` with each problem reported where the value
    was read: ``places`` by field (or ``(field, index)`` for an item of a list), the
    record's own place under ``"id"``; ``item_place(field, item)`` finds an item's
    place when a problem needs it (looked up only then: most records have none)."""
    try:
        # An extract's cells are text (CSV) or a database's values: both may hold a
        # number as text.
        return model.model_validate(record, context={TEXT_CELLS: True})
    except ValidationError as exc:
        home = places["id"]
        for err in exc.errors():
            loc = err["loc"]
            if not loc:  # a rule over several fields: said of the record
                said = str(err["msg"]).removeprefix("Value error, ")
                problems.error(f"{home.where}: {said}")
                continue
            name = str(loc[0])
            value = record.get(name)
            index = loc[1] if len(loc) > 1 and isinstance(loc[1], int) else None
            if index is not None and isinstance(value, list | tuple):
                value = value[index]
            place = places.get((name, index)) if index is not None else None
            if place is None and index is not None and item_place is not None:
                place = item_place(name, value)
            place = place or places.get(name)
            if place is None:  # filled by the import itself: said under the field's name
                place = home._replace(column=name) if isinstance(home, Cell) else home
            _refused(model, tuple(loc), value, place, problems)
        return None


PRACTITIONER_SIDE = (
    "experience_years",
    "skills",
    "areas",
    "available_from",
    "leaving_on",
    "capacity_points",
    "contract",
    "contract_end",
)
CASE_SIDE = (
    "type",
    "complexity",
    "weight",
    "area",
    "needs",
    "priority",
    "pinned_worker",
    "excluded_workers",
)


def _teams(table: Table | None, problems: Problems) -> dict[str, Row]:
    """``ssd_department``'s rows by ``dept_team_id``: each id once (a department is
    looked up by it), none empty."""
    teams: dict[str, Row] = {}
    for row in table or ():
        ident = row.get("dept_team_id")
        if not ident:
            problems.error(f"{row.where()}: field 'dept_team_id' is empty, expected a team id")
        elif ident in teams:
            problems.error(
                f"{row.where(ident)}: "
                + repeated_id("dept_team_id", ident, row.unit, teams[ident].line, "team once")
            )
        else:
            teams[ident] = row
    return teams


def _practitioners(
    tables: dict[str, Table],
    mapping: SsdMapping,
    side: dict[str, SideRow],
    problems: Problems,
    report: ImportReport,
) -> tuple[list[Practitioner], dict[str, Row], set[str]]:
    """Practitioners, every professional's row by id (mapped grade or not), and the
    ids of those whose job title has a grade (practitioners, valid or not)."""
    teams = _teams(tables.get("ssd_department"), problems)
    rules = mapping.practitioners
    staff: list[Practitioner] = []
    rows: dict[str, Row] = {}
    graded: set[str] = set()
    titled = 0  # rows whose job title has a grade, whatever else is wrong with them
    table = tables["ssd_professionals"]
    for row in table:
        ident = row.get("prof_professional_id")
        report.count("professionals read")
        title = row.get("prof_professional_job_title")
        grade = mapping.grade_of(title)
        titled += grade is not None
        if not ident:
            problems.error(
                f"{row.where()}: field 'prof_professional_id' is empty, expected {ID_EXPECTED}"
            )
            continue
        if ident in rows:
            problems.error(
                f"{row.where(ident)}: "
                + repeated_id(
                    "prof_professional_id", ident, row.unit, rows[ident].line, "professional once"
                )
            )
            continue
        rows[ident] = row
        if grade is None:
            report.count("professionals whose job title has no grade (not practitioners)")
            continue
        graded.add(ident)
        if mapping.title_grade(title) is None:
            report.defaulted("ssd_professionals", "grade", f"mapping default_grade {grade.value}")
        flag = row.get("prof_agency_worker_flag").upper()
        contract = Contract.PERMANENT
        if flag not in AGENCY_FLAGS:
            problems.error(
                f"{row.where(ident)}: field 'prof_agency_worker_flag' is {shown(flag)}, "
                "expected Y, N or empty"
            )
        elif AGENCY_FLAGS[flag]:
            contract = Contract.AGENCY
        elif not flag:
            report.defaulted("ssd_professionals", "contract", "permanent (no agency flag)")
        record: dict[str, Any] = {"id": ident, "grade": grade, "contract": contract}
        places: dict[str | tuple[str, int], Place] = {
            "id": row.cell("prof_professional_id", ident),
            "contract": row.cell("prof_agency_worker_flag", ident),
        }
        # the team: the department's name in ssd_department, else the department as
        # written (a name), else unknown
        department = row.get("prof_professional_department")
        named = teams.get(department)
        if named is not None and named.get("dept_team_name"):
            record["team"] = named.get("dept_team_name")
            places["team"] = named.cell("dept_team_name", department)
        elif named is None and department:
            record["team"] = department
            places["team"] = row.cell("prof_professional_department", ident)
        else:
            record["team"] = UNKNOWN_TEAM
            why = "no department" if named is None else "its department has no dept_team_name"
            report.defaulted("ssd_professionals", "team", f"{UNKNOWN_TEAM!r} ({why})")
        fte_text = row.get("prof_full_time_equivalency")
        if fte_text:
            record["fte"] = fte_text  # read by the model's own rule for a number
            places["fte"] = row.cell("prof_full_time_equivalency", ident)
        else:
            record["fte"] = rules.fte
            report.defaulted("ssd_professionals", "fte", f"mapping fte {rules.fte}")
        extra = side.get(ident)
        for name in PRACTITIONER_SIDE:
            if extra is not None and (value := extra.value(name)) is not None:
                record[name] = value
                places[name] = extra.row.cell(name, ident)
            elif name == "contract":
                continue  # from the agency flag
            elif name in ("experience_years", "skills", "areas"):
                value = getattr(rules, name)
                record[name] = value
                report.defaulted("practitioners", name, f"mapping {name} {_words(value)}")
            else:
                report.defaulted("practitioners", name, "null")
        practitioner = _validated(Practitioner, record, places, problems)
        if practitioner is not None:
            staff.append(practitioner)
            report.count("practitioners")
            if practitioner.contract is not Contract.PERMANENT:
                report.count(f"practitioners on {practitioner.contract.value} contracts")
    if not titled:
        # the rule of the snapshot's own CSV and JSON (FORMAT.md "Reading rules")
        read = len(table)
        problems.error(
            f"{table.source}: "
            + (
                "holds no rows"
                if not read
                else f"none of the {counted(read, 'professional')} has a job title the mapping "
                "grades"
            )
            + ", expected at least one practitioner (was the table emptied?)"
        )
    for ident, extra in side.items():
        if ident not in graded:
            problems.warn(
                f"{extra.row.where(ident)}: no practitioner has this id; the row is not used"
            )
    return staff, rows, graded


def _words(value: Any) -> str:
    """A mapping value as the report shows it: ``[]``, ``2``, ``standard``."""
    if isinstance(value, tuple | list):
        return "[" + ", ".join(str(v) for v in value) + "]"
    return str(getattr(value, "value", value))


def import_ssd(
    source: str | Path, mapping: SsdMapping, as_of: date
) -> tuple[Snapshot, ImportReport]:
    """Build a snapshot from SSD tables: a folder of CSV extracts or a database.

    Parameters
    ----------
    source
        A folder holding ``ssd_person.csv``, ``ssd_family.csv``, ``ssd_department.csv``,
        ``ssd_professionals.csv``, ``ssd_involvements.csv`` and the episode tables
        named in the mapping's ``[episodes] order``, column names being SSD field
        names; or a SQLAlchemy database URL (``postgresql://user@host/db``) whose
        tables have those names (in the mapping's ``[database] schema``, if given).
    mapping
        The mapping (:func:`allocator.ssd.mapping.load_ssd_mapping`).
    as_of
        The day the snapshot describes: an episode or involvement is open on it when
        it started on or before it and ends after it (or has no end).

    Returns
    -------
    tuple of Snapshot and ImportReport
        The snapshot, validated by the allocator's own models, and the account of
        what was read, used and defaulted; ``report.involvements`` holds the open
        involvement each case's worker was read from (for ``export ssd``).

    Raises
    ------
    allocator.io.InputError
        Every problem found (missing table or column, bad date, unknown code or id),
        one sentence each, naming the file (or table), line (or row) and field.
    """
    problems = Problems()
    report = ImportReport()
    tables = _read_all(str(source), mapping, problems)
    # The side tables are the mapping's: their problems are found whatever the extract's.
    staff_side = _side_table(
        mapping.practitioners.side_table,
        mapping,
        Practitioner,
        PRACTITIONER_SIDE,
        "a professional's prof_professional_id",
        problems,
    )
    case_side = _side_table(
        mapping.cases.side_table, mapping, Case, CASE_SIDE, "a child's pers_person_id", problems
    )
    if not tables:  # no folder, no database: nothing more to read
        problems.raise_if_any()

    # Each table is checked on its own, and against the tables it names where they could
    # be read: a table missing (reported) hides no problem of another.
    person_table = tables.get("ssd_person")
    person_lines = None if person_table is None else _people(person_table, problems, report)
    people = None if person_lines is None else pl.Series(list(person_lines), dtype=pl.String)
    staff: list[Practitioner] = []
    professionals: dict[str, Row] | None = None
    graded: set[str] = set()
    if "ssd_professionals" in tables:
        staff, professionals, graded = _practitioners(tables, mapping, staff_side, problems, report)
    episodes, care_leaver_workers = _open_episodes(tables, mapping, people, as_of, problems, report)
    involvement_table = tables.get("ssd_involvements")
    history = None
    if involvement_table is not None:
        known = None if professionals is None else pl.Series(list(professionals), dtype=pl.String)
        history = _involvements(involvement_table, mapping, people, known, as_of, problems, report)
    families: dict[str, tuple[str, int]] = {}
    if "ssd_family" in tables:
        families = _families(tables["ssd_family"], person_lines, problems)
    if (
        person_table is None
        or person_lines is None
        or professionals is None
        or involvement_table is None
        or history is None
        or "ssd_family" not in tables
    ):
        problems.raise_if_any()  # a table the cases are built from is missing (reported)
        raise AssertionError("a table is missing but no problem was recorded")

    # each child's case: the type of its first open episode in the order, opened at the
    # earliest start among them (and where that start was read)
    first = [
        pl.col(c).sort_by("start", nulls_last=True, maintain_order=True).first()
        for c in ("rank", "line", "ident", "column", "text")
    ]
    open_cases = episodes.group_by("person").agg(
        pl.col("rank").min().alias("type_rank"),
        pl.col("start").min().alias("opened"),
        *first,
    )
    order = mapping.episodes.order
    rules = mapping.cases
    written = _WorkerCells(involvement_table)
    cases: list[Case] = []
    columns = ("person", "type_rank", "opened", "rank", "line", "ident", "column", "text")
    for person, rank, opened, *start in sorted(open_cases.select(columns).iter_rows()):
        case_type = EPISODE_TABLES[order[rank]]
        report.count(f"open cases of type {case_type.value}")
        places: dict[str | tuple[str, int], Place] = {
            "id": person_table.cell(person_lines[person], "pers_person_id", person)
        }
        held = history.current.get(person)
        current = held.worker if held else None
        if held is not None:
            line = history.current_lines[person]
            places["worker"] = involvement_table.cell(line, "invo_professional_id", held.ident)
        previous = history.previous.get(person, [])
        departed = held is not None and current not in professionals
        if departed and held is not None:  # only with unknown_workers = "departed"
            problems.warn(
                f"{involvement_table.source}: involvement {shown(held.ident)} gives "
                f"child {shown(person)} the worker {shown(held.worker)}, who is not in "
                "ssd_professionals: taken as a departed worker's child (no worker; "
                f"{shown(held.worker)} kept as a previous worker; waiting from "
                f'{as_of.isoformat()}), as the mapping\'s unknown_workers = "departed" says'
            )
            previous = [held.worker, *(w for w in previous if w != held.worker)]
            current, held = None, None
            places.pop("worker")
        if current is None and not departed and person in care_leaver_workers:
            # no open allocated involvement: the care-leaver table's own allocated worker
            current, at = care_leaver_workers[person]
            if current not in professionals:
                problems.error(
                    at.sentence(shown(current), "a prof_professional_id of ssd_professionals")
                )
                continue
            places["worker"] = at
            report.count(f"care leavers' workers from {CARE_LEAVER_WORKER}")
        if current is not None and current not in graded:
            row = professionals[current]
            problems.error(
                f"{row.where(current)}: holds child {shown(person)}'s open allocated-worker "
                "involvement, but the job title has no grade; expected it in "
                "[practitioners] grades (or a default_grade)"
            )
            continue
        if held is not None:
            report.involvements[person] = held
        record: dict[str, Any] = {
            "id": person,
            "type": case_type,
            "worker": current,
            "previous_workers": [w for w in previous if w != current],
            "changes_last_12_months": history.changes.get(person, 0),
            "opened": opened,
        }
        places["changes_last_12_months"] = Counted(
            involvement_table.source,
            f"the count of changes of worker of child {shown(person)} in the year to "
            f"{as_of.isoformat()} (from its allocated-worker involvements, by start)",
        )
        if opened is not None:
            start_rank, start_line, start_ident, start_column, start_text = start
            start_table = tables[order[start_rank]]
            places["opened"] = start_table.cell(start_line, start_column, start_ident)._replace(
                written=start_text
            )
        if departed:
            record["waiting_since"] = as_of
        if person in families:
            record["family"], family_line = families[person]
            places["family"] = tables["ssd_family"].cell(family_line, "fami_family_id")
        else:
            record["family"] = person
            places["family"] = places["id"]
            report.defaulted("cases", "family", "the child's own id (no ssd_family row)")
        extra = case_side.get(person)
        for name in CASE_SIDE:
            if extra is not None and (value := extra.value(name)) is not None:
                record[name] = value
                places[name] = extra.row.cell(name, person)
                if name == "type":
                    report.count("case types set by the side table (over the episodes)")
            elif name == "type":
                continue
            elif name == "complexity" and case_type in rules.complexity_by_type:
                record[name] = rules.complexity_by_type[case_type]
                report.defaulted("cases", name, f"mapping complexity_by_type.{case_type.value}")
            elif name in ("complexity", "priority", "needs"):
                value = getattr(rules, name)
                record[name] = value
                report.defaulted("cases", name, f"mapping {name} {_words(value)}")
            elif name == "excluded_workers":
                report.defaulted("cases", name, "none")
            else:
                report.defaulted("cases", name, "null")
        pinned = record.get("pinned_worker")
        if extra is not None and pinned and pinned not in graded:
            problems.error(
                f"{extra.row.where(person)}: field 'pinned_worker' is {shown(str(pinned))}, "
                "expected the id of a practitioner"
            )
            continue
        # a former worker's id is named where the child's involvement with them is written
        case = _validated(Case, record, places, problems, partial(written.place, person))
        if case is not None:
            cases.append(case)
    with_case = set(open_cases["person"])
    idle = sum(n for person, n in history.open_counts.items() if person not in with_case)
    if idle:
        report.count("open allocated-worker involvements of children with no open episode", idle)
    for ident, extra in case_side.items():
        if ident not in with_case:
            problems.warn(f"{extra.row.where(ident)}: no child with an open episode has this id")
    problems.raise_if_any()
    report.counts["children with an open episode (cases)"] = len(cases)
    report.counts["cases with a current worker"] = sum(c.worker is not None for c in cases)
    report.warnings.extend(problems.warnings)
    try:
        snapshot = Snapshot(
            format=SNAPSHOT_FORMAT, as_of=as_of, practitioners=tuple(staff), cases=tuple(cases)
        )
    except ValidationError as exc:
        for err in exc.errors():
            problems.error(str(err["msg"]).removeprefix("Value error, "))
        problems.raise_if_any()
        raise  # unreachable: raise_if_any raised
    return snapshot, report


def _people(table: Table, problems: Problems, report: ImportReport) -> dict[str, int]:
    """Each child of ``ssd_person`` and its line; an empty or repeated id reported."""
    person_lines: dict[str, int] = {}
    person_ids = table.cells.get("pers_person_id", [])
    report.count("children read (ssd_person)", len(person_ids))
    for ident, line in zip(person_ids, table.lines, strict=True):
        if not ident:
            problems.error(
                f"{table.where(line)}: field 'pers_person_id' is empty, expected a person id"
            )
        elif ident in person_lines:
            problems.error(
                f"{table.where(line, ident)}: "
                + repeated_id(
                    "pers_person_id", ident, table.unit, person_lines[ident], "person once"
                )
            )
        else:
            person_lines[ident] = line
    return person_lines


def _families(
    table: Table, people: Mapping[str, int] | None, problems: Problems
) -> dict[str, tuple[str, int]]:
    """Each child's family id from ``ssd_family``, with its line (a child in two
    families: the first). ``people`` is ``None`` when ``ssd_person`` could not be read."""
    families: dict[str, tuple[str, int]] = {}
    persons = table.cells.get("fami_person_id", [])
    family_ids = table.cells.get("fami_family_id", [])
    for person, family, line in zip(persons, family_ids, table.lines, strict=True):
        if people is not None and person not in people:
            problems.error(
                f"{table.where(line)}: field 'fami_person_id' is {shown(person)}, expected a "
                "pers_person_id of ssd_person"
            )
        elif not family:
            problems.error(
                f"{table.where(line)}: field 'fami_family_id' is empty, expected the id of "
                f"child {shown(person)}'s family"
            )
        elif person in families and families[person][0] != family:
            problems.warn(
                f"{table.where(line)}: child {shown(person)} is already in family "
                f"{shown(families[person][0])}; this row is not used"
            )
        elif person not in families:
            families[person] = (family, line)
    return families
