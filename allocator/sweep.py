"""Policy sweeps: many services x policies x seeds x methods, each a simulated year, on Dask.

A sweep SPEC is a TOML file::

    days = 365                      # days simulated per cell
    seeds = [1, 2, 3]               # event-stream seeds
    methods = ["engine", "greedy"]
    work_units = 0.2                # the engine's budget per morning (optional)
    rebalance_work_units = 0.5      # and per rebalance (optional)

    [[services]]                    # a synthetic service (allocator.generate) ...
    name = "s150"
    practitioners = 150
    seed = 1
    load = 0.9                      # optional, as generate's
    contracts = true                # optional: staff with agency / fixed-term contracts

    [[services]]                    # ... or a snapshot file every worker can read
    name = "example"
    snapshot = "examples/service.json"

    [[policies]]
    name = "cap100"                 # the default policy

    [[policies]]
    name = "cap90"
    points_per_fte = 90             # any top-level policy number (Policy.with_overrides)
    rebalance_every = 14            # simulation settings: rebalance_every, arrival_factor

Every combination is a **cell**; a cell is one task on the Dask cluster (a
``LocalCluster`` of single-threaded worker processes by default, or the scheduler at
``--scheduler ADDRESS``). Each finished cell is written at once to
``OUT/cells/<key>.json``, so an interrupted sweep resumes where it stopped: cells
already there are not run again. ``OUT/results.parquet`` (and ``results.csv``) hold
one row per cell in the spec's order, with the cell's settings and the figures of
:func:`allocator.simulation.report.summarise`; ``OUT/summary.png`` plots changes per
child-year and children waiting by policy and method.

Engine and greedy in the same service, policy and seed see the same events (common
random numbers): the event stream depends on the seed and the service alone.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

#: Simulation settings a policy entry may carry besides policy numbers.
SIM_KEYS = ("rebalance_every", "arrival_factor")
#: Keys of a service entry.
SERVICE_KEYS = {"name", "practitioners", "seed", "load", "contracts", "snapshot"}


class SpecError(ValueError):
    """A sweep SPEC that cannot be run, with every problem found."""


@dataclass(frozen=True)
class Cell:
    """One simulated year: a service, a policy, a seed and a method."""

    service: Mapping[str, Any]
    policy: Mapping[str, Any]
    seed: int
    method: str
    days: int
    work_units: float
    rebalance_work_units: float

    @property
    def key(self) -> str:
        """A stable name for the cell: the SHA-256 of its settings, 16 hex digits."""
        text = json.dumps(self.settings(), sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def settings(self) -> dict[str, Any]:
        """The cell's settings as plain data (what its key and its row record)."""
        return {
            "service": dict(self.service),
            "policy": dict(self.policy),
            "seed": self.seed,
            "method": self.method,
            "days": self.days,
            "work_units": self.work_units,
            "rebalance_work_units": self.rebalance_work_units,
        }


def load_spec(path: str | Path) -> list[Cell]:
    """The cells of the sweep SPEC at ``path``, in order (services, policies, seeds, methods).

    Raises
    ------
    SpecError
        Naming every problem: unknown keys, a service with neither ``practitioners``
        nor ``snapshot``, a policy number out of its domain, an unknown method.
    """
    with open(path, "rb") as f:
        try:
            data = tomllib.load(f)
        except tomllib.TOMLDecodeError as exc:
            raise SpecError(f"{path}: {exc}") from exc
    return cells_of(data, str(path))


