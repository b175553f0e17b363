"""The decision log: every proposed plan, override and sign-off, append-only, in SQL.

SQLAlchemy 2 over SQLite (a local file, the default) or PostgreSQL (``--db
postgresql://user@host/db``, driven by psycopg 3). Three tables:

* ``inputs``: each distinct input, content-addressed by SHA-256: the snapshot as
  loaded (referrals merged, canonical JSON), the policy (canonical JSON), each plan
  (canonical bytes, :func:`allocator.meeting.overrides.canonical_plan`), and the handovers
  promised before a meeting whose receivers' room it kept (``serve --handovers``; a
  pending handovers record, :func:`handovers_bytes`).
* ``decisions``: one row per decision (``proposed``, ``override``, ``signoff``), with
  when, the meeting, the decision it follows, the manager's name and how the server
  knew it (``manager_via``: ``token``, a person's own token of a users file;
  ``sign-on``, the council's single sign-on header; ``typed``, a name typed in the
  form and not checked), the input and plan hashes (``handovers_sha256``: the
  handovers kept, empty for a meeting without), the settings, and the overrides in
  effect.
* ``case_events``: one row per case a decision touches: the worker it gets (or
  none), the worker it leaves, and the event; a reason only for a manager's own
  decision, as they typed it. The allocator's sentences (why a worker, why nobody)
  are not copied there: :meth:`DecisionLog.history` reads them from the decision's
  stored plan.

Nothing here updates or deletes a row, and the database refuses to (a trigger on each
table, on SQLite and PostgreSQL alike; on SQLite also ``INSERT OR REPLACE`` over a row
that exists, on PostgreSQL ``TRUNCATE``). Each decision is sealed: a row of ``seals``
holds the SHA-256 of the decision, its case events and the hash of the seal before
it, so :meth:`DecisionLog.verify` finds a row rewritten, removed or forged by anybody
who could get past the triggers (the file's owner, the tables' owner, a superuser),
and the triggers themselves dropped, disabled or replaced.
Stored inputs are content-addressed: their bytes must hash to their key.

The rows of ``decisions`` and ``case_events`` hold pseudonymous ids (case and worker
ids of the snapshot), event kinds, hashes, settings and the overrides, and no free
text but what a manager typed (their name and reasons). The inputs and the
allocator's own output (each plan, with its sentences, which the replay compares byte
for byte) are stored once each in ``inputs``.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Collection, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import (
    DDL,
    Column,
    ForeignKey,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    event,
    func,
    insert,
    inspect,
    literal,
    make_url,
    select,
    text,
)
from sqlalchemy.engine import Connection, Engine

from allocator.contract.models import Handover, PendingHandovers, Plan, Snapshot
from allocator.contract.policy import Policy
from allocator.io import dump_json
from allocator.meeting.overrides import (
    Override,
    Resolution,
    canonical_plan,
    digest,
    resolve,
)

DEFAULT_DB = "sqlite:///decisions.db"
"""The log's default URL: a SQLite file in the current folder."""

metadata = MetaData()

inputs = Table(
    "inputs",
    metadata,
    Column("sha256", String(64), primary_key=True),
    Column("kind", String(16), nullable=False),  # snapshot, policy, plan, handovers
    Column("content", LargeBinary, nullable=False),
)

decisions = Table(
    "decisions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", String(32), nullable=False),  # UTC, ISO 8601
    Column("kind", String(16), nullable=False),  # proposed, override, signoff
    Column("meeting", String(32), nullable=False),
    Column("parent_id", Integer, ForeignKey("decisions.id"), nullable=True),
    Column("manager", String(200), nullable=True),  # the name (typed, or signed in)
    Column("snapshot_sha256", String(64), ForeignKey("inputs.sha256"), nullable=False),
    Column("policy_sha256", String(64), ForeignKey("inputs.sha256"), nullable=False),
    Column("plan_sha256", String(64), ForeignKey("inputs.sha256"), nullable=False),
    Column("made_from", Text, nullable=False),  # JSON: the files and their SHA-256
    Column("settings", Text, nullable=False),  # JSON: the solver settings
    Column("overrides", Text, nullable=False),  # JSON: every override in effect
    # Empty: the stage an override's re-solve reached when it took up to three (logs
    # written before the one-solve re-solve); kept so that those logs still read.
    Column("stage", Integer, nullable=True),
    # How the server knew the manager's name (MANAGER_VIA); empty for a proposed plan
    # and for decisions logged before it was recorded. Last: a log written before it
    # gets it by ALTER TABLE, which adds a column at the end.
    Column("manager_via", String(16), nullable=True),
    # The handovers promised before the meeting and still to come whose receivers'
    # room its every solve kept (serve --handovers), stored in ``inputs`` (verify
    # checks them there); empty for a meeting without. Added after manager_via, as it.
    Column("handovers_sha256", String(64), nullable=True),
    # SQLite keeps the highest id ever given (sqlite_sequence): a log cut short shows.
    sqlite_autoincrement=True,
)

case_events = Table(
    "case_events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("decision_id", Integer, ForeignKey("decisions.id"), nullable=False),
    Column("case_id", String(200), nullable=False, index=True),
    Column("event", String(16), nullable=False),
    Column("worker", String(200), nullable=True),
    Column("from_worker", String(200), nullable=True),
    Column("reason", Text, nullable=True),
    sqlite_autoincrement=True,
)

seals = Table(
    "seals",
    metadata,
    Column(
        "decision_id", Integer, ForeignKey("decisions.id"), primary_key=True, autoincrement=False
    ),
    # The seal before it (GENESIS for the first): unique, so the chain cannot fork.
    Column("prev_sha256", String(64), nullable=False, unique=True),
    Column("sha256", String(64), nullable=False, unique=True),
)

# The case ids of each stored snapshot, so that "has the log heard of this case?" is
# an indexed look-up, not a parse of every stored snapshot.
snapshot_cases = Table(
    "snapshot_cases",
    metadata,
    Column("snapshot_sha256", String(64), ForeignKey("inputs.sha256"), primary_key=True),
    Column("case_id", String(200), primary_key=True, index=True),
)

_TABLES = ("inputs", "decisions", "case_events", "seals", "snapshot_cases")
#: Each table's keys, primary and unique: a REPLACE over any of them is refused.
_KEYS: dict[str, tuple[tuple[str, ...], ...]] = {
    "inputs": (("sha256",),),
    "decisions": (("id",),),
    "case_events": (("id",),),
    "seals": (("decision_id",), ("prev_sha256",), ("sha256",)),
    "snapshot_cases": (("snapshot_sha256", "case_id"),),
}
APPEND_ONLY = "the decision log is append-only"
#: How a decision's manager was known: their own token (a users file), the council's
#: single sign-on (a header set by its proxy), or a name typed and not checked.
MANAGER_VIA = ("token", "sign-on", "typed")
#: How each way of knowing the manager reads beside their name.
VIA_WORDS = {
    "token": "signed in: own token",
    "sign-on": "signed in: single sign-on",
    "typed": "typed, not checked",
}


def manager_shown(manager: str | None, manager_via: str | None) -> str:
    """A decision's manager as the log and the page show them: the name and how it was
    known (``Ann Smith (signed in: own token)``); the name alone for a decision logged
    before that was recorded, ``""`` for none.

    >>> manager_shown("Bo", "typed"), manager_shown("Bo", None), manager_shown(None, None)
    ('Bo (typed, not checked)', 'Bo', '')
    """
    if manager is None:
        return ""
    words = VIA_WORDS.get(manager_via or "")
    return f"{manager} ({words})" if words else manager


