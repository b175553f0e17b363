"""``allocator generate``: a realistic synthetic service, reproducible from its seed."""

from __future__ import annotations

import click

from allocator.cli.echo import echo, input_errors
from allocator.cli.files import writing
from allocator.cli.options import FiniteRange, seed_option
from allocator.command_line import GivenPath
from allocator.contract.limits import MAX_LOAD, MAX_PRACTITIONERS
from allocator.domain.rules import counted
from allocator.io import check_output, check_output_folder


@click.command("generate")
@click.option("--practitioners", type=click.IntRange(min=1, max=MAX_PRACTITIONERS), required=True)
@seed_option
@click.option(
    "--load",
    type=FiniteRange(min=0, max=MAX_LOAD),
    default=0.9,
    show_default=True,
    help="Open caseload as a share of total weighted capacity.",
)
@click.option(
    "--referral-rate",
    type=FiniteRange(min=0, max=10),
    default=0.04,
    show_default=True,
    help="Referrals to allocate as a share of open cases.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["json", "csv", "ssd"]),
    default="json",
    show_default=True,
    help="ssd: SSD table extracts with a mapping.toml and side tables, for import ssd.",
)
@click.option(
    "--contracts",
    is_flag=True,
    help="Give staff agency, fixed-term and permanent contracts (the rest unchanged).",
)
@click.option(
    "--out",
    type=GivenPath(expected="a .json file or a folder"),
    required=True,
    help="A .json file, or a directory for CSV tables.",
)
def generate_command(
    practitioners: int,
    seed: int,
    load: float,
    referral_rate: float,
    fmt: str,
    contracts: bool,
    out: str,
) -> None:
    """Write a realistic synthetic service, reproducible from its seed."""
    from allocator.generate import generate
    from allocator.io import write_snapshot

    if fmt == "json" and not out.endswith(".json"):
        raise click.BadParameter("a JSON snapshot's path must end in .json", param_hint="--out")
    if fmt in ("csv", "ssd") and out.endswith(".json"):
        raise click.BadParameter(
            "CSV tables go to a directory, not a .json file", param_hint="--out"
        )
    with input_errors():
        if fmt == "json":
            check_output(out)
        elif fmt == "csv":
            check_output_folder(out)
        else:
            check_output_folder(out, files=())
    snapshot = generate(
        practitioners, seed=seed, load=load, referral_rate=referral_rate, contracts=contracts
    )
    with writing(out):
        if fmt == "ssd":
            from allocator.ssd.synthetic import write_ssd_extract

            write_ssd_extract(snapshot, out)
        else:
            write_snapshot(snapshot, out)
    echo(
        f"wrote {out}: {counted(len(snapshot.practitioners), 'practitioner')}, "
        f"{counted(len(snapshot.cases), 'case')}",
        err=True,
    )


# ------------------------------------------------------------------ explain, recommend,