def cells_of(data: Mapping[str, Any], source: str = "spec") -> list[Cell]:
    """The cells of a parsed spec (see :func:`load_spec`)."""
    from allocator.policy import Policy, PolicyError

    problems: list[str] = []
    known = {"days", "seeds", "methods", "work_units", "rebalance_work_units", "services"}
    known |= {"policies"}
    for key in sorted(set(data) - known):
        problems.append(f"{source}: unknown key '{key}'")
    services = list(data.get("services", []))
    policies = list(data.get("policies", [{"name": "default"}]))
    seeds = list(data.get("seeds", [0]))
    methods = list(data.get("methods", ["engine", "greedy"]))
    if not services:
        problems.append(f"{source}: no [[services]]")
    for k, s in enumerate(services):
        extra = sorted(set(s) - SERVICE_KEYS)
        if extra:
            problems.append(f"{source}: services[{k}]: unknown key(s) {', '.join(extra)}")
        if ("practitioners" in s) == ("snapshot" in s):
            problems.append(f"{source}: services[{k}]: give practitioners or snapshot, not both")
        if "name" not in s:
            problems.append(f"{source}: services[{k}]: no name")
    for k, p in enumerate(policies):
        if "name" not in p:
            problems.append(f"{source}: policies[{k}]: no name")
        numbers = {key: v for key, v in p.items() if key != "name" and key not in SIM_KEYS}
        try:
            Policy().with_overrides(**numbers)
        except PolicyError as exc:
            problems.append(f"{source}: policies[{k}]: {exc}")
    for m in methods:
        if m not in ("engine", "greedy"):
            problems.append(f"{source}: method '{m}', expected engine or greedy")
    if not all(isinstance(s, int) and s >= 0 for s in seeds):
        problems.append(f"{source}: seeds must be whole numbers, 0 or more")
    if problems:
        raise SpecError("\n".join(problems))
    return [
        Cell(
            service=s,
            policy=p,
            seed=seed,
            method=m,
            days=int(data.get("days", 365)),
            work_units=float(data.get("work_units", 0.2)),
            rebalance_work_units=float(data.get("rebalance_work_units", 0.5)),
        )
        for s, p, seed, m in itertools.product(services, policies, seeds, methods)
    ]


def run_cell(settings: Mapping[str, Any]) -> dict[str, Any]:
    """Simulate one cell (its :meth:`Cell.settings`) and return its row: settings + figures.

    A plain function of plain data, so any Dask worker can run it.
    """
    from allocator.generate import generate
    from allocator.io import load_snapshot
    from allocator.policy import Policy
    from allocator.simulation import EngineMethod, GreedyMethod, Method, Settings, simulate
    from allocator.simulation.report import summarise

    service, policy_spec = settings["service"], settings["policy"]
    numbers = {k: v for k, v in policy_spec.items() if k != "name" and k not in SIM_KEYS}
    policy = Policy().with_overrides(**numbers) if numbers else Policy()
    if "snapshot" in service:
        snapshot = load_snapshot(service["snapshot"])
    else:
        snapshot = generate(
            int(service["practitioners"]),
            seed=int(service.get("seed", 0)),
            load=float(service.get("load", 0.9)),
            referral_rate=0.0,
            policy=None,
            contracts=bool(service.get("contracts", False)),
        )
    method: Method = (
        EngineMethod(
            daily_work_units=settings["work_units"],
            rebalance_work_units=settings["rebalance_work_units"],
            seed=settings["seed"],
        )
        if settings["method"] == "engine"
        else GreedyMethod()
    )
    sim = Settings(
        days=settings["days"],
        seed=settings["seed"],
        rebalance_every=int(policy_spec.get("rebalance_every", 7)),
        arrival_factor=float(policy_spec.get("arrival_factor", 1.0)),
    )
    result = simulate(snapshot, method, policy, sim)
    figures = summarise(result.recorder.tables())
    row: dict[str, Any] = {
        "service": service["name"],
        "policy": policy_spec["name"],
        "seed": settings["seed"],
        "method": settings["method"],
        "days": settings["days"],
    }
    return {"row": {**row, **figures}, "seconds": result.seconds}


