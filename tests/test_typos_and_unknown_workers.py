"""Real exports, tried as a new user would (issue 24): typos answered at the right
level with a suggestion, free text never steered onto a field the rules read, and a
case held by a worker missing from the staff file handled as the council chooses.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from allocator.cli import main
from allocator.io import did_you_mean, is_typo_of, load_snapshot

ROOT = Path(__file__).resolve().parents[1]
REPORT = ROOT / "examples" / "ssd" / "council-report"


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    assert "Traceback" not in result.output
    return result.exit_code, result.output


@pytest.mark.parametrize(
    ("name", "known", "suggested"),
    [
        ("workr", "worker", True),
        ("kases", "cases", True),
        ("points_per_ftee", "points_per_fte", True),
        ("sha", "sha256", True),  # cut short
        ("convet", "convert", True),
        ("notes", "needs", False),  # free text, not a typo of a field the rules read
        ("comments", "complexity", False),
        ("area_notes", "areas", False),
    ],
)
def test_only_a_typo_is_suggested(name: str, known: str, suggested: bool) -> None:
    assert is_typo_of(name, known) is suggested
    said = did_you_mean(name, [known, "zzz"])
    assert said.startswith("; did you mean") is suggested, said


# ---------------------------------------------------------------- free text


def test_a_notes_column_is_not_steered_onto_needs(tmp_path: Path) -> None:
    # The attack: an export with a free-text "notes" column. Following "did you mean
    # 'needs'?" would feed children's notes into the matching rules.
    folder = tmp_path / "s"
    shutil.copytree(ROOT / "examples" / "service-csv", folder)
    cases = folder / "cases.csv"
    lines = cases.read_text(encoding="utf-8").splitlines()
    cases.write_text(
        "\n".join([lines[0] + ",notes", *(line + ",lives with gran" for line in lines[1:])]) + "\n",
        encoding="utf-8",
    )
    code, out = run("allocate", str(folder), "--out", str(tmp_path / "p.json"))
    assert code == 2
    assert "unknown column 'notes'" in out and "free text" in out
    assert "needs" not in out and "lives with gran" not in out


# ---------------------------------------------------------------- mapping typos


def report_copy(tmp_path: Path) -> Path:
    folder = tmp_path / "report"
    shutil.copytree(REPORT, folder)
    return folder


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


@pytest.mark.parametrize(
    ("old", "new", "said"),
    [
        # a key of one column's rule: answered with the rule's keys, not its table's
        ('field = "fte", convert = "percent"', 'field = "fte", convet = "percent"',
         "unknown key 'practitioners.columns.Contracted Hours %.convet'; did you mean "
         "'convert'?"),
        # a key of a table: its own keys, file included
        ('file = "cases.csv"', 'fil = "cases.csv"',
         "unknown key 'cases.fil'; did you mean 'file'?"),
        # a top-level key
        ('as_of = "2026-11-23"', 'as_off = "2026-11-23"',
         "unknown key 'as_off'; did you mean 'as_of'?"),
        # a field a column names, and a default's field
        ('{ field = "worker" }', '{ field = "wroker" }',
         "[cases.columns] 'Allocated Worker' names field 'wroker'; did you mean 'worker'?"),
        ("defaults = { complexity = 2 }", "defaults = { complexty = 2 }",
         "[cases.defaults] has unknown field 'complexty'; did you mean 'complexity'?"),
    ],
)  # fmt: skip
def test_a_mapping_typo_is_answered_at_its_level(
    tmp_path: Path, old: str, new: str, said: str
) -> None:
    folder = report_copy(tmp_path)
    edit(folder / "columns.toml", old, new)
    code, out = run("import", "csv", str(folder), "--columns", str(folder / "columns.toml"),
                    "--out", str(tmp_path / "s.json"))  # fmt: skip
    assert code == 2 and said in out, out


def test_a_renamed_report_column_suggests_the_mapped_one(tmp_path: Path) -> None:
    folder = report_copy(tmp_path)
    edit(folder / "cases.csv", "Allocated Worker", "Allocated Workr")
    code, out = run("import", "csv", str(folder), "--columns", str(folder / "columns.toml"),
                    "--out", str(tmp_path / "s.json"))  # fmt: skip
    assert code == 2
    assert "unknown column 'Allocated Workr'" in out and "did you mean 'Allocated Worker'?" in out


def test_a_policy_key_typo_is_suggested(tmp_path: Path) -> None:
    policy = tmp_path / "p.toml"
    policy.write_text("points_per_ftee = 90\n", encoding="utf-8")
    code, out = run("allocate", str(ROOT / "examples" / "service.json"), "--policy", str(policy),
                    "--out", str(tmp_path / "plan.json"))  # fmt: skip
    assert code == 2 and "unknown key 'points_per_ftee'; did you mean 'points_per_fte'?" in out


# ---------------------------------------------------------------- a worker not on staff


def test_a_worker_missing_from_the_staff_report_is_refused_by_default(tmp_path: Path) -> None:
    folder = report_copy(tmp_path)
    edit(folder / "cases.csv", "C102,F1,Child Two,CIN,S102,", "C102,F1,Child Two,CIN,S999,")
    code, out = run("import", "csv", str(folder), "--columns", str(folder / "columns.toml"),
                    "--out", str(tmp_path / "s.json"))  # fmt: skip
    assert code == 2
    assert (
        "cases.csv, line 3 (id C102): column 'Allocated Worker' (field 'worker') is 'S999', "
        "expected the id of a practitioner in staff.csv" in out
    )
    assert 'unknown_workers = "departed"' in out and not (tmp_path / "s.json").exists()


def test_a_worker_missing_from_the_staff_report_as_the_council_chooses(tmp_path: Path) -> None:
    # Councils' exports often lag the HR list: with unknown_workers = "departed" the
    # child is a departed worker's (re-allocated, waiting from the day), with a
    # warning naming both ids, and the morning goes on.
    folder = report_copy(tmp_path)
    edit(folder / "cases.csv", "C102,F1,Child Two,CIN,S102,", "C102,F1,Child Two,CIN,S999,")
    mapping = folder / "columns.toml"
    mapping.write_text('unknown_workers = "departed"\n' + mapping.read_text(encoding="utf-8"))
    code, out = run("import", "csv", str(folder), "--columns", str(mapping),
                    "--out", str(tmp_path / "s.json"))  # fmt: skip
    assert code == 0, out
    assert "(id C102)" in out and "'S999', who is not in staff.csv" in out
    assert "taken as a departed worker's child" in out
    snap = load_snapshot(tmp_path / "s.json")
    child = next(c for c in snap.cases if c.id == "C102")
    assert child.worker is None and "S999" in child.previous_workers
    assert child.waiting_since == snap.as_of
    code, out = run("allocate", str(tmp_path / "s.json"), "--out", str(tmp_path / "p.json"),
                    "--work-units", "0.5")  # fmt: skip
    assert code == 0 and "C102" in out


def test_a_bad_unknown_workers_value_is_one_line(tmp_path: Path) -> None:
    folder = report_copy(tmp_path)
    mapping = folder / "columns.toml"
    mapping.write_text('unknown_workers = "ignore"\n' + mapping.read_text(encoding="utf-8"))
    code, out = run("import", "csv", str(folder), "--columns", str(mapping),
                    "--out", str(tmp_path / "s.json"))  # fmt: skip
    assert code == 2 and "unknown_workers" in out and "expected one of refuse, departed" in out


@pytest.mark.parametrize("form", ["json", "csv"])
def test_a_snapshot_naming_a_worker_not_on_staff_says_where_staff_are(
    tmp_path: Path, form: str
) -> None:
    if form == "json":
        text = (ROOT / "examples" / "service.json").read_text(encoding="utf-8")
        path = tmp_path / "s.json"
        path.write_text(text.replace('"worker": "P0011"', '"worker": "P9999"', 1))
        where = "s.json, cases["
    else:
        path = tmp_path / "s"
        shutil.copytree(ROOT / "examples" / "service-csv", path)
        edit(
            path / "cases.csv",
            "C000001,F00001,care_leaver,2,,P0011",
            "C000001,F00001,care_leaver,2,,P9999",
        )
        where = (
            "cases.csv, line 2 (id C000001): field 'worker' is 'P9999', expected the id of "
            f"one of the practitioners in {path / 'practitioners.csv'}"
        )
    code, out = run("allocate", str(path), "--out", str(tmp_path / "p.json"))
    assert code == 2 and where in out and "'P9999'" in out and "leaving_on" in out


# ---------------------------------------------------------------- the same in import ssd

SSD = ROOT / "examples" / "ssd"


def ssd_copy(tmp_path: Path, departed: bool) -> Path:
    """The example extract with C002's open involvement (I06) and C001's closed I01
    naming W99, a professional missing from ssd_professionals."""
    folder = tmp_path / "ssd"
    shutil.copytree(SSD, folder)
    edit(folder / "extract" / "ssd_involvements.csv", "I06,W02,", "I06,W99,")
    edit(folder / "extract" / "ssd_involvements.csv", "I01,W05,", "I01,W99,")
    if departed:
        mapping = folder / "mapping.toml"
        mapping.write_text('unknown_workers = "departed"\n' + mapping.read_text(encoding="utf-8"))
    return folder


def import_ssd_args(folder: Path, out: Path) -> list[str]:
    return ["import", "ssd", str(folder / "extract"), "--mapping", str(folder / "mapping.toml"),
            "--as-of", "2026-11-23", "--out", str(out)]  # fmt: skip


def test_ssd_a_professional_missing_is_refused_by_default(tmp_path: Path) -> None:
    folder = ssd_copy(tmp_path, departed=False)
    code, out = run(*import_ssd_args(folder, tmp_path / "s.json"))
    assert code == 2
    assert "(id I06): field 'invo_professional_id' is 'W99'" in out
    assert 'unknown_workers = "departed"' in out


def test_ssd_a_professional_missing_as_the_council_chooses(tmp_path: Path) -> None:
    folder = ssd_copy(tmp_path, departed=True)
    code, out = run(*import_ssd_args(folder, tmp_path / "s.json"))
    assert code == 0, out
    assert "involvement 'I06' gives child 'C002' the worker 'W99'" in out
    assert "taken as a departed worker's child" in out
    snap = load_snapshot(tmp_path / "s.json")
    child = next(c for c in snap.cases if c.id == "C002")
    assert child.worker is None and child.previous_workers[0] == "W99"
    assert child.waiting_since == snap.as_of
    # A closed involvement of a missing professional is a former worker, no warning.
    assert "W99" in next(c for c in snap.cases if c.id == "C001").previous_workers
    assert "'C001'" not in out


def _without_column(folder: Path, table: str, column: str) -> None:
    """``folder``'s ``table`` (practitioners or cases) rewritten without ``column``."""
    import csv

    path = folder / f"{table}.csv"
    rows = list(csv.reader(path.read_text(encoding="utf-8").splitlines()))
    index = rows[0].index(column)
    with path.open("w", newline="", encoding="utf-8") as f:
        csv.writer(f, lineterminator="\n").writerows(r[:index] + r[index + 1 :] for r in rows)


