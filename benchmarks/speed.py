"""Load and recommendation speed on a large synthetic service.

``python -m benchmarks.speed [--practitioners 2000] [--load 1.2] [--calls 500]``
prints how long a snapshot of that size takes to load and validate (JSON and CSV)
and the median time of ``Recommender.recommend`` per case once the service is
loaded. Figures, not a timed test.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

import click

from allocator.generate import generate
from allocator.io import load_snapshot, write_snapshot
from allocator.problems.recommend import Recommender


def _best_of(runs: int, action: object) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        action()  # type: ignore[operator]
        times.append(time.perf_counter() - started)
    return statistics.median(times)


@click.command()
@click.option("--practitioners", type=int, default=2000, show_default=True)
@click.option(
    "--load",
    type=float,
    default=1.2,
    show_default=True,
    help="Caseload share of capacity (1.2 gives about 50,000 cases at 2,000).",
)
@click.option("--calls", type=int, default=500, show_default=True)
@click.option("--seed", type=int, default=1, show_default=True)
def main(practitioners: int, load: float, calls: int, seed: int) -> None:
    """Print load and recommendation times for a synthetic service."""
    snapshot = generate(practitioners, seed=seed, load=load)
    with tempfile.TemporaryDirectory() as tmp:
        json_path = write_snapshot(snapshot, Path(tmp) / "service.json")
        csv_path = write_snapshot(snapshot, Path(tmp) / "service-csv")
        json_s = _best_of(3, lambda: load_snapshot(json_path))
        csv_s = _best_of(3, lambda: load_snapshot(csv_path))
    click.echo(
        f"{practitioners} practitioners, {len(snapshot.cases)} cases: load+validate "
        f"JSON {json_s:.2f} s, CSV {csv_s:.2f} s (median of 3)"
    )
    started = time.perf_counter()
    recommender = Recommender(snapshot)
    indexed = time.perf_counter() - started
    cases = sorted(c.id for c in snapshot.cases if c.worker is None)[:calls]
    times = []
    for case_id in cases:
        started = time.perf_counter()
        recommender.recommend(case_id)
        times.append(time.perf_counter() - started)
    click.echo(
        f"recommend: index {indexed:.2f} s once; per call median "
        f"{statistics.median(times) * 1000:.1f} ms, 90th percentile "
        f"{statistics.quantiles(times, n=10)[-1] * 1000:.1f} ms over {len(times)} cases"
    )


if __name__ == "__main__":
    main()
