"""Run methods on scenarios, one fresh process per run, and compare them.

A *run* is one method (``engine``, ``greedy``, ``plain`` or ``mip``) on one scenario.
:func:`run_method` does it in the calling process (the quick test uses it);
:func:`run_isolated` does it in a fresh ``spawn`` process, so the peak memory
reported is that run's alone and a crash or a hang ends only that run. Either way
the snapshot is regenerated from the scenario's seed, the preparation time
(generation and indexing) is reported apart from the method's own time, and the
plan is built with :func:`allocator.problems.daily.build_plan` and checked with
:func:`allocator.explain.check.check_plan`.

:func:`assess` then compares the methods of each scenario (engine against greedy
tier by tier and lexicographically, engine against a proved MIP optimum, the
engine's targets) and :func:`render_markdown` writes the results table.
"""

from __future__ import annotations

import multiprocessing
import os
import platform
import resource
import sys
import time
import traceback
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from multiprocessing.connection import Connection
from typing import Any, Literal

from allocator.contract.models import Plan
from allocator.contract.policy import Policy
from allocator.contract.settings import Settings
from allocator.domain.greedy import greedy_allocate, manager_policy
from allocator.domain.objectives import daily_tiers, evaluate, loads_after
from allocator.domain.result import relative_gap
from allocator.domain.rules import ServiceState
from allocator.engine.budget import calibrated
from allocator.explain.check import check_plan
from allocator.problems.daily import build_plan
from benchmarks.scenarios import Scenario

#: Methods in the order they run on each scenario (greedy first: the others are
#: compared with it).
METHODS: tuple[str, ...] = ("greedy", "engine", "plain", "mip")
#: Engine time limit on a scenario the issue sets no target for (seconds).
DEFAULT_ENGINE_TIME_LIMIT = 10.0
#: MIP time limit per run (seconds).
DEFAULT_MIP_TIME_LIMIT = 120.0
#: The MIP (every eligible pair a column) runs up to this many practitioners.
DEFAULT_MIP_MAX_SIZE = 500
#: Short tier names for the table.
SHORT: dict[str, str] = {
    "unallocated_urgent": "urgent",
    "unallocated_statutory": "statutory",
    "unallocated_other": "other",
    "unallocated": "unallocated",
    "siblings_apart": "siblings",
    "previous_worker_returns": "returns",
    "balance": "balance",
    "outside_area": "outside",
}


@dataclass(frozen=True)
class RunOptions:
    """Settings shared by every run of a benchmark.

    Attributes
    ----------
    engine_time_limit
        Engine time limit for every scenario; ``None``: the scenario's target time,
        else :data:`DEFAULT_ENGINE_TIME_LIMIT`.
    engine_work_units
        The engine's work budget (:attr:`allocator.contract.settings.Settings.work_units`:
        units, ``"auto"`` or ``None`` for the default conversion of the limit).
    mip_time_limit
        Wall-clock seconds per MIP run, building included.
    mip_max_size
        Scenarios with more practitioners skip the MIP.
    workers
        Threads for CP-SAT and HiGHS.
    seed
        CP-SAT random seed.
    """

    engine_time_limit: float | None = None
    engine_work_units: float | Literal["auto"] | None = None
    mip_time_limit: float = DEFAULT_MIP_TIME_LIMIT
    mip_max_size: int = DEFAULT_MIP_MAX_SIZE
    workers: int = 1
    seed: int = 0

    def engine_limit(self, scenario: Scenario) -> float:
        """The engine's time limit on ``scenario``."""
        if self.engine_time_limit is not None:
            return self.engine_time_limit
        return scenario.target.seconds if scenario.target else DEFAULT_ENGINE_TIME_LIMIT


#: An objective: (tier key, "min" or "max", value) per tier, in priority order.
Objective = list[tuple[str, str, int | float]]


def vector(objective: Objective) -> tuple[float, ...]:
    """The objective as a tuple to compare lexicographically (smaller is better)."""
    return tuple(v if sense == "min" else -v for _, sense, v in objective)


