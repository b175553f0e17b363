"""A council's own rates from its history: an SSD extract's past episodes and involvements.

:func:`calibrate_ssd` reads the episode tables of an SSD extract folder (CSV, the
tables ``allocator import ssd`` reads) and its involvements, and estimates over the
year before the snapshot's day (or since the history began recording, if later:
:func:`recording_start`):

- **referrals**: children starting a child-in-need or early-help episode, per day
  (the doors a case comes in by), and starts per year of each episode type; the
  forecast's ``arrival_factor`` is the council's rate over the national rate that
  keeps today's open caseload steady;
- **case lengths** by type (days from start to end): child protection
  (``ssd_cp_plans``), child in need (``ssd_cin_episodes``), looked after
  (``ssd_cla_episodes``), early help (``ssd_early_help_episodes``), from the episodes
  the window saw, closed and still open (:func:`censored_lengths`: Kaplan-Meier,
  each counted from the length it had when the window began). Closed episodes alone
  would make every case as short as those that happened to close within the history;
- **staff turnover**: workers whose involvements ended with change reason ``LEFTRL``
  (the worker left) in the window, over the staff in post plus those leavers,
  as a rate a year; used for permanent staff (agency and fixed-term keep theirs).

Each estimate needs enough events (:data:`MIN_EPISODES` closed episodes of a type,
:data:`MIN_REFERRALS` referrals, :data:`MIN_LEAVERS` leavers); where there are fewer,
the national rate stays and a note says so. A history spanning fewer than
:data:`MIN_HISTORY_DAYS` days, or with fewer than :data:`MIN_REFERRALS` episodes of
any kind, is too short to calibrate: :class:`HistoryError`.

Court, adoption and care-leaver lengths have no episode table with both ends here
and keep the national rates. Complexity changes are not in the SSD and keep theirs.
"""

from __future__ import annotations

import math
from bisect import bisect_left
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from allocator.contract.models import Contract, Snapshot
from allocator.domain.rules import counted
from allocator.io import InputError
from allocator.simulation.events import LEAVING_RATE, referral_children_per_day
from allocator.simulation.forecast import Calibration
from allocator.ssd.tables import Problems, Table, cell_date, read_table

#: Fewest closed episodes of a type to estimate its lengths.
MIN_EPISODES = 30
#: Fewest referrals (starts) to estimate the referral rate.
MIN_REFERRALS = 30
#: Fewest leavers to estimate staff turnover.
MIN_LEAVERS = 10
#: Shortest history (days from its first date to the snapshot's day) to calibrate.
MIN_HISTORY_DAYS = 90
#: Most days between a history's last record and the snapshot's day.
STALE_DAYS = 31
#: The window estimates are taken over, at most.
WINDOW_DAYS = 365


class HistoryError(InputError):
    """A history too short (or too empty) to calibrate from, in one sentence."""


@dataclass(frozen=True)
class EpisodeTable:
    """Where an episode table keeps its id, child, start and end, and its case type."""

    table: str
    case_type: str
    ident: str
    person: str
    start: str
    end: str
    door: bool  # a case comes in by it (a referral)


EPISODE_TABLES = (
    EpisodeTable(
        "ssd_cin_episodes",
        "child_in_need",
        "cine_referral_id",
        "cine_person_id",
        "cine_referral_date",
        "cine_close_date",
        True,
    ),
    EpisodeTable(
        "ssd_early_help_episodes",
        "early_help",
        "earl_episode_id",
        "earl_person_id",
        "earl_episode_start_date",
        "earl_episode_end_date",
        True,
    ),
    EpisodeTable(
        "ssd_cp_plans",
        "child_protection",
        "cppl_cp_plan_id",
        "cppl_person_id",
        "cppl_cp_plan_start_date",
        "cppl_cp_plan_end_date",
        False,
    ),
    EpisodeTable(
        "ssd_cla_episodes",
        "looked_after",
        "clae_cla_episode_id",
        "clae_person_id",
        "clae_cla_episode_start_date",
        "clae_cla_episode_ceased",
        False,
    ),
)


