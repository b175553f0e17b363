"""``allocator import ssd`` on a hand-written SSD extract, its values worked out by hand.

The extract in ``examples/ssd/extract`` (as of 2026-11-23, allocated role ``ALLOCATED_SW``):

- C001: CIN open since 2026-03-01 and a CP plan open since 2026-04-10, so the type is
  child_protection (pre-proceedings and CP come before CIN in the mapping's order).
  Allocated workers W05 (2025-12-01..2026-02-10), W04 (..06-30), W02 (..09-15), then
  W01 open: current W01; previous W02, W04, W05 (latest end first); three changes in
  the year (W05's start was the first allocation, not a change). W03's IRO
  involvement is not the allocated role and is ignored.
- C002: C001's sibling (family F01) under another worker, W02.
- C003: looked after since 2024 and in pre-proceedings (care proceedings issued,
  final plan "H", still in proceedings): court. W01 until 2025-10-01, then W03: that
  change was more than a year ago, so 0 changes.
- C004: CIN closed 2025-06-30 and reopened 2026-10-20, W04 both times: current W04,
  no previous worker other than W04 itself, 0 changes (same worker); no ssd_family
  row, so the family is the child's own id.
- C005: early help, no allocated involvement (W06's starts 2026-12-01, after as_of):
  unallocated; urgent from the cases side table.
- C006: care leaver in touch (YES). C007: CIN closed. C008: care leaver NREQ (closed).
"""

from __future__ import annotations

import csv
import shutil
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner

from allocator.cli import main
from allocator.io import InputError, load_snapshot
from allocator.ssd.mapping import load_ssd_mapping
from allocator.ssd.ssd_import import import_ssd

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "ssd"
AS_OF = date(2026, 11, 23)


@pytest.fixture
def extract(tmp_path: Path) -> Path:
    """A private copy of the example extract and its mapping and side tables."""
    shutil.copytree(EXAMPLE, tmp_path / "ssd")
    return tmp_path / "ssd"


def run(folder: Path, as_of: date = AS_OF):  # type: ignore[no-untyped-def]
    return import_ssd(folder / "extract", load_ssd_mapping(folder / "mapping.toml"), as_of)


def edit(path: Path, change) -> None:  # type: ignore[no-untyped-def]
    """Rewrite a CSV table: ``change(rows)`` edits the list of dicts in place."""
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        fields = list(reader.fieldnames or [])
        rows = list(reader)
    fields, rows = change(fields, rows) or (fields, rows)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)


def test_cases_types_workers_and_history(extract: Path) -> None:
    snapshot, _ = run(extract)
    cases = {c.id: c for c in snapshot.cases}
    assert sorted(cases) == ["C001", "C002", "C003", "C004", "C005", "C006"]
    assert {k: c.type.value for k, c in cases.items()} == {
        "C001": "child_protection",
        "C002": "child_in_need",
        "C003": "court",
        "C004": "child_in_need",
        "C005": "early_help",
        "C006": "care_leaver",
    }
    assert {k: c.worker for k, c in cases.items()} == {
        "C001": "W01",
        "C002": "W02",
        "C003": "W03",
        "C004": "W04",
        "C005": None,
        "C006": "W01",
    }
    assert cases["C001"].previous_workers == ("W02", "W04", "W05")
    assert cases["C003"].previous_workers == ("W01",)
    assert cases["C004"].previous_workers == ()
    assert {k: c.changes_last_12_months for k, c in cases.items()} == {
        "C001": 3,
        "C002": 0,
        "C003": 0,
        "C004": 0,
        "C005": 0,
        "C006": 0,
    }
    assert cases["C001"].family == cases["C002"].family == "F01"
    assert cases["C004"].family == "C004"
    # opened: the earliest start among the open episodes (C004: the reopened CIN)
    assert cases["C001"].opened == date(2026, 3, 1)
    assert cases["C004"].opened == date(2026, 10, 20)
    assert cases["C005"].opened == date(2026, 8, 1)  # written 01/08/2026 in the extract
    assert cases["C006"].opened is None  # ssd_care_leavers has no start date
    # complexity: side table (C003: 4), rule by type (C001 child_protection: 3), default 2
    assert [cases[k].complexity for k in ("C001", "C002", "C003")] == [3, 2, 4]
    assert cases["C005"].priority.value == "urgent"


