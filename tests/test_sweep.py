"""Policy sweeps: the spec, a two-cell sweep on a LocalCluster, resuming."""

from __future__ import annotations

import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.processes import wait_for_a_busy_child

pytest.importorskip("distributed")

from allocator.simulation.sweep import Cell, SpecError, cells_of, run_sweep

SPEC = {
    "days": 6,
    "seeds": [1],
    "methods": ["greedy"],
    "services": [{"name": "s8", "practitioners": 8, "seed": 2, "contracts": True}],
    "policies": [{"name": "cap100"}, {"name": "cap90", "points_per_fte": 90}],
}


def test_cells_are_the_product_in_order() -> None:
    cells = cells_of({**SPEC, "methods": ["engine", "greedy"], "seeds": [1, 2]})
    assert len(cells) == 2 * 2 * 2
    assert [(c.policy["name"], c.seed, c.method) for c in cells[:3]] == [
        ("cap100", 1, "engine"),
        ("cap100", 1, "greedy"),
        ("cap100", 2, "engine"),
    ]
    assert len({c.key for c in cells}) == len(cells)


def test_a_bad_spec_names_every_problem() -> None:
    bad = {
        "services": [{"name": "x", "practitioners": 5, "snapshot": "a.json"}],
        "policies": [{"name": "p", "points_per_fte": -1}],
        "methods": ["mip"],
        "colour": 1,
    }
    with pytest.raises(SpecError) as info:
        cells_of(bad)
    text = str(info.value)
    assert "unknown key 'colour'" in text
    assert "not both" in text
    assert "policies[0]" in text
    assert "methods[0]: found 'mip', expected engine or greedy" in text


@pytest.mark.slow
def test_two_cells_on_a_local_cluster_then_resumed(tmp_path: Path) -> None:
    import pandas as pd

    cells = cells_of(SPEC)
    seen: list[tuple[Cell, float]] = []
    target = run_sweep(cells, tmp_path, workers=2, on_done=lambda c, s: seen.append((c, s)))
    table = pd.read_parquet(target)
    assert list(table["policy"]) == ["cap100", "cap90"]
    assert (table["children"] > 0).all()
    # FTE short by grade, the forecast's measure, at the run's last day (under a week).
    assert {"fte_short_nqsw", "fte_short_social_worker", "fte_short_all"} <= set(table.columns)
    totals = pd.read_csv(tmp_path / "policies.csv")
    assert list(totals["policy"]) == ["cap100", "cap90"]
    assert (tmp_path / "policies.md").read_text().startswith("| policy | method | seeds |")
    assert (tmp_path / "summary.png").exists()
    assert not any(math.isnan(s) for _, s in seen)
    # Run again: both cells are found done and nothing is recomputed (no cluster).
    again: list[float] = []
    run_sweep(cells, tmp_path, workers=2, on_done=lambda c, s: again.append(s))
    assert len(again) == 2 and all(math.isnan(s) for s in again)
    assert pd.read_parquet(target).equals(table)


def _row(service: str, seed: int, scale: float) -> dict[str, object]:
    """A cell's row of 10 days: the figures policy_totals reads, times ``scale``."""
    return {
        "service": service,
        "policy": "cap80",
        "seed": seed,
        "method": "greedy",
        "days": 10,
        "children": 12 * scale,
        "child_years": 2.0 * scale,
        "changes": 3 * scale,
        "children_open_all_run": 10 * scale,
        "share_1plus_changes": 0.5,
        "urgent_child_days_waiting": 4 * scale,
        "worker_days_over_cap": 1 * scale,
        "waiting_child_days_other": 30 * scale,
        "waiting_child_days_urgent": 10 * scale,
        "waiting_child_days_statutory": 20 * scale,
        "fte_short_nqsw": 0.5 * scale,
        "fte_short_social_worker": 0.25 * scale,
        "fte_short_all": 0.75 * scale,
    }


