"""``python -m benchmarks.plan_hashes``: one line per scenario and budget, the plan's hash.

A change meant to keep behaviour (a refactor of the solve, a new policy key at a
default that weighs nothing new) is checked by running this before and after, on the
same machine or any other: at a fixed work budget and an ample clock each plan is
the same, byte for byte, so the lines are equal exactly when the plans are. Each plan
is hashed as JSON without what may differ between equal plans (``solve_seconds``,
the settings that record the clock). Issue 20 asked for this check ("compare plans
before and after on the benchmark scenarios at a fixed work budget").

Example::

    python -m benchmarks.plan_hashes > before.txt   # on main
    python -m benchmarks.plan_hashes > after.txt    # on the branch
    diff before.txt after.txt                       # the figures are each plan's tiers
"""

from __future__ import annotations

import hashlib
import json
import time

import click

from allocator.contract.policy import Policy
from allocator.contract.settings import Settings
from allocator.problems.daily import allocate
from allocator.problems.rebalancing import rebalance
from benchmarks.scenarios import by_name

#: The scenarios hashed by default: small and 150-practitioner days with room, a full
#: day, a stretched and a packed one, and two leavers' days (every solve path: whole
#: models, class models, neighbourhoods, the rebalance's whole model and search).
SCENARIOS = (
    "daily-25-0.95,daily-150-0.95,daily-60-1.05,stretched-150,packed-150,leavers-25,leavers-150"
)
#: Work budgets each scenario is solved at (CP-SAT deterministic units).
BUDGETS = "0.3,2"
#: Wall-clock seconds per solve: far above what the budgets need, so the budget ends
#: every search and the plan does not depend on the machine.
AMPLE_SECONDS = 600.0


@click.command()
@click.option("--scenarios", default=SCENARIOS, show_default=True, help="Scenario names.")
@click.option("--budgets", default=BUDGETS, show_default=True, help="Work units, comma-separated.")
@click.option("--seed", type=int, default=0, show_default=True)
def main(scenarios: str, budgets: str, seed: int) -> None:
    """Print ``scenario budget hash tiers`` for each scenario and budget (the seconds
    each took on stderr, so that two runs' output compares line for line)."""
    units = [float(b) for b in budgets.split(",")]
    for scenario in by_name(scenarios.split(",")):
        snapshot = scenario.snapshot()
        for work in units:
            settings = Settings(time_limit=AMPLE_SECONDS, work_units=work, seed=seed)
            started = time.perf_counter()
            plan = (
                allocate(snapshot, Policy(), settings)
                if scenario.kind == "daily"
                else rebalance(snapshot, Policy(), settings)
            )
            seconds = time.perf_counter() - started
            data = plan.model_dump(mode="json", by_alias=True, exclude={"solve_seconds"})
            data.pop("settings", None)
            digest = hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()
            tiers = json.dumps(plan.objective, sort_keys=True)
            click.echo(f"{scenario.name} {work:g} {digest[:16]} {tiers}")
            click.echo(f"{scenario.name} {work:g}: {seconds:.1f} s", err=True)


if __name__ == "__main__":
    main()