@dataclass(frozen=True)
class Episode:
    """One past episode: its case type, child, first day and last (``None`` if open)."""

    case_type: str
    person: str
    start: date
    end: date | None
    door: bool


def episodes_of(tables: Mapping[str, Table], problems: Problems) -> list[Episode]:
    """The episodes of the episode tables among ``tables`` (by SSD table name; a folder's
    CSV files or a database's tables), in table then row order. A bad date, or an end
    before the start, is recorded in ``problems`` naming the file (or table), line
    (or row) and column, and the row left out."""
    episodes: list[Episode] = []
    for spec in EPISODE_TABLES:
        table = tables.get(spec.table)
        if table is None:
            continue
        for row in table:
            ident = row.get(spec.ident) or None
            start = cell_date(row, spec.start, problems, required=True, ident=ident)
            end = cell_date(row, spec.end, problems, ident=ident)
            if start is None:
                continue
            if end is not None and end < start:
                problems.error(
                    f"{row.where(ident)}: field {spec.end!r} is {end.isoformat()}, before "
                    f"{spec.start!r} ({start.isoformat()}); expected the episode's last day"
                )
                continue
            episodes.append(Episode(spec.case_type, row.get(spec.person), start, end, spec.door))
    return episodes


def read_episodes(
    folder: str | Path,
) -> tuple[list[Episode], list[tuple[str, date]], int | None]:
    """The episodes of an SSD extract folder, the (worker, day) of each ``LEFTRL``
    involvement end, and the staff in post (rows of ``ssd_professionals.csv``).

    Missing episode tables are skipped; a missing ``ssd_involvements.csv`` or
    ``ssd_professionals.csv`` leaves turnover unestimated: staff ``None``.

    Raises
    ------
    InputError
        Naming the file, line and column of each bad date, or the folder if missing
        or holding none of the episode tables.
    """
    root = Path(folder)
    if not root.is_dir():
        raise InputError(f"{folder}: expected a folder of SSD tables (ssd_cin_episodes.csv ...)")
    problems = Problems()
    tables: dict[str, Table] = {}
    for spec in EPISODE_TABLES:
        path = root / f"{spec.table}.csv"
        if not path.is_file():
            continue
        table = read_table(path, problems, required=(spec.ident, spec.person, spec.start))
        if table is not None:
            tables[spec.table] = table
    if not any((root / f"{spec.table}.csv").is_file() for spec in EPISODE_TABLES):
        names = ", ".join(f"{spec.table}.csv" for spec in EPISODE_TABLES)
        raise InputError(f"{folder}: no SSD episode table found, expected one or more of {names}")
    episodes = episodes_of(tables, problems)
    leavers: list[tuple[str, date]] = []
    staff: int | None = None
    involvements = root / "ssd_involvements.csv"
    professionals = root / "ssd_professionals.csv"
    if involvements.is_file() and professionals.is_file():
        table = read_table(
            involvements,
            problems,
            required=(
                "invo_professional_id",
                "invo_involvement_end_date",
                "invo_worker_change_reason",
            ),
        )
        for row in table or ():
            if row.get("invo_worker_change_reason").upper() != "LEFTRL":
                continue
            ident = row.get("invo_involvements_id") or None
            end = cell_date(row, "invo_involvement_end_date", problems, ident=ident)
            if end is not None:
                leavers.append((row.get("invo_professional_id"), end))
        staff_table = read_table(professionals, problems, required=("prof_professional_id",))
        staff = len(staff_table) if staff_table is not None else 0
    problems.raise_if_any()
    return episodes, leavers, staff


def calibrate_ssd(folder: str | Path, snapshot: Snapshot) -> Calibration:
    """The :class:`Calibration` of an SSD extract's history for ``snapshot``'s service.

    Parameters
    ----------
    folder
        An SSD extract folder (CSV tables).
    snapshot
        Today's service: its ``as_of`` ends the window; its open caseload sets the
        national referral rate the council's is compared with.

    Returns
    -------
    Calibration
        With a note per estimate: what, from how many events, or why national.

    Raises
    ------
    HistoryError
        If the history spans under :data:`MIN_HISTORY_DAYS` days or has fewer than
        :data:`MIN_REFERRALS` episodes.
    InputError
        If a table is unreadable or a date is bad (file, line and column named).
    """
    episodes, leavers, staff = read_episodes(folder)
    return estimate(episodes, leavers, staff, snapshot, source=str(folder))


