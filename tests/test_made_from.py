"""A plan records what it was made from; check and explain compare it with their inputs.

Instance: P1 (room for everything) holds C1; the day's referrals file holds R1.
"""

from __future__ import annotations

import hashlib
import json
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from allocator.cli import main
from allocator.explain.check import input_mismatches
from allocator.io import (
    file_digest,
    inputs_of,
    load_plan,
    load_snapshot,
    write_json,
    write_snapshot,
)
from tests.builders import case, snapshot, worker

SNAP = snapshot([worker("P1")], [case("C1", worker="P1")])


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    snap, referrals, policy = (
        tmp_path / "snap.json",
        tmp_path / "referrals.json",
        tmp_path / "p.toml",
    )
    write_json(snap, SNAP)
    referrals.write_text(
        json.dumps([{"id": "R1", "family": "F9", "type": "early_help", "complexity": 1}])
    )
    policy.write_text("max_new_families_per_day = 2\n")
    plan = tmp_path / "plan.json"
    result = run(
        "allocate",
        snap,
        "--referrals",
        referrals,
        "--policy",
        policy,
        "--out",
        plan,
        "--time-limit",
        "5",
    )
    assert result.exit_code == 0, result.output
    return {"snapshot": snap, "referrals": referrals, "policy": policy, "plan": plan}


def run(*args: object) -> Result:
    return CliRunner().invoke(main, [str(a) for a in args])


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_the_plan_records_its_inputs(files: dict[str, Path]) -> None:
    made = json.loads(files["plan"].read_text())["made_from"]
    service = load_snapshot(files["snapshot"], files["referrals"])
    assert made == {
        "snapshot": {"file": str(files["snapshot"]), "sha256": sha(files["snapshot"])},
        "referrals": {"file": str(files["referrals"]), "sha256": sha(files["referrals"])},
        "policy": {"file": str(files["policy"]), "sha256": sha(files["policy"])},
        "command": "allocate",
        "service_sha256": hashlib.sha256(service.model_dump_json().encode()).hexdigest(),
    }


@pytest.mark.parametrize("form", ["the same file", "its CSV tables"])
def test_check_with_the_same_service_says_nothing(
    files: dict[str, Path], tmp_path: Path, form: str
) -> None:
    # Its CSV tables: a manager's check of the README's example against its CSV copy
    # warned that the snapshot differed, "the plan may be judged against inputs it was
    # not made from".
    service = files["snapshot"]
    if form == "its CSV tables":
        service = write_snapshot(SNAP, tmp_path / "tables")
    result = run(
        "check",
        service,
        files["plan"],
        "--referrals",
        files["referrals"],
        "--policy",
        files["policy"],
    )
    assert result.exit_code == 0, result.output
    assert "warning" not in result.stderr


def test_check_refuses_a_plan_whose_referrals_were_forgotten(files: dict[str, Path]) -> None:
    """R1 is a referral, not a case of the snapshot alone: the plan cannot be judged,
    so check stops as on bad input (exit 2) and names the file, rather than listing
    a broken rule (exit 1) for each referral."""
    result = run("check", files["snapshot"], files["plan"], "--policy", files["policy"], "--json")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.strip() == (
        f"error: {files['plan']} names 1 case not in {files['snapshot']} and was made with "
        f"referrals {files['referrals']}: give --referrals {files['referrals']} (nothing was "
        "checked)"
    )


def test_a_plan_checked_against_another_service_is_not_told_to_give_referrals(
    files: dict[str, Path], tmp_path: Path
) -> None:
    """With another service's snapshot (another day, or without the plan's workers),
    the referrals are not the story: the warnings say the snapshot differs and the
    rules are judged."""
    for name, other_snap in (
        ("day", SNAP.model_copy(update={"as_of": date(2026, 11, 24)})),
        ("staff", snapshot([worker("P2")], [case("C1", worker="P2")])),
    ):
        other = tmp_path / f"other-{name}.json"
        write_json(other, other_snap)
        result = run("check", other, files["plan"], "--policy", files["policy"])
        assert result.exit_code == 1, (name, result.output)
        assert "give --referrals" not in result.stderr
        assert f"{other} differs" in result.stderr


@pytest.mark.parametrize("change", ["re-saved", "bom", "a worker added"])
def test_a_snapshot_changed_in_its_bytes_still_asks_for_the_referrals(
    files: dict[str, Path], tmp_path: Path, change: str
) -> None:
    """Before: the same snapshot re-saved (or with a byte-order mark) differed in its
    SHA-256, and check listed each referral as "not a case in the snapshot", exit 1."""
    other = tmp_path / "other.json"
    data = json.loads(files["snapshot"].read_text())
    if change == "a worker added":
        data["practitioners"].append({**data["practitioners"][0], "id": "P2"})
    text = json.dumps(data, indent=4)
    other.write_text(("\ufeff" if change == "bom" else "") + text, encoding="utf-8")
    result = run("check", other, files["plan"], "--policy", files["policy"])
    assert result.exit_code == 2, result.output
    assert result.stderr.strip().endswith(
        f"give --referrals {files['referrals']} (nothing was checked)"
    )


