"""The morning's whole picture on the page and in the HTML report (issue 22, item 6):
today's risks, leavers and absences marked in the loads, priority, type and needs on
each row, unallocated urgent and statutory children first, days waited."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

from builders import AS_OF, case, snapshot, worker
from fastapi.testclient import TestClient

from allocator.contract.models import Snapshot
from allocator.contract.policy import Policy
from allocator.meeting.log import DecisionLog
from allocator.present.analysis import morning_risks
from allocator.present.html_report import render_report
from allocator.problems.daily import allocate
from allocator.web.app import Meeting, create_app

POLICY = Policy()
HTML = {"accept": "text/html"}


def morning() -> Snapshot:
    # L leaves tomorrow holding two children; X has been away and is for 60 more days
    # with one; O (cap 3) holds 6 points; K has room for one 3-point case only, so of
    # the two waiting children one is placed and the other, and the heavier
    # statutory court child whom nobody may hold (needs Welsh), wait.
    return snapshot(
        [
            worker("L", team="Team 01", leaving_on=AS_OF + timedelta(days=1)),
            worker("X", team="Team 01", available_from=AS_OF + timedelta(days=60)),
            worker("O", team="Team 01", capacity_points=3),
            worker("K", team="Team 01", capacity_points=3),
        ],
        [
            case("L1", worker="L"),
            case("L2", worker="L"),
            case("X1", worker="X"),
            case("O1", worker="O"),
            case("O2", worker="O"),
            case("W1", opened=AS_OF - timedelta(days=3)),
            case("W2", opened=AS_OF - timedelta(days=9)),
            case("C1", type="court", needs=["welsh"], opened=AS_OF - timedelta(days=2)),
        ],
    )


def test_the_risks_name_leavers_absences_and_over_cap_staff() -> None:
    snap = morning()
    plan = allocate(snap, POLICY, work_units=1.0)
    risks = morning_risks(snap, POLICY, plan)
    assert any(r.startswith("L leaves on 2026-11-24 (tomorrow) and still holds 2 children")
               for r in risks), risks  # fmt: skip
    assert "O is over their cap: 6 of 3 points (2 cases); allocator rebalance can relieve them" in (
        risks
    )
    assert (
        "X is absent until 2027-01-22 (a long absence) and still holds 1 child: allocator "
        "rebalance covers them" in risks
    )


def test_the_report_puts_the_picture_first_and_urgent_and_statutory_first() -> None:
    snap = morning()
    plan = allocate(snap, POLICY, work_units=1.0)
    text = render_report(snap, POLICY, plan)
    assert text.index("<h2>Today's risks</h2>") < text.index("<h2>Unallocated</h2>")
    assert text.index("<h2>Unallocated</h2>") < text.index("<h2>Loads against caps</h2>")
    unallocated = text[text.index("<h2>Unallocated</h2>") : text.index("<h2>Loads against")]
    waiting = re.findall(r"<tr><td>(\w+)</td>", unallocated)
    assert waiting[0] == "C1" and len(waiting) == 2  # the statutory child first
    assert "<td>statutory</td><td>court, complexity 2</td><td>welsh</td><td>2</td>" in unallocated
    # Team headings are the team's name, not "Team Team 01"; leavers and absences marked.
    assert "<h3>Team 01</h3>" in text and "Team Team" not in text
    assert "leaves 2026-11-24" in text and "absent until 2027-01-22" in text


def test_the_page_shows_the_picture(tmp_path: Path) -> None:
    snap = morning()
    log = DecisionLog(str(tmp_path / "log.db"))
    meeting = Meeting.open(snap, POLICY, log, allocate(snap, POLICY, work_units=1.0))
    page = TestClient(create_app(meeting, allowed_hosts=["testserver"])).get("/", headers=HTML)
    text = page.text
    assert 'id="risks"' in text and "L leaves on 2026-11-24 (tomorrow)" in text
    assert "X is absent until 2027-01-22" in text and "O is over their cap" in text
    assert "<h3>Team 01</h3>" in text and "Team Team" not in text
    assert "leaves 2026-11-24" in text and "absent until 2027-01-22" in text
    assert "court, complexity 2; needs welsh" in text
    # Within its class, an unallocated child comes before the placed ones.
    other = text[text.index("<h3>Other") :]
    rows = re.findall(r'<tr id="case-(\w+)"( class="unalloc")?', other)
    assert rows and rows[0][1] == ' class="unalloc"' and all(r[1] == "" for r in rows[1:])
    # The court child nobody may hold (needs Welsh) is not said to lack room: a
    # manager reading "nobody has room" looks for room, which would not help.
    row = text[text.index('id="case-C1"') :].split("</tr>")[0]
    assert "nobody the rules allow may hold this child (no room would help)" in row
    assert "has room under this plan" not in row
    log.close()


def test_a_leavers_children_without_a_handover_are_counted() -> None:
    from allocator.contract.models import Handover

    snap = morning()
    plan = allocate(snap, POLICY, work_units=1.0)
    # One of L's two children handed over to K before L goes; the other has none.
    day = AS_OF
    handover = Handover.model_validate(
        {"case": "L1", "worker": "K", "from": "L", "on": day, "departs": day + timedelta(days=1),
         "notice_days": 0}
    )  # fmt: skip
    risks = morning_risks(snap, POLICY, plan.model_copy(update={"handovers": (handover,)}))
    assert any(
        r.startswith(
            "L leaves on 2026-11-24 (tomorrow) and still holds 2 children (1 handover "
            "planned, 1 without one)"
        )
        for r in risks
    ), risks


def test_the_plans_status_is_said_in_plain_words(tmp_path: Path) -> None:
    snap = morning()
    plan = allocate(snap, POLICY, work_units=1.0)
    assert plan.status == "optimal"
    assert "proved the best plan the rules allow" in render_report(snap, POLICY, plan)
    log = DecisionLog(str(tmp_path / "log.db"))
    meeting = Meeting.open(snap, POLICY, log, plan)
    page = TestClient(create_app(meeting, allowed_hosts=["testserver"])).get("/", headers=HTML)
    assert "proved the best plan the rules allow" in page.text and "status optimal" not in page.text
    log.close()


def test_the_alternatives_never_offer_a_worker_the_manager_kept_the_child_off(
    tmp_path: Path,
) -> None:
    # R goes to A; B and C could take R too. Kept off B by a manager, R's alternatives
    # name C only (a fresh trial's page offered the excluded worker back).
    from allocator.meeting.overrides import Override

    snap = snapshot(
        [worker(w, capacity_points=9) for w in "ABC"], [case("R", previous_workers=["A"])]
    )
    policy = Policy()
    log = DecisionLog(str(tmp_path / "log.db"))
    meeting = Meeting.open(snap, policy, log, allocate(snap, policy, work_units=1.0))
    assert {w for w, _ in meeting.alternatives()["R"]} >= {"B", "C"}
    meeting.override(
        Override(case="R", action="exclude", worker="B", reason="complaint", manager="Ann")
    )
    assert "B" not in {w for w, _ in meeting.alternatives()["R"]}
    assert "C" in {w for w, _ in meeting.alternatives()["R"]}
    log.close()
