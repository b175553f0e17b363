"""The decision log attacked: each rewrite refused by the database or found by the chain.

Written as the attack (issue 24): a REPLACE over a decision, a case event and a stored
input; rows changed, removed, added or re-sealed behind the triggers' back (as the
file's owner can); a log truncated to 0 bytes, emptied, cut short or corrupted; and, on
PostgreSQL, the documented owner / writer roles: the writer may only insert and read,
and what the owner (or a superuser) does anyway is found by ``--verify``.
"""

from __future__ import annotations

import json
import secrets
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from builders import case, snapshot, worker
from click.testing import CliRunner
from fastapi.testclient import TestClient
from needs import postgres_url

from allocator.cli import main
from allocator.contract.policy import Policy
from allocator.meeting.log import DecisionLog, LogUnreadable, database_url, snapshot_bytes
from allocator.meeting.overrides import Override, digest, final_workers, resolve
from allocator.problems.daily import allocate
from allocator.web.app import Meeting, create_app

POLICY = Policy()


def meeting(log: DecisionLog) -> tuple[int, int, int]:
    """Propose, override, sign off on a tiny service: the three decision ids."""
    snap = snapshot(
        [worker("A", capacity_points=3), worker("B", capacity_points=3)],
        [case("R1"), case("R2")],
    )
    plan = allocate(snap, POLICY, work_units=1.0)
    _, proposed = log.propose(snap, POLICY, plan)
    on_b = next(c for c, w in final_workers(plan).items() if w == "B")
    other = "R1" if on_b == "R2" else "R2"
    overrides = [
        Override(case=other, action="choose", worker="B", reason="knows the family", manager="Ann")
    ]
    changed = log.override(proposed, overrides, resolve(snap, POLICY, plan, overrides))
    signed = log.sign_off(changed, "Ann Smith")
    return proposed, changed, signed


@pytest.fixture
def db(tmp_path: Path) -> str:
    """A SQLite log holding one meeting (decisions 1, 2, 3)."""
    path = str(tmp_path / "log.db")
    log = DecisionLog(path)
    assert meeting(log) == (1, 2, 3)
    log.close()
    return path


def raw(path: str) -> sqlite3.Connection:
    """The file as its owner can open it: any statement, autocommit."""
    return sqlite3.connect(path, isolation_level=None)


def verify(db: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["log", "--verify", "--db", db])
    return result.exit_code, result.output


# ---------------------------------------------------------------- SQLite refuses


@pytest.mark.parametrize(
    "statement",
    [
        "INSERT OR REPLACE INTO decisions SELECT id, at, kind, meeting, parent_id, 'Eve', "
        "snapshot_sha256, policy_sha256, plan_sha256, made_from, settings, overrides, stage, "
        "manager_via, handovers_sha256 FROM decisions WHERE id = 3",
        "REPLACE INTO case_events (id, decision_id, case_id, event, worker, from_worker, "
        "reason) SELECT id, decision_id, case_id, event, worker, from_worker, 'forged' "
        "FROM case_events WHERE reason IS NOT NULL",
        "REPLACE INTO inputs (sha256, kind, content) SELECT sha256, kind, X'7B7D' FROM inputs "
        "WHERE kind = 'snapshot'",
        "INSERT INTO decisions SELECT * FROM decisions WHERE id = 1 "
        "ON CONFLICT(id) DO UPDATE SET manager = 'Eve'",
        "REPLACE INTO seals (decision_id, prev_sha256, sha256) SELECT decision_id, "
        "prev_sha256, 'f' FROM seals WHERE decision_id = 2",
        "UPDATE decisions SET manager = 'Eve'",
        "DELETE FROM case_events",
        "DELETE FROM seals",
    ],
    ids=["replace-decision", "replace-event", "replace-input", "upsert", "replace-seal",
         "update", "delete", "delete-seals"],
)  # fmt: skip
def test_sqlite_refuses_every_rewrite(db: str, statement: str) -> None:
    with raw(db) as conn, pytest.raises(sqlite3.IntegrityError, match="append-only"):
        conn.execute(statement)
    assert verify(db)[0] == 0


def test_a_log_made_before_the_guards_gets_them_when_served(tmp_path: Path) -> None:
    path = str(tmp_path / "old.db")
    DecisionLog(path).close()
    with raw(path) as conn:
        conn.execute("DROP TRIGGER decisions_no_replace")
    DecisionLog(path).close()  # serve opens it to write
    with raw(path) as conn:
        names = {n for (n,) in conn.execute("SELECT name FROM sqlite_master WHERE type='trigger'")}
    assert "decisions_no_replace" in names


# ---------------------------------------------------------------- the chain finds