def test_check_asks_about_a_forgotten_referrals_file_the_plan_does_not_need(
    files: dict[str, Path], tmp_path: Path
) -> None:
    """A plan that names no referral is judged, with the warning first."""
    plan = load_plan(files["plan"])
    alone = plan.model_copy(
        update={
            "assignments": tuple(a for a in plan.assignments if a.case != "R1"),
            "unallocated": tuple(u for u in plan.unallocated if u.case != "R1"),
        }
    )
    write_json(tmp_path / "alone.json", alone)
    result = run("check", files["snapshot"], tmp_path / "alone.json", "--json")
    expected = (
        f"this plan was made with referrals {files['referrals']}: did you forget --referrals?"
    )
    assert f"warning: {expected}" in result.stderr
    assert expected in json.loads(result.stdout)["inputs"]


def test_explain_asks_about_a_forgotten_policy(files: dict[str, Path]) -> None:
    result = run(
        "explain", files["plan"], "--snapshot", files["snapshot"], "--referrals", files["referrals"]
    )
    assert result.exit_code == 0, result.output
    assert f"made with policy {files['policy']}: did you forget --policy?" in result.stderr


def test_a_changed_snapshot_is_named(files: dict[str, Path], tmp_path: Path) -> None:
    other = tmp_path / "other.json"
    write_json(other, SNAP.model_copy(update={"cases": ()}))
    found = input_mismatches(
        inputs_of(files["snapshot"], files["referrals"], files["policy"]),
        inputs_of(other, files["referrals"], files["policy"]),
    )
    assert len(found) == 1 and f"{other} differs" in found[0]


def test_a_plan_without_a_record_gives_no_warning(files: dict[str, Path]) -> None:
    assert input_mismatches(None, inputs_of(files["snapshot"])) == []


def test_a_csv_directory_is_digested_by_its_tables(tmp_path: Path) -> None:
    # Same tables in two directories: one digest; a changed table: another.
    write_snapshot(SNAP, tmp_path / "a")
    write_snapshot(SNAP, tmp_path / "b")
    assert file_digest(tmp_path / "a").sha256 == file_digest(tmp_path / "b").sha256
    write_snapshot(SNAP.model_copy(update={"cases": ()}), tmp_path / "b")
    assert file_digest(tmp_path / "a").sha256 != file_digest(tmp_path / "b").sha256


# A field inside a field that is itself an object is named by its whole path and
# described by what it is, one per kind of problem (it read "field 'made_from.snapshot'
# is text, expected an object" for a bad digest).
_PLAN = {"format": "allocation-plan/1", "as_of": "2026-11-23", "status": "optimal"}
_PENDING = {"format": "pending-handovers/1", "as_of": "2026-11-23", "handovers": []}
_DIGEST = "a SHA-256: 64 digits 0-9 and a-f"


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        (
            {**_PLAN, "made_from": {"snapshot": {"file": "s.json", "sha256": "abc"}}},
            f"field 'made_from.snapshot.sha256' is 'abc', expected {_DIGEST}.",
        ),
        (
            {**_PLAN, "made_from": {"snapshot": {"file": "s.json", "sha": "abc"}}},
            "unknown field 'made_from.snapshot.sha'; did you mean 'sha256'?",
        ),
        (
            {**_PLAN, "made_from": {"snapshot": {"sha256": None}}},
            "required field 'made_from.snapshot.file' is missing, expected text.",
        ),
        (
            {**_PENDING, "plan": {"file": "plan.json", "sha256": "XYZ"}},
            f"field 'plan.sha256' is 'XYZ', expected {_DIGEST}.",
        ),
        (
            {**_PENDING, "plan": {"file": 7}},
            "field 'plan.file' is 7, expected text.",
        ),
    ],
)
def test_a_nested_field_is_named_by_its_path(
    tmp_path: Path, document: dict[str, object], expected: str
) -> None:
    from allocator.io import InputError, load_pending_handovers, load_plan

    path = tmp_path / "doc.json"
    path.write_text(json.dumps(document))
    load = load_plan if document["format"] == "allocation-plan/1" else load_pending_handovers
    with pytest.raises(InputError) as caught:
        load(path)
    assert caught.value.problems == [f"{path}: {expected}"]


@pytest.mark.parametrize("command", ["explain", "apply", "diff", "report", "recommend"])
def test_every_command_reading_the_plan_asks_for_forgotten_referrals(
    files: dict[str, Path], tmp_path: Path, command: str
) -> None:
    """A fresh user's explain without --referrals said the plan breaks 20 hard rules
    (exit 1); diff called neither plan within the rules; report wrote 20 errors;
    apply offered --force. Each now stops as check does, naming the file to give."""
    snap, plan, policy = files["snapshot"], files["plan"], files["policy"]
    args = {
        "explain": ["explain", plan, "--snapshot", snap],
        "apply": ["apply", plan, "--snapshot", snap, "--out", tmp_path / "next.json"],
        "diff": ["diff", plan, plan, "--snapshot", snap],
        "report": ["report", plan, "--snapshot", snap, "--out", tmp_path / "report.html"],
        "recommend": ["recommend", snap, "C1", "--plan", plan],
    }[command]
    result = run(*args, "--policy", policy)
    assert result.exit_code == 2, result.output
    assert f"give --referrals {files['referrals']} (nothing was checked)" in result.stderr
    assert not list(tmp_path.glob("next.json")) and not list(tmp_path.glob("report.html"))
