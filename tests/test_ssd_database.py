"""``allocator import ssd`` from a database URL (SQLAlchemy): the same import, the same errors.

The example extract (``tests/test_ssd_import.py``) is loaded into a database, every
empty cell a NULL; importing the URL must give the snapshot the folder gives, and a
problem must name the table, the row (numbered in the order of the table's id) and
the field. SQLite (a file URL) always; PostgreSQL when ``ALLOCATOR_TEST_POSTGRES``
names a server (``postgresql://user@127.0.0.1:5432/db``): there the tables are typed as
an SSD deployment types them (dates, datetimes, numbers, a boolean agency flag) in a
schema of their own, named in the mapping's ``[database] schema``.
"""

from __future__ import annotations

import csv
import shutil
import uuid
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from allocator.cli import main
from allocator.io import InputError
from allocator.ssd.mapping import load_ssd_mapping
from allocator.ssd.ssd_import import import_ssd
from allocator.ssd.tables import parse_date
from tests.needs import postgres_url
from tests.test_ssd_import import AS_OF, EXAMPLE


def _typed(name: str) -> sa.types.TypeEngine[object] | None:
    if "date" in name or name.endswith("_ceased"):
        return sa.DateTime()
    if name == "prof_full_time_equivalency":
        return sa.Float()
    if name == "prof_agency_worker_flag":
        return sa.Boolean()
    return None


def _value(text: str, kind: sa.types.TypeEngine[object] | None) -> object:
    if text == "":
        return None
    if isinstance(kind, sa.DateTime):
        day = parse_date(text)
        assert day is not None, text
        return datetime(day.year, day.month, day.day)
    if isinstance(kind, sa.Float):
        return float(text)
    if isinstance(kind, sa.Boolean):
        return text.upper() == "Y"
    return text


def load(engine: sa.Engine, folder: Path, schema: str | None = None, typed: bool = False) -> None:
    """Every ``ssd_*.csv`` of ``folder`` as a table (text, or typed), NULL for empty."""
    metadata = sa.MetaData(schema=schema)
    contents = {}
    for path in sorted(folder.glob("ssd_*.csv")):
        with path.open(newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            fields = list(reader.fieldnames or [])
            kinds = {f: (_typed(f) if typed else None) for f in fields}
            table = sa.Table(
                path.stem, metadata, *(sa.Column(f, kinds[f] or sa.Text()) for f in fields)
            )
            contents[table] = [{f: _value(r[f], kinds[f]) for f in fields} for r in reader]
    metadata.create_all(engine)
    with engine.begin() as connection:
        for table, rows in contents.items():
            if rows:
                connection.execute(table.insert(), rows)


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'ssd.db'}")
    load(engine, EXAMPLE / "extract")
    engine.dispose()
    return f"sqlite:///{tmp_path / 'ssd.db'}"


def from_folder():  # type: ignore[no-untyped-def]
    return import_ssd(EXAMPLE / "extract", load_ssd_mapping(EXAMPLE / "mapping.toml"), AS_OF)


def test_sqlite_gives_the_snapshot_the_folder_gives(sqlite_url: str) -> None:
    snapshot, report = import_ssd(sqlite_url, load_ssd_mapping(EXAMPLE / "mapping.toml"), AS_OF)
    expected, expected_report = from_folder()
    assert snapshot == expected
    assert report.involvements == expected_report.involvements
    assert report.counts == expected_report.counts


def execute(url: str, statement: str) -> None:
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        connection.execute(sa.text(statement))
    engine.dispose()


def problems_of(url: str, mapping: Path = EXAMPLE / "mapping.toml") -> str:
    with pytest.raises(InputError) as caught:
        import_ssd(url, load_ssd_mapping(mapping), AS_OF)
    return str(caught.value)


def test_missing_table_is_named(sqlite_url: str) -> None:
    execute(sqlite_url, "DROP TABLE ssd_person")
    assert f"{sqlite_url}: table 'ssd_person' missing" in problems_of(sqlite_url)


def test_missing_column_is_named(sqlite_url: str) -> None:
    execute(sqlite_url, "ALTER TABLE ssd_involvements DROP COLUMN invo_involvement_end_date")
    assert (
        f"{sqlite_url}: table 'ssd_involvements' has no column 'invo_involvement_end_date'"
        in problems_of(sqlite_url)
    )


def test_bad_date_names_table_row_and_field(sqlite_url: str) -> None:
    execute(
        sqlite_url,
        "UPDATE ssd_involvements SET invo_involvement_start_date = '2026-13-01' "
        "WHERE invo_involvements_id = 'I03'",
    )
    # rows in the order of invo_involvements_id: I03 is row 3
    assert (
        "ssd_involvements, row 3 (id I03): field 'invo_involvement_start_date' is '2026-13-01', "
        "expected a date written YYYY-MM-DD" in problems_of(sqlite_url)
    )


