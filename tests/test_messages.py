"""Messages a manager reads: grouped input errors, empty tables, the allocate summary.

Repeated problems (a whole column saved wrongly) are one sentence with the count, the
first rows and the fix; an empty table says so; the summary lists each assignment
(``--quiet`` hides them) and the staffing warnings of the morning; a solve longer
than a second shows its progress on a terminal, and nothing elsewhere.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from allocator import InputError, Plan, Policy, allocate, load_snapshot
from allocator.cli import main
from allocator.cli.progress import SolveProgress
from allocator.contract.settings import Progress, Settings
from allocator.domain.objectives import daily_tiers
from allocator.io import LISTED_ROWS, snapshot_from_dict, write_snapshot
from allocator.present.analysis import staffing_warnings
from tests.builders import case, snapshot, worker
from tests.test_io import case as case_data
from tests.test_io import practitioner as practitioner_data
from tests.test_io import snapshot_data, write_csv_dir

HEADER = "id,family,type,complexity,worker,opened\n"

# ------------------------------------------------------------------ grouped errors


def _cases_csv(rows: int, opened: str = "{d:02d}/11/2026") -> str:
    return HEADER + "".join(
        f"C{i},F{i},child_in_need,2,P1,{opened.format(d=i)}\n" for i in range(1, rows + 1)
    )


def test_a_column_of_day_first_dates_is_one_problem_with_its_count_and_fix(
    tmp_path: Path,
) -> None:
    folder = write_csv_dir(tmp_path / "s", cases=_cases_csv(20))
    with pytest.raises(InputError) as err:
        load_snapshot(folder)
    (problem,) = err.value.problems
    assert "the same problem with field 'opened' in 20 rows" in problem
    # The first rows, by spreadsheet line, then how many more.
    assert "(line 2 (id C1), line 3 (id C2), line 4 (id C3) and 17 more)" in problem
    # The first row's sentence carries the value and what is expected ...
    assert "field 'opened' is '01/11/2026', expected a date written YYYY-MM-DD" in problem
    # ... and the fix for the whole column.
    assert "day-first (DD/MM/YYYY)" in problem and "format YYYY-MM-DD" in problem


def test_as_many_repeats_as_are_listed_stay_one_line_each(tmp_path: Path) -> None:
    folder = write_csv_dir(tmp_path / "s", cases=_cases_csv(LISTED_ROWS))
    with pytest.raises(InputError) as err:
        load_snapshot(folder)
    assert len(err.value.problems) == LISTED_ROWS
    assert all("the same problem" not in p for p in err.value.problems)


def test_one_more_repeat_than_listed_is_grouped(tmp_path: Path) -> None:
    folder = write_csv_dir(tmp_path / "s", cases=_cases_csv(LISTED_ROWS + 1))
    with pytest.raises(InputError) as err:
        load_snapshot(folder)
    (problem,) = err.value.problems
    assert f"in {LISTED_ROWS + 1} rows" in problem and "and 1 more)" in problem


def test_other_dates_wrong_in_many_rows_get_no_day_first_advice(tmp_path: Path) -> None:
    folder = write_csv_dir(tmp_path / "s", cases=_cases_csv(5, opened="2026-11-{d:02d}T00:00"))
    with pytest.raises(InputError) as err:
        load_snapshot(folder)
    (problem,) = err.value.problems
    assert "in 5 rows" in problem and "day-first" not in problem


def test_each_field_is_its_own_group_and_single_problems_stay_apart(tmp_path: Path) -> None:
    rows = "".join(f"C{i},F{i},child_in_need,9,P1,{i:02d}/11/2026\n" for i in range(1, 6))
    folder = write_csv_dir(tmp_path / "s", cases=HEADER + rows + "C9,F9,courtt,2,P1,\n")
    with pytest.raises(InputError) as err:
        load_snapshot(folder)
    problems = err.value.problems
    assert len(problems) == 3
    assert sum("the same problem with field 'complexity' in 5 rows" in p for p in problems) == 1
    assert sum("the same problem with field 'opened' in 5 rows" in p for p in problems) == 1
    assert any(p.startswith(f"{folder}/cases.csv, line 7 (id C9): field 'type'") for p in problems)


def test_unknown_workers_in_many_records_are_one_problem() -> None:
    cases = [case_data(f"C{i}", worker="P9") for i in range(10)]
    with pytest.raises(InputError) as err:
        snapshot_from_dict(snapshot_data(cases=cases))
    (problem,) = err.value.problems
    assert "the same problem with field 'worker' in 10 rows" in problem
    assert "cases[0] (id C0), cases[1] (id C1), cases[2] (id C2) and 7 more" in problem
    assert "expected the id of one of the practitioners or null" in problem


def test_unknown_pinned_workers_in_many_records_are_one_problem() -> None:
    cases = [case_data(f"C{i}", pinned_worker="P9") for i in range(5)]
    with pytest.raises(InputError) as err:
        snapshot_from_dict(snapshot_data(cases=cases))
    (problem,) = err.value.problems
    assert "the same problem with field 'pinned_worker' in 5 rows" in problem


def test_repeated_duplicate_ids_are_one_problem() -> None:
    cases = [case_data("C1") for _ in range(6)]
    with pytest.raises(InputError) as err:
        snapshot_from_dict(snapshot_data(cases=cases))
    (problem,) = err.value.problems
    assert "the same problem with the id in 5 rows" in problem
    assert "duplicate id 'C1', already used at cases[0]" in problem


# ------------------------------------------------------------------ empty tables


def test_a_header_only_practitioners_csv_says_the_table_is_empty(tmp_path: Path) -> None:
    folder = write_csv_dir(
        tmp_path / "s", practitioners="id,team,grade,fte\n", cases=_cases_csv(6, opened="")
    )
    with pytest.raises(InputError) as err:
        load_snapshot(folder)
    first, *rest = err.value.problems
    assert first == (
        f"{folder}/practitioners.csv: no rows under the header, expected at least one "
        "practitioner (was the table emptied?)."
    )
    # The cases' workers are then unknown: one grouped sentence, not one per row.
    assert len(rest) == 1 and "field 'worker' in 6 rows" in rest[0]


def test_an_empty_practitioners_list_says_so() -> None:
    with pytest.raises(InputError) as err:
        snapshot_from_dict(snapshot_data(practitioners=[], cases=[case_data("C1")]))
    assert err.value.problems == [
        "snapshot: field 'practitioners' is an empty list, expected at least one "
        "practitioner (was the table emptied?)."
    ]


@pytest.mark.parametrize("cases", [[], [case_data("C1")]])
@pytest.mark.parametrize("with_format", [True, False])
def test_a_json_file_with_no_practitioners_is_refused_as_csv_is(
    tmp_path: Path, cases: list[dict[str, object]], with_format: bool
) -> None:
    # The fast reader accepted these (the model allows no practitioners); the rule of
    # FORMAT.md "Reading rules" holds whatever the cases, as for a CSV table.
    data = snapshot_data(practitioners=[], cases=cases)
    if not with_format:
        del data["format"]
    path = tmp_path / "snap.json"
    path.write_text(json.dumps(data))
    result = CliRunner().invoke(main, ["allocate", str(path)])
    assert result.exit_code == 2, result.output
    assert (
        f"{path}: field 'practitioners' is an empty list, expected at least one "
        "practitioner (was the table emptied?)."
    ) in result.output


def test_a_header_only_cases_csv_is_noted_in_the_plan_and_the_summary(tmp_path: Path) -> None:
    folder = write_csv_dir(tmp_path / "s", cases=HEADER)
    out = tmp_path / "plan.json"
    result = CliRunner().invoke(main, ["allocate", str(folder), "--out", str(out)])
    assert result.exit_code == 0, result.output
    notes = json.loads(out.read_text())["notes"]
    assert any("the snapshot holds no cases and no referrals" in n for n in notes)
    assert "nothing to allocate" in " ".join(result.output.split())


def test_a_service_with_cases_has_no_empty_note() -> None:
    plan = allocate(snapshot([worker("P1")], [case("C1")]), time_limit=5)
    assert not any("holds no cases" in n for n in plan.notes)


# ------------------------------------------------------------------ the allocate summary


def _service(tmp_path: Path) -> Path:
    # P1 leaves tomorrow holding C1; P2 leaves in 40 days (outside the 28-day window)
    # holding C2; P3 is over their cap (110 points of 100); P4 takes the referral R1.
    snap = snapshot(
        [
            worker("P1", leaving_on="2026-11-24"),
            worker("P2", leaving_on="2027-01-02"),
            worker("P3"),
            worker("P4"),
        ],
        [
            case("C1", worker="P1"),
            case("C2", worker="P2"),
            case("C3", worker="P3", weight=110.0),
            case("R1"),
        ],
    )
    return write_snapshot(snap, tmp_path / "service.json")


def _flat(text: str) -> str:
    return " ".join(text.split())


def test_the_summary_lists_each_assignment_with_its_first_reason(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main, ["allocate", str(_service(tmp_path)), "--out", str(tmp_path / "p.json")]
    )
    assert result.exit_code == 0, result.output
    plan = Plan.model_validate(json.loads((tmp_path / "p.json").read_text()))
    (a,) = plan.assignments
    assert "Assignments: 1" in result.output
    row = next(line for line in result.output.splitlines() if f" {a.case} " in line)
    assert a.worker in row and a.reasons[0][:20] in row


def test_quiet_hides_the_assignments_but_not_the_warnings(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main,
        ["allocate", str(_service(tmp_path)), "--out", str(tmp_path / "p.json"), "--quiet"],
    )
    assert result.exit_code == 0, result.output
    assert "Assignments" not in result.output
    assert "warning: P1 leaves on 2026-11-24 (tomorrow) and still holds 1 child" in _flat(
        result.output
    )


def test_staffing_warnings_name_leavers_in_the_window_and_workers_over_cap(
    tmp_path: Path,
) -> None:
    snap = load_snapshot(_service(tmp_path))
    plan = allocate(snap, time_limit=5)
    warnings = staffing_warnings(snap, Policy(), plan)
    assert warnings == [
        "P1 leaves on 2026-11-24 (tomorrow) and still holds 1 child: plan their handover "
        "(allocator rebalance plans it ahead)",
        "P3 is over their cap: 110 of 100 points (1 case); allocator rebalance can relieve them",
    ]


def test_a_leaver_over_their_cap_is_not_promised_a_relief_to_come() -> None:
    """P1 leaves in a week over their cap: their children leave them by the day, so the
    warning says so, not that the next rebalance relieves them."""
    snap = snapshot(
        [worker("P1", leaving_on="2026-11-30"), worker("P2", capacity_points=0)],
        [case("C1", worker="P1", weight=110.0)],
    )
    plan = allocate(snap, time_limit=5)
    over = [w for w in staffing_warnings(snap, Policy(), plan) if "over their cap" in w]
    assert over == [
        "P1 is over their cap: 110 of 100 points (1 case), until they go on 2026-11-30 and "
        "their children are handed over"
    ]


def test_a_leaver_with_nothing_left_and_a_worker_at_their_cap_are_not_warned_about() -> None:
    snap = snapshot(
        [worker("P1", leaving_on="2026-11-30"), worker("P2")],
        [case("C1", worker="P2", weight=100.0)],
    )
    plan = allocate(snap, time_limit=5)
    assert staffing_warnings(snap, Policy(), plan) == []


def test_the_leaving_window_comes_from_the_policy(tmp_path: Path) -> None:
    snap = load_snapshot(_service(tmp_path))
    policy = Policy().with_overrides(leaving_window_days=60)
    plan = allocate(snap, policy, time_limit=5)
    leavers = [w for w in staffing_warnings(snap, policy, plan) if "leaves" in w]
    assert [w.split()[0] for w in leavers] == ["P1", "P2"]
    assert "(in 40 days)" in leavers[1]


# ------------------------------------------------------------------ progress


def test_a_solve_reports_each_stage_it_searches() -> None:
    # Two urgent referrals and room for one: the urgent class stage must search.
    snap = snapshot(
        [worker("P1"), worker("P2")],
        [
            case("C1", worker="P1", weight=95.0),
            case("C2", worker="P2", weight=60.0),
            case("R1", priority="urgent", weight=30.0),
            case("R2", family="FR1", weight=8.0),
            case("R3", weight=4.0),
        ],
    )
    seen: list[Progress] = []
    plan = allocate(snap, None, Settings(time_limit=10, progress=seen.append))
    keys = [t.key for t in daily_tiers(Policy())]
    for p in seen:
        assert p.tier == keys[p.stage - 1] and p.stages == len(keys)
        if p.tier != "previous_worker_returns":
            assert p.bound <= p.value
    # The balance stage searches (its plan is 97 against a first bound of 77); its
    # reports never get worse, and the last one is the plan's value and bound.
    assert seen and {p.tier for p in seen} == {"balance"}
    values = [p.value for p in seen]
    assert values == sorted(values, reverse=True)
    assert (seen[-1].value, seen[-1].bound) == (plan.objective["balance"], plan.bound["balance"])


def test_the_progress_line_waits_a_second_then_names_the_tier() -> None:
    now = [0.0]
    progress = SolveProgress({"balance": "workload balance penalty"}, clock=lambda: now[0])
    assert progress.line() == ""
    progress(Progress("balance", 6, 7, 726, 350))
    now[0] = 0.5
    assert progress.line() == ""  # a quick solve shows nothing
    now[0] = 3.2
    assert progress.line() == (
        "solving tier 6 of 7, workload balance penalty: best so far 726, bound 350 (3 s)"
    )


def test_no_progress_is_drawn_when_stderr_is_not_a_terminal(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main, ["allocate", str(_service(tmp_path)), "--out", str(tmp_path / "p.json")]
    )
    assert result.exit_code == 0 and "solving tier" not in result.output


def test_a_rebalance_reports_each_stage_it_searches() -> None:
    from allocator.engine.rebalance import REBALANCE_TIERS
    from allocator.generate import generate
    from allocator.problems.rebalancing import rebalance
    from benchmarks.scenarios import with_leavers

    snap = with_leavers(generate(30, seed=2, load=0.9), 0.1, seed=2)
    seen: list[Progress] = []
    rebalance(snap, None, Settings(time_limit=60, work_units=0.3, progress=seen.append))
    assert seen
    assert [p.stage for p in seen] == sorted(p.stage for p in seen)
    for p in seen:
        assert p.tier == REBALANCE_TIERS[p.stage - 1] and p.stages == len(REBALANCE_TIERS)
        assert p.bound <= p.value


# ------------------------------------------------------------------ --work-units


@pytest.mark.parametrize("bad", ["0", "-1", "nan", "inf", "1e9"])
def test_work_units_outside_their_range_are_a_usage_error(bad: str, tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["allocate", str(_service(tmp_path)), "--work-units", bad])
    assert result.exit_code == 2
    assert "--work-units" in result.output


def test_work_units_are_a_number_or_auto(tmp_path: Path) -> None:
    refused = CliRunner().invoke(
        main, ["allocate", str(_service(tmp_path)), "--work-units", "fast"]
    )
    assert refused.exit_code == 2
    assert "'fast' is neither a number in the range 0<x<=86400" in refused.output
    assert "nor 'auto'" in refused.output
    out = tmp_path / "auto.json"
    result = CliRunner().invoke(
        main,
        ["allocate", str(_service(tmp_path)), "--work-units", "Auto", "--out", str(out)],
    )
    assert result.exit_code == 0, result.output
    plan = json.loads(out.read_text())
    units = plan["settings"]["work_units"]
    assert isinstance(units, float) and units > 0
    assert any(f"(--work-units {units:g})" in n or "the clock stopped" in n for n in plan["notes"])


def test_work_units_reach_the_plan_settings(tmp_path: Path) -> None:
    out = tmp_path / "p.json"
    result = CliRunner().invoke(
        main, ["allocate", str(_service(tmp_path)), "--work-units", "0.5", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert json.loads(out.read_text())["settings"]["work_units"] == 0.5


# ------------------------------------------------------------------ doubts worth a warning


@pytest.mark.parametrize("form", ["json", "csv"])
def test_an_excluded_id_that_is_no_practitioner_is_a_warning(tmp_path: Path, form: str) -> None:
    # A typo in a safeguarding exclusion was taken silently as former staff.
    data = snapshot_data(cases=[case_data("C1", excluded_workers=["P9999"])])
    if form == "json":
        path = tmp_path / "s.json"
        path.write_text(json.dumps(data))
    else:
        path = write_snapshot(snapshot_from_dict(data), tmp_path / "s")
    warnings: list[str] = []
    load_snapshot(path, warnings=warnings)
    where = (
        f"{path}, cases[0] (id C1)" if form == "json" else f"{path / 'cases.csv'}, line 2 (id C1)"
    )
    assert warnings == [
        f"{where}: excluded_workers names 'P9999', who is neither a practitioner "
        "nor any child's previous worker; a mistyped id leaves the conflict of interest "
        "unguarded: check it (a former member of staff may stay)"
    ]


_UNDER_WAY = (
    "field 'absence_from' is 2026-11-16, on or before as_of 2026-11-23, and "
    "'absence_until' 2027-02-01 is after it, but 'available_from' is empty: an absence "
    "under way is ignored, so the worker is read as present and may be given children; "
    "if they are away, give available_from 2027-02-01"
)


@pytest.mark.parametrize("form", ["json", "csv", "json-with-referrals"])
def test_an_absence_under_way_with_no_available_from_is_a_warning(
    tmp_path: Path, form: str
) -> None:
    # A fresh user's worker half-way through a known absence was planned as present
    # without a word: the absence fields describe one still to come.
    away = practitioner_data("P2", absence_from="2026-11-16", absence_until="2027-02-01")
    data = snapshot_data(practitioners=[practitioner_data("P1"), away])
    referrals = None
    if form == "csv":
        path = write_snapshot(snapshot_from_dict(data), tmp_path / "s")
        where = f"{path / 'practitioners.csv'}, line 3 (id P2)"
    else:
        path = tmp_path / "s.json"
        path.write_text(json.dumps(data))
        where = f"{path}, practitioners[1] (id P2)"
        if form == "json-with-referrals":
            referrals = tmp_path / "r.json"
            referrals.write_text(json.dumps({"cases": [case_data("R1")]}))
    warnings: list[str] = []
    load_snapshot(path, referrals, warnings=warnings)
    assert warnings == [f"{where}: {_UNDER_WAY}"]
    # Said by the library too, and not said once available_from gives the day back, nor
    # for an absence still to come or already over.
    from allocator.contract.models import snapshot_warnings

    assert snapshot_warnings(snapshot_from_dict(data)) == [f"practitioner P2: {_UNDER_WAY}"]
    for fields in (
        {"available_from": "2027-02-01"},
        {"absence_from": "2026-11-24"},
        {"absence_from": "2026-10-01", "absence_until": "2026-11-23"},
    ):
        fine = snapshot_data(practitioners=[practitioner_data("P1"), {**away, **fields}])
        assert snapshot_warnings(snapshot_from_dict(fine)) == []


def test_an_excluded_former_worker_known_from_a_history_is_no_warning() -> None:
    # X8 is a child's previous worker: former staff, the plan's note is enough.
    data = snapshot_data(
        cases=[case_data("C1", previous_workers=["X8"]), case_data("C2", excluded_workers=["X8"])]
    )
    path_warnings: list[str] = []
    snapshot = snapshot_from_dict(data)
    from allocator.contract.models import snapshot_warnings

    path_warnings += snapshot_warnings(snapshot)
    assert path_warnings == []


def test_a_case_opened_after_as_of_is_a_warning_on_stderr(tmp_path: Path) -> None:
    # A case opened after the snapshot's day was accepted silently; like other dates
    # past as_of it is read, and named (docs/FORMAT.md "Doubts worth a warning").
    path = tmp_path / "s.json"
    path.write_text(json.dumps(snapshot_data(cases=[case_data("C1", opened="2026-12-25")])))
    result = CliRunner().invoke(main, ["allocate", str(path)])
    assert result.exit_code == 0, result.output
    assert (
        "warning: "
        + f"{path}, cases[0] (id C1): field 'opened' is 2026-12-25, after as_of 2026-11-23"
    ) in " ".join(result.stderr.split())


def test_a_tier_with_no_bound_known_says_so() -> None:
    # A fresh user read the blank 'best' beside an urgent tier as a missing figure.
    from rich.console import Console

    from allocator.present.terminal import tier_table
    from allocator.problems.rebalancing import rebalance, rebalance_tiers
    from tests.builders import case, snapshot, worker

    plan = rebalance(snapshot([worker("P1")], [case("R1")]), work_units=0.5)
    unknown = plan.model_copy(update={"bound": {}})
    console = Console(width=200, record=True)
    console.print(tier_table(unknown, rebalance_tiers(Policy())))
    rows = [line for line in console.export_text().splitlines() if "children who change" in line]
    assert rows and "not known" in rows[0]


def test_a_long_absent_worker_over_cap_is_told_once_by_their_absence() -> None:
    """A is away for months over their cap: one sentence, the absence's (their children
    need cover), not also an over-cap one (the rebalance's figures count neither)."""
    from allocator.present.analysis import morning_risks

    snap = snapshot(
        [worker("A", available_from="2027-06-01"), worker("B", capacity_points=0)],
        [case("C1", worker="A", weight=110.0)],
    )
    plan = allocate(snap, time_limit=5)
    risks = morning_risks(snap, Policy(), plan)
    assert [r for r in risks if r.startswith("A ")] == [
        "A is absent until 2027-06-01 (a long absence) and still holds 1 child: allocator "
        "rebalance covers them"
    ]


def test_a_long_absent_worker_who_leaves_before_returning_is_told_both() -> None:
    """A is away until June and leaves in December (a resignation during sick leave):
    the absence's sentence says so too, as the leaver's sentence is not given to an
    absent worker."""
    from allocator.present.analysis import morning_risks

    snap = snapshot(
        [worker("A", available_from="2027-06-01", leaving_on="2026-12-01"), worker("B")],
        [case("C1", worker="A")],
    )
    plan = allocate(snap, time_limit=5)
    risks = morning_risks(snap, Policy(), plan)
    assert [r for r in risks if r.startswith("A ")] == [
        "A is absent until 2027-06-01 (a long absence; leaves on 2026-12-01, before "
        "returning) and still holds 1 child: allocator rebalance covers them"
    ]


# ------------------------------------------------------------------ a busy day's unallocated


def _busy_day(folder: Path) -> Path:
    """40 children and room for none (P1's one point fits nobody): 2 urgent; 8 in
    child protection, S1 to S8 opened 1 to 8 days before the day; 30 in need."""
    cases = [case(f"U{i}", type="child_protection", priority="urgent") for i in (1, 2)]
    cases += [
        case(f"S{i}", type="child_protection", opened=f"2026-11-{23 - i}") for i in range(1, 9)
    ]
    cases += [case(f"N{i:02d}", opened="2026-11-01") for i in range(1, 31)]
    folder.mkdir()
    return write_snapshot(snapshot([worker("P1", capacity_points=1)], cases), folder / "s.json")


def test_a_busy_days_unallocated_are_counted_and_the_most_pressing_shown(
    tmp_path: Path,
) -> None:
    """A fresh manager's busy morning printed 5,200 lines with --quiet: each of 346
    unallocated children's rows wrapped to 15. The terminal now counts them by reason
    and class, shows the most pressing on a line each (urgent first, then statutory,
    the longest wait first), and says where every reason is and how to ask for one;
    the plan file still holds every child with their whole reason."""
    folder = tmp_path / "morning files"  # a space: the explain command quotes the paths
    snap = _busy_day(folder)
    out = folder / "plan.json"
    result = CliRunner().invoke(
        main, ["allocate", str(snap), "--out", str(out), "--quiet", "--time-limit", "5"]
    )
    assert result.exit_code == 0, result.output
    plan = Plan.model_validate(json.loads(out.read_text()))
    assert len(plan.unallocated) == 40 and all(u.reason for u in plan.unallocated)
    lines = result.stderr.splitlines()
    assert len(lines) < 60, result.stderr  # each row of the whole list wraps to 8 lines
    rows = [line.split("│") for line in lines if "no_capacity" in line]
    assert [cell.strip() for cell in rows[0][2:6]] == ["2", "8", "30", "40"]  # the counts
    shown = [row[1].strip() for row in rows[1:]]
    assert shown == ["U1", "U2", "S8", "S7", "S6", "S5", "S4", "S3", "S2", "S1"]
    flat = _flat(result.stderr)
    assert f'is in the plan file {out} (its "unallocated" list)' in flat
    assert f"allocator explain '{out}' --snapshot '{snap}' --case U1" in flat
    assert _flat(plan.unallocated[0].reason) not in flat  # cut here, whole in the plan


def test_a_day_whose_unallocated_fit_a_screen_shows_each_reason_whole(tmp_path: Path) -> None:
    # The README's walk-through: two children left, each reason whole, nothing counted.
    snap = write_snapshot(
        snapshot([worker("P1", capacity_points=1)], [case("C1"), case("C2", priority="urgent")]),
        tmp_path / "s.json",
    )
    out = tmp_path / "plan.json"
    result = CliRunner().invoke(main, ["allocate", str(snap), "--out", str(out), "--quiet"])
    assert result.exit_code == 0, result.output
    table = result.stderr[result.stderr.index("Unallocated: action needed") :]
    words = _flat(table.replace("│", " "))
    plan = Plan.model_validate(json.loads(out.read_text()))
    assert len(plan.unallocated) == 2
    assert all(f"{u.code} {_flat(u.reason)}" in words for u in plan.unallocated)
    assert "most pressing" not in result.stderr and "plan file" not in result.stderr


@pytest.mark.parametrize("over", [6, 7])
def test_a_summary_names_the_furthest_over_cap_and_counts_the_rest(over: int) -> None:
    # Six over cap print as six sentences (a count line would save none); seven print
    # the five furthest over and one line naming the other two.
    from rich.console import Console

    from allocator.present.terminal import SHOWN_OVER_CAP, render_notes

    workers = [worker(f"P{i}") for i in range(1, over + 2)]
    cases = [case(f"C{i}", worker=f"P{i}", weight=100.0 + i) for i in range(1, over + 1)] + [
        case("R1")
    ]
    snap = snapshot(workers, cases)
    plan = allocate(snap, work_units=0.5)
    warnings = staffing_warnings(snap, Policy(), plan)
    console = Console(record=True, width=200)
    render_notes(plan, warnings, console)
    shown = console.export_text()
    one_by_one = shown.count("is over their cap:")
    if over <= SHOWN_OVER_CAP + 1:
        assert one_by_one == over and "more:" not in shown
    else:
        assert one_by_one == SHOWN_OVER_CAP
        # The furthest over first: P7 (107 points) down to P3; P2 and P1 counted.
        assert f"P{over} is over their cap" in shown and "P1 is over their cap" not in shown
        assert (
            f"{over} workers are over their cap; the 5 furthest over are above, and 2 more: P2, P1"
            in shown
        )


def test_a_rebalance_summary_says_where_the_assignments_it_leaves_out_are() -> None:
    # The terminal shows the first SHOWN_MOVES assignments; the rest were cut in silence.
    from datetime import timedelta

    from rich.console import Console

    from allocator import rebalance
    from allocator.present.terminal import SHOWN_MOVES, rebalance_summary
    from tests.builders import AS_OF

    snap = snapshot(
        [worker("P1"), worker("P2", leaving_on=AS_OF - timedelta(days=1))],
        [case("C1", worker="P2")],
    )
    plan = rebalance(snap, work_units=0.3)
    (first,) = plan.assignments
    many = [first.model_copy(update={"case": f"C{i:03d}"}) for i in range(SHOWN_MOVES + 10)]
    busy = plan.model_copy(update={"assignments": many})
    console = Console(record=True, width=200)
    tiers = daily_tiers(Policy())
    rebalance_summary(busy, snap, Policy(), tiers, console, plan_file="plan.json")
    shown = console.export_text()
    assert f"The first {SHOWN_MOVES} of {SHOWN_MOVES + 10} assignments are above" in shown
    assert "in the plan file plan.json" in shown
    console = Console(record=True, width=200)
    rebalance_summary(plan, snap, Policy(), tiers, console, plan_file="plan.json")
    assert "assignments are above" not in console.export_text()
