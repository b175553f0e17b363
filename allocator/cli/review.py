"""The commands that read a plan or a snapshot and print an answer: explain, recommend,
check, diff, and report (the plan as one HTML page).

Each reads its inputs, calls one library function, and prints its result (rich tables
on stdout, or JSON with --json). Bad input exits 2; check exits 1 when the plan breaks
a rule.
"""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import click
from rich.console import Console

from allocator.cli.echo import BAD_INPUT, RULES_BROKEN, console, echo, input_errors
from allocator.cli.files import (
    made_from,
    read_handovers,
    read_inputs,
    referrals_given,
    warn_inputs,
    writing,
)
from allocator.cli.options import plan_snapshot_option, policy_option, snapshot_options
from allocator.command_line import A_SNAPSHOT, GivenPath
from allocator.contract.models import Plan, Snapshot
from allocator.contract.policy import Policy, overrides_of, overrides_said
from allocator.domain.rules import counted
from allocator.io import InputError, check_output, write_json


def _emit(as_json: bool, result: Any, render: Callable[[Any, Console], None]) -> None:
    """Print ``result`` as JSON (its ``to_dict``) or through a report renderer."""
    if as_json:
        from allocator.present.analysis import to_data

        write_json(None, to_data(result))
    else:
        render(result, console())


@click.command("explain")
@click.argument("plan_path", metavar="PLAN", type=GivenPath())
@plan_snapshot_option
@click.option("--case", "case_id", help="Explain one case: why it went where it did.")
@click.option("--worker", "worker_id", help="One worker's workload statement.")
@click.option(
    "--top",
    type=click.IntRange(min=0),
    default=5,
    show_default=True,
    help="With --case: how many next-best workers to show.",
)
@snapshot_options
def explain_command(
    plan_path: str,
    snapshot_path: str,
    case_id: str | None,
    worker_id: str | None,
    top: int,
    referrals: str | None,
    policy_path: str | None,
    as_json: bool,
) -> None:
    """Analyse PLAN rule by rule; or one case (--case) or one worker (--worker)."""
    from allocator.io import load_plan
    from allocator.present.analysis import analyse_plan, explain_case, worker_statement
    from allocator.present.terminal import render_analysis, render_case, render_worker

    if case_id is not None and worker_id is not None:
        raise click.UsageError("give --case or --worker, not both")
    snap, policy = read_inputs(snapshot_path, referrals, policy_path)
    with input_errors():
        plan = load_plan(plan_path)
    warn_inputs(plan, plan_path, snapshot_path, referrals, policy_path, service=snap)
    policy = _made_under(plan, policy, "explained")
    with input_errors(), _naming(snapshot_path, referrals):
        if case_id is not None:
            _emit(as_json, explain_case(snap, policy, plan, case_id, top=top), render_case)
        elif worker_id is not None:
            _emit(as_json, worker_statement(snap, policy, plan, worker_id), render_worker)
        else:
            _emit(as_json, analyse_plan(snap, policy, plan), render_analysis)


@contextmanager
def _naming(snapshot: str, referrals: str | None) -> Iterator[None]:
    """An unknown case or worker id said with the files it was looked for in."""
    from allocator.problems.recommend import UnknownIdError

    try:
        yield
    except UnknownIdError as exc:
        where = snapshot + (f" (with {referrals})" if referrals else "")
        raise InputError(f"{where}: {exc}") from None


