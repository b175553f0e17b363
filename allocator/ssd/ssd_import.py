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

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from allocator.io import expected_at
from allocator.models import SNAPSHOT_FORMAT, Case, CaseType, Practitioner, Snapshot
from allocator.ssd.mapping import EPISODE_TABLES, SsdMapping
from allocator.ssd.report import ImportReport
from allocator.ssd.tables import (
    Problems,
    Row,
    Table,
    cell_date,
    found_value,
    one_year_before,
    read_table,
    shown,
)

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
    """Where an episode table keeps its id, child, start and end."""

    ident: str
    person: str
    start: str | None
    end: str | None
    extra: tuple[str, ...] = ()

    @property
    def required(self) -> tuple[str, ...]:
        """Every column the import reads."""
        named = (self.ident, self.person, self.start, self.end, *self.extra)
        return tuple(c for c in named if c is not None)


EPISODE_COLUMNS: dict[str, EpisodeColumns] = {
    "ssd_pre_proceedings": EpisodeColumns(
        "prep_table_id",
        "prep_person_id",
        "prep_pre_pro_decision_date",
        "prep_agree_stepdown_issue_date",
        ("prep_pre_pro_outcome", "prep_la_final_care_plan"),
    ),
    "ssd_cp_plans": EpisodeColumns(
        "cppl_cp_plan_id", "cppl_person_id", "cppl_cp_plan_start_date", "cppl_cp_plan_end_date"
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
"""The columns of each episode table (SSD field names)."""

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
class Involvement:
    """One allocated-worker involvement of a child, as read."""

    row: Row
    worker: str
    person: str
    start: date
    end: date | None


def _read_all(source: Path, mapping: SsdMapping, problems: Problems) -> dict[str, Table]:
    tables: dict[str, Table] = {}
    wanted: dict[str, tuple[str, ...]] = dict(BASE_COLUMNS)
    for episode in mapping.episodes.order:
        wanted[episode] = EPISODE_COLUMNS[episode].required
    for name, columns in wanted.items():
        table = read_table(source / f"{name}.csv", problems, required=columns)
        if table is not None:
            tables[name] = table
    return tables


def _pre_proceedings_ended(row: Row, as_of: date, problems: Problems, ident: str | None) -> bool:
    """Whether a pre-proceedings row has ended by ``as_of``.

    It ends when the decision to step down took effect, or when the final hearing
    made a plan (any ``prep_la_final_care_plan`` except ``H`` – not yet at final
    hearing, still in care proceedings).
    """
    final_plan = row.get("prep_la_final_care_plan")
    if final_plan and not final_plan.upper().startswith("H"):
        return True
    if "step down" in row.get("prep_pre_pro_outcome").casefold():
        ended = cell_date(row, "prep_agree_stepdown_issue_date", problems, ident=ident)
        return ended is not None and ended <= as_of
    return False


def _open_episodes(
    tables: dict[str, Table],
    mapping: SsdMapping,
    people: set[str],
    as_of: date,
    problems: Problems,
    report: ImportReport,
    care_leaver_workers: dict[str, tuple[str, Row]],
) -> dict[str, list[tuple[int, CaseType, date | None]]]:
    """Each child's open episodes: ``(rank in the order, type, start)``.

    ``care_leaver_workers`` receives the ``clea_care_leaver_worker_id`` of each open
    care-leaver row that has one (the column is optional).
    """
    open_by_child: dict[str, list[tuple[int, CaseType, date | None]]] = defaultdict(list)
    closed_in_touch = {c.upper() for c in mapping.episodes.care_leaver_closed_in_touch}
    for rank, name in enumerate(mapping.episodes.order):
        table = tables.get(name)
        if table is None:
            continue
        spec = EPISODE_COLUMNS[name]
        for row in table:
            person = row.get(spec.person)
            ident = row.get(spec.ident) or None
            if not person:
                problems.error(
                    f"{row.where(ident)}: field {spec.person!r} is empty, expected a person id"
                )
                continue
            if person not in people:
                problems.error(
                    f"{row.where(ident)}: field {spec.person!r} is {shown(person)}, expected a "
                    "pers_person_id of ssd_person"
                )
                continue
            report.count(f"{name} rows read")
            start = (
                cell_date(row, spec.start, problems, required=True, ident=ident)
                if spec.start
                else None
            )
            if spec.start and start is None:
                continue
            if start is not None and start > as_of:
                report.count(f"{name} rows starting after as_of (not used)")
                continue
            if name == "ssd_pre_proceedings":
                is_open = not _pre_proceedings_ended(row, as_of, problems, ident)
            elif name == "ssd_care_leavers":
                in_touch = row.get("clea_care_leaver_in_touch").upper()
                is_open = in_touch not in closed_in_touch
            else:
                assert spec.end is not None
                end = cell_date(row, spec.end, problems, ident=ident)
                if end is not None and start is not None and end < start:
                    problems.error(
                        f"{row.where(ident)}: field {spec.end!r} is {end.isoformat()}, expected a "
                        f"date on or after {spec.start} ({start.isoformat()})"
                    )
                is_open = end is None or end > as_of
            if is_open:
                open_by_child[person].append((rank, EPISODE_TABLES[name], start))
                worker = row.get(CARE_LEAVER_WORKER)
                if name == "ssd_care_leavers" and worker:
                    care_leaver_workers[person] = (worker, row)
    return open_by_child


def _involvements(
    table: Table,
    mapping: SsdMapping,
    people: set[str],
    professionals: set[str],
    as_of: date,
    problems: Problems,
    report: ImportReport,
) -> dict[str, list[Involvement]]:
    """Each child's allocated-worker involvements that started by ``as_of``, by start."""
    roles = {" ".join(r.split()).casefold() for r in mapping.involvements.allocated_roles}
    by_child: dict[str, list[Involvement]] = defaultdict(list)
    for row in table:
        report.count("involvements read")
        ident = row.get("invo_involvements_id") or None
        reason = row.get("invo_worker_change_reason")
        if reason and reason.upper() not in CHANGE_REASONS:
            problems.error(
                f"{row.where(ident)}: field 'invo_worker_change_reason' is {shown(reason)}, "
                f"expected one of {', '.join(sorted(CHANGE_REASONS))} or empty"
            )
        role = " ".join(row.get("invo_professional_role_id").split()).casefold()
        if role not in roles:
            report.count("involvements in other roles (not used)")
            continue
        worker = row.get("invo_professional_id")
        person = row.get("invo_person_id")
        if worker not in professionals:
            problems.error(
                f"{row.where(ident)}: field 'invo_professional_id' is {shown(worker)}, "
                "expected a prof_professional_id of ssd_professionals"
            )
            continue
        if person not in people:
            problems.error(
                f"{row.where(ident)}: field 'invo_person_id' is {shown(person)}, "
                "expected a pers_person_id of ssd_person"
            )
            continue
        start = cell_date(row, "invo_involvement_start_date", problems, required=True, ident=ident)
        end = cell_date(row, "invo_involvement_end_date", problems, ident=ident)
        if start is None:
            continue
        if end is not None and end < start:
            problems.error(
                f"{row.where(ident)}: field 'invo_involvement_end_date' is {end.isoformat()}, "
                f"expected a date on or after the start ({start.isoformat()})"
            )
            continue
        if start > as_of:
            report.count("allocated-worker involvements starting after as_of (not used)")
            continue
        report.count("allocated-worker involvements used")
        by_child[person].append(Involvement(row, worker, person, start, end))
    for items in by_child.values():
        items.sort(key=lambda i: (i.start, i.row.line))
    return by_child


def _worker_history(
    items: list[Involvement], as_of: date, problems: Problems
) -> tuple[str | None, list[str], int]:
    """Current worker, previous workers (most recent first) and changes in the last year."""
    open_items = [i for i in items if i.end is None or i.end > as_of]
    current: str | None = None
    if open_items:
        chosen = open_items[-1]  # the latest start (then the latest line) wins
        current = chosen.worker
        if len({i.worker for i in open_items}) > 1:
            problems.warn(
                f"{chosen.row.source}: child {shown(chosen.person)} has "
                f"{len(open_items)} open allocated-worker involvements (lines "
                f"{', '.join(str(i.row.line) for i in open_items)}); the latest, line "
                f"{chosen.row.line}, is taken as the current worker"
            )
    closed = sorted(
        (i for i in items if i.end is not None and i.end <= as_of),
        key=lambda i: (i.end, i.start, i.row.line),
        reverse=True,
    )
    previous = [w for w in dict.fromkeys(i.worker for i in closed) if w != current]
    year_ago = one_year_before(as_of)
    changes = sum(
        1
        for before, after in zip(items, items[1:], strict=False)
        if after.worker != before.worker and year_ago < after.start <= as_of
    )
    return current, previous, changes


def _side_table(
    name: str | None,
    mapping: SsdMapping,
    known: tuple[str, ...],
    problems: Problems,
) -> dict[str, Row]:
    """Rows of an optional side table by ``id`` (relative to the mapping file)."""
    if name is None:
        return {}
    table = read_table(mapping.folder / name, problems, required=("id",), known=("id", *known))
    rows: dict[str, Row] = {}
    for row in table or ():
        ident = row.get("id")
        if ident in rows:
            problems.error(f"{row.where(ident)}: id {shown(ident)} appears twice in the table")
        rows[ident] = row
    return rows


LIST_FIELDS = frozenset({"skills", "areas", "needs", "excluded_workers"})


def _side_value(row: Row, name: str) -> Any:
    text = row.get(name)
    if name in LIST_FIELDS:
        return [item.strip() for item in text.split(";") if item.strip()]
    return text


def _validated(
    model: type[BaseModel], record: dict[str, Any], origin: dict[str, Row], problems: Problems
) -> Any:
    try:
        return model.model_validate(record)
    except ValidationError as exc:
        for err in exc.errors():
            name = str(err["loc"][0]) if err["loc"] else ""
            row = origin.get(name) or origin["id"]
            value = record.get(name)
            found = found_value(name, value)
            problems.error(
                f"{row.where(record['id'])}: field {name!r} is {found}, expected "
                f"{expected_at(model, (name,))}"
            )
        return None


PRACTITIONER_SIDE = (
    "experience_years",
    "skills",
    "areas",
    "available_from",
    "leaving_on",
    "capacity_points",
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


def _practitioners(
    tables: dict[str, Table],
    mapping: SsdMapping,
    problems: Problems,
    report: ImportReport,
) -> tuple[list[Practitioner], dict[str, Row]]:
    """Practitioners, and every professional's row by id (mapped grade or not)."""
    teams = {r.get("dept_team_id"): r.get("dept_team_name") for r in tables["ssd_department"]}
    side = _side_table(mapping.practitioners.side_table, mapping, PRACTITIONER_SIDE, problems)
    rules = mapping.practitioners
    staff: list[Practitioner] = []
    rows: dict[str, Row] = {}
    for row in tables["ssd_professionals"]:
        ident = row.get("prof_professional_id")
        report.count("professionals read")
        if not ident:
            problems.error(f"{row.where()}: field 'prof_professional_id' is empty")
            continue
        if ident in rows:
            problems.error(f"{row.where(ident)}: prof_professional_id {shown(ident)} repeated")
            continue
        rows[ident] = row
        title = row.get("prof_professional_job_title")
        grade = mapping.grade_of(title)
        if grade is None:
            report.count("professionals whose job title has no grade (not practitioners)")
            continue
        if not _has_title(mapping, title):
            report.defaulted("ssd_professionals", "grade", f"mapping default_grade {grade.value}")
        flag = row.get("prof_agency_worker_flag").upper()
        if flag not in AGENCY_FLAGS:
            problems.error(
                f"{row.where(ident)}: field 'prof_agency_worker_flag' is {shown(flag)}, "
                "expected Y, N or empty"
            )
        elif AGENCY_FLAGS[flag]:
            report.count("agency practitioners (the format has no contract field yet)")
        department = row.get("prof_professional_department")
        team = teams.get(department, department)
        if not team:
            team = UNKNOWN_TEAM
            report.defaulted("ssd_professionals", "team", f"{UNKNOWN_TEAM!r} (no department)")
        record: dict[str, Any] = {"id": ident, "team": team, "grade": grade}
        origin = {"id": row, "fte": row}
        fte_text = row.get("prof_full_time_equivalency")
        if fte_text:
            try:
                record["fte"] = float(fte_text)
            except ValueError:
                record["fte"] = fte_text
        else:
            record["fte"] = rules.fte
            report.defaulted("ssd_professionals", "fte", f"mapping fte {rules.fte}")
        extra = side.get(ident)
        for name in PRACTITIONER_SIDE:
            if extra is not None and extra.get(name):
                record[name] = _side_value(extra, name)
                origin[name] = extra
            elif name in ("experience_years", "skills", "areas"):
                value = getattr(rules, name)
                record[name] = value
                report.defaulted("practitioners", name, f"mapping {name} {_words(value)}")
            else:
                report.defaulted("practitioners", name, "null")
        practitioner = _validated(Practitioner, record, origin, problems)
        if practitioner is not None:
            staff.append(practitioner)
            report.count("practitioners")
    for ident, row in side.items():
        if ident not in {p.id for p in staff}:
            problems.warn(f"{row.where(ident)}: no practitioner has this id; the row is not used")
    return staff, rows


def _words(value: Any) -> str:
    """A mapping value as the report shows it: ``[]``, ``2``, ``standard``."""
    if isinstance(value, tuple | list):
        return "[" + ", ".join(str(v) for v in value) + "]"
    return str(getattr(value, "value", value))


def _has_title(mapping: SsdMapping, title: str) -> bool:
    wanted = " ".join(title.split()).casefold()
    return any(" ".join(t.split()).casefold() == wanted for t in mapping.practitioners.grades)


def import_ssd(
    source: str | Path, mapping: SsdMapping, as_of: date
) -> tuple[Snapshot, ImportReport]:
    """Build a snapshot from a folder of SSD table extracts.

    Parameters
    ----------
    source
        A folder holding ``ssd_person.csv``, ``ssd_family.csv``, ``ssd_department.csv``,
        ``ssd_professionals.csv``, ``ssd_involvements.csv`` and the episode tables
        named in the mapping's ``[episodes] order``; column names are SSD field names.
    mapping
        The mapping (:func:`allocator.ssd.mapping.load_ssd_mapping`).
    as_of
        The day the snapshot describes: an episode or involvement is open on it when
        it started on or before it and ends after it (or has no end).

    Returns
    -------
    tuple of Snapshot and ImportReport
        The snapshot, validated by the allocator's own models, and the account of
        what was read, used and defaulted.

    Raises
    ------
    allocator.io.InputError
        Every problem found (missing table or column, bad date, unknown code or id),
        one sentence each, naming the file, line and field.
    """
    source = Path(source)
    problems = Problems()
    report = ImportReport()
    if not source.is_dir():
        problems.error(f"{source}: no such folder, expected a folder of SSD tables (CSV)")
        problems.raise_if_any()
    tables = _read_all(source, mapping, problems)
    problems.raise_if_any()

    person_rows: dict[str, Row] = {}
    for row in tables["ssd_person"]:
        report.count("children read (ssd_person)")
        ident = row.get("pers_person_id")
        if not ident:
            problems.error(f"{row.where()}: field 'pers_person_id' is empty, expected a person id")
        elif ident in person_rows:
            problems.error(
                f"{row.where(ident)}: pers_person_id {shown(ident)} is already on line "
                f"{person_rows[ident].line}, expected each person once"
            )
        else:
            person_rows[ident] = row
    people = set(person_rows)
    staff, professionals = _practitioners(tables, mapping, problems, report)
    care_leaver_workers: dict[str, tuple[str, Row]] = {}
    open_by_child = _open_episodes(
        tables, mapping, people, as_of, problems, report, care_leaver_workers
    )
    history = _involvements(
        tables["ssd_involvements"], mapping, people, set(professionals), as_of, problems, report
    )
    families: dict[str, str] = {}
    for row in tables["ssd_family"]:
        person, family = row.get("fami_person_id"), row.get("fami_family_id")
        if person not in people:
            problems.error(
                f"{row.where()}: field 'fami_person_id' is {shown(person)}, expected a "
                "pers_person_id of ssd_person"
            )
        elif person in families and families[person] != family:
            problems.warn(
                f"{row.where()}: child {shown(person)} is already in family "
                f"{shown(families[person])}; this row is not used"
            )
        elif family:
            families[person] = family
    problems.raise_if_any()

    practitioner_ids = {p.id for p in staff}
    rules = mapping.cases
    side = _side_table(rules.side_table, mapping, CASE_SIDE, problems)
    cases: list[Case] = []
    for person in sorted(open_by_child):
        episodes = sorted(open_by_child[person], key=lambda e: e[0])
        case_type = episodes[0][1]
        report.count(f"open cases of type {case_type.value}")
        starts = [start for _, _, start in episodes if start is not None]
        current, previous, changes = _worker_history(history.get(person, []), as_of, problems)
        if current is None and person in care_leaver_workers:
            # no open allocated involvement: the care-leaver table's own allocated worker
            current, row = care_leaver_workers[person]
            if current not in professionals:
                problems.error(
                    f"{row.where(row.get('clea_table_id'))}: field {CARE_LEAVER_WORKER!r} is "
                    f"{shown(current)}, "
                    "expected a prof_professional_id of ssd_professionals"
                )
                continue
            report.count(f"care leavers' workers from {CARE_LEAVER_WORKER}")
            previous = [w for w in previous if w != current]
        if current is not None and current not in practitioner_ids:
            row = professionals[current]
            problems.error(
                f"{row.where(current)}: holds child {shown(person)}'s open allocated-worker "
                "involvement, but the job title has no grade; expected it in "
                "[practitioners] grades (or a default_grade)"
            )
            continue
        record: dict[str, Any] = {
            "id": person,
            "type": case_type,
            "worker": current,
            "previous_workers": previous,
            "changes_last_12_months": changes,
            "opened": min(starts) if starts else None,
        }
        if person in families:
            record["family"] = families[person]
        else:
            record["family"] = person
            report.defaulted("cases", "family", "the child's own id (no ssd_family row)")
        extra = side.get(person)
        origin: dict[str, Row] = {"id": extra} if extra is not None else {}
        for name in CASE_SIDE:
            if extra is not None and extra.get(name):
                record[name] = _side_value(extra, name)
                origin[name] = extra
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
        if "id" not in origin:
            origin["id"] = person_rows[person]
        pinned = record.get("pinned_worker")
        if extra is not None and pinned and pinned not in practitioner_ids:
            problems.error(
                f"{extra.where(person)}: field 'pinned_worker' is {shown(str(pinned))}, "
                "expected the id of a practitioner"
            )
            continue
        case = _validated(Case, record, origin, problems)
        if case is not None:
            cases.append(case)
    idle = sum(
        1
        for person, items in history.items()
        if person not in open_by_child
        for i in items
        if i.end is None or i.end > as_of
    )
    if idle:
        report.count("open allocated-worker involvements of children with no open episode", idle)
    for ident, row in side.items():
        if ident not in open_by_child:
            problems.warn(f"{row.where(ident)}: no child with an open episode has this id")
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
