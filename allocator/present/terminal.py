"""Readable summaries of a plan for people (rich tables on a terminal).

Every id, reason and other value from the data is escaped (:func:`escape`) before
it meets rich markup: an id such as ``[bold red]P5`` or ``P[/]`` is text, and a
control character (an escape code, a bidi override) is shown as its escape
(:func:`printable`, which the command line's plain lines go through too). Print on
a console made with ``emoji=False`` (as the command line does) so that an id such
as ``C:cat:3`` is not shown as an emoji.
"""

from __future__ import annotations

import re
import shlex
from collections import Counter
from collections.abc import Sequence
from datetime import date
from typing import TYPE_CHECKING

from rich.console import Console
from rich.markup import escape as _rich_escape
from rich.table import Table
from rich.text import Text

from allocator.contract.models import Plan, Snapshot
from allocator.contract.policy import Policy
from allocator.contract.units import percent
from allocator.domain.objectives import Tier, match_label
from allocator.domain.rules import counted, label_text, notice
from allocator.explain.check import RULES, Violation, first_breaks
from allocator.present.analysis import OVER_CAP
from allocator.present.order import unallocated_order

if TYPE_CHECKING:  # annotations only: rendering needs no analysis code at import
    from allocator.present.analysis import (
        CaseExplanation,
        PlanAnalysis,
        PlanDiff,
        WorkerStatement,
    )
    from allocator.problems.rebalancing import CapCost
    from allocator.problems.recommend import Recommendation


#: Backslashes before a ``[``, and whether the ``[`` opens something rich would read as
#: a tag (:func:`escape`).
_BEFORE_BRACKET = re.compile(r"(\\*)\[(?=([a-z#/@][^[]*?])?)")


def printable(text: str) -> str:
    r"""``text`` with every character that is not printable shown as its escape.

    An escape code (``\x1b[2J``), a carriage return, a NUL or a bidi override in an id
    or a file's text reaches no terminal raw; line breaks are kept (a message of
    several lines stays one). The terminal's one helper for data: :func:`escape` and
    the command line's ``echo`` go through it.

    >>> printable("P1\x1b[31m\u202e")
    'P1\\x1b[31m\\u202e'
    """
    if text.isprintable() or text.replace("\n", "").isprintable():
        return text
    return "".join(
        ch if ch.isprintable() or ch == "\n" else ch.encode("unicode_escape").decode("ascii")
        for ch in text
    )


def escape(text: str) -> str:
    """``text`` as rich markup that shows it literally: every tag-like ``[...]`` escaped,
    every control character shown as its escape (:func:`printable`).

    Unlike :func:`rich.markup.escape` (used by ``_before_tag``), a
    trailing backslash is left single: doubling it is right only when a markup tag
    follows at once (``[bold]{id}[/bold]``), and shows two backslashes anywhere else.
    """
    # rich (15) reads backslashes before a tag-like "[" in pairs, a last odd one
    # escaping the tag, and drops the last backslash before any other "[" ("P\\[S"
    # shows as "P[S"): k backslashes are written 2k + 1 and k + 1 times.
    return _BEFORE_BRACKET.sub(
        lambda m: m[1] * 2 + "\\[" if m[2] is not None else m[1] + ("\\" if m[1] else "") + "[",
        printable(text),
    )


def _before_tag(text: str) -> str:
    """:func:`rich.markup.escape` of :func:`printable` ``text``: for a value a markup tag
    follows at once (``[bold]{id}[/bold]``), where a trailing backslash is doubled."""
    return _rich_escape(printable(text))


def unallocated_table(
    plan: Plan,
    snapshot: Snapshot,
    policy: Policy,
    *,
    rows: int | None = None,
) -> Table:
    """The plan's unallocated cases with their priority class, days waited, codes and
    reasons, for a manager to act on: the highest class first, the longest wait as the
    class counts it first within it (:func:`~allocator.present.order.unallocated_order`,
    as on the page).

    With ``rows``, only the first ``rows`` of that order, each reason cut to the line
    it has (:func:`render_unallocated`: the plan holds every reason whole).
    """
    cases = {c.id: c for c in snapshot.cases}
    ordered = unallocated_order(snapshot, policy, plan)
    order = (
        "highest class first, then the longest waits as the class counts them, head starts included"
    )
    if rows is None:
        table = Table(title=f"Unallocated: action needed ({order})")
        waited_heading = "waited (days)"
    else:
        ordered = ordered[:rows]
        table = Table(
            title=f"The {len(ordered)} most pressing of {len(plan.unallocated)} ({order}; "
            "waited in days; each reason cut to one line)"
        )
        waited_heading = "waited"  # a narrower column leaves the reason more of the line
    for heading in ("case", "class", waited_heading, "code", "reason"):
        table.add_column(heading, justify="right" if heading == waited_heading else "left")
    for u in ordered:
        case = cases.get(u.case)
        klass = "" if case is None else policy.class_name(case).replace("_", " ")
        waited = "" if u.days_waiting is None else str(u.days_waiting)
        # Cut as a cell, not as a column: a column that never wraps is never narrowed,
        # and rich would take its room from the ids instead.
        reason = (
            escape(u.reason)
            if rows is None
            else Text(printable(u.reason), no_wrap=True, overflow="ellipsis")
        )
        table.add_row(escape(u.case), escape(klass), waited, escape(str(u.code)), reason)
    return table