#: Columns added to ``decisions`` after logs were first written: a log without them is
#: read as it is, and given them by ``serve`` (SQLite) or ``allocator log --init``.
_ADDED_COLUMNS = ("manager_via", "handovers_sha256")
#: Of :data:`_ADDED_COLUMNS`, those every new decision needs (a name logged without how
#: it was known would read as one logged before that was recorded); the others are
#: needed only by a decision that holds a value in them.
_NEEDED_COLUMNS = ("manager_via",)
#: The ``prev_sha256`` of the first seal.
GENESIS = "0" * 64


#: SQLite's guards on each table, by the trigger's name after the table's
#: (``decisions_append_only``): the statement each refuses.
_SQLITE_GUARDS = {"append_only": "UPDATE", "no_delete": "DELETE", "no_replace": "INSERT"}


def _sqlite_guards(name: str) -> dict[str, str]:
    """SQLite's guards on one table, each trigger's name to the statement that creates
    it: no UPDATE, no DELETE, no REPLACE of a row.

    SQLite fires no DELETE trigger for the row an ``INSERT OR REPLACE`` (or ``REPLACE
    INTO``, or an upsert) removes, so a BEFORE INSERT trigger refuses any insert whose
    key is taken: the plain insert would fail on the key anyway.
    """
    taken = " OR ".join(
        "EXISTS (SELECT 1 FROM {t} WHERE {cond})".format(
            t=name, cond=" AND ".join(f"{c} = NEW.{c}" for c in key)
        )
        for key in _KEYS[name]
    )
    abort = f"BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY}'); END"
    guards = {}
    for suffix, statement in _SQLITE_GUARDS.items():
        when = f"WHEN {taken} " if statement == "INSERT" else ""
        guards[f"{name}_{suffix}"] = (
            f"CREATE TRIGGER IF NOT EXISTS {name}_{suffix} BEFORE {statement} ON {name} "
            f"{when}{abort}"
        )
    return guards


def _sqlite_triggers(name: str) -> list[str]:
    """The statements that create SQLite's guards on one table (:func:`_sqlite_guards`)."""
    return list(_sqlite_guards(name).values())


#: PostgreSQL's guards on each table, by the trigger's name after the table's: whether
#: it fires for each row (else once per statement), and the statements it refuses.
_POSTGRESQL_GUARDS = {
    "append_only": (True, ("UPDATE", "DELETE")),
    "no_truncate": (False, ("TRUNCATE",)),
}
#: The body of the function every PostgreSQL guard runs.
_POSTGRESQL_REFUSAL = f"BEGIN RAISE EXCEPTION '{APPEND_ONLY}'; END"
# pg_trigger.tgtype's bits (PostgreSQL's include/catalog/pg_trigger.h).
_PG_ROW, _PG_BEFORE = 1, 2
_PG_EVENT_BITS = {"INSERT": 4, "DELETE": 8, "UPDATE": 16, "TRUNCATE": 32}


def _postgresql_triggers(name: str) -> list[str]:
    """PostgreSQL's guards on one table: no UPDATE, DELETE (row) nor TRUNCATE (statement)."""
    statements = [
        "CREATE OR REPLACE FUNCTION allocator_append_only() RETURNS trigger "
        f"LANGUAGE plpgsql AS $$ {_POSTGRESQL_REFUSAL} $$",
    ]
    for suffix, (per_row, events) in _POSTGRESQL_GUARDS.items():
        statements += [
            f"DROP TRIGGER IF EXISTS {name}_{suffix} ON {name}",
            f"CREATE TRIGGER {name}_{suffix} BEFORE {' OR '.join(events)} ON {name} "
            f"FOR EACH {'ROW' if per_row else 'STATEMENT'} "
            "EXECUTE FUNCTION allocator_append_only()",
        ]
    return statements


def _postgresql_tgtype(per_row: bool, events: Sequence[str]) -> int:
    """The ``pg_trigger.tgtype`` of a BEFORE trigger on ``events``."""
    return _PG_BEFORE | (_PG_ROW if per_row else 0) | sum(_PG_EVENT_BITS[e] for e in events)


def _one_line(sql: str) -> str:
    return " ".join(sql.split())


# Append-only, enforced by the database itself, not only by this module's habits.
for _name in _TABLES:
    for _sql in _sqlite_triggers(_name):
        event.listen(
            metadata.tables[_name],
            "after_create",
            DDL(_sql).execute_if(dialect="sqlite"),  # type: ignore[no-untyped-call]
        )
    for _sql in _postgresql_triggers(_name):
        event.listen(
            metadata.tables[_name],
            "after_create",
            DDL(_sql.replace("%", "%%")).execute_if(  # type: ignore[no-untyped-call]
                dialect="postgresql"
            ),
        )


#: The databases the log is written for and tested on (``sqlite:///`` and PostgreSQL).
SUPPORTED_BACKENDS = frozenset({"sqlite", "postgresql"})


class UnsupportedDatabase(ValueError):
    """A decision-log URL naming a database other than SQLite or PostgreSQL."""


def database_url(url: str) -> str:
    """The SQLAlchemy URL for ``url``: a plain path is a SQLite file; PostgreSQL via psycopg.

    >>> database_url("log.db")
    'sqlite:///log.db'
    >>> database_url("postgresql://u@127.0.0.1/db")
    'postgresql+psycopg://u@127.0.0.1/db'
    """
    if "://" not in url:
        return f"sqlite:///{url}"
    if url.startswith(("postgresql://", "postgres://")):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def _check_via(manager_via: str) -> None:
    if manager_via not in MANAGER_VIA:
        raise ValueError(f"manager_via {manager_via!r}: expected one of {', '.join(MANAGER_VIA)}")


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass(frozen=True)
class Decision:
    """One row of the log, as :func:`DecisionLog.decisions` lists them."""

    id: int
    at: str
    kind: str
    meeting: str
    parent_id: int | None
    manager: str | None
    plan_sha256: str
    snapshot_sha256: str
    policy_sha256: str
    stage: int | None
    overrides: tuple[Override, ...]
    settings: dict[str, Any]
    made_from: dict[str, Any] | None
    manager_via: str | None = None
    handovers_sha256: str | None = None

    @property
    def authenticated(self) -> bool | None:
        """Whether the manager's name was checked (a token or the sign-on): ``None`` for
        a decision without a manager, or logged before this was recorded."""
        return None if self.manager_via is None else self.manager_via != "typed"

    @property
    def manager_shown(self) -> str:
        """The manager and how they were known (:func:`manager_shown`)."""
        return manager_shown(self.manager, self.manager_via)

    def to_dict(self) -> dict[str, Any]:
        """Plain data for JSON."""
        return {
            "id": self.id,
            "at": self.at,
            "kind": self.kind,
            "meeting": self.meeting,
            "parent_id": self.parent_id,
            "manager": self.manager,
            "manager_via": self.manager_via,
            "authenticated": self.authenticated,
            "plan_sha256": self.plan_sha256,
            "snapshot_sha256": self.snapshot_sha256,
            "policy_sha256": self.policy_sha256,
            "stage": self.stage,
            "overrides": [o.model_dump() for o in self.overrides],
            "settings": self.settings,
            "made_from": self.made_from,
            "handovers_sha256": self.handovers_sha256,
        }