@pytest.mark.parametrize(
    ("table", "column", "said"),
    [
        ("practitioners", "leaving_on", "no worker is read as leaving"),
        ("practitioners", "available_from", "every worker is read as at work today"),
        ("practitioners", "skills", "no worker is read as having a skill"),
        ("cases", "worker", "every case is read as having no worker"),
        ("cases", "excluded_workers", "no case is read as excluding any worker"),
        ("cases", "needs", "no case is read as needing a skill"),
    ],
)
def test_an_optional_column_left_out_of_a_whole_table_is_warned_of(
    tmp_path: Path, table: str, column: str, said: str
) -> None:
    # A fresh user's export without the `worker` column was read without a word, and
    # the plan reallocated the whole service: each column whose absence changes who
    # holds or may hold a child is said, once, naming the file.
    folder = tmp_path / "service"
    shutil.copytree(ROOT / "examples" / "service-csv", folder)
    warnings: list[str] = []
    load_snapshot(folder, warnings=warnings)
    assert not any("column:" in w or "none of the" in w for w in warnings)
    _without_column(folder, table, column)
    warnings = []
    load_snapshot(folder, warnings=warnings)
    expected = f"{folder / (table + '.csv')}: no {column!r} column: {said}"
    assert [w for w in warnings if "column:" in w or "none of the" in w] == [
        w for w in warnings if w.startswith(expected)
    ]
    assert len([w for w in warnings if w.startswith(expected)]) == 1