@dataclass
class RunResult:
    """The outcome of one method on one scenario; plain values, picklable.

    Attributes
    ----------
    status
        ``optimal`` (proved over every eligible pair), ``optimal on subset`` (the
        engine proved optimality over its pruned candidates only), ``feasible``
        (time limit), ``heuristic`` (greedy), ``skipped``, ``error``, ``timeout``
        or ``crashed``.
    objective
        The scenario's tiers for the plan (daily: :func:`allocator.domain.objectives.daily_tiers`
        by :func:`allocator.domain.objectives.evaluate`; rebalance: its own tiers).
    figures
        :func:`figures` of the placements: the daily tiers, allocated, changes of
        worker, highest utilisation.
    bounds
        Proven bound of the first tier not proved optimal (plan units).
    gap
        Relative gap of the first tier short of its bound; ``None`` when unknown.
    seconds, prepare_seconds
        The method's wall time; generating and indexing the instance.
    peak_mb
        Peak resident memory of the run's process (isolated runs only).
    violations
        :func:`allocator.explain.check.check_plan` findings, as ``rule: message``.
    model_values
        The MIP's own tier values, to cross-check against ``figures``.
    work_units
        The engine's budget where ``--engine-work-units auto`` calibrated it, so that a
        fixed ``--engine-work-units`` can reproduce the row; ``None`` otherwise.
    """

    scenario: str
    method: str
    status: str
    note: str = ""
    work_units: float | None = None
    objective: Objective = field(default_factory=list)
    figures: dict[str, int | float] = field(default_factory=dict)
    bounds: dict[str, int | float] = field(default_factory=dict)
    gap: float | None = None
    seconds: float | None = None
    prepare_seconds: float | None = None
    peak_mb: float | None = None
    violations: list[str] = field(default_factory=list)
    placed: dict[str, str] = field(default_factory=dict)
    size: dict[str, int] = field(default_factory=dict)
    stages: list[str] = field(default_factory=list)
    model_values: dict[str, int | float] = field(default_factory=dict)
    time_limit: float | None = None

    @property
    def solved(self) -> bool:
        """Whether the run produced a plan."""
        return self.status in ("optimal", "optimal on subset", "feasible", "heuristic")

    @property
    def proved(self) -> bool:
        """Proved optimal over every eligible pair."""
        return self.status == "optimal"


# ---------------------------------------------------------------------------- one run


def run_method(scenario: Scenario, method: str, options: RunOptions) -> RunResult:
    """Run ``method`` on ``scenario`` in this process, check and measure its plan.

    A method that writes its own plan (the rebalance) has that plan checked; for the
    others the plan is built from their placements with ``build_plan``.
    """
    started = time.perf_counter()
    snapshot = scenario.snapshot()
    # The manager's rule reads the policy as a manager would (no room held): the same
    # rule as the simulation's greedy method.
    policy = manager_policy(Policy()) if method == "greedy" else Policy()
    state = ServiceState.of(snapshot, policy)
    prepare = time.perf_counter() - started
    result, plan = _METHODS[method](scenario, state, options)
    result.prepare_seconds = prepare
    if result.solved:
        if plan is None:
            plan = build_plan(
                state,
                result.placed,
                status="optimal" if result.proved else "feasible",
                bound=result.bounds or None,
                solve_seconds=result.seconds or 0.0,
            )
        result.violations = [f"{v.rule}: {v.message}" for v in check_plan(snapshot, policy, plan)]
        result.figures = figures(state, result.placed)
        if scenario.kind == "rebalance":
            from benchmarks import rebalancing

            result.objective = list(rebalancing.objective(state, result.placed))
        else:
            result.objective = [
                (t.key, t.sense, result.figures[t.key]) for t in daily_tiers(policy)
            ]
        if result.proved:
            result.gap = 0.0
        elif scenario.kind == "daily" and result.bounds:
            result.gap = relative_gap(
                result.figures,
                result.bounds,
                daily_tiers(policy),
                sum(state.waiting_weight.values()),
            )
        else:
            result.gap = tier_gap(result.objective, result.bounds)
    result.size = {
        "practitioners": len(snapshot.practitioners),
        "cases": len(snapshot.cases),
        "to_allocate": len(state.to_allocate),
        "urgent": sum(1 for c in state.to_allocate if state.is_urgent(c)),
        "eligible_pairs": sum(len(state.eligible(c)) for c in state.to_allocate),
    }
    return result


