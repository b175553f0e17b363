"""A plan as one self-contained HTML file: loads chart, assignments, unallocated, tiers.

What a manager attaches to an email: inline CSS and SVG only, no script, no link to
anything outside the file, so it opens the same offline. Every id and sentence is
HTML-escaped. Plain Python (no template engine), so ``allocator report`` needs only
the base install; the review page (:mod:`allocator.web`) reuses the chart.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from html import escape
from urllib.parse import quote

from allocator.contract.models import Case, Handover, Plan, Snapshot
from allocator.contract.policy import Policy
from allocator.contract.units import to_points
from allocator.domain.objectives import plan_tiers
from allocator.domain.rules import ServiceState, counted, label_text
from allocator.present.order import unallocated_order

CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:1.5rem;color:#1b1b1b}
h1{font-size:1.4rem}h2{font-size:1.15rem;margin-top:1.6rem}h3{font-size:1rem}
table{border-collapse:collapse;margin:.4rem 0 1rem}
th,td{border:1px solid #ccc;padding:.25rem .5rem;text-align:left;vertical-align:top}
th{background:#f1f1f1}.num{text-align:right}.muted{color:#666}
.bars text{font-size:11px;font-family:inherit}
.legend span{display:inline-block;width:.8rem;height:.8rem;margin:0 .3rem 0 1rem}
.legend .before{background:#9db9d8}.legend .after{background:#1d5fa6}
.legend .over{background:#b3261e}
"""

#: A plan's status in a manager's words.
STATUS_WORDS = {
    "optimal": "proved the best plan the rules allow",
    "feasible": "the best plan found in the time given, not proved the best",
}

#: Chart geometry (pixels): label column, bar length at 100 % of cap, row height.
LABEL_W, BAR_W, ROW_H = 70, 320, 22
BEFORE_COLOUR, AFTER_COLOUR, OVER_COLOUR = "#9db9d8", "#1d5fa6", "#b3261e"


@dataclass(frozen=True)
class LoadRow:
    """One worker's bar: id, team, cap and load before and after (points), and a mark
    for a worker who has left, leaves soon or is away (:func:`staff_mark`)."""

    worker: str
    team: str
    capacity: float
    before: float
    after: float
    mark: str = ""


def staff_mark(state: ServiceState, worker_id: str) -> str:
    """A few words marking a worker in the loads: "left 2026-11-20", "leaves
    2026-11-24", "long absence from 2026-12-01", "absent until 2027-02-01"; "" for
    anybody else. From the rules' own definitions (gone, departing, absent)."""
    p = state.practitioners[worker_id]
    if worker_id in state.gone:
        return f"left {p.leaving_on}"
    day = state.departing.get(worker_id)
    if day is not None:
        return f"leaves {day}" if p.leaving_on == day else f"long absence from {day}"
    if p.available_from is not None and p.available_from > state.as_of:
        return f"absent until {p.available_from}"
    return ""


def team_heading(team: str) -> str:
    """A team's heading: its name (:func:`~allocator.domain.rules.label_text`), with
    "Team " before it unless it has it already."""
    team = label_text(team)
    return team if team.casefold().startswith("team") else f"Team {team}"


def case_words(case: Case | None, policy: Policy) -> tuple[str, str, str]:
    """A case's priority class, its type (urgent said), and its needs, for people."""
    if case is None:
        return ("", "", "")
    kind = case.type.value.replace("_", " ") + f", complexity {case.complexity}"
    if case.priority.value == "urgent":
        kind += ", urgent"
    return (
        policy.class_name(case).replace("_", " "),
        kind,
        ", ".join(map(label_text, case.needs)),
    )


def load_rows(snapshot: Snapshot, policy: Policy, plan: Plan) -> list[LoadRow]:
    """Each practitioner's load before and after ``plan``, by team then id.

    Computed here from ``snapshot`` and the policy's weights and caps, with the plan's
    placements applied (each assignment's case to its worker, each unallocated case
    off its worker), not read from the plan's stored ``workers`` table: a report of a
    plan against another snapshot shows that snapshot's loads.
    """
    state = ServiceState.of(snapshot, policy)
    final: dict[str, str | None] = {c.id: c.worker for c in snapshot.cases}
    final.update({u.case: None for u in plan.unallocated if u.case in final})
    final.update({a.case: a.worker for a in plan.assignments if a.case in final})
    after = dict.fromkeys(state.practitioners, 0)
    for cid, wid in final.items():
        if wid in after:
            after[wid] += state.weight[cid]
    rows = [
        LoadRow(
            pid,
            p.team,
            to_points(state.capacity[pid]),
            to_points(state.load_before[pid]),
            to_points(after[pid]),
            staff_mark(state, pid),
        )
        for pid, p in state.practitioners.items()
    ]
    return sorted(rows, key=lambda r: (r.team, r.worker))


