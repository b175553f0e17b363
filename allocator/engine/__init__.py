"""The solver package: the only place that imports ortools."""

from allocator.engine.solve import Solution, SolverSettings, solve

__all__ = ["Solution", "SolverSettings", "solve"]