def tier_gap(objective: Objective, bounds: Mapping[str, int | float]) -> float | None:
    """Relative gap of the first tier short of its bound; ``None`` if none is known."""
    for key, _, value in objective:
        if key in bounds and bounds[key] != value:
            best = bounds[key]
            return round(abs(value - best) / max(abs(value), abs(best), 1), 6)
    return None


def _placements(plan: Plan) -> dict[str, str]:
    return {a.case: a.worker for a in plan.assignments}


_Run = tuple[RunResult, Plan | None]


def _greedy(scenario: Scenario, state: ServiceState, options: RunOptions) -> _Run:
    started = time.perf_counter()
    plan: Plan | None = None
    if scenario.kind == "rebalance":
        from benchmarks import rebalancing

        plan = rebalancing.greedy_plan(state)
        placed = _placements(plan)
    else:
        placed = greedy_allocate(state)
    seconds = time.perf_counter() - started
    return RunResult(scenario.name, "greedy", "heuristic", placed=placed, seconds=seconds), plan


def _engine(scenario: Scenario, state: ServiceState, options: RunOptions) -> _Run:
    fn = scenario.engine_function()
    if fn is None:
        return RunResult(
            scenario.name, "engine", "skipped", note=f"{scenario.engine} does not exist yet"
        ), None
    limit = options.engine_limit(scenario)
    settings = Settings(
        time_limit=limit,
        work_units=options.engine_work_units,
        seed=options.seed,
        workers=options.workers,
    )
    if scenario.kind == "rebalance":
        started = time.perf_counter()
        plan: Plan = fn(state.snapshot, state.policy, settings)
        seconds = time.perf_counter() - started
        return RunResult(
            scenario.name,
            "engine",
            plan.status,
            placed=_placements(plan),
            bounds=dict(plan.bound or {}),
            seconds=seconds,
            time_limit=limit,
        ), plan
    started = time.perf_counter()
    # As allocate does: a calibrated budget is measured within the time limit.
    used = calibrated(settings, started)
    wall = limit - (time.perf_counter() - started)
    solution = fn(state, used) if used is settings else fn(state, used, wall_seconds=wall)
    seconds = time.perf_counter() - started
    proved = bool(getattr(solution, "proved", False))
    pruned = bool(getattr(solution, "pruned", False))
    status = ("optimal on subset" if pruned else "optimal") if proved else "feasible"
    return RunResult(
        scenario.name,
        "engine",
        status,
        placed=dict(solution.decisions),
        bounds=dict(getattr(solution, "bounds", {}) or {}),
        seconds=seconds,
        stages=list(getattr(solution, "stages", [])),
        time_limit=limit,
        note=f"{getattr(solution, 'variables', 0)} pair variables"
        + (", candidates pruned" if pruned else ""),
        work_units=None if used is settings else float(used.work),
    ), None


def _mip(scenario: Scenario, state: ServiceState, options: RunOptions) -> _Run:
    skip = None
    if scenario.kind != "daily":
        skip = "the MIP mirrors the daily model only"
    elif scenario.practitioners > options.mip_max_size:
        skip = f"over {options.mip_max_size} practitioners (--mip-max-size)"
    else:
        try:
            from benchmarks.mip import solve_mip
        except ImportError as exc:  # highspy is the optional extra "mip"
            skip = f"{exc.name} not installed (pip install -e '.[mip]')"
    if skip is not None:
        return RunResult(scenario.name, "mip", "skipped", note=skip), None
    started = time.perf_counter()
    solution = solve_mip(
        state,
        time_limit=options.mip_time_limit,
        threads=options.workers,
        start=greedy_allocate(state),  # as the engine: its time includes the greedy rule
    )
    return RunResult(
        scenario.name,
        "mip",
        "optimal" if solution.proved else "feasible",
        placed=solution.placed,
        bounds=dict(solution.bounds),
        stages=solution.stages,
        model_values=solution.values,
        seconds=time.perf_counter() - started,
        time_limit=options.mip_time_limit,
        note=f"{solution.columns} (case, worker) pairs",
    ), None