#: Lines the whole unallocated table may take on the terminal (a screen, less the
#: summary's first lines); a longer one becomes counts and the most pressing rows.
SCREEN_LINES = 30

#: Rows of the most pressing unallocated children shown when the whole table is
#: longer than a screen.
PRESSING_ROWS = 10


def unallocated_counts(plan: Plan, snapshot: Snapshot, policy: Policy) -> Table:
    """The plan's unallocated children counted by reason code (rows, the commonest
    first) and priority class (columns, highest first), with the totals."""
    cases = {c.id: c for c in snapshot.cases}
    by: Counter[tuple[str, str]] = Counter()
    for u in plan.unallocated:
        case = cases.get(u.case)
        by[str(u.code), "not in the snapshot" if case is None else policy.class_name(case)] += 1
    codes = Counter[str]()
    classes = Counter[str]()
    for (code, klass), n in by.items():
        codes[code] += n
        classes[klass] += n
    shown = [k for k in (*policy.class_names, "not in the snapshot") if classes[k]]
    table = Table(
        title=f"Unallocated: {counted(len(plan.unallocated), 'child', 'children')} "
        "without a worker, by reason code and priority class"
    )
    table.add_column("code")
    for heading in (*shown, "all"):
        table.add_column(escape(heading.replace("_", " ")), justify="right")
    for code, total in sorted(codes.items(), key=lambda item: (-item[1], item[0])):
        table.add_row(escape(code), *(str(by[code, k]) for k in shown), str(total))
    if len(codes) > 1:
        table.add_row("all", *(str(classes[k]) for k in shown), str(len(plan.unallocated)))
    return table


def render_unallocated(
    plan: Plan,
    snapshot: Snapshot,
    policy: Policy,
    console: Console,
    *,
    plan_file: str | None = None,
    explain: str | None = None,
) -> None:
    """Print the plan's unallocated children for the morning's terminal.

    The whole :func:`unallocated_table` where it fits a screen (:data:`SCREEN_LINES` at
    the console's width); else their count by reason code and priority class
    (:func:`unallocated_counts`), the :data:`PRESSING_ROWS` most pressing, each reason
    cut to a line, and where every reason is: ``plan_file`` (``None``: the plan went to
    standard output) and ``explain``, the command that explains one case of the plan
    less its ``--case ID``. Nothing is lost: the plan holds every child and reason.
    """
    if not plan.unallocated:
        return
    whole = unallocated_table(plan, snapshot, policy)
    if len(console.render_lines(whole, console.options, pad=False)) <= SCREEN_LINES:
        console.print(whole)
        return
    console.print(unallocated_counts(plan, snapshot, policy))
    console.print(unallocated_table(plan, snapshot, policy, rows=PRESSING_ROWS))
    where = (
        f"the plan file {escape(plan_file)}"
        if plan_file is not None
        else "the plan JSON written to standard output"
    )
    console.print(
        f"Every one of the {len(plan.unallocated)} unallocated children, each with their "
        f'full reason, is in {where} (its "unallocated" list).'
    )
    first = unallocated_order(snapshot, policy, plan)[0].case
    if explain is not None:
        console.print(
            f"One child's reason, and who came nearest to taking them: "
            f"{escape(explain)} --case {escape(shlex.quote(first))}"
        )
    else:
        console.print(
            "One child's reason, and who came nearest to taking them: write the plan with "
            f"--out PLAN, then allocator explain PLAN --snapshot SNAPSHOT --case "
            f"{escape(shlex.quote(first))}"
        )


def assignments_table(plan: Plan) -> Table:
    """Each child the plan gives a worker: case, worker, the worker left, first reason."""
    table = Table(title=f"Assignments: {len(plan.assignments)}")
    for heading in ("case", "worker", "from", "why (first reason)"):
        table.add_column(heading)
    for a in plan.assignments:
        table.add_row(
            escape(a.case),
            escape(a.worker),
            escape(a.from_) if a.from_ is not None else "",
            escape(a.reasons[0]) if a.reasons else "",
        )
    return table


