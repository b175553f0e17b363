"""The commands that bring a council's data in and a plan back out: ``import ssd``,
``import csv`` and ``export ssd``.

The account of what was read, used and defaulted goes to stderr; ids and counts only,
never a name or free text.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import click

from allocator.cli.decision_log import refuse_password_typed
from allocator.cli.echo import echo, input_errors
from allocator.cli.files import writing
from allocator.cli.options import IsoDay
from allocator.command_line import A_FOLDER, A_SNAPSHOT, GivenPath
from allocator.contract.models import Snapshot
from allocator.domain.rules import counted
from allocator.io import check_output, check_output_folder, load_snapshot, write_json


@click.group("import")
def import_group() -> None:
    """Build a snapshot from a council's data: SSD extracts or CSV reports."""


def _write_imported(snapshot: Snapshot, out: str, lines: list[str]) -> None:
    """Write an imported snapshot (JSON file or CSV folder) and print its report."""
    from allocator.io import write_snapshot

    with writing(out):
        if out == "-":
            write_json(out, snapshot)
        else:
            write_snapshot(snapshot, out)
    for line in lines:
        echo(line, err=True)
    echo(
        f"wrote {out}: {counted(len(snapshot.practitioners), 'practitioner')}, "
        f"{counted(len(snapshot.cases), 'case')}",
        err=True,
    )


def _check_import_output(out: str, inputs: dict[str, str | None]) -> None:
    with input_errors():
        if out == "-" or out.lower().endswith(".json"):
            check_output(out, inputs)
        else:
            check_output_folder(out, inputs)


@import_group.command("ssd")
@click.argument(
    "source",
    type=GivenPath(expected="a folder of SSD tables or a database URL"),
    envvar="ALLOCATOR_SSD_DB",
)
@click.option(
    "--mapping", "mapping_path", type=GivenPath(), required=True, help="Mapping file (TOML)."
)
@click.option(
    "--as-of",
    type=IsoDay(),
    required=True,
    help="The snapshot's day, YYYY-MM-DD: episodes and involvements open on it count.",
)
@click.option(
    "--out",
    type=GivenPath(expected="a .json file or a folder"),
    required=True,
    help="A .json file, a folder for CSV tables, or - for stdout.",
)
def import_ssd_command(source: str, mapping_path: str, as_of: date, out: str) -> None:
    """Build a snapshot from SOURCE: a folder of SSD table extracts (CSV) or a database URL
    (a URL holding a password: leave SOURCE out and give it in ALLOCATOR_SSD_DB).

    Beside the snapshot goes each case's open involvement (SNAPSHOT.ssd-involvements.csv),
    which export ssd reads to close the very rows the import read.
    """
    from allocator.ssd.export import open_involvements_path, write_open_involvements
    from allocator.ssd.mapping import load_ssd_mapping
    from allocator.ssd.ssd_import import import_ssd

    refuse_password_typed(source, "source", "ALLOCATOR_SSD_DB")
    _check_import_output(out, {"mapping": mapping_path})
    if out.lower().endswith(".json") or Path(out).is_dir():  # a new folder: made later
        with input_errors():
            check_output(open_involvements_path(out), {"mapping": mapping_path})
    with input_errors():
        mapping = load_ssd_mapping(mapping_path)
        snapshot, report = import_ssd(source, mapping, as_of)
    _write_imported(snapshot, out, report.lines())
    if out == "-":
        echo("open involvements not kept (--out -): export ssd gives new ids", err=True)
    else:
        with writing(out):
            side = write_open_involvements(report.involvements, open_involvements_path(out))
        echo(f"wrote {side}: {counted(len(report.involvements), 'open involvement')}", err=True)


@import_group.command("csv")
@click.argument("folder", type=GivenPath(expected=A_FOLDER))
@click.option(
    "--columns", "columns_path", type=GivenPath(), required=True, help="Columns mapping (TOML)."
)
@click.option(
    "--as-of",
    type=IsoDay(),
    help="The snapshot's day, YYYY-MM-DD (default: the mapping's as_of).",
)
@click.option(
    "--out",
    type=GivenPath(expected="a .json file or a folder"),
    required=True,
    help="A .json file, a folder for CSV tables, or - for stdout.",
)
def import_csv_command(folder: str, columns_path: str, as_of: date | None, out: str) -> None:
    """Build a snapshot from FOLDER, a council's own CSV reports, renamed and converted."""
    from allocator.ssd.columns import import_csv
    from allocator.ssd.mapping import load_columns_mapping

    _check_import_output(out, {"columns": columns_path})
    with input_errors():
        mapping = load_columns_mapping(columns_path)
        snapshot, report = import_csv(folder, mapping, as_of)
    _write_imported(snapshot, out, report.lines())


@click.group("export")
def export_group() -> None:
    """Write a plan in a council's own shape."""


@export_group.command("ssd")
@click.argument("plan_path", metavar="PLAN", type=GivenPath())
@click.option(
    "--snapshot", type=GivenPath(expected=A_SNAPSHOT), required=True, help="The plan's snapshot."
)
@click.option(
    "--mapping",
    "mapping_path",
    type=GivenPath(),
    required=True,
    help="The SSD mapping: its first allocated role names the new involvements.",
)
@click.option(
    "--involvements",
    "involvements_path",
    type=GivenPath(),
    help="The open involvements import ssd wrote (default: beside the snapshot, if there).",
)
@click.option(
    "--out",
    type=GivenPath(expected=A_FOLDER),
    required=True,
    help="Folder for ssd_involvements.csv.",
)
def export_ssd_command(
    plan_path: str, snapshot: str, mapping_path: str, involvements_path: str | None, out: str
) -> None:
    """Write PLAN's changes of worker as SSD involvement rows (new and ended)."""
    from allocator.io import load_plan
    from allocator.ssd.export import (
        involvement_rows,
        open_involvements_path,
        read_open_involvements,
        write_involvements,
    )
    from allocator.ssd.mapping import load_ssd_mapping

    beside = open_involvements_path(snapshot)
    side = involvements_path or (str(beside) if beside.is_file() else None)
    inputs = {"plan": plan_path, "snapshot": snapshot, "mapping": mapping_path}
    with input_errors():
        check_output_folder(out, {**inputs, "involvements": side}, files=("ssd_involvements.csv",))
        plan = load_plan(plan_path)
        snap = load_snapshot(snapshot)
        mapping = load_ssd_mapping(mapping_path)
        opened = read_open_involvements(side) if side else {}
        rows = involvement_rows(
            plan,
            snap,
            mapping.involvements.allocated_roles[0],
            opened,
            sources=(plan_path, snapshot),
        )
    with writing(out):
        target = write_involvements(rows, out)
    ended = sum(1 for r in rows if r["invo_involvement_end_date"])
    kept = sum(
        1 for r in rows if r["invo_involvement_end_date"] and r["invo_involvement_start_date"]
    )
    echo(
        f"wrote {target}: {len(rows) - ended} new involvements, {ended} ended "
        f"({kept} by their original id"
        + ("" if side else "; no open involvements from import ssd: new ids")
        + ")",
        err=True,
    )
