"""Policy sweeps: many services x policies x seeds x methods, each a simulated year, on Dask.

A sweep SPEC is a TOML file (every key, its type, range and default: docs/SIMULATION.md,
"The sweep spec"; :func:`load_spec` checks them all before any cluster starts)::

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
import io
import itertools
import json
import math
import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from allocator.io import SWEEP, write_results_folder

if TYPE_CHECKING:
    import pandas as pd

    from allocator.contract.models import Snapshot
    from allocator.contract.policy import Policy
    from allocator.simulation.run import Result

#: Simulation settings a policy entry may carry besides policy numbers.
SIM_KEYS = ("rebalance_every", "arrival_factor")
#: Keys of the spec's top level, in the order docs/SIMULATION.md lists them.
TOP_KEYS = (
    "days",
    "seeds",
    "methods",
    "work_units",
    "rebalance_work_units",
    "services",
    "policies",
)
#: Keys of a service entry.
SERVICE_KEYS = ("name", "practitioners", "seed", "load", "contracts", "snapshot")
#: Keys only a generated service (``practitioners``) takes.
GENERATED_KEYS = ("seed", "load", "contracts")
#: The methods a cell may run.
METHODS = ("engine", "greedy")
#: Defaults of the optional top-level keys.
DEFAULTS: dict[str, Any] = {
    "days": 365,
    "seeds": [0],
    "methods": ["engine", "greedy"],
    "work_units": 0.2,
    "rebalance_work_units": 0.5,
    "policies": [{"name": "default"}],
}


class SpecError(ValueError):
    """A sweep SPEC that cannot be run, with every problem found, one per line."""


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
    #: The SHA-256 of the service's snapshot file as read at the door (``None`` for a
    #: generated service): part of the key, so a file changed since is a new cell.
    snapshot_sha256: str | None = None

    @property
    def key(self) -> str:
        """A stable name for the cell: the SHA-256 of its settings, 16 hex digits.

        The settings hold the snapshot file's content hash, not only its path: a
        finished cell is reused only for the same bytes.
        """
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
        } | ({} if self.snapshot_sha256 is None else {"snapshot_sha256": self.snapshot_sha256})

    def label(self) -> str:
        """The cell in words: ``service s150, policy cap90, seed 1, engine``."""
        return (
            f"service {self.service['name']}, policy {self.policy['name']}, "
            f"seed {self.seed}, {self.method}"
        )


class CellError(RuntimeError):
    """A cell whose simulation failed on its worker (a valid spec; a fault in the run)."""


def load_spec(path: str | Path) -> list[Cell]:
    """The cells of the sweep SPEC at ``path``, in order (services, policies, seeds, methods).

    Every key is checked here, before any cluster starts (docs/SIMULATION.md, "The
    sweep spec"): its type and range (the limits of ``simulate`` and ``generate``),
    unknown keys (with a close known name), duplicate names, and each snapshot file
    named, read and validated.

    Raises
    ------
    SpecError
        Naming every problem, one per line: the spec file, the table or entry, the
        key, what was found and what was expected.
    """
    from allocator.io import InputError, decode_utf8

    source = str(Path(path))
    try:
        with open(path, "rb") as f:
            data = tomllib.loads(decode_utf8(f.read(), source))
    except InputError as exc:
        raise SpecError(f"{exc}, expected a TOML file saved as UTF-8") from None
    except tomllib.TOMLDecodeError as exc:
        raise SpecError(f"{source}: not valid TOML: {exc}") from None
    except ValueError as exc:
        from allocator.io import unreadable_number

        raise SpecError(f"{source}: not valid TOML: {unreadable_number(exc)}") from None
    except OSError as exc:
        raise SpecError(f"{source}: cannot be read: {exc.strerror}") from None
    return cells_of(data, source)


def cells_of(data: Mapping[str, Any], source: str = "spec") -> list[Cell]:
    """The cells of a parsed spec (see :func:`load_spec`), or :class:`SpecError`."""
    problems = _Problems(source)
    spec = {**DEFAULTS, **data}
    top = "top level"
    problems.unknown(top, data, TOP_KEYS)
    # The command line's own limits: a spec takes exactly what simulate and generate take.
    from allocator.contract.limits import MAX_DAYS, MAX_SEED, MAX_TIME_LIMIT

    problems.whole(top, "days", spec["days"], 1, MAX_DAYS)
    for key in ("work_units", "rebalance_work_units"):
        problems.number(top, key, spec[key], 0.0, MAX_TIME_LIMIT, low_open=True)
    seeds = problems.array(top, "seeds", spec["seeds"], "a list of whole numbers, e.g. [1, 2, 3]")
    for k, seed in enumerate(seeds):
        problems.whole(top, f"seeds[{k}]", seed, 0, MAX_SEED)
    problems.duplicates(top, "seeds", seeds)
    methods = problems.array(top, "methods", spec["methods"], 'a list such as ["engine", "greedy"]')
    for k, m in enumerate(methods):
        if m not in METHODS:
            problems.add(top, f"methods[{k}]", m, "engine or greedy")
    problems.duplicates(top, "methods", methods)

    services: list[Mapping[str, Any]] = []
    if "services" in data:
        services = problems.tables("services", data["services"])
    else:
        problems.lines.append(f"{source}: no [[services]]: expected at least one service entry")
    contents: dict[int, str] = {}
    for k, service in enumerate(services):
        found = _check_service(problems, k, service)
        if found is not None:
            contents[k] = found
    policies = problems.tables("policies", spec["policies"])
    for k, policy in enumerate(policies):
        _check_policy(problems, k, policy)
    for kind, entries in (("services", services), ("policies", policies)):
        names = [e["name"] for e in entries if isinstance(e.get("name"), str)]
        problems.duplicates(kind, "name", names)
    if problems.lines:
        raise SpecError("\n".join(problems.lines))
    # A snapshot named relative to the folder the command runs in, as the docs say: a
    # worker process elsewhere (a `dask worker` started in another folder) reads it
    # by its absolute path.
    services = [
        {**s, "snapshot": str(Path(s["snapshot"]).resolve())} if "snapshot" in s else s
        for s in services
    ]
    return [
        Cell(
            service=s,
            policy=p,
            seed=seed,
            method=m,
            days=int(spec["days"]),
            work_units=float(spec["work_units"]),
            rebalance_work_units=float(spec["rebalance_work_units"]),
            snapshot_sha256=contents.get(k),
        )
        for (k, s), p, seed, m in itertools.product(enumerate(services), policies, seeds, methods)
    ]


def _entry(kind: str, k: int, entry: Mapping[str, Any]) -> str:
    """``services[1] (example)``: an entry of an array of tables, zero-based, and its name."""
    name = entry.get("name")
    return f"{kind}[{k}]" + (f" ({name})" if isinstance(name, str) and name else "")


def _check_service(problems: _Problems, k: int, service: Mapping[str, Any]) -> str | None:
    """Check one service entry; the SHA-256 of its snapshot file, when it names one."""
    from allocator.contract.limits import MAX_LOAD, MAX_PRACTITIONERS, MAX_SEED

    where = _entry("services", k, service)
    problems.unknown(where, service, SERVICE_KEYS)
    problems.name(where, service)
    generated, snapshot = "practitioners" in service, "snapshot" in service
    if generated == snapshot:
        found = "both" if generated else "neither"
        problems.lines.append(
            f"{problems.source}: {where}: found {found} of practitioners and snapshot, "
            "expected one: practitioners (a generated service) or snapshot (a file), not both"
        )
    if generated:
        problems.whole(where, "practitioners", service["practitioners"], 1, MAX_PRACTITIONERS)
        if "seed" in service:
            problems.whole(where, "seed", service["seed"], 0, MAX_SEED)
        if "load" in service:
            problems.number(where, "load", service["load"], 0.0, MAX_LOAD)
        if "contracts" in service and not isinstance(service["contracts"], bool):
            problems.add(where, "contracts", service["contracts"], "true or false")
    elif snapshot:
        for key in GENERATED_KEYS:
            if key in service:
                problems.lines.append(
                    f"{problems.source}: {where}: {key}: only a generated service "
                    "(practitioners) takes it, not a snapshot"
                )
        return _check_snapshot(problems, where, service["snapshot"])
    return None


def _file_sha256(path: str) -> str:
    """The SHA-256 of a snapshot's content, in hex: a file's bytes, or for a folder of
    CSV tables each file's name and bytes (in name order)."""
    root = Path(path)
    if not root.is_dir():
        return hashlib.sha256(root.read_bytes()).hexdigest()
    whole = hashlib.sha256()
    for file in sorted(p for p in root.rglob("*") if p.is_file()):
        whole.update(file.relative_to(root).as_posix().encode() + b"\0")
        whole.update(hashlib.sha256(file.read_bytes()).digest())
    return whole.hexdigest()


def _check_snapshot(problems: _Problems, where: str, path: Any) -> str | None:
    """The snapshot file is there, readable and valid: read it as every worker will.

    Returns the SHA-256 of its bytes (the cells' key holds it), or ``None`` when the
    file is not a valid snapshot (reported in ``problems``).
    """
    from allocator.io import InputError, load_snapshot

    if not isinstance(path, str) or not path:
        problems.add(where, "snapshot", path, "the path of a snapshot JSON file")
        return None
    try:
        sha256 = _file_sha256(path)
        load_snapshot(path)
        return sha256
    except InputError as exc:
        for line in str(exc).splitlines():
            problems.lines.append(f"{problems.source}: {where}: snapshot: {line}")
    except OSError as exc:
        problems.lines.append(
            f"{problems.source}: {where}: snapshot: {path}: {exc.strerror or exc}, "
            "expected a readable snapshot file (relative paths are from the current folder)"
        )
    return None


class SnapshotChanged(RuntimeError):
    """A service's snapshot file whose bytes are not those the sweep's spec read."""


def _check_policy(problems: _Problems, k: int, policy: Mapping[str, Any]) -> None:
    from allocator.contract.limits import MAX_ARRIVAL_FACTOR, MAX_DAYS
    from allocator.contract.policy import Policy, PolicyError

    where = _entry("policies", k, policy)
    problems.name(where, policy)
    if "rebalance_every" in policy:
        problems.whole(where, "rebalance_every", policy["rebalance_every"], 0, MAX_DAYS)
    if "arrival_factor" in policy:
        problems.number(where, "arrival_factor", policy["arrival_factor"], 0.0, MAX_ARRIVAL_FACTOR)
    numbers = {key: v for key, v in policy.items() if key != "name" and key not in SIM_KEYS}
    try:
        Policy().with_overrides(**numbers)
    except PolicyError as exc:
        for line in str(exc).splitlines():
            problems.lines.append(
                f"{problems.source}: {where}: {line.removeprefix('policy override: ')}"
            )


class _Problems:
    """The problems found in a spec, one line each, every line naming ``source``."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.lines: list[str] = []

    def add(self, where: str, key: str, found: Any, expected: str) -> None:
        self.lines.append(
            f"{self.source}: {where}: {key}: found {_show(found)}, expected {expected}"
        )

    def unknown(self, where: str, table: Mapping[str, Any], known: Sequence[str]) -> None:
        from allocator.io import did_you_mean

        for key in sorted(set(table) - set(known), key=str):
            self.lines.append(
                f"{self.source}: {where}: unknown key {key!r}{did_you_mean(key, known)}"
            )

    def whole(self, where: str, key: str, value: Any, low: int, high: int) -> None:
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            self.add(where, key, value, f"a whole number from {low} to {high}")

    def number(
        self, where: str, key: str, value: Any, low: float, high: float, *, low_open: bool = False
    ) -> None:
        ok = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
        if ok:
            ok = (value > low if low_open else value >= low) and value <= high
        if not ok:
            lower = f"greater than {low:g}" if low_open else f"from {low:g}"
            joint = " and at most " if low_open else " to "
            self.add(where, key, value, f"a number {lower}{joint}{high:g}")

    def array(self, where: str, key: str, value: Any, expected: str) -> list[Any]:
        if not isinstance(value, list) or not value:
            self.add(where, key, value, expected)
            return []
        return value

    def tables(self, kind: str, value: Any) -> list[Mapping[str, Any]]:
        """The entries of ``[[kind]]``; a problem for anything else (a lone ``[kind]``)."""
        if not isinstance(value, list) or not value:
            self.add("top level", kind, value, f"one or more [[{kind}]] entries")
            return []
        entries: list[Mapping[str, Any]] = []
        for k, entry in enumerate(value):
            if isinstance(entry, dict):
                entries.append(entry)
            else:
                self.add(f"{kind}[{k}]", "entry", entry, f"a table ([[{kind}]])")
        return entries

    def name(self, where: str, entry: Mapping[str, Any]) -> None:
        name = entry.get("name")
        if name is None:
            self.lines.append(f"{self.source}: {where}: name: missing, expected a name")
        elif not isinstance(name, str) or not name.strip():
            self.add(where, "name", name, "a non-empty string")

    def duplicates(self, where: str, key: str, values: Sequence[Any]) -> None:
        seen: set[Any] = set()
        for v in values:
            if isinstance(v, bool):
                continue  # a wrong type, reported already (and equal to 1 to Python)
            try:
                repeated = v in seen
                seen.add(v)
            except TypeError:  # an unhashable value, reported already as a wrong type
                continue
            if repeated:
                self.lines.append(
                    f"{self.source}: {where}: {key}: {_show(v)} is given twice, "
                    "expected each once (the same cell would run twice)"
                )


def _show(value: Any) -> str:
    """A found value in a message: TOML-like, cut short if long."""
    if isinstance(value, dict):
        return "a table"
    text = "true" if value is True else "false" if value is False else repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def run_cell(settings: Mapping[str, Any]) -> dict[str, Any]:
    """Simulate one cell (its :meth:`Cell.settings`) and return its row: settings + figures.

    A plain function of plain data, so any Dask worker can run it.
    """
    from allocator.contract.policy import Policy
    from allocator.generate import generate
    from allocator.io import load_snapshot
    from allocator.simulation import EngineMethod, GreedyMethod, Method, Settings, simulate
    from allocator.simulation.report import summarise

    service, policy_spec = settings["service"], settings["policy"]
    numbers = {k: v for k, v in policy_spec.items() if k != "name" and k not in SIM_KEYS}
    policy = Policy().with_overrides(**numbers) if numbers else Policy()
    if "snapshot" in service:
        expected = settings.get("snapshot_sha256")
        if expected is not None and _file_sha256(service["snapshot"]) != expected:
            # The file changed after the spec was read: its figures would be filed
            # under the old content's key.
            raise SnapshotChanged(
                f"{service['snapshot']}: the snapshot file changed since the sweep "
                f"started (SHA-256 {expected[:16]} expected); run the sweep again"
            )
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
    figures = summarise(result.recorder.tables(), sim.days) | fte_short_figures(
        result, snapshot, policy
    )
    row: dict[str, Any] = {
        "service": service["name"],
        "policy": policy_spec["name"],
        "seed": settings["seed"],
        "method": settings["method"],
        "days": settings["days"],
    }
    return {"row": {**row, **figures}, "seconds": result.seconds}


def fte_short_figures(result: Result, snapshot: Snapshot, policy: Policy) -> dict[str, float]:
    """FTE by grade short of keeping statutory waits within the forecast's target, as the
    mean over the run's week-ends (days 7, 14, ...; the last day for a run under a week).

    The forecast's one definition (:func:`allocator.simulation.forecast.fte_short`, its
    target :data:`~allocator.contract.limits.WAIT_TARGET_DAYS`, 10 days: docs/FORECAST.md, "FTE
    short by grade"): at a week's end, each statutory child waiting longer than the
    target needs room of their weight at the least senior grade that may hold them, over
    one FTE's cap of that grade (``points_per_fte`` x the grade factor), so a lower cap
    makes the same children need more FTE. Keys ``fte_short_<grade>`` and
    ``fte_short_all``.
    """
    from allocator.contract.limits import WAIT_TARGET_DAYS
    from allocator.simulation.forecast import fte_short, waited_before

    days = len(result.events.days)
    ends = list(range(7, days + 1, 7)) or [days]
    short = fte_short(
        result.recorder.all_waits(),
        result.events,
        snapshot,
        policy,
        ends,
        waited_before(snapshot, policy),
        WAIT_TARGET_DAYS,
    )
    return {
        name.replace(" ", "_"): round(sum(float(v or 0.0) for v in values) / len(values), 3)
        for name, values in short.items()
    }


def run_sweep(
    cells: Sequence[Cell],
    out: str | Path,
    *,
    workers: int = 2,
    scheduler: str | None = None,
    on_done: Callable[[Cell, float], None] | None = None,
) -> Path:
    """Run every cell not yet in ``out/cells`` on Dask, then write the results table.

    :func:`run_cells`, then :func:`write_results`.

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
    run_cells(cells, out, workers=workers, scheduler=scheduler, on_done=on_done)
    return write_results(cells, Path(out))


def run_cells(
    cells: Sequence[Cell],
    out: str | Path,
    *,
    workers: int = 2,
    scheduler: str | None = None,
    on_done: Callable[[Cell, float], None] | None = None,
    say: Callable[[str], None] | None = None,
) -> None:
    """Run every cell not yet in ``out/cells`` on Dask; each written as it finishes.

    Parameters as :func:`run_sweep`; ``say`` is told, in a sentence, of a scheduler
    with no workers yet (the cells wait for one). An exception in the caller's thread (an
    interruption: ``KeyboardInterrupt``) stops the sweep at once: the cluster is shut
    down, cells running are abandoned, cells finished stay written for the next run.

    Raises
    ------
    CellError
        If a cell's simulation fails on its worker, naming the cell; the cells
        finished before it are kept.
    """
    from allocator.io import made_by

    folder = Path(out)
    if made_by(folder) != SWEEP:
        # Claimed before the first cell is written: an interrupted sweep's folder is
        # then one a resumed sweep may write in, and no other command's.
        write_results_folder(folder, SWEEP, {})
    done_dir = folder / "cells"
    done_dir.mkdir(parents=True, exist_ok=True)
    todo = [c for c in cells if not (done_dir / f"{c.key}.json").exists()]
    for c in cells:
        if c not in todo and on_done is not None:
            on_done(c, float("nan"))
    if not todo:
        return
    from allocator.simulation.cluster import dask_client

    with dask_client(workers, scheduler) as client:
        # distributed ships no type hints: as_completed is typed here as Any.
        from dask import distributed

        as_completed: Any = distributed.as_completed
        by_key = {c.key: c for c in todo}
        if scheduler is not None and say is not None and not client.scheduler_info()["workers"]:
            say(
                f"the scheduler at {scheduler} has no workers yet: start one with "
                f"`dask worker {scheduler}`; the cells wait for it"
            )
        futures = [
            client.submit(run_cell, c.settings(), key=f"cell-{c.key}", pure=False) for c in todo
        ]
        for future in as_completed(futures):
            cell = by_key[str(future.key).removeprefix("cell-")]
            if future.status != "finished":
                raise CellError(f"{cell.label()}: {_failure(future)}")
            result = future.result()
            _write_cell(done_dir / f"{cell.key}.json", cell, result["row"])
            if on_done is not None:
                on_done(cell, float(result["seconds"]))


def _failure(future: Any) -> str:
    """What went wrong in a failed cell, in one line: ``KeyError: 'x'``."""
    exc = future.exception()
    text = f"{type(exc).__name__}: {exc}" if exc is not None else "cancelled"
    return " ".join(text.split())


def _write_cell(path: Path, cell: Cell, row: Mapping[str, Any]) -> None:
    """One finished cell, written whole or not at all (resuming trusts what is there)."""
    tmp = path.with_suffix(".tmp")
    tmp.write_text(
        json.dumps({"settings": cell.settings(), "row": row}, sort_keys=True, indent=1) + "\n",
        encoding="utf-8",
    )
    tmp.replace(path)


def write_results(cells: Sequence[Cell], folder: Path) -> Path:
    """The sweep's tables and plot from the finished cells: ``results.parquet`` and
    ``results.csv`` (one row per cell), ``policies.csv`` and ``policies.md`` (the
    services together, per policy and method: :func:`policy_totals`) and
    ``summary.png`` (:func:`_summary_plot`)."""
    import pandas as pd

    rows = []
    for c in cells:
        path = folder / "cells" / f"{c.key}.json"
        if path.exists():
            rows.append(json.loads(path.read_text(encoding="utf-8"))["row"])
    table = pd.DataFrame(rows)
    buffer = io.BytesIO()
    table.to_parquet(buffer, index=False)
    files: dict[str, bytes | str] = {
        "results.parquet": buffer.getvalue(),
        "results.csv": table.to_csv(index=False, lineterminator="\n"),
    }
    if len(table):
        from allocator.simulation.charts import png

        totals = policy_totals(table)
        files["policies.csv"] = totals.to_csv(index=False, lineterminator="\n")
        files["policies.md"] = policies_markdown(totals)
        files["summary.png"] = png(summary_figure(totals))
    write_results_folder(folder, SWEEP, files)
    return folder / "results.parquet"


#: The figures of :func:`policy_totals`, each with its heading in ``policies.md``.
TOTALS: dict[str, str] = {
    "services": "services",
    "children": "children",
    "fte_short_all": "FTE short, all grades",
    "waiting_all": "children waiting, mean day",
    "waiting_statutory": "statutory waiting, mean day",
    "waiting_urgent": "urgent waiting, mean day",
    "urgent_child_days_waiting": "urgent child-days waiting",
    "changes_per_child_year": "changes of worker per child-year",
    "share_1plus_changes": "open all run: >= 1 change",
    "worker_days_over_cap": "worker-days over cap",
}


def policy_totals(table: pd.DataFrame) -> pd.DataFrame:
    """The services of a sweep taken together, per policy and method (a nation of
    councils, or one service alone): the mean over seeds, and its min and max.

    For each policy, method and seed, over the services (the cells of
    :func:`run_cell`):

    - ``fte_short_<grade>``, ``fte_short_all``: the sum of the services' FTE short
      (:func:`fte_short_figures`: each the mean over the run's week-ends);
    - ``waiting_<class>``, ``waiting_all``: children waiting on the mean day, by the
      policy's priority class (each service's ``waiting_child_days_<class>`` over the
      run's days, summed);
    - ``children``, ``changes``, ``urgent_child_days_waiting``,
      ``worker_days_over_cap``: sums;
    - ``changes_per_child_year``: all changes over all the years children were open;
    - ``share_1plus_changes``: of all children open the whole run, the share with at
      least one change of worker.

    Then per policy and method, in the spec's order: the mean over seeds of each
    figure, ``<figure>_min`` and ``<figure>_max``, and ``seeds``.
    """
    import pandas as pd

    from allocator.contract.models import Grade
    from allocator.contract.policy import Policy

    frame = table.copy()
    # The classes in the built-in policy's order (urgent first), a council's own after.
    found = [c.removeprefix("waiting_child_days_") for c in frame.columns]
    found = [c for c in found if f"waiting_child_days_{c}" in frame.columns]
    order = Policy().class_names
    classes = sorted(found, key=lambda c: (order.index(c) if c in order else len(order), c))
    for name in classes:
        frame[f"waiting_{name}"] = frame[f"waiting_child_days_{name}"] / frame["days"]
    frame["waiting_all"] = frame[[f"waiting_{n}" for n in classes]].sum(axis=1)
    # Shares are weighted back to counts so that they add up across services.
    share = pd.to_numeric(frame["share_1plus_changes"], errors="coerce").fillna(0.0)
    frame["_changed_open_all_run"] = share * frame["children_open_all_run"]
    # In grade order (a cell's file holds its figures in name order), then all grades.
    fte = [f"fte_short_{g.value}" for g in Grade if f"fte_short_{g.value}" in frame.columns]
    fte += ["fte_short_all"] if "fte_short_all" in frame.columns else []
    summed = [
        "children",
        *fte,
        *(f"waiting_{n}" for n in classes),
        "waiting_all",
        "changes",
        "child_years",
        "urgent_child_days_waiting",
        "worker_days_over_cap",
        "children_open_all_run",
        "_changed_open_all_run",
    ]
    keys = ["policy", "method", "seed"]
    by_seed = frame.groupby(keys, sort=False)[summed].sum()
    by_seed["services"] = frame.groupby(keys, sort=False)["service"].nunique()
    by_seed["changes_per_child_year"] = by_seed["changes"] / by_seed["child_years"]
    open_all = by_seed["children_open_all_run"]
    by_seed["share_1plus_changes"] = (by_seed["_changed_open_all_run"] / open_all).where(
        open_all > 0
    )
    figures = [
        "services",
        "children",
        *fte,
        *(f"waiting_{n}" for n in classes),
        "waiting_all",
        "urgent_child_days_waiting",
        "changes",
        "changes_per_child_year",
        "share_1plus_changes",
        "worker_days_over_cap",
    ]
    groups = by_seed.reset_index().groupby(["policy", "method"], sort=False)
    out = groups[figures].mean().round(4)
    lows = groups[figures].min().round(4).add_suffix("_min")
    highs = groups[figures].max().round(4).add_suffix("_max")
    out = out.join(lows).join(highs)
    out["seeds"] = groups["seed"].nunique()
    return out.reset_index()


def policies_markdown(totals: pd.DataFrame) -> str:
    """``policies.md``: :func:`policy_totals` as one table, each figure the seeds' mean
    with their min-max beside it where the seeds differ."""
    grades = [c for c in _figures(totals, "fte_short_") if c != "fte_short_all"]
    headings = {"services": "services", "children": "children"}
    headings |= {g: "FTE short, " + g.removeprefix("fte_short_") for g in grades}
    headings |= {k: v for k, v in TOTALS.items() if k in totals.columns}
    lines = [
        "| policy | method | seeds | " + " | ".join(headings.values()) + " |",
        "|---|---|---|" + "---|" * len(headings),
    ]
    for _, row in totals.iterrows():
        cells = " | ".join(_figure(row, c) for c in headings)
        lines.append(f"| {row['policy']} | {row['method']} | {row['seeds']} | {cells} |")
    return "\n".join(lines) + "\n"


def _figures(totals: pd.DataFrame, prefix: str) -> list[str]:
    """The mean columns of :func:`policy_totals` named ``prefix...`` (not their min, max)."""
    return [c for c in totals.columns if c.startswith(prefix) and not c.endswith(("_min", "_max"))]


def _figure(row: pd.Series, column: str) -> str:
    """A figure as ``mean (min-max)``; the mean alone when every seed gave the same."""
    mean, low, high = row[column], row[f"{column}_min"], row[f"{column}_max"]
    if mean != mean:  # NaN: no seed had a value
        return "n/a"
    text = _number(mean)
    return text if low == high else f"{text} ({_number(low)}-{_number(high)})"


def _number(value: float) -> str:
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:,.3f}" if abs(value) < 10 else f"{value:,.1f}"


