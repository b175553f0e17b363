"""Simulation speed and sweep throughput: figures printed, not a timed test.

``python -m benchmarks.simulation [--practitioners 150] [--days 365] [--seed 1]
[--skip-year] [--skip-quality] [--skip-sweep]`` prints:

1. **A year**: wall time of one simulated year of a synthetic service (contracts on)
   for the engine at the default work budgets and for the greedy rule, on the same
   events, with each method's changes per child-year and shares of children with
   one and two or more changes.
2. **Quality of the budget**: on mornings sampled from the engine's year, the
   default budgets against budgets ten times larger on the same snapshot: children
   allocated by class, siblings apart and changes of worker.
3. **Sweep throughput**: the same cells run on a ``LocalCluster`` with 1 and then 2
   worker processes, cells per minute and the scheduler's overhead (wall time less
   the cells' own time over the workers), for "large" cells (a simulated quarter of a
   25-practitioner service with the engine) and "tiny" ones (a week of 8
   practitioners, greedy), which show what a task must weigh for overhead to vanish.

Figures on a shared machine are noisy: compare ratios from one run.
"""

from __future__ import annotations

import math
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import click

from allocator.contract.models import Snapshot
from allocator.contract.policy import Policy
from allocator.generate import generate
from allocator.simulation import EngineMethod, GreedyMethod, Settings, draw_events, simulate
from allocator.simulation.methods import Decision
from allocator.simulation.report import summarise
from allocator.simulation.sweep import Cell, cells_of, run_sweep


@dataclass
class _Sampling(EngineMethod):
    """The engine, keeping the snapshots of some mornings for the quality check."""

    every: dict[str, int] = field(default_factory=lambda: {"allocate": 50, "rebalance": 12})
    kept: list[tuple[str, Snapshot]] = field(default_factory=list)
    seen: dict[str, int] = field(default_factory=lambda: {"allocate": 0, "rebalance": 0})

    def _keep(self, kind: str, snapshot: Snapshot) -> None:
        self.seen[kind] += 1
        if self.seen[kind] % self.every[kind] == 0:
            self.kept.append((kind, snapshot))

    def allocate(self, snapshot: Snapshot, policy: Policy) -> Decision:
        self._keep("allocate", snapshot)
        return super().allocate(snapshot, policy)

    def rebalance(self, snapshot: Snapshot, policy: Policy) -> Decision:
        self._keep("rebalance", snapshot)
        return super().rebalance(snapshot, policy)


def _year(practitioners: int, days: int, seed: int) -> list[tuple[str, Snapshot]]:
    snapshot = generate(practitioners, seed=seed, referral_rate=0.0, contracts=True)
    settings = Settings(days=days, seed=seed)
    events = draw_events(snapshot, seed=seed, days=days)
    engine = _Sampling(seed=seed)
    click.echo(
        f"== a year: {practitioners} practitioners, {len(snapshot.cases)} cases, {days} days, "
        f"seed {seed}; events {events.counts()}"
    )
    for method in (engine, GreedyMethod()):
        result = simulate(snapshot, method, settings=settings, events=events)
        s = summarise(result.recorder.tables(), days)
        budget = (
            f" (work units {engine.daily_work_units} a morning, "
            f"{engine.rebalance_work_units} a rebalance)"
            if method is engine
            else ""
        )
        click.echo(
            f"{method.name}{budget}: {result.seconds:.0f} s wall; "
            f"{s['changes_per_child_year']:.3f} changes per child-year "
            f"(leaver {s['changes_per_child_year_leaver']:.3f}, long absence "
            f"{s['changes_per_child_year_long_absence']:.3f}, rule "
            f"{s['changes_per_child_year_rule']:.3f}, over cap "
            f"{s['changes_per_child_year_over_cap']:.3f}, avoidable {s['avoidable_changes']}); "
            f">= 1 change {s['share_1plus_changes']:.1%}, >= 2 {s['share_2plus_changes']:.1%} "
            f"(looked after {s['looked_after_share_1plus']:.1%} / "
            f"{s['looked_after_share_2plus']:.1%}; England 60% / 26%); mean days unallocated "
            f"per referral {s['mean_waiting_days_referred']:.1f}; load spread {s['load_spread']}"
        )
    return engine.kept


