"""The next weeks on the meeting page (issue 23, item 1: "a panel on the meeting
page"): a forecast from the plan in force, run in a worker process, shown when ready,
asked for again after overrides."""

from __future__ import annotations

import re
from pathlib import Path

from builders import AS_OF, case, snapshot, worker
from fastapi.testclient import TestClient

from allocator.daily import allocate
from allocator.decisions import DecisionLog
from allocator.policy import Policy
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
            assert client.post("/forecast", json={}).status_code == 404
        finally:
            log.close()
