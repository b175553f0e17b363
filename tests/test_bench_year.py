"""``python -m benchmarks.year``: its table from fake summaries, its targets, its options."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from allocator.contract.policy import Policy
from allocator.io import load_policy
from allocator.simulation.report import CHILD_FIGURES
from benchmarks.__main__ import PARTS
from benchmarks.year import (
    TARGETS,
    Spread,
    Target,
    csv_rows,
    main,
    render_table,
    sweep_cells,
    tally,
    year_table,
)
from tests.processes import wait_for_a_busy_child


def _summary(service: str, seed: int, method: str, **values: float | None) -> dict[str, Any]:
    row: dict[str, Any] = {"service": service, "seed": seed, "method": method}
    row.update({f.key: 1.0 for f in CHILD_FIGURES})
    row.update({"court_waits": 10, "leaver_children_known_ahead": 10})
    row.update(values)
    return row


def _row(table: list[Any], service: str, key: str) -> Any:
    return next(r for r in table if r.service == service and r.figure.key == key)


def test_the_table_gives_means_spreads_ratios_and_targets() -> None:
    # Court median: engine 60 and 80 over two seeds (mean 70, 60-80), greedy 100 and
    # 100: ratio 0.70 <= 0.8, met. Told ahead: engine 85% and 95% (mean 90%): met, as
    # the target is a share (>= 90%), not a ratio. Worker-days over cap: engine 30
    # against greedy 20: not met.
    rows = [
        _summary(
            "steady-60",
            1,
            "engine",
            court_wait_median_days=60,
            leaver_children_told_ahead_share=0.85,
            worker_days_over_cap=30,
        ),
        _summary(
            "steady-60",
            2,
            "engine",
            court_wait_median_days=80,
            leaver_children_told_ahead_share=0.95,
            worker_days_over_cap=30,
        ),
        _summary("steady-60", 1, "greedy", court_wait_median_days=100, worker_days_over_cap=20),
        _summary("steady-60", 2, "greedy", court_wait_median_days=100, worker_days_over_cap=20),
    ]
    table = year_table(rows, ["steady-60"])
    assert [r.figure.key for r in table] == [f.key for f in CHILD_FIGURES]
    court = _row(table, "steady-60", "court_wait_median_days")
    assert court.engine == Spread(70.0, 60.0, 80.0, 2)
    assert court.ratio == pytest.approx(0.7)
    assert court.met is True
    told = _row(table, "steady-60", "leaver_children_told_ahead_share")
    assert told.engine.mean == pytest.approx(0.9) and told.met is True
    over = _row(table, "steady-60", "worker_days_over_cap")
    assert over.ratio == pytest.approx(1.5) and over.met is False
    notice = _row(table, "steady-60", "mean_notice_days_leaver_absence")
    assert notice.target is None and notice.met is None
    lines = render_table(table)
    assert "| steady-60 | court children, median wait for a worker (days) | 70 (60–80) |" in (
        "\n".join(lines)
    )
    assert any("| 1.50 | <= greedy | **not met** |" in line for line in lines)
    # 10 figures have a target. The rest are 1.0 against 1.0: "<= greedy" is met
    # (urgent child-days, mean wait), a ratio below 1 is not (court p90, statutory
    # median and p90, a leaver's child's days, changes). With the court median and
    # the told-ahead share met and over cap not: 4 of 10.
    assert tally(table) == "targets met: 4 of 10"


def test_a_seed_with_no_value_is_left_out_of_the_mean() -> None:
    # Seed 1 had no court waits (median None): the mean is seed 2's alone. A share of
    # nobody (no leaver's child known ahead: summarise gives None) is no value either.
    nobody = {"leaver_children_known_ahead": 0, "leaver_children_told_ahead_share": None}
    rows = [
        _summary("slack-40", 1, "engine", court_wait_median_days=None),
        _summary("slack-40", 2, "engine", court_wait_median_days=12),
        _summary("slack-40", 1, "greedy", **nobody),
        _summary("slack-40", 2, "greedy", **nobody),
    ]
    table = year_table(rows, ["slack-40"])
    assert _row(table, "slack-40", "court_wait_median_days").engine == Spread(12.0, 12.0, 12.0, 1)
    told = _row(table, "slack-40", "leaver_children_told_ahead_share")
    assert told.greedy == Spread(None, None, None, 0) and told.ratio is None
    assert "n/a" in "\n".join(render_table(table))


def test_targets_as_issue_19_states_them() -> None:
    assert TARGETS["court_wait_median_days"] == Target("at_most", 0.8)
    assert TARGETS["statutory_wait_p90_days"] == Target("at_most", 0.8)
    assert TARGETS["changes_per_child_year"].words() == "<= 0.95x greedy"
    assert TARGETS["leaver_children_told_ahead_share"].words() == ">= 90%"
    assert TARGETS["urgent_child_days_waiting"].words() == "<= greedy"
    # Zero against zero meets "<= greedy"; a ratio target with no greedy value is unknown.
    assert Target("at_most", 1.0).met(0, 0) is True
    assert Target("at_most", 0.5).met(3, None) is None
    assert set(TARGETS) <= {f.key for f in CHILD_FIGURES}


def test_csv_rows_carry_every_figure() -> None:
    rows = [_summary("steady-60", 1, m) for m in ("engine", "greedy")]
    lines = csv_rows(year_table(rows, ["steady-60"]))
    assert len(lines) == len(CHILD_FIGURES)
    assert lines[0] == {
        "service": "steady-60",
        "figure": "court_wait_median_days",
        "engine_mean": 1.0,
        "engine_min": 1.0,
        "engine_max": 1.0,
        "engine_seeds": 1,
        "greedy_mean": 1.0,
        "greedy_min": 1.0,
        "greedy_max": 1.0,
        "greedy_seeds": 1,
        "ratio": 1.0,
        "target": "<= 0.8x greedy",
        "met": False,
    }


def test_cells_pair_the_methods_on_each_class_size_and_seed() -> None:
    cells = sweep_cells(["stretched", "slack"], [40, 150], [1, 2], 365)
    assert len(cells) == 2 * 2 * 2 * 2
    first = cells[0]
    assert first.service == {
        "name": "stretched-40",
        "practitioners": 40,
        "seed": 1,
        "load": 1.0,
        "contracts": True,
    }
    assert first.policy == {"name": "stretched", "arrival_factor": 1.15}
    assert [c.method for c in cells[:2]] == ["engine", "greedy"]
    assert {c.seed for c in cells if c.service["name"] == "slack-150"} == {1, 2}


def test_a_policy_file_reaches_every_cell_whole() -> None:
    # The file's policy as plain data, merged over the built-in one in each cell,
    # is the file's policy again.
    policy = load_policy("examples/policy.toml").with_overrides(points_per_fte=90)
    data = policy.model_dump(mode="json")
    cells = sweep_cells(["steady"], [40], [1], 30, data)
    numbers = {k: v for k, v in cells[0].policy.items() if k not in ("name", "arrival_factor")}
    assert Policy().with_overrides(**numbers) == policy


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--classes", "busy"], "unknown service class(es) 'busy'; choose from stretched"),
        (["--seeds", "1,1"], "1 is given twice"),
        (["--seeds", "one"], "expected whole numbers separated by commas, got 'one'"),
        (["--practitioners", "0"], "0 is not from 1 to 100000"),
        (["--days", "0"], "0 is not from 1 to 3660"),
        (["--workers", "0"], "0 is not from 1 to 256"),
        (["--policy", "no-such.toml"], "no-such.toml"),
    ],
)
def test_bad_options_are_one_clear_error(args: list[str], message: str) -> None:
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output


def test_an_out_that_is_a_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "file"
    path.write_text("x")
    result = CliRunner().invoke(main, ["--out", str(path)])
    assert result.exit_code == 2 and "expected a folder" in result.output


def test_the_year_is_a_named_part_of_the_benchmarks() -> None:
    assert "year" in PARTS


@pytest.mark.slow
def test_a_tiny_year_end_to_end(tmp_path: Path) -> None:
    # Two classes, 8 practitioners, 5 days, one seed: four cells on a local cluster.
    # The printed table has a line per service and figure, and the files hold it.
    args = ["--classes", "slack,stretched", "--practitioners", "8", "--seeds", "3"]
    args += ["--days", "5", "--out", str(tmp_path)]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    text = (tmp_path / "year.md").read_text(encoding="utf-8")
    assert text in result.output
    assert text.count("| slack-8 |") == len(CHILD_FIGURES)
    assert text.count("| stretched-8 |") == len(CHILD_FIGURES)
    assert "targets met:" in text
    csv = (tmp_path / "year.csv").read_text(encoding="utf-8").splitlines()
    assert len(csv) == 1 + 2 * len(CHILD_FIGURES)


def _year_stopped(
    stop: Callable[[subprocess.Popen[str]], None], timeout: float, *options: str
) -> tuple[subprocess.Popen[str], str, str]:
    """A long quick year (``options`` added) in a session of its own, stopped by
    ``stop`` once a child process is busy, given ``timeout`` seconds to end; the
    process, its output and its errors. Killed on the way out whatever happens."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "benchmarks", "year", "--quick", "--days", "3660", *options],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        wait_for_a_busy_child(proc.pid)
        assert proc.poll() is None
        stop(proc)
        out, err = proc.communicate(timeout=timeout)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    return proc, out, err