def recording_start(
    episodes: list[Episode], leavers: list[tuple[str, date]], as_of: date
) -> tuple[date, str]:
    """The first day a history recorded everything, and how that day was found.

    An extract holds every episode open on its first day, however long before it
    started, and everything after; so old open cases start years before the
    extract began, but nothing recorded *ends* before it. The first day anything
    ended (an episode closing or a worker leaving, on or before ``as_of``) is taken
    as the start; starts before it are cases already open then, not referrals. With
    nothing ended, the first episode's start is taken (a history of open cases only).

    Returns
    -------
    tuple
        (the day, a phrase saying how it was found, for the notes).
    """
    ends = [e.end for e in episodes if e.end is not None and e.end <= as_of]
    ends += [day for _, day in leavers if day <= as_of]
    if ends:
        first = min(ends)
        return first, f"from {first.isoformat()}, the first day an episode ended or a worker left"
    first = min(e.start for e in episodes)
    return first, f"from {first.isoformat()}, the first episode's start: nothing had ended"


#: Lengths a calibrated type's distribution is given as (its quantiles, equally likely).
LENGTH_POINTS = 200
#: Fewest episodes still followed at a length for Kaplan-Meier to go on; past it the
#: exponential tail.
MIN_AT_RISK = 10


def observed_span(episode: Episode, since: date, as_of: date) -> tuple[int, int, bool] | None:
    """What the window ``since`` to ``as_of`` saw of ``episode``'s length, in days from
    its start: (days open when the window began, or 0; days open when it closed or on
    ``as_of``; whether it closed), or ``None`` if the window did not see it open."""
    entry = max(0, (since - episode.start).days)
    ended = episode.end is not None and episode.end <= as_of
    last = episode.end if ended and episode.end is not None else as_of
    exit_ = max(1, (last - episode.start).days) if ended else (last - episode.start).days
    if exit_ <= entry:
        return None  # closed before the window, or began on its last day
    return entry, exit_, ended


def censored_lengths(
    spans: list[tuple[int, int, bool]],
    points: int = LENGTH_POINTS,
    min_at_risk: int = MIN_AT_RISK,
) -> tuple[int, ...]:
    """A length distribution from spans (:func:`observed_span`) as ``points`` equally
    likely lengths (days, sorted), its quantiles at ``(k + 0.5) / points``.

    The Kaplan-Meier estimate with late entry: at each length where episodes closed,
    the chance of closing then is those closed over those open at that length and
    seen from before it (an episode begun before the window counts from the length it
    had when the window began; one still open counts until its length today). Closed
    episodes alone would say every case is as short as those that happened to close
    (on a year of history, no length over a year). Past the longest closed length
    the rest of the distribution is exponential at the spans' overall rate (closings
    over days observed), the one assumption where the data stop; the data stop, too,
    where fewer than ``min_at_risk`` episodes are still followed.
    """
    closings: dict[int, int] = {}
    for _, exit_, ended in spans:
        if ended:
            closings[exit_] = closings.get(exit_, 0) + 1
    entries = sorted(entry for entry, _, _ in spans)
    exits = sorted(exit_ for _, exit_, _ in spans)
    survival = 1.0
    steps: list[tuple[int, float]] = []  # (length, chance of lasting longer)
    for length in sorted(closings):
        # Open at ``length`` and seen from before it: entered before it, not yet gone
        # (an exit comes after its entry, so every exit before it entered before).
        at_risk = bisect_left(entries, length) - bisect_left(exits, length)
        if at_risk < min_at_risk:
            # Too few left to say: a last closing of the one still followed would put
            # all the remaining chance on that one length. The tail takes over.
            break
        if at_risk:
            survival *= 1 - closings[length] / at_risk
        steps.append((length, survival))
    exposure = sum(exit_ - entry for entry, exit_, _ in spans)
    rate = sum(closings.values()) / exposure if exposure else 0.0
    last = steps[-1][0] if steps else 0
    out: list[int] = []
    k = 0
    for i in range(points):
        q = (i + 0.5) / points
        while k < len(steps) and 1 - steps[k][1] < q:
            k += 1
        if k < len(steps):
            out.append(steps[k][0])
        elif rate > 0:
            # Beyond the data: the remaining chance survival spread exponentially.
            out.append(last + max(1, math.ceil(-math.log((1 - q) / survival) / rate)))
        else:
            out.append(last)
    return tuple(sorted(out))