def _plain(scenario: Scenario, state: ServiceState, options: RunOptions) -> _Run:
    if scenario.kind != "daily":
        note = "the plain model mirrors the daily model only"
        return RunResult(scenario.name, "plain", "skipped", note=note), None
    if scenario.practitioners > options.mip_max_size:
        note = f"over {options.mip_max_size} practitioners (--mip-max-size)"
        return RunResult(scenario.name, "plain", "skipped", note=note), None
    from benchmarks.plain import solve_plain

    limit = options.engine_limit(scenario)
    started = time.perf_counter()
    solution = solve_plain(state, time_limit=limit, seed=options.seed, start=greedy_allocate(state))
    return RunResult(
        scenario.name,
        "plain",
        "optimal" if solution.proved else "feasible",
        placed=solution.placed,
        bounds=dict(solution.bounds),
        stages=solution.stages,
        seconds=time.perf_counter() - started,
        time_limit=limit,
        note=f"{solution.columns} (case, worker) pairs",
    ), None


_METHODS: dict[str, Callable[[Scenario, ServiceState, RunOptions], _Run]] = {
    "greedy": _greedy,
    "engine": _engine,
    "plain": _plain,
    "mip": _mip,
}


def figures(state: ServiceState, placed: Mapping[str, str]) -> dict[str, int | float]:
    """:func:`allocator.domain.objectives.evaluate`, extended to plans that move other cases.

    A rebalance may move cases that did not need a worker; the daily tiers are then
    those of the cases that needed one, and ``changes_of_worker`` and
    ``highest_utilisation`` count the moves too (``moves`` says how many).
    """
    needing = set(state.to_allocate)
    daily = {c: w for c, w in placed.items() if c in needing}
    values = evaluate(state, daily)
    moves = {c: w for c, w in placed.items() if c not in needing and state.cases[c].worker != w}
    if moves:
        load, _ = loads_after(state, daily)
        for cid, wid in moves.items():
            old = state.cases[cid].worker
            if old is not None:
                load[old] -= state.weight[cid]
            load[wid] += state.weight[cid]
        receivers = set(placed.values())
        values["changes_of_worker"] = int(values["changes_of_worker"]) + len(moves)
        values["highest_utilisation"] = round(
            max(
                (load[w] / state.capacity[w] for w in receivers if state.capacity[w] > 0),
                default=0.0,
            ),
            4,
        )
        values["moves"] = len(moves)
    return values


# ---------------------------------------------------------------------------- isolation


def hard_timeout(method: str, options: RunOptions, scenario: Scenario) -> float:
    """Seconds after which an isolated run is killed (generous: a safety net only)."""
    limit = options.mip_time_limit if method == "mip" else options.engine_limit(scenario)
    return 2 * limit + 180 + scenario.practitioners * 0.1


def _child(scenario: Scenario, method: str, options: RunOptions, conn: Connection) -> None:
    # HiGHS prints a banner on stdout; the parent's progress display owns the terminal.
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    try:
        result = run_method(scenario, method, options)
    except BaseException as exc:  # noqa: BLE001 - reported as the run's result
        last = traceback.format_exception_only(type(exc), exc)[-1].strip()
        result = RunResult(scenario.name, method, "error", note=last)
    result.peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    conn.send(result)
    conn.close()