def load_bars_svg(rows: Sequence[LoadRow], link: str | None = None) -> str:
    """An inline SVG: per worker a light bar (before), a dark bar (after), a cap line.

    ``link``, if given, is a URL prefix: each worker's label links to ``link + id``.
    """
    most = max([100.0, *(max(r.before, r.after) / r.capacity * 100 for r in rows if r.capacity)])
    scale = BAR_W / most
    height = ROW_H * len(rows) + 4
    width = LABEL_W + int(BAR_W) + (300 if any(r.mark for r in rows) else 140)
    cap_x = LABEL_W + 100 * scale
    parts = [
        f'<svg class="bars" xmlns="http://www.w3.org/2000/svg" width="{width}" '
        f'height="{height}" role="img" aria-label="loads against caps">'
    ]
    for i, r in enumerate(rows):
        y = i * ROW_H + 2
        share_before = r.before / r.capacity * 100 if r.capacity else 0.0
        share_after = r.after / r.capacity * 100 if r.capacity else 0.0
        label = escape(r.worker)
        text = f'<text x="0" y="{y + 14}">{label}</text>'
        if link is not None:
            text = f'<a href="{escape(link + quote(r.worker, safe=""))}">{text}</a>'
        colour = OVER_COLOUR if share_after > 100 else AFTER_COLOUR
        parts.append(
            f"{text}"
            f'<rect x="{LABEL_W}" y="{y}" width="{share_before * scale:.1f}" height="8" '
            f'fill="{BEFORE_COLOUR}"><title>{label} before: {r.before:g} of '
            f"{r.capacity:g}</title></rect>"
            f'<rect x="{LABEL_W}" y="{y + 9}" width="{share_after * scale:.1f}" height="8" '
            f'fill="{colour}"><title>{label} after: {r.after:g} of {r.capacity:g}</title></rect>'
            f'<text x="{LABEL_W + int(BAR_W) + 8}" y="{y + 14}">{r.before:g} → {r.after:g} '
            f"/ {r.capacity:g}" + (f" · {escape(r.mark)}" if r.mark else "") + "</text>"
        )
    parts.append(
        f'<line x1="{cap_x:.1f}" y1="0" x2="{cap_x:.1f}" y2="{height}" stroke="#333" '
        'stroke-dasharray="3,2"><title>cap</title></line></svg>'
    )
    return "".join(parts)


def legend() -> str:
    """The chart's key, as HTML: colours by class (the CSS's ``.legend`` rules, the
    chart's colours), no style attribute, which the page's CSP would refuse."""
    return (
        '<p class="legend muted"><span class="before"></span>before'
        '<span class="after"></span>after'
        '<span class="over"></span>after, over cap; dashed line: cap</p>'
    )


def _table(head: Iterable[str], rows: Iterable[Iterable[str]]) -> str:
    """An HTML table; cells are escaped here."""
    out = ["<table><tr>", *(f"<th>{escape(h)}</th>" for h in head), "</tr>"]
    for row in rows:
        out.append("<tr>" + "".join(f"<td>{escape(c)}</td>" for c in row) + "</tr>")
    out.append("</table>")
    return "".join(out)


def tiers_table(plan: Plan, policy: Policy) -> str:
    """Each objective tier: its value, the best any plan could reach, whether proved."""
    rows = []
    # A rebalance's tiers for a rebalance's plan, else every daily tier, the re-solve's
    # included: a tier the plan does not report is skipped.
    for tier in plan_tiers(policy, plan.objective, reference=True):
        if tier.key not in plan.objective:
            continue
        value = plan.objective[tier.key]
        bound = (plan.bound or {}).get(tier.key)
        proved = (plan.proved or {}).get(tier.key)
        rows.append(
            (
                tier.label,
                "fewer" if tier.sense == "min" else "more",
                f"{value:g}",
                "" if bound is None else f"{bound:g}",
                "" if proved is None else ("yes" if proved else "no"),
            )
        )
    return _table(("tier", "better", "this plan", "best possible", "proved"), rows)


