"""Reading a command's inputs and writing its output; every failure one line, exit 2."""

from __future__ import annotations

import shlex
from collections.abc import Iterator
from contextlib import contextmanager

from allocator.cli.echo import echo, input_errors
from allocator.command_line import interruptions
from allocator.contract.models import Handover, MadeFrom, Plan, Snapshot
from allocator.contract.policy import Policy
from allocator.domain.rules import counted
from allocator.io import InputError, check_output, inputs_of, load_policy, load_snapshot


def read_inputs(
    snapshot: str, referrals: str | None, policy: str | None
) -> tuple[Snapshot, Policy]:
    """Load and validate the snapshot (with referrals merged) and the policy.

    Doubts about input that is still used (a CSV list cell holding a comma) are
    printed on stderr, one ``warning:`` line each.
    """
    warnings: list[str] = []
    with input_errors():
        snap = load_snapshot(snapshot, referrals, warnings=warnings)
    _warn(warnings)
    return snap, read_policy(policy)


def read_policy(policy: str | None) -> Policy:
    """The policy file alone (the defaults for ``None``), its doubts (a file that sets
    nothing) printed on stderr as :func:`read_inputs` prints the snapshot's; exit 2 on
    a fault."""
    warnings: list[str] = []
    with input_errors():
        loaded = load_policy(policy, warnings=warnings)
    _warn(warnings)
    return loaded


def _warn(warnings: list[str]) -> None:
    for warning in warnings:
        echo(f"warning: {warning}", err=True)


def read_morning_inputs(
    out: str | None,
    snapshot: str,
    referrals: str | None,
    policy: str | None,
    handovers: str | None,
) -> tuple[Snapshot, Policy, tuple[Handover, ...]]:
    """A morning command's inputs (``allocate``, ``rebalance``): ``out`` checked
    against each (exit 2 if it would write over one), the snapshot with referrals,
    the policy, and the pending handovers still to make (:func:`read_handovers`)."""
    given = {"snapshot": snapshot, "referrals": referrals, "policy": policy}
    with input_errors():
        check_output(out, {**given, "handovers": handovers})
    snap, loaded = read_inputs(snapshot, referrals, policy)
    return snap, loaded, read_handovers(handovers, snap, loaded)


def made_from(
    snapshot: str,
    referrals: str | None,
    policy: str | None,
    command: str | None = None,
    *,
    service: Snapshot,
) -> MadeFrom:
    """The input files with their SHA-256, and the digest of ``service``, the service
    they hold as read (:func:`allocator.io.inputs_of`); exit 2 if unreadable."""
    with input_errors():
        return inputs_of(snapshot, referrals, policy, command, service)


def explain_command(
    plan: str | None, snapshot: str, referrals: str | None, policy: str | None
) -> str | None:
    """The command that explains one case of the plan written to ``plan`` from these
    inputs, less its ``--case ID`` (``allocator explain plan.json --snapshot s.json
    --referrals r.json``), each path quoted for a shell; ``None`` when the plan went to
    standard output (``plan`` ``None`` or ``-``), which ``explain`` cannot read again."""
    if plan is None or plan == "-":
        return None
    words = ["allocator", "explain", plan, "--snapshot", snapshot]
    if referrals is not None:
        words += ["--referrals", referrals]
    if policy is not None:
        words += ["--policy", policy]
    return shlex.join(words)


def warn_inputs(
    plan: Plan,
    plan_path: str,
    snapshot: str,
    referrals: str | None,
    policy: str | None,
    *,
    service: Snapshot,
) -> list[str]:
    """Print, on stderr, where the given files differ from those ``plan`` was made from
    (:func:`~allocator.explain.check.input_mismatches`: the same service in other
    files does not); exit 2 first if the plan's referrals were forgotten
    (:func:`referrals_given`)."""
    from allocator.explain.check import input_mismatches

    with input_errors():
        referrals_given(plan, plan_path, service, snapshot, referrals)
    found = input_mismatches(
        plan.made_from, made_from(snapshot, referrals, policy, service=service)
    )
    for sentence in found:
        echo(f"warning: {sentence}", err=True)
    return found