def test_unknown_professional_names_table_row_and_field(sqlite_url: str) -> None:
    execute(
        sqlite_url,
        "UPDATE ssd_involvements SET invo_professional_id = 'W99' "
        "WHERE invo_involvements_id = 'I01'",
    )
    assert (
        "ssd_involvements, row 1 (id I01): field 'invo_professional_id' is 'W99', expected a "
        "prof_professional_id of ssd_professionals" in problems_of(sqlite_url)
    )


def test_episode_without_start_date(sqlite_url: str) -> None:
    execute(
        sqlite_url,
        "UPDATE ssd_cin_episodes SET cine_referral_date = NULL WHERE cine_referral_id = '102'",
    )
    assert (
        "ssd_cin_episodes, row 2 (id 102): field 'cine_referral_date' is empty, expected a date"
        in problems_of(sqlite_url)
    )


def test_not_a_database_url() -> None:
    assert "nosuchdialect://x/y: not a database URL" in problems_of("nosuchdialect://x/y")


@pytest.mark.parametrize(
    ("url", "module", "hint"),
    [
        ("mssql+pyodbc://u@host/ssd", "pyodbc", "pip install pyodbc"),
        ("mssql+pymssql://u@host/ssd", "pymssql", "pip install pymssql"),
        ("mysql+pymysql://u@host/ssd", "pymysql", "pip install pymysql"),
    ],
)
def test_a_missing_driver_names_its_own_package(url: str, module: str, hint: str) -> None:
    # the hint named the PostgreSQL extra whatever the URL (a user fault)
    pytest.importorskip("sqlalchemy")
    try:
        __import__(module)
    except ImportError:
        pass
    else:
        pytest.skip(f"{module} is installed")
    text = problems_of(url)
    assert "the database driver is not installed" in text and hint in text
    assert "postgres" not in text


def test_a_server_that_does_not_answer_is_one_sentence_without_the_password() -> None:
    text = problems_of("postgresql://someone:secret@127.0.0.1:1/ssd")
    assert "postgresql://someone:***@127.0.0.1:1/ssd: the database could not be read" in text
    assert "secret" not in text


def test_cli_imports_from_a_database_url(sqlite_url: str, tmp_path: Path) -> None:
    out = tmp_path / "snap.json"
    result = CliRunner().invoke(
        main,
        [
            "import",
            "ssd",
            sqlite_url,
            "--mapping",
            str(EXAMPLE / "mapping.toml"),
            "--as-of",
            "2026-11-23",
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "5 practitioners, 6 cases" in result.output
    assert (tmp_path / "snap.ssd-involvements.csv").is_file()


def test_cli_missing_table_exits_2_without_traceback(sqlite_url: str, tmp_path: Path) -> None:
    execute(sqlite_url, "DROP TABLE ssd_family")
    result = CliRunner().invoke(
        main,
        [
            "import",
            "ssd",
            sqlite_url,
            "--mapping",
            str(EXAMPLE / "mapping.toml"),
            "--as-of",
            "2026-11-23",
            "--out",
            str(tmp_path / "snap.json"),
        ],
    )
    assert result.exit_code == 2
    assert "table 'ssd_family' missing" in result.output
    assert "Traceback" not in result.output


@pytest.fixture
def postgres(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """The server's URL and a mapping naming a fresh schema holding the typed tables."""
    url = postgres_url()
    schema = f"allocator_test_{uuid.uuid4().hex[:12]}"
    engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.begin() as connection:
        connection.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    try:
        load(engine, EXAMPLE / "extract", schema=schema, typed=True)
        shutil.copytree(EXAMPLE, tmp_path / "ssd")
        mapping = tmp_path / "ssd" / "mapping.toml"
        mapping.write_text(mapping.read_text() + f'\n[database]\nschema = "{schema}"\n')
        yield url, mapping
    finally:
        with engine.begin() as connection:
            connection.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        engine.dispose()


def test_postgresql_gives_the_snapshot_the_folder_gives(postgres: tuple[str, Path]) -> None:
    url, mapping = postgres
    snapshot, report = import_ssd(url, load_ssd_mapping(mapping), AS_OF)
    expected, expected_report = from_folder()
    assert snapshot == expected
    assert report.involvements == expected_report.involvements


def test_postgresql_errors_name_table_row_and_field(postgres: tuple[str, Path]) -> None:
    url, mapping = postgres
    schema = load_ssd_mapping(mapping).database.schema_name
    execute(
        url.replace("postgresql://", "postgresql+psycopg://", 1),
        f"UPDATE \"{schema}\".ssd_professionals SET prof_professional_job_title = 'Team Manager' "
        "WHERE prof_professional_id = 'W02'",
    )
    assert "holds child 'C002''s open allocated-worker involvement" in problems_of(url, mapping)
    assert "ssd_professionals, row 2 (id W02)" in problems_of(url, mapping)