def _quality(kept: list[tuple[str, Snapshot]], factor: float) -> None:
    from allocator.contract.settings import Settings
    from allocator.problems.daily import allocate
    from allocator.problems.rebalancing import rebalance

    click.echo(f"== quality: {len(kept)} sampled mornings, default budget vs x{factor:g}")
    base = EngineMethod()
    for kind, snap in kept:
        row = []
        for scale in (1.0, factor):
            started = time.perf_counter()
            if kind == "allocate":
                settings = Settings(
                    time_limit=600, work_units=base.daily_work_units * scale, seed=1
                )
                plan = allocate(snap, None, settings)
            else:
                settings = Settings(
                    time_limit=600, work_units=base.rebalance_work_units * scale, seed=1
                )
                plan = rebalance(snap, None, settings)
            seconds = time.perf_counter() - started
            o = plan.objective
            unallocated = {k: v for k, v in o.items() if k.startswith("unallocated")}
            row.append(
                f"x{scale:g}: {seconds:.1f} s, allocated {o.get('allocated', '-')}, "
                f"unallocated {unallocated}, changes {o.get('changes_of_worker', '-')}, "
                f"siblings apart {o.get('siblings_apart', '-')}, status {plan.status}"
            )
        click.echo(f"{snap.as_of} {kind}: " + " | ".join(row))


def _collector(into: list[float]) -> Callable[[Cell, float], None]:
    """An ``on_done`` that keeps each cell's seconds."""

    def done(_cell: Cell, seconds: float) -> None:
        into.append(seconds)

    return done


def _sweep(label: str, spec: dict[str, Any]) -> None:
    cells = cells_of(spec)
    click.echo(f"== sweep, {label}: {len(cells)} cells")
    figures: dict[int, float] = {}
    for workers in (1, 2):
        seconds: list[float] = []
        with tempfile.TemporaryDirectory() as tmp:
            started = time.perf_counter()
            run_sweep(cells, tmp, workers=workers, on_done=_collector(seconds))
            wall = time.perf_counter() - started
        busy = sum(s for s in seconds if not math.isnan(s))
        overhead = wall - busy / workers
        figures[workers] = wall
        click.echo(
            f"{workers} worker(s): {wall:.1f} s wall, {len(cells) / wall * 60:.1f} cells/min; "
            f"cells' own time {busy:.1f} s ({busy / len(cells):.2f} s a cell); overhead "
            f"(cluster start, scheduling, results) {overhead:.1f} s"
        )
    click.echo(f"speed-up 2 workers / 1: {figures[1] / figures[2]:.2f}x")


@click.command()
@click.option("--practitioners", type=int, default=150, show_default=True)
@click.option("--days", type=int, default=365, show_default=True)
@click.option("--seed", type=int, default=1, show_default=True)
@click.option("--skip-year", is_flag=True)
@click.option("--skip-quality", is_flag=True)
@click.option("--skip-sweep", is_flag=True)
def main(
    practitioners: int,
    days: int,
    seed: int,
    skip_year: bool,
    skip_quality: bool,
    skip_sweep: bool,
) -> None:
    """Print simulation and sweep figures."""
    kept: list[tuple[str, Snapshot]] = []
    if not skip_year:
        kept = _year(practitioners, days, seed)
    if not skip_quality and kept:
        _quality(kept[:8], 10.0)
    if not skip_sweep:
        service = {"name": "s25", "practitioners": 25, "seed": 1, "contracts": True}
        _sweep(
            "large cells (engine, 25 practitioners, 91 days)",
            {
                "days": 91,
                "seeds": [1, 2, 3],
                "methods": ["engine"],
                "services": [service],
                "policies": [{"name": "cap100"}, {"name": "cap90", "points_per_fte": 90}],
            },
        )
        _sweep(
            "tiny cells (greedy, 8 practitioners, 7 days)",
            {
                "days": 7,
                "seeds": list(range(12)),
                "methods": ["greedy"],
                "services": [{"name": "s8", "practitioners": 8, "seed": 1}],
            },
        )


if __name__ == "__main__":
    main()
