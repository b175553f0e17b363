"""``python -m benchmarks.year``: the simulated year as the judge of the engine (issue 19).

Runs service classes x sizes x seeds, each a simulated year of the engine and of the
manager's rule (``greedy``) on the same events, as cells of a Dask sweep
(:mod:`allocator.simulation.sweep`), and prints one table: each figure of what children live
through (:data:`allocator.simulation.report.CHILD_FIGURES`), engine and greedy as the
mean over seeds with the min-max spread, the ratio engine / greedy of the means, and
issue 19's target with met / not met (judged on the means).

Examples::

    python -m benchmarks.year --quick                 # 60 practitioners, 1 seed, 120 days
    python -m benchmarks.year                         # the full run (see DEFAULT_* below)
    python -m benchmarks.year --classes steady --practitioners 60 --seeds 1,2,3 --days 180
    python -m benchmarks.year --policy variant.toml --out year/   # judge an engine variant
    python -m benchmarks year --quick                 # the same, as a named part

**Service classes** (each a service generated with agency and fixed-term contracts,
``generate --contracts``, no referrals waiting on day 0; the year's referrals come
from the event stream at ``arrival_factor`` times the rate that keeps the caseload
steady):

- ``stretched``: load 1.0, referrals at 1.15;
- ``steady``: load 0.95, referrals at 1.0;
- ``slack``: load 0.85, referrals at 0.85.

For seed ``s``, the service is generated with seed ``s`` and its events drawn with
seed ``s`` (the engine's CP-SAT seed is ``s`` too): both methods see exactly the same
service and events. The same arguments give the same figures, byte for byte; run
times go to the terminal only. Each run starts afresh (cells are never resumed from
an earlier run: the engine under judgement may have changed since).

Run it from the worktree whose engine you judge: the cluster's worker processes
import ``allocator`` from the same path as this command. Ctrl-C prints one line,
:data:`INTERRUPTED`, and writes no table.
"""

from __future__ import annotations

import json
import math
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import click

# The allocator's own path option (never empty) and ending on a signal: one definition
# each, so this harness refuses and stops as `allocator sweep` does.
from allocator.command_line import A_FOLDER, GivenPath, interruptions, invoke_interruptibly
from allocator.io import InputError, check_results_folder, write_results_folder
from allocator.simulation.report import (
    CHILD_FIGURES,
    Figure,
    figure_value,
    long_wait_note,
    short_run_note,
    show,
)
from allocator.simulation.sweep import Cell


@dataclass(frozen=True)
class ServiceClass:
    """A kind of service: how full its caseload starts and how fast referrals come."""

    name: str
    load: float
    arrival_factor: float
    about: str


#: The service classes, in the order the table lists them.
SERVICE_CLASSES: dict[str, ServiceClass] = {
    c.name: c
    for c in (
        ServiceClass("stretched", 1.0, 1.15, "load 1.0, referrals at 1.15 of the steady rate"),
        ServiceClass("steady", 0.95, 1.0, "load 0.95, referrals at the steady rate"),
        ServiceClass("slack", 0.85, 0.85, "load 0.85, referrals at 0.85 of the steady rate"),
    )
}
DEFAULT_CLASSES = ("stretched", "steady", "slack")
DEFAULT_PRACTITIONERS = (40, 150)
DEFAULT_SEEDS = (1, 2)
DEFAULT_DAYS = 365
#: ``--quick``: one small service class for development.
QUICK_CLASSES = ("steady",)
QUICK_PRACTITIONERS = (60,)
QUICK_SEEDS = (1,)
QUICK_DAYS = 120


@dataclass(frozen=True)
class Target:
    """Issue 19's target for a figure: the engine's mean against the greedy rule's.

    ``kind`` ``at_most``: engine <= ``value`` x greedy; ``at_least_share``: engine >=
    ``value`` (a share, whatever greedy does).
    """

    kind: Literal["at_most", "at_least_share"]
    value: float

    def words(self) -> str:
        """The target as the table prints it: ``<= 0.8x greedy``, ``>= 90%``."""
        if self.kind == "at_least_share":
            return f">= {self.value:.0%}"
        return "<= greedy" if self.value == 1 else f"<= {self.value:g}x greedy"

    def met(self, engine: float, greedy: float | None) -> bool | None:
        """Whether the engine's ``engine`` meets it against ``greedy`` (None: unknown)."""
        if self.kind == "at_least_share":
            return engine >= self.value - 1e-12
        if greedy is None:
            return None
        return engine <= self.value * greedy + 1e-9


