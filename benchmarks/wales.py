"""``python -m benchmarks.wales``: the Senedd question's sweep spec, 22 Welsh councils.

Issue 23, item 4: caps of 80, 90 and 100 points per FTE across a nation of synthetic
councils sized from public Welsh figures. This module turns ``examples/wales/
councils.csv`` (children looked after by council, with where each figure comes from)
into the sweep spec ``examples/wales/sweep.toml`` that ``allocator sweep`` runs; the
spec shipped is exactly what it writes (tested). The sources, the sizing rule and the
measured figures are in ``examples/wales/README.md``.

Examples::

    python -m benchmarks.wales                          # rewrite examples/wales/sweep.toml
    python -m benchmarks.wales --days 90 --seeds 1 --out /tmp/wales90.toml   # shorter

**Children looked after** (``looked_after``): StatsWales, *Children looked after at 31
March, by local authority* (measure CH/039, rounded to 5) for the 14 councils whose
figure we could read (``source`` ``statswales``). The other 8 (``estimated``) share
what the same table's Wales row (:data:`WALES_LOOKED_AFTER`) leaves after those 14, in
proportion to ``share_proxy`` (each council's "Total looked after children" in
StatsWales' *Children looked after at 31 March by local authority and ethnicity*, as
stored; used for proportions only), rounded to 5: :func:`looked_after`. They are
estimates, not figures from the table, and the README says so.

**A council's service** (:func:`practitioners`), from cited ratios:

- open children = looked after / :data:`LOOKED_AFTER_SHARE` (0.22: the synthetic
  caseload's share of looked-after children, ``allocator.generate.CASE_MIX``; about a
  fifth of children in need, DfE *Characteristics of children in need*);
- FTE = open children / :data:`CHILDREN_PER_FTE` (16.0: England's average caseload per
  case-holding FTE, DfE *Children's social work workforce 2023*, DOMAIN.md);
- practitioners = FTE / :data:`FTE_PER_PRACTITIONER` (0.93, the generator's mean
  contracted hours; FTE is 0.94 of headcount, DfE workforce 2023), rounded;
- the service is generated at :data:`LOAD` (0.72) of the 100-point cap, the load at
  which ``allocator.generate`` holds 16.0 children per FTE (measured: 15.8-16.2 on
  services of 44, 150 and 319 practitioners), with agency and fixed-term contracts
  (``generate --contracts``: 17.8% agency, DfE 2023), and council ``k`` (from 1, in
  the table's order) generated with seed ``k``.

Every council keeps the same children under every cap: a policy changes
``points_per_fte`` only, so a lower cap leaves the same caseload less room.
"""

from __future__ import annotations

import csv
import sys
from dataclasses import dataclass
from pathlib import Path

import click

from allocator.io import write_text

HERE = Path(__file__).resolve().parent.parent / "examples" / "wales"
COUNCILS = HERE / "councils.csv"
SPEC = HERE / "sweep.toml"

#: The Wales row of StatsWales' *Children looked after at 31 March, by local
#: authority* (CH/039, rounded to 5).
WALES_LOOKED_AFTER = 7200
#: Looked-after children's share of the synthetic open caseload (allocator.generate's
#: CASE_MIX; about a fifth of children in need in England, DfE).
LOOKED_AFTER_SHARE = 0.22
#: Children per case-holding FTE, England, September 2023 (DfE, *Children's social
#: work workforce 2023*; DOMAIN.md).
CHILDREN_PER_FTE = 16.0
#: The generator's mean contracted hours per practitioner (allocator.generate's
#: FTE_MIX; DfE workforce 2023: FTE 0.94 of headcount).
FTE_PER_PRACTITIONER = 0.93
#: The caseload as a share of the 100-point cap at which allocator.generate holds
#: CHILDREN_PER_FTE children per FTE (measured; examples/wales/README.md).
LOAD = 0.72
#: The caps compared, points per FTE (Wirral's 100 for a full-time worker, 90 for a
#: newly qualified one; DOMAIN.md).
CAPS = (80, 90, 100)
DEFAULT_DAYS = 365
DEFAULT_SEEDS = (1, 2, 3)
DEFAULT_METHODS = ("greedy",)


@dataclass(frozen=True)
class Council:
    """A council's children looked after and where the figure comes from."""

    name: str
    looked_after: int
    source: str  # "statswales" (read from the table) or "estimated" (looked_after())


