"""The meeting keeps the handovers promised before it (``serve --handovers``): every
re-solve, preview, ranking, resume and forecast of the meeting keeps each promised
receiver's room, the page says whose, and the log records them so replay holds.

A service worked out by hand: P4 leaves on 11 December holding C6 (5 points), which
an earlier plan promised to P5 (cap 5) on 10 December; P6 (cap 6) has room for the
two referrals R1 and R2 (3 points each). With the promise, P5 has nothing spare.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from builders import case, snapshot, worker
from fastapi.testclient import TestClient

from allocator.contract.models import Handover, Plan, Snapshot
from allocator.contract.policy import Policy
from allocator.meeting.log import DecisionLog, replay
from allocator.meeting.overrides import (
    Override,
    OverrideRefused,
    final_workers,
    resolve,
    solver_settings,
)
from allocator.problems.daily import allocate
from allocator.web.app import Meeting, create_app
from allocator.web.outlook import Outlook, panel

POLICY = Policy()
LEAVES = date(2026, 12, 11)
HANDOVER_DAY = date(2026, 12, 10)
HTML = {"accept": "text/html"}


def service() -> Snapshot:
    return snapshot(
        [
            worker("P4", leaving_on=LEAVES),
            worker("P5", capacity_points=5.0),
            worker("P6", capacity_points=6.0),
        ],
        [case("C6", worker="P4", weight=5.0), case("R1"), case("R2")],
    )


PROMISE = Handover.model_validate(
    {
        "case": "C6",
        "worker": "P5",
        "from": "P4",
        "on": HANDOVER_DAY,
        "departs": LEAVES,
        "notice_days": 17,
    }
)


def by(**fields: object) -> Override:
    values: dict[str, object] = {"manager": "Ann", "reason": "known to the family"}
    values.update(fields)
    return Override.model_validate(values)


def morning(snap: Snapshot) -> Plan:
    return allocate(snap, POLICY, work_units=1.0, handovers=(PROMISE,))


@pytest.fixture
def meeting(tmp_path: Path) -> Iterator[Meeting]:
    snap = service()
    log = DecisionLog(str(tmp_path / "log.db"))
    yield Meeting.open(snap, POLICY, log, morning(snap), (PROMISE,))
    log.close()


def test_an_overrides_re_solve_keeps_the_promised_room(meeting: Meeting) -> None:
    # The morning's plan gives both referrals to P6 (P5's 5 points are C6's).
    assert final_workers(meeting.plan) == {"R1": "P6", "R2": "P6"}
    # The manager keeps R2 off P6. The re-solve would give R2 P5's room if it did not
    # know the promise (as every re-solve of the meeting did before serve --handovers).
    keep_off = by(case="R2", action="exclude", worker="P6")
    blind = resolve(meeting.snapshot, POLICY, meeting.plan, [keep_off])
    assert final_workers(blind.plan)["R2"] == "P5"
    meeting.override(keep_off)
    assert final_workers(meeting.plan)["R2"] is None
    (left,) = meeting.plan.unallocated
    assert left.code == "no_capacity"
    assert any(n.startswith("room kept for 1 handover") for n in meeting.plan.notes)
    # Replay re-solves each decision from the log, the promise included: byte for byte.
    for decision in meeting.log.decisions():
        assert replay(meeting.log, decision.id).identical, decision
    meeting.sign_off("Ann", decision_id=meeting.decision_id)
    assert replay(meeting.log, meeting.log.decisions()[0].id).identical
    assert len({d.handovers_sha256 for d in meeting.log.decisions()}) == 1


def test_choosing_the_promised_receiver_is_refused_saying_whose_room_it_is(
    meeting: Meeting,
) -> None:
    with pytest.raises(OverrideRefused) as refused:
        meeting.override(by(case="R2", action="choose", worker="P5"))
    said = str(refused.value)
    assert "P5 has 0.0 spare under the plan in force" in said and said.count("spare") == 1, said
    assert "5.0 points kept for the handover of C6 on 2026-12-10" in said, said
    assert len(meeting.log.decisions()) == 1  # nothing logged


def test_an_override_of_the_promised_child_releases_the_room(meeting: Meeting) -> None:
    # The manager gives C6 to P6 instead: the promise is replaced, P5's room is free,
    # and a referral may take it; the page says the promise keeps no room.
    # R2, given P6's room by the plan, loses it: seen in the preview first.
    meeting.override(by(case="C6", action="choose", worker="P6", over_cap=False), previewed=True)
    placed = final_workers(meeting.plan)
    assert placed["C6"] == "P6" and "P5" in (placed["R1"], placed["R2"])
    (shown,) = meeting.promises()
    assert shown["standing"] is False and shown["room_kept"] == 0.0
    assert meeting.promised == ()


def test_the_page_lists_the_promise_and_an_override_keeps_its_room(meeting: Meeting) -> None:
    client = TestClient(create_app(meeting, allowed_hosts=["testserver"]))
    page = client.get("/", headers=HTML).text
    assert "Handovers promised before today" in page
    row = page.split('id="promises"')[1].split("</table>")[0]
    for text in ("C6", "P4", "P5", "2026-12-10", "5.0 points"):
        assert text in row, (text, row)
    answer = client.post(
        "/overrides",
        json={
            "case": "R2",
            "action": "exclude",
            "worker": "P6",
            "reason": "conflict",
            "manager": "Ann",
        },
    )
    assert answer.status_code == 200, answer.text
    state = client.get("/").json()
    placed = {a["case"]: a["worker"] for a in state["plan"]["assignments"]}
    assert "R2" not in placed  # P5's room stayed C6's
    assert state["handovers"] == [
        {
            "case": "C6",
            "from": "P4",
            "worker": "P5",
            "on": "2026-12-10",
            "room_kept": 5.0,
            "standing": True,
        }
    ]
    # The risks count the promise as planned: P4's child is not "without a handover".
    assert "P4 leaves" not in client.get("/", headers=HTML).text
    report = client.get("/report.html").text
    assert "Handovers promised before today" in report and "P4 leaves" not in report
    # Nobody is offered as R2's alternative on P5's kept room.
    assert all(w != "P5" for w, _ in meeting.alternatives()["R2"])


def test_a_restart_resumes_only_with_the_same_promises(meeting: Meeting) -> None:
    meeting.override(by(case="R2", action="exclude", worker="P6"))
    settings = solver_settings(meeting.plan)
    resumed, said = Meeting.resume(meeting.snapshot, POLICY, meeting.log, settings, (PROMISE,))
    assert resumed is not None and said.startswith("resuming meeting")
    assert resumed.handovers == (PROMISE,) and resumed.promised == (PROMISE,)
    # Its next re-solve still keeps the room.
    resumed.override(by(case="R1", action="exclude", worker="P6"))
    assert final_workers(resumed.plan) == {"R1": None, "R2": None}
    # Without --handovers the open meeting is not taken up silently.
    none, why = Meeting.resume(meeting.snapshot, POLICY, meeting.log, settings)
    assert none is None
    assert "kept room for 1 promised handover (C6 to P5)" in why, why
    assert "asked to keep it for no promised handover (--handovers): starting a new one" in why


def test_the_forecast_keeps_the_promise(meeting: Meeting) -> None:
    # The panel's service is the plan carried out with the promise kept: C6 has a
    # handover, not "none yet".
    figures = panel(meeting.snapshot, POLICY, meeting.plan, 3, 2, 0, meeting.promised)
    (c6,) = [c for c in figures["children"] if c["case"] == "C6"]
    assert c6["handover"], c6
    blind = panel(meeting.snapshot, POLICY, meeting.plan, 3, 2, 0)
    assert not [c for c in blind["children"] if c["case"] == "C6"][0]["handover"]

    # The page starts (and restarts) its forecast with the promises standing.
    asked: list[Any] = []

    class Recording(Outlook):
        def start(self, *args: Any, **kwargs: Any) -> bool:
            asked.append(kwargs.get("handovers"))
            return False

    client = TestClient(create_app(meeting, allowed_hosts=["testserver"], outlook=Recording()))
    assert client.post("/forecast", json={}).status_code == 409
    assert asked == [(PROMISE,), (PROMISE,)]


def test_serve_warns_of_a_pending_file_beside_the_snapshot_left_out(tmp_path: Path) -> None:
    # A fresh user's morning: apply wrote s.handovers.json beside the snapshot, and
    # serve was started without it. It says so before anything is solved.
    import socket

    from click.testing import CliRunner

    from allocator.cli import main
    from allocator.contract.models import PendingHandovers
    from allocator.io import write_json, write_snapshot

    write_snapshot(service(), tmp_path / "s.json")
    write_json(tmp_path / "s.handovers.json", PendingHandovers(as_of=service().as_of,
               handovers=(PROMISE,)))  # fmt: skip
    with socket.socket() as taken:  # serve stops at the port, before any solve
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        result = CliRunner().invoke(
            main, ["serve", str(tmp_path / "s.json"), "--db", str(tmp_path / "log.db"),
                   "--port", port])  # fmt: skip
    assert result.exit_code == 2, result.output
    said = " ".join(result.stderr.split())
    assert f"give --handovers {tmp_path / 's.handovers.json'} to keep their receivers' room" in (
        said
    )
    assert not (tmp_path / "log.db").exists()


@pytest.mark.slow
def test_serve_handovers_keeps_the_room_from_the_first_plan(tmp_path: Path) -> None:
    import httpx

    from allocator.contract.models import PendingHandovers
    from allocator.io import write_json, write_snapshot
    from tests.test_meeting_restart import start

    write_snapshot(service(), tmp_path / "s.json")
    pending = tmp_path / "pending.json"
    write_json(pending, PendingHandovers(as_of=service().as_of, handovers=(PROMISE,)))
    url, proc, lines = start(tmp_path, "--handovers", str(pending), "--forecast-runs", "0")
    try:
        state = httpx.get(url + "/").json()
        placed = {a["case"]: a["worker"] for a in state["plan"]["assignments"]}
        assert placed == {"R1": "P6", "R2": "P6"}, lines
        assert [h["case"] for h in state["handovers"]] == ["C6"]
    finally:
        proc.terminate()
        proc.wait(10)
    log = DecisionLog(str(tmp_path / "log.db"), create=False)
    (proposed,) = log.decisions()
    assert log.handovers(proposed) == (PROMISE,)
    assert replay(log, proposed.id).identical
    log.close()
