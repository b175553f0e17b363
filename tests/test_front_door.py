"""The library's front door: the public API, the in-memory loader, lazy OR-Tools.

``allocator`` exports a documented, typed API (``__all__``) and nothing else; a
snapshot held in memory is validated with the file loader's words; and the commands
that do not solve (check, explain, recommend, diff) never load OR-Tools, proved in a
fresh interpreter for each.
"""

from __future__ import annotations

import inspect
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import allocator
from allocator import InputError, allocate, load_snapshot, snapshot_from_dict
from allocator.io import write_json, write_snapshot
from tests.builders import case, snapshot, worker

ROOT = Path(__file__).resolve().parents[1]

# ------------------------------------------------------------------ the public API


def test_every_exported_name_exists_and_is_documented() -> None:
    assert len(allocator.__all__) == len(set(allocator.__all__))
    for name in allocator.__all__:
        obj = getattr(allocator, name)
        assert inspect.getdoc(obj), name
        assert not name.startswith("_")


def test_the_public_functions_are_fully_typed() -> None:
    for name in allocator.__all__:
        obj = getattr(allocator, name)
        if inspect.isfunction(obj):
            hints = inspect.get_annotations(obj)
            params = [p for p in inspect.signature(obj).parameters if p not in ("self",)]
            assert set(params) <= set(hints), (name, set(params) - set(hints))
            assert "return" in hints, name


def test_the_written_out_exports_are_the_lazily_imported_names() -> None:
    assert sorted(allocator.__all__) == sorted(allocator._HOMES)


@pytest.mark.slow
def test_a_strict_type_checker_accepts_every_name_from_the_package(tmp_path: Path) -> None:
    # A council developer's `mypy --strict` refused `from allocator import Settings`
    # ("does not explicitly export") while __all__ was computed at run time.
    from mypy import api

    script = tmp_path / "council.py"
    script.write_text(
        "from allocator import " + ", ".join(allocator.__all__) + "\n"
        "from allocator import Settings, allocate, load_snapshot\n\n"
        "def plan_status(path: str) -> str:\n"
        "    return allocate(load_snapshot(path), settings=Settings(time_limit=5)).status\n"
    )
    out, err, status = api.run(
        ["--strict", "--no-incremental", "--cache-dir", str(tmp_path / "cache"), str(script)]
    )
    assert status == 0, out + err


def test_nothing_but_the_api_is_star_exported() -> None:
    namespace: dict[str, Any] = {}
    exec("from allocator import *", namespace)
    assert sorted(k for k in namespace if not k.startswith("__")) == sorted(allocator.__all__)


# ------------------------------------------------------------------ in-memory loader


def _data() -> dict[str, Any]:
    return {
        "format": "caseload-snapshot/1",
        "as_of": "2026-11-23",
        "practitioners": [{"id": "P1", "team": "North", "grade": "senior", "fte": 1.0}],
        "cases": [{"id": "C1", "family": "F1", "type": "child_in_need", "complexity": 2}],
    }


def test_a_valid_dict_gives_the_snapshot_the_file_gives(tmp_path: Path) -> None:
    path = tmp_path / "service.json"
    path.write_text(json.dumps(_data()))
    assert snapshot_from_dict(_data()) == load_snapshot(path)


@pytest.mark.parametrize("mode", ["python", "json"])
def test_a_snapshot_dumped_by_its_model_reads_back_as_itself(mode: str) -> None:
    # Before: snapshot_from_dict(snapshot.model_dump()) said "field 'practitioners' is
    # a list, expected a list": the model dumps its lists as tuples.
    snap = load_snapshot(ROOT / "examples" / "service.json", ROOT / "examples" / "referrals.json")
    assert snapshot_from_dict(snap.model_dump(mode=mode)) == snap
    referrals = tuple(c.model_dump(mode=mode) for c in snap.cases[-2:])
    head = snap.model_copy(update={"cases": snap.cases[:-2]}).model_dump(mode=mode)
    assert snapshot_from_dict(head, referrals) == snap


