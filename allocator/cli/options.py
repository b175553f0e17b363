"""The options several commands share, and the value domains they parse into.

Each domain's bounds come from :mod:`allocator.contract.limits` and the policy's own, so a
value the contract refuses is refused at the option, with a usage error (exit 2).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import date
from typing import TYPE_CHECKING, Any, Final

import click

from allocator.command_line import A_SNAPSHOT, GivenPath
from allocator.contract.limits import MAX_SEED, MAX_TIME_LIMIT, MAX_WORKERS


class FiniteRange(click.FloatRange):
    """A :class:`click.FloatRange` that also refuses ``nan`` and ``inf``.

    ``nan`` compares false with every bound, so a plain range lets it through.
    """

    name = "number"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        """The number, or a usage error (exit 2) naming the range expected."""
        number = super().convert(value, param, ctx)
        if not math.isfinite(number):
            self.fail(f"{value!r} is not in the range {self._describe_range()}.", param, ctx)
        return number


class WorkBudget(FiniteRange):
    """``--work-units``: a budget in its range, or ``auto`` (calibrated to the machine)."""

    name = "work budget"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        """The number or ``"auto"``; else a usage error (exit 2) naming both."""
        from allocator.contract.settings import AUTO_WORK, means_auto

        if means_auto(value):
            return AUTO_WORK
        try:
            return super().convert(value, param, ctx)
        except click.BadParameter:
            self.fail(
                f"{value!r} is neither a number in the range {self._describe_range()} "
                f"nor {AUTO_WORK!r}.",
                param,
                ctx,
            )


if TYPE_CHECKING:  # generic from click 8.2 on; the project allows 8.1
    _DayParam = click.ParamType[date]
    _TextParam = click.ParamType[str]
else:
    _DayParam = _TextParam = click.ParamType


class IsoDay(_DayParam):
    """A date option, read and worded as a snapshot's ``as_of`` (FORMAT.md domains)."""

    name = "date"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        """The date, or a usage error (exit 2) saying what a date is."""
        from allocator.io import DAY_EXPECTED, parse_day

        if isinstance(value, date):
            return value
        day = parse_day(value)
        if day is None:
            self.fail(f"{value!r}, expected {DAY_EXPECTED}.", param, ctx)
        return day


class SchedulerAddress(_TextParam):
    """A Dask scheduler's address: ``tcp://host:port`` (or ``tls://``), or ``host:port``
    read as ``tcp://``. Checked here: Dask itself answers a missing port with a
    traceback."""

    name = "address"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        """The address with its protocol, or a usage error (exit 2) saying the form."""
        from urllib.parse import urlsplit

        text = str(value).strip()
        address = text if "://" in text else f"tcp://{text}"
        parts = urlsplit(address)
        try:
            port = parts.port
        except ValueError:
            port = None
        if parts.scheme not in ("tcp", "tls") or not parts.hostname or port is None:
            self.fail(
                f"{value!r} is not a Dask scheduler's address; expected tcp://HOST:PORT "
                "(as `dask scheduler` prints it, e.g. tcp://127.0.0.1:8786)",
                param,
                ctx,
            )
        return f"{parts.scheme}://{parts.netloc}"


SEED: Final = click.IntRange(min=0, max=MAX_SEED)

#: ``--seed`` of a command that draws at random (a simulation, a generated service);
#: the solving commands' own is in :func:`solver_options`.
seed_option: Final = click.option("--seed", type=SEED, default=0, show_default=True)
#: ``--policy``: the policy file every command that applies the rules may take.
policy_option: Final = click.option(
    "--policy", "policy_path", type=GivenPath(), help="Policy file (TOML)."
)

#: ``--snapshot`` of a command that reads a plan: the snapshot it was made from.
plan_snapshot_option: Final = click.option(
    "--snapshot",
    "snapshot_path",
    type=GivenPath(expected=A_SNAPSHOT),
    required=True,
    help="The snapshot the plan was made from.",
)
"""The one domain of every ``--seed`` (FORMAT.md "Domains of values")."""


def solver_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """The solver settings every solving command takes."""
    command = click.option(
        "--workers",
        type=click.IntRange(min=1, max=MAX_WORKERS),
        default=1,
        show_default=True,
        help="Solver threads. 1 is deterministic; more use CP-SAT's interleaved search.",
    )(command)
    command = click.option(
        "--seed",
        type=SEED,
        default=0,
        show_default=True,
        help="Solver random seed.",
    )(command)
    command = click.option(
        "--work-units",
        type=WorkBudget(min=0, min_open=True, max=MAX_TIME_LIMIT),
        default=None,
        help="Fix the search's work budget (CP-SAT deterministic units; default: "
        "--time-limit x 0.3). With an ample --time-limit the plan is then the same on "
        "any machine, however busy. 'auto': the limit's worth on this machine, "
        "measured at start-up (the plan notes the number, which reproduces it).",
    )(command)
    command = click.option(
        "--time-limit",
        type=FiniteRange(min=0.1, max=MAX_TIME_LIMIT),
        default=30.0,
        show_default=True,
        help="Seconds the solver may take; the best plan found by then is returned.",
    )(command)
    return command


def snapshot_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """``--referrals``, ``--policy`` and ``--json``, shared by the commands below."""
    command = click.option(
        "--json", "as_json", is_flag=True, help="Write JSON on stdout instead of tables."
    )(command)
    command = policy_option(command)
    command = click.option(
        "--referrals", type=GivenPath(), help="The day's referrals merged into the snapshot."
    )(command)
    return command
