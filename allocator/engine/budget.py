"""The work budget a time limit buys on this machine (``work_units="auto"``).

CP-SAT's deterministic units make a search reproducible, but how many a second a
machine does varies tenfold between a quiet machine and a loaded one (benchmarks/SEARCH.md).
The default budget converts the limit at a fixed rate, low enough that a loaded
machine still ends on its budget. :func:`calibrated` instead measures the machine when
the solve starts, on a fixed model built by the engine's own core, and converts the
limit at that speed; the plan records the number, which reproduces it.
"""

from __future__ import annotations

import functools
import math
import random
import time

from allocator.contract.limits import MAX_TIME_LIMIT
from allocator.contract.settings import AUTO_WORK, Settings
from allocator.contract.units import capacity_units, weight_units
from allocator.engine.core import CoreInput, CoreModel, Item, run_stage

#: The probe's work, CP-SAT deterministic units: about 0.1 s on the 2-core machine we
#: measure on, the model's building included; once per process.
PROBE_WORK = 0.05
#: The probe: children of weights 2-14 points, each offered 6 of 30 workers with room
#: for 37 points, each worth its weight times 1-5 if placed (a day's class tier in
#: miniature), drawn from a fixed seed so every machine measures the same search.
PROBE_CHILDREN, PROBE_WORKERS, PROBE_OFFERED, PROBE_ROOM = 200, 30, 6, 37
#: Engine work units per probe unit of the same wall time. Measured on the quiet 2-core
#: machine (7 December 2026): the probe 0.415-0.420 units a second in three runs; the
#: engine's daily solves 0.84-1.04 units a second at 3 units (daily-25-0.95 3.07 s,
#: daily-150-0.95 3.31 s, stretched-150 2.89 s, packed-150 3.59 s) and 0.98-1.16 at 9.
#: At 0.99 units a second of the limit (a factor of 2.4) the two-second 0.80 day ran
#: into the wall clock and lost its last stages (fixed costs weigh more in a short
#: solve); at 0.76 (1.8) no day of benchmarks/SEARCH.md's six did.
ENGINE_PER_PROBE = 1.8
#: Share of the time limit a calibrated budget aims to fill: the rest is for building
#: the plan and the machine's other work (the wall clock still guards the whole solve).
AUTO_SHARE = 0.9
#: A calibrated budget is rounded down to a power of 2 ** (1 / BUDGET_STEPS): two runs
#: on one machine whose probes differ by a few per cent get the same budget, and so
#: the same plan, most of the time.
BUDGET_STEPS = 4


def _probe() -> CoreInput:
    """The probe's model input (:data:`PROBE_CHILDREN`)."""
    rng = random.Random(PROBE_CHILDREN)
    workers = [f"W{w:02d}" for w in range(PROBE_WORKERS)]
    items = []
    for i in range(PROBE_CHILDREN):
        weight = rng.randint(2, 14)
        items.append(
            Item(
                f"C{i:03d}",
                (f"C{i:03d}",),
                f"F{i:03d}",
                weight_units(weight),
                tuple(sorted(rng.sample(workers, PROBE_OFFERED))),
                stay_cost={"unplaced": weight * rng.randint(1, 5)},
            )
        )
    return CoreInput(
        items=items,
        tiers=("unplaced",),
        room=dict.fromkeys(workers, capacity_units(PROBE_ROOM)),
        new_families_left=dict.fromkeys(workers, PROBE_CHILDREN),
        held={},
    )


@functools.cache
def probe_work_per_second() -> float:
    """CP-SAT deterministic units a second on this machine, now: the probe's model
    (:func:`_probe`) built and solved for :data:`PROBE_WORK` units on one thread,
    measured once per process (OR-Tools loaded first: its import is not the machine's
    speed)."""
    import ortools.sat.python.cp_model  # noqa: F401

    started = time.perf_counter()
    m = CoreModel(_probe())
    run = run_stage(m, m.tiers["unplaced"], {}, seconds=10.0, work=PROBE_WORK, seed=0, workers=1)
    seconds = max(1e-6, time.perf_counter() - started)
    return max(run.work, 1e-6) / seconds


#: The least calibrated budget, units: what a limit too short to measure still gets.
LEAST_BUDGET = 0.01


def calibrated(settings: Settings, started: float | None = None) -> Settings:
    """``settings`` with ``work_units="auto"`` replaced by a budget that fills what is
    left of the time limit on this machine; any other settings as they are.

    The budget is the seconds left (``time_limit`` less what has passed since
    ``started``, a :func:`time.perf_counter` reading, the probe included; all of it
    when ``started`` is ``None``) x :data:`AUTO_SHARE` x the probe's units a second
    (:func:`probe_work_per_second`) x :data:`ENGINE_PER_PROBE`, rounded down to a step
    of :data:`BUDGET_STEPS` per doubling, within the budget's domain (at least
    :data:`LEAST_BUDGET`). A plan made with it records the number, which reproduces
    the plan on any machine given an ample time limit, unless the clock cut the
    search short.
    """
    if settings.work_units != AUTO_WORK:
        return settings
    rate = probe_work_per_second() * ENGINE_PER_PROBE
    left = settings.time_limit - (0.0 if started is None else time.perf_counter() - started)
    units = max(LEAST_BUDGET, left * AUTO_SHARE * rate)
    stepped = 2 ** (math.floor(BUDGET_STEPS * math.log2(units)) / BUDGET_STEPS)
    budget = round(min(MAX_TIME_LIMIT, max(LEAST_BUDGET, stepped)), 3)
    return settings.model_copy(update={"work_units": budget})