def test_referrals_are_merged_as_from_a_file(tmp_path: Path) -> None:
    referral = {"id": "R1", "family": "F2", "type": "court", "complexity": 3}
    path = tmp_path / "service.json"
    path.write_text(json.dumps(_data()))
    referrals = tmp_path / "referrals.json"
    referrals.write_text(json.dumps([referral]))
    from_file = load_snapshot(path, referrals)
    assert snapshot_from_dict(_data(), [referral]) == from_file
    assert snapshot_from_dict(_data(), {"cases": [referral]}) == from_file


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            lambda d: d["practitioners"][0].update(fte=1.5),
            "field 'fte' is 1.5, expected a number greater than 0 and at most 1",
        ),
        (
            lambda d: d["cases"][0].update(worker="P9"),
            "field 'worker' is 'P9', expected the id of one of the practitioners or null",
        ),
        (lambda d: d.update(as_of="23/11/2026"), "field 'as_of' is '23/11/2026'"),
        (lambda d: d.update(format="v2"), "field 'format' is 'v2'"),
        (lambda d: d.pop("cases"), "required field 'cases' is missing, expected a list"),
    ],
    ids=["number", "reference", "date", "format", "table"],
)
def test_bad_data_gets_the_file_loader_s_sentences(
    change: Any, expected: str, tmp_path: Path
) -> None:
    data = _data()
    change(data)
    path = tmp_path / "service.json"
    path.write_text(json.dumps(data))
    with pytest.raises(InputError) as from_file:
        load_snapshot(path)
    with pytest.raises(InputError) as in_memory:
        snapshot_from_dict(data, source="crm")
    assert expected in str(in_memory.value)
    # The same sentences, naming the source where the file loader names the file.
    assert [p.replace("crm", str(path)) for p in in_memory.value.problems] == (
        from_file.value.problems
    )


def test_a_bad_referral_is_named_as_the_referrals() -> None:
    with pytest.raises(InputError, match=r"snapshot referrals, cases\[0\] \(id C1\): id 'C1'"):
        snapshot_from_dict(_data(), [{"id": "C1", "family": "F", "type": "court", "complexity": 1}])


def test_something_other_than_an_object_is_refused() -> None:
    with pytest.raises(InputError, match="expected a JSON object with the fields format"):
        snapshot_from_dict([1, 2])  # type: ignore[arg-type]


# ------------------------------------------------------------------ OR-Tools, lazily


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """A two-worker service and its plan, written to files."""
    folder = tmp_path_factory.mktemp("door")
    snap = snapshot([worker("P1"), worker("P2")], [case("C1", worker="P1"), case("R1")])
    write_snapshot(snap, folder / "service.json")
    write_json(folder / "plan.json", allocate(snap, time_limit=5))
    return {"snapshot": str(folder / "service.json"), "plan": str(folder / "plan.json")}


COMMANDS = {
    "check": ["check", "{snapshot}", "{plan}"],
    "explain": ["explain", "{plan}", "--snapshot", "{snapshot}", "--case", "R1"],
    "explain-worker": ["explain", "{plan}", "--snapshot", "{snapshot}", "--worker", "P1"],
    "recommend": ["recommend", "{snapshot}", "R1"],
    "diff": ["diff", "{plan}", "{plan}", "--snapshot", "{snapshot}"],
}

PROBE = """
import sys
from allocator.cli import main
for args in {runs!r}:
    try:
        main(args, standalone_mode=False)
    except SystemExit as exc:
        assert exc.code in (0, None), (args, exc.code)
    loaded = any(m.split(".")[0] == "ortools" for m in sys.modules)
    print(args[0], "ORTOOLS" if loaded else "NO-ORTOOLS")
"""


def _probe(runs: list[list[str]]) -> list[str]:
    """Run the commands one after another in a fresh interpreter; what each loaded."""
    done = subprocess.run(
        [sys.executable, "-c", PROBE.format(runs=runs)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return [line for line in done.stdout.splitlines() if line.endswith("ORTOOLS")]


def test_commands_that_do_not_solve_never_import_ortools(files: dict[str, str]) -> None:
    # One interpreter runs them all in turn: after each, OR-Tools is still not loaded.
    runs = [[a.format(**files) for a in command] for command in COMMANDS.values()]
    assert _probe(runs) == [f"{run[0]} NO-ORTOOLS" for run in runs]


@pytest.mark.slow
def test_a_solve_does_import_ortools(files: dict[str, str]) -> None:
    # The probe can see OR-Tools: allocate loads it.
    assert _probe([["allocate", files["snapshot"], "--time-limit", "5"]]) == ["allocate ORTOOLS"]
