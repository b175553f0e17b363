"""``python -m benchmarks``: compare the engine, the greedy rule and the MIP on scenarios.

Examples::

    python -m benchmarks                      # the full suite -> benchmarks/RESULTS.md
    python -m benchmarks --quick              # CI: small sizes, quality relations asserted
    python -m benchmarks --quick --out /tmp/quick.md
    python -m benchmarks --sizes 25,150 --loads 0.8,0.95 --methods engine,greedy
    python -m benchmarks --scenarios daily-150-0.95,leavers-150 --time-limit 60
    python -m benchmarks year --quick         # the simulated year (benchmarks/year.py)

Named parts, each also ``python -m benchmarks.<part>``: ``year`` (a year of service
classes x sizes x seeds, engine against the manager's rule: issue 19's figures and
targets). Others run on their own only: ``python -m benchmarks.simulation`` (a year's
speed), ``.wales`` (the sweep spec of 22 Welsh councils), ``.speed``, ``.ssd_import``,
``.class_model``, ``.page``, ``.plan_hashes`` (each
plan's hash at fixed work budgets: a change meant to keep behaviour keeps every line).

Only a run of the whole suite (no scenario selection, every method) writes
``benchmarks/RESULTS.md`` by default; any other run prints its table unless ``--out``
names a file.

Exit code 1 when a quality relation is broken (a plan failing ``check_plan``, the
engine lexicographically worse than greedy, a proved engine optimum differing from
the MIP's); missed time, gap or memory targets are reported in the table only.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Literal

import click
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)

from allocator.contract.settings import resolve_settings
from benchmarks import scenarios as sc
from benchmarks.harness import (
    DEFAULT_MIP_MAX_SIZE,
    DEFAULT_MIP_TIME_LIMIT,
    METHODS,
    RunOptions,
    RunResult,
    assess,
    command_line,
    render_markdown,
    results_table,
    run_isolated,
)

DEFAULT_OUT = Path(__file__).resolve().parent / "RESULTS.md"
#: Quick mode's time limits (seconds): engine, MIP.
QUICK_ENGINE_LIMIT = 5.0
QUICK_MIP_LIMIT = 20.0


def _list(kind: type, text: str | None) -> list:  # type: ignore[type-arg]
    if text is None:
        return []
    try:
        return [kind(item) for item in text.split(",") if item.strip()]
    except ValueError:
        raise click.BadParameter(f"expected a comma-separated list, got {text!r}") from None


def _work_units(text: str | None) -> float | Literal["auto"] | None:
    """``--engine-work-units``: a budget or ``auto``, checked as the engine's settings are."""
    if text is None:
        return None
    try:
        value: float | str = float(text)
    except ValueError:
        value = text  # "auto", or refused below in the engine's own words
    try:
        return resolve_settings(None, work_units=value).work_units  # type: ignore[arg-type]
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--engine-work-units") from None


