"""Display names on the meeting page (issue 22, item 6): ``serve --names FILE``."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from builders import case, snapshot, worker
from click.testing import CliRunner
from fastapi.testclient import TestClient

from allocator.cli import main
from allocator.contract.policy import Policy
from allocator.io import write_json
from allocator.meeting.log import DecisionLog
from allocator.problems.daily import allocate
from allocator.web.app import Meeting, create_app
from allocator.web.names import load_display_names

HTML = {"accept": "text/html"}


@pytest.fixture
def meeting(tmp_path: Path) -> Iterator[Meeting]:
    snap = snapshot([worker("P1"), worker("P2")], [case("C1"), case("C2", worker="P2")])
    policy = Policy()
    log = DecisionLog(f"sqlite:///{tmp_path / 'log.db'}")
    plan = allocate(snap, policy, time_limit=5)
    yield Meeting.open(snap, policy, log, plan)
    log.close()


def names_file(tmp_path: Path, text: str) -> str:
    path = tmp_path / "names.toml"
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_the_page_shows_a_name_beside_its_id_and_the_log_keeps_ids(
    meeting: Meeting, tmp_path: Path
) -> None:
    names = load_display_names(names_file(tmp_path, '[names]\nC1 = "Amy B."\nP1 = "Ann Smith"\n'))
    client = TestClient(create_app(meeting, allowed_hosts=["testserver"], names=names))
    page = client.get("/", headers=HTML).text
    assert "Amy B. (C1)" in page
    assert "(P2)" not in page  # an id the file does not name is shown alone
    # Names are for people at the meeting: the plan and the log hold ids only.
    assert "Amy B." not in client.get("/plan.json").text
    assert "Amy B." not in meeting.log.plan(meeting.decision_id).model_dump_json()


def test_without_names_the_page_shows_ids_alone(meeting: Meeting) -> None:
    page = TestClient(create_app(meeting, allowed_hosts=["testserver"])).get("/", headers=HTML).text
    assert "(C1)" not in page and ">C1<" in page


def test_a_name_is_escaped_on_the_page(meeting: Meeting, tmp_path: Path) -> None:
    names = load_display_names(names_file(tmp_path, '[names]\nC1 = "<b>x</b>"\n'))
    app = create_app(meeting, allowed_hosts=["testserver"], names=names)
    page = TestClient(app).get("/", headers=HTML)
    assert "&lt;b&gt;x&lt;/b&gt; (C1)" in page.text and "<b>x</b>" not in page.text


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('P1 = "Ann"\n', "expected one \\[names\\] table"),
        ('[names]\nP1 = "Ann"\n[other]\nx = 1\n', "expected one \\[names\\] table"),
        ("[names]\nP1 = 3\n", "P1: expected a name of 1 to 100"),
        ('[names]\nP1 = "   "\n', "P1: expected a name of 1 to 100"),
        ('[names]\nP1 = "A\\u001b[31m"\n', "P1: expected a name of 1 to 100 printable"),
        (f'[names]\nP1 = "{"x" * 101}"\n', "P1: expected a name of 1 to 100"),
        ("[names\n", "not a TOML file"),
    ],
    ids=["no-table", "other-table", "number", "blank", "control", "too-long", "not-toml"],
)
def test_a_bad_names_file_is_refused_naming_the_file_and_id(
    tmp_path: Path, text: str, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        load_display_names(names_file(tmp_path, text))


def test_serve_refuses_a_bad_names_file_before_solving(tmp_path: Path) -> None:
    snap = tmp_path / "s.json"
    write_json(snap, snapshot([worker("P1")], [case("C1")]))
    bad = names_file(tmp_path, "[names]\nP1 = 3\n")
    result = CliRunner().invoke(
        main, ["serve", str(snap), "--db", f"sqlite:///{tmp_path / 'l.db'}", "--names", bad]
    )
    assert result.exit_code == 2
    assert "names.toml: P1: expected a name" in result.output
    assert "Traceback" not in result.output