def test_an_intact_log_verifies(db: str) -> None:
    code, out = verify(db)
    assert code == 0, out
    assert "intact: 3 decisions, each sealed, and its guards in place; chain head sha256 " in out
    result = CliRunner().invoke(main, ["log", "--verify", "--json", "--db", db])
    data = json.loads(result.output)
    assert data["intact"] and data["decisions"] == 3 and len(data["head_sha256"]) == 64


def without_guards(path: str) -> sqlite3.Connection:
    """The file's owner drops the triggers, as anybody holding the file can."""
    conn = raw(path)
    for (name,) in list(conn.execute("SELECT name FROM sqlite_master WHERE type='trigger'")):
        conn.execute(f"DROP TRIGGER {name}")
    return conn


#: Each rewrite behind the triggers' back, and the break ``--verify`` names for it.
TAMPERS = [
    ("UPDATE decisions SET manager = 'Eve' WHERE id = 3",
     "decision 3 was changed after it was written"),
    ("UPDATE case_events SET reason = 'forged' WHERE reason IS NOT NULL",
     "decision 2 was changed after it was written"),
    ("INSERT INTO case_events (decision_id, case_id, event) VALUES (2, 'R9', 'chosen')",
     "decision 2 was changed after it was written"),
    ("DELETE FROM case_events WHERE decision_id = 1",
     "decision 1 was changed after it was written"),
    ("UPDATE inputs SET content = X'7B7D' WHERE kind = 'policy'",
     "decision 1: its stored policy"),
    ("DELETE FROM seals WHERE decision_id = 2", "decision 2 carries no seal"),
    ("DELETE FROM decisions WHERE id = 2",
     "decision 2 was removed: its seal is there, its row is not"),
    ("DELETE FROM seals WHERE decision_id = 2; DELETE FROM decisions WHERE id = 2; "
     "DELETE FROM case_events WHERE decision_id = 2",
     "decision 3 does not follow decision 1"),
    ("UPDATE seals SET sha256 = "
     "(CASE WHEN substr(sha256, 1, 1) = 'f' THEN '0' ELSE 'f' END) || substr(sha256, 2) "
     "WHERE decision_id = 3",
     "decision 3 was changed after it was written"),
    ("DELETE FROM seals WHERE decision_id = 3; DELETE FROM case_events WHERE "
     "decision_id = 3; DELETE FROM decisions WHERE id = 3",
     "decisions 3 to 3 were removed from the end of the log"),
    ("DELETE FROM seals; DELETE FROM case_events; DELETE FROM decisions",
     "the log was emptied: the database counted 3 decisions, none is left"),
    ("INSERT INTO case_events (decision_id, case_id, event) VALUES (7, 'R9', 'chosen')",
     "names decision 7, which is not in the log"),
    ("DELETE FROM snapshot_cases WHERE case_id = 'R1'",
     "decision 1: the index of its stored snapshot"),
    (f"INSERT INTO snapshot_cases VALUES ('{'a' * 64}', 'R1')",
     f"the index of children (snapshot_cases) names snapshot {'a' * 16}, which no "
     "decision was made on"),
]  # fmt: skip
TAMPER_IDS = ["manager", "reason", "event-added", "events-removed", "input-forged",
              "seal-removed", "row-removed", "row-and-seal-removed", "seal-forged", "tail-cut",
              "emptied", "orphan-event", "index-row-removed", "index-stray-snapshot"]  # fmt: skip


@pytest.mark.parametrize(("tamper", "named"), TAMPERS, ids=TAMPER_IDS)
def test_verify_names_the_first_broken_row(db: str, tamper: str, named: str) -> None:
    with without_guards(db) as conn:
        conn.executescript(tamper)
    code, out = verify(db)
    assert code == 1, out
    assert out.startswith("error: the decision log was altered: ") and named in out
    assert "Traceback" not in out


#: The commands that show what was decided, each as a manager would read it.
SHOWING = [["log"], ["log", "--json"], ["history", "R1"], ["history", "R1", "--json"]]


@pytest.mark.parametrize(("tamper", "named"), TAMPERS, ids=TAMPER_IDS)
@pytest.mark.parametrize("command", SHOWING, ids=" ".join)
def test_log_and_history_show_nothing_of_an_altered_log(
    db: str, tamper: str, named: str, command: list[str]
) -> None:
    # Before: the rewritten decisions were listed, exit 0, no word of it; only
    # --verify, replay and serve noticed. The same walk as --verify now comes first.
    with without_guards(db) as conn:
        conn.executescript(tamper)
    result = CliRunner().invoke(main, [*command, "--db", db])
    assert result.exit_code == 1, result.output
    assert result.stdout == ""
    assert result.stderr.startswith("error: the decision log was altered: ")
    assert named in result.stderr and "error: nothing was shown" in result.stderr


