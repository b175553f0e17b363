"""The morning's commands: allocate the day's cases, rebalance the caseloads, apply the
plan to make tomorrow's snapshot."""

from __future__ import annotations

import sys
import time
from datetime import date
from typing import Literal

import click

from allocator.cli.echo import BAD_INPUT, console, echo, input_errors
from allocator.cli.files import (
    explain_command,
    made_from,
    read_handovers,
    read_inputs,
    read_morning_inputs,
    referrals_given,
    writing,
)
from allocator.cli.options import (
    FiniteRange,
    IsoDay,
    plan_snapshot_option,
    policy_option,
    solver_options,
)
from allocator.cli.progress import progress_display
from allocator.command_line import A_SNAPSHOT, GivenPath
from allocator.contract.limits import MAX_MOVES
from allocator.contract.models import MAX_POINTS
from allocator.contract.policy import MAX_NEW_FAMILIES, MAX_WINDOW_DAYS, POLICY_OVERRIDES
from allocator.contract.settings import Settings
from allocator.domain.objectives import daily_tiers
from allocator.io import check_output, write_json
from allocator.present.analysis import morning_risks
from allocator.present.terminal import plan_summary
from allocator.problems.daily import allocate


@click.command("allocate")
@click.argument("snapshot", type=GivenPath(expected=A_SNAPSHOT))
@click.option("--referrals", type=GivenPath(), help="The day's referrals (JSON or CSV).")
@policy_option
@click.option("--out", type=GivenPath(), help="Where to write the plan JSON (default stdout).")
@click.option(
    "--allow-moves",
    type=click.IntRange(min=0, max=MAX_MOVES),
    default=0,
    show_default=True,
    help="Most existing cases that may move to another worker when that lets more "
    "cases be allocated (urgent first). 0: nobody moves.",
)
@click.option(
    "--handovers",
    "handovers_path",
    type=GivenPath(),
    help="Handovers still pending (from apply): each receiver's room for the child is kept.",
)
@click.option(
    "--quiet",
    is_flag=True,
    help="Leave the list of assignments out of the summary (the unallocated children "
    "and the warnings stay).",
)
@solver_options
def allocate_command(
    snapshot: str,
    referrals: str | None,
    policy_path: str | None,
    out: str | None,
    allow_moves: int,
    handovers_path: str | None,
    quiet: bool,
    time_limit: float,
    work_units: float | Literal["auto"] | None,
    seed: int,
    workers: int,
) -> None:
    """Allocate every case of SNAPSHOT that needs a worker; write the plan."""
    started = time.perf_counter()  # reading the input counts against --time-limit
    snap, policy, pending = read_morning_inputs(
        out, snapshot, referrals, policy_path, handovers_path
    )
    tiers = daily_tiers(policy)
    err = console(stderr=True)
    with progress_display(err, {t.key: t.label for t in tiers}) as progress:
        settings = Settings(
            time_limit=time_limit,
            work_units=work_units,
            seed=seed,
            workers=workers,
            progress=progress,
        )
        plan = allocate(
            snap,
            policy,
            settings,
            allow_moves=allow_moves,
            handovers=pending,
            clock_started=started,
        )
    inputs = made_from(snapshot, referrals, policy_path, "allocate", service=snap)
    plan = plan.model_copy(update={"made_from": inputs})
    with writing(out):
        write_json(out, plan)
    warnings = morning_risks(snap, policy, plan, promised=pending)
    plan_summary(
        plan,
        snap,
        policy,
        tiers,
        err,
        quiet=quiet,
        warnings=warnings,
        plan_file=None if out == "-" else out,
        explain=explain_command(out, snapshot, referrals, policy_path),
    )