def test_policy_totals_add_the_services_then_average_the_seeds() -> None:
    """Two services (b is a at twice the scale) x two seeds (seed 2 is seed 1 x 2).

    Seed 1: a + b = 3 x a's figures: FTE short 0.75 x 3 = 2.25 (nqsw 1.5), children
    waiting on the mean day (10 + 20 + 30) x 3 / 10 days = 18 (urgent 3), changes per
    child-year 9 / 6 = 1.5. Seed 2 doubles every count: FTE 4.5, waiting 36, and the
    same 1.5 changes per child-year. The means over seeds: FTE 3.375 (2.25-4.5),
    waiting 27 (18-36), changes per child-year 1.5 and half of the children open all
    run changed worker."""
    import pandas as pd

    from allocator.simulation.sweep import policies_markdown, policy_totals

    rows = [_row("a", 1, 1), _row("b", 1, 2), _row("a", 2, 2), _row("b", 2, 4)]
    totals = policy_totals(pd.DataFrame(rows))
    (row,) = totals.to_dict("records")
    assert (row["services"], row["seeds"]) == (2, 2)
    assert (row["fte_short_all"], row["fte_short_all_min"], row["fte_short_all_max"]) == (
        3.375,
        2.25,
        4.5,
    )
    assert row["fte_short_nqsw"] == 2.25 and row["fte_short_social_worker"] == 1.125
    assert (row["waiting_all"], row["waiting_all_min"], row["waiting_all_max"]) == (27, 18, 36)
    assert row["waiting_urgent"] == 4.5
    assert row["changes_per_child_year"] == 1.5 and row["share_1plus_changes"] == 0.5
    # The classes in the policy's order, the grades in grade order.
    waiting = [c for c in totals.columns if c.startswith("waiting_")]
    assert waiting[:3] == ["waiting_urgent", "waiting_statutory", "waiting_other"]
    text = policies_markdown(totals)
    assert "FTE short, nqsw | FTE short, social_worker | FTE short, all grades" in text
    # FTE short, all grades, then children waiting on the mean day: mean (min-max).
    assert "| 3.375 (2.250-4.500) | 27 (18-36) |" in text


# ---------------------------------------------------------------- the spec, at the door

GOOD_SERVICE = {"name": "s8", "practitioners": 8}


def _problems(spec: dict[str, object]) -> list[str]:
    """The lines of the SpecError that ``spec`` raises (it must raise one)."""
    with pytest.raises(SpecError) as info:
        cells_of(spec, "sweep.toml")
    return str(info.value).splitlines()


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        (
            {"days": -5},
            "sweep.toml: top level: days: found -5, expected a whole number from 1 to 3660",
        ),
        ({"days": 1e9}, "days: found 1000000000.0, expected a whole number from 1 to 3660"),
        ({"days": 3661}, "days: found 3661, expected a whole number from 1 to 3660"),
        ({"days": True}, "days: found true, expected a whole number"),
        ({"days": 7.0}, "days: found 7.0, expected a whole number"),
        ({"work_units": 0}, "work_units: found 0, expected a number greater than 0"),
        ({"rebalance_work_units": float("nan")}, "rebalance_work_units: found nan"),
        ({"seeds": 1}, "seeds: found 1, expected a list of whole numbers"),
        ({"seeds": []}, "seeds: found [], expected a list"),
        ({"seeds": [1, -1]}, "seeds[1]: found -1, expected a whole number from 0 to 2147483647"),
        ({"seeds": [1, 1]}, "seeds: 1 is given twice"),
        ({"methods": ["greedy", "greedy"]}, "methods: 'greedy' is given twice"),
        ({"methods": ["mip"]}, "methods[0]: found 'mip', expected engine or greedy"),
        ({"dayz": 3}, "top level: unknown key 'dayz'; did you mean 'days'?"),
        ({"services": {"name": "x"}}, "services: found a table, expected one or more [[services]]"),
        ({"services": []}, "services: found [], expected one or more [[services]]"),
        ({"policies": []}, "policies: found [], expected one or more [[policies]]"),
        (
            {"services": [{**GOOD_SERVICE, "practitioners": 0}]},
            "services[0] (s8): practitioners: found 0, expected a whole number from 1 to 100000",
        ),
        (
            {"services": [{**GOOD_SERVICE, "load": "high"}]},
            "services[0] (s8): load: found 'high', expected a number from 0 to 10",
        ),
        (
            {"services": [{**GOOD_SERVICE, "seed": -1}]},
            "services[0] (s8): seed: found -1",
        ),
        (
            {"services": [{**GOOD_SERVICE, "contracts": "yes"}]},
            "services[0] (s8): contracts: found 'yes', expected true or false",
        ),
        (
            {"services": [{**GOOD_SERVICE, "practitionrs": 3}]},
            "services[0] (s8): unknown key 'practitionrs'; did you mean 'practitioners'?",
        ),
        ({"services": [{"practitioners": 3}]}, "services[0]: name: missing"),
        ({"services": [{"name": "", "practitioners": 3}]}, "name: found '', expected a non-empty"),
        ({"services": [{"name": "x"}]}, "services[0] (x): found neither of practitioners"),
        ({"services": [GOOD_SERVICE, GOOD_SERVICE]}, "services: name: 's8' is given twice"),
        ({"services": [GOOD_SERVICE, 3]}, "services[1]: entry: found 3, expected a table"),
        (
            {"policies": [{"name": "p", "rebalance_every": -3}]},
            "policies[0] (p): rebalance_every: found -3, expected a whole number from 0 to 3660",
        ),
        (
            {"policies": [{"name": "p", "arrival_factor": "high"}]},
            "policies[0] (p): arrival_factor: found 'high', expected a number from 0 to 10",
        ),
        (
            {"policies": [{"name": "p", "arrival_factor": 11}]},
            "arrival_factor: found 11, expected a number from 0 to 10",
        ),
        (
            {"policies": [{"name": "p", "points_per_ftee": 90}]},
            "policies[0] (p): unknown key 'points_per_ftee'; did you mean 'points_per_fte'?",
        ),
        ({"policies": [{"name": "p"}, {"name": "p"}]}, "policies: name: 'p' is given twice"),
    ],
)
def test_every_key_is_checked_at_the_door(spec: dict[str, object], expected: str) -> None:
    # One bad value in an otherwise good spec: exactly one line, naming it.
    lines = _problems({"services": [GOOD_SERVICE], **spec})
    assert len(lines) == 1, lines
    assert expected in lines[0]
    assert lines[0].startswith("sweep.toml: ")


