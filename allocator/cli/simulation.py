"""The simulation's commands: a year of a service day by day (``simulate``), many such
years on Dask (``sweep``), the next weeks many times (``forecast``) and the staffing
question (``capacity``).

All need the ``sim`` extra (pandas, pyarrow, matplotlib, distributed), imported only
when one runs.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from allocator.cli.echo import BAD_INPUT, console, echo, input_errors
from allocator.cli.files import read_inputs, writing
from allocator.cli.options import SEED, FiniteRange
from allocator.io import check_output_folder
from allocator.limits import (
    MAX_ARRIVAL_FACTOR,
    MAX_DAYS,
    MAX_EXTRA_FTE,
    MAX_RUNS,
    MAX_TIME_LIMIT,
    MAX_WEEKS,
    MAX_WORKERS,
)
from allocator.models import Grade, Snapshot
from allocator.policy import Policy

if TYPE_CHECKING:
    from allocator.simulation.forecast import Calibration


def _need_sim_extra() -> None:
    """Exit 2 with the install line when the ``sim`` extra is missing."""
    import importlib.util

    missing = [
        m for m in ("pandas", "pyarrow", "matplotlib") if importlib.util.find_spec(m) is None
    ]
    if missing:
        echo(f"error: {', '.join(missing)} not installed: pip install 'allocator[sim]'", err=True)
        sys.exit(BAD_INPUT)


@click.command("simulate")
@click.argument("snapshot", type=click.Path())
@click.option("--days", type=click.IntRange(min=1, max=MAX_DAYS), default=365, show_default=True)
@click.option("--seed", type=SEED, default=0, show_default=True)
@click.option("--policy", "policy_path", type=click.Path(), help="Policy file (TOML).")
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
@click.option("--no-plots", is_flag=True, help="Leave out the PNG plots.")
@click.option("--out", type=click.Path(), required=True, help="Folder for the report and tables.")
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
    """Run SNAPSHOT's service day by day for a year; report children's changes of worker."""
    _need_sim_extra()
    from allocator.simulation import EngineMethod, GreedyMethod, Method, Settings, compare
    from allocator.simulation.report import terminal_lines, write_outputs

    with input_errors():
        check_output_folder(out, files=())
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
            results, out, title=f"{snapshot}, seed {seed}", plots=not no_plots
        )
    for line in terminal_lines(results, summaries, days):
        echo(line, err=True)
    echo(f"wrote {Path(out) / 'report.md'} and its tables", err=True)


#: The options the forecast and the staffing question share (their runs are alike).
_WEEKS = click.option(
    "--weeks",
    type=click.IntRange(min=1, max=MAX_WEEKS),
    default=8,
    show_default=True,
    help="Weeks ahead of the snapshot's day.",
)
_FORECAST_METHOD = click.option(
    "--method",
    type=click.Choice(["engine", "greedy"]),
    default="greedy",
    show_default=True,
    help="What decides each morning: the engine, or the manager's rule (fast).",
)
_FORECAST_WORKERS = click.option(
    "--workers",
    type=click.IntRange(min=1, max=MAX_WORKERS),
    default=1,
    show_default=True,
    help="Processes: 1 runs here; more run the futures on a local Dask cluster.",
)
_HISTORY = click.option(
    "--history",
    type=click.Path(),
    help="An SSD extract folder whose past episodes calibrate the rates (else national).",
)


def _forecast_inputs(
    snapshot: str, policy_path: str | None, history: str | None
) -> tuple[Snapshot, Policy, Calibration | None]:
    """The snapshot, the policy and the calibration from ``history`` (or ``None``) of a
    forecast or a staffing question; a bad one exits 2 with its sentence."""
    snap, policy = read_inputs(snapshot, None, policy_path)
    if history is None:
        return snap, policy, None
    from allocator.simulation.calibrate import calibrate_ssd

    with input_errors():
        return snap, policy, calibrate_ssd(history, snap)


@click.command("forecast")
@click.argument("snapshot", type=click.Path())
@_WEEKS
@click.option(
    "--runs",
    type=click.IntRange(min=1, max=MAX_RUNS),
    default=50,
    show_default=True,
    help="Simulated futures; the bands are their 10th to 90th percentiles.",
)
@click.option("--seed", type=SEED, default=0, show_default=True)
@click.option("--policy", "policy_path", type=click.Path(), help="Policy file (TOML).")
@_FORECAST_METHOD
@_FORECAST_WORKERS
@_HISTORY
@click.option("--no-plots", is_flag=True, help="Leave out the PNG chart.")
@click.option("--out", type=click.Path(), required=True, help="Folder for the forecast's files.")
def forecast_command(
    snapshot: str,
    weeks: int,
    runs: int,
    seed: int,
    policy_path: str | None,
    method: str,
    workers: int,
    history: str | None,
    no_plots: bool,
    out: str,
) -> None:
    """Run SNAPSHOT's next weeks many times: waiting, over-cap, who loses their worker."""
    _need_sim_extra()
    from allocator.simulation.forecast import ForecastSettings, forecast
    from allocator.simulation.forecast_report import summary_lines, write_forecast

    with input_errors():
        check_output_folder(out, files=())
    snap, policy, calibration = _forecast_inputs(snapshot, policy_path, history)
    settings = ForecastSettings(
        weeks=weeks, runs=runs, seed=seed, method="engine" if method == "engine" else "greedy"
    )
    fc = forecast(snap, policy, settings, calibration=calibration, workers=workers)
    with writing(out):
        written = write_forecast(fc, out, plots=not no_plots)
    for line in summary_lines(fc):
        echo(line, err=True)
    echo(f"wrote {', '.join(p.name for p in written)} in {out} ({fc.seconds:.0f} s)", err=True)