#: The case events a re-solve made as a consequence of a manager's override: not the
#: manager's own decision, so told apart in a child's history.
CONSEQUENT_EVENTS = frozenset({"moved", "placed", "unplaced"})
#: Each case event in words for people (the page's history); files and JSON keep the
#: event's name.
EVENT_WORDS = {
    "proposed": "proposed",
    "chosen": "chosen by a manager",
    "chosen_over_cap": "chosen over cap, by a manager's exception",
    "kept_off": "kept off a worker by a manager",
    "unallocated": "left unallocated by a manager",
    "placed": "given a worker by the re-solve",
    "unplaced": "left without a worker by the re-solve",
    "moved": "moved by the re-solve",
    "signed": "signed off",
}


@dataclass(frozen=True)
class CaseEvent:
    """One step of a child's allocation story (:meth:`DecisionLog.history`).

    Attributes
    ----------
    worker, from_worker
        As the log stores them: for ``kept_off`` the worker the child is kept off and
        the worker they had; for every other event the worker the step gives the child
        (``None``: none) and the one it leaves, where there is one. Read
        :attr:`worker_before`, :attr:`worker_after` and :attr:`kept_off` to tell them.
    worker_after
        The child's worker once the step is made: where the re-solve put them when a
        ``placed`` or ``unplaced`` event of the same decision says so, the worker they
        had for a ``kept_off`` that moved nobody, else ``worker``.
    manager
        Who made this step: the manager of an override (its own case events) or of
        a sign-off; ``None`` for the allocator's proposal and for a re-solve's
        consequent moves (:data:`CONSEQUENT_EVENTS`), which no person chose.
    meeting
        The meeting the decision was made in.
    caused_by
        For a consequent move: the override that caused it, in words
        ("re-solve after Ann's override of C12: choose P3"); else ``None``.
    """

    decision_id: int
    at: str
    kind: str
    event: str
    worker: str | None
    from_worker: str | None
    reason: str | None
    manager: str | None
    typed: bool = False
    manager_via: str | None = None
    meeting: str = ""
    caused_by: str | None = None
    worker_after: str | None = None

    @property
    def worker_before(self) -> str | None:
        """The child's worker before the step, where the log knows it (a proposal
        names only the worker a moved child leaves)."""
        return self.from_worker

    @property
    def kept_off(self) -> str | None:
        """The worker a manager kept the child off (``kept_off``), else ``None``."""
        return self.worker if self.event == "kept_off" else None

    @property
    def manager_shown(self) -> str:
        """The decision's manager and how they were known (:func:`manager_shown`)."""
        return manager_shown(self.manager, self.manager_via)

    @property
    def by(self) -> str:
        """Who did it, for people: the re-solve that made a consequent move, else the
        manager and how they were known (:attr:`manager_shown`), else the allocator."""
        if self.caused_by is not None:
            return self.caused_by
        return self.manager_shown or "the allocator's proposal"

    def to_dict(self) -> dict[str, Any]:
        """Plain data for JSON."""
        return {
            **self.__dict__,
            "worker_before": self.worker_before,
            "kept_off": self.kept_off,
            "by": self.by,
        }


@dataclass(frozen=True)
class Replay:
    """The outcome of :func:`replay`: the stored plan's hash and the re-solved one's."""

    decision_id: int
    stored_sha256: str
    replayed_sha256: str
    replayed: bytes

    @property
    def identical(self) -> bool:
        """Whether the re-solve gave the stored plan byte for byte."""
        return self.stored_sha256 == self.replayed_sha256


class LogUnreadable(ValueError):
    """A decision log that cannot be read as one: an empty, truncated or corrupt file,
    a database without the log's tables, or a stored input whose bytes were changed."""


#: Seconds one statement on a PostgreSQL log may take (``statement_timeout``), and a
#: SQLite log may wait for a lock another process holds (its busy timeout).
STATEMENT_TIMEOUT = 60.0
# pg_advisory_xact_lock's key: one writer at a time extends the chain.
_CHAIN_LOCK = 0x616C6C6F63  # "alloc"
_CORE_TABLES = ("inputs", "decisions", "case_events")


@dataclass(frozen=True)
class Verification:
    """The outcome of :meth:`DecisionLog.verify`.

    Attributes
    ----------
    decisions
        How many decisions the log holds.
    head
        The last seal's SHA-256 (note it elsewhere: a log cut short after it shows).
    unsealed
        The decisions before the first seal, which carry none (written before the
        chain, or their seals removed): they cannot be verified.
    broken
        The first break, naming the row; ``None`` when the chain holds.
    notes
        What the check could not decide (a PostgreSQL id counter ahead of the last
        decision: a failed write, or decisions removed from the end).
    unguarded
        The guards (triggers) that refuse a rewrite and are not in place, each named
        with what is wrong (``decisions_append_only (missing)``); empty when all are.
    """

    decisions: int
    head: str | None
    unsealed: tuple[int, ...] = ()
    broken: str | None = None
    notes: tuple[str, ...] = ()
    unguarded: tuple[str, ...] = ()

    @property
    def intact(self) -> bool:
        """Whether every decision is sealed, the chain holds and every guard is in
        place. A log without its guards is not intact though no row has changed yet:
        allocator never removes one, so their absence is itself a change made behind
        its back, and from then on the database no longer refuses a rewrite."""
        return self.broken is None and not self.unsealed and not self.unguarded


