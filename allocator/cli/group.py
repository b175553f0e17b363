"""The ``allocator`` command group: every command registered, and how any of them ends
when interrupted (one line, exit code ``128 + signal``, no traceback).

Each command lives in the module of its group: :mod:`~allocator.cli.morning` (allocate,
rebalance, apply), :mod:`~allocator.cli.review` (explain, recommend, check, diff,
report), :mod:`~allocator.cli.meeting` (serve) and :mod:`~allocator.cli.decision_log`
(log, history, replay), :mod:`~allocator.cli.simulation` (simulate, sweep),
:mod:`~allocator.cli.forecast` (forecast, capacity, backtest), :mod:`~allocator.cli.ssd` (import,
export) and :mod:`~allocator.cli.generate`.
"""

from __future__ import annotations

from typing import Any

import click

from allocator.cli import (
    decision_log,
    forecast,
    generate,
    meeting,
    morning,
    review,
    simulation,
    ssd,
)
from allocator.command_line import interruptions, invoke_interruptibly

#: What each command writes, named in the line an interruption prints.
PRODUCTS = {
    "allocate": "plan",
    "rebalance": "plan",
    "apply": "snapshot",
    "generate": "snapshot",
    "import": "snapshot",
    "export": "involvements",
    "report": "report",
    "simulate": "simulation report",
    "sweep": "sweep table",
    "forecast": "forecast",
    "capacity": "capacity table",
    "backtest": "backtest",
}


class _Main(click.Group):
    """The command group: interruptions end any command with one line, no traceback."""

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        # Named as soon as the command is known, before its options are even parsed,
        # so the line an interruption prints is right from the first moment.
        name, command, rest = super().resolve_command(ctx, args)
        interruptions.product = PRODUCTS.get(name or "", "")
        return name, command, rest

    def invoke(self, ctx: click.Context) -> Any:
        parent = super().invoke
        return invoke_interruptibly(ctx, lambda: parent(ctx))


@click.group(cls=_Main)
@click.version_option(package_name="allocator")
def main() -> None:
    """Allocate children's social-care cases to social workers."""


for command in (
    morning.allocate_command,
    morning.rebalance_command,
    morning.apply_command,
    review.explain_command,
    review.recommend_command,
    review.check_command,
    review.diff_command,
    review.report_command,
    meeting.serve_command,
    decision_log.log_command,
    decision_log.history_command,
    decision_log.replay_command,
    simulation.simulate_command,
    forecast.forecast_command,
    forecast.capacity_command,
    forecast.backtest_command,
    simulation.sweep_command,
    ssd.import_group,
    ssd.export_group,
    generate.generate_command,
):
    main.add_command(command)