def test_snapshot_files_are_read_and_validated_at_the_door(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"format": "caseload-snapshot/1"}', encoding="utf-8")
    lines = _problems(
        {
            "services": [
                {"name": "gone", "snapshot": str(tmp_path / "missing.json")},
                {"name": "bad", "snapshot": str(bad)},
                {"name": "num", "snapshot": 3},
                {"name": "mixed", "snapshot": str(bad), "load": 0.5},
            ]
        }
    )
    assert any(line.startswith("sweep.toml: services[0] (gone): snapshot: ") for line in lines)
    assert any("missing.json" in line for line in lines)
    assert any(line.startswith("sweep.toml: services[1] (bad): snapshot: ") for line in lines)
    assert any("services[2] (num): snapshot: found 3, expected the path" in line for line in lines)
    assert any("services[3] (mixed): load: only a generated service" in line for line in lines)


def test_a_valid_snapshot_passes(tmp_path: Path) -> None:
    from allocator.generate import generate
    from allocator.io import write_snapshot

    path = tmp_path / "s.json"
    write_snapshot(generate(3, seed=1), path)
    cells = cells_of({"services": [{"name": "file", "snapshot": str(path)}], "methods": ["greedy"]})
    assert [c.service["name"] for c in cells] == ["file"]


def test_the_spec_takes_the_same_limits_as_simulate() -> None:
    from allocator.cli.simulation import simulate_command

    ranges = {p.name: p.type for p in simulate_command.params}
    for option, key, where in [
        ("days", "days", None),
        ("rebalance_every", "rebalance_every", "policy"),
        ("arrival_factor", "arrival_factor", "policy"),
        ("work_units", "work_units", None),
        ("rebalance_work_units", "rebalance_work_units", None),
        ("seed", "seeds", "list"),
    ]:
        top = ranges[option].max  # type: ignore[attr-defined]
        for value, ok in ((top, True), (top + 1, False)):
            if where == "policy":
                spec = {"policies": [{"name": "p", key: value}]}
            elif where == "list":
                spec = {"seeds": [value]}
            else:
                spec = {key: value}
            spec["services"] = [GOOD_SERVICE]
            if ok:
                assert cells_of(spec), (key, value)
            else:
                assert _problems(spec), (key, value)


def test_a_bad_spec_exits_2_before_any_cluster_starts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from click.testing import CliRunner
    from dask import distributed

    from allocator.cli import main

    def no_cluster(*args: object, **kwargs: object) -> None:
        raise AssertionError("a cluster was started for a bad spec")

    monkeypatch.setattr(distributed, "LocalCluster", no_cluster)
    spec = tmp_path / "sweep.toml"
    spec.write_text(
        'days = -5\n[[services]]\nname = "s"\npractitioners = 0\n'
        '[[policies]]\nname = "p"\narrival_factor = "high"\nrebalance_every = -3\n',
        encoding="utf-8",
    )
    result = CliRunner().invoke(main, ["sweep", str(spec), "--out", str(tmp_path / "out")])
    assert result.exit_code == 2, result.output
    lines = result.stderr.splitlines()
    assert len(lines) == 4
    assert all(line.startswith(f"error: {spec}: ") for line in lines)
    assert "Traceback" not in result.output
    assert not (tmp_path / "out").exists()