@click.command("capacity")
@click.argument("snapshot", type=click.Path())
@click.option(
    "--target",
    required=True,
    help='Waiting target, e.g. "urgent wait <= 1 day; statutory p90 wait <= 10 days".',
)
@_WEEKS
@click.option("--runs", type=click.IntRange(min=1, max=MAX_RUNS), default=20, show_default=True)
@click.option("--seed", type=SEED, default=0, show_default=True)
@click.option("--policy", "policy_path", type=click.Path(), help="Policy file (TOML).")
@click.option(
    "--grade",
    "grades",
    type=click.Choice([g.value for g in Grade]),
    multiple=True,
    help="Grade of the workers added (repeat for several); default social_worker.",
)
@click.option(
    "--confidence",
    type=FiniteRange(min=0, min_open=True, max=1),
    default=0.8,
    show_default=True,
    help="Share of runs that must meet the target.",
)
@click.option(
    "--max-fte",
    type=click.IntRange(min=0, max=MAX_EXTRA_FTE),
    default=20,
    show_default=True,
    help="Most extra FTE tried per grade.",
)
@_FORECAST_METHOD
@_FORECAST_WORKERS
@_HISTORY
@click.option("--out", type=click.Path(), help="Folder for capacity.csv (every point tried).")
def capacity_command(
    snapshot: str,
    target: str,
    weeks: int,
    runs: int,
    seed: int,
    policy_path: str | None,
    grades: tuple[str, ...],
    confidence: float,
    max_fte: int,
    method: str,
    workers: int,
    history: str | None,
    out: str | None,
) -> None:
    """The least extra FTE by grade that meets a waiting target in SNAPSHOT's forecast."""
    _need_sim_extra()
    from allocator.simulation.capacity import (
        TargetError,
        answer_lines,
        answers_csv,
        capacity,
        parse_target,
    )
    from allocator.simulation.forecast import ForecastSettings

    try:
        clauses = parse_target(target)
    except TargetError as exc:
        raise click.BadParameter(str(exc), param_hint="--target") from None
    if out is not None:
        with input_errors():
            check_output_folder(out, files=())
    snap, policy, calibration = _forecast_inputs(snapshot, policy_path, history)
    settings = ForecastSettings(
        weeks=weeks, runs=runs, seed=seed, method="engine" if method == "engine" else "greedy"
    )
    answers = []
    for grade in grades or ("social_worker",):

        def step(s: Any, grade: str = grade) -> None:
            echo(f"{grade} +{s.extra}: target met in {s.share:.0%} of runs", err=True)

        answers.append(
            capacity(
                snap,
                clauses,
                Grade(grade),
                policy=policy,
                settings=settings,
                confidence=confidence,
                max_extra=max_fte,
                calibration=calibration,
                workers=workers,
                on_step=step,
            )
        )
    for line in answer_lines(answers, clauses, confidence):
        echo(line)
    if out is not None:
        from allocator.io import write_text

        with writing(out):
            Path(out).mkdir(parents=True, exist_ok=True)
            write_text(Path(out) / "capacity.csv", answers_csv(answers))
        echo(f"wrote {Path(out) / 'capacity.csv'}", err=True)


@click.command("sweep")
@click.argument("spec", type=click.Path())
@click.option("--out", type=click.Path(), required=True, help="The sweep's folder (resumable).")
@click.option(
    "--workers",
    type=click.IntRange(min=1, max=MAX_WORKERS),
    default=2,
    show_default=True,
    help="Worker processes of the local Dask cluster (one thread each).",
)
@click.option(
    "--scheduler",
    help="Address of a running Dask scheduler (tcp://host:8786) instead of a local cluster.",
)
def sweep_command(spec: str, out: str, workers: int, scheduler: str | None) -> None:
    """Simulate every service x policy x seed x method of SPEC on Dask; one results table."""
    _need_sim_extra()
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
        check_output_folder(out, files=())
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
                run_cells(cells, out, workers=workers, scheduler=scheduler, on_done=done)
        except CellError as exc:
            echo(f"error: {exc}", err=True)
            sys.exit(1)
    with writing(out):
        target = write_results(cells, Path(out))
    echo(f"wrote {target}: {len(cells)} cells ({resumed} already done, not run again)", err=True)
