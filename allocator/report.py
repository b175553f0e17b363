"""Readable summaries of a plan for people (rich tables on a terminal)."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from allocator.models import Plan
from allocator.objectives import TIERS


def plan_summary(plan: Plan, console: Console) -> None:
    """Print the per-worker loads before and after, the outcome, and the tier values.

    Only workers whose caseload changes are listed; the plan JSON has them all.
    """
    changed = [w for w in plan.workers if w.cases_before != w.cases_after]
    table = Table(title=f"Plan for {plan.as_of}: workers whose caseload changes")
    for heading in ("worker", "capacity", "load before", "load after", "cases", "utilisation"):
        table.add_column(heading, justify="left" if heading == "worker" else "right")
    for w in changed:
        share = f"{w.load_after / w.capacity:.0%}" if w.capacity else "-"
        table.add_row(
            w.id,
            f"{w.capacity:g}",
            f"{w.load_before:g}",
            f"{w.load_after:g}",
            f"{w.cases_before} -> {w.cases_after}",
            share,
        )
    if changed:
        console.print(table)

    allocated = len(plan.assignments)
    console.print(
        f"[bold]{allocated}[/bold] allocated, [bold]{len(plan.unallocated)}[/bold] unallocated; "
        f"status [bold]{plan.status}[/bold], gap {plan.gap or 0:.2%}, "
        f"{plan.solve_seconds:.2f} s"
    )
    if plan.unallocated:
        lost = Table(title="Unallocated: action needed")
        lost.add_column("case")
        lost.add_column("code")
        lost.add_column("reason")
        for u in plan.unallocated:
            lost.add_row(u.case, u.code.value, u.reason)
        console.print(lost)
    tiers = Table(title="Objective tiers (in priority order)")
    tiers.add_column("tier")
    tiers.add_column("value", justify="right")
    tiers.add_column("proved bound", justify="right")
    for tier in TIERS:
        bound = plan.bound.get(tier.key, "") if plan.bound else ""
        tiers.add_row(tier.label, f"{plan.objective.get(tier.key, '')}", f"{bound}")
    console.print(tiers)
    for note in plan.notes:
        console.print(f"note: {note}")