def read_councils(path: Path = COUNCILS) -> list[Council]:
    """The councils of ``path``, the estimated ones filled in by :func:`looked_after`."""
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    known = {r["council"]: int(r["looked_after"]) for r in rows if r["source"] == "statswales"}
    proxies = {r["council"]: int(r["share_proxy"]) for r in rows if r["source"] == "estimated"}
    estimated = looked_after(WALES_LOOKED_AFTER - sum(known.values()), proxies)
    return [Council(r["council"], (known | estimated)[r["council"]], r["source"]) for r in rows]


def looked_after(remainder: int, proxies: dict[str, int]) -> dict[str, int]:
    """``remainder`` shared in proportion to ``proxies``, each rounded to 5 (as the table)."""
    total = sum(proxies.values())
    return {name: 5 * round(remainder * p / total / 5) for name, p in proxies.items()}


def practitioners(looked_after: int) -> int:
    """A council's practitioners from its children looked after (the module docstring)."""
    fte = looked_after / LOOKED_AFTER_SHARE / CHILDREN_PER_FTE
    return max(1, round(fte / FTE_PER_PRACTITIONER))


def spec_text(
    councils: list[Council],
    *,
    days: int = DEFAULT_DAYS,
    seeds: tuple[int, ...] = DEFAULT_SEEDS,
    methods: tuple[str, ...] = DEFAULT_METHODS,
    path: str = "examples/wales/sweep.toml",
) -> str:
    """The sweep spec (docs/SIMULATION.md, "The sweep spec") for ``councils``, to be
    written at ``path`` (its header shows the command that runs it)."""
    total = sum(c.looked_after for c in councils)
    staff = sum(practitioners(c.looked_after) for c in councils)
    lines = [
        "# The Senedd question for a nation (issue 23, item 4): caps of 80, 90 and 100",
        "# points per FTE across 22 synthetic Welsh councils. Written by",
        "# `python -m benchmarks.wales` from examples/wales/councils.csv: edit those,",
        "# not this. Sources and the sizing rule: examples/wales/README.md.",
        f"#   allocator sweep {path} --out wales/ --workers 2",
        f"# {len(councils)} councils, {total:,} children looked after, {staff:,} practitioners.",
        f"days = {days}",
        f"seeds = [{', '.join(str(s) for s in seeds)}]",
        f"methods = [{', '.join(f'{m!r}'.replace(chr(39), chr(34)) for m in methods)}]",
    ]
    for k, c in enumerate(councils, start=1):
        where = "StatsWales" if c.source == "statswales" else "estimated, see README"
        lines += [
            "",
            f"[[services]]  # {c.looked_after} looked after ({where})",
            f'name = "{c.name}"',
            f"practitioners = {practitioners(c.looked_after)}",
            f"seed = {k}",
            f"load = {LOAD}",
            "contracts = true",
        ]
    for cap in CAPS:
        lines += ["", "[[policies]]", f'name = "cap{cap}"', f"points_per_fte = {cap}"]
    return "\n".join(lines) + "\n"


@click.command()
@click.option("--days", type=click.IntRange(1, 3660), default=DEFAULT_DAYS, show_default=True)
@click.option("--seeds", default=",".join(map(str, DEFAULT_SEEDS)), show_default=True)
@click.option("--methods", default=",".join(DEFAULT_METHODS), show_default=True)
@click.option("--out", type=click.Path(dir_okay=False), default=str(SPEC), show_default=True)
def main(days: int, seeds: str, methods: str, out: str) -> None:
    """Write the sweep spec of the 22 Welsh councils (examples/wales/councils.csv)."""
    try:
        seed_list = tuple(int(s) for s in seeds.split(","))
    except ValueError:
        raise click.BadParameter(
            f"found {seeds!r}, expected whole numbers", param_hint="--seeds"
        ) from None
    method_list = tuple(m.strip() for m in methods.split(","))
    councils = read_councils()
    # The header names the file as run from the repository's root where it lies there
    # (the shipped spec must not carry this machine's paths).
    repo = HERE.parent.parent
    target = Path(out).resolve()
    shown = target.relative_to(repo).as_posix() if target.is_relative_to(repo) else out
    text = spec_text(councils, days=days, seeds=seed_list, methods=method_list, path=shown)
    write_text(out, text)
    staff = sum(practitioners(c.looked_after) for c in councils)
    print(f"wrote {out}: {len(councils)} councils, {staff} practitioners", file=sys.stderr)


if __name__ == "__main__":
    main()
