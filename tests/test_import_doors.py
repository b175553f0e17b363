"""The import and database doors attacked (issue 24), each probe written as the attack.

A mapping whose ``side_table`` names a file outside its folder; a CSV of bad dates in
every row; a database host that accepts TCP and never answers, for ``import ssd``,
``log --db`` and ``serve --db`` (with a short timeout, so the test is quick).
"""

from __future__ import annotations

import shutil
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from builders import case, snapshot, worker
from click.testing import CliRunner

import allocator.ssd.tables
from allocator.cli import main
from allocator.io import write_snapshot

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "ssd"


@pytest.fixture
def extract(tmp_path: Path) -> Path:
    shutil.copytree(EXAMPLE, tmp_path / "ssd")
    return tmp_path / "ssd"


def import_ssd(folder: Path, out: Path) -> tuple[int, str]:
    result = CliRunner().invoke(
        main,
        ["import", "ssd", str(folder / "extract"), "--mapping", str(folder / "mapping.toml"),
         "--as-of", "2026-11-23", "--out", str(out)],
    )  # fmt: skip
    return result.exit_code, result.output


@pytest.mark.parametrize("name", ["/etc/passwd", "../secret.csv", "extract/../../secret.csv"])
def test_a_side_table_outside_the_mapping_folder_is_not_read(
    extract: Path, tmp_path: Path, name: str
) -> None:
    (tmp_path / "secret.csv").write_text("id,password\nadmin-user,hunter2-secret\n")
    mapping = extract / "mapping.toml"
    mapping.write_text(
        mapping.read_text().replace('side_table = "cases_extra.csv"', f'side_table = "{name}"')
    )
    code, output = import_ssd(extract, tmp_path / "snap.json")
    assert code == 2
    assert "expected a file in the mapping's folder" in output
    assert "hunter2" not in output and "admin-user" not in output
    assert not (tmp_path / "snap.json").exists()


def test_a_side_table_beside_the_mapping_is_still_read(extract: Path, tmp_path: Path) -> None:
    code, output = import_ssd(extract, tmp_path / "snap.json")
    assert code == 0, output


def test_bad_dates_in_every_row_are_one_sentence_and_a_count(extract: Path, tmp_path: Path) -> None:
    table = extract / "extract" / "ssd_involvements.csv"
    header, first = table.read_text().splitlines()[:2]
    cells = first.split(",")
    rows = []
    for i in range(20_000):
        cells[0], cells[4] = f"X{i}", f"2025-13-{i % 28 + 1:02d}"  # no 13th month
        rows.append(",".join(cells))
    table.write_text("\n".join([header, *rows]) + "\n")
    started = time.monotonic()
    code, output = import_ssd(extract, tmp_path / "snap.json")
    assert code == 2
    lines = output.strip().splitlines()
    assert len(lines) < 20, lines[:30]
    assert "the same problem in 20,000 lines (line 2, line 3, line 4 and 19,997 more)" in output
    assert time.monotonic() - started < 60


def test_problems_are_kept_bounded() -> None:
    problems = allocator.ssd.tables.Problems()
    for i in range(100_000):
        problems.error(f"t.csv, line {i + 2} (id X{i}): field 'd' is '{i}', expected a date")
    for i in range(1_000):
        problems.error(f"problem number {i} of its own kind")
    sentences = problems.errors.sentences()
    assert len(sentences) <= allocator.ssd.tables.KEPT_PROBLEMS + 1
    assert sentences[0].startswith("t.csv: the same problem in 100,000 lines")
    assert sentences[-1].startswith("... and 901 more problems of other kinds")


# ---------------------------------------------------------------- a black-hole database