def plan_summary(
    plan: Plan,
    snapshot: Snapshot,
    policy: Policy,
    tiers: Sequence[Tier],
    console: Console,
    *,
    quiet: bool = False,
    warnings: Sequence[str] = (),
    plan_file: str | None = None,
    explain: str | None = None,
) -> None:
    """Print the per-worker loads before and after, the outcome, and the tier values.

    Only workers whose caseload changes (its count or its load: one case out and a
    heavier one in) are listed; the plan JSON has them all. Then, unless ``quiet``,
    every assignment with its first reason; the unallocated children, on a busy day
    counted with the most pressing shown (:func:`render_unallocated`: ``plan_file`` and
    ``explain`` say where the rest are); last, ``warnings`` (see
    :func:`allocator.present.analysis.staffing_warnings`), which ``quiet`` never hides.
    """
    changed = [
        w for w in plan.workers if w.cases_before != w.cases_after or w.load_before != w.load_after
    ]
    table = Table(title=f"Plan for {plan.as_of}: workers whose caseload changes")
    for heading in ("worker", "capacity", "load before", "load after", "cases", "utilisation"):
        table.add_column(heading, justify="left" if heading == "worker" else "right")
    for w in changed:
        share = percent(w.load_after, w.capacity)
        table.add_row(
            escape(w.id),
            f"{w.capacity:g}",
            f"{w.load_before:g}",
            f"{w.load_after:g}",
            f"{w.cases_before} -> {w.cases_after}",
            share,
        )
    if changed:
        console.print(table)

    moved = sum(1 for a in plan.assignments if a.from_ is not None)
    allocated = plan.objective.get("allocated", len(plan.assignments))
    proved = plan.proved or {}
    classes = [t for t in tiers if t.priority_class]
    placements_proved = bool(proved) and all(proved.get(t.key, False) for t in classes)
    console.print(
        f"[bold]{allocated}[/bold] allocated, [bold]{len(plan.unallocated)}[/bold] unallocated, "
        f"{counted(moved, 'change')} of worker; status [bold]{plan.status}[/bold], "
        f"{sum(proved.get(t.key, False) for t in tiers)} of {len(tiers)} tiers proved"
        + (
            " (no plan serves the priority classes better, class by class, by their "
            "waiting weights)"
            if placements_proved and plan.status != "optimal"
            else ""
        )
        + f"; {plan.solve_seconds:.2f} s"
    )
    if plan.assignments and not quiet:
        console.print(assignments_table(plan))
    render_unallocated(plan, snapshot, policy, console, plan_file=plan_file, explain=explain)
    console.print(tier_table(plan, tiers))
    render_exceptions(plan, console)
    if plan.handovers and not quiet:
        console.print(handovers_table(plan))
    render_notes(plan, warnings, console)


#: Rows of a rebalance's assignments the summary prints (the plan holds every one).
SHOWN_MOVES = 50
#: Over-cap warnings a summary prints one by one (the furthest over first); the rest
#: are counted in one line. A busy day's 103 filled 210 lines of a terminal.
SHOWN_OVER_CAP = 5


def render_notes(plan: Plan, warnings: Sequence[str], console: Console) -> None:
    """A summary's last lines: the plan's notes, then ``warnings``
    (:func:`allocator.present.analysis.staffing_warnings`), which no ``quiet`` hides:
    of the workers over their cap, the :data:`SHOWN_OVER_CAP` furthest over one by
    one and the rest counted (each is in the plan's ``workers`` and on the page)."""
    for note in plan.notes:
        console.print(f"note: {escape(note)}")
    over = [w for w in warnings if OVER_CAP in w]
    left = over[SHOWN_OVER_CAP:] if len(over) > SHOWN_OVER_CAP + 1 else []
    for warning in warnings:
        if warning not in left:
            console.print(f"[bold]warning:[/bold] {escape(warning)}")
    if left:
        console.print(
            f"[bold]warning:[/bold] {len(over)} workers are over their cap; the "
            f"{SHOWN_OVER_CAP} furthest over are above, and {len(left)} more: "
            f"{escape(', '.join(w.split(OVER_CAP, 1)[0] for w in left))} (each one's load is "
            "in the plan's workers list; allocator explain PLAN --snapshot SNAPSHOT "
            "--worker ID gives one worker's statement)"
        )


def handovers_table(plan: Plan) -> Table:
    """The plan's planned handovers: case, from, to, handover day, the day the worker
    goes, notice and first reason (docs/FORMAT.md "Planned handovers")."""
    table = Table(
        title=f"Handovers planned ahead: {len(plan.handovers)} (each a change of worker "
        "on its day; the child stays with their worker until then)",
        caption="leaves on: the worker's leaving date, or the first day of a long absence",
    )
    for heading in ("case", "from", "to", "handover day", "leaves on", "notice (days)"):
        table.add_column(heading, justify="right" if heading == "notice (days)" else "left")
    table.add_column("why (first reason)")
    for h in plan.handovers:
        table.add_row(
            escape(h.case),
            escape(h.from_),
            escape(h.worker),
            str(h.on),
            str(h.departs),
            str(h.notice_days),
            escape(h.reasons[0]) if h.reasons else "",
        )
    return table


