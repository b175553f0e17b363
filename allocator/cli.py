"""The ``allocator`` command line: chains read -> solve -> write; no modelling here.

Exit codes: 0 when a plan is produced (even with unallocated cases), 2 for bad
input (the message names the file, the row or id, and the field).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import click
from rich.console import Console

from allocator.allocate import allocate
from allocator.io import InputError, load_snapshot, write_json
from allocator.models import Snapshot
from allocator.policy import Policy, PolicyError, load_policy
from allocator.report import plan_summary

BAD_INPUT = 2


@contextmanager
def input_errors() -> Iterator[None]:
    """Turn bad input into a clear message on stderr and exit code 2 (no traceback)."""
    try:
        yield
    except (InputError, PolicyError) as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(BAD_INPUT)
    except OSError as exc:
        click.echo(f"error: {exc.filename}: {exc.strerror}", err=True)
        sys.exit(BAD_INPUT)


def read_inputs(
    snapshot: str, referrals: str | None, policy: str | None
) -> tuple[Snapshot, Policy]:
    """Load and validate the snapshot (with referrals merged) and the policy."""
    with input_errors():
        return load_snapshot(snapshot, referrals), load_policy(policy)


def solver_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """The solver settings every solving command takes."""
    command = click.option(
        "--workers", type=click.IntRange(min=1), default=1, show_default=True,
        help="Solver threads. 1 is deterministic; more use CP-SAT's interleaved search.",
    )(command)
    command = click.option(
        "--seed", type=int, default=0, show_default=True, help="Solver random seed."
    )(command)
    command = click.option(
        "--time-limit", type=click.FloatRange(min=0.1), default=30.0, show_default=True,
        help="Seconds the solver may take; the best plan found by then is returned.",
    )(command)
    return command


@click.group()
@click.version_option(package_name="allocator")
def main() -> None:
    """Allocate children's social-care cases to social workers."""


@main.command("allocate")
@click.argument("snapshot", type=click.Path())
@click.option("--referrals", type=click.Path(), help="The day's referrals (JSON or CSV).")
@click.option("--policy", "policy_path", type=click.Path(), help="Policy file (TOML).")
@click.option("--out", type=click.Path(), help="Where to write the plan JSON (default stdout).")
@solver_options
def allocate_command(
    snapshot: str,
    referrals: str | None,
    policy_path: str | None,
    out: str | None,
    time_limit: float,
    seed: int,
    workers: int,
) -> None:
    """Allocate every case of SNAPSHOT that needs a worker; write the plan."""
    snap, policy = read_inputs(snapshot, referrals, policy_path)
    plan = allocate(snap, policy, time_limit=time_limit, seed=seed, workers=workers)
    with input_errors():
        write_json(out, plan)
    plan_summary(plan, Console(stderr=True))


@main.command("generate")
@click.option("--practitioners", type=click.IntRange(min=1), required=True)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--load", type=click.FloatRange(min=0), default=0.9, show_default=True,
              help="Open caseload as a share of total weighted capacity.")
@click.option("--referral-rate", type=click.FloatRange(min=0), default=0.04, show_default=True,
              help="Referrals to allocate as a share of open cases.")
@click.option("--format", "fmt", type=click.Choice(["json", "csv"]), default="json",
              show_default=True)
@click.option("--out", type=click.Path(), required=True,
              help="A .json file, or a directory for CSV tables.")
def generate_command(
    practitioners: int, seed: int, load: float, referral_rate: float, fmt: str, out: str
) -> None:
    """Write a realistic synthetic service, reproducible from its seed."""
    from allocator.generate import generate
    from allocator.io import write_snapshot

    if fmt == "json" and not out.endswith(".json"):
        raise click.BadParameter("a JSON snapshot's path must end in .json", param_hint="--out")
    if fmt == "csv" and out.endswith(".json"):
        raise click.BadParameter("CSV tables go to a directory, not a .json file",
                                 param_hint="--out")
    snapshot = generate(practitioners, seed=seed, load=load, referral_rate=referral_rate)
    with input_errors():
        write_snapshot(snapshot, out)
    click.echo(
        f"wrote {out}: {len(snapshot.practitioners)} practitioners, {len(snapshot.cases)} cases",
        err=True,
    )