def run_isolated(scenario: Scenario, method: str, options: RunOptions) -> RunResult:
    """:func:`run_method` in a fresh ``spawn`` process; peak memory is that process's.

    A run that outlives :func:`hard_timeout` is killed (status ``timeout``); one that
    dies without a result (e.g. out of memory) is reported as ``crashed``.
    """
    ctx = multiprocessing.get_context("spawn")
    receiver, sender = ctx.Pipe(duplex=False)
    process = ctx.Process(target=_child, args=(scenario, method, options, sender), daemon=True)
    process.start()
    sender.close()
    limit = hard_timeout(method, options, scenario)
    result: RunResult
    try:
        if receiver.poll(limit):
            result = receiver.recv()
        else:
            result = RunResult(scenario.name, method, "timeout", note=f"killed after {limit:.0f} s")
    except EOFError:
        process.join(5)
        result = RunResult(
            scenario.name,
            method,
            "crashed",
            note=f"process ended with exit code {process.exitcode}",
        )
    finally:
        if process.is_alive():
            process.join(5)
        if process.is_alive():
            process.kill()
            process.join()
        receiver.close()
    return result


# ---------------------------------------------------------------------------- comparison


@dataclass
class Assessment:
    """Flags per run, and the quality failures among them (what quick mode asserts)."""

    flags: dict[tuple[str, str], list[str]] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)

    def of(self, result: RunResult) -> list[str]:
        """The flags of one run."""
        return self.flags.get((result.scenario, result.method), [])


def _short(key: str) -> str:
    return SHORT.get(key, key)


def _tiers(objective: Objective) -> str:
    return " / ".join(f"{v:g}" for _, _, v in objective)


def _first_difference(a: Objective, b: Objective) -> str:
    for (key, _, va), (_, _, vb) in zip(a, b, strict=True):
        if va != vb:
            return f"{_short(key)} {va:g} vs {vb:g}"
    return "equal"


def assess(scenarios: Iterable[Scenario], results: Iterable[RunResult]) -> Assessment:
    """Compare the methods of each scenario; flag broken targets and quality relations.

    Quality relations (failures): every plan passes ``check_plan``; the engine is
    lexicographically no worse than greedy on the scenario's tiers; where the engine and
    the MIP both prove optimality over every eligible pair, their tiers are equal;
    a proved MIP's own tier values equal :func:`figures`. Targets (time, proof, gap,
    memory) and tiers where the engine is below greedy despite a better higher tier
    are flagged, not failures.
    """
    by_key = {(r.scenario, r.method): r for r in results}
    out = Assessment()
    for scenario in scenarios:
        greedy = by_key.get((scenario.name, "greedy"))
        engine = by_key.get((scenario.name, "engine"))
        plain = by_key.get((scenario.name, "plain"))
        mip = by_key.get((scenario.name, "mip"))
        for r in (greedy, engine, plain, mip):
            if r is None:
                continue
            flags = out.flags.setdefault((r.scenario, r.method), [])
            if r.violations:
                flags.append(
                    f"FAIL check_plan: {len(r.violations)} violation(s), first: {r.violations[0]}"
                )
                out.failures.append(f"{r.scenario} {r.method}: {r.violations[0]}")
            if r.status in ("error", "crashed", "timeout"):
                flags.append(f"{r.status}: {r.note}")
        if engine is not None and engine.solved:
            flags = out.flags[scenario.name, "engine"]
            if engine.work_units is not None:
                flags.append(f"work budget {engine.work_units:g} units (auto)")
            flags.extend(_target_flags(scenario, engine))
            if greedy is not None and greedy.solved:
                flags.extend(_versus_greedy(engine, greedy, out))
            if plain is not None and plain.solved:
                flags.append(_versus_plain(engine, plain))
            if mip is not None and mip.solved:
                flags.extend(_versus_mip(engine, mip, out))
        if mip is not None and mip.solved:
            flags = out.flags[scenario.name, "mip"]
            if mip.proved:
                own = {k: v for k, v in mip.model_values.items() if mip.figures[k] != v}
                if own:
                    flags.append(f"FAIL MIP model values differ from evaluate: {own}")
                    out.failures.append(f"{scenario.name} mip: model values {own}")
            else:
                flags.append(f"not proved in {mip.time_limit:g} s")
    return out