def _canonical(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


_EVENT_COLUMNS = tuple(c.name for c in case_events.columns)


def seal_digest(prev: str, decision: Any, events: Sequence[Any]) -> str:
    """The SHA-256 sealing one decision: the seal before it, its row, its case events.

    A canonical encoding (JSON, sorted keys, ASCII) of every column of the decision's
    row and of each of its case events (in id order), and ``prev``.
    """
    row = decision._mapping
    body = {
        "prev": prev,
        # A column added later is sealed once it holds a value: the seals of decisions
        # written before it still verify, and a value set or cleared since is seen.
        "decision": {
            c.name: row.get(c.name)
            for c in decisions.columns
            if c.name not in _ADDED_COLUMNS or row.get(c.name) is not None
        },
        "events": [
            {name: mapping[name] for name in _EVENT_COLUMNS}
            for mapping in (e._mapping for e in events)  # once per row: a year's log is 150k
        ],
    }
    return digest(_canonical(body))


def _sqlite_read_only(path: str) -> Engine:
    """An engine that can only read the SQLite file at ``path`` (``mode=ro``)."""
    import sqlite3
    from urllib.parse import quote

    uri = "file:" + quote(str(Path(path).resolve())) + "?mode=ro"
    seconds = STATEMENT_TIMEOUT
    return create_engine(
        "sqlite://",
        creator=lambda: sqlite3.connect(uri, uri=True, check_same_thread=False, timeout=seconds),
    )


class DecisionLog:
    """The append-only log at ``url``.

    Parameters
    ----------
    url
        A SQLAlchemy URL, a ``postgresql://`` URL, or a path to a SQLite file.
    create
        Create the tables when missing (``serve``). ``False``: only read, never write
        (``log``, ``history``, ``replay``): a SQLite file is opened read-only, and an
        empty, truncated or corrupt file, or one without the log's tables, is a
        :class:`LogUnreadable`, never a new empty log.
    connect_timeout
        Seconds a database server has to answer a connection (default
        :data:`allocator.ssd.tables.CONNECT_TIMEOUT`): a host that accepts TCP and never
        answers is an error after this, not a hang.

    Raises
    ------
    LogUnreadable
        The file or database is not a readable decision log (the sentence says why).
    """

    def __init__(
        self, url: str = DEFAULT_DB, *, create: bool = True, connect_timeout: float | None = None
    ) -> None:
        self.url = database_url(url)
        backend = self.url.split("://", 1)[0].partition("+")[0].lower()
        if backend not in SUPPORTED_BACKENDS:
            raise UnsupportedDatabase(
                f"{backend!r} is not supported, expected a SQLite file or a postgresql:// URL"
            )
        self.dialect = backend
        if backend == "sqlite":
            path = make_url(self.url).database or ""
            self.path: str | None = path if path not in ("", ":memory:") else None
            existing = self.path is not None and Path(self.path).exists()
            if not create and self.path is not None:
                if not existing:
                    raise LogUnreadable(f"no decision log at {self.path}")
                self.engine: Engine = _sqlite_read_only(self.path)
            else:
                self.engine = create_engine(self.url, connect_args={"timeout": STATEMENT_TIMEOUT})
            if existing:  # a file there already must be a log: never start one in it
                self._check_sqlite()
        else:
            self.path = None
            from allocator.ssd.tables import connect_args

            # Each statement may take STATEMENT_TIMEOUT at most (a table locked by
            # someone else, a server that stalls): an error, not a meeting that hangs.
            self.engine = create_engine(
                self.url, connect_args=connect_args(self.url, connect_timeout, STATEMENT_TIMEOUT)
            )
        #: The guards a SQLite log opened to write was without and was given back
        #: (:meth:`_unguarded`'s words): a log written before a guard was added, or
        #: one whose guards were dropped since, which its owner should hear of.
        self.guards_restored: tuple[str, ...] = ()
        if create:
            if backend == "sqlite" and existing:
                with self.engine.connect() as conn:
                    self.tables = set(inspect(conn).get_table_names())
                    self.guards_restored = self._unguarded(conn)
            metadata.create_all(self.engine)
            if backend == "sqlite":  # a log written before a guard was added gets it
                with self.engine.begin() as conn:
                    for name in _TABLES:
                        for sql in _sqlite_triggers(name):
                            conn.exec_driver_sql(sql)
                self._add_columns()
        self.tables = set(inspect(self.engine).get_table_names())
        missing = [t for t in _CORE_TABLES if t not in self.tables]
        if missing:
            raise LogUnreadable(
                f"{self._where()} holds no decision log (no table {', '.join(missing)}): "
                "emptied, or not a decision log"
            )
        self.columns = {c["name"] for c in inspect(self.engine).get_columns("decisions")}

    def _add_columns(self) -> None:
        """Give a log written before a column of ``decisions`` existed that column
        (empty in every row it has: their seals hold, :func:`seal_digest`)."""
        have = {c["name"] for c in inspect(self.engine).get_columns("decisions")}
        with self.engine.begin() as conn:
            for name in _ADDED_COLUMNS:
                if name not in have:
                    column = decisions.c[name]
                    kind = column.type.compile(dialect=self.engine.dialect)
                    conn.exec_driver_sql(f"ALTER TABLE decisions ADD COLUMN {name} {kind}")

    def _select_decisions(self) -> Any:
        """``SELECT`` of ``decisions``' columns this log has (an older log lacks some)."""
        return select(*(c for c in decisions.columns if c.name in self.columns))

    def _where(self) -> str:
        if self.path is not None:
            return self.path
        from allocator.ssd.tables import hide_password

        return hide_password(self.url)

    def _check_sqlite(self) -> None:
        """Refuse an empty (0-byte), corrupt or foreign SQLite file with a sentence
        saying so."""
        from sqlalchemy.exc import DatabaseError

        assert self.path is not None
        if Path(self.path).stat().st_size == 0:
            raise LogUnreadable(
                f"the decision log {self.path} is empty (0 bytes): it was truncated, or is "
                "not a decision log (a new log needs a file name not in use)"
            )
        try:
            with self.engine.connect() as conn:
                problems = [r for (r,) in conn.exec_driver_sql("PRAGMA quick_check")]
                tables = set(inspect(conn).get_table_names())
        except DatabaseError as exc:
            from allocator.ssd.tables import timed_out

            if timed_out(exc):
                raise  # locked by another process: a timeout, not a corrupt file
            raise LogUnreadable(
                f"the decision log {self.path} is not a readable SQLite database "
                f"({' '.join(str(exc.orig).split())}): corrupt, or not a decision log"
            ) from None
        if problems != ["ok"]:
            raise LogUnreadable(
                f"the decision log {self.path} is corrupt (SQLite's check: "
                f"{' '.join(str(problems[0]).split())})"
            )
        if not set(_CORE_TABLES) <= tables:
            raise LogUnreadable(
                f"{self.path} holds no decision log (no table "
                f"{', '.join(t for t in _CORE_TABLES if t not in tables)}): emptied, or not "
                "a decision log"
            )

    def init(self) -> None:
        """Create the tables and every guard (the tables' owner runs this once).

        On PostgreSQL the triggers are (re)created: a log made before a guard existed
        (``TRUNCATE``) gets it. The role that serves the meeting then needs only
        ``SELECT`` and ``INSERT`` (docs/MEETING.md).
        """
        metadata.create_all(self.engine)
        if self.dialect == "postgresql":
            with self.engine.begin() as conn:
                for name in _TABLES:
                    for sql in _postgresql_triggers(name):
                        conn.exec_driver_sql(sql)
        self._add_columns()
        self.tables = set(inspect(self.engine).get_table_names())
        self.columns = {c["name"] for c in inspect(self.engine).get_columns("decisions")}

    def close(self) -> None:
        """Release the database connections."""
        self.engine.dispose()

    @contextmanager
    def _writing(self, columns: Sequence[str] = ()) -> Iterator[Connection]:
        """A transaction that may extend the chain; ``columns``: the columns added
        later (:data:`_ADDED_COLUMNS`) this write fills, beyond those every decision
        needs. A log without one is refused with what its owner runs."""
        missing = [t for t in ("seals", "snapshot_cases") if t not in self.tables]
        if missing:
            raise LogUnreadable(
                f"{self._where()} was made before decisions were sealed (no table "
                f"{', '.join(missing)}): the tables' owner runs `allocator log --init` once"
            )
        lacking = [c for c in (*_NEEDED_COLUMNS, *columns) if c not in self.columns]
        if lacking:
            what = (
                "how the manager was known"
                if "manager_via" in lacking
                else "the handovers a meeting kept room for"
            )
            raise LogUnreadable(
                f"{self._where()} was made before decisions recorded {what} (no column "
                f"decisions.{', '.join(lacking)}): the tables' owner runs "
                "`allocator log --init` once"
            )
        with self.engine.begin() as conn:
            if self.dialect == "postgresql":  # one writer at a time extends the chain
                conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _CHAIN_LOCK})
            yield conn

    def _store(self, conn: Connection, kind: str, content: bytes) -> str:
        sha = digest(content)
        found = conn.execute(select(inputs.c.sha256).where(inputs.c.sha256 == sha)).first()
        if found is None:
            conn.execute(insert(inputs).values(sha256=sha, kind=kind, content=content))
        return sha

    def _seal(self, conn: Connection, decision_id: int) -> None:
        """Seal ``decision_id`` (its row and case events, written) onto the chain's head."""
        head = conn.execute(
            select(seals.c.sha256).order_by(seals.c.decision_id.desc()).limit(1)
        ).scalar()
        row = conn.execute(self._select_decisions().where(decisions.c.id == decision_id)).one()
        events = list(
            conn.execute(
                select(case_events)
                .where(case_events.c.decision_id == decision_id)
                .order_by(case_events.c.id)
            )
        )
        prev = head or GENESIS
        conn.execute(
            insert(seals).values(
                decision_id=decision_id, prev_sha256=prev, sha256=seal_digest(prev, row, events)
            )
        )

    def _decision(
        self,
        conn: Connection,
        *,
        kind: str,
        meeting: str,
        parent_id: int | None,
        manager: str | None,
        snapshot_sha: str,
        policy_sha: str,
        plan: Plan,
        overrides: Sequence[Override],
        stage: int | None = None,
        manager_via: str | None = None,
        handovers_sha: str | None = None,
    ) -> int:
        plan_sha = self._store(conn, "plan", canonical_plan(plan))
        made = plan.made_from.model_dump(mode="json") if plan.made_from else None
        # Written only when there are handovers: a log without the column (a PostgreSQL
        # log its owner has not given it) takes every meeting without them.
        extra = {} if handovers_sha is None else {"handovers_sha256": handovers_sha}
        result = conn.execute(
            insert(decisions).values(
                **extra,
                at=_now(),
                kind=kind,
                meeting=meeting,
                parent_id=parent_id,
                manager=manager,
                manager_via=manager_via,
                snapshot_sha256=snapshot_sha,
                policy_sha256=policy_sha,
                plan_sha256=plan_sha,
                made_from=json.dumps(made, sort_keys=True),
                settings=json.dumps(plan.settings, sort_keys=True),
                overrides=json.dumps([o.model_dump() for o in overrides]),
                stage=stage,
            )
        )
        key = result.inserted_primary_key
        assert key is not None
        return int(key[0])

    def latest(self, snapshot: Snapshot, policy: Policy) -> Decision | None:
        """The newest decision made on ``snapshot`` under ``policy`` (stored as
        :meth:`propose` stores them), or ``None``: where a meeting on them stands."""
        snap_sha, pol_sha = digest(snapshot_bytes(snapshot)), digest(policy_bytes(policy))
        with self.engine.connect() as conn:
            row = conn.execute(
                self._select_decisions()
                .where(decisions.c.snapshot_sha256 == snap_sha)
                .where(decisions.c.policy_sha256 == pol_sha)
                .order_by(decisions.c.id.desc())
                .limit(1)
            ).first()
        return None if row is None else self._row(row)

    def propose(
        self,
        snapshot: Snapshot,
        policy: Policy,
        plan: Plan,
        handovers: Sequence[Handover] = (),
    ) -> tuple[str, int]:
        """Log a proposed plan and its inputs; returns ``(meeting, decision id)``.

        ``handovers``: those promised before and still to come whose receivers' room
        the plan kept (``allocate(..., handovers=...)``), stored as an input
        (:func:`handovers_bytes`) that every later decision of the meeting names.
        """
        meeting = secrets.token_hex(8)
        with self._writing(("handovers_sha256",) if handovers else ()) as conn:
            snap_sha = self._store(conn, "snapshot", snapshot_bytes(snapshot))
            if (
                conn.execute(
                    select(snapshot_cases.c.case_id)
                    .where(snapshot_cases.c.snapshot_sha256 == snap_sha)
                    .limit(1)
                ).first()
                is None
                and snapshot.cases
            ):
                conn.execute(
                    insert(snapshot_cases),
                    [{"snapshot_sha256": snap_sha, "case_id": c.id} for c in snapshot.cases],
                )
            pol_sha = self._store(conn, "policy", policy_bytes(policy))
            promised = (
                self._store(conn, "handovers", handovers_bytes(snapshot, handovers))
                if handovers
                else None
            )
            did = self._decision(
                conn,
                kind="proposed",
                meeting=meeting,
                parent_id=None,
                manager=None,
                snapshot_sha=snap_sha,
                policy_sha=pol_sha,
                plan=plan,
                overrides=(),
                handovers_sha=promised,
            )
            self._events(conn, did, plan, event="proposed")
            self._seal(conn, did)
        return meeting, did

    def override(
        self,
        parent_id: int,
        overrides: Sequence[Override],
        resolution: Resolution,
        made: Sequence[Override] | None = None,
        *,
        manager_via: str = "typed",
    ) -> int:
        """Log the override just made and the re-solved plan.

        ``made``: the one-case overrides this decision made (several for a family
        given as one action); default the last of ``overrides``. ``manager_via`` says
        how its manager's name was known (:data:`MANAGER_VIA`).
        """
        _check_via(manager_via)
        parent = self.decision(parent_id)
        made = list(made) if made else list(overrides[-1:])
        latest = made[-1]
        promised = parent.handovers_sha256
        with self._writing(("handovers_sha256",) if promised else ()) as conn:
            did = self._decision(
                conn,
                kind="override",
                meeting=parent.meeting,
                parent_id=parent_id,
                manager=latest.manager,
                snapshot_sha=parent.snapshot_sha256,
                policy_sha=parent.policy_sha256,
                plan=resolution.plan,
                overrides=overrides,
                stage=None,
                manager_via=manager_via,
                handovers_sha=promised,
            )
            after = resolution.workers(resolution.plan)
            before = resolution.workers(self.plan(parent_id))
            over = {e.case for e in resolution.plan.exceptions if e.waives == "capacity"}
            for one in made:
                # The manager's decision as they made it (the worker chosen or kept off)...
                event = {"choose": "chosen", "exclude": "kept_off"}.get(one.action, "unallocated")
                if one.action == "choose" and one.case in over:
                    event = "chosen_over_cap"
                conn.execute(
                    insert(case_events).values(
                        decision_id=did,
                        case_id=one.case,
                        event=event,
                        worker=one.worker,
                        from_worker=before.get(one.case),
                        reason=one.reason,
                    )
                )
                # ... and where the case ends when that is not what was asked for.
                ends = after.get(one.case)
                moved_on = ends != before.get(one.case)  # kept where it was: no event
                if one.action != "unallocate" and (
                    (one.action == "exclude" and moved_on)
                    or (one.action == "choose" and ends != one.worker)
                ):
                    conn.execute(
                        insert(case_events).values(
                            decision_id=did,
                            case_id=one.case,
                            event="placed" if ends else "unplaced",
                            worker=ends,
                            from_worker=before.get(one.case),
                            reason=None,  # the plan says why (read back by history)
                        )
                    )
            for m in resolution.moved:
                # A child given a first worker is placed, one left with none unplaced.
                consequent = (
                    "placed" if m.before is None else "unplaced" if m.after is None else "moved"
                )
                conn.execute(
                    insert(case_events).values(
                        decision_id=did,
                        case_id=m.case,
                        event=consequent,
                        worker=m.after,
                        from_worker=m.before,
                        reason=None,
                    )
                )
            self._seal(conn, did)
        return did

    def sign_off(self, decision_id: int, manager: str, *, manager_via: str = "typed") -> int:
        """Log a named manager's sign-off of the plan of ``decision_id``; ``manager_via``
        says how their name was known (:data:`MANAGER_VIA`)."""
        _check_via(manager_via)
        signed = self.decision(decision_id)
        plan = self.plan(decision_id)
        promised = signed.handovers_sha256
        with self._writing(("handovers_sha256",) if promised else ()) as conn:
            did = self._decision(
                conn,
                kind="signoff",
                meeting=signed.meeting,
                parent_id=decision_id,
                manager=manager,
                snapshot_sha=signed.snapshot_sha256,
                policy_sha=signed.policy_sha256,
                plan=plan,
                overrides=signed.overrides,
                stage=signed.stage,
                manager_via=manager_via,
                handovers_sha=promised,
            )
            self._events(conn, did, plan, event="signed")
            self._seal(conn, did)
        return did

    def _events(self, conn: Connection, did: int, plan: Plan, *, event: str) -> None:
        rows: list[dict[str, Any]] = [
            {
                "decision_id": did,
                "case_id": a.case,
                "event": event,
                "worker": a.worker,
                "from_worker": a.from_,
                "reason": None,
            }
            for a in plan.assignments
        ]
        rows += [
            {
                "decision_id": did,
                "case_id": u.case,
                "event": event,
                "worker": None,
                "from_worker": None,
                "reason": None,
            }
            for u in plan.unallocated
        ]
        if rows:
            conn.execute(insert(case_events), rows)

    # ---------------------------------------------------------------- reading

    def _row(self, row: Any) -> Decision:
        made = json.loads(row.made_from)
        return Decision(
            id=row.id,
            at=row.at,
            kind=row.kind,
            meeting=row.meeting,
            parent_id=row.parent_id,
            manager=row.manager,
            plan_sha256=row.plan_sha256,
            snapshot_sha256=row.snapshot_sha256,
            policy_sha256=row.policy_sha256,
            stage=row.stage,
            # Read as logged: a name from before a rule on names was added still reads.
            overrides=tuple(
                Override.model_validate(o, context={"stored": True})
                for o in json.loads(row.overrides)
            ),
            settings=json.loads(row.settings),
            made_from=made,
            manager_via=row._mapping.get("manager_via"),
            handovers_sha256=row._mapping.get("handovers_sha256"),
        )

    def decision(self, decision_id: int) -> Decision:
        """One decision.

        Raises
        ------
        LookupError
            If there is no decision ``decision_id``.
        """
        with self.engine.connect() as conn:
            row = conn.execute(
                self._select_decisions().where(decisions.c.id == decision_id)
            ).first()
        if row is None:
            raise LookupError(f"there is no decision {decision_id} in the log")
        return self._row(row)

    def service_snapshots(self, cases: Collection[str]) -> set[str]:
        """The stored snapshots of the service whose children are ``cases`` (a
        snapshot's): those sharing at least half of their children with ``cases``, and
        at least half of ``cases``. A log
        may hold several services, and a child moves between them: a snapshot sharing
        one transferred child with today's is another service's, and a meeting sees
        only its own. (A snapshot so old that most of its children have since left
        is not shown either: ``allocator log`` lists every decision.)"""
        if "snapshot_cases" not in self.tables:
            return set()
        wanted = sorted(cases)
        shared: dict[str, int] = {}
        with self.engine.connect() as conn:
            for start in range(0, len(wanted), 5000):  # within every database's bound
                for sha, n in conn.execute(
                    select(snapshot_cases.c.snapshot_sha256, func.count())
                    .where(snapshot_cases.c.case_id.in_(wanted[start : start + 5000]))
                    .group_by(snapshot_cases.c.snapshot_sha256)
                ):
                    shared[sha] = shared.get(sha, 0) + n
            held: dict[str, int] = {}
            candidates = sorted(shared)
            for start in range(0, len(candidates), 5000):
                for sha, n in conn.execute(
                    select(snapshot_cases.c.snapshot_sha256, func.count())
                    .where(snapshot_cases.c.snapshot_sha256.in_(candidates[start : start + 5000]))
                    .group_by(snapshot_cases.c.snapshot_sha256)
                ):
                    held[sha] = n
        # Half of each side's children: a small service sharing one child with a large
        # one is not the large one's (nor the large one the small one's).
        return {sha for sha, n in shared.items() if 2 * n >= max(held.get(sha, 0), len(wanted))}

    def decisions(
        self, limit: int | None = None, snapshots: Collection[str] | None = None
    ) -> list[Decision]:
        """The decisions, newest first (at most ``limit``); only those made on one of
        ``snapshots`` when given (:meth:`service_snapshots`)."""
        query = self._select_decisions().order_by(decisions.c.id.desc())
        if snapshots is not None:
            query = query.where(decisions.c.snapshot_sha256.in_(sorted(snapshots)))
        if limit is not None:
            query = query.limit(limit)
        with self.engine.connect() as conn:
            return [self._row(r) for r in conn.execute(query)]

    def content(self, sha256: str) -> bytes:
        """A stored input or plan, by its SHA-256."""
        with self.engine.connect() as conn:
            row = conn.execute(select(inputs.c.content).where(inputs.c.sha256 == sha256)).first()
        if row is None:
            raise LookupError(f"no stored input {sha256}")
        content = bytes(row[0])
        if digest(content) != sha256:
            raise LogUnreadable(
                f"the stored input {sha256} was changed after it was written: its bytes "
                f"hash to {digest(content)} (run allocator log --verify)"
            )
        return content

    def plan(self, decision_id: int) -> Plan:
        """The plan of ``decision_id`` as stored (``solve_seconds`` zeroed)."""
        return Plan.model_validate_json(self.content(self.decision(decision_id).plan_sha256))

    def handovers(self, decision: Decision) -> tuple[Handover, ...]:
        """The promised handovers ``decision``'s meeting kept room for (none: ``()``)."""
        if decision.handovers_sha256 is None:
            return ()
        record = PendingHandovers.model_validate_json(self.content(decision.handovers_sha256))
        return record.handovers

    def knows_case(self, case_id: str) -> bool:
        """Whether the log has heard of ``case_id``: a decision about it, or a logged
        snapshot holding it (a case no decision touched has an empty history)."""
        with self.engine.connect() as conn:
            touched = conn.execute(
                select(case_events.c.id).where(case_events.c.case_id == case_id).limit(1)
            ).first()
            if touched is not None:
                return True
            if "snapshot_cases" in self.tables:
                listed = conn.execute(
                    select(snapshot_cases.c.case_id)
                    .where(snapshot_cases.c.case_id == case_id)
                    .limit(1)
                ).first()
                return listed is not None
            # A log made before snapshot_cases: read its snapshots (read-only commands).
            snapshots = conn.execute(select(inputs.c.content).where(inputs.c.kind == "snapshot"))
            return any(
                any(c.get("id") == case_id for c in json.loads(content).get("cases", ()))
                for (content,) in snapshots
            )

    def history(
        self, case_id: str, snapshots: Collection[str] | None = None, limit: int | None = None
    ) -> list[CaseEvent]:
        """Every event of ``case_id``, oldest first (only of decisions made on one of
        ``snapshots`` when given: one service's, :meth:`service_snapshots`; only the
        newest ``limit`` when given: each may read a stored plan).

        An event's ``reason`` is the manager's, as they typed it (``typed``), for
        their own decision; for any other event, the allocator's reasons for the
        case in that decision's stored plan (its assignment's reasons, or its
        unallocated code and reason), which the log keeps only there.
        """
        query = (
            select(
                case_events.c.decision_id,
                decisions.c.at,
                decisions.c.kind,
                case_events.c.event,
                case_events.c.worker,
                case_events.c.from_worker,
                case_events.c.reason,
                decisions.c.manager,
                (
                    decisions.c.manager_via
                    if "manager_via" in self.columns
                    else literal(None, String).label("manager_via")
                ),
                decisions.c.meeting,
                decisions.c.overrides,
            )
            .join(decisions, decisions.c.id == case_events.c.decision_id)
            .where(case_events.c.case_id == case_id)
            .order_by(case_events.c.id.desc())
        )
        if snapshots is not None:
            query = query.where(decisions.c.snapshot_sha256.in_(sorted(snapshots)))
        if limit is not None:
            query = query.limit(limit)
        with self.engine.connect() as conn:
            rows = list(conn.execute(query))[::-1]
        plans: dict[int, dict[str, str]] = {}
        events = []
        for row in rows:
            consequent = row.kind == "override" and row.event in CONSEQUENT_EVENTS
            event = CaseEvent(
                decision_id=row.decision_id,
                at=row.at,
                kind=row.kind,
                event=row.event,
                worker=row.worker,
                from_worker=row.from_worker,
                reason=row.reason,
                manager=None if consequent else row.manager,
                typed=row.reason is not None,
                manager_via=None if consequent else row.manager_via,
                meeting=row.meeting,
                caused_by=_cause(row.overrides) if consequent else None,
            )
            if row.reason is None:
                if row.decision_id not in plans:
                    plans[row.decision_id] = _explained(self.plan(row.decision_id))
                event = replace(event, reason=plans[row.decision_id].get(case_id))
            events.append(event)
        return _with_worker_after(events)

    # ---------------------------------------------------------------- verifying

    def head(self) -> str | None:
        """The last seal's SHA-256 (``None`` for a log without one)."""
        if "seals" not in self.tables:
            return None
        with self.engine.connect() as conn:
            found = conn.execute(
                select(seals.c.sha256).order_by(seals.c.decision_id.desc()).limit(1)
            ).scalar()
        return None if found is None else str(found)

    def verify(self, anchors: Sequence[str] = ()) -> Verification:
        """Walk the chain: every decision sealed, each seal on the one before, each row,
        its case events and its stored inputs as they were written.

        Returns a :class:`Verification` naming the first break. What it finds: a row or
        case event changed or added (its seal differs), a decision removed (the next
        seal does not follow the one before it, or a seal without its decision), a
        seal removed or forged, a stored input whose bytes no longer hash to its key,
        and a log emptied or cut short where the database counts the ids it gave
        (SQLite's ``sqlite_sequence``; PostgreSQL's sequence, as a note). What it
        cannot find alone: the whole chain rewritten from the start by someone with
        the file, or the last decisions removed with their counter; the head hash
        it reports, noted elsewhere and given back as one of ``anchors``, finds those
        (each anchor must be the seal of a decision still in the chain). It also
        checks the guards are in place, as created (:attr:`Verification.unguarded`):
        the triggers dropped, disabled or replaced leave the rows as they were, but
        nothing then refuses the next rewrite.
        """
        if "seals" not in self.tables:
            with self.engine.connect() as conn:
                ids = tuple(conn.execute(select(decisions.c.id).order_by(decisions.c.id)).scalars())
                unguarded = self._unguarded(conn)
            return Verification(len(ids), None, unsealed=ids, unguarded=unguarded)
        with self.engine.connect() as conn:
            chain = {r.decision_id: (r.prev_sha256, r.sha256) for r in conn.execute(select(seals))}
            rows = list(conn.execute(self._select_decisions().order_by(decisions.c.id)))
            known = {r.id for r in rows}
            events: dict[int, list[Any]] = {}
            orphans: list[Any] = []
            for e in conn.execute(select(case_events).order_by(case_events.c.id)):
                (
                    events.setdefault(e.decision_id, []) if e.decision_id in known else orphans
                ).append(e)
            counted, notes = self._counted(conn)
            checked: dict[str, bool] = {}
            # The index of each stored snapshot's children, which decides what a
            # meeting may see (:meth:`service_snapshots`): held equal to the snapshot.
            indexed: dict[str, set[str]] = {}
            if "snapshot_cases" in self.tables:
                for sha, case_id in conn.execute(
                    select(snapshot_cases.c.snapshot_sha256, snapshot_cases.c.case_id)
                ):
                    indexed.setdefault(sha, set()).add(case_id)
            index_checked: dict[str, bool] = {}

            def input_intact(sha: str) -> bool:
                if sha not in checked:
                    found = conn.execute(
                        select(inputs.c.content).where(inputs.c.sha256 == sha)
                    ).first()
                    checked[sha] = found is not None and digest(bytes(found[0])) == sha
                return checked[sha]

            unsealed: list[int] = []
            prev, last, head = GENESIS, None, None
            broken: str | None = None
            lost = sorted(set(chain) - known)
            for row in rows:
                if lost and lost[0] < row.id:
                    broken = f"decision {lost[0]} was removed: its seal is there, its row is not"
                    break
                seal = chain.get(row.id)
                if seal is None:
                    if last is None:
                        unsealed.append(row.id)
                        continue
                    broken = (
                        f"decision {row.id} carries no seal, though decision {last} before "
                        "it does: its seal was removed, or the row was written outside "
                        "allocator"
                    )
                    break
                if seal[0] != prev:
                    since = f"decision {last}" if last is not None else "the start of the chain"
                    broken = (
                        f"decision {row.id} does not follow {since}: a decision between "
                        "them was removed, or its seal was forged"
                    )
                    break
                if seal_digest(prev, row, events.get(row.id, [])) != seal[1]:
                    broken = (
                        f"decision {row.id} was changed after it was written: its row or "
                        "its case events differ from its seal"
                    )
                    break
                bad = [
                    (kind, sha)
                    for kind, sha in (
                        ("snapshot", row.snapshot_sha256),
                        ("policy", row.policy_sha256),
                        ("plan", row.plan_sha256),
                        ("handovers", row._mapping.get("handovers_sha256")),
                    )
                    if sha is not None and not input_intact(sha)
                ]
                if bad:
                    kind, sha = bad[0]
                    broken = (
                        f"decision {row.id}: its stored {kind} {sha[:16]} was changed or "
                        "removed (its bytes no longer hash to its SHA-256)"
                    )
                    break
                sha = row.snapshot_sha256
                if "snapshot_cases" in self.tables and sha not in index_checked:
                    stored = conn.execute(
                        select(inputs.c.content).where(inputs.c.sha256 == sha)
                    ).scalar_one()
                    listed = {c.get("id") for c in json.loads(stored).get("cases", ())}
                    index_checked[sha] = indexed.get(sha, set()) == listed
                if not index_checked.get(sha, True):
                    broken = (
                        f"decision {row.id}: the index of its stored snapshot {sha[:16]}'s "
                        "children (snapshot_cases) differs from the snapshot: rows were "
                        "added or removed, which changes what a meeting may see"
                    )
                    break
                prev, last, head = seal[1], row.id, seal[1]
            if broken is None and lost:
                broken = f"decision {lost[0]} was removed: its seal is there, its row is not"
            sealed = {sha for _, sha in chain.values()}
            for anchor in anchors:
                if broken is None and anchor.lower() not in sealed:
                    broken = (
                        f"the chain head noted earlier, {anchor[:16]}, is not in the log: "
                        "decisions were removed from its end, or the log was rewritten"
                    )
            if broken is None and orphans:
                broken = (
                    f"case event {orphans[0].id} names decision {orphans[0].decision_id}, "
                    "which is not in the log"
                )
            top = rows[-1].id if rows else 0
            if broken is None and counted is not None and counted > top:
                broken = (
                    f"the log was emptied: the database counted {counted} decisions, none is left"
                    if not rows
                    else f"decisions {top + 1} to {counted} were removed from the end of "
                    f"the log (the database counted {counted})"
                )
            stray = sorted(set(indexed) - set(index_checked))
            if broken is None and stray and not unsealed:
                broken = (
                    f"the index of children (snapshot_cases) names snapshot {stray[0][:16]}, "
                    "which no decision was made on: rows were added"
                )
            unguarded = self._unguarded(conn)
        return Verification(len(rows), head, tuple(unsealed), broken, notes, unguarded)

    def _unguarded(self, conn: Connection) -> tuple[str, ...]:
        """The guards on this log's tables that are not in place, each with what is
        wrong: missing, or (PostgreSQL) disabled, or no longer the guard that was
        created (another statement, a condition, a function that lets the row by)."""
        tables = [t for t in _TABLES if t in self.tables]
        if self.dialect == "sqlite":
            found = {
                name: _one_line(sql)
                for name, sql in conn.exec_driver_sql(
                    "SELECT name, sql FROM sqlite_master WHERE type = 'trigger'"
                )
            }
            wrong = []
            for table in tables:
                for name, sql in _sqlite_guards(table).items():
                    # Stored as created, less IF NOT EXISTS (SQLite drops it).
                    expected = _one_line(sql.replace(" IF NOT EXISTS", "", 1))
                    if name not in found:
                        wrong.append(f"{name} (missing)")
                    elif found[name] != expected:
                        wrong.append(f"{name} (changed)")
            return tuple(wrong)
        rows: dict[str, Any] = {}
        for table in tables:
            for trigger in conn.execute(
                text(
                    "SELECT t.tgname, t.tgtype, t.tgenabled, t.tgqual IS NULL AS always, "
                    "p.proname, p.prosrc FROM pg_trigger t JOIN pg_proc p ON p.oid = t.tgfoid "
                    "WHERE NOT t.tgisinternal AND t.tgrelid = to_regclass(:table)"
                ),
                {"table": table},
            ):
                rows[trigger.tgname] = trigger
        wrong = []
        for table in tables:
            for suffix, (per_row, events) in _POSTGRESQL_GUARDS.items():
                name = f"{table}_{suffix}"
                guard = rows.get(name)
                if guard is None:
                    wrong.append(f"{name} (missing)")
                elif guard.tgenabled not in ("O", "A"):  # D: disabled; R: on replicas only
                    wrong.append(f"{name} (disabled)")
                elif (
                    guard.tgtype != _postgresql_tgtype(per_row, events)
                    or not guard.always
                    or guard.proname != "allocator_append_only"
                    or _one_line(guard.prosrc) != _POSTGRESQL_REFUSAL
                ):
                    wrong.append(f"{name} (changed)")
        return tuple(wrong)

    def _counted(self, conn: Connection) -> tuple[int | None, tuple[str, ...]]:
        """The highest decision id the database gave (SQLite), or a note (PostgreSQL)."""
        if self.dialect == "sqlite":
            if "sqlite_sequence" not in set(
                r for (r,) in conn.exec_driver_sql("SELECT name FROM sqlite_master")
            ):
                return None, ()
            seq = conn.exec_driver_sql(
                "SELECT seq FROM sqlite_sequence WHERE name = 'decisions'"
            ).scalar()
            return (int(seq) if seq is not None else None), ()
        given = conn.execute(
            text("SELECT pg_sequence_last_value(pg_get_serial_sequence('decisions', 'id'))")
        ).scalar()
        top = conn.execute(select(decisions.c.id).order_by(decisions.c.id.desc()).limit(1)).scalar()
        if given is not None and int(given) > (top or 0):
            if top is None:
                return int(given), ()  # every decision gone: that is no failed write
            return None, (
                f"PostgreSQL gave decision ids up to {given}, the last in the log is {top}: "
                "a write that failed, or decisions removed from the end",
            )
        return None, ()


