"""A fresh user's trial: faults at the door, each fixed as a kind, a test per member.

A. An error inside any list of records of a document (a plan's ``handovers[]`` and
   ``exceptions[]`` as its ``assignments[]``, a pending handovers file) names the
   file, the index, the case, the exact field and what was expected.
B. A warning about a record names the file (and row) the record came from.
C. A CSV table's header problem is said once; the rows it breaks are one sentence.
D. The capacity target's grammar is one rule (its text, ASCII digits, no impossible
   target); every ``--out`` folder follows one rule.
E. The meeting API's booleans are JSON booleans; a held child's sentence reads.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from allocator.contract.models import Plan
from allocator.io import (
    InputError,
    load_pending_handovers,
    load_plan,
)
from allocator.io.plans import _tables_of

# ------------------------------------------------------------------ A: nested records

_HANDOVER = {
    "case": "C1",
    "worker": "P2",
    "from": "P1",
    "on": "2026-11-30",
    "departs": "2026-12-01",
    "notice_days": 7,
}
_EXCEPTION = {"case": "C1", "worker": "P1", "reason": "pinned by the manager"}


def plan_data(**fields: Any) -> dict[str, Any]:
    return {"format": "allocation-plan/1", "as_of": "2026-11-23", "status": "optimal", **fields}


def problems_of(path: Path, data: dict[str, Any]) -> list[str]:
    path.write_text(json.dumps(data))
    load = load_plan if data["format"] == "allocation-plan/1" else load_pending_handovers
    with pytest.raises(InputError) as caught:
        load(path)
    return caught.value.problems


@pytest.mark.parametrize(
    ("table", "row", "expected"),
    [
        (
            "handovers",
            {**_HANDOVER, "notice_days": -1},
            "field 'notice_days' is -1, expected a whole number of 0 or more.",
        ),
        (
            "handovers",
            {**_HANDOVER, "on": "23/11/2026"},
            "field 'on' is '23/11/2026', expected a date written YYYY-MM-DD from 1900-01-01 "
            "to 2999-12-31.",
        ),
        (
            "handovers",
            {**_HANDOVER, "notice_dyas": 3},
            "unknown field 'notice_dyas'; did you mean 'notice_days'?",
        ),
        (
            "exceptions",
            {**_EXCEPTION, "waives": "everything"},
            "field 'waives' is 'everything', expected one of grade, capacity.",
        ),
        (
            "exceptions",
            {"case": "C1", "worker": "P1"},
            "required field 'reason' is missing, expected text.",
        ),
    ],
)
def test_an_error_inside_a_plans_nested_list_names_row_case_and_field(
    tmp_path: Path, table: str, row: dict[str, Any], expected: str
) -> None:
    path = tmp_path / "plan.json"
    assert problems_of(path, plan_data(**{table: [row]})) == [
        f"{path}, {table}[0] (case C1): {expected}"
    ]


def test_a_nested_row_that_is_not_an_object_is_named_by_its_index(tmp_path: Path) -> None:
    path = tmp_path / "plan.json"
    assert problems_of(path, plan_data(handovers=[_HANDOVER, 3])) == [
        f"{path}, handovers[1]: found a number, expected an object with the handover's fields."
    ]


def test_an_error_in_a_pending_handovers_file_names_row_case_and_field(tmp_path: Path) -> None:
    path = tmp_path / "next.handovers.json"
    data = {
        "format": "pending-handovers/1",
        "as_of": "2026-11-23",
        "handovers": [{**_HANDOVER, "departs": "soon"}],
    }
    (said,) = problems_of(path, data)
    assert said.startswith(
        f"{path}, handovers[0] (case C1): field 'departs' is 'soon', expected a date"
    )


def test_every_list_of_records_of_a_plan_is_read_as_a_table() -> None:
    # The mechanism, not a field list: a list of records added to the plan later is
    # reported by row the day it is added.
    lists = {
        (info.alias or name)
        for name, info in Plan.model_fields.items()
        if "tuple[allocator.contract.models." in str(info.annotation)
    }
    assert lists == {"assignments", "unallocated", "workers", "exceptions", "handovers"}
    assert set(_tables_of(Plan)) == lists
    assert _tables_of(Plan)["exceptions"][1:3] == ("managed exception", "case")


# ------------------------------------------------------------------ B: warnings name their file


def snapshot_data(cases: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {
        "format": "caseload-snapshot/1",
        "as_of": "2026-11-23",
        "practitioners": [{"id": "P1", "team": "North", "grade": "senior", "fte": 1.0}],
        "cases": cases or [case_data("C1")],
    }


def case_data(ident: str, **fields: Any) -> dict[str, Any]:
    return {"id": ident, "family": f"F{ident}", "type": "child_in_need", "complexity": 2, **fields}


_FUTURE = "field 'opened' is 2027-05-01, after as_of 2026-11-23"
_TYPO = "excluded_workers names 'P99'"


@pytest.mark.parametrize("form", ["json", "csv"])
def test_a_referrals_doubt_names_the_referrals_file_and_row(tmp_path: Path, form: str) -> None:
    from click.testing import CliRunner

    from allocator.cli import main

    snap = tmp_path / "service.json"
    snap.write_text(json.dumps(snapshot_data()))
    referrals = [case_data("R1"), case_data("R2", opened="2027-05-01", excluded_workers=["P99"])]
    if form == "json":
        path = tmp_path / "referrals.json"
        path.write_text(json.dumps({"cases": referrals}))
        where = f"{path}, cases[1] (id R2)"
    else:
        path = tmp_path / "referrals.csv"
        path.write_text(
            "id,family,type,complexity,opened,excluded_workers\n"
            "R1,FR1,child_in_need,2,,\nR2,FR2,child_in_need,2,2027-05-01,P99\n"
        )
        where = f"{path}, line 3 (id R2)"
    result = CliRunner().invoke(main, ["allocate", str(snap), "--referrals", str(path)])
    assert result.exit_code == 0, result.output
    said = [" ".join(line.split()) for line in result.stderr.split("warning: ")[1:]]
    assert any(line.startswith(f"{where}: {_TYPO}") for line in said), said
    assert any(line.startswith(f"{where}: {_FUTURE}") for line in said), said
    assert not any(str(snap) in line for line in said)


@pytest.mark.parametrize("form", ["json", "csv"])
def test_a_snapshot_cases_doubt_names_its_table_and_row(tmp_path: Path, form: str) -> None:
    from allocator.io import load_snapshot, snapshot_from_dict, write_snapshot

    # C1 held by P1: a snapshot where no case has a worker is a doubt of its own.
    data = snapshot_data([case_data("C1", worker="P1"), case_data("C2", opened="2027-05-01")])
    if form == "json":
        path = tmp_path / "s.json"
        path.write_text(json.dumps(data))
        where = f"{path}, cases[1] (id C2)"
    else:
        path = write_snapshot(snapshot_from_dict(data), tmp_path / "s")
        where = f"{path / 'cases.csv'}, line 3 (id C2)"
    warnings: list[str] = []
    load_snapshot(path, warnings=warnings)
    assert [w[: len(where) + 2 + len(_FUTURE)] for w in warnings] == [f"{where}: {_FUTURE}"]


# ------------------------------------------------------------------ C: a header problem is one fix


def csv_folder(tmp_path: Path, cases: str) -> Path:
    folder = tmp_path / "service"
    folder.mkdir()
    (folder / "snapshot.csv").write_text("format,as_of\ncaseload-snapshot/1,2026-11-23\n")
    (folder / "practitioners.csv").write_text("id,team,grade,fte\nP1,North,senior,1\n")
    (folder / "cases.csv").write_text(cases)
    return folder


def snapshot_problems(path: Path) -> list[str]:
    from allocator.io import load_snapshot

    with pytest.raises(InputError) as caught:
        load_snapshot(path)
    return caught.value.problems


def rows(n: int, extra: str = "") -> str:
    return "".join(f"C{i},F{i},child_in_need,2{extra}\n" for i in range(1, n + 1))


def test_a_header_column_the_rows_lack_is_one_header_line_and_one_sentence(
    tmp_path: Path,
) -> None:
    # The trial's case: one column added to line 1 alone; every row looks a cell short.
    folder = csv_folder(tmp_path, "id,family,type,complexity,colour\n" + rows(490))
    table = folder / "cases.csv"
    assert snapshot_problems(folder) == [
        f"{table}, line 1: unknown column 'colour'; expected one of id, family, type, "
        "complexity, weight, worker, previous_workers, changes_last_12_months, area, needs, "
        "priority, pinned_worker, excluded_workers, opened, waiting_since.",
        f"{table}, lines 2, 3, 4 and 487 more: 490 rows found with 4 cells where line 1 has 5 "
        "columns; fix the problem with line 1 above first (these rows were not read).",
    ]


def test_after_a_header_problem_even_one_short_row_points_at_line_1(tmp_path: Path) -> None:
    folder = csv_folder(
        tmp_path, "id,family,type,complexity,complexity\n" + rows(1, ",2") + rows(1)
    )
    table = folder / "cases.csv"
    assert snapshot_problems(folder)[1:] == [
        f"{table}, line 3: 1 row found with 4 cells where line 1 has 5 columns; fix the "
        "problem with line 1 above first (these rows were not read)."
    ]


def test_ragged_rows_under_a_good_header_are_one_sentence_past_three(tmp_path: Path) -> None:
    folder = csv_folder(tmp_path, "id,family,type,complexity\n" + rows(4, ",x"))
    table = folder / "cases.csv"
    assert snapshot_problems(folder) == [
        f"{table}: the same problem with the number of cells in 4 rows (line 2, line 3, "
        "line 4 and 1 more); line 2: found 5 cells, expected 4 (one per column of line 1); "
        "a comma in a cell without quotes splits it in two and moves the cells after it: "
        "separate list items with ';' (court;welsh), write numbers with '.' (13.6), or put "
        "the cell in double quotes."
    ]
    # Three rows or fewer are each named.
    (folder / "cases.csv").write_text("id,family,type,complexity\n" + rows(3, ",x"))
    assert len(snapshot_problems(folder)) == 3


OTHER_SEPARATORS = [(";", "semicolons"), ("\t", "tabs"), ("|", "bars")]


@pytest.mark.parametrize(("separator", "words"), OTHER_SEPARATORS)
def test_a_file_separated_by_another_character_is_one_sentence(
    tmp_path: Path, separator: str, words: str
) -> None:
    header = separator.join(["id", "family", "type", "complexity"])
    folder = csv_folder(tmp_path, header + "\n" + rows(5).replace(",", separator))
    (problem,) = snapshot_problems(folder)
    assert problem == (
        f"{folder / 'cases.csv'}, line 1: one column named {header!r}, its names separated by "
        f"{words}; expected a CSV file, its columns separated by commas."
    )


def _ssd_problems(path: Path, text: str, required: tuple[str, ...]) -> list[str]:
    from allocator.ssd.tables import Problems, read_table

    path.write_text(text)
    problems = Problems()
    read_table(path, problems, required)
    return problems.errors.sentences()


@pytest.mark.parametrize(("separator", "words"), OTHER_SEPARATORS)
def test_an_ssd_table_separated_by_another_character_is_one_sentence(
    tmp_path: Path, separator: str, words: str
) -> None:
    table = tmp_path / "ssd_person.csv"
    text = "\n".join(separator.join(r) for r in [("pers_person_id", "pers_dob"), ("C1", "2010")])
    (problem,) = _ssd_problems(table, text, ("pers_person_id", "pers_dob"))
    named = f"pers_person_id{separator}pers_dob"
    assert problem.startswith(f"{table}, line 1: one column named {named!r}, ")
    assert f"its names separated by {words}; expected a CSV file" in problem


def test_an_ssd_header_wider_than_every_row_is_said_at_line_1_once(tmp_path: Path) -> None:
    table = tmp_path / "ssd_person.csv"
    text = "pers_person_id,colour\n" + "".join(f"C{i}\n" for i in range(1, 301))
    assert _ssd_problems(table, text, ("pers_person_id",)) == [
        f"{table}, line 1: names 2 columns but no row has 2 cells; expected one name per column.",
        f"{table}, lines 2, 3, 4 and 297 more: 300 rows found with 1 cells where line 1 has 2 "
        "columns; fix the problem with line 1 above first (these rows were not read).",
    ]


def test_ssd_rows_under_a_header_missing_a_column_point_at_line_1(tmp_path: Path) -> None:
    table = tmp_path / "ssd_person.csv"
    # The header lost a column's name (and comma); the rows still have both cells.
    text = "pers_person_id\nC1,2010-01-01\nC2,2011-02-02\n"
    assert _ssd_problems(table, text, ("pers_person_id", "pers_dob")) == [
        f"{table}, line 1: required column 'pers_dob' is missing.",
        f"{table}, lines 2, 3: 2 rows found with 2 cells where line 1 has 1 columns; fix the "
        "problem with line 1 above first (these rows were not read).",
    ]


# ------------------------------------------------------------------ D: targets and --out folders


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("urgent wait < 0 days", "no wait is shorter than 0 days, so no staffing meets it"),
        ("urgent wait < 0.0 weeks", "no wait is shorter than 0 days"),
        ("urgent wait <= \u0661 day", "'\u0661' (U+0661) is not plain ASCII"),
        ("statutory p\u0669\u0660 wait <= 3 days", "are not plain ASCII"),
        ("urgent wait \u2039= 1 day", "'\u2039' (U+2039) is not plain ASCII"),
        ("urgent wait <= \uff11 day", "(U+FF11) is not plain ASCII"),
    ],
)
def test_an_impossible_or_non_ascii_target_is_refused_with_why(text: str, said: str) -> None:
    from allocator.simulation.capacity import TargetError, parse_target

    with pytest.raises(TargetError) as caught:
        parse_target(text)
    assert said in str(caught.value)


def test_the_targets_hint_and_rule_agree_on_percentiles() -> None:
    from allocator.simulation.capacity import TARGET_FORM, TargetError, parse_target

    assert "p1 to p99" in TARGET_FORM
    assert parse_target("all p1 wait <= 2 days")[0].stat == 0.01
    assert parse_target("all p99 wait <= 2 days")[0].stat == 0.99
    assert parse_target("urgent wait <= 0 days")[0].days == 0.0  # same day: possible
    for outside in ("p0", "p100"):
        with pytest.raises(TargetError, match="is not p1 to p99"):
            parse_target(f"all {outside} wait <= 2 days")


@pytest.mark.parametrize(
    "args",
    [
        ["forecast", "--weeks", "1", "--runs", "1"],
        ["capacity", "--target", "urgent wait <= 1 day", "--runs", "1", "--weeks", "1"],
        ["simulate", "--days", "1"],
        ["allocate"],
    ],
)
def test_every_out_refuses_a_missing_parent_folder(tmp_path: Path, args: list[str]) -> None:
    from click.testing import CliRunner

    from allocator.cli import main

    snap = tmp_path / "service.json"
    snap.write_text(json.dumps(snapshot_data()))
    out = tmp_path / "no" / "such" / "x"
    command, *options = args
    result = CliRunner().invoke(main, [command, str(snap), *options, "--out", str(out)])
    assert result.exit_code == 2, result.output
    assert f"the folder {out.parent} does not exist" in result.stderr
    assert not (tmp_path / "no").exists()


def test_sweep_and_export_ssd_refuse_a_missing_parent_folder(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from allocator.cli import main

    out = tmp_path / "no" / "such" / "x"
    spec = tmp_path / "sweep.toml"
    spec.write_text(
        'days = 2\nseeds = [1]\n[[services]]\nname = "s"\npractitioners = 4\n'
        '[[policies]]\nname = "p"\n',
        encoding="utf-8",
    )
    mapping = Path(__file__).parent.parent / "examples" / "ssd" / "mapping.toml"
    commands = [
        ["sweep", str(spec), "--out", str(out)],
        ["export", "ssd", "plan.json", "--snapshot", "s.json", "--mapping", str(mapping)]
        + ["--out", str(out)],
    ]
    for args in commands:
        result = CliRunner().invoke(main, args)
        assert result.exit_code == 2, result.output
        assert f"the folder {out.parent} does not exist" in result.stderr, result.stderr
    assert not (tmp_path / "no").exists()


def test_a_new_out_folder_in_an_existing_folder_is_made(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from allocator.cli import main

    snap = tmp_path / "service.json"
    snap.write_text(json.dumps(snapshot_data()))
    out = tmp_path / "fresh"
    args = ["capacity", str(snap), "--target", "urgent wait <= 1 day", "--max-fte", "0"]
    result = CliRunner().invoke(main, [*args, "--runs", "1", "--weeks", "1", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert (out / "capacity.csv").is_file()


# ------------------------------------------------------------------ E: the meeting API


def _request_models() -> list[Any]:
    from allocator.meeting.overrides import Override
    from allocator.web.app import SignOff

    return [Override, SignOff]


def _boolean_fields() -> list[tuple[Any, str]]:
    return [
        (model, name)
        for model in _request_models()
        for name, info in model.model_fields.items()
        if info.annotation is bool
    ]


def test_the_api_request_models_booleans_are_found() -> None:
    from allocator.meeting.overrides import Override

    assert {(m.__name__, n) for m, n in _boolean_fields()} == {
        (Override.__name__, "over_cap"),
        (Override.__name__, "family"),
        (Override.__name__, "make_room"),
    }


@pytest.mark.parametrize(("model", "name"), _boolean_fields())
@pytest.mark.parametrize("value", ["yes", 1, 0, "true", "false", None, 1.0])
def test_every_api_boolean_takes_a_json_boolean_only(model: Any, name: str, value: Any) -> None:
    from pydantic import ValidationError

    base = {"case": "C1", "action": "choose", "worker": "P1", "reason": "r", "manager": "Ann"}
    with pytest.raises(ValidationError) as caught:
        model.model_validate({**base, name: value})
    assert [e["loc"] for e in caught.value.errors()] == [(name,)]
    assert getattr(model.model_validate({**base, name: True}), name) is True


def _service() -> Any:
    from builders import case, snapshot, worker

    # A (cap 3) holds H1 (3 points); B (cap 6) holds nobody; U waits.
    return snapshot(
        [worker("A", capacity_points=3), worker("B", capacity_points=6)],
        [case("H1", worker="A"), case("U")],
    )


@pytest.fixture
def meeting(tmp_path: Path) -> Any:
    from allocator.contract.policy import Policy
    from allocator.meeting.log import DecisionLog
    from allocator.problems.daily import allocate
    from allocator.web.app import Meeting

    snap = _service()
    log = DecisionLog(str(tmp_path / "log.db"))
    yield Meeting.open(snap, Policy(), log, allocate(snap, Policy(), work_units=1.0))
    log.close()


@pytest.mark.parametrize("value", ["yes", 1, "true"])
def test_the_json_api_refuses_a_boolean_that_is_not_one(meeting: Any, value: Any) -> None:
    from fastapi.testclient import TestClient

    from allocator.web.app import create_app

    client = TestClient(create_app(meeting, allowed_hosts=["testserver"]))
    body = {"case": "U", "action": "choose", "worker": "B", "reason": "r", "manager": "Ann"}
    refused = client.post("/overrides", json={**body, "over_cap": value})
    assert refused.status_code == 422 and "over_cap" in refused.text
    assert meeting.overrides == []


def test_the_page_form_still_sends_its_ticked_box_and_nothing_else(meeting: Any) -> None:
    import re

    from fastapi.testclient import TestClient

    from allocator.web.app import create_app

    client = TestClient(create_app(meeting, allowed_hosts=["testserver"]))
    html = {"accept": "text/html"}
    found = re.search(r'name="csrf" value="([^"]+)"', client.get("/", headers=html).text)
    assert found is not None
    form = {"csrf": found.group(1), "case": "U", "action": "choose", "worker": "B"}
    form |= {"reason": "r", "manager": "Ann"}
    odd = client.post("/overrides", data={**form, "family": "yes"}, headers=html)
    assert odd.status_code == 422 and meeting.overrides == []
    done = client.post("/overrides", data={**form, "family": "true"}, headers=html)
    assert done.status_code == 200 and meeting.overrides[0].family is True


def test_choosing_the_worker_who_holds_the_child_says_so(meeting: Any) -> None:
    from allocator.meeting.overrides import Override

    meeting.override(
        Override(case="H1", action="choose", worker="A", reason="keep her", manager="Ann")
    )
    assert meeting.said == (
        "H1 is already with A: no more room is needed; A has 0.0 spare under the plan in force"
    )


# ------------------------------------------------------------------ F: what --force does


def test_the_readme_says_force_lifts_only_the_made_from_check(tmp_path: Path) -> None:
    import re

    from click.testing import CliRunner

    from allocator.cli import main

    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    said = " ".join(readme[readme.index("* `apply` —") :].split("\n* ")[0].split())
    assert "`--force` lifts only the last" in said
    assert not re.search(r"--force` applies it anyway", said)
    # As the code does: a plan for another day is refused even with --force.
    snap = tmp_path / "service.json"
    snap.write_text(json.dumps(snapshot_data()))
    plan = tmp_path / "plan.json"
    made = CliRunner().invoke(main, ["allocate", str(snap), "--out", str(plan)])
    assert made.exit_code == 0, made.output
    data = json.loads(plan.read_text())
    plan.write_text(json.dumps({**data, "as_of": "2026-11-24"}))
    next_json = str(tmp_path / "next.json")
    args = ["apply", str(plan), "--snapshot", str(snap), "--out", next_json, "--force"]
    refused = CliRunner().invoke(main, args)
    assert refused.exit_code == 2 and "the plan is for 2026-11-24" in refused.stderr
    assert not (tmp_path / "next.json").exists()