def render_exceptions(plan: Plan, console: Console) -> None:
    """Print the plan's managed exceptions: cases a manager's pin keeps despite grade,
    and cases a manager gave a worker over their cap."""
    for e in plan.exceptions:
        how = "given to {} over cap" if e.waives == "capacity" else "stays with {}"
        console.print(
            f"managed exception: {escape(e.case)} {how.format(escape(e.worker))}: "
            f"{escape(e.reason)}"
        )


def tier_table(plan: Plan, tiers: Sequence[Tier]) -> Table:
    """The plan's objective tier by tier: aim, value, best possible, and whether proved."""
    proved = plan.proved or {}
    table = Table(
        title="Objectives, most important first",
        caption="best: what any plan could reach, with the rows above as they are",
    )
    for heading in ("objective", "aim", "value", "best", "proved"):
        table.add_column(heading, justify="left" if heading in ("objective", "aim") else "right")
    for tier in tiers:
        # A value with no bound known says so: a blank read as a missing figure.
        value = plan.objective.get(tier.key)
        bound = (plan.bound or {}).get(tier.key, "not known" if value is not None else "")
        is_proved = proved.get(tier.key)
        table.add_row(
            tier.label,
            "fewer" if tier.sense == "min" else "more",
            "" if value is None else f"{value}",
            f"{bound}",
            "" if is_proved is None else ("yes" if is_proved else "no"),
        )
    return table


def rebalance_summary(
    plan: Plan,
    snapshot: Snapshot,
    policy: Policy,
    tiers: Sequence[Tier],
    console: Console,
    *,
    quiet: bool = False,
    warnings: Sequence[str] = (),
    plan_file: str | None = None,
    explain: str | None = None,
) -> None:
    """Print a rebalance's moves and handovers (unless ``quiet``), its unallocated
    cases (:func:`render_unallocated`, with ``plan_file`` and ``explain``), its
    objective, its notes, and last ``warnings`` (see
    :func:`allocator.present.analysis.staffing_warnings`), which ``quiet`` never hides."""
    changes = sum(1 for a in plan.assignments if a.from_ is not None)
    moves = Table(
        title=f"Rebalance for {plan.as_of}: {counted(len(plan.assignments), 'assignment')} today, "
        f"{changes} of them a change of worker today (the rest had no worker)"
    )
    for heading in ("case", "from", "to", "reason"):
        moves.add_column(heading)
    for a in plan.assignments[:SHOWN_MOVES]:
        moves.add_row(
            escape(a.case),
            escape(a.from_ or "-"),
            escape(a.worker),
            escape(a.reasons[0]) if a.reasons else "",
        )
    if plan.assignments and not quiet:
        console.print(moves)
        if len(plan.assignments) > SHOWN_MOVES:
            where = f"the plan file {plan_file}" if plan_file else "the plan"
            console.print(
                f"The first {SHOWN_MOVES} of {len(plan.assignments)} assignments are above; "
                f"every one, with its reasons, is in {escape(where)} (its assignments)."
            )
    if plan.handovers and not quiet:
        console.print(handovers_table(plan))
    render_unallocated(plan, snapshot, policy, console, plan_file=plan_file, explain=explain)
    # The figures that are not tiers, each with its own label ("changes lower bound"
    # is a bound on the changes of worker, the tier shown in the table below). A bound
    # of 0 beside changes made is "not bounded yet": where the table's best column
    # bounds the tier, the line leaves it to the table (a fresh user read "no lower
    # bound known" above a table's bound of 30 as a contradiction).
    tier_bounded = (plan.bound or {}).get("changes_of_worker") is not None
    unbounded = plan.objective.get("changes_lower_bound") == 0 and bool(
        plan.objective.get("changes_of_worker")
    )
    left_out = {t.key for t in tiers} | (
        {"changes_lower_bound"} if unbounded and tier_bounded else set()
    )
    others = ", ".join(
        NO_CHANGES_BOUND
        if k == "changes_lower_bound" and unbounded
        else f"{OTHER_FIGURES.get(k, k.replace('_', ' '))}: {v}"
        for k, v in plan.objective.items()
        if k not in left_out
    )
    console.print(f"status [bold]{plan.status}[/bold]; {others}; {plan.solve_seconds:.2f} s")
    console.print(tier_table(plan, tiers))
    total = plan.objective.get("changes_of_worker")
    if total is not None:
        # The tier counts every change of worker of the plan once applied: today's
        # and the planned handovers' (docs/FORMAT.md "Planned handovers").
        console.print(
            f"children who change worker: {total} = {changes} today + "
            f"{counted(len(plan.handovers), 'planned handover')}"
            + (
                ""
                if total == changes + len(plan.handovers)
                else f" + {counted(int(total - changes) - len(plan.handovers), 'other')}"
            )
        )
    render_exceptions(plan, console)
    render_notes(plan, warnings, console)


