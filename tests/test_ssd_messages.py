"""``allocator import ssd``: every problem named where it is written, every one in one run.

On copies of the example extract (``tests/test_ssd_import.py`` says what it holds),
one value made wrong at a time, or several in different tables at once:

- a snapshot field filled from another table than the child's or worker's own row
  (``opened`` from an episode, ``family`` from ``ssd_family``, ``team`` from
  ``ssd_department``, ``previous_workers`` from ``ssd_involvements``, the count of
  changes of worker) is refused naming that table, its line and its SSD column;
- an id column holding a control or invisible character, and an FTE that is no
  number or out of range, name the column and what was expected;
- a mapping's unknown case type, empty or repeated ``order``, and a repeated
  ``invo_involvements_id`` are refused in one sentence;
- problems of independent tables (the two side tables, the extract) are all told in
  one run, and a table missing hides no other table's problems.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from pydantic import ValidationError

from allocator.cli import main
from allocator.contract.models import Case
from allocator.io import InputError
from allocator.ssd.mapping import load_ssd_mapping
from allocator.ssd.ssd_import import EPISODE_COLUMNS, repeated_id
from tests.test_ssd_import import EXAMPLE, edit, run

ID_WORDS = "expected an id (not empty, no space at either end, no control or invisible character)"
RANGE = "expected a date from 1900-01-01 to 2999-12-31."


@pytest.fixture
def extract(tmp_path: Path) -> Path:
    """A private copy of the example extract and its mapping and side tables."""
    shutil.copytree(EXAMPLE, tmp_path / "ssd")
    return tmp_path / "ssd"


def set_cell(path: Path, index: int, column: str, value: str) -> None:
    """Write ``value`` in ``column`` of the ``index``-th row (0-based; line index + 2)."""

    def change(fields, rows):  # type: ignore[no-untyped-def]
        rows[index][column] = value

    edit(path, change)


def add_row(path: Path, **cells: str) -> None:
    def change(fields, rows):  # type: ignore[no-untyped-def]
        rows.append({f: cells.get(f, "") for f in fields})

    edit(path, change)


def problems_of(folder: Path) -> list[str]:
    with pytest.raises(InputError) as caught:
        run(folder)
    return caught.value.problems


def mapping_problems(folder: Path, old: str, new: str) -> list[str]:
    path = folder / "mapping.toml"
    text = path.read_text()
    assert old in text, old
    path.write_text(text.replace(old, new, 1))
    with pytest.raises(InputError) as caught:
        load_ssd_mapping(path)
    return caught.value.problems


# -------------------------------------- fault 1: where a value came from

# (table, row index, its id, start column, change to the rows so that it is the child's
# earliest open start, written value): opened is the earliest start among the child's
# open episodes, so a start in 1850 is always the one taken.
OPENED_FROM = [
    ("ssd_pre_proceedings", 0, "PP1", "prep_pre_pro_decision_date", "1850-10-01"),
    ("ssd_cp_plans", 0, "CP1", "cppl_cp_plan_start_date", "1850-04-10"),
    ("ssd_cla_episodes", 0, "LA1", "clae_cla_episode_start_date", "1850-05-01"),
    ("ssd_cin_episodes", 0, "101", "cine_referral_date", "1850-03-01"),
    ("ssd_early_help_episodes", 0, "EH1", "earl_episode_start_date", "01/08/1850"),
]


@pytest.mark.parametrize(("table", "index", "ident", "column", "written"), OPENED_FROM)
def test_opened_out_of_range_is_named_in_the_episode_table(
    extract: Path, table: str, index: int, ident: str, column: str, written: str
) -> None:
    # The developer's report: ssd_person.csv and 'opened' were named for a CIN date.
    set_cell(extract / "extract" / f"{table}.csv", index, column, written)
    [problem] = problems_of(extract)
    assert problem == (
        f"{extract / 'extract' / table}.csv, line {index + 2} (id {ident}): field "
        f"{column!r} is {written!r}, {RANGE}"
    )


@pytest.mark.parametrize(
    ("table", "cells", "ident", "column"),
    [
        # an adoption decision (no reversal, no order): open from the decision
        (
            "ssd_permanence",
            {"perm_table_id": "P9", "perm_person_id": "C002", "perm_adm_decision_date": "1850"},
            "P9",
            "perm_adm_decision_date",
        ),
        # a placement order alone: open from the order
        (
            "ssd_permanence",
            {"perm_table_id": "P9", "perm_person_id": "C002", "perm_placement_order_date": "1850"},
            "P9",
            "perm_placement_order_date",
        ),
        # placement order granted (E1), open
        (
            "ssd_legal_status",
            {
                "lega_legal_status_id": "L9",
                "lega_person_id": "C004",
                "lega_legal_status": "E1",
                "lega_legal_status_start_date": "1850",
            },
            "L9",
            "lega_legal_status_start_date",
        ),
    ],
)
def test_opened_from_an_adoption_table_is_named_there(
    extract: Path, table: str, cells: dict[str, str], ident: str, column: str
) -> None:
    written = "1850-06-01"
    add_row(
        extract / "extract" / f"{table}.csv",
        **{k: (written if v == "1850" else v) for k, v in cells.items()},
    )
    [problem] = problems_of(extract)
    assert problem == (
        f"{extract / 'extract' / table}.csv, line 3 (id {ident}): field {column!r} is "
        f"{written!r}, {RANGE}"
    )


def test_family_is_named_in_ssd_family(extract: Path) -> None:
    set_cell(extract / "extract" / "ssd_family.csv", 0, "fami_family_id", "F\x0701")
    [problem] = problems_of(extract)
    assert problem == (
        f"{extract / 'extract' / 'ssd_family.csv'}, line 2: field 'fami_family_id' is "
        f"'F\\x0701', {ID_WORDS}."
    )


def test_team_is_named_in_ssd_department(extract: Path) -> None:
    set_cell(extract / "extract" / "ssd_department.csv", 0, "dept_team_name", "North\x1b[2J")
    [problem] = problems_of(extract)  # W01, W02 and W06 are in D1: one sentence
    assert problem.startswith(
        f"{extract / 'extract' / 'ssd_department.csv'}, line 2 (id D1): field "
        "'dept_team_name' is text holding a control or invisible character"
    )
    assert "North" not in problem  # free text is described, never shown
    label = "a label (not blank, no control or invisible character but tabs and line breaks)"
    assert problem.endswith(f"expected {label}.")


def test_team_written_as_a_department_name_is_named_in_ssd_professionals(
    extract: Path,
) -> None:
    set_cell(
        extract / "extract" / "ssd_professionals.csv", 1, "prof_professional_department", "\u200b"
    )
    [problem] = problems_of(extract)
    assert problem.startswith(
        f"{extract / 'extract' / 'ssd_professionals.csv'}, line 3 (id W02): field "
        "'prof_professional_department' is text holding a control or invisible character"
    )


def test_a_former_worker_is_named_in_ssd_involvements(extract: Path) -> None:
    # W05 (Team Manager: no grade, so never checked as a practitioner) held C001 first
    bad = "W\x0705"
    set_cell(extract / "extract" / "ssd_professionals.csv", 4, "prof_professional_id", bad)
    set_cell(extract / "extract" / "ssd_involvements.csv", 0, "invo_professional_id", bad)
    [problem] = problems_of(extract)
    assert problem == (
        f"{extract / 'extract' / 'ssd_involvements.csv'}, line 2 (id I01): field "
        f"'invo_professional_id' is 'W\\x0705', {ID_WORDS}."
    )


@pytest.mark.parametrize(
    ("index", "ident", "line"),
    [
        (5, "I06", 7),  # C002's open involvement: the child is taken as a departed worker's
        (0, "I01", 2),  # C001's first, closed: a former worker
    ],
)
def test_a_departed_workers_id_is_named_in_ssd_involvements(
    extract: Path, index: int, ident: str, line: int
) -> None:
    # unknown_workers = "departed": an id missing from ssd_professionals is kept as a
    # previous worker, so it is checked as one, where it is written
    path = extract / "mapping.toml"
    path.write_text('unknown_workers = "departed"\n' + path.read_text())
    involvements = extract / "extract" / "ssd_involvements.csv"
    set_cell(involvements, index, "invo_professional_id", "W\u200b9")
    [problem] = problems_of(extract)
    assert problem == (
        f"{involvements}, line {line} (id {ident}): field 'invo_professional_id' is "
        f"'W\\u200b9', {ID_WORDS}."
    )


def test_a_departed_workers_id_on_a_closed_childs_row_is_not_read(extract: Path) -> None:
    # I12: C007's involvement, whose case closed: nothing of it goes into the snapshot
    path = extract / "mapping.toml"
    path.write_text('unknown_workers = "departed"\n' + path.read_text())
    set_cell(extract / "extract" / "ssd_involvements.csv", 11, "invo_professional_id", "W\u200b9")
    snapshot, _ = run(extract)
    assert "C007" not in {c.id for c in snapshot.cases}


def test_a_childs_id_is_named_in_ssd_person(extract: Path) -> None:
    bad = "C0\x0704"
    set_cell(extract / "extract" / "ssd_person.csv", 3, "pers_person_id", bad)
    for index in (3, 4):  # 104, 105
        set_cell(extract / "extract" / "ssd_cin_episodes.csv", index, "cine_person_id", bad)
    for index in (8, 9):  # I09, I10
        set_cell(extract / "extract" / "ssd_involvements.csv", index, "invo_person_id", bad)
    # the id, and the family the child is alone in: one sentence
    [problem] = problems_of(extract)
    assert problem == (
        f"{extract / 'extract' / 'ssd_person.csv'}, line 5 (id C0\\x0704): field "
        f"'pers_person_id' is 'C0\\x0704', {ID_WORDS}."
    )


def test_a_count_of_changes_no_snapshot_holds_is_named_in_ssd_involvements(
    extract: Path,
) -> None:
    # 368 involvements of C002 on one day, alternating W01 and W02, after I06 (W02):
    # each is a change of worker, 368 in the year; a snapshot holds at most 366
    def many(fields, rows):  # type: ignore[no-untyped-def]
        for n in range(368):
            rows.append(
                {
                    **{f: "" for f in fields},
                    "invo_involvements_id": f"X{n}",
                    "invo_professional_id": "W01" if n % 2 == 0 else "W02",
                    "invo_professional_role_id": "ALLOCATED_SW",
                    "invo_involvement_start_date": "2026-11-01",
                    "invo_involvement_end_date": "2026-11-02",
                    "invo_person_id": "C002",
                }
            )

    edit(extract / "extract" / "ssd_involvements.csv", many)
    [problem] = problems_of(extract)
    assert problem == (
        f"{extract / 'extract' / 'ssd_involvements.csv'}: the count of changes of worker of "
        "child 'C002' in the year to 2026-11-23 (from its allocated-worker involvements, by "
        "start) is '368', expected a whole number from 0 to 366."
    )


# -------------------------------------- fault 2: column and what was expected


@pytest.mark.parametrize(
    ("written", "found"),
    [
        ("1.5", "'1.5'"),
        ("0", "'0'"),
        ("-0.5", "'-0.5'"),
        ("1,0", "'1,0'"),
        ("nan", "text that is not a number (not quoted: it may be a name)"),
        ("0.8 FTE", "text that is not a number (not quoted: it may be a name)"),
        ("Worker Two", "text that is not a number (not quoted: it may be a name)"),
    ],
)
def test_fte_names_the_column_the_value_and_what_was_expected(
    extract: Path, written: str, found: str
) -> None:
    set_cell(
        extract / "extract" / "ssd_professionals.csv", 1, "prof_full_time_equivalency", written
    )
    [problem] = problems_of(extract)
    assert problem == (
        f"{extract / 'extract' / 'ssd_professionals.csv'}, line 3 (id W02): field "
        f"'prof_full_time_equivalency' is {found}, expected a number greater than 0 and at "
        "most 1."
    )


HIDDEN = [("\x07", "\\x07"), ("\x1b", "\\x1b"), ("\u200b", "\\u200b"), ("\u202e", "\\u202e")]


@pytest.mark.parametrize(("char", "said"), HIDDEN)
def test_a_professional_id_with_a_hidden_character_names_the_column(
    extract: Path, char: str, said: str
) -> None:
    set_cell(extract / "extract" / "ssd_professionals.csv", 5, "prof_professional_id", f"W{char}06")
    set_cell(extract / "extract" / "ssd_involvements.csv", 12, "invo_professional_id", f"W{char}06")
    problems = problems_of(extract)
    assert problems == [
        f"{extract / 'extract' / 'ssd_professionals.csv'}, line 7 (id W{said}06): field "
        f"'prof_professional_id' is 'W{said}06', {ID_WORDS}."
    ]


@pytest.mark.parametrize(("char", "said"), HIDDEN)
def test_an_involvement_id_with_a_hidden_character_names_the_column(
    extract: Path, char: str, said: str
) -> None:
    # I04 is C001's open involvement: export ssd would close it by this id
    set_cell(extract / "extract" / "ssd_involvements.csv", 3, "invo_involvements_id", f"I{char}04")
    [problem] = problems_of(extract)
    assert problem == (
        f"{extract / 'extract' / 'ssd_involvements.csv'}, line 5 (id I{said}04): field "
        f"'invo_involvements_id' is 'I{said}04', {ID_WORDS}."
    )


@pytest.mark.parametrize(
    ("side", "ident", "noun"),
    [
        ("cases_extra.csv", "C003", "a child's pers_person_id"),
        ("practitioners_extra.csv", "W01", "a professional's prof_professional_id"),
    ],
)
@pytest.mark.parametrize(("char", "said"), HIDDEN)
def test_a_side_table_id_with_a_hidden_character_is_refused(
    extract: Path, side: str, ident: str, noun: str, char: str, said: str
) -> None:
    bad = ident[0] + char + ident[1:]
    set_cell(extract / side, 0, "id", bad)
    shown = ident[0] + said + ident[1:]
    [problem] = problems_of(extract)
    assert problem == (
        f"{extract / side}, line 2 (id {shown}): field 'id' is '{shown}', {ID_WORDS}: {noun}."
    )


@pytest.mark.parametrize(
    "text", ["I\x07", "I\u200b1", "I 1", "I\u202e1", "I\x7f", "I\u00ad1", "I\u20601", "I\t1"]
)
def test_an_involvement_id_is_held_to_the_snapshots_own_id_rule(extract: Path, text: str) -> None:
    # One rule for an id: the extract's involvement ids are checked by the contract's
    # pattern as the snapshot's ids are (models.Id); the two must agree on any text.
    set_cell(extract / "extract" / "ssd_involvements.csv", 4, "invo_involvements_id", text)
    try:
        Case.model_validate({"id": text, "family": "F", "type": "court", "complexity": 1})
    except ValidationError:
        [problem] = problems_of(extract)
        assert "field 'invo_involvements_id'" in problem and problem.endswith(f"{ID_WORDS}.")
    else:
        run(extract)


# -------------------------------------- fault 3: the mapping, and ids used twice


@pytest.mark.parametrize(
    ("key", "said"),
    [
        ("courtt", "; did you mean 'court'?"),
        ("child_protectoin", "; did you mean 'child_protection'?"),
        ("Court", "; did you mean 'court'?"),
        (
            "bogus",
            "; expected one of early_help, child_in_need, child_protection, looked_after, "
            "care_leaver, court, adoption",
        ),
    ],
)
def test_complexity_by_type_names_an_unknown_case_type(extract: Path, key: str, said: str) -> None:
    [problem] = mapping_problems(extract, "court = 4", f"{key} = 4")
    assert problem == (
        f"{extract / 'mapping.toml'}: key 'cases.complexity_by_type.{key}' is not a case type{said}"
    )


def test_an_empty_order_is_refused(extract: Path, tmp_path: Path) -> None:
    mapping = extract / "mapping.toml"
    text = mapping.read_text()
    start = text.index("order = [")
    end = text.index("]", start) + 1
    mapping.write_text(text[:start] + "order = []" + text[end:])
    result = CliRunner().invoke(
        main,
        [
            *("import", "ssd", str(extract / "extract"), "--mapping", str(mapping)),
            *("--as-of", "2026-11-23", "--out", str(tmp_path / "snap.json")),
        ],
    )
    assert result.exit_code == 2, result.output
    assert (
        f"{mapping}: key 'episodes.order' is empty, expected the episode tables to read, "
        "most intensive first (leave the key out to read all eight: ssd_pre_proceedings, "
    ) in result.output
    assert "Traceback" not in result.output and not (tmp_path / "snap.json").exists()


@pytest.mark.parametrize(
    ("order", "table", "times"),
    [
        ('"ssd_cp_plans", "ssd_cp_plans"', "ssd_cp_plans", "twice"),
        ('"ssd_cin_episodes", "ssd_cp_plans", "ssd_cin_episodes"', "ssd_cin_episodes", "twice"),
        (
            '"ssd_care_leavers", "ssd_care_leavers", "ssd_care_leavers"',
            "ssd_care_leavers",
            "3 times",
        ),
    ],
)
def test_a_table_listed_twice_in_order_is_refused(
    extract: Path, order: str, table: str, times: str
) -> None:
    mapping = extract / "mapping.toml"
    text = mapping.read_text()
    start = text.index("order = [")
    end = text.index("]", start) + 1
    [problem] = mapping_problems(extract, text[start:end], f"order = [{order}]")
    assert problem == (
        f"{mapping}: key 'episodes.order' lists {table!r} {times}, expected each table once "
        "(its place in the order ranks the case type it gives)"
    )


@pytest.mark.parametrize(
    ("old", "new", "key"),
    [
        (
            'allocated_roles = ["ALLOCATED_SW"]',
            "allocated_roles = []",
            "involvements.allocated_roles",
        ),
        ("grades = {", "grades = {}\nx = {", "practitioners.grades"),
    ],
)
def test_an_empty_list_the_mapping_needs_says_so(
    extract: Path, old: str, new: str, key: str
) -> None:
    problems = mapping_problems(extract, old, new)
    assert any(
        p.startswith(f"{extract / 'mapping.toml'}: key {key!r} is empty, expected at least one")
        for p in problems
    ), problems


def test_two_keys_for_one_job_title_are_refused(extract: Path) -> None:
    title = '"Social Worker" = "social_worker"'
    [problem] = mapping_problems(extract, title, f'{title}, " social  worker" = "senior"')
    assert problem == (
        f"{extract / 'mapping.toml'}: key 'practitioners.grades' names the job titles "
        "'Social Worker' and ' social  worker', which are one title (case and spaces are "
        "ignored); expected each title once"
    )


@pytest.mark.parametrize(
    ("index", "line"),
    [
        (1, 3),  # I02, a closed allocated involvement
        (4, 6),  # I05, an IRO involvement: export's loader would close it by the id too
        (12, 14),  # I13, one starting after as_of
    ],
)
def test_an_involvement_id_used_twice_is_refused(extract: Path, index: int, line: int) -> None:
    set_cell(extract / "extract" / "ssd_involvements.csv", index, "invo_involvements_id", "I04")
    [problem] = problems_of(extract)
    first, second = sorted((5, line))
    assert problem == (
        f"{extract / 'extract' / 'ssd_involvements.csv'}, line {second} (id I04): "
        f"invo_involvements_id 'I04' is already on line {first}, expected each involvement "
        "once (export ssd closes a row by its id)."
    )


def test_an_empty_involvement_id_is_refused(extract: Path) -> None:
    set_cell(extract / "extract" / "ssd_involvements.csv", 3, "invo_involvements_id", "")
    [problem] = problems_of(extract)
    assert problem == (
        f"{extract / 'extract' / 'ssd_involvements.csv'}, line 5: field "
        f"'invo_involvements_id' is empty, {ID_WORDS}."
    )


def test_a_team_id_used_twice_is_refused(extract: Path) -> None:
    add_row(extract / "extract" / "ssd_department.csv", dept_team_id="D1", dept_team_name="East")
    [problem] = problems_of(extract)
    assert problem == (
        f"{extract / 'extract' / 'ssd_department.csv'}, line 4 (id D1): dept_team_id 'D1' is "
        "already on line 2, expected each team once."
    )


def test_an_empty_family_id_is_refused(extract: Path) -> None:
    set_cell(extract / "extract" / "ssd_family.csv", 3, "fami_family_id", "")
    [problem] = problems_of(extract)
    assert problem == (
        f"{extract / 'extract' / 'ssd_family.csv'}, line 5: field 'fami_family_id' is empty, "
        "expected the id of child 'C005''s family."
    )


# -------------------------------------- fault 4: every problem in one run


def test_both_side_tables_and_the_extract_are_reported_together(extract: Path) -> None:
    (extract / "practitioners_extra.csv").write_text(
        "id,experience_years,capacity_points\nW01,99,\nW03,,-4\n", encoding="utf-8"
    )
    (extract / "cases_extra.csv").write_text(
        "id,complexity,priority\nC003,9,\nC005,,soon\n", encoding="utf-8"
    )
    set_cell(extract / "extract" / "ssd_cp_plans.csv", 0, "cppl_cp_plan_start_date", "2026-04-31")
    problems = problems_of(extract)
    assert [p.split(": field ")[0].rsplit("/", 1)[-1] for p in problems] == [
        "practitioners_extra.csv, line 2 (id W01)",
        "practitioners_extra.csv, line 3 (id W03)",
        "cases_extra.csv, line 2 (id C003)",
        "cases_extra.csv, line 3 (id C005)",
        "ssd_cp_plans.csv, line 2 (id CP1)",
    ], problems


@pytest.mark.parametrize("bad_row", [0, 1])
def test_a_repeated_side_id_hides_no_value_of_either_row(extract: Path, bad_row: int) -> None:
    complexities = ["4", "4"]
    complexities[bad_row] = "9"
    (extract / "cases_extra.csv").write_text(
        f"id,complexity\nC003,{complexities[0]}\nC003,{complexities[1]}\n", encoding="utf-8"
    )
    side = extract / "cases_extra.csv"
    problems = problems_of(extract)
    assert (
        f"{side}, line {bad_row + 2} (id C003): field 'complexity' is '9', expected a whole "
        "number from 1 to 4." in problems
    )
    assert (
        f"{side}, line 3 (id C003): id 'C003' is already on line 2, expected each id once "
        "(one row of values per id)." in problems
    )
    assert len(problems) == 2, problems


@pytest.mark.parametrize(
    ("gone", "said"),
    [
        ("ssd_person.csv", "ssd_person.csv: table missing"),
        ("ssd_professionals.csv", "ssd_professionals.csv: table missing"),
        ("ssd_department.csv", "ssd_department.csv: table missing"),
        ("ssd_family.csv", "ssd_family.csv: table missing"),
        ("ssd_cla_episodes.csv", "ssd_cla_episodes.csv: table missing"),
    ],
)
def test_a_missing_table_hides_no_other_tables_problem(extract: Path, gone: str, said: str) -> None:
    (extract / "extract" / gone).unlink()
    set_cell(extract / "extract" / "ssd_involvements.csv", 0, "invo_involvement_start_date", "x")
    set_cell(extract / "extract" / "ssd_cp_plans.csv", 0, "cppl_cp_plan_end_date", "2026-02-30")
    (extract / "cases_extra.csv").write_text("id,complexity\nC003,9\n", encoding="utf-8")
    problems = problems_of(extract)
    assert any(p.endswith(f"{said}, expected a CSV file of that name.") for p in problems)
    for expected in (
        "ssd_involvements.csv, line 2 (id I01): field 'invo_involvement_start_date' is 'x'",
        "ssd_cp_plans.csv, line 2 (id CP1): field 'cppl_cp_plan_end_date' is '2026-02-30'",
        "cases_extra.csv, line 2 (id C003): field 'complexity' is '9'",
    ):
        assert any(expected in p for p in problems), (expected, problems)
    # and nothing follows from the missing table alone: no row is called unknown
    assert not any("expected a pers_person_id" in p for p in problems), problems
    assert not any("expected a prof_professional_id" in p for p in problems), problems
    assert len(problems) == 4, problems


def test_a_missing_column_hides_no_other_tables_problem(extract: Path) -> None:
    def drop(fields, rows):  # type: ignore[no-untyped-def]
        fields.remove("prof_full_time_equivalency")
        for row in rows:
            del row["prof_full_time_equivalency"]

    edit(extract / "extract" / "ssd_professionals.csv", drop)
    set_cell(extract / "extract" / "ssd_cp_plans.csv", 0, "cppl_cp_plan_start_date", "2026-04-31")
    problems = problems_of(extract)
    assert len(problems) == 2, problems
    assert "required column 'prof_full_time_equivalency' is missing" in problems[0]
    assert "ssd_cp_plans.csv, line 2 (id CP1): field 'cppl_cp_plan_start_date'" in problems[1]


def test_a_refused_practitioner_makes_no_second_problem_of_their_children(extract: Path) -> None:
    # W01 holds C001 and C006 and is pinned by the side table: their cases still name a
    # practitioner (whose FTE is wrong), not "a job title with no grade"
    set_cell(extract / "extract" / "ssd_professionals.csv", 0, "prof_full_time_equivalency", "2")
    (extract / "cases_extra.csv").write_text(
        "id,pinned_worker,complexity\nC003,W01,9\n", encoding="utf-8"
    )
    problems = problems_of(extract)
    assert len(problems) == 2, problems
    assert "cases_extra.csv, line 2 (id C003): field 'complexity' is '9'" in problems[0]
    assert "(id W01): field 'prof_full_time_equivalency' is '2'" in problems[1]


def test_a_table_of_no_rows_is_read_as_one(extract: Path) -> None:
    # a header alone is a table that names nobody, not a missing one: each row naming a
    # child is told so (and the import never stops short of a sentence)
    def nobody(fields, rows):  # type: ignore[no-untyped-def]
        rows.clear()

    edit(extract / "extract" / "ssd_person.csv", nobody)
    problems = problems_of(extract)
    assert problems and all("expected a pers_person_id of ssd_person" in p for p in problems)


@pytest.mark.parametrize("table", sorted(EPISODE_COLUMNS))
def test_an_episode_id_used_twice_is_refused(extract: Path, table: str) -> None:
    # The first episode's row again, under its own id: two records of one episode (or
    # two episodes under one id) is refused as a repeated person or professional is,
    # by the one check every table with an id goes through.
    path = extract / "extract" / f"{table}.csv"
    ident = EPISODE_COLUMNS[table].ident
    rows: list[dict[str, str]] = []

    def again(fields, found):  # type: ignore[no-untyped-def]
        rows.extend(found)
        found.append(dict(found[0]))

    edit(path, again)
    first = rows[0][ident]
    line = len(rows) + 2  # the header is line 1, the first row line 2, the copy last
    assert (
        f"{path}, line {line} (id {first}): {ident} '{first}' is already on line 2, expected "
        "each episode once."
    ) in problems_of(extract)


def test_every_table_s_repeated_id_has_one_wording() -> None:
    assert repeated_id("cine_referral_id", "R1", "line", 2, "episode once") == (
        "cine_referral_id 'R1' is already on line 2, expected each episode once"
    )
