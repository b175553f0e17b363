"""A year in the life of a service: events, daily decisions, what children experience.

- :mod:`~allocator.simulation.events`: the year's events from a seed, with cited rates;
- :mod:`~allocator.simulation.methods`: what decides each morning (engine, greedy);
- :mod:`~allocator.simulation.run`: the day loop and the conservation check;
- :mod:`~allocator.simulation.records`: changes of worker with causes, waiting, loads;
- :mod:`~allocator.simulation.report`: figures side by side, tables, plots;
- :mod:`~allocator.simulation.forecast`: the next weeks from today, run many times
  (:mod:`~allocator.simulation.forecast_report` its files), calibrated by
  :mod:`~allocator.simulation.calibrate`; :mod:`~allocator.simulation.capacity`: the
  least extra staff meeting a waiting target (docs/FORECAST.md);
- :mod:`~allocator.simulation.sweep`: many services x policies x seeds x methods, each
  a year, on Dask (docs/SIMULATION.md).

Pandas, PyArrow and Matplotlib (the ``sim`` extra) are imported only where tables and
plots are made.
"""

from __future__ import annotations

from allocator.simulation.events import EventStream, draw_events
from allocator.simulation.methods import Decision, EngineMethod, GreedyMethod, Handover, Method
from allocator.simulation.run import ConservationError, Result, Settings, compare, simulate

__all__ = [
    "ConservationError",
    "Decision",
    "EngineMethod",
    "EventStream",
    "GreedyMethod",
    "Handover",
    "Method",
    "Result",
    "Settings",
    "compare",
    "draw_events",
    "simulate",
]
