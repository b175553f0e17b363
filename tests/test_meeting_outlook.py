"""The next weeks on the meeting page (issue 23, item 1: "a panel on the meeting
page"): a forecast from the plan in force, run in a worker process, shown when ready,
asked for again after overrides."""

from __future__ import annotations

import re
from pathlib import Path

from builders import AS_OF, case, snapshot, worker
from fastapi.testclient import TestClient

from allocator.contract.policy import Policy
from allocator.meeting.log import DecisionLog
from allocator.problems.daily import allocate
from allocator.web.app import Meeting, create_app
from allocator.web.outlook import Outlook

POLICY = Policy()
HTML = {"accept": "text/html"}


def leaver_service():  # type: ignore[no-untyped-def]
    """L leaves on AS_OF + 10 days holding L1 and L2; K is full (cap 3, 3 held), so
    nobody may take them: in every simulated future both lose their worker in week 2."""
    from datetime import timedelta

    return snapshot(
        [
            worker("L", leaving_on=AS_OF + timedelta(days=10)),
            worker("K", capacity_points=3),
        ],
        [case("L1", worker="L"), case("L2", family="F2", worker="L"), case("K1", worker="K")],
    )


def open_meeting(tmp_path: Path, outlook: Outlook | None):  # type: ignore[no-untyped-def]
    snap = leaver_service()
    plan = allocate(snap, POLICY, work_units=1.0)
    log = DecisionLog(str(tmp_path / "log.db"))
    meeting = Meeting.open(snap, POLICY, log, plan)
    app = create_app(meeting, allowed_hosts=["testserver"], outlook=outlook)
    return meeting, TestClient(app), log


def test_the_page_shows_the_next_weeks_once_the_forecast_is_ready(tmp_path: Path) -> None:
    outlook = Outlook(weeks=3, runs=4, seed=1)
    meeting, client, log = open_meeting(tmp_path, outlook)
    try:
        running = client.get("/", headers=HTML).text
        assert "The next weeks" in running
        state = outlook.wait(timeout=120)
        assert state.status == "ready", state.error
        page = client.get("/", headers=HTML).text
        assert f"Forecast from decision {meeting.decision_id}" in page
        rows = re.findall(r"<tr><td>(L\d)</td><td>L</td><td>(\d+)%</td><td>(\d*)</td>", page)
        # Known today and certain: both of L's children lose their worker in week 2
        # (L goes on day 10), in every run.
        assert sorted(rows) == [("L1", "100", "2"), ("L2", "100", "2")]
        assert "the 2 most likely of 2" in page
        every = client.get("/forecast/children.csv")
        assert every.headers["content-type"].startswith("text/csv")
        assert {"L1", "L2"} <= {line.split(",")[0] for line in every.text.splitlines()[1:]}
        data = client.get("/forecast").json()
        assert data["status"] == "ready" and "chart" not in data
        assert data["lines"][0].startswith(f"Forecast from {AS_OF.isoformat()}")
        chart = client.get("/forecast.png")
        assert chart.headers["content-type"] == "image/png"
        assert chart.content.startswith(b"\x89PNG")
        # Asked again from the plan in force: the same seed, the same figures.
        again = client.post("/forecast", json={})
        assert again.status_code == 202 and again.json()["started"] is True
        assert outlook.wait(timeout=120).figures["lines"] == data["lines"]
        # A form without the page's CSRF token is refused; JSON with a field is 422.
        assert client.post("/forecast", data={"x": "1"}).status_code == 403
        assert client.post("/forecast", json={"weeks": 9}).status_code == 422
    finally:
        outlook.shutdown()
        log.close()


def test_no_panel_and_404_when_the_meeting_makes_no_forecast(tmp_path: Path) -> None:
    for outlook in (None, Outlook(runs=0)):
        folder = tmp_path / ("none" if outlook is None else "off")
        folder.mkdir()
        _, client, log = open_meeting(folder, outlook)
        try:
            assert "The next weeks" not in client.get("/", headers=HTML).text
            assert client.get("/forecast").status_code == 404
            assert client.get("/forecast.png").status_code == 404
            assert client.get("/forecast/children.csv").status_code == 404
            assert client.post("/forecast", json={}).status_code == 404
        finally:
            log.close()


def test_a_forecast_whose_process_dies_fails_and_may_be_asked_again(tmp_path: Path) -> None:
    # A fresh user killed the forecast's process: the panel said "running" for good
    # and POST /forecast would not start another. Now the watcher sees it end.
    import os
    import signal
    import time

    outlook = Outlook(weeks=52, runs=1000, seed=1)  # minutes: far longer than we wait
    _, client, log = open_meeting(tmp_path, outlook)
    try:
        process = outlook._process
        deadline = time.monotonic() + 30
        while process.pid is None and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(1)
        assert client.get("/forecast").json()["status"] == "running"
        assert client.get("/forecast").json()["running_seconds"] > 0
        assert client.post("/forecast", json={}).status_code == 409  # one at a time
        os.kill(process.pid, signal.SIGKILL)
        state = outlook.wait(timeout=30)
        assert state.status == "failed"
        assert state.error == "the forecast's process ended without a result (exit code -9)"
        assert "ended without a result (exit code -9)" in client.get("/", headers=HTML).text
        # Asked again, it starts (and is stopped here at once).
        assert client.post("/forecast", json={}).json()["started"] is True
    finally:
        outlook.shutdown()
        log.close()
    assert not outlook._process.is_alive()


def test_the_forecast_process_dies_with_a_killed_server(tmp_path: Path) -> None:
    # A fresh user's `kill -9` of serve left the forecast running for minutes; the
    # process now reads the end of a lifeline the server held.
    import os
    import signal
    import subprocess
    import sys
    import time

    script = (
        "import sys, time\n"
        "sys.path.insert(0, sys.argv[1])\n"
        "from test_meeting_outlook import leaver_service\n"
        "from allocator.problems.daily import allocate\n"
        "from allocator.contract.policy import Policy\n"
        "from allocator.web.outlook import Outlook\n"
        "snap = leaver_service()\n"
        "o = Outlook(weeks=52, runs=1000)\n"
        "o.start(snap, Policy(), allocate(snap, Policy(), work_units=1.0), 'decision 1')\n"
        "print(o._process.pid, flush=True)\n"
        "time.sleep(600)\n"
    )
    tests = str(Path(__file__).parent)
    server = subprocess.Popen(
        [sys.executable, "-c", script, tests], stdout=subprocess.PIPE, text=True,
        cwd=str(Path(__file__).parent.parent),
    )  # fmt: skip
    try:
        assert server.stdout is not None
        child = int(server.stdout.readline())
        time.sleep(1)
        os.kill(child, 0)  # running
        server.send_signal(signal.SIGKILL)
        server.wait(10)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                os.kill(child, 0)
            except ProcessLookupError:
                break
            # A zombie is gone too: it holds no CPU (its parent, init, reaps it).
            stat = Path(f"/proc/{child}/stat")
            if stat.exists() and stat.read_text().split()[2] == "Z":
                break
            time.sleep(0.1)
        else:
            os.kill(child, signal.SIGKILL)
            raise AssertionError("the forecast outlived the server")
    finally:
        if server.poll() is None:
            server.kill()