def _target_flags(scenario: Scenario, engine: RunResult) -> list[str]:
    target = scenario.target
    if target is None:
        return []
    flags = []
    seconds = engine.seconds or 0.0
    if seconds >= target.seconds:
        flags.append(f"MISSED time: {seconds:.1f} s >= {target.seconds:g} s")
    if target.proved and not engine.proved:
        flags.append(f"MISSED proof: {engine.status}")
    if target.gap is not None:
        if engine.gap is None:
            flags.append(
                "MISSED gap: unknown"
                + (
                    " (optimal on pruned candidates only)"
                    if engine.status == "optimal on subset"
                    else ""
                )
            )
        elif engine.gap > target.gap:
            flags.append(f"MISSED gap: {engine.gap:.2%} > {target.gap:.1%}")
    if (
        target.memory_mb is not None
        and engine.peak_mb is not None
        and (engine.peak_mb >= target.memory_mb)
    ):
        flags.append(f"MISSED memory: {engine.peak_mb:.0f} MB >= {target.memory_mb:.0f} MB")
    if not flags:
        flags.append(f"meets target ({target.describe()})")
    return flags


def _versus_greedy(engine: RunResult, greedy: RunResult, out: Assessment) -> list[str]:
    e, g = engine.objective, greedy.objective
    if vector(e) > vector(g):
        out.failures.append(
            f"{engine.scenario}: engine worse than greedy ({_first_difference(e, g)})"
        )
        return [f"FAIL worse than greedy: {_first_difference(e, g)}"]
    below = [
        f"{_short(key)} {ve:g} vs {vg:g}"
        for (key, sense, ve), (_, _, vg) in zip(e, g, strict=True)
        if (ve > vg if sense == "min" else ve < vg)
    ]
    if below:
        return ["BELOW greedy on a lower tier (lexicographically better): " + ", ".join(below)]
    return ["no tier below greedy"]


def _versus_plain(engine: RunResult, plain: RunResult) -> str:
    """How the engine compares with the plain whole-model CP-SAT solve (issue 21's
    competitor): a flag, not a failure."""
    e, p = engine.objective, plain.objective
    if vector(p) < vector(e):
        return f"PLAIN better: {_first_difference(p, e)}"
    if vector(e) < vector(p):
        return f"beats plain: {_first_difference(e, p)}"
    return "ties plain"


def _versus_mip(engine: RunResult, mip: RunResult, out: Assessment) -> list[str]:
    e, m = engine.objective, mip.objective
    if engine.proved and mip.proved and vector(e) != vector(m):
        out.failures.append(
            f"{engine.scenario}: engine and MIP both proved but differ ({_first_difference(e, m)})"
        )
        return [f"FAIL proved optimum differs from MIP's: {_first_difference(e, m)}"]
    if vector(m) < vector(e):
        return [f"MIP better: {_first_difference(m, e)}" + (" (MIP proved)" if mip.proved else "")]
    if engine.proved and mip.proved:
        return ["equals MIP optimum"]
    return []


# ---------------------------------------------------------------------------- report