def test_a_decision_rewritten_by_hand_is_not_shown_as_genuine(db: str) -> None:
    # The trial's rewrite: the triggers dropped, decision 2's manager made Carol Head.
    with without_guards(db) as conn:
        conn.execute("UPDATE decisions SET manager = 'Carol Head' WHERE id = 2")
    for command in (["log"], ["history", "R1", "--json"], ["history", "R2"]):
        result = CliRunner().invoke(main, [*command, "--db", db])
        assert result.exit_code == 1, result.output
        assert "Carol Head" not in result.output
        assert "decision 2 was changed after it was written" in result.stderr


@pytest.mark.parametrize("command", SHOWING, ids=" ".join)
def test_log_and_history_of_an_intact_log_say_nothing_more(db: str, command: list[str]) -> None:
    result = CliRunner().invoke(main, [*command, "--db", db])
    assert result.exit_code == 0 and result.stderr == "", result.stderr
    assert "Ann" in result.stdout


def sqlite_guards(path: str) -> list[str]:
    """The names of the triggers in the SQLite file at ``path``."""
    with raw(path) as conn:
        found = conn.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
        return sorted(name for (name,) in found)


def test_verify_finds_every_guard_dropped_though_no_row_changed(db: str) -> None:
    # The trial's copy: every trigger dropped, no data changed. Before: "the decision
    # log is intact: 3 decisions, each sealed", exit 0.
    assert len(sqlite_guards(db)) == 15  # 5 tables, 3 guards each
    without_guards(db).close()
    code, out = verify(db)
    assert code == 1, out
    assert out.startswith(
        "error: the decision log's guards against rewriting are not in place "
        "(inputs_append_only (missing), inputs_no_delete (missing), inputs_no_replace "
        "(missing) and 12 more): the database no longer refuses an UPDATE or DELETE"
    )
    assert "is intact" not in out and "allocator log --init" in out
    result = CliRunner().invoke(main, ["log", "--verify", "--json", "--db", db])
    data = json.loads(result.stdout)
    assert result.exit_code == 1 and not data["intact"] and data["broken"] is None
    assert len(data["unguarded"]) == 15


@pytest.mark.parametrize(
    "guard",
    [f"{t}_{g}" for t in ("inputs", "decisions", "case_events", "seals", "snapshot_cases")
     for g in ("append_only", "no_delete", "no_replace")],
)  # fmt: skip
def test_verify_names_each_guard_dropped(db: str, guard: str) -> None:
    with raw(db) as conn:
        conn.execute(f"DROP TRIGGER {guard}")
    code, out = verify(db)
    assert code == 1
    assert f"are not in place ({guard} (missing)): " in out


def test_verify_finds_a_guard_replaced_by_one_that_refuses_nothing(db: str) -> None:
    # Same name, same table, a condition never true: the trigger is there, the guard not.
    with raw(db) as conn:
        conn.execute("DROP TRIGGER decisions_append_only")
        conn.execute(
            "CREATE TRIGGER decisions_append_only BEFORE UPDATE ON decisions WHEN 0 "
            "BEGIN SELECT RAISE(ABORT, 'the decision log is append-only'); END"
        )
    code, out = verify(db)
    assert code == 1 and "(decisions_append_only (changed))" in out


def test_log_and_history_warn_of_guards_dropped_and_show_the_rows_that_verify(db: str) -> None:
    # The rows are as written (their seals hold): shown, with the warning.
    without_guards(db).close()
    for command in (["log"], ["history", "R1"]):
        result = CliRunner().invoke(main, [*command, "--db", db])
        assert result.exit_code == 0, result.output
        assert result.stderr.startswith("warning: the decision log's guards against rewriting")
        assert "Ann" in result.stdout


def test_init_puts_the_guards_back(db: str) -> None:
    without_guards(db).close()
    assert verify(db)[0] == 1
    result = CliRunner().invoke(main, ["log", "--init", "--db", db])
    assert result.exit_code == 0, result.output
    assert len(sqlite_guards(db)) == 15
    code, out = verify(db)
    assert code == 0 and "intact: 3 decisions, each sealed, and its guards in place" in out


def two_services(log: DecisionLog) -> tuple[str, set[str]]:
    """Two services in one log, each with a proposed plan: the other service's snapshot
    SHA-256 and this service's children."""
    ours = snapshot([worker("A")], [case("R1")])
    theirs = snapshot([worker("B")], [case("S1")])
    for snap in (ours, theirs):
        log.propose(snap, POLICY, allocate(snap, POLICY, work_units=1.0))
    return digest(snapshot_bytes(theirs)), {c.id for c in ours.cases}


