"""The decision log's commands: ``log`` (list, verify or create it), ``history`` (a
child's allocation story) and ``replay`` (re-solve a decision, byte for byte); and the
log's opening and reading, shared with ``serve``.

The database libraries load only here (the ``serve`` extra); a log that cannot be
opened or read is one line naming it, exit 2, never a traceback.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, NoReturn

import click

from allocator.cli.echo import BAD_INPUT, RULES_BROKEN, console, echo, input_errors
from allocator.cli.extras import needs_serve_extra
from allocator.cli.files import writing
from allocator.command_line import GivenPath, interruption_behind
from allocator.io import check_output, write_json
from allocator.present.terminal import printable

db_option = click.option(
    "--db",
    default="decisions.db",
    show_default=True,
    envvar="ALLOCATOR_DB",
    help="The decision log: a SQLite file, or a postgresql://user@host/db URL.",
)


def db_shown(db: str) -> str:
    """``db`` as messages show it: any password as ``***`` (the helper ``import ssd`` uses)."""
    from allocator.ssd.tables import hide_password

    return hide_password(db)


def refuse_password_typed(url: str, param: str, env: str) -> None:
    """Exit 2 when the database URL in ``param`` holds a password typed on the command
    line, where every user of the machine sees it (``ps``), naming ``env``, which keeps
    it out (``ALLOCATOR_DB``, ``ALLOCATOR_SSD_DB``). Issue 24 asks that a password is
    never on a command line; a warning, as before, left the habit in place. Nothing is
    opened. From the environment the same URL is taken."""

    if "://" not in url or db_shown(url) == url:
        return
    shown = f"--{param}" if param == "db" else param.upper()
    refuse_typed_secret(param, f"the password in {shown}", f"the URL in {env}", "opened")


def refuse_typed_secret(param: str, what: str, instead: str, nothing: str) -> None:
    """Exit 2 when parameter ``param`` (a secret: ``what``) was typed on the command
    line, where every user of the machine reads it (``ps``): the sentence says to give
    ``instead`` (an environment variable) and that nothing was ``nothing`` (opened,
    started). The same value from the environment is taken."""
    from click.core import ParameterSource

    context = click.get_current_context(silent=True)
    if context is None:
        return
    if context.get_parameter_source(param) == ParameterSource.COMMANDLINE:
        echo(
            f"error: {what} is visible to every user of this machine (ps): give "
            f"{instead} instead; nothing was {nothing}",
            err=True,
        )
        sys.exit(BAD_INPUT)


def open_log(db: str, *, existing: bool = False) -> Any:
    """The decision log at ``db``; exit 2 with one line if it cannot be opened.

    ``existing``: the command only reads the log: nothing is written (a SQLite file is
    opened read-only), and a file that is not there, empty (0 bytes), corrupt or
    without the log's tables is an error naming the file, never a new, empty log.
    """
    refuse_password_typed(db, "db", "ALLOCATOR_DB")
    try:
        from allocator.meeting.log import DecisionLog
    except ImportError as exc:
        needs_serve_extra(exc)
    try:
        return DecisionLog(db, create=not existing)
    except Exception as exc:  # a bad URL or an unreachable server: one line, exit 2
        log_failed(db, exc)


def log_failed(db: str, exc: BaseException, doing: str = "open") -> NoReturn:
    """One line for a log that cannot be opened or read (exit 2); never a traceback."""
    from sqlalchemy.exc import NoSuchModuleError

    from allocator.meeting.log import STATEMENT_TIMEOUT, LogUnreadable
    from allocator.ssd.tables import database_error, driver_hint, first_error_line, timed_out

    if interruption_behind(exc) is not None:
        raise exc
    if isinstance(exc, LogUnreadable):
        echo(f"error: {exc}", err=True)
        sys.exit(BAD_INPUT)
    why = first_error_line(exc)
    if timed_out(exc) and "connect" not in why.lower():
        # A lock held elsewhere, a server that stalls: say what timed out, and where.
        how = database_error(exc, f"{doing}ing the decision log", STATEMENT_TIMEOUT)
        echo(f"error: {db_shown(db)}: {how}", err=True)
        sys.exit(BAD_INPUT)
    if isinstance(exc, ImportError | NoSuchModuleError):
        # A supported database whose driver is missing (PostgreSQL without psycopg).
        why = f"the database driver is not installed ({why}); expected {driver_hint(db)}"
    echo(f"error: cannot {doing} the decision log {db_shown(db)}: {why}", err=True)
    sys.exit(BAD_INPUT)


@contextmanager
def reading_log(db: str) -> Iterator[None]:
    """Any failure reading a log that opened (a corrupt page, a row that is not the
    log's) is one line naming the log, exit 2."""
    try:
        yield
    except (click.exceptions.Exit, click.ClickException, SystemExit):
        raise
    except Exception as exc:
        log_failed(db, exc, "read")


def _printable(value: str | None) -> str:
    """``value`` (``""`` for ``None``) as :func:`allocator.present.terminal.printable` shows it."""
    return printable(value or "")


def _literal(value: str | None) -> Any:
    """A table cell printed as typed: no rich markup read in it, control characters
    shown as escapes (a manager named ``[/]`` or holding an escape code prints as such)."""
    from rich.text import Text

    return Text(_printable(value))


def _sha256s(values: tuple[str, ...]) -> tuple[str, ...]:
    """``--anchor`` values: each 64 hex digits (a chain head as ``--verify`` prints it)."""
    for value in values:
        if re.fullmatch(r"[0-9a-fA-F]{64}", value.strip()) is None:
            raise click.BadParameter(
                f"{value!r}: expected a chain head, 64 hex digits", param_hint="--anchor"
            )
    return tuple(v.strip().lower() for v in values)


#: Guards a message names before counting the rest.
GUARDS_NAMED = 3


def guards_named(guards: tuple[str, ...]) -> str:
    """The first :data:`GUARDS_NAMED` of ``guards``, then how many more."""
    more = len(guards) - GUARDS_NAMED
    return ", ".join(guards[:GUARDS_NAMED]) + (f" and {more} more" if more > 0 else "")


def verified(log: Any, anchors: tuple[str, ...] = (), *, guards: str = "warning") -> Any:
    """Walk ``log``'s chain; print its verdict on stderr; the :class:`Verification`.

    ``guards``: how guards not in place are said, ``"error"`` where the command judges
    the log (``log --verify``), ``"warning"`` where it goes on to read rows that
    verified (the rows are as written; only the next rewrite would go unrefused)."""
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
    if result.unguarded:
        echo(
            f"{guards}: the decision log's guards against rewriting are not in place "
            f"({guards_named(result.unguarded)}): the database no longer "
            "refuses an UPDATE or DELETE, and only the seals would show one; keep a copy "
            "as it is, and have the tables' owner run `allocator log --init` to put them back",
            err=True,
        )
    for note in result.notes:
        echo(f"note: {note}", err=True)
    return result


def genuine_or_exit(log: Any, nothing: str) -> None:
    """Verify ``log``'s chain (:func:`verified`, as ``log --verify`` does) before a
    command reads decisions from it; exit 1 when it was altered, saying that
    ``nothing`` (shown, replayed) came from it.

    Refused, not shown with a warning: a warning scrolls by above a table, and is
    lost where the JSON goes to a file or a script, so a manager would read a rewritten
    decision as genuine. ``log --verify`` names the first break; the file is kept as
    evidence. Decisions that carry no seal (a log from before sealing) and guards not
    in place are warned about, and the rows, which verified, are shown."""
    if verified(log).broken is not None:
        echo(
            f"error: nothing was {nothing}: the log no longer holds what was decided; "
            "keep it as evidence, and read the decisions from a copy made before",
            err=True,
        )
        sys.exit(RULES_BROKEN)


@click.command("log")
@db_option
@click.option("--limit", type=click.IntRange(min=1), default=50, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Write JSON on stdout.")
@click.option(
    "--verify",
    is_flag=True,
    help="Walk the chain of seals instead: name the first decision rewritten, removed "
    "or forged, and any guard against rewriting not in place; exit 1 unless every "
    "decision is sealed and intact and every guard in place.",
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
    """List the decisions in the log, newest first (or verify it, or create it).

    The log's chain is verified first: a log altered anywhere is named, nothing is
    listed, exit 1.
    """
    from rich.table import Table

    if init:
        log = open_log(db)
        with reading_log(db):
            log.init()
        echo(f"decision log ready in {db_shown(db)}", err=True)
        return
    log = open_log(db, existing=True)
    if verify:
        with reading_log(db):
            result = verified(log, anchors, guards="error")
        if as_json:
            write_json(
                None,
                {
                    "intact": result.intact,
                    "decisions": result.decisions,
                    "head_sha256": result.head,
                    "unsealed": list(result.unsealed),
                    "broken": result.broken,
                    "unguarded": list(result.unguarded),
                    "notes": list(result.notes),
                },
            )
        elif result.intact:
            echo(
                f"the decision log is intact: {result.decisions} decisions, each sealed, "
                "and its guards in place; "
                f"chain head sha256 {result.head or '(none: the log is empty)'}"
            )
        if not result.intact:
            sys.exit(RULES_BROKEN)
        return
    with reading_log(db):
        genuine_or_exit(log, "shown")
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


@click.command("history")
@click.argument("case_id", metavar="CASE_ID")
@db_option
@click.option("--json", "as_json", is_flag=True, help="Write JSON on stdout.")
def history_command(case_id: str, db: str, as_json: bool) -> None:
    """A child's allocation story: each worker, from when, and why it changed.

    The log's chain is verified first: a log altered anywhere is named, nothing is
    shown, exit 1.
    """
    from rich.table import Table

    log = open_log(db, existing=True)
    with reading_log(db):
        genuine_or_exit(log, "shown")
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
    table = Table(
        "decision",
        "meeting",
        "when (UTC)",
        "event",
        "worker before",
        "worker after",
        "kept off",
        "why",
        "by",
    )
    for e in events:
        # Before and after the step, and the worker kept off apart: a kept_off row
        # read "worker P0011 | from P0009", a move, where the child stayed with P0009.
        table.add_row(
            str(e.decision_id),
            _literal(e.meeting),
            e.at[:19].replace("T", " "),
            e.event,
            _literal(e.worker_before),
            _literal(e.worker_after or "(none)"),
            _literal(e.kept_off),
            _literal(e.reason),
            _literal(e.by),
        )
    console().print(table)


@click.command("replay")
@click.argument("decision_id", metavar="DECISION_ID", type=click.IntRange(min=1))
@db_option
@click.option("--out", type=GivenPath(), help="Also write the replayed plan here.")
def replay_command(decision_id: int, db: str, out: str | None) -> None:
    """Re-solve DECISION_ID from its stored inputs; exit 1 unless byte-identical.

    Compared: the plan's JSON bytes with solve_seconds (wall-clock time) zeroed. The
    log's chain is verified first: a log altered anywhere is named and exits 1.
    """
    from allocator.meeting.log import replay

    with input_errors():
        check_output(out)
    log = open_log(db, existing=True)
    with reading_log(db):
        genuine_or_exit(log, "replayed")
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