#: The events a manager's override writes for the case they decided about; a
#: ``placed`` or ``unplaced`` event of the same decision follows where the child did not
#: end as asked (kept off their worker and moved on, or a choice not honoured).
MANAGER_EVENTS = frozenset({"chosen", "chosen_over_cap", "kept_off", "unallocated"})


def _with_worker_after(events: list[CaseEvent]) -> list[CaseEvent]:
    """``events`` of one child, each with :attr:`CaseEvent.worker_after` set."""
    ended = {e.decision_id: e.worker for e in events if e.event in ("placed", "unplaced")}
    out = []
    for e in events:
        if e.event in MANAGER_EVENTS and e.decision_id in ended:
            after = ended[e.decision_id]
        elif e.event == "kept_off":
            after = e.from_worker  # kept off another worker: the child stayed
        else:
            after = e.worker
        out.append(replace(e, worker_after=after))
    return out


def _cause(overrides_json: str) -> str:
    """The override a re-solve followed, in words, from a decision's ``overrides``."""
    made = json.loads(overrides_json)
    if not made:
        return "the re-solve"
    o = made[-1]
    named = str(o["case"])
    if o.get("family"):
        # A family given as one action is its children's overrides, last in the list:
        # name them all, not only the last sibling.
        run = []
        for x in reversed(made):
            same = all(x.get(k) == o.get(k) for k in ("worker", "manager", "reason", "family"))
            if not same:
                break
            run.append(str(x["case"]))
        named = " + ".join(reversed(run))
    what = str(o["action"]) + (f" {o['worker']}" if o.get("worker") else "")
    if o.get("over_cap"):
        what += " over cap"
    if o.get("family"):
        what += " with the family"
    if o.get("make_room"):
        what += ", making room"
    return f"re-solve after {o['manager']}'s override of {named}: {what}"