def test_a_json_snapshot_where_no_case_has_a_worker_is_warned_of(tmp_path: Path) -> None:
    import json

    data = json.loads((ROOT / "examples" / "service.json").read_text(encoding="utf-8"))
    for c in data["cases"]:
        c.pop("worker", None)
    path = tmp_path / "service.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    warnings: list[str] = []
    load_snapshot(path, warnings=warnings)
    assert f"{path}: none of the {len(data['cases'])} cases has a worker" in " ".join(warnings)
    # The day's referrals, which never have a worker, are not the snapshot's cases.
    warnings = []
    load_snapshot(
        ROOT / "examples" / "service.json", ROOT / "examples" / "referrals.json", warnings=warnings
    )
    assert not any("none of the" in w for w in warnings)


@pytest.mark.parametrize(
    ("written", "said"),
    [
        # a key put in the wrong table: its path where it belongs
        ("room_kept_share = 0.1\n",
         "unknown key 'room_kept_share'; did you mean 'waiting.room_kept_share'?"),
        ("[waiting]\nleaving_window_days = 9\n",
         "unknown key 'waiting.leaving_window_days'; did you mean 'leaving_window_days'?"),
        # a typo of a key in another table
        ("[waiting]\nleaving_window_day = 9\n",
         "unknown key 'waiting.leaving_window_day'; did you mean 'leaving_window_days'?"),
        # a table keyed by an enum: case types, grades, contracts
        ("[type_points]\ncourtt = 7\n",
         "[type_points] has the key 'courtt'; did you mean 'court'?"),
        ("[grade_factor]\nsenoir = 0.5\n",
         "[grade_factor] has the key 'senoir'; did you mean 'senior'?"),
        ("[costs.senior]\nagncy = 60000\n",
         "[costs.senior] has the key 'agncy'; did you mean 'agency'?"),
    ],
)  # fmt: skip
def test_a_misplaced_or_misspelt_policy_key_is_answered(
    tmp_path: Path, written: str, said: str
) -> None:
    policy = tmp_path / "p.toml"
    policy.write_text(written, encoding="utf-8")
    code, out = run("allocate", str(ROOT / "examples" / "service.json"), "--policy", str(policy),
                    "--out", str(tmp_path / "plan.json"))  # fmt: skip
    assert code == 2 and said in out, out


