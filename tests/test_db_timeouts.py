"""A database that holds a lock or stalls mid-query stops a command with one sentence.

Written as the attack (issue 24): another session holds the SSD database, or the
decision log, locked, and ``import ssd``, ``log``, ``history``, ``serve`` and the
meeting's writes are asked to use it. Each must stop after the statement timeout
(cut to 1 second here; 60 by default) with one line naming the database and what
timed out, exit 2 (503 for a request), never hang and never print a traceback. SQLite
always; PostgreSQL when ``ALLOCATOR_TEST_POSTGRES`` names a server (tests/needs.py).
"""

from __future__ import annotations

import secrets
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa
from builders import case, snapshot, worker
from click.testing import CliRunner
from fastapi.testclient import TestClient

import allocator.meeting.log
import allocator.ssd.tables
from allocator.cli import main
from allocator.contract.policy import Policy
from allocator.io import write_snapshot
from allocator.meeting.log import DecisionLog, database_url
from allocator.problems.daily import allocate
from allocator.web.app import Meeting, create_app
from tests.needs import postgres_url
from tests.test_ssd_database import load
from tests.test_ssd_import import EXAMPLE

#: Seconds the tests allow a command that must stop after a 1-second timeout.
PATIENCE = 15


@pytest.fixture(autouse=True)
def short_timeouts(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(allocator.ssd.tables, "STATEMENT_TIMEOUT", 1.0)
    monkeypatch.setattr(allocator.meeting.log, "STATEMENT_TIMEOUT", 1.0)


@contextmanager
def sqlite_locked(path: Path) -> Iterator[None]:
    """Another session holds ``path`` locked (an exclusive transaction) meanwhile."""
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        yield
    finally:
        holder.execute("ROLLBACK")
        holder.close()


@contextmanager
def pg_locked(url: str, table: str) -> Iterator[None]:
    """Another session holds ``table`` of the PostgreSQL database ``url`` locked."""
    engine = sa.create_engine(database_url(url))
    with engine.connect() as conn:
        conn.execute(sa.text(f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE"))
        try:
            yield
        finally:
            conn.rollback()
    engine.dispose()


def one_line_timeout(args: list[str], where: str) -> str:
    started = time.monotonic()
    result = CliRunner().invoke(main, args)
    assert time.monotonic() - started < PATIENCE
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    error = next(line for line in lines if line.startswith("error: "))
    assert "timed out" in error and "statement timeout" in error and where in error, error
    assert "Traceback" not in result.output
    return error


# ---------------------------------------------------------------- import ssd


def import_args(url: str, tmp_path: Path) -> list[str]:
    return ["import", "ssd", url, "--mapping", str(EXAMPLE / "mapping.toml"),
            "--as-of", "2026-11-23", "--out", str(tmp_path / "snap.json")]  # fmt: skip


def test_import_ssd_from_a_locked_sqlite_database_stops(tmp_path: Path) -> None:
    path = tmp_path / "ssd.db"
    engine = sa.create_engine(f"sqlite:///{path}")
    load(engine, EXAMPLE / "extract")
    engine.dispose()
    with sqlite_locked(path):
        error = one_line_timeout(import_args(f"sqlite:///{path}", tmp_path), str(path))
    assert "1-second" in error and not (tmp_path / "snap.json").exists()


@pytest.fixture
def pg_database() -> Iterator[str]:
    """A fresh PostgreSQL database's URL, dropped afterwards."""
    server = sa.create_engine(database_url(postgres_url()), isolation_level="AUTOCOMMIT")
    name = f"allocator_timeout_{secrets.token_hex(4)}"
    with server.connect() as conn:
        conn.execute(sa.text(f"CREATE DATABASE {name}"))
    try:
        yield postgres_url().rsplit("/", 1)[0] + f"/{name}"
    finally:
        with server.connect() as conn:
            conn.execute(sa.text(f"DROP DATABASE {name} WITH (FORCE)"))
        server.dispose()


def test_import_ssd_from_a_locked_postgresql_table_stops(pg_database: str, tmp_path: Path) -> None:
    engine = sa.create_engine(database_url(pg_database))
    load(engine, EXAMPLE / "extract")
    engine.dispose()
    with pg_locked(pg_database, "ssd_person"):
        one_line_timeout(import_args(pg_database, tmp_path), pg_database.split("@")[1])


# ---------------------------------------------------------------- the decision log


def logged(url: str) -> None:
    """A log at ``url`` holding one proposed plan."""
    snap, policy = snapshot([worker("A")], [case("R1")]), Policy()
    log = DecisionLog(url)
    log.propose(snap, policy, allocate(snap, policy, work_units=0.5))
    log.close()


@pytest.mark.parametrize("command", [["log"], ["log", "--verify"], ["history", "R1"]])
def test_reading_a_locked_sqlite_log_stops(tmp_path: Path, command: list[str]) -> None:
    db = tmp_path / "log.db"
    logged(str(db))
    with sqlite_locked(db):
        error = one_line_timeout([*command, "--db", str(db)], str(db))
    assert "the decision log" in error


@pytest.mark.parametrize("command", [["log"], ["log", "--verify"], ["history", "R1"]])
def test_reading_a_locked_postgresql_log_stops(pg_database: str, command: list[str]) -> None:
    logged(pg_database)
    with pg_locked(pg_database, "decisions"):
        one_line_timeout([*command, "--db", pg_database], pg_database.split("@")[1])


def test_serve_on_a_locked_sqlite_log_stops(tmp_path: Path) -> None:
    db = tmp_path / "log.db"
    logged(str(db))
    write_snapshot(snapshot([worker("A")], [case("R1")]), tmp_path / "s.json")
    with sqlite_locked(db):
        one_line_timeout(["serve", str(tmp_path / "s.json"), "--db", str(db), "--port", "0"],
                         str(db))  # fmt: skip


def test_serve_on_a_locked_postgresql_log_stops(pg_database: str, tmp_path: Path) -> None:
    logged(pg_database)
    write_snapshot(snapshot([worker("A")], [case("R1")]), tmp_path / "s.json")
    with pg_locked(pg_database, "decisions"):
        one_line_timeout(
            ["serve", str(tmp_path / "s.json"), "--db", pg_database, "--port", "0"],
            pg_database.split("@")[1],
        )


def test_a_meeting_whose_log_is_locked_answers_503(tmp_path: Path) -> None:
    # The log locked by another process while the meeting runs: the override is refused
    # with one sentence, nothing is logged, and the meeting goes on once it is free.
    db = tmp_path / "log.db"
    snap, policy = snapshot([worker("A"), worker("B")], [case("R1"), case("R2")]), Policy()
    log = DecisionLog(str(db))
    meeting = Meeting.open(snap, policy, log, allocate(snap, policy, work_units=1.0))
    client = TestClient(create_app(meeting, allowed_hosts=["testserver"]))
    body = {"case": "R1", "action": "unallocate", "reason": "r", "manager": "Ann"}
    with sqlite_locked(db):
        refused = client.post("/overrides", json=body)
    assert refused.status_code == 503
    assert "statement timeout" in refused.json()["detail"] and "R1" not in refused.text
    assert [d.kind for d in log.decisions()] == ["proposed"] and meeting.overrides == []
    assert client.post("/overrides", json=body).status_code == 200
    log.close()