@click.command("recommend")
@click.argument("snapshot", type=GivenPath(expected=A_SNAPSHOT))
@click.argument("case_id", metavar="CASE_ID")
@click.option(
    "--top",
    type=click.IntRange(min=1),
    default=5,
    show_default=True,
    help="How many eligible workers to list (at least 1).",
)
@click.option(
    "--ineligible",
    type=click.IntRange(min=0),
    default=3,
    show_default=True,
    help="How many of the best ineligible workers to list, with why not.",
)
@click.option(
    "--plan",
    "plan_path",
    type=GivenPath(),
    help="The plan in force for SNAPSHOT: rank against the loads once it is applied.",
)
@click.option(
    "--handovers",
    "handovers_path",
    type=GivenPath(),
    help="Handovers still pending (from apply): their receivers' room is kept.",
)
@snapshot_options
def recommend_command(
    snapshot: str,
    case_id: str,
    top: int,
    ineligible: int,
    plan_path: str | None,
    handovers_path: str | None,
    referrals: str | None,
    policy_path: str | None,
    as_json: bool,
) -> None:
    """Rank the workers for CASE_ID of SNAPSHOT, best first, with reasons.

    With --plan, against the service once the plan in force is applied: the morning's
    placements count on their new workers, and a handover still to come (the plan's,
    or --handovers from an earlier apply) keeps its room.
    """
    from allocator.io import load_plan
    from allocator.present.terminal import render_recommendation
    from allocator.problems.apply import applied
    from allocator.problems.recommend import recommend

    snap, policy = read_inputs(snapshot, referrals, policy_path)
    earlier = read_handovers(handovers_path, snap, policy)
    plan: Plan | None = None
    if plan_path is not None:
        with input_errors():
            plan = load_plan(plan_path)
            warn_inputs(plan, plan_path, snapshot, referrals, policy_path, service=snap)
            applied(snap, plan, policy, source=plan_path)  # refused here, naming the file
    with input_errors(), _naming(snapshot, referrals):
        result = recommend(
            snap, case_id, policy, top=top, ineligible=ineligible, plan=plan, handovers=earlier
        )
    _emit(as_json, result, render_recommendation)


@click.command("check")
@click.argument("snapshot", type=GivenPath(expected=A_SNAPSHOT))
@click.argument("plan_path", metavar="PLAN", type=GivenPath())
@snapshot_options
def check_command(
    snapshot: str, plan_path: str, referrals: str | None, policy_path: str | None, as_json: bool
) -> None:
    """Check PLAN against every hard rule for SNAPSHOT; exit 1 if it breaks any.

    Stale summaries (totals that disagree with the plan's placements) and input files
    that differ from those the plan was made from are reported apart: alone, they
    leave the exit code 0.
    """
    from allocator.explain.check import RULES, SUMMARIES, judge_plan
    from allocator.io import load_plan
    from allocator.present.terminal import render_exceptions, render_stale, render_violations

    snap, policy = read_inputs(snapshot, referrals, policy_path)
    with input_errors():
        plan = load_plan(plan_path)
    inputs = warn_inputs(plan, plan_path, snapshot, referrals, policy_path, service=snap)
    policy = _made_under(plan, policy, "checked")
    violations, stale = judge_plan(snap, policy, plan)
    if as_json:
        from allocator.present.analysis import to_data

        write_json(
            None,
            {
                "valid": not violations,
                "rules": list(RULES),
                "violations": to_data(violations),
                "summaries": list(SUMMARIES),
                "stale": to_data(stale),
                "inputs": inputs,
                "exceptions": [e.model_dump() for e in plan.exceptions],
            },
        )
    else:
        out = console()
        render_violations(violations, out)
        render_stale(stale, out)
        render_exceptions(plan, out)
    if violations:
        sys.exit(RULES_BROKEN)


def _made_under(plan: Plan, policy: Policy, verb: str) -> Policy:
    """The policy ``plan`` was made under: a plan made with policy overrides (rebalance
    --points-per-fte ...) records them in its settings, and is judged by them, saying
    so on stderr (explain once judged such a plan by today's caps)."""
    overrides = overrides_of(plan.settings)
    if not overrides:
        return policy
    with input_errors():
        policy = policy.with_overrides(**overrides)
    echo(
        f"note: the plan was made with {overrides_said(overrides)}: {verb} with the same", err=True
    )
    return policy