def summary_figure(totals: pd.DataFrame) -> Any:
    """Per policy and method, the services together (:func:`policy_totals`): FTE short
    by grade, children waiting on the mean day by class (stacked, the seeds' mean; a
    count, so whole-number ticks from 0) and changes of worker per child-year;
    whiskers span the seeds' min-max of the total; each stacked panel's legend beside
    it, clear of the bars."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from allocator.simulation.charts import count_axis, legend_outside

    labels = [f"{p}\n{m}" for p, m in zip(totals["policy"], totals["method"], strict=True)]
    x = list(range(len(labels)))
    fte = [c for c in _figures(totals, "fte_short_") if c != "fte_short_all"]
    waiting = [c for c in _figures(totals, "waiting_") if c != "waiting_all"]
    panels = (
        (fte, "fte_short_all", "FTE short of statutory waits <= 10 days", "fte_short_"),
        (waiting, "waiting_all", "children waiting, mean day", "waiting_"),
        (
            ["changes_per_child_year"],
            "changes_per_child_year",
            "changes of worker per child-year",
            "",
        ),
    )
    fig, axes = plt.subplots(1, 3, figsize=(max(12.0, 1.2 * len(labels) * 3 + 2), 4.2))
    for ax, (parts, total, title, prefix) in zip(axes, panels, strict=True):
        bottom = [0.0] * len(x)
        for part in parts:
            values = [float(v) for v in totals[part].fillna(0.0)]
            ax.bar(x, values, 0.7, bottom=bottom, label=part.removeprefix(prefix) or None)
            bottom = [b + v for b, v in zip(bottom, values, strict=True)]
        mean = totals[total].astype(float)
        below = (mean - totals[f"{total}_min"].astype(float)).clip(lower=0)
        above = (totals[f"{total}_max"].astype(float) - mean).clip(lower=0)
        ax.errorbar(x, mean, yerr=[below, above], fmt="none", ecolor="black", capsize=3)
        ax.set_xticks(x)
        ax.set_xticklabels(labels, fontsize="small")
        ax.set_title(title, fontsize="medium")
        if total == "waiting_all":
            count_axis(ax)
        if len(parts) > 1:
            legend_outside(ax, fontsize="small")
    fig.tight_layout()
    return fig
