"""Who made a decision, and whether the server checked it (issue 24, item "who did it").

The log records, beside each override's and sign-off's manager, how the server knew
the name: a person's own token (``--users``), the council's single sign-on header
(``--user-header``), or a name typed in the form and not checked (the shared token).
The page, ``allocator log`` and ``allocator history`` say which; the seal chain
covers it, so a typed name cannot later be passed off as a signed-in one unseen.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from builders import case, snapshot, worker
from click.testing import CliRunner
from fastapi.testclient import TestClient

from allocator.cli import main
from allocator.contract.policy import Policy
from allocator.meeting.log import DecisionLog, LogUnreadable, database_url
from allocator.problems.daily import allocate
from allocator.web.app import Meeting, create_app
from allocator.web.security import Proxies, TrustedHeader, load_users, token_digest
from tests.test_decisions_trust import roles  # noqa: F401 (the PostgreSQL roles fixture)

HTML = {"accept": "text/html"}
ANN = "ann-token-0123456789abcdef"
UNALLOCATE = {"case": "R1", "action": "unallocate", "reason": "r", "manager": "Eve"}


@pytest.fixture
def meeting(tmp_path: Path) -> Iterator[Meeting]:
    snap, policy = snapshot([worker("A"), worker("B")], [case("R1"), case("R2")]), Policy()
    log = DecisionLog(str(tmp_path / "log.db"))
    yield Meeting.open(snap, policy, log, allocate(snap, policy, work_units=1.0))
    log.close()


def _decide(client: TestClient, headers: dict[str, str]) -> None:
    overridden = client.post("/overrides", json=UNALLOCATE, headers=headers)
    assert overridden.status_code == 200, overridden.text
    reviewed = overridden.json()["decision_id"]  # a sign-off names the plan reviewed
    signed = client.post(
        "/signoff", json={"manager": "Eve", "decision_id": reviewed}, headers=headers
    )
    assert signed.status_code == 200, signed.text


def _cli(db: str, *args: str) -> str:
    result = CliRunner(env={"COLUMNS": "300"}).invoke(main, [*args, "--db", db])
    assert result.exit_code == 0, result.output
    return result.output


def test_a_typed_name_is_logged_as_typed(meeting: Meeting, tmp_path: Path) -> None:
    client = TestClient(create_app(meeting, allowed_hosts=["testserver"]))
    _decide(client, {})
    rows = meeting.log.decisions()
    assert [(d.kind, d.manager, d.manager_via) for d in rows] == [
        ("signoff", "Eve", "typed"),
        ("override", "Eve", "typed"),
        ("proposed", None, None),
    ]
    data = client.get("/log").json()
    assert [d["authenticated"] for d in data] == [False, False, None]
    assert "Eve (typed, not checked)" in client.get("/log", headers=HTML).text
    assert "Eve (typed, not checked)" in client.get("/history/R1", headers=HTML).text
    db = str(tmp_path / "log.db")
    assert "Eve (typed, not checked)" in _cli(db, "log")
    assert "Eve (typed, not checked)" in _cli(db, "history", "R1")
    history = json.loads(_cli(db, "history", "R1", "--json"))
    assert {e["manager_via"] for e in history if e["manager"]} == {"typed"}
    # The meeting's own state says how the sign-off's manager was known too.
    assert client.get("/").json()["signed"]["manager_via"] == "typed"


def test_a_users_token_is_logged_as_signed_in(meeting: Meeting, tmp_path: Path) -> None:
    users_path = tmp_path / "users.toml"
    users_path.write_text(f'[users]\n"Ann Smith" = "{token_digest(ANN)}"\n')
    users = load_users(str(users_path))
    client = TestClient(create_app(meeting, users=users, allowed_hosts=["testserver"]))
    ann = {"authorization": f"Bearer {ANN}"}
    _decide(client, ann)
    rows = meeting.log.decisions()[:2]
    assert [(d.manager, d.manager_via, d.authenticated) for d in rows] == [
        ("Ann Smith", "token", True),
        ("Ann Smith", "token", True),
    ]
    assert "Ann Smith (signed in: own token)" in client.get("/log", headers={**ann, **HTML}).text
    assert "Ann Smith (signed in: own token)" in _cli(str(tmp_path / "log.db"), "log")


def test_a_sign_on_header_is_logged_as_signed_in(meeting: Meeting, tmp_path: Path) -> None:
    app = create_app(meeting, allowed_hosts=["testserver"], user_header="X-Remote-User")
    proxy = TestClient(
        TrustedHeader(app, header="X-Remote-User", proxies=Proxies("10.0.0.5")),
        client=("10.0.0.5", 40000),
    )
    _decide(proxy, {"x-remote-user": "Bo Lee"})
    assert [(d.manager, d.manager_via) for d in meeting.log.decisions()[:2]] == [
        ("Bo Lee", "sign-on"),
        ("Bo Lee", "sign-on"),
    ]
    page = proxy.get("/history/R1", headers={"x-remote-user": "Bo Lee", **HTML}).text
    assert "Bo Lee (signed in: single sign-on)" in page


def test_a_typed_name_passed_off_as_signed_in_breaks_the_seal(
    meeting: Meeting, tmp_path: Path
) -> None:
    # The attack: the file's owner marks Eve's typed sign-off as signed in (or clears
    # how she was known), behind the triggers' back. --verify names the decision.
    _decide(TestClient(create_app(meeting, allowed_hosts=["testserver"])), {})
    db = str(tmp_path / "log.db")
    assert "intact: 3 decisions" in _cli(db, "log", "--verify")
    for forged in ("'token'", "NULL"):
        copy = tmp_path / f"forged-{forged.strip(chr(39))}.db"
        copy.write_bytes(Path(db).read_bytes())
        conn = sqlite3.connect(copy, isolation_level=None)
        for (name,) in list(conn.execute("SELECT name FROM sqlite_master WHERE type='trigger'")):
            conn.execute(f"DROP TRIGGER {name}")
        conn.execute(f"UPDATE decisions SET manager_via = {forged} WHERE id = 3")
        conn.close()
        result = CliRunner().invoke(main, ["log", "--verify", "--db", str(copy)])
        assert result.exit_code == 1
        assert "decision 3 was changed after it was written" in result.output


def test_a_log_from_before_the_column_reads_verifies_and_takes_new_decisions(
    tmp_path: Path,
) -> None:
    # A log written before manager_via existed: read as it is (nothing written), its
    # seals still verify, and serve adds the column, then seals decisions with it.
    db = str(tmp_path / "old.db")
    snap, policy = snapshot([worker("A")], [case("R1")]), Policy()
    log = DecisionLog(db)
    _, proposed = log.propose(snap, policy, allocate(snap, policy, work_units=0.5))
    log.close()
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("ALTER TABLE decisions DROP COLUMN manager_via")
    conn.close()
    before = Path(db).read_bytes()
    assert "intact: 1 decisions" in _cli(db, "log", "--verify")
    assert json.loads(_cli(db, "log", "--json"))[0]["manager_via"] is None
    assert Path(db).read_bytes() == before  # read-only commands never write
    log = DecisionLog(db)  # serve
    log.sign_off(proposed, "Ann", manager_via="typed")
    log.close()
    assert "intact: 2 decisions" in _cli(db, "log", "--verify")
    assert "Ann (typed, not checked)" in _cli(db, "log")


def test_a_postgresql_log_from_before_the_column_is_given_it_by_its_owner(
    roles: tuple[str, str, str],  # noqa: F811 (the fixture imported above)
) -> None:
    # The writer role may not alter the tables: it refuses to log without the column
    # (a name logged without how it was known would read as before), until the
    # tables' owner runs `allocator log --init` once. The chain holds throughout.
    from sqlalchemy import create_engine, text

    _, owner, writer = roles
    snap, policy = snapshot([worker("A")], [case("R1")]), Policy()
    log = DecisionLog(writer)
    _, proposed = log.propose(snap, policy, allocate(snap, policy, work_units=0.5))
    log.close()
    engine = create_engine(database_url(owner), isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text("ALTER TABLE decisions DROP COLUMN manager_via"))
    engine.dispose()
    assert "intact: 1 decisions" in _cli(writer, "log", "--verify")
    log = DecisionLog(writer)
    with pytest.raises(LogUnreadable, match="allocator log --init"):
        log.sign_off(proposed, "Ann", manager_via="token")
    log.close()
    assert "decision log ready" in CliRunner().invoke(main, ["log", "--init", "--db", owner]).output
    log = DecisionLog(writer)
    log.sign_off(proposed, "Ann", manager_via="token")
    log.close()
    assert "intact: 2 decisions" in _cli(writer, "log", "--verify")
    assert "Ann (signed in: own token)" in _cli(writer, "log")


def test_the_meetings_queue_preview_and_bound_sign_off_log_how_the_manager_was_known(
    tmp_path: Path,
) -> None:
    # Issue 22's paths (a previewed make_room override, accepted through the re-solve
    # queue, then a sign-off naming the decision reviewed) log the signed-in name and
    # how it was known; the re-solve's consequent move carries no manager at all, and
    # history says who did each step, in which meeting. The chain holds.
    import time

    from tests.test_meeting_exceptions import roomless

    snap, policy = roomless(), Policy()
    db = str(tmp_path / "log.db")
    log = DecisionLog(db)
    meeting = Meeting.open(snap, policy, log, allocate(snap, policy, work_units=1.0))
    app = create_app(meeting, allowed_hosts=["testserver"], user_header="X-Remote-User")
    proxy = TestClient(
        TrustedHeader(app, header="X-Remote-User", proxies=Proxies("10.0.0.5")),
        client=("10.0.0.5", 40000),
    )
    bo = {"x-remote-user": "Bo Lee"}
    body = {"case": "U", "action": "choose", "worker": "A", "reason": "r", "manager": "Eve"}
    body |= {"make_room": True}
    seen = proxy.post("/overrides?preview=1", json=body, headers=bo)
    assert seen.status_code == 200
    assert len(log.decisions()) == 1  # a preview logs nothing
    previewed = seen.json()["decision_id"]
    queued = proxy.post(f"/overrides?wait=0&previewed={previewed}", json=body, headers=bo)
    assert queued.status_code == 202
    deadline = time.monotonic() + 30
    while (job := proxy.get(queued.headers["location"], headers=bo).json())["status"] != "done":
        assert job["status"] in ("queued", "solving") and time.monotonic() < deadline, job
        time.sleep(0.02)
    reviewed = {"manager": "Eve", "decision_id": job["decision_id"]}
    assert proxy.post("/signoff", json=reviewed, headers=bo).status_code == 200
    assert [(d.kind, d.manager, d.manager_via) for d in log.decisions()] == [
        ("signoff", "Bo Lee", "sign-on"),
        ("override", "Bo Lee", "sign-on"),
        ("proposed", None, None),
    ]
    chosen = next(e for e in log.history("U") if e.event == "chosen")
    assert chosen.by == "Bo Lee (signed in: single sign-on)"
    moved = next(e for e in log.history("H1") if e.event == "moved")
    assert (moved.manager, moved.manager_via) == (None, None)
    assert moved.by == "re-solve after Bo Lee's override of U: choose A, making room"
    meeting_id = log.decisions()[0].meeting
    page = proxy.get("/history/H1", headers={**bo, **HTML}).text
    assert meeting_id in page and "re-solve after Bo Lee" in page
    assert "Bo Lee (signed in: single sign-on)" in page  # the sign-off
    log.close()
    assert "intact: 3 decisions" in _cli(db, "log", "--verify")
    shown = _cli(db, "history", "H1")
    assert meeting_id in shown and "Bo Lee (signed in: single sign-on)" in shown
