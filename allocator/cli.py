"""The ``allocator`` command line: chains read -> solve -> write; no modelling here.

Exit codes: 0 when a plan is produced (even with unallocated cases), 2 for bad
input (the message names the file, the row or id, and the field), 128 + the signal
when interrupted: 130 for Ctrl-C (SIGINT), 143 for SIGTERM. An interrupted command
prints one line (``interrupted: no plan written``) and leaves any output file as it
was, or, if the signal came while the plan was being written, whole and new.
"""

from __future__ import annotations

import math
import re
import signal
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any, Final, NoReturn

import click
from rich.console import Console
from rich.live import Live
from rich.text import Text

from allocator.analysis import staffing_warnings
from allocator.daily import allocate
from allocator.io import (
    InputError,
    check_output,
    check_output_folder,
    inputs_of,
    load_snapshot,
    write_json,
)
from allocator.limits import (
    MAX_ARRIVAL_FACTOR,
    MAX_DAYS,
    MAX_EXTRA_FTE,
    MAX_LOAD,
    MAX_MOVES,
    MAX_PRACTITIONERS,
    MAX_RUNS,
    MAX_SEED,
    MAX_TIME_LIMIT,
    MAX_WAIT_TARGET_DAYS,
    MAX_WEEKS,
    MAX_WORKERS,
    WAIT_TARGET_DAYS,
)
from allocator.models import MAX_POINTS, Contract, Grade, Handover, MadeFrom, Plan, Snapshot
from allocator.objectives import daily_tiers
from allocator.policy import (
    MAX_NEW_FAMILIES,
    MAX_WINDOW_DAYS,
    Policy,
    PolicyError,
    load_policy,
)
from allocator.report import plan_summary, printable
from allocator.settings import Progress, Settings

BAD_INPUT = 2


class FiniteRange(click.FloatRange):
    """A :class:`click.FloatRange` that also refuses ``nan`` and ``inf``.

    ``nan`` compares false with every bound, so a plain range lets it through.
    """

    name = "finite float range"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        """The number, or a usage error (exit 2) naming the range expected."""
        number = super().convert(value, param, ctx)
        if not math.isfinite(number):
            self.fail(f"{value!r} is not in the range {self._describe_range()}.", param, ctx)
        return number


if TYPE_CHECKING:
    from allocator.simulation.forecast import Calibration

if TYPE_CHECKING:  # generic from click 8.2 on; the project allows 8.1
    _DayParam = click.ParamType[date]
else:
    _DayParam = click.ParamType


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


SEED: Final = click.IntRange(min=0, max=MAX_SEED)
"""The one domain of every ``--seed`` (FORMAT.md "Domains of values")."""


INTERRUPT_SIGNALS = (signal.SIGINT, signal.SIGTERM)
"""Signals that stop a command cleanly, exit code ``128 + signal``."""


class Interrupted(KeyboardInterrupt):
    """SIGINT or SIGTERM arrived while a command ran.

    A ``KeyboardInterrupt``, so ``except Exception`` anywhere below lets it through.

    Parameters
    ----------
    signum
        The signal received; the command exits with ``128 + signum``.
    """

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


class _Interruptions:
    """Turns SIGINT and SIGTERM into :class:`Interrupted` in the main thread.

    While an output file is replaced (:meth:`deferred`) a signal is held back and
    raised once the file is complete, so the exit message can say truthfully whether
    the file was written. A signal that arrives while the first is being handled is
    ignored.
    """

    def __init__(self) -> None:
        self._saved: dict[int, Any] = {}
        self.depth = 0  # > 0 while a file is being replaced
        self.pending: int | None = None  # a signal held back until the file is whole
        self.raised = False
        self.product = ""  # what the command writes ("plan"), for the exit message
        self.written: list[str] = []  # the files written so far

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self.raised:
            return
        if self.depth:
            self.pending = self.pending or signum
            return
        self.raised = True
        raise Interrupted(signum)

    def install(self) -> None:
        """Route both signals here (again: CP-SAT resets SIGINT after each solve)."""
        if threading.current_thread() is not threading.main_thread():
            return  # signal handlers can only be set from the main thread
        for signum in INTERRUPT_SIGNALS:
            if signum not in self._saved:
                previous = signal.getsignal(signum)
                self._saved[signum] = signal.SIG_DFL if previous is None else previous
            signal.signal(signum, self._handle)

    def restore(self) -> None:
        """Put back the handlers found by :meth:`install` and forget this command."""
        for signum, previous in self._saved.items():
            signal.signal(signum, previous)
        self._saved.clear()
        self.depth, self.pending, self.raised = 0, None, False
        self.product, self.written = "", []

    @contextmanager
    def deferred(self, written: str) -> Iterator[None]:
        """Hold back interruptions while ``written`` (a file's name) is being replaced."""
        self.install()
        self.depth += 1
        try:
            yield
        finally:
            self.depth -= 1
        self.written.append(written)
        if self.pending is not None and not self.depth:
            self.raised = True
            raise Interrupted(self.pending)

    def message(self) -> str:
        """The one line printed when the command is interrupted."""
        if self.written:
            return f"interrupted: the {self.product or 'output'} was written to " + ", ".join(
                self.written
            )
        return f"interrupted: no {self.product} written" if self.product else "interrupted"


_interruptions = _Interruptions()


#: What each command writes, named in the line an interruption prints.
PRODUCTS = {
    "allocate": "plan",
    "rebalance": "plan",
    "apply": "snapshot",
    "generate": "snapshot",
    "import": "snapshot",
    "export": "involvements",
    "report": "report",
    "simulate": "simulation report",
    "sweep": "sweep table",
    "forecast": "forecast",
    "capacity": "capacity table",
}


def _interruption_behind(exc: BaseException) -> KeyboardInterrupt | None:
    """The interruption ``exc`` is or was caused by, following its chain; else ``None``."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, KeyboardInterrupt):
            return current
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return None


class _Main(click.Group):
    """The command group: interruptions end any command with one line, no traceback."""

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        # Named as soon as the command is known, before its options are even parsed,
        # so the line an interruption prints is right from the first moment.
        name, command, rest = super().resolve_command(ctx, args)
        _interruptions.product = PRODUCTS.get(name or "", "")
        return name, command, rest

    def invoke(self, ctx: click.Context) -> Any:
        _interruptions.install()
        try:
            return super().invoke(ctx)
        except (KeyboardInterrupt, ImportError) as exc:
            # A signal that lands while a native module (OR-Tools) initialises comes
            # back as an ImportError caused by the interruption: the same stop.
            interruption = _interruption_behind(exc)
            if interruption is None:
                raise
            _interruptions.raised = True
            signum = getattr(interruption, "signum", signal.SIGINT)
            echo(_interruptions.message(), err=True)
            ctx.exit(128 + signum)
        finally:
            _interruptions.restore()


@contextmanager
def input_errors() -> Iterator[None]:
    """Turn bad input into a clear message on stderr and exit code 2 (no traceback)."""
    try:
        yield
    except (InputError, PolicyError) as exc:
        echo(f"error: {exc}", err=True)
        sys.exit(BAD_INPUT)
    except OSError as exc:
        echo(f"error: {exc.filename}: {exc.strerror}", err=True)
        sys.exit(BAD_INPUT)


def read_inputs(
    snapshot: str, referrals: str | None, policy: str | None
) -> tuple[Snapshot, Policy]:
    """Load and validate the snapshot (with referrals merged) and the policy.

    Doubts about input that is still used (a CSV list cell holding a comma) are
    printed on stderr, one ``warning:`` line each.
    """
    warnings: list[str] = []
    with input_errors():
        loaded = load_snapshot(snapshot, referrals, warnings=warnings), load_policy(policy)
    for warning in warnings:
        echo(f"warning: {warning}", err=True)
    return loaded


def made_from(
    snapshot: str, referrals: str | None, policy: str | None, command: str | None = None
) -> MadeFrom:
    """The input files with their SHA-256 (:func:`allocator.io.inputs_of`); exit 2 if unreadable."""
    with input_errors():
        return inputs_of(snapshot, referrals, policy, command)


def warn_inputs(plan: Plan, snapshot: str, referrals: str | None, policy: str | None) -> list[str]:
    """Print, on stderr, where the given files differ from those ``plan`` was made from."""
    from allocator.check import input_mismatches

    found = input_mismatches(plan.made_from, made_from(snapshot, referrals, policy))
    for sentence in found:
        echo(f"warning: {sentence}", err=True)
    return found


def read_handovers(path: str | None, snapshot: Snapshot) -> tuple[Handover, ...]:
    """The handovers of a pending handovers file (``apply`` wrote it) still to make on
    ``snapshot``'s day (:func:`allocator.apply.still_pending`); exit 2 if unreadable."""
    if path is None:
        return ()
    from allocator.apply import still_pending
    from allocator.io import load_pending_handovers

    with input_errors():
        return still_pending(snapshot, load_pending_handovers(path), source=path)


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
            with _interruptions.deferred(path):
                yield


