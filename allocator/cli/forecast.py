"""The forecast's commands: the next weeks of a service run many times (``forecast``),
the staffing question (``capacity``: the least extra FTE that meets a waiting
target) and the forecast checked against a council's own history (``backtest``).
All need the ``sim`` extra, imported only when one runs (docs/FORECAST.md).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from allocator.cli.echo import echo, input_errors
from allocator.cli.extras import need_sim_extra
from allocator.cli.files import (
    read_handovers,
    read_inputs,
    read_policy,
    warn_unread_handovers,
    writing,
)
from allocator.cli.options import FiniteRange, IsoDay, policy_option, seed_option
from allocator.command_line import A_FOLDER, A_SNAPSHOT, GivenPath
from allocator.contract.limits import (
    MAX_EXTRA_FTE,
    MAX_RUNS,
    MAX_WAIT_TARGET_DAYS,
    MAX_WEEKS,
    MAX_WORKERS,
    WAIT_TARGET_DAYS,
)
from allocator.contract.models import Contract, Grade, Handover, Snapshot
from allocator.contract.policy import Policy
from allocator.io import BACKTEST, CAPACITY, FORECAST, check_results_folder

if TYPE_CHECKING:
    from allocator.simulation.forecast import Calibration


#: The options the forecast, the backtest and the staffing question share (their runs
#: are alike).
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
    type=GivenPath(expected="a folder of SSD tables"),
    help="An SSD extract folder whose past episodes calibrate the rates (else national).",
)
_RUNS = click.option(
    "--runs",
    type=click.IntRange(min=1, max=MAX_RUNS),
    default=50,
    show_default=True,
    help="Simulated futures; the bands are their 10th to 90th percentiles.",
)
_FORECAST_HANDOVERS = click.option(
    "--handovers",
    "handovers_path",
    type=GivenPath(),
    help="Handovers still pending (from apply): kept in every run, their room held.",
)


def _forecast_inputs(
    snapshot: str, policy_path: str | None, history: str | None, handovers_path: str | None
) -> tuple[Snapshot, Policy, Calibration | None, tuple[Handover, ...]]:
    """The snapshot, the policy, the calibration from ``history`` (or ``None``) and the
    handovers still pending of a forecast or a staffing question; a bad one exits 2
    with its sentence. A pending handovers file beside the snapshot and not given is
    warned of: without it the forecast breaks those promises."""
    snap, policy = read_inputs(snapshot, None, policy_path)
    warn_unread_handovers(snapshot, handovers_path, "keep them in the forecast")
    handovers = read_handovers(handovers_path, snap, policy)
    if history is None:
        return snap, policy, None, handovers
    from allocator.simulation.calibrate import calibrate_ssd

    with input_errors():
        return snap, policy, calibrate_ssd(history, snap), handovers


def _given(
    snapshot: str, policy: str | None, history: str | None, handovers: str | None
) -> dict[str, str | None]:
    """A forecast's inputs by what they are, none of which its --out may be."""
    return {"snapshot": snapshot, "policy": policy, "history": history, "handovers": handovers}


@click.command("forecast")
@click.argument("snapshot", type=GivenPath(expected=A_SNAPSHOT))
@_WEEKS
@_RUNS
@seed_option
@policy_option
@_FORECAST_METHOD
@_FORECAST_WORKERS
@_HISTORY
@_FORECAST_HANDOVERS
@click.option(
    "--wait-target",
    type=click.IntRange(min=0, max=MAX_WAIT_TARGET_DAYS),
    default=WAIT_TARGET_DAYS,
    show_default=True,
    help="Days a statutory child may wait: the FTE short by grade keeps to it.",
)
@click.option("--no-plots", is_flag=True, help="Leave out the PNG chart.")
@click.option(
    "--out",
    type=GivenPath(expected=A_FOLDER),
    required=True,
    help="Folder for the forecast's files.",
)
def forecast_command(
    snapshot: str,
    weeks: int,
    runs: int,
    seed: int,
    policy_path: str | None,
    method: str,
    workers: int,
    history: str | None,
    handovers_path: str | None,
    wait_target: int,
    no_plots: bool,
    out: str,
) -> None:
    """Run SNAPSHOT's next weeks many times: waiting, over-cap, who loses their worker."""
    need_sim_extra()
    from allocator.simulation.forecast import ForecastSettings, forecast
    from allocator.simulation.forecast_report import summary_lines, write_forecast

    with input_errors():
        check_results_folder(out, FORECAST, _given(snapshot, policy_path, history, handovers_path))
    snap, policy, calibration, handovers = _forecast_inputs(
        snapshot, policy_path, history, handovers_path
    )
    settings = ForecastSettings(
        weeks=weeks,
        runs=runs,
        seed=seed,
        method="engine" if method == "engine" else "greedy",
        wait_target_days=wait_target,
    )
    fc = forecast(
        snap, policy, settings, calibration=calibration, handovers=handovers, workers=workers
    )
    with writing(out):
        written = write_forecast(fc, out, plots=not no_plots)
    for line in summary_lines(fc):
        echo(line, err=True)
    echo(f"wrote {', '.join(p.name for p in written)} in {out} ({fc.seconds:.0f} s)", err=True)