def read_handovers(path: str | None, snapshot: Snapshot, policy: Policy) -> tuple[Handover, ...]:
    """The handovers of a pending handovers file (``apply`` wrote it) still to make on
    ``snapshot``'s day, each receiver still allowed to take the child under ``policy``
    (:func:`allocator.problems.apply.still_pending`); exit 2 if unreadable or holding a
    handover no plan makes. Those that no longer apply get one ``warning:`` line
    (:func:`allocator.problems.apply.lapsed`)."""
    if path is None:
        return ()
    from allocator.io import load_pending_handovers
    from allocator.problems.apply import lapsed, still_pending

    with input_errors():
        record = load_pending_handovers(path)
        pending = still_pending(snapshot, record, policy, source=path)
    dropped = lapsed(snapshot, record, policy)
    if dropped is not None:
        echo(f"warning: {path}: {dropped}", err=True)
    return pending


def warn_unread_handovers(snapshot: str, handovers: str | None, keeps: str) -> None:
    """One ``warning:`` line when a pending handovers file lies beside ``snapshot``
    (``apply`` wrote it) and ``--handovers`` was not given: without it the promises it
    holds are broken (``keeps``: what giving it does, "keep them in the forecast")."""
    from allocator.io import pending_handovers_path

    if handovers is not None or snapshot == "-":
        return
    beside = pending_handovers_path(snapshot)
    if beside.is_file():
        echo(
            f"warning: {beside} beside the snapshot holds handovers promised by an earlier "
            f"apply; give --handovers {beside} to {keeps}",
            err=True,
        )


@contextmanager
def writing(path: str | None) -> Iterator[None]:
    """Around writing the output to ``path`` (``None`` or ``-``: stdout); exit 2 on failure.

    A file is never left half-written by an interruption: it takes effect once the
    file is whole. Standard output is not held back (a stalled reader must not block
    SIGTERM).
    """
    with input_errors():
        if path is None or path == "-":
            yield
        else:
            with interruptions.deferred(path):
                yield


def referrals_given(
    plan: Plan, plan_path: str, snap: Snapshot, snapshot: str, referrals: str | None
) -> None:
    """Refuse, as bad input, a plan made with a referrals file that was not given and
    naming cases the snapshot does not hold: the plan cannot be judged, and a list
    of "not a case in the snapshot" with exit 1 would call it broken (a fresh user's
    first check). Every command that reads a plan beside its snapshot asks it
    (:func:`warn_inputs`; apply, diff).

    Raises
    ------
    InputError
        "PLAN names 20 cases not in SNAPSHOT and was made with referrals R: give
        --referrals R (nothing was checked)".
    """
    made = plan.made_from.referrals if plan.made_from is not None else None
    if referrals is not None or made is None:
        return
    # Another service altogether (another day, or workers it does not have): the
    # warnings say so, not the referrals. Judged by content, not by the snapshot
    # file's digest: the same snapshot re-saved is still the same service, and a
    # snapshot changed since (a worker added) still lacks the referrals the plan
    # names; given them, the warnings say what else differs.
    staff = {p.id for p in snap.practitioners}
    workers = {a.worker for a in plan.assignments} | {h.worker for h in plan.handovers}
    if plan.as_of != snap.as_of or not workers <= staff:
        return
    known = {c.id for c in snap.cases}
    named = {a.case for a in plan.assignments} | {u.case for u in plan.unallocated}
    unknown = named - known
    if unknown:
        raise InputError(
            f"{plan_path} names {counted(len(unknown), 'case')} not in {snapshot} and was made "
            f"with referrals {made.file}: give --referrals {made.file} (nothing was checked)"
        )