def test_practitioners_from_professionals_and_department(extract: Path) -> None:
    snapshot, report = run(extract)
    staff = {p.id: p for p in snapshot.practitioners}
    assert sorted(staff) == ["W01", "W02", "W03", "W04", "W06"]  # W05: Team Manager
    assert staff["W01"].team == "North Safeguarding"  # D1 via ssd_department
    assert staff["W03"].team == "South Children in Care"
    assert [staff[w].grade.value for w in ("W01", "W02", "W03", "W04", "W06")] == [
        "senior",
        "social_worker",
        "nqsw",
        "social_worker",  # "social worker": case ignored
        "student",
    ]
    assert staff["W02"].fte == 0.8
    assert staff["W04"].fte == 1.0  # empty: the mapping's fte
    assert staff["W01"].skills == ("court", "welsh")  # side table
    assert staff["W02"].experience_years == 2.0  # mapping default
    # prof_agency_worker_flag: Y -> agency (W03); N -> permanent; empty -> permanent, reported
    assert {w: p.contract.value for w, p in staff.items()} == {
        "W01": "permanent",
        "W02": "permanent",
        "W03": "agency",
        "W04": "permanent",
        "W06": "permanent",
    }
    assert report.counts["practitioners on agency contracts"] == 1
    assert report.defaults[("ssd_professionals", "contract", "permanent (no agency flag)")] == 1
    assert report.counts["professionals whose job title has no grade (not practitioners)"] == 1


def test_every_default_is_reported_with_its_rows(extract: Path) -> None:
    _, report = run(extract)
    d = report.defaults
    assert d[("ssd_professionals", "fte", "mapping fte 1.0")] == 1  # W04
    assert d[("practitioners", "experience_years", "mapping experience_years 2.0")] == 3
    assert d[("practitioners", "skills", "mapping skills []")] == 4
    assert d[("practitioners", "capacity_points", "null")] == 5
    assert d[("cases", "complexity", "mapping complexity_by_type.child_protection")] == 1
    assert d[("cases", "complexity", "mapping complexity 2")] == 4  # C002, C004, C005, C006
    assert d[("cases", "family", "the child's own id (no ssd_family row)")] == 1
    assert d[("cases", "priority", "mapping priority standard")] == 5
    assert d[("cases", "area", "null")] == 4
    assert ("cases", "complexity", "mapping complexity_by_type.court") not in d  # side table
    text = "\n".join(report.lines())
    assert "cases.complexity: mapping complexity 2 for 4 rows" in text


def test_counts_say_what_was_read_and_used(extract: Path) -> None:
    _, report = run(extract)
    assert report.counts["children read (ssd_person)"] == 8
    assert report.counts["children with an open episode (cases)"] == 6
    assert report.counts["cases with a current worker"] == 5
    assert report.counts["involvements read"] == 13
    assert report.counts["allocated-worker involvements used"] == 11  # not I05 (IRO), I13
    assert report.counts["allocated-worker involvements starting after as_of (not used)"] == 1


def test_episode_order_comes_from_the_mapping(extract: Path) -> None:
    mapping = (extract / "mapping.toml").read_text()
    mapping = mapping.replace(
        'order = ["ssd_pre_proceedings", "ssd_cp_plans", "ssd_permanence", "ssd_legal_status", '
        '"ssd_cla_episodes"',
        'order = ["ssd_cla_episodes", "ssd_pre_proceedings", "ssd_cp_plans", "ssd_permanence", '
        '"ssd_legal_status"',
    )
    (extract / "mapping.toml").write_text(mapping)
    snapshot, _ = run(extract)
    assert {c.id: c.type.value for c in snapshot.cases}["C003"] == "looked_after"


def test_a_table_left_out_of_the_order_is_not_read(extract: Path) -> None:
    mapping = (extract / "mapping.toml").read_text()
    mapping = mapping.replace(', "ssd_early_help_episodes"', "")
    (extract / "mapping.toml").write_text(mapping)
    (extract / "extract" / "ssd_early_help_episodes.csv").unlink()
    snapshot, _ = run(extract)
    assert "C005" not in {c.id for c in snapshot.cases}


def test_overlapping_open_involvements_are_a_listed_warning(extract: Path) -> None:
    def add(fields, rows):  # type: ignore[no-untyped-def]
        rows.append(
            {
                **rows[5],
                "invo_involvements_id": "I99",
                "invo_professional_id": "W04",
                "invo_involvement_start_date": "2026-05-01",
            }
        )

    edit(extract / "extract" / "ssd_involvements.csv", add)
    snapshot, report = run(extract)
    # C002 has I06 (W02 from 2026-03-05) and I99 (W04 from 2026-05-01) open: latest wins
    assert {c.id: c.worker for c in snapshot.cases}["C002"] == "W04"
    assert any(
        "2 open allocated-worker involvements" in w and "line 15" in w for w in report.warnings
    )