def test_a_meeting_widened_to_another_service_by_an_insert_is_found(tmp_path: Path) -> None:
    # The attack: a plain INSERT, which the guards allow (they refuse rewrites, not
    # appends), indexes the other service's snapshot under one of this service's
    # children, so this meeting's /log and /history show the other's children.
    path = str(tmp_path / "log.db")
    log = DecisionLog(path)
    other, mine = two_services(log)
    assert len(log.decisions(snapshots=log.service_snapshots(mine))) == 1
    with raw(path) as conn:  # the guards are on: nothing dropped
        conn.execute(f"INSERT INTO snapshot_cases VALUES ('{other}', 'R1')")
    assert len(log.decisions(snapshots=log.service_snapshots(mine))) == 2
    log.close()
    code, out = verify(path)
    assert code == 1
    assert "decision 2: the index of its stored snapshot" in out and "what a meeting may see" in out


def test_replay_of_a_forged_input_names_the_break(db: str) -> None:
    # Before: "DIFFERENT" and nothing more. Now the altered row is named, exit 1.
    with without_guards(db) as conn:
        conn.execute("UPDATE inputs SET content = X'7B7D' WHERE kind = 'snapshot'")
    result = CliRunner().invoke(main, ["replay", "1", "--db", db])
    assert result.exit_code == 1
    assert "its stored snapshot" in result.output and "Traceback" not in result.output


def test_serve_refuses_an_altered_log(db: str, tmp_path: Path) -> None:
    from allocator.io import write_snapshot

    write_snapshot(snapshot([worker("A")], [case("R1")]), tmp_path / "s.json")
    with without_guards(db) as conn:
        conn.execute("UPDATE decisions SET manager = 'Eve' WHERE id = 3")
    result = CliRunner().invoke(
        main, ["serve", str(tmp_path / "s.json"), "--db", db, "--port", "0"]
    )
    assert result.exit_code == 2
    assert "decision 3 was changed" in result.output
    assert "not opened on an altered log" in result.output
    # Opened to write, the log got its guards back; that they were gone is said first.
    assert result.output.startswith(
        "warning: the decision log's guards against rewriting were not in place "
        "(inputs_append_only (missing), inputs_no_delete (missing), inputs_no_replace "
        "(missing) and 12 more): put back"
    )


def test_a_log_opened_to_write_says_which_guards_it_put_back(db: str) -> None:
    with raw(db) as conn:
        conn.execute("DROP TRIGGER seals_no_delete")
    log = DecisionLog(db)
    assert log.guards_restored == ("seals_no_delete (missing)",)
    log.close()
    assert "seals_no_delete" in sqlite_guards(db)
    again = DecisionLog(db)
    assert again.guards_restored == ()
    again.close()


# ---------------------------------------------------------------- read-only commands


COMMANDS = [["log"], ["log", "--verify"], ["history", "R1"], ["replay", "1"]]


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c))
def test_a_log_truncated_to_nothing_is_reported_and_left_as_it_is(
    tmp_path: Path, command: list[str]
) -> None:
    path = tmp_path / "log.db"
    path.write_bytes(b"")
    result = CliRunner().invoke(main, [*command, "--db", str(path)])
    assert result.exit_code == 2
    assert "is empty (0 bytes): it was truncated" in result.output
    assert path.read_bytes() == b""  # the read-only command wrote no schema into it


def test_serve_does_not_start_a_new_log_in_a_truncated_file(tmp_path: Path) -> None:
    with pytest.raises(LogUnreadable, match="empty"):
        (tmp_path / "log.db").write_bytes(b"")
        DecisionLog(str(tmp_path / "log.db"))
    assert (tmp_path / "log.db").read_bytes() == b""


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c))
def test_read_only_commands_never_write(db: str, command: list[str]) -> None:
    before = Path(db).read_bytes()
    result = CliRunner().invoke(main, [*command, "--db", db])
    assert result.exit_code == 0, result.output
    assert Path(db).read_bytes() == before


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c))
def test_a_sqlite_file_without_the_log_is_not_a_log(tmp_path: Path, command: list[str]) -> None:
    path = tmp_path / "other.db"
    with raw(str(path)) as conn:
        conn.execute("CREATE TABLE t (x)")
    result = CliRunner().invoke(main, [*command, "--db", str(path)])
    assert result.exit_code == 2
    assert "holds no decision log (no table inputs, decisions, case_events)" in result.output


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c))
def test_a_corrupt_page_is_an_error_not_a_traceback(db: str, command: list[str]) -> None:
    data = bytearray(Path(db).read_bytes())
    page = 4096
    assert len(data) > 3 * page
    data[2 * page + 100 : 3 * page - 100] = b"\xa5" * (page - 200)
    Path(db).write_bytes(bytes(data))
    result = CliRunner().invoke(main, [*command, "--db", db])
    assert result.exit_code == 2, result.output
    assert result.output.startswith("error: ") and "corrupt" in result.output
    assert "Traceback" not in result.output