@click.command("capacity")
@click.argument("snapshot", type=GivenPath(expected=A_SNAPSHOT))
@click.option(
    "--target",
    required=True,
    help='Waiting target, e.g. "urgent wait <= 1 day; statutory p90 wait <= 10 days".',
)
@_WEEKS
@click.option("--runs", type=click.IntRange(min=1, max=MAX_RUNS), default=20, show_default=True)
@seed_option
@policy_option
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
    help="Most extra FTE tried per grade (0: only whether today's staff meet the target).",
)
@click.option(
    "--contract",
    "contracts",
    type=click.Choice([c.value for c in Contract]),
    multiple=True,
    help="Contract of the workers added (repeat to compare); default permanent. "
    "Priced from the policy's [costs.<grade>] table where it gives one.",
)
@_FORECAST_METHOD
@_FORECAST_WORKERS
@_HISTORY
@_FORECAST_HANDOVERS
@click.option(
    "--out", type=GivenPath(expected=A_FOLDER), help="Folder for capacity.csv (every point tried)."
)
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
    contracts: tuple[str, ...],
    method: str,
    workers: int,
    history: str | None,
    handovers_path: str | None,
    out: str | None,
) -> None:
    """The least extra FTE by grade (and contract) that meets a waiting target in
    SNAPSHOT's forecast, priced where the policy gives costs."""
    need_sim_extra()
    from allocator.simulation.capacity import (
        TargetError,
        answer_lines,
        answers_csv,
        capacity,
        parse_target,
        step_line,
    )
    from allocator.simulation.forecast import ForecastSettings

    try:
        clauses = parse_target(target)
    except TargetError as exc:
        raise click.BadParameter(str(exc), param_hint="--target") from None
    if out is not None:
        with input_errors():
            check_results_folder(
                out, CAPACITY, _given(snapshot, policy_path, history, handovers_path)
            )
    snap, policy, calibration, handovers = _forecast_inputs(
        snapshot, policy_path, history, handovers_path
    )
    settings = ForecastSettings(
        weeks=weeks, runs=runs, seed=seed, method="engine" if method == "engine" else "greedy"
    )
    answers = []
    for grade in grades or ("social_worker",):
        for contract in contracts or ("permanent",):
            who = grade if contract == "permanent" else f"{grade}, {contract}"

            def step(s: Any, who: str = who) -> None:
                echo(step_line(who, s, clauses), err=True)

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
                    contract=Contract(contract),
                    handovers=handovers,
                )
            )
    for line in answer_lines(answers, clauses, confidence):
        echo(line)
    if out is not None:
        from allocator.io import write_results_folder

        with writing(out):
            write_results_folder(out, CAPACITY, {"capacity.csv": answers_csv(answers)})
        echo(f"wrote {Path(out) / 'capacity.csv'}", err=True)


@click.command("backtest")
@click.argument("source", type=GivenPath(expected="a folder of SSD tables or a database URL"))
@click.option(
    "--mapping", "mapping_path", type=GivenPath(), required=True, help="Mapping file (TOML)."
)
@click.option(
    "--from",
    "from_day",
    type=IsoDay(),
    required=True,
    help="The day to forecast from, YYYY-MM-DD: at least --weeks weeks before the history ends.",
)
@_WEEKS
@_RUNS
@seed_option
@policy_option
@_FORECAST_METHOD
@_FORECAST_WORKERS
@click.option(
    "--out",
    type=GivenPath(expected=A_FOLDER),
    required=True,
    help="Folder for the backtest's files.",
)
def backtest_command(
    source: str,
    mapping_path: str,
    from_day: date,
    weeks: int,
    runs: int,
    seed: int,
    policy_path: str | None,
    method: str,
    workers: int,
    out: str,
) -> None:
    """Forecast from a past day of SOURCE, an SSD history (folder or database URL), with
    rates from before that day only, and compare with what the history says happened."""
    need_sim_extra()
    from allocator.simulation.backtest import backtest, read_history
    from allocator.simulation.backtest_report import summary_lines, write_backtest
    from allocator.simulation.forecast import ForecastSettings
    from allocator.ssd.mapping import load_ssd_mapping

    settings = ForecastSettings(
        weeks=weeks, runs=runs, seed=seed, method="engine" if method == "engine" else "greedy"
    )
    with input_errors():
        check_results_folder(
            out, BACKTEST, {"source": source, "mapping": mapping_path, "policy": policy_path}
        )
    policy = read_policy(policy_path)
    with input_errors():
        history = read_history(source, load_ssd_mapping(mapping_path))
        bt = backtest(history, from_day, settings, policy, workers=workers)
    with writing(out):
        written = write_backtest(bt, out)
    for line in summary_lines(bt):
        echo(line, err=True)
    echo(
        f"wrote {', '.join(p.name for p in written)} in {out} ({bt.forecast.seconds:.0f} s)",
        err=True,
    )
