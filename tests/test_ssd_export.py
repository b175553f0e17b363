"""``allocator export ssd``: a plan's changes as SSD involvement rows, checked by hand."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from click.testing import CliRunner

from allocator.cli import main
from allocator.contract.models import Plan, Snapshot
from allocator.io import write_json
from allocator.ssd.export import involvement_rows
from allocator.ssd.mapping import load_ssd_mapping
from allocator.ssd.ssd_import import import_ssd
from tests.test_ssd_import import AS_OF, EXAMPLE


def snapshot() -> Snapshot:
    """The example extract, with W02 gone on 2026-11-20 and W04 away until December."""
    snap, _ = import_ssd(EXAMPLE / "extract", load_ssd_mapping(EXAMPLE / "mapping.toml"), AS_OF)
    staff = [
        p.model_copy(update={"leaving_on": AS_OF.replace(day=20)})
        if p.id == "W02"
        else p.model_copy(update={"available_from": AS_OF.replace(month=12, day=7)})
        if p.id == "W04"
        else p
        for p in snap.practitioners
    ]
    return snap.model_copy(update={"practitioners": tuple(staff)})


def plan() -> Plan:
    return Plan.model_validate(
        {
            "as_of": "2026-11-23",
            "status": "feasible",
            "assignments": [
                {"case": "C005", "worker": "W06", "from": None},  # new: FCONTA
                {"case": "C002", "worker": "W01", "from": "W02"},  # W02 left: LEFTRL
                {"case": "C003", "worker": "W01", "from": "W03"},  # plain move: MANAGE
            ],
            "unallocated": [
                {"case": "C004", "code": "no_capacity", "reason": "no room"}
            ],  # W04 is away: ABSENC
        }
    )


def test_rows_with_dates_and_reasons() -> None:
    rows = involvement_rows(plan(), snapshot(), "ALLOCATED_SW")
    got = [
        (
            r["invo_professional_id"],
            r["invo_person_id"],
            r["invo_involvement_start_date"],
            r["invo_involvement_end_date"],
            r["invo_worker_change_reason"],
        )
        for r in rows
    ]
    assert got == [
        ("W06", "C005", "2026-11-23", "", "FCONTA"),
        ("W02", "C002", "", "2026-11-23", "LEFTRL"),
        ("W01", "C002", "2026-11-23", "", "LEFTRL"),
        ("W03", "C003", "", "2026-11-23", "MANAGE"),
        ("W01", "C003", "2026-11-23", "", "MANAGE"),
        ("W04", "C004", "", "2026-11-23", "ABSENC"),
    ]
    assert {r["invo_professional_role_id"] for r in rows} == {"ALLOCATED_SW"}
    assert rows[0]["invo_involvements_id"] == "A20261123-00001"


def test_cli_writes_ssd_involvements(tmp_path: Path) -> None:
    write_json(tmp_path / "plan.json", plan())
    write_json(tmp_path / "snap.json", snapshot())
    result = CliRunner().invoke(
        main,
        [
            "export",
            "ssd",
            str(tmp_path / "plan.json"),
            "--snapshot",
            str(tmp_path / "snap.json"),
            "--mapping",
            str(EXAMPLE / "mapping.toml"),
            "--out",
            str(tmp_path / "out"),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "3 new involvements, 3 ended" in result.output
    with (tmp_path / "out" / "ssd_involvements.csv").open(newline="") as handle:
        assert len(list(csv.DictReader(handle))) == 6


@pytest.mark.parametrize(
    ("field", "said"),
    [
        ("case", "case 'C999' is not in the snapshot"),
        ("worker", "worker 'C999' (case"),
    ],
)
def test_cli_plan_naming_an_unknown_case_exits_2(tmp_path: Path, field: str, said: str) -> None:
    bad = plan().model_copy(update={"unallocated": ()})
    data = bad.model_dump(by_alias=True, mode="json")
    data["assignments"][0][field] = "C999"
    write_json(tmp_path / "plan.json", data)
    write_json(tmp_path / "snap.json", snapshot())
    result = CliRunner().invoke(
        main,
        [
            "export",
            "ssd",
            str(tmp_path / "plan.json"),
            "--snapshot",
            str(tmp_path / "snap.json"),
            "--mapping",
            str(EXAMPLE / "mapping.toml"),
            "--out",
            str(tmp_path / "out"),
        ],
    )
    assert result.exit_code == 2
    # the messages name the files, not "plan:" (a user fault)
    assert f"{tmp_path / 'plan.json'}: {said}" in result.output
    assert f"the snapshot {tmp_path / 'snap.json'}, expected the snapshot the plan" in (
        result.output.replace("\n", " ")
    )


def test_ended_rows_close_the_involvement_the_import_read() -> None:
    # C002's open involvement is I06 (W02 from 2026-03-05), C003's I08 (W03 from
    # 2025-10-01), C004's I10 (W04 from 2026-10-20): each ended row is that very row.
    _, report = import_ssd(EXAMPLE / "extract", load_ssd_mapping(EXAMPLE / "mapping.toml"), AS_OF)
    rows = involvement_rows(plan(), snapshot(), "ALLOCATED_SW", report.involvements)
    ended = [
        (
            r["invo_involvements_id"],
            r["invo_professional_id"],
            r["invo_person_id"],
            r["invo_involvement_start_date"],
            r["invo_involvement_end_date"],
        )
        for r in rows
        if r["invo_involvement_end_date"]
    ]
    assert ended == [
        ("I06", "W02", "C002", "2026-03-05", "2026-11-23"),
        ("I08", "W03", "C003", "2025-10-01", "2026-11-23"),
        ("I10", "W04", "C004", "2026-10-20", "2026-11-23"),
    ]
    new = [r["invo_involvements_id"] for r in rows if not r["invo_involvement_end_date"]]
    assert new == ["A20261123-00001", "A20261123-00003", "A20261123-00005"]


def test_a_worker_changed_since_the_import_gets_a_new_id() -> None:
    _, report = import_ssd(EXAMPLE / "extract", load_ssd_mapping(EXAMPLE / "mapping.toml"), AS_OF)
    snap = snapshot()
    cases = tuple(
        c.model_copy(update={"worker": "W06"}) if c.id == "C003" else c for c in snap.cases
    )
    rows = involvement_rows(
        plan(), snap.model_copy(update={"cases": cases}), "ALLOCATED_SW", report.involvements
    )
    c003 = [r for r in rows if r["invo_person_id"] == "C003" and r["invo_involvement_end_date"]]
    assert [(r["invo_professional_id"], r["invo_involvement_start_date"]) for r in c003] == [
        ("W06", "")
    ]
    assert c003[0]["invo_involvements_id"].startswith("A20261123-")


@pytest.mark.parametrize(
    ("out", "side"),
    [("snap.json", "snap.ssd-involvements.csv"), ("snapdir", "snapdir/ssd-involvements.csv")],
)
def test_cli_import_keeps_open_involvements_and_export_uses_them(
    tmp_path: Path, out: str, side: str
) -> None:
    runner = CliRunner()
    snap = tmp_path / out
    made = runner.invoke(
        main,
        [
            "import",
            "ssd",
            str(EXAMPLE / "extract"),
            "--mapping",
            str(EXAMPLE / "mapping.toml"),
            "--as-of",
            "2026-11-23",
            "--out",
            str(snap),
        ],
    )
    assert made.exit_code == 0, made.output
    assert f"wrote {tmp_path / side}: 5 open involvements" in made.output  # C001-C004, C006
    write_json(tmp_path / "plan.json", plan())
    result = runner.invoke(
        main,
        [
            "export",
            "ssd",
            str(tmp_path / "plan.json"),
            "--snapshot",
            str(snap),
            "--mapping",
            str(EXAMPLE / "mapping.toml"),
            "--out",
            str(tmp_path / "out"),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "3 new involvements, 3 ended (3 by their original id)" in result.output
    with (tmp_path / "out" / "ssd_involvements.csv").open(newline="") as handle:
        ids = {r["invo_involvements_id"] for r in csv.DictReader(handle)}
    assert {"I06", "I08", "I10"} <= ids


def test_cli_bad_open_involvements_file_exits_2(tmp_path: Path) -> None:
    write_json(tmp_path / "plan.json", plan())
    write_json(tmp_path / "snap.json", snapshot())
    (tmp_path / "snap.ssd-involvements.csv").write_text(
        "invo_person_id,invo_professional_id,invo_involvements_id,invo_involvement_start_date\n"
        "C002,W02,I06,05/13/2026\n"
    )
    result = CliRunner().invoke(
        main,
        [
            "export",
            "ssd",
            str(tmp_path / "plan.json"),
            "--snapshot",
            str(tmp_path / "snap.json"),
            "--mapping",
            str(EXAMPLE / "mapping.toml"),
            "--out",
            str(tmp_path / "out"),
        ],
    )
    assert result.exit_code == 2
    assert "snap.ssd-involvements.csv, line 2 (id I06): field 'invo_involvement_start_date'" in (
        result.output
    )
    assert "Traceback" not in result.output
