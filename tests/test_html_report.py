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