def test_an_unreadable_spec_is_one_line(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from allocator.cli import main

    runner = CliRunner()
    missing = runner.invoke(main, ["sweep", str(tmp_path / "no.toml"), "--out", str(tmp_path)])
    assert missing.exit_code == 2
    assert (
        missing.stderr.strip()
        == f"error: {tmp_path / 'no.toml'}: cannot be read: No such file or directory"
    )
    bad = tmp_path / "bad.toml"
    bad.write_text("days = = 3\n", encoding="utf-8")
    broken = runner.invoke(main, ["sweep", str(bad), "--out", str(tmp_path)])
    assert broken.exit_code == 2
    assert broken.stderr.startswith(f"error: {bad}: not valid TOML")


# ------------------------------------------------------------- the cluster: quiet, stoppable


@pytest.mark.slow
def test_a_failed_cell_is_one_line_and_a_busy_port_is_not_mentioned(tmp_path: Path) -> None:
    import socket
    import warnings

    from allocator.simulation.sweep import CellError, run_cells

    # A cell that passed no door (built by hand) fails on its worker.
    cell = Cell(
        service={"name": "broken", "practitioners": "many"},
        policy={"name": "default"},
        seed=1,
        method="greedy",
        days=2,
        work_units=0.2,
        rebalance_work_units=0.5,
    )
    holder = socket.socket()
    try:
        holder.bind(("127.0.0.1", 8787))  # as another cluster's dashboard would
        holder.listen()
    except OSError:
        pass  # taken already: the same situation
    try:
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always")
            with pytest.raises(CellError) as info:
                run_cells([cell], tmp_path, workers=1)
    finally:
        holder.close()
    assert not [w for w in seen if "already in use" in str(w.message)]
    text = str(info.value)
    assert "\n" not in text
    assert text.startswith("service broken, policy default, seed 1, greedy: ValueError")


def _a_long_sweep_running(tmp_path: Path, workers: int | None = None) -> subprocess.Popen[str]:
    """``allocator sweep`` of one cell of ten years on 300 workers (minutes, far longer
    than a test waits) in a session of its own, returned once its cluster is up and
    a worker is busy with the cell."""
    spec = tmp_path / "long.toml"
    spec.write_text(
        'days = 3660\nseeds = [1]\nmethods = ["engine"]\n'
        '[[services]]\nname = "s300"\npractitioners = 300\n',
        encoding="utf-8",
    )
    out = tmp_path / "out"
    proc = subprocess.Popen(
        [sys.executable, "-c", "from allocator.cli import main; main()", "sweep", str(spec)]
        + ["--out", str(out)]
        + ([] if workers is None else ["--workers", str(workers)]),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while not (out / "cells").exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    wait_for_a_busy_child(proc.pid, patience=30.0, without_proc=8.0)
    return proc


@pytest.mark.slow
@pytest.mark.parametrize("signum", ["SIGTERM", "SIGINT"])
def test_a_signal_stops_a_long_sweep_at_once(tmp_path: Path, signum: str) -> None:
    proc = _a_long_sweep_running(tmp_path)
    try:
        assert proc.poll() is None
        sent = time.monotonic()
        proc.send_signal(getattr(signal, signum))
        _, err = proc.communicate(timeout=30)
        took = time.monotonic() - sent
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 128 + getattr(signal, signum)
    assert err.strip().splitlines()[-1] == "interrupted: no sweep table written"
    assert "Traceback" not in err
    assert took < 15, took
    assert not (tmp_path / "out" / "results.parquet").exists()


@pytest.mark.slow
def test_ctrl_c_at_a_terminal_prints_one_line_not_the_workers_tracebacks(tmp_path: Path) -> None:
    """A terminal's Ctrl-C goes to the whole process group, the Dask worker processes
    too: each printed a KeyboardInterrupt traceback before the command's one line.
    One cell on three workers: the two idle ones printed theirs every time (a busy
    one is mostly killed by its nanny first)."""
    proc = _a_long_sweep_running(tmp_path, workers=3)
    try:
        assert proc.poll() is None
        os.killpg(proc.pid, signal.SIGINT)  # as the terminal sends it: to every process
        _, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode == 128 + signal.SIGINT
    assert err.strip() == "interrupted: no sweep table written", err
    assert not (tmp_path / "out" / "results.parquet").exists()


def test_a_local_worker_process_leaves_ctrl_c_to_the_command() -> None:
    # What each local worker runs as it starts (the cluster's preload).
    import signal

    from allocator.simulation.cluster import dask_setup

    before = signal.getsignal(signal.SIGINT)
    try:
        dask_setup(object())
        assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
    finally:
        signal.signal(signal.SIGINT, before)


def test_a_resumed_sweep_recomputes_a_snapshot_that_changed(tmp_path: Path) -> None:
    # The attack: a sweep resumed after its snapshot file was edited. Cells are keyed
    # by the file's content, so the old figures are not reused for the new file.
    import pandas as pd

    from allocator.generate import generate
    from allocator.io import write_snapshot

    path = tmp_path / "s.json"
    write_snapshot(generate(6, seed=1), path)
    spec = {"days": 4, "methods": ["greedy"], "services": [{"name": "f", "snapshot": str(path)}]}
    first = cells_of(spec)
    run_sweep(first, tmp_path / "out", workers=1)
    before = pd.read_parquet(tmp_path / "out" / "results.parquet")
    write_snapshot(generate(12, seed=3), path)  # same path, other service
    second = cells_of(spec)
    assert first[0].key != second[0].key
    ran: list[float] = []
    run_sweep(second, tmp_path / "out", workers=1, on_done=lambda c, s: ran.append(s))
    assert not any(math.isnan(s) for s in ran)  # computed, not found done
    after = pd.read_parquet(tmp_path / "out" / "results.parquet")
    assert not after.equals(before)
    # Back to the first file's bytes: its finished cell is found again.
    assert cells_of(spec)[0].key != first[0].key
    write_snapshot(generate(6, seed=1), path)
    assert cells_of(spec)[0].key == first[0].key


def test_a_snapshot_changed_during_the_sweep_stops_its_cell(tmp_path: Path) -> None:
    from allocator.generate import generate
    from allocator.io import write_snapshot
    from allocator.simulation.sweep import SnapshotChanged, run_cell

    path = tmp_path / "s.json"
    write_snapshot(generate(4, seed=1), path)
    cell = cells_of(
        {"days": 2, "methods": ["greedy"], "services": [{"name": "f", "snapshot": str(path)}]}
    )[0]
    write_snapshot(generate(5, seed=1), path)
    with pytest.raises(SnapshotChanged, match="changed since the sweep started"):
        run_cell(cell.settings())


def test_a_csv_folder_snapshot_is_keyed_by_its_files(tmp_path: Path) -> None:
    import shutil

    folder = tmp_path / "csv"
    shutil.copytree(Path(__file__).parents[1] / "examples" / "service-csv", folder)
    spec = {"methods": ["greedy"], "services": [{"name": "c", "snapshot": str(folder)}]}
    key = cells_of(spec)[0].key
    cases = folder / "cases.csv"
    cases.write_text(cases.read_text(encoding="utf-8").replace(",3,", ",2,", 1), encoding="utf-8")
    assert cells_of(spec)[0].key != key


# ------------------------------------------------------- a real multi-process cluster


@pytest.mark.slow
def test_a_sweep_on_a_scheduler_and_two_worker_processes_matches_the_local_cluster(
    tmp_path: Path,
) -> None:
    """Issue 23, item 4: the ``--scheduler`` path, tested as a council would run it:
    ``dask scheduler`` and two ``dask worker`` processes started apart on localhost,
    then ``allocator sweep --scheduler``. The figures equal a LocalCluster's, cell for
    cell (each cell is seeded, so where it runs does not matter)."""
    import json
    import subprocess
    import sys
    import time

    import pandas as pd
    from click.testing import CliRunner
    from dask import distributed

    from allocator.cli import main

    spec = tmp_path / "sweep.toml"
    spec.write_text(
        'days = 6\nseeds = [1, 2]\nmethods = ["greedy"]\n'
        '[[services]]\nname = "s8"\npractitioners = 8\nseed = 2\n'
        '[[policies]]\nname = "cap100"\n'
        '[[policies]]\nname = "cap90"\npoints_per_fte = 90\n',
        encoding="utf-8",
    )
    address_file = tmp_path / "scheduler.json"
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    scheduler = subprocess.Popen(
        [sys.executable, "-m", "distributed.cli.dask_scheduler", "--host", "127.0.0.1"]
        + ["--port", "0", "--no-dashboard", "--scheduler-file", str(address_file)],
        **quiet,  # type: ignore[call-overload]
    )
    workers: list[subprocess.Popen[bytes]] = []
    try:
        deadline = time.monotonic() + 60
        while not address_file.exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        time.sleep(0.5)  # the file is written whole before the scheduler answers
        address = json.loads(address_file.read_text(encoding="utf-8"))["address"]
        workers = [
            subprocess.Popen(
                [sys.executable, "-m", "distributed.cli.dask_worker", address]
                + ["--nworkers", "1", "--nthreads", "1", "--no-dashboard"]
                + ["--name", f"w{i}"],
                **quiet,  # type: ignore[call-overload]
            )
            for i in range(2)
        ]
        with distributed.Client(address, timeout=30) as client:
            client.wait_for_workers(2, timeout=60)
            assert len(client.scheduler_info()["workers"]) == 2
        remote = CliRunner().invoke(
            main, ["sweep", str(spec), "--out", str(tmp_path / "remote"), "--scheduler", address]
        )
        assert remote.exit_code == 0, remote.output
    finally:
        for proc in [*workers, scheduler]:
            proc.terminate()
        for proc in [*workers, scheduler]:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
    local = CliRunner().invoke(main, ["sweep", str(spec), "--out", str(tmp_path / "local")])
    assert local.exit_code == 0, local.output
    on_cluster = pd.read_parquet(tmp_path / "remote" / "results.parquet")
    on_machine = pd.read_parquet(tmp_path / "local" / "results.parquet")
    assert len(on_cluster) == 4 and (on_cluster["children"] > 0).all()
    pd.testing.assert_frame_equal(on_cluster, on_machine)


_SMALL_SPEC = (
    'days = 3\nseeds = [1]\nmethods = ["greedy"]\n[[services]]\nname = "a"\npractitioners = 5\n'
)


@pytest.mark.parametrize(
    "address",
    ["127.0.0.1", "http://127.0.0.1:8786", "notanaddress", "tcp://:8786", "tcp://host:port"],
)
def test_a_scheduler_address_without_host_and_port_is_refused_at_the_door(
    tmp_path: Path, address: str
) -> None:
    from click.testing import CliRunner

    from allocator.cli import main

    spec = tmp_path / "sweep.toml"
    spec.write_text(_SMALL_SPEC, encoding="utf-8")
    result = CliRunner().invoke(
        main, ["sweep", str(spec), "--out", str(tmp_path / "out"), "--scheduler", address]
    )
    assert result.exit_code == 2, result.output
    assert "is not a Dask scheduler's address; expected tcp://HOST:PORT" in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    ("address", "read"),
    [
        ("127.0.0.1:8786", "tcp://127.0.0.1:8786"),
        ("tls://sched.local:8786", "tls://sched.local:8786"),
    ],
)
def test_a_scheduler_address_is_read_with_its_protocol(address: str, read: str) -> None:
    from allocator.cli.options import SchedulerAddress

    assert SchedulerAddress().convert(address, None, None) == read


def test_a_scheduler_nobody_answers_at_is_one_sentence(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import socket

    from click.testing import CliRunner

    from allocator.cli import main
    from allocator.simulation import cluster

    monkeypatch.setattr(cluster, "CONNECT_SECONDS", 1)
    with socket.socket() as s:  # a port just freed: nothing listens there
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    spec = tmp_path / "sweep.toml"
    spec.write_text(_SMALL_SPEC, encoding="utf-8")
    result = CliRunner().invoke(
        main,
        ["sweep", str(spec), "--out", str(tmp_path / "out"), "--scheduler", f"127.0.0.1:{port}"],
    )
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith(
        f"error: cannot reach the Dask scheduler at tcp://127.0.0.1:{port} within 1 s"
    )
    assert "Traceback" not in result.output and "None" not in result.output


def test_a_relative_snapshot_path_is_read_from_the_callers_folder_on_any_worker(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A second trial's: a `dask worker` started in another folder could not find
    # "s20.json". The cells carry the absolute path of the caller's file.
    from allocator.generate import generate
    from allocator.io import write_snapshot

    monkeypatch.chdir(tmp_path)
    write_snapshot(generate(5, seed=1), tmp_path / "s.json")
    cells = cells_of({"days": 3, "services": [{"name": "a", "snapshot": "s.json"}]})
    assert {c.service["snapshot"] for c in cells} == {str((tmp_path / "s.json").resolve())}
