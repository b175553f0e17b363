"""History tells who did what (issue 22, item 2): the manager's override, the
re-solve's consequent moves named as such with the override that caused them, and
the sign-off, each with its meeting.

Workers A and B each have room for one 3-point case; referrals R1 and R2 go one to
each. Giving B's neighbour case to B forces B's own case to A: the manager chose the
first, the re-solve made the second.
"""

from __future__ import annotations

from pathlib import Path

from builders import case, snapshot, worker
from click.testing import CliRunner

from allocator.cli import main
from allocator.contract.policy import Policy
from allocator.meeting.log import DecisionLog
from allocator.meeting.overrides import Override, final_workers
from allocator.problems.daily import allocate
from allocator.web.app import Meeting

POLICY = Policy()


def test_consequent_moves_are_the_re_solves_not_the_managers(tmp_path: Path) -> None:
    snap = snapshot(
        [worker("A", capacity_points=3), worker("B", capacity_points=3)],
        [case("R1"), case("R2")],
    )
    db = str(tmp_path / "log.db")
    log = DecisionLog(db)
    meeting = Meeting.open(snap, POLICY, log, allocate(snap, POLICY, work_units=1.0))
    on_b = next(c for c, w in final_workers(meeting.plan).items() if w == "B")
    other = "R1" if on_b == "R2" else "R2"
    meeting.override(
        Override(case=other, action="choose", worker="B", reason="knows them", manager="Ann")
    )
    meeting.sign_off("Bo Lee", decision_id=meeting.decision_id)
    chosen = [(e.event, e.manager, e.caused_by) for e in log.history(other)]
    assert ("chosen", "Ann", None) in chosen
    moved = next(e for e in log.history(on_b) if e.event == "moved")
    assert (moved.from_worker, moved.worker) == ("B", "A")
    assert moved.manager is None  # no person chose this move
    assert moved.caused_by == f"re-solve after Ann's override of {other}: choose B"
    assert moved.by == moved.caused_by
    signed = next(e for e in log.history(on_b) if e.event == "signed")
    # Who signed, and how the server knew the name (typed here: no sign-in).
    assert (signed.manager, signed.by) == ("Bo Lee", "Bo Lee (typed, not checked)")
    assert (signed.manager_via, moved.manager_via) == ("typed", None)
    proposed = next(e for e in log.history(on_b) if e.event == "proposed")
    assert proposed.by == "the allocator's proposal"
    # Every step carries its meeting, the one the decisions were logged in.
    meetings = {d.meeting for d in log.decisions()}
    assert len(meetings) == 1 and {e.meeting for e in log.history(on_b)} == meetings
    log.close()
    # The command line says the same: the move is the re-solve's, with its cause.
    shown = CliRunner().invoke(main, ["history", on_b, "--db", db], env={"COLUMNS": "300"})
    assert shown.exit_code == 0, shown.output
    assert "re-solve after Ann's" in shown.output and meetings.pop() in shown.output
    as_json = CliRunner().invoke(main, ["history", on_b, "--db", db, "--json"])
    assert '"caused_by": "re-solve after Ann' in as_json.output


def test_a_child_sent_back_to_their_own_worker_is_logged_where_they_are(tmp_path: Path) -> None:
    # H1, held by A, is kept off A (to B), then given back to A, then another child's
    # override follows. A child back with the worker who holds them is in no plan: a
    # fresh trial's history read that as 'unplaced', and the exclusion's placement
    # as 'from None'.
    snap = snapshot(
        [worker(w, capacity_points=9) for w in "ABC"],
        [case("H1", worker="A"), case("R")],
    )
    policy = Policy()
    log = DecisionLog(str(tmp_path / "log.db"))
    meeting = Meeting.open(snap, policy, log, allocate(snap, policy, work_units=1.0))

    def by(**fields: object) -> Override:
        return Override.model_validate({"manager": "Ann", "reason": "r", **fields})

    meeting.override(by(case="H1", action="exclude", worker="A"))
    meeting.override(by(case="H1", action="choose", worker="A"))
    r_worker = final_workers(meeting.plan)["R"]
    meeting.override(by(case="R", action="exclude", worker=r_worker))
    events = [(e.event, e.worker, e.from_worker) for e in log.history("H1")]
    kept_off, placed, chosen = events[-3:]
    assert kept_off == ("kept_off", "A", "A")
    assert placed[0] == "placed" and placed[2] == "A" and placed[1] in {"B", "C"}
    assert chosen == ("chosen", "A", placed[1])
    assert not any(e[0] == "unplaced" for e in events)
    log.close()


def test_the_history_page_says_each_event_in_words(tmp_path: Path) -> None:
    # A fresh trial read raw "chosen_over_cap" and "no_capacity" on the page.
    from fastapi.testclient import TestClient

    from allocator.web.app import create_app

    snap = snapshot([worker("A", team="Team 01"), worker("B", team="Team 01")], [case("R")])
    log = DecisionLog(str(tmp_path / "log.db"))
    meeting = Meeting.open(snap, Policy(), log, allocate(snap, Policy(), work_units=1.0))
    other = "B" if final_workers(meeting.plan)["R"] == "A" else "A"
    meeting.override(Override(case="R", action="choose", worker=other, reason="r", manager="Ann"))
    client = TestClient(create_app(meeting, allowed_hosts=["testserver"]))
    page = client.get("/history/R", headers={"Accept": "text/html"}).text
    assert "<td>chosen by a manager</td>" in page and "<td>chosen</td>" not in page
    worker_page = client.get(f"/workers/{other}", headers={"Accept": "text/html"}).text
    assert "Team 01," in worker_page and "Team Team" not in worker_page
    log.close()
