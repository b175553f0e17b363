"""Faults a fresh user found in the meeting: each kind refused with a clear answer.

A tiny service: social workers A and B, a student S (who may hold nothing above
complexity 1 under the default policy), a worker L who left yesterday; referrals R1 and
R2 (complexity 2), and an open case K held by A.
"""

from __future__ import annotations

import re
import socket
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from builders import AS_OF, case, snapshot, worker
from click.testing import CliRunner
from fastapi.testclient import TestClient

from allocator.cli import main
from allocator.contract.models import Assignment
from allocator.contract.policy import Policy
from allocator.io import write_json, write_snapshot
from allocator.meeting.log import DecisionLog
from allocator.meeting.overrides import Override, merge_override
from allocator.problems.daily import allocate
from allocator.web.app import Meeting, create_app

HTML = {"accept": "text/html"}
ROOT = Path(__file__).resolve().parent.parent


def service():  # type: ignore[no-untyped-def]
    return snapshot(
        [
            worker("A"),
            worker("B"),
            worker("S", grade="student"),
            worker("L", leaving_on=AS_OF - timedelta(days=1)),
        ],
        [case("R1"), case("R2"), case("K", worker="A")],
    )


@pytest.fixture
def meeting(tmp_path: Path) -> Iterator[Meeting]:
    snap, policy = service(), Policy()
    log = DecisionLog(str(tmp_path / "log.db"))
    yield Meeting.open(snap, policy, log, allocate(snap, policy, work_units=1.0))
    log.close()


@pytest.fixture
def client(meeting: Meeting) -> TestClient:
    return TestClient(create_app(meeting, allowed_hosts=["testserver"]))


def choose(cid: str, wid: str) -> dict[str, str]:
    return {"case": cid, "action": "choose", "worker": wid, "reason": "r", "manager": "Mo"}


# ---------------------------------------------------------------- 1. overrides


@pytest.mark.parametrize(
    ("cid", "wid", "rule"),
    [
        ("R1", "S", "grade"),  # a student may hold nothing above complexity 1
        ("R2", "L", "gone_worker"),  # L has left
    ],
)
def test_override_to_a_worker_who_may_not_hold_the_case_is_refused(
    client: TestClient, meeting: Meeting, cid: str, wid: str, rule: str
) -> None:
    before = len(meeting.log.decisions())
    answer = client.post("/overrides", json=choose(cid, wid))
    assert answer.status_code == 422
    detail = answer.json()["detail"]
    assert f"{wid} may not hold {cid}" in detail and f"(rule {rule})" in detail
    assert len(meeting.log.decisions()) == before and meeting.overrides == []


def test_page_form_refuses_the_same_override(client: TestClient, meeting: Meeting) -> None:
    token = re.search(r'name="csrf" value="([^"]+)"', client.get("/", headers=HTML).text)
    assert token is not None
    answer = client.post(
        "/overrides", data={**choose("R1", "S"), "csrf": token.group(1)}, headers=HTML
    )
    assert answer.status_code == 422
    assert 'id="error"' in answer.text and "S may not hold R1" in answer.text
    assert "(rule grade)" in answer.text and meeting.overrides == []


def test_a_worker_who_may_hold_the_case_is_accepted(client: TestClient) -> None:
    assert client.post("/overrides", json=choose("R2", "B")).status_code == 200


def test_a_later_override_of_a_case_replaces_the_earlier(
    client: TestClient, meeting: Meeting
) -> None:
    assert client.post("/overrides", json=choose("R2", "A")).status_code == 200
    assert client.post("/overrides", json=choose("R2", "B")).status_code == 200
    state = client.get("/").json()
    assert [(o["case"], o["worker"]) for o in state["overrides"]] == [("R2", "B")]
    assert meeting.log.decisions()[0].overrides == tuple(meeting.overrides)


def test_merge_keeps_what_still_holds_beside_an_exclusion() -> None:
    # Choose A, keep off B: both hold. Keep off A then: it replaces the choice of A.
    pick = Override(case="R2", action="choose", worker="A", reason="r", manager="Mo")
    off_b = Override(case="R2", action="exclude", worker="B", reason="r", manager="Mo")
    off_a = Override(case="R2", action="exclude", worker="A", reason="r", manager="Mo")
    other = Override(case="R1", action="choose", worker="A", reason="r", manager="Mo")
    assert merge_override([other, pick], off_b) == [other, pick, off_b]
    assert merge_override([other, pick, off_b], off_a) == [other, off_b, off_a]
    gone = Override(case="R2", action="unallocate", reason="r", manager="Mo")
    assert merge_override([other, pick, off_b], gone) == [other, gone]


def test_unallocate_naming_a_worker_is_refused(client: TestClient) -> None:
    body = {"case": "R2", "action": "unallocate", "worker": "A", "reason": "r", "manager": "Mo"}
    answer = client.post("/overrides", json=body)
    assert answer.status_code == 422 and "names no worker" in answer.json()["detail"]


def test_a_signed_plan_is_not_signed_again_until_a_new_decision(
    client: TestClient, meeting: Meeting
) -> None:
    seen = meeting.decision_id
    assert client.post("/signoff", json={"manager": "Ann", "decision_id": seen}).status_code == 200
    again = client.post("/signoff", json={"manager": "Bob", "decision_id": seen})
    assert again.status_code == 409 and "signed off by Ann" in again.json()["detail"]
    assert [d.kind for d in meeting.log.decisions()].count("signoff") == 1
    assert client.post("/overrides", json=choose("R2", "B")).status_code == 200
    seen = meeting.decision_id
    assert client.post("/signoff", json={"manager": "Bob", "decision_id": seen}).status_code == 200