#: Issue 19's targets, by figure key (figures without one are reported only).
TARGETS: dict[str, Target] = {
    "court_wait_median_days": Target("at_most", 0.8),
    "court_wait_p90_days": Target("at_most", 0.8),
    "statutory_wait_median_days": Target("at_most", 0.8),
    "statutory_wait_p90_days": Target("at_most", 0.8),
    "urgent_child_days_waiting": Target("at_most", 1.0),
    "leaver_children_told_ahead_share": Target("at_least_share", 0.9),
    "leaver_child_mean_days_without_worker": Target("at_most", 0.5),
    "worker_days_over_cap": Target("at_most", 1.0),
    "changes_per_child_year": Target("at_most", 0.95),
    "mean_waiting_days_referred": Target("at_most", 1.0),
}

METHODS = ("engine", "greedy")
#: What Ctrl-C (exit 130) or SIGTERM (143) while the years run prints: as any
#: allocator command ends (allocator.command_line.invoke_interruptibly); the cluster is
#: closed on the way out, and its workers ignore Ctrl-C (allocator.simulation.cluster).
INTERRUPTED = "interrupted: no year table written"
INTERRUPTED_EXIT = 130
#: The command named in the --out folder's manifest (allocator.io.results).
YEAR = "python -m benchmarks year"


class _Interruptible(click.Command):
    """The year's command, ending on SIGINT and SIGTERM as ``allocator sweep`` does."""

    def invoke(self, ctx: click.Context) -> Any:
        parent = super().invoke
        return invoke_interruptibly(ctx, lambda: parent(ctx), product="year table")


@dataclass(frozen=True)
class Spread:
    """A figure over seeds: the mean, the least and the most (None: no seed had one)."""

    mean: float | None
    low: float | None
    high: float | None
    seeds: int

    @classmethod
    def of(cls, values: Sequence[float | None]) -> Spread:
        """The spread of the seeds' values that exist (a median of no waits does not)."""
        known = [v for v in values if v is not None and not math.isnan(v)]
        if not known:
            return cls(None, None, None, 0)
        return cls(sum(known) / len(known), min(known), max(known), len(known))


@dataclass(frozen=True)
class Row:
    """One line of the table: a service, a figure, both methods, the ratio, the target."""

    service: str
    figure: Figure
    engine: Spread
    greedy: Spread
    target: Target | None

    @property
    def ratio(self) -> float | None:
        """Engine's mean / greedy's (None when either is missing or greedy's is 0)."""
        if self.engine.mean is None or self.greedy.mean is None or self.greedy.mean == 0:
            return None
        return self.engine.mean / self.greedy.mean

    @property
    def met(self) -> bool | None:
        """Whether the target is met on the means; None without a target or a value."""
        if self.target is None or self.engine.mean is None:
            return None
        return self.target.met(self.engine.mean, self.greedy.mean)


def service_name(klass: str, practitioners: int) -> str:
    """``steady-60``: a service class at a size."""
    return f"{klass}-{practitioners}"


def year_table(rows: Sequence[Mapping[str, Any]], services: Sequence[str]) -> list[Row]:
    """The table from the sweep's rows (one per service x seed x method).

    Parameters
    ----------
    rows
        Each with ``service``, ``seed``, ``method`` and the figures of
        :func:`allocator.simulation.report.summarise`.
    services
        The services in the table's order.

    Returns
    -------
    list of Row
        Per service, one row per figure of
        :data:`~allocator.simulation.report.CHILD_FIGURES`, in its order.
    """
    table = []
    for service in services:
        mine = [r for r in rows if r["service"] == service]
        for figure in CHILD_FIGURES:
            spread = {
                m: Spread.of(
                    [
                        figure_value(r, figure)
                        for r in sorted(mine, key=lambda r: r["seed"])
                        if r["method"] == m
                    ]
                )
                for m in METHODS
            }
            table.append(
                Row(service, figure, spread["engine"], spread["greedy"], TARGETS.get(figure.key))
            )
    return table


