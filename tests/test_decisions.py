"""The decision log on SQLite (always) and a real PostgreSQL server (.ci/run starts one).

One meeting on a tiny service (workers A and B with room for one 3-point case each,
referrals R1 and R2): a proposed plan, an override that gives the other case to B
(so B's own case moves to A), a sign-off; then the log, a child's story, the replay
of each decision byte for byte, and the database refusing to change a row.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from builders import case, snapshot, worker
from click.testing import CliRunner
from needs import postgres_url

from allocator.cli import main
from allocator.contract.policy import Policy
from allocator.meeting.log import DecisionLog, database_url, replay
from allocator.meeting.overrides import Override, final_workers, resolve
from allocator.problems.daily import allocate

POLICY = Policy()


@pytest.fixture(params=["sqlite", "postgresql"])
def log(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[DecisionLog]:
    if request.param == "sqlite":
        opened = DecisionLog(str(tmp_path / "log.db"))
        yield opened
        opened.close()
        return
    from sqlalchemy import create_engine, text

    server = create_engine(database_url(postgres_url()), isolation_level="AUTOCOMMIT")
    name = f"allocator_test_{secrets.token_hex(4)}"
    with server.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {name}"))
    opened = DecisionLog(postgres_url().rsplit("/", 1)[0] + f"/{name}")
    try:
        yield opened
    finally:
        opened.close()
        with server.connect() as conn:
            conn.execute(text(f"DROP DATABASE {name}"))
        server.dispose()


def meeting(log: DecisionLog) -> tuple[int, int, int, str, str]:
    """Propose, override, sign off; the three decision ids, the case moved by hand, B's."""
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
    return proposed, changed, signed, other, on_b


def test_log_lists_every_decision_newest_first(log: DecisionLog) -> None:
    proposed, changed, signed, other, _ = meeting(log)
    rows = log.decisions()
    assert [(d.id, d.kind, d.manager) for d in rows] == [
        (signed, "signoff", "Ann Smith"),
        (changed, "override", "Ann"),
        (proposed, "proposed", None),
    ]
    assert rows[1].overrides[0].case == other and rows[1].stage is None
    assert rows[0].plan_sha256 == rows[1].plan_sha256  # the signed plan is the overridden one
    assert rows[2].settings["work_units"] == 1.0


def test_history_tells_the_childs_story(log: DecisionLog) -> None:
    _, changed, signed, other, on_b = meeting(log)
    story = [(e.decision_id, e.event, e.worker, e.reason, e.manager) for e in log.history(other)]
    assert story[1:] == [
        (changed, "chosen", "B", "knows the family", "Ann"),
        (
            signed,
            "signed",
            "B",
            "chosen by Ann: knows the family",
            "Ann Smith",
        ),
    ]
    moved = [(e.event, e.from_worker, e.worker) for e in log.history(on_b)]
    assert ("moved", "B", "A") in moved


def test_replay_is_byte_identical(log: DecisionLog) -> None:
    for decision in meeting(log)[:3]:
        result = replay(log, decision)
        assert result.identical, decision


def test_the_log_is_append_only(log: DecisionLog) -> None:
    from sqlalchemy import text
    from sqlalchemy.exc import DBAPIError, IntegrityError

    meeting(log)
    for statement in ("UPDATE decisions SET manager = 'Eve'", "DELETE FROM case_events"):
        with pytest.raises((DBAPIError, IntegrityError)), log.engine.begin() as conn:
            conn.execute(text(statement))
    assert log.decisions()[0].manager == "Ann Smith"


def test_commands_read_the_log(tmp_path: Path) -> None:
    db = str(tmp_path / "log.db")
    opened = DecisionLog(db)
    proposed, changed, signed, other, _ = meeting(opened)
    opened.close()
    runner = CliRunner()
    listed = runner.invoke(main, ["log", "--db", db, "--json"])
    assert listed.exit_code == 0, listed.output
    assert [d["kind"] for d in json.loads(listed.output)] == ["signoff", "override", "proposed"]
    story = runner.invoke(main, ["history", other, "--db", db, "--json"])
    assert story.exit_code == 0, story.output
    assert "knows the family" in [e["reason"] for e in json.loads(story.output)]
    table = runner.invoke(main, ["history", other, "--db", db])
    assert table.exit_code == 0 and "chosen" in table.output
    again = runner.invoke(main, ["replay", str(changed), "--db", db])
    assert again.exit_code == 0, again.output
    assert "byte-identical" in again.output
    missing = runner.invoke(main, ["replay", "99", "--db", db])
    assert missing.exit_code == 2 and "no decision 99" in missing.output


def test_rows_hold_no_free_text_but_what_a_manager_typed(log: DecisionLog) -> None:
    # A meeting with a choice, a child left unallocated and a sign-off: every reason
    # and name in the rows is one the manager typed; the allocator's sentences (why a
    # worker, why nobody) live in the stored plans, and the history reads them there.
    from sqlalchemy import text

    snap = snapshot([worker("A"), worker("B")], [case("R1"), case("R2"), case("R3")])
    plan = allocate(snap, POLICY, work_units=1.0)
    _, proposed = log.propose(snap, POLICY, plan)
    overrides = [
        Override(case="R1", action="choose", worker="B", reason="knows the family", manager="Ann")
    ]
    first = log.override(proposed, overrides, resolve(snap, POLICY, plan, overrides))
    overrides.append(
        Override(case="R2", action="unallocate", reason="family moving away", manager="Bo")
    )
    second = log.override(first, overrides, resolve(snap, POLICY, log.plan(first), overrides))
    log.sign_off(second, "Ann Smith")
    with log.engine.connect() as conn:
        reasons = {r for (r,) in conn.execute(text("SELECT reason FROM case_events"))}
        names = {m for (m,) in conn.execute(text("SELECT manager FROM decisions"))}
        events = conn.execute(text("SELECT COUNT(*) FROM case_events")).scalar()
    assert reasons == {None, "knows the family", "family moving away"}
    assert names == {None, "Ann", "Bo", "Ann Smith"}
    assert events is not None and events > 6  # proposed, chosen, unallocated, signed rows
    story = {(e.event, e.typed): e.reason for e in log.history("R2")}
    assert story["unallocated", True] == "family moving away"
    assert story["signed", False] == ("left unallocated by Bo: family moving away")
    assert story["proposed", False] == next(
        "; ".join(a.reasons) for a in plan.assignments if a.case == "R2"
    )


@pytest.mark.parametrize("url", ["mysql://bob:pw@127.0.0.1:1/db", "oracle://bob:pw@h/db"])
def test_a_database_the_log_does_not_support_says_so(url: str) -> None:
    # Not "No module named 'MySQLdb'": the log is a SQLite file or PostgreSQL.
    result = CliRunner().invoke(main, ["log"], env={"ALLOCATOR_DB": url})
    assert result.exit_code == 2
    assert "is not supported, expected a SQLite file or a postgresql:// URL" in result.stderr
    assert "No module named" not in result.stderr
    assert "pw" not in result.stderr and "bob:***@" in result.stderr


def test_a_family_actions_cause_names_every_child_of_it() -> None:
    # A second trial's: the cause named only the last sibling of a family action.
    import json

    from allocator.meeting.log import _cause

    earlier = {"case": "X", "action": "exclude", "worker": "P1", "manager": "A", "reason": "r"}
    family = {"action": "choose", "worker": "P2", "manager": "B", "reason": "f", "family": True}
    made = [earlier, {**family, "case": "C1"}, {**family, "case": "C2"}]
    assert _cause(json.dumps(made)) == (
        "re-solve after B's override of C1 + C2: choose P2 with the family"
    )