@click.command()
@click.option(
    "--quick",
    is_flag=True,
    help="CI mode: sizes 25 and 60 at loads 0.8 and 1.05 and a small leavers' "
    f"day, engine {QUICK_ENGINE_LIMIT:g} s, MIP {QUICK_MIP_LIMIT:g} s; writes no "
    "file unless --out is given.",
)
@click.option("--sizes", help="Daily scenarios of these sizes (practitioners), e.g. 25,150.")
@click.option("--loads", help="Loads for --sizes (default 0.95), e.g. 0.8,0.95.")
@click.option("--scenarios", "names", help="Scenarios by name, e.g. daily-150-0.95,leavers-150.")
@click.option("--methods", default=",".join(METHODS), show_default=True, help="Methods to compare.")
@click.option(
    "--time-limit",
    type=click.FloatRange(min=1),
    default=None,
    help=f"MIP time limit per run in seconds [default: {DEFAULT_MIP_TIME_LIMIT:g}].",
)
@click.option(
    "--engine-time-limit",
    type=click.FloatRange(min=0.1),
    default=None,
    help="Engine time limit for every scenario [default: the scenario's target time, else 10].",
)
@click.option(
    "--engine-work-units",
    callback=lambda _ctx, _param, value: _work_units(value),
    default=None,
    help="The engine's work budget, or 'auto' (calibrated to this machine at start-up) "
    "[default: the engine's, the time limit x 0.3].",
)
@click.option(
    "--mip-max-size",
    type=click.IntRange(min=0),
    default=DEFAULT_MIP_MAX_SIZE,
    show_default=True,
    help="Skip the MIP above this many practitioners.",
)
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Threads for CP-SAT and HiGHS.",
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False),
    default=None,
    help="Markdown results file [default: benchmarks/RESULTS.md for the whole suite; "
    "otherwise none: the table is printed].",
)
def main(
    quick: bool,
    sizes: str | None,
    loads: str | None,
    names: str | None,
    methods: str,
    time_limit: float | None,
    engine_time_limit: float | None,
    engine_work_units: float | Literal["auto"] | None,
    mip_max_size: int,
    workers: int,
    out: str | None,
) -> None:
    """Run benchmark scenarios, compare the methods and write a markdown table."""
    chosen_methods = _list(str, methods)
    unknown = [m for m in chosen_methods if m not in METHODS]
    if unknown:
        raise click.BadParameter(
            f"unknown method(s) {unknown}; choose from {list(METHODS)}", param_hint="--methods"
        )
    chosen_methods = [m for m in METHODS if m in chosen_methods]

    scenarios: list[sc.Scenario] = []
    if quick:
        scenarios += sc.quick()
    if sizes or loads:
        scenarios += sc.grid(
            _list(int, sizes) or list(sc.SUITE_SIZES), _list(float, loads) or [sc.SUITE_LOAD]
        )
    try:
        scenarios += sc.by_name(_list(str, names))
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--scenarios") from None
    if not scenarios:
        scenarios = sc.suite()
    scenarios = list({s.name: s for s in scenarios}.values())

    options = RunOptions(
        engine_time_limit=engine_time_limit or (QUICK_ENGINE_LIMIT if quick else None),
        engine_work_units=engine_work_units,
        mip_time_limit=time_limit or (QUICK_MIP_LIMIT if quick else DEFAULT_MIP_TIME_LIMIT),
        mip_max_size=mip_max_size,
        workers=workers,
    )
    console = Console(stderr=True)
    runs = [(s, m) for s in scenarios for m in chosen_methods]
    results: list[RunResult] = []
    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
    ) as progress:
        task = progress.add_task("benchmarks", total=len(runs))
        for scenario, method in runs:
            progress.update(task, description=f"{scenario.name} [bold]{method}[/]")
            result = run_isolated(scenario, method, options)
            results.append(result)
            seconds = "" if result.seconds is None else f" in {result.seconds:.2f} s"
            tiers = ""
            if result.objective:
                tiers = " tiers " + "/".join(f"{v:g}" for _, _, v in result.objective)
            progress.console.print(
                f"{scenario.name:>18} {method:>6}: {result.status}{seconds}{tiers}"
                + (
                    f" ({result.note})"
                    if result.status not in ("optimal", "heuristic", "feasible")
                    else ""
                )
            )
            progress.advance(task)

    assessment = assess(scenarios, results)
    # Only a run of the whole suite replaces the committed results by default.
    whole_suite = not (quick or sizes or loads or names) and chosen_methods == list(METHODS)
    target = Path(out) if out else (DEFAULT_OUT if whole_suite else None)
    if target is not None:
        target.write_text(
            render_markdown(scenarios, results, assessment, options, command_line()),
            encoding="utf-8",
        )
        console.print(f"wrote {target}")
    else:
        print("\n".join(results_table(results, assessment)))
    if assessment.failures:
        console.print("[bold red]quality relations broken:[/]")
        for failure in assessment.failures:
            console.print(f"  {failure}")
        sys.exit(1)
    console.print(
        "quality relations hold: every plan passes check_plan; engine >= greedy "
        "lexicographically; proved optima agree"
    )


#: ``python -m benchmarks PART ...``: the named parts, each a module's click command.
PARTS = ("year",)


def run(argv: list[str]) -> None:
    """``python -m benchmarks``: a named part (``year ...``), else the scenario suite."""
    if argv[:1] == ["year"]:
        from benchmarks.year import main as year

        year(args=argv[1:], prog_name="python -m benchmarks year")
    else:
        main(args=argv, prog_name="python -m benchmarks")


if __name__ == "__main__":
    run(sys.argv[1:])