def test_a_file_that_is_not_sqlite_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "log.db"
    path.write_bytes(b"not a database at all" * 100)
    result = CliRunner().invoke(main, ["log", "--db", str(path)])
    assert result.exit_code == 2
    assert "is not a readable SQLite database" in result.output


@pytest.mark.parametrize("manager", ["[/]", "[bold red]x", "\x1b[2J\x1b[31mEve", "a\x07b"])
def test_a_managers_name_prints_as_typed(tmp_path: Path, manager: str) -> None:
    path = str(tmp_path / "log.db")
    log = DecisionLog(path)
    proposed, _, _ = meeting(log)
    log.sign_off(proposed, manager)
    log.close()
    for command in (["log"], ["history", "R1"]):
        result = CliRunner().invoke(main, [*command, "--db", path])
        assert result.exit_code == 0, result.output
        assert "\x1b" not in result.output and "\x07" not in result.output
    shown = CliRunner().invoke(main, ["log", "--db", path]).output
    assert manager.replace("\x1b", "\\x1b").replace("\x07", "\\x07")[:5] in shown


# ---------------------------------------------------------------- PostgreSQL roles


@pytest.fixture
def roles() -> Iterator[tuple[str, str, str]]:
    """A fresh database, an owner role and a writer role set up as docs/MEETING.md says:
    the superuser's URL, the owner's, the writer's."""
    from sqlalchemy import create_engine, text

    admin = postgres_url()
    tag = secrets.token_hex(4)
    name, owner, writer = f"allocator_roles_{tag}", f"log_owner_{tag}", f"log_writer_{tag}"
    server = create_engine(database_url(admin), isolation_level="AUTOCOMMIT")
    base = admin.rsplit("/", 1)[0]
    with server.connect() as conn:
        conn.execute(text(f"CREATE ROLE {owner} LOGIN"))
        conn.execute(text(f"CREATE ROLE {writer} LOGIN"))
        conn.execute(text(f"CREATE DATABASE {name} OWNER {owner}"))
    at = base.split("@", 1)[1]
    owner_url = f"postgresql://{owner}@{at}/{name}"
    writer_url = f"postgresql://{writer}@{at}/{name}"
    result = CliRunner().invoke(main, ["log", "--init", "--db", owner_url])
    assert result.exit_code == 0, result.output
    grants = create_engine(database_url(owner_url), isolation_level="AUTOCOMMIT")
    with grants.connect() as conn:
        for sql in (
            f"REVOKE ALL ON DATABASE {name} FROM PUBLIC",
            "REVOKE CREATE ON SCHEMA public FROM PUBLIC",
            f"GRANT CONNECT ON DATABASE {name} TO {writer}",
            f"GRANT USAGE ON SCHEMA public TO {writer}",
            f"GRANT SELECT, INSERT ON ALL TABLES IN SCHEMA public TO {writer}",
            f"GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO {writer}",
            f"ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT ON TABLES TO {writer}",
            f"ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE ON SEQUENCES TO {writer}",
        ):
            conn.execute(text(sql))
    grants.dispose()
    try:
        yield f"{base}/{name}", owner_url, writer_url
    finally:
        with server.connect() as conn:
            conn.execute(text(f"DROP DATABASE {name} WITH (FORCE)"))
            conn.execute(text(f"DROP ROLE {writer}"))
            conn.execute(text(f"DROP ROLE {owner}"))
        server.dispose()


def test_the_writer_role_may_only_insert_and_read(roles: tuple[str, str, str]) -> None:
    from sqlalchemy import text
    from sqlalchemy.exc import DBAPIError

    _, _, writer_url = roles
    log = DecisionLog(writer_url)
    meeting(log)
    for statement in (
        "TRUNCATE case_events",
        "UPDATE decisions SET manager = 'Eve'",
        "DELETE FROM seals",
        "ALTER TABLE decisions DISABLE TRIGGER decisions_append_only",
        "DROP TRIGGER decisions_append_only ON decisions",
        "CREATE OR REPLACE FUNCTION allocator_append_only() RETURNS trigger "
        "LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$",
        "INSERT INTO decisions SELECT * FROM decisions WHERE id = 1 "
        "ON CONFLICT (id) DO UPDATE SET manager = 'Eve'",
        "CREATE TABLE decisions2 (x int)",
    ):
        with pytest.raises(DBAPIError), log.engine.begin() as conn:
            conn.execute(text(statement))
    log.close()
    result = CliRunner().invoke(main, ["log", "--verify", "--db", writer_url])
    assert result.exit_code == 0, result.output


