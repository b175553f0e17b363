"""The simulation's commands: a service day by day for ``--days`` days, a year by
default (``simulate``), and many such runs on Dask (``sweep``); both need the ``sim``
extra (pandas, pyarrow, matplotlib, distributed), imported only when one runs.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from allocator.cli.echo import BAD_INPUT, console, echo, input_errors
from allocator.cli.extras import need_sim_extra
from allocator.cli.files import read_inputs, writing
from allocator.cli.options import FiniteRange, SchedulerAddress, policy_option, seed_option
from allocator.command_line import A_FOLDER, A_SNAPSHOT, GivenPath
from allocator.contract.limits import MAX_ARRIVAL_FACTOR, MAX_DAYS, MAX_TIME_LIMIT, MAX_WORKERS
from allocator.domain.rules import counted
from allocator.io import SIMULATE, SWEEP, check_results_folder


@click.command("simulate")
@click.argument("snapshot", type=GivenPath(expected=A_SNAPSHOT))
@click.option(
    "--days",
    type=click.IntRange(min=1, max=MAX_DAYS),
    default=365,
    show_default=True,
    help="Days simulated after the snapshot's day (day 0): the run ends on day N.",
)
@seed_option
@policy_option
@click.option(
    "--method",
    type=click.Choice(["engine", "greedy", "both"]),
    default="both",
    show_default=True,
    help="Which method runs the service; both see exactly the same events.",
)
@click.option(
    "--rebalance-every",
    type=click.IntRange(min=0, max=MAX_DAYS),
    default=7,
    show_default=True,
    help="Days between rebalances (0: never).",
)
@click.option(
    "--arrival-factor",
    type=FiniteRange(min=0, max=MAX_ARRIVAL_FACTOR),
    default=1.0,
    show_default=True,
    help="Referrals as a multiple of the rate that keeps the caseload steady.",
)
@click.option(
    "--work-units",
    type=FiniteRange(min=0, min_open=True, max=MAX_TIME_LIMIT),
    default=0.2,
    show_default=True,
    help="The engine's work budget per morning (CP-SAT deterministic units).",
)
@click.option(
    "--rebalance-work-units",
    type=FiniteRange(min=0, min_open=True, max=MAX_TIME_LIMIT),
    default=0.5,
    show_default=True,
    help="The engine's work budget per rebalance.",
)
@click.option(
    "--no-plots",
    is_flag=True,
    help="Leave out the PNG plots (and remove those an earlier run left in --out).",
)
@click.option(
    "--out",
    type=GivenPath(expected=A_FOLDER),
    required=True,
    help="Folder for the report and tables.",
)
def simulate_command(
    snapshot: str,
    days: int,
    seed: int,
    policy_path: str | None,
    method: str,
    rebalance_every: int,
    arrival_factor: float,
    work_units: float,
    rebalance_work_units: float,
    no_plots: bool,
    out: str,
) -> None:
    """Run SNAPSHOT's service day by day for --days days (a year by default); report
    children's changes of worker and waits."""
    need_sim_extra()
    from allocator.simulation import EngineMethod, GreedyMethod, Method, Settings, compare
    from allocator.simulation.report import terminal_lines, write_outputs

    with input_errors():
        check_results_folder(out, SIMULATE, {"snapshot": snapshot, "policy": policy_path})
    snap, policy = read_inputs(snapshot, None, policy_path)
    methods: list[Method] = []
    if method in ("engine", "both"):
        methods.append(
            EngineMethod(
                daily_work_units=work_units, rebalance_work_units=rebalance_work_units, seed=seed
            )
        )
    if method in ("greedy", "both"):
        methods.append(GreedyMethod())
    settings = Settings(
        days=days, seed=seed, rebalance_every=rebalance_every, arrival_factor=arrival_factor
    )
    results = compare(snap, methods, policy, settings)
    with writing(out):
        summaries = write_outputs(
            results,
            out,
            title=f"{snapshot}, seed {seed}",
            plots=not no_plots,
            made_with=(
                f"Made with: `allocator simulate {snapshot} --days {days} --seed {seed}"
                + (f" --policy {policy_path}" if policy_path else "")
                + f" --method {method} --rebalance-every {rebalance_every}"
                f" --arrival-factor {arrival_factor:g} --work-units {work_units:g}"
                f" --rebalance-work-units {rebalance_work_units:g}`"
                + ("" if policy_path else " (the default policy)")
                + "."
            ),
        )
    for line in terminal_lines(results, summaries, days):
        echo(line, err=True)
    echo(f"wrote {Path(out) / 'report.md'} and its tables", err=True)


@click.command("sweep")
@click.argument("spec", type=GivenPath())
@click.option(
    "--out",
    type=GivenPath(expected=A_FOLDER),
    required=True,
    help="The sweep's folder (resumable).",
)
@click.option(
    "--workers",
    type=click.IntRange(min=1, max=MAX_WORKERS),
    default=2,
    show_default=True,
    help="Worker processes of the local Dask cluster (one thread each).",
)
@click.option(
    "--scheduler",
    type=SchedulerAddress(),
    help="Address of a running Dask scheduler (tcp://host:8786) instead of a local cluster.",
)
def sweep_command(spec: str, out: str, workers: int, scheduler: str | None) -> None:
    """Simulate every service x policy x seed x method of SPEC on Dask; one results table."""
    need_sim_extra()
    import math as _math

    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    from allocator.simulation.sweep import (
        Cell,
        CellError,
        SpecError,
        load_spec,
        run_cells,
        write_results,
    )

    # The whole spec (every key, every snapshot file) is checked before any cluster starts.
    try:
        cells = load_spec(spec)
    except SpecError as exc:
        for line in str(exc).splitlines():
            echo(f"error: {line}", err=True)
        sys.exit(BAD_INPUT)
    with input_errors():
        check_results_folder(out, SWEEP, {"spec": spec})
    with Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console(stderr=True),
        transient=True,
    ) as bar:
        task = bar.add_task("cells", total=len(cells))
        resumed = 0

        def done(cell: Cell, seconds: float) -> None:
            nonlocal resumed
            resumed += _math.isnan(seconds)
            bar.advance(task)

        # Not held back while the cells run: each cell's file is written whole, so a
        # signal stops the sweep at once (the cluster is shut down on the way out).
        try:
            with input_errors():
                run_cells(
                    cells,
                    out,
                    workers=workers,
                    scheduler=scheduler,
                    on_done=done,
                    say=lambda line: bar.console.print(f"warning: {line}", markup=False),
                )
        except CellError as exc:
            echo(f"error: {exc}", err=True)
            sys.exit(1)
    with writing(out):
        target = write_results(cells, Path(out))
    echo(
        f"wrote {target}: {counted(len(cells), 'cell')} ({resumed} already done, not run again)",
        err=True,
    )
