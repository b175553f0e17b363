"""SSD-shaped synthetic extracts: a snapshot written as the SSD tables it would come from.

No safe public SSD sample exists, so tests and demonstrations use a synthetic service
(:func:`allocator.generate.generate`) written as SSD tables, with a mapping file and
side tables for what the SSD does not hold. Importing the folder gives back the same
snapshot (``tests/test_ssd_roundtrip.py``), except what the SSD cannot carry:

- a care leaver's ``opened`` (``ssd_care_leavers`` has no dates), which comes back null.

An ``adoption`` case is a looked-after episode with an adoption decision in
``ssd_permanence`` and legal status E1 (placement order) in ``ssd_legal_status``;
another looked-after child has legal status C2 (a care order). An agency worker has
``prof_agency_worker_flag`` Y; a fixed-term contract and any ``contract_end`` go in
the practitioners' side table (the SSD has only the agency flag).

Worker histories are laid out so the import recovers them: the involvements run from
the oldest previous worker to the current one, each ending the day the next starts;
the last ``changes_last_12_months`` changes start inside the year before ``as_of`` and
the earlier ones on or before that year's first day.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from datetime import date, timedelta
from io import StringIO
from pathlib import Path

from allocator.contract.models import Case, CaseType, Contract, Grade, Snapshot
from allocator.io import write_files
from allocator.ssd.ssd_import import BASE_COLUMNS
from allocator.ssd.tables import one_year_before

GRADE_TITLES: dict[Grade, str] = {
    Grade.STUDENT: "Student Social Worker",
    Grade.NQSW: "Newly Qualified Social Worker",
    Grade.SOCIAL_WORKER: "Social Worker",
    Grade.SENIOR: "Senior Social Worker",
    Grade.CONSULTANT: "Consultant Social Worker",
}
"""The job title written for each grade (the synthetic mapping reads it back)."""
FORMER_TITLE = "Social Worker (left)"
"""The job title of former staff named in histories: not a grade, so not a practitioner."""
ROLE = "ALLOCATED_SW"
"""The allocated-worker role written on every involvement."""


def mapping_text(what: str, episode_order: Sequence[str] = ()) -> str:
    """The mapping (TOML) of an extract this package or the simulator writes: the
    allocated role :data:`ROLE`, job titles :data:`GRADE_TITLES`, the side tables, and
    an ``[episodes] order`` where given. ``what`` names the writer in its first line."""
    grades = ", ".join(f'"{title}" = "{grade.value}"' for grade, title in GRADE_TITLES.items())
    episodes = (
        "[episodes]\norder = [" + ", ".join(f'"{t}"' for t in episode_order) + "]\n\n"
        if episode_order
        else ""
    )
    return (
        f"# Mapping for {what}.\n"
        f'[involvements]\nallocated_roles = ["{ROLE}"]\n\n'
        f'[practitioners]\ngrades = {{ {grades} }}\nside_table = "practitioners_extra.csv"\n\n'
        f'{episodes}[cases]\nside_table = "cases_extra.csv"\n'
    )


def _table(header: list[str], rows: list[list[str]]) -> str:
    out = StringIO(newline="")
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


def cell_text(value: object) -> str:
    """A value as an SSD extract's CSV cell: empty for none, ``;`` between list items,
    ISO dates, an enum's value."""
    if value is None:
        return ""
    if isinstance(value, tuple | list):
        return ";".join(str(v) for v in value)
    if isinstance(value, date):
        return value.isoformat()
    return str(getattr(value, "value", value))