@click.command("rebalance")
@click.argument("snapshot", type=GivenPath(expected=A_SNAPSHOT))
@click.option("--referrals", type=GivenPath(), help="The day's referrals (JSON or CSV).")
@policy_option
@click.option(
    "--handovers",
    "handovers_path",
    type=GivenPath(),
    help="Handovers still pending (from apply): each kept while its receiver may take the child.",
)
@click.option(
    "--max-moves", type=click.IntRange(min=0, max=MAX_MOVES), help="Most changes of worker."
)
@click.option("--out", type=GivenPath(), help="Where to write the plan JSON (default stdout).")
@click.option(
    "--points-per-fte",
    type=FiniteRange(min=0, min_open=True, max=MAX_POINTS),
    help="Override the policy's cap per FTE and report what it would cost.",
)
@click.option(
    "--long-absence-days",
    type=click.IntRange(min=1, max=MAX_WINDOW_DAYS),
    help="Override: an absence this long from as_of has its cases covered.",
)
@click.option(
    "--max-new-families-per-day",
    type=click.IntRange(min=0, max=MAX_NEW_FAMILIES),
    help="Override: most families new to a worker in one plan.",
)
@click.option(
    "--leaving-window-days",
    type=click.IntRange(min=0, max=MAX_WINDOW_DAYS),
    help="Override: no new case to a worker leaving within this many days.",
)
@click.option(
    "--quiet",
    is_flag=True,
    help="Leave the lists of moves and handovers out of the summary (the unallocated "
    "children and the warnings stay).",
)
@solver_options
def rebalance_command(
    snapshot: str,
    referrals: str | None,
    policy_path: str | None,
    handovers_path: str | None,
    max_moves: int | None,
    out: str | None,
    points_per_fte: float | None,
    long_absence_days: int | None,
    max_new_families_per_day: int | None,
    leaving_window_days: int | None,
    quiet: bool,
    time_limit: float,
    work_units: float | Literal["auto"] | None,
    seed: int,
    workers: int,
) -> None:
    """Move the children of leavers, long absences and over-cap workers; fewest changes.

    Every case needing a worker is placed in the same plan, the day's referrals
    (--referrals) included, so one morning plan holds the whole day's decisions.
    With a policy override (e.g. --points-per-fte 90) also report what it would cost:
    children who must change worker, children who could not be held, extra FTE by grade,
    each beside the same rebalance under today's policy (a second solve, with the same
    limits) and the difference.
    """
    from allocator.engine.rebalance import REBALANCE_TIERS
    from allocator.present.terminal import cap_cost_table, rebalance_summary
    from allocator.problems.rebalancing import cap_cost, rebalance, rebalance_tiers

    started = time.perf_counter()  # reading the input counts against --time-limit
    snap, policy, pending = read_morning_inputs(
        out, snapshot, referrals, policy_path, handovers_path
    )
    planned = {h.case: h.worker for h in pending}
    given = (points_per_fte, long_absence_days, max_new_families_per_day, leaving_window_days)
    overrides = {
        key: value for key, value in zip(POLICY_OVERRIDES, given, strict=True) if value is not None
    }
    out_console = console(stderr=True)
    labels = {key: key.replace("_", " ") for key in REBALANCE_TIERS}
    solve_settings = Settings(
        time_limit=time_limit, work_units=work_units, seed=seed, workers=workers
    )
    if overrides and handovers_path is not None:
        raise click.UsageError(
            "--handovers is for the plan in force; a policy override costs a cap without it"
        )
    if overrides:
        today = policy  # the baseline: what the service sees anyway
        with input_errors():
            policy = policy.with_overrides(**overrides)
        with progress_display(out_console, labels) as progress:
            report = cap_cost(
                snap,
                policy,
                solve_settings.model_copy(update={"progress": progress}),
                max_moves=max_moves,
                baseline=today,
            )
        plan = report.plan
    else:
        with progress_display(out_console, labels) as progress:
            plan = rebalance(
                snap,
                policy,
                solve_settings.model_copy(update={"progress": progress}),
                max_moves=max_moves,
                planned=planned or None,
                clock_started=started,
            )
    inputs = made_from(snapshot, referrals, policy_path, "rebalance", service=snap)
    # The overrides change the policy file's figures: the plan's settings record them.
    settings = {**plan.settings, **overrides}
    plan = plan.model_copy(update={"made_from": inputs, "settings": settings})
    with writing(out):
        write_json(out, plan)
    warnings = morning_risks(snap, policy, plan)
    rebalance_summary(
        plan,
        snap,
        policy,
        rebalance_tiers(policy),
        out_console,
        quiet=quiet,
        warnings=warnings,
        plan_file=None if out == "-" else out,
        explain=explain_command(out, snapshot, referrals, policy_path),
    )
    if overrides:
        out_console.print(cap_cost_table(report))