def test_a_table_key_nothing_like_an_enum_value_lists_them(tmp_path: Path) -> None:
    policy = tmp_path / "p.toml"
    policy.write_text("[type_points]\nbananas = 7\n", encoding="utf-8")
    code, out = run("allocate", str(ROOT / "examples" / "service.json"), "--policy", str(policy),
                    "--out", str(tmp_path / "plan.json"))  # fmt: skip
    assert code == 2 and "[type_points] has the key 'bananas', expected one of" in out, out


def test_a_sweep_policy_entry_gets_the_same_hints(tmp_path: Path) -> None:
    # The sweep checks its [[policies]] entries with the policy file's own words.
    spec = tmp_path / "spec.toml"
    spec.write_text(
        f'[[services]]\nname = "s"\nsnapshot = "{ROOT / "examples" / "service.json"}"\n'
        '[[policies]]\nname = "a"\nroom_kept_share = 0.1\ntype_points = { courtt = 7 }\n',
        encoding="utf-8",
    )
    code, out = run("sweep", str(spec), "--out", str(tmp_path / "o"))
    assert code == 2, out
    assert "unknown key 'room_kept_share'; did you mean 'waiting.room_kept_share'?" in out
    assert "[type_points] has the key 'courtt'; did you mean 'court'?" in out