def estimate(
    episodes: list[Episode],
    leavers: list[tuple[str, date]],
    staff: int | None,
    snapshot: Snapshot,
    source: str = "history",
) -> Calibration:
    """:func:`calibrate_ssd`'s estimates from episodes already read (see the module);
    ``staff`` ``None``: the history has no staff tables (turnover stays national).

    Raises
    ------
    HistoryError
        Too short (as :func:`calibrate_ssd`), or not a history of the snapshot's days:
        nothing in it on or before the snapshot's day, or its last record more than
        :data:`STALE_DAYS` days before it.
    """
    as_of = snapshot.as_of
    past = [e for e in episodes if e.start <= as_of]
    if not past:
        begins = min((e.start for e in episodes), default=None)
        after = f": it begins on {begins.isoformat()}" if begins is not None else ""
        raise HistoryError(
            f"{source}: no episode starts on or before the snapshot's day "
            f"{as_of.isoformat()}{after}; expected the history up to the snapshot's day"
        )
    first, recorded_from = recording_start(past, leavers, as_of)
    span = (as_of - first).days
    # The last day an episode holds, past the snapshot's day or not.
    episodes_end = max([e.start for e in episodes] + [e.end for e in episodes if e.end is not None])
    if span < MIN_HISTORY_DAYS or len(past) < MIN_REFERRALS:
        hint = (
            f" (it runs on to {episodes_end.isoformat()}, after the snapshot's day "
            f"{as_of.isoformat()}: only the days before that day are used)"
            if episodes_end > as_of
            else ""
        )
        raise HistoryError(
            f"{source}: history too short to calibrate: {counted(len(past), 'episode')} "
            f"over {counted(span, 'day')} recorded ({recorded_from}); expected at least "
            f"{MIN_REFERRALS} episodes over {MIN_HISTORY_DAYS} days{hint}"
        )
    last = max(
        [e.start for e in past]
        + [e.end for e in past if e.end is not None and e.end <= as_of]
        + [day for _, day in leavers if day <= as_of]
    )
    if (as_of - last).days > STALE_DAYS:
        raise HistoryError(
            f"{source}: the history's last record is on {last.isoformat()}, "
            f"{(as_of - last).days} days before the snapshot's day {as_of.isoformat()}; "
            f"expected a history up to it (within {STALE_DAYS} days): rates from then "
            "would be taken as today's"
        )
    # The window ends at the history's last record: days after it recorded nothing,
    # and counting them would thin every rate (an extract a few weeks behind).
    end = last
    window = max(1, min((end - first).days, WINDOW_DAYS))
    since = end - timedelta(days=window)
    behind = (
        f"; the history's last record, {(as_of - end).days} days before the snapshot's "
        f"day {as_of.isoformat()}"
        if end < as_of
        else ""
    )
    notes: list[str] = [
        f"Calibrated from {source}: the {window} days to {end.isoformat()} "
        f"(recorded {recorded_from}{behind})."
    ]
    later = max([episodes_end, *(day for _, day in leavers)])
    if later > as_of:
        notes.append(
            f"The history runs on to {later.isoformat()}, after the snapshot's day: only "
            f"what it recorded by {as_of.isoformat()} is used."
        )

    # Referrals: starts at the doors in the window, per day; and by type, per year.
    starts = [e for e in past if e.start >= since]
    door = [e for e in starts if e.door]
    by_type: dict[str, int] = {}
    for e in starts:
        by_type[e.case_type] = by_type.get(e.case_type, 0) + 1
    shown = ", ".join(f"{t} {n * 365 / window:.0f}" for t, n in sorted(by_type.items()))
    notes.append(f"Episode starts a year by type: {shown or 'none'}.")
    open_children = sum(1 for c in snapshot.cases if c.worker is not None)
    national = referral_children_per_day(open_children)
    arrival_factor = 1.0
    if len(door) >= MIN_REFERRALS and national > 0:
        rate = len(door) / window
        arrival_factor = round(rate / national, 3)
        notes.append(
            f"Referrals: {rate:.2f} children a day from {len(door)} child-in-need and "
            f"early-help starts; {arrival_factor:g} x the rate that keeps today's "
            f"{open_children} children with a worker steady ({national:.2f} a day)."
        )
    else:
        notes.append(
            f"Referrals: only {len(door)} child-in-need and early-help "
            f"{'start' if len(door) == 1 else 'starts'} (fewer than "
            f"{MIN_REFERRALS}); the national steady-state rate is used."
        )

    # Case lengths by type, over the window: closed episodes end their length, open
    # ones (still open on the snapshot's day) say only that it is longer. A
    # child-in-need episode spans any child protection plan or care inside it: only
    # children with neither count for it.
    deeper = {e.person for e in past if e.case_type in ("child_protection", "looked_after")}
    durations: dict[str, tuple[int, ...]] = {}
    for spec in EPISODE_TABLES:
        spans = [
            seen
            for e in past
            if e.case_type == spec.case_type
            and not (spec.case_type == "child_in_need" and e.person in deeper)
            and (seen := observed_span(e, since, end)) is not None
        ]
        closed = sum(1 for _, _, ended in spans if ended)
        if closed >= MIN_EPISODES:
            lengths = censored_lengths(spans)
            durations[spec.case_type] = lengths
            mean = sum(lengths) / len(lengths)
            notes.append(
                f"Lengths of {spec.case_type}: from {closed} closed and "
                f"{len(spans) - closed} open episodes (Kaplan-Meier: an open episode counts "
                f"as lasting at least its days so far), median "
                f"{lengths[len(lengths) // 2]} days, mean {mean:.0f}."
            )
        else:
            notes.append(
                f"Lengths of {spec.case_type}: {counted(closed, 'closed episode')} "
                f"(fewer than {MIN_EPISODES}); the national lengths are used."
            )
    notes.append("Court, adoption and care-leaver lengths and complexity changes: national.")

    # Turnover: distinct workers who left in the window, against the national rates
    # for today's mix of contracts (the history does not say a leaver's contract).
    gone = {w for w, day in leavers if since < day <= end}
    leaving_rates: dict[Contract, float] = {}
    mix = [LEAVING_RATE[p.contract] for p in snapshot.practitioners]
    national_rate = sum(mix) / len(mix) if mix else LEAVING_RATE[Contract.PERMANENT]
    if staff is None:
        notes.append(
            f"Staff turnover: {source} lacks the ssd_professionals or ssd_involvements "
            f"table, both needed to count leavers and staff; the national rates are used "
            f"({national_rate:.1%} a year for today's mix)."
        )
    elif staff and len(gone) >= MIN_LEAVERS:
        # Staff at risk over the window: those in post now and half the leavers
        # (on average a leaver was on the books for half of it).
        rate = len(gone) / (staff + len(gone) / 2) * 365 / window
        factor = rate / national_rate
        leaving_rates = {c: round(r * factor, 4) for c, r in LEAVING_RATE.items()}
        notes.append(
            f"Staff turnover: {len(gone)} leavers (LEFTRL) with {staff} in post, "
            f"{rate:.1%} a year against {national_rate:.1%} nationally for today's mix of "
            f"contracts: each contract's national leaving rate x {factor:.2f}."
        )
    else:
        notes.append(
            f"Staff turnover: {counted(len(gone), 'leaver')} found (fewer than {MIN_LEAVERS}); the "
            f"national rates are used ({national_rate:.1%} a year for today's mix)."
        )
    return Calibration(
        arrival_factor=arrival_factor,
        durations=durations,
        leaving_rates=leaving_rates,
        notes=tuple(notes),
    )