@pytest.mark.slow
def test_ctrl_c_at_a_terminal_prints_one_line(tmp_path: Path) -> None:
    """Ctrl-C reaches every process of the group, the Dask workers too: one line, not
    their tracebacks and click's "Aborted!". Two years on three workers: the idle one
    printed its traceback every time."""
    proc, out, err = _year_stopped(lambda p: os.killpg(p.pid, signal.SIGINT), 30, "--workers", "3")
    assert proc.returncode == 130
    assert err.strip().splitlines()[-1] == "interrupted: no year table written"
    assert "Traceback" not in err and "KeyboardInterrupt" not in err and "Aborted" not in err
    assert out == ""


@pytest.mark.slow
def test_sigterm_ends_the_year_as_it_ends_a_sweep(tmp_path: Path) -> None:
    """SIGTERM (a scheduler stopping the job) to the harness alone: one line and exit
    143, the cluster closed on the way out (allocator.command_line.invoke_interruptibly,
    the sweep's own ending), not a killed process leaking its semaphores."""
    proc, out, err = _year_stopped(lambda p: p.send_signal(signal.SIGTERM), 60)
    assert proc.returncode == 128 + signal.SIGTERM, err
    assert err.strip().splitlines()[-1] == "interrupted: no year table written"
    assert "leaked semaphore" not in err and "Traceback" not in err
    assert out == ""


@pytest.mark.parametrize("option", ["--seeds", "--policy", "--classes", "--practitioners", "--out"])
def test_an_empty_option_value_is_refused_not_taken_for_the_default(option: str) -> None:
    # An empty value once started the full default run (hours): refused at once, exit 2.
    result = CliRunner().invoke(main, [option, ""])
    assert result.exit_code == 2, result.output
    errors = [line for line in result.output.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1 and option in errors[0] and "empty" in errors[0], result.output
    assert "simulated years" not in result.output


def test_the_year_refuses_another_command_s_results_folder(tmp_path: Path) -> None:
    from allocator.io import FORECAST, write_results_folder

    write_results_folder(tmp_path / "fc", FORECAST, {"children.csv": "case\n"})
    result = CliRunner().invoke(main, ["--quick", "--out", str(tmp_path / "fc")])
    assert result.exit_code == 2
    assert "holds the results of `allocator forecast`" in result.output