#: A rebalance's ``changes_lower_bound`` of 0 beside changes made: nothing is bounded
#: until the tier of the children who must move is proved (a fresh user read "at
#: least 0" beside 5 changes as a contradiction).
NO_CHANGES_BOUND = "changes of worker in any best plan: no lower bound known"

#: Labels of a rebalance plan's figures that are not tiers.
OTHER_FIGURES = {
    "changes_lower_bound": "changes of worker in any best plan, handovers included, at least "
    "(a bound from the children who must move today and over-cap relief alone)",
    "unallocated": "children without a worker",
    "uncovered_absence": "children left with a long-absent worker",
    "over_cap_workers": "workers still over their cap",
}


def cap_cost_table(report: CapCost) -> Table:
    """What a policy would cost the service (``allocator rebalance`` with an override):
    each figure under the policy and, where measured, under today's policy and the
    difference, the policy's own cost (a fresh user read 65 children "who could not be
    held at all" as the override's cost, where most were the day's anyway)."""
    label = "extra FTE, no child moved"

    def figures(r: CapCost) -> dict[str, float]:
        out: dict[str, float] = {
            "children who must change worker": r.changes,
            "  of which moved off a worker over the cap": r.changes_for_cap,
            "children who could not be held at all": r.could_not_hold,
        }
        for reason, count in r.could_not_hold_by.items():
            out[f"  of which {reason.replace('_', ' ')}"] = count
        for grade, fte in r.extra_fte.items():
            out[f"{label}: {grade.value}"] = fte
        out[f"{label}: total"] = sum(r.extra_fte.values())
        return out

    mine = figures(report)
    base = figures(report.baseline) if report.baseline is not None else None
    # Every grade either policy needs FTE of, then the total, last.
    total = f"{label}: total"
    keys = [k for k in dict.fromkeys([*mine, *(base or {})]) if k != total] + [total]
    held_fewer = base is not None and (
        mine["children who must change worker"] < base["children who must change worker"]
        and mine["children who could not be held at all"]
        > base["children who could not be held at all"]
    )
    # Fewer changes of worker beside more children not held is no saving: those
    # children did not change worker because nobody could take them.
    t = Table(
        title="What this policy would cost",
        caption=(
            "fewer children change worker under this policy because more could not be "
            "held at all: not a saving"
            if held_fewer
            else None
        ),
    )
    t.add_column("measure")
    t.add_column("this policy", justify="right")
    if base is not None:
        t.add_column("today's policy", justify="right")
        t.add_column("difference", justify="right")
    for key in keys:
        fmt = "{:.2f}" if key.startswith(label) else "{:.0f}"
        cells = [key, fmt.format(mine.get(key, 0))]
        if base is not None:
            gap = mine.get(key, 0) - base.get(key, 0)
            cells += [fmt.format(base.get(key, 0)), ("+" if gap > 0 else "") + fmt.format(gap)]
        t.add_row(*cells)
    return t


# --------------------------------------------------------------------------------------
# Explanations, recommendations, checks and diffs (allocator explain / recommend / check
# / diff). Every value shown is escaped: ids and patch names are data, not rich markup.

#: How many ids a table cell lists before saying "and N more".
SHOWN = 10


def _ids(ids: Sequence[str], limit: int = SHOWN) -> str:
    """``"A, B, C and 4 more"``: ids for a table cell."""
    if len(ids) > limit:
        return f"{', '.join(ids[:limit])} and {len(ids) - limit} more"
    return ", ".join(ids)


def _value(value: object) -> str:
    return "" if value is None else f"{value}"


def render_violations(violations: Sequence[Violation], console: Console) -> None:
    """Print the result of :func:`allocator.explain.check.check_plan`: each violation,
    or that none."""
    if not violations:
        console.print(
            f"[bold green]valid[/bold green]: the plan breaks none of the {len(RULES)} rules "
            f"checked ({', '.join(RULES)})"
        )
        return
    table = Table(
        title=f"{counted(len(violations), 'violation')}: the plan breaks these hard rules"
    )
    for heading in ("rule", "case", "worker", "what is wrong"):
        table.add_column(heading)
    for v in violations:
        table.add_row(
            escape(v.rule), escape(v.case or ""), escape(v.worker or ""), escape(v.message)
        )
    console.print(table)


def render_stale(stale: Sequence[Violation], console: Console) -> None:
    """Print the plan's stale summaries (:func:`allocator.explain.check.stale_summaries`), if any.

    Printed apart from broken rules: a hand-edited plan whose totals were not updated
    breaks no rule.
    """
    if not stale:
        return
    table = Table(
        title=f"{counted(len(stale), 'stale summary figure')}: the plan's totals disagree with its "
        "placements (no rule is broken by this)"
    )
    for heading in ("summary", "worker", "what differs"):
        table.add_column(heading)
    for v in stale:
        table.add_row(escape(v.rule), escape(v.worker or ""), escape(v.message))
    console.print(table)