def echo(message: str, *, err: bool = False) -> None:
    """Print one message: ids, names and file text in it are shown literally, each
    control character as its escape (:func:`allocator.report.printable`)."""
    click.echo(printable(message), err=err)


def console(stderr: bool = False) -> Console:
    """The rich console every command prints to, on stdout or ``stderr``.

    Emoji codes are off, so an id such as ``C:cat:3`` stays text (markup in ids is
    escaped by :mod:`allocator.report`).
    """
    return Console(stderr=stderr, emoji=False)


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
        type=FiniteRange(min=0, min_open=True, max=MAX_TIME_LIMIT),
        default=None,
        help="Fix the search's work budget (CP-SAT deterministic units; default: "
        "--time-limit x 0.3). With an ample --time-limit the plan is then the same on "
        "any machine, however busy.",
    )(command)
    command = click.option(
        "--time-limit",
        type=FiniteRange(min=0.1, max=MAX_TIME_LIMIT),
        default=30.0,
        show_default=True,
        help="Seconds the solver may take; the best plan found by then is returned.",
    )(command)
    return command


@click.group(cls=_Main)
@click.version_option(package_name="allocator")
def main() -> None:
    """Allocate children's social-care cases to social workers."""


class SolveProgress:
    """The line shown on a terminal while a solve runs: tier, best so far, bound.

    Called by the engine with each :class:`~allocator.settings.Progress`; drawn
    by rich's ``Live`` (:func:`progress_display`), and empty for the first
    ``after`` seconds, so a quick solve shows nothing.

    Parameters
    ----------
    labels
        Tier key -> the words for it (:func:`allocator.objectives.daily_tiers`).
    after
        Seconds before anything is shown.
    clock
        The clock (tests pass their own).
    """

    def __init__(
        self,
        labels: Mapping[str, str],
        *,
        after: float = 1.0,
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        self.labels = labels
        self.after = after
        self.clock = clock
        self.started = clock()
        self.latest: Progress | None = None

    def __call__(self, progress: Progress) -> None:
        """Keep the solve's latest report (the display redraws it)."""
        self.latest = progress

    def line(self) -> str:
        """The text to show now ("" before ``after`` seconds or before any report)."""
        elapsed = self.clock() - self.started
        p = self.latest
        if p is None or elapsed < self.after:
            return ""
        label = self.labels.get(p.tier, p.tier)
        return (
            f"solving tier {p.stage} of {p.stages}, {label}: best so far {p.value:g}, "
            f"bound {p.bound:g} ({elapsed:.0f} s)"
        )

    def __rich__(self) -> Text:
        """What rich draws: :meth:`line` as plain text (ids and labels are no markup)."""
        return Text(self.line())


@contextmanager
def progress_display(out: Console, labels: Mapping[str, str]) -> Iterator[SolveProgress | None]:
    """A :class:`SolveProgress` drawn on ``out`` while the block runs, if a terminal.

    Yields ``None`` when ``out`` is not a terminal (a pipe, a file, a test): nothing is
    drawn there. The line is removed when the block ends.
    """
    if not out.is_terminal:
        yield None
        return
    progress = SolveProgress(labels)
    with Live(progress, console=out, transient=True, refresh_per_second=4):
        yield progress


@main.command("allocate")
@click.argument("snapshot", type=click.Path())
@click.option("--referrals", type=click.Path(), help="The day's referrals (JSON or CSV).")
@click.option("--policy", "policy_path", type=click.Path(), help="Policy file (TOML).")
@click.option("--out", type=click.Path(), help="Where to write the plan JSON (default stdout).")
@click.option(
    "--allow-moves",
    type=click.IntRange(min=0, max=MAX_MOVES),
    default=0,
    show_default=True,
    help="Most existing cases that may move to another worker when that lets more "
    "cases be allocated (urgent first). 0: nobody moves.",
)
@click.option(
    "--quiet",
    is_flag=True,
    help="Leave the list of assignments out of the summary (warnings stay).",
)
@solver_options
def allocate_command(
    snapshot: str,
    referrals: str | None,
    policy_path: str | None,
    out: str | None,
    allow_moves: int,
    quiet: bool,
    time_limit: float,
    work_units: float | None,
    seed: int,
    workers: int,
) -> None:
    """Allocate every case of SNAPSHOT that needs a worker; write the plan."""
    started = time.perf_counter()  # reading the input counts against --time-limit
    with input_errors():
        check_output(out, {"snapshot": snapshot, "referrals": referrals, "policy": policy_path})
    snap, policy = read_inputs(snapshot, referrals, policy_path)
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
        plan = allocate(snap, policy, settings, allow_moves=allow_moves, clock_started=started)
    inputs = made_from(snapshot, referrals, policy_path, "allocate")
    plan = plan.model_copy(update={"made_from": inputs})
    with writing(out):
        write_json(out, plan)
    warnings = staffing_warnings(snap, policy, plan)
    plan_summary(plan, tiers, err, quiet=quiet, warnings=warnings)


@main.command("generate")
@click.option("--practitioners", type=click.IntRange(min=1, max=MAX_PRACTITIONERS), required=True)
@click.option("--seed", type=SEED, default=0, show_default=True)
@click.option(
    "--load",
    type=FiniteRange(min=0, max=MAX_LOAD),
    default=0.9,
    show_default=True,
    help="Open caseload as a share of total weighted capacity.",
)
@click.option(
    "--referral-rate",
    type=FiniteRange(min=0, max=10),
    default=0.04,
    show_default=True,
    help="Referrals to allocate as a share of open cases.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["json", "csv", "ssd"]),
    default="json",
    show_default=True,
    help="ssd: SSD table extracts with a mapping.toml and side tables, for import ssd.",
)
@click.option(
    "--contracts",
    is_flag=True,
    help="Give staff agency, fixed-term and permanent contracts (the rest unchanged).",
)
@click.option(
    "--out", type=click.Path(), required=True, help="A .json file, or a directory for CSV tables."
)
def generate_command(
    practitioners: int,
    seed: int,
    load: float,
    referral_rate: float,
    fmt: str,
    contracts: bool,
    out: str,
) -> None:
    """Write a realistic synthetic service, reproducible from its seed."""
    from allocator.generate import generate
    from allocator.io import write_snapshot

    if fmt == "json" and not out.endswith(".json"):
        raise click.BadParameter("a JSON snapshot's path must end in .json", param_hint="--out")
    if fmt in ("csv", "ssd") and out.endswith(".json"):
        raise click.BadParameter(
            "CSV tables go to a directory, not a .json file", param_hint="--out"
        )
    with input_errors():
        if fmt == "json":
            check_output(out)
        elif fmt == "csv":
            check_output_folder(out)
        elif Path(out).is_symlink() or (Path(out).exists() and not Path(out).is_dir()):
            raise InputError(
                f"{out}: expected a folder (not a link or a file); nothing was written."
            )
    snapshot = generate(
        practitioners, seed=seed, load=load, referral_rate=referral_rate, contracts=contracts
    )
    with writing(out):
        if fmt == "ssd":
            from allocator.ssd.synthetic import write_ssd_extract

            write_ssd_extract(snapshot, out)
        else:
            write_snapshot(snapshot, out)
    echo(
        f"wrote {out}: {len(snapshot.practitioners)} practitioners, {len(snapshot.cases)} cases",
        err=True,
    )


# ------------------------------------------------------------------ explain, recommend,
# check, diff: each reads its inputs, calls one library function, and prints its result
# (rich tables on stdout, or JSON with --json). Bad input exits 2; check exits 1 when the
# plan breaks a rule.

RULES_BROKEN = 1


def snapshot_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """``--referrals``, ``--policy`` and ``--json``, shared by the commands below."""
    command = click.option(
        "--json", "as_json", is_flag=True, help="Write JSON on stdout instead of tables."
    )(command)
    command = click.option(
        "--policy", "policy_path", type=click.Path(), help="Policy file (TOML)."
    )(command)
    command = click.option(
        "--referrals", type=click.Path(), help="The day's referrals merged into the snapshot."
    )(command)
    return command


def _emit(as_json: bool, result: Any, render: Callable[[Any, Console], None]) -> None:
    """Print ``result`` as JSON (its ``to_dict``) or through a report renderer."""
    if as_json:
        from allocator.analysis import to_data

        write_json(None, to_data(result))
    else:
        render(result, console())


@main.command("explain")
@click.argument("plan_path", metavar="PLAN", type=click.Path())
@click.option(
    "--snapshot",
    "snapshot_path",
    type=click.Path(),
    required=True,
    help="The snapshot the plan was made from.",
)
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
    from allocator.analysis import analyse_plan, explain_case, worker_statement
    from allocator.io import load_plan
    from allocator.report import render_analysis, render_case, render_worker

    if case_id is not None and worker_id is not None:
        raise click.UsageError("give --case or --worker, not both")
    snap, policy = read_inputs(snapshot_path, referrals, policy_path)
    with input_errors():
        plan = load_plan(plan_path)
    warn_inputs(plan, snapshot_path, referrals, policy_path)
    with input_errors():
        if case_id is not None:
            _emit(as_json, explain_case(snap, policy, plan, case_id, top=top), render_case)
        elif worker_id is not None:
            _emit(as_json, worker_statement(snap, policy, plan, worker_id), render_worker)
        else:
            _emit(as_json, analyse_plan(snap, policy, plan), render_analysis)


@main.command("recommend")
@click.argument("snapshot", type=click.Path())
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
    type=click.Path(),
    help="The plan in force for SNAPSHOT: rank against the loads once it is applied.",
)
@click.option(
    "--handovers",
    "handovers_path",
    type=click.Path(),
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
    from allocator.apply import applied
    from allocator.io import load_plan
    from allocator.recommend import recommend
    from allocator.report import render_recommendation

    snap, policy = read_inputs(snapshot, referrals, policy_path)
    earlier = read_handovers(handovers_path, snap)
    plan: Plan | None = None
    if plan_path is not None:
        with input_errors():
            plan = load_plan(plan_path)
            warn_inputs(plan, snapshot, referrals, policy_path)
            applied(snap, plan, policy, source=plan_path)  # refused here, naming the file
    with input_errors():
        result = recommend(
            snap, case_id, policy, top=top, ineligible=ineligible, plan=plan, handovers=earlier
        )
    _emit(as_json, result, render_recommendation)


#: The policy keys a rebalance may override from the command line; a plan records
#: those it was made with in its ``settings``.
POLICY_OVERRIDES = (
    "points_per_fte",
    "long_absence_days",
    "max_new_families_per_day",
    "leaving_window_days",
)


@main.command("check")
@click.argument("snapshot", type=click.Path())
@click.argument("plan_path", metavar="PLAN", type=click.Path())
@snapshot_options
def check_command(
    snapshot: str, plan_path: str, referrals: str | None, policy_path: str | None, as_json: bool
) -> None:
    """Check PLAN against every hard rule for SNAPSHOT; exit 1 if it breaks any.

    Stale summaries (totals that disagree with the plan's placements) and input files
    that differ from those the plan was made from are reported apart: alone, they
    leave the exit code 0.
    """
    from allocator.check import RULES, SUMMARIES, judge_plan
    from allocator.io import load_plan
    from allocator.report import render_exceptions, render_stale, render_violations

    snap, policy = read_inputs(snapshot, referrals, policy_path)
    with input_errors():
        plan = load_plan(plan_path)
    inputs = warn_inputs(plan, snapshot, referrals, policy_path)
    # A plan made with policy overrides (rebalance --points-per-fte ...) records them
    # in its settings: it is judged by the policy it was made under, and says so.
    overrides = {
        key: plan.settings[key]
        for key in POLICY_OVERRIDES
        if isinstance(plan.settings.get(key), int | float)
    }
    if overrides:
        with input_errors():
            policy = policy.with_overrides(**overrides)
        shown = ", ".join(f"--{k.replace('_', '-')} {v:g}" for k, v in overrides.items())
        echo(f"note: the plan was made with {shown}: checked with the same", err=True)
    violations, stale = judge_plan(snap, policy, plan)
    if as_json:
        from allocator.analysis import to_data

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


@main.command("diff")
@click.argument("plan_a", type=click.Path())
@click.argument("plan_b", type=click.Path())
@click.option(
    "--snapshot",
    "snapshot_path",
    type=click.Path(),
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
    from allocator.analysis import diff_plans
    from allocator.io import load_plan
    from allocator.report import render_diff

    snap: Snapshot | None = None
    policy: Policy | None = None
    if snapshot_path is not None:
        snap, policy = read_inputs(snapshot_path, referrals, policy_path)
    elif referrals is not None or policy_path is not None:
        raise click.UsageError("--referrals and --policy need --snapshot")
    with input_errors():
        a, b = load_plan(plan_a), load_plan(plan_b)
    _emit(as_json, diff_plans(a, b, snap, policy), render_diff)


@main.command("rebalance")
@click.argument("snapshot", type=click.Path())
@click.option("--referrals", type=click.Path(), help="The day's referrals (JSON or CSV).")
@click.option("--policy", "policy_path", type=click.Path(), help="Policy file (TOML).")
@click.option(
    "--handovers",
    "handovers_path",
    type=click.Path(),
    help="Handovers still pending (from apply): each kept while its receiver may take the child.",
)
@click.option(
    "--max-moves", type=click.IntRange(min=0, max=MAX_MOVES), help="Most changes of worker."
)
@click.option("--out", type=click.Path(), help="Where to write the plan JSON (default stdout).")
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
    time_limit: float,
    work_units: float | None,
    seed: int,
    workers: int,
) -> None:
    """Move the children of leavers, long absences and over-cap workers; fewest changes.

    Every case needing a worker is placed in the same plan, the day's referrals
    (--referrals) included, so one morning plan holds the whole day's decisions.
    With a policy override (e.g. --points-per-fte 90) also report what it would cost:
    children who must change worker, children who could not be held, extra FTE by grade.
    """
    from allocator.engine.rebalance import REBALANCE_TIERS
    from allocator.rebalancing import cap_cost, rebalance, rebalance_tiers
    from allocator.report import cap_cost_table, rebalance_summary

    with input_errors():
        check_output(
            out,
            {
                "snapshot": snapshot,
                "referrals": referrals,
                "policy": policy_path,
                "handovers": handovers_path,
            },
        )
    snap, policy = read_inputs(snapshot, referrals, policy_path)
    planned = {h.case: h.worker for h in read_handovers(handovers_path, snap)}
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
        with input_errors():
            policy = policy.with_overrides(**overrides)
        with progress_display(out_console, labels) as progress:
            report = cap_cost(
                snap,
                policy,
                solve_settings.model_copy(update={"progress": progress}),
                max_moves=max_moves,
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
            )
    inputs = made_from(snapshot, referrals, policy_path, "rebalance")
    # The overrides change the policy file's figures: the plan's settings record them.
    settings = {**plan.settings, **overrides}
    plan = plan.model_copy(update={"made_from": inputs, "settings": settings})
    with writing(out):
        write_json(out, plan)
    rebalance_summary(plan, rebalance_tiers(policy), out_console)
    if overrides:
        out_console.print(cap_cost_table(report))


@main.command("apply")
@click.argument("plan_path", metavar="PLAN", type=click.Path())
@click.option(
    "--snapshot",
    "snapshot_path",
    type=click.Path(),
    required=True,
    help="The snapshot the plan was made from.",
)
@click.option("--referrals", type=click.Path(), help="The referrals the plan was made with.")
@click.option("--policy", "policy_path", type=click.Path(), help="Policy file (TOML).")
@click.option(
    "--handovers",
    "handovers_path",
    type=click.Path(),
    help="Handovers still pending from an earlier apply: carried forward.",
)
@click.option(
    "--out",
    type=click.Path(),
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
    from allocator.apply import applied
    from allocator.check import input_mismatches
    from allocator.io import (
        check_snapshot_output,
        file_digest,
        load_plan,
        pending_handovers_path,
        write_snapshot,
    )
    from allocator.models import PendingHandovers

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
    differ = input_mismatches(plan.made_from, made_from(snapshot_path, referrals, policy_path))
    for sentence in differ:
        echo(f"{'warning' if force else 'error'}: {plan_path}: {sentence}", err=True)
    if differ and not force:
        echo(
            "error: the plan was made from other files; give the files it was made from, "
            "or --force to apply it to these (the hard rules are still checked)",
            err=True,
        )
        sys.exit(BAD_INPUT)
    earlier = read_handovers(handovers_path, snap)
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


# ------------------------------------------------------------------ import: a snapshot
# from a council's own data (the SSD, or its CSV reports). The account of what was read,
# used and defaulted goes to stderr; ids and counts only, never a name or free text.


@main.group("import")
def import_group() -> None:
    """Build a snapshot from a council's data: SSD extracts or CSV reports."""


def _write_imported(snapshot: Snapshot, out: str, lines: list[str]) -> None:
    """Write an imported snapshot (JSON file or CSV folder) and print its report."""
    from allocator.io import write_snapshot

    with writing(out):
        if out == "-":
            write_json(out, snapshot)
        else:
            write_snapshot(snapshot, out)
    for line in lines:
        echo(line, err=True)
    echo(
        f"wrote {out}: {len(snapshot.practitioners)} practitioners, {len(snapshot.cases)} cases",
        err=True,
    )


def _check_import_output(out: str, inputs: dict[str, str | None]) -> None:
    with input_errors():
        if out == "-" or out.lower().endswith(".json"):
            check_output(out, inputs)
        else:
            check_output_folder(out, inputs)


@import_group.command("ssd")
@click.argument("source", type=click.Path())
@click.option(
    "--mapping", "mapping_path", type=click.Path(), required=True, help="Mapping file (TOML)."
)
@click.option(
    "--as-of",
    type=IsoDay(),
    required=True,
    help="The snapshot's day, YYYY-MM-DD: episodes and involvements open on it count.",
)
@click.option(
    "--out",
    type=click.Path(),
    required=True,
    help="A .json file, a folder for CSV tables, or - for stdout.",
)
def import_ssd_command(source: str, mapping_path: str, as_of: date, out: str) -> None:
    """Build a snapshot from SOURCE: a folder of SSD table extracts (CSV) or a database URL.

    Beside the snapshot goes each case's open involvement (SNAPSHOT.ssd-involvements.csv),
    which export ssd reads to close the very rows the import read.
    """
    from allocator.ssd.export import open_involvements_path, write_open_involvements
    from allocator.ssd.mapping import load_ssd_mapping
    from allocator.ssd.ssd_import import import_ssd

    _check_import_output(out, {"mapping": mapping_path})
    if out.lower().endswith(".json") or Path(out).is_dir():  # a new folder: made later
        with input_errors():
            check_output(open_involvements_path(out), {"mapping": mapping_path})
    with input_errors():
        mapping = load_ssd_mapping(mapping_path)
        snapshot, report = import_ssd(source, mapping, as_of)
    _write_imported(snapshot, out, report.lines())
    if out == "-":
        echo("open involvements not kept (--out -): export ssd gives new ids", err=True)
    else:
        with writing(out):
            side = write_open_involvements(report.involvements, open_involvements_path(out))
        echo(f"wrote {side}: {len(report.involvements)} open involvements", err=True)


@import_group.command("csv")
@click.argument("folder", type=click.Path())
@click.option(
    "--columns", "columns_path", type=click.Path(), required=True, help="Columns mapping (TOML)."
)
@click.option(
    "--as-of",
    type=IsoDay(),
    help="The snapshot's day, YYYY-MM-DD (default: the mapping's as_of).",
)
@click.option(
    "--out",
    type=click.Path(),
    required=True,
    help="A .json file, a folder for CSV tables, or - for stdout.",
)
def import_csv_command(folder: str, columns_path: str, as_of: date | None, out: str) -> None:
    """Build a snapshot from FOLDER, a council's own CSV reports, renamed and converted."""
    from allocator.ssd.columns import import_csv
    from allocator.ssd.mapping import load_columns_mapping

    _check_import_output(out, {"columns": columns_path})
    with input_errors():
        mapping = load_columns_mapping(columns_path)
        snapshot, report = import_csv(folder, mapping, as_of)
    _write_imported(snapshot, out, report.lines())


@main.group("export")
def export_group() -> None:
    """Write a plan in a council's own shape."""


@export_group.command("ssd")
@click.argument("plan_path", metavar="PLAN", type=click.Path())
@click.option("--snapshot", type=click.Path(), required=True, help="The plan's snapshot.")
@click.option(
    "--mapping",
    "mapping_path",
    type=click.Path(),
    required=True,
    help="The SSD mapping: its first allocated role names the new involvements.",
)
@click.option(
    "--involvements",
    "involvements_path",
    type=click.Path(),
    help="The open involvements import ssd wrote (default: beside the snapshot, if there).",
)
@click.option("--out", type=click.Path(), required=True, help="Folder for ssd_involvements.csv.")
def export_ssd_command(
    plan_path: str, snapshot: str, mapping_path: str, involvements_path: str | None, out: str
) -> None:
    """Write PLAN's changes of worker as SSD involvement rows (new and ended)."""
    from allocator.io import load_plan
    from allocator.ssd.export import (
        involvement_rows,
        open_involvements_path,
        read_open_involvements,
        write_involvements,
    )
    from allocator.ssd.mapping import load_ssd_mapping

    beside = open_involvements_path(snapshot)
    side = involvements_path or (str(beside) if beside.is_file() else None)
    inputs = {"plan": plan_path, "snapshot": snapshot, "mapping": mapping_path}
    with input_errors():
        check_output_folder(out, {**inputs, "involvements": side}, files=("ssd_involvements.csv",))
        plan = load_plan(plan_path)
        snap = load_snapshot(snapshot)
        mapping = load_ssd_mapping(mapping_path)
        opened = read_open_involvements(side) if side else {}
        rows = involvement_rows(
            plan,
            snap,
            mapping.involvements.allocated_roles[0],
            opened,
            sources=(plan_path, snapshot),
        )
    with writing(out):
        target = write_involvements(rows, out)
    ended = sum(1 for r in rows if r["invo_involvement_end_date"])
    kept = sum(
        1 for r in rows if r["invo_involvement_end_date"] and r["invo_involvement_start_date"]
    )
    echo(
        f"wrote {target}: {len(rows) - ended} new involvements, {ended} ended "
        f"({kept} by their original id"
        + ("" if side else "; no open involvements from import ssd: new ids")
        + ")",
        err=True,
    )


# ------------------------------------------------------------------ the allocation meeting:
# a review page with overrides and sign-off (serve), its decision log (log, history,
# replay), and the plan as one HTML file (report). Web and database libraries load
# only here (the ``serve`` extra).

SERVE_WORK_UNITS = 3.0
"""``serve``'s default search budget: fixed, so every logged plan can be replayed exactly."""
LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")


def _needs_extra(exc: ImportError) -> None:
    if _interruption_behind(exc) is not None:
        raise exc
    echo(
        f"error: this command needs the serve extra ({exc.name} is missing): "
        "pip install 'allocator[serve]'",
        err=True,
    )
    sys.exit(BAD_INPUT)


def _shown(db: str) -> str:
    """``db`` as messages show it: any password as ``***`` (the helper ``import ssd`` uses)."""
    from allocator.ssd.tables import hide_password

    return hide_password(db)


def _open_log(db: str, *, existing: bool = False) -> Any:
    """The decision log at ``db``; exit 2 with one line if it cannot be opened.

    ``existing``: the command only reads the log: nothing is written (a SQLite file is
    opened read-only), and a file that is not there, empty (0 bytes), corrupt or
    without the log's tables is an error naming the file, never a new, empty log.
    """
    try:
        from allocator.decisions import DecisionLog
    except ImportError as exc:
        _needs_extra(exc)
    try:
        return DecisionLog(db, create=not existing)
    except Exception as exc:  # a bad URL or an unreachable server: one line, exit 2
        _log_failed(db, exc)


def _password_on_command_line(db: str) -> bool:
    """Whether ``db`` holds a password and came from the command line (not ALLOCATOR_DB)."""
    from click.core import ParameterSource

    context = click.get_current_context(silent=True)
    if context is None or "://" not in db or _shown(db) == db:
        return False
    return context.get_parameter_source("db") == ParameterSource.COMMANDLINE


def _log_failed(db: str, exc: BaseException, doing: str = "open") -> NoReturn:
    """One line for a log that cannot be opened or read (exit 2); never a traceback."""
    from sqlalchemy.exc import NoSuchModuleError

    from allocator.decisions import STATEMENT_TIMEOUT, LogUnreadable
    from allocator.ssd.tables import database_error, driver_hint, first_error_line, timed_out

    if _interruption_behind(exc) is not None:
        raise exc
    if isinstance(exc, LogUnreadable):
        echo(f"error: {exc}", err=True)
        sys.exit(BAD_INPUT)
    why = first_error_line(exc)
    if timed_out(exc) and "connect" not in why.lower():
        # A lock held elsewhere, a server that stalls: say what timed out, and where.
        how = database_error(exc, f"{doing}ing the decision log", STATEMENT_TIMEOUT)
        echo(f"error: {_shown(db)}: {how}", err=True)
        sys.exit(BAD_INPUT)
    if isinstance(exc, ImportError | NoSuchModuleError):
        # A supported database whose driver is missing (PostgreSQL without psycopg).
        why = f"the database driver is not installed ({why}); expected {driver_hint(db)}"
    echo(f"error: cannot {doing} the decision log {_shown(db)}: {why}", err=True)
    sys.exit(BAD_INPUT)


@contextmanager
def _reading_log(db: str) -> Iterator[None]:
    """Any failure reading a log that opened (a corrupt page, a row that is not the
    log's) is one line naming the log, exit 2."""
    try:
        yield
    except (click.exceptions.Exit, click.ClickException, SystemExit):
        raise
    except Exception as exc:
        _log_failed(db, exc, "read")


def _printable(value: str | None) -> str:
    """``value`` (``""`` for ``None``) as :func:`allocator.report.printable` shows it."""
    return printable(value or "")


def _literal(value: str | None) -> Any:
    """A table cell printed as typed: no rich markup read in it, control characters
    shown as escapes (a manager named ``[/]`` or holding an escape code prints as such)."""
    from rich.text import Text

    return Text(_printable(value))


def _listening(host: str, port: int) -> socket.socket:
    """A socket bound to ``host:port`` and listening, for uvicorn to serve on.

    Bound before anything is solved or logged, so a port in use stops ``serve`` with
    one line (exit 2) and leaves the decision log untouched.
    """
    try:
        family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
        return socket.create_server((host, port), family=family)
    except OSError as exc:
        echo(f"error: cannot listen on {host}:{port}: {exc.strerror or exc}", err=True)
        sys.exit(BAD_INPUT)


db_option = click.option(
    "--db",
    default="decisions.db",
    show_default=True,
    envvar="ALLOCATOR_DB",
    help="The decision log: a SQLite file, or a postgresql://user@host/db URL.",
)


def _public_origin(value: str | None) -> str | None:
    """``--public-origin`` as ``scheme://host[:port]``, or a usage error."""
    if value is None:
        return None
    from urllib.parse import urlsplit

    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.path not in ("", "/"):
        raise click.BadParameter(
            f"{value!r}: expected the page's public address, https://name[:port]",
            param_hint="--public-origin",
        )
    return f"{parts.scheme}://{parts.netloc}".lower()


def _tls(cert: str | None, key: str | None) -> None:
    """Both of ``--tls-cert`` and ``--tls-key`` or neither, and a pair that loads."""
    if (cert is None) != (key is None):
        raise click.UsageError("--tls-cert and --tls-key go together")
    if cert is None or key is None:
        return
    import ssl

    try:
        ssl.create_default_context(ssl.Purpose.CLIENT_AUTH).load_cert_chain(cert, key)
    except (OSError, ssl.SSLError) as exc:
        echo(f"error: cannot use the certificate {cert} and key {key}: {exc}", err=True)
        sys.exit(BAD_INPUT)


@main.command("serve")
@click.argument("snapshot", type=click.Path())
@click.option("--referrals", type=click.Path(), help="The day's referrals (JSON or CSV).")
@click.option("--policy", "policy_path", type=click.Path(), help="Policy file (TOML).")
@db_option
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind.")
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True)
@click.option(
    "--token",
    envvar="ALLOCATOR_TOKEN",
    help="Required to bind anything but 127.0.0.1: every request must present it "
    "(or set ALLOCATOR_TOKEN, which keeps it out of the process list). At least 16 "
    "printable ASCII characters.",
)
@click.option(
    "--users",
    "users_path",
    type=click.Path(dir_okay=False),
    help='A users file (TOML: name = "sha256:..." of each person\'s own token): each '
    "person signs in with their token, and their overrides and sign-off are logged "
    "under their name, not a typed one. Instead of --token.",
)
@click.option(
    "--names",
    "names_path",
    type=click.Path(dir_okay=False),
    help='Display names for the page (TOML: [names] with P0001 = "Ann Smith"): shown '
    "beside ids on the page only; files and the log keep ids.",
)
@click.option(
    "--user-header",
    metavar="NAME",
    help="Behind the council's single sign-on: the header its proxy sets to the signed-in "
    "person (X-Remote-User). Believed only from --forwarded-allow-ips; instead of "
    "--token or --users.",
)
@click.option(
    "--allowed-host",
    "allowed_hosts",
    multiple=True,
    metavar="NAME",
    help="A Host name the page is served under, besides 127.0.0.1 and localhost "
    "(repeatable): the server's name on the council's network.",
)
@click.option(
    "--public-origin",
    metavar="URL",
    help="https://name[:port] the page is served under behind a reverse proxy: its "
    "name is served and forms posted from it are accepted.",
)
@click.option(
    "--forwarded-allow-ips",
    metavar="IPS",
    help="The reverse proxy's addresses (comma-separated): X-Forwarded-Proto and -For "
    "are read only from these (default: from nobody).",
)
@click.option("--tls-cert", type=click.Path(dir_okay=False), help="Serve HTTPS: certificate (PEM).")
@click.option("--tls-key", type=click.Path(dir_okay=False), help="Serve HTTPS: private key (PEM).")
@click.option(
    "--max-body",
    type=click.IntRange(min=1024, max=100_000_000),
    default=1_000_000,
    show_default=True,
    help="The largest request body accepted (bytes); larger ones are refused (413).",
)
@click.option(
    "--time-limit",
    type=FiniteRange(min=0.1, max=MAX_TIME_LIMIT),
    default=60.0,
    show_default=True,
    help="Seconds each solve may take (ample: the work budget decides).",
)
@click.option(
    "--work-units",
    type=FiniteRange(min=0, min_open=True, max=MAX_TIME_LIMIT),
    default=SERVE_WORK_UNITS,
    show_default=True,
    help="Each solve's deterministic work budget: the same plan on replay.",
)
@click.option("--seed", type=SEED, default=0, show_default=True)
@click.option(
    "--new-meeting",
    is_flag=True,
    help="Start a new meeting even if the log holds an open one on this snapshot and "
    "policy (by default serve resumes it, overrides and all).",
)
def serve_command(
    snapshot: str,
    referrals: str | None,
    policy_path: str | None,
    db: str,
    host: str,
    port: int,
    token: str | None,
    users_path: str | None,
    names_path: str | None,
    user_header: str | None,
    allowed_hosts: tuple[str, ...],
    public_origin: str | None,
    forwarded_allow_ips: str | None,
    tls_cert: str | None,
    tls_key: str | None,
    max_body: int,
    time_limit: float,
    work_units: float,
    seed: int,
    new_meeting: bool,
) -> None:
    """Open the allocation meeting for SNAPSHOT in a browser: review, override, sign off.

    On a log holding an open meeting on the same snapshot and policy, resume it."""
    if sum(bool(x) for x in (token, users_path, user_header)) > 1:
        raise click.UsageError("one of --token, --users and --user-header, not two")
    if user_header and not forwarded_allow_ips:
        raise click.UsageError(
            "--user-header needs --forwarded-allow-ips: the header is believed only from "
            "the proxy that sets it"
        )
    if host not in LOCAL_HOSTS and not (token or users_path or user_header):
        raise click.UsageError(
            f"binding {host} (not 127.0.0.1) needs --token, --users or --user-header"
        )
    try:
        import uvicorn
        from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

        from allocator.web.app import Meeting, create_app
        from allocator.web.security import (
            Proxies,
            TrustedHeader,
            check_token,
            host_name,
            load_users,
        )
    except ImportError as exc:
        _needs_extra(exc)
    if token is not None:
        try:
            check_token(token)
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--token") from None
    users = None
    if users_path is not None:
        try:
            users = load_users(users_path)
        except ValueError as exc:
            echo(f"error: {exc}", err=True)
            sys.exit(BAD_INPUT)
    names = None
    if names_path is not None:
        from allocator.web.names import load_display_names

        try:
            names = load_display_names(names_path)
        except ValueError as exc:
            echo(f"error: {exc}", err=True)
            sys.exit(BAD_INPUT)
    origin = _public_origin(public_origin)
    _tls(tls_cert, tls_key)
    try:
        proxies = Proxies(forwarded_allow_ips) if forwarded_allow_ips else None
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--forwarded-allow-ips") from None
    snap, policy = read_inputs(snapshot, referrals, policy_path)
    listening = _listening(host, port)
    port = listening.getsockname()[1]
    if _password_on_command_line(db):  # serve runs all day: its command line is seen
        echo(
            "warning: the password in --db is visible to every user of this machine (ps): "
            "give the URL in ALLOCATOR_DB instead",
            err=True,
        )
    log = _open_log(db)
    with _reading_log(db):
        checked = _verified(log)
    if checked.broken is not None:
        echo(
            "error: the meeting is not opened on an altered log: keep it as evidence, and "
            "hold the meeting on a new --db",
            err=True,
        )
        sys.exit(BAD_INPUT)
    settings = Settings(time_limit=time_limit, work_units=work_units, seed=seed)
    resumed = None
    with _reading_log(db):
        if new_meeting:
            why = "starting a new meeting, as asked (--new-meeting)"
        else:
            resumed, why = Meeting.resume(snap, policy, log, settings)
    echo(why, err=True)
    if resumed is not None:
        meeting = resumed
    else:
        echo("solving the morning's plan ...", err=True)
        plan = allocate(snap, policy, settings)
        plan = plan.model_copy(
            update={"made_from": made_from(snapshot, referrals, policy_path, "serve")}
        )
        with _reading_log(db):
            meeting = Meeting.open(snap, policy, log, plan)
    wildcard = host in ("0.0.0.0", "::")
    # The Host check stays on whatever the address bound: 0.0.0.0 serves the local
    # names and the names given, not any name a rebinding attacker's DNS points at it.
    hosts = sorted({*LOCAL_HOSTS, *allowed_hosts, *(() if wildcard else (host,))})
    app = create_app(
        meeting,
        token=token,
        allowed_hosts=hosts,
        public_origin=origin,
        max_body=max_body,
        users=users,
        user_header=user_header,
        names=names,
    )
    asgi: Any = app
    if forwarded_allow_ips is not None:
        # X-Forwarded-Proto and -For believed from the proxy alone; the sign-on's header
        # kept only on the proxy's requests, checked before the peer is replaced.
        asgi = ProxyHeadersMiddleware(asgi, trusted_hosts=forwarded_allow_ips)
        if user_header is not None:
            assert proxies is not None
            asgi = TrustedHeader(asgi, header=user_header, proxies=proxies)
    scheme = "https" if tls_cert else "http"
    shown = origin or f"{scheme}://{host_name('127.0.0.1' if wildcard else host)}:{port}"
    echo(
        f"decision {meeting.decision_id} in force in {_shown(db)} (chain head "
        f"{log.head()}); open {shown}/" + ("?token=..." if token else ""),
        err=True,
    )
    if wildcard and not allowed_hosts and origin is None:
        echo(
            f"note: binding {host}, only requests naming {', '.join(LOCAL_HOSTS)} are served: "
            "give the server's name with --allowed-host (or --public-origin)",
            err=True,
        )
    config = uvicorn.Config(
        asgi,
        host=host,
        port=port,
        log_level="warning",
        ssl_certfile=tls_cert,
        ssl_keyfile=tls_key,
        proxy_headers=False,  # applied above, inside the sign-on header's check
    )
    uvicorn.Server(config).run(sockets=[listening])


def _sha256s(values: tuple[str, ...]) -> tuple[str, ...]:
    """``--anchor`` values: each 64 hex digits (a chain head as ``--verify`` prints it)."""
    for value in values:
        if re.fullmatch(r"[0-9a-fA-F]{64}", value.strip()) is None:
            raise click.BadParameter(
                f"{value!r}: expected a chain head, 64 hex digits", param_hint="--anchor"
            )
    return tuple(v.strip().lower() for v in values)


def _verified(log: Any, anchors: tuple[str, ...] = ()) -> Any:
    """Walk ``log``'s chain; print its verdict on stderr; the :class:`Verification`."""
    result = log.verify(anchors)
    if result.broken is not None:
        echo(f"error: the decision log was altered: {result.broken}", err=True)
    elif result.unsealed:
        first, last = result.unsealed[0], result.unsealed[-1]
        echo(
            f"warning: decisions {first} to {last} carry no seal (written before decisions "
            "were sealed, or their seals removed): they cannot be verified",
            err=True,
        )
    for note in result.notes:
        echo(f"note: {note}", err=True)
    return result


@main.command("log")
@db_option
@click.option("--limit", type=click.IntRange(min=1), default=50, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Write JSON on stdout.")
@click.option(
    "--verify",
    is_flag=True,
    help="Walk the chain of seals instead: name the first decision rewritten, removed "
    "or forged; exit 1 unless every decision is sealed and intact.",
)
@click.option(
    "--anchor",
    "anchors",
    multiple=True,
    metavar="SHA256",
    callback=lambda _ctx, _param, values: _sha256s(values),
    help="With --verify: a chain head noted earlier (repeatable); it must still be in the "
    "chain, which finds decisions removed from the end or a log rewritten whole.",
)
@click.option(
    "--init",
    is_flag=True,
    help="Create the log's tables and guards, as the tables' owner (once, on PostgreSQL; "
    "docs/MEETING.md).",
)
def log_command(
    db: str, limit: int, as_json: bool, verify: bool, anchors: tuple[str, ...], init: bool
) -> None:
    """List the decisions in the log, newest first (or verify it, or create it)."""
    from rich.table import Table

    if init:
        log = _open_log(db)
        with _reading_log(db):
            log.init()
        echo(f"decision log ready in {_shown(db)}", err=True)
        return
    log = _open_log(db, existing=True)
    if verify:
        with _reading_log(db):
            result = _verified(log, anchors)
        if as_json:
            write_json(
                None,
                {
                    "intact": result.intact,
                    "decisions": result.decisions,
                    "head_sha256": result.head,
                    "unsealed": list(result.unsealed),
                    "broken": result.broken,
                    "notes": list(result.notes),
                },
            )
        elif result.intact:
            echo(
                f"the decision log is intact: {result.decisions} decisions, each sealed; "
                f"chain head sha256 {result.head or '(none: the log is empty)'}"
            )
        if not result.intact:
            sys.exit(RULES_BROKEN)
        return
    with _reading_log(db):
        rows = log.decisions(limit=limit)
    if as_json:
        write_json(None, [d.to_dict() for d in rows])
        return
    table = Table("id", "when (UTC)", "kind", "manager", "follows", "override", "plan SHA-256")
    for d in rows:
        latest = d.overrides[-1] if d.kind == "override" and d.overrides else None
        what = f"{latest.case} {latest.action} {latest.worker or ''}".strip() if latest else ""
        table.add_row(
            str(d.id),
            d.at[:19].replace("T", " "),
            d.kind,
            _literal(d.manager_shown),
            str(d.parent_id or ""),
            _literal(what),
            d.plan_sha256[:16],
        )
    console().print(table)


@main.command("history")
@click.argument("case_id", metavar="CASE_ID")
@db_option
@click.option("--json", "as_json", is_flag=True, help="Write JSON on stdout.")
def history_command(case_id: str, db: str, as_json: bool) -> None:
    """A child's allocation story: each worker, from when, and why it changed."""
    from rich.table import Table

    log = _open_log(db, existing=True)
    with _reading_log(db):
        events = log.history(case_id)
        known = bool(events) or log.knows_case(case_id)
    if not known:
        echo(
            f"error: case {_printable(case_id)} is in no snapshot of the log and no decision",
            err=True,
        )
        sys.exit(BAD_INPUT)
    if as_json:
        write_json(None, [e.to_dict() for e in events])
        return
    if not events:
        echo(f"no decisions about {_printable(case_id)} in the log", err=True)
        return
    table = Table("decision", "meeting", "when (UTC)", "event", "worker", "from", "why", "by")
    for e in events:
        table.add_row(
            str(e.decision_id),
            _literal(e.meeting),
            e.at[:19].replace("T", " "),
            e.event,
            _literal(e.worker or "(none)"),
            _literal(e.from_worker),
            _literal(e.reason),
            _literal(e.by),
        )
    console().print(table)


@main.command("replay")
@click.argument("decision_id", metavar="DECISION_ID", type=click.IntRange(min=1))
@db_option
@click.option("--out", type=click.Path(), help="Also write the replayed plan here.")
def replay_command(decision_id: int, db: str, out: str | None) -> None:
    """Re-solve DECISION_ID from its stored inputs; exit 1 unless byte-identical.

    Compared: the plan's JSON bytes with solve_seconds (wall-clock time) zeroed. The
    log's chain is verified first: a log altered anywhere is named and exits 1.
    """
    from allocator.decisions import replay

    with input_errors():
        check_output(out)
    log = _open_log(db, existing=True)
    with _reading_log(db):
        if _verified(log).broken is not None:
            sys.exit(RULES_BROKEN)
        try:
            result = replay(log, decision_id)
        except LookupError as exc:
            echo(f"error: {exc.args[0]}", err=True)
            sys.exit(BAD_INPUT)
    if out is not None:
        from allocator.io import write_text

        with writing(out):
            write_text(out, result.replayed.decode("utf-8"))
    verdict = "byte-identical" if result.identical else "DIFFERENT"
    echo(
        f"decision {decision_id}: replayed plan is {verdict}\n"
        f"  stored   sha256 {result.stored_sha256}\n  replayed sha256 {result.replayed_sha256}"
    )
    if not result.identical:
        sys.exit(RULES_BROKEN)


@main.command("report")
@click.argument("plan_path", metavar="PLAN", type=click.Path())
@click.option("--snapshot", "snapshot_path", type=click.Path(), required=True)
@click.option("--referrals", type=click.Path(), help="The day's referrals merged in.")
@click.option("--policy", "policy_path", type=click.Path(), help="Policy file (TOML).")
@click.option("--out", type=click.Path(), required=True, help="The HTML file to write.")
def report_command(
    plan_path: str, snapshot_path: str, referrals: str | None, policy_path: str | None, out: str
) -> None:
    """Write PLAN as one self-contained HTML file (loads, assignments, unallocated, tiers)."""
    from allocator.html_report import render_report
    from allocator.io import load_plan, write_text

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
    warn_inputs(plan, snapshot_path, referrals, policy_path)
    from allocator.check import check_plan

    broken = check_plan(snap, policy, plan)
    if broken:
        for v in broken:
            echo(f"error: {v.rule}: {v.message}", err=True)
        echo(
            f"error: the plan breaks {len(broken)} hard rule(s) against {snapshot_path}: "
            "no report written",
            err=True,
        )
        sys.exit(BAD_INPUT)
    text = render_report(snap, policy, plan)
    with writing(out):
        write_text(out, text)
    echo(f"wrote {out}", err=True)


# ------------------------------------------------------------------ simulate, sweep: a year
# of a service day by day (allocator.simulation), and many such years on Dask
# (allocator.sweep). Both need the ``sim`` extra (pandas, pyarrow, matplotlib, distributed),
# imported only here.


def _need_sim_extra() -> None:
    """Exit 2 with the install line when the ``sim`` extra is missing."""
    import importlib.util

    missing = [
        m for m in ("pandas", "pyarrow", "matplotlib") if importlib.util.find_spec(m) is None
    ]
    if missing:
        echo(f"error: {', '.join(missing)} not installed: pip install 'allocator[sim]'", err=True)
        sys.exit(BAD_INPUT)


@main.command("simulate")
@click.argument("snapshot", type=click.Path())
@click.option("--days", type=click.IntRange(min=1, max=MAX_DAYS), default=365, show_default=True)
@click.option("--seed", type=SEED, default=0, show_default=True)
@click.option("--policy", "policy_path", type=click.Path(), help="Policy file (TOML).")
@click.option(
    "--method",
    type=click.Choice(["engine", "greedy", "both"]),
    default="both",
    show_default=True,
    help="Which method runs the service; both see exactly the same events.",
)
@click.option(
    "--rebalance-every",
    type=click.IntRange(min=0, max=MAX_DAYS),
    default=7,
    show_default=True,
    help="Days between rebalances (0: never).",
)
@click.option(
    "--arrival-factor",
    type=FiniteRange(min=0, max=MAX_ARRIVAL_FACTOR),
    default=1.0,
    show_default=True,
    help="Referrals as a multiple of the rate that keeps the caseload steady.",
)
@click.option(
    "--work-units",
    type=FiniteRange(min=0, min_open=True, max=MAX_TIME_LIMIT),
    default=0.2,
    show_default=True,
    help="The engine's work budget per morning (CP-SAT deterministic units).",
)
@click.option(
    "--rebalance-work-units",
    type=FiniteRange(min=0, min_open=True, max=MAX_TIME_LIMIT),
    default=0.5,
    show_default=True,
    help="The engine's work budget per rebalance.",
)
@click.option("--no-plots", is_flag=True, help="Leave out the PNG plots.")
@click.option("--out", type=click.Path(), required=True, help="Folder for the report and tables.")
def simulate_command(
    snapshot: str,
    days: int,
    seed: int,
    policy_path: str | None,
    method: str,
    rebalance_every: int,
    arrival_factor: float,
    work_units: float,
    rebalance_work_units: float,
    no_plots: bool,
    out: str,
) -> None:
    """Run SNAPSHOT's service day by day for a year; report children's changes of worker."""
    _need_sim_extra()
    from allocator.simulation import EngineMethod, GreedyMethod, Method, Settings, compare
    from allocator.simulation.report import YEAR_DAYS, where_each_loses, write_outputs

    with input_errors():
        check_output_folder(out, files=())
    snap, policy = read_inputs(snapshot, None, policy_path)
    methods: list[Method] = []
    if method in ("engine", "both"):
        methods.append(
            EngineMethod(
                daily_work_units=work_units, rebalance_work_units=rebalance_work_units, seed=seed
            )
        )
    if method in ("greedy", "both"):
        methods.append(GreedyMethod())
    settings = Settings(
        days=days, seed=seed, rebalance_every=rebalance_every, arrival_factor=arrival_factor
    )
    results = compare(snap, methods, policy, settings)
    with writing(out):
        summaries = write_outputs(
            results, out, title=f"{snapshot}, seed {seed}", plots=not no_plots
        )
    for r in results:
        s = summaries[r.method]
        if not s["children_open_all_run"]:
            shares = f"no children open all {days} days"
        else:
            shares = (
                f"{s['share_1plus_changes']:.1%} >= 1 and {s['share_2plus_changes']:.1%} >= 2 "
                f"of children open all {days} days"
                + (" (England, a year: 60% / 26%)" if days in YEAR_DAYS else "")
            )
        echo(
            f"{r.method}: {s['changes_per_child_year']:g} changes per child-year, {shares}, "
            f"{s['avoidable_changes']} avoidable; {r.seconds:.0f} s",
            err=True,
        )
    if len(results) > 1:  # report.md's first section, on the terminal too
        for line in where_each_loses(summaries)[2:]:
            if line:
                echo(line.replace("**", ""), err=True)
    echo(f"wrote {Path(out) / 'report.md'} and its tables", err=True)


#: The options the forecast and the staffing question share (their runs are alike).
_WEEKS = click.option(
    "--weeks",
    type=click.IntRange(min=1, max=MAX_WEEKS),
    default=8,
    show_default=True,
    help="Weeks ahead of the snapshot's day.",
)
_FORECAST_METHOD = click.option(
    "--method",
    type=click.Choice(["engine", "greedy"]),
    default="greedy",
    show_default=True,
    help="What decides each morning: the engine, or the manager's rule (fast).",
)
_FORECAST_WORKERS = click.option(
    "--workers",
    type=click.IntRange(min=1, max=MAX_WORKERS),
    default=1,
    show_default=True,
    help="Processes: 1 runs here; more run the futures on a local Dask cluster.",
)
_HISTORY = click.option(
    "--history",
    type=click.Path(),
    help="An SSD extract folder whose past episodes calibrate the rates (else national).",
)
_FORECAST_HANDOVERS = click.option(
    "--handovers",
    "handovers_path",
    type=click.Path(),
    help="Handovers still pending (from apply): kept in every run, their room held.",
)


def _forecast_inputs(
    snapshot: str, policy_path: str | None, history: str | None, handovers_path: str | None
) -> tuple[Snapshot, Policy, Calibration | None, tuple[Handover, ...]]:
    """The snapshot, the policy, the calibration from ``history`` (or ``None``) and the
    handovers still pending of a forecast or a staffing question; a bad one exits 2
    with its sentence. A pending handovers file beside the snapshot and not given is
    warned of: without it the forecast breaks those promises."""
    from allocator.io import pending_handovers_path

    snap, policy = read_inputs(snapshot, None, policy_path)
    beside = pending_handovers_path(snapshot)
    if handovers_path is None and snapshot != "-" and beside.is_file():
        echo(
            f"warning: {beside} beside the snapshot holds handovers promised by an earlier "
            f"apply; give --handovers {beside} to keep them in the forecast",
            err=True,
        )
    handovers = read_handovers(handovers_path, snap)
    if history is None:
        return snap, policy, None, handovers
    from allocator.simulation.calibrate import calibrate_ssd

    with input_errors():
        return snap, policy, calibrate_ssd(history, snap), handovers


@main.command("forecast")
@click.argument("snapshot", type=click.Path())
@_WEEKS
@click.option(
    "--runs",
    type=click.IntRange(min=1, max=MAX_RUNS),
    default=50,
    show_default=True,
    help="Simulated futures; the bands are their 10th to 90th percentiles.",
)
@click.option("--seed", type=SEED, default=0, show_default=True)
@click.option("--policy", "policy_path", type=click.Path(), help="Policy file (TOML).")
@_FORECAST_METHOD
@_FORECAST_WORKERS
@_HISTORY
@_FORECAST_HANDOVERS
@click.option(
    "--wait-target",
    type=click.IntRange(min=0, max=MAX_WAIT_TARGET_DAYS),
    default=WAIT_TARGET_DAYS,
    show_default=True,
    help="Days a statutory child may wait: the FTE short by grade keeps to it.",
)
@click.option("--no-plots", is_flag=True, help="Leave out the PNG chart.")
@click.option("--out", type=click.Path(), required=True, help="Folder for the forecast's files.")
def forecast_command(
    snapshot: str,
    weeks: int,
    runs: int,
    seed: int,
    policy_path: str | None,
    method: str,
    workers: int,
    history: str | None,
    handovers_path: str | None,
    wait_target: int,
    no_plots: bool,
    out: str,
) -> None:
    """Run SNAPSHOT's next weeks many times: waiting, over-cap, who loses their worker."""
    _need_sim_extra()
    from allocator.simulation.forecast import ForecastSettings, forecast
    from allocator.simulation.forecast_report import summary_lines, write_forecast

    with input_errors():
        check_output_folder(out, files=())
    snap, policy, calibration, handovers = _forecast_inputs(
        snapshot, policy_path, history, handovers_path
    )
    settings = ForecastSettings(
        weeks=weeks,
        runs=runs,
        seed=seed,
        method="engine" if method == "engine" else "greedy",
        wait_target_days=wait_target,
    )
    fc = forecast(
        snap, policy, settings, calibration=calibration, handovers=handovers, workers=workers
    )
    with writing(out):
        written = write_forecast(fc, out, plots=not no_plots)
    for line in summary_lines(fc):
        echo(line, err=True)
    echo(f"wrote {', '.join(p.name for p in written)} in {out} ({fc.seconds:.0f} s)", err=True)


@main.command("capacity")
@click.argument("snapshot", type=click.Path())
@click.option(
    "--target",
    required=True,
    help='Waiting target, e.g. "urgent wait <= 1 day; statutory p90 wait <= 10 days".',
)
@_WEEKS
@click.option("--runs", type=click.IntRange(min=1, max=MAX_RUNS), default=20, show_default=True)
@click.option("--seed", type=SEED, default=0, show_default=True)
@click.option("--policy", "policy_path", type=click.Path(), help="Policy file (TOML).")
@click.option(
    "--grade",
    "grades",
    type=click.Choice([g.value for g in Grade]),
    multiple=True,
    help="Grade of the workers added (repeat for several); default social_worker.",
)
@click.option(
    "--confidence",
    type=FiniteRange(min=0, min_open=True, max=1),
    default=0.8,
    show_default=True,
    help="Share of runs that must meet the target.",
)
@click.option(
    "--max-fte",
    type=click.IntRange(min=0, max=MAX_EXTRA_FTE),
    default=20,
    show_default=True,
    help="Most extra FTE tried per grade.",
)
@click.option(
    "--contract",
    "contracts",
    type=click.Choice([c.value for c in Contract]),
    multiple=True,
    help="Contract of the workers added (repeat to compare); default permanent. "
    "Priced from the policy's [costs.<grade>] table where it gives one.",
)
@_FORECAST_METHOD
@_FORECAST_WORKERS
@_HISTORY
@_FORECAST_HANDOVERS
@click.option("--out", type=click.Path(), help="Folder for capacity.csv (every point tried).")
def capacity_command(
    snapshot: str,
    target: str,
    weeks: int,
    runs: int,
    seed: int,
    policy_path: str | None,
    grades: tuple[str, ...],
    confidence: float,
    max_fte: int,
    contracts: tuple[str, ...],
    method: str,
    workers: int,
    history: str | None,
    handovers_path: str | None,
    out: str | None,
) -> None:
    """The least extra FTE by grade (and contract) that meets a waiting target in
    SNAPSHOT's forecast, priced where the policy gives costs."""
    _need_sim_extra()
    from allocator.simulation.capacity import (
        TargetError,
        answer_lines,
        answers_csv,
        capacity,
        parse_target,
    )
    from allocator.simulation.forecast import ForecastSettings

    try:
        clauses = parse_target(target)
    except TargetError as exc:
        raise click.BadParameter(str(exc), param_hint="--target") from None
    if out is not None:
        with input_errors():
            check_output_folder(out, files=())
    snap, policy, calibration, handovers = _forecast_inputs(
        snapshot, policy_path, history, handovers_path
    )
    settings = ForecastSettings(
        weeks=weeks, runs=runs, seed=seed, method="engine" if method == "engine" else "greedy"
    )
    answers = []
    for grade in grades or ("social_worker",):
        for contract in contracts or ("permanent",):
            who = grade if contract == "permanent" else f"{grade}, {contract}"

            def step(s: Any, who: str = who) -> None:
                echo(f"{who} +{s.extra}: target met in {s.share:.0%} of runs", err=True)

            answers.append(
                capacity(
                    snap,
                    clauses,
                    Grade(grade),
                    policy=policy,
                    settings=settings,
                    confidence=confidence,
                    max_extra=max_fte,
                    calibration=calibration,
                    workers=workers,
                    on_step=step,
                    contract=Contract(contract),
                    handovers=handovers,
                )
            )
    for line in answer_lines(answers, clauses, confidence):
        echo(line)
    if out is not None:
        from allocator.io import write_text

        with writing(out):
            Path(out).mkdir(parents=True, exist_ok=True)
            write_text(Path(out) / "capacity.csv", answers_csv(answers))
        echo(f"wrote {Path(out) / 'capacity.csv'}", err=True)


@main.command("sweep")
@click.argument("spec", type=click.Path())
@click.option("--out", type=click.Path(), required=True, help="The sweep's folder (resumable).")
@click.option(
    "--workers",
    type=click.IntRange(min=1, max=MAX_WORKERS),
    default=2,
    show_default=True,
    help="Worker processes of the local Dask cluster (one thread each).",
)
@click.option(
    "--scheduler",
    help="Address of a running Dask scheduler (tcp://host:8786) instead of a local cluster.",
)
def sweep_command(spec: str, out: str, workers: int, scheduler: str | None) -> None:
    """Simulate every service x policy x seed x method of SPEC on Dask; one results table."""
    _need_sim_extra()
    import math as _math

    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    from allocator.sweep import Cell, CellError, SpecError, load_spec, run_cells, write_results

    # The whole spec (every key, every snapshot file) is checked before any cluster starts.
    try:
        cells = load_spec(spec)
    except SpecError as exc:
        for line in str(exc).splitlines():
            echo(f"error: {line}", err=True)
        sys.exit(BAD_INPUT)
    with input_errors():
        check_output_folder(out, files=())
    with Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console(stderr=True),
        transient=True,
    ) as bar:
        task = bar.add_task("cells", total=len(cells))
        resumed = 0

        def done(cell: Cell, seconds: float) -> None:
            nonlocal resumed
            resumed += _math.isnan(seconds)
            bar.advance(task)

        # Not held back while the cells run: each cell's file is written whole, so a
        # signal stops the sweep at once (the cluster is shut down on the way out).
        try:
            with input_errors():
                run_cells(cells, out, workers=workers, scheduler=scheduler, on_done=done)
        except CellError as exc:
            echo(f"error: {exc}", err=True)
            sys.exit(1)
    with writing(out):
        target = write_results(cells, Path(out))
    echo(f"wrote {target}: {len(cells)} cells ({resumed} already done, not run again)", err=True)