def test_the_owner_cannot_truncate_without_disabling_the_guard(
    roles: tuple[str, str, str],
) -> None:
    from sqlalchemy import text
    from sqlalchemy.exc import DBAPIError

    _, owner_url, writer_url = roles
    log = DecisionLog(writer_url)
    meeting(log)
    log.close()
    owner = DecisionLog(owner_url)
    with pytest.raises(DBAPIError, match="append-only"), owner.engine.begin() as conn:
        conn.execute(text("TRUNCATE case_events, seals, decisions, inputs, snapshot_cases"))
    owner.close()


@pytest.mark.parametrize(
    ("tamper", "named"),
    [
        ("UPDATE decisions SET manager = 'Eve' WHERE id = 3",
         "decision 3 was changed after it was written"),
        ("UPDATE inputs SET content = '\\x7b7d'::bytea WHERE kind = 'snapshot'",
         "decision 1: its stored snapshot"),
        ("DELETE FROM seals WHERE decision_id = 2", "decision 2 carries no seal"),
        ("UPDATE seals SET prev_sha256 = "
         "(CASE WHEN substr(prev_sha256, 1, 1) = 'f' THEN '0' ELSE 'f' END) "
         "|| substr(prev_sha256, 2) WHERE decision_id = 2",
         "decision 2 does not follow decision 1"),
        ("TRUNCATE seals, case_events, decisions, snapshot_cases, inputs",
         "the log was emptied: the database counted 3 decisions, none is left"),
    ],
    ids=["update", "input", "seal-removed", "seal-forged", "truncate"],
)  # fmt: skip
def test_verify_finds_what_the_owner_did_anyway(
    roles: tuple[str, str, str], tamper: str, named: str
) -> None:
    from sqlalchemy import create_engine, text

    _, owner_url, writer_url = roles
    log = DecisionLog(writer_url)
    meeting(log)
    log.close()
    owner = create_engine(database_url(owner_url), isolation_level="AUTOCOMMIT")
    with owner.connect() as conn:
        for table in ("inputs", "decisions", "case_events", "seals", "snapshot_cases"):
            conn.execute(text(f"ALTER TABLE {table} DISABLE TRIGGER USER"))
        for statement in tamper.split("; "):
            conn.execute(text(statement))
    owner.dispose()
    result = CliRunner().invoke(main, ["log", "--verify", "--db", writer_url])
    assert result.exit_code == 1, result.output
    assert f"error: the decision log was altered: {named}" in result.output


@pytest.mark.parametrize(
    ("change", "named"),
    [
        (["DROP TRIGGER decisions_append_only ON decisions"], "decisions_append_only (missing)"),
        (["DROP TRIGGER seals_no_truncate ON seals"], "seals_no_truncate (missing)"),
        (["ALTER TABLE case_events DISABLE TRIGGER USER"],
         "case_events_append_only (disabled), case_events_no_truncate (disabled)"),
        (["ALTER TABLE inputs ENABLE REPLICA TRIGGER inputs_append_only"],
         "inputs_append_only (disabled)"),
        (["CREATE OR REPLACE FUNCTION allocator_append_only() RETURNS trigger "
          "LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$"],
         "inputs_append_only (changed), inputs_no_truncate (changed)"),
        (["DROP TRIGGER decisions_append_only ON decisions",
          "CREATE TRIGGER decisions_append_only BEFORE UPDATE ON decisions FOR EACH ROW "
          "EXECUTE FUNCTION allocator_append_only()"], "decisions_append_only (changed)"),
    ],
    ids=["dropped", "truncate-dropped", "disabled", "replica-only", "function-replaced",
         "delete-let-by"],
)  # fmt: skip
def test_verify_finds_the_guards_the_owner_removed_on_postgresql(
    roles: tuple[str, str, str], change: list[str], named: str
) -> None:
    # No row changed: the owner only took a guard away, which the writer role cannot.
    from sqlalchemy import create_engine, text

    _, owner_url, writer_url = roles
    log = DecisionLog(writer_url)
    meeting(log)
    log.close()
    assert CliRunner().invoke(main, ["log", "--verify", "--db", writer_url]).exit_code == 0
    owner = create_engine(database_url(owner_url), isolation_level="AUTOCOMMIT")
    with owner.connect() as conn:
        for statement in change:
            conn.execute(text(statement))
    owner.dispose()
    result = CliRunner().invoke(main, ["log", "--verify", "--db", writer_url])
    assert result.exit_code == 1, result.output
    assert "error: the decision log's guards against rewriting are not in place (" in result.output
    assert named in result.output
    shown = CliRunner().invoke(main, ["history", "R1", "--db", writer_url])
    assert shown.exit_code == 0 and shown.stderr.startswith("warning: the decision log's guards")
    fixed = CliRunner().invoke(main, ["log", "--init", "--db", owner_url])
    assert fixed.exit_code == 0, fixed.output
    assert CliRunner().invoke(main, ["log", "--verify", "--db", writer_url]).exit_code == 0


