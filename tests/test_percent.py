"""Utilisation as people read it: a worker below their cap never reads 100%, nor one above.

A fresh team manager read "100%" of a worker at 99.75 of 100 points, beside "99%" at
99.4: a worker with room looked full. :func:`allocator.contract.units.percent` shows
whole percents except near the cap, and every table and sentence of the command line,
the page and the report that gives a share of capacity uses it.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from allocator.cli import main
from allocator.contract.models import Snapshot
from allocator.contract.units import percent
from allocator.io import write_json
from tests.builders import case, snapshot, worker


@pytest.mark.parametrize(
    ("load", "cap", "shown"),
    [
        (99.4, 100, "99%"),  # below, far enough: whole
        (99.5, 100, "99.5%"),  # below, would round to 100: a tenth
        (99.75, 100, "99.8%"),  # the reported worker
        (99.99, 100, "99.9%"),  # below by a hundredth: never 100.0
        (100, 100, "100%"),  # at the cap, and only there
        (100.01, 100, "100.1%"),  # above by a hundredth: never 100.0
        (100.25, 100, "100.2%"),  # above, would round to 100
        (100.6, 100, "101%"),  # above, far enough: whole
        (9999.99, 10_000, "99.9%"),  # the largest cap the format allows
        (3, 0, "-"),  # no cap
    ],
)
def test_a_share_of_capacity_reads_100_only_at_the_cap(load: float, cap: float, shown: str) -> None:
    assert percent(load, cap) == shown


@given(
    cap=st.integers(min_value=1, max_value=1_000_000),  # centi-points, up to 10,000 points
    load=st.integers(min_value=0, max_value=2_000_000),
)
def test_below_reads_below_and_above_reads_above(cap: int, load: int) -> None:
    figure = float(percent(load, cap).rstrip("%"))
    if load < cap:
        assert figure < 100
    elif load > cap:
        assert figure > 100
    else:
        assert percent(load, cap) == "100%"


def near_the_cap() -> Snapshot:
    """P1, the only Welsh speaker (cap 100), holds C1 (93.75 points); the plan gives
    them R (Welsh, 3 points): 96.75. H (3 points) is P2's; with P1 as well, P1 would
    end at 99.75."""
    return snapshot(
        [worker("P1", skills=("welsh",)), worker("P2")],
        [
            case("C1", worker="P1", weight=93.75),
            case("R", needs=("welsh",)),
            case("H", worker="P2"),
        ],
    )


def test_every_display_of_utilisation_reads_99_8_not_100(tmp_path: Path) -> None:
    # The allocation's table of loads and the workload statement, for 99.75 of 100.
    snap = near_the_cap().model_copy(
        update={"cases": (*near_the_cap().cases, case("R2", needs=("welsh",)))}
    )
    files = {"snapshot": tmp_path / "s.json", "plan": tmp_path / "plan.json"}
    write_json(files["snapshot"], snap)
    env = {"COLUMNS": "300"}
    runner = CliRunner()
    # R and R2 (3 each) both go to P1: 93.75 + 6 = 99.75.
    made = runner.invoke(
        main,
        ["allocate", str(files["snapshot"]), "--work-units", "1", "--out", str(files["plan"])],
        env=env,
    )
    assert made.exit_code == 0, made.output
    (row,) = [line for line in made.stderr.splitlines() if line.startswith("│ P1")]
    assert "99.8%" in row and "100%" not in row
    statement = runner.invoke(
        main,
        ["explain", str(files["plan"]), "--snapshot", str(files["snapshot"]), "--worker", "P1"],
        env=env,
    )
    assert statement.exit_code == 0, statement.output
    (figures,) = [line for line in statement.output.splitlines() if "utilisation" in line]
    assert "94%" in figures and "99.8%" in figures and "100%" not in figures


def test_recommend_and_explain_say_99_8_of_a_worker_with_a_quarter_point_spare(
    tmp_path: Path,
) -> None:
    # Once the plan gives R to P1 (96.75), H (3 points, P2's) would end P1 at 99.75:
    # recommend's reasons (the page's alternatives read them) and explain's
    # alternatives to a child's worker.
    files = {"snapshot": tmp_path / "s.json", "plan": tmp_path / "plan.json"}
    write_json(files["snapshot"], near_the_cap())
    runner, env = CliRunner(), {"COLUMNS": "300"}
    made = runner.invoke(
        main,
        ["allocate", str(files["snapshot"]), "--work-units", "1", "--out", str(files["plan"])],
        env=env,
    )
    assert made.exit_code == 0, made.output
    common = ["--snapshot", str(files["snapshot"])]
    rec = runner.invoke(
        main, ["recommend", str(files["snapshot"]), "H", "--plan", str(files["plan"])], env=env
    )
    assert rec.exit_code == 0, rec.output
    assert "3.25 points spare; would end at 99.8% of capacity" in rec.output
    why = runner.invoke(main, ["explain", str(files["plan"]), *common, "--case", "H"], env=env)
    assert why.exit_code == 0, why.output
    assert "3.25 points spare; would end at 99.8% of capacity" in why.output
    assert "100% of capacity" not in why.output
