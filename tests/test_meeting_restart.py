"""The meeting survives a restart (issue 22, item 4): the overrides in force and the
meeting are in the log, and ``serve`` on the same log resumes the open meeting, or
says plainly that it starts a new one and why."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
from builders import case, snapshot, worker

from allocator.contract.models import Snapshot
from allocator.contract.policy import Policy
from allocator.io import write_snapshot
from allocator.meeting.log import DecisionLog
from allocator.meeting.overrides import Override, final_workers, solver_settings
from allocator.problems.daily import allocate
from allocator.web.app import Meeting

POLICY = Policy()


def service() -> Snapshot:
    return snapshot(
        [worker("A"), worker("B"), worker("C")],
        [case("R1"), case("R2", priority="urgent"), case("R3")],
    )


def test_a_meeting_resumes_from_the_log_with_its_overrides(tmp_path: Path) -> None:
    snap, db = service(), str(tmp_path / "log.db")
    log = DecisionLog(db)
    plan = allocate(snap, POLICY, work_units=1.0)
    settings = solver_settings(plan)
    first = Meeting.open(snap, POLICY, log, plan)
    other = next(w for w in "ABC" if w != final_workers(first.plan)["R1"])
    first.override(Override(case="R1", action="choose", worker=other, reason="r", manager="Ann"))
    kept = (first.decision_id, first.plan, first.overrides)
    log.close()  # the server stops; nothing of it is left but the log

    again = DecisionLog(db)
    resumed, said = Meeting.resume(snap, POLICY, again, settings)
    assert resumed is not None
    meeting_id = again.decision(kept[0]).meeting
    assert said == (
        f"resuming meeting {meeting_id} at decision {kept[0]} (override) with 1 override in force"
    )
    assert (resumed.decision_id, resumed.overrides) == (kept[0], kept[2])
    assert final_workers(resumed.plan) == final_workers(kept[1])
    # The next override builds on the ones in force, in the same meeting.
    resumed.override(Override(case="R3", action="unallocate", reason="r", manager="Bo"))
    assert [o.case for o in resumed.overrides] == ["R1", "R3"]
    assert again.decisions()[0].meeting == meeting_id

    # Signed off: that meeting is closed, and serve says it starts a new one.
    resumed.sign_off("Bo", decision_id=resumed.decision_id)
    none, why = Meeting.resume(snap, POLICY, again, settings)
    assert none is None and why.startswith(f"the last meeting on this snapshot ({meeting_id}) "
                                           "was signed off by Bo")  # fmt: skip
    # Another day's snapshot, or other solver settings: a new meeting, said so.
    other_day = snap.model_copy(update={"cases": snap.cases[:2]})
    assert Meeting.resume(other_day, POLICY, again, settings)[1] == (
        "no meeting on this snapshot and policy in the log: starting a new one"
    )
    again.close()


def test_other_settings_start_a_new_meeting(tmp_path: Path) -> None:
    snap = service()
    log = DecisionLog(str(tmp_path / "log.db"))
    plan = allocate(snap, POLICY, work_units=1.0)
    Meeting.open(snap, POLICY, log, plan)
    none, why = Meeting.resume(
        snap, POLICY, log, solver_settings(plan).model_copy(update={"seed": 5})
    )
    assert none is None and "was solved with other settings" in why
    log.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start(tmp_path: Path, *extra: str) -> tuple[str, subprocess.Popen[str], list[str]]:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "allocator.launch", "serve", str(tmp_path / "s.json"),
         "--db", str(tmp_path / "log.db"), "--port", str(port), "--work-units", "0.5", *extra],
        stderr=subprocess.PIPE, text=True,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(Path(__file__).parent.parent)},
    )  # fmt: skip
    lines: list[str] = []

    def read() -> None:
        assert proc.stderr is not None
        lines.extend(proc.stderr)

    threading.Thread(target=read, daemon=True).start()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not any("open " in x for x in lines):
        assert proc.poll() is None, "".join(lines)
        time.sleep(0.1)
    return f"http://127.0.0.1:{port}", proc, lines


@pytest.mark.slow
def test_serve_resumes_the_meeting_after_a_crash(tmp_path: Path) -> None:
    write_snapshot(service(), tmp_path / "s.json")
    url, proc, lines = start(tmp_path)
    try:
        assert any("no meeting on this snapshot" in x for x in lines), lines
        before = httpx.get(url + "/").json()
        body = {"case": "R3", "action": "unallocate", "reason": "moving away", "manager": "Ann"}
        assert httpx.post(url + "/overrides", json=body, timeout=30).status_code == 200
        state = httpx.get(url + "/").json()
    finally:
        os.kill(proc.pid, signal.SIGKILL)  # a crash: no shutdown, no goodbye
        proc.wait(10)
    url, proc, lines = start(tmp_path)
    try:
        assert not any("solving the morning's plan" in x for x in lines), lines
        assert any(f"at decision {state['decision_id']} (override)" in x for x in lines), lines
        after = httpx.get(url + "/").json()
        assert after["decision_id"] == state["decision_id"] != before["decision_id"]
        # The plan as the log stored it: the same but for the solve's wall-clock time.
        state["plan"]["solve_seconds"] = after["plan"]["solve_seconds"] = 0
        assert after["overrides"] == state["overrides"] and after["plan"] == state["plan"]
        assert after["plan_sha256"] == state["plan_sha256"]
    finally:
        proc.terminate()
        proc.wait(10)
    url, proc, lines = start(tmp_path, "--new-meeting")
    try:
        assert any("starting a new meeting, as asked (--new-meeting)" in x for x in lines)
        assert httpx.get(url + "/").json()["overrides"] == []
    finally:
        proc.terminate()
        proc.wait(10)