def test_the_writer_role_widening_a_meeting_by_an_insert_is_found(
    roles: tuple[str, str, str],
) -> None:
    # On PostgreSQL the app's own role may insert: it indexes the other service's
    # snapshot under this service's child, and --verify names it.
    from sqlalchemy import text

    _, _, writer_url = roles
    log = DecisionLog(writer_url)
    other, mine = two_services(log)
    with log.engine.begin() as conn:
        conn.execute(text(f"INSERT INTO snapshot_cases VALUES ('{other}', 'R1')"))
    assert len(log.decisions(snapshots=log.service_snapshots(mine))) == 2
    log.close()
    result = CliRunner().invoke(main, ["log", "--verify", "--db", writer_url])
    assert result.exit_code == 1
    assert "decision 2: the index of its stored snapshot" in result.output


def test_an_anchor_finds_the_end_cut_off_on_postgresql(roles: tuple[str, str, str]) -> None:
    # The owner removes the last decision (and its seal): the chain that is left is
    # whole, so only the head noted earlier finds it (PostgreSQL's counter, a note).
    from sqlalchemy import create_engine, text

    _, owner_url, writer_url = roles
    log = DecisionLog(writer_url)
    meeting(log)
    head = log.verify().head
    log.close()
    assert head is not None
    owner = create_engine(database_url(owner_url), isolation_level="AUTOCOMMIT")
    with owner.connect() as conn:
        for table in ("decisions", "case_events", "seals"):
            conn.execute(text(f"ALTER TABLE {table} DISABLE TRIGGER USER"))
        for table, column in (("seals", "decision_id"), ("case_events", "decision_id"),
                              ("decisions", "id")):  # fmt: skip
            conn.execute(text(f"DELETE FROM {table} WHERE {column} = 3"))
    owner.dispose()
    plain = CliRunner().invoke(main, ["log", "--verify", "--db", writer_url])
    assert "note: PostgreSQL gave decision ids up to 3, the last in the log is 2" in plain.output
    anchored = CliRunner().invoke(main, ["log", "--verify", "--anchor", head, "--db", writer_url])
    assert anchored.exit_code == 1
    assert f"the chain head noted earlier, {head[:16]}, is not in the log" in anchored.output


def test_an_anchor_finds_a_sqlite_log_rewritten_whole(db: str, tmp_path: Path) -> None:
    # Whoever holds the file can write a whole new log in its place: every seal holds,
    # but the head noted at the meeting is not in it.
    head = DecisionLog(db, create=False).verify().head
    assert head is not None
    Path(db).unlink()
    meeting(DecisionLog(db))
    assert verify(db)[0] == 0
    result = CliRunner().invoke(main, ["log", "--verify", "--anchor", head, "--db", db])
    assert result.exit_code == 1 and "is not in the log" in result.output


