"""Sign-off binds what was seen (issue 22, item 3): the form and the API carry the
decision (or plan hash) reviewed; a stale one is refused with a clear message; the
manager's name must be a non-empty string."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from builders import case, snapshot, worker
from fastapi.testclient import TestClient

from allocator.contract.policy import Policy
from allocator.meeting.log import DecisionLog
from allocator.problems.daily import allocate
from allocator.web.app import Meeting, create_app

HTML = {"accept": "text/html"}


@pytest.fixture
def meeting(tmp_path: Path) -> Iterator[Meeting]:
    snap = snapshot([worker("A"), worker("B")], [case("R1"), case("R2")])
    log = DecisionLog(str(tmp_path / "log.db"))
    yield Meeting.open(snap, Policy(), log, allocate(snap, Policy(), work_units=1.0))
    log.close()


@pytest.fixture
def client(meeting: Meeting) -> TestClient:
    return TestClient(create_app(meeting, allowed_hosts=["testserver"]))


def choose(cid: str, worker_id: str, manager: str = "Bo") -> dict[str, str]:
    return {"case": cid, "action": "choose", "worker": worker_id, "reason": "r", "manager": manager}


def test_a_sign_off_of_a_plan_changed_since_is_refused(
    client: TestClient, meeting: Meeting
) -> None:
    seen = client.get("/").json()
    assert seen["plan_sha256"] == meeting.log.decision(seen["decision_id"]).plan_sha256
    # Bo overrides while Ann is still reading decision 1.
    assert client.post("/overrides", json=choose("R1", "B")).status_code == 200
    stale = client.post("/signoff", json={"manager": "Ann", "decision_id": seen["decision_id"]})
    assert stale.status_code == 409
    detail = stale.json()["detail"]
    assert detail.startswith(
        f"you reviewed decision {seen['decision_id']}, but the plan in force is decision "
        f"{meeting.decision_id} (override, made since by Bo): nothing was signed"
    )
    by_hash = client.post("/signoff", json={"manager": "Ann", "plan_sha256": seen["plan_sha256"]})
    assert by_hash.status_code == 409
    assert by_hash.json()["detail"].startswith(
        f"the plan you reviewed (SHA-256 {seen['plan_sha256'][:12]}...) is not the plan in "
        f"force, decision {meeting.decision_id} (override, made since by Bo)"
    )
    # The decision in force named with an old plan's hash: said, not "you reviewed
    # decision 2, but the plan in force is decision 2" (a fresh trial's reading).
    both = {
        "manager": "Ann",
        "decision_id": meeting.decision_id,
        "plan_sha256": seen["plan_sha256"],
    }
    mixed = client.post("/signoff", json=both).json()["detail"]
    assert mixed.startswith("the plan you reviewed (SHA-256")
    assert [d.kind for d in meeting.log.decisions()] == ["override", "proposed"]
    # The plan in force, named, is signed: the sign-off follows the decision reviewed.
    now = client.get("/").json()
    fresh = {"manager": "Ann", "decision_id": now["decision_id"], "plan_sha256": now["plan_sha256"]}
    assert client.post("/signoff", json=fresh).status_code == 200
    assert meeting.log.decisions()[0].parent_id == now["decision_id"]


@pytest.mark.parametrize(
    ("body", "said"),
    [
        ({"manager": None, "decision_id": 1}, "manager: a name of 1 to 100 characters"),
        ({"manager": 7, "decision_id": 1}, "manager: a name of 1 to 100 characters"),
        ({"manager": "  ", "decision_id": 1}, "manager: a name of 1 to 100 characters"),
        ({"manager": "Ann"}, "say which plan you reviewed"),
        ({"manager": "Ann", "decision_id": "one"}, "decision_id"),
        ({"manager": "Ann", "decision_id": True}, "decision_id"),
        ({"manager": "Ann", "plan_sha256": "abc"}, "plan_sha256"),
    ],
)
def test_a_sign_off_names_a_person_and_the_plan_reviewed(
    client: TestClient, meeting: Meeting, body: dict[str, object], said: str
) -> None:
    answer = client.post("/signoff", json=body)
    assert answer.status_code == 422 and said in answer.json()["detail"]
    assert meeting.signed is None and len(meeting.log.decisions()) == 1


def test_the_page_form_carries_the_decision_and_refuses_a_stale_one(
    client: TestClient, meeting: Meeting
) -> None:
    page = client.get("/", headers=HTML).text
    csrf = re.search(r'name="csrf" value="([^"]+)"', page)
    decision = re.search(r'name="decision_id" value="(\d+)"', page)
    assert csrf is not None and decision is not None
    assert f'name="plan_sha256" value="{meeting.plan_sha256}"' in page
    assert client.post("/overrides", json=choose("R2", "A")).status_code == 200
    form = {"csrf": csrf.group(1), "decision_id": decision.group(1), "manager": "Ann"}
    stale = client.post("/signoff", data=form, headers=HTML)
    assert stale.status_code == 409 and "nothing was signed" in stale.text
    form["decision_id"] = str(meeting.decision_id)
    signed = client.post("/signoff", data=form, headers=HTML, follow_redirects=True)
    assert signed.status_code == 200 and "Signed off by Ann" in signed.text


@pytest.mark.parametrize("route", ["/signoff", "/overrides"])
def test_a_blank_name_from_the_page_is_said_on_the_page(
    client: TestClient, meeting: Meeting, route: str
) -> None:
    # A fresh trial's whitespace-only name from the page's form got raw JSON back.
    page = client.get("/", headers=HTML).text
    csrf = re.search(r'name="csrf" value="([^"]+)"', page)
    assert csrf is not None
    form = {"csrf": csrf.group(1), "manager": "   "}
    if route == "/signoff":
        form["decision_id"] = str(meeting.decision_id)
    else:
        form |= {"case": "R1", "action": "unallocate", "reason": "r"}
    answer = client.post(route, data=form, headers=HTML)
    assert answer.status_code == 422
    assert answer.headers["content-type"].startswith("text/html")
    assert 'id="error"' in answer.text and "manager" in answer.text
    assert len(meeting.log.decisions()) == 1


def other_meetings_decision(meeting: Meeting) -> int:
    """A proposal logged in another meeting on the same log (another service's)."""
    snap = snapshot([worker("Z")], [case("RZ")])
    Meeting.open(snap, Policy(), meeting.log, allocate(snap, Policy(), work_units=1.0))
    return meeting.log.decisions()[0].id


@pytest.mark.parametrize(
    ("kind", "said"),
    [
        # The reported fault: Carol signed decision 1 (sign-off 2); Dan names 2. It was
        # "there is no decision 2 in this meeting yet ... signed off by Carol Head
        # (decision 2)".
        (
            "the sign-off in force",
            "decision 2 is Carol Head's sign-off of decision 1, not a plan; the plan in force "
            "is decision 1 (proposed, the proposal): nothing was signed. It was signed off "
            "by Carol Head (decision 2): override a case before signing again",
        ),
        # Carol's sign-off of decision 1, after Bo's override replaced the plan (3).
        (
            "an earlier sign-off",
            "decision 2 is Carol Head's sign-off of decision 1, not a plan; the plan in force "
            "is decision 3 (override, made since by Bo): nothing was signed. Reload the page",
        ),
        # The plan Carol signed, replaced since by Bo's override (3).
        (
            "a replaced plan",
            "you reviewed decision 1, but the plan in force is decision 3 (override, made "
            "since by Bo): nothing was signed. Reload the page",
        ),
        # No decision 99 at all.
        (
            "a decision not yet made",
            "there is no decision 99 in this meeting yet: the plan in force is decision 1",
        ),
        # Decision 2 is another meeting's proposal: it is there, not in this meeting.
        (
            "another meeting's",
            "there is no decision 2 in this meeting: the plan in force is decision 1",
        ),
    ],
    ids=["signoff-in-force", "earlier-signoff", "replaced-plan", "not-yet", "other-meeting"],
)
def test_a_stale_sign_off_says_truly_what_the_decision_named_is(
    client: TestClient, meeting: Meeting, kind: str, said: str
) -> None:
    named = {"a decision not yet made": 99}.get(kind, 2)
    if kind == "another meeting's":
        assert other_meetings_decision(meeting) == 2
    else:
        assert client.post("/signoff", json={"manager": "Carol Head", "decision_id": 1}).is_success
    if kind in ("an earlier sign-off", "a replaced plan"):
        assert client.post("/overrides", json=choose("R1", "B")).status_code == 200
        named = 2 if kind == "an earlier sign-off" else 1
    before = len(meeting.log.decisions())
    answer = client.post("/signoff", json={"manager": "Dan", "decision_id": named})
    assert answer.status_code == 409
    detail = answer.json()["detail"]
    assert detail.startswith(said), detail
    assert len(meeting.log.decisions()) == before  # nothing signed


# ---------------------------------------------------------------- an override binds it too


def override_form(page: str, **fields: str) -> dict[str, str]:
    """The page's own override form for ``fields``' case, as a browser sends it: the
    CSRF token and the decision the page showed (``seen``) from the page."""
    csrf = re.search(r'name="csrf" value="([^"]+)"', page)
    seen = re.search(r'name="seen" value="(\d+)"', page)
    assert csrf is not None and seen is not None, "the override form carries what it showed"
    return {"csrf": csrf.group(1), "seen": seen.group(1), "reason": "r", **fields}


def test_every_override_form_carries_the_decision_it_shows(
    client: TestClient, meeting: Meeting
) -> None:
    assert client.post("/overrides", json=choose("R2", "A")).status_code == 200
    page = client.get("/", headers=HTML).text
    forms = re.findall(r'<form[^>]*action="/overrides"[^>]*>(.*?)</form>', page, re.S)
    assert len(forms) >= 3  # one per case to decide, and the form for any other case
    for form in forms:
        assert f'name="seen" value="{meeting.decision_id}"' in form


def test_an_override_from_a_page_shown_before_a_choice_of_its_case_is_refused(
    client: TestClient, meeting: Meeting
) -> None:
    # A fresh trial: two managers had the page of decision 1 open; Ann gave R1 to A,
    # then Bo, from his page, gave R1 to B. Bo's replaced Ann's, and neither heard.
    ann_page = client.get("/", headers=HTML).text
    bo_page = client.get("/", headers=HTML).text
    ann = override_form(ann_page, case="R1", action="choose", worker="A", manager="Ann Smith")
    assert client.post("/overrides", data=ann, headers=HTML, follow_redirects=False).is_redirect
    decided = meeting.decision_id
    bo = override_form(bo_page, case="R1", action="choose", worker="B", manager="Bo Lee")
    answer = client.post("/overrides", data=bo, headers=HTML)
    assert answer.status_code == 409
    assert (
        "R1 was decided since the page you sent this from was shown (decision 1): "
        f"decision {decided}, Ann Smith: choose A (&#39;r&#39;). Nothing was changed"
    ) in answer.text
    assert meeting.decision_id == decided and [o.manager for o in meeting.overrides] == [
        "Ann Smith"
    ]
    # From the page reloaded, Bo's word is heard and replaces Ann's, as before.
    bo = override_form(
        client.get("/", headers=HTML).text, **{k: bo[k] for k in bo if k not in ("csrf", "seen")}
    )
    assert client.post("/overrides", data=bo, headers=HTML, follow_redirects=False).is_redirect
    assert [o.manager for o in meeting.overrides] == ["Bo Lee"]


@pytest.mark.parametrize(
    "earlier",
    [
        {"action": "choose", "worker": "A"},
        {"action": "exclude", "worker": "A"},
        {"action": "unallocate"},
    ],
    ids=["choose", "exclude", "unallocate"],
)
@pytest.mark.parametrize("later", ["choose", "exclude", "unallocate"])
def test_every_override_of_a_case_decided_since_the_decision_seen_is_refused(
    client: TestClient, meeting: Meeting, earlier: dict[str, str], later: str
) -> None:
    seen = meeting.decision_id
    first = {"case": "R1", "reason": "r", "manager": "Ann Smith", **earlier}
    assert client.post("/overrides", json=first).status_code == 200
    decided = meeting.decision_id
    second = {"case": "R1", "action": later, "reason": "mine", "manager": "Bo Lee", "seen": seen}
    if later != "unallocate":
        second["worker"] = "B"
    answer = client.post("/overrides", json=second)
    assert answer.status_code == 409, answer.text
    detail = answer.json()["detail"]
    assert detail.startswith("R1 was decided since the page you sent this from was shown")
    assert f"decision {decided}, Ann Smith: {earlier['action']}" in detail
    assert meeting.decision_id == decided


def test_an_override_from_an_older_page_of_another_case_is_made(
    client: TestClient, meeting: Meeting
) -> None:
    # Two managers deciding different children from pages of one decision: no conflict.
    seen = meeting.decision_id
    assert client.post("/overrides", json=choose("R1", "A", "Ann Smith")).status_code == 200
    later = client.post("/overrides", json={**choose("R2", "B", "Bo Lee"), "seen": seen})
    assert later.status_code == 200, later.text
    assert [o.case for o in meeting.overrides] == ["R1", "R2"]


def test_a_family_from_an_older_page_is_refused_for_a_sibling_decided_since(
    tmp_path: Path,
) -> None:
    snap = snapshot([worker("A"), worker("B")], [case("R1", family="F"), case("R2", family="F")])
    log = DecisionLog(str(tmp_path / "family.db"))
    meeting = Meeting.open(snap, Policy(), log, allocate(snap, Policy(), work_units=1.0))
    client = TestClient(create_app(meeting, allowed_hosts=["testserver"]))
    assert client.post("/overrides", json=choose("R2", "A", "Ann Smith")).status_code == 200
    family = {**choose("R1", "B", "Bo Lee"), "family": True, "seen": 1}
    answer = client.post("/overrides", json=family)
    assert answer.status_code == 409
    assert answer.json()["detail"].startswith("R2 was decided since")
    log.close()


@pytest.mark.parametrize(
    ("seen", "status", "said"),
    [
        ("x", 422, "seen: the number of the decision the page showed, not 'x'"),
        (1.5, 422, "seen: the number of the decision the page showed, not 1.5"),
        (99, 409, "the page you sent this from showed decision 99, which is not a plan of this "
                  "meeting"),
    ],
)  # fmt: skip
def test_a_seen_decision_that_is_no_plan_of_this_meeting_is_refused(
    client: TestClient, meeting: Meeting, seen: object, status: int, said: str
) -> None:
    answer = client.post("/overrides", json={**choose("R1", "A"), "seen": seen})
    assert answer.status_code == status
    assert answer.json()["detail"].startswith(said)
    assert meeting.decision_id == 1 and meeting.overrides == []