# ------------------------------------------------------------- a synthetic history


def synthetic_history(
    snapshot: Snapshot, *, seed: int, days: int = WINDOW_DAYS
) -> tuple[list[Episode], list[tuple[str, date]], int]:
    """A history with a known truth: ``days`` of the simulator's events ending on
    ``snapshot``'s day, as the episodes and leavers an SSD extract would hold.

    The events are drawn (:func:`~allocator.simulation.events.draw_events`, national
    rates) from ``snapshot`` moved back ``days`` days. Each child referred is a
    child-in-need episode (early help: an early-help episode; a care leaver: none),
    with a child-protection plan or a looked-after episode of the same dates for
    those types (court and adoption: looked after); each start-of-history worker or
    joiner who left is a ``LEFTRL`` leaver on their last day.

    Returns
    -------
    tuple
        (episodes, leavers, staff in post on the last day), as :func:`read_episodes`.
    """
    from allocator.simulation.events import draw_events

    start = snapshot.as_of - timedelta(days=days)
    events = draw_events(snapshot.model_copy(update={"as_of": start}), seed=seed, days=days)
    closes: dict[str, date] = {}
    for k, day in enumerate(events.days):
        for cid in day.closures:
            closes[cid] = start + timedelta(days=k)
    episodes: list[Episode] = []
    for k, day in enumerate(events.days):
        on = start + timedelta(days=k)
        for case in day.referrals:
            t, end = case.type.value, closes.get(case.id)
            if t == "care_leaver":
                continue
            if t == "early_help":
                episodes.append(Episode("early_help", case.id, on, end, True))
                continue
            episodes.append(Episode("child_in_need", case.id, on, end, True))
            if t == "child_protection":
                episodes.append(Episode("child_protection", case.id, on, end, False))
            elif t in ("looked_after", "court", "adoption"):
                episodes.append(Episode("looked_after", case.id, on, end, False))
    leavers = sorted(
        (w, day) for w, day in events.leaving_days.items() if start < day <= snapshot.as_of
    )
    joined = {j.id for day in events.days for j in day.joiners}
    staff = len(({p.id for p in snapshot.practitioners} | joined) - {w for w, _ in leavers})
    return episodes, leavers, staff