def test_reopened_with_a_new_worker_counts_one_change(extract: Path) -> None:
    def swap(fields, rows):  # type: ignore[no-untyped-def]
        rows[9]["invo_professional_id"] = "W02"  # I10: C004 reopened under W02

    edit(extract / "extract" / "ssd_involvements.csv", swap)
    snapshot, _ = run(extract)
    c004 = {c.id: c for c in snapshot.cases}["C004"]
    assert (c004.worker, c004.previous_workers, c004.changes_last_12_months) == ("W02", ("W04",), 1)


# ------------------------------------------------------------------ bad input, one per kind


def problems_of(extract: Path) -> list[str]:
    with pytest.raises(InputError) as caught:
        run(extract)
    return caught.value.problems


def test_missing_table(extract: Path) -> None:
    (extract / "extract" / "ssd_cp_plans.csv").unlink()
    [problem] = problems_of(extract)
    assert problem.endswith("ssd_cp_plans.csv: table missing, expected a CSV file of that name.")


def test_missing_column(extract: Path) -> None:
    def drop(fields, rows):  # type: ignore[no-untyped-def]
        fields.remove("invo_involvement_end_date")
        for row in rows:
            del row["invo_involvement_end_date"]

    edit(extract / "extract" / "ssd_involvements.csv", drop)
    [problem] = problems_of(extract)
    assert "ssd_involvements.csv, line 1: required column 'invo_involvement_end_date'" in problem


def test_bad_date(extract: Path) -> None:
    def bad(fields, rows):  # type: ignore[no-untyped-def]
        rows[0]["cppl_cp_plan_start_date"] = "2026-13-40"

    edit(extract / "extract" / "ssd_cp_plans.csv", bad)
    [problem] = problems_of(extract)
    assert (
        "ssd_cp_plans.csv, line 2 (id CP1): field 'cppl_cp_plan_start_date' is '2026-13-40'"
        in problem
    )
    assert "expected a date written YYYY-MM-DD" in problem


def test_episode_without_start_date(extract: Path) -> None:
    def bad(fields, rows):  # type: ignore[no-untyped-def]
        rows[1]["cine_referral_date"] = ""

    edit(extract / "extract" / "ssd_cin_episodes.csv", bad)
    [problem] = problems_of(extract)
    assert "ssd_cin_episodes.csv, line 3 (id 102): field 'cine_referral_date' is empty" in problem


def test_unknown_code(extract: Path) -> None:
    def bad(fields, rows):  # type: ignore[no-untyped-def]
        rows[2]["invo_worker_change_reason"] = "LEFT"

    edit(extract / "extract" / "ssd_involvements.csv", bad)
    [problem] = problems_of(extract)
    assert "line 4 (id I03): field 'invo_worker_change_reason' is 'LEFT'" in problem
    assert "expected one of ABSENC, CHCHAN" in problem


def test_involvement_naming_an_unknown_professional(extract: Path) -> None:
    def bad(fields, rows):  # type: ignore[no-untyped-def]
        rows[0]["invo_professional_id"] = "W99"

    edit(extract / "extract" / "ssd_involvements.csv", bad)
    [problem] = problems_of(extract)
    assert "line 2 (id I01): field 'invo_professional_id' is 'W99'" in problem
    assert "expected a prof_professional_id of ssd_professionals" in problem


def test_current_worker_without_a_grade(extract: Path) -> None:
    def bad(fields, rows):  # type: ignore[no-untyped-def]
        rows[0]["prof_professional_job_title"] = "Family Support Worker"

    edit(extract / "extract" / "ssd_professionals.csv", bad)
    problems = problems_of(extract)
    assert any(
        "(id W01): holds child 'C001'" in p and "[practitioners] grades" in p for p in problems
    )


def test_mapping_unknown_key(extract: Path) -> None:
    path = extract / "mapping.toml"
    path.write_text(path.read_text().replace("allocated_roles", "allocated_role"))
    with pytest.raises(InputError) as caught:
        load_ssd_mapping(path)
    text = str(caught.value)
    assert "unknown key 'involvements.allocated_role'; did you mean 'allocated_roles'?" in text


def test_no_name_is_ever_printed(extract: Path) -> None:
    def bad(fields, rows):  # type: ignore[no-untyped-def]
        rows[0]["prof_full_time_equivalency"] = "Worker One"

    edit(extract / "extract" / "ssd_professionals.csv", bad)
    problems = problems_of(extract)
    assert problems and not any("Worker One" in p for p in problems)


# ------------------------------------------------------------------ the command line