@pytest.fixture
def black_hole(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A TCP port that completes the handshake (the kernel's backlog) and never answers;
    the connect timeout cut to 2 seconds for the test (10 by default)."""
    monkeypatch.setattr(allocator.ssd.tables, "CONNECT_TIMEOUT", 2)
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        yield f"postgresql://u:secretpw@127.0.0.1:{listener.getsockname()[1]}/x"


def test_import_ssd_from_a_silent_database_stops(
    black_hole: str, extract: Path, tmp_path: Path
) -> None:
    started = time.monotonic()
    result = CliRunner().invoke(
        main,
        ["import", "ssd", "--mapping", str(extract / "mapping.toml"),
         "--as-of", "2026-11-23", "--out", str(tmp_path / "snap.json")],
        env={"ALLOCATOR_SSD_DB": black_hole},  # a password belongs there, not in argv
    )  # fmt: skip
    assert time.monotonic() - started < 15
    assert result.exit_code == 2 and "timeout" in result.output.lower()
    assert "secretpw" not in result.output


@pytest.mark.parametrize("command", [["log"], ["log", "--verify"], ["history", "C1"]])
def test_reading_a_log_on_a_silent_database_stops(black_hole: str, command: list[str]) -> None:
    started = time.monotonic()
    result = CliRunner().invoke(main, command, env={"ALLOCATOR_DB": black_hole})
    assert time.monotonic() - started < 15
    assert result.exit_code == 2 and "timeout" in result.output.lower()
    assert len(result.output.splitlines()) == 1 and "secretpw" not in result.output


def test_serve_on_a_silent_database_stops(black_hole: str, tmp_path: Path) -> None:
    write_snapshot(snapshot([worker("A")], [case("R1")]), tmp_path / "s.json")
    started = time.monotonic()
    result = CliRunner().invoke(
        main, ["serve", str(tmp_path / "s.json"), "--port", "0"], env={"ALLOCATOR_DB": black_hole}
    )
    assert time.monotonic() - started < 15
    assert result.exit_code == 2 and "timeout" in result.output.lower()


@pytest.mark.parametrize(
    "command", ["serve", "log", "log --verify", "history C1", "replay 1", "import ssd"]
)
def test_a_password_typed_on_the_command_line_is_refused_and_has_a_way_around(
    black_hole: str, extract: Path, tmp_path: Path, command: str
) -> None:
    # The attack: anyone on the machine reads the database password from `ps` while
    # the command runs. Each door that takes a database URL refuses it, before
    # opening anything, and names the environment variable that keeps it out of the
    # process list.
    write_snapshot(snapshot([worker("A")], [case("R1")]), tmp_path / "s.json")
    args = {
        "serve": ["serve", str(tmp_path / "s.json"), "--port", "0"],
        "import ssd": ["import", "ssd", "--mapping", str(extract / "mapping.toml"),
                       "--as-of", "2026-11-23", "--out", str(tmp_path / "snap.json")],
    }.get(command, command.split())  # fmt: skip
    env = "ALLOCATOR_SSD_DB" if command == "import ssd" else "ALLOCATOR_DB"
    typed_args = (
        [*args[:2], black_hole, *args[2:]]
        if command == "import ssd"
        else [*args, "--db", black_hole]
    )
    typed = CliRunner().invoke(main, typed_args)
    assert typed.exit_code == 2
    assert typed.output.strip().splitlines() == [
        f"error: the password in {'SOURCE' if command == 'import ssd' else '--db'} is "
        f"visible to every user of this machine (ps): give the URL in {env} instead; "
        "nothing was opened"
    ]
    hidden = CliRunner().invoke(main, args, env={env: black_hole})
    assert hidden.exit_code == 2 and "timeout" in hidden.output.lower()
    assert "visible to every user" not in hidden.output
    assert "secretpw" not in typed.output + hidden.output


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("postgresql://u:pw@h/db", "postgresql://u:***@h/db"),
        ("postgresql://u@h/db?password=pw", "postgresql://u@h/db?password=***"),
        ("postgresql://u@h/db?sslmode=require&PASSWORD=pw&x=1",
         "postgresql://u@h/db?sslmode=require&PASSWORD=***&x=1"),
        ("postgresql://u@h/db?sslpassword=pw", "postgresql://u@h/db?sslpassword=***"),
        ("postgresql://u@h/db?pass%77ord=pw", "postgresql://u@h/db?pass%77ord=***"),
        ("postgresql://u@h/db", "postgresql://u@h/db"),
    ],
)  # fmt: skip
def test_a_password_is_hidden_wherever_the_url_holds_it(url: str, shown: str) -> None:
    from allocator.ssd.tables import hide_password

    assert hide_password(url) == shown


def test_a_password_in_the_query_typed_on_the_command_line_is_refused(tmp_path: Path) -> None:
    # The attack a fresh trial made: ?password= passed the check that caught user:pw@.
    url = "postgresql://u@127.0.0.1:1/x?password=s3cret"
    result = CliRunner().invoke(main, ["log", "--db", url])
    assert result.exit_code == 2
    assert "visible to every user of this machine" in result.output
    assert "s3cret" not in result.output