def test_a_statement_on_a_postgresql_log_has_a_timeout(
    roles: tuple[str, str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # A table locked by someone else (or a stalled server) is an error, not a hang.
    from sqlalchemy import text
    from sqlalchemy.exc import DBAPIError

    import allocator.meeting.log

    monkeypatch.setattr(allocator.meeting.log, "STATEMENT_TIMEOUT", 1.0)
    log = DecisionLog(roles[2])
    with pytest.raises(DBAPIError, match="statement timeout"), log.engine.connect() as conn:
        conn.execute(text("SELECT pg_sleep(3)"))
    log.close()


def test_serve_does_not_start_a_log_inside_another_database(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    with raw(str(path)) as conn:
        conn.execute("CREATE TABLE t (x)")
    with pytest.raises(LogUnreadable, match="holds no decision log"):
        DecisionLog(str(path))
    with raw(str(path)) as conn:
        assert [n for (n,) in conn.execute("SELECT name FROM sqlite_master")] == ["t"]


@pytest.mark.parametrize("command", [["log"], ["replay", "2"]])
def test_a_row_that_is_not_the_logs_is_one_line(db: str, command: list[str]) -> None:
    with without_guards(db) as conn:
        conn.execute("UPDATE decisions SET overrides = 'not json', made_from = '{' WHERE id = 2")
    result = CliRunner().invoke(main, [*command, "--db", db])
    assert result.exit_code in (1, 2), result.output
    assert result.output.startswith("error: ") and "Traceback" not in result.output


@pytest.fixture(params=["sqlite", "postgresql"])
def any_log(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh log's URL on SQLite, and on PostgreSQL."""
    if request.param == "sqlite":
        yield str(tmp_path / "log.db")
        return
    from sqlalchemy import create_engine, text

    server = create_engine(database_url(postgres_url()), isolation_level="AUTOCOMMIT")
    name = f"allocator_chain_{secrets.token_hex(4)}"
    with server.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {name}"))
    try:
        yield postgres_url().rsplit("/", 1)[0] + f"/{name}"
    finally:
        with server.connect() as conn:
            conn.execute(text(f"DROP DATABASE {name} WITH (FORCE)"))
        server.dispose()


def test_writers_at_once_extend_one_chain(any_log: str) -> None:
    # Three meetings writing to one log at the same moment: every decision is sealed
    # on the one before it, and the chain never forks.
    import threading

    DecisionLog(any_log).close()
    failures: list[BaseException] = []

    def meet(tag: str) -> None:
        log = DecisionLog(any_log)
        snap = snapshot([worker("A"), worker("B")], [case(f"{tag}{i}") for i in range(3)])
        plan = allocate(snap, POLICY, work_units=0.3)
        try:
            for _ in range(8):
                _, proposed = log.propose(snap, POLICY, plan)
                log.sign_off(proposed, tag)
        except BaseException as exc:  # reported below, in the test's thread
            failures.append(exc)
        finally:
            log.close()

    threads = [threading.Thread(target=meet, args=(t,)) for t in "XYZ"]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not failures, failures
    result = DecisionLog(any_log, create=False).verify()
    assert result.intact and result.decisions == 48, result


# ---------------------------------------------------------------- while the meeting runs


@pytest.fixture
def served(db: str) -> Iterator[tuple[TestClient, Meeting]]:
    """The meeting page open on the log of :func:`meeting`'s service (decision 4, a
    new proposal of it, in force), its log rewritten later behind its back."""
    snap = snapshot(
        [worker("A", capacity_points=3), worker("B", capacity_points=3)],
        [case("R1"), case("R2")],
    )
    log = DecisionLog(db)
    opened = Meeting.open(snap, POLICY, log, allocate(snap, POLICY, work_units=1.0))
    yield TestClient(create_app(opened, allowed_hosts=["testserver"])), opened
    log.close()


@pytest.mark.parametrize(("tamper", "named"), TAMPERS, ids=TAMPER_IDS)
@pytest.mark.parametrize("path", ["/log", "/history/R1"])
@pytest.mark.parametrize("html", [False, True], ids=["json", "page"])
def test_the_page_shows_nothing_of_a_log_altered_while_it_runs(
    served: tuple[TestClient, Meeting], tamper: str, named: str, path: str, html: bool
) -> None:
    # A fresh trial: the manager's name of decision 3 rewritten while serve ran, and
    # /log and /history (page and JSON) showed the new name as genuine, no word of it;
    # the command line refused the same log.
    client, _ = served
    assert client.get(path).status_code == 200
    with without_guards(served[1].log.path or "") as conn:
        conn.executescript(tamper.replace("'Eve'", "'Eve Forger'"))
    answer = client.get(path, headers={"accept": "text/html"} if html else {})
    assert answer.status_code == 409
    said = answer.text if html else answer.json()["detail"]
    assert "the decision log was altered: " in said and "Eve Forger" not in answer.text
    assert "nothing was shown" in said and "hold the meeting on a new --db" in said


@pytest.mark.parametrize("kind", ["override", "signoff"])
def test_no_decision_is_logged_onto_a_log_altered_while_the_meeting_runs(
    served: tuple[TestClient, Meeting], kind: str
) -> None:
    client, opened = served
    with without_guards(opened.log.path or "") as conn:
        conn.execute("UPDATE decisions SET manager = 'Eve Forger' WHERE id = 3")
    before = opened.decision_id
    if kind == "override":
        other = next(c for c, w in final_workers(opened.plan).items() if w == "A")
        answer = client.post(
            "/overrides",
            json={"case": other, "action": "choose", "worker": "B", "reason": "knows them",
                  "manager": "Ann Smith"},
        )  # fmt: skip
    else:
        answer = client.post("/signoff", json={"manager": "Ann Smith", "decision_id": before})
    assert answer.status_code == 409, answer.text
    detail = answer.json()["detail"]
    assert "decision 3 was changed after it was written" in detail
    assert "nothing was logged" in detail
    assert opened.decision_id == before
    assert DecisionLog(opened.log.path or "", create=False).verify().decisions == 4
    # The page, reloaded, says so at its top from then on.
    page = client.get("/", headers={"accept": "text/html"}).text
    assert "the decision log was altered: decision 3 was changed" in page
    assert client.get("/").json()["log_altered"].startswith("the decision log was altered")


def test_an_intact_log_is_shown_and_extended_as_before(
    served: tuple[TestClient, Meeting],
) -> None:
    client, opened = served
    assert [d["id"] for d in client.get("/log").json()] == [4, 3, 2, 1]
    assert client.get("/").json()["log_altered"] is None
    signed = client.post(
        "/signoff", json={"manager": "Ann Smith", "decision_id": opened.decision_id}
    )
    assert signed.status_code == 200 and signed.json()["decision_id"] == 5