def test_cli_writes_a_snapshot_that_reads_back(extract: Path, tmp_path: Path) -> None:
    out = tmp_path / "snap.json"
    result = CliRunner().invoke(
        main,
        [
            "import",
            "ssd",
            str(extract / "extract"),
            "--mapping",
            str(extract / "mapping.toml"),
            "--as-of",
            "2026-11-23",
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "wrote" in result.output and "5 practitioners, 6 cases" in result.output
    assert "cases.complexity: mapping complexity 2 for 4 rows" in result.output
    snapshot = load_snapshot(out)
    assert {c.id: c.worker for c in snapshot.cases}["C001"] == "W01"


def test_cli_bad_input_exits_2_without_traceback(extract: Path, tmp_path: Path) -> None:
    (extract / "extract" / "ssd_person.csv").unlink()
    out = tmp_path / "snap.json"
    result = CliRunner().invoke(
        main,
        [
            "import",
            "ssd",
            str(extract / "extract"),
            "--mapping",
            str(extract / "mapping.toml"),
            "--as-of",
            "2026-11-23",
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 2
    assert "ssd_person.csv: table missing" in result.output
    assert "Traceback" not in result.output
    assert not out.exists()


def test_side_table_values_are_checked_where_they_were_written(extract: Path) -> None:
    (extract / "cases_extra.csv").write_text(
        "id,complexity,pinned_worker\nC003,4,W77\nC005,9,\n", encoding="utf-8"
    )
    problems = problems_of(extract)
    # a value is checked as the table is read; whom it names, when the case is built
    assert problems == [
        f"{extract / 'cases_extra.csv'}, line 3 (id C005): field 'complexity' is '9', "
        "expected a whole number from 1 to 4.",
        f"{extract / 'cases_extra.csv'}, line 2 (id C003): field 'pinned_worker' is 'W77', "
        "expected the id of a practitioner.",
    ]


def test_duplicate_person(extract: Path) -> None:
    def dup(fields, rows):  # type: ignore[no-untyped-def]
        rows.append(dict(rows[0]))

    edit(extract / "extract" / "ssd_person.csv", dup)
    [problem] = problems_of(extract)
    assert (
        "ssd_person.csv, line 10 (id C001): pers_person_id 'C001' is already on line 2" in problem
    )


def test_open_involvement_of_a_closed_case_is_counted_not_used(extract: Path) -> None:
    def reopen(fields, rows):  # type: ignore[no-untyped-def]
        rows[11]["invo_involvement_end_date"] = ""  # I12: C007's case closed 2026-05-01

    edit(extract / "extract" / "ssd_involvements.csv", reopen)
    snapshot, report = run(extract)
    assert "C007" not in {c.id for c in snapshot.cases}
    key = "open allocated-worker involvements of children with no open episode"
    assert report.counts[key] == 1


def test_care_leaver_worker_from_the_care_leavers_table(extract: Path) -> None:
    def drop_i11(fields, rows):  # type: ignore[no-untyped-def]
        return fields, [r for r in rows if r["invo_involvements_id"] != "I11"]

    edit(extract / "extract" / "ssd_involvements.csv", drop_i11)
    snapshot, report = run(extract)
    # C006 has no allocated involvement left; ssd_care_leavers names W01
    assert {c.id: c.worker for c in snapshot.cases}["C006"] == "W01"
    assert report.counts["care leavers' workers from clea_care_leaver_worker_id"] == 1

    def unknown(fields, rows):  # type: ignore[no-untyped-def]
        rows[0]["clea_care_leaver_worker_id"] = "W42"

    edit(extract / "extract" / "ssd_care_leavers.csv", unknown)
    [problem] = problems_of(extract)
    assert "ssd_care_leavers.csv, line 2 (id CL1): field 'clea_care_leaver_worker_id' is 'W42'" in (
        problem
    )


def test_no_practitioner_is_an_error_as_in_a_snapshot(extract: Path) -> None:
    # FORMAT.md "Reading rules": a snapshot with no practitioner is refused, in JSON
    # and CSV; the import would otherwise write one that allocate refuses.
    def nobody(fields, rows):  # type: ignore[no-untyped-def]
        rows.clear()

    edit(extract / "extract" / "ssd_professionals.csv", nobody)
    edit(extract / "extract" / "ssd_involvements.csv", nobody)
    problems = problems_of(extract)
    assert any(
        p.endswith(
            "ssd_professionals.csv: holds no rows, expected at least one practitioner "
            "(was the table emptied?)."
        )
        for p in problems
    ), problems


def test_a_file_for_the_source_says_it_is_a_file(extract: Path) -> None:
    # "no such folder" for a file that exists misled (a user fault)
    source = extract / "extract" / "ssd_person.csv"
    with pytest.raises(InputError) as caught:
        import_ssd(source, load_ssd_mapping(extract / "mapping.toml"), AS_OF)
    [problem] = caught.value.problems
    assert problem.startswith(f"{source}: a file, not a folder; expected a folder of SSD tables")
