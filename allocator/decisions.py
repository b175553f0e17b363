"""The decision log: every proposed plan, override and sign-off, append-only, in SQL.

SQLAlchemy 2 over SQLite (a local file, the default) or PostgreSQL (``--db
postgresql://user@host/db``, driven by psycopg 3). Three tables:

* ``inputs``: each distinct input, content-addressed by SHA-256: the snapshot as
  loaded (referrals merged, canonical JSON), the policy (canonical JSON), and each plan
  (canonical bytes, :func:`allocator.meeting.canonical_plan`).
* ``decisions``: one row per decision (``proposed``, ``override``, ``signoff``), with
  when, the meeting, the decision it follows, the manager's name as typed, the input
  and plan hashes, the settings, and the overrides in effect.
* ``case_events``: one row per case a decision touches: the worker it gets (or
  none), the worker it leaves, and the event; a reason only for a manager's own
  decision, as they typed it. The allocator's sentences (why a worker, why nobody)
  are not copied there: :meth:`DecisionLog.history` reads them from the decision's
  stored plan.

Nothing here updates or deletes a row, and the database refuses to (a trigger on each
table, on SQLite and PostgreSQL alike). The rows of ``decisions`` and ``case_events``
hold pseudonymous ids (case and worker ids of the snapshot), event kinds, hashes,
settings and the overrides, and no free text but what a manager typed (their name and
reasons). The inputs and the allocator's own output (each plan, with its sentences,
which the replay compares byte for byte) are stored once each in ``inputs``.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime
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
    insert,
    select,
)
from sqlalchemy.engine import Connection, Engine

from allocator.io import dump_json
from allocator.meeting import (
    Override,
    Resolution,
    canonical_plan,
    digest,
    final_workers,
    resolve,
)
from allocator.models import Plan, Snapshot
from allocator.policy import Policy

DEFAULT_DB = "sqlite:///decisions.db"
"""The log's default URL: a SQLite file in the current folder."""

metadata = MetaData()

inputs = Table(
    "inputs",
    metadata,
    Column("sha256", String(64), primary_key=True),
    Column("kind", String(16), nullable=False),  # snapshot, policy, plan
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
    Column("manager", String(200), nullable=True),  # as the manager typed it
    Column("snapshot_sha256", String(64), ForeignKey("inputs.sha256"), nullable=False),
    Column("policy_sha256", String(64), ForeignKey("inputs.sha256"), nullable=False),
    Column("plan_sha256", String(64), ForeignKey("inputs.sha256"), nullable=False),
    Column("made_from", Text, nullable=False),  # JSON: the files and their SHA-256
    Column("settings", Text, nullable=False),  # JSON: the solver settings
    Column("overrides", Text, nullable=False),  # JSON: every override in effect
    # Empty: the stage an override's re-solve reached when it took up to three (logs
    # written before the one-solve re-solve); kept so that those logs still read.
    Column("stage", Integer, nullable=True),
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
)

_TABLES = ("inputs", "decisions", "case_events")

