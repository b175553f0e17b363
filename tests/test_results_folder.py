"""A results folder: made by one command only (its manifest.json), written all or none,
and no path option of any command taking an empty path.

A fresh analyst ran ``simulate --out shared`` then ``forecast --out shared``: each wrote
its own ``children.csv`` over the other's, without a word, and the simulation's
``children.parquet`` then disagreed with the forecast's ``children.csv``. A write refused
half-way (an immutable ``summary.csv``) left the folder half one run, half the other.
"""

from __future__ import annotations

import errno
import json
import os
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

import allocator.io.writing as writing
from allocator.cli import main
from allocator.command_line import GivenPath
from allocator.io import (
    BACKTEST,
    CAPACITY,
    FORECAST,
    MANIFEST,
    SIMULATE,
    SWEEP,
    InputError,
    check_results_folder,
    write_files,
    write_results_folder,
)

ROOT = Path(__file__).resolve().parent.parent
SERVICE = str(ROOT / "examples" / "service.json")


def _run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.output


def _spec(tmp_path: Path) -> str:
    spec = tmp_path / "spec.toml"
    spec.write_text(
        f'days = 1\n[[services]]\nname = "s"\nsnapshot = "{SERVICE}"\n', encoding="utf-8"
    )
    return str(spec)


#: Each command that writes a results folder, as it is named in a manifest, and its
#: arguments less --out (never run: the folder is refused at the door, before any work).
COMMANDS = {
    SIMULATE: lambda tmp: ["simulate", SERVICE, "--days", "1"],
    FORECAST: lambda tmp: ["forecast", SERVICE, "--weeks", "1", "--runs", "1"],
    CAPACITY: lambda tmp: ["capacity", SERVICE, "--target", "urgent wait <= 1 day"],
    BACKTEST: lambda tmp: [
        "backtest",
        str(ROOT / "examples" / "ssd" / "extract"),
        "--mapping",
        str(ROOT / "examples" / "ssd" / "mapping.toml"),
        "--from",
        "2026-01-01",
    ],  # fmt: skip
    SWEEP: lambda tmp: ["sweep", _spec(tmp)],
}


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_a_command_refuses_a_folder_another_command_made(tmp_path: Path, command: str) -> None:
    other = FORECAST if command != FORECAST else SIMULATE
    folder = tmp_path / "shared"
    write_results_folder(folder, other, {"children.csv": "case\nC1\n"})
    before = sorted(p.name for p in folder.iterdir())
    code, out = _run(*COMMANDS[command](tmp_path), "--out", str(folder))
    assert code == 2, out
    assert f"shared: holds the results of `{other}` (its {MANIFEST})" in out
    assert f"or one `{command}` made: give another --out" in out
    assert "nothing was written" in out
    assert sorted(p.name for p in folder.iterdir()) == before


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_a_command_refuses_a_folder_of_files_no_command_made(tmp_path: Path, command: str) -> None:
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "notes.txt").write_text("mine\n", encoding="utf-8")
    code, out = _run(*COMMANDS[command](tmp_path), "--out", str(folder))
    assert code == 2 and "holds files no allocator command's manifest.json names (notes.txt)" in out


def test_a_csv_snapshot_folder_is_not_its_own_out(tmp_path: Path) -> None:
    snapshot = tmp_path / "snap"
    assert (
        _run("generate", "--practitioners", "3", "--format", "csv", "--out", str(snapshot))[0] == 0
    )
    code, out = _run("simulate", str(snapshot), "--days", "1", "--out", str(snapshot))
    assert code == 2 and f"{snapshot}: is the input snapshot (a folder)" in out, out


def test_a_snapshot_is_not_written_into_a_results_folder(tmp_path: Path) -> None:
    folder = tmp_path / "fc"
    write_results_folder(folder, FORECAST, {"children.csv": "case\n"})
    for fmt in ("csv", "ssd"):
        code, out = _run("generate", "--practitioners", "3", "--format", fmt, "--out", str(folder))
        assert code == 2 and "holds the results of `allocator forecast`" in out, out
    assert sorted(p.name for p in folder.iterdir()) == ["children.csv", MANIFEST]


def test_the_same_command_writes_again_and_its_stale_files_go(tmp_path: Path) -> None:
    folder = tmp_path / "run"
    write_results_folder(folder, SIMULATE, {"report.md": "one\n", "waiting.png": b"png"})
    check_results_folder(folder, SIMULATE)  # its own: accepted
    write_results_folder(folder, SIMULATE, {"report.md": "two\n"})
    assert sorted(p.name for p in folder.iterdir()) == [MANIFEST, "report.md"]
    assert (folder / "report.md").read_text(encoding="utf-8") == "two\n"
    assert json.loads((folder / MANIFEST).read_text(encoding="utf-8")) == {
        "made_by": SIMULATE,
        "files": ["report.md"],
    }


def _old_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "old"
    write_files(folder, {"a.csv": "old a\n", "b.csv": "old b\n", "c.csv": "old c\n"})
    return folder


def _contents(folder: Path) -> dict[str, str]:
    return {p.name: p.read_text(encoding="utf-8") for p in sorted(folder.iterdir())}


NEW = {"a.csv": "new a\n", "b.csv": "new b\n", "c.csv": "new c\n"}