def write_history(
    folder: str | Path, episodes: list[Episode], leavers: list[tuple[str, date]], staff: int
) -> None:
    """Write a history as the SSD tables :func:`read_episodes` reads (CSV, atomically):
    the four episode tables, ``ssd_involvements.csv`` (a ``LEFTRL`` end per leaver) and
    ``ssd_professionals.csv`` (``staff`` rows)."""
    import csv
    import io

    from allocator.io import write_text

    root = Path(folder)
    root.mkdir(parents=True, exist_ok=True)

    def table(name: str, header: list[str], rows: list[list[str]]) -> None:
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)
        write_text(root / f"{name}.csv", buffer.getvalue())

    for spec in EPISODE_TABLES:
        rows = [
            [
                f"{spec.case_type[:2].upper()}{n}",
                e.person,
                e.start.isoformat(),
                e.end.isoformat() if e.end else "",
            ]
            for n, e in enumerate(x for x in episodes if x.case_type == spec.case_type)
        ]
        table(spec.table, [spec.ident, spec.person, spec.start, spec.end], rows)
    table(
        "ssd_involvements",
        [
            "invo_involvements_id",
            "invo_professional_id",
            "invo_involvement_end_date",
            "invo_worker_change_reason",
        ],
        [[f"I{n}", w, day.isoformat(), "LEFTRL"] for n, (w, day) in enumerate(leavers)],
    )
    table("ssd_professionals", ["prof_professional_id"], [[f"W{n}"] for n in range(staff)])


__all__ = [
    "EPISODE_TABLES",
    "Episode",
    "HistoryError",
    "calibrate_ssd",
    "episodes_of",
    "estimate",
    "censored_lengths",
    "observed_span",
    "read_episodes",
    "recording_start",
    "synthetic_history",
    "write_history",
]
