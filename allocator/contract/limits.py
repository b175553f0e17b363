"""The value domains of the settings a user gives: one place, read by every entry point.

The command line's options (:mod:`allocator.cli.options`), a sweep's spec
(:mod:`allocator.simulation.sweep`) and a solve's :class:`~allocator.contract.settings.Settings`
take these ranges, so a spec accepts what ``simulate`` and ``generate`` accept. Part of
the contract with the user, beside :mod:`allocator.contract.models` and
:mod:`allocator.contract.policy`;
it imports nothing, so anything may read it without importing the CLI.
"""

from __future__ import annotations

MAX_TIME_LIMIT = 86_400.0
"""Longest ``--time-limit``, in seconds (a day); also the most work units."""
MAX_SEED = 2**31 - 1
"""Largest ``--seed``: CP-SAT's random seed is a 32-bit integer."""
MAX_WORKERS = 256
"""Most ``--workers`` (solver threads)."""
MAX_MOVES = 1_000_000
"""Largest ``--allow-moves`` / ``--max-moves``."""
MAX_PRACTITIONERS = 100_000
"""Largest service ``generate`` makes."""
MAX_LOAD = 10.0
"""Largest ``generate --load`` (open caseload as a share of capacity)."""
MAX_DAYS = 3660
"""Most days ``simulate`` runs (ten years); also the longest ``--rebalance-every``."""
MAX_ARRIVAL_FACTOR = 10.0
"""Largest ``simulate --arrival-factor``."""
MAX_WEEKS = 52
"""Most ``forecast --weeks`` (a year)."""
MAX_RUNS = 1000
"""Most ``forecast --runs``."""
MAX_EXTRA_FTE = 1000
"""Most ``capacity --max-fte``."""
MAX_WAIT_TARGET_DAYS = 365
"""Longest ``forecast --wait-target``, in days (a year)."""
WAIT_TARGET_DAYS = 10
"""The default ``forecast --wait-target``: the issue's example target ("statutory p90
wait <= 10 days"); Cumberland escalates an unallocated case after 2 weeks, Walsall
after 4 (DOMAIN.md)."""