@click.command("apply")
@click.argument("plan_path", metavar="PLAN", type=GivenPath())
@plan_snapshot_option
@click.option("--referrals", type=GivenPath(), help="The referrals the plan was made with.")
@policy_option
@click.option(
    "--handovers",
    "handovers_path",
    type=GivenPath(),
    help="Handovers still pending from an earlier apply: carried forward.",
)
@click.option(
    "--out",
    type=GivenPath(expected="a .json file or a folder"),
    required=True,
    help="The snapshot after the plan: a .json file, or a folder for CSV tables.",
)
@click.option(
    "--as-of",
    type=IsoDay(),
    help="Write the snapshot of this later day; handovers due by then are made.",
)
@click.option(
    "--force",
    is_flag=True,
    help="Apply even when the files differ from those the plan was made from (warned).",
)
def apply_command(
    plan_path: str,
    snapshot_path: str,
    referrals: str | None,
    policy_path: str | None,
    handovers_path: str | None,
    out: str,
    as_of: date | None,
    force: bool,
) -> None:
    """Apply PLAN to its snapshot; write the snapshot after it, so tomorrow starts from it.

    Handovers planned ahead stay pending (the child keeps their worker); those still to
    come are written beside the snapshot (next.json: next.handovers.json), with those
    of an earlier apply (--handovers) the plan did not decide anew.
    """
    from allocator.contract.models import PendingHandovers
    from allocator.explain.check import input_mismatches
    from allocator.io import (
        check_snapshot_output,
        file_digest,
        load_plan,
        pending_handovers_path,
        write_snapshot,
    )
    from allocator.problems.apply import applied

    inputs = {
        "snapshot": snapshot_path,
        "referrals": referrals,
        "policy": policy_path,
        "plan": plan_path,
        "handovers": handovers_path,
    }
    if plan_path == "-" and "-" in (snapshot_path, referrals, handovers_path):
        raise click.UsageError(
            "the plan and another input both name standard input (-), which can be read "
            "once; expected at most one of them to be -"
        )
    sidecar = pending_handovers_path(out)
    with input_errors():
        check_snapshot_output(out, inputs)
        if sidecar.parent.is_dir():  # else a new CSV folder, made when the tables are written
            check_output(sidecar, inputs)
    snap, policy = read_inputs(snapshot_path, referrals, policy_path)
    with input_errors():
        plan = load_plan(plan_path)
        referrals_given(plan, plan_path, snap, snapshot_path, referrals)
    differ = input_mismatches(
        plan.made_from, made_from(snapshot_path, referrals, policy_path, service=snap)
    )
    for sentence in differ:
        echo(f"{'warning' if force else 'error'}: {plan_path}: {sentence}", err=True)
    if differ and not force:
        echo(
            "error: the plan was made from other files; give the files it was made from, "
            "or --force to apply it to these (the hard rules are still checked)",
            err=True,
        )
        sys.exit(BAD_INPUT)
    earlier = read_handovers(handovers_path, snap, policy)
    with input_errors():
        result = applied(snap, plan, policy, as_of=as_of, earlier=earlier, source=plan_path)
    # An older file beside ``out`` is written over too: a promise it holds must not
    # outlive the plan now applied to the same snapshot path.
    carry = bool(plan.handovers) or handovers_path is not None or sidecar.exists()
    with writing(out):
        write_snapshot(result.snapshot, out)
        if carry:
            pending = PendingHandovers(
                as_of=result.snapshot.as_of, plan=file_digest(plan_path), handovers=result.pending
            )
            write_json(sidecar, pending)
    wrote = f"wrote {out} (as of {result.snapshot.as_of})"
    if carry:
        wrote += f" and {sidecar}"
    echo(f"applied {plan_path}: {result.summary()}; {wrote}")
