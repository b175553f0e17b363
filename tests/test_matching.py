"""Skills, needs and areas match ignoring case and surrounding spaces; commas warned.

FORMAT.md: ``needs`` are matched to ``skills`` ignoring case and surrounding spaces.
Instances: one worker, one referral of 3 points.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from allocator import Policy, allocate, check_plan
from allocator.cli import main
from allocator.domain.objectives import outside_area
from allocator.domain.rules import ServiceState, holding_blockers, normalised
from allocator.io import load_snapshot
from allocator.problems.recommend import recommend
from tests.builders import case, snapshot, worker


@pytest.mark.parametrize(
    ("need", "skill", "match"),
    [
        ("Welsh", "welsh", True),
        ("welsh", " WELSH ", True),
        ("welsh", "welsh-speaking", False),  # only case and outer spaces are ignored
        ("court welsh", "court", False),
    ],
)
def test_needs_match_skills(need: str, skill: str, match: bool) -> None:
    snap = snapshot([worker("P1", skills=(skill,))], [case("R1", needs=(need,))])
    state = ServiceState.of(snap, Policy())
    assert (holding_blockers(state.cases["R1"], state.practitioners["P1"], Policy()) == []) is match
    plan = allocate(snap, Policy(), time_limit=5)
    # The family needing "Welsh" is no longer left unallocated while P1 has "welsh".
    assert [a.worker for a in plan.assignments] == (["P1"] if match else [])
    assert check_plan(snap, Policy(), plan) == []
    assert (recommend(snap, "R1").eligible_count == 1) is match


def test_a_worker_holding_a_case_with_differently_written_need_keeps_it() -> None:
    # C1 (held by P1) needs "Court "; P1 has "court": no rule is broken, nothing moves.
    snap = snapshot([worker("P1", skills=("court",))], [case("C1", worker="P1", needs=("Court ",))])
    assert ServiceState.of(snap, Policy()).to_allocate == []


@pytest.mark.parametrize(
    ("area", "patch", "outside"), [("Patch 1", " patch 1", False), ("Patch 1", "Patch 2", True)]
)
def test_areas_match_the_same_way(area: str, patch: str, outside: bool) -> None:
    snap = snapshot([worker("P1", areas=(patch,))], [case("R1", area=area)])
    state = ServiceState.of(snap, Policy())
    assert outside_area(state, "R1", "P1") is outside
    ranked = recommend(snap, "R1").ranked
    assert ranked[0].score["outside_area"] == int(outside)


def test_normalised_is_the_one_definition() -> None:
    assert normalised("  Welsh\t") == "welsh" == normalised("WELSH")


def write_csv_snapshot(directory: Path, skills_cell: str) -> Path:
    directory.mkdir()
    (directory / "snapshot.csv").write_text("format,as_of\ncaseload-snapshot/1,2026-11-23\n")
    (directory / "practitioners.csv").write_text(
        f"id,team,grade,fte,skills\nP1,North,senior,1,{skills_cell}\nP2,North,senior,1,welsh\n"
    )
    (directory / "cases.csv").write_text("id,family,type,complexity,needs\nR1,F1,court,2,welsh\n")
    return directory


def test_a_comma_in_a_csv_list_cell_is_a_warning_naming_the_cell(tmp_path: Path) -> None:
    # "court, welsh" (quoted, one cell) is read as one skill: a warning names line 2, P1.
    directory = write_csv_snapshot(tmp_path / "snap", '"court, welsh"')
    warnings: list[str] = []
    snap = load_snapshot(directory, warnings=warnings)
    assert snap.practitioners[0].skills == ("court, welsh",)
    assert [w for w in warnings if not _left_out(w)] == [
        f"{directory / 'practitioners.csv'}, line 2 (id P1): the 'skills' cell holds a comma; "
        "list items are separated by ';', so it was read as 1 item"
    ]
    result = CliRunner().invoke(main, ["recommend", str(directory), "R1", "--json"])
    assert result.exit_code == 0
    assert "warning: " in result.stderr and "line 2 (id P1)" in result.stderr
    assert "court, welsh" not in result.stderr  # the cell's text is not quoted back


def test_no_warning_for_semicolons(tmp_path: Path) -> None:
    warnings: list[str] = []
    snap = load_snapshot(write_csv_snapshot(tmp_path / "snap", "court;welsh"), warnings=warnings)
    assert [w for w in warnings if not _left_out(w)] == []
    assert snap.practitioners[0].skills == ("court", "welsh")


def _left_out(warning: str) -> bool:
    """A warning of a column this minimal CSV leaves out (``worker``, ``leaving_on`` ...),
    which these tests are not about."""
    return ": no '" in warning and "' column: " in warning