def test_a_write_that_fails_leaves_the_folder_as_it_was(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A full disk on the second file: nothing replaced, no temporary left behind.
    folder = _old_folder(tmp_path)
    before = _contents(folder)
    real = writing._write_whole

    def full(path: Path, data: bytes, *, keep_mode_of: Path) -> None:
        if keep_mode_of.name == "b.csv":
            raise OSError(errno.ENOSPC, "No space left on device", str(path))
        real(path, data, keep_mode_of=keep_mode_of)

    monkeypatch.setattr(writing, "_write_whole", full)
    _refused_as_it_was(folder, before, "b.csv", "No space left on device")


def test_a_rename_refused_part_way_puts_back_the_files_already_replaced(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # As `chattr +i c.csv`: a.csv and b.csv are in when c.csv's rename is refused.
    folder = _old_folder(tmp_path)
    before = _contents(folder)
    real = os.replace

    def immutable(src: str | os.PathLike[str], dst: str | os.PathLike[str]) -> None:
        if Path(dst).name == "c.csv" and ".tmp" in str(src):
            raise PermissionError(errno.EPERM, "Operation not permitted")
        real(src, dst)

    monkeypatch.setattr(writing.os, "replace", immutable)
    _refused_as_it_was(folder, before, "c.csv", "Operation not permitted")


def _refused_as_it_was(folder: Path, before: dict[str, str], name: str, why: str) -> None:
    """Writing :data:`NEW` into ``folder`` is refused naming ``name`` and ``why``, and
    the folder holds ``before``, as it was."""
    with pytest.raises(InputError) as caught:
        write_files(folder, NEW)
    assert str(caught.value) == (
        f"{folder / name}: {why}; nothing was written (the folder {folder} is as it was)."
    )
    assert _contents(folder) == before


def test_when_even_the_old_files_cannot_go_back_it_says_which_run_each_is_from(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = _old_folder(tmp_path)
    real = os.replace

    def stuck(src: str | os.PathLike[str], dst: str | os.PathLike[str]) -> None:
        if Path(dst).name == "c.csv" and ".tmp" in str(src):
            raise PermissionError(errno.EPERM, "Operation not permitted")
        if ".old" in str(src):  # putting back a.csv and b.csv fails too
            raise PermissionError(errno.EPERM, "Operation not permitted")
        real(src, dst)

    monkeypatch.setattr(writing.os, "replace", stuck)
    with pytest.raises(InputError) as caught:
        write_files(folder, NEW)
    said = str(caught.value)
    assert said.startswith(f"{folder / 'c.csv'}: Operation not permitted; the folder {folder}")
    assert "is now mixed: a.csv, b.csv from this run, every other file from the run before" in said
    assert (folder / "a.csv").read_text(encoding="utf-8") == "new a\n"
    assert (folder / "c.csv").read_text(encoding="utf-8") == "old c\n"


def test_a_folder_that_cannot_be_made_says_nothing_was_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # As --out /proc/nope: the parent looks writable, the folder cannot be made.
    def refused(self: Path, *args: object, **kwargs: object) -> None:
        raise FileNotFoundError(errno.ENOENT, "No such file or directory")

    monkeypatch.setattr(Path, "mkdir", refused)
    with pytest.raises(InputError) as caught:
        write_files(tmp_path / "nope", NEW)
    assert str(caught.value) == (
        f"{tmp_path / 'nope'}: cannot make the folder (No such file or directory); expected "
        "a folder you may write in; nothing was written."
    )


def _path_params() -> list[tuple[str, click.Parameter]]:
    """Every path option and argument of every allocator command."""
    found = []

    def walk(command: click.Command, name: str) -> None:
        if isinstance(command, click.Group):
            for sub, inner in command.commands.items():
                walk(inner, f"{name} {sub}".strip())
            return
        for param in command.params:
            if isinstance(param.type, click.Path):
                found.append((name, param))

    walk(main, "")
    return found


def test_every_path_option_of_every_command_refuses_an_empty_path() -> None:
    params = _path_params()
    assert len(params) > 50  # every command's, not a few
    plain = [f"{name} {p.name}" for name, p in params if not isinstance(p.type, GivenPath)]
    assert plain == []


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["simulate", SERVICE, "--out", ""], "--out: an empty path; expected a folder"),
        (["forecast", SERVICE, "--out", " "], "--out: an empty path; expected a folder"),
        (["sweep", "", "--out", "e3"], "SPEC: an empty path; expected a file"),
        (["allocate", SERVICE, "--policy", ""], "--policy: an empty path; expected a file"),
        (["forecast", SERVICE, "--history", "", "--out", "o"],
         "--history: an empty path; expected a folder of SSD tables"),
        (["allocate", ""],
         "SNAPSHOT: an empty path; expected a snapshot: a .json file or a folder of CSV tables"),
        (["generate", "--practitioners", "3", "--out", ""],
         "--out: an empty path; expected a .json file or a folder"),
    ],
)  # fmt: skip
def test_an_empty_path_is_one_error_naming_the_option(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args: list[str], said: str
) -> None:
    monkeypatch.chdir(tmp_path)
    code, out = _run(*args)
    assert code == 2 and f"Error: {said}" in out, out
    assert list(tmp_path.iterdir()) == []  # nothing written in the current folder
