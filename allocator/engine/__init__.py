"""The solver package: the only place that imports ortools.

Nothing is imported here, so that reading the plain-Python parts of a module below
(the rebalance's groups and tier values, the candidate pools) does not load
OR-Tools; each module imports CP-SAT where it builds or solves a model. The daily
engine's entry point is :func:`allocator.engine.solve.solve`.
"""