def snapshot_bytes(snapshot: Snapshot) -> bytes:
    """The bytes the log stores of a snapshot (its SHA-256 is the snapshot's key)."""
    return dump_json(snapshot).encode()


def handovers_bytes(snapshot: Snapshot, handovers: Sequence[Handover]) -> bytes:
    """The bytes the log stores of the handovers a meeting kept room for: a pending
    handovers record (docs/FORMAT.md) of the snapshot's day, in the order given."""
    record = PendingHandovers(as_of=snapshot.as_of, handovers=tuple(handovers))
    return dump_json(record).encode()


def policy_bytes(policy: Policy) -> bytes:
    """The bytes the log stores of a policy (its SHA-256 is the policy's key)."""
    return policy.model_dump_json().encode()


def _explained(plan: Plan) -> dict[str, str]:
    """Case -> the plan's reasons for it: its assignment's, or why it is unallocated."""
    out = {a.case: "; ".join(a.reasons) for a in plan.assignments if a.reasons}
    # The reason in words: the code is the plan's, for machines (a fresh trial read
    # "no_capacity: ..." in the history).
    out.update({u.case: u.reason for u in plan.unallocated})
    return out


def replay(log: DecisionLog, decision_id: int) -> Replay:
    """Re-solve decision ``decision_id`` from its stored inputs; compare the bytes.

    A proposed plan is solved again from the stored snapshot, policy and settings; an
    override's from its parent's plan and the overrides in effect; a sign-off's as
    the decision it signed. Each with the promised handovers its meeting kept room
    for, when it had any (stored as an input).
    """
    d = log.decision(decision_id)
    while d.kind == "signoff" and d.parent_id is not None:
        d = log.decision(d.parent_id)
    snapshot = Snapshot.model_validate_json(log.content(d.snapshot_sha256))
    policy = Policy.model_validate_json(log.content(d.policy_sha256))
    stored = log.content(d.plan_sha256)
    handovers = log.handovers(d)
    if d.kind == "proposed":
        from allocator.contract.models import MadeFrom
        from allocator.meeting.overrides import allow_moves, solver_settings
        from allocator.problems.daily import allocate

        made = Plan.model_validate_json(stored)
        plan = allocate(
            snapshot,
            policy,
            solver_settings(made),
            allow_moves=allow_moves(made),
            handovers=handovers,
        ).model_copy(
            update={"made_from": MadeFrom.model_validate(d.made_from) if d.made_from else None}
        )
    else:
        assert d.parent_id is not None
        parent = log.plan(d.parent_id)
        earlier = log.decision(d.parent_id).overrides
        plan = resolve(
            snapshot, policy, parent, d.overrides, handovers=handovers, earlier=earlier
        ).plan
    again = canonical_plan(plan)
    return Replay(decision_id, digest(stored), digest(again), again)