def run_sweep(
    cells: Sequence[Cell],
    out: str | Path,
    *,
    workers: int = 2,
    scheduler: str | None = None,
    on_done: Callable[[Cell, float], None] | None = None,
) -> Path:
    """Run every cell not yet in ``out/cells`` on Dask, then write the results table.

    Parameters
    ----------
    cells
        From :func:`load_spec`.
    out
        The sweep's folder: ``cells/`` (one JSON per finished cell), ``results.parquet``,
        ``results.csv`` and ``summary.png``.
    workers
        Worker processes of the ``LocalCluster`` (one thread each: CP-SAT runs single
        threaded); ignored with ``scheduler``.
    scheduler
        Address of a running Dask scheduler (``tcp://host:8786``); every worker must
        be able to import ``allocator`` and read any snapshot files named.
    on_done
        Called with each cell as it finishes and its simulation's seconds (a
        progress bar); cells found already done are reported with ``nan``.

    Returns
    -------
    Path
        ``out/results.parquet``.
    """
    # distributed ships no type hints: its three entry points are typed here as Any.
    from dask import distributed

    local_cluster: Any = distributed.LocalCluster
    client_of: Any = distributed.Client
    as_completed: Any = distributed.as_completed

    folder = Path(out)
    done_dir = folder / "cells"
    done_dir.mkdir(parents=True, exist_ok=True)
    todo = [c for c in cells if not (done_dir / f"{c.key}.json").exists()]
    for c in cells:
        if c not in todo and on_done is not None:
            on_done(c, float("nan"))
    if todo:
        cluster = None
        if scheduler is None:
            cluster = local_cluster(
                n_workers=workers,
                threads_per_worker=1,
                processes=True,
                dashboard_address=None,
                silence_logs=40,  # logging.ERROR: the progress bar is the display
            )
        client = client_of(scheduler if scheduler is not None else cluster)
        try:
            by_key = {c.key: c for c in todo}
            futures = [
                client.submit(run_cell, c.settings(), key=f"cell-{c.key}", pure=False) for c in todo
            ]
            for future in as_completed(futures):
                cell = by_key[str(future.key).removeprefix("cell-")]
                result = future.result()
                _write_cell(done_dir / f"{cell.key}.json", cell, result["row"])
                if on_done is not None:
                    on_done(cell, float(result["seconds"]))
        finally:
            client.close()
            if cluster is not None:
                cluster.close()
    return write_results(cells, folder)


def _write_cell(path: Path, cell: Cell, row: Mapping[str, Any]) -> None:
    """One finished cell, written whole or not at all (resuming trusts what is there)."""
    tmp = path.with_suffix(".tmp")
    tmp.write_text(
        json.dumps({"settings": cell.settings(), "row": row}, sort_keys=True, indent=1) + "\n",
        encoding="utf-8",
    )
    tmp.replace(path)


def write_results(cells: Sequence[Cell], folder: Path) -> Path:
    """``results.parquet``, ``results.csv`` and ``summary.png`` from the finished cells."""
    import pandas as pd

    rows = []
    for c in cells:
        path = folder / "cells" / f"{c.key}.json"
        if path.exists():
            rows.append(json.loads(path.read_text(encoding="utf-8"))["row"])
    table = pd.DataFrame(rows)
    target = folder / "results.parquet"
    table.to_parquet(target, index=False)
    table.to_csv(folder / "results.csv", index=False, lineterminator="\n")
    if len(table):
        _summary_plot(table, folder / "summary.png")
    return target


def _summary_plot(table: Any, path: Path) -> None:
    """Changes per child-year and mean days unallocated per referral, by policy x method."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    means = table.groupby(["policy", "method"], sort=False)[
        ["changes_per_child_year", "mean_waiting_days_referred"]
    ].mean()
    policies = list(dict.fromkeys(table["policy"]))
    methods = list(dict.fromkeys(table["method"]))
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    width = 0.8 / max(1, len(methods))
    labels = ("changes per child-year", "mean days unallocated per referred child")
    for ax, column, label in zip(axes, means.columns, labels, strict=True):
        for k, m in enumerate(methods):
            values = [float(means[column].get((p, m), float("nan"))) for p in policies]
            ax.bar([i + k * width for i in range(len(policies))], values, width, label=m)
        ax.set_xticks([i + width * (len(methods) - 1) / 2 for i in range(len(policies))])
        ax.set_xticklabels(policies)
        ax.set_ylabel(label)
    axes[0].legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100, metadata={"Software": None})
    plt.close(fig)