@click.command("diff")
@click.argument("plan_a", type=GivenPath())
@click.argument("plan_b", type=GivenPath())
@click.option(
    "--snapshot",
    "snapshot_path",
    type=GivenPath(),
    help="Recompute both plans' tiers from this snapshot.",
)
@snapshot_options
def diff_command(
    plan_a: str,
    plan_b: str,
    snapshot_path: str | None,
    referrals: str | None,
    policy_path: str | None,
    as_json: bool,
) -> None:
    """What differs between PLAN_A and PLAN_B: cases placed elsewhere, and the tiers."""
    from allocator.explain.check import input_mismatches, plans_made_apart, rankable
    from allocator.io import load_plan
    from allocator.present.analysis import diff_plans
    from allocator.present.terminal import render_diff

    snap: Snapshot | None = None
    policy: Policy | None = None
    if snapshot_path is not None:
        snap, policy = read_inputs(snapshot_path, referrals, policy_path)
    elif referrals is not None or policy_path is not None:
        raise click.UsageError("--referrals and --policy need --snapshot")
    with input_errors():
        a, b = load_plan(plan_a), load_plan(plan_b)
    for sentence in plans_made_apart(a, b, (plan_a, plan_b), recomputed=snap is not None):
        echo(f"warning: {sentence}", err=True)
    if snapshot_path is not None:
        assert snap is not None  # read with the snapshot above
        given = made_from(snapshot_path, referrals, policy_path, service=snap)
        for path, plan in ((plan_a, a), (plan_b, b)):
            with input_errors():
                referrals_given(plan, path, snap, snapshot_path, referrals)
            for sentence in input_mismatches(plan.made_from, given):
                echo(f"warning: {path}: {sentence}", err=True)
    ranked = rankable(a, b)
    if policy is not None and ranked:
        # Both made under the same overrides: recomputed under them too.
        policy = _made_under(a, policy, "recomputed")
    diff = diff_plans(a, b, snap, policy)
    if not ranked:
        # Two services' plans place different children: a verdict would mislead.
        diff = dataclasses.replace(
            diff,
            better=None,
            tiers=tuple(dataclasses.replace(t, better=None) for t in diff.tiers),
            notes=(
                *diff.notes,
                "not ranked: the plans were made for different days, under different "
                "policy overrides, or from different snapshots or referrals (the warnings "
                "above)",
            ),
        )
    _emit(as_json, diff, render_diff)


@click.command("report")
@click.argument("plan_path", metavar="PLAN", type=GivenPath())
@click.option("--snapshot", "snapshot_path", type=GivenPath(expected=A_SNAPSHOT), required=True)
@click.option("--referrals", type=GivenPath(), help="The day's referrals merged in.")
@policy_option
@click.option("--out", type=GivenPath(), required=True, help="The HTML file to write.")
def report_command(
    plan_path: str, snapshot_path: str, referrals: str | None, policy_path: str | None, out: str
) -> None:
    """Write PLAN as one self-contained HTML file (loads, assignments, unallocated, tiers)."""
    from allocator.io import load_plan, write_text
    from allocator.present.html_report import render_report

    with input_errors():
        check_output(
            out,
            {
                "plan": plan_path,
                "snapshot": snapshot_path,
                "referrals": referrals,
                "policy": policy_path,
            },
        )
    snap, policy = read_inputs(snapshot_path, referrals, policy_path)
    with input_errors():
        plan = load_plan(plan_path)
    warn_inputs(plan, plan_path, snapshot_path, referrals, policy_path, service=snap)
    from allocator.explain.check import check_plan

    broken = check_plan(snap, policy, plan)
    if broken:
        for v in broken:
            echo(f"error: {v.rule}: {v.message}", err=True)
        echo(
            f"error: the plan breaks {counted(len(broken), 'hard rule')} against {snapshot_path}: "
            "no report written",
            err=True,
        )
        sys.exit(BAD_INPUT)
    text = render_report(snap, policy, plan)
    with writing(out):
        write_text(out, text)
    echo(f"wrote {out}", err=True)