def render_analysis(analysis: PlanAnalysis, console: Console) -> None:
    """Print a plan's rule-by-rule analysis: hard rules, then tiers with their matches.

    A plan that breaks a hard rule says so on its first line, whatever status it
    claims (a fresh user read "status feasible" above a broken rule as a good plan)."""
    broken = [r for r in analysis.rules if r.count]
    console.print(
        f"Plan for {analysis.as_of}: status [bold]{_before_tag(analysis.status)}[/bold]; "
        f"{analysis.allocated} allocated, {analysis.unallocated} unallocated"
        + (f", {analysis.moved} moved today" if analysis.moved else "")
        + (f", {counted(analysis.handovers, 'handover')} planned" if analysis.handovers else "")
        + (
            f"; [bold]it breaks {counted(len(broken), 'hard rule')}[/bold] ("
            + ", ".join(f"{escape(r.rule)}: {r.count}" for r in broken)
            + "): not a plan to apply as it is"
            if broken
            else ""
        )
    )
    rules = Table(
        title="Hard rules (recomputed from the plan)"
        + (f": {counted(len(broken), 'rule')} broken" if broken else ": none broken")
    )
    rules.add_column("rule")
    rules.add_column("violations", justify="right")
    rules.add_column("first")
    for r in analysis.rules:
        first = r.violations[0].message if r.violations else ""
        rules.add_row(escape(r.rule), str(r.count), escape(first))
    console.print(rules)
    tiers = Table(title="Objective tiers, in priority order (recomputed from the plan)")
    # The summary's words: "fewer" / "more" and "best" (what any plan could reach).
    for heading in ("tier", "aim", "value", "plan says", "best", "behind it"):
        right = heading in ("value", "plan says", "best")
        tiers.add_column(heading, justify="right" if right else "left")
    for t in analysis.tiers:
        behind = [match_label(t.key, m) for m in t.matches]
        tiers.add_row(
            escape(t.label),
            "fewer" if t.sense == "min" else "more",
            _value(t.value),
            _value(t.reported),
            _value(t.bound),
            escape(_ids(behind)),
        )
    console.print(tiers)
    for t in analysis.tiers:
        if t.key in ("unallocated", "siblings_apart") and t.matches:
            detail = Table(title=f"{t.label}: detail")
            detail.add_column("what")
            detail.add_column("points", justify="right")
            detail.add_column("why")
            for m in t.matches[: SHOWN * 2]:
                detail.add_row(
                    escape(match_label(t.key, m)), str(m.points), escape(m.justification)
                )
            console.print(detail)
    if (analysis.moved or analysis.handovers) and analysis.objective:
        own = ", ".join(f"{k} {v}" for k, v in analysis.objective.items())
        console.print(f"the plan's own objective: {escape(own)}")
    render_stale(analysis.stale, console)
    for cid, why in analysis.exceptions:
        console.print(f"managed exception: {escape(cid)} {escape(why)}")
    for note in analysis.notes:
        console.print(f"note: {escape(note)}")


def render_worker(statement: WorkerStatement, console: Console) -> None:
    """Print one worker's workload statement under a plan."""
    s = statement
    console.print(
        f"[bold]{_before_tag(s.worker)}[/bold] ({escape(s.grade)}, "
        f"{escape(label_text(s.team))}, fte {s.fte:g})"
        + (f"; {escape(s.availability)}" if s.availability else "")
    )
    figures = Table(title="Workload")
    for heading in ("", "before", "after"):
        figures.add_column(heading, justify="left" if not heading else "right")
    figures.add_row("capacity (points)", f"{s.capacity:g}", f"{s.capacity:g}")
    figures.add_row("load (points)", f"{s.load_before:g}", f"{s.load_after:g}")
    figures.add_row(
        "utilisation", percent(s.load_before, s.capacity), percent(s.load_after, s.capacity)
    )
    figures.add_row("cases", str(s.cases_before), str(s.cases_after))
    console.print(figures)
    console.print(
        f"new families today: {len(s.new_families)} of at most {s.intake_limit}"
        + (f" ({escape(', '.join(s.new_families))})" if s.new_families else "")
    )
    if not s.cases:
        console.print("no cases after the plan")
    cases = Table(title="Cases after the plan")
    for heading in ("case", "type", "complexity", "weight", "change"):
        cases.add_column(
            heading, justify="right" if heading in ("complexity", "weight") else "left"
        )
    for c in s.cases:
        change = {
            "new": "new today",
            "kept": "",
            "no_handover": "no handover planned yet",
            "moved_in": f"moved in from {c.other_worker}",
            "handover_in": f"handed over from {c.other_worker} on {c.on}",
        }
        cases.add_row(
            escape(c.case),
            c.type,
            str(c.complexity),
            f"{c.weight:g}",
            escape(change.get(c.change, c.change)),
        )
    if s.cases:
        console.print(cases)
    if s.moved_off:
        off = Table(title="Cases leaving this worker")
        for heading in ("case", "type", "complexity", "weight", "goes to"):
            off.add_column(heading)
        for c in s.moved_off:
            off.add_row(
                escape(c.case),
                c.type,
                str(c.complexity),
                f"{c.weight:g}",
                escape(
                    f"{c.other_worker} (handover on {c.on})"
                    if c.change == "handover_off"
                    else c.other_worker or "unallocated"
                ),
            )
        console.print(off)
    if s.violations:
        render_violations(s.violations, console)