def _history(case: Case, as_of: date) -> list[tuple[str, date, date | None]]:
    """``(worker, start, end)`` for each involvement, oldest first (see module docs)."""
    chain = list(reversed(case.previous_workers))
    if case.worker is not None:
        chain.append(case.worker)
    if not chain:
        return []
    transitions = len(chain) - 1
    recent = case.changes_last_12_months
    year_start = one_year_before(as_of)
    starts: list[date] = []
    # the first involvement and the older transitions: 30 days apart, on or before year_start
    for i in range(transitions - recent + 1):
        starts.append(year_start - timedelta(days=30 * (transitions - recent - i)))
    for j in range(1, recent + 1):
        starts.append(as_of - timedelta(days=(360 * (recent - j + 1)) // (recent + 1)))
    if transitions - recent < 0:
        raise ValueError(f"case {case.id}: more changes than previous workers")
    spans: list[tuple[str, date, date | None]] = []
    for i, worker in enumerate(chain):
        end = starts[i + 1] if i + 1 < len(chain) else None
        spans.append((worker, starts[i], end))
    if case.worker is None:
        worker, start, _ = spans[-1]
        spans[-1] = (worker, start, max(start, as_of - timedelta(days=1)))
    return spans


def ssd_tables(snapshot: Snapshot) -> dict[str, str]:
    """The snapshot as SSD tables, a mapping file and side tables: file name to text."""
    as_of = snapshot.as_of
    teams = {
        team: f"D{i:03d}"
        for i, team in enumerate(dict.fromkeys(p.team for p in snapshot.practitioners), start=1)
    }
    staff_ids = {p.id for p in snapshot.practitioners}
    former = sorted(
        {w for c in snapshot.cases for w in (*c.previous_workers, c.worker) if w} - staff_ids
    )
    professionals = [
        [
            p.id,
            GRADE_TITLES[p.grade],
            teams[p.team],
            repr(p.fte),
            "Y" if p.contract is Contract.AGENCY else "N",
        ]
        for p in snapshot.practitioners
    ] + [[w, FORMER_TITLE, "", "", "N"] for w in former]
    side_staff = [
        [
            p.id,
            *(cell_text(getattr(p, f)) for f in _STAFF_SIDE),
            cell_text(p.contract) if p.contract is Contract.FIXED_TERM else "",
            cell_text(p.contract_end),
        ]
        for p in snapshot.practitioners
    ]
    episodes: dict[str, list[list[str]]] = {name: [] for name in _EPISODE_HEADERS}
    involvements: list[list[str]] = []
    side_cases: list[list[str]] = []
    for case in snapshot.cases:
        start = cell_text(case.opened or as_of)
        ident = f"E{len(side_cases) + 1:06d}"
        if case.type is CaseType.COURT:
            episodes["ssd_pre_proceedings"].append(
                [
                    ident,
                    case.id,
                    start,
                    "Decision to Issue Care Proceedings",
                    "",
                    "H - Not yet at final hearing",
                ]
            )
        elif case.type is CaseType.CARE_LEAVER:
            episodes["ssd_care_leavers"].append([ident, case.id, "YES"])
        else:
            table = _EPISODE_OF[case.type]
            episodes[table].append([ident, case.id, start, ""])
        if case.type is CaseType.ADOPTION:
            episodes["ssd_permanence"].append([ident, case.id, start, "", "", ""])
            episodes["ssd_legal_status"].append([ident, case.id, "E1", start, ""])
        elif case.type is CaseType.LOOKED_AFTER:
            episodes["ssd_legal_status"].append([ident, case.id, "C2", start, ""])
        for worker, begin, end in _history(case, as_of):
            involvements.append(
                [
                    f"I{len(involvements) + 1:07d}",
                    worker,
                    ROLE,
                    case.id,
                    begin.isoformat(),
                    cell_text(end),
                    "",
                ]
            )
        side_cases.append([case.id, "", *(cell_text(getattr(case, f)) for f in _CASE_SIDE)])
    files = {
        # The columns in the order the import reads them (one list of them).
        "ssd_department.csv": _table(
            list(BASE_COLUMNS["ssd_department"]), [[i, t] for t, i in teams.items()]
        ),
        "ssd_professionals.csv": _table(list(BASE_COLUMNS["ssd_professionals"]), professionals),
        "ssd_person.csv": _table(
            list(BASE_COLUMNS["ssd_person"]), [[c.id] for c in snapshot.cases]
        ),
        "ssd_family.csv": _table(
            list(BASE_COLUMNS["ssd_family"]), [[c.family, c.id] for c in snapshot.cases]
        ),
        "ssd_involvements.csv": _table(list(BASE_COLUMNS["ssd_involvements"]), involvements),
        "practitioners_extra.csv": _table(
            ["id", *_STAFF_SIDE, "contract", "contract_end"], side_staff
        ),
        "cases_extra.csv": _table(["id", "type", *_CASE_SIDE], side_cases),
        "mapping.toml": mapping_text(
            "a synthetic SSD extract written by `allocator generate --format ssd`"
        ),
    }
    for name, header in _EPISODE_HEADERS.items():
        files[f"{name}.csv"] = _table(header, episodes[name])
    return files


_STAFF_SIDE = (
    "experience_years",
    "skills",
    "areas",
    "available_from",
    "leaving_on",
    "capacity_points",
)
_CASE_SIDE = (
    "complexity",
    "weight",
    "area",
    "needs",
    "priority",
    "pinned_worker",
    "excluded_workers",
)
_EPISODE_OF = {
    CaseType.CHILD_PROTECTION: "ssd_cp_plans",
    CaseType.LOOKED_AFTER: "ssd_cla_episodes",
    CaseType.ADOPTION: "ssd_cla_episodes",
    CaseType.CHILD_IN_NEED: "ssd_cin_episodes",
    CaseType.EARLY_HELP: "ssd_early_help_episodes",
}
_EPISODE_HEADERS = {
    "ssd_pre_proceedings": [
        "prep_table_id",
        "prep_person_id",
        "prep_pre_pro_decision_date",
        "prep_pre_pro_outcome",
        "prep_agree_stepdown_issue_date",
        "prep_la_final_care_plan",
    ],
    "ssd_cp_plans": [
        "cppl_cp_plan_id",
        "cppl_person_id",
        "cppl_cp_plan_start_date",
        "cppl_cp_plan_end_date",
    ],
    "ssd_permanence": [
        "perm_table_id",
        "perm_person_id",
        "perm_adm_decision_date",
        "perm_placement_order_date",
        "perm_decision_reversed_date",
        "perm_permanence_order_date",
    ],
    "ssd_legal_status": [
        "lega_legal_status_id",
        "lega_person_id",
        "lega_legal_status",
        "lega_legal_status_start_date",
        "lega_legal_status_end_date",
    ],
    "ssd_cla_episodes": [
        "clae_cla_episode_id",
        "clae_person_id",
        "clae_cla_episode_start_date",
        "clae_cla_episode_ceased",
    ],
    "ssd_cin_episodes": [
        "cine_referral_id",
        "cine_person_id",
        "cine_referral_date",
        "cine_close_date",
    ],
    "ssd_early_help_episodes": [
        "earl_episode_id",
        "earl_person_id",
        "earl_episode_start_date",
        "earl_episode_end_date",
    ],
    "ssd_care_leavers": ["clea_table_id", "clea_person_id", "clea_care_leaver_in_touch"],
}


def write_ssd_extract(snapshot: Snapshot, folder: str | Path) -> Path:
    """Write :func:`ssd_tables` into ``folder`` (created if needed, its parent
    existing), all the files or none (:func:`allocator.io.write_files`).

    Returns
    -------
    Path
        The folder; ``allocator import ssd FOLDER --mapping FOLDER/mapping.toml``
        reads it back.
    """
    return write_files(folder, ssd_tables(snapshot))
