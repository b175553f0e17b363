"""The line a terminal shows while a solve runs: tier, best so far, bound."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager

from rich.console import Console
from rich.live import Live
from rich.text import Text

from allocator.contract.settings import Progress


class SolveProgress:
    """The line shown on a terminal while a solve runs: tier, best so far, bound.

    Called by the engine with each :class:`~allocator.contract.settings.Progress`; drawn
    by rich's ``Live`` (:func:`progress_display`), and empty for the first
    ``after`` seconds, so a quick solve shows nothing.

    Parameters
    ----------
    labels
        Tier key -> the words for it (:func:`allocator.domain.objectives.daily_tiers`).
    after
        Seconds before anything is shown.
    clock
        The clock (tests pass their own).
    """

    def __init__(
        self,
        labels: Mapping[str, str],
        *,
        after: float = 1.0,
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        self.labels = labels
        self.after = after
        self.clock = clock
        self.started = clock()
        self.latest: Progress | None = None

    def __call__(self, progress: Progress) -> None:
        """Keep the solve's latest report (the display redraws it)."""
        self.latest = progress

    def line(self) -> str:
        """The text to show now ("" before ``after`` seconds or before any report)."""
        elapsed = self.clock() - self.started
        p = self.latest
        if p is None or elapsed < self.after:
            return ""
        label = self.labels.get(p.tier, p.tier)
        return (
            f"solving tier {p.stage} of {p.stages}, {label}: best so far {p.value:g}, "
            f"bound {p.bound:g} ({elapsed:.0f} s)"
        )

    def __rich__(self) -> Text:
        """What rich draws: :meth:`line` as plain text (ids and labels are no markup)."""
        return Text(self.line())


@contextmanager
def progress_display(out: Console, labels: Mapping[str, str]) -> Iterator[SolveProgress | None]:
    """A :class:`SolveProgress` drawn on ``out`` while the block runs, if a terminal.

    Yields ``None`` when ``out`` is not a terminal (a pipe, a file, a test): nothing is
    drawn there. The line is removed when the block ends.
    """
    if not out.is_terminal:
        yield None
        return
    progress = SolveProgress(labels)
    with Live(progress, console=out, transient=True, refresh_per_second=4):
        yield progress