#: Short names of the tiers a single placement moves, for score cells.
_SHORT = {
    "siblings_apart": "siblings",
    "expected_changes": "look-ahead",
    "previous_worker_returns": "previous",
    "balance": "balance",
    "outside_area": "outside",
}


def _score_text(score: dict[str, int] | None) -> str:
    """``"siblings 0, look-ahead 32, previous 1, balance 12, outside 0"``: a placement's
    tier score."""
    if not score:
        return ""
    return ", ".join(f"{_SHORT.get(k, k)} {v}" for k, v in score.items())


def render_case(explanation: CaseExplanation, console: Console) -> None:
    """Print why one case went where it did (or nowhere), and why not elsewhere."""
    e = explanation
    # Who comes first and how long they have waited, beside what the case is: a fresh
    # manager read "care_leaver, complexity 3" for an urgent child and no word of it.
    waited = "" if e.days_waiting is None else f", waited {counted(e.days_waiting, 'day')}"
    console.print(
        f"[bold]{_before_tag(e.case)}[/bold]: {e.type}, complexity {e.complexity}, weight "
        f"{e.weight:g} points, family {escape(e.family)}; {e.priority} priority, class "
        f"{escape(e.priority_class.replace('_', ' '))}{waited}"
    )
    outcome = {
        "allocated": f"allocated to {e.worker_after}",
        "moved": f"moved from {e.worker_before} to {e.worker_after}",
        "handover": f"stays with {e.worker_before}, then handed over to {e.worker_after}",
        "unallocated": f"left unallocated ({e.code})",
        "missing": f"needs a worker but the plan does not list it ({e.code})",
        "kept": f"stays with {e.worker_before}; " + (e.no_handover or "the plan does not move it"),
        "invalid": "the plan's assignment of it breaks the rules (see the violations)",
    }[e.outcome]
    console.print(f"outcome: {escape(outcome)}")
    if e.head_start:
        console.print(
            f"head start: their class counts {e.head_start} days more than they have "
            "waited (policy waiting.type_weeks for the case's type, "
            "waiting.lost_worker_weeks for a child who lost their worker)"
        )
    if e.needs_worker and e.worker_before is not None:
        console.print(f"needs a worker: {escape(e.needs_worker)}")
    if e.exception:
        console.print(f"managed exception: {escape(e.exception)}")
    for reason in e.reasons:
        console.print(f"  - {escape(reason)}")
    if e.diagnosis:
        console.print(f"  - {escape(e.diagnosis)}")
    if len(e.colliding_rules) > 1:
        console.print(f"rules collide: {escape(' and '.join(e.colliding_rules))}")
    elif e.colliding_rules:
        console.print(f"blocking rule: {escape(e.colliding_rules[0])}")
    if e.plan_agrees is False:
        said = f" (code {e.plan_code})" if e.plan_code else ""
        console.print(f"note: the plan states other reasons{escape(said)} than these")
    if e.score:
        console.print(f"score of this placement: {escape(_score_text(e.score))}")
    if e.alternatives and e.outcome == "kept":
        table = Table(title=f"Alternatives to {escape(e.worker_before or '')}, best first")
        for heading in ("worker", "score", "reasons"):
            table.add_column(heading)
        for a in e.alternatives:
            table.add_row(
                escape(a.worker), escape(_score_text(a.score)), escape("; ".join(a.reasons))
            )
        console.print(table)
    elif e.alternatives:
        title = (
            "Next-best workers, and why not chosen"
            if any(a.eligible for a in e.alternatives)
            else "Nobody may take the child: the nearest misses, and why not"
        )
        table = Table(title=title)
        for heading in ("worker", "score", "why not"):
            table.add_column(heading)
        for a in e.alternatives:
            table.add_row(
                escape(a.worker), escape(_score_text(a.score)), escape("; ".join(a.why_not))
            )
        console.print(table)
    if e.violations:
        render_violations(e.violations, console)


