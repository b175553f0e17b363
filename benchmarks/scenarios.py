"""Named benchmark scenarios: a synthetic service, the engine that solves it, its targets.

A :class:`Scenario` is a recipe, not an instance: the harness passes it to a fresh
process, which regenerates the snapshot from the seed, so every method of a run sees
the same service and no process inherits another's memory. Each scenario names the
engine function it runs (``module:function``), so a scenario for a solver that does
not exist yet (``allocator.problems.rebalancing``) is already in the suite and its engine column
is reported as skipped until the module appears.
"""

from __future__ import annotations

import importlib
import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Literal

from allocator.contract.models import Snapshot
from allocator.generate import WELSH_FAMILIES, generate

#: The daily allocation engine.
DAILY_ENGINE = "allocator.engine.solve:solve"
#: The rebalance engine: ``rebalance(snapshot, policy, settings) -> Plan``.
REBALANCE_ENGINE = "allocator.problems.rebalancing:rebalance"

#: Sizes of the full suite (practitioners) at the council's usual load.
SUITE_SIZES: tuple[int, ...] = (25, 150, 500, 1000, 2000)
SUITE_LOAD = 0.95
#: Loads of the load-sensitivity scenarios, at :data:`SENSITIVITY_SIZE` practitioners.
SENSITIVITY_LOADS: tuple[float, ...] = (0.8, 1.05)
SENSITIVITY_SIZE = 150
#: Quick mode (CI): small services, under and over capacity.
QUICK_SIZES: tuple[int, ...] = (25, 60)
QUICK_LOADS: tuple[float, ...] = (0.8, 1.05)
#: Instance seed of every scenario unless named otherwise.
DEFAULT_SEED = 1


@dataclass(frozen=True)
class Target:
    """What the engine must achieve on a scenario (the issue's figures).

    Attributes
    ----------
    seconds
        Wall-clock budget; also the engine's time limit on the scenario.
    proved
        The plan must be proved optimal (over every eligible pair) within ``seconds``.
    gap
        Largest relative gap allowed (``allocator.domain.result.relative_gap``), if any.
    memory_mb
        Largest peak resident memory of the run's process, if any.
    """

    seconds: float
    proved: bool = False
    gap: float | None = None
    memory_mb: float | None = None

    def describe(self) -> str:
        """The target in a few words, for the results table."""
        parts = ["proved optimal" if self.proved else None, f"< {self.seconds:g} s"]
        if self.gap is not None:
            parts.append(f"gap <= {self.gap:.1%}")
        if self.memory_mb is not None:
            parts.append(f"< {self.memory_mb / 1024:g} GB")
        return ", ".join(p for p in parts if p)


#: Targets by service size (practitioners), for every load of that size.
TARGETS: dict[int, Target] = {
    150: Target(seconds=2.0, proved=True),
    1000: Target(seconds=10.0, gap=0.005),
    2000: Target(seconds=30.0, memory_mb=2048.0),
}


@dataclass(frozen=True)
class Scenario:
    """One benchmark instance and the engine that solves it.

    Attributes
    ----------
    name
        Unique, used on the command line and in the results table.
    practitioners, load, referral_rate, seed
        Arguments of :func:`allocator.generate.generate`.
    leavers
        Share of practitioners who left the day before ``as_of`` (their cases all
        need a new worker): the rebalance day.
    welsh_families
        Share of families needing a Welsh-speaking worker.
    kind
        ``daily``: the engine is called as ``fn(state, settings)`` and returns a
        :class:`allocator.domain.result.Result`; plans are ranked by the daily tiers
        (:data:`allocator.domain.objectives.TIERS`) and the greedy rule is
        :func:`allocator.domain.greedy.greedy_allocate`. ``rebalance``: the engine is called as
        ``fn(snapshot, policy, time_limit=, seed=, workers=)`` and returns a plan;
        plans are ranked by the rebalance tiers and the greedy rule is the rebalance's
        own (see :mod:`benchmarks.rebalancing`); the MIP (daily model) does not apply.
    engine
        The engine function, as ``module:function``.
    target
        The engine's targets on this scenario, if the issue sets any.
    """

    name: str
    practitioners: int
    load: float
    referral_rate: float = 0.04
    seed: int = DEFAULT_SEED
    leavers: float = 0.0
    kind: Literal["daily", "rebalance"] = "daily"
    engine: str = DAILY_ENGINE
    target: Target | None = None
    welsh_families: float = WELSH_FAMILIES

    def snapshot(self) -> Snapshot:
        """Regenerate the scenario's service (deterministic in the fields above)."""
        snap = generate(
            self.practitioners,
            seed=self.seed,
            load=self.load,
            referral_rate=self.referral_rate,
            welsh_families=self.welsh_families,
        )
        return with_leavers(snap, self.leavers, self.seed) if self.leavers else snap

    def engine_function(self) -> Callable[..., Any] | None:
        """The engine function, or ``None`` if its module does not exist (yet)."""
        module_name, _, attr = self.engine.partition(":")
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name is not None and module_name.startswith(exc.name):
                return None
            raise
        fn: Callable[..., Any] | None = getattr(module, attr, None)
        return fn