def machine() -> dict[str, str]:
    """The machine and software the benchmark ran on."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    memory = "unknown"
    try:
        with open("/proc/meminfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("MemTotal"):
                    memory = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
                    break
    except OSError:
        pass
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()

    def version(name: str) -> str:
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            return "not installed"

    return {
        "CPU": cpu,
        "cores": f"{os.cpu_count()} ({usable} usable by this process)",
        "memory": memory,
        "OS": f"{platform.system()} {platform.release()}",
        "Python": platform.python_version(),
        "ortools": version("ortools"),
        "highspy": version("highspy"),
        "pydantic": version("pydantic"),
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
    }


def _cell(value: Any, fmt: str = "{}") -> str:
    return "—" if value is None else fmt.format(value)


def _bound_cell(r: RunResult) -> str:
    if r.proved:
        return "= value"
    if r.status == "optimal on subset":
        return "n/a (pruned)"
    parts = [
        f"{_short(key)} {'>=' if sense == 'min' else '<='} {r.bounds[key]:g}"
        for key, sense, _ in r.objective
        if key in r.bounds
    ]
    return ", ".join(parts) or "—"


def _gap_cell(r: RunResult) -> str:
    if r.method == "greedy" or not r.solved:
        return "—"
    return "?" if r.gap is None else f"{r.gap:.2%}"


def results_table(results: Iterable[RunResult], assessment: Assessment) -> list[str]:
    """The results as markdown table lines."""
    head = (
        "| scenario | method | status | allocated | urgent unalloc. | statutory unalloc. | "
        "siblings apart | "
        "prev. worker | changes of worker | highest util. | objective (tiers) | bound | gap | "
        "time s | prep s | peak MB | flags |"
    )
    lines = [head, "|" + "---|" * head.count(" | ") + "---|"]
    for r in results:
        f = r.figures
        allocated = f"{f['allocated']} / {r.size.get('to_allocate', '?')}" if f else "—"
        flags = assessment.of(r) or ([r.note] if r.status == "skipped" else [])
        lines.append(
            "| "
            + " | ".join(
                [
                    r.scenario,
                    r.method,
                    r.status,
                    allocated,
                    _cell(f.get("unallocated_urgent")),
                    _cell(f.get("unallocated_statutory")),
                    _cell(f.get("siblings_apart")),
                    _cell(f.get("previous_worker_returns")),
                    _cell(f.get("changes_of_worker")),
                    _cell(f.get("highest_utilisation"), "{:.1%}"),
                    _tiers(r.objective) if r.objective else "—",
                    _bound_cell(r) if r.solved else "—",
                    _gap_cell(r),
                    _cell(r.seconds, "{:.2f}"),
                    _cell(r.prepare_seconds, "{:.2f}"),
                    _cell(r.peak_mb, "{:.0f}"),
                    "; ".join(flags).replace("|", "/") or "ok",
                ]
            )
            + " |"
        )
    return lines


def scenario_table(
    scenarios: Iterable[Scenario], results: Iterable[RunResult], options: RunOptions
) -> list[str]:
    """The scenarios as markdown table lines: sizes, engine, tiers, targets, limits."""
    sizes: dict[str, dict[str, int]] = {}
    tiers: dict[str, str] = {}
    for r in results:
        if r.size:
            sizes.setdefault(r.scenario, r.size)
        if r.objective:
            tiers.setdefault(
                r.scenario,
                " / ".join(
                    f"{_short(k)}{' (max)' if sense == 'max' else ''}"
                    for k, sense, _ in r.objective
                ),
            )
    lines = [
        "| scenario | practitioners | load | leavers | cases | to allocate (urgent) | "
        "eligible pairs | engine function | engine limit s | target | tiers (priority order) |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for s in scenarios:
        z = sizes.get(s.name, {})
        lines.append(
            f"| {s.name} | {s.practitioners} | {s.load:g} | {s.leavers:.0%} | "
            f"{z.get('cases', '?')} | {z.get('to_allocate', '?')} ({z.get('urgent', '?')}) | "
            f"{z.get('eligible_pairs', '?')} | `{s.engine}` | {options.engine_limit(s):g} | "
            f"{s.target.describe() if s.target else '—'} | {tiers.get(s.name, '?')} |"
        )
    return lines


LEGEND = """\
Columns:

