"""The meeting's web application through FastAPI's test client: page, JSON API, safety.

A tiny service: workers A, B, C (100 points each) and three referrals, one with an id
that is HTML (``R<b>3``), to see that every id is escaped.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from builders import case, snapshot, worker
from fastapi.testclient import TestClient

from allocator.contract.policy import Policy
from allocator.meeting.log import DecisionLog
from allocator.meeting.overrides import final_workers
from allocator.problems.daily import allocate
from allocator.web.app import Meeting, create_app

HTML = {"accept": "text/html"}
ODD = "R<b>3"


@pytest.fixture
def meeting(tmp_path: Path) -> Iterator[Meeting]:
    snap = snapshot(
        [worker("A"), worker("B", team="B"), worker("C")],
        [case("R1"), case("R2", priority="urgent"), case(ODD)],
    )
    policy = Policy()
    log = DecisionLog(str(tmp_path / "log.db"))
    yield Meeting.open(snap, policy, log, allocate(snap, policy, work_units=1.0))
    log.close()


@pytest.fixture
def client(meeting: Meeting) -> TestClient:
    return TestClient(create_app(meeting, allowed_hosts=["testserver"]))


def csrf_of(client: TestClient) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', client.get("/", headers=HTML).text)
    assert found is not None
    return found.group(1)


def test_page_shows_cases_by_class_loads_and_escapes_ids(client: TestClient) -> None:
    page = client.get("/", headers=HTML)
    assert page.status_code == 200
    text = page.text
    assert "<h3>Urgent (1)</h3>" in text and 'id="case-R1"' in text
    assert ODD not in text and "R&lt;b&gt;3" in text
    assert "<svg" in text and "/workers/A" in text  # the loads chart links statements
    assert 'action="/signoff"' in text and "/report.html" in text


def test_json_on_the_same_route(client: TestClient, meeting: Meeting) -> None:
    state = client.get("/").json()
    assert state["decision_id"] == meeting.decision_id
    assert {a["case"] for a in state["plan"]["assignments"]} == {"R1", "R2", ODD}
    schema = client.get("/openapi.json").json()
    assert {"/", "/overrides", "/signoff", "/plan.json", "/report.html"} <= set(schema["paths"])
    body = schema["paths"]["/overrides"]["post"]["requestBody"]["content"]
    assert {"application/json", "application/x-www-form-urlencoded"} <= set(body)


def test_override_by_json_resolves_and_logs(client: TestClient, meeting: Meeting) -> None:
    before = final_workers(meeting.plan)
    other = next(w for w in "ABC" if w != before["R1"])
    answer = client.post(
        "/overrides",
        json={"case": "R1", "action": "choose", "worker": other, "reason": "r", "manager": "Mo"},
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["reference_changes"] == 0 and answer.json()["moved"] == []
    assert final_workers(meeting.plan)["R1"] == other
    kinds = [d["kind"] for d in client.get("/log").json()]
    assert kinds == ["override", "proposed"]
    bad = client.post(
        "/overrides",
        json={"case": "NOPE", "action": "unallocate", "reason": "r", "manager": "Mo"},
    )
    assert bad.status_code == 422 and "NOPE" in bad.json()["detail"]
    no_reason = client.post("/overrides", json={"case": "R1", "action": "unallocate"})
    assert no_reason.status_code == 422


def test_form_override_needs_the_pages_token_and_origin(client: TestClient) -> None:
    form = {"case": "R1", "action": "unallocate", "worker": "", "reason": "r", "manager": "Mo"}
    assert client.post("/overrides", data=form).status_code == 403  # no token
    assert client.post("/overrides", data={**form, "csrf": "forged"}).status_code == 403
    token = csrf_of(client)
    elsewhere = client.post(
        "/overrides", data={**form, "csrf": token}, headers={"origin": "http://evil.example"}
    )
    assert elsewhere.status_code == 403
    assert (
        client.post("/overrides", content=b"x", headers={"content-type": "text/plain"}).status_code
        == 415
    )
    done = client.post(
        "/overrides",
        data={**form, "csrf": token},
        headers={**HTML, "origin": "http://testserver"},
        follow_redirects=False,
    )
    assert done.status_code == 303 and done.headers["location"] == "/"
    page = client.get("/", headers=HTML).text
    assert "left unallocated by Mo: r" in page and 'id="moved"' in page


def test_sign_off_and_downloads(client: TestClient, meeting: Meeting) -> None:
    assert client.post("/signoff", json={"manager": ""}).status_code == 422
    signed = client.post(
        "/signoff", json={"manager": "Ann Smith", "decision_id": meeting.decision_id}
    )
    assert signed.status_code == 200
    assert meeting.log.decisions()[0].kind == "signoff"
    assert "Signed off by Ann Smith" in client.get("/", headers=HTML).text
    plan = client.get("/plan.json")
    assert plan.headers["content-disposition"].startswith("attachment")
    assert plan.json()["format"] == "allocation-plan/1"
    report = client.get("/report.html").text
    assert "signed off by Ann Smith" in report and "<script" not in report


def test_worker_statement_and_history(client: TestClient) -> None:
    assert client.get("/workers/A").json()["worker"] == "A"
    assert "Workload statement: A" in client.get("/workers/A", headers=HTML).text
    assert client.get("/workers/NOPE").status_code == 404
    assert [e["event"] for e in client.get("/history/R1").json()] == ["proposed"]


def test_other_hosts_are_refused(meeting: Meeting) -> None:
    client = TestClient(create_app(meeting), base_url="http://evil.example")
    assert client.get("/").status_code == 400


def test_token_required_when_set(meeting: Meeting) -> None:
    token = "s3cret-s3cret-s3cret"
    client = TestClient(create_app(meeting, token=token, allowed_hosts=["testserver"]))
    assert client.get("/").status_code == 401
    assert client.get("/", headers={"authorization": "Bearer wrong"}).status_code == 401
    assert client.get("/", headers={"authorization": f"Bearer {token}"}).status_code == 200
    first = client.get(f"/?token={token}", follow_redirects=False)
    # Swapped for a session cookie and taken out of the address (issue 24).
    assert first.status_code == 303 and first.headers["location"] == "/"
    assert "allocator_token" in first.headers["set-cookie"]
    assert client.get("/plan.json").status_code == 200  # the cookie now carries it


def test_page_overrides_an_open_case_and_ranks_alternatives_again(tmp_path: Path) -> None:
    # A (cap 6) holds E, an open case of 3 points; B (cap 4) and C (cap 6) hold none.
    # R, a 3-point referral, goes to C: at B it would reach 75 % and cost balance, at
    # C 50 % costs none. R's alternatives: A (3 points of room) and B (4). The page's
    # form for any case gives E to B (not a case of today's); B then has 1 point of
    # room, so R's alternatives, ranked again on the loads after the re-solve, are A
    # alone. R stays with C.
    snap = snapshot(
        [
            worker("A", capacity_points=6),
            worker("B", capacity_points=4),
            worker("C", capacity_points=6),
        ],
        [case("E", worker="A"), case("R")],
    )
    policy = Policy()
    log = DecisionLog(str(tmp_path / "log.db"))
    meeting = Meeting.open(snap, policy, log, allocate(snap, policy, work_units=1.0))
    client = TestClient(create_app(meeting, allowed_hosts=["testserver"]))
    page = client.get("/", headers=HTML).text
    assert 'id="override-any"' in page and 'id="case-E"' not in page
    assert final_workers(meeting.plan) == {"R": "C"}
    assert sorted(w for w, _ in meeting.alternatives()["R"] if w != "C") == ["A", "B"]
    answer = client.post(
        "/overrides",
        headers={**HTML, "origin": "http://testserver"},
        data={
            "csrf": csrf_of(client),
            "case": "E",
            "action": "choose",
            "worker": "B",
            "reason": "knows the school",
            "manager": "Ann",
        },
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text
    assert final_workers(meeting.plan) == {"E": "B", "R": "C"}
    page = client.get("/", headers=HTML).text
    assert 'id="case-E"' in page and "chosen by Ann: knows the school" in page
    assert [w for w, _ in meeting.alternatives()["R"] if w != "C"] == ["A"]
    log.close()


def test_each_row_shows_the_days_the_child_has_waited(tmp_path: Path) -> None:
    # R1 was referred 40 days before as_of, R2 today: the page shows each wait.
    as_of = snapshot([worker("A")], []).as_of
    snap = snapshot(
        [worker("A")],
        [case("R1", opened=as_of - timedelta(days=40)), case("R2", opened=as_of)],
    )
    policy = Policy()
    log = DecisionLog(str(tmp_path / "log.db"))
    try:
        meeting = Meeting.open(snap, policy, log, allocate(snap, policy, work_units=1.0))
        text = (
            TestClient(create_app(meeting, allowed_hosts=["testserver"]))
            .get("/", headers=HTML)
            .text
        )
    finally:
        log.close()
    assert "<th>waited (days)</th>" in text
    row = text[text.index('id="case-R1"') :]
    assert "<td>40</td>" in row[: row.index("</tr>")]
    row = text[text.index('id="case-R2"') :]
    assert "<td>0</td>" in row[: row.index("</tr>")]


def test_alternatives_leave_out_a_worker_the_plan_brings_to_the_intake_limit(
    tmp_path: Path,
) -> None:
    # One new family a day: the plan gives R1's family to one worker and R2's to
    # another. That first worker may take no other new family today, so the page
    # must not offer them for R2 (check would refuse the plan a manager made so).
    policy = Policy(max_new_families_per_day=1)
    snap = snapshot(
        [worker("P1"), worker("P2"), worker("P3")],
        [case("H2", worker="P2", weight=60), case("H3", worker="P3", weight=70)]
        + [case("R1"), case("R2")],
    )
    plan = allocate(snap, policy, work_units=1.0)
    placed = final_workers(plan)
    log = DecisionLog(str(tmp_path / "log.db"))
    meeting = Meeting.open(snap, policy, log, plan)
    offered = [w for w, _ in meeting.alternatives()["R2"]]
    assert placed["R1"] not in offered and placed["R2"] not in offered
    assert offered  # the third worker, who takes no new family in the plan
    log.close()