def _spread_text(figure: Figure, s: Spread) -> str:
    if s.mean is None:
        return "n/a"
    text = show(figure, round(s.mean, 4 if figure.percent else 3))
    if s.seeds > 1:
        text += f" ({show(figure, s.low)}–{show(figure, s.high)})"
    return text


def _met_text(row: Row) -> str:
    if row.target is None:
        return ""
    return {True: "met", False: "**not met**", None: "n/a"}[row.met]


def render_table(table: Sequence[Row]) -> list[str]:
    """The table in markdown, one line per service and figure."""
    lines = [
        "| service | figure | engine | greedy | engine / greedy | target | met |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in table:
        ratio = "n/a" if row.ratio is None else f"{row.ratio:.2f}"
        target = row.target.words() if row.target else ""
        lines.append(
            f"| {row.service} | {row.figure.label} | {_spread_text(row.figure, row.engine)} "
            f"| {_spread_text(row.figure, row.greedy)} | {ratio} | {target} | {_met_text(row)} |"
        )
    return lines


def tally(table: Sequence[Row]) -> str:
    """Targets met, in one sentence: ``targets met: 12 of 30 (2 n/a)``."""
    judged = [r for r in table if r.target is not None]
    met = sum(1 for r in judged if r.met is True)
    unknown = sum(1 for r in judged if r.met is None)
    return f"targets met: {met} of {len(judged)}" + (f" ({unknown} n/a)" if unknown else "")


def csv_rows(table: Sequence[Row]) -> list[dict[str, Any]]:
    """The table as plain rows for ``year.csv`` (one per service and figure)."""
    out = []
    for row in table:
        line: dict[str, Any] = {"service": row.service, "figure": row.figure.key}
        for m, s in (("engine", row.engine), ("greedy", row.greedy)):
            line[f"{m}_mean"] = None if s.mean is None else round(s.mean, 6)
            line[f"{m}_min"] = s.low
            line[f"{m}_max"] = s.high
            line[f"{m}_seeds"] = s.seeds
        line["ratio"] = None if row.ratio is None else round(row.ratio, 6)
        line["target"] = row.target.words() if row.target else None
        line["met"] = row.met
        out.append(line)
    return out


# ------------------------------------------------------------------------ the run


def sweep_cells(
    classes: Sequence[str],
    practitioners: Sequence[int],
    seeds: Sequence[int],
    days: int,
    policy: Mapping[str, Any] | None = None,
) -> list[Cell]:
    """The sweep's cells: per class and seed, each size, both methods.

    ``policy`` (a policy as plain data, every key of a policy file) replaces the
    built-in policy in every cell.
    """
    from allocator.simulation.sweep import cells_of

    cells = []
    for name in classes:
        klass = SERVICE_CLASSES[name]
        for seed in seeds:
            spec = {
                "days": days,
                "seeds": [seed],
                "methods": list(METHODS),
                "services": [
                    {
                        "name": service_name(name, n),
                        "practitioners": n,
                        "seed": seed,
                        "load": klass.load,
                        "contracts": True,
                    }
                    for n in practitioners
                ],
                "policies": [
                    {"name": name, "arrival_factor": klass.arrival_factor, **(policy or {})}
                ],
            }
            cells += cells_of(spec, f"service class {name}")
    return cells


def _read_policy(path: str) -> dict[str, Any]:
    """The policy file at ``path`` as plain data, or a clear error naming the problem."""
    from allocator.contract.policy import PolicyError
    from allocator.io import InputError, load_policy

    try:
        policy = load_policy(path)
    except (InputError, PolicyError) as exc:
        raise click.BadParameter(str(exc), param_hint="--policy") from None
    except OSError as exc:
        raise click.BadParameter(f"{path}: {exc.strerror or exc}", param_hint="--policy") from None
    data: dict[str, Any] = policy.model_dump(mode="json")
    return data


def _whole_numbers(text: str, option: str, low: int, high: int) -> list[int]:
    if not text.strip():
        # An empty value is refused, not read as "not given" (the full default run).
        raise click.BadParameter(
            "an empty list; expected whole numbers separated by commas", param_hint=option
        )
    values = []
    for item in text.split(","):
        item = item.strip()
        try:
            value = int(item)
        except ValueError:
            raise click.BadParameter(
                f"expected whole numbers separated by commas, got {item!r}", param_hint=option
            ) from None
        if not low <= value <= high:
            raise click.BadParameter(
                f"{value} is not from {low} to {high}", param_hint=option
            ) from None
        if value in values:
            raise click.BadParameter(f"{value} is given twice", param_hint=option)
        values.append(value)
    return values


def _class_names(text: str) -> list[str]:
    if not text.strip():
        raise click.BadParameter(
            f"an empty list; expected service classes of {', '.join(SERVICE_CLASSES)} "
            "separated by commas",
            param_hint="--classes",
        )
    names = [n.strip() for n in text.split(",") if n.strip()]
    unknown = [n for n in names if n not in SERVICE_CLASSES]
    if unknown or not names:
        raise click.BadParameter(
            f"unknown service class(es) {', '.join(map(repr, unknown)) or '(none given)'}; "
            f"choose from {', '.join(SERVICE_CLASSES)}",
            param_hint="--classes",
        )
    return list(dict.fromkeys(names))


def _run(cells: Sequence[Cell], workers: int) -> list[dict[str, Any]]:
    """Every cell on a fresh ``LocalCluster``; the finished rows, in the cells' order."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    from allocator.simulation.sweep import CellError, run_cells

    with (
        tempfile.TemporaryDirectory(prefix="year-") as tmp,
        Progress(
            "[progress.description]{task.description}",
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=Console(stderr=True),
            transient=True,
        ) as bar,
    ):
        task = bar.add_task("simulated years", total=len(cells))

        def done(cell: Cell, seconds: float) -> None:
            bar.advance(task)
            finished = int(bar.tasks[0].completed)
            bar.console.print(
                f"{cell.service['name']} seed {cell.seed} {cell.method}: {seconds:.0f} s "
                f"({finished}/{len(cells)})"
            )

        try:
            run_cells(cells, tmp, workers=workers, on_done=done)
        except CellError as exc:
            bar.stop()
            click.echo(f"error: {exc}", err=True)
            sys.exit(1)
        return [
            json.loads((Path(tmp) / "cells" / f"{c.key}.json").read_text(encoding="utf-8"))["row"]
            for c in cells
        ]


def render_markdown(
    table: Sequence[Row],
    *,
    classes: Sequence[str],
    practitioners: Sequence[int],
    seeds: Sequence[int],
    days: int,
    policy: str | None,
) -> str:
    """The whole report: what was run, the table, the tally; for a run too short for
    some figures, the sentences a simulated run's report gives (per child-year rates
    scaled up from under four weeks, the share of 90-day waits n/a)."""
    lines = [
        "# The simulated year: engine against the manager's rule",
        "",
        f"Service classes {', '.join(classes)} ("
        + "; ".join(f"{c}: {SERVICE_CLASSES[c].about}" for c in classes)
        + f"), {', '.join(map(str, practitioners))} practitioners with agency and "
        f"fixed-term contracts; seeds {', '.join(map(str, seeds))}; {days} days; policy "
        f"{policy or 'built in'}. Each figure: the mean over seeds (min-max across seeds); "
        "engine / greedy is the ratio of the means; each target is judged on the means.",
        "",
        *render_table(table),
        "",
        tally(table) + ".",
        "",
    ]
    # The same words as a simulated run's report, from the same rules.
    notes = [n for n in (short_run_note(days), long_wait_note(days)) if n is not None]
    if notes:
        lines += [*notes, ""]
    return "\n".join(lines)


@click.command(cls=_Interruptible)
@click.option(
    "--quick",
    is_flag=True,
    help=f"Development: class {', '.join(QUICK_CLASSES)}, "
    f"{', '.join(map(str, QUICK_PRACTITIONERS))} practitioners, seed "
    f"{', '.join(map(str, QUICK_SEEDS))}, {QUICK_DAYS} days (each overridable).",
)
@click.option(
    "--classes",
    help=f"Service classes, of {', '.join(SERVICE_CLASSES)} "
    f"[default: {','.join(DEFAULT_CLASSES)}].",
)
@click.option(
    "--practitioners",
    help=f"Service sizes [default: {','.join(map(str, DEFAULT_PRACTITIONERS))}].",
)
@click.option("--seeds", help=f"Seeds [default: {','.join(map(str, DEFAULT_SEEDS))}].")
@click.option("--days", type=int, default=None, help=f"Days simulated [default: {DEFAULT_DAYS}].")
@click.option(
    "--policy",
    "policy_path",
    type=GivenPath(),
    help="Policy file (TOML) for both methods, as simulate --policy: an engine variant.",
)
@click.option("--workers", type=int, default=2, show_default=True, help="Worker processes.")
@click.option(
    "--out",
    type=GivenPath(expected=A_FOLDER),
    help="Folder for year.md and year.csv (the table as markdown and CSV).",
)
def main(
    quick: bool,
    classes: str | None,
    practitioners: str | None,
    seeds: str | None,
    days: int | None,
    policy_path: str | None,
    workers: int,
    out: str | None,
) -> None:
    """Simulate service classes x sizes x seeds, engine and greedy on the same events;
    print each figure of what children live through, the ratio and issue 19's target."""
    from allocator.contract.limits import MAX_DAYS, MAX_PRACTITIONERS, MAX_SEED, MAX_WORKERS

    # "is not None": an empty value given is refused, never taken for the default.
    chosen_classes = (
        _class_names(classes)
        if classes is not None
        else list(QUICK_CLASSES if quick else DEFAULT_CLASSES)
    )
    sizes = (
        _whole_numbers(practitioners, "--practitioners", 1, MAX_PRACTITIONERS)
        if practitioners is not None
        else list(QUICK_PRACTITIONERS if quick else DEFAULT_PRACTITIONERS)
    )
    chosen_seeds = (
        _whole_numbers(seeds, "--seeds", 0, MAX_SEED)
        if seeds is not None
        else list(QUICK_SEEDS if quick else DEFAULT_SEEDS)
    )
    run_days = days if days is not None else (QUICK_DAYS if quick else DEFAULT_DAYS)
    if not 1 <= run_days <= MAX_DAYS:
        raise click.BadParameter(f"{run_days} is not from 1 to {MAX_DAYS}", param_hint="--days")
    if not 1 <= workers <= MAX_WORKERS:
        raise click.BadParameter(
            f"{workers} is not from 1 to {MAX_WORKERS}", param_hint="--workers"
        )
    if out is not None:
        try:
            check_results_folder(out, YEAR, {"policy": policy_path})
        except InputError as exc:
            raise click.BadParameter(str(exc), param_hint="--out") from None
    policy = _read_policy(policy_path) if policy_path is not None else None

    cells = sweep_cells(chosen_classes, sizes, chosen_seeds, run_days, policy)
    click.echo(
        f"{len(cells)} simulated years ({len(chosen_classes)} classes x {len(sizes)} sizes x "
        f"{len(chosen_seeds)} seeds x 2 methods) on {workers} worker(s)",
        err=True,
    )
    started = time.perf_counter()
    rows = _run(cells, workers)
    seconds = time.perf_counter() - started
    services = [service_name(c, n) for c in chosen_classes for n in sizes]
    table = year_table(rows, services)
    text = render_markdown(
        table,
        classes=chosen_classes,
        practitioners=sizes,
        seeds=chosen_seeds,
        days=run_days,
        policy=policy_path,
    )
    click.echo(text, nl=False)
    if out is not None:
        import pandas as pd

        folder = Path(out)
        year_csv = pd.DataFrame(csv_rows(table)).to_csv(index=False, lineterminator="\n")
        try:
            with interruptions.deferred(out):
                write_results_folder(folder, YEAR, {"year.md": text, "year.csv": year_csv})
        except InputError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(2)
        click.echo(f"wrote {folder / 'year.md'} and {folder / 'year.csv'}", err=True)
    click.echo(f"took {seconds:.0f} s on {workers} worker(s)", err=True)


if __name__ == "__main__":
    main(prog_name="python -m benchmarks.year")
