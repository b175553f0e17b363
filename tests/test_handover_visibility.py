"""Planned handovers visible to a manager: the rebalance summary, the HTML report,
the figures that count changes of worker, and ``explain --case`` for a departing
worker's child with no handover.

Hand-checkable services. AS_OF is Monday 2026-11-23; P1 leaves on Friday 2026-12-11,
so a handover is on Thursday 2026-12-10 with 17 days' notice.
"""

from __future__ import annotations

from datetime import date

from rich.console import Console

from allocator.contract.models import Plan, Snapshot
from allocator.contract.policy import Policy
from allocator.domain.objectives import rebalance_tiers
from allocator.present.analysis import explain_case
from allocator.present.html_report import render_report
from allocator.present.terminal import rebalance_summary, render_case
from allocator.problems.rebalancing import rebalance
from tests.builders import case, snapshot, worker

LEAVES = date(2026, 12, 11)


def _leaver_plan() -> tuple[Plan, Snapshot, Policy]:
    """P1 leaves holding C1 (3 points); P2 is empty and takes it: one handover, no
    assignment today, so the tier "children who change worker" is 1 = 0 + 1."""
    snap = snapshot(
        [worker("P1", leaving_on=LEAVES), worker("P2")],
        [case("C1", family="F1", worker="P1")],
    )
    policy = Policy()
    return rebalance(snap, policy, time_limit=10), snap, policy


def _printed(plan: Plan, snap: Snapshot, policy: Policy) -> str:
    console = Console(record=True, width=250, emoji=False)
    rebalance_summary(plan, snap, policy, rebalance_tiers(policy), console)
    return console.export_text()


def test_rebalance_summary_lists_each_handover() -> None:
    plan, snap, policy = _leaver_plan()
    assert [(h.case, h.from_, h.worker) for h in plan.handovers] == [("C1", "P1", "P2")]
    text = _printed(plan, snap, policy)
    assert "Handovers planned ahead: 1" in text
    row = next(line for line in text.splitlines() if "│ C1 " in line)
    for cell in ("P1", "P2", "2026-12-10", "2026-12-11", "17", "P1 leaves on 2026-12-11"):
        assert cell in row


def test_rebalance_summary_says_what_each_change_figure_counts() -> None:
    plan, snap, policy = _leaver_plan()
    text = _printed(plan, snap, policy)
    # The tier counts the handover; the line under the table says so.
    assert plan.objective["changes_of_worker"] == 1
    assert "children who change worker: 1 = 0 today + 1 planned handover" in text
    # The lower bound says what it bounds.
    assert "changes of worker in any best plan, handovers included, at least" in text
    # The manager's rule's note compares like with like.
    note = next(n for n in plan.notes if "manager's rule" in n)
    assert "(0 today + 1 planned handover)" in note
    assert "For comparison, the manager's rule" in note
    assert "makes 1 changes of worker" in note and "leaves 0 such children unplaced" in note


def test_html_report_has_a_handovers_section_escaped() -> None:
    plan, snap, policy = _leaver_plan()
    h = plan.handovers[0]
    plan = plan.model_copy(update={"handovers": (h.model_copy(update={"reasons": ("<b>x</b>",)}),)})
    html = render_report(snap, policy, plan)
    assert "<h2>Handovers planned ahead</h2>" in html
    assert "<td>C1</td><td>P1</td><td>P2</td><td>2026-12-10</td><td>2026-12-11</td>" in html
    assert "&lt;b&gt;x&lt;/b&gt;" in html and "<b>x</b>" not in html
    assert "1 handover planned ahead" in html


def test_explain_a_departing_workers_child_with_no_handover() -> None:
    # P1 leaves holding C1 and C2 (3 points each, families F1 and F2). P2 (cap 6)
    # holds C9 (3 points): room for one of them. One is handed over to P2; the other
    # has no handover, and once the plan is applied P2 has 0 points spare (before
    # it, 3.0 spare).
    snap = snapshot(
        [worker("P1", leaving_on=LEAVES), worker("P2", capacity_points=6.0)],
        [
            case("C1", family="F1", worker="P1"),
            case("C2", family="F2", worker="P1"),
            case("C9", family="F9", worker="P2"),
        ],
    )
    policy = Policy()
    plan = rebalance(snap, policy, time_limit=10)
    assert len(plan.handovers) == 1
    left = ({"C1", "C2"} - {plan.handovers[0].case}).pop()
    e = explain_case(snap, policy, plan, left)
    assert e.outcome == "kept"
    assert e.no_handover is not None
    assert e.no_handover.startswith("P1 leaves on 2026-12-11; no handover planned: ")
    assert "has no room after this plan (P2 0.0 spare)" in e.no_handover
    (alt,) = [a for a in e.alternatives if a.worker == "P2"]
    # The room before the plan is replaced, not kept beside the room once applied.
    assert not any("3.0 points spare" in r for r in alt.reasons)
    assert any(
        r.startswith("once this plan is applied: P2 has 0.0 points spare") for r in alt.reasons
    )
    console = Console(record=True, width=250, emoji=False)
    render_case(e, console)
    text = console.export_text()
    assert "stays with P1; P1 leaves on 2026-12-11; no handover planned:" in text
