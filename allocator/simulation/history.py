"""A history with a known truth: a simulated stretch of a service written as the SSD
extract a council would hold at its end.

:func:`simulated_history` runs the simulator (the manager's rule each morning,
national rates) from a snapshot for ``days`` days and writes what a case system
would have recorded, day by day, as SSD tables (CSV) with a mapping file, ready for
``allocator import ssd`` (at any day of the stretch), calibration
(:mod:`allocator.simulation.calibrate`) and ``allocator backtest``:

- ``ssd_person``, ``ssd_family``: every child open at some point;
- episodes: each child's case from the day it opened (the snapshot's ``opened``, or
  the referral's day) to the day it closed (empty while open). Every child but early
  help has a child-in-need episode (the door: early help has its own episode), and
  a child-protection plan (``ssd_cp_plans``) or a looked-after episode
  (``ssd_cla_episodes``: looked after, court, adoption) of the same dates; the exact
  type is in the cases' side table, since the SSD's tables cannot tell court from
  looked after, nor a care leaver's dates;
- ``ssd_involvements``: one allocated-worker involvement per spell of a child with
  a worker, from the day the child was given the worker to the day they stopped
  holding them (the case closing, or a change). A change's reason
  (``invo_worker_change_reason``) is ``LEFTRL`` when the worker was leaving,
  ``ABSENC`` when absent (or an absence was announced), else ``MANAGE``; a case
  closing leaves it empty. The spells of the snapshot's own children begin on the
  day the case opened (earlier workers are not written);
- ``ssd_professionals`` and ``ssd_department``: every worker on the books at some
  point, joiners and leavers included (the SSD keeps no start or end of a post);
- side tables (``practitioners_extra.csv``, ``cases_extra.csv``): what the SSD does
  not hold, as the simulator knew it when the worker or child first appeared
  (complexity and priority at referral; no leaving or absence dates).

The stretch's events are :func:`~allocator.simulation.events.draw_events` of the
seed, so the same snapshot, days and seed give the same files, byte for byte.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from allocator.contract.models import Case, CaseType, Contract, Practitioner, Snapshot
from allocator.contract.policy import Policy
from allocator.ssd.ssd_import import BASE_COLUMNS
from allocator.ssd.synthetic import GRADE_TITLES, ROLE, cell_text, mapping_text

#: The reason written on an involvement ended by a change of worker, by what the
#: worker was doing that day (the SSD's ``invo_worker_change_reason`` codes).
LEAVING, ABSENT, MANAGED = "LEFTRL", "ABSENC", "MANAGE"

_EPISODES = {
    "ssd_cin_episodes": (
        "cine_referral_id",
        "cine_person_id",
        "cine_referral_date",
        "cine_close_date",
    ),
    "ssd_cp_plans": (
        "cppl_cp_plan_id",
        "cppl_person_id",
        "cppl_cp_plan_start_date",
        "cppl_cp_plan_end_date",
    ),
    "ssd_cla_episodes": (
        "clae_cla_episode_id",
        "clae_person_id",
        "clae_cla_episode_start_date",
        "clae_cla_episode_ceased",
    ),
    "ssd_early_help_episodes": (
        "earl_episode_id",
        "earl_person_id",
        "earl_episode_start_date",
        "earl_episode_end_date",
    ),
}
_DEEPER = {
    CaseType.CHILD_PROTECTION: "ssd_cp_plans",
    CaseType.LOOKED_AFTER: "ssd_cla_episodes",
    CaseType.COURT: "ssd_cla_episodes",
    CaseType.ADOPTION: "ssd_cla_episodes",
}


@dataclass
class _Spell:
    worker: str
    start: date
    end: date | None = None
    reason: str = ""


@dataclass
class _Life:
    """One child as the case system saw them."""

    case: Case  # as first seen
    opened: date
    closed: date | None = None


class _Journal:
    """Collects each day's end (:func:`allocator.simulation.run.simulate`'s ``on_day``)."""

    def __init__(self, snapshot: Snapshot) -> None:
        self.staff: dict[str, Practitioner] = {p.id: p for p in snapshot.practitioners}
        self.children: dict[str, _Life] = {}
        self.spells: dict[str, list[_Spell]] = {}
        for c in snapshot.cases:
            opened = c.opened or snapshot.as_of
            self.children[c.id] = _Life(c, opened)
            self.spells[c.id] = [_Spell(c.worker, opened)] if c.worker else []
        self.last = snapshot.as_of

    def _reason(self, worker: str, today: date) -> str:
        p = self.staff[worker]
        if p.leaving_on is not None:
            return LEAVING
        away = p.available_from is not None and p.available_from > today
        if away or p.absence_from is not None:
            return ABSENT
        return MANAGED

    def day(
        self, d: int, today: date, staff: Mapping[str, Practitioner], cases: Mapping[str, Case]
    ) -> None:
        del d
        self.last = today
        for cid, life in self.children.items():
            if life.closed is None and cid not in cases:
                life.closed = today
                self._end(cid, today, "")
        for p in staff.values():
            self.staff[p.id] = p
        for cid, c in cases.items():
            if cid not in self.children:
                self.children[cid] = _Life(c, today)
                self.spells[cid] = []
            spells = self.spells[cid]
            held = spells[-1].worker if spells and spells[-1].end is None else None
            if held == c.worker:
                continue
            if held is not None:
                self._end(cid, today, self._reason(held, today))
            if c.worker is not None:
                spells.append(_Spell(c.worker, today))

    def _end(self, cid: str, today: date, reason: str) -> None:
        spells = self.spells[cid]
        if spells and spells[-1].end is None:
            spells[-1].end = today
            spells[-1].reason = reason


def simulated_history(
    snapshot: Snapshot,
    folder: str | Path,
    *,
    days: int,
    seed: int,
    policy: Policy | None = None,
) -> date:
    """Simulate ``days`` days from ``snapshot`` and write them as an SSD extract.

    Parameters
    ----------
    snapshot
        The service on the history's first day (``as_of``).
    folder
        Where the tables, side tables and ``mapping.toml`` go (created if needed).
    days
        Days simulated after ``snapshot.as_of``.
    seed
        The events' seed.
    policy
        FORMAT.md defaults when ``None``.

    Returns
    -------
    date
        The history's last day (``snapshot.as_of`` + ``days``).
    """
    from allocator.simulation.methods import GreedyMethod
    from allocator.simulation.run import Settings, simulate

    journal = _Journal(snapshot)
    simulate(
        snapshot,
        GreedyMethod(),
        policy,
        Settings(days=days, seed=seed),
        on_day=journal.day,
    )
    write_journal(journal, folder)
    return journal.last


def write_journal(journal: _Journal, folder: str | Path) -> None:
    """Write a :class:`_Journal` as the module's SSD tables (each file atomically)."""
    from allocator.io import write_text

    root = Path(folder)
    root.mkdir(parents=True, exist_ok=True)

    def table(name: str, header: tuple[str, ...], rows: list[list[str]]) -> None:
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)
        write_text(root / name, buffer.getvalue())

    staff = sorted(journal.staff.values(), key=lambda p: p.id)
    teams = {t: f"D{i:03d}" for i, t in enumerate(sorted({p.team for p in staff}), start=1)}
    departments = [[i, t] for t, i in teams.items()]
    table("ssd_department.csv", ("dept_team_id", "dept_team_name"), departments)
    table(
        "ssd_professionals.csv",
        (
            "prof_professional_id",
            "prof_professional_job_title",
            "prof_professional_department",
            "prof_full_time_equivalency",
            "prof_agency_worker_flag",
        ),
        [
            [
                p.id,
                GRADE_TITLES[p.grade],
                teams[p.team],
                repr(p.fte),
                "Y" if p.contract is Contract.AGENCY else "N",
            ]
            for p in staff
        ],
    )
    table(
        "practitioners_extra.csv",
        (
            "id",
            "experience_years",
            "skills",
            "areas",
            "capacity_points",
            "contract",
            "contract_end",
        ),
        [
            [
                p.id,
                cell_text(p.experience_years),
                cell_text(p.skills),
                cell_text(p.areas),
                cell_text(p.capacity_points),
                cell_text(p.contract) if p.contract is Contract.FIXED_TERM else "",
                cell_text(p.contract_end),
            ]
            for p in staff
        ],
    )
    children = sorted(journal.children.items(), key=lambda kv: (kv[1].opened, kv[0]))
    table("ssd_person.csv", ("pers_person_id",), [[cid] for cid, _ in children])
    table(
        "ssd_family.csv",
        ("fami_family_id", "fami_person_id"),
        [[life.case.family, cid] for cid, life in children],
    )
    episodes: dict[str, list[list[str]]] = {name: [] for name in _EPISODES}
    sides: list[list[str]] = []
    involvements: list[list[str]] = []
    for cid, life in children:
        c = life.case
        dates = [life.opened.isoformat(), cell_text(life.closed)]
        door = "ssd_early_help_episodes" if c.type is CaseType.EARLY_HELP else "ssd_cin_episodes"
        for name in (door, _DEEPER.get(c.type)):
            if name is not None:
                rows = episodes[name]
                rows.append([f"{name[4:6].upper()}{len(rows) + 1:06d}", cid, *dates])
        sides.append(
            [
                cid,
                c.type.value,
                str(c.complexity),
                cell_text(c.weight),
                cell_text(c.area),
                cell_text(c.needs),
                c.priority.value,
                cell_text(c.excluded_workers),
            ]
        )
        for s in journal.spells[cid]:
            involvements.append(
                [
                    f"I{len(involvements) + 1:07d}",
                    s.worker,
                    ROLE,
                    cid,
                    s.start.isoformat(),
                    cell_text(s.end),
                    s.reason,
                ]
            )
    for name, header in _EPISODES.items():
        table(f"{name}.csv", header, episodes[name])
    table(
        "cases_extra.csv",
        ("id", "type", "complexity", "weight", "area", "needs", "priority", "excluded_workers"),
        sides,
    )
    table(
        "ssd_involvements.csv",
        BASE_COLUMNS["ssd_involvements"],
        involvements,
    )
    order = ("ssd_cp_plans", "ssd_cla_episodes", "ssd_cin_episodes", "ssd_early_help_episodes")
    write_text(
        root / "mapping.toml",
        mapping_text("a simulated SSD history (allocator.simulation.history)", order),
    )


__all__ = ["simulated_history", "write_journal"]
