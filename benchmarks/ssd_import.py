"""``python -m benchmarks.ssd_import``: time and memory of ``allocator import ssd`` at scale.

The issue's target: a 2,000-practitioner service's extract (about 50,000 children,
several hundred thousand involvements) imported in under 30 s and 2 GB.

The extract is the synthetic service (:func:`allocator.generate.generate`) written as
SSD tables (:func:`allocator.ssd.synthetic.write_ssd_extract`), padded the way a
real extract is larger than today's caseload: children whose cases closed (a closed
child-in-need episode and a history of allocated workers), and an IRO involvement
on every open case (another role, read and set aside). The import then runs as the
command a council would type, in a child process, so the figures are the command's
own: wall time, and peak memory (``resource.getrusage(RUSAGE_CHILDREN).ru_maxrss``).

Examples::

    python -m benchmarks.ssd_import                       # 2,000 practitioners
    python -m benchmarks.ssd_import --practitioners 200 --children 5000 --involvements 30000
    python -m benchmarks.ssd_import --database            # the same, from a SQLite file

Exit code 1 when a target (``--max-seconds``, ``--max-mb``) is missed.
"""

from __future__ import annotations

import csv
import random
import resource
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

import click

from allocator.generate import generate
from allocator.ssd.synthetic import write_ssd_extract

_LAUNCH = "import sys; from allocator.launch import main; sys.argv[0] = 'allocator'; main()"


def _append(path: Path, rows: list[list[str]]) -> None:
    with path.open("a", newline="", encoding="utf-8") as handle:
        csv.writer(handle, lineterminator="\n").writerows(rows)


def _count(path: Path) -> int:
    with path.open(encoding="utf-8") as handle:
        return sum(1 for _ in handle) - 1


def pad_extract(folder: Path, children: int, involvements: int, as_of: date, seed: int) -> None:
    """Add closed children and IRO involvements until the targets are met.

    Parameters
    ----------
    folder
        An extract written by :func:`write_ssd_extract`.
    children
        The number of ``ssd_person`` rows wanted (closed children make up the rest).
    involvements
        The number of ``ssd_involvements`` rows wanted (about).
    as_of
        The service's day: every added episode and involvement ends before it.
    seed
        For the choice of workers.
    """
    rng = random.Random(seed)
    with (folder / "ssd_professionals.csv").open(newline="", encoding="utf-8") as handle:
        workers = [row["prof_professional_id"] for row in csv.DictReader(handle)]
    with (folder / "ssd_person.csv").open(newline="", encoding="utf-8") as handle:
        open_children = [row["pers_person_id"] for row in csv.DictReader(handle)]
    iro = [
        [f"R{i:07d}", rng.choice(workers), "IRO", child, (as_of - timedelta(days=200)).isoformat()]
        + ["", ""]
        for i, child in enumerate(open_children, start=1)
    ]
    _append(folder / "ssd_involvements.csv", iro)
    closed = max(0, children - len(open_children))
    have = _count(folder / "ssd_involvements.csv")
    per_child = max(1, (involvements - have) // closed) if closed else 0
    people, families, episodes, history = [], [], [], []
    for i in range(1, closed + 1):
        child = f"X{i:06d}"
        people.append([child])
        families.append([f"XF{(i + 1) // 2:06d}", child])
        start = as_of - timedelta(days=400 + 30 * per_child + i % 365)
        end = as_of - timedelta(days=30 + i % 300)
        episodes.append([f"XE{i:06d}", child, start.isoformat(), end.isoformat()])
        step = max(1, (end - start).days // per_child)
        for k in range(per_child):
            begin = start + timedelta(days=k * step)
            finish = min(end, begin + timedelta(days=step))
            history.append(
                [
                    f"X{i:06d}-{k:02d}",
                    rng.choice(workers),
                    "ALLOCATED_SW",
                    child,
                    begin.isoformat(),
                    finish.isoformat(),
                    "MANAGE" if k else "FCONTA",
                ]
            )
    _append(folder / "ssd_person.csv", people)
    _append(folder / "ssd_family.csv", families)
    _append(folder / "ssd_cin_episodes.csv", episodes)
    _append(folder / "ssd_involvements.csv", history)


def to_sqlite(folder: Path, database: Path) -> str:
    """Load every ``ssd_*.csv`` of ``folder`` into a SQLite file; its URL."""
    import sqlite3

    with sqlite3.connect(database) as connection:
        for path in sorted(folder.glob("ssd_*.csv")):
            with path.open(newline="", encoding="utf-8") as handle:
                reader = csv.reader(handle)
                header = next(reader)
                columns = ", ".join(f'"{c}" TEXT' for c in header)
                connection.execute(f'CREATE TABLE "{path.stem}" ({columns})')
                marks = ", ".join("?" for _ in header)
                connection.executemany(f'INSERT INTO "{path.stem}" VALUES ({marks})', reader)
    return f"sqlite:///{database}"


@click.command()
@click.option("--practitioners", default=2000, show_default=True)
@click.option("--children", default=50_000, show_default=True, help="ssd_person rows.")
@click.option("--involvements", default=300_000, show_default=True, help="About.")
@click.option("--seed", default=0, show_default=True)
@click.option("--database", is_flag=True, help="Import from a SQLite file, not the CSV folder.")
@click.option("--max-seconds", default=30.0, show_default=True)
@click.option("--max-mb", default=2048.0, show_default=True)
@click.option("--keep", type=click.Path(file_okay=False), help="Keep the extract in this folder.")
def main(
    practitioners: int,
    children: int,
    involvements: int,
    seed: int,
    database: bool,
    max_seconds: float,
    max_mb: float,
    keep: str | None,
) -> None:
    """Generate a padded SSD extract, import it, print the time and peak memory."""
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(keep) if keep else Path(scratch) / "extract"
        service = generate(practitioners, seed=seed)
        write_ssd_extract(service, folder)
        pad_extract(folder, children, involvements, service.as_of, seed)
        source = str(folder)
        if database:
            source = to_sqlite(folder, Path(scratch) / "ssd.db")
        rows = {p.stem: _count(p) for p in sorted(folder.glob("ssd_*.csv"))}
        click.echo(
            f"extract: {practitioners:,} practitioners, {rows['ssd_person']:,} children, "
            f"{rows['ssd_involvements']:,} involvements, {len(service.cases):,} open cases"
            + (" (from SQLite)" if database else "")
        )
        command = [
            sys.executable,
            "-c",
            _LAUNCH,
            "import",
            "ssd",
            source,
            "--mapping",
            str(folder / "mapping.toml"),
            "--as-of",
            service.as_of.isoformat(),
            "--out",
            str(Path(scratch) / "snapshot.json"),
        ]
        began = time.perf_counter()
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        seconds = time.perf_counter() - began
        peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    if done.returncode != 0:
        click.echo(done.stderr, err=True)
        raise SystemExit(f"import failed with exit code {done.returncode}")
    for line in done.stderr.splitlines():
        if line.startswith("wrote"):
            click.echo(line)
    click.echo(f"import ssd: {seconds:.1f} s (target {max_seconds:g} s)")
    click.echo(f"peak memory: {peak_mb:,.0f} MB (target {max_mb:,.0f} MB)")
    if seconds > max_seconds or peak_mb > max_mb:
        click.echo("target missed")
        raise SystemExit(1)


if __name__ == "__main__":
    main()