def test_signoff_refuses_unknown_fields(client: TestClient, meeting: Meeting) -> None:
    answer = client.post("/signoff", json={"manager": "Ann", "plan": 3, "decision_id": 1})
    assert answer.status_code == 422 and "plan" in answer.json()["detail"]
    assert meeting.signed is None


# ---------------------------------------------------------------- 2, 3. the log's URL


@pytest.mark.parametrize("command", [["log"], ["history", "C1"], ["replay", "1"]])
def test_a_password_is_never_printed(command: list[str]) -> None:
    # Given where it belongs (ALLOCATOR_DB), a URL whose server cannot be reached is
    # one line with the password hidden.
    db = "postgresql://u:secretpw@127.0.0.1:1/x"
    result = CliRunner().invoke(main, command, env={"ALLOCATOR_DB": db})
    assert result.exit_code == 2
    assert "secretpw" not in result.output and "sqlalche.me" not in result.output
    assert "postgresql://u:***@127.0.0.1:1/x" in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_serve_masks_the_password(tmp_path: Path) -> None:
    write_snapshot(service(), tmp_path / "s.json")
    db = "postgresql://u:secretpw@127.0.0.1:1/x"
    result = CliRunner().invoke(
        main, ["serve", str(tmp_path / "s.json"), "--port", "0"], env={"ALLOCATOR_DB": db}
    )
    assert result.exit_code == 2
    assert "secretpw" not in result.output and "sqlalche.me" not in result.output
    assert "postgresql://u:***@127.0.0.1:1/x" in result.output


@pytest.mark.parametrize("command", [["log"], ["history", "C1"], ["replay", "1"]])
def test_a_missing_sqlite_log_is_an_error_and_is_not_created(
    tmp_path: Path, command: list[str]
) -> None:
    missing = tmp_path / "missing.db"
    result = CliRunner().invoke(main, [*command, "--db", str(missing)])
    assert result.exit_code == 2
    assert result.output.strip() == f"error: no decision log at {missing}"
    assert not missing.exists()


def test_import_ssd_refuses_a_missing_sqlite_file(tmp_path: Path) -> None:
    missing = tmp_path / "ssd.db"
    result = CliRunner().invoke(
        main,
        ["import", "ssd", f"sqlite:///{missing}", "--mapping",
         str(ROOT / "examples" / "ssd" / "mapping.toml"), "--as-of", "2026-11-23", "--out",
         str(tmp_path / "snap.json")],
    )  # fmt: skip
    assert result.exit_code == 2, result.output
    assert "no such SQLite file" in result.output and "table" not in result.output
    assert not missing.exists()


# ---------------------------------------------------------------- 4. serve's port


def test_serve_on_a_port_in_use_logs_nothing(tmp_path: Path) -> None:
    write_snapshot(service(), tmp_path / "s.json")
    db = tmp_path / "log.db"
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = CliRunner().invoke(
            main, ["serve", str(tmp_path / "s.json"), "--db", str(db), "--port", str(port)]
        )
    assert result.exit_code == 2
    assert f"cannot listen on 127.0.0.1:{port}" in result.output
    assert "solving" not in result.output and not db.exists()


# ---------------------------------------------------------------- 5. history of an unknown case


def test_history_of_an_unknown_case_is_404_and_of_a_quiet_case_empty(
    client: TestClient,
) -> None:
    assert client.get("/history/C999999").status_code == 404
    quiet = client.get("/history/K")  # in the snapshot, no decision touched it
    assert quiet.status_code == 200 and quiet.json() == []


def test_history_command_of_an_unknown_case_exits_2(meeting: Meeting, tmp_path: Path) -> None:
    db = str(tmp_path / "log.db")
    runner = CliRunner()
    unknown = runner.invoke(main, ["history", "C999999", "--db", db])
    assert unknown.exit_code == 2 and "C999999" in unknown.output
    quiet = runner.invoke(main, ["history", "K", "--db", db, "--json"])
    assert quiet.exit_code == 0 and quiet.output.strip() == "[]"


# ---------------------------------------------------------------- 6. report


def test_report_refuses_a_plan_that_breaks_a_hard_rule(tmp_path: Path) -> None:
    snap = service()
    plan = allocate(snap, Policy(), work_units=1.0)
    bad = plan.model_copy(
        update={"assignments": (*plan.assignments[1:], Assignment(case=plan.assignments[0].case,
                                                                  worker="P9999"))}
    )  # fmt: skip
    write_snapshot(snap, tmp_path / "s.json")
    write_json(tmp_path / "plan.json", bad)
    out = tmp_path / "r.html"
    result = CliRunner().invoke(
        main,
        ["report", str(tmp_path / "plan.json"), "--snapshot", str(tmp_path / "s.json"),
         "--out", str(out)],
    )  # fmt: skip
    assert result.exit_code == 2
    assert "unknown_worker" in result.output and "P9999" in result.output
    assert not out.exists()


def test_report_loads_come_from_the_snapshot_given(tmp_path: Path) -> None:
    snap = service()
    plan = allocate(snap, Policy(), work_units=1.0)
    # Same people and cases, but K now weighs 40 points: A holds 40 before, not 3.
    heavier = snap.model_copy(
        update={"cases": tuple(
            c.model_copy(update={"weight": 40.0}) if c.id == "K" else c for c in snap.cases
        )}
    )  # fmt: skip
    write_snapshot(heavier, tmp_path / "s.json")
    write_json(tmp_path / "plan.json", plan)
    out = tmp_path / "r.html"
    result = CliRunner().invoke(
        main,
        ["report", str(tmp_path / "plan.json"), "--snapshot", str(tmp_path / "s.json"),
         "--out", str(out)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "A before: 40 of" in out.read_text()