def with_leavers(snapshot: Snapshot, share: float, seed: int) -> Snapshot:
    """``snapshot`` with ``share`` of its staff (still present there) leaving yesterday.

    Only workers who have not left already are drawn; the draw is seeded, so the same
    arguments give the same snapshot.
    """
    rng = random.Random(seed)
    staying = [
        p.id
        for p in snapshot.practitioners
        if p.leaving_on is None or p.leaving_on > snapshot.as_of
    ]
    chosen = set(rng.sample(staying, round(share * len(snapshot.practitioners))))
    yesterday = snapshot.as_of - timedelta(days=1)
    practitioners = tuple(
        p.model_copy(update={"leaving_on": yesterday}) if p.id in chosen else p
        for p in snapshot.practitioners
    )
    # Re-validate: the cross-references still hold (leavers stay among practitioners).
    return Snapshot.model_validate(
        {**snapshot.model_dump(), "practitioners": [p.model_dump() for p in practitioners]}
    )


def daily(practitioners: int, load: float) -> Scenario:
    """The daily-allocation scenario of a service size and load."""
    return Scenario(
        name=f"daily-{practitioners}-{load:.2f}",
        practitioners=practitioners,
        load=load,
        target=TARGETS.get(practitioners),
    )


#: The stretched class (the stretched-services issue): a service at load 1.0 whose
#: referrals run at 8% of open cases, with 30% of families Welsh-speaking, in a
#: service where 20% of staff speak Welsh: far more work than room.
STRETCHED_LOAD = 1.0
STRETCHED_REFERRAL_RATE = 0.08
STRETCHED_WELSH_FAMILIES = 0.3
#: Sizes of the stretched scenarios in the full suite, with their time limits.
STRETCHED_TARGETS: dict[int, Target] = {
    150: Target(seconds=30.0),
    1000: Target(seconds=30.0, memory_mb=2048.0),
}


def stretched(practitioners: int) -> Scenario:
    """A stretched service's day: who gets a worker first decides the plan."""
    return Scenario(
        name=f"stretched-{practitioners}",
        practitioners=practitioners,
        load=STRETCHED_LOAD,
        referral_rate=STRETCHED_REFERRAL_RATE,
        welsh_families=STRETCHED_WELSH_FAMILIES,
        target=STRETCHED_TARGETS.get(practitioners),
    )


#: The packed class (issue 21): a full service (load 1.0) whose referrals run at 10%
#: of open cases, 30% of families Welsh-speaking: most referrals compete for the few
#: workers with room who may hold them (Welsh speakers, court-skilled seniors), and
#: the intake limit (two new families a worker a day) binds on them. 150
#: practitioners give about 340 children to place, the issue's hidden service.
PACKED_REFERRAL_RATE = 0.10
PACKED_TARGETS: dict[int, Target] = {150: Target(seconds=30.0)}


def packed(practitioners: int) -> Scenario:
    """A packed service's day: chains of reassignment decide who gets a worker."""
    return Scenario(
        name=f"packed-{practitioners}",
        practitioners=practitioners,
        load=STRETCHED_LOAD,
        referral_rate=PACKED_REFERRAL_RATE,
        welsh_families=STRETCHED_WELSH_FAMILIES,
        target=PACKED_TARGETS.get(practitioners, Target(seconds=30.0)),
    )


def leavers_day(practitioners: int) -> Scenario:
    """A day when a tenth of the staff left: their children all need a new worker.

    Solved by the rebalance, which also covers long absences and relieves workers
    over their cap (the generated service has some of each).
    """
    return Scenario(
        name=f"leavers-{practitioners}",
        practitioners=practitioners,
        load=0.9,
        leavers=0.1,
        kind="rebalance",
        engine=REBALANCE_ENGINE,
    )


def suite() -> list[Scenario]:
    """The full suite: every size at the usual load, load sensitivity, stretched and
    packed days, the leavers' day."""
    scenarios = [daily(n, SUITE_LOAD) for n in SUITE_SIZES]
    scenarios += [daily(SENSITIVITY_SIZE, load) for load in SENSITIVITY_LOADS]
    scenarios += [stretched(n) for n in STRETCHED_TARGETS]
    scenarios += [packed(n) for n in PACKED_TARGETS]
    scenarios.append(leavers_day(SENSITIVITY_SIZE))
    return sorted(scenarios, key=lambda s: (s.practitioners, s.leavers, s.load))


def quick() -> list[Scenario]:
    """Quick mode (CI): small services under and over capacity, a small stretched day and
    a small leavers' day."""
    return [daily(n, load) for n in QUICK_SIZES for load in QUICK_LOADS] + [
        stretched(QUICK_SIZES[0]),
        leavers_day(QUICK_SIZES[0]),
    ]


def grid(sizes: Iterable[int], loads: Iterable[float]) -> list[Scenario]:
    """Daily scenarios for every size x load."""
    return [daily(n, load) for n in sizes for load in loads]


def by_name(names: Iterable[str]) -> list[Scenario]:
    """Scenarios by name: ``daily-<practitioners>-<load>``, ``stretched-<practitioners>``,
    ``packed-<practitioners>`` or ``leavers-<practitioners>``.

    Raises
    ------
    ValueError
        For a name of neither form.
    """
    out: list[Scenario] = []
    for name in names:
        kind, _, rest = name.partition("-")
        try:
            if kind == "daily":
                size, _, load = rest.partition("-")
                out.append(daily(int(size), float(load)))
            elif kind == "leavers":
                out.append(leavers_day(int(rest)))
            elif kind == "stretched":
                out.append(stretched(int(rest)))
            elif kind == "packed":
                out.append(packed(int(rest)))
            else:
                raise ValueError
        except ValueError:
            raise ValueError(
                f"unknown scenario {name!r}: expected daily-<practitioners>-<load> "
                "(e.g. daily-150-0.95), stretched-<practitioners>, packed-<practitioners> "
                "or leavers-<practitioners>"
            ) from None
    return out
