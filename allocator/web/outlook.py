"""The next weeks on the meeting page: a forecast from the plan in force, off the page.

Issue 23 asked for the forecast's panel on the meeting page: which children are likely
to lose their worker in the coming weeks, who will be over cap, how many children will
be waiting. A forecast of a 150-practitioner service takes tens of seconds of pure
Python (the manager's rule deciding each simulated morning), so it runs in a worker
*process* of its own (a thread would hold the interpreter and slow every page while
it ran), one at a time: started when the page opens on a plan, and again when a
manager asks for it after overrides. The page shows what is ready, from which plan.

The figures are :func:`allocator.simulation.forecast.forecast`'s, with the manager's
rule (``greedy``) deciding each morning of every run, seeded, so the same plan gives
the same panel; ``docs/FORECAST.md`` says what each figure means.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from allocator.contract.models import Handover, Plan, Snapshot
from allocator.contract.policy import Policy

#: Weeks and runs of the meeting's forecast by default: 8 weeks, as the issue's
#: manager asks ("the next eight weeks"); 20 runs keep a 150-practitioner forecast to
#: about a minute on one core (measured: 65-70 s on a loaded machine; the README
#: example 13 s), with 10-90% bands from 20 values each.
WEEKS = 8
RUNS = 20
#: Children and workers listed in the panel, most likely first (every child who may lose
#: their worker is in ``GET /forecast/children.csv``).
SHOWN = 25

Status = Literal["off", "running", "ready", "failed"]


def panel(
    snapshot: Snapshot,
    policy: Policy,
    plan: Plan,
    weeks: int,
    runs: int,
    seed: int,
    handovers: Sequence[Handover] = (),
) -> dict[str, Any]:
    """The panel's figures: the forecast of ``weeks`` x ``runs`` from ``snapshot``
    once ``plan`` is carried out (its handovers still to come kept in every run, and
    ``handovers`` an earlier plan promised, those the plan does not decide anew:
    ``allocator forecast --handovers``).

    Runs in the outlook's worker process; returns plain data (picklable).

    Returns
    -------
    dict
        ``lines`` (the forecast's summary sentences), ``children`` (the
        :data:`SHOWN` most likely to lose their worker of those the forecast names:
        chance 0-1, median week 1-based, cause, what is known today, handover),
        ``children_named`` (how many the forecast names), ``children_csv`` (every
        child who may lose their worker, as ``forecast`` writes them), ``workers``
        (the :data:`SHOWN` most likely over cap of those more likely than not: chance
        0-1, mean weeks over cap, load and cap today in points), ``chart`` (the fan
        chart of children waiting by class, PNG bytes) and ``seconds``.
    """
    from allocator.problems.apply import applied
    from allocator.simulation.forecast import ForecastSettings, forecast
    from allocator.simulation.forecast_report import (
        children_csv,
        fan_chart,
        on_the_list,
        summary_lines,
    )

    after = applied(snapshot, plan, policy, earlier=handovers)
    settings = ForecastSettings(weeks=weeks, runs=runs, seed=seed, method="greedy")
    fc = forecast(after.snapshot, policy, settings, handovers=after.pending)
    named = [o for o in fc.children if on_the_list(o)]
    children = [
        {
            "case": o.case,
            "worker": o.worker,
            "chance": round(o.chance, 2),
            "week": o.week,
            "cause": o.cause,
            "known": o.known,
            "handover": o.handover,
        }
        # Most likely first: the children of a worker going tomorrow before those who
        # may lose theirs in some futures.
        for o in sorted(named, key=lambda o: (-o.chance, o.week or 0, o.case))
    ][:SHOWN]
    workers = [
        {
            "worker": o.worker,
            "chance": round(o.chance_over_cap, 2),
            "weeks": round(o.weeks_over_cap, 1),
            "load": o.load,
            "cap": o.cap,
        }
        for o in fc.workers
        if o.chance_over_cap > 0.5
    ][:SHOWN]
    return {
        "lines": summary_lines(fc, files=False),
        "children": children,
        "children_named": len(named),
        "children_csv": children_csv(fc, every=True),
        "workers": workers,
        "chart": fan_chart(fc),
        "seconds": round(fc.seconds, 1),
    }


@dataclass
class OutlookState:
    """What the page shows: the last forecast asked for and, once ready, its figures.

    ``made_from`` names the plan it was made from ("decision 3"), so a manager sees
    when overrides have come since.
    """

    status: Status = "off"
    made_from: str = ""
    figures: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    started: float | None = None

    def to_dict(self) -> dict[str, Any]:
        """Plain data for JSON (the chart and the CSV are served apart,
        ``GET /forecast.png`` and ``GET /forecast/children.csv``)."""
        shown = {k: v for k, v in self.figures.items() if k not in ("chart", "children_csv")}
        return {
            "status": self.status,
            "made_from": self.made_from,
            "error": self.error,
            "running_seconds": self.running_seconds(),
            **shown,
        }

    def running_seconds(self) -> float | None:
        """Seconds the forecast has run so far, while it runs (else ``None``)."""
        if self.status != "running" or self.started is None:
            return None
        return round(time.monotonic() - self.started, 1)


def _die_with_the_server(lifeline: Any) -> None:
    """End this process when the server that started it has gone (even by SIGKILL,
    which runs no clean-up): a forecast of many runs must not outlive the page.

    The server holds the lifeline's other end; the operating system closes it when the
    server's process ends, however it ends, and a thread here reads the end-of-file.
    (Linux's PR_SET_PDEATHSIG, tried first, fires when the *thread* that started the
    process ends, not the server: a forecast asked for from a request's thread was
    killed when that thread was retired.)"""

    def watch() -> None:
        with contextlib.suppress(EOFError, OSError):
            lifeline.recv_bytes()  # nothing is ever sent: this returns at the end
        os._exit(1)  # nothing to clean up: the figures go nowhere now

    threading.Thread(target=watch, name="allocator-lifeline", daemon=True).start()


def _run(
    sink: Any,
    lifeline: Any,
    snapshot: Snapshot,
    policy: Policy,
    plan: Plan,
    weeks: int,
    runs: int,
    seed: int,
    handovers: Sequence[Handover] = (),
) -> None:
    """The worker process: :func:`panel`, its figures sent back through ``sink``."""
    _die_with_the_server(lifeline)
    try:
        sink.send(("ready", panel(snapshot, policy, plan, weeks, runs, seed, handovers)))
    except Exception as exc:  # one line on the page; the server goes on
        sink.send(("failed", f"the forecast failed ({type(exc).__name__})"))
    finally:
        sink.close()


class Outlook:
    """The meeting's forecast, one at a time, each in a worker process of its own.

    A watcher thread waits for the process: its figures make the panel ready; a
    process that ends without them (killed, out of memory) makes it failed, with its
    exit code, so the page can ask again. ``runs`` 0 turns the forecast off (the page
    then has no panel).
    """

    def __init__(self, weeks: int = WEEKS, runs: int = RUNS, seed: int = 0) -> None:
        self.weeks, self.runs, self.seed = weeks, runs, seed
        self.state = OutlookState()
        self._lock = threading.Lock()
        self._process: Any = None  # multiprocessing's Process: terminate() stops it
        self._watcher: threading.Thread | None = None

    @property
    def on(self) -> bool:
        """Whether the meeting forecasts at all."""
        return self.runs > 0

    def start(
        self,
        snapshot: Snapshot,
        policy: Policy,
        plan: Plan,
        made_from: str,
        handovers: Sequence[Handover] = (),
    ) -> bool:
        """Forecast from ``plan`` (``handovers``: promised before it and still to
        come, kept in every run), unless off or one is running (``False`` then)."""
        if not self.on:
            return False
        with self._lock:
            if self.state.status == "running":
                return False
            # spawn: a fork of a server holding threads and sockets is unsafe.
            context = multiprocessing.get_context("spawn")
            source, sink = context.Pipe(duplex=False)
            lifeline, held = context.Pipe(duplex=False)  # the server holds ``held``
            process = context.Process(
                target=_run,
                args=(
                    sink,
                    lifeline,
                    snapshot,
                    policy,
                    plan,
                    self.weeks,
                    self.runs,
                    self.seed,
                    tuple(handovers),
                ),
                name="allocator-forecast",
                daemon=True,
            )
            process.start()
            sink.close()  # the child holds its end: EOF here once it has gone
            lifeline.close()
            state = OutlookState("running", made_from, started=time.monotonic())
            self.state, self._process = state, process
            self._watcher = threading.Thread(
                target=self._watch, args=(state, process, source, held), daemon=True
            )
            self._watcher.start()
        return True

    def _watch(self, state: OutlookState, process: Any, source: Any, held: Any) -> None:
        """Wait for ``process``'s figures, or for it to end without them.

        Only this thread waits for the process (joins it): two threads reaping one
        child race, and the loser may be told the child still runs."""
        try:
            outcome, value = source.recv()
        except (EOFError, OSError):
            outcome, value = "failed", None
        finally:
            source.close()
        process.join()
        held.close()
        if value is None:
            value = f"the forecast's process ended without a result (exit code {process.exitcode})"
        with self._lock:
            if outcome == "ready":
                state.figures, state.status = value, "ready"
            else:
                state.status, state.error = "failed", value

    def wait(self, timeout: float | None = None) -> OutlookState:
        """The state once the forecast running (if any) has ended (tests).

        Raises
        ------
        TimeoutError
            If it has not ended within ``timeout`` seconds.
        """
        watcher = self._watcher
        if watcher is not None:
            watcher.join(timeout)
            if watcher.is_alive():
                raise TimeoutError(f"the forecast did not end within {timeout} s")
        with self._lock:
            return self.state

    def shutdown(self, grace: float = 5.0) -> None:
        """Stop the forecast running, if any (it is abandoned): SIGTERM, then SIGKILL
        after ``grace`` seconds, and wait until it has ended."""
        process, watcher = self._process, self._watcher
        if process is None or watcher is None:
            return
        for stop in (process.terminate, process.kill):
            if not watcher.is_alive():
                return
            stop()  # a process already ended is not signalled (multiprocessing checks)
            watcher.join(grace)