def render_report(
    snapshot: Snapshot,
    policy: Policy,
    plan: Plan,
    *,
    title: str = "",
    promised: Sequence[Handover] = (),
) -> str:
    """The whole report, one HTML document (see the module's docstring).

    ``promised``: handovers an earlier plan promised and still to come, whose
    receivers' room the plan kept (``serve --handovers``): listed with the room kept,
    and counted as planned in today's risks."""
    rows = load_rows(snapshot, policy, plan)
    made = plan.made_from
    source = escape(made.snapshot.file) if made and made.snapshot else "(not recorded)"
    teams: dict[str, list[LoadRow]] = {}
    for r in rows:
        teams.setdefault(r.team, []).append(r)
    charts = "".join(
        f"<h3>{escape(team_heading(team))}</h3>{load_bars_svg(members)}"
        for team, members in teams.items()
    )
    cases = {c.id: c for c in snapshot.cases}
    assignments = _table(
        ("case", "class", "type", "needs", "worker", "from", "waited (days)", "reasons"),
        (
            (
                a.case,
                *case_words(cases.get(a.case), policy),
                a.worker,
                a.from_ or "",
                "" if a.days_waiting is None else str(a.days_waiting),
                "; ".join(a.reasons),
            )
            for a in plan.assignments
        ),
    )
    unallocated = _table(
        ("case", "class", "type", "needs", "waited (days)", "why"),
        (
            (
                u.case,
                *case_words(cases.get(u.case), policy),
                "" if u.days_waiting is None else str(u.days_waiting),
                u.reason,
            )
            for u in unallocated_order(snapshot, policy, plan)
        ),
    )
    from allocator.present.analysis import morning_risks

    risks = "".join(
        f"<li>{escape(r)}</li>" for r in morning_risks(snapshot, policy, plan, promised)
    )
    kept = _table(
        ("case", "from", "to", "handover day", "room kept (points)"),
        (
            (h.case, h.from_, h.worker, h.on.isoformat(), f"{policy.case_weight(cases[h.case]):g}")
            for h in promised
            if h.case in cases
        ),
    )
    exceptions = "".join(
        f"<li>{escape(e.case)} with {escape(e.worker)}"
        f"{' (over cap)' if e.waives == 'capacity' else ' (beyond their grade)'}: "
        f"{escape(e.reason)}</li>"
        for e in plan.exceptions
    )
    # Each child handed over later: with their worker until the handover day
    # (docs/FORMAT.md "Planned handovers").
    handovers = _table(
        ("case", "from", "to", "handover day", "leaves on", "notice (days)", "reasons"),
        (
            (
                h.case,
                h.from_,
                h.worker,
                h.on.isoformat(),
                h.departs.isoformat(),
                str(h.notice_days),
                "; ".join(h.reasons),
            )
            for h in plan.handovers
        ),
    )
    notes = "".join(f"<li>{escape(n)}</li>" for n in plan.notes)
    heading = escape(title or f"Allocation plan for {plan.as_of.isoformat()}")
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{heading}</title><style>{CSS}</style></head><body>"
        f"<h1>{heading}</h1>"
        f'<p class="muted">Snapshot {source}, as of {plan.as_of.isoformat()}; '
        f"{escape(STATUS_WORDS.get(plan.status, plan.status))}; "
        f"{counted(len(plan.assignments), 'assignment')}, "
        f"{len(plan.unallocated)} unallocated"
        + (f", {counted(len(plan.handovers), 'handover')} planned ahead" if plan.handovers else "")
        + ".</p>"
        + (f"<h2>Today's risks</h2><ul>{risks}</ul>" if risks else "")
        + f"<h2>Unallocated</h2>{unallocated}"
        + (f"<h2>Managed exceptions</h2><ul>{exceptions}</ul>" if exceptions else "")
        + (
            "<h2>Handovers promised before today</h2>"
            '<p class="muted">Each child goes to the worker named on the handover day; '
            "their room is kept there, and no referral was given it.</p>"
            f"{kept}"
            if promised
            else ""
        )
        + "<h2>Loads against caps</h2>"
        '<p class="muted">Computed from the snapshot given and the policy, with the '
        "plan's placements applied (not the plan's stored figures).</p>"
        f"{legend()}{charts}"
        f"<h2>Assignments</h2>{assignments}"
        + (
            f"<h2>Handovers planned ahead</h2>"
            '<p class="muted">Each child stays with their worker until the handover day; '
            "leaves on: the worker's leaving date, or the first day of a long absence.</p>"
            f"{handovers}"
            if plan.handovers
            else ""
        )
        + f"<h2>Objective tiers</h2>{tiers_table(plan, policy)}"
        + (f"<h2>Notes</h2><ul>{notes}</ul>" if notes else "")
        + "</body></html>\n"
    )