# Append-only, enforced by the database itself, not only by this module's habits.
for _name in _TABLES:
    for _trigger, _statement in (("append_only", "UPDATE"), ("no_delete", "DELETE")):
        event.listen(
            metadata.tables[_name],
            "after_create",
            DDL(  # type: ignore[no-untyped-call]
                f"CREATE TRIGGER {_name}_{_trigger} BEFORE {_statement} ON {_name} "
                "BEGIN SELECT RAISE(ABORT, 'the decision log is append-only'); END"
            ).execute_if(dialect="sqlite"),
        )
    event.listen(
        metadata.tables[_name],
        "after_create",
        DDL(  # type: ignore[no-untyped-call]
            "CREATE OR REPLACE FUNCTION allocator_append_only() RETURNS trigger "
            "LANGUAGE plpgsql AS $$ BEGIN "
            "RAISE EXCEPTION 'the decision log is append-only'; END $$; "
            f"CREATE TRIGGER {_name}_append_only BEFORE UPDATE OR DELETE ON {_name} "
            "FOR EACH ROW EXECUTE FUNCTION allocator_append_only()"
        ).execute_if(dialect="postgresql"),
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

    def to_dict(self) -> dict[str, Any]:
        """Plain data for JSON."""
        return {
            "id": self.id,
            "at": self.at,
            "kind": self.kind,
            "meeting": self.meeting,
            "parent_id": self.parent_id,
            "manager": self.manager,
            "plan_sha256": self.plan_sha256,
            "snapshot_sha256": self.snapshot_sha256,
            "policy_sha256": self.policy_sha256,
            "stage": self.stage,
            "overrides": [o.model_dump() for o in self.overrides],
            "settings": self.settings,
            "made_from": self.made_from,
        }


@dataclass(frozen=True)
class CaseEvent:
    """One step of a child's allocation story (:meth:`DecisionLog.history`)."""

    decision_id: int
    at: str
    kind: str
    event: str
    worker: str | None
    from_worker: str | None
    reason: str | None
    manager: str | None
    typed: bool = False

    def to_dict(self) -> dict[str, Any]:
        """Plain data for JSON."""
        return dict(self.__dict__)


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


class DecisionLog:
    """The append-only log at ``url`` (tables created when missing).

    Parameters
    ----------
    url
        A SQLAlchemy URL, a ``postgresql://`` URL, or a path to a SQLite file.
    """

    def __init__(self, url: str = DEFAULT_DB) -> None:
        self.url = database_url(url)
        backend = self.url.split("://", 1)[0].partition("+")[0].lower()
        if backend not in SUPPORTED_BACKENDS:
            raise UnsupportedDatabase(
                f"{backend!r} is not supported, expected a SQLite file or a postgresql:// URL"
            )
        self.engine: Engine = create_engine(self.url)
        metadata.create_all(self.engine)

    def close(self) -> None:
        """Release the database connections."""
        self.engine.dispose()

    @contextmanager
    def _writing(self) -> Iterator[Connection]:
        with self.engine.begin() as conn:
            yield conn

    def _store(self, conn: Connection, kind: str, content: bytes) -> str:
        sha = digest(content)
        found = conn.execute(select(inputs.c.sha256).where(inputs.c.sha256 == sha)).first()
        if found is None:
            conn.execute(insert(inputs).values(sha256=sha, kind=kind, content=content))
        return sha

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
    ) -> int:
        plan_sha = self._store(conn, "plan", canonical_plan(plan))
        made = plan.made_from.model_dump(mode="json") if plan.made_from else None
        result = conn.execute(
            insert(decisions).values(
                at=_now(),
                kind=kind,
                meeting=meeting,
                parent_id=parent_id,
                manager=manager,
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

    def propose(self, snapshot: Snapshot, policy: Policy, plan: Plan) -> tuple[str, int]:
        """Log a proposed plan and its inputs; returns ``(meeting, decision id)``."""
        meeting = secrets.token_hex(8)
        with self._writing() as conn:
            snap_sha = self._store(conn, "snapshot", dump_json(snapshot).encode())
            pol_sha = self._store(conn, "policy", policy.model_dump_json().encode())
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
            )
            self._events(conn, did, plan, event="proposed")
        return meeting, did

    def override(
        self,
        parent_id: int,
        overrides: Sequence[Override],
        resolution: Resolution,
    ) -> int:
        """Log the latest override (the last of ``overrides``) and the re-solved plan."""
        parent = self.decision(parent_id)
        latest = overrides[-1]
        with self._writing() as conn:
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
            )
            after = final_workers(resolution.plan)
            before = final_workers(self.plan(parent_id))
            # The manager's decision as they made it (the worker chosen or kept off)...
            conn.execute(
                insert(case_events).values(
                    decision_id=did,
                    case_id=latest.case,
                    event={"choose": "chosen", "exclude": "kept_off"}.get(
                        latest.action, "unallocated"
                    ),
                    worker=latest.worker,
                    from_worker=before.get(latest.case),
                    reason=latest.reason,
                )
            )
            # ... and where the case ends when that is not what was asked for.
            ends = after.get(latest.case)
            if latest.action != "unallocate" and (
                latest.action == "exclude" or ends != latest.worker
            ):
                conn.execute(
                    insert(case_events).values(
                        decision_id=did,
                        case_id=latest.case,
                        event="placed" if ends else "unplaced",
                        worker=ends,
                        from_worker=before.get(latest.case),
                        reason=None,  # the plan says why (read back by history)
                    )
                )
            for m in resolution.moved:
                conn.execute(
                    insert(case_events).values(
                        decision_id=did,
                        case_id=m.case,
                        event="moved",
                        worker=m.after,
                        from_worker=m.before,
                        reason=None,
                    )
                )
        return did

    def sign_off(self, decision_id: int, manager: str) -> int:
        """Log a named manager's sign-off of the plan of ``decision_id``."""
        signed = self.decision(decision_id)
        plan = self.plan(decision_id)
        with self._writing() as conn:
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
            )
            self._events(conn, did, plan, event="signed")
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
            overrides=tuple(Override.model_validate(o) for o in json.loads(row.overrides)),
            settings=json.loads(row.settings),
            made_from=made,
        )

    def decision(self, decision_id: int) -> Decision:
        """One decision.

        Raises
        ------
        LookupError
            If there is no decision ``decision_id``.
        """
        with self.engine.connect() as conn:
            row = conn.execute(select(decisions).where(decisions.c.id == decision_id)).first()
        if row is None:
            raise LookupError(f"there is no decision {decision_id} in the log")
        return self._row(row)

    def decisions(self, limit: int | None = None) -> list[Decision]:
        """The decisions, newest first (at most ``limit``)."""
        query = select(decisions).order_by(decisions.c.id.desc())
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
        return bytes(row[0])

    def plan(self, decision_id: int) -> Plan:
        """The plan of ``decision_id`` as stored (``solve_seconds`` zeroed)."""
        return Plan.model_validate_json(self.content(self.decision(decision_id).plan_sha256))

    def knows_case(self, case_id: str) -> bool:
        """Whether the log has heard of ``case_id``: a decision about it, or a logged
        snapshot holding it (a case no decision touched has an empty history)."""
        with self.engine.connect() as conn:
            touched = conn.execute(
                select(case_events.c.id).where(case_events.c.case_id == case_id).limit(1)
            ).first()
            if touched is not None:
                return True
            snapshots = conn.execute(select(inputs.c.content).where(inputs.c.kind == "snapshot"))
            return any(
                any(c.get("id") == case_id for c in json.loads(content).get("cases", ()))
                for (content,) in snapshots
            )

    def history(self, case_id: str) -> list[CaseEvent]:
        """Every event of ``case_id``, oldest first.

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
            )
            .join(decisions, decisions.c.id == case_events.c.decision_id)
            .where(case_events.c.case_id == case_id)
            .order_by(case_events.c.id)
        )
        with self.engine.connect() as conn:
            rows = list(conn.execute(query))
        plans: dict[int, dict[str, str]] = {}
        events = []
        for row in rows:
            event = CaseEvent(*row, typed=row.reason is not None)
            if row.reason is None:
                if row.decision_id not in plans:
                    plans[row.decision_id] = _explained(self.plan(row.decision_id))
                event = replace(event, reason=plans[row.decision_id].get(case_id))
            events.append(event)
        return events


def _explained(plan: Plan) -> dict[str, str]:
    """Case -> the plan's reasons for it: its assignment's, or why it is unallocated."""
    out = {a.case: "; ".join(a.reasons) for a in plan.assignments if a.reasons}
    out.update({u.case: f"{u.code}: {u.reason}" for u in plan.unallocated})
    return out


def replay(log: DecisionLog, decision_id: int) -> Replay:
    """Re-solve decision ``decision_id`` from its stored inputs; compare the bytes.

    A proposed plan is solved again from the stored snapshot, policy and settings; an
    override's from its parent's plan and the overrides in effect; a sign-off's as
    the decision it signed.
    """
    d = log.decision(decision_id)
    while d.kind == "signoff" and d.parent_id is not None:
        d = log.decision(d.parent_id)
    snapshot = Snapshot.model_validate_json(log.content(d.snapshot_sha256))
    policy = Policy.model_validate_json(log.content(d.policy_sha256))
    stored = log.content(d.plan_sha256)
    if d.kind == "proposed":
        from allocator.daily import allocate
        from allocator.meeting import solver_settings
        from allocator.models import MadeFrom

        plan = allocate(
            snapshot, policy, **solver_settings(Plan.model_validate_json(stored))
        ).model_copy(
            update={"made_from": MadeFrom.model_validate(d.made_from) if d.made_from else None}
        )
    else:
        assert d.parent_id is not None
        plan = resolve(snapshot, policy, log.plan(d.parent_id), d.overrides).plan
    again = canonical_plan(plan)
    return Replay(decision_id, digest(stored), digest(again), again)
