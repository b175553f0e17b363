"""``allocator report``: one self-contained HTML file (no script, nothing fetched)."""

from __future__ import annotations

import re
from pathlib import Path

from builders import case, snapshot, worker
from click.testing import CliRunner

from allocator.cli import main
from allocator.contract.policy import Policy
from allocator.io import write_json, write_snapshot
from allocator.present.html_report import render_report
from allocator.problems.daily import allocate


def test_report_is_self_contained_and_escaped() -> None:
    snap = snapshot([worker("A"), worker("<i>B</i>")], [case("R1"), case("R&2")])
    plan = allocate(snap, Policy(), work_units=1.0)
    text = render_report(snap, Policy(), plan)
    assert text.startswith("<!DOCTYPE html>") and "<svg" in text and "<style>" in text
    assert "<i>B</i>" not in text and "&lt;i&gt;B&lt;/i&gt;" in text and "R&amp;2" in text
    assert "<script" not in text and "<link" not in text
    # The only URL is the SVG namespace; nothing is fetched to open the file.
    assert set(re.findall(r"https?://[^\"' ]+", text)) == {"http://www.w3.org/2000/svg"}
    assert not re.search(r"\s(src|href)=\"(https?:)?//", text)


def test_a_rebalance_plans_report_shows_the_rebalance_tiers_and_what_it_left() -> None:
    """A fresh user's report of a rebalance dropped four of its ten tiers, showed a daily
    tier it does not report, and advised a rebalance for the children it had just left
    with an absent worker."""
    from datetime import timedelta
    from html import escape

    from allocator.domain.objectives import rebalance_tiers
    from allocator.problems.rebalancing import rebalance
    from tests.builders import AS_OF

    away = worker("A", available_from=AS_OF + timedelta(days=120))
    snap = snapshot([away, worker("B", capacity_points=0)], [case("C1", worker="A")])
    plan = rebalance(snap, Policy(), work_units=1.0)
    text = render_report(snap, Policy(), plan)
    shown = [t.label for t in rebalance_tiers(Policy()) if t.key in plan.objective]
    assert len(shown) == len(rebalance_tiers(Policy()))
    assert all(escape(label) in text for label in shown)
    assert "children back with a worker they know" not in text
    assert "A is absent until" in text
    assert "nobody the rules allow had room for them in this rebalance" in text
    assert "allocator rebalance covers them" not in text


def test_report_command_writes_the_file(tmp_path: Path) -> None:
    snap = snapshot([worker("A")], [case("R1")])
    write_snapshot(snap, tmp_path / "s.json")
    write_json(tmp_path / "plan.json", allocate(snap, Policy(), work_units=1.0))
    out = tmp_path / "report.html"
    result = CliRunner().invoke(
        main,
        [
            "report",
            str(tmp_path / "plan.json"),
            "--snapshot",
            str(tmp_path / "s.json"),
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "Allocation plan for 2026-11-23" in out.read_text()
    again = CliRunner().invoke(
        main,
        [
            "report",
            str(tmp_path / "plan.json"),
            "--snapshot",
            str(tmp_path / "s.json"),
            "--out",
            str(tmp_path / "s.json"),
        ],
    )
    assert again.exit_code == 2  # never over an input


def test_serve_refuses_other_hosts_without_a_token() -> None:
    result = CliRunner().invoke(
        main, ["serve", "x.json", "--host", "0.0.0.0"], env={"ALLOCATOR_TOKEN": ""}
    )
    assert result.exit_code == 2 and "needs a token (ALLOCATOR_TOKEN)" in result.output
