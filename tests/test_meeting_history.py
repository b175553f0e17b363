"""History tells who did what (issue 22, item 2): the manager's override, the
re-solve's consequent moves named as such with the override that caused them, and
the sign-off, each with its meeting.

Workers A and B each have room for one 3-point case; referrals R1 and R2 go one to
each. Giving B's neighbour case to B forces B's own case to A: the manager chose the
first, the re-solve made the second.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest
from builders import case, snapshot, worker
from click.testing import CliRunner

from allocator.cli import main
from allocator.contract.models import Snapshot
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


# ------------------------------------------------------ each kind of event reads right

#: One step of a story: a row of the history table, read by column.
Row = tuple[str, str, str, str]  # event, worker before, worker after, kept off


def told(db: str, case_id: str, decision_id: int) -> list[Row]:
    """The rows of ``allocator history`` for ``case_id`` in ``decision_id``, as printed
    (event, worker before, worker after, kept off)."""
    shown = CliRunner().invoke(main, ["history", case_id, "--db", db], env={"COLUMNS": "400"})
    assert shown.exit_code == 0, shown.output
    rows = []
    for line in shown.output.splitlines():
        cells = [c.strip() for c in line.split("│")[1:-1]]
        if cells and cells[0] == str(decision_id):
            rows.append((cells[3], cells[4], cells[5], cells[6]))
    return rows


def by_ann(**fields: object) -> Override:
    return Override.model_validate({"manager": "Ann", "reason": "r", **fields})


def opened(snap: Snapshot, db: str) -> Meeting:
    log = DecisionLog(db)
    return Meeting.open(snap, POLICY, log, allocate(snap, POLICY, work_units=1.0))


def proposed(db: str) -> tuple[str, list[Row]]:
    # R, a referral, goes to A or B: no worker before it.
    meeting = opened(snapshot([worker("A"), worker("B")], [case("R")]), db)
    w = final_workers(meeting.plan)["R"]
    assert w is not None
    return "R", [("proposed", "", w, "")]


def signed(db: str) -> tuple[str, list[Row]]:
    meeting = opened(snapshot([worker("A"), worker("B")], [case("R")]), db)
    w = final_workers(meeting.plan)["R"]
    assert w is not None
    meeting.sign_off("Bo Lee", decision_id=meeting.decision_id)
    return "R", [("signed", "", w, "")]


def chosen(db: str) -> tuple[str, list[Row]]:
    # R, proposed to one of A and B, is given to the other.
    meeting = opened(snapshot([worker("A"), worker("B")], [case("R")]), db)
    w = final_workers(meeting.plan)["R"]
    other = "B" if w == "A" else "A"
    meeting.override(by_ann(case="R", action="choose", worker=other))
    return "R", [("chosen", w or "", other, "")]


def chosen_over_cap(db: str) -> tuple[str, list[Row]]:
    # U, urgent, needs Welsh; A, the only Welsh speaker, is full: nobody takes U until
    # a manager gives U to A over cap.
    snap = snapshot(
        [worker("A", capacity_points=3, skills=("welsh",)), worker("B")],
        [case("H", worker="A"), case("U", priority="urgent", needs=("welsh",))],
    )
    meeting = opened(snap, db)
    meeting.override(by_ann(case="U", action="choose", worker="A", over_cap=True))
    return "U", [("chosen_over_cap", "", "A", "")]


def kept_off_stays(db: str) -> tuple[str, list[Row]]:
    # The reported fault: H stays with A and is kept off B. It read "kept_off | worker
    # B | from A", a move from A to B.
    meeting = opened(snapshot([worker("A"), worker("B")], [case("H", worker="A")]), db)
    meeting.override(by_ann(case="H", action="exclude", worker="B"))
    return "H", [("kept_off", "A", "A", "B")]


def kept_off_moves(db: str) -> tuple[str, list[Row]]:
    # H is kept off A, its worker: the re-solve gives H to B, the only other worker.
    meeting = opened(snapshot([worker("A"), worker("B")], [case("H", worker="A")]), db)
    meeting.override(by_ann(case="H", action="exclude", worker="A"))
    return "H", [("kept_off", "A", "B", "A"), ("placed", "A", "B", "")]


def unallocated(db: str) -> tuple[str, list[Row]]:
    meeting = opened(snapshot([worker("A"), worker("B")], [case("R")]), db)
    w = final_workers(meeting.plan)["R"]
    meeting.override(by_ann(case="R", action="unallocate"))
    return "R", [("unallocated", w or "", "(none)", "")]


def moved(db: str) -> tuple[str, list[Row]]:
    # A and B have room for one 3-point case each; giving A's referral to B moves B's
    # to A (the module's first story).
    snap = snapshot(
        [worker("A", capacity_points=3), worker("B", capacity_points=3)],
        [case("R1"), case("R2")],
    )
    meeting = opened(snap, db)
    on_a = next(c for c, w in final_workers(meeting.plan).items() if w == "A")
    on_b = "R1" if on_a == "R2" else "R2"
    meeting.override(by_ann(case=on_a, action="choose", worker="B"))
    return on_b, [("moved", "B", "A", "")]


def placed(db: str) -> tuple[str, list[Row]]:
    # A has room for one child: R1, waiting longer, is placed and W waits; R1 left
    # unallocated frees A for W.
    snap = snapshot(
        [worker("A", capacity_points=3)],
        [case("R1", opened=date(2026, 11, 1)), case("W", opened=date(2026, 11, 20))],
    )
    meeting = opened(snap, db)
    assert final_workers(meeting.plan)["W"] is None
    meeting.override(by_ann(case="R1", action="unallocate"))
    return "W", [("placed", "", "A", "")]


def kept_off_unplaced(db: str) -> tuple[str, list[Row]]:
    # R, a referral needing Welsh, is A's (B lacks Welsh); kept off A, R waits.
    snap = snapshot([worker("A", skills=("welsh",)), worker("B")], [case("R", needs=("welsh",))])
    meeting = opened(snap, db)
    meeting.override(by_ann(case="R", action="exclude", worker="A"))
    return "R", [("kept_off", "A", "(none)", "A"), ("unplaced", "A", "(none)", "")]


def unplaced(db: str) -> tuple[str, list[Row]]:
    # A and B have room for one 3-point case each; R2 may not go to A, so R1 (waiting
    # longer) is A's and R2 B's. R1 kept off A takes B, which R2 leaves with nobody.
    snap = snapshot(
        [worker("A", capacity_points=3), worker("B", capacity_points=3)],
        [
            case("R1", opened=date(2026, 11, 1)),
            case("R2", opened=date(2026, 11, 20), excluded_workers=("A",)),
        ],
    )
    meeting = opened(snap, db)
    assert final_workers(meeting.plan) == {"R1": "A", "R2": "B"}
    # A child the plan placed left with nobody is said in a preview first.
    meeting.override(by_ann(case="R1", action="exclude", worker="A"), previewed=True)
    return "R2", [("unplaced", "B", "(none)", "")]


@pytest.mark.parametrize(
    "story",
    [
        proposed,
        signed,
        chosen,
        chosen_over_cap,
        kept_off_stays,
        kept_off_moves,
        unallocated,
        moved,
        placed,
        kept_off_unplaced,
        unplaced,
    ],
)
def test_each_kind_of_event_reads_as_what_happened_to_the_child(
    tmp_path: Path, story: Callable[[str], tuple[str, list[Row]]]
) -> None:
    # Every event the log records, in the history table: the child's worker before and
    # after the step, and the worker kept off apart; the last decision's rows only.
    db = str(tmp_path / "log.db")
    case_id, rows = story(db)
    log = DecisionLog(db, create=False)
    last = log.decisions()[0].id
    events = [e for e in log.history(case_id) if e.decision_id == last]
    log.close()
    assert told(db, case_id, last) == rows
    # The JSON says the same in fields of their own, the stored ones kept.
    assert [
        (e.event, e.worker_before or "", e.worker_after or "(none)", e.kept_off or "")
        for e in events
    ] == rows


def test_the_history_page_reads_a_kept_off_child_as_staying(tmp_path: Path) -> None:
    # The page's table has the same columns: H stays with A, kept off B.
    from fastapi.testclient import TestClient

    from allocator.web.app import create_app

    meeting = opened(
        snapshot([worker("A"), worker("B")], [case("H", worker="A")]), str(tmp_path / "log.db")
    )
    meeting.override(by_ann(case="H", action="exclude", worker="B"))
    client = TestClient(create_app(meeting, allowed_hosts=["testserver"]))
    page = client.get("/history/H", headers={"Accept": "text/html"}).text
    assert "<th>worker before</th><th>worker after</th><th>kept off</th>" in page
    assert "<td>kept off a worker by a manager</td><td>A</td><td>A</td><td>B</td>" in page
    as_json = client.get("/history/H").json()[-1]
    assert (as_json["worker_before"], as_json["worker_after"], as_json["kept_off"]) == (
        "A",
        "A",
        "B",
    )
    meeting.log.close()