- **status**: `optimal` = every stage proved optimal over every eligible (case, worker)
  pair; `optimal on subset` = the engine proved optimality over its pruned candidate
  pairs only (large services; the plan's status is then `feasible`); `feasible` = time
  limit reached; `heuristic` = the greedy rule; `skipped` = method not run (see flags).
- **allocated**: children placed / children needing a worker (referrals, backlog and
  the cases of workers who have left).
- **urgent unalloc.**, **statutory unalloc.**, **siblings apart**, **prev. worker**: the
  tiers `unallocated_urgent`, `unallocated_statutory` (child protection, looked after,
  court, adoption: FORMAT.md "Who gets a worker first"), `siblings_apart` (extra
  workers across a family's siblings) and `previous_worker_returns`.
- **changes of worker**: cases moved off a worker (daily: off workers who have left;
  rebalance: also cover for long absences and relief of workers over their cap).
- **highest util.**: highest load / capacity among the workers given a case.
- **objective (tiers)**: the scenario's tiers in priority order (listed in the
  scenarios table), recomputed from the plan. Daily scenarios: `urgent / statutory /
  other / siblings / returns / balance / outside` (children without a worker by
  priority class, then the continuity tiers) (`allocator.domain.objectives.evaluate`; returns is
  maximised, the others minimised). The leavers' day is solved by the rebalance, so its
  tiers are the rebalance's: `unplaced / leavers_unplaced / over_cap_excess /
  changes_of_worker / siblings_apart / weighted_changes / balance`, all minimised
  (`allocator.engine.rebalance.tier_values`; `unplaced` weighs each child left without
  a worker by priority class, one child of a class above all of the classes below;
  `siblings_apart` counts a family only moved for cover or relief against its workers
  before, so it can be negative), and its greedy rule is the manager's rule by
  family (`greedy_rebalance`). The daily columns before it are still the daily figures of the
  children who needed a worker.
- **bound**: the proven bound of the first tier not proved (the tiers below it have no
  meaningful bound); `= value` when proved. **gap**: `allocator.domain.result.relative_gap`
  (on the waiting weight of the children allocated for the priority classes, else on
  the tier's value); `?` = not proved and no bound known.
- **time s**: the method's wall time (engine: greedy warm start, model building and all
  stages; MIP: building and all stages). **prep s**: generating and indexing the
  instance, not counted in time s. **peak MB**: peak resident memory of the run's own
  process (Python, instance, model and solver).
- **flags**: `FAIL` = a quality relation broken (a plan failing `check_plan`, the
  engine lexicographically worse than greedy, engine and MIP both proved with different
  optima); `MISSED` = an engine target not met; `BELOW greedy on a lower tier` = a tier
  where the engine is worse than greedy, traded for a better higher tier (the tiers are
  lexicographic); `MIP better` = the MIP found a lexicographically better plan;
  `PLAIN better` / `beats plain` / `ties plain` = the engine against the plain
  whole-model CP-SAT solve in the same time (issue 21), lexicographically.
"""


def render_markdown(
    scenarios: list[Scenario],
    results: list[RunResult],
    assessment: Assessment,
    options: RunOptions,
    command: str,
    info: Mapping[str, str] | None = None,
) -> str:
    """RESULTS.md: machine, command, scenarios, results table, legend."""
    info = info or machine()
    out = ["# Benchmark results", ""]
    out += [
        "Produced by `allocator`'s benchmark harness (`python -m benchmarks`); each run "
        "(one method on one scenario) in a fresh process.",
        "",
        "## Machine",
        "",
    ]
    out += [f"- {k}: {v}" for k, v in info.items()]
    out += [
        "- note: the machine's cores are shared with other engineers' jobs, so times are "
        "indicative (a run may have shared its core); runs were sequential.",
        "",
        "## Command",
        "",
        "```",
        command,
        "```",
        "",
        f"Engine: `Settings(time_limit=<engine limit s>, seed={options.seed}, "
        f"workers={options.workers})`. MIP: HiGHS, {options.workers} thread(s), "
        f"time limit {options.mip_time_limit:g} s per run, up to {options.mip_max_size} "
        "practitioners. Plain: one whole CP-SAT model of every eligible pair, the "
        "classes as one weighted stage, 2 CP-SAT workers (portfolio), the "
        "engine's time limit (`benchmarks/plain.py`).",
        "",
        "## Scenarios",
        "",
        *scenario_table(scenarios, results, options),
        "",
        "## Results",
        "",
        *results_table(results, assessment),
        "",
    ]
    if assessment.failures:
        out += ["**Quality relations broken:**", ""]
        out += [f"- {f}" for f in assessment.failures]
        out.append("")
    out += [LEGEND]
    return "\n".join(out)


def command_line() -> str:
    """The command that is running, for the report."""
    return " ".join(["python -m benchmarks", *sys.argv[1:]])
