"""An existing ``--out`` folder the user may not write in is refused before any work.

Before: ``simulate``, ``sweep``, ``forecast`` and ``capacity`` ran their whole job and
then failed with the system's bare ``ro/changes.csv: Permission denied`` (or
``ro/cells: Permission denied``); a new folder in such a folder was already refused up
front. The test stands in for a user without write permission (the suite may run as
root, who may write anywhere) by denying write access to the one folder.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

pytest.importorskip("pandas")

from click.testing import CliRunner

from allocator.cli import main
from allocator.generate import generate
from allocator.io import InputError, check_output_folder, write_snapshot, writing


@pytest.fixture
def read_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "ro"
    folder.mkdir()
    real_access = os.access

    def access(path: object, mode: int, *args: object, **kwargs: object) -> bool:
        if Path(str(path)) == folder and mode & os.W_OK:
            return False
        return real_access(path, mode, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(writing.os, "access", access)
    return folder


def test_check_output_folder_refuses_an_existing_folder_it_may_not_write(
    read_only: Path,
) -> None:
    with pytest.raises(InputError, match="cannot write in this folder"):
        check_output_folder(read_only, files=())


@pytest.mark.parametrize("command", ["simulate", "sweep", "forecast", "capacity"])
def test_each_out_folder_command_refuses_it_up_front(
    tmp_path: Path, read_only: Path, command: str
) -> None:
    snap = tmp_path / "s.json"
    write_snapshot(generate(3, seed=1), snap)
    spec = tmp_path / "spec.toml"
    spec.write_text('days = 2\nmethods = ["greedy"]\n[[services]]\nname = "a"\npractitioners = 2\n')
    args = {
        "simulate": ["simulate", str(snap), "--days", "2", "--method", "greedy", "--no-plots"],
        "sweep": ["sweep", str(spec), "--workers", "1"],
        "forecast": ["forecast", str(snap), "--weeks", "1", "--runs", "1", "--no-plots"],
        "capacity": ["capacity", str(snap), "--target", "all wait <= 5 days"]
        + ["--weeks", "1", "--runs", "1", "--max-fte", "0"],
    }[command]
    result = CliRunner().invoke(main, [*args, "--out", str(read_only)])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert (
        f"error: {read_only}: cannot write in this folder; expected a folder you may write "
        "in; nothing was written." in result.stderr.replace("\n", " ")
    ), result.stderr
    assert list(read_only.iterdir()) == []