def render_recommendation(rec: Recommendation, console: Console) -> None:
    """Print the ranked workers for one case and the nearest misses with why not."""
    if rec.planned is not None:
        # The plan in force places the child today: said, so that "nobody else" is
        # not read as the child left without a worker.
        held = f" besides {rec.planned}, to whom the plan in force gives it today"
    elif rec.current_worker and not rec.needs_worker:
        held = f" besides its current worker {rec.current_worker}"
    else:
        held = ""
    console.print(
        f"[bold]{_before_tag(rec.case)}[/bold]: {rec.type}, complexity {rec.complexity}, weight "
        f"{rec.weight:g} points, family {escape(rec.family)}; "
        f"{counted(rec.eligible_count, 'eligible worker')}{escape(held)}"
    )
    if (h := rec.handover) is not None:
        console.print(
            f"a handover is already planned: {escape(h.from_)} to {escape(h.worker)} on {h.on} "
            f"({notice(h.notice_days)}); the workers below are alternatives to it"
        )
    if rec.ranked:
        table = Table(title="Eligible workers, best first")
        for heading in ("#", "worker", "score", "reasons"):
            table.add_column(heading)
        for i, c in enumerate(rec.ranked, 1):
            table.add_row(
                str(i), escape(c.worker), escape(_score_text(c.score)), escape("; ".join(c.reasons))
            )
        console.print(table)
    else:
        rules = rec.colliding_rules
        who = "nobody else" if held else "nobody"
        if len(rules) > 1:
            console.print(
                f"{who} may take it today; rules collide: {escape(' and '.join(rules))} (every "
                f"{'other ' if held else ''}worker is stopped by at least one of them)"
            )
        elif rules:
            console.print(f"{who} may take it today: {escape(rules[0])} rule")
        else:
            console.print(f"{who} may take it today: nobody on the staff list is still here")
    if rec.ineligible:
        table = Table(title="Best ineligible workers, and why not")
        for heading in ("worker", "rules", "why not"):
            table.add_column(heading)
        for c in rec.ineligible:
            table.add_row(
                escape(c.worker),
                escape(", ".join(dict.fromkeys(b.rule for b in c.blockers))),
                escape("; ".join(b.message for b in c.blockers)),
            )
        console.print(table)


def render_diff(diff: PlanDiff, console: Console) -> None:
    """Print the cases two plans treat differently and their tiers side by side."""
    if diff.changes:
        table = Table(title=f"{counted(len(diff.changes), 'case')} treated differently")
        for heading in ("case", "plan A", "plan B", "difference"):
            table.add_column(heading)
        words = {
            "different_worker": "different worker",
            "allocated_only_in_a": "allocated only in A",
            "allocated_only_in_b": "allocated only in B",
            "moved_only_in_a": "moved only in A (B keeps its worker)",
            "moved_only_in_b": "moved only in B (A keeps its worker)",
            "different_handover": "different handover",
            "handover_only_in_a": "handed over only in A (B leaves it with its worker)",
            "handover_only_in_b": "handed over only in B (A leaves it with its worker)",
        }

        def side(worker: str | None, on: date | None, unallocated: bool) -> str:
            if worker is None:
                return "unallocated" if unallocated else "keeps its worker"
            return worker if on is None else f"{worker} from {on.isoformat()}"

        for c in diff.changes:
            a = side(c.a, c.a_on, c.kind == "allocated_only_in_b")
            b = side(c.b, c.b_on, c.kind == "allocated_only_in_a")
            table.add_row(escape(c.case), escape(a), escape(b), words.get(c.kind, c.kind))
        console.print(table)
    else:
        console.print("the plans place every case alike")
    source = "recomputed from the snapshot" if diff.recomputed else "as the plans report them"
    tiers = Table(title=f"Objective tiers, {source}")
    for heading in ("tier", "plan A", "plan B", "better"):
        tiers.add_column(heading, justify="left" if heading == "tier" else "right")
    for t in diff.tiers:
        better = {"a": "A", "b": "B", "same": "="}.get(t.better or "", "")
        tiers.add_row(escape(t.label), _value(t.a), _value(t.b), better)
    console.print(tiers)
    for name, broken in (("A", diff.broken_a), ("B", diff.broken_b)):
        if broken:
            # As explain's first line says it: the rules broken, each with its count
            # (a fresh user's 120 were five conservation sentences and "115 more").
            by_rule = Counter(b.split(":", 1)[0] for b in broken)
            rules = ", ".join(f"{r}: {n}" for r, n in by_rule.items())
            shown = first_breaks(
                list(broken),
                "... and {n} more (is it a plan of this snapshot? allocator check lists them all)",
            )
            console.print(
                f"plan {name} breaks {counted(len(by_rule), 'hard rule')} ({escape(rules)}) "
                f"against the snapshot: {escape('; '.join(shown))}"
            )
    if diff.broken_a or diff.broken_b:
        console.print(
            "better: neither plan keeps the hard rules"
            if diff.better is None
            else f"better: plan {diff.better.upper()}, the only one within the hard rules"
        )
    elif diff.better is not None:
        overall = {"a": "plan A", "b": "plan B", "same": "neither (equal on every tier)"}
        console.print(f"better by the tiers in priority order: {overall[diff.better]}")
    for note in diff.notes:
        console.print(f"note: {escape(note)}")
