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

import multiprocessing
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Literal

from allocator.models import Plan, Snapshot
from allocator.policy import Policy

#: Weeks and runs of the meeting's forecast by default: 8 weeks, as the issue's
#: manager asks ("the next eight weeks"); 20 runs keep a 150-practitioner forecast
#: under a minute on one core, with 10-90% bands from 20 values each.
WEEKS = 8
RUNS = 20
#: Children and workers named in the panel (the forecast's files name them all).
SHOWN = 10

Status = Literal["off", "running", "ready", "failed"]


def panel(
    snapshot: Snapshot, policy: Policy, plan: Plan, weeks: int, runs: int, seed: int
) -> dict[str, Any]:
    """The panel's figures: the forecast of ``weeks`` x ``runs`` from ``snapshot``
    once ``plan`` is carried out (its handovers still to come kept in every run).

    Runs in the outlook's worker process; returns plain data (picklable).

    Returns
    -------
    dict
        ``lines`` (the forecast's summary sentences), ``children`` (the
        :data:`SHOWN` most likely to lose their worker of those the forecast names:
        chance 0-1, median week 1-based, cause, what is known today, handover),
        ``workers`` (the :data:`SHOWN` most likely over cap of those more likely than
        not: chance 0-1, mean weeks over cap, load and cap today in points), ``chart``
        (the fan chart of children waiting by class, PNG bytes) and ``seconds``.
    """
    from allocator.apply import applied
    from allocator.simulation.forecast import ForecastSettings, forecast
    from allocator.simulation.forecast_report import fan_chart, on_the_list, summary_lines

    after = applied(snapshot, plan, policy)
    settings = ForecastSettings(weeks=weeks, runs=runs, seed=seed, method="greedy")
    fc = forecast(after.snapshot, policy, settings, handovers=after.pending)
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
        for o in sorted(fc.children, key=lambda o: (-o.chance, o.week or 0, o.case))
        if on_the_list(o)
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
        "lines": summary_lines(fc),
        "children": children,
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
        """Plain data for JSON (the chart is served apart, ``GET /forecast.png``)."""
        shown = {k: v for k, v in self.figures.items() if k != "chart"}
        return {
            "status": self.status,
            "made_from": self.made_from,
            "error": self.error,
            **shown,
        }


class Outlook:
    """The meeting's forecast, one at a time in a worker process of its own.

    ``runs`` 0 turns it off (the page then has no panel).
    """

    def __init__(self, weeks: int = WEEKS, runs: int = RUNS, seed: int = 0) -> None:
        self.weeks, self.runs, self.seed = weeks, runs, seed
        self.state = OutlookState()
        self._lock = threading.Lock()
        self._pool: Any = None  # multiprocessing.pool.Pool: terminate() stops a run at once
        self._job: Any = None  # its AsyncResult

    @property
    def on(self) -> bool:
        """Whether the meeting forecasts at all."""
        return self.runs > 0

    def start(self, snapshot: Snapshot, policy: Policy, plan: Plan, made_from: str) -> bool:
        """Forecast from ``plan``, unless off or one is running (``False`` then)."""
        if not self.on:
            return False
        with self._lock:
            if self.state.status == "running":
                return False
            if self._pool is None:
                # spawn: a fork of a server holding threads and sockets is unsafe.
                self._pool = multiprocessing.get_context("spawn").Pool(1)
            state = OutlookState("running", made_from, started=time.monotonic())
            self.state = state

            def done(figures: dict[str, Any]) -> None:
                with self._lock:
                    state.figures, state.status = figures, "ready"

            def failed(exc: BaseException) -> None:  # one line; the page goes on without
                with self._lock:
                    state.status = "failed"
                    state.error = f"the forecast failed ({type(exc).__name__})"

            self._job = self._pool.apply_async(
                panel,
                (snapshot, policy, plan, self.weeks, self.runs, self.seed),
                callback=done,
                error_callback=failed,
            )
        return True

    def wait(self, timeout: float | None = None) -> OutlookState:
        """The state once the forecast running (if any) has ended (tests).

        Raises
        ------
        TimeoutError
            If it has not ended within ``timeout`` seconds.
        """
        job = self._job
        if job is not None:
            job.wait(timeout)
            if not job.ready():
                raise TimeoutError(f"the forecast did not end within {timeout} s")
            deadline = time.monotonic() + 5  # the pool's callback follows the result
            while self.state.status == "running" and time.monotonic() < deadline:
                time.sleep(0.01)
        with self._lock:
            return self.state

    def shutdown(self) -> None:
        """Stop the worker process at once (a forecast running is abandoned)."""
        if self._pool is not None:
            self._pool.terminate()
            self._pool.join()
            self._pool = None
